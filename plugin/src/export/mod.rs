//! The export side: the OpenTelemetry SDK providers for traces, metrics and logs, their OTLP
//! exporters and the tokio runtime the gRPC client needs. One [`ExportPipeline`] serves the whole
//! process; it is built on the first telemetry call of any instance (never at plugin load, because
//! WasmEdge creates the module on every run, even for guests that never import it) and flushed
//! when an instance is torn down.
//!
//! Export errors stay on the host: they are counted (see [`health`]), reported on stderr at exit,
//! and never returned to a guest.

pub mod config;
pub mod health;
pub mod resource;
pub mod runtime_metrics;

use opentelemetry::metrics::{Meter, MeterProvider as _};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry::{Context, InstrumentationScope};
use opentelemetry_sdk::logs::{SdkLogger, SdkLoggerProvider};
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use resource::RuntimeInfo;
use std::sync::OnceLock;

use crate::core::instance::TelemetrySetup;
use health::{CountingLogExporter, CountingMetricExporter, CountingSpanExporter};

/// Instrumentation scope name of everything the plugin records.
pub const SCOPE_NAME: &str = "wasmedge_otel";

/// Which exporter a signal uses (`OTEL_TRACES_EXPORTER`, `OTEL_METRICS_EXPORTER`,
/// `OTEL_LOGS_EXPORTER`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExporterKind {
    /// OTLP over gRPC (the default).
    Otlp,
    /// Record nothing for export.
    None,
}

/// Export configuration read from the environment of the `wasmedge` process. Endpoint, headers,
/// timeout, compression and temporality are read by `opentelemetry-otlp` itself, batching and the
/// metric interval by the SDK, each in the specification's order.
#[derive(Clone, Debug)]
pub struct ExportConfig {
    /// `OTEL_SDK_DISABLED=true`: no exporter at all.
    pub sdk_disabled: bool,
    /// `OTEL_TRACES_EXPORTER`.
    pub traces: ExporterKind,
    /// `OTEL_METRICS_EXPORTER`.
    pub metrics: ExporterKind,
    /// `OTEL_LOGS_EXPORTER`.
    pub logs: ExporterKind,
}

fn exporter_kind(var: &str) -> ExporterKind {
    match std::env::var(var).as_deref().map(str::trim) {
        Err(_) | Ok("") | Ok("otlp") => ExporterKind::Otlp,
        Ok("none") => ExporterKind::None,
        Ok(other) => {
            warn_bad_value(var, other, "otlp");
            ExporterKind::Otlp
        }
    }
}

impl ExportConfig {
    /// Reads the configuration; a bad value is reported once on stderr and the default is used.
    pub fn from_env() -> Self {
        let sdk_disabled = match std::env::var("OTEL_SDK_DISABLED") {
            Ok(v) if v.trim().eq_ignore_ascii_case("true") => true,
            Ok(v) if v.trim().is_empty() || v.trim().eq_ignore_ascii_case("false") => false,
            Ok(v) => {
                warn_bad_value("OTEL_SDK_DISABLED", &v, "false");
                false
            }
            Err(_) => false,
        };
        ExportConfig {
            sdk_disabled,
            traces: exporter_kind("OTEL_TRACES_EXPORTER"),
            metrics: exporter_kind("OTEL_METRICS_EXPORTER"),
            logs: exporter_kind("OTEL_LOGS_EXPORTER"),
        }
    }

    fn wants(&self, kind: ExporterKind) -> bool {
        !self.sdk_disabled && kind == ExporterKind::Otlp
    }
}

fn warn_bad_value(var: &str, value: &str, default: &str) {
    eprintln!(
        "wasmedge_otel: ignoring {var}={value:?}: not a supported value; using the default ({default})"
    );
}

fn warn_build_failure(signal: &str, error: impl std::fmt::Display) {
    eprintln!("wasmedge_otel: cannot build the OTLP {signal} exporter, {signal} are dropped: {error}");
}

/// The process-wide SDK pipeline.
pub struct ExportPipeline {
    tracer_provider: SdkTracerProvider,
    meter_provider: SdkMeterProvider,
    logger_provider: SdkLoggerProvider,
    _runtime_instruments: runtime_metrics::RuntimeInstruments,
    /// Runs the gRPC client's connection tasks; kept alive as long as the pipeline.
    _runtime: Option<tokio::runtime::Runtime>,
}

impl ExportPipeline {
    /// Builds providers and exporters for `config`. Never fails: an exporter that cannot be built
    /// is reported on stderr and left out, so the guest runs on with that signal dropped.
    pub fn new(config: &ExportConfig, info: &RuntimeInfo) -> Self {
        let resource = resource::build(info);
        let mut traces = SdkTracerProvider::builder().with_resource(resource.clone());
        let mut metrics = SdkMeterProvider::builder().with_resource(resource.clone());
        let mut logs = SdkLoggerProvider::builder().with_resource(resource);
        let any = [config.traces, config.metrics, config.logs].into_iter().any(|k| config.wants(k));
        let runtime = if any { runtime() } else { None };
        if let Some(rt) = &runtime {
            // tonic spawns its connection tasks on the runtime current while an exporter is built.
            let _guard = rt.enter();
            if config.wants(config.traces) {
                match opentelemetry_otlp::SpanExporter::builder().with_tonic().build() {
                    Ok(e) => traces = traces.with_batch_exporter(CountingSpanExporter(e)),
                    Err(e) => warn_build_failure("spans", e),
                }
            }
            if config.wants(config.metrics) {
                match opentelemetry_otlp::MetricExporter::builder().with_tonic().build() {
                    Ok(e) => {
                        metrics =
                            metrics.with_reader(PeriodicReader::builder(CountingMetricExporter(e)).build())
                    }
                    Err(e) => warn_build_failure("metrics", e),
                }
            }
            if config.wants(config.logs) {
                match opentelemetry_otlp::LogExporter::builder().with_tonic().build() {
                    Ok(e) => logs = logs.with_batch_exporter(CountingLogExporter(e)),
                    Err(e) => warn_build_failure("logs", e),
                }
            }
        }
        let meter_provider = metrics.build();
        let runtime_instruments = runtime_metrics::instruments(&meter_provider.meter_with_scope(scope()));
        ExportPipeline {
            tracer_provider: traces.build(),
            meter_provider,
            logger_provider: logs.build(),
            _runtime_instruments: runtime_instruments,
            _runtime: runtime,
        }
    }

    /// A tracer for guest spans.
    pub fn tracer(&self) -> SdkTracer {
        self.tracer_provider.tracer_with_scope(scope())
    }

    /// A meter for guest instruments.
    pub fn meter(&self) -> Meter {
        self.meter_provider.meter_with_scope(scope())
    }

    /// A logger for guest log records.
    pub fn logger(&self) -> SdkLogger {
        use opentelemetry::logs::LoggerProvider as _;
        self.logger_provider.logger_with_scope(scope())
    }

    /// Everything a new instance records with, parented on `root`.
    pub fn telemetry(&self, root: Context) -> TelemetrySetup {
        TelemetrySetup { tracer: self.tracer(), meter: self.meter(), logger: self.logger(), root }
    }

    /// Exports everything recorded so far: spans and log records, then a final collection of every
    /// metric (last, so the export counts include the other two). Each step is bounded by the
    /// SDK's flush timeout and the exporter's own timeout, so a run never hangs on an unreachable
    /// collector. Failures are reported on stderr.
    pub fn flush(&self) {
        if let Err(e) = self.tracer_provider.force_flush() {
            eprintln!("wasmedge_otel: flushing spans at exit failed: {e}");
        }
        if let Err(e) = self.logger_provider.force_flush() {
            eprintln!("wasmedge_otel: flushing log records at exit failed: {e}");
        }
        if let Err(e) = self.meter_provider.force_flush() {
            eprintln!("wasmedge_otel: exporting metrics at exit failed: {e}");
        }
    }
}

fn scope() -> InstrumentationScope {
    InstrumentationScope::builder(SCOPE_NAME).with_version(env!("CARGO_PKG_VERSION")).build()
}

fn runtime() -> Option<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("wasmedge-otel-io")
        .enable_all()
        .build()
        .map_err(|e| eprintln!("wasmedge_otel: cannot start the export runtime, telemetry is dropped: {e}"))
        .ok()
}

static PIPELINE: OnceLock<ExportPipeline> = OnceLock::new();

/// The process-wide pipeline, built on first use from the environment.
pub fn global(info: impl FnOnce() -> RuntimeInfo) -> &'static ExportPipeline {
    PIPELINE.get_or_init(|| ExportPipeline::new(&ExportConfig::from_env(), &info()))
}

/// The process-wide pipeline if some instance has started it.
pub fn started() -> Option<&'static ExportPipeline> {
    PIPELINE.get()
}
