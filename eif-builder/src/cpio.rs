//! Deterministic cpio **newc** archives (the initramfs format) and a strict reader.
//!
//! From a directory tree: entries sorted by path bytes (parents before children), no `.` entry,
//! mtime fixed, uid/gid 0, modes normalised (directories 0755; regular files 0755 if the owner may
//! execute, else 0644; symlinks 0777; device nodes and FIFOs keep their permission bits, without
//! setuid/setgid/sticky), inode numbers assigned in order, hard links sharing one inode with
//! the data on the last link (GNU cpio's convention, which the kernel also accepts), and the
//! `TRAILER!!!` entry. File contents are streamed, never held whole.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use crate::error::{Error, InvalidEif, Misuse};

const MAGIC: &[u8; 6] = b"070701";
const TRAILER: &[u8] = b"TRAILER!!!";
const S_IFDIR: u32 = 0o040_000;
const S_IFREG: u32 = 0o100_000;
const S_IFLNK: u32 = 0o120_000;
const S_IFCHR: u32 = 0o020_000;
const S_IFBLK: u32 = 0o060_000;
const S_IFIFO: u32 = 0o010_000;
const S_IFMT: u32 = 0o170_000;

/// Where an entry's data comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Data {
    /// No data (directories, devices, FIFOs, non-final hard links).
    None,
    /// A file, streamed at write time; it must still be `len` bytes long.
    File(PathBuf, u64),
    /// Literal bytes (symlink targets).
    Bytes(Vec<u8>),
}

impl Data {
    fn len(&self) -> u64 {
        match self {
            Data::None => 0,
            Data::File(_, n) => *n,
            Data::Bytes(b) => b.len() as u64,
        }
    }
}

/// One archive member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Path inside the archive, relative, no leading `./`.
    pub name: Vec<u8>,
    /// Full `st_mode` (type and permission bits).
    pub mode: u32,
    /// Inode number (hard links share one).
    pub ino: u32,
    /// Link count.
    pub nlink: u32,
    /// Device numbers for character/block devices.
    pub rdev: (u32, u32),
    /// Contents.
    pub data: Data,
}

fn perm(mode: u32, kind: u32) -> u32 {
    match kind {
        S_IFDIR => S_IFDIR | 0o755,
        S_IFREG if mode & 0o100 != 0 => S_IFREG | 0o755,
        S_IFREG => S_IFREG | 0o644,
        S_IFLNK => S_IFLNK | 0o777,
        _ => kind | (mode & 0o777),
    }
}

fn dev_major(rdev: u64) -> u32 {
    (((rdev >> 32) & 0xffff_f000) | ((rdev >> 8) & 0xfff)) as u32
}
fn dev_minor(rdev: u64) -> u32 {
    (((rdev >> 12) & 0xffff_ff00) | (rdev & 0xff)) as u32
}

/// Walk `root` and return its entries, normalised and sorted, ready for [`write_entries`].
pub fn collect_tree(root: &Path) -> Result<Vec<Entry>, Error> {
    let meta = std::fs::symlink_metadata(root).map_err(Error::io("reading", root))?;
    if !meta.is_dir() {
        return Err(Misuse::Tree(format!("{} is not a directory", root.display())).into());
    }
    let mut raw: Vec<(Vec<u8>, std::fs::Metadata, PathBuf)> = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let rd = std::fs::read_dir(&dir).map_err(Error::io("listing", &dir))?;
        for e in rd {
            let e = e.map_err(Error::io("listing", &dir))?;
            let path = e.path();
            let m = std::fs::symlink_metadata(&path).map_err(Error::io("reading", &path))?;
            let rel = path
                .strip_prefix(root)
                .map_err(|_| Misuse::Tree("path outside root".into()))?;
            if m.is_dir() {
                stack.push(path.clone());
            }
            raw.push((rel.as_os_str().as_bytes().to_vec(), m, path));
        }
    }
    raw.sort_by(|a, b| a.0.cmp(&b.0));

    // Hard-link groups among regular files: (dev, ino) -> positions in sorted order.
    let mut groups: BTreeMap<(u64, u64), Vec<usize>> = BTreeMap::new();
    for (i, (_, m, _)) in raw.iter().enumerate() {
        if m.file_type().is_file() && m.nlink() > 1 {
            groups.entry((m.dev(), m.ino())).or_default().push(i);
        }
    }
    let mut subdirs: BTreeMap<Vec<u8>, u32> = BTreeMap::new();
    for (name, m, _) in &raw {
        if m.is_dir() {
            let parent = name
                .rsplit_once_byte(b'/')
                .map(|(p, _)| p.to_vec())
                .unwrap_or_default();
            *subdirs.entry(parent).or_default() += 1;
        }
    }

    let mut entries = Vec::with_capacity(raw.len());
    let mut ino_of_group: BTreeMap<(u64, u64), u32> = BTreeMap::new();
    let mut next_ino = 1u32;
    for (i, (name, m, path)) in raw.into_iter().enumerate() {
        let ft = m.file_type();
        let kind = if ft.is_dir() {
            S_IFDIR
        } else if ft.is_file() {
            S_IFREG
        } else if ft.is_symlink() {
            S_IFLNK
        } else if ft.is_char_device() {
            S_IFCHR
        } else if ft.is_block_device() {
            S_IFBLK
        } else if ft.is_fifo() {
            S_IFIFO
        } else {
            return Err(Misuse::UnsupportedFileType(path).into());
        };
        let group = groups.get(&(m.dev(), m.ino())).filter(|_| kind == S_IFREG);
        let ino = match group {
            Some(_) => *ino_of_group.entry((m.dev(), m.ino())).or_insert_with(|| {
                next_ino += 1;
                next_ino - 1
            }),
            None => {
                next_ino += 1;
                next_ino - 1
            }
        };
        let (nlink, data) = match kind {
            S_IFDIR => (2 + subdirs.get(&name).copied().unwrap_or(0), Data::None),
            S_IFREG => match group {
                Some(g) if g.last() != Some(&i) => (g.len() as u32, Data::None),
                Some(g) => (g.len() as u32, Data::File(path.clone(), m.len())),
                None => (1, Data::File(path.clone(), m.len())),
            },
            S_IFLNK => {
                let t = std::fs::read_link(&path).map_err(Error::io("reading link", &path))?;
                (1, Data::Bytes(t.as_os_str().as_bytes().to_vec()))
            }
            _ => (1, Data::None),
        };
        let rdev = if kind == S_IFCHR || kind == S_IFBLK {
            (dev_major(m.rdev()), dev_minor(m.rdev()))
        } else {
            (0, 0)
        };
        entries.push(Entry {
            name,
            mode: perm(m.mode(), kind),
            ino,
            nlink,
            rdev,
            data,
        });
    }
    Ok(entries)
}

trait RsplitByte {
    fn rsplit_once_byte(&self, b: u8) -> Option<(&[u8], &[u8])>;
}
impl RsplitByte for Vec<u8> {
    fn rsplit_once_byte(&self, b: u8) -> Option<(&[u8], &[u8])> {
        let i = self.iter().rposition(|&c| c == b)?;
        Some((&self[..i], &self[i + 1..]))
    }
}

fn pad4(n: u64) -> usize {
    ((4 - (n % 4)) % 4) as usize
}

fn header(e: &Entry, mtime: u32, size: u32) -> Vec<u8> {
    let mut h = Vec::with_capacity(110 + e.name.len() + 4);
    h.extend_from_slice(MAGIC);
    let fields = [
        e.ino,
        e.mode,
        0, // uid
        0, // gid
        e.nlink,
        mtime,
        size,
        0, // devmajor
        0, // devminor
        e.rdev.0,
        e.rdev.1,
        e.name.len() as u32 + 1,
        0, // check
    ];
    for f in fields {
        h.extend_from_slice(format!("{f:08x}").as_bytes());
    }
    h.extend_from_slice(&e.name);
    h.push(0);
    h.resize(h.len() + pad4(h.len() as u64), 0);
    h
}

/// Size limits of newc: 32-bit sizes and times.
fn checked_u32(v: u64, what: &str) -> Result<u32, Error> {
    u32::try_from(v).map_err(|_| Misuse::Tree(format!("{what} {v} does not fit cpio newc")).into())
}

/// Write `entries` and the trailer to `out`. Returns bytes written.
pub fn write_entries(entries: &[Entry], mtime: u64, out: &mut dyn Write) -> Result<u64, Error> {
    let mtime = checked_u32(mtime, "mtime")?;
    let werr = |e| Error::io("writing", "cpio archive")(e);
    let mut total = 0u64;
    let mut buf = vec![0u8; 1 << 20];
    for e in entries {
        if e.name.is_empty() || e.name.contains(&0) || e.name.len() > 4095 {
            return Err(Misuse::Tree(format!(
                "bad entry name {:?}",
                String::from_utf8_lossy(&e.name)
            ))
            .into());
        }
        let len = e.data.len();
        let h = header(e, mtime, checked_u32(len, "file size")?);
        out.write_all(&h).map_err(werr)?;
        total += h.len() as u64;
        match &e.data {
            Data::None => {}
            Data::Bytes(b) => out.write_all(b).map_err(werr)?,
            Data::File(path, n) => {
                let mut f = File::open(path).map_err(Error::io("opening", path))?;
                let mut left = *n;
                while left > 0 {
                    let want = usize::try_from(left).map_or(buf.len(), |l| l.min(buf.len()));
                    let got = f
                        .read(&mut buf[..want])
                        .map_err(Error::io("reading", path))?;
                    if got == 0 {
                        return Err(Misuse::InputChanged(path.clone()).into());
                    }
                    out.write_all(&buf[..got]).map_err(werr)?;
                    left -= got as u64;
                }
                if f.read(&mut buf[..1]).map_err(Error::io("reading", path))? != 0 {
                    return Err(Misuse::InputChanged(path.clone()).into());
                }
            }
        }
        let p = pad4(len);
        out.write_all(&[0u8; 3][..p]).map_err(werr)?;
        total += len + p as u64;
    }
    let trailer = Entry {
        name: TRAILER.to_vec(),
        mode: 0,
        ino: 0,
        nlink: 1,
        rdev: (0, 0),
        data: Data::None,
    };
    let h = header(&trailer, 0, 0);
    out.write_all(&h).map_err(werr)?;
    Ok(total + h.len() as u64)
}

/// Archive the tree at `root` into `out` with every mtime set to `mtime`.
pub fn write_tree(root: &Path, mtime: u64, out: &mut dyn Write) -> Result<u64, Error> {
    let entries = collect_tree(root)?;
    write_entries(&entries, mtime, out)
}

/// Archive the tree at `root` into the file `output`, written beside it and renamed into place, so
/// a failed run never leaves a partial archive under the final name.
pub fn write_tree_file(root: &Path, mtime: u64, output: &Path) -> Result<u64, Error> {
    let entries = collect_tree(root)?;
    let dir = output
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = tempfile::NamedTempFile::new_in(dir).map_err(Error::io("creating a file in", dir))?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, tmp.as_file());
    let n = write_entries(&entries, mtime, &mut w)?;
    w.into_inner()
        .map_err(|e| Error::io("writing", output)(e.into_error()))?;
    tmp.persist(output)
        .map_err(|e| Error::io("renaming into", output)(e.error))?;
    Ok(n)
}

/// An entry as read back from an archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadEntry {
    /// Name.
    pub name: Vec<u8>,
    /// Inode.
    pub ino: u32,
    /// Mode.
    pub mode: u32,
    /// uid.
    pub uid: u32,
    /// gid.
    pub gid: u32,
    /// Links.
    pub nlink: u32,
    /// mtime.
    pub mtime: u32,
    /// rdev major/minor.
    pub rdev: (u32, u32),
    /// Contents.
    pub data: Vec<u8>,
}

impl ReadEntry {
    /// File type bits.
    pub fn kind(&self) -> u32 {
        self.mode & S_IFMT
    }
}

fn cpio_err(msg: impl Into<String>) -> Error {
    InvalidEif::Cpio(msg.into()).into()
}

/// Parse a newc archive strictly: magic and hex on every header, names NUL-terminated, data in
/// bounds, a `TRAILER!!!`, and only zero padding after it.
pub fn read_archive(bytes: &[u8]) -> Result<Vec<ReadEntry>, Error> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    loop {
        let h = bytes
            .get(pos..pos + 110)
            .ok_or_else(|| cpio_err(format!("truncated header at {pos}")))?;
        if &h[..6] != MAGIC {
            return Err(cpio_err(format!("bad magic at {pos}")));
        }
        let mut f = [0u32; 13];
        for (i, v) in f.iter_mut().enumerate() {
            let s = std::str::from_utf8(&h[6 + 8 * i..14 + 8 * i])
                .map_err(|_| cpio_err("non-ASCII header"))?;
            *v = u32::from_str_radix(s, 16)
                .map_err(|_| cpio_err(format!("bad hex field at {pos}")))?;
        }
        let (namesize, filesize) = (f[11] as usize, f[6] as usize);
        let name_start = pos + 110;
        let name = bytes
            .get(name_start..name_start.saturating_add(namesize))
            .ok_or_else(|| cpio_err("truncated name"))?;
        let (last, name) = name.split_last().ok_or_else(|| cpio_err("empty name"))?;
        if *last != 0 || name.contains(&0) {
            return Err(cpio_err("name not NUL-terminated"));
        }
        let data_start = name_start + namesize + pad4((110 + namesize) as u64);
        let data = bytes
            .get(data_start..data_start.saturating_add(filesize))
            .ok_or_else(|| cpio_err("data past end"))?;
        pos = data_start + filesize + pad4(filesize as u64);
        if name == TRAILER {
            let rest = bytes.get(pos.min(bytes.len())..).unwrap_or_default();
            if rest.iter().any(|&b| b != 0) {
                return Err(cpio_err("data after trailer"));
            }
            return Ok(out);
        }
        out.push(ReadEntry {
            name: name.to_vec(),
            ino: f[0],
            mode: f[1],
            uid: f[2],
            gid: f[3],
            nlink: f[4],
            mtime: f[5],
            rdev: (f[9], f[10]),
            data: data.to_vec(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn tree() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        let p = d.path();
        std::fs::create_dir_all(p.join("bin")).unwrap();
        std::fs::create_dir_all(p.join("a-b")).unwrap();
        std::fs::write(p.join("bin/sh"), b"#!/bin/sh\n").unwrap();
        std::fs::set_permissions(p.join("bin/sh"), std::fs::Permissions::from_mode(0o700)).unwrap();
        std::fs::write(p.join("data"), vec![7u8; 5]).unwrap();
        std::fs::set_permissions(p.join("data"), std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::hard_link(p.join("data"), p.join("a-b/link")).unwrap();
        std::os::unix::fs::symlink("bin/sh", p.join("init")).unwrap();
        d
    }

    #[test]
    fn archive_is_sorted_normalised_and_links_shared() {
        let d = tree();
        let mut out = Vec::new();
        write_tree(d.path(), 1234, &mut out).unwrap();
        let entries = read_archive(&out).unwrap();
        let names: Vec<_> = entries
            .iter()
            .map(|e| String::from_utf8_lossy(&e.name).into_owned())
            .collect();
        assert_eq!(names, ["a-b", "a-b/link", "bin", "bin/sh", "data", "init"]);
        for e in &entries {
            assert_eq!((e.uid, e.gid, e.mtime), (0, 0, 1234));
        }
        assert_eq!(entries[0].mode, 0o040755);
        assert_eq!(entries[3].mode, 0o100755);
        assert_eq!(entries[4].mode, 0o100644);
        assert_eq!(entries[5].mode, 0o120777);
        assert_eq!(entries[5].data, b"bin/sh");
        // Hard link: same inode, nlink 2, data only on the last (sorted) link.
        assert_eq!(entries[1].ino, entries[4].ino);
        assert_eq!((entries[1].nlink, entries[4].nlink), (2, 2));
        assert!(entries[1].data.is_empty());
        assert_eq!(entries[4].data, vec![7u8; 5]);
        // Distinct inodes otherwise.
        assert_ne!(entries[0].ino, entries[2].ino);
        assert!(out.len() % 4 == 0);
        assert!(out.windows(10).any(|w| w == TRAILER));
    }

    #[test]
    fn same_tree_in_another_place_gives_identical_bytes() {
        let (a, b) = (tree(), tree());
        let (mut x, mut y) = (Vec::new(), Vec::new());
        write_tree(a.path(), 0, &mut x).unwrap();
        write_tree(b.path(), 0, &mut y).unwrap();
        assert_eq!(x, y);
    }

    #[test]
    fn device_nodes_carry_rdev() {
        let e = Entry {
            name: b"dev/console".to_vec(),
            mode: S_IFCHR | 0o600,
            ino: 1,
            nlink: 1,
            rdev: (5, 1),
            data: Data::None,
        };
        let mut out = Vec::new();
        write_entries(&[e], 0, &mut out).unwrap();
        let r = read_archive(&out).unwrap();
        assert_eq!(
            (r[0].kind(), r[0].rdev, r[0].mode & 0o777),
            (S_IFCHR, (5, 1), 0o600)
        );
        assert_eq!(dev_major(0x0000_0000_0000_0501), 5);
        assert_eq!(dev_minor(0x0000_0000_0000_0501), 1);
    }

    #[test]
    #[allow(clippy::print_stderr)]
    fn matches_gnu_cpio_listing_when_available() {
        let Ok(out) = std::process::Command::new("cpio").arg("--version").output() else {
            eprintln!("SKIPPED: cpio not installed");
            return;
        };
        assert!(out.status.success());
        let d = tree();
        let out_dir = tempfile::tempdir().unwrap();
        let arch = out_dir.path().join("x.cpio");
        let mut f = File::create(&arch).unwrap();
        write_tree(d.path(), 0, &mut f).unwrap();
        let o = std::process::Command::new("cpio")
            .args(["-it", "--quiet", "-F"])
            .arg(&arch)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert_eq!(
            String::from_utf8_lossy(&o.stdout),
            "a-b\na-b/link\nbin\nbin/sh\ndata\ninit\n"
        );
    }

    #[test]
    fn reader_rejects_garbage() {
        let mut good = Vec::new();
        write_entries(&[], 0, &mut good).unwrap();
        assert!(read_archive(&good).unwrap().is_empty());
        assert!(read_archive(&good[..50]).is_err());
        let mut bad = good.clone();
        bad[0] = b'1';
        assert!(read_archive(&bad).is_err());
        let mut trailing = good.clone();
        trailing.extend_from_slice(b"xx");
        assert!(read_archive(&trailing).is_err());
        let mut hex = good;
        hex[7] = b'g';
        assert!(read_archive(&hex).is_err());
    }
}
