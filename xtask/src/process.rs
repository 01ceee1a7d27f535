//! Child processes with a deadline: every command the xtask runs is killed, with its whole
//! process group, when its time is up, so a deadlock fails the run instead of hanging it.

use std::io;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// How a command ended.
pub enum Outcome {
    /// It exited by itself.
    Exited(ExitStatus),
    /// It ran out of time and was killed.
    TimedOut,
}

/// Runs `cmd` (inheriting stdio) in its own process group for at most `limit`.
pub fn run_with_timeout(cmd: &mut Command, limit: Duration) -> io::Result<Outcome> {
    cmd.process_group(0);
    let mut child = cmd.spawn()?;
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Outcome::Exited(status));
        }
        if Instant::now() >= deadline {
            kill_group(child.id());
            let _ = child.kill();
            let _ = child.wait();
            return Ok(Outcome::TimedOut);
        }
        sleep(Duration::from_millis(50));
    }
}

/// Sends SIGKILL to the process group led by `pid` (the child and everything it started).
pub fn kill_group(pid: u32) {
    let _ = Command::new("kill").args(["-KILL", "--", &format!("-{pid}")]).status();
}

/// Whether `program` can be started (found on PATH and runs `args`).
pub fn available(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// The output of a short query command, if it ran and succeeded.
pub fn output_of(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// How long a build may take before it counts as hung.
pub const BUILD_LIMIT: Duration = Duration::from_secs(900);

/// Runs `cmd`, a build, for at most [`BUILD_LIMIT`]; `what` names it in the error.
pub fn build(cmd: &mut Command, what: &str) -> Result<(), String> {
    match run_with_timeout(cmd, BUILD_LIMIT) {
        Ok(Outcome::Exited(s)) if s.success() => Ok(()),
        Ok(Outcome::Exited(s)) => Err(format!("{what}: {s}")),
        Ok(Outcome::TimedOut) => Err(format!("{what} timed out")),
        Err(e) => Err(format!("cannot run cargo for {what}: {e}")),
    }
}

/// Where cargo puts what it builds from `dir`: `CARGO_TARGET_DIR`, else `dir/target`.
pub fn target_dir(dir: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| dir.join("target"), PathBuf::from)
}
