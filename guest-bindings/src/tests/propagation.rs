//! W3C trace context against the mock host: exact header bytes, remote parents, a client-to-server
//! round trip between two mock instances, buffers, and no-op paths.
#![allow(unsafe_code)] // the raw functions that write are `unsafe fn`

use std::string::{String, ToString};
use std::vec;
use std::vec::Vec;

use super::{enc, end, start, ABI_OK};
use crate::abi::{self, limits, Status};
use crate::propagation::{current_tracestate, RemoteSpanBuilder, TRACEPARENT_LEN};
use crate::raw::{self, mock, mock::Call};
use crate::{current_traceparent, kv, Span, SpanKind, TraceParent};

const INCOMING: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// The mock's `traceparent` for span handle `span` in its `trace`-th new trace, sampled.
fn mock_traceparent(trace: u128, span: u64) -> String {
    std::format!("00-{trace:032x}-{span:016x}-01")
}

fn traceparent_call(span: i64, written: &str) -> Call {
    let result = written.len() as i32;
    Call::SpanTraceparent { span, buf_len: TRACEPARENT_LEN as i32, written: written.into(), result }
}

fn remote(name: &str, kind: i32, traceparent: &str, tracestate: &str, attrs: Vec<u8>, result: i64) -> Call {
    let (traceparent, tracestate) = (traceparent.into(), tracestate.into());
    Call::SpanStartRemote { name: name.into(), kind, traceparent, tracestate, attrs, result }
}

#[test]
fn spans_and_the_current_context_give_exact_traceparents() {
    mock::reset();
    assert_eq!(current_traceparent(), None, "no span open, no root context");
    let a = Span::start("a");
    let b = Span::builder("b").kind(SpanKind::Client).start();
    let root = Span::builder("c").root().start();
    let tp = |s: &Span| s.traceparent().map(|t| t.as_str().to_string());
    assert_eq!(tp(&a).as_deref(), Some(&*mock_traceparent(1, 1)));
    assert_eq!(tp(&b).as_deref(), Some(&*mock_traceparent(1, 2)), "a child shares its parent's trace");
    assert_eq!(tp(&root).as_deref(), Some(&*mock_traceparent(2, 3)), "a root starts a new trace");
    let current = current_traceparent().unwrap();
    assert_eq!(current.as_str(), mock_traceparent(2, 3));
    drop((a, b, root));
    assert_eq!(current_traceparent(), None);
    assert_eq!(
        mock::take_calls(),
        [
            ABI_OK,
            traceparent_call(0, ""),
            start("a", 0, abi::PARENT_CURRENT, vec![], 1),
            start("b", 2, abi::PARENT_CURRENT, vec![], 2),
            start("c", 0, abi::PARENT_NONE, vec![], 3),
            traceparent_call(1, &mock_traceparent(1, 1)),
            traceparent_call(2, &mock_traceparent(1, 2)),
            traceparent_call(3, &mock_traceparent(2, 3)),
            traceparent_call(0, &mock_traceparent(2, 3)),
            end(1),
            end(2),
            end(3),
            traceparent_call(0, ""),
        ]
    );
}

#[test]
fn traceparent_accessors() {
    mock::reset();
    assert!(mock::set_root_context(INCOMING, ""));
    let t: TraceParent = current_traceparent().unwrap();
    assert_eq!(t.as_str(), INCOMING);
    assert_eq!(t.as_bytes(), INCOMING.as_bytes());
    assert_eq!(t.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(t.span_id(), "00f067aa0ba902b7");
    assert!(t.is_sampled());
    assert_eq!(std::format!("{t}"), INCOMING);
    assert_eq!(std::format!("{t:?}"), std::format!("TraceParent({INCOMING:?})"));
    assert!(mock::set_root_context(&INCOMING.replace("-01", "-00"), ""));
    assert!(!current_traceparent().unwrap().is_sampled());
}

#[test]
fn the_root_context_parents_spans_without_a_local_parent() {
    mock::reset();
    assert!(mock::set_root_context(INCOMING, "congo=t61rcWkgMzE"));
    assert_eq!(current_traceparent().unwrap().as_str(), INCOMING, "no span open: the root context");
    let mut buf = [0u8; 64];
    assert_eq!(current_tracestate(&mut buf), Some("congo=t61rcWkgMzE"));
    let s = Span::start("s");
    let t = s.traceparent().unwrap();
    assert_eq!((t.trace_id(), t.span_id()), ("4bf92f3577b34da6a3ce929d0e0e4736", "0000000000000001"));
    assert_eq!(s.tracestate(&mut buf), Some("congo=t61rcWkgMzE"), "the trace state is inherited");
    assert!(!mock::set_root_context("garbage", ""));
    assert_eq!(Span::builder("new").root().start().traceparent().unwrap().as_str(), mock_traceparent(1, 2));
}

#[test]
fn a_client_span_continues_in_a_server_span_of_another_instance() {
    // The client: one mock instance (this thread), with a trace state from its own caller.
    mock::reset();
    assert!(mock::set_root_context(INCOMING, "rojo=00f067aa0ba902b7"));
    let attrs = [kv("http.request.method", "GET")];
    let client = Span::builder("GET").kind(SpanKind::Client).attributes(&attrs).start();
    let traceparent = client.traceparent().unwrap();
    let mut buf = [0u8; 512];
    let tracestate = client.tracestate(&mut buf).unwrap().to_string();
    assert_eq!(traceparent.as_str(), "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000001-01");
    assert_eq!(tracestate, "rojo=00f067aa0ba902b7");

    // The server: another instance (another thread), receiving the two header values.
    let (server_header, calls) = std::thread::spawn(move || {
        mock::reset();
        let attrs = [kv("http.route", "/api/hello")];
        let builder = Span::builder("GET /api/hello").kind(SpanKind::Server).attributes(&attrs);
        let builder: RemoteSpanBuilder<'_> = builder.remote_parent(traceparent.as_str(), &tracestate);
        let server = builder.start();
        let header = server.traceparent().unwrap().as_str().to_string();
        let mut buf = [0u8; 512];
        assert_eq!(server.tracestate(&mut buf), Some(tracestate.as_str()));
        drop(server);
        (header, mock::take_calls())
    })
    .join()
    .unwrap();
    assert_eq!(server_header, "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000001-01");
    assert_eq!(
        calls[..2],
        [
            ABI_OK,
            remote(
                "GET /api/hello",
                SpanKind::Server as i32,
                "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000001-01",
                "rojo=00f067aa0ba902b7",
                enc(&[kv("http.route", "/api/hello")]),
                1
            ),
        ],
        "the server's parent is the client's span: same trace, the client's span id"
    );
    assert_eq!(calls.last(), Some(&end(1)));
    drop(client);
}

#[test]
fn unsampled_and_invalid_traceparents_start_spans_all_the_same() {
    mock::reset();
    let unsampled = INCOMING.replace("-01", "-00");
    let s = Span::builder("s").remote_parent(&unsampled, "").start();
    let t = s.traceparent().unwrap();
    assert_eq!((t.trace_id(), t.is_sampled()), ("4bf92f3577b34da6a3ce929d0e0e4736", false));
    drop(s);
    let bad = [
        "",
        "garbage",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
    ];
    for (i, bad) in bad.iter().enumerate() {
        let s = Span::builder("s").remote_parent(bad, "k=v").start();
        assert!(s.is_recording(), "{bad:?} is no error");
        let expected = mock_traceparent(i as u128 + 1, s.handle().unwrap().get());
        assert_eq!(s.traceparent().unwrap().as_str(), expected, "{bad:?}: a new trace");
        assert_eq!(s.tracestate(&mut [0; 16]), None, "{bad:?}: nothing of the remote context");
    }
    // Future versions may carry more fields; surrounding blanks are trimmed.
    let future = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03-more";
    for ok in [future, " 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 "] {
        let s = Span::builder("s").remote_parent(ok, "").start();
        let t = s.traceparent().unwrap();
        assert_eq!((t.trace_id(), t.is_sampled()), ("4bf92f3577b34da6a3ce929d0e0e4736", true), "{ok:?}");
    }
    // With a root context, an invalid traceparent falls back to it.
    assert!(mock::set_root_context(INCOMING, ""));
    let s = Span::builder("s").remote_parent("garbage", "").start();
    assert_eq!(s.traceparent().unwrap().trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
}

#[test]
fn tracestate_is_normalised_and_fits_the_buffer_or_is_none() {
    mock::reset();
    let with = |tracestate: &str| {
        let s = Span::builder("s").remote_parent(INCOMING, tracestate).start();
        let mut buf = [0u8; 128];
        s.tracestate(&mut buf).map(ToString::to_string)
    };
    assert_eq!(with(""), None);
    assert_eq!(with(" a=1 ,\tb@vendor=2,,").as_deref(), Some("a=1,b@vendor=2"));
    for invalid in ["A=1", "a", "a=1=2", "_a=1", "a=1,B=2"] {
        assert_eq!(with(invalid), None, "{invalid:?}: dropped as the SDK does");
    }
    let s = Span::builder("s").remote_parent(INCOMING, "vendor=value").start();
    assert_eq!(s.tracestate(&mut [0; 11]), None, "one byte short");
    assert_eq!(s.tracestate(&mut [0; 12]), Some("vendor=value"));
    let mut huge = vec![0u8; limits::MAX_BUFFER_LEN + 1];
    assert_eq!(s.tracestate(&mut huge), Some("vendor=value"), "clamped to the host's limit");
    let calls = mock::take_calls();
    let lens: Vec<(i32, i32)> = calls[calls.len() - 3..]
        .iter()
        .map(|c| match c {
            Call::SpanTracestate { buf_len, result, .. } => (*buf_len, *result),
            other => panic!("{other:?}"),
        })
        .collect();
    let max = limits::MAX_BUFFER_LEN as i32;
    assert_eq!(lens, [(11, Status::LIMIT_EXCEEDED.0), (12, 12), (max, 12)]);
}

#[test]
fn remote_spans_take_the_builders_kind_and_attributes_and_split_them() {
    mock::reset();
    let value = "v".repeat(100);
    let keys: Vec<String> = (0..10).map(|i| std::format!("k{i:02}")).collect();
    let attrs: Vec<_> = keys.iter().map(|k| kv(k, value.as_str())).collect();
    let s = Span::builder("consume").kind(SpanKind::Consumer).attributes(&attrs).remote_parent(INCOMING, "");
    drop(s.try_start().unwrap());
    let calls = mock::take_calls();
    assert_eq!(calls[1], remote("consume", 4, INCOMING, "", enc(&attrs[..9]), 1));
    assert_eq!(calls[2], Call::SpanSetAttributes { span: 1, attrs: enc(&attrs[9..]), result: 0 });
    assert_eq!(calls[3..], [end(1)]);
}

#[test]
fn noop_spans_and_an_abi_mismatch_reach_nothing() {
    mock::reset();
    assert_eq!(Span::noop().traceparent(), None);
    assert_eq!(Span::noop().tracestate(&mut [0; 64]), None);
    assert!(mock::take_calls().is_empty());
    mock::set_abi_version(abi::ABI_VERSION + 1);
    assert!(mock::set_root_context(INCOMING, "k=v"));
    assert_eq!(current_traceparent(), None);
    assert_eq!(current_tracestate(&mut [0; 64]), None);
    let s = Span::builder("s").remote_parent(INCOMING, "").start();
    assert!(!s.is_recording());
    assert_eq!(s.traceparent(), None);
    let err = Span::builder("s").remote_parent(INCOMING, "").try_start().unwrap_err();
    assert_eq!(err.name(), "ABI_MISMATCH");
    assert_eq!(mock::take_calls(), [Call::AbiVersion { result: abi::ABI_VERSION + 1 }]);
}

#[test]
fn a_refused_remote_start_gives_a_noop_span() {
    mock::reset();
    mock::fail_span_start(Some(Status::LIMIT_EXCEEDED));
    let s = Span::builder("s").remote_parent(INCOMING, "").start();
    assert!(!s.is_recording());
    let err = Span::builder("s").remote_parent(INCOMING, "").try_start().unwrap_err();
    assert_eq!(err.status(), Some(Status::LIMIT_EXCEEDED));
}

#[test]
fn the_raw_functions_check_handles_buffers_and_arguments_as_the_plugin_does() {
    mock::reset();
    let write = |span: i64, buf: &mut [u8]| {
        // SAFETY: `with_out_buffer` passes `buf`, borrowed mutably.
        raw::with_out_buffer(buf, |ptr, len| unsafe { raw::span_traceparent(span, ptr, len) })
    };
    // No context: 0, before the buffer is even looked at.
    // SAFETY: nothing is written without a context; the mock's memory is simulated anyway.
    assert_eq!(unsafe { raw::span_traceparent(0, 1 << 30, 55) }, 0);
    assert_eq!(write(0, &mut []), 0);
    let name = b"s";
    let h = raw::span_start(raw::ptr(name), 1, 0, abi::PARENT_CURRENT, 0, 0);
    assert_eq!(write(99, &mut [0; 55]), Status::INVALID_HANDLE.0);
    // SAFETY: as above.
    assert_eq!(unsafe { raw::span_traceparent(h, 1 << 30, 55) }, Status::OUT_OF_BOUNDS.0);
    let r = unsafe { raw::span_tracestate(h, 1 << 30, 55) };
    assert_eq!(r, Status::OUT_OF_BOUNDS.0, "checked even for an empty trace state");
    let mut short = [0xaau8; 54];
    assert_eq!(write(h, &mut short), Status::LIMIT_EXCEEDED.0);
    assert_eq!(short, [0xaa; 54], "nothing written");
    let mut huge = vec![0u8; limits::MAX_BUFFER_LEN + 1];
    assert_eq!(write(h, &mut huge), Status::LIMIT_EXCEEDED.0);
    let mut roomy = [0xaau8; 60];
    assert_eq!(write(h, &mut roomy), 55);
    assert_eq!((&roomy[..55], &roomy[55..]), (mock_traceparent(1, 1).as_bytes(), &[0xaa; 5][..]));
    assert_eq!(raw::span_end(h), 0);
    assert_eq!(write(h, &mut roomy), Status::INVALID_HANDLE.0, "an ended span");

    // span_start_remote: name, kind, headers, attributes, in the plugin's order.
    let start_remote = |name: &[u8], kind: i32, tp: &[u8], ts: &[u8], attrs: &[u8]| {
        let (n, t, s, a) = (raw::ptr(name), raw::ptr(tp), raw::ptr(ts), raw::ptr(attrs));
        raw::span_start_remote(n, raw::len(name), kind, t, raw::len(tp), s, raw::len(ts), a, raw::len(attrs))
    };
    let tp = INCOMING.as_bytes();
    let malformed = [1, 0, 0, 0, b'k', 9];
    assert_eq!(start_remote(&[0xff], 9, tp, b"", &[]), Status::INVALID_UTF8.0.into());
    assert_eq!(start_remote(b"s", 9, &[0xff], b"", &[]), Status::INVALID_ARGUMENT.0.into());
    assert_eq!(start_remote(b"s", 1, &[0xff], b"", &malformed), Status::INVALID_UTF8.0.into());
    assert_eq!(start_remote(b"s", 1, tp, &[0xff], &malformed), Status::INVALID_UTF8.0.into());
    assert_eq!(start_remote(b"s", 1, tp, b"", &malformed), Status::MALFORMED.0.into());
    let r = raw::span_start_remote(raw::ptr(b"s"), 1, 1, 1 << 30, 55, 0, 0, 0, 0);
    assert_eq!(r, Status::OUT_OF_BOUNDS.0.into());
    assert!(mock::open_spans().is_empty(), "nothing refused was started");
    let handles: Vec<i64> =
        (0..=limits::MAX_OPEN_SPANS).map(|_| start_remote(b"s", 1, tp, b"", &[])).collect();
    assert!(handles[..limits::MAX_OPEN_SPANS].iter().all(|h| *h > 0));
    assert_eq!(handles[limits::MAX_OPEN_SPANS], Status::LIMIT_EXCEEDED.0.into());
}
