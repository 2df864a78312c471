//! The payload parser alone (reaches every field check without needing a valid signature).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    nitro_attestation::internal::fuzz_payload(data);
});
