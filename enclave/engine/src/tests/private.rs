//! Private asks: re-encryption per slot, replayed commitments, uploads, discards, the
//! invalid-inputs statement and restarts.

use std::collections::BTreeMap;

use market_sealing::{
    Context, EncryptionKey, InputsBinding, SealedInputs, SlotBinding, open_inputs, seal_inputs,
    unwrap_generator_key,
};
use rand_core::OsRng;
use substrate_bn::{AffineG1, Fr, G1, Group};

use super::harness::{World, check_invariants, gen_addr, join, register, stake};
use crate::state::SlotState;
use crate::{
    Address, Ask, AskId, Assignment, BidContext, BidOpener, Config, Domain, Engine, Event,
    InputCheck, InputCheckKind, InputsError, LocalSigner, Market, MatchingMode, PrivateStatus,
    ProposedBatch, SchnorrBn254, SecretKey, SignedProposal, Signer as _, StatementError, Uploaded,
    keccak256, recover,
};

const CTX: BidContext = BidContext {
    chain_id: 31337,
    marketplace: Address([0x5f; 20]),
};
const SEALING: Context = Context {
    chain_id: 31337,
    marketplace: [0x5f; 20],
};
const VERIFIER: Address = Address([0xaa; 20]);
const REQUESTER: Address = Address([0xbb; 20]);
const DOMAIN: Domain = Domain {
    chain_id: 31337,
    verifying_contract: Address([0x5f; 20]),
};

fn engine_key() -> SecretKey {
    SecretKey::from_slice(&[0x11; 32]).expect("valid scalar")
}

fn generator_key(n: u64) -> EncryptionKey {
    EncryptionKey::from_bytes(&[0x30 + u8::try_from(n).expect("small"); 32]).expect("scalar")
}

fn config() -> Config {
    Config {
        input_checks: BTreeMap::from([(VERIFIER, InputCheckKind::SchnorrBn254)]),
        ..Config::default()
    }
}

/// The BN254 statement `abi.encode(Px, Py)` for `P = x·G`.
fn statement(x: u64) -> Vec<u8> {
    let p = AffineG1::from_jacobian(G1::one() * Fr::from_str(&x.to_string()).expect("fr"))
        .expect("not infinity");
    let mut out = vec![0u8; 64];
    p.x().to_big_endian(&mut out[..32]).expect("32 bytes");
    p.y().to_big_endian(&mut out[32..]).expect("32 bytes");
    out
}

fn secret(x: u64) -> [u8; 32] {
    let mut s = [0u8; 32];
    s[24..].copy_from_slice(&x.to_be_bytes());
    s
}

/// Market 1 (order book, schnorr verifier) with generators 1..=4 (cost 10 + n, capacity 2);
/// those in `keyed` set an encryption key.
fn world(keyed: &[u64]) -> World {
    let mut w = World::with_engine(Engine::new(
        config(),
        Some(BidOpener::new(engine_key(), CTX)),
    ));
    w.emit(Event::MarketCreated(Market {
        id: 1,
        mode: MatchingMode::OrderBook,
        slashing_penalty: 1,
        prover_family: None,
        activation: 0,
        verifier: VERIFIER,
    }));
    for n in 1..=4 {
        w.emit(register(n, 2))
            .emit(stake(n, 1, 100))
            .emit(join(n, 1, 10 + u128::from(n), 10));
    }
    for &n in keyed {
        w.emit(set_key(n));
    }
    w.mine(12);
    w
}

fn set_key(n: u64) -> Event {
    Event::EncryptionKeySet {
        generator: gen_addr(n),
        market: 1,
        public_key: generator_key(n).public_key().to_bytes().to_vec(),
    }
}

fn ask(id: AskId, k: u8, prover_data: &[u8]) -> Ask {
    Ask {
        id,
        market: 1,
        reward: 100,
        expiry: 1_000_000,
        proving_time: 60,
        redundancy: k,
        refund_address: REQUESTER,
        prover_data_hash: keccak256(prover_data),
        requester: REQUESTER,
        prover_data: prover_data.to_vec(),
    }
}

fn seal(prover_data: &[u8], x: u64) -> SealedInputs {
    let engine_pub = market_sealing::EncryptionPublicKey::from(engine_key().public_key());
    seal_inputs(
        &SEALING,
        &InputsBinding {
            market: 1,
            requester: REQUESTER.0,
            prover_data_hash: keccak256(prover_data),
        },
        &secret(x),
        &engine_pub,
        &mut OsRng,
    )
}

/// Emits a private ask with redundancy `k` for statement `P = 7·G` and secret `x`.
fn private_ask(w: &mut World, id: AskId, k: u8, x: u64, inline: bool) -> SealedInputs {
    let data = statement(7);
    let sealed = seal(&data, x);
    emit_private(w, id, k, &data, &sealed, inline);
    sealed
}

fn emit_private(w: &mut World, id: AskId, k: u8, data: &[u8], sealed: &SealedInputs, inline: bool) {
    w.emit(Event::AskCreated(ask(id, k, data)))
        .emit(Event::PrivateInputsCommitted {
            ask: id,
            inputs_hash: sealed.inputs_hash,
            engine_key_wrap: sealed.engine_key_wrap.to_vec(),
            inline_inputs: if inline {
                sealed.inputs.clone()
            } else {
                Vec::new()
            },
        });
}

/// Opens a slot's wrap as generator `n` would, returning the secret.
fn open_as(w: &World, a: &Assignment, n: u64, sealed: &SealedInputs) -> Option<Vec<u8>> {
    let wrap = w.engine.key_wrap(a)?;
    let slot = SlotBinding {
        ask: a.ask,
        slot: a.slot,
        generator: a.generator.0,
    };
    let key = unwrap_generator_key(
        &generator_key(n),
        &SEALING,
        &slot,
        &sealed.inputs_hash,
        &wrap,
    )
    .ok()?;
    let binding = InputsBinding {
        market: 1,
        requester: REQUESTER.0,
        prover_data_hash: keccak256(&statement(7)),
    };
    open_inputs(
        &SEALING,
        &binding,
        &key,
        &sealed.inputs,
        &sealed.inputs_hash,
    )
    .ok()
    .map(|s| s.to_vec())
}

#[test]
fn private_ask_is_assigned_with_a_wrap_only_its_generator_opens() {
    let mut w = world(&[1, 2, 3, 4]);
    let sealed = private_ask(&mut w, 1, 1, 7, true);
    let out = w.mine(1);
    assert_eq!(out.rejected, vec![]);
    let a = Assignment {
        ask: 1,
        slot: 0,
        generator: gen_addr(1),
        price: 11,
    };
    assert_eq!(out.proposals, vec![a]);
    assert_eq!(w.engine.private_status(1), Some(PrivateStatus::Ready));
    assert_eq!(open_as(&w, &a, 1, &sealed), Some(secret(7).to_vec()));
    assert_eq!(open_as(&w, &a, 2, &sealed), None, "another generator's key");

    // The batch is keyed and carries that wrap; the signature recovers to the engine key.
    let batches = w.engine.batches(&out.proposals, 10, 5_000);
    let [ProposedBatch::Keyed(keyed)] = batches.as_slice() else {
        panic!("one keyed batch: {batches:?}")
    };
    assert_eq!(
        keyed.key_wraps(),
        [w.engine.key_wrap(&a).expect("wrap").to_vec()]
    );
    let signer = LocalSigner::from_bytes(&[0x42; 32]).expect("key");
    let SignedProposal::Keyed(signed) = ProposedBatch::Keyed(keyed.clone())
        .sign(&signer, &DOMAIN)
        .expect("signs")
    else {
        panic!("keyed")
    };
    assert_eq!(
        recover(&signed.digest, &signed.signature),
        Ok(signer.address())
    );
    check_invariants(&w.engine);
}

#[test]
fn public_only_batches_stay_plain_and_mixed_ones_are_keyed_with_empty_public_wraps() {
    let mut w = world(&[1, 2, 3, 4]);
    w.emit(Event::AskCreated(ask(1, 1, b"")));
    let public = w.mine(1).proposals;
    assert_eq!(
        w.engine.batches(&public, 10, 5_000),
        vec![ProposedBatch::Plain(
            crate::AssignmentBatch::new(public.clone(), 5_000).expect("batch")
        )]
    );
    assert_eq!(w.engine.is_private(1), Some(false));
    assert!(
        w.engine
            .ask_status(1)
            .expect("live")
            .ask
            .prover_data
            .is_empty()
    );
    private_ask(&mut w, 2, 1, 7, true);
    let private = w.mine(1).proposals;
    let mixed: Vec<Assignment> = public.iter().chain(&private).copied().collect();
    let batches = w.engine.batches(&mixed, 10, 5_000);
    let [ProposedBatch::Keyed(keyed)] = batches.as_slice() else {
        panic!("keyed")
    };
    assert!(keyed.key_wraps()[0].is_empty());
    assert_eq!(keyed.key_wraps()[1].len(), 81);
}

#[test]
fn redundancy_two_gives_two_distinct_wraps_to_two_generators() {
    let mut w = world(&[1, 2, 3, 4]);
    let sealed = private_ask(&mut w, 1, 2, 7, true);
    let out = w.mine(1);
    assert_eq!(out.proposals.len(), 2);
    let (a, b) = (out.proposals[0], out.proposals[1]);
    assert_ne!(a.generator, b.generator);
    let (wa, wb) = (
        w.engine.key_wrap(&a).expect("wrap"),
        w.engine.key_wrap(&b).expect("wrap"),
    );
    assert_ne!(wa, wb);
    assert_eq!(open_as(&w, &a, 1, &sealed), Some(secret(7).to_vec()));
    assert_eq!(open_as(&w, &b, 2, &sealed), Some(secret(7).to_vec()));
    assert_eq!(open_as(&w, &b, 1, &sealed), None);
}

#[test]
fn generators_without_an_encryption_key_are_passed_over_until_they_set_one() {
    let mut w = world(&[]);
    private_ask(&mut w, 1, 1, 7, true);
    assert_eq!(w.mine(1).proposals, vec![]);
    check_invariants(&w.engine);
    w.emit(set_key(3));
    let out = w.mine(1);
    assert_eq!(out.proposals.len(), 1);
    assert_eq!(out.proposals[0].generator, gen_addr(3));
    // A malformed key is reported and leaves that generator without a key.
    w.emit(Event::EncryptionKeySet {
        generator: gen_addr(3),
        market: 1,
        public_key: vec![4; 33],
    });
    assert_eq!(w.mine(1).rejected.len(), 1);
    private_ask(&mut w, 2, 1, 7, true);
    assert_eq!(w.mine(1).proposals, vec![]);
    check_invariants(&w.engine);
}

#[test]
fn a_replayed_inputs_hash_is_refused_for_the_second_ask() {
    let mut w = world(&[1, 2, 3, 4]);
    let data = statement(7);
    let sealed = seal(&data, 7);
    emit_private(&mut w, 1, 1, &data, &sealed, true);
    emit_private(&mut w, 2, 1, &data, &sealed, true);
    let out = w.mine(1);
    assert_eq!(out.proposals.iter().map(|a| a.ask).collect::<Vec<_>>(), [1]);
    assert_eq!(
        w.engine.private_status(2),
        Some(PrivateStatus::ReplayedCommitment)
    );
    check_invariants(&w.engine);
}

#[test]
fn inputs_wrapped_for_another_engine_or_requester_are_never_assigned() {
    let mut w = world(&[1, 2, 3, 4]);
    let data = statement(7);
    let mut sealed = seal(&data, 7);
    sealed.engine_key_wrap[40] ^= 1;
    emit_private(&mut w, 1, 1, &data, &sealed, true);
    // Commitments must directly follow their ask's creation.
    w.emit(Event::PrivateInputsCommitted {
        ask: 1,
        inputs_hash: [1; 32],
        engine_key_wrap: Vec::new(),
        inline_inputs: Vec::new(),
    });
    let out = w.mine(1);
    assert_eq!(out.proposals, vec![]);
    assert_eq!(out.rejected.len(), 1);
    assert_eq!(
        w.engine.private_status(1),
        Some(PrivateStatus::KeyUnwrapFailed)
    );
}

#[test]
fn a_missing_upload_blocks_assignment_until_it_arrives() {
    let mut w = world(&[1, 2, 3, 4]);
    let sealed = private_ask(&mut w, 1, 1, 7, false);
    assert_eq!(w.mine(1).proposals, vec![]);
    assert_eq!(
        w.engine.private_status(1),
        Some(PrivateStatus::AwaitingInputs)
    );
    assert_eq!(w.engine.inputs(&sealed.inputs_hash), None);
    let mut wrong = sealed.inputs.clone();
    wrong[0] ^= 1;
    assert_eq!(
        w.engine.upload_inputs(sealed.inputs_hash, &wrong),
        Err(InputsError::HashMismatch)
    );
    let (uploaded, proposals) = w
        .engine
        .upload_inputs(sealed.inputs_hash, &sealed.inputs)
        .expect("stored");
    assert_eq!(uploaded, Uploaded::Stored);
    assert_eq!(proposals.len(), 1);
    assert_eq!(
        w.engine.inputs(&sealed.inputs_hash),
        Some(sealed.inputs.as_slice())
    );
    assert_eq!(
        w.engine.upload_inputs(sealed.inputs_hash, &sealed.inputs),
        Ok((Uploaded::AlreadyPresent, Vec::new()))
    );
    check_invariants(&w.engine);
}

#[test]
fn the_input_store_enforces_its_limits_and_drops_unclaimed_uploads() {
    let mut engine = Engine::new(
        Config {
            inputs: crate::StoreLimits {
                max_entry_bytes: 100,
                max_bytes: 150,
                max_entries: 2,
                orphan_ttl: 60,
            },
            ..config()
        },
        Some(BidOpener::new(engine_key(), CTX)),
    );
    let blob = |n: u8, len: usize| vec![n; len];
    assert_eq!(
        engine.upload_inputs(keccak256(&blob(1, 101)), &blob(1, 101)),
        Err(InputsError::TooLarge { len: 101, max: 100 })
    );
    engine
        .upload_inputs(keccak256(&blob(1, 100)), &blob(1, 100))
        .expect("fits");
    assert_eq!(
        engine.upload_inputs(keccak256(&blob(2, 51)), &blob(2, 51)),
        Err(InputsError::StoreFull)
    );
    engine
        .upload_inputs(keccak256(&blob(2, 50)), &blob(2, 50))
        .expect("fits");
    assert_eq!(
        engine.upload_inputs(keccak256(&blob(3, 1)), &blob(3, 1)),
        Err(InputsError::StoreFull)
    );
    assert_eq!(engine.stored_inputs(), (2, 150));
    engine.begin_block(1, 61);
    assert_eq!(engine.stored_inputs(), (0, 0), "unclaimed uploads expire");
}

#[test]
fn a_discarded_slot_goes_to_another_generator_never_the_discarder() {
    let mut w = world(&[1, 2, 3, 4]);
    let sealed = private_ask(&mut w, 1, 1, 7, true);
    w.mine(1);
    w.submit_pending();
    w.mine(1);
    assert!(matches!(w.slots(1)[0], SlotState::Confirmed { .. }));
    assert_eq!(w.engine.generator_load(gen_addr(1)).expect("known").used, 1);
    w.emit(Event::AssignmentDiscarded {
        ask: 1,
        slot: 0,
        generator: gen_addr(1),
    });
    let out = w.mine(1);
    assert_eq!(out.rejected, vec![]);
    assert_eq!(w.engine.generator_load(gen_addr(1)).expect("known").used, 0);
    assert_eq!(out.proposals.len(), 1);
    let a = out.proposals[0];
    assert_eq!(a.generator, gen_addr(2));
    assert_eq!(open_as(&w, &a, 2, &sealed), Some(secret(7).to_vec()));
    // The discarder is never offered the ask again, even when it is the only one left.
    w.submit_pending();
    w.mine(1);
    assert!(
        matches!(w.slots(1)[0], SlotState::Confirmed { generator, .. } if generator == gen_addr(2))
    );
    for n in [3, 4] {
        w.emit(Event::GeneratorLeft {
            generator: gen_addr(n),
            market: 1,
        });
    }
    w.emit(Event::AssignmentDiscarded {
        ask: 1,
        slot: 0,
        generator: gen_addr(2),
    });
    let out = w.mine(1);
    assert_eq!(out.rejected, vec![]);
    assert_eq!(out.proposals, vec![]);
    assert_eq!(w.slots(1), vec![SlotState::Open]);
    check_invariants(&w.engine);
}

#[test]
fn the_invalid_inputs_statement_is_signed_for_bad_inputs_only() {
    let signer = LocalSigner::from_bytes(&[0x42; 32]).expect("key");
    let mut w = world(&[1, 2, 3, 4]);
    private_ask(&mut w, 1, 1, 8, true); // 8·G ≠ 7·G
    private_ask(&mut w, 2, 1, 7, true);
    w.emit(Event::AskCreated(ask(3, 1, b"")));
    w.mine(1);
    assert_eq!(
        w.engine.invalid_inputs_statement(1, 0, &signer, &DOMAIN),
        Err(StatementError::NotAssigned { ask: 1, slot: 0 })
    );
    w.submit_pending();
    w.mine(1);
    let signed = w
        .engine
        .invalid_inputs_statement(1, 0, &signer, &DOMAIN)
        .expect("bad x is signed");
    assert_eq!(signed.statement.generator, gen_addr(1));
    assert_eq!(signed.statement.payment, 11);
    assert_eq!(
        recover(&signed.digest, &signed.signature),
        Ok(signer.address())
    );
    assert_eq!(
        w.engine.invalid_inputs_statement(2, 0, &signer, &DOMAIN),
        Err(StatementError::InputsValid(2))
    );
    assert_eq!(
        w.engine.invalid_inputs_statement(3, 0, &signer, &DOMAIN),
        Err(StatementError::NotPrivate(3))
    );
    assert_eq!(
        w.engine.invalid_inputs_statement(9, 0, &signer, &DOMAIN),
        Err(StatementError::UnknownAsk(9))
    );
    // Settling the slot frees its generator.
    w.emit(Event::InputsInvalid {
        ask: 1,
        slot: 0,
        generator: gen_addr(1),
        payment: 11,
    });
    w.mine(1);
    assert_eq!(w.engine.ask_status(1), None, "settled ask retired");

    // Without a configured check there is no statement.
    let mut keyed = world(&[1]);
    keyed.engine = Engine::new(Config::default(), Some(BidOpener::new(engine_key(), CTX)));
    for b in keyed.blocks.clone() {
        keyed.engine.apply_block(&b);
    }
    private_ask(&mut keyed, 1, 1, 8, true);
    keyed.mine(1);
    keyed.submit_pending();
    keyed.mine(1);
    assert_eq!(
        keyed
            .engine
            .invalid_inputs_statement(1, 0, &signer, &DOMAIN),
        Err(StatementError::NoInputCheck(1))
    );
}

#[test]
fn a_fresh_engine_fed_the_same_events_and_uploads_reaches_the_same_state() {
    let mut w = world(&[1, 2, 3]);
    private_ask(&mut w, 1, 2, 7, true);
    let uploaded = private_ask(&mut w, 2, 1, 8, false);
    w.emit(Event::AskCreated(ask(3, 1, b"")));
    w.mine(1);
    w.submit_pending();
    w.mine(1);
    w.emit(Event::AssignmentDiscarded {
        ask: 1,
        slot: 1,
        generator: gen_addr(2),
    });
    w.emit(set_key(4));
    w.mine(1);
    let upload_after = w.blocks.len();
    w.engine
        .upload_inputs(uploaded.inputs_hash, &uploaded.inputs)
        .expect("stored");
    w.submit_pending();
    w.mine(1);
    w.emit(Event::InputsInvalid {
        ask: 2,
        slot: 0,
        generator: w.holders(2)[0].expect("assigned"),
        payment: 1,
    });
    w.mine(1);
    check_invariants(&w.engine);

    let mut fresh = Engine::new(config(), Some(BidOpener::new(engine_key(), CTX)));
    for (i, b) in w.blocks.iter().enumerate() {
        if i == upload_after {
            fresh
                .upload_inputs(uploaded.inputs_hash, &uploaded.inputs)
                .expect("stored");
        }
        fresh.apply_block(b);
    }
    assert!(fresh == w.engine, "replayed engine differs");
    let pending = w.engine.pending_assignments();
    assert_eq!(fresh.pending_assignments(), pending);
    assert_eq!(
        fresh.batches(&pending, 10, 9_000),
        w.engine.batches(&pending, 10, 9_000)
    );
}

#[test]
fn the_schnorr_check_accepts_exactly_the_discrete_logarithm() {
    let c = SchnorrBn254;
    let p = statement(7);
    assert!(c.is_valid(&p, &secret(7)));
    assert!(!c.is_valid(&p, &secret(8)));
    assert!(!c.is_valid(&p, &secret(0)));
    // n + 7 reduces to 7 but is not below the group order.
    let n_plus_7 = hex::decode("30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000008")
        .expect("hex");
    assert!(!c.is_valid(&p, &n_plus_7));
    assert!(!c.is_valid(&p, &secret(7)[1..]));
    assert!(!c.is_valid(&p[..63], &secret(7)));
    let mut off_curve = p.clone();
    off_curve[63] ^= 1;
    assert!(!c.is_valid(&off_curve, &secret(7)));
    assert!(!c.is_valid(&[0xff; 64], &secret(7)));
    assert_eq!(
        InputCheckKind::from_name("schnorr-bn254"),
        Some(InputCheckKind::SchnorrBn254)
    );
    assert_eq!(InputCheckKind::from_name("schnorr"), None);
}
