//! `cargo xtask`: the project's automation, in Rust so that it needs nothing but cargo.
//!
//! - `cargo xtask test [--require-all] [--quick]`: everything CI runs.
//! - `cargo xtask demo`: the mission, end to end, on this machine.
//! - `cargo xtask qemu virtio|lan9118 [...]`: a bare-metal example under QEMU, checked end to end.
//! - `cargo xtask size`: text, rodata, data and bss of every example firmware, and the stack's share.
//! - `cargo xtask bench`: the criterion benchmarks; `cargo xtask bench listen`: `netconsole
//!   listen` against a full socket buffer and at a fixed rate.
//! - `cargo xtask bench host`: `netconsole send --via packet` against a `UdpSocket` loop.

mod bench_host;
mod bench_listen;
mod cli;
mod demo;
mod process;
mod qemu;
mod size;
mod test;

use std::process::ExitCode;

const USAGE: &str =
    "usage: cargo xtask <test [--require-all] [--quick] | demo | qemu ... | size | bench>

  test           fmt, clippy, tests, no_std cross builds, fuzz smoke runs, end-to-end tests
    --require-all  a step whose prerequisite is missing fails instead of being skipped (CI)
    --quick        skip the fuzz smoke runs and end-to-end tests
  demo           send a log through a real network stack and show what arrived
  qemu virtio|lan9118|mem-check [...]
                 boot an example under QEMU and check that every line arrived
                 (`cargo xtask qemu` alone lists the options)
  size           text, rodata, data and bss of every example firmware (release), the netconsole
                 stack's and core::fmt's share, the LAN9118 budget (needs llvm-tools)
  bench          run the criterion benchmarks (benches/)
  bench listen [--quick] [--listener PATH]
                 netconsole listen on loopback: datagrams/s, drops, CPU, memory
  bench host [--messages N] [--size BYTES] [--rounds N]
                 messages/s of `netconsole send --via packet` and of a UdpSocket loop (root)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = args.split_first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let result = match command.as_str() {
        "test" => match test::Options::parse(rest) {
            Ok(options) => test::run(&options),
            Err(e) => {
                eprintln!("xtask test: {e}\n{USAGE}");
                return ExitCode::from(2);
            }
        },
        "demo" | "size" if !rest.is_empty() => {
            eprintln!("xtask {command}: takes no arguments, got `{}`\n{USAGE}", rest.join(" "));
            return ExitCode::from(2);
        }
        "demo" => demo::run(),
        "qemu" => qemu::main(rest),
        "size" => size::run(),
        "bench" => match rest.split_first() {
            Some((what, args)) if what == "listen" => bench_listen::run(args),
            Some((what, args)) if what == "host" => bench_host::run(args),
            _ => test::bench(),
        },
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        other => {
            eprintln!("xtask: unknown command `{other}`\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
