// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

/// @title Sha384
/// @notice SHA-384 (FIPS 180-4) in EVM assembly.
/// @dev The working state is packed into two words, (a, b, c, d) and (e, f, g, h), 64 bits per lane
/// with a in the top lane, so the end of a round is one shift per word instead of eight moves. The
/// message schedule W[t] and the constants K[t] are expanded into memory above the free memory pointer
/// (scratch); the 64-bit rotations work on the value doubled into 128 bits, all inline.
library Sha384 {
    /// @notice Thrown when the range to hash is not inside the buffer.
    error Sha384OutOfBounds();

    /// @dev K[0..79] of SHA-512, four per word, first in the top lane.
    bytes internal constant K =
        hex"428a2f98d728ae227137449123ef65cdb5c0fbcfec4d3b2fe9b5dba58189dbbc3956c25bf348b53859f111f1b605d019923f82a4af194f9bab1c5ed5da6d8118d807aa98a303024212835b0145706fbe243185be4ee4b28c550c7dc3d5ffb4e272be5d74f27b896f80deb1fe3b1696b19bdc06a725c71235c19bf174cf692694e49b69c19ef14ad2efbe4786384f25e30fc19dc68b8cd5b5240ca1cc77ac9c652de92c6f592b02754a7484aa6ea6e4835cb0a9dcbd41fbd476f988da831153b5983e5152ee66dfaba831c66d2db43210b00327c898fb213fbf597fc7beef0ee4c6e00bf33da88fc2d5a79147930aa72506ca6351e003826f142929670a0e6e7027b70a8546d22ffc2e1b21385c26c9264d2c6dfc5ac42aed53380d139d95b3df650a73548baf63de766a0abb3c77b2a881c2c92e47edaee692722c851482353ba2bfe8a14cf10364a81a664bbc423001c24b8b70d0f89791c76c51a30654be30d192e819d6ef5218d69906245565a910f40e35855771202a106aa07032bbd1b819a4c116b8d2d0c81e376c085141ab532748774cdf8eeb9934b0bcb5e19b48a8391c0cb3c5c95a634ed8aa4ae3418acb5b9cca4f7763e373682e6ff3d6b2b8a3748f82ee5defb2fc78a5636f43172f6084c87814a1f0ab728cc702081a6439ec90befffa23631e28a4506cebde82bde9bef9a3f7b2c67915c67178f2e372532bca273eceea26619cd186b8c721c0c207eada7dd6cde0eb1ef57d4f7fee6ed17806f067aa72176fba0a637dc5a2c898a6113f9804bef90dae1b710b35131c471b28db77f523047d8432caab7b40c724933c9ebe0a15c9bebc431d67c49c100d4c4cc5d4becb3e42b6597f299cfc657e2a5fcb6fab3ad6faec6c44198c4a475817";

    /// @notice SHA-384 of `data[offset : offset + len]`.
    /// @return hi The first 16 bytes of the digest (as the low 128 bits of the word).
    /// @return lo The last 32 bytes of the digest.
    function hash(bytes memory data, uint256 offset, uint256 len)
        internal
        pure
        returns (uint256 hi, uint256 lo)
    {
        bytes memory k = K;
        if (offset + len > data.length) revert Sha384OutOfBounds();
        assembly ("memory-safe") {
            function compress(s1, s2, w, kx) -> o1, o2 {
                // s1 = a|b|c|d, s2 = e|f|g|h (a, e in the top lanes); w[t] the schedule, kx[t] = K[t].
                o1 := s1
                o2 := s2
                for { let end := add(w, 2560) } lt(w, end) {
                    w := add(w, 32)
                    kx := add(kx, 32)
                } {
                    let e := shr(192, o2)
                    let t1 := or(e, shl(64, e))
                    // h + Σ1(e) + Ch(e, f, g) + K[t] + W[t]; Ch on the top lane of (e|f|g|h, f|g|h|0, g|h|0|0).
                    t1 := add(
                        add(
                            add(and(o2, 0xffffffffffffffff), mload(w)),
                            add(
                                and(xor(xor(shr(14, t1), shr(18, t1)), shr(41, t1)), 0xffffffffffffffff),
                                shr(192, xor(and(o2, shl(64, o2)), and(not(o2), shl(128, o2))))
                            )
                        ),
                        mload(kx)
                    )
                    let a := shr(192, o1)
                    let aa := or(a, shl(64, a))
                    let b := shl(64, o1)
                    let c := shl(128, o1)
                    o2 := or(
                        shl(192, and(add(and(o1, 0xffffffffffffffff), t1), 0xffffffffffffffff)),
                        shr(64, o2)
                    )
                    // T1 + Σ0(a) + Maj(a, b, c)
                    o1 := or(
                        shl(
                            192,
                            and(
                                add(
                                    add(
                                        t1,
                                        and(
                                            xor(xor(shr(28, aa), shr(34, aa)), shr(39, aa)),
                                            0xffffffffffffffff
                                        )
                                    ),
                                    shr(192, xor(xor(and(o1, b), and(o1, c)), and(b, c)))
                                ),
                                0xffffffffffffffff
                            )
                        ),
                        shr(64, o1)
                    )
                }
            }
            // Lane-wise 64-bit addition of two packed states.
            function add4(x, y) -> r {
                for { let i := 0 } lt(i, 256) { i := add(i, 64) } {
                    r := or(r, shl(i, and(add(shr(i, x), shr(i, y)), 0xffffffffffffffff)))
                }
            }

            let m := mload(0x40)
            // Padded message: data ‖ 0x80 ‖ zeros ‖ 128-bit bit length, a multiple of 128 bytes.
            let padded := and(add(add(len, 17), 127), not(127))
            mcopy(m, add(add(data, 32), offset), len)
            mstore8(add(m, len), 0x80)
            let z := add(m, add(len, 1))
            let end := add(m, padded)
            for {} lt(z, end) { z := add(z, 32) } { mstore(z, 0) }
            // The bit length fills the last 16 bytes only; the 16 before may still hold message bytes.
            let last := sub(end, 32)
            mstore(last, or(and(mload(last), not(0xffffffffffffffffffffffffffffffff)), shl(3, len)))
            let wp := end // 80 words W[t]
            let kx := add(end, 2560) // 80 words K[t]
            {
                let kp := add(k, 32)
                for { let t := 0 } lt(t, 80) { t := add(t, 1) } {
                    let kw := mload(add(kp, shl(3, and(t, not(3)))))
                    mstore(add(kx, shl(5, t)), and(shr(sub(192, shl(6, and(t, 3))), kw), 0xffffffffffffffff))
                }
            }
            let s1 := 0xcbbb9d5dc1059ed8629a292a367cd5079159015a3070dd17152fecd8f70e5939
            let s2 := 0x67332667ffc00b318eb44a8768581511db0c2e0d64f98fa747b5481dbefa4fa4
            for { let blk := m } lt(blk, end) { blk := add(blk, 128) } {
                for { let t := 0 } lt(t, 16) { t := add(t, 1) } {
                    mstore(add(wp, shl(5, t)), shr(192, mload(add(blk, shl(3, t)))))
                }
                for { let p := add(wp, 512) } lt(p, kx) { p := add(p, 32) } {
                    // σ1(W[t−2]) + W[t−7] + σ0(W[t−15]) + W[t−16]
                    let x := mload(sub(p, 64))
                    let xx := or(x, shl(64, x))
                    let y := mload(sub(p, 480))
                    let yy := or(y, shl(64, y))
                    mstore(
                        p,
                        and(
                            add(
                                add(
                                    xor(and(xor(shr(19, xx), shr(61, xx)), 0xffffffffffffffff), shr(6, x)),
                                    mload(sub(p, 224))
                                ),
                                add(
                                    xor(and(xor(shr(1, yy), shr(8, yy)), 0xffffffffffffffff), shr(7, y)),
                                    mload(sub(p, 512))
                                )
                            ),
                            0xffffffffffffffff
                        )
                    )
                }
                let o1, o2 := compress(s1, s2, wp, kx)
                s1 := add4(s1, o1)
                s2 := add4(s2, o2)
            }
            hi := shr(128, s1)
            lo := or(shl(128, s1), shr(128, s2))
        }
    }
}
