//! Properties over arbitrary input: no input panics, every error points at its own text, and
//! every valid target survives the trip through its option string.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use netconsole_options::{
    parse_target, parse_target_bytes, targets_bytes, Device, DeviceName, MacAddr, ParseError,
    ParseErrorKind, Parsed, Target, MAX_OPTION_LEN, MAX_TARGET_TEXT_LEN,
};
use proptest::collection::vec;
use proptest::prelude::*;

/// Pieces of option strings, glued at random: reaches deep into the walk far more often than
/// uniform bytes do.
fn option_like() -> impl Strategy<Value = Vec<u8>> {
    let fragment = prop_oneof![
        Just(&b"@"[..]),
        Just(&b"/"[..]),
        Just(&b","[..]),
        Just(&b";"[..]),
        Just(&b":"[..]),
        Just(&b"."[..]),
        Just(&b"+"[..]),
        Just(&b"r"[..]),
        Just(&b" "[..]),
        Just(&b"\t"[..]),
        Just(&b"\n"[..]),
        Just(&b"\0"[..]),
        Just(&b"\xff"[..]),
        Just(&b"6665"[..]),
        Just(&b"65536"[..]),
        Just(&b"0"[..]),
        Just(&b"10.0.0.2"[..]),
        Just(&b"255"[..]),
        Just(&b"fd00::"[..]),
        Just(&b"::ffff:"[..]),
        Just(&b"ffff"[..]),
        Just(&b"eth0"[..]),
        Just(&b"12:34:56:78:9a:bc"[..]),
        Just(&b"[fd00::1]"[..]),
        Just(&b"%eth0"[..]),
        Just(&b"@/,@10.0.0.2/"[..]),
    ];
    vec(fragment, 0..24).prop_map(|parts| parts.concat())
}

/// Runs every entry point on `input` and checks what must hold whatever the input.
fn check_any(input: &[u8]) -> Result<(), TestCaseError> {
    let one = parse_target_bytes(input);
    check_result(input, &one)?;
    let c_len = input.iter().position(|&b| b == 0).unwrap_or(input.len());
    let all: Vec<_> = targets_bytes(input).collect();
    if c_len > MAX_OPTION_LEN {
        prop_assert_eq!(all.len(), 1);
    } else if c_len == 0 {
        prop_assert!(all.is_empty());
    } else {
        let pieces = input[..c_len].iter().filter(|&&b| b == b';').count() + 1;
        prop_assert_eq!(all.len(), pieces);
        // A string without ';' is one piece, parsed the same both ways.
        if pieces == 1 {
            prop_assert_eq!(&all[0], &one);
        }
    }
    for result in &all {
        check_result(input, result)?;
    }
    Ok(())
}

/// An error's `cur` is the input at its offset; a success prints a string that parses back.
fn check_result(
    input: &[u8],
    result: &Result<Parsed, ParseError<'_>>,
) -> Result<(), TestCaseError> {
    match result {
        Ok(parsed) => {
            prop_assert_eq!(parsed.target.validate(), Ok(()));
            let text = parsed.target.to_option_string();
            prop_assert!(text.as_bytes().len() <= MAX_TARGET_TEXT_LEN);
            let back = parse_target_bytes(text.as_bytes());
            prop_assert_eq!(back.map(|p| p.target), Ok(parsed.target), "{}", text);
            if let Some(w) = parsed.warning {
                prop_assert!(matches!(input.get(w.offset()), Some(b' ' | b'\t')));
            }
        }
        Err(e) => {
            let _ = e.to_string();
            let _ = format!("{e:?} {}", e.kind());
            match e.kind() {
                ParseErrorKind::OptionStringTooLong { .. } => {
                    prop_assert_eq!(e.offset(), MAX_OPTION_LEN)
                }
                ParseErrorKind::TargetSeparator => {
                    prop_assert_eq!(input.get(e.offset()), Some(&b';'))
                }
                _ => {
                    let at = input.get(e.offset()..e.offset() + e.cur().len());
                    prop_assert_eq!(at, Some(e.cur()));
                    prop_assert!(!e.cur().contains(&0) && !e.cur().contains(&b';'));
                    let text = e.to_string();
                    prop_assert!(
                        text.starts_with("couldn't parse config at '") && text.ends_with("'!")
                            || text == "Release feature requires extended log message",
                        "{}",
                        text
                    );
                }
            }
            if let Some(w) = e.warning() {
                prop_assert!(matches!(input.get(w.offset()), Some(b' ' | b'\t')));
            }
        }
    }
    Ok(())
}

fn arb_ipv6() -> impl Strategy<Value = Ipv6Addr> {
    // Zero groups often, so that `::` compression and the v4-mapped form are printed.
    let group = prop_oneof![Just(0u16), Just(0xffff), any::<u16>()];
    prop_oneof![
        any::<[u8; 16]>().prop_map(Ipv6Addr::from),
        [
            group.clone(),
            group.clone(),
            group.clone(),
            group.clone(),
            group.clone(),
            group.clone(),
            group.clone(),
            group
        ]
        .prop_map(Ipv6Addr::from),
        any::<[u8; 4]>().prop_map(|q| Ipv4Addr::from(q).to_ipv6_mapped()),
    ]
}

fn arb_ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(|o| IpAddr::V4(o.into())),
        arb_ipv6().prop_map(IpAddr::V6)
    ]
}

fn arb_device() -> impl Strategy<Value = Device> {
    let byte = any::<u8>().prop_filter("not storable", |b| !matches!(b, 0 | b',' | b':' | b';'));
    prop_oneof![
        Just(Device::DEFAULT),
        vec(byte, 1..=15).prop_map(|name| Device::Name(DeviceName::new(&name).unwrap())),
        "[a-z][a-z0-9.-]{0,14}".prop_map(|name| Device::Name(name.parse().unwrap())),
        any::<[u8; 6]>().prop_map(|mac| Device::Mac(MacAddr(mac))),
    ]
}

/// Any target that passes `validate`.
fn arb_target() -> impl Strategy<Value = Target> {
    (
        (any::<bool>(), any::<bool>(), any::<u16>(), any::<u16>()),
        (arb_ip(), any::<Option<[u8; 4]>>(), proptest::option::of(arb_ipv6())),
        arb_device(),
        proptest::option::of(any::<[u8; 6]>()),
    )
        .prop_map(|((extended, release, lport, rport), (remote, v4, v6), device, mac)| {
            let local = match remote {
                IpAddr::V4(_) => v4.map(|o| IpAddr::V4(o.into())),
                IpAddr::V6(_) => v6.map(IpAddr::V6),
            };
            Target {
                extended,
                release: extended && release,
                local_port: lport,
                local_ip: local,
                device,
                remote_port: rport,
                remote_ip: remote,
                remote_mac: mac.map(MacAddr),
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn arbitrary_bytes_never_panic(input in vec(any::<u8>(), 0..300)) {
        check_any(&input)?;
    }

    #[test]
    fn arbitrary_strings_never_panic(input in any::<String>()) {
        check_any(input.as_bytes())?;
        let _ = parse_target(&input);
        let _ = Target::try_from(input.as_str());
    }

    #[test]
    fn option_like_strings_never_panic(input in option_like()) {
        check_any(&input)?;
    }

    #[test]
    fn display_parses_back(target in arb_target()) {
        prop_assert_eq!(target.validate(), Ok(()));
        let bytes = target.to_option_string();
        prop_assert!(bytes.as_bytes().len() <= MAX_TARGET_TEXT_LEN);
        let parsed = parse_target_bytes(bytes.as_bytes()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(parsed.target, target);
        prop_assert_eq!(parsed.warning, None);
        // Display is the same text whenever the device name is UTF-8.
        if let Some(text) = bytes.as_str() {
            prop_assert_eq!(target.to_string(), text);
            prop_assert_eq!(Target::try_from(text), Ok(target));
        }
    }

    #[test]
    fn several_targets_parse_as_their_pieces(ts in vec(arb_target(), 1..4)) {
        let mut joined = Vec::new();
        for (i, t) in ts.iter().enumerate() {
            if i > 0 {
                joined.push(b';');
            }
            joined.extend_from_slice(t.to_option_string().as_bytes());
        }
        prop_assume!(joined.len() <= MAX_OPTION_LEN);
        let got: Vec<_> = targets_bytes(&joined).map(|r| r.map(|p| p.target)).collect();
        let want: Vec<_> = ts.into_iter().map(Ok).collect();
        prop_assert_eq!(got, want);
    }
}
