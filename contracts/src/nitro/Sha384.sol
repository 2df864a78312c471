// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

/// @title Sha384
/// @notice SHA-384 (FIPS 180-4) in EVM assembly.
/// @dev A 64-bit value x is held doubled, x | x << 64 in the low 128 bits of a word, so that a rotation
/// is one shift: bits 0..63 of (x | x << 64) >> n are rotr(x, n). Sums keep their carries above bit 63;
/// a value is cleaned (masked, then doubled by one multiplication) only where it is kept. The schedule
/// W[t] and the constants K[t] are word arrays in memory above the free memory pointer, so a round reads
/// two words. A loop iteration runs four rounds: the new e goes into h's variable and the new a into d's,
/// so (a, b, c, d) and (e, f, g, h) each cycle through their own four variables and four rounds bring
/// every role back to its variable; nothing is moved.
library Sha384 {
    /// @notice Thrown when the range to hash is not inside the buffer.
    error Sha384OutOfBounds();

    /// @dev The initial hash value H(0) of SHA-384, then K[0..79] of SHA-512: 64-bit big-endian each.
    bytes internal constant IV_K =
        hex"cbbb9d5dc1059ed8629a292a367cd5079159015a3070dd17152fecd8f70e593967332667ffc00b318eb44a8768581511db0c2e0d64f98fa747b5481dbefa4fa4428a2f98d728ae227137449123ef65cdb5c0fbcfec4d3b2fe9b5dba58189dbbc3956c25bf348b53859f111f1b605d019923f82a4af194f9bab1c5ed5da6d8118d807aa98a303024212835b0145706fbe243185be4ee4b28c550c7dc3d5ffb4e272be5d74f27b896f80deb1fe3b1696b19bdc06a725c71235c19bf174cf692694e49b69c19ef14ad2efbe4786384f25e30fc19dc68b8cd5b5240ca1cc77ac9c652de92c6f592b02754a7484aa6ea6e4835cb0a9dcbd41fbd476f988da831153b5983e5152ee66dfaba831c66d2db43210b00327c898fb213fbf597fc7beef0ee4c6e00bf33da88fc2d5a79147930aa72506ca6351e003826f142929670a0e6e7027b70a8546d22ffc2e1b21385c26c9264d2c6dfc5ac42aed53380d139d95b3df650a73548baf63de766a0abb3c77b2a881c2c92e47edaee692722c851482353ba2bfe8a14cf10364a81a664bbc423001c24b8b70d0f89791c76c51a30654be30d192e819d6ef5218d69906245565a910f40e35855771202a106aa07032bbd1b819a4c116b8d2d0c81e376c085141ab532748774cdf8eeb9934b0bcb5e19b48a8391c0cb3c5c95a634ed8aa4ae3418acb5b9cca4f7763e373682e6ff3d6b2b8a3748f82ee5defb2fc78a5636f43172f6084c87814a1f0ab728cc702081a6439ec90befffa23631e28a4506cebde82bde9bef9a3f7b2c67915c67178f2e372532bca273eceea26619cd186b8c721c0c207eada7dd6cde0eb1ef57d4f7fee6ed17806f067aa72176fba0a637dc5a2c898a6113f9804bef90dae1b710b35131c471b28db77f523047d8432caab7b40c724933c9ebe0a15c9bebc431d67c49c100d4c4cc5d4becb3e42b6597f299cfc657e2a5fcb6fab3ad6faec6c44198c4a475817";

    /// @notice SHA-384 of `data[offset : offset + len]`.
    /// @return hi The first 16 bytes of the digest (as the low 128 bits of the word).
    /// @return lo The last 32 bytes of the digest.
    function hash(bytes memory data, uint256 offset, uint256 len)
        internal
        pure
        returns (uint256 hi, uint256 lo)
    {
        bytes memory ivk = IV_K;
        if (offset + len > data.length) revert Sha384OutOfBounds();
        assembly ("memory-safe") {
            // Words [dst, end) := the 64-bit big-endian values from src on, doubled (mask m, factor d).
            function unpack(src, dst, end, m, d) {
                for {} lt(dst, end) {
                    dst := add(dst, 128)
                    src := add(src, 32)
                } {
                    let v := mload(src)
                    mstore(dst, mul(d, shr(192, v)))
                    mstore(add(dst, 32), mul(d, and(m, shr(128, v))))
                    mstore(add(dst, 64), mul(d, and(m, shr(64, v))))
                    mstore(add(dst, 96), mul(d, and(m, v)))
                }
            }
            let m := mload(0x40)
            // Padded message: data ‖ 0x80 ‖ zeros ‖ 128-bit bit length, a multiple of 128 bytes.
            let end := add(m, and(add(len, 144), not(127)))
            for { let z := add(m, len) } lt(z, end) { z := add(z, 32) } { mstore(z, 0) }
            // The bit length; the upper 16 bytes of this word are padding, or message bytes copied next.
            mstore(sub(end, 32), shl(3, len))
            mcopy(m, add(add(data, 32), offset), len)
            mstore8(add(m, len), 0x80)
            // Scratch after the message: the state H (8 words), K (80 words), a zero word, W (80 words).
            // The zero word after K[79] ends the loops over t, which test K[t] != 0.
            let st := end
            let wp := add(st, 2848)
            // 1 that the optimizer cannot fold, so the mask and the doubling factor below stay on the
            // stack (a DUP each) instead of being rebuilt from small constants at every use.
            let one := div(m, m)
            // The 64-bit mask and the doubling factor 2^64 + 1.
            let M := sub(shl(64, one), one)
            let D := add(shl(64, one), one)
            unpack(add(ivk, 32), st, sub(wp, 32), M, D)
            mstore(sub(wp, 32), 0)
            for { let blk := m } lt(blk, end) { blk := add(blk, 128) } {
                unpack(blk, wp, add(wp, 512), M, D)
                for { let p := add(wp, 512) } mload(sub(p, 2592)) { p := add(p, 128) } {
                    // W[t..t+3] (t = (p - wp) / 32), each σ1(W[t-2]) + W[t-7] + σ0(W[t-15]) + W[t-16];
                    // x >> n of a doubled x is taken from its upper copy, as a shift by 64 + n.
                    let x := mload(sub(p, 64))
                    let y0 := mload(sub(p, 480))
                    let w0 :=
                        mul(
                            D,
                            and(
                                M,
                                add(
                                    add(xor(xor(shr(19, x), shr(61, x)), shr(70, x)), mload(sub(p, 224))),
                                    add(xor(xor(shr(1, y0), shr(8, y0)), shr(71, y0)), mload(sub(p, 512)))
                                )
                            )
                        )
                    mstore(p, w0)
                    x := mload(sub(p, 32))
                    let y1 := mload(sub(p, 448))
                    let w1 :=
                        mul(
                            D,
                            and(
                                M,
                                add(
                                    add(xor(xor(shr(19, x), shr(61, x)), shr(70, x)), mload(sub(p, 192))),
                                    add(xor(xor(shr(1, y1), shr(8, y1)), shr(71, y1)), y0)
                                )
                            )
                        )
                    mstore(add(p, 32), w1)
                    let y2 := mload(sub(p, 416))
                    w0 := mul(
                        D,
                        and(
                            M,
                            add(
                                add(xor(xor(shr(19, w0), shr(61, w0)), shr(70, w0)), mload(sub(p, 160))),
                                add(xor(xor(shr(1, y2), shr(8, y2)), shr(71, y2)), y1)
                            )
                        )
                    )
                    mstore(add(p, 64), w0)
                    let y3 := mload(sub(p, 384))
                    w1 := mul(
                        D,
                        and(
                            M,
                            add(
                                add(xor(xor(shr(19, w1), shr(61, w1)), shr(70, w1)), mload(sub(p, 128))),
                                add(xor(xor(shr(1, y3), shr(8, y3)), shr(71, y3)), y2)
                            )
                        )
                    )
                    mstore(add(p, 96), w1)
                }
                let a := mload(st)
                let b := mload(add(st, 32))
                let c := mload(add(st, 64))
                let d := mload(add(st, 96))
                let e := mload(add(st, 128))
                let f := mload(add(st, 160))
                let g := mload(add(st, 192))
                let h := mload(add(st, 224))
                for { let p := wp } mload(sub(p, 2592)) { p := add(p, 128) } {
                    // T1 = h + Σ1(e) + Ch(e, f, g) + W[t] + K[t]; e := d + T1 into h, a := T1 + Σ0(a) + Maj(a, b, c) into d.
                    {
                        let t1 :=
                            add(
                                add(
                                    add(h, xor(xor(shr(14, e), shr(18, e)), shr(41, e))),
                                    xor(g, and(e, xor(f, g)))
                                ),
                                add(mload(p), mload(sub(p, 2592)))
                            )
                        h := mul(D, and(M, add(d, t1)))
                        d := mul(
                            D,
                            and(
                                M,
                                add(
                                    add(t1, xor(xor(shr(28, a), shr(34, a)), shr(39, a))),
                                    or(and(a, b), and(c, or(a, b)))
                                )
                            )
                        )
                    }
                    {
                        let t1 :=
                            add(
                                add(
                                    add(g, xor(xor(shr(14, h), shr(18, h)), shr(41, h))),
                                    xor(f, and(h, xor(e, f)))
                                ),
                                add(mload(add(p, 32)), mload(sub(p, 2560)))
                            )
                        g := mul(D, and(M, add(c, t1)))
                        c := mul(
                            D,
                            and(
                                M,
                                add(
                                    add(t1, xor(xor(shr(28, d), shr(34, d)), shr(39, d))),
                                    or(and(d, a), and(b, or(d, a)))
                                )
                            )
                        )
                    }
                    {
                        let t1 :=
                            add(
                                add(
                                    add(f, xor(xor(shr(14, g), shr(18, g)), shr(41, g))),
                                    xor(e, and(g, xor(h, e)))
                                ),
                                add(mload(add(p, 64)), mload(sub(p, 2528)))
                            )
                        f := mul(D, and(M, add(b, t1)))
                        b := mul(
                            D,
                            and(
                                M,
                                add(
                                    add(t1, xor(xor(shr(28, c), shr(34, c)), shr(39, c))),
                                    or(and(c, d), and(a, or(c, d)))
                                )
                            )
                        )
                    }
                    {
                        let t1 :=
                            add(
                                add(
                                    add(e, xor(xor(shr(14, f), shr(18, f)), shr(41, f))),
                                    xor(h, and(f, xor(g, h)))
                                ),
                                add(mload(add(p, 96)), mload(sub(p, 2496)))
                            )
                        e := mul(D, and(M, add(a, t1)))
                        a := mul(
                            D,
                            and(
                                M,
                                add(
                                    add(t1, xor(xor(shr(28, b), shr(34, b)), shr(39, b))),
                                    or(and(b, c), and(d, or(b, c)))
                                )
                            )
                        )
                    }
                }
                // H += (a, ..., h)
                mstore(st, mul(D, and(M, add(mload(st), a))))
                mstore(add(st, 32), mul(D, and(M, add(mload(add(st, 32)), b))))
                mstore(add(st, 64), mul(D, and(M, add(mload(add(st, 64)), c))))
                mstore(add(st, 96), mul(D, and(M, add(mload(add(st, 96)), d))))
                mstore(add(st, 128), mul(D, and(M, add(mload(add(st, 128)), e))))
                mstore(add(st, 160), mul(D, and(M, add(mload(add(st, 160)), f))))
                mstore(add(st, 192), mul(D, and(M, add(mload(add(st, 192)), g))))
                mstore(add(st, 224), mul(D, and(M, add(mload(add(st, 224)), h))))
            }
            // Digest = H0..H5 (64 bits each): hi takes H0, H1 as they are shifted out of lo.
            for { let q := st } lt(q, add(st, 192)) { q := add(q, 32) } {
                hi := or(shl(64, hi), shr(192, lo))
                lo := or(shl(64, lo), shr(64, mload(q)))
            }
        }
    }
}
