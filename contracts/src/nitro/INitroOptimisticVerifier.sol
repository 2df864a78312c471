// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {IAttestationVerifier} from "../interfaces/IAttestationVerifier.sol";

/// @title INitroOptimisticVerifier
/// @notice Optimistic registration of Nitro attestation documents: a bonded claim that a document is
/// genuine goes live after a challenge window; a challenge is settled by the full on-chain verifier.
/// @dev Claims are per (document, proposer): `docHash = keccak256(document)` and the proposer's address name a
/// claim, so nobody can occupy another proposer's claim, and a claim's bonds are paid only to that claim's
/// proposer or challenger. A document has a verdict only once the full verifier judged it (`verdictOf`); that
/// verdict settles every challenged claim on the document the same way. A claim lost by timeout is void: it
/// says nothing about the document, which stays open to other claims.
interface INitroOptimisticVerifier is IAttestationVerifier {
    /// @notice Lifecycle of a claim.
    enum Status {
        None,
        Pending,
        Challenged,
        Valid,
        Invalid
    }

    /// @notice What the full verifier said about a document (None until it was run on it).
    enum Verdict {
        None,
        Genuine,
        NotGenuine
    }

    /// @notice Thrown when the attached value is not exactly the required bond.
    error OptimisticWrongBond(uint256 required);
    /// @notice Thrown at construction when the challenger bond does not cover a defence
    /// (`DEFENCE_GAS × defenceGasPrice`), or the gas price is zero.
    error OptimisticBondTooSmall(uint256 required);
    /// @notice Thrown when the proposer already has an open or successful claim on the document.
    error OptimisticAlreadyProposed(bytes32 docHash, address proposer);
    /// @notice Thrown when proposing a document the full verifier already judged.
    error OptimisticDocumentDecided(bytes32 docHash, Verdict verdict);
    /// @notice Thrown when a claim is not in the status the call needs.
    error OptimisticWrongStatus(bytes32 docHash, address proposer, Status status);
    /// @notice Thrown when the challenge window is over (challenge) or not yet over (settle, timeout).
    error OptimisticWindow(bytes32 docHash, address proposer);
    /// @notice Thrown when the document timestamp is not within the freshness bound of `block.timestamp`.
    error OptimisticStale(uint64 timestampMs);
    /// @notice Thrown when the full verification did not reach a verdict about the document
    /// (out of gas, wrong hints, a certificate not yet valid): nothing changes, the call can be retried.
    error OptimisticNoVerdict(bytes reason);
    /// @notice Thrown by `verify` when the document is neither proven genuine nor accepted by a settled claim
    /// (or was proven not genuine).
    error OptimisticNotAccepted(bytes32 docHash);
    /// @notice Thrown when an ETH transfer fails.
    error OptimisticTransferFailed();

    /// @notice Emitted when a document is claimed genuine.
    event Proposed(bytes32 indexed docHash, address indexed proposer, uint64 deadline);
    /// @notice Emitted when a claim is challenged.
    event Challenged(
        bytes32 indexed docHash, address indexed proposer, address indexed challenger, uint64 resolveBy
    );
    /// @notice Emitted when the full verifier judged a document.
    event Decided(bytes32 indexed docHash, bool genuine, address indexed prover);
    /// @notice Emitted when a claim is closed.
    /// @param valid Whether the claim held (genuine document, or unchallenged).
    /// @param winner Who was paid.
    event Resolved(bytes32 indexed docHash, address indexed proposer, bool valid, address indexed winner);

    /// @notice Gas a proposer may have to spend to defend a genuine claim: a cold full verification
    /// (~17.2 M over five transactions), rounded up.
    function DEFENCE_GAS() external view returns (uint256);

    /// @notice Bond `propose` takes, in wei (fixed at construction).
    function proposerBond() external view returns (uint256);

    /// @notice Bond `challenge` takes, in wei (fixed at construction; at least DEFENCE_GAS × defenceGasPrice).
    function challengerBond() external view returns (uint256);

    /// @notice The gas price (wei) up to which the challenger bond covers a defence.
    function defenceGasPrice() external view returns (uint256);

    /// @notice Claims that `document` is a genuine Nitro attestation; attach `proposerBond()`.
    /// @return docHash keccak256(document); the claim is (docHash, msg.sender).
    function propose(bytes calldata document) external payable returns (bytes32 docHash);

    /// @notice Disputes a pending claim within its window; attach `challengerBond()`.
    function challenge(bytes32 docHash, address proposer) external payable;

    /// @notice Settles a challenged claim: by the document's verdict if it has one (then `hints` is unused),
    /// otherwise by full on-chain verification with certificate validity checked at the document's time,
    /// which records the verdict for every claim on the document. Certificates may be cached beforehand in
    /// separate transactions (`NitroAttestationVerifier.cacheCertificate`), which makes it resumable. Genuine:
    /// both bonds to the claim's proposer; not genuine: both to its challenger. Whoever calls, only the
    /// claim's own parties are paid.
    /// @param document The claimed document. @param proposer The claim's proposer.
    /// @param hints The verifier's hints for it.
    function resolve(bytes calldata document, address proposer, uint256[] calldata hints) external;

    /// @notice After the resolve period, closes a challenged claim: by the document's verdict if it has one,
    /// otherwise the claim is void and both bonds go to the challenger (the document is not judged).
    function resolveByTimeout(bytes32 docHash, address proposer) external;

    /// @notice Returns the proposer's bond of an unchallenged claim after its window; the document is then
    /// accepted (unless the full verifier judged it not genuine).
    function settle(bytes32 docHash, address proposer) external;

    /// @notice The status of a claim (an unchallenged claim past its window reads Valid before `settle`).
    function statusOf(bytes32 docHash, address proposer) external view returns (Status);

    /// @notice The full verifier's verdict on a document.
    function verdictOf(bytes32 docHash) external view returns (Verdict);

    /// @notice Whether `verify` accepts the document: proven genuine, or accepted by a settled claim and not
    /// proven otherwise.
    function isAccepted(bytes32 docHash) external view returns (bool);
}
