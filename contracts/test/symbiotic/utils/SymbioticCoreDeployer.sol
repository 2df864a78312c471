// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {Test} from "forge-std/Test.sol";

import "./SymbioticCoreArtifacts.sol";
import {IFactory} from "@symbioticfi/core/src/interfaces/common/IFactory.sol";
import {IMigratablesFactory} from "@symbioticfi/core/src/interfaces/common/IMigratablesFactory.sol";
import {IVaultConfigurator} from "@symbioticfi/core/src/interfaces/IVaultConfigurator.sol";
import {IVault} from "@symbioticfi/core/src/interfaces/vault/IVault.sol";
import {
    INetworkRestakeDelegator
} from "@symbioticfi/core/src/interfaces/delegator/INetworkRestakeDelegator.sol";
import {IBaseSlasher} from "@symbioticfi/core/src/interfaces/slasher/IBaseSlasher.sol";
import {ISlasher} from "@symbioticfi/core/src/interfaces/slasher/ISlasher.sol";
import {IVetoSlasher} from "@symbioticfi/core/src/interfaces/slasher/IVetoSlasher.sol";

/// @notice Deploys the real Symbiotic core 1.0.3 (npm sources compiled by forge with the pinned solc 0.8.25, no
/// via-IR), wired as upstream's `SymbioticCoreInitBase` wires it, and creates vaults through the real
/// `VaultConfigurator`.
/// @dev Contracts come from their artifacts (`deployCode`), so test contracts do not embed the core's creation
/// code. `SymbioticCoreArtifacts.sol` makes forge compile the sources.
abstract contract SymbioticCoreDeployer is Test {
    /// @dev Delegator and slasher type indices, in the order upstream whitelists them.
    uint64 internal constant NETWORK_RESTAKE_DELEGATOR = 0;
    uint64 internal constant INSTANT_SLASHER = 0;
    uint64 internal constant VETO_SLASHER = 1;

    struct Core {
        address vaultFactory;
        address delegatorFactory;
        address slasherFactory;
        address networkRegistry;
        address operatorRegistry;
        address networkMiddlewareService;
        address operatorVaultOptInService;
        address operatorNetworkOptInService;
        address vaultConfigurator;
    }

    /// @dev A vault created by the configurator.
    struct CoreVault {
        address vault;
        address delegator;
        address slasher;
    }

    function _deploy(string memory artifact, bytes memory args) private returns (address) {
        return deployCode(artifact, args);
    }

    /// @dev Deploys factories, registries, services and the implementations, whitelisted; `this` owns the
    /// factories.
    function deploySymbioticCore() internal returns (Core memory c) {
        return deploySymbioticCore(address(this));
    }

    /// @dev As `deploySymbioticCore()`, with `factoryOwner` owning the factories. A script broadcasting from an
    /// account passes that account: it sends the whitelisting calls.
    function deploySymbioticCore(address factoryOwner) internal returns (Core memory c) {
        bytes memory owner = abi.encode(factoryOwner);
        c.vaultFactory = _deploy("VaultFactory.sol:VaultFactory", owner);
        c.delegatorFactory = _deploy("DelegatorFactory.sol:DelegatorFactory", owner);
        c.slasherFactory = _deploy("SlasherFactory.sol:SlasherFactory", owner);
        c.networkRegistry = _deploy("NetworkRegistry.sol:NetworkRegistry", "");
        c.operatorRegistry = _deploy("OperatorRegistry.sol:OperatorRegistry", "");
        c.networkMiddlewareService =
            _deploy("NetworkMiddlewareService.sol:NetworkMiddlewareService", abi.encode(c.networkRegistry));
        c.operatorVaultOptInService = _deploy(
            "OptInService.sol:OptInService",
            abi.encode(c.operatorRegistry, c.vaultFactory, "OperatorVaultOptInService")
        );
        c.operatorNetworkOptInService = _deploy(
            "OptInService.sol:OptInService",
            abi.encode(c.operatorRegistry, c.networkRegistry, "OperatorNetworkOptInService")
        );
        c.vaultConfigurator = _deploy(
            "VaultConfigurator.sol:VaultConfigurator",
            abi.encode(c.vaultFactory, c.delegatorFactory, c.slasherFactory)
        );

        IMigratablesFactory(c.vaultFactory)
            .whitelist(
                _deploy("Vault.sol:Vault", abi.encode(c.delegatorFactory, c.slasherFactory, c.vaultFactory))
            );
        // Delegator type 0: NetworkRestakeDelegator (the only one these tests use).
        IFactory(c.delegatorFactory)
            .whitelist(
                _deploy(
                    "NetworkRestakeDelegator.sol:NetworkRestakeDelegator",
                    abi.encode(
                        c.networkRegistry,
                        c.vaultFactory,
                        c.operatorVaultOptInService,
                        c.operatorNetworkOptInService,
                        c.delegatorFactory,
                        uint256(0)
                    )
                )
            );
        IFactory(c.slasherFactory)
            .whitelist(
                _deploy(
                    "Slasher.sol:Slasher",
                    abi.encode(c.vaultFactory, c.networkMiddlewareService, c.slasherFactory, uint256(0))
                )
            );
        IFactory(c.slasherFactory)
            .whitelist(
                _deploy(
                    "VetoSlasher.sol:VetoSlasher",
                    abi.encode(
                        c.vaultFactory,
                        c.networkMiddlewareService,
                        c.networkRegistry,
                        c.slasherFactory,
                        uint256(1)
                    )
                )
            );
    }

    /// @dev A version-1 Vault with a NetworkRestakeDelegator and a Slasher (vetoDuration 0) or VetoSlasher
    /// (resolverSetEpochsDelay 3); `curator` holds every role.
    function createVault(
        Core memory c,
        address collateral,
        address burner,
        address curator,
        uint48 epochDuration,
        bool veto,
        uint48 vetoDuration
    ) internal returns (CoreVault memory v) {
        IVaultConfigurator.InitParams memory p;
        p.version = 1;
        p.owner = curator;
        p.vaultParams = _vaultParams(collateral, burner, curator, epochDuration);
        p.delegatorIndex = NETWORK_RESTAKE_DELEGATOR;
        p.delegatorParams = _delegatorParams(curator);
        p.withSlasher = true;
        p.slasherIndex = veto ? VETO_SLASHER : INSTANT_SLASHER;
        p.slasherParams = _slasherParams(veto, vetoDuration);
        (v.vault, v.delegator, v.slasher) = IVaultConfigurator(c.vaultConfigurator).create(p);
    }

    function _vaultParams(address collateral, address burner, address curator, uint48 epochDuration)
        private
        pure
        returns (bytes memory)
    {
        IVault.InitParams memory p;
        p.collateral = collateral;
        p.burner = burner;
        p.epochDuration = epochDuration;
        p.defaultAdminRoleHolder = curator;
        p.depositWhitelistSetRoleHolder = curator;
        p.depositorWhitelistRoleHolder = curator;
        p.isDepositLimitSetRoleHolder = curator;
        p.depositLimitSetRoleHolder = curator;
        return abi.encode(p);
    }

    function _delegatorParams(address curator) private pure returns (bytes memory) {
        address[] memory holders = new address[](1);
        holders[0] = curator;
        INetworkRestakeDelegator.InitParams memory p;
        p.baseParams.defaultAdminRoleHolder = curator;
        p.baseParams.hookSetRoleHolder = curator;
        p.networkLimitSetRoleHolders = holders;
        p.operatorNetworkSharesSetRoleHolders = holders;
        return abi.encode(p);
    }

    function _slasherParams(bool veto, uint48 vetoDuration) private pure returns (bytes memory) {
        if (!veto) {
            return
                abi.encode(ISlasher.InitParams({baseParams: IBaseSlasher.BaseParams({isBurnerHook: false})}));
        }
        return abi.encode(
            IVetoSlasher.InitParams({
                baseParams: IBaseSlasher.BaseParams({isBurnerHook: false}),
                vetoDuration: vetoDuration,
                resolverSetEpochsDelay: 3
            })
        );
    }
}
