//! The resource (`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`), `OTEL_LOG_LEVEL`, where the
//! variables are read from, and what happens to bad values, end to end.
//!
//! A bad value never stops the program: the plugin prints exactly one line naming the variable
//! (`wasmedge_otel: ignoring OTEL_X="value": why; using what`), ignores the value, and telemetry
//! arrives as with the default.

use opentelemetry_proto::tonic::common::v1::KeyValue;
use wasmedge_otel_tests::*;

fn attr(attrs: &[KeyValue], key: &str) -> Option<String> {
    attrs.iter().find(|kv| kv.key == key).and_then(|kv| kv.value.as_ref()).map(typed)
}

/// The resource attributes of the first metrics and logs requests, and of the first span.
fn resources(c: &Collector) -> Vec<(&'static str, Vec<KeyValue>)> {
    let metrics = c.metric_requests()[0].request.resource_metrics[0].resource.clone().unwrap_or_default();
    let logs = c.log_requests()[0].request.resource_logs[0].resource.clone().unwrap_or_default();
    vec![("spans", c.spans()[0].resource.clone()), ("metrics", metrics.attributes), ("logs", logs.attributes)]
}

fn run_demo(vars: &[(&str, &str)]) -> (Collector, String) {
    let c = collector();
    let mut run = Run::new(&example("metrics-demo"), &c.endpoint());
    for (k, v) in vars {
        run = run.env(k, v);
    }
    let stderr = assert_exit(&run.output(), 0);
    c.wait_for_spans(5, ARRIVAL_TIMEOUT).unwrap();
    wait_until("metrics and logs", ARRIVAL_TIMEOUT, || {
        !c.metric_requests().is_empty() && log_records(&c).len() >= 7
    });
    (c, stderr)
}

// ---------------------------------------------------------------------------------------------
// Resource

#[test]
fn resource_attributes_are_percent_decoded_on_every_signal() {
    let (c, stderr) = run_demo(&[(
        "OTEL_RESOURCE_ATTRIBUTES",
        "deployment.environment.name=stag%20ing, team=a%2Cb ,k%3D1=v%3D2,plus=1+1,pct=100%25",
    )]);
    assert_eq!(stderr, "");
    for (signal, resource) in resources(&c) {
        assert_eq!(
            attr(&resource, "deployment.environment.name").as_deref(),
            Some("s:\"stag ing\""),
            "{signal}"
        );
        assert_eq!(attr(&resource, "team").as_deref(), Some("s:\"a,b\""), "{signal}: trimmed, %2C decoded");
        assert_eq!(attr(&resource, "k=1").as_deref(), Some("s:\"v=2\""), "{signal}: keys decoded too");
        assert_eq!(attr(&resource, "plus").as_deref(), Some("s:\"1+1\""), "{signal}: + stays a plus");
        assert_eq!(attr(&resource, "pct").as_deref(), Some("s:\"100%\""), "{signal}");
        assert_eq!(attr(&resource, "service.name").as_deref(), Some("s:\"metrics-demo\""), "{signal}");
    }
}

#[test]
fn service_name_comes_from_resource_attributes_unless_otel_service_name_is_set() {
    let (c, _) = run_demo(&[("OTEL_RESOURCE_ATTRIBUTES", "service.name=from%20attributes,x=1")]);
    for (signal, resource) in resources(&c) {
        assert_eq!(attr(&resource, "service.name").as_deref(), Some("s:\"from attributes\""), "{signal}");
    }
    let (c, _) = run_demo(&[
        ("OTEL_RESOURCE_ATTRIBUTES", "service.name=from%20attributes,x=1"),
        ("OTEL_SERVICE_NAME", "checkout"),
    ]);
    for (signal, resource) in resources(&c) {
        assert_eq!(attr(&resource, "service.name").as_deref(), Some("s:\"checkout\""), "{signal}");
        assert_eq!(attr(&resource, "x").as_deref(), Some("s:\"1\""), "{signal}");
    }
}

#[test]
fn malformed_resource_attributes_are_discarded_whole_with_one_warning() {
    let (c, stderr) = run_demo(&[("OTEL_RESOURCE_ATTRIBUTES", "good=1,bad%zz=2")]);
    let warnings: Vec<_> = stderr.lines().filter(|l| l.starts_with("wasmedge_otel: ignoring")).collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(warnings[0].starts_with("wasmedge_otel: ignoring OTEL_RESOURCE_ATTRIBUTES=\""), "{stderr}");
    for (signal, resource) in resources(&c) {
        assert_eq!(attr(&resource, "good"), None, "{signal}: the whole value is discarded");
        assert_eq!(attr(&resource, "service.name").as_deref(), Some("s:\"metrics-demo\""), "{signal}");
    }
}

// ---------------------------------------------------------------------------------------------
// Where variables are read

#[test]
fn variables_given_to_the_guest_do_not_configure_the_plugin() {
    // `--env` sets the guest's WASI environment; the plugin reads only the wasmedge process's.
    let c = collector();
    let out = Run::new(&example("hello"), &c.endpoint())
        .option("--env")
        .option("OTEL_SDK_DISABLED=true")
        .option("--env")
        .option("OTEL_SERVICE_NAME=from-guest-env")
        .output();
    assert_exit(&out, 0);
    let spans = c.wait_for_spans(5, ARRIVAL_TIMEOUT).unwrap();
    assert_eq!(attr(&spans[0].resource, "service.name").as_deref(), Some("s:\"hello\""));
}

// ---------------------------------------------------------------------------------------------
// OTEL_LOG_LEVEL

fn refused_call_guest() -> std::path::PathBuf {
    let wat = format!(
        r#"(module
  {imports}
  (memory (export "memory") 1)
  (data (i32.const 0) "ok")
  (func (export "_start")
    (drop (call $span_end (call $span_start (i32.const 0) (i32.const 2) (i32.const 0) (i64.const 0) (i32.const 0) (i32.const 0))))
    ;; Refused: handle 0.
    (drop (call $span_end (i64.const 0)))
  )
)"#,
        imports = wat_imports()
    );
    wat_guest("refused_call", &wat)
}

#[test]
fn log_level_debug_reports_refused_calls() {
    let wasm = refused_call_guest();
    let c = collector();
    let stderr = assert_exit(&Run::new(&wasm, &c.endpoint()).env("OTEL_LOG_LEVEL", "DEBUG").output(), 0);
    let refused: Vec<_> =
        stderr.lines().filter(|l| l.starts_with("wasmedge_otel: span_end refused")).collect();
    assert_eq!(refused.len(), 1, "{stderr}");

    for level in [None, Some("info"), Some("warn"), Some("error")] {
        let mut run = Run::new(&wasm, &c.endpoint());
        if let Some(level) = level {
            run = run.env("OTEL_LOG_LEVEL", level);
        }
        let stderr = assert_exit(&run.output(), 0);
        assert!(!stderr.contains("refused"), "{level:?}: {stderr}");
    }
    assert_eq!(c.wait_for_spans(5, ARRIVAL_TIMEOUT).unwrap().len(), 5, "the valid spans arrive");
}

// ---------------------------------------------------------------------------------------------
// Bad values

/// Runs `metrics-demo` with `vars`, checks that stderr has exactly one warning, naming `var`, and
/// that all of the guest's telemetry arrives; returns the collector and the warning.
fn one_warning(var: &str, vars: &[(&str, &str)]) -> (Collector, String) {
    let c = collector();
    let mut run = Run::new(&example("metrics-demo"), &c.endpoint());
    for (k, v) in vars {
        run = run.env(k, v);
    }
    let out = run.output();
    let stderr = assert_exit(&out, 0);
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 5, "{var}: guest output unchanged");
    let lines: Vec<_> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{var}: exactly one line on stderr: {stderr}");
    let prefix = format!("wasmedge_otel: ignoring {var}=\"");
    assert!(lines[0].starts_with(&prefix), "{var}: {stderr}");
    assert!(lines[0].contains("; using "), "{var}: says what is used instead: {stderr}");
    c.wait_for_spans(5, ARRIVAL_TIMEOUT).unwrap_or_else(|e| panic!("{var}: spans still arrive: {e}"));
    wait_until("metrics and logs", ARRIVAL_TIMEOUT, || {
        last_metric(&c, "http.server.requests").is_some() && log_records(&c).len() >= 7
    });
    (c, lines[0].to_owned())
}

#[test]
fn bad_protocol_warns_and_uses_grpc() {
    let (c, line) =
        one_warning("OTEL_EXPORTER_OTLP_PROTOCOL", &[("OTEL_EXPORTER_OTLP_PROTOCOL", "carrier-pigeon")]);
    assert!(line.ends_with("using grpc"), "{line}");
    assert!(c.trace_requests().iter().all(|r| r.transport == wasmedge_otel_collector::Transport::Grpc));
}

#[test]
fn http_json_protocol_is_unsupported_and_falls_back() {
    let (_, line) = one_warning(
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        &[("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/json")],
    );
    assert!(line.contains("not supported"), "{line}");
}

#[test]
fn bad_sampler_arg_warns_and_uses_one() {
    let (c, line) = one_warning(
        "OTEL_TRACES_SAMPLER_ARG",
        &[("OTEL_TRACES_SAMPLER", "traceidratio"), ("OTEL_TRACES_SAMPLER_ARG", "2")],
    );
    assert!(line.ends_with("using 1.0"), "{line}");
    assert_eq!(c.spans().len(), 5, "ratio 1.0 keeps every span");
}

#[test]
fn unsupported_sampler_warns_and_uses_the_default() {
    one_warning("OTEL_TRACES_SAMPLER", &[("OTEL_TRACES_SAMPLER", "jaeger_remote")]);
}

#[test]
fn negative_queue_size_warns_and_uses_the_default() {
    let (_, line) = one_warning("OTEL_BSP_MAX_QUEUE_SIZE", &[("OTEL_BSP_MAX_QUEUE_SIZE", "-1")]);
    assert!(line.ends_with("using 2048"), "{line}");
}

#[test]
fn zero_schedule_delay_warns_and_uses_the_default() {
    let (_, line) = one_warning("OTEL_BSP_SCHEDULE_DELAY", &[("OTEL_BSP_SCHEDULE_DELAY", "0")]);
    assert!(line.ends_with("using 5000"), "{line}");
}

#[test]
fn non_boolean_sdk_disabled_warns_and_is_false() {
    let (_, line) = one_warning("OTEL_SDK_DISABLED", &[("OTEL_SDK_DISABLED", "maybe")]);
    assert!(line.ends_with("using false"), "{line}");
}

#[test]
fn unknown_exporter_warns_and_uses_otlp() {
    let (_, line) = one_warning("OTEL_TRACES_EXPORTER", &[("OTEL_TRACES_EXPORTER", "zipkin")]);
    assert!(line.ends_with("using otlp"), "{line}");
}

#[test]
fn bad_signal_endpoint_warns_and_uses_the_generic_one() {
    let (_, line) = one_warning(
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        &[("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "unix:///tmp/otlp.sock")],
    );
    assert!(line.contains("using http://127.0.0.1:"), "{line}");
}

#[test]
fn bad_compression_warns_and_sends_uncompressed() {
    let (c, _) =
        one_warning("OTEL_EXPORTER_OTLP_COMPRESSION", &[("OTEL_EXPORTER_OTLP_COMPRESSION", "brotli")]);
    assert!(c.trace_requests().iter().all(|r| r.header("grpc-encoding").is_none()));
}

#[test]
fn bad_count_limit_warns_and_uses_the_default() {
    one_warning("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", &[("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "lots")]);
}

#[test]
fn bad_temporality_warns_and_uses_cumulative() {
    let (c, _) = one_warning(
        "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
        &[("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "sometimes")],
    );
    let metric = last_metric(&c, "http.server.requests").unwrap();
    let Some(opentelemetry_proto::tonic::metrics::v1::metric::Data::Sum(sum)) = metric.data else { panic!() };
    assert_eq!(sum.aggregation_temporality, 2, "cumulative");
}

#[test]
fn bad_max_open_spans_warns_and_uses_the_default() {
    one_warning("WASMEDGE_OTEL_MAX_OPEN_SPANS", &[("WASMEDGE_OTEL_MAX_OPEN_SPANS", "0")]);
}

#[test]
fn bad_log_level_warns() {
    one_warning("OTEL_LOG_LEVEL", &[("OTEL_LOG_LEVEL", "loud")]);
}

#[test]
fn malformed_header_warns_without_leaking_values_and_keeps_the_good_ones() {
    let (c, line) = one_warning(
        "OTEL_EXPORTER_OTLP_HEADERS",
        &[("OTEL_EXPORTER_OTLP_HEADERS", "api-key=s3cret,Bearer t0ken")],
    );
    assert!(!line.contains("s3cret") && !line.contains("t0ken"), "{line}");
    assert!(c.trace_requests().iter().all(|r| r.header("api-key") == Some("s3cret")));
}

#[test]
fn a_warning_is_printed_once_even_for_a_variable_all_signals_use() {
    // The generic timeout feeds three exporters; one line.
    one_warning("OTEL_EXPORTER_OTLP_TIMEOUT", &[("OTEL_EXPORTER_OTLP_TIMEOUT", "10s")]);
}

#[test]
fn empty_and_blank_values_are_unset() {
    let c = collector();
    let out = Run::new(&example("hello"), &c.endpoint())
        .env("OTEL_TRACES_SAMPLER", "  ")
        .env("OTEL_SDK_DISABLED", "")
        .env("OTEL_BSP_MAX_QUEUE_SIZE", " ")
        .output();
    let stderr = assert_exit(&out, 0);
    assert_eq!(stderr, "", "no warning");
    assert_eq!(String::from_utf8_lossy(&out.stdout), HELLO_STDOUT);
    c.wait_for_spans(5, ARRIVAL_TIMEOUT).unwrap();
}

#[test]
fn handle_signals_false_leaves_the_default_action() {
    use std::os::unix::process::ExitStatusExt;
    // A guest that starts a span, then spins until killed.
    let wat = format!(
        r#"(module
  {imports}
  (memory (export "memory") 1)
  (data (i32.const 0) "spin")
  (func (export "_start")
    (drop (call $span_start (i32.const 0) (i32.const 4) (i32.const 0) (i64.const 0) (i32.const 0) (i32.const 0)))
    (loop $forever (br $forever))))"#,
        imports = wat_imports()
    );
    let c = collector();
    let child = std::process::Command::new("wasmedge")
        .arg(wat_guest("spin_no_signals", &wat))
        .env("WASMEDGE_PLUGIN_PATH", plugin_dir())
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", c.endpoint())
        .env("WASMEDGE_OTEL_HANDLE_SIGNALS", "false")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Bounded wait until the guest has made its first host call (the pipeline starts then).
    std::thread::sleep(std::time::Duration::from_millis(500));
    std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.signal(), Some(15));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("flushing before exit"), "the plugin did not handle the signal: {stderr}");
    assert!(c.spans().is_empty(), "nothing was flushed");
}
