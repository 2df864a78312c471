// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

/// @title IStakingModule
/// @notice The stake behind generators, as the `ProofMarketplace` uses it: per (generator, market) usable stake, a
/// lock per assignment (the market's slashing penalty), released on a valid proof, slashed on a missed deadline.
/// A lock is named by its assignment's deadline: `unlock` and `slash` pass the deadline `lock` was given, so a
/// module can tell locks apart (the restaking module ties each to the stake snapshot it was taken against).
/// @dev Implementations: `NativeStaking` (ERC-20 deposited on this chain). A restaking-backed module plugs in behind
/// the same interface. Only the bound marketplace may lock, unlock and slash.
interface IStakingModule {
    /// @notice Thrown when a caller other than the bound marketplace locks, unlocks or slashes.
    /// @param caller The caller.
    error StakingUnauthorized(address caller);

    /// @notice Thrown when unlocking or slashing more than is locked (a marketplace bug: never expected).
    /// @param generator The generator.
    /// @param market The market.
    /// @param locked The amount locked.
    /// @param amount The amount asked for.
    error StakingInsufficientLocked(address generator, uint256 market, uint256 locked, uint256 amount);

    /// @notice Emitted whenever a generator's usable stake for a market changes (deposit, withdrawal, slash).
    /// @param generator The generator.
    /// @param market The market.
    /// @param stake The new usable stake (locked amounts included).
    event StakeChanged(address indexed generator, uint256 indexed market, uint256 stake);

    /// @notice Emitted when stake is slashed.
    /// @param generator The generator.
    /// @param market The market.
    /// @param amount The amount slashed.
    /// @param compensated The part credited to `compensationRecipient`.
    /// @param compensationRecipient Who was compensated (the requester's refund address).
    event StakeSlashed(
        address indexed generator,
        uint256 indexed market,
        uint256 amount,
        uint256 compensated,
        address compensationRecipient
    );

    /// @notice A generator's usable stake for a market, locked amounts included.
    /// @param generator The generator.
    /// @param market The market.
    /// @return The stake.
    function stakeOf(address generator, uint256 market) external view returns (uint256);

    /// @notice The part of `stakeOf` currently locked by assignments.
    /// @param generator The generator.
    /// @param market The market.
    /// @return The locked amount.
    function lockedOf(address generator, uint256 market) external view returns (uint256);

    /// @notice Locks `amount` of the generator's free stake for one assignment. Only the marketplace.
    /// @dev Returns false (and changes nothing) when the free stake is short, so that one generator cannot make
    /// a whole batch revert by withdrawing stake just before it lands.
    /// @param generator The generator.
    /// @param market The market.
    /// @param amount The amount (the market's slashing penalty).
    /// @param deadline The assignment's proof deadline (s).
    /// @return locked Whether the stake was locked.
    function lock(address generator, uint256 market, uint256 amount, uint256 deadline)
        external
        returns (bool locked);

    /// @notice Releases a lock (valid proof). Only the marketplace.
    /// @param generator The generator.
    /// @param market The market.
    /// @param amount The amount locked for the assignment.
    /// @param deadline The deadline the lock was taken with.
    function unlock(address generator, uint256 market, uint256 amount, uint256 deadline) external;

    /// @notice Slashes a lock (missed deadline): the stake is removed, part goes to `compensationRecipient`.
    /// Only the marketplace.
    /// @param generator The generator.
    /// @param market The market.
    /// @param amount The amount locked for the assignment.
    /// @param deadline The deadline the lock was taken with.
    /// @param compensationRecipient Who is compensated (the requester's refund address).
    function slash(
        address generator,
        uint256 market,
        uint256 amount,
        uint256 deadline,
        address compensationRecipient
    ) external;
}
