//! The one semihosting call the program makes: exit with a status. QEMU (with
//! `-semihosting-config enable=on`) ends with that status; SYS_EXIT_EXTENDED carries any code,
//! where plain SYS_EXIT only tells success from failure on 32-bit Arm.

/// SYS_EXIT_EXTENDED.
const SYS_EXIT_EXTENDED: u32 = 0x20;
/// ADP_Stopped_ApplicationExit: a normal exit, with the status in the second word.
const APPLICATION_EXIT: u32 = 0x2_0026;

/// Ends the program with `status`.
pub fn exit(status: u32) -> ! {
    let block = [APPLICATION_EXIT, status];
    // SAFETY: `bkpt 0xab` is the Arm semihosting trap: r0 the operation, r1 a pointer to its
    // parameter block, which lives on this frame for the duration of the call. Without a
    // debugger or QEMU's semihosting it is a HardFault, which ends the program just the same.
    unsafe {
        core::arch::asm!(
            "bkpt #0xab",
            inout("r0") SYS_EXIT_EXTENDED => _,
            in("r1") block.as_ptr(),
            options(nostack),
        );
    }
    loop {
        cortex_m::asm::wfi();
    }
}
