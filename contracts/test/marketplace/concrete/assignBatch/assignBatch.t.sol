// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {IEnclaveAuth} from "../../../../src/interfaces/IEnclaveAuth.sol";
import {IProofMarketplace} from "../../../../src/marketplace/IProofMarketplace.sol";
import {Marketplace_Test} from "../../Marketplace.t.sol";

contract AssignBatch_Test is Marketplace_Test {
    address internal g1;
    address internal g2;
    address internal g3;

    function setUp() public override {
        super.setUp();
        g1 = addGenerator("g1", market, 1e18, 4, 4 * PENALTY);
        g2 = addGenerator("g2", market, 1e18, 4, 4 * PENALTY);
        g3 = addGenerator("g3", market, 1e18, 4, 4 * PENALTY);
    }

    function expectSkip(IProofMarketplace.Assignment[] memory a, IProofMarketplace.SkipReason reason)
        internal
    {
        vm.expectEmit(address(mp));
        emit IProofMarketplace.AssignmentSkipped(a[0].askId, a[0].generator, a[0].slot, reason);
        assertEq(assign(a), 0);
    }

    function test_RevertWhen_Empty() external {
        IProofMarketplace.Assignment[] memory a;
        bytes memory sig = signBatch(engine, a, block.timestamp);
        vm.expectRevert(IProofMarketplace.ProofMarketplaceEmptyBatch.selector);
        mp.assignBatch(a, block.timestamp, sig);
    }

    function test_RevertWhen_PastValidUntil() external {
        uint256 askId = createAsk(market, 1);
        IProofMarketplace.Assignment[] memory a = one(askId, 0, g1, REWARD);
        uint256 validUntil = block.timestamp + 10;
        bytes memory sig = signBatch(engine, a, validUntil);
        vm.warp(validUntil + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IProofMarketplace.ProofMarketplaceBatchExpired.selector, validUntil)
        );
        mp.assignBatch(a, validUntil, sig);
        vm.warp(validUntil);
        assertEq(mp.assignBatch(a, validUntil, sig), 1, "valid through validUntil inclusive");
    }

    function test_RevertGiven_SignerNotEngine() external {
        uint256 askId = createAsk(market, 1);
        IProofMarketplace.Assignment[] memory a = one(askId, 0, g1, REWARD);
        uint256 validUntil = block.timestamp;
        Enclave memory stranger_ = enclave("not-an-engine");
        bytes memory sig = signBatch(stranger_, a, validUntil);
        vm.expectRevert(
            abi.encodeWithSelector(IEnclaveAuth.EnclaveAuthKeyNotLive.selector, stranger_.addr, FAMILY)
        );
        mp.assignBatch(a, validUntil, sig);

        registerImage(DEV_FAMILY, 2);
        Enclave memory devEngine = enclave("dev-engine");
        registerKey(DEV_FAMILY, 2, devEngine);
        sig = signBatch(devEngine, a, validUntil);
        vm.expectRevert(
            abi.encodeWithSelector(IEnclaveAuth.EnclaveAuthKeyNotLive.selector, devEngine.addr, FAMILY)
        );
        mp.assignBatch(a, validUntil, sig);

        vm.expectRevert(IEnclaveAuth.EnclaveAuthInvalidSignature.selector);
        mp.assignBatch(a, validUntil, new bytes(64));
    }

    function test_RevertGiven_EngineImageRevoked() external {
        uint256 askId = createAsk(market, 1);
        IProofMarketplace.Assignment[] memory a = one(askId, 0, g1, REWARD);
        bytes memory sig = signBatch(engine, a, block.timestamp);
        vm.prank(revoker);
        registry.revokeImage(idOf(imagePcrs(1)), "CVE");
        vm.expectRevert(
            abi.encodeWithSelector(IEnclaveAuth.EnclaveAuthKeyNotLive.selector, engine.addr, FAMILY)
        );
        mp.assignBatch(a, block.timestamp, sig);
    }

    function test_RevertWhen_AlteredAfterSigning() external {
        uint256 askId = createAsk(market, 1);
        IProofMarketplace.Assignment[] memory a = one(askId, 0, g1, 2e18);
        bytes memory sig = signBatch(engine, a, block.timestamp);
        a[0].price = REWARD;
        vm.expectRevert(); // recovers to some unknown key
        mp.assignBatch(a, block.timestamp, sig);
        a[0].price = 2e18;
        vm.expectRevert();
        mp.assignBatch(a, block.timestamp + 1, sig);
    }

    function test_WhenAskNotAssignable() external {
        expectSkip(one(0, 0, g1, 1e18), IProofMarketplace.SkipReason.AskNotAssignable);
        expectSkip(one(1, 0, g1, 1e18), IProofMarketplace.SkipReason.AskNotAssignable);
        uint256 cancelled = createAsk(market, 1);
        vm.prank(requester);
        mp.cancelAsk(cancelled);
        expectSkip(one(cancelled, 0, g1, 1e18), IProofMarketplace.SkipReason.AskNotAssignable);
        uint256 expiring = createAsk(market, 1);
        vm.warp(block.timestamp + EXPIRY_IN);
        uint256 atExpiry = vm.snapshotState();
        assertEq(assign(one(expiring, 0, g1, 1e18)), 1, "the expiry second itself is accepted");
        vm.revertToState(atExpiry);
        vm.warp(block.timestamp + 1);
        expectSkip(one(expiring, 0, g1, 1e18), IProofMarketplace.SkipReason.AskNotAssignable);
    }

    function test_WhenSlotNotOpen() external {
        uint256 askId = createAsk(market, 2);
        expectSkip(one(askId, 2, g1, 1e18), IProofMarketplace.SkipReason.SlotNotOpen);
        expectSkip(one(askId, type(uint256).max, g1, 1e18), IProofMarketplace.SkipReason.SlotNotOpen);
        assertEq(assign(one(askId, 0, g1, 1e18)), 1);
        expectSkip(one(askId, 0, g2, 1e18), IProofMarketplace.SkipReason.SlotNotOpen);
    }

    function test_WhenMarketInactiveOrBidding() external {
        IProofMarketplace.MarketParams memory p = marketParams(IProofMarketplace.MatchingMode.OrderBook, 0);
        p.activationDelay = 100;
        uint256 later = mp.createMarket(p);
        vm.prank(g1);
        mp.joinMarket(later, 0, 60, "");
        depositStake(g1, later, PENALTY);
        uint256 askId = createAsk(later, 1);
        expectSkip(one(askId, 0, g1, 1e18), IProofMarketplace.SkipReason.MarketInactive);
        vm.warp(block.timestamp + 100);
        assertEq(assign(one(askId, 0, g1, 1e18)), 1);

        uint256 auction = createMarket(IProofMarketplace.MatchingMode.SealedBid, 50);
        vm.prank(g2);
        mp.joinMarket(auction, 0, 60, "");
        depositStake(g2, auction, PENALTY);
        uint256 sealedAsk = createAsk(auction, 1);
        vm.warp(block.timestamp + 49);
        expectSkip(one(sealedAsk, 0, g2, 1e18), IProofMarketplace.SkipReason.BiddingOpen);
        vm.warp(block.timestamp + 1);
        assertEq(assign(one(sealedAsk, 0, g2, 1e18)), 1);
    }

    function test_WhenPriceOrOfferOutOfBounds() external {
        uint256 askId = createAsk(market, 1);
        expectSkip(one(askId, 0, g1, uint256(REWARD) + 1), IProofMarketplace.SkipReason.PriceAboveReward);
        expectSkip(one(askId, 0, g1, 1e18 - 1), IProofMarketplace.SkipReason.PriceBelowCost);
        vm.prank(g1);
        mp.updateOffer(market, 1e18, PROVING_TIME + 1);
        expectSkip(one(askId, 0, g1, 1e18), IProofMarketplace.SkipReason.ProvingTimeTooShort);
    }

    function test_WhenGeneratorUnfit() external {
        uint256 askId = createAsk(market, 1);
        expectSkip(
            one(askId, 0, makeAddr("nobody"), 1e18), IProofMarketplace.SkipReason.GeneratorNotRegistered
        );

        address outsider =
            addGenerator("outsider", createMarket(IProofMarketplace.MatchingMode.OrderBook, 0), 0, 1, 0);
        expectSkip(one(askId, 0, outsider, 1e18), IProofMarketplace.SkipReason.GeneratorNotJoined);

        address broke = addGenerator("broke", market, 0, 4, PENALTY - 1);
        expectSkip(one(askId, 0, broke, 1e18), IProofMarketplace.SkipReason.InsufficientStake);

        address busy = addGenerator("busy", market, 0, 1, 2 * PENALTY);
        uint256 other = createAsk(market, 1);
        assertEq(assign(one(other, 0, busy, 1e18)), 1);
        expectSkip(one(askId, 0, busy, 1e18), IProofMarketplace.SkipReason.NoCapacity);
    }

    function test_WhenGeneratorAlreadyOnAsk() external {
        uint256 askId = createAsk(market, 3);
        assertEq(assign(one(askId, 0, g1, 1e18)), 1);
        expectSkip(one(askId, 2, g1, 1e18), IProofMarketplace.SkipReason.GeneratorAlreadyOnAsk);
        // Also after its slot settled: k distinct generators means distinct for the ask's lifetime.
        submit(g1, askId, 0);
        expectSkip(one(askId, 2, g1, 1e18), IProofMarketplace.SkipReason.GeneratorAlreadyOnAsk);

        // Within one batch: the second entry sees the first.
        uint256 fresh = createAsk(market, 2);
        IProofMarketplace.Assignment[] memory a = new IProofMarketplace.Assignment[](2);
        a[0] = IProofMarketplace.Assignment(fresh, 0, g2, 1e18);
        a[1] = IProofMarketplace.Assignment(fresh, 1, g2, 1e18);
        vm.expectEmit(address(mp));
        emit IProofMarketplace.AssignmentSkipped(
            fresh, g2, 1, IProofMarketplace.SkipReason.GeneratorAlreadyOnAsk
        );
        assertEq(assign(a), 1);
    }

    function test_WhenSomeEntriesSkipped() external {
        uint256 askId = createAsk(market, 2);
        IProofMarketplace.Assignment[] memory a = new IProofMarketplace.Assignment[](3);
        a[0] = IProofMarketplace.Assignment(askId, 0, g1, 1e18);
        a[1] = IProofMarketplace.Assignment(askId, 0, g2, 1e18); // same slot twice
        a[2] = IProofMarketplace.Assignment(askId, 1, g2, 1e18);
        assertEq(assign(a), 2);
        assertEq(mp.getSlot(askId, 0).generator, g1);
        assertEq(mp.getSlot(askId, 1).generator, g2);
        assertEq(mp.getAsk(askId).assigned, 2);
    }

    function test_WhenEveryEntryApplies() external {
        uint256 askId = createAsk(market, 3);
        IProofMarketplace.Assignment[] memory a = new IProofMarketplace.Assignment[](3);
        a[0] = IProofMarketplace.Assignment(askId, 2, g1, 1e18);
        a[1] = IProofMarketplace.Assignment(askId, 0, g2, 2e18);
        a[2] = IProofMarketplace.Assignment(askId, 1, g3, REWARD);
        uint64 deadline = uint64(block.timestamp + PROVING_TIME);
        for (uint256 i; i < 3; ++i) {
            vm.expectEmit(address(mp));
            emit IProofMarketplace.AssignmentAccepted(
                askId, a[i].generator, uint8(a[i].slot), a[i].price, deadline
            );
        }
        assertEq(assign(a), 3);
        for (uint256 i; i < 3; ++i) {
            IProofMarketplace.Slot memory s = mp.getSlot(askId, a[i].slot);
            assertEq(uint256(s.state), uint256(IProofMarketplace.SlotState.Assigned));
            assertEq(s.generator, a[i].generator);
            assertEq(s.price, a[i].price);
            assertEq(s.deadline, deadline);
            assertEq(staking.lockedOf(a[i].generator, market), PENALTY);
            assertEq(mp.getGenerator(a[i].generator).active, 1);
        }
        assertEq(mp.getAsk(askId).assigned, 3);
        assertEq(mp.totalEscrow(), 3 * uint256(REWARD), "assignment moves no money");
        assertConserved();
    }

    function test_WhenRelayedAgain() external {
        uint256 askId = createAsk(market, 2);
        IProofMarketplace.Assignment[] memory a = new IProofMarketplace.Assignment[](2);
        a[0] = IProofMarketplace.Assignment(askId, 0, g1, 1e18);
        a[1] = IProofMarketplace.Assignment(askId, 1, g2, 1e18);
        uint256 validUntil = block.timestamp + 60;
        bytes memory sig = signBatch(engine, a, validUntil);
        assertEq(mp.assignBatch(a, validUntil, sig), 2);
        vm.warp(block.timestamp + 30);
        vm.expectEmit(address(mp));
        emit IProofMarketplace.AssignmentSkipped(askId, g1, 0, IProofMarketplace.SkipReason.SlotNotOpen);
        vm.expectEmit(address(mp));
        emit IProofMarketplace.AssignmentSkipped(askId, g2, 1, IProofMarketplace.SkipReason.SlotNotOpen);
        assertEq(mp.assignBatch(a, validUntil, sig), 0);
        assertEq(staking.lockedOf(g1, market), PENALTY, "locked once");
        assertEq(mp.getGenerator(g1).active, 1);
        assertEq(mp.getSlot(askId, 0).deadline, validUntil - 60 + PROVING_TIME, "first deadline kept");
    }

    function test_GivenSealedBidAfterWindow() external {
        uint256 auction = createMarket(IProofMarketplace.MatchingMode.SealedBid, 50);
        vm.prank(g1);
        mp.joinMarket(auction, 3e18, 60, "");
        depositStake(g1, auction, PENALTY);
        uint256 askId = createAsk(auction, 1);
        vm.warp(block.timestamp + 50);
        assertEq(assign(one(askId, 0, g1, 1e18)), 1, "the clearing price rules, not the standing cost");
    }
}
