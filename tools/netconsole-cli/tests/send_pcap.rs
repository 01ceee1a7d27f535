//! `netconsole send --via pcap:FILE` read back by tshark, with IP and UDP checksum validation on:
//! basic and extended targets, IPv4 and IPv6, several ports, release, userdata and sysdata, and
//! lines long enough to be cut into basic chunks and extended fragments, of random bytes
//! (printable, control and non-ASCII). Every frame must be valid and every target's payloads
//! must give back exactly the lines sent: concatenated for a basic target, reassembled here by
//! a reassembler of the test's own (not the crate's receiver) for an extended one.
//!
//! Without tshark the tests print `SKIPPED: <reason>` and pass, unless
//! `NETCONSOLE_REQUIRE_ALL=1`, where they fail. Every child runs under a timeout.

mod common;

use common::{skip, unhex};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// How long any child may run before it is killed and the test fails.
const CHILD_TIMEOUT: Duration = Duration::from_secs(120);
const SENDER_MAC: &str = "02:00:00:00:00:01";

/// A file in the temp directory, unique to this process and `name`, removed when dropped.
struct TempPath(PathBuf);

impl TempPath {
    fn new(name: &str) -> TempPath {
        TempPath(std::env::temp_dir().join(format!("netconsole-cli-{}-{name}", std::process::id())))
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Runs `cmd` with `input` on stdin to its end, under [`CHILD_TIMEOUT`].
fn run(cmd: &mut Command, input: Vec<u8>) -> (ExitStatus, Vec<u8>, String) {
    common::run(cmd, input, CHILD_TIMEOUT)
}

fn tshark_available() -> bool {
    match Command::new("tshark")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    {
        Ok(mut child) => {
            let started = Instant::now();
            loop {
                if let Some(status) = child.try_wait().unwrap() {
                    if status.success() {
                        return true;
                    }
                    skip(&format!("tshark --version failed ({status})"));
                    return false;
                }
                if started.elapsed() > Duration::from_secs(30) {
                    let _ = child.kill();
                    let _ = child.wait();
                    skip("tshark --version timed out");
                    return false;
                }
                thread::sleep(Duration::from_millis(10));
            }
        }
        Err(e) => {
            skip(&format!("tshark is not available: {e}"));
            false
        }
    }
}

/// What tshark says of one frame.
#[derive(Debug)]
struct Frame {
    number: usize,
    ethertype: String,
    eth_src: String,
    eth_dst: String,
    src: String,
    dst: String,
    ip_checksum: String,
    udp_checksum: String,
    src_port: u16,
    dst_port: u16,
    udp_len: usize,
    payload: Vec<u8>,
}

const FIELDS: &[&str] = &[
    "eth.type",
    "eth.src",
    "eth.dst",
    "ip.src",
    "ip.dst",
    "ipv6.src",
    "ipv6.dst",
    "ip.checksum.status",
    "udp.checksum.status",
    "udp.srcport",
    "udp.dstport",
    "udp.length",
    "data.data",
];

/// Every frame of `path` as tshark reads it, IP and UDP checksums validated; `ports` are decoded
/// as plain data (Wireshark takes 6666 and 6667 for IRC).
fn tshark(path: &Path, ports: &[u16]) -> Vec<Frame> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-r").arg(path).args(["-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE"]);
    for port in ports {
        cmd.args(["-d", &format!("udp.port=={port},data")]);
    }
    cmd.args(["-T", "fields", "-E", "separator=/t", "-E", "occurrence=f"]);
    for field in FIELDS {
        cmd.args(["-e", field]);
    }
    let (status, out, err) = run(&mut cmd, Vec::new());
    assert!(status.success(), "tshark failed ({status}): {err}");
    let out = String::from_utf8(out).expect("tshark prints UTF-8");
    out.lines()
        .enumerate()
        .map(|(i, line)| {
            let f: Vec<&str> = line.split('\t').collect();
            assert_eq!(f.len(), FIELDS.len(), "frame {}: {line:?}", i + 1);
            let v6 = f[0] == "0x86dd";
            Frame {
                number: i + 1,
                ethertype: f[0].into(),
                eth_src: f[1].into(),
                eth_dst: f[2].into(),
                src: if v6 { f[5] } else { f[3] }.into(),
                dst: if v6 { f[6] } else { f[4] }.into(),
                ip_checksum: f[7].into(),
                udp_checksum: f[8].into(),
                src_port: f[9].parse().unwrap_or(0),
                dst_port: f[10].parse().unwrap_or(0),
                udp_len: f[11].parse().unwrap_or(0),
                payload: unhex(&f[12].replace(':', "")),
            }
        })
        .collect()
}

/// One target as the test expects it on the wire.
struct Expect {
    name: &'static str,
    v6: bool,
    src: &'static str,
    dst: &'static str,
    src_port: u16,
    dst_port: u16,
    eth_dst: &'static str,
    /// `None` for a basic target; the release prefix (`Some(None)` for none) for an extended one.
    extended: Option<Option<&'static str>>,
}

/// Checks every frame of `frames` (all UDP, except ARP requests when `arp_allowed`), and returns
/// the payloads of each target in `targets`, in order.
fn check_frames(frames: &[Frame], targets: &[Expect], arp_allowed: bool) -> Vec<Vec<Vec<u8>>> {
    let mut payloads = vec![Vec::new(); targets.len()];
    for f in frames {
        let n = f.number;
        if f.ethertype == "0x0806" {
            assert!(arp_allowed, "frame {n}: unexpected ARP frame");
            continue;
        }
        let i = targets
            .iter()
            .position(|t| t.dst_port == f.dst_port && t.dst == f.dst)
            .unwrap_or_else(|| panic!("frame {n} is for no target: {f:?}"));
        let t = &targets[i];
        if t.v6 {
            assert_eq!(f.ethertype, "0x86dd", "frame {n}");
            assert_eq!(f.ip_checksum, "", "frame {n}: IPv6 has no header checksum");
        } else {
            assert_eq!(f.ethertype, "0x0800", "frame {n}");
            assert_eq!(f.ip_checksum, "1", "frame {n}: IPv4 header checksum not Good: {f:?}");
        }
        assert_eq!(f.udp_checksum, "1", "frame {n}: UDP checksum not Good: {f:?}");
        assert_eq!(f.src, t.src, "frame {n}");
        assert_eq!(f.src_port, t.src_port, "frame {n}");
        assert_eq!(f.eth_src, SENDER_MAC, "frame {n}");
        assert_eq!(f.eth_dst, t.eth_dst, "frame {n}");
        assert_eq!(f.udp_len, 8 + f.payload.len(), "frame {n}: UDP length vs payload");
        assert!(!f.payload.is_empty(), "frame {n}: empty payload");
        assert!(f.payload.len() <= 1000, "frame {n}: {} bytes of payload", f.payload.len());
        payloads[i].push(f.payload.clone());
    }
    payloads
}

/// printk's escaping of an extended record's text: bytes below 0x20, from 0x7f and `\` become
/// `\xNN`, lowercase.
fn escape(line: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for &b in line {
        if !(0x20..0x7f).contains(&b) || b == b'\\' {
            out.extend_from_slice(format!("\\x{b:02x}").as_bytes());
        } else {
            out.push(b);
        }
    }
    out
}

/// Reassembles extended datagrams: strips `<release>,`, splits the header at the first `;`,
/// checks level, sequence and flag, and places each fragment at its `ncfrag` offset. Returns
/// the data (what follows the header's `;`) of each record, in sequence order.
fn reassemble(name: &str, release: Option<&str>, datagrams: &[Vec<u8>]) -> Vec<Vec<u8>> {
    // seq -> (total, bytes placed so far by offset)
    let mut records: BTreeMap<u64, (usize, BTreeMap<usize, Vec<u8>>)> = BTreeMap::new();
    for (i, d) in datagrams.iter().enumerate() {
        assert!(d.len() <= 1000, "{name}: datagram {i} is {} bytes", d.len());
        let d = match release {
            Some(r) => {
                let prefix = format!("{r},");
                d.strip_prefix(prefix.as_bytes()).unwrap_or_else(|| {
                    panic!(
                        "{name}: datagram {i} lacks '{prefix}': {:?}",
                        String::from_utf8_lossy(d)
                    )
                })
            }
            None => &d[..],
        };
        let semi = d.iter().position(|&b| b == b';').unwrap_or_else(|| {
            panic!("{name}: datagram {i} has no ';': {:?}", String::from_utf8_lossy(d))
        });
        let header = std::str::from_utf8(&d[..semi]).expect("header is ASCII");
        let body = &d[semi + 1..];
        let fields: Vec<&str> = header.split(',').collect();
        assert_eq!(fields[0], "6", "{name}: datagram {i}: level in {header:?}");
        let seq: u64 = fields[1].parse().unwrap_or_else(|_| panic!("{name}: seq in {header:?}"));
        let _ts: u64 = fields[2].parse().unwrap_or_else(|_| panic!("{name}: time in {header:?}"));
        assert_eq!(fields[3], "-", "{name}: datagram {i}: flag in {header:?}");
        let (offset, total) = match fields.len() {
            4 => (0, body.len()),
            5 => {
                let frag = fields[4].strip_prefix("ncfrag=").expect("ncfrag");
                let (off, total) = frag.split_once('/').expect("off/total");
                (off.parse::<usize>().unwrap(), total.parse::<usize>().unwrap())
            }
            _ => panic!("{name}: datagram {i}: unexpected header {header:?}"),
        };
        if fields.len() == 5 {
            // Linux fills every fragment but the last to exactly 1000 bytes.
            let full = d.len() + release.map_or(0, |r| r.len() + 1) == 1000;
            assert!(full || offset + body.len() == total, "{name}: datagram {i} short");
        }
        let entry = records.entry(seq).or_insert_with(|| (total, BTreeMap::new()));
        assert_eq!(entry.0, total, "{name}: seq {seq}: totals differ");
        assert!(entry.1.insert(offset, body.to_vec()).is_none(), "{name}: seq {seq}: offset twice");
    }
    records
        .into_iter()
        .map(|(seq, (total, parts))| {
            let mut data = Vec::new();
            for (offset, part) in parts {
                assert_eq!(offset, data.len(), "{name}: seq {seq}: gap or overlap at {offset}");
                data.extend_from_slice(&part);
            }
            assert_eq!(data.len(), total, "{name}: seq {seq}: {} of {total} bytes", data.len());
            data
        })
        .collect()
}

/// Deterministic input lines (xorshift): empty, short and long (past 1000 bytes, up to 3000),
/// printable, and random bytes of the whole range but `\n`, non-ASCII and control bytes
/// included; plus the lengths at the 1000-byte chunk boundary.
fn lines() -> Vec<Vec<u8>> {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut lines: Vec<Vec<u8>> = vec![
        b"plain ASCII line".to_vec(),
        Vec::new(),
        "non-ASCII: gr\u{fc}\u{df}e, \u{65e5}\u{672c}, \u{1f600}, back\\slash, tab\there".into(),
        vec![b'a'; 999],
        vec![b'b'; 1000],
        vec![b'c'; 1001],
        vec![b'\\'; 1200],
        (0u8..=255).filter(|&b| b != b'\n').collect(),
    ];
    for i in 0..120 {
        let len = match i % 4 {
            0 => (next() % 80) as usize,
            1 => 900 + (next() % 300) as usize,
            _ => (next() % 3000) as usize,
        };
        let printable = i % 3 == 0;
        let mut line = format!("{i:03} ").into_bytes();
        line.extend((0..len).map(|_| {
            if printable {
                b' ' + (next() % 95) as u8
            } else {
                // Any byte but the line separator.
                match next() as u8 {
                    b'\n' => b'~',
                    b => b,
                }
            }
        }));
        lines.push(line);
    }
    lines
}

fn input(lines: &[Vec<u8>]) -> Vec<u8> {
    let mut input = Vec::new();
    for l in lines {
        input.extend_from_slice(l);
        input.push(b'\n');
    }
    input
}

/// Checks the sender's summary: `N messages, F frames` with the counts expected, nothing
/// dropped, and exit status 0.
fn check_summary(status: ExitStatus, err: &str, messages: usize, frames: usize) {
    assert_eq!(status.code(), Some(0), "netconsole send: {err}");
    let summary = format!("netconsole send: {messages} messages, {frames} frames, ");
    assert!(err.lines().any(|l| l.starts_with(&summary)), "want {summary:?} in:\n{err}");
    assert!(err.contains("dropped: backlog full 0, link down 0, ring stuck 0, errors 0"), "{err}");
    assert!(!err.contains("left unsent"), "{err}");
}

fn netconsole() -> Command {
    Command::new(env!("CARGO_BIN_EXE_netconsole"))
}

/// Basic and extended targets on both families, release, userdata and every sysdata line.
#[test]
fn basic_and_extended_targets_ipv4_and_ipv6_read_back_by_tshark() {
    if !tshark_available() {
        return;
    }
    let pcap = TempPath::new("targets.pcap");
    let release = "6.18.0-rs";
    let targets = [
        Expect {
            name: "basic IPv4",
            v6: false,
            src: "10.0.0.1",
            dst: "10.0.0.2",
            src_port: 6665,
            dst_port: 6666,
            eth_dst: "02:00:00:00:00:02",
            extended: None,
        },
        Expect {
            name: "extended IPv4 with release",
            v6: false,
            src: "10.0.0.1",
            dst: "10.0.0.3",
            src_port: 6664,
            dst_port: 6667,
            eth_dst: "02:00:00:00:00:03",
            extended: Some(Some(release)),
        },
        Expect {
            name: "basic IPv6",
            v6: true,
            src: "fd00::1",
            dst: "fd00::2",
            src_port: 6665,
            dst_port: 5140,
            eth_dst: "02:00:00:00:00:04",
            extended: None,
        },
        Expect {
            name: "extended IPv6",
            v6: true,
            src: "fd00::1",
            dst: "fd00::3",
            src_port: 6663,
            dst_port: 6666,
            eth_dst: "02:00:00:00:00:05",
            extended: Some(None),
        },
    ];
    let option = "6665@10.0.0.1/eth0,6666@10.0.0.2/02:00:00:00:00:02;\
        +r6664@10.0.0.1/eth0,6667@10.0.0.3/02:00:00:00:00:03;\
        6665@fd00::1/eth0,5140@fd00::2/02:00:00:00:00:04;\
        +6663@fd00::1/eth0,6666@fd00::3/02:00:00:00:00:05";
    let lines = lines();
    let (status, _, err) = run(
        netconsole()
            .args(["send", "--via"])
            .arg(format!("pcap:{}", pcap.0.display()))
            .args(["--target", option, "--release", release, "--local-mac", SENDER_MAC])
            .args(["--userdata", "host=test-box", "--userdata", "empty=", "--userdata", "k2=v 2"])
            .args(["--sysdata", "cpu,taskname,release,msgid"]),
        input(&lines),
    );
    assert_eq!(status.code(), Some(0), "netconsole send: {err}");
    let frames = tshark(&pcap.0, &[5140, 6666, 6667]);
    check_summary(status, &err, lines.len(), frames.len());
    let payloads = check_frames(&frames, &targets, false);

    let basic: Vec<u8> = input(&lines);
    for (t, got) in targets.iter().zip(&payloads) {
        match t.extended {
            None => {
                // Raw chunks of at most 1000 bytes, each line with its `\n`.
                assert!(got.iter().all(|p| p.len() <= 1000));
                let mut chunks = 0;
                for l in &lines {
                    chunks += (l.len() + 1).div_ceil(1000);
                }
                assert_eq!(got.len(), chunks, "{}: datagrams", t.name);
                assert_eq!(got.concat(), basic, "{}: payloads differ from the input", t.name);
            }
            Some(release) => {
                let records = reassemble(t.name, release, got);
                assert_eq!(records.len(), lines.len(), "{}: records", t.name);
                for (i, (record, line)) in records.iter().zip(&lines).enumerate() {
                    let mut want = escape(line);
                    want.extend_from_slice(b"\n host=test-box\n k2=v 2\n");
                    want.extend_from_slice(
                        format!(
                            " cpu=0\n taskname=netconsole\n release={}\n msgid={}\n",
                            "6.18.0-rs",
                            i + 1
                        )
                        .as_bytes(),
                    );
                    assert_eq!(
                        String::from_utf8_lossy(record),
                        String::from_utf8_lossy(&want),
                        "{}: record {i}",
                        t.name
                    );
                    assert_eq!(record, &want, "{}: record {i}", t.name);
                }
                // Long lines were fragmented: some datagrams say ncfrag, each at most 1000.
                assert!(got.len() > lines.len(), "{}: nothing was fragmented", t.name);
                assert!(got.iter().any(|d| d.windows(7).any(|w| w == b"ncfrag=")));
            }
        }
    }
}

/// `--local-ip` gives the source address of targets that name none; a target without a MAC
/// address goes to the broadcast address once ARP gets no answer (the capture file answers
/// nothing), and the ARP requests are in the file too.
#[test]
fn local_ip_and_broadcast_ipv4() {
    if !tshark_available() {
        return;
    }
    let pcap = TempPath::new("local-ip-v4.pcap");
    let targets = [Expect {
        name: "extended IPv4, broadcast",
        v6: false,
        src: "192.0.2.7",
        dst: "192.0.2.9",
        src_port: 6665,
        dst_port: 6666,
        eth_dst: "ff:ff:ff:ff:ff:ff",
        extended: Some(None),
    }];
    let lines: Vec<Vec<u8>> = lines().into_iter().take(20).collect();
    let (status, _, err) = run(
        netconsole()
            .args(["send", "--via"])
            .arg(format!("pcap:{}", pcap.0.display()))
            .args(["--target", "+@/,@192.0.2.9/", "--local-ip", "192.0.2.7"])
            .args(["--local-mac", SENDER_MAC]),
        input(&lines),
    );
    assert_eq!(status.code(), Some(0), "netconsole send: {err}");
    let frames = tshark(&pcap.0, &[6666]);
    let arp = frames.iter().filter(|f| f.ethertype == "0x0806").count();
    assert!(arp > 0, "no ARP request in the capture");
    // ARP first, while the target is enabled; then only UDP.
    assert!(frames[..arp].iter().all(|f| f.ethertype == "0x0806"), "{frames:#?}");
    check_summary(status, &err, lines.len(), frames.len() - arp);
    let payloads = check_frames(&frames, &targets, true);
    let records = reassemble(targets[0].name, None, &payloads[0]);
    assert_eq!(records.len(), lines.len());
    for (i, (record, line)) in records.iter().zip(&lines).enumerate() {
        let mut want = escape(line);
        want.push(b'\n');
        assert_eq!(record, &want, "record {i}");
    }
}

/// `--local-ip` with an IPv6 address, a basic target and the default source port.
#[test]
fn local_ip_ipv6_basic() {
    if !tshark_available() {
        return;
    }
    let pcap = TempPath::new("local-ip-v6.pcap");
    let targets = [Expect {
        name: "basic IPv6",
        v6: true,
        src: "2001:db8::7",
        dst: "2001:db8::9",
        src_port: 6665,
        dst_port: 7777,
        eth_dst: "02:00:00:00:00:09",
        extended: None,
    }];
    let lines: Vec<Vec<u8>> = lines().into_iter().skip(3).take(30).collect();
    let (status, _, err) = run(
        netconsole()
            .args(["send", "--via"])
            .arg(format!("pcap:{}", pcap.0.display()))
            .args(["--target", "@/,7777@2001:db8::9/02:00:00:00:00:09"])
            .args(["--local-ip", "2001:db8::7", "--local-mac", SENDER_MAC]),
        input(&lines),
    );
    assert_eq!(status.code(), Some(0), "netconsole send: {err}");
    let frames = tshark(&pcap.0, &[7777]);
    check_summary(status, &err, lines.len(), frames.len());
    let payloads = check_frames(&frames, &targets, false);
    assert_eq!(payloads[0].concat(), input(&lines));
}
