//! SHA-384 (OpenSSL's assembly: the fastest here) and the PCR extend rule ([`Pcr`] itself is
//! `nitro-pcrs`'s).

pub use nitro_pcrs::Pcr;

/// A SHA-384 digest or PCR value.
pub type Digest48 = [u8; 48];

/// Streaming SHA-384. `Clone` snapshots the state (PCR1 is a prefix of PCR0's chain).
#[derive(Clone)]
pub struct Sha384(openssl::sha::Sha384);

impl Default for Sha384 {
    fn default() -> Self {
        Self::new()
    }
}

impl Sha384 {
    /// A fresh state.
    pub fn new() -> Self {
        Self(openssl::sha::Sha384::new())
    }
    /// Feed bytes.
    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }
    /// The digest.
    pub fn finish(self) -> Digest48 {
        self.0.finish()
    }
}

/// One-shot SHA-384.
pub fn sha384(data: &[u8]) -> Digest48 {
    openssl::sha::sha384(data)
}

/// The PCR of a zeroed register extended once with `content_digest` (the SHA-384 of the measured
/// bytes): `SHA-384(0^48 ‖ content_digest)`.
pub fn pcr_of_digest(content_digest: &Digest48) -> Pcr {
    let mut h = Sha384::new();
    h.update(&[0u8; 48]);
    h.update(content_digest);
    Pcr::new(h.finish())
}

/// The PCR of `content` measured in one go.
pub fn pcr_of(content: &[u8]) -> Pcr {
    pcr_of_digest(&sha384(content))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::Digest as _;

    #[test]
    fn pcr_extend_matches_an_independent_sha384() {
        for content in [&b""[..], b"abc", &[7u8; 300_000][..]] {
            let inner = sha2::Sha384::digest(content);
            let mut outer = sha2::Sha384::new();
            outer.update([0u8; 48]);
            outer.update(inner);
            assert_eq!(
                pcr_of(content).as_bytes().as_slice(),
                outer.finalize().as_slice()
            );
        }
    }

    #[test]
    fn cloned_state_is_a_prefix_snapshot() {
        let mut h = Sha384::new();
        h.update(b"kernel");
        let snap = h.clone();
        h.update(b"more");
        assert_eq!(snap.finish(), sha384(b"kernel"));
        assert_eq!(h.finish(), sha384(b"kernelmore"));
    }
}
