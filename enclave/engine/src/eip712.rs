//! EIP-712 typed-data hashing of assignment batches.
//!
//! ```text
//! EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)
//!   name = "ProofMarketplace", version = "1"
//! Assignment(uint256 askId,uint256 slot,address generator,uint256 price)
//! AssignmentBatch(Assignment[] assignments,uint256 validUntil)
//! ```
//! digest = keccak256(0x19 ‖ 0x01 ‖ domainSeparator ‖ hashStruct(batch)), where an array
//! member is encoded as keccak256 of the concatenated struct hashes of its elements.

use sha3::{Digest, Keccak256};

use crate::error::BatchError;
use crate::types::{Address, Assignment, Timestamp};

/// Domain name.
pub const DOMAIN_NAME: &str = "ProofMarketplace";
/// Domain version.
pub const DOMAIN_VERSION: &str = "1";
/// EIP-712 domain type.
pub const DOMAIN_TYPE: &str =
    "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)";
/// Assignment type.
pub const ASSIGNMENT_TYPE: &str =
    "Assignment(uint256 askId,uint256 slot,address generator,uint256 price)";
/// Batch type, with the referenced `Assignment` type appended as EIP-712 requires.
pub const BATCH_TYPE: &str = "AssignmentBatch(Assignment[] assignments,uint256 validUntil)Assignment(uint256 askId,uint256 slot,address generator,uint256 price)";

/// keccak256.
#[must_use]
pub fn keccak256(data: &[u8]) -> [u8; 32] {
    Keccak256::digest(data).into()
}

fn word_u64(v: u64) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[24..].copy_from_slice(&v.to_be_bytes());
    w
}

fn word_u128(v: u128) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[16..].copy_from_slice(&v.to_be_bytes());
    w
}

fn word_address(a: Address) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[12..].copy_from_slice(&a.0);
    w
}

/// The signing domain: which chain and which marketplace contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Domain {
    /// Chain id.
    pub chain_id: u64,
    /// The marketplace contract.
    pub verifying_contract: Address,
}

impl Domain {
    /// The domain separator.
    #[must_use]
    pub fn separator(&self) -> [u8; 32] {
        let mut h = Keccak256::new();
        h.update(keccak256(DOMAIN_TYPE.as_bytes()));
        h.update(keccak256(DOMAIN_NAME.as_bytes()));
        h.update(keccak256(DOMAIN_VERSION.as_bytes()));
        h.update(word_u64(self.chain_id));
        h.update(word_address(self.verifying_contract));
        h.finalize().into()
    }
}

/// hashStruct of one assignment.
#[must_use]
pub fn hash_assignment(a: &Assignment) -> [u8; 32] {
    let mut h = Keccak256::new();
    h.update(keccak256(ASSIGNMENT_TYPE.as_bytes()));
    h.update(word_u64(a.ask));
    h.update(word_u64(u64::from(a.slot)));
    h.update(word_address(a.generator));
    h.update(word_u128(a.price));
    h.finalize().into()
}

/// The `Assignment[]` member: keccak256 of the concatenated struct hashes.
fn hash_assignments(assignments: &[Assignment]) -> [u8; 32] {
    let mut members = Keccak256::new();
    for a in assignments {
        members.update(hash_assignment(a));
    }
    members.finalize().into()
}

/// Assignments the engine key vouches for, valid on chain until `valid_until` (a block
/// timestamp), so a batch withheld by the untrusted relayer cannot be used much later.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssignmentBatch {
    assignments: Vec<Assignment>,
    valid_until: Timestamp,
}

impl AssignmentBatch {
    /// A batch.
    ///
    /// # Errors
    /// [`BatchError::Empty`] for no assignments.
    pub fn new(assignments: Vec<Assignment>, valid_until: Timestamp) -> Result<Self, BatchError> {
        if assignments.is_empty() {
            return Err(BatchError::Empty);
        }
        Ok(Self {
            assignments,
            valid_until,
        })
    }

    /// Splits assignments into batches of at most `max_len` (at least 1), in order, all valid
    /// until `valid_until`.
    #[must_use]
    pub fn split(assignments: &[Assignment], max_len: usize, valid_until: Timestamp) -> Vec<Self> {
        assignments
            .chunks(max_len.max(1))
            .map(|chunk| Self {
                assignments: chunk.to_vec(),
                valid_until,
            })
            .collect()
    }

    /// The assignments.
    #[must_use]
    pub fn assignments(&self) -> &[Assignment] {
        &self.assignments
    }

    /// Last block timestamp at which the contract accepts the batch.
    #[must_use]
    pub fn valid_until(&self) -> Timestamp {
        self.valid_until
    }

    /// hashStruct of the batch.
    #[must_use]
    pub fn struct_hash(&self) -> [u8; 32] {
        let mut h = Keccak256::new();
        h.update(keccak256(BATCH_TYPE.as_bytes()));
        h.update(hash_assignments(&self.assignments));
        h.update(word_u64(self.valid_until));
        h.finalize().into()
    }

    /// The EIP-712 digest the engine key signs.
    #[must_use]
    pub fn digest(&self, domain: &Domain) -> [u8; 32] {
        typed_digest(domain, &self.struct_hash())
    }
}

/// Keyed batch type: a batch with one content-key wrap per entry (empty for a public ask's).
pub const KEYED_BATCH_TYPE: &str = "KeyedAssignmentBatch(Assignment[] assignments,bytes[] keyWraps,uint256 validUntil)Assignment(uint256 askId,uint256 slot,address generator,uint256 price)";
/// Invalid-inputs statement type.
pub const INVALID_INPUTS_TYPE: &str =
    "InvalidInputs(uint256 askId,uint256 slot,address generator,uint256 payment)";

fn typed_digest(domain: &Domain, struct_hash: &[u8; 32]) -> [u8; 32] {
    let mut h = Keccak256::new();
    h.update([0x19, 0x01]);
    h.update(domain.separator());
    h.update(struct_hash);
    h.finalize().into()
}

/// A batch with a private ask's entry: each entry carries its content-key wrap (81 bytes for a
/// private ask's entry, empty for a public ask's), signed as `KeyedAssignmentBatch` and
/// submitted with `assignBatchWithKeys`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyedAssignmentBatch {
    assignments: Vec<Assignment>,
    key_wraps: Vec<Vec<u8>>,
    valid_until: Timestamp,
}

impl KeyedAssignmentBatch {
    /// A batch of `(assignment, key wrap)` entries.
    ///
    /// # Errors
    /// [`BatchError::Empty`] for no entries.
    pub fn new(
        entries: Vec<(Assignment, Vec<u8>)>,
        valid_until: Timestamp,
    ) -> Result<Self, BatchError> {
        if entries.is_empty() {
            return Err(BatchError::Empty);
        }
        let (assignments, key_wraps) = entries.into_iter().unzip();
        Ok(Self {
            assignments,
            key_wraps,
            valid_until,
        })
    }

    /// The assignments.
    #[must_use]
    pub fn assignments(&self) -> &[Assignment] {
        &self.assignments
    }

    /// The key wraps, one per assignment.
    #[must_use]
    pub fn key_wraps(&self) -> &[Vec<u8>] {
        &self.key_wraps
    }

    /// Last block timestamp at which the contract accepts the batch.
    #[must_use]
    pub fn valid_until(&self) -> Timestamp {
        self.valid_until
    }

    /// hashStruct of the batch: a `bytes[]` member is keccak256 of the concatenated keccak256
    /// of its elements.
    #[must_use]
    pub fn struct_hash(&self) -> [u8; 32] {
        let mut wraps = Keccak256::new();
        for w in &self.key_wraps {
            wraps.update(keccak256(w));
        }
        let mut h = Keccak256::new();
        h.update(keccak256(KEYED_BATCH_TYPE.as_bytes()));
        h.update(hash_assignments(&self.assignments));
        h.update(wraps.finalize());
        h.update(word_u64(self.valid_until));
        h.finalize().into()
    }

    /// The EIP-712 digest the engine key signs.
    #[must_use]
    pub fn digest(&self, domain: &Domain) -> [u8; 32] {
        typed_digest(domain, &self.struct_hash())
    }
}

/// The engine's statement that a private ask's slot has inputs that fail the market's check
/// (`ProofMarketplace.settleInvalidInputs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidInputs {
    /// The ask.
    pub ask: u64,
    /// The slot.
    pub slot: u8,
    /// The assigned generator.
    pub generator: Address,
    /// What the generator is paid.
    pub payment: u128,
}

impl InvalidInputs {
    /// hashStruct of the statement.
    #[must_use]
    pub fn struct_hash(&self) -> [u8; 32] {
        let mut h = Keccak256::new();
        h.update(keccak256(INVALID_INPUTS_TYPE.as_bytes()));
        h.update(word_u64(self.ask));
        h.update(word_u64(u64::from(self.slot)));
        h.update(word_address(self.generator));
        h.update(word_u128(self.payment));
        h.finalize().into()
    }

    /// The EIP-712 digest the engine key signs.
    #[must_use]
    pub fn digest(&self, domain: &Domain) -> [u8; 32] {
        typed_digest(domain, &self.struct_hash())
    }
}
