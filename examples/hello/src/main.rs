//! `hello`: an example guest whose trace is fully deterministic, for the end-to-end tests.
//!
//! Run under `wasmedge` with the `wasmedge_otel` plugin, it prints exactly one line to stdout,
//!
//! ```text
//! hello from wasm; computed 55
//! ```
//!
//! nothing to stderr (unless the plugin speaks another ABI version: then
//! `hello: wasmedge_otel ABI mismatch, tracing disabled` and no spans), exits with 0,
//! and produces exactly one trace with this span tree (children in start order; `[KIND]`, then
//! attributes, events and status; integers are `i64`, decimals `f64`):
//!
//! ```text
//! hello [SERVER] (root)
//! │   app.name = "hello"                      string
//! │   app.version = 1                         i64
//! │   status UNSET
//! ├── load-config [INTERNAL]
//! │       config.path = "/etc/hello.toml"     string
//! │       config.cached = false               bool
//! │       config.entries = 3                  i64
//! │       config.ratio = 0.75                 f64
//! │       config.sources = ["defaults", "env"] string array
//! │       config.ports = [8080, 8443]         i64 array
//! │       config.flags = [true, false]        bool array
//! │       config.weights = [0.5, 1.5]         f64 array
//! │       event "config-loaded": config.entries = 3 (i64), config.source = "defaults" (string)
//! │       status UNSET
//! ├── compute [INTERNAL]
//! │   │   compute.n = 10                      i64 (given at start)
//! │   │   compute.sum = 55                    i64 (set later)
//! │   │   event "exception": exception.type = "ArithmeticError", exception.message = "division by
//! │   │       zero", compute.divisor = 0 (i64)
//! │   │   status ERROR "division by zero"
//! │   └── sum [INTERNAL]
//! │           sum.terms = 10                  i64
//! │           status UNSET
//! └── respond [CLIENT] (explicit parent: hello; ended with `Span::end`)
//!         respond.bytes = 28                  i64
//!         status OK
//! ```
//!
//! Spans end in this order: `load-config`, `sum`, `compute`, `respond`, `hello`. `load-config`,
//! `compute` and `sum` get their parent implicitly (the current span when they start), which relies on
//! the host making a span's parent current again when the span ends; `respond` names its parent.
//!
//! The host calls, in order (README.md lists their arguments): `abi_version`, `span_start(hello)`,
//! `span_start(load-config)`, `span_add_event`, `span_end`, `span_start(compute)`, `span_start(sum)`,
//! `span_end`, `span_set_attributes`, `span_record_exception`, `span_set_status`, `span_end`,
//! `span_start(respond)`, `span_set_attributes`, `span_set_status`, `span_end`, `span_end`.
//!
//! `hello-plain` is the same program without the bindings, to measure what they add.

use std::io::Write;

use wasmedge_otel_guest::{kv, span, Span, SpanKind, SpanStatus};

/// Number of terms `compute` sums.
const TERMS: i64 = 10;

struct Config {
    path: &'static str,
    entries: i64,
    sources: [&'static str; 2],
}

fn main() {
    // Optional: without it the first span does the same check silently. A fixed message rather than
    // `eprintln!("{error}")` keeps `core::fmt` for `Error` out of the module.
    if wasmedge_otel_guest::init().is_err() {
        let _ = std::io::stderr().write_all(b"hello: wasmedge_otel ABI mismatch, tracing disabled\n");
    }
    let root = Span::builder("hello")
        .kind(SpanKind::Server)
        .root()
        .attributes(&[kv("app.name", "hello"), kv("app.version", 1)])
        .start();

    let _config = load_config();
    let total = compute(TERMS);
    let line = format!("hello from wasm; computed {total}");
    respond(&root, &line);
}

fn load_config() -> Config {
    let config = Config { path: "/etc/hello.toml", entries: 3, sources: ["defaults", "env"] };
    let span = Span::builder("load-config")
        .attributes(&[
            kv("config.path", config.path),
            kv("config.cached", false),
            kv("config.entries", config.entries),
            kv("config.ratio", 0.75),
            kv("config.sources", &config.sources),
            kv("config.ports", &[8080i64, 8443]),
            kv("config.flags", &[true, false]),
            kv("config.weights", &[0.5, 1.5]),
        ])
        .start();
    span.add_event(
        "config-loaded",
        &[kv("config.entries", config.entries), kv("config.source", config.sources[0])],
    );
    config
}

fn compute(n: i64) -> i64 {
    let span = span!("compute", "compute.n" => n);
    let sum = {
        let _sum = span!("sum", "sum.terms" => n);
        (1..=n).sum::<i64>()
    };
    span.set_attribute("compute.sum", sum);
    let divisor = n - TERMS;
    match sum.checked_div(divisor) {
        Some(average) => average,
        None => {
            span.record_exception("ArithmeticError", "division by zero", &[kv("compute.divisor", divisor)]);
            span.set_status(SpanStatus::Error("division by zero"));
            sum
        }
    }
}

fn respond(root: &Span, line: &str) {
    let span = Span::builder("respond").kind(SpanKind::Client).parent(root).start();
    println!("{line}");
    span.set_attribute("respond.bytes", line.len());
    span.set_status(SpanStatus::Ok);
    span.end();
}
