//! Per-instance tracing state: the open spans a guest holds handles to, and which one is current.
//!
//! Every span a guest starts becomes the instance's current span until it ends, so a guest that
//! never passes a parent still gets correctly nested trees. Spans left open when the guest exits
//! are ended by [`SpanTable::end_unfinished`], marked as unfinished, so they are exported too.

use super::error::{HostError, HostResult};
use super::handles::{Handle, HandleError, HandleTable};
use opentelemetry::trace::{self, Span as _, SpanContext, TraceContextExt, Tracer as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{SdkTracer, Span as SdkSpan};
use std::borrow::Cow;
use std::sync::{Arc, Mutex, Weak};
use std::time::SystemTime;
use wasmedge_otel_abi::{SpanKind, StatusCode, PARENT_CURRENT, PARENT_NONE};

/// Attribute set on spans the plugin had to end because the guest exited first.
pub const UNFINISHED_ATTRIBUTE: &str = "wasmedge_otel.unfinished";
/// Status message of such spans.
pub const UNFINISHED_MESSAGE: &str = "span was not ended before the guest exited";

/// Where a new span's parent comes from.
#[derive(Clone, Debug)]
pub enum Parent {
    /// The instance's current span, or the run's root context when none is open.
    Current,
    /// No local parent: the span descends from the run's root context (`TRACEPARENT`), and
    /// starts a new trace when there is none.
    None,
    /// The open span with this handle.
    Span(Handle),
    /// A remote span, from incoming trace context headers.
    Remote(Context),
}

impl Parent {
    /// Decodes the ABI's `parent` argument.
    pub fn from_abi(parent: i64) -> HostResult<Parent> {
        match parent {
            PARENT_CURRENT => Ok(Parent::Current),
            PARENT_NONE => Ok(Parent::None),
            h if h > 0 => Ok(Parent::Span(h as Handle)),
            h => Err(HostError::InvalidHandle(h as u64)),
        }
    }
}

/// The spans a module instance has open, addressed by handle.
pub struct SpanTable {
    spans: HandleTable<SdkSpan>,
    /// Open spans in start order; the last one is the current span.
    current: Vec<Handle>,
}

fn lookup(err: HandleError, handle: Handle) -> HostError {
    match err {
        HandleError::NotPresent => HostError::InvalidHandle(handle),
        HandleError::Full => HostError::LimitExceeded("too many open spans in this instance"),
    }
}

fn otel_kind(kind: SpanKind) -> trace::SpanKind {
    match kind {
        SpanKind::Internal => trace::SpanKind::Internal,
        SpanKind::Server => trace::SpanKind::Server,
        SpanKind::Client => trace::SpanKind::Client,
        SpanKind::Producer => trace::SpanKind::Producer,
        SpanKind::Consumer => trace::SpanKind::Consumer,
    }
}

/// A parent given only by its context: the SDK reads nothing but `span_context()` from it.
/// (`Context::with_remote_span_context` would wrongly flag a local parent as remote.)
#[derive(Debug)]
struct LocalParent(SpanContext);

impl trace::Span for LocalParent {
    fn add_event_with_timestamp<T: Into<Cow<'static, str>>>(
        &mut self,
        _: T,
        _: SystemTime,
        _: Vec<KeyValue>,
    ) {
    }
    fn span_context(&self) -> &SpanContext {
        &self.0
    }
    fn is_recording(&self) -> bool {
        false
    }
    fn set_attribute(&mut self, _: KeyValue) {}
    fn set_status(&mut self, _: trace::Status) {}
    fn update_name<T: Into<Cow<'static, str>>>(&mut self, _: T) {}
    fn add_link(&mut self, _: SpanContext, _: Vec<KeyValue>) {}
    fn end_with_timestamp(&mut self, _: SystemTime) {}
}

impl SpanTable {
    /// An empty table allowing `max_open` spans open at once.
    pub fn new(max_open: usize) -> Self {
        SpanTable { spans: HandleTable::with_capacity(max_open), current: Vec::new() }
    }

    /// Number of open spans.
    pub fn open(&self) -> usize {
        self.spans.len()
    }

    /// The current span, if any is open.
    pub fn current(&self) -> Option<Handle> {
        self.current.last().copied()
    }

    /// The span context of the current span, for correlating log records.
    pub fn current_context(&self) -> Option<SpanContext> {
        let handle = self.current()?;
        self.spans.get(handle).ok().map(|s| s.span_context().clone())
    }

    /// The span context of an open span.
    pub fn context_of(&self, handle: Handle) -> HostResult<SpanContext> {
        self.spans.get(handle).map(|s| s.span_context().clone()).map_err(|e| lookup(e, handle))
    }

    fn span(&mut self, handle: Handle) -> HostResult<&mut SdkSpan> {
        self.spans.get_mut(handle).map_err(|e| lookup(e, handle))
    }

    /// Starts a span with `tracer` and makes it current. `root` is the context a span with no
    /// open parent descends from (the run's remote parent, or empty).
    pub fn start(
        &mut self,
        tracer: &SdkTracer,
        root: &Context,
        name: &str,
        kind: SpanKind,
        parent: Parent,
        attributes: Vec<KeyValue>,
    ) -> HostResult<Handle> {
        // Checked before the SDK span exists: a dropped SDK span ends itself and would be exported.
        if self.spans.is_full() {
            return Err(lookup(HandleError::Full, 0));
        }
        let parent_cx = match parent {
            Parent::None => root.clone(),
            Parent::Current => match self.current() {
                Some(h) => Context::new().with_span(LocalParent(self.span(h)?.span_context().clone())),
                None => root.clone(),
            },
            Parent::Span(h) => Context::new().with_span(LocalParent(self.span(h)?.span_context().clone())),
            Parent::Remote(cx) => cx,
        };
        let span = tracer
            .span_builder(name.to_owned())
            .with_kind(otel_kind(kind))
            .with_attributes(attributes)
            .start_with_context(tracer, &parent_cx);
        let handle = self.spans.insert(span).map_err(|e| lookup(e, 0))?;
        self.current.push(handle);
        Ok(handle)
    }

    /// Ends a span; its handle becomes invalid.
    pub fn end(&mut self, handle: Handle) -> HostResult<()> {
        let span = self.spans.remove(handle).map_err(|e| lookup(e, handle))?;
        finish(span);
        if self.current.last() == Some(&handle) {
            self.current.pop();
        } else if let Some(i) = self.current.iter().rposition(|h| *h == handle) {
            self.current.remove(i);
        }
        Ok(())
    }

    /// Sets attributes on an open span.
    pub fn set_attributes(&mut self, handle: Handle, attributes: Vec<KeyValue>) -> HostResult<()> {
        self.span(handle)?.set_attributes(attributes);
        Ok(())
    }

    /// Adds an event to an open span.
    pub fn add_event(&mut self, handle: Handle, name: &str, attributes: Vec<KeyValue>) -> HostResult<()> {
        self.span(handle)?.add_event(name.to_owned(), attributes);
        Ok(())
    }

    /// Sets an open span's status; the message is kept only for [`StatusCode::Error`].
    pub fn set_status(&mut self, handle: Handle, code: StatusCode, message: &str) -> HostResult<()> {
        let status = match code {
            StatusCode::Unset => trace::Status::Unset,
            StatusCode::Ok => trace::Status::Ok,
            StatusCode::Error => trace::Status::error(message.to_owned()),
        };
        self.span(handle)?.set_status(status);
        Ok(())
    }

    /// Adds an `exception` event with the semantic-convention attributes.
    pub fn record_exception(
        &mut self,
        handle: Handle,
        exception_type: &str,
        message: &str,
        mut attributes: Vec<KeyValue>,
    ) -> HostResult<()> {
        let span = self.span(handle)?;
        let mut event = Vec::with_capacity(attributes.len() + 2);
        if !exception_type.is_empty() {
            event.push(KeyValue::new("exception.type", exception_type.to_owned()));
        }
        if !message.is_empty() {
            event.push(KeyValue::new("exception.message", message.to_owned()));
        }
        event.append(&mut attributes);
        span.add_event("exception", super::attributes::keep_last_per_key(event));
        Ok(())
    }

    /// Ends every open span, newest first, with status error and [`UNFINISHED_ATTRIBUTE`] set.
    /// Returns how many there were.
    pub fn end_unfinished(&mut self) -> usize {
        let mut open = self.spans.drain();
        self.current.clear();
        open.reverse();
        let count = open.len();
        for (_, mut span) in open {
            span.set_attribute(KeyValue::new(UNFINISHED_ATTRIBUTE, true));
            span.set_status(trace::Status::error(UNFINISHED_MESSAGE));
            finish(span);
        }
        count
    }
}

/// Ends a span, counting it when it is sampled (and so goes on to the exporters).
fn finish(mut span: SdkSpan) {
    if span.span_context().is_sampled() {
        super::stats::count_span_ended();
    }
    span.end();
}

static TABLES: Mutex<Vec<Weak<Mutex<SpanTable>>>> = Mutex::new(Vec::new());

/// Makes a table reachable by [`end_unfinished_everywhere`].
pub fn register(table: &Arc<Mutex<SpanTable>>) {
    let mut tables = TABLES.lock().unwrap_or_else(|p| p.into_inner());
    tables.retain(|t| t.strong_count() > 0);
    tables.push(Arc::downgrade(table));
}

/// Ends the open spans of every live instance, as unfinished; for a process about to be stopped
/// by a signal, where no instance finalizer will run. Returns how many were ended.
pub fn end_unfinished_everywhere() -> usize {
    let tables: Vec<_> =
        TABLES.lock().unwrap_or_else(|p| p.into_inner()).iter().filter_map(Weak::upgrade).collect();
    tables.iter().map(|t| t.lock().unwrap_or_else(|p| p.into_inner()).end_unfinished()).sum()
}
