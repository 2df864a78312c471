// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {Test} from "forge-std/Test.sol";

import {INitroAttestationVerifier} from "../../../src/nitro/INitroAttestationVerifier.sol";
import {INitroOptimisticVerifier} from "../../../src/nitro/INitroOptimisticVerifier.sol";
import {NitroOptimisticVerifier} from "../../../src/nitro/NitroOptimisticVerifier.sol";
import {NitroDocuments as D} from "../../fixtures/nitro/NitroDocuments.sol";
import {StubNitroVerifier} from "../../mocks/StubNitroVerifier.sol";

/// @notice Drives `NitroOptimisticVerifier` with an honest proposer (proposes the genuine document and defends
/// every challenge at once), an honest watcher (challenges only claims on the forged document) and an attacker
/// with two accounts (proposes either document, challenges any claim, its own included, resolves), a keeper
/// that settles and times out whatever it can, and time passing. The full verifier is a stub that knows which
/// document is genuine, so that resolutions are cheap. Ghost state tracks the bonds each open claim holds.
contract OptimisticHandler is Test {
    uint256 public constant BOND = 1 ether;
    uint256 public constant CHALLENGE_BOND = 0.5 ether;
    uint256 public constant START_BALANCE = 100 ether;

    NitroOptimisticVerifier public immutable optimistic;
    StubNitroVerifier public immutable stub;
    bytes public genuineDoc;
    bytes public forgedDoc;
    bytes32 public immutable genuineHash;
    bytes32 public immutable forgedHash;

    address public honest = makeAddr("honest proposer");
    address public watcher = makeAddr("watcher");
    address public attacker = makeAddr("attacker");
    address public attacker2 = makeAddr("attacker 2");

    /// @dev Open claims: proposer bond held, and the challenger (zero if none).
    mapping(bytes32 docHash => mapping(address proposer => bool)) public open;
    mapping(bytes32 docHash => mapping(address proposer => address)) public challengerOf;

    uint256 public proposals;
    uint256 public challenges;
    uint256 public resolutions;
    uint256 public timeouts;
    uint256 public settlements;

    constructor() {
        stub = new StubNitroVerifier();
        optimistic = new NitroOptimisticVerifier(
            INitroAttestationVerifier(address(stub)), BOND, CHALLENGE_BOND, 20 gwei
        );
        genuineDoc = D.BASE_2026;
        forgedDoc = D.BASE_2026;
        forgedDoc[forgedDoc.length - 1] ^= 0x01; // the document signature's last byte: well formed, not genuine
        genuineHash = keccak256(genuineDoc);
        forgedHash = keccak256(forgedDoc);
        stub.setGenuine(genuineDoc);
        vm.warp(D.BASE_2026_TIMESTAMP_MS / 1000);
        vm.deal(honest, START_BALANCE);
        vm.deal(watcher, START_BALANCE);
        vm.deal(attacker, START_BALANCE);
        vm.deal(attacker2, START_BALANCE);
    }

    function _proposer(uint256 seed) internal view returns (address) {
        uint256 i = seed % 3;
        return i == 0 ? honest : i == 1 ? attacker : attacker2;
    }

    function _doc(uint256 seed) internal view returns (bytes memory) {
        return seed % 2 == 0 ? genuineDoc : forgedDoc;
    }

    /// @dev Bonds held in open claims for account `who`, or for everyone when `who` is zero.
    function locked(address who) public view returns (uint256 sum) {
        address[3] memory proposers = [honest, attacker, attacker2];
        bytes32[2] memory docs = [genuineHash, forgedHash];
        for (uint256 d; d < 2; ++d) {
            for (uint256 p; p < 3; ++p) {
                if (!open[docs[d]][proposers[p]]) continue;
                if (who == address(0) || who == proposers[p]) sum += BOND;
                address c = challengerOf[docs[d]][proposers[p]];
                if (c != address(0) && (who == address(0) || who == c)) sum += CHALLENGE_BOND;
            }
        }
    }

    // ---- Actions ----

    function propose(uint256 proposerSeed, uint256 docSeed) external {
        address p = _proposer(proposerSeed);
        bytes memory d = p == honest ? genuineDoc : _doc(docSeed);
        vm.prank(p);
        try optimistic.propose{value: BOND}(d) returns (bytes32 h) {
            open[h][p] = true;
            challengerOf[h][p] = address(0);
            ++proposals;
        } catch {}
    }

    function challenge(uint256 challengerSeed, uint256 proposerSeed, uint256 docSeed) external {
        address p = _proposer(proposerSeed);
        bytes memory d = _doc(docSeed);
        bytes32 h = keccak256(d);
        // The watcher challenges only claims on the forged document; the attacker challenges anything.
        address c = challengerSeed % 3 == 0 ? watcher : challengerSeed % 3 == 1 ? attacker : attacker2;
        if (c == watcher && h != forgedHash) return;
        vm.prank(c);
        try optimistic.challenge{value: CHALLENGE_BOND}(h, p) {
            challengerOf[h][p] = c;
            ++challenges;
            // The honest proposer defends at once.
            if (p == honest) _resolve(honest, d, p);
        } catch {}
    }

    function resolve(uint256 callerSeed, uint256 proposerSeed, uint256 docSeed) external {
        _resolve(_proposer(callerSeed), _doc(docSeed), _proposer(proposerSeed));
    }

    function _resolve(address caller, bytes memory d, address p) internal {
        bytes32 h = keccak256(d);
        vm.prank(caller);
        try optimistic.resolve(d, p, new uint256[](0)) {
            _closed(h, p);
            ++resolutions;
        } catch {}
    }

    /// @dev A keeper (anyone) closes whatever can be closed without a verification.
    function keeper() external {
        address[3] memory proposers = [honest, attacker, attacker2];
        bytes32[2] memory docs = [genuineHash, forgedHash];
        for (uint256 d; d < 2; ++d) {
            for (uint256 p; p < 3; ++p) {
                if (!open[docs[d]][proposers[p]]) continue;
                try optimistic.settle(docs[d], proposers[p]) {
                    _closed(docs[d], proposers[p]);
                    ++settlements;
                } catch {}
                try optimistic.resolveByTimeout(docs[d], proposers[p]) {
                    _closed(docs[d], proposers[p]);
                    ++timeouts;
                } catch {}
            }
        }
    }

    function warp(uint256 secondsSeed) external {
        // Mostly small steps (the document stays fresh for proposals for 10 min), a quarter of them long (windows
        // end after 30 min, resolve periods 60 min later), so a sequence sees every way a claim can end.
        if (secondsSeed % 4 == 0) vm.warp(block.timestamp + 10 minutes + (secondsSeed / 4) % 30 minutes);
        else vm.warp(block.timestamp + 1 + (secondsSeed / 4) % 2 minutes);
    }

    /// @dev A closed claim on a judged document went the way of the verdict.
    function _closed(bytes32 h, address p) internal {
        open[h][p] = false;
        INitroOptimisticVerifier.Verdict v = optimistic.verdictOf(h);
        INitroOptimisticVerifier.Status s = optimistic.statusOf(h, p);
        if (v == INitroOptimisticVerifier.Verdict.Genuine) {
            assertEq(
                uint8(s), uint8(INitroOptimisticVerifier.Status.Valid), "claim on a genuine document lost"
            );
        }
        if (v == INitroOptimisticVerifier.Verdict.NotGenuine) {
            assertEq(uint8(s), uint8(INitroOptimisticVerifier.Status.Invalid), "claim on a forgery won");
        }
    }
}
