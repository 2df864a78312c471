// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

/// @title X509
/// @notice Strict DER parsing of the X.509 fields a Nitro certificate chain needs.
/// @dev Accepts exactly the profile AWS issues: v3, ecdsa-with-SHA384 (no parameters) in both places,
/// a P-384 uncompressed key, UTCTime/GeneralizedTime validity, extensions with unique
/// basicConstraints/keyUsage and no unknown critical extension. Every read is bounds-checked; any
/// deviation reverts with a named error.
library X509 {
    /// @notice Thrown when DER is truncated, not minimally encoded or not the expected structure.
    error X509Malformed(uint256 offset);
    /// @notice Thrown when an algorithm is not ecdsa-with-SHA384 or the key is not P-384.
    error X509UnsupportedAlgorithm();
    /// @notice Thrown when an extension is duplicated or an unknown extension is critical.
    error X509BadExtension();

    struct Cert {
        uint256 tbsOffset;
        uint256 tbsLength;
        bytes32 tbsHash; // keccak256 of the TBSCertificate DER
        bytes32 issuerHash; // keccak256 of the issuer Name DER
        bytes32 subjectHash;
        bytes32 serialHash; // keccak256 of the serialNumber INTEGER contents
        uint64 notBefore;
        uint64 notAfter;
        bool ca;
        bool hasPathLen;
        uint8 pathLen;
        bool hasKeyUsage;
        bool keyCertSign;
        bool digitalSignature;
        uint256[4] key; // x_hi, x_lo, y_hi, y_lo
        uint256[4] sig; // r_hi, r_lo, s_hi, s_lo
    }

    // ecdsa-with-SHA384 AlgorithmIdentifier: SEQUENCE { OID 1.2.840.10045.4.3.3 }.
    bytes32 private constant ALG_HASH = keccak256(hex"300a06082a8648ce3d040303");
    // SubjectPublicKeyInfo prefix for id-ecPublicKey / secp384r1, BIT STRING of 98 bytes, 0x04.
    bytes32 private constant SPKI_PREFIX_HASH =
        keccak256(hex"3076301006072a8648ce3d020106052b8104002203620004");
    bytes32 private constant OID_BASIC_CONSTRAINTS = keccak256(hex"551d13");
    bytes32 private constant OID_KEY_USAGE = keccak256(hex"551d0f");

    /// @dev Reads a DER header at `off` (must be < `end`): tag, content offset, content length.
    function header(bytes memory b, uint256 off, uint256 end)
        internal
        pure
        returns (uint8 tag, uint256 start, uint256 len)
    {
        if (off + 2 > end) revert X509Malformed(off);
        tag = uint8(b[off]);
        uint256 l = uint8(b[off + 1]);
        start = off + 2;
        if (l < 0x80) {
            len = l;
        } else {
            uint256 n = l & 0x7f;
            // Long form: 1 or 2 length bytes, minimal.
            if (n == 0 || n > 2 || start + n > end) revert X509Malformed(off);
            for (uint256 i = 0; i < n; i++) {
                len = (len << 8) | uint8(b[start + i]);
            }
            start += n;
            if (len < 0x80 || (n == 2 && len < 0x100)) revert X509Malformed(off);
        }
        if (start + len > end) revert X509Malformed(off);
    }

    function _expect(bytes memory b, uint256 off, uint256 end, uint8 want)
        private
        pure
        returns (uint256 start, uint256 len)
    {
        uint8 tag;
        (tag, start, len) = header(b, off, end);
        if (tag != want) revert X509Malformed(off);
    }

    function _hashRange(bytes memory b, uint256 off, uint256 len) private pure returns (bytes32 h) {
        assembly ("memory-safe") {
            h := keccak256(add(add(b, 32), off), len)
        }
    }

    /// @notice Parses a DER certificate occupying `b[off : off + len]` exactly.
    function parse(bytes memory b, uint256 off, uint256 len) internal pure returns (Cert memory c) {
        uint256 end = off + len;
        if (end > b.length) revert X509Malformed(off);
        (uint256 p, uint256 l) = _expect(b, off, end, 0x30);
        if (p + l != end) revert X509Malformed(off); // no trailing bytes
        // TBSCertificate
        uint256 tbsStart;
        uint256 tbsLen;
        (tbsStart, tbsLen) = _expect(b, p, end, 0x30);
        c.tbsOffset = p;
        c.tbsLength = tbsStart + tbsLen - p;
        c.tbsHash = _hashRange(b, p, c.tbsLength);
        uint256 q = tbsStart + tbsLen;
        // signatureAlgorithm
        (uint256 s, uint256 sl) = _expect(b, q, end, 0x30);
        if (_hashRange(b, q, s + sl - q) != ALG_HASH) revert X509UnsupportedAlgorithm();
        q = s + sl;
        _signature(b, q, end, c);
        _parseTbs(b, tbsStart, tbsStart + tbsLen, c);
    }

    /// @dev signatureValue BIT STRING { 00, SEQUENCE { INTEGER r, INTEGER s } }, ending exactly at `end`.
    function _signature(bytes memory b, uint256 q, uint256 end, Cert memory c) private pure {
        (uint256 s, uint256 sl) = _expect(b, q, end, 0x03);
        if (s + sl != end || sl < 1 || uint8(b[s]) != 0) revert X509Malformed(q);
        (uint256 sq, uint256 sql) = _expect(b, s + 1, end, 0x30);
        if (sq + sql != end) revert X509Malformed(s);
        uint256 next;
        (c.sig[0], c.sig[1], next) = _integer48(b, sq, end);
        (c.sig[2], c.sig[3], next) = _integer48(b, next, end);
        if (next != end) revert X509Malformed(next);
    }

    /// @dev A positive DER INTEGER of at most 48 significant bytes, minimally encoded.
    function _integer48(bytes memory b, uint256 off, uint256 end)
        private
        pure
        returns (uint256 hi, uint256 lo, uint256 next)
    {
        (uint256 s, uint256 l) = _expect(b, off, end, 0x02);
        next = s + l;
        if (l == 0 || uint8(b[s]) & 0x80 != 0) revert X509Malformed(off); // empty or negative
        if (uint8(b[s]) == 0) {
            // A leading zero only when the next byte has its top bit set.
            if (l == 1 || uint8(b[s + 1]) & 0x80 == 0) revert X509Malformed(off);
            s++;
            l--;
        }
        if (l > 48) revert X509Malformed(off);
        for (uint256 i = 0; i < l; i++) {
            // (hi, lo) <<= 8 | byte
            hi = (hi << 8) | (lo >> 248);
            lo = (lo << 8) | uint8(b[s + i]);
        }
    }

    function _parseTbs(bytes memory b, uint256 p, uint256 end, Cert memory c) private pure {
        // version [0] EXPLICIT INTEGER 2
        if (p + 5 > end || uint40(bytes5(_word(b, p))) != 0xa003020102) revert X509Malformed(p);
        p += 5;
        // serialNumber
        (uint256 s, uint256 l) = _expect(b, p, end, 0x02);
        if (l == 0 || l > 21) revert X509Malformed(p);
        c.serialHash = _hashRange(b, s, l);
        p = s + l;
        // signature AlgorithmIdentifier: must equal the outer one
        (s, l) = _expect(b, p, end, 0x30);
        if (_hashRange(b, p, s + l - p) != ALG_HASH) revert X509UnsupportedAlgorithm();
        p = s + l;
        // issuer
        (s, l) = _expect(b, p, end, 0x30);
        c.issuerHash = _hashRange(b, p, s + l - p);
        p = s + l;
        // validity
        (s, l) = _expect(b, p, end, 0x30);
        uint256 vEnd = s + l;
        uint256 next;
        (c.notBefore, next) = _time(b, s, vEnd);
        (c.notAfter, next) = _time(b, next, vEnd);
        if (next != vEnd) revert X509Malformed(next);
        p = vEnd;
        // subject
        (s, l) = _expect(b, p, end, 0x30);
        c.subjectHash = _hashRange(b, p, s + l - p);
        p = s + l;
        // subjectPublicKeyInfo: fixed 120 bytes for P-384
        if (p + 120 > end || _hashRange(b, p, 24) != SPKI_PREFIX_HASH) revert X509UnsupportedAlgorithm();
        uint256 k = p + 24;
        c.key[0] = uint256(uint128(bytes16(_word(b, k))));
        c.key[1] = uint256(_word(b, k + 16));
        c.key[2] = uint256(uint128(bytes16(_word(b, k + 48))));
        c.key[3] = uint256(_word(b, k + 64));
        p += 120;
        // extensions [3] EXPLICIT SEQUENCE OF Extension (issuer/subject unique ids are rejected)
        if (p == end) return;
        (s, l) = _expect(b, p, end, 0xa3);
        if (s + l != end) revert X509Malformed(p);
        (s, l) = _expect(b, s, end, 0x30);
        if (s + l != end) revert X509Malformed(s);
        bool seenBc;
        while (s < end) {
            (s, seenBc) = _extension(b, s, end, c, seenBc);
        }
    }

    /// @dev One Extension { OID, critical BOOLEAN DEFAULT FALSE, OCTET STRING }; returns the next offset.
    function _extension(bytes memory b, uint256 s, uint256 end, Cert memory c, bool seenBc)
        private
        pure
        returns (uint256, bool)
    {
        (uint256 es, uint256 el) = _expect(b, s, end, 0x30);
        uint256 xEnd = es + el;
        (bytes32 oid, bool critical, uint256 vs) = _extensionHead(b, es, xEnd);
        if (oid == OID_BASIC_CONSTRAINTS) {
            if (seenBc) revert X509BadExtension();
            seenBc = true;
            _basicConstraints(b, vs, xEnd, c);
        } else if (oid == OID_KEY_USAGE) {
            if (c.hasKeyUsage) revert X509BadExtension();
            c.hasKeyUsage = true;
            _keyUsage(b, vs, xEnd, c);
        } else if (critical) {
            revert X509BadExtension();
        }
        return (xEnd, seenBc);
    }

    /// @dev extnID, critical flag (DER: TRUE only, the default omitted) and the OCTET STRING contents offset.
    function _extensionHead(bytes memory b, uint256 p, uint256 xEnd)
        private
        pure
        returns (bytes32 oid, bool critical, uint256 vs)
    {
        (uint256 os, uint256 ol) = _expect(b, p, xEnd, 0x06);
        oid = _hashRange(b, os, ol);
        uint256 v = os + ol;
        if (v < xEnd && uint8(b[v]) == 0x01) {
            (uint256 bs, uint256 bl) = _expect(b, v, xEnd, 0x01);
            if (bl != 1 || uint8(b[bs]) != 0xff) revert X509Malformed(v);
            critical = true;
            v = bs + 1;
        }
        uint256 vl;
        (vs, vl) = _expect(b, v, xEnd, 0x04);
        if (vs + vl != xEnd) revert X509Malformed(v);
    }

    function _basicConstraints(bytes memory b, uint256 p, uint256 end, Cert memory c) private pure {
        (uint256 s, uint256 l) = _expect(b, p, end, 0x30);
        uint256 sEnd = s + l;
        if (sEnd != end) revert X509Malformed(p);
        if (s < sEnd && uint8(b[s]) == 0x01) {
            (uint256 bs, uint256 bl) = _expect(b, s, sEnd, 0x01);
            if (bl != 1 || uint8(b[bs]) != 0xff) revert X509Malformed(s);
            c.ca = true;
            s = bs + 1;
        }
        if (s < sEnd) {
            (uint256 is_, uint256 il) = _expect(b, s, sEnd, 0x02);
            if (il != 1 || uint8(b[is_]) & 0x80 != 0 || !c.ca) revert X509Malformed(s);
            c.hasPathLen = true;
            c.pathLen = uint8(b[is_]);
            s = is_ + 1;
        }
        if (s != sEnd) revert X509Malformed(s);
    }

    function _keyUsage(bytes memory b, uint256 p, uint256 end, Cert memory c) private pure {
        (uint256 s, uint256 l) = _expect(b, p, end, 0x03);
        if (s + l != end || l < 2 || l > 3) revert X509Malformed(p);
        uint8 first = uint8(b[s + 1]);
        c.digitalSignature = first & 0x80 != 0;
        c.keyCertSign = first & 0x04 != 0;
    }

    function _word(bytes memory b, uint256 off) private pure returns (bytes32 w) {
        assembly ("memory-safe") {
            w := mload(add(add(b, 32), off))
        }
    }

    function _digits(bytes memory b, uint256 off, uint256 n) private pure returns (uint256 v) {
        for (uint256 i = 0; i < n; i++) {
            uint8 ch = uint8(b[off + i]);
            if (ch < 0x30 || ch > 0x39) revert X509Malformed(off);
            v = v * 10 + (ch - 0x30);
        }
    }

    /// @dev UTCTime "YYMMDDHHMMSSZ" (years 1950–2049) or GeneralizedTime "YYYYMMDDHHMMSSZ" → Unix seconds.
    function _time(bytes memory b, uint256 off, uint256 end) private pure returns (uint64 t, uint256 next) {
        (uint8 tag, uint256 s, uint256 l) = header(b, off, end);
        uint256 year;
        if (tag == 0x17 && l == 13) {
            year = _digits(b, s, 2);
            year += year < 50 ? 2000 : 1900;
            s += 2;
        } else if (tag == 0x18 && l == 15) {
            year = _digits(b, s, 4);
            s += 4;
        } else {
            revert X509Malformed(off);
        }
        if (uint8(b[s + 10]) != 0x5a) revert X509Malformed(off); // 'Z'
        uint256 month = _digits(b, s, 2);
        uint256 day = _digits(b, s + 2, 2);
        uint256 hour = _digits(b, s + 4, 2);
        uint256 minute = _digits(b, s + 6, 2);
        uint256 second = _digits(b, s + 8, 2);
        if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) {
            revert X509Malformed(off);
        }
        t = uint64(_daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second);
        next = s + 11;
    }

    /// @dev Days since 1970-01-01 (Howard Hinnant's algorithm), for years >= 1970.
    function _daysFromCivil(uint256 y, uint256 m, uint256 d) private pure returns (uint256) {
        if (y < 1970) revert X509Malformed(0);
        if (m <= 2) y -= 1;
        uint256 era = y / 400;
        uint256 yoe = y - era * 400;
        uint256 mp = m > 2 ? m - 3 : m + 9;
        uint256 doy = (153 * mp + 2) / 5 + d - 1;
        uint256 doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + doe - 719468;
    }
}
