// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {Vm} from "forge-std/Vm.sol";

import {IProofMarketplace} from "../../src/marketplace/IProofMarketplace.sol";
import {NativeStaking} from "../../src/marketplace/NativeStaking.sol";
import {ProofMarketplace} from "../../src/marketplace/ProofMarketplace.sol";
import {Marketplace_Test} from "./Marketplace.t.sol";

/// @notice The contract hashes assignment batches exactly as the Rust engine does: the vector pinned in
/// `enclave/engine/src/tests/signing.rs` (computed independently with `cast`), down to the engine's signature,
/// which this contract accepts as a real batch. The private-ask vector (a keyed batch, an invalid-inputs statement, an
/// encryption-key binding) is `fixtures/private_eip712_vector.json`, computed with `cast` alone by
/// `fixtures/private_eip712_vector.sh`; the constants below are copied from it.
contract Eip712Vector_Test is Marketplace_Test {
    /// @dev anvil's first development key and its address (never a real key).
    uint256 internal constant ANVIL_KEY = 0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80;
    address internal constant ANVIL_ADDR = 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266;
    address internal constant VERIFYING_CONTRACT = 0x5FbDB2315678afecb367f032d93F642f64180aa3;
    address internal constant GEN_A = 0x70997970C51812dc3A010C7d01b50e0d17dc79C8;
    address internal constant GEN_B = 0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC;
    uint256 internal constant VALID_UNTIL = 1_700_000_000;

    bytes32 internal constant DOMAIN_SEPARATOR =
        0xd3d68319dc54aa7b3461d1a5b292d667c9c9d35b241deef9652710c1de724d00;
    bytes32 internal constant FIRST_ASSIGNMENT_HASH =
        0x5053ebae4f71341031ca5b9ef5d3d29d8511b10cbdb98dc1310213fc36834c60;
    bytes32 internal constant DIGEST = 0xbd3dcc5720f2df5950ccb1bd254a90591054fb3cdd278039104e7689e330eede;
    /// @dev The engine's signature `r ‖ s ‖ v` of DIGEST.
    bytes32 internal constant SIG_R = 0x9c6d542f5ca4244ade0e03bb2f8d4e861126593a17d161c16b17cc66a0e76993;
    bytes32 internal constant SIG_S = 0x370b6ceb4777ba2653a151068fbc7b67661872534bacba59d77914e6b41aef01;
    uint8 internal constant SIG_V = 0x1c;

    // ---- Private asks (fixtures/private_eip712_vector.json) ----

    bytes32 internal constant KEYED_TYPEHASH =
        0x680f32a4d91756ab714c827b7c7f32c3f96b108c94411e9844908b2492bdbf2b;
    bytes32 internal constant INVALID_TYPEHASH =
        0x1a477d05fa7b7b70723bec40dc29ee20b22e9dd3ef35c014dc63981d8da91c8e;
    bytes32 internal constant BINDING_TYPEHASH =
        0x34038f6e6204dbab8a4ed151d9eaf35ba0426c745410ff980c7addc63a2ff332;
    /// @dev keccak256(keccak256(wrap0) ‖ keccak256("")): the public entry's empty wrap is hashed like any element.
    bytes32 internal constant KEY_WRAPS_HASH =
        0x4452911e3c29a4d3ab8c1d4065e3e86582d2e1d9657b96734ddefb89a31300b3;
    bytes32 internal constant KEYED_DIGEST =
        0x81cfd93b6f93d750a4408f6d8815872cf9399c43cb6c06f18410a34e90b8e390;
    bytes internal constant KEYED_SIG =
        hex"f2660529562e7924f78e716eea9fa02059cf126edd244686810909c843522564568221f73d6ecb7e034781ad9ca1984d3af5e568f5bb8b3875c65a1e67c3c6251c";
    /// @dev InvalidInputs(askId 1, slot 0, GEN_A, payment 4e17).
    uint256 internal constant INVALID_PAYMENT = 4e17;
    bytes32 internal constant INVALID_DIGEST =
        0x8457420a0272f0fd11345d3dc11d82228e00b19d65d4d14714c20ef787594e93;
    bytes internal constant INVALID_SIG =
        hex"d23597da3d1821c4459cc9d45a79c07bf7d7cd16ce9c1c6bfe21effac286242473078ababcfac2a59763736c750ec1d7c480d6f5096aec26d6c28b5e9c867c091c";
    /// @dev EncryptionKeyBinding(GEN_A, market 1, keccak256(0x02 ‖ 0x11 × 32)).
    bytes32 internal constant BINDING_DIGEST =
        0x14fd12f166e9945ae4f373dc0da72e7a7373cf0370d6b96380bfabdbe11c0af2;
    bytes internal constant BINDING_SIG =
        hex"3cd53652d97c9ecb8b735995fd56f2e3d310ffd02ebd21e76601581873d5521645e288f9e87e433068fbd8a9c99b0885576b006cd5c94e7f6fcfd88c2f98b0b31b";

    ProofMarketplace internal vmp;
    NativeStaking internal vstaking;

    function setUp() public override {
        super.setUp();
        vm.chainId(31_337);
        vm.warp(VALID_UNTIL - 1000);
        vstaking = new NativeStaking(stakeToken, treasury, COMPENSATION_BPS);
        // anvil's first account deploying its first contract lands at the vector's verifying contract.
        vm.prank(ANVIL_ADDR);
        vmp = new ProofMarketplace(registry, FAMILY, token, vstaking);
        vstaking.bindMarketplace(address(vmp));
    }

    function vectorBatch() internal pure returns (IProofMarketplace.Assignment[] memory a) {
        a = new IProofMarketplace.Assignment[](2);
        a[0] = IProofMarketplace.Assignment({askId: 1, slot: 0, generator: GEN_A, price: 1e18});
        a[1] = IProofMarketplace.Assignment({askId: 2, slot: 1, generator: GEN_B, price: 5e17});
    }

    function test_TypeHashesMatchTheEngine() external view {
        assertEq(
            vmp.ASSIGNMENT_TYPEHASH(), 0xd901ba3559b4c33c7e11daeda76b092903efa7b5f5ed327c674f745c2548ad53
        );
        assertEq(vmp.BATCH_TYPEHASH(), 0x300ff8cb02f60b954160c7e493f0645853af931931aa98f9f883ef700397a8d4);
    }

    function test_DigestMatchesTheEngineVector() external view {
        assertEq(address(vmp), VERIFYING_CONTRACT);
        (, string memory name, string memory version, uint256 chainId, address verifying,,) =
            vmp.eip712Domain();
        assertEq(name, "ProofMarketplace");
        assertEq(version, "1");
        assertEq(chainId, 31_337);
        assertEq(verifying, VERIFYING_CONTRACT);
        IProofMarketplace.Assignment[] memory a = vectorBatch();
        assertEq(
            keccak256(
                abi.encode(vmp.ASSIGNMENT_TYPEHASH(), a[0].askId, a[0].slot, a[0].generator, a[0].price)
            ),
            FIRST_ASSIGNMENT_HASH
        );
        assertEq(_domainSeparatorOf(vmp), DOMAIN_SEPARATOR, "domain separator");
        assertEq(vmp.batchDigest(a, VALID_UNTIL), DIGEST);
        assertEq(ecrecover(DIGEST, SIG_V, SIG_R, SIG_S), ANVIL_ADDR);
    }

    /// @dev The engine's own signature, relayed by anyone, assigns both entries once anvil's key is a live key of
    /// the matching-engine family.
    function test_EngineSignatureIsAcceptedOnChain() external {
        Enclave memory anvilKey;
        anvilKey.privateKey = ANVIL_KEY;
        anvilKey.addr = ANVIL_ADDR;
        anvilKey.publicKey = _publicKey(ANVIL_KEY);
        registerKey(FAMILY, 1, anvilKey);

        uint256 m = vmp.createMarket(marketParams(IProofMarketplace.MatchingMode.OrderBook, 0));
        vm.startPrank(requester);
        token.approve(address(vmp), type(uint256).max);
        IProofMarketplace.AskParams memory p = askParams(m, 1);
        p.reward = 1e18;
        vmp.createAsk(p);
        p.redundancy = 2;
        vmp.createAsk(p);
        vm.stopPrank();
        _join(GEN_A, m, "");
        _join(GEN_B, m, "");

        vm.expectEmit(address(vmp));
        emit IProofMarketplace.AssignmentAccepted(1, GEN_A, 0, 1e18, uint64(block.timestamp + PROVING_TIME));
        vm.expectEmit(address(vmp));
        emit IProofMarketplace.AssignmentAccepted(2, GEN_B, 1, 5e17, uint64(block.timestamp + PROVING_TIME));
        vm.prank(relayer);
        assertEq(vmp.assignBatch(vectorBatch(), VALID_UNTIL, abi.encodePacked(SIG_R, SIG_S, SIG_V)), 2);
        assertEq(vmp.getSlot(2, 1).generator, GEN_B);

        // One second after validUntil the same signature is refused as a whole.
        vm.warp(VALID_UNTIL + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IProofMarketplace.ProofMarketplaceBatchExpired.selector, VALID_UNTIL)
        );
        vmp.assignBatch(vectorBatch(), VALID_UNTIL, abi.encodePacked(SIG_R, SIG_S, SIG_V));
    }

    /// @dev The vector's wrap of entry 0: 0x02 ‖ 0x01 ‖ 0x02 ‖ … ‖ 0x50 (81 bytes). Entry 1 (a public ask) has none.
    function vectorWraps() internal pure returns (bytes[] memory w) {
        w = new bytes[](2);
        w[0] = new bytes(81);
        w[0][0] = 0x02;
        for (uint256 i = 1; i < 81; ++i) {
            w[0][i] = bytes1(uint8(i));
        }
    }

    function vectorKey() internal pure returns (bytes memory) {
        return abi.encodePacked(
            bytes1(0x02), bytes32(0x1111111111111111111111111111111111111111111111111111111111111111)
        );
    }

    function test_PrivateTypeHashesMatchTheVector() external view {
        assertEq(vmp.KEYED_BATCH_TYPEHASH(), KEYED_TYPEHASH);
        assertEq(vmp.INVALID_INPUTS_TYPEHASH(), INVALID_TYPEHASH);
        assertEq(vmp.ENCRYPTION_KEY_BINDING_TYPEHASH(), BINDING_TYPEHASH);
        assertEq(vmp.KEY_WRAP_LEN(), 81);
    }

    /// @dev The digests, rebuilt here from the EIP-712 rules (not the contract's code), equal the vector's and the
    /// contract's; each signature recovers to anvil's key.
    function test_PrivateDigestsMatchTheVector() external view {
        IProofMarketplace.Assignment[] memory a = vectorBatch();
        bytes[] memory w = vectorWraps();
        assertEq(w[0].length, 81);
        bytes32 assignmentType =
            keccak256("Assignment(uint256 askId,uint256 slot,address generator,uint256 price)");
        bytes32 assignmentsHash = keccak256(
            abi.encodePacked(
                keccak256(abi.encode(assignmentType, a[0].askId, a[0].slot, a[0].generator, a[0].price)),
                keccak256(abi.encode(assignmentType, a[1].askId, a[1].slot, a[1].generator, a[1].price))
            )
        );
        bytes32 wrapsHash = keccak256(abi.encodePacked(keccak256(w[0]), keccak256("")));
        assertEq(wrapsHash, KEY_WRAPS_HASH);
        bytes32 keyedType = keccak256(
            "KeyedAssignmentBatch(Assignment[] assignments,bytes[] keyWraps,uint256 validUntil)Assignment(uint256 askId,uint256 slot,address generator,uint256 price)"
        );
        assertEq(keyedType, KEYED_TYPEHASH);
        bytes32 structHash = keccak256(abi.encode(keyedType, assignmentsHash, wrapsHash, VALID_UNTIL));
        assertEq(keccak256(abi.encodePacked(hex"1901", DOMAIN_SEPARATOR, structHash)), KEYED_DIGEST);
        assertEq(vmp.keyedBatchDigest(a, w, VALID_UNTIL), KEYED_DIGEST);
        assertTrue(KEYED_DIGEST != vmp.batchDigest(a, VALID_UNTIL), "keyed and plain batches never collide");
        assertEq(_recover(KEYED_DIGEST, KEYED_SIG), ANVIL_ADDR);

        bytes32 invalidType =
            keccak256("InvalidInputs(uint256 askId,uint256 slot,address generator,uint256 payment)");
        structHash = keccak256(abi.encode(invalidType, uint256(1), uint256(0), GEN_A, INVALID_PAYMENT));
        assertEq(keccak256(abi.encodePacked(hex"1901", DOMAIN_SEPARATOR, structHash)), INVALID_DIGEST);
        assertEq(vmp.invalidInputsDigest(1, 0, GEN_A, INVALID_PAYMENT), INVALID_DIGEST);
        assertEq(_recover(INVALID_DIGEST, INVALID_SIG), ANVIL_ADDR);

        bytes32 bindingType =
            keccak256("EncryptionKeyBinding(address generator,uint256 marketId,bytes32 keyHash)");
        structHash = keccak256(abi.encode(bindingType, GEN_A, uint256(1), keccak256(vectorKey())));
        assertEq(keccak256(abi.encodePacked(hex"1901", DOMAIN_SEPARATOR, structHash)), BINDING_DIGEST);
        assertEq(vmp.encryptionKeyBindingDigest(GEN_A, 1, keccak256(vectorKey())), BINDING_DIGEST);
        assertEq(_recover(BINDING_DIGEST, BINDING_SIG), ANVIL_ADDR);
    }

    /// @dev The vector's keyed batch assigns a private ask (1) and a public one (2) on chain, the private entry's
    /// wrap reaching its generator in `InputsKeyWrapped`; the vector's invalid-inputs statement then settles it.
    /// With anvil's key also live in a prover family, the vector's binding registers GEN_A's key in market 1.
    function test_EngineKeyedSignatureIsAcceptedOnChain() external {
        Enclave memory anvilKey;
        anvilKey.privateKey = ANVIL_KEY;
        anvilKey.addr = ANVIL_ADDR;
        anvilKey.publicKey = _publicKey(ANVIL_KEY);
        registerKey(FAMILY, 1, anvilKey);
        registerImage(DEV_FAMILY, 2);
        registerKey(DEV_FAMILY, 2, anvilKey);

        IProofMarketplace.MarketParams memory mparams =
            marketParams(IProofMarketplace.MatchingMode.OrderBook, 0);
        mparams.proverFamily = DEV_FAMILY;
        uint256 m = vmp.createMarket(mparams);
        assertEq(m, 1);
        vm.startPrank(requester);
        token.approve(address(vmp), type(uint256).max);
        IProofMarketplace.AskParams memory p = askParams(m, 1);
        p.reward = 1e18;
        vmp.createPrivateAsk(p, keccak256("inputs"), vectorWraps()[0], "");
        p.redundancy = 2;
        vmp.createAsk(p);
        vm.stopPrank();
        _join(GEN_A, m, _proverBinding(GEN_A, m));
        _join(GEN_B, m, _proverBinding(GEN_B, m));
        vm.expectEmit(address(vmp));
        emit IProofMarketplace.EncryptionKeySet(GEN_A, m, vectorKey());
        vm.prank(GEN_A);
        vmp.setEncryptionKey(m, vectorKey(), BINDING_SIG);

        bytes[] memory w = vectorWraps();
        uint64 deadline = uint64(block.timestamp + PROVING_TIME);
        vm.expectEmit(address(vmp));
        emit IProofMarketplace.AssignmentAccepted(1, GEN_A, 0, 1e18, deadline);
        vm.expectEmit(address(vmp));
        emit IProofMarketplace.InputsKeyWrapped(1, 0, GEN_A, w[0]);
        vm.expectEmit(address(vmp));
        emit IProofMarketplace.AssignmentAccepted(2, GEN_B, 1, 5e17, deadline);
        vm.prank(relayer);
        assertEq(vmp.assignBatchWithKeys(vectorBatch(), w, VALID_UNTIL, KEYED_SIG), 2);

        vm.expectEmit(address(vmp));
        emit IProofMarketplace.InputsInvalid(1, 0, GEN_A, INVALID_PAYMENT);
        vm.prank(relayer);
        vmp.settleInvalidInputs(1, 0, INVALID_PAYMENT, INVALID_SIG);
        assertEq(vmp.withdrawableOf(GEN_A), INVALID_PAYMENT);
    }

    /// @dev anvil's key, live in the prover family, binds `g` to private market `m`.
    function _proverBinding(address g, uint256 m) internal view returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(ANVIL_KEY, vmp.proverBindingDigest(g, m));
        return abi.encodePacked(r, s, v);
    }

    function _recover(bytes32 digest, bytes memory sig) internal pure returns (address) {
        (bytes32 r, bytes32 s) = abi.decode(sig, (bytes32, bytes32));
        return ecrecover(digest, uint8(sig[64]), r, s);
    }

    /// @dev Registers, joins (with `enclaveSignature` for a private market) and stakes one penalty.
    function _join(address g, uint256 m, bytes memory enclaveSignature) internal {
        vm.startPrank(g);
        vmp.registerGenerator(4);
        vmp.joinMarket(m, 0, PROVING_TIME, enclaveSignature);
        vm.stopPrank();
        stakeToken.mint(g, PENALTY);
        vm.startPrank(g);
        stakeToken.approve(address(vstaking), PENALTY);
        vstaking.deposit(m, PENALTY);
        vm.stopPrank();
    }

    function _publicKey(uint256 key) internal returns (bytes memory) {
        Vm.Wallet memory w = vm.createWallet(key);
        return abi.encodePacked(bytes1(0x04), bytes32(w.publicKeyX), bytes32(w.publicKeyY));
    }

    function _domainSeparatorOf(ProofMarketplace target) internal view returns (bytes32) {
        (, string memory name, string memory version, uint256 chainId, address verifying,,) =
            target.eip712Domain();
        return keccak256(
            abi.encode(
                keccak256(
                    "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
                ),
                keccak256(bytes(name)),
                keccak256(bytes(version)),
                chainId,
                verifying
            )
        );
    }
}
