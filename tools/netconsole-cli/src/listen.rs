//! `netconsole listen`: UDP sockets around [`netconsole::receive::Receiver`], messages on stdout.
//!
//! One thread per socket reads datagrams into a bounded channel; the main thread owns the
//! receiver, hands it each datagram with the time, expires what waited too long, and prints.

use std::io::{self, Write as _};
use std::net::{SocketAddr, UdpSocket};
use std::process::ExitCode;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use netconsole::receive::{Config, Counters, Message, Receiver, Stream};

use crate::args::{invalid, Options as Args};
use crate::output::{line, unmapped, Format};

const USAGE: &str =
    "usage: netconsole listen [--bind ADDR:PORT ...] [--format text|json] [--count N]
    [--idle-exit SECS] [--frag-timeout MS]

Receives netconsole datagrams (basic and extended, ncfrag fragments reassembled) and prints one
message per line. --bind may be repeated; the default [::]:6666 takes IPv4 too. Prints
'listening on ...' to stderr once every socket is bound. Exits after N messages (--count), after
SECS seconds without a datagram (--idle-exit), 2 for bad arguments, 1 when a socket fails.";

/// The default `--bind`: IPv6 any, which on Linux also takes IPv4 (`IPV6_V6ONLY` is off).
const DEFAULT_BIND: &str = "[::]:6666";
/// Datagrams read but not yet handled; a full channel leaves the rest in the socket buffers.
const CHANNEL: usize = 1024;
/// Stands in for a socket's address the system would not tell.
const UNSPECIFIED: SocketAddr =
    SocketAddr::V4(std::net::SocketAddrV4::new(std::net::Ipv4Addr::UNSPECIFIED, 0));
/// The largest UDP payload.
const DATAGRAM_MAX: usize = 65_535;

/// What the command line asked for.
#[derive(Debug, PartialEq)]
struct Options {
    binds: Vec<SocketAddr>,
    format: Format,
    count: Option<u64>,
    idle_exit: Option<Duration>,
    frag_timeout_ms: u64,
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

/// The options, or `None` for `--help`.
fn parse_args(args: &[String]) -> Result<Option<Options>, String> {
    let mut options = Options {
        binds: Vec::new(),
        format: Format::Text,
        count: None,
        idle_exit: None,
        frag_timeout_ms: Config::DEFAULT.frag_timeout_ms,
    };
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
                options.format = match args.value(name)? {
                    "text" => Format::Text,
                    "json" => Format::Json,
                    other => return Err(invalid(name, other, "text or json")),
                }
            }
            "--count" => {
                let count: u64 = args.parsed(name, "a whole number, at least 1")?;
                if count == 0 {
                    return Err(invalid(name, "0", "a whole number, at least 1"));
                }
                options.count = Some(count);
            }
            "--idle-exit" => {
                let value = args.value(name)?;
                let seconds = value.parse::<f64>().ok();
                let idle = seconds.and_then(|s| Duration::try_from_secs_f64(s).ok());
                options.idle_exit =
                    Some(idle.ok_or_else(|| invalid(name, value, "seconds, e.g. 5 or 0.5"))?);
            }
            "--frag-timeout" => {
                options.frag_timeout_ms = args.parsed(name, "milliseconds, a whole number")?;
            }
            "-h" | "--help" => return Ok(None),
            other => return Err(format!("unknown option '{other}'")),
        }
    }
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

/// Binds, then receives and prints until `--count` or `--idle-exit` says stop.
fn run(options: &Options) -> Result<(), String> {
    let mut sockets = Vec::new();
    for addr in &options.binds {
        let socket = UdpSocket::bind(addr).map_err(|e| format!("cannot bind {addr}: {e}"))?;
        sockets.push(socket);
    }
    let bound: Vec<String> = sockets
        .iter()
        .map(|s| s.local_addr().map_or_else(|e| format!("? ({e})"), |a| a.to_string()))
        .collect();
    eprintln!("listening on {}", bound.join(", "));

    let (tx, rx) = mpsc::sync_channel(CHANNEL);
    for socket in sockets {
        let tx = tx.clone();
        std::thread::spawn(move || read_socket(&socket, &tx));
    }
    drop(tx);

    let config = Config { frag_timeout_ms: options.frag_timeout_ms, ..Config::DEFAULT };
    let mut receiver: Box<Receiver> = Box::new(Receiver::new(config));
    let mut printer = Printer::new(options);
    let start = Instant::now();
    let mut last_datagram = start;
    let millis =
        |at: Instant| u64::try_from(at.duration_since(start).as_millis()).unwrap_or(u64::MAX);

    while !printer.done() {
        let now = Instant::now();
        // Sleep until the next datagram, the next fragment timeout or the idle deadline.
        let fragment_wait = receiver
            .next_deadline()
            .map(|deadline| Duration::from_millis(deadline.saturating_sub(millis(now))));
        let idle_wait =
            options.idle_exit.map(|idle| (last_datagram + idle).saturating_duration_since(now));
        let wait = match (fragment_wait, idle_wait) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let received = match wait {
            Some(wait) => rx.recv_timeout(wait),
            None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        let now = Instant::now();
        match received {
            Ok((local, src, datagram)) => {
                last_datagram = now;
                let src = unmapped(src);
                let stream = Stream::new(src, local);
                let result =
                    receiver.receive_on(millis(now), stream, &datagram, &mut |m| printer.print(&m));
                if let Err(error) = result {
                    eprintln!("netconsole listen: dropped datagram from {src}: {error}");
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                receiver.flush(&mut |m| printer.print(&m));
                summary(&receiver.counters());
                return Err("every socket failed".to_owned());
            }
        }
        receiver.expire(millis(now), &mut |m| printer.print(&m));
        if options.idle_exit.is_some_and(|idle| now.duration_since(last_datagram) >= idle) {
            receiver.flush(&mut |m| printer.print(&m));
            break;
        }
    }
    summary(&receiver.counters());
    Ok(())
}

/// One socket's reader thread: every datagram into the channel, until the channel closes.
fn read_socket(socket: &UdpSocket, tx: &mpsc::SyncSender<(SocketAddr, SocketAddr, Vec<u8>)>) {
    let mut buf = vec![0u8; DATAGRAM_MAX];
    let addr = socket.local_addr().map(unmapped).unwrap_or(UNSPECIFIED);
    let local = addr.to_string();
    let mut errors = 0u32;
    loop {
        match socket.recv_from(&mut buf) {
            Ok((len, src)) => {
                errors = 0;
                if tx.send((addr, src, buf[..len].to_vec())).is_err() {
                    return;
                }
            }
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => {
                eprintln!("netconsole listen: receiving on {local}: {error}");
                errors += 1;
                if errors >= 100 {
                    return;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
}

/// Prints messages, up to `--count`; stops quietly when stdout goes away.
struct Printer {
    format: Format,
    left: Option<u64>,
    closed: bool,
}

impl Printer {
    fn new(options: &Options) -> Self {
        Printer { format: options.format, left: options.count, closed: false }
    }

    fn print(&mut self, message: &Message<'_>) {
        if self.done() {
            return;
        }
        let mut stdout = io::stdout().lock();
        if writeln!(stdout, "{}", line(self.format, message)).and_then(|()| stdout.flush()).is_err()
        {
            self.closed = true;
        }
        self.left = self.left.map(|n| n.saturating_sub(1));
    }

    /// `--count` messages printed, or nowhere left to print them.
    fn done(&self) -> bool {
        self.closed || self.left == Some(0)
    }
}

/// The counters, in one line on stderr, at exit.
fn summary(c: &Counters) {
    let refused = c.refused_senders + c.refused_pending + c.refused_slots + c.refused_runs;
    eprintln!(
        "netconsole listen: {} datagrams, {} messages ({} complete, {} incomplete), \
         {} duplicate, {} late, {} malformed, {} refused by caps, {} truncated",
        c.datagrams,
        c.messages,
        c.complete,
        c.incomplete,
        c.duplicates,
        c.late,
        c.malformed,
        refused,
        c.truncated
    );
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
    }

    #[test]
    fn every_option() {
        let options = parse(
            "--bind 127.0.0.1:7000 --bind=6667 --format json --count 3 --idle-exit 0.5 \
             --frag-timeout 200",
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
        assert!(parse("--help").unwrap().is_none());
    }

    #[test]
    fn bad_arguments_are_named() {
        for (args, message) in [
            ("--bind nowhere", "invalid value 'nowhere' for --bind"),
            ("--format xml", "invalid value 'xml' for --format (expected text or json)"),
            ("--count 0", "invalid value '0' for --count"),
            ("--count -1", "invalid value '-1' for --count"),
            ("--idle-exit soon", "invalid value 'soon' for --idle-exit"),
            ("--idle-exit -1", "invalid value '-1' for --idle-exit"),
            ("--frag-timeout", "--frag-timeout needs a value"),
            ("--verbose", "unknown option '--verbose'"),
            ("extra", "unexpected argument 'extra'"),
        ] {
            let error = parse(args).unwrap_err();
            assert!(error.starts_with(message), "{args}: {error}");
        }
    }
}
