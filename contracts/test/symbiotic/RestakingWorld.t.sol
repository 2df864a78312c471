// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {Vm} from "forge-std/Vm.sol";
import {IVault} from "@symbioticfi/core/src/interfaces/vault/IVault.sol";

import {NativeStaking} from "../../src/marketplace/NativeStaking.sol";
import {ISymbioticStakingModule} from "../../src/symbiotic/ISymbioticStakingModule.sol";
import {SymbioticStakingModule} from "../../src/symbiotic/SymbioticStakingModule.sol";
import {SymbioticBase_Test} from "./SymbioticBase.t.sol";
import {RestakingBridge} from "./utils/RestakingBridge.sol";

/// @notice The L2 staking module and the L1 middleware over the real Symbiotic core 1.0.3, on one chain and one
/// clock, with the bridge's duties done by `RestakingBridge`; this test contract is the module's marketplace.
abstract contract RestakingWorld_Test is SymbioticBase_Test {
    uint256 internal constant MARKET = 1;

    SymbioticStakingModule internal module;
    RestakingBridge internal carrier;
    uint48 internal genesis;

    function setUp() public virtual override {
        super.setUp();
        genesis = uint48(block.timestamp);
        module = new SymbioticStakingModule(
            registry, FAMILY, networkAdmin, genesis, timing(), NativeStaking(address(0))
        );
        module.bindMarketplace(marketplaceAccount());
        vm.prank(networkAdmin);
        module.setCollateralWeight(address(collateral), 1e18);
        carrier = new RestakingBridge(middleware, module, bridge.privateKey);
    }

    /// @dev The account bound as the module's marketplace (this test by default).
    function marketplaceAccount() internal virtual returns (address) {
        return address(this);
    }

    /// @notice Registers a fresh bridge key (the registry expires keys) and hands it to the carrier.
    function rotateBridgeKey() external {
        Enclave memory fresh = enclave(string(abi.encode("bridge", block.timestamp)));
        registerKey(FAMILY, 1, fresh);
        carrier.setKey(fresh.privateKey);
    }

    /// @dev Epoch `epoch`'s snapshot, captured a minute into the epoch and submitted right after.
    function snapshotAt(uint64 epoch) internal returns (uint48 capture) {
        capture = uint48(genesis + epoch * L2_EPOCH + 1 minutes);
        if (block.timestamp <= capture) vm.warp(capture + 1);
        address[] memory operators = new address[](1);
        operators[0] = operator;
        carrier.submitSnapshot(epoch, capture, operators);
    }

    /// @dev Slashes a lock as the marketplace does after its deadline, and carries the records to L1 at once.
    function slashAndCarry(uint256 amount, uint256 deadline)
        internal
        returns (RestakingBridge.Carried memory)
    {
        vm.recordLogs();
        module.slash(operator, MARKET, amount, deadline, address(0xbeef));
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i; i < logs.length; ++i) {
            assertTrue(
                logs[i].topics[0] != ISymbioticStakingModule.SlashUnbacked.selector, "slash written off"
            );
        }
        return carrier.carry(logs);
    }

    /// @dev The staker withdraws `amount` from both vaults (the operator's stake falls from the next capture on).
    function withdrawFromVaults(uint256 amount) internal {
        vm.startPrank(staker);
        IVault(vetoVault.vault).withdraw(staker, amount);
        IVault(instantVault.vault).withdraw(staker, amount);
        vm.stopPrank();
    }
}
