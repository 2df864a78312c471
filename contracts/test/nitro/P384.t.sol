// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {Test} from "forge-std/Test.sol";
import {P384} from "../../src/nitro/P384.sol";
import {P384Vectors} from "../fixtures/nitro/P384Vectors.sol";
import {IP384Verifier} from "../../src/nitro/IP384Verifier.sol";

contract P384Harness {
    function verify(uint256[16] memory v) external view returns (bool) {
        return P384.verify(v);
    }

    function check(uint256[16] memory v) external view returns (uint256) {
        return P384.check(v);
    }

    /// Verifies with the memory above the free pointer filled with ones first.
    function verifyDirty(uint256[16] memory v) external view returns (bool) {
        assembly {
            let m := mload(0x40)
            for { let i := 0 } lt(i, 0x2000) { i := add(i, 32) } { mstore(add(m, i), not(0)) }
        }
        return P384.verify(v);
    }
}

contract P384_Test is Test {
    P384Harness internal harness;
    /// The deployed form (IR pipeline): every verdict test checks it agrees with the library.
    IP384Verifier internal deployed;

    function setUp() public {
        harness = new P384Harness();
        deployed = IP384Verifier(deployCode("P384Verifier.sol:P384Verifier"));
    }

    function _vector(bytes memory all, uint256 i) internal pure returns (uint256[16] memory v) {
        for (uint256 j = 0; j < 16; j++) {
            uint256 off = 32 + (i * 16 + j) * 32;
            uint256 w;
            assembly {
                w := mload(add(all, off))
            }
            v[j] = w;
        }
    }

    function test_VerifiesEveryGoodVector() public view {
        for (uint256 i = 0; i < P384Vectors.GOOD_COUNT; i++) {
            assertTrue(harness.verify(_vector(P384Vectors.GOOD, i)), vm.toString(i));
            assertEq(deployed.check(_vector(P384Vectors.GOOD, i)), P384.VALID, vm.toString(i));
        }
    }

    function test_RejectsEveryBadVector() public view {
        for (uint256 i = 0; i < P384Vectors.BAD_COUNT; i++) {
            assertFalse(harness.verify(_vector(P384Vectors.BAD, i)), vm.toString(i));
            assertEq(deployed.check(_vector(P384Vectors.BAD, i)), harness.check(_vector(P384Vectors.BAD, i)));
        }
    }

    function testFuzz_RejectsFlippedDigestBit(uint256 vec, uint8 bit) public view {
        uint256[16] memory v = _vector(P384Vectors.GOOD, vec % P384Vectors.GOOD_COUNT);
        if (bit < 128) v[0] ^= 1 << bit;
        else v[1] ^= 1 << (bit - 128);
        assertFalse(harness.verify(v));
    }

    /// Scratch memory above the free pointer may hold anything (e.g. a previous SHA-384 schedule).
    function test_VerifiesWithDirtyScratchMemory() public view {
        assertTrue(harness.verifyDirty(_vector(P384Vectors.GOOD, 3)));
    }

    /// A wrong or unreduced hint is reported as such, not as an invalid signature.
    function test_WrongHintIsNotAnInvalidSignature() public view {
        assertEq(harness.check(_vector(P384Vectors.BAD, 3)), P384.BAD_HINT);
        assertEq(harness.check(_vector(P384Vectors.BAD, 4)), P384.BAD_HINT);
        assertEq(harness.check(_vector(P384Vectors.BAD, 0)), P384.INVALID);
        assertEq(harness.check(_vector(P384Vectors.GOOD, 0)), P384.VALID);
    }

    uint256 internal constant P_HI = 0xffffffffffffffffffffffffffffffff;
    uint256 internal constant P_LO = 0xfffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff;
    uint256 internal constant NEG = 1 << 255;

    /// Half-size hints that are wrong in every way the contract can be given: each must leave the
    /// verdict to the textbook check, so a valid signature stays valid (only slower) and an invalid one
    /// stays invalid.
    function _adversarialHalfSizeHints(uint256[16] memory v) internal pure returns (uint256[4][12] memory h) {
        uint256 yHi = v[12] & ~NEG;
        uint256 flag = v[12] & NEG;
        // −y(R) = p − y as (hi, lo) words.
        uint256 negLo;
        uint256 negHi;
        unchecked {
            negLo = P_LO - v[13];
            negHi = P_HI - yHi - (v[13] > P_LO ? 1 : 0);
        }
        h[0] = [v[12], v[13], 0, v[15]]; // a = 0 (a·R vanishes: the check would hold for any R)
        h[1] = [v[12], v[13], v[14], 0]; // b = 0
        h[2] = [v[12], v[13], v[14], v[15] ^ NEG]; // wrong sign of b
        h[3] = [v[12], v[13] ^ 1, v[14], v[15]]; // R off the curve
        h[4] = [flag | negHi, negLo, v[14], v[15]]; // −R: wrong parity of y
        h[5] = [v[12] ^ NEG, v[13], v[14], v[15]]; // x(R) = r + n claimed
        h[6] = [v[12], v[13], v[14] + 1, v[15]]; // a·u2 ≢ b
        h[7] = [v[12], v[13], v[14] | (1 << 192), v[15]]; // a ≥ 2^192
        h[8] = [v[12], v[13], v[14], v[15] | (1 << 200)]; // |b| ≥ 2^192
        h[9] = [0, 0, v[14], v[15]]; // y = 0 (no such point: the curve has no point of order 2)
        h[10] = [yHi | (1 << 128), v[13], v[14], v[15]]; // y not reduced below p
        h[11] = [v[12], v[13], v[14], NEG]; // b = −0
    }

    function _withHalfSize(uint256[16] memory v, uint256[4] memory h)
        internal
        pure
        returns (uint256[16] memory w)
    {
        w = v;
        (w[12], w[13], w[14], w[15]) = (h[0], h[1], h[2], h[3]);
    }

    /// A valid signature with a wrong half-size hint is still valid (the textbook check decides).
    function test_WrongHalfSizeHintKeepsAValidSignatureValid() public view {
        uint256[16] memory v = _vector(P384Vectors.GOOD, 0);
        uint256[4][12] memory hs = _adversarialHalfSizeHints(v);
        for (uint256 i = 0; i < hs.length; i++) {
            assertEq(harness.check(_withHalfSize(v, hs[i])), P384.VALID, vm.toString(i));
        }
    }

    /// No half-size hint makes an invalid signature pass: the digest-flipped vector with the valid
    /// signature's hint and every corruption of it, and the other invalid vectors with theirs.
    function test_AdversarialHalfSizeHintsNeverPassABadSignature() public view {
        uint256[16] memory v = _vector(P384Vectors.BAD, 0); // digest changed, GOOD[0]'s half-size hint
        assertEq(harness.check(v), P384.INVALID);
        uint256[4][12] memory hs = _adversarialHalfSizeHints(v);
        for (uint256 i = 0; i < hs.length; i++) {
            assertEq(harness.check(_withHalfSize(v, hs[i])), P384.INVALID, vm.toString(i));
        }
        v = _vector(P384Vectors.BAD, 1); // r changed
        assertEq(harness.check(v), P384.INVALID);
        assertEq(harness.check(_withHalfSize(v, [uint256(0), 0, 0, 0])), P384.INVALID);
    }

    /// The half-size hint of a valid signature makes the check pass; without it the textbook check does.
    function test_HalfSizeHintIsOptional() public view {
        uint256[16] memory v = _vector(P384Vectors.GOOD, 0);
        assertTrue(v[14] != 0, "vector 0 has a half-size hint");
        assertEq(harness.check(v), P384.VALID);
        assertEq(harness.check(_withHalfSize(v, [uint256(0), 0, 0, 0])), P384.VALID);
        v = _vector(P384Vectors.GOOD, 2);
        assertEq(v[14], 0, "vector 2 has none");
        assertEq(harness.check(v), P384.VALID);
    }

    /// Random half-size hints never change a verdict.
    function testFuzz_RandomHalfSizeHintNeverChangesTheVerdict(uint256[4] memory h, bool good) public view {
        uint256[16] memory v = _vector(good ? P384Vectors.GOOD : P384Vectors.BAD, 0);
        assertEq(harness.check(_withHalfSize(v, h)), good ? P384.VALID : P384.INVALID);
        assertEq(deployed.check(_withHalfSize(v, h)), good ? P384.VALID : P384.INVALID);
    }

    /// Gas of one external `check` on the deployed verifier, call included.
    function _gasOfDeployed(uint256[16] memory v) internal view returns (uint256 g) {
        g = gasleft();
        uint256 outcome = deployed.check(v);
        g -= gasleft();
        assertEq(outcome, P384.VALID);
    }

    /// The textbook path on its own (every third vector carries no half-size hint).
    function test_gas_p384_verify_textbook() public {
        vm.snapshotValue("p384_verify_one_signature_textbook", _gasOfDeployed(_vector(P384Vectors.GOOD, 2)));
    }

    function test_gas_p384_verify() public {
        vm.snapshotValue("p384_verify_one_signature", _gasOfDeployed(_vector(P384Vectors.GOOD, 0)));
    }
}
