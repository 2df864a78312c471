//! What to run: the `cmd` and `env` files of the customer ramdisk.
//!
//! nitro-cli writes them from the docker image (`Config.Cmd`/`Config.Env`), one entry per line,
//! each line ending in `\n`. `ci/build-eif` writes them the same way. An argument may be empty;
//! an environment entry must be `NAME=value` with a non-empty name.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;

/// The application to start, with its arguments and its whole environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Launch {
    /// Absolute path of the program inside the root file system.
    pub(crate) program: PathBuf,
    /// Arguments after the program (argv[1..]).
    pub(crate) args: Vec<OsString>,
    /// The environment, in file order; nothing else is inherited.
    pub(crate) env: Vec<(OsString, OsString)>,
}

/// Why the `cmd` or `env` file cannot be used. Each is fatal: the image is built wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ConfigError {
    /// `cmd` has no entries.
    #[error("the cmd file is empty: there is no program to start")]
    EmptyCmd,
    /// The program is not an absolute path (the image has no shell and no PATH search).
    #[error("the program {0:?} in the cmd file is not an absolute path")]
    RelativeProgram(String),
    /// An entry contains a NUL byte, which cannot be passed to execve.
    #[error("line {line} of the {file} file contains a NUL byte")]
    Nul {
        /// `cmd` or `env`.
        file: &'static str,
        /// 1-based line number.
        line: usize,
    },
    /// An `env` entry without `=`.
    #[error("line {line} of the env file is not NAME=value: {text:?}")]
    EnvWithoutEquals {
        /// 1-based line number.
        line: usize,
        /// The entry, lossily decoded for the message.
        text: String,
    },
    /// An `env` entry whose name is empty (`=value`).
    #[error("line {line} of the env file has an empty variable name")]
    EnvEmptyName {
        /// 1-based line number.
        line: usize,
    },
}

/// Splits a file into its `\n`-terminated entries. A missing final `\n` is tolerated; an empty
/// file has no entries.
fn entries(bytes: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let lines = if bytes.is_empty() {
        None
    } else {
        Some(body.split(|&b| b == b'\n'))
    };
    lines
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, line)| (i + 1, line))
}

fn check_nul(file: &'static str, line: usize, entry: &[u8]) -> Result<(), ConfigError> {
    if entry.contains(&0) {
        return Err(ConfigError::Nul { file, line });
    }
    Ok(())
}

/// Parses `cmd` and `env` into what to start.
pub(crate) fn parse(cmd: &[u8], env: &[u8]) -> Result<Launch, ConfigError> {
    let mut argv = Vec::new();
    for (line, entry) in entries(cmd) {
        check_nul("cmd", line, entry)?;
        argv.push(OsString::from_vec(entry.to_vec()));
    }
    let mut argv = argv.into_iter();
    let program = PathBuf::from(argv.next().ok_or(ConfigError::EmptyCmd)?);
    if !program.is_absolute() {
        return Err(ConfigError::RelativeProgram(
            program.to_string_lossy().into_owned(),
        ));
    }
    let mut vars = Vec::new();
    for (line, entry) in entries(env) {
        check_nul("env", line, entry)?;
        let Some(eq) = entry.iter().position(|&b| b == b'=') else {
            return Err(ConfigError::EnvWithoutEquals {
                line,
                text: String::from_utf8_lossy(entry).into_owned(),
            });
        };
        if eq == 0 {
            return Err(ConfigError::EnvEmptyName { line });
        }
        vars.push((
            OsString::from_vec(entry[..eq].to_vec()),
            OsString::from_vec(entry[eq + 1..].to_vec()),
        ));
    }
    Ok(Launch {
        program,
        args: argv.collect(),
        env: vars,
    })
}

#[cfg(test)]
mod tests;
