//! What the console did with every byte it was handed. Plain integers inside the guarded state
//! (thumbv7em has no 64-bit atomics), read as a snapshot.

/// Messages and bytes lost for one reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Dropped {
    /// Messages.
    pub messages: u64,
    /// Bytes of message text.
    pub bytes: u64,
}

impl Dropped {
    pub(crate) const ZERO: Dropped = Dropped { messages: 0, bytes: 0 };

    /// Not inlined: a dozen places count a loss, and each inlined pair of 64-bit additions
    /// was more code than the call.
    #[inline(never)]
    pub(crate) fn add(&mut self, bytes: usize) {
        self.messages += 1;
        self.bytes += bytes as u64;
    }
}

/// One target's counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct TargetCounters {
    /// Messages sent whole.
    pub messages: u64,
    /// Datagrams sent.
    pub frames: u64,
    /// UDP payload bytes sent.
    pub bytes: u64,
    /// Lost because the link was down.
    pub link_down: Dropped,
    /// Lost because the TX ring stayed full and the backlog had no room to keep them.
    pub ring_stuck: Dropped,
    /// Lost because the frame could not be built or the driver refused it.
    pub errors: Dropped,
    /// Times the target, left on the broadcast MAC when it was enabled, switched to its peer's
    /// MAC because the peer answered a later ARP request.
    pub mac_switches: u64,
}

impl TargetCounters {
    pub(crate) const ZERO: TargetCounters = TargetCounters {
        messages: 0,
        frames: 0,
        bytes: 0,
        link_down: Dropped::ZERO,
        ring_stuck: Dropped::ZERO,
        errors: Dropped::ZERO,
        mac_switches: 0,
    };
}

/// The console's counts, over all targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Counters {
    /// Messages handed to the console.
    pub messages: u64,
    /// Messages that went through the backlog: written while the console was busy (re-entry,
    /// an interrupt), while others waited (each keeps its place behind them), before the first
    /// target was enabled, or held back by a full TX ring.
    pub deferred: u64,
    /// Lost because the backlog was full when they had to wait.
    pub backlog_full: Dropped,
    /// Written by a panic while another write held the console: kept in the backlog, but the
    /// panic handler cannot wait for the holder to send them.
    pub stranded: u64,
    /// Messages cut by a message writer's buffer limit.
    pub truncated: u64,
    /// Most bytes the backlog ever held.
    pub backlog_high_water: usize,
    /// Lost because a fault handler (HardFault, NMI: what a single-core critical section does not
    /// mask) wrote while the backlog was being changed: refused, never a panic.
    pub refused: Dropped,
    /// Panic handlers that took the console over from a write they interrupted.
    pub takeovers: u64,
    /// Sum over every target the console has had, removed ones included.
    pub targets: TargetCounters,
}

impl Counters {
    pub(crate) const ZERO: Counters = Counters {
        messages: 0,
        deferred: 0,
        backlog_full: Dropped::ZERO,
        stranded: 0,
        truncated: 0,
        backlog_high_water: 0,
        refused: Dropped::ZERO,
        takeovers: 0,
        targets: TargetCounters::ZERO,
    };
}

impl core::ops::AddAssign for Dropped {
    fn add_assign(&mut self, other: Dropped) {
        self.messages += other.messages;
        self.bytes += other.bytes;
    }
}

impl core::ops::AddAssign for TargetCounters {
    fn add_assign(&mut self, other: TargetCounters) {
        self.messages += other.messages;
        self.frames += other.frames;
        self.bytes += other.bytes;
        self.link_down += other.link_down;
        self.ring_stuck += other.ring_stuck;
        self.errors += other.errors;
        self.mac_switches += other.mac_switches;
    }
}
