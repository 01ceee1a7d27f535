// Entry at EL1 (QEMU virt without virtualization or security): park all but core 0, set the
// stack, allow FP/SIMD (Rust uses the vector registers), zero .bss, install the vectors, and
// call Rust.
.section .text.boot, "ax"
.global _start
_start:
    mrs     x0, mpidr_el1
    and     x0, x0, #0xff
    cbnz    x0, 9f
    ldr     x0, =__stack_top
    mov     sp, x0
    mov     x0, #(3 << 20)
    msr     cpacr_el1, x0
    isb
    ldr     x0, =__bss_start
    ldr     x1, =__bss_end
1:  cmp     x0, x1
    b.hs    2f
    str     xzr, [x0], #8
    b       1b
2:  ldr     x0, =exception_vectors
    msr     vbar_el1, x0
    isb
    bl      aarch64_start
9:  wfe
    b       9b

// The vector table: 16 entries of 0x80 bytes. Only "current EL with SP_ELx, IRQ" is expected;
// everything else reports itself and ends the run.
.section .text.vectors, "ax"
.balign 0x800
.global exception_vectors
exception_vectors:
    .rept 5
    .balign 0x80
    b       unexpected
    .endr
    .balign 0x80
    b       irq_entry
    .rept 10
    .balign 0x80
    b       unexpected
    .endr

// Saves what the AAPCS64 lets a called function clobber (x0-x18, x29, x30, q0-q31), runs
// the Rust handler, restores and returns. IRQs stay masked inside: no nesting.
irq_entry:
    sub     sp, sp, #688
    stp     x0, x1, [sp, #0]
    stp     x2, x3, [sp, #16]
    stp     x4, x5, [sp, #32]
    stp     x6, x7, [sp, #48]
    stp     x8, x9, [sp, #64]
    stp     x10, x11, [sp, #80]
    stp     x12, x13, [sp, #96]
    stp     x14, x15, [sp, #112]
    stp     x16, x17, [sp, #128]
    stp     x18, x29, [sp, #144]
    str     x30, [sp, #160]
    stp     q0, q1, [sp, #176]
    stp     q2, q3, [sp, #208]
    stp     q4, q5, [sp, #240]
    stp     q6, q7, [sp, #272]
    stp     q8, q9, [sp, #304]
    stp     q10, q11, [sp, #336]
    stp     q12, q13, [sp, #368]
    stp     q14, q15, [sp, #400]
    stp     q16, q17, [sp, #432]
    stp     q18, q19, [sp, #464]
    stp     q20, q21, [sp, #496]
    stp     q22, q23, [sp, #528]
    stp     q24, q25, [sp, #560]
    stp     q26, q27, [sp, #592]
    stp     q28, q29, [sp, #624]
    stp     q30, q31, [sp, #656]
    bl      aarch64_irq
    ldp     q30, q31, [sp, #656]
    ldp     q28, q29, [sp, #624]
    ldp     q26, q27, [sp, #592]
    ldp     q24, q25, [sp, #560]
    ldp     q22, q23, [sp, #528]
    ldp     q20, q21, [sp, #496]
    ldp     q18, q19, [sp, #464]
    ldp     q16, q17, [sp, #432]
    ldp     q14, q15, [sp, #400]
    ldp     q12, q13, [sp, #368]
    ldp     q10, q11, [sp, #336]
    ldp     q8, q9, [sp, #304]
    ldp     q6, q7, [sp, #272]
    ldp     q4, q5, [sp, #240]
    ldp     q2, q3, [sp, #208]
    ldp     q0, q1, [sp, #176]
    ldr     x30, [sp, #160]
    ldp     x18, x29, [sp, #144]
    ldp     x16, x17, [sp, #128]
    ldp     x14, x15, [sp, #112]
    ldp     x12, x13, [sp, #96]
    ldp     x10, x11, [sp, #80]
    ldp     x8, x9, [sp, #64]
    ldp     x6, x7, [sp, #48]
    ldp     x4, x5, [sp, #32]
    ldp     x2, x3, [sp, #16]
    ldp     x0, x1, [sp, #0]
    add     sp, sp, #688
    eret

unexpected:
    mrs     x0, esr_el1
    mrs     x1, elr_el1
    mrs     x2, far_el1
    bl      aarch64_fault
    b       .
