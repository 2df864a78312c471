// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

/// @title IAttestationVerifier
/// @notice The seam between the enclave key registry and whatever proves that an AWS Nitro attestation
/// document is authentic (signed by a genuine NSM under the pinned AWS root).
/// @dev A verifier answers one question only: "is this document genuine, and what does it say?".
/// It checks the COSE_Sign1 signature, the certificate chain to its configured root, and the syntax of
/// the payload (digest "SHA384", PCR lengths, field bounds). It does NOT decide policy: which images are
/// acceptable, which family a key belongs to, or how fresh a document must be. The registry re-checks
/// those itself, for three reasons:
///  1. verifiers are swappable (full on-chain P-384, ZK proof, optimistic bond, dev CA for a devnet) and
///     policy must not change when the proof system does;
///  2. freshness has been got wrong before (milliseconds compared with seconds in several public
///     verifiers), so it is checked in exactly one place, against `block.timestamp`, both ways;
///  3. a verifier's own time checks are about certificate validity, not about how old a document the
///     application is willing to accept.
/// Implementations may be stateful (for example a certificate cache filled over several transactions),
/// which is why `verify` is not `view`. Implementations MUST revert on any document they cannot prove
/// genuine; they never return a partially checked result.
interface IAttestationVerifier {
    /// @notice The fields of a verified attestation document that policy needs.
    /// @param moduleId The NSM module id (e.g. `i-0bee92034f3d60691-enc01943c5eaab3ad6a`).
    /// @param timestampMs The document timestamp, in MILLISECONDS since the Unix epoch (as Nitro reports it).
    /// @param pcrs The PCR bank as reported: `pcrs[i]` is PCR i (48 bytes for SHA-384). The array covers every
    /// index up to the highest one the document reports; an index the document does not report is empty.
    /// @param publicKey The `public_key` field (empty if the document carries CBOR null).
    /// @param userData The `user_data` field (empty if null).
    /// @param nonce The `nonce` field (empty if null).
    struct Attestation {
        string moduleId;
        uint64 timestampMs;
        bytes[] pcrs;
        bytes publicKey;
        bytes userData;
        bytes nonce;
    }

    /// @notice Verifies an attestation document and returns its fields; reverts if it is not genuine.
    /// @param attestation The encoded document (or proof) in the form this verifier understands.
    /// @return result The document's fields.
    function verify(bytes calldata attestation) external returns (Attestation memory result);

    /// @notice Whether this verifier accepts documents no real Nitro hardware produced (a test double or a
    /// verifier rooted in a dev CA). Deployment tooling refuses such a verifier for production families.
    /// @return True for a test-only or dev verifier.
    function isTestOnly() external view returns (bool);
}
