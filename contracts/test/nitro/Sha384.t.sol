// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

import {Test} from "forge-std/Test.sol";
import {Sha384} from "../../src/nitro/Sha384.sol";

contract Sha384_Test is Test {
    function _digest(bytes memory m) internal pure returns (bytes memory) {
        (uint256 hi, uint256 lo) = Sha384.hash(m, 0, m.length);
        return abi.encodePacked(uint128(hi), lo);
    }

    function _check(bytes memory m, bytes memory want) internal pure {
        assertEq(_digest(m), want);
    }

    /// 1000 random bytes.
    function _random1000() internal pure returns (bytes memory) {
        return hex"3c978b215eea9a79a094109b03e8d678428d3b31feb7788ad68c7965a3dc263ba226deed8563bd03abc61028c2f5970a4dc707d2dd447998b8ebe063b6c9eb6d65bacd9371f6ef22e05d1809227e3742f7ac6fc7a0da4d6b81d5629259889568953be756aeeaed07db47fd9babb229b2dc53f68ae792911ab6a736a2d4fc9244481f107bdaa3fd7b1658cc1169e526054b6dc46adf1e0b9a9dc20b60b796548de1ecfb47813cff094f01131b998908f232f8684a9c4327b00afade56505cf523e5dc606075de8562a4dd98ae8f1a9ef9f0cf81456ea2b8b73cef4d6ffa42854d8c5602c96afc945005609d96a1220fa2a055775aadea5a9bb447bc7d05960ff4ad05f65e40a0744c9799512d5d2f50c25ed898434cc9601ac5d006f891afbc214f8038a7cd443d532fad6fa6b2181a9952f255acd53970cfdbf52b1456bda637e291734539c91e0887f53050ced6d6932edd4757ced3a415ce9e5896216b4a84cbd9457658a26a4a6b916809eb692733017af1d5e19ffc826f8ff3fcedb73808be74d6c0a9bf84f6498b57e33adc11db96f8491ecf3e0b08e7cdb183ec32e5e2e66e930c037bbe1e2b804c3da9058689690df0e99c1d572040f8dc8a7acfc80f5a38321f88e3d11e2b3dca46ebe3ce20d2eb017ca092dc660cc1453f449e86856c0d7952c6d100db0ec6200b1f0c117bf908dab61683807d502850125962a563964d5c4330fc546d1f208e00b7b961cb14912d0a5f759aa6c88a61a2cd0b9fe26e0d5fa07fc2b3506bf3b16b75043e378945b19712cd6c396d21e107ef535ff8e58fcade431f76b01ff0d0bba9d9e387ca60aa1bbb5190881acf96b70179243cc6630b86179019a8e1602dd10657d7da1f06d81dac7bd6b2f348944ccc1609ffc4908287b73d1b8dbf19ef8d0f8c53de902ed3133dff2ea53f749db3c0f164405e9965f0598e6bf71560803cf9ed69d7bff7296ab091c194acec84af7b27a466e5e32629187fbf7beab284f37196b8db2f2244c03225958350ef3bd9b089f4c74babb4da6998da9595fb44e3374e05447acd61332c915c3d527bc6dd246bfdb27ab399347794d5e6d2a78e077bfeb812dbf266c8bbe1f50b77e93ae43ca5b7c6ac11f537da413de330c642232f9fb4acdb09e6ef412bdd0b502e6c17bacc151e1743d5e94a095b7394bbac56010755546f617c1335a495bef47d64208b511ee24613aa6e1c70e387e8401887f0b35fadc55ec1734ba9adaba7f1ced1431bc1f1f656ac9089861daa7e825a0fb74badba90be2ea5a5baa1262d5ee3eba7741f1bee8f24eb54a5b8a6986b8e4ca52f757b4fc82db4111bb72ec18d8b93bd645b194445620ddf220a7a81453fb2c4835ae055f167728acfc5115a7fd8fe1c26459719ae1c90c7e8ba1c";
    }

    /// `n` bytes b[i] = i * 7 + 3 (mod 256): no lane or byte of a block looks like another.
    function _pattern(uint256 n) internal pure returns (bytes memory b) {
        b = new bytes(n);
        for (uint256 i; i < n; ++i) {
            b[i] = bytes1(uint8(i * 7 + 3));
        }
    }

    /// Vectors from Python hashlib: empty, "abc", the padding boundaries 111/112/127/128/239 bytes, 1000 random bytes.
    function test_MatchesReferenceVectors() public pure {
        _check(
            hex"",
            hex"38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b"
        );
        _check(
            hex"616263",
            hex"cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7"
        );
        _check(
            hex"616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161",
            hex"3c37955051cb5c3026f94d551d5b5e2ac38d572ae4e07172085fed81f8466b8f90dc23a8ffcdea0b8d8e58e8fdacc80a"
        );
        _check(
            hex"61616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161",
            hex"187d4e07cb306103c69967bf544d0dfbe9042577599c73c330abc0cb64c61236d5ed565ee19119d8c31779a38f791fcd"
        );
        _check(
            hex"61616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161",
            hex"9bd06b1763c2cf7aef40e795dc65bc96d59c41b537f3ad72ebdefd485476b5717c1aeb37c327fe9c1831b12b9efd08ae"
        );
        _check(
            hex"6161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161",
            hex"edb12730a366098b3b2beac75a3bef1b0969b15c48e2163c23d96994f8d1bef760c7e27f3c464d3829f56c0d53808b0b"
        );
        _check(
            hex"6161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161",
            hex"e247c35f4bc1aa38026f8880c8c97305545d00d3f859e00c57d1c1f0a176b3c6b749c4eb081f08bd0fba500969cd056a"
        );
        _check(
            _random1000(),
            hex"428cc5a0cc4eb60dff032c8b29226a0e441db3046e6d1d7769d27f9ef9841d0097d97706ceae36761456e8b21eeaf285"
        );
    }

    /// Padding edges: the length fits in the last block (≤ 111 bytes over a block boundary) or needs one
    /// more block (112..127), at one and two blocks. From
    /// `python3 -c 'import hashlib; print(hashlib.sha384(bytes((i*7+3)&255 for i in range(N))).hexdigest())'`.
    function test_MatchesVectorsAtThePaddingEdges() public pure {
        _check(
            _pattern(0),
            hex"38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b"
        );
        _check(
            _pattern(111),
            hex"341388a9dc2275074e90cf394323761919761c805fd9e370977c9966a0e8c81a52135f02577670b0071638a4a26dbc31"
        );
        _check(
            _pattern(112),
            hex"619cc5d06138526d70659eccf602d197e63e1050e22039a7feb40a30a5b2b08fb03729e291df12f8c576e6f1cd8af22a"
        );
        _check(
            _pattern(127),
            hex"f8234ab81f5f9641c656680825a9bbb3c2616bcc80b65d5e479a4d96742e1b8742330c9e8256ef5f03caa932487044ca"
        );
        _check(
            _pattern(128),
            hex"e8480e9c4dd90f88104a79cbaccec48edbd798a142b4f241d726dc252f1502350e824c7d18dadd59d7d716919fb8f9bf"
        );
        _check(
            _pattern(239),
            hex"fc75ded15c6080ff96ac03391fc1302ca180128e4b6a4a2f17782f2ec016fc3f79b48b5fed3305fb7fdff9fd29434525"
        );
        _check(
            _pattern(240),
            hex"4c4bc5dae174dd68cb5a62e066e01e339e4980e4a35531b732dcf88e9c579e66f7c0d044779e2eda8a597684ca7cffd6"
        );
        _check(
            _pattern(255),
            hex"15f3347894a150a64eb82a7044bb5ec8b1d33488716fce4932ba73beb97eabd1ad796bc0a569129ba98120ae1ed7edce"
        );
        _check(
            _pattern(256),
            hex"23f0634552ba15289fa02c8a37e3a391e79e230dca05db03a7696630c5ba3a3352d1624f52832e4d6183c0eb70198e9a"
        );
    }

    function test_HashesASubrange() public pure {
        bytes memory m = hex"ff616263ff";
        (uint256 hi, uint256 lo) = Sha384.hash(m, 1, 3);
        assertEq(abi.encodePacked(uint128(hi), lo), _digest("abc"));
    }

    /// Subranges of the random vector at unaligned offsets (hashlib of m[13:790], m[999:], m[500:500]).
    function test_HashesMultiBlockSubranges() public pure {
        bytes memory m = _random1000();
        (uint256 hi, uint256 lo) = Sha384.hash(m, 13, 777);
        assertEq(
            abi.encodePacked(uint128(hi), lo),
            hex"12636fe518a14f1672006a78810b257f934f3822baa701d45c1a66997673d76bd73c360adb84a056d7290d9a318a99ba"
        );
        (hi, lo) = Sha384.hash(m, 999, 1);
        assertEq(
            abi.encodePacked(uint128(hi), lo),
            hex"c957bc2f68b7df675b64cbd1d26f62c5d924b3679bb06b2994cc4b43e0b4ab6fdae5d239679220fb04e5243ce78699b2"
        );
        (hi, lo) = Sha384.hash(m, 500, 0);
        assertEq(abi.encodePacked(uint128(hi), lo), _digest(""));
    }

    /// Every length from 0 to 300 (every padding case over three blocks) at offset 5 agrees with the
    /// textbook implementation below.
    function test_MatchesTheReferenceAtEveryLength() public pure {
        bytes memory b = _pattern(305);
        for (uint256 n; n <= 300; ++n) {
            (uint256 hi, uint256 lo) = Sha384.hash(b, 5, n);
            bytes memory s = new bytes(n);
            for (uint256 i; i < n; ++i) {
                s[i] = b[5 + i];
            }
            assertEq(abi.encodePacked(uint128(hi), lo), _reference(s));
        }
    }

    function testFuzz_MatchesTheReference(bytes memory m, uint256 off, uint256 len) public pure {
        off = bound(off, 0, m.length);
        len = bound(len, 0, m.length - off);
        bytes memory s = new bytes(len);
        for (uint256 i; i < len; ++i) {
            s[i] = m[off + i];
        }
        (uint256 hi, uint256 lo) = Sha384.hash(m, off, len);
        assertEq(abi.encodePacked(uint128(hi), lo), _reference(s));
    }

    /// SHA-384 as FIPS 180-4 writes it, on uint64 words (constants from the library's table, which the
    /// hashlib vectors check).
    function _reference(bytes memory m) internal pure returns (bytes memory) {
        bytes memory ivk = Sha384.IV_K;
        uint64[88] memory c; // H(0), then K
        for (uint256 i; i < 88; ++i) {
            c[i] = _be64(ivk, 8 * i);
        }
        uint256 n = (m.length + 17 + 127) / 128 * 128;
        bytes memory p = new bytes(n);
        for (uint256 i; i < m.length; ++i) {
            p[i] = m[i];
        }
        p[m.length] = 0x80;
        uint256 bits = m.length * 8;
        for (uint256 i; i < 8; ++i) {
            p[n - 1 - i] = bytes1(uint8(bits >> (8 * i)));
        }
        uint64[8] memory h;
        for (uint256 i; i < 8; ++i) {
            h[i] = c[i];
        }
        uint64[80] memory w;
        unchecked {
            for (uint256 blk; blk < n; blk += 128) {
                for (uint256 t; t < 16; ++t) {
                    w[t] = _be64(p, blk + 8 * t);
                }
                for (uint256 t = 16; t < 80; ++t) {
                    uint64 s0 = _rotr(w[t - 15], 1) ^ _rotr(w[t - 15], 8) ^ (w[t - 15] >> 7);
                    uint64 s1 = _rotr(w[t - 2], 19) ^ _rotr(w[t - 2], 61) ^ (w[t - 2] >> 6);
                    w[t] = s1 + w[t - 7] + s0 + w[t - 16];
                }
                uint64[8] memory x; // a, ..., h
                for (uint256 i; i < 8; ++i) {
                    x[i] = h[i];
                }
                for (uint256 t; t < 80; ++t) {
                    uint64 t1 = x[7] + (_rotr(x[4], 14) ^ _rotr(x[4], 18) ^ _rotr(x[4], 41))
                        + ((x[4] & x[5]) ^ (~x[4] & x[6])) + c[8 + t] + w[t];
                    uint64 t2 = (_rotr(x[0], 28) ^ _rotr(x[0], 34) ^ _rotr(x[0], 39))
                        + ((x[0] & x[1]) ^ (x[0] & x[2]) ^ (x[1] & x[2]));
                    x[7] = x[6];
                    x[6] = x[5];
                    x[5] = x[4];
                    x[4] = x[3] + t1;
                    x[3] = x[2];
                    x[2] = x[1];
                    x[1] = x[0];
                    x[0] = t1 + t2;
                }
                for (uint256 i; i < 8; ++i) {
                    h[i] += x[i];
                }
            }
        }
        return abi.encodePacked(h[0], h[1], h[2], h[3], h[4], h[5]);
    }

    function _be64(bytes memory b, uint256 at) private pure returns (uint64 v) {
        for (uint256 i; i < 8; ++i) {
            v = (v << 8) | uint8(b[at + i]);
        }
    }

    function _rotr(uint64 x, uint64 n) private pure returns (uint64) {
        return (x >> n) | (x << (64 - n));
    }

    function test_RevertWhen_RangeOutOfBounds() public {
        vm.expectRevert(Sha384.Sha384OutOfBounds.selector);
        this.hashExternal(hex"0102", 1, 2);
    }

    function hashExternal(bytes calldata m, uint256 off, uint256 len)
        external
        pure
        returns (uint256, uint256)
    {
        return Sha384.hash(m, off, len);
    }

    function test_gas_sha384_4KiB() public {
        bytes memory m = new bytes(4096);
        uint256 g = gasleft();
        Sha384.hash(m, 0, m.length);
        g -= gasleft();
        vm.snapshotValue("sha384_4096_bytes", g);
    }
}
