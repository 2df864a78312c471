// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {IProofMarketplace} from "../../src/marketplace/IProofMarketplace.sol";
import {NativeStaking} from "../../src/marketplace/NativeStaking.sol";
import {ProofMarketplace} from "../../src/marketplace/ProofMarketplace.sol";
import {SchnorrBn254Verifier} from "../../src/marketplace/verifiers/SchnorrBn254Verifier.sol";
import {Base_Test} from "../Base.t.sol";
import {TestToken} from "./mocks/TestToken.sol";
import {SchnorrProofs} from "./utils/SchnorrProofs.sol";

/// @notice Shared fixture of the marketplace tests: the enclave registry with a live matching-engine key, tokens,
/// the staking module, the Schnorr verifier and the marketplace; helpers for markets, generators, asks, signed
/// batches and proofs.
abstract contract Marketplace_Test is Base_Test {
    uint96 internal constant PENALTY = 10e18;
    uint96 internal constant REWARD = 5e18;
    uint32 internal constant PROVING_TIME = 1 hours;
    uint64 internal constant EXPIRY_IN = 1 days;
    uint16 internal constant COMPENSATION_BPS = 5000;
    /// @dev The statement's witness in every default ask.
    uint256 internal constant WITNESS = 0xc0ffee;

    address internal requester = makeAddr("requester");
    address internal refundTo = makeAddr("refundTo");
    address internal treasury = makeAddr("treasury");
    address internal relayer = makeAddr("relayer");

    TestToken internal token;
    TestToken internal stakeToken;
    NativeStaking internal staking;
    SchnorrBn254Verifier internal schnorr;
    ProofMarketplace internal mp;
    Enclave internal engine;

    uint256 internal market;

    function setUp() public virtual override {
        super.setUp();
        registerImage(FAMILY, 1);
        engine = enclave("engine");
        registerKey(FAMILY, 1, engine);

        token = new TestToken("Payment", "PAY");
        stakeToken = new TestToken("Stake", "STK");
        staking = new NativeStaking(stakeToken, treasury, COMPENSATION_BPS);
        schnorr = new SchnorrBn254Verifier();
        mp = new ProofMarketplace(registry, FAMILY, token, staking);
        staking.bindMarketplace(address(mp));

        vm.label(address(mp), "ProofMarketplace");
        vm.label(address(staking), "NativeStaking");
        vm.label(address(schnorr), "SchnorrBn254Verifier");

        market = createMarket(IProofMarketplace.MatchingMode.OrderBook, 0);
        token.mint(requester, 1e30);
        vm.prank(requester);
        token.approve(address(mp), type(uint256).max);
    }

    // ---- Markets ----

    function marketParams(IProofMarketplace.MatchingMode mode, uint32 bidWindow)
        internal
        view
        returns (IProofMarketplace.MarketParams memory)
    {
        return IProofMarketplace.MarketParams({
            verifier: schnorr,
            mode: mode,
            bidWindow: bidWindow,
            slashingPenalty: PENALTY,
            proverFamily: bytes32(0),
            activationDelay: 0
        });
    }

    function createMarket(IProofMarketplace.MatchingMode mode, uint32 bidWindow) internal returns (uint256) {
        return mp.createMarket(marketParams(mode, bidWindow));
    }

    // ---- Generators ----

    /// @dev A registered generator that joined `marketId` at `cost`, with `stake` deposited for it.
    function addGenerator(string memory name, uint256 marketId, uint96 cost, uint32 capacity, uint256 stake)
        internal
        returns (address g)
    {
        g = makeAddr(name);
        vm.startPrank(g);
        mp.registerGenerator(capacity);
        mp.joinMarket(marketId, cost, PROVING_TIME / 2, "");
        vm.stopPrank();
        if (stake != 0) depositStake(g, marketId, stake);
    }

    /// @dev As `addGenerator`, with an encryption key set in `marketId` (a market without a prover family).
    function addKeyedGenerator(
        string memory name,
        uint256 marketId,
        uint96 cost,
        uint32 capacity,
        uint256 stake
    ) internal returns (address g) {
        g = addGenerator(name, marketId, cost, capacity, stake);
        setEncryptionKey(g, marketId);
    }

    function depositStake(address g, uint256 marketId, uint256 amount) internal {
        stakeToken.mint(g, amount);
        vm.startPrank(g);
        stakeToken.approve(address(staking), amount);
        staking.deposit(marketId, amount);
        vm.stopPrank();
    }

    // ---- Asks ----

    function askParams(uint256 marketId, uint8 redundancy)
        internal
        view
        returns (IProofMarketplace.AskParams memory)
    {
        return IProofMarketplace.AskParams({
            marketId: marketId,
            reward: REWARD,
            expiry: uint64(block.timestamp + EXPIRY_IN),
            provingTime: PROVING_TIME,
            redundancy: redundancy,
            refundAddress: refundTo,
            proverData: statement(WITNESS)
        });
    }

    function createAsk(uint256 marketId, uint8 redundancy) internal returns (uint256) {
        return createAsk(askParams(marketId, redundancy));
    }

    function createAsk(IProofMarketplace.AskParams memory p) internal returns (uint256 id) {
        vm.prank(requester);
        id = mp.createAsk(p);
    }

    /// @dev Expects `AskCreated` for ask `id` created by the requester from `p`.
    function expectAskCreated(uint256 id, IProofMarketplace.AskParams memory p) internal {
        vm.expectEmit(address(mp));
        emit IProofMarketplace.AskCreated(
            id,
            p.marketId,
            requester,
            uint96(p.reward),
            p.expiry,
            p.provingTime,
            p.redundancy,
            p.refundAddress,
            keccak256(p.proverData),
            p.proverData
        );
    }

    // ---- Signed assignments ----

    function one(uint256 askId, uint256 slot, address g, uint256 price)
        internal
        pure
        returns (IProofMarketplace.Assignment[] memory a)
    {
        a = new IProofMarketplace.Assignment[](1);
        a[0] = IProofMarketplace.Assignment(askId, slot, g, price);
    }

    function signBatch(Enclave memory signer, IProofMarketplace.Assignment[] memory a, uint256 validUntil)
        internal
        view
        returns (bytes memory)
    {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(signer.privateKey, mp.batchDigest(a, validUntil));
        return abi.encodePacked(r, s, v);
    }

    /// @dev Signs with the engine key (valid for a minute) and relays; returns how many were accepted.
    function assign(IProofMarketplace.Assignment[] memory a) internal returns (uint256) {
        uint256 validUntil = block.timestamp + 60;
        bytes memory sig = signBatch(engine, a, validUntil);
        vm.prank(relayer);
        return mp.assignBatch(a, validUntil, sig);
    }

    // ---- Private asks ----

    /// @dev Stand-in for a requester's encrypted inputs (`N ‖ AES-GCM(...)`): the contract only hashes them.
    function privateInputs(uint256 len) internal pure returns (bytes memory inputs) {
        inputs = new bytes(len);
        for (uint256 i; i < len; ++i) {
            inputs[i] = bytes1(uint8(uint256(keccak256(abi.encode(i))) % 256));
        }
    }

    /// @dev A well-formed `KEY_WRAP_LEN`-byte wrap (ephemeral key 0x02 ‖ x, ciphertext, tag) derived from `tag`.
    function keyWrap(bytes32 tag) internal pure returns (bytes memory) {
        return abi.encodePacked(
            bytes1(0x02),
            keccak256(abi.encode(tag, 0)),
            keccak256(abi.encode(tag, 1)),
            bytes16(keccak256(abi.encode(tag, 2)))
        );
    }

    /// @dev The engine's wrap of an ask's content key to `g` for `slot` (distinct per ask, slot and generator).
    function wrapFor(uint256 askId, uint256 slot, address g) internal pure returns (bytes memory) {
        return keyWrap(keccak256(abi.encode("to generator", askId, slot, g)));
    }

    /// @dev A private ask with the inputs kept off chain (1 KiB) and the content key wrapped to the engine.
    function createPrivateAsk(uint256 marketId, uint8 redundancy) internal returns (uint256) {
        return createPrivateAsk(
            askParams(marketId, redundancy), keccak256(privateInputs(1024)), keyWrap("to engine"), ""
        );
    }

    function createPrivateAsk(
        IProofMarketplace.AskParams memory p,
        bytes32 inputsHash,
        bytes memory engineKeyWrap,
        bytes memory inlineInputs
    ) internal returns (uint256 id) {
        vm.prank(requester);
        id = mp.createPrivateAsk(p, inputsHash, engineKeyWrap, inlineInputs);
    }

    /// @dev A 33-byte compressed-point-shaped encryption key for `g` (the contract checks only length and prefix).
    function encryptionKey(address g) internal pure returns (bytes memory) {
        return abi.encodePacked(bytes1(0x03), keccak256(abi.encode("encryption key", g)));
    }

    /// @dev `g` sets its encryption key in a market without a prover family.
    function setEncryptionKey(address g, uint256 marketId) internal {
        bytes memory key = encryptionKey(g);
        vm.prank(g);
        mp.setEncryptionKey(marketId, key, "");
    }

    /// @dev One engine wrap per entry (every entry on a private ask).
    function wrapsFor(IProofMarketplace.Assignment[] memory a) internal pure returns (bytes[] memory w) {
        w = new bytes[](a.length);
        for (uint256 i; i < a.length; ++i) {
            w[i] = wrapFor(a[i].askId, a[i].slot, a[i].generator);
        }
    }

    function signKeyedBatch(
        Enclave memory signer,
        IProofMarketplace.Assignment[] memory a,
        bytes[] memory wraps,
        uint256 validUntil
    ) internal view returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) =
            vm.sign(signer.privateKey, mp.keyedBatchDigest(a, wraps, validUntil));
        return abi.encodePacked(r, s, v);
    }

    /// @dev Signs with the engine key (valid for a minute) and relays a keyed batch; returns how many were accepted.
    function assignWithKeys(IProofMarketplace.Assignment[] memory a, bytes[] memory wraps)
        internal
        returns (uint256)
    {
        uint256 validUntil = block.timestamp + 60;
        bytes memory sig = signKeyedBatch(engine, a, wraps, validUntil);
        vm.prank(relayer);
        return mp.assignBatchWithKeys(a, wraps, validUntil, sig);
    }

    /// @dev Assigns private entries with their engine wraps.
    function assignWithKeys(IProofMarketplace.Assignment[] memory a) internal returns (uint256) {
        return assignWithKeys(a, wrapsFor(a));
    }

    function signInvalidInputs(Enclave memory signer, uint256 askId, uint256 slot, address g, uint256 payment)
        internal
        view
        returns (bytes memory)
    {
        (uint8 v, bytes32 r, bytes32 s) =
            vm.sign(signer.privateKey, mp.invalidInputsDigest(askId, slot, g, payment));
        return abi.encodePacked(r, s, v);
    }

    // ---- Schnorr proofs ----

    function statement(uint256 witness) internal view returns (bytes memory) {
        return SchnorrProofs.statement(witness);
    }

    function prove(uint256 witness, uint256 nonce) internal view returns (bytes memory) {
        return SchnorrProofs.prove(schnorr, witness, nonce);
    }

    /// @dev The assigned generator `g` proves the default statement (arguments built before the prank).
    function submit(address g, uint256 askId, uint256 slot) internal {
        bytes memory data = statement(WITNESS);
        bytes memory proof = prove(WITNESS, uint256(keccak256(abi.encode(g, askId))));
        vm.prank(g);
        mp.submitProof(askId, slot, data, proof);
    }

    /// @dev Payment-token conservation: the marketplace holds exactly escrow plus credited payments.
    function assertConserved() internal view {
        assertEq(
            token.balanceOf(address(mp)), mp.totalEscrow() + mp.totalWithdrawable(), "payment conservation"
        );
        assertEq(
            stakeToken.balanceOf(address(staking)),
            staking.totalStaked() + staking.totalClaimable(),
            "stake conservation"
        );
    }
}
