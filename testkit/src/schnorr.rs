//! The demo proof system of the marketplace's `SchnorrBn254Verifier`: "I know x with P = x·G" on
//! BN254, with R = k·G, c = keccak256(P ‖ R) mod n and s = k + c·x mod n. Points are computed by
//! the chain's own `ecMul` precompile (address 7), so no curve code lives here.

use alloy::primitives::{Address, Bytes, U256, keccak256, uint};
use alloy::providers::Provider;
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::SolValue;

/// The order of BN254's group.
pub const BN254_N: U256 =
    uint!(0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001_U256);

/// Why a statement or proof could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum SchnorrError {
    /// The node did not answer the `ecMul` call.
    #[error("ecMul on the node: {0}")]
    Call(String),
    /// The precompile's answer is not two words.
    #[error("ecMul answered {0} bytes, not a point")]
    NotAPoint(usize),
}

/// A statement (`proverData`: P) and its proof (`R ‖ s`), ABI-encoded as the verifier reads them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatementAndProof {
    /// `abi.encode(Px, Py)`.
    pub statement: Bytes,
    /// `abi.encode(Rx, Ry, s)`.
    pub proof: Bytes,
}

/// k·G through the `ecMul` precompile of the node behind `provider`.
async fn mul_g(provider: &impl Provider, k: U256) -> Result<(U256, U256), SchnorrError> {
    let input = (U256::from(1), U256::from(2), k).abi_encode();
    let out = provider
        .call(
            TransactionRequest::default()
                .to(Address::with_last_byte(7))
                .input(Bytes::from(input).into()),
        )
        .await
        .map_err(|e| SchnorrError::Call(e.to_string()))?;
    <(U256, U256)>::abi_decode(&out).map_err(|_| SchnorrError::NotAPoint(out.len()))
}

/// The statement and proof for the secret derived from `seed` (x = keccak256(seed) mod n, the
/// nonce from keccak256(seed, "nonce")): deterministic, so a test can recompute either side.
///
/// # Errors
/// [`SchnorrError`] when the node's precompile does not answer with points.
pub async fn statement_and_proof(
    provider: &impl Provider,
    seed: u64,
) -> Result<StatementAndProof, SchnorrError> {
    let x = U256::from_be_bytes(keccak256(seed.to_be_bytes()).0) % BN254_N;
    let k = U256::from_be_bytes(keccak256((seed, "nonce").abi_encode()).0) % BN254_N;
    let (px, py) = mul_g(provider, x).await?;
    let (rx, ry) = mul_g(provider, k).await?;
    let c = U256::from_be_bytes(keccak256((px, py, rx, ry).abi_encode()).0) % BN254_N;
    let s = k.add_mod(c.mul_mod(x, BN254_N), BN254_N);
    Ok(StatementAndProof {
        statement: Bytes::from((px, py).abi_encode()),
        proof: Bytes::from((rx, ry, s).abi_encode()),
    })
}
