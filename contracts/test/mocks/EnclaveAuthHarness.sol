// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {EnclaveAuth} from "../../src/EnclaveAuth.sol";
import {IEnclaveRegistry} from "../../src/interfaces/IEnclaveRegistry.sol";

/// @notice A minimal consumer of `EnclaveAuth`, shaped like a marketplace accepting an enclave-signed result.
contract EnclaveAuthHarness is EnclaveAuth {
    /// @notice EIP-712 type of the signed message.
    bytes32 public constant RESULT_TYPEHASH = keccak256("Result(bytes32 jobId,bytes32 output)");

    /// @notice Emitted when a result is accepted.
    /// @param jobId The job.
    /// @param signer The enclave key that signed it.
    event ResultAccepted(bytes32 indexed jobId, address indexed signer);

    /// @param registry The enclave key registry.
    constructor(IEnclaveRegistry registry) EnclaveAuth(registry, "EnclaveAuthHarness", "1") {}

    /// @notice Checks an enclave-signed result without replay protection.
    /// @param family Family the signer must belong to.
    /// @param jobId The job.
    /// @param output The result.
    /// @param signature 65-byte signature over the EIP-712 digest.
    /// @return signer The enclave key.
    function check(bytes32 family, bytes32 jobId, bytes32 output, bytes calldata signature)
        external
        view
        returns (address signer)
    {
        return _requireEnclaveSigner(family, keccak256(abi.encode(RESULT_TYPEHASH, jobId, output)), signature);
    }

    /// @notice Accepts an enclave-signed result at most once.
    /// @param family Family the signer must belong to.
    /// @param jobId The job.
    /// @param output The result.
    /// @param signature 65-byte signature over the EIP-712 digest.
    /// @return signer The enclave key.
    function accept(bytes32 family, bytes32 jobId, bytes32 output, bytes calldata signature)
        external
        returns (address signer)
    {
        signer = _requireEnclaveSignerOnce(
            family, keccak256(abi.encode(RESULT_TYPEHASH, jobId, output)), signature
        );
        emit ResultAccepted(jobId, signer);
    }

    /// @notice The EIP-712 digest a signer signs for `(jobId, output)`.
    /// @param jobId The job.
    /// @param output The result.
    /// @return The digest.
    function digestOf(bytes32 jobId, bytes32 output) external view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(RESULT_TYPEHASH, jobId, output)));
    }
}
