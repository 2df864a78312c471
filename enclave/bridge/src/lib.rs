#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod chain;
pub mod error;
pub mod job;
pub mod slashes;
pub mod snapshot;
pub mod stake;
pub mod typed;

pub use chain::{Chain, VerifiedBlock};
pub use error::{ConfigError, DataError, Error, Revert, RpcError};
pub use job::{Bridge, Settings, SnapshotOutcome, TickReport, snapshot_key};
pub use slashes::{ExecuteOutcome, OpenRequest, SlashOutcome, SlashRecord};
