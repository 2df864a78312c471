// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {INetworkMiddleware} from "../../src/symbiotic/INetworkMiddleware.sol";
import {SymbioticBase_Test} from "./SymbioticBase.t.sol";

/// @dev The few Symbiotic core functions these tests call.
interface ICoreViews {
    function activeStake() external view returns (uint256);
    function delegator() external view returns (address);
    function isEntity(address entity) external view returns (bool);
    function middleware(address network) external view returns (address);
    function maxNetworkLimit(bytes32 subnetwork) external view returns (uint256);
    function stakeAt(bytes32 subnetwork, address operator, uint48 timestamp, bytes memory hints)
        external
        view
        returns (uint256);
    function resolverAt(bytes32 subnetwork, uint48 timestamp, bytes memory hint)
        external
        view
        returns (address);
    function vetoSlash(uint256 slashIndex, bytes calldata hints) external;
}

/// @notice `NetworkMiddleware` against the real Symbiotic core 1.0.3.
contract NetworkMiddleware_Test is SymbioticBase_Test {
    bytes32 internal constant SLASH_ID = keccak256("slash-1");
    /// @dev `IEnclaveAuth.EnclaveAuthKeyNotLive`.
    bytes4 internal constant KEY_NOT_LIVE = bytes4(keccak256("EnclaveAuthKeyNotLive(address,bytes32)"));

    // ---- Network and stake ----

    function test_RegistersItselfAsNetworkAndMiddleware() public view {
        assertTrue(ICoreViews(core.networkRegistry).isEntity(address(middleware)));
        assertEq(
            ICoreViews(core.networkMiddlewareService).middleware(address(middleware)), address(middleware)
        );
        assertEq(middleware.SUBNETWORK(), bytes32(uint256(uint160(address(middleware))) << 96));
        assertEq(ICoreViews(vetoVault.delegator).maxNetworkLimit(middleware.SUBNETWORK()), LIMIT);
        assertEq(
            ICoreViews(vetoVault.slasher).resolverAt(middleware.SUBNETWORK(), uint48(block.timestamp), ""),
            resolver
        );
        assertEq(uint8(middleware.slasherKind(vetoVault.vault)), uint8(INetworkMiddleware.SlasherKind.Veto));
        assertEq(
            uint8(middleware.slasherKind(instantVault.vault)), uint8(INetworkMiddleware.SlasherKind.Instant)
        );
    }

    function test_StakeAt_ReadsEachDelegatorAtTheCaptureTime() public {
        uint48 capture = uint48(block.timestamp - 1);
        // A deposit after the capture does not count at the capture time.
        deposit(vetoVault.vault, 500e18);
        vm.warp(block.timestamp + 1);
        (address[] memory vaults, address[] memory collaterals, uint256[] memory amounts) =
            middleware.stakeAt(operator, capture);
        assertEq(vaults.length, 2);
        for (uint256 i; i < 2; ++i) {
            assertEq(collaterals[i], address(collateral));
            assertEq(amounts[i], DEPOSIT);
            assertEq(
                amounts[i],
                ICoreViews(ICoreViews(vaults[i]).delegator())
                    .stakeAt(middleware.SUBNETWORK(), operator, capture, "")
            );
        }
        (,, amounts) = middleware.stakeAt(operator, uint48(block.timestamp - 1));
        assertEq(amounts[0], DEPOSIT + 500e18);
        // An operator that never opted in has no stake.
        (,, amounts) = middleware.stakeAt(stranger, capture);
        assertEq(amounts[0] + amounts[1], 0);
    }

    function test_RevertWhen_StakeAtNotInPast() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                INetworkMiddleware.MiddlewareCaptureNotInPast.selector, uint48(block.timestamp)
            )
        );
        middleware.stakeAt(operator, uint48(block.timestamp));
    }

    function test_RevertWhen_VaultEpochShorterThanWindowPlusVeto() public {
        CoreVault memory short =
            createVault(core, address(collateral), burner, curator, 3 days - 1, true, VETO);
        vm.prank(networkAdmin);
        vm.expectRevert(
            abi.encodeWithSelector(
                INetworkMiddleware.MiddlewareVaultEpochTooShort.selector, short.vault, 3 days - 1, 3 days
            )
        );
        middleware.registerVault(short.vault);
    }

    function test_RevertWhen_RegisteringNonVault() public {
        vm.prank(networkAdmin);
        vm.expectRevert(abi.encodeWithSelector(INetworkMiddleware.MiddlewareNotVault.selector, stranger));
        middleware.registerVault(stranger);
    }

    // ---- Slashing ----

    function test_Slash_InstantSlasherSlashesAtOnce() public {
        uint48 capture = uint48(block.timestamp - 10 minutes);
        INetworkMiddleware.SlashResult memory r = slashResult(SLASH_ID, instantVault.vault, 100e18, capture);
        vm.expectEmit(address(middleware));
        emit INetworkMiddleware.SlashExecuted(SLASH_ID, instantVault.vault, operator, 100e18, capture);
        vm.prank(stranger); // anyone relays
        middleware.slash(r, signSlash(bridge, r));
        assertEq(ICoreViews(instantVault.vault).activeStake(), DEPOSIT - 100e18);
        assertEq(collateral.balanceOf(burner), 100e18);
        assertTrue(middleware.isProcessed(SLASH_ID, instantVault.vault));
    }

    function test_Slash_VetoSlasherRequestsThenExecutesAfterVeto() public {
        uint48 capture = uint48(block.timestamp - 10 minutes);
        INetworkMiddleware.SlashResult memory r = slashResult(SLASH_ID, vetoVault.vault, 100e18, capture);
        vm.expectEmit(address(middleware));
        emit INetworkMiddleware.SlashRequested(SLASH_ID, vetoVault.vault, operator, 0, capture);
        middleware.slash(r, signSlash(bridge, r));
        assertEq(ICoreViews(vetoVault.vault).activeStake(), DEPOSIT);

        vm.expectRevert(bytes4(keccak256("VetoPeriodNotEnded()")));
        middleware.executeSlash(vetoVault.vault, 0, "");

        vm.warp(block.timestamp + VETO);
        vm.expectEmit(address(middleware));
        emit INetworkMiddleware.VetoSlashExecuted(SLASH_ID, vetoVault.vault, 0, 100e18);
        assertEq(middleware.executeSlash(vetoVault.vault, 0, ""), 100e18);
        assertEq(ICoreViews(vetoVault.vault).activeStake(), DEPOSIT - 100e18);
        assertEq(collateral.balanceOf(burner), 100e18);
    }

    function test_Slash_ResolverVetoStopsTheSlash() public {
        uint48 capture = uint48(block.timestamp - 10 minutes);
        INetworkMiddleware.SlashResult memory r = slashResult(SLASH_ID, vetoVault.vault, 100e18, capture);
        middleware.slash(r, signSlash(bridge, r));
        vm.prank(resolver);
        ICoreViews(vetoVault.slasher).vetoSlash(0, "");

        vm.warp(block.timestamp + VETO);
        vm.expectRevert(bytes4(keccak256("SlashRequestCompleted()")));
        middleware.executeSlash(vetoVault.vault, 0, "");
        assertEq(ICoreViews(vetoVault.vault).activeStake(), DEPOSIT);
        assertEq(collateral.balanceOf(burner), 0);
    }

    function test_RevertWhen_CaptureOutsideVetoWindow() public {
        vm.warp(block.timestamp + VAULT_EPOCH);
        registerKey(FAMILY, 1, bridge); // re-attested: keys live 7 days
        // A veto slash must leave room for the veto period inside the vault epoch.
        uint48 earliest = uint48(block.timestamp) + VETO - VAULT_EPOCH;
        INetworkMiddleware.SlashResult memory r = slashResult(SLASH_ID, vetoVault.vault, 1e18, earliest - 1);
        bytes memory sig = signSlash(bridge, r);
        vm.expectRevert(
            abi.encodeWithSelector(
                INetworkMiddleware.MiddlewareCaptureOutsideWindow.selector, earliest - 1, earliest
            )
        );
        middleware.slash(r, sig);
        // The first second inside the window is accepted.
        r.captureTimestamp = earliest;
        middleware.slash(r, signSlash(bridge, r));
        assertTrue(middleware.isProcessed(SLASH_ID, vetoVault.vault));
    }

    function test_RevertWhen_CaptureOutsideInstantWindow() public {
        vm.warp(block.timestamp + VAULT_EPOCH);
        registerKey(FAMILY, 1, bridge); // re-attested: keys live 7 days
        uint48 earliest = uint48(block.timestamp) - VAULT_EPOCH;
        INetworkMiddleware.SlashResult memory r =
            slashResult(SLASH_ID, instantVault.vault, 1e18, earliest - 1);
        bytes memory sig = signSlash(bridge, r);
        vm.expectRevert(
            abi.encodeWithSelector(
                INetworkMiddleware.MiddlewareCaptureOutsideWindow.selector, earliest - 1, earliest
            )
        );
        middleware.slash(r, sig);
    }

    function test_RevertWhen_CaptureNotInPast() public {
        INetworkMiddleware.SlashResult memory r =
            slashResult(SLASH_ID, instantVault.vault, 1e18, uint48(block.timestamp));
        bytes memory sig = signSlash(bridge, r);
        vm.expectRevert(
            abi.encodeWithSelector(
                INetworkMiddleware.MiddlewareCaptureNotInPast.selector, uint48(block.timestamp)
            )
        );
        middleware.slash(r, sig);
    }

    function test_RevertWhen_Replayed() public {
        uint48 capture = uint48(block.timestamp - 10 minutes);
        INetworkMiddleware.SlashResult memory r = slashResult(SLASH_ID, instantVault.vault, 10e18, capture);
        bytes memory sig = signSlash(bridge, r);
        middleware.slash(r, sig);
        vm.expectRevert(
            abi.encodeWithSelector(
                INetworkMiddleware.MiddlewareSlashAlreadyProcessed.selector, SLASH_ID, instantVault.vault
            )
        );
        middleware.slash(r, sig);
        // Another enclave signing the same slash for the same vault with another amount is refused too.
        Enclave memory other = enclave("bridge-2");
        registerKey(FAMILY, 1, other);
        r.amount = 20e18;
        bytes memory sig2 = signSlash(other, r);
        vm.expectRevert(
            abi.encodeWithSelector(
                INetworkMiddleware.MiddlewareSlashAlreadyProcessed.selector, SLASH_ID, instantVault.vault
            )
        );
        middleware.slash(r, sig2);
        assertEq(ICoreViews(instantVault.vault).activeStake(), DEPOSIT - 10e18);
    }

    function test_RevertWhen_SignerNotRegistered() public {
        Enclave memory rogue = enclave("rogue");
        INetworkMiddleware.SlashResult memory r =
            slashResult(SLASH_ID, instantVault.vault, 1e18, uint48(block.timestamp - 1));
        bytes memory sig = signSlash(rogue, r);
        vm.expectRevert(abi.encodeWithSelector(KEY_NOT_LIVE, rogue.addr, FAMILY));
        middleware.slash(r, sig);
    }

    function test_RevertWhen_SignerImageRevoked() public {
        vm.prank(revoker);
        registry.revokeImage(idOf(imagePcrs(1)), "compromised");
        INetworkMiddleware.SlashResult memory r =
            slashResult(SLASH_ID, instantVault.vault, 1e18, uint48(block.timestamp - 1));
        bytes memory sig = signSlash(bridge, r);
        vm.expectRevert(abi.encodeWithSelector(KEY_NOT_LIVE, bridge.addr, FAMILY));
        middleware.slash(r, sig);
    }

    function test_RevertWhen_TamperedResult() public {
        INetworkMiddleware.SlashResult memory r =
            slashResult(SLASH_ID, instantVault.vault, 1e18, uint48(block.timestamp - 1));
        bytes memory sig = signSlash(bridge, r);
        r.amount = 1000e18;
        // The signature now recovers to some other address, which is not a live key.
        vm.expectPartialRevert(KEY_NOT_LIVE);
        middleware.slash(r, sig);
    }

    function test_RevertWhen_VaultNotRegistered() public {
        vm.prank(networkAdmin);
        middleware.removeVault(instantVault.vault);
        INetworkMiddleware.SlashResult memory r =
            slashResult(SLASH_ID, instantVault.vault, 1e18, uint48(block.timestamp - 1));
        bytes memory sig = signSlash(bridge, r);
        vm.expectRevert(
            abi.encodeWithSelector(
                INetworkMiddleware.MiddlewareVaultNotRegistered.selector, instantVault.vault
            )
        );
        middleware.slash(r, sig);
    }

    function test_RevertWhen_ExecutingUnknownRequest() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                INetworkMiddleware.MiddlewareUnknownSlashRequest.selector, vetoVault.vault, 0
            )
        );
        middleware.executeSlash(vetoVault.vault, 0, "");
    }

    function test_RevertWhen_GovernanceCalledByStranger() public {
        vm.prank(stranger);
        vm.expectRevert();
        middleware.setMaxNetworkLimit(vetoVault.vault, 1);
    }
}
