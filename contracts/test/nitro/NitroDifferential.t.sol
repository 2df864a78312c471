// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {Test} from "forge-std/Test.sol";
import {INitroAttestationVerifier} from "../../src/nitro/INitroAttestationVerifier.sol";
import {NitroAttestationVerifier} from "../../src/nitro/NitroAttestationVerifier.sol";
import {IP384Verifier} from "../../src/nitro/IP384Verifier.sol";
import {NitroCorpus} from "../fixtures/nitro/NitroCorpus.sol";
import {NitroFixtures, NitroHints} from "./NitroAttestationVerifier.t.sol";

/// Differential test over the off-chain verifier's bad-input corpus: every document gets the same
/// verdict on-chain as off-chain. Policy errors (PCRs, nonce, freshness, debug mode, key format) are
/// the registry's, so at the verifier level those documents must be ACCEPTED; every other entry must be
/// rejected with an error of the same class (malformed / chain / document signature).
abstract contract NitroDifferentialBase is Test {
    uint8 internal constant POLICY = 0;
    uint8 internal constant MALFORMED = 1;
    uint8 internal constant CHAIN = 2;
    uint8 internal constant SIGNATURE = 3;

    IP384Verifier internal p384;

    function setUp() public virtual {
        p384 = IP384Verifier(deployCode("P384Verifier.sol:P384Verifier"));
    }

    function _class(bytes memory reason, uint8 cabundle) internal pure returns (uint8) {
        bytes4 sel = bytes4(reason);
        if (
            sel == INitroAttestationVerifier.NitroMalformed.selector
                || sel == INitroAttestationVerifier.NitroBadField.selector
                || sel == INitroAttestationVerifier.NitroFieldSize.selector
                || sel == INitroAttestationVerifier.NitroUnsupportedDigest.selector
                || sel == INitroAttestationVerifier.NitroTrailingBytes.selector
                || sel == INitroAttestationVerifier.NitroUnsupportedAlgorithm.selector
        ) return MALFORMED;
        if (sel == INitroAttestationVerifier.NitroBadSignature.selector) {
            uint256 index;
            assembly {
                index := mload(add(reason, 36))
            }
            return index == uint256(cabundle) + 1 ? SIGNATURE : CHAIN;
        }
        if (
            sel == INitroAttestationVerifier.NitroUntrustedRoot.selector
                || sel == INitroAttestationVerifier.NitroIssuerMismatch.selector
                || sel == INitroAttestationVerifier.NitroParentMismatch.selector
                || sel == INitroAttestationVerifier.NitroCertificateExpired.selector
                || sel == INitroAttestationVerifier.NitroCertificateNotYetValid.selector
                || sel == INitroAttestationVerifier.NitroBadCertificateRole.selector
                || sel == INitroAttestationVerifier.NitroCertificateRevoked.selector
                || sel == bytes4(keccak256("X509Malformed(uint256)"))
                || sel == bytes4(keccak256("X509UnsupportedAlgorithm()"))
                || sel == bytes4(keccak256("X509BadExtension()"))
        ) return CHAIN;
        return 255; // anything else (a hint error, a panic) is a defect of the test data or the verifier
    }

    /// The on-chain verdict class of one document (POLICY = accepted).
    function _verdict(bytes memory root, bytes memory doc, bytes memory hints, uint64 nowMs, uint8 cabundle)
        internal
        returns (uint8)
    {
        NitroAttestationVerifier v = new NitroAttestationVerifier(root, address(this), p384);
        vm.warp(nowMs / 1000);
        try v.verify(abi.encode(doc, NitroHints.unpack(hints))) {
            return POLICY;
        } catch (bytes memory reason) {
            return _class(reason, cabundle);
        }
    }

    function _checkEntry(NitroCorpus.Entry memory e) internal {
        assertEq(_verdict(e.root, e.doc, e.hints, e.nowMs, e.cabundle), e.class, e.name);
    }
}

/// Truncations and the real documents.
contract NitroDifferential_Test is NitroDifferentialBase {
    function test_EveryTruncationIsMalformed() public {
        NitroFixtures fixtures = new NitroFixtures();
        NitroFixtures.Fixture memory f = fixtures.get(1); // evervault valid: the corpus truncates this one
        uint256[] memory lengths = NitroCorpus.truncations();
        for (uint256 i = 0; i < lengths.length; i++) {
            bytes memory prefix = new bytes(lengths[i]);
            for (uint256 j = 0; j < prefix.length; j++) {
                prefix[j] = f.doc[j];
            }
            assertEq(_verdict("", prefix, f.hints, f.timestampMs, 4), MALFORMED, vm.toString(lengths[i]));
        }
    }

    /// Every real document is accepted (the verdict the off-chain verifier gives them).
    function test_EveryRealDocumentIsAccepted() public {
        NitroFixtures fixtures = new NitroFixtures();
        for (uint256 i = 0; i < fixtures.COUNT(); i++) {
            NitroFixtures.Fixture memory f = fixtures.get(i);
            assertEq(_verdict("", f.doc, f.hints, f.timestampMs, 4), POLICY, vm.toString(i));
        }
    }
}

/// Corpus entries 0..5 (one contract per slice keeps each test contract's code small).
contract NitroDifferentialPart0_Test is NitroDifferentialBase {
    function test_CorpusEntriesGetTheOffChainVerdict() public {
        for (uint256 i = 0; i < 6 && i < NitroCorpus.COUNT; i++) {
            _checkEntry(NitroCorpus.part0(i));
        }
    }
}

/// Corpus entries 6..11 (one contract per slice keeps each test contract's code small).
contract NitroDifferentialPart1_Test is NitroDifferentialBase {
    function test_CorpusEntriesGetTheOffChainVerdict() public {
        for (uint256 i = 6; i < 12 && i < NitroCorpus.COUNT; i++) {
            _checkEntry(NitroCorpus.part1(i));
        }
    }
}

/// Corpus entries 12..17 (one contract per slice keeps each test contract's code small).
contract NitroDifferentialPart2_Test is NitroDifferentialBase {
    function test_CorpusEntriesGetTheOffChainVerdict() public {
        for (uint256 i = 12; i < 18 && i < NitroCorpus.COUNT; i++) {
            _checkEntry(NitroCorpus.part2(i));
        }
    }
}

/// Corpus entries 18..23 (one contract per slice keeps each test contract's code small).
contract NitroDifferentialPart3_Test is NitroDifferentialBase {
    function test_CorpusEntriesGetTheOffChainVerdict() public {
        for (uint256 i = 18; i < 24 && i < NitroCorpus.COUNT; i++) {
            _checkEntry(NitroCorpus.part3(i));
        }
    }
}

/// Corpus entries 24..29 (one contract per slice keeps each test contract's code small).
contract NitroDifferentialPart4_Test is NitroDifferentialBase {
    function test_CorpusEntriesGetTheOffChainVerdict() public {
        for (uint256 i = 24; i < 30 && i < NitroCorpus.COUNT; i++) {
            _checkEntry(NitroCorpus.part4(i));
        }
    }
}
