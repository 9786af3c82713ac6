//! Metric instruments against the mock host: exact call arguments, deduplication, bound instruments,
//! no-op instruments, and the host's validation as the mock implements it.

use std::string::String;
use std::vec;
use std::vec::Vec;

use super::{enc, text, ABI_OK};
use crate::abi::{self, limits, Status};
use crate::metrics::{BoundInstrument, Counter, Gauge, Histogram, InstrumentBuilder, UpDownCounter};
use crate::raw::{self, mock, mock::Call};
use crate::{kv, Error, Span};

#[allow(clippy::too_many_arguments)]
fn create(
    kind: i32,
    value_type: i32,
    name: &str,
    unit: &str,
    desc: &str,
    bounds: Vec<u8>,
    result: i64,
) -> Call {
    Call::InstrumentCreate {
        kind,
        value_type,
        name: name.into(),
        unit: unit.into(),
        description: desc.into(),
        boundaries: bounds,
        result,
    }
}

fn record_i64(instrument: i64, value: i64, attrs: Vec<u8>) -> Call {
    Call::MetricRecordI64 { instrument, value, attrs, result: 0 }
}

fn record_f64(instrument: i64, value: f64, attrs: Vec<u8>) -> Call {
    Call::MetricRecordF64 { instrument, bits: value.to_bits(), attrs, result: 0 }
}

/// Raw `instrument_create` of a histogram with these boundary bytes.
fn raw_histogram(bounds: &[u8]) -> i64 {
    let name = b"h";
    raw::instrument_create(
        2,
        1,
        raw::ptr(name),
        raw::len(name),
        0,
        0,
        0,
        0,
        raw::ptr(bounds),
        raw::len(bounds),
    )
}

/// Raw `instrument_create` of an instrument without unit, description or boundaries.
fn raw_instrument(kind: i32, value_type: i32, name: &str) -> i64 {
    let name = name.as_bytes();
    raw::instrument_create(kind, value_type, raw::ptr(name), raw::len(name), 0, 0, 0, 0, 0, 0)
}

#[test]
fn builders_create_every_kind_and_value_type_with_exact_arguments() {
    mock::reset();
    let c = Counter::<i64>::builder("http.server.requests")
        .unit("{request}")
        .description("Requests served")
        .build();
    let cf = Counter::<f64>::builder("c.f").build();
    let u = UpDownCounter::<i64>::builder("u.i").unit("{request}").build();
    let uf = UpDownCounter::<f64>::builder("u.f").build();
    let h = Histogram::<f64>::builder("http.server.request.duration")
        .unit("ms")
        .boundaries(&[1.0, 5.0, 25.0])
        .build();
    let hi = Histogram::<i64>::builder("h.i").boundaries(&[]).build();
    let g = Gauge::<i64>::builder("app.memory.used").unit("By").build();
    let gf = Gauge::<f64>::builder("g.f").description("d").build();
    let handles = [c.handle(), cf.handle(), u.handle(), uf.handle(), h.handle(), hi.handle(), g.handle()];
    let handles: Vec<u64> = handles.iter().chain([&gf.handle()]).map(|h| h.unwrap().get()).collect();
    assert_eq!(handles, [1, 2, 3, 4, 5, 6, 7, 8]);
    #[rustfmt::skip]
    let bounds = vec![
        0, 0, 0, 0, 0, 0, 0xf0, 0x3f, // 1.0 = 0x3FF0_0000_0000_0000, little-endian
        0, 0, 0, 0, 0, 0, 0x14, 0x40, // 5.0 = 0x4014_0000_0000_0000
        0, 0, 0, 0, 0, 0, 0x39, 0x40, // 25.0 = 0x4039_0000_0000_0000
    ];
    assert_eq!(
        mock::take_calls(),
        [
            ABI_OK,
            create(0, 0, "http.server.requests", "{request}", "Requests served", vec![], 1),
            create(0, 1, "c.f", "", "", vec![], 2),
            create(1, 0, "u.i", "{request}", "", vec![], 3),
            create(1, 1, "u.f", "", "", vec![], 4),
            create(2, 1, "http.server.request.duration", "ms", "", bounds, 5),
            create(2, 0, "h.i", "", "", vec![], 6),
            create(3, 0, "app.memory.used", "By", "", vec![], 7),
            create(3, 1, "g.f", "", "d", vec![], 8),
        ]
    );
}

#[test]
fn measurements_send_exact_values_and_attributes() {
    mock::reset();
    let c = Counter::<i64>::builder("c").build();
    let cf = Counter::<f64>::builder("cf").build();
    let u = UpDownCounter::<i64>::builder("u").build();
    let uf = UpDownCounter::<f64>::builder("uf").build();
    let h = Histogram::<f64>::builder("h").build();
    let hi = Histogram::<i64>::builder("hi").build();
    let g = Gauge::<i64>::builder("g").build();
    let gf = Gauge::<f64>::builder("gf").build();
    mock::take_calls();
    let route = [kv("http.route", "/api/hello"), kv("http.response.status_code", 200)];
    c.add(1, &route);
    c.add(0, &[]);
    cf.add(0.25, &[kv("k", true)]);
    u.add(-1, &[]);
    uf.add(-2.5, &[]);
    h.record(12.5, &route[..1]);
    hi.record(7, &[]);
    g.record(-65536, &[kv("pool", "heap")]);
    gf.record(f64::MAX, &[]);
    #[rustfmt::skip]
    let route_bytes = vec![
        10, 0, 0, 0, b'h', b't', b't', b'p', b'.', b'r', b'o', b'u', b't', b'e', 1,
        10, 0, 0, 0, b'/', b'a', b'p', b'i', b'/', b'h', b'e', b'l', b'l', b'o',
        25, 0, 0, 0, b'h', b't', b't', b'p', b'.', b'r', b'e', b's', b'p', b'o', b'n', b's', b'e', b'.',
        b's', b't', b'a', b't', b'u', b's', b'_', b'c', b'o', b'd', b'e', 3, 200, 0, 0, 0, 0, 0, 0, 0,
    ];
    assert_eq!(route_bytes, enc(&route));
    let calls = mock::take_calls();
    assert_eq!(
        calls,
        [
            record_i64(1, 1, route_bytes),
            record_i64(1, 0, vec![]),
            record_f64(2, 0.25, vec![1, 0, 0, 0, b'k', 2, 1]),
            record_i64(3, -1, vec![]),
            record_f64(4, -2.5, vec![]),
            record_f64(5, 12.5, enc(&route[..1])),
            record_i64(6, 7, vec![]),
            record_i64(7, -65536, enc(&[kv("pool", "heap")])),
            record_f64(8, f64::MAX, vec![]),
        ]
    );
    // The value crosses as the exact bits: 12.5 = 0x4029_0000_0000_0000.
    assert!(matches!(calls[5], Call::MetricRecordF64 { bits: 0x4029_0000_0000_0000, .. }));
}

#[test]
fn identical_instruments_share_a_handle() {
    mock::reset();
    let build = || Counter::<i64>::builder("requests").unit("{request}").description("d").build();
    let (a, b) = (build(), build());
    assert_eq!(a.handle(), b.handle());
    // Any difference makes another instrument: kind, value type, unit, description, boundaries.
    let others = [
        UpDownCounter::<i64>::builder("requests").unit("{request}").description("d").build().handle(),
        Counter::<f64>::builder("requests").unit("{request}").description("d").build().handle(),
        Counter::<i64>::builder("requests").unit("1").description("d").build().handle(),
        Counter::<i64>::builder("requests").unit("{request}").build().handle(),
        Histogram::<i64>::builder("requests").unit("{request}").description("d").build().handle(),
        Histogram::<i64>::builder("requests")
            .unit("{request}")
            .description("d")
            .boundaries(&[1.0])
            .build()
            .handle(),
    ];
    let others: Vec<u64> = others.iter().map(|h| h.unwrap().get()).collect();
    assert_eq!(others, [2, 3, 4, 5, 6, 7]);
    let again = Histogram::<i64>::builder("requests").unit("{request}").description("d").boundaries(&[1.0]);
    assert_eq!(again.build().handle().unwrap().get(), 7);
    let results: Vec<i64> = mock::take_calls()
        .into_iter()
        .filter_map(|c| match c {
            Call::InstrumentCreate { result, .. } => Some(result),
            _ => None,
        })
        .collect();
    assert_eq!(results, [1, 1, 2, 3, 4, 5, 6, 7, 7], "one host call per build, deduplicated by the host");
}

#[test]
fn bound_instruments_pass_the_attributes_once() {
    mock::reset();
    let hits = Counter::<i64>::builder("app.cache.hits").build();
    let bound = hits.bind(&[kv("cache", "main")]);
    assert!(bound.is_recording());
    assert_eq!(bound.handle().map(|h| h.get()), Some(2));
    bound.add(2);
    bound.add(0);
    let duration = Histogram::<f64>::builder("d").build().bind(&[]);
    duration.record(0.5);
    let active = UpDownCounter::<i64>::builder("a").build().bind(&[kv("pool", 1)]);
    active.add(-3);
    let level = Gauge::<f64>::builder("l").build().bind(&[kv("tank", "a")]);
    level.record(-1.25);
    let copy: BoundInstrument<Counter<i64>> = bound;
    copy.add(1);
    let cache_main = vec![5, 0, 0, 0, b'c', b'a', b'c', b'h', b'e', 1, 4, 0, 0, 0, b'm', b'a', b'i', b'n'];
    assert_eq!(
        mock::take_calls(),
        [
            ABI_OK,
            create(0, 0, "app.cache.hits", "", "", vec![], 1),
            Call::MetricBind { instrument: 1, attrs: cache_main, result: 2 },
            Call::MetricBoundRecordI64 { bound: 2, value: 2, result: 0 },
            Call::MetricBoundRecordI64 { bound: 2, value: 0, result: 0 },
            create(2, 1, "d", "", "", vec![], 3),
            Call::MetricBind { instrument: 3, attrs: vec![], result: 4 },
            Call::MetricBoundRecordF64 { bound: 4, bits: 0.5f64.to_bits(), result: 0 },
            create(1, 0, "a", "", "", vec![], 5),
            Call::MetricBind { instrument: 5, attrs: enc(&[kv("pool", 1)]), result: 6 },
            Call::MetricBoundRecordI64 { bound: 6, value: -3, result: 0 },
            create(3, 1, "l", "", "", vec![], 7),
            Call::MetricBind { instrument: 7, attrs: enc(&[kv("tank", "a")]), result: 8 },
            Call::MetricBoundRecordF64 { bound: 8, bits: (-1.25f64).to_bits(), result: 0 },
            Call::MetricBoundRecordI64 { bound: 2, value: 1, result: 0 },
        ]
    );
}

#[test]
fn failed_creation_gives_a_noop_instrument() {
    mock::reset();
    mock::fail_instrument_create(Some(Status::LIMIT_EXCEEDED));
    let c = Counter::<i64>::builder("c").build();
    assert!(!c.is_recording());
    assert_eq!(c.handle(), None);
    c.add(1, &[kv("k", 1)]);
    let bound = c.bind(&[kv("k", 1)]);
    assert!(!bound.is_recording());
    bound.add(1);
    let err = Histogram::<f64>::builder("h").try_build().unwrap_err();
    assert_eq!(err, Error::Host(Status::LIMIT_EXCEEDED));
    assert_eq!(
        mock::take_calls(),
        [
            ABI_OK,
            create(0, 0, "c", "", "", vec![], Status::LIMIT_EXCEEDED.0.into()),
            create(2, 1, "h", "", "", vec![], Status::LIMIT_EXCEEDED.0.into()),
        ],
        "nothing but the refused creations"
    );
    mock::fail_instrument_create(None);

    // Refusals for the arguments: unordered boundaries, an empty name.
    let h = Histogram::<f64>::builder("h").boundaries(&[5.0, 1.0]).build();
    assert!(!h.is_recording());
    h.record(1.0, &[]);
    h.bind(&[]).record(1.0);
    assert_eq!(Gauge::<i64>::builder("").try_build().unwrap_err(), Error::Host(Status::INVALID_ARGUMENT));
    let bad = Histogram::<i64>::builder("h").boundaries(&[1.0, f64::NAN]).try_build().unwrap_err();
    assert_eq!(bad.status(), Some(Status::INVALID_ARGUMENT));
    let calls = mock::take_calls();
    assert_eq!(calls.len(), 3, "three refused creations, no measurement: {calls:?}");
    assert!(calls.iter().all(|c| matches!(c, Call::InstrumentCreate { result: -4, .. })));

    let noop = Counter::<f64>::noop();
    noop.add(1.0, &[]);
    noop.bind(&[]).add(1.0);
    Counter::<i64>::default().add(1, &[]);
    assert!(mock::take_calls().is_empty());
}

#[test]
fn try_build_returns_the_instrument() {
    mock::reset();
    let g = Gauge::<f64>::builder("g").try_build().unwrap();
    assert!(g.is_recording());
    g.record(1.5, &[]);
    let builder: InstrumentBuilder<'_, Gauge<f64>> = Gauge::builder("g");
    assert_eq!(builder.try_build().unwrap().handle(), g.handle());
    let calls = mock::take_calls();
    assert_eq!(calls[2], record_f64(1, 1.5, vec![]));
}

#[test]
fn abi_mismatch_makes_instruments_noops() {
    mock::reset();
    mock::set_abi_version(abi::ABI_VERSION + 1);
    let c = Counter::<i64>::builder("c").unit("1").build();
    assert!(!c.is_recording());
    c.add(1, &[kv("k", "v")]);
    c.bind(&[kv("k", "v")]).add(1);
    let h = Histogram::<f64>::builder("h").boundaries(&[1.0]).build();
    h.record(1.0, &[]);
    let expected = Error::AbiMismatch { host: abi::ABI_VERSION + 1, guest: abi::ABI_VERSION };
    assert_eq!(Gauge::<i64>::builder("g").try_build().unwrap_err(), expected);
    assert_eq!(mock::take_calls(), [Call::AbiVersion { result: abi::ABI_VERSION + 1 }]);
}

#[test]
fn measurement_attributes_that_do_not_fit_are_dropped_others_kept() {
    mock::reset();
    let c = Counter::<i64>::builder("c").build();
    let value = text(400); // 4 + 1 + 1 + 4 + 400 = 410 bytes
    let attrs = [kv("a", value.as_str()), kv("b", value.as_str()), kv("c", value.as_str()), kv("d", true)];
    c.add(1, &attrs);
    let bound = c.bind(&attrs);
    bound.add(1);
    let kept = enc(&[attrs[0], attrs[1], attrs[3]]);
    let calls = mock::take_calls();
    assert_eq!(calls[2], record_i64(1, 1, kept.clone()));
    assert_eq!(calls[3], Call::MetricBind { instrument: 1, attrs: kept, result: 2 });
}

#[test]
fn the_host_refuses_invalid_measurements() {
    mock::reset();
    let c = Counter::<i64>::builder("c").build();
    let cf = Counter::<f64>::builder("cf").build();
    let h = Histogram::<i64>::builder("h").build();
    let hf = Histogram::<f64>::builder("hf").build();
    let u = UpDownCounter::<f64>::builder("u").build();
    let g = Gauge::<f64>::builder("g").build();
    mock::take_calls();
    c.add(-1, &[]);
    cf.add(-0.5, &[]);
    h.record(-1, &[]);
    hf.record(-0.5, &[]);
    cf.add(f64::NAN, &[]);
    u.add(f64::INFINITY, &[]);
    g.record(f64::NEG_INFINITY, &[]);
    c.bind(&[]).add(-1);
    g.bind(&[]).record(f64::NAN);
    // Accepted: zero, negative zero, negative values on up-down counters and gauges.
    cf.add(-0.0, &[]);
    u.add(-1.0, &[]);
    g.record(-1.0, &[]);
    let results: Vec<i64> = mock::take_calls()
        .iter()
        .map(|c| match *c {
            Call::MetricRecordI64 { result, .. }
            | Call::MetricRecordF64 { result, .. }
            | Call::MetricBoundRecordI64 { result, .. }
            | Call::MetricBoundRecordF64 { result, .. } => result.into(),
            Call::MetricBind { result, .. } => result,
            ref other => panic!("{other:?}"),
        })
        .collect();
    let refused = i64::from(Status::INVALID_ARGUMENT.0);
    #[rustfmt::skip]
    let expected = [refused, refused, refused, refused, refused, refused, refused,
        7, refused, 8, refused, 0, 0, 0];
    assert_eq!(results, expected);
}

#[test]
fn the_mock_validates_handles_value_types_and_boundaries_as_the_abi_says() {
    mock::reset();
    let invalid_handle = Status::INVALID_HANDLE.0;
    let invalid_argument = Status::INVALID_ARGUMENT.0;
    let span = Span::start("s");
    let span_handle = span.handle().unwrap().get() as i64;
    let int = raw_instrument(0, 0, "int");
    let float = raw_instrument(0, 1, "float");
    let bound = raw::metric_bind(int, 0, 0);
    assert_eq!((span_handle, int, float, bound), (1, 2, 3, 4));
    // Handles of another kind, unknown handles.
    assert_eq!(raw::metric_record_i64(span_handle, 1, 0, 0), invalid_handle);
    assert_eq!(raw::metric_record_i64(bound, 1, 0, 0), invalid_handle);
    assert_eq!(raw::metric_record_i64(99, 1, 0, 0), invalid_handle);
    assert_eq!(raw::metric_bound_record_i64(int, 1), invalid_handle);
    assert_eq!(raw::metric_bind(span_handle, 0, 0), invalid_handle.into());
    assert_eq!(raw::metric_bind(bound, 0, 0), invalid_handle.into());
    assert_eq!(raw::span_end(int), invalid_handle);
    // The wrong value type.
    assert_eq!(raw::metric_record_f64(int, 1.0, 0, 0), invalid_argument);
    assert_eq!(raw::metric_record_i64(float, 1, 0, 0), invalid_argument);
    assert_eq!(raw::metric_bound_record_f64(bound, 1.0), invalid_argument);
    assert_eq!(raw::metric_bound_record_i64(bound, 1), 0);
    // Enumerations, names and attribute buffers.
    assert_eq!(raw_instrument(4, 0, "x"), invalid_argument.into());
    assert_eq!(raw_instrument(0, 2, "x"), invalid_argument.into());
    assert_eq!(raw_instrument(-1, 0, "x"), invalid_argument.into());
    assert_eq!(raw_instrument(0, 0, ""), invalid_argument.into());
    let bad_utf8 = [0xff];
    let r = raw::instrument_create(0, 0, raw::ptr(&bad_utf8), 1, 0, 0, 0, 0, 0, 0);
    assert_eq!(r, Status::INVALID_UTF8.0.into());
    let r = raw::instrument_create(0, 0, raw::ptr(b"x"), 1, raw::ptr(&bad_utf8), 1, 0, 0, 0, 0);
    assert_eq!(r, Status::INVALID_UTF8.0.into());
    let r = raw::instrument_create(0, 0, raw::ptr(b"x"), 1, 0, 0, 1 << 30, 4, 0, 0);
    assert_eq!(r, Status::OUT_OF_BOUNDS.0.into());
    let malformed = [1, 0, 0, 0, b'k', 9];
    assert_eq!(raw::metric_record_i64(int, 1, raw::ptr(&malformed), 6), Status::MALFORMED.0);
    assert_eq!(raw::metric_bind(int, raw::ptr(&malformed), 6), Status::MALFORMED.0.into());
    // Boundaries: only histograms, whole f64s, at most 256, finite and strictly increasing.
    let f64s = |v: &[f64]| v.iter().flat_map(|f| f.to_le_bytes()).collect::<Vec<u8>>();
    let one = f64s(&[1.0]);
    let r = raw::instrument_create(0, 0, raw::ptr(b"x"), 1, 0, 0, 0, 0, raw::ptr(&one), 8);
    assert_eq!(r, invalid_argument.into(), "a counter with boundaries");
    assert_eq!(raw_histogram(&[0; 7]), Status::MALFORMED.0.into());
    let max: Vec<f64> = (0..limits::MAX_HISTOGRAM_BOUNDARIES).map(|i| i as f64).collect();
    let too_many: Vec<f64> = (0..=limits::MAX_HISTOGRAM_BOUNDARIES).map(|i| i as f64).collect();
    assert!(raw_histogram(&f64s(&max)) > 0);
    assert_eq!(raw_histogram(&f64s(&too_many)), Status::LIMIT_EXCEEDED.0.into());
    for bad in [&[5.0, 1.0][..], &[1.0, 1.0], &[f64::NAN], &[1.0, f64::INFINITY], &[f64::NEG_INFINITY]] {
        assert_eq!(raw_histogram(&f64s(bad)), invalid_argument.into(), "{bad:?}");
    }
    assert!(raw_histogram(&f64s(&[-1.0, 0.0, 0.5])) > 0);
    drop(span);
}

#[test]
fn the_mock_enforces_the_instrument_and_binding_limits() {
    mock::reset();
    let names: Vec<String> = (0..=limits::MAX_INSTRUMENTS).map(|i| std::format!("i{i}")).collect();
    let handles: Vec<i64> = names.iter().map(|n| raw_instrument(0, 0, n)).collect();
    assert!(handles[..limits::MAX_INSTRUMENTS].iter().all(|h| *h > 0));
    assert_eq!(handles[limits::MAX_INSTRUMENTS], Status::LIMIT_EXCEEDED.0.into());
    assert_eq!(raw_instrument(0, 0, "i0"), handles[0], "an existing instrument is still found");
    let sets: Vec<Vec<u8>> = (0..=limits::MAX_BOUND_INSTRUMENTS).map(|i| enc(&[kv("i", i)])).collect();
    let bind = |attrs: &[u8]| raw::metric_bind(handles[0], raw::ptr(attrs), raw::len(attrs));
    let bound: Vec<i64> = sets.iter().map(|a| bind(a)).collect();
    assert!(bound[..limits::MAX_BOUND_INSTRUMENTS].iter().all(|h| *h > 0));
    assert_eq!(bound[limits::MAX_BOUND_INSTRUMENTS], Status::LIMIT_EXCEEDED.0.into());
    assert_eq!(bind(&sets[7]), bound[7], "an existing binding is still found");
}

#[test]
fn binding_the_same_attributes_again_gives_the_same_handle() {
    mock::reset();
    let c = Counter::<i64>::builder("c").build();
    let d = Counter::<i64>::builder("d").build();
    let main = [kv("cache", "main")];
    let (a, b) = (c.bind(&main), c.bind(&main));
    assert_eq!((a.handle(), b.handle()), (c.bind(&main).handle(), a.handle()));
    let handles =
        [c.bind(&[kv("cache", "aux")]), d.bind(&main), c.bind(&[]), c.bind(&[])].map(|b| b.handle());
    let handles: Vec<u64> = handles.iter().map(|h| h.unwrap().get()).collect();
    // Another attribute set, another instrument: new handles; the empty set twice: one handle.
    assert_eq!((a.handle().unwrap().get(), &handles[..]), (3, &[4, 5, 6, 6][..]));
    // The key is the encoded bytes: the same attributes in another order are another binding.
    let two = c.bind(&[kv("x", 1), kv("y", 2)]).handle();
    assert_ne!(two, c.bind(&[kv("y", 2), kv("x", 1)]).handle());
    assert_eq!(two, c.bind(&[kv("x", 1), kv("y", 2)]).handle());
}

#[test]
fn instrument_names_compare_case_insensitively() {
    mock::reset();
    let a = Counter::<i64>::builder("http.server.requests").unit("{request}").build();
    let b = Counter::<i64>::builder("HTTP.Server.Requests").unit("{request}").build();
    assert_eq!(a.handle(), b.handle());
    // Units and descriptions still compare exactly.
    let c = Counter::<i64>::builder("HTTP.Server.Requests").unit("{Request}").build();
    assert_ne!(a.handle(), c.handle());
    let results: Vec<i64> = mock::take_calls()
        .into_iter()
        .filter_map(|c| match c {
            Call::InstrumentCreate { result, .. } => Some(result),
            _ => None,
        })
        .collect();
    assert_eq!(results, [1, 1, 2]);
}

#[test]
fn instrument_names_and_units_follow_the_opentelemetry_rules() {
    mock::reset();
    let long_name = "x".repeat(255);
    for good in ["a", "http.server.request.duration", "A_b-c/d.e", "x9", &long_name] {
        assert!(Counter::<i64>::builder(good).try_build().is_ok(), "{good}");
    }
    let too_long = "x".repeat(256);
    for bad in ["", "1abc", "_x", ".x", "has space", "é", "a+b", &too_long] {
        let err = Counter::<i64>::builder(bad).try_build().unwrap_err();
        assert_eq!(err, Error::Host(Status::INVALID_ARGUMENT), "{bad:?}");
    }
    let (unit_63, unit_64) = ("u".repeat(63), "u".repeat(64));
    assert!(Gauge::<f64>::builder("g").unit(&unit_63).try_build().is_ok());
    for bad in [unit_64.as_str(), "µs"] {
        let err = Gauge::<f64>::builder("g").unit(bad).try_build().unwrap_err();
        assert_eq!(err.status(), Some(Status::INVALID_ARGUMENT), "{bad:?}");
    }
    // In the plugin's order: the strings' bytes and UTF-8 first, then the rules, then the description.
    let bad_utf8 = [0xff];
    let r = raw::instrument_create(0, 0, raw::ptr(&bad_utf8), 1, 0, 0, 0, 0, 0, 0);
    assert_eq!(r, Status::INVALID_UTF8.0.into());
    let r = raw::instrument_create(0, 0, raw::ptr(b"1x"), 2, 1 << 30, 4, 0, 0, 0, 0);
    assert_eq!(r, Status::OUT_OF_BOUNDS.0.into(), "the unit is read before the name is judged");
    let r = raw::instrument_create(0, 0, raw::ptr(b"1x"), 2, 0, 0, 1 << 30, 4, 0, 0);
    assert_eq!(r, Status::INVALID_ARGUMENT.0.into(), "the name is judged before the description is read");
}

#[test]
fn raw_f64_helpers_place_little_endian_values() {
    mock::reset();
    let values = [-2.5, 1.0];
    assert_eq!(raw::len_f64s(&values), 16);
    assert_eq!(raw::len_f64s(&[]), 0);
    let r = raw::instrument_create(2, 1, raw::ptr(b"h"), 1, 0, 0, 0, 0, raw::ptr_f64s(&values), 16);
    assert!(r > 0);
    let calls = mock::take_calls();
    let Call::InstrumentCreate { boundaries, .. } = &calls[0] else { panic!("{calls:?}") };
    assert_eq!(boundaries[..], [(-2.5f64).to_le_bytes(), 1.0f64.to_le_bytes()].concat());
}
