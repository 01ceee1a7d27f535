//! The device part of the vector table: one entry, IRQ 0, to cortex-m-rt's `DefaultHandler`.
//!
//! MPS2 AN385/AN386 has 32 interrupts (QEMU's model gives its NVIC 32), and this program
//! enables none of them: the NIC and the UART are polled, the periodic interrupt is SysTick (an
//! exception, in cortex-m-rt's part of the table), and nothing here writes the NVIC's enable
//! registers (`NVIC::unmask` is never called; they are all clear from reset). A line that is
//! not enabled is never taken, however often it is pending, so its vector is never read: the
//! 31 entries after IRQ 0 would be 124 bytes of flash that no fetch can reach. cortex-m-rt's
//! `device` feature wants at least one entry (its `link.x` checks that the table is not
//! empty); without that feature it reserves the architecture's 240 (832 bytes more).
//!
//! Should this program ever enable a device interrupt, the table must grow to cover that line
//! (an entry past the end would be read from the code that follows the table).

unsafe extern "C" {
    /// cortex-m-rt's handler for every exception and interrupt without one of its own.
    fn DefaultHandler();
}

/// IRQ 0, placed after the exceptions by cortex-m-rt's `link.x`.
#[link_section = ".vector_table.interrupts"]
#[no_mangle]
#[used]
static __INTERRUPTS: [unsafe extern "C" fn(); 1] = [DefaultHandler as unsafe extern "C" fn(); 1];
