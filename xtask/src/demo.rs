//! `cargo xtask demo`: the mission end to end on this machine. Two network namespaces joined by
//! a veth pair; `netconsole listen` in one, `netconsole send --via packet` in the other, a few
//! lines through the real Linux network stack, and what arrived printed.
//!
//! Needs root (network namespaces, AF_PACKET). No traffic leaves the namespaces it creates,
//! which are deleted on the way out, whatever happens.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::os::unix::process::CommandExt as _;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::process::{self, Outcome};

/// The lines the demo logs.
const LINES: &[&str] = &[
    "Hello from netconsole-rs!",
    "This line went through an AF_PACKET socket, a veth pair and the receiver's UDP stack.",
    "Extended target: level, sequence number, timestamp, release, userdata and sysdata.",
    "Goodbye.",
];

/// Two namespaces and a veth pair between them; deleted on drop.
struct Netns {
    send: String,
    recv: String,
    send_if: String,
    recv_if: String,
}

impl Netns {
    fn create() -> Result<Netns, String> {
        let id = std::process::id();
        let ns = Netns {
            send: format!("ncdemo-s{id}"),
            recv: format!("ncdemo-r{id}"),
            send_if: format!("ncdemo-a{id}"),
            recv_if: format!("ncdemo-b{id}"),
        };
        ip(&["netns", "add", &ns.send])?;
        // From here on, drop cleans up whatever was made.
        ip(&["netns", "add", &ns.recv])?;
        ip(&[
            "link",
            "add",
            &ns.send_if,
            "netns",
            &ns.send,
            "type",
            "veth",
            "peer",
            "name",
            &ns.recv_if,
            "netns",
            &ns.recv,
        ])?;
        for (n, dev, v4, v6) in [
            (&ns.send, &ns.send_if, "10.99.0.1/24", "fd99::1/64"),
            (&ns.recv, &ns.recv_if, "10.99.0.2/24", "fd99::2/64"),
        ] {
            ip(&["-n", n, "addr", "add", v4, "dev", dev])?;
            ip(&["-n", n, "addr", "add", v6, "dev", dev, "nodad"])?;
            ip(&["-n", n, "link", "set", "lo", "up"])?;
            ip(&["-n", n, "link", "set", dev, "up"])?;
        }
        // Frames sent before the kernel activates the link are dropped silently: wait for it.
        let deadline = Instant::now() + Duration::from_secs(10);
        for (n, dev) in [(&ns.send, &ns.send_if), (&ns.recv, &ns.recv_if)] {
            loop {
                let text = ip_output(&["-n", n, "-o", "link", "show", "dev", dev])?;
                if text.contains("state UP") && !text.contains("qdisc noop") {
                    break;
                }
                if Instant::now() >= deadline {
                    return Err(format!("{dev} did not come up: {}", text.trim()));
                }
                thread::sleep(Duration::from_millis(50));
            }
        }
        Ok(ns)
    }

    /// The receiving interface's MAC, as `ip` prints it.
    fn recv_mac(&self) -> Result<String, String> {
        let text = ip_output(&["-n", &self.recv, "-o", "link", "show", "dev", &self.recv_if])?;
        let mut words = text.split_whitespace();
        words
            .find(|w| *w == "link/ether")
            .and_then(|_| words.next())
            .map(str::to_owned)
            .ok_or_else(|| format!("no MAC address in `ip link show`: {}", text.trim()))
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // Deleting a namespace deletes the veth end in it, and with it the pair.
        for n in [&self.send, &self.recv] {
            let _ = Command::new("ip").args(["netns", "del", n]).stderr(Stdio::null()).status();
        }
    }
}

/// A child in its own process group, killed with the group on drop.
struct Reaper(Child);

impl Drop for Reaper {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            process::kill_group(self.0.id());
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Reaper {
    /// Waits at most `limit`; `None` when the child had to be killed.
    fn wait(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            match self.0.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(20)),
                _ => {
                    process::kill_group(self.0.id());
                    let _ = self.0.kill();
                    let _ = self.0.wait();
                    return None;
                }
            }
        }
    }
}

fn ip(args: &[&str]) -> Result<(), String> {
    ip_output(args).map(drop)
}

fn ip_output(args: &[&str]) -> Result<String, String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run `ip` (iproute2): {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!("ip {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()))
    }
}

fn is_root() -> bool {
    process::output_of("id", &["-u"]).is_some_and(|s| s.trim() == "0")
}

/// The `netconsole` binary cargo builds.
fn netconsole_binary() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::test::root().join("target"));
    target.join("debug").join("netconsole")
}

/// Runs the demo.
pub fn run() -> Result<(), String> {
    if !is_root() {
        // An unprivileged user namespace could hold both ends of a veth pair, but the demo is
        // meant to show two hosts; it does not fake that.
        return Err("demo needs root (for network namespaces); run as root or with sudo".into());
    }
    eprintln!("xtask demo: building the netconsole command");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut build = Command::new(cargo);
    build.current_dir(crate::test::root()).args(["build", "-p", "netconsole-cli"]);
    match process::run_with_timeout(&mut build, Duration::from_secs(900)) {
        Ok(Outcome::Exited(s)) if s.success() => {}
        Ok(Outcome::Exited(s)) => return Err(format!("cargo build -p netconsole-cli: {s}")),
        Ok(Outcome::TimedOut) => return Err("cargo build -p netconsole-cli timed out".into()),
        Err(e) => return Err(format!("cannot run cargo: {e}")),
    }
    let netconsole = netconsole_binary();
    let netconsole = netconsole.to_str().ok_or("the target directory's path is not UTF-8")?;

    eprintln!(
        "xtask demo: mode: two network namespaces joined by a veth pair (running as root), \
         10.99.0.1 + fd99::1 sending, 10.99.0.2 + fd99::2 listening"
    );
    let ns = Netns::create()?;
    let peer_mac = ns.recv_mac()?;

    // Every line reaches two targets: an extended IPv4 one and a basic IPv6 one.
    let expected = (LINES.len() * 2).to_string();
    let mut listen = Command::new("ip");
    listen
        .args([
            "netns",
            "exec",
            &ns.recv,
            netconsole,
            "listen",
            "--bind",
            "[::]:6666",
            "--format",
            "json",
        ])
        .args(["--count", &expected, "--idle-exit", "5"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut listener = Reaper(listen.spawn().map_err(|e| format!("cannot start listen: {e}"))?);
    let stderr = listener.0.stderr.take().expect("piped");
    let (ready_tx, ready_rx) = mpsc::channel();
    let stderr_thread = thread::spawn(move || {
        let mut rest = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("listening on") {
                let _ = ready_tx.send(line.clone());
            }
            rest.push_str(&line);
            rest.push('\n');
        }
        rest
    });
    let mut stdout = listener.0.stdout.take().expect("piped");
    let stdout_thread = thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    match ready_rx.recv_timeout(Duration::from_secs(10)) {
        Ok(line) => eprintln!("listener ({}): {line}", ns.recv),
        Err(_) => {
            drop(listener);
            let err = stderr_thread.join().unwrap_or_default();
            return Err(format!("`netconsole listen` did not start: {}", err.trim()));
        }
    }

    let target =
        format!("+r@10.99.0.1/{dev},@10.99.0.2/{peer_mac};@/{dev},@fd99::2/", dev = ns.send_if);
    eprintln!("sender ({}): netconsole send --via packet --target '{target}'", ns.send);
    let mut send = Command::new("ip");
    send.args(["netns", "exec", &ns.send, netconsole, "send", "--via", "packet", "--target"])
        .arg(&target)
        .args(["--release", "netconsole-rs-demo", "--userdata", "demo=yes"])
        .args(["--sysdata", "taskname,msgid"])
        .stdin(Stdio::piped())
        .process_group(0);
    let mut sender = Reaper(send.spawn().map_err(|e| format!("cannot start send: {e}"))?);
    {
        let mut stdin = sender.0.stdin.take().expect("piped");
        for line in LINES {
            writeln!(stdin, "{line}").map_err(|e| format!("writing to send: {e}"))?;
        }
    }
    let sent = sender.wait(Duration::from_secs(30));
    let received = listener.wait(Duration::from_secs(15));
    let out = stdout_thread.join().unwrap_or_default();
    let err = stderr_thread.join().unwrap_or_default();
    println!("--- what `netconsole listen` printed ---");
    print!("{out}");
    println!("---");
    let sent = sent.ok_or("netconsole send timed out")?;
    if !sent.success() {
        return Err(format!("netconsole send failed ({sent})"));
    }
    match received {
        Some(s) if s.success() => {}
        Some(s) => return Err(format!("netconsole listen failed ({s}): {}", err.trim())),
        None => return Err("netconsole listen timed out".into()),
    }
    let lines = out.lines().count();
    if lines < LINES.len() * 2 {
        return Err(format!("{lines} of {} messages arrived", LINES.len() * 2));
    }
    eprintln!("xtask demo: all {} messages arrived", LINES.len() * 2);
    Ok(())
}
