// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {IAttestationVerifier} from "../../src/interfaces/IAttestationVerifier.sol";
import {IPcrRegistry} from "../../src/interfaces/IPcrRegistry.sol";

/// @notice Pure builders of PCRs, image metadata and attestation fields, shared by tests and invariant handlers.
abstract contract Fixtures {
    bytes32 internal constant FAMILY = keccak256("matching-engine");
    bytes32 internal constant DEV_FAMILY = keccak256("matching-engine-dev");

    /// @dev A deterministic, non-zero 48-byte PCR derived from `seed`.
    function pcr(uint256 seed) internal pure returns (bytes memory) {
        bytes32 a = keccak256(abi.encode("pcr", seed));
        bytes32 b = keccak256(abi.encode("pcr-tail", seed));
        return bytes.concat(a, bytes16(b));
    }

    function zeroPcr() internal pure returns (bytes memory) {
        return new bytes(48);
    }

    /// @dev PCR0/1/2 of "version `v`" (PCR1, the kernel, is shared between versions as in real builds).
    function imagePcrs(uint256 v) internal pure returns (IPcrRegistry.ImagePcrs memory) {
        return IPcrRegistry.ImagePcrs({pcr0: pcr(3 * v), pcr1: pcr(1), pcr2: pcr(3 * v + 2), pcr8: ""});
    }

    function metadata(string memory version) internal pure returns (IPcrRegistry.ImageMetadata memory) {
        return IPcrRegistry.ImageMetadata({
            name: "matching-engine",
            version: version,
            sourceRevision: "3f2a9c1d0e5b7a6c4d8e9f0a1b2c3d4e5f6a7b8c",
            eifSha256: keccak256(bytes(version)),
            provenanceUri: "https://example.org/provenance/matching-engine"
        });
    }

    function idOf(IPcrRegistry.ImagePcrs memory p) internal pure returns (bytes32) {
        return keccak256(bytes.concat(p.pcr0, p.pcr1, p.pcr2));
    }

    /// @dev The PCR bank a Nitro enclave of image `p` reports: 16 entries, unused ones zero.
    function pcrBank(IPcrRegistry.ImagePcrs memory p) internal pure returns (bytes[] memory bank) {
        bank = new bytes[](16);
        for (uint256 i; i < 16; ++i) {
            bank[i] = new bytes(48);
        }
        bank[0] = p.pcr0;
        bank[1] = p.pcr1;
        bank[2] = p.pcr2;
        if (p.pcr8.length != 0) bank[8] = p.pcr8;
    }

    function fields(IPcrRegistry.ImagePcrs memory p, bytes memory publicKey, uint64 timestampMs)
        internal
        pure
        returns (IAttestationVerifier.Attestation memory)
    {
        return IAttestationVerifier.Attestation({
            moduleId: "i-0bee92034f3d60691-enc01943c5eaab3ad6a",
            timestampMs: timestampMs,
            pcrs: pcrBank(p),
            publicKey: publicKey,
            userData: "",
            nonce: ""
        });
    }

    function encode(IAttestationVerifier.Attestation memory a) internal pure returns (bytes memory) {
        return abi.encode(a);
    }
}
