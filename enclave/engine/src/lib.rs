#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(not(test), warn(unused_crate_dependencies))]
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod auction;
mod book;
mod check;
mod digest;
mod eip712;
mod engine;
mod error;
mod event;
mod matching;
pub mod naive;
mod private;
mod replica;
mod seal;
mod signer;
mod state;
mod status;
mod store;
mod types;

#[cfg(test)]
mod tests;

pub use check::{InputCheck, InputCheckKind, SchnorrBn254};
pub use eip712::{
    ASSIGNMENT_TYPE, AssignmentBatch, BATCH_TYPE, DOMAIN_NAME, DOMAIN_TYPE, DOMAIN_VERSION, Domain,
    INVALID_INPUTS_TYPE, InvalidInputs, KEYED_BATCH_TYPE, KeyedAssignmentBatch, hash_assignment,
    keccak256,
};
pub use engine::{Applied, BlockOutcome, Config, Engine};
pub use error::{
    BatchError, ChainError, Error, EventError, InputsError, SealError, SignError, StatementError,
};
pub use event::{AcceptedAssignment, Block, Event, Log};
/// The secp256k1 key types used by [`BidOpener`] and [`seal_bid`].
pub use k256::{PublicKey, SecretKey};
/// The marketplace's sealing crate (private inputs' formats and keys).
pub use market_sealing;
pub use private::PrivateStatus;
pub use replica::Replica;
pub use seal::{BID_INFO, BidContext, BidOpener, SEALED_BID_LEN, seal_bid};
pub use signer::{
    LocalSigner, ProposedBatch, Signature, SignedBatch, SignedInvalidInputs, SignedKeyedBatch,
    SignedProposal, Signer, address_of, recover,
};
pub use state::{AskPhase, ProposedIn, SlotState};
pub use status::{AskStatus, GeneratorLoad, MarketSummary};
pub use store::{StoreLimits, Uploaded};
pub use types::{
    Address, Amount, Ask, AskId, Assignment, LogPos, MAX_REDUNDANCY, Market, MarketId,
    MatchingMode, Offer, Timestamp,
};
