//! Black-box tests of the `eif-builder` binary: verbs, JSON shapes, exit codes, determinism,
//! and agreement with `nitro-cli describe-eif`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{Inputs, Rng, sha256_file};
use serde_json::Value;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_eif-builder"));
    c.env("SOURCE_DATE_EPOCH", "1700000000");
    c
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("spawn eif-builder")
}

fn stdout_json(o: &Output) -> Value {
    assert!(
        o.status.success(),
        "exit {:?}: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).expect("JSON on stdout")
}

fn p(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

fn build_args(inputs: &Inputs, out: &Path) -> Vec<String> {
    let mut a = vec![
        "build".to_string(),
        "--kernel".into(),
        p(&inputs.kernel).into(),
    ];
    a.extend(["--cmdline".into(), inputs.cmdline.clone()]);
    for r in &inputs.ramdisks {
        a.extend(["--ramdisk".into(), p(r).into()]);
    }
    if let Some((c, k)) = &inputs.identity {
        a.extend([
            "--sign-cert".into(),
            p(c).into(),
            "--sign-key".into(),
            p(k).into(),
        ]);
    }
    a.extend([
        "--name".into(),
        "app".into(),
        "--version".into(),
        "2.1".into(),
    ]);
    a.extend([
        "--source-revision".into(),
        "0123abc".into(),
        "--toolchain".into(),
        "rustc=1.95.0".into(),
    ]);
    a.extend(["-o".into(), p(out).into()]);
    a
}

fn build(inputs: &Inputs, out: &Path) -> Value {
    let args = build_args(inputs, out);
    stdout_json(&bin().args(&args).output().expect("spawn"))
}

#[test]
fn help_on_every_verb_lists_exit_codes() {
    for verb in [
        &[][..],
        &["ramdisk"],
        &["build"],
        &["image"],
        &["describe"],
        &["pcrs"],
        &["extract"],
    ] {
        let mut args = verb.to_vec();
        args.push("--help");
        let o = run(&args);
        assert_eq!(o.status.code(), Some(0), "{args:?}");
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(
            text.contains("Exit codes") && text.contains("negative answer"),
            "{args:?}: {text}"
        );
    }
    assert_eq!(
        run(&["build"]).status.code(),
        Some(2),
        "missing arguments is an error"
    );
    assert_eq!(run(&["frobnicate"]).status.code(), Some(2));
}

#[test]
fn build_describe_pcrs_extract_agree() {
    for signed in [false, true] {
        let inputs = Inputs::new(&mut Rng(77), 50_000, &[1234, 99_999, 5], signed);
        let out = inputs.dir.path().join("img.eif");
        let built = build(&inputs, &out);
        let described = stdout_json(&run(&["describe", p(&out), "--json"]));
        assert_eq!(built, described);
        assert_eq!(described["IsSigned"], signed);
        assert_eq!(described["CheckCRC"], true);
        assert_eq!(described["ImageName"], "app");
        assert_eq!(described["ImageVersion"], "2.1");
        assert_eq!(described["Metadata"]["BuildTime"], "2023-11-14T22:13:20Z");
        assert_eq!(
            described["Metadata"]["Provenance"]["SourceRevision"],
            "0123abc"
        );
        assert_eq!(
            described["Metadata"]["Provenance"]["Toolchains"]["rustc"],
            "1.95.0"
        );
        assert_eq!(
            described["Sections"].as_array().map(Vec::len),
            Some(6 + usize::from(signed))
        );
        assert_eq!(
            described.get("SignatureCheck").cloned(),
            signed.then_some(Value::Bool(true))
        );
        let pcrs = stdout_json(&run(&["pcrs", p(&out)]));
        assert_eq!(pcrs, described["Measurements"]);
        assert_eq!(pcrs.get("PCR8").is_some(), signed);

        let human = run(&["describe", p(&out)]);
        assert!(human.status.success());
        let text = String::from_utf8_lossy(&human.stdout);
        assert!(text.contains(pcrs["PCR0"].as_str().expect("hex")), "{text}");

        let dir = inputs.dir.path().join("x");
        let o = run(&["extract", p(&out), "--out", p(&dir)]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert_eq!(
            std::fs::read(dir.join("kernel")).expect("kernel"),
            std::fs::read(&inputs.kernel).expect("k")
        );
        assert_eq!(
            std::fs::read_to_string(dir.join("cmdline")).expect("cmdline"),
            inputs.cmdline
        );
        for (i, r) in inputs.ramdisks.iter().enumerate() {
            assert_eq!(
                std::fs::read(dir.join(format!("ramdisk-{i}"))).expect("rd"),
                std::fs::read(r).expect("r")
            );
        }
        assert!(dir.join("metadata.json").exists());
        assert_eq!(dir.join("signature.cbor").exists(), signed);
    }
}

fn copy_inputs(from: &Inputs, rng_seed: u64) -> Inputs {
    // Same bytes, different directory and different file mtimes.
    let to = Inputs::new(&mut Rng(rng_seed), 1, &vec![1; from.ramdisks.len()], false);
    std::fs::copy(&from.kernel, &to.kernel).expect("copy");
    for (a, b) in from.ramdisks.iter().zip(&to.ramdisks) {
        std::fs::copy(a, b).expect("copy");
    }
    let identity = from.identity.as_ref().map(|(c, k)| {
        let (c2, k2) = (
            to.dir.path().join("cert.pem"),
            to.dir.path().join("key.pem"),
        );
        std::fs::copy(c, &c2).expect("copy");
        std::fs::copy(k, &k2).expect("copy");
        (c2, k2)
    });
    Inputs {
        cmdline: from.cmdline.clone(),
        identity,
        ..to
    }
}

#[test]
fn same_inputs_in_other_directories_at_other_times_give_identical_bytes() {
    for signed in [false, true] {
        let a = Inputs::new(&mut Rng(5), 70_000, &[10, 200_000], signed);
        let out_a = a.dir.path().join("a.eif");
        build(&a, &out_a);
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let b = copy_inputs(&a, 6);
        let out_b = b.dir.path().join("b.eif");
        build(&b, &out_b);
        assert_ne!(a.dir.path(), b.dir.path());
        assert_eq!(sha256_file(&out_a), sha256_file(&out_b), "signed={signed}");
    }
}

fn make_tree(root: &Path) {
    std::fs::create_dir_all(root.join("rootfs/bin")).expect("mkdir");
    std::fs::write(root.join("rootfs/bin/app"), b"\x7fELF...").expect("write");
    std::fs::write(root.join("cmd"), b"/bin/app\n").expect("write");
    std::fs::write(root.join("env"), b"RUST_LOG=info\n").expect("write");
}

#[test]
fn ramdisk_verb_is_deterministic_and_feeds_build() {
    let t1 = tempfile::tempdir().expect("tmp");
    let t2 = tempfile::tempdir().expect("tmp");
    make_tree(&t1.path().join("root"));
    std::thread::sleep(std::time::Duration::from_millis(1100));
    make_tree(&t2.path().join("root"));
    let (c1, c2) = (t1.path().join("r.cpio"), t2.path().join("r.cpio"));
    for (t, c) in [(&t1, &c1), (&t2, &c2)] {
        let o = run(&["ramdisk", "--root", p(&t.path().join("root")), "-o", p(c)]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    assert_eq!(sha256_file(&c1), sha256_file(&c2));
    let entries =
        eif_builder::cpio::read_archive(&std::fs::read(&c1).expect("read")).expect("parse");
    assert!(
        entries
            .iter()
            .all(|e| e.mtime == 1_700_000_000 && e.uid == 0)
    );

    let mut inputs = Inputs::new(&mut Rng(1), 1000, &[10], false);
    inputs.ramdisks.push(c1.clone());
    let out = inputs.dir.path().join("t.eif");
    let d = build(&inputs, &out);
    assert_eq!(d["CheckCRC"], true);
    let o = run(&[
        "ramdisk",
        "--root",
        "/nonexistent/dir",
        "-o",
        p(&t1.path().join("z")),
    ]);
    assert_eq!(o.status.code(), Some(2));
}

/// The image recipe the project builds (enclave/image.json), run by the `image` verb on stand-in
/// inputs, gives the same ramdisks and PCRs as staging the same tree by hand (as the image build
/// did before the recipe) and running `ramdisk` and `build`: the recipe is the image's layout.
#[test]
fn image_verb_builds_the_repository_recipe_like_hand_staged_trees() {
    use std::os::unix::fs::PermissionsExt;
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let t = tempfile::tempdir().expect("tmp");
    let mut rng = Rng(9);
    let input = |name: &str, len: usize, rng: &mut Rng| {
        let path = t.path().join(name);
        std::fs::write(&path, rng.bytes(len)).expect("write input");
        path
    };
    let (kernel, init, app, ca) = (
        input("bzImage", 4000, &mut rng),
        input("init", 3000, &mut rng),
        input("app", 5000, &mut rng),
        input("ca.crt", 700, &mut rng),
    );
    let config = repo.join("enclave/app/rootfs/etc/enclave-app.json");

    // By hand: the tree layout, modes, cmd and env of the image.
    let boot = t.path().join("hand/bootstrap");
    let cust = t.path().join("hand/customer");
    let root = cust.join("rootfs");
    std::fs::create_dir_all(boot.join("dev")).expect("mkdir");
    for d in ["app", "dev", "proc", "sys", "tmp", "run", "etc/ssl/certs"] {
        std::fs::create_dir_all(root.join(d)).expect("mkdir");
    }
    let install = |from: &Path, to: PathBuf, mode: u32| {
        std::fs::copy(from, &to).expect("copy");
        std::fs::set_permissions(&to, std::fs::Permissions::from_mode(mode)).expect("chmod");
    };
    install(&init, boot.join("init"), 0o755);
    install(&app, root.join("app/enclave-app"), 0o755);
    install(&config, root.join("etc/enclave-app.json"), 0o644);
    install(&ca, root.join("etc/ssl/certs/ca-certificates.crt"), 0o644);
    std::fs::write(
        cust.join("cmd"),
        "/app/enclave-app\n--config\n/etc/enclave-app.json\n",
    )
    .expect("cmd");
    std::fs::write(cust.join("env"), "RUST_BACKTRACE=0\n").expect("env");
    let hand_out = t.path().join("hand-out");
    std::fs::create_dir(&hand_out).expect("mkdir");
    for (tree, name) in [(&boot, "bootstrap"), (&cust, "customer")] {
        let o = bin()
            .env("SOURCE_DATE_EPOCH", "0")
            .args(["ramdisk", "--root", p(tree), "-o"])
            .arg(hand_out.join(format!("{name}.cpio")))
            .output()
            .expect("spawn");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let cmdline = repo.join("ci/kernel.d/cmdline");
    let hand = stdout_json(&run(&[
        "build",
        "--kernel",
        p(&kernel),
        "--cmdline-file",
        p(&cmdline),
        "--ramdisk",
        p(&hand_out.join("bootstrap.cpio")),
        "--ramdisk",
        p(&hand_out.join("customer.cpio")),
        "-o",
        p(&hand_out.join("hand.eif")),
    ]));

    // By the recipe.
    let recipe_out = t.path().join("recipe-out");
    std::fs::create_dir(&recipe_out).expect("mkdir");
    let image = |extra: &[&str]| {
        let mut args = vec![
            "image".to_string(),
            "--recipe".into(),
            p(&repo.join("enclave/image.json")).into(),
            "--source-root".into(),
            p(&repo).into(),
            "--input".into(),
            format!("kernel={}", p(&kernel)),
            "--input".into(),
            format!("enclave-init={}", p(&init)),
            "--input".into(),
            format!("enclave-app={}", p(&app)),
            "--ramdisk-dir".into(),
            p(&recipe_out).into(),
            "-o".into(),
            p(&recipe_out.join("recipe.eif")).into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        bin().args(&args).output().expect("spawn")
    };
    let ca_input = format!("ca-bundle={}", p(&ca));
    let recipe = stdout_json(&image(&["--input", &ca_input]));
    for key in ["Measurements", "Cmdline", "ImageName"] {
        assert_eq!(recipe[key], hand[key], "{key}");
    }
    assert_eq!(recipe["ImageName"], "enclave");
    for name in ["bootstrap.cpio", "customer.cpio"] {
        assert_eq!(
            sha256_file(&recipe_out.join(name)),
            sha256_file(&hand_out.join(name)),
            "{name}"
        );
    }
    assert!(
        recipe["Metadata"]["Provenance"]
            .get("Unregistrable")
            .is_none(),
        "a build is registrable unless it says otherwise"
    );

    // Marked unregistrable: recorded, PCRs unchanged (the manifest is never measured).
    let marked = stdout_json(&image(&[
        "--input",
        &ca_input,
        "--unregistrable",
        "other toolchain",
    ]));
    assert_eq!(
        marked["Metadata"]["Provenance"]["Unregistrable"],
        "other toolchain"
    );
    assert_eq!(marked["Measurements"], hand["Measurements"]);

    // The inputs must be exactly the recipe's.
    let missing = image(&[]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&missing.stderr)
            .contains("\"ca-bundle\" is named by the recipe but was not given")
    );
    let extra = image(&["--input", &ca_input, "--input", "debug-shell=/bin/sh"]);
    assert_eq!(extra.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&extra.stderr)
            .contains("\"debug-shell\" was given but the recipe does not use it")
    );
}

fn expect_error(file: &Path, verb: &str, code: i32, needle: &str) {
    let o = run(&[verb, p(file)]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(code), "{verb}: {err}");
    assert!(
        err.contains(needle),
        "{verb}: expected {needle:?} in {err:?}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn bad_files_exit_with_named_errors() {
    let inputs = Inputs::new(&mut Rng(9), 5000, &[100, 100], false);
    let out = inputs.dir.path().join("ok.eif");
    build(&inputs, &out);
    let eif = std::fs::read(&out).expect("read");
    let write = |name: &str, bytes: &[u8]| -> PathBuf {
        let f = inputs.dir.path().join(name);
        std::fs::write(&f, bytes).expect("write");
        f
    };
    let truncated = write("trunc.eif", &eif[..eif.len() / 2]);
    let mut m = eif.clone();
    m[0] = b'X';
    let magic = write("magic.eif", &m);
    let mut m = eif.clone();
    let n = m.len();
    m[n - 3] ^= 1;
    let crc = write("crc.eif", &m);
    let mut m = eif.clone();
    m[26..28].copy_from_slice(&999u16.to_be_bytes());
    let count = write("count.eif", &m);
    let mut m = eif;
    m[548..550].copy_from_slice(&42u16.to_be_bytes());
    let kind = write("kind.eif", &m);
    for verb in ["describe", "pcrs"] {
        expect_error(&truncated, verb, 2, "runs past end of file");
        expect_error(&magic, verb, 2, "wrong magic");
        expect_error(&crc, verb, 1, "CRC mismatch");
        expect_error(&count, verb, 2, "absurd section count 999");
        expect_error(&kind, verb, 2, "unknown section type 42");
        expect_error(
            &inputs.dir.path().join("missing.eif"),
            verb,
            2,
            "missing.eif",
        );
    }
    // describe still prints the report (CheckCRC false) on a CRC mismatch.
    let o = run(&["describe", p(&crc), "--json"]);
    assert_eq!(o.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["CheckCRC"], false);

    let empty = inputs.dir.path().join("empty");
    std::fs::write(&empty, b"").expect("write");
    let o = bin()
        .args([
            "build",
            "--kernel",
            p(&empty),
            "--cmdline",
            "x",
            "--ramdisk",
            p(&inputs.ramdisks[0]),
            "-o",
        ])
        .arg(inputs.dir.path().join("e.eif"))
        .output()
        .expect("spawn");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("the kernel is empty"));
}

fn nitro_cli() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("nitro-cli"))
        .find(|p| p.is_file())
}

/// `nitro-cli describe-eif` (AWS's own tool) reads our EIFs and reports what we report.
#[test]
fn nitro_cli_describe_eif_agrees() {
    let Some(nitro) = nitro_cli() else {
        eprintln!(
            "SKIPPED: nitro-cli is not on PATH (ci/bootstrap installs it; `source ci/env.sh`)"
        );
        return;
    };
    let logs = std::env::var_os("NITRO_CLI_LOGS_DIR")
        .map_or_else(|| PathBuf::from("/var/log/nitro_enclaves"), PathBuf::from);
    // nitro-cli refuses to run without its log directory.
    let _ = std::fs::create_dir_all(&logs);
    for signed in [false, true] {
        let inputs = Inputs::new(&mut Rng(31), 20_000, &[500, 70_000], signed);
        let out = inputs.dir.path().join("n.eif");
        let ours = build(&inputs, &out);
        let o = Command::new(&nitro)
            .args(["describe-eif", "--eif-path", p(&out)])
            .output()
            .expect("spawn nitro-cli");
        assert!(
            o.status.success(),
            "nitro-cli failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let theirs: Value = serde_json::from_slice(&o.stdout).expect("nitro-cli JSON");
        let mut ours = ours.as_object().expect("object").clone();
        ours.remove("Sections");
        ours.remove("Cmdline");
        assert_eq!(Value::Object(ours), theirs, "signed={signed}");
        assert_eq!(theirs["IsSigned"], signed);
        assert_eq!(theirs["CheckCRC"], true);
    }
}
