//! Private inputs on the client side: the requester seals its secret for the engine; the
//! assigned generator unwraps the content key the engine re-wrapped to it and opens the inputs.
//! The formats are `market-sealing`'s (docs/private-inputs.md).

use alloy::primitives::{Address, B256, keccak256};
use market_sealing::{
    Context, EncryptionKey, EncryptionPublicKey, InputsBinding, SealedInputs, SlotBinding,
    Zeroizing,
};

use crate::error::{Error, Result};

/// Where an ask's ciphertexts are valid: the chain, the marketplace, the market, the requester
/// and the statement.
#[derive(Clone, Copy, Debug)]
pub struct AskBinding {
    /// The chain id.
    pub chain_id: u64,
    /// The marketplace.
    pub marketplace: Address,
    /// The market.
    pub market_id: u64,
    /// The requester (the ask's creator).
    pub requester: Address,
    /// keccak256 of the statement.
    pub prover_data_hash: B256,
}

impl AskBinding {
    /// The binding of an ask whose statement is `statement`.
    #[must_use]
    pub fn new(
        chain_id: u64,
        marketplace: Address,
        market_id: u64,
        requester: Address,
        statement: &[u8],
    ) -> Self {
        AskBinding {
            chain_id,
            marketplace,
            market_id,
            requester,
            prover_data_hash: keccak256(statement),
        }
    }

    fn context(&self) -> Context {
        Context {
            chain_id: self.chain_id,
            marketplace: self.marketplace.into_array(),
        }
    }

    fn inputs(&self) -> InputsBinding {
        InputsBinding {
            market: self.market_id,
            requester: self.requester.into_array(),
            prover_data_hash: self.prover_data_hash.0,
        }
    }
}

/// Seals `secret` for the engine's encryption key.
#[must_use]
pub fn seal(binding: &AskBinding, secret: &[u8], engine: &EncryptionPublicKey) -> SealedInputs {
    market_sealing::seal_inputs(
        &binding.context(),
        &binding.inputs(),
        secret,
        engine,
        &mut rand_core::OsRng,
    )
}

/// What a generator received for one slot of a private ask.
#[derive(Clone, Debug)]
pub struct SlotInputs<'a> {
    /// The ask.
    pub ask: u64,
    /// The slot.
    pub slot: u8,
    /// The generator (this node).
    pub generator: Address,
    /// The ask's commitment.
    pub inputs_hash: B256,
    /// `InputsKeyWrapped`'s wrap for the slot.
    pub key_wrap: &'a [u8],
    /// The inputs blob (inline or from the engine).
    pub inputs: &'a [u8],
}

/// Unwraps the slot's content key with the generator's key and opens the inputs (checking
/// their hash against the commitment first).
///
/// # Errors
/// [`Error::Sealing`] when the wrap or the inputs do not open, or the hash differs.
pub fn open(
    binding: &AskBinding,
    key: &EncryptionKey,
    slot: &SlotInputs<'_>,
) -> Result<Zeroizing<Vec<u8>>> {
    let ctx = binding.context();
    let content = market_sealing::unwrap_generator_key(
        key,
        &ctx,
        &SlotBinding {
            ask: slot.ask,
            slot: slot.slot,
            generator: slot.generator.into_array(),
        },
        &slot.inputs_hash.0,
        slot.key_wrap,
    )
    .map_err(|e| Error::Sealing(format!("the slot's key wrap: {e}")))?;
    market_sealing::open_inputs(
        &ctx,
        &binding.inputs(),
        &content,
        slot.inputs,
        &slot.inputs_hash.0,
    )
    .map_err(|e| Error::Sealing(format!("the inputs: {e}")))
}

/// How a private ask's inputs reach the engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// In the ask's transaction (`inlineInputs`, at most `MAX_INLINE_INPUTS` bytes).
    Inline,
    /// Uploaded to the engine's API before the ask is created.
    Upload,
}

/// Creates a private ask: takes the engine's attested encryption key, seals `secret` to it,
/// delivers the inputs and creates the ask with their commitment.
///
/// # Errors
/// [`Error::EngineKey`] when the engine's key is not vouched for; [`Error::Invalid`] for inline
/// inputs above the limit; what [`crate::ask::Marketplace::create_private`] returns.
pub async fn create_private_ask(
    market: &crate::ask::Marketplace,
    engine: &crate::engine::EngineApi,
    trust: &crate::engine::EngineTrust,
    requester: Address,
    ask: &crate::ask::NewAsk,
    secret: &[u8],
    delivery: Delivery,
) -> Result<crate::ask::Created> {
    use alloy::providers::Provider as _;
    let chain_id = market
        .provider()
        .get_chain_id()
        .await
        .map_err(|e| Error::rpc("eth_chainId", e))?;
    let attested = engine
        .encryption_key(market.provider(), market.address(), trust)
        .await?;
    let market_id =
        u64::try_from(ask.market_id).map_err(|_| Error::invalid("market", "above 64 bits"))?;
    let binding = AskBinding::new(
        chain_id,
        market.address(),
        market_id,
        requester,
        &ask.statement,
    );
    let sealed = seal(&binding, secret, &attested.key);
    let hash = B256::from(sealed.inputs_hash);
    let inline = match delivery {
        Delivery::Inline => {
            if sealed.inputs.len() > market_sealing::MAX_INLINE_INPUTS {
                return Err(Error::invalid(
                    "--inline",
                    format!(
                        "the sealed inputs are {} bytes, above the {} inline limit",
                        sealed.inputs.len(),
                        market_sealing::MAX_INLINE_INPUTS
                    ),
                ));
            }
            alloy::primitives::Bytes::from(sealed.inputs.clone())
        }
        Delivery::Upload => {
            engine.put_inputs(hash, &sealed.inputs).await?;
            alloy::primitives::Bytes::new()
        }
    };
    market
        .create_private(
            ask,
            &crate::ask::PrivateCommitment {
                inputs_hash: hash,
                engine_key_wrap: alloy::primitives::Bytes::copy_from_slice(&sealed.engine_key_wrap),
                inline_inputs: inline,
            },
        )
        .await
}
