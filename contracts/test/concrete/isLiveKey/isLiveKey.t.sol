// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {Base_Test} from "../../Base.t.sol";

contract IsLiveKey_Test is Base_Test {
    bytes32 internal imageId;
    Enclave internal e;

    function setUp() public override {
        super.setUp();
        imageId = registerImage(FAMILY, 1);
        e = enclave("e");
        registerKey(FAMILY, 1, e);
    }

    function test_GivenUnknownKey() external view {
        assertFalse(registry.isLiveKey(stranger, FAMILY));
        assertFalse(registry.isLiveKey(stranger, bytes32(0)));
        assertFalse(registry.isLiveKey(address(0), bytes32(0)));
        assertEq(registry.getEnclaveKey(FAMILY, stranger).imageId, bytes32(0));
        assertFalse(registry.getEnclaveKey(FAMILY, stranger).live);
    }

    function test_WhenOtherFamily() external view {
        assertFalse(registry.isLiveKey(e.addr, DEV_FAMILY));
        assertFalse(registry.isLiveKey(e.addr, bytes32(0)));
    }

    function test_GivenExpired() external {
        uint64 expiresAt = registry.getEnclaveKey(FAMILY, e.addr).expiresAt;
        vm.warp(expiresAt - 1);
        assertTrue(registry.isLiveKey(e.addr, FAMILY));
        vm.warp(expiresAt);
        assertFalse(registry.isLiveKey(e.addr, FAMILY));
        assertFalse(registry.getEnclaveKey(FAMILY, e.addr).live);
    }

    function test_GivenKeyRevoked() external {
        vm.prank(revoker);
        registry.revokeEnclaveKey(FAMILY, e.addr, "x");
        assertFalse(registry.isLiveKey(e.addr, FAMILY));
    }

    function test_GivenImageRevoked() external {
        vm.prank(revoker);
        registry.revokeImage(imageId, "x");
        assertFalse(registry.isLiveKey(e.addr, FAMILY));
        assertFalse(registry.isLiveKey(e.addr, bytes32(0)));
        assertEq(registry.getEnclaveKey(FAMILY, e.addr).family, FAMILY, "record still names its family");
    }

    function test_GivenLive() external view {
        assertTrue(registry.isLiveKey(e.addr, FAMILY));
    }
}
