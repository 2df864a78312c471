// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {IProofMarketplace} from "../../../../src/marketplace/IProofMarketplace.sol";
import {IStakingModule} from "../../../../src/marketplace/IStakingModule.sol";
import {Marketplace_Test} from "../../Marketplace.t.sol";

contract Slash_Test is Marketplace_Test {
    address internal g;
    uint256 internal askId;
    uint64 internal deadline;

    function setUp() public override {
        super.setUp();
        g = addGenerator("g", market, 0, 4, 3 * PENALTY);
        askId = createAsk(market, 2);
        assign(one(askId, 0, g, 1e18));
        deadline = mp.getSlot(askId, 0).deadline;
    }

    function test_RevertWhen_SlotNotAssigned() external {
        vm.expectRevert(
            abi.encodeWithSelector(
                IProofMarketplace.ProofMarketplaceWrongSlotState.selector,
                askId,
                1,
                IProofMarketplace.SlotState.Open
            )
        );
        mp.slash(askId, 1);
        submit(g, askId, 0);
        vm.warp(deadline + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IProofMarketplace.ProofMarketplaceWrongSlotState.selector,
                askId,
                0,
                IProofMarketplace.SlotState.Completed
            )
        );
        mp.slash(askId, 0);
    }

    function test_RevertWhen_DeadlineNotPassed() external {
        vm.warp(deadline);
        vm.expectRevert(
            abi.encodeWithSelector(IProofMarketplace.ProofMarketplaceDeadlineNotPassed.selector, deadline)
        );
        mp.slash(askId, 0);
    }

    function test_WhenDeadlinePassed() external {
        vm.warp(deadline + 1);
        uint256 compensation = uint256(PENALTY) * COMPENSATION_BPS / 10_000;
        vm.expectEmit(address(mp));
        emit IProofMarketplace.Slashed(askId, 0, g, PENALTY);
        vm.expectEmit(address(staking));
        emit IStakingModule.StakeChanged(g, market, 2 * uint256(PENALTY));
        vm.expectEmit(address(staking));
        emit IStakingModule.StakeSlashed(g, market, PENALTY, compensation, refundTo);
        vm.prank(makeAddr("anyone"));
        mp.slash(askId, 0);

        assertEq(uint256(mp.getSlot(askId, 0).state), uint256(IProofMarketplace.SlotState.Slashed));
        assertEq(mp.withdrawableOf(refundTo), REWARD, "the whole slot reward back");
        assertEq(mp.withdrawableOf(g), 0);
        assertEq(staking.stakeOf(g, market), 2 * uint256(PENALTY));
        assertEq(staking.lockedOf(g, market), 0);
        assertEq(staking.claimableOf(refundTo), compensation);
        assertEq(staking.claimableOf(treasury), PENALTY - compensation);
        assertEq(mp.getGenerator(g).active, 0);

        vm.expectRevert(
            abi.encodeWithSelector(
                IProofMarketplace.ProofMarketplaceWrongSlotState.selector,
                askId,
                0,
                IProofMarketplace.SlotState.Slashed
            )
        );
        mp.slash(askId, 0);
        bytes memory data = statement(WITNESS);
        bytes memory proof = prove(WITNESS, 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IProofMarketplace.ProofMarketplaceWrongSlotState.selector,
                askId,
                0,
                IProofMarketplace.SlotState.Slashed
            )
        );
        vm.prank(g);
        mp.submitProof(askId, 0, data, proof);

        vm.prank(refundTo);
        staking.claim();
        assertEq(stakeToken.balanceOf(refundTo), compensation);
        assertConserved();
    }
}
