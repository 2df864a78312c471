//! Everything that talks to the chain: the ABI, log decoding, ingest and relaying.

pub(crate) mod abi;
pub(crate) mod decode;
pub(crate) mod ingest;
pub(crate) mod relay;
