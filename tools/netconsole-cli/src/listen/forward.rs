//! Where a thread's messages go: stdout, or a syslog server (`--forward udp://HOST:PORT` or
//! `tcp://HOST:PORT`), so that rsyslog and syslog-ng receive netconsole directly.
//!
//! UDP: one datagram per message (RFC 5426). TCP: RFC 5424 messages octet-counted (RFC 6587,
//! `LEN SP MSG`), other formats one per line. A TCP connection that fails is tried again at
//! most once a second; what could not be sent meanwhile is counted, never queued without
//! bound.

use std::io::{self, Write as _};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs as _, UdpSocket};
use std::time::{Duration, Instant};

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
    /// Where each message in `buf` ends (after its `\n`); kept only when forwarding.
    ends: Vec<usize>,
    forward: Option<Forwarder>,
    /// `LEN SP MSG` framing on TCP (RFC 5424).
    octet_counted: bool,
    /// Messages that could not be forwarded.
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
        if self.forward.is_some() {
            self.ends.push(self.buf.len());
        }
    }

    /// Sends or writes what `buf` holds and empties it; `false` when stdout is gone.
    pub fn flush(&mut self) -> bool {
        if self.buf.is_empty() {
            return true;
        }
        let ok = match &mut self.forward {
            None => {
                let mut stdout = io::stdout().lock();
                stdout.write_all(&self.buf).and_then(|()| stdout.flush()).is_ok()
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
