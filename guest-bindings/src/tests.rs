//! Tests of the safe API against the mock host.

use std::string::{String, ToString};
use std::vec::Vec;
use std::{format, vec};

use crate::abi::{self, Status};
use crate::encode::{encode, encoded_len, BUFFER_LEN};
use crate::raw::mock::{self, Call, DecodedValue as D};
use crate::{init, kv, Error, KeyValue, Span, SpanKind, SpanStatus, Value};

#[cfg(feature = "log")]
mod log_bridge;
mod logs;
mod metrics;
mod propagation;
#[cfg(feature = "tracing")]
mod tracing_bridge;

fn enc(attributes: &[KeyValue<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for a in attributes {
        let mut buf = vec![0; encoded_len(a)];
        encode(a, &mut buf).unwrap();
        out.extend(buf);
    }
    out
}

fn start(name: &str, kind: i32, parent: i64, attrs: Vec<u8>, result: i64) -> Call {
    Call::SpanStart { name: name.into(), kind, parent, attrs, result }
}

fn end(span: i64) -> Call {
    Call::SpanEnd { span, result: 0 }
}

const ABI_OK: Call = Call::AbiVersion { result: abi::ABI_VERSION };

/// A string of `n` ASCII bytes.
fn text(n: usize) -> String {
    "abcdefghijklmnopqrstuvwxyz".chars().cycle().take(n).collect()
}

#[test]
fn nested_guards_start_children_and_end_each_span_once() {
    mock::reset();
    {
        let outer = Span::start("outer");
        assert_eq!(outer.handle().map(|h| h.get()), Some(1));
        assert!(outer.is_recording());
        {
            let _inner = Span::start("inner");
            assert_eq!(mock::open_spans(), [1, 2]);
        }
        let explicit = Span::start("explicit");
        explicit.end();
    }
    assert_eq!(
        mock::take_calls(),
        [
            ABI_OK,
            start("outer", 0, 0, vec![], 1),
            start("inner", 0, 0, vec![], 2),
            end(2),
            start("explicit", 0, 0, vec![], 3),
            end(3),
            end(1),
        ]
    );
    assert!(mock::open_spans().is_empty());
}

#[test]
fn abi_version_is_asked_once() {
    mock::reset();
    assert_eq!(init(), Ok(()));
    assert_eq!(init(), Ok(()));
    drop(Span::start("a"));
    drop(Span::start("b"));
    let asked = mock::take_calls().iter().filter(|c| matches!(c, Call::AbiVersion { .. })).count();
    assert_eq!(asked, 1);
}

#[test]
fn builder_sets_kind_parent_root_and_attributes() {
    mock::reset();
    let a = Span::builder("a").kind(SpanKind::Server).start();
    let b = Span::builder("b").kind(SpanKind::Consumer).root().start();
    let c = Span::builder("c").parent(&a).attributes(&[kv("k", "v")]).start();
    let d = Span::builder("d").parent(&Span::noop()).kind(SpanKind::Client).start();
    let e = Span::builder("e").kind(SpanKind::Producer).attributes(&[]).start();
    drop((a, b, c, d, e));
    let calls = mock::take_calls();
    assert_eq!(
        calls[1..6],
        [
            start("a", 1, abi::PARENT_CURRENT, vec![], 1),
            start("b", 4, abi::PARENT_NONE, vec![], 2),
            start("c", 0, 1, enc(&[kv("k", "v")]), 3),
            start("d", 2, abi::PARENT_CURRENT, vec![], 4),
            start("e", 3, abi::PARENT_CURRENT, vec![], 5),
        ]
    );
    // Tuples drop their fields in order.
    assert_eq!(calls[6..], [end(1), end(2), end(3), end(4), end(5)]);
}

#[test]
fn span_methods_send_exact_bytes() {
    mock::reset();
    let s = Span::start("s");
    s.set_attribute("retries", 3);
    s.set_attributes(&[kv("ok", true), kv("ratio", 0.25)]);
    s.set_attributes(&[]);
    s.add_event("loaded", &[kv("n", 2u32)]);
    s.add_event("bare", &[]);
    s.set_status(SpanStatus::Error("boom"));
    s.set_status(SpanStatus::Ok);
    s.set_status(SpanStatus::Unset);
    s.record_exception("io::Error", "not found", &[kv("path", "/x")]);
    s.record_exception("", "", &[]);
    drop(s);
    #[rustfmt::skip]
    let expected = [
        ABI_OK,
        start("s", 0, 0, vec![], 1),
        Call::SpanSetAttributes { span: 1, result: 0, attrs: vec![
            7, 0, 0, 0, b'r', b'e', b't', b'r', b'i', b'e', b's', 3, 3, 0, 0, 0, 0, 0, 0, 0] },
        Call::SpanSetAttributes { span: 1, result: 0, attrs: vec![
            2, 0, 0, 0, b'o', b'k', 2, 1,
            5, 0, 0, 0, b'r', b'a', b't', b'i', b'o', 4, 0, 0, 0, 0, 0, 0, 0xd0, 0x3f] },
        Call::SpanAddEvent { span: 1, name: "loaded".into(), result: 0, attrs: vec![
            1, 0, 0, 0, b'n', 3, 2, 0, 0, 0, 0, 0, 0, 0] },
        Call::SpanAddEvent { span: 1, name: "bare".into(), attrs: vec![], result: 0 },
        Call::SpanSetStatus { span: 1, code: 2, message: "boom".into(), result: 0 },
        Call::SpanSetStatus { span: 1, code: 1, message: "".into(), result: 0 },
        Call::SpanSetStatus { span: 1, code: 0, message: "".into(), result: 0 },
        Call::SpanRecordException { span: 1, ty: "io::Error".into(), message: "not found".into(), result: 0,
            attrs: vec![4, 0, 0, 0, b'p', b'a', b't', b'h', 1, 2, 0, 0, 0, b'/', b'x'] },
        Call::SpanRecordException { span: 1, ty: "".into(), message: "".into(), attrs: vec![], result: 0 },
        end(1),
    ];
    assert_eq!(mock::take_calls(), expected);
}

#[test]
fn span_attributes_that_do_not_fit_are_split_in_order() {
    mock::reset();
    // Each attribute is 4 + 3 + 1 + 4 + 100 = 112 bytes: 9 fit in 1024 bytes (1008), 25 need 3 calls.
    let keys: Vec<String> = (0..25).map(|i| format!("k{i:02}")).collect();
    let value = text(100);
    let attrs: Vec<KeyValue<'_>> = keys.iter().map(|k| kv(k, value.as_str())).collect();
    assert_eq!(encoded_len(&attrs[0]), 112);
    let s = Span::builder("big").attributes(&attrs).start();
    s.set_attributes(&attrs);
    drop(s);
    let calls = mock::take_calls();
    let sizes: Vec<usize> = calls
        .iter()
        .filter_map(|c| match c {
            Call::SpanStart { attrs, .. } | Call::SpanSetAttributes { attrs, .. } => Some(attrs.len()),
            _ => None,
        })
        .collect();
    assert_eq!(sizes, [1008, 1008, 784, 1008, 1008, 784]);
    assert!(sizes.iter().all(|&n| n <= BUFFER_LEN));
    let Call::SpanStart { attrs: first, .. } = &calls[1] else { panic!("{calls:?}") };
    let mut all = first.clone();
    for c in &calls[2..4] {
        let Call::SpanSetAttributes { attrs, span: 1, result: 0 } = c else { panic!("{c:?}") };
        all.extend(attrs);
    }
    assert_eq!(all, enc(&attrs), "same bytes, same order, nothing lost");
    let decoded = mock::decode(&all).unwrap();
    assert_eq!(decoded.len(), 25);
    assert_eq!(decoded[24], ("k24".to_string(), D::Str(value.clone())));
    assert_eq!(calls.last(), Some(&end(1)));
}

#[test]
fn oversized_attributes_are_skipped_everywhere() {
    mock::reset();
    // 4 + 3 + 1 + 4 + 1013 = 1025 bytes: one more than the buffer.
    let huge = text(BUFFER_LEN - 11);
    let max = text(BUFFER_LEN - 12);
    assert_eq!(encoded_len(&kv("big", huge.as_str())), BUFFER_LEN + 1);
    assert_eq!(encoded_len(&kv("max", max.as_str())), BUFFER_LEN);
    let many = [0i64; 200];
    let attrs = [kv("a", 1), kv("big", huge.as_str()), kv("many", &many), kv("b", 2)];
    let kept = enc(&[kv("a", 1), kv("b", 2)]);
    let s = Span::builder("s").attributes(&attrs).start();
    s.set_attributes(&attrs);
    s.add_event("e", &attrs);
    s.record_exception("t", "m", &attrs);
    s.set_attributes(&[kv("max", max.as_str())]);
    drop(s);
    let calls = mock::take_calls();
    assert_eq!(calls[1], start("s", 0, 0, kept.clone(), 1));
    assert_eq!(calls[2], Call::SpanSetAttributes { span: 1, attrs: kept.clone(), result: 0 });
    assert_eq!(calls[3], Call::SpanAddEvent { span: 1, name: "e".into(), attrs: kept.clone(), result: 0 });
    let Call::SpanRecordException { attrs, .. } = &calls[4] else { panic!("{calls:?}") };
    assert_eq!(attrs, &kept);
    let Call::SpanSetAttributes { attrs, .. } = &calls[5] else { panic!("{calls:?}") };
    assert_eq!(attrs.len(), BUFFER_LEN, "an attribute exactly as long as the buffer is kept");
    assert_eq!(calls[6..], [end(1)]);
}

#[test]
fn event_attributes_that_do_not_fit_are_dropped_others_kept() {
    mock::reset();
    let value = text(400); // 4 + 1 + 1 + 4 + 400 = 410 bytes
    let attrs = [kv("a", value.as_str()), kv("b", value.as_str()), kv("c", value.as_str()), kv("d", true)];
    let s = Span::start("s");
    s.add_event("e", &attrs);
    drop(s);
    let calls = mock::take_calls();
    let expected = enc(&[attrs[0], attrs[1], attrs[3]]);
    assert_eq!(calls[2], Call::SpanAddEvent { span: 1, name: "e".into(), attrs: expected, result: 0 });
}

#[test]
fn abi_mismatch_makes_spans_noops_and_init_fail() {
    mock::reset();
    mock::set_abi_version(abi::ABI_VERSION + 1);
    let expected = Error::AbiMismatch { host: abi::ABI_VERSION + 1, guest: abi::ABI_VERSION };
    assert_eq!(init(), Err(expected));
    assert_eq!(expected.name(), "ABI_MISMATCH");
    assert_eq!(expected.status(), None);
    let message = expected.to_string();
    assert!(
        message.contains("ABI mismatch") && message.contains("version 2") && message.contains("version 1")
    );
    let s = span!("s", "k" => 1);
    assert!(!s.is_recording());
    assert_eq!(s.handle(), None);
    s.set_attribute("k", "v");
    s.add_event("e", &[kv("k", 1)]);
    s.set_status(SpanStatus::Error("x"));
    s.record_exception("t", "m", &[]);
    let child = Span::builder("c").parent(&s).root().start();
    assert_eq!(Span::builder("t").try_start().err(), Some(expected));
    drop((s, child));
    assert_eq!(mock::take_calls(), [Call::AbiVersion { result: abi::ABI_VERSION + 1 }]);
}

#[test]
fn abi_mismatch_is_cached_even_if_the_host_changes() {
    mock::reset();
    mock::set_abi_version(0);
    assert!(!Span::start("a").is_recording());
    mock::set_abi_version(abi::ABI_VERSION);
    assert!(init().is_err());
    assert!(!Span::start("b").is_recording());
    mock::reset();
    assert!(Span::start("c").is_recording());
}

#[test]
fn failed_start_gives_a_noop_span() {
    mock::reset();
    mock::fail_span_start(Some(Status::LIMIT_EXCEEDED));
    let s = Span::start("s");
    assert!(!s.is_recording());
    s.set_attribute("k", 1);
    s.end();
    let err = Span::builder("t").try_start().unwrap_err();
    assert_eq!(err, Error::Host(Status::LIMIT_EXCEEDED));
    assert_eq!(err.name(), "LIMIT_EXCEEDED");
    assert_eq!(err.to_string(), "wasmedge_otel host call failed: LIMIT_EXCEEDED (-6)");
    let calls = mock::take_calls();
    assert_eq!(calls.len(), 3, "abi_version and two refused span_start, nothing else: {calls:?}");
    mock::fail_span_start(None);
    assert!(Span::builder("u").try_start().is_ok());
}

#[test]
fn errors_from_codes() {
    assert_eq!(Error::check(0), Ok(()));
    assert_eq!(Error::check(-3), Err(Error::Host(Status::INVALID_HANDLE)));
    assert_eq!(Error::check(-99).unwrap_err().name(), "UNKNOWN");
    assert_eq!(Error::from_handle_result(0), Error::Host(Status::INTERNAL));
    assert_eq!(Error::from_handle_result(-5), Error::Host(Status::MALFORMED));
    assert_eq!(Error::from_handle_result(i64::MIN), Error::Host(Status::INTERNAL));
    let e: &dyn core::error::Error = &Error::Host(Status::MALFORMED);
    assert_eq!(e.to_string(), "wasmedge_otel host call failed: MALFORMED (-5)");
}

#[test]
fn host_errors_after_start_are_ignored() {
    mock::reset();
    let s = Span::start("s");
    // End the span behind the guard's back: every later call gets INVALID_HANDLE, nothing panics.
    assert_eq!(crate::raw::span_end(1), 0);
    s.set_attribute("k", 1);
    s.add_event("e", &[]);
    drop(s);
    let calls = mock::take_calls();
    assert_eq!(calls.last(), Some(&Call::SpanEnd { span: 1, result: Status::INVALID_HANDLE.0 }));
}

#[test]
fn macro_forms() {
    mock::reset();
    let path = String::from("/etc/app.toml");
    {
        let _a = span!("a");
        let _b = span!("b", "path" => path.as_str(), "n" => 3, "ok" => true,);
        let _c = span!(kind: SpanKind::Client, "c", "ratio" => 0.5);
        let _d = span!(kind: SpanKind::Server, "d");
    }
    let calls = mock::take_calls();
    assert_eq!(calls[1], start("a", 0, 0, vec![], 1));
    assert_eq!(
        calls[2],
        start("b", 0, 0, enc(&[kv("path", "/etc/app.toml"), kv("n", 3), kv("ok", true)]), 2)
    );
    assert_eq!(calls[3], start("c", 2, 0, enc(&[kv("ratio", 0.5)]), 3));
    assert_eq!(calls[4], start("d", 1, 0, vec![], 4));
    assert_eq!(calls[5..], [end(4), end(3), end(2), end(1)]);
}

#[test]
fn value_conversions() {
    assert_eq!(Value::from("s"), Value::Str("s"));
    assert_eq!(Value::from(true), Value::Bool(true));
    assert_eq!(Value::from(-1i64), Value::I64(-1));
    assert_eq!(Value::from(-1i32), Value::I64(-1));
    assert_eq!(Value::from(u32::MAX), Value::I64(4_294_967_295));
    assert_eq!(Value::from(7u8), Value::I64(7));
    assert_eq!(Value::from(7usize), Value::I64(7));
    assert_eq!(Value::from(usize::MAX), Value::I64(i64::MAX));
    assert_eq!(Value::from(0.5f32), Value::F64(0.5));
    assert_eq!(Value::from(0.5), Value::F64(0.5));
    assert_eq!(Value::from(&["a", "b"]), Value::StrArray(&["a", "b"]));
    assert_eq!(Value::from(&["a"][..]), Value::StrArray(&["a"]));
    assert_eq!(Value::from(&[true][..]), Value::BoolArray(&[true]));
    assert_eq!(Value::from(&[1i64, 2]), Value::I64Array(&[1, 2]));
    assert_eq!(Value::from(&[1.0][..]), Value::F64Array(&[1.0]));
    assert_eq!(kv("k", 1), KeyValue::new("k", 1i64));
    assert_eq!(kv("k", 1).value, Value::I64(1));
}

#[test]
fn decoded_wire_round_trip_of_every_type() {
    let attrs = [
        kv("s", "é"),
        kv("b", false),
        kv("i", i64::MIN),
        kv("f", f64::MAX),
        kv("sa", &["x", ""]),
        kv("ba", &[false, true]),
        kv("ia", &[i64::MAX]),
        kv("fa", &[0.1, f64::INFINITY]),
    ];
    let decoded = mock::decode(&enc(&attrs)).unwrap();
    let expected = [
        ("s", D::Str("é".into())),
        ("b", D::Bool(false)),
        ("i", D::I64(i64::MIN)),
        ("f", D::F64(f64::MAX)),
        ("sa", D::StrArray(vec!["x".into(), "".into()])),
        ("ba", D::BoolArray(vec![false, true])),
        ("ia", D::I64Array(vec![i64::MAX])),
        ("fa", D::F64Array(vec![0.1, f64::INFINITY])),
    ];
    let expected: Vec<(String, D)> = expected.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    assert_eq!(decoded, expected);
    assert_eq!(mock::decode(&[1, 0, 0, 0, b'k', 9]), Err(Status::MALFORMED));
    assert_eq!(mock::decode(&[1, 0, 0, 0, b'k', 2, 2]), Err(Status::MALFORMED));
    assert_eq!(mock::decode(&[1, 0, 0, 0, 0xff, 2, 1]), Err(Status::INVALID_UTF8));
    assert_eq!(mock::decode(&[1, 0, 0]), Err(Status::MALFORMED));
}

#[test]
fn never_panics_on_odd_inputs() {
    mock::reset();
    let s = Span::start("");
    s.set_attribute("", "");
    s.set_attributes(&[kv("sa", &[] as &[&str]), kv("ia", &[] as &[i64])]);
    s.add_event("", &[kv("nan", f64::NAN)]);
    s.set_status(SpanStatus::Error(""));
    s.record_exception("", "", &[kv("many", &[""; 300])]); // 4 + 4 + 1 + 4 + 300 * 4 > 1024: dropped
    let child = Span::builder("child").parent(&s).start();
    drop(s); // parent ends before the child
    child.set_attribute("late", true);
    drop(child);
    let calls = mock::take_calls();
    let refused = |c: &Call| match *c {
        Call::SpanStart { result, .. }
        | Call::SpanStartRemote { result, .. }
        | Call::InstrumentCreate { result, .. }
        | Call::MetricBind { result, .. } => result <= 0,
        Call::SpanEnd { result, .. }
        | Call::SpanSetAttributes { result, .. }
        | Call::SpanAddEvent { result, .. }
        | Call::SpanSetStatus { result, .. }
        | Call::SpanRecordException { result, .. }
        | Call::MetricRecordI64 { result, .. }
        | Call::MetricRecordF64 { result, .. }
        | Call::MetricBoundRecordI64 { result, .. }
        | Call::MetricBoundRecordF64 { result, .. }
        | Call::LogEmit { result, .. }
        | Call::FuncNames { result, .. } => result != 0,
        Call::SpanTraceparent { result, .. } | Call::SpanTracestate { result, .. } => result < 0,
        Call::AbiVersion { .. }
        | Call::SpanCurrent { .. }
        | Call::FuncEnter { .. }
        | Call::FuncExit { .. } => false,
    };
    assert!(!calls.iter().any(refused), "the host accepts every call: {calls:?}");
    assert!(mock::open_spans().is_empty());
}

#[test]
fn empty_keys_are_dropped_not_sent() {
    mock::reset();
    let s = Span::builder("s").attributes(&[kv("", 1), kv("a", 2)]).start();
    s.set_attributes(&[kv("", 1)]);
    s.add_event("e", &[kv("", 1), kv("b", 3)]);
    drop(s);
    let calls = mock::take_calls();
    assert_eq!(calls[1], start("s", 0, 0, enc(&[kv("a", 2)]), 1));
    assert_eq!(
        calls[2],
        Call::SpanAddEvent { span: 1, name: "e".into(), attrs: enc(&[kv("b", 3)]), result: 0 }
    );
    assert_eq!(calls[3], end(1));
    assert_eq!(mock::decode(&enc(&[kv("", 1)])), Err(Status::MALFORMED), "the host would refuse it");
}
