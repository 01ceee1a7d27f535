//! The console's NIC and targets: attach, add, enable, change, remove. Every change takes the
//! console's lock (it fails with `Busy` inside a write) and, as Linux's configfs does, refuses
//! what would change an enabled target's format or addresses.

use core::net::IpAddr;

use embedded_hal::delay::DelayNs;
use netpoll_core::{NetPoll, NicEngine, ResolvePolicy};

use crate::console::{CarrierTimeout, Engine, Netconsole, MAX_TARGETS};
use crate::error::ConsoleError;
use crate::storage::TargetStorage;
use crate::sysdata::SystemInfo;
use crate::target::{MacSource, Target};

/// What Linux refuses to change on an enabled target.
#[derive(PartialEq)]
struct Fixed {
    extended: bool,
    release: bool,
    endpoint: netpoll_core::Endpoint,
}

impl Fixed {
    fn of<const U: usize>(t: &Target<U>) -> Self {
        Fixed { extended: t.extended, release: t.release, endpoint: t.endpoint }
    }

    fn restore<const U: usize>(self, t: &mut Target<U>) {
        t.extended = self.extended;
        t.release = self.release;
        t.endpoint = self.endpoint;
    }
}

/// Whether the console can send to `target` in its format: `release` needs `extended`, which
/// needs the `extended` feature.
fn check_format<const U: usize>(target: &Target<U>) -> Result<(), ConsoleError> {
    if target.release && !target.extended {
        return Err(ConsoleError::ReleaseWithoutExtended);
    }
    if target.extended && !crate::EXTENDED {
        return Err(ConsoleError::ExtendedNotBuilt);
    }
    Ok(())
}

impl<D, W, S, const U: usize, const B: usize, TS> Netconsole<D, W, S, U, B, TS>
where
    D: NetPoll,
    W: DelayNs,
    S: SystemInfo,
    TS: TargetStorage<U>,
{
    /// Gives the console its NIC. Fails with the NIC handed back if one is attached already or
    /// a write holds the console.
    // The NIC is handed back rather than dropped, and there is no heap to box it in.
    #[allow(clippy::result_large_err)]
    pub fn attach(&self, nic: NicEngine<D, W>) -> Result<(), NicEngine<D, W>> {
        let Some(mut engine) = self.engine.try_lock() else { return Err(nic) };
        if engine.nic.is_some() {
            return Err(nic);
        }
        let mut nic = nic;
        for target in engine.targets.slots().iter().flatten() {
            if let IpAddr::V4(ip) = target.endpoint.local_ip {
                nic.add_local_ipv4(ip);
            }
        }
        engine.nic = Some(nic);
        Ok(())
    }

    /// Takes the NIC back.
    pub fn detach(&self) -> Result<Option<NicEngine<D, W>>, ConsoleError> {
        self.locked(|engine| Ok(engine.nic.take()))
    }

    /// Runs `f` on the NIC's engine (to inspect the driver, answer ARP, read its counters).
    pub fn with_nic<R>(
        &self,
        f: impl FnOnce(&mut NicEngine<D, W>) -> R,
    ) -> Result<R, ConsoleError> {
        self.locked(|engine| engine.nic.as_mut().map(f).ok_or(ConsoleError::NoNic))
    }

    /// How long [`enable`](Self::enable) waits for carrier, in milliseconds (default
    /// [`CARRIER_TIMEOUT_MS`](crate::CARRIER_TIMEOUT_MS), Linux's 4 s).
    pub fn set_carrier_timeout_ms(&self, ms: u32) -> Result<(), ConsoleError> {
        self.locked(|engine| {
            engine.carrier_timeout = CarrierTimeout::new(ms);
            Ok(())
        })
    }

    /// Adds a target, disabled; returns its index. It gets messages before older targets, as
    /// Linux adds targets at the head of its list. Refused if its format cannot be sent
    /// (`release` without `extended`; `extended` without the `extended` feature).
    pub fn add_target(&self, target: Target<U>) -> Result<usize, ConsoleError> {
        check_format(&target)?;
        self.locked(|engine| {
            let local_ip = target.endpoint.local_ip;
            let slots = engine.targets.slots_mut();
            let usable = slots.len().min(MAX_TARGETS);
            let index = slots[..usable]
                .iter()
                .position(Option::is_none)
                .ok_or(ConsoleError::TooManyTargets)?;
            let mut target = target;
            target.enabled = false;
            target.retry_resolve = false;
            slots[index] = Some(target);
            // Fits: one entry per slot, at most MAX_TARGETS slots.
            let _ = engine.order.insert(0, index as u8);
            self.shared.reset_target(index);
            if let (Some(np), IpAddr::V4(ip)) = (engine.nic.as_mut(), local_ip) {
                np.add_local_ipv4(ip);
            }
            Ok(index)
        })
    }

    /// Runs `f` on a target: its userdata and sysdata may change while it is enabled, as
    /// configfs allows. A change of an enabled target's `extended`, `release`, addresses or
    /// ports is undone and refused with [`ConsoleError::TargetEnabled`], as Linux refuses it;
    /// without the `extended` feature, so is making it extended, with
    /// [`ConsoleError::ExtendedNotBuilt`].
    pub fn with_target<R>(
        &self,
        index: usize,
        f: impl FnOnce(&mut Target<U>) -> R,
    ) -> Result<R, ConsoleError> {
        self.locked(|engine| {
            let target = Self::slot(&mut engine.targets, index)?;
            if let Some(counters) = self.shared.target_counters(index) {
                target.counters = counters;
            }
            let before = Fixed::of(target);
            let enabled = target.enabled;
            let result = f(target);
            // Whether it is enabled is the console's to say (its routing says the same), even
            // when `f` assigned a whole target.
            target.enabled = enabled;
            if enabled && Fixed::of(target) != before {
                before.restore(target);
                return Err(ConsoleError::TargetEnabled);
            }
            // One the storage started with may stay so (and be fixed here): it is never enabled.
            if target.extended && !before.extended && !crate::EXTENDED {
                before.restore(target);
                return Err(ConsoleError::ExtendedNotBuilt);
            }
            Ok(result)
        })
    }

    /// Enables a target, as Linux's netpoll setup does: waits for carrier (up to the carrier
    /// timeout, polling every millisecond; only with a NIC made with a delay, since without one
    /// there is no way to tell time), then, without a configured MAC, resolves an IPv4 target's
    /// next hop by ARP within `resolve`'s bound. Says where the MAC came from; a target left on
    /// broadcast (no carrier, no answer) is enabled all the same, and [`poll`](Self::poll)
    /// retries its resolution. A configured MAC is used whatever the carrier wait found. Refused
    /// if it is enabled already, or if its format cannot be sent (as by
    /// [`add_target`](Self::add_target); a target the storage held from the start was never
    /// added).
    pub fn enable(&self, index: usize, resolve: ResolvePolicy) -> Result<MacSource, ConsoleError> {
        self.locked(|engine| {
            let Engine { nic, targets, order, carrier_timeout, .. } = engine;
            let target = Self::slot(targets, index)?;
            if target.enabled {
                return Err(ConsoleError::AlreadyEnabled);
            }
            check_format(target)?;
            let np = nic.as_mut().ok_or(ConsoleError::NoNic)?;
            let source = crate::link::resolve(np, target, carrier_timeout.ms(), resolve);
            target.enabled = true;
            target.msgid = 0;
            if !order.iter().any(|&i| usize::from(i) == index) {
                // A target the storage held from the start (never added): newest.
                let _ = order.insert(0, index as u8);
            }
            let basic = !target.extended;
            self.shared.route(|r| {
                r.enabled |= 1 << index;
                if basic {
                    r.basic |= 1 << index;
                }
                r.ever_enabled = true;
            });
            Ok(source)
        })
    }

    /// Disables a target; its messages stop at once, those waiting in the backlog included (a
    /// message stopped partway for it is not resumed after a change of its format or address).
    pub fn disable(&self, index: usize) -> Result<(), ConsoleError> {
        self.locked(|engine| {
            Self::slot(&mut engine.targets, index)?.enabled = false;
            self.clear_waiting(index);
            self.shared.route(|r| {
                r.enabled &= !(1 << index);
                r.basic &= !(1 << index);
            });
            Ok(())
        })
    }

    /// Removes a target and gives it back, with its counters; messages still waiting for it
    /// are not sent to it.
    pub fn remove_target(&self, index: usize) -> Result<Target<U>, ConsoleError> {
        self.locked(|engine| {
            let slots = engine.targets.slots_mut();
            let slot = slots.get_mut(index).filter(|_| index < MAX_TARGETS);
            let mut target = slot.and_then(Option::take).ok_or(ConsoleError::NoSuchTarget)?;
            engine.order.retain(|&i| usize::from(i) != index);
            self.clear_waiting(index);
            self.shared.route(|r| {
                r.enabled &= !(1 << index);
                r.basic &= !(1 << index);
            });
            if let Some(counters) = self.shared.target_counters(index) {
                target.counters = counters;
            }
            // The counts leave with the target; a free slot reads zero.
            self.shared.reset_target(index);
            target.enabled = false;
            Ok(target)
        })
    }

    /// Takes slot `index` out of what waits in the backlog. Before the first enable nothing was
    /// sent and every entry is for whoever is enabled first, in whatever slot: the slot's bit is
    /// not this target's to take.
    fn clear_waiting(&self, index: usize) {
        if self.shared.routing().ever_enabled {
            self.shared.backlog(|b| b.clear_target(index));
        }
    }

    /// Runs `f` with the NIC and targets taken; afterwards sends what writes nested in `f`
    /// (from inside the driver, an interrupt) deferred meanwhile.
    pub(crate) fn locked<R>(
        &self,
        f: impl FnOnce(&mut Engine<D, W, U, B, TS>) -> Result<R, ConsoleError>,
    ) -> Result<R, ConsoleError> {
        // Counted per message deferred, not read off the backlog's size, which `f` may shrink
        // (a removal) by as much as nested writes grew it.
        let before = self.shared.counters().deferred;
        let mut engine = self.engine.try_lock().ok_or(ConsoleError::Busy)?;
        let result = f(&mut engine);
        drop(engine);
        if self.shared.counters().deferred != before {
            self.flush();
        }
        result
    }

    /// The target in slot `index`; slots past [`MAX_TARGETS`] are not used (the backlog's
    /// masks and the routing have a bit per slot), so they hold no target the console knows.
    fn slot(targets: &mut TS, index: usize) -> Result<&mut Target<U>, ConsoleError> {
        if index >= MAX_TARGETS {
            return Err(ConsoleError::NoSuchTarget);
        }
        match targets.slots_mut().get_mut(index) {
            Some(Some(target)) => Ok(target),
            _ => Err(ConsoleError::NoSuchTarget),
        }
    }
}
