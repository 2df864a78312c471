// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {IAttestationVerifier} from "./interfaces/IAttestationVerifier.sol";
import {IEnclaveRegistry} from "./interfaces/IEnclaveRegistry.sol";
import {EnclaveKeys} from "./libraries/EnclaveKeys.sol";
import {Pcrs} from "./libraries/Pcrs.sol";
import {PcrRegistry} from "./PcrRegistry.sol";

/// @title EnclaveRegistry
/// @notice The image registry plus the enclave key registry, in one contract so that the live-key check reads
/// the image status from its own storage: two storage reads, no further external call.
/// @dev Trust: the default admin (a timelock) chooses each family's verifier and limits; registrars choose
/// images; revokers can only take trust away. The verifier is trusted to reject forged documents; every
/// policy decision (image, family, PCR8, freshness, key form, bindings) is made here. Families separate
/// trust domains: a devnet family (e.g. `matching-engine-dev`) can use a verifier rooted in a dev CA without
/// any key of it ever passing a check for a production family.
contract EnclaveRegistry is IEnclaveRegistry, PcrRegistry {
    // ---- Constants ----

    /// @inheritdoc IEnclaveRegistry
    bytes32 public constant REGISTRAR_MODULE_ROLE = keccak256("REGISTRAR_MODULE_ROLE");

    /// @notice Upper bound of a family's `maxAttestationAge` (seconds).
    uint32 public constant MAX_ATTESTATION_AGE_LIMIT = 1 days;

    /// @notice Upper bound of a family's `keyTtl` (seconds).
    uint32 public constant MAX_KEY_TTL = 365 days;

    // ---- Storage ----

    /// @dev One slot per (family, key): the image's sequence number (0 = unknown key), expiry, individual
    /// revocation. Records are per family so that a family's verifier only ever writes its own family's
    /// records: a key registered in a weaker family (dev CA, optimistic) never blocks the same key elsewhere.
    struct KeyRecord {
        uint64 imageIndex;
        uint64 expiresAt;
        bool revoked;
    }

    mapping(bytes32 family => mapping(address key => KeyRecord)) private _keys;
    mapping(bytes32 family => FamilyConfig) private _families;

    // ---- Constructor ----

    /// @param admin The initial default admin.
    /// @param adminTransferDelay Delay (seconds) before a new default admin can accept the role.
    constructor(address admin, uint48 adminTransferDelay) PcrRegistry(admin, adminTransferDelay) {}

    // ---- State-changing ----

    /// @inheritdoc IEnclaveRegistry
    function configureFamily(
        bytes32 family,
        IAttestationVerifier verifier,
        uint32 maxAttestationAge,
        uint32 keyTtl
    ) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (family == bytes32(0)) revert PcrRegistryZeroFamily();
        if (maxAttestationAge == 0 || maxAttestationAge > MAX_ATTESTATION_AGE_LIMIT) {
            revert EnclaveRegistryInvalidFamilyConfig();
        }
        // A key registered through the direct path must be live when registered.
        if (keyTtl <= maxAttestationAge || keyTtl > MAX_KEY_TTL) revert EnclaveRegistryInvalidFamilyConfig();
        if (address(verifier) != address(0) && address(verifier).code.length == 0) {
            revert EnclaveRegistryInvalidFamilyConfig();
        }
        _families[family] = FamilyConfig(verifier, maxAttestationAge, keyTtl);
        emit FamilyConfigured(family, address(verifier), maxAttestationAge, keyTtl);
    }

    /// @inheritdoc IEnclaveRegistry
    function registerEnclaveKey(
        bytes32 family,
        bytes calldata attestation,
        bytes32 userDataHash,
        bytes32 nonceHash
    ) external returns (address key) {
        FamilyConfig memory config = _families[family];
        if (config.keyTtl == 0 || address(config.verifier) == address(0)) {
            revert EnclaveRegistryFamilyNotConfigured(family);
        }
        IAttestationVerifier.Attestation memory fields = config.verifier.verify(attestation);
        return _registerKey(
            family, config, fields, block.timestamp, userDataHash, nonceHash, address(config.verifier)
        );
    }

    /// @inheritdoc IEnclaveRegistry
    function registerEnclaveKeyFromModule(
        bytes32 family,
        IAttestationVerifier.Attestation calldata attestation,
        uint64 receivedAt,
        bytes32 userDataHash,
        bytes32 nonceHash
    ) external onlyRole(REGISTRAR_MODULE_ROLE) returns (address key) {
        FamilyConfig memory config = _families[family];
        if (config.keyTtl == 0) revert EnclaveRegistryFamilyNotConfigured(family);
        if (receivedAt > block.timestamp) revert EnclaveRegistryInvalidReceivedAt(receivedAt);
        return _registerKey(family, config, attestation, receivedAt, userDataHash, nonceHash, msg.sender);
    }

    /// @inheritdoc IEnclaveRegistry
    function revokeEnclaveKey(bytes32 family, address key, string calldata reason)
        external
        onlyRole(REVOKER_ROLE)
    {
        KeyRecord storage record = _keys[family][key];
        if (record.imageIndex == 0) revert EnclaveRegistryKeyNotRegistered(key);
        if (record.revoked) revert EnclaveRegistryKeyRevoked(key);
        record.revoked = true;
        emit EnclaveKeyRevoked(key, _imageIdOf(record.imageIndex), msg.sender, reason);
    }

    // ---- Views ----

    /// @inheritdoc IEnclaveRegistry
    function isLiveKey(address key, bytes32 family) external view returns (bool) {
        KeyRecord memory record = _keys[family][key];
        // An unknown key has expiresAt == 0 and fails here, before the second read; a revoked image (and
        // index 0) maps to family 0, which no caller can ask about. The record is the family's own, and its
        // image must still be live in that family.
        return record.expiresAt > block.timestamp && !record.revoked && family != bytes32(0)
            && _liveFamilyOf(record.imageIndex) == family;
    }

    /// @inheritdoc IEnclaveRegistry
    function getEnclaveKey(bytes32 family, address key) external view returns (EnclaveKey memory info) {
        KeyRecord memory record = _keys[family][key];
        if (record.imageIndex == 0) return info;
        info.imageId = _imageIdOf(record.imageIndex);
        info.family = family;
        info.expiresAt = record.expiresAt;
        info.revoked = record.revoked;
        info.live = record.expiresAt > block.timestamp && !record.revoked
            && _liveFamilyOf(record.imageIndex) == info.family;
    }

    /// @inheritdoc IEnclaveRegistry
    function familyConfig(bytes32 family) external view returns (FamilyConfig memory) {
        return _families[family];
    }

    // ---- Internal functions ----

    /// @dev The policy checks shared by both registration paths, then the write. `referenceTime` is the
    /// time (seconds) the document must be fresh at: now on the direct path, the receive time on the module path.
    function _registerKey(
        bytes32 family,
        FamilyConfig memory config,
        IAttestationVerifier.Attestation memory fields,
        uint256 referenceTime,
        bytes32 userDataHash,
        bytes32 nonceHash,
        address source
    ) private returns (address key) {
        (uint64 imageIndex, bytes32 imageId) = _attestedImage(family, fields.pcrs);
        _checkFreshness(fields.timestampMs, referenceTime, config.maxAttestationAge);

        bool wellFormed;
        (wellFormed, key) = EnclaveKeys.toAddress(fields.publicKey);
        if (!wellFormed) revert EnclaveRegistryInvalidPublicKey();
        if (userDataHash != bytes32(0) && keccak256(fields.userData) != userDataHash) {
            revert EnclaveRegistryUserDataMismatch();
        }
        if (nonceHash != bytes32(0) && keccak256(fields.nonce) != nonceHash) {
            revert EnclaveRegistryNonceMismatch();
        }

        KeyRecord memory record = _keys[family][key];
        if (record.revoked) revert EnclaveRegistryKeyRevoked(key);
        // timestampMs / 1000 <= referenceTime <= block.timestamp, and keyTtl <= 365 days: fits in uint64.
        uint64 expiresAt = uint64(fields.timestampMs / 1000) + config.keyTtl;
        if (record.imageIndex == imageIndex) {
            // Renewal: never shortens.
            if (expiresAt < record.expiresAt) expiresAt = record.expiresAt;
        } else if (record.imageIndex != 0 && _liveFamilyOf(record.imageIndex) != bytes32(0)) {
            // Bound to another image of this family that is still live: a key belongs to one image. A
            // revoked image holds no bound (it could otherwise block a key for ever).
            revert EnclaveRegistryKeyBoundToOtherImage(key, _imageIdOf(record.imageIndex));
        }
        _keys[family][key] = KeyRecord({imageIndex: imageIndex, expiresAt: expiresAt, revoked: false});
        emit EnclaveKeyRegistered(key, imageId, family, expiresAt, fields.timestampMs, source);
    }

    /// @dev Checks the attested PCR bank and returns the live image of `family` it identifies.
    function _attestedImage(bytes32 family, bytes[] memory pcrs)
        private
        view
        returns (uint64 imageIndex, bytes32 imageId)
    {
        if (pcrs.length < 3) revert EnclaveRegistryMalformedPcr(pcrs.length);
        for (uint256 i; i < 3; ++i) {
            if (pcrs[i].length != Pcrs.LENGTH) revert EnclaveRegistryMalformedPcr(i);
        }
        if (Pcrs.isZero(pcrs[0]) || Pcrs.isZero(pcrs[1]) || Pcrs.isZero(pcrs[2])) {
            revert EnclaveRegistryDebugEnclave();
        }
        imageId = Pcrs.imageId(pcrs[0], pcrs[1], pcrs[2]);
        (uint64 index, bytes32 imageFamily, ImageStatus status, bytes32 pcr8Hash) = _imageForKeys(imageId);
        if (status != ImageStatus.Registered) revert EnclaveRegistryImageNotLive(imageId);
        if (imageFamily != family) revert EnclaveRegistryFamilyMismatch(imageId, imageFamily, family);
        if (pcr8Hash != bytes32(0)) {
            if (pcrs.length <= 8 || keccak256(pcrs[8]) != pcr8Hash) {
                revert EnclaveRegistryPcr8Mismatch(imageId);
            }
        }
        return (index, imageId);
    }

    /// @dev Nitro timestamps are milliseconds; compared in whole seconds with `referenceTime`, both ways.
    function _checkFreshness(uint64 timestampMs, uint256 referenceTime, uint32 maxAge) private pure {
        uint256 attestedAt = timestampMs / 1000;
        if (attestedAt > referenceTime) {
            revert EnclaveRegistryAttestationFromFuture(timestampMs, referenceTime);
        }
        if (referenceTime - attestedAt > maxAge) {
            revert EnclaveRegistryAttestationStale(timestampMs, referenceTime);
        }
    }
}
