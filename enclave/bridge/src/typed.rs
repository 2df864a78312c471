//! EIP-712 domains and signatures, exactly as the contracts compute them
//! (`contracts/src/symbiotic/README.md`, "EIP-712 types"). The struct hashes come from alloy's
//! `SolStruct` over the `sol!` types of `marketplace-bindings` (`StakeSnapshotChunk` is generated
//! from the module's own type-hash string, `SlashResult` from the middleware's struct); the digest is signed with the
//! enclave key through the matching engine's [`Signer`].

use alloy::primitives::{Address, B256, Bytes};
use alloy::sol_types::{Eip712Domain, SolStruct};
use matching_engine::{SignError, Signer};

/// EIP-712 name of the L2 staking module's domain.
pub const MODULE_DOMAIN_NAME: &str = "SymbioticStakingModule";
/// EIP-712 name of the L1 middleware's domain.
pub const MIDDLEWARE_DOMAIN_NAME: &str = "SymbioticNetworkMiddleware";
/// EIP-712 version of both domains.
pub const DOMAIN_VERSION: &str = "1";

fn domain(name: &'static str, chain_id: u64, verifying_contract: Address) -> Eip712Domain {
    Eip712Domain::new(
        Some(name.into()),
        Some(DOMAIN_VERSION.into()),
        Some(alloy::primitives::U256::from(chain_id)),
        Some(verifying_contract),
        None,
    )
}

/// The staking module's domain (L2 chain id, module address).
#[must_use]
pub fn module_domain(chain_id: u64, module: Address) -> Eip712Domain {
    domain(MODULE_DOMAIN_NAME, chain_id, module)
}

/// The middleware's domain (L1 chain id, middleware address).
#[must_use]
pub fn middleware_domain(chain_id: u64, middleware: Address) -> Eip712Domain {
    domain(MIDDLEWARE_DOMAIN_NAME, chain_id, middleware)
}

/// The enclave key's address, as the contracts recover it.
#[must_use]
pub fn signer_address(signer: &dyn Signer) -> Address {
    Address::from(signer.address().0)
}

/// Signs `value`'s EIP-712 digest for `domain`; returns the digest and the 65-byte `r ‖ s ‖ v`.
///
/// # Errors
/// [`SignError`] from the signer.
pub fn sign<T: SolStruct>(
    signer: &dyn Signer,
    value: &T,
    domain: &Eip712Domain,
) -> Result<(B256, Bytes), SignError> {
    let digest = value.eip712_signing_hash(domain);
    let signature = signer.sign_digest(&digest.0)?;
    Ok((digest, Bytes::copy_from_slice(&signature.0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::aliases::U48;
    use alloy::primitives::{U256, address, b256, bytes, keccak256};
    use marketplace_bindings::NetworkMiddleware::SlashResult;
    use marketplace_bindings::SymbioticStakingModule::{StakeSnapshotChunk, VaultStake};
    use matching_engine::LocalSigner;

    fn key_one() -> LocalSigner {
        let mut secret = [0u8; 32];
        secret[31] = 1;
        LocalSigner::from_bytes(&secret).unwrap()
    }

    const VERIFIER: Address = address!("0x00000000000000000000000000000000000A11CE");

    // Vectors pinned by contracts/test/symbiotic/SymbioticStakingModule.t.sol.
    #[test]
    fn snapshot_chunk_matches_the_contract_vector() {
        let chunk = StakeSnapshotChunk {
            epoch: 3,
            captureTimestamp: U48::from(1_777_600_000u64),
            index: 0,
            total: 1,
            snapshotRoot: b256!(
                "0xc58b38116ff85e60ce353ff930ee41048fbb875a2dcbdc577565501797344f0c"
            ),
            stakes: vec![
                VaultStake {
                    operator: Address::repeat_byte(0x11),
                    vault: Address::repeat_byte(0x22),
                    collateral: Address::repeat_byte(0x33),
                    amount: U256::from(1000u64) * U256::from(10u64).pow(U256::from(18)),
                },
                VaultStake {
                    operator: Address::repeat_byte(0x11),
                    vault: Address::repeat_byte(0x44),
                    collateral: Address::repeat_byte(0x55),
                    amount: U256::from(200_000_000u64),
                },
            ],
        };
        assert_eq!(
            crate::snapshot::next_root(B256::ZERO, crate::snapshot::stakes_hash(&chunk.stakes)),
            chunk.snapshotRoot,
            "the root of a one-chunk snapshot"
        );
        assert_eq!(
            chunk.eip712_hash_struct(),
            b256!("0xabb6cedc8d13ce082d3c21ccfdf8f9de21d6c122b567b5feccea84b944fdbe8b")
        );
        let signer = key_one();
        assert_eq!(
            signer_address(&signer),
            address!("0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf")
        );
        let (digest, sig) = sign(&signer, &chunk, &module_domain(31337, VERIFIER)).unwrap();
        assert_eq!(
            digest,
            b256!("0xe01614fc20b9d38fd4e1d741ab8105c2a8ba94a8abd5aa3b0ba0164995bec3d1")
        );
        assert_eq!(
            sig,
            bytes!(
                "0x026c1d31c102663de9bb7120d377862cbca0ee5f1e1271795f4d8b98e166dca047074b626f338b1604045c64d1b45ac085c4ddce5c196dea16a47f4951947e941b"
            )
        );
    }

    #[test]
    fn slash_result_matches_the_contract_vector() {
        let result = SlashResult {
            slashId: keccak256("slash-1"),
            vault: Address::repeat_byte(0x22),
            operator: Address::repeat_byte(0x11),
            amount: U256::from(100u64) * U256::from(10u64).pow(U256::from(18)),
            captureTimestamp: U48::from(1_777_600_000u64),
        };
        assert_eq!(
            result.eip712_hash_struct(),
            b256!("0xb311861dc16da05e8047b8295f30eac126ec25e37ce30153f31c62e9bfe6d045")
        );
        let (digest, sig) = sign(&key_one(), &result, &middleware_domain(1, VERIFIER)).unwrap();
        assert_eq!(
            digest,
            b256!("0x7755d4c0dbc69889821e43ddce992f02a647d6245c7c8307dbbc1994b7250d6d")
        );
        assert_eq!(
            sig,
            bytes!(
                "0x0d76f5bb12c8592ecd2d6cfad8189e4eef11b469673d1e9e6500ea66d26d88a92c31d09ba114a83e80c4bc11ef26a6a326e972a6fab2655ad69952335d12fc911c"
            )
        );
    }

    #[test]
    fn domains_separate_chains_and_contracts() {
        let result = SlashResult {
            slashId: keccak256("x"),
            vault: Address::repeat_byte(1),
            operator: Address::repeat_byte(2),
            amount: U256::from(1u8),
            captureTimestamp: U48::from(5u8),
        };
        let a = result.eip712_signing_hash(&middleware_domain(1, VERIFIER));
        assert_ne!(
            a,
            result.eip712_signing_hash(&middleware_domain(17000, VERIFIER))
        );
        assert_ne!(
            a,
            result.eip712_signing_hash(&middleware_domain(1, Address::ZERO))
        );
        assert_ne!(a, result.eip712_signing_hash(&module_domain(1, VERIFIER)));
    }
}
