//! EIF header (548 bytes) and section header (12 bytes) codecs. All integers big-endian.

use crate::error::InvalidEif;

/// `.eif`
pub const EIF_MAGIC: [u8; 4] = *b".eif";
/// Size of the EIF header.
pub const HEADER_SIZE: usize = 548;
/// Size of a section header.
pub const SECTION_HEADER_SIZE: usize = 12;
/// Slots in the header's offset/size tables.
pub const MAX_SECTIONS: usize = 32;
/// The version this crate writes (signature + metadata sections exist).
pub const CURRENT_VERSION: u16 = 4;
/// Offset of the CRC field; the CRC covers every byte of the file except `[544, 548)`.
pub const CRC_OFFSET: usize = 544;
/// nitro-cli's `default_mem` (unused by the hypervisor).
pub const DEFAULT_MEM: u64 = 1 << 30;
/// nitro-cli's `default_cpus` (unused by the hypervisor).
pub const DEFAULT_CPUS: u64 = 2;

/// Section types (`EifSectionType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[repr(u16)]
pub enum SectionType {
    /// Linux kernel image (bzImage / Image).
    Kernel = 1,
    /// Kernel command line, no NUL terminator.
    Cmdline = 2,
    /// cpio(.gz) ramdisk.
    Ramdisk = 3,
    /// CBOR PCR0 signature + PEM certificate.
    Signature = 4,
    /// JSON identity / provenance document (not measured).
    Metadata = 5,
}

impl SectionType {
    /// Decode a raw type; 0 and >= 6 are rejected.
    pub fn from_u16(value: u16) -> Option<Self> {
        Some(match value {
            1 => Self::Kernel,
            2 => Self::Cmdline,
            3 => Self::Ramdisk,
            4 => Self::Signature,
            5 => Self::Metadata,
            _ => return None,
        })
    }
}

/// The 548-byte EIF header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EifHeader {
    /// Format version (2..=4 accepted, 4 written).
    pub version: u16,
    /// Bit 0: aarch64.
    pub flags: u16,
    /// Unused by the hypervisor.
    pub default_mem: u64,
    /// Unused by the hypervisor.
    pub default_cpus: u64,
    /// Reserved, zero.
    pub reserved: u16,
    /// Number of sections.
    pub num_sections: u16,
    /// Absolute offset of each section header.
    pub section_offsets: [u64; MAX_SECTIONS],
    /// Data size of each section (without its 12-byte header).
    pub section_sizes: [u64; MAX_SECTIONS],
    /// Reserved, zero.
    pub unused: u32,
    /// CRC-32 (zlib) of the file without this field.
    pub crc32: u32,
}

impl EifHeader {
    /// A header with nitro-cli's defaults and no sections.
    pub fn new(flags: u16) -> Self {
        Self {
            version: CURRENT_VERSION,
            flags,
            default_mem: DEFAULT_MEM,
            default_cpus: DEFAULT_CPUS,
            reserved: 0,
            num_sections: 0,
            section_offsets: [0; MAX_SECTIONS],
            section_sizes: [0; MAX_SECTIONS],
            unused: 0,
            crc32: 0,
        }
    }

    /// Big-endian encoding.
    pub fn encode(&self) -> [u8; HEADER_SIZE] {
        let mut b = [0u8; HEADER_SIZE];
        b[0..4].copy_from_slice(&EIF_MAGIC);
        b[4..6].copy_from_slice(&self.version.to_be_bytes());
        b[6..8].copy_from_slice(&self.flags.to_be_bytes());
        b[8..16].copy_from_slice(&self.default_mem.to_be_bytes());
        b[16..24].copy_from_slice(&self.default_cpus.to_be_bytes());
        b[24..26].copy_from_slice(&self.reserved.to_be_bytes());
        b[26..28].copy_from_slice(&self.num_sections.to_be_bytes());
        for i in 0..MAX_SECTIONS {
            let o = 28 + 8 * i;
            b[o..o + 8].copy_from_slice(&self.section_offsets[i].to_be_bytes());
            let s = 28 + 8 * MAX_SECTIONS + 8 * i;
            b[s..s + 8].copy_from_slice(&self.section_sizes[i].to_be_bytes());
        }
        b[540..544].copy_from_slice(&self.unused.to_be_bytes());
        b[544..548].copy_from_slice(&self.crc32.to_be_bytes());
        b
    }

    /// Decode and check the fields that need no other context: magic, version, section count,
    /// and that table slots past `num_sections` are zero.
    pub fn decode(b: &[u8; HEADER_SIZE]) -> Result<Self, InvalidEif> {
        let magic: [u8; 4] = [b[0], b[1], b[2], b[3]];
        if magic != EIF_MAGIC {
            return Err(InvalidEif::BadMagic(magic));
        }
        let u16_at = |o: usize| u16::from_be_bytes([b[o], b[o + 1]]);
        let u32_at = |o: usize| u32::from_be_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
        let u64_at = |o: usize| {
            let mut a = [0u8; 8];
            a.copy_from_slice(&b[o..o + 8]);
            u64::from_be_bytes(a)
        };
        let version = u16_at(4);
        if !(2..=CURRENT_VERSION).contains(&version) {
            return Err(InvalidEif::UnsupportedVersion(version));
        }
        let num_sections = u16_at(26);
        if num_sections == 0 || usize::from(num_sections) > MAX_SECTIONS {
            return Err(InvalidEif::SectionCount(num_sections));
        }
        let mut section_offsets = [0u64; MAX_SECTIONS];
        let mut section_sizes = [0u64; MAX_SECTIONS];
        for i in 0..MAX_SECTIONS {
            section_offsets[i] = u64_at(28 + 8 * i);
            section_sizes[i] = u64_at(28 + 8 * MAX_SECTIONS + 8 * i);
            if i >= usize::from(num_sections) && (section_offsets[i] != 0 || section_sizes[i] != 0)
            {
                return Err(InvalidEif::UnusedSlotNotZero(i));
            }
        }
        Ok(Self {
            version,
            flags: u16_at(6),
            default_mem: u64_at(8),
            default_cpus: u64_at(16),
            reserved: u16_at(24),
            num_sections,
            section_offsets,
            section_sizes,
            unused: u32_at(540),
            crc32: u32_at(544),
        })
    }
}

/// The 12-byte header in front of each section's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SectionHeader {
    /// Section type.
    pub kind: SectionType,
    /// Data size in bytes.
    pub size: u64,
}

impl SectionHeader {
    /// Big-endian encoding (flags always 0).
    pub fn encode(&self) -> [u8; SECTION_HEADER_SIZE] {
        let mut b = [0u8; SECTION_HEADER_SIZE];
        b[0..2].copy_from_slice(&(self.kind as u16).to_be_bytes());
        b[4..12].copy_from_slice(&self.size.to_be_bytes());
        b
    }

    /// Decode section `index`'s header; unknown types and non-zero flags are rejected.
    pub fn decode(b: &[u8; SECTION_HEADER_SIZE], index: usize) -> Result<Self, InvalidEif> {
        let value = u16::from_be_bytes([b[0], b[1]]);
        let kind =
            SectionType::from_u16(value).ok_or(InvalidEif::UnknownSectionType { index, value })?;
        let flags = u16::from_be_bytes([b[2], b[3]]);
        if flags != 0 {
            return Err(InvalidEif::SectionFlags { index, flags });
        }
        let mut s = [0u8; 8];
        s.copy_from_slice(&b[4..12]);
        Ok(Self {
            kind,
            size: u64::from_be_bytes(s),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips_and_places_fields() {
        let mut h = EifHeader::new(1);
        h.num_sections = 2;
        h.section_offsets[0] = 548;
        h.section_offsets[1] = 0x0102_0304_0506_0708;
        h.section_sizes[1] = 9;
        h.crc32 = 0xdead_beef;
        let b = h.encode();
        assert_eq!(&b[0..4], b".eif");
        assert_eq!(&b[4..6], &[0, 4]);
        assert_eq!(&b[6..8], &[0, 1]);
        assert_eq!(&b[26..28], &[0, 2]);
        assert_eq!(&b[36..44], &[1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(&b[544..548], &[0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(EifHeader::decode(&b).unwrap(), h);
    }

    #[test]
    fn header_rejects_magic_version_count_and_stray_slots() {
        let mut h = EifHeader::new(0);
        h.num_sections = 1;
        let good = h.encode();
        let mut b = good;
        b[0] = b'x';
        assert!(matches!(
            EifHeader::decode(&b),
            Err(InvalidEif::BadMagic(_))
        ));
        let mut b = good;
        b[5] = 9;
        assert_eq!(
            EifHeader::decode(&b),
            Err(InvalidEif::UnsupportedVersion(9))
        );
        let mut b = good;
        b[26..28].copy_from_slice(&33u16.to_be_bytes());
        assert_eq!(EifHeader::decode(&b), Err(InvalidEif::SectionCount(33)));
        let mut b = good;
        b[28 + 8 * 5 + 7] = 1;
        assert_eq!(EifHeader::decode(&b), Err(InvalidEif::UnusedSlotNotZero(5)));
    }

    #[test]
    fn section_header_rejects_unknown_type_and_flags() {
        let sh = SectionHeader {
            kind: SectionType::Metadata,
            size: 77,
        };
        let b = sh.encode();
        assert_eq!(SectionHeader::decode(&b, 0).unwrap(), sh);
        let mut b2 = b;
        b2[1] = 6;
        assert_eq!(
            SectionHeader::decode(&b2, 3),
            Err(InvalidEif::UnknownSectionType { index: 3, value: 6 })
        );
        let mut b3 = b;
        b3[3] = 1;
        assert_eq!(
            SectionHeader::decode(&b3, 0),
            Err(InvalidEif::SectionFlags { index: 0, flags: 1 })
        );
    }
}
