//! `--sink plain`: the host side of a throughput run without `netconsole listen`. One thread
//! reads every target's socket without blocking and sleeps a little when all are empty, so
//! that datagrams are read in batches rather than each waking a thread (each wake-up of a
//! listener thread can preempt QEMU's main loop on a small machine). It keeps only what the
//! throughput check needs: which record arrived at which target, and when.

use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use super::check::{record_number, Kind, Target};

/// Pause when every socket was empty: short against the run, long against a datagram.
const IDLE: Duration = Duration::from_micros(200);

/// Each socket's receive buffer, as `netconsole listen` asks for: the kernel's default (about
/// 200 KiB, a few hundred small datagrams) overflows when the reading thread is off the CPU
/// for a few milliseconds while the firmware sends 40,000 records/s to four targets.
const RCVBUF: usize = 16 << 20;

/// Record numbers per target (in the order of the targets), each with when it was read.
pub type Arrivals = Vec<Vec<(u32, Instant)>>;

/// The sockets and the thread reading them.
pub struct Sink {
    stopped: Arc<AtomicBool>,
    reader: Option<thread::JoinHandle<Arrivals>>,
}

impl Sink {
    /// Binds one socket per target at `binds` (in the order of `targets`) and starts reading.
    pub fn start(targets: &[Target], binds: &[String]) -> Result<Sink, String> {
        let mut sockets = Vec::new();
        for at in binds {
            let socket = UdpSocket::bind(at).map_err(|e| format!("cannot bind {at}: {e}"))?;
            socket.set_nonblocking(true).map_err(|e| format!("{at}: {e}"))?;
            grow_receive_buffer(&socket);
            sockets.push(socket);
        }
        let kinds: Vec<Kind> = targets.iter().map(|t| t.kind).collect();
        let stopped = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stopped);
        let reader = thread::spawn(move || read(&sockets, &kinds, &flag));
        Ok(Sink { stopped, reader: Some(reader) })
    }

    /// Waits until no datagram came for `quiet` (at most `limit`), stops and returns what came.
    pub fn finish(mut self, quiet: Duration, limit: Duration) -> Arrivals {
        let count = || DATAGRAMS.load(Ordering::Relaxed);
        let deadline = Instant::now() + limit;
        let mut seen = count();
        let mut since = Instant::now();
        while Instant::now() < deadline {
            thread::sleep(Duration::from_millis(50));
            let now = count();
            if now != seen {
                (seen, since) = (now, Instant::now());
            } else if since.elapsed() >= quiet {
                break;
            }
        }
        self.stopped.store(true, Ordering::Release);
        self.reader.take().and_then(|r| r.join().ok()).unwrap_or_default()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.stopped.store(true, Ordering::Release);
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}

/// Asks for [`RCVBUF`] bytes of receive buffer: past `net.core.rmem_max` as root
/// (`SO_RCVBUFFORCE`), else as much as that allows. Best effort: the run reports drops anyway.
fn grow_receive_buffer(socket: &UdpSocket) {
    use nix::sys::socket::{setsockopt, sockopt};
    if setsockopt(socket, sockopt::RcvBufForce, &RCVBUF).is_err() {
        let _ = setsockopt(socket, sockopt::RcvBuf, &RCVBUF);
    }
}

/// Datagrams read so far by every sink of this process: how `finish` sees the run go quiet.
pub static DATAGRAMS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn read(sockets: &[UdpSocket], kinds: &[Kind], stopped: &AtomicBool) -> Arrivals {
    raise_priority();
    let mut arrivals: Arrivals = vec![Vec::new(); sockets.len()];
    let mut buf = [0u8; 2048];
    while !stopped.load(Ordering::Acquire) {
        let mut any = false;
        for (i, socket) in sockets.iter().enumerate() {
            while let Ok(len) = socket.recv(&mut buf) {
                any = true;
                DATAGRAMS.fetch_add(1, Ordering::Relaxed);
                if let Some(n) = text(kinds[i], &buf[..len]).and_then(record_number) {
                    arrivals[i].push((n, Instant::now()));
                }
            }
        }
        if !any {
            thread::sleep(IDLE);
        }
    }
    arrivals
}

/// Gives this thread the listener's raised priority (nice -10, where the xtask may: as root),
/// so that a few milliseconds off the CPU do not overflow the sockets' receive buffers.
/// Through `renice` on the thread's own id: std has no call for it.
fn raise_priority() {
    let Ok(me) = std::fs::read_link("/proc/thread-self") else { return };
    let Some(tid) = me.file_name().and_then(|t| t.to_str()).map(str::to_owned) else { return };
    let _ = std::process::Command::new("renice")
        .args(["-n", "-10", "-p", &tid])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
}

/// The message text of a datagram: a basic one is the text and its newline; an extended one
/// is `<header>;<text>` (Linux's record format; the release, when there is one, leads the
/// header), with sysdata after a newline.
fn text(kind: Kind, datagram: &[u8]) -> Option<&str> {
    let s = std::str::from_utf8(datagram).ok()?;
    let s = match kind {
        Kind::Basic => s,
        Kind::Extended => s.split_once(';')?.1,
    };
    Some(s.split('\n').next().unwrap_or(s))
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn receive_buffers_grow_as_far_as_allowed() {
        use nix::sys::socket::{getsockopt, sockopt};
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        grow_receive_buffer(&socket);
        // The kernel reports twice what it grants for data.
        let granted = getsockopt(&socket, sockopt::RcvBuf).unwrap() / 2;
        let rmem_max = std::fs::read_to_string("/proc/sys/net/core/rmem_max")
            .ok()
            .and_then(|s| s.trim().parse::<usize>().ok())
            .unwrap_or(0);
        // Root may go past `rmem_max`; anyone else gets at most that.
        assert!(granted >= RCVBUF.min(rmem_max), "granted {granted}, rmem_max {rmem_max}");
    }

    #[test]
    fn record_texts_from_both_kinds() {
        assert_eq!(text(Kind::Basic, b"record 17\n"), Some("record 17"));
        assert_eq!(text(Kind::Extended, b"6,3,1234,-;record 17"), Some("record 17"));
        assert_eq!(text(Kind::Extended, b"0.1.0,6,3,1234,-;record 9\nrelease=x"), Some("record 9"));
        assert_eq!(text(Kind::Extended, b"no header"), None);
        assert_eq!(text(Kind::Basic, &[0xff, 0xfe]), None);
    }
}
