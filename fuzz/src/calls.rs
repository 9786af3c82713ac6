//! The host-function table driven as a sequence of calls against one [`Instance`], over a small
//! guest memory whose bytes come from the input, with a model of what every call must do.
//!
//! # Input format
//!
//! ```text
//! byte 0    configuration: bits 0-2 open-span limit (1 2 3 4 8 16 64 4096); bit 3 parent-based
//!           sampler (else always-on); bits 4-5 the run's root context (1 a sampled remote parent,
//!           2 an unsampled one, else none); bit 6 value-length limits (span and log strings cut to
//!           3 characters, at most 2 log attributes); bit 7 functions shorter than an hour are
//!           not exported (else every frame is)
//! byte 1    memory: bits 0-1 size class (0 just the segments, 1 the segments and 8 * bits 3-7
//!           more bytes, 2 at least 64 KiB + 64 bytes, 3 no memory at all); bit 2 a metric reader
//!           that collects once at the end
//! byte 2    number of segments (mod 17)
//! segments  len:u16 LE then len bytes, laid out back to back from offset 16
//! calls     op:u8 (index into HOST_FUNCTIONS, mod its length), then one selector byte per
//!           parameter, read as `Role` says, sometimes followed by a raw 4- or 8-byte value;
//!           op 0xFF `count:u8` repeats the next call (count % 16 + 1) * 16 times
//! ```
//!
//! # Invariants checked after every call
//!
//! - no panic; the result is the ABI version, a handle (> 0), a byte count, or one of the
//!   statuses `docs/ABI.md` lists for that function (all from `Status::ALL`; never `INTERNAL`,
//!   which only the FFI layer's panic guard returns); a handle-returning call never returns 0;
//! - `span_current` is exactly the model's innermost open span (0 when none);
//! - `span_end` is `OK` exactly for a live handle, else `INVALID_HANDLE`; every span call that
//!   succeeds names a live span; starts never succeed with the open-span limit reached, and
//!   the number of open spans never exceeds it; a new span handle was never returned before and
//!   never equals an instrument or bound handle (and the other way round);
//! - metric records succeed only on handles `instrument_create`/`metric_bind` returned (a bound
//!   record on anything else is `INVALID_HANDLE`), and only with a value the instrument may take:
//!   its value type, finite, not negative on a counter or histogram; creating an instrument again
//!   (name compared case-insensitively) or binding the same buffer again returns the same handle,
//!   anything else a new one;
//! - `func_enter` is `OK`, or `LIMIT_EXCEEDED` exactly past 4096 traced frames; `func_exit` is
//!   `OK` exactly when a frame of that function is open;
//! - `log_emit` with a severity outside 0..=24 is `INVALID_ARGUMENT`;
//! - `span_traceparent`/`span_tracestate`: `INVALID_HANDLE` exactly for a non-zero handle that
//!   is not live; a traceparent is 55 bytes of a well-formed header, written only inside the
//!   guest's buffer, and 0 exactly when there is no context to propagate;
//! - guest memory is unchanged by every call except those two writes.
//!
//! # Invariants checked at the end
//!
//! `close()` returns the open spans plus the open traced frames, and paces them with the exit
//! flush (once every `FLUSH_EVERY`). With the always-on sampler every
//! span the model expects was exported exactly once (hand-started spans, and frames: exited,
//! unwound or closed, less exits dropped for the minimum duration), nothing else was; with the
//! parent-based sampler the exported spans are a subset. Each exported span has the expected
//! name, parent span id (and remote flag) and trace id, and no attribute key twice (on the span,
//! on each event, on each log record: the ABI says a key set again replaces its value); spans
//! ended at close carry
//! `wasmedge_otel.unfinished` and status error (unless the guest had set ok, which is final).
//! Log records are exported one per `OK` `log_emit`, with the trace context of the innermost open
//! span or frame (none outside them) and at most the configured number of attributes. Exported
//! histograms have finite, strictly increasing bounds.

use super::decoders::encode_attributes;
use super::Reader;
use opentelemetry::logs::{AnyValue, LoggerProvider as _};
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::{
    SpanId, Status as OtelStatus, TraceContextExt as _, TraceId, TracerProvider as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::logs::{InMemoryLogExporter, SdkLoggerProvider};
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{InMemorySpanExporter, Sampler, SdkTracerProvider, SpanData};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use wasmedge_otel::core::attributes;
use wasmedge_otel::core::functions::PlannedIdGenerator;
use wasmedge_otel::core::guest_mem::GuestMemory;
use wasmedge_otel::core::host::HOST_FUNCTIONS;
use wasmedge_otel::core::instance::{GuestSlice, Instance, InstanceLimits, TelemetrySetup, TelemetrySource};
use wasmedge_otel::core::propagation;
use wasmedge_otel::core::trace::{SpanFlush, UNFINISHED_ATTRIBUTE};
use wasmedge_otel::export::traces::MergeRepeatedKeys;
use wasmedge_otel_abi::limits::{MAX_BUFFER_LEN, MAX_FUNCTION_DEPTH};
use wasmedge_otel_abi::{Status, ValType, ABI_VERSION};

/// Whether a known, not yet fixed bug is to be tolerated, so a long fuzzing run can look past it:
/// `FUZZ_KNOWN=span-keys-twice,...`. Unset (as in `cargo test`), every invariant holds.
pub fn known(bug: &str) -> bool {
    static KNOWN: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    KNOWN
        .get_or_init(|| {
            std::env::var("FUZZ_KNOWN").unwrap_or_default().split(',').map(str::to_owned).collect()
        })
        .iter()
        .any(|k| k == bug)
}

/// Where the guest segments start in memory (the bytes below stay zero).
pub const SEGMENT_BASE: usize = 16;
/// Calls run per input at most (repeats included).
pub const MAX_CALLS: usize = 10_000;
/// An op byte that repeats the call after it: `REPEAT count:u8 op args`, run
/// `(count % 16 + 1) * 16` times with the same arguments (how an input reaches the 4096 open-span
/// and call-depth limits).
pub const REPEAT: u8 = 0xff;
/// Open-span limits selectable by the configuration byte.
pub const OPEN_SPAN_LIMITS: [usize; 8] = [1, 2, 3, 4, 8, 16, 64, 4096];
/// The remote root context of configurations with one (sampled; `-00` for the unsampled one).
pub const ROOT_TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
/// A traceparent is always this long.
pub const TRACEPARENT_LEN: usize = 55;

/// Statuses (beyond OK and results) `docs/ABI.md` documents, by function.
fn documented(name: &str) -> &'static [Status] {
    const OOB: Status = Status::OUT_OF_BOUNDS;
    const UTF8: Status = Status::INVALID_UTF8;
    const HANDLE: Status = Status::INVALID_HANDLE;
    const ARG: Status = Status::INVALID_ARGUMENT;
    const MAL: Status = Status::MALFORMED;
    const LIMIT: Status = Status::LIMIT_EXCEEDED;
    match name {
        "abi_version" | "span_current" => &[],
        "span_start" => &[OOB, UTF8, ARG, HANDLE, MAL, LIMIT],
        "span_end" => &[HANDLE],
        "span_set_attributes" | "span_add_event" | "span_record_exception" => {
            &[HANDLE, OOB, UTF8, MAL, LIMIT]
        }
        // docs/ABI.md lists OK, INVALID_HANDLE, INVALID_ARGUMENT, OUT_OF_BOUNDS, INVALID_UTF8;
        // a message longer than 64 KiB gets LIMIT_EXCEEDED, as every other buffer does (see the
        // regression seed `set-status-long-message`): reported as a documentation gap.
        "span_set_status" => &[HANDLE, ARG, OOB, UTF8, LIMIT],
        "instrument_create" => &[OOB, UTF8, ARG, MAL, LIMIT],
        "metric_record_i64" | "metric_record_f64" => &[HANDLE, ARG, OOB, UTF8, MAL, LIMIT],
        "metric_bind" => &[HANDLE, OOB, UTF8, MAL, LIMIT],
        "metric_bound_record_i64" | "metric_bound_record_f64" => &[HANDLE, ARG],
        "log_emit" => &[ARG, OOB, UTF8, MAL, LIMIT],
        "span_traceparent" | "span_tracestate" => &[HANDLE, OOB, LIMIT],
        "span_start_remote" => &[OOB, UTF8, ARG, MAL, LIMIT],
        "func_enter" => &[LIMIT],
        "func_exit" => &[ARG],
        "func_names" => &[OOB, UTF8, MAL, LIMIT],
        other => panic!("host function {other} has no documented statuses in the harness"),
    }
}

/// What a parameter means, from its name in the ABI crate; decides how its selector byte reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// `*_ptr`: a segment's offset (selector < 0x80), a special offset (< 0xC0), or raw u32.
    Ptr,
    /// `*_len`: the length of the segment named by the preceding pointer (< 0x60), that length
    /// -16..+15 (< 0x80), a special length (< 0xC0), or raw u32.
    Len,
    /// `span`/`parent`: a span handle seen (< 0x3e; 0x3f the newest, 0x3e the one before), any
    /// handle seen (< 0x80), a special or forged value (< 0xC0), or raw u64.
    Span,
    /// `instrument`: as `Span`, from instrument handles.
    Instrument,
    /// `bound`: as `Span`, from bound handles.
    Bound,
    /// `func_id`: 0..8 (< 0x80), special, or raw.
    FuncId,
    /// An enumeration (`kind`, `value_type`, `code`, `severity`): -2..30 (< 0x80), special, or raw.
    Enum,
    /// An `i64` measurement: -32..96, special, or raw.
    Int,
    /// An `f64` measurement: -8.0..24.0 in quarters, special (NaN, infinities, ...), or raw bits.
    Float,
}

impl Role {
    /// The role of a parameter.
    pub fn of(name: &str, ty: ValType) -> Role {
        match name {
            n if n.ends_with("_ptr") => Role::Ptr,
            n if n.ends_with("_len") => Role::Len,
            "span" | "parent" => Role::Span,
            "instrument" => Role::Instrument,
            "bound" => Role::Bound,
            "func_id" => Role::FuncId,
            "value" if ty == ValType::F64 => Role::Float,
            "value" => Role::Int,
            _ => Role::Enum,
        }
    }
}

const SPECIAL_I32: [i32; 12] = [0, 1, 2, 3, 4, 5, -1, -2, 24, 25, i32::MIN, i32::MAX];
const SPECIAL_I64: [i64; 10] = [0, -1, -2, 1, i64::MAX, i64::MIN, u32::MAX as i64, 1 << 32, 1 << 62, 1 << 24];
const SPECIAL_F64: [f64; 12] = [
    f64::NAN,
    -f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    -0.0,
    0.0,
    f64::MIN_POSITIVE,
    f64::MAX,
    f64::MIN,
    5e-324,
    1e300,
    -1.0,
];

/// The run's configuration, from the first input byte and the memory byte.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// Open spans allowed at once.
    pub max_open_spans: usize,
    /// Parent-based sampler (else always-on, which exports every span).
    pub parent_based: bool,
    /// The run's root context: `Some(sampled)` for a remote parent.
    pub root: Option<bool>,
    /// Value-length and log attribute-count limits.
    pub value_limits: bool,
    /// Frames shorter than an hour are dropped (else all are exported).
    pub long_min_duration: bool,
    /// A metric reader collecting at the end.
    pub metrics_reader: bool,
}

impl Config {
    /// Reads the configuration bytes.
    pub fn from_bytes(config: u8, memory: u8) -> Config {
        Config {
            max_open_spans: OPEN_SPAN_LIMITS[(config & 7) as usize],
            parent_based: config & 8 != 0,
            root: match (config >> 4) & 3 {
                1 => Some(true),
                2 => Some(false),
                _ => None,
            },
            value_limits: config & 0x40 != 0,
            long_min_duration: config & 0x80 != 0,
            metrics_reader: memory & 4 != 0,
        }
    }

    fn limits(&self) -> InstanceLimits {
        InstanceLimits {
            max_open_spans: self.max_open_spans,
            span_value_length: self.value_limits.then_some(3),
            log_value_length: self.value_limits.then_some(3),
            log_attribute_count: if self.value_limits { 2 } else { 128 },
            func_min_duration: if self.long_min_duration {
                Duration::from_secs(3600)
            } else {
                Duration::ZERO
            },
        }
    }

    fn root_traceparent(&self) -> Option<String> {
        self.root.map(|sampled| {
            if sampled {
                ROOT_TRACEPARENT.to_owned()
            } else {
                ROOT_TRACEPARENT.replace("-01", "-00")
            }
        })
    }
}

/// In-memory exporters of one run.
struct Telemetry {
    spans: InMemorySpanExporter,
    logs: InMemoryLogExporter,
    metrics: Option<(InMemoryMetricExporter, SdkMeterProvider)>,
    /// Times the exit flush ran.
    flushes: Arc<AtomicUsize>,
}

/// Spans ended at close between two exit flushes.
pub const FLUSH_EVERY: usize = 2;

/// Providers reused by every run on a thread (building them costs more than a short run):
/// tracer providers by sampler, with their exporters, a logger provider and a meter provider
/// without readers. Exporters are emptied before each run.
struct Shared {
    tracers: [(InMemorySpanExporter, SdkTracerProvider); 2],
    logs: InMemoryLogExporter,
    logger_provider: SdkLoggerProvider,
    meter_provider: SdkMeterProvider,
    roots: [Context; 3],
}

impl Shared {
    fn new() -> Self {
        let tracer = |sampler: Sampler| {
            let exporter = InMemorySpanExporter::default();
            let provider = SdkTracerProvider::builder()
                .with_id_generator(PlannedIdGenerator::default())
                .with_sampler(sampler)
                .with_simple_exporter(MergeRepeatedKeys(exporter.clone()))
                .build();
            (exporter, provider)
        };
        let logs = InMemoryLogExporter::default();
        let root = |tp: &str| propagation::extract(tp, "vendor=root").expect("the root traceparent is valid");
        Shared {
            tracers: [tracer(Sampler::AlwaysOn), tracer(Sampler::ParentBased(Box::new(Sampler::AlwaysOn)))],
            logger_provider: SdkLoggerProvider::builder().with_simple_exporter(logs.clone()).build(),
            logs,
            meter_provider: SdkMeterProvider::builder().build(),
            roots: [Context::new(), root(ROOT_TRACEPARENT), root(&ROOT_TRACEPARENT.replace("-01", "-00"))],
        }
    }
}

thread_local! {
    static SHARED: Shared = Shared::new();
}

fn telemetry(config: &Config) -> (Telemetry, TelemetrySource) {
    SHARED.with(|shared| {
        let (spans, tracer_provider) = shared.tracers[config.parent_based as usize].clone();
        spans.reset();
        shared.logs.reset();
        let metrics = config.metrics_reader.then(|| {
            let exporter = InMemoryMetricExporter::default();
            let reader = PeriodicReader::builder(exporter.clone()).build();
            (exporter, SdkMeterProvider::builder().with_reader(reader).build())
        });
        let meter_provider =
            metrics.as_ref().map_or_else(|| shared.meter_provider.clone(), |(_, p)| p.clone());
        let root = match config.root {
            None => shared.roots[0].clone(),
            Some(true) => shared.roots[1].clone(),
            Some(false) => shared.roots[2].clone(),
        };
        let logger_provider = shared.logger_provider.clone();
        let flushes = Arc::new(AtomicUsize::new(0));
        let counter = flushes.clone();
        let span_flush = SpanFlush {
            every: FLUSH_EVERY,
            flush: Arc::new(move || {
                counter.fetch_add(1, Ordering::Relaxed);
            }),
        };
        let source: TelemetrySource = Box::new(move || TelemetrySetup {
            tracer: tracer_provider.tracer("fuzz"),
            meter: meter_provider.meter("fuzz"),
            logger: logger_provider.logger("fuzz"),
            root: root.clone(),
            span_flush: span_flush.clone(),
        });
        (Telemetry { spans, logs: shared.logs.clone(), metrics, flushes }, source)
    })
}

/// A span context as the model knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Ids {
    trace: TraceId,
    span: SpanId,
    remote: bool,
}

/// The trace and span ids of a well-formed traceparent.
fn ids_of(traceparent: &str, remote: bool) -> Ids {
    let trace = TraceId::from_hex(&traceparent[3..35]).expect("trace id hex");
    let span = SpanId::from_hex(&traceparent[36..52]).expect("span id hex");
    Ids { trace, span, remote }
}

/// A context as the model knows it: its ids, or those of a frame the harness did not read (on a
/// configuration that drops short frames, reading them would count as taking the frame's
/// context, which keeps the frame).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ctx {
    Known(Ids),
    Frame,
}

/// One entry of the model's current-span stack.
#[derive(Clone, Debug)]
enum Open {
    /// A span by handle, and its index in `Model::expected`.
    Span(u64, Ids, usize),
    /// A traced frame: function id, index in `Model::expected`, ids if read, whether something
    /// took its context (a span started under it, a log record, a propagated traceparent).
    Frame {
        id: u32,
        index: usize,
        ids: Option<Ids>,
        taken: bool,
    },
    Untraced(u32),
}

/// What the model expects of one span in the export.
#[derive(Clone, Debug)]
struct Expected {
    /// Its span id, unless it is a frame whose ids were not read.
    span: Option<SpanId>,
    name: String,
    /// `None`: no parent.
    parent: Option<Ctx>,
    trace: Option<TraceId>,
    exported: bool,
    unfinished: bool,
    /// Strongest status set: 0 unset, 1 error, 2 ok (ok is final).
    status: u8,
    /// Attributes by key (encoded values), last value winning; `None` past the SDK's limit.
    attrs: Option<HashMap<String, Vec<u8>>>,
    /// Events added (`span_add_event`, `span_record_exception`).
    events: usize,
    /// A frame's function id.
    func: Option<u32>,
}

/// Attributes a span keeps at most (the SDK's default limit); past it the model stops comparing.
const SDK_MAX_ATTRIBUTES: usize = 128;

/// An attribute buffer the plugin accepted, as the model expects it on a span: decoded, values
/// cut when the configuration limits them, by key.
fn span_attrs(config: &Config, mem: &[u8], ptr: i64, len: i64) -> Vec<(String, Vec<u8>)> {
    let bytes = guest_bytes(mem, ptr as u32, len as u32).expect("an accepted buffer is in bounds");
    let mut kvs =
        attributes::decode(bytes, &mut attributes::KeyCache::default()).expect("an accepted buffer decodes");
    if config.value_limits {
        attributes::truncate_values(&mut kvs, 3);
    }
    kvs.into_iter()
        .map(|kv| (kv.key.to_string(), encode_attributes(&[KeyValue::new("", kv.value)])))
        .collect()
}

fn merge(into: &mut Option<HashMap<String, Vec<u8>>>, attrs: Vec<(String, Vec<u8>)>) {
    if let Some(map) = into {
        map.extend(attrs);
        if map.len() > SDK_MAX_ATTRIBUTES {
            *into = None;
        }
    }
}

/// A log record the model expects.
#[derive(Clone, Debug)]
struct ExpectedLog {
    context: Option<Ctx>,
    severity: i64,
    body: String,
}

/// The model of one instance.
#[derive(Default)]
struct Model {
    stack: Vec<Open>,
    /// Live span handles, and their index in `expected`.
    live: HashMap<u64, usize>,
    seen_spans: Vec<u64>,
    seen_span_set: HashSet<u64>,
    instruments: Vec<u64>,
    instrument_set: HashSet<u64>,
    bounds: Vec<u64>,
    bound_set: HashSet<u64>,
    /// Instrument specs (kind, value type, lowercase name, unit, description, boundaries).
    specs: HashMap<Vec<Vec<u8>>, u64>,
    /// Kind and value type of each instrument.
    kinds: HashMap<u64, (i64, i64)>,
    bindings: HashMap<(u64, Vec<u8>), u64>,
    bound_to: HashMap<u64, u64>,
    expected: Vec<Expected>,
    by_span: HashMap<SpanId, usize>,
    /// Expected log records, in order.
    logs: Vec<ExpectedLog>,
    names: HashMap<u32, String>,
    root: Option<Ids>,
    /// Traced frames on the stack.
    traced: usize,
}

impl Model {
    fn current_span(&self) -> u64 {
        self.stack
            .iter()
            .rev()
            .find_map(|o| match o {
                Open::Span(h, ..) => Some(*h),
                _ => None,
            })
            .unwrap_or(0)
    }

    /// The innermost open span or traced frame.
    fn current_context(&self) -> Option<Ctx> {
        self.stack.iter().rev().find_map(|o| match o {
            Open::Span(_, ids, _) => Some(Ctx::Known(*ids)),
            Open::Frame { ids, .. } => Some(ids.map_or(Ctx::Frame, Ctx::Known)),
            Open::Untraced(_) => None,
        })
    }

    /// The current context, or the run's root context.
    fn context_or_root(&self) -> Option<Ctx> {
        self.current_context().or(self.root.map(Ctx::Known))
    }

    /// Something referred to the current context: every open frame is then exported on exit,
    /// whatever its duration.
    fn take(&mut self) {
        for o in &mut self.stack {
            if let Open::Frame { taken, .. } = o {
                *taken = true;
            }
        }
    }

    fn push(&mut self, e: Expected) -> usize {
        if let Some(id) = e.span {
            assert!(self.by_span.insert(id, self.expected.len()).is_none(), "span id {id} reused");
        }
        self.expected.push(e);
        self.expected.len() - 1
    }

    fn traced_frames(&self) -> usize {
        self.traced
    }

    fn span_ids(&self, h: u64) -> Option<Ids> {
        self.stack.iter().find_map(|o| match o {
            Open::Span(x, ids, _) if *x == h => Some(*ids),
            _ => None,
        })
    }

    fn frame_name(&self, id: u32) -> String {
        self.names.get(&id).cloned().unwrap_or_else(|| format!("func[{id}]"))
    }
}

/// The model's own reading of a names table (all or nothing), for expected frame names.
pub fn parse_names_table(table: &[u8]) -> Option<Vec<(u32, String)>> {
    let mut r = Reader::new(table);
    let mut out = Vec::new();
    while !r.is_empty() {
        let id = r.u32()?;
        let len = r.u32()? as usize;
        let name = r.take(len);
        if name.len() != len {
            return None;
        }
        out.push((id, std::str::from_utf8(name).ok()?.to_owned()));
    }
    Some(out)
}

/// The model's own bounds check of a guest range, for reading back strings it needs.
fn guest_bytes(mem: &[u8], ptr: u32, len: u32) -> Option<&[u8]> {
    if len == 0 {
        return Some(&[]);
    }
    if len as usize > MAX_BUFFER_LEN {
        return None;
    }
    mem.get(ptr as usize..(ptr as usize).checked_add(len as usize)?)
}

/// Arguments being decoded for one call.
struct ArgReader<'a, 'r> {
    r: &'r mut Reader<'a>,
    segments: &'r [(u32, u32)],
    mem_size: u32,
    seg_end: u32,
    pending_len: u32,
}

impl ArgReader<'_, '_> {
    fn special_u32(&self, i: u8) -> u32 {
        let m = self.mem_size;
        let table = [
            0,
            1,
            m.wrapping_sub(1),
            m,
            m.wrapping_add(1),
            self.seg_end,
            0x7fff_ffff,
            0x8000_0000,
            u32::MAX,
            u32::MAX - 7,
            MAX_BUFFER_LEN as u32 - 1,
            MAX_BUFFER_LEN as u32,
            MAX_BUFFER_LEN as u32 + 1,
            SEGMENT_BASE as u32,
            TRACEPARENT_LEN as u32,
            TRACEPARENT_LEN as u32 - 1,
        ];
        table[i as usize % table.len()]
    }

    fn handle(&mut self, s: u8, own: &[u64], all: &[&[u64]]) -> Option<i64> {
        let last = own.last().copied().unwrap_or(1) as i64;
        Some(match s {
            // The newest and second newest of the parameter's own kind.
            0x3f | 0x3e => own.len().checked_sub(0x40 - s as usize).map_or(0, |i| own[i]) as i64,
            0..=0x3d => own.get(s as usize % own.len().max(1)).copied().unwrap_or(0) as i64,
            0x40..=0x7f => {
                let n: usize = all.iter().map(|p| p.len()).sum();
                let mut i = (s - 0x40) as usize % n.max(1);
                let mut pick = 0;
                for p in all {
                    if i < p.len() {
                        pick = p[i];
                        break;
                    }
                    i -= p.len();
                }
                pick as i64
            }
            0x80..=0x8f => SPECIAL_I64[(s - 0x80) as usize % SPECIAL_I64.len()],
            // Forgeries of the last handle: next index, other generation, sign bit, other tag.
            0x90..=0xbf => match s % 5 {
                0 => last.wrapping_add(1),
                1 => last ^ (1 << 24),
                2 => last | i64::MIN,
                3 => last ^ (1 << 48),
                _ => last.wrapping_sub(1),
            },
            _ => self.r.u64()? as i64,
        })
    }

    fn arg(&mut self, role: Role, ty: ValType, model: &Model) -> Option<i64> {
        let s = self.r.u8()?;
        let v = match role {
            Role::Ptr => match s {
                0..=0x7f => {
                    let (ptr, len) =
                        self.segments.get(s as usize % self.segments.len().max(1)).copied().unwrap_or((0, 0));
                    self.pending_len = len;
                    ptr as i64
                }
                0x80..=0xbf => {
                    self.pending_len = 0;
                    self.special_u32(s - 0x80) as i64
                }
                _ => {
                    self.pending_len = 0;
                    self.r.u32()? as i64
                }
            },
            Role::Len => match s {
                0..=0x5f => self.pending_len as i64,
                0x60..=0x7f => self.pending_len.wrapping_add((s as i32 - 0x70) as u32) as i64,
                0x80..=0xbf => self.special_u32(s - 0x80) as i64,
                _ => self.r.u32()? as i64,
            },
            Role::Span | Role::Instrument | Role::Bound => {
                let all: [&[u64]; 3] = [&model.seen_spans, &model.instruments, &model.bounds];
                let own: &[u64] = match role {
                    Role::Span => &model.seen_spans,
                    Role::Instrument => &model.instruments,
                    _ => &model.bounds,
                };
                self.handle(s, own, &all)?
            }
            Role::FuncId | Role::Enum => match s {
                0..=0x7f if role == Role::FuncId => (s % 8) as i64,
                0..=0x7f => (s % 32) as i64 - 2,
                0x80..=0xbf => SPECIAL_I32[(s - 0x80) as usize % SPECIAL_I32.len()] as i64,
                _ => self.r.u32()? as i64,
            },
            Role::Int => match s {
                0..=0x7f => s as i64 - 0x20,
                0x80..=0xbf => SPECIAL_I64[(s - 0x80) as usize % SPECIAL_I64.len()],
                _ => self.r.u64()? as i64,
            },
            Role::Float => match s {
                0..=0x7f => ((s as f64 - 32.0) * 0.25).to_bits() as i64,
                0x80..=0xbf => SPECIAL_F64[(s - 0x80) as usize % SPECIAL_F64.len()].to_bits() as i64,
                _ => self.r.u64()? as i64,
            },
        };
        // The FFI layer reads an i32 parameter as i32 and widens it, sign-extending.
        Some(if ty == ValType::I32 { v as i32 as i64 } else { v })
    }
}

/// What one input did: calls made, and calls that succeeded per host function.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    /// Calls made.
    pub calls: usize,
    /// Successful calls (`OK`, a handle, or a non-zero byte count), by index in `HOST_FUNCTIONS`.
    pub ok: Vec<usize>,
}

impl Stats {
    /// Adds another input's counts.
    pub fn add(&mut self, other: &Stats) {
        self.calls += other.calls;
        self.ok.resize(HOST_FUNCTIONS.len(), 0);
        for (a, b) in self.ok.iter_mut().zip(&other.ok) {
            *a += b;
        }
    }
}

/// Runs one input. Panics (with the broken invariant) on any failure.
pub fn run(data: &[u8]) {
    run_with(data, false);
}

/// Runs one input, printing every call and its result when `verbose`.
pub fn run_with(data: &[u8], verbose: bool) -> Stats {
    let mut stats = Stats { calls: 0, ok: vec![0; HOST_FUNCTIONS.len()] };
    let mut r = Reader::new(data);
    let (Some(config_byte), Some(memory_byte), Some(nseg)) = (r.u8(), r.u8(), r.u8()) else { return stats };
    let config = Config::from_bytes(config_byte, memory_byte);
    let mut segments_bytes = Vec::new();
    for _ in 0..nseg % 17 {
        let Some(len) = r.u16() else { break };
        segments_bytes.push(r.take(len as usize));
    }
    let mut segments = Vec::new();
    let mut end = SEGMENT_BASE;
    for s in &segments_bytes {
        segments.push((end as u32, s.len() as u32));
        end += s.len();
    }
    let mem_size = match memory_byte & 3 {
        0 => end,
        1 => end + 8 * (memory_byte >> 3) as usize,
        2 => end.max(MAX_BUFFER_LEN + 64),
        _ => 0,
    };
    let mut mem = vec![0u8; mem_size];
    if mem_size > 0 {
        for (s, (ptr, _)) in segments_bytes.iter().zip(&segments) {
            mem[*ptr as usize..*ptr as usize + s.len()].copy_from_slice(s);
        }
    }
    if verbose {
        eprintln!("config {config:?}, memory {mem_size} bytes, segments {segments:?}");
    }

    let (tel, source) = telemetry(&config);
    let inst = Instance::new(source, config.limits());
    let mut model = Model { root: config.root_traceparent().map(|tp| ids_of(&tp, true)), ..Model::default() };
    let mut scratch = vec![0u8; 64];
    while stats.calls < MAX_CALLS {
        let Some(mut op) = r.u8() else { break };
        let mut repeat = 1;
        if op == REPEAT {
            let (Some(count), Some(next)) = (r.u8(), r.u8()) else { break };
            (repeat, op) = (((count & 0x0f) as usize + 1) * 16, next);
        }
        let index = op as usize % HOST_FUNCTIONS.len();
        let (f, body) = HOST_FUNCTIONS[index];
        let mut args_reader = ArgReader {
            r: &mut r,
            segments: &segments,
            mem_size: mem_size as u32,
            seg_end: end as u32,
            pending_len: 0,
        };
        let mut args = Vec::with_capacity(f.params.len());
        for p in f.params {
            match args_reader.arg(Role::of(p.name, p.ty), p.ty, &model) {
                Some(v) => args.push(v),
                None => break,
            }
        }
        if args.len() < f.params.len() {
            break;
        }
        for _ in 0..repeat.min(MAX_CALLS - stats.calls) {
            let before = mem.clone();
            let result = body(&inst, &mut GuestMemory::new(&mut mem), &args);
            if verbose {
                eprintln!("#{} {}({args:?}) = {result}", stats.calls + 1, f.name);
            }
            check_call(f.name, &args, result, &config, &mut model, &before, &mem, &inst, &mut scratch);
            stats.calls += 1;
            if result > 0
                || result == 0 && !matches!(f.name, "span_traceparent" | "span_tracestate" | "span_current")
            {
                stats.ok[index] += 1;
            }
        }
    }
    finish(&config, &tel, &inst, &mut model);
    stats
}

fn status(result: i64) -> Option<Status> {
    let s = Status(i32::try_from(result).ok()?);
    Status::ALL.iter().any(|(known, _)| *known == s).then_some(s)
}

/// A measurement the plugin accepted: of the instrument's value type, finite, and not negative
/// on a counter or histogram (the SDK would otherwise drop it or corrupt the sums).
fn check_measurement(name: &str, (kind, value_type): (i64, i64), value: i64) {
    let float = name.ends_with("f64");
    assert_eq!(float, value_type == 1, "{name} accepted on an instrument of value type {value_type}");
    let monotonic = kind == 0 || kind == 2;
    if float {
        let v = f64::from_bits(value as u64);
        assert!(v.is_finite() && (!monotonic || v >= 0.0), "{name} accepted {v} on kind {kind}");
    } else {
        assert!(!monotonic || value >= 0, "{name} accepted {value} on kind {kind}");
    }
}

/// The span context of a live span, read back through `span_traceparent` (span 0: the current
/// context), with the model's memory untouched.
fn read_ids(inst: &Instance, scratch: &mut [u8], span: i64) -> Ids {
    let mut m = GuestMemory::new(scratch);
    let n = inst
        .span_traceparent(&mut m, span, GuestSlice { ptr: 0, len: 64 })
        .unwrap_or_else(|e| panic!("traceparent of live span {span:#x}: {e}"));
    assert_eq!(n, TRACEPARENT_LEN, "a live span has a traceparent");
    let tp = std::str::from_utf8(&scratch[..n]).expect("traceparent is ASCII");
    ids_of(tp, false)
}

#[allow(clippy::too_many_arguments)]
fn check_call(
    name: &str,
    a: &[i64],
    result: i64,
    config: &Config,
    model: &mut Model,
    before: &[u8],
    after: &[u8],
    inst: &Instance,
    scratch: &mut [u8],
) {
    let ok = result == 0;
    // The result's shape: a value for the two functions that never fail, else a documented
    // status, a handle or a byte count.
    match name {
        "abi_version" => assert_eq!(result, ABI_VERSION as i64, "abi_version"),
        "span_current" => {
            assert_eq!(result as u64, model.current_span(), "span_current is the innermost open span")
        }
        _ => {
            let returns_handle =
                matches!(name, "span_start" | "span_start_remote" | "instrument_create" | "metric_bind");
            let returns_count = matches!(name, "span_traceparent" | "span_tracestate");
            if returns_handle {
                assert_ne!(result, 0, "{name} returned handle 0");
            }
            if result < 0 || !(returns_handle || returns_count) {
                let s = status(result).unwrap_or_else(|| panic!("{name} returned {result}, not a status"));
                assert!(
                    s == Status::OK && !returns_handle || documented(name).contains(&s),
                    "{name} returned {:?} ({result}), which docs/ABI.md does not list for it",
                    s.name()
                );
            }
        }
    }
    // Only the two header writers may change guest memory, and only inside the guest's buffer.
    if matches!(name, "span_traceparent" | "span_tracestate") && result > 0 {
        let (ptr, len, n) = (a[1] as u32 as usize, a[2] as u32 as usize, result as usize);
        assert!(n <= len, "{name} wrote {n} bytes into a {len}-byte buffer");
        assert!(
            before[..ptr] == after[..ptr] && before[ptr + n..] == after[ptr + n..],
            "{name} wrote outside [{ptr}, {ptr}+{n})"
        );
    } else {
        assert!(before == after, "{name} changed guest memory");
    }

    let live = |h: i64| model.live.contains_key(&(h as u64));
    match name {
        "span_start" | "span_start_remote" => {
            if model.live.len() >= config.max_open_spans {
                assert!(result < 0, "{name} succeeded with {} spans open", model.live.len());
            }
            if name == "span_start" && a[3] != 0 && a[3] != -1 && !live(a[3]) {
                assert!(result < 0, "span_start with parent {:#x}, not live, succeeded", a[3]);
            }
            if result > 0 {
                let h = result as u64;
                assert!(model.seen_span_set.insert(h), "span handle {h:#x} returned twice");
                assert!(
                    !model.instrument_set.contains(&h) && !model.bound_set.contains(&h),
                    "span handle {h:#x} is also a metric handle"
                );
                let parent = if name == "span_start" {
                    match a[3] {
                        0 => {
                            let parent = model.context_or_root();
                            model.take();
                            parent
                        }
                        -1 => model.root.map(Ctx::Known),
                        p => model.span_ids(p as u64).map(Ctx::Known),
                    }
                } else {
                    // The model reads the headers back; an invalid traceparent means no remote parent.
                    let tp = guest_bytes(before, a[3] as u32, a[4] as u32).expect("start succeeded");
                    let ts = guest_bytes(before, a[5] as u32, a[6] as u32).expect("start succeeded");
                    let (tp, ts) = (std::str::from_utf8(tp).unwrap(), std::str::from_utf8(ts).unwrap());
                    match propagation::extract(tp, ts) {
                        Some(cx) => {
                            let sc = cx.span().span_context().clone();
                            Some(Ctx::Known(Ids { trace: sc.trace_id(), span: sc.span_id(), remote: true }))
                        }
                        None => model.root.map(Ctx::Known),
                    }
                };
                let name_bytes = guest_bytes(before, a[0] as u32, a[1] as u32).expect("start succeeded");
                let ids = read_ids(inst, scratch, h as i64);
                if let Some(Ctx::Known(p)) = parent {
                    assert_eq!(ids.trace, p.trace, "{name}: a child is in its parent's trace");
                }
                let (ap, al) = if name == "span_start" { (a[4], a[5]) } else { (a[7], a[8]) };
                let mut attrs = Some(HashMap::new());
                merge(&mut attrs, span_attrs(config, before, ap, al));
                let index = model.push(Expected {
                    span: Some(ids.span),
                    name: String::from_utf8(name_bytes.to_vec()).unwrap(),
                    parent,
                    trace: Some(ids.trace),
                    exported: true,
                    unfinished: false,
                    status: 0,
                    attrs,
                    events: 0,
                    func: None,
                });
                model.live.insert(h, index);
                model.seen_spans.push(h);
                model.stack.push(Open::Span(h, ids, index));
            }
        }
        "span_end" => {
            let expected = if live(a[0]) { Status::OK } else { Status::INVALID_HANDLE };
            assert_eq!(result, expected.0 as i64, "span_end({:#x})", a[0]);
            if ok {
                model.live.remove(&(a[0] as u64));
                let i = model.stack.iter().rposition(|o| matches!(o, Open::Span(h, ..) if *h == a[0] as u64));
                model.stack.remove(i.expect("a live span is on the stack"));
            }
        }
        "span_set_attributes" | "span_add_event" | "span_set_status" | "span_record_exception" => {
            assert!(!ok || live(a[0]), "{name} succeeded on a span that is not live ({:#x})", a[0]);
            if ok {
                let e = &mut model.expected[model.live[&(a[0] as u64)]];
                match name {
                    "span_set_attributes" => merge(&mut e.attrs, span_attrs(config, before, a[1], a[2])),
                    "span_set_status" => e.status = e.status.max([0, 2, 1][a[1] as usize]),
                    _ => e.events += 1,
                }
            }
        }
        "instrument_create" if result > 0 => {
            let h = result as u64;
            assert!(
                !model.seen_span_set.contains(&h) && !model.bound_set.contains(&h),
                "instrument handle {h:#x} collides"
            );
            // The same instrument (name compared case-insensitively) is the same handle, another
            // one a new handle.
            let text = |p: i64, l: i64| guest_bytes(before, p as u32, l as u32).expect("accepted").to_vec();
            let mut spec = vec![a[0].to_le_bytes().to_vec(), a[1].to_le_bytes().to_vec()];
            spec.push(text(a[2], a[3]).to_ascii_lowercase());
            spec.extend([text(a[4], a[5]), text(a[6], a[7]), text(a[8], a[9])]);
            match model.specs.get(&spec) {
                Some(old) => assert_eq!(*old, h, "instrument_create of an existing instrument"),
                None => {
                    assert!(!model.instrument_set.contains(&h), "a new instrument reuses handle {h:#x}");
                    model.specs.insert(spec, h);
                }
            }
            if model.instrument_set.insert(h) {
                model.instruments.push(h);
                model.kinds.insert(h, (a[0], a[1]));
            }
        }
        "metric_record_i64" | "metric_record_f64" => {
            assert!(!ok || model.instrument_set.contains(&(a[0] as u64)), "{name} succeeded on {:#x}", a[0]);
            if ok {
                check_measurement(name, model.kinds[&(a[0] as u64)], a[1]);
            }
        }
        "metric_bind" => {
            if !model.instrument_set.contains(&(a[0] as u64)) {
                assert!(result < 0, "metric_bind succeeded on {:#x}", a[0]);
            }
            if result > 0 {
                let h = result as u64;
                assert!(
                    !model.seen_span_set.contains(&h) && !model.instrument_set.contains(&h),
                    "bound handle {h:#x} collides"
                );
                // Binding the same instrument to the same buffer again is the same handle.
                let attrs = guest_bytes(before, a[1] as u32, a[2] as u32).expect("accepted").to_vec();
                match model.bindings.get(&(a[0] as u64, attrs.clone())) {
                    Some(old) => assert_eq!(*old, h, "metric_bind of an existing binding"),
                    None => {
                        assert!(!model.bound_set.contains(&h), "a new binding reuses handle {h:#x}");
                        model.bindings.insert((a[0] as u64, attrs), h);
                    }
                }
                if model.bound_set.insert(h) {
                    model.bounds.push(h);
                    model.bound_to.insert(h, a[0] as u64);
                }
            }
        }
        "metric_bound_record_i64" | "metric_bound_record_f64" if ok => {
            let instrument = model.bound_to[&(a[0] as u64)];
            check_measurement(name, model.kinds[&instrument], a[1]);
        }
        "metric_bound_record_i64" | "metric_bound_record_f64"
            if !model.bound_set.contains(&(a[0] as u64)) =>
        {
            assert_eq!(result, Status::INVALID_HANDLE.0 as i64, "{name} on {:#x}", a[0]);
        }
        "log_emit" => {
            if !(0..=24).contains(&a[0]) {
                assert_eq!(result, Status::INVALID_ARGUMENT.0 as i64, "log_emit severity {}", a[0]);
            }
            if ok {
                let body =
                    guest_bytes(before, a[1] as u32, a[2] as u32).expect("an accepted body is in bounds");
                model.logs.push(ExpectedLog {
                    context: model.current_context(),
                    severity: a[0],
                    body: String::from_utf8(body.to_vec()).expect("an accepted body is UTF-8"),
                });
                model.take();
            }
        }
        "span_traceparent" | "span_tracestate" => {
            if a[0] != 0 && !live(a[0]) {
                assert_eq!(result, Status::INVALID_HANDLE.0 as i64, "{name} of {:#x}", a[0]);
            }
            let want =
                if a[0] == 0 { model.context_or_root() } else { model.span_ids(a[0] as u64).map(Ctx::Known) };
            if name == "span_traceparent" {
                if result >= 0 {
                    assert_eq!(
                        result == 0,
                        want.is_none(),
                        "span_traceparent returns 0 exactly without a context"
                    );
                }
                if result > 0 {
                    assert_eq!(result as usize, TRACEPARENT_LEN);
                    let ptr = a[1] as u32 as usize;
                    let tp = std::str::from_utf8(&after[ptr..ptr + TRACEPARENT_LEN]).expect("ASCII header");
                    assert!(
                        propagation::extract(tp, "").is_some(),
                        "written traceparent {tp:?} is not valid"
                    );
                    if let Some(Ctx::Known(want)) = want {
                        let got = ids_of(tp, want.remote);
                        assert_eq!(got, want, "span_traceparent({:#x}) names another context", a[0]);
                    }
                }
            } else if result >= 0 && want.is_none() {
                assert_eq!(result, 0, "span_tracestate without a context");
            }
            if a[0] == 0 {
                model.take();
            }
        }
        "func_enter" => {
            let id = a[0] as i32 as u32;
            if model.traced_frames() >= MAX_FUNCTION_DEPTH {
                assert_eq!(result, Status::LIMIT_EXCEEDED.0 as i64, "func_enter past the depth limit");
                model.stack.push(Open::Untraced(id));
            } else {
                assert_eq!(result, 0, "func_enter");
                let parent = model.context_or_root();
                // Reading the frame's ids takes its context; harmless when every frame is exported.
                let ids = (!config.long_min_duration).then(|| read_ids(inst, scratch, 0));
                if let Some(ids) = ids {
                    match parent {
                        Some(Ctx::Known(p)) => {
                            assert_eq!(ids.trace, p.trace, "a frame is in its parent's trace")
                        }
                        Some(Ctx::Frame) => {}
                        None => assert!(ids.trace != TraceId::INVALID),
                    }
                    model.take();
                }
                let index = model.push(Expected {
                    span: ids.map(|i| i.span),
                    name: String::new(),
                    parent,
                    trace: ids.map(|i| i.trace),
                    exported: false,
                    unfinished: false,
                    status: 0,
                    attrs: None,
                    events: 0,
                    func: Some(id),
                });
                model.stack.push(Open::Frame { id, index, ids, taken: false });
                model.traced += 1;
            }
        }
        "func_exit" => {
            let id = a[0] as i32 as u32;
            let pos = model
                .stack
                .iter()
                .rposition(|o| matches!(o, Open::Frame { id: f, .. } | Open::Untraced(f) if *f == id));
            assert_eq!(ok, pos.is_some(), "func_exit({id}) = {result}");
            if let Some(pos) = pos {
                // Frames above it are unwound (exported as unfinished); hand-started spans stay.
                let mut i = model.stack.len();
                while i > pos + 1 {
                    i -= 1;
                    if !matches!(model.stack[i], Open::Span(..)) {
                        if let Open::Frame { id: f, index, .. } = model.stack.remove(i) {
                            model.traced -= 1;
                            let name = model.frame_name(f);
                            let e = &mut model.expected[index];
                            (e.name, e.exported, e.unfinished) = (name, true, true);
                        }
                    }
                }
                if let Open::Frame { id: f, index, taken, .. } = model.stack.remove(pos) {
                    model.traced -= 1;
                    let name = model.frame_name(f);
                    let e = &mut model.expected[index];
                    // A short frame is dropped, unless something took its context.
                    (e.name, e.exported) = (name, !config.long_min_duration || taken);
                }
            }
        }
        "func_names" if ok => {
            let table = guest_bytes(before, a[0] as u32, a[1] as u32).expect("func_names succeeded");
            let names = parse_names_table(table).expect("func_names accepted a table the model refuses");
            model.names.extend(names);
        }
        _ => {}
    }
    assert!(model.live.len() <= config.max_open_spans, "more spans open than the limit");
}

fn finish(config: &Config, tel: &Telemetry, inst: &Instance, model: &mut Model) {
    let closed = inst.close();
    let open_frames = model.traced_frames();
    assert_eq!(closed, model.live.len() + open_frames, "close() counts open spans and frames");
    assert_eq!(
        tel.flushes.load(Ordering::Relaxed),
        closed / FLUSH_EVERY,
        "close() flushes every {FLUSH_EVERY} spans"
    );
    for o in std::mem::take(&mut model.stack) {
        match o {
            Open::Span(_, _, index) => model.expected[index].unfinished = true,
            Open::Frame { id, index, .. } => {
                let name = model.frame_name(id);
                let e = &mut model.expected[index];
                (e.name, e.exported, e.unfinished) = (name, true, true);
            }
            Open::Untraced(_) => {}
        }
    }

    let spans = tel.spans.get_finished_spans().expect("finished spans");
    let mut seen = HashSet::new();
    // Frames whose ids the harness did not read are matched on what is known of them.
    let mut unread: Vec<usize> =
        (0..model.expected.len()).filter(|i| model.expected[*i].span.is_none()).collect();
    let parent_fits = |p: Option<Ctx>, s: &SpanData| match p {
        Some(Ctx::Known(p)) => s.parent_span_id == p.span && s.parent_span_is_remote == p.remote,
        Some(Ctx::Frame) => s.parent_span_id != SpanId::INVALID && !s.parent_span_is_remote,
        None => s.parent_span_id == SpanId::INVALID,
    };
    for s in &spans {
        let id = s.span_context.span_id();
        assert!(seen.insert(id), "span {id} exported twice");
        let index = match model.by_span.get(&id) {
            Some(i) => *i,
            None => {
                let func = s.attributes.iter().find(|kv| kv.key.as_str() == "wasm.function.index");
                let unfinished = s.attributes.iter().any(|kv| kv.key.as_str() == UNFINISHED_ATTRIBUTE);
                // A parent known by id is matched first: a frame-parent candidate would also fit.
                let fits = |i: &usize, frame_parent: bool| {
                    let e = &model.expected[*i];
                    e.exported
                        && func.map(|kv| kv.value.clone()) == e.func.map(|f| (f as i64).into())
                        && e.name == s.name
                        && e.unfinished == unfinished
                        && (e.parent == Some(Ctx::Frame)) == frame_parent
                        && parent_fits(e.parent, s)
                };
                let pos = unread
                    .iter()
                    .position(|i| fits(i, false))
                    .or_else(|| unread.iter().position(|i| fits(i, true)));
                let pos = pos
                    .unwrap_or_else(|| panic!("exported span {:?} ({id}) was not expected: {s:?}", s.name));
                unread.remove(pos)
            }
        };
        let e = &model.expected[index];
        assert!(e.exported, "span {:?} was exported but should have been dropped", s.name);
        assert_eq!(s.name, e.name, "exported span name");
        if let Some(trace) = e.trace {
            assert_eq!(s.span_context.trace_id(), trace, "span {:?} trace id", s.name);
        }
        assert!(
            parent_fits(e.parent, s),
            "span {:?} parent {:?}, expected {:?}",
            s.name,
            s.parent_span_id,
            e.parent
        );
        let mut keys = HashSet::new();
        for kv in &s.attributes {
            let first = keys.insert(kv.key.clone());
            assert!(
                first || known("span-keys-twice"),
                "span {:?} exports attribute {} twice: {:?}",
                s.name,
                kv.key,
                s.attributes
            );
        }
        for event in s.events.iter() {
            let mut keys = HashSet::new();
            for kv in &event.attributes {
                assert!(
                    keys.insert(kv.key.clone()),
                    "event {:?} of span {:?} exports attribute {} twice",
                    event.name,
                    s.name,
                    kv.key
                );
            }
        }
        if e.unfinished {
            let flag = s
                .attributes
                .iter()
                .any(|kv| kv.key.as_str() == UNFINISHED_ATTRIBUTE && kv.value == true.into());
            assert!(flag, "unfinished span {:?} lacks {UNFINISHED_ATTRIBUTE}", s.name);
        }
        // Ok is final; ending a span at close makes it an error otherwise.
        let status = if e.unfinished { e.status.max(1) } else { e.status };
        let got = match s.status {
            OtelStatus::Unset => 0,
            OtelStatus::Error { .. } => 1,
            OtelStatus::Ok => 2,
        };
        assert_eq!(got, status, "span {:?} status {:?}", s.name, s.status);
        assert_eq!(s.events.len() + s.events.dropped_count as usize, e.events, "span {:?} events", s.name);
        let mut exported: HashMap<String, Vec<u8>> = HashMap::new();
        for kv in s.attributes.iter().filter(|kv| kv.key.as_str() != UNFINISHED_ATTRIBUTE) {
            exported.insert(kv.key.to_string(), encode_attributes(&[KeyValue::new("", kv.value.clone())]));
        }
        if let Some(attrs) = &e.attrs {
            let mut attrs = attrs.clone();
            attrs.remove(UNFINISHED_ATTRIBUTE);
            assert!(exported == attrs, "span {:?} attributes {:?}", s.name, s.attributes);
        }
        if let Some(id) = e.func {
            let want = [
                ("code.function.name".to_owned(), encode_attributes(&[KeyValue::new("", e.name.clone())])),
                ("wasm.function.index".to_owned(), encode_attributes(&[KeyValue::new("", id as i64)])),
            ];
            assert!(
                want.iter().all(|(k, v)| exported.get(k) == Some(v)),
                "frame {:?} attributes {:?}",
                s.name,
                s.attributes
            );
        }
    }
    let want = model.expected.iter().filter(|e| e.exported).count();
    if config.parent_based {
        assert!(spans.len() <= want, "{} spans exported, at most {want} expected", spans.len());
    } else {
        assert_eq!(spans.len(), want, "always-on: every expected span is exported");
    }

    let logs = tel.logs.get_emitted_logs().expect("emitted logs");
    assert_eq!(logs.len(), model.logs.len(), "one record per successful log_emit");
    for (log, want) in logs.iter().zip(&model.logs) {
        let got = log.record.trace_context().map(|t| (t.trace_id, t.span_id));
        match want.context {
            Some(Ctx::Known(i)) => assert_eq!(got, Some((i.trace, i.span)), "log record trace context"),
            Some(Ctx::Frame) => assert!(got.is_some(), "a log record in a frame has its context"),
            None => assert_eq!(got, None, "a log record outside spans has no trace context"),
        }
        assert_eq!(
            log.record.severity_number().map(|s| s as i64),
            (want.severity != 0).then_some(want.severity),
            "severity"
        );
        assert_eq!(log.record.body(), Some(&AnyValue::String(want.body.clone().into())), "log body");
        let limit = if config.value_limits { 2 } else { 128 };
        assert!(log.record.attributes_iter().count() <= limit, "log attribute count limit");
        let mut keys = HashSet::new();
        for (k, _) in log.record.attributes_iter() {
            assert!(keys.insert(k.clone()), "log record exports attribute {k} twice");
        }
    }

    if let Some((exporter, provider)) = &tel.metrics {
        provider.shutdown().expect("meter provider shutdown");
        for rm in exporter.get_finished_metrics().expect("metrics") {
            for m in rm.scope_metrics().flat_map(|s| s.metrics()) {
                let bounds: Vec<Vec<f64>> = match m.data() {
                    AggregatedMetrics::F64(MetricData::Histogram(h)) => {
                        h.data_points().map(|p| p.bounds().collect()).collect()
                    }
                    AggregatedMetrics::U64(MetricData::Histogram(h)) => {
                        h.data_points().map(|p| p.bounds().collect()).collect()
                    }
                    _ => Vec::new(),
                };
                for b in bounds {
                    assert!(
                        b.iter().all(|v| v.is_finite()) && b.windows(2).all(|w| w[0] < w[1]),
                        "histogram bounds {b:?}"
                    );
                }
            }
        }
    }
}
