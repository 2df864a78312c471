// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {IVault} from "@symbioticfi/core/src/interfaces/vault/IVault.sol";
import {
    INetworkRestakeDelegator
} from "@symbioticfi/core/src/interfaces/delegator/INetworkRestakeDelegator.sol";
import {IOptInService} from "@symbioticfi/core/src/interfaces/service/IOptInService.sol";
import {IOperatorRegistry} from "@symbioticfi/core/src/interfaces/IOperatorRegistry.sol";

import {INetworkMiddleware} from "../../src/symbiotic/INetworkMiddleware.sol";
import {RestakingTiming} from "../../src/symbiotic/RestakingTiming.sol";
import {Vm} from "forge-std/Vm.sol";

import {EnclaveRegistry} from "../../src/EnclaveRegistry.sol";
import {TestOnlyAttestationVerifier} from "../mocks/TestOnlyAttestationVerifier.sol";
import {Fixtures} from "../utils/Fixtures.sol";
import {TestToken} from "../marketplace/mocks/TestToken.sol";
import {SymbioticCoreDeployer} from "./utils/SymbioticCoreDeployer.sol";

/// @notice L1 fixture: the real Symbiotic core, the network middleware registered as the network, two vaults (one
/// VetoSlasher, one instant Slasher, both with a NetworkRestakeDelegator, 7-day epochs), an operator opted in to
/// both and to the network, stake deposited, and a live bridge enclave key in the `EnclaveRegistry`.
/// @dev Kept apart from `Base_Test` (whose `module` and helpers are not needed here); the few enclave helpers
/// used are restated.
abstract contract SymbioticBase_Test is Fixtures, SymbioticCoreDeployer {
    /// @dev 2026-05-01T00:00:00Z, in seconds.
    uint256 internal constant START = 1_777_593_600;
    uint48 internal constant VAULT_EPOCH = 7 days;
    uint48 internal constant VETO = 1 days;
    /// @dev Restaking timing shared by both chains' contracts: 1-day marketplace epochs, 10-minute activation
    /// offset, locks up to 12 hours past the handover, 12 hours (less the offset) to bridge: a 2-day window.
    uint48 internal constant L2_EPOCH = 1 days;
    uint48 internal constant OFFSET = 10 minutes;
    uint48 internal constant LOCK_ALLOWANCE = 12 hours;
    uint48 internal constant BRIDGING = 12 hours - 10 minutes;
    uint48 internal constant SLASHING_WINDOW = 2 days;
    uint256 internal constant DEPOSIT = 1000e18;
    uint256 internal constant LIMIT = 10_000e18;

    address internal networkAdmin = makeAddr("networkAdmin");
    address internal curator = makeAddr("curator");
    address internal operator = makeAddr("operator");
    address internal staker = makeAddr("staker");
    address internal resolver = makeAddr("resolver");
    address internal registryAdmin = makeAddr("registryAdmin");
    address internal registrar = makeAddr("registrar");
    address internal revoker = makeAddr("revoker");
    address internal stranger = makeAddr("stranger");
    address internal burner = makeAddr("burner");

    Core internal core;
    TestToken internal collateral;
    INetworkMiddleware internal middleware;
    CoreVault internal vetoVault;
    CoreVault internal instantVault;
    Enclave internal bridge;
    EnclaveRegistry internal registry;

    /// @dev An enclave: its signing wallet and the 65-byte public key it would put in `public_key`.
    struct Enclave {
        uint256 privateKey;
        address addr;
        bytes publicKey;
    }

    function setUp() public virtual {
        vm.warp(START);
        registry = new EnclaveRegistry(registryAdmin, 2 days);
        TestOnlyAttestationVerifier verifier = new TestOnlyAttestationVerifier();
        vm.startPrank(registryAdmin);
        registry.grantRole(registry.REGISTRAR_ROLE(), registrar);
        registry.grantRole(registry.REVOKER_ROLE(), revoker);
        registry.configureFamily(FAMILY, verifier, 300, 7 days);
        vm.stopPrank();
        vm.prank(registrar);
        registry.registerImage(FAMILY, imagePcrs(1), metadata("1.0.0"));
        bridge = enclave("bridge");
        registerKey(FAMILY, 1, bridge);

        core = deploySymbioticCore();
        collateral = new TestToken("Network token", "NET");
        // Deployed from its artifact and used through its interface: the tests see only the external API.
        middleware = INetworkMiddleware(
            deployCode(
                "NetworkMiddleware.sol:NetworkMiddleware",
                abi.encode(
                    registry,
                    FAMILY,
                    networkAdmin,
                    0,
                    timing(),
                    core.vaultFactory,
                    core.networkRegistry,
                    core.networkMiddlewareService
                )
            )
        );
        vetoVault = createVault(core, address(collateral), burner, curator, VAULT_EPOCH, true, VETO);
        instantVault = createVault(core, address(collateral), burner, curator, VAULT_EPOCH, false, 0);

        vm.startPrank(networkAdmin);
        middleware.registerVault(vetoVault.vault);
        middleware.registerVault(instantVault.vault);
        middleware.setMaxNetworkLimit(vetoVault.vault, LIMIT);
        middleware.setMaxNetworkLimit(instantVault.vault, LIMIT);
        middleware.setResolver(vetoVault.vault, resolver);
        vm.stopPrank();

        bytes32 subnetwork = middleware.SUBNETWORK();
        vm.startPrank(curator);
        INetworkRestakeDelegator(vetoVault.delegator).setNetworkLimit(subnetwork, LIMIT);
        INetworkRestakeDelegator(vetoVault.delegator).setOperatorNetworkShares(subnetwork, operator, 1);
        INetworkRestakeDelegator(instantVault.delegator).setNetworkLimit(subnetwork, LIMIT);
        INetworkRestakeDelegator(instantVault.delegator).setOperatorNetworkShares(subnetwork, operator, 1);
        vm.stopPrank();

        vm.startPrank(operator);
        IOperatorRegistry(core.operatorRegistry).registerOperator();
        IOptInService(core.operatorVaultOptInService).optIn(vetoVault.vault);
        IOptInService(core.operatorVaultOptInService).optIn(instantVault.vault);
        IOptInService(core.operatorNetworkOptInService).optIn(address(middleware));
        vm.stopPrank();

        deposit(vetoVault.vault, DEPOSIT);
        deposit(instantVault.vault, DEPOSIT);
        vm.warp(block.timestamp + 1 hours);
    }

    function timing() internal pure returns (RestakingTiming.Params memory) {
        return RestakingTiming.Params(L2_EPOCH, OFFSET, LOCK_ALLOWANCE, BRIDGING);
    }

    function enclave(string memory name) internal returns (Enclave memory e) {
        Vm.Wallet memory w = vm.createWallet(name);
        e.privateKey = w.privateKey;
        e.addr = w.addr;
        e.publicKey = abi.encodePacked(bytes1(0x04), bytes32(w.publicKeyX), bytes32(w.publicKeyY));
    }

    /// @dev Registers `e` as a key of image version `v` in `family` (test-only verifier: fields as given).
    function registerKey(bytes32 family, uint256 v, Enclave memory e) internal {
        registry.registerEnclaveKey(
            family, encode(fields(imagePcrs(v), e.publicKey, uint64(block.timestamp * 1000))), 0, 0
        );
    }

    function deposit(address vault, uint256 amount) internal {
        collateral.mint(staker, amount);
        vm.startPrank(staker);
        collateral.approve(vault, amount);
        IVault(vault).deposit(staker, amount);
        vm.stopPrank();
    }

    function slashResult(bytes32 slashId, address vault, uint256 amount, uint48 capture)
        internal
        view
        returns (INetworkMiddleware.SlashResult memory)
    {
        return INetworkMiddleware.SlashResult({
            slashId: slashId, vault: vault, operator: operator, amount: amount, captureTimestamp: capture
        });
    }

    function signSlash(Enclave memory e, INetworkMiddleware.SlashResult memory r)
        internal
        view
        returns (bytes memory)
    {
        (uint8 v, bytes32 rr, bytes32 s) = vm.sign(e.privateKey, middleware.slashResultDigest(r));
        return abi.encodePacked(rr, s, v);
    }
}
