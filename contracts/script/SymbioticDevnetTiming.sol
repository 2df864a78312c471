// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {VmSafe} from "forge-std/Vm.sol";

import {RestakingTiming} from "../src/symbiotic/RestakingTiming.sol";

/// @title SymbioticDevnetTiming
/// @notice The restaking timing both devnet scripts deploy with, read from one set of environment variables so
/// the L1 middleware and the L2 staking module cannot be given different values:
///  - `EPOCH_DURATION`     marketplace epoch (s, default 1 day);
///  - `ACTIVATION_OFFSET`  delay after an epoch's start before its snapshot is used (s, default 1 hour);
///  - `LOCK_ALLOWANCE`     how long a restaked lock may outlive its snapshot's handover (s, default 1 day);
///  - `BRIDGING_ALLOWANCE` deadline → L1 slash request (s, default 1 day).
library SymbioticDevnetTiming {
    VmSafe private constant VM = VmSafe(address(uint160(uint256(keccak256("hevm cheat code")))));

    /// @notice The parameters from the environment.
    /// @return t The parameters.
    function fromEnv() internal view returns (RestakingTiming.Params memory t) {
        t.epochDuration = uint48(VM.envOr("EPOCH_DURATION", uint256(1 days)));
        t.activationOffset = uint48(VM.envOr("ACTIVATION_OFFSET", uint256(1 hours)));
        t.lockAllowance = uint48(VM.envOr("LOCK_ALLOWANCE", uint256(1 days)));
        t.bridgingAllowance = uint48(VM.envOr("BRIDGING_ALLOWANCE", uint256(1 days)));
    }
}
