//! Malformed and hostile EIFs: every one gets a named error (never a panic).

mod common;

use common::{Inputs, Rng};
use eif_builder::header::{EifHeader, HEADER_SIZE, SectionHeader, SectionType};
use eif_builder::{Error, InvalidEif, Misuse};

/// An independent minimal assembler: header + sections in the given order, correct CRC.
fn assemble(sections: &[(SectionType, &[u8])]) -> Vec<u8> {
    let mut h = EifHeader::new(0);
    h.num_sections = sections.len() as u16;
    let mut body = Vec::new();
    for (i, (kind, data)) in sections.iter().enumerate() {
        h.section_offsets[i] = (HEADER_SIZE + body.len()) as u64;
        h.section_sizes[i] = data.len() as u64;
        body.extend_from_slice(
            &SectionHeader {
                kind: *kind,
                size: data.len() as u64,
            }
            .encode(),
        );
        body.extend_from_slice(data);
    }
    let mut crc = crc32fast::Hasher::new();
    crc.update(&h.encode()[..544]);
    crc.update(&body);
    h.crc32 = crc.finalize();
    [h.encode().to_vec(), body].concat()
}

fn invalid(bytes: &[u8]) -> InvalidEif {
    match eif_builder::describe_bytes(bytes) {
        Err(Error::InvalidEif(e)) => e,
        other => panic!("expected InvalidEif, got {other:?}"),
    }
}

fn valid_eif() -> Vec<u8> {
    let inputs = Inputs::new(&mut Rng(42), 4000, &[100, 333], false);
    let (path, _) = inputs.ours("v.eif");
    std::fs::read(path).expect("read")
}

const META: &[u8] = br#"{"ImageName":"x","ImageVersion":"1","BuildMetadata":{"BuildTime":"t","BuildTool":"b","BuildToolVersion":"v","OperatingSystem":"o","KernelVersion":"k"},"DockerInfo":null,"CustomMetadata":null}"#;

#[test]
fn assembled_reference_layout_is_accepted() {
    let eif = assemble(&[
        (SectionType::Kernel, b"kernel"),
        (SectionType::Cmdline, b"console=ttyS0"),
        (SectionType::Metadata, META),
        (SectionType::Ramdisk, b"rd0"),
    ]);
    let d = eif_builder::describe_bytes(&eif).expect("valid");
    d.ensure_valid().expect("crc ok");
    assert_eq!(
        d.measurements.pcr0,
        eif_builder::hash::pcr_of(b"kernelconsole=ttyS0rd0")
    );
    assert_eq!(d.measurements.pcr2, eif_builder::hash::pcr_of(b""));
}

#[test]
fn truncated_files() {
    let eif = valid_eif();
    assert!(matches!(
        invalid(&eif[..100]),
        InvalidEif::Truncated { offset: 0, .. }
    ));
    assert!(matches!(
        invalid(&eif[..HEADER_SIZE + 5]),
        InvalidEif::Truncated { .. }
    ));
    assert!(matches!(
        invalid(&eif[..eif.len() - 1]),
        InvalidEif::SectionPastEof { .. }
    ));
    assert!(matches!(invalid(&[]), InvalidEif::Truncated { .. }));
}

#[test]
fn wrong_magic_version_and_absurd_section_count() {
    let eif = valid_eif();
    let mut b = eif.clone();
    b[..4].copy_from_slice(b"\x7fELF");
    assert_eq!(invalid(&b), InvalidEif::BadMagic(*b"\x7fELF"));
    let mut b = eif.clone();
    b[4..6].copy_from_slice(&7u16.to_be_bytes());
    assert_eq!(invalid(&b), InvalidEif::UnsupportedVersion(7));
    let mut b = eif.clone();
    b[26..28].copy_from_slice(&60_000u16.to_be_bytes());
    assert_eq!(invalid(&b), InvalidEif::SectionCount(60_000));
    let mut b = eif;
    b[26..28].copy_from_slice(&0u16.to_be_bytes());
    assert_eq!(invalid(&b), InvalidEif::SectionCount(0));
}

#[test]
fn bad_crc_is_reported_not_hidden() {
    let mut eif = valid_eif();
    let n = eif.len();
    eif[n - 10] ^= 0x55; // inside the last ramdisk
    let d = eif_builder::describe_bytes(&eif).expect("structurally fine");
    assert!(!d.crc_ok());
    assert!(matches!(
        d.ensure_valid(),
        Err(InvalidEif::CrcMismatch { .. })
    ));
}

#[test]
fn section_size_past_eof_and_mismatched_tables() {
    let eif = valid_eif();
    let h = EifHeader::decode(eif[..HEADER_SIZE].try_into().expect("548")).expect("header");
    let last = usize::from(h.num_sections) - 1;
    let off = h.section_offsets[last] as usize;
    let mut b = eif.clone();
    b[off + 4..off + 12].copy_from_slice(&u64::MAX.to_be_bytes());
    let sz = 28 + 8 * 32 + 8 * last;
    b[sz..sz + 8].copy_from_slice(&u64::MAX.to_be_bytes());
    assert!(matches!(
        invalid(&b),
        InvalidEif::SectionPastEof { size: u64::MAX, .. }
    ));
    let mut b = eif.clone();
    b[sz..sz + 8].copy_from_slice(&1u64.to_be_bytes());
    assert!(matches!(invalid(&b), InvalidEif::SizeMismatch { .. }));
    let mut b = eif.clone();
    b[28 + 8..28 + 16].copy_from_slice(&7u64.to_be_bytes());
    assert!(matches!(
        invalid(&b),
        InvalidEif::OffsetMismatch {
            index: 1,
            declared: 7,
            ..
        }
    ));
    let mut b = eif;
    b.push(0);
    assert_eq!(invalid(&b), InvalidEif::TrailingData(1));
}

#[test]
fn unknown_section_type_and_flags() {
    let eif = valid_eif();
    let mut b = eif.clone();
    b[HEADER_SIZE..HEADER_SIZE + 2].copy_from_slice(&6u16.to_be_bytes());
    assert_eq!(
        invalid(&b),
        InvalidEif::UnknownSectionType { index: 0, value: 6 }
    );
    let mut b = eif.clone();
    b[HEADER_SIZE..HEADER_SIZE + 2].copy_from_slice(&0u16.to_be_bytes());
    assert_eq!(
        invalid(&b),
        InvalidEif::UnknownSectionType { index: 0, value: 0 }
    );
    let mut b = eif;
    b[HEADER_SIZE + 3] = 1;
    assert_eq!(invalid(&b), InvalidEif::SectionFlags { index: 0, flags: 1 });
}

#[test]
fn composition_errors() {
    use SectionType::*;
    assert_eq!(
        invalid(&assemble(&[
            (Kernel, b""),
            (Cmdline, b"c"),
            (Ramdisk, b"r")
        ])),
        InvalidEif::EmptyKernel
    );
    assert_eq!(
        invalid(&assemble(&[(Kernel, b"k"), (Cmdline, b"c")])),
        InvalidEif::NoRamdisk
    );
    assert!(matches!(
        invalid(&assemble(&[
            (Kernel, b"k"),
            (Kernel, b"k"),
            (Cmdline, b"c"),
            (Ramdisk, b"r")
        ])),
        InvalidEif::SectionMultiplicity {
            kind: Kernel,
            count: 2
        }
    ));
    assert!(matches!(
        invalid(&assemble(&[
            (Kernel, b"k"),
            (Ramdisk, b"r"),
            (Cmdline, b"c")
        ])),
        InvalidEif::SectionOrder {
            index: 1,
            kind: Ramdisk
        }
    ));
    assert!(matches!(
        invalid(&assemble(&[
            (Kernel, b"k"),
            (Cmdline, b"c"),
            (Metadata, b"{"),
            (Ramdisk, b"r")
        ])),
        InvalidEif::Metadata(_)
    ));
    assert!(matches!(
        invalid(&assemble(&[
            (Kernel, b"k"),
            (Cmdline, b"c"),
            (Ramdisk, b"r"),
            (Signature, b"\x80")
        ])),
        InvalidEif::Signature(_)
    ));
    let big = vec![0u8; 40_000];
    assert!(matches!(
        invalid(&assemble(&[
            (Kernel, b"k"),
            (Cmdline, b"c"),
            (Ramdisk, b"r"),
            (Signature, &big)
        ])),
        InvalidEif::SectionTooLarge {
            kind: Signature,
            ..
        }
    ));
}

#[test]
fn writer_rejects_bad_requests() {
    let inputs = Inputs::new(&mut Rng(3), 0, &[10], false);
    let out = inputs.dir.path().join("x.eif");
    let err = eif_builder::build(&inputs.spec(), &out, None).expect_err("empty kernel");
    assert!(matches!(err, Error::Misuse(Misuse::EmptyKernel)), "{err}");
    assert!(!out.exists(), "no partial output");
    let inputs = Inputs::new(&mut Rng(3), 10, &[], false);
    assert!(matches!(
        eif_builder::build(&inputs.spec(), &out, None),
        Err(Error::Misuse(Misuse::NoRamdisk))
    ));
    let inputs = Inputs::new(&mut Rng(3), 10, &[1; 30], false);
    assert!(matches!(
        eif_builder::build(&inputs.spec(), &out, None),
        Err(Error::Misuse(Misuse::TooManyRamdisks(30, 29)))
    ));
    let inputs = Inputs::new(&mut Rng(3), 10, &[1], false);
    let mut spec = inputs.spec();
    spec.cmdline.push('\0');
    assert!(matches!(
        eif_builder::build(&spec, &out, None),
        Err(Error::Misuse(Misuse::CmdlineNul))
    ));
    let mut spec = inputs.spec();
    spec.ramdisks.push(inputs.dir.path().join("missing"));
    assert!(matches!(
        eif_builder::build(&spec, &out, None),
        Err(Error::Io { .. })
    ));
}

#[test]
fn random_mutations_never_panic() {
    let eif = valid_eif();
    let mut rng = Rng(0xbad_f00d);
    let (mut ok, mut err) = (0, 0);
    for _ in 0..3000 {
        let mut b = eif.clone();
        match rng.below(3) {
            0 => {
                let i = rng.below(b.len() as u64) as usize;
                b[i] = rng.next() as u8;
            }
            1 => {
                // Header fields: the interesting part.
                let i = rng.below(HEADER_SIZE as u64 + 24) as usize;
                b[i] = rng.next() as u8;
            }
            _ => b.truncate(rng.below(b.len() as u64) as usize),
        }
        match eif_builder::describe_bytes(&b) {
            Ok(d) if d.ensure_valid().is_ok() => ok += 1,
            _ => err += 1,
        }
    }
    // Almost every mutation must be caught (by structure or CRC); unused header bytes such as
    // default_mem are covered by the CRC too.
    assert!(
        err > 2900,
        "only {err} of 3000 mutations rejected ({ok} accepted)"
    );
}
