//! The plugin's own health: how many spans, log records and metric data points were exported or
//! failed to export. Exporters are wrapped so every batch is counted after the fact, off the
//! guest's thread. Read by the runtime metrics and by the exit report.

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{LogBatch, LogExporter};
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData, ResourceMetrics};
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::Temporality;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// Exported and failed counts of one signal.
#[derive(Debug, Default)]
pub struct SignalCounts {
    exporting: AtomicBool,
    exported: AtomicU64,
    failed: AtomicU64,
}

impl SignalCounts {
    const fn new() -> Self {
        SignalCounts {
            exporting: AtomicBool::new(false),
            exported: AtomicU64::new(0),
            failed: AtomicU64::new(0),
        }
    }

    fn start_exporting(&self) {
        self.exporting.store(true, Ordering::Relaxed);
    }

    /// Whether a counted exporter serves this signal (with none, nothing is expected to arrive).
    pub fn exporting(&self) -> bool {
        self.exporting.load(Ordering::Relaxed)
    }

    fn count(&self, n: usize, result: &OTelSdkResult) {
        let counter = if result.is_ok() { &self.exported } else { &self.failed };
        counter.fetch_add(n as u64, Ordering::Relaxed);
    }

    /// Items the collector accepted.
    pub fn exported(&self) -> u64 {
        self.exported.load(Ordering::Relaxed)
    }

    /// Items whose export failed after the exporter's retries.
    pub fn failed(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }
}

/// Process-wide export counts.
#[derive(Debug, Default)]
pub struct Health {
    /// Spans.
    pub spans: SignalCounts,
    /// Log records.
    pub logs: SignalCounts,
    /// Metric data points.
    pub metric_points: SignalCounts,
}

/// The process's counts.
pub fn health() -> &'static Health {
    static HEALTH: Health =
        Health { spans: SignalCounts::new(), logs: SignalCounts::new(), metric_points: SignalCounts::new() };
    &HEALTH
}

/// One stderr line saying what was lost, if anything: items that failed to export after the
/// exporter's retries, and items handed to the SDK that were never exported (dropped by a full
/// queue, or still buffered when the exit flush ended). `None` when nothing was lost.
pub fn loss_report(spans_ended: u64, logs_emitted: u64) -> Option<String> {
    let h = health();
    let lost = |handed: u64, counts: &SignalCounts, what: &str| {
        if !counts.exporting() {
            return None;
        }
        let failed = counts.failed();
        let dropped = handed.saturating_sub(counts.exported() + failed);
        (failed + dropped > 0).then(|| {
            format!("{} {what} ({failed} failed to export, {dropped} dropped or unflushed)", failed + dropped)
        })
    };
    let parts: Vec<String> = [
        lost(spans_ended, &h.spans, "spans"),
        lost(logs_emitted, &h.logs, "log records"),
        (h.metric_points.failed() > 0)
            .then(|| format!("{} metric data points failed to export", h.metric_points.failed())),
    ]
    .into_iter()
    .flatten()
    .collect();
    (!parts.is_empty()).then(|| format!("wasmedge_otel: telemetry lost: {}", parts.join(", ")))
}

/// A span exporter that counts what it exports.
#[derive(Debug)]
pub struct CountingSpanExporter<E>(E);

impl<E> CountingSpanExporter<E> {
    /// Wraps `exporter`; from now on spans are expected to be exported.
    pub fn new(exporter: E) -> Self {
        health().spans.start_exporting();
        CountingSpanExporter(exporter)
    }
}

impl<E: SpanExporter> SpanExporter for CountingSpanExporter<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let n = batch.len();
        let result = self.0.export(batch).await;
        health().spans.count(n, &result);
        result
    }
    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }
    fn force_flush(&self) -> OTelSdkResult {
        self.0.force_flush()
    }
    fn set_resource(&mut self, resource: &Resource) {
        self.0.set_resource(resource)
    }
}

/// A log exporter that counts what it exports.
#[derive(Debug)]
pub struct CountingLogExporter<E>(E);

impl<E> CountingLogExporter<E> {
    /// Wraps `exporter`; from now on log records are expected to be exported.
    pub fn new(exporter: E) -> Self {
        health().logs.start_exporting();
        CountingLogExporter(exporter)
    }
}

impl<E: LogExporter> LogExporter for CountingLogExporter<E> {
    async fn export(&self, batch: LogBatch<'_>) -> OTelSdkResult {
        let n = batch.iter().count();
        let result = self.0.export(batch).await;
        health().logs.count(n, &result);
        result
    }
    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }
    fn set_resource(&mut self, resource: &Resource) {
        self.0.set_resource(resource)
    }
}

/// A metric exporter that counts the data points it exports.
#[derive(Debug)]
pub struct CountingMetricExporter<E>(E);

impl<E> CountingMetricExporter<E> {
    /// Wraps `exporter`.
    pub fn new(exporter: E) -> Self {
        health().metric_points.start_exporting();
        CountingMetricExporter(exporter)
    }
}

fn points<T>(data: &MetricData<T>) -> usize {
    match data {
        MetricData::Gauge(g) => g.data_points().count(),
        MetricData::Sum(s) => s.data_points().count(),
        MetricData::Histogram(h) => h.data_points().count(),
        MetricData::ExponentialHistogram(h) => h.data_points().count(),
    }
}

/// Number of data points in a collection.
pub fn data_points(metrics: &ResourceMetrics) -> usize {
    metrics
        .scope_metrics()
        .flat_map(|scope| scope.metrics())
        .map(|metric| match metric.data() {
            AggregatedMetrics::F64(d) => points(d),
            AggregatedMetrics::U64(d) => points(d),
            AggregatedMetrics::I64(d) => points(d),
        })
        .sum()
}

impl<E: PushMetricExporter> PushMetricExporter for CountingMetricExporter<E> {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        let n = data_points(metrics);
        let result = self.0.export(metrics).await;
        health().metric_points.count(n, &result);
        result
    }
    fn force_flush(&self) -> OTelSdkResult {
        self.0.force_flush()
    }
    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }
    fn temporality(&self) -> Temporality {
        self.0.temporality()
    }
}
