// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {IProofMarketplace} from "../../../../src/marketplace/IProofMarketplace.sol";
import {Marketplace_Test} from "../../Marketplace.t.sol";

contract RefundExpired_Test is Marketplace_Test {
    function expectNothing(uint256 askId) internal {
        vm.expectRevert(
            abi.encodeWithSelector(IProofMarketplace.ProofMarketplaceNothingToRefund.selector, askId)
        );
        mp.refundExpired(askId);
    }

    function test_RevertWhen_UnknownAsk() external {
        vm.expectRevert(abi.encodeWithSelector(IProofMarketplace.ProofMarketplaceUnknownAsk.selector, 4));
        mp.refundExpired(4);
    }

    function test_RevertGiven_NotExpired() external {
        uint256 askId = createAsk(market, 1);
        vm.warp(block.timestamp + EXPIRY_IN);
        expectNothing(askId);
    }

    function test_RevertGiven_AllAssigned() external {
        address g = addGenerator("g", market, 0, 2, PENALTY);
        uint256 askId = createAsk(market, 1);
        assign(one(askId, 0, g, REWARD));
        vm.warp(block.timestamp + EXPIRY_IN + 1);
        expectNothing(askId);
    }

    function test_RevertGiven_CancelledOrRefunded() external {
        uint256 a1 = createAsk(market, 1);
        uint256 a2 = createAsk(market, 1);
        vm.prank(requester);
        mp.cancelAsk(a1);
        vm.warp(block.timestamp + EXPIRY_IN + 1);
        expectNothing(a1);
        mp.refundExpired(a2);
        expectNothing(a2);
    }

    function test_GivenExpiredWithOpenSlots() external {
        address g = addGenerator("g", market, 0, 2, PENALTY);
        uint256 askId = createAsk(market, 3);
        assign(one(askId, 1, g, 1e18));
        vm.warp(block.timestamp + EXPIRY_IN + 1);
        vm.expectEmit(address(mp));
        emit IProofMarketplace.AskRefunded(askId, 2, 2 * uint256(REWARD));
        vm.prank(makeAddr("anyone"));
        mp.refundExpired(askId);
        assertTrue(mp.getAsk(askId).refunded);
        assertEq(mp.withdrawableOf(refundTo), 2 * uint256(REWARD));
        assertEq(mp.totalEscrow(), REWARD, "the assigned slot's escrow stays");
        assertConserved();
    }
}
