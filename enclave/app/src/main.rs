//! `enclave-app`: the matching engine's enclave application (the library's [`enclave_app::main`]
//! says what it does).
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    enclave_app::main()
}
