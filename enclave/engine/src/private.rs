//! Private asks: inputs only the assigned generators can read.
//!
//! A private ask commits to `inputsHash` and carries its content key wrapped to the engine
//! ([`market_sealing`]). The engine assigns it only once it has checked, with its own key, that
//! the key unwraps, the inputs (inline or uploaded) hash to the commitment and open, and that no
//! earlier ask committed to the same inputs. Each assigned slot gets the content key re-wrapped
//! to its generator's encryption key for the market, deterministically, so every replica of the
//! engine signs the same bytes. The plaintext is held only while it is checked.

use std::collections::BTreeMap;

use market_sealing::{ContentKey, InputsBinding, KEY_WRAP_LEN, SlotBinding};

use crate::eip712::{Domain, InvalidInputs};
use crate::engine::Engine;
use crate::error::{EventError, InputsError, StatementError};
use crate::signer::{SignedInvalidInputs, Signer};
use crate::state::{AskPhase, AskState, SlotState};
use crate::store::Uploaded;
use crate::types::{Address, Amount, AskId, Assignment, MarketId};

/// Why a private ask cannot be assigned (yet).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrivateStatus {
    /// Its inputs opened: it is matched like any other ask (to generators with a key).
    Ready,
    /// Its key unwrapped; its inputs were not uploaded yet.
    AwaitingInputs,
    /// This engine has no decryption key.
    NoEngineKey,
    /// Its key does not unwrap with this engine's key (wrapped to another key or context).
    KeyUnwrapFailed,
    /// Its inputs hash to the commitment but do not open under its key and binding.
    InputsUnopenable,
    /// An earlier ask committed to the same inputs: only the first opens.
    ReplayedCommitment,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Readiness {
    Ready(ContentKey),
    AwaitingInputs(ContentKey),
    Blocked(PrivateStatus),
}

/// One assigned slot's wrap and what the statement needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SlotKey {
    generator: Address,
    wrap: [u8; KEY_WRAP_LEN],
    /// The generator's offer cost when it was assigned.
    cost: Amount,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PrivateAsk {
    pub(crate) inputs_hash: [u8; 32],
    /// Empty when the inputs are uploaded to the input store.
    pub(crate) inline: Vec<u8>,
    pub(crate) readiness: Readiness,
    pub(crate) slots: BTreeMap<u8, SlotKey>,
}

impl PrivateAsk {
    pub(crate) fn status(&self) -> PrivateStatus {
        match self.readiness {
            Readiness::Ready(_) => PrivateStatus::Ready,
            Readiness::AwaitingInputs(_) => PrivateStatus::AwaitingInputs,
            Readiness::Blocked(s) => s,
        }
    }
}

fn binding(a: &AskState) -> InputsBinding {
    InputsBinding {
        market: a.ask.market,
        requester: a.ask.requester.0,
        prover_data_hash: a.ask.prover_data_hash,
    }
}

impl Engine {
    pub(crate) fn on_private_committed(
        &mut self,
        id: AskId,
        inputs_hash: [u8; 32],
        wrap: &[u8],
        inline: &[u8],
    ) -> Result<(), EventError> {
        if self.fresh != Some(id) {
            return Err(EventError::MisplacedCommitment(id));
        }
        // The first ask by id owns a commitment, even one that expired on arrival.
        let first = *self.commitments.entry(inputs_hash).or_insert(id);
        let Some(a) = self.asks.get(&id) else {
            return Ok(());
        };
        let readiness = if first != id {
            Readiness::Blocked(PrivateStatus::ReplayedCommitment)
        } else if let Some(opener) = &self.opener {
            match market_sealing::unwrap_engine_key(
                opener.key(),
                &opener.context().sealing(),
                &binding(a),
                &inputs_hash,
                wrap,
            ) {
                Err(_) => Readiness::Blocked(PrivateStatus::KeyUnwrapFailed),
                Ok(key) => {
                    let stored = if inline.is_empty() {
                        self.store.get(&inputs_hash)
                    } else {
                        Some(inline)
                    };
                    match stored {
                        None => Readiness::AwaitingInputs(key),
                        Some(inputs) => self.check_inputs(a, key, inputs, &inputs_hash),
                    }
                }
            }
        } else {
            Readiness::Blocked(PrivateStatus::NoEngineKey)
        };
        let a = self.asks.get_mut(&id).expect("checked above");
        a.private = Some(Box::new(PrivateAsk {
            inputs_hash,
            inline: inline.to_vec(),
            readiness,
            slots: BTreeMap::new(),
        }));
        self.flush_fresh();
        Ok(())
    }

    /// Opens the inputs under the ask's key and binding; the plaintext is dropped (zeroed) here.
    fn check_inputs(
        &self,
        a: &AskState,
        key: ContentKey,
        inputs: &[u8],
        inputs_hash: &[u8; 32],
    ) -> Readiness {
        let Some(opener) = &self.opener else {
            return Readiness::Blocked(PrivateStatus::NoEngineKey);
        };
        match market_sealing::open_inputs(
            &opener.context().sealing(),
            &binding(a),
            &key,
            inputs,
            inputs_hash,
        ) {
            Ok(_plaintext) => Readiness::Ready(key),
            Err(_) => Readiness::Blocked(PrivateStatus::InputsUnopenable),
        }
    }

    /// Stores uploaded inputs and, if a live private ask waits for them, checks them and
    /// matches it. Returns what the upload did and the proposals it made (drained from the
    /// engine, as [`Engine::take_proposals`] does). Uploads are not chain events: a replica
    /// rebuilt from the chain needs them again to assign those asks.
    ///
    /// # Errors
    /// [`InputsError`] for an upload too large, not hashing to `inputs_hash`, or beyond the
    /// store's budget.
    pub fn upload_inputs(
        &mut self,
        inputs_hash: [u8; 32],
        inputs: &[u8],
    ) -> Result<(Uploaded, Vec<Assignment>), InputsError> {
        let waiting = self.commitments.get(&inputs_hash).and_then(|id| {
            let p = self.asks.get(id)?.private.as_deref()?;
            Some((*id, p))
        });
        if let Some((_, p)) = waiting
            && !p.inline.is_empty()
        {
            if market_sealing::inputs_hash(inputs) != inputs_hash {
                return Err(InputsError::HashMismatch);
            }
            return Ok((Uploaded::AlreadyPresent, Vec::new()));
        }
        let limits = self.config.inputs;
        let uploaded = self.store.insert(&limits, self.now, inputs_hash, inputs)?;
        if let Some((id, _)) = waiting {
            self.inputs_arrived(id);
        }
        Ok((uploaded, self.take_proposals()))
    }

    fn inputs_arrived(&mut self, id: AskId) {
        let a = &self.asks[&id];
        let Some(p) = a.private.as_deref() else {
            return;
        };
        let Readiness::AwaitingInputs(key) = &p.readiness else {
            return;
        };
        let Some(inputs) = self.store.get(&p.inputs_hash) else {
            return;
        };
        let readiness = self.check_inputs(a, key.clone(), inputs, &p.inputs_hash);
        let ready = matches!(readiness, Readiness::Ready(_));
        if let Some(p) = self
            .asks
            .get_mut(&id)
            .and_then(|a| a.private.as_deref_mut())
        {
            p.readiness = readiness;
        }
        if ready {
            self.match_ask(id);
        }
    }

    /// Whether the ask can be matched at all: public, or private with inputs checked.
    pub(crate) fn matchable(a: &AskState) -> bool {
        a.private
            .as_deref()
            .is_none_or(|p| matches!(p.readiness, Readiness::Ready(_)))
    }

    /// Whether `generator` may take a slot of the ask: it does not hold, never held and was not
    /// barred from it, and for a private ask it has an encryption key in the market.
    pub(crate) fn can_take(&self, a: &AskState, generator: Address) -> bool {
        !a.bars(generator)
            && (a.private.is_none() || self.encryption_key(generator, a.ask.market).is_some())
    }

    fn encryption_key(
        &self,
        generator: Address,
        market: MarketId,
    ) -> Option<market_sealing::EncryptionPublicKey> {
        self.generators
            .get(&generator)?
            .markets
            .get(&market)?
            .encryption_key
    }

    /// Records the wrap of a private ask's slot for its generator (on proposal, or when the
    /// chain accepted an assignment this engine did not propose).
    pub(crate) fn record_slot_key(&mut self, id: AskId, slot: u8, generator: Address) {
        let Some(a) = self.asks.get(&id) else { return };
        let Some(p) = a.private.as_deref() else {
            return;
        };
        if p.slots.get(&slot).is_some_and(|k| k.generator == generator) {
            return;
        }
        let (Some(opener), Readiness::Ready(key), Some(generator_key)) = (
            &self.opener,
            &p.readiness,
            self.encryption_key(generator, a.ask.market),
        ) else {
            return;
        };
        let wrap = market_sealing::wrap_for_generator(
            opener.key(),
            &opener.context().sealing(),
            &SlotBinding {
                ask: id,
                slot,
                generator: generator.0,
            },
            &p.inputs_hash,
            key,
            &generator_key,
        );
        let cost = self
            .generators
            .get(&generator)
            .and_then(|g| g.markets.get(&a.ask.market))
            .map_or(Amount::MAX, |m| m.offer.cost);
        let p = self
            .asks
            .get_mut(&id)
            .and_then(|a| a.private.as_deref_mut())
            .expect("checked above");
        p.slots.insert(
            slot,
            SlotKey {
                generator,
                wrap,
                cost,
            },
        );
    }

    /// Forgets the wrap of a slot that opened again.
    pub(crate) fn forget_slot_key(&mut self, id: AskId, slot: u8) {
        if let Some(p) = self
            .asks
            .get_mut(&id)
            .and_then(|a| a.private.as_deref_mut())
        {
            p.slots.remove(&slot);
        }
    }

    /// The 81-byte content-key wrap of a proposed or confirmed private assignment, `None` for a
    /// public ask's (or an assignment this engine does not hold).
    #[must_use]
    pub fn key_wrap(&self, a: &Assignment) -> Option<[u8; KEY_WRAP_LEN]> {
        self.asks
            .get(&a.ask)?
            .private
            .as_deref()?
            .slots
            .get(&a.slot)
            .filter(|k| k.generator == a.generator)
            .map(|k| k.wrap)
    }

    /// Whether the ask is private (`None`: unknown or retired).
    #[must_use]
    pub fn is_private(&self, ask: AskId) -> Option<bool> {
        self.asks.get(&ask).map(|a| a.private.is_some())
    }

    pub(crate) fn on_encryption_key_set(
        &mut self,
        generator: Address,
        market: MarketId,
        public_key: &[u8],
    ) -> Result<(), EventError> {
        if !self.markets.contains_key(&market) {
            return Err(EventError::UnknownMarket(market));
        }
        let key = market_sealing::EncryptionPublicKey::from_slice(public_key).ok();
        let mem = self
            .generators
            .entry(generator)
            .or_default()
            .markets
            .entry(market)
            .or_default();
        mem.encryption_key = key;
        if key.is_none() {
            return Err(EventError::BadEncryptionKey { generator, market });
        }
        // Waiting private asks may now be compatible with this generator.
        self.fill_from_offer(generator, market);
        Ok(())
    }

    pub(crate) fn on_discarded(
        &mut self,
        id: AskId,
        slot: u8,
        generator: Address,
    ) -> Result<(), EventError> {
        let a = self.asks.get(&id).ok_or(EventError::UnknownAsk(id))?;
        match a.slots.get(usize::from(slot)) {
            None => return Err(EventError::SlotOutOfRange { ask: id, slot }),
            Some(SlotState::Confirmed { generator: g, .. }) if *g == generator => {}
            Some(_) => return Err(EventError::SlotConflict { ask: id, slot }),
        }
        self.reopen_barred(id, slot, generator);
        Ok(())
    }

    /// Drops stored inputs no live ask claims, once `orphan_ttl` has passed since their upload.
    pub(crate) fn drop_unclaimed_inputs(&mut self) {
        for hash in self
            .store
            .take_aged(self.now, self.config.inputs.orphan_ttl)
        {
            let claimed = self
                .commitments
                .get(&hash)
                .and_then(|id| self.asks.get(id))
                .is_some_and(|a| a.private.as_deref().is_some_and(|p| p.inline.is_empty()));
            if !claimed {
                self.store.remove(&hash);
            }
        }
    }

    /// The encrypted inputs committed to by `inputs_hash`: uploaded, or inline in a live ask.
    #[must_use]
    pub fn inputs(&self, inputs_hash: &[u8; 32]) -> Option<&[u8]> {
        self.store.get(inputs_hash).or_else(|| {
            let id = self.commitments.get(inputs_hash)?;
            let p = self.asks.get(id)?.private.as_deref()?;
            (!p.inline.is_empty()).then_some(p.inline.as_slice())
        })
    }

    /// A live private ask's status (`None`: unknown, retired or public).
    #[must_use]
    pub fn private_status(&self, ask: AskId) -> Option<PrivateStatus> {
        Some(self.asks.get(&ask)?.private.as_deref()?.status())
    }

    /// Number of live private asks.
    #[must_use]
    pub fn private_asks(&self) -> usize {
        self.asks.values().filter(|a| a.private.is_some()).count()
    }

    /// Entries and bytes in the input store.
    #[must_use]
    pub fn stored_inputs(&self) -> (usize, usize) {
        (self.store.len(), self.store.bytes())
    }

    /// Signs the statement that a private ask's assigned slot has invalid inputs: they fail the
    /// input check configured for the market's verifier. The payment is the generator's offer
    /// cost when it was assigned, at most the slot's price.
    ///
    /// # Errors
    /// [`StatementError`]: unknown or public ask, slot not assigned on chain, inputs unreadable,
    /// no check for the market, [`StatementError::InputsValid`] when the inputs pass, or a
    /// signing failure.
    pub fn invalid_inputs_statement(
        &self,
        id: AskId,
        slot: u8,
        signer: &dyn Signer,
        domain: &Domain,
    ) -> Result<SignedInvalidInputs, StatementError> {
        let a = self.asks.get(&id).ok_or(StatementError::UnknownAsk(id))?;
        let p = a.private.as_deref().ok_or(StatementError::NotPrivate(id))?;
        let Some(SlotState::Confirmed {
            generator, price, ..
        }) = a.slots.get(usize::from(slot)).copied()
        else {
            return Err(StatementError::NotAssigned { ask: id, slot });
        };
        let market = &self.markets[&a.ask.market].market;
        let check = self
            .config
            .input_checks
            .get(&market.verifier)
            .ok_or(StatementError::NoInputCheck(market.id))?
            .check();
        let (Some(opener), Readiness::Ready(key), Some(inputs)) =
            (&self.opener, &p.readiness, self.inputs(&p.inputs_hash))
        else {
            return Err(StatementError::InputsUnavailable(id));
        };
        let secret = market_sealing::open_inputs(
            &opener.context().sealing(),
            &binding(a),
            key,
            inputs,
            &p.inputs_hash,
        )
        .map_err(|_| StatementError::InputsUnavailable(id))?;
        if check.is_valid(&a.ask.prover_data, &secret) {
            return Err(StatementError::InputsValid(id));
        }
        let cost = p
            .slots
            .get(&slot)
            .filter(|k| k.generator == generator)
            .map_or(price, |k| k.cost);
        let statement = InvalidInputs {
            ask: id,
            slot,
            generator,
            payment: cost.min(price),
        };
        Ok(statement.sign(signer, domain)?)
    }

    /// Matches an ask created by the previous log, once it is known whether a private-inputs
    /// commitment follows it (the contract logs one right after `AskCreated`, in the same
    /// transaction). Public asks drop their prover data here.
    pub(crate) fn flush_fresh(&mut self) {
        let Some(id) = self.fresh.take() else { return };
        let Some(a) = self.asks.get_mut(&id) else {
            return;
        };
        if a.private.is_none() {
            a.ask.prover_data = Vec::new();
        }
        if a.phase == AskPhase::Matching {
            self.match_ask(id);
        }
    }
}
