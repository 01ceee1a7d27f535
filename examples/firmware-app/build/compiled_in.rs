//! What build.rs makes of the option string compiled in: the targets, as
//! `netconsole::Target::from_options` makes them, or the message that fails the build. Apart
//! from build.rs so that the crate's host tests can call it (`#[path]`), with no cargo run.

use netconsole::Target;

/// The targets of `options`, and the parser's warnings; or why the build fails, in words that
/// name the option string. `extended_built`: whether the firmware has the extended format.
/// A firmware whose bring-up cannot succeed fails the build: no target at all (it would log
/// to nobody), or more than the console's [`TARGETS`](crate::TARGETS) (it would stop at boot).
pub fn targets_of(
    options: &str,
    extended_built: bool,
) -> Result<(Vec<Target<0>>, Vec<String>), String> {
    let mut targets = Vec::new();
    let mut warnings = Vec::new();
    for piece in netconsole_options::targets(options) {
        // Linux's line (its `Display`), and where.
        let parsed =
            piece.map_err(|e| format!("netconsole={options}: {e} (byte {})", e.offset()))?;
        if parsed.target.extended && !extended_built {
            // The console would refuse it at boot (`ExtendedNotBuilt`): say so now, and where.
            let piece = options.split(';').find(|p| p.trim_start().starts_with('+'));
            return Err(format!(
                "netconsole={options}: extended target `{}` needs the extended format, which \
                 this build leaves out: enable firmware-app's `extended` feature (it enables \
                 netconsole's)",
                piece.unwrap_or(options)
            ));
        }
        if let Some(warning) = parsed.warning {
            warnings.push(format!("netconsole={options}: {warning}"));
        }
        // No IP from a device: the firmware has none to give (its targets name their source).
        let target = Target::<0>::from_options(&parsed.target, None)
            .map_err(|e| format!("netconsole={options}: {e}"))?;
        if targets.len() == crate::TARGETS {
            return Err(format!(
                "netconsole={options}: more than {n} targets: the console has room for {n} \
                 (firmware-app's `TARGETS`)",
                n = crate::TARGETS
            ));
        }
        targets.push(target);
    }
    if targets.is_empty() {
        return Err(format!(
            "netconsole={options}: no target: the firmware would log to nobody (unset \
             NETCONSOLE_OPTIONS for the default)"
        ));
    }
    Ok((targets, warnings))
}
