//! Reading stake on L1 at one verified block: the middleware's registered vaults, the operators of
//! Symbiotic's `OperatorRegistry` (found through the first vault's delegator, as the network sees
//! it), and `NetworkMiddleware.stakeAt(operator, capture)` for each.

use alloy::primitives::aliases::U48;
use alloy::primitives::{Address, U256};

use crate::chain::{Chain, VerifiedBlock};
use crate::error::{DataError, Error};
use marketplace_bindings::NetworkMiddleware;
use marketplace_bindings::SymbioticStakingModule::VaultStake;
use marketplace_bindings::external::{IBaseDelegator, IOptInService, IRegistry, IVault};

/// Every (operator, vault) stake the middleware reports at `capture`, read at `block` (which must
/// be later than `capture`), zero stakes included; at most `max_operators` operators.
///
/// # Errors
/// [`DataError::StakeArrays`], [`DataError::SnapshotTooLarge`], a revert or an RPC failure.
pub async fn read_stakes(
    l1: &Chain,
    middleware: Address,
    block: &VerifiedBlock,
    capture: u64,
    max_operators: u64,
) -> Result<Vec<VaultStake>, Error> {
    let at = block.id();
    let p = l1.reader();
    let m = NetworkMiddleware::new(middleware, p);
    let vaults = l1.call("vaults", m.vaults().block(at).call()).await?;
    let Some(first) = vaults.first() else {
        return Ok(Vec::new());
    };
    let delegator = l1
        .call(
            "delegator",
            IVault::new(*first, p).delegator().block(at).call(),
        )
        .await?;
    let opt_in = l1
        .call(
            "OPERATOR_VAULT_OPT_IN_SERVICE",
            IBaseDelegator::new(delegator, p)
                .OPERATOR_VAULT_OPT_IN_SERVICE()
                .block(at)
                .call(),
        )
        .await?;
    let registry = l1
        .call(
            "WHO_REGISTRY",
            IOptInService::new(opt_in, p)
                .WHO_REGISTRY()
                .block(at)
                .call(),
        )
        .await?;
    let registry = IRegistry::new(registry, p);
    let count = l1
        .call("totalEntities", registry.totalEntities().block(at).call())
        .await?;
    if count > U256::from(max_operators) {
        return Err(DataError::SnapshotTooLarge(format!(
            "{count} operators, more than the configured {max_operators}"
        ))
        .into());
    }
    let capture = U48::try_from(capture).map_err(|_| DataError::OutOfRange {
        what: "capture time",
        value: capture.to_string(),
    })?;
    let mut out = Vec::new();
    // count <= max_operators, a u64.
    for i in 0..count.to::<u64>() {
        let operator = l1
            .call("entity", registry.entity(U256::from(i)).block(at).call())
            .await?;
        let r = l1
            .call("stakeAt", m.stakeAt(operator, capture).block(at).call())
            .await?;
        if r.vaults.len() != r.collaterals.len() || r.vaults.len() != r.amounts.len() {
            return Err(DataError::StakeArrays {
                operator,
                vaults: r.vaults.len(),
                collaterals: r.collaterals.len(),
                amounts: r.amounts.len(),
            }
            .into());
        }
        for ((vault, collateral), amount) in r.vaults.into_iter().zip(r.collaterals).zip(r.amounts)
        {
            out.push(VaultStake {
                operator,
                vault,
                collateral,
                amount,
            });
        }
    }
    Ok(out)
}
