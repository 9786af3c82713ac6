//! The `hello` example under the real `wasmedge` CLI, interpreted and AOT-compiled: the exact span
//! tree it documents arrives at the OTLP collector, with the run's resource.

use wasmedge_otel_tests::*;

// OTLP span kinds and status codes.
const INTERNAL: i32 = 1;
const SERVER: i32 = 2;
const CLIENT: i32 = 3;
const STATUS_UNSET: i32 = 0;
const STATUS_OK: i32 = 1;
const STATUS_ERROR: i32 = 2;

fn status(s: &ReceivedSpan) -> (i32, String) {
    s.span.status.as_ref().map_or((STATUS_UNSET, String::new()), |st| (st.code, st.message.clone()))
}

fn check_tree(spans: &[ReceivedSpan]) {
    assert_eq!(names(spans), ["compute", "hello", "load-config", "respond", "sum"]);
    let trace_id = spans[0].trace_id_hex();
    assert!(spans.iter().all(|s| s.trace_id_hex() == trace_id), "one trace");
    let [hello, load, compute, sum, respond] =
        ["hello", "load-config", "compute", "sum", "respond"].map(|n| span(spans, n));

    // Structure.
    assert_eq!(hello.parent_span_id_hex(), "", "hello is the root");
    for child in [load, compute, respond] {
        assert_eq!(child.parent_span_id_hex(), hello.span_id_hex(), "{} under hello", child.span.name);
    }
    assert_eq!(sum.parent_span_id_hex(), compute.span_id_hex());
    assert_eq!(
        [hello, load, compute, sum, respond].map(|s| s.span.kind),
        [SERVER, INTERNAL, INTERNAL, INTERNAL, CLIENT]
    );

    // Typed attributes.
    assert_eq!(typed_attrs(&hello.span.attributes), ["app.name=s:\"hello\"", "app.version=i:1"]);
    assert_eq!(
        typed_attrs(&load.span.attributes),
        [
            "config.cached=b:false",
            "config.entries=i:3",
            "config.flags=[b:true, b:false]",
            "config.path=s:\"/etc/hello.toml\"",
            "config.ports=[i:8080, i:8443]",
            "config.ratio=f:0.75",
            "config.sources=[s:\"defaults\", s:\"env\"]",
            "config.weights=[f:0.5, f:1.5]",
        ]
    );
    assert_eq!(typed_attrs(&compute.span.attributes), ["compute.n=i:10", "compute.sum=i:55"]);
    assert_eq!(typed_attrs(&sum.span.attributes), ["sum.terms=i:10"]);
    assert_eq!(typed_attrs(&respond.span.attributes), ["respond.bytes=i:28"]);

    // Events.
    assert_eq!(load.span.events.len(), 1);
    assert_eq!(load.span.events[0].name, "config-loaded");
    assert_eq!(
        typed_attrs(&load.span.events[0].attributes),
        ["config.entries=i:3", "config.source=s:\"defaults\""]
    );
    assert_eq!(compute.span.events.len(), 1);
    assert_eq!(compute.span.events[0].name, "exception");
    assert_eq!(
        typed_attrs(&compute.span.events[0].attributes),
        [
            "compute.divisor=i:0",
            "exception.message=s:\"division by zero\"",
            "exception.type=s:\"ArithmeticError\""
        ]
    );

    // Status.
    assert_eq!(status(compute), (STATUS_ERROR, "division by zero".into()));
    assert_eq!(status(respond).0, STATUS_OK);
    for s in [hello, load, sum] {
        assert_eq!(status(s).0, STATUS_UNSET, "{}", s.span.name);
    }

    // Timing: children lie within their parents.
    for (child, parent) in [(load, hello), (compute, hello), (sum, compute), (respond, hello)] {
        assert!(child.span.start_time_unix_nano >= parent.span.start_time_unix_nano);
        assert!(
            child.span.end_time_unix_nano <= parent.span.end_time_unix_nano,
            "{} ends in its parent",
            child.span.name
        );
    }
    assert!(spans.iter().all(|s| s.scope_name == "wasmedge_otel"));
}

fn resource(s: &ReceivedSpan, key: &str) -> Option<String> {
    s.resource_attr(key).map(typed)
}

#[test]
fn hello_tree_arrives_interpreted_and_aot() {
    let wasm = example("hello");
    for mode in MODES {
        let c = collector();
        let out = Run::new(&for_mode(&wasm, mode), &c.endpoint()).output();
        assert_exit(&out, 0);
        assert_eq!(String::from_utf8_lossy(&out.stdout), "hello from wasm; computed 55\n", "{mode:?}");
        let spans = c.wait_for_spans(5, ARRIVAL_TIMEOUT).unwrap_or_else(|e| panic!("{mode:?}: {e}"));
        assert_eq!(c.spans().len(), 5, "{mode:?}: nothing more than the tree");
        check_tree(&spans);

        let root = span(&spans, "hello");
        let stem = for_mode(&wasm, mode).file_stem().unwrap().to_string_lossy().into_owned();
        assert_eq!(
            resource(root, "service.name"),
            Some(format!("s:{stem:?}")),
            "{mode:?}: service.name is the file stem"
        );
        assert_eq!(resource(root, "wasm.module.name"), Some(format!("s:{stem:?}")));
        assert_eq!(resource(root, "process.runtime.name").as_deref(), Some("s:\"wasmedge\""));
        assert_eq!(resource(root, "process.runtime.version").as_deref(), Some("s:\"0.14.1\""));
        assert_eq!(resource(root, "telemetry.sdk.language").as_deref(), Some("s:\"rust\""));
        assert_eq!(resource(root, "telemetry.sdk.name").as_deref(), Some("s:\"opentelemetry\""));
    }
}

#[test]
fn service_name_and_resource_attributes_from_the_environment() {
    let c = collector();
    let out = Run::new(&example("hello"), &c.endpoint())
        .env("OTEL_SERVICE_NAME", "checkout")
        .env("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment.name=test,service.version=1.2.3")
        .output();
    assert_exit(&out, 0);
    let spans = c.wait_for_spans(5, ARRIVAL_TIMEOUT).unwrap();
    let root = span(&spans, "hello");
    assert_eq!(resource(root, "service.name").as_deref(), Some("s:\"checkout\""));
    assert_eq!(resource(root, "deployment.environment.name").as_deref(), Some("s:\"test\""));
    assert_eq!(resource(root, "service.version").as_deref(), Some("s:\"1.2.3\""));
}

#[test]
fn exporter_none_and_sdk_disabled_export_nothing_and_run_normally() {
    for (var, value) in [("OTEL_TRACES_EXPORTER", "none"), ("OTEL_SDK_DISABLED", "true")] {
        let c = collector();
        let out = Run::new(&example("hello"), &c.endpoint()).env(var, value).output();
        assert_exit(&out, 0);
        assert_eq!(String::from_utf8_lossy(&out.stdout), "hello from wasm; computed 55\n");
        // The run has ended and flushed; had anything been exported it would be here already.
        assert!(c.spans().is_empty(), "{var}={value}: nothing exported");
    }
}

#[test]
fn plugin_is_listed_by_wasmedge() {
    let out = std::process::Command::new("wasmedge")
        .arg("--version")
        .env("WASMEDGE_PLUGIN_PATH", plugin_dir())
        .output()
        .expect("run wasmedge --version");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("(plugin \"wasmedge_otel\")"), "{text}");
}

#[test]
fn readme_minimal_guest_runs() {
    let c = collector();
    let out = Run::new(&example("hello-world"), &c.endpoint()).output();
    assert_exit(&out, 0);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hello, world\n");
    let spans = c.wait_for_spans(1, ARRIVAL_TIMEOUT).unwrap();
    let main = span(&spans, "main");
    assert_eq!(typed_attrs(&main.span.attributes), ["greeting=s:\"hello\""]);
    assert_eq!(resource(main, "service.name").as_deref(), Some("s:\"hello-world\""));
}

#[test]
fn traceparent_in_the_environment_parents_the_run() {
    let c = collector();
    let out = Run::new(&example("hello"), &c.endpoint())
        .env("TRACEPARENT", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        .output();
    assert_exit(&out, 0);
    let spans = c.wait_for_spans(5, ARRIVAL_TIMEOUT).unwrap();
    assert!(
        spans.iter().all(|s| s.trace_id_hex() == "4bf92f3577b34da6a3ce929d0e0e4736"),
        "one trace, the caller's"
    );
    let root = span(&spans, "hello");
    assert_eq!(root.parent_span_id_hex(), "00f067aa0ba902b7");
    assert_ne!(root.span.flags & 0x200, 0, "the parent is flagged remote");
    check_tree_below_root(&spans);
}

#[test]
fn invalid_traceparent_is_reported_and_starts_a_new_trace() {
    let c = collector();
    let out = Run::new(&example("hello"), &c.endpoint())
        .env("TRACEPARENT", "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01")
        .output();
    let stderr = assert_exit(&out, 0);
    assert!(stderr.contains("ignoring TRACEPARENT="), "one clear warning: {stderr}");
    let spans = c.wait_for_spans(5, ARRIVAL_TIMEOUT).unwrap();
    assert_eq!(span(&spans, "hello").parent_span_id_hex(), "", "a new root");
}

/// The parent/child structure under `hello`, whatever `hello`'s own parent is.
fn check_tree_below_root(spans: &[ReceivedSpan]) {
    let hello = span(spans, "hello");
    for name in ["load-config", "compute", "respond"] {
        assert_eq!(span(spans, name).parent_span_id_hex(), hello.span_id_hex());
    }
    assert_eq!(span(spans, "sum").parent_span_id_hex(), span(spans, "compute").span_id_hex());
}
