//! Configuration of the export side from the `OTEL_*` environment of the `wasmedge` process.
//!
//! [`Config::from_lookup`] is a pure parser of the [OpenTelemetry SDK environment variables] and of
//! the [OTLP exporter options]: it asks a lookup function for each variable instead of reading the
//! environment, so tests feed it a map. [`Config::from_env`] runs it on the process environment and
//! prints each warning once on stderr. `docs/configuration.md` documents every variable for users;
//! [`VARIABLES`] lists them.
//!
//! The rules, from the specification:
//!
//! - An empty value is the same as an unset variable. Values are trimmed first, so a value of only
//!   whitespace is empty too. Enumeration values are case-insensitive.
//! - A value that cannot be used never fails and never panics: it yields one [`ConfigWarning`]
//!   naming the variable and is ignored, that is treated as unset, so the next source in the order
//!   of precedence applies: for an OTLP option the generic `OTEL_EXPORTER_OTLP_*` variable, then
//!   the default. Booleans are the exception the specification makes: any value but `true` (in any
//!   case) is `false`, with a warning unless the value is `false`.
//! - Integers are 0..=2³¹−1. Durations and timeouts are milliseconds. A timeout of 0 means no
//!   limit, represented by [`INDEFINITE`]. A size, or a delay between exports, must be positive.
//! - Lists (`OTEL_*_EXPORTER`, `OTEL_PROPAGATORS`) are comma-separated and deduplicated. An unknown
//!   or unsupported entry is dropped with a warning; when no usable entry is left, the default is
//!   used. `none` anywhere in the list means none: combined with other entries it wins, with a
//!   warning.
//!
//! Nothing here reads a file or opens a connection: certificate paths are kept as paths.
//!
//! [OpenTelemetry SDK environment variables]: https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/
//! [OTLP exporter options]: https://opentelemetry.io/docs/specs/otel/protocol/exporter/

use std::collections::BTreeSet;
use std::fmt;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

/// What a timeout of `0` ("no limit", per the specification) becomes: 2³¹−1 ms, about 24.8 days,
/// the substitute the specification suggests.
pub const INDEFINITE: Duration = Duration::from_millis(MAX_INTEGER as u64);

/// The default OTLP/gRPC endpoint, for every signal.
pub const DEFAULT_GRPC_ENDPOINT: &str = "http://localhost:4317";

/// The default OTLP/HTTP base endpoint; the signal's path (`/v1/traces`, ...) is appended.
pub const DEFAULT_HTTP_ENDPOINT: &str = "http://localhost:4318";

/// The default OTLP exporter timeout (`OTEL_EXPORTER_OTLP_TIMEOUT`).
pub const DEFAULT_OTLP_TIMEOUT: Duration = Duration::from_millis(10_000);

/// The default bound on the flush at guest exit (`WASMEDGE_OTEL_EXIT_FLUSH_TIMEOUT`).
pub const DEFAULT_EXIT_FLUSH_TIMEOUT: Duration = Duration::from_millis(5_000);

/// The default attribute, event and link count limit.
pub const DEFAULT_COUNT_LIMIT: u32 = 128;

/// The largest integer accepted in any variable (2³¹−1, the range the specification asks for).
const MAX_INTEGER: u32 = i32::MAX as u32;

/// Every variable [`Config::from_lookup`] reads, in the order of `docs/configuration.md`.
pub const VARIABLES: &[&str] = &[
    "OTEL_SDK_DISABLED",
    "OTEL_LOG_LEVEL",
    "OTEL_SERVICE_NAME",
    "OTEL_RESOURCE_ATTRIBUTES",
    "OTEL_PROPAGATORS",
    "OTEL_TRACES_EXPORTER",
    "OTEL_METRICS_EXPORTER",
    "OTEL_LOGS_EXPORTER",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
    "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
    "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL",
    "OTEL_EXPORTER_OTLP_HEADERS",
    "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
    "OTEL_EXPORTER_OTLP_METRICS_HEADERS",
    "OTEL_EXPORTER_OTLP_LOGS_HEADERS",
    "OTEL_EXPORTER_OTLP_TIMEOUT",
    "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
    "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT",
    "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT",
    "OTEL_EXPORTER_OTLP_COMPRESSION",
    "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION",
    "OTEL_EXPORTER_OTLP_METRICS_COMPRESSION",
    "OTEL_EXPORTER_OTLP_LOGS_COMPRESSION",
    "OTEL_EXPORTER_OTLP_CERTIFICATE",
    "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
    "OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE",
    "OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE",
    "OTEL_EXPORTER_OTLP_CLIENT_KEY",
    "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY",
    "OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY",
    "OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY",
    "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
    "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE",
    "OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE",
    "OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE",
    "OTEL_EXPORTER_OTLP_INSECURE",
    "OTEL_EXPORTER_OTLP_TRACES_INSECURE",
    "OTEL_EXPORTER_OTLP_METRICS_INSECURE",
    "OTEL_EXPORTER_OTLP_LOGS_INSECURE",
    "OTEL_TRACES_SAMPLER",
    "OTEL_TRACES_SAMPLER_ARG",
    "OTEL_BSP_SCHEDULE_DELAY",
    "OTEL_BSP_EXPORT_TIMEOUT",
    "OTEL_BSP_MAX_QUEUE_SIZE",
    "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
    "OTEL_BLRP_SCHEDULE_DELAY",
    "OTEL_BLRP_EXPORT_TIMEOUT",
    "OTEL_BLRP_MAX_QUEUE_SIZE",
    "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE",
    "OTEL_METRIC_EXPORT_INTERVAL",
    "OTEL_METRIC_EXPORT_TIMEOUT",
    "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
    "OTEL_METRICS_EXEMPLAR_FILTER",
    "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",
    "OTEL_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT",
    "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_SPAN_EVENT_COUNT_LIMIT",
    "OTEL_SPAN_LINK_COUNT_LIMIT",
    "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_LINK_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT",
    "OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT",
    "WASMEDGE_OTEL_MAX_OPEN_SPANS",
    "WASMEDGE_OTEL_EXIT_FLUSH_TIMEOUT",
    "WASMEDGE_OTEL_FUNC_MIN_DURATION",
    "WASMEDGE_OTEL_HANDLE_SIGNALS",
];

/// The whole configuration, every value resolved (precedence applied, defaults filled in).
///
/// [`Default`] is the configuration of an empty environment. Fields are public, so a test or an
/// embedder can start from the default and change what it needs
/// (`Config { sdk_disabled: true, ..Config::default() }`).
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// `OTEL_SDK_DISABLED`: when true, no signal is exported (default false).
    pub sdk_disabled: bool,
    /// `OTEL_LOG_LEVEL`: how much the plugin itself reports on stderr (default info).
    pub log_level: LogLevel,
    /// `OTEL_SERVICE_NAME`, as given (default unset).
    pub service_name: Option<String>,
    /// `OTEL_RESOURCE_ATTRIBUTES`, percent-decoded, in order (default empty). Empty when the
    /// variable is malformed: the specification discards the whole value on any error.
    pub resource_attributes: Vec<(String, String)>,
    /// `OTEL_PROPAGATORS`, deduplicated, in order; empty for `none`
    /// (default `tracecontext,baggage`).
    pub propagators: Vec<Propagator>,
    /// `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT` and `OTEL_ATTRIBUTE_COUNT_LIMIT`, as given; the
    /// span and log record limits in [`TracesConfig::limits`] and [`LogsConfig::limits`] already
    /// fall back to these.
    pub attribute_limits: AttributeLimits,
    /// Everything about traces.
    pub traces: TracesConfig,
    /// Everything about metrics.
    pub metrics: MetricsConfig,
    /// Everything about logs.
    pub logs: LogsConfig,
    /// The plugin's own `WASMEDGE_OTEL_*` settings.
    pub plugin: PluginConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            sdk_disabled: false,
            log_level: LogLevel::default(),
            service_name: None,
            resource_attributes: Vec::new(),
            propagators: vec![Propagator::TraceContext, Propagator::Baggage],
            attribute_limits: AttributeLimits::default(),
            traces: TracesConfig::default(),
            metrics: MetricsConfig::default(),
            logs: LogsConfig::default(),
            plugin: PluginConfig::default(),
        }
    }
}

/// The three signals, each with its own exporter list and OTLP options.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Signal {
    /// Spans.
    Traces,
    /// Metric data points.
    Metrics,
    /// Log records.
    Logs,
}

impl Signal {
    /// All signals.
    pub const ALL: [Signal; 3] = [Signal::Traces, Signal::Metrics, Signal::Logs];

    /// The signal's part of a variable name: `TRACES`, `METRICS` or `LOGS`.
    pub fn var_name(self) -> &'static str {
        match self {
            Signal::Traces => "TRACES",
            Signal::Metrics => "METRICS",
            Signal::Logs => "LOGS",
        }
    }

    /// The OTLP/HTTP path appended to a generic endpoint: `/v1/traces`, `/v1/metrics`, `/v1/logs`.
    pub fn http_path(self) -> &'static str {
        match self {
            Signal::Traces => "/v1/traces",
            Signal::Metrics => "/v1/metrics",
            Signal::Logs => "/v1/logs",
        }
    }
}

/// Where a signal is exported (`OTEL_TRACES_EXPORTER`, `OTEL_METRICS_EXPORTER`,
/// `OTEL_LOGS_EXPORTER`). The value `none` is an empty list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exporter {
    /// OTLP, with the signal's [`OtlpConfig`] (`otlp`, the default).
    Otlp,
    /// Standard output (`console`).
    Console,
}

impl Exporter {
    /// The value naming this exporter in the environment.
    pub fn as_str(self) -> &'static str {
        match self {
            Exporter::Otlp => "otlp",
            Exporter::Console => "console",
        }
    }
}

/// A propagator named in `OTEL_PROPAGATORS`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Propagator {
    /// W3C Trace Context (`tracecontext`).
    TraceContext,
    /// W3C Baggage (`baggage`).
    Baggage,
}

impl Propagator {
    /// The value naming this propagator in the environment.
    pub fn as_str(self) -> &'static str {
        match self {
            Propagator::TraceContext => "tracecontext",
            Propagator::Baggage => "baggage",
        }
    }
}

/// `OTEL_LOG_LEVEL`: the least severe of the plugin's own diagnostics that are printed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// `debug`: everything, including every refused host call.
    Debug,
    /// `info` (the default).
    #[default]
    Info,
    /// `warn`.
    Warn,
    /// `error`.
    Error,
}

/// The OTLP transport (`OTEL_EXPORTER_OTLP_PROTOCOL` and its per-signal variants).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Protocol {
    /// `grpc`: OTLP/gRPC (the default, as in every release of this plugin so far).
    #[default]
    Grpc,
    /// `http/protobuf`: OTLP/HTTP with binary protobuf bodies.
    HttpProtobuf,
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Protocol::Grpc => "grpc",
            Protocol::HttpProtobuf => "http/protobuf",
        })
    }
}

/// A compression of OTLP requests (`OTEL_EXPORTER_OTLP_COMPRESSION`); no compression is `None`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// `gzip`, the one the specification defines.
    Gzip,
}

/// The OTLP options of one signal, resolved in the specification's order: the signal's own
/// variable (`OTEL_EXPORTER_OTLP_TRACES_TIMEOUT`), then the generic one
/// (`OTEL_EXPORTER_OTLP_TIMEOUT`), then the default.
///
/// Its [`Debug`] output shows header names but never their values, which often hold credentials.
#[derive(Clone, PartialEq)]
pub struct OtlpConfig {
    /// Where to send. A signal-specific endpoint is used as given. A generic one is used as given
    /// for gRPC and gets the signal's path appended for OTLP/HTTP ([`Signal::http_path`]). The
    /// defaults are [`DEFAULT_GRPC_ENDPOINT`] and [`DEFAULT_HTTP_ENDPOINT`] plus the path. A gRPC
    /// endpoint may lack a scheme (`collector:4317`): see [`OtlpConfig::endpoint_url`].
    pub endpoint: String,
    /// The transport (default gRPC).
    pub protocol: Protocol,
    /// Request headers (gRPC metadata), values percent-decoded, in order; the signal-specific
    /// variable replaces the generic one as a whole (default none).
    pub headers: Vec<(String, String)>,
    /// How long one export may take ([`DEFAULT_OTLP_TIMEOUT`]; [`INDEFINITE`] for `0`).
    pub timeout: Duration,
    /// Request compression (default none).
    pub compression: Option<Compression>,
    /// A PEM file of trusted certificates to verify the server with (default: the system's roots).
    pub certificate: Option<PathBuf>,
    /// A PEM file with the client's private key, for mutual TLS (default none).
    pub client_key: Option<PathBuf>,
    /// A PEM file with the client's certificate chain, for mutual TLS (default none).
    pub client_certificate: Option<PathBuf>,
    /// Plain-text gRPC for an endpoint without a scheme (default false: TLS). An endpoint's
    /// `http://` or `https://` scheme wins over it; OTLP/HTTP ignores it.
    pub insecure: bool,
}

impl Default for OtlpConfig {
    /// The defaults of an empty environment: gRPC to [`DEFAULT_GRPC_ENDPOINT`] (the same for all
    /// signals).
    fn default() -> Self {
        OtlpConfig {
            endpoint: DEFAULT_GRPC_ENDPOINT.to_owned(),
            protocol: Protocol::Grpc,
            headers: Vec::new(),
            timeout: DEFAULT_OTLP_TIMEOUT,
            compression: None,
            certificate: None,
            client_key: None,
            client_certificate: None,
            insecure: false,
        }
    }
}

impl OtlpConfig {
    /// The endpoint with a scheme: an endpoint that has one is returned as is; one without gets
    /// `http://` when [`insecure`](Self::insecure) is set and `https://` otherwise, as the
    /// specification and opentelemetry-otlp do for gRPC. Passing this to the exporter builder
    /// means the exporter's own reading of `..._INSECURE` no longer changes anything.
    pub fn endpoint_url(&self) -> String {
        if scheme_of(&self.endpoint).is_some() {
            self.endpoint.clone()
        } else if self.insecure {
            format!("http://{}", self.endpoint)
        } else {
            format!("https://{}", self.endpoint)
        }
    }
}

impl fmt::Debug for OtlpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<String> = self.headers.iter().map(|(k, _)| format!("{k}=<redacted>")).collect();
        f.debug_struct("OtlpConfig")
            .field("endpoint", &self.endpoint)
            .field("protocol", &self.protocol)
            .field("headers", &headers)
            .field("timeout", &self.timeout)
            .field("compression", &self.compression)
            .field("certificate", &self.certificate)
            .field("client_key", &self.client_key)
            .field("client_certificate", &self.client_certificate)
            .field("insecure", &self.insecure)
            .finish()
    }
}

/// `OTEL_TRACES_SAMPLER` with its `OTEL_TRACES_SAMPLER_ARG`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum Sampler {
    /// `always_on`.
    AlwaysOn,
    /// `always_off`.
    AlwaysOff,
    /// `traceidratio`, with the probability in 0..=1 (`OTEL_TRACES_SAMPLER_ARG`, default 1.0).
    TraceIdRatio(f64),
    /// `parentbased_always_on` (the default).
    #[default]
    ParentBasedAlwaysOn,
    /// `parentbased_always_off`.
    ParentBasedAlwaysOff,
    /// `parentbased_traceidratio`, with the root's probability in 0..=1 (default 1.0).
    ParentBasedTraceIdRatio(f64),
}

/// A batch processor's settings (`OTEL_BSP_*` for spans, `OTEL_BLRP_*` for log records).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchConfig {
    /// Delay between two exports (`..._SCHEDULE_DELAY`; must be positive).
    pub schedule_delay: Duration,
    /// Longest an export may take (`..._EXPORT_TIMEOUT`; [`INDEFINITE`] for `0`).
    pub export_timeout: Duration,
    /// Items kept before new ones are dropped (`..._MAX_QUEUE_SIZE`; positive).
    pub max_queue_size: usize,
    /// Items per export (`..._MAX_EXPORT_BATCH_SIZE`; positive, at most `max_queue_size`).
    pub max_export_batch_size: usize,
}

impl BatchConfig {
    /// The batch span processor's defaults: 5000 ms, 30000 ms, 2048, 512.
    pub fn spans() -> Self {
        BatchConfig {
            schedule_delay: Duration::from_millis(5_000),
            export_timeout: Duration::from_millis(30_000),
            max_queue_size: 2_048,
            max_export_batch_size: 512,
        }
    }

    /// The batch log record processor's defaults: 1000 ms, 30000 ms, 2048, 512.
    pub fn log_records() -> Self {
        BatchConfig { schedule_delay: Duration::from_millis(1_000), ..BatchConfig::spans() }
    }
}

/// The general attribute limits (`OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`, `OTEL_ATTRIBUTE_COUNT_LIMIT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttributeLimits {
    /// Longest attribute value (default: no limit).
    pub value_length: Option<u32>,
    /// Most attributes (default 128).
    pub count: u32,
}

impl Default for AttributeLimits {
    fn default() -> Self {
        AttributeLimits { value_length: None, count: DEFAULT_COUNT_LIMIT }
    }
}

/// Span limits; the attribute limits among them fall back to the general [`AttributeLimits`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpanLimits {
    /// `OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT`, else the general limit (default: no limit).
    pub attribute_value_length: Option<u32>,
    /// `OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT`, else the general limit (default 128).
    pub attribute_count: u32,
    /// `OTEL_SPAN_EVENT_COUNT_LIMIT` (default 128).
    pub event_count: u32,
    /// `OTEL_SPAN_LINK_COUNT_LIMIT` (default 128).
    pub link_count: u32,
    /// `OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT`, else the general limit (default 128).
    pub event_attribute_count: u32,
    /// `OTEL_LINK_ATTRIBUTE_COUNT_LIMIT`, else the general limit (default 128).
    pub link_attribute_count: u32,
}

impl Default for SpanLimits {
    fn default() -> Self {
        SpanLimits {
            attribute_value_length: None,
            attribute_count: DEFAULT_COUNT_LIMIT,
            event_count: DEFAULT_COUNT_LIMIT,
            link_count: DEFAULT_COUNT_LIMIT,
            event_attribute_count: DEFAULT_COUNT_LIMIT,
            link_attribute_count: DEFAULT_COUNT_LIMIT,
        }
    }
}

/// Log record limits, falling back to the general [`AttributeLimits`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogRecordLimits {
    /// `OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT`, else the general limit (default: no limit).
    pub attribute_value_length: Option<u32>,
    /// `OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT`, else the general limit (default 128).
    pub attribute_count: u32,
}

impl Default for LogRecordLimits {
    fn default() -> Self {
        LogRecordLimits { attribute_value_length: None, attribute_count: DEFAULT_COUNT_LIMIT }
    }
}

/// The traces pipeline.
#[derive(Clone, Debug, PartialEq)]
pub struct TracesConfig {
    /// `OTEL_TRACES_EXPORTER`; empty for `none` (default `otlp`).
    pub exporters: Vec<Exporter>,
    /// The OTLP options for traces.
    pub otlp: OtlpConfig,
    /// `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG`.
    pub sampler: Sampler,
    /// `OTEL_BSP_*`.
    pub batch: BatchConfig,
    /// Span limits.
    pub limits: SpanLimits,
}

impl Default for TracesConfig {
    fn default() -> Self {
        TracesConfig {
            exporters: vec![Exporter::Otlp],
            otlp: OtlpConfig::default(),
            sampler: Sampler::default(),
            batch: BatchConfig::spans(),
            limits: SpanLimits::default(),
        }
    }
}

/// `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Temporality {
    /// `cumulative` (the default).
    #[default]
    Cumulative,
    /// `delta`.
    Delta,
    /// `lowmemory`: delta for synchronous counters and histograms, cumulative otherwise.
    LowMemory,
}

/// `OTEL_METRICS_EXEMPLAR_FILTER`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ExemplarFilter {
    /// `always_on`.
    AlwaysOn,
    /// `always_off`.
    AlwaysOff,
    /// `trace_based` (the default).
    #[default]
    TraceBased,
}

/// The metrics pipeline.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricsConfig {
    /// `OTEL_METRICS_EXPORTER`; empty for `none` (default `otlp`).
    pub exporters: Vec<Exporter>,
    /// The OTLP options for metrics.
    pub otlp: OtlpConfig,
    /// `OTEL_METRIC_EXPORT_INTERVAL` (default 60000 ms; must be positive).
    pub export_interval: Duration,
    /// `OTEL_METRIC_EXPORT_TIMEOUT` (default 30000 ms; [`INDEFINITE`] for `0`).
    pub export_timeout: Duration,
    /// `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE` (default cumulative).
    pub temporality: Temporality,
    /// `OTEL_METRICS_EXEMPLAR_FILTER` (default trace_based). Parsed only: the plugin records no
    /// exemplars.
    pub exemplar_filter: ExemplarFilter,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            exporters: vec![Exporter::Otlp],
            otlp: OtlpConfig::default(),
            export_interval: Duration::from_millis(60_000),
            export_timeout: Duration::from_millis(30_000),
            temporality: Temporality::default(),
            exemplar_filter: ExemplarFilter::default(),
        }
    }
}

/// The logs pipeline.
#[derive(Clone, Debug, PartialEq)]
pub struct LogsConfig {
    /// `OTEL_LOGS_EXPORTER`; empty for `none` (default `otlp`).
    pub exporters: Vec<Exporter>,
    /// The OTLP options for logs.
    pub otlp: OtlpConfig,
    /// `OTEL_BLRP_*`.
    pub batch: BatchConfig,
    /// Log record limits.
    pub limits: LogRecordLimits,
}

impl Default for LogsConfig {
    fn default() -> Self {
        LogsConfig {
            exporters: vec![Exporter::Otlp],
            otlp: OtlpConfig::default(),
            batch: BatchConfig::log_records(),
            limits: LogRecordLimits::default(),
        }
    }
}

/// The plugin's own settings, named `WASMEDGE_OTEL_*` (not part of the OpenTelemetry
/// specification, parsed by the same rules).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PluginConfig {
    /// `WASMEDGE_OTEL_MAX_OPEN_SPANS`: spans one guest instance may have open at once (default
    /// [`wasmedge_otel_abi::limits::MAX_OPEN_SPANS`]; must be positive).
    pub max_open_spans: usize,
    /// `WASMEDGE_OTEL_EXIT_FLUSH_TIMEOUT`: bound on the flush when a guest ends (default
    /// [`DEFAULT_EXIT_FLUSH_TIMEOUT`]; [`INDEFINITE`] for `0`).
    pub exit_flush_timeout: Duration,
    /// `WASMEDGE_OTEL_FUNC_MIN_DURATION`: calls of functions instrumented by
    /// `wasmedge-otel instrument` shorter than this many microseconds are not exported (default
    /// 20, like Dylibso Observe's filter; `0` exports every call).
    pub func_min_duration: Duration,
    /// `WASMEDGE_OTEL_HANDLE_SIGNALS`: flush on SIGTERM/SIGINT, then end by the signal (default
    /// true; embedders with their own shutdown handling set false).
    pub handle_signals: bool,
}

impl Default for PluginConfig {
    fn default() -> Self {
        PluginConfig {
            max_open_spans: wasmedge_otel_abi::limits::MAX_OPEN_SPANS,
            exit_flush_timeout: DEFAULT_EXIT_FLUSH_TIMEOUT,
            func_min_duration: Duration::from_micros(20),
            handle_signals: true,
        }
    }
}

/// A value that was ignored. Its [`Display`](fmt::Display) is the line [`Config::from_env`]
/// prints: `ignoring OTEL_X="value": <why>; using <what is used instead>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigWarning {
    /// The variable's name.
    pub variable: String,
    /// Its value, trimmed. For `*_HEADERS` variables the header values are replaced by `***`, so
    /// that credentials never reach a log.
    pub value: String,
    /// Why it was ignored.
    pub reason: String,
    /// What is used instead: the default, the generic variable's value, or what was left of a list.
    pub using: String,
}

impl fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ignoring {}=\"{}\": {}; using {}",
            self.variable,
            self.value.escape_debug(),
            self.reason,
            self.using
        )
    }
}

impl Config {
    /// Reads the configuration from the environment of the `wasmedge` process. Each warning is
    /// printed once on stderr (`wasmedge_otel: ignoring ...`), however often this is called.
    pub fn from_env() -> Config {
        let (config, mut warnings) = Config::from_lookup(|name| std::env::var(name).ok());
        for &name in VARIABLES {
            let Some(value) = std::env::var_os(name) else { continue };
            if value.to_str().is_none() {
                let value = if name.ends_with("_HEADERS") {
                    "***".to_owned()
                } else {
                    value.to_string_lossy().into_owned()
                };
                warnings.push(ConfigWarning {
                    variable: name.to_owned(),
                    value,
                    reason: "not valid UTF-8".to_owned(),
                    using: "what applies when it is unset".to_owned(),
                });
            }
        }
        static PRINTED: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
        let mut printed = PRINTED.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        for warning in warnings {
            let line = warning.to_string();
            if !printed.contains(&line) {
                eprintln!("wasmedge_otel: {line}");
                printed.insert(line);
            }
        }
        config
    }

    /// Parses the configuration from `lookup`, which returns a variable's value or `None` when it
    /// is unset. Pure: nothing is printed. Returns the configuration and the ignored values, at
    /// most one warning per variable.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> (Config, Vec<ConfigWarning>) {
        let mut r = Reader { lookup, warnings: Vec::new() };
        let config = r.config();
        (config, r.warnings)
    }

    /// The OTLP options of `signal`.
    pub fn otlp(&self, signal: Signal) -> &OtlpConfig {
        match signal {
            Signal::Traces => &self.traces.otlp,
            Signal::Metrics => &self.metrics.otlp,
            Signal::Logs => &self.logs.otlp,
        }
    }

    /// The exporters of `signal` (empty for `none`). [`Config::sdk_disabled`] is not applied here.
    pub fn exporters(&self, signal: Signal) -> &[Exporter] {
        match signal {
            Signal::Traces => &self.traces.exporters,
            Signal::Metrics => &self.metrics.exporters,
            Signal::Logs => &self.logs.exporters,
        }
    }
}

/// Parses an `OTEL_RESOURCE_ATTRIBUTES` value: `key=value` pairs separated by commas, keys and
/// values trimmed and percent-decoded (`%2C` for a comma, `%3D` for `=`; `+` stays a plus). Empty
/// entries (a trailing comma) are skipped. Any error (an entry without `=`, an empty key, a bad
/// `%` escape, bytes that are not UTF-8) fails the whole value, as the specification asks; the
/// error says which entry.
pub fn parse_resource_attributes(raw: &str) -> Result<Vec<(String, String)>, String> {
    let mut attributes = Vec::new();
    for (i, entry) in raw.split(',').enumerate().map(|(i, e)| (i + 1, e.trim())) {
        if entry.is_empty() {
            continue;
        }
        let (key, value) = entry.split_once('=').ok_or_else(|| format!("entry {i} is not key=value"))?;
        let key =
            percent_decode(key.trim()).ok_or_else(|| format!("entry {i} has a bad %-escape in its key"))?;
        let value = percent_decode(value.trim())
            .ok_or_else(|| format!("entry {i} has a bad %-escape in its value"))?;
        if key.is_empty() {
            return Err(format!("entry {i} has an empty key"));
        }
        attributes.push((key, value));
    }
    Ok(attributes)
}

/// Reads variables through the lookup function and collects warnings, at most one per variable.
struct Reader<F> {
    lookup: F,
    warnings: Vec<ConfigWarning>,
}

/// The generic `OTEL_EXPORTER_OTLP_*` values, read once for all signals.
struct GenericOtlp {
    /// Unvalidated: whether it is usable depends on each signal's protocol.
    endpoint: Option<String>,
    protocol: Option<Protocol>,
    headers: Option<Vec<(String, String)>>,
    timeout: Option<Duration>,
    compression: Option<Option<Compression>>,
    certificate: Option<PathBuf>,
    client_key: Option<PathBuf>,
    client_certificate: Option<PathBuf>,
    insecure: Option<bool>,
}

const GENERIC_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";

fn otlp_var(signal: Option<Signal>, option: &str) -> String {
    match signal {
        Some(signal) => format!("OTEL_EXPORTER_OTLP_{}_{option}", signal.var_name()),
        None => format!("OTEL_EXPORTER_OTLP_{option}"),
    }
}

impl<F: Fn(&str) -> Option<String>> Reader<F> {
    fn config(&mut self) -> Config {
        let sdk_disabled = self.bool("OTEL_SDK_DISABLED").unwrap_or(false);
        let log_level =
            self.parse("OTEL_LOG_LEVEL", parse_log_level, || "info".to_owned()).unwrap_or_default();
        let service_name = self.raw("OTEL_SERVICE_NAME");
        let resource_attributes = self
            .parse("OTEL_RESOURCE_ATTRIBUTES", parse_resource_attributes, || {
                "no attributes from OTEL_RESOURCE_ATTRIBUTES".to_owned()
            })
            .unwrap_or_default();
        let propagators = self.list(
            "OTEL_PROPAGATORS",
            &[("tracecontext", Propagator::TraceContext), ("baggage", Propagator::Baggage)],
            &["b3", "b3multi", "jaeger", "xray", "ottrace"],
            &[Propagator::TraceContext, Propagator::Baggage],
            Propagator::as_str,
        );

        let general_length =
            self.parse("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", parse_integer, || "no limit".into());
        let general_count = self
            .parse("OTEL_ATTRIBUTE_COUNT_LIMIT", parse_integer, || DEFAULT_COUNT_LIMIT.to_string())
            .unwrap_or(DEFAULT_COUNT_LIMIT);
        let attribute_limits = AttributeLimits { value_length: general_length, count: general_count };
        let show_length = |limit: Option<u32>| limit.map_or("no limit".to_owned(), |l| l.to_string());

        let generic = self.generic_otlp();

        let traces = TracesConfig {
            exporters: self.exporters(Signal::Traces, &["zipkin", "logging", "otlp/stdout"]),
            otlp: self.otlp(Signal::Traces, &generic),
            sampler: self.sampler(),
            batch: self.batch("OTEL_BSP", BatchConfig::spans()),
            limits: SpanLimits {
                attribute_value_length: self
                    .parse("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", parse_integer, || {
                        show_length(general_length)
                    })
                    .or(general_length),
                attribute_count: self.count("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", general_count),
                event_count: self.count("OTEL_SPAN_EVENT_COUNT_LIMIT", DEFAULT_COUNT_LIMIT),
                link_count: self.count("OTEL_SPAN_LINK_COUNT_LIMIT", DEFAULT_COUNT_LIMIT),
                event_attribute_count: self.count("OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT", general_count),
                link_attribute_count: self.count("OTEL_LINK_ATTRIBUTE_COUNT_LIMIT", general_count),
            },
        };

        let defaults = MetricsConfig::default();
        let metrics = MetricsConfig {
            exporters: self.exporters(Signal::Metrics, &["prometheus", "logging", "otlp/stdout"]),
            otlp: self.otlp(Signal::Metrics, &generic),
            export_interval: self.duration(
                "OTEL_METRIC_EXPORT_INTERVAL",
                parse_delay,
                defaults.export_interval,
            ),
            export_timeout: self.duration(
                "OTEL_METRIC_EXPORT_TIMEOUT",
                parse_timeout,
                defaults.export_timeout,
            ),
            temporality: self
                .parse("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", parse_temporality, || {
                    "cumulative".to_owned()
                })
                .unwrap_or_default(),
            exemplar_filter: self
                .parse("OTEL_METRICS_EXEMPLAR_FILTER", parse_exemplar_filter, || "trace_based".to_owned())
                .unwrap_or_default(),
        };

        let logs = LogsConfig {
            exporters: self.exporters(Signal::Logs, &["logging", "otlp/stdout"]),
            otlp: self.otlp(Signal::Logs, &generic),
            batch: self.batch("OTEL_BLRP", BatchConfig::log_records()),
            limits: LogRecordLimits {
                attribute_value_length: self
                    .parse("OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT", parse_integer, || {
                        show_length(general_length)
                    })
                    .or(general_length),
                attribute_count: self.count("OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT", general_count),
            },
        };

        let defaults = PluginConfig::default();
        let plugin = PluginConfig {
            max_open_spans: self
                .parse("WASMEDGE_OTEL_MAX_OPEN_SPANS", parse_positive, || defaults.max_open_spans.to_string())
                .map_or(defaults.max_open_spans, |n| n as usize),
            exit_flush_timeout: self.duration(
                "WASMEDGE_OTEL_EXIT_FLUSH_TIMEOUT",
                parse_timeout,
                defaults.exit_flush_timeout,
            ),
            func_min_duration: self
                .parse("WASMEDGE_OTEL_FUNC_MIN_DURATION", parse_integer, || {
                    defaults.func_min_duration.as_micros().to_string()
                })
                .map_or(defaults.func_min_duration, |us| Duration::from_micros(u64::from(us))),
            // Unlike the specification's booleans (false unless "true"), a typo here must not turn
            // the default (on) off: anything but true or false warns and keeps it.
            handle_signals: self
                .parse("WASMEDGE_OTEL_HANDLE_SIGNALS", parse_true_or_false, || {
                    defaults.handle_signals.to_string()
                })
                .unwrap_or(defaults.handle_signals),
        };

        Config {
            sdk_disabled,
            log_level,
            service_name,
            resource_attributes,
            propagators,
            attribute_limits,
            traces,
            metrics,
            logs,
            plugin,
        }
    }

    /// The trimmed value, `None` when unset or empty.
    fn raw(&self, var: &str) -> Option<String> {
        let value = (self.lookup)(var)?;
        let value = value.trim();
        (!value.is_empty()).then(|| value.to_owned())
    }

    fn warn(&mut self, variable: &str, value: &str, reason: impl Into<String>, using: impl Into<String>) {
        if self.warnings.iter().any(|w| w.variable == variable) {
            return;
        }
        self.warnings.push(ConfigWarning {
            variable: variable.to_owned(),
            value: value.to_owned(),
            reason: reason.into(),
            using: using.into(),
        });
    }

    /// `Some` for a set and valid value; `None` when unset, or when invalid (after a warning saying
    /// that `using()` is used instead).
    fn parse<T>(
        &mut self,
        var: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
        using: impl FnOnce() -> String,
    ) -> Option<T> {
        let raw = self.raw(var)?;
        match parse(&raw) {
            Ok(value) => Some(value),
            Err(reason) => {
                self.warn(var, &raw, reason, using());
                None
            }
        }
    }

    /// A boolean: `None` when unset; any value but `true` is false, with a warning unless `false`.
    fn bool(&mut self, var: &str) -> Option<bool> {
        let raw = self.raw(var)?;
        if raw.eq_ignore_ascii_case("true") {
            Some(true)
        } else {
            if !raw.eq_ignore_ascii_case("false") {
                self.warn(var, &raw, "a boolean is true only for \"true\" (any case)", "false");
            }
            Some(false)
        }
    }

    fn count(&mut self, var: &str, fallback: u32) -> u32 {
        self.parse(var, parse_integer, || fallback.to_string()).unwrap_or(fallback)
    }

    fn duration(
        &mut self,
        var: &str,
        parse: fn(&str) -> Result<Duration, String>,
        fallback: Duration,
    ) -> Duration {
        self.parse(var, parse, || show_millis(fallback)).unwrap_or(fallback)
    }

    /// A comma-separated list of `known` names (plus `none`), deduplicated.
    fn list<T: Copy + PartialEq>(
        &mut self,
        var: &str,
        known: &[(&str, T)],
        unsupported: &[&str],
        default: &[T],
        name: fn(T) -> &'static str,
    ) -> Vec<T> {
        let Some(raw) = self.raw(var) else { return default.to_vec() };
        let show = |items: &[T]| {
            if items.is_empty() {
                "none".to_owned()
            } else {
                items.iter().map(|&t| name(t)).collect::<Vec<_>>().join(",")
            }
        };
        let mut items = Vec::new();
        let mut problems = Vec::new();
        let mut none = false;
        for entry in raw.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let lower = entry.to_ascii_lowercase();
            if lower == "none" {
                none = true;
            } else if let Some(&(_, item)) = known.iter().find(|(n, _)| *n == lower) {
                if !items.contains(&item) {
                    items.push(item);
                }
            } else if unsupported.contains(&lower.as_str()) {
                problems.push(format!("\"{entry}\" is not supported by wasmedge_otel"));
            } else {
                problems.push(format!("\"{entry}\" is unknown"));
            }
        }
        let accepted = known.iter().map(|(n, _)| *n).chain(["none"]).collect::<Vec<_>>().join(", ");
        if none {
            if !items.is_empty() || !problems.is_empty() {
                self.warn(var, &raw, "\"none\" cannot be combined with other values", "none");
            }
            return Vec::new();
        }
        if items.is_empty() {
            let why =
                if problems.is_empty() { "no value in the list".to_owned() } else { problems.join(", ") };
            self.warn(var, &raw, format!("{why} (accepted: {accepted})"), show(default));
            return default.to_vec();
        }
        if !problems.is_empty() {
            self.warn(var, &raw, format!("{} (accepted: {accepted})", problems.join(", ")), show(&items));
        }
        items
    }

    fn exporters(&mut self, signal: Signal, unsupported: &[&str]) -> Vec<Exporter> {
        self.list(
            &format!("OTEL_{}_EXPORTER", signal.var_name()),
            &[("otlp", Exporter::Otlp), ("console", Exporter::Console)],
            unsupported,
            &[Exporter::Otlp],
            Exporter::as_str,
        )
    }

    /// A `*_HEADERS` variable: `None` when unset. Malformed entries are skipped with one warning,
    /// which shows header names only.
    fn headers(&mut self, var: &str) -> Option<Vec<(String, String)>> {
        let raw = self.raw(var)?;
        let (headers, problems) = parse_headers(&raw);
        if !problems.is_empty() {
            let using = if headers.is_empty() {
                "no headers from this variable".to_owned()
            } else {
                let names: Vec<&str> = headers.iter().map(|(k, _)| k.as_str()).collect();
                format!("the well-formed headers ({})", names.join(", "))
            };
            self.warn(var, &redact_headers(&raw), format!("skipped {}", problems.join(", ")), using);
        }
        Some(headers)
    }

    fn generic_otlp(&mut self) -> GenericOtlp {
        let var = |option: &str| otlp_var(None, option);
        GenericOtlp {
            endpoint: self.raw(GENERIC_ENDPOINT),
            protocol: self.parse(&var("PROTOCOL"), parse_protocol, || Protocol::Grpc.to_string()),
            headers: self.headers(&var("HEADERS")),
            timeout: self.parse(&var("TIMEOUT"), parse_timeout, || show_millis(DEFAULT_OTLP_TIMEOUT)),
            compression: self.parse(&var("COMPRESSION"), parse_compression, || show_compression(None)),
            certificate: self.raw(&var("CERTIFICATE")).map(PathBuf::from),
            client_key: self.raw(&var("CLIENT_KEY")).map(PathBuf::from),
            client_certificate: self.raw(&var("CLIENT_CERTIFICATE")).map(PathBuf::from),
            insecure: self.bool(&var("INSECURE")),
        }
    }

    fn otlp(&mut self, signal: Signal, generic: &GenericOtlp) -> OtlpConfig {
        let var = |option: &str| otlp_var(Some(signal), option);

        let fallback = generic.protocol.unwrap_or_default();
        let protocol =
            self.parse(&var("PROTOCOL"), parse_protocol, || fallback.to_string()).unwrap_or(fallback);

        let default_endpoint = match protocol {
            Protocol::Grpc => DEFAULT_GRPC_ENDPOINT.to_owned(),
            Protocol::HttpProtobuf => append_path(DEFAULT_HTTP_ENDPOINT, signal),
        };
        let generic_endpoint = match &generic.endpoint {
            None => None,
            Some(raw) => match check_endpoint(raw, protocol) {
                Ok(()) if protocol == Protocol::HttpProtobuf => Some(append_path(raw, signal)),
                Ok(()) => Some(raw.clone()),
                Err(reason) => {
                    self.warn(GENERIC_ENDPOINT, raw, reason, default_endpoint.clone());
                    None
                }
            },
        };
        let fallback = generic_endpoint.unwrap_or(default_endpoint);
        let endpoint = self
            .parse(
                &var("ENDPOINT"),
                |v| check_endpoint(v, protocol).map(|()| v.to_owned()),
                || fallback.clone(),
            )
            .unwrap_or(fallback);

        let headers = match self.headers(&var("HEADERS")) {
            Some(headers) => headers,
            None => generic.headers.clone().unwrap_or_default(),
        };

        let fallback = generic.timeout.unwrap_or(DEFAULT_OTLP_TIMEOUT);
        let timeout =
            self.parse(&var("TIMEOUT"), parse_timeout, || show_millis(fallback)).unwrap_or(fallback);

        let fallback = generic.compression.unwrap_or(None);
        let compression = self
            .parse(&var("COMPRESSION"), parse_compression, || show_compression(fallback))
            .unwrap_or(fallback);

        let path = |option: &str, generic: &Option<PathBuf>| {
            self.raw(&var(option)).map(PathBuf::from).or_else(|| generic.clone())
        };
        let certificate = path("CERTIFICATE", &generic.certificate);
        let client_key = path("CLIENT_KEY", &generic.client_key);
        let client_certificate = path("CLIENT_CERTIFICATE", &generic.client_certificate);

        let insecure = self.bool(&var("INSECURE")).or(generic.insecure).unwrap_or(false);

        OtlpConfig {
            endpoint,
            protocol,
            headers,
            timeout,
            compression,
            certificate,
            client_key,
            client_certificate,
            insecure,
        }
    }

    fn sampler(&mut self) -> Sampler {
        const VAR: &str = "OTEL_TRACES_SAMPLER";
        let kind = self.parse(VAR, parse_sampler, || "parentbased_always_on".to_owned()).unwrap_or_default();
        // Read even when unused, so that every variable is looked up the same way; a ratio given to
        // a sampler without one is ignored without a warning (the specification: the argument is
        // only used with a sampler that takes it).
        let arg = self.raw("OTEL_TRACES_SAMPLER_ARG");
        let mut ratio = || match &arg {
            None => 1.0,
            Some(raw) => match parse_ratio(raw) {
                Ok(ratio) => ratio,
                Err(reason) => {
                    self.warn("OTEL_TRACES_SAMPLER_ARG", raw, reason, "1.0");
                    1.0
                }
            },
        };
        match kind {
            Sampler::TraceIdRatio(_) => Sampler::TraceIdRatio(ratio()),
            Sampler::ParentBasedTraceIdRatio(_) => Sampler::ParentBasedTraceIdRatio(ratio()),
            other => other,
        }
    }

    fn batch(&mut self, prefix: &str, defaults: BatchConfig) -> BatchConfig {
        let schedule_delay =
            self.duration(&format!("{prefix}_SCHEDULE_DELAY"), parse_delay, defaults.schedule_delay);
        let export_timeout =
            self.duration(&format!("{prefix}_EXPORT_TIMEOUT"), parse_timeout, defaults.export_timeout);
        let queue_var = format!("{prefix}_MAX_QUEUE_SIZE");
        let max_queue_size = self
            .parse(&queue_var, parse_positive, || defaults.max_queue_size.to_string())
            .map_or(defaults.max_queue_size, |n| n as usize);
        let batch_var = format!("{prefix}_MAX_EXPORT_BATCH_SIZE");
        let max_export_batch_size = match self.parse(&batch_var, parse_positive, || {
            defaults.max_export_batch_size.min(max_queue_size).to_string()
        }) {
            Some(n) if n as usize > max_queue_size => {
                self.warn(
                    &batch_var,
                    &n.to_string(),
                    format!("larger than the queue size ({queue_var}={max_queue_size})"),
                    max_queue_size.to_string(),
                );
                max_queue_size
            }
            Some(n) => n as usize,
            // The default shrinks silently to a smaller queue, as the SDK does.
            None => defaults.max_export_batch_size.min(max_queue_size),
        };
        BatchConfig { schedule_delay, export_timeout, max_queue_size, max_export_batch_size }
    }
}

/// An integer in 0..=2³¹−1.
fn parse_integer(value: &str) -> Result<u32, String> {
    let digits = value.strip_prefix('-').unwrap_or(value);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err("not a non-negative integer".to_owned());
    }
    if value.starts_with('-') {
        return Err("negative values are not allowed".to_owned());
    }
    match value.parse::<u64>() {
        Ok(n) if n <= u64::from(MAX_INTEGER) => Ok(n as u32),
        _ => Err(format!("out of range (at most {MAX_INTEGER})")),
    }
}

/// An integer in 1..=2³¹−1.
fn parse_positive(value: &str) -> Result<u32, String> {
    match parse_integer(value)? {
        0 => Err("must be greater than 0".to_owned()),
        n => Ok(n),
    }
}

/// Exactly `true` or `false`, in any case.
fn parse_true_or_false(value: &str) -> Result<bool, String> {
    match value.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err("neither true nor false".to_owned()),
    }
}

/// A timeout in milliseconds; 0 means no limit ([`INDEFINITE`]).
fn parse_timeout(value: &str) -> Result<Duration, String> {
    Ok(match parse_integer(value)? {
        0 => INDEFINITE,
        ms => Duration::from_millis(u64::from(ms)),
    })
}

/// A delay between exports in milliseconds. 0 is refused: the SDK's batch thread would spin.
fn parse_delay(value: &str) -> Result<Duration, String> {
    parse_positive(value).map(|ms| Duration::from_millis(u64::from(ms)))
}

fn show_millis(duration: Duration) -> String {
    if duration == INDEFINITE {
        "0 (no limit)".to_owned()
    } else {
        duration.as_millis().to_string()
    }
}

fn parse_enum<T: Copy>(value: &str, known: &[(&str, T)], unsupported: &[&str]) -> Result<T, String> {
    let lower = value.to_ascii_lowercase();
    if let Some(&(_, item)) = known.iter().find(|(name, _)| *name == lower) {
        return Ok(item);
    }
    let accepted = known.iter().map(|(name, _)| *name).collect::<Vec<_>>().join(", ");
    if unsupported.contains(&lower.as_str()) {
        Err(format!("not supported by wasmedge_otel (accepted: {accepted})"))
    } else {
        Err(format!("unknown value (accepted: {accepted})"))
    }
}

fn parse_log_level(value: &str) -> Result<LogLevel, String> {
    parse_enum(
        value,
        &[
            ("debug", LogLevel::Debug),
            ("info", LogLevel::Info),
            ("warn", LogLevel::Warn),
            ("error", LogLevel::Error),
        ],
        &[],
    )
}

/// `http/json` is a value the specification defines, which the plugin does not support: like any
/// unsupported enumeration value it is ignored (the generic variable or the default applies).
fn parse_protocol(value: &str) -> Result<Protocol, String> {
    parse_enum(value, &[("grpc", Protocol::Grpc), ("http/protobuf", Protocol::HttpProtobuf)], &["http/json"])
}

/// `Ok(None)` is an explicit `none`, which overrides a generic `gzip`.
fn parse_compression(value: &str) -> Result<Option<Compression>, String> {
    parse_enum(value, &[("gzip", Some(Compression::Gzip)), ("none", None)], &["zstd"])
}

fn show_compression(compression: Option<Compression>) -> String {
    match compression {
        Some(Compression::Gzip) => "gzip".to_owned(),
        None => "none".to_owned(),
    }
}

/// The sampler kind; a ratio sampler is returned with a placeholder ratio.
fn parse_sampler(value: &str) -> Result<Sampler, String> {
    parse_enum(
        value,
        &[
            ("always_on", Sampler::AlwaysOn),
            ("always_off", Sampler::AlwaysOff),
            ("traceidratio", Sampler::TraceIdRatio(1.0)),
            ("parentbased_always_on", Sampler::ParentBasedAlwaysOn),
            ("parentbased_always_off", Sampler::ParentBasedAlwaysOff),
            ("parentbased_traceidratio", Sampler::ParentBasedTraceIdRatio(1.0)),
        ],
        &["jaeger_remote", "parentbased_jaeger_remote", "xray"],
    )
}

fn parse_ratio(value: &str) -> Result<f64, String> {
    match value.parse::<f64>() {
        Ok(ratio) if (0.0..=1.0).contains(&ratio) => Ok(ratio),
        _ => Err("not a probability between 0 and 1".to_owned()),
    }
}

fn parse_temporality(value: &str) -> Result<Temporality, String> {
    parse_enum(
        value,
        &[
            ("cumulative", Temporality::Cumulative),
            ("delta", Temporality::Delta),
            ("lowmemory", Temporality::LowMemory),
        ],
        &[],
    )
}

fn parse_exemplar_filter(value: &str) -> Result<ExemplarFilter, String> {
    parse_enum(
        value,
        &[
            ("always_on", ExemplarFilter::AlwaysOn),
            ("always_off", ExemplarFilter::AlwaysOff),
            ("trace_based", ExemplarFilter::TraceBased),
        ],
        &[],
    )
}

/// The scheme of `endpoint` when it has one: `://` before any `/`, `?` or `#` (the rule
/// opentelemetry-otlp applies too).
fn scheme_of(endpoint: &str) -> Option<&str> {
    endpoint.split_once("://").map(|(scheme, _)| scheme).filter(|scheme| !scheme.contains(['/', '?', '#']))
}

/// An endpoint is `http://` or `https://` with a host; for gRPC it may also be a bare `host:port`,
/// whose scheme `..._INSECURE` chooses.
fn check_endpoint(endpoint: &str, protocol: Protocol) -> Result<(), String> {
    if endpoint.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("contains whitespace or control characters".to_owned());
    }
    match scheme_of(endpoint) {
        Some(scheme) if scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https") => {
            let rest = &endpoint[scheme.len() + 3..];
            let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
            if host.is_empty() {
                Err("has no host".to_owned())
            } else {
                Ok(())
            }
        }
        Some(scheme) => Err(format!("unsupported scheme \"{scheme}\" (use http or https)")),
        None if protocol == Protocol::HttpProtobuf => {
            Err("OTLP/HTTP needs a URL starting with http:// or https://".to_owned())
        }
        None => Ok(()),
    }
}

/// Appends the signal's OTLP/HTTP path to a base endpoint, without doubling a slash.
fn append_path(base: &str, signal: Signal) -> String {
    format!("{}{}", base.strip_suffix('/').unwrap_or(base), signal.http_path())
}

/// Parses a `*_HEADERS` value: `key=value` pairs separated by commas (the W3C Baggage format
/// without properties). Keys must be HTTP header names (tokens) and are kept as given; values are
/// trimmed and percent-decoded (`+` stays a plus), and may not decode to control characters.
/// Returns the good pairs and a description of each skipped entry (never its value).
fn parse_headers(raw: &str) -> (Vec<(String, String)>, Vec<String>) {
    let mut headers = Vec::new();
    let mut problems = Vec::new();
    for (i, entry) in raw.split(',').enumerate().map(|(i, e)| (i + 1, e.trim())) {
        if entry.is_empty() {
            continue;
        }
        let Some((key, value)) = entry.split_once('=') else {
            problems.push(format!("entry {i} (not key=value)"));
            continue;
        };
        let key = key.trim();
        if !is_token(key) {
            problems.push(format!("entry {i} (not a valid header name)"));
            continue;
        }
        match percent_decode(value.trim()) {
            None => problems.push(format!("entry {i} (bad %-escape or not UTF-8)")),
            Some(value) if value.chars().any(|c| c.is_control() && c != '\t') => {
                problems.push(format!("entry {i} (control characters in the value)"))
            }
            Some(value) => headers.push((key.to_owned(), value)),
        }
    }
    (headers, problems)
}

/// A `*_HEADERS` value with every header value replaced by `***`, for warnings.
fn redact_headers(raw: &str) -> String {
    raw.split(',')
        .map(|entry| match entry.split_once('=') {
            Some((key, _)) => format!("{}=***", key.trim()),
            None if entry.trim().is_empty() => String::new(),
            None => "***".to_owned(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// An HTTP token (RFC 9110), the syntax of a header name.
fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Decodes `%XX` escapes; `None` for a malformed escape or a result that is not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let digit = |b: u8| char::from(b).to_digit(16);
            out.push((digit(hex[0])? * 16 + digit(hex[1])?) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::collections::HashMap;

    fn parse(vars: &[(&str, &str)]) -> (Config, Vec<ConfigWarning>) {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    /// Parses and asserts there was no warning.
    fn clean(vars: &[(&str, &str)]) -> Config {
        let (config, warnings) = parse(vars);
        assert!(warnings.is_empty(), "unexpected warnings for {vars:?}: {warnings:?}");
        config
    }

    /// Parses and asserts exactly one warning, naming `var`.
    fn warned(vars: &[(&str, &str)], var: &str) -> (Config, ConfigWarning) {
        let (config, mut warnings) = parse(vars);
        assert_eq!(warnings.len(), 1, "expected one warning for {vars:?}, got {warnings:?}");
        let warning = warnings.remove(0);
        assert_eq!(warning.variable, var, "{warning:?}");
        assert!(warning.to_string().starts_with(&format!("ignoring {var}=\"")), "{warning}");
        (config, warning)
    }

    /// Renders the fields a variable controls.
    type Getter = Box<dyn Fn(&Config) -> Vec<String>>;

    /// One variable: its default, a valid value, and (if it can have one) a bad value.
    struct Case {
        var: String,
        /// Other variables set for this case (e.g. the sampler for the sampler argument).
        context: Vec<(&'static str, &'static str)>,
        good: &'static str,
        bad: Option<&'static str>,
        /// Renders the fields the variable controls (one per signal for generic OTLP options).
        get: Getter,
        default: String,
        expected: String,
    }

    fn case<T: fmt::Debug>(
        var: &str,
        good: &'static str,
        bad: Option<&'static str>,
        get: impl Fn(&Config) -> T + 'static,
        default: T,
        expected: T,
    ) -> Case {
        Case {
            var: var.to_owned(),
            context: Vec::new(),
            good,
            bad,
            get: Box::new(move |c: &Config| vec![format!("{:?}", get(c))]),
            default: format!("{default:?}"),
            expected: format!("{expected:?}"),
        }
    }

    fn otlp_cases() -> Vec<Case> {
        type Field = fn(&OtlpConfig) -> String;
        /// Option name, valid value, bad value, field, default and expected rendering.
        type OtlpOption = (&'static str, &'static str, Option<&'static str>, Field, String, String);
        let options: [OtlpOption; 9] = [
            (
                "ENDPOINT",
                "http://collector:4317",
                Some("ftp://collector"),
                |o| o.endpoint.clone(),
                DEFAULT_GRPC_ENDPOINT.into(),
                "http://collector:4317".into(),
            ),
            (
                "PROTOCOL",
                "HTTP/PROTOBUF",
                Some("http/json"),
                |o| format!("{:?}", o.protocol),
                "Grpc".into(),
                "HttpProtobuf".into(),
            ),
            (
                "HEADERS",
                "api-key=k1",
                Some("api-key"),
                |o| format!("{:?}", o.headers),
                "[]".into(),
                r#"[("api-key", "k1")]"#.into(),
            ),
            ("TIMEOUT", "2500", Some("-1"), |o| format!("{:?}", o.timeout), "10s".into(), "2.5s".into()),
            (
                "COMPRESSION",
                "GZIP",
                Some("brotli"),
                |o| format!("{:?}", o.compression),
                "None".into(),
                "Some(Gzip)".into(),
            ),
            (
                "CERTIFICATE",
                "/etc/ca.pem",
                None,
                |o| format!("{:?}", o.certificate),
                "None".into(),
                r#"Some("/etc/ca.pem")"#.into(),
            ),
            (
                "CLIENT_KEY",
                "/etc/key.pem",
                None,
                |o| format!("{:?}", o.client_key),
                "None".into(),
                r#"Some("/etc/key.pem")"#.into(),
            ),
            (
                "CLIENT_CERTIFICATE",
                "/etc/client.pem",
                None,
                |o| format!("{:?}", o.client_certificate),
                "None".into(),
                r#"Some("/etc/client.pem")"#.into(),
            ),
            ("INSECURE", "True", Some("yes"), |o| o.insecure.to_string(), "false".into(), "true".into()),
        ];
        let mut cases = Vec::new();
        for scope in [None, Some(Signal::Traces), Some(Signal::Metrics), Some(Signal::Logs)] {
            for (option, good, bad, field, default, expected) in options.iter().cloned() {
                let signals: Vec<Signal> = scope.map_or(Signal::ALL.to_vec(), |s| vec![s]);
                cases.push(Case {
                    var: otlp_var(scope, option),
                    context: Vec::new(),
                    good,
                    bad,
                    get: Box::new(move |c: &Config| signals.iter().map(|&s| field(c.otlp(s))).collect()),
                    default,
                    expected,
                });
            }
        }
        cases
    }

    fn cases() -> Vec<Case> {
        let ms = Duration::from_millis;
        let mut cases = vec![
            case("OTEL_SDK_DISABLED", "TRUE", Some("yes"), |c| c.sdk_disabled, false, true),
            case(
                "WASMEDGE_OTEL_HANDLE_SIGNALS",
                "false",
                Some("no"),
                |c| c.plugin.handle_signals,
                true,
                false,
            ),
            case(
                "OTEL_LOG_LEVEL",
                "Debug",
                Some("verbose"),
                |c| c.log_level,
                LogLevel::Info,
                LogLevel::Debug,
            ),
            case(
                "OTEL_SERVICE_NAME",
                "checkout",
                None,
                |c| c.service_name.clone(),
                None,
                Some("checkout".into()),
            ),
            case(
                "OTEL_RESOURCE_ATTRIBUTES",
                "team=core,note=a%2Cb%3Dc",
                Some("team=core,broken"),
                |c| c.resource_attributes.clone(),
                vec![],
                vec![("team".into(), "core".into()), ("note".into(), "a,b=c".into())],
            ),
            case(
                "OTEL_PROPAGATORS",
                "baggage",
                Some("b3"),
                |c| c.propagators.clone(),
                vec![Propagator::TraceContext, Propagator::Baggage],
                vec![Propagator::Baggage],
            ),
            case(
                "OTEL_TRACES_EXPORTER",
                "console",
                Some("zipkin"),
                |c| c.traces.exporters.clone(),
                vec![Exporter::Otlp],
                vec![Exporter::Console],
            ),
            case(
                "OTEL_METRICS_EXPORTER",
                "none",
                Some("prometheus"),
                |c| c.metrics.exporters.clone(),
                vec![Exporter::Otlp],
                vec![],
            ),
            case(
                "OTEL_LOGS_EXPORTER",
                "console",
                Some("logging"),
                |c| c.logs.exporters.clone(),
                vec![Exporter::Otlp],
                vec![Exporter::Console],
            ),
            case(
                "OTEL_TRACES_SAMPLER",
                "always_off",
                Some("xray"),
                |c| c.traces.sampler,
                Sampler::ParentBasedAlwaysOn,
                Sampler::AlwaysOff,
            ),
            Case {
                context: vec![("OTEL_TRACES_SAMPLER", "traceidratio")],
                ..case(
                    "OTEL_TRACES_SAMPLER_ARG",
                    "0.25",
                    Some("1.5"),
                    |c| c.traces.sampler,
                    Sampler::TraceIdRatio(1.0),
                    Sampler::TraceIdRatio(0.25),
                )
            },
            case(
                "OTEL_BSP_SCHEDULE_DELAY",
                "100",
                Some("0"),
                |c| c.traces.batch.schedule_delay,
                ms(5000),
                ms(100),
            ),
            case(
                "OTEL_BSP_EXPORT_TIMEOUT",
                "0",
                Some("-5"),
                |c| c.traces.batch.export_timeout,
                ms(30000),
                INDEFINITE,
            ),
            case("OTEL_BSP_MAX_QUEUE_SIZE", "4096", Some("0"), |c| c.traces.batch.max_queue_size, 2048, 4096),
            case(
                "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
                "100",
                Some("abc"),
                |c| c.traces.batch.max_export_batch_size,
                512,
                100,
            ),
            case(
                "OTEL_BLRP_SCHEDULE_DELAY",
                "200",
                Some("soon"),
                |c| c.logs.batch.schedule_delay,
                ms(1000),
                ms(200),
            ),
            case(
                "OTEL_BLRP_EXPORT_TIMEOUT",
                "700",
                Some("1e3"),
                |c| c.logs.batch.export_timeout,
                ms(30000),
                ms(700),
            ),
            case("OTEL_BLRP_MAX_QUEUE_SIZE", "1024", Some("-1"), |c| c.logs.batch.max_queue_size, 2048, 1024),
            case(
                "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE",
                "64",
                Some("0"),
                |c| c.logs.batch.max_export_batch_size,
                512,
                64,
            ),
            case(
                "OTEL_METRIC_EXPORT_INTERVAL",
                "1000",
                Some("0"),
                |c| c.metrics.export_interval,
                ms(60000),
                ms(1000),
            ),
            case(
                "OTEL_METRIC_EXPORT_TIMEOUT",
                "500",
                Some("1.5"),
                |c| c.metrics.export_timeout,
                ms(30000),
                ms(500),
            ),
            case(
                "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
                "LowMemory",
                Some("both"),
                |c| c.metrics.temporality,
                Temporality::Cumulative,
                Temporality::LowMemory,
            ),
            case(
                "OTEL_METRICS_EXEMPLAR_FILTER",
                "always_off",
                Some("sometimes"),
                |c| c.metrics.exemplar_filter,
                ExemplarFilter::TraceBased,
                ExemplarFilter::AlwaysOff,
            ),
            case(
                "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",
                "0",
                Some("-1"),
                |c| c.attribute_limits.value_length,
                None,
                Some(0),
            ),
            case(
                "OTEL_ATTRIBUTE_COUNT_LIMIT",
                "10",
                Some("2147483648"),
                |c| c.attribute_limits.count,
                128,
                10,
            ),
            case(
                "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT",
                "64",
                Some("x"),
                |c| c.traces.limits.attribute_value_length,
                None,
                Some(64),
            ),
            case(
                "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT",
                "5",
                Some("+5"),
                |c| c.traces.limits.attribute_count,
                128,
                5,
            ),
            case("OTEL_SPAN_EVENT_COUNT_LIMIT", "6", Some("-6"), |c| c.traces.limits.event_count, 128, 6),
            case(
                "OTEL_SPAN_LINK_COUNT_LIMIT",
                "2147483647",
                Some("9e9"),
                |c| c.traces.limits.link_count,
                128,
                2147483647,
            ),
            case(
                "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT",
                "8",
                Some("eight"),
                |c| c.traces.limits.event_attribute_count,
                128,
                8,
            ),
            case(
                "OTEL_LINK_ATTRIBUTE_COUNT_LIMIT",
                "9",
                Some("9.0"),
                |c| c.traces.limits.link_attribute_count,
                128,
                9,
            ),
            case(
                "OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT",
                "32",
                Some("-32"),
                |c| c.logs.limits.attribute_value_length,
                None,
                Some(32),
            ),
            case(
                "OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT",
                "3",
                Some("3x"),
                |c| c.logs.limits.attribute_count,
                128,
                3,
            ),
            case("WASMEDGE_OTEL_MAX_OPEN_SPANS", "16", Some("0"), |c| c.plugin.max_open_spans, 4096, 16),
            case(
                "WASMEDGE_OTEL_FUNC_MIN_DURATION",
                "0",
                Some("20us"),
                |c| c.plugin.func_min_duration,
                Duration::from_micros(20),
                Duration::ZERO,
            ),
            case(
                "WASMEDGE_OTEL_EXIT_FLUSH_TIMEOUT",
                "250",
                Some("5s"),
                |c| c.plugin.exit_flush_timeout,
                ms(5000),
                ms(250),
            ),
        ];
        cases.extend(otlp_cases());
        cases
    }

    #[test]
    fn every_variable_default_valid_and_bad_value() {
        for case in cases() {
            let var = case.var.as_str();
            assert_ne!(case.default, case.expected, "{var}: the valid value must differ from the default");
            let with = |value: &'static str| {
                let mut vars = case.context.clone();
                vars.push((var, value));
                vars
            };

            let unset = clean(&case.context);
            for got in (case.get)(&unset) {
                assert_eq!(got, case.default, "{var} unset");
            }

            let valid = clean(&with(case.good));
            for got in (case.get)(&valid) {
                assert_eq!(got, case.expected, "{var}={:?}", case.good);
            }

            if let Some(bad) = case.bad {
                let (config, warning) = warned(&with(bad), var);
                assert!(!warning.reason.is_empty() && !warning.using.is_empty(), "{warning:?}");
                for got in (case.get)(&config) {
                    assert_eq!(got, case.default, "{var}={bad:?} must fall back to the default");
                }
            }
        }
    }

    #[test]
    fn the_cases_cover_every_variable_once() {
        let mut names: Vec<String> = cases().into_iter().map(|c| c.var).collect();
        names.sort();
        let mut expected: Vec<String> = VARIABLES.iter().map(|v| v.to_string()).collect();
        expected.sort();
        assert_eq!(names, expected);
    }

    #[test]
    fn the_parser_reads_exactly_the_listed_variables() {
        let asked = RefCell::new(BTreeSet::new());
        let _ = Config::from_lookup(|name| {
            asked.borrow_mut().insert(name.to_owned());
            None
        });
        let listed: BTreeSet<String> = VARIABLES.iter().map(|v| v.to_string()).collect();
        assert_eq!(asked.into_inner(), listed);
        assert_eq!(listed.len(), VARIABLES.len(), "VARIABLES has duplicates");
    }

    #[test]
    fn empty_and_blank_values_are_unset() {
        for &var in VARIABLES {
            for blank in ["", "   ", "\t"] {
                let (config, warnings) = parse(&[(var, blank)]);
                assert!(warnings.is_empty(), "{var}={blank:?}: {warnings:?}");
                assert_eq!(config, Config::default(), "{var}={blank:?}");
            }
        }
    }

    #[test]
    fn defaults_follow_the_specification() {
        let (config, warnings) = parse(&[]);
        assert!(warnings.is_empty());
        assert_eq!(config, Config::default());
        assert!(!config.sdk_disabled);
        assert_eq!(config.log_level, LogLevel::Info);
        assert_eq!(config.propagators, [Propagator::TraceContext, Propagator::Baggage]);
        for signal in Signal::ALL {
            let otlp = config.otlp(signal);
            assert_eq!(otlp.endpoint, "http://localhost:4317");
            assert_eq!(otlp.protocol, Protocol::Grpc);
            assert_eq!(otlp.timeout, Duration::from_secs(10));
            assert_eq!(otlp.compression, None);
            assert!(otlp.headers.is_empty() && !otlp.insecure && otlp.certificate.is_none());
            assert_eq!(config.exporters(signal), [Exporter::Otlp]);
        }
        assert_eq!(config.traces.sampler, Sampler::ParentBasedAlwaysOn);
        assert_eq!(
            config.traces.batch,
            BatchConfig {
                schedule_delay: Duration::from_millis(5000),
                export_timeout: Duration::from_millis(30000),
                max_queue_size: 2048,
                max_export_batch_size: 512,
            }
        );
        assert_eq!(config.logs.batch.schedule_delay, Duration::from_millis(1000));
        assert_eq!(config.logs.batch.max_export_batch_size, 512);
        assert_eq!(config.metrics.export_interval, Duration::from_secs(60));
        assert_eq!(config.metrics.export_timeout, Duration::from_secs(30));
        assert_eq!(config.traces.limits.attribute_count, 128);
        assert_eq!(config.traces.limits.attribute_value_length, None);
        assert_eq!(config.plugin.max_open_spans, wasmedge_otel_abi::limits::MAX_OPEN_SPANS);
        assert_eq!(config.plugin.exit_flush_timeout, Duration::from_secs(5));
    }

    #[test]
    fn signal_specific_options_win_over_generic_ones() {
        let config = clean(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://generic:4317"),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://traces:4317"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "a=generic,b=generic"),
            ("OTEL_EXPORTER_OTLP_METRICS_HEADERS", "c=metrics"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "2000"),
            ("OTEL_EXPORTER_OTLP_LOGS_TIMEOUT", "3000"),
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
            ("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "none"),
            ("OTEL_EXPORTER_OTLP_INSECURE", "true"),
            ("OTEL_EXPORTER_OTLP_METRICS_INSECURE", "false"),
            ("OTEL_EXPORTER_OTLP_CERTIFICATE", "/generic.pem"),
            ("OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE", "/logs.pem"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "http/protobuf"),
        ]);
        let (t, m, l) = (&config.traces.otlp, &config.metrics.otlp, &config.logs.otlp);
        assert_eq!((t.endpoint.as_str(), m.endpoint.as_str()), ("http://traces:4317", "http://generic:4317"));
        // The generic endpoint is OTLP/HTTP for logs, so it gets the logs path.
        assert_eq!(l.endpoint, "http://generic:4317/v1/logs");
        let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        assert_eq!(t.headers, [pair("a", "generic"), pair("b", "generic")]);
        assert_eq!(m.headers, [pair("c", "metrics")], "signal headers replace the generic ones");
        assert_eq!((t.timeout, l.timeout), (Duration::from_millis(2000), Duration::from_millis(3000)));
        assert_eq!((t.compression, m.compression), (None, Some(Compression::Gzip)));
        assert_eq!((t.insecure, m.insecure, l.insecure), (true, false, true));
        assert_eq!(t.certificate, Some(PathBuf::from("/generic.pem")));
        assert_eq!(l.certificate, Some(PathBuf::from("/logs.pem")));
        assert_eq!((t.protocol, l.protocol), (Protocol::Grpc, Protocol::HttpProtobuf));
    }

    #[test]
    fn a_bad_signal_value_falls_back_to_the_generic_one() {
        let (config, warning) = warned(
            &[("OTEL_EXPORTER_OTLP_TIMEOUT", "2000"), ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "2s")],
            "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
        );
        assert_eq!(config.traces.otlp.timeout, Duration::from_millis(2000));
        assert_eq!(warning.using, "2000");
        let (config, _) = warned(
            &[
                ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
                ("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/json"),
            ],
            "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
        );
        assert_eq!(config.metrics.otlp.protocol, Protocol::HttpProtobuf);
        assert_eq!(config.metrics.otlp.endpoint, "http://localhost:4318/v1/metrics");
    }

    #[test]
    fn a_bad_generic_value_is_reported_once_for_all_signals() {
        for (var, bad) in [
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "ftp://x"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "secret-without-key"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "-1"),
            ("OTEL_EXPORTER_OTLP_INSECURE", "1"),
        ] {
            warned(&[(var, bad)], var);
        }
    }

    #[test]
    fn http_endpoints_get_the_signal_path_when_generic() {
        let config = clean(&[
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector:4318"),
            ("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "https://logs.example.com/custom"),
        ]);
        assert_eq!(config.traces.otlp.endpoint, "https://collector:4318/v1/traces");
        assert_eq!(config.metrics.otlp.endpoint, "https://collector:4318/v1/metrics");
        assert_eq!(config.logs.otlp.endpoint, "https://logs.example.com/custom", "signal endpoint as is");

        let config = clean(&[
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://gateway/otlp/"),
        ]);
        assert_eq!(config.traces.otlp.endpoint, "http://gateway/otlp/v1/traces", "no double slash");

        let config = clean(&[("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf")]);
        assert_eq!(config.traces.otlp.endpoint, "http://localhost:4318/v1/traces");
        assert_eq!(config.metrics.otlp.endpoint, "http://localhost:4317");

        // gRPC never appends a path.
        let config = clean(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317/")]);
        assert_eq!(config.traces.otlp.endpoint, "http://collector:4317/");
    }

    #[test]
    fn endpoints_are_checked() {
        let config = clean(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317")]);
        assert_eq!(config.traces.otlp.endpoint_url(), "https://collector:4317");
        let config = clean(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317"),
            ("OTEL_EXPORTER_OTLP_INSECURE", "true"),
        ]);
        assert_eq!(config.traces.otlp.endpoint_url(), "http://collector:4317");
        let config = clean(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "https://c:4317"),
            ("OTEL_EXPORTER_OTLP_INSECURE", "true"),
        ]);
        assert_eq!(config.traces.otlp.endpoint_url(), "https://c:4317", "the scheme wins");

        for bad in ["http://", "http:///path", "unix:///tmp/sock", "http://a b"] {
            let (config, _) =
                warned(&[("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", bad)], "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
            assert_eq!(config.traces.otlp.endpoint, DEFAULT_GRPC_ENDPOINT, "{bad}");
        }
        // A schemeless endpoint is fine for the gRPC signals but not for an OTLP/HTTP one.
        let (config, warning) = warned(
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318"),
                ("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "http/protobuf"),
            ],
            "OTEL_EXPORTER_OTLP_ENDPOINT",
        );
        assert_eq!(config.traces.otlp.endpoint, "collector:4318");
        assert_eq!(config.logs.otlp.endpoint, "http://localhost:4318/v1/logs");
        assert_eq!(warning.using, "http://localhost:4318/v1/logs");
    }

    #[test]
    fn headers_are_percent_decoded() {
        let config = clean(&[(
            "OTEL_EXPORTER_OTLP_HEADERS",
            " Authorization = Bearer%20abc%3D%3D , x-team=a+b%2Cc,x-utf8=caf%C3%A9,x-empty=,",
        )]);
        let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        assert_eq!(
            config.traces.otlp.headers,
            [
                pair("Authorization", "Bearer abc=="),
                pair("x-team", "a+b,c"),
                pair("x-utf8", "café"),
                pair("x-empty", "")
            ]
        );
    }

    #[test]
    fn malformed_headers_are_skipped_without_leaking_values() {
        let (config, warning) = warned(
            &[(
                "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
                "api-key=s3cret,Bearer t0ken,bad key=v1,x=%zz,y=%0D%0Ainjected,z=%E9,ok=fine",
            )],
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
        );
        let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        assert_eq!(config.traces.otlp.headers, [pair("api-key", "s3cret"), pair("ok", "fine")]);
        let line = warning.to_string();
        for secret in ["s3cret", "t0ken", "v1", "injected", "fine"] {
            assert!(!line.contains(secret), "{line}");
        }
        for entry in ["entry 2", "entry 3", "entry 4", "entry 5", "entry 6"] {
            assert!(warning.reason.contains(entry), "{line}");
        }
        assert!(!warning.reason.contains("entry 7"), "{line}");
        assert_eq!(warning.using, "the well-formed headers (api-key, ok)");
        assert!(!format!("{config:?}").contains("s3cret"), "Debug must redact header values");
    }

    #[test]
    fn resource_attributes_are_decoded_or_discarded_whole() {
        let config = clean(&[("OTEL_RESOURCE_ATTRIBUTES", "service.name=a%20b, k%3D1 = v%2C2 ,plus=1+1,")]);
        let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        assert_eq!(
            config.resource_attributes,
            [pair("service.name", "a b"), pair("k=1", "v,2"), pair("plus", "1+1")]
        );
        for bad in ["a=1,b", "a=1,=2", "a=%4", "a=%FF"] {
            let (config, warning) = warned(&[("OTEL_RESOURCE_ATTRIBUTES", bad)], "OTEL_RESOURCE_ATTRIBUTES");
            assert!(config.resource_attributes.is_empty(), "{bad}");
            assert!(warning.reason.starts_with("entry "), "{warning}");
        }
        assert_eq!(parse_resource_attributes("x=1,y"), Err("entry 2 is not key=value".to_owned()));
    }

    #[test]
    fn batch_size_is_clamped_to_the_queue() {
        let (config, warning) = warned(
            &[("OTEL_BSP_MAX_QUEUE_SIZE", "100"), ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "200")],
            "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
        );
        assert_eq!(
            (config.traces.batch.max_queue_size, config.traces.batch.max_export_batch_size),
            (100, 100)
        );
        assert_eq!(warning.using, "100");
        let (config, _) =
            warned(&[("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "4096")], "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE");
        assert_eq!(config.logs.batch.max_export_batch_size, 2048);
        // The default batch size shrinks silently to a smaller queue.
        let config = clean(&[("OTEL_BSP_MAX_QUEUE_SIZE", "256")]);
        assert_eq!(config.traces.batch.max_export_batch_size, 256);
        let config = clean(&[("OTEL_BSP_MAX_QUEUE_SIZE", "256"), ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "256")]);
        assert_eq!(config.traces.batch.max_export_batch_size, 256);
    }

    #[test]
    fn exporter_lists() {
        let traces = |value: &str| parse(&[("OTEL_TRACES_EXPORTER", value)]);
        let (config, warnings) = traces("otlp, Console ,otlp");
        assert!(warnings.is_empty());
        assert_eq!(config.traces.exporters, [Exporter::Otlp, Exporter::Console]);
        assert_eq!(config.metrics.exporters, [Exporter::Otlp], "other signals keep their default");

        let (config, warning) =
            warned(&[("OTEL_TRACES_EXPORTER", "console,zipkin,foo")], "OTEL_TRACES_EXPORTER");
        assert_eq!(config.traces.exporters, [Exporter::Console]);
        assert!(
            warning.reason.contains("\"zipkin\" is not supported")
                && warning.reason.contains("\"foo\" is unknown")
        );
        assert_eq!(warning.using, "console");

        let (config, warning) = warned(&[("OTEL_TRACES_EXPORTER", "otlp,none")], "OTEL_TRACES_EXPORTER");
        assert!(config.traces.exporters.is_empty(), "none wins");
        assert_eq!(warning.using, "none");

        let (config, _) = warned(&[("OTEL_LOGS_EXPORTER", ",,")], "OTEL_LOGS_EXPORTER");
        assert_eq!(config.logs.exporters, [Exporter::Otlp]);
        assert!(clean(&[("OTEL_LOGS_EXPORTER", "NONE")]).logs.exporters.is_empty());
    }

    #[test]
    fn propagator_lists() {
        let config = clean(&[("OTEL_PROPAGATORS", "baggage,tracecontext,baggage")]);
        assert_eq!(config.propagators, [Propagator::Baggage, Propagator::TraceContext]);
        assert!(clean(&[("OTEL_PROPAGATORS", "none")]).propagators.is_empty());
        let (config, warning) = warned(&[("OTEL_PROPAGATORS", "tracecontext,b3multi")], "OTEL_PROPAGATORS");
        assert_eq!(config.propagators, [Propagator::TraceContext]);
        assert!(warning.reason.contains("not supported"), "{warning}");
    }

    #[test]
    fn samplers() {
        let sampler = |vars: &[(&str, &str)]| clean(vars).traces.sampler;
        assert_eq!(sampler(&[("OTEL_TRACES_SAMPLER", "ALWAYS_ON")]), Sampler::AlwaysOn);
        assert_eq!(
            sampler(&[("OTEL_TRACES_SAMPLER", "parentbased_always_off")]),
            Sampler::ParentBasedAlwaysOff
        );
        assert_eq!(
            sampler(&[("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"), ("OTEL_TRACES_SAMPLER_ARG", "0")]),
            Sampler::ParentBasedTraceIdRatio(0.0)
        );
        assert_eq!(sampler(&[("OTEL_TRACES_SAMPLER", "traceidratio")]), Sampler::TraceIdRatio(1.0));
        // The argument of a sampler that takes none is ignored, even when it is not a number.
        assert_eq!(
            sampler(&[("OTEL_TRACES_SAMPLER", "always_on"), ("OTEL_TRACES_SAMPLER_ARG", "x")]),
            Sampler::AlwaysOn
        );
        assert_eq!(sampler(&[("OTEL_TRACES_SAMPLER_ARG", "0.5")]), Sampler::ParentBasedAlwaysOn);
        for bad in ["-0.1", "NaN", "inf", "half"] {
            let (config, _) = warned(
                &[("OTEL_TRACES_SAMPLER", "traceidratio"), ("OTEL_TRACES_SAMPLER_ARG", bad)],
                "OTEL_TRACES_SAMPLER_ARG",
            );
            assert_eq!(config.traces.sampler, Sampler::TraceIdRatio(1.0), "{bad}");
        }
        let (_, warning) = warned(&[("OTEL_TRACES_SAMPLER", "jaeger_remote")], "OTEL_TRACES_SAMPLER");
        assert!(warning.reason.starts_with("not supported"), "{warning}");
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_integer("0"), Ok(0));
        assert_eq!(parse_integer("2147483647"), Ok(2147483647));
        assert_eq!(parse_integer("007"), Ok(7));
        for bad in ["2147483648", "99999999999999999999999", "-1", "+1", "1.0", "1_000", "0x10", "", "-"] {
            assert!(parse_integer(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_timeout("0"), Ok(INDEFINITE));
        assert!(parse_delay("0").is_err());
        let (config, warning) =
            warned(&[("OTEL_SPAN_EVENT_COUNT_LIMIT", "-1")], "OTEL_SPAN_EVENT_COUNT_LIMIT");
        assert_eq!(config.traces.limits.event_count, 128);
        assert_eq!(warning.reason, "negative values are not allowed");
    }

    #[test]
    fn model_limits_fall_back_to_the_general_ones() {
        let config =
            clean(&[("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "100"), ("OTEL_ATTRIBUTE_COUNT_LIMIT", "20")]);
        let limits = config.traces.limits;
        assert_eq!((limits.attribute_value_length, limits.attribute_count), (Some(100), 20));
        assert_eq!((limits.event_attribute_count, limits.link_attribute_count), (20, 20));
        assert_eq!((limits.event_count, limits.link_count), (128, 128), "not attribute limits");
        assert_eq!(
            config.logs.limits,
            LogRecordLimits { attribute_value_length: Some(100), attribute_count: 20 }
        );

        let config = clean(&[
            ("OTEL_ATTRIBUTE_COUNT_LIMIT", "20"),
            ("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "30"),
            ("OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT", "7"),
        ]);
        assert_eq!(config.traces.limits.attribute_count, 30);
        assert_eq!(config.logs.limits.attribute_count, 20);
        assert_eq!(config.logs.limits.attribute_value_length, Some(7));
        assert_eq!(config.traces.limits.attribute_value_length, None);

        let (config, warning) = warned(
            &[("OTEL_ATTRIBUTE_COUNT_LIMIT", "20"), ("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "lots")],
            "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT",
        );
        assert_eq!(config.traces.limits.attribute_count, 20);
        assert_eq!(warning.using, "20");
    }

    #[test]
    fn booleans() {
        for (value, expected) in
            [("true", true), ("TRUE", true), (" True ", true), ("false", false), ("FALSE", false)]
        {
            assert_eq!(clean(&[("OTEL_SDK_DISABLED", value)]).sdk_disabled, expected, "{value}");
        }
        for value in ["1", "yes", "on", "t"] {
            let (config, _) = warned(&[("OTEL_SDK_DISABLED", value)], "OTEL_SDK_DISABLED");
            assert!(!config.sdk_disabled, "{value}");
        }
        // A bad signal-specific boolean is false (the specification's rule), not the generic value.
        let (config, _) = warned(
            &[("OTEL_EXPORTER_OTLP_INSECURE", "true"), ("OTEL_EXPORTER_OTLP_TRACES_INSECURE", "yes")],
            "OTEL_EXPORTER_OTLP_TRACES_INSECURE",
        );
        assert!(!config.traces.otlp.insecure);
        assert!(config.metrics.otlp.insecure);
    }

    #[test]
    fn warning_format() {
        let (_, warning) = warned(&[("OTEL_BSP_SCHEDULE_DELAY", "-5")], "OTEL_BSP_SCHEDULE_DELAY");
        assert_eq!(
            warning.to_string(),
            "ignoring OTEL_BSP_SCHEDULE_DELAY=\"-5\": negative values are not allowed; using 5000"
        );
        let (_, warning) = warned(&[("OTEL_TRACES_EXPORTER", "jaeger")], "OTEL_TRACES_EXPORTER");
        assert_eq!(
            warning.to_string(),
            "ignoring OTEL_TRACES_EXPORTER=\"jaeger\": \"jaeger\" is unknown (accepted: otlp, console, none); \
             using otlp"
        );
        let (_, warning) = warned(&[("OTEL_EXPORTER_OTLP_TIMEOUT", "-1")], "OTEL_EXPORTER_OTLP_TIMEOUT");
        assert_eq!(warning.using, "10000");
        let (_, warning) = warned(
            &[("OTEL_EXPORTER_OTLP_TIMEOUT", "0"), ("OTEL_EXPORTER_OTLP_LOGS_TIMEOUT", "x")],
            "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT",
        );
        assert_eq!(warning.using, "0 (no limit)");
    }

    #[test]
    fn from_env_reads_the_process_environment() {
        temp_env::with_vars(
            [
                ("OTEL_TRACES_SAMPLER", Some("always_off")),
                ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", Some("http://from-env:4317")),
                ("OTEL_BSP_MAX_QUEUE_SIZE", Some("not-a-number")),
            ],
            || {
                let config = Config::from_env();
                assert_eq!(config.traces.sampler, Sampler::AlwaysOff);
                assert_eq!(config.traces.otlp.endpoint, "http://from-env:4317");
                assert_eq!(config.traces.batch.max_queue_size, 2048);
            },
        );
    }

    #[test]
    fn the_user_documentation_lists_every_variable() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/configuration.md");
        let doc = std::fs::read_to_string(path).expect("docs/configuration.md");
        for var in VARIABLES {
            assert!(doc.contains(&format!("`{var}`")), "docs/configuration.md does not mention `{var}`");
        }
    }
}
