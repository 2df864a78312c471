// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Vm} from "forge-std/Vm.sol";

import {IAttestationVerifier} from "../../src/interfaces/IAttestationVerifier.sol";
import {IEnclaveAuth} from "../../src/interfaces/IEnclaveAuth.sol";
import {IEnclaveRegistry} from "../../src/interfaces/IEnclaveRegistry.sol";
import {IPcrRegistry} from "../../src/interfaces/IPcrRegistry.sol";
import {Base_Test} from "../Base.t.sol";

contract Registry_Fuzz_Test is Base_Test {
    /// @dev secp256k1 group order.
    uint256 internal constant N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;

    function _pcr48(bytes32 a, bytes16 b) internal pure returns (bytes memory) {
        return bytes.concat(a, b);
    }

    /// @dev imageId = keccak256(PCR0 ‖ PCR1 ‖ PCR2) for any non-zero PCRs, and the stored PCRs round-trip.
    function testFuzz_ImageIdIsKeccakOfPcrs(
        bytes32 a0,
        bytes16 b0,
        bytes32 a1,
        bytes16 b1,
        bytes32 a2,
        bytes16 b2
    ) external {
        vm.assume(a0 | bytes32(b0) != 0 && a1 | bytes32(b1) != 0 && a2 | bytes32(b2) != 0);
        IPcrRegistry.ImagePcrs memory p =
            IPcrRegistry.ImagePcrs(_pcr48(a0, b0), _pcr48(a1, b1), _pcr48(a2, b2), "");
        vm.prank(registrar);
        bytes32 id = registry.registerImage(FAMILY, p, metadata("x"));
        assertEq(id, keccak256(abi.encodePacked(a0, b0, a1, b1, a2, b2)));
        IPcrRegistry.Image memory image = registry.getImage(id);
        assertEq(keccak256(bytes.concat(image.pcrs.pcr0, image.pcrs.pcr1, image.pcrs.pcr2)), id);
    }

    /// @dev Any PCR length other than 48 is refused, for every PCR slot.
    function testFuzz_RegisterImage_RefusesWrongLength(uint8 slot, uint8 length) external {
        vm.assume(length != 48);
        slot = uint8(bound(slot, 0, 3));
        IPcrRegistry.ImagePcrs memory p = imagePcrs(1);
        bytes memory bad = new bytes(length);
        if (length > 0) bad[0] = 0x01;
        if (slot == 0) p.pcr0 = bad;
        if (slot == 1) p.pcr1 = bad;
        if (slot == 2) p.pcr2 = bad;
        if (slot == 3) {
            if (length == 0) return; // an empty PCR8 means "not signed"
            p.pcr8 = bad;
        }
        vm.expectRevert(
            abi.encodeWithSelector(
                IPcrRegistry.PcrRegistryInvalidPcrLength.selector,
                slot == 3 ? 8 : uint256(slot),
                uint256(length)
            )
        );
        vm.prank(registrar);
        registry.registerImage(FAMILY, p, metadata("x"));
    }

    /// @dev Only REGISTRAR_ROLE registers, only REVOKER_ROLE revokes, only the admin configures, only modules
    /// use the module path.
    function testFuzz_RolesEnforced(address caller) external {
        vm.assume(caller != registrar && caller != revoker && caller != admin && caller != module);
        bytes32 id = registerImage(FAMILY, 1);
        Enclave memory k = enclave("k");
        registerKey(FAMILY, 1, k);
        IAttestationVerifier.Attestation memory a = fields(imagePcrs(1), enclave("j").publicKey, nowMs());

        vm.startPrank(caller);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, caller, registry.REGISTRAR_ROLE()
            )
        );
        registry.registerImage(FAMILY, imagePcrs(2), metadata("x"));
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, caller, registry.REVOKER_ROLE()
            )
        );
        registry.revokeImage(id, "x");
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, caller, registry.REVOKER_ROLE()
            )
        );
        registry.revokeEnclaveKey(FAMILY, k.addr, "x");
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector,
                caller,
                registry.DEFAULT_ADMIN_ROLE()
            )
        );
        registry.configureFamily(FAMILY, verifier, 1, 2);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector,
                caller,
                registry.REGISTRAR_MODULE_ROLE()
            )
        );
        registry.registerEnclaveKeyFromModule(FAMILY, a, uint64(block.timestamp), 0, 0);
        vm.stopPrank();

        assertTrue(registry.isImageLive(id));
        assertTrue(registry.isLiveKey(k.addr, FAMILY));
    }

    /// @dev Freshness: accepted iff the document's whole second lies in [now - maxAge, now].
    function testFuzz_Freshness(uint64 timestampMs, uint32 elapsed) external {
        vm.warp(START + bound(elapsed, 0, 3650 days));
        registerImage(FAMILY, 1);
        Enclave memory k = enclave("k");
        IAttestationVerifier.Attestation memory a = fields(imagePcrs(1), k.publicKey, timestampMs);
        uint256 attestedAt = timestampMs / 1000;
        bool fresh = attestedAt <= block.timestamp && block.timestamp - attestedAt <= MAX_AGE;
        if (!fresh) {
            vm.expectRevert(
                attestedAt > block.timestamp
                    ? abi.encodeWithSelector(
                        IEnclaveRegistry.EnclaveRegistryAttestationFromFuture.selector,
                        timestampMs,
                        block.timestamp
                    )
                    : abi.encodeWithSelector(
                        IEnclaveRegistry.EnclaveRegistryAttestationStale.selector,
                        timestampMs,
                        block.timestamp
                    )
            );
        }
        registry.registerEnclaveKey(FAMILY, encode(a), 0, 0);
        assertEq(registry.isLiveKey(k.addr, FAMILY), fresh);
    }

    /// @dev Freshness near "now", where the ms/s confusion would bite: every offset from -maxAge-2 s to +2 s.
    function testFuzz_FreshnessAroundNow(int256 offsetMs) external {
        offsetMs = bound(offsetMs, -int256(uint256(MAX_AGE) + 2) * 1000, 2000);
        registerImage(FAMILY, 1);
        Enclave memory k = enclave("k");
        uint64 ts = uint64(uint256(int256(block.timestamp * 1000) + offsetMs));
        bool fresh = ts / 1000 <= block.timestamp && block.timestamp - ts / 1000 <= MAX_AGE;
        if (!fresh) vm.expectRevert();
        registry.registerEnclaveKey(FAMILY, encode(fields(imagePcrs(1), k.publicKey, ts)), 0, 0);
        assertEq(registry.isLiveKey(k.addr, FAMILY), fresh);
    }

    /// @dev Any public key not of the form 0x04 ‖ 64 bytes is refused.
    function testFuzz_MalformedPublicKeyRefused(bytes memory publicKey) external {
        vm.assume(publicKey.length != 65 || publicKey[0] != 0x04);
        registerImage(FAMILY, 1);
        vm.expectRevert(IEnclaveRegistry.EnclaveRegistryInvalidPublicKey.selector);
        registry.registerEnclaveKey(FAMILY, encode(fields(imagePcrs(1), publicKey, nowMs())), 0, 0);
    }

    /// @dev For any secp256k1 key, the registered address is the signer address, and its signatures pass the gate.
    function testFuzz_KeyAddressMatchesSigner(uint256 privateKey, bytes32 job, bytes32 out) external {
        privateKey = bound(privateKey, 1, N - 1);
        Vm.Wallet memory w = vm.createWallet(privateKey);
        Enclave memory k =
            Enclave(w.privateKey, w.addr, abi.encodePacked(bytes1(0x04), w.publicKeyX, w.publicKeyY));
        registerImage(FAMILY, 1);
        address key = registerKey(FAMILY, 1, k);
        assertEq(key, vm.addr(privateKey));
        assertEq(gate.check(FAMILY, job, out, sign(k, job, out)), key);
    }

    /// @dev A key that was never registered fails the gate, whatever it signs and whatever family is asked.
    function testFuzz_UnregisteredSignerRefused(uint256 privateKey, bytes32 family, bytes32 job) external {
        privateKey = bound(privateKey, 1, N - 1);
        Vm.Wallet memory w = vm.createWallet(privateKey);
        Enclave memory k = Enclave(w.privateKey, w.addr, "");
        bytes memory sig = sign(k, job, job);
        vm.expectRevert(abi.encodeWithSelector(IEnclaveAuth.EnclaveAuthKeyNotLive.selector, w.addr, family));
        gate.check(family, job, job, sig);
    }

    /// @dev Revoking an image kills all of its keys in the same block, however many there are.
    function testFuzz_RevokeImageKillsAllKeys(uint8 count, bytes32 job) external {
        count = uint8(bound(count, 1, 20));
        bytes32 id = registerImage(FAMILY, 1);
        Enclave[] memory keys = new Enclave[](count);
        bytes[] memory sigs = new bytes[](count);
        for (uint256 i; i < count; ++i) {
            keys[i] = enclave(vm.toString(i));
            registerKey(FAMILY, 1, keys[i]);
            sigs[i] = sign(keys[i], job, job);
            assertEq(gate.check(FAMILY, job, job, sigs[i]), keys[i].addr);
        }
        vm.prank(revoker);
        registry.revokeImage(id, "x");
        for (uint256 i; i < count; ++i) {
            assertFalse(registry.isLiveKey(keys[i].addr, FAMILY));
            vm.expectRevert(
                abi.encodeWithSelector(IEnclaveAuth.EnclaveAuthKeyNotLive.selector, keys[i].addr, FAMILY)
            );
            gate.check(FAMILY, job, job, sigs[i]);
        }
    }

    /// @dev The replay guard accepts each message once, whatever the message.
    function testFuzz_ReplayRefused(bytes32 job, bytes32 out) external {
        registerImage(FAMILY, 1);
        Enclave memory k = enclave("k");
        registerKey(FAMILY, 1, k);
        bytes memory sig = sign(k, job, out);
        bytes32 digest = gate.digestOf(job, out);
        gate.accept(FAMILY, job, out, sig);
        vm.expectRevert(abi.encodeWithSelector(IEnclaveAuth.EnclaveAuthDigestUsed.selector, digest));
        gate.accept(FAMILY, job, out, sig);
    }

    /// @dev The debug check looks at all 48 bytes: a PCR with a single non-zero byte anywhere is not a debug PCR,
    /// in the image registry (calldata) and in the key registry (memory) alike.
    function testFuzz_DebugCheckCoversAllBytes(uint8 position, uint8 value, uint8 slot) external {
        position = uint8(bound(position, 0, 47));
        value = uint8(bound(value, 1, 255));
        slot = uint8(bound(slot, 0, 2));
        bytes memory almostZero = new bytes(48);
        almostZero[position] = bytes1(value);

        IPcrRegistry.ImagePcrs memory p = imagePcrs(1);
        if (slot == 0) p.pcr0 = almostZero;
        if (slot == 1) p.pcr1 = almostZero;
        if (slot == 2) p.pcr2 = almostZero;
        vm.prank(registrar);
        bytes32 id = registry.registerImage(FAMILY, p, metadata("x"));
        assertTrue(registry.isImageLive(id));

        // Unregistered PCRs with one non-zero byte reach the image lookup, not the debug refusal.
        IPcrRegistry.ImagePcrs memory q = imagePcrs(2);
        q.pcr0 = almostZero;
        q.pcr1 = almostZero;
        q.pcr2 = almostZero;
        vm.expectRevert(
            abi.encodeWithSelector(IEnclaveRegistry.EnclaveRegistryImageNotLive.selector, idOf(q))
        );
        registry.registerEnclaveKey(FAMILY, encode(fields(q, enclave("k").publicKey, nowMs())), 0, 0);
    }
}
