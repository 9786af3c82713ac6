//! Baseline (b): the operations of `bench/guests/ops`, made natively with opentelemetry_sdk 0.33
//! (the SDK release the plugin runs) in a plain Rust program, timed around the loop.
//!
//! `bench-native OP N WARMUP`, OP one of
//! - `span`: batch span processor (configured from `OTEL_BSP_*`, as in the plugin) and a no-op
//!   exporter: the SDK's own batch hot path;
//! - `span-otlp`: batch span processor and the OTLP/gRPC exporter to
//!   `OTEL_EXPORTER_OTLP_ENDPOINT`, the plugin's own pipeline (built inside a one-worker tokio
//!   runtime, as the plugin does);
//! - `span-simple`: simple span processor, no-op exporter (compare with the in-guest SDK);
//! - `counter`, `bound`, `histogram`: a u64 counter add with 2 attributes, the SDK's (experimental)
//!   bound counter add, an f64 histogram record with 2 attributes; periodic reader, no-op exporter;
//! - `log`: a log record with a body and 2 attributes, batch log processor, no-op exporter.
//!
//! Prints `RESULT op=OP n=N ns_per_op=X`.
use opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, LoggerProvider as _, Severity};
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::{Span as _, Tracer as _, TracerProvider as _};
use opentelemetry::KeyValue;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{BatchLogProcessor, LogBatch, LogExporter, SdkLoggerProvider};
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider, Temporality};
use opentelemetry_sdk::trace::{BatchSpanProcessor, SdkTracerProvider, SpanData, SpanExporter};
use opentelemetry_sdk::Resource;
use std::hint::black_box;
use std::time::{Duration, Instant};

const ROUTE: &str = "/api/items";

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

struct NoopMetrics;

impl PushMetricExporter for NoopMetrics {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        black_box(metrics);
        Ok(())
    }
    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }
    fn shutdown_with_timeout(&self, _: Duration) -> OTelSdkResult {
        Ok(())
    }
    fn temporality(&self) -> Temporality {
        Temporality::Cumulative
    }
}

fn resource() -> Resource {
    Resource::builder().with_service_name("bench-native").build()
}

/// Times `count` calls of `op(i)` and returns nanoseconds.
fn time(count: u64, mut op: impl FnMut(u64)) -> f64 {
    let start = Instant::now();
    for i in 0..count {
        op(i);
    }
    start.elapsed().as_nanos() as f64
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        eprintln!("usage: bench-native span|span-otlp|span-simple|counter|bound|histogram|log N WARMUP");
        std::process::exit(2);
    }
    let op = args[1].as_str();
    let n: u64 = args[2].parse().expect("N");
    let warmup: u64 = args[3].parse().expect("WARMUP");
    let mut _runtime = None;

    let ns = match op {
        "span" | "span-otlp" | "span-simple" => {
            let builder = SdkTracerProvider::builder().with_resource(resource());
            let provider = match op {
                // BatchConfig defaults read OTEL_BSP_* from the environment.
                "span" => builder.with_span_processor(BatchSpanProcessor::builder(NoopSpans).build()).build(),
                "span-simple" => builder.with_simple_exporter(NoopSpans).build(),
                _ => {
                    let runtime = tokio::runtime::Builder::new_multi_thread()
                        .worker_threads(1)
                        .enable_all()
                        .build()
                        .expect("tokio runtime");
                    let exporter = {
                        let _guard = runtime.enter();
                        opentelemetry_otlp::SpanExporter::builder()
                            .with_tonic()
                            .build()
                            .expect("OTLP exporter")
                    };
                    _runtime = Some(runtime);
                    builder.with_span_processor(BatchSpanProcessor::builder(exporter).build()).build()
                }
            };
            let tracer = provider.tracer("bench");
            let span = |i: u64| {
                let mut span = tracer
                    .span_builder("op")
                    .with_attributes([
                        KeyValue::new("http.route", ROUTE),
                        KeyValue::new("item.id", black_box(i) as i64),
                    ])
                    .start(&tracer);
                span.end();
            };
            time(warmup, span);
            let ns = time(n, span);
            // Long enough for the OTLP exporter to deliver everything even under valgrind.
            if let Err(e) = provider.shutdown_with_timeout(Duration::from_secs(300)) {
                eprintln!("bench-native: span provider shutdown: {e}");
            }
            ns
        }
        "counter" | "bound" | "histogram" => {
            let provider = SdkMeterProvider::builder()
                .with_resource(resource())
                .with_reader(PeriodicReader::builder(NoopMetrics).build())
                .build();
            let meter = provider.meter("bench");
            let counter = meter.u64_counter("bench.requests").build();
            let histogram = meter.f64_histogram("bench.duration").build();
            let attributes =
                [KeyValue::new("http.route", ROUTE), KeyValue::new("http.response.status_code", 200)];
            let bound = counter.bind(&attributes);
            let mut op_fn: Box<dyn FnMut(u64)> = match op {
                "counter" => Box::new(|_| {
                    counter.add(
                        1,
                        &[
                            KeyValue::new("http.route", ROUTE),
                            KeyValue::new("http.response.status_code", black_box(200)),
                        ],
                    )
                }),
                "bound" => Box::new(|_| bound.add(black_box(1))),
                _ => Box::new(|i| {
                    histogram.record(
                        (black_box(i) % 100) as f64 + 0.5,
                        &[
                            KeyValue::new("http.route", ROUTE),
                            KeyValue::new("http.response.status_code", 200),
                        ],
                    )
                }),
            };
            time(warmup, &mut op_fn);
            let ns = time(n, &mut op_fn);
            drop(op_fn);
            let _ = provider.shutdown_with_timeout(Duration::from_secs(300));
            ns
        }
        "log" => {
            let provider = SdkLoggerProvider::builder()
                .with_resource(resource())
                .with_log_processor(BatchLogProcessor::builder(NoopLogs).build())
                .build();
            let logger = provider.logger("bench");
            let log = |i: u64| {
                let mut record = logger.create_log_record();
                let now = std::time::SystemTime::now();
                record.set_timestamp(now);
                record.set_observed_timestamp(now);
                record.set_severity_number(Severity::Info);
                record.set_severity_text("INFO");
                record.set_body("request handled".into());
                record.add_attributes([
                    ("http.route", AnyValue::from(ROUTE)),
                    ("item.id", AnyValue::Int(black_box(i) as i64)),
                ]);
                logger.emit(record);
            };
            time(warmup, log);
            let ns = time(n, log);
            let _ = provider.shutdown_with_timeout(Duration::from_secs(300));
            ns
        }
        other => {
            eprintln!("unknown op {other}");
            std::process::exit(2);
        }
    };
    println!("RESULT op={op} n={n} ns_per_op={:.2}", ns / n.max(1) as f64);
}
