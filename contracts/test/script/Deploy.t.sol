// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {Test} from "forge-std/Test.sol";

import {EnclaveRegistry} from "../../src/EnclaveRegistry.sol";
import {Deploy} from "../../script/Deploy.s.sol";
import {ReportingVerifier} from "../mocks/ReportingVerifier.sol";
import {TestOnlyAttestationVerifier} from "../mocks/TestOnlyAttestationVerifier.sol";

/// @notice The deploy script's configuration and verifier vetting. The scenarios share process environment
/// variables, so they run in sequence inside one test.
contract Deploy_Test is Test {
    string[9] internal VARS = [
        "ADMIN",
        "ADMIN_DELAY",
        "REGISTRAR",
        "REVOKER",
        "FAMILIES",
        "VERIFIERS",
        "MAX_ATTESTATION_AGE",
        "KEY_TTL",
        "ALLOW_DEV_VERIFIERS"
    ];

    function clearEnv() internal {
        for (uint256 i; i < VARS.length; ++i) {
            vm.setEnv(VARS[i], "");
        }
    }

    function expectRunReverts(bytes memory err) internal {
        Deploy script = new Deploy();
        vm.expectRevert(err);
        script.run();
    }

    function test_Deploy() external {
        address timelock = makeAddr("timelock");
        address registrar = makeAddr("registrar");
        address revoker = makeAddr("revoker");
        address testDouble = address(new TestOnlyAttestationVerifier());
        address devVerifier = address(new ReportingVerifier(true));
        address prodVerifier = address(new ReportingVerifier(false));
        Deploy script = new Deploy();
        string memory families = "matching-engine,matching-engine-dev";
        string memory bothOk = string.concat(vm.toString(prodVerifier), ",", vm.toString(devVerifier));

        // The proves-nothing test double is refused for every family, dev included, even with the dev flag.
        clearEnv();
        vm.setEnv("FAMILIES", families);
        vm.setEnv("ALLOW_DEV_VERIFIERS", "true");
        vm.setEnv("VERIFIERS", string.concat(vm.toString(prodVerifier), ",", vm.toString(testDouble)));
        expectRunReverts(
            abi.encodeWithSelector(Deploy.DeployTestOnlyVerifier.selector, testDouble, "matching-engine-dev")
        );
        vm.setEnv("VERIFIERS", string.concat(vm.toString(testDouble), ",", vm.toString(devVerifier)));
        expectRunReverts(
            abi.encodeWithSelector(Deploy.DeployTestOnlyVerifier.selector, testDouble, "matching-engine")
        );

        // A dev (test-only) verifier: never for a production family; for a -dev family only with the flag.
        vm.setEnv("VERIFIERS", string.concat(vm.toString(devVerifier), ",", vm.toString(devVerifier)));
        expectRunReverts(
            abi.encodeWithSelector(Deploy.DeployTestOnlyVerifier.selector, devVerifier, "matching-engine")
        );
        vm.setEnv("ALLOW_DEV_VERIFIERS", "");
        vm.setEnv("VERIFIERS", bothOk);
        expectRunReverts(
            abi.encodeWithSelector(Deploy.DeployTestOnlyVerifier.selector, devVerifier, "matching-engine-dev")
        );

        // No code, no probe, wrong count, bad names: refused.
        vm.setEnv("ALLOW_DEV_VERIFIERS", "true");
        address eoa = makeAddr("eoa");
        vm.setEnv("VERIFIERS", string.concat(vm.toString(eoa), ",", vm.toString(devVerifier)));
        expectRunReverts(abi.encodeWithSelector(Deploy.DeployVerifierWithoutCode.selector, eoa));
        address noProbe = address(new EnclaveRegistry(timelock, 0));
        vm.setEnv("VERIFIERS", string.concat(vm.toString(noProbe), ",", vm.toString(devVerifier)));
        expectRunReverts(abi.encodeWithSelector(Deploy.DeployVerifierProbeFailed.selector, noProbe));
        vm.setEnv("VERIFIERS", vm.toString(prodVerifier));
        expectRunReverts(abi.encodeWithSelector(Deploy.DeployVerifierCountMismatch.selector, 2, 1));
        vm.setEnv("VERIFIERS", "");
        vm.setEnv("FAMILIES", "Matching Engine");
        expectRunReverts(abi.encodeWithSelector(Deploy.DeployInvalidFamilyName.selector, "Matching Engine"));

        // The accepted configuration.
        vm.setEnv("FAMILIES", families);
        vm.setEnv("VERIFIERS", bothOk);
        vm.setEnv("ADMIN", vm.toString(timelock));
        vm.setEnv("ADMIN_DELAY", "86400");
        vm.setEnv("REGISTRAR", vm.toString(registrar));
        vm.setEnv("REVOKER", vm.toString(revoker));
        vm.setEnv("MAX_ATTESTATION_AGE", "120");
        vm.setEnv("KEY_TTL", "3600");
        EnclaveRegistry registry = script.run();

        assertEq(address(registry.familyConfig(keccak256("matching-engine")).verifier), prodVerifier);
        assertEq(address(registry.familyConfig(keccak256("matching-engine-dev")).verifier), devVerifier);
        assertEq(registry.familyConfig(keccak256("matching-engine")).maxAttestationAge, 120);
        assertEq(registry.familyConfig(keccak256("matching-engine")).keyTtl, 3600);
        assertTrue(registry.hasRole(registry.REGISTRAR_ROLE(), registrar));
        assertTrue(registry.hasRole(registry.REVOKER_ROLE(), revoker));
        (address pending,) = registry.pendingDefaultAdmin();
        assertEq(pending, timelock, "admin transfer to the timelock begun");
        assertEq(registry.defaultAdminDelay(), 86400);
        clearEnv();
    }
}
