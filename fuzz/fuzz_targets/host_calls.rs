//! The whole host-function table, driven as a sequence of calls (see `wasmedge_otel_fuzz::calls`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wasmedge_otel_fuzz::calls::run(data));
