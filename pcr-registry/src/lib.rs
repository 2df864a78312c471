#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod client;
pub mod commands;
pub mod deployment;
pub mod enclave;
pub mod error;
pub mod inspect;
pub mod keys;
pub mod offline;
pub mod pcrs;
pub mod rebuild;
mod render;
mod report;

pub use eif_builder::ExitStatus;
pub use error::Error;
pub use offline::{Clock, OfflineConfig, Outcome, verify_offline};
pub use render::Report;
pub use report::{outcome_json as report_json, render_human, render_json};
