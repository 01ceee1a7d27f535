//! How `netconsole listen` writes a message: one line of text, or one JSON object per line.

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};

use netconsole::receive::Message;

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `<sender-ip> <text>`, and ` [incomplete]` when bytes are missing.
    Text,
    /// One JSON object per line: `src`, `local` (the address it arrived on), `kind`, `text`,
    /// then for extended records `facility`, `level`, `seq`, `ts_us`, `cont`, `release` and `caller` (when present), `fields`; then
    /// `complete`.
    Json,
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

/// `message` as one line, without the `\n`.
pub fn line(format: Format, message: &Message<'_>) -> String {
    match format {
        Format::Text => text(message),
        Format::Json => json(message),
    }
}

fn text(message: &Message<'_>) -> String {
    let mut line = format!("{} {}", message.src.ip(), String::from_utf8_lossy(message.text));
    if !message.complete {
        line.push_str(" [incomplete]");
    }
    line
}

fn json(message: &Message<'_>) -> String {
    let mut out = String::from("{\"src\":");
    string(&mut out, message.src.to_string().as_bytes());
    out.push_str(",\"local\":");
    string(&mut out, message.local.to_string().as_bytes());
    out.push_str(",\"kind\":");
    string(&mut out, message.kind().as_str().as_bytes());
    out.push_str(",\"text\":");
    string(&mut out, message.text);
    if let Some(header) = message.header {
        let _ = write!(
            out,
            ",\"facility\":{},\"level\":{},\"seq\":{},\"ts_us\":{},\"cont\":{}",
            header.facility, header.level, header.seq, header.ts_us, header.cont
        );
        if let Some(release) = header.release {
            out.push_str(",\"release\":");
            string(&mut out, release);
        }
        if let Some(caller) = header.caller {
            out.push_str(",\"caller\":");
            string(&mut out, caller);
        }
        out.push_str(",\"fields\":{");
        // A key given twice (sysdata's `release=` next to a userdata key of that name, say)
        // keeps its last value: JSON names should be unique (RFC 8259, section 4).
        let fields: Vec<_> = message.fields().collect();
        let mut first = true;
        for (i, (key, value)) in fields.iter().enumerate() {
            if fields[i + 1..].iter().any(|(later, _)| later == key) {
                continue;
            }
            if !first {
                out.push(',');
            }
            first = false;
            string(&mut out, key);
            out.push(':');
            string(&mut out, value);
        }
        out.push('}');
    }
    let _ = write!(out, ",\"complete\":{}}}", message.complete);
    out
}

/// `bytes` as a JSON string (RFC 8259, section 7): invalid UTF-8 becomes U+FFFD; `"`, `\` and
/// control characters are escaped.
fn string(out: &mut String, bytes: &[u8]) {
    out.push('"');
    for c in String::from_utf8_lossy(bytes).chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if c < ' ' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod test {
    use super::*;
    use netconsole::receive::{Config, Receiver};

    fn messages(datagram: &[u8]) -> Vec<(String, String)> {
        let mut receiver: Receiver<2, 2, 2048> = Receiver::new(Config::DEFAULT);
        let src = "[fc00::1]:6665".parse().unwrap();
        let mut out = Vec::new();
        receiver
            .receive(0, src, datagram, &mut |m| {
                out.push((line(Format::Text, &m), line(Format::Json, &m)));
            })
            .unwrap();
        out
    }

    #[test]
    fn escapes_per_rfc_8259() {
        let mut out = String::new();
        string(&mut out, b"a\"b\\c\n\x01\x1f\x7f\xff\xc3\xa9");
        assert_eq!(out, "\"a\\\"b\\\\c\\n\\u0001\\u001f\x7f\u{fffd}\u{e9}\"");
    }

    #[test]
    fn extended_record() {
        let got = messages(
            b"6.18.0,14,7,100,c,caller=T1;hi \\x5c\n key=value\n release=a\n release=6.18.0\n",
        );
        assert_eq!(got[0].0, "fc00::1 hi \\x5c");
        assert_eq!(
            got[0].1,
            r#"{"src":"[fc00::1]:6665","local":"0.0.0.0:0","kind":"extended","text":"hi \\x5c","facility":1,"level":6,"seq":7,"ts_us":100,"cont":true,"release":"6.18.0","caller":"T1","fields":{"key":"value","release":"6.18.0"},"complete":true}"#
        );
    }

    #[test]
    fn basic_line() {
        let got = messages(b"[    1.000000] tab\there\n");
        assert_eq!(got[0].0, "fc00::1 [    1.000000] tab\there");
        assert_eq!(
            got[0].1,
            r#"{"src":"[fc00::1]:6665","local":"0.0.0.0:0","kind":"basic","text":"[    1.000000] tab\there","complete":true}"#
        );
    }

    #[test]
    fn ipv4_mapped_senders_are_ipv4() {
        let mapped: SocketAddr = "[::ffff:192.0.2.1]:6665".parse().unwrap();
        assert_eq!(unmapped(mapped).to_string(), "192.0.2.1:6665");
        let v6: SocketAddr = "[fc00::1]:6665".parse().unwrap();
        assert_eq!(unmapped(v6), v6);
    }
}
