// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {IProofMarketplace} from "../../../../src/marketplace/IProofMarketplace.sol";
import {Marketplace_Test} from "../../Marketplace.t.sol";

contract SetCapacity_Test is Marketplace_Test {
    function test_RevertWhen_CapacityOutOfRange() external {
        address g = addGenerator("g", market, 0, 2, 0);
        vm.startPrank(g);
        vm.expectRevert(IProofMarketplace.ProofMarketplaceInvalidCapacity.selector);
        mp.setCapacity(0);
        vm.stopPrank();
    }

    function test_RevertGiven_NotRegistered() external {
        vm.expectRevert(IProofMarketplace.ProofMarketplaceGeneratorNotRegistered.selector);
        vm.prank(makeAddr("nobody"));
        mp.setCapacity(3);
    }

    function test_GivenRegistered() external {
        address g = addGenerator("g", market, 0, 2, 2 * PENALTY);
        vm.expectEmit(address(mp));
        emit IProofMarketplace.CapacityChanged(g, 9);
        vm.prank(g);
        mp.setCapacity(9);
        assertEq(mp.getGenerator(g).capacity, 9);
    }

    function test_WhenBelowRunning() external {
        address g = addGenerator("g", market, 0, 2, 3 * PENALTY);
        uint256 a1 = createAsk(market, 1);
        uint256 a2 = createAsk(market, 1);
        uint256 a3 = createAsk(market, 1);
        assertEq(assign(one(a1, 0, g, REWARD)), 1);
        assertEq(assign(one(a2, 0, g, REWARD)), 1);
        vm.prank(g);
        mp.setCapacity(1);
        vm.expectEmit(address(mp));
        emit IProofMarketplace.AssignmentSkipped(a3, g, 0, IProofMarketplace.SkipReason.NoCapacity);
        assertEq(assign(one(a3, 0, g, REWARD)), 0);
        submit(g, a1, 0);
        submit(g, a2, 0);
        assertEq(assign(one(a3, 0, g, REWARD)), 1, "below capacity again");
    }
}
