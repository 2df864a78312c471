// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {Script} from "forge-std/Script.sol";
import {VmSafe} from "forge-std/Vm.sol";

import {EnclaveRegistry} from "../src/EnclaveRegistry.sol";
import {IAttestationVerifier} from "../src/interfaces/IAttestationVerifier.sol";
// Imported only for its code hash, which the vetting below denylists.
import {TestOnlyAttestationVerifier} from "../test/mocks/TestOnlyAttestationVerifier.sol";

/// @title Deploy
/// @notice Deploys the `EnclaveRegistry` (which is also the `PcrRegistry`), configures families, hands out roles,
/// starts the admin transfer, and writes `deployments/<chainid>.json` for the CLIs.
/// @dev Configuration, all from the environment (every variable optional):
///  - `ADMIN`                 final default admin, e.g. a timelock (default: the broadcaster);
///  - `ADMIN_DELAY`           seconds a new admin must wait before accepting (default 2 days);
///  - `REGISTRAR`, `REVOKER`  accounts granted `REGISTRAR_ROLE` / `REVOKER_ROLE`;
///  - `FAMILIES`              comma-separated family names, e.g. `matching-engine,matching-engine-dev`;
///                            the family id is `keccak256(bytes(name))`;
///  - `VERIFIERS`             comma-separated verifier addresses, one per family (zero address: module path
///                            only); if unset, every family is configured with no verifier;
///  - `MAX_ATTESTATION_AGE`   seconds (default 300); `KEY_TTL` seconds (default 7 days);
///  - `ALLOW_DEV_VERIFIERS`   `true` to accept a verifier reporting `isTestOnly()` for a family whose name
///                            ends in `-dev` (a devnet whose enclaves run with a dev NSM and dev CA).
///
/// Verifier vetting (fails closed):
///  1. the address must hold code and answer `isTestOnly()`;
///  2. its runtime code must not be the repository's `TestOnlyAttestationVerifier` (code-hash denylist; that
///     double proves nothing and is refused for every family, dev ones included);
///  3. a verifier reporting `isTestOnly() == true` is refused for every family unless the family name ends in
///     `-dev` and `ALLOW_DEV_VERIFIERS=true`. Production families never get one.
///
/// The JSON file is written only by a broadcast (or resumed) run, never by a simulation or a test.
/// When `ADMIN` differs from the broadcaster, the broadcaster configures everything as the initial admin and then
/// begins the admin transfer; `ADMIN` must call `acceptDefaultAdminTransfer()` after `ADMIN_DELAY`.
contract Deploy is Script {
    /// @notice Thrown when `VERIFIERS` does not have one entry per family.
    error DeployVerifierCountMismatch(uint256 families, uint256 verifiers);
    /// @notice Thrown when a verifier address holds no code.
    error DeployVerifierWithoutCode(address verifier);
    /// @notice Thrown when a verifier does not answer the `isTestOnly()` probe.
    error DeployVerifierProbeFailed(address verifier);
    /// @notice Thrown when a family name is empty or has characters other than `a-z`, `0-9` and `-`.
    error DeployInvalidFamilyName(string name);
    /// @notice Thrown when a verifier is the test-only double, or reports test-only for a non-dev family.
    error DeployTestOnlyVerifier(address verifier, string family);

    /// @notice Deploys and configures; see the contract documentation for the environment variables.
    /// @return registry The deployed registry.
    function run() external returns (EnclaveRegistry registry) {
        uint48 adminDelay = uint48(vm.envOr("ADMIN_DELAY", uint256(2 days)));
        string[] memory families = vm.envOr("FAMILIES", ",", new string[](0));
        address[] memory verifiers = vm.envOr("VERIFIERS", ",", new address[](0));
        if (verifiers.length == 0) verifiers = new address[](families.length);
        if (verifiers.length != families.length) {
            revert DeployVerifierCountMismatch(families.length, verifiers.length);
        }
        for (uint256 i; i < families.length; ++i) {
            _checkFamilyName(families[i]);
            if (verifiers[i] != address(0)) _vetVerifier(verifiers[i], families[i]);
        }

        // Everything is vetted before anything is broadcast.
        vm.startBroadcast();
        (, address deployer,) = vm.readCallers();
        address admin = vm.envOr("ADMIN", deployer);
        registry = new EnclaveRegistry(deployer, adminDelay);
        uint32 maxAge = uint32(vm.envOr("MAX_ATTESTATION_AGE", uint256(300)));
        uint32 keyTtl = uint32(vm.envOr("KEY_TTL", uint256(7 days)));
        for (uint256 i; i < families.length; ++i) {
            registry.configureFamily(
                familyId(families[i]), IAttestationVerifier(verifiers[i]), maxAge, keyTtl
            );
        }
        address registrar = vm.envOr("REGISTRAR", address(0));
        address revoker = vm.envOr("REVOKER", address(0));
        if (registrar != address(0)) registry.grantRole(registry.REGISTRAR_ROLE(), registrar);
        if (revoker != address(0)) registry.grantRole(registry.REVOKER_ROLE(), revoker);
        if (admin != deployer) registry.beginDefaultAdminTransfer(admin);
        vm.stopBroadcast();

        // Only a broadcast run has put contracts on chain; a simulation must not leave addresses behind.
        if (
            vm.isContext(VmSafe.ForgeContext.ScriptBroadcast)
                || vm.isContext(VmSafe.ForgeContext.ScriptResume)
        ) {
            _writeDeployment(registry, admin, families, verifiers);
        }
    }

    /// @notice The family id of a family name.
    /// @param name The family name.
    /// @return keccak256(bytes(name)).
    function familyId(string memory name) public pure returns (bytes32) {
        return keccak256(bytes(name));
    }

    function _vetVerifier(address verifier, string memory family) internal view {
        if (verifier.code.length == 0) revert DeployVerifierWithoutCode(verifier);
        bool testOnly;
        try IAttestationVerifier(verifier).isTestOnly() returns (bool answer) {
            testOnly = answer;
        } catch {
            revert DeployVerifierProbeFailed(verifier);
        }
        if (keccak256(verifier.code) == keccak256(type(TestOnlyAttestationVerifier).runtimeCode)) {
            revert DeployTestOnlyVerifier(verifier, family);
        }
        if (testOnly && !(_isDevFamily(family) && vm.envOr("ALLOW_DEV_VERIFIERS", false))) {
            revert DeployTestOnlyVerifier(verifier, family);
        }
    }

    function _checkFamilyName(string memory family) internal pure {
        bytes memory name = bytes(family);
        if (name.length == 0 || name.length > 64) revert DeployInvalidFamilyName(family);
        for (uint256 i; i < name.length; ++i) {
            bytes1 c = name[i];
            if (!((c >= "a" && c <= "z") || (c >= "0" && c <= "9") || c == "-")) {
                revert DeployInvalidFamilyName(family);
            }
        }
    }

    function _isDevFamily(string memory family) internal pure returns (bool) {
        bytes memory name = bytes(family);
        bytes memory suffix = "-dev";
        if (name.length <= suffix.length) return false;
        for (uint256 i; i < suffix.length; ++i) {
            if (name[name.length - suffix.length + i] != suffix[i]) return false;
        }
        return true;
    }

    function _writeDeployment(
        EnclaveRegistry registry,
        address admin,
        string[] memory families,
        address[] memory verifiers
    ) internal {
        // Hand-built: every value is a number, an address, a hash or a checked family name, so no escaping.
        string memory entries;
        for (uint256 i; i < families.length; ++i) {
            entries = string.concat(
                entries,
                i == 0 ? "" : ",",
                '\n    {"name": "',
                families[i],
                '", "id": "',
                vm.toString(familyId(families[i])),
                '", "verifier": "',
                vm.toString(verifiers[i]),
                '"}'
            );
        }
        string memory json = string.concat(
            '{\n  "chainId": ',
            vm.toString(block.chainid),
            ',\n  "startBlock": ',
            vm.toString(block.number),
            ',\n  "enclaveRegistry": "',
            vm.toString(address(registry)),
            '",\n  "pcrRegistry": "',
            vm.toString(address(registry)),
            '",\n  "admin": "',
            vm.toString(admin),
            '",\n  "families": [',
            entries,
            families.length == 0 ? "]\n}\n" : "\n  ]\n}\n"
        );
        string memory dir = string.concat(vm.projectRoot(), "/deployments");
        vm.createDir(dir, true);
        vm.writeFile(string.concat(dir, "/", vm.toString(block.chainid), ".json"), json);
    }
}
