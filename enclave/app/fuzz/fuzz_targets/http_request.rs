//! Any bytes as one connection to the enclave app's HTTP API (`enclave_app::fuzzing::http_request`
//! says what is checked).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    enclave_app::fuzzing::http_request(data);
});
