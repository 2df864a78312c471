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

    /*//////////////////////////////////////////////////////////////
                                MARKETS
    //////////////////////////////////////////////////////////////*/

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

    /*//////////////////////////////////////////////////////////////
                               GENERATORS
    //////////////////////////////////////////////////////////////*/

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

    function depositStake(address g, uint256 marketId, uint256 amount) internal {
        stakeToken.mint(g, amount);
        vm.startPrank(g);
        stakeToken.approve(address(staking), amount);
        staking.deposit(marketId, amount);
        vm.stopPrank();
    }

    /*//////////////////////////////////////////////////////////////
                                  ASKS
    //////////////////////////////////////////////////////////////*/

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

    /*//////////////////////////////////////////////////////////////
                           SIGNED ASSIGNMENTS
    //////////////////////////////////////////////////////////////*/

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

    /*//////////////////////////////////////////////////////////////
                            SCHNORR PROOFS
    //////////////////////////////////////////////////////////////*/

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
