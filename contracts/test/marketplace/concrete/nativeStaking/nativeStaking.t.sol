// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {IStakingModule} from "../../../../src/marketplace/IStakingModule.sol";
import {NativeStaking} from "../../../../src/marketplace/NativeStaking.sol";
import {Marketplace_Test} from "../../Marketplace.t.sol";

contract NativeStaking_Test is Marketplace_Test {
    address internal g = makeAddr("g");

    function test_RevertWhen_InvalidConfig() external {
        vm.expectRevert(NativeStaking.NativeStakingInvalidConfig.selector);
        new NativeStaking(IERC20(address(0)), treasury, 1);
        vm.expectRevert(NativeStaking.NativeStakingInvalidConfig.selector);
        new NativeStaking(stakeToken, address(0), 1);
        vm.expectRevert(NativeStaking.NativeStakingInvalidConfig.selector);
        new NativeStaking(stakeToken, treasury, 10_001);
    }

    function test_BindMarketplace() external {
        NativeStaking s = new NativeStaking(stakeToken, treasury, 0);
        vm.expectRevert(NativeStaking.NativeStakingBindForbidden.selector);
        vm.prank(g);
        s.bindMarketplace(address(mp));
        vm.expectRevert(NativeStaking.NativeStakingBindForbidden.selector);
        s.bindMarketplace(address(0));
        vm.expectEmit(address(s));
        emit NativeStaking.MarketplaceBound(address(mp));
        s.bindMarketplace(address(mp));
        assertEq(s.marketplace(), address(mp));
        vm.expectRevert(NativeStaking.NativeStakingBindForbidden.selector);
        s.bindMarketplace(g);
    }

    function test_Deposit() external {
        vm.expectRevert(NativeStaking.NativeStakingInvalidAmount.selector);
        vm.prank(g);
        staking.deposit(market, 0);
        stakeToken.mint(g, 5);
        vm.startPrank(g);
        stakeToken.approve(address(staking), 5);
        vm.expectEmit(address(staking));
        emit IStakingModule.StakeChanged(g, market, 5);
        staking.deposit(market, 5);
        vm.expectRevert(NativeStaking.NativeStakingInvalidAmount.selector);
        staking.deposit(market, type(uint128).max);
        vm.stopPrank();
        assertEq(staking.stakeOf(g, market), 5);
        assertEq(staking.stakeOf(g, market + 1), 0, "stake is per market");
        assertEq(stakeToken.balanceOf(address(staking)), 5);
    }

    function test_Withdraw() external {
        address gen = addGenerator("gen", market, 0, 4, 2 * PENALTY);
        uint256 askId = createAsk(market, 1);
        assign(one(askId, 0, gen, REWARD));
        vm.startPrank(gen);
        vm.expectRevert(NativeStaking.NativeStakingInvalidAmount.selector);
        staking.withdraw(market, 0);
        vm.expectRevert(
            abi.encodeWithSelector(
                NativeStaking.NativeStakingInsufficientFreeStake.selector, PENALTY, PENALTY + 1
            )
        );
        staking.withdraw(market, PENALTY + 1);
        vm.expectEmit(address(staking));
        emit IStakingModule.StakeChanged(gen, market, PENALTY);
        staking.withdraw(market, PENALTY);
        vm.stopPrank();
        assertEq(stakeToken.balanceOf(gen), PENALTY);
        assertEq(staking.lockedOf(gen, market), PENALTY, "the lock stays covered");
        assertConserved();
    }

    function test_Claim() external {
        vm.expectRevert(NativeStaking.NativeStakingNothingToClaim.selector);
        vm.prank(treasury);
        staking.claim();
        address gen = addGenerator("gen", market, 0, 4, PENALTY);
        uint256 askId = createAsk(market, 1);
        assign(one(askId, 0, gen, REWARD));
        vm.warp(block.timestamp + PROVING_TIME + 1);
        mp.slash(askId, 0);
        vm.expectEmit(address(staking));
        emit NativeStaking.Claimed(treasury, PENALTY / 2);
        vm.prank(treasury);
        staking.claim();
        assertEq(stakeToken.balanceOf(treasury), PENALTY / 2);
        vm.expectRevert(NativeStaking.NativeStakingNothingToClaim.selector);
        vm.prank(treasury);
        staking.claim();
        assertConserved();
    }

    function test_MarketplaceOnly() external {
        vm.startPrank(g);
        vm.expectRevert(abi.encodeWithSelector(IStakingModule.StakingUnauthorized.selector, g));
        staking.lock(g, market, 1, 1 days);
        vm.expectRevert(abi.encodeWithSelector(IStakingModule.StakingUnauthorized.selector, g));
        staking.unlock(g, market, 1, 1 days);
        vm.expectRevert(abi.encodeWithSelector(IStakingModule.StakingUnauthorized.selector, g));
        staking.slash(g, market, 1, 1 days, g);
        vm.stopPrank();
    }

    function test_LockBounds() external {
        depositStake(g, market, 10);
        vm.startPrank(address(mp));
        assertTrue(staking.lock(g, market, 6, 1 days));
        assertFalse(staking.lock(g, market, 5, 1 days), "only 4 free");
        assertEq(staking.lockedOf(g, market), 6);
        vm.expectRevert(
            abi.encodeWithSelector(IStakingModule.StakingInsufficientLocked.selector, g, market, 6, 7)
        );
        staking.unlock(g, market, 7, 1 days);
        vm.expectRevert(
            abi.encodeWithSelector(IStakingModule.StakingInsufficientLocked.selector, g, market, 6, 7)
        );
        staking.slash(g, market, 7, 1 days, g);
        staking.unlock(g, market, 6, 1 days);
        vm.stopPrank();
        assertEq(staking.lockedOf(g, market), 0);
    }
}
