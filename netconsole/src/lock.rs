//! The console's try-lock, and the panic handler's takeover of it: the one module of this crate
//! that uses `unsafe`.
//!
//! # Why a lock of our own
//!
//! The NIC and the targets belong to one write at a time. A write that finds them taken (it came
//! from inside the driver, from an interrupt, from a fault or panic handler) must not wait: it
//! defers its message. So the lock is a try-lock, and its state (free, or held by generation `g`)
//! changes inside a short [`critical_section`], which makes it work on cores without
//! compare-and-swap (Cortex-M0/M0+, `thumbv6m-none-eabi`), where `spin`'s mutex does not build.
//!
//! The data is reached through an `UnsafeCell`, which is why this module needs `unsafe`: safe
//! Rust has no type that lends `&mut T` across calls from a lock whose state lives in a critical
//! section.
//!
//! # The takeover
//!
//! A panic that strikes while a write holds the lock (a panic in the driver's transmit, say)
//! leaves it held for good: the holder never runs again. Linux's nbcon consoles end a panic with
//! an unsafe takeover of the console for the same reason. [`PanicTakeover`] is the proof, given
//! by the firmware with an `unsafe` call, that the holder never runs again;
//! [`TryLock::take_over`] then gives the lock a new generation. The old holder's guard, should
//! its stack ever be unwound (a host test), sees the lock is no longer its own and leaves it be.
//!
//! # Safety argument
//!
//! - A [`Guard`] is made only when the state said *free* and was set to the guard's generation
//!   in the same critical section, so two guards made by [`TryLock::try_lock`] never coexist.
//! - A guard releases the lock only if the state still holds its own generation, so a stale
//!   guard cannot free a lock that another owner holds.
//! - [`TryLock::take_over`] makes the second, coexisting access. It needs a `PanicTakeover`,
//!   whose maker promises that the interrupted holder never runs again (one core and the code
//!   runs in a panic or fault handler that does not return; or every other core is stopped).
//!   Strictly, Rust's aliasing rules still count the interrupted frame's `&mut` as live (the
//!   handler runs on top of it), so this step is outside what the language guarantees, as every
//!   console takeover is (Linux's `nbcon` calls it "unsafe takeover"). What makes it hold is that
//!   the frame never resumes: nothing it cached, or would have written later, is ever used; the
//!   handler sees memory as the interrupted code last wrote it. That may be mid-update (a driver
//!   halfway through queueing a frame), which is why the takeover is a last resort, opted into.

#![allow(unsafe_code)]

use core::cell::{Cell, UnsafeCell};
use core::marker::PhantomData;
use core::ops::{Deref, DerefMut};

use critical_section::{CriticalSection, Mutex};

/// Proof that the code holding it runs where nothing it interrupted will run again: a panic or
/// fault handler that never returns, on a single core or with every other core stopped.
///
/// With it, [`Netconsole::take_over`](crate::Netconsole::take_over) frees the console from a
/// write the panic interrupted, so the panic message reaches the wire instead of the backlog.
///
/// It stays with the handler that made it: an interrupt the handler lets run must not get it
/// (through a `static`, say) and take the console from the handler itself.
///
/// ```compile_fail
/// fn shared_with_other_contexts<T: Send + Sync>() {}
/// shared_with_other_contexts::<netconsole::PanicTakeover>();
/// ```
#[derive(Debug)]
pub struct PanicTakeover(PhantomData<*const ()>);

impl PanicTakeover {
    /// Claims the takeover condition.
    ///
    /// # Safety
    ///
    /// The caller runs in a panic (or fault) handler that never returns, and no code it
    /// interrupted, on this core or another, ever runs again: one core, or every other core is
    /// stopped. The console it is used on may then be reached by this handler only (and by
    /// interrupts it lets run, which take the console's lock normally).
    pub unsafe fn new() -> Self {
        PanicTakeover(PhantomData)
    }
}

/// The lock's state: the holder's generation (0: free) and the next generation to hand out.
#[derive(Clone, Copy)]
struct State {
    holder: u32,
    next: u32,
}

/// A lock that is only ever tried, never waited for.
pub(crate) struct TryLock<T> {
    state: Mutex<Cell<State>>,
    value: UnsafeCell<T>,
}

// SAFETY: the value is reached only through a `Guard`, and guards exclude each other (see the
// module's safety argument); the state is behind a critical section. So sharing the lock between
// contexts hands the value from one to another, which `T: Send` allows.
unsafe impl<T: Send> Sync for TryLock<T> {}

impl<T> TryLock<T> {
    pub(crate) const fn new(value: T) -> Self {
        TryLock {
            state: Mutex::new(Cell::new(State { holder: 0, next: 0 })),
            value: UnsafeCell::new(value),
        }
    }

    /// The lock, if nobody holds it.
    pub(crate) fn try_lock(&self) -> Option<Guard<'_, T>> {
        self.try_lock_and(|_| ()).map(|(guard, ())| guard)
    }

    /// The lock, if nobody holds it, and what `f` finds in the same critical section (run only
    /// when the lock was free): one critical section where a write would otherwise enter two.
    pub(crate) fn try_lock_and<R>(
        &self,
        f: impl FnOnce(CriticalSection<'_>) -> R,
    ) -> Option<(Guard<'_, T>, R)> {
        critical_section::with(|cs| {
            let cell = self.state.borrow(cs);
            let state = cell.get();
            if state.holder != 0 {
                return None;
            }
            let guard = Guard { lock: self, generation: Self::hand_out(cell, state) };
            Some((guard, f(cs)))
        })
    }

    /// Whether a write holds the lock.
    #[cfg(test)]
    pub(crate) fn is_locked(&self) -> bool {
        critical_section::with(|cs| self.state.borrow(cs).get().holder != 0)
    }

    /// Frees the lock whoever holds it; `true` if someone did. The proof says the holder never
    /// runs again.
    pub(crate) fn take_over(&self, _proof: &PanicTakeover) -> bool {
        critical_section::with(|cs| {
            let cell = self.state.borrow(cs);
            let state = cell.get();
            // A new generation, so that the old guard's drop, if it ever runs, is a no-op.
            Self::hand_out(cell, state);
            let mut freed = cell.get();
            freed.holder = 0;
            cell.set(freed);
            state.holder != 0
        })
    }

    fn hand_out(cell: &Cell<State>, state: State) -> u32 {
        // 0 means free: a `next` of 0 (the lock as `new` makes it, all zero bytes so that a
        // console in a `static` lands in `.bss`, or the counter wrapped) hands out 1.
        let generation = match state.next {
            0 => 1,
            n => n,
        };
        cell.set(State { holder: generation, next: generation.wrapping_add(1) });
        generation
    }
}

/// The value, held; released on drop.
pub(crate) struct Guard<'a, T> {
    lock: &'a TryLock<T>,
    generation: u32,
}

impl<T> Deref for Guard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: this guard's generation was the holder when it was made, and no other guard
        // is made while it holds (module safety argument); a takeover that ended its hold comes
        // with the promise that this guard is never used again.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T> DerefMut for Guard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes this the only use through this guard.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T> Guard<'_, T> {
    /// Frees the lock (if it is still this guard's) and runs `f` in the same critical section:
    /// what `f` finds cannot change between the release and the look.
    pub(crate) fn release_and<R>(self, f: impl FnOnce(CriticalSection<'_>) -> R) -> R {
        let result = critical_section::with(|cs| {
            self.release_in(cs);
            f(cs)
        });
        // Released above: the drop would only look again.
        core::mem::forget(self);
        result
    }

    fn release_in(&self, cs: CriticalSection<'_>) {
        let cell = self.lock.state.borrow(cs);
        let mut state = cell.get();
        if state.holder == self.generation {
            state.holder = 0;
            cell.set(state);
        }
    }
}

impl<T> Drop for Guard<'_, T> {
    fn drop(&mut self) {
        critical_section::with(|cs| self.release_in(cs));
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn one_holder_at_a_time() {
        let lock = TryLock::new(5u32);
        let mut a = lock.try_lock().unwrap();
        assert!(lock.try_lock().is_none());
        *a += 1;
        drop(a);
        assert_eq!(*lock.try_lock().unwrap(), 6);
        assert!(!lock.is_locked());
    }

    #[test]
    fn the_generation_wraps_past_zero_which_means_free() {
        let lock = TryLock::new(0u32);
        critical_section::with(|cs| lock.state.borrow(cs).set(State { holder: 0, next: u32::MAX }));
        for _ in 0..3 {
            let held = lock.try_lock().unwrap();
            assert_ne!(held.generation, 0);
            assert!(lock.try_lock().is_none(), "held across the wrap");
            drop(held);
            assert!(!lock.is_locked());
        }
    }

    #[test]
    fn a_stale_guard_does_not_free_the_new_holder() {
        let lock = TryLock::new(0u32);
        let stale = lock.try_lock().unwrap();
        // SAFETY: the test never uses `stale` again, only drops it.
        let proof = unsafe { PanicTakeover::new() };
        assert!(lock.take_over(&proof));
        let new = lock.try_lock().unwrap();
        drop(stale);
        assert!(lock.is_locked(), "still held by the new holder");
        drop(new);
        assert!(!lock.is_locked());
        assert!(!lock.take_over(&proof), "nobody held it");
    }
}
