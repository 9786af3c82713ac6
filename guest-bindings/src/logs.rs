//! Log records: a severity, a string body and attributes, correlated with the current span.
//!
//! ```
//! use wasmedge_otel_guest::{kv, logs, span, Severity};
//!
//! logs::warn("cache is cold", &[kv("cache", "main")]); // no span open: no trace id
//! let _request = span!("GET /api/hello");
//! logs::info("handled request", &[kv("http.response.status_code", 200)]); // in `_request`'s trace
//! logs::emit(Severity::Debug2, "detail", &[]);
//! logs::emit(Severity::from_number(14).unwrap_or(Severity::Warn), "WARN2", &[]);
//! ```
//!
//! Each record is one host call. The host stamps it with the time and, when a span is current, with
//! that span's trace id, span id and trace flags, so backends show the logs of a trace next to it.
//! The body is passed as is; attributes travel in one [`BUFFER_LEN`](crate::encode::BUFFER_LEN)-byte
//! buffer, where those that do not fit are dropped (the others are kept, in order).
//!
//! Like spans, logging is infallible: a record the host refuses is lost, and on an ABI mismatch no
//! record reaches the host. [`try_emit`] reports why.
//!
//! (The module is called `logs`, not `log`: [`log`](crate#features), with feature `log`, is the bridge
//! that turns the `log` crate's records into these.)
#![forbid(unsafe_code)]

use crate::abi::severity;
use crate::api::{check_abi, with_attributes, Error};
use crate::{raw, KeyValue};

/// The severity of a log record: its `SeverityNumber` in the OpenTelemetry log data model, with the
/// text the host derives from it (`INFO`, `WARN3`, ...).
///
/// Four levels per severity, from the least to the most severe: `Trace` is 1, `Trace2` 2, ..., `Debug`
/// 5, `Info` 9, `Warn` 13, `Error` 17, `Fatal` 21, `Fatal4` 24. [`Severity::from_number`] converts a
/// raw number, [`Severity::number`] (or `as i32`) gives it back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(i32)]
#[allow(missing_docs)] // The variants are the data model's names.
pub enum Severity {
    /// No severity given (number 0, no text).
    Unspecified = 0,
    Trace = 1,
    Trace2,
    Trace3,
    Trace4,
    Debug,
    Debug2,
    Debug3,
    Debug4,
    Info,
    Info2,
    Info3,
    Info4,
    Warn,
    Warn2,
    Warn3,
    Warn4,
    Error,
    Error2,
    Error3,
    Error4,
    Fatal,
    Fatal2,
    Fatal3,
    Fatal4,
}

// The variants count up from the ABI's numbers.
const _: () = {
    assert!(Severity::Unspecified as i32 == severity::UNSPECIFIED);
    assert!(Severity::Trace as i32 == severity::TRACE);
    assert!(Severity::Debug as i32 == severity::DEBUG);
    assert!(Severity::Info as i32 == severity::INFO);
    assert!(Severity::Warn as i32 == severity::WARN);
    assert!(Severity::Error as i32 == severity::ERROR);
    assert!(Severity::Fatal as i32 == severity::FATAL);
    assert!(Severity::Fatal4 as i32 == severity::MAX);
};

impl Severity {
    /// The severity number, 0 to 24 (the `severity` argument of `log_emit`).
    #[inline]
    pub const fn number(self) -> i32 {
        self as i32
    }

    /// The severity with number `number`, `None` outside 0 to 24.
    pub const fn from_number(number: i32) -> Option<Severity> {
        use Severity::*;
        Some(match number {
            0 => Unspecified,
            1 => Trace,
            2 => Trace2,
            3 => Trace3,
            4 => Trace4,
            5 => Debug,
            6 => Debug2,
            7 => Debug3,
            8 => Debug4,
            9 => Info,
            10 => Info2,
            11 => Info3,
            12 => Info4,
            13 => Warn,
            14 => Warn2,
            15 => Warn3,
            16 => Warn4,
            17 => Error,
            18 => Error2,
            19 => Error3,
            20 => Error4,
            21 => Fatal,
            22 => Fatal2,
            23 => Fatal3,
            24 => Fatal4,
            _ => return None,
        })
    }
}

/// Emits a log record with `severity`, the string `body` and `attributes`, correlated with the current
/// span if one is open. Never fails; see [`try_emit`] for the status. With feature `std`, an ABI mismatch
/// is reported once on stderr.
pub fn emit(severity: Severity, body: &str, attributes: &[KeyValue<'_>]) {
    let _result = try_emit(severity, body, attributes);
    #[cfg(feature = "std")]
    if let Err(error) = &_result {
        crate::api::warn_once(error);
    }
}

/// Emits a log record like [`emit`], but reports a failure: an ABI mismatch (nothing sent) or the
/// host's status.
pub fn try_emit(severity: Severity, body: &str, attributes: &[KeyValue<'_>]) -> Result<(), Error> {
    check_abi()?;
    let body = body.as_bytes();
    Error::check(with_attributes(attributes, |attrs_ptr, attrs_len| {
        raw::log_emit(severity as i32, raw::ptr(body), raw::len(body), attrs_ptr, attrs_len)
    }))
}

macro_rules! levels {
    ($($name:ident => $severity:ident),* $(,)?) => {$(
        #[doc = concat!("Emits a log record of severity [`Severity::", stringify!($severity), "`]; see")]
        #[doc = "[`emit`]."]
        #[inline]
        pub fn $name(body: &str, attributes: &[KeyValue<'_>]) {
            emit(Severity::$severity, body, attributes);
        }
    )*};
}

levels! {
    trace => Trace,
    debug => Debug,
    info => Info,
    warn => Warn,
    error => Error,
    fatal => Fatal,
}
