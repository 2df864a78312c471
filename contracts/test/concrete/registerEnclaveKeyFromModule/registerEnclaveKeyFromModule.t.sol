// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

import {IAttestationVerifier} from "../../../src/interfaces/IAttestationVerifier.sol";
import {IEnclaveRegistry} from "../../../src/interfaces/IEnclaveRegistry.sol";
import {Base_Test} from "../../Base.t.sol";

contract RegisterEnclaveKeyFromModule_Test is Base_Test {
    bytes32 internal imageId;
    Enclave internal e;

    function setUp() public override {
        super.setUp();
        imageId = registerImage(FAMILY, 1);
        e = enclave("enclave");
    }

    function test_RevertWhen_CallerNotModule() external {
        IAttestationVerifier.Attestation memory a = fields(imagePcrs(1), e.publicKey, nowMs());
        bytes32 role = registry.REGISTRAR_MODULE_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, admin, role)
        );
        vm.prank(admin);
        registry.registerEnclaveKeyFromModule(FAMILY, a, uint64(block.timestamp), 0, 0);
    }

    function test_RevertGiven_FamilyNotConfigured() external {
        bytes32 unconfigured = keccak256("unconfigured");
        IAttestationVerifier.Attestation memory a = fields(imagePcrs(1), e.publicKey, nowMs());
        vm.expectRevert(
            abi.encodeWithSelector(IEnclaveRegistry.EnclaveRegistryFamilyNotConfigured.selector, unconfigured)
        );
        vm.prank(module);
        registry.registerEnclaveKeyFromModule(unconfigured, a, uint64(block.timestamp), 0, 0);
    }

    function test_RevertWhen_ReceivedInFuture() external {
        IAttestationVerifier.Attestation memory a = fields(imagePcrs(1), e.publicKey, nowMs());
        uint64 later = uint64(block.timestamp + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IEnclaveRegistry.EnclaveRegistryInvalidReceivedAt.selector, later)
        );
        vm.prank(module);
        registry.registerEnclaveKeyFromModule(FAMILY, a, later, 0, 0);
    }

    function test_RevertWhen_PolicyFails() external {
        vm.startPrank(module);
        IAttestationVerifier.Attestation memory a = fields(imagePcrs(1), e.publicKey, nowMs());
        a.pcrs[0] = zeroPcr();
        vm.expectRevert(IEnclaveRegistry.EnclaveRegistryDebugEnclave.selector);
        registry.registerEnclaveKeyFromModule(FAMILY, a, uint64(block.timestamp), 0, 0);

        a = fields(imagePcrs(9), e.publicKey, nowMs());
        vm.expectRevert(
            abi.encodeWithSelector(IEnclaveRegistry.EnclaveRegistryImageNotLive.selector, idOf(imagePcrs(9)))
        );
        registry.registerEnclaveKeyFromModule(FAMILY, a, uint64(block.timestamp), 0, 0);

        a = fields(imagePcrs(1), hex"04", nowMs());
        vm.expectRevert(IEnclaveRegistry.EnclaveRegistryInvalidPublicKey.selector);
        registry.registerEnclaveKeyFromModule(FAMILY, a, uint64(block.timestamp), 0, 0);
        vm.stopPrank();
    }

    function test_RevertWhen_StaleAtReceipt() external {
        IAttestationVerifier.Attestation memory a = fields(imagePcrs(1), e.publicKey, nowMs());
        vm.warp(block.timestamp + 1 hours);
        uint64 receivedAt = uint64(block.timestamp - 10 minutes);
        vm.expectRevert(
            abi.encodeWithSelector(
                IEnclaveRegistry.EnclaveRegistryAttestationStale.selector, a.timestampMs, uint256(receivedAt)
            )
        );
        vm.prank(module);
        registry.registerEnclaveKeyFromModule(FAMILY, a, receivedAt, 0, 0);
    }

    function test_WhenFreshAtReceipt() external {
        IAttestationVerifier.Attestation memory a = fields(imagePcrs(1), e.publicKey, nowMs());
        uint64 receivedAt = uint64(block.timestamp + 60);
        // A one-hour challenge window passes: the document is stale now but was fresh when received.
        vm.warp(block.timestamp + 1 hours);
        verifier.setRejectAll(true); // the module path never consults the verifier

        vm.expectEmit(address(registry));
        emit IEnclaveRegistry.EnclaveKeyRegistered(
            e.addr, imageId, FAMILY, uint64(a.timestampMs / 1000) + KEY_TTL, a.timestampMs, module
        );
        vm.prank(module);
        address key = registry.registerEnclaveKeyFromModule(FAMILY, a, receivedAt, 0, 0);
        assertEq(key, e.addr);
        assertTrue(registry.isLiveKey(key, FAMILY));
    }
}
