//! `cargo xtask demo`: the mission end to end on this machine: `netconsole send --via packet`
//! puts a few lines on a veth pair through an AF_PACKET socket, the real Linux network stack
//! takes them in, `netconsole listen` prints them, and the demo shows what arrived.
//!
//! Two modes, and the demo says which one ran and why:
//! - root: two network namespaces joined by a veth pair, sender in one, listener in the other;
//! - not root: the demo runs itself again under `unshare --user --map-root-user --net`, an
//!   unprivileged user namespace with a network namespace of its own, and puts both ends of the
//!   veth pair there. Both addresses are then local to one stack, so it sets
//!   `accept_local=1` and `rp_filter=0` (else the kernel drops the injected IPv4 frames as
//!   martians, their source being one of its own addresses).
//!
//! Then, when `qemu-system-riscv64` is installed, it boots the riscv64 virtio example too
//! (`cargo xtask qemu virtio`), and says so either way.
//!
//! No traffic leaves the namespaces it creates, which go away on the way out, whatever happens.
//! `NETCONSOLE_BIN` names a `netconsole` binary to use instead of building one.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::os::unix::process::CommandExt as _;
use std::path::Path;
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

/// Set by the unprivileged mode for its second run, inside the namespace: the `netconsole`
/// binary to run.
const INSIDE_ENV: &str = "NETCONSOLE_DEMO_IN_USERNS";
/// The veth pair of the unprivileged mode (the namespace is new, so the names are free).
const LOCAL_SEND_IF: &str = "ncdemo-a";
const LOCAL_RECV_IF: &str = "ncdemo-b";

/// Two namespaces and a veth pair between them; deleted on drop. `bench host` uses it too.
pub(crate) struct Netns {
    pub(crate) send: String,
    pub(crate) recv: String,
    pub(crate) send_if: String,
    pub(crate) recv_if: String,
}

impl Netns {
    pub(crate) fn create() -> Result<Netns, String> {
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
        wait_up(&[&ns.send, &ns.recv], &[&ns.send_if, &ns.recv_if])?;
        Ok(ns)
    }

    /// The receiving interface's MAC, as `ip` prints it.
    pub(crate) fn recv_mac(&self) -> Result<String, String> {
        link_mac(Some(&self.recv), &self.recv_if)
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

/// The unprivileged mode's veth pair, both ends in this (the demo's own) network namespace;
/// deleted on drop (the namespace would take it with it anyway when the demo exits).
struct LocalVeth;

impl LocalVeth {
    fn create() -> Result<LocalVeth, String> {
        ip(&["link", "add", LOCAL_SEND_IF, "type", "veth", "peer", "name", LOCAL_RECV_IF])?;
        let veth = LocalVeth;
        for (dev, v4, v6) in [
            (LOCAL_SEND_IF, "10.99.0.1/24", "fd99::1/64"),
            (LOCAL_RECV_IF, "10.99.0.2/24", "fd99::2/64"),
        ] {
            ip(&["addr", "add", v4, "dev", dev])?;
            ip(&["addr", "add", v6, "dev", dev, "nodad"])?;
        }
        // The frames arrive on the second end with a source address that is the first end's,
        // local to this same stack: without accept_local the kernel drops them as martians
        // (IPv4), and the reverse-path filter must not look either.
        for dev in ["all", "default", LOCAL_SEND_IF, LOCAL_RECV_IF] {
            sysctl(&format!("net/ipv4/conf/{dev}/accept_local"), "1")?;
            sysctl(&format!("net/ipv4/conf/{dev}/rp_filter"), "0")?;
        }
        ip(&["link", "set", "lo", "up"])?;
        for dev in [LOCAL_SEND_IF, LOCAL_RECV_IF] {
            ip(&["link", "set", dev, "up"])?;
        }
        wait_up(&[], &[LOCAL_SEND_IF, LOCAL_RECV_IF])?;
        Ok(veth)
    }
}

impl Drop for LocalVeth {
    fn drop(&mut self) {
        let _ =
            Command::new("ip").args(["link", "del", LOCAL_SEND_IF]).stderr(Stdio::null()).status();
    }
}

/// Writes a sysctl of this network namespace through /proc/sys (no `sysctl` binary needed).
fn sysctl(name: &str, value: &str) -> Result<(), String> {
    let path = Path::new("/proc/sys").join(name);
    std::fs::write(&path, value).map_err(|e| format!("cannot set {}: {e}", path.display()))
}

/// Waits until every `dev` (in namespace `netns`, or this one when empty) is UP with a real
/// qdisc: frames sent before the kernel activates a link are dropped silently.
fn wait_up(netns: &[&str], devs: &[&str]) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    for (i, dev) in devs.iter().enumerate() {
        let mut args: Vec<&str> = Vec::new();
        if let Some(n) = netns.get(i).filter(|n| !n.is_empty()) {
            args.extend(["-n", n]);
        }
        args.extend(["-o", "link", "show", "dev", dev]);
        loop {
            let text = ip_output(&args)?;
            if text.contains("state UP") && !text.contains("qdisc noop") {
                break;
            }
            if Instant::now() >= deadline {
                return Err(format!("{dev} did not come up: {}", text.trim()));
            }
            thread::sleep(Duration::from_millis(50));
        }
    }
    Ok(())
}

/// The MAC of `dev` (in namespace `netns`, or this one when `None`), as `ip` prints it.
fn link_mac(netns: Option<&str>, dev: &str) -> Result<String, String> {
    let mut args: Vec<&str> = Vec::new();
    if let Some(n) = netns {
        args.extend(["-n", n]);
    }
    args.extend(["-o", "link", "show", "dev", dev]);
    let text = ip_output(&args)?;
    let mut words = text.split_whitespace();
    words
        .find(|w| *w == "link/ether")
        .and_then(|_| words.next())
        .map(str::to_owned)
        .ok_or_else(|| format!("no MAC address in `ip link show`: {}", text.trim()))
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

pub(crate) fn is_root() -> bool {
    process::output_of("id", &["-u"]).is_some_and(|s| s.trim() == "0")
}

/// Runs the demo.
pub fn run() -> Result<(), String> {
    if let Some(netconsole) = std::env::var_os(INSIDE_ENV) {
        // The second run of the unprivileged mode, inside its namespace.
        let netconsole = netconsole.into_string().map_err(|_| "NETCONSOLE_BIN is not UTF-8")?;
        return inside_user_namespace(&netconsole);
    }
    veth()?;
    crate::qemu::demo()
}

/// The veth part of the demo, as root or in a user namespace.
fn veth() -> Result<(), String> {
    if is_root() {
        let netconsole = crate::cli::netconsole(crate::cli::Profile::Debug)?;
        let netconsole = netconsole.to_str().ok_or("the netconsole binary's path is not UTF-8")?;
        return as_root(netconsole);
    }
    // Check before building, so that a machine where it cannot run says so at once.
    check_user_namespaces()?;
    let netconsole = crate::cli::netconsole(crate::cli::Profile::Debug)?;
    unprivileged(&netconsole)
}

/// Whether this user can make a user namespace with a network namespace of its own; else why
/// not, plainly.
fn check_user_namespaces() -> Result<(), String> {
    let why = "not running as root, so the demo cannot create network namespaces of its own; \
               its unprivileged mode needs an unprivileged user namespace instead";
    if !process::available("unshare", &["--version"]) {
        return Err(format!("{why}, made by `unshare` (util-linux), which is not installed"));
    }
    let mut probe = Command::new("unshare");
    probe.args(["--user", "--map-root-user", "--net", "true"]).stderr(Stdio::null());
    match process::run_with_timeout(&mut probe, Duration::from_secs(10)) {
        Ok(Outcome::Exited(s)) if s.success() => Ok(()),
        Ok(Outcome::Exited(s)) => {
            let limits = [
                "/proc/sys/kernel/unprivileged_userns_clone",
                "/proc/sys/user/max_user_namespaces",
            ]
            .iter()
            .filter_map(|p| {
                let v = std::fs::read_to_string(p).ok()?;
                Some(format!(
                    "{} = {}",
                    p.trim_start_matches("/proc/sys/").replace('/', "."),
                    v.trim()
                ))
            })
            .collect::<Vec<_>>()
            .join(", ");
            Err(format!(
                "{why}, and this machine does not allow one (`unshare -Urn true`: {s}; {limits}); \
                 run the demo as root or with sudo"
            ))
        }
        Ok(Outcome::TimedOut) => Err(format!("{why}, and `unshare -Urn true` timed out")),
        Err(e) => Err(format!("{why}, and `unshare` cannot be run: {e}")),
    }
}

/// Root: two namespaces joined by a veth pair.
fn as_root(netconsole: &str) -> Result<(), String> {
    println!(
        "xtask demo: mode: root: two namespaces joined by veth. Why: running as root, so it can \
         create named network namespaces: 10.99.0.1 + fd99::1 send from one, 10.99.0.2 + \
         fd99::2 listen in the other."
    );
    let ns = Netns::create()?;
    let peer_mac = ns.recv_mac()?;
    exchange(&Exchange {
        netconsole,
        send_in: &["ip", "netns", "exec", &ns.send],
        listen_in: &["ip", "netns", "exec", &ns.recv],
        send_place: &ns.send,
        listen_place: &ns.recv,
        send_if: &ns.send_if,
        peer_mac: &peer_mac,
        binds: &["[::]:6666"],
    })
}

/// Not root: runs the demo again in a user namespace with a network namespace of its own.
fn unprivileged(netconsole: &Path) -> Result<(), String> {
    println!(
        "xtask demo: mode: unprivileged: user+network namespace, veth pair inside it. Why: not \
         running as root, so it cannot create named network namespaces; an unprivileged user \
         namespace (`unshare --user --map-root-user --net`) gives it a network namespace of its \
         own, with both ends of a veth pair in it: 10.99.0.1 + fd99::1 send, 10.99.0.2 + \
         fd99::2 listen, through the same kernel stack (accept_local=1 and rp_filter=0 there, \
         as both addresses are its own)."
    );
    let me = std::env::current_exe().map_err(|e| format!("cannot find the xtask binary: {e}"))?;
    let mut inner = Command::new("unshare");
    inner
        .args(["--user", "--map-root-user", "--net", "--"])
        .arg(me)
        .arg("demo")
        .env(INSIDE_ENV, netconsole);
    match process::run_with_timeout(&mut inner, Duration::from_secs(120)) {
        Ok(Outcome::Exited(s)) if s.success() => Ok(()),
        Ok(Outcome::Exited(s)) => Err(format!("the demo in the user namespace failed ({s})")),
        Ok(Outcome::TimedOut) => Err("the demo in the user namespace timed out".into()),
        Err(e) => Err(format!("cannot run unshare: {e}")),
    }
}

/// The unprivileged mode's second run, as root of its own user and network namespace.
fn inside_user_namespace(netconsole: &str) -> Result<(), String> {
    let veth = LocalVeth::create()?;
    let peer_mac = link_mac(None, LOCAL_RECV_IF)?;
    let result = exchange(&Exchange {
        netconsole,
        send_in: &[],
        listen_in: &[],
        send_place: "user+network namespace",
        listen_place: "same namespace",
        send_if: LOCAL_SEND_IF,
        peer_mac: &peer_mac,
        binds: &["10.99.0.2:6666", "[fd99::2]:6666"],
    });
    drop(veth);
    result
}

/// One run of the demo: where the sender and the listener run and what they use.
struct Exchange<'a> {
    netconsole: &'a str,
    /// The command that runs `netconsole send` in its place (empty: here).
    send_in: &'a [&'a str],
    /// The command that runs `netconsole listen` in its place (empty: here).
    listen_in: &'a [&'a str],
    send_place: &'a str,
    listen_place: &'a str,
    send_if: &'a str,
    peer_mac: &'a str,
    binds: &'a [&'a str],
}

/// `netconsole` run through `prefix` (e.g. `ip netns exec NS`), or directly.
fn netconsole_in(prefix: &[&str], netconsole: &str) -> Command {
    match prefix.split_first() {
        Some((program, args)) => {
            let mut cmd = Command::new(program);
            cmd.args(args).arg(netconsole);
            cmd
        }
        None => Command::new(netconsole),
    }
}

/// Starts the listener, sends [`LINES`] to an extended IPv4 target and a basic IPv6 one, and
/// prints what arrived.
fn exchange(x: &Exchange<'_>) -> Result<(), String> {
    // Every line reaches two targets: an extended IPv4 one and a basic IPv6 one.
    let expected = (LINES.len() * 2).to_string();
    let mut listen = netconsole_in(x.listen_in, x.netconsole);
    listen.arg("listen");
    for bind in x.binds {
        listen.args(["--bind", bind]);
    }
    listen
        .args(["--format", "json", "--count", &expected, "--idle-exit", "5"])
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
        Ok(line) => eprintln!("listener ({}): {line}", x.listen_place),
        Err(_) => {
            drop(listener);
            let err = stderr_thread.join().unwrap_or_default();
            return Err(format!("`netconsole listen` did not start: {}", err.trim()));
        }
    }

    let target = format!(
        "+r@10.99.0.1/{dev},@10.99.0.2/{mac};@/{dev},@fd99::2/",
        dev = x.send_if,
        mac = x.peer_mac
    );
    eprintln!("sender ({}): netconsole send --via packet --target '{target}'", x.send_place);
    let mut send = netconsole_in(x.send_in, x.netconsole);
    send.args(["send", "--via", "packet", "--target"])
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
