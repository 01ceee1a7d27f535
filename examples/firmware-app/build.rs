//! Parses the option string compiled in (`NETCONSOLE_OPTIONS`, else `DEFAULT_OPTIONS`) when the
//! crate is built, makes each piece a target with `netconsole::Target::from_options` as the
//! firmware would, and writes what the firmware needs of each (its endpoint, its format) as
//! literals to `$OUT_DIR/options.rs`: the firmware then holds the values, neither the parser
//! (its IP, MAC and port grammar is over a kilobyte of flash on a Cortex-M) nor the checks of
//! `from_options` (0.15 KiB). A string that does not parse, or a piece that makes no target,
//! fails the build with Linux's message, where the firmware would have stopped at boot; so does
//! an extended (`+`) target in a build without the `extended` feature. Without it the default
//! is `DEFAULT_BASIC_OPTIONS`.

use std::fmt::Write as _;
use std::net::IpAddr;

use netconsole::Target;
use netpoll_core::Endpoint;

include!("src/default_options.rs");

fn main() {
    println!("cargo:rerun-if-env-changed=NETCONSOLE_OPTIONS");
    println!("cargo:rerun-if-changed=src/default_options.rs");
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
    let mut targets = String::new();
    for piece in netconsole_options::targets(options) {
        let parsed = match piece {
            Ok(parsed) => parsed,
            Err(e) => {
                // Linux's line (its `Display`), and where.
                eprintln!("netconsole={options}: {e} (byte {})", e.offset());
                std::process::exit(1);
            }
        };
        if parsed.target.extended && !extended_built {
            // The console would refuse it at boot (`ExtendedNotBuilt`): say so now, and where.
            let piece = options.split(';').find(|p| p.trim_start().starts_with('+'));
            eprintln!(
                "netconsole={options}: extended target `{}` needs the extended format, which \
                 this build leaves out: enable firmware-app's `extended` feature (it enables \
                 netconsole's)",
                piece.unwrap_or(options)
            );
            std::process::exit(1);
        }
        if let Some(warning) = parsed.warning {
            // Escaped: a newline in the string would end the instruction and start another.
            let options = options.escape_debug();
            println!("cargo:warning=netconsole={options}: {warning}");
        }
        // No IP from a device: the firmware has none to give (its targets name their source).
        let target = match Target::<0>::from_options(&parsed.target, None) {
            Ok(target) => target,
            Err(e) => {
                eprintln!("netconsole={options}: {e}");
                std::process::exit(1);
            }
        };
        let _ = writeln!(targets, "    {},", literal(&target));
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
