// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {IVerifier} from "../../../src/marketplace/IVerifier.sol";

/// @notice A verifier that misbehaves, to test that the marketplace refuses it or fails closed. Never the verifier
/// of a passing flow.
contract RejectingVerifier is IVerifier {
    enum Mode {
        /// Every call returns false.
        False,
        /// Every call reverts.
        Revert,
        /// Sample and inputs pass; `verify` reverts (a verifier that breaks after the market exists).
        VerifyReverts
    }

    Mode public immutable MODE;

    constructor(Mode mode) {
        MODE = mode;
    }

    function verify(bytes calldata, bytes calldata) external view returns (bool) {
        if (MODE != Mode.False) revert("verifier broke");
        return false;
    }

    function verifyInputs(bytes calldata) external view returns (bool) {
        if (MODE == Mode.Revert) revert("verifier broke");
        return MODE == Mode.VerifyReverts;
    }

    function checkSampleInputsAndProof() external view returns (bool) {
        if (MODE == Mode.Revert) revert("verifier broke");
        return MODE == Mode.VerifyReverts;
    }
}
