// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {IAttestationVerifier} from "../interfaces/IAttestationVerifier.sol";
import {INitroAttestationVerifier} from "./INitroAttestationVerifier.sol";
import {INitroOptimisticVerifier} from "./INitroOptimisticVerifier.sol";
import {NitroDocument} from "./NitroDocument.sol";

/// @title NitroOptimisticVerifier
/// @notice An IAttestationVerifier that accepts a document once a bonded claim about it survived its
/// challenge window (or a challenge was settled in its favour by the full verifier).
/// @dev `propose` parses the document (syntax only, no signatures) and stores a commitment; it costs
/// about as much as its calldata. Anyone watching (e.g. `pcr-registry watch`) verifies the document
/// off-chain and challenges a bad one; `resolve` then runs NitroAttestationVerifier.verify and
/// pays the bonds by its verdict. Only errors that are a verdict on the document count: a run out of
/// gas or a wrong hint reverts `resolve` and changes nothing. Timing: a proposal must be fresh
/// (timestamp within MAX_AGE), WINDOW + RESOLVE_PERIOD stays well inside a leaf certificate's ~3 h life,
/// so an honest proposer can always resolve before its certificate expires.
contract NitroOptimisticVerifier is INitroOptimisticVerifier {
    /// @notice Maximum age (and future skew) of a proposed document, in seconds.
    uint64 public constant MAX_AGE = 10 minutes;
    /// @notice The challenge window after a proposal.
    uint64 public constant WINDOW = 30 minutes;
    /// @notice Time the proposer has to resolve a challenge.
    uint64 public constant RESOLVE_PERIOD = 60 minutes;

    struct Claim {
        address proposer;
        uint64 deadline; // end of the window, then end of the resolve period once challenged
        Status status;
        address challenger;
    }

    /// @notice The full on-chain verifier that settles challenges.
    INitroAttestationVerifier public immutable full;
    /// @notice Bond a proposer attaches.
    uint256 public immutable proposerBond;
    /// @notice Bond a challenger attaches.
    uint256 public immutable challengerBond;

    mapping(bytes32 id => Claim) private _claims;

    constructor(INitroAttestationVerifier full_, uint256 proposerBond_, uint256 challengerBond_) {
        full = full_;
        proposerBond = proposerBond_;
        challengerBond = challengerBond_;
    }

    /// @inheritdoc INitroOptimisticVerifier
    function propose(bytes calldata document) external payable returns (bytes32 id) {
        if (msg.value != proposerBond) revert OptimisticWrongBond(proposerBond);
        id = keccak256(document);
        if (_claims[id].status != Status.None) revert OptimisticAlreadyProposed(id);
        bytes memory d = document;
        NitroDocument.Doc memory doc = NitroDocument.parseCose(d);
        NitroDocument.parsePayload(d, doc);
        uint256 ts = doc.timestamp / 1000;
        if (ts + MAX_AGE < block.timestamp || ts > block.timestamp + MAX_AGE) {
            revert OptimisticStale(doc.timestamp);
        }
        uint64 deadline = uint64(block.timestamp) + WINDOW;
        _claims[id] = Claim(msg.sender, deadline, Status.Pending, address(0));
        emit Proposed(id, msg.sender, deadline);
    }

    /// @inheritdoc INitroOptimisticVerifier
    function challenge(bytes32 id) external payable {
        Claim storage c = _claims[id];
        if (c.status != Status.Pending) revert OptimisticWrongStatus(id, c.status);
        if (block.timestamp >= c.deadline) revert OptimisticWindow(id);
        if (msg.value != challengerBond) revert OptimisticWrongBond(challengerBond);
        c.status = Status.Challenged;
        c.challenger = msg.sender;
        c.deadline = uint64(block.timestamp) + RESOLVE_PERIOD;
        emit Challenged(id, msg.sender, c.deadline);
    }

    /// @inheritdoc INitroOptimisticVerifier
    function resolve(bytes calldata document, uint256[] calldata hints) external {
        bytes32 id = keccak256(document);
        Claim storage c = _claims[id];
        if (c.status != Status.Challenged) revert OptimisticWrongStatus(id, c.status);
        bool valid;
        try full.verify(abi.encode(document, hints)) {
            valid = true;
        } catch (bytes memory reason) {
            if (!_isVerdict(reason)) revert OptimisticNoVerdict(reason);
        }
        _finish(id, c, valid);
    }

    /// @inheritdoc INitroOptimisticVerifier
    function resolveByTimeout(bytes32 id) external {
        Claim storage c = _claims[id];
        if (c.status != Status.Challenged) revert OptimisticWrongStatus(id, c.status);
        if (block.timestamp < c.deadline) revert OptimisticWindow(id);
        _finish(id, c, false);
    }

    /// @inheritdoc INitroOptimisticVerifier
    function settle(bytes32 id) external {
        Claim storage c = _claims[id];
        if (c.status != Status.Pending) revert OptimisticWrongStatus(id, c.status);
        if (block.timestamp < c.deadline) revert OptimisticWindow(id);
        c.status = Status.Valid;
        emit Resolved(id, true, c.proposer);
        _pay(c.proposer, proposerBond);
    }

    /// @inheritdoc INitroOptimisticVerifier
    function statusOf(bytes32 id) public view returns (Status) {
        Claim storage c = _claims[id];
        // An unchallenged claim is live once its window is over, settled or not.
        if (c.status == Status.Pending && block.timestamp >= c.deadline) return Status.Valid;
        return c.status;
    }

    /// @inheritdoc IAttestationVerifier
    /// @dev `attestation` is the raw document; it must have a live claim.
    function verify(bytes calldata attestation) external view returns (Attestation memory result) {
        bytes32 id = keccak256(attestation);
        Status s = statusOf(id);
        if (s != Status.Valid) revert OptimisticWrongStatus(id, s);
        bytes memory d = attestation;
        NitroDocument.Doc memory doc = NitroDocument.parseCose(d);
        NitroDocument.parsePayload(d, doc);
        result = NitroDocument.result(d, doc);
    }

    /// @inheritdoc IAttestationVerifier
    function isTestOnly() external view returns (bool) {
        return full.isTestOnly();
    }

    function _finish(bytes32 id, Claim storage c, bool valid) private {
        c.status = valid ? Status.Valid : Status.Invalid;
        address winner = valid ? c.proposer : c.challenger;
        emit Resolved(id, valid, winner);
        _pay(winner, proposerBond + challengerBond);
    }

    /// @dev A revert that judges the document: one of the verifier's errors other than those about the
    /// caller's input (hint count, wrong hint). Empty data (out of gas) is no verdict.
    function _isVerdict(bytes memory reason) private pure returns (bool) {
        if (reason.length < 4) return false;
        bytes4 sel = bytes4(reason);
        if (sel == INitroAttestationVerifier.NitroHintCount.selector) return false;
        if (sel == INitroAttestationVerifier.NitroBadHint.selector) return false;
        return sel == INitroAttestationVerifier.NitroMalformed.selector
            || sel == INitroAttestationVerifier.NitroUnsupportedAlgorithm.selector
            || sel == INitroAttestationVerifier.NitroBadField.selector
            || sel == INitroAttestationVerifier.NitroFieldSize.selector
            || sel == INitroAttestationVerifier.NitroUnsupportedDigest.selector
            || sel == INitroAttestationVerifier.NitroTrailingBytes.selector
            || sel == INitroAttestationVerifier.NitroUntrustedRoot.selector
            || sel == INitroAttestationVerifier.NitroIssuerMismatch.selector
            || sel == INitroAttestationVerifier.NitroParentMismatch.selector
            || sel == INitroAttestationVerifier.NitroCertificateExpired.selector
            || sel == INitroAttestationVerifier.NitroBadCertificateRole.selector
            || sel == INitroAttestationVerifier.NitroCertificateRevoked.selector
            || sel == INitroAttestationVerifier.NitroBadSignature.selector || sel == X509_MALFORMED
            || sel == X509_UNSUPPORTED || sel == X509_BAD_EXTENSION;
    }

    bytes4 private constant X509_MALFORMED = bytes4(keccak256("X509Malformed(uint256)"));
    bytes4 private constant X509_UNSUPPORTED = bytes4(keccak256("X509UnsupportedAlgorithm()"));
    bytes4 private constant X509_BAD_EXTENSION = bytes4(keccak256("X509BadExtension()"));

    function _pay(address to, uint256 amount) private {
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert OptimisticTransferFailed();
    }
}
