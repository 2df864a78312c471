// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {Vm} from "forge-std/Vm.sol";

import {IProofMarketplace} from "../../../../src/marketplace/IProofMarketplace.sol";
import {Marketplace_Test} from "../../Marketplace.t.sol";

contract CreatePrivateAsk_Test is Marketplace_Test {
    bytes internal inputs;
    bytes32 internal inputsHash;
    bytes internal engineWrap;

    function setUp() public override {
        super.setUp();
        inputs = privateInputs(1024);
        inputsHash = keccak256(inputs);
        engineWrap = keyWrap("to engine");
    }

    function expectInvalid(bytes32 hash, bytes memory wrap, bytes memory inlineInputs) internal {
        IProofMarketplace.AskParams memory p = askParams(market, 1);
        vm.expectRevert(IProofMarketplace.ProofMarketplaceInvalidPrivateInputs.selector);
        createPrivateAsk(p, hash, wrap, inlineInputs);
    }

    function test_RevertWhen_InputsHashZero() external {
        expectInvalid(bytes32(0), engineWrap, "");
        // Also when the inline inputs are empty: keccak256 of nothing is not zero, but the hash given is.
        expectInvalid(bytes32(0), engineWrap, hex"");
    }

    function test_RevertWhen_WrapLengthWrong() external {
        expectInvalid(inputsHash, "", "");
        bytes memory shortWrap = new bytes(80);
        expectInvalid(inputsHash, shortWrap, "");
        expectInvalid(inputsHash, abi.encodePacked(engineWrap, bytes1(0)), "");
        expectInvalid(inputsHash, abi.encodePacked(engineWrap, bytes1(0)), inputs);
    }

    function test_RevertWhen_InlineInputsDoNotHash() external {
        expectInvalid(keccak256("other inputs"), engineWrap, inputs);
        bytes memory flipped = bytes.concat(inputs);
        flipped[0] = bytes1(uint8(flipped[0]) ^ 1);
        expectInvalid(inputsHash, engineWrap, flipped);
        bytes memory truncated = privateInputs(1023);
        expectInvalid(inputsHash, engineWrap, truncated);
    }

    function test_RevertWhen_InlineInputsTooLarge() external {
        bytes memory big = privateInputs(mp.MAX_INLINE_INPUTS() + 1);
        expectInvalid(keccak256(big), engineWrap, big);
        assertEq(mp.askCount(), 0);
    }

    function test_RevertWhen_AskParamsInvalid() external {
        IProofMarketplace.AskParams memory p = askParams(market, 17);
        vm.expectRevert(IProofMarketplace.ProofMarketplaceInvalidAskParams.selector);
        createPrivateAsk(p, inputsHash, engineWrap, "");
        p = askParams(market, 1);
        p.proverData = hex"00";
        vm.expectRevert(IProofMarketplace.ProofMarketplaceInvalidProverData.selector);
        createPrivateAsk(p, inputsHash, engineWrap, "");
        p = askParams(market + 1, 1);
        vm.expectRevert(
            abi.encodeWithSelector(IProofMarketplace.ProofMarketplaceUnknownMarket.selector, market + 1)
        );
        createPrivateAsk(p, inputsHash, engineWrap, "");
    }

    function test_WhenOffChain() external {
        IProofMarketplace.AskParams memory p = askParams(market, 3);
        uint256 before = token.balanceOf(requester);
        vm.recordLogs();
        assertEq(createPrivateAsk(p, inputsHash, engineWrap, ""), 1);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        // AskCreated, PrivateInputsCommitted and the token's Transfer, in that order.
        assertEq(logs.length, 3);
        assertEq(logs[0].topics[0], IProofMarketplace.AskCreated.selector);
        assertEq(logs[1].emitter, address(mp));
        assertEq(logs[1].topics[0], IProofMarketplace.PrivateInputsCommitted.selector);
        assertEq(logs[1].topics[1], bytes32(uint256(1)));
        (bytes32 h, bytes memory w, bytes memory inl) = abi.decode(logs[1].data, (bytes32, bytes, bytes));
        assertEq(h, inputsHash);
        assertEq(w, engineWrap);
        assertEq(inl.length, 0);

        IProofMarketplace.Ask memory a = mp.getAsk(1);
        assertTrue(a.confidential);
        assertEq(a.redundancy, 3);
        assertEq(a.requester, requester);
        assertEq(a.proverDataHash, keccak256(p.proverData));
        for (uint256 i; i < 16; ++i) {
            IProofMarketplace.SlotState want =
                i < 3 ? IProofMarketplace.SlotState.Open : IProofMarketplace.SlotState.None;
            assertEq(uint256(mp.getSlot(1, i).state), uint256(want));
        }
        assertEq(token.balanceOf(requester), before - 3 * uint256(REWARD));
        assertEq(mp.totalEscrow(), 3 * uint256(REWARD));
        assertConserved();

        // One id sequence; a public ask is not confidential.
        assertEq(createAsk(market, 1), 2);
        assertFalse(mp.getAsk(2).confidential);
        assertEq(createPrivateAsk(market, 1), 3);
        assertTrue(mp.getAsk(3).confidential);
    }

    function test_WhenInline() external {
        IProofMarketplace.AskParams memory p = askParams(market, 1);
        expectAskCreated(1, p);
        vm.expectEmit(address(mp));
        emit IProofMarketplace.PrivateInputsCommitted(1, inputsHash, engineWrap, inputs);
        createPrivateAsk(p, inputsHash, engineWrap, inputs);

        // The largest inline inputs are accepted.
        bytes memory largest = privateInputs(mp.MAX_INLINE_INPUTS());
        vm.expectEmit(address(mp));
        emit IProofMarketplace.PrivateInputsCommitted(2, keccak256(largest), engineWrap, largest);
        assertEq(createPrivateAsk(p, keccak256(largest), engineWrap, largest), 2);
        assertEq(mp.totalEscrow(), 2 * uint256(REWARD));
        assertConserved();
    }
}
