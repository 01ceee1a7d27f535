//! `cargo xtask bench listen`: how fast `netconsole listen` takes datagrams, what it loses and
//! what it costs, on loopback.
//!
//! Flat out, measured as the issue measured netconsd: the listener is stopped (SIGSTOP), its
//! socket buffer filled with a workload's datagrams, then it is let go (SIGCONT) and timed
//! while it drains the buffer, output to /dev/null. The rate is datagrams taken per second of
//! that drain; CPU time per datagram comes from `/proc/<pid>/stat` over the drain (its inverse
//! is the rate one core sustains, the figure that holds on a machine busy with other work), peak
//! resident memory from `VmHWM`, received, processed and dropped from the listener's summary.
//! Then a fixed-rate run: a sender paced at a given rate for a few seconds into a running
//! listener, which must take all of it.
//!
//! 65,536 senders are 65,536 source addresses on loopback (127.1.0.0/16, port 50000), each
//! datagram sent from a socket bound to its sender's address.

use std::io::{BufRead as _, BufReader};
use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The listener's socket buffer: room for every datagram of a workload.
const RCVBUF: &str = "1024M";
/// The longest a listener may take to start, drain or stop.
const DEADLINE: Duration = Duration::from_secs(60);

/// One workload.
struct Workload {
    name: &'static str,
    senders: u32,
    /// Datagrams per sender.
    each: u32,
    extended: bool,
}

const WORKLOADS: [Workload; 3] = [
    Workload { name: "basic lines, 1 sender", senders: 1, each: 200_000, extended: false },
    Workload { name: "extended, 2 senders", senders: 2, each: 100_000, extended: true },
    Workload { name: "extended, 65,536 senders", senders: 65_536, each: 3, extended: true },
];

/// What one drain measured.
struct Drain {
    sent: u64,
    received: u64,
    processed: u64,
    kernel_drops: u64,
    seconds: f64,
    cpu_seconds: f64,
    peak_rss_kib: u64,
}

/// Runs the benchmark; `args` may hold `--quick` (a tenth of the datagrams) and `--listener
/// PATH` (another build of `netconsole`).
pub fn run(args: &[String]) -> Result<(), String> {
    let quick = args.iter().any(|a| a == "--quick");
    let listener = match args.iter().position(|a| a == "--listener") {
        Some(i) => args.get(i + 1).cloned().ok_or("--listener needs a path")?,
        None => crate::cli::netconsole(crate::cli::Profile::Release)?.display().to_string(),
    };
    println!("listener: {listener}   cores: {}", cores());
    println!(
        "| workload | format | threads | sent | received | processed | kernel drops | \
         datagrams/s | CPU µs/datagram | per core: 1/CPU | peak RSS |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for workload in &WORKLOADS {
        let formats: &[&str] = if workload.senders > 2 { &["text", "json"] } else { &["text"] };
        let mut runs: Vec<(&str, u32)> = formats.iter().map(|f| (*f, 1)).collect();
        if workload.senders > 2 {
            runs.push(("text", 2));
        }
        for (format, threads) in runs {
            let d = drain(&listener, workload, format, threads, quick)?;
            println!(
                "| {} | {format} | {threads} | {} | {} | {} | {} | {:.0}k | {:.2} | {:.0}k/s | \
                 {:.1} MiB |",
                workload.name,
                d.sent,
                d.received,
                d.processed,
                d.kernel_drops,
                d.received as f64 / d.seconds / 1000.0,
                d.cpu_seconds * 1e6 / d.received.max(1) as f64,
                d.received as f64 / d.cpu_seconds.max(1e-9) / 1000.0,
                d.peak_rss_kib as f64 / 1024.0,
            );
        }
    }
    let rate = if quick { 20_000 } else { 100_000 };
    let d = fixed_rate(&listener, rate, if quick { 1 } else { 3 })?;
    println!(
        "\nfixed rate, extended, 1 sender: {} sent at {rate}/s, {} received, {} processed, {} \
         kernel drops, {:.2} CPU µs/datagram, peak RSS {:.1} MiB",
        d.sent,
        d.received,
        d.processed,
        d.kernel_drops,
        d.cpu_seconds * 1e6 / d.received.max(1) as f64,
        d.peak_rss_kib as f64 / 1024.0
    );
    Ok(())
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// A running listener, its stderr line by line.
struct Listener {
    child: Child,
    port: u16,
    stderr: mpsc::Receiver<String>,
}

impl Listener {
    fn start(path: &str, format: &str, threads: u32) -> Result<Listener, String> {
        let port = UdpSocket::bind("127.0.0.1:0")
            .and_then(|s| s.local_addr())
            .map_err(|e| format!("no free port: {e}"))?
            .port();
        let mut child = Command::new(path)
            .args(["listen", "--bind", &format!("127.0.0.1:{port}"), "--rcvbuf", RCVBUF])
            .args(["--format", format, "--threads", &threads.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {path}: {e}"))?;
        let pipe = child.stderr.take().ok_or("no stderr")?;
        let (tx, stderr) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let listener = Listener { child, port, stderr };
        loop {
            match listener.stderr.recv_timeout(DEADLINE) {
                Ok(line) if line.starts_with("listening on") => return Ok(listener),
                Ok(_) => {}
                Err(_) => return Err("the listener did not start".into()),
            }
        }
    }

    fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    fn signal(&self, signal: &str) -> Result<(), String> {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .map_err(|e| format!("kill: {e}"))?;
        status.success().then_some(()).ok_or_else(|| format!("kill -{signal} failed"))
    }

    /// User and system CPU time so far, in seconds.
    fn cpu_seconds(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()));
        let stat = stat.unwrap_or_default();
        // Fields after the command name, which is in parentheses and may hold spaces.
        let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
        // utime and stime are fields 14 and 15 of stat: 12 and 13 after the name.
        (ticks(11) + ticks(12)) as f64 / 100.0
    }

    fn peak_rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()));
        status
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    }

    /// Datagrams waiting in the sockets bound to its port, from `/proc/net/udp`.
    fn queued_bytes(&self) -> u64 {
        let text = std::fs::read_to_string("/proc/net/udp").unwrap_or_default();
        let port = format!(":{:04X}", self.port);
        text.lines()
            .skip(1)
            .filter_map(|line| {
                let columns: Vec<&str> = line.split_whitespace().collect();
                if !columns.get(1)?.ends_with(&port) {
                    return None;
                }
                let (_, rx) = columns.get(4)?.split_once(':')?;
                u64::from_str_radix(rx, 16).ok()
            })
            .sum()
    }

    /// SIGINT, then the numbers of its summary: (datagrams, messages, kernel drops).
    fn stop(mut self) -> Result<(u64, u64, u64), String> {
        self.signal("INT")?;
        let deadline = Instant::now() + DEADLINE;
        let mut summary = None;
        while Instant::now() < deadline {
            if let Ok(line) = self.stderr.recv_timeout(Duration::from_millis(100)) {
                if line.contains(" datagrams, ") {
                    summary = Some(line);
                }
            }
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let summary = summary.ok_or("no summary from the listener")?;
        let number = |suffix: &str| -> u64 {
            summary
                .find(suffix)
                .and_then(|end| {
                    let start = summary[..end].rfind(' ').map_or(0, |i| i + 1);
                    summary[start..end].parse().ok()
                })
                .unwrap_or(0)
        };
        Ok((number(" datagrams,"), number(" messages ("), number(" dropped by the kernel")))
    }
}

/// The `n`th datagram of sender `sender`.
fn datagram(extended: bool, sender: u32, n: u32) -> Vec<u8> {
    if extended {
        format!(
            "6,{n},{},-;netconsole bench: record {n} of sender {sender}, about a hundred bytes\n",
            1_000_000 + u64::from(n) * 37
        )
        .into_bytes()
    } else {
        format!(
            "[{:5}.{:06}] netconsole bench: line {n}, about a hundred bytes of text\n",
            n / 1000,
            n
        )
        .into_bytes()
    }
}

/// Sends every datagram of `workload` to `to`, sender by sender in turn; how many were sent.
fn send_all(workload: &Workload, each: u32, to: SocketAddr) -> Result<u64, String> {
    let mut sent = 0;
    if workload.senders <= 2 {
        let sockets: Vec<UdpSocket> = (0..workload.senders)
            .map(|_| UdpSocket::bind("127.0.0.1:0"))
            .collect::<Result<_, _>>()
            .map_err(|e| format!("cannot bind a sender: {e}"))?;
        for n in 0..each {
            for (i, socket) in sockets.iter().enumerate() {
                socket
                    .send_to(&datagram(workload.extended, i as u32, n), to)
                    .map_err(|e| format!("send: {e}"))?;
                sent += 1;
            }
        }
        return Ok(sent);
    }
    for n in 0..each {
        for sender in 0..workload.senders {
            let src = SocketAddr::from(([127, 1, (sender >> 8) as u8, sender as u8], 50_000));
            let socket = UdpSocket::bind(src).map_err(|e| format!("cannot bind {src}: {e}"))?;
            socket
                .send_to(&datagram(workload.extended, sender, n), to)
                .map_err(|e| format!("send: {e}"))?;
            sent += 1;
        }
    }
    Ok(sent)
}

/// The drain of one workload's datagrams from a full socket buffer.
fn drain(
    path: &str,
    workload: &Workload,
    format: &str,
    threads: u32,
    quick: bool,
) -> Result<Drain, String> {
    let listener = Listener::start(path, format, threads)?;
    let each = if quick { (workload.each / 10).max(1) } else { workload.each };
    listener.signal("STOP")?;
    let sent = send_all(workload, each, listener.addr());
    // Let loopback delivery settle, so that the drain is the listener's work alone.
    std::thread::sleep(Duration::from_millis(500));
    let cpu_before = listener.cpu_seconds();
    let start = Instant::now();
    listener.signal("CONT")?;
    let sent = sent?;
    while listener.queued_bytes() > 0 && start.elapsed() < DEADLINE {
        std::thread::sleep(Duration::from_micros(500));
    }
    let seconds = start.elapsed().as_secs_f64();
    let cpu_seconds = listener.cpu_seconds() - cpu_before;
    let peak_rss_kib = listener.peak_rss_kib();
    let (received, processed, kernel_drops) = listener.stop()?;
    Ok(Drain { sent, received, processed, kernel_drops, seconds, cpu_seconds, peak_rss_kib })
}

/// `rate` extended records a second from one sender for `secs` seconds into a running listener.
fn fixed_rate(path: &str, rate: u32, secs: u32) -> Result<Drain, String> {
    let listener = Listener::start(path, "text", 1)?;
    let socket = UdpSocket::bind("127.0.0.1:0").map_err(|e| format!("bind: {e}"))?;
    let cpu_before = listener.cpu_seconds();
    let start = Instant::now();
    let total = u64::from(rate) * u64::from(secs);
    let mut sent = 0u64;
    while sent < total {
        // Catch up with the clock in millisecond steps.
        let due = (start.elapsed().as_secs_f64() * f64::from(rate)) as u64;
        while sent < due.min(total) {
            let n = u32::try_from(sent).unwrap_or(u32::MAX);
            socket
                .send_to(&datagram(true, 0, n), listener.addr())
                .map_err(|e| format!("send: {e}"))?;
            sent += 1;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    std::thread::sleep(Duration::from_millis(300));
    let seconds = start.elapsed().as_secs_f64();
    let cpu_seconds = listener.cpu_seconds() - cpu_before;
    let peak_rss_kib = listener.peak_rss_kib();
    let (received, processed, kernel_drops) = listener.stop()?;
    Ok(Drain { sent, received, processed, kernel_drops, seconds, cpu_seconds, peak_rss_kib })
}
