// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

/// @title ISymbioticStakingModule
/// @notice Types, errors and events of the marketplace chain's restaking module: per-epoch stake snapshots of
/// Symbiotic vaults on Ethereum, signed by a live enclave key and submitted in chunks; missed deadlines become
/// slash records bridged back to Ethereum.
interface ISymbioticStakingModule {
    /// @notice One (operator, vault) stake of a snapshot, as `NetworkMiddleware.stakeAt` reads it on L1.
    /// EIP-712 type `VaultStake(address operator,address vault,address collateral,uint256 amount)`.
    /// @param operator The operator (same address as the generator on this chain).
    /// @param vault The L1 vault.
    /// @param collateral The vault's collateral (L1 token address; weights are keyed by it).
    /// @param amount The stake, in collateral units.
    struct VaultStake {
        address operator;
        address vault;
        address collateral;
        uint256 amount;
    }

    /// @notice A vault's stake as stored for an operator.
    /// @param vault The L1 vault.
    /// @param collateral The collateral.
    /// @param amount The stake (collateral units).
    struct StoredStake {
        address vault;
        address collateral;
        uint256 amount;
    }

    // ---- Errors ----

    /// @notice Thrown when a constructor argument is out of range.
    error SymbioticStakingInvalidConfig();

    /// @notice Thrown when the marketplace is bound twice, by another account than the deployer, or to zero.
    error SymbioticStakingBindForbidden();

    /// @notice Thrown when a chunk's `index`/`total` are inconsistent (total zero, index not below total).
    /// @param index The chunk index.
    /// @param total The chunk count.
    error SnapshotInvalidChunk(uint32 index, uint32 total);

    /// @notice Thrown when the capture time lies outside the epoch, in the future, or before genesis.
    /// @param epoch The epoch.
    /// @param captureTimestamp The capture time.
    error SnapshotInvalidCapture(uint64 epoch, uint48 captureTimestamp);

    /// @notice Thrown when the epoch already has a finalised snapshot, is not after the latest finalised one, or is
    /// older than the previous epoch.
    /// @param epoch The epoch.
    error SnapshotEpochClosed(uint64 epoch);

    /// @notice Thrown when a chunk arrives out of order (chunks of one snapshot go in index order, once each).
    /// @param expected The next expected index.
    /// @param index The index received.
    error SnapshotChunkOutOfOrder(uint32 expected, uint32 index);

    /// @notice Thrown when the last chunk of a snapshot lands and the running hash of the chunks received under
    /// its key differs from the root they all carry (entries dropped, reordered or mixed from another read).
    /// @param expected The root the chunks carry.
    /// @param computed The root of the entries received.
    error SnapshotRootMismatch(bytes32 expected, bytes32 computed);

    /// @notice Thrown when an entry has a zero address or zero amount.
    error SnapshotInvalidStake();

    /// @notice Thrown when an (operator, vault) pair appears twice in one snapshot.
    /// @param operator The operator.
    /// @param vault The vault.
    error SnapshotDuplicateStake(address operator, address vault);

    /// @notice Thrown when an operator has more vaults in one snapshot than `MAX_VAULTS_PER_OPERATOR`.
    /// @param operator The operator.
    error SnapshotTooManyVaults(address operator);

    // ---- Events ----

    /// @notice Emitted when a chunk is accepted.
    /// @param epoch The epoch.
    /// @param snapshotKey `keccak256(abi.encode(epoch, captureTimestamp, total, snapshotRoot, signer))`.
    /// @param index The chunk index.
    /// @param total The chunk count.
    /// @param signer The enclave key that signed it.
    event SnapshotChunkAccepted(
        uint64 indexed epoch, bytes32 indexed snapshotKey, uint32 index, uint32 total, address signer
    );

    /// @notice Emitted when the last chunk of a snapshot lands: the epoch's one snapshot.
    /// @param epoch The epoch.
    /// @param snapshotKey The snapshot key.
    /// @param captureTimestamp The L1 capture time.
    /// @param activatesAt When it becomes the stake the marketplace uses (epoch start + offset, or now if later).
    event SnapshotFinalised(
        uint64 indexed epoch, bytes32 indexed snapshotKey, uint48 captureTimestamp, uint48 activatesAt
    );

    /// @notice Emitted when governance sets a collateral's weight.
    /// @param collateral The L1 collateral.
    /// @param weight Value of one collateral unit in stake units, scaled by 1e18 (0: not counted).
    event CollateralWeightSet(address indexed collateral, uint256 weight);

    /// @notice Emitted when the marketplace is bound.
    /// @param marketplace The marketplace.
    event MarketplaceBound(address indexed marketplace);

    /// @notice Emitted, once per vault, when restaked stake is slashed: the record the bridge carries to L1
    /// (`NetworkMiddleware.slash` with the same fields).
    /// @param slashId `keccak256(abi.encode(block.chainid, address(this), nonce))`.
    /// @param operator The operator.
    /// @param vault The L1 vault.
    /// @param amount Collateral units to slash in that vault.
    /// @param captureTimestamp The capture time of the snapshot the slashed lock was taken against.
    event SlashRequested(
        bytes32 indexed slashId,
        address indexed operator,
        address indexed vault,
        uint256 amount,
        uint48 captureTimestamp
    );

    /// @notice Emitted when a restaked slash has no vault to charge (the weights of all of the operator's
    /// collaterals in the lock's snapshot were set to zero since the lock): nothing is bridged.
    /// @param slashId The slash id.
    /// @param operator The operator.
    /// @param amount The weighted amount that could not be charged.
    event SlashUnbacked(bytes32 indexed slashId, address indexed operator, uint256 amount);
}
