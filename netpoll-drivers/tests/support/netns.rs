//! Network namespaces that are always deleted, and a thread inside one, for `linux_packet.rs`
//! and `linux_tap.rs`.
//!
//! Everything happens in namespaces the tests create: no traffic leaves them, and the host's
//! own interfaces and sysctls are never touched.

use std::fs::File;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use nix::sched::{setns, CloneFlags};

use super::{run, skip};

/// Whether this process may create namespaces and interfaces; if not, the test is skipped (or
/// failed, see [`skip`]) and `false` returned.
pub fn can_make_namespaces() -> bool {
    if !nix::unistd::geteuid().is_root() {
        skip("needs root (network namespaces, veth, AF_PACKET, TAP)");
        return false;
    }
    match run(Command::new("ip").arg("-V"), Duration::from_secs(10)) {
        Ok(out) if out.status.success() => true,
        Ok(out) => {
            skip(&format!("`ip -V` failed ({})", out.status));
            false
        }
        Err(e) => {
            skip(&format!("the `ip` command (iproute2) is not available: {e}"));
            false
        }
    }
}

/// Runs `ip ARGS` (10 s at most) and panics with its stderr if it fails.
pub fn ip(args: &[&str]) -> String {
    let out = run(Command::new("ip").args(args), Duration::from_secs(10))
        .unwrap_or_else(|e| panic!("ip {}: {e}", args.join(" ")));
    assert!(
        out.status.success(),
        "ip {} failed ({}): {}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr).trim()
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A network namespace made for one test, deleted when dropped (on panic too), and with it
/// every interface inside.
pub struct Netns {
    /// The name `ip netns` knows it by.
    pub name: String,
}

impl Netns {
    /// A new namespace, unique to this process and call, with `lo` up.
    pub fn new(tag: &str) -> Netns {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = format!("npd-{}-{tag}-{n}", std::process::id());
        ip(&["netns", "add", &name]);
        let ns = Netns { name };
        ip(&["-n", &ns.name, "link", "set", "lo", "up"]);
        ns
    }

    /// Runs `f` on a thread inside the namespace and returns what it returns. A socket, TAP or
    /// driver made there stays in the namespace wherever it is used afterwards.
    pub fn run<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        let path = format!("/var/run/netns/{}", self.name);
        thread::scope(|s| {
            s.spawn(|| {
                let file = File::open(&path).unwrap_or_else(|e| panic!("open {path}: {e}"));
                setns(&file, CloneFlags::CLONE_NEWNET).expect("setns");
                f()
            })
            .join()
            .expect("thread in the namespace")
        })
    }

    /// `ip -n NAME ARGS`.
    pub fn ip(&self, args: &[&str]) -> String {
        let mut all = vec!["-n", &self.name];
        all.extend_from_slice(args);
        ip(&all)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let deleted =
            run(Command::new("ip").args(["netns", "del", &self.name]), Duration::from_secs(10));
        if !matches!(&deleted, Ok(out) if out.status.success()) {
            eprintln!("could not delete network namespace {}: {deleted:?}", self.name);
        }
    }
}

/// Waits up to 5 s for `cond`.
pub fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(10));
    }
}

/// Deterministic payloads: `count` messages of varied lengths up to `max` bytes, each starting
/// with its sequence number, so order and content can both be checked.
pub fn payloads(count: usize, max: usize) -> Vec<Vec<u8>> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    (0..count)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = match i % 10 {
                0 => 0,
                1 => max,
                _ => (state as usize) % (max + 1),
            };
            let mut p: Vec<u8> = format!("{i:05}:").into_bytes();
            p.extend((0..len).map(|j| (state >> (j % 56)) as u8));
            p.truncate(len);
            p
        })
        .collect()
}
