//! The EIF reader must return Ok or a named error for any bytes, never panic or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(d) = eif_builder::describe_bytes(data) {
        // A parsed image must also survive reporting.
        let _ = d.ensure_valid();
        let _ = d.to_json();
    }
});
