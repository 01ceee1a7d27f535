//! Sends one kind of console message a given number of times, for instruction counts and
//! profiles under callgrind (see `frame_insns.rs` for the two-run subtraction):
//!
//! ```text
//! cargo build --release -p netpoll-benches --example console_insns
//! valgrind --tool=callgrind target/release/examples/console_insns extended 8000 1001
//! ```
//!
//! Kinds: `basic` (`Netconsole::write`), `extended` (`Netconsole::log` to an extended target
//! with userdata and sysdata) and `escapes` (the same with two bytes to escape per 80). Prints the
//! frames per message and the wall time per message (meaningful without callgrind only).

use core::hint::black_box;
use netpoll_benches::console::{console, escape_heavy_text, frames, text};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(kind), Some(len), Some(runs)) = (args.get(1), args.get(2), args.get(3)) else {
        eprintln!("usage: console_insns basic|extended|escapes TEXT_LEN RUNS");
        std::process::exit(2);
    };
    let extended = kind != "basic";
    let len = len.parse().expect("text length");
    let text = if kind == "escapes" { escape_heavy_text(len) } else { text(len) };
    let runs: u64 = runs.parse().expect("runs");
    let console = console(extended);
    let start = std::time::Instant::now();
    for _ in 0..runs {
        if extended {
            console.log(6, black_box(&text));
        } else {
            console.write(black_box(&text));
        }
    }
    let ns = start.elapsed().as_nanos() as f64 / runs.max(1) as f64;
    let frames = frames(&console) / runs.max(1);
    eprintln!("{frames} frames per message, {ns:.0} ns per message");
}
