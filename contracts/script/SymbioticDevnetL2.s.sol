// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {Script} from "forge-std/Script.sol";
import {VmSafe} from "forge-std/Vm.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {IEnclaveRegistry} from "../src/interfaces/IEnclaveRegistry.sol";
import {NativeStaking} from "../src/marketplace/NativeStaking.sol";
import {ProofMarketplace} from "../src/marketplace/ProofMarketplace.sol";
import {RestakingTiming} from "../src/symbiotic/RestakingTiming.sol";
import {SymbioticStakingModule} from "../src/symbiotic/SymbioticStakingModule.sol";
import {TestToken} from "../test/marketplace/mocks/TestToken.sol";
import {SymbioticDevnetTiming} from "./SymbioticDevnetTiming.sol";

/// @title SymbioticDevnetL2
/// @notice Devnet only. On the marketplace chain (e.g. an anvil with `--chain-id 31337`): deploys the
/// `SymbioticStakingModule` (no native staking beside it), sets collateral weights, and binds a marketplace: the
/// address in `MARKETPLACE`, or else a new `ProofMarketplace` paid in a new open-mint `TestToken`. Writes
/// `deployments/<DEPLOYMENT_FILE>`.
/// @dev Environment (the broadcaster is the module's admin and governance):
///  - `ENCLAVE_REGISTRY` (required)   the L2 `EnclaveRegistry` (from `Deploy.s.sol`);
///  - `FAMILY` (required)             the bridge's enclave family name (its keys sign stake snapshots);
///  - `ENGINE_FAMILY`                 the matching engine's family for a new marketplace (default `FAMILY`: the
///                                    bridge job runs in the engine image);
///  - `GENESIS`                       start of epoch 0 (s, default the current block's timestamp);
///  - `EPOCH_DURATION`, `ACTIVATION_OFFSET`, `LOCK_ALLOWANCE`, `BRIDGING_ALLOWANCE`: the restaking timing, shared
///    with `SymbioticDevnetL1` (`SymbioticDevnetTiming`; defaults 1 day, 1 hour, 1 day, 1 day);
///  - `COLLATERALS`, `WEIGHTS`        comma-separated L1 collateral addresses and their weights (1e18 = one
///                                    collateral unit per stake unit); default none;
///  - `MARKETPLACE`                   bind this address instead of deploying a `ProofMarketplace`;
///  - `DEPLOYMENT_FILE`               output file name under `deployments/` (default `symbiotic-l2-<chainid>.json`).
contract SymbioticDevnetL2 is Script {
    /// @notice Thrown when `COLLATERALS` and `WEIGHTS` differ in length.
    error DevnetWeightCountMismatch(uint256 collaterals, uint256 weights);

    /// @dev Settings read from the environment.
    struct Settings {
        IEnclaveRegistry registry;
        bytes32 family;
        bytes32 engineFamily;
        uint48 genesis;
        RestakingTiming.Params timing;
        address[] collaterals;
        uint256[] weights;
        address admin;
    }

    /// @notice Deploys and configures; see the contract documentation for the environment.
    /// @return module The staking module.
    /// @return marketplace The bound marketplace.
    function run() external returns (SymbioticStakingModule module, address marketplace) {
        Settings memory s;
        s.registry = IEnclaveRegistry(vm.envAddress("ENCLAVE_REGISTRY"));
        string memory familyName = vm.envString("FAMILY");
        s.family = keccak256(bytes(familyName));
        s.engineFamily = keccak256(bytes(vm.envOr("ENGINE_FAMILY", familyName)));
        s.genesis = uint48(vm.envOr("GENESIS", block.timestamp));
        s.timing = SymbioticDevnetTiming.fromEnv();
        s.collaterals = vm.envOr("COLLATERALS", ",", new address[](0));
        s.weights = vm.envOr("WEIGHTS", ",", new uint256[](0));
        if (s.collaterals.length != s.weights.length) {
            revert DevnetWeightCountMismatch(s.collaterals.length, s.weights.length);
        }
        marketplace = vm.envOr("MARKETPLACE", address(0));
        uint256 startBlock = block.number;

        vm.startBroadcast();
        (, s.admin,) = vm.readCallers();
        module = new SymbioticStakingModule(
            s.registry, s.family, s.admin, s.genesis, s.timing, NativeStaking(address(0))
        );
        for (uint256 i; i < s.collaterals.length; ++i) {
            module.setCollateralWeight(s.collaterals[i], s.weights[i]);
        }
        address paymentToken;
        if (marketplace == address(0)) {
            paymentToken = address(new TestToken("Payment token", "PAY"));
            marketplace = _marketplace(s, paymentToken, module);
        }
        module.bindMarketplace(marketplace);
        vm.stopBroadcast();

        if (
            vm.isContext(VmSafe.ForgeContext.ScriptBroadcast)
                || vm.isContext(VmSafe.ForgeContext.ScriptResume)
        ) {
            _write(s, startBlock, paymentToken, marketplace, address(module));
        }
    }

    function _marketplace(Settings memory s, address paymentToken, SymbioticStakingModule module)
        internal
        returns (address)
    {
        return address(new ProofMarketplace(s.registry, s.engineFamily, IERC20(paymentToken), module));
    }

    function _write(
        Settings memory s,
        uint256 startBlock,
        address paymentToken,
        address marketplace,
        address module
    ) internal {
        string memory k = "l2";
        vm.serializeUint(k, "chainId", block.chainid);
        vm.serializeUint(k, "startBlock", startBlock);
        vm.serializeAddress(k, "enclaveRegistry", address(s.registry));
        vm.serializeAddress(k, "admin", s.admin);
        vm.serializeUint(k, "genesis", s.genesis);
        vm.serializeUint(k, "epochDuration", s.timing.epochDuration);
        vm.serializeUint(k, "activationOffset", s.timing.activationOffset);
        vm.serializeUint(k, "lockAllowance", s.timing.lockAllowance);
        vm.serializeUint(k, "bridgingAllowance", s.timing.bridgingAllowance);
        vm.serializeAddress(k, "paymentToken", paymentToken);
        vm.serializeAddress(k, "marketplace", marketplace);
        string memory json = vm.serializeAddress(k, "stakingModule", module);
        string memory name =
            vm.envOr("DEPLOYMENT_FILE", string.concat("symbiotic-l2-", vm.toString(block.chainid), ".json"));
        string memory dir = string.concat(vm.projectRoot(), "/deployments");
        vm.createDir(dir, true);
        vm.writeJson(json, string.concat(dir, "/", name));
    }
}
