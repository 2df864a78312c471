//! The cpio newc reader must return Ok or a named error for any bytes, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = eif_builder::cpio::read_archive(data);
});
