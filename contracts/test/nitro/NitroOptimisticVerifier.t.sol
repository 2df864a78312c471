// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {IAttestationVerifier} from "../../src/interfaces/IAttestationVerifier.sol";
import {INitroAttestationVerifier} from "../../src/nitro/INitroAttestationVerifier.sol";
import {INitroOptimisticVerifier} from "../../src/nitro/INitroOptimisticVerifier.sol";
import {NitroOptimisticVerifier} from "../../src/nitro/NitroOptimisticVerifier.sol";
import {NitroBase_Test, NitroFixtures} from "./NitroAttestationVerifier.t.sol";
import {StubNitroVerifier} from "../mocks/StubNitroVerifier.sol";

contract NitroOptimisticVerifier_Test is NitroBase_Test {
    uint256 internal constant BOND = 1 ether;
    uint256 internal constant CHALLENGE_BOND = 0.5 ether;
    /// The gas price the challenger bond is sized for: 0.5 ether covers 17.5 M gas up to ~28 gwei.
    uint256 internal constant DEFENCE_GAS_PRICE = 20 gwei;

    NitroOptimisticVerifier internal optimistic;
    address internal proposer = makeAddr("proposer");
    address internal challenger = makeAddr("challenger");
    bytes internal doc;
    bytes32 internal docHash;
    uint256[] internal docHints;
    uint64 internal docTimeMs;

    function setUp() public override {
        super.setUp();
        optimistic = new NitroOptimisticVerifier(verifier, BOND, CHALLENGE_BOND, DEFENCE_GAS_PRICE);
        NitroFixtures.Fixture memory f = fixtures.get(3); // BASE_2026
        doc = f.doc;
        docHash = keccak256(f.doc);
        docHints = _hints(f.hints);
        docTimeMs = f.timestampMs;
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

    function _challenge(bytes32 id) internal {
        vm.prank(challenger);
        optimistic.challenge{value: CHALLENGE_BOND}(id, proposer);
    }

    function _status(bytes32 id, address who) internal view returns (uint8) {
        return uint8(optimistic.statusOf(id, who));
    }

    uint8 internal constant VALID = uint8(INitroOptimisticVerifier.Status.Valid);
    uint8 internal constant INVALID = uint8(INitroOptimisticVerifier.Status.Invalid);
    uint8 internal constant CHALLENGED = uint8(INitroOptimisticVerifier.Status.Challenged);

    /// The challenger bond must cover a defence (DEFENCE_GAS at the stated gas price).
    function test_RevertWhen_ChallengerBondDoesNotCoverADefence() public {
        uint256 needed = optimistic.DEFENCE_GAS() * DEFENCE_GAS_PRICE;
        vm.expectRevert(
            abi.encodeWithSelector(INitroOptimisticVerifier.OptimisticBondTooSmall.selector, needed)
        );
        new NitroOptimisticVerifier(verifier, BOND, needed - 1, DEFENCE_GAS_PRICE);
        vm.expectRevert(abi.encodeWithSelector(INitroOptimisticVerifier.OptimisticBondTooSmall.selector, 0));
        new NitroOptimisticVerifier(verifier, BOND, CHALLENGE_BOND, 0);
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
        assertEq(id, docHash);
        vm.expectRevert(abi.encodeWithSelector(INitroOptimisticVerifier.OptimisticNotAccepted.selector, id));
        optimistic.verify(doc);
        vm.expectRevert(
            abi.encodeWithSelector(INitroOptimisticVerifier.OptimisticWindow.selector, id, proposer)
        );
        optimistic.settle(id, proposer);
        vm.warp(block.timestamp + optimistic.WINDOW());
        assertEq(_status(id, proposer), VALID);
        uint256 balance = proposer.balance;
        optimistic.settle(id, proposer);
        assertEq(proposer.balance, balance + BOND);
        IAttestationVerifier.Attestation memory a = optimistic.verify(doc);
        assertEq(a.pcrs.length, 16);
        assertEq(a.userData.length, 20);
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
        vm.expectRevert(
            abi.encodeWithSelector(INitroOptimisticVerifier.OptimisticWindow.selector, id, proposer)
        );
        optimistic.challenge{value: CHALLENGE_BOND}(id, proposer);
    }

    function test_ChallengeOfAGenuineDocumentForfeitsTheChallengerBond() public {
        bytes32 id = _propose(doc);
        _challenge(id);
        uint256 balance = proposer.balance;
        optimistic.resolve(doc, proposer, docHints);
        assertEq(_status(id, proposer), VALID);
        assertEq(proposer.balance, balance + BOND + CHALLENGE_BOND);
        optimistic.verify(doc);
    }

    /// A challenger cannot turn a genuine document invalid with a wrong half-size hint (every signature's
    /// R negated, a set to zero): the textbook check decides and the challenger still loses.
    function test_WrongHalfSizeHintsDoNotChangeTheVerdict() public {
        bytes32 id = _propose(doc);
        _challenge(id);
        uint256[] memory wrong = _copyOfDocHints();
        for (uint256 i = 0; i < wrong.length; i += 6) {
            wrong[i + 3] ^= 1; // y(R) off the curve
            if (i == wrong.length - 6) wrong[i + 4] = 0; // a = 0 for the document signature
        }
        uint256 balance = proposer.balance;
        optimistic.resolve(doc, proposer, wrong);
        assertEq(_status(id, proposer), VALID);
        assertEq(proposer.balance, balance + BOND + CHALLENGE_BOND);
    }

    function test_ChallengeOfABadDocumentSlashesTheProposer() public {
        bytes memory bad = _corrupted();
        bytes32 id = _propose(bad);
        _challenge(id);
        uint256 balance = challenger.balance;
        optimistic.resolve(bad, proposer, docHints);
        assertEq(_status(id, proposer), INVALID);
        assertEq(challenger.balance, balance + BOND + CHALLENGE_BOND);
        assertEq(uint8(optimistic.verdictOf(id)), uint8(INitroOptimisticVerifier.Verdict.NotGenuine));
        vm.expectRevert(abi.encodeWithSelector(INitroOptimisticVerifier.OptimisticNotAccepted.selector, id));
        optimistic.verify(bad);
        // A judged document cannot be proposed again.
        vm.prank(challenger);
        vm.expectRevert(
            abi.encodeWithSelector(
                INitroOptimisticVerifier.OptimisticDocumentDecided.selector,
                id,
                INitroOptimisticVerifier.Verdict.NotGenuine
            )
        );
        optimistic.propose{value: BOND}(bad);
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
        _challenge(id);
        uint256[] memory wrong = _copyOfDocHints();
        wrong[wrong.length - 5] ^= 1; // the document's s⁻¹ (low word)
        vm.expectRevert();
        optimistic.resolve(doc, proposer, wrong);
        assertEq(_status(id, proposer), CHALLENGED);
    }

    /// The full verification is resumable: the chain is cached in earlier transactions.
    function test_ResolveAfterCachingTheChainFitsTheTransactionCap() public {
        bytes32 id = _propose(doc);
        _challenge(id);
        verifier.verify(abi.encode(doc, docHints)); // caches every certificate
        uint256 before = gasleft();
        optimistic.resolve(doc, proposer, docHints);
        assertLt(before - gasleft(), TX_GAS_CAP);
        assertEq(_status(id, proposer), VALID);
    }

    function test_UnresolvedChallengeTimesOutForTheChallenger() public {
        bytes32 id = _propose(doc);
        _challenge(id);
        vm.expectRevert(
            abi.encodeWithSelector(INitroOptimisticVerifier.OptimisticWindow.selector, id, proposer)
        );
        optimistic.resolveByTimeout(id, proposer);
        vm.warp(block.timestamp + optimistic.RESOLVE_PERIOD());
        uint256 balance = challenger.balance;
        optimistic.resolveByTimeout(id, proposer);
        assertEq(challenger.balance, balance + BOND + CHALLENGE_BOND);
        // Void, not a verdict: the document is not judged and stays open to claims.
        assertEq(_status(id, proposer), INVALID);
        assertEq(uint8(optimistic.verdictOf(id)), uint8(INitroOptimisticVerifier.Verdict.None));
        assertFalse(optimistic.isAccepted(id));
    }

    // ---- Attacks (issue 18): each performs the attack and checks the attacker gains nothing ----

    address internal attacker = makeAddr("attacker");
    address internal attacker2 = makeAddr("attacker's second account");

    function _fundAttacker() internal returns (uint256) {
        vm.deal(attacker, 10 ether);
        vm.deal(attacker2, 10 ether);
        return attacker.balance + attacker2.balance;
    }

    function _attackerBalance() internal view returns (uint256) {
        return attacker.balance + attacker2.balance;
    }

    /// Flaw 3: anyone can block optimistic registration of a genuine document for free. The attacker copies
    /// the victim's document from the mempool, front-runs `propose`, and challenges its own claim from a second
    /// account; then it challenges the victim's claim too. Claims are per proposer: the victim's `propose` goes
    /// through, the victim defends its own claim and is paid the attacker's bond, the attacker's own claim is
    /// settled by the same verdict without a second verification, and the document is accepted.
    function test_AnyoneCanBlockOptimisticRegistrationForFree_FrontRunAndSelfChallenge() public {
        uint256 attackerStart = _fundAttacker();
        uint256 victimStart = proposer.balance;

        vm.prank(attacker);
        optimistic.propose{value: BOND}(doc); // front-run with the victim's document
        vm.prank(attacker2);
        optimistic.challenge{value: CHALLENGE_BOND}(docHash, attacker); // self-challenge

        _propose(doc); // the victim's own claim is not blocked
        vm.prank(attacker2);
        optimistic.challenge{value: CHALLENGE_BOND}(docHash, proposer);

        // Someone copies the victim's resolve from the mempool and lands it first: paid nothing.
        address copier = makeAddr("copier");
        vm.prank(copier);
        optimistic.resolve(doc, proposer, docHints);
        assertEq(copier.balance, 0);
        assertEq(proposer.balance, victimStart + CHALLENGE_BOND, "the defended claim pays its proposer");
        assertEq(uint8(optimistic.verdictOf(docHash)), uint8(INitroOptimisticVerifier.Verdict.Genuine));

        // The attacker's claim closes by the recorded verdict (no hints needed): its own money back, no more.
        optimistic.resolve(doc, attacker, new uint256[](0));
        assertEq(_status(docHash, attacker), VALID);
        assertEq(_attackerBalance(), attackerStart - CHALLENGE_BOND, "the attacker gained something");

        // The victim's registration goes through: the registry's call to `verify` accepts the document.
        assertEq(optimistic.verify(doc).timestampMs, docTimeMs);
        assertEq(address(optimistic).balance, 0, "bonds left behind");
    }

    /// Flaw 3, the free variant: nobody defends the attacker's self-challenged copy. It is void by timeout (the
    /// attacker's two bonds come back to it, nothing more), the document is not judged, and the victim's
    /// unchallenged claim goes live and is accepted.
    function test_AnyoneCanBlockOptimisticRegistrationForFree_UndefendedSelfChallenge() public {
        uint256 attackerStart = _fundAttacker();
        uint256 victimStart = proposer.balance;
        vm.prank(attacker);
        optimistic.propose{value: BOND}(doc);
        vm.prank(attacker2);
        optimistic.challenge{value: CHALLENGE_BOND}(docHash, attacker);
        _propose(doc);

        vm.warp(block.timestamp + optimistic.RESOLVE_PERIOD());
        optimistic.resolveByTimeout(docHash, attacker);
        assertEq(_status(docHash, attacker), INVALID);
        assertEq(uint8(optimistic.verdictOf(docHash)), uint8(INitroOptimisticVerifier.Verdict.None));
        assertEq(_attackerBalance(), attackerStart, "the attacker gained something");

        optimistic.settle(docHash, proposer);
        assertEq(proposer.balance, victimStart);
        assertTrue(optimistic.isAccepted(docHash));
        optimistic.verify(doc);
        // A full verification stays possible and changes nothing for the document.
        assertEq(_status(docHash, proposer), VALID);
    }

    /// notBefore of the 2026-01-03 document's leaf (2026-01-03T20:40:25Z, 42 s before the document).
    uint256 internal constant LEAF_NOT_BEFORE = 1_767_472_825;

    /// Flaw 4: a few seconds of clock skew make a genuine document invalid. With the chain clock 4 s behind the
    /// NSM's (a fresh leaf's notBefore is back-dated only ~3 s; here the chain stands 4 s before this leaf's
    /// notBefore) the chain alone sees the leaf as not yet valid, a distinct error. A challenger resolving in
    /// the same block does not take the proposer's bond: the chain is checked at the document's time.
    function test_ClockSkewOfAFewSecondsDoesNotMakeAGenuineDocumentInvalid() public {
        vm.warp(LEAF_NOT_BEFORE - 4);
        vm.expectPartialRevert(INitroAttestationVerifier.NitroCertificateNotYetValid.selector);
        verifier.verify(abi.encode(doc, docHints));

        bytes32 id = _propose(doc);
        _challenge(id);
        uint256 challengerStart = challenger.balance;
        uint256 proposerStart = proposer.balance;
        vm.prank(challenger);
        optimistic.resolve(doc, proposer, docHints);
        assertEq(_status(id, proposer), VALID);
        assertEq(challenger.balance, challengerStart);
        assertEq(proposer.balance, proposerStart + BOND + CHALLENGE_BOND);
    }

    /// "Not yet valid" is no verdict on the document: `resolve` reverts, nothing is paid, the claim stays open.
    function test_NotYetValidIsNoVerdict() public {
        StubNitroVerifier stub = new StubNitroVerifier();
        NitroOptimisticVerifier o = new NitroOptimisticVerifier(
            INitroAttestationVerifier(address(stub)), BOND, CHALLENGE_BOND, DEFENCE_GAS_PRICE
        );
        vm.prank(proposer);
        o.propose{value: BOND}(doc);
        vm.prank(challenger);
        o.challenge{value: CHALLENGE_BOND}(docHash, proposer);
        bytes memory notYet =
            abi.encodeWithSelector(INitroAttestationVerifier.NitroCertificateNotYetValid.selector, 4);
        stub.setFailure(notYet);
        vm.expectRevert(abi.encodeWithSelector(INitroOptimisticVerifier.OptimisticNoVerdict.selector, notYet));
        o.resolve(doc, proposer, docHints);
        assertEq(uint8(o.statusOf(docHash, proposer)), CHALLENGED);
        assertEq(uint8(o.verdictOf(docHash)), uint8(INitroOptimisticVerifier.Verdict.None));
        // An expired certificate is a verdict (checked at the document's time, it means a bad signature time).
        stub.setFailure(abi.encodeWithSelector(INitroAttestationVerifier.NitroCertificateExpired.selector, 4));
        o.resolve(doc, proposer, docHints);
        assertEq(uint8(o.verdictOf(docHash)), uint8(INitroOptimisticVerifier.Verdict.NotGenuine));
    }

    /// A certificate that expires while a claim is disputed does not decide it: the chain is checked at the
    /// document's time. Here the ~3 h leaf has expired at chain time; the full verifier alone refuses the
    /// document now, yet the claim resolves valid.
    function test_CertificateExpiringDuringTheChallengeIsNoVerdict() public {
        bytes32 id = _propose(doc);
        vm.warp(block.timestamp + optimistic.WINDOW() - 1);
        _challenge(id);
        vm.warp(block.timestamp + 4 hours);
        vm.expectRevert(abi.encodeWithSignature("NitroCertificateExpired(uint256)", 4));
        verifier.verify(abi.encode(doc, docHints));
        uint256 balance = proposer.balance;
        optimistic.resolve(doc, proposer, docHints);
        assertEq(_status(id, proposer), VALID);
        assertEq(proposer.balance, balance + BOND + CHALLENGE_BOND);
    }
}
