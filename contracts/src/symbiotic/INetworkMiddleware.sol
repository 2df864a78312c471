// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {RestakingTiming} from "./RestakingTiming.sol";

/// @title INetworkMiddleware
/// @notice The marketplace network's middleware on Ethereum (L1): it is itself the Symbiotic network (registered in
/// the `NetworkRegistry`, its own middleware in the `NetworkMiddlewareService`), reads operator stake through each
/// vault's delegator `stakeAt(subnetwork, operator, captureTimestamp, hints)`, and executes slashes that an enclave
/// signed on the strength of a missed deadline on the marketplace chain.
interface INetworkMiddleware {
    // ---- Types ----

    /// @notice A slash decided on the marketplace chain, one per (slash, vault), signed by a live enclave key.
    /// EIP-712 type `SlashResult(bytes32 slashId,address vault,address operator,uint256 amount,uint48 captureTimestamp)`.
    /// @param slashId The marketplace chain's slash record id (unique per staking module).
    /// @param vault The vault to slash.
    /// @param operator The operator (same address on both chains).
    /// @param amount The amount of the vault's collateral to slash (clipped by Symbiotic to the slashable stake).
    /// @param captureTimestamp The stake snapshot's capture time (L1 seconds).
    struct SlashResult {
        bytes32 slashId;
        address vault;
        address operator;
        uint256 amount;
        uint48 captureTimestamp;
    }

    /// @notice How a vault is slashed.
    enum SlasherKind {
        Instant,
        Veto
    }

    // ---- Errors ----

    /// @notice Thrown when a constructor argument is out of range.
    error MiddlewareInvalidConfig();

    /// @notice Thrown when a vault is not a vault of the Symbiotic `VaultFactory` or is not initialised.
    /// @param vault The vault.
    error MiddlewareNotVault(address vault);

    /// @notice Thrown when a vault has no slasher, or one of an unknown type.
    /// @param vault The vault.
    error MiddlewareUnsupportedSlasher(address vault);

    /// @notice Thrown when a vault's epoch is too short for the network's slashing window (plus its veto period).
    /// @param vault The vault.
    /// @param epochDuration The vault's epoch (s).
    /// @param required The minimum epoch (s).
    error MiddlewareVaultEpochTooShort(address vault, uint48 epochDuration, uint48 required);

    /// @notice Thrown when registering a vault twice.
    /// @param vault The vault.
    error MiddlewareVaultAlreadyRegistered(address vault);

    /// @notice Thrown when a vault is not registered with the network.
    /// @param vault The vault.
    error MiddlewareVaultNotRegistered(address vault);

    /// @notice Thrown when a capture time is not in the past.
    /// @param captureTimestamp The capture time.
    error MiddlewareCaptureNotInPast(uint48 captureTimestamp);

    /// @notice Thrown when a slash's capture time is outside the vault's window: an instant slash needs
    /// `now - epochDuration <= capture < now`, a veto slash `now + vetoDuration - epochDuration <= capture < now`.
    /// @param captureTimestamp The capture time.
    /// @param earliest The earliest acceptable capture time now.
    error MiddlewareCaptureOutsideWindow(uint48 captureTimestamp, uint48 earliest);

    /// @notice Thrown when a (slash, vault) pair was already executed or requested.
    /// @param slashId The slash id.
    /// @param vault The vault.
    error MiddlewareSlashAlreadyProcessed(bytes32 slashId, address vault);

    /// @notice Thrown when a zero amount is submitted.
    error MiddlewareZeroAmount();

    /// @notice Thrown when a slash result carries a zero slash id.
    error MiddlewareZeroSlashId();

    /// @notice Thrown when executing a veto request the middleware never made.
    /// @param vault The vault.
    /// @param slashIndex The VetoSlasher request index.
    error MiddlewareUnknownSlashRequest(address vault, uint256 slashIndex);

    // ---- Events ----

    /// @notice Emitted when a vault is registered.
    /// @param vault The vault.
    /// @param kind Its slasher kind.
    event VaultRegistered(address indexed vault, SlasherKind kind);

    /// @notice Emitted when a vault is removed (its stake no longer counts; pending veto requests still execute).
    /// @param vault The vault.
    event VaultRemoved(address indexed vault);

    /// @notice Emitted when an instant slash was executed on L1.
    /// @param slashId The marketplace chain's slash id.
    /// @param vault The vault.
    /// @param operator The operator.
    /// @param slashedAmount The amount Symbiotic slashed.
    /// @param captureTimestamp The capture time.
    event SlashExecuted(
        bytes32 indexed slashId,
        address indexed vault,
        address indexed operator,
        uint256 slashedAmount,
        uint48 captureTimestamp
    );

    /// @notice Emitted when a veto slash was requested on L1 (executable after the veto period).
    /// @param slashId The marketplace chain's slash id.
    /// @param vault The vault.
    /// @param operator The operator.
    /// @param slashIndex The VetoSlasher request index.
    /// @param captureTimestamp The capture time.
    event SlashRequested(
        bytes32 indexed slashId,
        address indexed vault,
        address indexed operator,
        uint256 slashIndex,
        uint48 captureTimestamp
    );

    /// @notice Emitted when a requested veto slash was executed.
    /// @param slashId The marketplace chain's slash id.
    /// @param vault The vault.
    /// @param slashIndex The VetoSlasher request index.
    /// @param slashedAmount The amount Symbiotic slashed.
    event VetoSlashExecuted(
        bytes32 indexed slashId, address indexed vault, uint256 slashIndex, uint256 slashedAmount
    );

    // ---- Functions ----

    /// @notice Slashes (instant slasher) or requests a slash (veto slasher) as an enclave-signed result says.
    /// Anyone may submit; each (slashId, vault) is accepted once.
    /// @param result The slash result.
    /// @param signature The enclave's 65-byte EIP-712 signature over `result`.
    function slash(SlashResult calldata result, bytes calldata signature) external;

    /// @notice Executes a veto slash requested by `slash` once its veto period is over. Anyone may call.
    /// @param vault The vault.
    /// @param slashIndex The VetoSlasher request index.
    /// @param hints Symbiotic `ExecuteSlashHints` (may be empty).
    /// @return slashedAmount The amount slashed.
    function executeSlash(address vault, uint256 slashIndex, bytes calldata hints)
        external
        returns (uint256 slashedAmount);

    /// @notice An operator's stake per registered vault at a past capture time, as each delegator reports it.
    /// @param operator The operator.
    /// @param captureTimestamp The capture time (must be in the past).
    /// @return vaults The registered vaults.
    /// @return collaterals Each vault's collateral.
    /// @return amounts The stake the subnetwork could slash for the operator in each vault.
    function stakeAt(address operator, uint48 captureTimestamp)
        external
        view
        returns (address[] memory vaults, address[] memory collaterals, uint256[] memory amounts);
    /// @notice Admits a vault (genuine, initialised, instant or veto slasher, epoch ≥ window + veto). Admin only.
    /// @param vault The vault.
    function registerVault(address vault) external;

    /// @notice Removes a vault (its stake stops counting; new slashes refused). Admin only.
    /// @param vault The vault.
    function removeVault(address vault) external;

    /// @notice Sets the delegator's max network limit for this subnetwork. Admin only.
    /// @param vault The vault.
    /// @param amount The limit.
    function setMaxNetworkLimit(address vault, uint256 amount) external;

    /// @notice Sets the veto resolver of a veto-slasher vault for this subnetwork. Admin only.
    /// @param vault The vault.
    /// @param resolver The resolver.
    function setResolver(address vault, address resolver) external;

    /// @notice `address(this) << 96 | IDENTIFIER`.
    /// @return The subnetwork.
    function SUBNETWORK() external view returns (bytes32);

    /// @notice The EIP-712 digest an enclave signs for `result` (this chain, this contract).
    /// @param result The slash result.
    /// @return The digest.
    function slashResultDigest(SlashResult calldata result) external view returns (bytes32);

    /// @notice The restaking timing the network was deployed with (the L2 staking module holds the same).
    /// @return The parameters.
    function timing() external view returns (RestakingTiming.Params memory);

    /// @notice The registered vaults.
    /// @return The vaults.
    function vaults() external view returns (address[] memory);

    /// @notice How a registered vault is slashed.
    /// @param vault The vault.
    /// @return The slasher kind.
    function slasherKind(address vault) external view returns (SlasherKind);

    /// @notice Whether a (slash, vault) pair was already executed or requested.
    /// @param slashId The slash id.
    /// @param vault The vault.
    /// @return True if processed.
    function isProcessed(bytes32 slashId, address vault) external view returns (bool);
}
