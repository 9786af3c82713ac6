//! Nothing is lost at exit: whichever way a guest ends (return, `proc_exit`, trap,
//! `--time-limit`), the spans it ended arrive, and the spans it left open arrive ended by the
//! plugin, marked unfinished. With the collector down, the run still ends.

use std::path::PathBuf;
use wasmedge_otel_tests::*;

/// A guest that ends span "done" (child of "open"), leaves "open" open, then leaves by `how`.
fn guest(name: &str, how: &str) -> PathBuf {
    let wat = format!(
        r#"(module
  {imports}
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "open")
  (data (i32.const 16) "done")
  (func (export "_start") (local $open i64) (local $done i64)
    (local.set $open (call $span_start (i32.const 0) (i32.const 4) (i32.const 0) (i64.const 0) (i32.const 0) (i32.const 0)))
    (local.set $done (call $span_start (i32.const 16) (i32.const 4) (i32.const 0) (i64.const 0) (i32.const 0) (i32.const 0)))
    (if (i64.le_s (local.get $done) (i64.const 0)) (then (call $proc_exit (i32.const 90))))
    (if (i32.ne (call $span_end (local.get $done)) (i32.const 0)) (then (call $proc_exit (i32.const 91))))
    {how}
  )
)"#,
        imports = wat_imports()
    );
    wat_guest(name, &wat)
}

fn assert_done_and_unfinished(collector: &Collector) {
    let spans = collector.wait_for_spans(2, ARRIVAL_TIMEOUT).expect("both spans arrive");
    assert_eq!(names(&spans), ["done", "open"]);
    let (open, done) = (span(&spans, "open"), span(&spans, "done"));
    assert_eq!(done.parent_span_id_hex(), open.span_id_hex());
    assert_eq!(done.span.status.as_ref().map_or(0, |s| s.code), 0, "done ended normally: unset status");
    let status = open.span.status.as_ref().expect("open span has a status");
    assert_eq!(status.code, 2, "unfinished span is marked as an error");
    assert_eq!(status.message, "span was not ended before the guest exited");
    assert_eq!(open.attr("wasmedge_otel.unfinished").and_then(|v| v.value.clone()), Some(bool_value(true)));
}

fn bool_value(b: bool) -> opentelemetry_proto::tonic::common::v1::any_value::Value {
    opentelemetry_proto::tonic::common::v1::any_value::Value::BoolValue(b)
}

#[test]
fn normal_return() {
    let wasm = guest("exit_return", "");
    for mode in MODES {
        let c = collector();
        let out = Run::new(&for_mode(&wasm, mode), &c.endpoint()).output();
        assert_exit(&out, 0);
        assert_done_and_unfinished(&c);
    }
}

#[test]
fn proc_exit_with_a_code() {
    let wasm = guest("exit_proc_exit", "(call $proc_exit (i32.const 3))");
    for mode in MODES {
        let c = collector();
        let out = Run::new(&for_mode(&wasm, mode), &c.endpoint()).output();
        assert_exit(&out, 3);
        assert_done_and_unfinished(&c);
    }
}

#[test]
fn trap() {
    let wasm = guest("exit_trap", "unreachable");
    for mode in MODES {
        let c = collector();
        let out = Run::new(&for_mode(&wasm, mode), &c.endpoint()).output();
        assert!(!out.status.success(), "a trap fails the run");
        assert_done_and_unfinished(&c);
    }
}

#[test]
fn time_limit() {
    let wasm = guest("exit_time_limit", "(loop $forever (br $forever))");
    // AOT code checks the time limit only when compiled interruptible.
    for module in [wasm.clone(), aot_with(&wasm, &["--interruptible"])] {
        let c = collector();
        let out = Run::new(&module, &c.endpoint()).option("--time-limit").option("300").output();
        assert!(!out.status.success(), "hitting the time limit fails the run");
        assert_done_and_unfinished(&c);
    }
}

#[test]
fn collector_down_does_not_hang_the_run() {
    // Bind then drop a listener: nothing listens on that port any more.
    let endpoint = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let out = Run::new(&guest("exit_collector_down", ""), &endpoint).output();
    let stderr = assert_exit(&out, 0);
    assert!(
        stderr.contains("wasmedge_otel: flushing spans at exit failed"),
        "the loss is reported: {stderr}"
    );
}
