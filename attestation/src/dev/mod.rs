//! **Dev mode, never for production.** A software NSM whose documents are byte-compatible with
//! AWS's (same CBOR layout, 16 PCRs, `cabundle` root..instance, P-384 leaf, ES384) but signed by a
//! dev CA generated at start-up. Production verification pins the AWS root and rejects them; a
//! verifier accepts them only when explicitly built with [`DevCa::trusted_root`].
//!
//! Also the encoder used to build re-signed bad documents ([`corpus`]).

mod ca;
pub mod corpus;
mod encode;
mod nsm;

pub use ca::{CertSpec, DevCa, DevLeaf};
pub use encode::{
    DocumentFields, emulated_nsm_document, envelope_with_signature, sign_payload,
    sign_payload_with_alg,
};
pub use nsm::{DEV_MODULE_ID, DevNsm, DevNsmConfig};
