// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

import {IEnclaveAuth} from "../../src/interfaces/IEnclaveAuth.sol";
import {IStakingModule} from "../../src/marketplace/IStakingModule.sol";
import {NativeStaking} from "../../src/marketplace/NativeStaking.sol";
import {ISymbioticStakingModule} from "../../src/symbiotic/ISymbioticStakingModule.sol";
import {RestakingTiming} from "../../src/symbiotic/RestakingTiming.sol";
import {SymbioticStakingModule} from "../../src/symbiotic/SymbioticStakingModule.sol";
import {Base_Test} from "../Base.t.sol";
import {TestToken} from "../marketplace/mocks/TestToken.sol";

/// @notice `SymbioticStakingModule` on one chain: snapshots, epochs and offset, weights, locks, slash records,
/// native stake beside it. (The two-chain test with the bridge job between L1 and L2 is a separate step.)
contract SymbioticStakingModule_Test is Base_Test {
    uint48 internal constant EPOCH = 1 days;
    uint48 internal constant OFFSET = 10 minutes;
    uint48 internal constant LOCK_ALLOWANCE = 1 days;
    uint48 internal constant BRIDGING = 1 days;
    uint256 internal constant MARKET = 7;
    uint256 internal constant PENALTY = 100e18;

    address internal marketplace = makeAddr("marketplace");
    address internal operator = makeAddr("operator");
    address internal refund = makeAddr("refund");
    address internal treasury = makeAddr("treasury");
    address internal netVault = makeAddr("netVault");
    address internal ethVault = makeAddr("ethVault");
    address internal net = makeAddr("NET");
    address internal weth = makeAddr("WETH");

    SymbioticStakingModule internal staking;
    NativeStaking internal native;
    TestToken internal stakeToken;
    Enclave internal bridge;
    uint48 internal genesis;

    function setUp() public override {
        super.setUp();
        registerImage(FAMILY, 1);
        bridge = enclave("bridge");
        registerKey(FAMILY, 1, bridge);

        genesis = uint48(block.timestamp);
        stakeToken = new TestToken("Network token", "NET");
        native = new NativeStaking(stakeToken, treasury, 5000);
        staking = new SymbioticStakingModule(registry, FAMILY, admin, genesis, timing(), native);
        native.bindMarketplace(address(staking));
        staking.bindMarketplace(marketplace);
        vm.startPrank(admin);
        staking.setCollateralWeight(net, 1e18);
        staking.setCollateralWeight(weth, 2000e18);
        vm.stopPrank();
    }

    // ---- Helpers ----

    function timing() internal pure returns (RestakingTiming.Params memory) {
        return RestakingTiming.Params(EPOCH, OFFSET, LOCK_ALLOWANCE, BRIDGING);
    }

    /// @dev A deadline an hour ahead: the lock's identity in `lock`, `unlock` and `slash`.
    function soon() internal view returns (uint256) {
        return block.timestamp + 1 hours;
    }

    /// @dev The snapshot root of one read cut into `chunks`, by the README's formula (not the contract's code).
    function rootOf(ISymbioticStakingModule.VaultStake[][] memory chunks)
        internal
        pure
        returns (bytes32 root)
    {
        for (uint256 i; i < chunks.length; ++i) {
            bytes memory packed;
            for (uint256 j; j < chunks[i].length; ++j) {
                ISymbioticStakingModule.VaultStake memory v = chunks[i][j];
                packed = abi.encodePacked(
                    packed,
                    keccak256(
                        abi.encode(
                            keccak256(
                                "VaultStake(address operator,address vault,address collateral,uint256 amount)"
                            ),
                            v.operator,
                            v.vault,
                            v.collateral,
                            v.amount
                        )
                    )
                );
            }
            root = keccak256(abi.encode(root, keccak256(packed)));
        }
    }

    /// @dev The snapshot root of a one-chunk snapshot.
    function rootOf(ISymbioticStakingModule.VaultStake[] memory stakes) internal pure returns (bytes32) {
        ISymbioticStakingModule.VaultStake[][] memory chunks = new ISymbioticStakingModule.VaultStake[][](1);
        chunks[0] = stakes;
        return rootOf(chunks);
    }

    function two(ISymbioticStakingModule.VaultStake[] memory a, ISymbioticStakingModule.VaultStake[] memory b)
        internal
        pure
        returns (ISymbioticStakingModule.VaultStake[][] memory c)
    {
        c = new ISymbioticStakingModule.VaultStake[][](2);
        (c[0], c[1]) = (a, b);
    }

    function stake(address op, address vault, address collateral, uint256 amount)
        internal
        pure
        returns (ISymbioticStakingModule.VaultStake memory)
    {
        return ISymbioticStakingModule.VaultStake({
            operator: op, vault: vault, collateral: collateral, amount: amount
        });
    }

    function one(ISymbioticStakingModule.VaultStake memory s)
        internal
        pure
        returns (ISymbioticStakingModule.VaultStake[] memory a)
    {
        a = new ISymbioticStakingModule.VaultStake[](1);
        a[0] = s;
    }

    function signChunk(
        Enclave memory e,
        uint64 epoch,
        uint48 capture,
        uint32 index,
        uint32 total,
        bytes32 root,
        ISymbioticStakingModule.VaultStake[] memory stakes
    ) internal view returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(
            e.privateKey, staking.snapshotChunkDigest(epoch, capture, index, total, root, stakes)
        );
        return abi.encodePacked(r, s, v);
    }

    function submit(
        Enclave memory e,
        uint64 epoch,
        uint48 capture,
        uint32 index,
        uint32 total,
        bytes32 root,
        ISymbioticStakingModule.VaultStake[] memory stakes
    ) internal {
        staking.submitSnapshotChunk(
            epoch,
            capture,
            index,
            total,
            root,
            stakes,
            signChunk(e, epoch, capture, index, total, root, stakes)
        );
    }

    /// @dev Epoch `epoch`'s snapshot: `netAmount` of NET and `ethAmount` of WETH for the operator, one chunk each.
    function snapshot(uint64 epoch, uint256 netAmount, uint256 ethAmount) internal returns (uint48 capture) {
        capture = uint48(genesis + epoch * EPOCH + 1 minutes);
        if (block.timestamp <= capture) vm.warp(capture + 1);
        // The bridge omits zero stakes: one chunk when there is no WETH stake.
        ISymbioticStakingModule.VaultStake[] memory c0 = one(stake(operator, netVault, net, netAmount));
        if (ethAmount == 0) {
            submit(bridge, epoch, capture, 0, 1, rootOf(c0), c0);
            return capture;
        }
        ISymbioticStakingModule.VaultStake[] memory c1 = one(stake(operator, ethVault, weth, ethAmount));
        bytes32 root = rootOf(two(c0, c1));
        submit(bridge, epoch, capture, 0, 2, root, c0);
        submit(bridge, epoch, capture, 1, 2, root, c1);
    }

    // ---- Snapshots and epochs ----

    function test_Snapshot_ActivatesAtEpochStartPlusOffset() public {
        uint48 capture = snapshot(0, 1000e18, 1e18);
        (bytes32 key, uint48 storedCapture) = staking.snapshotOf(0);
        bytes32 root = rootOf(
            two(one(stake(operator, netVault, net, 1000e18)), one(stake(operator, ethVault, weth, 1e18)))
        );
        assertEq(key, keccak256(abi.encode(uint64(0), capture, uint32(2), root, bridge.addr)));
        assertEq(storedCapture, capture);
        (bool active,) = staking.activeEpoch();
        assertFalse(active);
        assertEq(staking.restakedStakeOf(operator), 0);

        vm.warp(genesis + OFFSET);
        (active,) = staking.activeEpoch();
        assertTrue(active);
        // 1000 NET × 1 + 1 WETH × 2000: capacity grows with total weighted stake.
        assertEq(staking.restakedStakeOf(operator), 3000e18);
        assertEq(staking.stakeOf(operator, MARKET), 3000e18);
    }

    function test_Snapshot_NextEpochTakesOverOnlyAfterItsOffset() public {
        snapshot(0, 1000e18, 0.5e18);
        vm.warp(genesis + EPOCH + 5 minutes);
        // L1 deposits made after epoch 0's capture show up with epoch 1's snapshot.
        snapshot(1, 5000e18, 0.5e18);
        (, uint64 epoch) = staking.activeEpoch();
        assertEq(epoch, 0);
        assertEq(staking.restakedStakeOf(operator), 2000e18);
        vm.warp(genesis + EPOCH + OFFSET);
        (, epoch) = staking.activeEpoch();
        assertEq(epoch, 1);
        assertEq(staking.restakedStakeOf(operator), 6000e18);
    }

    function test_Snapshot_WeightsApplyAtReadTime() public {
        snapshot(0, 1000e18, 1e18);
        vm.warp(genesis + OFFSET);
        vm.prank(admin);
        staking.setCollateralWeight(weth, 0);
        assertEq(staking.restakedStakeOf(operator), 1000e18);
    }

    function test_RevertWhen_SecondSnapshotForFinalisedEpoch() public {
        snapshot(0, 1000e18, 1e18);
        ISymbioticStakingModule.VaultStake[] memory s = one(stake(operator, netVault, net, 1e18));
        uint48 capture = genesis + 2 minutes;
        vm.warp(capture + 1);
        bytes memory sig = signChunk(bridge, 0, capture, 0, 1, rootOf(s), s);
        vm.expectRevert(
            abi.encodeWithSelector(ISymbioticStakingModule.SnapshotEpochClosed.selector, uint64(0))
        );
        staking.submitSnapshotChunk(0, capture, 0, 1, rootOf(s), s, sig);
    }

    function test_RevertWhen_EpochOlderThanPrevious() public {
        vm.warp(genesis + 2 * EPOCH + 1);
        ISymbioticStakingModule.VaultStake[] memory s = one(stake(operator, netVault, net, 1e18));
        bytes memory sig = signChunk(bridge, 0, genesis + 1, 0, 1, rootOf(s), s);
        vm.expectRevert(
            abi.encodeWithSelector(ISymbioticStakingModule.SnapshotEpochClosed.selector, uint64(0))
        );
        staking.submitSnapshotChunk(0, genesis + 1, 0, 1, rootOf(s), s, sig);
    }

    function test_RevertWhen_CaptureOutsideEpochOrNotPast() public {
        vm.warp(genesis + EPOCH + 1 hours);
        ISymbioticStakingModule.VaultStake[] memory s = one(stake(operator, netVault, net, 1e18));
        // Capture in epoch 1, claimed for epoch 0.
        uint48 capture = genesis + EPOCH + 1;
        bytes memory sig = signChunk(bridge, 0, capture, 0, 1, rootOf(s), s);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISymbioticStakingModule.SnapshotInvalidCapture.selector, uint64(0), capture
            )
        );
        staking.submitSnapshotChunk(0, capture, 0, 1, rootOf(s), s, sig);
        // Capture not in the past.
        capture = uint48(block.timestamp);
        sig = signChunk(bridge, 1, capture, 0, 1, rootOf(s), s);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISymbioticStakingModule.SnapshotInvalidCapture.selector, uint64(1), capture
            )
        );
        staking.submitSnapshotChunk(1, capture, 0, 1, rootOf(s), s, sig);
    }

    function test_RevertWhen_ChunkOutOfOrderOrReplayed() public {
        uint48 capture = genesis + 1 minutes;
        vm.warp(capture + 1);
        ISymbioticStakingModule.VaultStake[] memory s0 = one(stake(operator, netVault, net, 1e18));
        ISymbioticStakingModule.VaultStake[] memory s1 = one(stake(operator, ethVault, weth, 1e18));
        bytes32 root = keccak256("three chunks");
        bytes memory sig1 = signChunk(bridge, 0, capture, 1, 3, root, s1);
        vm.expectRevert(
            abi.encodeWithSelector(ISymbioticStakingModule.SnapshotChunkOutOfOrder.selector, 0, 1)
        );
        staking.submitSnapshotChunk(0, capture, 1, 3, root, s1, sig1);

        bytes memory sig0 = signChunk(bridge, 0, capture, 0, 3, root, s0);
        staking.submitSnapshotChunk(0, capture, 0, 3, root, s0, sig0);
        vm.expectRevert(
            abi.encodeWithSelector(ISymbioticStakingModule.SnapshotChunkOutOfOrder.selector, 1, 0)
        );
        staking.submitSnapshotChunk(0, capture, 0, 3, root, s0, sig0);
        // Not finalised until every chunk is in.
        (bytes32 key,) = staking.snapshotOf(0);
        assertEq(key, bytes32(0));
    }

    function test_ChunksOfAnotherSignerDoNotMix() public {
        Enclave memory other = enclave("bridge-2");
        registerKey(FAMILY, 1, other);
        uint48 capture = genesis + 1 minutes;
        vm.warp(capture + 1);
        ISymbioticStakingModule.VaultStake[] memory s0 = one(stake(operator, netVault, net, 1e18));
        ISymbioticStakingModule.VaultStake[] memory s = one(stake(operator, ethVault, weth, 1e18));
        bytes32 root = rootOf(two(s0, s));
        submit(bridge, 0, capture, 0, 2, root, s0);
        // The other enclave's chunk 1 (same read, same root) does not complete the first enclave's snapshot.
        bytes memory sig = signChunk(other, 0, capture, 1, 2, root, s);
        vm.expectRevert(
            abi.encodeWithSelector(ISymbioticStakingModule.SnapshotChunkOutOfOrder.selector, 0, 1)
        );
        staking.submitSnapshotChunk(0, capture, 1, 2, root, s, sig);
    }

    /// @dev A bridge reads the snapshot, submits chunk 0, stops; a vault is added on L1; resumed, it reads again
    /// (same capture, same chunk count, other entries). The second read's chunk 1 cannot complete the first read's
    /// snapshot, and the resumed bridge completes the epoch with the second read alone.
    function test_SnapshotChunkKeyBindsContent_MixedReadsRefused_ResumedBridgeCompletes() public {
        uint48 capture = genesis + 1 minutes;
        vm.warp(capture + 1);
        ISymbioticStakingModule.VaultStake[][] memory readA =
            two(one(stake(operator, netVault, net, 1e18)), one(stake(operator, ethVault, weth, 1e18)));
        ISymbioticStakingModule.VaultStake[] memory bothVaults = new ISymbioticStakingModule.VaultStake[](2);
        bothVaults[0] = stake(operator, netVault, net, 1e18);
        bothVaults[1] = stake(operator, ethVault, weth, 1e18);
        ISymbioticStakingModule.VaultStake[][] memory readB =
            two(bothVaults, one(stake(operator, makeAddr("newVault"), net, 5e18)));
        bytes32 rootA = rootOf(readA);
        bytes32 rootB = rootOf(readB);
        submit(bridge, 0, capture, 0, 2, rootA, readA[0]);

        // Read B's chunk 1 after read A's chunk 0: another key, so it is not chunk 1 of anything.
        bytes memory sig = signChunk(bridge, 0, capture, 1, 2, rootB, readB[1]);
        vm.expectRevert(
            abi.encodeWithSelector(ISymbioticStakingModule.SnapshotChunkOutOfOrder.selector, 0, 1)
        );
        staking.submitSnapshotChunk(0, capture, 1, 2, rootB, readB[1], sig);
        // Read B's chunk 1 signed under read A's root (a bridge mixing its reads): the root check refuses it.
        sig = signChunk(bridge, 0, capture, 1, 2, rootA, readB[1]);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISymbioticStakingModule.SnapshotRootMismatch.selector, rootA, rootOf(two(readA[0], readB[1]))
            )
        );
        staking.submitSnapshotChunk(0, capture, 1, 2, rootA, readB[1], sig);
        (bytes32 key,) = staking.snapshotOf(0);
        assertEq(key, bytes32(0), "nothing finalised from mixed reads");

        // The resumed bridge submits read B from its first chunk and completes the epoch.
        bytes32 keyB = staking.computeSnapshotKey(0, capture, 2, rootB, bridge.addr);
        assertEq(staking.chunksReceived(keyB), 0);
        submit(bridge, 0, capture, 0, 2, rootB, readB[0]);
        submit(bridge, 0, capture, 1, 2, rootB, readB[1]);
        (key,) = staking.snapshotOf(0);
        assertEq(key, keyB);
        assertEq(staking.vaultStakesOf(0, operator).length, 3, "every entry of read B, none of read A twice");
    }

    /// @dev Dropping a chunk's entries (a relay or a faulty bridge signing a shorter last chunk) is refused.
    function test_RevertWhen_SnapshotEntriesDropped() public {
        uint48 capture = genesis + 1 minutes;
        vm.warp(capture + 1);
        ISymbioticStakingModule.VaultStake[] memory s = one(stake(operator, netVault, net, 1e18));
        ISymbioticStakingModule.VaultStake[] memory none = new ISymbioticStakingModule.VaultStake[](0);
        bytes32 root = rootOf(s);
        bytes memory sig = signChunk(bridge, 0, capture, 0, 1, root, none);
        vm.expectRevert(
            abi.encodeWithSelector(ISymbioticStakingModule.SnapshotRootMismatch.selector, root, rootOf(none))
        );
        staking.submitSnapshotChunk(0, capture, 0, 1, root, none, sig);
    }

    function test_RevertWhen_SnapshotSignerNotRegistered() public {
        Enclave memory rogue = enclave("rogue");
        vm.warp(genesis + 2 minutes);
        ISymbioticStakingModule.VaultStake[] memory s = one(stake(operator, netVault, net, 1e24));
        bytes memory sig = signChunk(rogue, 0, genesis + 1 minutes, 0, 1, rootOf(s), s);
        vm.expectRevert(
            abi.encodeWithSelector(IEnclaveAuth.EnclaveAuthKeyNotLive.selector, rogue.addr, FAMILY)
        );
        staking.submitSnapshotChunk(0, genesis + 1 minutes, 0, 1, rootOf(s), s, sig);
    }

    function test_RevertWhen_SnapshotSignerImageRevoked() public {
        vm.prank(revoker);
        registry.revokeImage(idOf(imagePcrs(1)), "compromised");
        vm.warp(genesis + 2 minutes);
        ISymbioticStakingModule.VaultStake[] memory s = one(stake(operator, netVault, net, 1e24));
        bytes memory sig = signChunk(bridge, 0, genesis + 1 minutes, 0, 1, rootOf(s), s);
        vm.expectRevert(
            abi.encodeWithSelector(IEnclaveAuth.EnclaveAuthKeyNotLive.selector, bridge.addr, FAMILY)
        );
        staking.submitSnapshotChunk(0, genesis + 1 minutes, 0, 1, rootOf(s), s, sig);
    }

    function test_RevertWhen_DuplicateOrZeroStake() public {
        uint48 capture = genesis + 1 minutes;
        vm.warp(capture + 1);
        ISymbioticStakingModule.VaultStake[] memory s = new ISymbioticStakingModule.VaultStake[](2);
        s[0] = stake(operator, netVault, net, 1e18);
        s[1] = stake(operator, netVault, net, 2e18);
        bytes memory sig = signChunk(bridge, 0, capture, 0, 1, rootOf(s), s);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISymbioticStakingModule.SnapshotDuplicateStake.selector, operator, netVault
            )
        );
        staking.submitSnapshotChunk(0, capture, 0, 1, rootOf(s), s, sig);

        ISymbioticStakingModule.VaultStake[] memory z = one(stake(operator, netVault, net, 0));
        sig = signChunk(bridge, 0, capture, 0, 1, rootOf(z), z);
        vm.expectRevert(ISymbioticStakingModule.SnapshotInvalidStake.selector);
        staking.submitSnapshotChunk(0, capture, 0, 1, rootOf(z), z, sig);
    }

    // ---- Locks, native stake, slash ----

    function test_Lock_RestakedThenNativeWhenRestakedIsShort() public {
        snapshot(0, 150e18, 0);
        vm.warp(genesis + OFFSET);
        stakeToken.mint(operator, 100e18);
        vm.startPrank(operator);
        stakeToken.approve(address(native), 100e18);
        native.deposit(MARKET, 100e18);
        vm.stopPrank();
        assertEq(staking.stakeOf(operator, MARKET), 250e18);

        vm.startPrank(marketplace);
        assertTrue(staking.lock(operator, MARKET, PENALTY, soon())); // restaked: 150 → 50 free
        assertEq(staking.restakedLockedOf(operator), PENALTY);
        assertTrue(staking.lock(operator, MARKET, PENALTY, soon())); // native: 100 → 0 free
        assertEq(native.lockedOf(operator, MARKET), PENALTY);
        assertFalse(staking.lock(operator, MARKET, PENALTY, soon())); // nothing left anywhere
        vm.stopPrank();
        assertEq(staking.lockedOf(operator, MARKET), 2 * PENALTY);
        assertEq(staking.stakeOf(operator, MARKET) - staking.lockedOf(operator, MARKET), 50e18);

        vm.startPrank(marketplace);
        staking.unlock(operator, MARKET, PENALTY, soon());
        assertEq(staking.restakedLockedOf(operator), 0);
        staking.unlock(operator, MARKET, PENALTY, soon());
        assertEq(native.lockedOf(operator, MARKET), 0);
        vm.expectRevert(
            abi.encodeWithSelector(
                IStakingModule.StakingInsufficientLocked.selector, operator, MARKET, 0, PENALTY
            )
        );
        staking.unlock(operator, MARKET, PENALTY, soon());
        vm.stopPrank();
    }

    function test_Lock_RestakedStakeIsSharedAcrossMarkets() public {
        snapshot(0, 150e18, 0);
        vm.warp(genesis + OFFSET);
        vm.startPrank(marketplace);
        assertTrue(staking.lock(operator, 1, PENALTY, soon()));
        assertFalse(staking.lock(operator, 2, PENALTY, soon()));
        vm.stopPrank();
        assertEq(staking.lockedOf(operator, 1), PENALTY);
        assertEq(staking.stakeOf(operator, 2), 50e18);
    }

    function test_Slash_RestakedBecomesSlashRecordsPerVault() public {
        uint48 capture = snapshot(0, 1000e18, 1e18); // weighted: 1000 + 2000
        vm.warp(genesis + OFFSET);
        vm.prank(marketplace);
        assertTrue(staking.lock(operator, MARKET, 300e18, soon()));

        bytes32 slashId = keccak256(abi.encode(block.chainid, address(staking), uint256(1)));
        vm.expectEmit(address(staking));
        // 300 of 3000 weighted = 10% of each vault.
        emit ISymbioticStakingModule.SlashRequested(slashId, operator, netVault, 100e18, capture);
        vm.expectEmit(address(staking));
        emit ISymbioticStakingModule.SlashRequested(slashId, operator, ethVault, 0.1e18, capture);
        vm.expectEmit(address(staking));
        emit IStakingModule.StakeSlashed(operator, MARKET, 300e18, 0, refund);
        vm.prank(marketplace);
        staking.slash(operator, MARKET, 300e18, soon(), refund);

        assertEq(staking.lockedOf(operator, MARKET), 0);
        // The slashed amount no longer backs new locks.
        assertEq(staking.restakedStakeOf(operator), 2700e18);
        // The next snapshot may be captured before the slash settles on L1 (bridging, veto period): it still
        // deducts it, whatever it reads.
        vm.warp(genesis + EPOCH + 5 minutes);
        snapshot(1, 1000e18, 1e18);
        vm.warp(genesis + EPOCH + OFFSET);
        assertEq(staking.restakedStakeOf(operator), 2700e18);
        // A snapshot captured a slashing window after the slash reads L1 after it settled: no deduction.
        uint256 settledAt = genesis + OFFSET + EPOCH + OFFSET + LOCK_ALLOWANCE + BRIDGING;
        uint64 later = uint64((settledAt - genesis) / EPOCH + 1);
        vm.warp(genesis + later * EPOCH + 5 minutes);
        snapshot(later, 900e18, 0.9e18);
        vm.warp(genesis + later * EPOCH + OFFSET);
        assertEq(staking.restakedStakeOf(operator), 2700e18);
    }

    function test_Slash_HitsTheLockOfItsDeadline_NativeCompensatedNow() public {
        snapshot(0, 100e18, 0);
        vm.warp(genesis + OFFSET);
        stakeToken.mint(operator, 100e18);
        vm.startPrank(operator);
        stakeToken.approve(address(native), 100e18);
        native.deposit(MARKET, 100e18);
        vm.stopPrank();
        uint256 restakedDeadline = soon();
        uint256 nativeDeadline = soon() + 1;
        vm.startPrank(marketplace);
        assertTrue(staking.lock(operator, MARKET, PENALTY, restakedDeadline)); // restaked
        assertTrue(staking.lock(operator, MARKET, PENALTY, nativeDeadline)); // native
        vm.recordLogs();
        staking.slash(operator, MARKET, PENALTY, nativeDeadline, refund);
        vm.stopPrank();
        assertEq(native.stakeOf(operator, MARKET), 0);
        assertEq(native.claimableOf(refund), 50e18);
        assertEq(staking.restakedLockedOf(operator), PENALTY);
        // No restaked slash record was emitted.
        assertEq(vm.getRecordedLogs().length, 3); // native StakeChanged + StakeSlashed, staking StakeChanged
        (,, uint256 stillLocked) = staking.restakedLockOf(operator, MARKET, restakedDeadline);
        assertEq(stillLocked, PENALTY);
        vm.prank(marketplace);
        staking.unlock(operator, MARKET, PENALTY, restakedDeadline);
        assertEq(staking.lockedOf(operator, MARKET), 0);
    }

    function test_Slash_UnbackedWhenNoWeightedStake() public {
        snapshot(0, 1000e18, 0);
        vm.warp(genesis + OFFSET);
        vm.prank(marketplace);
        staking.lock(operator, MARKET, PENALTY, soon());
        vm.prank(admin);
        staking.setCollateralWeight(net, 0);
        bytes32 slashId = keccak256(abi.encode(block.chainid, address(staking), uint256(1)));
        vm.expectEmit(address(staking));
        emit ISymbioticStakingModule.SlashUnbacked(slashId, operator, PENALTY);
        vm.prank(marketplace);
        staking.slash(operator, MARKET, PENALTY, soon(), refund);
    }

    function test_RevertWhen_NotMarketplace() public {
        vm.expectRevert(abi.encodeWithSelector(IStakingModule.StakingUnauthorized.selector, stranger));
        vm.prank(stranger);
        staking.lock(operator, MARKET, 1, soon());
    }

    function test_RevertWhen_WeightSetByStranger() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, staking.GOVERNANCE_ROLE()
            )
        );
        vm.prank(stranger);
        staking.setCollateralWeight(net, 1);
    }

    function test_RevertWhen_OffsetNotBelowEpoch() public {
        RestakingTiming.Params memory t = timing();
        t.activationOffset = EPOCH;
        vm.expectRevert(RestakingTiming.RestakingInvalidTiming.selector);
        new SymbioticStakingModule(registry, FAMILY, admin, genesis, t, native);
        t = timing();
        t.bridgingAllowance = 0;
        vm.expectRevert(RestakingTiming.RestakingInvalidTiming.selector);
        new SymbioticStakingModule(registry, FAMILY, admin, genesis, t, native);
    }
    // ---- EIP-712 test vectors ----

    /// @dev The README's vector key (secp256k1 private key 0x…01, address 0x7E5F…Bdf).
    uint256 internal constant VECTOR_KEY = 1;
    address internal constant VECTOR_CONTRACT = 0x00000000000000000000000000000000000A11cE;
    uint256 internal constant VECTOR_CHAIN = 31337;

    function domainSeparator(string memory name, uint256 chainId, address verifyingContract)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(
            abi.encode(
                keccak256(
                    "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
                ),
                keccak256(bytes(name)),
                keccak256("1"),
                chainId,
                verifyingContract
            )
        );
    }

    function vectorStakes() internal pure returns (ISymbioticStakingModule.VaultStake[] memory s) {
        s = new ISymbioticStakingModule.VaultStake[](2);
        s[0] = ISymbioticStakingModule.VaultStake({
            operator: address(0x1111111111111111111111111111111111111111),
            vault: address(0x2222222222222222222222222222222222222222),
            collateral: address(0x3333333333333333333333333333333333333333),
            amount: 1000e18
        });
        s[1] = ISymbioticStakingModule.VaultStake({
            operator: address(0x1111111111111111111111111111111111111111),
            vault: address(0x4444444444444444444444444444444444444444),
            collateral: address(0x5555555555555555555555555555555555555555),
            amount: 2e8
        });
    }

    /// @dev The snapshot chunk digest by formula equals the contract's, and the fixed-domain vector is pinned.
    function test_Eip712Vector_StakeSnapshotChunk() public view {
        ISymbioticStakingModule.VaultStake[] memory s = vectorStakes();
        bytes32 root = rootOf(s);
        bytes32 structHash = staking.hashSnapshotChunk(3, 1_777_600_000, 0, 1, root, s);
        bytes32 h0 = keccak256(
            abi.encode(
                staking.VAULT_STAKE_TYPEHASH(), s[0].operator, s[0].vault, s[0].collateral, s[0].amount
            )
        );
        bytes32 h1 = keccak256(
            abi.encode(
                staking.VAULT_STAKE_TYPEHASH(), s[1].operator, s[1].vault, s[1].collateral, s[1].amount
            )
        );
        // The root of a one-chunk snapshot: keccak256(0 ‖ stakesHash).
        assertEq(root, keccak256(abi.encode(bytes32(0), keccak256(abi.encodePacked(h0, h1)))));
        assertEq(
            structHash,
            keccak256(
                abi.encode(
                    keccak256(
                        "StakeSnapshotChunk(uint64 epoch,uint48 captureTimestamp,uint32 index,uint32 total,bytes32 snapshotRoot,VaultStake[] stakes)VaultStake(address operator,address vault,address collateral,uint256 amount)"
                    ),
                    uint64(3),
                    uint48(1_777_600_000),
                    uint32(0),
                    uint32(1),
                    root,
                    keccak256(abi.encodePacked(h0, h1))
                )
            )
        );
        assertEq(
            staking.snapshotChunkDigest(3, 1_777_600_000, 0, 1, root, s),
            keccak256(
                abi.encodePacked(
                    "\x19\x01",
                    domainSeparator("SymbioticStakingModule", block.chainid, address(staking)),
                    structHash
                )
            )
        );
        bytes32 digest = keccak256(
            abi.encodePacked(
                "\x19\x01",
                domainSeparator("SymbioticStakingModule", VECTOR_CHAIN, VECTOR_CONTRACT),
                structHash
            )
        );
        (uint8 v, bytes32 r, bytes32 sg) = vm.sign(VECTOR_KEY, digest);
        assertEq(root, 0xc58b38116ff85e60ce353ff930ee41048fbb875a2dcbdc577565501797344f0c);
        assertEq(structHash, 0xabb6cedc8d13ce082d3c21ccfdf8f9de21d6c122b567b5feccea84b944fdbe8b);
        assertEq(digest, 0xe01614fc20b9d38fd4e1d741ab8105c2a8ba94a8abd5aa3b0ba0164995bec3d1);
        assertEq(
            abi.encodePacked(r, sg, v),
            hex"026c1d31c102663de9bb7120d377862cbca0ee5f1e1271795f4d8b98e166dca047074b626f338b1604045c64d1b45ac085c4ddce5c196dea16a47f4951947e941b"
        );
    }

    /// @dev The slash result vector (the L1 middleware's `SlashResult`), by formula.
    function test_Eip712Vector_SlashResult() public pure {
        bytes32 structHash = keccak256(
            abi.encode(
                keccak256(
                    "SlashResult(bytes32 slashId,address vault,address operator,uint256 amount,uint48 captureTimestamp)"
                ),
                keccak256("slash-1"),
                address(0x2222222222222222222222222222222222222222),
                address(0x1111111111111111111111111111111111111111),
                uint256(100e18),
                uint48(1_777_600_000)
            )
        );
        bytes32 digest = keccak256(
            abi.encodePacked(
                "\x19\x01", domainSeparator("SymbioticNetworkMiddleware", 1, VECTOR_CONTRACT), structHash
            )
        );
        (uint8 v, bytes32 r, bytes32 sg) = vm.sign(VECTOR_KEY, digest);
        assertEq(structHash, 0xb311861dc16da05e8047b8295f30eac126ec25e37ce30153f31c62e9bfe6d045);
        assertEq(digest, 0x7755d4c0dbc69889821e43ddce992f02a647d6245c7c8307dbbc1994b7250d6d);
        assertEq(
            abi.encodePacked(r, sg, v),
            hex"0d76f5bb12c8592ecd2d6cfad8189e4eef11b469673d1e9e6500ea66d26d88a92c31d09ba114a83e80c4bc11ef26a6a326e972a6fab2655ad69952335d12fc911c"
        );
    }
}
