//! A [`log`](https://docs.rs/log) logger: records of the `log` crate become log records (feature
//! `log`).
//!
//! ```
//! wasmedge_otel_guest::log::init(log::LevelFilter::Info).expect("no other logger is set");
//! log::warn!("cache is cold");                               // WARN, no trace id
//! let _request = wasmedge_otel_guest::span!("GET /api/hello");
//! log::info!(status = 200; "handled {}", "/api/hello");      // INFO, in the span's trace
//! log::debug!("not recorded");                               // below the maximum level
//! ```
//!
//! Each record is one `log_emit` host call:
//!
//! * **Severity**: `Error` 17 (`ERROR`), `Warn` 13 (`WARN`), `Info` 9 (`INFO`), `Debug` 5 (`DEBUG`),
//!   `Trace` 1 (`TRACE`), as `opentelemetry-appender-log` maps them.
//! * **Body**: the formatted message (`args`), a string.
//! * **Attributes**: the record's key-values (`log`'s `kv` syntax, `key = value;`), typed: integers
//!   that fit in an `i64` as `i64` (larger ones as their decimal string), floats as `f64`, `bool` as
//!   `bool`, strings as strings, anything else (`key:? = value`, `key:% = value`) formatted; then
//!   `code.namespace` = the module path, and `target` when the target is not the module path (an
//!   explicit `target:`).
//! * **Trace context**: added by the host: a record emitted while a span is open carries the trace
//!   and span ids of the host's current span, the span started last and still open.
//!
//! Like the rest of the crate, logging never fails or panics; on an ABI mismatch no record reaches
//! the host. The logger itself is `no_std` (with `alloc`: a body with arguments is formatted into a
//! `String`), and is compiled into the program that uses it, not into this crate (see the `bridge`
//! module's source): a program that does not use it links the same code with the feature on as
//! without.
#![forbid(unsafe_code)]

use alloc::borrow::{Cow, ToOwned};
use alloc::boxed::Box;

use ::log::kv::{self, VisitSource, VisitValue};
use ::log::{Level, LevelFilter, Log, Metadata, Record, SetLoggerError};

use crate::bridge::{display, Attributes, OwnedValue};
use crate::{logs, Severity};

/// Installs a [`Logger`] of `max_level` as the `log` crate's logger, and sets `log`'s maximum level
/// to `max_level`.
///
/// Fails if a logger is already set (`log` allows one per program).
#[inline]
pub fn init(max_level: LevelFilter) -> Result<(), SetLoggerError> {
    ::log::set_logger(Box::leak(Box::new(Logger::new(max_level))))?;
    ::log::set_max_level(max_level);
    Ok(())
}

/// The `log` logger: each record of `max_level` or more severe becomes a host log record.
///
/// [`init`] installs one; use it directly to combine it with another logger.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Logger {
    max_level: LevelFilter,
}

impl Logger {
    /// A logger that records `max_level` and more severe.
    #[inline]
    pub const fn new(max_level: LevelFilter) -> Logger {
        Logger { max_level }
    }

    /// The most verbose level it records.
    #[inline]
    pub const fn max_level(&self) -> LevelFilter {
        self.max_level
    }
}

/// The log data model's severity of a level.
#[inline]
fn severity(level: Level) -> Severity {
    match level {
        Level::Error => Severity::Error,
        Level::Warn => Severity::Warn,
        Level::Info => Severity::Info,
        Level::Debug => Severity::Debug,
        Level::Trace => Severity::Trace,
    }
}

impl Log for Logger {
    #[inline]
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= self.max_level
    }

    #[inline]
    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let args = record.args();
        let body = match args.as_str() {
            Some(literal) => Cow::Borrowed(literal),
            None => Cow::Owned(display(args)),
        };
        let mut attributes = Attributes::default();
        let _ = record.key_values().visit(&mut KeyValues(&mut attributes));
        attributes.push_location(record.module_path(), record.target());
        attributes.with(|kvs| logs::emit(severity(record.level()), &body, kvs));
    }

    #[inline]
    fn flush(&self) {}
}

/// Collects key-values as attributes.
struct KeyValues<'a, 'kvs>(&'a mut Attributes<'kvs>);

impl<'kvs> VisitSource<'kvs> for KeyValues<'_, 'kvs> {
    #[inline]
    fn visit_pair(&mut self, key: kv::Key<'kvs>, value: kv::Value<'kvs>) -> Result<(), kv::Error> {
        let key = match key.to_borrowed_str() {
            Some(key) => Cow::Borrowed(key),
            None => Cow::Owned(key.as_str().to_owned()),
        };
        let mut one = OneValue(None);
        let _ = value.visit(&mut one);
        if let Some(value) = one.0 {
            self.0.push(key, value);
        }
        Ok(())
    }
}

/// The typed value of one key-value (`None` for a null).
struct OneValue<'v>(Option<OwnedValue<'v>>);

impl<'v> VisitValue<'v> for OneValue<'v> {
    #[inline]
    fn visit_any(&mut self, value: kv::Value<'_>) -> Result<(), kv::Error> {
        self.0 = Some(OwnedValue::Str(Cow::Owned(display(&value))));
        Ok(())
    }

    #[inline]
    fn visit_null(&mut self) -> Result<(), kv::Error> {
        Ok(())
    }

    #[inline]
    fn visit_u64(&mut self, value: u64) -> Result<(), kv::Error> {
        self.0 = Some(OwnedValue::int(value));
        Ok(())
    }

    #[inline]
    fn visit_i64(&mut self, value: i64) -> Result<(), kv::Error> {
        self.0 = Some(OwnedValue::I64(value));
        Ok(())
    }

    #[inline]
    fn visit_u128(&mut self, value: u128) -> Result<(), kv::Error> {
        self.0 = Some(OwnedValue::int(value));
        Ok(())
    }

    #[inline]
    fn visit_i128(&mut self, value: i128) -> Result<(), kv::Error> {
        self.0 = Some(OwnedValue::int(value));
        Ok(())
    }

    #[inline]
    fn visit_f64(&mut self, value: f64) -> Result<(), kv::Error> {
        self.0 = Some(OwnedValue::F64(value));
        Ok(())
    }

    #[inline]
    fn visit_bool(&mut self, value: bool) -> Result<(), kv::Error> {
        self.0 = Some(OwnedValue::Bool(value));
        Ok(())
    }

    #[inline]
    fn visit_str(&mut self, value: &str) -> Result<(), kv::Error> {
        self.0 = Some(OwnedValue::Str(Cow::Owned(value.to_owned())));
        Ok(())
    }

    #[inline]
    fn visit_borrowed_str(&mut self, value: &'v str) -> Result<(), kv::Error> {
        self.0 = Some(OwnedValue::Str(Cow::Borrowed(value)));
        Ok(())
    }

    #[inline]
    fn visit_char(&mut self, value: char) -> Result<(), kv::Error> {
        self.0 = Some(OwnedValue::Str(Cow::Owned(display(&value))));
        Ok(())
    }
}
