// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {IAttestationVerifier} from "../../../src/interfaces/IAttestationVerifier.sol";
import {IEnclaveRegistry} from "../../../src/interfaces/IEnclaveRegistry.sol";
import {IPcrRegistry} from "../../../src/interfaces/IPcrRegistry.sol";
import {TestOnlyAttestationVerifier} from "../../mocks/TestOnlyAttestationVerifier.sol";
import {Base_Test} from "../../Base.t.sol";

contract RegisterEnclaveKey_Test is Base_Test {
    bytes32 internal imageId;
    Enclave internal e;

    function setUp() public override {
        super.setUp();
        imageId = registerImage(FAMILY, 1);
        e = enclave("enclave");
    }

    function att() internal view returns (IAttestationVerifier.Attestation memory) {
        return fields(imagePcrs(1), e.publicKey, nowMs());
    }

    function expectRegistryRevert(bytes memory err, IAttestationVerifier.Attestation memory a) internal {
        vm.expectRevert(err);
        registry.registerEnclaveKey(FAMILY, encode(a), 0, 0);
    }

    function test_RevertGiven_FamilyNotConfigured() external {
        bytes32 unconfigured = keccak256("unconfigured");
        vm.expectRevert(
            abi.encodeWithSelector(IEnclaveRegistry.EnclaveRegistryFamilyNotConfigured.selector, unconfigured)
        );
        registry.registerEnclaveKey(unconfigured, encode(att()), 0, 0);
    }

    function test_RevertWhen_VerifierRejects() external {
        verifier.setRejectAll(true);
        vm.expectRevert(TestOnlyAttestationVerifier.TestOnlyAttestationVerifierRejected.selector);
        registry.registerEnclaveKey(FAMILY, encode(att()), 0, 0);
        assertFalse(registry.isLiveKey(e.addr, FAMILY));
    }

    function test_RevertWhen_PcrsMalformed() external {
        IAttestationVerifier.Attestation memory a = att();
        a.pcrs = new bytes[](2);
        expectRegistryRevert(
            abi.encodeWithSelector(IEnclaveRegistry.EnclaveRegistryMalformedPcr.selector, 2), a
        );

        a = att();
        a.pcrs[1] = new bytes(32);
        expectRegistryRevert(
            abi.encodeWithSelector(IEnclaveRegistry.EnclaveRegistryMalformedPcr.selector, 1), a
        );

        a = att();
        a.pcrs[0] = bytes.concat(a.pcrs[0], hex"00");
        expectRegistryRevert(
            abi.encodeWithSelector(IEnclaveRegistry.EnclaveRegistryMalformedPcr.selector, 0), a
        );
    }

    function test_RevertWhen_DebugEnclave() external {
        IAttestationVerifier.Attestation memory a = att();
        a.pcrs[0] = zeroPcr();
        a.pcrs[1] = zeroPcr();
        a.pcrs[2] = zeroPcr();
        expectRegistryRevert(abi.encodeWithSelector(IEnclaveRegistry.EnclaveRegistryDebugEnclave.selector), a);
        a = att();
        a.pcrs[2] = zeroPcr();
        expectRegistryRevert(abi.encodeWithSelector(IEnclaveRegistry.EnclaveRegistryDebugEnclave.selector), a);
    }

    function test_RevertWhen_ImageNotRegistered() external {
        IAttestationVerifier.Attestation memory a = fields(imagePcrs(2), e.publicKey, nowMs());
        expectRegistryRevert(
            abi.encodeWithSelector(IEnclaveRegistry.EnclaveRegistryImageNotLive.selector, idOf(imagePcrs(2))),
            a
        );
    }

    function test_RevertWhen_ImageRevoked() external {
        vm.prank(revoker);
        registry.revokeImage(imageId, "x");
        expectRegistryRevert(
            abi.encodeWithSelector(IEnclaveRegistry.EnclaveRegistryImageNotLive.selector, imageId), att()
        );
    }

    function test_RevertWhen_ImageInOtherFamily() external {
        bytes32 devImage = registerImage(DEV_FAMILY, 2);
        IAttestationVerifier.Attestation memory a = fields(imagePcrs(2), e.publicKey, nowMs());
        expectRegistryRevert(
            abi.encodeWithSelector(
                IEnclaveRegistry.EnclaveRegistryFamilyMismatch.selector, devImage, DEV_FAMILY, FAMILY
            ),
            a
        );
    }

    function test_RevertWhen_Pcr8Mismatch() external {
        IPcrRegistry.ImagePcrs memory p = imagePcrs(3);
        p.pcr8 = pcr(88);
        vm.prank(registrar);
        bytes32 signedImage = registry.registerImage(FAMILY, p, metadata("signed"));

        IAttestationVerifier.Attestation memory a = fields(p, e.publicKey, nowMs());
        a.pcrs[8] = pcr(89);
        bytes memory err =
            abi.encodeWithSelector(IEnclaveRegistry.EnclaveRegistryPcr8Mismatch.selector, signedImage);
        expectRegistryRevert(err, a);

        bytes[] memory short = new bytes[](3);
        (short[0], short[1], short[2]) = (p.pcr0, p.pcr1, p.pcr2);
        a.pcrs = short;
        expectRegistryRevert(err, a);

        // The matching PCR8 is accepted.
        registry.registerEnclaveKey(FAMILY, encode(fields(p, e.publicKey, nowMs())), 0, 0);
        assertTrue(registry.isLiveKey(e.addr, FAMILY));
    }

    function test_RevertWhen_TimestampInFuture() external {
        IAttestationVerifier.Attestation memory a = att();
        // One full second ahead, in milliseconds.
        a.timestampMs = uint64((block.timestamp + 1) * 1000);
        expectRegistryRevert(
            abi.encodeWithSelector(
                IEnclaveRegistry.EnclaveRegistryAttestationFromFuture.selector, a.timestampMs, block.timestamp
            ),
            a
        );
        // A timestamp in SECONDS read as milliseconds lies in 1970 and is stale, not accepted.
        a.timestampMs = uint64(block.timestamp);
        expectRegistryRevert(
            abi.encodeWithSelector(
                IEnclaveRegistry.EnclaveRegistryAttestationStale.selector, a.timestampMs, block.timestamp
            ),
            a
        );
    }

    function test_WhenTimestampWithinCurrentSecond() external {
        // NSM clocks run ahead of the block's whole second: up to 999 ms past it is "now", not future.
        IAttestationVerifier.Attestation memory a = att();
        a.timestampMs = uint64(block.timestamp * 1000 + 999);
        registry.registerEnclaveKey(FAMILY, encode(a), 0, 0);
        assertTrue(registry.isLiveKey(e.addr, FAMILY));
    }

    function test_RevertWhen_TimestampStale() external {
        IAttestationVerifier.Attestation memory a = att();
        a.timestampMs = uint64((block.timestamp - MAX_AGE - 1) * 1000);
        expectRegistryRevert(
            abi.encodeWithSelector(
                IEnclaveRegistry.EnclaveRegistryAttestationStale.selector, a.timestampMs, block.timestamp
            ),
            a
        );
        // Exactly maxAge old is still accepted.
        a.timestampMs = uint64((block.timestamp - MAX_AGE) * 1000);
        registry.registerEnclaveKey(FAMILY, encode(a), 0, 0);
        assertTrue(registry.isLiveKey(e.addr, FAMILY));
    }

    function test_RevertWhen_PublicKeyMalformed() external {
        bytes memory err = abi.encodeWithSelector(IEnclaveRegistry.EnclaveRegistryInvalidPublicKey.selector);
        IAttestationVerifier.Attestation memory a = att();
        a.publicKey = "";
        expectRegistryRevert(err, a);
        a.publicKey = bytes.concat(e.publicKey, hex"00");
        expectRegistryRevert(err, a);
        // Compressed form (33 bytes) is refused.
        a.publicKey = new bytes(33);
        a.publicKey[0] = 0x02;
        expectRegistryRevert(err, a);
        // 65 bytes with the wrong prefix.
        a.publicKey = e.publicKey;
        a.publicKey[0] = 0x03;
        expectRegistryRevert(err, a);
        // 64 raw bytes (no prefix).
        bytes memory raw = new bytes(64);
        for (uint256 i; i < 64; ++i) {
            raw[i] = e.publicKey[i + 1];
        }
        a.publicKey = raw;
        expectRegistryRevert(err, a);
    }

    function test_RevertWhen_BindingMismatch() external {
        IAttestationVerifier.Attestation memory a = att();
        a.userData = abi.encode(address(this));
        a.nonce = hex"0102030405";

        vm.expectRevert(IEnclaveRegistry.EnclaveRegistryUserDataMismatch.selector);
        registry.registerEnclaveKey(FAMILY, encode(a), keccak256(abi.encode(stranger)), 0);
        vm.expectRevert(IEnclaveRegistry.EnclaveRegistryNonceMismatch.selector);
        registry.registerEnclaveKey(FAMILY, encode(a), 0, keccak256(hex"010203"));

        registry.registerEnclaveKey(FAMILY, encode(a), keccak256(a.userData), keccak256(a.nonce));
        assertTrue(registry.isLiveKey(e.addr, FAMILY));
    }

    function test_RevertGiven_KeyRevoked() external {
        registry.registerEnclaveKey(FAMILY, encode(att()), 0, 0);
        vm.prank(revoker);
        registry.revokeEnclaveKey(FAMILY, e.addr, "leaked");
        expectRegistryRevert(
            abi.encodeWithSelector(IEnclaveRegistry.EnclaveRegistryKeyRevoked.selector, e.addr), att()
        );
    }

    function test_RevertGiven_KeyBoundToOtherImage() external {
        registry.registerEnclaveKey(FAMILY, encode(att()), 0, 0);
        registerImage(FAMILY, 2);
        IAttestationVerifier.Attestation memory a = fields(imagePcrs(2), e.publicKey, nowMs());
        expectRegistryRevert(
            abi.encodeWithSelector(
                IEnclaveRegistry.EnclaveRegistryKeyBoundToOtherImage.selector, e.addr, imageId
            ),
            a
        );
    }

    /// A key bound to an image that was revoked since is free again in that family: a revoked image holds no bound.
    function test_GivenKeyBoundToRevokedImage() external {
        registry.registerEnclaveKey(FAMILY, encode(att()), 0, 0);
        bytes32 second = registerImage(FAMILY, 2);
        vm.prank(revoker);
        registry.revokeImage(imageId, "x");
        assertFalse(registry.isLiveKey(e.addr, FAMILY));

        registry.registerEnclaveKey(FAMILY, encode(fields(imagePcrs(2), e.publicKey, nowMs())), 0, 0);
        IEnclaveRegistry.EnclaveKey memory info = registry.getEnclaveKey(FAMILY, e.addr);
        assertEq(info.imageId, second);
        assertEq(info.expiresAt, uint64(block.timestamp) + KEY_TTL);
        assertTrue(registry.isLiveKey(e.addr, FAMILY));
    }

    /// Flaw: a weaker family blocks a production key for ever. Whoever gets a document accepted in the dev family
    /// (dev-CA verifier, or an unchallenged optimistic claim) copies a production enclave's public key from its
    /// pending registration and registers it first under a dev image. Records are per family, so the production
    /// registration goes through, before and after the dev image is revoked, and the key is live in production.
    function test_WeakerFamilyCannotBlockProductionKey() external {
        // The attacker's dev image and its copy of the production key.
        bytes32 devImage = registerImage(DEV_FAMILY, 2);
        registry.registerEnclaveKey(DEV_FAMILY, encode(fields(imagePcrs(2), e.publicKey, nowMs())), 0, 0);
        assertEq(registry.getEnclaveKey(DEV_FAMILY, e.addr).imageId, devImage);

        // The genuine production registration is not blocked, and the dev record does not make the key live in
        // production (nor the production record in dev beyond the dev image's own record).
        assertFalse(registry.isLiveKey(e.addr, FAMILY));
        registry.registerEnclaveKey(FAMILY, encode(att()), 0, 0);
        assertTrue(registry.isLiveKey(e.addr, FAMILY));
        assertEq(registry.getEnclaveKey(FAMILY, e.addr).imageId, imageId);

        // Revoking the dev image (or the key in dev) changes nothing in production.
        vm.startPrank(revoker);
        registry.revokeImage(devImage, "dev");
        registry.revokeEnclaveKey(DEV_FAMILY, e.addr, "copied key");
        vm.stopPrank();
        assertFalse(registry.isLiveKey(e.addr, DEV_FAMILY));
        assertTrue(registry.isLiveKey(e.addr, FAMILY));
        vm.warp(block.timestamp + 1 days);
        registry.registerEnclaveKey(FAMILY, encode(att()), 0, 0); // renewal still works
        assertTrue(registry.isLiveKey(e.addr, FAMILY));

        // And the other way round: a production record does not block the dev family either.
        bytes32 devImage2 = registerImage(DEV_FAMILY, 3);
        Enclave memory other = enclave("other");
        registry.registerEnclaveKey(FAMILY, encode(fields(imagePcrs(1), other.publicKey, nowMs())), 0, 0);
        registry.registerEnclaveKey(DEV_FAMILY, encode(fields(imagePcrs(3), other.publicKey, nowMs())), 0, 0);
        assertEq(registry.getEnclaveKey(DEV_FAMILY, other.addr).imageId, devImage2);
        assertTrue(registry.isLiveKey(other.addr, FAMILY));
        assertTrue(registry.isLiveKey(other.addr, DEV_FAMILY));
    }

    function test_WhenEveryCheckPasses() external {
        uint64 ts = nowMs() - 2500;
        // The attestation time counts in whole seconds, rounded down: now - 2.5 s is now - 3 s.
        uint64 expiresAt = uint64(block.timestamp - 3) + KEY_TTL;
        vm.expectEmit(address(registry));
        emit IEnclaveRegistry.EnclaveKeyRegistered(e.addr, imageId, FAMILY, expiresAt, ts, address(verifier));
        address key = registry.registerEnclaveKey(FAMILY, encode(fields(imagePcrs(1), e.publicKey, ts)), 0, 0);

        assertEq(key, e.addr, "address = keccak(x || y)[12:]");
        assertTrue(registry.isLiveKey(key, FAMILY));
        assertFalse(registry.isLiveKey(key, DEV_FAMILY));
        assertFalse(registry.isLiveKey(key, bytes32(0)));
        IEnclaveRegistry.EnclaveKey memory info = registry.getEnclaveKey(FAMILY, key);
        assertEq(info.imageId, imageId);
        assertEq(info.family, FAMILY);
        assertEq(info.expiresAt, expiresAt);
        assertFalse(info.revoked);
        assertTrue(info.live);
    }

    function test_GivenKeyAlreadyRegistered() external {
        registry.registerEnclaveKey(FAMILY, encode(att()), 0, 0);
        uint64 first = registry.getEnclaveKey(FAMILY, e.addr).expiresAt;

        vm.warp(block.timestamp + 1 days);
        registry.registerEnclaveKey(FAMILY, encode(att()), 0, 0);
        assertEq(registry.getEnclaveKey(FAMILY, e.addr).expiresAt, first + 1 days, "renewal extends");

        // An older (still fresh) document does not shorten the expiry.
        IAttestationVerifier.Attestation memory older = att();
        older.timestampMs -= 200_000;
        registry.registerEnclaveKey(FAMILY, encode(older), 0, 0);
        assertEq(registry.getEnclaveKey(FAMILY, e.addr).expiresAt, first + 1 days, "never shortens");
    }
}
