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
pub mod logs;
pub mod metrics;
mod otlp;
pub mod resource;
pub mod runtime_metrics;
mod signals;
pub mod traces;

use crate::core::instance::TelemetrySetup;
use crate::core::trace::SpanFlush;
use config::{Config, Exporter, Protocol, Signal};
use opentelemetry::metrics::{Meter, MeterProvider as _};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry::{Context, InstrumentationScope};
use opentelemetry_sdk::logs::{SdkLogger, SdkLoggerProvider};
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use resource::RuntimeInfo;
use std::sync::{mpsc, Arc, OnceLock};
use std::time::Duration;

/// Instrumentation scope name of everything the plugin records.
pub const SCOPE_NAME: &str = "wasmedge_otel";

/// The process's configuration, read from the environment once (its warnings printed once).
pub fn config() -> &'static Config {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    CONFIG.get_or_init(Config::from_env)
}

fn warn_build_failure(signal: &str, error: &dyn std::fmt::Display) {
    eprintln!("wasmedge_otel: cannot build the OTLP {signal} exporter, {signal} are dropped: {error}");
}

/// The process-wide SDK pipeline.
pub struct ExportPipeline {
    tracer_provider: SdkTracerProvider,
    meter_provider: SdkMeterProvider,
    logger_provider: SdkLoggerProvider,
    exit_flush_timeout: Duration,
    _runtime_instruments: runtime_metrics::RuntimeInstruments,
    /// Runs the gRPC client's connection tasks; kept alive as long as the pipeline.
    _runtime: Option<tokio::runtime::Runtime>,
}

impl ExportPipeline {
    /// Builds providers and exporters for `config`. Never fails: an exporter that cannot be built
    /// is reported on stderr and left out, so the guest runs on with that signal dropped.
    pub fn new(config: &Config, info: &RuntimeInfo) -> Self {
        let resource = resource::build(config, info);
        let grpc = |signal: Signal| {
            config.exporters(signal).contains(&Exporter::Otlp)
                && config.otlp(signal).protocol == Protocol::Grpc
        };
        let needs_runtime = !config.sdk_disabled && Signal::ALL.into_iter().any(grpc);
        // Runtime threads start with SIGPIPE blocked: wasmedge does not ignore it as Rust programs
        // do, so a collector closing a connection mid-write would kill the process.
        let runtime = if needs_runtime { otlp::without_sigpipe(runtime) } else { None };
        // tonic spawns its connection tasks on the runtime current while a gRPC exporter is built.
        let in_runtime = |build: &mut dyn FnMut()| {
            if let Some(rt) = &runtime {
                let _guard = rt.enter();
                build();
            }
        };
        let tracer_provider = traces::provider(config, resource.clone(), &in_runtime);
        let meter_provider = metrics::provider(config, resource.clone(), &in_runtime);
        let logger_provider = logs::provider(config, resource, &in_runtime);
        let runtime_instruments = runtime_metrics::instruments(&meter_provider.meter_with_scope(scope()));
        ExportPipeline {
            tracer_provider,
            meter_provider,
            logger_provider,
            exit_flush_timeout: config.plugin.exit_flush_timeout,
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
    pub fn telemetry(&'static self, root: Context) -> TelemetrySetup {
        TelemetrySetup {
            tracer: self.tracer(),
            meter: self.meter(),
            logger: self.logger(),
            root,
            span_flush: self.span_flush(),
        }
    }

    /// Flushes spans every half span queue, for ending many spans at once.
    pub fn span_flush(&'static self) -> SpanFlush {
        let every = (config().traces.batch.max_queue_size / 2).max(1);
        SpanFlush {
            every,
            flush: Arc::new(move || {
                let _ = self.tracer_provider.force_flush();
            }),
        }
    }

    /// Exports everything recorded so far: spans and log records, then a final collection of every
    /// metric (last, so the export counts include the other two). Bounded by
    /// `WASMEDGE_OTEL_EXIT_FLUSH_TIMEOUT` (default 5 s) as a whole, so a run never hangs on an
    /// unreachable collector; what is not done by then is reported on stderr and left behind.
    pub fn flush(&'static self) {
        let (done, finished) = mpsc::channel();
        let flushing = std::thread::Builder::new().name("wasmedge-otel-flush".into()).spawn(move || {
            let steps: [(&str, &dyn Fn() -> opentelemetry_sdk::error::OTelSdkResult); 3] = [
                ("spans", &|| self.tracer_provider.force_flush()),
                ("log records", &|| self.logger_provider.force_flush()),
                ("metrics", &|| self.meter_provider.force_flush()),
            ];
            for (what, flush) in steps {
                if let Err(e) = flush() {
                    eprintln!("wasmedge_otel: flushing {what} at exit failed: {e}");
                }
            }
            let _ = done.send(());
        });
        if flushing.is_err() {
            eprintln!("wasmedge_otel: cannot start the exit flush; telemetry still buffered is lost");
            return;
        }
        if finished.recv_timeout(self.exit_flush_timeout).is_err() {
            eprintln!(
                "wasmedge_otel: the exit flush did not finish within {:?} (WASMEDGE_OTEL_EXIT_FLUSH_TIMEOUT); \
                 telemetry still buffered is lost",
                self.exit_flush_timeout
            );
        }
    }

    /// Prints the one stderr line saying what was lost, if anything (see [`health::loss_report`]).
    pub fn report_losses(&self) {
        if let Some(line) =
            health::loss_report(crate::core::stats::spans_ended(), crate::core::stats::logs_emitted())
        {
            eprintln!("{line}");
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
    let mut built = false;
    let pipeline = PIPELINE.get_or_init(|| {
        built = true;
        ExportPipeline::new(config(), &info())
    });
    if built && !config().sdk_disabled && config().plugin.handle_signals {
        signals::watch(pipeline);
    }
    pipeline
}

/// The process-wide pipeline if some instance has started it.
pub fn started() -> Option<&'static ExportPipeline> {
    PIPELINE.get()
}
