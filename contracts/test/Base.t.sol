// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {Test} from "forge-std/Test.sol";
import {Vm} from "forge-std/Vm.sol";

import {EnclaveRegistry} from "../src/EnclaveRegistry.sol";
import {IAttestationVerifier} from "../src/interfaces/IAttestationVerifier.sol";
import {IPcrRegistry} from "../src/interfaces/IPcrRegistry.sol";
import {EnclaveAuthHarness} from "./mocks/EnclaveAuthHarness.sol";
import {TestOnlyAttestationVerifier} from "./mocks/TestOnlyAttestationVerifier.sol";
import {Fixtures} from "./utils/Fixtures.sol";

/// @notice Shared fixture: a deployed registry with roles handed out, a production-like family and a dev family,
/// the test-only verifier, a gate consumer, and helpers that build PCRs, keys and attestations.
abstract contract Base_Test is Test, Fixtures {
    uint32 internal constant MAX_AGE = 300;
    uint32 internal constant KEY_TTL = 7 days;
    uint48 internal constant ADMIN_DELAY = 2 days;
    /// @dev 2026-05-01T00:00:00Z, in seconds.
    uint256 internal constant START = 1_777_593_600;

    address internal admin = makeAddr("admin");
    address internal registrar = makeAddr("registrar");
    address internal revoker = makeAddr("revoker");
    address internal module = makeAddr("module");
    address internal stranger = makeAddr("stranger");

    EnclaveRegistry internal registry;
    TestOnlyAttestationVerifier internal verifier;
    EnclaveAuthHarness internal gate;

    /// @dev An enclave: its signing wallet and the 65-byte public key it would put in `public_key`.
    struct Enclave {
        uint256 privateKey;
        address addr;
        bytes publicKey;
    }

    function setUp() public virtual {
        vm.warp(START);
        registry = new EnclaveRegistry(admin, ADMIN_DELAY);
        verifier = new TestOnlyAttestationVerifier();
        gate = new EnclaveAuthHarness(registry);

        vm.startPrank(admin);
        registry.grantRole(registry.REGISTRAR_ROLE(), registrar);
        registry.grantRole(registry.REVOKER_ROLE(), revoker);
        registry.grantRole(registry.REGISTRAR_MODULE_ROLE(), module);
        registry.configureFamily(FAMILY, verifier, MAX_AGE, KEY_TTL);
        registry.configureFamily(DEV_FAMILY, verifier, MAX_AGE, KEY_TTL);
        vm.stopPrank();

        vm.label(address(registry), "EnclaveRegistry");
        vm.label(address(verifier), "TestOnlyAttestationVerifier");
        vm.label(address(gate), "EnclaveAuthHarness");
    }

    /// @dev Registers image version `v` in `family` as the registrar.
    function registerImage(bytes32 family, uint256 v) internal returns (bytes32) {
        vm.prank(registrar);
        return registry.registerImage(family, imagePcrs(v), metadata("1.0.0"));
    }

    // ---- Images and keys ----

    function enclave(string memory name) internal returns (Enclave memory e) {
        Vm.Wallet memory w = vm.createWallet(name);
        e.privateKey = w.privateKey;
        e.addr = w.addr;
        e.publicKey = abi.encodePacked(bytes1(0x04), bytes32(w.publicKeyX), bytes32(w.publicKeyY));
    }

    /// @dev Now, in milliseconds, as the NSM would report it.
    function nowMs() internal view returns (uint64) {
        return uint64(block.timestamp * 1000);
    }

    /// @dev Registers `e` as a key of image version `v` in `family` through the direct path.
    function registerKey(bytes32 family, uint256 v, Enclave memory e) internal returns (address) {
        return registry.registerEnclaveKey(family, encode(fields(imagePcrs(v), e.publicKey, nowMs())), 0, 0);
    }

    // ---- Signatures ----

    function sign(Enclave memory e, bytes32 jobId, bytes32 output) internal view returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(e.privateKey, gate.digestOf(jobId, output));
        return abi.encodePacked(r, s, v);
    }
}
