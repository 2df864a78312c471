// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {NitroBase_Test} from "./NitroAttestationVerifier.t.sol";
import {NitroFixtures, NitroHints} from "./NitroAttestationVerifier.t.sol";
import {NitroOptimisticVerifier} from "../../src/nitro/NitroOptimisticVerifier.sol";

/// Gas of a full verification of the 2026-01-03 document (the one base/nitro-validator publishes
/// receipts for). Figures are per transaction: execution gas measured around the external call plus the
/// intrinsic cost (21,000 + 16 per non-zero and 4 per zero calldata byte). Run under Osaka rules
/// (`FOUNDRY_EVM_VERSION=osaka`, EIP-7883 MODEXP pricing) by `ci/bench.d/nitro-verify`.
contract NitroGas_Test is NitroBase_Test {
    bytes internal base2026;
    uint256[] internal base2026Hints;

    function setUp() public override {
        super.setUp();
        NitroFixtures.Fixture memory f = fixtures.get(3); // BASE_2026
        base2026 = f.doc;
        base2026Hints = _hints(f.hints);
        _atDocumentTime(f.timestampMs);
    }

    function _intrinsic(bytes memory data) internal pure returns (uint256 g) {
        g = 21_000;
        for (uint256 i = 0; i < data.length; i++) {
            g += data[i] == 0 ? 4 : 16;
        }
    }

    /// Gas since `before`. Its own statement: in `before - gasleft() + f()`, solc evaluates `f()` first,
    /// so the cost of computing the intrinsic gas would be counted as the call's.
    function _used(uint256 before) internal view returns (uint256) {
        return before - gasleft();
    }

    /// Each measured call is its own transaction on chain: the accounts it touches and their storage
    /// start cold (a test runs as one transaction, so earlier calls would have warmed them).
    function _coldStart() internal {
        vm.cool(address(verifier));
        vm.cool(address(verifier.p384()));
    }

    /// Caches cabundle[1..3] in one transaction each; returns the gas of each.
    function _cacheCas(bytes memory doc, uint256[] memory hints) internal returns (uint256[3] memory g) {
        bytes[] memory cas = _cabundle(doc);
        bytes32 parent = verifier.rootKey();
        for (uint256 i = 1; i < 4; i++) {
            uint256[6] memory h = NitroHints.signature(hints, i - 1);
            uint256 intrinsic = _intrinsic(abi.encodeCall(verifier.cacheCertificate, (cas[i], parent, h)));
            _coldStart();
            uint256 before = gasleft();
            parent = verifier.cacheCertificate(cas[i], parent, h);
            g[i - 1] = _used(before) + intrinsic;
            assertLt(g[i - 1], TX_GAS_CAP, "tx over the EIP-7825 cap");
        }
    }

    /// The cabundle entries of a document, parsed with the same offsets the fixture generator uses.
    function _cabundle(bytes memory doc) internal pure returns (bytes[] memory cas) {
        // Locate "cabundle" (68 63 61 62 75 6e 64 6c 65) and read the definite array of 4 bstrs after it.
        uint256 p;
        for (p = 0; p + 9 < doc.length; p++) {
            if (
                doc[p] == 0x68 && doc[p + 1] == 0x63 && doc[p + 2] == 0x61 && doc[p + 3] == 0x62
                    && doc[p + 8] == 0x65
            ) break;
        }
        p += 9;
        require(doc[p] == 0x84, "cabundle");
        p++;
        cas = new bytes[](4);
        for (uint256 i = 0; i < 4; i++) {
            require(doc[p] == 0x59, "bstr");
            uint256 len = (uint256(uint8(doc[p + 1])) << 8) | uint8(doc[p + 2]);
            p += 3;
            cas[i] = new bytes(len);
            for (uint256 j = 0; j < len; j++) {
                cas[i][j] = doc[p + j];
            }
            p += len;
        }
    }

    function _verifyGas(bytes memory doc, uint256[] memory hints) internal returns (uint256 g) {
        bytes memory input = abi.encode(doc, hints);
        uint256 intrinsic = _intrinsic(abi.encodeCall(verifier.verify, (input)));
        _coldStart();
        uint256 before = gasleft();
        verifier.verify(input);
        g = _used(before) + intrinsic;
        assertLt(g, TX_GAS_CAP, "tx over the EIP-7825 cap");
    }

    /// The leaf in its own transaction (`cacheCertificate` under the cached instance CA).
    function _cacheLeaf(bytes memory doc, uint256[] memory hints) internal returns (uint256 g) {
        bytes[] memory cas = _cabundle(doc);
        bytes memory leaf = _leaf(doc);
        bytes32 parent = keccak256(_tbs(cas[3]));
        uint256[6] memory h = NitroHints.signature(hints, 3);
        uint256 intrinsic = _intrinsic(abi.encodeCall(verifier.cacheCertificate, (leaf, parent, h)));
        _coldStart();
        uint256 before = gasleft();
        verifier.cacheCertificate(leaf, parent, h);
        g = _used(before) + intrinsic;
        assertLt(g, TX_GAS_CAP, "tx over the EIP-7825 cap");
    }

    function _tbs(bytes memory der) internal pure returns (bytes memory t) {
        // SEQUENCE (82 len len) { TBS SEQUENCE (82 len len) ... }
        uint256 len = ((uint256(uint8(der[6])) << 8) | uint8(der[7])) + 4;
        t = new bytes(len);
        for (uint256 i = 0; i < len; i++) {
            t[i] = der[4 + i];
        }
    }

    function _leaf(bytes memory doc) internal pure returns (bytes memory leaf) {
        uint256 p;
        for (p = 0; p + 12 < doc.length; p++) {
            if (doc[p] == 0x6b && doc[p + 1] == 0x63 && doc[p + 2] == 0x65 && doc[p + 11] == 0x65) break;
        }
        p += 12;
        require(doc[p] == 0x59, "certificate");
        uint256 len = (uint256(uint8(doc[p + 1])) << 8) | uint8(doc[p + 2]);
        leaf = new bytes(len);
        for (uint256 j = 0; j < len; j++) {
            leaf[j] = doc[p + 3 + j];
        }
    }

    /// The cache is write-once: caching a certificate already cached under the same parent returns its key
    /// without verifying or storing it again (no event); under another parent it is refused.
    function test_gas_cacheCertificate_again() public {
        uint256[3] memory first = _cacheCas(base2026, base2026Hints);
        bytes[] memory cas = _cabundle(base2026);
        bytes32 root = verifier.rootKey();
        uint256[6] memory h = NitroHints.signature(base2026Hints, 0);
        uint256 intrinsic = _intrinsic(abi.encodeCall(verifier.cacheCertificate, (cas[1], root, h)));
        _coldStart();
        vm.recordLogs();
        uint256 before = gasleft();
        bytes32 key = verifier.cacheCertificate(cas[1], root, h);
        uint256 again = _used(before) + intrinsic;
        assertEq(vm.getRecordedLogs().length, 0, "re-cached: an event was emitted");
        assertEq(key, keccak256(_tbs(cas[1])));
        emit log_named_uint("cacheCertificate of a cached certificate (tx gas)", again);
        vm.snapshotValue("cache_certificate_again", again);
        assertLt(again, first[0] / 10, "a cached certificate was verified again");
        // Under another cached CA (here cabundle[2]'s entry) it is refused, not rebound.
        bytes32 zonal = keccak256(_tbs(cas[2]));
        vm.expectRevert(abi.encodeWithSignature("NitroParentMismatch(uint256)", 1));
        verifier.cacheCertificate(cas[1], zonal, h);
    }

    /// Cold: empty cache; the three CAs, the leaf and the document, one transaction each.
    function test_gas_verify_cold() public {
        uint256[3] memory ca = _cacheCas(base2026, base2026Hints);
        uint256 leaf = _cacheLeaf(base2026, base2026Hints);
        uint256 last = _verifyGas(base2026, base2026Hints);
        uint256 total = ca[0] + ca[1] + ca[2] + leaf + last;
        emit log_named_uint("cold tx1 (regional CA)", ca[0]);
        emit log_named_uint("cold tx2 (zonal CA)", ca[1]);
        emit log_named_uint("cold tx3 (instance CA)", ca[2]);
        emit log_named_uint("cold tx4 (leaf)", leaf);
        emit log_named_uint("cold tx5 (document)", last);
        emit log_named_uint("cold total", total);
        vm.snapshotValue("verify_cold_total", total);
        assertLe(total, 25_000_000, "cold verification over its 25 M target");
        // The optimistic verifier sizes its challenger bond on this figure.
        uint256 defence = new NitroOptimisticVerifier(verifier, 0, 1 ether, 1 gwei).DEFENCE_GAS();
        assertLe(total, defence, "a defence costs more than DEFENCE_GAS");
    }

    /// Warm: CA certificates cached; a new leaf (one transaction) and the document (one transaction).
    function test_gas_verify_warm() public {
        _cacheCas(base2026, base2026Hints);
        uint256 leaf = _cacheLeaf(base2026, base2026Hints);
        uint256 doc = _verifyGas(base2026, base2026Hints);
        emit log_named_uint("warm tx1 (leaf)", leaf);
        emit log_named_uint("warm tx2 (document)", doc);
        emit log_named_uint("warm total", leaf + doc);
        vm.snapshotValue("verify_warm_total", leaf + doc);
        vm.snapshotValue("verify_document_only", doc);
        assertLe(leaf + doc, 8_000_000, "warm verification over its 8 M target");
    }
}
