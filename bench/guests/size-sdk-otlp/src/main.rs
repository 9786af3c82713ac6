//! `size-sdk` plus the OTLP encoder: the exporters turn spans, metrics and log records into OTLP
//! protobuf requests (opentelemetry-proto's conversions and prost), which is what an in-guest SDK
//! must do before it can send anything. (A wasm32-wasip1 guest has no socket for the transport, so
//! the bytes are only counted.) Compare with `size-sdk` and `examples/hello-world-plain`.
use opentelemetry::logs::{LogRecord as _, Logger as _, LoggerProvider as _, Severity};
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::{mark_span_as_active, Tracer as _, TracerProvider as _};
use opentelemetry::KeyValue;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_proto::transform::logs::tonic::group_logs_by_resource_and_scope;
use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{LogBatch, LogExporter, SdkLoggerProvider};
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::reader::MetricReader;
use opentelemetry_sdk::metrics::{InstrumentKind, ManualReader, Pipeline, SdkMeterProvider, Temporality};
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use opentelemetry_sdk::Resource;
use prost::Message as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

/// Bytes "sent": what the exporters encoded.
static ENCODED: AtomicUsize = AtomicUsize::new(0);

fn send(bytes: Vec<u8>) {
    ENCODED.fetch_add(bytes.len(), Ordering::Relaxed);
}

#[derive(Debug, Default)]
struct OtlpSpans(ResourceAttributesWithSchema);

impl SpanExporter for OtlpSpans {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let request =
            ExportTraceServiceRequest { resource_spans: group_spans_by_resource_and_scope(batch, &self.0) };
        send(request.encode_to_vec());
        Ok(())
    }
    fn set_resource(&mut self, resource: &Resource) {
        self.0 = resource.into();
    }
}

#[derive(Debug, Default)]
struct OtlpLogs(ResourceAttributesWithSchema);

impl LogExporter for OtlpLogs {
    async fn export(&self, batch: LogBatch<'_>) -> OTelSdkResult {
        let request =
            ExportLogsServiceRequest { resource_logs: group_logs_by_resource_and_scope(&batch, &self.0) };
        send(request.encode_to_vec());
        Ok(())
    }
    fn set_resource(&mut self, resource: &Resource) {
        self.0 = resource.into();
    }
}

/// A manual reader the program keeps a handle to, so that it can collect and encode at exit.
#[derive(Debug, Clone)]
struct SharedReader(Arc<ManualReader>);

impl MetricReader for SharedReader {
    fn register_pipeline(&self, pipeline: Weak<Pipeline>) {
        self.0.register_pipeline(pipeline)
    }
    fn collect(&self, rm: &mut ResourceMetrics) -> OTelSdkResult {
        self.0.collect(rm)
    }
    fn force_flush(&self) -> OTelSdkResult {
        self.0.force_flush()
    }
    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }
    fn temporality(&self, kind: InstrumentKind) -> Temporality {
        self.0.temporality(kind)
    }
}

fn main() {
    let tracer_provider = SdkTracerProvider::builder().with_simple_exporter(OtlpSpans::default()).build();
    let reader = SharedReader(Arc::new(ManualReader::builder().build()));
    let meter_provider = SdkMeterProvider::builder().with_reader(reader.clone()).build();
    let logger_provider = SdkLoggerProvider::builder().with_simple_exporter(OtlpLogs::default()).build();

    let tracer = tracer_provider.tracer("hello");
    let span =
        tracer.span_builder("main").with_attributes([KeyValue::new("greeting", "hello")]).start(&tracer);
    let guard = mark_span_as_active(span);
    let greetings = meter_provider.meter("hello").u64_counter("app.greetings").build();
    greetings.add(1, &[KeyValue::new("greeting", "hello")]);
    let logger = logger_provider.logger("hello");
    let mut record = logger.create_log_record();
    record.set_severity_number(Severity::Info);
    record.set_body("greeted".into());
    logger.emit(record);
    println!("hello, world");
    drop(guard);

    let mut metrics = ResourceMetrics::default();
    if reader.collect(&mut metrics).is_ok() {
        send(ExportMetricsServiceRequest::from(&metrics).encode_to_vec());
    }
    let _ = tracer_provider.shutdown();
    let _ = meter_provider.shutdown();
    let _ = logger_provider.shutdown();
    eprintln!("otlp bytes encoded: {}", ENCODED.load(Ordering::Relaxed));
}
