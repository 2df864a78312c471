// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

/// @title RestakingTiming
/// @notice The one set of timing parameters both chains' restaking contracts are deployed with: the L2
/// `SymbioticStakingModule` (how long a snapshot may back locks) and the L1 `NetworkMiddleware` (which vaults are
/// long enough to slash at a snapshot's capture). Every bound either contract enforces is derived here, so the L2
/// never grants a lock whose slash the L1 would refuse as outside the capture window.
/// @dev Timeline of a snapshot captured at `c` (all times in seconds, one clock for both chains):
///  - it becomes the active stake at `epochStart + activationOffset` (`c` lies inside its epoch);
///  - it backs restaked locks whose deadline is at most `lockEnd(c) = c + epochDuration + activationOffset +
///    lockAllowance`; after that it grants nothing (the snapshot has expired);
///  - a missed deadline is slashed on the L2 and carried to L1 within `bridgingAllowance`, so the L1 request
///    comes at most `slashingWindow = epochDuration + activationOffset + lockAllowance + bridgingAllowance` after
///    `c`. The middleware admits only vaults whose epoch (minus veto period) covers that window.
library RestakingTiming {
    /// @notice Timing parameters, identical in both chains' contracts.
    /// @param epochDuration Marketplace epoch (s): one snapshot per epoch.
    /// @param activationOffset Delay after an epoch's start before its snapshot is the active stake (s).
    /// @param lockAllowance Longest a restaked lock may outlive its snapshot's normal handover (s): a lock's
    /// deadline is at most `capture + epochDuration + activationOffset + lockAllowance`.
    /// @param bridgingAllowance Deadline → L1 slash request (s): the L2 slash call plus bridging.
    struct Params {
        uint48 epochDuration;
        uint48 activationOffset;
        uint48 lockAllowance;
        uint48 bridgingAllowance;
    }

    /// @notice Thrown when parameters are out of range (zero epoch or bridging allowance, offset not below the
    /// epoch, or a window beyond `uint48`).
    error RestakingInvalidTiming();

    /// @notice Checks the parameters; both contracts' constructors call it.
    /// @param p The parameters.
    function validate(Params memory p) internal pure {
        if (
            p.epochDuration == 0 || p.activationOffset >= p.epochDuration || p.bridgingAllowance == 0
                || uint256(p.epochDuration) + p.activationOffset + p.lockAllowance + p.bridgingAllowance
                    > type(uint48).max
        ) revert RestakingInvalidTiming();
    }

    /// @notice Packs validated parameters into one word (contracts keep it as one immutable).
    /// @param p The parameters.
    /// @return The packed word: epoch, offset, lock allowance, bridging allowance, 48 bits each.
    function pack(Params memory p) internal pure returns (uint256) {
        return uint256(p.epochDuration) << 144 | uint256(p.activationOffset) << 96 | uint256(p.lockAllowance)
            << 48 | p.bridgingAllowance;
    }

    /// @notice The parameters of a packed word.
    /// @param packed The word from `pack`.
    /// @return p The parameters.
    function unpack(uint256 packed) internal pure returns (Params memory p) {
        // Each field is 48 bits of the word: the casts keep exactly those.
        // forge-lint: disable-next-line(unsafe-typecast)
        p.epochDuration = uint48(packed >> 144);
        // forge-lint: disable-next-line(unsafe-typecast)
        p.activationOffset = uint48(packed >> 96);
        // forge-lint: disable-next-line(unsafe-typecast)
        p.lockAllowance = uint48(packed >> 48);
        // forge-lint: disable-next-line(unsafe-typecast)
        p.bridgingAllowance = uint48(packed);
    }

    /// @notice Longest time from a capture to the L1 slash request made against it (s).
    /// @param p The parameters.
    /// @return The window.
    function slashingWindow(Params memory p) internal pure returns (uint48) {
        return p.epochDuration + p.activationOffset + p.lockAllowance + p.bridgingAllowance;
    }

    /// @notice Latest deadline a restaked lock against a snapshot captured at `capture` may have; also when the
    /// snapshot stops backing new locks.
    /// @param p The parameters.
    /// @param capture The snapshot's capture time.
    /// @return The bound (s).
    function lockEnd(Params memory p, uint48 capture) internal pure returns (uint256) {
        return uint256(capture) + p.epochDuration + p.activationOffset + p.lockAllowance;
    }
}
