// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

import {IPcrRegistry} from "../../../src/interfaces/IPcrRegistry.sol";
import {Base_Test} from "../../Base.t.sol";

contract RegisterImage_Test is Base_Test {
    function test_RevertWhen_CallerNotRegistrar() external {
        bytes32 role = registry.REGISTRAR_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, role)
        );
        vm.prank(stranger);
        registry.registerImage(FAMILY, imagePcrs(1), metadata("1"));
    }

    function test_RevertWhen_AdminWithoutRegistrarRole() external {
        bytes32 role = registry.REGISTRAR_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, admin, role)
        );
        vm.prank(admin);
        registry.registerImage(FAMILY, imagePcrs(1), metadata("1"));
    }

    function test_RevertWhen_FamilyZero() external {
        vm.expectRevert(IPcrRegistry.PcrRegistryZeroFamily.selector);
        vm.prank(registrar);
        registry.registerImage(bytes32(0), imagePcrs(1), metadata("1"));
    }

    function test_RevertWhen_PcrWrongLength() external {
        IPcrRegistry.ImagePcrs memory p = imagePcrs(1);
        p.pcr1 = bytes.concat(p.pcr1, hex"00");
        vm.expectRevert(abi.encodeWithSelector(IPcrRegistry.PcrRegistryInvalidPcrLength.selector, 1, 49));
        vm.prank(registrar);
        registry.registerImage(FAMILY, p, metadata("1"));

        p = imagePcrs(1);
        p.pcr2 = new bytes(32);
        vm.expectRevert(abi.encodeWithSelector(IPcrRegistry.PcrRegistryInvalidPcrLength.selector, 2, 32));
        vm.prank(registrar);
        registry.registerImage(FAMILY, p, metadata("1"));

        p = imagePcrs(1);
        p.pcr8 = new bytes(47);
        vm.expectRevert(abi.encodeWithSelector(IPcrRegistry.PcrRegistryInvalidPcrLength.selector, 8, 47));
        vm.prank(registrar);
        registry.registerImage(FAMILY, p, metadata("1"));
    }

    function test_RevertWhen_DebugPcrs() external {
        for (uint256 i; i < 3; ++i) {
            IPcrRegistry.ImagePcrs memory p = imagePcrs(1);
            if (i == 0) p.pcr0 = zeroPcr();
            if (i == 1) p.pcr1 = zeroPcr();
            if (i == 2) p.pcr2 = zeroPcr();
            vm.expectRevert(abi.encodeWithSelector(IPcrRegistry.PcrRegistryDebugPcr.selector, i));
            vm.prank(registrar);
            registry.registerImage(FAMILY, p, metadata("1"));
        }
    }

    function test_WhenOnlyLastPcrByteNonZero() external {
        // A PCR whose only non-zero byte is the last one is not a debug PCR (guards the 48-byte zero check).
        IPcrRegistry.ImagePcrs memory p = imagePcrs(1);
        p.pcr0 = new bytes(48);
        p.pcr0[47] = 0x01;
        vm.prank(registrar);
        bytes32 id = registry.registerImage(FAMILY, p, metadata("1"));
        assertTrue(registry.isImageLive(id));
    }

    function test_RevertWhen_Pcr8AllZeros() external {
        IPcrRegistry.ImagePcrs memory p = imagePcrs(1);
        p.pcr8 = zeroPcr();
        vm.expectRevert(abi.encodeWithSelector(IPcrRegistry.PcrRegistryDebugPcr.selector, 8));
        vm.prank(registrar);
        registry.registerImage(FAMILY, p, metadata("1"));
    }

    function test_RevertGiven_AlreadyRegistered() external {
        bytes32 id = registerImage(FAMILY, 1);
        vm.expectRevert(abi.encodeWithSelector(IPcrRegistry.PcrRegistryImageAlreadyRegistered.selector, id));
        vm.prank(registrar);
        registry.registerImage(FAMILY, imagePcrs(1), metadata("again"));
        // Also in another family: one image belongs to one family.
        vm.expectRevert(abi.encodeWithSelector(IPcrRegistry.PcrRegistryImageAlreadyRegistered.selector, id));
        vm.prank(registrar);
        registry.registerImage(DEV_FAMILY, imagePcrs(1), metadata("again"));
    }

    function test_RevertGiven_Revoked() external {
        bytes32 id = registerImage(FAMILY, 1);
        vm.prank(revoker);
        registry.revokeImage(id, "cve");
        vm.expectRevert(abi.encodeWithSelector(IPcrRegistry.PcrRegistryImageRevoked.selector, id));
        vm.prank(registrar);
        registry.registerImage(FAMILY, imagePcrs(1), metadata("1"));
    }

    function test_GivenUnknownImage() external {
        IPcrRegistry.ImagePcrs memory p = imagePcrs(7);
        p.pcr8 = pcr(99);
        IPcrRegistry.ImageMetadata memory m = metadata("2.1.0");
        bytes32 expectedId = keccak256(bytes.concat(p.pcr0, p.pcr1, p.pcr2));

        vm.expectEmit(address(registry));
        emit IPcrRegistry.ImageRegistered(expectedId, FAMILY, registrar, p, m);
        vm.prank(registrar);
        bytes32 id = registry.registerImage(FAMILY, p, m);

        assertEq(id, expectedId, "imageId = keccak(PCR0 || PCR1 || PCR2)");
        assertEq(id, registry.computeImageId(p.pcr0, p.pcr1, p.pcr2));
        assertTrue(registry.isImageLive(id));
        assertEq(uint256(registry.imageStatus(id)), uint256(IPcrRegistry.ImageStatus.Registered));

        IPcrRegistry.Image memory image = registry.getImage(id);
        assertEq(image.family, FAMILY);
        assertEq(image.registeredAt, block.timestamp);
        assertEq(image.revokedAt, 0);
        assertEq(image.pcrs.pcr0, p.pcr0);
        assertEq(image.pcrs.pcr1, p.pcr1);
        assertEq(image.pcrs.pcr2, p.pcr2);
        assertEq(image.pcrs.pcr8, p.pcr8);
        assertEq(image.metadata.name, m.name);
        assertEq(image.metadata.version, m.version);
        assertEq(image.metadata.sourceRevision, m.sourceRevision);
        assertEq(image.metadata.eifSha256, m.eifSha256);
        assertEq(image.metadata.provenanceUri, m.provenanceUri);

        bytes32 second = registerImage(FAMILY, 8);
        bytes32[] memory listed = registry.familyImages(FAMILY);
        assertEq(listed.length, 2);
        assertEq(listed[0], id);
        assertEq(listed[1], second);
        assertEq(registry.familyImages(DEV_FAMILY).length, 0);
    }

    function test_UnknownImageViews() external view {
        bytes32 id = idOf(imagePcrs(5));
        assertFalse(registry.isImageLive(id));
        assertEq(uint256(registry.imageStatus(id)), uint256(IPcrRegistry.ImageStatus.None));
        IPcrRegistry.Image memory image = registry.getImage(id);
        assertEq(image.family, bytes32(0));
        assertEq(image.pcrs.pcr0.length, 0);
    }
}
