// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {IAttestationVerifier} from "./IAttestationVerifier.sol";

/// @title IEnclaveRegistry
/// @notice Binds enclave secp256k1 keys to registered images, once, from a verified attestation. Afterwards
/// contracts accept an enclave's work with one `ecrecover` and one `isLiveKey` call (see `EnclaveAuth`).
/// @dev A key is live in family F while: it was registered in F, it is not revoked in F, it has not expired,
/// and its image is registered, unrevoked and in F. Revoking an image therefore kills every key of the
/// image in the same block, without iterating over keys. Key records are kept per (family, key): what a
/// family's verifier accepts only ever writes that family's records, so a weaker family (a dev CA, an
/// unchallenged optimistic claim) cannot bind or block a key of another family. Within a family a key is
/// bound to one image while that image is live; once it is revoked the key may be attested by another image.
///
/// Two registration paths apply the same policy checks (family, live image, PCR8, freshness, key form,
/// optional user_data / nonce binding):
///  - `registerEnclaveKey`: anyone submits a document; the family's verifier proves it genuine.
///  - `registerEnclaveKeyFromModule`: an account holding `REGISTRAR_MODULE_ROLE` submits already-verified
///    fields. This is the hook for an optimistic path (a module accepts a bonded claim, waits out a
///    challenge window, then registers), or any other verification scheme living in its own contract.
///    Freshness is then checked against the time the module received the claim.
interface IEnclaveRegistry {
    // ---- Types ----

    /// @notice Per-family registration policy, set by the admin.
    /// @param verifier Verifier proving documents genuine for this family (zero: module path only).
    /// @param maxAttestationAge Oldest acceptable attestation, in SECONDS before the reference time.
    /// @param keyTtl Lifetime of a registered key, in seconds from registration.
    struct FamilyConfig {
        IAttestationVerifier verifier;
        uint32 maxAttestationAge;
        uint32 keyTtl;
    }

    /// @notice What the registry knows about an enclave key in one family.
    /// @param imageId The image the key was attested by in that family (zero if unknown key).
    /// @param family The family asked about (zero if unknown key).
    /// @param expiresAt When the key stops being live (seconds; 0 if unknown key).
    /// @param revoked Whether the key was revoked individually.
    /// @param live Whether the key is live right now (image live, not revoked, not expired).
    struct EnclaveKey {
        bytes32 imageId;
        bytes32 family;
        uint64 expiresAt;
        bool revoked;
        bool live;
    }

    // ---- Errors ----

    /// @notice Thrown when a family has no registration policy (or, on the direct path, no verifier).
    /// @param family The family id.
    error EnclaveRegistryFamilyNotConfigured(bytes32 family);

    /// @notice Thrown when a family configuration is out of bounds.
    error EnclaveRegistryInvalidFamilyConfig();

    /// @notice Thrown when the attested PCR at `index` is missing or not 48 bytes.
    /// @param index The PCR index.
    error EnclaveRegistryMalformedPcr(uint256 index);

    /// @notice Thrown when the attested PCR0, PCR1 or PCR2 is all zeros (debug-mode enclave).
    error EnclaveRegistryDebugEnclave();

    /// @notice Thrown when the attested PCRs do not form a registered, unrevoked image.
    /// @param imageId The image id computed from the document.
    error EnclaveRegistryImageNotLive(bytes32 imageId);

    /// @notice Thrown when the image is live but in another family than requested.
    /// @param imageId The image id.
    /// @param imageFamily The image's family.
    /// @param requestedFamily The family requested.
    error EnclaveRegistryFamilyMismatch(bytes32 imageId, bytes32 imageFamily, bytes32 requestedFamily);

    /// @notice Thrown when the image pins PCR8 (signing certificate) and the document's PCR8 differs.
    /// @param imageId The image id.
    error EnclaveRegistryPcr8Mismatch(bytes32 imageId);

    /// @notice Thrown when the document's timestamp lies after the reference time.
    /// @param timestampMs The document timestamp (milliseconds).
    /// @param referenceTime The reference time (seconds).
    error EnclaveRegistryAttestationFromFuture(uint64 timestampMs, uint256 referenceTime);

    /// @notice Thrown when the document is older than the family's `maxAttestationAge`.
    /// @param timestampMs The document timestamp (milliseconds).
    /// @param referenceTime The reference time (seconds).
    error EnclaveRegistryAttestationStale(uint64 timestampMs, uint256 referenceTime);

    /// @notice Thrown when `public_key` is not a 65-byte uncompressed secp256k1 key (`0x04 ‖ x ‖ y`).
    error EnclaveRegistryInvalidPublicKey();

    /// @notice Thrown when the caller asked for a user_data binding and `keccak256(user_data)` differs.
    error EnclaveRegistryUserDataMismatch();

    /// @notice Thrown when the caller asked for a nonce binding and `keccak256(nonce)` differs.
    error EnclaveRegistryNonceMismatch();

    /// @notice Thrown when registering a key that was revoked in this family (revocation is final).
    /// @param key The key's address.
    error EnclaveRegistryKeyRevoked(address key);

    /// @notice Thrown when a key bound to a live image of a family is attested by another image of that family
    /// (a key belongs to one image).
    /// @param key The key's address.
    /// @param boundImageId The image the key is bound to.
    error EnclaveRegistryKeyBoundToOtherImage(address key, bytes32 boundImageId);

    /// @notice Thrown when revoking a key that was never registered.
    /// @param key The key's address.
    error EnclaveRegistryKeyNotRegistered(address key);

    /// @notice Thrown when a module reports a receive time in the future.
    /// @param receivedAt The reported time (seconds).
    error EnclaveRegistryInvalidReceivedAt(uint64 receivedAt);

    // ---- Events ----

    /// @notice Emitted when a family's registration policy is set.
    /// @param family The family id.
    /// @param verifier The verifier (zero: module path only).
    /// @param maxAttestationAge Oldest acceptable attestation (seconds).
    /// @param keyTtl Key lifetime (seconds).
    event FamilyConfigured(
        bytes32 indexed family, address indexed verifier, uint32 maxAttestationAge, uint32 keyTtl
    );

    /// @notice Emitted when an enclave key is registered or its lifetime renewed by a fresh attestation.
    /// @param key The key's Ethereum address.
    /// @param imageId The attested image.
    /// @param family The image's family.
    /// @param expiresAt When the key stops being live (seconds).
    /// @param attestationTimestampMs The document's timestamp (milliseconds).
    /// @param source The verifier (direct path) or the module (module path) that vouched for the document.
    event EnclaveKeyRegistered(
        address indexed key,
        bytes32 indexed imageId,
        bytes32 indexed family,
        uint64 expiresAt,
        uint64 attestationTimestampMs,
        address source
    );

    /// @notice Emitted when a single enclave key is revoked.
    /// @param key The key's address.
    /// @param imageId The key's image.
    /// @param revoker The account that revoked it.
    /// @param reason Free-text reason.
    event EnclaveKeyRevoked(
        address indexed key, bytes32 indexed imageId, address indexed revoker, string reason
    );

    // ---- Functions ----

    /// @notice Role of contracts allowed to register already-verified attestations (e.g. an optimistic module).
    /// @return The role id.
    function REGISTRAR_MODULE_ROLE() external view returns (bytes32);

    /// @notice Sets a family's registration policy. Only the default admin.
    /// @param family The family id (non-zero).
    /// @param verifier The verifier for the direct path (zero: module path only).
    /// @param maxAttestationAge Oldest acceptable attestation in seconds (1 s .. 1 day).
    /// @param keyTtl Key lifetime in seconds (1 s .. 365 days).
    function configureFamily(
        bytes32 family,
        IAttestationVerifier verifier,
        uint32 maxAttestationAge,
        uint32 keyTtl
    ) external;

    /// @notice Returns a family's registration policy (all zero if unconfigured).
    /// @param family The family id.
    /// @return The policy.
    function familyConfig(bytes32 family) external view returns (FamilyConfig memory);

    /// @notice Registers (or renews) an enclave key from an attestation document. Open to anyone: the document
    /// is the credential.
    /// @param family The family the image must belong to.
    /// @param attestation The document, in the form the family's verifier understands.
    /// @param userDataHash If non-zero, `keccak256(user_data)` must equal it.
    /// @param nonceHash If non-zero, `keccak256(nonce)` must equal it.
    /// @return key The key's Ethereum address.
    function registerEnclaveKey(
        bytes32 family,
        bytes calldata attestation,
        bytes32 userDataHash,
        bytes32 nonceHash
    ) external returns (address key);

    /// @notice Registers (or renews) an enclave key from fields a module has already verified. Only
    /// `REGISTRAR_MODULE_ROLE`. Same checks as `registerEnclaveKey`, freshness measured at `receivedAt`.
    /// @param family The family the image must belong to.
    /// @param attestation The verified fields.
    /// @param receivedAt When the module received the claim (seconds, not after now).
    /// @param userDataHash If non-zero, `keccak256(user_data)` must equal it.
    /// @param nonceHash If non-zero, `keccak256(nonce)` must equal it.
    /// @return key The key's Ethereum address.
    function registerEnclaveKeyFromModule(
        bytes32 family,
        IAttestationVerifier.Attestation calldata attestation,
        uint64 receivedAt,
        bytes32 userDataHash,
        bytes32 nonceHash
    ) external returns (address key);

    /// @notice Revokes one enclave key in one family, for ever (e.g. a leaked key). Only `REVOKER_ROLE`.
    /// @param family The family the key is registered in.
    /// @param key The key's address.
    /// @param reason Free-text reason.
    function revokeEnclaveKey(bytes32 family, address key, string calldata reason) external;

    /// @notice Whether `key` is a live enclave key of `family`. The gate's hot path: two storage reads.
    /// @param key The key's address.
    /// @param family The family id.
    /// @return True if live.
    function isLiveKey(address key, bytes32 family) external view returns (bool);

    /// @notice Returns what is known about a key in one family.
    /// @param family The family id.
    /// @param key The key's address.
    /// @return The record.
    function getEnclaveKey(bytes32 family, address key) external view returns (EnclaveKey memory);
}
