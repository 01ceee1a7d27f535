//! What must have arrived: every line the firmware logs (the list is the firmware's own,
//! `examples/firmware-app/src/expected.rs`, included here), on each target, whole.
//!
//! One listener takes every target's datagrams; a message is told to its target by what it
//! carries: its kind, the address family it came from, and whether it names a release.

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

/// One netconsole target of the firmware, as the host tells its messages apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    /// Basic or extended.
    pub kind: Kind,
    /// Extended records that name the release (`+r`).
    pub release: bool,
    /// Over IPv6 (QEMU's user network turns `fec0::2` into the host's `::1`).
    pub ipv6: bool,
}

impl Target {
    pub const BASIC: Target = Target { kind: Kind::Basic, release: false, ipv6: false };
    pub const EXTENDED: Target = Target { kind: Kind::Extended, release: false, ipv6: false };
    pub const EXTENDED_RELEASE: Target = Target { release: true, ..Target::EXTENDED };
    pub const BASIC_IPV6: Target = Target { ipv6: true, ..Target::BASIC };

    /// `basic`, `extended`, `extended+release`, `basic/ipv6`.
    pub fn name(&self) -> String {
        let mut name = self.kind.name().to_string();
        if self.release {
            name.push_str("+release");
        }
        if self.ipv6 {
            name.push_str("/ipv6");
        }
        name
    }

    /// Whether `m` is one of this target's messages.
    pub fn owns(&self, m: &Message) -> bool {
        m.kind == self.kind && m.release == self.release && m.ipv6 == self.ipv6
    }
}

/// One message as `netconsole listen` printed it, and when the xtask read it.
#[derive(Debug, Clone)]
pub struct Message {
    pub kind: Kind,
    pub text: String,
    pub complete: bool,
    /// It named a release (extended records of a `+r` target).
    pub release: bool,
    /// It came from an IPv6 address.
    pub ipv6: bool,
    pub at: Instant,
}

/// What the run should have produced.
pub struct Expectation<'a> {
    /// The firmware's targets.
    pub targets: &'a [Target],
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
    pub target: Target,
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

/// Checks `messages` against `expect`, for every target.
pub fn check(messages: &[Message], expect: &Expectation<'_>) -> Report {
    let mut report = Report { missing: Vec::new(), records: Vec::new() };
    for target in expect.targets {
        let mine: Vec<&Message> = messages.iter().filter(|m| target.owns(m)).collect();
        check_target(*target, &mine, expect, &mut report);
    }
    let strays = messages.iter().filter(|m| !expect.targets.iter().any(|t| t.owns(m))).count();
    if strays > 0 {
        report.missing.push(format!("{strays} messages that belong to no target of this run"));
    }
    report
}

fn check_target(
    target: Target,
    messages: &[&Message],
    expect: &Expectation<'_>,
    report: &mut Report,
) {
    let kind = target.kind;
    let name = target.name();
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
        let numbered = messages.iter().filter_map(|m| Some((record_number(&m.text)?, m.at)));
        let (stats, lost) = records(target, count, numbered);
        report.missing.extend(lost);
        report.records.push(stats);
    }
}

/// The number of a throughput record's text (`record 12345`).
pub fn record_number(text: &str) -> Option<u32> {
    text.strip_prefix("record ")?.parse().ok()
}

/// What arrived of the `count` records of a throughput run at `target`, from the record
/// numbers and when each was read; and the line naming the lost ones, if any were.
pub fn records(
    target: Target,
    count: u32,
    numbered: impl Iterator<Item = (u32, Instant)>,
) -> (RecordStats, Option<String>) {
    let mut seen = HashSet::new();
    let (mut first, mut last) = (None::<Instant>, None::<Instant>);
    for (n, at) in numbered {
        if (1..=count).contains(&n) && seen.insert(n) {
            first = first.or(Some(at));
            last = Some(at);
        }
    }
    let seconds = match (first, last) {
        (Some(a), Some(b)) => b.duration_since(a).as_secs_f64(),
        _ => 0.0,
    };
    let lost: Vec<u32> = (1..=count).filter(|n| !seen.contains(n)).collect();
    let missing =
        (!lost.is_empty()).then(|| format!("{} target: records {}", target.name(), list(&lost)));
    (RecordStats { target, arrived: seen.len() as u32, seconds }, missing)
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

    fn all(target: Target, expect: &Expectation<'_>) -> Vec<Message> {
        let at = Instant::now();
        let mut texts = vec![Banner { driver: expect.driver, layout: expect.layout }.to_string()];
        texts.extend((1..=NUMBERED_LINES).map(|i| expected::Numbered(i).to_string()));
        texts.extend((1..=TIMER_LINES).map(|i| expected::timer_line(i).to_string()));
        texts.push(long_line());
        texts.push("counters: messages=1".into());
        texts.push(format!("panicked at x.rs:1: {}", expected::PANIC_MESSAGE));
        let Target { kind, release, ipv6 } = target;
        texts
            .into_iter()
            .map(|text| Message { kind, text, complete: true, release, ipv6, at })
            .collect()
    }

    const BOTH: [Target; 2] = [Target::BASIC, Target::EXTENDED];
    const MIX: [Target; 4] =
        [Target::BASIC, Target::EXTENDED, Target::EXTENDED_RELEASE, Target::BASIC_IPV6];

    const EXPECT: Expectation<'static> =
        Expectation { targets: &BOTH, driver: "virtio-net", layout: "legacy", records: None };

    #[test]
    fn everything_there_is_nothing_missing() {
        let mut messages = all(Target::BASIC, &EXPECT);
        messages.extend(all(Target::EXTENDED, &EXPECT));
        assert_eq!(check(&messages, &EXPECT).missing, Vec::<String>::new());
    }

    #[test]
    fn each_loss_is_named() {
        let mut messages = all(Target::BASIC, &EXPECT);
        messages.extend(all(Target::EXTENDED, &EXPECT));
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
    fn the_mix_is_told_apart_by_family_and_release() {
        let mix = Expectation { targets: &MIX, ..EXPECT };
        let mut messages: Vec<Message> = MIX.iter().flat_map(|&t| all(t, &mix)).collect();
        assert_eq!(check(&messages, &mix).missing, Vec::<String>::new());
        // The IPv6 target's banner lost; records of the release target without their release
        // (they count for the plain extended target); an extended record over IPv6, which no
        // target of the mix sends.
        messages.retain(|m| !(m.ipv6 && m.text.starts_with(expected::BANNER_PREFIX)));
        for m in messages.iter_mut().filter(|m| m.release && m.text.starts_with("line 00")) {
            m.release = false;
        }
        messages[0].ipv6 = true;
        messages[0].kind = Kind::Extended;
        let missing = check(&messages, &mix).missing;
        assert!(missing.iter().any(|m| m.starts_with("basic/ipv6 target: the banner")));
        assert!(missing
            .iter()
            .any(|m| m.starts_with("extended+release target: numbered lines 1, 2")));
        assert_eq!(missing.last().unwrap(), "1 messages that belong to no target of this run");
        // A run of the basic target alone takes an extended target's messages as strays.
        let basic = Expectation { targets: &[Target::BASIC], ..EXPECT };
        let mut alone = all(Target::BASIC, &basic);
        assert!(check(&alone, &basic).missing.is_empty());
        alone.extend(all(Target::EXTENDED, &basic).into_iter().take(2));
        assert_eq!(
            check(&alone, &basic).missing,
            ["2 messages that belong to no target of this run"]
        );
    }

    #[test]
    fn throughput_records_lost_are_named() {
        let expect = Expectation { records: Some(5), ..EXPECT };
        let mut messages = all(Target::BASIC, &expect);
        messages.extend(all(Target::EXTENDED, &expect));
        let at = Instant::now();
        for (target, numbers) in
            [(Target::BASIC, [1, 2, 3, 4, 5]), (Target::EXTENDED, [1, 2, 4, 5, 5])]
        {
            for n in numbers {
                let text = expected::Record(n).to_string();
                messages.push(Message {
                    kind: target.kind,
                    text,
                    complete: true,
                    release: false,
                    ipv6: false,
                    at,
                });
            }
        }
        let report = check(&messages, &expect);
        assert_eq!(report.missing, ["extended target: records 3"]);
        assert_eq!(report.records.iter().map(|r| r.arrived).collect::<Vec<_>>(), [5, 4]);
    }

    #[test]
    fn a_basic_line_may_come_in_chunks() {
        let mut messages = all(Target::BASIC, &EXPECT);
        let long = messages.iter().position(|m| m.text.len() == 3000).unwrap();
        let whole = messages.remove(long);
        for (i, piece) in whole.text.as_bytes().chunks(1000).enumerate() {
            let text = String::from_utf8(piece.to_vec()).unwrap();
            messages.insert(long + i, Message { text, ..whole.clone() });
        }
        messages.extend(all(Target::EXTENDED, &EXPECT));
        assert!(check(&messages, &EXPECT).missing.is_empty());
    }
}
