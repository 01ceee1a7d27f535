//! The frame builders and checksums of `benches/frame.rs`, timed in interleaved rounds: each
//! round runs every contender for a few thousand iterations in turn, and the fastest round of
//! each is kept. On a machine shared with other work, a neighbour's burst then slows one round
//! of every contender alike instead of one contender's whole measurement, so the ratios hold
//! where criterion's absolute times drift.
//!
//! `cargo run --release -p netpoll-benches --example frame_race [ROUNDS]`

use core::hint::black_box;
use netpoll_benches::builders::{self, payload};
use netpoll_core::wire::Checksum;
use std::time::Instant;

/// Iterations per round: long enough to dwarf the clock read, short enough to dodge bursts.
const ITERS: u32 = 2000;

/// One contender: a name and a closure run `ITERS` times per round.
type Contender<'a> = (String, Box<dyn FnMut() + 'a>);

fn race(title: &str, mut contenders: Vec<Contender<'_>>, rounds: usize) {
    let mut best = vec![f64::INFINITY; contenders.len()];
    let mut all: Vec<Vec<f64>> = vec![Vec::with_capacity(rounds); contenders.len()];
    for _ in 0..rounds {
        for (i, (_, run)) in contenders.iter_mut().enumerate() {
            let start = Instant::now();
            for _ in 0..ITERS {
                run();
            }
            let ns = start.elapsed().as_nanos() as f64 / f64::from(ITERS);
            best[i] = best[i].min(ns);
            all[i].push(ns);
        }
    }
    println!("{title}");
    println!("  {:<28} {:>9} {:>9} {:>8}", "", "min ns", "median", "/ first");
    for (i, (name, _)) in contenders.iter().enumerate() {
        all[i].sort_by(f64::total_cmp);
        let median = all[i][all[i].len() / 2];
        println!("  {name:<28} {:>9.1} {:>9.1} {:>8.2}", best[i], median, best[i] / best[0]);
    }
}

fn main() {
    let rounds = std::env::args().nth(1).and_then(|r| r.parse().ok()).unwrap_or(300);
    for len in [1000usize, 100] {
        let data = payload(len);
        let mut bufs = vec![[0u8; 1514]; builders::ALL.len()];
        let contenders = builders::ALL
            .iter()
            .zip(bufs.iter_mut())
            .map(|((name, build), buf)| {
                let data = &data;
                let run: Box<dyn FnMut()> = Box::new(move || {
                    black_box(build(black_box(&mut buf[..]), black_box(data)));
                });
                (name.to_string(), run)
            })
            .collect();
        race(&format!("ipv4 frame, {} bytes ({len} payload)", len + 42), contenders, rounds);
    }
    for len in [64usize, 1000, 1500] {
        let data = payload(len);
        let (mut d1, mut d2) = (vec![0u8; len], vec![0u8; len]);
        let contenders: Vec<Contender<'_>> = vec![
            (
                "sum".into(),
                Box::new(|| {
                    let mut sum = Checksum::new();
                    sum.add_bytes(black_box(&data));
                    black_box(sum.finish());
                }),
            ),
            (
                "copy and sum".into(),
                Box::new(|| {
                    let mut sum = Checksum::new();
                    let copied = sum.copy_and_add(black_box(&mut d1), black_box(&data));
                    black_box((copied, sum.finish()));
                }),
            ),
            (
                "copy_from_slice (floor)".into(),
                Box::new(|| black_box(&mut d2[..]).copy_from_slice(black_box(&data))),
            ),
        ];
        race(&format!("checksum, {len} bytes"), contenders, rounds);
    }
}
