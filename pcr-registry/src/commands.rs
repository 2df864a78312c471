//! The registry verbs over a connected [`Registry`]: each returns a [`Report`] (exit status plus
//! both renderings) or an [`Error`] (the command could not answer).

use alloy::primitives::B256;
use serde_json::json;

use crate::ExitStatus;
use crate::client::Registry;
use crate::deployment::family_id;
use crate::error::{Error, InputError};
use crate::pcrs::{ImagePcrs, image_id};
use crate::render::{Report, image_human, image_json, is_registered, status_word, table};
use marketplace_bindings::IPcrRegistry::{self, ImageStatus};

/// What `register` publishes, besides the PCRs.
#[derive(Clone, Debug)]
pub struct RegisterConfig {
    /// The PCRs to register.
    pub pcrs: ImagePcrs,
    /// Family name (id = keccak256(name)).
    pub family: String,
    /// Image name (default: the family name).
    pub name: String,
    /// Release version.
    pub version: String,
    /// Source revision (e.g. a git commit).
    pub source_revision: String,
    /// SHA-256 of the EIF (zero when registering from a pcr.json).
    pub eif_sha256: B256,
    /// Where the provenance is published.
    pub provenance_uri: String,
}

/// `register`: refuses debug PCRs locally, then simulates and sends `registerImage`.
pub async fn register(registry: &Registry, config: RegisterConfig) -> Result<Report, Error> {
    if let Some(i) = config.pcrs.debug_pcr() {
        return Err(InputError::DebugPcr(i).into());
    }
    let family = family_id(&config.family);
    let metadata = IPcrRegistry::ImageMetadata {
        name: config.name,
        version: config.version,
        sourceRevision: config.source_revision,
        eifSha256: config.eif_sha256,
        provenanceUri: config.provenance_uri,
    };
    let (id, tx) = registry.register(family, &config.pcrs, metadata).await?;
    debug_assert_eq!(
        id,
        image_id(&config.pcrs),
        "the contract computes the same id"
    );
    Ok(Report {
        status: ExitStatus::Success,
        human: format!(
            "registered image {id} in family {} (tx {tx})\n",
            config.family
        ),
        json: json!({"image_id": id.to_string(), "family": config.family,
                     "family_id": family.to_string(), "tx": tx.to_string()}),
    })
}

/// `revoke`.
pub async fn revoke(registry: &Registry, id: B256, reason: &str) -> Result<Report, Error> {
    let tx = registry.revoke(id, reason).await?;
    Ok(Report {
        status: ExitStatus::Success,
        human: format!("revoked image {id} (tx {tx})\n"),
        json: json!({"image_id": id.to_string(), "revoked": true, "tx": tx.to_string()}),
    })
}

/// `show`: exit 1 when the id was never registered.
pub async fn show(registry: &Registry, id: B256) -> Result<Report, Error> {
    let image = registry.image(id).await?;
    let name = registry.deployment().family_name(image.family);
    if !is_registered(image.status) {
        return Ok(Report {
            status: ExitStatus::Rejected,
            human: format!("image {id} is not registered\n"),
            json: json!({"image_id": id.to_string(), "status": "not-registered"}),
        });
    }
    Ok(Report {
        status: ExitStatus::Success,
        human: image_human(id, &image, name),
        json: image_json(id, &image, name),
    })
}

/// `list`: every image of one family, or of every family in the deployment file.
pub async fn list(registry: &Registry, family: Option<&str>) -> Result<Report, Error> {
    let families: Vec<(String, B256)> = match family {
        Some(name) => vec![(name.to_owned(), family_id(name))],
        None => registry
            .deployment()
            .families
            .iter()
            .map(|f| (f.name.clone(), f.id))
            .collect(),
    };
    let mut rows = Vec::new();
    let mut items = Vec::new();
    for (name, id) in &families {
        for image_id in registry.family_images(*id).await? {
            let image = registry.image(image_id).await?;
            rows.push(vec![
                image_id.to_string(),
                name.clone(),
                status_word(image.status).to_owned(),
                image.metadata.version.clone(),
                image.metadata.sourceRevision.clone(),
            ]);
            items.push(image_json(image_id, &image, Some(name)));
        }
    }
    let human = if rows.is_empty() {
        "no images registered\n".to_owned()
    } else {
        table(
            &["IMAGE_ID", "FAMILY", "STATUS", "VERSION", "SOURCE_REV"],
            &rows,
        )
    };
    Ok(Report {
        status: ExitStatus::Success,
        human,
        json: json!({"images": items}),
    })
}

/// How a set of measured PCRs stands in the registry.
#[derive(Clone, Debug)]
pub struct Lookup {
    /// keccak256(PCR0 ‖ PCR1 ‖ PCR2).
    pub image_id: B256,
    /// What the registry holds under that id.
    pub image: IPcrRegistry::Image,
    /// The family's name, when the deployment file knows it.
    pub family_name: Option<String>,
    /// The registered PCR8 differs from the measured one (or one side lacks it).
    pub pcr8_mismatch: bool,
}

impl Lookup {
    /// The image's lifecycle status.
    pub fn status(&self) -> ImageStatus {
        self.image.status
    }

    /// Live, and PCR8 agrees when the image pins one.
    pub fn is_live_match(&self) -> bool {
        self.status() == ImageStatus::Registered && !self.pcr8_mismatch
    }

    /// Exit status: 0 when live and matching, else 1.
    pub fn exit_status(&self) -> ExitStatus {
        if self.is_live_match() {
            ExitStatus::Success
        } else {
            ExitStatus::Rejected
        }
    }

    /// One line for people.
    pub fn sentence(&self) -> String {
        let family = self
            .family_name
            .clone()
            .unwrap_or_else(|| self.image.family.to_string());
        match self.status() {
            ImageStatus::Registered if self.pcr8_mismatch => format!(
                "image {} is registered in family {family} but its PCR8 (signing certificate) differs",
                self.image_id
            ),
            ImageStatus::Registered => {
                format!(
                    "image {} is registered and live in family {family}",
                    self.image_id
                )
            }
            ImageStatus::Revoked => {
                format!("image {} is REVOKED (family {family})", self.image_id)
            }
            _ => format!("image {} is NOT registered", self.image_id),
        }
    }

    /// The JSON fields.
    pub fn json(&self) -> serde_json::Value {
        let registered = is_registered(self.status());
        json!({
            "image_id": self.image_id.to_string(),
            "status": status_word(self.image.status),
            "registered": registered,
            "revoked": self.status() == ImageStatus::Revoked,
            "family": registered.then(|| self.image.family.to_string()),
            "family_name": self.family_name,
            "pcr8_mismatch": self.pcr8_mismatch,
            "version": registered.then(|| self.image.metadata.version.clone()),
            "source_revision": registered.then(|| self.image.metadata.sourceRevision.clone()),
        })
    }
}

/// Looks measured PCRs up in the registry.
pub async fn lookup(registry: &Registry, pcrs: &ImagePcrs) -> Result<Lookup, Error> {
    let image_id = image_id(pcrs);
    let image = registry.image(image_id).await?;
    let registered_pcr8: &[u8] = &image.pcrs.pcr8;
    let measured_pcr8: &[u8] = pcrs.pcr8.as_ref().map_or(&[], |p| p.as_ref());
    // The registry enforces PCR8 only when it pins one; an unsigned registration accepts any PCR8.
    let pcr8_mismatch = !registered_pcr8.is_empty() && registered_pcr8 != measured_pcr8;
    Ok(Lookup {
        image_id,
        family_name: registry
            .deployment()
            .family_name(image.family)
            .map(str::to_owned),
        image,
        pcr8_mismatch,
    })
}

/// `verify-eif`: exit 0 when the measured image is registered and live.
pub async fn verify_measured(registry: &Registry, pcrs: &ImagePcrs) -> Result<Report, Error> {
    let found = lookup(registry, pcrs).await?;
    let mut value = found.json();
    value["pcrs"] = pcrs.to_json();
    Ok(Report {
        status: found.exit_status(),
        human: format!(
            "{}\nPCR0: {}\nPCR1: {}\nPCR2: {}\n",
            found.sentence(),
            pcrs.pcr0,
            pcrs.pcr1,
            pcrs.pcr2
        ),
        json: value,
    })
}
