// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {CommonBase} from "forge-std/Base.sol";
import {StdUtils} from "forge-std/StdUtils.sol";

import {IProofMarketplace} from "../../../../src/marketplace/IProofMarketplace.sol";
import {NativeStaking} from "../../../../src/marketplace/NativeStaking.sol";
import {ProofMarketplace} from "../../../../src/marketplace/ProofMarketplace.sol";
import {SchnorrBn254Verifier} from "../../../../src/marketplace/verifiers/SchnorrBn254Verifier.sol";
import {TestToken} from "../../mocks/TestToken.sol";
import {SchnorrProofs} from "../../utils/SchnorrProofs.sol";

/// @notice Drives the marketplace through random but well-formed sequences: public and private asks, signed batches
/// with and without key wraps (with replays, conflicting entries, missing or malformed wraps, generators without an
/// encryption key), proofs, discards, invalid-inputs settlements, slashes, cancellations, refunds, withdrawals and
/// time. Every call it makes is one
/// the contract must accept, so any revert is a failure (`fail_on_revert`).
contract MarketplaceHandler is CommonBase, StdUtils {
    uint256 internal constant N =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;
    uint256 internal constant WITNESS = 0xbeef;
    uint32 internal constant PROVING_TIME = 1 hours;

    ProofMarketplace public immutable mp;
    NativeStaking public immutable staking;
    TestToken public immutable token;
    SchnorrBn254Verifier public immutable schnorr;
    uint256 public immutable market;
    uint256 internal immutable _ENGINE_KEY;
    address public immutable requester;
    address public immutable refundTo;

    address[] public generators;
    /// @dev Ask ids created so far.
    uint256[] public asks;
    /// @dev Everyone who may hold credited payments.
    address[] public payees;

    /// @dev Ghost: tokens that left the marketplace through `withdraw`, and that entered through `createAsk`.
    uint256 public ghostWithdrawn;
    uint256 public ghostEscrowed;
    /// @dev Ghost: how often each path really ran (so a run that exercised nothing is noticed).
    uint256 public ghostAccepted;
    uint256 public ghostSkipped;
    uint256 public ghostProofs;
    uint256 public ghostSlashes;
    uint256 public ghostPrivateAsks;
    uint256 public ghostKeyedAccepted;
    uint256 public ghostDiscards;
    uint256 public ghostInvalidInputs;

    constructor(
        ProofMarketplace mp_,
        NativeStaking staking_,
        TestToken token_,
        SchnorrBn254Verifier schnorr_,
        uint256 market_,
        uint256 engineKey,
        address[] memory generators_,
        address requester_,
        address refundTo_
    ) {
        mp = mp_;
        staking = staking_;
        token = token_;
        schnorr = schnorr_;
        market = market_;
        _ENGINE_KEY = engineKey;
        generators = generators_;
        requester = requester_;
        refundTo = refundTo_;
        payees = generators_;
        payees.push(refundTo_);
    }

    function askCount() external view returns (uint256) {
        return asks.length;
    }

    function generatorCount() external view returns (uint256) {
        return generators.length;
    }

    function payeeCount() external view returns (uint256) {
        return payees.length;
    }

    // ---- Actions ----

    function createAsk(uint256 reward, uint8 redundancy, uint32 expiresIn) external {
        if (asks.length >= 40) return;
        IProofMarketplace.AskParams memory p = _askParams(reward, redundancy, expiresIn);
        vm.prank(requester);
        asks.push(mp.createAsk(p));
        ghostEscrowed += p.reward * p.redundancy;
    }

    /// @dev A private ask, its inputs inline or off chain.
    function createPrivateAsk(uint256 reward, uint8 redundancy, uint32 expiresIn, bool inlineInputs)
        external
    {
        if (asks.length >= 40) return;
        IProofMarketplace.AskParams memory p = _askParams(reward, redundancy, expiresIn);
        bytes memory inputs = abi.encode(keccak256(abi.encode(asks.length, reward)), "encrypted inputs");
        vm.prank(requester);
        asks.push(
            mp.createPrivateAsk(
                p, keccak256(inputs), _wrap(keccak256(inputs)), inlineInputs ? inputs : bytes("")
            )
        );
        ghostEscrowed += p.reward * p.redundancy;
        ++ghostPrivateAsks;
    }

    function _askParams(uint256 reward, uint8 redundancy, uint32 expiresIn)
        internal
        view
        returns (IProofMarketplace.AskParams memory)
    {
        return IProofMarketplace.AskParams({
            marketId: market,
            reward: bound(reward, 1e18, 100e18),
            expiry: uint64(block.timestamp + bound(expiresIn, 0, 2 days)),
            provingTime: PROVING_TIME,
            redundancy: uint8(bound(redundancy, 1, 16)),
            refundAddress: refundTo,
            proverData: _statement()
        });
    }

    /// @dev A signed batch of up to 8 entries over random asks, slots, generators and prices, some of them invalid
    /// or already applied: the contract must apply the valid ones and skip the rest, never revert.
    function assignBatch(uint256 seed, uint8 size) external {
        if (asks.length == 0) return;
        IProofMarketplace.Assignment[] memory a = _entries(seed, size);
        uint256 validUntil = block.timestamp;
        (uint8 v, bytes32 rr, bytes32 s) = vm.sign(_ENGINE_KEY, mp.batchDigest(a, validUntil));
        uint256 accepted = mp.assignBatch(a, validUntil, abi.encodePacked(rr, s, v));
        ghostAccepted += accepted;
        ghostSkipped += a.length - accepted;
    }

    /// @dev As `assignBatch`, through `assignBatchWithKeys`: private entries mostly carry a well-formed wrap (now and
    /// then a truncated one), public entries mostly none (now and then a stray one).
    function assignBatchWithKeys(uint256 seed, uint8 size) external {
        if (asks.length == 0) return;
        IProofMarketplace.Assignment[] memory a = _entries(seed, size);
        bytes[] memory wraps = new bytes[](a.length);
        for (uint256 i; i < a.length; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, i, "wrap")));
            bool malformed = r % 7 == 0;
            if (mp.getAsk(a[i].askId).confidential) {
                bytes memory w = _wrap(bytes32(r));
                if (malformed) assembly ("memory-safe") { mstore(w, 80) }
                wraps[i] = w;
            } else if (malformed) {
                wraps[i] = _wrap(bytes32(r));
            }
        }
        uint256 validUntil = block.timestamp;
        (uint8 v, bytes32 rr, bytes32 s) = vm.sign(_ENGINE_KEY, mp.keyedBatchDigest(a, wraps, validUntil));
        uint256 accepted = mp.assignBatchWithKeys(a, wraps, validUntil, abi.encodePacked(rr, s, v));
        ghostAccepted += accepted;
        ghostKeyedAccepted += accepted;
        ghostSkipped += a.length - accepted;
    }

    function _entries(uint256 seed, uint8 size)
        internal
        view
        returns (IProofMarketplace.Assignment[] memory a)
    {
        uint256 n = bound(size, 1, 8);
        a = new IProofMarketplace.Assignment[](n);
        for (uint256 i; i < n; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            uint256 askId = asks[r % asks.length];
            uint256 reward = mp.getAsk(askId).reward;
            // Quarters of the reward (some below a generator's cost), and now and then one wei above it.
            uint256 price = (r >> 24) % 9 == 0 ? reward + 1 : reward * ((r >> 32) % 5) / 4;
            a[i] = IProofMarketplace.Assignment({
                askId: askId,
                slot: (r >> 8) % 18,
                generator: generators[(r >> 16) % generators.length],
                price: price
            });
        }
    }

    function submitProof(uint256 askSeed, uint256 slotSeed) external {
        (bool found, uint256 askId, uint256 slot, address generator) = _running(askSeed, slotSeed, false);
        if (!found) return;
        bytes memory data = _statement();
        bytes memory proof = _prove(askSeed);
        vm.prank(generator);
        mp.submitProof(askId, slot, data, proof);
        ++ghostProofs;
    }

    /// @dev The slot's generator gives it back before its deadline.
    function discard(uint256 askSeed, uint256 slotSeed) external {
        (bool found, uint256 askId, uint256 slot, address generator) = _running(askSeed, slotSeed, false);
        if (!found) return;
        vm.prank(generator);
        mp.discard(askId, slot);
        ++ghostDiscards;
    }

    /// @dev The engine's statement that a private ask's inputs are invalid, relayed by the handler, paying up to the
    /// slot's price.
    function settleInvalidInputs(uint256 askSeed, uint256 slotSeed, uint256 paymentSeed) external {
        (bool found, uint256 askId, uint256 slot, address generator) = _running(askSeed, slotSeed, true);
        if (!found) return;
        uint256 payment = bound(paymentSeed, 0, mp.getSlot(askId, slot).price);
        (uint8 v, bytes32 r, bytes32 s) =
            vm.sign(_ENGINE_KEY, mp.invalidInputsDigest(askId, slot, generator, payment));
        mp.settleInvalidInputs(askId, slot, payment, abi.encodePacked(r, s, v));
        ++ghostInvalidInputs;
    }

    function slash(uint256 askSeed, uint256 slotSeed) external {
        (bool found, uint256 askId, uint256 slot) =
            _find(askSeed, slotSeed, IProofMarketplace.SlotState.Assigned, false);
        if (!found) return;
        IProofMarketplace.Slot memory s = mp.getSlot(askId, slot);
        if (block.timestamp <= s.deadline) vm.warp(s.deadline + 1);
        mp.slash(askId, slot);
        ++ghostSlashes;
    }

    function cancel(uint256 askSeed) external {
        if (asks.length == 0) return;
        uint256 askId = asks[askSeed % asks.length];
        IProofMarketplace.Ask memory a = mp.getAsk(askId);
        if (a.assigned != 0 || a.cancelled || a.refunded) return;
        vm.prank(requester);
        mp.cancelAsk(askId);
    }

    function refundExpired(uint256 askSeed) external {
        if (asks.length == 0) return;
        uint256 askId = asks[askSeed % asks.length];
        IProofMarketplace.Ask memory a = mp.getAsk(askId);
        if (block.timestamp <= a.expiry || a.cancelled || a.refunded || a.assigned == a.redundancy) return;
        mp.refundExpired(askId);
    }

    function withdraw(uint256 who) external {
        address account = payees[who % payees.length];
        uint256 amount = mp.withdrawableOf(account);
        if (amount == 0) return;
        vm.prank(account);
        mp.withdraw();
        ghostWithdrawn += amount;
    }

    function warp(uint32 secs) external {
        vm.warp(block.timestamp + bound(secs, 1, 3 hours));
    }

    // ---- Helpers ----

    /// @dev An assigned slot (of a private ask when `privateOnly`) whose deadline has not passed, and its generator.
    function _running(uint256 askSeed, uint256 slotSeed, bool privateOnly)
        internal
        view
        returns (bool found, uint256 askId, uint256 slot, address generator)
    {
        (found, askId, slot) = _find(askSeed, slotSeed, IProofMarketplace.SlotState.Assigned, privateOnly);
        if (!found) return (false, 0, 0, address(0));
        IProofMarketplace.Slot memory s = mp.getSlot(askId, slot);
        return (block.timestamp <= s.deadline, askId, slot, s.generator);
    }

    function _find(uint256 askSeed, uint256 slotSeed, IProofMarketplace.SlotState want, bool privateOnly)
        internal
        view
        returns (bool, uint256, uint256)
    {
        uint256 n = asks.length;
        for (uint256 i; i < n; ++i) {
            uint256 askId = asks[(askSeed % n + i) % n];
            if (privateOnly && !mp.getAsk(askId).confidential) continue;
            for (uint256 j; j < 16; ++j) {
                uint256 slot = (slotSeed % 16 + j) % 16;
                if (mp.getSlot(askId, slot).state == want) return (true, askId, slot);
            }
        }
        return (false, 0, 0);
    }

    /// @dev An 81-byte wrap-shaped value (the contract checks its length; the engine and generators its content).
    function _wrap(bytes32 tag) internal pure returns (bytes memory) {
        return abi.encodePacked(
            bytes1(0x02), keccak256(abi.encode(tag, 0)), keccak256(abi.encode(tag, 1)), bytes16(tag)
        );
    }

    function _statement() internal view returns (bytes memory) {
        return SchnorrProofs.statement(WITNESS);
    }

    function _prove(uint256 nonceSeed) internal view returns (bytes memory) {
        return SchnorrProofs.prove(schnorr, WITNESS, bound(nonceSeed, 1, SchnorrProofs.N - 1));
    }
}
