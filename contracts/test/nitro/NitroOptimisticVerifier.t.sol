// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {IAttestationVerifier} from "../../src/interfaces/IAttestationVerifier.sol";
import {INitroOptimisticVerifier} from "../../src/nitro/INitroOptimisticVerifier.sol";
import {NitroOptimisticVerifier} from "../../src/nitro/NitroOptimisticVerifier.sol";
import {NitroBase_Test, NitroFixtures} from "./NitroAttestationVerifier.t.sol";

contract NitroOptimisticVerifier_Test is NitroBase_Test {
    uint256 internal constant BOND = 1 ether;
    uint256 internal constant CHALLENGE_BOND = 0.5 ether;

    NitroOptimisticVerifier internal optimistic;
    address internal proposer = makeAddr("proposer");
    address internal challenger = makeAddr("challenger");
    bytes internal doc;
    uint256[] internal docHints;

    function setUp() public override {
        super.setUp();
        optimistic = new NitroOptimisticVerifier(verifier, BOND, CHALLENGE_BOND);
        NitroFixtures.Fixture memory f = fixtures.get(3); // BASE_2026
        doc = f.doc;
        docHints = _hints(f.hints);
        _atDocumentTime(f.timestampMs);
        vm.deal(proposer, 10 ether);
        vm.deal(challenger, 10 ether);
    }

    /// Callers learn the bonds from the interface, and a wrong amount names the right one.
    function test_BondsAreReadableThroughTheInterface() public {
        INitroOptimisticVerifier v = INitroOptimisticVerifier(address(optimistic));
        assertEq(v.proposerBond(), BOND);
        assertEq(v.challengerBond(), CHALLENGE_BOND);
        vm.prank(proposer);
        vm.expectRevert(abi.encodeWithSelector(INitroOptimisticVerifier.OptimisticWrongBond.selector, BOND));
        v.propose{value: BOND - 1}(doc);
    }

    function _propose(bytes memory d) internal returns (bytes32 id) {
        vm.prank(proposer);
        id = optimistic.propose{value: BOND}(d);
    }

    /// The document with one bit of PCR0 flipped: still well-formed, no longer what AWS signed.
    function _corrupted() internal view returns (bytes memory d) {
        d = bytes.concat(doc);
        NitroFixtures.Fixture memory f = fixtures.get(3);
        bytes memory pcr0 = f.pcrs;
        for (uint256 p = 0; p + 48 <= d.length; p++) {
            bool hit = true;
            for (uint256 j = 0; j < 48 && hit; j++) {
                hit = d[p + j] == pcr0[j];
            }
            if (hit) {
                d[p] ^= 0x01;
                return d;
            }
        }
        revert("PCR0 not found");
    }

    function test_gas_register_optimistic() public {
        bytes memory call = abi.encodeCall(optimistic.propose, (doc));
        uint256 intrinsic = 21_000;
        for (uint256 i = 0; i < call.length; i++) {
            intrinsic += call[i] == 0 ? 4 : 16;
        }
        vm.cool(address(optimistic)); // its own transaction on chain: cold account and storage
        vm.prank(proposer);
        uint256 before = gasleft();
        optimistic.propose{value: BOND}(doc);
        uint256 g = before - gasleft() + intrinsic;
        emit log_named_uint("optimistic registration (tx gas incl. calldata)", g);
        vm.snapshotValue("register_optimistic", g);
        assertLe(g, 250_000, "optimistic registration over its 250k target");
    }

    function test_UnchallengedClaimGoesLiveAfterTheWindow() public {
        bytes32 id = _propose(doc);
        vm.expectRevert(
            abi.encodeWithSelector(
                INitroOptimisticVerifier.OptimisticWrongStatus.selector,
                id,
                INitroOptimisticVerifier.Status.Pending
            )
        );
        optimistic.verify(doc);
        vm.warp(block.timestamp + optimistic.WINDOW());
        IAttestationVerifier.Attestation memory a = optimistic.verify(doc);
        assertEq(a.pcrs.length, 16);
        assertEq(a.userData.length, 20);
        uint256 balance = proposer.balance;
        optimistic.settle(id);
        assertEq(proposer.balance, balance + BOND);
    }

    function test_RevertWhen_ProposalIsStale() public {
        vm.warp(block.timestamp + 1 hours);
        vm.prank(proposer);
        vm.expectRevert();
        optimistic.propose{value: BOND}(doc);
    }

    function test_RevertWhen_ChallengeAfterWindow() public {
        bytes32 id = _propose(doc);
        vm.warp(block.timestamp + optimistic.WINDOW());
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(INitroOptimisticVerifier.OptimisticWindow.selector, id));
        optimistic.challenge{value: CHALLENGE_BOND}(id);
    }

    function test_ChallengeOfAGenuineDocumentForfeitsTheChallengerBond() public {
        bytes32 id = _propose(doc);
        vm.prank(challenger);
        optimistic.challenge{value: CHALLENGE_BOND}(id);
        uint256 balance = proposer.balance;
        optimistic.resolve(doc, docHints);
        assertEq(uint8(optimistic.statusOf(id)), uint8(INitroOptimisticVerifier.Status.Valid));
        assertEq(proposer.balance, balance + BOND + CHALLENGE_BOND);
        optimistic.verify(doc);
    }

    /// A challenger cannot turn a genuine document invalid with a wrong half-size hint (every signature's
    /// R negated, a set to zero): the textbook check decides and the challenger still loses.
    function test_WrongHalfSizeHintsDoNotChangeTheVerdict() public {
        bytes32 id = _propose(doc);
        vm.prank(challenger);
        optimistic.challenge{value: CHALLENGE_BOND}(id);
        uint256[] memory wrong = _copyOfDocHints();
        for (uint256 i = 0; i < wrong.length; i += 6) {
            wrong[i + 3] ^= 1; // y(R) off the curve
            if (i == wrong.length - 6) wrong[i + 4] = 0; // a = 0 for the document signature
        }
        uint256 balance = proposer.balance;
        optimistic.resolve(doc, wrong);
        assertEq(uint8(optimistic.statusOf(id)), uint8(INitroOptimisticVerifier.Status.Valid));
        assertEq(proposer.balance, balance + BOND + CHALLENGE_BOND);
    }

    function test_ChallengeOfABadDocumentSlashesTheProposer() public {
        bytes memory bad = _corrupted();
        bytes32 id = _propose(bad);
        vm.prank(challenger);
        optimistic.challenge{value: CHALLENGE_BOND}(id);
        uint256 balance = challenger.balance;
        optimistic.resolve(bad, docHints);
        assertEq(uint8(optimistic.statusOf(id)), uint8(INitroOptimisticVerifier.Status.Invalid));
        assertEq(challenger.balance, balance + BOND + CHALLENGE_BOND);
        vm.expectRevert();
        optimistic.verify(bad);
    }

    /// A wrong hint says nothing about the document: resolve reverts and the claim stays challenged.
    function _copyOfDocHints() internal view returns (uint256[] memory h) {
        h = new uint256[](docHints.length);
        for (uint256 i = 0; i < h.length; i++) {
            h[i] = docHints[i];
        }
    }

    function test_RevertWhen_ResolveWithWrongHints() public {
        bytes32 id = _propose(doc);
        vm.prank(challenger);
        optimistic.challenge{value: CHALLENGE_BOND}(id);
        uint256[] memory wrong = _copyOfDocHints();
        wrong[wrong.length - 5] ^= 1; // the document's s⁻¹ (low word)
        vm.expectRevert();
        optimistic.resolve(doc, wrong);
        assertEq(uint8(optimistic.statusOf(id)), uint8(INitroOptimisticVerifier.Status.Challenged));
    }

    /// The full verification is resumable: the chain is cached in earlier transactions.
    function test_ResolveAfterCachingTheChainFitsTheTransactionCap() public {
        bytes32 id = _propose(doc);
        vm.prank(challenger);
        optimistic.challenge{value: CHALLENGE_BOND}(id);
        verifier.verify(abi.encode(doc, docHints)); // caches every certificate
        uint256 before = gasleft();
        optimistic.resolve(doc, docHints);
        assertLt(before - gasleft(), TX_GAS_CAP);
        assertEq(uint8(optimistic.statusOf(id)), uint8(INitroOptimisticVerifier.Status.Valid));
    }

    function test_UnresolvedChallengeTimesOutForTheChallenger() public {
        bytes32 id = _propose(doc);
        vm.prank(challenger);
        optimistic.challenge{value: CHALLENGE_BOND}(id);
        vm.expectRevert(abi.encodeWithSelector(INitroOptimisticVerifier.OptimisticWindow.selector, id));
        optimistic.resolveByTimeout(id);
        vm.warp(block.timestamp + optimistic.RESOLVE_PERIOD());
        uint256 balance = challenger.balance;
        optimistic.resolveByTimeout(id);
        assertEq(challenger.balance, balance + BOND + CHALLENGE_BOND);
    }
}
