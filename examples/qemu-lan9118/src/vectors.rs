//! The device part of the vector table. MPS2 AN385/AN386 has 32 interrupts (QEMU's model gives
//! its NVIC 32) and this program enables none of them, so all 32 go to cortex-m-rt's
//! `DefaultHandler`. Without the `device` feature cortex-m-rt reserves the architecture's 240
//! vectors instead: 832 bytes of flash for nothing.

unsafe extern "C" {
    /// cortex-m-rt's handler for every exception and interrupt without one of its own.
    fn DefaultHandler();
}

/// IRQ 0 to 31, placed after the exceptions by cortex-m-rt's `link.x`.
#[link_section = ".vector_table.interrupts"]
#[no_mangle]
#[used]
static __INTERRUPTS: [unsafe extern "C" fn(); 32] = [DefaultHandler as unsafe extern "C" fn(); 32];
