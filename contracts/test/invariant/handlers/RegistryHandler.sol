// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {Test} from "forge-std/Test.sol";
import {Vm} from "forge-std/Vm.sol";

import {EnclaveRegistry} from "../../../src/EnclaveRegistry.sol";
import {IAttestationVerifier} from "../../../src/interfaces/IAttestationVerifier.sol";
import {IEnclaveRegistry} from "../../../src/interfaces/IEnclaveRegistry.sol";
import {IPcrRegistry} from "../../../src/interfaces/IPcrRegistry.sol";
import {Fixtures} from "../../utils/Fixtures.sol";

/// @notice Drives the registry through random sequences of the operations real actors perform: registering
/// and revoking images, registering keys from random (often invalid) attestations, revoking keys, and letting
/// time pass. It records what it did (ghost state) so invariants can compare the contract against it. The two
/// families have different verifiers, and the same key is often attempted in both (a copied production key
/// registered in the dev family first): after every accepted registration the handler checks that only the
/// accepting family's record changed.
contract RegistryHandler is Test, Fixtures {
    uint256 internal constant VERSIONS = 6;
    uint256 internal constant KEYS = 12;
    uint256 internal constant MAX_AGE = 300;

    EnclaveRegistry public immutable registry;
    address internal immutable registrar;
    address internal immutable revoker;
    address internal immutable module;

    enum Ghost {
        None,
        Registered,
        Revoked
    }

    /// @dev Ghost status and family of image version v (0..VERSIONS-1).
    mapping(uint256 version => Ghost) public ghostImage;
    mapping(uint256 version => bytes32) public ghostFamily;
    /// @dev (family, key) pairs that ever registered successfully, and the version each is bound to.
    bytes32[] public registeredFamilies;
    address[] public registeredKeys;
    mapping(bytes32 family => mapping(address key => uint256 version)) public ghostKeyVersion;
    mapping(bytes32 family => mapping(address key => bool)) public ghostKeyRevoked;
    mapping(bytes32 family => mapping(address key => bool)) internal _seen;
    /// @dev Set if a registration ever succeeded for an image that was not live at that moment.
    bool public registeredNonLiveImage;
    /// @dev Counters, for the call summary.
    uint256 public imagesRegistered;
    uint256 public imagesRevoked;
    uint256 public keyRegistrations;
    uint256 public keyRegistrationsRefused;
    /// @dev Refused registrations by error selector.
    mapping(bytes4 selector => uint256) public refusals;

    constructor(EnclaveRegistry registry_, address registrar_, address revoker_, address module_) {
        registry = registry_;
        registrar = registrar_;
        revoker = revoker_;
        module = module_;
    }

    function versionCount() external pure returns (uint256) {
        return VERSIONS;
    }

    function registeredKeyCount() external view returns (uint256) {
        return registeredKeys.length;
    }

    function familyOf(uint256 selector) internal pure returns (bytes32) {
        return selector % 2 == 0 ? FAMILY : DEV_FAMILY;
    }

    // ---- Actions ----

    function registerImage(uint256 versionSeed, uint256 familySeed) external {
        uint256 v = versionSeed % VERSIONS;
        bytes32 family = familyOf(familySeed);
        vm.prank(registrar);
        try registry.registerImage(family, imagePcrs(v), metadata("x")) returns (bytes32 id) {
            assertEq(
                uint256(ghostImage[v]), uint256(Ghost.None), "registered an id twice or after revocation"
            );
            assertEq(id, idOf(imagePcrs(v)));
            ghostImage[v] = Ghost.Registered;
            ghostFamily[v] = family;
            ++imagesRegistered;
        } catch {
            assertTrue(ghostImage[v] != Ghost.None, "refused a valid new image");
        }
    }

    /// @dev Revokes rarely (one call in four), so that sequences keep live images to register keys against.
    function revokeImage(uint256 versionSeed) external {
        if (versionSeed % 4 != 0) return;
        uint256 v = (versionSeed / 4) % VERSIONS;
        vm.prank(revoker);
        try registry.revokeImage(idOf(imagePcrs(v)), "x") {
            assertEq(uint256(ghostImage[v]), uint256(Ghost.Registered), "revoked a non-live image");
            ghostImage[v] = Ghost.Revoked;
            ++imagesRevoked;
        } catch {
            assertTrue(ghostImage[v] != Ghost.Registered, "could not revoke a live image");
        }
    }

    /// @dev Most attempts are well formed (the key's usual image, the image's family, a valid key); a few of
    /// each choice are perturbed: another image, the other family, a malformed key or debug PCRs.
    /// `viaModule` selects the module path, with the claim received now or a second ago.
    function registerKey(
        uint256 keySeed,
        uint256 versionSeed,
        uint256 familySeed,
        int256 offsetMs,
        uint256 shape,
        bool viaModule
    ) external {
        uint256 k = keySeed % KEYS;
        uint256 v = versionSeed % 4 == 0 ? (versionSeed / 4) % VERSIONS : k % VERSIONS;
        bytes32 family = ghostFamily[v] == bytes32(0) ? familyOf(familySeed) : ghostFamily[v];
        if (familySeed % 8 == 0) family = family == FAMILY ? DEV_FAMILY : FAMILY;
        Vm.Wallet memory w = vm.createWallet(1000 + k);
        IAttestationVerifier.Attestation memory a = _attestation(w, v, offsetMs, shape);
        uint64 receivedAt = uint64(block.timestamp - (uint256(offsetMs) % 2));
        bytes32 other = family == FAMILY ? DEV_FAMILY : FAMILY;
        IEnclaveRegistry.EnclaveKey memory otherBefore = registry.getEnclaveKey(other, w.addr);

        address key;
        bool ok;
        bytes memory reason;
        if (viaModule) {
            vm.prank(module);
            try registry.registerEnclaveKeyFromModule(family, a, receivedAt, 0, 0) returns (address k_) {
                (key, ok) = (k_, true);
            } catch (bytes memory r) {
                reason = r;
            }
        } else {
            try registry.registerEnclaveKey(family, encode(a), 0, 0) returns (address k_) {
                (key, ok) = (k_, true);
            } catch (bytes memory r) {
                reason = r;
            }
        }
        if (!ok) {
            ++keyRegistrationsRefused;
            ++refusals[bytes4(reason)];
            return;
        }
        if (ghostImage[v] != Ghost.Registered || ghostFamily[v] != family || shape % 4 == 0) {
            registeredNonLiveImage = true;
        }
        assertEq(key, w.addr);
        // The accepting family's verifier (or module) wrote that family's record only.
        assertEq(
            abi.encode(registry.getEnclaveKey(other, key)),
            abi.encode(otherBefore),
            "a registration changed another family's key record"
        );
        assertEq(registry.getEnclaveKey(family, key).imageId, idOf(imagePcrs(v)));
        if (!_seen[family][key]) {
            _seen[family][key] = true;
            registeredFamilies.push(family);
            registeredKeys.push(key);
        } else if (ghostKeyVersion[family][key] != v) {
            // Within a family a key moves only away from an image revoked since.
            assertEq(
                uint256(ghostImage[ghostKeyVersion[family][key]]),
                uint256(Ghost.Revoked),
                "key moved away from a live image"
            );
        }
        ghostKeyVersion[family][key] = v;
        ++keyRegistrations;
    }

    function _attestation(Vm.Wallet memory w, uint256 v, int256 offsetMs, uint256 shape)
        internal
        view
        returns (IAttestationVerifier.Attestation memory a)
    {
        bytes memory publicKey = abi.encodePacked(bytes1(0x04), w.publicKeyX, w.publicKeyY);
        offsetMs = bound(offsetMs, -int256(MAX_AGE + 5) * 1000, 3000);
        uint64 ts = uint64(uint256(int256(block.timestamp * 1000) + offsetMs));
        a = fields(imagePcrs(v), publicKey, ts);
        if (shape % 4 == 0) {
            uint256 bad = (shape / 4) % 3;
            if (bad == 0) a.publicKey[0] = 0x02;
            if (bad == 1) (a.pcrs[0], a.pcrs[1], a.pcrs[2]) = (zeroPcr(), zeroPcr(), zeroPcr());
            if (bad == 2) a.publicKey = abi.encodePacked(bytes1(0x04), w.publicKeyX);
        }
    }

    /// @dev Revokes rarely (one call in four), like `revokeImage`.
    function revokeKey(uint256 keySeed) external {
        if (registeredKeys.length == 0 || keySeed % 4 != 0) return;
        uint256 i = (keySeed / 4) % registeredKeys.length;
        (bytes32 family, address key) = (registeredFamilies[i], registeredKeys[i]);
        vm.prank(revoker);
        try registry.revokeEnclaveKey(family, key, "x") {
            assertFalse(ghostKeyRevoked[family][key]);
            ghostKeyRevoked[family][key] = true;
        } catch {
            assertTrue(ghostKeyRevoked[family][key], "could not revoke a registered key");
        }
    }

    function warp(uint256 secondsSeed) external {
        vm.warp(block.timestamp + bound(secondsSeed, 1, 2 days));
    }
}
