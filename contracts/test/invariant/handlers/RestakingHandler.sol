// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {CommonBase} from "forge-std/Base.sol";
import {StdUtils} from "forge-std/StdUtils.sol";
import {Vm} from "forge-std/Vm.sol";
import {IVault} from "@symbioticfi/core/src/interfaces/vault/IVault.sol";

import {INetworkMiddleware} from "../../../src/symbiotic/INetworkMiddleware.sol";
import {ISymbioticStakingModule} from "../../../src/symbiotic/ISymbioticStakingModule.sol";
import {SymbioticStakingModule} from "../../../src/symbiotic/SymbioticStakingModule.sol";
import {TestToken} from "../../marketplace/mocks/TestToken.sol";
import {RestakingBridge} from "../../symbiotic/utils/RestakingBridge.sol";

/// @notice Rotates the bridge's enclave key (implemented by the invariant test, which owns the registry fixtures).
interface IBridgeKeyRotator {
    function rotateBridgeKey() external;
}

/// @notice Plays the marketplace of a `SymbioticStakingModule` against the real Symbiotic core on L1: snapshots
/// that arrive on time, late or never; restaked locks with random proving times; proofs; L1 deposits and
/// withdrawals between captures and slashes; time warps across epochs. Whenever time passes a lock's deadline it
/// slashes the lock (within the bridging allowance, in deadline order, as a keeper would), carries the records to
/// L1, and executes veto requests once their veto period ends. It counts every outcome the invariants check.
contract RestakingHandler is CommonBase, StdUtils {
    struct Lock {
        uint256 deadline;
        uint256 amount;
        bool open;
    }

    struct VetoRequest {
        address vault;
        uint256 index;
        uint256 executableAt;
        bool done;
    }

    uint256 internal constant MARKET = 1;

    SymbioticStakingModule public module;
    INetworkMiddleware public middleware;
    RestakingBridge public carrier;
    TestToken public collateral;
    address[2] public vaults;
    address public operator;
    address public staker;
    IBridgeKeyRotator public rotator;
    uint256 public lastRotation;

    Lock[] public locks;
    VetoRequest[] public vetoRequests;

    /// @dev Outcome counters (the invariants want the bad ones at zero).
    uint256 public granted;
    uint256 public released;
    uint256 public slashed;
    uint256 public recordsAccepted;
    uint256 public recordsRejected;
    uint256 public unbacked;
    uint256 public undercharged;
    uint256 public beyondLockEnd;
    uint256 public vetoExecuted;
    uint256 public vetoFailed;
    uint256 public snapshotsSubmitted;

    function init(
        SymbioticStakingModule module_,
        INetworkMiddleware middleware_,
        RestakingBridge carrier_,
        TestToken collateral_,
        address[2] memory vaults_,
        address operator_,
        address staker_
    ) external {
        require(address(module) == address(0), "RestakingHandler: init twice");
        (module, middleware, carrier, collateral) = (module_, middleware_, carrier_, collateral_);
        (vaults, operator, staker) = (vaults_, operator_, staker_);
        rotator = IBridgeKeyRotator(msg.sender);
        lastRotation = block.timestamp;
    }

    // ---- Actions ----

    /// @notice Submits the current epoch's snapshot, or (one time in three) the previous epoch's, late.
    function snapshot(uint256 seed) external {
        uint64 current = module.epochOf(uint48(block.timestamp));
        uint64 epoch = seed % 3 == 0 && current > 0 ? current - 1 : current;
        uint256 start = module.epochStart(epoch);
        uint256 end = start + module.EPOCH_DURATION();
        if (end > block.timestamp) end = block.timestamp;
        if (end <= start) return;
        uint48 capture = uint48(start + (seed >> 8) % (end - start));
        address[] memory operators = new address[](1);
        operators[0] = operator;
        // The module refuses closed epochs: a late snapshot may simply be too late.
        try carrier.submitSnapshot(epoch, capture, operators) {
            ++snapshotsSubmitted;
        } catch {}
    }

    /// @notice An assignment: a restaked lock of a random amount and proving time.
    function lock(uint256 amountSeed, uint256 provingSeed) external {
        uint256 amount = bound(amountSeed, 1e18, 400e18);
        uint256 deadline = block.timestamp + bound(provingSeed, 1 minutes, 2 days);
        if (!module.lock(operator, MARKET, amount, deadline)) return;
        ++granted;
        (uint64 epoch,,) = module.restakedLockOf(operator, MARKET, deadline);
        if (deadline > module.snapshotLockEnd(epoch)) ++beyondLockEnd;
        locks.push(Lock({deadline: deadline, amount: amount, open: true}));
    }

    /// @notice A valid proof before the deadline releases a lock.
    function prove(uint256 seed) external {
        uint256 n = locks.length;
        for (uint256 k; k < n; ++k) {
            Lock storage l = locks[(seed % n + k) % n];
            if (!l.open || l.deadline < block.timestamp) continue;
            module.unlock(operator, MARKET, l.amount, l.deadline);
            l.open = false;
            ++released;
            return;
        }
    }

    /// @notice The staker withdraws part of its stake from a vault on L1 (between a capture and a slash).
    function withdraw(uint256 seed, bool veto) external {
        address vault = vaults[veto ? 0 : 1];
        uint256 balance = IVault(vault).activeBalanceOf(staker);
        uint256 amount = bound(seed, 0, balance);
        if (amount == 0) return;
        vm.prank(staker);
        IVault(vault).withdraw(staker, amount);
    }

    /// @notice The staker deposits into a vault on L1.
    function deposit(uint256 seed, bool veto) external {
        address vault = vaults[veto ? 0 : 1];
        uint256 amount = bound(seed, 1e18, 1000e18);
        collateral.mint(staker, amount);
        vm.startPrank(staker);
        collateral.approve(vault, amount);
        IVault(vault).deposit(staker, amount);
        vm.stopPrank();
    }

    /// @notice Time passes (up to three days); deadlines and veto periods met on the way are handled in order.
    function warp(uint256 seed) external {
        uint256 target = block.timestamp + bound(seed, 1 minutes, 3 days);
        uint256 delay = (seed >> 128) % (module.BRIDGING_ALLOWANCE() / 2);
        while (true) {
            (uint256 at, uint256 lockIndex, uint256 vetoIndex) = _nextEvent(target, delay);
            if (at == 0) break;
            if (at > block.timestamp) vm.warp(at);
            _rotateKeyIfOld();
            if (lockIndex != type(uint256).max) _slashAndCarry(lockIndex);
            else _executeVeto(vetoIndex);
        }
        vm.warp(target);
        _rotateKeyIfOld();
    }

    // ---- Internals ----

    /// @dev The earliest due event before `target`: an open lock past its deadline (slashed `delay` after it), or a
    /// veto request past its veto period. Returns `at == 0` if none.
    function _nextEvent(uint256 target, uint256 delay)
        private
        view
        returns (uint256 at, uint256 lockIndex, uint256 vetoIndex)
    {
        (lockIndex, vetoIndex) = (type(uint256).max, type(uint256).max);
        for (uint256 i; i < locks.length; ++i) {
            Lock storage l = locks[i];
            uint256 t = l.deadline + 1 + delay;
            if (l.open && t <= target && (at == 0 || t < at)) (at, lockIndex) = (t, i);
        }
        for (uint256 i; i < vetoRequests.length; ++i) {
            VetoRequest storage r = vetoRequests[i];
            if (!r.done && r.executableAt <= target && (at == 0 || r.executableAt < at)) {
                (at, lockIndex, vetoIndex) = (r.executableAt, type(uint256).max, i);
            }
        }
    }

    function _slashAndCarry(uint256 index) private {
        Lock storage l = locks[index];
        l.open = false;
        ++slashed;
        vm.recordLogs();
        module.slash(operator, MARKET, l.amount, l.deadline, address(0xbeef));
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].topics[0] == ISymbioticStakingModule.SlashUnbacked.selector) ++unbacked;
        }
        vm.recordLogs();
        RestakingBridge.Carried memory c = carrier.carry(logs);
        recordsAccepted += c.accepted;
        recordsRejected += c.rejected;
        // Each vault's share is rounded down: at most one unit short per vault.
        if (c.requested > l.amount || c.requested + c.records < l.amount) ++undercharged;
        logs = vm.getRecordedLogs();
        for (uint256 i; i < logs.length; ++i) {
            if (
                logs[i].emitter == address(middleware)
                    && logs[i].topics[0] == INetworkMiddleware.SlashRequested.selector
            ) {
                (uint256 slashIndex,) = abi.decode(logs[i].data, (uint256, uint48));
                vetoRequests.push(
                    VetoRequest({
                        vault: address(uint160(uint256(logs[i].topics[2]))),
                        index: slashIndex,
                        executableAt: block.timestamp + 1 days + 1,
                        done: false
                    })
                );
            }
        }
    }

    function _executeVeto(uint256 index) private {
        VetoRequest storage r = vetoRequests[index];
        r.done = true;
        try middleware.executeSlash(r.vault, r.index, "") {
            ++vetoExecuted;
        } catch {
            ++vetoFailed;
        }
    }

    function _rotateKeyIfOld() private {
        if (block.timestamp < lastRotation + 5 days) return;
        rotator.rotateBridgeKey();
        lastRotation = block.timestamp;
    }

    /// @notice Locks still open.
    function openLocks() external view returns (Lock[] memory open) {
        uint256 n;
        for (uint256 i; i < locks.length; ++i) {
            if (locks[i].open) ++n;
        }
        open = new Lock[](n);
        n = 0;
        for (uint256 i; i < locks.length; ++i) {
            if (locks[i].open) open[n++] = locks[i];
        }
    }
}
