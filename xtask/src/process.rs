//! Child processes with a deadline: every command the xtask runs is killed, with its whole
//! process group, when its time is up, so a deadlock fails the run instead of hanging it.

use std::io;
use std::os::unix::process::CommandExt;
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
