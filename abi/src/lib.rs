//! The one definition of the `wasmedge_otel` host ABI.
//!
//! Everything both sides of the boundary must agree on lives here and nowhere else: the import
//! module name, the ABI version, every host function's name and signature, the status codes, the
//! enumerations passed as integers, and the wire format of attribute buffers. The plugin registers
//! its host functions from [`FUNCTIONS`], the guest bindings decode statuses with [`Status`], and
//! tests check `docs/ABI.md` and the C header against this crate.
//!
//! The crate is `no_std` and has no dependencies so that a guest can link it for free.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

/// Name of the WasmEdge plugin and of the Wasm import module its host functions live in.
pub const MODULE_NAME: &str = "wasmedge_otel";

/// Version of this ABI. Bumped on any incompatible change; guests refuse to run against another.
pub const ABI_VERSION: i32 = 1;

/// A WebAssembly value type as it appears in a host function's signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValType {
    /// 32-bit integer: pointers, lengths, enumerations and statuses.
    I32,
    /// 64-bit integer: handles and integer measurements.
    I64,
    /// 64-bit float: floating-point measurements.
    F64,
}

impl ValType {
    /// The type's name in the WebAssembly text format.
    pub const fn wat_name(self) -> &'static str {
        match self {
            ValType::I32 => "i32",
            ValType::I64 => "i64",
            ValType::F64 => "f64",
        }
    }

    /// The type's name in the C header.
    pub const fn c_name(self) -> &'static str {
        match self {
            ValType::I32 => "int32_t",
            ValType::I64 => "int64_t",
            ValType::F64 => "double",
        }
    }
}

/// One named parameter of a host function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Param {
    /// Parameter name, as used in docs and the C header.
    pub name: &'static str,
    /// Parameter type.
    pub ty: ValType,
}

const fn p(name: &'static str, ty: ValType) -> Param {
    Param { name, ty }
}

/// One host function of the `wasmedge_otel` import module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostFunction {
    /// Import name.
    pub name: &'static str,
    /// Parameters, in order.
    pub params: &'static [Param],
    /// The single result.
    pub result: ValType,
}

use ValType::{F64, I32, I64};

/// `abi_version() -> i32`: the plugin's [`ABI_VERSION`].
pub const ABI_VERSION_FN: HostFunction = HostFunction { name: "abi_version", params: &[], result: I32 };

/// `span_start(...) -> i64`: starts a span and makes it the instance's current span.
/// Returns a handle (> 0) or a negative [`Status`].
pub const SPAN_START: HostFunction = HostFunction {
    name: "span_start",
    params: &[
        p("name_ptr", I32),
        p("name_len", I32),
        p("kind", I32),
        p("parent", I64),
        p("attrs_ptr", I32),
        p("attrs_len", I32),
    ],
    result: I64,
};

/// `span_end(span) -> i32`: ends a span; its handle becomes invalid. The most recently started
/// span still open becomes current again.
pub const SPAN_END: HostFunction = HostFunction { name: "span_end", params: &[p("span", I64)], result: I32 };

/// `span_set_attributes(span, attrs_ptr, attrs_len) -> i32`: sets attributes from a buffer.
pub const SPAN_SET_ATTRIBUTES: HostFunction = HostFunction {
    name: "span_set_attributes",
    params: &[p("span", I64), p("attrs_ptr", I32), p("attrs_len", I32)],
    result: I32,
};

/// `span_add_event(span, name_ptr, name_len, attrs_ptr, attrs_len) -> i32`: adds an event.
pub const SPAN_ADD_EVENT: HostFunction = HostFunction {
    name: "span_add_event",
    params: &[
        p("span", I64),
        p("name_ptr", I32),
        p("name_len", I32),
        p("attrs_ptr", I32),
        p("attrs_len", I32),
    ],
    result: I32,
};

/// `span_set_status(span, code, msg_ptr, msg_len) -> i32`: sets the span status.
pub const SPAN_SET_STATUS: HostFunction = HostFunction {
    name: "span_set_status",
    params: &[p("span", I64), p("code", I32), p("msg_ptr", I32), p("msg_len", I32)],
    result: I32,
};

/// `span_record_exception(...) -> i32`: adds an `exception` event with the semantic-convention
/// attributes `exception.type` and `exception.message`, plus any extra attributes.
pub const SPAN_RECORD_EXCEPTION: HostFunction = HostFunction {
    name: "span_record_exception",
    params: &[
        p("span", I64),
        p("type_ptr", I32),
        p("type_len", I32),
        p("msg_ptr", I32),
        p("msg_len", I32),
        p("attrs_ptr", I32),
        p("attrs_len", I32),
    ],
    result: I32,
};

/// `span_current() -> i64`: the instance's current span handle, or 0 when none is open.
pub const SPAN_CURRENT: HostFunction = HostFunction { name: "span_current", params: &[], result: I64 };

/// `instrument_create(...) -> i64`: creates (or finds) a metric instrument. Returns a handle (> 0)
/// or a negative [`Status`]. Creating an identical instrument again returns the same handle.
pub const INSTRUMENT_CREATE: HostFunction = HostFunction {
    name: "instrument_create",
    params: &[
        p("kind", I32),
        p("value_type", I32),
        p("name_ptr", I32),
        p("name_len", I32),
        p("unit_ptr", I32),
        p("unit_len", I32),
        p("desc_ptr", I32),
        p("desc_len", I32),
        p("bounds_ptr", I32),
        p("bounds_len", I32),
    ],
    result: I64,
};

/// `metric_record_i64(instrument, value, attrs_ptr, attrs_len) -> i32`: records an integer
/// measurement with attributes.
pub const METRIC_RECORD_I64: HostFunction = HostFunction {
    name: "metric_record_i64",
    params: &[p("instrument", I64), p("value", I64), p("attrs_ptr", I32), p("attrs_len", I32)],
    result: I32,
};

/// `metric_record_f64(instrument, value, attrs_ptr, attrs_len) -> i32`: records a floating-point
/// measurement with attributes.
pub const METRIC_RECORD_F64: HostFunction = HostFunction {
    name: "metric_record_f64",
    params: &[p("instrument", I64), p("value", F64), p("attrs_ptr", I32), p("attrs_len", I32)],
    result: I32,
};

/// `metric_bind(instrument, attrs_ptr, attrs_len) -> i64`: binds an instrument to a fixed attribute
/// set. Returns a bound-instrument handle (> 0) or a negative [`Status`].
pub const METRIC_BIND: HostFunction = HostFunction {
    name: "metric_bind",
    params: &[p("instrument", I64), p("attrs_ptr", I32), p("attrs_len", I32)],
    result: I64,
};

/// `metric_bound_record_i64(bound, value) -> i32`: records an integer on a bound instrument.
pub const METRIC_BOUND_RECORD_I64: HostFunction = HostFunction {
    name: "metric_bound_record_i64",
    params: &[p("bound", I64), p("value", I64)],
    result: I32,
};

/// `metric_bound_record_f64(bound, value) -> i32`: records a float on a bound instrument.
pub const METRIC_BOUND_RECORD_F64: HostFunction = HostFunction {
    name: "metric_bound_record_f64",
    params: &[p("bound", I64), p("value", F64)],
    result: I32,
};

/// `log_emit(severity, body_ptr, body_len, attrs_ptr, attrs_len) -> i32`: emits a log record,
/// correlated with the instance's current span.
pub const LOG_EMIT: HostFunction = HostFunction {
    name: "log_emit",
    params: &[
        p("severity", I32),
        p("body_ptr", I32),
        p("body_len", I32),
        p("attrs_ptr", I32),
        p("attrs_len", I32),
    ],
    result: I32,
};

/// `span_traceparent(span, buf_ptr, buf_len) -> i32`: writes the W3C `traceparent` of a span
/// (0: the current span, else the run's root context) into the guest's buffer. Returns the number
/// of bytes written (55; 0 when there is no context to propagate) or a negative [`Status`].
pub const SPAN_TRACEPARENT: HostFunction = HostFunction {
    name: "span_traceparent",
    params: &[p("span", I64), p("buf_ptr", I32), p("buf_len", I32)],
    result: I32,
};

/// `span_tracestate(span, buf_ptr, buf_len) -> i32`: writes the W3C `tracestate` of a span, as
/// `span_traceparent` does. Returns the number of bytes written (0 when empty).
pub const SPAN_TRACESTATE: HostFunction = HostFunction {
    name: "span_tracestate",
    params: &[p("span", I64), p("buf_ptr", I32), p("buf_len", I32)],
    result: I32,
};

/// `span_start_remote(...) -> i64`: starts a span whose parent is the remote context given by
/// incoming `traceparent`/`tracestate` headers, and makes it current. An invalid `traceparent`
/// starts the span without a remote parent, as the W3C specification says.
pub const SPAN_START_REMOTE: HostFunction = HostFunction {
    name: "span_start_remote",
    params: &[
        p("name_ptr", I32),
        p("name_len", I32),
        p("kind", I32),
        p("traceparent_ptr", I32),
        p("traceparent_len", I32),
        p("tracestate_ptr", I32),
        p("tracestate_len", I32),
        p("attrs_ptr", I32),
        p("attrs_len", I32),
    ],
    result: I64,
};

/// `func_enter(func_id) -> i32`: an instrumented function was entered (inserted by the
/// `wasmedge-otel instrument` rewriter, not called by hand). Returns a [`Status`].
pub const FUNC_ENTER: HostFunction =
    HostFunction { name: "func_enter", params: &[p("func_id", I32)], result: I32 };

/// `func_exit(func_id) -> i32`: an instrumented function is returning (or tail-calling).
pub const FUNC_EXIT: HostFunction =
    HostFunction { name: "func_exit", params: &[p("func_id", I32)], result: I32 };

/// `func_names(table_ptr, table_len) -> i32`: registers the names of instrumented functions,
/// once, before the first `func_enter`. Table: repeated `func_id:u32 name_len:u32 name`.
pub const FUNC_NAMES: HostFunction =
    HostFunction { name: "func_names", params: &[p("table_ptr", I32), p("table_len", I32)], result: I32 };

/// Every host function of the module, in registration order.
pub const FUNCTIONS: &[HostFunction] = &[
    ABI_VERSION_FN,
    SPAN_START,
    SPAN_END,
    SPAN_SET_ATTRIBUTES,
    SPAN_ADD_EVENT,
    SPAN_SET_STATUS,
    SPAN_RECORD_EXCEPTION,
    SPAN_CURRENT,
    INSTRUMENT_CREATE,
    METRIC_RECORD_I64,
    METRIC_RECORD_F64,
    METRIC_BIND,
    METRIC_BOUND_RECORD_I64,
    METRIC_BOUND_RECORD_F64,
    LOG_EMIT,
    SPAN_TRACEPARENT,
    SPAN_TRACESTATE,
    SPAN_START_REMOTE,
    FUNC_ENTER,
    FUNC_EXIT,
    FUNC_NAMES,
];

/// Result of a host call. `0` is success; every error is negative so that functions returning a
/// handle (always positive) can return an error in the same value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub struct Status(pub i32);

impl Status {
    /// The call succeeded.
    pub const OK: Status = Status(0);
    /// A pointer/length pair does not lie inside the guest's linear memory (or the guest has none).
    pub const OUT_OF_BOUNDS: Status = Status(-1);
    /// A string argument or attribute key/value is not valid UTF-8.
    pub const INVALID_UTF8: Status = Status(-2);
    /// The handle is unknown, forged, stale, already ended, or belongs to another instance.
    pub const INVALID_HANDLE: Status = Status(-3);
    /// An enumeration argument (span kind, status code, instrument kind, value type, severity) is
    /// outside its range, or a measurement is not allowed (NaN or infinite, negative on a counter
    /// or histogram, the wrong value type for the instrument, unordered histogram boundaries).
    /// Pointers and lengths are read as unsigned, so they never get this status.
    pub const INVALID_ARGUMENT: Status = Status(-4);
    /// An attribute buffer does not follow the wire format (unknown type tag, truncated value), or
    /// a boundaries buffer is not a whole number of `f64` values.
    pub const MALFORMED: Status = Status(-5);
    /// A per-instance limit was hit (open spans, instruments, bound instruments, histogram
    /// boundaries, buffer size); nothing was recorded.
    pub const LIMIT_EXCEEDED: Status = Status(-6);
    /// The plugin failed internally; the call recorded nothing. Reported on the host's stderr.
    pub const INTERNAL: Status = Status(-7);

    /// Every status with its symbolic name, in code order.
    pub const ALL: &'static [(Status, &'static str)] = &[
        (Status::OK, "OK"),
        (Status::OUT_OF_BOUNDS, "OUT_OF_BOUNDS"),
        (Status::INVALID_UTF8, "INVALID_UTF8"),
        (Status::INVALID_HANDLE, "INVALID_HANDLE"),
        (Status::INVALID_ARGUMENT, "INVALID_ARGUMENT"),
        (Status::MALFORMED, "MALFORMED"),
        (Status::LIMIT_EXCEEDED, "LIMIT_EXCEEDED"),
        (Status::INTERNAL, "INTERNAL"),
    ];

    /// The symbolic name of a known status, `None` for codes this ABI version does not define.
    pub fn name(self) -> Option<&'static str> {
        Status::ALL.iter().find(|(s, _)| *s == self).map(|(_, n)| *n)
    }

    /// Whether the status is [`Status::OK`].
    pub const fn is_ok(self) -> bool {
        self.0 == 0
    }
}

/// Span kind, passed as `kind` to `span_start`. Values follow OTLP's `SpanKind` minus one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum SpanKind {
    /// Internal operation (the default).
    Internal = 0,
    /// Server side of a synchronous request.
    Server = 1,
    /// Client side of a synchronous request.
    Client = 2,
    /// Producer of an asynchronous message.
    Producer = 3,
    /// Consumer of an asynchronous message.
    Consumer = 4,
}

impl SpanKind {
    /// Decodes the ABI integer.
    pub const fn from_i32(v: i32) -> Option<SpanKind> {
        Some(match v {
            0 => SpanKind::Internal,
            1 => SpanKind::Server,
            2 => SpanKind::Client,
            3 => SpanKind::Producer,
            4 => SpanKind::Consumer,
            _ => return None,
        })
    }
}

/// Span status code, passed as `code` to `span_set_status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum StatusCode {
    /// Status not set.
    Unset = 0,
    /// Explicitly marked successful.
    Ok = 1,
    /// Failed; the message describes the error.
    Error = 2,
}

impl StatusCode {
    /// Decodes the ABI integer.
    pub const fn from_i32(v: i32) -> Option<StatusCode> {
        Some(match v {
            0 => StatusCode::Unset,
            1 => StatusCode::Ok,
            2 => StatusCode::Error,
            _ => return None,
        })
    }
}

/// Metric instrument kind, passed as `kind` to `instrument_create`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum InstrumentKind {
    /// Monotonic sum: values must be non-negative.
    Counter = 0,
    /// Non-monotonic sum: values may be negative.
    UpDownCounter = 1,
    /// Distribution of values (explicit buckets): values must be non-negative.
    Histogram = 2,
    /// Last value.
    Gauge = 3,
}

impl InstrumentKind {
    /// Decodes the ABI integer.
    pub const fn from_i32(v: i32) -> Option<InstrumentKind> {
        Some(match v {
            0 => InstrumentKind::Counter,
            1 => InstrumentKind::UpDownCounter,
            2 => InstrumentKind::Histogram,
            3 => InstrumentKind::Gauge,
            _ => return None,
        })
    }
}

/// Type of the values an instrument records, passed as `value_type` to `instrument_create`.
/// An integer instrument takes `*_record_i64` calls, a float instrument `*_record_f64` calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum ValueType {
    /// Signed 64-bit integers.
    I64 = 0,
    /// 64-bit floats (finite only).
    F64 = 1,
}

impl ValueType {
    /// Decodes the ABI integer.
    pub const fn from_i32(v: i32) -> Option<ValueType> {
        Some(match v {
            0 => ValueType::I64,
            1 => ValueType::F64,
            _ => return None,
        })
    }
}

/// Log severity numbers (`severity` of `log_emit`) range over 0 (unspecified) to 24, as in the
/// OpenTelemetry log data model: 1-4 TRACE, 5-8 DEBUG, 9-12 INFO, 13-16 WARN, 17-20 ERROR,
/// 21-24 FATAL. These are the first of each range.
pub mod severity {
    /// No severity given.
    pub const UNSPECIFIED: i32 = 0;
    /// TRACE.
    pub const TRACE: i32 = 1;
    /// DEBUG.
    pub const DEBUG: i32 = 5;
    /// INFO.
    pub const INFO: i32 = 9;
    /// WARN.
    pub const WARN: i32 = 13;
    /// ERROR.
    pub const ERROR: i32 = 17;
    /// FATAL.
    pub const FATAL: i32 = 21;
    /// Largest valid severity number.
    pub const MAX: i32 = 24;
}

/// `parent` value of `span_start`: the instance's current span is the parent (a root if none).
pub const PARENT_CURRENT: i64 = 0;
/// `parent` value of `span_start`: ignore the current span; the span descends from the run's root
/// context (the `TRACEPARENT` of the `wasmedge` process) and starts a new trace when there is none.
pub const PARENT_NONE: i64 = -1;

/// Wire format of attribute buffers.
///
/// A buffer is zero or more attributes back to back, with no header; all integers little-endian:
///
/// ```text
/// attribute := key_len:u32 key:[u8; key_len] tag:u8 value
/// value     := STRING  len:u32 [u8; len]        | BOOL  u8 (0 or 1)
///            | I64     i64                      | F64   f64 (IEEE 754 bits)
///            | *_ARRAY count:u32 element*count  (elements encoded as the scalar)
/// ```
///
/// Keys and strings are UTF-8; keys must be non-empty. A buffer that ends in the middle of an
/// attribute, has an unknown tag, a boolean other than 0 or 1, an empty key, or an array count the
/// remaining bytes cannot hold is [`Status::MALFORMED`]. A later attribute with the same key
/// replaces an earlier one.
pub mod wire {
    /// Tag of a UTF-8 string value.
    pub const STRING: u8 = 1;
    /// Tag of a boolean value (one byte, 0 or 1).
    pub const BOOL: u8 = 2;
    /// Tag of a signed 64-bit integer value.
    pub const I64: u8 = 3;
    /// Tag of a 64-bit float value.
    pub const F64: u8 = 4;
    /// Tag of an array of strings.
    pub const STRING_ARRAY: u8 = 5;
    /// Tag of an array of booleans.
    pub const BOOL_ARRAY: u8 = 6;
    /// Tag of an array of signed 64-bit integers.
    pub const I64_ARRAY: u8 = 7;
    /// Tag of an array of 64-bit floats.
    pub const F64_ARRAY: u8 = 8;

    /// Every tag with its name, for docs and drift tests.
    pub const TAGS: &[(u8, &str)] = &[
        (STRING, "STRING"),
        (BOOL, "BOOL"),
        (I64, "I64"),
        (F64, "F64"),
        (STRING_ARRAY, "STRING_ARRAY"),
        (BOOL_ARRAY, "BOOL_ARRAY"),
        (I64_ARRAY, "I64_ARRAY"),
        (F64_ARRAY, "F64_ARRAY"),
    ];
}

/// Default per-instance limits the plugin enforces (configurable on the host, see docs).
pub mod limits {
    /// Spans a single module instance may have open at once.
    pub const MAX_OPEN_SPANS: usize = 4096;
    /// Largest attribute buffer, name or message accepted in one call, in bytes.
    pub const MAX_BUFFER_LEN: usize = 64 * 1024;
    /// Distinct metric instruments a single module instance may create.
    pub const MAX_INSTRUMENTS: usize = 1024;
    /// Bound instruments a single module instance may hold.
    pub const MAX_BOUND_INSTRUMENTS: usize = 4096;
    /// Explicit histogram bucket boundaries one instrument may have.
    pub const MAX_HISTOGRAM_BOUNDARIES: usize = 256;
    /// Instrumented function frames tracked at once (deeper calls are not traced).
    pub const MAX_FUNCTION_DEPTH: usize = 4096;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_names_are_unique() {
        for (i, a) in FUNCTIONS.iter().enumerate() {
            for b in &FUNCTIONS[i + 1..] {
                assert_ne!(a.name, b.name);
            }
        }
    }

    #[test]
    fn statuses_are_ok_or_negative_and_unique() {
        for (i, (s, _)) in Status::ALL.iter().enumerate() {
            assert!(s.0 <= 0);
            assert!(Status::ALL[i + 1..].iter().all(|(t, _)| t != s));
        }
        assert_eq!(Status(-99).name(), None);
        assert_eq!(Status::MALFORMED.name(), Some("MALFORMED"));
    }

    #[test]
    fn enumerations_round_trip() {
        for v in 0..5 {
            assert_eq!(SpanKind::from_i32(v).map(|k| k as i32), Some(v));
        }
        assert_eq!(SpanKind::from_i32(5), None);
        for v in 0..3 {
            assert_eq!(StatusCode::from_i32(v).map(|k| k as i32), Some(v));
        }
        assert_eq!(StatusCode::from_i32(-1), None);
        for v in 0..4 {
            assert_eq!(InstrumentKind::from_i32(v).map(|k| k as i32), Some(v));
        }
        assert_eq!(InstrumentKind::from_i32(4), None);
        for v in 0..2 {
            assert_eq!(ValueType::from_i32(v).map(|k| k as i32), Some(v));
        }
        assert_eq!(ValueType::from_i32(2), None);
    }
}
