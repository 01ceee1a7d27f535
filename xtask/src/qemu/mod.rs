//! `cargo xtask qemu <example> ...`: builds a bare-metal example, starts `netconsole listen`
//! on the host, boots the example under QEMU with user networking (the guest's 10.0.2.2 is the
//! host's 127.0.0.1), and checks that every line the firmware logs arrived on both targets.
//!
//! Every child runs under a deadline and in its own process group, killed with it. The
//! listener binds two free UDP ports on 127.0.0.1 (6666 and 6667 if they are free), and the
//! firmware is built with those ports in its option string (`NETCONSOLE_OPTIONS`), so two
//! runs on one machine do not take each other's datagrams.

mod check;
mod json;
mod lan9118;
mod virtio;

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::UdpSocket;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

use crate::process::{self, Outcome};
use check::{Expectation, Kind, Message};

pub const USAGE: &str =
    "  qemu virtio [--arch riscv64|aarch64] [--modern] [--pcap FILE] [--records N]
                 boot examples/qemu-virtio under QEMU, check every line arrived at
                 `netconsole listen`; --records N: throughput run, records/s at the host
  qemu lan9118 [--pcap FILE] [--records N]
                 the same for examples/qemu-lan9118 on qemu-system-arm -M mps2-an386";

/// A bare-metal example and how QEMU boots it.
pub struct Example {
    /// The crate's name (its binary's name).
    pub name: &'static str,
    /// Its directory, from the repository root.
    pub dir: &'static str,
    /// Its target triple.
    pub target: &'static str,
    /// The QEMU program it needs.
    pub qemu: &'static str,
    /// The driver and register layout the banner names.
    pub driver: &'static str,
    pub layout: &'static str,
    /// The QEMU command for the ELF file, with a capture file if asked for.
    pub command: QemuCommand,
}

/// Makes the QEMU command for an ELF file and an optional capture file.
pub type QemuCommand = Box<dyn Fn(&Path, Option<&Path>) -> Command>;

/// What a run asks for beyond the example.
#[derive(Default)]
pub struct RunOptions {
    pub pcap: Option<PathBuf>,
    pub records: Option<u32>,
}

/// Limits: a build (cold, with crate downloads), the listener's start, QEMU's run.
const BUILD_LIMIT: Duration = Duration::from_secs(900);
const LISTEN_START_LIMIT: Duration = Duration::from_secs(10);
const QEMU_LIMIT: Duration = Duration::from_secs(60);
/// The host stops waiting for datagrams after this long without one, once QEMU has exited.
const QUIET: Duration = Duration::from_millis(1000);
const QUIET_LIMIT: Duration = Duration::from_secs(10);

/// `cargo xtask qemu ...`.
pub fn main(args: &[String]) -> Result<(), String> {
    let Some((example, rest)) = args.split_first() else {
        return Err(format!("which example?\n{USAGE}"));
    };
    match example.as_str() {
        "virtio" => {
            let (arch, modern, options) = parse_virtio(rest)?;
            run(&virtio::example(arch, modern), &options)
        }
        "lan9118" => run(&lan9118::example(), &lan9118::parse(rest)?),
        other => Err(format!("unknown example `{other}`\n{USAGE}")),
    }
}

fn parse_virtio(args: &[String]) -> Result<(virtio::Arch, bool, RunOptions), String> {
    let mut arch = virtio::Arch::Riscv64;
    let mut modern = false;
    let mut options = RunOptions::default();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().cloned().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--arch" => {
                let v = value("--arch")?;
                arch = virtio::Arch::parse(&v).ok_or(format!(
                    "invalid value '{v}' for --arch (expected riscv64 or aarch64)"
                ))?;
            }
            "--modern" => modern = true,
            "--pcap" => options.pcap = Some(PathBuf::from(value("--pcap")?)),
            "--records" => {
                let v = value("--records")?;
                let n = v.parse::<u32>().ok().filter(|&n| n > 0);
                options.records = Some(
                    n.ok_or(format!("invalid value '{v}' for --records (expected 1 or more)"))?,
                );
            }
            other => return Err(format!("unknown option `{other}`\n{USAGE}")),
        }
    }
    Ok((arch, modern, options))
}

/// The QEMU part of `cargo xtask demo`: the riscv64 virtio example when QEMU is installed.
pub fn demo() -> Result<(), String> {
    let example = virtio::example(virtio::Arch::Riscv64, false);
    if !process::available(example.qemu, &["--version"]) {
        println!(
            "\nxtask demo: {} not found, so the bare-metal virtio example is not booted \
             (install QEMU as ../shared/QEMU.md says, then `cargo xtask qemu virtio`)",
            example.qemu
        );
        return Ok(());
    }
    println!("\nxtask demo: {} found: booting the riscv64 virtio-net example", example.qemu);
    run(&example, &RunOptions::default())
}

/// Cargo-style step messages.
fn step(what: &str) {
    println!("xtask qemu: {what}");
}

/// Builds, listens, boots, checks.
pub fn run(example: &Example, options: &RunOptions) -> Result<(), String> {
    if !process::available(example.qemu, &["--version"]) {
        return Err(format!(
            "{} not found: install QEMU as ../shared/QEMU.md (section 1) says, \
             e.g. apt-get install -t bookworm-backports qemu-system-riscv qemu-system-arm",
            example.qemu
        ));
    }
    let netconsole = crate::demo::netconsole_binary()?;
    let (basic_port, extended_port) = free_ports()?;
    let mut listener = Listener::start(&netconsole, basic_port, extended_port)?;
    let elf = build(example, basic_port, extended_port, options.records)?;
    let pcap = options.pcap.as_deref();
    step(&format!(
        "booting {} on {} ({}, {}){}",
        example.name,
        example.qemu,
        example.driver,
        example.layout,
        pcap.map(|p| format!(", capture in {}", p.display())).unwrap_or_default()
    ));
    let limit = QEMU_LIMIT + Duration::from_millis(u64::from(options.records.unwrap_or(0)));
    let (status, serial) = boot((example.command)(&elf, pcap), limit)?;
    let messages = listener.finish();

    let expect =
        Expectation { driver: example.driver, layout: example.layout, records: options.records };
    let report = check::check(&messages, &expect);
    let mut failures = report.missing.clone();
    match status {
        Some(s) if s.success() => {}
        Some(s) => failures.push(format!("QEMU exited with {s}: the firmware saw errors")),
        None => failures.push(format!("QEMU still running after {limit:?}: killed")),
    }
    for stats in &report.records {
        println!(
            "xtask qemu: records at the host, {} target: {} of {} in {:.3} s = {:.0} records/s",
            stats.kind.name(),
            stats.arrived,
            options.records.unwrap_or(0),
            stats.seconds,
            stats.per_second()
        );
    }
    if let Some(line) = serial.iter().find(|l| l.contains("throughput:")) {
        println!("xtask qemu: firmware says: {}", line.trim());
    }
    if let Some(pcap) = pcap {
        failures.extend(check_capture(pcap));
    }
    let received = |k: Kind| messages.iter().filter(|m| m.kind == k).count();
    if failures.is_empty() {
        println!(
            "xtask qemu: ok: {} {} on {}: every line arrived ({} basic, {} extended messages)",
            example.driver,
            example.layout,
            example.qemu,
            received(Kind::Basic),
            received(Kind::Extended)
        );
        Ok(())
    } else {
        for f in &failures {
            println!("xtask qemu: MISSING/FAILED: {f}");
        }
        Err(format!("{} problem(s), listed above", failures.len()))
    }
}

/// Two UDP ports free on 127.0.0.1: 6666 and 6667 if they are, else the next free pair.
fn free_ports() -> Result<(u16, u16), String> {
    let free = |p: u16| UdpSocket::bind(("127.0.0.1", p)).is_ok();
    (6666..6766)
        .step_by(2)
        .find(|&p| free(p) && free(p + 1))
        .map(|p| (p, p + 1))
        .ok_or_else(|| "no free pair of UDP ports in 6666..6766 on 127.0.0.1".into())
}

/// Builds the example with the listener's ports in its option string; returns the ELF.
fn build(
    example: &Example,
    basic: u16,
    extended: u16,
    records: Option<u32>,
) -> Result<PathBuf, String> {
    let root = crate::test::root();
    let dir = root.join(example.dir);
    let options =
        format!("6665@10.0.2.15/,{basic}@10.0.2.2/;+6665@10.0.2.15/,{extended}@10.0.2.2/");
    step(&format!("building {} for {} (netconsole={options})", example.name, example.target));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&dir)
        .args(["build", "--release", "--target", example.target])
        .env("NETCONSOLE_OPTIONS", &options)
        // The example's own .cargo/config.toml gives the linker script; flags from outside
        // would replace it.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    match records {
        Some(n) => cmd.env("NETCONSOLE_RECORDS", n.to_string()),
        None => cmd.env_remove("NETCONSOLE_RECORDS"),
    };
    match process::run_with_timeout(&mut cmd, BUILD_LIMIT) {
        Ok(Outcome::Exited(s)) if s.success() => {}
        Ok(Outcome::Exited(s)) => return Err(format!("building {}: {s}", example.name)),
        Ok(Outcome::TimedOut) => return Err(format!("building {} timed out", example.name)),
        Err(e) => return Err(format!("cannot run cargo: {e}")),
    }
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| dir.join("target"));
    Ok(target_dir.join(example.target).join("release").join(example.name))
}

/// Runs QEMU for at most `limit`, echoing its serial output; returns its exit status (`None`
/// if it had to be killed) and the serial lines.
fn boot(mut cmd: Command, limit: Duration) -> Result<(Option<ExitStatus>, Vec<String>), String> {
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::inherit()).process_group(0);
    let mut child = cmd.spawn().map_err(|e| format!("cannot start QEMU: {e}"))?;
    let stdout = child.stdout.take().expect("piped");
    let reader = thread::spawn(move || {
        let mut lines = Vec::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            println!("  serial | {line}");
            lines.push(line);
        }
        lines
    });
    let deadline = Instant::now() + limit;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() >= deadline => {
                process::kill_group(child.id());
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("waiting for QEMU: {e}")),
        }
    };
    let lines = reader.join().unwrap_or_default();
    let _ = std::io::stdout().flush();
    Ok((status, lines))
}

/// `netconsole listen` on two ports, its JSON lines read as they come.
struct Listener {
    child: Child,
    lines: Receiver<(String, Instant)>,
}

impl Listener {
    fn start(netconsole: &Path, basic: u16, extended: u16) -> Result<Listener, String> {
        step(&format!(
            "netconsole listen on 127.0.0.1:{basic} (basic), 127.0.0.1:{extended} (extended)"
        ));
        let mut cmd = Command::new(netconsole);
        cmd.args(["listen", "--format", "json"])
            .args(["--bind", &format!("127.0.0.1:{basic}")])
            .args(["--bind", &format!("127.0.0.1:{extended}")])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let mut child = cmd.spawn().map_err(|e| format!("cannot start netconsole listen: {e}"))?;
        let (tx, lines) = mpsc::channel();
        let stdout = child.stdout.take().expect("piped");
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send((line, Instant::now())).is_err() {
                    break;
                }
            }
        });
        let (ready_tx, ready) = mpsc::channel();
        let stderr = child.stderr.take().expect("piped");
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.starts_with("listening on") {
                    let _ = ready_tx.send(());
                } else {
                    eprintln!("  listen | {line}");
                }
            }
        });
        let mut listener = Listener { child, lines };
        if ready.recv_timeout(LISTEN_START_LIMIT).is_err() {
            listener.stop();
            return Err(format!("netconsole listen did not bind within {LISTEN_START_LIMIT:?}"));
        }
        Ok(listener)
    }

    /// Waits until no datagram came for a while (bounded), stops the listener and returns
    /// the messages, sorted by target.
    fn finish(&mut self) -> Vec<Message> {
        let mut messages = Vec::new();
        let deadline = Instant::now() + QUIET_LIMIT;
        while let Ok((line, at)) = self.lines.recv_timeout(QUIET) {
            messages.extend(parse(&line, at));
            if Instant::now() >= deadline {
                break;
            }
        }
        self.stop();
        while let Ok((line, at)) = self.lines.try_recv() {
            messages.extend(parse(&line, at));
        }
        messages
    }

    fn stop(&mut self) {
        process::kill_group(self.child.id());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.stop();
        }
    }
}

/// One listen line as a message; `None` for anything else.
fn parse(line: &str, at: Instant) -> Option<Message> {
    use json::Value;
    let object = json::object(line)?;
    let kind = match object.get("kind")? {
        Value::Str(k) if k == "basic" => Kind::Basic,
        Value::Str(k) if k == "extended" => Kind::Extended,
        _ => return None,
    };
    let Value::Str(text) = object.get("text")? else { return None };
    let complete = !matches!(object.get("complete"), Some(Value::Bool(false)));
    Some(Message { kind, text: text.clone(), complete, at })
}

/// With tshark: every UDP datagram in the capture has good IPv4 and UDP checksums.
fn check_capture(pcap: &Path) -> Vec<String> {
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
    let bad = rows.iter().filter(|r| r.split('\t').any(|s| s.trim() != "1")).count();
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
