// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {IProofMarketplace} from "../../../../src/marketplace/IProofMarketplace.sol";
import {IVerifier} from "../../../../src/marketplace/IVerifier.sol";
import {Marketplace_Test} from "../../Marketplace.t.sol";

contract SubmitProof_Test is Marketplace_Test {
    address internal g1;
    address internal g2;
    uint256 internal askId;
    uint256 internal constant PRICE = 2e18;

    function setUp() public override {
        super.setUp();
        g1 = addGenerator("g1", market, 1e18, 4, 4 * PENALTY);
        g2 = addGenerator("g2", market, 1e18, 4, 4 * PENALTY);
        askId = createAsk(market, 3);
        IProofMarketplace.Assignment[] memory a = new IProofMarketplace.Assignment[](2);
        a[0] = IProofMarketplace.Assignment(askId, 0, g1, PRICE);
        a[1] = IProofMarketplace.Assignment(askId, 1, g2, PRICE);
        assign(a);
    }

    function expectState(uint256 id, uint256 slot, IProofMarketplace.SlotState state) internal {
        vm.expectRevert(
            abi.encodeWithSelector(IProofMarketplace.ProofMarketplaceWrongSlotState.selector, id, slot, state)
        );
    }

    function test_RevertWhen_SlotNotAssigned() external {
        bytes memory data = statement(WITNESS);
        bytes memory proof = prove(WITNESS, 5);
        vm.startPrank(g1);
        expectState(42, 0, IProofMarketplace.SlotState.None);
        mp.submitProof(42, 0, data, proof);
        expectState(askId, 2, IProofMarketplace.SlotState.Open);
        mp.submitProof(askId, 2, data, proof);
        expectState(askId, 16, IProofMarketplace.SlotState.None);
        mp.submitProof(askId, 16, data, proof);
        mp.submitProof(askId, 0, data, proof);
        expectState(askId, 0, IProofMarketplace.SlotState.Completed);
        mp.submitProof(askId, 0, data, proof);
        vm.stopPrank();
    }

    function test_RevertWhen_NotTheGenerator() external {
        bytes memory data = statement(WITNESS);
        bytes memory proof = prove(WITNESS, 5);
        vm.expectRevert(
            abi.encodeWithSelector(IProofMarketplace.ProofMarketplaceNotAssignedGenerator.selector, askId, 0)
        );
        vm.prank(g2);
        mp.submitProof(askId, 0, data, proof);
    }

    function test_RevertWhen_DeadlinePassed() external {
        bytes memory data = statement(WITNESS);
        bytes memory proof = prove(WITNESS, 5);
        uint64 deadline = mp.getSlot(askId, 0).deadline;
        vm.warp(deadline + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IProofMarketplace.ProofMarketplaceDeadlinePassed.selector, deadline)
        );
        vm.prank(g1);
        mp.submitProof(askId, 0, data, proof);
    }

    function test_RevertWhen_StatementDiffers() external {
        bytes memory other = statement(WITNESS + 1);
        bytes memory proof = prove(WITNESS + 1, 5);
        vm.expectRevert(IProofMarketplace.ProofMarketplaceProverDataMismatch.selector);
        vm.prank(g1);
        mp.submitProof(askId, 0, other, proof);
    }

    function test_RevertWhen_ProofInvalid() external {
        bytes memory data = statement(WITNESS);
        bytes memory otherWitness = prove(WITNESS + 1, 5);
        bytes memory good = prove(WITNESS, 5);
        (uint256 rx, uint256 ry, uint256 s) = abi.decode(good, (uint256, uint256, uint256));
        vm.startPrank(g1);
        vm.expectRevert(IProofMarketplace.ProofMarketplaceInvalidProof.selector);
        mp.submitProof(askId, 0, data, otherWitness);
        vm.expectRevert(IProofMarketplace.ProofMarketplaceInvalidProof.selector);
        mp.submitProof(askId, 0, data, abi.encode(rx, ry, s + 1));
        vm.expectRevert(IProofMarketplace.ProofMarketplaceInvalidProof.selector);
        mp.submitProof(askId, 0, data, abi.encode(rx, ry));
        vm.mockCallRevert(address(schnorr), abi.encodeWithSelector(IVerifier.verify.selector), "broken");
        vm.expectRevert(IProofMarketplace.ProofMarketplaceInvalidProof.selector);
        mp.submitProof(askId, 0, data, good);
        vm.stopPrank();
    }

    function test_WhenValidAndOnTime() external {
        vm.warp(mp.getSlot(askId, 0).deadline);
        vm.expectEmit(address(mp));
        emit IProofMarketplace.ProofSubmitted(
            askId, 0, g1, PRICE, prove(WITNESS, uint256(keccak256(abi.encode(g1, askId))))
        );
        submit(g1, askId, 0);
        assertEq(uint256(mp.getSlot(askId, 0).state), uint256(IProofMarketplace.SlotState.Completed));
        assertEq(mp.withdrawableOf(g1), PRICE);
        assertEq(mp.withdrawableOf(refundTo), REWARD - PRICE);
        assertEq(staking.lockedOf(g1, market), 0);
        assertEq(staking.stakeOf(g1, market), 4 * PENALTY, "nothing slashed");
        assertEq(mp.getGenerator(g1).active, 0);
        assertEq(uint256(mp.getSlot(askId, 1).state), uint256(IProofMarketplace.SlotState.Assigned));
        assertEq(staking.lockedOf(g2, market), PENALTY);
        assertEq(mp.totalEscrow(), 2 * uint256(REWARD), "slot 1 assigned, slot 2 open");
        assertConserved();
    }
}
