//! One datagram, classified and parsed: an extended record (Linux's `printk` header, perhaps a
//! release prefix and an `ncfrag` field) or basic console text.
//!
//! The wire carries no type tag, so the header's shape decides (spec 3.2, 3.3):
//!
//! ```text
//! [<release>,]<prefix>,<seq>,<ts_us>,<flag>[,caller=..][,ncfrag=<offset>/<total>][,..];<body>
//! ```
//!
//! The part before the first `;` is an extended header when its first three comma fields are
//! decimal digits and the fourth is one of the flags printk writes (`-`, `c`, or `+` from older
//! kernels). If that fails, the first field is tried as a release prefix: a utsname release such
//! as `6.18.0` is never all digits, but a firmware's release might be, so the header, not the
//! release, is what is recognised. Anything else is basic text. Once the shape has matched, bad
//! values (a number that overflows, an `ncfrag` pointing outside its total) make the datagram
//! malformed rather than basic: that is a broken or hostile sender, not someone's log line.

use core::fmt;

/// The longest release prefix accepted: Linux's utsname field (`__NEW_UTS_LEN`).
pub const RELEASE_MAX: usize = 64;
/// The longest `caller=` value accepted; Linux writes `T<pid>` or `C<cpu>`, at most 11 bytes.
pub const CALLER_MAX: usize = 16;

/// The header of an extended record, as printk wrote it (spec 3.2), with the release prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header<'a> {
    /// The syslog facility: the header's first number shifted right by 3.
    pub facility: u32,
    /// The syslog level, 0 (emergency) to 7 (debug): the first number's low 3 bits.
    pub level: u8,
    /// printk's sequence number of the record.
    pub seq: u64,
    /// The record's timestamp, in microseconds since boot.
    pub ts_us: u64,
    /// The record continues an earlier one (`LOG_CONT`: flag `c`, or `+` from older kernels).
    pub cont: bool,
    /// The `caller=` field (`T<pid>` or `C<cpu>`), when the kernel has `CONFIG_PRINTK_CALLER`.
    pub caller: Option<&'a [u8]>,
    /// The release prefix (`uname -r`), when the target has `release` on.
    pub release: Option<&'a [u8]>,
}

/// Where a fragment's bytes go in its message: the `ncfrag=<offset>/<total>` field.
///
/// Offsets and the total count the data after the header only (body, userdata, sysdata).
/// [`parse`] has checked that the fragment's bytes fit inside `total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Fragment {
    /// The offset of this fragment's first byte.
    pub offset: u32,
    /// The length of the whole message's data.
    pub total: u32,
}

/// One parsed datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Datagram<'a> {
    /// Console text with no header: lines, or a 1000-byte chunk of a longer one.
    Basic(&'a [u8]),
    /// An extended record, whole or one fragment of it.
    Extended {
        /// The parsed header.
        header: Header<'a>,
        /// The `ncfrag` field, when the record was fragmented.
        fragment: Option<Fragment>,
        /// Everything after the header's `;`: the record's data, or this fragment's part of it.
        body: &'a [u8],
    },
}

/// Why a datagram was refused as malformed. `Display` gives a one-line reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Malformed {
    /// The datagram has no bytes; no netconsole sender writes one.
    Empty,
    /// A header number does not fit its type: the prefix in 32 bits, seq or timestamp in 64.
    NumberTooLarge(&'static str),
    /// The release prefix is longer than [`RELEASE_MAX`].
    ReleaseTooLong(usize),
    /// The `caller=` value is longer than [`CALLER_MAX`].
    CallerTooLong(usize),
    /// `ncfrag=` is not `<offset>/<total>` in decimal, each fitting 32 bits.
    BadNcfrag,
    /// The header carries `ncfrag=` twice.
    RepeatedNcfrag,
    /// `ncfrag` says the message has no data at all.
    ZeroTotal,
    /// A fragment with no data after its header.
    EmptyFragment,
    /// The fragment's bytes run past the message's total: the check netconsd missed (a CVE).
    BeyondTotal {
        /// The fragment's offset.
        offset: u32,
        /// The fragment's length.
        len: usize,
        /// The total it claims to be part of.
        total: u32,
    },
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Malformed::Empty => f.write_str("empty datagram"),
            Malformed::NumberTooLarge(field) => write!(f, "extended header: {field} too large"),
            Malformed::ReleaseTooLong(len) => {
                write!(f, "release prefix of {len} bytes (at most {RELEASE_MAX})")
            }
            Malformed::CallerTooLong(len) => {
                write!(f, "caller= value of {len} bytes (at most {CALLER_MAX})")
            }
            Malformed::BadNcfrag => f.write_str("ncfrag is not <offset>/<total>"),
            Malformed::RepeatedNcfrag => f.write_str("ncfrag given twice"),
            Malformed::ZeroTotal => f.write_str("ncfrag total is 0"),
            Malformed::EmptyFragment => f.write_str("ncfrag fragment carries no data"),
            Malformed::BeyondTotal { offset, len, total } => {
                write!(f, "ncfrag offset {offset} + {len} bytes runs past total {total}")
            }
        }
    }
}

/// Classifies and parses one datagram. Never panics; every byte sequence is either a
/// [`Datagram`] or [`Malformed`].
pub fn parse(bytes: &[u8]) -> Result<Datagram<'_>, Malformed> {
    if bytes.is_empty() {
        return Err(Malformed::Empty);
    }
    let Some(semicolon) = bytes.iter().position(|&b| b == b';') else {
        return Ok(Datagram::Basic(bytes));
    };
    let (head, body) = bytes.split_at(semicolon);
    let body = body.get(1..).unwrap_or_default();
    if has_header_shape(head) {
        return extended(head, None, body);
    }
    if let Some(comma) = head.iter().position(|&b| b == b',') {
        let (release, rest) = head.split_at(comma);
        let rest = rest.get(1..).unwrap_or_default();
        if !release.is_empty() && has_header_shape(rest) {
            return extended(rest, Some(release), body);
        }
    }
    Ok(Datagram::Basic(bytes))
}

/// Three decimal fields and a printk flag: the shape of `<prefix>,<seq>,<ts_us>,<flag>`.
fn has_header_shape(head: &[u8]) -> bool {
    let mut fields = head.split(|&b| b == b',');
    let decimal = |field: Option<&[u8]>| {
        field.is_some_and(|f| !f.is_empty() && f.iter().all(u8::is_ascii_digit))
    };
    decimal(fields.next())
        && decimal(fields.next())
        && decimal(fields.next())
        && matches!(fields.next(), Some(b"-" | b"c" | b"+"))
}

/// Parses a header that [`has_header_shape`] accepted.
fn extended<'a>(
    head: &'a [u8],
    release: Option<&'a [u8]>,
    body: &'a [u8],
) -> Result<Datagram<'a>, Malformed> {
    if let Some(release) = release.filter(|r| r.len() > RELEASE_MAX) {
        return Err(Malformed::ReleaseTooLong(release.len()));
    }
    let mut fields = head.split(|&b| b == b',');
    let prefix = decimal(fields.next().unwrap_or_default())
        .and_then(|n| u32::try_from(n).ok())
        .ok_or(Malformed::NumberTooLarge("prefix"))?;
    let seq = decimal(fields.next().unwrap_or_default()).ok_or(Malformed::NumberTooLarge("seq"))?;
    let ts_us =
        decimal(fields.next().unwrap_or_default()).ok_or(Malformed::NumberTooLarge("timestamp"))?;
    let cont = fields.next() != Some(b"-");

    let mut caller = None;
    let mut fragment = None;
    for field in fields {
        if let Some(value) = field.strip_prefix(b"caller=") {
            if value.len() > CALLER_MAX {
                return Err(Malformed::CallerTooLong(value.len()));
            }
            caller = Some(value);
        } else if let Some(value) = field.strip_prefix(b"ncfrag=") {
            if fragment.is_some() {
                return Err(Malformed::RepeatedNcfrag);
            }
            fragment = Some(ncfrag(value, body.len())?);
        }
        // Other fields are a newer kernel's additions: ignored, as printk's readers do.
    }
    let header = Header {
        facility: prefix >> 3,
        level: (prefix & 7) as u8,
        seq,
        ts_us,
        cont,
        caller,
        release,
    };
    Ok(Datagram::Extended { header, fragment, body })
}

/// `<offset>/<total>`, checked against the fragment's length: the bytes must lie inside the total.
fn ncfrag(value: &[u8], len: usize) -> Result<Fragment, Malformed> {
    let slash = value.iter().position(|&b| b == b'/').ok_or(Malformed::BadNcfrag)?;
    let (offset, total) = value.split_at(slash);
    let total = total.get(1..).unwrap_or_default();
    let number = |digits: &[u8]| {
        decimal(digits).and_then(|n| u32::try_from(n).ok()).ok_or(Malformed::BadNcfrag)
    };
    let (offset, total) = (number(offset)?, number(total)?);
    if total == 0 {
        return Err(Malformed::ZeroTotal);
    }
    if len == 0 {
        return Err(Malformed::EmptyFragment);
    }
    let end = u64::from(offset).checked_add(len as u64);
    if end.is_none_or(|end| end > u64::from(total)) {
        return Err(Malformed::BeyondTotal { offset, len, total });
    }
    Ok(Fragment { offset, total })
}

/// A non-empty run of decimal digits as a `u64`; `None` if empty, not digits, or too large.
fn decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &d| {
        let digit = d.checked_sub(b'0').filter(|&d| d <= 9)?;
        n.checked_mul(10)?.checked_add(u64::from(digit))
    })
}

#[cfg(test)]
mod test {
    use super::*;

    fn header(datagram: &[u8]) -> (Header<'_>, Option<Fragment>, &[u8]) {
        match parse(datagram) {
            Ok(Datagram::Extended { header, fragment, body }) => (header, fragment, body),
            other => panic!("not extended: {other:?}"),
        }
    }

    #[test]
    fn selftest_record() {
        let (h, frag, body) =
            header(b"13,1822,115075213798,-;netconsole selftest: netcons_gtJHM\n key=value\n");
        assert_eq!(
            (h.facility, h.level, h.seq, h.ts_us, h.cont),
            (1, 5, 1822, 115075213798, false)
        );
        assert_eq!((h.caller, h.release, frag), (None, None, None));
        assert_eq!(body, b"netconsole selftest: netcons_gtJHM\n key=value\n");
    }

    #[test]
    fn release_caller_and_ncfrag() {
        let (h, frag, body) = header(b"6.18.0,6,1,100,c,caller=T42,ncfrag=969/1048;zz");
        assert_eq!(h.release, Some(&b"6.18.0"[..]));
        assert_eq!(h.caller, Some(&b"T42"[..]));
        assert!(h.cont);
        assert_eq!(frag, Some(Fragment { offset: 969, total: 1048 }));
        assert_eq!(body, b"zz");
    }

    #[test]
    fn numeric_release_is_told_apart_by_the_header() {
        let (h, _, _) = header(b"42,6,1,100,-;x");
        assert_eq!((h.release, h.level, h.seq), (Some(&b"42"[..]), 6, 1));
        // A numeric first field that makes a valid header is the header.
        let (h, _, _) = header(b"6,1,100,-,extra;x");
        assert_eq!((h.release, h.seq), (None, 1));
    }

    #[test]
    fn basic_text() {
        for text in [
            &b"[    1.000000] hello\n"[..],
            b"a;b",
            b"1,2,3 go;",
            b",6,1,100,-;x",
            b"6,1,100,x;y",
            b"6,1,,-;x",
            b"-6,1,100,-;x",
        ] {
            assert_eq!(parse(text), Ok(Datagram::Basic(text)), "{text:?}");
        }
    }

    #[test]
    fn malformed() {
        let cases: [(&[u8], Malformed); 9] = [
            (b"", Malformed::Empty),
            (
                b"6,1,100,-,ncfrag=1000/1000;x",
                Malformed::BeyondTotal { offset: 1000, len: 1, total: 1000 },
            ),
            (
                b"6,1,100,-,ncfrag=4294967295/10;xy",
                Malformed::BeyondTotal { offset: u32::MAX, len: 2, total: 10 },
            ),
            (b"6,1,100,-,ncfrag=0/0;x", Malformed::ZeroTotal),
            (b"6,1,100,-,ncfrag=0/10;", Malformed::EmptyFragment),
            (b"6,1,100,-,ncfrag=0/4294967296;x", Malformed::BadNcfrag),
            (b"6,1,100,-,ncfrag=0/1,ncfrag=0/1;x", Malformed::RepeatedNcfrag),
            (b"4294967296,1,100,-;x", Malformed::NumberTooLarge("prefix")),
            (b"6,18446744073709551616,100,-;x", Malformed::NumberTooLarge("seq")),
        ];
        for (datagram, want) in cases {
            assert_eq!(parse(datagram), Err(want), "{datagram:?}");
        }
        let long_release = [b'r'; RELEASE_MAX + 1];
        let mut datagram = heapless::Vec::<u8, 100>::new();
        datagram.extend_from_slice(&long_release).unwrap();
        datagram.extend_from_slice(b",6,1,100,-;x").unwrap();
        assert_eq!(parse(&datagram), Err(Malformed::ReleaseTooLong(RELEASE_MAX + 1)));
    }

    #[test]
    fn the_cve_message_names_the_numbers() {
        let err = parse(b"6,1,100,-,ncfrag=2000/1000;x").unwrap_err();
        assert_eq!(err.to_string(), "ncfrag offset 2000 + 1 bytes runs past total 1000");
    }
}
