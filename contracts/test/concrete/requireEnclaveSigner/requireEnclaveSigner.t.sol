// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {IEnclaveAuth} from "../../../src/interfaces/IEnclaveAuth.sol";
import {EnclaveAuthHarness} from "../../mocks/EnclaveAuthHarness.sol";
import {Base_Test} from "../../Base.t.sol";

contract RequireEnclaveSigner_Test is Base_Test {
    /// @dev secp256k1 group order.
    uint256 internal constant N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;
    bytes32 internal constant JOB = keccak256("job-1");
    bytes32 internal constant OUT = keccak256("proof-bytes");

    bytes32 internal imageId;
    Enclave internal e;

    function setUp() public override {
        super.setUp();
        imageId = registerImage(FAMILY, 1);
        e = enclave("e");
        registerKey(FAMILY, 1, e);
    }

    function test_RevertWhen_WrongLength() external {
        bytes memory sig = sign(e, JOB, OUT);
        bytes memory short = new bytes(64);
        for (uint256 i; i < 64; ++i) {
            short[i] = sig[i];
        }
        vm.expectRevert(IEnclaveAuth.EnclaveAuthInvalidSignature.selector);
        gate.check(FAMILY, JOB, OUT, short);
        vm.expectRevert(IEnclaveAuth.EnclaveAuthInvalidSignature.selector);
        gate.check(FAMILY, JOB, OUT, bytes.concat(sig, hex"00"));
        vm.expectRevert(IEnclaveAuth.EnclaveAuthInvalidSignature.selector);
        gate.check(FAMILY, JOB, OUT, "");
    }

    function test_RevertWhen_Malleable() external {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(e.privateKey, gate.digestOf(JOB, OUT));
        // The twin (r, n - s, v ^ 1) recovers the same key through raw ecrecover; the gate refuses it.
        bytes32 highS = bytes32(N - uint256(s));
        uint8 flipped = v == 27 ? 28 : 27;
        assertEq(
            ecrecover(gate.digestOf(JOB, OUT), flipped, r, highS), e.addr, "twin is a valid raw signature"
        );
        vm.expectRevert(IEnclaveAuth.EnclaveAuthInvalidSignature.selector);
        gate.check(FAMILY, JOB, OUT, abi.encodePacked(r, highS, flipped));

        vm.expectRevert(IEnclaveAuth.EnclaveAuthInvalidSignature.selector);
        gate.check(FAMILY, JOB, OUT, abi.encodePacked(r, s, uint8(29)));
        vm.expectRevert(IEnclaveAuth.EnclaveAuthInvalidSignature.selector);
        gate.check(FAMILY, JOB, OUT, abi.encodePacked(r, s, v - 27));
    }

    function test_RevertWhen_OtherDomain() external {
        EnclaveAuthHarness otherGate = new EnclaveAuthHarness(registry);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(e.privateKey, otherGate.digestOf(JOB, OUT));
        bytes memory sig = abi.encodePacked(r, s, v);
        assertEq(otherGate.check(FAMILY, JOB, OUT, sig), e.addr);

        address recovered = ecrecover(gate.digestOf(JOB, OUT), v, r, s);
        assertTrue(recovered != e.addr);
        vm.expectRevert(
            abi.encodeWithSelector(IEnclaveAuth.EnclaveAuthKeyNotLive.selector, recovered, FAMILY)
        );
        gate.check(FAMILY, JOB, OUT, sig);

        // Same contract address, another chain id: the domain separator changes.
        vm.chainId(block.chainid + 1);
        vm.expectRevert();
        otherGate.check(FAMILY, JOB, OUT, sig);
    }

    function test_RevertGiven_SignerUnknown() external {
        Enclave memory unknown = enclave("unknown");
        bytes memory sig = sign(unknown, JOB, OUT);
        vm.expectRevert(
            abi.encodeWithSelector(IEnclaveAuth.EnclaveAuthKeyNotLive.selector, unknown.addr, FAMILY)
        );
        gate.check(FAMILY, JOB, OUT, sig);
    }

    function test_RevertGiven_SignerInOtherFamily() external {
        bytes memory sig = sign(e, JOB, OUT);
        vm.expectRevert(
            abi.encodeWithSelector(IEnclaveAuth.EnclaveAuthKeyNotLive.selector, e.addr, DEV_FAMILY)
        );
        gate.check(DEV_FAMILY, JOB, OUT, sig);
    }

    function test_RevertGiven_ImageRevokedThisBlock() external {
        bytes memory sig = sign(e, JOB, OUT);
        assertEq(gate.check(FAMILY, JOB, OUT, sig), e.addr);
        vm.prank(revoker);
        registry.revokeImage(imageId, "x");
        vm.expectRevert(abi.encodeWithSelector(IEnclaveAuth.EnclaveAuthKeyNotLive.selector, e.addr, FAMILY));
        gate.check(FAMILY, JOB, OUT, sig);
        vm.expectRevert(abi.encodeWithSelector(IEnclaveAuth.EnclaveAuthKeyNotLive.selector, e.addr, FAMILY));
        gate.accept(FAMILY, JOB, OUT, sig);
    }

    function test_WhenLive() external {
        bytes memory sig = sign(e, JOB, OUT);
        assertEq(gate.check(FAMILY, JOB, OUT, sig), e.addr);
        // Without the replay guard the same message passes again, and marks nothing.
        assertEq(gate.check(FAMILY, JOB, OUT, sig), e.addr);
        assertFalse(gate.isEnclaveDigestUsed(gate.digestOf(JOB, OUT)));
        assertEq(address(gate.enclaveRegistry()), address(registry));
    }

    function test_RevertGiven_DigestUsed() external {
        bytes memory sig = sign(e, JOB, OUT);
        vm.expectEmit(address(gate));
        emit EnclaveAuthHarness.ResultAccepted(JOB, e.addr);
        gate.accept(FAMILY, JOB, OUT, sig);
        assertTrue(gate.isEnclaveDigestUsed(gate.digestOf(JOB, OUT)));

        bytes32 digest = gate.digestOf(JOB, OUT);
        vm.expectRevert(abi.encodeWithSelector(IEnclaveAuth.EnclaveAuthDigestUsed.selector, digest));
        gate.accept(FAMILY, JOB, OUT, sig);

        // A fresh signature of the same message (different nonce k) is the same digest: still refused.
        bytes memory again = sign(e, JOB, OUT);
        vm.expectRevert(abi.encodeWithSelector(IEnclaveAuth.EnclaveAuthDigestUsed.selector, digest));
        gate.accept(FAMILY, JOB, OUT, again);
    }

    function test_GivenDigestNew() external {
        gate.accept(FAMILY, JOB, OUT, sign(e, JOB, OUT));
        bytes32 job2 = keccak256("job-2");
        assertEq(gate.accept(FAMILY, job2, OUT, sign(e, job2, OUT)), e.addr);
    }
}
