// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {IAttestationVerifier} from "../interfaces/IAttestationVerifier.sol";
import {INitroAttestationVerifier} from "./INitroAttestationVerifier.sol";
import {Sha384} from "./Sha384.sol";

/// @title NitroDocument
/// @notice Bounds-checked parsing of a Nitro attestation document (COSE_Sign1, tagged or untagged,
/// definite or indefinite CBOR) into offsets, and the SHA-384 of its Sig_structure. No signature check.
/// @dev Mirrors the off-chain `nitro-attestation` payload rules: the nine known keys only, each at most
/// once; module_id, digest ("SHA384"), timestamp, pcrs (1..32 entries, index < 32, 48 bytes),
/// certificate (1..1024 bytes) and cabundle (1..16 entries of 1..1024 bytes) required; public_key
/// (1..1024), user_data and nonce (0..1024) bstr or null; no indefinite strings; nothing trailing.
/// The COSE headers must be exactly `{1: -35}` (protected) and `{}` (unprotected).
library NitroDocument {
    uint256 private constant MAX_FIELD = 1024;
    uint256 private constant MAX_CABUNDLE = 16;

    /// @notice Offsets (into the document) of the parsed fields.
    struct Doc {
        uint256 payloadOff;
        uint256 payloadLen;
        uint256 sigOff;
        uint256 moduleOff;
        uint256 moduleLen;
        uint64 timestamp;
        uint256 certOff;
        uint256 certLen;
        uint256[] caOff;
        uint256[] caLen;
        uint256[32] pcrOff;
        uint256 pcrCount;
        uint256 pcrMax; // highest index + 1
        int256[3] optOff; // public_key, user_data, nonce: -1 = null
        uint256[3] optLen;
        uint256 seen;
    }

    function hashRange(bytes memory b, uint256 off, uint256 len) internal pure returns (bytes32 h) {
        if (off + len > b.length) revert INitroAttestationVerifier.NitroMalformed(off);
        assembly ("memory-safe") {
            h := keccak256(add(add(b, 32), off), len)
        }
    }

    function sigStructureHash(bytes memory d, uint256 off, uint256 len)
        internal
        pure
        returns (uint256, uint256)
    {
        // 84 6a "Signature1" 44 a1013822 40, then the payload as a definite byte string.
        bytes memory head = len < 24
            ? abi.encodePacked(hex"846a5369676e61747572653144a101382240", uint8(0x40 + len))
            : len < 256
                ? abi.encodePacked(hex"846a5369676e61747572653144a10138224058", uint8(len))
                : len < 65536
                    ? abi.encodePacked(hex"846a5369676e61747572653144a10138224059", uint16(len))
                    : abi.encodePacked(hex"846a5369676e61747572653144a1013822405a", uint32(len));
        bytes memory m = new bytes(head.length + len);
        assembly ("memory-safe") {
            mcopy(add(m, 32), add(head, 32), mload(head))
            mcopy(add(add(m, 32), mload(head)), add(add(d, 32), off), len)
        }
        return Sha384.hash(m, 0, m.length);
    }

    /// @dev CBOR item head at `p`: major type, argument, indefinite flag, next offset.
    function _head(bytes memory b, uint256 p)
        private
        pure
        returns (uint8 major, uint256 arg, bool indef, uint256 next)
    {
        if (p >= b.length) revert INitroAttestationVerifier.NitroMalformed(p);
        uint8 ib = uint8(b[p]);
        major = ib >> 5;
        uint8 ai = ib & 31;
        next = p + 1;
        if (ai < 24) {
            arg = ai;
        } else if (ai < 28) {
            uint256 n = 1 << (ai - 24);
            if (next + n > b.length) revert INitroAttestationVerifier.NitroMalformed(p);
            for (uint256 i = 0; i < n; i++) {
                arg = (arg << 8) | uint8(b[next + i]);
            }
            next += n;
        } else if (ai == 31 && major >= 2 && major <= 5) {
            indef = true;
        } else {
            revert INitroAttestationVerifier.NitroMalformed(p);
        }
    }

    /// @dev A definite byte (major 2) or text (major 3) string; returns contents offset and length.
    function _string(bytes memory b, uint256 p, uint8 wantMajor)
        private
        pure
        returns (uint256 s, uint256 len)
    {
        (uint8 major, uint256 arg, bool indef, uint256 next) = _head(b, p);
        if (major != wantMajor || indef) revert INitroAttestationVerifier.NitroMalformed(p);
        if (arg > b.length || next + arg > b.length) revert INitroAttestationVerifier.NitroMalformed(p);
        return (next, arg);
    }

    function _isBreak(bytes memory b, uint256 p) private pure returns (bool) {
        if (p >= b.length) revert INitroAttestationVerifier.NitroMalformed(p);
        return uint8(b[p]) == 0xff;
    }

    function parseCose(bytes memory d) internal pure returns (Doc memory doc) {
        uint256 p = d.length > 0 && uint8(d[0]) == 0xd2 ? 1 : 0; // optional tag 18
        (uint8 major, uint256 arg, bool indef, uint256 next) = _head(d, p);
        if (major != 4 || (!indef && arg != 4)) revert INitroAttestationVerifier.NitroMalformed(p);
        p = next;
        // protected = bstr {1: -35}, unprotected = {}
        if (p + 6 > d.length) revert INitroAttestationVerifier.NitroMalformed(p);
        if (uint48(bytes6(_word(d, p))) != 0x44a1013822a0) {
            revert INitroAttestationVerifier.NitroUnsupportedAlgorithm();
        }
        p += 6;
        (doc.payloadOff, doc.payloadLen) = _string(d, p, 2);
        p = doc.payloadOff + doc.payloadLen;
        (uint256 s, uint256 sl) = _string(d, p, 2);
        if (sl != 96) revert INitroAttestationVerifier.NitroMalformed(p);
        doc.sigOff = s;
        p = s + sl;
        if (indef) {
            if (!_isBreak(d, p)) revert INitroAttestationVerifier.NitroMalformed(p);
            p++;
        }
        if (p != d.length) revert INitroAttestationVerifier.NitroTrailingBytes();
    }

    bytes32 private constant K_MODULE_ID = keccak256("module_id");
    bytes32 private constant K_DIGEST = keccak256("digest");
    bytes32 private constant K_TIMESTAMP = keccak256("timestamp");
    bytes32 private constant K_PCRS = keccak256("pcrs");
    bytes32 private constant K_CERTIFICATE = keccak256("certificate");
    bytes32 private constant K_CABUNDLE = keccak256("cabundle");
    bytes32 private constant K_PUBLIC_KEY = keccak256("public_key");
    bytes32 private constant K_USER_DATA = keccak256("user_data");
    bytes32 private constant K_NONCE = keccak256("nonce");

    function parsePayload(bytes memory d, Doc memory doc) internal pure {
        uint256 end = doc.payloadOff + doc.payloadLen;
        (uint8 major, uint256 count, bool indef, uint256 p) = _head(d, doc.payloadOff);
        if (major != 5) revert INitroAttestationVerifier.NitroMalformed(doc.payloadOff);
        doc.optOff = [int256(-1), int256(-1), int256(-1)];
        for (uint256 i = 0; indef || i < count; i++) {
            if (indef && _isBreak(d, p)) {
                p++;
                break;
            }
            (uint256 ks, uint256 kl) = _string(d, p, 3);
            bytes32 k = hashRange(d, ks, kl);
            uint256 slot = k == K_MODULE_ID
                ? 0
                : k == K_DIGEST
                    ? 1
                    : k == K_TIMESTAMP
                        ? 2
                        : k == K_PCRS
                            ? 3
                            : k == K_CERTIFICATE
                                ? 4
                                : k == K_CABUNDLE
                                    ? 5
                                    : k == K_PUBLIC_KEY ? 6 : k == K_USER_DATA ? 7 : k == K_NONCE ? 8 : 9;
            if (slot == 9 || doc.seen & (1 << slot) != 0) revert INitroAttestationVerifier.NitroBadField(p);
            doc.seen |= 1 << slot;
            p = ks + kl;
            p = _parseValue(d, p, doc, slot);
        }
        if (p != end) revert INitroAttestationVerifier.NitroTrailingBytes();
        if (doc.seen & 0x3f != 0x3f) revert INitroAttestationVerifier.NitroBadField(end);
    }

    function _parseValue(bytes memory d, uint256 p, Doc memory doc, uint256 slot)
        private
        pure
        returns (uint256)
    {
        if (slot == 0) {
            (doc.moduleOff, doc.moduleLen) = _string(d, p, 3);
            if (doc.moduleLen == 0 || doc.moduleLen > MAX_FIELD) {
                revert INitroAttestationVerifier.NitroFieldSize(p);
            }
            p = doc.moduleOff + doc.moduleLen;
        } else if (slot == 1) {
            (uint256 s, uint256 l) = _string(d, p, 3);
            if (l != 6 || bytes6(_word(d, s)) != "SHA384") {
                revert INitroAttestationVerifier.NitroUnsupportedDigest();
            }
            p = s + l;
        } else if (slot == 2) {
            (uint8 tm, uint256 ts, bool ti, uint256 next) = _head(d, p);
            if (tm != 0 || ti) revert INitroAttestationVerifier.NitroMalformed(p);
            doc.timestamp = uint64(ts);
            p = next;
        } else if (slot == 3) {
            p = _parsePcrs(d, p, doc);
        } else if (slot == 4) {
            (doc.certOff, doc.certLen) = _string(d, p, 2);
            if (doc.certLen == 0 || doc.certLen > MAX_FIELD) {
                revert INitroAttestationVerifier.NitroFieldSize(p);
            }
            p = doc.certOff + doc.certLen;
        } else if (slot == 5) {
            p = _parseCabundle(d, p, doc);
        } else {
            p = _parseOptional(d, p, doc, slot - 6);
        }
        return p;
    }

    function _parsePcrs(bytes memory d, uint256 p, Doc memory doc) private pure returns (uint256) {
        (uint8 major, uint256 count, bool indef, uint256 q) = _head(d, p);
        if (major != 5) revert INitroAttestationVerifier.NitroMalformed(p);
        uint256 seen;
        for (uint256 i = 0; indef || i < count; i++) {
            if (indef && _isBreak(d, q)) {
                q++;
                break;
            }
            (q, seen) = _pcrEntry(d, q, doc, seen);
        }
        if (doc.pcrCount == 0) revert INitroAttestationVerifier.NitroFieldSize(p);
        return q;
    }

    /// @dev One `index => bstr(48)` entry of the PCR map; `seen` is the bitmap of indices so far.
    function _pcrEntry(bytes memory d, uint256 q, Doc memory doc, uint256 seen)
        private
        pure
        returns (uint256, uint256)
    {
        (uint8 km, uint256 idx, bool ki, uint256 next) = _head(d, q);
        if (km != 0 || ki) revert INitroAttestationVerifier.NitroMalformed(q);
        if (idx >= 32 || seen & (1 << idx) != 0) revert INitroAttestationVerifier.NitroBadField(q);
        (uint256 s, uint256 l) = _string(d, next, 2);
        if (l != 48) revert INitroAttestationVerifier.NitroFieldSize(next);
        doc.pcrOff[idx] = s;
        doc.pcrCount++;
        if (idx + 1 > doc.pcrMax) doc.pcrMax = idx + 1;
        return (s + l, seen | (1 << idx));
    }

    function _parseCabundle(bytes memory d, uint256 p, Doc memory doc) private pure returns (uint256) {
        (uint8 major, uint256 count, bool indef, uint256 q) = _head(d, p);
        if (major != 4 || (!indef && (count == 0 || count > MAX_CABUNDLE))) {
            revert INitroAttestationVerifier.NitroFieldSize(p);
        }
        uint256[] memory offs = new uint256[](MAX_CABUNDLE);
        uint256[] memory lens = new uint256[](MAX_CABUNDLE);
        uint256 n;
        for (uint256 i = 0; indef || i < count; i++) {
            if (indef && _isBreak(d, q)) {
                q++;
                break;
            }
            if (n == MAX_CABUNDLE) revert INitroAttestationVerifier.NitroFieldSize(p);
            (uint256 s, uint256 l) = _string(d, q, 2);
            if (l == 0 || l > MAX_FIELD) revert INitroAttestationVerifier.NitroFieldSize(q);
            offs[n] = s;
            lens[n] = l;
            n++;
            q = s + l;
        }
        if (n == 0) revert INitroAttestationVerifier.NitroFieldSize(p);
        assembly ("memory-safe") {
            mstore(offs, n)
            mstore(lens, n)
        }
        doc.caOff = offs;
        doc.caLen = lens;
        return q;
    }

    function _parseOptional(bytes memory d, uint256 p, Doc memory doc, uint256 which)
        private
        pure
        returns (uint256)
    {
        if (p >= d.length) revert INitroAttestationVerifier.NitroMalformed(p);
        if (uint8(d[p]) == 0xf6) return p + 1; // null
        (uint256 s, uint256 l) = _string(d, p, 2);
        // public_key is 1..1024 bytes; user_data and nonce 0..1024.
        if (l > MAX_FIELD || (which == 0 && l == 0)) revert INitroAttestationVerifier.NitroFieldSize(p);
        doc.optOff[which] = int256(s);
        doc.optLen[which] = l;
        return s + l;
    }

    function _word(bytes memory b, uint256 off) private pure returns (bytes32 w) {
        assembly ("memory-safe") {
            w := mload(add(add(b, 32), off))
        }
    }

    function _slice(bytes memory d, uint256 off, uint256 len) private pure returns (bytes memory out) {
        out = new bytes(len);
        assembly ("memory-safe") {
            mcopy(add(out, 32), add(add(d, 32), off), len)
        }
    }

    function result(bytes memory d, Doc memory doc)
        internal
        pure
        returns (IAttestationVerifier.Attestation memory r)
    {
        r.moduleId = string(_slice(d, doc.moduleOff, doc.moduleLen));
        r.timestampMs = doc.timestamp;
        r.pcrs = new bytes[](doc.pcrMax);
        for (uint256 i = 0; i < doc.pcrMax; i++) {
            if (doc.pcrOff[i] != 0) r.pcrs[i] = _slice(d, doc.pcrOff[i], 48);
        }
        if (doc.optOff[0] >= 0) r.publicKey = _slice(d, uint256(doc.optOff[0]), doc.optLen[0]);
        if (doc.optOff[1] >= 0) r.userData = _slice(d, uint256(doc.optOff[1]), doc.optLen[1]);
        if (doc.optOff[2] >= 0) r.nonce = _slice(d, uint256(doc.optOff[2]), doc.optLen[2]);
    }
}
