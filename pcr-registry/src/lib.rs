#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod exit;
pub mod offline;
mod report;

pub use exit::ExitStatus;
pub use offline::{Clock, OfflineConfig, Outcome, verify_offline};
pub use report::{render_human, render_json};
