//! `cargo xtask qemu mem-check`: `examples/qemu-lan9118/examples/mem-check.rs` (its
//! `__aeabi_mem*`, `memcpy`, `memmove` and `memset` against a byte loop) built and booted on
//! QEMU's Cortex-M4, which it leaves with status 0 if every case agreed.

use std::process::Command;
use std::time::Duration;

use super::{boot, step};
use crate::process;

const DIR: &str = "examples/qemu-lan9118";
const TARGET: &str = "thumbv7em-none-eabihf";
/// A few thousand cases of a few dozen bytes: well under a second of QEMU.
const LIMIT: Duration = Duration::from_secs(60);

pub fn run() -> Result<(), String> {
    let dir = crate::test::root().join(DIR);
    step("building mem-check for thumbv7em-none-eabihf");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&dir)
        .args(["build", "--release", "--target", TARGET, "--example", "mem-check"])
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    process::build(&mut cmd, "building mem-check")?;
    let target_dir = process::target_dir(&dir);
    let elf = target_dir.join(TARGET).join("release/examples/mem-check");
    let mut qemu = Command::new("qemu-system-arm");
    qemu.args(["-M", "mps2-an386", "-display", "none", "-serial", "stdio", "-monitor", "none"]);
    qemu.args(["-semihosting-config", "enable=on,target=native", "-kernel"]).arg(&elf);
    step("booting mem-check on qemu-system-arm -M mps2-an386");
    match boot(qemu, LIMIT)?.0 {
        Some(s) if s.success() => {
            println!("xtask qemu: ok: mem-check, every __aeabi_mem* and C mem function agreed");
            Ok(())
        }
        // The low byte of the status: the function's number in mem-check.rs's `main`.
        Some(s) => Err(format!("mem-check: a mem function disagreed with the byte loop ({s})")),
        None => Err(format!("mem-check still running after {LIMIT:?}: killed")),
    }
}
