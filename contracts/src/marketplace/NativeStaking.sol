// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {IStakingModule} from "./IStakingModule.sol";

/// @title NativeStaking
/// @notice The simplest `IStakingModule`: generators deposit an ERC-20 stake token on this chain, per market.
/// A lock reserves part of it for one assignment; a slash removes the locked part and splits it between the
/// requester (compensation, `COMPENSATION_BPS`) and the treasury (the rest). Slash proceeds are pulled with `claim`.
/// @dev One storage slot per (generator, market): `stake` and `locked`, both uint128, so a lock is one cold read
/// and one write. Free stake (`stake - locked`) can be withdrawn at any time: locked stake never can, so every
/// slash is covered. Fee-on-transfer and rebasing tokens are not supported.
contract NativeStaking is IStakingModule {
    using SafeERC20 for IERC20;

    // ---- Errors ----

    /// @notice Thrown when the marketplace is bound twice, by another account than the deployer, or to zero.
    error NativeStakingBindForbidden();

    /// @notice Thrown when withdrawing more than the free stake.
    /// @param free The free stake.
    /// @param amount The amount asked for.
    error NativeStakingInsufficientFreeStake(uint256 free, uint256 amount);

    /// @notice Thrown when a constructor argument is out of range.
    error NativeStakingInvalidConfig();

    /// @notice Thrown for a zero amount or an amount that does not fit 128 bits.
    error NativeStakingInvalidAmount();

    /// @notice Thrown when there is nothing to claim.
    error NativeStakingNothingToClaim();

    // ---- Events ----

    /// @notice Emitted when the marketplace is bound.
    /// @param marketplace The marketplace.
    event MarketplaceBound(address indexed marketplace);

    /// @notice Emitted when slash proceeds are claimed.
    /// @param account The claimant.
    /// @param amount The amount.
    event Claimed(address indexed account, uint256 amount);

    // ---- Storage ----

    /// @notice Basis points of a slash that compensate the requester (the rest goes to the treasury).
    uint16 public immutable COMPENSATION_BPS;

    /// @notice The stake token.
    IERC20 public immutable STAKE_TOKEN;

    /// @notice Receives the non-compensation part of slashes.
    address public immutable TREASURY;

    address private immutable _DEPLOYER;

    struct Position {
        uint128 stake;
        uint128 locked;
    }

    address private _marketplace;
    mapping(address generator => mapping(uint256 market => Position)) private _positions;
    mapping(address account => uint256) private _claimable;
    uint256 private _totalStaked;
    uint256 private _totalClaimable;

    /// @param stakeToken The stake token.
    /// @param treasury Receives the non-compensation part of slashes.
    /// @param compensationBps Basis points (0..10 000) of a slash credited to the requester.
    constructor(IERC20 stakeToken, address treasury, uint16 compensationBps) {
        if (address(stakeToken) == address(0) || treasury == address(0) || compensationBps > 10_000) {
            revert NativeStakingInvalidConfig();
        }
        STAKE_TOKEN = stakeToken;
        TREASURY = treasury;
        COMPENSATION_BPS = compensationBps;
        _DEPLOYER = msg.sender;
    }

    // ---- Generators ----

    /// @notice Binds the marketplace allowed to lock, unlock and slash. Once, by the deployer.
    /// @param marketplace_ The marketplace.
    function bindMarketplace(address marketplace_) external {
        if (msg.sender != _DEPLOYER || _marketplace != address(0) || marketplace_ == address(0)) {
            revert NativeStakingBindForbidden();
        }
        _marketplace = marketplace_;
        emit MarketplaceBound(marketplace_);
    }

    /// @notice Deposits stake for `market` (pulled from the caller).
    /// @param market The market.
    /// @param amount The amount.
    function deposit(uint256 market, uint256 amount) external {
        Position storage p = _positions[msg.sender][market];
        uint256 stake = p.stake + amount;
        if (amount == 0 || stake > type(uint128).max) revert NativeStakingInvalidAmount();
        p.stake = uint128(stake);
        _totalStaked += amount;
        emit StakeChanged(msg.sender, market, stake);
        STAKE_TOKEN.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice Withdraws free (unlocked) stake of `market` to the caller.
    /// @param market The market.
    /// @param amount The amount.
    function withdraw(uint256 market, uint256 amount) external {
        Position storage p = _positions[msg.sender][market];
        uint256 free = p.stake - p.locked;
        if (amount == 0) revert NativeStakingInvalidAmount();
        if (amount > free) revert NativeStakingInsufficientFreeStake(free, amount);
        // amount <= free <= stake.
        uint256 stake = p.stake - amount;
        p.stake = uint128(stake);
        _totalStaked -= amount;
        emit StakeChanged(msg.sender, market, stake);
        STAKE_TOKEN.safeTransfer(msg.sender, amount);
    }

    /// @notice Pays out the caller's slash proceeds (compensation or treasury share).
    function claim() external {
        uint256 amount = _claimable[msg.sender];
        if (amount == 0) revert NativeStakingNothingToClaim();
        _claimable[msg.sender] = 0;
        _totalClaimable -= amount;
        emit Claimed(msg.sender, amount);
        STAKE_TOKEN.safeTransfer(msg.sender, amount);
    }

    // ---- Marketplace ----

    /// @inheritdoc IStakingModule
    /// @dev Native locks of a market are interchangeable: the deadline is not needed.
    function lock(address generator, uint256 market, uint256 amount, uint256) external returns (bool) {
        _onlyMarketplace();
        Position storage p = _positions[generator][market];
        (uint128 stake, uint128 locked) = (p.stake, p.locked);
        // locked <= stake always; amount is a market penalty (uint96 in the marketplace).
        if (stake - locked < amount) return false;
        p.locked = locked + uint128(amount);
        return true;
    }

    /// @inheritdoc IStakingModule
    function unlock(address generator, uint256 market, uint256 amount, uint256) external {
        _onlyMarketplace();
        Position storage p = _positions[generator][market];
        uint128 locked = p.locked;
        if (locked < amount) revert StakingInsufficientLocked(generator, market, locked, amount);
        p.locked = locked - uint128(amount);
    }

    /// @inheritdoc IStakingModule
    function slash(address generator, uint256 market, uint256 amount, uint256, address compensationRecipient)
        external
    {
        _onlyMarketplace();
        Position storage p = _positions[generator][market];
        (uint128 stake, uint128 locked) = (p.stake, p.locked);
        if (locked < amount) revert StakingInsufficientLocked(generator, market, locked, amount);
        // amount <= locked <= stake.
        p.stake = stake - uint128(amount);
        p.locked = locked - uint128(amount);
        uint256 compensated = amount * COMPENSATION_BPS / 10_000;
        _totalStaked -= amount;
        _totalClaimable += amount;
        _claimable[compensationRecipient] += compensated;
        _claimable[TREASURY] += amount - compensated;
        emit StakeChanged(generator, market, stake - amount);
        emit StakeSlashed(generator, market, amount, compensated, compensationRecipient);
    }

    // ---- Views ----

    /// @inheritdoc IStakingModule
    function stakeOf(address generator, uint256 market) external view returns (uint256) {
        return _positions[generator][market].stake;
    }

    /// @inheritdoc IStakingModule
    function lockedOf(address generator, uint256 market) external view returns (uint256) {
        return _positions[generator][market].locked;
    }

    /// @notice Slash proceeds `account` can claim.
    /// @param account The account.
    /// @return The amount.
    function claimableOf(address account) external view returns (uint256) {
        return _claimable[account];
    }

    /// @notice The bound marketplace (zero before `bindMarketplace`).
    /// @return The marketplace.
    function marketplace() external view returns (address) {
        return _marketplace;
    }

    /// @notice Sum of all positions' stake (locked included).
    /// @return The total.
    function totalStaked() external view returns (uint256) {
        return _totalStaked;
    }

    /// @notice Sum of all unclaimed slash proceeds.
    /// @return The total.
    function totalClaimable() external view returns (uint256) {
        return _totalClaimable;
    }

    function _onlyMarketplace() private view {
        if (msg.sender != _marketplace) revert StakingUnauthorized(msg.sender);
    }
}
