// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

import {IEnclaveRegistry} from "../../../src/interfaces/IEnclaveRegistry.sol";
import {Base_Test} from "../../Base.t.sol";

contract RevokeEnclaveKey_Test is Base_Test {
    bytes32 internal imageId;
    Enclave internal a;
    Enclave internal b;

    function setUp() public override {
        super.setUp();
        imageId = registerImage(FAMILY, 1);
        a = enclave("a");
        b = enclave("b");
        registerKey(FAMILY, 1, a);
        registerKey(FAMILY, 1, b);
    }

    function test_RevertWhen_CallerNotRevoker() external {
        bytes32 role = registry.REVOKER_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, admin, role)
        );
        vm.prank(admin);
        registry.revokeEnclaveKey(FAMILY, a.addr, "x");
    }

    function test_RevertGiven_NeverRegistered() external {
        vm.expectRevert(
            abi.encodeWithSelector(IEnclaveRegistry.EnclaveRegistryKeyNotRegistered.selector, stranger)
        );
        vm.prank(revoker);
        registry.revokeEnclaveKey(FAMILY, stranger, "x");
        // Registered in FAMILY only: unknown in the dev family.
        vm.expectRevert(
            abi.encodeWithSelector(IEnclaveRegistry.EnclaveRegistryKeyNotRegistered.selector, a.addr)
        );
        vm.prank(revoker);
        registry.revokeEnclaveKey(DEV_FAMILY, a.addr, "x");
    }

    function test_RevertGiven_AlreadyRevoked() external {
        vm.prank(revoker);
        registry.revokeEnclaveKey(FAMILY, a.addr, "x");
        vm.expectRevert(abi.encodeWithSelector(IEnclaveRegistry.EnclaveRegistryKeyRevoked.selector, a.addr));
        vm.prank(revoker);
        registry.revokeEnclaveKey(FAMILY, a.addr, "x");
    }

    function test_GivenRegistered() external {
        vm.expectEmit(address(registry));
        emit IEnclaveRegistry.EnclaveKeyRevoked(a.addr, imageId, revoker, "key leaked");
        vm.prank(revoker);
        registry.revokeEnclaveKey(FAMILY, a.addr, "key leaked");

        assertFalse(registry.isLiveKey(a.addr, FAMILY));
        IEnclaveRegistry.EnclaveKey memory info = registry.getEnclaveKey(FAMILY, a.addr);
        assertTrue(info.revoked);
        assertFalse(info.live);
        assertEq(info.imageId, imageId);
        assertTrue(registry.isLiveKey(b.addr, FAMILY));
        assertTrue(registry.isImageLive(imageId));
    }
}
