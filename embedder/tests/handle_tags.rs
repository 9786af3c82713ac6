//! Many plugin instances in one long-lived process, as a server embedding WasmEdge creates (the
//! `wasmedge` CLI creates one per process): a handle value taken from a live instance A must never
//! reach A's span from any later instance B.
//!
//! A opens a span and keeps it open while 5,000 sandboxes are created one after another. Each B
//! opens its own first span, then tries A's handle value with `span_end`. Handles carry a
//! per-table tag (`plugin/src/core/handles.rs`); while B's tag differs from A's, that call must
//! get `INVALID_HANDLE`. Tags come from a process-wide counter and repeat eventually; when B's
//! first handle equals A's (same tag, slot and generation), the call acts on B's own span — it
//! must still leave A's span open and current in A. The test reports on stderr after how many
//! instances that happened.
//!
//! Its own process (test file) so that its instance count is not disturbed by other tests, and
//! with every exporter off: only the handle tables matter here.

mod common;

use common::*;

const INSTANCES: usize = 5000;

fn guest() -> String {
    format!(
        r#"(module
  {imports}
  (memory (export "memory") 1)
  (func (export "start") (result i64)
    (call $span_start (i32.const 0) (i32.const 0) (i32.const 0) (i64.const -1) (i32.const 0) (i32.const 0)))
  (func (export "end") (param $h i64) (result i32)
    (call $span_end (local.get $h)))
  (func (export "current") (result i64)
    (call $span_current))
)"#,
        imports = wat_imports()
    )
}

#[test]
fn a_live_instance_span_is_never_reached_from_later_instances() {
    init(&[
        ("OTEL_TRACES_EXPORTER", "none"),
        ("OTEL_METRICS_EXPORTER", "none"),
        ("OTEL_LOGS_EXPORTER", "none"),
    ]);
    let module = module(&guest());
    let mut sandbox_a = sandbox();
    let mut a = sandbox_a.vm().unwrap();
    a.register_module(None, module.clone()).unwrap();
    let span_a = call(&mut a, "start", &[]);
    assert!(span_a > 0);

    let mut same_value = Vec::new();
    for n in 1..=INSTANCES {
        let mut sandbox_b = sandbox();
        let mut b = sandbox_b.vm().unwrap();
        b.register_module(None, module.clone()).unwrap();
        let span_b = call(&mut b, "start", &[]);
        assert!(span_b > 0);
        let status = call(&mut b, "end", &[span_a]);
        if span_b == span_a {
            // The value names B's own span in B's own table: B ended its own span.
            assert_eq!(status, 0);
            assert_eq!(call(&mut b, "current", &[]), 0, "B's own span was the one ended");
            same_value.push(n);
        } else {
            assert_eq!(
                status, INVALID_HANDLE,
                "instance {n}: A's handle {span_a:#x} in B (B's own {span_b:#x})"
            );
            assert_eq!(call(&mut b, "current", &[]), span_b);
        }
        // Whatever B did, A's span is still open and current in A.
        assert_eq!(call(&mut a, "current", &[]), span_a, "after instance {n}");
    }
    assert_eq!(call(&mut a, "end", &[span_a]), 0, "A's span was open all along");
    eprintln!(
        "A's first span handle {span_a:#x}; of {INSTANCES} later instances, these got the same value for their \
         own first span (a repeated table tag), so A's value was valid in them but named their own span: {same_value:?}"
    );
}
