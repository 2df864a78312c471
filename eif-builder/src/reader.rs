//! EIF reader: validates the layout before touching any data, then streams every section once
//! through the measuring pipeline (PCRs, CRC, optional extraction).

use std::io::{Read, Seek, SeekFrom};

use crate::error::{Error, InvalidEif};
use nitro_pcrs::ImagePcrs;

use crate::hash::Digest48;
use crate::header::{
    CRC_OFFSET, EifHeader, HEADER_SIZE, SECTION_HEADER_SIZE, SectionHeader, SectionType,
};
use crate::measure::{self, Part};
use crate::metadata::{self, METADATA_MAX_SIZE, MetadataInfo};
use crate::sign::{self, SIGNATURE_MAX_SIZE, SignatureReport};

/// One section as laid out in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionInfo {
    /// Position in the header tables.
    pub index: usize,
    /// Section type.
    pub kind: SectionType,
    /// Offset of the section header.
    pub offset: u64,
    /// Data size.
    pub size: u64,
}

impl SectionInfo {
    /// Offset of the section data.
    pub fn data_offset(&self) -> u64 {
        self.offset + SECTION_HEADER_SIZE as u64
    }
}

/// A validated layout: header plus section table; no data read yet.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The decoded header.
    pub header: EifHeader,
    /// Raw header bytes (for the CRC).
    pub header_bytes: [u8; HEADER_SIZE],
    /// Sections in file order.
    pub sections: Vec<SectionInfo>,
    /// File length.
    pub len: u64,
}

impl Layout {
    /// Number of ramdisk sections.
    pub fn ramdisk_count(&self) -> usize {
        self.sections
            .iter()
            .filter(|s| s.kind == SectionType::Ramdisk)
            .count()
    }
}

fn read_exact_at<R: Read + Seek>(
    r: &mut R,
    offset: u64,
    buf: &mut [u8],
    len: u64,
) -> Result<(), Error> {
    let truncated = || InvalidEif::Truncated {
        offset,
        needed: buf.len() as u64,
        len,
    };
    if offset
        .checked_add(buf.len() as u64)
        .is_none_or(|end| end > len)
    {
        return Err(truncated().into());
    }
    r.seek(SeekFrom::Start(offset))
        .map_err(Error::io("seeking in", "EIF"))?;
    r.read_exact(buf).map_err(|e| match e.kind() {
        std::io::ErrorKind::UnexpectedEof => Error::from(InvalidEif::Changed),
        _ => Error::io("reading", "EIF")(e),
    })
}

/// Read and validate the header and every section header (never the data).
pub fn read_layout<R: Read + Seek>(r: &mut R, len: u64) -> Result<Layout, Error> {
    let mut header_bytes = [0u8; HEADER_SIZE];
    read_exact_at(r, 0, &mut header_bytes, len)?;
    let header = EifHeader::decode(&header_bytes)?;
    let mut sections = Vec::with_capacity(usize::from(header.num_sections));
    let mut pos = HEADER_SIZE as u64;
    for index in 0..usize::from(header.num_sections) {
        if header.section_offsets[index] != pos {
            return Err(InvalidEif::OffsetMismatch {
                index,
                declared: header.section_offsets[index],
                actual: pos,
            }
            .into());
        }
        let mut sh = [0u8; SECTION_HEADER_SIZE];
        read_exact_at(r, pos, &mut sh, len)?;
        let sh = SectionHeader::decode(&sh, index)?;
        if sh.size != header.section_sizes[index] {
            return Err(InvalidEif::SizeMismatch {
                index,
                declared: header.section_sizes[index],
                actual: sh.size,
            }
            .into());
        }
        let data = pos + SECTION_HEADER_SIZE as u64;
        let end =
            data.checked_add(sh.size)
                .filter(|&e| e <= len)
                .ok_or(InvalidEif::SectionPastEof {
                    index,
                    offset: data,
                    size: sh.size,
                    len,
                })?;
        let limit = match sh.kind {
            SectionType::Signature => Some(SIGNATURE_MAX_SIZE),
            SectionType::Metadata => Some(METADATA_MAX_SIZE),
            _ => None,
        };
        if let Some(limit) = limit.filter(|&l| sh.size > l) {
            return Err(InvalidEif::SectionTooLarge {
                kind: sh.kind,
                size: sh.size,
                limit,
            }
            .into());
        }
        sections.push(SectionInfo {
            index,
            kind: sh.kind,
            offset: pos,
            size: sh.size,
        });
        pos = end;
    }
    if pos != len {
        return Err(InvalidEif::TrailingData(len - pos).into());
    }
    check_composition(&sections)?;
    Ok(Layout {
        header,
        header_bytes,
        sections,
        len,
    })
}

/// Kernel once, then cmdline once, then ramdisks; at most one signature and one metadata.
fn check_composition(sections: &[SectionInfo]) -> Result<(), InvalidEif> {
    let count = |k| sections.iter().filter(|s| s.kind == k).count();
    for (kind, ok) in [
        (SectionType::Kernel, count(SectionType::Kernel) == 1),
        (SectionType::Cmdline, count(SectionType::Cmdline) == 1),
        (SectionType::Signature, count(SectionType::Signature) <= 1),
        (SectionType::Metadata, count(SectionType::Metadata) <= 1),
    ] {
        if !ok {
            return Err(InvalidEif::SectionMultiplicity {
                kind,
                count: count(kind),
            });
        }
    }
    if count(SectionType::Ramdisk) == 0 {
        return Err(InvalidEif::NoRamdisk);
    }
    let mut seen_kernel = false;
    let mut seen_cmdline = false;
    for s in sections {
        let in_order = match s.kind {
            SectionType::Kernel => !seen_cmdline,
            SectionType::Cmdline => seen_kernel,
            SectionType::Ramdisk => seen_cmdline,
            SectionType::Signature | SectionType::Metadata => true,
        };
        if !in_order {
            return Err(InvalidEif::SectionOrder {
                index: s.index,
                kind: s.kind,
            });
        }
        seen_kernel |= s.kind == SectionType::Kernel;
        seen_cmdline |= s.kind == SectionType::Cmdline;
        if s.kind == SectionType::Kernel && s.size == 0 {
            return Err(InvalidEif::EmptyKernel);
        }
    }
    Ok(())
}

/// `HashAlgorithm` as nitro-cli prints it; see [`nitro_pcrs::HASH_ALGORITHM`].
pub use nitro_pcrs::HASH_ALGORITHM;

/// Everything `describe` reports.
#[derive(Debug, Clone)]
pub struct Description {
    /// Layout (header and sections).
    pub layout: Layout,
    /// PCRs.
    pub measurements: ImagePcrs,
    /// Computed CRC-32.
    pub computed_crc: u32,
    /// Signature section report, if signed.
    pub signature: Option<SignatureReport>,
    /// Metadata section, if present.
    pub metadata: Option<MetadataInfo>,
    /// The kernel command line (lossy UTF-8).
    pub cmdline: String,
    /// SHA-384 of the kernel section data.
    pub kernel_sha384: Digest48,
    /// SHA-384 of each ramdisk section's data.
    pub ramdisk_sha384: Vec<Digest48>,
}

impl Description {
    /// The header CRC matches the contents.
    pub fn crc_ok(&self) -> bool {
        self.layout.header.crc32 == self.computed_crc
    }

    /// The image is signed and its signature verifies for its PCR0.
    pub fn signature_ok(&self) -> Option<bool> {
        self.signature.as_ref().map(|s| s.signature_ok)
    }

    /// Fails on the first check a trustworthy image must pass (CRC, signature).
    pub fn ensure_valid(&self) -> Result<(), InvalidEif> {
        if !self.crc_ok() {
            return Err(InvalidEif::CrcMismatch {
                stored: self.layout.header.crc32,
                computed: self.computed_crc,
            });
        }
        if self.signature_ok() == Some(false) {
            return Err(InvalidEif::Signature(
                "COSE signature does not verify for this PCR0".into(),
            ));
        }
        Ok(())
    }

    /// nitro-cli `describe-eif` JSON, plus `Sections` and `Cmdline`.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::{Value, json};
        let mut o = serde_json::Map::new();
        o.insert("EifVersion".into(), self.layout.header.version.into());
        o.insert("Measurements".into(), self.measurements.to_json());
        o.insert("IsSigned".into(), self.signature.is_some().into());
        if let Some(s) = &self.signature {
            o.insert("SigningCertificate".into(), json!(s.certificate));
        }
        o.insert("CheckCRC".into(), self.crc_ok().into());
        if let Some(ok) = self.signature_ok() {
            o.insert("SignatureCheck".into(), ok.into());
        }
        if let Some(m) = &self.metadata {
            o.insert("ImageName".into(), m.image_name.clone().into());
            o.insert("ImageVersion".into(), m.image_version.clone().into());
            o.insert("Metadata".into(), Value::Object(m.describe.clone()));
        }
        o.insert("Cmdline".into(), self.cmdline.clone().into());
        let mut ramdisks = self.ramdisk_sha384.iter();
        let sections: Vec<Value> = self
            .layout
            .sections
            .iter()
            .map(|s| {
                let digest = match s.kind {
                    SectionType::Kernel => Some(&self.kernel_sha384),
                    SectionType::Ramdisk => ramdisks.next(),
                    _ => None,
                };
                let mut e =
                    json!({"Index": s.index, "Type": s.kind, "Offset": s.offset, "Size": s.size});
                if let (Some(d), Some(map)) = (digest, e.as_object_mut()) {
                    map.insert("Sha384".into(), hex::encode(d).into());
                }
                e
            })
            .collect();
        o.insert("Sections".into(), Value::Array(sections));
        Value::Object(o)
    }
}

/// Receives each section's bytes in file order (for `extract`).
pub trait SectionSink {
    /// A new section starts.
    fn begin(&mut self, section: &SectionInfo, ramdisk_index: Option<usize>) -> Result<(), Error>;
    /// Its next chunk.
    fn data(&mut self, chunk: &[u8]) -> Result<(), Error>;
    /// It ended.
    fn end(&mut self) -> Result<(), Error>;
}

/// Progress callback: bytes processed so far, of `total`.
pub type Progress<'a> = &'a mut dyn FnMut(u64, u64);

/// Read, validate and measure an EIF from `r` (`len` bytes long).
pub fn describe_reader<R: Read + Seek>(
    r: &mut R,
    len: u64,
    mut sink: Option<&mut dyn SectionSink>,
    progress: Option<Progress<'_>>,
) -> Result<Description, Error> {
    let layout = read_layout(r, len)?;
    let mut crc = crc32fast::Hasher::new();
    crc.update(&layout.header_bytes[..CRC_OFFSET]);
    let mut done = HEADER_SIZE as u64;
    let mut progress = progress;
    let mut report = |n: u64| {
        done += n;
        if let Some(p) = progress.as_mut() {
            p(done, len);
        }
    };
    let mut signature = None;
    let mut metadata = None;
    let mut cmdline = Vec::new();
    let (out, ()) = measure::run(layout.ramdisk_count(), |f| {
        r.seek(SeekFrom::Start(HEADER_SIZE as u64))
            .map_err(Error::io("seeking in", "EIF"))?;
        let mut ramdisk = 0;
        for s in &layout.sections {
            let mut sh = [0u8; SECTION_HEADER_SIZE];
            r.read_exact(&mut sh).map_err(|_| InvalidEif::Changed)?;
            if SectionHeader::decode(&sh, s.index)?
                != (SectionHeader {
                    kind: s.kind,
                    size: s.size,
                })
            {
                return Err(InvalidEif::Changed.into());
            }
            crc.update(&sh);
            report(SECTION_HEADER_SIZE as u64);
            let rd = (s.kind == SectionType::Ramdisk).then_some(ramdisk);
            if let Some(k) = sink.as_deref_mut() {
                k.begin(s, rd)?;
            }
            let part = match s.kind {
                SectionType::Kernel => Some(Part::Kernel),
                SectionType::Cmdline => Some(Part::Cmdline),
                SectionType::Ramdisk => Some(Part::Ramdisk(ramdisk)),
                SectionType::Signature | SectionType::Metadata => None,
            };
            let mut keep = Vec::new();
            let mut on_chunk = |c: &[u8]| -> Result<(), Error> {
                crc.update(c);
                report(c.len() as u64);
                if matches!(
                    s.kind,
                    SectionType::Cmdline | SectionType::Signature | SectionType::Metadata
                ) {
                    keep.extend_from_slice(c);
                }
                if let Some(k) = sink.as_deref_mut() {
                    k.data(c)?;
                }
                Ok(())
            };
            match part {
                Some(p) => {
                    f.begin(p);
                    f.feed(
                        r,
                        s.size,
                        &mut on_chunk,
                        &Error::io("reading", "EIF"),
                        &|| InvalidEif::Changed.into(),
                    )?;
                    f.end(p);
                }
                None => {
                    // Bounded by read_layout (signature <= 32 KiB, metadata <= 1 MiB).
                    let mut buf =
                        vec![0u8; usize::try_from(s.size).map_err(|_| InvalidEif::Changed)?];
                    r.read_exact(&mut buf).map_err(|_| InvalidEif::Changed)?;
                    on_chunk(&buf)?;
                }
            }
            if let Some(k) = sink.as_deref_mut() {
                k.end()?;
            }
            match s.kind {
                SectionType::Ramdisk => ramdisk += 1,
                SectionType::Cmdline => cmdline = std::mem::take(&mut keep),
                SectionType::Signature => signature = Some(std::mem::take(&mut keep)),
                SectionType::Metadata => {
                    metadata = Some(metadata::parse(&keep).map_err(InvalidEif::Metadata)?);
                }
                SectionType::Kernel => {}
            }
        }
        Ok(())
    })?;
    let signature = signature
        .map(|s| sign::check_signature_section(&s, &out.pcr0))
        .transpose()?;
    Ok(Description {
        measurements: ImagePcrs {
            pcr0: out.pcr0,
            pcr1: out.pcr1,
            pcr2: out.pcr2,
            pcr8: signature.as_ref().map(|s| s.pcr8),
        },
        layout,
        computed_crc: crc.finalize(),
        signature,
        metadata,
        cmdline: String::from_utf8_lossy(&cmdline).into_owned(),
        kernel_sha384: out.kernel_sha384,
        ramdisk_sha384: out.ramdisk_sha384,
    })
}

/// Describe an in-memory EIF (tests, fuzzing).
pub fn describe_bytes(bytes: &[u8]) -> Result<Description, Error> {
    describe_reader(
        &mut std::io::Cursor::new(bytes),
        bytes.len() as u64,
        None,
        None,
    )
}

/// Describe an EIF file.
pub fn describe_file(
    path: &std::path::Path,
    sink: Option<&mut dyn SectionSink>,
    progress: Option<Progress<'_>>,
) -> Result<Description, Error> {
    let mut f = std::fs::File::open(path).map_err(Error::io("opening", path))?;
    let len = f.metadata().map_err(Error::io("reading", path))?.len();
    describe_reader(&mut f, len, sink, progress)
}
