//! Where a console keeps its targets: a fixed array it owns (sized by a const generic, so a
//! `static` console needs nothing else), or a `managed` slice the caller lends it (sized at run
//! time, from memory the caller already has).

use managed::ManagedSlice;

use crate::target::Target;

/// Storage for a console's targets: a slot per target, `None` when free.
pub trait TargetStorage<const U: usize> {
    /// The slots.
    fn slots(&self) -> &[Option<Target<U>>];
    /// The slots, mutable.
    fn slots_mut(&mut self) -> &mut [Option<Target<U>>];
}

impl<const U: usize, const N: usize> TargetStorage<U> for [Option<Target<U>>; N] {
    fn slots(&self) -> &[Option<Target<U>>] {
        self
    }
    fn slots_mut(&mut self) -> &mut [Option<Target<U>>] {
        self
    }
}

impl<const U: usize> TargetStorage<U> for ManagedSlice<'_, Option<Target<U>>> {
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
