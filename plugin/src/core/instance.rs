//! The state of one `wasmedge_otel` module instance (one guest), and the safe body of every host
//! call it serves: spans, metric instruments, log records, and the instance's runtime statistics.
//!
//! Each method validates all of its guest input (memory ranges, UTF-8, enumerations, attribute
//! buffers, handles) before it records anything, so a refused call leaves no partial trace.

use super::attributes;
use super::error::{HostError, HostResult};
use super::guest_mem::GuestMemory;
use super::handles::Handle;
use super::logs;
use super::metrics::{decode_boundaries, validate_name_and_unit, InstrumentSpec, Measurement, MetricTable};
use super::propagation;
use super::stats::InstanceStats;
use super::trace::{Parent, SpanFlush, SpanTable};
use opentelemetry::metrics::Meter;
use opentelemetry::Context;
use opentelemetry_sdk::logs::SdkLogger;
use opentelemetry_sdk::trace::SdkTracer;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use wasmedge_otel_abi::{limits, InstrumentKind, SpanKind, StatusCode, ValueType};

/// A guest `(ptr, len)` pair, still unchecked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GuestSlice {
    /// Offset in linear memory.
    pub ptr: u32,
    /// Length in bytes.
    pub len: u32,
}

/// What an instance needs from the export side. Fetched on the instance's first telemetry call, so
/// a guest that never records anything starts no exporter.
#[derive(Clone, Debug)]
pub struct TelemetrySetup {
    /// Tracer that records the guest's spans.
    pub tracer: SdkTracer,
    /// Meter the guest's instruments are created with.
    pub meter: Meter,
    /// Logger that emits the guest's log records.
    pub logger: SdkLogger,
    /// Context a span with no open parent descends from (empty, or the run's `TRACEPARENT`).
    pub root: Context,
    /// How to pace the spans ended all at once at exit.
    pub span_flush: SpanFlush,
}

/// Produces the [`TelemetrySetup`] on first use.
pub type TelemetrySource = Box<dyn Fn() -> TelemetrySetup + Send + Sync>;

/// Per-instance limits.
#[derive(Clone, Copy, Debug)]
pub struct InstanceLimits {
    /// Spans that may be open at once.
    pub max_open_spans: usize,
    /// Longest string attribute value on spans and span events, in characters
    /// (`OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT`); the SDK applies the count limits itself.
    pub span_value_length: Option<usize>,
    /// Longest string attribute value on log records (`OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT`).
    pub log_value_length: Option<usize>,
    /// Most attributes on one log record (`OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT`); the rest are dropped.
    pub log_attribute_count: usize,
    /// Calls of instrumented functions shorter than this are not exported
    /// (`WASMEDGE_OTEL_FUNC_MIN_DURATION`).
    pub func_min_duration: std::time::Duration,
}

impl Default for InstanceLimits {
    fn default() -> Self {
        InstanceLimits {
            max_open_spans: limits::MAX_OPEN_SPANS,
            span_value_length: None,
            log_value_length: None,
            log_attribute_count: 128,
            func_min_duration: std::time::Duration::from_micros(20),
        }
    }
}

/// One module instance's telemetry state. Host calls may arrive on any thread, so it is `Sync`.
pub struct Instance {
    source: TelemetrySource,
    setup: OnceLock<TelemetrySetup>,
    spans: Arc<Mutex<SpanTable>>,
    metrics: Mutex<MetricTable>,
    keys: Mutex<attributes::KeyCache>,
    stats: Arc<InstanceStats>,
    limits: InstanceLimits,
}

/// Locks a table. A panic while a lock was held (caught at the FFI boundary) must not disable
/// telemetry for the rest of the run: every table is left consistent between its own steps.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Instance {
    /// A fresh instance; nothing is started until the first telemetry call.
    pub fn new(source: TelemetrySource, limits: InstanceLimits) -> Self {
        let spans = Arc::new(Mutex::new(SpanTable::new(limits.max_open_spans)));
        super::trace::register(&spans);
        Instance {
            source,
            setup: OnceLock::new(),
            spans,
            metrics: Mutex::new(MetricTable::default()),
            keys: Mutex::new(attributes::KeyCache::default()),
            stats: Arc::new(InstanceStats::default()),
            limits,
        }
    }

    fn setup(&self) -> &TelemetrySetup {
        self.setup.get_or_init(|| (self.source)())
    }

    /// Whether this instance ever started telemetry (and so may have data to flush).
    pub fn started(&self) -> bool {
        self.setup.get().is_some()
    }

    /// The instance's runtime statistics (host calls, memory size), read by the runtime metrics.
    pub fn stats(&self) -> &Arc<InstanceStats> {
        &self.stats
    }

    fn spans(&self) -> MutexGuard<'_, SpanTable> {
        lock(&self.spans)
    }

    /// Decodes a span or span event attribute buffer, applying the span value length limit.
    fn span_attributes(
        &self,
        mem: &GuestMemory<'_>,
        attrs: GuestSlice,
    ) -> HostResult<Vec<opentelemetry::KeyValue>> {
        let mut kvs = attributes::decode(mem.bytes(attrs.ptr, attrs.len)?, &mut lock(&self.keys))?;
        if let Some(max) = self.limits.span_value_length {
            attributes::truncate_values(&mut kvs, max);
        }
        Ok(kvs)
    }

    /// `span_start`.
    pub fn span_start(
        &self,
        mem: &GuestMemory<'_>,
        name: GuestSlice,
        kind: i32,
        parent: i64,
        attrs: GuestSlice,
    ) -> HostResult<Handle> {
        let name = mem.str(name.ptr, name.len)?;
        let kind = SpanKind::from_i32(kind).ok_or(HostError::InvalidArgument("unknown span kind"))?;
        let parent = Parent::from_abi(parent)?;
        let attributes = self.span_attributes(mem, attrs)?;
        let setup = self.setup();
        self.spans().start(&setup.tracer, &setup.root, name, kind, parent, attributes)
    }

    /// `span_end`.
    pub fn span_end(&self, span: i64) -> HostResult<()> {
        self.spans().end(span as Handle)
    }

    /// `span_set_attributes`.
    pub fn span_set_attributes(&self, mem: &GuestMemory<'_>, span: i64, attrs: GuestSlice) -> HostResult<()> {
        let attributes = self.span_attributes(mem, attrs)?;
        self.spans().set_attributes(span as Handle, attributes)
    }

    /// `span_add_event`.
    pub fn span_add_event(
        &self,
        mem: &GuestMemory<'_>,
        span: i64,
        name: GuestSlice,
        attrs: GuestSlice,
    ) -> HostResult<()> {
        let name = mem.str(name.ptr, name.len)?;
        let attributes = self.span_attributes(mem, attrs)?;
        self.spans().add_event(span as Handle, name, attributes)
    }

    /// `span_set_status`.
    pub fn span_set_status(
        &self,
        mem: &GuestMemory<'_>,
        span: i64,
        code: i32,
        msg: GuestSlice,
    ) -> HostResult<()> {
        let code = StatusCode::from_i32(code).ok_or(HostError::InvalidArgument("unknown status code"))?;
        let message = mem.str(msg.ptr, msg.len)?;
        self.spans().set_status(span as Handle, code, message)
    }

    /// `span_record_exception`.
    pub fn span_record_exception(
        &self,
        mem: &GuestMemory<'_>,
        span: i64,
        exception_type: GuestSlice,
        msg: GuestSlice,
        attrs: GuestSlice,
    ) -> HostResult<()> {
        let mut exception_type = mem.str(exception_type.ptr, exception_type.len)?;
        let mut message = mem.str(msg.ptr, msg.len)?;
        if let Some(max) = self.limits.span_value_length {
            // They become the event's exception.type and exception.message attributes.
            exception_type = attributes::truncate_str(exception_type, max);
            message = attributes::truncate_str(message, max);
        }
        let attributes = self.span_attributes(mem, attrs)?;
        self.spans().record_exception(span as Handle, exception_type, message, attributes)
    }

    /// `span_current`: the current span's handle, or 0.
    pub fn span_current(&self) -> Handle {
        self.spans().current().unwrap_or(0)
    }

    /// `instrument_create`.
    #[allow(clippy::too_many_arguments)]
    pub fn instrument_create(
        &self,
        mem: &GuestMemory<'_>,
        kind: i32,
        value_type: i32,
        name: GuestSlice,
        unit: GuestSlice,
        description: GuestSlice,
        bounds: GuestSlice,
    ) -> HostResult<Handle> {
        let kind =
            InstrumentKind::from_i32(kind).ok_or(HostError::InvalidArgument("unknown instrument kind"))?;
        let value_type =
            ValueType::from_i32(value_type).ok_or(HostError::InvalidArgument("unknown value type"))?;
        let name = mem.str(name.ptr, name.len)?;
        let unit = mem.str(unit.ptr, unit.len)?;
        validate_name_and_unit(name, unit)?;
        let spec = InstrumentSpec {
            kind,
            value_type,
            name: name.to_owned(),
            unit: unit.to_owned(),
            description: mem.str(description.ptr, description.len)?.to_owned(),
            boundaries: decode_boundaries(kind, mem.bytes(bounds.ptr, bounds.len)?)?,
        };
        let meter = &self.setup().meter;
        lock(&self.metrics).create(meter, spec)
    }

    /// `metric_record_i64` and `metric_record_f64`.
    pub fn metric_record(
        &self,
        mem: &GuestMemory<'_>,
        instrument: i64,
        value: Measurement,
        attrs: GuestSlice,
    ) -> HostResult<()> {
        let attributes = attributes::decode(mem.bytes(attrs.ptr, attrs.len)?, &mut lock(&self.keys))?;
        lock(&self.metrics).record(instrument as Handle, value, &attributes)
    }

    /// `metric_bind`.
    pub fn metric_bind(
        &self,
        mem: &GuestMemory<'_>,
        instrument: i64,
        attrs: GuestSlice,
    ) -> HostResult<Handle> {
        let encoded = mem.bytes(attrs.ptr, attrs.len)?;
        let attributes = attributes::decode(encoded, &mut lock(&self.keys))?;
        lock(&self.metrics).bind(instrument as Handle, encoded, attributes)
    }

    /// `metric_bound_record_i64` and `metric_bound_record_f64`.
    pub fn metric_bound_record(&self, bound: i64, value: Measurement) -> HostResult<()> {
        lock(&self.metrics).record_bound(bound as Handle, value)
    }

    /// `log_emit`.
    pub fn log_emit(
        &self,
        mem: &GuestMemory<'_>,
        severity: i32,
        body: GuestSlice,
        attrs: GuestSlice,
    ) -> HostResult<()> {
        let severity = logs::severity(severity)?;
        let body = mem.str(body.ptr, body.len)?;
        let mut attributes = attributes::decode(mem.bytes(attrs.ptr, attrs.len)?, &mut lock(&self.keys))?;
        attributes.truncate(self.limits.log_attribute_count);
        if let Some(max) = self.limits.log_value_length {
            attributes::truncate_values(&mut attributes, max);
        }
        let current = self.spans().take_current_context();
        logs::emit(&self.setup().logger, severity, body, attributes, current.as_ref());
        super::stats::count_log_emitted();
        Ok(())
    }

    /// The context `span` names (0: the current span, else the run's root context).
    fn context_for(&self, span: i64) -> HostResult<Option<opentelemetry::trace::SpanContext>> {
        use opentelemetry::trace::TraceContextExt as _;
        if span != 0 {
            return self.spans().context_of(span as Handle).map(Some);
        }
        if let Some(current) = self.spans().take_current_context() {
            return Ok(Some(current));
        }
        let root = self.setup().root.span().span_context().clone();
        Ok(root.is_valid().then_some(root))
    }

    /// Writes one trace-context header of `span` (0: the current context) into the guest's
    /// buffer and returns its length; 0 when there is no context to propagate.
    fn write_header(
        &self,
        mem: &mut GuestMemory<'_>,
        span: i64,
        buf: GuestSlice,
        header: fn(&propagation::Headers) -> &str,
    ) -> HostResult<usize> {
        let Some(headers) = self.context_for(span)?.and_then(|cx| propagation::inject(&cx)) else {
            return Ok(0);
        };
        let value = header(&headers);
        mem.write(buf.ptr, buf.len, value.as_bytes())?;
        Ok(value.len())
    }

    /// `span_traceparent`.
    pub fn span_traceparent(
        &self,
        mem: &mut GuestMemory<'_>,
        span: i64,
        buf: GuestSlice,
    ) -> HostResult<usize> {
        self.write_header(mem, span, buf, |h| &h.traceparent)
    }

    /// `span_tracestate` (0 also when the trace state is empty).
    pub fn span_tracestate(
        &self,
        mem: &mut GuestMemory<'_>,
        span: i64,
        buf: GuestSlice,
    ) -> HostResult<usize> {
        self.write_header(mem, span, buf, |h| &h.tracestate)
    }

    /// `span_start_remote`.
    pub fn span_start_remote(
        &self,
        mem: &GuestMemory<'_>,
        name: GuestSlice,
        kind: i32,
        traceparent: GuestSlice,
        tracestate: GuestSlice,
        attrs: GuestSlice,
    ) -> HostResult<Handle> {
        let name = mem.str(name.ptr, name.len)?;
        let kind = SpanKind::from_i32(kind).ok_or(HostError::InvalidArgument("unknown span kind"))?;
        let traceparent = mem.str(traceparent.ptr, traceparent.len)?;
        let tracestate = mem.str(tracestate.ptr, tracestate.len)?;
        let attributes = self.span_attributes(mem, attrs)?;
        // An invalid traceparent is not an error: the span starts without a remote parent.
        let parent = propagation::extract(traceparent, tracestate).map_or(Parent::None, Parent::Remote);
        let setup = self.setup();
        self.spans().start(&setup.tracer, &setup.root, name, kind, parent, attributes)
    }

    /// `func_names`.
    pub fn func_names(&self, mem: &GuestMemory<'_>, table: GuestSlice) -> HostResult<()> {
        let table = mem.bytes(table.ptr, table.len)?;
        self.spans().register_function_names(table).map(|_| ())
    }

    /// `func_enter`.
    pub fn func_enter(&self, func_id: i32) -> HostResult<()> {
        let root = &self.setup().root;
        self.spans().enter(func_id as u32, root)
    }

    /// `func_exit`.
    pub fn func_exit(&self, func_id: i32) -> HostResult<()> {
        let tracer = &self.setup().tracer;
        self.spans().exit(func_id as u32, tracer, self.limits.func_min_duration)
    }

    /// Ends what the guest left open; called once when the instance is torn down. Returns the
    /// number of spans that had to be ended.
    pub fn close(&self) -> usize {
        if !self.started() {
            return 0;
        }
        let tracer = &self.setup().tracer;
        self.spans().end_unfinished(Some(tracer), Some(&self.setup().span_flush))
    }
}

#[cfg(test)]
mod tests;
