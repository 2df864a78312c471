// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {IProofMarketplace} from "../../../../src/marketplace/IProofMarketplace.sol";
import {Marketplace_Test} from "../../Marketplace.t.sol";

contract CancelAsk_Test is Marketplace_Test {
    function test_RevertWhen_UnknownAsk() external {
        vm.expectRevert(abi.encodeWithSelector(IProofMarketplace.ProofMarketplaceUnknownAsk.selector, 1));
        mp.cancelAsk(1);
    }

    function test_RevertWhen_NotRequester() external {
        uint256 askId = createAsk(market, 1);
        vm.expectRevert(
            abi.encodeWithSelector(IProofMarketplace.ProofMarketplaceNotRequester.selector, askId)
        );
        vm.prank(refundTo);
        mp.cancelAsk(askId);
    }

    function test_RevertGiven_Assigned() external {
        address g = addGenerator("g", market, 0, 2, PENALTY);
        uint256 askId = createAsk(market, 2);
        assign(one(askId, 1, g, REWARD));
        vm.expectRevert(
            abi.encodeWithSelector(IProofMarketplace.ProofMarketplaceAskNotCancellable.selector, askId)
        );
        vm.prank(requester);
        mp.cancelAsk(askId);
    }

    function test_RevertGiven_CancelledOrRefunded() external {
        uint256 a1 = createAsk(market, 1);
        uint256 a2 = createAsk(market, 1);
        vm.startPrank(requester);
        mp.cancelAsk(a1);
        vm.expectRevert(
            abi.encodeWithSelector(IProofMarketplace.ProofMarketplaceAskNotCancellable.selector, a1)
        );
        mp.cancelAsk(a1);
        vm.warp(block.timestamp + EXPIRY_IN + 1);
        mp.refundExpired(a2);
        vm.expectRevert(
            abi.encodeWithSelector(IProofMarketplace.ProofMarketplaceAskNotCancellable.selector, a2)
        );
        mp.cancelAsk(a2);
        vm.stopPrank();
    }

    function test_GivenNeverAssigned() external {
        address g = addGenerator("g", market, 0, 2, PENALTY);
        uint256 askId = createAsk(market, 3);
        vm.expectEmit(address(mp));
        emit IProofMarketplace.AskCancelled(askId, 3 * uint256(REWARD));
        vm.prank(requester);
        mp.cancelAsk(askId);
        assertTrue(mp.getAsk(askId).cancelled);
        assertEq(mp.withdrawableOf(refundTo), 3 * uint256(REWARD));
        assertEq(mp.totalEscrow(), 0);

        vm.expectEmit(address(mp));
        emit IProofMarketplace.AssignmentSkipped(askId, g, 0, IProofMarketplace.SkipReason.AskNotAssignable);
        assertEq(assign(one(askId, 0, g, REWARD)), 0);
        assertConserved();
    }
}
