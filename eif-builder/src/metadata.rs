//! The metadata section: nitro-cli's identity JSON (`EifIdentityInfo`, so every EIF reader
//! accepts it) carrying our provenance manifest under `CustomMetadata`. It is never measured, and
//! it is deterministic: key order is fixed, input paths are not recorded, and the build time is
//! `SOURCE_DATE_EPOCH` (or the epoch), never the wall clock.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::hash::Digest48;

/// Largest metadata section we write or read.
pub const METADATA_MAX_SIZE: u64 = 1 << 20;

/// Name and version shown by `describe` (`ImageName`, `ImageVersion`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageIdentity {
    /// Image name.
    pub name: String,
    /// Image version.
    pub version: String,
}

impl Default for ImageIdentity {
    fn default() -> Self {
        Self {
            name: "enclave".into(),
            version: "0.0.0".into(),
        }
    }
}

/// Where the image came from; recorded, never measured.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Provenance {
    /// Source revision (e.g. a git commit).
    pub source_revision: Option<String>,
    /// SHA-384 of the Cargo.lock the image was built from.
    pub cargo_lock_sha384: Option<Digest48>,
    /// Toolchain name → version (rustc, cargo, linux, …).
    pub toolchains: BTreeMap<String, String>,
    /// Kernel version string (`KernelVersion`).
    pub kernel_version: Option<String>,
    /// `SOURCE_DATE_EPOCH`, seconds; gives `BuildTime`.
    pub source_date_epoch: Option<u64>,
    /// Why this image must not be registered (built from other toolchains than the pinned
    /// ones); `None` for a registrable build.
    pub unregistrable: Option<String>,
}

#[derive(Serialize)]
struct Identity<'a> {
    #[serde(rename = "ImageName")]
    name: &'a str,
    #[serde(rename = "ImageVersion")]
    version: &'a str,
    #[serde(rename = "BuildMetadata")]
    build: BuildInfo<'a>,
    #[serde(rename = "DockerInfo")]
    docker: Option<()>,
    #[serde(rename = "CustomMetadata")]
    custom: Custom<'a>,
}

#[derive(Serialize)]
struct BuildInfo<'a> {
    #[serde(rename = "BuildTime")]
    time: String,
    #[serde(rename = "BuildTool")]
    tool: &'static str,
    #[serde(rename = "BuildToolVersion")]
    tool_version: &'static str,
    #[serde(rename = "OperatingSystem")]
    os: &'static str,
    #[serde(rename = "KernelVersion")]
    kernel: &'a str,
}

#[derive(Serialize)]
struct Custom<'a> {
    #[serde(rename = "Provenance")]
    provenance: Manifest<'a>,
}

#[derive(Serialize)]
struct Manifest<'a> {
    #[serde(rename = "SourceRevision")]
    source_revision: Option<&'a str>,
    #[serde(rename = "CargoLockSha384")]
    cargo_lock: Option<String>,
    #[serde(rename = "Toolchains")]
    toolchains: &'a BTreeMap<String, String>,
    #[serde(rename = "Kernel")]
    kernel: Blob,
    #[serde(rename = "Cmdline")]
    cmdline: &'a str,
    #[serde(rename = "Ramdisks")]
    ramdisks: Vec<Blob>,
    #[serde(rename = "Unregistrable", skip_serializing_if = "Option::is_none")]
    unregistrable: Option<&'a str>,
}

#[derive(Serialize)]
struct Blob {
    #[serde(rename = "Size")]
    size: u64,
    #[serde(rename = "Sha384")]
    sha384: String,
}

/// Sizes and digests of the measured inputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Measured<'a> {
    pub(crate) kernel: (u64, Digest48),
    pub(crate) cmdline: &'a str,
    pub(crate) ramdisks: Vec<(u64, Digest48)>,
}

/// The metadata section bytes (compact JSON). Its length depends only on the sizes, names and
/// options, never on digest values, so a placeholder can be written first and replaced in place.
pub(crate) fn encode(id: &ImageIdentity, prov: &Provenance, m: &Measured<'_>) -> Vec<u8> {
    let blob = |(size, d): &(u64, Digest48)| Blob {
        size: *size,
        sha384: hex::encode(d),
    };
    let doc = Identity {
        name: &id.name,
        version: &id.version,
        build: BuildInfo {
            time: rfc3339(prov.source_date_epoch.unwrap_or(0)),
            tool: env!("CARGO_PKG_NAME"),
            tool_version: env!("CARGO_PKG_VERSION"),
            os: "Linux",
            kernel: prov.kernel_version.as_deref().unwrap_or("unknown"),
        },
        docker: None,
        custom: Custom {
            provenance: Manifest {
                source_revision: prov.source_revision.as_deref(),
                cargo_lock: prov.cargo_lock_sha384.map(hex::encode),
                toolchains: &prov.toolchains,
                kernel: blob(&m.kernel),
                cmdline: m.cmdline,
                ramdisks: m.ramdisks.iter().map(blob).collect(),
                unregistrable: prov.unregistrable.as_deref(),
            },
        },
    };
    // Serialising plain structs and strings to a Vec cannot fail.
    serde_json::to_vec(&doc).expect("JSON encoding of plain data is infallible")
}

/// `YYYY-MM-DDTHH:MM:SSZ` for a Unix time (proleptic Gregorian, UTC).
pub fn rfc3339(secs: u64) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days, for days since 1970-01-01 (non-negative here).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The fields `describe` shows from a metadata section (nitro-cli's `MetadataDescribeInfo`:
/// the build info, `DockerInfo`, and `CustomMetadata`'s keys flattened in).
#[derive(Debug, Clone, PartialEq)]
pub struct MetadataInfo {
    /// `ImageName`.
    pub image_name: String,
    /// `ImageVersion`.
    pub image_version: String,
    /// The `Metadata` object as nitro-cli prints it.
    pub describe: serde_json::Map<String, serde_json::Value>,
    /// The whole document as stored.
    pub raw: serde_json::Value,
}

/// Parse a metadata section; it must have the `EifIdentityInfo` shape every reader expects.
pub fn parse(bytes: &[u8]) -> Result<MetadataInfo, String> {
    use serde_json::Value;
    let raw: Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    let obj = raw.as_object().ok_or("not a JSON object")?;
    let text = |o: &serde_json::Map<String, Value>, k: &str| -> Result<String, String> {
        o.get(k)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| format!("missing string {k}"))
    };
    let build = obj
        .get("BuildMetadata")
        .and_then(Value::as_object)
        .ok_or("missing BuildMetadata")?;
    let mut describe = serde_json::Map::new();
    for k in [
        "BuildTime",
        "BuildTool",
        "BuildToolVersion",
        "OperatingSystem",
        "KernelVersion",
    ] {
        describe.insert(k.into(), Value::String(text(build, k)?));
    }
    let docker = obj.get("DockerInfo").ok_or("missing DockerInfo")?;
    describe.insert("DockerInfo".into(), docker.clone());
    match obj.get("CustomMetadata") {
        Some(Value::Object(custom)) => {
            for (k, v) in custom {
                describe.insert(k.clone(), v.clone());
            }
        }
        Some(Value::Null) => {}
        Some(_) => return Err("CustomMetadata is not an object".into()),
        None => return Err("missing CustomMetadata".into()),
    }
    Ok(MetadataInfo {
        image_name: text(obj, "ImageName")?,
        image_version: text(obj, "ImageVersion")?,
        describe,
        raw,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_known_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(4_102_444_799), "2099-12-31T23:59:59Z");
    }

    #[test]
    fn length_does_not_depend_on_digests_and_parse_round_trips() {
        let id = ImageIdentity {
            name: "n\"x".into(),
            version: "1".into(),
        };
        let prov = Provenance {
            source_revision: Some("abc".into()),
            toolchains: [("rustc".to_string(), "1.95.0".to_string())].into(),
            source_date_epoch: Some(1_700_000_000),
            ..Provenance::default()
        };
        let m0 = Measured {
            kernel: (5, [0; 48]),
            cmdline: "a=b",
            ramdisks: vec![(1, [0; 48])],
        };
        let m1 = Measured {
            kernel: (5, [0xff; 48]),
            cmdline: "a=b",
            ramdisks: vec![(1, [0x3c; 48])],
        };
        let (a, b) = (encode(&id, &prov, &m0), encode(&id, &prov, &m1));
        assert_eq!(a.len(), b.len());
        assert_ne!(a, b);
        let info = parse(&b).unwrap();
        assert_eq!(info.image_name, "n\"x");
        assert_eq!(info.describe["BuildTime"], "2023-11-14T22:13:20Z");
        assert_eq!(
            info.describe["Provenance"]["Ramdisks"][0]["Sha384"],
            hex::encode([0x3c; 48])
        );
        assert!(parse(b"{}").is_err());
        assert!(parse(b"[1]").is_err());
    }
}
