// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

/// @title Pcrs
/// @notice Helpers for Nitro PCR values (SHA-384, 48 bytes) and image ids.
library Pcrs {
    /// @notice Length of a SHA-384 PCR.
    uint256 internal constant LENGTH = 48;

    /// @notice The image id of three PCRs: keccak256(PCR0 ‖ PCR1 ‖ PCR2).
    /// @param pcr0 PCR0.
    /// @param pcr1 PCR1.
    /// @param pcr2 PCR2.
    /// @return The image id.
    function imageId(bytes memory pcr0, bytes memory pcr1, bytes memory pcr2)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(bytes.concat(pcr0, pcr1, pcr2));
    }

    /// @notice Whether a 48-byte PCR is all zeros (what a debug-mode enclave reports).
    /// @dev Caller guarantees `pcr.length == 48`.
    /// @param pcr The PCR.
    /// @return True if every byte is zero.
    function isZero(bytes memory pcr) internal pure returns (bool) {
        bytes32 head;
        bytes32 tail;
        // Reads bytes [0, 32) and [16, 48) of the 48-byte payload; both words lie inside the array.
        assembly ("memory-safe") {
            head := mload(add(pcr, 0x20))
            tail := mload(add(pcr, 0x30))
        }
        return (head | tail) == 0;
    }
}
