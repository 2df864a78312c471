// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {Test} from "forge-std/Test.sol";
import {IAttestationVerifier} from "../../src/interfaces/IAttestationVerifier.sol";
import {INitroAttestationVerifier} from "../../src/nitro/INitroAttestationVerifier.sol";
import {NitroAttestationVerifier} from "../../src/nitro/NitroAttestationVerifier.sol";
import {IP384Verifier} from "../../src/nitro/IP384Verifier.sol";
import {NitroDocuments as D} from "../fixtures/nitro/NitroDocuments.sol";

/// Hints as the fixtures store them (packed 32-byte words) to the verifier's `uint256[]`.
library NitroHints {
    function unpack(bytes memory packed) internal pure returns (uint256[] memory h) {
        h = new uint256[](packed.length / 32);
        for (uint256 i = 0; i < h.length; i++) {
            uint256 w;
            assembly {
                w := mload(add(packed, add(32, mul(i, 32))))
            }
            h[i] = w;
        }
    }

    /// The 6 hint words of signature `j` (chain order: cabundle[1..], leaf, document).
    function signature(uint256[] memory hints, uint256 j) internal pure returns (uint256[6] memory h) {
        for (uint256 i = 0; i < 6; i++) {
            h[i] = hints[6 * j + i];
        }
    }
}

/// The real documents behind one external getter, so their bytes live in one contract's code only.
contract NitroFixtures {
    struct Fixture {
        bytes doc;
        bytes hints;
        uint64 timestampMs;
        bytes pcrs;
        bytes publicKey;
        bytes userData;
        bytes nonce;
        string moduleId;
    }

    uint256 public constant COUNT = 4;
    uint256 public constant EVERVAULT_DEBUG = 0;
    uint256 public constant EVERVAULT_VALID = 1;
    uint256 public constant BLOCKY = 2;
    uint256 public constant BASE_2026 = 3;

    function get(uint256 i) external pure returns (Fixture memory f) {
        if (i == EVERVAULT_DEBUG) {
            f = Fixture(
                D.EVERVAULT_DEBUG,
                D.EVERVAULT_DEBUG_HINTS,
                D.EVERVAULT_DEBUG_TIMESTAMP_MS,
                D.EVERVAULT_DEBUG_PCRS,
                D.EVERVAULT_DEBUG_PUBLIC_KEY,
                D.EVERVAULT_DEBUG_USER_DATA,
                D.EVERVAULT_DEBUG_NONCE,
                D.EVERVAULT_DEBUG_MODULE_ID
            );
        } else if (i == EVERVAULT_VALID) {
            f = Fixture(
                D.EVERVAULT_VALID,
                D.EVERVAULT_VALID_HINTS,
                D.EVERVAULT_VALID_TIMESTAMP_MS,
                D.EVERVAULT_VALID_PCRS,
                D.EVERVAULT_VALID_PUBLIC_KEY,
                D.EVERVAULT_VALID_USER_DATA,
                D.EVERVAULT_VALID_NONCE,
                D.EVERVAULT_VALID_MODULE_ID
            );
        } else if (i == BLOCKY) {
            f = Fixture(
                D.BLOCKY,
                D.BLOCKY_HINTS,
                D.BLOCKY_TIMESTAMP_MS,
                D.BLOCKY_PCRS,
                D.BLOCKY_PUBLIC_KEY,
                D.BLOCKY_USER_DATA,
                D.BLOCKY_NONCE,
                D.BLOCKY_MODULE_ID
            );
        } else {
            f = Fixture(
                D.BASE_2026,
                D.BASE_2026_HINTS,
                D.BASE_2026_TIMESTAMP_MS,
                D.BASE_2026_PCRS,
                D.BASE_2026_PUBLIC_KEY,
                D.BASE_2026_USER_DATA,
                D.BASE_2026_NONCE,
                D.BASE_2026_MODULE_ID
            );
        }
    }
}

/// Shared fixture: a verifier, the real documents and their hints.
abstract contract NitroBase_Test is Test {
    /// The EIP-7825 per-transaction gas cap (Osaka).
    uint256 internal constant TX_GAS_CAP = 16_777_216;

    NitroAttestationVerifier internal verifier;
    NitroFixtures internal fixtures;
    address internal admin = makeAddr("admin");
    address internal revoker = makeAddr("revoker");

    /// A `P384Verifier` deployed from its (IR-pipeline) artifact.
    function p384Verifier() internal returns (IP384Verifier) {
        return IP384Verifier(deployCode("P384Verifier.sol:P384Verifier"));
    }

    function setUp() public virtual {
        verifier = new NitroAttestationVerifier("", admin, p384Verifier());
        fixtures = new NitroFixtures();
        bytes32 role = verifier.REVOKER_ROLE();
        vm.prank(admin);
        verifier.grantRole(role, revoker);
    }

    function _hints(bytes memory packed) internal pure returns (uint256[] memory) {
        return NitroHints.unpack(packed);
    }

    function _input(bytes memory doc, bytes memory hints) internal pure returns (bytes memory) {
        return abi.encode(doc, _hints(hints));
    }

    function _atDocumentTime(uint64 ms) internal {
        vm.warp(ms / 1000);
    }
}

contract NitroAttestationVerifier_Test is NitroBase_Test {
    /// Every real document verifies at its own timestamp with the fields the off-chain parser reads.
    function _checkDocument(uint256 i) internal {
        NitroFixtures.Fixture memory f = fixtures.get(i);
        _atDocumentTime(f.timestampMs);
        IAttestationVerifier.Attestation memory a = verifier.verify(_input(f.doc, f.hints));
        assertEq(a.timestampMs, f.timestampMs, "timestamp");
        assertEq(a.moduleId, f.moduleId, "module id");
        assertEq(a.pcrs.length, 16, "pcr count");
        for (uint256 j = 0; j < 16; j++) {
            assertEq(keccak256(a.pcrs[j]), keccak256(_slice(f.pcrs, j * 48, 48)), "pcr");
        }
        assertEq(a.publicKey, f.publicKey, "public_key");
        assertEq(a.userData, f.userData, "user_data");
        assertEq(a.nonce, f.nonce, "nonce");
    }

    function _slice(bytes memory b, uint256 off, uint256 len) internal pure returns (bytes memory out) {
        out = new bytes(len);
        for (uint256 j = 0; j < len; j++) {
            out[j] = b[off + j];
        }
    }

    /// EIP-170: the runtime code must stay deployable (24,576 bytes).
    function test_bytecodeSize() public {
        uint256 size = address(verifier).code.length;
        vm.snapshotValue("NitroAttestationVerifier_runtime_bytes", size);
        assertLt(size, 24_576);
    }

    function test_RevertWhen_P384VerifierHasNoCode() public {
        vm.expectRevert(INitroAttestationVerifier.NitroNoP384Verifier.selector);
        new NitroAttestationVerifier("", admin, IP384Verifier(makeAddr("no code")));
    }

    function test_PinsTheAwsRoot() public view {
        assertEq(verifier.rootDerHash(), verifier.AWS_ROOT_DER_HASH());
        assertFalse(verifier.isTestOnly());
    }

    function test_RevertWhen_AnyCertificateIsRevoked() public {
        NitroFixtures.Fixture memory f = fixtures.get(1);
        _atDocumentTime(f.timestampMs);
        verifier.verify(_input(f.doc, f.hints)); // caches the chain
        // Revoke the zonal CA (cabundle[2]) by (issuer, serial): the cached entry no longer verifies.
        (bytes32 issuer, bytes32 serial) = _identity(f.doc, 2);
        vm.prank(revoker);
        verifier.setRevoked(issuer, serial, true);
        assertTrue(verifier.isRevoked(issuer, serial));
        vm.expectRevert(abi.encodeWithSignature("NitroCertificateRevoked(uint256)", 2));
        verifier.verify(_input(f.doc, f.hints));
        // Reinstating needs the admin.
        vm.prank(revoker);
        vm.expectRevert();
        verifier.setRevoked(issuer, serial, false);
        vm.prank(admin);
        verifier.setRevoked(issuer, serial, false);
        verifier.verify(_input(f.doc, f.hints));
    }

    /// Validity is re-checked on every use of a cached certificate.
    function test_RevertWhen_CachedLeafHasExpired() public {
        NitroFixtures.Fixture memory f = fixtures.get(3);
        _atDocumentTime(f.timestampMs);
        verifier.verify(_input(f.doc, f.hints));
        vm.warp(block.timestamp + 4 hours); // the leaf lives ~3 h
        vm.expectRevert(abi.encodeWithSignature("NitroCertificateExpired(uint256)", 4));
        verifier.verify(_input(f.doc, f.hints));
    }

    /// A certificate is only cached under the parent that signed it.
    function test_RevertWhen_CachingUnderTheWrongParent() public {
        NitroFixtures.Fixture memory f = fixtures.get(3);
        _atDocumentTime(f.timestampMs);
        uint256[] memory h = _hints(f.hints);
        // The leaf (issued by the instance CA) cannot be cached under the root.
        bytes32 root = verifier.rootKey();
        bytes memory leaf = _leafOf(f.doc);
        vm.expectRevert(abi.encodeWithSignature("NitroIssuerMismatch(uint256)", 1));
        verifier.cacheCertificate(leaf, root, NitroHints.signature(h, 3));
        // Once cached under its issuer (write-once), it is not rebound to another parent either.
        verifier.verify(_input(f.doc, f.hints));
        vm.expectRevert(abi.encodeWithSignature("NitroParentMismatch(uint256)", 1));
        verifier.cacheCertificate(leaf, root, NitroHints.signature(h, 3));
    }

    function _leafOf(bytes memory doc) internal pure returns (bytes memory leaf) {
        uint256 p;
        for (p = 0; p + 12 < doc.length; p++) {
            if (doc[p] == 0x6b && doc[p + 1] == 0x63 && doc[p + 2] == 0x65 && doc[p + 11] == 0x65) break;
        }
        p += 12;
        uint256 len = (uint256(uint8(doc[p + 1])) << 8) | uint8(doc[p + 2]);
        leaf = new bytes(len);
        for (uint256 j = 0; j < len; j++) {
            leaf[j] = doc[p + 3 + j];
        }
    }

    /// A CBOR length far beyond the input is a named error, not an arithmetic panic.
    function test_RevertWhen_LengthOverflows() public {
        bytes memory bad = hex"8444a1013822a05bffffffffffffffff00";
        vm.expectRevert(abi.encodeWithSignature("NitroMalformed(uint256)", 7));
        verifier.verify(abi.encode(bad, new uint256[](0)));
    }

    function test_RevertWhen_NonRevokerRevokes() public {
        vm.expectRevert();
        verifier.setRevoked(bytes32(0), bytes32(0), true);
    }

    /// keccak256 of the issuer Name DER and of the serial INTEGER contents of cabundle[i] (definite
    /// 4-entry cabundle with 2-byte lengths, as in the real documents).
    function _identity(bytes memory doc, uint256 which)
        internal
        pure
        returns (bytes32 issuer, bytes32 serial)
    {
        uint256 p;
        for (p = 0; p + 9 < doc.length; p++) {
            if (doc[p] == 0x68 && doc[p + 1] == 0x63 && doc[p + 2] == 0x61 && doc[p + 8] == 0x65) break;
        }
        p += 10; // past the key and the array head 0x84
        for (uint256 i = 0; i < which; i++) {
            p += 3 + ((uint256(uint8(doc[p + 1])) << 8) | uint8(doc[p + 2]));
        }
        p += 3; // bstr head: now at the certificate SEQUENCE
        p += 8; // 30 82 LL LL 30 82 LL LL: now at version [0]
        p += 5; // a0 03 02 01 02
        uint256 sl = uint8(doc[p + 1]);
        serial = _hash(doc, p + 2, sl);
        p += 2 + sl;
        p += 2 + uint8(doc[p + 1]); // signature AlgorithmIdentifier
        uint256 il = uint8(doc[p + 1]);
        require(il < 0x80, "short-form issuer length");
        issuer = _hash(doc, p, 2 + il);
    }

    function _hash(bytes memory b, uint256 off, uint256 len) internal pure returns (bytes32 h) {
        assembly {
            h := keccak256(add(add(b, 32), off), len)
        }
    }

    function test_VerifiesEvervaultDebug() public {
        _checkDocument(0);
    }

    function test_VerifiesEvervaultValid() public {
        _checkDocument(1);
    }

    function test_VerifiesBlocky() public {
        _checkDocument(2);
    }

    function test_VerifiesBase2026IndefiniteMap() public {
        _checkDocument(3);
    }
}
