//! Round trips, bindings, determinism and known answers of the four uses.

use market_sealing::{
    ContentKey, Context, EncryptionKey, EncryptionPublicKey, Error, HandoffBinding,
    IdentitySecrets, InputsBinding, KEY_WRAP_LEN, SEALED_BID_LEN, SEALED_IDENTITY_LEN,
    SealedInputs, SlotBinding, Zeroizing, inputs_hash, open_bid, open_identity, open_inputs,
    seal_bid, seal_identity, seal_inputs, unwrap_engine_key, unwrap_generator_key,
    wrap_for_generator,
};
use rand_core::{CryptoRng, OsRng, RngCore};

/// Fills every request with one byte value (a fixed ephemeral key for known answers).
struct Fixed(u8);

impl RngCore for Fixed {
    fn next_u32(&mut self) -> u32 {
        u32::from_ne_bytes([self.0; 4])
    }
    fn next_u64(&mut self) -> u64 {
        u64::from_ne_bytes([self.0; 8])
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        dest.fill(self.0);
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        dest.fill(self.0);
        Ok(())
    }
}

impl CryptoRng for Fixed {}

/// Fills each request with the next byte value: distinct content key, nonce and ephemeral key.
struct Counter(u8);

impl RngCore for Counter {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0u8; 4];
        self.fill_bytes(&mut b);
        u32::from_ne_bytes(b)
    }
    fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.fill_bytes(&mut b);
        u64::from_ne_bytes(b)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.0 = self.0.wrapping_add(1);
        dest.fill(self.0);
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl CryptoRng for Counter {}

fn addr(n: u64) -> [u8; 20] {
    let mut a = [0u8; 20];
    a[12..].copy_from_slice(&n.to_be_bytes());
    a
}

const CTX: Context = Context {
    chain_id: 31337,
    marketplace: [0xc0; 20],
};

fn engine() -> EncryptionKey {
    EncryptionKey::from_bytes(&[0x42; 32]).expect("scalar")
}

fn generator(n: u8) -> EncryptionKey {
    EncryptionKey::from_bytes(&[n; 32]).expect("scalar")
}

fn binding() -> InputsBinding {
    InputsBinding {
        market: 7,
        requester: addr(0xabc),
        prover_data_hash: [9; 32],
    }
}

fn slot() -> SlotBinding {
    SlotBinding {
        ask: 11,
        slot: 1,
        generator: addr(0x1001),
    }
}

const SECRET: &[u8] = b"x = 42, the witness";

#[test]
fn inputs_round_trip_through_engine_and_generator() {
    let sealed = seal_inputs(&CTX, &binding(), SECRET, engine().public_key(), &mut OsRng);
    assert_eq!(sealed.inputs_hash, inputs_hash(&sealed.inputs));
    assert_eq!(sealed.inputs.len(), 12 + SECRET.len() + 16);
    let k = unwrap_engine_key(
        &engine(),
        &CTX,
        &binding(),
        &sealed.inputs_hash,
        &sealed.engine_key_wrap,
    )
    .expect("engine unwraps");
    let plain = open_inputs(&CTX, &binding(), &k, &sealed.inputs, &sealed.inputs_hash)
        .expect("engine opens");
    assert_eq!(plain.as_slice(), SECRET);

    let g = generator(5);
    let wrap = wrap_for_generator(
        &engine(),
        &CTX,
        &slot(),
        &sealed.inputs_hash,
        &k,
        g.public_key(),
    );
    let kg = unwrap_generator_key(&g, &CTX, &slot(), &sealed.inputs_hash, &wrap)
        .expect("generator unwraps");
    assert_eq!(kg, k);
    let plain = open_inputs(&CTX, &binding(), &kg, &sealed.inputs, &sealed.inputs_hash)
        .expect("generator opens");
    assert_eq!(plain.as_slice(), SECRET);
}

/// The requester's binding with one field changed at a time (the chain and marketplace too).
fn altered_bindings() -> Vec<(&'static str, Context, InputsBinding)> {
    let b = binding();
    let other_marketplace = Context {
        marketplace: [1; 20],
        ..CTX
    };
    vec![
        ("chain", Context { chain_id: 1, ..CTX }, b),
        ("marketplace", other_marketplace, b),
        ("market", CTX, InputsBinding { market: 8, ..b }),
        (
            "requester",
            CTX,
            InputsBinding {
                requester: addr(1),
                ..b
            },
        ),
        (
            "statement",
            CTX,
            InputsBinding {
                prover_data_hash: [8; 32],
                ..b
            },
        ),
    ]
}

/// Seals [`SECRET`] for the engine and unwraps its content key.
fn sealed_with_key() -> (SealedInputs, ContentKey) {
    let sealed = seal_inputs(&CTX, &binding(), SECRET, engine().public_key(), &mut OsRng);
    let key = unwrap_engine_key(
        &engine(),
        &CTX,
        &binding(),
        &sealed.inputs_hash,
        &sealed.engine_key_wrap,
    )
    .expect("unwraps");
    (sealed, key)
}

#[test]
fn every_field_of_the_engine_binding_is_authenticated() {
    let (sealed, _) = sealed_with_key();
    let h = sealed.inputs_hash;
    let mut cases: Vec<(&str, Context, InputsBinding, [u8; 32])> = altered_bindings()
        .into_iter()
        .map(|(field, ctx, b)| (field, ctx, b, h))
        .collect();
    cases.push(("inputs hash", CTX, binding(), [0xee; 32]));
    for (field, ctx, b, h) in cases {
        assert_eq!(
            unwrap_engine_key(&engine(), &ctx, &b, &h, &sealed.engine_key_wrap),
            Err(Error::AuthenticationFailed {
                what: "engine key wrap"
            }),
            "{field}"
        );
    }
    // Another engine key.
    assert!(matches!(
        unwrap_engine_key(&generator(3), &CTX, &binding(), &h, &sealed.engine_key_wrap),
        Err(Error::AuthenticationFailed { .. })
    ));
}

#[test]
fn every_field_of_the_inputs_binding_is_authenticated() {
    let (sealed, k) = sealed_with_key();
    for (field, ctx, b) in altered_bindings() {
        assert_eq!(
            open_inputs(&ctx, &b, &k, &sealed.inputs, &sealed.inputs_hash).map(|_| ()),
            Err(Error::AuthenticationFailed { what: "inputs" }),
            "{field}"
        );
    }
    let mut tampered = sealed.inputs.clone();
    tampered[20] ^= 1;
    assert_eq!(
        open_inputs(&CTX, &binding(), &k, &tampered, &sealed.inputs_hash).map(|_| ()),
        Err(Error::HashMismatch)
    );
    assert_eq!(
        open_inputs(&CTX, &binding(), &k, &tampered, &inputs_hash(&tampered)).map(|_| ()),
        Err(Error::AuthenticationFailed { what: "inputs" })
    );
}

#[test]
fn every_field_of_the_generator_binding_is_authenticated_and_other_keys_fail() {
    let (_, k) = sealed_with_key();
    let h = [3; 32];
    let g = generator(5);
    let wrap = wrap_for_generator(&engine(), &CTX, &slot(), &h, &k, g.public_key());
    let s = slot();
    let cases: Vec<(&str, Context, SlotBinding, [u8; 32])> = vec![
        ("chain", Context { chain_id: 1, ..CTX }, s, h),
        (
            "marketplace",
            Context {
                marketplace: [1; 20],
                ..CTX
            },
            s,
            h,
        ),
        ("ask", CTX, SlotBinding { ask: 12, ..s }, h),
        ("slot", CTX, SlotBinding { slot: 0, ..s }, h),
        (
            "generator",
            CTX,
            SlotBinding {
                generator: addr(2),
                ..s
            },
            h,
        ),
        ("inputs hash", CTX, s, [4; 32]),
    ];
    for (field, ctx, s, h) in cases {
        assert_eq!(
            unwrap_generator_key(&g, &ctx, &s, &h, &wrap),
            Err(Error::AuthenticationFailed {
                what: "generator key wrap"
            }),
            "{field}"
        );
    }
    assert!(matches!(
        unwrap_generator_key(&generator(6), &CTX, &slot(), &h, &wrap),
        Err(Error::AuthenticationFailed { .. })
    ));
    // The engine's key does not open a wrap to a generator either.
    assert!(unwrap_generator_key(&engine(), &CTX, &slot(), &h, &wrap).is_err());
}

#[test]
fn generator_wraps_are_deterministic_and_context_bound() {
    let (_, k) = sealed_with_key();
    let g = generator(5);
    let h = [3; 32];
    let a = wrap_for_generator(&engine(), &CTX, &slot(), &h, &k, g.public_key());
    let b = wrap_for_generator(&engine(), &CTX, &slot(), &h, &k, g.public_key());
    assert_eq!(a, b);
    let s = slot();
    let others = [
        wrap_for_generator(
            &engine(),
            &Context { chain_id: 1, ..CTX },
            &s,
            &h,
            &k,
            g.public_key(),
        ),
        wrap_for_generator(
            &engine(),
            &CTX,
            &SlotBinding { ask: 12, ..s },
            &h,
            &k,
            g.public_key(),
        ),
        wrap_for_generator(
            &engine(),
            &CTX,
            &SlotBinding { slot: 2, ..s },
            &h,
            &k,
            g.public_key(),
        ),
        wrap_for_generator(
            &engine(),
            &CTX,
            &SlotBinding {
                generator: addr(9),
                ..s
            },
            &h,
            &k,
            g.public_key(),
        ),
        wrap_for_generator(&engine(), &CTX, &s, &[4; 32], &k, g.public_key()),
        wrap_for_generator(&generator(8), &CTX, &s, &h, &k, g.public_key()),
    ];
    for (i, o) in others.iter().enumerate() {
        assert_ne!(
            o[..33],
            a[..33],
            "context change {i} reuses the ephemeral key"
        );
    }
}

#[test]
fn bids_round_trip_and_are_bound() {
    let sealed = seal_bid(&mut OsRng, engine().public_key(), &CTX, 7, &addr(1), 1234);
    assert_eq!(open_bid(&engine(), &CTX, 7, &addr(1), &sealed), Ok(1234));
    for (ctx, ask, bidder) in [
        (Context { chain_id: 1, ..CTX }, 7, addr(1)),
        (
            Context {
                marketplace: [1; 20],
                ..CTX
            },
            7,
            addr(1),
        ),
        (CTX, 8, addr(1)),
        (CTX, 7, addr(2)),
    ] {
        assert_eq!(
            open_bid(&engine(), &ctx, ask, &bidder, &sealed),
            Err(Error::AuthenticationFailed { what: "sealed bid" })
        );
    }
    assert_eq!(
        open_bid(&engine(), &CTX, 7, &addr(1), &sealed[..64]),
        Err(Error::WrongLength {
            what: "sealed bid",
            expected: SEALED_BID_LEN,
            got: 64
        })
    );
    let mut bad_point = sealed;
    bad_point[0] = 0x04;
    assert_eq!(
        open_bid(&engine(), &CTX, 7, &addr(1), &bad_point),
        Err(Error::BadPoint {
            what: "ephemeral key"
        })
    );
}

#[test]
fn public_keys_parse_with_named_errors() {
    let pk = engine().public_key().to_bytes();
    assert_eq!(
        EncryptionPublicKey::from_slice(&pk).map(|k| k.to_bytes()),
        Ok(pk)
    );
    assert_eq!(
        EncryptionPublicKey::from_slice(&pk[..32]),
        Err(Error::WrongLength {
            what: "public key",
            expected: 33,
            got: 32
        })
    );
    let mut uncompressed = pk;
    uncompressed[0] = 0x04;
    assert_eq!(
        EncryptionPublicKey::from_slice(&uncompressed),
        Err(Error::BadPoint { what: "public key" })
    );
    // x = 5 is not on secp256k1 (5³ + 7 = 132 is not a square mod p).
    let mut off_curve = [0u8; 33];
    off_curve[0] = 0x02;
    off_curve[32] = 5;
    assert_eq!(
        EncryptionPublicKey::from_slice(&off_curve),
        Err(Error::BadPoint { what: "public key" })
    );
    assert_eq!(
        EncryptionKey::from_bytes(&[0; 32]).map(|_| ()),
        Err(Error::BadSecretKey)
    );
    assert_eq!(
        EncryptionKey::from_bytes(&[0xff; 32]).map(|_| ()),
        Err(Error::BadSecretKey)
    );
    let debug = format!("{:?}", engine());
    assert!(debug.contains(&hex::encode(pk)), "{debug}");
    assert!(!debug.contains(&"42".repeat(32)), "{debug}");
}

// Known answers. A change of any format (layout, info, aad, derivation) changes these bytes.

#[test]
fn sealed_bid_known_answer() {
    // The engine's bid format before this crate existed (same key, ephemeral key 0x11..), and
    // `tests/independent_kat.py`.
    let sealed = seal_bid(
        &mut Fixed(0x11),
        engine().public_key(),
        &Context {
            chain_id: 31337,
            marketplace: addr(0xc0de),
        },
        7,
        &addr(0x1001),
        1234,
    );
    assert_eq!(
        hex::encode(sealed),
        "034f355bdcb7cc0af728ef3cceb9615d90684bb5b2ca5f859ab0f0b704075871aad79366d37ce067f6cf40f6019580ab8bc8ad79644e72d711fb4eededa8d97398"
    );
}

#[test]
fn sealed_inputs_known_answer() {
    let sealed = seal_inputs(
        &CTX,
        &binding(),
        SECRET,
        engine().public_key(),
        &mut Counter(0),
    );
    assert_eq!(hex::encode(&sealed.inputs), KAT_INPUTS);
    assert_eq!(hex::encode(sealed.inputs_hash), KAT_INPUTS_HASH);
    assert_eq!(hex::encode(sealed.engine_key_wrap), KAT_ENGINE_WRAP);
}

#[test]
fn generator_wrap_known_answer() {
    let sealed = seal_inputs(
        &CTX,
        &binding(),
        SECRET,
        engine().public_key(),
        &mut Counter(0),
    );
    let k = unwrap_engine_key(
        &engine(),
        &CTX,
        &binding(),
        &sealed.inputs_hash,
        &sealed.engine_key_wrap,
    )
    .expect("unwraps");
    let wrap = wrap_for_generator(
        &engine(),
        &CTX,
        &slot(),
        &sealed.inputs_hash,
        &k,
        generator(5).public_key(),
    );
    assert_eq!(wrap.len(), KEY_WRAP_LEN);
    assert_eq!(hex::encode(wrap), KAT_GENERATOR_WRAP);
}

// Computed independently of this crate by `tests/independent_kat.py` (Python `cryptography`
// for ECDH, HKDF, HMAC and AES-GCM; Foundry's `cast keccak` for the inputs hash): content key
// 0x01.., nonce 0x02.., ephemeral key 0x03.. (the `Counter` RNG's three draws).
const KAT_INPUTS: &str = "0202020202020202020202027ff6f4697e65eddda7a4d9e82bceb6dcc7c6a2250d841957569fe4aa15720412a0aad7";
const KAT_INPUTS_HASH: &str = "79dd6dec6058d913bf567a87fe4ba25fa4a6bdef67e86b047c96e086d7660ddd";
const KAT_ENGINE_WRAP: &str = "02531fe6068134503d2723133227c867ac8fa6c83c537e9a44c3c5bdbdcb1fe3373e25d57bddd9a05444f31551880acd28f2171770049089a6be6f9aed293f3e587a9f1edafed1797d60ca6bd9e07c6416";
const KAT_GENERATOR_WRAP: &str = "031a94e8180669d7215a95e4a0ed3b35df8a36df10e90c3761e30657495d0be4034eb76ab6c722a2ec4c56041e84d303406197ad445cb3e0fd30cb21581e4d4e9a5332e5818ad4fe50767329ef802fc842";

// The engine identity handed to a newcomer replica.

fn secrets() -> IdentitySecrets {
    IdentitySecrets {
        engine: Zeroizing::new([0x21; 32]),
        bid: Zeroizing::new([0x22; 32]),
    }
}

fn handoff_binding() -> HandoffBinding {
    HandoffBinding::new(b"request document", 31337, addr(0xe7))
}

#[test]
fn identity_known_answer() {
    let sealed = seal_identity(
        &mut Fixed(0x11),
        generator(5).public_key(),
        &handoff_binding(),
        &secrets(),
    );
    assert_eq!(
        hex::encode(sealed),
        "034f355bdcb7cc0af728ef3cceb9615d90684bb5b2ca5f859ab0f0b704075871aa501bd201c557ec4ede38ff\
         7c387dd9e5b3cbdd2514d718c788516c41bf4a9ec77dfb621c2c4edb8341f1f3bedc7491b26a7ed304ed3c44\
         2ca4e139928d60211e7cccf41e20273f2f2753672b28a70317"
    );
}

#[test]
fn the_newcomer_opens_its_identity() {
    let key = generator(5);
    let sealed = seal_identity(&mut OsRng, key.public_key(), &handoff_binding(), &secrets());
    assert_eq!(sealed.len(), SEALED_IDENTITY_LEN);
    let opened = open_identity(&key, &handoff_binding(), &sealed).expect("opens");
    assert_eq!(*opened.engine, [0x21; 32]);
    assert_eq!(*opened.bid, [0x22; 32]);
    let debug = format!("{opened:?}");
    assert!(!debug.contains("21") && !debug.contains("33"), "{debug}");
}

#[test]
fn a_sealed_identity_opens_only_for_its_request_chain_registry_and_key() {
    let key = generator(5);
    let sealed = seal_identity(&mut OsRng, key.public_key(), &handoff_binding(), &secrets());
    let auth = Err(Error::AuthenticationFailed {
        what: "sealed identity",
    });
    for other in [
        HandoffBinding::new(b"another request", 31337, addr(0xe7)),
        HandoffBinding::new(b"request document", 1, addr(0xe7)),
        HandoffBinding::new(b"request document", 31337, addr(0xe8)),
    ] {
        assert_eq!(
            open_identity(&key, &other, &sealed).map(|_| ()),
            auth,
            "{other:?}"
        );
    }
    let stranger = generator(6);
    assert_eq!(
        open_identity(&stranger, &handoff_binding(), &sealed).map(|_| ()),
        auth
    );
    for i in 33..SEALED_IDENTITY_LEN {
        let mut tampered = sealed;
        tampered[i] ^= 1;
        assert_eq!(
            open_identity(&key, &handoff_binding(), &tampered).map(|_| ()),
            auth,
            "byte {i}"
        );
    }
    assert_eq!(
        open_identity(&key, &handoff_binding(), &sealed[..SEALED_IDENTITY_LEN - 1]).map(|_| ()),
        Err(Error::WrongLength {
            what: "sealed identity",
            expected: SEALED_IDENTITY_LEN,
            got: SEALED_IDENTITY_LEN - 1
        })
    );
    let mut bad_point = sealed;
    bad_point[0] = 0x04;
    assert!(matches!(
        open_identity(&key, &handoff_binding(), &bad_point),
        Err(Error::BadPoint { .. })
    ));
}
