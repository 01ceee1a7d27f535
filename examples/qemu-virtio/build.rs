//! Puts the linker script of the target's architecture where the linker finds it: riscv-rt's
//! `link.x` includes `memory.x`; aarch64 links with `aarch64.ld`, this crate's own.

use std::path::PathBuf;
use std::{env, fs};

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let arch = env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let (from, to) = match arch.as_str() {
        "riscv64" => ("memory-riscv64.x", "memory.x"),
        "aarch64" => ("aarch64.ld", "aarch64.ld"),
        _ => return,
    };
    fs::copy(from, out.join(to)).expect("copy the linker script");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed={from}");
    println!("cargo:rerun-if-changed=build.rs");
}
