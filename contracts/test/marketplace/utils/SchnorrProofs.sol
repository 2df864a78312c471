// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {SchnorrBn254Verifier} from "../../../src/marketplace/verifiers/SchnorrBn254Verifier.sol";

/// @notice Builds statements and proofs for `SchnorrBn254Verifier` in tests (the prover side, with the `ecMul`
/// precompile). Shared by the fixture and the invariant handler.
library SchnorrProofs {
    /// @dev BN254 group order.
    uint256 internal constant N =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;

    function ecMul(uint256 x, uint256 y, uint256 k) internal view returns (uint256, uint256) {
        (bool ok, bytes memory out) = address(0x07).staticcall(abi.encode(x, y, k));
        require(ok && out.length == 64, "ecMul");
        return abi.decode(out, (uint256, uint256));
    }

    /// @dev The statement "I know `witness`": abi.encode(witness·G).
    function statement(uint256 witness) internal view returns (bytes memory) {
        (uint256 px, uint256 py) = ecMul(1, 2, witness);
        return abi.encode(px, py);
    }

    /// @dev A Schnorr proof of knowledge of `witness` with nonce `nonce` (1 <= nonce < N).
    function prove(SchnorrBn254Verifier verifier, uint256 witness, uint256 nonce)
        internal
        view
        returns (bytes memory)
    {
        (uint256 px, uint256 py) = ecMul(1, 2, witness);
        (uint256 rx, uint256 ry) = ecMul(1, 2, nonce);
        uint256 c = verifier.challenge(px, py, rx, ry);
        return abi.encode(rx, ry, addmod(nonce, mulmod(c, witness, N), N));
    }
}
