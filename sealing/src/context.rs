//! Where a ciphertext is valid, and the associated-data encoding every use shares:
//! integers as 32-byte big-endian words, addresses as 20 bytes, hashes as 32 bytes.

/// A 20-byte Ethereum address.
pub type Address = [u8; 20];

/// The chain and marketplace contract a ciphertext belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Context {
    /// Chain id.
    pub chain_id: u64,
    /// The marketplace contract.
    pub marketplace: Address,
}

/// Associated data under construction.
pub(crate) struct Aad(Vec<u8>);

impl Aad {
    /// Starts with `chainId ‖ marketplace`, after an optional domain tag.
    pub(crate) fn new(tag: &[u8], ctx: &Context) -> Self {
        let mut v = Vec::with_capacity(tag.len() + 200);
        v.extend_from_slice(tag);
        Self(v).word(ctx.chain_id).address(&ctx.marketplace)
    }

    /// Empty associated data, for a use that does not start with the marketplace context.
    pub(crate) fn empty() -> Self {
        Self(Vec::with_capacity(128))
    }

    /// A 32-byte big-endian word.
    pub(crate) fn word(mut self, n: u64) -> Self {
        self.0.extend_from_slice(&[0u8; 24]);
        self.0.extend_from_slice(&n.to_be_bytes());
        self
    }

    /// A 20-byte address.
    pub(crate) fn address(mut self, a: &Address) -> Self {
        self.0.extend_from_slice(a);
        self
    }

    /// A 32-byte hash.
    pub(crate) fn hash(mut self, h: &[u8; 32]) -> Self {
        self.0.extend_from_slice(h);
        self
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}
