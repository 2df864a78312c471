"""Recomputes the known answers of tests/sealing.rs without this crate.

Needs Python `cryptography` and Foundry's `cast` on PATH (source ci/env.sh). Prints the inputs
blob, its hash, the engine wrap, the generator wrap and the sealed bid as hex.
"""
import hmac, hashlib, subprocess, sys
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
def comp(pub): return pub.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint)
def key(d): return ec.derive_private_key(d, ec.SECP256K1())
def w(i): return i.to_bytes(32,'big')
def wrap(e, rpub, pt, info, aad):
    E = comp(e.public_key()); R = comp(rpub)
    x = e.exchange(ec.ECDH(), rpub)
    okm = HKDF(hashes.SHA256(), 44, E+R, info).derive(x)
    return E + AESGCM(okm[:32]).encrypt(okm[32:], pt, aad)
def keccak(b): return bytes.fromhex(subprocess.check_output(['cast','keccak','0x'+b.hex()]).decode().strip()[2:])
chain, mp = 31337, bytes([0xc0])*20
addr = lambda v: v.to_bytes(20,'big')
eng = key(int.from_bytes(bytes([0x42])*32,'big'))
market, req, pdh = 7, addr(0xabc), bytes([9])*32
K, N = bytes([1])*32, bytes([2])*12
secret = b"x = 42, the witness"
inputs = N + AESGCM(K).encrypt(N, secret, b"ProofMarketplace inputs v1"+w(chain)+mp+w(market)+req+pdh)
h = keccak(inputs)
print("inputs", inputs.hex()); print("hash", h.hex())
ew = wrap(key(int.from_bytes(bytes([3])*32,'big')), eng.public_key(), K, b"ProofMarketplace inputs key to engine v1", w(chain)+mp+w(market)+req+pdh+h)
print("engine", ew.hex())
gaad = w(chain)+mp+w(11)+w(1)+addr(0x1001)+h
hm = hmac.new(bytes([0x42])*32, b"ProofMarketplace inputs wrap v1"+gaad, hashlib.sha256).digest()
e = int.from_bytes(hm,'big') % (n-1) + 1
gw = wrap(key(e), key(int.from_bytes(bytes([5])*32,'big')).public_key(), K, b"ProofMarketplace inputs key to generator v1", gaad)
print("generator", gw.hex())
# bid
bid = wrap(key(int.from_bytes(bytes([0x11])*32,'big')), eng.public_key(), (1234).to_bytes(16,'big'), b"ProofMarketplace sealed bid v1", w(chain)+addr(0xc0de)+w(7)+addr(0x1001))
print("bid", bid.hex())
# identity hand-off: engine secret 0x21.., bid secret 0x22.., to the newcomer key 0x05.., ephemeral 0x11..
req_hash = keccak(b"request document")
idw = wrap(key(int.from_bytes(bytes([0x11])*32,'big')), key(int.from_bytes(bytes([5])*32,'big')).public_key(), bytes([0x21])*32 + bytes([0x22])*32, b"ProofMarketplace identity hand-off v1", req_hash + w(chain) + addr(0xe7))
print("identity", idw.hex())
