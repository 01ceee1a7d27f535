//! Parses the option string compiled in (`NETCONSOLE_OPTIONS`, else `DEFAULT_OPTIONS`) when the
//! crate is built, and writes the targets as `netconsole_options::Target` literals to
//! `$OUT_DIR/options.rs`: the firmware then holds the parsed values, not the parser (its IP,
//! MAC and port grammar is over a kilobyte of flash on a Cortex-M). A string that does not
//! parse fails the build with Linux's message, where the firmware would have stopped at boot;
//! so does an extended (`+`) target in a build without the `extended` feature. Without it the
//! default is `DEFAULT_BASIC_OPTIONS`.

use std::fmt::Write as _;
use std::net::IpAddr;

use netconsole_options::{Device, Target};

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
        let _ = writeln!(targets, "    {},", literal(&parsed.target));
    }
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let code = format!(
        "/// The option string compiled in.\n\
         pub(crate) const OPTIONS: &str = {options:?};\n\
         /// Its targets, parsed by build.rs.\n\
         pub(crate) const PARSED: &[netconsole_options::Target] = &[\n{targets}];\n"
    );
    std::fs::write(out.join("options.rs"), code).expect("write options.rs");
}

/// `target` as a Rust expression.
fn literal(t: &Target) -> String {
    let local_ip = match t.local_ip {
        Some(ip) => format!("Some({})", ip_literal(ip)),
        None => "None".into(),
    };
    let device = match t.device {
        Device::Name(name) => format!(
            "netconsole_options::Device::Name(match netconsole_options::DeviceName::new(&{:?}) \
             {{ Ok(name) => name, Err(_) => panic!(\"device name\") }})",
            name.as_bytes()
        ),
        Device::Mac(mac) => format!("netconsole_options::Device::Mac({})", mac_literal(mac.0)),
    };
    let remote_mac = match t.remote_mac {
        Some(mac) => format!("Some({})", mac_literal(mac.0)),
        None => "None".into(),
    };
    format!(
        "netconsole_options::Target {{ extended: {}, release: {}, local_port: {}, \
         local_ip: {local_ip}, device: {device}, remote_port: {}, remote_ip: {}, \
         remote_mac: {remote_mac} }}",
        t.extended,
        t.release,
        t.local_port,
        t.remote_port,
        ip_literal(t.remote_ip)
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

fn mac_literal(octets: [u8; 6]) -> String {
    format!("netconsole_options::MacAddr({octets:?})")
}
