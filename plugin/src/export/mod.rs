//! The export side: the OpenTelemetry SDK providers, their OTLP exporters and the tokio runtime
//! the gRPC client needs. One [`ExportPipeline`] serves the whole process; it is built on the
//! first host call of any instance (never at plugin load, because WasmEdge creates the module on
//! every run, even for guests that never import it) and flushed when an instance is torn down.
//!
//! Export errors stay on the host: they are reported by the SDK's own diagnostics and never
//! returned to a guest.

pub mod resource;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry::InstrumentationScope;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use resource::RuntimeInfo;
use std::sync::OnceLock;

/// Instrumentation scope name of every span the plugin records.
pub const SCOPE_NAME: &str = "wasmedge_otel";

/// Which exporter a signal uses (`OTEL_TRACES_EXPORTER`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExporterKind {
    /// OTLP over gRPC (the default).
    Otlp,
    /// Record nothing for export.
    None,
}

/// Export configuration read from the environment of the `wasmedge` process. Endpoint, headers,
/// timeout and compression are read by `opentelemetry-otlp` itself, in the specification's order
/// (signal-specific variable, then the generic one, then the default).
#[derive(Clone, Debug)]
pub struct ExportConfig {
    /// `OTEL_SDK_DISABLED=true`: no exporter at all.
    pub sdk_disabled: bool,
    /// `OTEL_TRACES_EXPORTER`.
    pub traces: ExporterKind,
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
        let traces = match std::env::var("OTEL_TRACES_EXPORTER").as_deref().map(str::trim) {
            Err(_) | Ok("") | Ok("otlp") => ExporterKind::Otlp,
            Ok("none") => ExporterKind::None,
            Ok(other) => {
                warn_bad_value("OTEL_TRACES_EXPORTER", other, "otlp");
                ExporterKind::Otlp
            }
        };
        ExportConfig { sdk_disabled, traces }
    }
}

fn warn_bad_value(var: &str, value: &str, default: &str) {
    eprintln!(
        "wasmedge_otel: ignoring {var}={value:?}: not a supported value; using the default ({default})"
    );
}

/// The process-wide SDK pipeline.
pub struct ExportPipeline {
    tracer_provider: SdkTracerProvider,
    /// Runs the gRPC client's connection tasks; kept alive as long as the pipeline.
    _runtime: Option<tokio::runtime::Runtime>,
}

impl ExportPipeline {
    /// Builds providers and exporters for `config`. Never fails: an exporter that cannot be built
    /// is reported on stderr and left out, so the guest runs on with telemetry dropped.
    pub fn new(config: &ExportConfig, info: &RuntimeInfo) -> Self {
        let mut traces = SdkTracerProvider::builder().with_resource(resource::build(info));
        let wants_otlp = !config.sdk_disabled && config.traces == ExporterKind::Otlp;
        let runtime = if wants_otlp { runtime() } else { None };
        if let Some(rt) = &runtime {
            // tonic spawns its connection tasks on the runtime current while the exporter is built.
            let _guard = rt.enter();
            match opentelemetry_otlp::SpanExporter::builder().with_tonic().build() {
                Ok(exporter) => traces = traces.with_batch_exporter(exporter),
                Err(e) => {
                    eprintln!("wasmedge_otel: cannot build the OTLP span exporter, spans are dropped: {e}")
                }
            }
        }
        ExportPipeline { tracer_provider: traces.build(), _runtime: runtime }
    }

    /// A tracer for guest spans.
    pub fn tracer(&self) -> SdkTracer {
        let scope = InstrumentationScope::builder(SCOPE_NAME).with_version(env!("CARGO_PKG_VERSION")).build();
        self.tracer_provider.tracer_with_scope(scope)
    }

    /// Exports everything ended so far. Bounded in time by the SDK's flush timeout (5 s) and the
    /// exporter's own timeout, so a run never hangs on an unreachable collector.
    pub fn flush(&self) {
        if let Err(e) = self.tracer_provider.force_flush() {
            eprintln!("wasmedge_otel: flushing spans at exit failed: {e}");
        }
    }
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
