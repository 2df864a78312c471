// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {Vm} from "forge-std/Vm.sol";

import {IProofMarketplace} from "../../src/marketplace/IProofMarketplace.sol";
import {Marketplace_Test} from "./Marketplace.t.sol";

/// @notice The whole flow on one chain: a market, generators, asks, engine-signed batches, a proof paid, a missed
/// deadline slashed, and an engine restarted mid-stream that re-signs overlapping batches: nothing is assigned twice
/// and no ask is lost (each ends assigned, cancelled or refunded). Then a private ask: keys, a keyed batch mixing it
/// with a public ask, a generator giving its slot back, a reassignment, a proof read from its log, and a slot settled
/// as invalid inputs.
contract Lifecycle_Test is Marketplace_Test {
    function test_FullLifecycleWithEngineRestart() external {
        address fast = addGenerator("fast", market, 1e18, 2, 2 * PENALTY);
        address slow = addGenerator("slow", market, 2e18, 2, 2 * PENALTY);
        uint256 a1 = createAsk(market, 1);
        uint256 a2 = createAsk(market, 2);
        uint256 a3 = createAsk(market, 1);

        // The engine signs a first batch; it lands.
        IProofMarketplace.Assignment[] memory first = new IProofMarketplace.Assignment[](2);
        first[0] = IProofMarketplace.Assignment(a1, 0, fast, 1e18);
        first[1] = IProofMarketplace.Assignment(a2, 0, fast, 1e18);
        assertEq(assign(first), 2);

        // The engine restarts before it saw the receipt, rebuilds its state and re-signs what it believes is
        // pending plus new work: the overlap is skipped, the new entries apply, nothing is doubled.
        vm.warp(block.timestamp + 12);
        IProofMarketplace.Assignment[] memory second = new IProofMarketplace.Assignment[](3);
        second[0] = IProofMarketplace.Assignment(a1, 0, fast, 1e18); // already applied
        second[1] = IProofMarketplace.Assignment(a2, 1, slow, 2e18); // new
        second[2] = IProofMarketplace.Assignment(a2, 0, slow, 2e18); // slot taken by `fast`
        assertEq(assign(second), 1);
        assertEq(staking.lockedOf(fast, market), 2 * PENALTY, "fast locked once per slot");
        assertEq(staking.lockedOf(slow, market), PENALTY);
        assertEq(mp.getAsk(a2).assigned, 2);

        // `fast` proves both its slots and is paid its price; `slow` misses its deadline and is slashed.
        submit(fast, a1, 0);
        submit(fast, a2, 0);
        vm.warp(mp.getSlot(a2, 1).deadline + 1);
        mp.slash(a2, 1);

        // a3 was never assigned: after expiry its escrow comes back.
        vm.warp(block.timestamp + EXPIRY_IN);
        mp.refundExpired(a3);

        assertEq(mp.totalEscrow(), 0, "no ask left hanging");
        assertEq(mp.withdrawableOf(fast), 2e18);
        // a1: 5 - 1; a2 slot 0: 5 - 1; a2 slot 1: 5 (slashed); a3: 5.
        assertEq(mp.withdrawableOf(refundTo), 4e18 + 4e18 + 5e18 + 5e18);
        assertEq(staking.stakeOf(slow, market), PENALTY);
        assertEq(staking.claimableOf(refundTo), PENALTY / 2);
        assertEq(staking.lockedOf(fast, market), 0);
        assertConserved();

        vm.prank(fast);
        mp.withdraw();
        vm.prank(refundTo);
        mp.withdraw();
        assertEq(token.balanceOf(address(mp)), 0);
    }

    function test_PrivateAskLifecycle() external {
        address a = addKeyedGenerator("a", market, 1e18, 2, 2 * PENALTY);
        address b = addKeyedGenerator("b", market, 1e18, 2, 2 * PENALTY);
        address c = addKeyedGenerator("c", market, 1e18, 2, 2 * PENALTY);
        uint256 priv = createPrivateAsk(
            askParams(market, 2), keccak256(privateInputs(256)), keyWrap("to engine"), privateInputs(256)
        );
        uint256 pub = createAsk(market, 1);

        // One keyed batch: both private slots and the public ask.
        IProofMarketplace.Assignment[] memory batch = new IProofMarketplace.Assignment[](3);
        batch[0] = IProofMarketplace.Assignment(priv, 0, a, 2e18);
        batch[1] = IProofMarketplace.Assignment(priv, 1, b, 3e18);
        batch[2] = IProofMarketplace.Assignment(pub, 0, a, 1e18);
        bytes[] memory wraps = new bytes[](3);
        wraps[0] = wrapFor(priv, 0, a);
        wraps[1] = wrapFor(priv, 1, b);
        assertEq(assignWithKeys(batch, wraps), 3);

        // `a` cannot use its inputs and gives slot 0 back; the engine re-wraps the key to `c`.
        vm.prank(a);
        mp.discard(priv, 0);
        assertEq(staking.lockedOf(a, market), PENALTY, "only the public ask's lock left");
        assertEq(assignWithKeys(one(priv, 0, c, 2e18)), 1);

        // `c` proves; the requester reads the proof from ProofSubmitted.
        submitAndReadProof(c, priv, 0);

        // The engine finds the inputs invalid for `b`'s slot and pays `b` its cost.
        mp.settleInvalidInputs(priv, 1, 1e18, signInvalidInputs(engine, priv, 1, b, 1e18));
        submit(a, pub, 0);

        assertEq(mp.totalEscrow(), 0, "every slot settled");
        assertEq(mp.withdrawableOf(a), 1e18);
        assertEq(mp.withdrawableOf(b), 1e18);
        assertEq(mp.withdrawableOf(c), 2e18);
        // priv slot 0: 5 - 2; slot 1: 5 - 1; pub: 5 - 1.
        assertEq(mp.withdrawableOf(refundTo), 3e18 + 4e18 + 4e18);
        assertEq(staking.lockedOf(a, market) + staking.lockedOf(b, market) + staking.lockedOf(c, market), 0);
        assertEq(staking.totalClaimable(), 0, "nobody slashed");
        assertConserved();
    }

    function submitAndReadProof(address g, uint256 askId, uint256 slot) internal {
        vm.recordLogs();
        submit(g, askId, slot);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs[0].topics[0], IProofMarketplace.ProofSubmitted.selector);
        (uint8 s, uint256 price, bytes memory proof) = abi.decode(logs[0].data, (uint8, uint256, bytes));
        assertEq(s, slot);
        assertEq(price, mp.getSlot(askId, slot).price);
        assertEq(proof, prove(WITNESS, uint256(keccak256(abi.encode(g, askId)))));
    }
}
