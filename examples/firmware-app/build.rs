//! Parses the option string compiled in (`NETCONSOLE_OPTIONS`, else `DEFAULT_OPTIONS`) when the
//! crate is built, makes each piece a target with `netconsole::Target::from_options` as the
//! firmware would, and writes what the firmware needs of each (its endpoint, its format) as
//! literals to `$OUT_DIR/options.rs`: the firmware then holds the values, neither the parser
//! (its IP, MAC and port grammar is over a kilobyte of flash on a Cortex-M) nor the checks of
//! `from_options` (0.15 KiB). A string that does not parse, or a piece that makes no target,
//! fails the build with Linux's message, where the firmware would have stopped at boot; so does
//! an extended (`+`) target in a build without the `extended` feature, an empty string (no
//! target) and one with more targets than `TARGETS`. Without the feature the default is
//! `DEFAULT_BASIC_OPTIONS`.

use std::fmt::Write as _;
use std::net::IpAddr;

use netconsole::Target;
use netpoll_core::Endpoint;

include!("src/default_options.rs");

#[path = "build/compiled_in.rs"]
mod compiled_in;

fn main() {
    println!("cargo:rerun-if-env-changed=NETCONSOLE_OPTIONS");
    println!("cargo:rerun-if-changed=src/default_options.rs");
    println!("cargo:rerun-if-changed=build/compiled_in.rs");
    let from_env = match std::env::var("NETCONSOLE_OPTIONS") {
        Ok(options) => Some(options),
        Err(std::env::VarError::NotPresent) => None,
        Err(std::env::VarError::NotUnicode(raw)) => {
            // Not the default in its place: the firmware would log to targets nobody asked for.
            eprintln!("NETCONSOLE_OPTIONS is not UTF-8: {raw:?}");
            std::process::exit(1);
        }
    };
    // Cargo sets it when the `extended` feature is on.
    let extended_built = std::env::var_os("CARGO_FEATURE_EXTENDED").is_some();
    let default = if extended_built { DEFAULT_OPTIONS } else { DEFAULT_BASIC_OPTIONS };
    let options = from_env.as_deref().unwrap_or(default);
    let (made, warnings) = match compiled_in::targets_of(options, extended_built) {
        Ok(made) => made,
        Err(why) => {
            eprintln!("{why}");
            std::process::exit(1);
        }
    };
    for warning in warnings {
        // Escaped: a newline in the string would end the instruction and start another.
        println!("cargo:warning={}", warning.escape_debug());
    }
    let mut targets = String::new();
    for target in &made {
        let _ = writeln!(targets, "    {},", literal(target));
    }
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let code = format!(
        "/// The option string compiled in.\n\
         const OPTIONS: &str = {options:?};\n\
         /// Its targets, as build.rs made them.\n\
         const COMPILED_IN: &[CompiledIn] = &[\n{targets}];\n"
    );
    std::fs::write(out.join("options.rs"), code).expect("write options.rs");
}

/// What the firmware needs of `target`, as a Rust expression.
fn literal(t: &Target<0>) -> String {
    format!(
        "CompiledIn {{ endpoint: {}, extended: {}, release: {} }}",
        endpoint_literal(&t.endpoint),
        t.extended,
        t.release
    )
}

fn endpoint_literal(e: &Endpoint) -> String {
    let remote_mac = match e.remote_mac {
        Some(mac) => format!("Some(netpoll_core::MacAddr({:?}))", mac.0),
        None => "None".into(),
    };
    let gateway = match e.gateway {
        Some(ip) => format!("Some(core::net::Ipv4Addr::from_bits({}))", ip.to_bits()),
        None => "None".into(),
    };
    format!(
        "netpoll_core::Endpoint {{ local_ip: {}, local_port: {}, remote_ip: {}, \
         remote_port: {}, remote_mac: {remote_mac}, gateway: {gateway} }}",
        ip_literal(e.local_ip),
        e.local_port,
        ip_literal(e.remote_ip),
        e.remote_port
    )
}

fn ip_literal(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            format!("core::net::IpAddr::V4(core::net::Ipv4Addr::from_bits({}))", v4.to_bits())
        }
        IpAddr::V6(v6) => {
            format!("core::net::IpAddr::V6(core::net::Ipv6Addr::from_bits({}))", v6.to_bits())
        }
    }
}
