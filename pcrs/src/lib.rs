#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod image;
mod pcr;

pub use image::{HASH_ALGORITHM, ImagePcrs, PcrJsonError};
pub use pcr::{PCR_LEN, Pcr, PcrError};
