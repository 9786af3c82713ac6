//! `examples/all-signals` with opentelemetry_sdk compiled into the guest instead of the bindings:
//! one span, one counter add and one log record, recorded by the SDK's providers (simple span and
//! log processors, a manual metric reader; the batch processors and periodic reader need threads,
//! which wasm32-wasip1 lacks) and handed to no-op exporters. With `size-sdk-otlp` and
//! `examples/hello-world-plain`, it measures what an in-guest SDK costs in module size.
use opentelemetry::logs::{LogRecord as _, Logger as _, LoggerProvider as _, Severity};
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::{mark_span_as_active, Tracer as _, TracerProvider as _};
use opentelemetry::KeyValue;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{LogBatch, LogExporter, SdkLoggerProvider};
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::reader::MetricReader;
use opentelemetry_sdk::metrics::{InstrumentKind, ManualReader, Pipeline, SdkMeterProvider, Temporality};
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use std::hint::black_box;
use std::sync::{Arc, Weak};
use std::time::Duration;

#[derive(Debug)]
struct NoopSpans;

impl SpanExporter for NoopSpans {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        black_box(batch);
        Ok(())
    }
}

#[derive(Debug)]
struct NoopLogs;

impl LogExporter for NoopLogs {
    async fn export(&self, batch: LogBatch<'_>) -> OTelSdkResult {
        black_box(&batch);
        Ok(())
    }
}

/// A manual reader the program keeps a handle to, so that it can collect at exit.
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
    let tracer_provider = SdkTracerProvider::builder().with_simple_exporter(NoopSpans).build();
    let reader = SharedReader(Arc::new(ManualReader::builder().build()));
    let meter_provider = SdkMeterProvider::builder().with_reader(reader.clone()).build();
    let logger_provider = SdkLoggerProvider::builder().with_simple_exporter(NoopLogs).build();

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
    let _ = reader.collect(&mut metrics);
    black_box(&metrics);
    let _ = tracer_provider.shutdown();
    let _ = meter_provider.shutdown();
    let _ = logger_provider.shutdown();
}
