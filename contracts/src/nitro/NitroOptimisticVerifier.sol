// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {IAttestationVerifier} from "../interfaces/IAttestationVerifier.sol";
import {INitroAttestationVerifier} from "./INitroAttestationVerifier.sol";
import {INitroOptimisticVerifier} from "./INitroOptimisticVerifier.sol";
import {NitroDocument} from "./NitroDocument.sol";

/// @title NitroOptimisticVerifier
/// @notice An IAttestationVerifier that accepts a document once a bonded claim about it survived its
/// challenge window (and was settled), or once the full verifier proved it genuine.
/// @dev `propose` parses the document (syntax only, no signatures) and stores a commitment; it costs
/// about as much as its calldata. Anyone watching (e.g. `pcr-registry watch`) verifies the document
/// off-chain and challenges a bad claim; `resolve` then runs `NitroAttestationVerifier.verifyAtDocumentTime`
/// and pays the bonds by its verdict. Only errors that are a verdict on the document count: a run out of
/// gas, a wrong hint or a certificate not yet valid reverts `resolve` and changes nothing.
///
/// Claims are per (document, proposer), so a copied document proposed first by someone else neither blocks
/// nor captures an honest proposer's claim, and a claim's bonds go only to its own proposer or challenger
/// (a `resolve` copied from the mempool pays its sender nothing). A self-challenged copy that nobody
/// defends is void by timeout: the squatter gets its own two bonds back and the document is not judged.
/// Only a full verification records a verdict on a document, and it settles every challenged claim on it.
///
/// Timing: a proposal must be fresh (timestamp within MAX_AGE of `block.timestamp`, both ways). The chain is
/// checked at the document's time, which the proposal bounded, so a certificate that expires during the
/// challenge or resolve period does not turn a genuine document invalid, and a chain clock a few seconds
/// behind the NSM's (the leaf's notBefore is back-dated only ~3 s) is not a verdict either.
///
/// Economics: defending a genuine claim costs the proposer up to DEFENCE_GAS (a cold full verification,
/// ~17.2 M gas over five transactions; ~7.4 M when the CA certificates are cached). The constructor refuses a
/// challenger bond below DEFENCE_GAS × `defenceGasPrice`, so a griefing challenge pays for the defence at
/// gas prices up to `defenceGasPrice`; above it (a fee spike) defending can cost more than the bond won, and
/// the deployment should be replaced with larger bonds. The proposer bond only needs to exceed what a
/// challenger spends to close a claim by timeout (two small transactions).
contract NitroOptimisticVerifier is INitroOptimisticVerifier {
    /// @notice Maximum age (and future skew) of a proposed document, in seconds.
    uint64 public constant MAX_AGE = 10 minutes;
    /// @notice The challenge window after a proposal.
    uint64 public constant WINDOW = 30 minutes;
    /// @notice Time the proposer has to resolve a challenge.
    uint64 public constant RESOLVE_PERIOD = 60 minutes;
    /// @inheritdoc INitroOptimisticVerifier
    uint256 public constant DEFENCE_GAS = 17_500_000;

    /// @dev One slot per claim; the proposer is part of the key.
    struct Claim {
        uint64 deadline; // end of the window, then end of the resolve period once challenged
        Status status;
        address challenger;
    }

    /// @dev One slot per document.
    struct Document {
        Verdict verdict;
        bool accepted; // an unchallenged claim was settled
    }

    /// @notice The full on-chain verifier that settles challenges.
    INitroAttestationVerifier public immutable full;
    /// @inheritdoc INitroOptimisticVerifier
    uint256 public immutable proposerBond;
    /// @inheritdoc INitroOptimisticVerifier
    uint256 public immutable challengerBond;
    /// @inheritdoc INitroOptimisticVerifier
    uint256 public immutable defenceGasPrice;

    mapping(bytes32 docHash => mapping(address proposer => Claim)) private _claims;
    mapping(bytes32 docHash => Document) private _documents;

    /// @param full_ The full verifier. @param proposerBond_ The proposer bond (wei).
    /// @param challengerBond_ The challenger bond (wei), at least DEFENCE_GAS × defenceGasPrice_.
    /// @param defenceGasPrice_ The gas price (wei, non-zero) the challenger bond is sized for.
    constructor(
        INitroAttestationVerifier full_,
        uint256 proposerBond_,
        uint256 challengerBond_,
        uint256 defenceGasPrice_
    ) {
        if (defenceGasPrice_ == 0 || challengerBond_ < DEFENCE_GAS * defenceGasPrice_) {
            revert OptimisticBondTooSmall(DEFENCE_GAS * defenceGasPrice_);
        }
        full = full_;
        proposerBond = proposerBond_;
        challengerBond = challengerBond_;
        defenceGasPrice = defenceGasPrice_;
    }

    /// @inheritdoc INitroOptimisticVerifier
    function propose(bytes calldata document) external payable returns (bytes32 docHash) {
        if (msg.value != proposerBond) revert OptimisticWrongBond(proposerBond);
        docHash = keccak256(document);
        Verdict verdict = _documents[docHash].verdict;
        if (verdict != Verdict.None) revert OptimisticDocumentDecided(docHash, verdict);
        Claim storage c = _claims[docHash][msg.sender];
        // A void claim (lost by timeout) may be made again while the document is fresh.
        if (c.status != Status.None && c.status != Status.Invalid) {
            revert OptimisticAlreadyProposed(docHash, msg.sender);
        }
        bytes memory d = document;
        NitroDocument.Doc memory doc = NitroDocument.parseCose(d);
        NitroDocument.parsePayload(d, doc);
        uint256 ts = doc.timestamp / 1000;
        if (ts + MAX_AGE < block.timestamp || ts > block.timestamp + MAX_AGE) {
            revert OptimisticStale(doc.timestamp);
        }
        uint64 deadline = uint64(block.timestamp) + WINDOW;
        _claims[docHash][msg.sender] = Claim(deadline, Status.Pending, address(0));
        emit Proposed(docHash, msg.sender, deadline);
    }

    /// @inheritdoc INitroOptimisticVerifier
    function challenge(bytes32 docHash, address proposer) external payable {
        Claim storage c = _claims[docHash][proposer];
        if (c.status != Status.Pending) revert OptimisticWrongStatus(docHash, proposer, c.status);
        if (block.timestamp >= c.deadline) revert OptimisticWindow(docHash, proposer);
        if (msg.value != challengerBond) revert OptimisticWrongBond(challengerBond);
        c.status = Status.Challenged;
        c.challenger = msg.sender;
        c.deadline = uint64(block.timestamp) + RESOLVE_PERIOD;
        emit Challenged(docHash, proposer, msg.sender, c.deadline);
    }

    /// @inheritdoc INitroOptimisticVerifier
    function resolve(bytes calldata document, address proposer, uint256[] calldata hints) external {
        bytes32 docHash = keccak256(document);
        Claim storage c = _claims[docHash][proposer];
        if (c.status != Status.Challenged) revert OptimisticWrongStatus(docHash, proposer, c.status);
        Document storage doc = _documents[docHash];
        Verdict verdict = doc.verdict;
        if (verdict == Verdict.None) {
            verdict = Verdict.Genuine;
            try full.verifyAtDocumentTime(abi.encode(document, hints)) {}
            catch (bytes memory reason) {
                if (!_isVerdict(reason)) revert OptimisticNoVerdict(reason);
                verdict = Verdict.NotGenuine;
            }
            doc.verdict = verdict;
            emit Decided(docHash, verdict == Verdict.Genuine, msg.sender);
        }
        _finish(docHash, proposer, c, verdict == Verdict.Genuine);
    }

    /// @inheritdoc INitroOptimisticVerifier
    function resolveByTimeout(bytes32 docHash, address proposer) external {
        Claim storage c = _claims[docHash][proposer];
        if (c.status != Status.Challenged) revert OptimisticWrongStatus(docHash, proposer, c.status);
        if (block.timestamp < c.deadline) revert OptimisticWindow(docHash, proposer);
        // A document the full verifier judged settles the claim by that verdict; otherwise the claim is void.
        _finish(docHash, proposer, c, _documents[docHash].verdict == Verdict.Genuine);
    }

    /// @inheritdoc INitroOptimisticVerifier
    function settle(bytes32 docHash, address proposer) external {
        Claim storage c = _claims[docHash][proposer];
        if (c.status != Status.Pending) revert OptimisticWrongStatus(docHash, proposer, c.status);
        if (block.timestamp < c.deadline) revert OptimisticWindow(docHash, proposer);
        Document storage doc = _documents[docHash];
        bool valid = doc.verdict != Verdict.NotGenuine;
        c.status = valid ? Status.Valid : Status.Invalid;
        if (valid) doc.accepted = true;
        emit Resolved(docHash, proposer, valid, proposer);
        _pay(proposer, proposerBond);
    }

    /// @inheritdoc INitroOptimisticVerifier
    function statusOf(bytes32 docHash, address proposer) public view returns (Status) {
        Claim storage c = _claims[docHash][proposer];
        // An unchallenged claim is live once its window is over, settled or not.
        if (c.status == Status.Pending && block.timestamp >= c.deadline) {
            return _documents[docHash].verdict == Verdict.NotGenuine ? Status.Invalid : Status.Valid;
        }
        return c.status;
    }

    /// @inheritdoc INitroOptimisticVerifier
    function verdictOf(bytes32 docHash) external view returns (Verdict) {
        return _documents[docHash].verdict;
    }

    /// @inheritdoc INitroOptimisticVerifier
    function isAccepted(bytes32 docHash) public view returns (bool) {
        Document storage doc = _documents[docHash];
        return doc.verdict == Verdict.Genuine || (doc.accepted && doc.verdict == Verdict.None);
    }

    /// @inheritdoc IAttestationVerifier
    /// @dev `attestation` is the raw document; it must be accepted (`isAccepted`).
    function verify(bytes calldata attestation) external view returns (Attestation memory result) {
        bytes32 docHash = keccak256(attestation);
        if (!isAccepted(docHash)) revert OptimisticNotAccepted(docHash);
        bytes memory d = attestation;
        NitroDocument.Doc memory doc = NitroDocument.parseCose(d);
        NitroDocument.parsePayload(d, doc);
        result = NitroDocument.result(d, doc);
    }

    /// @inheritdoc IAttestationVerifier
    function isTestOnly() external view returns (bool) {
        return full.isTestOnly();
    }

    function _finish(bytes32 docHash, address proposer, Claim storage c, bool valid) private {
        c.status = valid ? Status.Valid : Status.Invalid;
        address winner = valid ? proposer : c.challenger;
        emit Resolved(docHash, proposer, valid, winner);
        _pay(winner, proposerBond + challengerBond);
    }

    /// @dev A revert that judges the document: one of the verifier's errors other than those about the
    /// caller's input (hint count, wrong hint) or the clock (`NitroCertificateNotYetValid`: not listed, so no
    /// verdict). `NitroCertificateExpired` is one: the chain is checked at the document's own time, so a
    /// certificate expired then means the document was signed under an expired certificate. Empty data (out
    /// of gas) is no verdict.
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
