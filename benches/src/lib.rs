//! Benchmarks live in `benches/`; this library holds what the criterion benches and the
//! instruction-count example share, so both measure the same code.

pub mod builders;
pub mod console;
