//! Every parser answers arbitrary bytes with a value or a named error, never a panic.

use market_sealing::{
    ContentKey, Context, EncryptionKey, EncryptionPublicKey, InputsBinding, SlotBinding, open_bid,
    open_inputs, seal_inputs, unwrap_engine_key, unwrap_generator_key,
};
use proptest::prelude::*;
use rand_core::OsRng;

const CTX: Context = Context {
    chain_id: 1,
    marketplace: [2; 20],
};

fn key() -> EncryptionKey {
    EncryptionKey::from_bytes(&[0x42; 32]).expect("scalar")
}

fn content_key() -> ContentKey {
    let b = InputsBinding {
        market: 1,
        requester: [3; 20],
        prover_data_hash: [4; 32],
    };
    let s = seal_inputs(&CTX, &b, b"", key().public_key(), &mut OsRng);
    unwrap_engine_key(&key(), &CTX, &b, &s.inputs_hash, &s.engine_key_wrap).expect("unwraps")
}

fn near(len: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..len)
}

proptest! {
    #[test]
    fn public_key_parser_never_panics(bytes in near(70)) {
        let _ = EncryptionPublicKey::from_slice(&bytes);
    }

    #[test]
    fn secret_key_parser_never_panics(bytes in any::<[u8; 32]>()) {
        let _ = EncryptionKey::from_bytes(&bytes);
    }

    #[test]
    fn compressed_points_parse_or_fail_by_name(prefix in 0u8..5, x in any::<[u8; 32]>()) {
        let mut b = [0u8; 33];
        b[0] = prefix;
        b[1..].copy_from_slice(&x);
        let _ = EncryptionPublicKey::from_slice(&b);
    }

    #[test]
    fn bid_opener_never_panics(bytes in near(130), ask in any::<u64>()) {
        prop_assert!(open_bid(&key(), &CTX, ask, &[1; 20], &bytes).is_err());
    }

    #[test]
    fn key_unwrappers_never_panic(bytes in near(170), hash in any::<[u8; 32]>()) {
        let b = InputsBinding { market: 1, requester: [3; 20], prover_data_hash: hash };
        prop_assert!(unwrap_engine_key(&key(), &CTX, &b, &hash, &bytes).is_err());
        let s = SlotBinding { ask: 1, slot: 0, generator: [5; 20] };
        prop_assert!(unwrap_generator_key(&key(), &CTX, &s, &hash, &bytes).is_err());
    }

    #[test]
    fn wraps_with_a_valid_point_and_random_body_fail_authentication(
        body in any::<[u8; 48]>(), hash in any::<[u8; 32]>()
    ) {
        let mut wrap = key().public_key().to_bytes().to_vec();
        wrap.extend_from_slice(&body);
        let s = SlotBinding { ask: 1, slot: 0, generator: [5; 20] };
        prop_assert!(
            matches!(
                unwrap_generator_key(&key(), &CTX, &s, &hash, &wrap),
                Err(market_sealing::Error::AuthenticationFailed { .. })
            ),
            "random bodies never authenticate"
        );
    }

    #[test]
    fn inputs_opener_never_panics(bytes in near(200)) {
        let b = InputsBinding { market: 1, requester: [3; 20], prover_data_hash: [4; 32] };
        let k = content_key();
        prop_assert!(open_inputs(&CTX, &b, &k, &bytes, &market_sealing::inputs_hash(&bytes)).is_err());
        prop_assert!(open_inputs(&CTX, &b, &k, &bytes, &[0; 32]).is_err());
    }
}
