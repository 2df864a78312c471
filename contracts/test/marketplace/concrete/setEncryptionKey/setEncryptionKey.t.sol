// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {IEnclaveAuth} from "../../../../src/interfaces/IEnclaveAuth.sol";
import {IProofMarketplace} from "../../../../src/marketplace/IProofMarketplace.sol";
import {Marketplace_Test} from "../../Marketplace.t.sol";

contract SetEncryptionKey_Test is Marketplace_Test {
    address internal g;
    address internal other;
    uint256 internal priv;
    uint256 internal priv2;
    Enclave internal prover;

    function setUp() public override {
        super.setUp();
        g = addGenerator("g", market, 0, 2, 0);
        other = addGenerator("other", market, 0, 2, 0);
        registerImage(DEV_FAMILY, 2);
        prover = enclave("prover");
        registerKey(DEV_FAMILY, 2, prover);
        IProofMarketplace.MarketParams memory p = marketParams(IProofMarketplace.MatchingMode.OrderBook, 0);
        p.proverFamily = DEV_FAMILY;
        priv = mp.createMarket(p);
        priv2 = mp.createMarket(p);
        joinPrivate(g, priv);
        joinPrivate(g, priv2);
        joinPrivate(other, priv);
    }

    function joinPrivate(address who, uint256 marketId) internal {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(prover.privateKey, mp.proverBindingDigest(who, marketId));
        vm.prank(who);
        mp.joinMarket(marketId, 0, 60, abi.encodePacked(r, s, v));
    }

    function bind(Enclave memory signer, address who, uint256 marketId, bytes memory key)
        internal
        view
        returns (bytes memory)
    {
        (uint8 v, bytes32 r, bytes32 s) =
            vm.sign(signer.privateKey, mp.encryptionKeyBindingDigest(who, marketId, keccak256(key)));
        return abi.encodePacked(r, s, v);
    }

    function test_RevertWhen_UnknownMarket() external {
        bytes memory key = encryptionKey(g);
        vm.expectRevert(abi.encodeWithSelector(IProofMarketplace.ProofMarketplaceUnknownMarket.selector, 99));
        vm.prank(g);
        mp.setEncryptionKey(99, key, "");
    }

    function test_RevertGiven_NotJoined() external {
        uint256 elsewhere = createMarket(IProofMarketplace.MatchingMode.OrderBook, 0);
        bytes memory key = encryptionKey(g);
        vm.expectRevert(
            abi.encodeWithSelector(IProofMarketplace.ProofMarketplaceNotJoined.selector, elsewhere)
        );
        vm.prank(g);
        mp.setEncryptionKey(elsewhere, key, "");
        // Not even registered.
        vm.expectRevert(abi.encodeWithSelector(IProofMarketplace.ProofMarketplaceNotJoined.selector, market));
        vm.prank(makeAddr("nobody"));
        mp.setEncryptionKey(market, key, "");
        // Left the market.
        vm.startPrank(g);
        mp.leaveMarket(market);
        vm.expectRevert(abi.encodeWithSelector(IProofMarketplace.ProofMarketplaceNotJoined.selector, market));
        mp.setEncryptionKey(market, key, "");
        vm.stopPrank();
    }

    function test_RevertWhen_KeyMalformed() external {
        bytes memory key = encryptionKey(g);
        bytes[] memory bad = new bytes[](7);
        bad[0] = "";
        bad[1] = abi.encodePacked(bytes32(keccak256("x")));
        bad[2] = abi.encodePacked(key, bytes1(0));
        bad[3] = abi.encodePacked(bytes1(0x04), keccak256("x"), keccak256("y"));
        bad[4] = abi.encodePacked(bytes1(0x04), keccak256("x"));
        bad[5] = abi.encodePacked(bytes1(0x00), keccak256("x"));
        bad[6] = abi.encodePacked(bytes1(0x12), keccak256("x"));
        for (uint256 i; i < bad.length; ++i) {
            vm.expectRevert(IProofMarketplace.ProofMarketplaceInvalidEncryptionKey.selector);
            vm.prank(g);
            mp.setEncryptionKey(market, bad[i], "");
        }
        assertEq(mp.encryptionKeyHashOf(g, market), bytes32(0));
    }

    function test_RevertGiven_PrivateMarketWithoutValidSignature() external {
        bytes memory key = encryptionKey(g);
        vm.expectRevert(IEnclaveAuth.EnclaveAuthInvalidSignature.selector);
        vm.prank(g);
        mp.setEncryptionKey(priv, key, "");

        // The live matching-engine key is not a key of the prover family.
        bytes memory sig = bind(engine, g, priv, key);
        vm.expectRevert(
            abi.encodeWithSelector(IEnclaveAuth.EnclaveAuthKeyNotLive.selector, engine.addr, DEV_FAMILY)
        );
        vm.prank(g);
        mp.setEncryptionKey(priv, key, sig);

        // A joinMarket binding (same family, same generator and market) is not a key binding.
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(prover.privateKey, mp.proverBindingDigest(g, priv));
        expectRejected(g, key, abi.encodePacked(r, s, v));
        assertEq(mp.encryptionKeyHashOf(g, priv), bytes32(0));
    }

    function test_RevertWhen_BindingReplayed() external {
        bytes memory key = encryptionKey(g);
        bytes memory otherKey = encryptionKey(other);
        // Signed for another generator, replayed by g (the same key bytes).
        expectRejected(g, key, bind(prover, other, priv, key));
        // Signed for g in another market.
        expectRejected(g, key, bind(prover, g, priv2, key));
        // Signed for g in this market, for another key.
        expectRejected(g, key, bind(prover, g, priv, otherKey));
        // The other generator's valid binding, front-run by g with g's own account.
        bytes memory sig = bind(prover, other, priv, otherKey);
        expectRejected(g, otherKey, sig);
        vm.prank(other);
        mp.setEncryptionKey(priv, otherKey, sig);
        assertEq(mp.encryptionKeyHashOf(other, priv), keccak256(otherKey));
        assertEq(mp.encryptionKeyHashOf(g, priv), bytes32(0));
    }

    /// @dev `who` sets `key` in `priv` with `sig`: it recovers, under the binding `who` would need, to an address
    /// that is no live key of the prover family.
    function expectRejected(address who, bytes memory key, bytes memory sig) internal {
        (bytes32 r, bytes32 s) = abi.decode(sig, (bytes32, bytes32));
        address recovered =
            ecrecover(mp.encryptionKeyBindingDigest(who, priv, keccak256(key)), uint8(sig[64]), r, s);
        assertTrue(recovered != prover.addr);
        vm.expectRevert(
            abi.encodeWithSelector(IEnclaveAuth.EnclaveAuthKeyNotLive.selector, recovered, DEV_FAMILY)
        );
        vm.prank(who);
        mp.setEncryptionKey(priv, key, sig);
    }

    function test_RevertGiven_ProverImageRevoked() external {
        bytes memory key = encryptionKey(g);
        bytes memory sig = bind(prover, g, priv, key);
        vm.prank(revoker);
        registry.revokeImage(idOf(imagePcrs(2)), "CVE");
        vm.expectRevert(
            abi.encodeWithSelector(IEnclaveAuth.EnclaveAuthKeyNotLive.selector, prover.addr, DEV_FAMILY)
        );
        vm.prank(g);
        mp.setEncryptionKey(priv, key, sig);
    }

    function test_GivenPrivateMarketWithBinding() external {
        bytes memory key = encryptionKey(g);
        bytes memory sig = bind(prover, g, priv, key);
        vm.expectEmit(address(mp));
        emit IProofMarketplace.EncryptionKeySet(g, priv, key);
        vm.prank(g);
        mp.setEncryptionKey(priv, key, sig);
        assertEq(mp.encryptionKeyHashOf(g, priv), keccak256(key));
        assertEq(mp.encryptionKeyHashOf(g, priv2), bytes32(0), "per market");
    }

    function test_GivenPublicMarket() external {
        bytes memory key = encryptionKey(g);
        vm.expectEmit(address(mp));
        emit IProofMarketplace.EncryptionKeySet(g, market, key);
        vm.prank(g);
        mp.setEncryptionKey(market, key, hex"deadbeef");
        assertEq(mp.encryptionKeyHashOf(g, market), keccak256(key));
        assertEq(mp.encryptionKeyHashOf(other, market), bytes32(0), "per generator");

        // Rotation replaces the key; a 0x02 prefix is as good as 0x03.
        bytes memory next = abi.encodePacked(bytes1(0x02), keccak256("next"));
        vm.expectEmit(address(mp));
        emit IProofMarketplace.EncryptionKeySet(g, market, next);
        vm.prank(g);
        mp.setEncryptionKey(market, next, "");
        assertEq(mp.encryptionKeyHashOf(g, market), keccak256(next));
    }
}
