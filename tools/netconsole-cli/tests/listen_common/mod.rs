//! Support for the `netconsole listen` tests: a listener child under a deadline, its output
//! line by line, and Linux's extended framing (spec 3.3) to feed it.
#![allow(dead_code)] // each test binary uses a part

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long a listener may live before the test kills it and fails.
pub const CHILD_TIMEOUT: Duration = Duration::from_secs(20);

/// A running `netconsole listen` and its output, line by line.
pub struct Listener {
    pub child: Child,
    /// Where it listens: the first `--bind`, then the others.
    pub addrs: Vec<SocketAddr>,
    pub stdout: mpsc::Receiver<String>,
    pub stderr: mpsc::Receiver<String>,
    started: Instant,
}

/// A UDP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Listener {
    /// Starts `netconsole listen --bind 127.0.0.1:<port> ...` with `binds` free ports and
    /// `args`, and waits for `listening on`.
    pub fn start(binds: usize, args: &[&str]) -> Listener {
        // A port free a moment ago may be taken by a parallel test meanwhile: try again.
        for _ in 0..5 {
            let addrs: Vec<SocketAddr> =
                (0..binds).map(|_| SocketAddr::from(([127, 0, 0, 1], free_port()))).collect();
            let mut command = Command::new(env!("CARGO_BIN_EXE_netconsole"));
            command.arg("listen");
            for addr in &addrs {
                command.args(["--bind", &addr.to_string()]);
            }
            match Listener::try_spawn(command.args(args), addrs) {
                Ok(listener) => return listener,
                Err(err) if err.iter().any(|l| l.contains("cannot bind")) => continue,
                Err(err) => panic!("no 'listening on' within 10 s: {err:#?}"),
            }
        }
        panic!("no free ports after 5 tries");
    }

    /// Starts `command` (a `netconsole listen` listening on `addrs`) and waits for
    /// `listening on`.
    pub fn spawn(command: &mut Command, addrs: Vec<SocketAddr>) -> Listener {
        Listener::try_spawn(command, addrs)
            .unwrap_or_else(|err| panic!("no 'listening on' within 10 s: {err:#?}"))
    }

    /// [`Listener::spawn`], or what the listener said on stderr before it gave up.
    fn try_spawn(command: &mut Command, addrs: Vec<SocketAddr>) -> Result<Listener, Vec<String>> {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("netconsole runs");
        let stdout = lines(child.stdout.take().unwrap());
        let stderr = lines(child.stderr.take().unwrap());
        let started = Instant::now();
        let mut said = Vec::new();
        loop {
            let Ok(line) = stderr.recv_timeout(Duration::from_secs(10)) else {
                let _ = child.kill();
                let _ = child.wait();
                return Err(said);
            };
            if line.starts_with("listening on ") {
                break;
            }
            said.push(line);
        }
        Ok(Listener { child, addrs, stdout, stderr, started })
    }

    /// The first address.
    pub fn addr(&self) -> SocketAddr {
        self.addrs[0]
    }

    /// Sends `signal` (a `kill` name: `INT`, `TERM`, `STOP`, `CONT`) to the listener.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{signal}");
    }

    /// Waits for the listener to exit by itself; kills it (and fails) after the timeout.
    pub fn finish(mut self) -> (ExitStatus, Vec<String>, Vec<String>) {
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if self.started.elapsed() > CHILD_TIMEOUT {
                let _ = self.child.kill();
                let _ = self.child.wait();
                let out: Vec<String> = self.stdout.try_iter().collect();
                let err: Vec<String> = self.stderr.try_iter().collect();
                panic!(
                    "netconsole listen still running after {CHILD_TIMEOUT:?}\n{out:#?}\n{err:#?}"
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        // The reader threads end at EOF; collect everything they read.
        let out = self.stdout.iter().collect();
        let err = self.stderr.iter().collect();
        (status, out, err)
    }
}

/// Every line `pipe` gives, through a channel.
pub fn lines(pipe: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

/// Linux's `send_ext_msg_udp` (spec 3.3): the datagrams for `msg` (`<header>;<body>`).
pub fn fragments(release: Option<&str>, msg: &[u8], extradata: &[u8]) -> Vec<Vec<u8>> {
    let mut prefix = Vec::new();
    if let Some(release) = release {
        prefix.extend_from_slice(release.as_bytes());
        prefix.push(b',');
    }
    if prefix.len() + msg.len() + extradata.len() <= 1000 {
        return vec![[&prefix[..], msg, extradata].concat()];
    }
    let semicolon = msg.iter().position(|&b| b == b';').unwrap();
    prefix.extend_from_slice(&msg[..semicolon]);
    let data = [&msg[semicolon + 1..], extradata].concat();
    let mut packets = Vec::new();
    let mut sent = 0;
    while sent < data.len() {
        let mut packet = prefix.clone();
        packet.extend_from_slice(format!(",ncfrag={sent}/{};", data.len()).as_bytes());
        let take = (data.len() - sent).min(1000 - packet.len());
        packet.extend_from_slice(&data[sent..sent + take]);
        packets.push(packet);
        sent += take;
    }
    packets
}

/// `header` and a body of `len` bytes: `fill` repeated, then `\n`.
pub fn record(header: &str, len: usize, fill: u8) -> Vec<u8> {
    let mut msg = header.as_bytes().to_vec();
    msg.extend(std::iter::repeat_n(fill, len - 1));
    msg.push(b'\n');
    msg
}

pub fn repeat(fill: char, n: usize) -> String {
    std::iter::repeat_n(fill, n).collect()
}
