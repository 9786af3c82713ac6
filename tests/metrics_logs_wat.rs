//! Metrics and logs from a hand-written guest that leaves by `proc_exit` right after recording:
//! every measurement and record still arrives (final collection at exit), bad measurements get
//! their status, and the runtime metrics come with no guest code.

use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use wasmedge_otel_abi::Status;
use wasmedge_otel_tests::*;

fn checks() -> Vec<WatCheck> {
    let st = |s: Status| s.0 as i64;
    let ext = |s: &'static str| s;
    vec![
        ("negative on an int counter", ext("(i64.extend_i32_s (call $metric_record_i64 (global.get $counter) (i64.const -1) (i32.const 0) (i32.const 0)))"), st(Status::INVALID_ARGUMENT)),
        ("float on an int counter", "(i64.extend_i32_s (call $metric_record_f64 (global.get $counter) (f64.const 1) (i32.const 0) (i32.const 0)))", st(Status::INVALID_ARGUMENT)),
        ("NaN on a histogram", "(i64.extend_i32_s (call $metric_record_f64 (global.get $hist) (f64.const nan) (i32.const 0) (i32.const 0)))", st(Status::INVALID_ARGUMENT)),
        ("infinity on a histogram", "(i64.extend_i32_s (call $metric_record_f64 (global.get $hist) (f64.const inf) (i32.const 0) (i32.const 0)))", st(Status::INVALID_ARGUMENT)),
        ("forged instrument", "(i64.extend_i32_s (call $metric_record_i64 (i64.const 99999) (i64.const 1) (i32.const 0) (i32.const 0)))", st(Status::INVALID_HANDLE)),
        ("span handle as instrument", "(i64.extend_i32_s (call $metric_record_i64 (global.get $span) (i64.const 1) (i32.const 0) (i32.const 0)))", st(Status::INVALID_HANDLE)),
        ("instrument handle as bound", "(i64.extend_i32_s (call $metric_bound_record_i64 (global.get $counter) (i64.const 1)))", st(Status::INVALID_HANDLE)),
        ("unknown instrument kind", "(call $instrument_create (i32.const 9) (i32.const 0) (i32.const 0) (i32.const 5) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))", st(Status::INVALID_ARGUMENT)),
        ("decreasing boundaries", "(call $instrument_create (i32.const 2) (i32.const 1) (i32.const 0) (i32.const 5) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 232) (i32.const 16))", st(Status::INVALID_ARGUMENT)),
        ("severity 25", "(i64.extend_i32_s (call $log_emit (i32.const 25) (i32.const 64) (i32.const 6) (i32.const 0) (i32.const 0)))", st(Status::INVALID_ARGUMENT)),
        ("log body out of bounds", "(i64.extend_i32_s (call $log_emit (i32.const 9) (i32.const 65530) (i32.const 64) (i32.const 0) (i32.const 0)))", st(Status::OUT_OF_BOUNDS)),
        ("same counter again is the same handle", "(i64.sub (call $instrument_create (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 11) (i32.const 32) (i32.const 6) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)) (global.get $counter))", 0),
    ]
}

fn guest() -> std::path::PathBuf {
    let body = wat_checks(&checks());
    let wat = format!(
        r#"(module
  {imports}
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (global $counter (mut i64) (i64.const 0))
  (global $hist (mut i64) (i64.const 0))
  (global $bound (mut i64) (i64.const 0))
  (global $span (mut i64) (i64.const 0))
  (data (i32.const 0) "wat.counter")
  (data (i32.const 16) "wat.latency")
  (data (i32.const 32) "{{item}}")
  (data (i32.const 40) "ms")
  (data (i32.const 48) "span-1")
  (data (i32.const 64) "inside")
  (data (i32.const 80) "outside")
  ;; "k" = "v"
  (data (i32.const 100) "\01\00\00\00k\01\01\00\00\00v")
  ;; "cache" = "main"
  (data (i32.const 120) "\05\00\00\00cache\01\04\00\00\00main")
  ;; boundaries [1.0, 10.0]
  (data (i32.const 200) "\00\00\00\00\00\00\f0\3f\00\00\00\00\00\00\24\40")
  ;; boundaries [10.0, 1.0]
  (data (i32.const 232) "\00\00\00\00\00\00\24\40\00\00\00\00\00\00\f0\3f")
  (func (export "_start")
    (global.set $counter (call $instrument_create (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 11) (i32.const 32) (i32.const 6) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)))
    (global.set $hist (call $instrument_create (i32.const 2) (i32.const 1) (i32.const 16) (i32.const 11) (i32.const 40) (i32.const 2) (i32.const 0) (i32.const 0) (i32.const 200) (i32.const 16)))
    (if (i64.le_s (global.get $counter) (i64.const 0)) (then (call $proc_exit (i32.const 100))))
    (if (i64.le_s (global.get $hist) (i64.const 0)) (then (call $proc_exit (i32.const 101))))
    (drop (call $metric_record_i64 (global.get $counter) (i64.const 3) (i32.const 100) (i32.const 11)))
    (drop (call $metric_record_i64 (global.get $counter) (i64.const 4) (i32.const 100) (i32.const 11)))
    (global.set $bound (call $metric_bind (global.get $counter) (i32.const 120) (i32.const 18)))
    (drop (call $metric_bound_record_i64 (global.get $bound) (i64.const 10)))
    (drop (call $metric_bound_record_i64 (global.get $bound) (i64.const 10)))
    (drop (call $metric_record_f64 (global.get $hist) (f64.const 0.5) (i32.const 0) (i32.const 0)))
    (drop (call $metric_record_f64 (global.get $hist) (f64.const 5) (i32.const 0) (i32.const 0)))
    (drop (call $metric_record_f64 (global.get $hist) (f64.const 50) (i32.const 0) (i32.const 0)))
    (drop (call $log_emit (i32.const 13) (i32.const 80) (i32.const 7) (i32.const 0) (i32.const 0)))
    (global.set $span (call $span_start (i32.const 48) (i32.const 6) (i32.const 0) (i64.const 0) (i32.const 0) (i32.const 0)))
    (drop (call $log_emit (i32.const 9) (i32.const 64) (i32.const 6) (i32.const 100) (i32.const 11)))
    {body}
    (drop (call $span_end (global.get $span)))
    ;; Leave at once: what was recorded must still be exported.
    (call $proc_exit (i32.const 7))
  )
)"#,
        imports = wat_imports()
    );
    wat_guest("metrics_logs", &wat)
}

fn int_attr(attrs: &[opentelemetry_proto::tonic::common::v1::KeyValue], key: &str) -> Option<String> {
    attrs.iter().find(|kv| kv.key == key).and_then(|kv| kv.value.as_ref()).map(typed)
}

#[test]
fn metrics_and_logs_recorded_before_proc_exit_arrive() {
    let wasm = guest();
    for mode in MODES {
        let c = collector();
        let out = Run::new(&for_mode(&wasm, mode), &c.endpoint()).output();
        let code = out.status.code().unwrap_or(-1);
        if code != 7 {
            let failed = failed_check(&checks(), code);
            panic!("{mode:?}: exit {code}: {failed}; stderr: {}", String::from_utf8_lossy(&out.stderr));
        }
        wait_for_metrics_and_logs(&c);

        // Counter: 3 + 4 with k=v, and 10 + 10 through the bound instrument with cache=main.
        let counter = last_metric(&c, "wat.counter").expect("counter arrives");
        assert_eq!(counter.unit, "{item}");
        let Some(Data::Sum(sum)) = counter.data else { panic!("counter is a sum: {counter:?}") };
        assert!(sum.is_monotonic);
        assert_eq!(sum.aggregation_temporality, 2, "cumulative by default");
        let mut points: Vec<_> =
            sum.data_points.iter().map(|p| (typed_attrs(&p.attributes), p.value)).collect();
        points.sort_by(|a, b| a.0.cmp(&b.0));
        use opentelemetry_proto::tonic::metrics::v1::number_data_point::Value as N;
        assert_eq!(
            points,
            [
                (vec!["cache=s:\"main\"".to_string()], Some(N::AsInt(20))),
                (vec!["k=s:\"v\"".to_string()], Some(N::AsInt(7)))
            ]
        );

        // Histogram with explicit boundaries [1, 10]: 0.5 | 5 | 50.
        let hist = last_metric(&c, "wat.latency").expect("histogram arrives");
        assert_eq!(hist.unit, "ms");
        let Some(Data::Histogram(h)) = hist.data else { panic!("histogram: {hist:?}") };
        let p = &h.data_points[0];
        assert_eq!(p.explicit_bounds, [1.0, 10.0]);
        assert_eq!(p.bucket_counts, [1, 1, 1]);
        assert_eq!(p.count, 3);
        assert_eq!(p.sum, Some(55.5));

        // Logs: WARN outside any span, INFO inside span-1 with its ids.
        let logs = log_records(&c);
        assert_eq!(logs.len(), 2, "{mode:?}: {logs:?}");
        let body = |l: &opentelemetry_proto::tonic::logs::v1::LogRecord| match l
            .body
            .as_ref()
            .and_then(|b| b.value.clone())
        {
            Some(Value::StringValue(s)) => s,
            other => panic!("string body: {other:?}"),
        };
        let outside = logs.iter().find(|l| body(l) == "outside").unwrap();
        let inside = logs.iter().find(|l| body(l) == "inside").unwrap();
        assert_eq!((outside.severity_number, outside.severity_text.as_str()), (13, "WARN"));
        assert!(outside.trace_id.is_empty() && outside.span_id.is_empty());
        assert_eq!((inside.severity_number, inside.severity_text.as_str()), (9, "INFO"));
        assert_eq!(int_attr(&inside.attributes, "k").as_deref(), Some("s:\"v\""));
        let spans = c.wait_for_spans(1, ARRIVAL_TIMEOUT).unwrap();
        let span1 = span(&spans, "span-1");
        assert_eq!(hex(&inside.trace_id), span1.trace_id_hex());
        assert_eq!(hex(&inside.span_id), span1.span_id_hex());

        // Runtime metrics, with no guest code.
        let memory = last_metric(&c, "wasm.memory.usage").expect("memory gauge");
        assert_eq!(memory.unit, "By");
        let Some(Data::Gauge(g)) = memory.data else { panic!("gauge") };
        assert_eq!(g.data_points[0].value, Some(N::AsInt(65536)), "one page of linear memory");
        let calls = last_metric(&c, "wasmedge_otel.host.calls").expect("host call counter");
        let Some(Data::Sum(calls)) = calls.data else { panic!("sum") };
        let Some(N::AsInt(n)) = calls.data_points[0].value else { panic!("int") };
        let expected_calls = 2 + 2 + 1 + 2 + 3 + 2 + 1 + checks().len() as i64 + 1;
        assert_eq!(n, expected_calls, "{mode:?}: every host call is counted");
        let exported = last_metric(&c, "otel.sdk.exporter.span.exported").expect("export health");
        let Some(Data::Sum(exported)) = exported.data else { panic!("sum") };
        assert_eq!(
            exported.data_points[0].value,
            Some(N::AsInt(1)),
            "the one span was exported before metrics"
        );
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
