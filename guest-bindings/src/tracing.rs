//! A [`tracing`](https://docs.rs/tracing) subscriber: spans and events of the `tracing` crate become
//! host spans, span attributes, span events and log records (feature `tracing`).
//!
//! ```
//! # use ::tracing::{error, info, info_span, instrument, warn};
//! #[instrument] // a span `load` with attributes `path` and `retries`
//! fn load(path: &str, retries: u32) -> usize {
//!     info!(bytes = 512, "loaded"); // an event `loaded` of `load`
//!     512
//! }
//!
//! wasmedge_otel_guest::tracing::init().expect("no other subscriber is set");
//! let request = info_span!("request", otel.kind = "server", http.route = "/api/load").entered();
//! load("/etc/app.toml", 2); // a child of `request`
//! warn!("slow");
//! # drop(request);
//! ```
//!
//! [`init`] installs a [`Bridge`] with the default settings as the global default subscriber;
//! `Bridge::new()` and its setters, then [`Bridge::init`], configure it. The `tracing` macros and
//! `#[instrument]` then need nothing else: this crate is the whole subscriber, with no
//! `tracing-subscriber`, and like the rest of the crate it is `no_std` (with `alloc`).
//!
//! # Spans
//!
//! Each `tracing` span is one host span, started when the `tracing` span is created and ended when
//! its last handle is dropped (clones keep it open). Its [`span::Id`] *is* the host handle, so a
//! span id can be passed to the [`raw`] functions.
//!
//! * **Name**: the span's name (for `#[instrument]`, the function's), or the field `otel.name`.
//! * **Kind**: `Internal`, or the field `otel.kind`: `"server"`, `"client"`, `"producer"`,
//!   `"consumer"` or `"internal"` (any case).
//! * **Parent**: `tracing`'s own: the explicit `parent:` of the macro, or the span entered when the
//!   span is created (`#[instrument]`, [`Span::enter`](https://docs.rs/tracing/latest/tracing/struct.Span.html#method.enter),
//!   `entered`, `in_scope`), passed to the host as an explicit parent. (The host's implicit parent is
//!   the span started last, which is not the same thing: a span created but not entered is not the
//!   parent of the next one.) A span with no `tracing` parent (`parent: None`, or nothing entered)
//!   starts under the host's current span when that is not a `tracing` span (one started with the
//!   rest of this crate's API, say), else without a local parent: a new trace, or the run's
//!   `TRACEPARENT`.
//! * **Attributes**: every field with a value, typed as below; a field declared
//!   [`Empty`](https://docs.rs/tracing/latest/tracing/field/struct.Empty.html) and recorded later
//!   with `Span::record` is set then (`span_set_attributes`).
//! * **Status**: the fields `otel.status_code` (`"ok"`, `"error"`, `"unset"`) with
//!   `otel.status_description`, at creation or recorded later; and an `ERROR` event in the span sets
//!   the status to error with the event's message (see [`Bridge::error_events_set_status`]).
//!
//! The `otel.*` fields above are not attributes. `otel.name` and `otel.kind` only count when the span
//! is created. `follows_from` relations are not recorded (the ABI has no links).
//!
//! # Events
//!
//! An event in a span (its explicit `parent:`, else the entered span) becomes a span event of that
//! span ([`Bridge::events_as_span_events`]); an event outside any span becomes a log record
//! ([`Bridge::events_as_logs`]; by default [`EventsAsLogs::OutsideSpans`]).
//!
//! * A span event is named by the event's `message` (the formatted text of `info!("...")`), else the
//!   event's name (`event file.rs:line`). Its attributes are the other fields, then `code.namespace`
//!   (the module path), `target` when the target is not the module path (an explicit `target:`),
//!   and `level` (`"INFO"`, ...).
//! * A log record has the severity of the level (`ERROR` 17, `WARN` 13, `INFO` 9, `DEBUG` 5, `TRACE`
//!   1), the `message` as its body (empty without one), and the attributes of a span event but
//!   `level`. The host stamps it with the trace and span ids of its current span: the span started
//!   last and still open. That is the entered span whenever spans are entered as they are created, as
//!   `#[instrument]`, `entered()` and `in_scope` do.
//!
//! # Field values
//!
//! As `opentelemetry-appender-tracing` maps them: `i64`, and the other integers when they fit in an
//! `i64`, are `i64` attributes (larger ones become their decimal string); `f64` is `f64`, `bool`
//! `bool`, `&str` a string, and a value recorded with `?` (`Debug`), `%` (`Display`) or as an error
//! is its formatted string.
//!
//! # Levels
//!
//! A [`Bridge`] records `INFO` and more severe by default (as `tracing-subscriber`'s `fmt` does);
//! [`Bridge::max_level`] changes that. Disabled spans and events cost their callsite's check only.
//!
//! # Cost
//!
//! Each span costs `span_start` and `span_end` (and a `span_current` before `span_start` when it has
//! no `tracing` parent while another `tracing` span is open); each `record` one `span_set_attributes`;
//! each event one `span_add_event` or `log_emit` (both when configured), plus `span_set_status` for
//! an `ERROR` event in a span. Field values are collected into a small heap buffer, strings copied,
//! before the attribute buffer is encoded (1 KiB, as for [`Span`]: span attributes that do not fit
//! follow in more calls, event attributes that do not fit are dropped). The span table is behind a
//! spin lock, never held during a host call or a user's `Debug` impl.
//!
//! A span the host refuses (a limit hit) is a no-op whose children and events go to its parent. On an
//! ABI mismatch every span is a no-op and nothing reaches the host, as with [`Span`].
//!
//! Like the `log` bridge, this module is compiled into the program that uses it, not into this crate
//! (see the `bridge` module's source), so that a program that does not use it links the same code
//! with the feature on as without, but for what `tracing-core` itself exports.

use alloc::borrow::{Cow, ToOwned};
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::mem::ManuallyDrop;
use core::num::NonZeroU64;

use tracing_core::field::{Field, Visit};
use tracing_core::span::{self, Current};
use tracing_core::subscriber::Interest;
use tracing_core::{Dispatch, Event, Level, Metadata, Subscriber};

pub use tracing_core::dispatcher::SetGlobalDefaultError;
pub use tracing_core::LevelFilter;

use crate::abi::{PARENT_CURRENT, PARENT_NONE};
use crate::api::check_abi;
use crate::bridge::{debug, display, Attributes, OwnedValue};
use crate::{kv, logs, raw, Severity, Span, SpanBuilder, SpanKind, SpanStatus};

mod lock;

use lock::Lock;

/// Installs a [`Bridge`] with the default settings as the global default `tracing` subscriber.
///
/// Fails if a global default subscriber is already set (`tracing` allows one per program).
#[inline]
pub fn init() -> Result<(), SetGlobalDefaultError> {
    Bridge::new().init()
}

/// Which `tracing` events become log records, besides (or instead of) span events.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum EventsAsLogs {
    /// None: an event outside any span is dropped.
    Never,
    /// The events that do not become span events: those outside any span, and every event when span
    /// events are off ([`Bridge::events_as_span_events`]). The default: no event is lost, none is
    /// recorded twice.
    #[default]
    OutsideSpans,
    /// Every event, in a span or not (one in a span also becomes a span event if those are on).
    Always,
}

/// The `tracing` subscriber: a [`tracing_core::Subscriber`] sending spans and events to the host.
///
/// Configure it with the setters, then install it with [`Bridge::init`] (or with any `tracing`
/// function that takes a subscriber, such as `tracing::subscriber::with_default`).
///
/// ```
/// use wasmedge_otel_guest::tracing::{Bridge, EventsAsLogs, LevelFilter};
///
/// Bridge::new()
///     .max_level(LevelFilter::DEBUG)
///     .events_as_logs(EventsAsLogs::Always)
///     .init()
///     .expect("no other subscriber is set");
/// ```
pub struct Bridge {
    max_level: LevelFilter,
    span_events: bool,
    logs: EventsAsLogs,
    error_status: bool,
    state: Lock<State>,
}

/// The spans this subscriber created and has not closed yet, and the entered ones.
struct State {
    spans: BTreeMap<u64, Entry>,
    /// Entered spans, innermost last (a span entered twice is here twice).
    stack: Vec<u64>,
    /// Ids handed out to no-op spans so far.
    noops: u64,
}

struct Entry {
    /// Open handles (`new_span` and each `clone_span`, minus each `try_close`).
    refs: usize,
    metadata: &'static Metadata<'static>,
    /// The host span this span stands for: its handle, or for a no-op span what it was given as its
    /// parent (its children and events use that instead).
    host: i64,
}

/// Ids of no-op spans (the host refused the span, or speaks another ABI) have this bit set; host
/// handles are positive `i64`s, so never do.
const NOOP: u64 = 1 << 63;

impl Bridge {
    /// A subscriber with the default settings: `INFO` and above, events in spans as span events,
    /// events outside spans as log records, `ERROR` events setting their span's status.
    #[inline]
    pub const fn new() -> Bridge {
        Bridge {
            max_level: LevelFilter::INFO,
            span_events: true,
            logs: EventsAsLogs::OutsideSpans,
            error_status: true,
            state: Lock::new(State { spans: BTreeMap::new(), stack: Vec::new(), noops: 0 }),
        }
    }

    /// Records spans and events of `max_level` and more severe only (default `INFO`).
    #[inline]
    pub const fn max_level(mut self, max_level: LevelFilter) -> Self {
        self.max_level = max_level;
        self
    }

    /// Whether an event in a span becomes a span event of it (default `true`).
    #[inline]
    pub const fn events_as_span_events(mut self, on: bool) -> Self {
        self.span_events = on;
        self
    }

    /// Which events become log records (default [`EventsAsLogs::OutsideSpans`]).
    #[inline]
    pub const fn events_as_logs(mut self, logs: EventsAsLogs) -> Self {
        self.logs = logs;
        self
    }

    /// Whether an `ERROR` event in a span sets the span's status to error, with the event's message
    /// as the description (default `true`, as `tracing-opentelemetry` does). The status is set even
    /// when the event does not become a span event.
    #[inline]
    pub const fn error_events_set_status(mut self, on: bool) -> Self {
        self.error_status = on;
        self
    }

    /// Installs this subscriber as the global default (see [`init`]).
    #[inline]
    pub fn init(self) -> Result<(), SetGlobalDefaultError> {
        tracing_core::dispatcher::set_global_default(Dispatch::new(self))
    }

    /// The host span a new span or an event that is not a root belongs to by `tracing`'s rules: its
    /// explicit parent, else the innermost entered span. `None` when it has neither.
    #[inline]
    fn parent(&self, explicit: Option<&span::Id>) -> Option<i64> {
        let explicit = explicit.map(span::Id::into_u64);
        self.state.with(|s| {
            // An explicit parent this subscriber does not know (another's) counts as none.
            let id = explicit.filter(|id| s.spans.contains_key(id)).or_else(|| s.stack.last().copied())?;
            s.spans.get(&id).map(|e| e.host)
        })
    }

    /// The `parent` argument of `span_start` for a span without a `tracing` parent: the host's current
    /// span, unless that is a `tracing` span (created but not entered, so not a parent by `tracing`'s
    /// rules), in which case none.
    #[inline]
    fn outer_parent(&self) -> i64 {
        let any_open = self.state.with(|s| s.spans.keys().any(|id| id & NOOP == 0));
        if !any_open || check_abi().is_err() {
            return PARENT_CURRENT;
        }
        let current = raw::span_current();
        let ours = current > 0 && self.state.with(|s| s.spans.contains_key(&(current as u64)));
        if ours {
            PARENT_NONE
        } else {
            PARENT_CURRENT
        }
    }
}

impl Default for Bridge {
    #[inline]
    fn default() -> Self {
        Bridge::new()
    }
}

impl fmt::Debug for Bridge {
    #[inline]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bridge")
            .field("max_level", &self.max_level)
            .field("span_events", &self.span_events)
            .field("logs", &self.logs)
            .field("error_status", &self.error_status)
            .finish_non_exhaustive()
    }
}

/// A borrowed guard of the open host span `handle` (never ends it).
#[inline]
fn view(handle: i64) -> Option<ManuallyDrop<Span>> {
    let handle = NonZeroU64::new(u64::try_from(handle).ok()?)?;
    Some(ManuallyDrop::new(Span::from_handle(handle)))
}

#[inline]
fn severity(level: &Level) -> Severity {
    match *level {
        Level::ERROR => Severity::Error,
        Level::WARN => Severity::Warn,
        Level::INFO => Severity::Info,
        Level::DEBUG => Severity::Debug,
        _ => Severity::Trace,
    }
}

#[inline]
fn kind(name: &str) -> Option<SpanKind> {
    let kinds = [
        ("internal", SpanKind::Internal),
        ("server", SpanKind::Server),
        ("client", SpanKind::Client),
        ("producer", SpanKind::Producer),
        ("consumer", SpanKind::Consumer),
    ];
    kinds.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, k)| *k)
}

/// The fields of a span: attributes, and the `otel.*` fields.
#[derive(Default)]
struct SpanFields {
    attributes: Attributes<'static>,
    name: Option<String>,
    kind: Option<String>,
    status_code: Option<String>,
    status_description: Option<String>,
}

impl SpanFields {
    #[inline]
    fn put(&mut self, field: &Field, value: OwnedValue<'static>) {
        let slot = match field.name() {
            "otel.name" => &mut self.name,
            "otel.kind" => &mut self.kind,
            "otel.status_code" => &mut self.status_code,
            "otel.status_description" => &mut self.status_description,
            name => return self.attributes.push(name, value),
        };
        *slot = Some(match value {
            OwnedValue::Str(s) => s.into_owned(),
            OwnedValue::Bool(b) => display(&b),
            OwnedValue::I64(i) => display(&i),
            OwnedValue::F64(f) => display(&f),
        });
    }

    /// The status `otel.status_code` and `otel.status_description` give, if any.
    #[inline]
    fn status(&self) -> Option<SpanStatus<'_>> {
        let code = self.status_code.as_deref()?;
        let description = self.status_description.as_deref().unwrap_or("");
        [("ok", SpanStatus::Ok), ("error", SpanStatus::Error(description)), ("unset", SpanStatus::Unset)]
            .into_iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(code))
            .map(|(_, status)| status)
    }
}

/// The fields of an event: the `message`, and the others as attributes.
#[derive(Default)]
struct EventFields {
    message: Option<String>,
    attributes: Attributes<'static>,
}

impl EventFields {
    #[inline]
    fn put(&mut self, field: &Field, value: OwnedValue<'static>) {
        match (field.name(), value) {
            ("message", OwnedValue::Str(s)) => self.message = Some(s.into_owned()),
            (name, value) => self.attributes.push(name, value),
        }
    }
}

/// The one `Visit` of both field sets: each value as [`OwnedValue`].
macro_rules! visit {
    ($fields:ty) => {
        impl Visit for $fields {
            #[inline]
            fn record_f64(&mut self, field: &Field, value: f64) {
                self.put(field, OwnedValue::F64(value));
            }
            #[inline]
            fn record_i64(&mut self, field: &Field, value: i64) {
                self.put(field, OwnedValue::I64(value));
            }
            #[inline]
            fn record_u64(&mut self, field: &Field, value: u64) {
                self.put(field, OwnedValue::int(value));
            }
            #[inline]
            fn record_i128(&mut self, field: &Field, value: i128) {
                self.put(field, OwnedValue::int(value));
            }
            #[inline]
            fn record_u128(&mut self, field: &Field, value: u128) {
                self.put(field, OwnedValue::int(value));
            }
            #[inline]
            fn record_bool(&mut self, field: &Field, value: bool) {
                self.put(field, OwnedValue::Bool(value));
            }
            #[inline]
            fn record_str(&mut self, field: &Field, value: &str) {
                self.put(field, OwnedValue::Str(Cow::Owned(value.to_owned())));
            }
            #[inline]
            fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
                self.put(field, OwnedValue::Str(Cow::Owned(debug(value))));
            }
        }
    };
}

visit!(SpanFields);
visit!(EventFields);

impl Subscriber for Bridge {
    #[inline]
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        if self.enabled(metadata) {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    #[inline]
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        *metadata.level() <= self.max_level
    }

    #[inline]
    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(self.max_level)
    }

    #[inline]
    fn new_span(&self, attrs: &span::Attributes<'_>) -> span::Id {
        let metadata = attrs.metadata();
        let mut fields = SpanFields::default();
        attrs.record(&mut fields);
        let parent = if attrs.is_root() {
            PARENT_NONE
        } else {
            self.parent(attrs.parent()).unwrap_or_else(|| self.outer_parent())
        };
        let name = fields.name.as_deref().unwrap_or(metadata.name());
        let kind = fields.kind.as_deref().and_then(kind).unwrap_or(SpanKind::Internal);
        // The attributes go with `span_start` (so samplers see them); the status follows.
        let span = fields
            .attributes
            .with(|kvs| SpanBuilder::new(name).kind(kind).parent_handle(parent).attributes(kvs).start());
        if let Some(status) = fields.status() {
            span.set_status(status);
        }
        let handle = span.into_handle();
        self.state.with(|s| {
            let (id, host) = match handle {
                Some(handle) => (handle.get(), handle.get() as i64),
                None => {
                    s.noops += 1;
                    (NOOP | s.noops, parent)
                }
            };
            s.spans.insert(id, Entry { refs: 1, metadata, host });
            span::Id::from_u64(id)
        })
    }

    #[inline]
    fn record(&self, id: &span::Id, values: &span::Record<'_>) {
        // A recording span's id is its host handle.
        let id = id.into_u64();
        let Some(span) = view(if id & NOOP == 0 { id as i64 } else { 0 }) else { return };
        let mut fields = SpanFields::default();
        values.record(&mut fields);
        if !fields.attributes.is_empty() {
            fields.attributes.with(|kvs| span.set_attributes(kvs));
        }
        if let Some(status) = fields.status() {
            span.set_status(status);
        }
    }

    #[inline]
    fn record_follows_from(&self, _span: &span::Id, _follows: &span::Id) {}

    #[inline]
    fn event(&self, event: &Event<'_>) {
        let metadata = event.metadata();
        let host = if event.is_root() { None } else { self.parent(event.parent()) };
        let span = host.and_then(view);
        let span_event = self.span_events && span.is_some();
        let log = match self.logs {
            EventsAsLogs::Never => false,
            EventsAsLogs::OutsideSpans => !span_event,
            EventsAsLogs::Always => true,
        };
        let error_status = self.error_status && span.is_some() && *metadata.level() == Level::ERROR;
        if !(span_event || log || error_status) {
            return;
        }
        let mut fields = EventFields::default();
        event.record(&mut fields);
        let message = fields.message.as_deref();
        let mut attributes = fields.attributes;
        attributes.push_location(metadata.module_path(), metadata.target());
        let mut kvs = attributes.key_values();
        if let Some(span) = span.as_deref() {
            if span_event {
                kvs.push(kv("level", metadata.level().as_str()));
                span.add_event(message.unwrap_or(metadata.name()), &kvs);
                kvs.pop();
            }
            if error_status {
                span.set_status(SpanStatus::Error(message.unwrap_or("")));
            }
        }
        if log {
            logs::emit(severity(metadata.level()), message.unwrap_or(""), &kvs);
        }
    }

    #[inline]
    fn enter(&self, id: &span::Id) {
        self.state.with(|s| s.stack.push(id.into_u64()));
    }

    #[inline]
    fn exit(&self, id: &span::Id) {
        let id = id.into_u64();
        self.state.with(|s| {
            if let Some(at) = s.stack.iter().rposition(|&entered| entered == id) {
                s.stack.remove(at);
            }
        });
    }

    #[inline]
    fn clone_span(&self, id: &span::Id) -> span::Id {
        self.state.with(|s| {
            if let Some(entry) = s.spans.get_mut(&id.into_u64()) {
                entry.refs += 1;
            }
        });
        id.clone()
    }

    #[inline]
    fn try_close(&self, id: span::Id) -> bool {
        let id = id.into_u64();
        let closed = self.state.with(|s| {
            let entry = s.spans.get_mut(&id)?;
            entry.refs -= 1;
            if entry.refs > 0 {
                return None;
            }
            s.spans.remove(&id)
        });
        match closed {
            Some(_) => {
                // Ends the host span, outside the lock.
                if let Some(handle) = NonZeroU64::new(id).filter(|_| id & NOOP == 0) {
                    drop(Span::from_handle(handle));
                }
                true
            }
            None => false,
        }
    }

    #[inline]
    fn current_span(&self) -> Current {
        self.state.with(|s| {
            let current = s.stack.last().and_then(|id| Some((*id, s.spans.get(id)?.metadata)));
            match current {
                Some((id, metadata)) => Current::new(span::Id::from_u64(id), metadata),
                None => Current::none(),
            }
        })
    }
}
