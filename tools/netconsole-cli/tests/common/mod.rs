//! Support shared by the `netconsole` command's tests: children under a deadline, the skip rule.
#![allow(dead_code)] // each test binary uses a part

use std::io::{Read as _, Write as _};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// Skips the calling test, saying why; fails it instead when `NETCONSOLE_REQUIRE_ALL=1` (as
/// `cargo xtask test --require-all` sets it).
pub fn skip(reason: &str) {
    if std::env::var("NETCONSOLE_REQUIRE_ALL").as_deref() == Ok("1") {
        panic!("NETCONSOLE_REQUIRE_ALL=1 but this test cannot run: {reason}");
    }
    println!("SKIPPED: {reason}");
}

/// Waits for `child` at most `limit`; kills it and returns `None` when time is up.
pub fn wait_timeout(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// Runs `cmd` with `input` on stdin to its end, and panics if it outlives `limit`: its status,
/// stdout and stderr.
pub fn run(cmd: &mut Command, input: Vec<u8>, limit: Duration) -> (ExitStatus, Vec<u8>, String) {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    let mut stdin = child.stdin.take().unwrap();
    let writer = thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let mut out = child.stdout.take().unwrap();
    let out = thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let mut err = child.stderr.take().unwrap();
    let err = thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        String::from_utf8_lossy(&v).into_owned()
    });
    let Some(status) = wait_timeout(&mut child, limit) else {
        panic!("{cmd:?} still running after {limit:?}");
    };
    writer.join().unwrap();
    (status, out.join().unwrap(), err.join().unwrap())
}

/// Bytes from lowercase or uppercase hex.
pub fn unhex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}
