//! `cargo xtask test`: every check CI runs, in order, each under a time limit.
//!
//! A step whose prerequisite is missing (a rustup target, cargo-fuzz, nightly, root) is skipped
//! with the reason printed; with `--require-all` (what `.ci/run` passes) a skip is a failure.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

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
    } else {
        println!(
            "\n(cargo-nextest not found: cargo test runs instead, with one limit for all tests)"
        );
        report.step(
            "tests (cargo test)",
            minutes(25),
            cargo().args(["test", "--workspace", "--features", TEST_FEATURES]),
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
        for (krate, feature_sets) in NO_STD_CRATES {
            for features in *feature_sets {
                let label = if features.is_empty() { "default" } else { features };
                let mut cmd = cargo();
                cmd.args(["build", "--quiet", "-p", krate, "--target", target]);
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
        firmware(&mut report);
    } else {
        report.skip(
            "firmware builds",
            "rustup target not installed (rustup target add thumbv7em-none-eabihf)",
        );
    }

    msrv_check(&mut report);
    package_check(&mut report);
    docs_rs_check(&mut report);
    examples(&mut report, &targets, options.quick);
    size_check(&mut report, &targets);

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

/// `cargo fmt --check`, `clippy -D warnings` and a release build of each firmware example.
fn firmware(report: &mut Report) {
    for dir in FIRMWARE_BUILDS {
        let steps: [(&str, &[&str]); 3] = [
            ("fmt --check", &["fmt", "--", "--check"]),
            ("clippy -D warnings", &["clippy", "--release", "--quiet", "--", "-D", "warnings"]),
            ("build --release", &["build", "--release", "--quiet"]),
        ];
        for (what, args) in steps {
            let mut cmd = cargo();
            cmd.current_dir(root().join(dir)).args(args);
            report.step(&format!("{dir}: cargo {what}"), minutes(15), &mut cmd);
        }
    }
}

/// The bare-metal examples: fmt and clippy in their own workspaces, then every QEMU run
/// (both architectures, both virtio-mmio register layouts) through `cargo xtask qemu`.
fn examples(report: &mut Report, targets: &[String], quick: bool) {
    const RISCV64: &str = "riscv64gc-unknown-none-elf";
    const AARCH64: &str = "aarch64-unknown-none";
    const THUMBV7EM: &str = "thumbv7em-none-eabihf";
    let lints = [
        ("examples/firmware-app", RISCV64),
        ("examples/qemu-virtio", RISCV64),
        ("examples/qemu-virtio", AARCH64),
        ("examples/qemu-lan9118", THUMBV7EM),
    ];
    for dir in ["examples/firmware-app", "examples/qemu-virtio", "examples/qemu-lan9118"] {
        let mut fmt = cargo();
        fmt.current_dir(root().join(dir)).args(["fmt", "--", "--check"]);
        report.step(&format!("{dir}: cargo fmt --check"), minutes(2), &mut fmt);
    }
    for (dir, target) in lints {
        let name = format!("{dir}: cargo clippy -D warnings for {target}");
        if !targets.iter().any(|t| t == target) {
            report
                .skip(&name, &format!("rustup target not installed (rustup target add {target})"));
            continue;
        }
        let mut clippy = cargo();
        clippy.current_dir(root().join(dir)).env_remove("RUSTFLAGS").args([
            "clippy",
            "--release",
            "--target",
            target,
            "--",
            "-D",
            "warnings",
        ]);
        report.step(&name, minutes(10), &mut clippy);
    }
    let runs =
        [("riscv64", RISCV64, "qemu-system-riscv64"), ("aarch64", AARCH64, "qemu-system-aarch64")];
    for (arch, target, qemu) in runs {
        for modern in [false, true] {
            let layout = if modern { "modern" } else { "legacy" };
            let name = format!("cargo xtask qemu virtio --arch {arch} ({layout} virtio-mmio)");
            if quick {
                report.skip(&name, "--quick");
            } else if !targets.iter().any(|t| t == target) {
                report.skip(
                    &name,
                    &format!("rustup target not installed (rustup target add {target})"),
                );
            } else if !available(qemu, &["--version"]) {
                report.skip(&name, &format!("{qemu} not installed (../shared/QEMU.md, section 1)"));
            } else {
                let Ok(xtask) = std::env::current_exe() else {
                    report.skip(&name, "cannot find the xtask binary itself");
                    continue;
                };
                let mut cmd = Command::new(xtask);
                cmd.current_dir(root()).args(["qemu", "virtio", "--arch", arch]);
                if modern {
                    cmd.arg("--modern");
                }
                report.step(&name, minutes(20), &mut cmd);
            }
        }
    }
    qemu_run(report, targets, quick, "lan9118", THUMBV7EM, "qemu-system-arm");
}

/// `cargo xtask size` as a step: every example's footprint, failing when a firmware with a
/// budget (`BUDGETS` in size.rs) is over it or cannot be built.
fn size_check(report: &mut Report, targets: &[String]) {
    let name = "cargo xtask size (flash budgets)";
    if !targets.iter().any(|t| t == "thumbv7em-none-eabihf") {
        report.skip(name, "rustup target not installed (rustup target add thumbv7em-none-eabihf)");
    } else if !crate::size::llvm_tools_installed() {
        report.skip(name, "llvm-size/llvm-nm not installed (rustup component add llvm-tools)");
    } else if let Ok(xtask) = std::env::current_exe() {
        let mut cmd = Command::new(xtask);
        cmd.current_dir(root()).arg("size");
        report.step(name, minutes(30), &mut cmd);
    } else {
        report.skip(name, "cannot find the xtask binary itself");
    }
}

/// `cargo xtask qemu <example>` as a step, or the reason it is skipped.
fn qemu_run(
    report: &mut Report,
    targets: &[String],
    quick: bool,
    example: &str,
    target: &str,
    qemu: &str,
) {
    let name = format!("cargo xtask qemu {example}");
    if quick {
        report.skip(&name, "--quick");
    } else if !targets.iter().any(|t| t == target) {
        report.skip(&name, &format!("rustup target not installed (rustup target add {target})"));
    } else if !available(qemu, &["--version"]) {
        report.skip(&name, &format!("{qemu} not installed (../shared/QEMU.md, section 1)"));
    } else if let Ok(xtask) = std::env::current_exe() {
        let mut cmd = Command::new(xtask);
        cmd.current_dir(root()).args(["qemu", example]);
        report.step(&name, minutes(20), &mut cmd);
    } else {
        report.skip(&name, "cannot find the xtask binary itself");
    }
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

/// The library crates: what `cargo package` must accept and what the MSRV must build.
const LIBRARY_CRATES: &[&str] =
    &["netpoll-core", "netpoll-drivers", "netconsole", "netconsole-options"];

/// The bare-metal target the MSRV check builds for (the host is checked too).
const MSRV_NO_STD_TARGET: &str = "thumbv7em-none-eabihf";

/// The workspace's `rust-version`: one place says the MSRV, and CI checks that place.
fn msrv() -> Option<String> {
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).ok()?;
    let line = manifest.lines().find(|l| l.trim_start().starts_with("rust-version"))?;
    Some(line.split('"').nth(1)?.to_owned())
}

/// `cargo check` of every library crate under the MSRV toolchain: on the host with its std
/// features, and for a bare-metal target with each no_std feature set. A dependency update
/// that needs a newer Rust fails here, before a user on the promised version finds it.
fn msrv_check(report: &mut Report) {
    let Some(msrv) = msrv() else {
        report.failed.push("MSRV check: no rust-version = \"...\" in Cargo.toml".into());
        return;
    };
    let has_toolchain = output_of("rustup", &["toolchain", "list"])
        .is_some_and(|list| list.lines().any(|l| l.starts_with(&format!("{msrv}-"))));
    if !has_toolchain {
        let why = format!(
            "toolchain {msrv} not installed (rustup toolchain install {msrv} --profile minimal)"
        );
        report.skip(&format!("MSRV {msrv} check"), &why);
        return;
    }
    let has_target = output_of("rustup", &["target", "list", "--installed", "--toolchain", &msrv])
        .is_some_and(|list| list.lines().any(|l| l == MSRV_NO_STD_TARGET));
    // Through rustup, so the child's cargo and rustc are the MSRV ones, not ours.
    let msrv_cargo = |args: &[&str]| {
        let mut cmd = Command::new("rustup");
        cmd.current_dir(root())
            .env_remove("RUSTUP_TOOLCHAIN")
            .env_remove("CARGO")
            .env_remove("RUSTC");
        cmd.args(["run", &msrv, "cargo", "check", "--quiet"]).args(args);
        cmd
    };
    let mut host_args: Vec<&str> = LIBRARY_CRATES.iter().flat_map(|k| ["-p", k]).collect();
    host_args.push("--all-features");
    report.step(
        &format!("MSRV {msrv}: check the library crates on the host, every feature"),
        minutes(10),
        &mut msrv_cargo(&host_args),
    );
    if !has_target {
        let why = format!(
            "target not installed (rustup target add --toolchain {msrv} {MSRV_NO_STD_TARGET})"
        );
        report.skip(&format!("MSRV {msrv} check for {MSRV_NO_STD_TARGET}"), &why);
        return;
    }
    for (krate, feature_sets) in NO_STD_CRATES {
        for features in *feature_sets {
            let label = if features.is_empty() { "default" } else { features };
            let mut args = vec!["-p", krate, "--target", MSRV_NO_STD_TARGET];
            if !features.is_empty() {
                args.extend(["--features", features]);
            }
            report.step(
                &format!("MSRV {msrv}: check {krate} [{label}] for {MSRV_NO_STD_TARGET}"),
                minutes(10),
                &mut msrv_cargo(&args),
            );
        }
    }
}

/// `cargo package` of the library crates, in dependency order against each other's packaged
/// manifests: catches a dependency crates.io could not resolve at publish time (a versioned
/// dev-dependency cycle). `--no-verify`: the test run builds them already.
/// `--allow-dirty`: the check is of the manifests, not of whether the tree is committed.
fn package_check(report: &mut Report) {
    let mut cmd = cargo();
    // The library crates by name, not `--workspace --exclude ...`: an unpublished member added
    // later stays out without touching this list.
    cmd.args(["package", "--no-verify", "--allow-dirty"]);
    for krate in LIBRARY_CRATES {
        cmd.args(["-p", krate]);
    }
    report.step(&format!("cargo package {}", LIBRARY_CRATES.join(", ")), minutes(5), &mut cmd);
}

/// The features and the first target of a crate's `[package.metadata.docs.rs]`, read from its
/// manifest so that the check builds what docs.rs will build.
fn docs_rs_metadata(krate: &str) -> Option<(String, String)> {
    let manifest = std::fs::read_to_string(root().join(krate).join("Cargo.toml")).ok()?;
    let section = manifest.split("[package.metadata.docs.rs]").nth(1)?;
    let section = section.split("\n[").next()?;
    let list = |key: &str| -> Option<Vec<String>> {
        let line = section.lines().find(|l| l.trim_start().starts_with(key))?;
        let inside = line.split_once('[')?.1.split_once(']')?.0;
        Some(
            inside
                .split(',')
                .map(|s| s.trim().trim_matches('"').to_owned())
                .filter(|s| !s.is_empty())
                .collect(),
        )
    };
    let features = list("features").unwrap_or_default().join(",");
    let target = list("targets")?.into_iter().next()?;
    Some((features, target))
}

/// Each library crate's docs as docs.rs builds them: nightly, `--cfg docsrs` (the feature
/// marks), its features, its first target (bare metal where it applies), warnings denied so a
/// broken link or an undocumented public item fails.
fn docs_rs_check(report: &mut Report) {
    let nightly_targets =
        output_of("rustup", &["target", "list", "--installed", "--toolchain", "nightly"]);
    let Some(nightly_targets) = nightly_targets else {
        report.skip("docs.rs builds", "no nightly toolchain (rustup toolchain install nightly)");
        return;
    };
    for krate in LIBRARY_CRATES {
        let name = format!("docs.rs build of {krate}");
        let Some((features, target)) = docs_rs_metadata(krate) else {
            report
                .failed
                .push(format!("{name}: no [package.metadata.docs.rs] targets in its Cargo.toml"));
            continue;
        };
        if !nightly_targets.lines().any(|t| t == target) {
            report.skip(&name, &format!("rustup target add --toolchain nightly {target}"));
            continue;
        }
        let mut cmd = Command::new("rustup");
        cmd.current_dir(root())
            .env_remove("RUSTUP_TOOLCHAIN")
            .env_remove("CARGO")
            .env_remove("RUSTC")
            .env("RUSTDOCFLAGS", "-D warnings --cfg docsrs")
            // Its own directory: the docsrs-flavoured docs neither overwrite the stable step's
            // output nor make it rebuild.
            .env("CARGO_TARGET_DIR", root().join("target").join("docsrs"))
            .args([
                "run",
                "nightly",
                "cargo",
                "doc",
                "--quiet",
                "--no-deps",
                "-p",
                krate,
                "--target",
                &target,
            ]);
        if !features.is_empty() {
            cmd.args(["--features", &features]);
        }
        report.step(&format!("{name} [{features}] for {target}"), minutes(10), &mut cmd);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docs_rs_metadata_is_read_from_each_library_manifest() {
        for krate in LIBRARY_CRATES {
            let (features, target) = docs_rs_metadata(krate).expect(krate);
            assert!(!target.is_empty() && !target.contains('"'), "{krate}: target {target:?}");
            assert!(!features.contains('"') && !features.contains(' '), "{krate}: {features:?}");
        }
        let (features, target) = docs_rs_metadata("netconsole").unwrap();
        assert_eq!(features, "log,defmt");
        assert_eq!(target, "thumbv7em-none-eabihf");
    }

    #[test]
    fn msrv_is_the_workspace_rust_version() {
        let msrv = msrv().expect("rust-version in the workspace Cargo.toml");
        let parts: Vec<&str> = msrv.split('.').collect();
        assert!((2..=3).contains(&parts.len()), "{msrv}");
        assert!(parts.iter().all(|p| p.parse::<u32>().is_ok()), "{msrv}");
    }
}
