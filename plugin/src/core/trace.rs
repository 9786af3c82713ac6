//! Per-instance tracing state: the open spans a guest holds handles to, and which one is current.
//!
//! Every span a guest starts becomes the instance's current span until it ends, so a guest that
//! never passes a parent still gets correctly nested trees. Spans left open when the guest exits
//! are ended by [`SpanTable::end_unfinished`], marked as unfinished, so they are exported too.

use super::error::{HostError, HostResult};
use super::functions::{self, Frame, FunctionNames};
use super::handles::{Handle, HandleError, HandleTable};
use opentelemetry::trace::{self, Span as _, SpanContext, TraceContextExt, Tracer as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{SdkTracer, Span as SdkSpan};
use std::borrow::Cow;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use std::time::SystemTime;
use wasmedge_otel_abi::limits::MAX_FUNCTION_DEPTH;
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

/// Most distinct attribute keys kept per open span from `span_set_attributes` (the SDK's own count
/// limit applies on top).
const MAX_SPAN_ATTRIBUTES: usize = 1024;

/// An open span. Boxed, so the SDK span (several hundred bytes) is not copied on every move.
///
/// The attributes given at start go to the SDK with the span. Those set later are kept here, the
/// last value of each key winning, and handed over once when the span ends: the SDK's
/// `set_attribute` appends, so setting a key twice would record it twice and count twice against
/// the attribute limit. A key set both at start and later is merged on the export thread
/// ([`MergeRepeatedKeys`](crate::export::traces::MergeRepeatedKeys)), off the guest's hot path.
struct OpenSpan {
    span: SdkSpan,
    later: Vec<KeyValue>,
}

impl OpenSpan {
    /// Adds `attributes` to those set since start: a known key takes the new value in place, a
    /// new key past [`MAX_SPAN_ATTRIBUTES`] is dropped.
    fn set(&mut self, mut attributes: Vec<KeyValue>) {
        self.later.append(&mut attributes);
        super::attributes::merge_repeated_keys(&mut self.later);
        self.later.truncate(MAX_SPAN_ATTRIBUTES);
    }

    /// Ends the span where it lies, counting it when it is sampled (and so goes on to the
    /// exporters).
    fn end(&mut self) {
        if !self.later.is_empty() {
            self.span.set_attributes(std::mem::take(&mut self.later));
        }
        if self.span.span_context().is_sampled() {
            super::stats::count_span_ended();
        }
        self.span.end();
    }
}

/// How to keep the span queue from overflowing when many spans end at once (at exit): flush the
/// export pipeline after every `every` spans.
#[derive(Clone)]
pub struct SpanFlush {
    /// Spans ended between two flushes (half the batch queue).
    pub every: usize,
    /// Exports what the batch processor holds.
    pub flush: Arc<dyn Fn() + Send + Sync>,
}

impl std::fmt::Debug for SpanFlush {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpanFlush").field("every", &self.every).finish_non_exhaustive()
    }
}

/// Something on the current-span stack: a span started by hand, or an instrumented function.
#[derive(Debug)]
enum Open {
    Span(Handle),
    Frame(Frame),
    /// A function entered past [`MAX_FUNCTION_DEPTH`]: not traced, but its exit must match.
    Untraced(u32),
}

/// The spans a module instance has open, addressed by handle, and the instrumented functions it
/// is inside of.
pub struct SpanTable {
    spans: HandleTable<Box<OpenSpan>>,
    /// Open spans and frames in start order; the last one is the current context.
    current: Vec<Open>,
    frames: usize,
    names: FunctionNames,
}

/// Message of spans of functions that never reported their exit (a trap, `proc_exit`, or an
/// exception thrown through them).
pub const NO_EXIT_MESSAGE: &str = "function did not return before the guest exited";

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
        SpanTable {
            spans: HandleTable::with_capacity(max_open),
            current: Vec::new(),
            frames: 0,
            names: FunctionNames::default(),
        }
    }

    /// Number of open spans.
    pub fn open(&self) -> usize {
        self.spans.len()
    }

    /// The innermost span started by hand, if any is open.
    pub fn current(&self) -> Option<Handle> {
        self.current.iter().rev().find_map(|o| match o {
            Open::Span(h) => Some(*h),
            _ => None,
        })
    }

    /// [`current_context`](Self::current_context), for something that will refer to it (a span,
    /// a log record, a propagated `traceparent`): every open frame is then kept on exit, however
    /// short, so the reference never names a span that is not exported.
    pub fn take_current_context(&mut self) -> Option<SpanContext> {
        for open in &mut self.current {
            if let Open::Frame(f) = open {
                f.context_taken = true;
            }
        }
        self.current_context()
    }

    /// The context of the innermost open span or traced function.
    pub fn current_context(&self) -> Option<SpanContext> {
        self.current.iter().rev().find_map(|o| match o {
            Open::Span(h) => self.spans.get(*h).ok().map(|s| s.span.span_context().clone()),
            Open::Frame(f) => Some(f.context.clone()),
            Open::Untraced(_) => None,
        })
    }

    /// The span context of an open span.
    pub fn context_of(&self, handle: Handle) -> HostResult<SpanContext> {
        self.spans.get(handle).map(|s| s.span.span_context().clone()).map_err(|e| lookup(e, handle))
    }

    fn open_span(&mut self, handle: Handle) -> HostResult<&mut OpenSpan> {
        self.spans.get_mut(handle).map(|s| &mut **s).map_err(|e| lookup(e, handle))
    }

    fn span(&mut self, handle: Handle) -> HostResult<&mut SdkSpan> {
        Ok(&mut self.open_span(handle)?.span)
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
            Parent::Current => match self.take_current_context() {
                Some(cx) => Context::new().with_span(LocalParent(cx)),
                None => root.clone(),
            },
            Parent::Span(h) => Context::new().with_span(LocalParent(self.span(h)?.span_context().clone())),
            Parent::Remote(cx) => cx,
        };
        let mut builder = tracer.span_builder(name.to_owned()).with_kind(otel_kind(kind));
        if !attributes.is_empty() {
            builder = builder.with_attributes(attributes);
        }
        let span = builder.start_with_context(tracer, &parent_cx);
        let open = Box::new(OpenSpan { span, later: Vec::new() });
        let handle = self.spans.insert(open).map_err(|e| lookup(e, 0))?;
        self.current.push(Open::Span(handle));
        Ok(handle)
    }

    /// Ends a span; its handle becomes invalid.
    pub fn end(&mut self, handle: Handle) -> HostResult<()> {
        self.spans.remove(handle).map_err(|e| lookup(e, handle))?.end();
        if let Some(i) = self.current.iter().rposition(|o| matches!(o, Open::Span(h) if *h == handle)) {
            self.current.remove(i);
        }
        Ok(())
    }

    /// Sets attributes on an open span.
    pub fn set_attributes(&mut self, handle: Handle, attributes: Vec<KeyValue>) -> HostResult<()> {
        self.open_span(handle)?.set(attributes);
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
        super::attributes::merge_repeated_keys(&mut event);
        span.add_event("exception", event);
        Ok(())
    }

    /// Registers the names of instrumented functions (`func_names`).
    pub fn register_function_names(&mut self, table: &[u8]) -> HostResult<usize> {
        self.names.register(table)
    }

    /// An instrumented function was entered: push its frame, with its span's ids chosen now.
    /// Past [`MAX_FUNCTION_DEPTH`] frames are not traced (and `LIMIT_EXCEEDED` is returned).
    pub fn enter(&mut self, func_id: u32, root: &Context) -> HostResult<()> {
        if self.frames >= MAX_FUNCTION_DEPTH {
            // Deeper calls are not traced, but remembered so their exits still match; past twice
            // the depth not even that, so a guest entering without exiting cannot grow host memory.
            if self.current.len() < 2 * MAX_FUNCTION_DEPTH + self.spans.len() {
                self.current.push(Open::Untraced(func_id));
            }
            return Err(HostError::LimitExceeded("instrumented call depth"));
        }
        // Not `take_current_context`: a child frame that is kept lasts less than its parent, so
        // the parent is kept too; one that is dropped needs nothing.
        let parent = self.current_context().or_else(|| {
            let root = root.span().span_context().clone();
            root.is_valid().then_some(root)
        });
        let (new_trace, span_id) = functions::new_ids();
        let context = match &parent {
            Some(p) => {
                SpanContext::new(p.trace_id(), span_id, p.trace_flags(), false, p.trace_state().clone())
            }
            None => {
                SpanContext::new(new_trace, span_id, trace::TraceFlags::SAMPLED, false, Default::default())
            }
        };
        self.current.push(Open::Frame(Frame {
            func_id,
            start: SystemTime::now(),
            context,
            parent,
            context_taken: false,
        }));
        self.frames += 1;
        Ok(())
    }

    /// An instrumented function is returning: pop its frame, and export it as a span if it lasted
    /// at least `min_duration`. Frames above it whose exit was never reported (an exception
    /// unwound through them) are closed too, as errors. An exit matching no open frame is refused.
    pub fn exit(&mut self, func_id: u32, tracer: &SdkTracer, min_duration: Duration) -> HostResult<()> {
        let matching = self.current.iter().rposition(|o| match o {
            Open::Frame(f) => f.func_id == func_id,
            Open::Untraced(id) => *id == func_id,
            Open::Span(_) => false,
        });
        let Some(pos) = matching else {
            return Err(HostError::InvalidArgument("func_exit without a matching func_enter"));
        };
        let now = SystemTime::now();
        // Frames above the matching one never saw their exit; spans started by hand stay open.
        let mut above = Vec::new();
        let mut i = self.current.len();
        while i > pos + 1 {
            i -= 1;
            if !matches!(self.current[i], Open::Span(_)) {
                above.push(self.current.remove(i));
            }
        }
        for open in above {
            if let Open::Frame(f) = open {
                self.frames -= 1;
                self.emit_frame(tracer, f, now, Some("function exited without reporting its exit"));
            }
        }
        match self.current.remove(pos) {
            Open::Frame(f) => {
                self.frames -= 1;
                if f.context_taken || now.duration_since(f.start).unwrap_or_default() >= min_duration {
                    self.emit_frame(tracer, f, now, None);
                }
            }
            Open::Untraced(_) | Open::Span(_) => {}
        }
        Ok(())
    }

    fn emit_frame(&self, tracer: &SdkTracer, frame: Frame, end: SystemTime, error: Option<&str>) {
        let name = self.names.name(frame.func_id);
        let parent = match frame.parent {
            Some(p) => Context::new().with_span(LocalParent(p)),
            None => Context::new(),
        };
        let builder = tracer
            .span_builder(name.clone())
            .with_kind(trace::SpanKind::Internal)
            .with_start_time(frame.start)
            .with_attributes([
                KeyValue::new("code.function.name", name),
                KeyValue::new("wasm.function.index", frame.func_id as i64),
            ]);
        let mut span = functions::with_planned_ids(frame.context.trace_id(), frame.context.span_id(), || {
            builder.start_with_context(tracer, &parent)
        });
        if let Some(message) = error {
            span.set_attribute(KeyValue::new(UNFINISHED_ATTRIBUTE, true));
            span.set_status(trace::Status::error(message.to_owned()));
        }
        if span.span_context().is_sampled() {
            super::stats::count_span_ended();
        }
        span.end_with_timestamp(end);
    }

    /// Ends every open span, newest first, with status error and [`UNFINISHED_ATTRIBUTE`] set,
    /// and exports the frames of functions that never returned (when `tracer` is given). With
    /// `flush`, the pipeline is flushed as the spans go, so a full table cannot overflow the span
    /// queue. Returns how many spans there were.
    pub fn end_unfinished(&mut self, tracer: Option<&SdkTracer>, flush: Option<&SpanFlush>) -> usize {
        let now = SystemTime::now();
        let frames: Vec<Frame> = self
            .current
            .drain(..)
            .rev()
            .filter_map(|o| match o {
                Open::Frame(f) => Some(f),
                _ => None,
            })
            .collect();
        self.frames = 0;
        let mut ended = 0;
        let mut pace = || {
            ended += 1;
            if let Some(f) = flush {
                if ended % f.every.max(1) == 0 {
                    (f.flush)();
                }
            }
        };
        if let Some(tracer) = tracer {
            for f in frames {
                self.emit_frame(tracer, f, now, Some(NO_EXIT_MESSAGE));
                pace();
            }
        }
        let mut open = self.spans.drain();
        open.reverse();
        for (_, mut open_span) in open {
            open_span.later.push(KeyValue::new(UNFINISHED_ATTRIBUTE, true));
            open_span.span.set_status(trace::Status::error(UNFINISHED_MESSAGE));
            open_span.end();
            pace();
        }
        ended
    }
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
pub fn end_unfinished_everywhere(flush: &SpanFlush) -> usize {
    let tables: Vec<_> =
        TABLES.lock().unwrap_or_else(|p| p.into_inner()).iter().filter_map(Weak::upgrade).collect();
    tables.iter().map(|t| t.lock().unwrap_or_else(|p| p.into_inner()).end_unfinished(None, Some(flush))).sum()
}
