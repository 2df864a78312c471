// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {StdInvariant} from "forge-std/StdInvariant.sol";
import {Test} from "forge-std/Test.sol";
import {console2} from "forge-std/console2.sol";

import {IEnclaveRegistry} from "../../src/interfaces/IEnclaveRegistry.sol";
import {IPcrRegistry} from "../../src/interfaces/IPcrRegistry.sol";
import {Base_Test} from "../Base.t.sol";
import {TestOnlyAttestationVerifier} from "../mocks/TestOnlyAttestationVerifier.sol";
import {INitroOptimisticVerifier} from "../../src/nitro/INitroOptimisticVerifier.sol";
import {OptimisticHandler} from "./handlers/OptimisticHandler.sol";
import {RegistryHandler} from "./handlers/RegistryHandler.sol";

/// @notice The registry's invariants (listed in words in README.md), checked after every random call sequence.
/// Handler assertions revert, so a revert is a failure here.
/// forge-config: default.invariant.fail-on-revert = true
contract Invariant_Test is StdInvariant, Base_Test {
    RegistryHandler internal handler;

    function setUp() public override {
        super.setUp();
        // Each family its own verifier, so that "which verifier accepted it" is a family.
        TestOnlyAttestationVerifier devVerifier = new TestOnlyAttestationVerifier();
        vm.prank(admin);
        registry.configureFamily(DEV_FAMILY, devVerifier, MAX_AGE, KEY_TTL);
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

    /// @dev 4. A key is live in a family only if that family registered it, its image is live and in that family,
    /// the key unrevoked there and unexpired. A family's record names only what that family's verifier accepted.
    function invariant_LiveKeyImpliesLiveImage() external view {
        uint256 n = handler.registeredKeyCount();
        for (uint256 i; i < n; ++i) {
            (bytes32 family, address key) = (handler.registeredFamilies(i), handler.registeredKeys(i));
            uint256 v = handler.ghostKeyVersion(family, key);
            IEnclaveRegistry.EnclaveKey memory info = registry.getEnclaveKey(family, key);
            assertEq(info.imageId, idOf(imagePcrs(v)), "key bound to the image its family last accepted");
            assertEq(info.family, family);
            assertEq(handler.ghostFamily(v), family, "key bound by a family other than its image's");
            assertEq(info.revoked, handler.ghostKeyRevoked(family, key));
            bool shouldLive = handler.ghostImage(v) == RegistryHandler.Ghost.Registered
                && !handler.ghostKeyRevoked(family, key) && info.expiresAt > block.timestamp;
            assertEq(registry.isLiveKey(key, family), shouldLive);
            assertEq(info.live, shouldLive);
            bytes32 other = family == FAMILY ? DEV_FAMILY : FAMILY;
            if (registry.getEnclaveKey(other, key).imageId == bytes32(0)) {
                assertFalse(registry.isLiveKey(key, other), "live in a family that never accepted it");
            }
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
            assertLe(
                registry.getEnclaveKey(handler.registeredFamilies(i), handler.registeredKeys(i)).expiresAt,
                block.timestamp + KEY_TTL
            );
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

/// @notice The optimistic verifier's invariants under an honest proposer, an honest watcher and a two-account
/// attacker (front-running, self-challenges, challenges of honest claims, timeouts), with time passing.
/// forge-config: default.invariant.fail-on-revert = true
/// forge-config: default.invariant.depth = 128
contract OptimisticInvariant_Test is StdInvariant, Test {
    OptimisticHandler internal handler;
    INitroOptimisticVerifier internal optimistic;

    function setUp() public {
        handler = new OptimisticHandler();
        optimistic = handler.optimistic();
        targetContract(address(handler));
    }

    /// @dev 7. No genuine document ends judged not genuine, and the honest proposer's claim on it never ends
    /// invalid, whatever the attacker does.
    function invariant_NoGenuineDocumentEndsInvalid() external view {
        bytes32 g = handler.genuineHash();
        assertTrue(optimistic.verdictOf(g) != INitroOptimisticVerifier.Verdict.NotGenuine);
        assertTrue(optimistic.statusOf(g, handler.honest()) != INitroOptimisticVerifier.Status.Invalid);
        assertFalse(
            optimistic.isAccepted(handler.forgedHash())
                && optimistic.verdictOf(handler.forgedHash()) == INitroOptimisticVerifier.Verdict.NotGenuine
        );
    }

    /// @dev 8. The attacker never gains: its two accounts hold, with their bonds in open claims, at most what
    /// they started with. The honest parties never lose beyond their open bonds.
    function invariant_AttackerGainsNothing() external view {
        uint256 start = handler.START_BALANCE();
        (address a1, address a2) = (handler.attacker(), handler.attacker2());
        assertLe(
            a1.balance + a2.balance + handler.locked(a1) + handler.locked(a2), 2 * start, "attacker gained"
        );
        address h = handler.honest();
        assertGe(h.balance + handler.locked(h), start, "honest proposer lost");
        address w = handler.watcher();
        assertGe(w.balance + handler.locked(w), start, "watcher lost");
    }

    /// @dev 9. The contract holds exactly the bonds of open claims.
    function invariant_BondsConserved() external view {
        assertEq(address(optimistic).balance, handler.locked(address(0)));
    }

    function afterInvariant() external view {
        console2.log("proposals/challenges", handler.proposals(), handler.challenges());
        console2.log(
            "resolutions/timeouts/settlements",
            handler.resolutions(),
            handler.timeouts(),
            handler.settlements()
        );
    }
}
