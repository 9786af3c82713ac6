//! The `tracing` bridge against the mock host: the exact host calls for spans, parents, fields,
//! events, clones, levels and failures.

use std::string::{String, ToString};
use std::vec;
use std::vec::Vec;

use ::tracing::field::Empty;
use ::tracing::{debug, debug_span, error, info, info_span, instrument, trace, warn};
use tracing_core::Dispatch;

use super::{enc, end, start, ABI_OK};
use crate::abi::{self, Status, PARENT_CURRENT as CURRENT, PARENT_NONE as NONE};
use crate::raw::mock::{self, Call};
use crate::tracing::{Bridge, EventsAsLogs, LevelFilter};
use crate::{kv, KeyValue};

/// This module's path: the `code.namespace` of its events.
const HERE: &str = "wasmedge_otel_guest::tests::tracing_bridge";

/// Runs `f` with `bridge` as the thread's subscriber, against a fresh mock; returns the host calls.
fn run(bridge: Bridge, f: impl FnOnce()) -> Vec<Call> {
    mock::reset();
    tracing_core::dispatcher::with_default(&Dispatch::new(bridge), f);
    mock::take_calls()
}

/// The attributes of an event of this module: `fields`, then `code.namespace`, then `extra`.
fn event_attrs(fields: &[KeyValue<'_>], extra: &[KeyValue<'_>]) -> Vec<u8> {
    let mut attrs = fields.to_vec();
    attrs.push(kv("code.namespace", HERE));
    attrs.extend_from_slice(extra);
    enc(&attrs)
}

fn event(span: i64, name: &str, fields: &[KeyValue<'_>], level: &str) -> Call {
    Call::SpanAddEvent {
        span,
        name: name.into(),
        attrs: event_attrs(fields, &[kv("level", level)]),
        result: 0,
    }
}

fn log(severity: i32, body: &str, fields: &[KeyValue<'_>], span: i64) -> Call {
    Call::LogEmit { severity, body: body.into(), attrs: event_attrs(fields, &[]), span, result: 0 }
}

fn status(span: i64, code: i32, message: &str) -> Call {
    Call::SpanSetStatus { span, code, message: message.into(), result: 0 }
}

#[test]
fn span_ids_are_host_handles_and_the_last_close_ends_the_span() {
    let calls = run(Bridge::new(), || {
        let a = info_span!("a");
        assert_eq!(a.id().map(|id| id.into_u64()), Some(1));
        let b = a.clone();
        drop(a);
        assert_eq!(mock::open_spans(), [1], "a clone keeps the span open");
        let c = b.clone();
        drop(b);
        assert_eq!(mock::open_spans(), [1]);
        drop(c);
        assert!(mock::open_spans().is_empty(), "the last handle ends it");
    });
    assert_eq!(calls, [ABI_OK, start("a", 0, CURRENT, vec![], 1), end(1)]);
}

#[test]
fn spans_start_under_their_tracing_parent_not_the_span_started_last() {
    let calls = run(Bridge::new(), || {
        let request = info_span!("request");
        let _entered = request.enter();
        let flush = info_span!("flush"); // created, not entered
        let audit = info_span!("audit"); // a child of `request`, not of `flush`
        audit.in_scope(|| {
            let _inner = info_span!("inner").entered();
        });
        drop(audit);
        flush.in_scope(|| {});
        drop(flush);
    });
    assert_eq!(
        calls,
        [
            ABI_OK,
            start("request", 0, CURRENT, vec![], 1),
            start("flush", 0, 1, vec![], 2),
            start("audit", 0, 1, vec![], 3),
            start("inner", 0, 3, vec![], 4),
            end(4),
            end(3),
            end(2),
            end(1),
        ]
    );
}

#[test]
fn spans_without_a_tracing_parent_skip_open_tracing_spans_but_nest_in_other_spans() {
    let calls = run(Bridge::new(), || {
        let a = info_span!("a"); // nothing open: under the current span (none), no query
        let b = info_span!("b"); // `a` is open but not entered: not b's parent
        drop((a, b));
        let manual = crate::Span::start("manual");
        let c = info_span!("c"); // no tracing span open: a child of `manual`
        let root = info_span!(parent: None, "root"); // an explicit root, whatever is open
        drop((c, root, manual));
    });
    assert_eq!(
        calls,
        [
            ABI_OK,
            start("a", 0, CURRENT, vec![], 1),
            Call::SpanCurrent { result: 1 },
            start("b", 0, NONE, vec![], 2),
            end(1),
            end(2),
            start("manual", 0, CURRENT, vec![], 3),
            start("c", 0, CURRENT, vec![], 4),
            start("root", 0, NONE, vec![], 5),
            end(4),
            end(5),
            end(3),
        ]
    );
}

#[test]
fn explicit_parents_of_spans_and_events() {
    let calls = run(Bridge::new(), || {
        let a = info_span!("a");
        let _b = info_span!(parent: None, "b").entered();
        let c = info_span!(parent: &a, "c"); // not a child of the entered `b`
        info!(parent: &a, "to a");
        info!("to b");
        info!(parent: None, "to nobody"); // outside any span: a log record
        drop((c, a));
    });
    assert_eq!(
        calls,
        [
            ABI_OK,
            start("a", 0, CURRENT, vec![], 1),
            start("b", 0, NONE, vec![], 2),
            start("c", 0, 1, vec![], 3),
            event(1, "to a", &[], "INFO"),
            event(2, "to b", &[], "INFO"),
            log(abi::severity::INFO, "to nobody", &[], 3),
            end(3),
            end(1),
            end(2),
        ]
    );
}

#[derive(Debug)]
#[allow(dead_code)] // Only its `Debug` output is used.
struct Point {
    x: i32,
}

#[test]
fn fields_become_typed_attributes_and_record_sets_them_later() {
    let calls = run(Bridge::new(), || {
        let span = info_span!(
            "fields",
            i = -3i64,
            small = 7u64,
            big = u64::MAX,
            wide = -5i128,
            huge = u128::MAX,
            ratio = 0.5,
            ok = true,
            text = "hé",
            point = ?Point { x: 1 },
            shown = %"displayed",
            later = Empty,
            unset = Empty,
        );
        span.record("later", 42);
        span.record("text", "changed");
        span.record("ratio", 1.5f32);
    });
    let start_attrs = enc(&[
        kv("i", -3),
        kv("small", 7),
        kv("big", "18446744073709551615"),
        kv("wide", -5),
        kv("huge", "340282366920938463463374607431768211455"),
        kv("ratio", 0.5),
        kv("ok", true),
        kv("text", "hé"),
        kv("point", "Point { x: 1 }"),
        kv("shown", "displayed"),
    ]);
    let set = |attrs: &[KeyValue<'_>]| Call::SpanSetAttributes { span: 1, attrs: enc(attrs), result: 0 };
    assert_eq!(
        calls,
        [
            ABI_OK,
            start("fields", 0, CURRENT, start_attrs, 1),
            set(&[kv("later", 42)]),
            set(&[kv("text", "changed")]),
            set(&[kv("ratio", 1.5)]),
            end(1),
        ]
    );
}

#[instrument]
fn load(path: &str, retries: u32, cached: bool, point: Point) -> usize {
    info!(bytes = 512, "loaded");
    path.len()
}

#[instrument(skip(secret), fields(otel.kind = "client", peer = "db", rows = Empty))]
fn query(secret: &str, limit: u64) -> usize {
    ::tracing::Span::current().record("rows", 3);
    secret.len()
}

#[test]
fn instrument_spans_carry_their_arguments() {
    let calls = run(Bridge::new(), || {
        load("/etc/app.toml", 2, false, Point { x: 4 });
        query("hunter2", 10);
    });
    let load_attrs = enc(&[
        kv("path", "/etc/app.toml"),
        kv("retries", 2),
        kv("cached", false),
        kv("point", "Point { x: 4 }"),
    ]);
    assert_eq!(
        calls,
        [
            ABI_OK,
            start("load", 0, CURRENT, load_attrs, 1),
            event(1, "loaded", &[kv("bytes", 512)], "INFO"),
            end(1),
            start(
                "query",
                abi::SpanKind::Client as i32,
                CURRENT,
                enc(&[kv("limit", 10), kv("peer", "db")]),
                2
            ),
            Call::SpanSetAttributes { span: 2, attrs: enc(&[kv("rows", 3)]), result: 0 },
            end(2),
        ]
    );
}

#[test]
fn events_in_spans_become_span_events_named_by_their_message() {
    let mut line = 0;
    let calls = run(Bridge::new(), || {
        let _s = info_span!("s").entered();
        info!(n = 1, "hello {}", "world");
        warn!(target: "audit", ok = false, "careful");
        line = line!() + 1;
        info!(n = 2);
        debug!("below the level");
    });
    let unnamed = std::format!("event guest-bindings/src/tests/tracing_bridge.rs:{line}");
    let unnamed = if calls.iter().any(|c| matches!(c, Call::SpanAddEvent { name, .. } if *name == unnamed)) {
        unnamed
    } else {
        std::format!("event src/tests/tracing_bridge.rs:{line}")
    };
    assert_eq!(
        calls,
        [
            ABI_OK,
            start("s", 0, CURRENT, vec![], 1),
            event(1, "hello world", &[kv("n", 1)], "INFO"),
            Call::SpanAddEvent {
                span: 1,
                name: "careful".into(),
                attrs: event_attrs(&[kv("ok", false)], &[kv("target", "audit"), kv("level", "WARN")]),
                result: 0
            },
            event(1, &unnamed, &[kv("n", 2)], "INFO"),
            end(1),
        ]
    );
}

#[test]
fn error_events_set_the_status_of_their_span() {
    let calls = run(Bridge::new(), || {
        let _s = info_span!("s").entered();
        error!(code = 7, "failed: {}", "disk full");
        error!(code = 8);
    });
    assert_eq!(calls[2], event(1, "failed: disk full", &[kv("code", 7)], "ERROR"));
    assert_eq!(calls[3], status(1, 2, "failed: disk full"));
    assert!(matches!(&calls[4], Call::SpanAddEvent { span: 1, .. }));
    assert_eq!(calls[5], status(1, 2, ""), "an error event without a message");
    assert_eq!(calls[6..], [end(1)]);

    let calls = run(Bridge::new().error_events_set_status(false), || {
        let _s = info_span!("s").entered();
        error!("failed");
    });
    assert_eq!(calls[2..], [event(1, "failed", &[], "ERROR"), end(1)]);

    let calls = run(Bridge::new().events_as_span_events(false).events_as_logs(EventsAsLogs::Never), || {
        let _s = info_span!("s").entered();
        error!("failed");
    });
    assert_eq!(calls[2..], [status(1, 2, "failed"), end(1)], "set even without a span event");
}

#[test]
fn events_become_log_records_as_configured() {
    fn program() {
        info!(n = 1, "outside");
        let _s = info_span!("s").entered();
        warn!("inside");
        trace!("filtered");
    }
    let outside = log(abi::severity::INFO, "outside", &[kv("n", 1)], 0);
    let inside_event = event(1, "inside", &[], "WARN");
    let inside_log = log(abi::severity::WARN, "inside", &[], 1);
    let s = start("s", 0, CURRENT, vec![], 1);

    let calls = run(Bridge::new(), program);
    assert_eq!(calls, [ABI_OK, outside.clone(), s.clone(), inside_event.clone(), end(1)], "the default");

    let calls = run(Bridge::new().events_as_logs(EventsAsLogs::Never), program);
    assert_eq!(calls, [ABI_OK, s.clone(), inside_event.clone(), end(1)]);

    let calls = run(Bridge::new().events_as_logs(EventsAsLogs::Always), program);
    assert_eq!(calls, [ABI_OK, outside.clone(), s.clone(), inside_event, inside_log.clone(), end(1)]);

    let calls = run(Bridge::new().events_as_span_events(false), program);
    assert_eq!(calls, [ABI_OK, outside, s, inside_log, end(1)]);
}

#[test]
fn log_records_of_every_level() {
    let calls = run(Bridge::new().max_level(LevelFilter::TRACE).events_as_span_events(false), || {
        error!("e");
        warn!("w");
        info!("i");
        debug!("d");
        trace!("t");
    });
    let severities: Vec<(i32, String)> = calls
        .iter()
        .filter_map(|c| match c {
            Call::LogEmit { severity, body, .. } => Some((*severity, body.clone())),
            _ => None,
        })
        .collect();
    let expected = [(17, "e"), (13, "w"), (9, "i"), (5, "d"), (1, "t")].map(|(n, b)| (n, b.to_string()));
    assert_eq!(severities, expected);
}

#[test]
fn otel_fields_set_name_kind_and_status() {
    let calls = run(Bridge::new(), || {
        let span = info_span!(
            "request",
            otel.name = "GET /api/{id}",
            otel.kind = "Server",
            otel.status_code = "ERROR",
            otel.status_description = "bad request",
            http.route = "/api/{id}",
        );
        span.record("otel.status_code", "ok");
        let other = info_span!("other", otel.kind = "sideways", otel.status_code = Empty);
        other.record("otel.status_code", "unset");
    });
    assert_eq!(
        calls,
        [
            ABI_OK,
            start(
                "GET /api/{id}",
                abi::SpanKind::Server as i32,
                CURRENT,
                enc(&[kv("http.route", "/api/{id}")]),
                1
            ),
            status(1, 2, "bad request"),
            status(1, 1, ""),
            Call::SpanCurrent { result: 1 },
            start("other", 0, NONE, vec![], 2),
            status(2, 0, ""),
            end(2),
            end(1),
        ]
    );
}

#[test]
fn levels_filter_spans_and_events() {
    let calls = run(Bridge::new(), || {
        let _d = debug_span!("debug").entered();
        debug!("debug event");
        let _i = info_span!("info").entered();
    });
    assert_eq!(calls, [ABI_OK, start("info", 0, CURRENT, vec![], 1), end(1)], "INFO by default");
    let calls = run(Bridge::new().max_level(LevelFilter::DEBUG), || {
        let _d = debug_span!("debug").entered();
        ::tracing::trace_span!("trace").in_scope(|| {});
    });
    assert_eq!(calls, [ABI_OK, start("debug", 0, CURRENT, vec![], 1), end(1)]);
    let calls = run(Bridge::new().max_level(LevelFilter::OFF), || {
        let _e = ::tracing::error_span!("error").entered();
        error!("error event");
    });
    assert!(calls.is_empty(), "{calls:?}");
}

#[test]
fn current_span_is_the_entered_one() {
    run(Bridge::new(), || {
        assert!(::tracing::Span::current().is_none());
        let outer = info_span!("outer");
        let inner = info_span!("inner");
        {
            let _o = outer.enter();
            assert_eq!(::tracing::Span::current().metadata().map(|m| m.name()), Some("outer"));
            let _i = inner.enter();
            let current = ::tracing::Span::current();
            assert_eq!(current.metadata().map(|m| m.name()), Some("inner"));
            assert_eq!(current.id().map(|id| id.into_u64()), Some(2));
        }
        assert!(::tracing::Span::current().is_none());
    });
}

#[test]
fn a_refused_span_is_a_noop_whose_children_and_events_go_to_its_parent() {
    let calls = run(Bridge::new(), || {
        let _a = info_span!("a").entered();
        mock::fail_span_start(Some(Status::LIMIT_EXCEEDED));
        let b = info_span!("b", k = 1).entered();
        mock::fail_span_start(None);
        b.record("k", 2); // nothing to record on
        info!("in b");
        let _c = info_span!("c").entered();
    });
    assert_eq!(
        calls,
        [
            ABI_OK,
            start("a", 0, CURRENT, vec![], 1),
            start("b", 0, 1, enc(&[kv("k", 1)]), Status::LIMIT_EXCEEDED.0.into()),
            event(1, "in b", &[], "INFO"),
            start("c", 0, 1, vec![], 2),
            end(2),
            end(1),
        ]
    );
}

#[test]
fn abi_mismatch_sends_nothing_but_the_version_query() {
    mock::reset();
    mock::set_abi_version(abi::ABI_VERSION + 1);
    tracing_core::dispatcher::with_default(&Dispatch::new(Bridge::new()), || {
        let a = info_span!("a", k = 1).entered();
        let b = info_span!("b");
        info!("event");
        info!(parent: None, "outside");
        a.record("k", 2);
        drop((a, b));
        assert!(mock::open_spans().is_empty());
    });
    assert_eq!(mock::take_calls(), [Call::AbiVersion { result: abi::ABI_VERSION + 1 }]);
}

#[test]
fn init_sets_the_global_default_once() {
    mock::reset();
    assert!(crate::tracing::init().is_ok());
    assert!(Bridge::new().init().is_err(), "one global default per program");
    // This thread has no scoped subscriber: the global one records.
    info_span!("global").in_scope(|| {});
    assert_eq!(mock::take_calls(), [ABI_OK, start("global", 0, CURRENT, vec![], 1), end(1)]);
}

#[test]
fn bridge_debug_shows_the_settings() {
    let bridge = Bridge::new().max_level(LevelFilter::WARN).events_as_logs(EventsAsLogs::Always);
    let shown = std::format!("{bridge:?}");
    assert_eq!(
        shown,
        "Bridge { max_level: LevelFilter::WARN, span_events: true, logs: Always, error_status: true, .. }"
    );
}
