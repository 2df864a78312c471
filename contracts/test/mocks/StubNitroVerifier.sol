// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {INitroAttestationVerifier} from "../../src/nitro/INitroAttestationVerifier.sol";

/// @notice TEST ONLY. Stands in for the full Nitro verifier behind `NitroOptimisticVerifier`: it knows which
/// documents are genuine (by keccak256) and answers `verifyAtDocumentTime` like the real one would, without the
/// ~17 M gas of P-384, so handlers can run many resolutions. `setFailure` makes every call revert with given
/// data (e.g. a "not yet valid" or out-of-gas answer).
contract StubNitroVerifier {
    mapping(bytes32 docHash => bool) public genuine;
    bytes internal _failure;
    uint256 public calls;

    function setGenuine(bytes memory document) external {
        genuine[keccak256(document)] = true;
    }

    function setFailure(bytes memory failure) external {
        _failure = failure;
    }

    /// @dev Reverts `NitroBadSignature` for a document not marked genuine, like the real verifier for a forgery.
    function verifyAtDocumentTime(bytes calldata attestation) external {
        ++calls;
        bytes memory failure = _failure;
        if (failure.length != 0) {
            assembly ("memory-safe") {
                revert(add(failure, 32), mload(failure))
            }
        }
        (bytes memory document,) = abi.decode(attestation, (bytes, uint256[]));
        if (!genuine[keccak256(document)]) revert INitroAttestationVerifier.NitroBadSignature(5);
    }

    function isTestOnly() external pure returns (bool) {
        return true;
    }
}
