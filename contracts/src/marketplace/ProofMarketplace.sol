// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {EnclaveAuth} from "../EnclaveAuth.sol";
import {IEnclaveRegistry} from "../interfaces/IEnclaveRegistry.sol";
import {IProofMarketplace} from "./IProofMarketplace.sol";
import {IStakingModule} from "./IStakingModule.sol";
import {IVerifier} from "./IVerifier.sol";

/// @title ProofMarketplace
/// @notice Requesters escrow rewards for proofs; generators offer capacity backed by stake; the matching engine,
/// running in an attested enclave, assigns asks to generators in EIP-712-signed batches; generators submit proofs
/// checked by the market's verifier and are paid; a missed deadline is slashed by anyone.
/// @dev Trust: the matching engine family's live keys (via `EnclaveAuth` and the `EnclaveRegistry`) decide WHO is
/// assigned at WHAT price; the contract bounds every assignment (price <= reward, generator joined, capacity, stake,
/// proving time, distinct generators per ask, ask expiry, market activation, sealed-bid window). Each market's
/// verifier decides what a valid proof is. The payment token (ERC-20, no fee-on-transfer) and the staking module
/// are fixed at deployment. There is no admin.
///
/// Storage is laid out for `assignBatch`: an ask's hot fields share one slot, and each of its slots is a storage
/// word created (non-zero) with the ask, so an assignment rewrites warm-able words instead of creating new ones.
contract ProofMarketplace is IProofMarketplace, EnclaveAuth {
    using SafeERC20 for IERC20;

    // ---- Constants ----

    /// @notice EIP-712 type hash of one assignment.
    bytes32 public constant ASSIGNMENT_TYPEHASH =
        keccak256("Assignment(uint256 askId,uint256 slot,address generator,uint256 price)");

    /// @notice EIP-712 type hash of a batch (the referenced `Assignment` type appended).
    bytes32 public constant BATCH_TYPEHASH = keccak256(
        "AssignmentBatch(Assignment[] assignments,uint256 validUntil)Assignment(uint256 askId,uint256 slot,address generator,uint256 price)"
    );

    /// @notice EIP-712 type hash of a batch whose private asks' entries carry the content key wrapped to their
    /// generator (`keyWraps[i]` for `assignments[i]`, empty for a public ask's entry).
    bytes32 public constant KEYED_BATCH_TYPEHASH = keccak256(
        "KeyedAssignmentBatch(Assignment[] assignments,bytes[] keyWraps,uint256 validUntil)Assignment(uint256 askId,uint256 slot,address generator,uint256 price)"
    );

    /// @notice EIP-712 type hash of the engine's statement that a private ask's inputs fail the market's input
    /// check, settling one slot and paying its generator `payment`.
    bytes32 public constant INVALID_INPUTS_TYPEHASH =
        keccak256("InvalidInputs(uint256 askId,uint256 slot,address generator,uint256 payment)");

    /// @notice EIP-712 type hash a prover enclave signs to bind a generator's encryption key in a market with a
    /// prover family (`keyHash` = keccak256 of the 33-byte key).
    bytes32 public constant ENCRYPTION_KEY_BINDING_TYPEHASH =
        keccak256("EncryptionKeyBinding(address generator,uint256 marketId,bytes32 keyHash)");

    /// @notice Length of a wrapped content key: ephemeral key (33) ‖ encrypted key (32) ‖ tag (16).
    uint256 public constant KEY_WRAP_LEN = 81;

    /// @notice Largest encrypted inputs carried in `createPrivateAsk`'s calldata (larger ones stay off chain).
    uint256 public constant MAX_INLINE_INPUTS = 32_768;

    /// @notice EIP-712 type hash a prover enclave signs to let a generator join a private market.
    bytes32 public constant PROVER_BINDING_TYPEHASH =
        keccak256("ProverBinding(address generator,uint256 marketId)");

    /// @notice Largest redundancy of an ask.
    uint8 public constant MAX_REDUNDANCY = 16;

    /// @notice Largest generator capacity.
    uint32 public constant MAX_CAPACITY = 1_000_000;

    /// @notice Largest market activation delay.
    uint32 public constant MAX_ACTIVATION_DELAY = 30 days;

    uint8 private constant _CANCELLED = 1;
    uint8 private constant _REFUNDED = 2;

    // ---- Immutables ----

    /// @notice Family of the matching-engine enclave keys allowed to sign assignment batches.
    bytes32 public immutable MATCHING_ENGINE_FAMILY;

    /// @notice Token of rewards and payments.
    IERC20 public immutable PAYMENT_TOKEN;

    /// @notice The staking module backing generators.
    IStakingModule public immutable STAKING;

    // ---- Storage ----

    struct MarketData {
        // slot 0: read by every assignment
        IVerifier verifier;
        uint40 activation;
        uint32 bidWindow;
        MatchingMode mode;
        // slot 1
        uint96 slashingPenalty;
        address creator;
        // slot 2
        bytes32 proverFamily;
    }

    /// @dev The fields an assignment reads and writes, in one slot (240 bits).
    struct AskCore {
        uint32 market;
        uint96 reward;
        uint40 expiry;
        uint32 provingTime;
        uint8 redundancy;
        uint8 assigned;
        uint8 flags;
        bool confidential;
    }

    struct AskInfo {
        address requester;
        uint40 biddingEnds;
        address refundAddress;
        bytes32 proverDataHash;
    }

    /// @dev One word per slot (176 bits): written with state Open when the ask is created.
    struct SlotData {
        uint32 generatorId;
        uint96 price;
        uint40 deadline;
        SlotState state;
    }

    struct GeneratorData {
        bool registered;
        uint32 capacity;
        uint32 active;
        uint32 id;
    }

    uint256 private _marketCount;
    uint256 private _askCount;
    uint32 private _generatorCount;

    mapping(uint256 marketId => MarketData) private _markets;
    mapping(uint256 askId => AskCore) private _asks;
    mapping(uint256 askId => AskInfo) private _askInfo;
    mapping(uint256 askId => SlotData[16]) private _slots;
    mapping(address generator => GeneratorData) private _generators;
    mapping(uint32 id => address) private _generatorById;
    mapping(address generator => mapping(uint256 marketId => Offer)) private _offers;
    mapping(address generator => mapping(uint256 marketId => bytes32 keyHash)) private _encryptionKeys;

    mapping(address account => uint256) private _withdrawable;
    uint256 private _totalEscrow;
    uint256 private _totalWithdrawable;

    // ---- Constructor ----

    /// @param registry The enclave key registry.
    /// @param matchingEngineFamily Family of the keys allowed to sign assignment batches.
    /// @param paymentToken Token of rewards.
    /// @param staking The staking module (which must bind this contract).
    constructor(
        IEnclaveRegistry registry,
        bytes32 matchingEngineFamily,
        IERC20 paymentToken,
        IStakingModule staking
    ) EnclaveAuth(registry, "ProofMarketplace", "1") {
        if (
            address(registry) == address(0) || matchingEngineFamily == bytes32(0)
                || address(paymentToken) == address(0) || address(staking) == address(0)
        ) revert ProofMarketplaceInvalidConfig();
        MATCHING_ENGINE_FAMILY = matchingEngineFamily;
        PAYMENT_TOKEN = paymentToken;
        STAKING = staking;
    }

    // ---- Markets ----

    /// @notice Creates a market. Open to anyone; parameters are final.
    /// @param params The market parameters.
    /// @return marketId The new market's id (from 1).
    function createMarket(MarketParams calldata params) external returns (uint256 marketId) {
        address verifier = address(params.verifier);
        if (verifier.code.length == 0) revert ProofMarketplaceInvalidVerifier(verifier);
        try params.verifier.checkSampleInputsAndProof() returns (bool ok) {
            if (!ok) revert ProofMarketplaceInvalidVerifier(verifier);
        } catch {
            revert ProofMarketplaceInvalidVerifier(verifier);
        }
        if (
            params.slashingPenalty == 0 || params.activationDelay > MAX_ACTIVATION_DELAY
                || (params.mode == MatchingMode.OrderBook) != (params.bidWindow == 0)
        ) revert ProofMarketplaceInvalidMarketParams();

        marketId = ++_marketCount;
        if (marketId > type(uint32).max) revert ProofMarketplaceInvalidMarketParams();
        uint40 activation = uint40(block.timestamp + params.activationDelay);
        _markets[marketId] = MarketData({
            verifier: params.verifier,
            activation: activation,
            bidWindow: params.bidWindow,
            mode: params.mode,
            slashingPenalty: params.slashingPenalty,
            creator: msg.sender,
            proverFamily: params.proverFamily
        });
        emit MarketCreated(
            marketId,
            msg.sender,
            verifier,
            params.mode,
            params.bidWindow,
            params.slashingPenalty,
            params.proverFamily,
            activation
        );
    }

    // ---- Generators ----

    /// @notice Registers the caller as a generator (again, after deregistering) with a total capacity.
    /// @param capacity Assignments it runs at once across all markets (1..MAX_CAPACITY).
    function registerGenerator(uint32 capacity) external {
        _checkCapacity(capacity);
        GeneratorData storage g = _generators[msg.sender];
        if (g.registered) revert ProofMarketplaceGeneratorRegistered();
        if (g.id == 0) {
            uint32 id = ++_generatorCount;
            g.id = id;
            _generatorById[id] = msg.sender;
        }
        g.registered = true;
        g.capacity = capacity;
        emit GeneratorRegistered(msg.sender, capacity);
    }

    /// @notice Changes the caller's total capacity (running assignments above it continue).
    /// @param capacity The new capacity (1..MAX_CAPACITY).
    function setCapacity(uint32 capacity) external {
        _checkCapacity(capacity);
        GeneratorData storage g = _registered(msg.sender);
        g.capacity = capacity;
        emit CapacityChanged(msg.sender, capacity);
    }

    /// @notice Deregisters the caller: no new assignments; running ones continue and settle normally.
    function deregisterGenerator() external {
        GeneratorData storage g = _registered(msg.sender);
        g.registered = false;
        emit GeneratorDeregistered(msg.sender);
    }

    /// @notice Joins a market with an offer.
    /// @param marketId The market.
    /// @param cost Smallest price accepted.
    /// @param proposedTime Seconds per proof (non-zero).
    /// @param enclaveSignature Private markets: a live key of the market's prover family signs the EIP-712
    /// `ProverBinding(address generator,uint256 marketId)`; ignored for public markets.
    function joinMarket(uint256 marketId, uint96 cost, uint32 proposedTime, bytes calldata enclaveSignature)
        external
    {
        MarketData storage m = _market(marketId);
        _registered(msg.sender);
        if (proposedTime == 0) revert ProofMarketplaceInvalidOffer();
        Offer storage o = _offers[msg.sender][marketId];
        if (o.joined) revert ProofMarketplaceAlreadyJoined(marketId);
        bytes32 family = m.proverFamily;
        if (family != bytes32(0)) {
            _requireEnclaveSigner(
                family, keccak256(abi.encode(PROVER_BINDING_TYPEHASH, msg.sender, marketId)), enclaveSignature
            );
        }
        _offers[msg.sender][marketId] = Offer({joined: true, cost: cost, proposedTime: proposedTime});
        emit GeneratorJoined(msg.sender, marketId, cost, proposedTime);
    }

    /// @notice Replaces the caller's offer in a market.
    /// @param marketId The market.
    /// @param cost Smallest price accepted.
    /// @param proposedTime Seconds per proof (non-zero).
    function updateOffer(uint256 marketId, uint96 cost, uint32 proposedTime) external {
        if (proposedTime == 0) revert ProofMarketplaceInvalidOffer();
        Offer storage o = _offers[msg.sender][marketId];
        if (!o.joined) revert ProofMarketplaceNotJoined(marketId);
        o.cost = cost;
        o.proposedTime = proposedTime;
        emit GeneratorUpdated(msg.sender, marketId, cost, proposedTime);
    }

    /// @notice Leaves a market (running assignments continue and settle normally).
    /// @param marketId The market.
    function leaveMarket(uint256 marketId) external {
        Offer storage o = _offers[msg.sender][marketId];
        if (!o.joined) revert ProofMarketplaceNotJoined(marketId);
        o.joined = false;
        emit GeneratorLeft(msg.sender, marketId);
    }

    /// @notice Sets the caller's encryption key in a market it joined: private asks' content keys are wrapped to
    /// it. Replaces an earlier key (keep the old secret until assignments made under it settle).
    /// @param marketId The market.
    /// @param publicKey 33-byte compressed secp256k1 public key.
    /// @param enclaveSignature Markets with a prover family: a live key of that family signs the EIP-712
    /// `EncryptionKeyBinding(generator, marketId, keccak256(publicKey))`; ignored for other markets.
    function setEncryptionKey(uint256 marketId, bytes calldata publicKey, bytes calldata enclaveSignature)
        external
    {
        MarketData storage m = _market(marketId);
        if (!_offers[msg.sender][marketId].joined) revert ProofMarketplaceNotJoined(marketId);
        if (publicKey.length != 33 || (publicKey[0] != 0x02 && publicKey[0] != 0x03)) {
            revert ProofMarketplaceInvalidEncryptionKey();
        }
        bytes32 keyHash = keccak256(publicKey);
        bytes32 family = m.proverFamily;
        if (family != bytes32(0)) {
            _requireEnclaveSigner(
                family,
                keccak256(abi.encode(ENCRYPTION_KEY_BINDING_TYPEHASH, msg.sender, marketId, keyHash)),
                enclaveSignature
            );
        }
        _encryptionKeys[msg.sender][marketId] = keyHash;
        emit EncryptionKeySet(msg.sender, marketId, publicKey);
    }

    // ---- Asks ----

    /// @notice Creates an ask and escrows `reward * redundancy` of the payment token from the caller.
    /// @param params The ask parameters.
    /// @return askId The new ask's id (from 1).
    function createAsk(AskParams calldata params) external returns (uint256 askId) {
        uint256 escrow;
        (askId, escrow) = _createAsk(params, false);
        PAYMENT_TOKEN.safeTransferFrom(msg.sender, address(this), escrow);
    }

    /// @notice Creates a private ask: `params.proverData` is the public statement; the inputs only the assigned
    /// generators may read are encrypted under a content key (see `docs/private-inputs.md`), committed to by
    /// `inputsHash` and carried inline or kept off chain; the content key is wrapped to the matching engine's
    /// attested encryption key. Escrows as `createAsk` does.
    /// @param params The ask parameters.
    /// @param inputsHash keccak256 of the encrypted inputs (non-zero).
    /// @param engineKeyWrap The content key wrapped to the engine (`KEY_WRAP_LEN` bytes).
    /// @param inlineInputs The encrypted inputs (hashing to `inputsHash`, at most `MAX_INLINE_INPUTS` bytes), or
    /// empty to keep them off chain.
    /// @return askId The new ask's id (from 1).
    function createPrivateAsk(
        AskParams calldata params,
        bytes32 inputsHash,
        bytes calldata engineKeyWrap,
        bytes calldata inlineInputs
    ) external returns (uint256 askId) {
        if (
            inputsHash == bytes32(0) || engineKeyWrap.length != KEY_WRAP_LEN
                || inlineInputs.length > MAX_INLINE_INPUTS
                || (inlineInputs.length != 0 && keccak256(inlineInputs) != inputsHash)
        ) revert ProofMarketplaceInvalidPrivateInputs();
        uint256 escrow;
        (askId, escrow) = _createAsk(params, true);
        emit PrivateInputsCommitted(askId, inputsHash, engineKeyWrap, inlineInputs);
        PAYMENT_TOKEN.safeTransferFrom(msg.sender, address(this), escrow);
    }

    /// @notice Cancels an ask none of whose slots was ever assigned; its escrow is credited to the refund address.
    /// @param askId The ask.
    function cancelAsk(uint256 askId) external {
        AskCore storage ask = _ask(askId);
        AskInfo storage info = _askInfo[askId];
        if (info.requester != msg.sender) revert ProofMarketplaceNotRequester(askId);
        if (ask.assigned != 0 || ask.flags != 0) revert ProofMarketplaceAskNotCancellable(askId);
        ask.flags = _CANCELLED;
        uint256 refund = uint256(ask.reward) * ask.redundancy;
        _release(info.refundAddress, refund);
        emit AskCancelled(askId, refund);
    }

    /// @notice After an ask's expiry, credits the escrow of its never-assigned slots to the refund address.
    /// Callable by anyone, once.
    /// @param askId The ask.
    function refundExpired(uint256 askId) external {
        AskCore storage ask = _ask(askId);
        uint256 open = ask.redundancy - ask.assigned;
        if (block.timestamp <= ask.expiry || ask.flags != 0 || open == 0) {
            revert ProofMarketplaceNothingToRefund(askId);
        }
        ask.flags = _REFUNDED;
        uint256 refund = uint256(ask.reward) * open;
        _release(_askInfo[askId].refundAddress, refund);
        emit AskRefunded(askId, open, refund);
    }

    /// @notice Submits a sealed bid (65 bytes, encrypted to the engine's bid key) for a sealed-bid ask during its
    /// bid window. The caller must be a registered generator that joined the ask's market.
    /// @param askId The ask.
    /// @param sealedBid The sealed bid.
    function submitBid(uint256 askId, bytes calldata sealedBid) external {
        AskCore storage ask = _ask(askId);
        uint256 ends = _askInfo[askId].biddingEnds;
        if (ends == 0 || block.timestamp >= ends || ask.flags != 0 || sealedBid.length != 65) {
            revert ProofMarketplaceBidRejected(askId);
        }
        _registered(msg.sender);
        if (!_offers[msg.sender][ask.market].joined) revert ProofMarketplaceNotJoined(ask.market);
        emit BidSubmitted(askId, msg.sender, sealedBid);
    }

    // ---- Assignments ----

    /// @notice Applies a batch of assignments signed by a live matching-engine key. Anyone may relay it.
    /// @dev The batch reverts as a whole only for what the engine alone controls: an empty batch, a batch past
    /// `validUntil`, or a signature that is not from a live key of `MATCHING_ENGINE_FAMILY`. Each entry is then
    /// applied or skipped on its own (`AssignmentAccepted` / `AssignmentSkipped` with a `SkipReason`), so that a
    /// requester cancelling, a generator withdrawing stake or leaving, or a replayed entry cannot make the other
    /// entries fail. Replay protection is per slot: an assigned slot is never Open again, so resubmitting a batch
    /// (e.g. by an engine restarted mid-stream) skips every entry with `SlotNotOpen` and changes nothing.
    /// @param assignments The assignments.
    /// @param validUntil Last block timestamp at which the batch is accepted.
    /// @param signature 65-byte EIP-712 signature of `AssignmentBatch(assignments, validUntil)`.
    /// @return accepted How many entries were applied.
    function assignBatch(Assignment[] calldata assignments, uint256 validUntil, bytes calldata signature)
        external
        returns (uint256 accepted)
    {
        if (assignments.length == 0) revert ProofMarketplaceEmptyBatch();
        if (block.timestamp > validUntil) revert ProofMarketplaceBatchExpired(validUntil);
        _requireEnclaveSigner(MATCHING_ENGINE_FAMILY, _batchStructHash(assignments, validUntil), signature);
        for (uint256 i; i < assignments.length; ++i) {
            // A public batch carries no key wraps: a private ask's entry is skipped (MissingKeyWrap).
            if (_applyAssignment(assignments[i], msg.data[0:0])) {
                // At most assignments.length.
                unchecked {
                    ++accepted;
                }
            }
        }
    }

    /// @notice Applies a batch that may assign private asks: `keyWraps[i]` is the content key of
    /// `assignments[i]`'s ask wrapped by the engine to that generator's encryption key in the ask's market
    /// (`KEY_WRAP_LEN` bytes), or empty for a public ask's entry. Signed as EIP-712
    /// `KeyedAssignmentBatch(assignments, keyWraps, validUntil)`; otherwise as `assignBatch`. A private ask's
    /// entry whose wrap is missing, or whose generator has no encryption key in the market, is skipped.
    /// @param assignments The assignments.
    /// @param keyWraps One key wrap per assignment.
    /// @param validUntil Last block timestamp at which the batch is accepted.
    /// @param signature 65-byte EIP-712 signature of `KeyedAssignmentBatch(assignments, keyWraps, validUntil)`.
    /// @return accepted How many entries were applied.
    function assignBatchWithKeys(
        Assignment[] calldata assignments,
        bytes[] calldata keyWraps,
        uint256 validUntil,
        bytes calldata signature
    ) external returns (uint256 accepted) {
        if (assignments.length == 0) revert ProofMarketplaceEmptyBatch();
        if (block.timestamp > validUntil) revert ProofMarketplaceBatchExpired(validUntil);
        // Reverts unless there is one key wrap per assignment.
        _requireEnclaveSigner(
            MATCHING_ENGINE_FAMILY, _keyedBatchStructHash(assignments, keyWraps, validUntil), signature
        );
        for (uint256 i; i < assignments.length; ++i) {
            if (_applyAssignment(assignments[i], keyWraps[i])) {
                // At most assignments.length.
                unchecked {
                    ++accepted;
                }
            }
        }
    }

    // ---- Proofs and slashing ----

    /// @notice Submits the proof of an assigned slot, by its generator, by the deadline. On success the generator
    /// is credited its price, the refund address the rest of the slot's reward, and the stake lock is released.
    /// @param askId The ask.
    /// @param slot The slot.
    /// @param proverData The ask's statement (must hash to the stored `proverDataHash`).
    /// @param proof The proof, checked by the market's verifier.
    function submitProof(uint256 askId, uint256 slot, bytes calldata proverData, bytes calldata proof)
        external
    {
        SlotData storage s = _assignedSlot(askId, slot);
        SlotData memory sd = s;
        address generator = _generatorById[sd.generatorId];
        if (generator != msg.sender) revert ProofMarketplaceNotAssignedGenerator(askId, slot);
        if (block.timestamp > sd.deadline) revert ProofMarketplaceDeadlinePassed(uint64(sd.deadline));
        uint256 market = _checkProof(askId, proverData, proof);

        s.state = SlotState.Completed;
        // An assigned slot counts in its generator's `active`.
        unchecked {
            --_generators[generator].active;
        }
        uint256 reward = _asks[askId].reward;
        _release(generator, sd.price);
        // price <= reward was checked at assignment.
        if (reward != sd.price) _release(_askInfo[askId].refundAddress, reward - sd.price);
        emit ProofSubmitted(askId, uint8(slot), generator, sd.price, proof);
        STAKING.unlock(generator, market, _markets[market].slashingPenalty, sd.deadline);
    }

    /// @notice Gives an assigned slot back, by its generator, by the deadline: its stake lock is released and the
    /// slot is open again for the engine to assign to another generator. If the ask was already refunded (it
    /// expired), the slot's reward is credited to the refund address instead.
    /// @param askId The ask.
    /// @param slot The slot.
    function discard(uint256 askId, uint256 slot) external {
        SlotData storage s = _assignedSlot(askId, slot);
        SlotData memory sd = s;
        address generator = _generatorById[sd.generatorId];
        if (generator != msg.sender) revert ProofMarketplaceNotAssignedGenerator(askId, slot);
        if (block.timestamp > sd.deadline) revert ProofMarketplaceDeadlinePassed(uint64(sd.deadline));
        AskCore storage ask = _asks[askId];
        // Open slots hold generator id 0, so the ask's distinct-generator check ignores it again.
        s.generatorId = 0;
        s.price = 0;
        s.deadline = 0;
        s.state = SlotState.Open;
        // The slot was assigned: it counts in `assigned` and in its generator's `active`.
        unchecked {
            --ask.assigned;
            --_generators[generator].active;
        }
        // A refunded ask is never assigned again: this slot's escrow, not counted by the refund, goes back now.
        if (ask.flags == _REFUNDED) _release(_askInfo[askId].refundAddress, ask.reward);
        uint256 market = ask.market;
        emit AssignmentDiscarded(askId, uint8(slot), generator);
        STAKING.unlock(generator, market, _markets[market].slashingPenalty, sd.deadline);
    }

    /// @notice Settles a private ask's assigned slot with the matching engine's signed statement that the
    /// decrypted inputs fail the market's input check: the generator is credited `payment` (its cost, at most the
    /// slot's price), the refund address the rest of the reward, and no stake is slashed. Anyone may relay it,
    /// by the slot's deadline.
    /// @param askId The ask.
    /// @param slot The slot.
    /// @param payment What the generator is paid (as signed).
    /// @param signature 65-byte EIP-712 signature of `InvalidInputs(askId, slot, generator, payment)` by a live
    /// key of `MATCHING_ENGINE_FAMILY`.
    function settleInvalidInputs(uint256 askId, uint256 slot, uint256 payment, bytes calldata signature)
        external
    {
        SlotData storage s = _assignedSlot(askId, slot);
        SlotData memory sd = s;
        AskCore storage ask = _asks[askId];
        if (!ask.confidential) revert ProofMarketplaceNotPrivate(askId);
        if (block.timestamp > sd.deadline) revert ProofMarketplaceDeadlinePassed(uint64(sd.deadline));
        if (payment > sd.price) revert ProofMarketplaceInvalidPayment(payment, sd.price);
        address generator = _generatorById[sd.generatorId];
        _requireEnclaveSigner(
            MATCHING_ENGINE_FAMILY,
            keccak256(abi.encode(INVALID_INPUTS_TYPEHASH, askId, slot, generator, payment)),
            signature
        );
        s.state = SlotState.InputsInvalid;
        // An assigned slot counts in its generator's `active`.
        unchecked {
            --_generators[generator].active;
        }
        uint256 reward = ask.reward;
        if (payment != 0) _release(generator, payment);
        // payment <= price <= reward.
        if (reward != payment) _release(_askInfo[askId].refundAddress, reward - payment);
        uint256 market = ask.market;
        emit InputsInvalid(askId, uint8(slot), generator, payment);
        STAKING.unlock(generator, market, _markets[market].slashingPenalty, sd.deadline);
    }

    /// @notice Slashes the generator of an assigned slot whose deadline has passed. Callable by anyone. The slot's
    /// reward is credited back to the refund address; the staking module removes the locked penalty and credits
    /// part of it to the refund address as compensation (the rest to its treasury).
    /// @param askId The ask.
    /// @param slot The slot.
    function slash(uint256 askId, uint256 slot) external {
        AskCore storage ask = _asks[askId];
        SlotData storage s = _assignedSlot(askId, slot);
        SlotData memory sd = s;
        if (block.timestamp <= sd.deadline) revert ProofMarketplaceDeadlineNotPassed(uint64(sd.deadline));
        s.state = SlotState.Slashed;
        address generator = _generatorById[sd.generatorId];
        // An assigned slot counts in its generator's `active`.
        unchecked {
            --_generators[generator].active;
        }
        address refundTo = _askInfo[askId].refundAddress;
        _release(refundTo, ask.reward);
        uint256 market = ask.market;
        uint256 penalty = _markets[market].slashingPenalty;
        emit Slashed(askId, uint8(slot), generator, penalty);
        STAKING.slash(generator, market, penalty, sd.deadline, refundTo);
    }

    /// @notice Transfers the caller's credited payments (rewards, refunds) to the caller.
    function withdraw() external {
        uint256 amount = _withdrawable[msg.sender];
        if (amount == 0) revert ProofMarketplaceNothingToWithdraw();
        _withdrawable[msg.sender] = 0;
        _totalWithdrawable -= amount;
        emit Withdrawn(msg.sender, amount);
        PAYMENT_TOKEN.safeTransfer(msg.sender, amount);
    }

    // ---- Views ----

    /// @notice Number of markets created (ids run from 1).
    /// @return The count.
    function marketCount() external view returns (uint256) {
        return _marketCount;
    }

    /// @notice Number of asks created (ids run from 1).
    /// @return The count.
    function askCount() external view returns (uint256) {
        return _askCount;
    }

    /// @notice A market (all zero if unknown).
    /// @param marketId The market.
    /// @return market The market.
    function getMarket(uint256 marketId) external view returns (Market memory market) {
        MarketData storage m = _markets[marketId];
        market = Market({
            verifier: m.verifier,
            mode: m.mode,
            bidWindow: m.bidWindow,
            activation: m.activation,
            slashingPenalty: m.slashingPenalty,
            proverFamily: m.proverFamily,
            creator: m.creator
        });
    }

    /// @notice An ask (all zero if unknown).
    /// @param askId The ask.
    /// @return ask The ask.
    function getAsk(uint256 askId) external view returns (Ask memory ask) {
        AskCore memory c = _asks[askId];
        AskInfo memory info = _askInfo[askId];
        ask = Ask({
            marketId: c.market,
            reward: c.reward,
            expiry: c.expiry,
            provingTime: c.provingTime,
            redundancy: c.redundancy,
            assigned: c.assigned,
            cancelled: c.flags == _CANCELLED,
            refunded: c.flags == _REFUNDED,
            requester: info.requester,
            refundAddress: info.refundAddress,
            proverDataHash: info.proverDataHash,
            biddingEnds: info.biddingEnds,
            confidential: c.confidential
        });
    }

    /// @notice One slot of an ask (state None beyond its redundancy or for an unknown ask).
    /// @param askId The ask.
    /// @param slot The slot.
    /// @return result The slot.
    function getSlot(uint256 askId, uint256 slot) external view returns (Slot memory result) {
        if (slot >= MAX_REDUNDANCY) return result;
        SlotData memory s = _slots[askId][slot];
        result = Slot({
            state: s.state, generator: _generatorById[s.generatorId], price: s.price, deadline: s.deadline
        });
    }

    /// @notice A generator's global state.
    /// @param generator The generator.
    /// @return The state.
    function getGenerator(address generator) external view returns (Generator memory) {
        GeneratorData memory g = _generators[generator];
        return Generator({registered: g.registered, capacity: g.capacity, active: g.active, id: g.id});
    }

    /// @notice A generator's offer in a market.
    /// @param generator The generator.
    /// @param marketId The market.
    /// @return The offer.
    function getOffer(address generator, uint256 marketId) external view returns (Offer memory) {
        return _offers[generator][marketId];
    }

    /// @notice keccak256 of a generator's encryption key in a market (zero if none).
    /// @param generator The generator.
    /// @param marketId The market.
    /// @return The key hash.
    function encryptionKeyHashOf(address generator, uint256 marketId) external view returns (bytes32) {
        return _encryptionKeys[generator][marketId];
    }

    /// @notice Payments credited to `account` and not yet withdrawn.
    /// @param account The account.
    /// @return The amount.
    function withdrawableOf(address account) external view returns (uint256) {
        return _withdrawable[account];
    }

    /// @notice Rewards escrowed for slots not yet settled or refunded.
    /// @return The total.
    function totalEscrow() external view returns (uint256) {
        return _totalEscrow;
    }

    /// @notice Payments credited and not yet withdrawn. `totalEscrow + totalWithdrawable` equals this contract's
    /// payment-token balance (absent direct transfers to it).
    /// @return The total.
    function totalWithdrawable() external view returns (uint256) {
        return _totalWithdrawable;
    }

    /// @notice The EIP-712 digest the matching engine signs for a batch.
    /// @param assignments The assignments.
    /// @param validUntil Last valid timestamp.
    /// @return The digest.
    function batchDigest(Assignment[] calldata assignments, uint256 validUntil)
        external
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(_batchStructHash(assignments, validUntil));
    }

    /// @notice The EIP-712 digest the matching engine signs for a batch with key wraps.
    /// @param assignments The assignments.
    /// @param keyWraps One key wrap per assignment (empty for public asks' entries).
    /// @param validUntil Last valid timestamp.
    /// @return The digest.
    function keyedBatchDigest(
        Assignment[] calldata assignments,
        bytes[] calldata keyWraps,
        uint256 validUntil
    ) external view returns (bytes32) {
        return _hashTypedDataV4(_keyedBatchStructHash(assignments, keyWraps, validUntil));
    }

    /// @notice The EIP-712 digest the matching engine signs to settle a private ask's slot as invalid inputs.
    /// @param askId The ask.
    /// @param slot The slot.
    /// @param generator The slot's generator.
    /// @param payment What the generator is paid.
    /// @return The digest.
    function invalidInputsDigest(uint256 askId, uint256 slot, address generator, uint256 payment)
        external
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(
            keccak256(abi.encode(INVALID_INPUTS_TYPEHASH, askId, slot, generator, payment))
        );
    }

    /// @notice The EIP-712 digest a prover enclave signs to bind `generator`'s encryption key in a market.
    /// @param generator The generator.
    /// @param marketId The market.
    /// @param keyHash keccak256 of the 33-byte key.
    /// @return The digest.
    function encryptionKeyBindingDigest(address generator, uint256 marketId, bytes32 keyHash)
        external
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(
            keccak256(abi.encode(ENCRYPTION_KEY_BINDING_TYPEHASH, generator, marketId, keyHash))
        );
    }

    /// @notice The EIP-712 digest a prover enclave signs to let `generator` join a private market.
    /// @param generator The generator.
    /// @param marketId The market.
    /// @return The digest.
    function proverBindingDigest(address generator, uint256 marketId) external view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(PROVER_BINDING_TYPEHASH, generator, marketId)));
    }

    // ---- Internal functions ----

    /// @dev Checks and stores a new ask and emits `AskCreated`; the caller collects `escrow`.
    function _createAsk(AskParams calldata params, bool confidential)
        private
        returns (uint256 askId, uint256 escrow)
    {
        MarketData storage m = _market(params.marketId);
        uint256 reward = params.reward;
        uint8 k = params.redundancy;
        if (
            reward == 0 || reward > type(uint96).max || k == 0 || k > MAX_REDUNDANCY
                || params.provingTime == 0 || params.expiry < block.timestamp
                || params.expiry > type(uint40).max || params.refundAddress == address(0)
        ) revert ProofMarketplaceInvalidAskParams();
        uint256 biddingEnds;
        if (m.mode == MatchingMode.SealedBid) {
            biddingEnds = block.timestamp + m.bidWindow;
            // Nothing could be assigned before the window closes.
            if (params.expiry < biddingEnds) revert ProofMarketplaceInvalidAskParams();
        }
        try m.verifier.verifyInputs(params.proverData) returns (bool ok) {
            if (!ok) revert ProofMarketplaceInvalidProverData();
        } catch {
            revert ProofMarketplaceInvalidProverData();
        }

        askId = ++_askCount;
        bytes32 dataHash = keccak256(params.proverData);
        _asks[askId] = AskCore({
            market: uint32(params.marketId),
            reward: uint96(reward),
            expiry: uint40(params.expiry),
            provingTime: params.provingTime,
            redundancy: k,
            assigned: 0,
            flags: 0,
            confidential: confidential
        });
        _askInfo[askId] = AskInfo({
            requester: msg.sender,
            biddingEnds: uint40(biddingEnds),
            refundAddress: params.refundAddress,
            proverDataHash: dataHash
        });
        SlotData[16] storage slots = _slots[askId];
        for (uint256 i; i < k; ++i) {
            slots[i].state = SlotState.Open;
        }
        // reward < 2^96 and k <= 16.
        escrow = reward * k;
        _totalEscrow += escrow;
        _emitAskCreated(askId, params, dataHash);
    }

    /// @dev Applies one entry of a signed batch or emits why it is skipped; returns whether it was applied.
    function _applyAssignment(Assignment calldata a, bytes calldata keyWrap) private returns (bool ok) {
        SkipReason reason;
        (ok, reason) = _assign(a.askId, a.slot, a.generator, a.price, keyWrap);
        if (!ok) emit AssignmentSkipped(a.askId, a.generator, a.slot, reason);
    }

    /// @dev Applies one assignment, or returns why it is skipped (changing nothing). A private ask's entry needs a
    /// `KEY_WRAP_LEN`-byte key wrap and a generator with an encryption key in the market; a public ask's, none.
    function _assign(uint256 askId, uint256 slot, address generator, uint256 price, bytes calldata keyWrap)
        private
        returns (bool, SkipReason)
    {
        if (askId == 0 || askId > _askCount) return (false, SkipReason.AskNotAssignable);
        AskCore memory ask = _asks[askId];
        if (ask.flags != 0 || block.timestamp > ask.expiry) return (false, SkipReason.AskNotAssignable);
        if (slot >= ask.redundancy) return (false, SkipReason.SlotNotOpen);
        SlotData[16] storage slots = _slots[askId];
        if (slots[slot].state != SlotState.Open) return (false, SkipReason.SlotNotOpen);
        SkipReason reason = _checkMarket(askId, ask, price);
        if (reason != SkipReason.None) return (false, reason);
        uint32 id;
        (reason, id) = _checkGenerator(generator, ask, price);
        if (reason != SkipReason.None) return (false, reason);
        // Ids start at 1 and open slots hold id 0; a settled slot keeps its generator's id.
        for (uint256 j; j < ask.redundancy; ++j) {
            if (j != slot && slots[j].generatorId == id) return (false, SkipReason.GeneratorAlreadyOnAsk);
        }
        if (ask.confidential || keyWrap.length != 0) {
            reason = _checkKeyWrap(ask, generator, keyWrap);
            if (reason != SkipReason.None) return (false, reason);
        }
        // provingTime < 2^32: no uint40 overflow before the year 36 812.
        uint40 deadline = uint40(block.timestamp + ask.provingTime);
        if (!STAKING.lock(generator, ask.market, _markets[ask.market].slashingPenalty, deadline)) {
            return (false, SkipReason.InsufficientStake);
        }
        slots[slot] =
            SlotData({generatorId: id, price: uint96(price), deadline: deadline, state: SlotState.Assigned});
        // assigned < redundancy <= 16 (the slot was open); active < capacity (checked).
        unchecked {
            _asks[askId].assigned = ask.assigned + 1;
            ++_generators[generator].active;
        }
        emit AssignmentAccepted(askId, generator, uint8(slot), price, deadline);
        if (ask.confidential) emit InputsKeyWrapped(askId, uint8(slot), generator, keyWrap);
        return (true, SkipReason.None);
    }

    /// @dev A private ask's entry carries the content key wrapped to a generator that has an encryption key in
    /// the ask's market; a public ask's entry carries nothing.
    function _checkKeyWrap(AskCore memory ask, address generator, bytes calldata keyWrap)
        private
        view
        returns (SkipReason)
    {
        if (!ask.confidential) return keyWrap.length == 0 ? SkipReason.None : SkipReason.MissingKeyWrap;
        if (keyWrap.length != KEY_WRAP_LEN) return SkipReason.MissingKeyWrap;
        if (_encryptionKeys[generator][ask.market] == bytes32(0)) return SkipReason.NoEncryptionKey;
        return SkipReason.None;
    }

    /// @dev Market-side bounds of an assignment: activation, sealed-bid window, price within the reward.
    function _checkMarket(uint256 askId, AskCore memory ask, uint256 price)
        private
        view
        returns (SkipReason)
    {
        MarketData storage m = _markets[ask.market];
        if (block.timestamp < m.activation) return SkipReason.MarketInactive;
        if (m.mode == MatchingMode.SealedBid && block.timestamp < _askInfo[askId].biddingEnds) {
            return SkipReason.BiddingOpen;
        }
        if (price > ask.reward) return SkipReason.PriceAboveReward;
        return SkipReason.None;
    }

    /// @dev Generator-side bounds: registered, spare capacity, joined, fast enough, paid at least its cost
    /// (order-book markets; a sealed-bid price is the auction's).
    function _checkGenerator(address generator, AskCore memory ask, uint256 price)
        private
        view
        returns (SkipReason, uint32 id)
    {
        GeneratorData memory g = _generators[generator];
        if (!g.registered) return (SkipReason.GeneratorNotRegistered, 0);
        if (g.active >= g.capacity) return (SkipReason.NoCapacity, 0);
        Offer memory o = _offers[generator][ask.market];
        if (!o.joined) return (SkipReason.GeneratorNotJoined, 0);
        if (o.proposedTime > ask.provingTime) return (SkipReason.ProvingTimeTooShort, 0);
        if (_markets[ask.market].mode == MatchingMode.OrderBook && price < o.cost) {
            return (SkipReason.PriceBelowCost, 0);
        }
        return (SkipReason.None, g.id);
    }

    /// @dev hashStruct(AssignmentBatch): the array member is keccak256 of the concatenated element hashes.
    function _batchStructHash(Assignment[] calldata assignments, uint256 validUntil)
        private
        pure
        returns (bytes32)
    {
        bytes32[] memory hashes = new bytes32[](assignments.length);
        for (uint256 i; i < assignments.length; ++i) {
            Assignment calldata a = assignments[i];
            hashes[i] = keccak256(abi.encode(ASSIGNMENT_TYPEHASH, a.askId, a.slot, a.generator, a.price));
        }
        return keccak256(abi.encode(BATCH_TYPEHASH, keccak256(abi.encodePacked(hashes)), validUntil));
    }

    /// @dev hashStruct(KeyedAssignmentBatch): each array member is keccak256 of its concatenated element hashes
    /// (a `bytes` element's hash is keccak256 of its bytes). Reverts unless there is one key wrap per assignment, so
    /// neither `assignBatchWithKeys` nor `keyedBatchDigest` reads past the shorter array.
    function _keyedBatchStructHash(
        Assignment[] calldata assignments,
        bytes[] calldata keyWraps,
        uint256 validUntil
    ) private pure returns (bytes32) {
        uint256 n = assignments.length;
        if (keyWraps.length != n) revert ProofMarketplaceKeyWrapsLength(keyWraps.length, n);
        bytes32[] memory hashes = new bytes32[](n);
        bytes32[] memory wrapHashes = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            Assignment calldata a = assignments[i];
            hashes[i] = keccak256(abi.encode(ASSIGNMENT_TYPEHASH, a.askId, a.slot, a.generator, a.price));
            wrapHashes[i] = keccak256(keyWraps[i]);
        }
        return keccak256(
            abi.encode(
                KEYED_BATCH_TYPEHASH,
                keccak256(abi.encodePacked(hashes)),
                keccak256(abi.encodePacked(wrapHashes)),
                validUntil
            )
        );
    }

    /// @dev Separate frame: the event has more fields than `createAsk` has stack for.
    function _emitAskCreated(uint256 askId, AskParams calldata params, bytes32 dataHash) private {
        emit AskCreated(
            askId,
            params.marketId,
            msg.sender,
            uint96(params.reward),
            params.expiry,
            params.provingTime,
            params.redundancy,
            params.refundAddress,
            dataHash,
            params.proverData
        );
    }

    /// @dev Reverts unless `proverData` is the ask's statement and the market's verifier accepts `proof`.
    /// @return market The ask's market.
    function _checkProof(uint256 askId, bytes calldata proverData, bytes calldata proof)
        private
        view
        returns (uint256 market)
    {
        if (keccak256(proverData) != _askInfo[askId].proverDataHash) {
            revert ProofMarketplaceProverDataMismatch();
        }
        market = _asks[askId].market;
        bool valid;
        try _markets[market].verifier.verify(proverData, proof) returns (bool ok) {
            valid = ok;
        } catch {}
        if (!valid) revert ProofMarketplaceInvalidProof();
    }

    /// @dev Moves `amount` from escrow to `to`'s withdrawable balance.
    function _release(address to, uint256 amount) private {
        _totalEscrow -= amount;
        _totalWithdrawable += amount;
        _withdrawable[to] += amount;
    }

    function _market(uint256 marketId) private view returns (MarketData storage m) {
        if (marketId == 0 || marketId > _marketCount) revert ProofMarketplaceUnknownMarket(marketId);
        return _markets[marketId];
    }

    function _ask(uint256 askId) private view returns (AskCore storage) {
        if (askId == 0 || askId > _askCount) revert ProofMarketplaceUnknownAsk(askId);
        return _asks[askId];
    }

    /// @dev The slot, which must be Assigned (an unknown ask's slots are all None).
    function _assignedSlot(uint256 askId, uint256 slot) private view returns (SlotData storage s) {
        if (slot >= MAX_REDUNDANCY) revert ProofMarketplaceWrongSlotState(askId, slot, SlotState.None);
        s = _slots[askId][slot];
        SlotState state = s.state;
        if (state != SlotState.Assigned) revert ProofMarketplaceWrongSlotState(askId, slot, state);
    }

    function _registered(address generator) private view returns (GeneratorData storage g) {
        g = _generators[generator];
        if (!g.registered) revert ProofMarketplaceGeneratorNotRegistered();
    }

    function _checkCapacity(uint32 capacity) private pure {
        if (capacity == 0 || capacity > MAX_CAPACITY) revert ProofMarketplaceInvalidCapacity();
    }
}
