//! What a release needs: the MSRV true for every library crate, `cargo package` accepting
//! them, and their docs as docs.rs builds them.

use super::*;

/// The library crates: what `cargo package` must accept and what the MSRV must build.
const LIBRARY_CRATES: &[&str] =
    &["netpoll-core", "netpoll-drivers", "netconsole", "netconsole-options"];

/// The bare-metal target the MSRV check builds for (the host is checked too).
const MSRV_NO_STD_TARGET: &str = "thumbv7em-none-eabihf";

/// The workspace's `rust-version`: one place says the MSRV, and CI checks that place.
fn msrv() -> Option<String> {
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).ok()?;
    let line = manifest.lines().find(|l| l.trim_start().starts_with("rust-version"))?;
    Some(line.split('"').nth(1)?.to_owned())
}

/// `cargo check` of every library crate under the MSRV toolchain: on the host with its std
/// features, and for a bare-metal target with each no_std feature set. A dependency update
/// that needs a newer Rust fails here, before a user on the promised version finds it.
pub(super) fn msrv_check(report: &mut Report) {
    let Some(msrv) = msrv() else {
        report.failed.push("MSRV check: no rust-version = \"...\" in Cargo.toml".into());
        return;
    };
    let has_toolchain = output_of("rustup", &["toolchain", "list"])
        .is_some_and(|list| list.lines().any(|l| l.starts_with(&format!("{msrv}-"))));
    if !has_toolchain {
        let why = format!(
            "toolchain {msrv} not installed (rustup toolchain install {msrv} --profile minimal)"
        );
        report.skip(&format!("MSRV {msrv} check"), &why);
        return;
    }
    let has_target = output_of("rustup", &["target", "list", "--installed", "--toolchain", &msrv])
        .is_some_and(|list| list.lines().any(|l| l == MSRV_NO_STD_TARGET));
    // Through rustup, so the child's cargo and rustc are the MSRV ones, not ours.
    let msrv_cargo = |args: &[&str]| {
        let mut cmd = Command::new("rustup");
        cmd.current_dir(root())
            .env_remove("RUSTUP_TOOLCHAIN")
            .env_remove("CARGO")
            .env_remove("RUSTC");
        cmd.args(["run", &msrv, "cargo", "check", "--quiet"]).args(args);
        cmd
    };
    let mut host_args: Vec<&str> = LIBRARY_CRATES.iter().flat_map(|k| ["-p", k]).collect();
    host_args.push("--all-features");
    report.step(
        &format!("MSRV {msrv}: check the library crates on the host, every feature"),
        minutes(10),
        &mut msrv_cargo(&host_args),
    );
    if !has_target {
        let why = format!(
            "target not installed (rustup target add --toolchain {msrv} {MSRV_NO_STD_TARGET})"
        );
        report.skip(&format!("MSRV {msrv} check for {MSRV_NO_STD_TARGET}"), &why);
        return;
    }
    for (krate, feature_sets) in NO_STD_CRATES {
        for features in *feature_sets {
            let label = if features.is_empty() { "default" } else { features };
            let mut args = vec!["-p", krate, "--target", MSRV_NO_STD_TARGET];
            if !features.is_empty() {
                args.extend(["--features", features]);
            }
            report.step(
                &format!("MSRV {msrv}: check {krate} [{label}] for {MSRV_NO_STD_TARGET}"),
                minutes(10),
                &mut msrv_cargo(&args),
            );
        }
    }
}

/// `cargo package` of the library crates, in dependency order against each other's packaged
/// manifests: catches a dependency crates.io could not resolve at publish time (a versioned
/// dev-dependency cycle). `--no-verify`: the test run builds them already.
/// `--allow-dirty`: the check is of the manifests, not of whether the tree is committed.
pub(super) fn package_check(report: &mut Report) {
    let mut cmd = cargo();
    // The library crates by name, not `--workspace --exclude ...`: an unpublished member added
    // later stays out without touching this list.
    cmd.args(["package", "--no-verify", "--allow-dirty"]);
    for krate in LIBRARY_CRATES {
        cmd.args(["-p", krate]);
    }
    report.step(&format!("cargo package {}", LIBRARY_CRATES.join(", ")), minutes(5), &mut cmd);
}

/// The features and the first target of a crate's `[package.metadata.docs.rs]`, read from its
/// manifest so that the check builds what docs.rs will build.
fn docs_rs_metadata(krate: &str) -> Option<(String, String)> {
    let manifest = std::fs::read_to_string(root().join(krate).join("Cargo.toml")).ok()?;
    let section = manifest.split("[package.metadata.docs.rs]").nth(1)?;
    let section = section.split("\n[").next()?;
    let list = |key: &str| -> Option<Vec<String>> {
        let line = section.lines().find(|l| l.trim_start().starts_with(key))?;
        let inside = line.split_once('[')?.1.split_once(']')?.0;
        Some(
            inside
                .split(',')
                .map(|s| s.trim().trim_matches('"').to_owned())
                .filter(|s| !s.is_empty())
                .collect(),
        )
    };
    let features = list("features").unwrap_or_default().join(",");
    let target = list("targets")?.into_iter().next()?;
    Some((features, target))
}

/// Each library crate's docs as docs.rs builds them: nightly, `--cfg docsrs` (the feature
/// marks), its features, its first target (bare metal where it applies), warnings denied so a
/// broken link or an undocumented public item fails.
pub(super) fn docs_rs_check(report: &mut Report) {
    let nightly_targets =
        output_of("rustup", &["target", "list", "--installed", "--toolchain", "nightly"]);
    let Some(nightly_targets) = nightly_targets else {
        report.skip("docs.rs builds", "no nightly toolchain (rustup toolchain install nightly)");
        return;
    };
    for krate in LIBRARY_CRATES {
        let name = format!("docs.rs build of {krate}");
        let Some((features, target)) = docs_rs_metadata(krate) else {
            report
                .failed
                .push(format!("{name}: no [package.metadata.docs.rs] targets in its Cargo.toml"));
            continue;
        };
        if !nightly_targets.lines().any(|t| t == target) {
            report.skip(&name, &format!("rustup target add --toolchain nightly {target}"));
            continue;
        }
        let mut cmd = Command::new("rustup");
        cmd.current_dir(root())
            .env_remove("RUSTUP_TOOLCHAIN")
            .env_remove("CARGO")
            .env_remove("RUSTC")
            .env("RUSTDOCFLAGS", "-D warnings --cfg docsrs")
            // Its own directory: the docsrs-flavoured docs neither overwrite the stable step's
            // output nor make it rebuild.
            .env("CARGO_TARGET_DIR", root().join("target").join("docsrs"))
            .args([
                "run",
                "nightly",
                "cargo",
                "doc",
                "--quiet",
                "--no-deps",
                "-p",
                krate,
                "--target",
                &target,
            ]);
        if !features.is_empty() {
            cmd.args(["--features", &features]);
        }
        report.step(&format!("{name} [{features}] for {target}"), minutes(10), &mut cmd);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docs_rs_metadata_is_read_from_each_library_manifest() {
        for krate in LIBRARY_CRATES {
            let (features, target) = docs_rs_metadata(krate).expect(krate);
            assert!(!target.is_empty() && !target.contains('"'), "{krate}: target {target:?}");
            assert!(!features.contains('"') && !features.contains(' '), "{krate}: {features:?}");
        }
        let (features, target) = docs_rs_metadata("netconsole").unwrap();
        assert_eq!(features, "log,defmt");
        assert_eq!(target, "thumbv7em-none-eabihf");
    }

    #[test]
    fn msrv_is_the_workspace_rust_version() {
        let msrv = msrv().expect("rust-version in the workspace Cargo.toml");
        let parts: Vec<&str> = msrv.split('.').collect();
        assert!((2..=3).contains(&parts.len()), "{msrv}");
        assert!(parts.iter().all(|p| p.parse::<u32>().is_ok()), "{msrv}");
    }
}
