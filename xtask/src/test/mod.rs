//! `cargo xtask test`: every check CI runs, in order, each under a time limit.
//!
//! A step whose prerequisite is missing (a rustup target, cargo-fuzz, nightly, root) is skipped
//! with the reason printed; with `--require-all` (what `.ci/run` passes) a skip is a failure.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

mod examples;
mod release;

use crate::process::{available, output_of, run_with_timeout, Outcome};

/// The targets every library crate must build for, with each of its no_std feature sets:
/// Cortex-M0+ (no compare-and-swap), Cortex-M4F, RISC-V 32 and 64, aarch64 and x86_64.
const NO_STD_TARGETS: &[&str] = &[
    "thumbv6m-none-eabi",
    "thumbv7em-none-eabihf",
    "riscv32imac-unknown-none-elf",
    "riscv64gc-unknown-none-elf",
    "aarch64-unknown-none",
    "x86_64-unknown-none",
];

/// (crate, feature sets) built for the no_std targets; "" is the default set.
const NO_STD_CRATES: &[(&str, &[&str])] = &[
    ("netpoll-core", &["", "defmt"]),
    ("netconsole-options", &["", "defmt"]),
    ("netconsole", &["", "log", "defmt", "log,defmt"]),
    ("netpoll-drivers", &["", "smoltcp", "embassy", "lan9118", "stm32", "virtio"]),
];

/// (crate, feature sets) built for the no_std targets with `--no-default-features` as well:
/// netconsole without its `extended` format, as a basic-only firmware takes it.
const NO_STD_NO_DEFAULT: &[(&str, &[&str])] = &[("netconsole", &["", "log,defmt"])];

/// Firmware examples built (formatted, linted, linked in release) for `thumbv7em-none-eabihf`
/// but not run: no emulator has their NIC. Each is its own workspace, built from its directory
/// so that its `.cargo/config.toml` (target, linker script) applies.
const FIRMWARE_BUILDS: &[&str] = &["examples/stm32f4-eth"];

/// Features for the host test run: every std and optional feature but `defmt`, whose test
/// binaries would need a global logger to link (the no_std builds below cover it).
const TEST_FEATURES: &str = "netpoll-drivers/linux,netpoll-drivers/pcap,netpoll-drivers/smoltcp,\
     netpoll-drivers/embassy,netpoll-drivers/lan9118,netpoll-drivers/stm32,\
     netpoll-drivers/virtio,netconsole/log";

/// cargo-fuzz targets and how long each smoke run lasts.
const FUZZ_RUNS: &[(&str, u32)] =
    &[("wire_parse", 30), ("options", 60), ("listen", 60), ("console", 30)];

/// Command-line options of `cargo xtask test`.
pub struct Options {
    require_all: bool,
    quick: bool,
}

impl Options {
    /// Reads the flags after `test`.
    pub fn parse(args: &[String]) -> Result<Options, String> {
        let mut options = Options { require_all: false, quick: false };
        for arg in args {
            match arg.as_str() {
                "--require-all" => options.require_all = true,
                "--quick" => options.quick = true,
                other => return Err(format!("unknown flag `{other}`")),
            }
        }
        Ok(options)
    }
}

/// Tally of the steps.
#[derive(Default)]
struct Report {
    passed: Vec<String>,
    failed: Vec<String>,
    skipped: Vec<(String, String)>,
}

impl Report {
    fn step(&mut self, name: &str, limit: Duration, cmd: &mut Command) {
        println!("\n==> {name}");
        let started = Instant::now();
        match run_with_timeout(cmd, limit) {
            Ok(Outcome::Exited(status)) if status.success() => {
                println!("<== {name}: ok ({:.1} s)", started.elapsed().as_secs_f64());
                self.passed.push(name.to_owned());
            }
            Ok(Outcome::Exited(status)) => {
                println!("<== {name}: FAILED ({status})");
                self.failed.push(name.to_owned());
            }
            Ok(Outcome::TimedOut) => {
                println!("<== {name}: FAILED (killed after {} s)", limit.as_secs());
                self.failed.push(format!("{name} (timed out)"));
            }
            Err(e) => {
                println!("<== {name}: FAILED (could not start: {e})");
                self.failed.push(name.to_owned());
            }
        }
    }

    fn skip(&mut self, name: &str, why: &str) {
        println!("\n==> {name}: SKIPPED: {why}");
        self.skipped.push((name.to_owned(), why.to_owned()));
    }
}

/// The workspace root (the xtask crate's parent).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").into()
}

/// The cargo that runs us, so the stable steps use the same toolchain.
fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root());
    cmd
}

fn installed_targets() -> Vec<String> {
    output_of("rustup", &["target", "list", "--installed"])
        .map(|s| s.lines().map(str::to_owned).collect())
        .unwrap_or_default()
}

fn minutes(m: u64) -> Duration {
    Duration::from_secs(m * 60)
}

/// Runs every step and fails if any failed (or, with `--require-all`, was skipped).
pub fn run(options: &Options) -> Result<(), String> {
    let mut report = Report::default();
    if options.require_all {
        // Tests that need root, tshark or network namespaces skip with a printed reason; under
        // --require-all they fail instead (the tests read this variable).
        std::env::set_var("NETCONSOLE_REQUIRE_ALL", "1");
    }

    report.step("cargo fmt --check", minutes(2), cargo().args(["fmt", "--all", "--", "--check"]));
    report.step(
        "cargo fmt --check (fuzz targets)",
        minutes(2),
        cargo().args(["fmt", "--manifest-path", "fuzz/Cargo.toml", "--", "--check"]),
    );
    report.step(
        "cargo clippy -D warnings",
        minutes(15),
        cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--all-features",
            "--",
            "-D",
            "warnings",
        ]),
    );
    report.step(
        "cargo clippy -D warnings (netconsole without default features)",
        minutes(10),
        cargo().args([
            "clippy",
            "-p",
            "netconsole",
            "--all-targets",
            "--no-default-features",
            "--",
            "-D",
            "warnings",
        ]),
    );

    if available("cargo-nextest", &["nextest", "--version"]) {
        report.step(
            "tests (cargo nextest)",
            minutes(20),
            cargo().args([
                "nextest",
                "run",
                "--workspace",
                "--profile",
                "ci",
                "--features",
                TEST_FEATURES,
            ]),
        );
        report.step(
            "doc tests",
            minutes(10),
            cargo().args(["test", "--workspace", "--doc", "--features", TEST_FEATURES]),
        );
        // A basic-only build: its refusals of `+` targets, and every test that needs no
        // extended format.
        report.step(
            "netconsole tests without default features (cargo nextest)",
            minutes(10),
            cargo().args([
                "nextest",
                "run",
                "-p",
                "netconsole",
                "--profile",
                "ci",
                "--no-default-features",
            ]),
        );
        report.step(
            "netconsole doc tests without default features",
            minutes(10),
            cargo().args(["test", "-p", "netconsole", "--doc", "--no-default-features"]),
        );
    } else {
        println!(
            "\n(cargo-nextest not found: cargo test runs instead, with one limit for all tests)"
        );
        report.step(
            "tests (cargo test)",
            minutes(25),
            cargo().args(["test", "--workspace", "--features", TEST_FEATURES]),
        );
        report.step(
            "netconsole tests without default features (cargo test)",
            minutes(15),
            cargo().args(["test", "-p", "netconsole", "--no-default-features"]),
        );
    }

    report.step(
        "cargo doc (warnings denied: broken links, undocumented items)",
        minutes(10),
        cargo().env("RUSTDOCFLAGS", "-D warnings").args([
            "doc",
            "--quiet",
            "--workspace",
            "--no-deps",
            "--features",
            TEST_FEATURES,
        ]),
    );

    let targets = installed_targets();
    for target in NO_STD_TARGETS {
        if !targets.iter().any(|t| t == target) {
            report.skip(
                &format!("no_std builds for {target}"),
                &format!("rustup target not installed (rustup target add {target})"),
            );
            continue;
        }
        let sets = NO_STD_CRATES.iter().map(|s| (s, false));
        for ((krate, feature_sets), no_default) in
            sets.chain(NO_STD_NO_DEFAULT.iter().map(|s| (s, true)))
        {
            for features in *feature_sets {
                let label = match (no_default, features.is_empty()) {
                    (false, true) => "default".to_owned(),
                    (false, false) => (*features).to_owned(),
                    (true, true) => "no default features".to_owned(),
                    (true, false) => format!("no default features, {features}"),
                };
                let mut cmd = cargo();
                cmd.args(["build", "--quiet", "-p", krate, "--target", target]);
                if no_default {
                    cmd.arg("--no-default-features");
                }
                if !features.is_empty() {
                    cmd.args(["--features", features]);
                }
                report.step(
                    &format!("build {krate} [{label}] for {target}"),
                    minutes(10),
                    &mut cmd,
                );
            }
        }
    }

    if targets.iter().any(|t| t == "thumbv7em-none-eabihf") {
        examples::firmware(&mut report);
    } else {
        report.skip(
            "firmware builds",
            "rustup target not installed (rustup target add thumbv7em-none-eabihf)",
        );
    }

    release::msrv_check(&mut report);
    release::package_check(&mut report);
    release::docs_rs_check(&mut report);
    examples::examples(&mut report, &targets, options.quick);
    examples::size_check(&mut report, &targets);

    if options.quick {
        report.skip("fuzz smoke runs", "--quick");
    } else {
        fuzz(&mut report);
    }

    println!("\n==> summary");
    for name in &report.failed {
        println!("FAILED  {name}");
    }
    for (name, why) in &report.skipped {
        println!("SKIPPED {name}: {why}");
    }
    // Not in the "N passed, N failed" form: the test runners' own summaries above count tests.
    println!(
        "xtask: {} steps ok, {} failed, {} skipped",
        report.passed.len(),
        report.failed.len(),
        report.skipped.len()
    );
    if !report.failed.is_empty() {
        return Err(format!("{} step(s) failed", report.failed.len()));
    }
    if options.require_all && !report.skipped.is_empty() {
        return Err(format!("{} step(s) skipped under --require-all", report.skipped.len()));
    }
    Ok(())
}

/// The cargo-fuzz smoke runs: each target from its seeds for a fixed time; any crash fails.
fn fuzz(report: &mut Report) {
    let has_nightly = output_of("rustup", &["toolchain", "list"])
        .is_some_and(|list| list.lines().any(|l| l.starts_with("nightly")));
    if !has_nightly {
        report.skip("fuzz smoke runs", "no nightly toolchain (rustup toolchain install nightly)");
        return;
    }
    if !available("cargo-fuzz", &["--version"]) {
        report.skip("fuzz smoke runs", "cargo-fuzz not installed (cargo install cargo-fuzz)");
        return;
    }
    let fuzz_dir = root().join("fuzz");
    for (target, seconds) in FUZZ_RUNS {
        let corpus = fuzz_dir.join("corpus").join(target);
        if let Err(e) = std::fs::create_dir_all(&corpus) {
            report.failed.push(format!("fuzz {target}: cannot create {}: {e}", corpus.display()));
            continue;
        }
        let seeds = fuzz_dir.join("seeds").join(target);
        let mut cmd = Command::new("rustup");
        cmd.current_dir(&fuzz_dir)
            .env_remove("RUSTUP_TOOLCHAIN")
            .env_remove("CARGO")
            .args(["run", "nightly", "cargo", "fuzz", "run", target])
            .arg(&corpus);
        if seeds.is_dir() {
            cmd.arg(&seeds);
        }
        cmd.arg("--").arg(format!("-max_total_time={seconds}"));
        // libFuzzer reports every new coverage point; keep that in a log and show its verdict.
        let log = fuzz_dir.join(format!("smoke-{target}.log"));
        match std::fs::File::create(&log) {
            Ok(file) => {
                cmd.stderr(file);
            }
            Err(e) => println!("(cannot create {}: {e}; fuzzer output follows)", log.display()),
        }
        let name = format!("fuzz {target} for {seconds} s");
        let failures = report.failed.len();
        // Build time on a small machine plus the run itself.
        report.step(&name, Duration::from_secs(u64::from(*seconds) + 600), &mut cmd);
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        if report.failed.len() > failures {
            println!("--- last lines of {} ---", log.display());
            for line in &lines[lines.len().saturating_sub(60)..] {
                println!("{line}");
            }
        } else if let Some(done) = lines.iter().rev().find(|l| l.starts_with("Done ")) {
            println!("    {target}: {done}");
        }
    }
}

/// `cargo xtask bench`: the criterion benchmarks, which the test run never builds.
pub fn bench() -> Result<(), String> {
    let status = cargo()
        .args(["bench", "-p", "netpoll-benches"])
        .status()
        .map_err(|e| format!("cannot run cargo bench: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("cargo bench failed: {status}"))
    }
}
