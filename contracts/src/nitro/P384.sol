// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

/// @title P384
/// @notice ECDSA verification over NIST P-384 (secp384r1) with native 256-bit words.
/// @dev A field element is two words `(hi, lo)` = hi·2^256 + lo with hi < 2^128, always fully reduced
/// below p. Multiplication builds the 768-bit product with MUL/MULMOD and folds it with the Solinas
/// identities 2^512 ≡ 2^256 + D·2^128 and 2^384 ≡ 2^128 + D (mod p), D = 2^96 − 2^32 + 1, so no field
/// product goes through MODEXP. Points are Jacobian (X/Z², Y/Z³).
///
/// The inverse w = s⁻¹ mod n is a hint checked with one multiplication mod n (s·w ≡ 1); n is prime, so
/// the hint is unique. Mod-n products are reduced by the MODEXP precompile with exponent 1.
///
/// Fast path (Antipa et al., "Accelerated verification of ECDSA signatures"): the hint also gives
/// R = u1·G + u2·Q (x(R) ∈ {r, r + n}, y(R) checked on the curve) and a, b below 2^192 with
/// a·u2 ≡ b (mod n), checked with one product; the contract then checks
/// (a·u1 mod n)·G + b·Q − a·R = O, splitting the 384-bit G scalar into halves over G and a constant
/// 2^192·G. That is a 4-scalar Strauss–Shamir multiplication of 192-bit scalars: 192 doublings instead
/// of 384. As a ≢ 0 (mod n) and the group has prime order, the sum is O iff u1·G + u2·Q = R, so an
/// accepted signature is valid whatever the hint. If the half-size part of the hint is unusable (zero,
/// out of range, wrong congruence, R off the curve or not the sum), the signature is judged by the
/// textbook check x(u1·G + u2·Q) ≡ r (same 4-scalar loop over G, 2^192·G, Q and 2^192·Q), so that part
/// of the hint changes only the gas, never the verdict, and the accepted set is exactly textbook ECDSA.
///
/// Tables: the constant odd multiples 1..15 of G and of 2^192·G are code data (width-5 NAF digits); the multiples of the two
/// other points are computed in Jacobian coordinates and made affine together with one MODEXP inversion
/// (Montgomery's trick), so every addition in the main loop is a mixed addition.
library P384 {
    /// @dev 1·G, 3·G, …, 15·G, then 1·(2^192·G), 3·(2^192·G), …, 15·(2^192·G): affine x ‖ y, 48 bytes each, big-endian.
    bytes internal constant TABLES =
        hex"aa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab73617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5f077a41d4606ffa1464793c7e5fdc7d98cb9d3910202dcd06bea4f240d3566da6b408bbae5026580d02d7e5c70500c831c995f7ca0b0c42837d0bbe9602a9fc998520b41c85115aa5f7684c0edc111eacc24abd6be4b5d298b65f28600a2f1df111de24a2c251c777573cac5ea025e467f208e51dbff98fc54f6661cbe56583b037882f4a1ca297e60abcdbc3836d84bc8fa696c77440f92d0f5837e90a00e7c5284b447754d5dee88c986533b6901aeb3177686d0ae8fb33184414abe6c1713a283c1d7365ce4788f29f8ebf234edffead6fe997fbea5ffa2d58cc9dfa7b1c508b05526f55b9ebb2040f05b48fb6d0e19475c99061e41b88ba52efdb8c1690471a61d867ed799729d9c92cd01dbd225630d84ede32a78f9e64664cdac512ef8c8f0a39a4049bcb3ef1bf29b8b025b78f2216f7291e6fd3bac6cb1ee285fb6e21c388528bfee2b9535c55e4461079118b62c77e1438b601d6452c4a5322c3a9799a9b3d7ca3c400c6b7678854aed9b3029e743efedfd51b68262da4f9ac664af8099056e27da7b998da1eeec2904816c57fe935ed5837c37456c9fd14892d3f8c4749b66e3afb81d626356f3b55b4ddd82e4c0c234e30ab96688505544ac5e0396fc4eed8dfc363fd43ff93f41b52a3255466d51263aaff357d5dba8138c5e0bba567ba97b67aea5bafdaf5002ffcc6ab9632bff9f01f873f6267bcd1f0f11c139ee5f441abd99f1baaf1ca1e3b5cbce7de1b38b3989f3318644e4147af164ecc5185595046932ec086329be057857d66776bcb8272218a7d6423a12736f429ccb3d13fc8b32b01058cc15c11d813525522a94156fff01c205b21f9f7da7c4e9ca849557a10b6383b4b88701a9606860b152919e7df9162a61b049b2536164b1beebac4a11d749af484d1114373dfbfd9838d24f8b284af50985d588d33f7bd62c19e0b4c800119c440f7f9e706421279b42a31af8a3e297ddb2987894d10ddeaba065458a4f52d78a628b09aaa03bd5316f3fdbf0356b301e5a0191d1f5b77f6577a30eae3567af9c1c7cad135f6ebf2af68aa6de639d858822d0fc5e6c88c411a509ee26fabc337f820ca874cdf382a623be1091e0922c4412788de72320efe88525311345523a8c6d13d9055de60e29a8d3d400bcca1dcb9484b480e0efa1caf3d0a9e581798b747cfb5b11f77605fadded6ea7c7fa6fb2123b6403da53b9d4a8217c8e8cc4419738eb43dd2f845cc5ec8010e2c6a277499a04bbf5d54eef2b2ec62213b5e93cbc5405556f13d61f791306dbdcbc986256c9fc6a53eda619d7a68a8ed13267b0493a8ffa5aa6ee304e2a5656ca3a04352365707829026fbd5ddde438ae7fe418c5fd943bdd58e4b2d0d57f75a8775011000098538b5829b862f7c46cd22f78e204eb8364d4f3bf0bb87ce6a49d7917ea90efe506d140f34f1734ed3a684d64d337088c49da6f2dacdcf32925b999add1feee61463e6173c57d4ac6ca5588b5558c94be86415ef4658d9a47617893a764b7341f958af1b2721773174ade385be745834d4f7db6c1be099324d723d21f15ad9af8db89ff512698605b3039ebfcca764150312f4d875035649d764e40dd43da68932ed604e818e3d19f7b68598ea1c283c8171ab5f0adfb20d327ab44da1d64e78c9326d4775c74646c2572e6ad902d10ca702a86b8e143b584e20861bf7acf66c491b525a584b3bca0e58cedad4786c32eef25e1dba663498e52a4087d5aec6278782a55e2f410721e722e78b42300c0c95778fb3a10ad3be245cf876e128ef46906881ee09aeb905c03e035e69ab5426c15584bf0f5ab43425d7792071bcd37ccb7b6f07dc618f6958667324af4057263b126fdbcaa14e0df12a2adb450e89029149d9f6804a57aa537d68956272256c2ece57e772e9f78c1e3b322dbc5504206e68132d5b6274bbf4ae28be38f9a6efa42d1912f701fd99d661ed42e9826ebc3f9e0c6be476978c9578e72880c783b1d3b1358784c986b1e009aadd2baa6958fd4e026e09d0";

    /// @notice Verifies an ECDSA P-384 signature over a 48-byte digest.
    /// @param v `[e_hi, e_lo, r_hi, r_lo, s_hi, s_lo, w_hi, w_lo, qx_hi, qx_lo, qy_hi, qy_lo, h0, h1, h2,
    /// h3]` where e is the digest as a big-endian integer, (r, s) the signature, w the hint s⁻¹ mod n and
    /// (qx, qy) the affine public key, every value split into its high 128 and low 256 bits; h0..h3 the
    /// half-size hint: h0 = high 128 bits of y(R), bit 255 set iff x(R) = r + n; h1 = low 256 bits of
    /// y(R); h2 = a; h3 = |b|, bit 255 set iff b < 0. All zero h0..h3 selects the textbook check.
    /// @return ok True iff the signature is valid; false for any malformed input (never reverts on it).
    function verify(uint256[16] memory v) internal view returns (bool ok) {
        return check(v) == VALID;
    }

    /// @notice Outcome of `check`: the signature is valid.
    uint256 internal constant VALID = 0;
    /// @notice Outcome of `check`: the signature (or key) is invalid whatever the hint.
    uint256 internal constant INVALID = 1;
    /// @notice Outcome of `check`: the hint w is not s⁻¹ mod n (the signature was not judged).
    uint256 internal constant BAD_HINT = 2;

    /// @notice Like `verify`, but tells a wrong inverse hint apart from an invalid signature (a wrong
    /// half-size hint is not reported: it only costs the textbook check).
    /// @return outcome VALID, INVALID or BAD_HINT.
    function check(uint256[16] memory v) internal view returns (uint256 outcome) {
        bytes memory tables = TABLES;
        assembly ("memory-safe") {
            // ---------------------------------------------------------------- field mod p
            // 768-bit product w2·2^512 + w1·2^256 + w0 of two values below 2^384 (for products mod n).
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
            function mulm(d, a, b) {
                // 768-bit product w2·2^512 + w1·2^256 + w0 of two values below 2^384, folded with the
                // Solinas identities, in one function (no intermediate returns: fewer stack moves).
                let a0 := mload(add(a, 32))
                let b0 := mload(add(b, 32))
                let w0 := mul(a0, b0)
                let w1 := mulmod(a0, b0, not(0))
                w1 := sub(sub(w1, w0), lt(w1, w0))
                let a1 := mload(a)
                let b1 := mload(b)
                // cross = a1·b0 + a0·b1 < 2^386: (c1, c0)
                let c0 := mul(a1, b0)
                let c1 := mulmod(a1, b0, not(0))
                c1 := sub(sub(c1, c0), lt(c1, c0))
                let t := mul(a0, b1)
                let mm := mulmod(a0, b1, not(0))
                c1 := add(c1, sub(sub(mm, t), lt(mm, t)))
                c0 := add(c0, t)
                c1 := add(c1, lt(c0, t))
                w1 := add(w1, c0)
                let w2 := add(add(mul(a1, b1), c1), lt(w1, c0))
                // f1 < 2^224 and w2 ends <= 2: no overflow below.
                // w2·2^512 ≡ w2·2^256 + w2·E (mod p), E = D·2^128.
                t := mul(w2, 0xffffffffffffffff0000000100000000000000000000000000000000)
                mm := mulmod(w2, 0xffffffffffffffff0000000100000000000000000000000000000000, not(0))
                w0 := add(w0, t)
                mm := add(sub(sub(mm, t), lt(mm, t)), lt(w0, t))
                t := add(w1, w2)
                w2 := lt(t, w1)
                w1 := add(t, mm)
                w2 := add(w2, lt(w1, t))
                // H = value >> 384 < 2^130; value ≡ L + H·2^128 + H·D (mod p).
                let h := or(shl(128, w2), shr(128, w1))
                t := shl(128, h)
                w0 := add(w0, t)
                w1 := add(and(w1, 0xffffffffffffffffffffffffffffffff), add(shr(128, h), lt(w0, t)))
                t := mul(h, 0xffffffffffffffff00000001)
                w0 := add(w0, t)
                w1 := add(w1, lt(w0, t))
                // The value is now < 2^384 + 2^260: fold once more if it reached 2^384.
                h := shr(128, w1)
                if h {
                    w1 := and(w1, 0xffffffffffffffffffffffffffffffff)
                    t := mul(h, 0x100000000ffffffffffffffff00000001)
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
                mstore(d, w1)
                mstore(add(d, 32), w0)
            }
            // d = a² mod p: `mulm` with the cross product a1·a0 computed once and doubled. The fold below
            // repeats `mulm`'s on purpose: a shared function would cost a call per product (~40 gas, some
            // 0.1 M gas per signature).
            function sqrm(d, a) {
                let a0 := mload(add(a, 32))
                let w0 := mul(a0, a0)
                let w1 := mulmod(a0, a0, not(0))
                w1 := sub(sub(w1, w0), lt(w1, w0))
                let a1 := mload(a)
                // cross = 2·a1·a0 < 2^385: (c1, c0)
                let c0 := mul(a1, a0)
                let c1 := mulmod(a1, a0, not(0))
                c1 := add(shl(1, sub(sub(c1, c0), lt(c1, c0))), shr(255, c0))
                c0 := shl(1, c0)
                w1 := add(w1, c0)
                let w2 := add(add(mul(a1, a1), c1), lt(w1, c0))
                let t := 0
                let mm := 0
                // w2·2^512 ≡ w2·2^256 + w2·E (mod p), E = D·2^128.
                t := mul(w2, 0xffffffffffffffff0000000100000000000000000000000000000000)
                mm := mulmod(w2, 0xffffffffffffffff0000000100000000000000000000000000000000, not(0))
                w0 := add(w0, t)
                mm := add(sub(sub(mm, t), lt(mm, t)), lt(w0, t))
                t := add(w1, w2)
                w2 := lt(t, w1)
                w1 := add(t, mm)
                w2 := add(w2, lt(w1, t))
                // H = value >> 384 < 2^130; value ≡ L + H·2^128 + H·D (mod p).
                let h := or(shl(128, w2), shr(128, w1))
                t := shl(128, h)
                w0 := add(w0, t)
                w1 := add(and(w1, 0xffffffffffffffffffffffffffffffff), add(shr(128, h), lt(w0, t)))
                t := mul(h, 0xffffffffffffffff00000001)
                w0 := add(w0, t)
                w1 := add(w1, lt(w0, t))
                // The value is now < 2^384 + 2^260: fold once more if it reached 2^384.
                h := shr(128, w1)
                if h {
                    w1 := and(w1, 0xffffffffffffffffffffffffffffffff)
                    t := mul(h, 0x100000000ffffffffffffffff00000001)
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
                mstore(d, w1)
                mstore(add(d, 32), w0)
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
            // d = k·a mod p for a small k (k ≤ 8): the product is below 2^387, one Solinas fold with
            // 2^384 ≡ 2^128 + 2^96 − 2^32 + 1, a second if it carried to 2^384, and one subtraction.
            function mulSmall(d, a, k) {
                let a0 := mload(add(a, 32))
                let r0 := mul(a0, k)
                let mm := mulmod(a0, k, not(0))
                let r1 := add(mul(mload(a), k), sub(sub(mm, r0), lt(mm, r0)))
                for {} shr(128, r1) {} {
                    let t := mul(shr(128, r1), 0x100000000ffffffffffffffff00000001)
                    r1 := and(r1, 0xffffffffffffffffffffffffffffffff)
                    r0 := add(r0, t)
                    r1 := add(r1, lt(r0, t))
                }
                if and(
                    eq(r1, 0xffffffffffffffffffffffffffffffff),
                    iszero(lt(r0, 0xfffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff))
                ) {
                    r1 := 0
                    r0 := sub(r0, 0xfffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff)
                }
                mstore(d, r1)
                mstore(add(d, 32), r0)
            }
            // ---------------------------------------------------------------- curve
            // Point in memory: X at +0, Y at +64, Z at +128 (each 2 words); infinity iff Z = 0.
            // Temporaries t0..t6 live at fixed scratch slots (`tmp` + 64·i).
            function jdbl(pt, tmp) {
                // a = −3: 4M + 4S (Z3 = 2·Y·Z), small multiples by `mulSmall`.
                let t0 := tmp
                let t1 := add(tmp, 64)
                let t2 := add(tmp, 128)
                let t3 := add(tmp, 192)
                let t4 := add(tmp, 256)
                let y := add(pt, 64)
                let z := add(pt, 128)
                sqrm(t0, z) // delta
                sqrm(t1, y) // gamma
                mulm(t2, pt, t1) // beta
                subm(t3, pt, t0)
                addm(t4, pt, t0)
                mulm(t3, t3, t4)
                mulSmall(t4, t3, 3) // alpha = 3·(X − delta)·(X + delta)
                mulm(z, y, z)
                addm(z, z, z) // Z3 = 2·Y·Z
                sqrm(t3, t4)
                mulSmall(t2, t2, 4) // 4·beta
                subm(t3, t3, t2)
                subm(pt, t3, t2) // X3 = alpha² − 8·beta
                subm(t2, t2, pt)
                mulm(t2, t4, t2)
                sqrm(t1, t1)
                mulSmall(t1, t1, 8)
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
                sqrm(t0, z)
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
                sqrm(t2, t0)
                mulm(t3, t2, t0) // H³
                mulm(t2, t2, pt) // V = X·H²
                sqrm(t4, t1)
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
                sqrm(t0, z)
                sqrm(t1, qz)
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
                sqrm(t4, t3)
                mulm(t5, t4, t3) // H³
                mulm(t4, t2, t4) // V = U1·H²
                sqrm(t6, t0)
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
            // Memory (scratch above the free pointer, never allocated), offsets from `m`:
            //   0x0000 table of G, 0x0780 table of 2^192·G (8 affine odd multiples each, 128 bytes a point),
            //   0x0f00 Jacobian tables of P3 and P4 (8 points each, 192 bytes a point),
            //   0x2580 the same 16 points affine, 0x3480 prefix products (16 × 64 bytes),
            //   0x3c00 accumulator, 0x3cc0 seven temporaries, 0x3e80 MODEXP buffer, 0x3f80 u1 and u2,
            //   0x4000 the four 192-bit scalars, 0x4080 their NAF digits, 0x4480 a negated table point.
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
                good := onCurve(add(vp, 256), add(vp, 320), tmp)
            }
            // 1 iff the affine point (x, y) has reduced coordinates and y² = x³ − 3x + b (mod p).
            function onCurve(x, y, tmp) -> good {
                if iszero(and(ltP(mload(x), mload(add(x, 32))), ltP(mload(y), mload(add(y, 32))))) {
                    leave
                }
                sqrm(tmp, x)
                mulm(tmp, tmp, x)
                subm(tmp, tmp, x)
                subm(tmp, tmp, x)
                subm(tmp, tmp, x)
                mstore(add(tmp, 64), 0xb3312fa7e23ee7e4988e056be3f82d19)
                mstore(add(tmp, 96), 0x181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aef)
                addm(tmp, tmp, add(tmp, 64))
                sqrm(add(tmp, 64), y)
                good := and(eq(mload(tmp), mload(add(tmp, 64))), eq(mload(add(tmp, 32)), mload(add(tmp, 96))))
            }
            // acc = k0·G + k1·2^192·G + k2·P3 + k3·P4 for the 192-bit scalars k0..k3 at m + 0x4000, with
            // the Jacobian P3 and P4 at m + 0x0f00 and m + 0x1500 (Strauss–Shamir with width-5 NAF digits:
            // ~193 doublings for all four scalars, ~32 additions per scalar).
            function msm4(m) {
                let jt := add(m, 0x0f00)
                let tmp := add(m, 0x3cc0)
                let acc := add(m, 0x3c00)
                // Odd multiples 1, 3, …, 15 of P3 and of P4: repeated additions of 2·P (in `acc`).
                for { let b := jt } 1 { b := add(b, 0x600) } {
                    mcopy(acc, b, 192)
                    jdbl(acc, tmp)
                    for { let i := 1 } lt(i, 8) { i := add(i, 1) } {
                        let d := add(b, mul(i, 192))
                        mcopy(d, sub(d, 192), 192)
                        jadd(d, acc, tmp)
                    }
                    if gt(b, jt) { break }
                }
                toAffine(jt, add(m, 0x2580), add(m, 0x3480), tmp, add(m, 0x3e80))
                // Width-5 NAF of each scalar (digits 0 or odd in [−15, 15], at most 193), one byte a bit
                // position (magnitude, bit 7 = negative), least significant first, at m + 0x4080 + 256·j.
                let digits := add(m, 0x4080)
                for { let i := 0 } lt(i, 0x400) { i := add(i, 32) } { mstore(add(digits, i), 0) }
                let top := 0
                for { let j := 0 } lt(j, 4) { j := add(j, 1) } {
                    let s := mload(add(add(m, 0x4000), shl(5, j)))
                    let dig := add(digits, shl(8, j))
                    let i := 0
                    for {} s {} {
                        if and(s, 1) {
                            let d := and(s, 31)
                            switch lt(d, 16)
                            case 1 {
                                s := sub(s, d)
                                mstore8(add(dig, i), d)
                            }
                            default {
                                s := add(s, sub(32, d))
                                mstore8(add(dig, i), or(sub(32, d), 0x80))
                            }
                        }
                        s := shr(1, s)
                        i := add(i, 1)
                    }
                    if gt(i, top) { top := i }
                }
                let neg := add(m, 0x4480)
                // The point at infinity with reduced coordinates (scratch memory may hold anything).
                for { let i := 0 } lt(i, 192) { i := add(i, 32) } { mstore(add(acc, i), 0) }
                mstore(add(neg, 128), 0)
                mstore(add(neg, 160), 0)
                for { let i := top } i {} {
                    i := sub(i, 1)
                    jdbl(acc, tmp)
                    // Scalar j's digit selects from its table: G, 2^192·G, P3, P4 (affine odd multiples
                    // 1·, 3·, …, 15·); a negative digit adds the negated point.
                    for { let j := 0 } lt(j, 4) { j := add(j, 1) } {
                        let d := shr(248, mload(add(add(digits, shl(8, j)), i)))
                        if d {
                            let t := mul(j, 0x780)
                            if gt(j, 1) { t := add(0x1d80, shl(10, j)) }
                            let pt := add(add(m, t), shl(6, sub(and(d, 0x7f), 1)))
                            if shr(7, d) {
                                copy2(neg, pt)
                                subm(add(neg, 64), add(neg, 128), add(pt, 64))
                                pt := neg
                            }
                            jmadd(acc, pt, tmp)
                        }
                    }
                }
            }
            // Writes the affine (x, y) at `a` as the Jacobian point (x, y, 1) at `d`.
            function jacobian(d, a) {
                mcopy(d, a, 128)
                mstore(add(d, 128), 0)
                mstore(add(d, 160), 1)
            }
            // Stores (hi, lo) = v (< 2^384) as the two 192-bit halves (v >> 192, v mod 2^192) at k.
            function halves(k, hi, lo) {
                mstore(k, and(lo, 0xffffffffffffffffffffffffffffffffffffffffffffffff))
                mstore(add(k, 32), or(shl(64, hi), shr(192, lo)))
            }
            // The 16 Jacobian points at `qj` (192 bytes each, none at infinity: every point has prime
            // order n) to affine at `qa` (128 bytes each) with one inversion (Montgomery's trick: prefix
            // products at `pre`, one MODEXP Fermat inversion of their product, then 3 multiplications per
            // point back).
            function toAffine(qj, qa, pre, tmp, buf) {
                copy2(pre, add(qj, 128))
                for { let i := 1 } lt(i, 16) { i := add(i, 1) } {
                    mulm(add(pre, shl(6, i)), add(pre, shl(6, sub(i, 1))), add(add(qj, mul(i, 192)), 128))
                }
                // iv = (Z_0·…·Z_15)^(p−2) mod p
                mstore(buf, 48)
                mstore(add(buf, 32), 48)
                mstore(add(buf, 64), 48)
                mstore(add(buf, 96), shl(128, mload(add(pre, 960))))
                mstore(add(buf, 112), mload(add(pre, 992)))
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
                for { let i := 15 } 1 { i := sub(i, 1) } {
                    let pt := add(qj, mul(i, 192))
                    switch i
                    case 0 { copy2(zi, iv) }
                    default {
                        mulm(zi, iv, add(pre, shl(6, sub(i, 1)))) // 1/Z_i
                        mulm(iv, iv, add(pt, 128)) // 1/(Z_0·…·Z_{i−1})
                    }
                    sqrm(zz, zi)
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
                sqrm(zz, z)
                mstore(tmp, r1)
                mstore(add(tmp, 32), r0)
                mulm(t, tmp, zz)
                if and(eq(mload(t), mload(acc)), eq(mload(add(t, 32)), mload(add(acc, 32)))) {
                    good := 1
                    leave
                }
                if rPlusNBelowP(r1, r0) {
                    let rn0 := add(r0, 0xffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973)
                    mstore(tmp, add(0xffffffffffffffffffffffffffffffff, lt(rn0, r0)))
                    mstore(add(tmp, 32), rn0)
                    mulm(t, tmp, zz)
                    good := and(eq(mload(t), mload(acc)), eq(mload(add(t, 32)), mload(add(acc, 32))))
                }
            }
            // r + n < p ⇔ r < p − n (p − n < 2^190, so r_hi must be 0).
            function rPlusNBelowP(r1, r0) -> l {
                l := and(iszero(r1), lt(r0, 0x389cb27e0bc8d21fa7e5f24cb74f58851313e696333ad68c))
            }
            // The half-size check (Antipa et al.): with the hint R = (x, y), x ∈ {r, r + n}, and
            // 0 < a < 2^192, |b| < 2^192, a·u2 ≡ b (mod n): (a·u1 mod n)·G + b·Q − a·R = O. Since a ≢ 0
            // (mod n) and the group has prime order n, that holds iff u1·G + u2·Q = R, i.e. iff the
            // signature is valid. 1 = holds; 0 = does not hold or the hint is unusable (the caller
            // then decides without it).
            function halfSize(vp, m) -> good {
                let ry1 := mload(add(vp, 384))
                let a := mload(add(vp, 448))
                let bw := mload(add(vp, 480))
                let b := and(bw, 0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff)
                if or(iszero(a), or(shr(192, a), shr(192, b))) { leave }
                let buf := add(m, 0x3e80)
                let u := add(m, 0x3f80)
                let tmp := add(m, 0x3cc0)
                // a·u2 ≡ ±b (mod n)
                {
                    let c1, c0 := mulModN(0, a, mload(add(u, 64)), mload(add(u, 96)), buf)
                    if shr(255, bw) {
                        if iszero(b) { leave }
                        let nb0 := sub(0xffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973, b)
                        // n − b with b < 2^192: the high word of n is unchanged.
                        if iszero(and(eq(c1, 0xffffffffffffffffffffffffffffffff), eq(c0, nb0))) {
                            leave
                        }
                    }
                    if iszero(shr(255, bw)) { if iszero(and(iszero(c1), eq(c0, b))) { leave } }
                }
                // R: x = r (or r + n when the flag is set and r + n < p), y from the hint, on the curve.
                let pt := add(m, 0x1500)
                let r1 := mload(add(vp, 64))
                let r0 := mload(add(vp, 96))
                if shr(255, ry1) {
                    if iszero(rPlusNBelowP(r1, r0)) { leave }
                    let rn0 := add(r0, 0xffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973)
                    r1 := add(0xffffffffffffffffffffffffffffffff, lt(rn0, r0))
                    r0 := rn0
                }
                mstore(pt, r1)
                mstore(add(pt, 32), r0)
                mstore(
                    add(pt, 64),
                    and(ry1, 0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff)
                )
                mstore(add(pt, 96), mload(add(vp, 416)))
                if iszero(onCurve(pt, add(pt, 64), tmp)) { leave }
                // P4 = −R, P3 = ±Q (the sign of b).
                mstore(tmp, 0)
                mstore(add(tmp, 32), 0)
                subm(add(pt, 64), tmp, add(pt, 64))
                mstore(add(pt, 128), 0)
                mstore(add(pt, 160), 1)
                let q := add(m, 0x0f00)
                jacobian(q, add(vp, 256))
                if shr(255, bw) { subm(add(q, 64), tmp, add(q, 64)) }
                // Scalars: a·u1 mod n in 192-bit halves, |b|, a.
                let k := add(m, 0x4000)
                {
                    let c1, c0 := mulModN(0, a, mload(u), mload(add(u, 32)), buf)
                    halves(k, c1, c0)
                }
                mstore(add(k, 64), b)
                mstore(add(k, 96), a)
                msm4(m)
                good := isZero(add(m, 0x3c80))
            }
            // The textbook check: x(u1·G + u2·Q) ≡ r (mod n), as u1·G + u2·Q = u1_lo·G + u1_hi·2^192·G +
            // u2_lo·Q + u2_hi·(2^192·Q), with 2^192·Q from 192 doublings.
            function textbook(vp, m) -> good {
                let q := add(m, 0x0f00)
                let q2 := add(m, 0x1500)
                let tmp := add(m, 0x3cc0)
                jacobian(q, add(vp, 256))
                mcopy(q2, q, 192)
                for { let i := 0 } lt(i, 192) { i := add(i, 1) } { jdbl(q2, tmp) }
                let u := add(m, 0x3f80)
                let k := add(m, 0x4000)
                // k = [u1_lo, u1_hi, u2_lo, u2_hi]
                halves(k, mload(u), mload(add(u, 32)))
                halves(add(k, 64), mload(add(u, 64)), mload(add(u, 96)))
                msm4(m)
                good := xMatches(add(m, 0x3c00), mload(add(vp, 64)), mload(add(vp, 96)), tmp)
            }

            function run(vp, tab, m) -> res {
                // Unpack the constant tables (48-byte big-endian coordinates) to (hi, lo) word pairs.
                for { let i := 0 } lt(i, 32) { i := add(i, 1) } {
                    let s := add(add(tab, 32), mul(i, 48))
                    let d := add(add(m, shl(6, i)), mul(gt(i, 15), 0x380))
                    mstore(d, shr(128, mload(s)))
                    mstore(add(d, 32), mload(add(s, 16)))
                }
                let buf := add(m, 0x3e80)
                let u := add(m, 0x3f80)
                res := 1
                let valid := inputsValid(vp, add(m, 0x3cc0), buf)
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
                    switch halfSize(vp, m)
                    case 1 { res := 0 }
                    default { if textbook(vp, m) { res := 0 } }
                }
            }
            outcome := run(v, tables, mload(0x40))
        }
    }
}
