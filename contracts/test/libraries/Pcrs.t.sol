// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {Test} from "forge-std/Test.sol";

import {Pcrs} from "../../src/libraries/Pcrs.sol";

/// @notice The image id of fixed PCRs. The Rust side (crate `nitro-pcrs`, `ImagePcrs::image_id`)
/// pins the same vector: the two must agree byte for byte.
contract Pcrs_Test is Test {
    /// PCR0 ‖ PCR1 ‖ PCR2 is the 144 bytes 0x00, 0x01, ... 0x8f.
    bytes internal constant PCR0 =
        hex"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f";
    bytes internal constant PCR1 =
        hex"303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f";
    bytes internal constant PCR2 =
        hex"606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f";
    bytes32 internal constant IMAGE_ID = 0x36b6c310c763efcdcd51591b27ac640ec854bf8da8e413f4cc0f4a29e2a48dbc;

    function test_ImageIdIsKeccakOfPcr0To2() external pure {
        assertEq(Pcrs.imageId(PCR0, PCR1, PCR2), IMAGE_ID);
    }

    function test_ImageIdDependsOnTheOrder() external pure {
        assertNotEq(Pcrs.imageId(PCR1, PCR0, PCR2), IMAGE_ID);
    }
}
