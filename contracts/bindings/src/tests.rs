use alloy::sol_types::{SolCall, SolError, SolEvent, SolInterface, SolStruct};

use crate::flatten::{FlattenError, Sources};
use crate::{
    IEnclaveAuth, IEnclaveRegistry, IProofMarketplace, NetworkMiddleware, ProofMarketplace,
    SymbioticStakingModule,
};

// --- the generated bindings -------------------------------------------------------------------

#[test]
fn signatures_follow_the_solidity_types() {
    // A struct array parameter, inherited by the contract from its interface.
    assert_eq!(
        ProofMarketplace::assignBatchCall::SIGNATURE,
        "assignBatch((uint256,uint256,address,uint256)[],uint256,bytes)"
    );
    // An enum is a uint8; a contract-typed parameter an address.
    assert_eq!(
        IProofMarketplace::MarketCreated::SIGNATURE,
        "MarketCreated(uint256,address,address,uint8,uint32,uint96,bytes32,uint40)"
    );
    // A struct qualified by another interface (`IAttestationVerifier.Attestation`).
    assert_eq!(
        IEnclaveRegistry::registerEnclaveKeyFromModuleCall::SIGNATURE,
        "registerEnclaveKeyFromModule(bytes32,(string,uint64,bytes[],bytes,bytes,bytes),uint64,bytes32,bytes32)"
    );
    // A struct of a library (`RestakingTiming.Params`), pulled in by its qualified name.
    assert_eq!(NetworkMiddleware::timingCall::SIGNATURE, "timing()");
    assert_eq!(ProofMarketplace::STAKINGCall::SIGNATURE, "STAKING()");
}

#[test]
fn eip712_types_are_the_type_hash_strings() {
    assert_eq!(
        ProofMarketplace::AssignmentBatch::eip712_encode_type(),
        "AssignmentBatch(Assignment[] assignments,uint256 validUntil)\
         Assignment(uint256 askId,uint256 slot,address generator,uint256 price)"
    );
    assert_eq!(
        SymbioticStakingModule::StakeSnapshotChunk::eip712_encode_type(),
        "StakeSnapshotChunk(uint64 epoch,uint48 captureTimestamp,uint32 index,uint32 total,\
         bytes32 snapshotRoot,VaultStake[] stakes)\
         VaultStake(address operator,address vault,address collateral,uint256 amount)"
    );
}

#[test]
fn contracts_carry_their_parents_errors() {
    // `ProofMarketplace is EnclaveAuth`, and `EnclaveAuth is IEnclaveAuth`.
    let data = IEnclaveAuth::EnclaveAuthDigestUsed {
        digest: [7; 32].into(),
    }
    .abi_encode();
    let decoded = ProofMarketplace::ProofMarketplaceErrors::abi_decode(&data).unwrap();
    assert!(matches!(
        decoded,
        ProofMarketplace::ProofMarketplaceErrors::EnclaveAuthDigestUsed(e) if e.digest == [7; 32]
    ));
    assert!(NetworkMiddleware::NetworkMiddlewareErrors::abi_decode(&data).is_ok());
}

// --- the flattener ----------------------------------------------------------------------------

fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

const BASE: &str = r#"
pragma solidity 0.8.25;
/// @notice The base.
interface IBase {
    enum Mode { A, B }
    struct Item { uint256 id; Mode mode; }
    error BaseError(uint256 id);
    event Made(uint256 indexed id, Mode mode);
    function make(Item calldata item) external returns (uint256);
}
"#;

const LIB: &str = r#"
pragma solidity 0.8.25;
library Lib {
    struct Params { uint48 a; }
    function f(Params memory p) internal pure returns (uint48) { return p.a; }
}
"#;

fn thing(extra: &str) -> String {
    format!(
        r#"
pragma solidity 0.8.25;
import {{IBase}} from "./IBase.sol";
import {{Lib}} from "./lib/Lib.sol";
import {{ERC20}} from "@oz/ERC20.sol";
contract Thing is IBase, ERC20 {{
    bytes32 public constant ITEM_TYPEHASH = keccak256("Item(uint256 id,uint8 mode)");
    bytes32 public constant BATCH_TYPEHASH =
        keccak256("Batch(Item[] items,uint256 until)" "Item(uint256 id,uint8 mode)");
    IBase public immutable OTHER;
    uint256 private secret;
    mapping(address => uint256) public balance;
    modifier onlyOwner() {{ _; }}
    constructor(IBase other, Lib.Params memory p) ERC20("t", "T") {{ OTHER = other; }}
    function make(Item calldata it) external override onlyOwner returns (uint256) {{ return it.id; }}
    function params() external pure returns (Lib.Params memory p) {{ return p; }}
    function _hidden(uint256 x) internal pure returns (uint256) {{ return x; }}
    function _private() private {{}}
    {extra}
}}
"#
    )
}

fn flatten(files: &[(&str, &str)]) -> Result<String, FlattenError> {
    let dir = tree(files);
    Sources::new(dir.path()).flatten(&[("src/Thing.sol", "Thing")])
}

#[test]
fn a_contract_is_flattened_with_its_parents() {
    let thing = thing("");
    let out = flatten(&[
        ("src/IBase.sol", BASE),
        ("src/lib/Lib.sol", LIB),
        ("src/Thing.sol", &thing),
    ])
    .unwrap();
    let has = |s: &str| out.contains(s);
    assert!(has("interface Thing {"), "{out}");
    for present in [
        // The parent's types, errors and events, in the contract's own namespace.
        "enum Mode { A, B }",
        "struct Item { uint256 id; Mode mode; }",
        "error BaseError(uint256 id);",
        "event Made(uint256 indexed id, Mode mode);",
        // The most derived `make` only, without its modifiers.
        "function make(Item calldata it) external returns (uint256);",
        // Public state becomes a getter; a contract type is an address.
        "address public OTHER;",
        "mapping(address => uint256) public balance;",
        "constructor(address other, Lib.Params memory p);",
    ] {
        assert!(has(present), "{present} not in {out}");
    }
    // Internal and private functions, modifiers and private state are not ABI; nor is the
    // parent's `make`.
    for absent in [
        "_hidden",
        "_private",
        "onlyOwner",
        "secret",
        "Item calldata item",
    ] {
        assert!(!has(absent), "{absent} in {out}");
    }
    // The library's struct comes along for `Lib.Params`, not its functions.
    assert!(
        has("library Lib {\n    struct Params { uint48 a; }\n}"),
        "{out}"
    );
    assert!(!has("function f("), "{out}");
    // The external parent is named, not followed.
    assert!(has("Inherits `ERC20` from \"@oz/ERC20.sol\""), "{out}");
    // The EIP-712 type that no struct declares; `Item` agrees with its struct (enum = uint8).
    assert!(
        has("struct Batch { Item[] items; uint256 until; }"),
        "{out}"
    );
    assert_eq!(out.matches("struct Item ").count(), 1, "{out}");
    // The parent's own docs describe the parent, not the contract.
    assert!(!has("/// @notice The base."), "{out}");
}

#[test]
fn a_type_hash_that_disagrees_with_its_struct_is_an_error() {
    let files = |thing: &str| {
        flatten(&[
            ("src/IBase.sol", BASE),
            ("src/lib/Lib.sol", LIB),
            ("src/Thing.sol", thing),
        ])
    };
    let e = files(&thing(
        r#"bytes32 public constant BAD_TYPEHASH = keccak256("Item(uint256 id,uint16 mode)");"#,
    ));
    assert!(
        matches!(e, Err(FlattenError::TypeHash(_, ref m)) if m.contains("Item")),
        "{e:?}"
    );
    // Two strings that spell a generated type differently.
    let e = files(&thing(
        r#"bytes32 public constant BAD_TYPEHASH = keccak256("Batch(Item[] items)Item(uint256 id,uint8 mode)");"#,
    ));
    assert!(
        matches!(e, Err(FlattenError::TypeHash(_, ref m)) if m.contains("Batch")),
        "{e:?}"
    );
    // Not `Name(type name,…)`.
    let e = files(&thing(
        r#"bytes32 public constant BAD_TYPEHASH = keccak256("Batch(Item[]items");"#,
    ));
    assert!(matches!(e, Err(FlattenError::TypeHash(..))), "{e:?}");
}

#[test]
fn what_the_flattener_cannot_read_is_an_error_not_a_guess() {
    let base = &[("src/IBase.sol", BASE), ("src/lib/Lib.sol", LIB)];
    let with = |extra: &str| {
        let thing = thing(extra);
        let mut files = base.to_vec();
        files.push(("src/Thing.sol", &thing));
        flatten(&files)
    };
    // An array length that is a constant, not a literal: its ABI type is unknown here.
    assert!(matches!(
        with("uint256 constant N = 3; function g(uint256[N] calldata v) external {}"),
        Err(FlattenError::ArrayLength(..))
    ));
    // A type nobody declares.
    assert!(matches!(
        with("function g(Nowhere x) external {}"),
        Err(FlattenError::Unresolved(..))
    ));
    // A struct of a package outside the repository.
    assert!(matches!(
        with("function g(ERC20.Thing calldata x) external {}"),
        Err(FlattenError::ExternalType(..))
    ));
    // A plain import.
    let plain = "pragma solidity 0.8.25;\nimport \"./IBase.sol\";\ncontract Thing {}\n";
    assert!(matches!(
        flatten(&[("src/IBase.sol", BASE), ("src/Thing.sol", plain)]),
        Err(FlattenError::UnsupportedImport(..))
    ));
    // A file without the contract.
    assert!(matches!(
        flatten(&[("src/Thing.sol", BASE)]),
        Err(FlattenError::NoContract(..))
    ));
    // A file that is not Solidity.
    assert!(matches!(
        flatten(&[("src/Thing.sol", "contract {")]),
        Err(FlattenError::Parse(..))
    ));
}

#[test]
fn every_file_read_is_reported_for_rebuilds() {
    let thing = thing("");
    let dir = tree(&[
        ("src/IBase.sol", BASE),
        ("src/lib/Lib.sol", LIB),
        ("src/Thing.sol", &thing),
    ]);
    let mut sources = Sources::new(dir.path());
    sources.flatten(&[("src/Thing.sol", "Thing")]).unwrap();
    let read: Vec<_> = sources
        .read_files()
        .map(|p| p.strip_prefix(dir.path()).unwrap().to_path_buf())
        .collect();
    assert_eq!(
        read,
        ["src/IBase.sol", "src/Thing.sol", "src/lib/Lib.sol"].map(std::path::PathBuf::from)
    );
}
