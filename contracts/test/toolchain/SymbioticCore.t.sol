// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {Test} from "forge-std/Test.sol";

import {NetworkRegistry} from "@symbioticfi/core/src/contracts/NetworkRegistry.sol";
import {OperatorRegistry} from "@symbioticfi/core/src/contracts/OperatorRegistry.sol";
import {VaultFactory} from "@symbioticfi/core/src/contracts/VaultFactory.sol";
import {NetworkMiddlewareService} from "@symbioticfi/core/src/contracts/service/NetworkMiddlewareService.sol";
import {
    INetworkMiddlewareService
} from "@symbioticfi/core/src/interfaces/service/INetworkMiddlewareService.sol";
import {IOperatorRegistry} from "@symbioticfi/core/src/interfaces/IOperatorRegistry.sol";

/// @notice Proves the contracts toolchain end to end: the real Symbiotic core 1.0.3 sources from
/// npm compile with the pinned solc through the shim, deploy, and behave as Symbiotic documents.
contract SymbioticCoreToolchainTest is Test {
    NetworkRegistry internal networkRegistry;
    OperatorRegistry internal operatorRegistry;
    VaultFactory internal vaultFactory;
    NetworkMiddlewareService internal middlewareService;

    address internal network = makeAddr("network");
    address internal middleware = makeAddr("middleware");
    address internal operator = makeAddr("operator");

    function setUp() public {
        networkRegistry = new NetworkRegistry();
        operatorRegistry = new OperatorRegistry();
        vaultFactory = new VaultFactory(address(this));
        middlewareService = new NetworkMiddlewareService(address(networkRegistry));
    }

    function test_NetworkRegistersAndSetsMiddleware() public {
        vm.prank(network);
        networkRegistry.registerNetwork();
        assertTrue(networkRegistry.isEntity(network));
        assertEq(networkRegistry.totalEntities(), 1);

        vm.prank(network);
        middlewareService.setMiddleware(middleware);
        assertEq(middlewareService.middleware(network), middleware);
    }

    function test_RevertWhen_UnregisteredNetworkSetsMiddleware() public {
        vm.prank(network);
        vm.expectRevert(INetworkMiddlewareService.NotNetwork.selector);
        middlewareService.setMiddleware(middleware);
    }

    function test_RevertWhen_OperatorRegistersTwice() public {
        vm.startPrank(operator);
        operatorRegistry.registerOperator();
        vm.expectRevert(IOperatorRegistry.OperatorAlreadyRegistered.selector);
        operatorRegistry.registerOperator();
        vm.stopPrank();
    }

    function test_VaultFactoryIsOwnedAndEmpty() public view {
        assertEq(vaultFactory.owner(), address(this));
        assertEq(vaultFactory.lastVersion(), 0);
        assertEq(vaultFactory.totalEntities(), 0);
    }
}
