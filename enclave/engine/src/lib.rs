#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(not(test), warn(unused_crate_dependencies))]
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod auction;
mod book;
mod eip712;
mod engine;
mod error;
mod event;
mod matching;
pub mod naive;
mod replica;
mod seal;
mod signer;
mod state;
mod status;
mod types;

#[cfg(test)]
mod tests;

pub use eip712::{
    ASSIGNMENT_TYPE, AssignmentBatch, BATCH_TYPE, DOMAIN_NAME, DOMAIN_TYPE, DOMAIN_VERSION, Domain,
    hash_assignment, keccak256,
};
pub use engine::{Applied, BlockOutcome, Config, Engine};
pub use error::{BatchError, ChainError, Error, EventError, SealError, SignError};
pub use event::{AcceptedAssignment, Block, Event, Log};
/// The secp256k1 key types used by [`BidOpener`] and [`seal_bid`].
pub use k256::{PublicKey, SecretKey};
pub use replica::Replica;
pub use seal::{BID_INFO, BidContext, BidOpener, SEALED_BID_LEN, seal_bid};
pub use signer::{LocalSigner, Signature, SignedBatch, Signer, address_of, recover};
pub use state::{AskPhase, SlotState};
pub use status::{AskStatus, GeneratorLoad, MarketSummary};
pub use types::{
    Address, Amount, Ask, AskId, Assignment, LogPos, MAX_REDUNDANCY, Market, MarketId,
    MatchingMode, Offer, Timestamp,
};
