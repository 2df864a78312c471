// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

/// @title IEnclaveAuth
/// @notice Errors of the `EnclaveAuth` gate.
interface IEnclaveAuth {
    /// @notice Thrown when a signature is malformed, malleable (high-s) or recovers to no address.
    error EnclaveAuthInvalidSignature();

    /// @notice Thrown when the signer is not a live enclave key of the required family.
    /// @param signer The recovered signer.
    /// @param family The family required.
    error EnclaveAuthKeyNotLive(address signer, bytes32 family);

    /// @notice Thrown when a replay-guarded digest has already been accepted.
    /// @param digest The EIP-712 digest.
    error EnclaveAuthDigestUsed(bytes32 digest);
}
