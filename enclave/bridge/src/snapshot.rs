//! Pure snapshot planning: the staking module's epoch arithmetic, the capture time of an epoch,
//! and the entries of a snapshot checked, ordered and cut into chunks.
//!
//! The capture time of epoch `e` is `epochStart(e) + capture_delay`: a fixed point, so a restarted
//! job computes the same capture, reads the same (final) L1 state and signs the same chunks, and
//! resumes a half-submitted snapshot where it stopped. If the read differs (a vault was added or
//! removed on L1 since: the vault list is read at the final block, not at the capture), so does
//! its root, hence its key on the module: the new read starts from its first chunk and the two
//! reads never mix.

use std::collections::BTreeMap;

use alloy::primitives::aliases::U48;
use alloy::primitives::{Address, B256, U256, keccak256};
use alloy::sol_types::SolStruct;

use crate::error::{ConfigError, DataError};
use marketplace_bindings::SymbioticStakingModule::{StakeSnapshotChunk, VaultStake};

/// The staking module's epochs (its immutables `GENESIS`, `EPOCH_DURATION`, `ACTIVATION_OFFSET`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EpochClock {
    /// Start of epoch 0 (s).
    pub genesis: u64,
    /// Epoch length (s), non-zero.
    pub duration: u64,
    /// Activation offset (s).
    pub offset: u64,
}

impl EpochClock {
    /// Checks the values (the module's constructor enforces the same).
    ///
    /// # Errors
    /// [`ConfigError::OutOfRange`] for a zero duration or an offset not below it.
    pub fn new(genesis: u64, duration: u64, offset: u64) -> Result<Self, ConfigError> {
        if duration == 0 || offset >= duration {
            return Err(ConfigError::OutOfRange(format!(
                "staking module epoch {duration} s with offset {offset} s"
            )));
        }
        Ok(EpochClock {
            genesis,
            duration,
            offset,
        })
    }

    /// The epoch `t` falls in (`None` before genesis).
    #[must_use]
    pub fn epoch_of(&self, t: u64) -> Option<u64> {
        t.checked_sub(self.genesis).map(|d| d / self.duration)
    }

    /// When epoch `e` starts (`None` on overflow).
    #[must_use]
    pub fn start(&self, e: u64) -> Option<u64> {
        e.checked_mul(self.duration)?.checked_add(self.genesis)
    }

    /// The capture time of epoch `e`: its start plus `delay` (which must stay inside the epoch).
    ///
    /// # Errors
    /// [`DataError::OutOfRange`] if it overflows or leaves the epoch.
    pub fn capture(&self, e: u64, delay: u64) -> Result<u64, DataError> {
        let t = self
            .start(e)
            .and_then(|s| s.checked_add(delay))
            .filter(|t| self.epoch_of(*t) == Some(e) && *t < (1u64 << 48))
            .ok_or(DataError::OutOfRange {
                what: "capture time",
                value: format!("epoch {e} + {delay} s"),
            })?;
        Ok(t)
    }
}

/// Checks and orders a snapshot's entries: zero stakes dropped, zero addresses and repeated
/// (operator, vault) pairs refused, at most `max_vaults` vaults per operator, ordered by operator
/// then vault (one order for every run).
///
/// # Errors
/// [`DataError::BadStakeEntry`] or [`DataError::SnapshotTooLarge`].
pub fn collect(entries: Vec<VaultStake>, max_vaults: usize) -> Result<Vec<VaultStake>, DataError> {
    let mut by_pair: BTreeMap<(Address, Address), VaultStake> = BTreeMap::new();
    for s in entries {
        if s.amount == U256::ZERO {
            continue;
        }
        if s.operator == Address::ZERO || s.vault == Address::ZERO {
            return Err(DataError::BadStakeEntry {
                operator: s.operator,
                vault: s.vault,
            });
        }
        let key = (s.operator, s.vault);
        if by_pair.contains_key(&key) {
            return Err(DataError::BadStakeEntry {
                operator: s.operator,
                vault: s.vault,
            });
        }
        by_pair.insert(key, s);
    }
    let mut per_operator: BTreeMap<Address, usize> = BTreeMap::new();
    for (operator, _) in by_pair.keys() {
        let n = per_operator.entry(*operator).or_default();
        *n += 1;
        if *n > max_vaults {
            return Err(DataError::SnapshotTooLarge(format!(
                "operator {operator} has more than {max_vaults} vaults"
            )));
        }
    }
    Ok(by_pair.into_values().collect())
}

/// The EIP-712 hash of a chunk's `stakes` array: `keccak256(hashStruct(s0) ‖ hashStruct(s1) ‖ …)`
/// (the module's `hashStakes`).
#[must_use]
pub fn stakes_hash(stakes: &[VaultStake]) -> B256 {
    let mut packed = Vec::with_capacity(32 * stakes.len());
    for s in stakes {
        packed.extend_from_slice(s.eip712_hash_struct().as_slice());
    }
    keccak256(&packed)
}

/// One step of the snapshot root (the module's `nextSnapshotRoot`): `keccak256(previous ‖ stakes)`,
/// from zero over the chunks in index order.
#[must_use]
pub fn next_root(previous: B256, stakes_hash: B256) -> B256 {
    let mut buf = [0u8; 64];
    buf[..32].copy_from_slice(previous.as_slice());
    buf[32..].copy_from_slice(stakes_hash.as_slice());
    keccak256(buf)
}

/// Cuts ordered entries into chunks of at most `per_chunk` (an empty snapshot is one empty chunk:
/// the epoch's stake is then zero for everyone). Every chunk carries the snapshot root over all
/// chunks, which the module checks when the last one lands.
///
/// # Errors
/// [`DataError::SnapshotTooLarge`] beyond `u32::MAX` chunks, [`DataError::OutOfRange`] for a
/// capture time beyond `uint48`.
pub fn chunks(
    epoch: u64,
    capture: u64,
    entries: &[VaultStake],
    per_chunk: usize,
) -> Result<Vec<StakeSnapshotChunk>, DataError> {
    let per_chunk = per_chunk.max(1);
    let parts: Vec<&[VaultStake]> = if entries.is_empty() {
        vec![&[]]
    } else {
        entries.chunks(per_chunk).collect()
    };
    let total = u32::try_from(parts.len())
        .map_err(|_| DataError::SnapshotTooLarge(format!("{} chunks", parts.len())))?;
    let capture = U48::try_from(capture).map_err(|_| DataError::OutOfRange {
        what: "capture time",
        value: capture.to_string(),
    })?;
    let root = parts
        .iter()
        .fold(B256::ZERO, |root, part| next_root(root, stakes_hash(part)));
    Ok(parts
        .into_iter()
        .zip(0u32..)
        .map(|(part, index)| StakeSnapshotChunk {
            epoch,
            captureTimestamp: capture,
            index,
            total,
            snapshotRoot: root,
            stakes: part.to_vec(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stake(op: u8, vault: u8, amount: u64) -> VaultStake {
        VaultStake {
            operator: Address::repeat_byte(op),
            vault: Address::repeat_byte(vault),
            collateral: Address::repeat_byte(0xcc),
            amount: U256::from(amount),
        }
    }

    #[test]
    fn epochs_follow_the_module() {
        let c = EpochClock::new(1000, 100, 10).unwrap();
        assert_eq!(c.epoch_of(999), None);
        assert_eq!(c.epoch_of(1000), Some(0));
        assert_eq!(c.epoch_of(1099), Some(0));
        assert_eq!(c.epoch_of(1100), Some(1));
        assert_eq!(c.start(3), Some(1300));
        assert_eq!(c.capture(3, 5).unwrap(), 1305);
        assert!(c.capture(3, 100).is_err(), "capture left the epoch");
        assert!(c.start(u64::MAX).is_none());
        assert!(c.capture(u64::MAX / 100, 0).is_err());
        assert!(EpochClock::new(0, 0, 0).is_err());
        assert!(EpochClock::new(0, 10, 10).is_err());
    }

    #[test]
    fn collect_orders_drops_zeros_and_refuses_bad_entries() {
        let got = collect(vec![stake(2, 1, 5), stake(1, 3, 0), stake(1, 2, 7)], 16).unwrap();
        assert_eq!(got, vec![stake(1, 2, 7), stake(2, 1, 5)]);
        assert!(matches!(
            collect(vec![stake(1, 2, 7), stake(1, 2, 8)], 16),
            Err(DataError::BadStakeEntry { .. })
        ));
        assert!(matches!(
            collect(vec![stake(0, 2, 7)], 16),
            Err(DataError::BadStakeEntry { .. })
        ));
        let many: Vec<_> = (1..=3).map(|v| stake(1, v, 1)).collect();
        assert!(matches!(
            collect(many, 2),
            Err(DataError::SnapshotTooLarge(_))
        ));
    }

    #[test]
    fn chunks_cover_every_entry_once_in_order() {
        let entries: Vec<_> = (1..=5).map(|v| stake(1, v, u64::from(v))).collect();
        let c = chunks(4, 777, &entries, 2).unwrap();
        assert_eq!(c.len(), 3);
        assert!(c.iter().all(|k| k.total == 3 && k.epoch == 4));
        assert_eq!(c.iter().map(|k| k.index).collect::<Vec<_>>(), [0, 1, 2]);
        let flat: Vec<_> = c.into_iter().flat_map(|k| k.stakes).collect();
        assert_eq!(flat, entries);
        let empty = chunks(4, 777, &[], 2).unwrap();
        assert_eq!(empty.len(), 1);
        assert_eq!((empty[0].index, empty[0].total), (0, 1));
        assert!(empty[0].stakes.is_empty());
        assert!(chunks(4, 1u64 << 48, &entries, 2).is_err());
    }

    #[test]
    fn every_chunk_carries_the_root_of_the_whole_read() {
        let entries: Vec<_> = (1..=5).map(|v| stake(1, v, u64::from(v))).collect();
        let c = chunks(4, 777, &entries, 2).unwrap();
        let expected = c
            .iter()
            .fold(B256::ZERO, |r, k| next_root(r, stakes_hash(&k.stakes)));
        assert!(c.iter().all(|k| k.snapshotRoot == expected));
        // The root is the module's: keccak256(0 ‖ stakesHash) for one chunk, by hand.
        let one = chunks(4, 777, &entries[..1], 8).unwrap();
        let mut buf = [0u8; 64];
        buf[32..].copy_from_slice(keccak256(entries[0].eip712_hash_struct().as_slice()).as_slice());
        assert_eq!(one[0].snapshotRoot, keccak256(buf));
        // A second read after a vault change (one entry more) has the same chunk count here but
        // another root, and dropping or moving an entry changes it too.
        let mut more = entries.clone();
        more.push(stake(1, 9, 1));
        let c2 = chunks(4, 777, &more, 2).unwrap();
        assert_eq!(c2.len(), c.len());
        assert_ne!(c2[0].snapshotRoot, expected);
        let dropped = chunks(4, 777, &entries[1..], 2).unwrap();
        assert_ne!(dropped[0].snapshotRoot, expected);
        let regrouped = chunks(4, 777, &entries, 3).unwrap();
        assert_ne!(regrouped[0].snapshotRoot, expected);
    }
}
