#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(clippy::print_stdout, clippy::print_stderr)]
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

pub mod cpio;
pub mod error;
pub mod exit;
pub mod extract;
pub mod hash;
pub mod header;
mod measure;
pub mod metadata;
pub mod reader;
pub mod recipe;
pub mod sign;
pub mod writer;

pub use error::{Error, InvalidEif, Misuse, Result, SignError};
pub use exit::ExitStatus;
pub use metadata::{ImageIdentity, Provenance};
pub use nitro_pcrs::{ImagePcrs, Pcr};
pub use reader::{Description, describe_bytes, describe_file};
pub use recipe::{Recipe, RecipeError};
pub use sign::Signer;
pub use writer::{BuildSpec, build};

// The binary's dependencies (the library itself does not use them).
use anyhow as _;
use clap as _;
use indicatif as _;
