//! `--format rfc5424`: a message as a syslog message (RFC 5424), so that rsyslog, syslog-ng
//! and any pipeline that takes syslog take netconsole as it is.
//!
//! ```text
//! <PRI>1 TIMESTAMP HOSTNAME kernel - - [netconsole@32473 ...][fields@32473 ...] MSG
//! ```
//!
//! PRI is the record's facility and level (a basic line, which has neither: kern.info);
//! TIMESTAMP the time it was received, in UTC; HOSTNAME the sender's address. The record's
//! header goes in the `netconsole` structured data element, its dictionary, userdata and
//! sysdata in `fields`. 32473 is the enterprise number RFC 5612 sets aside for examples: these
//! names are ours, not registered. MSG is the decoded text; control characters in it (a
//! record's newlines among them) are written as rsyslog writes them, `#` and three octal
//! digits, so that one message stays one line.

use std::io::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use netconsole::receive::Message;

/// The severity of a basic line, which carries none: informational.
const BASIC_LEVEL: u32 = 6;

/// Appends `message`, received at `now`, as one RFC 5424 line (with `\n`). `decode` turns the
/// record's text and field values into the bytes to show (decoded or not), appending them to
/// `scratch`, which is reused memory.
pub fn write(
    out: &mut Vec<u8>,
    message: &Message<'_>,
    now: SystemTime,
    scratch: &mut Vec<u8>,
    decode: &mut dyn FnMut(&[u8], &mut Vec<u8>),
) {
    let pri = match message.header {
        Some(h) => h.facility.saturating_mul(8).saturating_add(u32::from(h.level)),
        None => BASIC_LEVEL,
    };
    let _ = write!(out, "<{pri}>1 ");
    timestamp(out, now);
    let _ = write!(out, " {} kernel - - ", message.src.ip());
    out.extend_from_slice(b"[netconsole@32473");
    let _ = write!(out, " local=\"{}\"", message.local);
    if let Some(h) = message.header {
        let _ = write!(out, " seq=\"{}\" ts_us=\"{}\" cont=\"{}\"", h.seq, h.ts_us, h.cont);
        if let Some(release) = h.release {
            param(out, b"release", release);
        }
        if let Some(caller) = h.caller {
            param(out, b"caller", caller);
        }
    }
    if message.missing_before > 0 {
        let _ = write!(out, " missing_before=\"{}\"", message.missing_before);
    }
    if message.continues {
        out.extend_from_slice(b" continues=\"true\"");
    }
    let _ = write!(out, " complete=\"{}\"]", message.complete);
    let mut fields = message.fields().peekable();
    if fields.peek().is_some() {
        out.extend_from_slice(b"[fields@32473");
        for (key, value) in fields {
            scratch.clear();
            decode(value, scratch);
            param(out, key, scratch);
        }
        out.push(b']');
    }
    out.push(b' ');
    scratch.clear();
    decode(message.text, scratch);
    for chunk in scratch.utf8_chunks() {
        for &byte in chunk.valid().as_bytes() {
            match byte {
                0..0x20 | 0x7f => {
                    let _ = write!(out, "#{byte:03o}");
                }
                _ => out.push(byte),
            }
        }
        if !chunk.invalid().is_empty() {
            out.extend_from_slice("\u{fffd}".as_bytes());
        }
    }
    out.push(b'\n');
}

/// ` name="value"`: the name cut to what an SD-NAME may hold (32 printable ASCII characters,
/// none of `= ]"` ), the value with `"`, `\` and `]` escaped and control characters written
/// as in MSG.
fn param(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.push(b' ');
    let allowed = |b: u8| b.is_ascii_graphic() && !matches!(b, b'=' | b']' | b'"');
    out.extend(name.iter().take(32).map(|&b| if allowed(b) { b } else { b'_' }));
    if name.is_empty() {
        out.push(b'_');
    }
    out.extend_from_slice(b"=\"");
    for chunk in value.utf8_chunks() {
        for &byte in chunk.valid().as_bytes() {
            match byte {
                // As in MSG: one message stays one line.
                0..0x20 | 0x7f => {
                    let _ = write!(out, "#{byte:03o}");
                }
                b'"' | b'\\' | b']' => out.extend_from_slice(&[b'\\', byte]),
                _ => out.push(byte),
            }
        }
        if !chunk.invalid().is_empty() {
            out.extend_from_slice("\u{fffd}".as_bytes());
        }
    }
    out.push(b'"');
}

/// `now` as RFC 3339 in UTC with microseconds: `2026-11-30T12:43:40.123456Z`.
fn timestamp(out: &mut Vec<u8>, now: SystemTime) {
    let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil(days);
    let _ = write!(
        out,
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        rest / 3600,
        rest / 60 % 60,
        rest % 60,
        since.subsec_micros()
    );
}

/// The Gregorian date `days` after 1970-01-01 (Howard Hinnant's civil_from_days).
fn civil(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod test {
    use super::*;
    use netconsole::receive::{unescape, Config, Receiver};
    use std::time::Duration;

    fn line(datagram: &[u8]) -> String {
        let mut receiver: Receiver<2, 2, 2048> = Receiver::new(Config::DEFAULT);
        let src = "192.0.2.7:6665".parse().unwrap();
        let at = UNIX_EPOCH + Duration::from_micros(1_795_000_000_123_456);
        let mut out = Vec::new();
        receiver
            .receive(0, src, datagram, &mut |m| {
                let mut scratch = Vec::new();
                write(&mut out, &m, at, &mut scratch, &mut |raw, into| into.extend(unescape(raw)));
            })
            .unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_record_with_fields() {
        assert_eq!(
            line(b"6.12.0,14,7,100,-,caller=T1;a\\x09b\\x0asecond \\x5c]\n SUBSYSTEM=net\n DEVICE=n\\x5c\"]2\n"),
            "<14>1 2026-11-18T11:06:40.123456Z 192.0.2.7 kernel - - [netconsole@32473 \
             local=\"0.0.0.0:0\" seq=\"7\" ts_us=\"100\" cont=\"false\" release=\"6.12.0\" \
             caller=\"T1\" complete=\"true\"][fields@32473 SUBSYSTEM=\"net\" \
             DEVICE=\"n\\\\\\\"\\]2\"] a#011b#012second \\]\n"
        );
    }

    #[test]
    fn a_basic_line_is_kern_info() {
        let got = line(b"[    1.000000] hello\n");
        assert!(got.starts_with("<6>1 2026-11-18T11:06:40.123456Z 192.0.2.7 kernel - - "), "{got}");
        assert!(got.ends_with(" complete=\"true\"] [    1.000000] hello\n"), "{got}");
    }

    #[test]
    fn a_sender_cannot_start_a_line_of_its_own_from_a_field_or_the_release() {
        // A newline decoded from a field value, or raw in a release prefix, would end the
        // message early: the rest would read as a message of the sender's making.
        for datagram in
            [&b"6,1,100,-;text\n key=a\\x0a<0>1 forged\n"[..], b"r\n<0>1 forged,6,1,100,-;text\n"]
        {
            let got = line(datagram);
            assert_eq!(got.matches('\n').count(), 1, "{got}");
            assert!(got.ends_with(" text\n") && got.contains("#012<0>1 forged"), "{got}");
        }
    }

    #[test]
    fn dates() {
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(civil(11_016), (2000, 2, 29));
        assert_eq!(civil(20_513), (2026, 3, 1));
    }
}
