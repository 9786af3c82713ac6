//! Flushing under an embedder: the plugin's finalizer runs when the embedder drops the plugin's
//! module instance (here, the [`Sandbox`] holding it), not when the guest's `_start` returns and
//! not when the `Vm` or `Store` is dropped (in wasmedge-sdk 0.14 the store only borrows module
//! instances). At that drop, spans the guest left open are ended as unfinished and everything
//! buffered is exported before `drop` returns.
//!
//! The batch span processor's delay is set to ten minutes, so in this process nothing reaches the
//! collector except through that flush; this file holds one test, so no other sandbox's
//! finalizer flushes the shared pipeline in between. Each exit path is checked: return,
//! `proc_exit(3)` and a trap.

mod common;

use common::*;
use std::time::{Duration, Instant};
use wasmedge_otel_embedder::Exit;

/// What each guest does before it leaves: start and end `<name>.closed`, start `<name>.open`.
fn guest(name: &str, ending: &str) -> String {
    let closed = format!("{name}.closed");
    let open = format!("{name}.open");
    format!(
        r#"(module
  {imports}
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "{closed}")
  (data (i32.const 64) "{open}")
  (func (export "_start")
    (drop (call $span_end (call $span_start (i32.const 0) (i32.const {closed_len}) (i32.const 0) (i64.const 0) (i32.const 0) (i32.const 0))))
    (drop (call $span_start (i32.const 64) (i32.const {open_len}) (i32.const 0) (i64.const 0) (i32.const 0) (i32.const 0)))
    {ending})
)"#,
        imports = wat_imports(),
        closed_len = closed.len(),
        open_len = open.len(),
    )
}

#[test]
fn dropping_the_plugin_instance_ends_open_spans_and_flushes() {
    let collector = init(&[
        ("OTEL_SERVICE_NAME", "embedder-finalizer"),
        ("OTEL_BSP_SCHEDULE_DELAY", "600000"),
        ("OTEL_METRICS_EXPORTER", "none"),
        ("OTEL_LOGS_EXPORTER", "none"),
    ]);
    let cases = [
        ("fin-return", "", Exit::Code(0)),
        ("fin-exit", "(call $proc_exit (i32.const 3))", Exit::Code(3)),
        ("fin-trap", "unreachable", Exit::Trap(String::new())),
    ];
    for (name, ending, expected) in cases {
        let mut sandbox = sandbox();
        let exit = sandbox.run(&module(&guest(name, ending))).expect("instantiate");
        match (&exit, &expected) {
            (Exit::Trap(_), Exit::Trap(_)) => {}
            _ => assert_eq!(exit, expected, "{name}"),
        }

        // The guest is done and its Vm is gone, but the plugin instance is alive: nothing sent.
        std::thread::sleep(Duration::from_millis(500));
        assert_eq!(
            spans_named(collector, name).len(),
            0,
            "{name}: exported before the plugin instance was dropped"
        );

        let started = Instant::now();
        drop(sandbox);
        let flush = started.elapsed();
        // The finalizer's flush is synchronous: both spans are there when `drop` returns.
        let spans = spans_named(collector, name);
        eprintln!("{name}: drop took {flush:?} and delivered {} span(s)", spans.len());
        assert_eq!(spans.len(), 2, "{name}: delivered by the time drop returned");
        let closed = one(&spans, &format!("{name}.closed"));
        assert_eq!(bool_attr(closed, "wasmedge_otel.unfinished"), None);
        let open = one(&spans, &format!("{name}.open"));
        assert_eq!(bool_attr(open, "wasmedge_otel.unfinished"), Some(true), "{name}: ended by the finalizer");
        assert_eq!(status_code(open), 2, "{name}: unfinished spans are errors");
    }
}
