// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {VmSafe} from "forge-std/Vm.sol";

import {IVault} from "@symbioticfi/core/src/interfaces/vault/IVault.sol";
import {
    INetworkRestakeDelegator
} from "@symbioticfi/core/src/interfaces/delegator/INetworkRestakeDelegator.sol";
import {IOptInService} from "@symbioticfi/core/src/interfaces/service/IOptInService.sol";
import {IOperatorRegistry} from "@symbioticfi/core/src/interfaces/IOperatorRegistry.sol";

import {IEnclaveRegistry} from "../src/interfaces/IEnclaveRegistry.sol";
import {NetworkMiddleware} from "../src/symbiotic/NetworkMiddleware.sol";
import {RestakingTiming} from "../src/symbiotic/RestakingTiming.sol";
import {TestToken} from "../test/marketplace/mocks/TestToken.sol";
import {SymbioticCoreDeployer} from "../test/symbiotic/utils/SymbioticCoreDeployer.sol";
import {SymbioticDevnetTiming} from "./SymbioticDevnetTiming.sol";

/// @title SymbioticDevnetL1
/// @notice Devnet only. On an L1 chain (e.g. an anvil started with `--chain-id 17000`): deploys the real Symbiotic
/// core 1.0.3 (factories, registries, opt-in services, vault configurator; npm sources compiled with solc 0.8.25),
/// a collateral token, two vaults with a NetworkRestakeDelegator (one VetoSlasher, one instant Slasher), and the
/// network's `NetworkMiddleware` registered as the Symbiotic network; registers both vaults, sets max network
/// limits and the veto resolver; as curator (the broadcaster) sets network limits and one share per operator;
/// registers each operator and opts it in to both vaults and the network. Writes `deployments/<DEPLOYMENT_FILE>`.
/// @dev Environment (the broadcaster is the network admin, the vaults' curator and the factories' owner):
///  - `ENCLAVE_REGISTRY` (required)   the L1 `EnclaveRegistry` (from `Deploy.s.sol`);
///  - `FAMILY` (required)             the bridge's enclave family name (its keys sign slash results);
///  - `OPERATOR_KEYS`                 comma-separated private keys of the operators (each sends its own
///                                    registration and opt-ins); default none;
///  - `RESOLVER`                      veto resolver of the veto vault (default: the broadcaster);
///  - `VAULT_EPOCH`                   vault epoch (s, default 7 days); `VETO_DURATION` (s, default 1 day);
///  - `EPOCH_DURATION`, `ACTIVATION_OFFSET`, `LOCK_ALLOWANCE`, `BRIDGING_ALLOWANCE`: the restaking timing, shared
///    with `SymbioticDevnetL2` (`SymbioticDevnetTiming`); the slashing window derives from it;
///  - `NETWORK_LIMIT`                 max network limit and network limit per vault (default 1e24);
///  - `DEPOSIT`                       collateral minted to the broadcaster and deposited in each vault (default 0);
///  - `DEPLOYMENT_FILE`               output file name under `deployments/` (default `symbiotic-l1-<chainid>.json`).
/// The collateral is the repository's open-mint `TestToken`: this script is for devnets, never for production.
contract SymbioticDevnetL1 is SymbioticCoreDeployer {
    /// @notice What the script deployed.
    struct L1Deployment {
        Core core;
        address collateral;
        address middleware;
        CoreVault vetoVault;
        CoreVault instantVault;
    }

    /// @dev Settings read from the environment.
    struct Settings {
        IEnclaveRegistry registry;
        bytes32 family;
        uint256[] operatorKeys;
        uint48 vaultEpoch;
        uint48 veto;
        RestakingTiming.Params timing;
        uint256 limit;
        uint256 deposit;
        address admin;
        address resolver;
    }

    /// @notice Deploys and configures; see the contract documentation for the environment.
    /// @return d The addresses.
    function run() external returns (L1Deployment memory d) {
        Settings memory s;
        s.registry = IEnclaveRegistry(vm.envAddress("ENCLAVE_REGISTRY"));
        s.family = keccak256(bytes(vm.envString("FAMILY")));
        s.operatorKeys = vm.envOr("OPERATOR_KEYS", ",", new uint256[](0));
        s.vaultEpoch = uint48(vm.envOr("VAULT_EPOCH", uint256(7 days)));
        s.veto = uint48(vm.envOr("VETO_DURATION", uint256(1 days)));
        s.timing = SymbioticDevnetTiming.fromEnv();
        s.limit = vm.envOr("NETWORK_LIMIT", uint256(1e24));
        s.deposit = vm.envOr("DEPOSIT", uint256(0));
        uint256 startBlock = block.number;

        vm.startBroadcast();
        (, s.admin,) = vm.readCallers();
        s.resolver = vm.envOr("RESOLVER", s.admin);
        d = _deploy(s);
        _configure(s, d);
        vm.stopBroadcast();

        for (uint256 j; j < s.operatorKeys.length; ++j) {
            vm.startBroadcast(s.operatorKeys[j]);
            IOperatorRegistry(d.core.operatorRegistry).registerOperator();
            IOptInService(d.core.operatorVaultOptInService).optIn(d.vetoVault.vault);
            IOptInService(d.core.operatorVaultOptInService).optIn(d.instantVault.vault);
            IOptInService(d.core.operatorNetworkOptInService).optIn(d.middleware);
            vm.stopBroadcast();
        }

        if (
            vm.isContext(VmSafe.ForgeContext.ScriptBroadcast)
                || vm.isContext(VmSafe.ForgeContext.ScriptResume)
        ) {
            _write(d, address(s.registry), s.admin, s.resolver, startBlock);
        }
    }

    function _deploy(Settings memory s) internal returns (L1Deployment memory d) {
        d.core = deploySymbioticCore(s.admin);
        d.collateral = address(new TestToken("Network token", "NET"));
        d.middleware = address(
            new NetworkMiddleware(
                s.registry,
                s.family,
                s.admin,
                0,
                s.timing,
                d.core.vaultFactory,
                d.core.networkRegistry,
                d.core.networkMiddlewareService
            )
        );
        d.vetoVault = createVault(d.core, d.collateral, address(0xdead), s.admin, s.vaultEpoch, true, s.veto);
        d.instantVault = createVault(d.core, d.collateral, address(0xdead), s.admin, s.vaultEpoch, false, 0);
    }

    function _configure(Settings memory s, L1Deployment memory d) internal {
        NetworkMiddleware middleware = NetworkMiddleware(d.middleware);
        bytes32 subnetwork = middleware.SUBNETWORK();
        CoreVault[2] memory vaults = [d.vetoVault, d.instantVault];
        for (uint256 i; i < vaults.length; ++i) {
            middleware.registerVault(vaults[i].vault);
            middleware.setMaxNetworkLimit(vaults[i].vault, s.limit);
            INetworkRestakeDelegator(vaults[i].delegator).setNetworkLimit(subnetwork, s.limit);
            for (uint256 j; j < s.operatorKeys.length; ++j) {
                INetworkRestakeDelegator(vaults[i].delegator)
                    .setOperatorNetworkShares(subnetwork, vm.addr(s.operatorKeys[j]), 1);
            }
            if (s.deposit != 0) {
                TestToken(d.collateral).mint(s.admin, s.deposit);
                TestToken(d.collateral).approve(vaults[i].vault, s.deposit);
                IVault(vaults[i].vault).deposit(s.admin, s.deposit);
            }
        }
        middleware.setResolver(d.vetoVault.vault, s.resolver);
    }

    function _write(L1Deployment memory d, address registry, address admin, address resolver, uint256 start)
        internal
    {
        string memory k = "l1";
        vm.serializeUint(k, "chainId", block.chainid);
        vm.serializeUint(k, "startBlock", start);
        vm.serializeAddress(k, "enclaveRegistry", registry);
        vm.serializeAddress(k, "admin", admin);
        vm.serializeAddress(k, "resolver", resolver);
        vm.serializeAddress(k, "vaultFactory", d.core.vaultFactory);
        vm.serializeAddress(k, "delegatorFactory", d.core.delegatorFactory);
        vm.serializeAddress(k, "slasherFactory", d.core.slasherFactory);
        vm.serializeAddress(k, "networkRegistry", d.core.networkRegistry);
        vm.serializeAddress(k, "operatorRegistry", d.core.operatorRegistry);
        vm.serializeAddress(k, "networkMiddlewareService", d.core.networkMiddlewareService);
        vm.serializeAddress(k, "operatorVaultOptInService", d.core.operatorVaultOptInService);
        vm.serializeAddress(k, "operatorNetworkOptInService", d.core.operatorNetworkOptInService);
        vm.serializeAddress(k, "vaultConfigurator", d.core.vaultConfigurator);
        vm.serializeAddress(k, "collateral", d.collateral);
        vm.serializeAddress(k, "vetoVault", d.vetoVault.vault);
        vm.serializeAddress(k, "vetoSlasher", d.vetoVault.slasher);
        vm.serializeAddress(k, "vetoDelegator", d.vetoVault.delegator);
        vm.serializeAddress(k, "instantVault", d.instantVault.vault);
        vm.serializeAddress(k, "instantSlasher", d.instantVault.slasher);
        vm.serializeAddress(k, "instantDelegator", d.instantVault.delegator);
        string memory json = vm.serializeAddress(k, "middleware", d.middleware);
        string memory name =
            vm.envOr("DEPLOYMENT_FILE", string.concat("symbiotic-l1-", vm.toString(block.chainid), ".json"));
        string memory dir = string.concat(vm.projectRoot(), "/deployments");
        vm.createDir(dir, true);
        vm.writeJson(json, string.concat(dir, "/", name));
    }
}
