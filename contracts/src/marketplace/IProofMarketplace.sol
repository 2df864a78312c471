// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {IVerifier} from "./IVerifier.sol";

/// @title IProofMarketplace
/// @notice Types, errors and events of the proof marketplace: markets (a verifier and matching rules), asks
/// (requests for proofs, escrowed), generators (capacity and per-market offers), assignments signed by the attested
/// matching engine, proofs, slashing and pull payments. See `src/marketplace/README.md` for the lifecycle.
interface IProofMarketplace {
    // ---- Types ----

    /// @notice How a market matches asks to generators (the engine applies the rule; the contract checks bounds).
    enum MatchingMode {
        OrderBook,
        SealedBid
    }

    /// @notice State of one slot of an ask (an ask with redundancy k has slots 0..k-1).
    enum SlotState {
        None,
        Open,
        Assigned,
        Completed,
        Slashed,
        InputsInvalid
    }

    /// @notice Why `assignBatch` skipped an entry. Skipped entries change nothing; the others apply.
    /// `None` is never emitted.
    enum SkipReason {
        None,
        AskNotAssignable,
        SlotNotOpen,
        MarketInactive,
        BiddingOpen,
        PriceAboveReward,
        GeneratorNotRegistered,
        NoCapacity,
        GeneratorNotJoined,
        ProvingTimeTooShort,
        PriceBelowCost,
        GeneratorAlreadyOnAsk,
        InsufficientStake,
        MissingKeyWrap,
        NoEncryptionKey
    }

    /// @notice Parameters of a new market.
    /// @param verifier The proof system (must verify its own pinned sample).
    /// @param mode Order book or sealed-bid auction.
    /// @param bidWindow Sealed-bid markets: seconds after an ask's creation during which bids are accepted
    /// (zero for order-book markets).
    /// @param slashingPenalty Stake locked per assignment and slashed on a missed deadline (non-zero).
    /// @param proverFamily If non-zero, generators must prove a live enclave key of this family to join.
    /// @param activationDelay Seconds from creation until the market accepts assignments.
    struct MarketParams {
        IVerifier verifier;
        MatchingMode mode;
        uint32 bidWindow;
        uint96 slashingPenalty;
        bytes32 proverFamily;
        uint32 activationDelay;
    }

    /// @notice A market as stored.
    /// @param verifier The proof system.
    /// @param mode Matching mode.
    /// @param bidWindow Sealed-bid window (seconds).
    /// @param activation First block timestamp at which assignments are accepted.
    /// @param slashingPenalty Stake locked per assignment.
    /// @param proverFamily Required prover enclave family (zero: public market).
    /// @param creator Who created it.
    struct Market {
        IVerifier verifier;
        MatchingMode mode;
        uint32 bidWindow;
        uint40 activation;
        uint96 slashingPenalty;
        bytes32 proverFamily;
        address creator;
    }

    /// @notice Parameters of a new ask.
    /// @param marketId The market.
    /// @param reward Largest price paid to each generator; `reward * redundancy` is escrowed (at most 2^96 - 1).
    /// @param expiry Last block timestamp at which an assignment for this ask is accepted.
    /// @param provingTime Seconds an assigned generator has to submit its proof.
    /// @param redundancy Number of distinct generators asked for (1..16).
    /// @param refundAddress Receives unspent reward and slash compensation.
    /// @param proverData The statement to prove (only its hash is stored; the bytes are in `AskCreated`).
    struct AskParams {
        uint256 marketId;
        uint256 reward;
        uint64 expiry;
        uint32 provingTime;
        uint8 redundancy;
        address refundAddress;
        bytes proverData;
    }

    /// @notice An ask as stored.
    /// @param marketId The market.
    /// @param reward Largest price per generator.
    /// @param expiry Last assignable block timestamp.
    /// @param provingTime Seconds per assignment.
    /// @param redundancy Number of slots.
    /// @param assigned Slots assigned so far (never decreases).
    /// @param cancelled Whether the requester cancelled it.
    /// @param refunded Whether the escrow of its never-assigned slots was refunded after expiry.
    /// @param requester Who created it.
    /// @param refundAddress Receives unspent reward and slash compensation.
    /// @param proverDataHash keccak256 of the statement.
    /// @param biddingEnds Sealed-bid markets: first timestamp after the bid window (0 otherwise).
    /// @param confidential Whether it is a private ask (inputs readable only by its assigned generators).
    struct Ask {
        uint256 marketId;
        uint256 reward;
        uint64 expiry;
        uint32 provingTime;
        uint8 redundancy;
        uint8 assigned;
        bool cancelled;
        bool refunded;
        address requester;
        address refundAddress;
        bytes32 proverDataHash;
        uint64 biddingEnds;
        bool confidential;
    }

    /// @notice One slot of an ask.
    /// @param state Open, assigned, completed or slashed.
    /// @param generator The assigned generator (zero while open).
    /// @param price What the generator is paid on a valid proof.
    /// @param deadline Last block timestamp at which the proof is accepted.
    struct Slot {
        SlotState state;
        address generator;
        uint256 price;
        uint64 deadline;
    }

    /// @notice One assignment signed by the matching engine (EIP-712 type
    /// `Assignment(uint256 askId,uint256 slot,address generator,uint256 price)`).
    /// @param askId The ask.
    /// @param slot The slot (below the ask's redundancy).
    /// @param generator The generator.
    /// @param price Price paid on a valid proof (at most the ask's reward).
    struct Assignment {
        uint256 askId;
        uint256 slot;
        address generator;
        uint256 price;
    }

    /// @notice A generator's global state.
    /// @param registered Whether it takes new assignments.
    /// @param capacity Assignments it runs at once across all markets.
    /// @param active Assignments currently assigned and not settled.
    /// @param id Its compact number (stable across re-registration).
    struct Generator {
        bool registered;
        uint32 capacity;
        uint32 active;
        uint32 id;
    }

    /// @notice A generator's standing offer in one market.
    /// @param joined Whether it is in the market.
    /// @param cost Smallest price it accepts (order-book markets pay at least this).
    /// @param proposedTime Seconds it needs per proof (asks with a shorter proving time cannot be assigned to it).
    struct Offer {
        bool joined;
        uint96 cost;
        uint32 proposedTime;
    }

    // ---- Errors ----

    /// @notice Thrown when a constructor argument is zero.
    error ProofMarketplaceInvalidConfig();

    /// @notice Thrown when a market's verifier has no code or fails its own sample.
    /// @param verifier The verifier.
    error ProofMarketplaceInvalidVerifier(address verifier);

    /// @notice Thrown when market parameters are out of range.
    error ProofMarketplaceInvalidMarketParams();

    /// @notice Thrown when a market id does not exist.
    /// @param marketId The market id.
    error ProofMarketplaceUnknownMarket(uint256 marketId);

    /// @notice Thrown when ask parameters are out of range.
    error ProofMarketplaceInvalidAskParams();

    /// @notice Thrown when the market's verifier rejects the ask's statement.
    error ProofMarketplaceInvalidProverData();

    /// @notice Thrown when an ask id does not exist.
    /// @param askId The ask id.
    error ProofMarketplaceUnknownAsk(uint256 askId);

    /// @notice Thrown when the caller is not the ask's requester.
    /// @param askId The ask id.
    error ProofMarketplaceNotRequester(uint256 askId);

    /// @notice Thrown when cancelling an ask that has an assigned slot, or was already cancelled or refunded.
    /// @param askId The ask id.
    error ProofMarketplaceAskNotCancellable(uint256 askId);

    /// @notice Thrown when refunding an ask that has not expired, was cancelled or refunded, or has no unassigned slot.
    /// @param askId The ask id.
    error ProofMarketplaceNothingToRefund(uint256 askId);

    /// @notice Thrown by `assignBatch` for an empty batch.
    error ProofMarketplaceEmptyBatch();

    /// @notice Thrown by `assignBatch` after the batch's `validUntil`.
    /// @param validUntil The batch's last valid timestamp.
    error ProofMarketplaceBatchExpired(uint256 validUntil);

    /// @notice Thrown when a slot is not in the state the call needs.
    /// @param askId The ask id.
    /// @param slot The slot.
    /// @param state Its state.
    error ProofMarketplaceWrongSlotState(uint256 askId, uint256 slot, SlotState state);

    /// @notice Thrown when someone other than the assigned generator submits a proof.
    /// @param askId The ask id.
    /// @param slot The slot.
    error ProofMarketplaceNotAssignedGenerator(uint256 askId, uint256 slot);

    /// @notice Thrown when a proof arrives after the slot's deadline.
    /// @param deadline The deadline.
    error ProofMarketplaceDeadlinePassed(uint64 deadline);

    /// @notice Thrown when slashing before the slot's deadline has passed.
    /// @param deadline The deadline.
    error ProofMarketplaceDeadlineNotPassed(uint64 deadline);

    /// @notice Thrown when the submitted statement is not the ask's (`keccak256` differs).
    error ProofMarketplaceProverDataMismatch();

    /// @notice Thrown when the market's verifier rejects the proof (or reverts).
    error ProofMarketplaceInvalidProof();

    /// @notice Thrown when registering a generator that is registered.
    error ProofMarketplaceGeneratorRegistered();

    /// @notice Thrown when a generator-only call comes from an unregistered account.
    error ProofMarketplaceGeneratorNotRegistered();

    /// @notice Thrown for a zero capacity or one above `MAX_CAPACITY`.
    error ProofMarketplaceInvalidCapacity();

    /// @notice Thrown when joining a market already joined.
    /// @param marketId The market.
    error ProofMarketplaceAlreadyJoined(uint256 marketId);

    /// @notice Thrown when updating or leaving a market not joined.
    /// @param marketId The market.
    error ProofMarketplaceNotJoined(uint256 marketId);

    /// @notice Thrown for a zero proposed time.
    error ProofMarketplaceInvalidOffer();

    /// @notice Thrown when a bid is submitted outside a sealed-bid ask's window, or is not 65 bytes.
    /// @param askId The ask.
    error ProofMarketplaceBidRejected(uint256 askId);

    /// @notice Thrown when withdrawing with nothing to withdraw.
    error ProofMarketplaceNothingToWithdraw();

    /// @notice Thrown by `createPrivateAsk` for a zero inputs hash, an engine key wrap that is not `KEY_WRAP_LEN`
    /// bytes, or inline inputs above `MAX_INLINE_INPUTS` or not hashing to the inputs hash.
    error ProofMarketplaceInvalidPrivateInputs();

    /// @notice Thrown when an encryption key is not a 33-byte compressed secp256k1 public key.
    error ProofMarketplaceInvalidEncryptionKey();

    /// @notice Thrown when an invalid-inputs settlement names a public ask.
    /// @param askId The ask id.
    error ProofMarketplaceNotPrivate(uint256 askId);

    /// @notice Thrown when an invalid-inputs payment exceeds the slot's price.
    /// @param payment The signed payment.
    /// @param price The slot's price.
    error ProofMarketplaceInvalidPayment(uint256 payment, uint256 price);

    /// @notice Thrown by `assignBatchWithKeys` and `keyedBatchDigest` when there is not one key wrap per assignment.
    /// @param wraps The number of key wraps.
    /// @param assignments The number of assignments.
    error ProofMarketplaceKeyWrapsLength(uint256 wraps, uint256 assignments);

    // ---- Events ----

    /// @notice Emitted when a market is created.
    /// @param marketId The market id.
    /// @param creator Its creator.
    /// @param verifier The verifier.
    /// @param mode Matching mode.
    /// @param bidWindow Sealed-bid window (seconds; 0 for order book).
    /// @param slashingPenalty Stake locked per assignment.
    /// @param proverFamily Required prover family (zero: public).
    /// @param activation First timestamp accepting assignments.
    event MarketCreated(
        uint256 indexed marketId,
        address indexed creator,
        address verifier,
        MatchingMode mode,
        uint32 bidWindow,
        uint96 slashingPenalty,
        bytes32 proverFamily,
        uint40 activation
    );

    /// @notice Emitted when a generator registers (or registers again).
    /// @param generator The generator.
    /// @param capacity Its total capacity.
    event GeneratorRegistered(address indexed generator, uint32 capacity);

    /// @notice Emitted when a generator changes its capacity.
    /// @param generator The generator.
    /// @param capacity The new capacity.
    event CapacityChanged(address indexed generator, uint32 capacity);

    /// @notice Emitted when a generator deregisters (its running assignments continue).
    /// @param generator The generator.
    event GeneratorDeregistered(address indexed generator);

    /// @notice Emitted when a generator joins a market.
    /// @param generator The generator.
    /// @param marketId The market.
    /// @param cost Smallest price accepted.
    /// @param proposedTime Seconds per proof.
    event GeneratorJoined(
        address indexed generator, uint256 indexed marketId, uint96 cost, uint32 proposedTime
    );

    /// @notice Emitted when a generator replaces its offer in a market.
    /// @param generator The generator.
    /// @param marketId The market.
    /// @param cost Smallest price accepted.
    /// @param proposedTime Seconds per proof.
    event GeneratorUpdated(
        address indexed generator, uint256 indexed marketId, uint96 cost, uint32 proposedTime
    );

    /// @notice Emitted when a generator leaves a market (its running assignments continue).
    /// @param generator The generator.
    /// @param marketId The market.
    event GeneratorLeft(address indexed generator, uint256 indexed marketId);

    /// @notice Emitted when an ask is created and its reward escrowed.
    /// @param askId The ask id.
    /// @param marketId The market.
    /// @param requester Who created it.
    /// @param reward Largest price per generator.
    /// @param expiry Last assignable timestamp.
    /// @param provingTime Seconds per assignment.
    /// @param redundancy Number of slots.
    /// @param refundAddress Receives unspent reward.
    /// @param proverDataHash keccak256 of `proverData`.
    /// @param proverData The statement.
    event AskCreated(
        uint256 indexed askId,
        uint256 indexed marketId,
        address indexed requester,
        uint96 reward,
        uint64 expiry,
        uint32 provingTime,
        uint8 redundancy,
        address refundAddress,
        bytes32 proverDataHash,
        bytes proverData
    );

    /// @notice Emitted right after `AskCreated` for a private ask: the commitment to its encrypted inputs and the
    /// content key wrapped to the engine's encryption key.
    /// @param askId The ask id.
    /// @param inputsHash keccak256 of the encrypted inputs.
    /// @param engineKeyWrap The content key wrapped to the engine (`KEY_WRAP_LEN` bytes).
    /// @param inlineInputs The encrypted inputs, or empty when they are kept off chain.
    event PrivateInputsCommitted(
        uint256 indexed askId, bytes32 inputsHash, bytes engineKeyWrap, bytes inlineInputs
    );

    /// @notice Emitted when a generator sets its encryption key in a market.
    /// @param generator The generator.
    /// @param marketId The market.
    /// @param publicKey The 33-byte compressed secp256k1 public key.
    event EncryptionKeySet(address indexed generator, uint256 indexed marketId, bytes publicKey);

    /// @notice Emitted when the requester cancels an unassigned ask.
    /// @param askId The ask id.
    /// @param refund The amount credited to the refund address.
    event AskCancelled(uint256 indexed askId, uint256 refund);

    /// @notice Emitted when the escrow of an expired ask's never-assigned slots is refunded.
    /// @param askId The ask id.
    /// @param slots How many slots were never assigned.
    /// @param refund The amount credited to the refund address.
    event AskRefunded(uint256 indexed askId, uint256 slots, uint256 refund);

    /// @notice Emitted for a sealed bid (ciphertext to the engine's bid key).
    /// @param askId The ask.
    /// @param generator The bidder.
    /// @param sealedBid The 65-byte sealed bid.
    event BidSubmitted(uint256 indexed askId, address indexed generator, bytes sealedBid);

    /// @notice Emitted for each assignment of a batch the contract accepted.
    /// @param askId The ask.
    /// @param generator The generator.
    /// @param slot The slot.
    /// @param price Price paid on a valid proof.
    /// @param deadline Last timestamp at which the proof is accepted.
    event AssignmentAccepted(
        uint256 indexed askId, address indexed generator, uint8 slot, uint256 price, uint64 deadline
    );

    /// @notice Emitted right after `AssignmentAccepted` for a private ask's slot: the content key wrapped by the
    /// engine to the generator's encryption key in the ask's market.
    /// @param askId The ask.
    /// @param slot The slot.
    /// @param generator The generator.
    /// @param keyWrap The wrapped content key (`KEY_WRAP_LEN` bytes).
    event InputsKeyWrapped(uint256 indexed askId, uint8 slot, address indexed generator, bytes keyWrap);

    /// @notice Emitted when an assigned generator gives its slot back before the deadline.
    /// @param askId The ask.
    /// @param slot The slot (open again unless the ask was refunded).
    /// @param generator The generator.
    event AssignmentDiscarded(uint256 indexed askId, uint8 slot, address indexed generator);

    /// @notice Emitted when a private ask's slot is settled by the engine's statement that its inputs fail the
    /// market's input check.
    /// @param askId The ask.
    /// @param slot The slot.
    /// @param generator The generator, paid `payment`.
    /// @param payment What the generator was credited (the rest of the reward went to the refund address).
    event InputsInvalid(uint256 indexed askId, uint8 slot, address indexed generator, uint256 payment);

    /// @notice Emitted for each entry of a batch the contract skipped (nothing changed for it).
    /// @param askId The ask.
    /// @param generator The generator.
    /// @param slot The slot (as signed).
    /// @param reason Why.
    event AssignmentSkipped(
        uint256 indexed askId, address indexed generator, uint256 slot, SkipReason reason
    );

    /// @notice Emitted when a generator's proof is accepted and it is paid.
    /// @param askId The ask.
    /// @param slot The slot.
    /// @param generator The generator.
    /// @param price What it was credited.
    /// @param proof The proof, as the market's verifier accepted it.
    event ProofSubmitted(
        uint256 indexed askId, uint8 slot, address indexed generator, uint256 price, bytes proof
    );

    /// @notice Emitted when a generator that missed its deadline is slashed.
    /// @param askId The ask.
    /// @param slot The slot.
    /// @param generator The generator.
    /// @param penalty The stake slashed.
    event Slashed(uint256 indexed askId, uint8 slot, address indexed generator, uint256 penalty);

    /// @notice Emitted when an account withdraws its credited payments.
    /// @param account The account.
    /// @param amount The amount.
    event Withdrawn(address indexed account, uint256 amount);
}
