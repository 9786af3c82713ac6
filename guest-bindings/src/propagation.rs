//! W3C Trace Context: one trace across services, through the `traceparent` and `tracestate` headers.
//!
//! A server continues its caller's trace by starting its span under the incoming headers with
//! [`SpanBuilder::remote_parent`]; a client passes its trace on by writing [`Span::traceparent`] (and
//! [`Span::tracestate`], when there is one) into the headers of its outgoing request.
//!
//! ```
//! use wasmedge_otel_guest::{kv, Span, SpanKind};
//!
//! // Server side: the headers of the incoming request (empty strings when absent).
//! let (traceparent, tracestate) = ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "");
//! let request = Span::builder("GET /api/chain")
//!     .kind(SpanKind::Server)
//!     .attributes(&[kv("http.request.method", "GET")])
//!     .remote_parent(traceparent, tracestate)
//!     .start();
//!
//! // Client side: a span for the outgoing call, and its headers.
//! let call = Span::builder("GET").kind(SpanKind::Client).start();
//! if let Some(traceparent) = call.traceparent() {
//!     assert_eq!(traceparent.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736"); // the same trace
//!     // write "traceparent: {traceparent.as_str()}" into the outgoing request
//! }
//! let mut buf = [0u8; 512];
//! if let Some(tracestate) = call.tracestate(&mut buf) {
//!     // write "tracestate: {tracestate}" too
//! #   let _ = tracestate;
//! }
//! # drop((call, request));
//! ```
//!
//! The sampling decision travels with the context: by default the host's sampler follows the incoming
//! sampled flag, so a request arriving with flags `00` records no spans (its metrics and logs are
//! unaffected). An invalid `traceparent` is not an error: the span then starts without a remote parent.
//!
//! Each function here is one host call, and is linked only into programs that use it.

use core::fmt;

use crate::abi::limits::MAX_BUFFER_LEN;
use crate::api::{check_abi, or_noop, Error};
use crate::{raw, Span, SpanBuilder};

/// Length of a `traceparent` header value (version `00`), in bytes.
pub const TRACEPARENT_LEN: usize = 55;

/// A `traceparent` header value, e.g. `00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01`:
/// version, trace id, parent span id and trace flags, 55 bytes on the stack.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceParent([u8; TRACEPARENT_LEN]);

impl TraceParent {
    /// The header value.
    #[inline]
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(&self.0).unwrap_or("")
    }

    /// The header value's bytes.
    #[inline]
    pub fn as_bytes(&self) -> &[u8; TRACEPARENT_LEN] {
        &self.0
    }

    /// The trace id: 32 lowercase hex digits.
    #[inline]
    pub fn trace_id(&self) -> &str {
        self.as_str().get(3..35).unwrap_or("")
    }

    /// The span id (the parent of whoever receives the header): 16 lowercase hex digits.
    #[inline]
    pub fn span_id(&self) -> &str {
        self.as_str().get(36..52).unwrap_or("")
    }

    /// Whether the sampled flag is set: the trace is being recorded.
    #[inline]
    pub fn is_sampled(&self) -> bool {
        // The low bit of the flags, i.e. of the last hex digit's value.
        matches!(self.0[TRACEPARENT_LEN - 1], b'1' | b'3' | b'5' | b'7' | b'9' | b'b' | b'd' | b'f')
    }
}

impl fmt::Debug for TraceParent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TraceParent").field(&self.as_str()).finish()
    }
}

impl fmt::Display for TraceParent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `traceparent` of `span` (`0`: the current span, else the run's root context).
fn traceparent(span: i64) -> Option<TraceParent> {
    let mut buf = [0; TRACEPARENT_LEN];
    #[allow(unsafe_code)]
    let written = raw::with_out_buffer(&mut buf, |ptr, len| {
        // SAFETY: `with_out_buffer` passes the address and length of `buf`, which we borrow mutably.
        unsafe { raw::span_traceparent(span, ptr, len) }
    });
    (written == TRACEPARENT_LEN as i32).then_some(TraceParent(buf))
}

/// The non-empty `tracestate` of `span` (`0`: the current span, else the run's root context) in `buf`.
fn tracestate(span: i64, buf: &mut [u8]) -> Option<&str> {
    // The host takes at most this much in one buffer; a trace state is at most 512 bytes anyway.
    let buf = buf.get_mut(..buf.len().min(MAX_BUFFER_LEN))?;
    #[allow(unsafe_code)]
    let written = raw::with_out_buffer(buf, |ptr, len| {
        // SAFETY: `with_out_buffer` passes the address and length of `buf`, which we borrow mutably.
        unsafe { raw::span_tracestate(span, ptr, len) }
    });
    let written = usize::try_from(written).ok().filter(|&n| n > 0)?;
    core::str::from_utf8(buf.get(..written)?).ok()
}

impl Span {
    /// The `traceparent` header value to send with a request made within this span; `None` for a
    /// no-op span (or if the host refuses).
    #[inline]
    pub fn traceparent(&self) -> Option<TraceParent> {
        traceparent(self.raw_handle()?)
    }

    /// The `tracestate` header value to send along with [`Span::traceparent`], written into `buf`;
    /// `None` when the trace state is empty (the usual case: send no `tracestate` header), for a no-op
    /// span, or if it does not fit in `buf` (512 bytes always suffice for a W3C trace state).
    #[inline]
    pub fn tracestate<'b>(&self, buf: &'b mut [u8]) -> Option<&'b str> {
        tracestate(self.raw_handle()?, buf)
    }
}

/// The `traceparent` of the current span or, when no span is open, of the context the run continues
/// (the `TRACEPARENT` of the `wasmedge` process); `None` when there is neither, or on an ABI mismatch.
pub fn current_traceparent() -> Option<TraceParent> {
    check_abi().ok()?;
    traceparent(0)
}

/// The `tracestate` that goes with [`current_traceparent`], written into `buf`; `None` when empty (see
/// [`Span::tracestate`]).
pub fn current_tracestate(buf: &mut [u8]) -> Option<&str> {
    check_abi().ok()?;
    tracestate(0, buf)
}

impl<'a> SpanBuilder<'a> {
    /// Makes the remote context of an incoming request's `traceparent` and `tracestate` header values
    /// (empty strings when the request has none) the parent, instead of any local span: the usual
    /// start of a server or consumer span. A [`parent`](SpanBuilder::parent) or
    /// [`root`](SpanBuilder::root) set before is ignored.
    ///
    /// An invalid or empty `traceparent` is not an error: the span then starts without a remote parent
    /// (under the run's root context, else as a new trace), as the W3C specification says.
    #[inline]
    pub fn remote_parent(self, traceparent: &'a str, tracestate: &'a str) -> RemoteSpanBuilder<'a> {
        RemoteSpanBuilder { builder: self, traceparent, tracestate }
    }
}

/// A [`SpanBuilder`] with a remote parent, from [`SpanBuilder::remote_parent`]: start it.
#[must_use = "a builder does nothing until `.start()`"]
#[derive(Clone, Copy, Debug)]
pub struct RemoteSpanBuilder<'a> {
    builder: SpanBuilder<'a>,
    traceparent: &'a str,
    tracestate: &'a str,
}

impl RemoteSpanBuilder<'_> {
    /// Starts the span and makes it the current span; returns a no-op span if that fails (ABI mismatch,
    /// host error). With feature `std`, an ABI mismatch is reported once on stderr.
    pub fn start(self) -> Span {
        or_noop(self.try_start())
    }

    /// Starts the span like [`RemoteSpanBuilder::start`], but reports why it could not be started.
    pub fn try_start(self) -> Result<Span, Error> {
        let (traceparent, tracestate) = (self.traceparent.as_bytes(), self.tracestate.as_bytes());
        self.builder.try_start_with(|name, kind, attrs| {
            raw::span_start_remote(
                raw::ptr(name),
                raw::len(name),
                kind,
                raw::ptr(traceparent),
                raw::len(traceparent),
                raw::ptr(tracestate),
                raw::len(tracestate),
                raw::ptr(attrs),
                raw::len(attrs),
            )
        })
    }
}
