//! Where a console keeps its targets: a fixed array it owns (sized by a const generic, so a
//! `static` console needs nothing else), or a `managed` slice the caller lends it (sized at run
//! time, from memory the caller already has).

use core::cell::Cell;

use managed::ManagedSlice;

use crate::console::MAX_TARGETS;
use crate::counters::TargetCounters;
use crate::target::Target;

/// Storage for a console's targets: a slot per target, `None` when free.
pub trait TargetStorage<const U: usize> {
    /// Each slot's counters, kept apart from the targets (in a critical section) so that reading
    /// them never waits for a write and never fails: an array as long as the slots.
    type Counters: CounterSlots;
    /// Zeroed counters for every slot: a template, copied fresh into each console made.
    #[allow(clippy::declare_interior_mutable_const)]
    const COUNTERS: Self::Counters;

    /// The slots.
    fn slots(&self) -> &[Option<Target<U>>];
    /// The slots, mutable.
    fn slots_mut(&mut self) -> &mut [Option<Target<U>>];
}

/// One counter cell per target slot.
pub trait CounterSlots: Send {
    /// The cells, one per slot.
    fn cells(&self) -> &[Cell<TargetCounters>];
}

impl<const N: usize> CounterSlots for [Cell<TargetCounters>; N] {
    fn cells(&self) -> &[Cell<TargetCounters>] {
        self
    }
}

impl<const U: usize, const N: usize> TargetStorage<U> for [Option<Target<U>>; N] {
    type Counters = [Cell<TargetCounters>; N];
    #[allow(clippy::declare_interior_mutable_const)] // a template: each console gets a copy
    const COUNTERS: Self::Counters = [const { Cell::new(TargetCounters::ZERO) }; N];
    fn slots(&self) -> &[Option<Target<U>>] {
        self
    }
    fn slots_mut(&mut self) -> &mut [Option<Target<U>>] {
        self
    }
}

/// A lent slice's length is known at run time only, so the console keeps counters for the most
/// slots it uses ([`MAX_TARGETS`]).
impl<const U: usize> TargetStorage<U> for ManagedSlice<'_, Option<Target<U>>> {
    type Counters = [Cell<TargetCounters>; MAX_TARGETS];
    #[allow(clippy::declare_interior_mutable_const)] // a template: each console gets a copy
    const COUNTERS: Self::Counters = [const { Cell::new(TargetCounters::ZERO) }; MAX_TARGETS];
    fn slots(&self) -> &[Option<Target<U>>] {
        self
    }
    fn slots_mut(&mut self) -> &mut [Option<Target<U>>] {
        self
    }
}

/// `N` free slots, for [`Netconsole::new`](crate::Netconsole::new) in a `const` context.
pub const fn no_targets<const U: usize, const N: usize>() -> [Option<Target<U>>; N] {
    [const { None }; N]
}
