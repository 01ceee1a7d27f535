//! The critical section for this single-core chip, out of line.
//!
//! cortex-m's `critical-section-single-core` does the same (PRIMASK saved, interrupts masked,
//! unmasked again only if they were on), but its body is inlined into each of the console's
//! fifty-odd critical sections: about 14 bytes each, 0.7 KiB in all. Here each is a call to
//! one of two small functions, a few cycles more per section.

use cortex_m::interrupt;
use cortex_m::register::primask;
use critical_section::RawRestoreState;

struct SingleCore;
critical_section::set_impl!(SingleCore);

// SAFETY: one core, so masking interrupts excludes every other context; the state returned by
// `acquire` says whether they were on, and `release` turns them on again only then, so nested
// sections restore what the outer one found.
unsafe impl critical_section::Impl for SingleCore {
    unsafe fn acquire() -> RawRestoreState {
        mask()
    }

    unsafe fn release(were_on: RawRestoreState) {
        unmask(were_on);
    }
}

/// Masks interrupts and says whether they were on.
#[inline(never)]
fn mask() -> bool {
    let were_on = primask::read().is_active();
    interrupt::disable();
    were_on
}

/// Unmasks interrupts if they were on when the section began.
#[inline(never)]
fn unmask(were_on: bool) {
    if were_on {
        // SAFETY: they were on before the matching `mask`: this only restores that state,
        // ending the critical section.
        unsafe { interrupt::enable() }
    }
}
