// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {StdInvariant} from "forge-std/StdInvariant.sol";

import {IProofMarketplace} from "../../../src/marketplace/IProofMarketplace.sol";
import {Marketplace_Test} from "../Marketplace.t.sol";
import {MarketplaceHandler} from "./handlers/MarketplaceHandler.sol";

/// @notice The marketplace's invariants (listed in words in README.md), checked after every random call sequence.
/// forge-config: default.invariant.fail-on-revert = true
/// forge-config: default.invariant.runs = 32
/// forge-config: default.invariant.depth = 40
contract MarketplaceInvariant_Test is StdInvariant, Marketplace_Test {
    MarketplaceHandler internal handler;

    function setUp() public override {
        super.setUp();
        address[] memory gens = new address[](5);
        for (uint256 i; i < gens.length; ++i) {
            // Capacities 1..5 and stakes for 1..5 assignments: both limits are hit.
            gens[i] = addGenerator(
                string.concat("gen", vm.toString(i)), market, uint96(i * 1e18), uint32(i + 1), 0
            );
            depositStake(gens[i], market, (5 - i) * uint256(PENALTY));
            // The last generator has no encryption key: its private entries are skipped (NoEncryptionKey).
            if (i + 1 < gens.length) setEncryptionKey(gens[i], market);
        }
        handler = new MarketplaceHandler(
            mp, staking, token, schnorr, market, engine.privateKey, gens, requester, refundTo
        );
        // The handler acts as the fixture's requester (funded and approved) through vm.prank.
        targetContract(address(handler));
    }

    /// @dev 1. The marketplace holds exactly the escrow plus the credited payments; the staking module holds
    /// exactly the stake plus the unclaimed slash proceeds.
    function invariant_TokenBalancesConserved() external view {
        assertConserved();
        assertEq(
            handler.ghostEscrowed(),
            token.balanceOf(address(mp)) + handler.ghostWithdrawn(),
            "in = held + out"
        );
    }

    /// @dev 2. The escrow is exactly reward × (open slots of live asks + assigned slots), and the credited total is
    /// the sum of the payees' balances.
    function invariant_EscrowMatchesSlots() external view {
        uint256 expected;
        for (uint256 i; i < handler.askCount(); ++i) {
            uint256 askId = handler.asks(i);
            IProofMarketplace.Ask memory a = mp.getAsk(askId);
            for (uint256 s; s < a.redundancy; ++s) {
                IProofMarketplace.SlotState st = mp.getSlot(askId, s).state;
                bool live = !a.cancelled && !a.refunded;
                if (
                    st == IProofMarketplace.SlotState.Assigned
                        || (st == IProofMarketplace.SlotState.Open && live)
                ) {
                    expected += a.reward;
                }
            }
        }
        assertEq(mp.totalEscrow(), expected, "escrow");
        uint256 credited;
        for (uint256 i; i < handler.payeeCount(); ++i) {
            credited += mp.withdrawableOf(handler.payees(i));
        }
        assertEq(mp.totalWithdrawable(), credited, "credited");
    }

    /// @dev 3. No ask is over-assigned: `assigned` counts the non-open slots, never above the redundancy, and the
    /// generators of an ask are distinct; only private asks have slots settled as invalid inputs.
    function invariant_NoAskOverAssigned() external view {
        for (uint256 i; i < handler.askCount(); ++i) {
            uint256 askId = handler.asks(i);
            IProofMarketplace.Ask memory a = mp.getAsk(askId);
            uint256 taken;
            for (uint256 s; s < 16; ++s) {
                IProofMarketplace.Slot memory slot = mp.getSlot(askId, s);
                if (s >= a.redundancy) {
                    assertEq(uint256(slot.state), uint256(IProofMarketplace.SlotState.None));
                    continue;
                }
                if (slot.state == IProofMarketplace.SlotState.Open) continue;
                if (slot.state == IProofMarketplace.SlotState.InputsInvalid) {
                    assertTrue(a.confidential, "invalid inputs settle private asks only");
                }
                ++taken;
                assertLe(slot.price, a.reward, "price within reward");
                for (uint256 t; t < s; ++t) {
                    IProofMarketplace.Slot memory other = mp.getSlot(askId, t);
                    if (other.state != IProofMarketplace.SlotState.Open) {
                        assertTrue(other.generator != slot.generator);
                    }
                }
            }
            assertEq(a.assigned, taken, "assigned counts taken slots");
            assertLe(a.assigned, a.redundancy);
        }
    }

    /// @dev 4. Each generator's locked stake is the penalty times its assigned (unsettled) slots, which is also its
    /// `active` count, never above its capacity (the handler never lowers a capacity).
    function invariant_LocksMatchAssignments() external view {
        for (uint256 gi; gi < handler.generatorCount(); ++gi) {
            address g = handler.generators(gi);
            uint256 running;
            for (uint256 i; i < handler.askCount(); ++i) {
                uint256 askId = handler.asks(i);
                for (uint256 s; s < 16; ++s) {
                    IProofMarketplace.Slot memory slot = mp.getSlot(askId, s);
                    if (slot.state == IProofMarketplace.SlotState.Assigned && slot.generator == g) ++running;
                }
            }
            IProofMarketplace.Generator memory info = mp.getGenerator(g);
            assertEq(info.active, running, "active");
            assertLe(info.active, info.capacity, "capacity");
            assertEq(staking.lockedOf(g, market), running * PENALTY, "locked");
            assertLe(staking.lockedOf(g, market), staking.stakeOf(g, market), "locked within stake");
        }
    }

    /// @dev The handler's paths really apply, skip, prove and slash (a plain test: single invariant runs may be too
    /// short to reach every path, so this is checked once, deterministically).
    function test_HandlerReachesEveryPath() external {
        handler.createAsk(10e18, 16, 2 days);
        handler.createAsk(10e18, 16, 2 days);
        for (uint256 seed; seed < 4; ++seed) {
            handler.assignBatch(seed, 8);
        }
        assertGt(handler.ghostAccepted(), 0, "no assignment applied");
        assertGt(handler.ghostSkipped(), 0, "no entry skipped");
        handler.submitProof(0, 0);
        assertEq(handler.ghostProofs(), 1);
        handler.slash(0, 0);
        assertEq(handler.ghostSlashes(), 1);

        handler.createPrivateAsk(10e18, 16, 2 days, false);
        handler.createPrivateAsk(10e18, 16, 2 days, true);
        assertEq(handler.ghostPrivateAsks(), 2);
        uint256 before = handler.ghostAccepted();
        for (uint256 seed; seed < 6; ++seed) {
            handler.assignBatchWithKeys(seed, 8);
        }
        assertGt(handler.ghostKeyedAccepted(), 0, "no keyed assignment applied");
        assertEq(handler.ghostAccepted() - before, handler.ghostKeyedAccepted());
        handler.discard(0, 0);
        assertEq(handler.ghostDiscards(), 1);
        handler.settleInvalidInputs(2, 0, 1e18);
        assertEq(handler.ghostInvalidInputs(), 1);
        assertConserved();
    }
}
