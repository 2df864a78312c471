//! `extract`: write each section of an EIF to its own file (`kernel`, `cmdline`, `ramdisk-N`,
//! `metadata.json`, `signature.cbor`) while the image is measured in the same pass.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::header::SectionType;
use crate::reader::{Description, Progress, SectionInfo, SectionSink, describe_file};

struct DirSink {
    dir: PathBuf,
    current: Option<(PathBuf, File)>,
    written: Vec<PathBuf>,
}

impl SectionSink for DirSink {
    fn begin(&mut self, s: &SectionInfo, ramdisk: Option<usize>) -> Result<(), Error> {
        let name = match (s.kind, ramdisk) {
            (SectionType::Kernel, _) => "kernel".to_string(),
            (SectionType::Cmdline, _) => "cmdline".to_string(),
            (SectionType::Ramdisk, Some(i)) => format!("ramdisk-{i}"),
            (SectionType::Ramdisk, None) => format!("ramdisk-at-{}", s.index),
            (SectionType::Metadata, _) => "metadata.json".to_string(),
            (SectionType::Signature, _) => "signature.cbor".to_string(),
        };
        let path = self.dir.join(name);
        let f = File::create(&path).map_err(Error::io("creating", &path))?;
        self.current = Some((path, f));
        Ok(())
    }

    fn data(&mut self, chunk: &[u8]) -> Result<(), Error> {
        if let Some((p, f)) = self.current.as_mut() {
            f.write_all(chunk)
                .map_err(Error::io("writing", p.clone()))?;
        }
        Ok(())
    }

    fn end(&mut self) -> Result<(), Error> {
        if let Some((p, f)) = self.current.take() {
            drop(f);
            self.written.push(p);
        }
        Ok(())
    }
}

/// Extract `eif` into `dir` (created if missing). Returns the description and the files written.
/// Files are written even if the CRC turns out wrong; check [`Description::ensure_valid`].
pub fn extract(
    eif: &Path,
    dir: &Path,
    progress: Option<Progress<'_>>,
) -> Result<(Description, Vec<PathBuf>), Error> {
    std::fs::create_dir_all(dir).map_err(Error::io("creating", dir))?;
    let mut sink = DirSink {
        dir: dir.to_owned(),
        current: None,
        written: Vec::new(),
    };
    let d = describe_file(eif, Some(&mut sink), progress)?;
    Ok((d, sink.written))
}
