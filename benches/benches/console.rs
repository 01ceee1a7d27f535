//! One console write, end to end: formatting, escaping, fragmentation and frame building into
//! the simulated NIC. Each case is also run as just its frames (the same number of frames of the
//! same sizes built by `UdpFrame::emit` into a buffer), so what the console costs beyond its
//! frames shows as the difference within one run.
//!
//! `cargo bench -p netpoll-benches --bench console`. Criterion's `elem/s` is frames per second;
//! `examples/console_insns.rs` counts instructions per message.

use core::hint::black_box;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use netpoll_benches::console::{console, escape_heavy_text, frames, text};
use netpoll_core::wire::{MacAddr, UdpFrame};

/// Messages of one kind: basic `write`s or extended records, their text lengths, and whether
/// the text has bytes to escape (two per 80).
const CASES: [(&str, bool, usize, bool); 6] = [
    ("basic write", false, 100, false),
    ("basic write", false, 1000, false),
    ("extended record", true, 1000, false),
    ("extended record", true, 8000, false),
    ("extended record, escapes", true, 1000, true),
    ("extended record, escapes", true, 8000, true),
];

fn write(c: &mut Criterion) {
    let mut group = c.benchmark_group("console");
    for (kind, extended, len, escapes) in CASES {
        let text = if escapes { escape_heavy_text(len) } else { text(len) };
        let console = console(extended);
        // The frames and payload bytes one message makes, counted from the NIC and the
        // target's counters.
        let before = frames(&console);
        if extended {
            console.log(6, &text);
        } else {
            console.write(&text);
        }
        let per_message = frames(&console) - before;
        let payload = console.target_counters(0).map(|c| c.bytes).unwrap_or(0);
        group.throughput(Throughput::Elements(per_message));
        group.bench_function(format!("{kind} {len} bytes ({per_message} frames)"), |b| {
            if extended {
                b.iter(|| console.log(6, black_box(&text)))
            } else {
                b.iter(|| console.write(black_box(&text)))
            }
        });
        // The same frames alone: payload bytes split evenly, each built once into a slot.
        let frame = UdpFrame {
            src_mac: MacAddr([0x02, 0, 0, 0, 0, 1]),
            dst_mac: MacAddr([0x02, 0, 0, 0, 0, 2]),
            src_ip: "10.0.0.1".parse().unwrap(),
            dst_ip: "10.0.0.2".parse().unwrap(),
            src_port: 6665,
            dst_port: 6666,
            ipv4_ident: 1,
        };
        let chunk = vec![b'x'; (payload / per_message.max(1)) as usize];
        let mut slot = [0u8; 1514];
        group.bench_function(format!("{kind} {len} bytes: its frames alone"), |b| {
            b.iter(|| {
                for _ in 0..per_message {
                    black_box(frame.emit(black_box(&mut slot), &[black_box(&chunk)]).ok());
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, write);
criterion_main!(benches);
