// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {IEnclaveAuth} from "../../../../src/interfaces/IEnclaveAuth.sol";
import {IProofMarketplace} from "../../../../src/marketplace/IProofMarketplace.sol";
import {Marketplace_Test} from "../../Marketplace.t.sol";

contract SettleInvalidInputs_Test is Marketplace_Test {
    uint96 internal constant PRICE = 3e18;
    uint256 internal constant PAYMENT = 1e18;

    address internal g1;
    address internal g2;
    uint256 internal askId;

    function setUp() public override {
        super.setUp();
        g1 = addKeyedGenerator("g1", market, 1e18, 2, 2 * PENALTY);
        g2 = addKeyedGenerator("g2", market, 1e18, 2, 2 * PENALTY);
        askId = createPrivateAsk(market, 2);
        assertEq(assignWithKeys(one(askId, 0, g1, PRICE)), 1);
    }

    function settle(uint256 id, uint256 slot, uint256 payment, bytes memory sig) internal {
        vm.prank(relayer);
        mp.settleInvalidInputs(id, slot, payment, sig);
    }

    function expectWrongState(uint256 slot, IProofMarketplace.SlotState state) internal {
        bytes memory sig = signInvalidInputs(engine, askId, slot, g1, PAYMENT);
        vm.expectRevert(
            abi.encodeWithSelector(
                IProofMarketplace.ProofMarketplaceWrongSlotState.selector, askId, slot, state
            )
        );
        settle(askId, slot, PAYMENT, sig);
    }

    /// @dev Expects the signature to recover to some address that is not a live engine key.
    function expectNotEngine(uint256 slot, uint256 payment, bytes memory sig, address signedFor) internal {
        (bytes32 r, bytes32 s) = abi.decode(sig, (bytes32, bytes32));
        address recovered =
            ecrecover(mp.invalidInputsDigest(askId, slot, signedFor, payment), uint8(sig[64]), r, s);
        vm.expectRevert(
            abi.encodeWithSelector(IEnclaveAuth.EnclaveAuthKeyNotLive.selector, recovered, FAMILY)
        );
        settle(askId, slot, payment, sig);
    }

    function test_RevertWhen_SlotNotAssigned() external {
        expectWrongState(1, IProofMarketplace.SlotState.Open);
        expectWrongState(2, IProofMarketplace.SlotState.None);
        expectWrongState(16, IProofMarketplace.SlotState.None);
        submit(g1, askId, 0);
        expectWrongState(0, IProofMarketplace.SlotState.Completed);
    }

    function test_RevertWhen_Discarded() external {
        bytes memory sig = signInvalidInputs(engine, askId, 0, g1, PAYMENT);
        vm.prank(g1);
        mp.discard(askId, 0);
        vm.expectRevert(
            abi.encodeWithSelector(
                IProofMarketplace.ProofMarketplaceWrongSlotState.selector,
                askId,
                0,
                IProofMarketplace.SlotState.Open
            )
        );
        settle(askId, 0, PAYMENT, sig);
        // Reassigned to another generator: the statement named g1 and does not settle g2's slot.
        assertEq(assignWithKeys(one(askId, 0, g2, PRICE)), 1);
        expectNotEngine(0, PAYMENT, sig, g2);
        assertEq(mp.withdrawableOf(g1), 0);
    }

    function test_RevertGiven_PublicAsk() external {
        uint256 pub = createAsk(market, 1);
        assertEq(assign(one(pub, 0, g2, PRICE)), 1);
        bytes memory sig = signInvalidInputs(engine, pub, 0, g2, PAYMENT);
        vm.expectRevert(abi.encodeWithSelector(IProofMarketplace.ProofMarketplaceNotPrivate.selector, pub));
        settle(pub, 0, PAYMENT, sig);
    }

    function test_RevertWhen_DeadlinePassed() external {
        bytes memory sig = signInvalidInputs(engine, askId, 0, g1, PAYMENT);
        uint64 deadline = mp.getSlot(askId, 0).deadline;
        vm.warp(deadline + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IProofMarketplace.ProofMarketplaceDeadlinePassed.selector, deadline)
        );
        settle(askId, 0, PAYMENT, sig);
        mp.slash(askId, 0);
        assertEq(uint256(mp.getSlot(askId, 0).state), uint256(IProofMarketplace.SlotState.Slashed));
    }

    function test_RevertWhen_PaymentAbovePrice() external {
        bytes memory sig = signInvalidInputs(engine, askId, 0, g1, uint256(PRICE) + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IProofMarketplace.ProofMarketplaceInvalidPayment.selector, uint256(PRICE) + 1, PRICE
            )
        );
        settle(askId, 0, uint256(PRICE) + 1, sig);
        // Up to the whole reward is still above this slot's price.
        sig = signInvalidInputs(engine, askId, 0, g1, REWARD);
        vm.expectRevert(
            abi.encodeWithSelector(IProofMarketplace.ProofMarketplaceInvalidPayment.selector, REWARD, PRICE)
        );
        settle(askId, 0, REWARD, sig);
    }

    function test_RevertGiven_SignerNotEngine() external {
        Enclave memory stranger_ = enclave("not-an-engine");
        bytes memory sig = signInvalidInputs(stranger_, askId, 0, g1, PAYMENT);
        vm.expectRevert(
            abi.encodeWithSelector(IEnclaveAuth.EnclaveAuthKeyNotLive.selector, stranger_.addr, FAMILY)
        );
        settle(askId, 0, PAYMENT, sig);

        // A live key of another family (a prover enclave) is not the engine.
        registerImage(DEV_FAMILY, 2);
        Enclave memory prover = enclave("prover");
        registerKey(DEV_FAMILY, 2, prover);
        sig = signInvalidInputs(prover, askId, 0, g1, PAYMENT);
        vm.expectRevert(
            abi.encodeWithSelector(IEnclaveAuth.EnclaveAuthKeyNotLive.selector, prover.addr, FAMILY)
        );
        settle(askId, 0, PAYMENT, sig);

        vm.expectRevert(IEnclaveAuth.EnclaveAuthInvalidSignature.selector);
        settle(askId, 0, PAYMENT, new bytes(65));
    }

    function test_RevertGiven_EngineImageRevoked() external {
        bytes memory sig = signInvalidInputs(engine, askId, 0, g1, PAYMENT);
        vm.prank(revoker);
        registry.revokeImage(idOf(imagePcrs(1)), "CVE");
        vm.expectRevert(
            abi.encodeWithSelector(IEnclaveAuth.EnclaveAuthKeyNotLive.selector, engine.addr, FAMILY)
        );
        settle(askId, 0, PAYMENT, sig);
    }

    function test_RevertWhen_SignedForSomethingElse() external {
        assertEq(assignWithKeys(one(askId, 1, g2, PRICE)), 1);
        // For slot 1 (g2's), relayed for slot 0: recovers elsewhere under slot 0's digest.
        bytes memory sig = signInvalidInputs(engine, askId, 1, g1, PAYMENT);
        expectNotEngine(0, PAYMENT, sig, g1);
        // For another generator.
        sig = signInvalidInputs(engine, askId, 0, g2, PAYMENT);
        expectNotEngine(0, PAYMENT, sig, g1);
        // For a smaller payment, relayed with a larger one (the generator inflating its pay).
        sig = signInvalidInputs(engine, askId, 0, g1, PAYMENT);
        expectNotEngine(0, PAYMENT + 1, sig, g1);
        // For a larger payment, relayed with a smaller one (the refund address shrinking it).
        expectNotEngine(0, PAYMENT - 1, sig, g1);
        // For another ask with the same slot and generator.
        uint256 otherAsk = createPrivateAsk(market, 1);
        assertEq(assignWithKeys(one(otherAsk, 0, g1, PRICE)), 1);
        sig = signInvalidInputs(engine, otherAsk, 0, g1, PAYMENT);
        expectNotEngine(0, PAYMENT, sig, g1);
        // The batch-signing domain is not reused: a plain batch digest with the same numbers differs.
        assertTrue(
            mp.invalidInputsDigest(askId, 0, g1, PAYMENT) != mp.batchDigest(one(askId, 0, g1, PAYMENT), 0)
        );
    }

    function test_WhenSettled() external {
        assertEq(assignWithKeys(one(askId, 1, g2, PRICE)), 1);
        vm.warp(mp.getSlot(askId, 0).deadline); // the deadline second itself
        bytes memory sig = signInvalidInputs(engine, askId, 0, g1, PAYMENT);
        uint256 escrow = mp.totalEscrow();
        vm.expectEmit(address(mp));
        emit IProofMarketplace.InputsInvalid(askId, 0, g1, PAYMENT);
        settle(askId, 0, PAYMENT, sig);

        assertEq(uint256(mp.getSlot(askId, 0).state), uint256(IProofMarketplace.SlotState.InputsInvalid));
        assertEq(mp.getSlot(askId, 0).generator, g1);
        assertEq(mp.getAsk(askId).assigned, 2, "settled slots stay taken");
        assertEq(mp.withdrawableOf(g1), PAYMENT);
        assertEq(mp.withdrawableOf(refundTo), REWARD - PAYMENT);
        assertEq(mp.withdrawableOf(relayer), 0);
        assertEq(mp.totalEscrow(), escrow - REWARD);
        assertEq(staking.lockedOf(g1, market), 0, "lock released");
        assertEq(staking.stakeOf(g1, market), 2 * PENALTY, "not slashed");
        assertEq(mp.getGenerator(g1).active, 0, "capacity restored");
        assertEq(staking.lockedOf(g2, market), PENALTY, "the other slot untouched");
        assertConserved();

        // Replayed: the slot is settled.
        vm.expectRevert(
            abi.encodeWithSelector(
                IProofMarketplace.ProofMarketplaceWrongSlotState.selector,
                askId,
                0,
                IProofMarketplace.SlotState.InputsInvalid
            )
        );
        settle(askId, 0, PAYMENT, sig);
        // No proof, slash or discard after it.
        bytes memory data = statement(WITNESS);
        bytes memory proof = prove(WITNESS, 5);
        vm.expectRevert(
            abi.encodeWithSelector(
                IProofMarketplace.ProofMarketplaceWrongSlotState.selector,
                askId,
                0,
                IProofMarketplace.SlotState.InputsInvalid
            )
        );
        vm.prank(g1);
        mp.submitProof(askId, 0, data, proof);
        vm.warp(block.timestamp + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IProofMarketplace.ProofMarketplaceWrongSlotState.selector,
                askId,
                0,
                IProofMarketplace.SlotState.InputsInvalid
            )
        );
        mp.slash(askId, 0);
        assertEq(mp.withdrawableOf(g1), PAYMENT, "paid once");
        assertConserved();
    }

    function test_WhenPaymentBounds() external {
        assertEq(assignWithKeys(one(askId, 1, g2, REWARD)), 1);
        // Zero: the whole reward goes back.
        settle(askId, 0, 0, signInvalidInputs(engine, askId, 0, g1, 0));
        assertEq(mp.withdrawableOf(g1), 0);
        assertEq(mp.withdrawableOf(refundTo), REWARD);
        // The whole price, at price = reward: nothing goes back.
        settle(askId, 1, REWARD, signInvalidInputs(engine, askId, 1, g2, REWARD));
        assertEq(mp.withdrawableOf(g2), REWARD);
        assertEq(mp.withdrawableOf(refundTo), REWARD);
        assertEq(mp.totalEscrow(), 0);
        assertConserved();
    }
}
