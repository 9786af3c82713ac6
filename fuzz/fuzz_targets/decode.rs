//! The decoders one at a time (see `wasmedge_otel_fuzz::decoders`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wasmedge_otel_fuzz::decoders::run(data));
