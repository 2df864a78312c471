// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {INetworkMiddleware} from "../../src/symbiotic/INetworkMiddleware.sol";
import {RestakingTiming} from "../../src/symbiotic/RestakingTiming.sol";
import {RestakingWorld_Test} from "./RestakingWorld.t.sol";
import {RestakingBridge} from "./utils/RestakingBridge.sol";

/// @notice Attacks on the restaked slash path (issue: slash charged to the wrong snapshot; snapshot never expires).
contract RestakedSlashing_Test is RestakingWorld_Test {
    /// @dev Flaw 1. The operator takes restaked work in epoch 0, withdraws all its stake on L1 right after epoch 0's
    /// capture, epoch 1's snapshot (without it) becomes active, the deadline passes. The slash must be charged to
    /// epoch 0's snapshot, carried to L1 at epoch 0's capture, and slash the vaults there.
    function test_attack_slashChargedToLockSnapshot_afterL1Withdrawal() public {
        uint48 capture0 = snapshotAt(0);
        vm.warp(genesis + OFFSET);
        assertEq(module.restakedStakeOf(operator), 2 * DEPOSIT);
        uint256 deadline = block.timestamp + 1 days + 1 hours;
        assertTrue(module.lock(operator, MARKET, 2 * DEPOSIT, deadline));

        // Right after the capture, the whole stake leaves both vaults.
        withdrawFromVaults(DEPOSIT);
        snapshotAt(1);
        vm.warp(genesis + L2_EPOCH + OFFSET);
        (, uint64 active) = module.activeEpoch();
        assertEq(active, 1);
        assertEq(module.restakedStakeOf(operator), 0, "epoch 1 has no stake of the operator");

        vm.warp(deadline + 1);
        uint256 burnedBefore = collateral.balanceOf(burner);
        RestakingBridge.Carried memory c = slashAndCarry(2 * DEPOSIT, deadline);
        assertEq(c.capture, capture0, "carried against the lock's capture");
        assertEq(c.records, 2);
        assertEq(c.accepted, 2, "the real middleware accepts both records");
        assertEq(c.requested, 2 * DEPOSIT, "the whole penalty is charged");
        // The instant vault is slashed now, the veto vault after its veto period.
        assertEq(collateral.balanceOf(burner) - burnedBefore, DEPOSIT);
        vm.warp(block.timestamp + VETO);
        middleware.executeSlash(vetoVault.vault, 0, "");
        assertEq(collateral.balanceOf(burner) - burnedBefore, 2 * DEPOSIT, "the withdrawn stake paid");
        assertEq(module.restakedLockedOf(operator), 0);
    }

    /// @dev Flaw 1, partial form: the operator withdraws 60% after the capture; the charge per vault is what the
    /// lock's snapshot promised (500 each), not capped at what is left (400 each).
    function test_attack_partialWithdrawalDoesNotCapTheCharge() public {
        uint48 capture0 = snapshotAt(0);
        vm.warp(genesis + OFFSET);
        uint256 deadline = block.timestamp + 1 days + 1 hours;
        assertTrue(module.lock(operator, MARKET, DEPOSIT, deadline));
        withdrawFromVaults(600e18);
        snapshotAt(1);
        vm.warp(deadline + 1);
        uint256 burnedBefore = collateral.balanceOf(burner);
        RestakingBridge.Carried memory c = slashAndCarry(DEPOSIT, deadline);
        assertEq(c.capture, capture0);
        assertEq(c.accepted, 2);
        assertEq(c.requested, DEPOSIT);
        vm.warp(block.timestamp + VETO);
        middleware.executeSlash(vetoVault.vault, 0, "");
        assertEq(collateral.balanceOf(burner) - burnedBefore, DEPOSIT);
    }

    /// @dev Flaw 2. No snapshot after epoch 0 (bridge down or withheld). Epoch 0's snapshot backs locks only while
    /// their deadline stays within its `lockEnd`; after that it grants nothing, so it can never yield a record
    /// with a capture L1 refuses.
    function test_attack_snapshotNeverExpires_staleSnapshotGrantsNothing() public {
        uint48 capture0 = snapshotAt(0);
        uint256 lockEnd = module.snapshotLockEnd(0);
        assertEq(lockEnd, capture0 + L2_EPOCH + OFFSET + LOCK_ALLOWANCE);
        assertEq(
            lockEnd + BRIDGING,
            capture0 + middleware.timing().epochDuration + OFFSET + LOCK_ALLOWANCE + BRIDGING
        );

        // A lock whose deadline is past the snapshot's end is refused even while the snapshot is active.
        vm.warp(genesis + L2_EPOCH + OFFSET + 1);
        assertFalse(module.lock(operator, MARKET, 1e18, lockEnd + 1));
        // The last lock it can back: deadline exactly at its end, slashed and carried within the allowance.
        assertTrue(module.lock(operator, MARKET, 1e18, lockEnd));
        vm.warp(lockEnd + 1);
        (bool active,) = module.activeEpoch();
        assertFalse(active, "expired");
        assertEq(module.restakedStakeOf(operator), 0);
        assertEq(module.stakeOf(operator, MARKET), 1e18, "only the lock still held");
        assertFalse(module.lock(operator, 2, 1e18, lockEnd + 1 hours));
        vm.warp(lockEnd + BRIDGING);
        RestakingBridge.Carried memory c = slashAndCarry(1e18, lockEnd);
        assertEq(c.capture, capture0);
        assertEq(c.accepted, 2, "accepted on L1 at the end of the bridging allowance");

        // Weeks later the stale snapshot still grants nothing: before the fix it did, and its records were refused
        // by L1 (MiddlewareCaptureOutsideWindow).
        vm.warp(capture0 + VAULT_EPOCH + 1);
        assertFalse(module.lock(operator, MARKET, 1e18, block.timestamp + 1 hours));
        Enclave memory freshKey = enclave("bridge-later"); // the first key has reached its registry expiry
        registerKey(FAMILY, 1, freshKey);
        INetworkMiddleware.SlashResult memory late =
            slashResult(keccak256("late"), instantVault.vault, 1e18, capture0);
        bytes memory sig = signSlash(freshKey, late);
        vm.expectRevert(
            abi.encodeWithSelector(
                INetworkMiddleware.MiddlewareCaptureOutsideWindow.selector,
                capture0,
                uint48(block.timestamp - VAULT_EPOCH)
            )
        );
        middleware.slash(late, sig);
    }

    /// @dev Symbiotic refuses a slash at a capture older than one already slashed for the operator. An operator
    /// holding a lock against epoch 0 cannot take a lock against epoch 1 that falls due first (it would slash it
    /// first, at epoch 1's capture, and make the epoch-0 slash unslashable); locks due in capture order all land.
    function test_attack_newerSnapshotLockDueFirst_refused() public {
        uint48 capture0 = snapshotAt(0);
        vm.warp(genesis + OFFSET);
        uint256 deadline0 = block.timestamp + 1 days + 6 hours;
        assertTrue(module.lock(operator, MARKET, 100e18, deadline0));
        uint48 capture1 = snapshotAt(1);
        vm.warp(genesis + L2_EPOCH + OFFSET);
        assertFalse(
            module.lock(operator, MARKET, 100e18, block.timestamp + 1 hours), "due before the older one"
        );
        assertFalse(module.lock(operator, MARKET, 100e18, deadline0 + BRIDGING - 1));
        uint256 deadline1 = deadline0 + BRIDGING;
        assertTrue(module.lock(operator, MARKET, 100e18, deadline1));

        vm.warp(deadline0 + 1);
        RestakingBridge.Carried memory c = slashAndCarry(100e18, deadline0);
        assertEq(c.capture, capture0);
        assertEq(c.accepted, 2);
        vm.warp(deadline1 + 1);
        c = slashAndCarry(100e18, deadline1);
        assertEq(c.capture, capture1);
        assertEq(c.accepted, 2);

        // Why: once slashed at capture 1, the instant vault refuses any slash at capture 0.
        INetworkMiddleware.SlashResult memory older =
            slashResult(keccak256("older"), instantVault.vault, 1e18, capture0);
        bytes memory sig = signSlash(bridge, older);
        vm.expectRevert(bytes4(keccak256("InsufficientSlash()")));
        middleware.slash(older, sig);
    }

    /// @dev Both chains' contracts derive their bounds from one set of parameters.
    function test_TimingIsSharedByBothChains() public view {
        RestakingTiming.Params memory l1 = middleware.timing();
        RestakingTiming.Params memory l2 = module.timing();
        assertEq(keccak256(abi.encode(l1)), keccak256(abi.encode(l2)));
        assertEq(
            uint256(SLASHING_WINDOW),
            uint256(l2.epochDuration) + l2.activationOffset + l2.lockAllowance + l2.bridgingAllowance
        );
    }
}
