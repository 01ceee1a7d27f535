//! How `netconsole listen` writes a message: one line of text as dmesg shows it, or one JSON
//! object per line. Written into a caller's buffer, so that a batch of messages costs one
//! `write` and no allocation once the buffers have grown.

use std::io::Write as _;
use std::net::{IpAddr, SocketAddr};

use netconsole::receive::{is_escaped, unescape, Message};

use crate::last_values::LastValues;

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `<sender-ip> <text>`, and ` [incomplete]` when bytes are missing. A record holding
    /// newlines goes on over several lines, each indented to where the text began, as dmesg
    /// prints one.
    Text,
    /// One JSON object per line: `src`, `local` (the address it arrived on), `kind`, `text`,
    /// then for extended records `facility`, `level`, `seq`, `ts_us`, `cont`, `release` and
    /// `caller` (when present), `fields`; `invalid_utf8` when bytes had to be replaced,
    /// `missing_before` when the sender's sequence numbers skipped records before this one,
    /// `continues` for a piece of a basic line too long to hold; then `complete`.
    Json,
    /// RFC 5424 syslog, one message per line: see [`crate::rfc5424`].
    Rfc5424,
}

/// An address as people write it: IPv4 senders that reached a dual-stack socket come as
/// `::ffff:a.b.c.d`, and are shown (and told apart) as the plain IPv4 address they are.
pub fn unmapped(addr: SocketAddr) -> SocketAddr {
    match addr {
        SocketAddr::V6(v6) => match v6.ip().to_ipv4_mapped() {
            Some(v4) => SocketAddr::new(IpAddr::V4(v4), v6.port()),
            None => addr,
        },
        SocketAddr::V4(_) => addr,
    }
}

/// Writes messages in one format, decoding printk's `\xNN` escapes unless told to keep them.
#[derive(Debug)]
pub struct Writer {
    format: Format,
    /// `--escaped`: the record's text as it came on the wire.
    escaped: bool,
    /// Decoded bytes of the string being written; kept to reuse its memory.
    scratch: Vec<u8>,
    /// The fields of the record being written, a key given twice kept once; kept to reuse
    /// its memory.
    last_values: LastValues,
    /// Addresses as text: most messages come from the sender and to the address of the one
    /// before, so each is formatted once per run of them.
    ip: Formatted<IpAddr>,
    src: Formatted<SocketAddr>,
    local: Formatted<SocketAddr>,
}

/// A value's `Display` text, kept while the value stays the same.
#[derive(Debug, Default)]
struct Formatted<T> {
    value: Option<T>,
    text: Vec<u8>,
}

impl<T: std::fmt::Display + PartialEq + Copy> Formatted<T> {
    fn of(&mut self, value: T) -> &[u8] {
        if self.value != Some(value) {
            self.text.clear();
            let _ = write!(self.text, "{value}");
            self.value = Some(value);
        }
        &self.text
    }
}

impl Writer {
    /// A writer for `format`; `escaped` keeps printk's escapes as sent.
    pub fn new(format: Format, escaped: bool) -> Self {
        Writer {
            format,
            escaped,
            scratch: Vec::new(),
            last_values: LastValues::default(),
            ip: Formatted { value: None, text: Vec::new() },
            src: Formatted { value: None, text: Vec::new() },
            local: Formatted { value: None, text: Vec::new() },
        }
    }

    /// Appends `message` to `out` as one line (text: perhaps several), `\n` included.
    pub fn write(&mut self, out: &mut Vec<u8>, message: &Message<'_>) {
        match self.format {
            Format::Text => self.text(out, message),
            Format::Json => self.json(out, message),
            Format::Rfc5424 => {
                let decode = !self.escaped && message.header.is_some();
                let now = std::time::SystemTime::now();
                crate::rfc5424::write(out, message, now, &mut self.scratch, &mut |raw, into| {
                    if decode {
                        into.extend(unescape(raw));
                    } else {
                        into.extend_from_slice(raw);
                    }
                });
            }
        }
    }

    /// The bytes `raw` stands for: decoded when it came from an extended header's record and
    /// escapes are not to be kept. Basic text is the console's, unescaped already.
    fn decoded<'a>(&'a mut self, raw: &'a [u8], extended: bool) -> &'a [u8] {
        if self.escaped || !extended || !is_escaped(raw) {
            return raw;
        }
        self.scratch.clear();
        self.scratch.extend(unescape(raw));
        &self.scratch
    }

    fn text(&mut self, out: &mut Vec<u8>, message: &Message<'_>) {
        let ip = self.ip.of(message.src.ip());
        out.extend_from_slice(ip);
        out.push(b' ');
        let indent = ip.len() + 1;
        let text = self.decoded(message.text, message.header.is_some());
        for chunk in text.utf8_chunks() {
            // What a terminal would act on is shown as printk writes it (dmesg does too).
            let special = |b: u8| b < 0x20 && b != b'\t' || b == 0x7f;
            runs(out, chunk.valid().as_bytes(), special, |out, byte| {
                if byte == b'\n' {
                    out.push(b'\n');
                    out.extend(std::iter::repeat_n(b' ', indent));
                } else {
                    let _ = write!(out, "\\x{byte:02x}");
                }
            });
            if !chunk.invalid().is_empty() {
                out.extend_from_slice(REPLACEMENT);
            }
        }
        if !message.complete {
            out.extend_from_slice(b" [incomplete]");
        }
        out.push(b'\n');
    }

    fn json(&mut self, out: &mut Vec<u8>, message: &Message<'_>) {
        let extended = message.header.is_some();
        let mut invalid = false;
        out.extend_from_slice(b"{\"src\":\"");
        out.extend_from_slice(self.src.of(message.src));
        out.extend_from_slice(b"\",\"local\":\"");
        out.extend_from_slice(self.local.of(message.local));
        out.extend_from_slice(b"\",\"kind\":\"");
        out.extend_from_slice(message.kind().as_str().as_bytes());
        out.extend_from_slice(b"\",\"text\":");
        invalid |= string(out, self.decoded(message.text, extended));
        if let Some(header) = message.header {
            let _ = write!(
                out,
                ",\"facility\":{},\"level\":{},\"seq\":{},\"ts_us\":{},\"cont\":{}",
                header.facility, header.level, header.seq, header.ts_us, header.cont
            );
            if let Some(release) = header.release {
                out.extend_from_slice(b",\"release\":");
                invalid |= string(out, release);
            }
            if let Some(caller) = header.caller {
                out.extend_from_slice(b",\"caller\":");
                invalid |= string(out, caller);
            }
            out.extend_from_slice(b",\"fields\":{");
            let mut last = std::mem::take(&mut self.last_values);
            last.index(message, <[u8]>::cmp);
            for (i, (key, value)) in last.kept(message).enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                invalid |= string(out, key);
                out.push(b':');
                invalid |= string(out, self.decoded(value, true));
            }
            self.last_values = last;
            out.push(b'}');
        }
        if invalid {
            out.extend_from_slice(b",\"invalid_utf8\":true");
        }
        if message.missing_before > 0 {
            let _ = write!(out, ",\"missing_before\":{}", message.missing_before);
        }
        if message.continues {
            out.extend_from_slice(b",\"continues\":true");
        }
        let _ = writeln!(out, ",\"complete\":{}}}", message.complete);
    }
}

/// Copies `bytes` to `out` a run at a time, handing each byte `special` picks to `escape`.
fn runs(
    out: &mut Vec<u8>,
    mut bytes: &[u8],
    special: impl Fn(u8) -> bool,
    mut escape: impl FnMut(&mut Vec<u8>, u8),
) {
    while let Some(at) = bytes.iter().position(|&b| special(b)) {
        let (run, rest) = bytes.split_at(at);
        out.extend_from_slice(run);
        let Some((&byte, rest)) = rest.split_first() else { return };
        escape(out, byte);
        bytes = rest;
    }
    out.extend_from_slice(bytes);
}

/// U+FFFD, for bytes that are not UTF-8.
const REPLACEMENT: &[u8] = "\u{fffd}".as_bytes();

/// Appends `bytes` as a JSON string (RFC 8259, section 7): invalid UTF-8 becomes U+FFFD; `"`,
/// `\` and control characters are escaped. Returns whether anything had to be replaced.
fn string(out: &mut Vec<u8>, bytes: &[u8]) -> bool {
    let mut replaced = false;
    out.push(b'"');
    for chunk in bytes.utf8_chunks() {
        let special = |b: u8| b < 0x20 || b == b'"' || b == b'\\';
        runs(out, chunk.valid().as_bytes(), special, |out, byte| match byte {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            _ => {
                let _ = write!(out, "\\u{byte:04x}");
            }
        });
        if !chunk.invalid().is_empty() {
            out.extend_from_slice(REPLACEMENT);
            replaced = true;
        }
    }
    out.push(b'"');
    replaced
}

#[cfg(test)]
mod test {
    use super::*;
    use netconsole::receive::{Config, Receiver};

    /// Each message `datagram` makes, as (text, json), written with escapes decoded or not.
    fn messages(datagram: &[u8], escaped: bool) -> Vec<(String, String)> {
        let mut receiver: Receiver<2, 2, 2048> = Receiver::new(Config::DEFAULT);
        let src = "[fc00::1]:6665".parse().unwrap();
        let (mut text, mut json) =
            (Writer::new(Format::Text, escaped), Writer::new(Format::Json, escaped));
        let mut out = Vec::new();
        receiver
            .receive(0, src, datagram, &mut |m| {
                let (mut t, mut j) = (Vec::new(), Vec::new());
                text.write(&mut t, &m);
                json.write(&mut j, &m);
                let line = |v: Vec<u8>| {
                    String::from_utf8(v).unwrap().strip_suffix('\n').unwrap().to_owned()
                };
                out.push((line(t), line(j)));
            })
            .unwrap();
        out
    }

    #[test]
    fn escapes_per_rfc_8259() {
        let mut out = Vec::new();
        assert!(string(&mut out, b"a\"b\\c\n\x01\x1f\x7f\xff\xc3\xa9"));
        assert_eq!(out, "\"a\\\"b\\\\c\\n\\u0001\\u001f\x7f\u{fffd}\u{e9}\"".as_bytes());
        out.clear();
        assert!(!string(&mut out, "é\t".as_bytes()));
    }

    #[test]
    fn extended_record_decoded() {
        let got = messages(
            b"6.18.0,14,7,100,c,caller=T1;hi \\x5c \\xc3\\xa9\\x09tab\\x0anext line\n \
              key=v\\x5cal\n release=a\n release=6.18.0\n",
            false,
        );
        assert_eq!(got[0].0, "fc00::1 hi \\ é\ttab\n        next line");
        assert_eq!(
            got[0].1,
            r#"{"src":"[fc00::1]:6665","local":"0.0.0.0:0","kind":"extended","text":"hi \\ é\ttab\nnext line","facility":1,"level":6,"seq":7,"ts_us":100,"cont":true,"release":"6.18.0","caller":"T1","fields":{"key":"v\\al","release":"6.18.0"},"complete":true}"#
        );
    }

    /// The `fields` object of `record`'s JSON line.
    fn json_fields(record: &[u8]) -> String {
        let mut receiver: Receiver<2, 2, 8192> = Receiver::new(Config::DEFAULT);
        let mut json = Writer::new(Format::Json, false);
        let mut out = Vec::new();
        let src = "[fc00::1]:6665".parse().unwrap();
        receiver.receive(0, src, record, &mut |m| json.write(&mut out, &m)).unwrap();
        let line = String::from_utf8(out).unwrap();
        let start = line.find(r#","fields":"#).expect(&line) + r#","fields":"#.len();
        let end = line.rfind(r#","complete":"#).expect(&line);
        line[start..end].to_owned()
    }

    #[test]
    fn a_duplicated_key_keeps_its_last_value_where_that_stands() {
        let got = json_fields(
            b"14,7,100,-;text\x0anot a field\x0a\n a=1\n b=1\n a=2\n c=1\n =empty\n b=2\n \
              k=short\n k1=longer\n c=x\\x5cy\n a=3\n k=again\n no equals\n",
        );
        assert_eq!(got, r#"{"":"empty","b":"2","k1":"longer","c":"x\\y","a":"3","k":"again"}"#);
    }

    /// Fields as they were written before the duplicates search became a sort: each key at
    /// the place of its last occurrence, with that value. Many fields, many of them repeated,
    /// against a model that walks them backwards.
    #[test]
    fn many_fields_with_repeated_keys_match_the_last_occurrence_model() {
        let mut record = b"14,7,100,-;many".to_vec();
        let mut fields = Vec::new();
        let mut i = 0u32;
        while record.len() < 8000 {
            // Keys repeat with a period unrelated to the values; some are prefixes of others.
            let key = format!("k{}", (i * 7919) % 337);
            let value = i.to_string();
            record.extend_from_slice(format!("\n {key}={value}").as_bytes());
            fields.push((key, value));
            i += 1;
        }
        record.push(b'\n');
        let mut seen = std::collections::HashSet::new();
        let mut kept: Vec<String> = fields
            .iter()
            .rev()
            .filter(|(key, _)| seen.insert(key.clone()))
            .map(|(key, value)| format!("\"{key}\":\"{value}\""))
            .collect();
        kept.reverse();
        assert!(fields.len() > 800 && kept.len() == 337, "{} {}", fields.len(), kept.len());
        assert_eq!(json_fields(&record), format!("{{{}}}", kept.join(",")));
    }

    #[test]
    fn extended_record_as_on_the_wire() {
        let got = messages(b"14,7,100,c;hi \\x5c \\xc3\\xa9\n", true);
        assert_eq!(got[0].0, "fc00::1 hi \\x5c \\xc3\\xa9");
        assert!(got[0].1.contains(r#""text":"hi \\x5c \\xc3\\xa9""#), "{}", got[0].1);
    }

    #[test]
    fn invalid_utf8_is_replaced_and_flagged() {
        let got = messages(b"14,7,100,-;bad \\xff\\xc3 end \\x1b[31m\n", false);
        assert_eq!(got[0].0, "fc00::1 bad \u{fffd}\u{fffd} end \\x1b[31m");
        assert!(
            got[0].1.contains(
                r#""text":"bad ��� end \u001b[31m""#.replace("���", "\u{fffd}\u{fffd}").as_str()
            ),
            "{}",
            got[0].1
        );
        assert!(got[0].1.ends_with(r#""invalid_utf8":true,"complete":true}"#), "{}", got[0].1);
    }

    #[test]
    fn basic_line() {
        let got = messages(b"[    1.000000] tab\there \\x41\n", false);
        // Console text carries no escapes: a backslash in it is a backslash.
        assert_eq!(got[0].0, "fc00::1 [    1.000000] tab\there \\x41");
        assert_eq!(
            got[0].1,
            r#"{"src":"[fc00::1]:6665","local":"0.0.0.0:0","kind":"basic","text":"[    1.000000] tab\there \\x41","complete":true}"#
        );
    }

    #[test]
    fn pieces_and_gaps_are_marked_in_json() {
        let mut receiver: Receiver<2, 2, 8> = Receiver::new(Config::DEFAULT);
        let src = "192.0.2.1:6665".parse().unwrap();
        let mut json = Writer::new(Format::Json, false);
        let mut out = Vec::new();
        for datagram in [&b"0123456789"[..], b"ab\n", b"6,1,1,-;one\n", b"6,4,4,-;four\n"] {
            receiver.receive(0, src, datagram, &mut |m| json.write(&mut out, &m)).unwrap();
        }
        let out = String::from_utf8(out).unwrap();
        let lines: Vec<_> = out.lines().collect();
        assert!(lines[0].ends_with(r#""text":"01234567","continues":true,"complete":true}"#));
        assert!(lines[1].ends_with(r#""text":"89ab","complete":true}"#), "{}", lines[1]);
        assert!(!lines[2].contains("missing_before"), "{}", lines[2]);
        assert!(lines[3].ends_with(r#""missing_before":2,"complete":true}"#), "{}", lines[3]);
    }

    #[test]
    fn ipv4_mapped_senders_are_ipv4() {
        let mapped: SocketAddr = "[::ffff:192.0.2.1]:6665".parse().unwrap();
        assert_eq!(unmapped(mapped).to_string(), "192.0.2.1:6665");
        let v6: SocketAddr = "[fc00::1]:6665".parse().unwrap();
        assert_eq!(unmapped(v6), v6);
    }
}
