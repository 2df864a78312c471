//! Contract interfaces, restated from `contracts/src/symbiotic/` and `@symbioticfi/core` 1.0.3
//! (`sol!` cannot read the Solidity files themselves: their `/*////…////*/` banners hold a nested
//! comment opener). Only what the job calls, logs and the errors it decodes. The two-anvil test
//! exercises every call against the real contracts, so a drifted signature fails there.
#![allow(missing_docs)]
// The generated call builder of `submitSnapshotChunk` takes the contract's seven arguments.
#![allow(clippy::too_many_arguments)]

alloy::sol! {
    /// EIP-712 `VaultStake` (the staking module's snapshot entry).
    #[derive(Debug, Default, PartialEq, Eq, Hash)]
    struct VaultStake {
        address operator;
        address vault;
        address collateral;
        uint256 amount;
    }

    /// EIP-712 `StakeSnapshotChunk`, signed for the staking module's domain. `snapshotRoot` binds
    /// every chunk to the whole read (see [`crate::snapshot::chunks`]).
    #[derive(Debug, Default, PartialEq, Eq)]
    struct StakeSnapshotChunk {
        uint64 epoch;
        uint48 captureTimestamp;
        uint32 index;
        uint32 total;
        bytes32 snapshotRoot;
        VaultStake[] stakes;
    }

    /// EIP-712 `SlashResult`, signed for the middleware's domain.
    #[derive(Debug, Default, PartialEq, Eq, Hash)]
    struct SlashResult {
        bytes32 slashId;
        address vault;
        address operator;
        uint256 amount;
        uint48 captureTimestamp;
    }

    /// `NetworkMiddleware` on L1, with the `EnclaveAuth` errors.
    #[sol(rpc, all_derives)]
    interface INetworkMiddleware {
        error MiddlewareInvalidConfig();
        error MiddlewareNotVault(address vault);
        error MiddlewareUnsupportedSlasher(address vault);
        error MiddlewareVaultEpochTooShort(address vault, uint48 epochDuration, uint48 required);
        error MiddlewareVaultAlreadyRegistered(address vault);
        error MiddlewareVaultNotRegistered(address vault);
        error MiddlewareCaptureNotInPast(uint48 captureTimestamp);
        error MiddlewareCaptureOutsideWindow(uint48 captureTimestamp, uint48 earliest);
        error MiddlewareSlashAlreadyProcessed(bytes32 slashId, address vault);
        error MiddlewareZeroAmount();
        error MiddlewareZeroSlashId();
        error MiddlewareUnknownSlashRequest(address vault, uint256 slashIndex);
        error EnclaveAuthInvalidSignature();
        error EnclaveAuthKeyNotLive(address signer, bytes32 family);
        error EnclaveAuthDigestUsed(bytes32 digest);

        event SlashExecuted(bytes32 indexed slashId, address indexed vault, address indexed operator,
            uint256 slashedAmount, uint48 captureTimestamp);
        event SlashRequested(bytes32 indexed slashId, address indexed vault, address indexed operator,
            uint256 slashIndex, uint48 captureTimestamp);
        event VetoSlashExecuted(bytes32 indexed slashId, address indexed vault, uint256 slashIndex,
            uint256 slashedAmount);

        function slash(SlashResult calldata result, bytes calldata signature) external;
        function executeSlash(address vault, uint256 slashIndex, bytes calldata hints)
            external returns (uint256 slashedAmount);
        function stakeAt(address operator, uint48 captureTimestamp) external view
            returns (address[] memory vaults, address[] memory collaterals, uint256[] memory amounts);
        function vaults() external view returns (address[] memory);
        function isProcessed(bytes32 slashId, address vault) external view returns (bool);
        function slashResultDigest(SlashResult calldata result) external view returns (bytes32);
        function SUBNETWORK() external view returns (bytes32);
    }

    /// `SymbioticStakingModule` on L2, with the `EnclaveAuth` errors.
    #[sol(rpc, all_derives)]
    interface ISymbioticStakingModule {
        struct StoredStake {
            address vault;
            address collateral;
            uint256 amount;
        }

        error SymbioticStakingInvalidConfig();
        error SnapshotInvalidChunk(uint32 index, uint32 total);
        error SnapshotInvalidCapture(uint64 epoch, uint48 captureTimestamp);
        error SnapshotEpochClosed(uint64 epoch);
        error SnapshotChunkOutOfOrder(uint32 expected, uint32 index);
        error SnapshotRootMismatch(bytes32 expected, bytes32 computed);
        error SnapshotInvalidStake();
        error SnapshotDuplicateStake(address operator, address vault);
        error SnapshotTooManyVaults(address operator);
        error EnclaveAuthInvalidSignature();
        error EnclaveAuthKeyNotLive(address signer, bytes32 family);
        error EnclaveAuthDigestUsed(bytes32 digest);

        event SnapshotFinalised(uint64 indexed epoch, bytes32 indexed snapshotKey, uint48 captureTimestamp,
            uint48 activatesAt);
        event SlashRequested(bytes32 indexed slashId, address indexed operator, address indexed vault,
            uint256 amount, uint48 captureTimestamp);

        function submitSnapshotChunk(uint64 epoch, uint48 captureTimestamp, uint32 index, uint32 total,
            bytes32 snapshotRoot, VaultStake[] calldata stakes, bytes calldata signature) external;
        function snapshotOf(uint64 epoch) external view returns (bytes32 snapshotKey, uint48 captureTimestamp);
        function chunksReceived(bytes32 snapshotKey) external view returns (uint32);
        function GENESIS() external view returns (uint48);
        function EPOCH_DURATION() external view returns (uint48);
        function ACTIVATION_OFFSET() external view returns (uint48);
        function MAX_VAULTS_PER_OPERATOR() external view returns (uint256);
        function restakedStakeOf(address generator) external view returns (uint256);
        function vaultStakesOf(uint64 epoch, address operator) external view returns (StoredStake[] memory);
        function snapshotChunkDigest(uint64 epoch, uint48 captureTimestamp, uint32 index, uint32 total,
            bytes32 snapshotRoot, VaultStake[] calldata stakes) external view returns (bytes32);
        function snapshotLockEnd(uint64 epoch) external view returns (uint256);
    }

    /// Symbiotic `IVault` (the parts the job reads).
    #[sol(rpc, all_derives)]
    interface IVault {
        function delegator() external view returns (address);
        function slasher() external view returns (address);
        function epochDuration() external view returns (uint48);
    }

    /// Symbiotic `IBaseDelegator`.
    #[sol(rpc, all_derives)]
    interface IBaseDelegator {
        function OPERATOR_VAULT_OPT_IN_SERVICE() external view returns (address);
    }

    /// Symbiotic `IOptInService`.
    #[sol(rpc, all_derives)]
    interface IOptInService {
        function WHO_REGISTRY() external view returns (address);
    }

    /// Symbiotic `IRegistry` (the `OperatorRegistry`).
    #[sol(rpc, all_derives)]
    interface IRegistry {
        function totalEntities() external view returns (uint256);
        function entity(uint256 index) external view returns (address);
    }

    /// Symbiotic `IVetoSlasher`.
    #[sol(rpc, all_derives)]
    interface IVetoSlasher {
        error AlreadySet();
        error InsufficientSlash();
        error InvalidCaptureTimestamp();
        error NoResolver();
        error NotNetwork();
        error NotResolver();
        error SlashPeriodEnded();
        error SlashRequestCompleted();
        error SlashRequestNotExist();
        error VetoPeriodEnded();
        error VetoPeriodNotEnded();

        event VetoSlash(uint256 indexed slashIndex, address indexed resolver);

        function slashRequests(uint256 slashIndex) external view returns (bytes32 subnetwork,
            address operator, uint256 amount, uint48 captureTimestamp, uint48 vetoDeadline, bool completed);
        function vetoDuration() external view returns (uint48);
        function vetoSlash(uint256 slashIndex, bytes calldata hints) external;
    }
}
