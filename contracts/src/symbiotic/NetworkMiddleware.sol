// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";

import {IRegistry} from "@symbioticfi/core/src/interfaces/common/IRegistry.sol";
import {IEntity} from "@symbioticfi/core/src/interfaces/common/IEntity.sol";
import {INetworkRegistry} from "@symbioticfi/core/src/interfaces/INetworkRegistry.sol";
import {
    INetworkMiddlewareService
} from "@symbioticfi/core/src/interfaces/service/INetworkMiddlewareService.sol";
import {IVault} from "@symbioticfi/core/src/interfaces/vault/IVault.sol";
import {IBaseDelegator} from "@symbioticfi/core/src/interfaces/delegator/IBaseDelegator.sol";
import {ISlasher} from "@symbioticfi/core/src/interfaces/slasher/ISlasher.sol";
import {IVetoSlasher} from "@symbioticfi/core/src/interfaces/slasher/IVetoSlasher.sol";

import {EnclaveAuth} from "../EnclaveAuth.sol";
import {IEnclaveRegistry} from "../interfaces/IEnclaveRegistry.sol";
import {INetworkMiddleware} from "./INetworkMiddleware.sol";
import {RestakingTiming} from "./RestakingTiming.sol";

/// @title NetworkMiddleware
/// @notice The marketplace network on Ethereum. The contract is the Symbiotic network itself: the constructor
/// registers it in the `NetworkRegistry` and names it as its own middleware in the `NetworkMiddlewareService`, so
/// it alone may set max network limits and resolvers and call the vaults' slashers. Its subnetwork is
/// `address(this) << 96 | IDENTIFIER`.
/// @dev Stake is read with `IBaseDelegator.stakeAt(SUBNETWORK, operator, captureTimestamp, "")` at a past capture
/// time. Slashes come from the marketplace chain as EIP-712 `SlashResult`s signed by a live key of
/// `ENCLAVE_FAMILY`; each (slashId, vault) is accepted once. A vault is admitted only if its epoch covers the
/// network's `SLASHING_WINDOW` (capture → request on L1, derived from the `RestakingTiming` parameters the L2
/// staking module is deployed with) plus its veto period, so a result delivered in time is always inside
/// Symbiotic's capture window; the window is re-checked at submission with a named error.
contract NetworkMiddleware is INetworkMiddleware, EnclaveAuth, AccessControl {
    using EnumerableSet for EnumerableSet.AddressSet;

    /// @notice EIP-712 type hash of `SlashResult`.
    bytes32 public constant SLASH_RESULT_TYPEHASH = keccak256(
        "SlashResult(bytes32 slashId,address vault,address operator,uint256 amount,uint48 captureTimestamp)"
    );

    /// @notice Symbiotic slasher types (`IEntity.TYPE()` of the slasher).
    uint64 internal constant INSTANT_SLASHER_TYPE = 0;
    uint64 internal constant VETO_SLASHER_TYPE = 1;

    /// @notice The enclave family whose live keys may sign slash results.
    bytes32 public immutable ENCLAVE_FAMILY;

    /// @notice The subnetwork identifier (low 96 bits of the subnetwork).
    uint96 public immutable IDENTIFIER;

    /// @notice `address(this) << 96 | IDENTIFIER`: the key of every stake, limit, resolver and slash.
    bytes32 public immutable SUBNETWORK;

    /// @notice Longest time (s) between a stake capture and the slash request on L1 the network promises:
    /// `RestakingTiming.slashingWindow` of the shared parameters.
    uint48 public immutable SLASHING_WINDOW;

    /// @dev `RestakingTiming.pack` of the timing parameters.
    uint256 private immutable _TIMING;

    /// @notice Symbiotic's vault factory (which vaults are genuine).
    IRegistry public immutable VAULT_FACTORY;

    EnumerableSet.AddressSet private _vaults;
    mapping(address vault => SlasherKind) private _kinds;
    mapping(bytes32 slashId => mapping(address vault => bool)) private _processed;
    mapping(address vault => mapping(uint256 slashIndex => bytes32 slashId)) private _requests;

    /// @param registry The enclave key registry.
    /// @param enclaveFamily The family whose live keys sign slash results.
    /// @param admin The network's governance (sets vaults, limits and resolvers; a timelock in production).
    /// @param identifier The subnetwork identifier.
    /// @param timing_ The restaking timing shared with the L2 staking module (`SLASHING_WINDOW` derives from it).
    /// @param vaultFactory Symbiotic `VaultFactory`.
    /// @param networkRegistry Symbiotic `NetworkRegistry`.
    /// @param networkMiddlewareService Symbiotic `NetworkMiddlewareService`.
    constructor(
        IEnclaveRegistry registry,
        bytes32 enclaveFamily,
        address admin,
        uint96 identifier,
        RestakingTiming.Params memory timing_,
        address vaultFactory,
        address networkRegistry,
        address networkMiddlewareService
    ) EnclaveAuth(registry, "SymbioticNetworkMiddleware", "1") {
        if (
            address(registry) == address(0) || enclaveFamily == bytes32(0) || admin == address(0)
                || vaultFactory == address(0) || networkRegistry == address(0)
                || networkMiddlewareService == address(0)
        ) revert MiddlewareInvalidConfig();
        RestakingTiming.validate(timing_);
        ENCLAVE_FAMILY = enclaveFamily;
        IDENTIFIER = identifier;
        SUBNETWORK = bytes32(uint256(uint160(address(this))) << 96 | identifier);
        SLASHING_WINDOW = RestakingTiming.slashingWindow(timing_);
        _TIMING = RestakingTiming.pack(timing_);
        VAULT_FACTORY = IRegistry(vaultFactory);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        INetworkRegistry(networkRegistry).registerNetwork();
        INetworkMiddlewareService(networkMiddlewareService).setMiddleware(address(this));
    }

    // ---- Governance ----

    /// @inheritdoc INetworkMiddleware
    function registerVault(address vault) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (!VAULT_FACTORY.isEntity(vault) || !IVault(vault).isInitialized()) {
            revert MiddlewareNotVault(vault);
        }
        address slasher = IVault(vault).slasher();
        if (slasher == address(0)) revert MiddlewareUnsupportedSlasher(vault);
        uint64 slasherType = IEntity(slasher).TYPE();
        SlasherKind kind;
        uint48 required = SLASHING_WINDOW;
        if (slasherType == INSTANT_SLASHER_TYPE) {
            kind = SlasherKind.Instant;
        } else if (slasherType == VETO_SLASHER_TYPE) {
            kind = SlasherKind.Veto;
            required += IVetoSlasher(slasher).vetoDuration();
        } else {
            revert MiddlewareUnsupportedSlasher(vault);
        }
        uint48 epochDuration = IVault(vault).epochDuration();
        if (epochDuration < required) revert MiddlewareVaultEpochTooShort(vault, epochDuration, required);
        if (!_vaults.add(vault)) revert MiddlewareVaultAlreadyRegistered(vault);
        _kinds[vault] = kind;
        emit VaultRegistered(vault, kind);
    }

    /// @inheritdoc INetworkMiddleware
    function removeVault(address vault) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (!_vaults.remove(vault)) revert MiddlewareVaultNotRegistered(vault);
        emit VaultRemoved(vault);
    }

    /// @inheritdoc INetworkMiddleware
    function setMaxNetworkLimit(address vault, uint256 amount) external onlyRole(DEFAULT_ADMIN_ROLE) {
        IBaseDelegator(IVault(vault).delegator()).setMaxNetworkLimit(IDENTIFIER, amount);
    }

    /// @inheritdoc INetworkMiddleware
    function setResolver(address vault, address resolver) external onlyRole(DEFAULT_ADMIN_ROLE) {
        IVetoSlasher(IVault(vault).slasher()).setResolver(IDENTIFIER, resolver, "");
    }

    // ---- Slashing ----

    /// @inheritdoc INetworkMiddleware
    function slash(SlashResult calldata result, bytes calldata signature) external {
        _requireEnclaveSigner(ENCLAVE_FAMILY, hashSlashResult(result), signature);
        address vault = result.vault;
        if (!_vaults.contains(vault)) revert MiddlewareVaultNotRegistered(vault);
        if (result.amount == 0) revert MiddlewareZeroAmount();
        if (result.slashId == bytes32(0)) revert MiddlewareZeroSlashId();
        if (_processed[result.slashId][vault]) revert MiddlewareSlashAlreadyProcessed(result.slashId, vault);

        SlasherKind kind = _kinds[vault];
        address slasher = IVault(vault).slasher();
        uint48 capture = result.captureTimestamp;
        uint48 nowTs = uint48(block.timestamp);
        if (capture >= nowTs) revert MiddlewareCaptureNotInPast(capture);
        uint48 span = IVault(vault).epochDuration();
        if (kind == SlasherKind.Veto) {
            uint48 veto = IVetoSlasher(slasher).vetoDuration();
            // veto < epochDuration (Symbiotic invariant), so span > 0.
            span -= veto;
        }
        uint48 earliest = nowTs > span ? nowTs - span : 0;
        if (capture < earliest) revert MiddlewareCaptureOutsideWindow(capture, earliest);

        _processed[result.slashId][vault] = true;
        if (kind == SlasherKind.Instant) {
            uint256 slashed = ISlasher(slasher).slash(SUBNETWORK, result.operator, result.amount, capture, "");
            emit SlashExecuted(result.slashId, vault, result.operator, slashed, capture);
        } else {
            uint256 index =
                IVetoSlasher(slasher).requestSlash(SUBNETWORK, result.operator, result.amount, capture, "");
            _requests[vault][index] = result.slashId;
            emit SlashRequested(result.slashId, vault, result.operator, index, capture);
        }
    }

    /// @inheritdoc INetworkMiddleware
    function executeSlash(address vault, uint256 slashIndex, bytes calldata hints)
        external
        returns (uint256 slashedAmount)
    {
        bytes32 slashId = _requests[vault][slashIndex];
        if (slashId == bytes32(0)) revert MiddlewareUnknownSlashRequest(vault, slashIndex);
        slashedAmount = IVetoSlasher(IVault(vault).slasher()).executeSlash(slashIndex, hints);
        emit VetoSlashExecuted(slashId, vault, slashIndex, slashedAmount);
    }

    // ---- Views ----

    /// @inheritdoc INetworkMiddleware
    function stakeAt(address operator, uint48 captureTimestamp)
        external
        view
        returns (address[] memory vaults, address[] memory collaterals, uint256[] memory amounts)
    {
        if (captureTimestamp >= block.timestamp) revert MiddlewareCaptureNotInPast(captureTimestamp);
        vaults = _vaults.values();
        collaterals = new address[](vaults.length);
        amounts = new uint256[](vaults.length);
        for (uint256 i; i < vaults.length; ++i) {
            collaterals[i] = IVault(vaults[i]).collateral();
            amounts[i] = IBaseDelegator(IVault(vaults[i]).delegator())
                .stakeAt(SUBNETWORK, operator, captureTimestamp, "");
        }
    }

    /// @notice The EIP-712 struct hash of a slash result.
    /// @param result The slash result.
    /// @return The struct hash.
    function hashSlashResult(SlashResult calldata result) public pure returns (bytes32) {
        return keccak256(
            abi.encode(
                SLASH_RESULT_TYPEHASH,
                result.slashId,
                result.vault,
                result.operator,
                result.amount,
                result.captureTimestamp
            )
        );
    }

    /// @inheritdoc INetworkMiddleware
    function slashResultDigest(SlashResult calldata result) external view returns (bytes32) {
        return _hashTypedDataV4(hashSlashResult(result));
    }

    /// @inheritdoc INetworkMiddleware
    function timing() external view returns (RestakingTiming.Params memory) {
        return RestakingTiming.unpack(_TIMING);
    }

    /// @inheritdoc INetworkMiddleware
    function vaults() external view returns (address[] memory) {
        return _vaults.values();
    }

    /// @inheritdoc INetworkMiddleware
    function slasherKind(address vault) external view returns (SlasherKind) {
        if (!_vaults.contains(vault)) revert MiddlewareVaultNotRegistered(vault);
        return _kinds[vault];
    }

    /// @inheritdoc INetworkMiddleware
    function isProcessed(bytes32 slashId, address vault) external view returns (bool) {
        return _processed[slashId][vault];
    }
}
