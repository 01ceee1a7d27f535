//! A QEMU run's `filter-dump` capture, checked with tshark.

use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::process;

/// With tshark: every UDP datagram in the capture has good IPv4 and UDP checksums.
pub(super) fn check_capture(pcap: &Path) -> Vec<String> {
    if !process::available("tshark", &["--version"]) {
        println!("xtask qemu: capture in {} (tshark not found: not decoded)", pcap.display());
        return Vec::new();
    }
    let mut cmd = Command::new("tshark");
    cmd.arg("-r").arg(pcap).args([
        "-o",
        "ip.check_checksum:TRUE",
        "-o",
        "udp.check_checksum:TRUE",
        "-Y",
        "udp",
        "-T",
        "fields",
        "-e",
        "ip.checksum.status",
        "-e",
        "udp.checksum.status",
    ]);
    let out = match output_with_timeout(cmd, Duration::from_secs(60)) {
        Ok(out) => out,
        Err(e) => return vec![format!("tshark on {}: {e}", pcap.display())],
    };
    let rows: Vec<&str> = out.lines().collect();
    // IPv6 has no header checksum: its `ip.checksum.status` is empty, its UDP one is not.
    let bad = rows
        .iter()
        .filter(|r| {
            let fields: Vec<&str> = r.split('\t').map(str::trim).collect();
            let udp_good = fields.get(1) == Some(&"1");
            !udp_good || fields.iter().any(|s| !s.is_empty() && *s != "1")
        })
        .count();
    println!(
        "xtask qemu: capture {}: {} UDP frames, {} with a bad checksum",
        pcap.display(),
        rows.len(),
        bad
    );
    if rows.is_empty() {
        vec![format!("capture {}: no UDP frames", pcap.display())]
    } else if bad > 0 {
        vec![format!("capture {}: {bad} UDP frames with a bad checksum", pcap.display())]
    } else {
        Vec::new()
    }
}

/// A command's stdout, under a deadline.
fn output_with_timeout(mut cmd: Command, limit: Duration) -> Result<String, String> {
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::null()).process_group(0);
    let mut child = cmd.spawn().map_err(|e| e.to_string())?;
    let mut stdout = child.stdout.take().expect("piped");
    let reader = thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut stdout, &mut s);
        s
    });
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() >= deadline => {
                process::kill_group(child.id());
                let _ = child.wait();
                return Err(format!("timed out after {limit:?}"));
            }
            Ok(None) => thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(e.to_string()),
        }
    }
    reader.join().map_err(|_| "reader thread failed".to_string())
}
