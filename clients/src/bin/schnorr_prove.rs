//! `schnorr-prove STATEMENT_FILE SECRET_FILE PROOF_FILE`: the demo market's prover. Reads the
//! statement P (`abi.encode(Px, Py)`, 64 bytes) and the secret x (32 bytes big-endian), writes
//! the proof `abi.encode(Rx, Ry, s)`. Exit 0: proof written; 3: the secret cannot prove P (x·G != P, or not a scalar: invalid inputs);
//! 2: usage or malformed input; 1: I/O failure. Everything is computed locally.

use std::process::ExitCode;

use market_client::generator::prover::INVALID_INPUTS_EXIT;
use market_client::schnorr::{SchnorrError, prove};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [statement, secret, out] = args.as_slice() else {
        eprintln!("usage: schnorr-prove STATEMENT_FILE SECRET_FILE PROOF_FILE");
        return ExitCode::from(2);
    };
    let read = |path: &str| std::fs::read(path).map_err(|e| format!("{path}: {e}"));
    let (statement, secret) = match (read(statement), read(secret)) {
        (Ok(p), Ok(x)) => (p, secret_bytes(x)),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("schnorr-prove: {e}");
            return ExitCode::from(1);
        }
    };
    match prove(&statement, &secret) {
        Ok(proof) => match std::fs::write(out, proof) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("schnorr-prove: {out}: {e}");
                ExitCode::from(1)
            }
        },
        Err(
            e
            @ (SchnorrError::Mismatch | SchnorrError::SecretLength(_) | SchnorrError::SecretRange),
        ) => {
            eprintln!("schnorr-prove: invalid inputs: {e}");
            // The exit code the generator node reads as "invalid inputs".
            ExitCode::from(u8::try_from(INVALID_INPUTS_EXIT).unwrap_or(3))
        }
        Err(e) => {
            eprintln!("schnorr-prove: {e}");
            ExitCode::from(2)
        }
    }
}

/// The secret as given: 32 raw bytes, or 64 hex digits (optional `0x`, surrounding whitespace).
fn secret_bytes(raw: Vec<u8>) -> Vec<u8> {
    if raw.len() == 32 {
        return raw;
    }
    let text = String::from_utf8_lossy(&raw);
    hex::decode(text.trim().trim_start_matches("0x")).unwrap_or(raw)
}
