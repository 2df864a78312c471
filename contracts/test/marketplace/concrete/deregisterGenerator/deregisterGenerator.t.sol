// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {IProofMarketplace} from "../../../../src/marketplace/IProofMarketplace.sol";
import {Marketplace_Test} from "../../Marketplace.t.sol";

contract DeregisterGenerator_Test is Marketplace_Test {
    function test_RevertGiven_NotRegistered() external {
        vm.expectRevert(IProofMarketplace.ProofMarketplaceGeneratorNotRegistered.selector);
        vm.prank(makeAddr("nobody"));
        mp.deregisterGenerator();
    }

    function test_GivenRegistered() external {
        address g = addGenerator("g", market, 0, 4, 2 * PENALTY);
        uint256 a1 = createAsk(market, 1);
        uint256 a2 = createAsk(market, 1);
        assign(one(a1, 0, g, REWARD));
        vm.expectEmit(address(mp));
        emit IProofMarketplace.GeneratorDeregistered(g);
        vm.prank(g);
        mp.deregisterGenerator();
        assertFalse(mp.getGenerator(g).registered);

        vm.expectEmit(address(mp));
        emit IProofMarketplace.AssignmentSkipped(
            a2, g, 0, IProofMarketplace.SkipReason.GeneratorNotRegistered
        );
        assertEq(assign(one(a2, 0, g, REWARD)), 0);

        submit(g, a1, 0);
        assertEq(mp.withdrawableOf(g), REWARD);
        assertEq(staking.lockedOf(g, market), 0);
    }
}
