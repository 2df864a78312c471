// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {StdInvariant} from "forge-std/StdInvariant.sol";
import {console2} from "forge-std/console2.sol";

import {IEnclaveRegistry} from "../../src/interfaces/IEnclaveRegistry.sol";
import {IPcrRegistry} from "../../src/interfaces/IPcrRegistry.sol";
import {Base_Test} from "../Base.t.sol";
import {RegistryHandler} from "./handlers/RegistryHandler.sol";

/// @notice The registry's invariants (listed in words in README.md), checked after every random call sequence.
/// Handler assertions revert, so a revert is a failure here.
/// forge-config: default.invariant.fail-on-revert = true
contract Invariant_Test is StdInvariant, Base_Test {
    RegistryHandler internal handler;

    function setUp() public override {
        super.setUp();
        handler = new RegistryHandler(registry, registrar, revoker, module);
        targetContract(address(handler));
        excludeSender(address(registry));
    }

    /// @dev 1. imageId = keccak256(PCR0 ‖ PCR1 ‖ PCR2) for every stored image.
    function invariant_ImageIdIsKeccakOfPcrs() external view {
        for (uint256 v; v < handler.versionCount(); ++v) {
            bytes32 id = idOf(imagePcrs(v));
            IPcrRegistry.Image memory image = registry.getImage(id);
            if (image.status == IPcrRegistry.ImageStatus.None) continue;
            assertEq(keccak256(bytes.concat(image.pcrs.pcr0, image.pcrs.pcr1, image.pcrs.pcr2)), id);
        }
    }

    /// @dev 2. The contract's image status equals what happened; a revoked image never becomes live again.
    function invariant_ImageStatusMatchesHistory() external view {
        for (uint256 v; v < handler.versionCount(); ++v) {
            bytes32 id = idOf(imagePcrs(v));
            assertEq(uint256(registry.imageStatus(id)), uint256(handler.ghostImage(v)));
            if (handler.ghostImage(v) == RegistryHandler.Ghost.Revoked) {
                assertFalse(registry.isImageLive(id));
            }
        }
    }

    /// @dev 3. No unregistered, revoked, debug or wrong-family image, and no malformed key, ever got a key registered.
    function invariant_OnlyLiveImagesGetKeys() external view {
        assertFalse(handler.registeredNonLiveImage());
    }

    /// @dev 4. A key is live only if its image is live, in the family asked, the key unrevoked and unexpired.
    function invariant_LiveKeyImpliesLiveImage() external view {
        uint256 n = handler.registeredKeyCount();
        for (uint256 i; i < n; ++i) {
            address key = handler.registeredKeys(i);
            uint256 v = handler.ghostKeyVersion(key);
            IEnclaveRegistry.EnclaveKey memory info = registry.getEnclaveKey(key);
            assertEq(info.imageId, idOf(imagePcrs(v)), "key bound to its first image for ever");
            assertEq(info.revoked, handler.ghostKeyRevoked(key));
            bool shouldLive = handler.ghostImage(v) == RegistryHandler.Ghost.Registered
                && !handler.ghostKeyRevoked(key) && info.expiresAt > block.timestamp;
            bytes32 family = handler.ghostFamily(v);
            assertEq(registry.isLiveKey(key, family), shouldLive);
            assertEq(info.live, shouldLive);
            assertFalse(
                registry.isLiveKey(key, family == FAMILY ? DEV_FAMILY : FAMILY), "live in another family"
            );
            assertFalse(registry.isLiveKey(key, bytes32(0)));
        }
    }

    /// @dev 5. Every image ever registered is listed in exactly its family, once.
    function invariant_FamilyListing() external view {
        assertEq(
            registry.familyImages(FAMILY).length + registry.familyImages(DEV_FAMILY).length,
            handler.imagesRegistered()
        );
    }

    /// @dev 6. Keys never expire later than keyTtl after the newest registration could have set.
    function invariant_ExpiryBounded() external view {
        uint256 n = handler.registeredKeyCount();
        for (uint256 i; i < n; ++i) {
            assertLe(registry.getEnclaveKey(handler.registeredKeys(i)).expiresAt, block.timestamp + KEY_TTL);
        }
    }

    function afterInvariant() external view {
        // Runs must exercise both outcomes, or the invariants above prove little.
        console2.log("images registered/revoked", handler.imagesRegistered(), handler.imagesRevoked());
        console2.log("keys registered/refused", handler.keyRegistrations(), handler.keyRegistrationsRefused());
        bytes4[8] memory errs = [
            IEnclaveRegistry.EnclaveRegistryImageNotLive.selector,
            IEnclaveRegistry.EnclaveRegistryFamilyMismatch.selector,
            IEnclaveRegistry.EnclaveRegistryInvalidPublicKey.selector,
            IEnclaveRegistry.EnclaveRegistryDebugEnclave.selector,
            IEnclaveRegistry.EnclaveRegistryAttestationFromFuture.selector,
            IEnclaveRegistry.EnclaveRegistryAttestationStale.selector,
            IEnclaveRegistry.EnclaveRegistryKeyBoundToOtherImage.selector,
            IEnclaveRegistry.EnclaveRegistryKeyRevoked.selector
        ];
        for (uint256 i; i < errs.length; ++i) {
            console2.log(i, handler.refusals(errs[i]));
        }
    }
}
