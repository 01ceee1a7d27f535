/// The option string used when `NETCONSOLE_OPTIONS` is not set at build time: a basic target
/// on port 6666 and an extended one on 6667 of QEMU's user-network host (10.0.2.2).
pub const DEFAULT_OPTIONS: &str = "6665@10.0.2.15/,6666@10.0.2.2/;+6665@10.0.2.15/,6667@10.0.2.2/";

/// [`DEFAULT_OPTIONS`] in a build without the `extended` feature: its basic target alone.
pub const DEFAULT_BASIC_OPTIONS: &str = "6665@10.0.2.15/,6666@10.0.2.2/";

/// Targets the console has room for: the four of the throughput mix (basic, extended,
/// extended with release, basic over IPv6); the default option string uses two. Here, with
/// the option strings, for build.rs: an option string with more fails the build.
pub const TARGETS: usize = 4;
