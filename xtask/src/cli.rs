//! The `netconsole` command, as the demo, the QEMU runs and the benchmarks use it.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::process;

/// Which build of the command a run wants.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// The dev profile: quick to build, enough for checking what arrives.
    Debug,
    /// Optimised, for throughput runs: a debug `netconsole listen` takes about 25,000
    /// datagrams/s on this project's machines, an optimised one about 90,000, as many as a
    /// plain UDP socket read loop.
    Release,
}

/// The `netconsole` command to run: `NETCONSOLE_BIN` when set, used as it is, else the one
/// cargo builds now with `profile`.
pub fn netconsole(profile: Profile) -> Result<PathBuf, String> {
    if let Some(bin) = std::env::var_os("NETCONSOLE_BIN") {
        eprintln!("xtask: using NETCONSOLE_BIN={}", Path::new(&bin).display());
        return Ok(bin.into());
    }
    let root = crate::test::root();
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(&root).args(["build", "-p", "netconsole-cli"]);
    let dir = match profile {
        Profile::Debug => "debug",
        Profile::Release => {
            cmd.arg("--release");
            "release"
        }
    };
    eprintln!("xtask: building the netconsole command ({dir})");
    process::build(&mut cmd, &format!("cargo build -p netconsole-cli ({dir})"))?;
    Ok(process::target_dir(&root).join(dir).join("netconsole"))
}
