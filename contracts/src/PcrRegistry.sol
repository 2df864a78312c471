// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {
    AccessControlDefaultAdminRules
} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";

import {IPcrRegistry} from "./interfaces/IPcrRegistry.sol";
import {Pcrs} from "./libraries/Pcrs.sol";

/// @title PcrRegistry
/// @notice On-chain record of which enclave images (by PCR0/1/2, optionally PCR8) are trusted, grouped into
/// families, with immediate and permanent revocation.
/// @dev Roles: `REGISTRAR_ROLE` registers, `REVOKER_ROLE` revokes, the default admin (OZ
/// `AccessControlDefaultAdminRules`: one admin, transfer with a delay, meant to end up a timelock) grants roles.
/// Revoker and registrar are separate so that a fast, narrow revoker key can act in an incident without being
/// able to add images.
///
/// Each image also gets a sequence number; `_liveFamilyByIndex[index]` holds the image's family while the image
/// is live and zero after revocation. `EnclaveRegistry` stores that number in each key's one-slot record, so the
/// live-key check costs two storage reads and revoking an image kills all its keys with one write.
contract PcrRegistry is IPcrRegistry, AccessControlDefaultAdminRules {
    // ---- Roles ----

    /// @inheritdoc IPcrRegistry
    bytes32 public constant REGISTRAR_ROLE = keccak256("REGISTRAR_ROLE");

    /// @inheritdoc IPcrRegistry
    bytes32 public constant REVOKER_ROLE = keccak256("REVOKER_ROLE");

    // ---- Storage ----

    /// @dev Storage form of an image. `index` is 1-based; 0 means never registered.
    struct ImageRecord {
        bytes32 family;
        uint64 index;
        uint64 registeredAt;
        uint64 revokedAt;
        ImageStatus status;
        bytes32 pcr8Hash;
        ImagePcrs pcrs;
        ImageMetadata metadata;
    }

    mapping(bytes32 imageId => ImageRecord) private _images;
    mapping(uint256 index => bytes32 imageId) private _imageIdByIndex;
    /// @dev The image's family while it is live; zero once revoked (and for index 0).
    mapping(uint256 index => bytes32 family) private _liveFamilyByIndex;
    mapping(bytes32 family => bytes32[]) private _familyImages;
    uint64 private _imageCount;

    // ---- Constructor ----

    /// @param admin The initial default admin.
    /// @param adminTransferDelay Delay (seconds) before a new default admin can accept the role.
    constructor(address admin, uint48 adminTransferDelay)
        AccessControlDefaultAdminRules(adminTransferDelay, admin)
    {}

    // ---- State-changing ----

    /// @inheritdoc IPcrRegistry
    function registerImage(bytes32 family, ImagePcrs calldata pcrs, ImageMetadata calldata metadata)
        external
        onlyRole(REGISTRAR_ROLE)
        returns (bytes32 imageId)
    {
        if (family == bytes32(0)) revert PcrRegistryZeroFamily();
        _checkPcr(0, pcrs.pcr0);
        _checkPcr(1, pcrs.pcr1);
        _checkPcr(2, pcrs.pcr2);
        bool signed = pcrs.pcr8.length != 0;
        if (signed) _checkPcr(8, pcrs.pcr8);

        imageId = Pcrs.imageId(pcrs.pcr0, pcrs.pcr1, pcrs.pcr2);
        ImageRecord storage image = _images[imageId];
        if (image.status == ImageStatus.Revoked) revert PcrRegistryImageRevoked(imageId);
        if (image.status == ImageStatus.Registered) revert PcrRegistryImageAlreadyRegistered(imageId);

        uint64 index = ++_imageCount;
        image.family = family;
        image.index = index;
        image.registeredAt = uint64(block.timestamp);
        image.status = ImageStatus.Registered;
        if (signed) image.pcr8Hash = keccak256(pcrs.pcr8);
        image.pcrs = pcrs;
        image.metadata = metadata;
        _imageIdByIndex[index] = imageId;
        _liveFamilyByIndex[index] = family;
        _familyImages[family].push(imageId);
        emit ImageRegistered(imageId, family, msg.sender, pcrs, metadata);
    }

    /// @inheritdoc IPcrRegistry
    function revokeImage(bytes32 imageId, string calldata reason) external onlyRole(REVOKER_ROLE) {
        ImageRecord storage image = _images[imageId];
        if (image.status == ImageStatus.None) revert PcrRegistryImageNotRegistered(imageId);
        if (image.status == ImageStatus.Revoked) revert PcrRegistryImageRevoked(imageId);

        image.status = ImageStatus.Revoked;
        image.revokedAt = uint64(block.timestamp);
        delete _liveFamilyByIndex[image.index];
        emit ImageRevoked(imageId, image.family, msg.sender, reason);
    }

    // ---- Views ----

    /// @inheritdoc IPcrRegistry
    function computeImageId(bytes calldata pcr0, bytes calldata pcr1, bytes calldata pcr2)
        external
        pure
        returns (bytes32)
    {
        return Pcrs.imageId(pcr0, pcr1, pcr2);
    }

    /// @inheritdoc IPcrRegistry
    function imageStatus(bytes32 imageId) external view returns (ImageStatus) {
        return _images[imageId].status;
    }

    /// @inheritdoc IPcrRegistry
    function isImageLive(bytes32 imageId) external view returns (bool) {
        return _images[imageId].status == ImageStatus.Registered;
    }

    /// @inheritdoc IPcrRegistry
    function getImage(bytes32 imageId) external view returns (Image memory) {
        ImageRecord storage image = _images[imageId];
        return Image({
            family: image.family,
            status: image.status,
            registeredAt: image.registeredAt,
            revokedAt: image.revokedAt,
            pcrs: image.pcrs,
            metadata: image.metadata
        });
    }

    /// @inheritdoc IPcrRegistry
    function familyImages(bytes32 family) external view returns (bytes32[] memory) {
        return _familyImages[family];
    }

    // ---- Internal functions ----

    /// @dev Reverts unless `pcr` is 48 bytes and not all zeros.
    function _checkPcr(uint256 index, bytes calldata pcr) private pure {
        if (pcr.length != Pcrs.LENGTH) revert PcrRegistryInvalidPcrLength(index, pcr.length);
        if (bytes32(pcr[:32]) | bytes32(pcr[16:]) == 0) revert PcrRegistryDebugPcr(index);
    }

    /// @dev Sequence number, family, status and PCR8 hash of an image, for the enclave key registry.
    function _imageForKeys(bytes32 imageId)
        internal
        view
        returns (uint64 index, bytes32 family, ImageStatus status, bytes32 pcr8Hash)
    {
        ImageRecord storage image = _images[imageId];
        return (image.index, image.family, image.status, image.pcr8Hash);
    }

    /// @dev The family of the image with sequence number `index` while it is live; zero otherwise.
    function _liveFamilyOf(uint64 index) internal view returns (bytes32) {
        return _liveFamilyByIndex[index];
    }

    /// @dev The image id with sequence number `index` (zero for 0 or unassigned).
    function _imageIdOf(uint64 index) internal view returns (bytes32) {
        return _imageIdByIndex[index];
    }
}
