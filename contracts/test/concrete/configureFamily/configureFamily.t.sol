// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

import {IAttestationVerifier} from "../../../src/interfaces/IAttestationVerifier.sol";
import {IEnclaveRegistry} from "../../../src/interfaces/IEnclaveRegistry.sol";
import {IPcrRegistry} from "../../../src/interfaces/IPcrRegistry.sol";
import {Base_Test} from "../../Base.t.sol";

contract ConfigureFamily_Test is Base_Test {
    bytes32 internal constant NEW_FAMILY = keccak256("prover");

    function test_RevertWhen_CallerNotAdmin() external {
        bytes32 role = registry.DEFAULT_ADMIN_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, registrar, role)
        );
        vm.prank(registrar);
        registry.configureFamily(NEW_FAMILY, verifier, MAX_AGE, KEY_TTL);
    }

    function test_RevertWhen_FamilyZero() external {
        vm.expectRevert(IPcrRegistry.PcrRegistryZeroFamily.selector);
        vm.prank(admin);
        registry.configureFamily(bytes32(0), verifier, MAX_AGE, KEY_TTL);
    }

    function test_RevertWhen_MaxAgeOutOfBounds() external {
        vm.startPrank(admin);
        vm.expectRevert(IEnclaveRegistry.EnclaveRegistryInvalidFamilyConfig.selector);
        registry.configureFamily(NEW_FAMILY, verifier, 0, KEY_TTL);
        vm.expectRevert(IEnclaveRegistry.EnclaveRegistryInvalidFamilyConfig.selector);
        registry.configureFamily(NEW_FAMILY, verifier, 1 days + 1, KEY_TTL);
        vm.stopPrank();
    }

    function test_RevertWhen_KeyTtlOutOfBounds() external {
        vm.startPrank(admin);
        vm.expectRevert(IEnclaveRegistry.EnclaveRegistryInvalidFamilyConfig.selector);
        registry.configureFamily(NEW_FAMILY, verifier, MAX_AGE, MAX_AGE);
        vm.expectRevert(IEnclaveRegistry.EnclaveRegistryInvalidFamilyConfig.selector);
        registry.configureFamily(NEW_FAMILY, verifier, MAX_AGE, 365 days + 1);
        vm.stopPrank();
    }

    function test_RevertWhen_VerifierHasNoCode() external {
        vm.expectRevert(IEnclaveRegistry.EnclaveRegistryInvalidFamilyConfig.selector);
        vm.prank(admin);
        registry.configureFamily(NEW_FAMILY, IAttestationVerifier(makeAddr("eoa")), MAX_AGE, KEY_TTL);
    }

    function test_WhenValid() external {
        vm.expectEmit(address(registry));
        emit IEnclaveRegistry.FamilyConfigured(NEW_FAMILY, address(verifier), 60, 1 days);
        vm.prank(admin);
        registry.configureFamily(NEW_FAMILY, verifier, 60, 1 days);
        IEnclaveRegistry.FamilyConfig memory c = registry.familyConfig(NEW_FAMILY);
        assertEq(address(c.verifier), address(verifier));
        assertEq(c.maxAttestationAge, 60);
        assertEq(c.keyTtl, 1 days);
        assertEq(address(registry.familyConfig(keccak256("unknown")).verifier), address(0));
    }

    function test_WhenVerifierZero() external {
        vm.prank(admin);
        registry.configureFamily(NEW_FAMILY, IAttestationVerifier(address(0)), MAX_AGE, KEY_TTL);
        registerImage(NEW_FAMILY, 1);
        Enclave memory e = enclave("e");
        IAttestationVerifier.Attestation memory a = fields(imagePcrs(1), e.publicKey, nowMs());

        vm.expectRevert(
            abi.encodeWithSelector(IEnclaveRegistry.EnclaveRegistryFamilyNotConfigured.selector, NEW_FAMILY)
        );
        registry.registerEnclaveKey(NEW_FAMILY, encode(a), 0, 0);

        vm.prank(module);
        registry.registerEnclaveKeyFromModule(NEW_FAMILY, a, uint64(block.timestamp), 0, 0);
        assertTrue(registry.isLiveKey(e.addr, NEW_FAMILY));
    }
}
