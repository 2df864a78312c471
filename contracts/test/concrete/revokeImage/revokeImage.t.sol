// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

import {IPcrRegistry} from "../../../src/interfaces/IPcrRegistry.sol";
import {Base_Test} from "../../Base.t.sol";

contract RevokeImage_Test is Base_Test {
    bytes32 internal imageId;

    function setUp() public override {
        super.setUp();
        imageId = registerImage(FAMILY, 1);
    }

    function test_RevertWhen_CallerNotRevoker() external {
        bytes32 role = registry.REVOKER_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, registrar, role)
        );
        vm.prank(registrar);
        registry.revokeImage(imageId, "x");
    }

    function test_RevertGiven_NeverRegistered() external {
        bytes32 unknown = idOf(imagePcrs(2));
        vm.expectRevert(abi.encodeWithSelector(IPcrRegistry.PcrRegistryImageNotRegistered.selector, unknown));
        vm.prank(revoker);
        registry.revokeImage(unknown, "x");
    }

    function test_RevertGiven_AlreadyRevoked() external {
        vm.prank(revoker);
        registry.revokeImage(imageId, "x");
        vm.expectRevert(abi.encodeWithSelector(IPcrRegistry.PcrRegistryImageRevoked.selector, imageId));
        vm.prank(revoker);
        registry.revokeImage(imageId, "x");
    }

    function test_GivenLiveImage() external {
        bytes32 other = registerImage(FAMILY, 2);
        Enclave memory a = enclave("a");
        Enclave memory b = enclave("b");
        Enclave memory c = enclave("c");
        registerKey(FAMILY, 1, a);
        registerKey(FAMILY, 1, b);
        registerKey(FAMILY, 2, c);
        assertTrue(registry.isLiveKey(a.addr, FAMILY));
        assertTrue(registry.isLiveKey(b.addr, FAMILY));

        vm.warp(block.timestamp + 10);
        vm.expectEmit(address(registry));
        emit IPcrRegistry.ImageRevoked(imageId, FAMILY, revoker, "CVE-2026-0001");
        vm.prank(revoker);
        registry.revokeImage(imageId, "CVE-2026-0001");

        assertFalse(registry.isImageLive(imageId));
        assertEq(uint256(registry.imageStatus(imageId)), uint256(IPcrRegistry.ImageStatus.Revoked));
        assertEq(registry.getImage(imageId).revokedAt, block.timestamp);
        assertEq(registry.getImage(imageId).pcrs.pcr0, imagePcrs(1).pcr0, "record kept for the public");

        // Same block: every key of the revoked image is dead, the other image's key is not.
        assertFalse(registry.isLiveKey(a.addr, FAMILY));
        assertFalse(registry.isLiveKey(b.addr, FAMILY));
        assertFalse(registry.getEnclaveKey(FAMILY, a.addr).live);
        assertTrue(registry.isImageLive(other));
        assertTrue(registry.isLiveKey(c.addr, FAMILY));
    }
}
