// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

/// @title IVerifier
/// @notice What a market's proof system looks like to the `ProofMarketplace`: a statement (`proverData`, fixed by
/// the requester when the ask is created) and a proof (supplied by the assigned generator).
interface IVerifier {
    /// @notice Whether `proof` proves the statement `proverData`.
    /// @dev Must not revert on malformed input (return false); the marketplace treats a revert as false anyway.
    /// @param proverData The statement (public inputs) of the ask.
    /// @param proof The proof.
    /// @return True if the proof is valid.
    function verify(bytes calldata proverData, bytes calldata proof) external view returns (bool);

    /// @notice Whether `proverData` is a well-formed statement, checked when an ask is created.
    /// @param proverData The statement.
    /// @return True if well-formed.
    function verifyInputs(bytes calldata proverData) external view returns (bool);

    /// @notice Verifies a statement and proof pinned in the verifier, so a market cannot be created over a
    /// verifier that accepts nothing or is not a verifier at all.
    /// @return True if the pinned sample verifies.
    function checkSampleInputsAndProof() external view returns (bool);
}
