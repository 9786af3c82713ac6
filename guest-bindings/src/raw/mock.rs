//! An in-process stand-in for the plugin, used instead of the imports on non-`wasm32` targets.
//!
//! It lets code instrumented with this crate be unit-tested on the build machine: every call is
//! recorded with the exact bytes it passed, and it answers like a well-behaved host (handles of every
//! kind counting up from 1, the most recently started open span is the current one, arguments and
//! measurements validated as the ABI specifies and in the plugin's order, instrument names and units
//! checked against OpenTelemetry's rules, attribute buffers decoded, identical instruments (names
//! compared case-insensitively) and identical bindings deduplicated, log records stamped with the
//! current span). State is per thread, like one Wasm instance per thread; the guest's cached ABI check
//! is per thread too, so tests running in parallel do not interfere.
//!
//! Pointers passed to the raw functions are offsets into a simulated linear memory that
//! [`raw::ptr`](super::ptr) copies bytes into (and [`raw::with_out_buffer`](super::with_out_buffer)
//! copies back out of, for the functions that write).
//!
//! # Trace context
//!
//! Every span has a W3C trace context, with predictable ids: span ids are the span's handle
//! (`0000000000000001` for handle 1), and the `n`-th new trace of the thread has trace id `n`
//! (`00000000000000000000000000000001`). A span descends from its parent's context, else from the
//! root context set with [`set_root_context`] (like the `TRACEPARENT` of the `wasmedge` process), else
//! starts a new, sampled trace. `span_start_remote` parses `traceparent` as the plugin does (the SDK's
//! rules, and the field widths) and keeps only the sampled flag; an invalid `tracestate` becomes
//! empty, a valid one is re-joined without blanks, as the SDK does. Unlike the plugin, the mock keeps
//! unsampled spans like sampled ones: their `traceparent` ends in `-00`.
//!
//! ```
//! use wasmedge_otel_guest::{raw::mock, Span};
//!
//! mock::reset();
//! Span::start("work").end();
//! let calls = mock::take_calls();
//! assert!(matches!(&calls[1], mock::Call::SpanStart { name, .. } if name == "work"));
//! assert_eq!(calls[2], mock::Call::SpanEnd { span: 1, result: 0 });
//! ```
#![forbid(unsafe_code)]

use std::cell::RefCell;
use std::string::String;
use std::vec::Vec;

use crate::abi::{self, limits, wire, Status};

/// One recorded host call with its decoded arguments and the value the mock returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Call {
    /// `func_enter(func_id)`.
    FuncEnter {
        /// The function.
        func_id: i32,
    },
    /// `func_exit(func_id)`.
    FuncExit {
        /// The function.
        func_id: i32,
    },
    /// `func_names(table)`.
    FuncNames {
        /// The table's bytes.
        table: Vec<u8>,
        /// Returned status.
        result: i32,
    },
    /// `abi_version()`.
    AbiVersion {
        /// Returned version.
        result: i32,
    },
    /// `span_start(...)`.
    SpanStart {
        /// Span name (lossily decoded; empty if out of bounds).
        name: String,
        /// Span kind as passed.
        kind: i32,
        /// Parent as passed.
        parent: i64,
        /// The attribute buffer's exact bytes.
        attrs: Vec<u8>,
        /// Returned handle or status.
        result: i64,
    },
    /// `span_end(span)`.
    SpanEnd {
        /// Handle as passed.
        span: i64,
        /// Returned status.
        result: i32,
    },
    /// `span_set_attributes(...)`.
    SpanSetAttributes {
        /// Handle as passed.
        span: i64,
        /// The attribute buffer's exact bytes.
        attrs: Vec<u8>,
        /// Returned status.
        result: i32,
    },
    /// `span_add_event(...)`.
    SpanAddEvent {
        /// Handle as passed.
        span: i64,
        /// Event name.
        name: String,
        /// The attribute buffer's exact bytes.
        attrs: Vec<u8>,
        /// Returned status.
        result: i32,
    },
    /// `span_set_status(...)`.
    SpanSetStatus {
        /// Handle as passed.
        span: i64,
        /// Status code as passed.
        code: i32,
        /// Status message.
        message: String,
        /// Returned status.
        result: i32,
    },
    /// `span_record_exception(...)`.
    SpanRecordException {
        /// Handle as passed.
        span: i64,
        /// `exception.type`.
        ty: String,
        /// `exception.message`.
        message: String,
        /// The extra attribute buffer's exact bytes.
        attrs: Vec<u8>,
        /// Returned status.
        result: i32,
    },
    /// `span_current()`.
    SpanCurrent {
        /// Returned handle or 0.
        result: i64,
    },
    /// `instrument_create(...)`.
    InstrumentCreate {
        /// Instrument kind as passed.
        kind: i32,
        /// Value type as passed.
        value_type: i32,
        /// Instrument name.
        name: String,
        /// Unit.
        unit: String,
        /// Description.
        description: String,
        /// The boundaries buffer's exact bytes (little-endian `f64`s).
        boundaries: Vec<u8>,
        /// Returned handle or status.
        result: i64,
    },
    /// `metric_record_i64(...)`.
    MetricRecordI64 {
        /// Instrument handle as passed.
        instrument: i64,
        /// The value.
        value: i64,
        /// The attribute buffer's exact bytes.
        attrs: Vec<u8>,
        /// Returned status.
        result: i32,
    },
    /// `metric_record_f64(...)`.
    MetricRecordF64 {
        /// Instrument handle as passed.
        instrument: i64,
        /// The value's bits ([`f64::to_bits`]), so that every value, NaN included, compares exactly.
        bits: u64,
        /// The attribute buffer's exact bytes.
        attrs: Vec<u8>,
        /// Returned status.
        result: i32,
    },
    /// `metric_bind(...)`.
    MetricBind {
        /// Instrument handle as passed.
        instrument: i64,
        /// The attribute buffer's exact bytes.
        attrs: Vec<u8>,
        /// Returned bound handle or status.
        result: i64,
    },
    /// `metric_bound_record_i64(...)`.
    MetricBoundRecordI64 {
        /// Bound handle as passed.
        bound: i64,
        /// The value.
        value: i64,
        /// Returned status.
        result: i32,
    },
    /// `metric_bound_record_f64(...)`.
    MetricBoundRecordF64 {
        /// Bound handle as passed.
        bound: i64,
        /// The value's bits ([`f64::to_bits`]).
        bits: u64,
        /// Returned status.
        result: i32,
    },
    /// `log_emit(...)`.
    LogEmit {
        /// Severity number as passed.
        severity: i32,
        /// The body.
        body: String,
        /// The attribute buffer's exact bytes.
        attrs: Vec<u8>,
        /// The span current at the time of the call, whose trace id and span id the record carries
        /// (`0`: none open).
        span: i64,
        /// Returned status.
        result: i32,
    },
    /// `span_traceparent(...)`.
    SpanTraceparent {
        /// Handle as passed (`0`: the current span, else the root context).
        span: i64,
        /// The buffer length as passed.
        buf_len: i32,
        /// What the host wrote into the buffer (empty if nothing).
        written: String,
        /// Returned byte count or status.
        result: i32,
    },
    /// `span_tracestate(...)`.
    SpanTracestate {
        /// Handle as passed (`0`: the current span, else the root context).
        span: i64,
        /// The buffer length as passed.
        buf_len: i32,
        /// What the host wrote into the buffer (empty if nothing).
        written: String,
        /// Returned byte count or status.
        result: i32,
    },
    /// `span_start_remote(...)`.
    SpanStartRemote {
        /// Span name.
        name: String,
        /// Span kind as passed.
        kind: i32,
        /// The incoming `traceparent` as passed.
        traceparent: String,
        /// The incoming `tracestate` as passed.
        tracestate: String,
        /// The attribute buffer's exact bytes.
        attrs: Vec<u8>,
        /// Returned handle or status.
        result: i64,
    },
}

/// An attribute value decoded from a wire buffer by [`decode`].
#[derive(Clone, Debug, PartialEq)]
pub enum DecodedValue {
    /// [`wire::STRING`].
    Str(String),
    /// [`wire::BOOL`].
    Bool(bool),
    /// [`wire::I64`].
    I64(i64),
    /// [`wire::F64`].
    F64(f64),
    /// [`wire::STRING_ARRAY`].
    StrArray(Vec<String>),
    /// [`wire::BOOL_ARRAY`].
    BoolArray(Vec<bool>),
    /// [`wire::I64_ARRAY`].
    I64Array(Vec<i64>),
    /// [`wire::F64_ARRAY`].
    F64Array(Vec<f64>),
}

/// Decodes an attribute buffer as the plugin does: `MALFORMED` for a truncated buffer, an empty key,
/// an unknown tag or a bool byte other than 0/1, `INVALID_UTF8` for a bad key or string. (Repeated
/// keys are all returned; the host keeps the last.)
pub fn decode(mut buf: &[u8]) -> Result<Vec<(String, DecodedValue)>, Status> {
    fn take<'b>(buf: &mut &'b [u8], n: usize) -> Result<&'b [u8], Status> {
        if buf.len() < n {
            return Err(Status::MALFORMED);
        }
        let (head, rest) = buf.split_at(n);
        *buf = rest;
        Ok(head)
    }
    fn u32_(buf: &mut &[u8]) -> Result<usize, Status> {
        Ok(u32::from_le_bytes(take(buf, 4)?.try_into().unwrap()) as usize)
    }
    fn u64_(buf: &mut &[u8]) -> Result<[u8; 8], Status> {
        Ok(take(buf, 8)?.try_into().unwrap())
    }
    fn str_(buf: &mut &[u8]) -> Result<String, Status> {
        let n = u32_(buf)?;
        String::from_utf8(take(buf, n)?.to_vec()).map_err(|_| Status::INVALID_UTF8)
    }
    fn bool_(buf: &mut &[u8]) -> Result<bool, Status> {
        match take(buf, 1)?[0] {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(Status::MALFORMED),
        }
    }
    fn array<T>(
        buf: &mut &[u8],
        mut one: impl FnMut(&mut &[u8]) -> Result<T, Status>,
    ) -> Result<Vec<T>, Status> {
        let n = u32_(buf)?;
        (0..n).map(|_| one(buf)).collect()
    }
    let mut out = Vec::new();
    while !buf.is_empty() {
        let key = str_(&mut buf)?;
        if key.is_empty() {
            return Err(Status::MALFORMED);
        }
        let value = match take(&mut buf, 1)?[0] {
            wire::STRING => DecodedValue::Str(str_(&mut buf)?),
            wire::BOOL => DecodedValue::Bool(bool_(&mut buf)?),
            wire::I64 => DecodedValue::I64(i64::from_le_bytes(u64_(&mut buf)?)),
            wire::F64 => DecodedValue::F64(f64::from_le_bytes(u64_(&mut buf)?)),
            wire::STRING_ARRAY => DecodedValue::StrArray(array(&mut buf, str_)?),
            wire::BOOL_ARRAY => DecodedValue::BoolArray(array(&mut buf, bool_)?),
            wire::I64_ARRAY => DecodedValue::I64Array(array(&mut buf, |b| Ok(i64::from_le_bytes(u64_(b)?)))?),
            wire::F64_ARRAY => DecodedValue::F64Array(array(&mut buf, |b| Ok(f64::from_le_bytes(u64_(b)?)))?),
            _ => return Err(Status::MALFORMED),
        };
        out.push((key, value));
    }
    Ok(out)
}

/// A created instrument: what makes it identical to another, and its handle.
struct Instrument {
    kind: abi::InstrumentKind,
    value_type: abi::ValueType,
    name: Vec<u8>,
    unit: Vec<u8>,
    description: Vec<u8>,
    boundaries: Vec<u8>,
    handle: i64,
}

/// A measurement as passed to one of the record functions.
#[derive(Clone, Copy)]
enum Measurement {
    I64(i64),
    F64(f64),
}

/// A W3C trace context: what `span_traceparent` and `span_tracestate` write.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Context {
    trace_id: u128,
    span_id: u64,
    sampled: bool,
    /// Normalised `tracestate`, possibly empty.
    tracestate: String,
}

impl Context {
    fn traceparent(&self) -> String {
        std::format!("00-{:032x}-{:016x}-{:02x}", self.trace_id, self.span_id, u8::from(self.sampled))
    }

    /// Parses incoming headers as the plugin does; `None` for an invalid `traceparent`.
    fn parse(traceparent: &str, tracestate: &str) -> Option<Context> {
        let traceparent = traceparent.trim();
        let fields: Vec<&str> = traceparent.split('-').collect();
        let hex = |f: &str, width: usize| {
            f.len() == width && f.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        };
        let widths = fields.len() >= 4 && [2, 32, 16, 2].iter().zip(&fields).all(|(w, f)| hex(f, *w));
        if !widths || fields[0] == "ff" || (fields[0] == "00" && fields.len() != 4) {
            return None;
        }
        let trace_id = u128::from_str_radix(fields[1], 16).ok().filter(|&t| t != 0)?;
        let span_id = u64::from_str_radix(fields[2], 16).ok().filter(|&s| s != 0)?;
        let sampled = u8::from_str_radix(fields[3], 16).ok()? & 1 == 1;
        Some(Context { trace_id, span_id, sampled, tracestate: normalise_tracestate(tracestate) })
    }
}

/// A `tracestate` as the SDK keeps it: at most 32 members, blanks around them removed, empty ones
/// skipped, joined by `,`; empty when any member is invalid.
fn normalise_tracestate(tracestate: &str) -> String {
    let key_ok = |k: &str| {
        k.len() <= 256
            && k.bytes().next().is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            && k.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-*/@".contains(&b))
            && k.bytes().filter(|&b| b == b'@').count() <= 1
    };
    let mut members = Vec::new();
    for member in tracestate.split_terminator(',').take(32) {
        let member = member.trim_matches([' ', '\t']);
        if member.is_empty() {
            continue;
        }
        let Some((key, value)) = member.split_once('=') else { return String::new() };
        if !key_ok(key) || value.len() > 256 || value.contains('=') {
            return String::new();
        }
        members.push(member);
    }
    members.join(",")
}

/// An open span: its handle and trace context.
struct OpenSpan {
    handle: i64,
    context: Context,
}

struct Host {
    memory: Vec<u8>,
    calls: Vec<Call>,
    abi_version: i32,
    span_start_error: Option<Status>,
    instrument_create_error: Option<Status>,
    /// The next handle of any kind: no two objects share one, so using a handle of the wrong kind is
    /// always `INVALID_HANDLE`.
    next_handle: i64,
    /// Open spans in start order; the last one is the current span.
    open: Vec<OpenSpan>,
    /// The context a span without a local parent descends from (`TRACEPARENT` for the plugin).
    root: Option<Context>,
    /// Trace ids handed out so far.
    traces: u128,
    instruments: Vec<Instrument>,
    /// Bound handles, the index of their instrument in `instruments`, and the attribute bytes.
    bound: Vec<(i64, usize, Vec<u8>)>,
}

/// Offsets below this are never handed out, so that no placed buffer sits at address 0.
const MEMORY_BASE: usize = 16;

impl Host {
    const fn new() -> Host {
        Host {
            memory: Vec::new(),
            calls: Vec::new(),
            abi_version: abi::ABI_VERSION,
            span_start_error: None,
            instrument_create_error: None,
            next_handle: 1,
            open: Vec::new(),
            root: None,
            traces: 0,
            instruments: Vec::new(),
            bound: Vec::new(),
        }
    }

    fn new_handle(&mut self) -> i64 {
        let handle = self.next_handle;
        self.next_handle += 1;
        handle
    }

    fn read(&self, ptr: i32, len: i32) -> Result<&[u8], Status> {
        // Pointers are addresses in a 32-bit memory: an `i32` below zero is an address above 2 GiB.
        let start = (ptr as u32 as usize).wrapping_sub(MEMORY_BASE);
        // Lengths are unsigned too, as the plugin reads them.
        let len = len as u32 as usize;
        if len == 0 {
            return Ok(&[]);
        }
        if len > limits::MAX_BUFFER_LEN {
            return Err(Status::LIMIT_EXCEEDED);
        }
        self.memory
            .get(start..start.checked_add(len).ok_or(Status::OUT_OF_BOUNDS)?)
            .ok_or(Status::OUT_OF_BOUNDS)
    }

    /// Bytes for the call record: whatever lies in bounds, else nothing.
    fn bytes(&self, ptr: i32, len: i32) -> Vec<u8> {
        if len == 0 {
            return Vec::new();
        }
        self.read(ptr, len).map(<[u8]>::to_vec).unwrap_or_default()
    }

    fn text(&self, ptr: i32, len: i32) -> String {
        String::from_utf8_lossy(&self.bytes(ptr, len)).into_owned()
    }

    fn str_arg(&self, ptr: i32, len: i32) -> Result<(), Status> {
        if len == 0 {
            return Ok(());
        }
        core::str::from_utf8(self.read(ptr, len)?).map(drop).map_err(|_| Status::INVALID_UTF8)
    }

    fn attrs_arg(&self, ptr: i32, len: i32) -> Result<(), Status> {
        if len == 0 {
            return Ok(());
        }
        decode(self.read(ptr, len)?).map(drop)
    }

    fn span_arg(&self, span: i64) -> Result<&Context, Status> {
        self.open.iter().find(|s| s.handle == span).map(|s| &s.context).ok_or(Status::INVALID_HANDLE)
    }

    /// The context `span` names for `span_traceparent`: a span, or with `0` the current span, else the
    /// root context.
    fn context_for(&self, span: i64) -> Result<Option<&Context>, Status> {
        if span != 0 {
            return self.span_arg(span).map(Some);
        }
        Ok(self.open.last().map(|s| &s.context).or(self.root.as_ref()))
    }

    /// Opens a span with a fresh span id under `parent` (a new sampled trace if `None`).
    fn open_span(&mut self, parent: Option<Context>) -> i64 {
        let handle = self.new_handle();
        let context = match parent {
            Some(parent) => Context { span_id: handle as u64, ..parent },
            None => {
                self.traces += 1;
                Context {
                    trace_id: self.traces,
                    span_id: handle as u64,
                    sampled: true,
                    tracestate: String::new(),
                }
            }
        };
        self.open.push(OpenSpan { handle, context });
        handle
    }

    /// Writes `data` into the guest's buffer as the plugin does: the whole buffer must be in memory,
    /// and `data` must fit in it (else `LIMIT_EXCEEDED`, nothing written).
    fn write(&mut self, ptr: i32, len: i32, data: &[u8]) -> Result<(), Status> {
        let buf = self.read(ptr, len)?;
        if data.len() > buf.len() {
            return Err(Status::LIMIT_EXCEEDED);
        }
        let start = (ptr as u32 as usize).wrapping_sub(MEMORY_BASE);
        self.memory[start..start + data.len()].copy_from_slice(data);
        Ok(())
    }

    /// `span_traceparent` and `span_tracestate`: writes one header of a context.
    fn write_header(
        &mut self,
        span: i64,
        ptr: i32,
        len: i32,
        header: fn(&Context) -> String,
    ) -> (i32, String) {
        // As the plugin: with no context, 0 before the buffer is looked at; else the buffer is checked
        // even for an empty value.
        let value = match self.context_for(span) {
            Ok(Some(context)) => header(context),
            Ok(None) => return (0, String::new()),
            Err(status) => return (status.0, String::new()),
        };
        match self.write(ptr, len, value.as_bytes()) {
            Ok(()) => (value.len() as i32, value),
            Err(status) => (status.0, String::new()),
        }
    }

    /// The index of the instrument with handle `instrument`.
    fn instrument_arg(&self, instrument: i64) -> Result<usize, Status> {
        self.instruments.iter().position(|i| i.handle == instrument).ok_or(Status::INVALID_HANDLE)
    }

    /// Checks a measurement as the plugin does: of the instrument's value type, finite, and not
    /// negative on a counter or histogram.
    fn measurement_arg(&self, index: usize, value: Measurement) -> Result<(), Status> {
        use abi::InstrumentKind::{Counter, Histogram};
        let instrument = &self.instruments[index];
        let monotonic = matches!(instrument.kind, Counter | Histogram);
        let ok = match (instrument.value_type, value) {
            (abi::ValueType::I64, Measurement::I64(v)) => !(monotonic && v < 0),
            (abi::ValueType::F64, Measurement::F64(v)) => v.is_finite() && !(monotonic && v < 0.0),
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(Status::INVALID_ARGUMENT)
        }
    }

    /// Checks a boundaries buffer as the plugin does: only for histograms, whole `f64`s, at most
    /// [`limits::MAX_HISTOGRAM_BOUNDARIES`], finite and strictly increasing.
    fn boundaries_arg(&self, kind: abi::InstrumentKind, ptr: i32, len: i32) -> Result<Vec<u8>, Status> {
        let bytes = self.read(ptr, len)?;
        if bytes.is_empty() {
            return Ok(Vec::new());
        }
        if kind != abi::InstrumentKind::Histogram {
            return Err(Status::INVALID_ARGUMENT);
        }
        if bytes.len() % 8 != 0 {
            return Err(Status::MALFORMED);
        }
        if bytes.len() / 8 > limits::MAX_HISTOGRAM_BOUNDARIES {
            return Err(Status::LIMIT_EXCEEDED);
        }
        let values: Vec<f64> =
            bytes.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().unwrap())).collect();
        if values.iter().any(|v| !v.is_finite()) || values.windows(2).any(|w| w[0] >= w[1]) {
            return Err(Status::INVALID_ARGUMENT);
        }
        Ok(bytes.to_vec())
    }

    /// `metric_record_*`: attributes, then the handle, then the value.
    fn record(&self, instrument: i64, value: Measurement, attrs_ptr: i32, attrs_len: i32) -> i32 {
        code((|| {
            self.attrs_arg(attrs_ptr, attrs_len)?;
            let index = self.instrument_arg(instrument)?;
            self.measurement_arg(index, value)
        })())
    }

    /// `metric_bound_record_*`: the handle, then the value.
    fn bound_record(&self, bound: i64, value: Measurement) -> i32 {
        code((|| {
            let &(_, index, _) =
                self.bound.iter().find(|(b, ..)| *b == bound).ok_or(Status::INVALID_HANDLE)?;
            self.measurement_arg(index, value)
        })())
    }
}

std::thread_local! {
    static HOST: RefCell<Host> = const { RefCell::new(Host::new()) };
}

fn with<R>(f: impl FnOnce(&mut Host) -> R) -> R {
    HOST.with(|h| f(&mut h.borrow_mut()))
}

fn code(r: Result<(), Status>) -> i32 {
    match r {
        Ok(()) => 0,
        Err(s) => s.0,
    }
}

/// Forgets all calls, spans and settings of this thread's mock host, and the guest's cached ABI check.
pub fn reset() {
    with(|h| *h = Host::new());
    crate::api::reset_abi_cache();
}

/// Makes `abi_version()` return `version` (default [`abi::ABI_VERSION`]). Takes effect for the guest's
/// ABI check only before it has run, e.g. right after [`reset`].
pub fn set_abi_version(version: i32) {
    with(|h| h.abi_version = version);
}

/// Makes every `span_start` that would succeed fail with `status` instead (`None` restores success).
pub fn fail_span_start(status: Option<Status>) {
    with(|h| h.span_start_error = status);
}

/// Makes every `instrument_create` that would succeed fail with `status` instead (`None` restores
/// success).
pub fn fail_instrument_create(status: Option<Status>) {
    with(|h| h.instrument_create_error = status);
}

/// Sets the root context a span without a local parent descends from, as `TRACEPARENT` and `TRACESTATE`
/// do for the plugin. Returns `false` (and clears the root context) if `traceparent` is invalid.
pub fn set_root_context(traceparent: &str, tracestate: &str) -> bool {
    with(|h| {
        h.root = Context::parse(traceparent, tracestate);
        h.root.is_some()
    })
}

/// Returns and forgets the calls recorded so far, oldest first.
pub fn take_calls() -> Vec<Call> {
    with(|h| core::mem::take(&mut h.calls))
}

/// Handles of the spans started and not yet ended, in start order.
pub fn open_spans() -> Vec<i64> {
    with(|h| h.open.iter().map(|s| s.handle).collect())
}

/// Copies `bytes` into the simulated linear memory and returns their address there.
pub(super) fn place(bytes: &[u8]) -> i32 {
    with(|h| {
        let at = h.memory.len() + MEMORY_BASE;
        h.memory.extend_from_slice(bytes);
        at as i32
    })
}

/// Copies the simulated linear memory at `at` into `out` (as far as it lies in memory).
pub(super) fn copy_out(at: i32, out: &mut [u8]) {
    with(|h| {
        if let Ok(bytes) = h.read(at, out.len() as i32) {
            out.copy_from_slice(bytes);
        }
    })
}

/// Copies `values` into the simulated linear memory as little-endian `f64`s, as they lie in `wasm32`
/// memory, and returns their address there.
pub(super) fn place_f64s(values: &[f64]) -> i32 {
    place(&values.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>())
}

pub(super) fn abi_version() -> i32 {
    with(|h| {
        let result = h.abi_version;
        h.calls.push(Call::AbiVersion { result });
        result
    })
}

pub(super) fn span_start(
    name_ptr: i32,
    name_len: i32,
    kind: i32,
    parent: i64,
    attrs_ptr: i32,
    attrs_len: i32,
) -> i64 {
    with(|h| {
        let check = (|| {
            if abi::SpanKind::from_i32(kind).is_none() {
                return Err(Status::INVALID_ARGUMENT);
            }
            let context = match parent {
                abi::PARENT_CURRENT => h.open.last().map(|s| &s.context).or(h.root.as_ref()),
                abi::PARENT_NONE => h.root.as_ref(),
                handle => Some(h.span_arg(handle)?),
            };
            let context = context.cloned();
            h.str_arg(name_ptr, name_len)?;
            h.attrs_arg(attrs_ptr, attrs_len)?;
            if h.open.len() >= limits::MAX_OPEN_SPANS {
                return Err(Status::LIMIT_EXCEEDED);
            }
            h.span_start_error.map_or(Ok(context), Err)
        })();
        let result = match check {
            Ok(context) => h.open_span(context),
            Err(s) => i64::from(s.0),
        };
        let call = Call::SpanStart {
            name: h.text(name_ptr, name_len),
            kind,
            parent,
            attrs: h.bytes(attrs_ptr, attrs_len),
            result,
        };
        h.calls.push(call);
        result
    })
}

pub(super) fn span_end(span: i64) -> i32 {
    with(|h| {
        let result = code(h.span_arg(span).map(drop));
        h.open.retain(|s| s.handle != span);
        h.calls.push(Call::SpanEnd { span, result });
        result
    })
}

pub(super) fn span_set_attributes(span: i64, attrs_ptr: i32, attrs_len: i32) -> i32 {
    with(|h| {
        let result = code(h.span_arg(span).and_then(|_| h.attrs_arg(attrs_ptr, attrs_len)));
        let call = Call::SpanSetAttributes { span, attrs: h.bytes(attrs_ptr, attrs_len), result };
        h.calls.push(call);
        result
    })
}

pub(super) fn span_add_event(span: i64, name_ptr: i32, name_len: i32, attrs_ptr: i32, attrs_len: i32) -> i32 {
    with(|h| {
        let result = code((|| {
            h.span_arg(span)?;
            h.str_arg(name_ptr, name_len)?;
            h.attrs_arg(attrs_ptr, attrs_len)
        })());
        let call = Call::SpanAddEvent {
            span,
            name: h.text(name_ptr, name_len),
            attrs: h.bytes(attrs_ptr, attrs_len),
            result,
        };
        h.calls.push(call);
        result
    })
}

pub(super) fn span_set_status(span: i64, code_: i32, msg_ptr: i32, msg_len: i32) -> i32 {
    with(|h| {
        let result = code((|| {
            h.span_arg(span)?;
            if abi::StatusCode::from_i32(code_).is_none() {
                return Err(Status::INVALID_ARGUMENT);
            }
            h.str_arg(msg_ptr, msg_len)
        })());
        let call = Call::SpanSetStatus { span, code: code_, message: h.text(msg_ptr, msg_len), result };
        h.calls.push(call);
        result
    })
}

pub(super) fn span_record_exception(
    span: i64,
    type_ptr: i32,
    type_len: i32,
    msg_ptr: i32,
    msg_len: i32,
    attrs_ptr: i32,
    attrs_len: i32,
) -> i32 {
    with(|h| {
        let result = code((|| {
            h.span_arg(span)?;
            h.str_arg(type_ptr, type_len)?;
            h.str_arg(msg_ptr, msg_len)?;
            h.attrs_arg(attrs_ptr, attrs_len)
        })());
        let call = Call::SpanRecordException {
            span,
            ty: h.text(type_ptr, type_len),
            message: h.text(msg_ptr, msg_len),
            attrs: h.bytes(attrs_ptr, attrs_len),
            result,
        };
        h.calls.push(call);
        result
    })
}

pub(super) fn span_current() -> i64 {
    with(|h| {
        let result = h.open.last().map_or(0, |s| s.handle);
        h.calls.push(Call::SpanCurrent { result });
        result
    })
}

#[allow(clippy::too_many_arguments)]
pub(super) fn instrument_create(
    kind: i32,
    value_type: i32,
    name_ptr: i32,
    name_len: i32,
    unit_ptr: i32,
    unit_len: i32,
    desc_ptr: i32,
    desc_len: i32,
    bounds_ptr: i32,
    bounds_len: i32,
) -> i64 {
    with(|h| {
        // In the plugin's order: enumerations, name, unit, their rules, description, boundaries, then
        // the same instrument or a new one.
        let check = (|| {
            let kind = abi::InstrumentKind::from_i32(kind).ok_or(Status::INVALID_ARGUMENT)?;
            let value_type = abi::ValueType::from_i32(value_type).ok_or(Status::INVALID_ARGUMENT)?;
            h.str_arg(name_ptr, name_len)?;
            h.str_arg(unit_ptr, unit_len)?;
            name_and_unit_arg(&h.bytes(name_ptr, name_len), &h.bytes(unit_ptr, unit_len))?;
            h.str_arg(desc_ptr, desc_len)?;
            let instrument = Instrument {
                kind,
                value_type,
                name: h.bytes(name_ptr, name_len),
                unit: h.bytes(unit_ptr, unit_len),
                description: h.bytes(desc_ptr, desc_len),
                boundaries: h.boundaries_arg(kind, bounds_ptr, bounds_len)?,
                handle: 0,
            };
            // Names compare case-insensitively, as the OpenTelemetry API specifies.
            let same = |i: &&Instrument| {
                (i.kind, i.value_type, &i.unit, &i.description, &i.boundaries)
                    == (kind, value_type, &instrument.unit, &instrument.description, &instrument.boundaries)
                    && i.name.eq_ignore_ascii_case(&instrument.name)
            };
            if let Some(existing) = h.instruments.iter().find(same) {
                return Ok(existing.handle);
            }
            if h.instruments.len() >= limits::MAX_INSTRUMENTS {
                return Err(Status::LIMIT_EXCEEDED);
            }
            if let Some(status) = h.instrument_create_error {
                return Err(status);
            }
            let handle = h.new_handle();
            h.instruments.push(Instrument { handle, ..instrument });
            Ok(handle)
        })();
        let result = check.unwrap_or_else(|s| i64::from(s.0));
        let call = Call::InstrumentCreate {
            kind,
            value_type,
            name: h.text(name_ptr, name_len),
            unit: h.text(unit_ptr, unit_len),
            description: h.text(desc_ptr, desc_len),
            boundaries: h.bytes(bounds_ptr, bounds_len),
            result,
        };
        h.calls.push(call);
        result
    })
}

pub(super) fn metric_record_i64(instrument: i64, value: i64, attrs_ptr: i32, attrs_len: i32) -> i32 {
    with(|h| {
        let result = h.record(instrument, Measurement::I64(value), attrs_ptr, attrs_len);
        let call = Call::MetricRecordI64 { instrument, value, attrs: h.bytes(attrs_ptr, attrs_len), result };
        h.calls.push(call);
        result
    })
}

pub(super) fn metric_record_f64(instrument: i64, value: f64, attrs_ptr: i32, attrs_len: i32) -> i32 {
    with(|h| {
        let result = h.record(instrument, Measurement::F64(value), attrs_ptr, attrs_len);
        let bits = value.to_bits();
        let call = Call::MetricRecordF64 { instrument, bits, attrs: h.bytes(attrs_ptr, attrs_len), result };
        h.calls.push(call);
        result
    })
}

pub(super) fn metric_bind(instrument: i64, attrs_ptr: i32, attrs_len: i32) -> i64 {
    with(|h| {
        let check = (|| {
            h.attrs_arg(attrs_ptr, attrs_len)?;
            let index = h.instrument_arg(instrument)?;
            // The same instrument bound to the same attribute bytes again: the same handle.
            let attrs = h.bytes(attrs_ptr, attrs_len);
            if let Some((bound, ..)) = h.bound.iter().find(|(_, i, a)| *i == index && *a == attrs) {
                return Ok(*bound);
            }
            if h.bound.len() >= limits::MAX_BOUND_INSTRUMENTS {
                return Err(Status::LIMIT_EXCEEDED);
            }
            let handle = h.new_handle();
            h.bound.push((handle, index, attrs));
            Ok(handle)
        })();
        let result = check.unwrap_or_else(|s| i64::from(s.0));
        h.calls.push(Call::MetricBind { instrument, attrs: h.bytes(attrs_ptr, attrs_len), result });
        result
    })
}

pub(super) fn metric_bound_record_i64(bound: i64, value: i64) -> i32 {
    with(|h| {
        let result = h.bound_record(bound, Measurement::I64(value));
        h.calls.push(Call::MetricBoundRecordI64 { bound, value, result });
        result
    })
}

pub(super) fn metric_bound_record_f64(bound: i64, value: f64) -> i32 {
    with(|h| {
        let result = h.bound_record(bound, Measurement::F64(value));
        h.calls.push(Call::MetricBoundRecordF64 { bound, bits: value.to_bits(), result });
        result
    })
}

pub(super) fn log_emit(severity: i32, body_ptr: i32, body_len: i32, attrs_ptr: i32, attrs_len: i32) -> i32 {
    with(|h| {
        let result = code((|| {
            if !(0..=abi::severity::MAX).contains(&severity) {
                return Err(Status::INVALID_ARGUMENT);
            }
            h.str_arg(body_ptr, body_len)?;
            h.attrs_arg(attrs_ptr, attrs_len)
        })());
        let call = Call::LogEmit {
            severity,
            body: h.text(body_ptr, body_len),
            attrs: h.bytes(attrs_ptr, attrs_len),
            span: h.open.last().map_or(0, |s| s.handle),
            result,
        };
        h.calls.push(call);
        result
    })
}

/// Checks an instrument name and unit against OpenTelemetry's API rules, as the plugin does: a name of
/// 1 to 255 characters, an ASCII letter then ASCII letters, digits, `_`, `.`, `-` or `/`; a unit of at
/// most 63 ASCII characters.
fn name_and_unit_arg(name: &[u8], unit: &[u8]) -> Result<(), Status> {
    let name_ok = name.first().is_some_and(u8::is_ascii_alphabetic)
        && name.iter().all(|&b| b.is_ascii_alphanumeric() || b"_.-/".contains(&b))
        && name.len() <= 255;
    if name_ok && unit.len() <= 63 && unit.is_ascii() {
        Ok(())
    } else {
        Err(Status::INVALID_ARGUMENT)
    }
}

pub(super) fn span_traceparent(span: i64, buf_ptr: i32, buf_len: i32) -> i32 {
    with(|h| {
        let (result, written) = h.write_header(span, buf_ptr, buf_len, Context::traceparent);
        h.calls.push(Call::SpanTraceparent { span, buf_len, written, result });
        result
    })
}

pub(super) fn span_tracestate(span: i64, buf_ptr: i32, buf_len: i32) -> i32 {
    with(|h| {
        let (result, written) = h.write_header(span, buf_ptr, buf_len, |c| c.tracestate.clone());
        h.calls.push(Call::SpanTracestate { span, buf_len, written, result });
        result
    })
}

#[allow(clippy::too_many_arguments)]
pub(super) fn span_start_remote(
    name_ptr: i32,
    name_len: i32,
    kind: i32,
    traceparent_ptr: i32,
    traceparent_len: i32,
    tracestate_ptr: i32,
    tracestate_len: i32,
    attrs_ptr: i32,
    attrs_len: i32,
) -> i64 {
    with(|h| {
        // In the plugin's order: name, kind, the two headers, attributes, then the open-span limit.
        let check = (|| {
            h.str_arg(name_ptr, name_len)?;
            abi::SpanKind::from_i32(kind).ok_or(Status::INVALID_ARGUMENT)?;
            h.str_arg(traceparent_ptr, traceparent_len)?;
            h.str_arg(tracestate_ptr, tracestate_len)?;
            h.attrs_arg(attrs_ptr, attrs_len)?;
            if h.open.len() >= limits::MAX_OPEN_SPANS {
                return Err(Status::LIMIT_EXCEEDED);
            }
            h.span_start_error.map_or(Ok(()), Err)?;
            // An invalid traceparent is no error: no remote parent, so the root context if any.
            let remote = Context::parse(
                &h.text(traceparent_ptr, traceparent_len),
                &h.text(tracestate_ptr, tracestate_len),
            );
            Ok(remote.or_else(|| h.root.clone()))
        })();
        let result = match check {
            Ok(context) => h.open_span(context),
            Err(s) => i64::from(s.0),
        };
        let call = Call::SpanStartRemote {
            name: h.text(name_ptr, name_len),
            kind,
            traceparent: h.text(traceparent_ptr, traceparent_len),
            tracestate: h.text(tracestate_ptr, tracestate_len),
            attrs: h.bytes(attrs_ptr, attrs_len),
            result,
        };
        h.calls.push(call);
        result
    })
}

pub(super) fn func_enter(func_id: i32) -> i32 {
    with(|h| {
        h.calls.push(Call::FuncEnter { func_id });
        0
    })
}

pub(super) fn func_exit(func_id: i32) -> i32 {
    with(|h| {
        h.calls.push(Call::FuncExit { func_id });
        0
    })
}

pub(super) fn func_names(table_ptr: i32, table_len: i32) -> i32 {
    with(|h| {
        let result = code(h.read(table_ptr, table_len).map(|_| ()));
        let call = Call::FuncNames { table: h.bytes(table_ptr, table_len), result };
        h.calls.push(call);
        result
    })
}
