// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {IProofMarketplace} from "../../../../src/marketplace/IProofMarketplace.sol";
import {IVerifier} from "../../../../src/marketplace/IVerifier.sol";
import {Marketplace_Test} from "../../Marketplace.t.sol";

contract CreateAsk_Test is Marketplace_Test {
    function test_RevertWhen_UnknownMarket() external {
        IProofMarketplace.AskParams memory p = askParams(0, 1);
        vm.expectRevert(abi.encodeWithSelector(IProofMarketplace.ProofMarketplaceUnknownMarket.selector, 0));
        createAsk(p);
    }

    function expectInvalid(IProofMarketplace.AskParams memory p) internal {
        vm.expectRevert(IProofMarketplace.ProofMarketplaceInvalidAskParams.selector);
        createAsk(p);
    }

    function test_RevertWhen_ParamOutOfRange() external {
        IProofMarketplace.AskParams memory p = askParams(market, 1);
        p.reward = 0;
        expectInvalid(p);
        p = askParams(market, 1);
        p.reward = uint256(type(uint96).max) + 1;
        expectInvalid(p);
        p = askParams(market, 0);
        expectInvalid(p);
        p = askParams(market, 17);
        expectInvalid(p);
        p = askParams(market, 1);
        p.provingTime = 0;
        expectInvalid(p);
        p = askParams(market, 1);
        p.expiry = uint64(block.timestamp - 1);
        expectInvalid(p);
        p = askParams(market, 1);
        p.refundAddress = address(0);
        expectInvalid(p);
    }

    function test_RevertGiven_SealedBidExpiryBeforeWindowEnd() external {
        uint256 sealedMarket = createMarket(IProofMarketplace.MatchingMode.SealedBid, 600);
        IProofMarketplace.AskParams memory p = askParams(sealedMarket, 1);
        p.expiry = uint64(block.timestamp + 599);
        expectInvalid(p);
        p.expiry = uint64(block.timestamp + 600);
        assertEq(createAsk(p), 1);
        assertEq(mp.getAsk(1).biddingEnds, block.timestamp + 600);
    }

    function test_RevertWhen_StatementRejected() external {
        IProofMarketplace.AskParams memory p = askParams(market, 1);
        p.proverData = abi.encode(uint256(1), uint256(3)); // not on y² = x³ + 3
        vm.expectRevert(IProofMarketplace.ProofMarketplaceInvalidProverData.selector);
        createAsk(p);
        p.proverData = hex"00";
        vm.expectRevert(IProofMarketplace.ProofMarketplaceInvalidProverData.selector);
        createAsk(p);
        p = askParams(market, 1);
        vm.mockCallRevert(address(schnorr), abi.encodeWithSelector(IVerifier.verifyInputs.selector), "broken");
        vm.expectRevert(IProofMarketplace.ProofMarketplaceInvalidProverData.selector);
        createAsk(p);
    }

    function test_RevertWhen_NotApproved() external {
        address poor = makeAddr("poor");
        token.mint(poor, 1e30);
        IProofMarketplace.AskParams memory p = askParams(market, 1);
        vm.expectRevert();
        vm.prank(poor);
        mp.createAsk(p);
    }

    function test_WhenParamsValid() external {
        IProofMarketplace.AskParams memory p = askParams(market, 3);
        uint256 before = token.balanceOf(requester);
        expectAskCreated(1, p);
        assertEq(createAsk(p), 1);
        assertEq(createAsk(market, 1), 2);
        assertEq(mp.askCount(), 2);
        assertEq(token.balanceOf(requester), before - 4 * uint256(REWARD));
        assertEq(mp.totalEscrow(), 4 * uint256(REWARD));
        IProofMarketplace.Ask memory a = mp.getAsk(1);
        assertEq(a.marketId, market);
        assertEq(a.reward, REWARD);
        assertEq(a.expiry, p.expiry);
        assertEq(a.redundancy, 3);
        assertEq(a.assigned, 0);
        assertEq(a.requester, requester);
        assertEq(a.refundAddress, refundTo);
        assertEq(a.proverDataHash, keccak256(p.proverData));
        assertEq(a.biddingEnds, 0);
        for (uint256 i; i < 16; ++i) {
            IProofMarketplace.SlotState want =
                i < 3 ? IProofMarketplace.SlotState.Open : IProofMarketplace.SlotState.None;
            assertEq(uint256(mp.getSlot(1, i).state), uint256(want));
        }
        assertConserved();
    }
}
