// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";

import {IEnclaveAuth} from "./interfaces/IEnclaveAuth.sol";
import {IEnclaveRegistry} from "./interfaces/IEnclaveRegistry.sol";

/// @title EnclaveAuth
/// @notice The gate contracts put in front of enclave-produced data: an EIP-712 signature whose signer must be
/// a live enclave key of a given family in the `EnclaveRegistry`.
/// @dev Inherit, define your EIP-712 struct, and call `_requireEnclaveSigner(family, structHash, signature)`.
/// Cost: the EIP-712 digest, one `ecrecover`, one call to the registry reading two storage slots.
///
/// Signatures are 65 bytes `r ‖ s ‖ v`, checked with OpenZeppelin `ECDSA.tryRecover`: high-s (malleable)
/// signatures, `v` other than 27/28 and signatures recovering to no address are rejected. The optional replay
/// guard keys on the EIP-712 digest, never on the signature bytes (two encodings of one signature would
/// otherwise count as two).
/// The digest binds chain id and this contract's address (EIP-712 domain), so a signature for one deployment is
/// worthless on another. Whether a message may be accepted twice is the caller's choice: use
/// `_requireEnclaveSignerOnce` when it may not.
abstract contract EnclaveAuth is IEnclaveAuth, EIP712 {
    /// @dev The registry consulted for every check (immutable: no storage read).
    IEnclaveRegistry private immutable _ENCLAVE_REGISTRY;

    /// @dev Digests already accepted by `_requireEnclaveSignerOnce`.
    mapping(bytes32 digest => bool) private _usedEnclaveDigests;

    /// @param registry The enclave key registry.
    /// @param name EIP-712 domain name.
    /// @param version EIP-712 domain version.
    constructor(IEnclaveRegistry registry, string memory name, string memory version) EIP712(name, version) {
        _ENCLAVE_REGISTRY = registry;
    }

    /// @notice The enclave key registry this gate consults.
    /// @return The registry.
    function enclaveRegistry() public view returns (IEnclaveRegistry) {
        return _ENCLAVE_REGISTRY;
    }

    /// @notice Whether a replay-guarded digest has already been accepted.
    /// @param digest The EIP-712 digest.
    /// @return True if used.
    function isEnclaveDigestUsed(bytes32 digest) public view returns (bool) {
        return _usedEnclaveDigests[digest];
    }

    /// @dev Reverts unless `signature` over the EIP-712 digest of `structHash` comes from a live key of `family`.
    /// @return signer The enclave key's address.
    function _requireEnclaveSigner(bytes32 family, bytes32 structHash, bytes calldata signature)
        internal
        view
        returns (address signer)
    {
        (signer,) = _checkEnclaveSignature(family, structHash, signature);
    }

    /// @dev As `_requireEnclaveSigner`, and additionally refuses a digest accepted before, then marks it used.
    /// @return signer The enclave key's address.
    function _requireEnclaveSignerOnce(bytes32 family, bytes32 structHash, bytes calldata signature)
        internal
        returns (address signer)
    {
        bytes32 digest;
        (signer, digest) = _checkEnclaveSignature(family, structHash, signature);
        if (_usedEnclaveDigests[digest]) revert EnclaveAuthDigestUsed(digest);
        _usedEnclaveDigests[digest] = true;
    }

    /// @dev Recovers the signer of the typed-data digest and asks the registry whether it is live.
    function _checkEnclaveSignature(bytes32 family, bytes32 structHash, bytes calldata signature)
        private
        view
        returns (address signer, bytes32 digest)
    {
        digest = _hashTypedDataV4(structHash);
        if (signature.length != 65) revert EnclaveAuthInvalidSignature();
        ECDSA.RecoverError err;
        (signer, err,) = ECDSA.tryRecover(
            digest, uint8(signature[64]), bytes32(signature[0:32]), bytes32(signature[32:64])
        );
        if (err != ECDSA.RecoverError.NoError) revert EnclaveAuthInvalidSignature();
        if (!_ENCLAVE_REGISTRY.isLiveKey(signer, family)) revert EnclaveAuthKeyNotLive(signer, family);
    }
}
