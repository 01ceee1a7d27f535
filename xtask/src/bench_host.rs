//! `cargo xtask bench host`: messages per second through `netconsole send --via packet` against
//! a plain `std::net::UdpSocket` loop sending the same payloads, into the same veth pair, in
//! one run, with the ratio.
//!
//! Both senders run in the sending namespace of the demo's pair (two namespaces this xtask
//! creates and deletes), read the same file of lines on stdin and send one datagram per line
//! (`line\n`, as a basic target gets it) to an address nobody listens on, so the receiving side
//! costs both the same (the kernel drops the datagram; its ICMP answers are rate-limited and
//! ignored by both). Each is timed from its start to its exit, as a user would see it, and by
//! the CPU time it used (user + system, the receiving veth's softirq work included, which runs
//! in the sender's system call): on a machine shared with other work the wall time of a round
//! depends on the neighbours, its CPU time much less. The UDP loop is this xtask binary run again
//! with `NETCONSOLE_BENCH_UDP` set (a debug build, but its loop is std's buffered read and one
//! `send_to`, both compiled with optimisations).
//!
//! Needs root (network namespaces). The senders run in alternation, several rounds, and the best
//! round of each is reported.

use std::fs;
use std::io::{BufRead as _, BufReader};
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::demo::{is_root, Netns};
use crate::process::{self, Outcome};

/// Set in the environment of the UDP loop's run: the target address.
const UDP_ENV: &str = "NETCONSOLE_BENCH_UDP";
/// Where the datagrams go: the receiving end of the pair, a port nobody listens on.
const TARGET_IP: &str = "10.99.0.2";
const SOURCE_IP: &str = "10.99.0.1";
const TARGET_PORT: u16 = 6666;
const SOURCE_PORT: u16 = 6665;

/// What to send.
struct Options {
    messages: usize,
    size: usize,
    rounds: usize,
}

impl Options {
    fn parse(args: &[String]) -> Result<Options, String> {
        let mut options = Options { messages: 200_000, size: 100, rounds: 3 };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut number = |name: &str| -> Result<usize, String> {
                let value = args.next().ok_or(format!("{name} needs a value"))?;
                value.parse().map_err(|_| format!("invalid value '{value}' for {name}"))
            };
            match arg.as_str() {
                "--messages" => options.messages = number("--messages")?.max(1),
                "--size" => options.size = number("--size")?.clamp(1, 999),
                "--rounds" => options.rounds = number("--rounds")?.max(1),
                other => return Err(format!("bench host: unknown option `{other}`")),
            }
        }
        Ok(options)
    }
}

/// Runs `bench host` with its arguments (after `host`).
pub fn run(args: &[String]) -> Result<(), String> {
    if let Ok(target) = std::env::var(UDP_ENV) {
        return udp_loop(&target);
    }
    let options = Options::parse(args)?;
    if !is_root() {
        return Err("bench host: needs root, to create the network namespaces it sends in".into());
    }
    let netconsole = crate::cli::netconsole(crate::cli::Profile::Release)?;
    let lines = Lines(write_lines(&options)?);
    let ns = Netns::create()?;
    let peer_mac = ns.recv_mac()?;
    let me = std::env::current_exe().map_err(|e| format!("cannot find the xtask binary: {e}"))?;
    let target =
        format!("{SOURCE_PORT}@{SOURCE_IP}/{},{TARGET_PORT}@{TARGET_IP}/{peer_mac}", ns.send_if);
    println!(
        "bench host: {} messages of {} bytes (+ newline), one basic target, veth {} -> {}, best \
         of {} rounds",
        options.messages, options.size, ns.send_if, ns.recv_if, options.rounds
    );
    // Per sender: the best wall time and the best CPU time of its rounds, in seconds.
    let mut best = [[f64::INFINITY; 2]; 2];
    for _ in 0..options.rounds {
        let mut packet = Command::new("ip");
        packet.args(["netns", "exec", &ns.send]).arg(&netconsole);
        packet.args(["send", "--via", "packet", "--target", &target]);
        let mut udp = Command::new("ip");
        udp.args(["netns", "exec", &ns.send]).arg(&me).args(["bench", "host"]);
        udp.env(UDP_ENV, format!("{TARGET_IP}:{TARGET_PORT}"));
        for (best, cmd) in best.iter_mut().zip([&mut packet, &mut udp]) {
            let (wall, cpu) = timed(cmd, &lines.0)?;
            best[0] = best[0].min(wall);
            best[1] = best[1].min(cpu);
        }
    }
    drop(lines);
    let n = options.messages as f64;
    let [packet, udp] = best.map(|[wall, cpu]| (n / wall, cpu * 1e6 / n));
    println!("  {:<30} {:>14} {:>14}", "", "messages/s", "CPU us/message");
    println!("  {:<30} {:>14.0} {:>14.2}", "netconsole send --via packet", packet.0, packet.1);
    println!("  {:<30} {:>14.0} {:>14.2}", "std::net::UdpSocket loop", udp.0, udp.1);
    println!(
        "  {:<30} {:>14.2} {:>14.2}",
        "ratio packet / UdpSocket",
        packet.0 / udp.0,
        packet.1 / udp.1
    );
    if best[1][1] < 0.2 {
        println!(
            "  (CPU time is counted in clock ticks, 10 ms here: below 0.2 s a round it is rough; \
             use more --messages)"
        );
    }
    Ok(())
}

/// Runs `cmd` with `input` on stdin: its wall time, start to exit, and the CPU time it used, in
/// seconds.
fn timed(cmd: &mut Command, input: &Path) -> Result<(f64, f64), String> {
    let stdin =
        fs::File::open(input).map_err(|e| format!("cannot open {}: {e}", input.display()))?;
    cmd.stdin(stdin).stdout(Stdio::null());
    let cpu_before = children_cpu()?;
    let start = Instant::now();
    match process::run_with_timeout(cmd, Duration::from_secs(300)) {
        Ok(Outcome::Exited(s)) if s.success() => {
            Ok((start.elapsed().as_secs_f64(), children_cpu()? - cpu_before))
        }
        Ok(Outcome::Exited(s)) => Err(format!("{cmd:?} failed: {s}")),
        Ok(Outcome::TimedOut) => Err(format!("{cmd:?} timed out")),
        Err(e) => Err(format!("cannot run {cmd:?}: {e}")),
    }
}

/// User + system CPU seconds of this process's waited-for children so far (`cutime` and
/// `cstime` of /proc/self/stat, in clock ticks).
fn children_cpu() -> Result<f64, String> {
    let stat =
        fs::read_to_string("/proc/self/stat").map_err(|e| format!("/proc/self/stat: {e}"))?;
    // Fields after the parenthesised command name, which may hold spaces: state is field 3,
    // cutime 16 and cstime 17.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i - 3).and_then(|f| f.parse::<f64>().ok());
    let hz = process::output_of("getconf", &["CLK_TCK"])
        .and_then(|s| s.trim().parse::<f64>().ok())
        .unwrap_or(100.0);
    match (ticks(16), ticks(17)) {
        (Some(user), Some(system)) => Ok((user + system) / hz),
        _ => Err("cannot read the children's CPU time from /proc/self/stat".into()),
    }
}

/// The UDP loop: each line of stdin, newline included, as one datagram to `target`.
fn udp_loop(target: &str) -> Result<(), String> {
    // The source address is the route's, as the kernel picks it: the sending end's.
    let socket = UdpSocket::bind(("0.0.0.0", SOURCE_PORT))
        .map_err(|e| format!("cannot bind port {SOURCE_PORT}: {e}"))?;
    let mut input = BufReader::new(std::io::stdin().lock());
    let mut line = Vec::new();
    let mut failed = 0u64;
    loop {
        line.clear();
        match input.read_until(b'\n', &mut line) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => return Err(format!("cannot read stdin: {e}")),
        }
        if socket.send_to(&line, target).is_err() {
            failed += 1;
        }
    }
    if failed > 0 {
        return Err(format!("{failed} datagrams were not sent"));
    }
    Ok(())
}

/// The file of lines, removed on drop (an error on the way included).
struct Lines(PathBuf);

impl Drop for Lines {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

/// A file of `messages` printable lines of `size` bytes each.
fn write_lines(options: &Options) -> Result<PathBuf, String> {
    let path = std::env::temp_dir().join(format!("netconsole-bench-{}.txt", std::process::id()));
    let line: Vec<u8> = (0..options.size).map(|i| b'a' + (i % 26) as u8).collect();
    let mut text = Vec::with_capacity((options.size + 1) * options.messages);
    for _ in 0..options.messages {
        text.extend_from_slice(&line);
        text.push(b'\n');
    }
    fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}
