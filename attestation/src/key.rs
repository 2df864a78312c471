//! The enclave key bound by a document's `public_key`: an uncompressed secp256k1 point and the
//! Ethereum address derived from it (`keccak256(x ‖ y)[12..]`).

use k256::EncodedPoint;
use k256::elliptic_curve::sec1::FromEncodedPoint;
use sha3::{Digest, Keccak256};

use crate::error::PolicyError;

/// Length of an uncompressed SEC1 secp256k1 point.
pub const SECP256K1_UNCOMPRESSED_LEN: usize = 65;

/// A validated secp256k1 public key and its Ethereum address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnclaveKey {
    public_key: [u8; SECP256K1_UNCOMPRESSED_LEN],
    address: [u8; 20],
}

impl EnclaveKey {
    /// Accepts exactly 65 bytes `0x04 ‖ x ‖ y` naming a point on secp256k1.
    pub fn from_public_key(bytes: &[u8]) -> Result<Self, PolicyError> {
        let public_key: [u8; SECP256K1_UNCOMPRESSED_LEN] = bytes
            .try_into()
            .map_err(|_| PolicyError::PublicKeyLength(bytes.len()))?;
        if public_key[0] != 0x04 {
            return Err(PolicyError::PublicKeyPrefix(public_key[0]));
        }
        let encoded =
            EncodedPoint::from_bytes(public_key).map_err(|_| PolicyError::PublicKeyNotOnCurve)?;
        if bool::from(k256::AffinePoint::from_encoded_point(&encoded).is_none()) {
            return Err(PolicyError::PublicKeyNotOnCurve);
        }
        let hash = Keccak256::digest(&public_key[1..]);
        let mut address = [0u8; 20];
        address.copy_from_slice(&hash[12..]);
        Ok(EnclaveKey {
            public_key,
            address,
        })
    }

    /// The 65-byte uncompressed key.
    pub fn public_key(&self) -> &[u8; SECP256K1_UNCOMPRESSED_LEN] {
        &self.public_key
    }

    /// The Ethereum address of the key.
    pub fn address(&self) -> [u8; 20] {
        self.address
    }

    /// `0x`-prefixed lower-case hex address.
    pub fn address_hex(&self) -> String {
        format!("0x{}", hex::encode(self.address))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// secp256k1 generator G; its address is the well-known address of private key 1.
    const G: &str = "0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8";

    #[test]
    fn generator_address() {
        let key = EnclaveKey::from_public_key(&hex::decode(G).unwrap()).unwrap();
        assert_eq!(
            key.address_hex(),
            "0x7e5f4552091a69125d5dfcb7b8c2659029395bdf"
        );
    }

    #[test]
    fn rejects_bad_keys() {
        let g = hex::decode(G).unwrap();
        assert_eq!(
            EnclaveKey::from_public_key(&g[..64]),
            Err(PolicyError::PublicKeyLength(64))
        );
        let mut compressed_prefix = g.clone();
        compressed_prefix[0] = 0x02;
        assert_eq!(
            EnclaveKey::from_public_key(&compressed_prefix),
            Err(PolicyError::PublicKeyPrefix(0x02))
        );
        let mut off_curve = g;
        off_curve[64] ^= 1;
        assert_eq!(
            EnclaveKey::from_public_key(&off_curve),
            Err(PolicyError::PublicKeyNotOnCurve)
        );
    }
}
