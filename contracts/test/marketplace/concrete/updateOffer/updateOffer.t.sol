// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {IProofMarketplace} from "../../../../src/marketplace/IProofMarketplace.sol";
import {Marketplace_Test} from "../../Marketplace.t.sol";

contract UpdateOffer_Test is Marketplace_Test {
    function test_RevertWhen_ProposedTimeZero() external {
        address g = addGenerator("g", market, 0, 2, 0);
        vm.expectRevert(IProofMarketplace.ProofMarketplaceInvalidOffer.selector);
        vm.prank(g);
        mp.updateOffer(market, 1, 0);
    }

    function test_RevertGiven_NotJoined() external {
        vm.expectRevert(abi.encodeWithSelector(IProofMarketplace.ProofMarketplaceNotJoined.selector, market));
        vm.prank(makeAddr("nobody"));
        mp.updateOffer(market, 1, 60);
    }

    function test_GivenJoined() external {
        address g = addGenerator("g", market, 0, 4, 4 * PENALTY);
        vm.expectEmit(address(mp));
        emit IProofMarketplace.GeneratorUpdated(g, market, 2e18, PROVING_TIME + 1);
        vm.prank(g);
        mp.updateOffer(market, 2e18, PROVING_TIME + 1);
        IProofMarketplace.Offer memory o = mp.getOffer(g, market);
        assertEq(o.cost, 2e18);
        assertEq(o.proposedTime, PROVING_TIME + 1);

        uint256 askId = createAsk(market, 1);
        vm.expectEmit(address(mp));
        emit IProofMarketplace.AssignmentSkipped(
            askId, g, 0, IProofMarketplace.SkipReason.ProvingTimeTooShort
        );
        assertEq(assign(one(askId, 0, g, REWARD)), 0);

        vm.prank(g);
        mp.updateOffer(market, 2e18, PROVING_TIME);
        vm.expectEmit(address(mp));
        emit IProofMarketplace.AssignmentSkipped(askId, g, 0, IProofMarketplace.SkipReason.PriceBelowCost);
        assertEq(assign(one(askId, 0, g, 2e18 - 1)), 0);
        assertEq(assign(one(askId, 0, g, 2e18)), 1);
    }
}
