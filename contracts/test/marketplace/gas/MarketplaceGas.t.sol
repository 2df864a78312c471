// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {Vm} from "forge-std/Vm.sol";

import {IProofMarketplace} from "../../../src/marketplace/IProofMarketplace.sol";
import {Marketplace_Test} from "../Marketplace.t.sol";

/// @notice Gas figures committed under `snapshots/ProofMarketplace.json`. Each test is its own transaction, so the
/// measured call pays cold storage (EIP-2929) as it would on chain. Figures are execution gas of the call; the
/// relayer additionally pays the 21 000 base and calldata, reported separately as `... incl. calldata`.
contract MarketplaceGas_Test is Marketplace_Test {
    uint256 internal constant BATCH = 50;
    /// @dev The target: at most 40 000 gas per assignment in a batch of 50.
    uint256 internal constant PER_ASSIGNMENT_LIMIT = 40_000;

    IProofMarketplace.Assignment[] internal batch;
    address[] internal generators;

    function setUp() public override {
        super.setUp();
        // Worst case for storage: 50 distinct asks and 50 distinct generators, every slot cold.
        for (uint256 i; i < BATCH; ++i) {
            address g = addGenerator(string.concat("g", vm.toString(i)), market, 1e18, 4, PENALTY);
            generators.push(g);
            uint256 askId = createAsk(market, 1);
            batch.push(IProofMarketplace.Assignment(askId, 0, g, 2e18));
        }
    }

    function test_gas_assignBatch50() external {
        IProofMarketplace.Assignment[] memory a = batch;
        uint256 validUntil = block.timestamp + 60;
        bytes memory sig = signBatch(engine, a, validUntil);
        bytes memory data = abi.encodeCall(mp.assignBatch, (a, validUntil, sig));

        vm.prank(relayer);
        (bool ok, bytes memory ret) = address(mp).call(data);
        Vm.Gas memory used = vm.lastCallGas();
        assertTrue(ok, "assignBatch reverted");
        assertEq(abi.decode(ret, (uint256)), BATCH, "all accepted");

        uint256 perAssignment = used.gasTotalUsed / BATCH;
        uint256 allIn = (used.gasTotalUsed + 21_000 + calldataGas(data)) / BATCH;
        vm.snapshotValue("ProofMarketplace", "assignBatch50 total", used.gasTotalUsed);
        vm.snapshotValue("ProofMarketplace", "assignBatch50 per assignment", perAssignment);
        vm.snapshotValue("ProofMarketplace", "assignBatch50 per assignment incl. calldata", allIn);
        assertLe(perAssignment, PER_ASSIGNMENT_LIMIT, "per-assignment gas");
        assertLe(allIn, PER_ASSIGNMENT_LIMIT, "per-assignment gas with base and calldata");

        // Everything really happened.
        for (uint256 i; i < BATCH; ++i) {
            assertEq(uint256(mp.getSlot(a[i].askId, 0).state), uint256(IProofMarketplace.SlotState.Assigned));
            assertEq(staking.lockedOf(generators[i], market), PENALTY);
        }
    }

    function test_gas_assignBatch1() external {
        IProofMarketplace.Assignment[] memory a = one(batch[0].askId, 0, batch[0].generator, 2e18);
        uint256 validUntil = block.timestamp + 60;
        bytes memory sig = signBatch(engine, a, validUntil);
        vm.prank(relayer);
        assertEq(mp.assignBatch(a, validUntil, sig), 1);
        vm.snapshotGasLastCall("ProofMarketplace", "assignBatch1");
    }

    function test_gas_createAsk1() external {
        IProofMarketplace.AskParams memory p = askParams(market, 1);
        vm.prank(requester);
        mp.createAsk(p);
        vm.snapshotGasLastCall("ProofMarketplace", "createAsk k=1");
    }

    /// @dev Each extra slot is one more storage word created with the ask (paid by the requester).
    function test_gas_createAsk3() external {
        IProofMarketplace.AskParams memory p = askParams(market, 3);
        vm.prank(requester);
        mp.createAsk(p);
        vm.snapshotGasLastCall("ProofMarketplace", "createAsk k=3");
    }

    function test_gas_submitProof() external {
        assign(one(batch[0].askId, 0, batch[0].generator, 2e18));
        bytes memory data = statement(WITNESS);
        bytes memory proof = prove(WITNESS, 77);
        vm.prank(batch[0].generator);
        mp.submitProof(batch[0].askId, 0, data, proof);
        vm.snapshotGasLastCall("ProofMarketplace", "submitProof (Schnorr verifier)");
    }

    function test_gas_slash() external {
        assign(one(batch[0].askId, 0, batch[0].generator, 2e18));
        vm.warp(block.timestamp + PROVING_TIME + 1);
        mp.slash(batch[0].askId, 0);
        vm.snapshotGasLastCall("ProofMarketplace", "slash");
    }

    /// @dev Deployed sizes (EIP-170 limit: 24 576 bytes).
    function test_bytecodeSize() external {
        vm.snapshotValue("ProofMarketplace", "runtime size ProofMarketplace", address(mp).code.length);
        vm.snapshotValue("ProofMarketplace", "runtime size NativeStaking", address(staking).code.length);
        assertLe(address(mp).code.length, 24_576);
    }

    /// @dev EIP-2028 calldata cost: 16 per non-zero byte, 4 per zero byte.
    function calldataGas(bytes memory data) internal pure returns (uint256 g) {
        for (uint256 i; i < data.length; ++i) {
            g += data[i] == 0 ? 4 : 16;
        }
    }
}

/// @notice The worst case of the distinct-generator check: the last slot of a 16-slot ask, its 15 other slots
/// assigned in earlier transactions (so each is a cold read).
contract MarketplaceGasWorstCase_Test is Marketplace_Test {
    uint256 internal askId;
    address internal last;

    function setUp() public override {
        super.setUp();
        askId = createAsk(market, 16);
        for (uint256 i; i < 15; ++i) {
            address g = addGenerator(string.concat("w", vm.toString(i)), market, 0, 1, PENALTY);
            assertEq(assign(one(askId, i, g, REWARD)), 1);
        }
        last = addGenerator("last", market, 0, 1, PENALTY);
    }

    function test_gas_assignLastSlotOf16() external {
        IProofMarketplace.Assignment[] memory a = one(askId, 15, last, REWARD);
        uint256 validUntil = block.timestamp + 60;
        bytes memory sig = signBatch(engine, a, validUntil);
        vm.prank(relayer);
        assertEq(mp.assignBatch(a, validUntil, sig), 1);
        vm.snapshotGasLastCall("ProofMarketplace", "assignBatch1 last slot of k=16 (15 cold slot reads)");
    }
}
