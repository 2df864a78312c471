// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {IAttestationVerifier} from "../../src/interfaces/IAttestationVerifier.sol";

/// @notice TEST ONLY. An attestation "verifier" that proves nothing: it decodes `abi.encode(Attestation)` and
/// returns it, so tests can drive every policy branch of the registry. It says so through `isTestOnly()`, and
/// the deploy script refuses it.
contract TestOnlyAttestationVerifier is IAttestationVerifier {
    /// @notice Thrown by `verify` while `rejectAll` is set, standing in for a forged document.
    error TestOnlyAttestationVerifierRejected();

    /// @notice When true, every document is rejected.
    bool public rejectAll;

    /// @notice Makes `verify` reject (or accept) every document.
    /// @param reject The new setting.
    function setRejectAll(bool reject) external {
        rejectAll = reject;
    }

    /// @inheritdoc IAttestationVerifier
    function verify(bytes calldata attestation) external view returns (Attestation memory result) {
        if (rejectAll) revert TestOnlyAttestationVerifierRejected();
        return abi.decode(attestation, (Attestation));
    }

    /// @inheritdoc IAttestationVerifier
    function isTestOnly() external pure returns (bool) {
        return true;
    }
}
