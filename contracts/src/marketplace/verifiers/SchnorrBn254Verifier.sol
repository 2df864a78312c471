// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {IVerifier} from "../IVerifier.sol";

/// @title SchnorrBn254Verifier
/// @notice A real proof system for markets: a non-interactive Schnorr proof of knowledge of a discrete logarithm on
/// the BN254 (alt_bn128) G1 group, checked with the EVM precompiles `ecAdd` (0x06) and `ecMul` (0x07).
///
/// Statement (`proverData` = `abi.encode(uint256 px, uint256 py)`): "I know x with P = x·G", G = (1, 2).
/// Proof (`abi.encode(uint256 rx, uint256 ry, uint256 s)`): a commitment R = r·G and a response s = r + c·x mod n,
/// where the challenge is c = keccak256(abi.encode(px, py, rx, ry)) mod n (Fiat-Shamir). Valid iff s·G = R + c·P.
/// @dev Sound under the discrete-logarithm assumption in the random-oracle model; zero-knowledge (the proof reveals
/// nothing about x). The proof is not bound to a prover: a valid proof seen in the mempool can be resubmitted by
/// another assigned generator of the same ask (see the marketplace README). The pinned sample was computed by
/// `test/marketplace/fixtures/schnorr_sample.py`.
contract SchnorrBn254Verifier is IVerifier {
    /// @dev Base field modulus.
    uint256 internal constant P =
        21888242871839275222246405745257275088696311157297823662689037894645226208583;
    /// @dev Group order.
    uint256 internal constant N =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;

    uint256 internal constant SAMPLE_PX = 0x0fc500fd42cff07469549730c381b472c45d1c6f1bf916fd22e8ea704fdf9e26;
    uint256 internal constant SAMPLE_PY = 0x15f24a98b5fa65e5f8e4aeeabe6af277e57c715b617dde0650721c88543fb1dc;
    uint256 internal constant SAMPLE_RX = 0x2950361a9019edf392122b5248367a73783ccbb3eeb76103ee48b43f5dd24844;
    uint256 internal constant SAMPLE_RY = 0x080cf3fe2e2816ba166bf2498b305220a77557cca3301474227671135e14657e;
    uint256 internal constant SAMPLE_S = 0x24919fbe98510870ec37b6c072fcf90266e86eda3f75ee151c4c192df8e8ded4;

    /// @inheritdoc IVerifier
    function verify(bytes calldata proverData, bytes calldata proof) external view returns (bool) {
        if (proverData.length != 64 || proof.length != 96) return false;
        (uint256 px, uint256 py) = abi.decode(proverData, (uint256, uint256));
        (uint256 rx, uint256 ry, uint256 s) = abi.decode(proof, (uint256, uint256, uint256));
        return _verify(px, py, rx, ry, s);
    }

    /// @inheritdoc IVerifier
    function verifyInputs(bytes calldata proverData) external pure returns (bool) {
        if (proverData.length != 64) return false;
        (uint256 px, uint256 py) = abi.decode(proverData, (uint256, uint256));
        return _onCurve(px, py);
    }

    /// @inheritdoc IVerifier
    function checkSampleInputsAndProof() external view returns (bool) {
        return _verify(SAMPLE_PX, SAMPLE_PY, SAMPLE_RX, SAMPLE_RY, SAMPLE_S);
    }

    /// @notice The Fiat-Shamir challenge of a statement and commitment.
    /// @param px Statement point x.
    /// @param py Statement point y.
    /// @param rx Commitment x.
    /// @param ry Commitment y.
    /// @return The challenge, reduced mod n.
    function challenge(uint256 px, uint256 py, uint256 rx, uint256 ry) public pure returns (uint256) {
        return uint256(keccak256(abi.encode(px, py, rx, ry))) % N;
    }

    function _verify(uint256 px, uint256 py, uint256 rx, uint256 ry, uint256 s) private view returns (bool) {
        // The point at infinity is not a valid statement or commitment; points must be reduced and on the curve.
        if (!_onCurve(px, py) || !_onCurve(rx, ry) || s >= N) return false;
        uint256 c = challenge(px, py, rx, ry);
        (bool ok1, uint256 lx, uint256 ly) = _mul(1, 2, s);
        (bool ok2, uint256 cx, uint256 cy) = _mul(px, py, c);
        if (!ok1 || !ok2) return false;
        (bool ok3, uint256 qx, uint256 qy) = _add(rx, ry, cx, cy);
        return ok3 && lx == qx && ly == qy;
    }

    /// @dev y² = x³ + 3 over F_p, coordinates reduced, not the point at infinity (0, 0). BN254 G1 has cofactor 1,
    /// so every curve point is in the group.
    function _onCurve(uint256 x, uint256 y) private pure returns (bool) {
        if (x >= P || y >= P || (x == 0 && y == 0)) return false;
        return mulmod(y, y, P) == addmod(mulmod(mulmod(x, x, P), x, P), 3, P);
    }

    function _mul(uint256 x, uint256 y, uint256 k) private view returns (bool ok, uint256 ox, uint256 oy) {
        bytes memory out;
        (ok, out) = address(0x07).staticcall(abi.encode(x, y, k));
        if (!ok || out.length != 64) return (false, 0, 0);
        (ox, oy) = abi.decode(out, (uint256, uint256));
    }

    function _add(uint256 ax, uint256 ay, uint256 bx, uint256 by)
        private
        view
        returns (bool ok, uint256 ox, uint256 oy)
    {
        bytes memory out;
        (ok, out) = address(0x06).staticcall(abi.encode(ax, ay, bx, by));
        if (!ok || out.length != 64) return (false, 0, 0);
        (ox, oy) = abi.decode(out, (uint256, uint256));
    }
}
