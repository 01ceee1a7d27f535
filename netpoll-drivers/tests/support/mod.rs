//! Support shared by the driver tests: child processes under a deadline, the skip rule, and
//! (with `linux`) network namespaces. Each test binary uses a part of it.
#![allow(dead_code)]

use std::io::{self, Read};
use std::process::{Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

#[cfg(feature = "linux")]
pub mod netns;

/// Skips the calling test, saying why; fails it instead when `NETCONSOLE_REQUIRE_ALL=1` (as
/// `cargo xtask test --require-all` sets it).
pub fn skip(reason: &str) {
    if std::env::var("NETCONSOLE_REQUIRE_ALL").is_ok_and(|v| v == "1") {
        panic!("NETCONSOLE_REQUIRE_ALL=1 and a prerequisite is missing: {reason}");
    }
    println!("SKIPPED: {reason}");
    eprintln!("SKIPPED: {reason}");
}

/// Runs `cmd` to completion, killing it after `limit`.
pub fn run(cmd: &mut Command, limit: Duration) -> io::Result<Output> {
    let mut child =
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
    let mut out = child.stdout.take().expect("piped stdout");
    let mut err = child.stderr.take().expect("piped stderr");
    let out = thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let err = thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(io::Error::new(io::ErrorKind::TimedOut, format!("{cmd:?} timed out")));
        }
        thread::sleep(Duration::from_millis(5));
    };
    Ok(Output { status, stdout: out.join().expect("reader"), stderr: err.join().expect("reader") })
}
