//! The generated bindings against forge's ABI of the same contracts: every function selector,
//! event topic and error selector the bindings generate must be in the contract's compiled ABI
//! (a wrong flattening — a dropped parent, an internal function kept, a type resolved wrongly —
//! gives a selector solc does not), and an interface's bindings must be its whole ABI.
//!
//! Ignored by default: it needs forge's output, the project's one build (`contracts/out`, or
//! `$FOUNDRY_OUT`), which `ci/contracts-test` makes and then runs this check against. It checks
//! the bound contracts the build holds, and at least one.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use alloy::json_abi::JsonAbi;
use alloy::primitives::hex;
use marketplace_bindings::*;

/// Whether the generated selectors must be the whole ABI (interfaces) or a part of it
/// (contracts: their third-party parents and libraries add members the bindings leave out).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Expect {
    Whole,
    Part,
}

struct Checked {
    name: &'static str,
    expect: Expect,
    calls: Vec<String>,
    errors: Vec<String>,
    events: Vec<String>,
}

fn hexes<T: AsRef<[u8]>>(s: &[T]) -> Vec<String> {
    s.iter().map(hex::encode).collect()
}

macro_rules! bound {
    ($name:ident, $expect:ident $(, calls $calls:ident)? $(, errors $errors:ident)? $(, events $events:ident)?) => {
        Checked {
            name: stringify!($name),
            expect: Expect::$expect,
            calls: { let _v: Vec<String> = Vec::new(); $(let _v = hexes($name::$calls::SELECTORS);)? _v },
            errors: { let _v: Vec<String> = Vec::new(); $(let _v = hexes($name::$errors::SELECTORS);)? _v },
            events: { let _v: Vec<String> = Vec::new(); $(let _v = hexes($name::$events::SELECTORS);)? _v },
        }
    };
}

fn all() -> Vec<Checked> {
    vec![
        bound!(IAttestationVerifier, Whole, calls IAttestationVerifierCalls),
        bound!(IEnclaveAuth, Whole, errors IEnclaveAuthErrors),
        bound!(IPcrRegistry, Whole, calls IPcrRegistryCalls, errors IPcrRegistryErrors, events IPcrRegistryEvents),
        bound!(IEnclaveRegistry, Whole, calls IEnclaveRegistryCalls, errors IEnclaveRegistryErrors, events IEnclaveRegistryEvents),
        bound!(INitroAttestationVerifier, Whole, calls INitroAttestationVerifierCalls, errors INitroAttestationVerifierErrors, events INitroAttestationVerifierEvents),
        bound!(INitroOptimisticVerifier, Whole, calls INitroOptimisticVerifierCalls, errors INitroOptimisticVerifierErrors, events INitroOptimisticVerifierEvents),
        bound!(IP384Verifier, Whole, calls IP384VerifierCalls),
        bound!(IVerifier, Whole, calls IVerifierCalls),
        bound!(IStakingModule, Whole, calls IStakingModuleCalls, errors IStakingModuleErrors, events IStakingModuleEvents),
        bound!(IProofMarketplace, Whole, errors IProofMarketplaceErrors, events IProofMarketplaceEvents),
        bound!(INetworkMiddleware, Whole, calls INetworkMiddlewareCalls, errors INetworkMiddlewareErrors, events INetworkMiddlewareEvents),
        bound!(ISymbioticStakingModule, Whole, errors ISymbioticStakingModuleErrors, events ISymbioticStakingModuleEvents),
        bound!(EnclaveRegistry, Part, calls EnclaveRegistryCalls, errors EnclaveRegistryErrors, events EnclaveRegistryEvents),
        bound!(ProofMarketplace, Part, calls ProofMarketplaceCalls, errors ProofMarketplaceErrors, events ProofMarketplaceEvents),
        bound!(NativeStaking, Part, calls NativeStakingCalls, errors NativeStakingErrors, events NativeStakingEvents),
        bound!(NetworkMiddleware, Part, calls NetworkMiddlewareCalls, errors NetworkMiddlewareErrors, events NetworkMiddlewareEvents),
        bound!(SymbioticStakingModule, Part, calls SymbioticStakingModuleCalls, errors SymbioticStakingModuleErrors, events SymbioticStakingModuleEvents),
    ]
}

fn forge_abi(out: &Path, name: &str) -> Option<JsonAbi> {
    let path = out.join(format!("{name}.sol/{name}.json"));
    let bytes = std::fs::read(&path).ok()?;
    let artifact: serde_json::Value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("{}: not JSON: {e}", path.display()));
    Some(
        serde_json::from_value(artifact["abi"].clone())
            .unwrap_or_else(|e| panic!("{}: abi: {e}", path.display())),
    )
}

fn compare(
    name: &str,
    what: &str,
    expect: Expect,
    generated: &[String],
    compiled: BTreeSet<String>,
) -> Vec<String> {
    let generated: BTreeSet<String> = generated.iter().cloned().collect();
    let mut problems: Vec<String> = generated
        .difference(&compiled)
        .map(|s| format!("{name}: generated {what} {s} is not in forge's ABI"))
        .collect();
    if expect == Expect::Whole {
        problems.extend(
            compiled
                .difference(&generated)
                .map(|s| format!("{name}: forge's {what} {s} is not generated")),
        );
    }
    problems
}

#[test]
#[ignore = "needs forge's output, contracts/out or $FOUNDRY_OUT (ci/contracts-test)"]
fn generated_selectors_are_forges() {
    let out = std::env::var_os("FOUNDRY_OUT")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../out"));
    let mut problems = Vec::new();
    let mut checked = Vec::new();
    for c in all() {
        let Some(abi) = forge_abi(&out, c.name) else {
            continue;
        };
        checked.push(c.name);
        let calls = abi.functions().map(|f| hex::encode(f.selector())).collect();
        let errors = abi.errors().map(|e| hex::encode(e.selector())).collect();
        let events = abi
            .events()
            .filter(|e| !e.anonymous)
            .map(|e| hex::encode(e.selector()))
            .collect();
        problems.extend(compare(c.name, "function", c.expect, &c.calls, calls));
        problems.extend(compare(c.name, "error", c.expect, &c.errors, errors));
        problems.extend(compare(c.name, "event", c.expect, &c.events, events));
    }
    assert!(
        !checked.is_empty(),
        "no bound contract's artifact in {}",
        out.display()
    );
    eprintln!("checked against {}: {}", out.display(), checked.join(", "));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
