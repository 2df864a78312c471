use super::*;

fn os(s: &str) -> OsString {
    OsString::from(s)
}

#[test]
fn parses_the_nitro_cli_layout() {
    let launch = parse(
        b"/app/enclave-app\n--config\n/etc/enclave-app.json\n",
        b"RUST_LOG=info\nEMPTY=\nEQ=a=b\n",
    )
    .unwrap();
    assert_eq!(launch.program, PathBuf::from("/app/enclave-app"));
    assert_eq!(
        launch.args,
        vec![os("--config"), os("/etc/enclave-app.json")]
    );
    assert_eq!(
        launch.env,
        vec![
            (os("RUST_LOG"), os("info")),
            (os("EMPTY"), os("")),
            (os("EQ"), os("a=b"))
        ]
    );
}

#[test]
fn tolerates_a_missing_final_newline_and_keeps_empty_arguments() {
    let launch = parse(b"/bin/app\n\n--x", b"").unwrap();
    assert_eq!(launch.args, vec![os(""), os("--x")]);
    assert!(launch.env.is_empty());
}

#[test]
fn rejects_an_empty_cmd() {
    assert_eq!(parse(b"", b""), Err(ConfigError::EmptyCmd));
    // A lone newline is one empty program name, which is not absolute.
    assert_eq!(
        parse(b"\n", b""),
        Err(ConfigError::RelativeProgram(String::new()))
    );
}

#[test]
fn rejects_a_relative_program() {
    assert_eq!(
        parse(b"app\n", b""),
        Err(ConfigError::RelativeProgram("app".into()))
    );
}

#[test]
fn rejects_nul_bytes_with_their_line() {
    assert_eq!(
        parse(b"/app\nx\0y\n", b""),
        Err(ConfigError::Nul {
            file: "cmd",
            line: 2
        })
    );
    assert_eq!(
        parse(b"/app\n", b"A=1\nB=\0\n"),
        Err(ConfigError::Nul {
            file: "env",
            line: 2
        })
    );
}

#[test]
fn rejects_malformed_env_entries() {
    assert_eq!(
        parse(b"/app\n", b"A=1\nNOVALUE\n"),
        Err(ConfigError::EnvWithoutEquals {
            line: 2,
            text: "NOVALUE".into()
        })
    );
    assert_eq!(
        parse(b"/app\n", b"=1\n"),
        Err(ConfigError::EnvEmptyName { line: 1 })
    );
    // An empty line in the middle is an entry without '='.
    assert_eq!(
        parse(b"/app\n", b"A=1\n\nB=2\n"),
        Err(ConfigError::EnvWithoutEquals {
            line: 2,
            text: String::new()
        })
    );
}
