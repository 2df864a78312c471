//! Shared fixtures: random inputs, builds with this crate and with the reference implementation
//! (aws-nitro-enclaves-image-format 0.8), and the reference reader.
#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use aws_nitro_enclaves_image_format::defs::{EifBuildInfo, EifIdentityInfo};
use aws_nitro_enclaves_image_format::utils::EifBuilder;
use aws_nitro_enclaves_image_format::utils::eif_reader::EifReader;
use aws_nitro_enclaves_image_format::utils::eif_signer::SignKeyData;
use eif_builder::{BuildSpec, Description, ImageIdentity, Provenance, Signer};
use sha2::Digest as _;

/// xorshift64*: reproducible pseudo-random bytes without a dependency.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut v = Vec::with_capacity(n + 8);
        while v.len() < n {
            v.extend_from_slice(&self.next().to_le_bytes());
        }
        v.truncate(n);
        v
    }
}

/// Inputs written to a directory.
pub struct Inputs {
    pub dir: tempfile::TempDir,
    pub kernel: PathBuf,
    pub cmdline: String,
    pub ramdisks: Vec<PathBuf>,
    /// (cert.pem, key.pem) when signing.
    pub identity: Option<(PathBuf, PathBuf)>,
}

impl Inputs {
    pub fn new(rng: &mut Rng, kernel_len: usize, ramdisk_lens: &[usize], signed: bool) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let kernel = dir.path().join("bzImage");
        std::fs::write(&kernel, rng.bytes(kernel_len)).expect("write kernel");
        let ramdisks = ramdisk_lens
            .iter()
            .enumerate()
            .map(|(i, &n)| {
                let p = dir.path().join(format!("rd{i}.cpio"));
                std::fs::write(&p, rng.bytes(n)).expect("write ramdisk");
                p
            })
            .collect();
        let cmdline = format!("console=ttyS0 reboot=k panic=30 seed={}", rng.next());
        let identity = signed.then(|| {
            let (cert, key) =
                eif_builder::sign::dev_identity("crosscheck", 1_700_000_000, 2_000_000_000)
                    .expect("dev identity");
            let (c, k) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
            std::fs::write(&c, cert).expect("write cert");
            std::fs::write(&k, key).expect("write key");
            (c, k)
        });
        Self {
            dir,
            kernel,
            cmdline,
            ramdisks,
            identity,
        }
    }

    pub fn spec(&self) -> BuildSpec {
        let signer = self.identity.as_ref().map(|(c, k)| {
            Signer::from_pem(
                &std::fs::read(c).expect("cert"),
                &std::fs::read(k).expect("key"),
            )
            .expect("signer")
        });
        BuildSpec {
            kernel: self.kernel.clone(),
            cmdline: self.cmdline.clone(),
            ramdisks: self.ramdisks.clone(),
            signer,
            identity: ImageIdentity {
                name: "crosscheck".into(),
                version: "1.0".into(),
            },
            provenance: Provenance {
                source_date_epoch: Some(1_700_000_000),
                ..Provenance::default()
            },
            flags: 0,
        }
    }

    /// Build with this crate.
    pub fn ours(&self, name: &str) -> (PathBuf, Description) {
        let out = self.dir.path().join(name);
        let d = eif_builder::build(&self.spec(), &out, None).expect("our build");
        (out, d)
    }

    /// Build with the reference implementation; returns its measurements.
    pub fn aws(&self, name: &str) -> (PathBuf, BTreeMap<String, String>) {
        let out = self.dir.path().join(name);
        let sign = self.identity.as_ref().map(|(c, k)| {
            SignKeyData::new(k.to_str().expect("utf-8 path"), c).expect("reference sign key")
        });
        let info = EifIdentityInfo {
            img_name: "ref".into(),
            img_version: "1".into(),
            build_info: EifBuildInfo {
                build_time: "1970-01-01T00:00:00Z".into(),
                build_tool: "ref".into(),
                build_tool_version: "0".into(),
                img_os: "Linux".into(),
                img_kernel: "0".into(),
            },
            docker_info: serde_json::Value::Null,
            custom_info: serde_json::Value::Null,
        };
        let mut b = EifBuilder::new(
            &self.kernel,
            self.cmdline.clone(),
            sign,
            sha2::Sha384::new(),
            0,
            info,
        );
        for r in &self.ramdisks {
            b.add_ramdisk(r);
        }
        let mut f = std::fs::File::create(&out).expect("create");
        let m = b.write_to(&mut f);
        (out, m)
    }
}

/// The reference reader's view: measurements, CRC check, and signature check when signed.
pub fn aws_read(path: &Path) -> (BTreeMap<String, String>, bool, Option<bool>) {
    let mut r = EifReader::from_eif(path.to_str().expect("utf-8 path").to_owned())
        .expect("reference reader");
    let m = r.get_measurements().expect("reference measurements");
    let crc = r.check_crc();
    let sign = if m.contains_key("PCR8") {
        r.get_certificate_info(m.clone())
            .expect("reference certificate info");
        r.sign_check
    } else {
        None
    };
    (m, crc, sign)
}

/// Our measurements in the reference's map shape.
pub fn as_map(d: &Description) -> BTreeMap<String, String> {
    let v = d.measurements.to_json();
    v.as_object()
        .expect("object")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().expect("string").to_owned()))
        .collect()
}

pub fn sha256_file(p: &Path) -> String {
    hex_encode(&sha2::Sha256::digest(std::fs::read(p).expect("read")))
}

fn hex_encode(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
