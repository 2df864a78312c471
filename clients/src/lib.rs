#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod ask;
pub mod chain;
pub mod error;
pub mod schnorr;

pub use error::{Error, Result};
pub mod engine;
pub mod generator;
pub mod private;
