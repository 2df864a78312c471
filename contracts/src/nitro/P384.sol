// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

/// @title P384
/// @notice ECDSA verification over NIST P-384 (secp384r1) with native 256-bit words.
/// @dev A field element is two words `(hi, lo)` = hi·2^256 + lo with hi < 2^128, always fully reduced
/// below p. Multiplication builds the 768-bit product with MUL/MULMOD and folds it with the Solinas
/// identities 2^512 ≡ 2^256 + D·2^128 and 2^384 ≡ 2^128 + D (mod p), D = 2^96 − 2^32 + 1, so no field
/// product goes through MODEXP. Points are Jacobian (X/Z², Y/Z³); the result is compared to r without
/// inverting Z (X ≡ r·Z² or (r+n)·Z²). The inverse w = s⁻¹ mod n is a hint checked with one
/// multiplication mod n (s·w ≡ 1); n is prime, so the hint is unique and the set of accepted
/// signatures is exactly that of textbook ECDSA. Mod-n products are reduced by the MODEXP precompile
/// with exponent 1 (three calls per signature). The scalar multiplication u1·G + u2·Q is Shamir's trick
/// over 4-bit windows with a constant affine table of G and a table of Q computed in Jacobian
/// coordinates and made affine with one MODEXP inversion (Montgomery's trick), so every addition in the
/// main loop is a mixed addition.
library P384 {
    /// @notice Verifies an ECDSA P-384 signature over a 48-byte digest.
    /// @param v `[e_hi, e_lo, r_hi, r_lo, s_hi, s_lo, w_hi, w_lo, qx_hi, qx_lo, qy_hi, qy_lo]` where e is the
    /// digest as a big-endian integer, (r, s) the signature, w the hint s⁻¹ mod n and (qx, qy) the affine
    /// public key; every value split into its high 128 and low 256 bits.
    /// @return ok True iff the signature is valid; false for any malformed input (never reverts on it).
    function verify(uint256[12] memory v) internal view returns (bool ok) {
        return check(v) == VALID;
    }

    /// @notice Outcome of `check`: the signature is valid.
    uint256 internal constant VALID = 0;
    /// @notice Outcome of `check`: the signature (or key) is invalid whatever the hint.
    uint256 internal constant INVALID = 1;
    /// @notice Outcome of `check`: the hint is not s⁻¹ mod n (the signature was not judged).
    uint256 internal constant BAD_HINT = 2;

    /// @notice Like `verify`, but tells a wrong hint apart from an invalid signature.
    /// @return outcome VALID, INVALID or BAD_HINT.
    function check(uint256[12] memory v) internal view returns (uint256 outcome) {
        assembly ("memory-safe") {
            // ---------------------------------------------------------------- field mod p
            // 768-bit product w2·2^512 + w1·2^256 + w0 of two values below 2^384.
            function wide(a1, a0, b1, b0) -> w2, w1, w0 {
                let mm := mulmod(a0, b0, not(0))
                w0 := mul(a0, b0)
                w1 := sub(sub(mm, w0), lt(mm, w0))
                mm := mulmod(a1, b0, not(0))
                let q0 := mul(a1, b0)
                let q1 := sub(sub(mm, q0), lt(mm, q0))
                mm := mulmod(a0, b1, not(0))
                let t := mul(a0, b1)
                q1 := add(q1, sub(sub(mm, t), lt(mm, t)))
                q0 := add(q0, t)
                q1 := add(q1, lt(q0, t))
                w1 := add(w1, q0)
                w2 := add(add(mul(a1, b1), q1), lt(w1, q0))
            }
            function fmul(a1, a0, b1, b0) -> r1, r0 {
                let w2, w1, w0 := wide(a1, a0, b1, b0)
                // w2·2^512 ≡ w2·2^256 + w2·E (mod p), E = D·2^128.
                {
                    let mm := mulmod(w2, 0xffffffffffffffff0000000100000000000000000000000000000000, not(0))
                    let f0 := mul(w2, 0xffffffffffffffff0000000100000000000000000000000000000000)
                    let f1 := sub(sub(mm, f0), lt(mm, f0))
                    w0 := add(w0, f0)
                    f1 := add(f1, lt(w0, f0)) // f1 < 2^224: no overflow
                    mm := add(w1, w2)
                    w2 := lt(mm, w1)
                    w1 := add(mm, f1)
                    w2 := add(w2, lt(w1, mm)) // now w2 <= 2
                }
                // H = value >> 384 < 2^130; value ≡ L + H·2^128 + H·D (mod p).
                let h := or(shl(128, w2), shr(128, w1))
                w1 := and(w1, 0xffffffffffffffffffffffffffffffff)
                {
                    let t := shl(128, h)
                    w0 := add(w0, t)
                    let c := lt(w0, t)
                    t := mul(h, 0xffffffffffffffff00000001) // < 2^226
                    w0 := add(w0, t)
                    c := add(c, lt(w0, t))
                    w1 := add(add(w1, shr(128, h)), c) // < 2^128 + 5
                }
                // The value is now < 2^384 + 2^260: fold once more if it reached 2^384.
                h := shr(128, w1)
                if h {
                    w1 := and(w1, 0xffffffffffffffffffffffffffffffff)
                    let t := mul(h, 0x100000000ffffffffffffffff00000001)
                    w0 := add(w0, t)
                    w1 := add(w1, lt(w0, t))
                }
                // Now < 2p: one conditional subtraction (p_hi = 2^128 − 1 is the largest possible w1).
                if and(
                    eq(w1, 0xffffffffffffffffffffffffffffffff),
                    iszero(lt(w0, 0xfffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff))
                ) {
                    w1 := 0
                    w0 := sub(w0, 0xfffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff)
                }
                r1 := w1
                r0 := w0
            }
            function mulm(d, a, b) {
                let r1, r0 := fmul(mload(a), mload(add(a, 32)), mload(b), mload(add(b, 32)))
                mstore(d, r1)
                mstore(add(d, 32), r0)
            }
            function addm(d, a, b) {
                let a0 := mload(add(a, 32))
                let r0 := add(a0, mload(add(b, 32)))
                let r1 := add(add(mload(a), mload(b)), lt(r0, a0))
                // r < 2p < 2^385; subtract p once if r >= p.
                if or(
                    gt(r1, 0xffffffffffffffffffffffffffffffff),
                    and(
                        eq(r1, 0xffffffffffffffffffffffffffffffff),
                        iszero(lt(r0, 0xfffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff))
                    )
                ) {
                    r1 := sub(
                        sub(r1, 0xffffffffffffffffffffffffffffffff),
                        lt(r0, 0xfffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff)
                    )
                    r0 := sub(r0, 0xfffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff)
                }
                mstore(d, r1)
                mstore(add(d, 32), r0)
            }
            function subm(d, a, b) {
                let a0 := mload(add(a, 32))
                let b0 := mload(add(b, 32))
                let r0 := sub(a0, b0)
                let r1 := sub(sub(mload(a), mload(b)), lt(a0, b0))
                // Inputs are < p < 2^384, so a negative difference has r1 > -2^129 (signed).
                if slt(r1, 0) {
                    let t := add(r0, 0xfffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff)
                    r1 := add(add(r1, 0xffffffffffffffffffffffffffffffff), lt(t, r0))
                    r0 := t
                }
                mstore(d, r1)
                mstore(add(d, 32), r0)
            }
            function isZero(a) -> z {
                z := iszero(or(mload(a), mload(add(a, 32))))
            }
            function copy2(d, a) {
                mstore(d, mload(a))
                mstore(add(d, 32), mload(add(a, 32)))
            }
            // ---------------------------------------------------------------- curve
            // Point in memory: X at +0, Y at +64, Z at +128 (each 2 words); infinity iff Z = 0.
            // Temporaries t0..t6 live at fixed scratch slots (`tmp` + 64·i).
            function jdbl(pt, tmp) {
                // dbl-2001-b (a = −3): 3M + 5S.
                let t0 := tmp
                let t1 := add(tmp, 64)
                let t2 := add(tmp, 128)
                let t3 := add(tmp, 192)
                let t4 := add(tmp, 256)
                let y := add(pt, 64)
                let z := add(pt, 128)
                mulm(t0, z, z) // delta
                mulm(t1, y, y) // gamma
                mulm(t2, pt, t1) // beta
                subm(t3, pt, t0)
                addm(t4, pt, t0)
                mulm(t3, t3, t4)
                addm(t4, t3, t3)
                addm(t4, t4, t3) // alpha
                addm(t3, y, z)
                mulm(t3, t3, t3)
                subm(t3, t3, t1)
                subm(z, t3, t0) // Z3 = (Y+Z)² − gamma − delta
                mulm(t3, t4, t4)
                addm(t2, t2, t2)
                addm(t2, t2, t2) // 4·beta
                subm(t3, t3, t2)
                subm(pt, t3, t2) // X3 = alpha² − 8·beta
                subm(t2, t2, pt)
                mulm(t2, t4, t2)
                mulm(t1, t1, t1)
                addm(t1, t1, t1)
                addm(t1, t1, t1)
                addm(t1, t1, t1)
                subm(y, t2, t1) // Y3 = alpha·(4·beta − X3) − 8·gamma²
            }
            function jmadd(pt, a, tmp) {
                // P (Jacobian) += A (affine): 8M + 3S.
                let z := add(pt, 128)
                if isZero(z) {
                    copy2(pt, a)
                    copy2(add(pt, 64), add(a, 64))
                    mstore(z, 0)
                    mstore(add(z, 32), 1)
                    leave
                }
                let t0 := tmp
                let t1 := add(tmp, 64)
                let t2 := add(tmp, 128)
                let t3 := add(tmp, 192)
                let t4 := add(tmp, 256)
                let y := add(pt, 64)
                mulm(t0, z, z)
                mulm(t1, t0, z)
                mulm(t0, t0, a)
                mulm(t1, t1, add(a, 64))
                subm(t0, t0, pt) // H
                subm(t1, t1, y) // R
                if isZero(t0) {
                    switch isZero(t1)
                    case 1 { jdbl(pt, tmp) }
                    default {
                        mstore(z, 0)
                        mstore(add(z, 32), 0)
                    }
                    leave
                }
                mulm(z, z, t0)
                mulm(t2, t0, t0)
                mulm(t3, t2, t0) // H³
                mulm(t2, t2, pt) // V = X·H²
                mulm(t4, t1, t1)
                subm(t4, t4, t2)
                subm(t4, t4, t2)
                subm(t4, t4, t3) // X3 = R² − 2V − H³
                subm(t2, t2, t4)
                mulm(t2, t1, t2)
                mulm(t3, y, t3)
                subm(y, t2, t3) // Y3 = R·(V − X3) − Y·H³
                copy2(pt, t4)
            }
            function jadd(pt, q, tmp) {
                // P += Q, both Jacobian: 12M + 4S.
                let z := add(pt, 128)
                let qz := add(q, 128)
                if isZero(qz) { leave }
                if isZero(z) {
                    copy2(pt, q)
                    copy2(add(pt, 64), add(q, 64))
                    copy2(z, qz)
                    leave
                }
                let t0 := tmp
                let t1 := add(tmp, 64)
                let t2 := add(tmp, 128)
                let t3 := add(tmp, 192)
                let t4 := add(tmp, 256)
                let t5 := add(tmp, 320)
                let t6 := add(tmp, 384)
                let y := add(pt, 64)
                mulm(t0, z, z)
                mulm(t1, qz, qz)
                mulm(t2, pt, t1) // U1
                mulm(t3, q, t0) // U2
                mulm(t1, t1, qz)
                mulm(t1, y, t1) // S1
                mulm(t0, t0, z)
                mulm(t0, add(q, 64), t0) // S2
                subm(t3, t3, t2) // H
                subm(t0, t0, t1) // R
                if isZero(t3) {
                    switch isZero(t0)
                    case 1 { jdbl(pt, tmp) }
                    default {
                        mstore(z, 0)
                        mstore(add(z, 32), 0)
                    }
                    leave
                }
                mulm(t4, z, qz)
                mulm(z, t4, t3)
                mulm(t4, t3, t3)
                mulm(t5, t4, t3) // H³
                mulm(t4, t2, t4) // V = U1·H²
                mulm(t6, t0, t0)
                subm(t6, t6, t5)
                subm(t6, t6, t4)
                subm(t6, t6, t4) // X3
                subm(t4, t4, t6)
                mulm(t4, t0, t4)
                mulm(t5, t1, t5)
                subm(y, t4, t5)
                copy2(pt, t6)
            }
            // ---------------------------------------------------------------- scalars mod n
            // a·b mod n through MODEXP(base = a·b as 96 bytes, exponent 1, modulus n).
            function mulModN(a1, a0, b1, b0, buf) -> r1, r0 {
                let w2, w1, w0 := wide(a1, a0, b1, b0)
                mstore(buf, 96)
                mstore(add(buf, 32), 1)
                mstore(add(buf, 64), 48)
                mstore(add(buf, 96), w2)
                mstore(add(buf, 128), w1)
                mstore(add(buf, 160), w0)
                mstore8(add(buf, 192), 1)
                mstore(add(buf, 193), shl(128, 0xffffffffffffffffffffffffffffffff))
                mstore(add(buf, 209), 0xffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973)
                if iszero(staticcall(gas(), 0x05, buf, 241, buf, 48)) { revert(0, 0) }
                r1 := shr(128, mload(buf))
                r0 := mload(add(buf, 16))
            }
            function ltN(a1, a0) -> l {
                l := or(
                    lt(a1, 0xffffffffffffffffffffffffffffffff),
                    and(
                        eq(a1, 0xffffffffffffffffffffffffffffffff),
                        lt(a0, 0xffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973)
                    )
                )
            }
            function ltP(a1, a0) -> l {
                l := or(
                    lt(a1, 0xffffffffffffffffffffffffffffffff),
                    and(
                        eq(a1, 0xffffffffffffffffffffffffffffffff),
                        lt(a0, 0xfffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff)
                    )
                )
            }
            function gTable(t) {
                mstore(add(t, 0), 0xaa87ca22be8b05378eb1c71ef320ad74)
                mstore(add(t, 32), 0x6e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7)
                mstore(add(t, 64), 0x3617de4a96262c6f5d9e98bf9292dc29)
                mstore(add(t, 96), 0xf8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5f)
                mstore(add(t, 128), 0x08d999057ba3d2d969260045c55b97f0)
                mstore(add(t, 160), 0x89025959a6f434d651d207d19fb96e9e4fe0e86ebe0e64f85b96a9c75295df61)
                mstore(add(t, 192), 0x8e80f1fa5b1b3cedb7bfe8dffd6dba74)
                mstore(add(t, 224), 0xb275d875bc6cc43e904e505f256ab4255ffd43e94d39e22d61501e700a940e80)
                mstore(add(t, 256), 0x077a41d4606ffa1464793c7e5fdc7d98)
                mstore(add(t, 288), 0xcb9d3910202dcd06bea4f240d3566da6b408bbae5026580d02d7e5c70500c831)
                mstore(add(t, 320), 0xc995f7ca0b0c42837d0bbe9602a9fc99)
                mstore(add(t, 352), 0x8520b41c85115aa5f7684c0edc111eacc24abd6be4b5d298b65f28600a2f1df1)
                mstore(add(t, 384), 0x138251cd52ac9298c1c8aad977321deb)
                mstore(add(t, 416), 0x97e709bd0b4ca0aca55dc8ad51dcfc9d1589a1597e3a5120e1efd631c63e1835)
                mstore(add(t, 448), 0xcacae29869a62e1631e8a28181ab5661)
                mstore(add(t, 480), 0x6dc45d918abc09f3ab0e63cf792aa4dced7387be37bba569549f1c02b270ed67)
                mstore(add(t, 512), 0x11de24a2c251c777573cac5ea025e467)
                mstore(add(t, 544), 0xf208e51dbff98fc54f6661cbe56583b037882f4a1ca297e60abcdbc3836d84bc)
                mstore(add(t, 576), 0x8fa696c77440f92d0f5837e90a00e7c5)
                mstore(add(t, 608), 0x284b447754d5dee88c986533b6901aeb3177686d0ae8fb33184414abe6c1713a)
                mstore(add(t, 640), 0x627be1acd064d2b2226fe0d26f2d15d3)
                mstore(add(t, 672), 0xc33ebcbb7f0f5da51cbd41f26257383021317d7202ff30e50937f0854e35c5df)
                mstore(add(t, 704), 0x09766a4cb3f8b1c21be6dda6c14f1575)
                mstore(add(t, 736), 0xb2c95352644f774c99864f613715441604c45b8d84e165311733a408d3f0f934)
                mstore(add(t, 768), 0x283c1d7365ce4788f29f8ebf234edffe)
                mstore(add(t, 800), 0xad6fe997fbea5ffa2d58cc9dfa7b1c508b05526f55b9ebb2040f05b48fb6d0e1)
                mstore(add(t, 832), 0x9475c99061e41b88ba52efdb8c169047)
                mstore(add(t, 864), 0x1a61d867ed799729d9c92cd01dbd225630d84ede32a78f9e64664cdac512ef8c)
                mstore(add(t, 896), 0x1692778ea596e0be75114297a6fa3834)
                mstore(add(t, 928), 0x45bf227fbe58190a900c3c73256f11fb5a3258d6f403d5ece6e9b269d822c87d)
                mstore(add(t, 960), 0xdcd2365700d4106a835388ba3db8fd0e)
                mstore(add(t, 992), 0x22554adc6d521cd4bd1c30c2ec0eec196bade1e9cdd1708d6f6abfa4022b0ad2)
                mstore(add(t, 1024), 0x8f0a39a4049bcb3ef1bf29b8b025b78f)
                mstore(add(t, 1056), 0x2216f7291e6fd3bac6cb1ee285fb6e21c388528bfee2b9535c55e4461079118b)
                mstore(add(t, 1088), 0x62c77e1438b601d6452c4a5322c3a979)
                mstore(add(t, 1120), 0x9a9b3d7ca3c400c6b7678854aed9b3029e743efedfd51b68262da4f9ac664af8)
                mstore(add(t, 1152), 0xa669c5563bd67eec678d29d6ef4fde86)
                mstore(add(t, 1184), 0x4f372d90b79b9e88931d5c29291238cced8e85ab507bf91aa9cb2d13186658fb)
                mstore(add(t, 1216), 0xa988b72ae7c1279f22d9083db5f0ecdd)
                mstore(add(t, 1248), 0xf70119550c183c31c502df78c3b705a8296d8195248288d997784f6ab73a21dd)
                mstore(add(t, 1280), 0x099056e27da7b998da1eeec2904816c5)
                mstore(add(t, 1312), 0x7fe935ed5837c37456c9fd14892d3f8c4749b66e3afb81d626356f3b55b4ddd8)
                mstore(add(t, 1344), 0x2e4c0c234e30ab96688505544ac5e039)
                mstore(add(t, 1376), 0x6fc4eed8dfc363fd43ff93f41b52a3255466d51263aaff357d5dba8138c5e0bb)
                mstore(add(t, 1408), 0x952a7a349bd49289ab3ac421dcf683d0)
                mstore(add(t, 1440), 0x8c2ed5e41f6d0e21648af2691a481406da4a5e22da817cb466da2ea77d2a7022)
                mstore(add(t, 1472), 0xa0320faf84b5bc0563052deae6f66f2e)
                mstore(add(t, 1504), 0x09fb8036ce18a0ebb9028b096196b50d031aa64589743e229ef6bacce21bd16e)
                mstore(add(t, 1536), 0xa567ba97b67aea5bafdaf5002ffcc6ab)
                mstore(add(t, 1568), 0x9632bff9f01f873f6267bcd1f0f11c139ee5f441abd99f1baaf1ca1e3b5cbce7)
                mstore(add(t, 1600), 0xde1b38b3989f3318644e4147af164ecc)
                mstore(add(t, 1632), 0x5185595046932ec086329be057857d66776bcb8272218a7d6423a12736f429cc)
                mstore(add(t, 1664), 0xe8c8f94d44fbc2396bbeac481b89d2b0)
                mstore(add(t, 1696), 0x877b1dffd23e7dc95de541eb651cca2c41aba24dbc02de6637209accf0f59ea0)
                mstore(add(t, 1728), 0x891ae44356fc8ae0932bcbf6de52c8a9)
                mstore(add(t, 1760), 0x33b86191e7728d79c8319413a09d0f48fc468ba05509de22d7ee5c9e1b67b888)
                mstore(add(t, 1792), 0xb3d13fc8b32b01058cc15c11d8135255)
                mstore(add(t, 1824), 0x22a94156fff01c205b21f9f7da7c4e9ca849557a10b6383b4b88701a9606860b)
                mstore(add(t, 1856), 0x152919e7df9162a61b049b2536164b1b)
                mstore(add(t, 1888), 0xeebac4a11d749af484d1114373dfbfd9838d24f8b284af50985d588d33f7bd62)
            }
            // Nibble i (0 = most significant of 96) of the 384-bit scalar (s1, s0).
            function nibble(s1, s0, i) -> d {
                switch lt(i, 32)
                case 1 { d := and(shr(sub(124, shl(2, i)), s1), 15) }
                default { d := and(shr(sub(252, shl(2, sub(i, 32))), s0), 15) }
            }

            // Memory (scratch above the free pointer, never allocated): G table (15 affine points),
            // Q table (15 Jacobian points), accumulator, 7 temporaries, MODEXP buffer, u1 and u2.
            // 1 = inputs valid, 0 = invalid signature or key, 2 = bad hint.
            function inputsValid(vp, tmp, buf) -> good {
                let r1 := mload(add(vp, 64))
                let r0 := mload(add(vp, 96))
                let s1 := mload(add(vp, 128))
                let s0 := mload(add(vp, 160))
                // 0 < r, s < n; w < n and s·w ≡ 1 (mod n).
                if iszero(and(ltN(r1, r0), ltN(s1, s0))) { leave }
                if or(iszero(or(r1, r0)), iszero(or(s1, s0))) { leave }
                let w1 := mload(add(vp, 192))
                let w0 := mload(add(vp, 224))
                {
                    if iszero(ltN(w1, w0)) {
                        good := 2
                        leave
                    }
                    let c1, c0 := mulModN(s1, s0, w1, w0, buf)
                    if iszero(and(iszero(c1), eq(c0, 1))) {
                        good := 2
                        leave
                    }
                }
                // The key is a curve point: coordinates < p and y² = x³ − 3x + b.
                let x := add(vp, 256)
                let y := add(vp, 320)
                if iszero(and(ltP(mload(x), mload(add(x, 32))), ltP(mload(y), mload(add(y, 32))))) {
                    leave
                }
                mulm(tmp, x, x)
                mulm(tmp, tmp, x)
                subm(tmp, tmp, x)
                subm(tmp, tmp, x)
                subm(tmp, tmp, x)
                mstore(add(tmp, 64), 0xb3312fa7e23ee7e4988e056be3f82d19)
                mstore(add(tmp, 96), 0x181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aef)
                addm(tmp, tmp, add(tmp, 64))
                mulm(add(tmp, 64), y, y)
                good := and(eq(mload(tmp), mload(add(tmp, 64))), eq(mload(add(tmp, 32)), mload(add(tmp, 96))))
            }
            // acc = u1·G + u2·Q with u1 at \`u\`, u2 at \`u\` + 64.
            function shamir(vp, m, u) {
                let gtab := m
                let qtab := add(m, 0x780)
                let acc := add(m, 0x12c0)
                let tmp := add(m, 0x1380)
                gTable(gtab)
                mcopy(qtab, add(vp, 256), 128)
                mstore(add(qtab, 128), 0)
                mstore(add(qtab, 160), 1)
                for { let i := 1 } lt(i, 15) { i := add(i, 1) } {
                    let d := add(qtab, mul(i, 192))
                    mcopy(d, sub(d, 192), 192)
                    jadd(d, qtab, tmp)
                }
                let qaff := add(m, 0x1800)
                toAffine(qtab, qaff, add(m, 0x1f80), tmp, add(m, 0x1600))
                // The point at infinity with reduced coordinates (scratch memory may hold anything).
                for { let i := 0 } lt(i, 192) { i := add(i, 32) } { mstore(add(acc, i), 0) }
                for { let i := 0 } lt(i, 96) { i := add(i, 1) } {
                    jdbl(acc, tmp)
                    jdbl(acc, tmp)
                    jdbl(acc, tmp)
                    jdbl(acc, tmp)
                    let d := nibble(mload(u), mload(add(u, 32)), i)
                    if d { jmadd(acc, add(gtab, mul(sub(d, 1), 128)), tmp) }
                    d := nibble(mload(add(u, 64)), mload(add(u, 96)), i)
                    if d { jmadd(acc, add(qaff, mul(sub(d, 1), 128)), tmp) }
                }
            }
            // The 15 Jacobian points at `qj` (192 bytes each, none at infinity: Q has prime order n) to
            // affine at `qa` (128 bytes each) with one inversion (Montgomery's trick: prefix products at
            // `pre`, one MODEXP Fermat inversion of their product, then 3 multiplications per point back).
            function toAffine(qj, qa, pre, tmp, buf) {
                copy2(pre, add(qj, 128))
                for { let i := 1 } lt(i, 15) { i := add(i, 1) } {
                    mulm(add(pre, shl(6, i)), add(pre, shl(6, sub(i, 1))), add(add(qj, mul(i, 192)), 128))
                }
                // iv = (Z_0·…·Z_14)^(p−2) mod p
                mstore(buf, 48)
                mstore(add(buf, 32), 48)
                mstore(add(buf, 64), 48)
                mstore(add(buf, 96), shl(128, mload(add(pre, 896))))
                mstore(add(buf, 112), mload(add(pre, 928)))
                mstore(add(buf, 144), shl(128, 0xffffffffffffffffffffffffffffffff))
                mstore(add(buf, 160), 0xfffffffffffffffffffffffffffffffeffffffff0000000000000000fffffffd)
                mstore(add(buf, 192), shl(128, 0xffffffffffffffffffffffffffffffff))
                mstore(add(buf, 208), 0xfffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff)
                if iszero(staticcall(gas(), 0x05, buf, 240, buf, 48)) { revert(0, 0) }
                let iv := tmp
                let zi := add(tmp, 64)
                let zz := add(tmp, 128)
                let zzz := add(tmp, 192)
                mstore(iv, shr(128, mload(buf)))
                mstore(add(iv, 32), mload(add(buf, 16)))
                for { let i := 14 } 1 { i := sub(i, 1) } {
                    let pt := add(qj, mul(i, 192))
                    switch i
                    case 0 { copy2(zi, iv) }
                    default {
                        mulm(zi, iv, add(pre, shl(6, sub(i, 1)))) // 1/Z_i
                        mulm(iv, iv, add(pt, 128)) // 1/(Z_0·…·Z_{i−1})
                    }
                    mulm(zz, zi, zi)
                    mulm(zzz, zz, zi)
                    let a := add(qa, shl(7, i))
                    mulm(a, pt, zz)
                    mulm(add(a, 64), add(pt, 64), zzz)
                    if iszero(i) { break }
                }
            }
            // x(R) mod n == r  ⇔  Z ≠ 0 and X ≡ r·Z², or (when r + n < p) X ≡ (r + n)·Z² (mod p).
            function xMatches(acc, r1, r0, tmp) -> good {
                let z := add(acc, 128)
                if isZero(z) { leave }
                let zz := add(tmp, 64)
                let t := add(tmp, 128)
                mulm(zz, z, z)
                mstore(tmp, r1)
                mstore(add(tmp, 32), r0)
                mulm(t, tmp, zz)
                if and(eq(mload(t), mload(acc)), eq(mload(add(t, 32)), mload(add(acc, 32)))) {
                    good := 1
                    leave
                }
                // r + n < p ⇔ r < p − n (p − n < 2^190, so r_hi must be 0).
                if and(iszero(r1), lt(r0, 0x389cb27e0bc8d21fa7e5f24cb74f58851313e696333ad68c)) {
                    let rn0 := add(r0, 0xffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973)
                    mstore(tmp, add(0xffffffffffffffffffffffffffffffff, lt(rn0, r0)))
                    mstore(add(tmp, 32), rn0)
                    mulm(t, tmp, zz)
                    good := and(eq(mload(t), mload(acc)), eq(mload(add(t, 32)), mload(add(acc, 32))))
                }
            }

            function run(vp, m) -> res {
                let buf := add(m, 0x1600)
                let u := add(m, 0x1700)
                res := 1
                let valid := inputsValid(vp, add(m, 0x1380), buf)
                if eq(valid, 2) { res := 2 }
                if eq(valid, 1) {
                    let w1 := mload(add(vp, 192))
                    let w0 := mload(add(vp, 224))
                    let a1, a0 := mulModN(mload(vp), mload(add(vp, 32)), w1, w0, buf)
                    mstore(u, a1)
                    mstore(add(u, 32), a0)
                    a1, a0 := mulModN(mload(add(vp, 64)), mload(add(vp, 96)), w1, w0, buf)
                    mstore(add(u, 64), a1)
                    mstore(add(u, 96), a0)
                    shamir(vp, m, u)
                    if xMatches(add(m, 0x12c0), mload(add(vp, 64)), mload(add(vp, 96)), add(m, 0x1380)) {
                        res := 0
                    }
                }
            }
            outcome := run(v, mload(0x40))
        }
    }
}
