//! The node's journal: an append-only file of JSON lines in the state directory, each line
//! written and fsync'd before the node acts on it, so that a node killed at any point restarts
//! knowing the last block it scanned, every assignment it took and not yet settled, and which
//! of those it may already have submitted (it then asks the chain before submitting again).

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use alloy::primitives::{B256, U256};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// An assignment to this node, as the chain logged it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    /// The ask.
    pub ask: U256,
    /// The slot.
    pub slot: u8,
    /// Its price.
    pub price: U256,
    /// Its proving deadline.
    pub deadline: u64,
    /// The block that logged it.
    pub block: u64,
    /// That block's hash (a reorg that removes it drops the assignment).
    pub block_hash: B256,
}

/// How an assignment ended for the node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Its proof was accepted.
    Proven,
    /// Given back with `discard`.
    Discarded,
    /// Settled as invalid inputs.
    InvalidInputs,
    /// The slot is no longer the node's to prove (settled by someone else, past its deadline).
    Lost,
    /// Its block was reorganised away and it did not reappear.
    Dropped,
}

/// One journal line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Record {
    /// Every block up to `number` (whose hash was `hash`) has been scanned.
    Scanned {
        /// The block number.
        number: u64,
        /// Its hash.
        hash: B256,
    },
    /// An assignment was taken.
    Assigned(Assignment),
    /// A `submitProof` (or `settleInvalidInputs`) for the slot is about to be sent.
    Submitting {
        /// The ask.
        ask: U256,
        /// The slot.
        slot: u8,
    },
    /// The assignment is settled for the node.
    Done {
        /// The ask.
        ask: U256,
        /// The slot.
        slot: u8,
        /// How.
        outcome: Outcome,
    },
}

/// What the journal says after replay.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct State {
    /// The last scanned block and its hash.
    pub scanned: Option<(u64, B256)>,
    /// Assignments taken and not settled, by (ask, slot); `true` when a submission may have
    /// been sent.
    pub pending: BTreeMap<(U256, u8), (Assignment, bool)>,
}

impl State {
    fn apply(&mut self, record: Record) {
        match record {
            Record::Scanned { number, hash } => self.scanned = Some((number, hash)),
            Record::Assigned(a) => {
                self.pending.insert((a.ask, a.slot), (a, false));
            }
            Record::Submitting { ask, slot } => {
                if let Some(entry) = self.pending.get_mut(&(ask, slot)) {
                    entry.1 = true;
                }
            }
            Record::Done { ask, slot, .. } => {
                self.pending.remove(&(ask, slot));
            }
        }
    }
}

/// Records after which the journal is rewritten as a snapshot of its state.
#[cfg(not(test))]
const COMPACT_AFTER: usize = 10_000;
#[cfg(test)]
const COMPACT_AFTER: usize = 50;

impl State {
    /// The records that rebuild this state.
    fn snapshot(&self) -> Vec<Record> {
        let mut records: Vec<Record> = self
            .scanned
            .map(|(number, hash)| Record::Scanned { number, hash })
            .into_iter()
            .collect();
        for (assignment, submitted) in self.pending.values() {
            records.push(Record::Assigned(assignment.clone()));
            if *submitted {
                records.push(Record::Submitting {
                    ask: assignment.ask,
                    slot: assignment.slot,
                });
            }
        }
        records
    }
}

/// The open journal.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: File,
    /// The state its records build (kept for compaction).
    state: State,
    /// Records in the file.
    records: usize,
}

impl Journal {
    /// Opens (creating) `dir/journal.jsonl` and replays it. A torn last line (a crash mid-write,
    /// without its newline) is cut off; any other unreadable line is an error.
    ///
    /// # Errors
    /// [`Error::Journal`] for a corrupt journal, [`Error::Io`] when it cannot be opened.
    pub fn open(dir: &Path) -> Result<(Journal, State)> {
        let path = dir.join("journal.jsonl");
        let mut state = State::default();
        let mut records = 0;
        let text = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(Error::io(&path, e)),
        };
        // Complete lines end in '\n'; what follows the last one is a torn write, cut off.
        let complete = text.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        for (i, line) in text[..complete].split(|b| *b == b'\n').enumerate() {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let record = serde_json::from_slice::<Record>(line).map_err(|e| Error::Journal {
                path: path.clone(),
                reason: format!("line {}: {e}", i + 1),
            })?;
            state.apply(record);
            records += 1;
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        if complete < text.len() {
            file.set_len(complete as u64)
                .and_then(|()| file.sync_data())
                .map_err(|e| Error::io(&path, e))?;
        }
        let journal = Journal {
            path,
            file,
            state: state.clone(),
            records,
        };
        Ok((journal, state))
    }

    /// Appends `record` and syncs it to disk before returning; past [`COMPACT_AFTER`] records
    /// the file is first replaced (atomically) by a snapshot of its state.
    ///
    /// # Errors
    /// [`Error::Journal`] when it cannot be written or synced.
    pub fn append(&mut self, record: &Record) -> Result<()> {
        if self.records >= COMPACT_AFTER {
            self.compact()?;
        }
        self.write(record)?;
        self.state.apply(record.clone());
        self.records += 1;
        Ok(())
    }

    fn failed(&self, e: impl std::fmt::Display) -> Error {
        Error::Journal {
            path: self.path.clone(),
            reason: e.to_string(),
        }
    }

    fn write(&mut self, record: &Record) -> Result<()> {
        let mut line = serde_json::to_vec(record).map_err(|e| self.failed(e))?;
        line.push(b'\n');
        self.file
            .write_all(&line)
            .and_then(|()| self.file.sync_data())
            .map_err(|e| self.failed(e))
    }

    /// Writes the snapshot to a temporary file, syncs it, renames it over the journal and syncs
    /// the directory: a crash leaves either the old journal or the new one.
    fn compact(&mut self) -> Result<()> {
        let snapshot = self.state.snapshot();
        let tmp = self.path.with_extension("jsonl.tmp");
        let mut text = Vec::new();
        for record in &snapshot {
            text.extend(serde_json::to_vec(record).map_err(|e| self.failed(e))?);
            text.push(b'\n');
        }
        let written = File::create(&tmp)
            .and_then(|mut f| f.write_all(&text).and_then(|()| f.sync_all()))
            .and_then(|()| std::fs::rename(&tmp, &self.path))
            .and_then(|()| match self.path.parent() {
                Some(dir) => File::open(dir).and_then(|d| d.sync_all()),
                None => Ok(()),
            });
        written.map_err(|e| self.failed(e))?;
        self.file = OpenOptions::new()
            .append(true)
            .open(&self.path)
            .map_err(|e| self.failed(e))?;
        self.records = snapshot.len();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assignment(ask: u64, slot: u8) -> Assignment {
        Assignment {
            ask: U256::from(ask),
            slot,
            price: U256::from(5),
            deadline: 100,
            block: 7,
            block_hash: B256::repeat_byte(7),
        }
    }

    #[test]
    fn replays_pending_submitted_and_scanned_and_survives_a_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (mut j, state) = Journal::open(dir.path()).unwrap();
            assert_eq!(state, State::default());
            j.append(&Record::Assigned(assignment(1, 0))).unwrap();
            j.append(&Record::Assigned(assignment(2, 1))).unwrap();
            j.append(&Record::Submitting {
                ask: U256::from(2),
                slot: 1,
            })
            .unwrap();
            j.append(&Record::Done {
                ask: U256::from(1),
                slot: 0,
                outcome: Outcome::Proven,
            })
            .unwrap();
            j.append(&Record::Scanned {
                number: 9,
                hash: B256::repeat_byte(9),
            })
            .unwrap();
        }
        let path = dir.path().join("journal.jsonl");
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str("{\"kind\":\"assig");
        std::fs::write(&path, text).unwrap();
        let (mut j, state) = Journal::open(dir.path()).unwrap();
        assert_eq!(state.scanned, Some((9, B256::repeat_byte(9))));
        assert_eq!(state.pending.len(), 1);
        assert_eq!(
            state.pending.get(&(U256::from(2), 1)),
            Some(&(assignment(2, 1), true))
        );
        // Appending after a torn tail starts a fresh line.
        j.append(&Record::Done {
            ask: U256::from(2),
            slot: 1,
            outcome: Outcome::Lost,
        })
        .unwrap();
        drop(j);
        let (_, state) = Journal::open(dir.path()).unwrap();
        assert!(state.pending.is_empty());
    }

    #[test]
    fn compaction_keeps_the_state_and_bounds_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let (mut j, _) = Journal::open(dir.path()).unwrap();
        j.append(&Record::Assigned(assignment(5, 0))).unwrap();
        j.append(&Record::Submitting {
            ask: U256::from(5),
            slot: 0,
        })
        .unwrap();
        for n in 0..(COMPACT_AFTER as u64 + 10) {
            j.append(&Record::Scanned {
                number: n,
                hash: B256::repeat_byte(1),
            })
            .unwrap();
        }
        drop(j);
        let text = std::fs::read_to_string(dir.path().join("journal.jsonl")).unwrap();
        assert!(
            text.lines().count() < COMPACT_AFTER,
            "{} lines",
            text.lines().count()
        );
        let (_, state) = Journal::open(dir.path()).unwrap();
        assert_eq!(
            state.scanned,
            Some((COMPACT_AFTER as u64 + 9, B256::repeat_byte(1)))
        );
        assert_eq!(
            state.pending.get(&(U256::from(5), 0)),
            Some(&(assignment(5, 0), true))
        );
    }

    #[test]
    fn a_corrupt_middle_line_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("journal.jsonl"), "garbage\n{\"kind\":\"scanned\",\"number\":1,\"hash\":\"0x0000000000000000000000000000000000000000000000000000000000000000\"}\n").unwrap();
        assert!(matches!(
            Journal::open(dir.path()),
            Err(Error::Journal { .. })
        ));
    }
}
