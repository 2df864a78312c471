// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {RestakingWorld_Test} from "../symbiotic/RestakingWorld.t.sol";
import {RestakingHandler} from "./handlers/RestakingHandler.sol";

/// @notice Restaked locks end well: random snapshots (on time, late, never), locks, proofs, L1 deposits and
/// withdrawals, and time warps across epochs, against the real Symbiotic core. After every sequence: every lock
/// taken against restaked stake was released before its deadline or slashed into records the real L1 middleware
/// accepted (and, for veto vaults, executed), for the full penalty, against a snapshot whose slashable end covers
/// its deadline. The handler never reverts on its own (refusals are expected outcomes it counts), so any revert is a
/// failure.
/// forge-config: default.invariant.fail-on-revert = true
contract RestakingInvariant_Test is RestakingWorld_Test {
    RestakingHandler internal handler;

    function marketplaceAccount() internal override returns (address) {
        handler = new RestakingHandler();
        return address(handler);
    }

    function setUp() public override {
        super.setUp();
        handler.init(
            module, middleware, carrier, collateral, [vetoVault.vault, instantVault.vault], operator, staker
        );
        bytes4[] memory selectors = new bytes4[](6);
        selectors[0] = RestakingHandler.snapshot.selector;
        selectors[1] = RestakingHandler.lock.selector;
        selectors[2] = RestakingHandler.prove.selector;
        selectors[3] = RestakingHandler.withdraw.selector;
        selectors[4] = RestakingHandler.deposit.selector;
        selectors[5] = RestakingHandler.warp.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
        targetContract(address(handler));
    }

    /// @dev Every slashed restaked lock became records that L1 accepted, none was written off or cut short.
    function invariant_EverySlashLandsOnL1() public view {
        assertEq(handler.recordsRejected(), 0, "a record was refused by the L1 middleware");
        assertEq(handler.unbacked(), 0, "a restaked slash was written off");
        assertEq(handler.undercharged(), 0, "a slash was charged less than the lock");
        assertEq(handler.vetoFailed(), 0, "a veto request could not be executed");
    }

    /// @dev No restaked lock outlives the slashability of its snapshot, and no open lock is overdue (the handler
    /// slashes each within the bridging allowance after its deadline).
    function invariant_LocksEndOnTime() public view {
        assertEq(handler.beyondLockEnd(), 0, "a lock's deadline is past its snapshot's slashable end");
        RestakingHandler.Lock[] memory open = handler.openLocks();
        for (uint256 i; i < open.length; ++i) {
            assertGe(
                open[i].deadline + module.BRIDGING_ALLOWANCE(), block.timestamp, "an open lock is overdue"
            );
            (uint64 epoch, uint48 capture, uint256 amount) =
                module.restakedLockOf(operator, MARKET, open[i].deadline);
            assertGe(amount, open[i].amount);
            assertLe(open[i].deadline, module.snapshotLockEnd(epoch));
            assertLe(open[i].deadline + module.BRIDGING_ALLOWANCE(), capture + SLASHING_WINDOW);
        }
        assertEq(handler.granted(), handler.released() + handler.slashed() + open.length);
    }
}
