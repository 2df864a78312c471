// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {IAttestationVerifier} from "../interfaces/IAttestationVerifier.sol";

/// @title INitroOptimisticVerifier
/// @notice Optimistic registration of Nitro attestation documents: a bonded claim that a document is
/// genuine goes live after a challenge window; a challenge is settled by the full on-chain verifier.
interface INitroOptimisticVerifier is IAttestationVerifier {
    /// @notice Lifecycle of a claim (keyed by keccak256 of the document).
    enum Status {
        None,
        Pending,
        Challenged,
        Valid,
        Invalid
    }

    /// @notice Thrown when the attached value is not exactly the required bond.
    error OptimisticWrongBond(uint256 required);
    /// @notice Thrown when a document is already claimed.
    error OptimisticAlreadyProposed(bytes32 id);
    /// @notice Thrown when a claim is not in the status the call needs.
    error OptimisticWrongStatus(bytes32 id, Status status);
    /// @notice Thrown when the challenge window is over (challenge) or not yet over (settle).
    error OptimisticWindow(bytes32 id);
    /// @notice Thrown when the document timestamp is not within the freshness bound of `block.timestamp`.
    error OptimisticStale(uint64 timestampMs);
    /// @notice Thrown when the full verification did not reach a verdict about the document
    /// (out of gas, wrong hints): nothing changes, the call can be retried.
    error OptimisticNoVerdict(bytes reason);
    /// @notice Thrown when an ETH transfer fails.
    error OptimisticTransferFailed();

    /// @notice Emitted when a document is claimed genuine.
    event Proposed(bytes32 indexed id, address indexed proposer, uint64 deadline);
    /// @notice Emitted when a claim is challenged.
    event Challenged(bytes32 indexed id, address indexed challenger, uint64 resolveBy);
    /// @notice Emitted when a claim is settled.
    /// @param valid Whether the document is genuine (or went unchallenged).
    event Resolved(bytes32 indexed id, bool valid, address indexed winner);

    /// @notice Bond `propose` takes, in wei (fixed at construction).
    function proposerBond() external view returns (uint256);

    /// @notice Bond `challenge` takes, in wei (fixed at construction).
    function challengerBond() external view returns (uint256);

    /// @notice Claims that `document` is a genuine Nitro attestation; attach `proposerBond()`.
    /// @return id keccak256(document).
    function propose(bytes calldata document) external payable returns (bytes32 id);

    /// @notice Disputes a pending claim within its window; attach `challengerBond()`.
    function challenge(bytes32 id) external payable;

    /// @notice Settles a challenged claim by full on-chain verification. Certificates may be cached
    /// beforehand in separate transactions (`NitroAttestationVerifier.cacheCertificate`), which makes the
    /// verification resumable. A genuine document pays both bonds to the proposer; a document the
    /// verifier rejects pays both to the challenger.
    /// @param document The claimed document. @param hints The verifier's hints for it.
    function resolve(bytes calldata document, uint256[] calldata hints) external;

    /// @notice A challenged claim nobody resolved in time is void: both bonds to the challenger.
    function resolveByTimeout(bytes32 id) external;

    /// @notice Returns the proposer's bond of an unchallenged claim after its window.
    function settle(bytes32 id) external;

    /// @notice The status of a claim.
    function statusOf(bytes32 id) external view returns (Status);
}
