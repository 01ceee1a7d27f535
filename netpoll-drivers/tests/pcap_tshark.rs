//! `PcapWriter` against tshark: frames built by `NicEngine::send_udp` (IPv4 and IPv6, payloads of
//! every interesting size, gathered from odd-length slices) are written to a pcap file, and
//! tshark, with IP and UDP checksum validation on, must find every checksum good and every
//! payload equal to what was sent. Also the writer's errors on bad paths.
//!
//! Without tshark the tshark test prints `SKIPPED: <reason>` and passes, unless
//! `NETCONSOLE_REQUIRE_ALL=1` is set (as `cargo xtask test --require-all` sets it): then it fails.
#![cfg(feature = "pcap")]

mod support;

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use std::{fs, io};

use netpoll_core::{Endpoint, MacAddr, NetPoll, NicEngine};
use netpoll_drivers::pcap::{self, PcapWriter};
use support::{run, skip};

/// A path in the temp directory, unique to this process and `name`, removed when dropped.
struct TempPath(PathBuf);

impl TempPath {
    fn new(name: &str) -> TempPath {
        TempPath(std::env::temp_dir().join(format!("netpoll-{}-{name}", std::process::id())))
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

/// Deterministic bytes (xorshift), so a failure can be replayed.
struct Bytes(u64);

impl Bytes {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn vec(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}

fn endpoint(local: &str, remote: &str) -> Endpoint {
    let mut e = Endpoint::new(local.parse::<IpAddr>().unwrap(), remote.parse::<IpAddr>().unwrap());
    e.remote_mac = Some(MacAddr([0x02, 0, 0, 0, 0, 0x22]));
    e
}

/// Payload sizes worth checking for one family, largest (one full MTU) included.
fn sizes(max: usize) -> Vec<usize> {
    let mut sizes = vec![0, 1, 2, 3, 17, 18, 19, 100, 999, 1000, 1001, max - 1, max];
    let mut rng = Bytes(0x5eed);
    sizes.extend((0..40).map(|_| rng.next() as usize % (max + 1)));
    sizes
}

/// Sends every payload through a `PcapWriter` at `path`, each gathered from uneven slices.
fn write_capture(path: &Path, frames: &[(Endpoint, Vec<u8>)]) {
    let writer = PcapWriter::create(path).expect("create pcap");
    let mut netpoll = NicEngine::new(writer);
    for (i, (to, payload)) in frames.iter().enumerate() {
        // Split at odd offsets, so the checksum must carry odd bytes across slices.
        let a = (i * 7 + 1).min(payload.len());
        let b = (a + i * 13 + 3).min(payload.len());
        let parts = [&payload[..a], &payload[a..b], &payload[b..]];
        netpoll.send_udp(to, &parts).expect("send_udp");
    }
    let counters = netpoll.driver().counters();
    assert_eq!(counters.frames_written, frames.len() as u64);
    assert_eq!(counters.write_errors, 0);
}

fn frames() -> Vec<(Endpoint, Vec<u8>)> {
    let v4 = endpoint("192.0.2.1", "192.0.2.2");
    let v6 = endpoint("2001:db8::1", "2001:db8::2");
    let mut bytes = Bytes(0x1234_5678_9abc_def0);
    let mut frames = Vec::new();
    for len in sizes(1472) {
        frames.push((v4, bytes.vec(len)));
    }
    for len in sizes(1452) {
        frames.push((v6, bytes.vec(len)));
    }
    // All ones and all zeros: the checksum edge cases (a sum that folds to 0xffff or 0).
    for fill in [0x00, 0xff] {
        for len in [1, 2, 64, 1472] {
            frames.push((v4, vec![fill; len]));
        }
        for len in [1, 2, 64, 1452] {
            frames.push((v6, vec![fill; len]));
        }
    }
    frames
}

/// tshark's verdict on every frame of `path`, one line each: ethertype, IPv4 header checksum
/// status, UDP checksum status (1 Good, 0 Bad), UDP length, payload in hex.
fn tshark_fields(path: &Path) -> String {
    let out = run(
        Command::new("tshark")
            .arg("-r")
            .arg(path)
            .args(["-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE"])
            // Port 6666 is IRC's: decode our datagrams as plain data.
            .args(["-d", "udp.port==6666,data"])
            .args(["-T", "fields", "-E", "separator=/t", "-E", "occurrence=f"])
            .args(["-e", "eth.type", "-e", "ip.checksum.status", "-e", "udp.checksum.status"])
            .args(["-e", "udp.length", "-e", "data.data"]),
        Duration::from_secs(120),
    )
    .expect("run tshark");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "tshark failed: {}\n{stderr}", out.status);
    String::from_utf8(out.stdout).expect("tshark prints UTF-8")
}

fn tshark_available() -> bool {
    match run(Command::new("tshark").arg("--version"), Duration::from_secs(30)) {
        Ok(out) if out.status.success() => true,
        Ok(out) => {
            skip(&format!("tshark --version failed ({})", out.status));
            false
        }
        Err(e) => {
            skip(&format!("tshark is not available: {e}"));
            false
        }
    }
}

#[test]
fn tshark_flags_a_corrupted_frame() {
    // The control: the same check does see a bad checksum, so a pass above means something.
    if !tshark_available() {
        return;
    }
    let path = TempPath::new("corrupt.pcap");
    let to = endpoint("192.0.2.1", "192.0.2.2");
    write_capture(&path.0, &[(to, b"payload".to_vec()), (to, b"payload".to_vec())]);
    let mut bytes = fs::read(&path.0).expect("read back");
    let first = pcap::FILE_HEADER_LEN + pcap::RECORD_HEADER_LEN;
    let second = first + 60 + pcap::RECORD_HEADER_LEN;
    bytes[first + 14 + 20 + 8] ^= 0x01; // a payload byte of frame 1: UDP checksum now wrong
    bytes[second + 14 + 8] ^= 0x01; // the TTL of frame 2: IPv4 header checksum now wrong
    fs::write(&path.0, &bytes).expect("write back");
    let stdout = tshark_fields(&path.0);
    let lines: Vec<Vec<&str>> = stdout.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert_eq!((lines[0][1], lines[0][2]), ("1", "0"), "{stdout}");
    assert_eq!(lines[1][1], "0", "{stdout}");
}

#[test]
fn tshark_validates_every_frame() {
    if !tshark_available() {
        return;
    }
    let path = TempPath::new("tshark.pcap");
    let frames = frames();
    write_capture(&path.0, &frames);

    let stdout = tshark_fields(&path.0);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), frames.len(), "tshark read {} frames", lines.len());

    for (n, (line, (to, payload))) in lines.iter().zip(&frames).enumerate() {
        let fields: Vec<&str> = line.split('\t').collect();
        assert_eq!(fields.len(), 5, "frame {}: {line:?}", n + 1);
        let (ethertype, ip_csum, udp_csum, udp_len, data) =
            (fields[0], fields[1], fields[2], fields[3], fields[4]);
        if to.remote_ip.is_ipv4() {
            assert_eq!(ethertype, "0x0800", "frame {}", n + 1);
            assert_eq!(ip_csum, "1", "frame {}: IPv4 header checksum not Good: {line}", n + 1);
        } else {
            assert_eq!(ethertype, "0x86dd", "frame {}", n + 1);
            assert_eq!(ip_csum, "", "frame {}: IPv6 has no header checksum", n + 1);
        }
        assert_eq!(udp_csum, "1", "frame {}: UDP checksum not Good: {line}", n + 1);
        assert_eq!(udp_len, (8 + payload.len()).to_string(), "frame {}", n + 1);
        let hex: String = payload.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(data.replace(':', ""), hex, "frame {}: payload differs", n + 1);
    }
}

#[test]
fn frames_are_padded_to_60_bytes_in_the_file() {
    let path = TempPath::new("padding.pcap");
    let to = endpoint("192.0.2.1", "192.0.2.2");
    write_capture(&path.0, &[(to, b"x".to_vec())]);
    let bytes = fs::read(&path.0).expect("read back");
    assert_eq!(&bytes[..pcap::FILE_HEADER_LEN], &pcap::file_header());
    let record = &bytes[pcap::FILE_HEADER_LEN..];
    assert_eq!(record.len(), pcap::RECORD_HEADER_LEN + 60);
    // 14 + 20 + 8 + 1 = 43 bytes of frame, then zeros.
    assert!(record[pcap::RECORD_HEADER_LEN + 43..].iter().all(|&b| b == 0));
}

#[test]
fn missing_directory_is_one_clear_line_and_no_file() {
    let dir = TempPath::new("no-such-dir");
    let path = dir.0.join("out.pcap");
    let err = PcapWriter::create(&path).expect_err("cannot create in a missing directory");
    let msg = err.to_string();
    assert_eq!(err.kind(), io::ErrorKind::NotFound);
    assert!(msg.starts_with("cannot create pcap file '"), "{msg}");
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(!msg.contains('\n'), "{msg}");
    assert!(!path.exists() && !dir.0.exists());
}

#[test]
fn directory_path_is_one_clear_line() {
    let dir = std::env::temp_dir();
    let err = PcapWriter::create(&dir).expect_err("a directory is not a pcap file");
    let msg = err.to_string();
    assert!(msg.starts_with("cannot create pcap file '"), "{msg}");
    assert!(!msg.contains('\n'), "{msg}");
    assert!(dir.is_dir());
}

#[test]
fn unwritable_file_is_one_clear_line_and_no_partial_file() {
    // /dev/full opens but every write fails: the header write fails, and the device, not being
    // a regular file, is left alone.
    if !Path::new("/dev/full").exists() {
        return skip("/dev/full is missing");
    }
    let err = PcapWriter::create("/dev/full").expect_err("/dev/full takes no header");
    let msg = err.to_string();
    assert!(msg.starts_with("cannot write the pcap header to '/dev/full': "), "{msg}");
    assert!(!msg.contains('\n'), "{msg}");
    assert!(Path::new("/dev/full").exists());
}

#[test]
fn read_only_file_is_refused_and_left_as_it_was() {
    use std::os::unix::fs::PermissionsExt;
    if nix_is_root() {
        // Root writes through permission bits; the case needs an unprivileged user.
        return println!("(root ignores permission bits: the read-only case is not observable)");
    }
    let path = TempPath::new("read-only.pcap");
    fs::write(&path.0, b"keep").expect("write");
    fs::set_permissions(&path.0, fs::Permissions::from_mode(0o444)).expect("chmod");
    let err = PcapWriter::create(&path.0).expect_err("read-only file");
    assert_eq!(err.kind(), io::ErrorKind::PermissionDenied);
    assert_eq!(fs::read(&path.0).expect("still there"), b"keep");
}

fn nix_is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

#[test]
fn the_writer_is_a_nic_that_never_receives_and_is_always_up() {
    let path = TempPath::new("nic.pcap");
    let mac = MacAddr([0x02, 1, 2, 3, 4, 5]);
    let mut w = PcapWriter::create(&path.0).expect("create").with_mac(mac);
    assert_eq!(w.mac_address(), mac);
    assert!(w.link_up());
    let mut got = 0;
    w.receive(64, &mut |_| got += 1);
    assert_eq!(got, 0);
    assert_eq!(w.path(), path.0);
}
