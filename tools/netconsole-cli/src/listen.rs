//! `netconsole listen`: UDP sockets around [`netconsole::receive::Receiver`], messages on stdout.
//!
//! `--threads N` threads, each with one socket per `--bind` (`SO_REUSEPORT`) and a receiver of
//! its own (see [`worker`]); the main thread binds, waits for a signal, `--count`,
//! `--idle-exit` or a failed socket, prints the `--stats` line, and at the end the summary.

mod forward;
mod report;
mod socket;
mod worker;

use std::net::SocketAddr;
use std::os::unix::net::UnixStream;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use netconsole::receive::Config;
use nix::poll::{PollFd, PollFlags, PollTimeout};
use std::os::fd::AsFd as _;

use crate::args::{invalid, Options as Args};
use crate::output::{Format, Writer};
use report::{Limiter, Totals};
use worker::{Shared, Worker};

const USAGE: &str =
    "usage: netconsole listen [--bind ADDR:PORT ...] [--format text|json|rfc5424] [--escaped]
    [--count N] [--idle-exit SECS] [--frag-timeout MS] [--rcvbuf BYTES] [--threads N]
    [--stats SECS] [--forward udp://HOST:PORT|tcp://HOST:PORT]

Receives netconsole datagrams (basic and extended, ncfrag fragments reassembled) and prints one
message per line. --bind may be repeated; the default [::]:6666 takes IPv4 too. Prints
'listening on ...' to stderr once every socket is bound.

  --format text|json|rfc5424
                      text: the sender's address and the message, as dmesg shows it (a record
                      with newlines goes on, indented); json: one object per message;
                      rfc5424: syslog, the record's facility and level as PRI, the sender as
                      HOSTNAME, its header and fields as structured data
  --escaped           keep printk's \\xNN escapes of extended records as sent (default: decoded)
  --count N           exit after N messages
  --idle-exit SECS    exit after SECS seconds without a datagram
  --frag-timeout MS   how long a fragmented record waits for the rest (default 1000)
  --rcvbuf BYTES      socket receive buffer, e.g. 512K or 32M (default 16M; beyond
                      net.core.rmem_max only as root); what the kernel still drops is counted
  --threads N         receive on N threads (default 1), senders spread over them by address
  --stats SECS        a stats line on stderr every SECS seconds
  --forward URL       send messages to a syslog server instead of stdout: one UDP datagram
                      each, or over TCP (octet-counted for rfc5424); --format defaults to
                      rfc5424 then

SIGINT or SIGTERM: pending messages are printed (marked incomplete), then the summary, exit 0.
Exits 2 for bad arguments, 1 when a socket fails.";

/// The default `--bind`: IPv6 any, which on Linux also takes IPv4 (`IPV6_V6ONLY` is off).
const DEFAULT_BIND: &str = "[::]:6666";
/// The default `--rcvbuf`: room for about ten thousand netconsole datagrams, a burst of a few
/// tens of milliseconds at full speed; Linux's default (208 KiB) holds about a hundred.
const DEFAULT_RCVBUF: usize = 16 << 20;
/// At most this many `--threads`.
const THREADS_MAX: usize = 64;

/// What the command line asked for.
#[derive(Debug, PartialEq)]
struct Options {
    binds: Vec<SocketAddr>,
    format: Format,
    escaped: bool,
    count: Option<u64>,
    idle_exit: Option<Duration>,
    frag_timeout_ms: u64,
    rcvbuf: usize,
    threads: usize,
    stats: Option<Duration>,
    forward: Option<forward::Target>,
}

/// Runs `netconsole listen` with `args` (the words after `listen`).
pub fn main(args: &[String]) -> ExitCode {
    let options = match parse_args(args) {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            eprintln!("netconsole listen: {error}");
            return ExitCode::from(2);
        }
    };
    match run(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("netconsole listen: {error}");
            ExitCode::from(1)
        }
    }
}

/// Seconds, as a duration: `5`, `0.5`; with `positive`, more than 0.
fn seconds(args: &mut Args<'_>, name: &str, positive: bool) -> Result<Duration, String> {
    let value = args.value(name)?;
    let seconds = value.parse::<f64>().ok();
    let duration = seconds.and_then(|s| Duration::try_from_secs_f64(s).ok());
    match duration {
        Some(d) if positive && d.is_zero() => Err(invalid(name, value, "seconds, more than 0")),
        Some(d) => Ok(d),
        None => Err(invalid(name, value, "seconds, e.g. 5 or 0.5")),
    }
}

/// Bytes, with an optional `K` or `M` (binary) suffix.
fn bytes(value: &str) -> Option<usize> {
    let (digits, unit) = match value.strip_suffix(['K', 'k']) {
        Some(digits) => (digits, 1 << 10),
        None => match value.strip_suffix(['M', 'm']) {
            Some(digits) => (digits, 1 << 20),
            None => (value, 1),
        },
    };
    digits.parse::<usize>().ok()?.checked_mul(unit).filter(|&n| n <= i32::MAX as usize)
}

/// The options, or `None` for `--help`.
fn parse_args(args: &[String]) -> Result<Option<Options>, String> {
    let mut options = Options {
        binds: Vec::new(),
        format: Format::Text,
        escaped: false,
        count: None,
        idle_exit: None,
        frag_timeout_ms: Config::DEFAULT.frag_timeout_ms,
        rcvbuf: DEFAULT_RCVBUF,
        threads: 1,
        stats: None,
        forward: None,
    };
    let mut format = None;
    let mut args = Args::new(args);
    while let Some(name) = args.next_name()? {
        match name {
            "--bind" => {
                let value = args.value(name)?;
                options.binds.push(bind_addr(value).ok_or_else(|| {
                    invalid(name, value, "ADDR:PORT, e.g. [::]:6666 or 127.0.0.1:6666")
                })?);
            }
            "--format" => {
                format = Some(match args.value(name)? {
                    "text" => Format::Text,
                    "json" => Format::Json,
                    "rfc5424" => Format::Rfc5424,
                    other => return Err(invalid(name, other, "text, json or rfc5424")),
                })
            }
            "--escaped" => options.escaped = true,
            "--count" => {
                let count: u64 = args.parsed(name, "a whole number, at least 1")?;
                if count == 0 {
                    return Err(invalid(name, "0", "a whole number, at least 1"));
                }
                options.count = Some(count);
            }
            "--idle-exit" => options.idle_exit = Some(seconds(&mut args, name, false)?),
            "--frag-timeout" => {
                options.frag_timeout_ms = args.parsed(name, "milliseconds, a whole number")?;
            }
            "--rcvbuf" => {
                let value = args.value(name)?;
                options.rcvbuf = bytes(value)
                    .ok_or_else(|| invalid(name, value, "bytes, e.g. 212992, 512K or 32M"))?;
            }
            "--threads" => {
                let expected = "a whole number from 1 to 64";
                let value = args.value(name)?;
                let threads = value.parse::<usize>().ok();
                options.threads = threads
                    .filter(|n| (1..=THREADS_MAX).contains(n))
                    .ok_or_else(|| invalid(name, value, expected))?;
            }
            "--stats" => options.stats = Some(seconds(&mut args, name, true)?),
            "--forward" => {
                let value = args.value(name)?;
                let expected = "udp://HOST:PORT or tcp://HOST:PORT";
                options.forward = Some(
                    forward::Target::parse(value).ok_or_else(|| invalid(name, value, expected))?,
                );
            }
            "-h" | "--help" => return Ok(None),
            other => return Err(format!("unknown option '{other}'")),
        }
    }
    options.format = format.unwrap_or(match options.forward {
        Some(_) => Format::Rfc5424,
        None => Format::Text,
    });
    if options.binds.is_empty() {
        options.binds.push(DEFAULT_BIND.parse().expect("the default address parses"));
    }
    Ok(Some(options))
}

/// `ADDR:PORT`, or a bare port for `[::]:PORT`.
fn bind_addr(value: &str) -> Option<SocketAddr> {
    value.parse().ok().or_else(|| {
        let port: u16 = value.parse().ok()?;
        Some(SocketAddr::new(std::net::Ipv6Addr::UNSPECIFIED.into(), port))
    })
}

/// Binds, then receives and prints until a signal, `--count` or `--idle-exit` says stop.
fn run(options: &Options) -> Result<(), String> {
    let share = options.threads > 1;
    let mut per_thread: Vec<Vec<socket::Socket>> =
        (0..options.threads).map(|_| Vec::new()).collect();
    let mut granted = usize::MAX;
    for &addr in &options.binds {
        let mut addr = addr;
        for sockets in &mut per_thread {
            let (socket, buffer) = socket::open(addr, share, options.rcvbuf)?;
            // Port 0: the others share the port the first one got.
            addr.set_port(socket.udp.local_addr().map_or(addr.port(), |a| a.port()));
            granted = granted.min(buffer.granted);
            sockets.push(socket);
        }
    }
    // The kernel keeps twice the size asked in an int: half of i32::MAX at most.
    if granted < options.rcvbuf.min(i32::MAX as usize / 2) {
        eprintln!(
            "netconsole listen: receive buffer {} asked, {} granted (net.core.rmem_max; \
             run as root or raise it)",
            size(options.rcvbuf),
            size(granted)
        );
    }
    let inodes: Vec<u64> =
        per_thread.iter().flatten().filter_map(|s| socket::inode(&s.udp)).collect();
    let bound: Vec<String> = per_thread
        .first()
        .map(|sockets| sockets.iter().map(|s| s.local.to_string()).collect())
        .unwrap_or_default();

    let stop = Arc::new(AtomicBool::new(false));
    let (waker, wake) =
        UnixStream::pair().map_err(|e| format!("cannot make a socket pair: {e}"))?;
    // A full wake-up socket already wakes everyone: a stop must never block on it.
    waker.set_nonblocking(true).map_err(|e| format!("cannot make a socket pair: {e}"))?;
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // Registering replaces the disposition, so an inherited "ignore" (a listener started
        // in the background by a shell) no longer keeps SIGINT from stopping it.
        let registered = signal_hook::flag::register(signal, Arc::clone(&stop)).and_then(|_| {
            let pipe = waker.try_clone()?;
            signal_hook::low_level::pipe::register(signal, pipe)
        });
        registered.map_err(|e| format!("cannot handle signal {signal}: {e}"))?;
    }
    let shared = Arc::new(Shared {
        stop,
        wake,
        waker,
        left: options.count.map(AtomicU64::new),
        start: Instant::now(),
        last_datagram_ms: AtomicU64::new(0),
        limiter: Limiter::new(),
        totals: (0..options.threads).map(|_| Mutex::new(Totals::default())).collect(),
        inodes,
    });
    let config = Config { frag_timeout_ms: options.frag_timeout_ms, ..Config::DEFAULT };
    // Room for the receiver (its slots: about half a MiB) on its way to the heap.
    let stack = std::mem::size_of::<worker::ListenReceiver>() * 2 + (2 << 20);
    let mut threads = Vec::new();
    let (ready, readiness) = std::sync::mpsc::channel();
    for (index, sockets) in per_thread.into_iter().enumerate() {
        let out = match &options.forward {
            Some(target) => forward::Output::forward(target, options.format == Format::Rfc5424)?,
            None => forward::Output::stdout(),
        };
        let worker = Worker {
            out,
            index,
            sockets,
            shared: Arc::clone(&shared),
            writer: Writer::new(options.format, options.escaped),
            config,
            senders: worker::senders_per_thread(options.threads),
        };
        let spawned =
            std::thread::Builder::new().name(format!("listen-{index}")).stack_size(stack).spawn({
                let ready = ready.clone();
                move || worker.run(ready)
            });
        match spawned {
            Ok(handle) => threads.push(handle),
            Err(e) => {
                shared.request_stop();
                return Err(format!("cannot start a thread: {e}"));
            }
        }
    }
    drop(ready);
    // Every receiver set up (or its thread gone) before saying so.
    while readiness.recv().is_ok() {}
    shared.last_datagram_ms.store(shared.millis(), Ordering::Relaxed);
    let threads_note =
        if options.threads > 1 { format!("; {} threads", options.threads) } else { String::new() };
    eprintln!(
        "listening on {} (receive buffer {} each{threads_note})",
        bound.join(", "),
        size(granted)
    );

    supervise(options, &shared, &threads);
    shared.request_stop();
    let mut failure = None;
    for handle in threads {
        match handle.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => failure = Some(e),
            Err(_) => failure = Some("a receiving thread panicked".to_owned()),
        }
    }
    eprintln!("{}", report::summary(&totals(&shared)));
    failure.map_or(Ok(()), Err)
}

/// Waits for the end (a signal, `--count`, `--idle-exit`, a thread that stopped), printing the
/// stats line when it is due.
fn supervise(
    options: &Options,
    shared: &Shared,
    threads: &[std::thread::JoinHandle<Result<(), String>>],
) {
    let mut last_stats = (Instant::now(), Totals::default());
    loop {
        if shared.stop.load(Ordering::SeqCst) || threads.iter().any(|t| t.is_finished()) {
            return;
        }
        let now_ms = shared.millis();
        if let Some(idle) = options.idle_exit {
            let idle_ms = u64::try_from(idle.as_millis()).unwrap_or(u64::MAX);
            if now_ms.saturating_sub(shared.last_datagram_ms.load(Ordering::Relaxed)) >= idle_ms {
                return;
            }
        }
        if let Some(period) = options.stats {
            let elapsed = last_stats.0.elapsed();
            if elapsed >= period {
                let now = totals(shared);
                eprintln!("{}", report::stats(&now, &last_stats.1, elapsed.as_secs_f64()));
                last_stats = (Instant::now(), now);
            }
        }
        let mut fds = [PollFd::new(shared.wake.as_fd(), PollFlags::POLLIN)];
        let _ = nix::poll::poll(&mut fds, PollTimeout::from(50u16));
    }
}

/// Every thread's totals, added up, with the kernel's current drop count.
fn totals(shared: &Shared) -> Totals {
    let mut sum = Totals::default();
    for slot in &shared.totals {
        if let Ok(totals) = slot.lock() {
            sum.add(&totals);
        }
    }
    if let Some(drops) = socket::proc_drops(&shared.inodes) {
        sum.kernel_drops = sum.kernel_drops.max(drops);
    }
    sum
}

/// Bytes as people read them.
fn size(bytes: usize) -> String {
    match bytes {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

#[cfg(test)]
mod test {
    use super::*;

    fn parse(s: &str) -> Result<Option<Options>, String> {
        let args: Vec<String> = s.split_whitespace().map(str::to_owned).collect();
        parse_args(&args)
    }

    #[test]
    fn defaults() {
        let options = parse("").unwrap().unwrap();
        assert_eq!(options.binds, ["[::]:6666".parse().unwrap()]);
        assert_eq!((options.format, options.count, options.idle_exit), (Format::Text, None, None));
        assert_eq!(options.frag_timeout_ms, 1000);
        assert_eq!((options.rcvbuf, options.threads, options.stats), (16 << 20, 1, None));
        assert!(!options.escaped);
    }

    #[test]
    fn every_option() {
        let options = parse(
            "--bind 127.0.0.1:7000 --bind=6667 --format json --count 3 --idle-exit 0.5 \
             --frag-timeout 200 --rcvbuf 512K --threads 4 --stats 2 --escaped",
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            options.binds,
            ["127.0.0.1:7000".parse().unwrap(), "[::]:6667".parse().unwrap()]
        );
        assert_eq!(options.format, Format::Json);
        assert_eq!(options.count, Some(3));
        assert_eq!(options.idle_exit, Some(Duration::from_millis(500)));
        assert_eq!(options.frag_timeout_ms, 200);
        assert_eq!((options.rcvbuf, options.threads), (512 << 10, 4));
        assert_eq!(options.stats, Some(Duration::from_secs(2)));
        assert!(options.escaped);
        let forward = parse("--forward tcp://127.0.0.1:514").unwrap().unwrap();
        assert_eq!(forward.forward, Some(forward::Target::Tcp("127.0.0.1:514".parse().unwrap())));
        assert_eq!(forward.format, Format::Rfc5424);
        let json = parse("--forward udp://127.0.0.1:514 --format json").unwrap().unwrap();
        assert_eq!(json.format, Format::Json);
        assert_eq!(parse("--rcvbuf 32M").unwrap().unwrap().rcvbuf, 32 << 20);
        assert_eq!(parse("--rcvbuf 4096").unwrap().unwrap().rcvbuf, 4096);
        assert!(parse("--help").unwrap().is_none());
    }

    #[test]
    fn bad_arguments_are_named() {
        for (args, message) in [
            ("--bind nowhere", "invalid value 'nowhere' for --bind"),
            ("--format xml", "invalid value 'xml' for --format (expected text, json or rfc5424)"),
            ("--count 0", "invalid value '0' for --count"),
            ("--count -1", "invalid value '-1' for --count"),
            ("--idle-exit soon", "invalid value 'soon' for --idle-exit"),
            ("--idle-exit -1", "invalid value '-1' for --idle-exit"),
            ("--frag-timeout", "--frag-timeout needs a value"),
            ("--rcvbuf lots", "invalid value 'lots' for --rcvbuf"),
            ("--rcvbuf 4096M", "invalid value '4096M' for --rcvbuf"),
            ("--threads 0", "invalid value '0' for --threads"),
            ("--threads 65", "invalid value '65' for --threads"),
            ("--threads 065", "invalid value '065' for --threads"),
            ("--stats 0", "invalid value '0' for --stats"),
            ("--stats 1e-12", "invalid value '1e-12' for --stats"),
            ("--forward 127.0.0.1:514", "invalid value '127.0.0.1:514' for --forward"),
            (
                "--forward http://127.0.0.1:514",
                "invalid value 'http://127.0.0.1:514' for --forward",
            ),
            ("--verbose", "unknown option '--verbose'"),
            ("extra", "unexpected argument 'extra'"),
        ] {
            let error = parse(args).unwrap_err();
            assert!(error.starts_with(message), "{args}: {error}");
        }
    }
}
