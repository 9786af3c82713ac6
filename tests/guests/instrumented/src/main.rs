//! `instrumented`: an ordinary program, traced by instrumenting its compiled module.
//!
//! It prints `fib(5) = 5; 7 found at 2; 42 not found; checksum 35` and nothing else. Its only
//! tracing code is the two spans it starts by hand (`compute`, `lookup`); every other span comes
//! from `wasmedge-otel instrument`. `#[inline(never)]` keeps the functions apart in the optimized
//! module, as a larger program's would be, so that the call tree is the source's:
//!
//! ```text
//! instrumented::main
//! └── instrumented::run
//!     ├── instrumented::compute
//!     │   └── compute                      (by hand)
//!     │       └── instrumented::fib        fib(5): 15 calls, 5 levels deep
//!     │           ├── instrumented::fib
//!     │           ...
//!     ├── lookup                           (by hand)
//!     │   ├── instrumented::find           returns early from inside its loop
//!     │   └── instrumented::find           runs to the end
//!     ├── instrumented::checksum
//!     ├── instrumented::found
//!     └── instrumented::found
//! ```
//!
//! (with `--exclude 'wasmedge_otel_guest::*'`: the bindings' own functions, which start the spans
//! by hand, are left out).

use std::hint::black_box;

use wasmedge_otel_guest::Span;

fn main() {
    let values = black_box([3i64, 11, 7, 5, 0, 9]);
    let line = run(&values);
    println!("{line}");
}

#[inline(never)]
fn run(values: &[i64]) -> String {
    let f = compute(black_box(5));
    let (seven, forty_two) = {
        let _lookup = Span::start("lookup");
        (find(values, 7), find(values, 42))
    };
    let sum = checksum(values);
    format!("fib(5) = {f}; {}; {}; checksum {sum}", found(7, seven), found(42, forty_two))
}

#[inline(never)]
fn found(needle: i64, at: Option<usize>) -> String {
    match at {
        Some(i) => format!("{needle} found at {i}"),
        None => format!("{needle} not found"),
    }
}

#[inline(never)]
fn compute(n: u32) -> u64 {
    let _span = Span::start("compute");
    fib(n)
}

/// Naive recursion; `black_box` keeps LLVM from turning one of the two calls into a loop.
#[inline(never)]
fn fib(n: u32) -> u64 {
    if n < 2 {
        return n as u64;
    }
    black_box(fib(n - 1)) + black_box(fib(n - 2))
}

/// The index of `needle`, returning from inside the loop when it is found.
#[inline(never)]
fn find(values: &[i64], needle: i64) -> Option<usize> {
    for (i, v) in values.iter().enumerate() {
        if black_box(*v) == needle {
            return Some(i);
        }
    }
    None
}

#[inline(never)]
fn checksum(values: &[i64]) -> i64 {
    values.iter().fold(0, |acc, v| black_box(acc + v))
}
