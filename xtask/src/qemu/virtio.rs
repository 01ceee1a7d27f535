//! `cargo xtask qemu virtio`: the QEMU command line of `examples/qemu-virtio`.

use std::path::Path;
use std::process::Command;

use super::Example;

/// The architectures the example runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    /// `qemu-system-riscv64 -M virt -bios none`.
    Riscv64,
    /// `qemu-system-aarch64 -M virt -cpu cortex-a53`.
    Aarch64,
}

impl Arch {
    pub fn parse(s: &str) -> Option<Arch> {
        match s {
            "riscv64" => Some(Arch::Riscv64),
            "aarch64" => Some(Arch::Aarch64),
            _ => None,
        }
    }
}

/// The guest's MAC address (QEMU's default would do; a fixed one reads better in captures).
const MAC: &str = "52:54:00:12:34:56";

/// The example on `arch`, with the modern register layout if `modern`.
pub fn example(arch: Arch, modern: bool) -> Example {
    let (target, qemu) = match arch {
        Arch::Riscv64 => ("riscv64gc-unknown-none-elf", "qemu-system-riscv64"),
        Arch::Aarch64 => ("aarch64-unknown-none", "qemu-system-aarch64"),
    };
    Example {
        name: "qemu-virtio",
        dir: "examples/qemu-virtio",
        target,
        qemu,
        driver: "virtio-net",
        layout: if modern { "modern" } else { "legacy" },
        command: Box::new(move |elf: &Path, pcap: Option<&Path>| command(arch, modern, elf, pcap)),
        extended_is_a_feature: false,
    }
}

fn command(arch: Arch, modern: bool, elf: &Path, pcap: Option<&Path>) -> Command {
    let mut cmd = match arch {
        Arch::Riscv64 => {
            let mut c = Command::new("qemu-system-riscv64");
            c.args(["-M", "virt", "-bios", "none"]);
            c
        }
        Arch::Aarch64 => {
            let mut c = Command::new("qemu-system-aarch64");
            // Semihosting carries the firmware's exit status out.
            c.args(["-M", "virt", "-cpu", "cortex-a53"]);
            c.args(["-semihosting-config", "enable=on,target=native"]);
            c
        }
    };
    cmd.args(["-display", "none", "-serial", "stdio", "-monitor", "none"]);
    cmd.args(["-netdev", "user,id=n0"]);
    cmd.args(["-device", &format!("virtio-net-device,netdev=n0,mac={MAC}")]);
    if modern {
        cmd.args(["-global", "virtio-mmio.force-legacy=false"]);
    }
    if let Some(pcap) = pcap {
        cmd.args(["-object", &format!("filter-dump,id=f0,netdev=n0,file={}", pcap.display())]);
    }
    cmd.arg("-kernel").arg(elf);
    cmd
}
