//! The bare-metal examples in the test run: each firmware formatted, linted and built, their
//! flash budgets, and each QEMU example booted and checked.

use super::*;

/// `cargo fmt --check`, `clippy -D warnings` and a release build of each firmware example.
pub(super) fn firmware(report: &mut Report) {
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
pub(super) fn examples(report: &mut Report, targets: &[String], quick: bool) {
    const RISCV64: &str = "riscv64gc-unknown-none-elf";
    const AARCH64: &str = "aarch64-unknown-none";
    const THUMBV7EM: &str = "thumbv7em-none-eabihf";
    let lints = [
        ("examples/firmware-app", RISCV64),
        // Without its `extended` feature, as the LAN9118 image takes it (a path dependency
        // there, which that example's clippy does not lint).
        ("examples/firmware-app --no-default-features", RISCV64),
        ("examples/qemu-virtio", RISCV64),
        ("examples/qemu-virtio", AARCH64),
        ("examples/qemu-lan9118", THUMBV7EM),
        ("examples/qemu-lan9118 --features extended", THUMBV7EM),
    ];
    for dir in ["examples/firmware-app", "examples/qemu-virtio", "examples/qemu-lan9118"] {
        let mut fmt = cargo();
        fmt.current_dir(root().join(dir)).args(["fmt", "--", "--check"]);
        report.step(&format!("{dir}: cargo fmt --check"), minutes(2), &mut fmt);
    }
    // firmware-app's host tests (its counters line, build.rs's targets of an option string):
    // a library for bare metal, but those run on the host.
    let mut host_tests = cargo();
    host_tests.current_dir(root().join("examples/firmware-app")).env_remove("RUSTFLAGS");
    host_tests.args(["test", "--quiet"]);
    report.step("examples/firmware-app: cargo test (host)", minutes(10), &mut host_tests);
    for (dir, target) in lints {
        let name = format!("{dir}: cargo clippy -D warnings for {target}");
        if !targets.iter().any(|t| t == target) {
            report
                .skip(&name, &format!("rustup target not installed (rustup target add {target})"));
            continue;
        }
        let (dir, features) = dir.split_once(' ').unwrap_or((dir, ""));
        let mut clippy = cargo();
        clippy.current_dir(root().join(dir)).env_remove("RUSTFLAGS");
        clippy.args(["clippy", "--release", "--target", target]);
        clippy.args(features.split_whitespace()).args(["--", "-D", "warnings"]);
        report.step(&name, minutes(10), &mut clippy);
    }
    let runs =
        [("riscv64", RISCV64, "qemu-system-riscv64"), ("aarch64", AARCH64, "qemu-system-aarch64")];
    for (arch, target, qemu) in runs {
        // The legacy and the modern register layout; then the closing panic inside the timer's
        // interrupt handler, whose waits must not sleep until an interrupt that cannot come.
        for (modern, panic_in_tick) in [(false, false), (true, false), (false, true)] {
            let layout = if modern { "modern" } else { "legacy" };
            let tick = if panic_in_tick { " --panic-in-tick" } else { "" };
            let name =
                format!("cargo xtask qemu virtio --arch {arch}{tick} ({layout} virtio-mmio)");
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
                if panic_in_tick {
                    cmd.arg("--panic-in-tick");
                }
                report.step(&name, minutes(20), &mut cmd);
            }
        }
    }
    // The image held to the flash budget (basic only), then the one with the extended format.
    qemu_run(report, targets, quick, "lan9118 --targets basic", THUMBV7EM, "qemu-system-arm");
    qemu_run(report, targets, quick, "lan9118 --targets both", THUMBV7EM, "qemu-system-arm");
    // The closing panic inside SysTick's handler: the panic path from an active exception.
    let tick = "lan9118 --panic-in-tick";
    qemu_run(report, targets, quick, tick, THUMBV7EM, "qemu-system-arm");
    // The LAN9118 example's own memcpy/memmove/memset, on the core they are for.
    qemu_run(report, targets, quick, "mem-check", THUMBV7EM, "qemu-system-arm");
}

/// `cargo xtask size` as a step: every example's footprint, failing when a firmware with a
/// budget (`BUDGETS` in size.rs) is over it or cannot be built.
pub(super) fn size_check(report: &mut Report, targets: &[String]) {
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

/// `cargo xtask qemu <example>` as a step (`example` may carry its options), or the reason it
/// is skipped.
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
        cmd.current_dir(root()).arg("qemu").args(example.split_whitespace());
        report.step(&name, minutes(20), &mut cmd);
    } else {
        report.skip(&name, "cannot find the xtask binary itself");
    }
}
