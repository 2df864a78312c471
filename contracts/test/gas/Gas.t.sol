// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {EnclaveRegistry} from "../../src/EnclaveRegistry.sol";
import {IAttestationVerifier} from "../../src/interfaces/IAttestationVerifier.sol";
import {Base_Test} from "../Base.t.sol";

/// @notice Gas figures committed under `snapshots/` (`vm.snapshotGasLastCall`); `ci/contracts-test` fails when
/// they change. Each test starts a fresh transaction, so the first call of a test pays cold account and storage
/// access (EIP-2929) as it would on chain; `_warm` variants repeat the call inside the same transaction.
contract Gas_Test is Base_Test {
    bytes32 internal constant JOB = keccak256("job-1");
    bytes32 internal constant OUT = keccak256("proof-bytes");

    bytes32 internal imageId;
    Enclave internal e;
    bytes internal sig;
    bytes internal attestation;

    function setUp() public override {
        super.setUp();
        imageId = registerImage(FAMILY, 1);
        e = enclave("e");
        registerKey(FAMILY, 1, e);
        sig = sign(e, JOB, OUT);
        attestation = encode(fields(imagePcrs(1), enclave("fresh").publicKey, nowMs()));
    }

    function test_Gas_RegisterImage() external {
        vm.prank(registrar);
        registry.registerImage(FAMILY, imagePcrs(2), metadata("1.0.0"));
        vm.snapshotGasLastCall("EnclaveRegistry", "registerImage");
    }

    function test_Gas_RevokeImage() external {
        vm.prank(revoker);
        registry.revokeImage(imageId, "CVE-2026-0001");
        vm.snapshotGasLastCall("EnclaveRegistry", "revokeImage");
    }

    /// @dev Registry side only: the test verifier just decodes; a real verifier adds its own cost.
    function test_Gas_RegisterEnclaveKey() external {
        registry.registerEnclaveKey(FAMILY, attestation, 0, 0);
        vm.snapshotGasLastCall("EnclaveRegistry", "registerEnclaveKey (test verifier)");
    }

    function test_Gas_RevokeEnclaveKey() external {
        vm.prank(revoker);
        registry.revokeEnclaveKey(FAMILY, e.addr, "leaked");
        vm.snapshotGasLastCall("EnclaveRegistry", "revokeEnclaveKey");
    }

    function test_Gas_IsLiveKey() external {
        assertTrue(registry.isLiveKey(e.addr, FAMILY));
        vm.snapshotGasLastCall("EnclaveRegistry", "isLiveKey (cold)");
        assertTrue(registry.isLiveKey(e.addr, FAMILY));
        vm.snapshotGasLastCall("EnclaveRegistry", "isLiveKey (warm)");
    }

    /// @dev The whole gate: EIP-712 digest, ecrecover with the high-s check, the registry call.
    function test_Gas_GateCheck() external {
        assertEq(gate.check(FAMILY, JOB, OUT, sig), e.addr);
        vm.snapshotGasLastCall("EnclaveAuth", "check (cold registry)");
        assertEq(gate.check(FAMILY, JOB, OUT, sig), e.addr);
        vm.snapshotGasLastCall("EnclaveAuth", "check (warm registry)");
    }

    /// @dev The gate with the replay guard (one more cold storage write).
    function test_Gas_GateAcceptOnce() external {
        gate.accept(FAMILY, JOB, OUT, sig);
        vm.snapshotGasLastCall("EnclaveAuth", "accept with replay guard (cold)");
    }

    /// @dev Bytecode size (EIP-170 limit 24,576) and initcode hash: any change to the deployed code shows up
    /// as a snapshot diff.
    function test_BytecodeSizeAndInitcodeHash() external {
        vm.snapshotValue("Bytecode", "EnclaveRegistry runtime size", address(registry).code.length);
        vm.snapshotValue(
            "Bytecode",
            "EnclaveRegistry initcode hash",
            uint256(keccak256(type(EnclaveRegistry).creationCode))
        );
        assertLt(address(registry).code.length, 24_576);
    }

    /// @dev Keeps an unused import honest: the struct the verifier returns is part of the measured path.
    function test_Gas_AttestationFieldsDecode() external view {
        IAttestationVerifier.Attestation memory a = verifier.verify(attestation);
        assertEq(a.pcrs.length, 16);
    }
}
