// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

/// @title EnclaveKeys
/// @notice Ethereum address of an enclave's secp256k1 public key as carried in a Nitro attestation.
library EnclaveKeys {
    /// @notice Length of an uncompressed SEC1 public key: `0x04 ‖ x (32) ‖ y (32)`.
    uint256 internal constant UNCOMPRESSED_LENGTH = 65;

    /// @notice Returns the Ethereum address of an uncompressed secp256k1 key, or `ok = false` if `publicKey`
    /// is not 65 bytes starting with `0x04`.
    /// @dev address = last 20 bytes of keccak256(x ‖ y). A 65-byte value that is not a curve point yields an
    /// address no one can sign for (ecrecover only returns points on the curve), so it grants nothing.
    /// @param publicKey The key bytes.
    /// @return ok Whether the form is valid.
    /// @return key The address (zero when `ok` is false).
    function toAddress(bytes memory publicKey) internal pure returns (bool ok, address key) {
        if (publicKey.length != UNCOMPRESSED_LENGTH || publicKey[0] != 0x04) return (false, address(0));
        bytes32 digest;
        // Hashes the 64 bytes after the 0x04 prefix: they start at publicKey + 32 (length word) + 1.
        assembly ("memory-safe") {
            digest := keccak256(add(publicKey, 0x21), 0x40)
        }
        return (true, address(uint160(uint256(digest))));
    }
}
