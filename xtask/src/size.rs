//! `cargo xtask size`: the footprint of each bare-metal example, as the linker laid it out:
//! text, rodata, data and bss in bytes (`llvm-size -A` from rustup's `llvm-tools`).

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::process::{self, Outcome};

/// (example directory, binary name, target) of every firmware measured, default build options.
const FIRMWARE: &[(&str, &str, &str)] = &[
    ("examples/qemu-virtio", "qemu-virtio", "riscv64gc-unknown-none-elf"),
    ("examples/qemu-virtio", "qemu-virtio", "aarch64-unknown-none"),
];

const BUILD_LIMIT: Duration = Duration::from_secs(900);

/// Builds each example in release and prints its sections.
pub fn run() -> Result<(), String> {
    let size = llvm_size()?;
    println!(
        "{:<14} {:<28} {:>8} {:>8} {:>8} {:>8}",
        "example", "target", "text", "rodata", "data", "bss"
    );
    for &(dir, name, target) in FIRMWARE {
        let dir = crate::test::root().join(dir);
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut build = Command::new(cargo);
        // From the example's directory, so that its .cargo/config.toml (linker script) applies;
        // the default option string, not a run's.
        build
            .current_dir(&dir)
            .args(["build", "--quiet", "--release", "--target", target])
            .env_remove("RUSTFLAGS")
            .env_remove("NETCONSOLE_OPTIONS")
            .env_remove("NETCONSOLE_RECORDS");
        match process::run_with_timeout(&mut build, BUILD_LIMIT) {
            Ok(Outcome::Exited(s)) if s.success() => {}
            Ok(Outcome::Exited(s)) => return Err(format!("building {name} for {target}: {s}")),
            Ok(Outcome::TimedOut) => return Err(format!("building {name} for {target} timed out")),
            Err(e) => return Err(format!("cannot run cargo: {e}")),
        }
        let target_dir = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| dir.join("target"));
        let elf = target_dir.join(target).join("release").join(name);
        let elf = elf.to_str().ok_or("the ELF path is not UTF-8")?;
        let size = size.to_str().ok_or("the llvm-size path is not UTF-8")?;
        let out = process::output_of(size, &["-A", elf])
            .ok_or_else(|| format!("llvm-size -A {elf} failed"))?;
        let [text, rodata, data, bss] = sections(&out);
        println!("{name:<14} {target:<28} {text:>8} {rodata:>8} {data:>8} {bss:>8}");
    }
    println!("(bytes; the stack is reserved apart and not counted)");
    Ok(())
}

/// text, rodata, data, bss from `llvm-size -A` output, small-data sections included.
fn sections(out: &str) -> [u64; 4] {
    let mut sums = [0u64; 4];
    for line in out.lines() {
        let mut fields = line.split_whitespace();
        let (Some(name), Some(size)) = (fields.next(), fields.next()) else { continue };
        let Ok(size) = size.parse::<u64>() else { continue };
        let class = match name {
            n if n.starts_with(".text") || n == ".init" || n.starts_with(".vector") => 0,
            n if n.starts_with(".rodata") || n.starts_with(".srodata") => 1,
            n if n.starts_with(".data") || n.starts_with(".sdata") => 2,
            n if n.starts_with(".bss") || n.starts_with(".sbss") => 3,
            _ => continue,
        };
        sums[class] += size;
    }
    sums
}

/// rustup's `llvm-size` for the host.
fn llvm_size() -> Result<PathBuf, String> {
    let sysroot = process::output_of("rustc", &["--print", "sysroot"]).ok_or("rustc not found")?;
    let verbose = process::output_of("rustc", &["-vV"]).ok_or("rustc not found")?;
    let host =
        verbose.lines().find_map(|l| l.strip_prefix("host: ")).ok_or("rustc -vV names no host")?;
    let path =
        PathBuf::from(sysroot.trim()).join("lib/rustlib").join(host.trim()).join("bin/llvm-size");
    if path.exists() {
        Ok(path)
    } else {
        Err("llvm-size not found: rustup component add llvm-tools".into())
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn sections_are_summed_by_kind() {
        let out = "x  :\nsection  size  addr\n.text.dummy 0 1\n.text 100 2\n.init 4 3\n\
                   .rodata 20 4\n.srodata 2 5\n.data 30 6\n.sdata 1 7\n.bss 50 8\n.sbss 5 9\n\
                   .stack 1000 10\n.debug_info 99 0\nTotal 1311\n";
        assert_eq!(sections(out), [104, 22, 31, 55]);
    }
}
