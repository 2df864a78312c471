//! The image recipe: what goes into an enclave image, declared once in a file of the repository
//! (`enclave/image.json`), with the built artefacts (kernel, binaries, CA bundle) supplied as named
//! inputs. `ci/build-eif` and the Nix flake both hand their inputs to `eif-builder image`, so the
//! ramdisk layout, the file modes, `cmd`, `env` and the kernel command line cannot drift between
//! the two builds.
//!
//! ```json
//! { "recipe": 1, "name": "enclave", "kernel": "kernel", "cmdline_file": "ci/kernel.d/cmdline",
//!   "ramdisks": [ { "name": "bootstrap", "entries": [
//!       { "type": "dir", "path": "dev" },
//!       { "type": "input", "path": "init", "input": "enclave-init", "mode": "0755" } ] } ] }
//! ```
//!
//! Entry types: `dir` (an empty directory), `input` (a file given on the command line),
//! `file` (a file of the source tree, relative to the source root) and `text` (literal contents).
//! Modes are `0755` or `0644`, the only two the ramdisk writer keeps for regular files; every
//! ramdisk entry gets mtime 0 and uid/gid 0, so the PCRs depend on the contents only. Parent
//! directories are implied. The first ramdisk is the boot ramdisk (PCR1), the others the
//! application's (PCR2), as in [`crate::BuildSpec`].

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Component, Path, PathBuf};

use serde::Deserialize;

use crate::cpio;

/// The recipe format this crate reads.
pub const RECIPE_VERSION: u32 = 1;

/// A recipe that parsed and passed its structural checks.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recipe {
    /// Format version, [`RECIPE_VERSION`].
    pub recipe: u32,
    /// Image name (metadata).
    pub name: String,
    /// The input that is the kernel image.
    pub kernel: String,
    /// The kernel command line's file, relative to the source root (trimmed, as nitro-cli does).
    pub cmdline_file: String,
    /// The ramdisks in EIF order.
    pub ramdisks: Vec<RamdiskRecipe>,
}

/// One ramdisk of the image.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RamdiskRecipe {
    /// Its name; the archive is written as `NAME.cpio`.
    pub name: String,
    /// Its entries (parents implied).
    pub entries: Vec<EntryRecipe>,
}

/// Permission of a regular file in a ramdisk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Mode {
    /// Executable.
    #[serde(rename = "0755")]
    Executable,
    /// Not executable.
    #[serde(rename = "0644")]
    Plain,
}

impl Mode {
    fn bits(self) -> u32 {
        match self {
            Mode::Executable => 0o755,
            Mode::Plain => 0o644,
        }
    }
}

/// One ramdisk entry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum EntryRecipe {
    /// An empty directory.
    Dir {
        /// Path inside the ramdisk.
        path: String,
    },
    /// A file given as a named input.
    Input {
        /// Path inside the ramdisk.
        path: String,
        /// The input's name.
        input: String,
        /// Its mode.
        mode: Mode,
    },
    /// A file of the source tree.
    File {
        /// Path inside the ramdisk.
        path: String,
        /// Path relative to the source root.
        file: String,
        /// Its mode.
        mode: Mode,
    },
    /// Literal contents.
    Text {
        /// Path inside the ramdisk.
        path: String,
        /// The contents.
        text: String,
        /// Its mode.
        mode: Mode,
    },
}

impl EntryRecipe {
    /// The entry's path inside its ramdisk.
    pub fn path(&self) -> &str {
        match self {
            EntryRecipe::Dir { path }
            | EntryRecipe::Input { path, .. }
            | EntryRecipe::File { path, .. }
            | EntryRecipe::Text { path, .. } => path,
        }
    }
}

/// A recipe that cannot be used, or inputs that do not match it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecipeError {
    /// Not valid recipe JSON (unknown key, wrong type, missing field).
    #[error("recipe: {0}")]
    Parse(#[from] serde_json::Error),
    /// A recipe version this build does not read.
    #[error("recipe version {0}, this eif-builder reads version {RECIPE_VERSION}")]
    Version(u32),
    /// A path that is empty, absolute, or contains `.`, `..` or an empty component.
    #[error("{what} path {path:?} must be relative, without `.`, `..` or empty components")]
    BadPath {
        /// Which kind of path.
        what: &'static str,
        /// The path.
        path: String,
    },
    /// The same path twice in one ramdisk, or a path below a file.
    #[error("ramdisk {ramdisk}: {path:?} {problem}")]
    Conflict {
        /// The ramdisk.
        ramdisk: String,
        /// The path.
        path: String,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// Two ramdisks with one name, an empty name, or no ramdisk at all.
    #[error("ramdisks: {0}")]
    Ramdisks(String),
    /// The recipe names an input the command line did not give.
    #[error("input {0:?} is named by the recipe but was not given (--input {0}=PATH)")]
    MissingInput(String),
    /// The command line gives an input the recipe does not use.
    #[error("input {0:?} was given but the recipe does not use it")]
    UnusedInput(String),
    /// Reading a source file or an input, or staging a ramdisk, failed.
    #[error(transparent)]
    Io(crate::Error),
    /// The ramdisk writer refused the staged tree.
    #[error("ramdisk {0}: {1}")]
    Archive(String, crate::Error),
}

fn io_err(what: &'static str, path: &Path) -> impl Fn(std::io::Error) -> RecipeError {
    let err = crate::Error::io(what, path);
    move |source| RecipeError::Io(err(source))
}

/// A relative path of normal components only.
fn check_relative(what: &'static str, path: &str) -> Result<(), RecipeError> {
    let bad = || RecipeError::BadPath {
        what,
        path: path.to_owned(),
    };
    if path.is_empty() || path.contains("//") || path.ends_with('/') {
        return Err(bad());
    }
    if Path::new(path)
        .components()
        .any(|c| !matches!(c, Component::Normal(_)))
    {
        return Err(bad());
    }
    Ok(())
}

impl Recipe {
    /// Parse and check a recipe: version, paths, names, no entry twice or below a file.
    pub fn from_json(bytes: &[u8]) -> Result<Self, RecipeError> {
        let recipe: Recipe = serde_json::from_slice(bytes)?;
        if recipe.recipe != RECIPE_VERSION {
            return Err(RecipeError::Version(recipe.recipe));
        }
        check_relative("cmdline_file", &recipe.cmdline_file)?;
        if recipe.ramdisks.is_empty() {
            return Err(RecipeError::Ramdisks("the recipe has none".into()));
        }
        let mut names = BTreeSet::new();
        for rd in &recipe.ramdisks {
            check_relative("ramdisk name", &rd.name)?;
            if rd.name.contains('/') || !names.insert(rd.name.as_str()) {
                return Err(RecipeError::Ramdisks(format!(
                    "name {:?} is not a unique file name",
                    rd.name
                )));
            }
            rd.check()?;
        }
        Ok(recipe)
    }

    /// Every input the recipe names: the kernel and the `input` entries.
    pub fn inputs(&self) -> BTreeSet<&str> {
        let mut set = BTreeSet::from([self.kernel.as_str()]);
        for rd in &self.ramdisks {
            for e in &rd.entries {
                if let EntryRecipe::Input { input, .. } = e {
                    set.insert(input);
                }
            }
        }
        set
    }

    /// Check that `given` holds exactly the inputs the recipe names.
    pub fn check_inputs(&self, given: &BTreeMap<String, PathBuf>) -> Result<(), RecipeError> {
        let wanted = self.inputs();
        if let Some(missing) = wanted.iter().find(|n| !given.contains_key(**n)) {
            return Err(RecipeError::MissingInput((*missing).to_owned()));
        }
        if let Some(unused) = given.keys().find(|n| !wanted.contains(n.as_str())) {
            return Err(RecipeError::UnusedInput(unused.clone()));
        }
        Ok(())
    }
}

impl RamdiskRecipe {
    fn check(&self) -> Result<(), RecipeError> {
        let conflict = |path: &str, problem| RecipeError::Conflict {
            ramdisk: self.name.clone(),
            path: path.to_owned(),
            problem,
        };
        let mut dirs = BTreeSet::new();
        let mut files = BTreeSet::new();
        for e in &self.entries {
            let path = e.path();
            check_relative("entry", path)?;
            if let EntryRecipe::File { file, .. } = e {
                check_relative("source file", file)?;
            }
            if dirs.contains(path) || !files.insert(path) {
                return Err(conflict(path, "is declared twice"));
            }
            if matches!(e, EntryRecipe::Dir { .. }) {
                files.remove(path);
                dirs.insert(path);
            }
        }
        // No entry below a file: every proper prefix of a path must be a directory (or implied).
        for e in &self.entries {
            let path = e.path();
            for (i, _) in path.match_indices('/') {
                if files.contains(&path[..i]) {
                    return Err(conflict(path, "lies below a file"));
                }
            }
        }
        Ok(())
    }

    /// Write this ramdisk's tree under `dir` (which must be empty): directories 0755, files with
    /// their recipe modes.
    pub fn stage(
        &self,
        dir: &Path,
        source_root: &Path,
        inputs: &BTreeMap<String, PathBuf>,
    ) -> Result<(), RecipeError> {
        for e in &self.entries {
            let dest = dir.join(e.path());
            let parent = dest.parent().unwrap_or(dir);
            std::fs::create_dir_all(parent).map_err(io_err("creating", parent))?;
            let (from, mode): (PathBuf, Mode) = match e {
                EntryRecipe::Dir { .. } => {
                    std::fs::create_dir_all(&dest).map_err(io_err("creating", &dest))?;
                    continue;
                }
                EntryRecipe::Text { text, mode, .. } => {
                    write_new(&dest, *mode)?
                        .write_all(text.as_bytes())
                        .map_err(io_err("writing", &dest))?;
                    continue;
                }
                EntryRecipe::Input { input, mode, .. } => {
                    let from = inputs
                        .get(input)
                        .ok_or_else(|| RecipeError::MissingInput(input.clone()))?;
                    (from.clone(), *mode)
                }
                EntryRecipe::File { file, mode, .. } => (source_root.join(file), *mode),
            };
            let mut src = File::open(&from).map_err(io_err("opening", &from))?;
            let mut out = write_new(&dest, mode)?;
            std::io::copy(&mut src, &mut out).map_err(io_err("copying", &from))?;
        }
        Ok(())
    }
}

fn write_new(path: &Path, mode: Mode) -> Result<File, RecipeError> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode.bits())
        .open(path)
        .map_err(io_err("creating", path))
}

/// The kernel, command line and ramdisk archives of an image, ready for [`crate::build`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assembled {
    /// The kernel input.
    pub kernel: PathBuf,
    /// The command line, trimmed.
    pub cmdline: String,
    /// The written ramdisk archives, in EIF order.
    pub ramdisks: Vec<PathBuf>,
}

/// Every ramdisk entry's mtime: the PCRs then depend on the image's content only, so a commit
/// that changes nothing in the image keeps its PCRs (and its on-chain registration).
pub const RAMDISK_MTIME: u64 = 0;

impl Recipe {
    /// Check `inputs`, read the command line, and write each ramdisk as `out_dir/NAME.cpio`.
    pub fn assemble(
        &self,
        source_root: &Path,
        inputs: &BTreeMap<String, PathBuf>,
        out_dir: &Path,
    ) -> Result<Assembled, RecipeError> {
        self.check_inputs(inputs)?;
        let cmdline_path = source_root.join(&self.cmdline_file);
        let cmdline = std::fs::read_to_string(&cmdline_path)
            .map_err(io_err("reading", &cmdline_path))?
            .trim()
            .to_owned();
        let mut ramdisks = Vec::with_capacity(self.ramdisks.len());
        for rd in &self.ramdisks {
            let stage =
                tempfile::tempdir_in(out_dir).map_err(io_err("creating a stage in", out_dir))?;
            rd.stage(stage.path(), source_root, inputs)?;
            let archive = out_dir.join(format!("{}.cpio", rd.name));
            cpio::write_tree_file(stage.path(), RAMDISK_MTIME, &archive)
                .map_err(|e| RecipeError::Archive(rd.name.clone(), e))?;
            ramdisks.push(archive);
        }
        Ok(Assembled {
            // check_inputs above guarantees the kernel input is present.
            kernel: inputs
                .get(&self.kernel)
                .cloned()
                .ok_or_else(|| RecipeError::MissingInput(self.kernel.clone()))?,
            cmdline,
            ramdisks,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPO_RECIPE: &str = include_str!("../../enclave/image.json");

    fn recipe(entries: &str) -> String {
        format!(
            r#"{{"recipe":1,"name":"t","kernel":"kernel","cmdline_file":"cmdline",
                "ramdisks":[{{"name":"boot","entries":[{entries}]}}]}}"#
        )
    }

    fn parse_err(json: &str) -> RecipeError {
        Recipe::from_json(json.as_bytes()).expect_err("must be refused")
    }

    #[test]
    fn the_repository_recipe_parses_and_names_the_four_inputs() {
        let r = Recipe::from_json(REPO_RECIPE.as_bytes()).expect("enclave/image.json");
        assert_eq!(r.name, "enclave");
        assert_eq!(
            r.inputs().into_iter().collect::<Vec<_>>(),
            ["ca-bundle", "enclave-app", "enclave-init", "kernel"]
        );
        let names: Vec<_> = r.ramdisks.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["bootstrap", "customer"]);
    }

    #[test]
    fn structural_mistakes_get_named_errors() {
        assert!(matches!(
            parse_err(&recipe(r#"{"type":"dir","path":"a","extra":1}"#)),
            RecipeError::Parse(_)
        ));
        assert!(matches!(
            parse_err(&recipe(
                r#"{"type":"text","path":"a","text":"x","mode":"0700"}"#
            )),
            RecipeError::Parse(_)
        ));
        assert!(matches!(
            parse_err(&recipe("").replace("\"recipe\":1", "\"recipe\":2")),
            RecipeError::Version(2)
        ));
        for bad in ["../x", "/abs", "a/../b", "./a", "a//b", "a/", ""] {
            let json = recipe(&format!(r#"{{"type":"dir","path":"{bad}"}}"#));
            assert!(
                matches!(parse_err(&json), RecipeError::BadPath { .. }),
                "{bad:?} accepted"
            );
        }
        let twice = recipe(
            r#"{"type":"dir","path":"a"},{"type":"text","path":"a","text":"","mode":"0644"}"#,
        );
        assert!(matches!(parse_err(&twice), RecipeError::Conflict { .. }));
        let below = recipe(
            r#"{"type":"text","path":"a","text":"","mode":"0644"},{"type":"dir","path":"a/b"}"#,
        );
        assert!(matches!(parse_err(&below), RecipeError::Conflict { .. }));
        let source_escape =
            recipe(r#"{"type":"file","path":"a","file":"../../etc/passwd","mode":"0644"}"#);
        assert!(matches!(
            parse_err(&source_escape),
            RecipeError::BadPath { .. }
        ));
        let two_names = r#"{"recipe":1,"name":"t","kernel":"k","cmdline_file":"c",
            "ramdisks":[{"name":"x","entries":[]},{"name":"x","entries":[]}]}"#;
        assert!(matches!(parse_err(two_names), RecipeError::Ramdisks(_)));
    }

    #[test]
    fn inputs_must_match_the_recipe_exactly() {
        let r = Recipe::from_json(
            recipe(r#"{"type":"input","path":"init","input":"init","mode":"0755"}"#).as_bytes(),
        )
        .expect("recipe");
        let mut given = BTreeMap::from([("kernel".to_string(), PathBuf::from("k"))]);
        assert!(matches!(r.check_inputs(&given), Err(RecipeError::MissingInput(n)) if n == "init"));
        given.insert("init".into(), "i".into());
        r.check_inputs(&given).expect("exact inputs");
        given.insert("extra".into(), "e".into());
        assert!(matches!(r.check_inputs(&given), Err(RecipeError::UnusedInput(n)) if n == "extra"));
    }

    /// The archives hold exactly what the recipe declares: implied parents, modes, contents,
    /// mtime 0 and uid/gid 0, whatever the modes and times of the input files.
    #[test]
    fn assemble_writes_the_declared_trees() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("src");
        std::fs::create_dir_all(root.join("conf")).expect("mkdir");
        std::fs::write(root.join("cmdline"), "  console=ttyS0 \n").expect("cmdline");
        std::fs::write(root.join("conf/app.json"), b"{}").expect("conf");
        let bin = dir.path().join("bin");
        std::fs::write(&bin, b"\x7fELF").expect("bin");
        // An input's own mode does not matter: the recipe's does.
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        let kernel = dir.path().join("kernel");
        std::fs::write(&kernel, b"K").expect("kernel");
        let json = recipe(
            r#"{"type":"input","path":"app/bin","input":"bin","mode":"0755"},
               {"type":"file","path":"etc/app.json","file":"conf/app.json","mode":"0644"},
               {"type":"text","path":"cmd","text":"/app/bin\n","mode":"0644"},
               {"type":"dir","path":"tmp"}"#,
        );
        let r = Recipe::from_json(json.as_bytes()).expect("recipe");
        let inputs = BTreeMap::from([("kernel".to_string(), kernel.clone()), ("bin".into(), bin)]);
        let out = dir.path().join("out");
        std::fs::create_dir(&out).expect("out");
        let a = r.assemble(&root, &inputs, &out).expect("assemble");
        assert_eq!(a.kernel, kernel);
        assert_eq!(a.cmdline, "console=ttyS0");
        assert_eq!(a.ramdisks, [out.join("boot.cpio")]);
        let bytes = std::fs::read(&a.ramdisks[0]).expect("archive");
        let got: Vec<(String, u32, Vec<u8>)> = cpio::read_archive(&bytes)
            .expect("read back")
            .into_iter()
            .inspect(|e| assert_eq!((e.mtime, e.uid, e.gid), (0, 0, 0)))
            .map(|e| (String::from_utf8(e.name).expect("utf-8"), e.mode, e.data))
            .collect();
        let want: Vec<(String, u32, Vec<u8>)> = vec![
            ("app".into(), 0o040_755, vec![]),
            ("app/bin".into(), 0o100_755, b"\x7fELF".to_vec()),
            ("cmd".into(), 0o100_644, b"/app/bin\n".to_vec()),
            ("etc".into(), 0o040_755, vec![]),
            ("etc/app.json".into(), 0o100_644, b"{}".to_vec()),
            ("tmp".into(), 0o040_755, vec![]),
        ];
        assert_eq!(got, want);
        // Nothing but the archive is left in the output directory (the stage is removed).
        let left: Vec<_> = std::fs::read_dir(&out)
            .expect("ls")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(left, ["boot.cpio"]);
    }
}
