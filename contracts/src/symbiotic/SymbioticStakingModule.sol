// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";

import {EnclaveAuth} from "../EnclaveAuth.sol";
import {IEnclaveRegistry} from "../interfaces/IEnclaveRegistry.sol";
import {IStakingModule} from "../marketplace/IStakingModule.sol";
import {NativeStaking} from "../marketplace/NativeStaking.sol";
import {ISymbioticStakingModule} from "./ISymbioticStakingModule.sol";
import {RestakingTiming} from "./RestakingTiming.sol";

/// @title SymbioticStakingModule
/// @notice The marketplace's `IStakingModule` on the marketplace chain, backed by Symbiotic restaking on Ethereum
/// and, beside it, by `NativeStaking` (tokens deposited on this chain).
///
/// Restaked stake arrives as one snapshot per epoch: `(operator, vault, collateral, amount)` entries read on L1
/// at a capture time inside the epoch, signed by a live enclave key (EIP-712 `StakeSnapshotChunk`) and submitted
/// in chunks in index order. The last chunk finalises the epoch's snapshot; it becomes the stake the marketplace
/// uses at `epochStart + ACTIVATION_OFFSET` (the offset covers bridging delay), and stays so until the next
/// snapshot activates or it expires (`RestakingTiming.lockEnd`: past it, L1 could no longer slash at its
/// capture). An operator's restaked stake is `Σ amount × weight[collateral] / 1e18`, with weights set by
/// governance, so capacity grows with the total weighted stake across collaterals.
///
/// A lock is taken from free restaked stake when it suffices and its deadline is within the active snapshot's
/// `lockEnd`, otherwise from native stake (each lock from one source). A restaked lock remembers the snapshot
/// (epoch, capture) it was taken against; its slash is split over that snapshot's vaults pro rata to their
/// weighted stake and emitted as `SlashRequested` records at that capture, which the bridge carries to
/// `NetworkMiddleware.slash` on Ethereum: stake withdrawn on L1 after the capture is still slashable there.
/// Until the next snapshot the slashed amount is deducted from the operator's active restaked stake.
/// @dev Generators and operators are the same address. Restaked locks are identified by (generator, market,
/// deadline): the marketplace's locks of one market are for the same penalty, so locks sharing a deadline are
/// interchangeable only if they share a snapshot too (a lock that would join one of another snapshot falls back
/// to native stake). Snapshot chunks of one snapshot must come from one signer and one read: the key binds
/// epoch, capture time, chunk count, the snapshot root (running hash of all chunks' entries, checked by the last
/// chunk) and signer, so two reads or two enclaves never mix.
contract SymbioticStakingModule is IStakingModule, ISymbioticStakingModule, EnclaveAuth, AccessControl {
    using Checkpoints for Checkpoints.Trace208;

    // ---- Constants ----

    /// @notice May set collateral weights.
    bytes32 public constant GOVERNANCE_ROLE = keccak256("GOVERNANCE_ROLE");

    /// @notice EIP-712 type hash of `VaultStake`.
    bytes32 public constant VAULT_STAKE_TYPEHASH =
        keccak256("VaultStake(address operator,address vault,address collateral,uint256 amount)");

    /// @notice EIP-712 type hash of `StakeSnapshotChunk`.
    bytes32 public constant SNAPSHOT_CHUNK_TYPEHASH = keccak256(
        "StakeSnapshotChunk(uint64 epoch,uint48 captureTimestamp,uint32 index,uint32 total,bytes32 snapshotRoot,"
        "VaultStake[] stakes)" "VaultStake(address operator,address vault,address collateral,uint256 amount)"
    );

    /// @notice Most vaults one operator may have in one snapshot (bounds lock and slash gas).
    uint256 public constant MAX_VAULTS_PER_OPERATOR = 16;

    /// @notice Weight scale: a weight of 1e18 counts one collateral unit as one stake unit.
    uint256 public constant WEIGHT_SCALE = 1e18;

    /// @notice The enclave family whose live keys sign snapshots.
    bytes32 public immutable ENCLAVE_FAMILY;

    /// @notice Start of epoch 0 (s).
    uint48 public immutable GENESIS;

    /// @notice Epoch length (s).
    uint48 public immutable EPOCH_DURATION;

    /// @notice Delay after an epoch's start before its snapshot becomes the active stake (s).
    uint48 public immutable ACTIVATION_OFFSET;

    /// @notice How long a restaked lock may outlive its snapshot's normal handover (s); see `RestakingTiming`.
    uint48 public immutable LOCK_ALLOWANCE;

    /// @notice Deadline → L1 slash request (s); see `RestakingTiming`.
    uint48 public immutable BRIDGING_ALLOWANCE;

    /// @dev `RestakingTiming.pack` of the timing parameters.
    uint256 private immutable _TIMING;

    /// @notice Native stake beside the restaked one (zero: none). Its marketplace must be this module.
    NativeStaking public immutable NATIVE;

    address private immutable _DEPLOYER;

    // ---- Storage ----

    address private _marketplace;

    /// @dev Chunks received per snapshot key, and the running hash of their entries.
    mapping(bytes32 snapshotKey => uint32) private _received;
    mapping(bytes32 snapshotKey => bytes32) private _runningRoot;
    mapping(bytes32 snapshotKey => mapping(address operator => StoredStake[])) private _stakes;

    /// @dev Finalised snapshots.
    mapping(uint64 epoch => bytes32 snapshotKey) private _epochKey;
    mapping(uint64 epoch => uint48) private _epochCapture;
    /// @dev Latest and previous finalised epochs, plus one (0: none).
    uint64 private _latestPlusOne;
    uint64 private _priorPlusOne;

    mapping(address collateral => uint256) private _weights;

    /// @dev Restaked locks, per generator (all markets) and per market.
    mapping(address generator => uint256) private _restakedLocked;
    mapping(address generator => mapping(uint256 market => uint256)) private _marketRestakedLocked;

    /// @dev A restaked lock: the snapshot it was taken against and the amount (locks sharing generator, market,
    /// deadline and snapshot are merged).
    struct RestakedLock {
        uint64 epoch;
        uint192 amount;
    }

    mapping(address generator => mapping(uint256 market => mapping(uint256 deadline => RestakedLock))) private
        _locks;

    /// @dev Symbiotic refuses a slash at a capture older than one already slashed for the operator
    /// (`latestSlashedCaptureTimestamp`), so an operator's slashes must reach L1 in capture order. Locks are
    /// slashed in deadline order, so a lock against a newer snapshot must not be due before the locks against older
    /// ones are slashed and carried: its deadline is at least `maxBefore + BRIDGING_ALLOWANCE`, where `maxBefore`
    /// is the latest deadline granted against an older snapshot (`maxAt`: against `epoch`, the newest).
    struct DeadlineOrder {
        uint64 epoch;
        uint64 maxAt;
        uint64 maxBefore;
    }

    mapping(address generator => DeadlineOrder) private _deadlineOrder;

    /// @dev Cumulative slash records per (generator, vault), in collateral units, by L2 slash time. A record made
    /// at `t` is executed on L1 by `t + slashingWindow` (bridging, veto period and execution; veto periods at most
    /// `E + O + L`), and Symbiotic subtracts it from the slashable stake of every earlier capture: every snapshot
    /// captured before then counts the vault's stake minus it.
    mapping(address generator => mapping(address vault => Checkpoints.Trace208)) private _slashed;
    uint256 private _slashNonce;

    /// @param registry The enclave key registry.
    /// @param enclaveFamily The family whose live keys sign snapshots.
    /// @param admin Holds DEFAULT_ADMIN_ROLE and GOVERNANCE_ROLE (a timelock in production).
    /// @param genesis Start of epoch 0 (s).
    /// @param timing_ The restaking timing, the same the L1 `NetworkMiddleware` is deployed with.
    /// @param native Native staking beside it (zero: none).
    constructor(
        IEnclaveRegistry registry,
        bytes32 enclaveFamily,
        address admin,
        uint48 genesis,
        RestakingTiming.Params memory timing_,
        NativeStaking native
    ) EnclaveAuth(registry, "SymbioticStakingModule", "1") {
        if (address(registry) == address(0) || enclaveFamily == bytes32(0) || admin == address(0)) {
            revert SymbioticStakingInvalidConfig();
        }
        RestakingTiming.validate(timing_);
        ENCLAVE_FAMILY = enclaveFamily;
        GENESIS = genesis;
        EPOCH_DURATION = timing_.epochDuration;
        ACTIVATION_OFFSET = timing_.activationOffset;
        LOCK_ALLOWANCE = timing_.lockAllowance;
        BRIDGING_ALLOWANCE = timing_.bridgingAllowance;
        _TIMING = RestakingTiming.pack(timing_);
        NATIVE = native;
        _DEPLOYER = msg.sender;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(GOVERNANCE_ROLE, admin);
    }

    // ---- Governance ----

    /// @notice Binds the marketplace allowed to lock, unlock and slash. Once, by the deployer.
    /// @param marketplace_ The marketplace.
    function bindMarketplace(address marketplace_) external {
        if (msg.sender != _DEPLOYER || _marketplace != address(0) || marketplace_ == address(0)) {
            revert SymbioticStakingBindForbidden();
        }
        _marketplace = marketplace_;
        emit MarketplaceBound(marketplace_);
    }

    /// @notice Sets how much one unit of an L1 collateral counts, scaled by `WEIGHT_SCALE` (0: not counted).
    /// @param collateral The L1 collateral token.
    /// @param weight The weight.
    function setCollateralWeight(address collateral, uint256 weight) external onlyRole(GOVERNANCE_ROLE) {
        _weights[collateral] = weight;
        emit CollateralWeightSet(collateral, weight);
    }

    // ---- Snapshots ----

    /// @notice Submits one chunk of an epoch's stake snapshot. Anyone may relay; the enclave signature is the
    /// credential.
    /// @param epoch The epoch the capture time falls in (the current or the previous one).
    /// @param captureTimestamp The L1 capture time (in the past).
    /// @param index This chunk's index (0-based, in order).
    /// @param total The number of chunks.
    /// @param snapshotRoot The whole snapshot's root (`nextSnapshotRoot` chained over every chunk's entries).
    /// @param stakes The entries.
    /// @param signature The enclave's 65-byte EIP-712 signature over the chunk.
    function submitSnapshotChunk(
        uint64 epoch,
        uint48 captureTimestamp,
        uint32 index,
        uint32 total,
        bytes32 snapshotRoot,
        VaultStake[] calldata stakes,
        bytes calldata signature
    ) external {
        if (total == 0 || index >= total) revert SnapshotInvalidChunk(index, total);
        if (
            captureTimestamp < GENESIS || captureTimestamp >= block.timestamp
                || epochOf(captureTimestamp) != epoch
        ) revert SnapshotInvalidCapture(epoch, captureTimestamp);
        if (epoch + 1 < epochOf(uint48(block.timestamp)) || epoch + 1 <= _latestPlusOne) {
            revert SnapshotEpochClosed(epoch);
        }
        bytes32 stakesHash = _stakesHash(stakes);
        address signer = _requireEnclaveSigner(
            ENCLAVE_FAMILY,
            _chunkStructHash(epoch, captureTimestamp, index, total, snapshotRoot, stakesHash),
            signature
        );
        bytes32 key = computeSnapshotKey(epoch, captureTimestamp, total, snapshotRoot, signer);
        _advance(key, index, total, snapshotRoot, stakesHash);
        emit SnapshotChunkAccepted(epoch, key, index, total, signer);
        _storeStakes(_stakes[key], stakes);
        if (index + 1 == total) _finalise(epoch, key, captureTimestamp);
    }

    /// @dev Checks the chunk's place under its key and advances the running root, checked against the carried root
    /// on the last chunk.
    function _advance(bytes32 key, uint32 index, uint32 total, bytes32 snapshotRoot, bytes32 stakesHash)
        private
    {
        uint32 received = _received[key];
        if (index != received) revert SnapshotChunkOutOfOrder(received, index);
        _received[key] = received + 1;
        bytes32 running = nextSnapshotRoot(_runningRoot[key], stakesHash);
        if (index + 1 == total) {
            if (running != snapshotRoot) revert SnapshotRootMismatch(snapshotRoot, running);
        } else {
            _runningRoot[key] = running;
        }
    }

    /// @dev Appends a chunk's entries, refusing malformed, duplicate and excess entries.
    function _storeStakes(mapping(address => StoredStake[]) storage byOperator, VaultStake[] calldata stakes)
        private
    {
        for (uint256 i; i < stakes.length; ++i) {
            VaultStake calldata s = stakes[i];
            if (s.operator == address(0) || s.vault == address(0) || s.amount == 0) {
                revert SnapshotInvalidStake();
            }
            StoredStake[] storage list = byOperator[s.operator];
            uint256 n = list.length;
            if (n == MAX_VAULTS_PER_OPERATOR) revert SnapshotTooManyVaults(s.operator);
            for (uint256 j; j < n; ++j) {
                if (list[j].vault == s.vault) revert SnapshotDuplicateStake(s.operator, s.vault);
            }
            list.push(StoredStake({vault: s.vault, collateral: s.collateral, amount: s.amount}));
        }
    }

    /// @dev Makes `key` the epoch's snapshot.
    function _finalise(uint64 epoch, bytes32 key, uint48 captureTimestamp) private {
        _epochKey[epoch] = key;
        _epochCapture[epoch] = captureTimestamp;
        _priorPlusOne = _latestPlusOne;
        _latestPlusOne = epoch + 1;
        uint48 activatesAt = uint48(Math.max(epochStart(epoch) + ACTIVATION_OFFSET, block.timestamp));
        emit SnapshotFinalised(epoch, key, captureTimestamp, activatesAt);
    }

    // ---- Marketplace ----

    /// @inheritdoc IStakingModule
    /// @dev Restaked only if the active snapshot backs the whole lock: enough free weighted stake, a deadline
    /// within the snapshot's `lockEnd` and in capture order (`DeadlineOrder`), and no lock of another snapshot
    /// under the same deadline; else native.
    function lock(address generator, uint256 market, uint256 amount, uint256 deadline)
        external
        returns (bool)
    {
        _onlyMarketplace();
        if (_lockRestaked(generator, market, amount, deadline)) return true;
        if (address(NATIVE) != address(0)) return NATIVE.lock(generator, market, amount, deadline);
        return false;
    }

    function _lockRestaked(address generator, uint256 market, uint256 amount, uint256 deadline)
        private
        returns (bool)
    {
        (bool active, uint64 epoch, uint48 capture) = _activeSnapshot();
        if (!active || deadline > RestakingTiming.lockEnd(_timing(), capture)) return false;
        uint256 locked = _restakedLocked[generator];
        uint256 usable = _restakedUsable(generator, true, epoch);
        if (usable < locked || usable - locked < amount) return false;
        RestakedLock storage l = _locks[generator][market][deadline];
        (uint64 lockEpoch, uint192 lockAmount) = (l.epoch, l.amount);
        if (lockAmount != 0 && lockEpoch != epoch) return false;
        if (amount > type(uint192).max - lockAmount) return false;
        if (!_orderDeadline(generator, epoch, deadline)) return false;
        l.epoch = epoch;
        // forge-lint: disable-next-line(unsafe-typecast)
        l.amount = lockAmount + uint192(amount); // checked just above
        _restakedLocked[generator] = locked + amount;
        _marketRestakedLocked[generator][market] += amount;
        return true;
    }

    /// @dev Records `deadline` for a lock against `epoch` (the active one) if it keeps the generator's restaked
    /// deadlines in capture order (`DeadlineOrder`); returns false, changing nothing, if not.
    function _orderDeadline(address generator, uint64 epoch, uint256 deadline) private returns (bool) {
        DeadlineOrder memory o = _deadlineOrder[generator];
        if (o.epoch != epoch) {
            // The active epoch only grows: the newest snapshot's deadlines become the older ones'.
            if (o.maxAt > o.maxBefore) o.maxBefore = o.maxAt;
            (o.epoch, o.maxAt) = (epoch, 0);
        }
        if (o.maxBefore != 0 && deadline < uint256(o.maxBefore) + BRIDGING_ALLOWANCE) return false;
        // deadline <= lockEnd(capture) < 2^49.
        // forge-lint: disable-next-line(unsafe-typecast)
        if (deadline > o.maxAt) o.maxAt = uint64(deadline);
        _deadlineOrder[generator] = o;
        return true;
    }

    /// @inheritdoc IStakingModule
    /// @dev Releases the restaked lock of that deadline if there is one, else a native one.
    function unlock(address generator, uint256 market, uint256 amount, uint256 deadline) external {
        _onlyMarketplace();
        RestakedLock storage l = _locks[generator][market][deadline];
        uint192 lockAmount = l.amount;
        if (lockAmount >= amount) {
            _releaseRestaked(l, generator, market, lockAmount, amount);
        } else if (address(NATIVE) != address(0)) {
            NATIVE.unlock(generator, market, amount, deadline);
        } else {
            revert StakingInsufficientLocked(generator, market, lockAmount, amount);
        }
    }

    /// @inheritdoc IStakingModule
    /// @dev The restaked lock of that deadline becomes slash records for Ethereum against the snapshot it was taken
    /// against (no compensation on this chain: the collateral goes to the vault's burner); otherwise the native
    /// lock is slashed and compensated here, now.
    function slash(
        address generator,
        uint256 market,
        uint256 amount,
        uint256 deadline,
        address compensationRecipient
    ) external {
        _onlyMarketplace();
        RestakedLock storage l = _locks[generator][market][deadline];
        (uint64 lockEpoch, uint192 lockAmount) = (l.epoch, l.amount);
        if (lockAmount < amount) {
            if (address(NATIVE) == address(0)) {
                revert StakingInsufficientLocked(generator, market, lockAmount, amount);
            }
            NATIVE.slash(generator, market, amount, deadline, compensationRecipient);
            emit StakeChanged(generator, market, _stakeOf(generator, market));
            return;
        }
        _releaseRestaked(l, generator, market, lockAmount, amount);

        bytes32 slashId = keccak256(abi.encode(block.chainid, address(this), ++_slashNonce));
        if (_emitSlashRecords(slashId, generator, lockEpoch, amount) == 0) {
            emit SlashUnbacked(slashId, generator, amount);
        }
        emit StakeChanged(generator, market, _stakeOf(generator, market));
        emit StakeSlashed(generator, market, amount, 0, compensationRecipient);
    }

    /// @dev Removes `amount` from a restaked lock holding `lockAmount >= amount`.
    function _releaseRestaked(
        RestakedLock storage l,
        address generator,
        uint256 market,
        uint192 lockAmount,
        uint256 amount
    ) private {
        // amount <= lockAmount (callers check).
        // forge-lint: disable-next-line(unsafe-typecast)
        l.amount = lockAmount - uint192(amount);
        _marketRestakedLocked[generator][market] -= amount;
        _restakedLocked[generator] -= amount;
    }

    /// @dev Splits `amount` (stake units) over the operator's counted vaults in `epoch`'s snapshot pro rata to
    /// their available weighted stake (`_available`); each vault is charged `available × amount / totalWeighted`
    /// collateral units, at that snapshot's capture, and the charge is recorded against the vault. Returns the
    /// number of records.
    function _emitSlashRecords(bytes32 slashId, address generator, uint64 epoch, uint256 amount)
        private
        returns (uint256 records)
    {
        StoredStake[] storage list = _stakes[_epochKey[epoch]][generator];
        uint48 capture = _epochCapture[epoch];
        uint256 total = _weighted(generator, list, capture);
        if (total == 0) return 0;
        uint256 n = list.length;
        for (uint256 i; i < n; ++i) {
            StoredStake storage s = list[i];
            if (_weights[s.collateral] == 0) continue;
            uint256 available = _available(generator, s, capture);
            // amount <= total while the lock fits; the cap only matters if governance lowered a weight since.
            uint256 vaultAmount = Math.min(Math.mulDiv(available, amount, total), available);
            if (vaultAmount == 0) continue;
            ++records;
            Checkpoints.Trace208 storage slashed = _slashed[generator][s.vault];
            // vaultAmount <= available <= a snapshot amount; cumulative slashes stay far below 2^208.
            // forge-lint: disable-next-line(unsafe-typecast)
            slashed.push(uint48(block.timestamp), slashed.latest() + uint208(vaultAmount));
            emit SlashRequested(slashId, generator, s.vault, vaultAmount, capture);
        }
    }

    /// @dev A vault's stake at `capture` minus the slash records against it that may settle on L1 after the capture
    /// (made after `capture - slashingWindow`): what Symbiotic can still slash there.
    function _available(address generator, StoredStake storage s, uint48 capture)
        private
        view
        returns (uint256)
    {
        Checkpoints.Trace208 storage slashed = _slashed[generator][s.vault];
        uint256 window = RestakingTiming.slashingWindow(_timing());
        // capture - window < capture < 2^48.
        // forge-lint: disable-next-line(unsafe-typecast)
        uint256 settled = capture > window ? slashed.upperLookupRecent(uint48(capture - window)) : 0;
        uint256 pending = slashed.latest() - settled;
        return s.amount > pending ? s.amount - pending : 0;
    }

    // ---- Views ----

    /// @inheritdoc IStakingModule
    /// @dev Native stake of the market, plus restaked locks of the market, plus the free restaked stake (shared
    /// by all markets), so that `stakeOf - lockedOf` is what a new lock in this market can take.
    function stakeOf(address generator, uint256 market) external view returns (uint256) {
        return _stakeOf(generator, market);
    }

    /// @inheritdoc IStakingModule
    function lockedOf(address generator, uint256 market) external view returns (uint256) {
        uint256 native = address(NATIVE) == address(0) ? 0 : NATIVE.lockedOf(generator, market);
        return native + _marketRestakedLocked[generator][market];
    }

    /// @notice The epoch a time falls in.
    /// @param timestamp The time (s), at or after `GENESIS`.
    /// @return The epoch.
    function epochOf(uint48 timestamp) public view returns (uint64) {
        return uint64((timestamp - GENESIS) / EPOCH_DURATION);
    }

    /// @notice When an epoch starts.
    /// @param epoch The epoch.
    /// @return The start (s).
    function epochStart(uint64 epoch) public view returns (uint256) {
        return uint256(GENESIS) + uint256(epoch) * EPOCH_DURATION;
    }

    /// @notice The epoch whose snapshot is the active stake now: the latest activated one, unless it has expired
    /// (`snapshotLockEnd` passed: L1 could not slash at its capture in time, so it backs nothing).
    /// @return active Whether any snapshot is active.
    /// @return epoch The epoch (meaningful only if `active`).
    function activeEpoch() public view returns (bool active, uint64 epoch) {
        (active, epoch,) = _activeSnapshot();
    }

    /// @notice The restaking timing the module was deployed with (the L1 middleware holds the same).
    /// @return The parameters.
    function timing() external view returns (RestakingTiming.Params memory) {
        return _timing();
    }

    /// @notice The latest deadline a restaked lock against a finalised epoch's snapshot may have; from then on the
    /// snapshot grants no restaked stake.
    /// @param epoch The epoch (zero is returned if it has no snapshot).
    /// @return The bound (s).
    function snapshotLockEnd(uint64 epoch) external view returns (uint256) {
        if (_epochKey[epoch] == bytes32(0)) return 0;
        return RestakingTiming.lockEnd(_timing(), _epochCapture[epoch]);
    }

    /// @notice A restaked lock: the snapshot it was taken against and the amount still locked.
    /// @param generator The generator.
    /// @param market The market.
    /// @param deadline The assignment's deadline.
    /// @return epoch The snapshot's epoch.
    /// @return captureTimestamp The snapshot's capture time (the one its slash is carried to L1 against).
    /// @return amount The amount (zero: no restaked lock).
    function restakedLockOf(address generator, uint256 market, uint256 deadline)
        external
        view
        returns (uint64 epoch, uint48 captureTimestamp, uint256 amount)
    {
        RestakedLock memory l = _locks[generator][market][deadline];
        return (l.epoch, _epochCapture[l.epoch], l.amount);
    }

    /// @notice A finalised epoch's snapshot.
    /// @param epoch The epoch.
    /// @return snapshotKey The key (zero if none).
    /// @return captureTimestamp The capture time.
    function snapshotOf(uint64 epoch) external view returns (bytes32 snapshotKey, uint48 captureTimestamp) {
        return (_epochKey[epoch], _epochCapture[epoch]);
    }

    /// @notice An operator's vault stakes in a finalised epoch's snapshot.
    /// @param epoch The epoch.
    /// @param operator The operator.
    /// @return The stakes.
    function vaultStakesOf(uint64 epoch, address operator) external view returns (StoredStake[] memory) {
        return _stakes[_epochKey[epoch]][operator];
    }

    /// @notice Chunks received so far for a snapshot key.
    /// @param snapshotKey The key.
    /// @return The count.
    function chunksReceived(bytes32 snapshotKey) external view returns (uint32) {
        return _received[snapshotKey];
    }

    /// @notice An operator's weighted restaked stake in the active snapshot, after slashes charged to it.
    /// @param generator The generator (operator).
    /// @return The usable restaked stake (locked part included).
    function restakedStakeOf(address generator) external view returns (uint256) {
        (bool active, uint64 epoch) = activeEpoch();
        return _restakedUsable(generator, active, epoch);
    }

    /// @notice Restaked stake locked across all markets.
    /// @param generator The generator.
    /// @return The amount.
    function restakedLockedOf(address generator) external view returns (uint256) {
        return _restakedLocked[generator];
    }

    /// @notice A collateral's weight.
    /// @param collateral The L1 collateral.
    /// @return The weight (scaled by `WEIGHT_SCALE`).
    function collateralWeight(address collateral) external view returns (uint256) {
        return _weights[collateral];
    }

    /// @notice The bound marketplace (zero before `bindMarketplace`).
    /// @return The marketplace.
    function marketplace() external view returns (address) {
        return _marketplace;
    }

    /// @notice The key a snapshot's chunks are collected under: one read (root) by one signer.
    /// @param epoch The epoch.
    /// @param captureTimestamp The capture time.
    /// @param total The chunk count.
    /// @param snapshotRoot The snapshot root.
    /// @param signer The enclave key.
    /// @return The key.
    function computeSnapshotKey(
        uint64 epoch,
        uint48 captureTimestamp,
        uint32 total,
        bytes32 snapshotRoot,
        address signer
    ) public pure returns (bytes32) {
        return keccak256(abi.encode(epoch, captureTimestamp, total, snapshotRoot, signer));
    }

    /// @notice One step of the snapshot root: `keccak256(previous ‖ stakesHash)`, from zero over the chunks in
    /// index order; after the last chunk it must equal the root every chunk carries.
    /// @param previous The root over the chunks before (zero before the first).
    /// @param stakesHash The chunk's `stakes` EIP-712 array hash.
    /// @return The root over the chunks up to this one.
    function nextSnapshotRoot(bytes32 previous, bytes32 stakesHash) public pure returns (bytes32) {
        return keccak256(abi.encode(previous, stakesHash));
    }

    /// @notice The EIP-712 hash of a chunk's `stakes` array (`keccak256(hashStruct(stakes[0]) ‖ …)`).
    /// @param stakes The entries.
    /// @return The hash.
    function hashStakes(VaultStake[] calldata stakes) external pure returns (bytes32) {
        return _stakesHash(stakes);
    }

    /// @notice The EIP-712 struct hash of a snapshot chunk.
    /// @param epoch The epoch.
    /// @param captureTimestamp The capture time.
    /// @param index The chunk index.
    /// @param total The chunk count.
    /// @param snapshotRoot The snapshot root.
    /// @param stakes The entries.
    /// @return The struct hash.
    function hashSnapshotChunk(
        uint64 epoch,
        uint48 captureTimestamp,
        uint32 index,
        uint32 total,
        bytes32 snapshotRoot,
        VaultStake[] calldata stakes
    ) public pure returns (bytes32) {
        return _chunkStructHash(epoch, captureTimestamp, index, total, snapshotRoot, _stakesHash(stakes));
    }

    /// @notice The EIP-712 digest an enclave signs for a chunk (this chain, this contract).
    /// @param epoch The epoch.
    /// @param captureTimestamp The capture time.
    /// @param index The chunk index.
    /// @param total The chunk count.
    /// @param snapshotRoot The snapshot root.
    /// @param stakes The entries.
    /// @return The digest.
    function snapshotChunkDigest(
        uint64 epoch,
        uint48 captureTimestamp,
        uint32 index,
        uint32 total,
        bytes32 snapshotRoot,
        VaultStake[] calldata stakes
    ) external view returns (bytes32) {
        return _hashTypedDataV4(
            hashSnapshotChunk(epoch, captureTimestamp, index, total, snapshotRoot, stakes)
        );
    }

    // ---- Internals ----

    function _stakesHash(VaultStake[] calldata stakes) private pure returns (bytes32) {
        bytes32[] memory hashes = new bytes32[](stakes.length);
        for (uint256 i; i < stakes.length; ++i) {
            VaultStake calldata s = stakes[i];
            hashes[i] =
                keccak256(abi.encode(VAULT_STAKE_TYPEHASH, s.operator, s.vault, s.collateral, s.amount));
        }
        return keccak256(abi.encodePacked(hashes));
    }

    function _chunkStructHash(
        uint64 epoch,
        uint48 captureTimestamp,
        uint32 index,
        uint32 total,
        bytes32 snapshotRoot,
        bytes32 stakesHash
    ) private pure returns (bytes32) {
        return keccak256(
            abi.encode(
                SNAPSHOT_CHUNK_TYPEHASH, epoch, captureTimestamp, index, total, snapshotRoot, stakesHash
            )
        );
    }

    function _timing() private view returns (RestakingTiming.Params memory) {
        return RestakingTiming.unpack(_TIMING);
    }

    /// @dev The latest snapshot whose activation has passed (the prior one while the latest is not yet active:
    /// its activation, before the next epoch's start, has passed), if it has not expired.
    function _activeSnapshot() private view returns (bool active, uint64 epoch, uint48 capture) {
        uint64 plusOne = _latestPlusOne;
        if (plusOne == 0) return (false, 0, 0);
        if (block.timestamp < epochStart(plusOne - 1) + ACTIVATION_OFFSET) plusOne = _priorPlusOne;
        if (plusOne == 0) return (false, 0, 0);
        epoch = plusOne - 1;
        capture = _epochCapture[epoch];
        active = block.timestamp < RestakingTiming.lockEnd(_timing(), capture);
    }

    function _stakeOf(address generator, uint256 market) private view returns (uint256) {
        uint256 native = address(NATIVE) == address(0) ? 0 : NATIVE.stakeOf(generator, market);
        (bool active, uint64 epoch) = activeEpoch();
        uint256 usable = _restakedUsable(generator, active, epoch);
        uint256 locked = _restakedLocked[generator];
        uint256 free = usable > locked ? usable - locked : 0;
        return native + _marketRestakedLocked[generator][market] + free;
    }

    function _restakedUsable(address generator, bool active, uint64 epoch) private view returns (uint256) {
        if (!active) return 0;
        return _weighted(generator, _stakes[_epochKey[epoch]][generator], _epochCapture[epoch]);
    }

    function _weighted(address generator, StoredStake[] storage list, uint48 capture)
        private
        view
        returns (uint256 total)
    {
        uint256 n = list.length;
        for (uint256 i; i < n; ++i) {
            StoredStake storage s = list[i];
            uint256 weight = _weights[s.collateral];
            if (weight != 0) total += Math.mulDiv(_available(generator, s, capture), weight, WEIGHT_SCALE);
        }
    }

    function _onlyMarketplace() private view {
        if (msg.sender != _marketplace) revert StakingUnauthorized(msg.sender);
    }
}
