//! `verify-attestation --offline`: signature, certificate chain to the pinned root, and policy,
//! without any chain access.

use nitro_attestation::{
    Error, FixedClock, Pcr, Policy, TrustedRoot, VerifiedDocument, Verifier, decode_input,
    peek_timestamp,
};
use std::sync::Arc;

/// Which time the certificates and freshness are checked at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    /// The system clock.
    System,
    /// The document's own (unauthenticated) timestamp: for archived documents whose short-lived
    /// certificates have expired. Freshness then always holds; authenticity is still checked.
    DocumentTime,
    /// A given instant, ms since the epoch.
    At(u64),
}

/// Everything `verify-attestation --offline` needs, free of command-line types.
#[derive(Clone, Debug)]
pub struct OfflineConfig {
    /// Trusted root (the AWS root unless a dev root was explicitly configured).
    pub root: TrustedRoot,
    /// Verification time.
    pub clock: Clock,
    /// Acceptance rules.
    pub policy: Policy,
}

/// The answer.
#[derive(Debug)]
pub enum Outcome {
    /// The document verified.
    Verified {
        /// The typed document.
        document: Box<VerifiedDocument>,
        /// The time it was verified at, ms.
        at_ms: u64,
    },
    /// The document was rejected.
    Rejected {
        /// Why.
        error: Error,
        /// The time it was checked at, if one was chosen.
        at_ms: Option<u64>,
    },
}

/// Verifies `input` (raw COSE or base64 text).
pub fn verify_offline(input: &[u8], config: &OfflineConfig) -> Outcome {
    let rejected = |error: Error, at_ms| Outcome::Rejected { error, at_ms };
    let bytes = match decode_input(input) {
        Ok(b) => b,
        Err(e) => return rejected(e.into(), None),
    };
    let verifier = Verifier::new(config.root.clone(), config.policy.clone()).with_cache_capacity(0);
    let at_ms = match config.clock {
        Clock::At(ms) => ms,
        Clock::System => nitro_attestation::Clock::now_ms(&nitro_attestation::SystemClock),
        Clock::DocumentTime => match peek_timestamp(&bytes) {
            Ok(ts) => ts,
            Err(e) => return rejected(e, None),
        },
    };
    let verifier = verifier.with_clock(Arc::new(FixedClock(at_ms)));
    match verifier.verify(&bytes) {
        Ok(document) => Outcome::Verified {
            document: Box::new(document),
            at_ms,
        },
        Err(error) => rejected(error, Some(at_ms)),
    }
}

/// Parses `INDEX=HEX` (96 hex digits) into a PCR requirement.
pub fn parse_pcr_requirement(s: &str) -> Result<(u8, Pcr), String> {
    let (index, value) = s
        .split_once('=')
        .ok_or_else(|| format!("expected INDEX=HEX, got `{s}`"))?;
    let index: u8 = index
        .trim()
        .parse()
        .map_err(|_| format!("PCR index `{index}` is not a number"))?;
    if index >= 32 {
        return Err(format!("PCR index {index} out of range 0..32"));
    }
    let pcr: Pcr = value
        .trim()
        .parse()
        .map_err(|e| format!("PCR{index} value: {e}"))?;
    Ok((index, pcr))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcr_requirement() {
        let (i, v) = parse_pcr_requirement(&format!("2={}", "ab".repeat(48))).unwrap();
        assert_eq!((i, v), (2, Pcr::new([0xab; 48])));
        assert!(
            parse_pcr_requirement("2=abcd")
                .unwrap_err()
                .contains("2 bytes")
        );
        assert!(parse_pcr_requirement("x=00").is_err());
        assert!(parse_pcr_requirement(&format!("32={}", "00".repeat(48))).is_err());
        assert!(parse_pcr_requirement("nothing").is_err());
    }

    #[test]
    fn garbage_is_rejected_not_an_error() {
        let config = OfflineConfig {
            root: TrustedRoot::aws_nitro_g1(),
            clock: Clock::DocumentTime,
            policy: Policy::default(),
        };
        match verify_offline(b"%% not a document %%", &config) {
            Outcome::Rejected { error, .. } => assert_eq!(error.code(), "malformed.base64"),
            Outcome::Verified { .. } => panic!("garbage verified"),
        }
    }
}
