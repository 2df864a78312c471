//! `ci/bench eif`: build and describe the same 256 MiB-ramdisk image with this crate and with
//! the AWS reference crate in one run; print ONE JSON line on stdout (progress on stderr).
//!
//! Also measured: this machine's single-core SHA-384 throughput (before each of our builds, outside
//! the timed region), giving the hashing limit: measured bytes ÷ throughput. The PCR0 chain must
//! hash every measured byte in order on one core; the PCR2 chain (the application ramdisk) and the
//! manifest's kernel and boot-ramdisk digests are as many bytes again, hashed on the second core,
//! so on two cores no build can beat this. Also the peak RSS of a build in a child process for two
//! ramdisk sizes (it must not grow with the ramdisk).
#![allow(missing_docs, clippy::print_stdout, clippy::print_stderr)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use aws_nitro_enclaves_image_format::defs::{EifBuildInfo, EifIdentityInfo};
use aws_nitro_enclaves_image_format::utils::EifBuilder;
use aws_nitro_enclaves_image_format::utils::eif_reader::EifReader;
use eif_builder::{BuildSpec, ImageIdentity, Provenance};
use sha2::Digest as _;

const MIB: u64 = 1 << 20;
const KERNEL: u64 = 8 * MIB;
const BOOT: u64 = 4 * MIB;
const APP: u64 = 256 * MIB;
const RUNS: usize = 3;

fn write_random(path: &Path, len: u64, mut seed: u64) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).expect("create"));
    let mut chunk = vec![0u8; MIB as usize];
    let mut left = len;
    while left > 0 {
        for w in chunk.chunks_mut(8) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            w.copy_from_slice(&seed.to_le_bytes()[..w.len()]);
        }
        let n = left.min(MIB) as usize;
        f.write_all(&chunk[..n]).expect("write");
        left -= n as u64;
    }
    f.flush().expect("flush");
}

struct Fixture {
    dir: tempfile::TempDir,
    kernel: PathBuf,
    ramdisks: Vec<PathBuf>,
    cmdline: String,
}

/// Files live on tmpfs when there is one, so disk writeback (shared with whatever else the machine
/// is doing) does not dominate either implementation's time.
fn fixture(app: u64) -> Fixture {
    let shm = Path::new("/dev/shm");
    let dir = if shm.is_dir() {
        tempfile::tempdir_in(shm)
    } else {
        tempfile::tempdir()
    }
    .expect("tempdir");
    let kernel = dir.path().join("bzImage");
    write_random(&kernel, KERNEL, 1);
    let boot = dir.path().join("boot.cpio");
    write_random(&boot, BOOT, 2);
    let appf = dir.path().join("app.cpio");
    write_random(&appf, app, 3);
    Fixture {
        dir,
        kernel,
        ramdisks: vec![boot, appf],
        cmdline: "console=ttyS0 reboot=k panic=30".into(),
    }
}

fn ours_build(fx: &Fixture, out: &Path) -> eif_builder::Description {
    let spec = BuildSpec {
        kernel: fx.kernel.clone(),
        cmdline: fx.cmdline.clone(),
        ramdisks: fx.ramdisks.clone(),
        signer: None,
        identity: ImageIdentity::default(),
        provenance: Provenance::default(),
        flags: 0,
    };
    eif_builder::build(&spec, out, None).expect("our build")
}

fn aws_build(fx: &Fixture, out: &Path) -> String {
    let info = EifIdentityInfo {
        img_name: "bench".into(),
        img_version: "0".into(),
        build_info: EifBuildInfo {
            build_time: "1970-01-01T00:00:00Z".into(),
            build_tool: "bench".into(),
            build_tool_version: "0".into(),
            img_os: "Linux".into(),
            img_kernel: "0".into(),
        },
        docker_info: serde_json::Value::Null,
        custom_info: serde_json::Value::Null,
    };
    let mut b = EifBuilder::new(
        &fx.kernel,
        fx.cmdline.clone(),
        None,
        sha2::Sha384::new(),
        0,
        info,
    );
    for r in &fx.ramdisks {
        b.add_ramdisk(r);
    }
    let mut f = std::fs::File::create(out).expect("create");
    let m = b.write_to(&mut f);
    m["PCR0"].clone()
}

fn aws_describe(path: &Path) -> String {
    let mut r =
        EifReader::from_eif(path.to_str().expect("utf-8").to_owned()).expect("reference reader");
    assert!(r.check_crc());
    r.get_measurements().expect("measurements")["PCR0"].clone()
}

fn best<T>(f: impl FnMut() -> T) -> (Duration, T) {
    let (d, _, v) = best_after(|| {}, f);
    (d, v)
}

/// Best of `RUNS` timings of `f`, with the CPU seconds (all threads) of that run; `before` runs
/// ahead of each, outside the timed region.
fn best_after<T>(mut before: impl FnMut(), mut f: impl FnMut() -> T) -> (Duration, f64, T) {
    let mut best = (Duration::MAX, 0.0);
    let mut last = None;
    for _ in 0..RUNS {
        before();
        let cpu = process_cpu_s();
        let t = Instant::now();
        let v = f();
        let wall = t.elapsed();
        if wall < best.0 {
            best = (wall, process_cpu_s() - cpu);
        }
        last = Some(v);
    }
    (best.0, best.1, last.expect("RUNS > 0"))
}

/// User + system CPU seconds of this process so far, all threads (10 ms resolution).
fn process_cpu_s() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    // Fields after the parenthesised command name start at field 3; utime and stime are 14 and 15.
    let rest = &stat[stat.rfind(')').expect("stat format") + 1..];
    let ticks: Vec<f64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .map(|v| v.parse().expect("stat field"))
        .collect();
    // /proc reports clock ticks of USER_HZ, 100 on Linux.
    ticks.iter().sum::<f64>() / 100.0
}

/// Best single-core SHA-384 throughput (bytes/s) of the implementation the builder uses.
fn remove_if_present(path: &Path) {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => panic!("removing {path:?}: {e}"),
        _ => {}
    }
}

/// Timed by this thread's time on a CPU, not the wall clock, so that other work on the machine
/// cannot make the throughput look lower (and the limit easier).
fn sha384_throughput() -> f64 {
    let buf = vec![0x5au8; 64 * MIB as usize];
    let t = Instant::now();
    let on_cpu = thread_on_cpu_s();
    let mut h = eif_builder::hash::Sha384::new();
    for c in buf.chunks(MIB as usize) {
        h.update(c);
    }
    std::hint::black_box(h.finish());
    let secs = (thread_on_cpu_s() - on_cpu).min(t.elapsed().as_secs_f64());
    buf.len() as f64 / secs
}

/// Nanosecond-resolution time this thread has spent on a CPU (first field of schedstat).
fn thread_on_cpu_s() -> f64 {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").expect("schedstat");
    let ns: f64 = s
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .expect("schedstat field");
    ns / 1e9
}

fn vm_hwm_kib() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    s.lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

/// Peak RSS of one build in a fresh process (this executable, child mode).
fn child_peak_rss(app: u64) -> u64 {
    let exe = std::env::current_exe().expect("current_exe");
    let o = std::process::Command::new(exe)
        .env("EIF_BENCH_CHILD_APP_BYTES", app.to_string())
        .output()
        .expect("spawn child");
    assert!(
        o.status.success(),
        "child failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout)
        .trim()
        .parse()
        .expect("child prints VmHWM")
}

fn main() {
    if let Ok(app) = std::env::var("EIF_BENCH_CHILD_APP_BYTES") {
        let fx = fixture(app.parse().expect("bytes"));
        let before = vm_hwm_kib();
        ours_build(&fx, &fx.dir.path().join("child.eif"));
        println!("{}", vm_hwm_kib().max(before));
        return;
    }
    eprintln!("eif bench: writing inputs ({} MiB ramdisk)", APP / MIB);
    let fx = fixture(APP);
    let measured = KERNEL + BOOT + APP + fx.cmdline.len() as u64;
    let ours_out = fx.dir.path().join("ours.eif");
    let aws_out = fx.dir.path().join("aws.eif");

    eprintln!("eif bench: builds (best of {RUNS}), SHA-384 throughput measured between them");
    let mut sha = 0f64;
    // Each timed build writes a new file: freeing the previous run's output (a rename over it for
    // us, a truncation for the reference) is the file system's work, not the build's.
    let (ours_b, ours_b_cpu, d) = best_after(
        || {
            remove_if_present(&ours_out);
            sha = sha.max(sha384_throughput());
        },
        || ours_build(&fx, &ours_out),
    );
    let limit = measured as f64 / sha;
    let (aws_b, _, aws_pcr0) =
        best_after(|| remove_if_present(&aws_out), || aws_build(&fx, &aws_out));
    assert_eq!(
        d.measurements.pcr0.to_hex(),
        aws_pcr0,
        "both builds measure the same image"
    );

    eprintln!("eif bench: describes of the same file (best of {RUNS})");
    let (ours_d, dd) =
        best(|| eif_builder::describe_file(&ours_out, None, None).expect("describe"));
    let (aws_d, aws_pcr0_read) = best(|| aws_describe(&ours_out));
    assert_eq!(dd.measurements.pcr0.to_hex(), aws_pcr0_read);
    assert!(dd.crc_ok());

    eprintln!("eif bench: peak memory of child builds");
    let rss_small = child_peak_rss(32 * MIB);
    let rss_large = child_peak_rss(APP);

    let s = |d: Duration| (d.as_secs_f64() * 1000.0).round() / 1000.0;
    let r = |x: f64| (x * 100.0).round() / 100.0;
    let build_speedup = aws_b.as_secs_f64() / ours_b.as_secs_f64();
    let describe_speedup = aws_d.as_secs_f64() / ours_d.as_secs_f64();
    let build_vs_limit = ours_b.as_secs_f64() / limit;
    let describe_vs_limit = ours_d.as_secs_f64() / limit;
    let rss_growth = rss_large as f64 / rss_small as f64;
    let line = serde_json::json!({
        "bench": "eif",
        "ramdisk_mib": APP / MIB,
        "measured_mib": r(measured as f64 / MIB as f64),
        "ours_build_s": s(ours_b),
        "aws_build_s": s(aws_b),
        "build_speedup": r(build_speedup),
        "ours_describe_s": s(ours_d),
        "aws_describe_s": s(aws_d),
        "describe_speedup": r(describe_speedup),
        "sha384_mib_s": r(sha / MIB as f64),
        "hash_limit_s": (limit * 1000.0).round() / 1000.0,
        "build_vs_hash_limit": r(build_vs_limit),
        // CPU seconds of that build, all threads: half of it is the best two idle cores can do,
        // so on a busy machine this shows the work apart from the waiting.
        "ours_build_cpu_s": r(ours_b_cpu),
        "describe_vs_hash_limit": r(describe_vs_limit),
        "peak_rss_kib_32mib_ramdisk": rss_small,
        "peak_rss_kib_256mib_ramdisk": rss_large,
        "peak_rss_ratio": r(rss_growth),
        "targets_met": {
            "build_2x_aws": build_speedup >= 2.0,
            "build_within_1_5x_hash_limit": build_vs_limit <= 1.5,
            "describe_2x_aws": describe_speedup >= 2.0,
            "memory_independent_of_ramdisk": rss_growth <= 1.1,
        },
        "cores": std::thread::available_parallelism().map_or(0, |n| n.get()),
        // Other work on the machine skews every figure; record it.
        "loadavg_1m": std::fs::read_to_string("/proc/loadavg")
            .ok()
            .and_then(|l| l.split_whitespace().next().and_then(|v| v.parse::<f64>().ok())),
    });
    println!("{line}");
}
