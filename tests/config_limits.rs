//! The attribute, event and open-span limits, end to end: `OTEL_*_COUNT_LIMIT`,
//! `OTEL_*_VALUE_LENGTH_LIMIT` and `WASMEDGE_OTEL_MAX_OPEN_SPANS`, checked on what the collector
//! receives from `hello` (whose `load-config` span has 8 attributes and one event with 2, and whose
//! `compute` span has an `exception` event with 3) and `metrics-demo` (request spans with 4
//! attributes, log records with up to 4), and on the status codes a hand-written guest gets.
//! Without the variable under test, every one of these spans and records arrives whole.

use opentelemetry_proto::tonic::logs::v1::LogRecord;
use wasmedge_otel_abi::Status;
use wasmedge_otel_tests::*;

/// Runs `hello` with `vars` and returns its 5 spans.
fn hello(vars: &[(&str, &str)]) -> Vec<ReceivedSpan> {
    let c = collector();
    let mut run = Run::new(&example("hello"), &c.endpoint());
    for (k, v) in vars {
        run = run.env(k, v);
    }
    let stderr = assert_exit(&run.output(), 0);
    assert!(!stderr.contains("ignoring"), "{vars:?}: {stderr}");
    let spans = c.wait_for_spans(5, ARRIVAL_TIMEOUT).unwrap_or_else(|e| panic!("{vars:?}: {e}"));
    assert_eq!(spans.len(), 5);
    spans
}

/// Runs `metrics-demo` with `vars` and returns its 5 spans and 7 log records.
fn demo(vars: &[(&str, &str)]) -> (Vec<ReceivedSpan>, Vec<LogRecord>) {
    let c = collector();
    let mut run = Run::new(&example("metrics-demo"), &c.endpoint());
    for (k, v) in vars {
        run = run.env(k, v);
    }
    let stderr = assert_exit(&run.output(), 0);
    assert!(!stderr.contains("ignoring"), "{vars:?}: {stderr}");
    let spans = c.wait_for_spans(5, ARRIVAL_TIMEOUT).unwrap_or_else(|e| panic!("{vars:?}: {e}"));
    wait_until("7 log records", ARRIVAL_TIMEOUT, || log_records(&c).len() >= 7);
    (spans, log_records(&c))
}

/// The string value of attribute `key`, if it is a string.
fn string_attr(attrs: &[opentelemetry_proto::tonic::common::v1::KeyValue], key: &str) -> Option<String> {
    use opentelemetry_proto::tonic::common::v1::any_value::Value;
    attrs.iter().find(|kv| kv.key == key).and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
        Value::StringValue(s) => Some(s.clone()),
        _ => None,
    })
}

// ---------------------------------------------------------------------------------------------
// Attribute counts

#[test]
fn span_attribute_count_limit_caps_span_attributes() {
    let spans = hello(&[("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "2")]);
    let load = span(&spans, "load-config");
    assert_eq!(load.span.attributes.len(), 2, "{:?}", typed_attrs(&load.span.attributes));
    assert_eq!(load.span.dropped_attributes_count, 6, "8 given, 2 kept");
    // Spans within the limit are whole.
    assert_eq!(span(&spans, "hello").span.attributes.len(), 2);
    assert_eq!(span(&spans, "hello").span.dropped_attributes_count, 0);
    // Event attributes have their own limit.
    assert_eq!(load.span.events[0].attributes.len(), 2);
}

#[test]
fn general_attribute_count_limit_applies_to_spans_events_and_log_records() {
    let spans = hello(&[("OTEL_ATTRIBUTE_COUNT_LIMIT", "1")]);
    let load = span(&spans, "load-config");
    assert_eq!((load.span.attributes.len(), load.span.dropped_attributes_count), (1, 7));
    let event = &load.span.events[0];
    assert_eq!((event.attributes.len(), event.dropped_attributes_count), (1, 1), "config-loaded");
    let exception = &span(&spans, "compute").span.events[0];
    assert_eq!(exception.attributes.len(), 1, "exception: {:?}", typed_attrs(&exception.attributes));

    let (_, logs) = demo(&[("OTEL_ATTRIBUTE_COUNT_LIMIT", "1")]);
    assert!(logs.iter().all(|l| l.attributes.len() == 1), "{logs:?}");
}

#[test]
fn span_attribute_count_limit_wins_over_the_general_one() {
    let spans = hello(&[("OTEL_ATTRIBUTE_COUNT_LIMIT", "1"), ("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "3")]);
    let load = span(&spans, "load-config");
    assert_eq!(load.span.attributes.len(), 3);
    assert_eq!(load.span.events[0].attributes.len(), 1, "events fall back to the general limit");
}

#[test]
fn event_attribute_count_limit_caps_event_attributes_only() {
    let spans = hello(&[("OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT", "1")]);
    let load = span(&spans, "load-config");
    assert_eq!(load.span.attributes.len(), 8, "span attributes untouched");
    let event = &load.span.events[0];
    assert_eq!((event.attributes.len(), event.dropped_attributes_count), (1, 1));
    let exception = &span(&spans, "compute").span.events[0];
    assert_eq!(exception.attributes.len(), 1, "{:?}", typed_attrs(&exception.attributes));
    assert_eq!(exception.dropped_attributes_count, 2);
}

#[test]
fn span_event_count_limit_zero_drops_every_event() {
    let spans = hello(&[("OTEL_SPAN_EVENT_COUNT_LIMIT", "0")]);
    for name in ["load-config", "compute"] {
        let s = &span(&spans, name).span;
        assert!(s.events.is_empty(), "{name}: {:?}", s.events);
        assert_eq!(s.dropped_events_count, 1, "{name}");
    }
    assert_eq!(span(&spans, "load-config").span.attributes.len(), 8, "attributes untouched");
}

#[test]
fn logrecord_attribute_count_limit_caps_log_attributes_only() {
    let (spans, logs) = demo(&[("OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT", "1")]);
    assert_eq!(logs.len(), 7);
    for l in &logs {
        assert_eq!(l.attributes.len(), 1, "{:?}", typed_attrs(&l.attributes));
    }
    assert!(spans.iter().all(|s| s.span.attributes.len() == 4), "span attributes untouched");
}

#[test]
fn logrecord_attribute_count_limit_wins_over_the_general_one() {
    let (_, logs) =
        demo(&[("OTEL_ATTRIBUTE_COUNT_LIMIT", "1"), ("OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT", "2")]);
    let handled: Vec<_> = logs.iter().filter(|l| l.attributes.len() > 1).collect();
    assert_eq!(handled.len(), 6, "every record with 2+ attributes keeps 2");
    assert!(logs.iter().all(|l| l.attributes.len() <= 2));
}

// ---------------------------------------------------------------------------------------------
// Attribute value lengths

#[test]
fn general_value_length_limit_cuts_span_event_and_log_strings() {
    let spans = hello(&[("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "3")]);
    let load = span(&spans, "load-config");
    let attrs = typed_attrs(&load.span.attributes);
    assert!(attrs.contains(&"config.path=s:\"/et\"".to_owned()), "{attrs:?}");
    assert!(attrs.contains(&"config.sources=[s:\"def\", s:\"env\"]".to_owned()), "arrays too: {attrs:?}");
    assert!(attrs.contains(&"config.entries=i:3".to_owned()), "numbers untouched: {attrs:?}");
    assert_eq!(string_attr(&load.span.events[0].attributes, "config.source").as_deref(), Some("def"));
    assert_eq!(string_attr(&span(&spans, "hello").span.attributes, "app.name").as_deref(), Some("hel"));

    let (spans, logs) = demo(&[("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "3")]);
    assert!(spans.iter().all(|s| string_attr(&s.span.attributes, "http.route").as_deref() == Some("/ap")));
    let routes: Vec<_> = logs.iter().filter_map(|l| string_attr(&l.attributes, "http.route")).collect();
    assert_eq!(routes.len(), 5);
    assert!(routes.iter().all(|r| r == "/ap"), "{routes:?}");
}

#[test]
fn value_length_limit_cuts_exception_attributes() {
    let spans = hello(&[("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "3")]);
    let exception = &span(&spans, "compute").span.events[0];
    assert_eq!(string_attr(&exception.attributes, "exception.type").as_deref(), Some("Ari"));
    assert_eq!(string_attr(&exception.attributes, "exception.message").as_deref(), Some("div"));
}

#[test]
fn span_value_length_limit_cuts_span_strings_only() {
    let spans = hello(&[("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "3")]);
    let load = span(&spans, "load-config");
    assert_eq!(string_attr(&load.span.attributes, "config.path").as_deref(), Some("/et"));
    assert_eq!(string_attr(&load.span.events[0].attributes, "config.source").as_deref(), Some("def"));

    let (spans, logs) = demo(&[("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "3")]);
    assert!(spans.iter().all(|s| string_attr(&s.span.attributes, "http.route").as_deref() == Some("/ap")));
    let routes: Vec<_> = logs.iter().filter_map(|l| string_attr(&l.attributes, "http.route")).collect();
    assert!(routes.len() == 5 && routes.iter().all(|r| r == "/api/hello"), "logs untouched: {routes:?}");
}

#[test]
fn logrecord_value_length_limit_cuts_log_strings_only() {
    let (spans, logs) = demo(&[("OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT", "4")]);
    let routes: Vec<_> = logs.iter().filter_map(|l| string_attr(&l.attributes, "http.route")).collect();
    assert!(routes.len() == 5 && routes.iter().all(|r| r == "/api"), "{routes:?}");
    assert!(
        spans.iter().all(|s| string_attr(&s.span.attributes, "http.route").as_deref() == Some("/api/hello")),
        "spans untouched"
    );
}

#[test]
fn signal_value_length_limits_win_over_the_general_one() {
    let (spans, logs) = demo(&[
        ("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "2"),
        ("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "5"),
        ("OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT", "7"),
    ]);
    assert!(spans.iter().all(|s| string_attr(&s.span.attributes, "http.route").as_deref() == Some("/api/")));
    let routes: Vec<_> = logs.iter().filter_map(|l| string_attr(&l.attributes, "http.route")).collect();
    assert!(routes.len() == 5 && routes.iter().all(|r| r == "/api/he"), "{routes:?}");
}

// ---------------------------------------------------------------------------------------------
// Open spans

/// A guest that opens spans until one is refused, up to 10, and exits with the number it opened
/// (10 if none was refused); a refusal other than LIMIT_EXCEEDED exits 100. It then ends one span
/// and checks that another can start (exit 101 if not).
fn open_spans_guest() -> std::path::PathBuf {
    let wat = format!(
        r#"(module
  {imports}
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "open")
  (func (export "_start")
    (local $i i32) (local $h i64) (local $last i64)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (i32.const 10)))
        (local.set $h (call $span_start (i32.const 0) (i32.const 4) (i32.const 0) (i64.const 0) (i32.const 0) (i32.const 0)))
        (if (i64.lt_s (local.get $h) (i64.const 0))
          (then
            (if (i64.ne (local.get $h) (i64.const {limit})) (then (call $proc_exit (i32.const 100))))
            (br $done)))
        (local.set $last (local.get $h))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    ;; One open span fewer: starting one works again.
    (drop (call $span_end (local.get $last)))
    (if (i64.le_s (call $span_start (i32.const 0) (i32.const 4) (i32.const 0) (i64.const 0) (i32.const 0) (i32.const 0)) (i64.const 0))
      (then (call $proc_exit (i32.const 101))))
    (call $proc_exit (local.get $i))
  )
)"#,
        imports = wat_imports(),
        limit = Status::LIMIT_EXCEEDED.0
    );
    wat_guest("open_spans", &wat)
}

#[test]
fn max_open_spans_refuses_the_next_span_with_limit_exceeded() {
    let wasm = open_spans_guest();
    let c = collector();
    let out = Run::new(&wasm, &c.endpoint()).env("WASMEDGE_OTEL_MAX_OPEN_SPANS", "3").output();
    assert_exit(&out, 3);
    // The 3 spans opened (one ended, one started in its place, the others ended at exit) arrive.
    let spans = c.wait_for_spans(4, ARRIVAL_TIMEOUT).unwrap();
    assert_eq!(spans.len(), 4);

    // The default (4096) refuses none of the 10.
    let out = Run::new(&wasm, &collector().endpoint()).output();
    assert_exit(&out, 10);
}
