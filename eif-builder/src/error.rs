//! Named errors. [`InvalidEif`] is bad or hostile input; [`Misuse`] is a caller mistake.

use std::path::PathBuf;

use crate::header::SectionType;

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The EIF (or a CPIO archive) being read is malformed or hostile.
    #[error("invalid EIF: {0}")]
    InvalidEif(#[from] InvalidEif),
    /// The caller asked for something impossible (bad build inputs, bad key).
    #[error("invalid request: {0}")]
    Misuse(#[from] Misuse),
    /// Signing or certificate handling failed.
    #[error("signing: {0}")]
    Sign(#[from] SignError),
    /// Reading or writing a file failed.
    #[error("{what} {}: {source}", path.display())]
    Io {
        /// What was being done ("reading", "writing", ...).
        what: &'static str,
        /// The file concerned.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    pub(crate) fn io(
        what: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl Fn(std::io::Error) -> Self {
        let path = path.into();
        move |source| Error::Io {
            what,
            path: path.clone(),
            source,
        }
    }
}

/// A malformed or hostile EIF file.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum InvalidEif {
    /// The file ends before a structure it announces.
    #[error("truncated: need {needed} bytes at offset {offset}, file has {len}")]
    Truncated {
        /// Where the structure starts.
        offset: u64,
        /// How many bytes it needs.
        needed: u64,
        /// The file length.
        len: u64,
    },
    /// The first four bytes are not `.eif`.
    #[error("wrong magic {0:02x?}, expected \".eif\"")]
    BadMagic([u8; 4]),
    /// Header version outside 2..=4.
    #[error("unsupported EIF version {0}")]
    UnsupportedVersion(u16),
    /// `num_sections` is 0 or above 32.
    #[error("absurd section count {0} (must be 1..=32)")]
    SectionCount(u16),
    /// A header slot past `num_sections` is not zero.
    #[error("header slot {0} is past num_sections but not zero")]
    UnusedSlotNotZero(usize),
    /// `section_offsets[i]` does not point where section `i` starts.
    #[error("section {index}: header says offset {declared}, section actually starts at {actual}")]
    OffsetMismatch {
        /// Section index.
        index: usize,
        /// Offset in the EIF header.
        declared: u64,
        /// Where the previous section ends.
        actual: u64,
    },
    /// A section's size runs past the end of the file.
    #[error("section {index}: size {size} at offset {offset} runs past end of file ({len} bytes)")]
    SectionPastEof {
        /// Section index.
        index: usize,
        /// Data offset.
        offset: u64,
        /// Declared data size.
        size: u64,
        /// File length.
        len: u64,
    },
    /// `section_sizes[i]` and the section header disagree.
    #[error("section {index}: EIF header says {declared} bytes, section header says {actual}")]
    SizeMismatch {
        /// Section index.
        index: usize,
        /// Size in the EIF header.
        declared: u64,
        /// Size in the section header.
        actual: u64,
    },
    /// Section type 0 or >= 6.
    #[error("section {index}: unknown section type {value}")]
    UnknownSectionType {
        /// Section index.
        index: usize,
        /// The raw type.
        value: u16,
    },
    /// Section header flags are not zero.
    #[error("section {index}: non-zero section flags {flags:#06x}")]
    SectionFlags {
        /// Section index.
        index: usize,
        /// The flags found.
        flags: u16,
    },
    /// Bytes after the last section.
    #[error("{0} bytes of trailing data after the last section")]
    TrailingData(u64),
    /// A section that must occur exactly once (or at most once) is repeated or missing.
    #[error("section type {kind:?} occurs {count} times")]
    SectionMultiplicity {
        /// The section type.
        kind: SectionType,
        /// How often it occurs.
        count: usize,
    },
    /// Kernel, cmdline and ramdisks are out of order.
    #[error(
        "section {index} ({kind:?}) is out of order: kernel, then cmdline, must precede every ramdisk"
    )]
    SectionOrder {
        /// Section index.
        index: usize,
        /// Its type.
        kind: SectionType,
    },
    /// The kernel section is empty.
    #[error("the kernel section is empty")]
    EmptyKernel,
    /// The image has no ramdisk.
    #[error("the image has no ramdisk section")]
    NoRamdisk,
    /// A signature or metadata section above its size limit.
    #[error("{kind:?} section of {size} bytes exceeds the limit of {limit}")]
    SectionTooLarge {
        /// The section type.
        kind: SectionType,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The metadata section is not the JSON identity document.
    #[error("metadata section is not valid identity JSON: {0}")]
    Metadata(String),
    /// The signature section is not the CBOR nitro-cli writes.
    #[error("signature section: {0}")]
    Signature(String),
    /// The CRC-32 in the header does not match the contents.
    #[error("CRC mismatch: header says {stored:#010x}, contents give {computed:#010x}")]
    CrcMismatch {
        /// CRC in the header.
        stored: u32,
        /// CRC of the file.
        computed: u32,
    },
    /// The file changed while it was being read.
    #[error("file changed while being read")]
    Changed,
    /// A CPIO archive is malformed.
    #[error("cpio: {0}")]
    Cpio(String),
}

/// A caller mistake in build inputs or options.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum Misuse {
    /// The kernel file is empty.
    #[error("the kernel is empty")]
    EmptyKernel,
    /// No ramdisk given.
    #[error("at least one ramdisk is required")]
    NoRamdisk,
    /// More ramdisks than fit in 32 sections.
    #[error("{0} ramdisks do not fit in an EIF (at most {1})")]
    TooManyRamdisks(usize, usize),
    /// The command line contains a NUL byte.
    #[error("the kernel command line contains a NUL byte")]
    CmdlineNul,
    /// An input file changed size while being read.
    #[error("input {} changed while being read", .0.display())]
    InputChanged(PathBuf),
    /// The ramdisk root is unusable.
    #[error("ramdisk tree: {0}")]
    Tree(String),
    /// A file type cpio newc cannot carry.
    #[error("{}: unsupported file type", .0.display())]
    UnsupportedFileType(PathBuf),
    /// A name that does not fit in the manifest.
    #[error("metadata too large: {0} bytes")]
    MetadataTooLarge(usize),
}

/// Signing key / certificate problems.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// The private key is not a PEM P-384 EC key.
    #[error("private key: {0}")]
    Key(String),
    /// The certificate is not a PEM X.509 certificate.
    #[error("certificate: {0}")]
    Certificate(String),
    /// The key does not belong to the certificate.
    #[error("the private key does not match the certificate's public key")]
    KeyCertMismatch,
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
