//! The conformance table: every example of spec section 1.4, and more cases derived from the
//! rules of 1.2 and 1.3, each with the full expected target or the expected error (kind, offset,
//! Linux's log line) and warning.
//!
//! Each input is also a fuzz seed: `fuzz/seeds/options/` holds one file per input
//! (`seeds_are_in_the_fuzz_corpus` checks; regenerate with
//! `cargo test -p netconsole-options --test conformance -- --ignored write_fuzz_seeds`).

use core::net::IpAddr;
use netconsole_options::{
    parse_target_bytes, targets_bytes, Device, DeviceName, MacAddr, ParseErrorKind as K, PortError,
    Target, Warning, MAX_OPTION_LEN,
};

/// What one piece must give.
#[derive(Debug, Clone)]
enum Expect {
    /// This target, no warning.
    Ok(Target),
    /// This error kind at this offset, with this Display.
    Err(K, usize, &'static str),
    /// As `Err`, with a whitespace warning at this offset.
    ErrWarned(K, usize, &'static str, usize),
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn mac(text: &str) -> MacAddr {
    text.parse().unwrap()
}

/// A target to `remote_ip` with every default.
fn to(remote_ip: &str) -> Target {
    Target::new(ip(remote_ip))
}

fn name(bytes: &[u8]) -> Device {
    Device::Name(DeviceName::new(bytes).unwrap())
}

fn ok(t: Target) -> Expect {
    Expect::Ok(t)
}

fn err(kind: K, offset: usize, display: &'static str) -> Expect {
    Expect::Err(kind, offset, display)
}

const BAD_PORT: K = K::LocalPort(PortError::Invalid);
const BIG_PORT: K = K::LocalPort(PortError::OutOfRange);
const BAD_RPORT: K = K::RemotePort(PortError::Invalid);
const BIG_RPORT: K = K::RemotePort(PortError::OutOfRange);

/// Single-target cases: (input, expected).
fn single_cases() -> Vec<(&'static [u8], Expect)> {
    vec![
        // ---- spec 1.4 ----
        (b"@/,@10.0.0.2/", ok(to("10.0.0.2"))),
        (
            b"4444@10.0.0.1/eth1,9353@10.0.0.2/12:34:56:78:9a:bc",
            ok(to("10.0.0.2")
                .with_local_port(4444)
                .with_local_ip(ip("10.0.0.1"))
                .with_device(name(b"eth1"))
                .with_remote_port(9353)
                .with_remote_mac(mac("12:34:56:78:9a:bc"))),
        ),
        (
            b"+4444@10.0.0.1/eth1,9353@10.0.0.2/12:34:56:78:9a:bc",
            ok(to("10.0.0.2")
                .with_extended(true)
                .with_local_port(4444)
                .with_local_ip(ip("10.0.0.1"))
                .with_device(name(b"eth1"))
                .with_remote_port(9353)
                .with_remote_mac(mac("12:34:56:78:9a:bc"))),
        ),
        (
            b"+r6665@192.168.1.1/eth0,6666@192.168.1.2/",
            ok(to("192.168.1.2")
                .with_extended(true)
                .with_release(true)
                .with_local_ip(ip("192.168.1.1"))),
        ),
        (
            b"r6665@192.168.1.1/eth0,6666@192.168.1.2/",
            err(K::ReleaseWithoutExtended, 0, "Release feature requires extended log message"),
        ),
        (b"@/,@fd00:1:2:3::1/", ok(to("fd00:1:2:3::1"))),
        (b"6665@fd00::1/eth0,6666@fd00::2/", ok(to("fd00::2").with_local_ip(ip("fd00::1")))),
        (
            b"@10.0.0.1/eth0,@fd00::2/",
            err(K::IpFamilyMismatch, 16, "couldn't parse config at 'fd00::2'!"),
        ),
        (b"@/eth0:1,@10.0.0.2/", err(K::DeviceMac, 2, "couldn't parse config at 'eth0:1'!")),
        (b"@/,@10.0.0.2", err(K::RemoteIpUnterminated, 4, "couldn't parse config at '10.0.0.2'!")),
        (b"6665@10.0.0.1/eth0", err(K::DeviceUnterminated, 14, "couldn't parse config at 'eth0'!")),
        (b"70000@/,@10.0.0.2/", err(BIG_PORT, 0, "couldn't parse config at '70000'!")),
        (b"0@/,0@10.0.0.2/", ok(to("10.0.0.2").with_local_port(0).with_remote_port(0))),
        (b"@/,@10.0.0.256/", err(K::RemoteIp, 4, "couldn't parse config at '10.0.0.256'!")),
        (b"@/,@10.0.0/", err(K::RemoteIp, 4, "couldn't parse config at '10.0.0'!")),
        (
            b"6665@/eth0,6666@[fd00::2]/",
            err(K::RemoteIp, 16, "couldn't parse config at '[fd00::2]'!"),
        ),
        (
            b"@/,@10.0.0.2/00:11:22:33:44",
            err(K::RemoteMac, 13, "couldn't parse config at '00:11:22:33:44'!"),
        ),
        (
            b"@/,@10.0.0.2/00-11-22-33-44-55",
            err(K::RemoteMac, 13, "couldn't parse config at '00-11-22-33-44-55'!"),
        ),
        (
            b"@ 10.0.0.1/eth0,@10.0.0.2/",
            err(K::LocalIp, 1, "couldn't parse config at ' 10.0.0.1'!"),
        ),
        (b"@::1/lo,@::2/", ok(to("::2").with_local_ip(ip("::1")).with_device(name(b"lo")))),
        // ---- ports: kstrtou16 ----
        (
            b"65535@/,65535@10.0.0.2/",
            ok(to("10.0.0.2").with_local_port(65535).with_remote_port(65535)),
        ),
        (b"65536@/,@10.0.0.2/", err(BIG_PORT, 0, "couldn't parse config at '65536'!")),
        (b"@/,65536@10.0.0.2/", err(BIG_RPORT, 3, "couldn't parse config at '65536'!")),
        (b"@/,0@10.0.0.2/", ok(to("10.0.0.2").with_remote_port(0))),
        (b"00006665@/,000@10.0.0.2/", ok(to("10.0.0.2").with_local_port(6665).with_remote_port(0))),
        // The first '+' is the extended prefix; the target port's '+' is kstrtou16's.
        (
            b"+7000@/,+7001@10.0.0.2/",
            ok(to("10.0.0.2").with_extended(true).with_local_port(7000).with_remote_port(7001)),
        ),
        (b"++7000@/,@10.0.0.2/", ok(to("10.0.0.2").with_extended(true).with_local_port(7000))),
        (b"++@/,@10.0.0.2/", err(BAD_PORT, 1, "couldn't parse config at '+'!")),
        (b"+++1@/,@10.0.0.2/", err(BAD_PORT, 1, "couldn't parse config at '++1'!")),
        (b"@/,++1@10.0.0.2/", err(BAD_RPORT, 3, "couldn't parse config at '++1'!")),
        (b"0x10@/,@10.0.0.2/", err(BAD_PORT, 0, "couldn't parse config at '0x10'!")),
        (b"-1@/,@10.0.0.2/", err(BAD_PORT, 0, "couldn't parse config at '-1'!")),
        (b"1 @/,@10.0.0.2/", err(BAD_PORT, 0, "couldn't parse config at '1 '!")),
        (b" 1@/,@10.0.0.2/", err(BAD_PORT, 0, "couldn't parse config at ' 1'!")),
        (b"6665\n@/,@10.0.0.2/", ok(to("10.0.0.2"))),
        (b"6665\n\n@/,@10.0.0.2/", err(BAD_PORT, 0, "couldn't parse config at '6665\n\n'!")),
        (
            b"99999999999999999999@/,@10.0.0.2/",
            err(BIG_PORT, 0, "couldn't parse config at '99999999999999999999'!"),
        ),
        (b"70000x@/,@10.0.0.2/", err(BAD_PORT, 0, "couldn't parse config at '70000x'!")),
        (b"@/,6666 @10.0.0.2/", err(BAD_RPORT, 3, "couldn't parse config at '6666 '!")),
        (b"@/,66a@10.0.0.2/", err(BAD_RPORT, 3, "couldn't parse config at '66a'!")),
        // ---- whitespace before the target port: a warning, then kstrtou16 fails ----
        (
            b"@/, 6666@10.0.0.2/",
            Expect::ErrWarned(BAD_RPORT, 3, "couldn't parse config at ' 6666'!", 3),
        ),
        (
            b"@/eth1,\t6666@10.0.0.2/",
            Expect::ErrWarned(BAD_RPORT, 7, "couldn't parse config at '\t6666'!", 7),
        ),
        (b"@/,\n6666@10.0.0.2/", err(BAD_RPORT, 3, "couldn't parse config at '\n6666'!")),
        // No '@' after it: Linux fails before it looks at the whitespace.
        (b"@/, 6666", err(K::RemotePortUnterminated, 3, "couldn't parse config at ' 6666'!")),
        // ---- prefixes ----
        (b"+@/,@10.0.0.2/", ok(to("10.0.0.2").with_extended(true))),
        (b"+r@/,@10.0.0.2/", ok(to("10.0.0.2").with_extended(true).with_release(true))),
        (
            b"r@/,@10.0.0.2/",
            err(K::ReleaseWithoutExtended, 0, "Release feature requires extended log message"),
        ),
        (
            b"r+@/,@10.0.0.2/",
            err(K::ReleaseWithoutExtended, 0, "Release feature requires extended log message"),
        ),
        (b"+rr@/,@10.0.0.2/", err(BAD_PORT, 2, "couldn't parse config at 'r'!")),
        (b"+r+6665@/,@10.0.0.2/", ok(to("10.0.0.2").with_extended(true).with_release(true))),
        (b"R@/,@10.0.0.2/", err(BAD_PORT, 0, "couldn't parse config at 'R'!")),
        (b"+ @/,@10.0.0.2/", err(BAD_PORT, 1, "couldn't parse config at ' '!")),
        // ---- missing delimiters and empty pieces ----
        (b"", err(K::LocalPortUnterminated, 0, "couldn't parse config at ''!")),
        (b"6665", err(K::LocalPortUnterminated, 0, "couldn't parse config at '6665'!")),
        (b"+", err(K::LocalPortUnterminated, 1, "couldn't parse config at ''!")),
        (b"@", err(K::LocalIpUnterminated, 1, "couldn't parse config at ''!")),
        (b"@10.0.0.1", err(K::LocalIpUnterminated, 1, "couldn't parse config at '10.0.0.1'!")),
        (b"@/", err(K::DeviceUnterminated, 2, "couldn't parse config at ''!")),
        (b"@/eth0", err(K::DeviceUnterminated, 2, "couldn't parse config at 'eth0'!")),
        (b"@/,", err(K::RemotePortUnterminated, 3, "couldn't parse config at ''!")),
        (b"@/,6666", err(K::RemotePortUnterminated, 3, "couldn't parse config at '6666'!")),
        (b"@/,@", err(K::RemoteIpUnterminated, 4, "couldn't parse config at ''!")),
        (b"@/,@/", err(K::RemoteIp, 4, "couldn't parse config at ''!")),
        // The '/' of the target IP is found past the ',' : the source IP field swallows it.
        (
            b"@10.0.0.1,@10.0.0.2/",
            err(K::LocalIp, 1, "couldn't parse config at '10.0.0.1,@10.0.0.2'!"),
        ),
        (
            b"6665@/eth0@10.0.0.2/",
            err(K::DeviceUnterminated, 6, "couldn't parse config at 'eth0@10.0.0.2/'!"),
        ),
        // ---- IPv4 forms ----
        (b"@010.000.000.001/,@010.000.000.002/", ok(to("10.0.0.2").with_local_ip(ip("10.0.0.1")))),
        (b"@/,@0.0.0.0/", ok(to("0.0.0.0"))),
        (b"@0.0.0.0/,@255.255.255.255/", ok(to("255.255.255.255").with_local_ip(ip("0.0.0.0")))),
        (b"@/,@1.2.3.4.5/", err(K::RemoteIp, 4, "couldn't parse config at '1.2.3.4.5'!")),
        (b"@/,@1..2.3/", err(K::RemoteIp, 4, "couldn't parse config at '1..2.3'!")),
        (b"@/,@1.2.3.4 /", err(K::RemoteIp, 4, "couldn't parse config at '1.2.3.4 '!")),
        (b"@/,@1.2.3.a/", err(K::RemoteIp, 4, "couldn't parse config at '1.2.3.a'!")),
        (b"@/,@1.2.3.4:6666/", err(K::RemoteIp, 4, "couldn't parse config at '1.2.3.4:6666'!")),
        (b"@10.0.0/,@10.0.0.2/", err(K::LocalIp, 1, "couldn't parse config at '10.0.0'!")),
        (b"@/,@10.0.0.2\n/", ok(to("10.0.0.2"))),
        // ---- IPv6 forms ----
        (b"@/,@::/", ok(to("::"))),
        (b"@/,@::ffff:10.0.0.2/", ok(to("::ffff:10.0.0.2"))),
        (b"@/,@1:2:3:4:5:6:7:8/", ok(to("1:2:3:4:5:6:7:8"))),
        (b"@/,@1:2:3:4:5:6:1.2.3.4/", ok(to("1:2:3:4:5:6:102:304"))),
        (b"@/,@FD00::ABCD/", ok(to("fd00::abcd"))),
        (b"@fe80::1/,@fe80::2/", ok(to("fe80::2").with_local_ip(ip("fe80::1")))),
        (b"@/,@fd00::00002/", ok(to("fd00::2"))),
        (
            b"@10.0.0.1/,@::ffff:10.0.0.2/",
            err(K::IpFamilyMismatch, 12, "couldn't parse config at '::ffff:10.0.0.2'!"),
        ),
        (
            b"@fd00::1/,@10.0.0.2/",
            err(K::IpFamilyMismatch, 11, "couldn't parse config at '10.0.0.2'!"),
        ),
        (b"@/,@fd00::2%eth0/", err(K::RemoteIp, 4, "couldn't parse config at 'fd00::2%eth0'!")),
        (b"@fe80::1%2/,@fe80::2/", err(K::LocalIp, 1, "couldn't parse config at 'fe80::1%2'!")),
        (b"@[fd00::1]/,@fd00::2/", err(K::LocalIp, 1, "couldn't parse config at '[fd00::1]'!")),
        (b"@/,@12345::1/", err(K::RemoteIp, 4, "couldn't parse config at '12345::1'!")),
        (b"@/,@1::2::3/", err(K::RemoteIp, 4, "couldn't parse config at '1::2::3'!")),
        (b"@/,@1:2:3:4:5:6:7/", err(K::RemoteIp, 4, "couldn't parse config at '1:2:3:4:5:6:7'!")),
        (
            b"@/,@1:2:3:4:5:6:7:8:9/",
            err(K::RemoteIp, 4, "couldn't parse config at '1:2:3:4:5:6:7:8:9'!"),
        ),
        (b"@/,@:::/", err(K::RemoteIp, 4, "couldn't parse config at ':::'!")),
        // ---- device ----
        (b"@/eth1,@10.0.0.2/", ok(to("10.0.0.2").with_device(name(b"eth1")))),
        (b"@/0123456789abcde,@10.0.0.2/", ok(to("10.0.0.2").with_device(name(b"0123456789abcde")))),
        (
            b"@/0123456789abcdef,@10.0.0.2/",
            ok(to("10.0.0.2").with_device(name(b"0123456789abcde"))),
        ),
        (
            b"@/a-very-long-interface-name,@10.0.0.2/",
            ok(to("10.0.0.2").with_device(name(b"a-very-long-int"))),
        ),
        // The cut counts bytes: 7 two-byte characters and one digit fill it; 8 characters are
        // cut through the last one, whose first byte is kept.
        (
            "@/ééééééé12,@10.0.0.2/".as_bytes(),
            ok(to("10.0.0.2").with_device(name("ééééééé1".as_bytes()))),
        ),
        (
            "@/éééééééé,@10.0.0.2/".as_bytes(),
            ok(to("10.0.0.2").with_device(name(&"éééééééé".as_bytes()[..15]))),
        ),
        (b"@/eth 0,@10.0.0.2/", ok(to("10.0.0.2").with_device(name(b"eth 0")))),
        (b"@/e/x@y,@10.0.0.2/", ok(to("10.0.0.2").with_device(name(b"e/x@y")))),
        (
            b"@/00:11:22:33:44:55,@10.0.0.2/",
            ok(to("10.0.0.2").with_device(Device::Mac(mac("00:11:22:33:44:55")))),
        ),
        (
            b"@/AA:BB:CC:DD:EE:FF,@10.0.0.2/",
            ok(to("10.0.0.2").with_device(Device::Mac(mac("aa:bb:cc:dd:ee:ff")))),
        ),
        (
            b"@/00:11:22:33:44:55:66,@10.0.0.2/",
            ok(to("10.0.0.2").with_device(Device::Mac(mac("00:11:22:33:44:55")))),
        ),
        (
            b"@/00:11:22:33:44,@10.0.0.2/",
            err(K::DeviceMac, 2, "couldn't parse config at '00:11:22:33:44'!"),
        ),
        (
            b"@/00-11-22-33-44-55,@10.0.0.2/",
            ok(to("10.0.0.2").with_device(name(b"00-11-22-33-44-"))),
        ),
        (b"@/:,@10.0.0.2/", err(K::DeviceMac, 2, "couldn't parse config at ':'!")),
        // ---- target MAC ----
        (b"@/,@10.0.0.2/ff:ff:ff:ff:ff:ff", ok(to("10.0.0.2").with_remote_mac(MacAddr::BROADCAST))),
        (
            b"@/,@10.0.0.2/12:34:56:78:9A:BC",
            ok(to("10.0.0.2").with_remote_mac(mac("12:34:56:78:9a:bc"))),
        ),
        (
            b"@/,@10.0.0.2/00:11:22:33:44:55:66",
            ok(to("10.0.0.2").with_remote_mac(mac("00:11:22:33:44:55"))),
        ),
        (
            b"@/,@10.0.0.2/00:11:22:33:44:55/x",
            ok(to("10.0.0.2").with_remote_mac(mac("00:11:22:33:44:55"))),
        ),
        (
            b"@/,@10.0.0.2/0:11:22:33:44:55",
            err(K::RemoteMac, 13, "couldn't parse config at '0:11:22:33:44:55'!"),
        ),
        (
            b"@/,@10.0.0.2/001122334455",
            err(K::RemoteMac, 13, "couldn't parse config at '001122334455'!"),
        ),
        (
            b"@/,@10.0.0.2/00:11:22:33:44:5g",
            err(K::RemoteMac, 13, "couldn't parse config at '00:11:22:33:44:5g'!"),
        ),
        (
            b"@/,@10.0.0.2/00:11:22:33:44::55",
            err(K::RemoteMac, 13, "couldn't parse config at '00:11:22:33:44::55'!"),
        ),
        (b"@/,@10.0.0.2//", err(K::RemoteMac, 13, "couldn't parse config at '/'!")),
        (b"@/,@10.0.0.2/ ", err(K::RemoteMac, 13, "couldn't parse config at ' '!")),
        // ---- C strings: the input ends at its first NUL ----
        (b"@/,@10.0.0.2/\0garbage", ok(to("10.0.0.2"))),
        (
            b"@/,@10.0.0.2\0/",
            err(K::RemoteIpUnterminated, 4, "couldn't parse config at '10.0.0.2'!"),
        ),
        // ---- bytes that are not UTF-8 ----
        (b"@/\xff\xfe,@10.0.0.2/", ok(to("10.0.0.2").with_device(name(b"\xff\xfe")))),
        (b"@/,@10.0.\xff/", err(K::RemoteIp, 4, "couldn't parse config at '10.0.\u{fffd}'!")),
        // ---- one target only ----
        (
            b"@/,@10.0.0.2/;",
            err(K::TargetSeparator, 13, "more than one target: ';' at byte 13 separates targets"),
        ),
    ]
}

/// Whole option strings through `targets`: (input, one expectation per piece).
fn multi_cases() -> Vec<(&'static [u8], Vec<Expect>)> {
    vec![
        (
            b"@/,@10.0.0.2/;@/eth1,6892@10.0.0.3/",
            vec![
                ok(to("10.0.0.2")),
                ok(to("10.0.0.3").with_device(name(b"eth1")).with_remote_port(6892)),
            ],
        ),
        (
            b"@/,@10.0.0.2/;",
            vec![
                ok(to("10.0.0.2")),
                err(K::LocalPortUnterminated, 14, "couldn't parse config at ''!"),
            ],
        ),
        (
            b";;",
            vec![
                err(K::LocalPortUnterminated, 0, "couldn't parse config at ''!"),
                err(K::LocalPortUnterminated, 1, "couldn't parse config at ''!"),
                err(K::LocalPortUnterminated, 2, "couldn't parse config at ''!"),
            ],
        ),
        (
            b"@/,@10.0.0.2/;r@/,@10.0.0.3/;+@/,@10.0.0.4/",
            vec![
                ok(to("10.0.0.2")),
                err(K::ReleaseWithoutExtended, 14, "Release feature requires extended log message"),
                ok(to("10.0.0.4").with_extended(true)),
            ],
        ),
        (
            b"@/,@10.0.0.2/;@/, 1@10.0.0.3/;@/,@10.0.0/",
            vec![
                ok(to("10.0.0.2")),
                Expect::ErrWarned(BAD_RPORT, 17, "couldn't parse config at ' 1'!", 17),
                err(K::RemoteIp, 34, "couldn't parse config at '10.0.0'!"),
            ],
        ),
        (b"", vec![]),
        (b"\0@/,@10.0.0.2/", vec![]),
    ]
}

/// Checks one result against its expectation; `what` names the case.
fn check(
    what: &str,
    got: Result<netconsole_options::Parsed, netconsole_options::ParseError<'_>>,
    want: &Expect,
) {
    match (want, got) {
        (Expect::Ok(t), Ok(p)) => {
            assert_eq!(&p.target, t, "{what}");
            assert_eq!(p.warning, None, "{what}");
            assert_eq!(p.target.validate(), Ok(()), "{what}");
            // Round trip through the canonical option string.
            let text = p.target.to_option_string();
            let back =
                parse_target_bytes(text.as_bytes()).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(back.target, p.target, "{what}: {text}");
        }
        (Expect::Err(kind, offset, display), Err(e)) => {
            assert_eq!(
                (e.kind(), e.offset(), e.to_string().as_str()),
                (*kind, *offset, *display),
                "{what}"
            );
            assert_eq!(e.warning(), None, "{what}");
        }
        (Expect::ErrWarned(kind, offset, display, at), Err(e)) => {
            assert_eq!(
                (e.kind(), e.offset(), e.to_string().as_str()),
                (*kind, *offset, *display),
                "{what}"
            );
            assert_eq!(e.warning(), Some(Warning::Whitespace { offset: *at }), "{what}");
            assert_eq!(e.warning().unwrap().to_string(), "whitespace is not allowed");
        }
        (want, got) => panic!("{what}: expected {want:?}, got {got:?}"),
    }
}

fn show(input: &[u8]) -> String {
    String::from_utf8_lossy(input).into_owned()
}

#[test]
fn single_targets() {
    let cases = single_cases();
    assert!(cases.len() >= 14 + 40, "{} cases", cases.len());
    for (input, want) in &cases {
        let what = show(input);
        check(&what, parse_target_bytes(input), want);
        // The same piece as a whole option string (unless it is the ';' case).
        if !input.contains(&b';') && !input.starts_with(b"\0") {
            let all: Vec<_> = targets_bytes(input).collect();
            if input.is_empty() {
                assert!(all.is_empty(), "an empty option string holds no target");
            } else {
                assert_eq!(all.len(), 1, "{what}");
                check(&what, all.into_iter().next().unwrap(), want);
            }
        }
    }
}

#[test]
fn several_targets() {
    for (input, wants) in multi_cases() {
        let what = show(input);
        let got: Vec<_> = targets_bytes(input).collect();
        assert_eq!(got.len(), wants.len(), "{what}");
        assert_eq!(targets_bytes(input).len(), wants.len(), "{what}: size_hint");
        for (got, want) in got.into_iter().zip(&wants) {
            check(&what, got, want);
        }
    }
}

#[test]
fn length_limit() {
    // One target of exactly 255 bytes: a 242-byte device name, cut to 15.
    let mut input = b"@/".to_vec();
    input.extend(std::iter::repeat_n(b'd', MAX_OPTION_LEN - 13));
    input.extend(b",@10.0.0.2/");
    assert_eq!(input.len(), MAX_OPTION_LEN);
    let t = parse_target_bytes(&input).unwrap().target;
    assert_eq!(t.device, name(&[b'd'; 15]));
    assert_eq!(targets_bytes(&input).count(), 1);

    input.insert(2, b'd');
    let e = parse_target_bytes(&input).unwrap_err();
    assert_eq!(e.kind(), K::OptionStringTooLong { len: 256 });
    assert_eq!(e.offset(), 255);
    assert_eq!(e.to_string(), "option string too long: 256 bytes, Linux takes at most 255");
    let all: Vec<_> = targets_bytes(&input).collect();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].as_ref().unwrap_err().kind(), K::OptionStringTooLong { len: 256 });

    // What follows a NUL does not count.
    input.truncate(20);
    input.push(0);
    input.extend([b'x'; 300]);
    assert_eq!(parse_target_bytes(&input).unwrap_err().kind(), K::DeviceUnterminated);
}

/// The fuzz seed file name of an input: its FNV-1a hash.
fn seed_name(input: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in input {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("conformance-{h:016x}")
}

fn all_inputs() -> Vec<&'static [u8]> {
    let mut inputs: Vec<&[u8]> = single_cases().into_iter().map(|(i, _)| i).collect();
    inputs.extend(multi_cases().into_iter().map(|(i, _)| i));
    inputs
}

fn seed_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/options")
}

#[test]
fn seeds_are_in_the_fuzz_corpus() {
    for input in all_inputs() {
        let path = seed_dir().join(seed_name(input));
        let stored = std::fs::read(&path).unwrap_or_else(|e| {
            panic!("{}: {e}; run the ignored test write_fuzz_seeds", path.display())
        });
        assert_eq!(stored, input, "{}", path.display());
    }
}

#[test]
#[ignore = "writes fuzz/seeds/options; run by hand when the table changes"]
fn write_fuzz_seeds() {
    std::fs::create_dir_all(seed_dir()).unwrap();
    for input in all_inputs() {
        std::fs::write(seed_dir().join(seed_name(input)), input).unwrap();
    }
}
