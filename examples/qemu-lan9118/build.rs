//! Puts `memory.x` where cortex-m-rt's `link.x` finds it, with the `device.x` that its
//! `device` feature includes (empty: every interrupt goes to `DefaultHandler`, see
//! src/vectors.rs), and rebuilds when they change.

use std::path::PathBuf;

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::copy("memory.x", out.join("memory.x")).expect("copy memory.x");
    std::fs::write(out.join("device.x"), "/* no named interrupt handlers */\n").expect("device.x");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory.x");
}
