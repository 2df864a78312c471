// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {EnclaveAuth} from "../EnclaveAuth.sol";
import {IEnclaveRegistry} from "../interfaces/IEnclaveRegistry.sol";
import {IStakingModule} from "../marketplace/IStakingModule.sol";
import {NativeStaking} from "../marketplace/NativeStaking.sol";
import {ISymbioticStakingModule} from "./ISymbioticStakingModule.sol";

/// @title SymbioticStakingModule
/// @notice The marketplace's `IStakingModule` on the marketplace chain, backed by Symbiotic restaking on Ethereum
/// and, beside it, by `NativeStaking` (tokens deposited on this chain).
///
/// Restaked stake arrives as one snapshot per epoch: `(operator, vault, collateral, amount)` entries read on L1
/// at a capture time inside the epoch, signed by a live enclave key (EIP-712 `StakeSnapshotChunk`) and submitted
/// in chunks in index order. The last chunk finalises the epoch's snapshot; it becomes the stake the marketplace
/// uses at `epochStart + ACTIVATION_OFFSET` (the offset covers bridging delay), and stays so until the next
/// snapshot activates. An operator's restaked stake is `Σ amount × weight[collateral] / 1e18`, with weights set
/// by governance, so capacity grows with the total weighted stake across collaterals.
///
/// A lock is taken from free restaked stake when it suffices, otherwise from native stake (each lock from one
/// source). A slash hits native locks first (compensation paid on this chain now), then restaked ones: the
/// penalty is split over the operator's vaults in the active snapshot pro rata to their weighted stake and emitted
/// as `SlashRequested` records, which the bridge carries to `NetworkMiddleware.slash` on Ethereum. Until the next
/// snapshot the slashed amount is deducted from the operator's restaked stake.
/// @dev Generators and operators are the same address. Snapshot chunks of one snapshot must come from one signer
/// (the key binds epoch, capture time, chunk count and signer), so two enclaves chunking differently never mix.
contract SymbioticStakingModule is IStakingModule, ISymbioticStakingModule, EnclaveAuth, AccessControl {
    /*//////////////////////////////////////////////////////////////
                               CONSTANTS
    //////////////////////////////////////////////////////////////*/

    /// @notice May set collateral weights.
    bytes32 public constant GOVERNANCE_ROLE = keccak256("GOVERNANCE_ROLE");

    /// @notice EIP-712 type hash of `VaultStake`.
    bytes32 public constant VAULT_STAKE_TYPEHASH =
        keccak256("VaultStake(address operator,address vault,address collateral,uint256 amount)");

    /// @notice EIP-712 type hash of `StakeSnapshotChunk`.
    bytes32 public constant SNAPSHOT_CHUNK_TYPEHASH = keccak256(
        "StakeSnapshotChunk(uint64 epoch,uint48 captureTimestamp,uint32 index,uint32 total,VaultStake[] stakes)"
        "VaultStake(address operator,address vault,address collateral,uint256 amount)"
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

    /// @notice Native stake beside the restaked one (zero: none). Its marketplace must be this module.
    NativeStaking public immutable NATIVE;

    address private immutable _DEPLOYER;

    /*//////////////////////////////////////////////////////////////
                                STORAGE
    //////////////////////////////////////////////////////////////*/

    address private _marketplace;

    /// @dev Chunks received per snapshot key.
    mapping(bytes32 snapshotKey => uint32) private _received;
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

    /// @dev Restaked slashes charged against the snapshot of `epoch` (ignored once another snapshot is active).
    struct Deduction {
        uint64 epoch;
        uint192 amount;
    }

    mapping(address generator => Deduction) private _deductions;
    uint256 private _slashNonce;

    /// @param registry The enclave key registry.
    /// @param enclaveFamily The family whose live keys sign snapshots.
    /// @param admin Holds DEFAULT_ADMIN_ROLE and GOVERNANCE_ROLE (a timelock in production).
    /// @param genesis Start of epoch 0 (s).
    /// @param epochDuration Epoch length (s).
    /// @param activationOffset Offset after the epoch start (s), below `epochDuration`.
    /// @param native Native staking beside it (zero: none).
    constructor(
        IEnclaveRegistry registry,
        bytes32 enclaveFamily,
        address admin,
        uint48 genesis,
        uint48 epochDuration,
        uint48 activationOffset,
        NativeStaking native
    ) EnclaveAuth(registry, "SymbioticStakingModule", "1") {
        if (
            address(registry) == address(0) || enclaveFamily == bytes32(0) || admin == address(0)
                || epochDuration == 0 || activationOffset >= epochDuration
        ) revert SymbioticStakingInvalidConfig();
        ENCLAVE_FAMILY = enclaveFamily;
        GENESIS = genesis;
        EPOCH_DURATION = epochDuration;
        ACTIVATION_OFFSET = activationOffset;
        NATIVE = native;
        _DEPLOYER = msg.sender;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(GOVERNANCE_ROLE, admin);
    }

    /*//////////////////////////////////////////////////////////////
                              GOVERNANCE
    //////////////////////////////////////////////////////////////*/

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

    /*//////////////////////////////////////////////////////////////
                               SNAPSHOTS
    //////////////////////////////////////////////////////////////*/

    /// @notice Submits one chunk of an epoch's stake snapshot. Anyone may relay; the enclave signature is the
    /// credential.
    /// @param epoch The epoch the capture time falls in (the current or the previous one).
    /// @param captureTimestamp The L1 capture time (in the past).
    /// @param index This chunk's index (0-based, in order).
    /// @param total The number of chunks.
    /// @param stakes The entries.
    /// @param signature The enclave's 65-byte EIP-712 signature over the chunk.
    function submitSnapshotChunk(
        uint64 epoch,
        uint48 captureTimestamp,
        uint32 index,
        uint32 total,
        VaultStake[] calldata stakes,
        bytes calldata signature
    ) external {
        if (total == 0 || index >= total) revert SnapshotInvalidChunk(index, total);
        if (
            captureTimestamp < GENESIS || captureTimestamp >= block.timestamp
                || epochOf(captureTimestamp) != epoch
        ) revert SnapshotInvalidCapture(epoch, captureTimestamp);
        uint64 latestPlusOne = _latestPlusOne;
        if (epoch + 1 < epochOf(uint48(block.timestamp)) || epoch + 1 <= latestPlusOne) {
            revert SnapshotEpochClosed(epoch);
        }
        address signer = _requireEnclaveSigner(
            ENCLAVE_FAMILY, hashSnapshotChunk(epoch, captureTimestamp, index, total, stakes), signature
        );
        bytes32 key = keccak256(abi.encode(epoch, captureTimestamp, total, signer));
        uint32 received = _received[key];
        if (index != received) revert SnapshotChunkOutOfOrder(received, index);
        _received[key] = received + 1;

        _storeStakes(_stakes[key], stakes);
        emit SnapshotChunkAccepted(epoch, key, index, total, signer);

        if (received + 1 == total) _finalise(epoch, key, captureTimestamp, latestPlusOne);
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
    function _finalise(uint64 epoch, bytes32 key, uint48 captureTimestamp, uint64 latestPlusOne) private {
        _epochKey[epoch] = key;
        _epochCapture[epoch] = captureTimestamp;
        _priorPlusOne = latestPlusOne;
        _latestPlusOne = epoch + 1;
        uint48 activatesAt = uint48(Math.max(epochStart(epoch) + ACTIVATION_OFFSET, block.timestamp));
        emit SnapshotFinalised(epoch, key, captureTimestamp, activatesAt);
    }

    /*//////////////////////////////////////////////////////////////
                              MARKETPLACE
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IStakingModule
    function lock(address generator, uint256 market, uint256 amount) external returns (bool) {
        _onlyMarketplace();
        uint256 locked = _restakedLocked[generator];
        uint256 usable = _restakedUsable(generator);
        if (usable >= locked && usable - locked >= amount) {
            _restakedLocked[generator] = locked + amount;
            _marketRestakedLocked[generator][market] += amount;
            return true;
        }
        if (address(NATIVE) != address(0)) return NATIVE.lock(generator, market, amount);
        return false;
    }

    /// @inheritdoc IStakingModule
    /// @dev Releases a restaked lock of the market if there is one, else a native one.
    function unlock(address generator, uint256 market, uint256 amount) external {
        _onlyMarketplace();
        uint256 marketLocked = _marketRestakedLocked[generator][market];
        if (marketLocked >= amount) {
            _marketRestakedLocked[generator][market] = marketLocked - amount;
            _restakedLocked[generator] -= amount;
        } else if (address(NATIVE) != address(0)) {
            NATIVE.unlock(generator, market, amount);
        } else {
            revert StakingInsufficientLocked(generator, market, marketLocked, amount);
        }
    }

    /// @inheritdoc IStakingModule
    /// @dev Native locks first (slashed and compensated here, now); otherwise a restaked lock becomes slash
    /// records for Ethereum (no compensation on this chain: the collateral goes to the vault's burner).
    function slash(address generator, uint256 market, uint256 amount, address compensationRecipient)
        external
    {
        _onlyMarketplace();
        if (address(NATIVE) != address(0) && NATIVE.lockedOf(generator, market) >= amount) {
            NATIVE.slash(generator, market, amount, compensationRecipient);
            emit StakeChanged(generator, market, _stakeOf(generator, market));
            return;
        }
        uint256 marketLocked = _marketRestakedLocked[generator][market];
        if (marketLocked < amount) revert StakingInsufficientLocked(generator, market, marketLocked, amount);
        _marketRestakedLocked[generator][market] = marketLocked - amount;
        _restakedLocked[generator] -= amount;

        bytes32 slashId = keccak256(abi.encode(block.chainid, address(this), ++_slashNonce));
        (bool active, uint64 epoch) = activeEpoch();
        uint256 charged;
        if (active) {
            Deduction storage d = _deductions[generator];
            uint256 prior = d.epoch == epoch ? d.amount : 0;
            d.epoch = epoch;
            d.amount = uint192(prior + amount);
            charged = _emitSlashRecords(slashId, generator, epoch, amount);
        }
        if (charged == 0) emit SlashUnbacked(slashId, generator, amount);
        emit StakeChanged(generator, market, _stakeOf(generator, market));
        emit StakeSlashed(generator, market, amount, 0, compensationRecipient);
    }

    /// @dev Splits `amount` (stake units) over the operator's counted vaults pro rata to weighted stake; each
    /// vault is charged `vaultAmount × amount / totalWeighted` collateral units. Returns the number of records.
    function _emitSlashRecords(bytes32 slashId, address generator, uint64 epoch, uint256 amount)
        private
        returns (uint256 records)
    {
        StoredStake[] storage list = _stakes[_epochKey[epoch]][generator];
        uint256 total = _weighted(list);
        if (total == 0) return 0;
        uint48 capture = _epochCapture[epoch];
        uint256 n = list.length;
        for (uint256 i; i < n; ++i) {
            StoredStake storage s = list[i];
            if (_weights[s.collateral] == 0) continue;
            // The slash may exceed the weighted stake (stake fell after the lock): cap each vault at its stake.
            uint256 vaultAmount = Math.min(Math.mulDiv(s.amount, amount, total), s.amount);
            if (vaultAmount == 0) continue;
            ++records;
            emit SlashRequested(slashId, generator, s.vault, vaultAmount, capture);
        }
    }

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

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

    /// @notice The epoch whose snapshot is the active stake now.
    /// @return active Whether any snapshot is active.
    /// @return epoch The epoch (meaningful only if `active`).
    function activeEpoch() public view returns (bool active, uint64 epoch) {
        uint64 latestPlusOne = _latestPlusOne;
        if (latestPlusOne != 0 && block.timestamp >= epochStart(latestPlusOne - 1) + ACTIVATION_OFFSET) {
            return (true, latestPlusOne - 1);
        }
        // The prior snapshot is active: its activation (start + offset < next epoch start) has passed, since the
        // latest one's capture lies in a later epoch and was submitted after it.
        uint64 priorPlusOne = _priorPlusOne;
        if (priorPlusOne != 0) return (true, priorPlusOne - 1);
        return (false, 0);
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
        return _restakedUsable(generator);
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

    /// @notice The EIP-712 struct hash of a snapshot chunk.
    /// @param epoch The epoch.
    /// @param captureTimestamp The capture time.
    /// @param index The chunk index.
    /// @param total The chunk count.
    /// @param stakes The entries.
    /// @return The struct hash.
    function hashSnapshotChunk(
        uint64 epoch,
        uint48 captureTimestamp,
        uint32 index,
        uint32 total,
        VaultStake[] calldata stakes
    ) public pure returns (bytes32) {
        bytes32[] memory hashes = new bytes32[](stakes.length);
        for (uint256 i; i < stakes.length; ++i) {
            VaultStake calldata s = stakes[i];
            hashes[i] =
                keccak256(abi.encode(VAULT_STAKE_TYPEHASH, s.operator, s.vault, s.collateral, s.amount));
        }
        return keccak256(
            abi.encode(
                SNAPSHOT_CHUNK_TYPEHASH,
                epoch,
                captureTimestamp,
                index,
                total,
                keccak256(abi.encodePacked(hashes))
            )
        );
    }

    /// @notice The EIP-712 digest an enclave signs for a chunk (this chain, this contract).
    /// @param epoch The epoch.
    /// @param captureTimestamp The capture time.
    /// @param index The chunk index.
    /// @param total The chunk count.
    /// @param stakes The entries.
    /// @return The digest.
    function snapshotChunkDigest(
        uint64 epoch,
        uint48 captureTimestamp,
        uint32 index,
        uint32 total,
        VaultStake[] calldata stakes
    ) external view returns (bytes32) {
        return _hashTypedDataV4(hashSnapshotChunk(epoch, captureTimestamp, index, total, stakes));
    }

    /*//////////////////////////////////////////////////////////////
                               INTERNALS
    //////////////////////////////////////////////////////////////*/

    function _stakeOf(address generator, uint256 market) private view returns (uint256) {
        uint256 native = address(NATIVE) == address(0) ? 0 : NATIVE.stakeOf(generator, market);
        uint256 usable = _restakedUsable(generator);
        uint256 locked = _restakedLocked[generator];
        uint256 free = usable > locked ? usable - locked : 0;
        return native + _marketRestakedLocked[generator][market] + free;
    }

    function _restakedUsable(address generator) private view returns (uint256) {
        (bool active, uint64 epoch) = activeEpoch();
        if (!active) return 0;
        uint256 weighted = _weighted(_stakes[_epochKey[epoch]][generator]);
        Deduction memory d = _deductions[generator];
        uint256 deducted = d.epoch == epoch ? d.amount : 0;
        return weighted > deducted ? weighted - deducted : 0;
    }

    function _weighted(StoredStake[] storage list) private view returns (uint256 total) {
        uint256 n = list.length;
        for (uint256 i; i < n; ++i) {
            StoredStake storage s = list[i];
            total += Math.mulDiv(s.amount, _weights[s.collateral], WEIGHT_SCALE);
        }
    }

    function _onlyMarketplace() private view {
        if (msg.sender != _marketplace) revert StakingUnauthorized(msg.sender);
    }
}
