//! What `netconsole listen` says on stderr: dropped datagrams, at most once a second per cause
//! (a flood of bad datagrams must not become a flood on stderr), the periodic stats line, and
//! the summary at exit.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use netconsole::receive::{Counters, Error, Malformed};

/// The causes reported apart: each of [`Error`]'s, each [`Malformed`] reason, and a datagram
/// longer than the listener reads.
const CAUSES: usize = 15;
/// The index of an oversized datagram in [`Limiter`]'s table.
pub const OVERSIZED: usize = CAUSES - 1;

/// The index of `error`'s cause.
pub fn cause(error: &Error) -> usize {
    match error {
        Error::Malformed(why) => match why {
            Malformed::Empty => 0,
            Malformed::NumberTooLarge(_) => 1,
            Malformed::ReleaseTooLong(_) => 2,
            Malformed::CallerTooLong(_) => 3,
            Malformed::BadNcfrag => 4,
            Malformed::RepeatedNcfrag => 5,
            Malformed::ZeroTotal => 6,
            Malformed::EmptyFragment => 7,
            Malformed::BeyondTotal { .. } => 8,
        },
        Error::TooManySenders => 9,
        Error::TooManyPending => 10,
        Error::NoFreeSlot => 11,
        Error::TooManyRuns => 12,
    }
}

/// One report per cause per second, shared by every thread: the others are counted and
/// mentioned in the next report of that cause.
pub struct Limiter {
    /// When each cause was last reported, in ms since start; `u64::MAX`: never.
    last: [AtomicU64; CAUSES],
    /// Drops of each cause not reported since.
    quiet: [AtomicU64; CAUSES],
}

/// How long one cause stays quiet after a report.
const QUIET_MS: u64 = 1000;

impl Limiter {
    pub fn new() -> Self {
        Limiter {
            last: std::array::from_fn(|_| AtomicU64::new(u64::MAX)),
            quiet: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }

    /// A datagram from `src` dropped for `why` (cause index `cause`) at `now_ms`: the line to
    /// print, or `None` when the cause was reported less than a second ago.
    pub fn report(
        &self,
        now_ms: u64,
        cause: usize,
        src: SocketAddr,
        why: &dyn std::fmt::Display,
    ) -> Option<String> {
        let (Some(last), Some(quiet)) = (self.last.get(cause), self.quiet.get(cause)) else {
            return None;
        };
        let before = last.load(Ordering::Relaxed);
        let due = before == u64::MAX || now_ms.saturating_sub(before) >= QUIET_MS;
        if !due
            || last.compare_exchange(before, now_ms, Ordering::Relaxed, Ordering::Relaxed).is_err()
        {
            quiet.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        let more = quiet.swap(0, Ordering::Relaxed);
        let mut line = format!("netconsole listen: dropped datagram from {src}: {why}");
        if more > 0 {
            line.push_str(&format!(" (and {more} more like it since the last report)"));
        }
        Some(line)
    }
}

/// Everything counted, over all threads: the receivers' counters and what the sockets saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub counters: Counters,
    /// Datagrams the kernel dropped before the listener could read them (`SO_RXQ_OVFL`).
    pub kernel_drops: u64,
    /// Datagrams longer than the listener reads, dropped.
    pub oversized: u64,
    /// Messages `--forward` could not send, or stdout did not take before a stop.
    pub unsent: u64,
    /// Senders the receivers hold state for now.
    pub senders: u64,
}

impl Totals {
    pub fn add(&mut self, other: &Totals) {
        let (c, o) = (&mut self.counters, &other.counters);
        c.datagrams += o.datagrams;
        c.basic += o.basic;
        c.extended += o.extended;
        c.fragments += o.fragments;
        c.duplicates += o.duplicates;
        c.late += o.late;
        c.malformed += o.malformed;
        c.refused_senders += o.refused_senders;
        c.refused_pending += o.refused_pending;
        c.refused_slots += o.refused_slots;
        c.refused_runs += o.refused_runs;
        c.messages += o.messages;
        c.complete += o.complete;
        c.incomplete += o.incomplete;
        c.truncated += o.truncated;
        c.split += o.split;
        c.unjoined += o.unjoined;
        c.missing = c.missing.saturating_add(o.missing);
        c.restarts += o.restarts;
        c.forgotten += o.forgotten;
        self.kernel_drops += other.kernel_drops;
        self.oversized += other.oversized;
        self.unsent += other.unsent;
        self.senders += other.senders;
    }
}

/// The counters, as the summary and the stats line end.
fn counters(t: &Totals) -> String {
    let c = &t.counters;
    let refused = c.refused_senders + c.refused_pending + c.refused_slots + c.refused_runs;
    format!(
        "{} messages ({} complete, {} incomplete), {} duplicate, {} late, {} malformed, \
         {} refused by caps, {} truncated, {} split, {} oversized, {} dropped by the kernel, \
         {} missing by sequence, {} restarts, {} senders forgotten, {} not written out",
        c.messages,
        c.complete,
        c.incomplete,
        c.duplicates,
        c.late,
        c.malformed,
        refused,
        c.truncated,
        c.split,
        t.oversized,
        t.kernel_drops,
        c.missing,
        c.restarts,
        c.forgotten,
        t.unsent,
    )
}

/// The one line at exit.
pub fn summary(t: &Totals) -> String {
    format!("netconsole listen: {} datagrams, {}", t.counters.datagrams + t.oversized, counters(t))
}

/// The `--stats` line: rates since `before`, `secs` ago, then the totals.
pub fn stats(now: &Totals, before: &Totals, secs: f64) -> String {
    let rate = |n: u64, m: u64| n.saturating_sub(m) as f64 / secs.max(1e-9);
    format!(
        "netconsole listen: stats: {:.0} datagrams/s, {:.0} messages/s, {} senders, {} datagrams, {}",
        rate(now.counters.datagrams, before.counters.datagrams),
        rate(now.counters.messages, before.counters.messages),
        now.senders,
        now.counters.datagrams + now.oversized,
        counters(now),
    )
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn a_missing_count_near_u64_max_adds_up_without_overflow() {
        // A sender may claim a gap of nearly 2^64 records; each receiver saturates its count,
        // and so must the sum over threads.
        let mut one = Totals::default();
        one.counters.missing = u64::MAX;
        let mut sum = Totals::default();
        sum.add(&one);
        sum.add(&one);
        assert_eq!(sum.counters.missing, u64::MAX);
        assert!(summary(&sum).contains(&format!("{} missing by sequence", u64::MAX)));
    }

    #[test]
    fn one_report_per_cause_per_second() {
        let limiter = Limiter::new();
        let src: SocketAddr = "192.0.2.1:6665".parse().unwrap();
        let empty = Error::Malformed(Malformed::Empty);
        let lines: Vec<_> =
            (0..1000).filter_map(|i| limiter.report(i, cause(&empty), src, &empty)).collect();
        assert_eq!(
            lines,
            ["netconsole listen: dropped datagram from 192.0.2.1:6665: malformed: empty datagram"]
        );
        // Another cause is reported at once.
        assert!(limiter.report(5, cause(&Error::NoFreeSlot), src, &Error::NoFreeSlot).is_some());
        let next = limiter.report(1000, cause(&empty), src, &empty).unwrap();
        assert!(next.ends_with("(and 999 more like it since the last report)"), "{next}");
    }
}
