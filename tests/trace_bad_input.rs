//! Hostile input from a guest: each bad call gets its documented status, the run goes on, and
//! the valid spans around the bad calls still arrive, unchanged.
//!
//! The guest checks every status itself and exits with the number of the first check that
//! failed, so a failure names the check.

use wasmedge_otel_abi::Status;
use wasmedge_otel_tests::*;

/// (what is checked, WAT expression returning i64, expected value)
fn checks() -> Vec<WatCheck> {
    let st = |s: Status| s.0 as i64;
    vec![
        ("name past the end of memory", "(call $span_start (i32.const 65535) (i32.const 9) (i32.const 0) (i64.const 0) (i32.const 0) (i32.const 0))", st(Status::OUT_OF_BOUNDS)),
        ("name pointer near 4 GiB", "(call $span_start (i32.const -2) (i32.const 8) (i32.const 0) (i64.const 0) (i32.const 0) (i32.const 0))", st(Status::OUT_OF_BOUNDS)),
        ("length near 4 GiB", "(call $span_start (i32.const 0) (i32.const -1) (i32.const 0) (i64.const 0) (i32.const 0) (i32.const 0))", st(Status::LIMIT_EXCEEDED)),
        ("invalid UTF-8 name", "(call $span_start (i32.const 200) (i32.const 2) (i32.const 0) (i64.const 0) (i32.const 0) (i32.const 0))", st(Status::INVALID_UTF8)),
        ("unknown span kind", "(call $span_start (i32.const 0) (i32.const 5) (i32.const 99) (i64.const 0) (i32.const 0) (i32.const 0))", st(Status::INVALID_ARGUMENT)),
        ("malformed attribute buffer", "(call $span_start (i32.const 0) (i32.const 5) (i32.const 0) (i64.const 0) (i32.const 300) (i32.const 3))", st(Status::MALFORMED)),
        ("invalid UTF-8 attribute value", "(call $span_start (i32.const 0) (i32.const 5) (i32.const 0) (i64.const 0) (i32.const 400) (i32.const 11))", st(Status::INVALID_UTF8)),
        ("forged parent handle", "(call $span_start (i32.const 0) (i32.const 5) (i32.const 0) (i64.const 12345) (i32.const 0) (i32.const 0))", st(Status::INVALID_HANDLE)),
        ("negative parent handle", "(call $span_start (i32.const 0) (i32.const 5) (i32.const 0) (i64.const -7) (i32.const 0) (i32.const 0))", st(Status::INVALID_HANDLE)),
        ("end of handle 0", "(i64.extend_i32_s (call $span_end (i64.const 0)))", st(Status::INVALID_HANDLE)),
        ("end of a forged handle", "(i64.extend_i32_s (call $span_end (i64.const 0x0123456789)))", st(Status::INVALID_HANDLE)),
        ("second end of an ended span", "(i64.extend_i32_s (call $span_end (global.get $before)))", st(Status::INVALID_HANDLE)),
        ("attributes on an ended span", "(i64.extend_i32_s (call $span_set_attributes (global.get $before) (i32.const 0) (i32.const 0)))", st(Status::INVALID_HANDLE)),
        ("event on an ended span", "(i64.extend_i32_s (call $span_add_event (global.get $before) (i32.const 0) (i32.const 5) (i32.const 0) (i32.const 0)))", st(Status::INVALID_HANDLE)),
        ("ended span as parent", "(call $span_start (i32.const 0) (i32.const 5) (i32.const 0) (global.get $before) (i32.const 0) (i32.const 0))", st(Status::INVALID_HANDLE)),
        ("unknown status code", "(i64.extend_i32_s (call $span_set_status (global.get $valid) (i32.const 7) (i32.const 0) (i32.const 0)))", st(Status::INVALID_ARGUMENT)),
        ("status message out of bounds", "(i64.extend_i32_s (call $span_set_status (global.get $valid) (i32.const 2) (i32.const 65530) (i32.const 100)))", st(Status::OUT_OF_BOUNDS)),
        ("exception type invalid UTF-8", "(i64.extend_i32_s (call $span_record_exception (global.get $valid) (i32.const 200) (i32.const 2) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)))", st(Status::INVALID_UTF8)),
        ("attributes past the end of memory", "(i64.extend_i32_s (call $span_set_attributes (global.get $valid) (i32.const 65000) (i32.const 4096)))", st(Status::OUT_OF_BOUNDS)),
        ("current span is the valid one", "(i64.sub (call $span_current) (global.get $valid))", 0),
    ]
}

fn guest() -> std::path::PathBuf {
    let body = wat_checks(&checks());
    let wat = format!(
        r#"(module
  {imports}
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (global $before (mut i64) (i64.const 0))
  (global $valid (mut i64) (i64.const 0))
  (data (i32.const 0) "validbefore")
  (data (i32.const 200) "\ff\fe")
  ;; key "k", tag 99 (unknown): malformed
  (data (i32.const 300) "\01\00\00")
  ;; key "k", STRING, len 1, byte ff: invalid UTF-8 value
  (data (i32.const 400) "\01\00\00\00k\01\01\00\00\00\ff")
  ;; key "ok", I64 = 7: a valid attribute
  (data (i32.const 500) "\02\00\00\00ok\03\07\00\00\00\00\00\00\00")
  (func (export "_start")
    (global.set $before (call $span_start (i32.const 5) (i32.const 6) (i32.const 0) (i64.const 0) (i32.const 0) (i32.const 0)))
    (if (i32.ne (call $span_end (global.get $before)) (i32.const 0)) (then (call $proc_exit (i32.const 100))))
    (global.set $valid (call $span_start (i32.const 0) (i32.const 5) (i32.const 0) (i64.const 0) (i32.const 500) (i32.const 15)))
    (if (i64.le_s (global.get $valid) (i64.const 0)) (then (call $proc_exit (i32.const 101))))
    {body}
    (if (i32.ne (call $span_end (global.get $valid)) (i32.const 0)) (then (call $proc_exit (i32.const 102))))
  )
)"#,
        imports = wat_imports()
    );
    wat_guest("bad_input", &wat)
}

#[test]
fn bad_calls_get_their_status_and_valid_spans_arrive() {
    let wasm = guest();
    for mode in MODES {
        let c = collector();
        let out = Run::new(&for_mode(&wasm, mode), &c.endpoint()).output();
        let code = out.status.code().unwrap_or(-1);
        if code != 0 {
            let failed = failed_check(&checks(), code);
            panic!(
                "{mode:?}: check {code} failed: {failed}; stderr: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let spans = c.wait_for_spans(2, ARRIVAL_TIMEOUT).unwrap();
        assert_eq!(names(&spans), ["before", "valid"], "{mode:?}: only the valid spans were recorded");
        let valid = span(&spans, "valid");
        assert_eq!(valid.span.attributes.len(), 1, "{mode:?}: refused calls added nothing");
        assert!(valid.span.events.is_empty());
        assert_eq!(
            valid.span.status.as_ref().map_or(0, |s| s.code),
            0,
            "{mode:?}: refused status left it unset"
        );
    }
}

#[test]
fn guest_without_memory_gets_out_of_bounds() {
    let wat = format!(
        r#"(module
  {imports}
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (func (export "_start")
    (if (i64.ne (call $span_start (i32.const 0) (i32.const 4) (i32.const 0) (i64.const 0) (i32.const 0) (i32.const 0)) (i64.const {oob}))
      (then (call $proc_exit (i32.const 1))))
    ;; An empty name needs no memory.
    (if (i64.le_s (call $span_start (i32.const 0) (i32.const 0) (i32.const 0) (i64.const 0) (i32.const 0) (i32.const 0)) (i64.const 0))
      (then (call $proc_exit (i32.const 2))))
  )
)"#,
        imports = wat_imports(),
        oob = Status::OUT_OF_BOUNDS.0
    );
    let c = collector();
    let out = Run::new(&wat_guest("no_memory", &wat), &c.endpoint()).output();
    assert_exit(&out, 0);
    assert_eq!(c.wait_for_spans(1, ARRIVAL_TIMEOUT).unwrap().len(), 1);
}
