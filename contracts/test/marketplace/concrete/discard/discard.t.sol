// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {IProofMarketplace} from "../../../../src/marketplace/IProofMarketplace.sol";
import {Marketplace_Test} from "../../Marketplace.t.sol";

contract Discard_Test is Marketplace_Test {
    address internal g1;
    address internal g2;
    uint256 internal askId;

    function setUp() public override {
        super.setUp();
        g1 = addKeyedGenerator("g1", market, 1e18, 2, 2 * PENALTY);
        g2 = addKeyedGenerator("g2", market, 1e18, 2, 2 * PENALTY);
        askId = createPrivateAsk(market, 2);
        assertEq(assignWithKeys(one(askId, 0, g1, 2e18)), 1);
    }

    function expectWrongState(uint256 id, uint256 slot, IProofMarketplace.SlotState state, address caller)
        internal
    {
        vm.expectRevert(
            abi.encodeWithSelector(IProofMarketplace.ProofMarketplaceWrongSlotState.selector, id, slot, state)
        );
        vm.prank(caller);
        mp.discard(id, slot);
    }

    /// @dev A private ask of `k` slots whose slot 0 went to g2 at the expiry second, so that its deadline outlives
    /// the ask; returns one second after the expiry.
    function expiredWithSlot0Running(uint8 k) internal returns (uint256 id) {
        id = createPrivateAsk(market, k);
        vm.warp(block.timestamp + EXPIRY_IN);
        assertEq(assignWithKeys(one(id, 0, g2, 2e18)), 1);
        vm.warp(block.timestamp + 1);
    }

    function discard(address g, uint256 id, uint256 slot) internal {
        vm.prank(g);
        mp.discard(id, slot);
    }

    function test_RevertWhen_SlotNotAssigned() external {
        expectWrongState(askId, 1, IProofMarketplace.SlotState.Open, g1);
        expectWrongState(askId, 2, IProofMarketplace.SlotState.None, g1);
        expectWrongState(askId, 16, IProofMarketplace.SlotState.None, g1);
        expectWrongState(askId + 1, 0, IProofMarketplace.SlotState.None, g1);

        // Twice.
        discard(g1, askId, 0);
        expectWrongState(askId, 0, IProofMarketplace.SlotState.Open, g1);

        // Completed: the reward was paid, the slot cannot be re-opened to pay it twice.
        assertEq(assignWithKeys(one(askId, 0, g1, 2e18)), 1);
        submit(g1, askId, 0);
        expectWrongState(askId, 0, IProofMarketplace.SlotState.Completed, g1);

        // Slashed: the generator cannot undo its slash.
        assertEq(assignWithKeys(one(askId, 1, g2, 2e18)), 1);
        vm.warp(block.timestamp + PROVING_TIME + 1);
        mp.slash(askId, 1);
        expectWrongState(askId, 1, IProofMarketplace.SlotState.Slashed, g2);
        assertConserved();
    }

    function test_RevertGiven_InputsInvalid() external {
        bytes memory sig = signInvalidInputs(engine, askId, 0, g1, 1e18);
        mp.settleInvalidInputs(askId, 0, 1e18, sig);
        expectWrongState(askId, 0, IProofMarketplace.SlotState.InputsInvalid, g1);
    }

    function test_RevertWhen_NotTheGenerator() external {
        assertEq(assignWithKeys(one(askId, 1, g2, 2e18)), 1);
        address[3] memory callers = [g2, requester, relayer];
        for (uint256 i; i < callers.length; ++i) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IProofMarketplace.ProofMarketplaceNotAssignedGenerator.selector, askId, 0
                )
            );
            vm.prank(callers[i]);
            mp.discard(askId, 0);
        }
    }

    function test_RevertWhen_DeadlinePassed() external {
        uint64 deadline = mp.getSlot(askId, 0).deadline;
        vm.warp(deadline + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IProofMarketplace.ProofMarketplaceDeadlinePassed.selector, deadline)
        );
        vm.prank(g1);
        mp.discard(askId, 0);
        // Past the deadline the slot is slashable, not discardable.
        mp.slash(askId, 0);
        assertEq(staking.stakeOf(g1, market), PENALTY);
    }

    function test_WhenDiscarded() external {
        vm.warp(mp.getSlot(askId, 0).deadline); // the deadline second itself
        uint256 escrow = mp.totalEscrow();
        vm.expectEmit(address(mp));
        emit IProofMarketplace.AssignmentDiscarded(askId, 0, g1);
        discard(g1, askId, 0);

        IProofMarketplace.Slot memory s = mp.getSlot(askId, 0);
        assertEq(uint256(s.state), uint256(IProofMarketplace.SlotState.Open));
        assertEq(s.generator, address(0));
        assertEq(s.price, 0);
        assertEq(s.deadline, 0);
        assertEq(mp.getAsk(askId).assigned, 0);
        assertEq(staking.lockedOf(g1, market), 0, "lock released");
        assertEq(staking.stakeOf(g1, market), 2 * PENALTY, "nothing slashed");
        assertEq(mp.getGenerator(g1).active, 0, "capacity restored");
        assertEq(mp.totalEscrow(), escrow, "no money moved");
        assertEq(mp.withdrawableOf(g1), 0);
        assertEq(mp.withdrawableOf(refundTo), 0);
        assertConserved();
    }

    /// @dev Running work settles normally after the generator left the market or deregistered.
    function test_GivenGeneratorLeft() external {
        vm.startPrank(g1);
        mp.leaveMarket(market);
        mp.deregisterGenerator();
        mp.discard(askId, 0);
        vm.stopPrank();
        assertEq(staking.lockedOf(g1, market), 0);
        assertEq(mp.getGenerator(g1).active, 0);
        assertEq(assignWithKeys(one(askId, 0, g1, 2e18)), 0, "not given back to a generator that left");
        assertEq(assignWithKeys(one(askId, 0, g2, 2e18)), 1);
    }

    function test_WhenReassigned() external {
        discard(g1, askId, 0);
        // To another generator, with a fresh wrap to its key.
        assertEq(assignWithKeys(one(askId, 0, g2, 3e18)), 1);
        assertEq(mp.getSlot(askId, 0).generator, g2);
        assertEq(mp.getSlot(askId, 0).price, 3e18);
        discard(g2, askId, 0);
        // And back to the first one: the contract allows it (the engine does not do it).
        assertEq(assignWithKeys(one(askId, 0, g1, 2e18)), 1);
        // g1 holds slot 0 again, so it cannot also take slot 1.
        assertEq(assignWithKeys(one(askId, 1, g1, 2e18)), 0);
        assertEq(mp.getAsk(askId).assigned, 1);
        assertEq(staking.lockedOf(g1, market), PENALTY);
        assertEq(staking.lockedOf(g2, market), 0);
        assertEq(mp.getGenerator(g1).active, 1);
        assertEq(mp.getGenerator(g2).active, 0);
        // The old generator can no longer act on the slot.
        vm.expectRevert(
            abi.encodeWithSelector(IProofMarketplace.ProofMarketplaceNotAssignedGenerator.selector, askId, 0)
        );
        vm.prank(g2);
        mp.discard(askId, 0);
        submit(g1, askId, 0);
        assertEq(mp.withdrawableOf(g1), 2e18);
        assertEq(mp.withdrawableOf(g2), 0);
        assertConserved();
    }

    function test_GivenAllDiscarded_CancelAsk() external {
        assertEq(assignWithKeys(one(askId, 1, g2, 2e18)), 1);
        discard(g1, askId, 0);
        vm.expectRevert(
            abi.encodeWithSelector(IProofMarketplace.ProofMarketplaceAskNotCancellable.selector, askId)
        );
        vm.prank(requester);
        mp.cancelAsk(askId);
        discard(g2, askId, 1);
        vm.expectEmit(address(mp));
        emit IProofMarketplace.AskCancelled(askId, 2 * uint256(REWARD));
        vm.prank(requester);
        mp.cancelAsk(askId);
        assertEq(mp.withdrawableOf(refundTo), 2 * uint256(REWARD));
        assertEq(mp.totalEscrow(), 0);
        assertEq(assignWithKeys(one(askId, 0, g1, 2e18)), 0, "cancelled: never assigned again");
        assertConserved();
    }

    function test_GivenExpiredNotRefunded() external {
        uint256 single = expiredWithSlot0Running(1);
        vm.expectRevert(
            abi.encodeWithSelector(IProofMarketplace.ProofMarketplaceNothingToRefund.selector, single)
        );
        mp.refundExpired(single);
        discard(g2, single, 0);
        assertEq(mp.withdrawableOf(refundTo), 0, "discard itself credits nothing");
        assertEq(assignWithKeys(one(single, 0, g1, 2e18)), 0, "expired: never assigned again");
        mp.refundExpired(single);
        assertEq(mp.withdrawableOf(refundTo), REWARD);
        assertConserved();
    }

    function test_GivenRefunded() external {
        // Slot 1 never assigned, refunded.
        uint256 other = expiredWithSlot0Running(2);
        mp.refundExpired(other);
        assertEq(mp.withdrawableOf(refundTo), REWARD, "the never-assigned slot");
        assertConserved();
        vm.expectEmit(address(mp));
        emit IProofMarketplace.AssignmentDiscarded(other, 0, g2);
        discard(g2, other, 0);
        assertEq(mp.withdrawableOf(refundTo), 2 * uint256(REWARD), "the discarded slot's reward, once");
        assertEq(staking.lockedOf(g2, market), 0);
        assertEq(mp.getGenerator(g2).active, 0);
        assertConserved();
        // Neither a second refund nor a reassignment can touch that reward again.
        vm.expectRevert(
            abi.encodeWithSelector(IProofMarketplace.ProofMarketplaceNothingToRefund.selector, other)
        );
        mp.refundExpired(other);
        vm.expectEmit(address(mp));
        emit IProofMarketplace.AssignmentSkipped(other, g1, 0, IProofMarketplace.SkipReason.AskNotAssignable);
        assertEq(assignWithKeys(one(other, 0, g1, 2e18)), 0);
        vm.expectRevert(
            abi.encodeWithSelector(
                IProofMarketplace.ProofMarketplaceWrongSlotState.selector,
                other,
                0,
                IProofMarketplace.SlotState.Open
            )
        );
        vm.prank(g2);
        mp.discard(other, 0);
    }
}
