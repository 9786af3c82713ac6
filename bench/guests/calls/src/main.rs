//! Per-call cost of automatic instrumentation (`wasmedge-otel instrument`), timed inside the guest
//! with the WASI monotonic clock around the loop, like `ops`.
//!
//! `calls.wasm call N WARMUP` calls [`tiny`] WARMUP times, then N times under the clock, and prints
//! `RESULT op=call n=N ns_per_op=X`. Uninstrumented, that is the cost of a call; once the runner
//! has instrumented `calls::tiny`, every call also goes through `func_enter` and `func_exit`.
//! Nothing here knows about tracing: no bindings, no imports but WASI.
use std::hint::black_box;
use std::time::Instant;

/// The instrumented function: a leaf that neither the optimiser (`inline(never)`, `black_box`) nor
/// LTO can inline or remove, so every iteration is one real Wasm `call`.
#[inline(never)]
fn tiny(i: u64) -> u64 {
    black_box(i).wrapping_mul(3) ^ 1
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 || args[1] != "call" {
        eprintln!("usage: calls.wasm call N WARMUP");
        std::process::exit(2);
    }
    let n: u64 = args[2].parse().expect("N");
    let warmup: u64 = args[3].parse().expect("WARMUP");

    let run = |count: u64| -> f64 {
        let start = Instant::now();
        let mut acc = 0u64;
        for i in 0..count {
            acc = acc.wrapping_add(tiny(black_box(i)));
        }
        black_box(acc);
        start.elapsed().as_nanos() as f64
    };
    // The first instrumented call registers the names and, with every call exported, builds the
    // plugin's export pipeline: keep both out of the clock.
    run(warmup);
    let ns = run(n);
    println!("RESULT op=call n={n} ns_per_op={:.2}", ns / n.max(1) as f64);
}
