// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {IEnclaveAuth} from "../../../../src/interfaces/IEnclaveAuth.sol";
import {IProofMarketplace} from "../../../../src/marketplace/IProofMarketplace.sol";
import {Marketplace_Test} from "../../Marketplace.t.sol";

contract JoinMarket_Test is Marketplace_Test {
    address internal g = makeAddr("g");

    function setUp() public override {
        super.setUp();
        vm.prank(g);
        mp.registerGenerator(2);
    }

    function test_RevertWhen_UnknownMarket() external {
        vm.expectRevert(abi.encodeWithSelector(IProofMarketplace.ProofMarketplaceUnknownMarket.selector, 9));
        vm.prank(g);
        mp.joinMarket(9, 1, 60, "");
    }

    function test_RevertGiven_NotRegistered() external {
        vm.expectRevert(IProofMarketplace.ProofMarketplaceGeneratorNotRegistered.selector);
        vm.prank(makeAddr("nobody"));
        mp.joinMarket(market, 1, 60, "");
    }

    function test_RevertWhen_ProposedTimeZero() external {
        vm.expectRevert(IProofMarketplace.ProofMarketplaceInvalidOffer.selector);
        vm.prank(g);
        mp.joinMarket(market, 1, 0, "");
    }

    function test_RevertGiven_AlreadyJoined() external {
        vm.startPrank(g);
        mp.joinMarket(market, 1, 60, "");
        vm.expectRevert(
            abi.encodeWithSelector(IProofMarketplace.ProofMarketplaceAlreadyJoined.selector, market)
        );
        mp.joinMarket(market, 1, 60, "");
        vm.stopPrank();
    }

    function test_GivenPublicMarket() external {
        vm.expectEmit(address(mp));
        emit IProofMarketplace.GeneratorJoined(g, market, 3e18, 600);
        vm.prank(g);
        mp.joinMarket(market, 3e18, 600, hex"deadbeef");
        IProofMarketplace.Offer memory o = mp.getOffer(g, market);
        assertTrue(o.joined);
        assertEq(o.cost, 3e18);
        assertEq(o.proposedTime, 600);
    }

    function test_GivenPrivateMarket() external {
        registerImage(DEV_FAMILY, 2);
        Enclave memory prover = enclave("prover");
        registerKey(DEV_FAMILY, 2, prover);
        IProofMarketplace.MarketParams memory p = marketParams(IProofMarketplace.MatchingMode.OrderBook, 0);
        p.proverFamily = DEV_FAMILY;
        uint256 priv = mp.createMarket(p);

        // The matching-engine key is live, but in another family.
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(engine.privateKey, mp.proverBindingDigest(g, priv));
        vm.expectRevert(
            abi.encodeWithSelector(IEnclaveAuth.EnclaveAuthKeyNotLive.selector, engine.addr, DEV_FAMILY)
        );
        vm.prank(g);
        mp.joinMarket(priv, 1, 60, abi.encodePacked(r, s, v));

        // A binding signed for another generator recovers to some other address.
        (v, r, s) = vm.sign(prover.privateKey, mp.proverBindingDigest(makeAddr("other"), priv));
        vm.expectRevert();
        vm.prank(g);
        mp.joinMarket(priv, 1, 60, abi.encodePacked(r, s, v));

        (v, r, s) = vm.sign(prover.privateKey, mp.proverBindingDigest(g, priv));
        vm.prank(g);
        mp.joinMarket(priv, 1, 60, abi.encodePacked(r, s, v));
        assertTrue(mp.getOffer(g, priv).joined);
    }
}
