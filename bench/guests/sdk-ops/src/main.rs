//! Baseline (c): the same spans as `ops span`, with opentelemetry_sdk compiled into the guest.
//!
//! The SDK's batch processor cannot start in wasm32-wasip1 (it needs a thread), so this uses the
//! simple processor, the only one that works here: each span is exported as it ends, on the guest's
//! own thread.
//!
//! `sdk-ops.wasm OP N WARMUP`, OP one of
//! - `span`: no-op exporter (the SDK's own cost: ids, attributes, SpanData, the processor);
//! - `span-otlp`: an exporter that encodes each span as an OTLP/protobuf ExportTraceServiceRequest
//!   (opentelemetry-proto + prost), what an in-guest SDK must do before sending (it has no socket
//!   to send it on in wasip1, so the bytes are only checksummed).
//!
//! Prints `RESULT op=OP n=N ns_per_op=X`.
use opentelemetry::trace::{Span as _, Tracer as _, TracerProvider as _};
use opentelemetry::KeyValue;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use opentelemetry_sdk::Resource;
use prost::Message as _;
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

#[derive(Debug)]
struct NoopExporter;

impl SpanExporter for NoopExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        black_box(batch);
        Ok(())
    }
}

/// Encodes every batch as OTLP protobuf, as an OTLP exporter would before sending it.
#[derive(Debug)]
struct OtlpEncodingExporter {
    resource: ResourceAttributesWithSchema,
    checksum: AtomicU64,
}

impl SpanExporter for OtlpEncodingExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let request = ExportTraceServiceRequest {
            resource_spans: group_spans_by_resource_and_scope(batch, &self.resource),
        };
        let bytes = request.encode_to_vec();
        self.checksum.fetch_add(bytes.len() as u64 + u64::from(bytes[bytes.len() / 2]), Ordering::Relaxed);
        Ok(())
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.resource = resource.into();
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        eprintln!("usage: sdk-ops.wasm span|span-otlp N WARMUP");
        std::process::exit(2);
    }
    let op = args[1].as_str();
    let n: u64 = args[2].parse().expect("N");
    let warmup: u64 = args[3].parse().expect("WARMUP");
    let resource = Resource::builder().with_service_name("sdk-ops").build();
    let provider = match op {
        "span" => {
            SdkTracerProvider::builder().with_resource(resource).with_simple_exporter(NoopExporter).build()
        }
        "span-otlp" => SdkTracerProvider::builder()
            .with_resource(resource)
            .with_simple_exporter(OtlpEncodingExporter {
                resource: ResourceAttributesWithSchema::default(),
                checksum: AtomicU64::new(0),
            })
            .build(),
        other => {
            eprintln!("unknown op {other}");
            std::process::exit(2);
        }
    };
    let tracer = provider.tracer("bench");
    let run = |count: u64| -> f64 {
        let start = Instant::now();
        for i in 0..count {
            let mut span = tracer
                .span_builder("op")
                .with_attributes([
                    KeyValue::new("http.route", "/api/items"),
                    KeyValue::new("item.id", black_box(i) as i64),
                ])
                .start(&tracer);
            span.end();
        }
        start.elapsed().as_nanos() as f64
    };
    run(warmup);
    let ns = run(n);
    println!("RESULT op={op} n={n} ns_per_op={:.2}", ns / n.max(1) as f64);
    let _ = provider.shutdown();
}
