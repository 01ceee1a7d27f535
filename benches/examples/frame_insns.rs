//! Runs one frame builder (or checksum) a given number of times, for instruction counts under
//! callgrind, which are steady where timings on a shared machine are not:
//!
//! ```text
//! cargo build --release -p netpoll-benches --example frame_insns
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/examples/frame_insns netpoll-core 1000 1
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/examples/frame_insns netpoll-core 1000 10001
//! ```
//!
//! The difference of the two totals over 10,000 is the instructions per frame, start-up excluded.
//! Names: the builders of `builders::ALL` (first word), `sum`, `copy-and-sum`, `copy`.

use core::hint::black_box;
use netpoll_benches::builders::{self, payload};
use netpoll_core::wire::Checksum;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(name), Some(len), Some(runs)) = (args.get(1), args.get(2), args.get(3)) else {
        eprintln!("usage: frame_insns NAME PAYLOAD_LEN RUNS");
        std::process::exit(2);
    };
    let len: usize = len.parse().expect("payload length");
    let runs: u64 = runs.parse().expect("runs");
    let data = payload(len);
    let mut buf = vec![0u8; 1514.max(len)];
    let build = builders::ALL.iter().find(|(n, _)| n.split(' ').next() == Some(name.as_str()));
    for _ in 0..runs {
        match (build, name.as_str()) {
            (Some((_, build)), _) => {
                black_box(build(black_box(&mut buf), black_box(&data)));
            }
            (None, "sum") => {
                let mut sum = Checksum::new();
                sum.add_bytes(black_box(&data));
                black_box(sum.finish());
            }
            (None, "copy-and-sum") => {
                let mut sum = Checksum::new();
                let copied = sum.copy_and_add(black_box(&mut buf[..len]), black_box(&data));
                black_box((copied, sum.finish()));
            }
            (None, "copy") => black_box(&mut buf[..len]).copy_from_slice(black_box(&data)),
            _ => {
                eprintln!("unknown name {name}");
                std::process::exit(2);
            }
        }
    }
}
