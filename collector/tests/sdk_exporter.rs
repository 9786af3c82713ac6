//! Interoperability with the real OpenTelemetry SDK: spans exported by `opentelemetry-otlp`'s
//! tonic exporter (gzip-compressed, with a custom metadata header) arrive intact.

use std::time::Duration;

use opentelemetry::trace::{
    Span as _, SpanKind, Status, TraceContextExt as _, Tracer as _, TracerProvider as _,
};
use opentelemetry::KeyValue;
use opentelemetry_otlp::{WithExportConfig as _, WithTonicConfig as _};
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use wasmedge_otel_collector::{render_tree, Collector};

#[test]
fn sdk_exporter_spans_arrive_with_headers() {
    let collector = Collector::start("127.0.0.1:0").expect("collector starts");
    let endpoint = collector.endpoint();

    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    runtime.block_on(async move {
        let mut metadata = tonic::metadata::MetadataMap::new();
        metadata.insert("x-tenant", "acme".parse().unwrap());
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint)
            .with_compression(opentelemetry_otlp::Compression::Gzip)
            .with_metadata(metadata)
            .with_timeout(Duration::from_secs(10))
            .build()
            .expect("exporter builds");
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(Resource::builder_empty().with_service_name("sdk-test").build())
            .build();
        let tracer = provider.tracer("sdk-scope");
        tracer.in_span("parent", |cx| {
            let mut child = tracer
                .span_builder("child")
                .with_kind(SpanKind::Client)
                .with_attributes([KeyValue::new("n", 7), KeyValue::new("ok", false)])
                .start_with_context(&tracer, &cx);
            child.add_event("tick", vec![KeyValue::new("i", 1)]);
            child.set_status(Status::error("nope"));
            child.end();
            cx.span().set_attribute(KeyValue::new("root", true));
        });
        provider.shutdown().expect("provider flushes and shuts down");
    });

    let spans = collector.wait_for_spans(2, Duration::from_secs(10)).expect("both spans arrive");
    let child = spans.iter().find(|s| s.span.name == "child").expect("child span");
    let parent = spans.iter().find(|s| s.span.name == "parent").expect("parent span");
    assert_eq!(child.parent_span_id_hex(), parent.span_id_hex());
    assert_eq!(child.trace_id_hex(), parent.trace_id_hex());
    assert_eq!(child.scope_name, "sdk-scope");
    assert_eq!(
        child.attr("n").and_then(|v| v.value.clone()),
        Some(wasmedge_otel_collector::opentelemetry_proto::tonic::common::v1::any_value::Value::IntValue(7))
    );
    assert_eq!(collector.trace_requests()[0].header("x-tenant"), Some("acme"));

    let tree = render_tree(&spans);
    assert!(tree.contains("service.name=sdk-test"), "{tree}");
    assert!(tree.contains("└─ parent  internal  "), "{tree}");
    assert!(tree.contains("   └─ child  client  "), "{tree}");
    assert!(tree.contains("status=ERROR \"nope\"  {n=7, ok=false}"), "{tree}");
    assert!(tree.contains("      • event tick  +"), "{tree}");
}
