//! The console set-ups the console bench and its instruction-count example share: one target,
//! basic or extended (with userdata and every sysdata line), on the simulated NIC.
//!
//! The simulated NIC has four TX slots that the engine reclaims by polling when they are all
//! taken, as with a real ring, and records only the first frame: after that it keeps no copy, so
//! what it costs per frame is a zero-filled slot and a counter, not a frame copied into a log.

use netconsole::{Netconsole, Sysdata, SystemInfo, Target};
use netpoll_core::{Endpoint, MacAddr, NicEngine, ResolvePolicy};
use netpoll_drivers::sim::SimNic;

/// A NIC that records one frame and counts the rest.
pub type Nic = SimNic<4, 1>;

/// A system with a CPU number, a task name and a release, so every sysdata line has a value.
#[derive(Debug, Clone, Copy, Default)]
pub struct BenchSystem;

impl SystemInfo for BenchSystem {
    fn timestamp_us(&self) -> u64 {
        1_234_567
    }
    fn cpu(&self) -> u32 {
        1
    }
    fn task_name(&self) -> &str {
        "bench"
    }
    fn release(&self) -> &str {
        "6.12.0-netconsole-rs"
    }
}

/// The console type the benches drive.
pub type Console = Netconsole<Nic, netpoll_core::NoDelay, BenchSystem>;

/// A console with one enabled target: basic, or extended with two userdata entries, every
/// sysdata line and the release prefix.
pub fn console(extended: bool) -> Console {
    let console = Netconsole::new(BenchSystem);
    assert!(console.attach(NicEngine::new(Nic::new(MacAddr([0x02, 0, 0, 0, 0, 1])))).is_ok());
    let mut endpoint = Endpoint::new("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
    endpoint.remote_mac = Some(MacAddr([0x02, 0, 0, 0, 0, 2]));
    let mut target = Target::new(endpoint);
    target.extended = extended;
    if extended {
        target.release = true;
        target.userdata.set(b"host", b"bench-01").unwrap();
        target.userdata.set(b"rack", b"r12-u07").unwrap();
        target.sysdata = Sysdata::ALL;
    }
    let i = console.add_target(target).unwrap();
    console.enable(i, ResolvePolicy::default()).unwrap();
    console
}

/// Printable text of `len` bytes, as most log lines are: nothing for an extended target to
/// escape (the backslash, which printk escapes, is replaced).
pub fn text(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| match b' ' + (i % 95) as u8 {
            b'\\' => b'/',
            b => b,
        })
        .collect()
}

/// As [`text`] with a tab and a backslash every 80 bytes: an extended record's bad case, two
/// escapes per line, each a 4-byte `\xNN` on the wire.
pub fn escape_heavy_text(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| match i % 80 {
            39 => b'\t',
            79 => b'\\',
            _ => b' ' + (i % 95) as u8,
        })
        .collect()
}

/// The frames the NIC accepted so far.
pub fn frames(console: &Console) -> u64 {
    console.with_nic(|np| np.driver().counters().frames).unwrap_or(0)
}
