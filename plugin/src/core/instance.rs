//! The state of one `wasmedge_otel` module instance (one guest), and the safe body of every host
//! call it serves.
//!
//! Each method validates all of its guest input (memory ranges, UTF-8, enumerations, attribute
//! buffers, handles) before it records anything, so a refused call leaves no partial trace.

use super::attributes;
use super::error::{HostError, HostResult};
use super::guest_mem::GuestMemory;
use super::handles::Handle;
use super::trace::{Parent, SpanTable};
use opentelemetry::Context;
use opentelemetry_sdk::trace::SdkTracer;
use std::sync::{Mutex, MutexGuard, OnceLock};
use wasmedge_otel_abi::{limits, SpanKind, StatusCode};

/// A guest `(ptr, len)` pair, still unchecked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GuestSlice {
    /// Offset in linear memory.
    pub ptr: u32,
    /// Length in bytes.
    pub len: u32,
}

/// What an instance needs from the export side. Fetched on the instance's first span, so a guest
/// that never traces starts no exporter.
#[derive(Clone, Debug)]
pub struct TraceSetup {
    /// Tracer that records the guest's spans.
    pub tracer: SdkTracer,
    /// Context a span with no open parent descends from (empty, or the run's `TRACEPARENT`).
    pub root: Context,
}

/// Produces the [`TraceSetup`] on first use.
pub type TraceSetupSource = Box<dyn Fn() -> TraceSetup + Send + Sync>;

/// Per-instance limits.
#[derive(Clone, Copy, Debug)]
pub struct InstanceLimits {
    /// Spans that may be open at once.
    pub max_open_spans: usize,
}

impl Default for InstanceLimits {
    fn default() -> Self {
        InstanceLimits { max_open_spans: limits::MAX_OPEN_SPANS }
    }
}

/// One module instance's telemetry state. Host calls may arrive on any thread, so it is `Sync`.
pub struct Instance {
    source: TraceSetupSource,
    setup: OnceLock<TraceSetup>,
    spans: Mutex<SpanTable>,
}

impl Instance {
    /// A fresh instance; nothing is started until the first span.
    pub fn new(source: TraceSetupSource, limits: InstanceLimits) -> Self {
        Instance { source, setup: OnceLock::new(), spans: Mutex::new(SpanTable::new(limits.max_open_spans)) }
    }

    fn setup(&self) -> &TraceSetup {
        self.setup.get_or_init(|| (self.source)())
    }

    /// Whether this instance ever started tracing (and so may have data to flush).
    pub fn started(&self) -> bool {
        self.setup.get().is_some()
    }

    fn spans(&self) -> MutexGuard<'_, SpanTable> {
        // A panic while the lock was held (caught at the FFI boundary) must not disable tracing
        // for the rest of the run: the table itself is always left consistent.
        self.spans.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
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
        let attributes = attributes::decode(mem.bytes(attrs.ptr, attrs.len)?)?;
        let setup = self.setup();
        self.spans().start(&setup.tracer, &setup.root, name, kind, parent, attributes)
    }

    /// `span_end`.
    pub fn span_end(&self, span: i64) -> HostResult<()> {
        self.spans().end(span as Handle)
    }

    /// `span_set_attributes`.
    pub fn span_set_attributes(&self, mem: &GuestMemory<'_>, span: i64, attrs: GuestSlice) -> HostResult<()> {
        let attributes = attributes::decode(mem.bytes(attrs.ptr, attrs.len)?)?;
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
        let attributes = attributes::decode(mem.bytes(attrs.ptr, attrs.len)?)?;
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
        let exception_type = mem.str(exception_type.ptr, exception_type.len)?;
        let message = mem.str(msg.ptr, msg.len)?;
        let attributes = attributes::decode(mem.bytes(attrs.ptr, attrs.len)?)?;
        self.spans().record_exception(span as Handle, exception_type, message, attributes)
    }

    /// `span_current`: the current span's handle, or 0.
    pub fn span_current(&self) -> Handle {
        self.spans().current().unwrap_or(0)
    }

    /// Ends what the guest left open; called once when the instance is torn down. Returns the
    /// number of spans that had to be ended.
    pub fn close(&self) -> usize {
        if !self.started() {
            return 0;
        }
        self.spans().end_unfinished()
    }
}

#[cfg(test)]
mod tests;
