//! EIF writer. One pass: every input byte is read once and, on the way to the output, feeds the
//! CRC and the PCR chains. Section order is nitro-cli's (kernel, cmdline, metadata, ramdisks,
//! signature); the metadata section holds digests only known at the end, so a placeholder of the
//! same length is written first and overwritten, and the CRC is assembled from per-region CRCs.
//! The writing and the CRC run on their own thread, beside the reading and the two hash chains.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Misuse};
use crate::header::{
    CRC_OFFSET, EifHeader, HEADER_SIZE, MAX_SECTIONS, SECTION_HEADER_SIZE, SectionHeader,
    SectionType,
};
use crate::measure::{self, Part};
use crate::metadata::{self, ImageIdentity, METADATA_MAX_SIZE, Measured, Provenance};
use nitro_pcrs::ImagePcrs;

use crate::reader::{Description, Layout, Progress, SectionInfo};
use crate::sign::{self, Signer};

/// Everything that goes into an image.
#[derive(Debug)]
pub struct BuildSpec {
    /// Kernel image file.
    pub kernel: PathBuf,
    /// Kernel command line (no NUL).
    pub cmdline: String,
    /// Ramdisk files: the first is the boot ramdisk (PCR1), the rest the application (PCR2).
    pub ramdisks: Vec<PathBuf>,
    /// Sign PCR0 and record PCR8.
    pub signer: Option<Signer>,
    /// `ImageName` / `ImageVersion`.
    pub identity: ImageIdentity,
    /// Recorded in the metadata section.
    pub provenance: Provenance,
    /// Header flags (bit 0: aarch64).
    pub flags: u16,
}

struct Input {
    path: PathBuf,
    file: File,
    len: u64,
}

fn open(path: &Path) -> Result<Input, Error> {
    let file = File::open(path).map_err(Error::io("opening", path))?;
    let len = file.metadata().map_err(Error::io("reading", path))?.len();
    Ok(Input {
        path: path.to_owned(),
        file,
        len,
    })
}

/// Build `spec` into `out` (written to a temporary file beside it, renamed at the end).
pub fn build(
    spec: &BuildSpec,
    out: &Path,
    progress: Option<Progress<'_>>,
) -> Result<Description, Error> {
    if spec.cmdline.contains('\0') {
        return Err(Misuse::CmdlineNul.into());
    }
    let max_ramdisks = MAX_SECTIONS - 3 - usize::from(spec.signer.is_some());
    if spec.ramdisks.is_empty() {
        return Err(Misuse::NoRamdisk.into());
    }
    if spec.ramdisks.len() > max_ramdisks {
        return Err(Misuse::TooManyRamdisks(spec.ramdisks.len(), max_ramdisks).into());
    }
    let mut kernel = open(&spec.kernel)?;
    if kernel.len == 0 {
        return Err(Misuse::EmptyKernel.into());
    }
    let mut ramdisks = spec
        .ramdisks
        .iter()
        .map(|p| open(p))
        .collect::<Result<Vec<_>, _>>()?;
    let cmdline = spec.cmdline.as_bytes();

    let placeholder = metadata::encode(
        &spec.identity,
        &spec.provenance,
        &Measured {
            kernel: (kernel.len, [0; 48]),
            cmdline: &spec.cmdline,
            ramdisks: ramdisks.iter().map(|r| (r.len, [0; 48])).collect(),
        },
    );
    if placeholder.len() as u64 > METADATA_MAX_SIZE {
        return Err(Misuse::MetadataTooLarge(placeholder.len()).into());
    }

    // Layout of everything but the signature (its size is known only after signing).
    let mut sections = Vec::new();
    let mut pos = HEADER_SIZE as u64;
    let mut push = |kind, size: u64| {
        sections.push(SectionInfo {
            index: sections.len(),
            kind,
            offset: pos,
            size,
        });
        pos += SECTION_HEADER_SIZE as u64 + size;
    };
    push(SectionType::Kernel, kernel.len);
    push(SectionType::Cmdline, cmdline.len() as u64);
    push(SectionType::Metadata, placeholder.len() as u64);
    for r in &ramdisks {
        push(SectionType::Ramdisk, r.len);
    }
    let metadata_data_offset = sections[2].data_offset();
    let total = pos;

    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = tempfile::NamedTempFile::new_in(dir).map_err(Error::io("creating a file in", dir))?;
    let mut file = tmp
        .as_file()
        .try_clone()
        .map_err(Error::io("opening", tmp.path()))?;
    let tmp_path = tmp.path().to_owned();
    let werr = || Error::io("writing", tmp_path.clone());
    file.write_all(&[0u8; HEADER_SIZE]).map_err(werr())?;

    // The output thread CRCs everything it writes except the metadata section, whose digests are
    // only known at the end: `crc_pre` before it, `crc_post` after it.
    let mut crc_pre = crc32fast::Hasher::new();
    let mut crc_post = crc32fast::Hasher::new();
    let metadata_region = sections[2].offset..metadata_data_offset + placeholder.len() as u64;
    let mut pos = HEADER_SIZE as u64;
    let write = |bytes: &[u8]| -> Result<(), Error> {
        file.write_all(bytes).map_err(werr())?;
        let end = pos + bytes.len() as u64;
        for (range, crc) in [
            (pos..end.min(metadata_region.start), &mut crc_pre),
            (pos.max(metadata_region.end)..end, &mut crc_post),
        ] {
            if range.start < range.end {
                // In bounds: both ends lie within pos..end, and bytes.len() fits usize.
                crc.update(&bytes[(range.start - pos) as usize..(range.end - pos) as usize]);
            }
        }
        pos = end;
        Ok(())
    };

    let mut done = HEADER_SIZE as u64;
    let mut progress = progress;
    let (out_m, ()) = measure::run_with_output(ramdisks.len(), write, |f| {
        let mut feed = |f: &mut measure::Feeder,
                        part: Part,
                        kind: SectionType,
                        src: &mut dyn Read,
                        len: u64,
                        path: &Path|
         -> Result<(), Error> {
            f.emit(&SectionHeader { kind, size: len }.encode())?;
            f.begin(part);
            let mut sink = |c: &[u8]| -> Result<(), Error> {
                done += c.len() as u64;
                if let Some(p) = progress.as_mut() {
                    p(done, total);
                }
                Ok(())
            };
            let changed = || Error::from(Misuse::InputChanged(path.to_owned()));
            f.feed(src, len, &mut sink, &Error::io("reading", path), &changed)?;
            f.end(part);
            Ok(())
        };
        let kpath = kernel.path.clone();
        feed(
            f,
            Part::Kernel,
            SectionType::Kernel,
            &mut kernel.file,
            kernel.len,
            &kpath,
        )?;
        ensure_at_eof(&mut kernel)?;
        let mut c: &[u8] = cmdline;
        feed(
            f,
            Part::Cmdline,
            SectionType::Cmdline,
            &mut c,
            cmdline.len() as u64,
            Path::new("cmdline"),
        )?;
        // Placeholder metadata; overwritten below and CRC'd separately.
        let sh = SectionHeader {
            kind: SectionType::Metadata,
            size: placeholder.len() as u64,
        };
        f.emit(&sh.encode())?;
        f.emit(&placeholder)?;
        for (i, r) in ramdisks.iter_mut().enumerate() {
            let path = r.path.clone();
            feed(
                f,
                Part::Ramdisk(i),
                SectionType::Ramdisk,
                &mut r.file,
                r.len,
                &path,
            )?;
            ensure_at_eof(r)?;
        }
        Ok(())
    })?;

    // Metadata with the real digests: same length by construction (digests are fixed-width hex).
    let meta = metadata::encode(
        &spec.identity,
        &spec.provenance,
        &Measured {
            kernel: (kernel.len, out_m.kernel_sha384),
            cmdline: &spec.cmdline,
            ramdisks: ramdisks
                .iter()
                .zip(&out_m.ramdisk_sha384)
                .map(|(r, d)| (r.len, *d))
                .collect(),
        },
    );
    assert_eq!(
        meta.len(),
        placeholder.len(),
        "metadata length is independent of digest values"
    );

    let signature = spec
        .signer
        .as_ref()
        .map(|s| s.signature_section(&out_m.pcr0));
    if let Some(sig) = &signature {
        sections.push(SectionInfo {
            index: sections.len(),
            kind: SectionType::Signature,
            offset: total,
            size: sig.len() as u64,
        });
        let sh = SectionHeader {
            kind: SectionType::Signature,
            size: sig.len() as u64,
        }
        .encode();
        crc_post.update(&sh);
        crc_post.update(sig);
        file.write_all(&sh).map_err(werr())?;
        file.write_all(sig).map_err(werr())?;
    }

    let mut header = EifHeader::new(spec.flags);
    header.num_sections = sections.len() as u16;
    for s in &sections {
        header.section_offsets[s.index] = s.offset;
        header.section_sizes[s.index] = s.size;
    }
    let mut crc = crc32fast::Hasher::new();
    crc.update(&header.encode()[..CRC_OFFSET]);
    crc.combine(&crc_pre);
    let mut crc_meta = crc32fast::Hasher::new();
    crc_meta.update(
        &SectionHeader {
            kind: SectionType::Metadata,
            size: meta.len() as u64,
        }
        .encode(),
    );
    crc_meta.update(&meta);
    crc.combine(&crc_meta);
    crc.combine(&crc_post);
    header.crc32 = crc.finalize();
    let header_bytes = header.encode();

    file.seek(SeekFrom::Start(metadata_data_offset))
        .map_err(werr())?;
    file.write_all(&meta).map_err(werr())?;
    file.seek(SeekFrom::Start(0)).map_err(werr())?;
    file.write_all(&header_bytes).map_err(werr())?;
    drop(file);
    tmp.persist(out)
        .map_err(|e| Error::io("renaming into", out)(e.error))?;

    let len = total
        + signature
            .as_ref()
            .map_or(0, |s| (SECTION_HEADER_SIZE + s.len()) as u64);
    let signature = signature
        .map(|s| sign::check_signature_section(&s, &out_m.pcr0))
        .transpose()?;
    Ok(Description {
        measurements: ImagePcrs {
            pcr0: out_m.pcr0,
            pcr1: out_m.pcr1,
            pcr2: out_m.pcr2,
            pcr8: signature.as_ref().map(|s| s.pcr8),
        },
        computed_crc: header.crc32,
        layout: Layout {
            header,
            header_bytes,
            sections,
            len,
        },
        signature,
        metadata: Some(metadata::parse(&meta).map_err(crate::error::InvalidEif::Metadata)?),
        cmdline: spec.cmdline.clone(),
        kernel_sha384: out_m.kernel_sha384,
        ramdisk_sha384: out_m.ramdisk_sha384,
    })
}

/// The input must not have grown since it was measured.
fn ensure_at_eof(input: &mut Input) -> Result<(), Error> {
    let mut b = [0u8; 1];
    match input
        .file
        .read(&mut b)
        .map_err(Error::io("reading", &input.path))?
    {
        0 => Ok(()),
        _ => Err(Misuse::InputChanged(input.path.clone()).into()),
    }
}
