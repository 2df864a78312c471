// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {CommonBase} from "forge-std/Base.sol";
import {Vm} from "forge-std/Vm.sol";

import {INetworkMiddleware} from "../../../src/symbiotic/INetworkMiddleware.sol";
import {ISymbioticStakingModule} from "../../../src/symbiotic/ISymbioticStakingModule.sol";
import {SymbioticStakingModule} from "../../../src/symbiotic/SymbioticStakingModule.sol";

/// @notice The bridge job's two duties, done in Solidity with a live enclave key so that the L2 module and the real
/// L1 middleware (with the real Symbiotic core) can be tested together on one chain and one clock: read
/// `NetworkMiddleware.stakeAt` at a capture time and submit it as a one-chunk snapshot, and carry the module's
/// `SlashRequested` records to `NetworkMiddleware.slash`, counting which ones L1 accepts.
contract RestakingBridge is CommonBase {
    /// @notice What carrying one slash's records to L1 gave.
    struct Carried {
        uint256 records;
        uint256 accepted;
        uint256 rejected;
        uint256 requested;
        uint48 capture;
        bytes32 slashId;
        bytes4 firstError;
    }

    INetworkMiddleware public immutable MIDDLEWARE;
    SymbioticStakingModule public immutable MODULE;
    address private immutable _OWNER;
    uint256 private _key;

    constructor(INetworkMiddleware middleware, SymbioticStakingModule module, uint256 enclaveKey) {
        MIDDLEWARE = middleware;
        MODULE = module;
        _OWNER = msg.sender;
        _key = enclaveKey;
    }

    /// @notice Replaces the enclave key (the registry expires keys). Only the deployer.
    function setKey(uint256 enclaveKey) external {
        require(msg.sender == _OWNER, "RestakingBridge: not owner");
        _key = enclaveKey;
    }

    /// @notice Reads every registered vault's stake of `operators` at `capture` on L1 and submits it as epoch
    /// `epoch`'s snapshot (zero stakes omitted, one chunk).
    function submitSnapshot(uint64 epoch, uint48 capture, address[] memory operators) external {
        ISymbioticStakingModule.VaultStake[] memory all =
            new ISymbioticStakingModule.VaultStake[](operators.length * MIDDLEWARE.vaults().length);
        uint256 n;
        for (uint256 i; i < operators.length; ++i) {
            (address[] memory vaults, address[] memory collaterals, uint256[] memory amounts) =
                MIDDLEWARE.stakeAt(operators[i], capture);
            for (uint256 j; j < vaults.length; ++j) {
                if (amounts[j] == 0) continue;
                all[n++] = ISymbioticStakingModule.VaultStake({
                    operator: operators[i], vault: vaults[j], collateral: collaterals[j], amount: amounts[j]
                });
            }
        }
        ISymbioticStakingModule.VaultStake[] memory stakes = new ISymbioticStakingModule.VaultStake[](n);
        for (uint256 i; i < n; ++i) {
            stakes[i] = all[i];
        }
        bytes32 root = MODULE.nextSnapshotRoot(bytes32(0), MODULE.hashStakes(stakes));
        bytes memory sig = _sign(MODULE.snapshotChunkDigest(epoch, capture, 0, 1, root, stakes));
        MODULE.submitSnapshotChunk(epoch, capture, 0, 1, root, stakes, sig);
    }

    /// @notice Carries the module's `SlashRequested` records among `logs` to L1, signed by the enclave key.
    function carry(Vm.Log[] memory logs) external returns (Carried memory c) {
        for (uint256 i; i < logs.length; ++i) {
            Vm.Log memory l = logs[i];
            if (
                l.emitter != address(MODULE) || l.topics[0] != ISymbioticStakingModule.SlashRequested.selector
            ) {
                continue;
            }
            (uint256 amount, uint48 capture) = abi.decode(l.data, (uint256, uint48));
            INetworkMiddleware.SlashResult memory r = INetworkMiddleware.SlashResult({
                slashId: l.topics[1],
                operator: address(uint160(uint256(l.topics[2]))),
                vault: address(uint160(uint256(l.topics[3]))),
                amount: amount,
                captureTimestamp: capture
            });
            ++c.records;
            c.requested += amount;
            (c.capture, c.slashId) = (capture, r.slashId);
            try MIDDLEWARE.slash(r, _sign(MIDDLEWARE.slashResultDigest(r))) {
                ++c.accepted;
            } catch (bytes memory reason) {
                ++c.rejected;
                if (c.firstError == bytes4(0)) c.firstError = bytes4(reason);
            }
        }
    }

    function _sign(bytes32 digest) private view returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(_key, digest);
        return abi.encodePacked(r, s, v);
    }
}
