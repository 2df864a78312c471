// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

/// @title IPcrRegistry
/// @notice Registry of enclave images (EIFs) identified by their PCRs, grouped into families.
/// @dev `imageId = keccak256(PCR0 ‖ PCR1 ‖ PCR2)`, each PCR 48 bytes (SHA-384). An image belongs to exactly
/// one family (e.g. `keccak256("matching-engine")`); a family can hold several live images at once so that
/// an upgrade can overlap old and new versions. Revocation is immediate and permanent.
interface IPcrRegistry {
    // ---- Types ----

    /// @notice Lifecycle of an image id. `None` = never registered.
    enum ImageStatus {
        None,
        Registered,
        Revoked
    }

    /// @notice Descriptive metadata of an image; not used by any check, published for rebuilders.
    /// @param name Human name (e.g. `matching-engine`).
    /// @param version Release version (e.g. `1.4.0`).
    /// @param sourceRevision Source revision the image was built from (e.g. a git commit id).
    /// @param eifSha256 SHA-256 of the EIF file.
    /// @param provenanceUri Where the build provenance / reproduction recipe is published.
    struct ImageMetadata {
        string name;
        string version;
        string sourceRevision;
        bytes32 eifSha256;
        string provenanceUri;
    }

    /// @notice The measurements of an image.
    /// @param pcr0 PCR0 (48 bytes): the whole EIF.
    /// @param pcr1 PCR1 (48 bytes): kernel and boot ramdisk.
    /// @param pcr2 PCR2 (48 bytes): user application ramdisks.
    /// @param pcr8 PCR8 (48 bytes, or empty): the EIF signing certificate; when set, attestations must match it.
    struct ImagePcrs {
        bytes pcr0;
        bytes pcr1;
        bytes pcr2;
        bytes pcr8;
    }

    /// @notice Everything the registry knows about one image.
    /// @param family The family the image belongs to.
    /// @param status Its lifecycle status.
    /// @param registeredAt Block timestamp of registration (seconds).
    /// @param revokedAt Block timestamp of revocation (seconds; 0 while not revoked).
    /// @param pcrs The PCRs.
    /// @param metadata Descriptive metadata.
    struct Image {
        bytes32 family;
        ImageStatus status;
        uint64 registeredAt;
        uint64 revokedAt;
        ImagePcrs pcrs;
        ImageMetadata metadata;
    }

    // ---- Errors ----

    /// @notice Thrown when a PCR does not have the required length.
    /// @param index The PCR index.
    /// @param length The length supplied.
    error PcrRegistryInvalidPcrLength(uint256 index, uint256 length);

    /// @notice Thrown when a PCR is all zeros, as in a debug-mode enclave. Never accepted.
    /// @param index The PCR index.
    error PcrRegistryDebugPcr(uint256 index);

    /// @notice Thrown when the family id is zero.
    error PcrRegistryZeroFamily();

    /// @notice Thrown when registering an image id that is already registered.
    /// @param imageId The image id.
    error PcrRegistryImageAlreadyRegistered(bytes32 imageId);

    /// @notice Thrown when registering or revoking an image id that has been revoked (revocation is final).
    /// @param imageId The image id.
    error PcrRegistryImageRevoked(bytes32 imageId);

    /// @notice Thrown when revoking an image id that was never registered.
    /// @param imageId The image id.
    error PcrRegistryImageNotRegistered(bytes32 imageId);

    // ---- Events ----

    /// @notice Emitted when an image is registered.
    /// @param imageId keccak256(PCR0 ‖ PCR1 ‖ PCR2).
    /// @param family The image's family.
    /// @param registrar The account that registered it.
    /// @param pcrs The PCRs.
    /// @param metadata Descriptive metadata.
    event ImageRegistered(
        bytes32 indexed imageId,
        bytes32 indexed family,
        address indexed registrar,
        ImagePcrs pcrs,
        ImageMetadata metadata
    );

    /// @notice Emitted when an image is revoked; every enclave key of the image stops being live in the same block.
    /// @param imageId The image id.
    /// @param family The image's family.
    /// @param revoker The account that revoked it.
    /// @param reason Free-text reason, for the public record.
    event ImageRevoked(
        bytes32 indexed imageId, bytes32 indexed family, address indexed revoker, string reason
    );

    // ---- Functions ----

    /// @notice Role allowed to register images.
    /// @return The role id.
    function REGISTRAR_ROLE() external view returns (bytes32);

    /// @notice Role allowed to revoke images (and enclave keys).
    /// @return The role id.
    function REVOKER_ROLE() external view returns (bytes32);

    /// @notice Registers an image in a family. Only `REGISTRAR_ROLE`.
    /// @dev Reverts on wrong PCR lengths, all-zero (debug) PCRs, a zero family, or an id already registered
    /// or revoked.
    /// @param family The family id (e.g. `keccak256("matching-engine")`); non-zero.
    /// @param pcrs PCR0, PCR1, PCR2 (48 bytes each) and PCR8 (48 bytes, or empty when the EIF is not signed).
    /// @param metadata Descriptive metadata.
    /// @return imageId keccak256(PCR0 ‖ PCR1 ‖ PCR2).
    function registerImage(bytes32 family, ImagePcrs calldata pcrs, ImageMetadata calldata metadata)
        external
        returns (bytes32 imageId);

    /// @notice Revokes an image, immediately and for ever. Only `REVOKER_ROLE`.
    /// @param imageId The image id.
    /// @param reason Free-text reason, emitted in the event.
    function revokeImage(bytes32 imageId, string calldata reason) external;

    /// @notice Computes the image id of three PCRs (no registry lookup).
    /// @param pcr0 PCR0.
    /// @param pcr1 PCR1.
    /// @param pcr2 PCR2.
    /// @return keccak256(PCR0 ‖ PCR1 ‖ PCR2).
    function computeImageId(bytes calldata pcr0, bytes calldata pcr1, bytes calldata pcr2)
        external
        pure
        returns (bytes32);

    /// @notice Returns the lifecycle status of an image id.
    /// @param imageId The image id.
    /// @return The status.
    function imageStatus(bytes32 imageId) external view returns (ImageStatus);

    /// @notice Whether an image is registered and not revoked.
    /// @param imageId The image id.
    /// @return True if live.
    function isImageLive(bytes32 imageId) external view returns (bool);

    /// @notice Returns everything known about an image (status `None` and empty fields if unknown).
    /// @param imageId The image id.
    /// @return The image.
    function getImage(bytes32 imageId) external view returns (Image memory);

    /// @notice Lists every image id ever registered in a family, in registration order (revoked included).
    /// @param family The family id.
    /// @return The image ids.
    function familyImages(bytes32 family) external view returns (bytes32[] memory);
}
