//! End to end on a real anvil with the dev NSM: the enclave app (built with `danger-dev-nsm`)
//! against `EnclaveRegistry`, `ProofMarketplace`, `NativeStaking` and `SchnorrBn254Verifier`
//! deployed from forge's artifacts. Run by `ci/engine-e2e`.
//!
//! The scenario: register the dev image; start the engine; register its key through the
//! family's full Nitro verifier (rooted in the engine's dev CA); create a market; three
//! generators register, stake and join; asks are created; the engine assigns them (signed
//! batches relayed by its relayer); a generator proves one with a real Schnorr proof and
//! withdraws its pay; a missed deadline is slashed; the engine is killed mid-stream, asks keep
//! coming, a new engine (new key, registered again) rebuilds from the chain, and every ask ends
//! up with each slot assigned exactly once. Private asks: inputs sealed to the attested key are
//! assigned through `assignBatchWithKeys`; only the assigned generator opens its wrap; inputs
//! that fail the market's check settle on the engine's statement; off-chain inputs are assigned
//! once uploaded. Replicas: a second enclave of the image receives the engine identity from the
//! first through the attested hand-off (no new registration); another image, a peer with a key
//! unknown to the registry, and a revoked image are refused.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use alloy::primitives::{Address, B256, Bytes, U256, aliases::U96, keccak256};
use alloy::providers::Provider;
use alloy::rpc::types::Filter;
use alloy::sol_types::SolEvent;
use common::*;
use serde_json::Value;
use testkit::contracts::{
    EnclaveRegistry, IAccessControl, IERC20, NativeStaking, ProofMarketplace, TestToken,
};

#[tokio::test]
#[ignore = "needs anvil and forge artifacts: run ci/engine-e2e"]
async fn engine_assigns_proofs_pay_deadlines_slash_and_restart_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let anvil = start_anvil();
    let world = setup(dir.path(), &anvil).await;

    // Engine 1: started, attested, registered.
    let app = world.live_engine(dir.path(), 1).await;

    // The attestation endpoints: the document binds the engine key and the caller's nonce.
    let (status, hex_doc) = get(&app.http, "/attestation/hex?nonce=c0ffee").unwrap();
    assert_eq!(status, 200);
    let document = hex::decode(&hex_doc).unwrap();
    let verified = nitro_attestation::Verifier::new(
        nitro_attestation::TrustedRoot::from_der(dev_root(&document)),
        nitro_attestation::Policy::default(),
    )
    .verify(&document)
    .unwrap();
    let public_key = app.status()["engine_public_key"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        format!(
            "0x{}",
            hex::encode(verified.document().public_key.as_ref().unwrap())
        ),
        public_key
    );
    assert_eq!(
        verified.document().nonce.as_deref(),
        Some(&[0xc0, 0xff, 0xee][..])
    );
    assert_eq!(
        get_json(&app.http, "/attestation/raw?nonce=zz").1["error"],
        "bad_nonce"
    );

    // Asks are assigned (the cheapest generators first), proved, paid.
    let (a, _) = world.ask(2, 100, 1).await;
    let (b, b_data) = world.ask(1, 50, 2).await;
    world.wait_assigned(&[(a, 2), (b, 1)], &app).await;
    let slot_b = world.slot(b, 0).await;
    assert_eq!(
        slot_b.generator, world.generators[0],
        "price-time priority: the cheapest"
    );
    assert_eq!(slot_b.price, U256::from(10));
    let a_slots = [world.slot(a, 0).await, world.slot(a, 1).await];
    assert_ne!(
        a_slots[0].generator, a_slots[1].generator,
        "distinct generators per ask"
    );
    let (_, market) = get_json(&app.http, "/markets/1");
    assert_eq!(market["mode"], "order_book");

    let proof = testkit::schnorr::statement_and_proof(&world.provider, 2)
        .await
        .unwrap()
        .proof;
    let market_c = world.market();
    send(
        "submitProof",
        market_c
            .submitProof(b, U256::ZERO, b_data, proof)
            .from(slot_b.generator),
    )
    .await;
    assert_eq!(world.slot(b, 0).await.state, SlotState::Completed);
    let token = IERC20::new(world.token, &world.provider);
    let before = token.balanceOf(slot_b.generator).call().await.unwrap();
    send("withdraw", market_c.withdraw().from(slot_b.generator)).await;
    let after = token.balanceOf(slot_b.generator).call().await.unwrap();
    assert_eq!(
        after - before,
        U256::from(10),
        "the generator is paid its price"
    );

    // A missed deadline is slashed (by anyone: here the requester).
    let (c, _) = world.ask(1, 80, 3).await;
    world.wait_assigned(&[(c, 1)], &app).await;
    let slot_c = world.slot(c, 0).await;
    let staking = NativeStaking::new(world.staking, &world.provider);
    let stake_before = staking
        .stakeOf(slot_c.generator, U256::from(1))
        .call()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(u64::from(PROVING_TIME) + 2)).await;
    let _: Value = world
        .provider
        .raw_request("evm_mine".into(), ())
        .await
        .unwrap();
    send("slash", market_c.slash(c, U256::ZERO).from(world.requester)).await;
    assert_eq!(world.slot(c, 0).await.state, SlotState::Slashed);
    let stake_after = staking
        .stakeOf(slot_c.generator, U256::from(1))
        .call()
        .await
        .unwrap();
    assert_eq!(stake_before - stake_after, U256::from(PENALTY));

    // Mid-stream restart. Five asks land in one block while blocks are mined only on demand, so
    // the engine's batches for them wait in the mempool; the engine is killed with them in
    // flight, they land after its death; three more asks arrive while no engine runs; a new
    // engine (new key) rebuilds from the chain.
    let before = app.status()["engine"]["assignments_sent"].as_u64().unwrap();
    world.automine(false).await;
    let mut pending = Vec::new();
    for i in 0..5 {
        let (params, _) = world.ask_params(world.requester, 1, 1, 60, 10 + i).await;
        pending.push(
            world
                .market()
                .createAsk(params)
                .from(world.requester)
                .send()
                .await
                .unwrap(),
        );
    }
    world.mine().await;
    let mut stream = Vec::new();
    for p in pending {
        let receipt = p.get_receipt().await.unwrap();
        assert!(receipt.status());
        stream.push((ask_id(&receipt, world.marketplace), 1u8));
    }
    app.wait_for(
        |s| s["engine"]["assignments_sent"].as_u64() == Some(before + 5),
        "the engine to relay the five asks",
    );
    let in_flight: Value = world
        .provider
        .raw_request("txpool_status".into(), ())
        .await
        .unwrap();
    assert_ne!(
        in_flight["pending"], "0x0",
        "batches wait in the mempool: {in_flight}"
    );
    drop(app);
    world.mine().await;
    world.automine(true).await;
    for (ask, _) in &stream {
        assert_eq!(
            world.slot(*ask, 0).await.state,
            SlotState::Assigned,
            "landed after the kill"
        );
    }
    for i in 0..3 {
        stream.push((world.ask(2, 60, 20 + i).await.0, 2u8));
    }
    let app = App::start(dir.path(), 2, &world);
    world.register_engine(&app).await;
    world.wait_assigned(&stream, &app).await;
    let status = app.wait_for(
        |s| s["engine"]["caught_up"] == true,
        "the new engine to catch up",
    );
    assert_eq!(status["engine"]["decode_errors"], 0, "{status}");
    assert_eq!(status["engine"]["rejected_events"], 0, "{status}");

    // Every slot of every ask was accepted exactly once, each ask by distinct generators.
    let (accepted, by_ask) = world.accepted().await;
    let all: Vec<(U256, u8)> = [(a, 2), (b, 1), (c, 1)]
        .into_iter()
        .chain(stream.iter().copied())
        .collect();
    let expected: u32 = all.iter().map(|(_, k)| u32::from(*k)).sum();
    assert_eq!(accepted.values().sum::<u32>(), expected, "{accepted:?}");
    for (ask, k) in &all {
        for s in 0..*k {
            assert_eq!(accepted.get(&(*ask, s)), Some(&1), "ask {ask} slot {s}");
        }
        let mut gens = by_ask[ask].clone();
        gens.sort();
        gens.dedup();
        assert_eq!(
            gens.len(),
            usize::from(*k),
            "ask {ask}: distinct generators"
        );
    }
    // The new engine's view follows: the asks it rebuilt show as assigned once it has read
    // the acceptances.
    let last = stream[7].0;
    let start = Instant::now();
    loop {
        let (code, view) = get_json(&app.http, &format!("/asks/{last}"));
        assert_eq!(code, 200, "{view}");
        let slots = view["slots"].as_array().unwrap();
        if slots.len() == 2 && slots.iter().all(|s| s["state"] == "assigned") {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "{view}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        get_json(&app.http, "/asks/999999").1["error"],
        "unknown_ask"
    );
    assert_eq!(get_json(&app.http, "/asks/x").1["error"], "bad_id");
    let status = app.status();
    assert_eq!(status["engine"]["pending_assignments"], 0, "{status}");
}

#[tokio::test]
#[ignore = "needs anvil and forge artifacts: run ci/engine-e2e"]
async fn a_reorg_rolls_the_engine_back_and_it_follows_the_new_chain() {
    let dir = tempfile::tempdir().unwrap();
    let anvil = start_anvil();
    let world = setup(dir.path(), &anvil).await;
    let app = world.live_engine(dir.path(), 1).await;

    // An ask, assigned, and seen by the engine.
    let fork = world.provider.get_block_number().await.unwrap();
    let (x, _) = world.ask(1, 70, 1).await;
    world.wait_assigned(&[(x, 1)], &app).await;
    let head = world.provider.get_block_number().await.unwrap();
    app.wait_for(
        |s| s["engine"]["synced_block"].as_u64() >= Some(head),
        "the engine to read the acceptance",
    );
    let (_, view) = get_json(&app.http, &format!("/asks/{x}"));
    assert_eq!(view["slots"][0]["state"], "assigned", "{view}");

    // The blocks with the ask and its acceptance are replaced by empty ones (same height).
    let depth = head - fork;
    let _: Value = world
        .provider
        .raw_request("anvil_reorg".into(), (depth, Vec::<Value>::new()))
        .await
        .unwrap();
    assert_eq!(
        world.slot(x, 0).await.state,
        SlotState::None,
        "the ask is gone from the chain"
    );
    // A new block on top, so the engine sees the new chain at a greater height too.
    let _: Value = world
        .provider
        .raw_request("evm_mine".into(), ())
        .await
        .unwrap();
    let status = app.wait_for(
        |s| {
            s["engine"]["reorgs"].as_u64() >= Some(1) || s["engine"]["rebuilds"].as_u64() >= Some(1)
        },
        "the engine to notice the reorg",
    );
    let (code, view) = get_json(&app.http, &format!("/asks/{x}"));
    assert_eq!(
        (code, &view["error"]),
        (404, &Value::from("unknown_ask")),
        "{view} {status}"
    );

    // On the new chain the next ask takes the same id, with other terms; the engine assigns it.
    // (Another requester: anvil keeps counting the dropped transaction in the first one's nonce.)
    let other = world.provider.get_accounts().await.unwrap()[6];
    let token = TestToken::new(world.token, &world.provider);
    send("mint", token.mint(other, U256::from(1_000)).from(other)).await;
    send(
        "approve",
        IERC20::new(world.token, &world.provider)
            .approve(world.marketplace, U256::MAX)
            .from(other),
    )
    .await;
    let (y, _) = world.ask_from(other, 1, 90, 2).await;
    assert_eq!(y, x);
    world.wait_assigned(&[(y, 1)], &app).await;
    let start = Instant::now();
    loop {
        let (_, view) = get_json(&app.http, &format!("/asks/{y}"));
        if view["slots"][0]["state"] == "assigned" {
            assert_eq!(view["reward"], "90", "{view}");
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "{view}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let status = app.status();
    assert_eq!(status["engine"]["rejected_events"], 0, "{status}");
}

#[tokio::test]
#[ignore = "needs anvil and forge artifacts: run ci/engine-e2e"]
async fn sealed_bids_to_the_attested_key_are_opened_inside_at_the_second_price() {
    let dir = tempfile::tempdir().unwrap();
    let anvil = start_anvil();
    let world = setup(dir.path(), &anvil).await;
    let app = world.live_engine(dir.path(), 1).await;
    let status = app.status();

    // A sealed-bid market (id 2) with a 4-second window; the generators stake and join it.
    let market = world.market();
    let verifier = deploy(&world.deployer, "SchnorrBn254Verifier", vec![]).await;
    send(
        "createMarket",
        market
            .createMarket(ProofMarketplace::MarketParams {
                verifier,
                mode: MatchingMode::SealedBid,
                bidWindow: 4,
                slashingPenalty: U96::from(PENALTY),
                proverFamily: B256::ZERO,
                activationDelay: 0,
            })
            .from(world.requester),
    )
    .await;
    let staking = NativeStaking::new(world.staking, &world.provider);
    for g in &world.generators {
        send(
            "deposit",
            staking
                .deposit(U256::from(2), U256::from(PENALTY * 10))
                .from(*g),
        )
        .await;
        send(
            "joinMarket",
            market
                .joinMarket(U256::from(2), U96::from(90u64), PROVING_TIME, Bytes::new())
                .from(*g),
        )
        .await;
    }
    let (params, _) = world.ask_params(world.requester, 2, 1, 100, 7).await;
    let receipt = send("createAsk", market.createAsk(params).from(world.requester)).await;
    let ask = ask_id(&receipt, world.marketplace);

    // Each generator seals its price to the bid key that the engine's attestation carries as
    // user_data (here read from /status; the document binds the same bytes).
    let bid_key = hex::decode(
        status["bid_public_key"]
            .as_str()
            .unwrap()
            .trim_start_matches("0x"),
    )
    .unwrap();
    let (_, document) = get(&app.http, "/attestation/raw").unwrap();
    let verified = nitro_attestation::Verifier::new(
        nitro_attestation::TrustedRoot::from_der(dev_root(&document)),
        nitro_attestation::Policy::default(),
    )
    .verify(&document)
    .unwrap();
    assert_eq!(verified.document().user_data.as_deref(), Some(&bid_key[..]));
    let bid_key = matching_engine::PublicKey::from_sec1_bytes(&bid_key).unwrap();
    let context = matching_engine::BidContext {
        chain_id: 31337,
        marketplace: matching_engine::Address(world.marketplace.into_array()),
    };
    for (g, price) in world.generators.iter().zip([70u128, 40, 55]) {
        let sealed = matching_engine::seal_bid(
            &mut rand_core::OsRng,
            &bid_key,
            &context,
            ask.to::<u64>(),
            matching_engine::Address(g.into_array()),
            price,
        );
        send(
            "submitBid",
            market.submitBid(ask, Bytes::from(sealed)).from(*g),
        )
        .await;
    }
    // Nothing is assigned while the window is open; after it, the lowest bid wins and is paid
    // the second-lowest.
    assert_eq!(world.slot(ask, 0).await.state, SlotState::Open);
    tokio::time::sleep(Duration::from_secs(5)).await;
    world.mine().await;
    world.wait_assigned(&[(ask, 1)], &app).await;
    let slot = world.slot(ask, 0).await;
    assert_eq!(slot.generator, world.generators[1], "the lowest bid wins");
    assert_eq!(slot.price, U256::from(55), "uniform second price");
}

/// Waits until the engine's own view (not only the chain) has slot 0 of `ask` assigned.
async fn engine_sees_assigned(app: &App, ask: U256) {
    let start = Instant::now();
    while get_json(&app.http, &format!("/asks/{ask}")).1["slots"][0]["state"] != "assigned" {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the engine never saw ask {ask} assigned"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
#[ignore = "needs anvil and forge artifacts: run ci/engine-e2e"]
async fn private_inputs_reach_only_the_assigned_generator_and_bad_ones_settle() {
    use matching_engine::market_sealing::{
        Context, EncryptionKey, EncryptionPublicKey, InputsBinding, SlotBinding, open_inputs,
        seal_inputs, unwrap_generator_key,
    };
    let dir = tempfile::tempdir().unwrap();
    let anvil = start_anvil();
    let world = setup(dir.path(), &anvil).await;
    let app = world.live_engine(dir.path(), 1).await;
    let status = app.status();
    assert_eq!(status["encryption_public_key"], status["bid_public_key"]);
    let engine_key = EncryptionPublicKey::from_slice(
        &hex::decode(
            status["encryption_public_key"]
                .as_str()
                .unwrap()
                .trim_start_matches("0x"),
        )
        .unwrap(),
    )
    .unwrap();

    // Generators 0 and 1 set encryption keys in market 1 (a public market: no enclave
    // signature); generator 0 is the cheapest, so it gets the first private ask.
    let market = world.market();
    let key = |i: u8| EncryptionKey::from_bytes(&[0x30 + i; 32]).unwrap();
    for (i, g) in world.generators.iter().take(2).enumerate() {
        let public = key(i as u8).public_key().to_bytes();
        send(
            "setEncryptionKey",
            market
                .setEncryptionKey(U256::from(1), Bytes::from(public.to_vec()), Bytes::new())
                .from(*g),
        )
        .await;
    }

    let ctx = Context {
        chain_id: 31337,
        marketplace: world.marketplace.into_array(),
    };
    let private_ask = |inline: bool, secret: Vec<u8>, seed: u64| {
        let world = &world;
        async move {
            let (mut params, data) = world.ask_params(world.requester, 1, 1, 100, seed).await;
            // Long enough to ask for and relay the invalid-inputs statement.
            params.provingTime = 120;
            let binding = InputsBinding {
                market: 1,
                requester: world.requester.into_array(),
                prover_data_hash: keccak256(&data).0,
            };
            let sealed = seal_inputs(&ctx, &binding, &secret, &engine_key, &mut rand_core::OsRng);
            let inline_inputs = if inline {
                Bytes::from(sealed.inputs.clone())
            } else {
                Bytes::new()
            };
            let receipt = send(
                "createPrivateAsk",
                world
                    .market()
                    .createPrivateAsk(
                        params,
                        B256::from(sealed.inputs_hash),
                        Bytes::from(sealed.engine_key_wrap.to_vec()),
                        inline_inputs,
                    )
                    .from(world.requester),
            )
            .await;
            (ask_id(&receipt, world.marketplace), binding, sealed)
        }
    };

    // A private ask with inline inputs whose secret is not the statement's x.
    let (bad, binding, sealed) = private_ask(true, vec![0x01; 32], 21).await;
    world.wait_assigned(&[(bad, 1)], &app).await;
    let slot = world.slot(bad, 0).await;
    assert_eq!(slot.generator, world.generators[0]);
    let wrapped = world
        .provider
        .get_logs(
            &Filter::new()
                .address(world.marketplace)
                .event_signature(ProofMarketplace::InputsKeyWrapped::SIGNATURE_HASH)
                .from_block(0),
        )
        .await
        .unwrap();
    let wrap = ProofMarketplace::InputsKeyWrapped::decode_log_data(wrapped[0].data())
        .unwrap()
        .keyWrap;
    let slot_binding = SlotBinding {
        ask: bad.to::<u64>(),
        slot: 0,
        generator: world.generators[0].into_array(),
    };
    let content = unwrap_generator_key(&key(0), &ctx, &slot_binding, &sealed.inputs_hash, &wrap)
        .expect("the assigned generator unwraps");
    let secret = open_inputs(
        &ctx,
        &binding,
        &content,
        &sealed.inputs,
        &sealed.inputs_hash,
    )
    .expect("and opens");
    assert_eq!(secret.as_slice(), &[0x01; 32]);
    assert!(
        unwrap_generator_key(&key(1), &ctx, &slot_binding, &sealed.inputs_hash, &wrap).is_err(),
        "another generator cannot"
    );

    // Once the engine has seen the assignment, it signs that these inputs fail the market's
    // check; anyone relays the statement.
    engine_sees_assigned(&app, bad).await;
    let (code, body) = send_body(
        &app.http,
        "POST",
        "/invalid-inputs",
        format!(r#"{{"ask": {bad}, "slot": 0}}"#).as_bytes(),
    );
    let answer: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(code, 200, "{answer}");
    assert_eq!(answer["payment"], "10", "the generator's cost");
    let signature = hex::decode(
        answer["signature"]
            .as_str()
            .unwrap()
            .trim_start_matches("0x"),
    )
    .unwrap();
    send(
        "settleInvalidInputs",
        market
            .settleInvalidInputs(bad, U256::ZERO, U256::from(10), Bytes::from(signature))
            .from(world.requester),
    )
    .await;
    assert_eq!(world.slot(bad, 0).await.state, SlotState::InputsInvalid);

    // A private ask whose inputs stay off chain: not assigned until they are uploaded.
    // Its secret is the statement's x (testkit's derivation), so the inputs are valid.
    let x = U256::from_be_bytes(keccak256(22u64.to_be_bytes()).0) % testkit::schnorr::BN254_N;
    let (off, _, sealed) = private_ask(false, x.to_be_bytes::<32>().to_vec(), 22).await;
    let name = format!("/inputs/0x{}", hex::encode(sealed.inputs_hash));
    assert_eq!(get(&app.http, &name).unwrap().0, 404);
    app.wait_for(
        |s| s["engine"]["private_asks"].as_u64() == Some(1),
        "the engine to see the private ask",
    );
    assert_eq!(world.slot(off, 0).await.state, SlotState::Open);
    let mut wrong = sealed.inputs.clone();
    wrong[0] ^= 1;
    assert_eq!(send_body(&app.http, "PUT", &name, &wrong).0, 400);
    assert_eq!(send_body(&app.http, "PUT", &name, &sealed.inputs).0, 201);
    world.wait_assigned(&[(off, 1)], &app).await;
    assert_eq!(get(&app.http, &name).unwrap(), (200, sealed.inputs.clone()));
    // Valid inputs get no statement.
    engine_sees_assigned(&app, off).await;
    let (code, body) = send_body(
        &app.http,
        "POST",
        "/invalid-inputs",
        format!(r#"{{"ask": {off}, "slot": 0}}"#).as_bytes(),
    );
    let answer: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        (code, answer["error"].as_str()),
        (422, Some("inputs_valid")),
        "{answer}"
    );
}

/// The `identity` section of a replica that asks `peers` for the engine identity.
fn from_peers(peers: &[String]) -> Value {
    serde_json::json!({"identity": {"source": "peer", "peers": peers, "max_age_s": 300}})
}

/// A peer that is no enclave of the image's family: it answers every hand-off request with a
/// valid dev document of the right image binding a fresh engine key it made up (registered
/// nowhere), and that key's secrets sealed correctly to the newcomer. Serves on `path`.
fn key_inventing_peer(path: &Path, registry: Address) {
    use k256::elliptic_curve::sec1::ToEncodedPoint as _;
    use std::io::{Read as _, Write as _};
    let listener = std::os::unix::net::UnixListener::bind(path).unwrap();
    let nsm = nitro_attestation::dev::DevNsm::new(nitro_attestation::dev::DevNsmConfig::image(
        [0x11; 48], [0x22; 48], [0x33; 48],
    ))
    .unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { return };
            let mut raw = Vec::new();
            let mut buf = [0u8; 4096];
            let body = loop {
                let n = s.read(&mut buf).unwrap_or(0);
                if n == 0 {
                    break None;
                }
                raw.extend_from_slice(&buf[..n]);
                let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
                    continue;
                };
                let head = String::from_utf8_lossy(&raw[..end]).to_lowercase();
                let len: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                if raw.len() >= end + 4 + len {
                    break Some(raw[end + 4..end + 4 + len].to_vec());
                }
            };
            let Some(request) = body else { continue };
            let claims = nitro_attestation::read_unverified(&request).unwrap();
            let newcomer =
                market_sealing::EncryptionPublicKey::from_slice(&claims.user_data.unwrap())
                    .unwrap();
            let engine = k256::SecretKey::random(&mut rand_core::OsRng);
            let bid = k256::SecretKey::random(&mut rand_core::OsRng);
            let document = nitro_attestation::nsm::Nsm::attestation(
                &nsm,
                &nitro_attestation::nsm::AttestationRequest {
                    public_key: Some(
                        engine
                            .public_key()
                            .to_encoded_point(false)
                            .as_bytes()
                            .to_vec(),
                    ),
                    user_data: Some(bid.public_key().to_encoded_point(true).as_bytes().to_vec()),
                    nonce: Some(keccak256(&request).to_vec()),
                },
            )
            .unwrap();
            let binding =
                market_sealing::HandoffBinding::new(&request, 31337, registry.into_array());
            let sealed = market_sealing::seal_identity(
                &mut rand_core::OsRng,
                &newcomer,
                &binding,
                &market_sealing::IdentitySecrets {
                    engine: market_sealing::Zeroizing::new(engine.to_bytes().into()),
                    bid: market_sealing::Zeroizing::new(bid.to_bytes().into()),
                },
            );
            let mut answer = u16::try_from(document.len())
                .unwrap()
                .to_be_bytes()
                .to_vec();
            answer.extend_from_slice(&document);
            answer.extend_from_slice(&sealed);
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                answer.len()
            );
            let _ = s.write_all(&answer);
        }
    });
}

#[tokio::test]
#[ignore = "needs anvil and forge artifacts: run ci/engine-e2e"]
async fn replicas_of_the_image_share_one_identity_through_the_attested_handoff() {
    let dir = tempfile::tempdir().unwrap();
    let anvil = start_anvil();
    let world = setup(dir.path(), &anvil).await;
    let first = world.live_engine(dir.path(), 1).await;
    let first_status = first.status();
    assert_eq!(
        first_status["identity"],
        serde_json::json!({"source": "generated"})
    );
    let peer = format!("unix:{}", first.http.display());
    let registered = || async {
        world
            .events(
                world.registry,
                EnclaveRegistry::EnclaveKeyRegistered::SIGNATURE_HASH,
            )
            .await
            .len()
    };
    assert_eq!(registered().await, 1);

    // A replica of the same image: the same engine and bid keys, live at once, and no new
    // registration.
    let second = App::start_with(
        dir.path(),
        2,
        &world,
        from_peers(std::slice::from_ref(&peer)),
    );
    let status = second.wait_for(|s| s["engine"]["key_live"] == true, "the shared key live");
    for field in ["engine_key", "engine_public_key", "bid_public_key"] {
        assert_eq!(status[field], first_status[field], "{field}");
    }
    assert_eq!(
        status["identity"],
        serde_json::json!({"source": "peer", "peer": peer})
    );
    assert_eq!(registered().await, 1);

    // A replica of another image of the family (registered and live) is refused by the peer,
    // and does not start: no identity of its own instead.
    world.register_image([0x11, 0x22, 0x44]).await;
    let mut other = App::spawn(
        dir.path(),
        3,
        &world,
        serde_json::json!({
            "identity": from_peers(std::slice::from_ref(&peer))["identity"],
            "dev_nsm_pcrs": {"PCR0": "11".repeat(48), "PCR1": "22".repeat(48), "PCR2": "44".repeat(48)},
        }),
    );
    let (code, log) = other.exit();
    assert_eq!(code, Some(2), "{log}");
    assert!(log.contains("refused (403 other_image)"), "{log}");
    assert!(!log.contains("engine key 0x"), "{log}");

    // A peer that answers with a valid document but a key the registry does not know.
    let inventor = dir.path().join("inventor.sock");
    key_inventing_peer(&inventor, world.registry);
    let inventor = format!("unix:{}", inventor.display());
    let mut fooled = App::spawn(
        dir.path(),
        4,
        &world,
        from_peers(std::slice::from_ref(&inventor)),
    );
    let (code, log) = fooled.exit();
    assert_eq!(code, Some(2), "{log}");
    assert!(log.contains(&format!("{inventor}: key_not_live")), "{log}");

    // A later peer in the list still serves a newcomer whose first peer fails.
    let fourth = App::start_with(
        dir.path(),
        5,
        &world,
        from_peers(&[inventor.clone(), peer.clone()]),
    );
    assert_eq!(fourth.status()["engine_key"], first_status["engine_key"]);

    // Once the image is revoked, the peer refuses to give, and a newcomer refuses to receive.
    send(
        "grantRole",
        IAccessControl::new(world.registry, &world.deployer)
            .grantRole(keccak256("REVOKER_ROLE"), world.admin),
    )
    .await;
    let image = keccak256([[0x11u8; 48], [0x22; 48], [0x33; 48]].concat());
    send(
        "revokeImage",
        EnclaveRegistry::new(world.registry, &world.deployer).revokeImage(image, "test".into()),
    )
    .await;
    let mut refused = App::spawn(
        dir.path(),
        6,
        &world,
        from_peers(std::slice::from_ref(&peer)),
    );
    let (code, log) = refused.exit();
    assert_eq!(code, Some(2), "{log}");
    assert!(log.contains("refused (403 image_not_live)"), "{log}");
    let mut refusing = App::spawn(dir.path(), 7, &world, from_peers(&[inventor]));
    let (code, log) = refusing.exit();
    assert_eq!(code, Some(2), "{log}");
    assert!(log.contains(": image_not_live (image"), "{log}");
}
