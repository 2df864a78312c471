//! `nitro-hints`: prints hints or calldata for the on-chain Nitro verifier.
use cli::run;

mod cli {
    use std::io::Write;

    pub(crate) fn run(args: &[String]) -> Result<String, String> {
        let (cmd, path) = match args {
            [cmd, path] => (cmd.as_str(), path.as_str()),
            _ => return Err(usage()),
        };
        let raw = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
        let doc = decode_input(&raw);
        let hints = nitro_hints::document_hints(&doc).map_err(|e| e.to_string())?;
        match cmd {
            "hints" => Ok(hints
                .iter()
                .map(|h| h.iter().map(hex::encode).collect::<String>())
                .collect::<Vec<_>>()
                .join("\n")),
            "verify-calldata" => Ok(hex::encode(nitro_hints::verify_input(&doc, &hints))),
            _ => Err(usage()),
        }
    }

    /// Raw COSE bytes, or base64 text of them (as some published samples are).
    fn decode_input(raw: &[u8]) -> Vec<u8> {
        let first = raw.first().copied();
        if matches!(first, Some(0x84) | Some(0xd2) | Some(0x9f)) {
            return raw.to_vec();
        }
        base64_decode(raw).unwrap_or_else(|| raw.to_vec())
    }

    fn base64_decode(text: &[u8]) -> Option<Vec<u8>> {
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = Vec::new();
        let (mut acc, mut bits) = (0u32, 0u32);
        for &c in text.iter().filter(|c| !c.is_ascii_whitespace()) {
            if c == b'=' {
                break;
            }
            let v = ALPHABET.iter().position(|&a| a == c)? as u32;
            acc = (acc << 6) | v;
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                out.push((acc >> bits) as u8);
            }
        }
        Some(out)
    }

    fn usage() -> String {
        "usage: nitro-hints (hints | verify-calldata) DOCUMENT".to_string()
    }

    pub(crate) fn print(s: &str) {
        let _ = writeln!(std::io::stdout(), "{s}");
    }
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(out) => {
            cli::print(&out);
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("nitro-hints: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
