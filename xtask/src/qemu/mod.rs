//! `cargo xtask qemu <example> ...`: builds a bare-metal example, starts `netconsole listen`
//! on the host, boots the example under QEMU with user networking (the guest's 10.0.2.2 is the
//! host's 127.0.0.1), and checks that every line the firmware logs arrived on every target.
//!
//! Every child runs under a deadline and in its own process group, killed with it. The
//! listener binds one free UDP port per target on the loopback (6666 and up if they are
//! free), and the firmware is built with those ports in its option string
//! (`NETCONSOLE_OPTIONS`), so two runs on one machine do not take each other's datagrams.

mod capture;
mod check;
mod drops;
mod json;
mod lan9118;
mod listener;
mod mem_check;
mod sink;
mod virtio;

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::UdpSocket;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::process;
use capture::check_capture;
use check::{Expectation, Kind, Target};
use listener::Listener;

pub const USAGE: &str =
    "  qemu virtio [--arch riscv64|aarch64] [--modern] [--pcap FILE] [--records N]
              [--targets both|basic|mix] [--sink listen|plain] [--panic-in-tick]
              [--qemu-arg ARG]...
                 boot examples/qemu-virtio under QEMU, check every line arrived at
                 `netconsole listen`; --records N: throughput run, records/s at the host;
                 --targets: one basic and one extended target (both, the default), one basic
                 target, or four (basic, extended, extended with release, basic over IPv6);
                 --sink plain: the xtask's own UDP sockets instead of `netconsole listen`,
                 records checked only (with --records); --panic-in-tick: the closing
                 panic strikes inside the timer's interrupt handler;
                 --qemu-arg: one more QEMU argument (`--qemu-arg -icount --qemu-arg shift=0`)
  qemu lan9118 [--pcap FILE] [--records N] [--targets ...] [--sink ...] [--panic-in-tick]
               [--qemu-arg ARG]...
                 the same for examples/qemu-lan9118 on qemu-system-arm -M mps2-an386;
                 --targets defaults to basic there (the image without the extended format,
                 the one held to the 16 KiB budget); both and mix build it with its
                 `extended` feature
  qemu mem-check
                 boot examples/qemu-lan9118's mem-check: its memcpy/memmove/memset and
                 __aeabi_mem* entry points against a byte loop, on the Cortex-M4";

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
    /// Its default image leaves out the extended format (to fit its flash budget): a run with
    /// an extended target builds it with `--features extended`.
    pub extended_is_a_feature: bool,
}

/// Makes the QEMU command for an ELF file and an optional capture file.
pub type QemuCommand = Box<dyn Fn(&Path, Option<&Path>) -> Command>;

/// What receives the firmware's datagrams on the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HostSide {
    /// `netconsole listen`: every line checked.
    #[default]
    Listen,
    /// The xtask's own UDP sockets, read in batches by one thread: only the records of a
    /// throughput run are checked. It shows what the host's receiver costs the run.
    Plain,
}

/// The host side of one run.
enum Host {
    Listen(Listener),
    Plain(sink::Sink),
}

/// What a run asks for beyond the example.
#[derive(Default)]
pub struct RunOptions {
    pub pcap: Option<PathBuf>,
    pub records: Option<u32>,
    pub targets: TargetSet,
    /// More QEMU arguments (`-icount shift=0` to count guest instructions, `-trace ...`).
    pub qemu_args: Vec<String>,
    /// What receives the datagrams.
    pub sink: HostSide,
    /// The deliberate panic strikes inside the timer's interrupt handler.
    pub panic_in_tick: bool,
}

/// The firmware's targets: the sets the throughput anchor (Linux's own netconsole) was
/// measured with, and the pair every functional run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TargetSet {
    /// One basic and one extended target.
    #[default]
    Both,
    /// One basic target.
    Basic,
    /// Basic, extended, extended with release, basic over IPv6.
    Mix,
}

impl TargetSet {
    fn parse(s: &str) -> Option<TargetSet> {
        match s {
            "both" => Some(TargetSet::Both),
            "basic" => Some(TargetSet::Basic),
            "mix" => Some(TargetSet::Mix),
            _ => None,
        }
    }

    pub fn targets(self) -> &'static [Target] {
        match self {
            TargetSet::Both => &[Target::BASIC, Target::EXTENDED],
            TargetSet::Basic => &[Target::BASIC],
            TargetSet::Mix => {
                &[Target::BASIC, Target::EXTENDED, Target::EXTENDED_RELEASE, Target::BASIC_IPV6]
            }
        }
    }
}

/// The guest's and QEMU's user-network host addresses, and the host's own for each family.
const GUEST_IPV4: &str = "10.0.2.15";
const HOST_IPV4: &str = "10.0.2.2";
const GUEST_IPV6: &str = "fec0::15";
const HOST_IPV6: &str = "fec0::2";
/// QEMU's user network answers for every host address with this MAC; the firmware does no
/// IPv6 neighbour discovery, so the IPv6 target is given it.
const HOST_MAC: &str = "52:55:0a:00:02:02";

/// Where the listener binds for `target` on `port`.
fn bind_address(target: &Target, port: u16) -> String {
    if target.ipv6 {
        format!("[::1]:{port}")
    } else {
        format!("127.0.0.1:{port}")
    }
}

/// The target's piece of the firmware's option string (Linux's `netconsole=` syntax). Each
/// target has a local port of its own (6665, 6666, ...): QEMU's user network sends all
/// datagrams from one guest port through one host socket, and the listener would see two
/// targets as one sender.
fn target_option(index: usize, target: &Target, port: u16) -> String {
    let local = 6665 + index;
    let flags = match (target.kind, target.release) {
        (Kind::Basic, _) => "",
        (Kind::Extended, false) => "+",
        (Kind::Extended, true) => "+r",
    };
    if target.ipv6 {
        format!("{flags}{local}@{GUEST_IPV6}/,{port}@{HOST_IPV6}/{HOST_MAC}")
    } else {
        format!("{flags}{local}@{GUEST_IPV4}/,{port}@{HOST_IPV4}/")
    }
}

/// Limits (a build's is `process::BUILD_LIMIT`): the listener's start, QEMU's run.
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
        "mem-check" if rest.is_empty() => mem_check::run(),
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
            "--panic-in-tick" => options.panic_in_tick = true,
            "--targets" => options.targets = target_set(&value("--targets")?)?,
            "--qemu-arg" => options.qemu_args.push(value("--qemu-arg")?),
            "--sink" => options.sink = host_side(&value("--sink")?)?,
            "--pcap" => options.pcap = Some(PathBuf::from(value("--pcap")?)),
            "--records" => options.records = Some(records(&value("--records")?)?),
            other => return Err(format!("unknown option `{other}`\n{USAGE}")),
        }
    }
    Ok((arch, modern, options))
}

/// The value of `--targets`.
pub(crate) fn target_set(v: &str) -> Result<TargetSet, String> {
    TargetSet::parse(v)
        .ok_or(format!("invalid value '{v}' for --targets (expected both, basic or mix)"))
}

/// The value of `--sink`.
pub(crate) fn host_side(v: &str) -> Result<HostSide, String> {
    match v {
        "listen" => Ok(HostSide::Listen),
        "plain" => Ok(HostSide::Plain),
        _ => Err(format!("invalid value '{v}' for --sink (expected listen or plain)")),
    }
}

/// The value of `--records`: how many records a throughput run sends, 1 or more.
pub(crate) fn records(v: &str) -> Result<u32, String> {
    let n = v.parse::<u32>().ok().filter(|&n| n > 0);
    n.ok_or(format!("invalid value '{v}' for --records (expected 1 or more)"))
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
    let targets = options.targets.targets();
    let netconsole = match (options.sink, options.records) {
        (HostSide::Plain, Some(_)) => None,
        (HostSide::Plain, None) => {
            return Err("--sink plain checks only the records of a --records run".into())
        }
        (HostSide::Listen, Some(_)) => Some(crate::cli::netconsole(crate::cli::Profile::Release)?),
        (HostSide::Listen, None) => Some(crate::cli::netconsole(crate::cli::Profile::Debug)?),
    };
    // Another program may bind a port between the check that it is free and the bind.
    let mut tries = 0;
    let (ports, mut host) = loop {
        let ports = free_ports(targets)?;
        let started = match &netconsole {
            None => {
                let binds: Vec<String> =
                    targets.iter().zip(&ports).map(|(t, &p)| bind_address(t, p)).collect();
                step(&format!("plain UDP sink on {} (records only)", binds.join(", ")));
                sink::Sink::start(targets, &binds).map(Host::Plain)
            }
            Some(netconsole) => {
                Listener::start(netconsole, targets, &ports, options.records.is_some())
                    .map(Host::Listen)
            }
        };
        match started {
            Ok(host) => break (ports, host),
            Err(e) if tries < 3 && e.contains("cannot bind") => {
                tries += 1;
                step(&format!("{e}; trying other ports"));
            }
            Err(e) => return Err(e),
        }
    };
    let elf = build(example, targets, &ports, options)?;
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
    let drops_before = drops::rcvbuf_errors();
    let mut qemu = (example.command)(&elf, pcap);
    qemu.args(&options.qemu_args);
    let (status, serial) = boot(qemu, limit)?;
    let expect = Expectation {
        targets,
        driver: example.driver,
        layout: example.layout,
        records: options.records,
    };
    let (report, received) = match host {
        Host::Listen(ref mut listener) => {
            let messages = listener.finish();
            let received: Vec<String> = targets
                .iter()
                .map(|t| format!("{} {}", messages.iter().filter(|m| t.owns(m)).count(), t.name()))
                .collect();
            (check::check(&messages, &expect), received)
        }
        Host::Plain(sink) => {
            let arrivals = sink.finish(QUIET, QUIET_LIMIT);
            let mut report = check::Report { missing: Vec::new(), records: Vec::new() };
            let mut received = Vec::new();
            for (target, numbered) in targets.iter().zip(arrivals) {
                received.push(format!("{} {}", numbered.len(), target.name()));
                let count = options.records.unwrap_or(0);
                let (stats, lost) = check::records(*target, count, numbered.into_iter());
                report.missing.extend(lost);
                report.records.push(stats);
            }
            (report, received)
        }
    };
    let mut failures = report.missing.clone();
    match status {
        Some(s) if s.success() => {}
        Some(s) => failures.push(format!("QEMU exited with {s}: the firmware saw errors")),
        None => failures.push(format!("QEMU still running after {limit:?}: killed")),
    }
    for stats in &report.records {
        println!(
            "xtask qemu: records at the host, {} target: {} of {} in {:.3} s = {:.0} records/s",
            stats.target.name(),
            stats.arrived,
            options.records.unwrap_or(0),
            stats.seconds,
            stats.per_second()
        );
    }
    for line in serial.iter().filter(|l| l.contains("throughput:")) {
        println!("xtask qemu: firmware says: {}", line.trim());
    }
    let dropped = drops::rcvbuf_errors().zip(drops_before).map(|(a, b)| a.saturating_sub(b));
    if let Some(n @ 1..) = dropped.filter(|_| !report.missing.is_empty()) {
        println!(
            "xtask qemu: the host dropped {n} UDP datagrams for a full socket receive buffer \
             during the run (RcvbufErrors, machine-wide): lost by the listener, not the firmware"
        );
    }
    if let Some(pcap) = pcap {
        failures.extend(check_capture(pcap));
    }
    if failures.is_empty() {
        println!(
            "xtask qemu: ok: {} {} on {}: every {} arrived ({} messages)",
            example.driver,
            example.layout,
            example.qemu,
            if netconsole.is_some() { "line" } else { "record" },
            received.join(", ")
        );
        Ok(())
    } else {
        for f in &failures {
            println!("xtask qemu: MISSING/FAILED: {f}");
        }
        Err(format!("{} problem(s), listed above", failures.len()))
    }
}

/// A run of UDP ports free for `targets` (on 127.0.0.1, or ::1 for IPv6 ones), one each:
/// 6666 and up if they are, else the next free run.
fn free_ports(targets: &[Target]) -> Result<Vec<u16>, String> {
    let n = targets.len() as u16;
    let free = |t: &Target, p: u16| UdpSocket::bind(bind_address(t, p)).is_ok();
    (6666..6766)
        .step_by(usize::from(n))
        .find(|&p| targets.iter().zip(p..).all(|(t, port)| free(t, port)))
        .map(|p| (p..p + n).collect())
        .ok_or_else(|| format!("no run of {n} free UDP ports in 6666..6766 on the loopback"))
}

/// Builds the example with the listener's ports in its option string; returns the ELF.
fn build(
    example: &Example,
    targets: &[Target],
    ports: &[u16],
    run: &RunOptions,
) -> Result<PathBuf, String> {
    let root = crate::test::root();
    let dir = root.join(example.dir);
    let options: Vec<String> =
        targets.iter().zip(ports).enumerate().map(|(i, (t, &p))| target_option(i, t, p)).collect();
    let options = options.join(";");
    let flags = features(example, targets).join(" ");
    step(&format!(
        "building {} for {} {flags}(netconsole={options})",
        example.name,
        example.target,
        flags = if flags.is_empty() { flags } else { flags + " " }
    ));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&dir)
        .args(["build", "--release", "--target", example.target])
        .args(features(example, targets))
        .env("NETCONSOLE_OPTIONS", &options)
        // The example's own .cargo/config.toml gives the linker script; flags from outside
        // would replace it.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    match run.records {
        Some(n) => cmd.env("NETCONSOLE_RECORDS", n.to_string()),
        None => cmd.env_remove("NETCONSOLE_RECORDS"),
    };
    match run.panic_in_tick {
        true => cmd.env("NETCONSOLE_PANIC_IN_TICK", "1"),
        false => cmd.env_remove("NETCONSOLE_PANIC_IN_TICK"),
    };
    process::build(&mut cmd, &format!("building {}", example.name))?;
    Ok(process::target_dir(&dir).join(example.target).join("release").join(example.name))
}

/// The cargo flags that build `example` with what `targets` need.
fn features(example: &Example, targets: &[Target]) -> &'static [&'static str] {
    if example.extended_is_a_feature && targets.iter().any(|t| t.kind == Kind::Extended) {
        &["--features", "extended"]
    } else {
        &[]
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extended_feature_is_asked_for_only_by_a_run_that_needs_it() {
        let lan9118 = lan9118::example();
        assert!(features(&lan9118, TargetSet::Basic.targets()).is_empty());
        assert_eq!(features(&lan9118, TargetSet::Both.targets()), ["--features", "extended"]);
        assert_eq!(features(&lan9118, TargetSet::Mix.targets()), ["--features", "extended"]);
        let virtio = virtio::example(virtio::Arch::Riscv64, false);
        assert!(features(&virtio, TargetSet::Both.targets()).is_empty(), "on by default there");
    }
}
