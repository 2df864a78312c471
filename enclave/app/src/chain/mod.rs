//! Everything that talks to the chain: log decoding, ingest and relaying (the contract bindings
//! are `marketplace-bindings`', generated from the Solidity sources).

pub(crate) mod decode;
pub(crate) mod ingest;
pub(crate) mod relay;
