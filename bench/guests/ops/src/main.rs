//! Per-operation cost through the `wasmedge_otel` plugin, timed inside the guest with the WASI
//! monotonic clock around the loop, so process start-up and plugin set-up never count.
//!
//! `ops.wasm OP N WARMUP` sets the operation up, runs it WARMUP times (the first span builds the
//! plugin's export pipeline), then N times under the clock, and prints
//! `RESULT op=OP n=N ns_per_op=X`. Every operation carries the same two attributes as the native and
//! in-guest SDK baselines (see bench/native and bench/guests/sdk-ops).
use std::hint::black_box;
use std::time::Instant;
use wasmedge_otel_guest::{kv, logs, raw, Counter, Histogram, Span};

const ROUTE: &str = "/api/items";

/// The import-free floor: a loop around a call the optimiser cannot remove.
#[inline(never)]
fn nothing(i: u64) -> u64 {
    black_box(i)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        eprintln!("usage: ops.wasm loop|clock|abi_version|span|counter|bound|histogram|log N WARMUP");
        std::process::exit(2);
    }
    let op = args[1].as_str();
    let n: u64 = args[2].parse().expect("N");
    let warmup: u64 = args[3].parse().expect("WARMUP");

    let counter = Counter::<i64>::builder("bench.requests").unit("{request}").build();
    let histogram = Histogram::<f64>::builder("bench.duration").unit("ms").build();
    let bound = counter.bind(&[kv("http.route", ROUTE), kv("http.response.status_code", 200)]);
    if matches!(op, "counter" | "bound" | "histogram") {
        assert!(counter.is_recording() && histogram.is_recording() && bound.is_recording());
    }

    let run = |count: u64| -> f64 {
        let start = Instant::now();
        match op {
            "loop" => {
                for i in 0..count {
                    nothing(i);
                }
            }
            "clock" => {
                for _ in 0..count {
                    black_box(Instant::now());
                }
            }
            "abi_version" => {
                for _ in 0..count {
                    black_box(raw::abi_version());
                }
            }
            "span" => {
                for i in 0..count {
                    let attributes = [kv("http.route", ROUTE), kv("item.id", black_box(i) as i64)];
                    let span = Span::builder("op").attributes(&attributes).start();
                    drop(black_box(span));
                }
            }
            "counter" => {
                for _ in 0..count {
                    counter
                        .add(1, &[kv("http.route", ROUTE), kv("http.response.status_code", black_box(200))]);
                }
            }
            "bound" => {
                for _ in 0..count {
                    bound.add(black_box(1));
                }
            }
            "histogram" => {
                for i in 0..count {
                    let value = (black_box(i) % 100) as f64 + 0.5;
                    histogram.record(value, &[kv("http.route", ROUTE), kv("http.response.status_code", 200)]);
                }
            }
            "log" => {
                for i in 0..count {
                    logs::info(
                        "request handled",
                        &[kv("http.route", ROUTE), kv("item.id", black_box(i) as i64)],
                    );
                }
            }
            other => {
                eprintln!("unknown op {other}");
                std::process::exit(2);
            }
        }
        start.elapsed().as_nanos() as f64
    };
    // The first span, instrument or log record starts the plugin's pipeline: keep it out of the clock.
    let span = Span::start("warmup");
    drop(span);
    run(warmup);
    let ns = run(n);
    println!("RESULT op={op} n={n} ns_per_op={:.2}", ns / n.max(1) as f64);
}
