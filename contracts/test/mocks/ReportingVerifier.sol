// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {IAttestationVerifier} from "../../src/interfaces/IAttestationVerifier.sol";

/// @notice TEST ONLY. A verifier that rejects every document and reports whatever `isTestOnly()` answer it was
/// built with; stands in for a real verifier (false) or a dev-CA verifier (true) when testing deploy vetting.
contract ReportingVerifier is IAttestationVerifier {
    /// @notice Thrown by every `verify` call.
    error ReportingVerifierRejects();

    bool internal immutable _TEST_ONLY;

    /// @param testOnly The answer `isTestOnly()` gives.
    constructor(bool testOnly) {
        _TEST_ONLY = testOnly;
    }

    /// @inheritdoc IAttestationVerifier
    function verify(bytes calldata) external pure returns (Attestation memory) {
        revert ReportingVerifierRejects();
    }

    /// @inheritdoc IAttestationVerifier
    function isTestOnly() external view returns (bool) {
        return _TEST_ONLY;
    }
}
