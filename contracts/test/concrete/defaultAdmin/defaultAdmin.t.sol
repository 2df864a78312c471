// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {
    IAccessControlDefaultAdminRules
} from "@openzeppelin/contracts/access/extensions/IAccessControlDefaultAdminRules.sol";

import {Base_Test} from "../../Base.t.sol";

contract DefaultAdmin_Test is Base_Test {
    address internal timelock = makeAddr("timelock");

    function test_RevertWhen_GrantAdminDirectly() external {
        bytes32 adminRole = registry.DEFAULT_ADMIN_ROLE();
        vm.expectRevert(IAccessControlDefaultAdminRules.AccessControlEnforcedDefaultAdminRules.selector);
        vm.prank(admin);
        registry.grantRole(adminRole, timelock);
    }

    function test_TransferToTimelock() external {
        vm.prank(admin);
        registry.beginDefaultAdminTransfer(timelock);
        (address pending, uint48 schedule) = registry.pendingDefaultAdmin();
        assertEq(pending, timelock);
        assertEq(schedule, block.timestamp + ADMIN_DELAY);

        vm.warp(schedule - 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControlDefaultAdminRules.AccessControlEnforcedDefaultAdminDelay.selector, schedule
            )
        );
        vm.prank(timelock);
        registry.acceptDefaultAdminTransfer();

        vm.warp(schedule + 1);
        vm.prank(timelock);
        registry.acceptDefaultAdminTransfer();
        assertEq(registry.defaultAdmin(), timelock);
        assertFalse(registry.hasRole(registry.DEFAULT_ADMIN_ROLE(), admin));

        bytes32 adminRole = registry.DEFAULT_ADMIN_ROLE();
        bytes32 registrarRole = registry.REGISTRAR_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, admin, adminRole)
        );
        vm.prank(admin);
        registry.grantRole(registrarRole, stranger);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, admin, adminRole)
        );
        vm.prank(admin);
        registry.configureFamily(FAMILY, verifier, 60, 1 days);

        vm.prank(timelock);
        registry.configureFamily(FAMILY, verifier, 60, 1 days);
        assertEq(registry.familyConfig(FAMILY).maxAttestationAge, 60);
    }

    function test_GrantAndRevokeRoles() external {
        bytes32 registrarRole = registry.REGISTRAR_ROLE();
        vm.prank(admin);
        registry.grantRole(registrarRole, stranger);
        vm.prank(stranger);
        registry.registerImage(FAMILY, imagePcrs(1), metadata("1"));

        vm.prank(admin);
        registry.revokeRole(registrarRole, stranger);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, registrarRole
            )
        );
        vm.prank(stranger);
        registry.registerImage(FAMILY, imagePcrs(2), metadata("2"));
    }
}
