// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {IAttestationVerifier} from "../interfaces/IAttestationVerifier.sol";

/// @title INitroAttestationVerifier
/// @notice Errors, events and cache functions of the on-chain Nitro attestation verifier.
interface INitroAttestationVerifier is IAttestationVerifier {
    /// @notice Thrown when CBOR/COSE input is truncated or has the wrong structure at `offset`.
    error NitroMalformed(uint256 offset);
    /// @notice The P-384 verifier given at construction has no code.
    error NitroNoP384Verifier();
    /// @notice Thrown when the COSE protected header is not exactly `{1: -35}` (ES384).
    error NitroUnsupportedAlgorithm();
    /// @notice Thrown when a payload key is unknown, duplicated or a required one is missing.
    error NitroBadField(uint256 offset);
    /// @notice Thrown when a field length is outside its bounds.
    error NitroFieldSize(uint256 offset);
    /// @notice Thrown when the digest is not "SHA384".
    error NitroUnsupportedDigest();
    /// @notice Thrown when bytes follow the COSE structure or the payload map.
    error NitroTrailingBytes();
    /// @notice Thrown when cabundle[0] is not the pinned AWS root.
    error NitroUntrustedRoot();
    /// @notice Thrown when certificate `index` (0 = root, cabundle.length = leaf) is not issued by its predecessor.
    error NitroIssuerMismatch(uint256 index);
    /// @notice Thrown when a cached certificate was first verified under a different parent.
    error NitroParentMismatch(uint256 index);
    /// @notice Thrown when certificate `index` is past its notAfter at the verification time.
    error NitroCertificateExpired(uint256 index);
    /// @notice Thrown when the verification time is before certificate `index`'s notBefore (a clock behind the
    /// issuer's; says nothing about the document: retry later).
    error NitroCertificateNotYetValid(uint256 index);
    /// @notice Thrown when certificate `index` has the wrong role (CA flags, key usage, path length).
    error NitroBadCertificateRole(uint256 index);
    /// @notice Thrown when certificate `index` is revoked.
    error NitroCertificateRevoked(uint256 index);
    /// @notice Thrown when the signature of certificate `index` (or of the document: index = cabundle.length + 1) fails.
    error NitroBadSignature(uint256 index);
    /// @notice Thrown when the hint list does not have one entry per signature.
    error NitroHintCount();
    /// @notice Thrown when the inverse hint for signature `index` is not s⁻¹ mod n (says nothing about the document).
    error NitroBadHint(uint256 index);

    /// @notice Emitted when a certificate is verified and cached.
    /// @param key keccak256 of its TBSCertificate.
    /// @param parent The cache key of its issuer.
    /// @param notAfter End of validity (Unix seconds).
    event CertificateCached(bytes32 indexed key, bytes32 indexed parent, uint64 notAfter);
    /// @notice Emitted when a certificate identity (issuer, serial) is revoked or reinstated.
    /// @param id keccak256(abi.encode(issuerHash, serialHash)).
    /// @param revoked The new state.
    event RevocationSet(bytes32 indexed id, bool revoked);

    /// @notice As `verify`, with every certificate's validity period checked at the document's own timestamp
    /// (whole seconds) instead of `block.timestamp`; revocation is still checked as of now. For a caller that
    /// bounds the document's timestamp by chain time itself (e.g. `NitroOptimisticVerifier`, at proposal), so
    /// that a certificate expiring while a claim about the document is disputed does not change the verdict.
    /// Reverts exactly as `verify` does, and returns nothing: the caller parses the fields it needs.
    /// @param attestation `abi.encode(bytes document, uint256[] hints)`, as for `verify`.
    function verifyAtDocumentTime(bytes calldata attestation) external;

    /// @notice Verifies one certificate against a cached parent and caches it (the cold path, one call per CA).
    /// Write-once: a certificate already cached under `parent` is returned without being verified or stored
    /// again; one cached under another parent reverts `NitroParentMismatch`.
    /// @param der The certificate DER.
    /// @param parent The cache key (TBS keccak) of the issuer.
    /// @param hint The certificate signature's hint: s⁻¹ mod n as (high 128 bits, low 256 bits), then
    /// the half-size words h0..h3 of `P384.check` (all zero: the slower textbook check).
    /// @return key The new cache key.
    function cacheCertificate(bytes calldata der, bytes32 parent, uint256[6] calldata hint)
        external
        returns (bytes32 key);

    /// @notice Whether `key` is cached, valid now, and bound to `parent`.
    function isCached(bytes32 key, bytes32 parent) external view returns (bool);
}
