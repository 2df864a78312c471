//! Flattens Solidity contracts into self-contained interfaces that `sol!` can expand.
//!
//! `sol!` reads one file and resolves names inside it only: it ignores `import`s, and it does not
//! see what a contract inherits. This module parses the project's sources with `syn-solidity` (the
//! parser `sol!` itself uses), follows each bound contract's project-local `import`s and parents,
//! and writes one `interface` per bound contract holding everything of its ABI that the sources
//! declare: the structs, enums, value types, errors and events of the contract and its parents, its
//! constructor, and every `external`/`public` function and public state variable (the most derived
//! declaration wins). Function bodies, modifiers and internal functions are dropped. A parameter
//! whose type is a contract or interface is written as `address` (its ABI type). A type qualified
//! by another contract (`Lib.Params`) brings that contract's type declarations along.
//!
//! Parents from outside the repository (OpenZeppelin, Symbiotic core: an npm install the enclave
//! image build never has) are not followed; the output names them in a comment.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Write as _};
use std::path::{Component, Path, PathBuf};

use syn_solidity::{
    ContractKind, File, Item, ItemContract, ItemFunction, SolPath, Type, VariableDeclaration,
};

/// Why the sources could not be flattened.
#[derive(Debug)]
pub(crate) enum FlattenError {
    /// A source file could not be read.
    Read(PathBuf, std::io::Error),
    /// A source file is not Solidity that `syn-solidity` parses.
    Parse(PathBuf, String),
    /// A bound file declares no contract or interface of the requested name.
    NoContract(PathBuf, String),
    /// An import this flattener does not follow (renamed symbols, `import "x";`, `import * as`).
    UnsupportedImport(PathBuf, String),
    /// A name that neither the contract's own declarations nor its file's imports define.
    Unresolved(PathBuf, String),
    /// A qualified type (`X.Y`) whose container is outside the repository.
    ExternalType(PathBuf, String),
    /// A fixed-size array whose length is not a literal (`uint256[N]`).
    ArrayLength(PathBuf, String),
    /// An item at file level that carries ABI types (file-level structs, errors, …).
    FileLevelItem(PathBuf, String),
    /// Two bound contracts of the same name.
    DuplicateName(String),
    /// An EIP-712 type string (`*_TYPEHASH = keccak256("…")`) that is malformed, or that
    /// disagrees with the struct of the same name.
    TypeHash(PathBuf, String),
}

impl fmt::Display for FlattenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Read(p, e) => write!(f, "{}: cannot read: {e}", p.display()),
            Self::Parse(p, e) => write!(f, "{}: not parsable by syn-solidity: {e}", p.display()),
            Self::NoContract(p, n) => write!(f, "{}: declares no contract `{n}`", p.display()),
            Self::UnsupportedImport(p, i) => {
                write!(
                    f,
                    "{}: unsupported import `{i}` (use `import {{A, B}} from \"…\";`)",
                    p.display()
                )
            }
            Self::Unresolved(p, n) => write!(f, "{}: cannot resolve `{n}`", p.display()),
            Self::ExternalType(p, n) => {
                write!(
                    f,
                    "{}: `{n}` is declared outside this repository",
                    p.display()
                )
            }
            Self::ArrayLength(p, t) => {
                write!(f, "{}: array length of `{t}` is not a literal", p.display())
            }
            Self::FileLevelItem(p, n) => {
                write!(f, "{}: file-level `{n}` is not supported", p.display())
            }
            Self::DuplicateName(n) => write!(f, "two bound contracts are named `{n}`"),
            Self::TypeHash(p, e) => write!(f, "{}: EIP-712 type string: {e}", p.display()),
        }
    }
}

impl std::error::Error for FlattenError {}

/// A contract and its project-local parents (file, contract), most derived first.
type Chain = Vec<(PathBuf, ItemContract)>;

/// An EIP-712 type: its name and its `(type, name)` members.
type Eip712Type = (String, Vec<(String, String)>);

/// What of a contract to write.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    /// Its whole ABI.
    Whole,
    /// Its (and its parents') struct, enum and value-type declarations.
    Types,
}

/// Where a name a file uses comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Origin {
    /// A contract, interface or library declared in a project file (path relative to the root).
    Local(PathBuf),
    /// Imported from a package outside the repository (the import path).
    External(String),
}

/// The parsed project sources, loaded on demand.
pub(crate) struct Sources {
    root: PathBuf,
    files: BTreeMap<PathBuf, File>,
    /// Every file read, for `cargo:rerun-if-changed`.
    read: BTreeSet<PathBuf>,
}

/// What one flattened contract needs from the rest of the sources.
#[derive(Default)]
struct Needs {
    /// Containers whose type declarations a qualified type refers to (`X` of `X.Y`).
    containers: BTreeMap<String, PathBuf>,
}

impl Sources {
    /// Sources under `root` (the Foundry project: paths are relative to it).
    pub(crate) fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            files: BTreeMap::new(),
            read: BTreeSet::new(),
        }
    }

    /// The files read so far (absolute).
    pub(crate) fn read_files(&self) -> impl Iterator<Item = &PathBuf> {
        self.read.iter()
    }

    fn load(&mut self, rel: &Path) -> Result<&File, FlattenError> {
        if !self.files.contains_key(rel) {
            let abs = self.root.join(rel);
            let text =
                std::fs::read_to_string(&abs).map_err(|e| FlattenError::Read(abs.clone(), e))?;
            self.read.insert(abs);
            let file = syn::parse_str::<File>(&text)
                .map_err(|e| FlattenError::Parse(rel.to_path_buf(), e.to_string()))?;
            self.files.insert(rel.to_path_buf(), file);
        }
        Ok(&self.files[rel])
    }

    /// Flattens the named contracts (`(file, contract)`, file relative to the root) into one
    /// Solidity text, one `interface` per contract, in the given order.
    pub(crate) fn flatten(&mut self, bound: &[(&str, &str)]) -> Result<String, FlattenError> {
        let mut out = String::new();
        let mut names = BTreeSet::new();
        let mut containers = BTreeMap::new();
        for (file, name) in bound {
            if !names.insert(name.to_string()) {
                return Err(FlattenError::DuplicateName(name.to_string()));
            }
            let (text, needs) = self.flatten_one(Path::new(file), name, Part::Whole)?;
            out.push_str(&text);
            containers.extend(needs.containers);
        }
        // Type declarations of the containers a qualified type names, unless bound above;
        // repeated until no new container is needed.
        let mut done = BTreeSet::new();
        while let Some((name, file)) = containers
            .iter()
            .find(|(n, _)| !names.contains(*n) && !done.contains(*n))
            .map(|(n, f)| (n.clone(), f.clone()))
        {
            done.insert(name.clone());
            let (text, needs) = self.flatten_one(&file, &name, Part::Types)?;
            out.push_str(&text);
            containers.extend(needs.containers);
        }
        Ok(out)
    }

    /// The names a file declares or imports, and where each comes from.
    fn scope(&mut self, file: &Path) -> Result<BTreeMap<String, Origin>, FlattenError> {
        let parsed = self.load(file)?;
        let mut scope = BTreeMap::new();
        for item in &parsed.items {
            match item {
                Item::Contract(c) => {
                    scope.insert(c.name.to_string(), Origin::Local(file.to_path_buf()));
                }
                Item::Import(import) => {
                    let syn_solidity::ImportPath::Aliases(aliases) = &import.path else {
                        return Err(FlattenError::UnsupportedImport(
                            file.to_path_buf(),
                            import.to_string(),
                        ));
                    };
                    let path = aliases.path.value();
                    let origin = if path.starts_with("./") || path.starts_with("../") {
                        Origin::Local(normalise(
                            &file.parent().unwrap_or(Path::new("")).join(&path),
                        ))
                    } else {
                        Origin::External(path)
                    };
                    for (ident, alias) in &aliases.imports {
                        if alias.is_some() {
                            return Err(FlattenError::UnsupportedImport(
                                file.to_path_buf(),
                                import.to_string(),
                            ));
                        }
                        scope.insert(ident.to_string(), origin.clone());
                    }
                }
                Item::Pragma(_) | Item::Using(_) => {}
                Item::Function(f) if f.name.is_some() => {} // free functions are not ABI
                other => {
                    let what = other
                        .name()
                        .map_or_else(|| other.to_string(), |n| n.to_string());
                    return Err(FlattenError::FileLevelItem(file.to_path_buf(), what));
                }
            }
        }
        Ok(scope)
    }

    fn contract(&mut self, file: &Path, name: &str) -> Result<ItemContract, FlattenError> {
        self.load(file)?
            .items
            .iter()
            .find_map(|i| match i {
                Item::Contract(c) if c.name == name => Some(c.clone()),
                _ => None,
            })
            .ok_or_else(|| FlattenError::NoContract(file.to_path_buf(), name.to_string()))
    }

    /// The contract and its project-local parents, most derived first, each once; and the
    /// external parents' names and import paths.
    fn lineage(
        &mut self,
        file: &Path,
        name: &str,
    ) -> Result<(Chain, Vec<(String, String)>), FlattenError> {
        let mut chain = Vec::new();
        let mut external = Vec::new();
        let mut stack = vec![(file.to_path_buf(), name.to_string())];
        let mut seen = BTreeSet::new();
        while let Some((file, name)) = stack.pop() {
            if !seen.insert(name.clone()) {
                continue;
            }
            let contract = self.contract(&file, &name)?;
            let scope = self.scope(&file)?;
            if let Some(inheritance) = &contract.inheritance {
                // Pushed in reverse so that the first-named parent is visited first.
                for parent in inheritance.inheritance.iter().rev() {
                    let parent = parent.name.to_string();
                    match scope.get(&parent) {
                        Some(Origin::Local(f)) => stack.push((f.clone(), parent)),
                        Some(Origin::External(path)) => {
                            if !external.iter().any(|(n, _)| *n == parent) {
                                external.push((parent, path.clone()));
                            }
                        }
                        None => return Err(FlattenError::Unresolved(file, parent)),
                    }
                }
            }
            chain.push((file, contract));
        }
        Ok((chain, external))
    }

    /// One contract as an `interface` (`Part::Whole`), or only its and its parents' struct,
    /// enum and value-type declarations, in a container of the same name (`Part::Types`, for
    /// `Name.Type` references).
    fn flatten_one(
        &mut self,
        file: &Path,
        name: &str,
        part: Part,
    ) -> Result<(String, Needs), FlattenError> {
        let (chain, external) = self.lineage(file, name)?;
        let types = declared_types(&chain);
        let mut needs = Needs::default();
        let mut body = String::new();
        let mut seen = BTreeSet::new();

        for (i, (file, contract)) in chain.iter().enumerate() {
            let scope = self.scope(file)?;
            let cx = Cx {
                file,
                scope: &scope,
                types: &types,
            };
            for item in &contract.body {
                let rendered = match item {
                    Item::Struct(_) | Item::Enum(_) | Item::Udt(_) => {
                        render_type_decl(&cx, item, &mut needs)?
                    }
                    _ if part == Part::Types => None,
                    Item::Error(e) => {
                        let text = format!(
                            "error {}({});",
                            e.name,
                            cx.params(&e.parameters, &mut needs)?
                        );
                        Some((docs(&e.attrs), text))
                    }
                    Item::Event(e) => {
                        let mut params = Vec::new();
                        for p in &e.parameters {
                            let mut s = cx.ty(&p.ty, &mut needs)?;
                            if p.indexed.is_some() {
                                s.push_str(" indexed");
                            }
                            if let Some(n) = &p.name {
                                write!(s, " {n}").expect("writing to a String");
                            }
                            params.push(s);
                        }
                        let anon = if e.is_anonymous() { " anonymous" } else { "" };
                        Some((
                            docs(&e.attrs),
                            format!("event {}({}){anon};", e.name, params.join(", ")),
                        ))
                    }
                    Item::Function(f) => render_function(&cx, f, i == 0, &mut needs)?,
                    Item::Variable(v) if v.attributes.has_public() => {
                        let key = format!("{}({})", v.name, getter_params(&v.ty).join(","));
                        if !seen.insert(format!("fn {key}")) {
                            continue;
                        }
                        Some((
                            docs(&v.attrs),
                            format!("{} public {};", cx.ty(&v.ty, &mut needs)?, v.name),
                        ))
                    }
                    _ => None,
                };
                let Some((doc, text)) = rendered else {
                    continue;
                };
                // Functions dedupe on their signature (the most derived declaration comes first);
                // everything else on its text (an error or event declared twice is one).
                let key = match item {
                    Item::Function(f) => format!("fn {}", signature_key(f)),
                    _ => text.clone(),
                };
                if seen.insert(key) {
                    push_item(&mut body, &doc, &text);
                }
            }
        }

        if part == Part::Whole {
            self.add_eip712_types(&chain, &types, &mut needs, &mut body)?;
        }
        if part == Part::Types {
            let kind = match chain[0].1.kind {
                ContractKind::Library(_) => "library",
                _ => "interface",
            };
            let out = format!(
                "// The types of {name} ({}), which the contracts above refer to.\n{kind} {name} {{\n{body}}}\n\n",
                file.display()
            );
            return Ok((out, needs));
        }

        let (_, bound) = &chain[0];
        let mut out = docs(&bound.attrs);
        writeln!(out, "// From {}.", file.display()).expect("writing to a String");
        for (parent, path) in &external {
            writeln!(
                out,
                "// Inherits `{parent}` from \"{path}\" (not in this repository: not included)."
            )
            .expect("writing to a String");
        }
        writeln!(out, "interface {name} {{\n{body}}}\n").expect("writing to a String");
        Ok((out, needs))
    }

    /// EIP-712 types of the lineage's `*_TYPEHASH` strings: checked against the struct of the
    /// same name, or declared if no struct declares them.
    fn add_eip712_types(
        &mut self,
        chain: &[(PathBuf, ItemContract)],
        types: &BTreeSet<String>,
        needs: &mut Needs,
        body: &mut String,
    ) -> Result<(), FlattenError> {
        let enums: BTreeSet<String> = chain
            .iter()
            .flat_map(|(_, c)| c.body.iter())
            .filter_map(|i| match i {
                Item::Enum(e) => Some(e.name.to_string()),
                _ => None,
            })
            .collect();
        let mut generated: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (file, contract) in chain {
            let scope = self.scope(file)?;
            let cx = Cx {
                file,
                scope: &scope,
                types,
            };
            for (name, fields) in eip712_types(file, contract)? {
                let fields_text: Vec<_> = fields.iter().map(|(t, n)| format!("{t} {n}")).collect();
                match find_struct(chain, &name) {
                    Some(declared) => {
                        // EIP-712 spells an enum as `uint8`.
                        let mut declared_fields = Vec::new();
                        for f in declared.fields.iter() {
                            let name = f.name.as_ref().map(ToString::to_string).unwrap_or_default();
                            let mut ty = cx.ty(&f.ty, needs)?;
                            if enums.contains(&ty) {
                                ty = "uint8".to_string();
                            }
                            declared_fields.push(format!("{ty} {name}"));
                        }
                        if declared_fields != fields_text {
                            return Err(FlattenError::TypeHash(
                                file.clone(),
                                format!(
                                    "`{name}({})` differs from struct `{name}`",
                                    fields_text.join(",")
                                ),
                            ));
                        }
                    }
                    None => match generated.get(&name) {
                        Some(earlier) if *earlier != fields_text => {
                            return Err(FlattenError::TypeHash(
                                file.clone(),
                                format!("two type hashes spell `{name}` differently"),
                            ));
                        }
                        Some(_) => {}
                        None => {
                            let doc = format!(
                                "/// EIP-712 type `{name}`, from a type hash of `{}` (no Solidity struct declares it).",
                                contract.name
                            );
                            let members: String =
                                fields_text.iter().map(|f| format!(" {f};")).collect();
                            push_item(body, &doc, &format!("struct {name} {{{members} }}"));
                            generated.insert(name, fields_text);
                        }
                    },
                }
            }
        }
        Ok(())
    }
}

/// Resolution context: the file an item is declared in and the flattened contract's types.
struct Cx<'a> {
    file: &'a Path,
    scope: &'a BTreeMap<String, Origin>,
    types: &'a BTreeSet<String>,
}

impl Cx<'_> {
    /// A type as `sol!` must see it.
    fn ty(&self, ty: &Type, needs: &mut Needs) -> Result<String, FlattenError> {
        Ok(match ty {
            Type::Array(a) => {
                if a.size.is_some() && a.size_lit().is_none() {
                    return Err(FlattenError::ArrayLength(
                        self.file.to_path_buf(),
                        ty.to_string(),
                    ));
                }
                let size = a
                    .size_lit()
                    .map(|s| s.base10_digits().to_string())
                    .unwrap_or_default();
                format!("{}[{size}]", self.ty(&a.ty, needs)?)
            }
            Type::Tuple(t) => {
                let inner: Result<Vec<_>, _> = t.types.iter().map(|t| self.ty(t, needs)).collect();
                format!("({})", inner?.join(", "))
            }
            Type::Mapping(m) => {
                let key = self.ty(&m.key, needs)?;
                let value = self.ty(&m.value, needs)?;
                format!("mapping({key} => {value})")
            }
            Type::Custom(path) => self.custom(path, needs)?,
            Type::Function(_) => {
                return Err(FlattenError::Unresolved(
                    self.file.to_path_buf(),
                    ty.to_string(),
                ));
            }
            other => other.to_string(),
        })
    }

    fn custom(&self, path: &SolPath, needs: &mut Needs) -> Result<String, FlattenError> {
        let first = path.first().to_string();
        if path.len() == 1 {
            if self.types.contains(&first) {
                return Ok(first);
            }
            // A contract or interface as a type: an address in the ABI.
            return match self.scope.get(&first) {
                Some(_) => Ok("address".to_string()),
                None => Err(FlattenError::Unresolved(self.file.to_path_buf(), first)),
            };
        }
        match self.scope.get(&first) {
            Some(Origin::Local(f)) if path.len() == 2 => {
                needs.containers.insert(first, f.clone());
                Ok(path.to_string())
            }
            Some(Origin::External(_)) => Err(FlattenError::ExternalType(
                self.file.to_path_buf(),
                path.to_string(),
            )),
            _ => Err(FlattenError::Unresolved(
                self.file.to_path_buf(),
                path.to_string(),
            )),
        }
    }

    fn decl(&self, v: &VariableDeclaration, needs: &mut Needs) -> Result<String, FlattenError> {
        let mut s = self.ty(&v.ty, needs)?;
        if let Some(storage) = &v.storage {
            write!(s, " {storage}").expect("writing to a String");
        }
        if let Some(name) = &v.name {
            write!(s, " {name}").expect("writing to a String");
        }
        Ok(s)
    }

    fn params<'p>(
        &self,
        params: impl IntoIterator<Item = &'p VariableDeclaration>,
        needs: &mut Needs,
    ) -> Result<String, FlattenError> {
        let list: Result<Vec<_>, _> = params.into_iter().map(|p| self.decl(p, needs)).collect();
        Ok(list?.join(", "))
    }
}

/// The struct of that name declared along a lineage.
fn find_struct<'c>(
    chain: &'c [(PathBuf, ItemContract)],
    name: &str,
) -> Option<&'c syn_solidity::ItemStruct> {
    chain
        .iter()
        .flat_map(|(_, c)| c.body.iter())
        .find_map(|i| match i {
            Item::Struct(s) if s.name == name => Some(s),
            _ => None,
        })
}

/// The EIP-712 types a contract's `*_TYPEHASH = keccak256("…")` constants spell out: each type
/// of each string (`Primary(t a,…)Referenced(…)…`) as its name and `(type, name)` members.
fn eip712_types(file: &Path, contract: &ItemContract) -> Result<Vec<Eip712Type>, FlattenError> {
    let mut types = Vec::new();
    for item in &contract.body {
        let Item::Variable(v) = item else { continue };
        if !v.name.to_string().ends_with("_TYPEHASH") {
            continue;
        }
        let Some((_, syn_solidity::Expr::Call(call))) = &v.initializer else {
            continue;
        };
        let syn_solidity::Expr::Ident(f) = &*call.expr else {
            continue;
        };
        let syn_solidity::ArgListImpl::Unnamed(args) = &call.args.list else {
            continue;
        };
        let (true, Some(syn_solidity::Expr::Lit(syn_solidity::Lit::Str(s)))) =
            (f == "keccak256", args.first())
        else {
            continue;
        };
        if args.len() != 1 {
            continue;
        }
        let mut rest = s.value();
        while !rest.is_empty() {
            let bad = |why: &str| {
                FlattenError::TypeHash(file.to_path_buf(), format!("{}: {why}", v.name))
            };
            let open = rest.find('(').ok_or_else(|| bad("no `(`"))?;
            let close = rest.find(')').ok_or_else(|| bad("no `)`"))?;
            if close < open {
                return Err(bad("`)` before `(`"));
            }
            let name = rest[..open].to_string();
            let mut members = Vec::new();
            for member in rest[open + 1..close].split(',').filter(|m| !m.is_empty()) {
                let (ty, field) = member
                    .split_once(' ')
                    .ok_or_else(|| bad("a member is not `type name`"))?;
                members.push((ty.to_string(), field.to_string()));
            }
            types.push((name, members));
            rest = rest[close + 1..].to_string();
        }
    }
    Ok(types)
}

/// The struct, enum and value-type names declared along a lineage.
fn declared_types(chain: &[(PathBuf, ItemContract)]) -> BTreeSet<String> {
    chain
        .iter()
        .flat_map(|(_, c)| c.body.iter())
        .filter_map(|i| match i {
            Item::Struct(s) => Some(s.name.to_string()),
            Item::Enum(e) => Some(e.name.to_string()),
            Item::Udt(u) => Some(u.name.to_string()),
            _ => None,
        })
        .collect()
}

fn render_type_decl(
    cx: &Cx<'_>,
    item: &Item,
    needs: &mut Needs,
) -> Result<Option<(String, String)>, FlattenError> {
    Ok(Some(match item {
        Item::Struct(s) => {
            let mut fields = String::new();
            for f in s.fields.iter() {
                write!(fields, " {};", cx.decl(f, needs)?).expect("writing to a String");
            }
            (docs(&s.attrs), format!("struct {} {{{fields} }}", s.name))
        }
        Item::Enum(e) => {
            let variants: Vec<_> = e.variants.iter().map(|v| v.ident.to_string()).collect();
            (
                docs(&e.attrs),
                format!("enum {} {{ {} }}", e.name, variants.join(", ")),
            )
        }
        Item::Udt(u) => (
            docs(&u.attrs),
            format!("type {} is {};", u.name, cx.ty(&u.ty, needs)?),
        ),
        _ => return Ok(None),
    }))
}

/// An external or public function (or the bound contract's own constructor) as a declaration.
fn render_function(
    cx: &Cx<'_>,
    f: &ItemFunction,
    own: bool,
    needs: &mut Needs,
) -> Result<Option<(String, String)>, FlattenError> {
    let mutability = f
        .attributes
        .mutability()
        .map(|m| format!(" {m}"))
        .unwrap_or_default();
    let params = cx.params(f.parameters.iter(), needs)?;
    let text = match (&f.kind, &f.name) {
        (syn_solidity::FunctionKind::Constructor(_), _) if own => {
            format!("constructor({params}){mutability};")
        }
        (syn_solidity::FunctionKind::Function(_), Some(name))
            if f.attributes.has_external() || f.attributes.has_public() =>
        {
            let returns = match &f.returns {
                Some(r) => format!(" returns ({})", cx.params(r.returns.iter(), needs)?),
                None => String::new(),
            };
            format!("function {name}({params}) external{mutability}{returns};")
        }
        _ => return Ok(None),
    };
    Ok(Some((docs(&f.attrs), text)))
}

/// `name(type,…)`: what tells two functions apart.
fn signature_key(f: &ItemFunction) -> String {
    match &f.name {
        Some(name) => {
            let types: Vec<_> = f.parameters.iter().map(|p| p.ty.to_string()).collect();
            format!("{name}({})", types.join(","))
        }
        None => f.kind.as_str().to_string(),
    }
}

/// The parameters of a public state variable's getter: one per mapping key and array index.
fn getter_params(ty: &Type) -> Vec<String> {
    match ty {
        Type::Mapping(m) => {
            let mut params = vec![m.key.to_string()];
            params.extend(getter_params(&m.value));
            params
        }
        Type::Array(a) => {
            let mut params = vec!["uint256".to_string()];
            params.extend(getter_params(&a.ty));
            params
        }
        _ => Vec::new(),
    }
}

/// Appends an item and its docs to a contract body, indented.
fn push_item(body: &mut String, doc: &str, text: &str) {
    for line in doc.lines() {
        writeln!(body, "    {line}").expect("writing to a String");
    }
    writeln!(body, "    {text}").expect("writing to a String");
}

/// The item's doc comments (NatSpec) as `///` lines.
fn docs(attrs: &[syn::Attribute]) -> String {
    let mut out = String::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("doc")) {
        if let syn::Meta::NameValue(syn::MetaNameValue {
            value:
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }),
            ..
        }) = &attr.meta
        {
            for line in s.value().lines() {
                writeln!(out, "///{}", line.trim_end()).expect("writing to a String");
            }
        }
    }
    out
}

/// `a/b/../c` → `a/c` (import paths are relative to the importing file).
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}
