// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {IProofMarketplace} from "../../../../src/marketplace/IProofMarketplace.sol";
import {Marketplace_Test} from "../../Marketplace.t.sol";

contract RegisterGenerator_Test is Marketplace_Test {
    address internal g = makeAddr("g");

    function test_RevertWhen_CapacityOutOfRange() external {
        vm.startPrank(g);
        vm.expectRevert(IProofMarketplace.ProofMarketplaceInvalidCapacity.selector);
        mp.registerGenerator(0);
        uint32 tooMany = mp.MAX_CAPACITY() + 1;
        vm.expectRevert(IProofMarketplace.ProofMarketplaceInvalidCapacity.selector);
        mp.registerGenerator(tooMany);
        vm.stopPrank();
    }

    function test_RevertGiven_Registered() external {
        vm.startPrank(g);
        mp.registerGenerator(2);
        vm.expectRevert(IProofMarketplace.ProofMarketplaceGeneratorRegistered.selector);
        mp.registerGenerator(3);
        vm.stopPrank();
    }

    function test_GivenNeverRegistered() external {
        address h = makeAddr("h");
        vm.prank(h);
        mp.registerGenerator(1);
        vm.expectEmit(address(mp));
        emit IProofMarketplace.GeneratorRegistered(g, 7);
        vm.prank(g);
        mp.registerGenerator(7);
        IProofMarketplace.Generator memory info = mp.getGenerator(g);
        assertTrue(info.registered);
        assertEq(info.capacity, 7);
        assertEq(info.active, 0);
        assertEq(info.id, 2);
        assertEq(mp.getGenerator(h).id, 1);
    }

    function test_GivenDeregisteredBefore() external {
        address gen = addGenerator("gen", market, 0, 2, PENALTY);
        uint256 askId = createAsk(market, 1);
        assign(one(askId, 0, gen, REWARD));
        vm.startPrank(gen);
        mp.deregisterGenerator();
        mp.registerGenerator(5);
        vm.stopPrank();
        IProofMarketplace.Generator memory info = mp.getGenerator(gen);
        assertEq(info.id, 1);
        assertEq(info.active, 1, "the running assignment still counts");
        assertEq(info.capacity, 5);
        assertEq(mp.getSlot(askId, 0).generator, gen, "the slot still resolves to it");
    }
}
