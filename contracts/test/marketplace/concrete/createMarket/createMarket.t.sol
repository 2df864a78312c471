// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {IProofMarketplace} from "../../../../src/marketplace/IProofMarketplace.sol";
import {IVerifier} from "../../../../src/marketplace/IVerifier.sol";
import {RejectingVerifier} from "../../mocks/RejectingVerifier.sol";
import {Marketplace_Test} from "../../Marketplace.t.sol";

contract CreateMarket_Test is Marketplace_Test {
    function test_RevertWhen_VerifierHasNoCode() external {
        IProofMarketplace.MarketParams memory p = marketParams(IProofMarketplace.MatchingMode.OrderBook, 0);
        p.verifier = IVerifier(makeAddr("eoa"));
        vm.expectRevert(
            abi.encodeWithSelector(
                IProofMarketplace.ProofMarketplaceInvalidVerifier.selector, address(p.verifier)
            )
        );
        mp.createMarket(p);
    }

    function test_RevertWhen_VerifierFailsItsSample() external {
        IProofMarketplace.MarketParams memory p = marketParams(IProofMarketplace.MatchingMode.OrderBook, 0);
        p.verifier = new RejectingVerifier(RejectingVerifier.Mode.False);
        vm.expectRevert(
            abi.encodeWithSelector(
                IProofMarketplace.ProofMarketplaceInvalidVerifier.selector, address(p.verifier)
            )
        );
        mp.createMarket(p);
        p.verifier = new RejectingVerifier(RejectingVerifier.Mode.Revert);
        vm.expectRevert(
            abi.encodeWithSelector(
                IProofMarketplace.ProofMarketplaceInvalidVerifier.selector, address(p.verifier)
            )
        );
        mp.createMarket(p);
    }

    function test_RevertWhen_PenaltyZero() external {
        IProofMarketplace.MarketParams memory p = marketParams(IProofMarketplace.MatchingMode.OrderBook, 0);
        p.slashingPenalty = 0;
        vm.expectRevert(IProofMarketplace.ProofMarketplaceInvalidMarketParams.selector);
        mp.createMarket(p);
    }

    function test_RevertWhen_ModeAndWindowDisagree() external {
        vm.expectRevert(IProofMarketplace.ProofMarketplaceInvalidMarketParams.selector);
        mp.createMarket(marketParams(IProofMarketplace.MatchingMode.OrderBook, 60));
        vm.expectRevert(IProofMarketplace.ProofMarketplaceInvalidMarketParams.selector);
        mp.createMarket(marketParams(IProofMarketplace.MatchingMode.SealedBid, 0));
    }

    function test_RevertWhen_DelayTooLong() external {
        IProofMarketplace.MarketParams memory p = marketParams(IProofMarketplace.MatchingMode.OrderBook, 0);
        p.activationDelay = mp.MAX_ACTIVATION_DELAY() + 1;
        vm.expectRevert(IProofMarketplace.ProofMarketplaceInvalidMarketParams.selector);
        mp.createMarket(p);
    }

    function test_WhenParamsValid() external {
        IProofMarketplace.MarketParams memory p = marketParams(IProofMarketplace.MatchingMode.SealedBid, 120);
        p.activationDelay = 600;
        p.proverFamily = DEV_FAMILY;
        address creator = makeAddr("creator");
        vm.expectEmit(address(mp));
        emit IProofMarketplace.MarketCreated(
            2,
            creator,
            address(schnorr),
            IProofMarketplace.MatchingMode.SealedBid,
            120,
            PENALTY,
            DEV_FAMILY,
            uint40(block.timestamp + 600)
        );
        vm.prank(creator);
        assertEq(mp.createMarket(p), 2, "the fixture created market 1");
        assertEq(mp.marketCount(), 2);
        IProofMarketplace.Market memory m = mp.getMarket(2);
        assertEq(address(m.verifier), address(schnorr));
        assertEq(uint256(m.mode), uint256(IProofMarketplace.MatchingMode.SealedBid));
        assertEq(m.bidWindow, 120);
        assertEq(m.activation, block.timestamp + 600);
        assertEq(m.slashingPenalty, PENALTY);
        assertEq(m.proverFamily, DEV_FAMILY);
        assertEq(m.creator, creator);
    }
}
