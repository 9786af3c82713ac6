//! W3C Trace Context (`traceparent`, `tracestate`) for guests: formatting a span's context to
//! inject into an outgoing request, and parsing an incoming one into a remote parent. Parsing is
//! the SDK's `TraceContextPropagator`, behind a structural check of our own: the SDK (0.33) does
//! not check field widths, and would take a 31-digit trace id.

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{SpanContext, TraceContextExt};
use opentelemetry::Context;
use opentelemetry_sdk::propagation::TraceContextPropagator;

const TRACEPARENT: &str = "traceparent";
const TRACESTATE: &str = "tracestate";

/// The two headers of one context.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Headers {
    /// `traceparent`, e.g. `00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01`.
    pub traceparent: String,
    /// `tracestate`, possibly empty.
    pub tracestate: String,
}

impl Injector for Headers {
    fn set(&mut self, key: &str, value: String) {
        match key {
            TRACEPARENT => self.traceparent = value,
            TRACESTATE => self.tracestate = value,
            _ => {}
        }
    }
}

struct Incoming<'a> {
    traceparent: &'a str,
    tracestate: &'a str,
}

impl Extractor for Incoming<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        match key {
            TRACEPARENT => Some(self.traceparent),
            TRACESTATE => Some(self.tracestate),
            _ => None,
        }
    }
    fn keys(&self) -> Vec<&str> {
        vec![TRACEPARENT, TRACESTATE]
    }
}

/// The headers that propagate `span`; `None` if its context is invalid.
pub fn inject(span: &SpanContext) -> Option<Headers> {
    if !span.is_valid() {
        return None;
    }
    let mut headers = Headers::default();
    let cx = Context::new().with_remote_span_context(span.clone());
    TraceContextPropagator::new().inject_context(&cx, &mut headers);
    Some(headers)
}

/// Whether the first four fields of `traceparent` have the widths W3C Trace Context requires
/// (2, 32, 16 and 2 lowercase hex digits); version 00 allows nothing after them.
fn well_formed(traceparent: &str) -> bool {
    let mut fields = traceparent.trim().split('-');
    let widths_ok = [2, 32, 16, 2].iter().all(|&width| {
        fields.next().is_some_and(|f| {
            f.len() == width && f.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
    });
    let version_00 = traceparent.trim().starts_with("00-");
    widths_ok && !traceparent.trim().starts_with("ff-") && (!version_00 || fields.next().is_none())
}

/// A remote parent context from incoming headers; `None` when `traceparent` is invalid, in which
/// case the specification says to start a new trace.
pub fn extract(traceparent: &str, tracestate: &str) -> Option<Context> {
    if !well_formed(traceparent) {
        return None;
    }
    let cx = TraceContextPropagator::new().extract(&Incoming { traceparent, tracestate });
    cx.span().span_context().is_valid().then_some(cx)
}

/// The run's root context from the `TRACEPARENT` and `TRACESTATE` variables of the `wasmedge`
/// process, as CI systems and calling processes set them; read only when the `tracecontext`
/// propagator is enabled (`OTEL_PROPAGATORS`). An invalid value is reported once on stderr and
/// ignored.
pub fn root_from_env(tracecontext_enabled: bool) -> Context {
    if !tracecontext_enabled {
        return Context::new();
    }
    let Ok(traceparent) = std::env::var("TRACEPARENT") else { return Context::new() };
    let tracestate = std::env::var("TRACESTATE").unwrap_or_default();
    extract(&traceparent, &tracestate).unwrap_or_else(|| {
        eprintln!("wasmedge_otel: ignoring TRACEPARENT={traceparent:?}: not a valid W3C traceparent; spans start new traces");
        Context::new()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn round_trips_a_valid_context() {
        let cx = extract(VALID, "vendor=value").expect("valid");
        let span = cx.span().span_context().clone();
        assert!(span.is_remote() && span.is_sampled());
        assert_eq!(span.trace_id().to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
        let headers = inject(&span).unwrap();
        assert_eq!(headers.traceparent, VALID);
        assert_eq!(headers.tracestate, "vendor=value");
    }

    #[test]
    fn accepts_future_versions_with_more_fields() {
        assert!(extract("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-holds", "")
            .is_some());
    }

    #[test]
    fn keeps_the_sampled_flag() {
        let unsampled = VALID.replace("-01", "-00");
        let cx = extract(&unsampled, "").unwrap();
        assert!(!cx.span().span_context().is_sampled());
        assert_eq!(inject(cx.span().span_context()).unwrap().traceparent, unsampled);
    }

    #[test]
    fn rejects_invalid_traceparents() {
        for bad in [
            "",
            "garbage",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e47g6-00f067aa0ba902b7-01",
        ] {
            assert!(extract(bad, "").is_none(), "{bad:?}");
        }
        assert!(inject(&SpanContext::empty_context()).is_none());
    }
}
