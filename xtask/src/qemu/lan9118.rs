//! `cargo xtask qemu lan9118`: the QEMU command line of `examples/qemu-lan9118`, an MPS2 AN386
//! (Cortex-M4) with its LAN9118, the run's log on UART 0, the exit status by semihosting.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{host_side, records, target_set, Example, RunOptions, TargetSet};

/// The guest's MAC address: the chip's EEPROM holds it, and the driver takes it from there.
const MAC: &str = "52:54:00:12:34:56";

/// The example.
pub fn example() -> Example {
    Example {
        name: "qemu-lan9118",
        dir: "examples/qemu-lan9118",
        target: "thumbv7em-none-eabihf",
        qemu: "qemu-system-arm",
        driver: "lan9118",
        layout: "32-bit PIO",
        command: Box::new(command),
        extended_is_a_feature: true,
    }
}

/// `[--pcap FILE] [--records N] [--targets both|basic|mix] [--sink listen|plain]
/// [--panic-in-tick] [--qemu-arg ARG]...`; the targets are the basic one alone unless asked otherwise, as the
/// default image has no extended format.
pub fn parse(args: &[String]) -> Result<RunOptions, String> {
    let mut options = RunOptions { targets: TargetSet::Basic, ..RunOptions::default() };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().cloned().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--pcap" => options.pcap = Some(PathBuf::from(value("--pcap")?)),
            "--records" => options.records = Some(records(&value("--records")?)?),
            "--targets" => options.targets = target_set(&value("--targets")?)?,
            "--sink" => options.sink = host_side(&value("--sink")?)?,
            "--qemu-arg" => options.qemu_args.push(value("--qemu-arg")?),
            "--panic-in-tick" => options.panic_in_tick = true,
            other => return Err(format!("unknown option `{other}` for qemu lan9118")),
        }
    }
    Ok(options)
}

fn command(elf: &Path, pcap: Option<&Path>) -> Command {
    let mut cmd = Command::new("qemu-system-arm");
    cmd.args(["-M", "mps2-an386", "-display", "none", "-serial", "stdio", "-monitor", "none"]);
    cmd.args(["-semihosting-config", "enable=on,target=native"]);
    cmd.args(["-netdev", "user,id=n0"]);
    cmd.args(["-net", &format!("nic,netdev=n0,model=lan9118,macaddr={MAC}")]);
    if let Some(pcap) = pcap {
        cmd.args(["-object", &format!("filter-dump,id=f0,netdev=n0,file={}", pcap.display())]);
    }
    cmd.arg("-kernel").arg(elf);
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    fn refusal(list: &[&str]) -> String {
        match parse(&args(list)) {
            Ok(_) => panic!("{list:?} accepted"),
            Err(e) => e,
        }
    }

    #[test]
    fn options_are_parsed_and_bad_ones_named() {
        let o = parse(&args(&["--pcap", "x.pcap", "--records", "20000"])).unwrap();
        assert_eq!(o.pcap, Some(PathBuf::from("x.pcap")));
        assert_eq!(o.records, Some(20000));
        assert_eq!(o.targets, TargetSet::Basic, "the default image is basic-only");
        let o = parse(&args(&["--targets", "both", "--sink", "plain"])).unwrap();
        assert_eq!(o.targets, TargetSet::Both);
        assert_eq!(o.sink, super::super::HostSide::Plain);
        assert!(refusal(&["--targets", "all"]).contains("--targets"));
        assert!(refusal(&["--records", "0"]).contains("--records"));
        assert!(refusal(&["--records"]).contains("needs a value"));
        assert!(refusal(&["--arch", "x"]).contains("--arch"));
    }

    #[test]
    fn the_command_boots_the_an386_with_its_lan9118_and_the_capture() {
        let cmd = command(Path::new("fw.elf"), Some(Path::new("out.pcap")));
        let line: Vec<String> = cmd.get_args().map(|a| a.to_string_lossy().into_owned()).collect();
        let line = line.join(" ");
        assert!(line.contains("-M mps2-an386"), "{line}");
        assert!(line.contains("model=lan9118,macaddr=52:54:00:12:34:56"), "{line}");
        assert!(line.contains("filter-dump,id=f0,netdev=n0,file=out.pcap"), "{line}");
        assert!(line.ends_with("-kernel fw.elf"), "{line}");
    }
}
