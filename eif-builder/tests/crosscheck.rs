//! Cross-checks against the reference implementation (aws-nitro-enclaves-image-format 0.8):
//! (a) same PCRs for the same inputs, (b) the reference reader accepts our EIF with the same
//! PCRs, (c) our reader accepts the reference's EIF with the same PCRs; signed and unsigned.

mod common;

use common::{Inputs, Rng, as_map, aws_read};

fn check(seed: u64, kernel_len: usize, ramdisks: &[usize], signed: bool) {
    let mut rng = Rng(seed);
    let inputs = Inputs::new(&mut rng, kernel_len, ramdisks, signed);
    let (ours_path, ours) = inputs.ours("ours.eif");
    let (aws_path, aws) = inputs.aws("aws.eif");
    let ctx = format!("seed {seed} kernel {kernel_len} ramdisks {ramdisks:?} signed {signed}");

    // (a) same inputs, same PCRs (including the HashAlgorithm label).
    assert_eq!(as_map(&ours), aws, "(a) {ctx}");
    assert_eq!(ours.measurements.pcr8.is_some(), signed, "{ctx}");

    // (b) the reference reader accepts our EIF: same PCRs, CRC ok, signature verifies.
    let (m, crc, sig) = aws_read(&ours_path);
    assert_eq!(m, aws, "(b) {ctx}");
    assert!(crc, "(b) reference CRC check failed on our EIF: {ctx}");
    assert_eq!(sig, signed.then_some(true), "(b) {ctx}");

    // (c) our reader accepts the reference's EIF: same PCRs, CRC ok, signature verifies.
    let theirs =
        eif_builder::describe_file(&aws_path, None, None).expect("our reader on reference EIF");
    assert_eq!(as_map(&theirs), aws, "(c) {ctx}");
    theirs
        .ensure_valid()
        .expect("(c) reference EIF passes our checks");
    assert_eq!(theirs.signature_ok(), signed.then_some(true), "(c) {ctx}");

    // And our reader on our own EIF agrees with what the build reported.
    let again = eif_builder::describe_file(&ours_path, None, None).expect("our reader on our EIF");
    assert_eq!(again.measurements, ours.measurements, "{ctx}");
    assert_eq!(
        again.to_json(),
        ours.to_json(),
        "build output == describe output: {ctx}"
    );
    again.ensure_valid().expect("our EIF passes our checks");
}

#[test]
fn random_small_images_unsigned_and_signed() {
    let mut rng = Rng(0x5eed_0001);
    let shapes: &[&[usize]] = &[
        &[0],
        &[1],
        &[0, 0],
        &[3, 0, 17],
        &[1000, 70_001],
        &[5, 6, 7, 8, 9],
    ];
    for (i, shape) in shapes.iter().enumerate() {
        for signed in [false, true] {
            let kernel = 1 + rng.below(200_000) as usize;
            let sizes: Vec<usize> = shape
                .iter()
                .map(|&s| {
                    if s > 100 {
                        s + rng.below(5000) as usize
                    } else {
                        s
                    }
                })
                .collect();
            check(1000 + i as u64, kernel, &sizes, signed);
        }
    }
}

#[test]
fn chunk_boundaries_and_many_ramdisks() {
    const MIB: usize = 1 << 20;
    check(7, MIB + 1, &[MIB - 1, MIB, 2 * MIB + 3], false);
    check(8, 3, &[1; 28], false);
    check(9, 3, &[2; 27], true);
}

/// 100+ MiB ramdisks; run with `cargo test --release -- --ignored`.
#[test]
#[ignore = "100+ MiB inputs: run in release mode"]
fn large_ramdisks_unsigned_and_signed() {
    const MIB: usize = 1 << 20;
    check(11, 9 * MIB, &[2 * MIB, 101 * MIB + 7], false);
    check(12, 9 * MIB, &[150 * MIB + 1], true);
    check(13, MIB, &[MIB, 60 * MIB, 50 * MIB + 3], true);
}
