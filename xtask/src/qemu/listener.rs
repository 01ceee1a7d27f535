//! The host side of a QEMU run: `netconsole listen` on one port per target, its JSON lines
//! followed from a file and parsed into the checker's messages.

use std::io::{BufRead as _, BufReader};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use super::check::{Kind, Message, Target};
use super::{bind_address, json, step, LISTEN_START_LIMIT, QUIET, QUIET_LIMIT};
use crate::process;

/// `netconsole listen` on one port per target, its JSON lines read as they come.
///
/// The listener writes to a file, which the xtask reads as it grows: a pipe would stop the
/// listener whenever the xtask is slow to read (a few tens of milliseconds off the CPU on a
/// busy machine), and at tens of thousands of datagrams a second the listener's socket
/// buffer then overflows and records are lost that the firmware sent.
pub(super) struct Listener {
    child: Child,
    lines: Receiver<(String, Instant)>,
    output: PathBuf,
    stopped: Arc<AtomicBool>,
    reader: Option<thread::JoinHandle<()>>,
}

impl Listener {
    pub(super) fn start(
        netconsole: &Path,
        targets: &[Target],
        ports: &[u16],
        boosted: bool,
    ) -> Result<Listener, String> {
        let binds: Vec<(String, String)> =
            targets.iter().zip(ports).map(|(t, &port)| (bind_address(t, port), t.name())).collect();
        let named: Vec<String> = binds.iter().map(|(at, name)| format!("{at} ({name})")).collect();
        step(&format!("netconsole listen on {}", named.join(", ")));
        // The listener is the measuring instrument of a throughput run: on a machine shared
        // with other jobs, a few milliseconds off the CPU overflow its socket's receive buffer
        // while QEMU sends a ring's worth of frames at once. A higher priority (when the
        // xtask may give one: as root) keeps it reading.
        let mut cmd = if boosted && process::available("nice", &["--version"]) {
            let mut c = Command::new("nice");
            c.args(["-n", "-10"]).arg(netconsole);
            c
        } else {
            Command::new(netconsole)
        };
        cmd.args(["listen", "--format", "json"]);
        for (at, _) in &binds {
            cmd.args(["--bind", at]);
        }
        let output = std::env::temp_dir().join(format!(
            "xtask-qemu-listen-{}-{}.jsonl",
            std::process::id(),
            ports[0]
        ));
        let file = std::fs::File::create(&output)
            .map_err(|e| format!("cannot create {}: {e}", output.display()))?;
        cmd.stdin(Stdio::null()).stdout(file).stderr(Stdio::piped()).process_group(0);
        let mut child = cmd.spawn().map_err(|e| format!("cannot start netconsole listen: {e}"))?;
        let (tx, lines) = mpsc::channel();
        let stopped = Arc::new(AtomicBool::new(false));
        let reader = {
            let (output, stopped) = (output.clone(), Arc::clone(&stopped));
            thread::spawn(move || follow(&output, &stopped, &tx))
        };
        let (ready_tx, ready) = mpsc::channel();
        let stderr = child.stderr.take().expect("piped");
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.starts_with("listening on") {
                    let _ = ready_tx.send(Ok(()));
                } else if line.contains("cannot bind") {
                    let _ = ready_tx.send(Err(line));
                } else {
                    eprintln!("  listen | {line}");
                }
            }
        });
        let mut listener = Listener { child, lines, output, stopped, reader: Some(reader) };
        match ready.recv_timeout(LISTEN_START_LIMIT) {
            Ok(Ok(())) => Ok(listener),
            Ok(Err(line)) => {
                listener.stop();
                Err(line)
            }
            Err(_) => {
                listener.stop();
                Err(format!("netconsole listen did not bind within {LISTEN_START_LIMIT:?}"))
            }
        }
    }

    /// Waits until no datagram came for a while (bounded), stops the listener and returns
    /// the messages, sorted by target.
    pub(super) fn finish(&mut self) -> Vec<Message> {
        let mut messages = Vec::new();
        let deadline = Instant::now() + QUIET_LIMIT;
        while let Ok((line, at)) = self.lines.recv_timeout(QUIET) {
            messages.extend(parse(&line, at));
            if Instant::now() >= deadline {
                break;
            }
        }
        self.stop();
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        while let Ok((line, at)) = self.lines.try_recv() {
            messages.extend(parse(&line, at));
        }
        messages
    }

    fn stop(&mut self) {
        process::kill_group(self.child.id());
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.stopped.store(true, Ordering::Release);
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.stop();
        }
        self.stopped.store(true, Ordering::Release);
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        let _ = std::fs::remove_file(&self.output);
    }
}

/// Reads the lines of `path` as they are written, each with the time it was read, until
/// `stopped` is set and the end of the file reached.
fn follow(path: &Path, stopped: &AtomicBool, tx: &mpsc::Sender<(String, Instant)>) {
    let Ok(mut file) = std::fs::File::open(path) else { return };
    let mut pending = Vec::new();
    let mut chunk = vec![0u8; 1 << 16];
    loop {
        // Read before deciding: once the writer is gone, a read of 0 bytes is the end.
        let last = stopped.load(Ordering::Acquire);
        let n = match std::io::Read::read(&mut file, &mut chunk) {
            Ok(0) if last => return,
            Ok(0) => {
                thread::sleep(Duration::from_millis(1));
                continue;
            }
            Ok(n) => n,
            Err(_) => return,
        };
        let now = Instant::now();
        pending.extend_from_slice(&chunk[..n]);
        let mut start = 0;
        while let Some(len) = pending[start..].iter().position(|&b| b == b'\n') {
            let line = String::from_utf8_lossy(&pending[start..start + len]).into_owned();
            start += len + 1;
            if tx.send((line, now)).is_err() {
                return;
            }
        }
        pending.drain(..start);
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
    let release = matches!(object.get("release"), Some(Value::Str(_)));
    let ipv6 = matches!(object.get("src"), Some(Value::Str(s)) if s.starts_with('['));
    Some(Message { kind, text: text.clone(), complete, release, ipv6, at })
}
