// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {IProofMarketplace} from "../../../../src/marketplace/IProofMarketplace.sol";
import {Marketplace_Test} from "../../Marketplace.t.sol";

contract Withdraw_Test is Marketplace_Test {
    function test_RevertGiven_NothingCredited() external {
        vm.expectRevert(IProofMarketplace.ProofMarketplaceNothingToWithdraw.selector);
        vm.prank(requester);
        mp.withdraw();
    }

    function test_GivenCredited() external {
        address g = addGenerator("g", market, 0, 2, PENALTY);
        uint256 askId = createAsk(market, 1);
        assign(one(askId, 0, g, 3e18));
        submit(g, askId, 0);

        vm.expectEmit(address(mp));
        emit IProofMarketplace.Withdrawn(g, 3e18);
        vm.prank(g);
        mp.withdraw();
        assertEq(token.balanceOf(g), 3e18);
        assertEq(mp.withdrawableOf(g), 0);

        vm.prank(refundTo);
        mp.withdraw();
        assertEq(token.balanceOf(refundTo), REWARD - 3e18);

        vm.expectRevert(IProofMarketplace.ProofMarketplaceNothingToWithdraw.selector);
        vm.prank(g);
        mp.withdraw();
        assertEq(token.balanceOf(address(mp)), 0);
        assertConserved();
    }
}
