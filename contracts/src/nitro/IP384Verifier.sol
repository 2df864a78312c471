// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

/// @title IP384Verifier
/// @notice ECDSA P-384 verification as a contract of its own (`P384Verifier`), so that the arithmetic
/// can be compiled by the IR pipeline (its stack layout saves ~17% of the gas of a verification) while
/// the contracts that call it keep the legacy pipeline.
interface IP384Verifier {
    /// @notice `P384.check`: VALID (0), INVALID (1) or BAD_HINT (2) for the 16-word input described
    /// at `P384.verify`. Never reverts on malformed input.
    function check(uint256[16] calldata v) external view returns (uint256 outcome);
}
