// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {IProofMarketplace} from "../../../src/marketplace/IProofMarketplace.sol";
import {Marketplace_Test} from "../Marketplace.t.sol";

/// @notice Property tests over random asks, batches and outcomes.
contract MarketplaceFuzz_Test is Marketplace_Test {
    uint256 internal constant POOL = 6;
    address[POOL] internal pool;

    function setUp() public override {
        super.setUp();
        for (uint256 i; i < POOL; ++i) {
            pool[i] =
                addKeyedGenerator(string.concat("p", vm.toString(i)), market, 0, 32, 32 * uint256(PENALTY));
        }
    }

    /// @dev Random batches (entries for out-of-range slots, repeated slots, repeated generators, replays) never
    /// assign more than k slots, never the same generator twice, and lock exactly one penalty per assignment.
    function testFuzz_NoAskOverAssigned(uint8 k, uint256[24] memory entries, uint8 batches) external {
        k = uint8(bound(k, 1, 16));
        uint256 askId = createAsk(market, k);
        uint256 nBatches = bound(batches, 1, 3);
        uint256 accepted;
        for (uint256 b; b < nBatches; ++b) {
            IProofMarketplace.Assignment[] memory a = new IProofMarketplace.Assignment[](8);
            for (uint256 i; i < 8; ++i) {
                uint256 e = entries[b * 8 + i];
                a[i] = IProofMarketplace.Assignment(askId, e % 20, pool[(e >> 8) % POOL], REWARD);
            }
            accepted += assign(a);
            if (b == 0) assertEq(assign(a), 0, "a replay applies nothing");
        }
        IProofMarketplace.Ask memory ask = mp.getAsk(askId);
        assertEq(ask.assigned, accepted);
        assertLe(accepted, k);
        assertLe(accepted, POOL);
        uint256 locked;
        for (uint256 i; i < POOL; ++i) {
            uint256 l = staking.lockedOf(pool[i], market);
            assertTrue(l == 0 || l == PENALTY, "a generator holds at most one slot of the ask");
            locked += l;
        }
        assertEq(locked, accepted * PENALTY);
    }

    /// @dev Whatever order proofs, slashes and time come in, each lock is released or slashed exactly once.
    function testFuzz_NoStakeUnlockTwice(uint8 k, uint256 ops) external {
        k = uint8(bound(k, 1, POOL));
        uint256 askId = createAsk(market, k);
        IProofMarketplace.Assignment[] memory a = new IProofMarketplace.Assignment[](k);
        for (uint256 i; i < k; ++i) {
            a[i] = IProofMarketplace.Assignment(askId, i, pool[i], REWARD);
        }
        assertEq(assign(a), k);
        uint256 slashed;
        for (uint256 step; step < 12; ++step) {
            uint256 op = (ops >> (step * 4)) % 4;
            uint256 slot = (ops >> (step * 4 + 2)) % k;
            IProofMarketplace.SlotState state = mp.getSlot(askId, slot).state;
            if (op == 0) {
                vm.warp(block.timestamp + PROVING_TIME / 2);
            } else if (op == 1) {
                bytes memory data = statement(WITNESS);
                bytes memory proof = prove(WITNESS, step + 1);
                bool ok = state == IProofMarketplace.SlotState.Assigned
                    && block.timestamp <= mp.getSlot(askId, slot).deadline;
                if (!ok) vm.expectRevert();
                vm.prank(pool[slot]);
                mp.submitProof(askId, slot, data, proof);
            } else {
                bool ok = state == IProofMarketplace.SlotState.Assigned
                    && block.timestamp > mp.getSlot(askId, slot).deadline;
                if (!ok) vm.expectRevert();
                mp.slash(askId, slot);
                if (ok) ++slashed;
            }
        }
        for (uint256 i; i < k; ++i) {
            IProofMarketplace.SlotState state = mp.getSlot(askId, i).state;
            uint256 expectLocked = state == IProofMarketplace.SlotState.Assigned ? PENALTY : 0;
            uint256 expectStake =
                32 * uint256(PENALTY) - (state == IProofMarketplace.SlotState.Slashed ? PENALTY : 0);
            assertEq(staking.lockedOf(pool[i], market), expectLocked);
            assertEq(staking.stakeOf(pool[i], market), expectStake);
        }
        assertEq(staking.totalClaimable(), slashed * PENALTY);
        assertConserved();
    }

    /// @dev Every token escrowed leaves exactly once: to the generators (their prices), and the rest to the refund
    /// address, whatever the prices, redundancy and outcomes.
    function testFuzz_PaymentsConserveValue(uint96 reward, uint8 k, uint256 prices, uint256 outcomes)
        external
    {
        reward = uint96(bound(reward, 1, type(uint96).max / 16));
        k = uint8(bound(k, 1, POOL));
        IProofMarketplace.AskParams memory p = askParams(market, k);
        p.reward = reward;
        uint256 askId = createAsk(p);
        uint256 escrowed = uint256(reward) * k;

        uint256 paidToGenerators;
        uint256 n;
        IProofMarketplace.Assignment[] memory a = new IProofMarketplace.Assignment[](k);
        for (uint256 i; i < k; ++i) {
            if ((outcomes >> (i * 2)) % 3 == 2) continue; // left open, refunded at expiry
            a[n++] = IProofMarketplace.Assignment(
                askId, i, pool[i], bound(uint256(keccak256(abi.encode(prices, i))), 0, reward)
            );
        }
        assembly ("memory-safe") {
            mstore(a, n)
        }
        if (n != 0) assertEq(assign(a), n);
        for (uint256 i; i < n; ++i) {
            if ((outcomes >> (a[i].slot * 2)) % 3 == 0) {
                submit(a[i].generator, askId, a[i].slot);
                paidToGenerators += a[i].price;
            }
        }
        vm.warp(block.timestamp + EXPIRY_IN + 1);
        for (uint256 i; i < n; ++i) {
            if (mp.getSlot(askId, a[i].slot).state == IProofMarketplace.SlotState.Assigned) {
                mp.slash(askId, a[i].slot);
            }
        }
        if (n < k) mp.refundExpired(askId);
        assertEq(mp.totalEscrow(), 0, "nothing left in escrow");
        assertConserved();

        uint256 withdrawn;
        for (uint256 i; i < POOL; ++i) {
            if (mp.withdrawableOf(pool[i]) == 0) continue;
            vm.prank(pool[i]);
            mp.withdraw();
            withdrawn += token.balanceOf(pool[i]);
        }
        assertEq(withdrawn, paidToGenerators);
        // The requester may have nothing to collect (every slot proven at the full reward).
        if (mp.withdrawableOf(refundTo) != 0) {
            vm.prank(refundTo);
            mp.withdraw();
        }
        assertEq(token.balanceOf(refundTo) + withdrawn, escrowed, "everything escrowed came out once");
        assertEq(token.balanceOf(address(mp)), 0);
    }

    /// @dev A private ask's slots end in any mix of proof, invalid inputs (any payment up to the price), discard
    /// before expiry, discard after the refund, and slash: every token escrowed still leaves exactly once, every lock
    /// is released or slashed once, every unit of capacity comes back.
    function testFuzz_PrivateOutcomesConserveValue(uint96 reward, uint8 k, uint256 prices, uint256 outcomes)
        external
    {
        reward = uint96(bound(reward, 1, type(uint96).max / 16));
        k = uint8(bound(k, 1, POOL));
        IProofMarketplace.AskParams memory p = askParams(market, k);
        p.reward = reward;
        uint256 askId = createPrivateAsk(p, keccak256("inputs"), keyWrap("to engine"), "");
        uint256 escrowed = uint256(reward) * k;
        // Assigned 10 s before expiry, so deadlines outlive the ask and a discard can follow its refund.
        vm.warp(p.expiry - 10);
        IProofMarketplace.Assignment[] memory a = new IProofMarketplace.Assignment[](k);
        for (uint256 i; i < k; ++i) {
            a[i] = IProofMarketplace.Assignment(
                askId, i, pool[i], bound(uint256(keccak256(abi.encode(prices, i))), 0, reward)
            );
        }
        assertEq(assignWithKeys(a), k);

        uint256 paidToGenerators;
        bool anyOpen;
        for (uint256 i; i < k; ++i) {
            uint256 outcome = (outcomes >> (i * 3)) % 5;
            if (outcome == 0) {
                submit(pool[i], askId, i);
                paidToGenerators += a[i].price;
            } else if (outcome == 1) {
                uint256 payment = bound(uint256(keccak256(abi.encode(outcomes, i))), 0, a[i].price);
                mp.settleInvalidInputs(
                    askId, i, payment, signInvalidInputs(engine, askId, i, pool[i], payment)
                );
                paidToGenerators += payment;
            } else if (outcome == 2) {
                vm.prank(pool[i]);
                mp.discard(askId, i);
                anyOpen = true;
            }
        }
        vm.warp(p.expiry + 1);
        if (anyOpen) mp.refundExpired(askId);
        for (uint256 i; i < k; ++i) {
            if ((outcomes >> (i * 3)) % 5 == 4) {
                vm.prank(pool[i]);
                mp.discard(askId, i);
            }
        }
        if (!mp.getAsk(askId).refunded && mp.getAsk(askId).assigned < k) mp.refundExpired(askId);
        vm.warp(block.timestamp + PROVING_TIME);
        for (uint256 i; i < k; ++i) {
            if (mp.getSlot(askId, i).state == IProofMarketplace.SlotState.Assigned) mp.slash(askId, i);
        }
        assertEq(mp.totalEscrow(), 0, "nothing left in escrow");
        assertConserved();
        for (uint256 i; i < POOL; ++i) {
            assertEq(staking.lockedOf(pool[i], market), 0, "every lock released or slashed");
            assertEq(mp.getGenerator(pool[i]).active, 0, "capacity back");
        }

        uint256 withdrawn;
        for (uint256 i; i < POOL; ++i) {
            withdrawn += mp.withdrawableOf(pool[i]);
        }
        assertEq(withdrawn, paidToGenerators);
        assertEq(mp.withdrawableOf(refundTo) + withdrawn, escrowed, "everything escrowed is credited once");
    }
}
