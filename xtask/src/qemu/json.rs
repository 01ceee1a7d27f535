//! Just enough JSON to read `netconsole listen --format json`: one object per line, whose
//! top-level string and boolean members are kept (nested values are skipped).

use std::collections::HashMap;

/// A top-level member's value, as far as the checker needs it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A string, unescaped.
    Str(String),
    /// `true` or `false`.
    Bool(bool),
    /// A number, `null`, an object or an array: present, not kept.
    Other,
}

/// Parses one line holding one JSON object; `None` if it is not one.
pub fn object(line: &str) -> Option<HashMap<String, Value>> {
    let mut p = Parser { s: line.as_bytes(), at: 0 };
    p.ws();
    p.eat(b'{')?;
    let mut members = HashMap::new();
    p.ws();
    if p.eat(b'}').is_some() {
        return Some(members);
    }
    loop {
        p.ws();
        let key = p.string()?;
        p.ws();
        p.eat(b':')?;
        p.ws();
        let value = p.value(0)?;
        members.insert(key, value);
        p.ws();
        if p.eat(b',').is_some() {
            continue;
        }
        p.eat(b'}')?;
        return Some(members);
    }
}

struct Parser<'a> {
    s: &'a [u8],
    at: usize,
}

/// Nesting deeper than this is refused: listen's output is two levels deep.
const MAX_DEPTH: usize = 16;

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.at).copied()
    }

    fn eat(&mut self, b: u8) -> Option<()> {
        (self.peek()? == b).then(|| self.at += 1)
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        match self.peek()? {
            b'"' => self.string().map(Value::Str),
            b't' => self.word("true").map(|()| Value::Bool(true)),
            b'f' => self.word("false").map(|()| Value::Bool(false)),
            b'n' => self.word("null").map(|()| Value::Other),
            b'{' | b'[' => self.skip_nested(depth).map(|()| Value::Other),
            _ => {
                let start = self.at;
                while matches!(self.peek(), Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')) {
                    self.at += 1;
                }
                (self.at > start).then_some(Value::Other)
            }
        }
    }

    fn word(&mut self, w: &str) -> Option<()> {
        let end = self.at + w.len();
        (self.s.get(self.at..end)? == w.as_bytes()).then(|| self.at = end)
    }

    fn skip_nested(&mut self, depth: usize) -> Option<()> {
        let close = if self.peek()? == b'{' { b'}' } else { b']' };
        self.at += 1;
        self.ws();
        if self.eat(close).is_some() {
            return Some(());
        }
        loop {
            self.ws();
            if close == b'}' {
                self.string()?;
                self.ws();
                self.eat(b':')?;
                self.ws();
            }
            self.value(depth + 1)?;
            self.ws();
            if self.eat(b',').is_some() {
                continue;
            }
            return self.eat(close);
        }
    }

    fn string(&mut self) -> Option<String> {
        self.eat(b'"')?;
        let mut out = String::new();
        loop {
            let start = self.at;
            while !matches!(self.peek()?, b'"' | b'\\') {
                self.at += 1;
            }
            out.push_str(std::str::from_utf8(&self.s[start..self.at]).ok()?);
            if self.eat(b'"').is_some() {
                return Some(out);
            }
            self.at += 1; // the backslash
            let c = match self.peek()? {
                b'"' => '"',
                b'\\' => '\\',
                b'/' => '/',
                b'b' => '\u{08}',
                b'f' => '\u{0c}',
                b'n' => '\n',
                b'r' => '\r',
                b't' => '\t',
                b'u' => {
                    self.at += 1;
                    let high = self.hex4()?;
                    let c = if (0xd800..0xdc00).contains(&high) {
                        self.word("\\u")?;
                        let low = self.hex4()?;
                        char::from_u32(
                            0x10000 + ((high - 0xd800) << 10) + (low.checked_sub(0xdc00)?),
                        )
                    } else {
                        char::from_u32(high)
                    };
                    out.push(c.unwrap_or('\u{fffd}'));
                    continue;
                }
                _ => return None,
            };
            out.push(c);
            self.at += 1;
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = std::str::from_utf8(self.s.get(self.at..self.at + 4)?).ok()?;
        let v = u32::from_str_radix(digits, 16).ok()?;
        self.at += 4;
        Some(v)
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn reads_listen_lines() {
        let line = r#"{"src":"127.0.0.1:1","kind":"extended","text":"a \"b\"\n\u00e9\ud83d\ude00","level":6,"fields":{"k":"v","n":[1,{"x":null}]},"complete":true}"#;
        let o = object(line).unwrap();
        assert_eq!(o["kind"], Value::Str("extended".into()));
        assert_eq!(o["text"], Value::Str("a \"b\"\n\u{e9}\u{1f600}".into()));
        assert_eq!(o["complete"], Value::Bool(true));
        assert_eq!(o["fields"], Value::Other);
    }

    #[test]
    fn refuses_what_is_not_an_object() {
        for bad in ["", "[]", "{\"a\"}", "{\"a\":}", "{\"a\":\"\\x\"}", "{\"a\":1", "listening"] {
            assert_eq!(object(bad), None, "{bad}");
        }
    }
}
