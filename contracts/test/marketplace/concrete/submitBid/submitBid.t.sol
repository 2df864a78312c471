// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {IProofMarketplace} from "../../../../src/marketplace/IProofMarketplace.sol";
import {Marketplace_Test} from "../../Marketplace.t.sol";

contract SubmitBid_Test is Marketplace_Test {
    uint32 internal constant WINDOW = 300;
    uint256 internal sealedMarket;
    uint256 internal askId;
    address internal g;
    bytes internal bid = new bytes(65);

    function setUp() public override {
        super.setUp();
        sealedMarket = createMarket(IProofMarketplace.MatchingMode.SealedBid, WINDOW);
        askId = createAsk(sealedMarket, 1);
        g = addGenerator("g", sealedMarket, 0, 2, PENALTY);
        bid[0] = 0x02;
    }

    function expectRejected(uint256 id, address from, bytes memory b) internal {
        vm.expectRevert(abi.encodeWithSelector(IProofMarketplace.ProofMarketplaceBidRejected.selector, id));
        vm.prank(from);
        mp.submitBid(id, b);
    }

    function test_RevertWhen_UnknownAsk() external {
        vm.expectRevert(abi.encodeWithSelector(IProofMarketplace.ProofMarketplaceUnknownAsk.selector, 99));
        vm.prank(g);
        mp.submitBid(99, bid);
    }

    function test_RevertGiven_OrderBookAsk() external {
        uint256 plain = createAsk(market, 1);
        expectRejected(plain, g, bid);
    }

    function test_RevertGiven_WindowClosed() external {
        vm.warp(block.timestamp + WINDOW);
        expectRejected(askId, g, bid);
    }

    function test_RevertGiven_Cancelled() external {
        vm.prank(requester);
        mp.cancelAsk(askId);
        expectRejected(askId, g, bid);
    }

    function test_RevertWhen_WrongLength() external {
        expectRejected(askId, g, new bytes(64));
        expectRejected(askId, g, new bytes(66));
    }

    function test_RevertGiven_NotAMember() external {
        vm.expectRevert(IProofMarketplace.ProofMarketplaceGeneratorNotRegistered.selector);
        vm.prank(makeAddr("nobody"));
        mp.submitBid(askId, bid);
        address outsider = addGenerator("outsider", market, 0, 2, 0);
        vm.expectRevert(
            abi.encodeWithSelector(IProofMarketplace.ProofMarketplaceNotJoined.selector, sealedMarket)
        );
        vm.prank(outsider);
        mp.submitBid(askId, bid);
    }

    function test_GivenMemberInWindow() external {
        vm.warp(block.timestamp + WINDOW - 1);
        vm.expectEmit(address(mp));
        emit IProofMarketplace.BidSubmitted(askId, g, bid);
        vm.prank(g);
        mp.submitBid(askId, bid);
    }
}
