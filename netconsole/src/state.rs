//! What every writer may touch, each in a short critical section: the backlog, the counters, the
//! record numbering and which targets are enabled.
//!
//! Nothing here waits or panics. The counters are plain values in `Cell`s, read and written
//! whole, so reading them never fails. The backlog is borrowed with a try-borrow: a fault handler
//! (HardFault, NMI: what a single-core critical section does not mask) that writes while it is
//! being changed is refused and counted, never a panic. (A count such a handler makes while the
//! code it interrupted is between reading and writing the same counters is lost: counts only.)

use core::cell::{Cell, RefCell};

use critical_section::{CriticalSection, Mutex};

use crate::backlog::Backlog;
use crate::counters::{Counters, TargetCounters};
use crate::message::Message;
use crate::storage::CounterSlots;

/// The mask of a message for every target, those added later included (early-boot replay).
pub(crate) const ALL_TARGETS: u32 = u32::MAX;

/// Which targets a new message goes to, and its record number.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Routing {
    /// The next record's sequence number.
    pub(crate) seq: u64,
    /// Enabled targets, by slot.
    pub(crate) enabled: u32,
    /// Enabled basic targets, by slot.
    pub(crate) basic: u32,
    /// Whether a target was ever enabled: until then messages wait for the first one.
    pub(crate) ever_enabled: bool,
}

impl Routing {
    /// The targets a message written now goes to: every target until the first is enabled
    /// (Linux replays its log buffer to a new console), then the enabled ones.
    pub(crate) fn mask(&self) -> u32 {
        if self.ever_enabled {
            self.enabled
        } else {
            ALL_TARGETS
        }
    }

    /// Whether console text written now goes as a record: every target it goes to is extended.
    pub(crate) fn all_extended(&self) -> bool {
        crate::EXTENDED && self.ever_enabled && self.enabled != 0 && self.basic == 0
    }
}

/// What a new message needs numbered.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Numbering {
    /// A record the console numbers.
    Record,
    /// A record numbered elsewhere.
    Foreign,
    /// Console text: numbered only when it goes as a record (every target is extended).
    Text,
}

pub(crate) struct Shared<const B: usize, C> {
    backlog: Mutex<RefCell<Backlog<B>>>,
    /// Every count but the sum over targets, which is in `totals` (its `targets` stays zero):
    /// a count for a target then copies two target-sized cells, not the whole console's.
    counters: Mutex<Cell<Counters>>,
    totals: Mutex<Cell<TargetCounters>>,
    targets: Mutex<C>,
    routing: Mutex<Cell<Routing>>,
}

impl<const B: usize, C: CounterSlots> Shared<B, C> {
    pub(crate) const fn new(targets: C) -> Self {
        Shared {
            backlog: Mutex::new(RefCell::new(Backlog::new())),
            counters: Mutex::new(Cell::new(Counters::ZERO)),
            totals: Mutex::new(Cell::new(TargetCounters::ZERO)),
            targets: Mutex::new(targets),
            routing: Mutex::new(Cell::new(Routing {
                seq: 0,
                enabled: 0,
                basic: 0,
                ever_enabled: false,
            })),
        }
    }

    /// Runs `f` on the backlog; `None` if a context this one interrupted is changing it (only a
    /// fault handler can find it so).
    pub(crate) fn backlog<R>(&self, f: impl FnOnce(&mut Backlog<B>) -> R) -> Option<R> {
        critical_section::with(|cs| {
            self.backlog.borrow(cs).try_borrow_mut().ok().map(|mut backlog| f(&mut backlog))
        })
    }

    /// [`backlog`](Self::backlog) for a new message's first look, which counts it in the same
    /// critical section (if `new`): a message pays for as few as it can.
    pub(crate) fn backlog_counting<R>(
        &self,
        new: bool,
        f: impl FnOnce(&mut Backlog<B>) -> R,
    ) -> Option<R> {
        critical_section::with(|cs| self.backlog_counting_in(cs, new, f))
    }

    /// [`backlog_counting`](Self::backlog_counting) in a critical section the caller is in.
    pub(crate) fn backlog_counting_in<R>(
        &self,
        cs: CriticalSection<'_>,
        new: bool,
        f: impl FnOnce(&mut Backlog<B>) -> R,
    ) -> Option<R> {
        if new {
            let cell = self.counters.borrow(cs);
            let mut counters = cell.get();
            counters.messages += 1;
            cell.set(counters);
        }
        self.backlog.borrow(cs).try_borrow_mut().ok().map(|mut backlog| f(&mut backlog))
    }

    /// Appends `message` for the targets in `mask`, counting it as deferred (and, if `new`, as a
    /// message); if there is no room it is dropped and counted as `backlog_full`, if the backlog
    /// is refused as `refused`. `true` if it was kept.
    /// `since`: as in [`Backlog::push_ahead_of`], for a write's own message (`None`: at the end).
    pub(crate) fn defer(
        &self,
        message: &Message<'_>,
        mask: u32,
        new: bool,
        since: Option<usize>,
    ) -> bool {
        match self.push(message, mask, new, since) {
            Some(true) => true,
            Some(false) => {
                self.count(&|c| c.backlog_full.add(message.text_len()));
                false
            }
            None => {
                self.count(&|c| c.refused.add(message.text_len()));
                false
            }
        }
    }

    /// Appends `message` for the targets in `mask`, counting it as deferred (and, if `new`, as
    /// a message): `Some(true)` if it was kept, `Some(false)` if there was no room, `None` if
    /// the backlog was refused. The losses are the caller's to count, or not.
    pub(crate) fn push(
        &self,
        message: &Message<'_>,
        mask: u32,
        new: bool,
        since: Option<usize>,
    ) -> Option<bool> {
        let kept = self.backlog_counting(new, |b| {
            let since = since.unwrap_or(b.appended());
            (b.push_ahead_of(message, mask, since), b.used())
        });
        if let Some((true, used)) = kept {
            self.count_deferred(used);
        }
        kept.map(|(kept, _)| kept)
    }

    pub(crate) fn count_deferred(&self, used: usize) {
        self.count(&|c| {
            c.deferred += 1;
            c.backlog_high_water = c.backlog_high_water.max(used);
        });
    }

    /// Messages waiting; a refused look counts as "some".
    pub(crate) fn waiting(&self) -> usize {
        critical_section::with(|cs| self.waiting_in(cs))
    }

    /// [`waiting`](Self::waiting) in a critical section the caller is in.
    pub(crate) fn waiting_in(&self, cs: CriticalSection<'_>) -> usize {
        self.backlog.borrow(cs).try_borrow_mut().map_or(1, |b| b.entries())
    }

    /// Bytes waiting (0 if the backlog is refused).
    pub(crate) fn used(&self) -> usize {
        self.backlog(|b| b.used()).unwrap_or(0)
    }

    /// Not generic and not inlined, as [`count_target`](Self::count_target): the console counts
    /// from a dozen places, and each would otherwise get its own critical section and copies of
    /// the counters.
    #[inline(never)]
    pub(crate) fn count(&self, f: &dyn Fn(&mut Counters)) {
        critical_section::with(|cs| {
            let cell = self.counters.borrow(cs);
            let mut counters = cell.get();
            f(&mut counters);
            cell.set(counters);
        });
    }

    pub(crate) fn counters(&self) -> Counters {
        critical_section::with(|cs| {
            let mut counters = self.counters.borrow(cs).get();
            counters.targets = self.totals.borrow(cs).get();
            counters
        })
    }

    /// Counts for the target in slot `index` and in the console's sum over targets.
    #[inline(never)]
    pub(crate) fn count_target(&self, index: usize, f: &dyn Fn(&mut TargetCounters)) {
        critical_section::with(|cs| {
            if let Some(cell) = self.targets.borrow(cs).cells().get(index) {
                let mut counters = cell.get();
                f(&mut counters);
                cell.set(counters);
            }
            let cell = self.totals.borrow(cs);
            let mut totals = cell.get();
            f(&mut totals);
            cell.set(totals);
        });
    }

    pub(crate) fn target_counters(&self, index: usize) -> Option<TargetCounters> {
        critical_section::with(|cs| self.targets.borrow(cs).cells().get(index).map(Cell::get))
    }

    /// Zeroes the counters of slot `index` (a new target there starts from zero).
    pub(crate) fn reset_target(&self, index: usize) {
        critical_section::with(|cs| {
            if let Some(cell) = self.targets.borrow(cs).cells().get(index) {
                cell.set(TargetCounters::ZERO);
            }
        });
    }

    pub(crate) fn routing(&self) -> Routing {
        critical_section::with(|cs| self.routing.borrow(cs).get())
    }

    pub(crate) fn route(&self, f: impl FnOnce(&mut Routing)) {
        critical_section::with(|cs| {
            let cell = self.routing.borrow(cs);
            let mut routing = cell.get();
            f(&mut routing);
            cell.set(routing);
        });
    }

    /// Where a new message goes, and its number if `numbering` says so for that routing, in
    /// one critical section. (It is counted with its first look at the backlog: see
    /// [`backlog_counting`](Self::backlog_counting).)
    pub(crate) fn admit(&self, numbering: Numbering) -> (Routing, u64) {
        critical_section::with(|cs| {
            let cell = self.routing.borrow(cs);
            let routing = cell.get();
            let numbered = match numbering {
                Numbering::Record => true,
                Numbering::Foreign => false,
                Numbering::Text => routing.all_extended(),
            };
            if numbered {
                cell.set(Routing { seq: routing.seq + 1, ..routing });
            }
            (routing, routing.seq)
        })
    }

    pub(crate) fn next_seq(&self) -> u64 {
        let mut seq = 0;
        self.route(|r| {
            seq = r.seq;
            r.seq += 1;
        });
        seq
    }
}
