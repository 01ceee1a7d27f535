//! Placeholder until the options parser lands: it only proves the harness builds.
#![no_main]
libfuzzer_sys::fuzz_target!(|_data: &[u8]| {});
