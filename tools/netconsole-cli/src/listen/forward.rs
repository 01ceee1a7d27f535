//! Where a thread's messages go: stdout, or a syslog server (`--forward udp://HOST:PORT` or
//! `tcp://HOST:PORT`), so that rsyslog and syslog-ng receive netconsole directly.
//!
//! UDP: one datagram per message (RFC 5426). TCP: RFC 5424 messages octet-counted (RFC 6587,
//! `LEN SP MSG`), other formats one per line. A TCP connection that fails is tried again at
//! most once a second; what could not be sent meanwhile is counted, never queued without
//! bound.

use std::io::{self, Write as _};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs as _, UdpSocket};
use std::os::fd::AsFd as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout};

/// `--forward`'s transport and address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Udp(SocketAddr),
    Tcp(SocketAddr),
}

impl Target {
    /// `udp://HOST:PORT` or `tcp://HOST:PORT`, HOST a name or an address.
    pub fn parse(value: &str) -> Option<Target> {
        let (scheme, rest) = value.split_once("://")?;
        let addr = rest.to_socket_addrs().ok()?.next()?;
        match scheme {
            "udp" => Some(Target::Udp(addr)),
            "tcp" => Some(Target::Tcp(addr)),
            _ => None,
        }
    }
}

/// How long one TCP connection attempt may block a receiving thread.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);
/// Between connection attempts.
const RETRY: Duration = Duration::from_secs(1);

/// The messages a thread has written, and where they go.
pub struct Output {
    /// Messages, each ending in `\n`.
    pub buf: Vec<u8>,
    /// Where each message in `buf` ends (after its `\n`), to count what does not go out.
    ends: Vec<usize>,
    forward: Option<Forwarder>,
    /// `LEN SP MSG` framing on TCP (RFC 5424).
    octet_counted: bool,
    /// Messages that could not be forwarded, or written to a stdout nobody read.
    pub unsent: u64,
}

struct Forwarder {
    target: Target,
    udp: Option<UdpSocket>,
    tcp: Option<TcpStream>,
    last_try: Instant,
    frame: Vec<u8>,
}

impl Output {
    /// To stdout.
    pub fn stdout() -> Self {
        Output { buf: Vec::new(), ends: Vec::new(), forward: None, octet_counted: false, unsent: 0 }
    }

    /// To `target`; connects now, so that a bad address is an error at start.
    pub fn forward(target: &Target, octet_counted: bool) -> Result<Self, String> {
        let mut forwarder = Forwarder {
            target: target.clone(),
            udp: None,
            tcp: None,
            last_try: Instant::now(),
            frame: Vec::new(),
        };
        forwarder.connect().map_err(|e| format!("cannot forward to {target:?}: {e}"))?;
        Ok(Output { forward: Some(forwarder), octet_counted, ..Output::stdout() })
    }

    /// Marks the end of the message just written into `buf`.
    pub fn end_message(&mut self) {
        self.ends.push(self.buf.len());
    }

    /// Sends or writes what `buf` holds and empties it; `false` when stdout is gone, or was
    /// given up on after `stop`.
    pub fn flush(&mut self, stop: &AtomicBool) -> bool {
        if self.buf.is_empty() {
            return true;
        }
        let ok = match &mut self.forward {
            None => {
                let (written, ok) = write_stdout(&self.buf, stop);
                self.unsent += self.ends.iter().filter(|&&end| end > written).count() as u64;
                ok
            }
            Some(forwarder) => {
                self.unsent += forwarder.send(&self.buf, &self.ends, self.octet_counted);
                true
            }
        };
        self.buf.clear();
        self.ends.clear();
        ok
    }
}

/// How long a stopping listener keeps trying to write to a stdout nobody reads.
const STOP_GRACE: Duration = Duration::from_secs(1);
/// Bytes per write: a pipe that polls writable takes this many without blocking.
const PIPE_BUF: usize = 4096;

/// Writes `bytes` to stdout a pipe's worth at a time, each only once stdout is writable, so
/// that a consumer that stopped reading (a paused pager, a wedged pipeline) cannot hold a
/// stopping listener: once `stop` is set it gets [`STOP_GRACE`] more. Returns how many bytes
/// went out, and whether stdout is still worth writing to.
fn write_stdout(bytes: &[u8], stop: &AtomicBool) -> (usize, bool) {
    // Locked throughout: another thread's messages must not land between the pieces.
    let stdout = io::stdout().lock();
    let mut written = 0;
    let mut stopping: Option<Instant> = None;
    while let Some(rest) = bytes.get(written..).filter(|rest| !rest.is_empty()) {
        if stop.load(Ordering::Relaxed)
            && stopping.get_or_insert_with(Instant::now).elapsed() >= STOP_GRACE
        {
            return (written, false);
        }
        let mut fds = [PollFd::new(stdout.as_fd(), PollFlags::POLLOUT)];
        match nix::poll::poll(&mut fds, PollTimeout::from(100u16)) {
            Ok(0) | Err(Errno::EINTR) => continue,
            Ok(_) => {}
            Err(_) => return (written, false),
        }
        let piece = rest.get(..PIPE_BUF).unwrap_or(rest);
        match nix::unistd::write(stdout.as_fd(), piece) {
            Ok(n) => written += n,
            Err(Errno::EINTR | Errno::EAGAIN) => {}
            Err(_) => return (written, false),
        }
    }
    (written, true)
}

impl Forwarder {
    fn connect(&mut self) -> io::Result<()> {
        self.last_try = Instant::now();
        match self.target {
            Target::Udp(addr) => {
                let local: SocketAddr = if addr.is_ipv4() {
                    (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
                } else {
                    (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
                };
                let socket = UdpSocket::bind(local)?;
                socket.connect(addr)?;
                self.udp = Some(socket);
            }
            Target::Tcp(addr) => {
                let stream = TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT)?;
                stream.set_write_timeout(Some(Duration::from_secs(5)))?;
                stream.set_nodelay(true)?;
                self.tcp = Some(stream);
            }
        }
        Ok(())
    }

    /// Sends each message of `buf` (ending at `ends`); returns how many could not be sent.
    fn send(&mut self, buf: &[u8], ends: &[usize], octet_counted: bool) -> u64 {
        let mut start = 0;
        let messages = ends.iter().map(|&end| {
            let message = buf.get(start..end).unwrap_or_default();
            start = end;
            message
        });
        match self.target {
            Target::Udp(_) => {
                let Some(socket) = &self.udp else { return ends.len() as u64 };
                let mut unsent = 0;
                for message in messages {
                    let body = message.strip_suffix(b"\n").unwrap_or(message);
                    if socket.send(body).is_err() {
                        unsent += 1;
                    }
                }
                unsent
            }
            Target::Tcp(_) => {
                self.frame.clear();
                for message in messages {
                    if octet_counted {
                        let body = message.strip_suffix(b"\n").unwrap_or(message);
                        let _ = write!(self.frame, "{} ", body.len());
                        self.frame.extend_from_slice(body);
                    } else {
                        self.frame.extend_from_slice(message);
                    }
                }
                if self.tcp.as_ref().is_some_and(peer_closed) {
                    self.tcp = None;
                }
                if self.tcp.is_none() && self.last_try.elapsed() >= RETRY {
                    let _ = self.connect();
                }
                let Some(stream) = &mut self.tcp else { return ends.len() as u64 };
                if stream.write_all(&self.frame).is_err() {
                    self.tcp = None;
                    return ends.len() as u64;
                }
                0
            }
        }
    }
}

/// Whether the server has closed or reset the connection. A write into a connection the server
/// closed still succeeds once (the server answers it with a reset), so its messages would be
/// lost and counted as sent: look before writing.
fn peer_closed(stream: &TcpStream) -> bool {
    if stream.set_nonblocking(true).is_err() {
        return true;
    }
    let closed = match stream.peek(&mut [0u8; 1]) {
        Ok(0) => true,
        // The server said something: syslog servers do not, but it is no close.
        Ok(_) => false,
        Err(e) => e.kind() != io::ErrorKind::WouldBlock,
    };
    stream.set_nonblocking(false).is_err() || closed
}
