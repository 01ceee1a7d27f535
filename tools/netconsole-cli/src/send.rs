//! `netconsole send`: each line of stdin becomes one console message, sent to the targets of a
//! `netconsole=` option string through an AF_PACKET socket, a TAP device or a pcap file.

use std::io::{self, BufRead as _};
use std::net::IpAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use embedded_hal::delay::DelayNs;
use netconsole::{Netconsole, Sysdata, SystemInfo, Target};
use netconsole_options::Device;
use netpoll_core::{MacAddr, NetPoll, NicEngine, ResolvePolicy, RetryPolicy};
use netpoll_drivers::linux::{InterfaceInfo, PacketSocket, Tap};
use netpoll_drivers::pcap::PcapWriter;

const USAGE: &str = "usage: netconsole send --target '<netconsole= option string>' \
--via <packet|tap:NAME|pcap:FILE>
    [--release STR] [--level N] [--userdata KEY=VALUE ...] [--sysdata cpu,taskname,release,msgid]
    [--local-ip ADDR] [--local-mac MAC]

Each line of stdin is one message (level --level, default 6). Exit status: 0 when everything \
was sent, 1 when something was dropped, 2 for bad arguments.";

/// Targets per console (one console per interface).
const TARGETS: usize = 8;
/// Userdata entries per target.
const USERDATA: usize = 16;
/// Backlog bytes: a burst waits here while the NIC is busy.
const BACKLOG: usize = 64 * 1024;

type Console<D> =
    Netconsole<D, StdDelay, Info, USERDATA, BACKLOG, [Option<Target<USERDATA>>; TARGETS]>;

/// Waits with `std::thread::sleep`.
struct StdDelay;

impl DelayNs for StdDelay {
    fn delay_ns(&mut self, ns: u32) {
        std::thread::sleep(Duration::from_nanos(ns.into()));
    }
}

/// The clock, task and release of this command.
struct Info {
    start: Instant,
    release: String,
}

impl SystemInfo for Info {
    fn timestamp_us(&self) -> u64 {
        self.start.elapsed().as_micros() as u64
    }
    fn task_name(&self) -> &str {
        "netconsole"
    }
    fn release(&self) -> &str {
        &self.release
    }
}

enum Via {
    Packet,
    Tap(String),
    Pcap(String),
}

struct Options {
    target: String,
    via: Via,
    release: String,
    level: u8,
    userdata: Vec<(String, String)>,
    sysdata: Sysdata,
    local_ip: Option<IpAddr>,
    local_mac: Option<MacAddr>,
}

fn parse_args(args: &[String]) -> Result<Options, String> {
    let mut target = None;
    let mut via = None;
    let mut release = String::new();
    let mut level = 6;
    let mut userdata = Vec::new();
    let mut sysdata = Sysdata::default();
    let mut local_ip = None;
    let mut local_mac = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next().map(String::as_str).ok_or_else(|| format!("{name} needs a value"))
        };
        match arg.as_str() {
            "--target" => target = Some(value("--target")?.to_owned()),
            "--via" => {
                let v = value("--via")?;
                via = Some(if v == "packet" {
                    Via::Packet
                } else if let Some(name) = v.strip_prefix("tap:").filter(|n| !n.is_empty()) {
                    Via::Tap(name.to_owned())
                } else if let Some(path) = v.strip_prefix("pcap:").filter(|p| !p.is_empty()) {
                    Via::Pcap(path.to_owned())
                } else {
                    return Err(format!("--via: '{v}' is not packet, tap:NAME or pcap:FILE"));
                });
            }
            "--release" => release = value("--release")?.to_owned(),
            "--level" => {
                let v = value("--level")?;
                level = v
                    .parse::<u8>()
                    .ok()
                    .filter(|l| *l <= 7)
                    .ok_or_else(|| format!("--level: '{v}' is not a level from 0 to 7"))?;
            }
            "--userdata" => {
                let v = value("--userdata")?;
                let (k, val) = v
                    .split_once('=')
                    .ok_or_else(|| format!("--userdata: '{v}' is not KEY=VALUE"))?;
                userdata.push((k.to_owned(), val.to_owned()));
            }
            "--sysdata" => {
                for field in value("--sysdata")?.split(',').filter(|f| !f.is_empty()) {
                    match field {
                        "cpu" => sysdata.cpu = true,
                        "taskname" => sysdata.taskname = true,
                        "release" => sysdata.release = true,
                        "msgid" => sysdata.msgid = true,
                        other => {
                            return Err(format!(
                                "--sysdata: unknown field '{other}' (cpu, taskname, release, msgid)"
                            ))
                        }
                    }
                }
            }
            "--local-ip" => {
                let v = value("--local-ip")?;
                local_ip =
                    Some(v.parse().map_err(|_| format!("--local-ip: '{v}' is not an IP address"))?);
            }
            "--local-mac" => {
                let v = value("--local-mac")?;
                local_mac = Some(
                    v.parse().map_err(|_| format!("--local-mac: '{v}' is not a MAC address"))?,
                );
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument '{other}'")),
        }
    }
    Ok(Options {
        target: target.ok_or("--target is required")?,
        via: via.ok_or("--via is required")?,
        release,
        level,
        userdata,
        sysdata,
        local_ip,
        local_mac,
    })
}

/// A usage error: exit status 2.
struct Usage(String);
/// A runtime error (interface, permission, file): exit status 1.
struct Failure(String);

enum Error {
    Usage(Usage),
    Failure(Failure),
}

impl From<Failure> for Error {
    fn from(f: Failure) -> Self {
        Error::Failure(f)
    }
}

/// `netconsole send ARGS` (the arguments after `send`).
pub fn main(args: &[String]) -> ExitCode {
    let options = match parse_args(args) {
        Ok(o) => o,
        Err(e) if e.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("netconsole send: {e}");
            return ExitCode::from(2);
        }
    };
    match run(&options) {
        Ok(code) => code,
        Err(Error::Usage(Usage(e))) => {
            eprintln!("netconsole: {e}");
            ExitCode::from(2)
        }
        Err(Error::Failure(Failure(e))) => {
            eprintln!("netconsole send: {e}");
            ExitCode::from(1)
        }
    }
}

/// The name of the interface whose MAC is `mac` (in this network namespace).
fn interface_by_mac(mac: MacAddr) -> Result<String, Failure> {
    InterfaceInfo::find_by_mac(mac).map(|info| info.name).map_err(|e| Failure(e.to_string()))
}

fn device_ip(info: &InterfaceInfo, v4: bool) -> Option<IpAddr> {
    if v4 {
        info.ipv4.first().copied().map(IpAddr::V4)
    } else {
        // A global address first, as Linux's netconsole prefers one; a link-local one else.
        let global = info.ipv6.iter().find(|a| (a.segments()[0] & 0xffc0) != 0xfe80);
        global.or(info.ipv6.first()).copied().map(IpAddr::V6)
    }
}

fn run(options: &Options) -> Result<ExitCode, Error> {
    let mut parsed = Vec::new();
    for result in netconsole_options::targets(&options.target) {
        match result {
            Ok(p) => {
                if let Some(w) = p.warning {
                    eprintln!("netconsole: warning: {w}");
                }
                parsed.push(p.target);
            }
            Err(e) => return Err(Error::Usage(Usage(e.to_string()))),
        }
    }
    if parsed.is_empty() {
        return Err(Error::Usage(Usage("no target in the option string".into())));
    }
    let info = || Info { start: Instant::now(), release: options.release.clone() };
    match &options.via {
        Via::Packet => {
            // One socket and one console per distinct interface.
            let mut groups: Vec<(String, Vec<netconsole_options::Target>)> = Vec::new();
            for t in parsed {
                let name = match t.device {
                    Device::Name(n) => n
                        .as_str()
                        .ok_or_else(|| Failure("interface name is not UTF-8".into()))?
                        .to_owned(),
                    Device::Mac(mac) => interface_by_mac(mac)?,
                };
                match groups.iter_mut().find(|(n, _)| *n == name) {
                    Some((_, ts)) => ts.push(t),
                    None => groups.push((name, vec![t])),
                }
            }
            let mut consoles = Vec::new();
            for (name, targets) in groups {
                let nic = PacketSocket::open(&name).map_err(|e| Failure(e.to_string()))?;
                let if_info = nic.info().clone();
                let device = |v4: bool| options.local_ip.or_else(|| device_ip(&if_info, v4));
                consoles.push(make_console(nic, &targets, device, info(), options)?);
            }
            drive(&consoles, options)
        }
        Via::Tap(_) | Via::Pcap(_) => {
            // Check the targets before the device exists: a bad one must not leave a file.
            if let Some(t) = parsed.get(TARGETS) {
                return Err(Error::Usage(Usage(format!(
                    "target '{t}': no room for another target"
                ))));
            }
            for t in &parsed {
                let mut target = Target::<USERDATA>::from_options(t, options.local_ip)
                    .map_err(|e| Error::Usage(Usage(format!("target '{t}': {e}"))))?;
                for (k, v) in &options.userdata {
                    target
                        .userdata
                        .set(k.as_bytes(), v.as_bytes())
                        .map_err(|e| Error::Usage(Usage(format!("--userdata {k}={v}: {e}"))))?;
                }
            }
            run_single(options, &parsed, info())
        }
    }
}

/// `--via tap:` and `--via pcap:`: one device for every target.
fn run_single(
    options: &Options,
    parsed: &[netconsole_options::Target],
    info: Info,
) -> Result<ExitCode, Error> {
    match &options.via {
        Via::Packet => unreachable!("packet sockets are per interface"),
        Via::Tap(name) => {
            let mut nic = Tap::open(name).map_err(|e| Failure(e.to_string()))?;
            if let Some(mac) = options.local_mac {
                nic.set_mac(mac);
            }
            let console = make_console(nic, parsed, |_| options.local_ip, info, options)?;
            drive(&[console], options)
        }
        Via::Pcap(path) => {
            let mut nic = PcapWriter::create(path).map_err(|e| Failure(e.to_string()))?;
            if let Some(mac) = options.local_mac {
                nic = nic.with_mac(mac);
            }
            let console = make_console(nic, parsed, |_| options.local_ip, info, options)?;
            let code = drive(std::slice::from_ref(&console), options)?;
            console
                .with_nic(|np| np.driver().sync())
                .map_err(|e| Failure(format!("pcap file: {e}")))?
                .map_err(|e| Failure(e.to_string()))?;
            Ok(code)
        }
    }
}

fn make_console<D: NetPoll>(
    nic: D,
    targets: &[netconsole_options::Target],
    device_ip: impl Fn(bool) -> Option<IpAddr>,
    info: Info,
    options: &Options,
) -> Result<Box<Console<D>>, Error> {
    let console: Box<Console<D>> = Box::new(Netconsole::new(info));
    let mut netpoll = NicEngine::with_delay(nic, StdDelay);
    // Up to 200 tries 50 µs apart: 10 ms for a frame the kernel's queue does not take at once.
    netpoll.set_retry_policy(RetryPolicy { tries: 200, wait_us: 50 });
    if console.attach(netpoll).is_err() {
        return Err(Failure("cannot attach the NIC".into()).into());
    }
    for t in targets {
        let mut target = Target::<USERDATA>::from_options(t, device_ip(t.remote_ip.is_ipv4()))
            .map_err(|e| Usage(format!("target '{t}': {e}")))
            .map_err(Error::Usage)?;
        for (k, v) in &options.userdata {
            target
                .userdata
                .set(k.as_bytes(), v.as_bytes())
                .map_err(|e| Error::Usage(Usage(format!("--userdata {k}={v}: {e}"))))?;
        }
        target.sysdata = options.sysdata;
        let index = console
            .add_target(target)
            .map_err(|e| Error::Usage(Usage(format!("target '{t}': {e}"))))?;
        let resolve = ResolvePolicy { polls: 100, wait_us: 1000, requests: 3 };
        console
            .enable(index, resolve)
            .map_err(|e| Error::Usage(Usage(format!("target '{t}': {e}"))))?;
    }
    Ok(console)
}

fn drive<D: NetPoll>(consoles: &[Box<Console<D>>], options: &Options) -> Result<ExitCode, Error> {
    let stdin = io::stdin();
    let mut input = stdin.lock();
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = input
            .read_until(b'\n', &mut line)
            .map_err(|e| Failure(format!("cannot read stdin: {e}")))?;
        if n == 0 {
            break;
        }
        if line.last() == Some(&b'\n') {
            line.pop();
        }
        for console in consoles {
            console.log(options.level, &line);
            console.flush();
        }
    }
    let mut dropped = false;
    for console in consoles {
        let mut empty = false;
        for _ in 0..1000 {
            if console.poll() {
                empty = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        let c = console.counters();
        let t = c.targets;
        let lost = c.backlog_full.messages
            + t.link_down.messages
            + t.ring_stuck.messages
            + t.errors.messages;
        eprintln!(
            "netconsole send: {} messages, {} frames, {} bytes; dropped: backlog full {}, \
             link down {}, ring stuck {}, errors {}; deferred {}, truncated {}{}",
            c.messages,
            t.frames,
            t.bytes,
            c.backlog_full.messages,
            t.link_down.messages,
            t.ring_stuck.messages,
            t.errors.messages,
            c.deferred,
            c.truncated,
            if empty {
                String::new()
            } else {
                format!("; {} bytes left unsent", console.backlog_len())
            },
        );
        dropped |= lost > 0 || !empty;
    }
    Ok(if dropped { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
