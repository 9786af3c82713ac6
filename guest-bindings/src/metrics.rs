//! Metric instruments: counters, up-down counters, histograms and gauges of `i64` or `f64` values.
//!
//! An instrument is created once with its builder ([`Counter::builder`] and so on) and then records
//! measurements, each with its own attributes, in one host call:
//!
//! ```
//! use wasmedge_otel_guest::metrics::{Counter, Gauge, Histogram, UpDownCounter};
//! use wasmedge_otel_guest::kv;
//!
//! let requests = Counter::<i64>::builder("http.server.requests").unit("{request}").build();
//! let duration = Histogram::<f64>::builder("http.server.request.duration")
//!     .unit("ms")
//!     .description("Duration of HTTP server requests")
//!     .boundaries(&[5.0, 10.0, 25.0])
//!     .build();
//! let active = UpDownCounter::<i64>::builder("app.requests.active").build();
//! let memory = Gauge::<i64>::builder("app.memory.used").unit("By").build();
//!
//! active.add(1, &[]);
//! requests.add(1, &[kv("http.route", "/api/hello"), kv("http.response.status_code", 200)]);
//! duration.record(12.5, &[kv("http.route", "/api/hello")]);
//! memory.record(65536, &[]);
//! active.add(-1, &[]);
//! ```
//!
//! The value type is a type parameter, [`i64`] or [`f64`] (the sealed [`Measure`] trait): it decides
//! whether the host aggregates integers or floats, and the exported data point's type.
//!
//! # Bound instruments
//!
//! [`bind`](Counter::bind) fixes an attribute set once, so that each measurement afterwards is one host
//! call passing a handle and a number, with no attribute buffer: the cheapest way to record on a hot
//! path.
//!
//! ```
//! # use wasmedge_otel_guest::{kv, metrics::Counter};
//! let hits = Counter::<i64>::builder("app.cache.hits").build().bind(&[kv("cache", "main")]);
//! hits.add(2);
//! ```
//!
//! Each distinct binding takes a host handle that lives as long as the instance (at most
//! [`MAX_BOUND_INSTRUMENTS`](crate::abi::limits::MAX_BOUND_INSTRUMENTS)); binding the same instrument
//! to the same attributes again returns the same handle. Still, bind once, at startup: each `bind` is a
//! host call that encodes the attributes.
//!
//! # Errors
//!
//! Like spans, instruments are infallible. An instrument whose creation failed (an ABI mismatch, or a
//! refusal by the host: a name or unit breaking OpenTelemetry's rules, unordered boundaries, too many
//! instruments) is a *no-op*: it
//! calls nothing and records nothing, and neither does any instrument bound from it;
//! [`InstrumentBuilder::try_build`] says why. A measurement the host refuses is lost: a negative value
//! on a [`Counter`] or [`Histogram`], NaN or an infinity. The guest does not check values itself.
//!
//! Creating an instrument identical to an earlier one (same kind, value type, name compared
//! case-insensitively, unit, description and boundaries) gives the same host instrument, so creating one where it is needed is fine, though
//! each creation is a host call.
#![forbid(unsafe_code)]

use core::marker::PhantomData;
use core::num::NonZeroU64;

use crate::abi::{InstrumentKind, ValueType};
use crate::api::{check_abi, handle_from_result, with_attributes, Error};
use crate::{raw, KeyValue};

mod sealed {
    use super::*;

    /// The value types, and the imports that record them.
    pub trait Measure: Copy {
        const VALUE_TYPE: ValueType;
        fn record(instrument: i64, value: Self, attrs_ptr: i32, attrs_len: i32) -> i32;
        fn bound_record(bound: i64, value: Self) -> i32;
    }

    /// The instrument types: their kind, value type, and construction from a handle.
    pub trait Instrument {
        const KIND: InstrumentKind;
        const VALUE_TYPE: ValueType;
        fn from_handle(handle: Option<NonZeroU64>) -> Self;
    }
}

/// The type of the values an instrument records: [`i64`] or [`f64`] (sealed).
pub trait Measure: sealed::Measure {}

impl Measure for i64 {}
impl Measure for f64 {}

impl sealed::Measure for i64 {
    const VALUE_TYPE: ValueType = ValueType::I64;

    #[inline]
    fn record(instrument: i64, value: i64, attrs_ptr: i32, attrs_len: i32) -> i32 {
        raw::metric_record_i64(instrument, value, attrs_ptr, attrs_len)
    }

    #[inline]
    fn bound_record(bound: i64, value: i64) -> i32 {
        raw::metric_bound_record_i64(bound, value)
    }
}

impl sealed::Measure for f64 {
    const VALUE_TYPE: ValueType = ValueType::F64;

    #[inline]
    fn record(instrument: i64, value: f64, attrs_ptr: i32, attrs_len: i32) -> i32 {
        raw::metric_record_f64(instrument, value, attrs_ptr, attrs_len)
    }

    #[inline]
    fn bound_record(bound: i64, value: f64) -> i32 {
        raw::metric_bound_record_f64(bound, value)
    }
}

/// The instrument types, [`Counter`], [`UpDownCounter`], [`Histogram`] and [`Gauge`] (sealed): what an
/// [`InstrumentBuilder`] builds and a [`BoundInstrument`] is bound from.
pub trait Instrument: sealed::Instrument + Copy {}

/// What an instrument is created with, besides its kind and value type.
#[derive(Clone, Copy, Debug)]
struct Spec<'a> {
    name: &'a str,
    unit: &'a str,
    description: &'a str,
    boundaries: &'a [f64],
}

/// Configures an instrument before creating it; see [`Counter::builder`] and the other instruments'.
#[must_use = "a builder does nothing until `.build()`"]
#[derive(Clone, Copy, Debug)]
pub struct InstrumentBuilder<'a, I> {
    spec: Spec<'a>,
    instrument: PhantomData<fn() -> I>,
}

impl<'a, I: Instrument> InstrumentBuilder<'a, I> {
    #[inline]
    fn new(name: &'a str) -> Self {
        InstrumentBuilder {
            spec: Spec { name, unit: "", description: "", boundaries: &[] },
            instrument: PhantomData,
        }
    }

    /// Sets the unit, in [UCUM](https://ucum.org) as OpenTelemetry's semantic conventions use it: `ms`,
    /// `s`, `By`, `1`, or an annotation such as `{request}` (default: none).
    #[inline]
    pub fn unit(mut self, unit: &'a str) -> Self {
        self.spec.unit = unit;
        self
    }

    /// Sets the description (default: none).
    #[inline]
    pub fn description(mut self, description: &'a str) -> Self {
        self.spec.description = description;
        self
    }

    /// Creates the instrument; returns a no-op instrument if that fails (ABI mismatch, host error).
    /// With feature `std`, an ABI mismatch is reported once on stderr.
    #[inline]
    pub fn build(self) -> I {
        I::from_handle(build(I::KIND, I::VALUE_TYPE, &self.spec))
    }

    /// Creates the instrument like [`InstrumentBuilder::build`], but reports why it could not be
    /// created.
    #[inline]
    pub fn try_build(self) -> Result<I, Error> {
        create(I::KIND, I::VALUE_TYPE, &self.spec).map(|handle| I::from_handle(Some(handle)))
    }
}

impl<'a, T: Measure> InstrumentBuilder<'a, Histogram<T>> {
    /// Sets explicit bucket boundaries, which must be finite and strictly increasing (at most
    /// [`MAX_HISTOGRAM_BOUNDARIES`](crate::abi::limits::MAX_HISTOGRAM_BOUNDARIES)); the host refuses
    /// the histogram otherwise. Without them (or with `&[]`) the SDK's default boundaries apply.
    ///
    /// Bucket `i` counts the values `v` with `boundaries[i - 1] < v <= boundaries[i]`; the last bucket
    /// counts those above the last boundary.
    #[inline]
    pub fn boundaries(mut self, boundaries: &'a [f64]) -> Self {
        self.spec.boundaries = boundaries;
        self
    }
}

/// Asks the host for an instrument: the one code path behind every builder.
fn create(kind: InstrumentKind, value_type: ValueType, spec: &Spec<'_>) -> Result<NonZeroU64, Error> {
    check_abi()?;
    let (name, unit, description) = (spec.name.as_bytes(), spec.unit.as_bytes(), spec.description.as_bytes());
    handle_from_result(raw::instrument_create(
        kind as i32,
        value_type as i32,
        raw::ptr(name),
        raw::len(name),
        raw::ptr(unit),
        raw::len(unit),
        raw::ptr(description),
        raw::len(description),
        raw::ptr_f64s(spec.boundaries),
        raw::len_f64s(spec.boundaries),
    ))
}

/// [`create`], with a failure turned into a no-op instrument (and reported with `std`).
fn build(kind: InstrumentKind, value_type: ValueType, spec: &Spec<'_>) -> Option<NonZeroU64> {
    let result = create(kind, value_type, spec);
    #[cfg(feature = "std")]
    if let Err(error) = &result {
        crate::api::warn_once(error);
    }
    result.ok()
}

/// Records a measurement with attributes (sent in one buffer; those that do not fit are dropped).
fn record<T: Measure>(instrument: Option<NonZeroU64>, value: T, attributes: &[KeyValue<'_>]) {
    if let Some(instrument) = instrument {
        with_attributes(attributes, |attrs_ptr, attrs_len| {
            T::record(instrument.get() as i64, value, attrs_ptr, attrs_len)
        });
    }
}

/// Binds an instrument to attributes; `None` for a no-op instrument or a refused binding.
fn bind(instrument: Option<NonZeroU64>, attributes: &[KeyValue<'_>]) -> Option<NonZeroU64> {
    let instrument = instrument?.get() as i64;
    let result = with_attributes(attributes, |attrs_ptr, attrs_len| {
        raw::metric_bind(instrument, attrs_ptr, attrs_len)
    });
    handle_from_result(result).ok()
}

/// An instrument bound to a fixed attribute set by `bind` (e.g. [`Counter::bind`]): it records with
/// the instrument's method, minus the attributes, in one host call passing two numbers.
///
/// A `BoundInstrument` is a no-op (see [`is_recording`](BoundInstrument::is_recording)) when its
/// instrument is one or the host refused the binding. Its host handle lives as long as the instance.
#[derive(Debug)]
pub struct BoundInstrument<I> {
    handle: Option<NonZeroU64>,
    instrument: PhantomData<fn() -> I>,
}

impl<I> Clone for BoundInstrument<I> {
    #[inline]
    fn clone(&self) -> Self {
        *self
    }
}

impl<I> Copy for BoundInstrument<I> {}

impl<I> BoundInstrument<I> {
    /// The host's bound handle (usable with [`raw`]), `None` for a no-op.
    #[inline]
    pub fn handle(&self) -> Option<NonZeroU64> {
        self.handle
    }

    /// Whether measurements reach the host (`false` for a no-op).
    #[inline]
    pub fn is_recording(&self) -> bool {
        self.handle.is_some()
    }
}

/// Records on a bound handle, if any.
#[inline]
fn bound_record<T: Measure>(bound: Option<NonZeroU64>, value: T) {
    if let Some(bound) = bound {
        T::bound_record(bound.get() as i64, value);
    }
}

macro_rules! instruments {
    ($(
        $(#[$doc:meta])*
        $name:ident($example:literal) {
            $(#[$method_doc:meta])*
            fn $method:ident;
        }
    )*) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug)]
        pub struct $name<T: Measure> {
            handle: Option<NonZeroU64>,
            value: PhantomData<T>,
        }

        impl<T: Measure> $name<T> {
            #[doc = concat!("A builder for a `", stringify!($name), "` named `name`, e.g. `", $example, "`.")]
            #[doc = ""]
            #[doc = "A name is ASCII, at most 255 characters, a letter then letters, digits, `_`, `.`, `-`"]
            #[doc = "and `/`; a unit at most 63 ASCII characters (OpenTelemetry's rules). The host refuses an"]
            #[doc = "instrument that breaks them: it is a no-op, and `try_build` returns `INVALID_ARGUMENT`."]
            #[inline]
            pub fn builder(name: &str) -> InstrumentBuilder<'_, Self> {
                InstrumentBuilder::new(name)
            }

            /// An instrument that records nothing and calls nothing.
            #[inline]
            pub const fn noop() -> Self {
                $name { handle: None, value: PhantomData }
            }

            /// The host's instrument handle (usable with [`raw`]), `None` for a no-op instrument.
            #[inline]
            pub fn handle(&self) -> Option<NonZeroU64> {
                self.handle
            }

            /// Whether this instrument reaches the host (`false` for a no-op instrument).
            #[inline]
            pub fn is_recording(&self) -> bool {
                self.handle.is_some()
            }

            $(#[$method_doc])*
            ///
            /// The attributes go in one buffer of [`BUFFER_LEN`](crate::encode::BUFFER_LEN) bytes:
            /// those that do not fit are dropped (the others are kept, in order).
            #[inline]
            pub fn $method(&self, value: T, attributes: &[KeyValue<'_>]) {
                record(self.handle, value, attributes);
            }

            /// Binds the instrument to `attributes` (one buffer, as for measurements), for measurements
            /// that pass only a number; see [`BoundInstrument`]. Bind once and keep the result: each
            /// distinct attribute set takes a host handle for the rest of the instance's life (the same
            /// one again returns the same handle).
            #[inline]
            pub fn bind(&self, attributes: &[KeyValue<'_>]) -> BoundInstrument<Self> {
                BoundInstrument { handle: bind(self.handle, attributes), instrument: PhantomData }
            }
        }

        impl<T: Measure> Default for $name<T> {
            /// A no-op instrument.
            #[inline]
            fn default() -> Self {
                Self::noop()
            }
        }

        impl<T: Measure> BoundInstrument<$name<T>> {
            $(#[$method_doc])*
            /// With the bound attributes.
            #[inline]
            pub fn $method(&self, value: T) {
                bound_record(self.handle, value);
            }
        }

        impl<T: Measure> sealed::Instrument for $name<T> {
            const KIND: InstrumentKind = InstrumentKind::$name;
            const VALUE_TYPE: ValueType = T::VALUE_TYPE;

            #[inline]
            fn from_handle(handle: Option<NonZeroU64>) -> Self {
                $name { handle, value: PhantomData }
            }
        }

        impl<T: Measure> Instrument for $name<T> {}
    )*};
}

instruments! {
    /// A monotonic sum: counts things that only go up (requests served, bytes sent). Values must not
    /// be negative.
    Counter("http.server.requests") {
        /// Adds `value` (must not be negative: the host refuses it).
        fn add;
    }

    /// A sum that goes up and down (requests in flight, queue length).
    UpDownCounter("app.requests.active") {
        /// Adds `value`, which may be negative.
        fn add;
    }

    /// A distribution of values (durations, sizes) in buckets, with their count, sum, minimum and
    /// maximum. Values must not be negative. Set explicit buckets with
    /// [`InstrumentBuilder::boundaries`].
    Histogram("http.server.request.duration") {
        /// Records `value` (must not be negative: the host refuses it).
        fn record;
    }

    /// The last value of something sampled now and then (memory in use, temperature).
    Gauge("app.memory.used") {
        /// Sets the gauge to `value`.
        fn record;
    }
}
