//! Finding the virtio-net device among the board's virtio-mmio slots.

use core::ptr::NonNull;

use firmware_app::DriverInfo;
use netpoll_drivers::virtio::{Layout, MmioRegisters, NetMemory, ProbeError, VirtioNet};

/// TX ring entries: a deep ring lets the throughput run keep the device busy.
const TX: usize = 32;
/// RX ring entries: ARP replies and whatever else the user network sends.
const RX: usize = 16;

/// The driver on this board.
pub type Nic = VirtioNet<MmioRegisters, TX, RX>;

/// Queues and buffers the device reads and writes; handed to the driver once.
static mut MEMORY: NetMemory<TX, RX> = NetMemory::new();

/// Probes each slot in turn and brings up the first network card found; the error of its
/// bring-up if it failed (`None`: no network card at all).
pub fn find(slots: &[usize]) -> Result<(Nic, DriverInfo), Option<ProbeError>> {
    // SAFETY: `find` runs once, from `main`, before anything else could reach `MEMORY`; the
    // reference is the only one ever made, and it moves into the driver.
    let memory = unsafe { &mut *core::ptr::addr_of_mut!(MEMORY) };
    for &base in slots {
        let Some(base) = NonNull::new(base as *mut u8) else { continue };
        // SAFETY: `base` is one of the board's virtio-mmio slots (device memory, mapped by the
        // boot code), and nothing else drives it.
        let regs = unsafe { MmioRegisters::new(base) };
        let probe = netpoll_drivers::virtio::Transport::probe(regs);
        let Ok(transport) = probe else { continue };
        if transport.device_id() != netpoll_drivers::virtio::mmio::DEVICE_ID_NET {
            continue;
        }
        // SAFETY: as above; the transport value is dropped, the driver gets a new handle.
        let regs = unsafe { MmioRegisters::new(base) };
        let driver = VirtioNet::new(regs, memory).map_err(Some)?;
        let layout = match driver.layout() {
            Layout::Legacy => "legacy",
            Layout::Modern => "modern",
        };
        return Ok((driver, DriverInfo { name: "virtio-net", layout }));
    }
    Err(None)
}
