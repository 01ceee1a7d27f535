//! `netconsole send` refusing what it cannot do: each error is exactly one line on stderr naming
//! what was wrong, with exit status 2 for bad arguments and 1 for a device that cannot be
//! opened, and a refused `--via pcap:` run leaves no file behind. None of these needs root:
//! every check comes before a socket is opened. Every child runs under a timeout.
//!
//! (`netconsole listen` on malformed datagrams is covered in `tests/listen.rs`.)

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const CHILD_TIMEOUT: Duration = Duration::from_secs(30);

/// An empty directory of its own for each test, removed with its contents when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let path = std::env::temp_dir()
            .join(format!("netconsole-cli-errors-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir(&path).expect("create the temp directory");
        TempDir(path)
    }

    /// What the directory holds, by name.
    fn entries(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .expect("read the temp directory")
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `netconsole send <args>` with stdin closed at once; its exit code (`None` if killed by a
/// signal), stdout and stderr.
fn send(args: &[&str]) -> (Option<i32>, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_netconsole"));
    cmd.arg("send").args(args);
    let (status, out, err) = common::run(&mut cmd, Vec::new(), CHILD_TIMEOUT);
    (status.code(), String::from_utf8_lossy(&out).into_owned(), err)
}

/// Asserts exit code `code`, nothing on stdout, and stderr exactly one line; returns the line.
fn one_line_error(args: &[&str], code: i32) -> String {
    let (status, out, err) = send(args);
    assert_eq!(status, Some(code), "exit code of send {args:?}; stderr:\n{err}");
    assert_eq!(out, "", "stdout of send {args:?}");
    assert!(err.ends_with('\n'), "send {args:?}: stderr not a finished line: {err:?}");
    assert_eq!(err.lines().count(), 1, "send {args:?}: stderr is not one line:\n{err}");
    err.trim_end_matches('\n').to_owned()
}

fn pcap_arg(path: &Path) -> String {
    format!("pcap:{}", path.display())
}

#[test]
fn bad_option_string_is_one_line_naming_the_place() {
    let dir = TempDir::new("option");
    let pcap = pcap_arg(&dir.0.join("out.pcap"));
    for via in ["packet", &pcap] {
        let line = one_line_error(&["--via", via, "--target", "@/,@10.0.0.2"], 2);
        assert_eq!(line, "netconsole: couldn't parse config at '10.0.0.2'!", "--via {via}");
    }
    assert_eq!(dir.entries(), Vec::<String>::new(), "a file was left behind");
}

#[test]
fn unknown_interface_is_one_line_naming_it() {
    // The interface is looked up before the AF_PACKET socket is opened: no root needed.
    let line = one_line_error(&["--via", "packet", "--target", "@/ncnosuch0,@10.0.0.2/"], 1);
    assert_eq!(line, "netconsole send: no such interface 'ncnosuch0'");
}

#[test]
fn pcap_in_a_missing_directory_is_one_line_and_no_file() {
    let dir = TempDir::new("missing");
    let path = dir.0.join("missing").join("out.pcap");
    let line = one_line_error(&["--via", &pcap_arg(&path), "--target", "@1.2.3.4/,@10.0.0.2/"], 1);
    assert!(line.starts_with("netconsole send: cannot create pcap file '"), "{line}");
    assert!(line.contains(&path.display().to_string()), "{line}");
    assert_eq!(dir.entries(), Vec::<String>::new(), "something was left behind");
}

#[test]
fn pcap_path_that_is_a_directory_is_one_line_and_no_file() {
    let dir = TempDir::new("isdir");
    std::fs::create_dir(dir.0.join("d")).unwrap();
    let path = dir.0.join("d");
    let line = one_line_error(&["--via", &pcap_arg(&path), "--target", "@1.2.3.4/,@10.0.0.2/"], 1);
    assert!(line.starts_with("netconsole send: cannot create pcap file '"), "{line}");
    assert!(line.contains(&path.display().to_string()), "{line}");
    assert!(path.is_dir());
    assert_eq!(dir.entries(), ["d"]);
    assert_eq!(std::fs::read_dir(&path).unwrap().count(), 0, "something was written in d");
}

#[test]
fn bad_userdata_with_pcap_is_one_line_and_no_file() {
    let dir = TempDir::new("userdata");
    let pcap = pcap_arg(&dir.0.join("out.pcap"));
    let key = "k".repeat(60);
    let userdata = format!("{key}=v");
    let line = one_line_error(
        &["--via", &pcap, "--target", "+@1.2.3.4/,@10.0.0.2/", "--userdata", &userdata],
        2,
    );
    assert!(line.starts_with(&format!("netconsole: --userdata {userdata}: ")), "{line}");
    assert!(line.contains("60 bytes"), "{line}");
    assert_eq!(dir.entries(), Vec::<String>::new(), "a file was left behind");
}

#[test]
fn too_many_targets_with_pcap_is_one_line_and_no_file() {
    // Nine targets (one console takes eight); short enough for Linux's 255-byte limit.
    let dir = TempDir::new("targets");
    let pcap = pcap_arg(&dir.0.join("out.pcap"));
    let targets: Vec<String> = (1..=9).map(|i| format!("@/,{i}@1.2.3.4/")).collect();
    let option = targets.join(";");
    let line = one_line_error(&["--via", &pcap, "--local-ip", "10.0.0.1", "--target", &option], 2);
    assert!(line.starts_with("netconsole: target '"), "{line}");
    assert!(line.ends_with("no room for another target"), "{line}");
    assert_eq!(dir.entries(), Vec::<String>::new(), "a file was left behind");
}

#[test]
fn bad_arguments_exit_2_with_one_line_naming_them() {
    let dir = TempDir::new("args");
    let pcap = pcap_arg(&dir.0.join("out.pcap"));
    let target = "@1.2.3.4/,@10.0.0.2/";
    for (args, needle) in [
        (&["--via", &pcap, "--target", target, "--frobnicate"][..], "'--frobnicate'"),
        (&["--frobnicate", "--via", &pcap, "--target", target], "'--frobnicate'"),
        (&["--via", "carrier-pigeon", "--target", target], "'carrier-pigeon'"),
        (&["--via", &pcap, "--target", target, "--level", "8"], "--level"),
        (&["--via", &pcap, "--target", target, "--sysdata", "uptime"], "'uptime'"),
        (&["--via", &pcap, "--target", target, "--local-ip", "10.0.0"], "'10.0.0'"),
        (&["--via", &pcap, "--target", target, "--local-mac", "02:00"], "'02:00'"),
        (&["--via", &pcap, "--target", target, "--userdata", "novalue"], "'novalue'"),
        (&["--via", &pcap], "--target"),
        (&["--target", target], "--via"),
        (&["--via", &pcap, "--target"], "--target"),
        (&["--via", &pcap, "--target", "r@1.2.3.4/,@10.0.0.2/"], "extended"),
    ] {
        let line = one_line_error(args, 2);
        assert!(line.starts_with("netconsole"), "{args:?}: {line}");
        assert!(line.contains(needle), "{args:?}: {needle} not in {line}");
    }
    assert_eq!(dir.entries(), Vec::<String>::new(), "a file was left behind");
}
