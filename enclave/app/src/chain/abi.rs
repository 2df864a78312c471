//! The slice of the marketplace and staking ABIs the engine uses, declared here so that the
//! enclave depends on no build artifact. Names and types follow
//! `contracts/src/marketplace/IProofMarketplace.sol` and `IStakingModule.sol`;
//! `abi_matches_the_contracts` checks every event signature against the Solidity sources.
#![allow(clippy::too_many_arguments)] // generated constructors of the events' structs

alloy::sol! {
    /// `IProofMarketplace`: the events the engine ingests and `assignBatch`.
    #[sol(rpc)]
    #[allow(missing_docs)]
    interface IProofMarketplace {
        struct Assignment {
            uint256 askId;
            uint256 slot;
            address generator;
            uint256 price;
        }

        event MarketCreated(
            uint256 indexed marketId,
            address indexed creator,
            address verifier,
            uint8 mode,
            uint32 bidWindow,
            uint96 slashingPenalty,
            bytes32 proverFamily,
            uint40 activation
        );
        event GeneratorRegistered(address indexed generator, uint32 capacity);
        event CapacityChanged(address indexed generator, uint32 capacity);
        event GeneratorDeregistered(address indexed generator);
        event GeneratorJoined(address indexed generator, uint256 indexed marketId, uint96 cost, uint32 proposedTime);
        event GeneratorUpdated(address indexed generator, uint256 indexed marketId, uint96 cost, uint32 proposedTime);
        event GeneratorLeft(address indexed generator, uint256 indexed marketId);
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
        event AskCancelled(uint256 indexed askId, uint256 refund);
        event BidSubmitted(uint256 indexed askId, address indexed generator, bytes sealedBid);
        event AssignmentAccepted(uint256 indexed askId, address indexed generator, uint8 slot, uint256 price, uint64 deadline);
        event AssignmentSkipped(uint256 indexed askId, address indexed generator, uint256 slot, uint8 reason);
        event ProofSubmitted(uint256 indexed askId, uint8 slot, address indexed generator, uint256 price);
        event Slashed(uint256 indexed askId, uint8 slot, address indexed generator, uint256 penalty);

        function assignBatch(Assignment[] calldata assignments, uint256 validUntil, bytes calldata signature) external;
        function STAKING() external view returns (address);
        function MATCHING_ENGINE_FAMILY() external view returns (bytes32);
    }

    /// `IStakingModule`: usable stake per generator and market.
    #[sol(rpc)]
    #[allow(missing_docs)]
    interface IStakingModule {
        event StakeChanged(address indexed generator, uint256 indexed market, uint256 stake);
    }

    /// `IEnclaveRegistry`: whether the engine key may sign batches.
    #[sol(rpc)]
    #[allow(missing_docs)]
    interface IEnclaveRegistry {
        function isLiveKey(address key, bytes32 family) external view returns (bool);
    }
}
