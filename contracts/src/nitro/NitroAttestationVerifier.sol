// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IAttestationVerifier} from "../interfaces/IAttestationVerifier.sol";
import {INitroAttestationVerifier} from "./INitroAttestationVerifier.sol";
import {P384} from "./P384.sol";
import {IP384Verifier} from "./IP384Verifier.sol";
import {Sha384} from "./Sha384.sol";
import {X509} from "./X509.sol";
import {NitroDocument} from "./NitroDocument.sol";

/// @title NitroAttestationVerifier
/// @notice Verifies AWS Nitro Enclaves attestation documents fully on-chain: COSE_Sign1 (tagged or
/// untagged, definite or indefinite CBOR), the certificate chain to the pinned AWS Nitro Enclaves
/// Root-G1, SHA-384 and ECDSA P-384 with off-chain hints checked on-chain.
/// @dev `verify(abi.encode(bytes document, uint256[] hints))`: `hints` holds `HINT_WORDS` words for
/// every signature in chain order (cabundle[1..], the leaf, then the document): s⁻¹ mod n as (hi, lo),
/// then the half-size words h0..h3 of `P384.check`, i.e. 6·cabundle.length + 6 words (entries for
/// cached certificates are ignored). Certificates are cached
/// by keccak256(TBSCertificate), bound to the parent they were verified under, with their validity
/// re-checked on every use, so a warm verification pays only the leaf (if new) and the document.
/// Revocation is by (issuer, serial), set by REVOKER_ROLE, checked on every use of a certificate.
contract NitroAttestationVerifier is INitroAttestationVerifier, AccessControl {
    /// @notice Role allowed to revoke and reinstate certificates.
    bytes32 public constant REVOKER_ROLE = keccak256("REVOKER_ROLE");
    /// @notice keccak256 of the AWS Nitro Enclaves Root-G1 DER (SHA-256 641a0321…bb5b).
    bytes32 public constant AWS_ROOT_DER_HASH =
        0x311d96fcd5c5e0ccf72ef548e2ea7d4c0cd53ad7c4cc49e67471aed41d61f185;

    /// @notice AWS Nitro Enclaves Root-G1 (CN=aws.nitro-enclaves, 2019-10-28 to 2049-10-28), from
    /// AWS_NitroEnclaves_Root-G1.zip (zip SHA-256 8cf60e2b…ff7c, DER SHA-256 641a0321…bb5b).
    bytes internal constant AWS_ROOT_G1_DER =
        hex"3082021130820196a003020102021100f93175681b90afe11d46ccb4e4e7f856300a06082a8648ce3d0403033049310b3009060355040613025553310f300d060355040a0c06416d617a6f6e310c300a060355040b0c03415753311b301906035504030c126177732e6e6974726f2d656e636c61766573301e170d3139313032383133323830355a170d3439313032383134323830355a3049310b3009060355040613025553310f300d060355040a0c06416d617a6f6e310c300a060355040b0c03415753311b301906035504030c126177732e6e6974726f2d656e636c617665733076301006072a8648ce3d020106052b8104002203620004fc0254eba608c1f36870e29ada90be46383292736e894bfff672d989444b5051e534a4b1f6dbe3c0bc581a32b7b176070ede12d69a3fea211b66e752cf7dd1dd095f6f1370f4170843d9dc100121e4cf63012809664487c9796284304dc53ff4a3423040300f0603551d130101ff040530030101ff301d0603551d0e041604149025b50dd90547e796c396fa729dcf99a9df4b96300e0603551d0f0101ff040403020186300a06082a8648ce3d0403030369003066023100a37f2f91a1c9bd5ee7b8627c1698d255038e1f0343f95b63a9628c3d39809545a11ebcbf2e3b55d8aeee71b4c3d6adf3023100a2f39b1605b27028a5dd4ba069b5016e65b4fbde8fe0061d6a53197f9cdaf5d943bc61fc2beb03cb6fee8d2302f3dff6";

    /// @notice Hint words per signature: s⁻¹ mod n (2 words) and the half-size hint of `P384.check` (4).
    uint256 public constant HINT_WORDS = 6;

    uint8 private constant KIND_CA = 1;
    uint8 private constant KIND_LEAF = 2;

    struct Entry {
        bytes32 parent;
        bytes32 subjectHash;
        bytes32 revocationId;
        uint64 notBefore;
        uint64 notAfter;
        uint8 kind;
        uint8 maxCasBelow; // CAs allowed below this CA (255 = unlimited)
        uint256 key0; // x_hi << 128 | y_hi
        uint256 key1; // x_lo
        uint256 key2; // y_lo
    }

    /// @notice The ECDSA P-384 arithmetic (`P384Verifier`), fixed at construction.
    IP384Verifier public immutable p384;
    /// @notice Cache key of the pinned root (keccak256 of its TBSCertificate).
    bytes32 public immutable rootKey;
    /// @notice keccak256 of the pinned root DER; cabundle[0] must be exactly these bytes.
    bytes32 public immutable rootDerHash;

    mapping(bytes32 key => Entry) private _cache;
    mapping(bytes32 id => bool) private _revoked;

    /// @param rootDer The root certificate DER, or empty for the pinned AWS Nitro Enclaves Root-G1. Any
    /// other root makes this a test-only verifier (`isTestOnly()`), e.g. for a devnet dev CA.
    /// @param admin Holder of DEFAULT_ADMIN_ROLE.
    /// @param p384_ A deployed `P384Verifier` (stateless; check its code hash against a rebuild).
    constructor(bytes memory rootDer, address admin, IP384Verifier p384_) {
        if (address(p384_).code.length == 0) revert NitroNoP384Verifier();
        p384 = p384_;
        if (rootDer.length == 0) rootDer = AWS_ROOT_G1_DER;
        X509.Cert memory c = X509.parse(rootDer, 0, rootDer.length);
        if (!c.ca || c.issuerHash != c.subjectHash) revert NitroBadCertificateRole(0);
        rootDerHash = keccak256(rootDer);
        rootKey = c.tbsHash;
        _store(c, bytes32(0), KIND_CA, c.hasPathLen && c.pathLen < 255 ? c.pathLen : 255);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // ------------------------------------------------------------------ revocation

    /// @notice Revokes or reinstates the certificate identity (issuerHash, serialHash).
    /// @param issuerHash keccak256 of the issuer Name DER.
    /// @param serialHash keccak256 of the serialNumber INTEGER contents.
    /// @param revoked True to revoke, false to reinstate (reinstating needs DEFAULT_ADMIN_ROLE).
    function setRevoked(bytes32 issuerHash, bytes32 serialHash, bool revoked) external {
        _checkRole(revoked ? REVOKER_ROLE : DEFAULT_ADMIN_ROLE);
        bytes32 id = keccak256(abi.encode(issuerHash, serialHash));
        _revoked[id] = revoked;
        emit RevocationSet(id, revoked);
    }

    /// @notice Whether the identity (issuerHash, serialHash) is revoked.
    function isRevoked(bytes32 issuerHash, bytes32 serialHash) external view returns (bool) {
        return _revoked[keccak256(abi.encode(issuerHash, serialHash))];
    }

    // ------------------------------------------------------------------ cache

    /// @inheritdoc INitroAttestationVerifier
    function cacheCertificate(bytes calldata der, bytes32 parent, uint256[6] calldata hint)
        external
        returns (bytes32 key)
    {
        bytes memory d = der;
        Entry storage p = _cache[parent];
        if (p.kind != KIND_CA) revert NitroIssuerMismatch(1);
        _checkUsable(p, 0, block.timestamp);
        // Write-once: an entry already verified under this parent is returned as it is (no signature check,
        // no store, no event); under another parent it is refused, as on the chain walk.
        key = _tbsHash(d, 0, d.length);
        Entry storage e = _cache[key];
        if (e.kind != 0) {
            if (e.parent != parent) revert NitroParentMismatch(1);
            return key;
        }
        uint256[6] memory h = hint;
        _verifyAndStore(d, 0, d.length, parent, h, 1);
    }

    /// @inheritdoc INitroAttestationVerifier
    function isCached(bytes32 key, bytes32 parent) external view returns (bool) {
        Entry storage e = _cache[key];
        return e.kind != 0 && e.parent == parent && block.timestamp >= e.notBefore
            && block.timestamp <= e.notAfter && !_revoked[e.revocationId];
    }

    // ------------------------------------------------------------------ verify

    /// @inheritdoc IAttestationVerifier
    function isTestOnly() external view returns (bool) {
        return rootDerHash != AWS_ROOT_DER_HASH;
    }

    /// @inheritdoc IAttestationVerifier
    function verify(bytes calldata attestation) external returns (Attestation memory result) {
        return _verify(attestation, false);
    }

    /// @inheritdoc INitroAttestationVerifier
    function verifyAtDocumentTime(bytes calldata attestation) external {
        _verify(attestation, true);
    }

    /// @dev Certificate validity is checked at the document's timestamp (whole seconds) when `atDocumentTime`,
    /// at `block.timestamp` otherwise; revocation always as of now.
    function _verify(bytes calldata attestation, bool atDocumentTime)
        private
        returns (Attestation memory result)
    {
        (bytes memory d, uint256[] memory hints) = abi.decode(attestation, (bytes, uint256[]));
        NitroDocument.Doc memory doc = NitroDocument.parseCose(d);
        NitroDocument.parsePayload(d, doc);
        uint256 n = doc.caOff.length;
        if (hints.length != HINT_WORDS * (n + 1)) revert NitroHintCount();
        uint256 time = atDocumentTime ? doc.timestamp / 1000 : block.timestamp;

        Entry storage leaf = _cache[_walkChain(d, doc, hints, time)];

        // The document signature, over Sig_structure = ["Signature1", h'a1013822', h'', payload].
        (uint256 h1, uint256 h0) = NitroDocument.sigStructureHash(d, doc.payloadOff, doc.payloadLen);
        _checkOutcome(_p384(h1, h0, d, doc.sigOff, leaf, _hint(hints, n)), n + 1);

        result = NitroDocument.result(d, doc);
    }

    // ------------------------------------------------------------------ internals: chain

    /// @dev The pinned root, then cabundle[1..], then the leaf, each bound to its predecessor; returns the leaf key.
    function _walkChain(bytes memory d, NitroDocument.Doc memory doc, uint256[] memory hints, uint256 time)
        private
        returns (bytes32 parent)
    {
        uint256 n = doc.caOff.length;
        if (_hashRange(d, doc.caOff[0], doc.caLen[0]) != rootDerHash) revert NitroUntrustedRoot();
        parent = rootKey;
        Entry storage root = _cache[parent];
        _checkUsable(root, 0, time);
        if (root.maxCasBelow < n - 1) revert NitroBadCertificateRole(0);
        for (uint256 i = 1; i <= n; i++) {
            parent = _link(d, doc, hints, parent, i, time);
        }
    }

    /// @dev Certificate `i` of the chain (cabundle[i], or the leaf when i == cabundle.length) under `parent`.
    function _link(
        bytes memory d,
        NitroDocument.Doc memory doc,
        uint256[] memory hints,
        bytes32 parent,
        uint256 i,
        uint256 time
    ) private returns (bytes32 key) {
        uint256 n = doc.caOff.length;
        (uint256 off, uint256 len) = i < n ? (doc.caOff[i], doc.caLen[i]) : (doc.certOff, doc.certLen);
        key = _tbsHash(d, off, len);
        Entry storage e = _cache[key];
        if (e.kind == 0) {
            _verifyAndStore(d, off, len, parent, _hint(hints, i - 1), i);
        } else if (e.parent != parent) {
            revert NitroParentMismatch(i);
        }
        _checkUsable(e, i, time);
        if (i < n) {
            if (e.kind != KIND_CA || e.maxCasBelow < n - 1 - i) revert NitroBadCertificateRole(i);
        } else if (e.kind != KIND_LEAF) {
            revert NitroBadCertificateRole(i);
        }
    }

    /// @dev "Not yet valid" has its own error: the NSM back-dates a leaf's notBefore by only ~3 s, so a clock a
    /// few seconds behind sees a genuine certificate as not yet valid. That is no verdict on the document.
    function _checkUsable(Entry storage e, uint256 index, uint256 time) private view {
        if (time < e.notBefore) revert NitroCertificateNotYetValid(index);
        if (time > e.notAfter) revert NitroCertificateExpired(index);
        if (_revoked[e.revocationId]) revert NitroCertificateRevoked(index);
    }

    function _verifyAndStore(
        bytes memory d,
        uint256 off,
        uint256 len,
        bytes32 parent,
        uint256[6] memory hint,
        uint256 index
    ) private returns (bytes32) {
        Entry storage pe = _cache[parent];
        X509.Cert memory c = X509.parse(d, off, len);
        if (c.issuerHash != pe.subjectHash) revert NitroIssuerMismatch(index);
        uint8 kind;
        uint8 below;
        if (c.ca) {
            // A CA below the root: never self-issued, must sign certificates, within the parent's path length.
            if (c.issuerHash == c.subjectHash || !c.hasKeyUsage || !c.keyCertSign) {
                revert NitroBadCertificateRole(index);
            }
            if (pe.maxCasBelow == 0) revert NitroBadCertificateRole(index);
            below = pe.maxCasBelow == 255 ? 255 : pe.maxCasBelow - 1;
            if (c.hasPathLen && c.pathLen < below) below = c.pathLen;
            kind = KIND_CA;
        } else {
            if (c.hasKeyUsage && !c.digitalSignature) revert NitroBadCertificateRole(index);
            kind = KIND_LEAF;
        }
        (uint256 h1, uint256 h0) = Sha384.hash(d, c.tbsOffset, c.tbsLength);
        uint256[16] memory v;
        v[0] = h1;
        v[1] = h0;
        (v[2], v[3], v[4], v[5]) = (c.sig[0], c.sig[1], c.sig[2], c.sig[3]);
        _setHint(v, hint);
        (v[8], v[10]) = (pe.key0 >> 128, uint128(pe.key0));
        (v[9], v[11]) = (pe.key1, pe.key2);
        _checkOutcome(p384.check(v), index);
        _store(c, parent, kind, below);
        return c.tbsHash;
    }

    function _store(X509.Cert memory c, bytes32 parent, uint8 kind, uint8 below) private {
        _cache[c.tbsHash] = Entry({
            parent: parent,
            subjectHash: c.subjectHash,
            revocationId: keccak256(abi.encode(c.issuerHash, c.serialHash)),
            notBefore: c.notBefore,
            notAfter: c.notAfter,
            kind: kind,
            maxCasBelow: below,
            key0: (c.key[0] << 128) | c.key[2],
            key1: c.key[1],
            key2: c.key[3]
        });
        emit CertificateCached(c.tbsHash, parent, c.notAfter);
    }

    function _p384(
        uint256 h1,
        uint256 h0,
        bytes memory d,
        uint256 sigOff,
        Entry storage k,
        uint256[6] memory hint
    ) private view returns (uint256) {
        uint256[16] memory v;
        v[0] = h1;
        v[1] = h0;
        assembly ("memory-safe") {
            let s := add(add(d, 32), sigOff)
            mstore(add(v, 64), shr(128, mload(s)))
            mstore(add(v, 96), mload(add(s, 16)))
            mstore(add(v, 128), shr(128, mload(add(s, 48))))
            mstore(add(v, 160), mload(add(s, 64)))
        }
        _setHint(v, hint);
        (v[8], v[10]) = (k.key0 >> 128, uint128(k.key0));
        (v[9], v[11]) = (k.key1, k.key2);
        return p384.check(v);
    }

    /// @dev The `HINT_WORDS` words of signature `j` (chain order) of a `verify` hint list.
    function _hint(uint256[] memory hints, uint256 j) private pure returns (uint256[6] memory h) {
        for (uint256 i = 0; i < HINT_WORDS; i++) {
            h[i] = hints[HINT_WORDS * j + i];
        }
    }

    /// @dev Places a signature's hint (w_hi, w_lo, h0..h3) where `P384.check` reads it.
    function _setHint(uint256[16] memory v, uint256[6] memory hint) private pure {
        (v[6], v[7]) = (hint[0], hint[1]);
        (v[12], v[13], v[14], v[15]) = (hint[2], hint[3], hint[4], hint[5]);
    }

    function _checkOutcome(uint256 outcome, uint256 index) private pure {
        if (outcome == P384.BAD_HINT) revert NitroBadHint(index);
        if (outcome != P384.VALID) revert NitroBadSignature(index);
    }

    function _tbsHash(bytes memory d, uint256 off, uint256 len) private pure returns (bytes32) {
        (, uint256 s,) = X509.header(d, off, off + len);
        (, uint256 ts, uint256 tl) = X509.header(d, s, off + len);
        return _hashRange(d, s, ts + tl - s);
    }

    function _hashRange(bytes memory b, uint256 off, uint256 len) private pure returns (bytes32) {
        return NitroDocument.hashRange(b, off, len);
    }
}
