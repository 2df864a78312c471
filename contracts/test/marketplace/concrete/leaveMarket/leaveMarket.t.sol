// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {IProofMarketplace} from "../../../../src/marketplace/IProofMarketplace.sol";
import {Marketplace_Test} from "../../Marketplace.t.sol";

contract LeaveMarket_Test is Marketplace_Test {
    function test_RevertGiven_NotJoined() external {
        vm.expectRevert(abi.encodeWithSelector(IProofMarketplace.ProofMarketplaceNotJoined.selector, market));
        vm.prank(makeAddr("nobody"));
        mp.leaveMarket(market);
    }

    function test_GivenJoined() external {
        address g = addGenerator("g", market, 0, 4, 4 * PENALTY);
        uint256 a1 = createAsk(market, 1);
        uint256 a2 = createAsk(market, 1);
        assign(one(a1, 0, g, REWARD));
        vm.expectEmit(address(mp));
        emit IProofMarketplace.GeneratorLeft(g, market);
        vm.prank(g);
        mp.leaveMarket(market);
        assertFalse(mp.getOffer(g, market).joined);

        vm.expectEmit(address(mp));
        emit IProofMarketplace.AssignmentSkipped(a2, g, 0, IProofMarketplace.SkipReason.GeneratorNotJoined);
        assertEq(assign(one(a2, 0, g, REWARD)), 0);
        submit(g, a1, 0);
        assertEq(mp.withdrawableOf(g), REWARD);
    }
}
