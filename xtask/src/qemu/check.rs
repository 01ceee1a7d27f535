//! What must have arrived: every line the firmware logs (the list is the firmware's own,
//! `examples/firmware-app/src/expected.rs`, included here), on each target, whole.

use std::collections::HashSet;
use std::time::Instant;

// The firmware's list of lines: plain `core`, shared as source so both sides agree by
// construction. The checker uses only part of it.
#[allow(dead_code)]
#[path = "../../../examples/firmware-app/src/expected.rs"]
mod expected;

pub use expected::{Banner, NUMBERED_LINES, TIMER_LINES};

/// Which target a message came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The basic target: raw text in 1000-byte chunks.
    Basic,
    /// The extended target: records, long ones in `ncfrag` fragments.
    Extended,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Basic => "basic",
            Kind::Extended => "extended",
        }
    }
}

/// One message as `netconsole listen` printed it, and when the xtask read it.
#[derive(Debug, Clone)]
pub struct Message {
    pub kind: Kind,
    pub text: String,
    pub complete: bool,
    pub at: Instant,
}

/// What the run should have produced.
pub struct Expectation<'a> {
    /// The driver's name, as in the banner.
    pub driver: &'a str,
    /// The register layout, as in the banner.
    pub layout: &'a str,
    /// Records of the throughput run, if one was asked for.
    pub records: Option<u32>,
}

/// The records of the throughput run that reached one target.
#[derive(Debug, Clone, Copy)]
pub struct RecordStats {
    pub kind: Kind,
    /// Distinct records that arrived.
    pub arrived: u32,
    /// Seconds from the first to the last.
    pub seconds: f64,
}

impl RecordStats {
    pub fn per_second(&self) -> f64 {
        if self.seconds > 0.0 {
            f64::from(self.arrived) / self.seconds
        } else {
            0.0
        }
    }
}

/// What the check found.
pub struct Report {
    /// One line per thing that did not arrive (empty: all did).
    pub missing: Vec<String>,
    /// Throughput, per target, when records were expected.
    pub records: Vec<RecordStats>,
}

/// The 3000-byte line, as the firmware logs it.
pub fn long_line() -> String {
    (0..expected::LONG_LINE_LEN).map(|i| char::from(expected::long_line_byte(i))).collect()
}

/// Checks `messages` against `expect`, for both targets.
pub fn check(messages: &[Message], expect: &Expectation<'_>) -> Report {
    let mut report = Report { missing: Vec::new(), records: Vec::new() };
    for kind in [Kind::Basic, Kind::Extended] {
        let mine: Vec<&Message> = messages.iter().filter(|m| m.kind == kind).collect();
        check_target(kind, &mine, expect, &mut report);
    }
    report
}

fn check_target(kind: Kind, messages: &[&Message], expect: &Expectation<'_>, report: &mut Report) {
    let name = kind.name();
    let texts: HashSet<&str> = messages.iter().map(|m| m.text.as_str()).collect();
    let mut missing = |what: String| report.missing.push(format!("{name} target: {what}"));
    if messages.is_empty() {
        missing("nothing arrived".into());
        return;
    }
    let banner = Banner { driver: expect.driver, layout: expect.layout }.to_string();
    if !texts.contains(banner.as_str()) {
        missing(format!("the banner '{banner}'"));
    }
    let lost = |count: u32, line: &dyn Fn(u32) -> String| -> Vec<u32> {
        (1..=count).filter(|&i| !texts.contains(line(i).as_str())).collect()
    };
    let numbered = lost(NUMBERED_LINES, &|i| expected::Numbered(i).to_string());
    if !numbered.is_empty() {
        missing(format!("numbered lines {}", list(&numbered)));
    }
    let timer = lost(TIMER_LINES, &|i| expected::timer_line(i).to_string());
    if !timer.is_empty() {
        missing(format!("timer lines {}", list(&timer)));
    }
    let long = long_line();
    let whole =
        texts.contains(long.as_str()) || (kind == Kind::Basic && in_pieces(messages, &long));
    if !whole {
        missing(format!("the {}-byte line, whole", long.len()));
    }
    if !texts.iter().any(|t| t.starts_with(expected::COUNTERS_PREFIX)) {
        missing("the counters line".into());
    }
    if !texts.iter().any(|t| t.contains(expected::PANIC_MESSAGE)) {
        missing(format!("the panic message '{}'", expected::PANIC_MESSAGE));
    }
    let incomplete = messages.iter().filter(|m| !m.complete).count();
    if incomplete > 0 {
        missing(format!("{incomplete} messages arrived with bytes missing"));
    }
    if let Some(count) = expect.records {
        let mut seen = HashSet::new();
        let (mut first, mut last) = (None::<Instant>, None::<Instant>);
        for m in messages {
            let Some(n) = m.text.strip_prefix("record ").and_then(|n| n.parse::<u32>().ok()) else {
                continue;
            };
            if (1..=count).contains(&n) && seen.insert(n) {
                first = first.or(Some(m.at));
                last = Some(m.at);
            }
        }
        let seconds = match (first, last) {
            (Some(a), Some(b)) => b.duration_since(a).as_secs_f64(),
            _ => 0.0,
        };
        report.records.push(RecordStats { kind, arrived: seen.len() as u32, seconds });
    }
}

/// Whether consecutive messages, joined, make `line` (a receiver that prints basic chunks as
/// they come rather than joining them into lines).
fn in_pieces(messages: &[&Message], line: &str) -> bool {
    (0..messages.len()).any(|start| {
        let mut joined = String::new();
        for m in &messages[start..] {
            joined.push_str(&m.text);
            if joined.len() >= line.len() || !line.starts_with(joined.as_str()) {
                break;
            }
        }
        joined == line
    })
}

/// `3, 17, 18` (at most 10, then how many more).
fn list(numbers: &[u32]) -> String {
    let shown: Vec<String> = numbers.iter().take(10).map(u32::to_string).collect();
    let more = numbers.len().saturating_sub(10);
    if more > 0 {
        format!("{} and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

#[cfg(test)]
mod test {
    use super::*;

    fn all(kind: Kind, expect: &Expectation<'_>) -> Vec<Message> {
        let at = Instant::now();
        let mut texts = vec![Banner { driver: expect.driver, layout: expect.layout }.to_string()];
        texts.extend((1..=NUMBERED_LINES).map(|i| expected::Numbered(i).to_string()));
        texts.extend((1..=TIMER_LINES).map(|i| expected::timer_line(i).to_string()));
        texts.push(long_line());
        texts.push("counters: messages=1".into());
        texts.push(format!("panicked at x.rs:1: {}", expected::PANIC_MESSAGE));
        texts.into_iter().map(|text| Message { kind, text, complete: true, at }).collect()
    }

    const EXPECT: Expectation<'static> =
        Expectation { driver: "virtio-net", layout: "legacy", records: None };

    #[test]
    fn everything_there_is_nothing_missing() {
        let mut messages = all(Kind::Basic, &EXPECT);
        messages.extend(all(Kind::Extended, &EXPECT));
        assert_eq!(check(&messages, &EXPECT).missing, Vec::<String>::new());
    }

    #[test]
    fn each_loss_is_named() {
        let mut messages = all(Kind::Basic, &EXPECT);
        messages.extend(all(Kind::Extended, &EXPECT));
        messages.retain(|m| {
            !(m.kind == Kind::Extended
                && (m.text == "timer tick 07 of 20" || m.text.starts_with("long")))
        });
        messages[3].complete = false;
        let missing = check(&messages, &EXPECT).missing;
        assert_eq!(
            missing,
            [
                "basic target: 1 messages arrived with bytes missing",
                "extended target: timer lines 7",
                "extended target: the 3000-byte line, whole",
            ]
        );
        let modern = Expectation { layout: "modern", ..EXPECT };
        assert!(check(&messages, &modern).missing[0].contains("banner"));
    }

    #[test]
    fn a_basic_line_may_come_in_chunks() {
        let mut messages = all(Kind::Basic, &EXPECT);
        let long = messages.iter().position(|m| m.text.len() == 3000).unwrap();
        let whole = messages.remove(long);
        for (i, piece) in whole.text.as_bytes().chunks(1000).enumerate() {
            let text = String::from_utf8(piece.to_vec()).unwrap();
            messages.insert(long + i, Message { text, ..whole.clone() });
        }
        messages.extend(all(Kind::Extended, &EXPECT));
        assert!(check(&messages, &EXPECT).missing.is_empty());
    }
}
