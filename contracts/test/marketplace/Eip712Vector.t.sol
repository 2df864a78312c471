// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {Vm} from "forge-std/Vm.sol";

import {IProofMarketplace} from "../../src/marketplace/IProofMarketplace.sol";
import {NativeStaking} from "../../src/marketplace/NativeStaking.sol";
import {ProofMarketplace} from "../../src/marketplace/ProofMarketplace.sol";
import {Marketplace_Test} from "./Marketplace.t.sol";

/// @notice The contract hashes assignment batches exactly as the Rust engine does: the vector pinned in
/// `enclave/engine/src/tests/signing.rs` (computed independently with `cast`), down to the engine's signature,
/// which this contract accepts as a real batch.
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
        _join(GEN_A, m);
        _join(GEN_B, m);

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

    function _join(address g, uint256 m) internal {
        vm.startPrank(g);
        vmp.registerGenerator(4);
        vmp.joinMarket(m, 0, PROVING_TIME, "");
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
