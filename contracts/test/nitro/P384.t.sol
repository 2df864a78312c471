// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {Test} from "forge-std/Test.sol";
import {P384} from "../../src/nitro/P384.sol";
import {P384Vectors} from "../fixtures/nitro/P384Vectors.sol";

contract P384Harness {
    function verify(uint256[12] memory v) external view returns (bool) {
        return P384.verify(v);
    }

    function check(uint256[12] memory v) external view returns (uint256) {
        return P384.check(v);
    }

    /// Verifies with the memory above the free pointer filled with ones first.
    function verifyDirty(uint256[12] memory v) external view returns (bool) {
        assembly {
            let m := mload(0x40)
            for { let i := 0 } lt(i, 0x2000) { i := add(i, 32) } { mstore(add(m, i), not(0)) }
        }
        return P384.verify(v);
    }

    function gasOfVerify(uint256[12] memory v) external view returns (uint256 g, bool ok) {
        g = gasleft();
        ok = P384.verify(v);
        g -= gasleft();
    }
}

contract P384_Test is Test {
    P384Harness internal harness;

    function setUp() public {
        harness = new P384Harness();
    }

    function _vector(bytes memory all, uint256 i) internal pure returns (uint256[12] memory v) {
        for (uint256 j = 0; j < 12; j++) {
            uint256 off = 32 + (i * 12 + j) * 32;
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
        }
    }

    function test_RejectsEveryBadVector() public view {
        for (uint256 i = 0; i < P384Vectors.BAD_COUNT; i++) {
            assertFalse(harness.verify(_vector(P384Vectors.BAD, i)), vm.toString(i));
        }
    }

    function testFuzz_RejectsFlippedDigestBit(uint256 vec, uint8 bit) public view {
        uint256[12] memory v = _vector(P384Vectors.GOOD, vec % P384Vectors.GOOD_COUNT);
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

    function test_gas_p384_verify() public {
        (uint256 g, bool ok) = harness.gasOfVerify(_vector(P384Vectors.GOOD, 0));
        assertTrue(ok);
        vm.snapshotValue("p384_verify_one_signature", g);
    }
}
