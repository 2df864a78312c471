// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {Test} from "forge-std/Test.sol";
import {IAttestationVerifier} from "../../src/interfaces/IAttestationVerifier.sol";
import {INitroAttestationVerifier} from "../../src/nitro/INitroAttestationVerifier.sol";
import {NitroAttestationVerifier} from "../../src/nitro/NitroAttestationVerifier.sol";
import {NitroDocuments as D} from "../fixtures/nitro/NitroDocuments.sol";

/// Shared fixture: a verifier, the real documents and their hints.
abstract contract NitroBase_Test is Test {
    /// The EIP-7825 per-transaction gas cap (Osaka).
    uint256 internal constant TX_GAS_CAP = 16_777_216;

    NitroAttestationVerifier internal verifier;
    address internal admin = makeAddr("admin");
    address internal revoker = makeAddr("revoker");

    function setUp() public virtual {
        verifier = new NitroAttestationVerifier(admin);
        bytes32 role = verifier.REVOKER_ROLE();
        vm.prank(admin);
        verifier.grantRole(role, revoker);
    }

    function _hints(bytes memory packed) internal pure returns (uint256[] memory h) {
        h = new uint256[](packed.length / 32);
        for (uint256 i = 0; i < h.length; i++) {
            uint256 w;
            assembly {
                w := mload(add(packed, add(32, mul(i, 32))))
            }
            h[i] = w;
        }
    }

    function _input(bytes memory doc, bytes memory hints) internal pure returns (bytes memory) {
        return abi.encode(doc, _hints(hints));
    }

    function _atDocumentTime(uint64 ms) internal {
        vm.warp(ms / 1000);
    }
}

contract NitroAttestationVerifier_Test is NitroBase_Test {
    function _checkDocument(
        bytes memory doc,
        bytes memory hints,
        uint64 ts,
        bytes memory pcrs,
        bytes memory pk,
        bytes memory ud,
        bytes memory nonce,
        string memory moduleId
    ) internal {
        _atDocumentTime(ts);
        IAttestationVerifier.Attestation memory a = verifier.verify(_input(doc, hints));
        assertEq(a.timestampMs, ts, "timestamp");
        assertEq(a.moduleId, moduleId, "module id");
        assertEq(a.pcrs.length, 16, "pcr count");
        for (uint256 i = 0; i < 16; i++) {
            bytes memory want = new bytes(48);
            for (uint256 j = 0; j < 48; j++) {
                want[j] = pcrs[i * 48 + j];
            }
            assertEq(a.pcrs[i], want, "pcr");
        }
        assertEq(a.publicKey, pk, "public_key");
        assertEq(a.userData, ud, "user_data");
        assertEq(a.nonce, nonce, "nonce");
    }

    function test_VerifiesEvervaultDebug() public {
        _checkDocument(
            D.EVERVAULT_DEBUG,
            D.EVERVAULT_DEBUG_HINTS,
            D.EVERVAULT_DEBUG_TIMESTAMP_MS,
            D.EVERVAULT_DEBUG_PCRS,
            D.EVERVAULT_DEBUG_PUBLIC_KEY,
            D.EVERVAULT_DEBUG_USER_DATA,
            D.EVERVAULT_DEBUG_NONCE,
            D.EVERVAULT_DEBUG_MODULE_ID
        );
    }

    function test_VerifiesEvervaultValid() public {
        _checkDocument(
            D.EVERVAULT_VALID,
            D.EVERVAULT_VALID_HINTS,
            D.EVERVAULT_VALID_TIMESTAMP_MS,
            D.EVERVAULT_VALID_PCRS,
            D.EVERVAULT_VALID_PUBLIC_KEY,
            D.EVERVAULT_VALID_USER_DATA,
            D.EVERVAULT_VALID_NONCE,
            D.EVERVAULT_VALID_MODULE_ID
        );
    }

    function test_VerifiesBlocky() public {
        _checkDocument(
            D.BLOCKY,
            D.BLOCKY_HINTS,
            D.BLOCKY_TIMESTAMP_MS,
            D.BLOCKY_PCRS,
            D.BLOCKY_PUBLIC_KEY,
            D.BLOCKY_USER_DATA,
            D.BLOCKY_NONCE,
            D.BLOCKY_MODULE_ID
        );
    }

    function test_VerifiesBase2026IndefiniteMap() public {
        _checkDocument(
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
