// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {Vm} from "forge-std/Vm.sol";

import {IEnclaveAuth} from "../../../../src/interfaces/IEnclaveAuth.sol";
import {IProofMarketplace} from "../../../../src/marketplace/IProofMarketplace.sol";
import {Marketplace_Test} from "../../Marketplace.t.sol";

contract AssignBatchWithKeys_Test is Marketplace_Test {
    address internal g1;
    address internal g2;
    address internal g3;

    function setUp() public override {
        super.setUp();
        g1 = addKeyedGenerator("g1", market, 1e18, 4, 4 * PENALTY);
        g2 = addKeyedGenerator("g2", market, 1e18, 4, 4 * PENALTY);
        g3 = addGenerator("g3", market, 1e18, 4, 4 * PENALTY); // no encryption key
    }

    function two(IProofMarketplace.Assignment memory x, IProofMarketplace.Assignment memory y)
        internal
        pure
        returns (IProofMarketplace.Assignment[] memory a)
    {
        a = new IProofMarketplace.Assignment[](2);
        (a[0], a[1]) = (x, y);
    }

    function wraps1(bytes memory w) internal pure returns (bytes[] memory ws) {
        ws = new bytes[](1);
        ws[0] = w;
    }

    /// @dev Relays with a valid engine signature and expects the single entry skipped for `reason`, nothing changed.
    function expectSkip(
        IProofMarketplace.Assignment[] memory a,
        bytes[] memory w,
        IProofMarketplace.SkipReason reason
    ) internal {
        uint256 locked = staking.lockedOf(a[0].generator, market);
        uint256 active = mp.getGenerator(a[0].generator).active;
        IProofMarketplace.Slot memory before = mp.getSlot(a[0].askId, a[0].slot);
        vm.expectEmit(address(mp));
        emit IProofMarketplace.AssignmentSkipped(a[0].askId, a[0].generator, a[0].slot, reason);
        assertEq(assignWithKeys(a, w), 0);
        IProofMarketplace.Slot memory after_ = mp.getSlot(a[0].askId, a[0].slot);
        assertEq(uint256(after_.state), uint256(before.state));
        assertEq(after_.generator, before.generator);
        assertEq(staking.lockedOf(a[0].generator, market), locked, "no lock");
        assertEq(mp.getGenerator(a[0].generator).active, active, "no capacity used");
    }

    function test_RevertWhen_Empty() external {
        IProofMarketplace.Assignment[] memory a;
        bytes[] memory w;
        bytes memory sig = signKeyedBatch(engine, a, w, block.timestamp);
        vm.expectRevert(IProofMarketplace.ProofMarketplaceEmptyBatch.selector);
        mp.assignBatchWithKeys(a, w, block.timestamp, sig);
    }

    function test_RevertWhen_WrapCountMismatch() external {
        uint256 askId = createPrivateAsk(market, 2);
        IProofMarketplace.Assignment[] memory a = two(
            IProofMarketplace.Assignment(askId, 0, g1, 1e18), IProofMarketplace.Assignment(askId, 1, g2, 1e18)
        );
        bytes[] memory w = wrapsFor(a);
        bytes[] memory fewer = wraps1(w[0]);
        bytes[] memory more = new bytes[](3);
        (more[0], more[1]) = (w[0], w[1]);
        // Checked before the signature: whatever the engine signed, the lengths must agree.
        bytes memory sig = signKeyedBatch(engine, a, w, block.timestamp);
        vm.expectRevert(
            abi.encodeWithSelector(IProofMarketplace.ProofMarketplaceKeyWrapsLength.selector, 1, 2)
        );
        mp.assignBatchWithKeys(a, fewer, block.timestamp, sig);
        vm.expectRevert(
            abi.encodeWithSelector(IProofMarketplace.ProofMarketplaceKeyWrapsLength.selector, 3, 2)
        );
        mp.assignBatchWithKeys(a, more, block.timestamp, sig);
        bytes[] memory none;
        vm.expectRevert(
            abi.encodeWithSelector(IProofMarketplace.ProofMarketplaceKeyWrapsLength.selector, 0, 2)
        );
        mp.assignBatchWithKeys(a, none, block.timestamp, sig);
        // The digest view names the mismatch too, rather than reading past the shorter array.
        vm.expectRevert(
            abi.encodeWithSelector(IProofMarketplace.ProofMarketplaceKeyWrapsLength.selector, 1, 2)
        );
        mp.keyedBatchDigest(a, fewer, block.timestamp);
    }

    function test_RevertWhen_PastValidUntil() external {
        uint256 askId = createPrivateAsk(market, 1);
        IProofMarketplace.Assignment[] memory a = one(askId, 0, g1, 1e18);
        bytes[] memory w = wrapsFor(a);
        uint256 validUntil = block.timestamp + 10;
        bytes memory sig = signKeyedBatch(engine, a, w, validUntil);
        vm.warp(validUntil + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IProofMarketplace.ProofMarketplaceBatchExpired.selector, validUntil)
        );
        mp.assignBatchWithKeys(a, w, validUntil, sig);
    }

    function test_RevertGiven_SignerNotEngine() external {
        uint256 askId = createPrivateAsk(market, 1);
        IProofMarketplace.Assignment[] memory a = one(askId, 0, g1, 1e18);
        bytes[] memory w = wrapsFor(a);
        Enclave memory stranger_ = enclave("not-an-engine");
        bytes memory sig = signKeyedBatch(stranger_, a, w, block.timestamp);
        vm.expectRevert(
            abi.encodeWithSelector(IEnclaveAuth.EnclaveAuthKeyNotLive.selector, stranger_.addr, FAMILY)
        );
        mp.assignBatchWithKeys(a, w, block.timestamp, sig);
        vm.expectRevert(IEnclaveAuth.EnclaveAuthInvalidSignature.selector);
        mp.assignBatchWithKeys(a, w, block.timestamp, new bytes(64));
    }

    /// @dev The signature covers every wrap: a relayer cannot hand a generator another slot's key, a key of its own
    /// making, or strip a wrap so the entry is skipped.
    function test_RevertWhen_WrapAlteredAfterSigning() external {
        uint256 askId = createPrivateAsk(market, 2);
        IProofMarketplace.Assignment[] memory a = two(
            IProofMarketplace.Assignment(askId, 0, g1, 1e18), IProofMarketplace.Assignment(askId, 1, g2, 1e18)
        );
        bytes[] memory w = wrapsFor(a);
        uint256 validUntil = block.timestamp;
        bytes memory sig = signKeyedBatch(engine, a, w, validUntil);

        bytes[] memory swapped = new bytes[](2);
        (swapped[0], swapped[1]) = (w[1], w[0]);
        expectRecoveredElsewhere(a, swapped, validUntil, sig);
        bytes[] memory replaced = new bytes[](2);
        (replaced[0], replaced[1]) = (keyWrap("relayer's own"), w[1]);
        expectRecoveredElsewhere(a, replaced, validUntil, sig);
        bytes memory flipped = bytes.concat(w[1]);
        flipped[80] = bytes1(uint8(flipped[80]) ^ 1);
        bytes[] memory tampered = new bytes[](2);
        (tampered[0], tampered[1]) = (w[0], flipped);
        expectRecoveredElsewhere(a, tampered, validUntil, sig);
        bytes[] memory stripped = new bytes[](2);
        stripped[0] = w[0];
        expectRecoveredElsewhere(a, stripped, validUntil, sig);
        // Swapping the entries together with their wraps changes the assignments' hash too.
        IProofMarketplace.Assignment[] memory reordered = two(a[1], a[0]);
        expectRecoveredElsewhere(reordered, swapped, validUntil, sig);

        assertEq(mp.assignBatchWithKeys(a, w, validUntil, sig), 2, "the signed batch itself applies");
    }

    /// @dev A relayer cannot move a batch between the two entry points: the type hashes differ, so a keyed
    /// signature never passes as a plain one (which would assign with no wraps) nor the converse.
    function test_RevertWhen_SignedForTheOtherEntryPoint() external {
        uint256 pub = createAsk(market, 1);
        IProofMarketplace.Assignment[] memory a = one(pub, 0, g1, 1e18);
        bytes[] memory empty = wraps1("");
        uint256 validUntil = block.timestamp;
        bytes memory plainSig = signBatch(engine, a, validUntil);
        bytes memory keyedSig = signKeyedBatch(engine, a, empty, validUntil);
        assertTrue(mp.batchDigest(a, validUntil) != mp.keyedBatchDigest(a, empty, validUntil));

        uint8 v = uint8(plainSig[64]);
        (bytes32 r, bytes32 s) = (bytes32(slice32(plainSig, 0)), bytes32(slice32(plainSig, 32)));
        address recovered = ecrecover(mp.keyedBatchDigest(a, empty, validUntil), v, r, s);
        vm.expectRevert(
            abi.encodeWithSelector(IEnclaveAuth.EnclaveAuthKeyNotLive.selector, recovered, FAMILY)
        );
        mp.assignBatchWithKeys(a, empty, validUntil, plainSig);

        v = uint8(keyedSig[64]);
        (r, s) = (bytes32(slice32(keyedSig, 0)), bytes32(slice32(keyedSig, 32)));
        recovered = ecrecover(mp.batchDigest(a, validUntil), v, r, s);
        vm.expectRevert(
            abi.encodeWithSelector(IEnclaveAuth.EnclaveAuthKeyNotLive.selector, recovered, FAMILY)
        );
        mp.assignBatch(a, validUntil, keyedSig);

        assertEq(mp.assignBatchWithKeys(a, empty, validUntil, keyedSig), 1);
    }

    function test_WhenPrivateEntryInPlainBatch() external {
        uint256 askId = createPrivateAsk(market, 1);
        vm.expectEmit(address(mp));
        emit IProofMarketplace.AssignmentSkipped(askId, g1, 0, IProofMarketplace.SkipReason.MissingKeyWrap);
        assertEq(assign(one(askId, 0, g1, 1e18)), 0);
        assertEq(uint256(mp.getSlot(askId, 0).state), uint256(IProofMarketplace.SlotState.Open));
        assertEq(staking.lockedOf(g1, market), 0);
        assertEq(mp.getGenerator(g1).active, 0);
    }

    function test_WhenWrapLengthWrong() external {
        uint256 askId = createPrivateAsk(market, 1);
        IProofMarketplace.Assignment[] memory a = one(askId, 0, g1, 1e18);
        bytes memory w = wrapFor(askId, 0, g1);
        expectSkip(a, wraps1(""), IProofMarketplace.SkipReason.MissingKeyWrap);
        bytes memory short_ = new bytes(80);
        expectSkip(a, wraps1(short_), IProofMarketplace.SkipReason.MissingKeyWrap);
        expectSkip(a, wraps1(abi.encodePacked(w, bytes1(0))), IProofMarketplace.SkipReason.MissingKeyWrap);
        assertEq(assignWithKeys(a, wraps1(w)), 1);
    }

    function test_WhenGeneratorHasNoKey() external {
        uint256 askId = createPrivateAsk(market, 1);
        expectSkip(
            one(askId, 0, g3, 1e18),
            wrapsFor(one(askId, 0, g3, 1e18)),
            IProofMarketplace.SkipReason.NoEncryptionKey
        );
        // A key in another market does not count.
        uint256 elsewhere = createMarket(IProofMarketplace.MatchingMode.OrderBook, 0);
        vm.prank(g3);
        mp.joinMarket(elsewhere, 0, 60, "");
        setEncryptionKey(g3, elsewhere);
        expectSkip(
            one(askId, 0, g3, 1e18),
            wrapsFor(one(askId, 0, g3, 1e18)),
            IProofMarketplace.SkipReason.NoEncryptionKey
        );
        setEncryptionKey(g3, market);
        assertEq(assignWithKeys(one(askId, 0, g3, 1e18)), 1);
    }

    function test_WhenPublicEntryHasWrap() external {
        uint256 pub = createAsk(market, 1);
        IProofMarketplace.Assignment[] memory a = one(pub, 0, g1, 1e18);
        expectSkip(a, wrapsFor(a), IProofMarketplace.SkipReason.MissingKeyWrap);
        // Any non-empty bytes, not only a well-formed wrap.
        expectSkip(a, wraps1(hex"00"), IProofMarketplace.SkipReason.MissingKeyWrap);
        assertEq(assignWithKeys(a, wraps1("")), 1);
    }

    function test_WhenOtherChecksFail() external {
        uint256 askId = createPrivateAsk(market, 2);
        expectSkip(
            one(askId, 0, g1, uint256(REWARD) + 1),
            wrapsFor(one(askId, 0, g1, 1e18)),
            IProofMarketplace.SkipReason.PriceAboveReward
        );
        assertEq(assignWithKeys(one(askId, 0, g1, 1e18)), 1);
        expectSkip(
            one(askId, 0, g2, 1e18),
            wrapsFor(one(askId, 0, g2, 1e18)),
            IProofMarketplace.SkipReason.SlotNotOpen
        );
        expectSkip(
            one(askId, 1, g1, 1e18),
            wrapsFor(one(askId, 1, g1, 1e18)),
            IProofMarketplace.SkipReason.GeneratorAlreadyOnAsk
        );
    }

    function test_WhenMixedBatchApplies() external {
        uint256 pub = createAsk(market, 1);
        uint256 priv = createPrivateAsk(market, 1);
        IProofMarketplace.Assignment[] memory a = new IProofMarketplace.Assignment[](3);
        a[0] = IProofMarketplace.Assignment(pub, 0, g3, 1e18); // g3 has no key: fine for a public ask
        a[1] = IProofMarketplace.Assignment(priv, 0, g1, 2e18);
        a[2] = IProofMarketplace.Assignment(priv, 0, g2, 2e18); // the same slot again: skipped
        bytes[] memory w = new bytes[](3);
        w[1] = wrapFor(priv, 0, g1);
        w[2] = wrapFor(priv, 0, g2);
        uint64 deadline = uint64(block.timestamp + PROVING_TIME);

        vm.expectEmit(address(mp));
        emit IProofMarketplace.AssignmentAccepted(pub, g3, 0, 1e18, deadline);
        vm.expectEmit(address(mp));
        emit IProofMarketplace.AssignmentAccepted(priv, g1, 0, 2e18, deadline);
        vm.expectEmit(address(mp));
        emit IProofMarketplace.InputsKeyWrapped(priv, 0, g1, w[1]);
        vm.expectEmit(address(mp));
        emit IProofMarketplace.AssignmentSkipped(priv, g2, 0, IProofMarketplace.SkipReason.SlotNotOpen);
        vm.recordLogs();
        assertEq(assignWithKeys(a, w), 2);

        Vm.Log[] memory logs = vm.getRecordedLogs();
        uint256 wrapped;
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].topics[0] == IProofMarketplace.InputsKeyWrapped.selector) {
                ++wrapped;
                // Right after its AssignmentAccepted.
                assertEq(logs[i - 1].topics[0], IProofMarketplace.AssignmentAccepted.selector);
                assertEq(logs[i - 1].topics[1], bytes32(priv));
            }
        }
        assertEq(wrapped, 1, "InputsKeyWrapped exactly for the private entry");
        assertEq(mp.getSlot(priv, 0).generator, g1);
        assertEq(mp.getSlot(pub, 0).generator, g3);
        assertEq(staking.lockedOf(g1, market), PENALTY);
        assertEq(staking.lockedOf(g3, market), PENALTY);
        assertEq(mp.getGenerator(g1).active, 1);
        assertEq(mp.totalEscrow(), 2 * uint256(REWARD), "assignment moves no money");
        assertConserved();
    }

    function test_GivenRedundancyTwo() external {
        uint256 askId = createPrivateAsk(market, 2);
        IProofMarketplace.Assignment[] memory a = two(
            IProofMarketplace.Assignment(askId, 1, g2, 1e18), IProofMarketplace.Assignment(askId, 0, g1, 1e18)
        );
        bytes[] memory w = wrapsFor(a);
        assertTrue(keccak256(w[0]) != keccak256(w[1]));
        uint64 deadline = uint64(block.timestamp + PROVING_TIME);
        vm.expectEmit(address(mp));
        emit IProofMarketplace.AssignmentAccepted(askId, g2, 1, 1e18, deadline);
        vm.expectEmit(address(mp));
        emit IProofMarketplace.InputsKeyWrapped(askId, 1, g2, w[0]);
        vm.expectEmit(address(mp));
        emit IProofMarketplace.AssignmentAccepted(askId, g1, 0, 1e18, deadline);
        vm.expectEmit(address(mp));
        emit IProofMarketplace.InputsKeyWrapped(askId, 0, g1, w[1]);
        assertEq(assignWithKeys(a, w), 2);
        assertEq(mp.getAsk(askId).assigned, 2);

        // Relayed again: nothing applies, nothing is wrapped.
        vm.recordLogs();
        assertEq(assignWithKeys(a, w), 0);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i; i < logs.length; ++i) {
            assertEq(logs[i].topics[0], IProofMarketplace.AssignmentSkipped.selector);
        }
        assertEq(staking.lockedOf(g1, market), PENALTY, "locked once");
    }

    function expectRecoveredElsewhere(
        IProofMarketplace.Assignment[] memory a,
        bytes[] memory w,
        uint256 validUntil,
        bytes memory sig
    ) internal {
        address recovered = ecrecover(
            mp.keyedBatchDigest(a, w, validUntil),
            uint8(sig[64]),
            bytes32(slice32(sig, 0)),
            bytes32(slice32(sig, 32))
        );
        assertTrue(recovered != engine.addr);
        vm.expectRevert(
            abi.encodeWithSelector(IEnclaveAuth.EnclaveAuthKeyNotLive.selector, recovered, FAMILY)
        );
        mp.assignBatchWithKeys(a, w, validUntil, sig);
    }

    function slice32(bytes memory b, uint256 at) internal pure returns (uint256 word) {
        assembly ("memory-safe") {
            word := mload(add(add(b, 32), at))
        }
    }
}
