// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {Vm} from "forge-std/Vm.sol";

import {IProofMarketplace} from "../../../src/marketplace/IProofMarketplace.sol";
import {Marketplace_Test} from "../Marketplace.t.sol";

/// @dev EIP-2028 calldata cost: 16 per non-zero byte, 4 per zero byte.
function calldataGas(bytes memory data) pure returns (uint256 g) {
    for (uint256 i; i < data.length; ++i) {
        g += data[i] == 0 ? 4 : 16;
    }
}

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

    /// @dev A private ask with its inputs off chain (uploaded to the engine): `createAsk` plus the commitment check
    /// and `PrivateInputsCommitted` (hash and 81-byte engine wrap). Compared with `createAsk` measured from the same
    /// state (the state, warm accounts and slots included, is reverted in between).
    function test_gas_createPrivateAsk1OffChain() external {
        IProofMarketplace.AskParams memory p = askParams(market, 1);
        bytes memory wrap = keyWrap("to engine");
        bytes32 inputsHash = keccak256(privateInputs(1024));
        uint256 fresh = vm.snapshotState();
        bytes memory plainData = abi.encodeCall(mp.createAsk, (p));
        vm.prank(requester);
        (bool ok,) = address(mp).call(plainData);
        assertTrue(ok);
        uint256 plain = vm.lastCallGas().gasTotalUsed;
        vm.revertToState(fresh);

        bytes memory data = abi.encodeCall(mp.createPrivateAsk, (p, inputsHash, wrap, ""));
        vm.prank(requester);
        (ok,) = address(mp).call(data);
        assertTrue(ok);
        uint256 priv = vm.lastCallGas().gasTotalUsed;
        vm.snapshotValue("ProofMarketplace", "createPrivateAsk k=1 off chain", priv);
        emit log_named_uint("createAsk k=1 from the same state", plain);
        assertLe(priv * 100, plain * 110, "private ask: at most 10 % above createAsk");
        assertLe(
            (priv + 21_000 + calldataGas(data)) * 100,
            (plain + 21_000 + calldataGas(plainData)) * 110,
            "private ask incl. base and calldata: at most 10 % above createAsk"
        );
    }

    /// @dev The inputs inline (1 KiB in the calldata and in `PrivateInputsCommitted`).
    function test_gas_createPrivateAsk1Inline() external {
        IProofMarketplace.AskParams memory p = askParams(market, 1);
        bytes memory wrap = keyWrap("to engine");
        bytes memory inputs = privateInputs(1024);
        bytes32 inputsHash = keccak256(inputs);
        vm.prank(requester);
        mp.createPrivateAsk(p, inputsHash, wrap, inputs);
        vm.snapshotGasLastCall("ProofMarketplace", "createPrivateAsk k=1 inline 1 KiB");
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

/// @notice A batch of 50 private assignments (50 distinct private asks and generators, every slot cold, each entry
/// with its 81-byte key wrap) against a batch of 50 public ones applied from the same state: the key wraps' calldata,
/// their hashing into the signed digest, the generator's encryption-key read and `InputsKeyWrapped`.
contract MarketplaceGasPrivate_Test is Marketplace_Test {
    uint256 internal constant BATCH = 50;
    /// @dev The target: a private assignment costs at most 15 000 gas more than a public one, base and calldata
    /// included.
    uint256 internal constant PRIVATE_OVERHEAD_LIMIT = 15_000;

    IProofMarketplace.Assignment[] internal privateBatch;
    IProofMarketplace.Assignment[] internal publicBatch;

    function setUp() public override {
        super.setUp();
        for (uint256 i; i < BATCH; ++i) {
            address g = addKeyedGenerator(string.concat("g", vm.toString(i)), market, 1e18, 4, 2 * PENALTY);
            privateBatch.push(IProofMarketplace.Assignment(createPrivateAsk(market, 1), 0, g, 2e18));
            publicBatch.push(IProofMarketplace.Assignment(createAsk(market, 1), 0, g, 2e18));
        }
    }

    /// @dev Relays `data` and returns the execution gas and the amortised figure with base and calldata.
    function relay(bytes memory data) internal returns (uint256 perAssignment, uint256 allIn) {
        vm.prank(relayer);
        (bool ok, bytes memory ret) = address(mp).call(data);
        Vm.Gas memory used = vm.lastCallGas();
        assertTrue(ok, "batch reverted");
        assertEq(abi.decode(ret, (uint256)), BATCH, "all accepted");
        perAssignment = used.gasTotalUsed / BATCH;
        allIn = (used.gasTotalUsed + 21_000 + calldataGas(data)) / BATCH;
    }

    function test_gas_assignBatchWithKeys50() external {
        uint256 validUntil = block.timestamp + 60;
        uint256 fresh = vm.snapshotState();
        IProofMarketplace.Assignment[] memory pub = publicBatch;
        (, uint256 publicAllIn) =
            relay(abi.encodeCall(mp.assignBatch, (pub, validUntil, signBatch(engine, pub, validUntil))));
        vm.revertToState(fresh);

        IProofMarketplace.Assignment[] memory a = privateBatch;
        bytes[] memory wraps = wrapsFor(a);
        bytes memory sig = signKeyedBatch(engine, a, wraps, validUntil);
        (uint256 perAssignment, uint256 allIn) =
            relay(abi.encodeCall(mp.assignBatchWithKeys, (a, wraps, validUntil, sig)));
        vm.snapshotValue("ProofMarketplace", "assignBatchWithKeys50 per private assignment", perAssignment);
        vm.snapshotValue(
            "ProofMarketplace", "assignBatchWithKeys50 per private assignment incl. calldata", allIn
        );
        emit log_named_uint("assignBatch50 per assignment incl. calldata, same state", publicAllIn);
        assertLe(allIn, publicAllIn + PRIVATE_OVERHEAD_LIMIT, "private overhead per assignment");

        for (uint256 i; i < BATCH; ++i) {
            IProofMarketplace.Slot memory s = mp.getSlot(a[i].askId, 0);
            assertEq(uint256(s.state), uint256(IProofMarketplace.SlotState.Assigned));
            assertEq(s.generator, a[i].generator);
        }
    }
}
