//! Any chain log through the engine's event decoder (`enclave_app::fuzzing::chain_decode` says
//! how the bytes become a log and what is checked).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    enclave_app::fuzzing::chain_decode(data);
});
