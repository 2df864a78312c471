//! RPC error paths over alloy's mocked transport: each test queues the node's answers in order.

use alloy::primitives::{Address, U64, address};
use alloy::providers::{Provider as _, ProviderBuilder};
use alloy::rpc::json_rpc::ErrorPayload;
use alloy::sol_types::SolError;
use alloy::transports::mock::Asserter;

use super::*;
use crate::pcrs::{Pcr, image_id};
use marketplace_bindings::IPcrRegistry::PcrRegistryImageAlreadyRegistered;
use marketplace_bindings::external::IAccessControl::AccessControlUnauthorizedAccount;

const REGISTRY: Address = address!("5FbDB2315678afecb367f032d93F642f64180aa3");
const SENDER: Address = address!("f39Fd6e51aad88F6F4ce6aB8827279cffFb92266");

fn deployment(chain_id: u64) -> Deployment {
    Deployment {
        chain_id,
        start_block: 0,
        pcr_registry: REGISTRY,
        enclave_registry: REGISTRY,
        families: vec![],
    }
}

fn mocked(asserter: &Asserter) -> DynProvider {
    ProviderBuilder::new()
        .connect_mocked_client(asserter.clone())
        .erased()
}

/// A node's answer to a reverted `eth_call` (geth/anvil shape: code 3, data = revert bytes).
fn revert(data: Vec<u8>) -> ErrorPayload {
    ErrorPayload {
        code: 3,
        message: "execution reverted".into(),
        data: Some(serde_json::value::to_raw_value(&format!("0x{}", hex::encode(data))).unwrap()),
    }
}

async fn connected(asserter: &Asserter) -> Registry {
    asserter.push_success(&U64::from(31337));
    asserter.push_success(&"0x6080");
    Registry::connect(mocked(asserter), deployment(31337), Some(SENDER), "mock")
        .await
        .unwrap()
}

fn pcrs() -> ImagePcrs {
    ImagePcrs {
        pcr0: Pcr::new([1; 48]),
        pcr1: Pcr::new([2; 48]),
        pcr2: Pcr::new([3; 48]),
        pcr8: None,
    }
}

fn metadata() -> IPcrRegistry::ImageMetadata {
    IPcrRegistry::ImageMetadata {
        name: "matching-engine".into(),
        version: "1.0.0".into(),
        sourceRevision: "abc".into(),
        eifSha256: B256::ZERO,
        provenanceUri: String::new(),
    }
}

#[tokio::test]
async fn unreachable_rpc_is_named_with_its_url() {
    let asserter = Asserter::new();
    asserter.push_failure_msg("connection refused");
    let e = chain_id(&mocked(&asserter), "http://127.0.0.1:1")
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Rpc(RpcError::Unreachable { url, .. }) if url == "http://127.0.0.1:1"),
        "{e}"
    );
}

#[tokio::test]
async fn wrong_chain_id_is_refused_before_any_other_call() {
    let asserter = Asserter::new();
    asserter.push_success(&U64::from(1));
    let e = Registry::connect(mocked(&asserter), deployment(31337), None, "mock")
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::Rpc(RpcError::WrongChain {
                expected: 31337,
                actual: 1
            })
        ),
        "{e}"
    );
    assert!(asserter.read_q().is_empty());
}

#[tokio::test]
async fn an_address_without_code_is_refused() {
    let asserter = Asserter::new();
    asserter.push_success(&U64::from(31337));
    asserter.push_success(&"0x");
    let e = Registry::connect(mocked(&asserter), deployment(31337), None, "mock")
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::Rpc(RpcError::NoCode(a)) if a == REGISTRY),
        "{e}"
    );
}

#[tokio::test]
async fn custom_error_is_decoded_and_nothing_is_sent() {
    let asserter = Asserter::new();
    let registry = connected(&asserter).await;
    let id = image_id(&pcrs());
    asserter.push_failure(revert(
        PcrRegistryImageAlreadyRegistered { imageId: id }.abi_encode(),
    ));
    let e = registry
        .register(B256::repeat_byte(7), &pcrs(), metadata())
        .await
        .unwrap_err();
    match &e {
        Error::Revert(Revert::PcrRegistry(
            IPcrRegistry::IPcrRegistryErrors::PcrRegistryImageAlreadyRegistered(x),
        )) => assert_eq!(x.imageId, id),
        other => panic!("not decoded: {other}"),
    }
    assert_eq!(
        e.to_string(),
        format!("reverted: PcrRegistryImageAlreadyRegistered({id})")
    );
    // The simulation consumed the only queued answer: no send was attempted after it.
    assert!(asserter.read_q().is_empty());
}

#[tokio::test]
async fn missing_role_is_named() {
    let asserter = Asserter::new();
    let registry = connected(&asserter).await;
    asserter.push_failure(revert(
        AccessControlUnauthorizedAccount {
            account: SENDER,
            neededRole: alloy::primitives::keccak256("REVOKER_ROLE"),
        }
        .abi_encode(),
    ));
    let e = registry.revoke(image_id(&pcrs()), "x").await.unwrap_err();
    assert!(
        matches!(
            &e,
            Error::Revert(Revert::MissingRole {
                account,
                role_name: "REVOKER_ROLE",
                ..
            }) if *account == SENDER
        ),
        "{e}"
    );
    assert!(
        e.to_string().starts_with("missing role: account 0xf39F"),
        "{e}"
    );
}

#[tokio::test]
async fn sending_without_a_key_is_refused_before_any_call() {
    let asserter = Asserter::new();
    asserter.push_success(&U64::from(31337));
    asserter.push_success(&"0x6080");
    let registry = Registry::connect(mocked(&asserter), deployment(31337), None, "mock")
        .await
        .unwrap();
    let e = registry.revoke(image_id(&pcrs()), "x").await.unwrap_err();
    assert!(e.to_string().contains("--private-key-env"), "{e}");
}
