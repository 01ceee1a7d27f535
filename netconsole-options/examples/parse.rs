//! Parses a `netconsole=` option string and prints each target, one line per `;` piece.
//!
//! ```text
//! cargo run -q -p netconsole-options --example parse -- '+@/,@10.0.0.2/;@/,@10.0.0/'
//! extended=1 release=0 local_port=6665 local_ip=auto dev=eth0 remote_port=6666 remote_ip=10.0.0.2 remote_mac=ff:ff:ff:ff:ff:ff
//! error: couldn't parse config at '10.0.0'!
//! ```
//!
//! Warnings go to stderr as `warning: <text>`. Exit status: 0 when every piece parsed, 1 when
//! any failed, 2 for a usage error.

use netconsole_options::{targets_bytes, Device, Target};
use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

/// The fields of one parsed target, in the example's fixed order.
fn describe(t: &Target) -> String {
    let local_ip = match t.local_ip {
        Some(ip) => ip.to_string(),
        None => "auto".to_string(),
    };
    let device = match &t.device {
        Device::Name(name) => format!("dev={name}"),
        Device::Mac(mac) => format!("dev_mac={mac}"),
    };
    format!(
        "extended={} release={} local_port={} local_ip={local_ip} {device} remote_port={} remote_ip={} remote_mac={}",
        u8::from(t.extended),
        u8::from(t.release),
        t.local_port,
        t.remote_port,
        t.remote_ip,
        t.effective_remote_mac(),
    )
}

/// The option string's bytes, exactly as given (on Unix an argument need not be UTF-8).
fn arg_bytes(arg: OsString) -> Option<Vec<u8>> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStringExt;
        Some(arg.into_vec())
    }
    #[cfg(not(unix))]
    {
        arg.into_string().ok().map(String::into_bytes)
    }
}

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let (Some(arg), None) = (args.next(), args.next()) else {
        eprintln!("usage: parse '<option string>'");
        return ExitCode::from(2);
    };
    let Some(input) = arg_bytes(arg) else {
        eprintln!("usage: parse '<option string>' (the option string is not UTF-8)");
        return ExitCode::from(2);
    };

    let mut all_parsed = true;
    let mut out = std::io::stdout().lock();
    for result in targets_bytes(&input) {
        let warning = match &result {
            Ok(parsed) => parsed.warning,
            Err(error) => error.warning(),
        };
        if let Some(warning) = warning {
            eprintln!("warning: {warning}");
        }
        let line = match result {
            Ok(parsed) => describe(&parsed.target),
            Err(error) => {
                all_parsed = false;
                format!("error: {error}")
            }
        };
        if writeln!(out, "{line}").is_err() {
            return ExitCode::FAILURE;
        }
    }
    if all_parsed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod test {
    use super::describe;
    use netconsole_options::parse_target;

    fn line(option: &str) -> String {
        describe(&parse_target(option).unwrap().target)
    }

    #[test]
    fn prints_every_field_in_order() {
        assert_eq!(
            line("@/,@10.0.0.2/"),
            "extended=0 release=0 local_port=6665 local_ip=auto dev=eth0 remote_port=6666 \
             remote_ip=10.0.0.2 remote_mac=ff:ff:ff:ff:ff:ff"
        );
        assert_eq!(
            line("+r4444@10.0.0.1/eth1,9353@10.0.0.2/12:34:56:78:9A:BC"),
            "extended=1 release=1 local_port=4444 local_ip=10.0.0.1 dev=eth1 remote_port=9353 \
             remote_ip=10.0.0.2 remote_mac=12:34:56:78:9a:bc"
        );
        assert_eq!(
            line("@fd00::1/AA:BB:CC:DD:EE:FF,@FD00:0::2/"),
            "extended=0 release=0 local_port=6665 local_ip=fd00::1 dev_mac=aa:bb:cc:dd:ee:ff \
             remote_port=6666 remote_ip=fd00::2 remote_mac=ff:ff:ff:ff:ff:ff"
        );
    }
}
