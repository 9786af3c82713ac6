//! A hostile guest (issue 6, item 4): hand-written WAT that attacks every host function with
//! pointers and lengths near 4 GiB, ranges that wrap, overlapping buffers, invalid UTF-8, forged,
//! stale, double-ended and wrong-kind handles, a parent ended before its children, a million
//! spans never ended, 4000-deep nesting, buffers over 64 KiB, a thousand attributes in one buffer,
//! thousands of instruments and bindings. Every bad call gets its documented status (the guest
//! checks each one and exits with the number of the first that does not match), nothing panics,
//! memory stays bounded, and the valid telemetry around the bad calls arrives unchanged.
//!
//! Figures are printed (`FIGURE` lines, see `docs/reliability.md`):
//!
//! ```sh
//! cargo test -p wasmedge-otel-tests --test reliability_hostile -- --nocapture --test-threads=1
//! ```

#[path = "reliability_support.rs"]
mod rel;

use std::collections::HashMap;

use rel::*;
use wasmedge_otel_abi::Status;
use wasmedge_otel_tests::*;

const OOB: i64 = Status::OUT_OF_BOUNDS.0 as i64;
const UTF8: i64 = Status::INVALID_UTF8.0 as i64;
const HANDLE: i64 = Status::INVALID_HANDLE.0 as i64;
const LIMIT: i64 = Status::LIMIT_EXCEEDED.0 as i64;

/// Four pages: memory ends at 262144.
const MEMORY_END: i64 = 4 * 65536;

/// `key_len:u32 key tag value` for an `i64` attribute.
fn i64_attr(key: &str, value: i64) -> Vec<u8> {
    let mut v = (key.len() as u32).to_le_bytes().to_vec();
    v.extend(key.as_bytes());
    v.push(3);
    v.extend(value.to_le_bytes());
    v
}

/// `key_len:u32 key tag len:u32 value` for a string attribute.
fn str_attr(key: &[u8], value: &[u8]) -> Vec<u8> {
    let mut v = (key.len() as u32).to_le_bytes().to_vec();
    v.extend(key);
    v.push(1);
    v.extend((value.len() as u32).to_le_bytes());
    v.extend(value);
    v
}

/// Wraps an `i32`-returning call for a check.
fn i32r(call: &str) -> String {
    format!("(i64.extend_i32_s {call})")
}

// ---------------------------------------------------------------------------------------------
// Pointers, lengths, UTF-8, handles, overlapping buffers, a parent ended before its children

/// The data of the main hostile guest.
fn hostile_data() -> Vec<(u32, Vec<u8>)> {
    let mut d: Vec<(u32, Vec<u8>)> = [
        (0, &b"valid"[..]),
        (16, b"before"),
        (32, b"after"),
        (48, b"big"),
        (64, b"child1"),
        (80, b"child2"),
        (96, b"parent"),
        (112, b"done"),
        (200, b"\xff\xfe"),     // never valid in UTF-8
        (208, b"\xc0\xaf"),     // overlong encoding of '/'
        (216, b"\xed\xa0\x80"), // UTF-16 surrogate U+D800
        (224, b"\xe2\x82"),     // truncated 3-byte sequence
        (232, b"ok\x80"),       // lone continuation byte
        (700, b"hostile.counter"),
        (720, b"hostile.hist"),
        // The last 5 bytes of memory.
        ((MEMORY_END - 5) as u32, b"edge!"),
    ]
    .into_iter()
    .map(|(at, b)| (at, b.to_vec()))
    .collect();
    // An attribute whose key is an overlong encoding.
    d.push((300, {
        let mut v = 2u32.to_le_bytes().to_vec();
        v.extend(b"\xc0\xaf\x03");
        v.extend(7i64.to_le_bytes());
        v
    }));
    // An attribute whose string value is invalid.
    d.push((320, str_attr(b"k", b"\xff")));
    // ok = 7: the valid attribute.
    d.push((400, i64_attr("ok", 7)));
    // k = 42, 14 bytes that are also valid UTF-8: used as a name and as attributes at once.
    d.push((500, i64_attr("k", 42)));
    d
}

/// The overlapping buffer's bytes read as a name.
fn overlap_name() -> String {
    String::from_utf8(i64_attr("k", 42)).unwrap()
}

/// 64 KiB exactly: one string attribute `b` of 65526 `x`, built at 100000 by the guest.
const BIG_SETUP: &str = r#"
    (i32.store (i32.const 100000) (i32.const 1))
    (i32.store8 (i32.const 100004) (i32.const 98))
    (i32.store8 (i32.const 100005) (i32.const 1))
    (i32.store (i32.const 100006) (i32.const 65526))
    (memory.fill (i32.const 100010) (i32.const 120) (i32.const 65526))
"#;

fn span_start(name: (i64, i64), parent: &str, attrs: (i64, i64)) -> String {
    format!(
        "(call $span_start (i32.const {}) (i32.const {}) (i32.const 0) {parent} (i32.const {}) (i32.const {}))",
        name.0, name.1, attrs.0, attrs.1
    )
}

const NONE: &str = "(i64.const -1)";
const CURRENT: &str = "(i64.const 0)";
const VALID: (i64, i64) = (0, 5);
const NO_ATTRS: (i64, i64) = (0, 0);
const OK_ATTR: (i64, i64) = (400, 15);
const OVERLAP: (i64, i64) = (500, 14);

fn hostile_checks() -> Vec<Check> {
    let v = "(global.get $valid)";
    let before = "(global.get $before)";
    let counter = "(global.get $counter)";
    let bound = "(global.get $bound)";
    let end = |h: &str| i32r(&format!("(call $span_end {h})"));
    let set_attrs = |h: &str, ptr: i64, len: i64| {
        i32r(&format!("(call $span_set_attributes {h} (i32.const {ptr}) (i32.const {len}))"))
    };
    let event = |h: &str, name: (i64, i64), attrs: (i64, i64)| {
        i32r(&format!(
            "(call $span_add_event {h} (i32.const {}) (i32.const {}) (i32.const {}) (i32.const {}))",
            name.0, name.1, attrs.0, attrs.1
        ))
    };
    let log = |body: (i64, i64), attrs: (i64, i64)| {
        i32r(&format!(
            "(call $log_emit (i32.const 9) (i32.const {}) (i32.const {}) (i32.const {}) (i32.const {}))",
            body.0, body.1, attrs.0, attrs.1
        ))
    };
    let create = |kind: i32,
                  vt: i32,
                  name: (i64, i64),
                  unit: (i64, i64),
                  desc: (i64, i64),
                  bounds: (i64, i64)| {
        format!(
            "(call $instrument_create (i32.const {kind}) (i32.const {vt}) (i32.const {}) (i32.const {}) (i32.const {}) (i32.const {}) (i32.const {}) (i32.const {}) (i32.const {}) (i32.const {}))",
            name.0, name.1, unit.0, unit.1, desc.0, desc.1, bounds.0, bounds.1
        )
    };
    let record = |h: &str, attrs: (i64, i64)| {
        i32r(&format!(
            "(call $metric_record_i64 {h} (i64.const 1) (i32.const {}) (i32.const {}))",
            attrs.0, attrs.1
        ))
    };
    let bind = |h: &str, attrs: (i64, i64)| {
        format!("(call $metric_bind {h} (i32.const {}) (i32.const {}))", attrs.0, attrs.1)
    };
    let traceparent = |h: &str, ptr: i64, len: i64| {
        i32r(&format!("(call $span_traceparent {h} (i32.const {ptr}) (i32.const {len}))"))
    };
    let remote = |tp: (i64, i64), ts: (i64, i64)| {
        format!(
            "(call $span_start_remote (i32.const 0) (i32.const 5) (i32.const 1) (i32.const {}) (i32.const {}) (i32.const {}) (i32.const {}) (i32.const 0) (i32.const 0))",
            tp.0, tp.1, ts.0, ts.1
        )
    };
    let exception = |h: &str, ty: (i64, i64), msg: (i64, i64), attrs: (i64, i64)| {
        i32r(&format!(
            "(call $span_record_exception {h} (i32.const {}) (i32.const {}) (i32.const {}) (i32.const {}) (i32.const {}) (i32.const {}))",
            ty.0, ty.1, msg.0, msg.1, attrs.0, attrs.1
        ))
    };
    let current_is = |h: &str| format!("(i64.sub (call $span_current) {h})");
    let no_name = (0, 0);
    let counter_name = (700, 15);

    vec![
        // Pointers and lengths near 4 GiB. Pointers and lengths are unsigned 32-bit values.
        eq("name pointer 0xFFFFFFFF, length 1", span_start((-1, 1), NONE, NO_ATTRS), OOB),
        eq(
            "name range ending exactly at 4 GiB (wraps to 0 in 32 bits)",
            span_start((-65536, 65536), NONE, NO_ATTRS),
            OOB,
        ),
        eq("name length 0xFFFFFFFF", span_start((0, -1), NONE, NO_ATTRS), LIMIT),
        eq("name length 0x80000000", span_start((0, i32::MIN as i64), NONE, NO_ATTRS), LIMIT),
        eq("name length 64 KiB + 1", span_start((0, 65537), NONE, NO_ATTRS), LIMIT),
        eq("name one byte past the end of memory", span_start((MEMORY_END - 4, 5), NONE, NO_ATTRS), OOB),
        handle(
            "name ending exactly at the end of memory",
            span_start((MEMORY_END - 5, 5), NONE, NO_ATTRS),
            "edge",
        ),
        eq("end of that span", end("(global.get $edge)"), 0),
        handle("empty name at pointer 0xFFFFFFFF", span_start((-1, 0), NONE, NO_ATTRS), "empty"),
        eq("end of that span", end("(global.get $empty)"), 0),
        eq("attributes at 0xFFFFFFF0, 16 bytes (wraps)", span_start(VALID, NONE, (-16, 16)), OOB),
        eq("span_set_attributes at 0xFFFFFFFF", set_attrs(v, -1, 1), OOB),
        eq("event name at 0xFFFFFFFC, 8 bytes", event(v, (-4, 8), NO_ATTRS), OOB),
        eq(
            "status message wrapping around 4 GiB",
            i32r(&format!("(call $span_set_status {v} (i32.const 2) (i32.const -100) (i32.const 200))")),
            OOB,
        ),
        eq("exception message at 0xFFFFFFFF", exception(v, no_name, (-1, 5), NO_ATTRS), OOB),
        eq("log body at 0xFFFFFFFF", log((-1, 2), NO_ATTRS), OOB),
        eq("log attributes at 0xFFFFFFF8", log(VALID, (-8, 8)), OOB),
        eq("instrument name at 0xFFFFFFFD", create(0, 0, (-3, 3), no_name, no_name, no_name), OOB),
        eq("histogram boundaries at 0xFFFFFFF8", create(2, 1, (720, 12), no_name, no_name, (-8, 8)), OOB),
        eq("measurement attributes at 0xFFFFFFFF", record(counter, (-1, 8)), OOB),
        eq("bind attributes at 0xFFFFFFFE", bind(counter, (-2, 4)), OOB),
        eq("traceparent buffer at 0xFFFFFFEC", traceparent(v, -20, 64), OOB),
        eq("traceparent buffer running past the end of memory", traceparent(v, MEMORY_END - 54, 55), OOB),
        eq("traceparent buffer one byte too small", traceparent(v, 600, 54), LIMIT),
        eq("traceparent buffer of 64 KiB + 1", traceparent(v, 0, 65537), LIMIT),
        eq(
            "tracestate buffer at 0xFFFFFFFF",
            i32r(&format!("(call $span_tracestate {v} (i32.const -1) (i32.const 10))")),
            OOB,
        ),
        eq("remote traceparent at 0xFFFFFFFF", remote((-1, 55), NO_ATTRS), OOB),
        eq("remote tracestate of 64 KiB + 1", remote(NO_ATTRS, (0, 65537)), LIMIT),
        // Sizes: 64 KiB is accepted, one byte more is refused before memory is touched.
        handle("attribute buffer of exactly 64 KiB", span_start((48, 3), NONE, (100000, 65536)), "big"),
        eq("end of that span", end("(global.get $big)"), 0),
        eq("attribute buffer of 64 KiB + 1", set_attrs(v, 100000, 65537), LIMIT),
        eq("event attributes of 64 KiB + 1", event(v, VALID, (100000, 65537)), LIMIT),
        eq("log body of 64 KiB + 1", log((100000, 65537), NO_ATTRS), LIMIT),
        eq("measurement attributes of 64 KiB + 1", record(counter, (100000, 65537)), LIMIT),
        eq("bind attributes of 64 KiB + 1", bind(counter, (100000, 65537)), LIMIT),
        // Invalid UTF-8 everywhere a string is read.
        eq("name ff fe", span_start((200, 2), NONE, NO_ATTRS), UTF8),
        eq("name with an overlong encoding", span_start((208, 2), NONE, NO_ATTRS), UTF8),
        eq("name with a UTF-16 surrogate", span_start((216, 3), NONE, NO_ATTRS), UTF8),
        eq("name with a truncated sequence", span_start((224, 2), NONE, NO_ATTRS), UTF8),
        eq("event name with a lone continuation byte", event(v, (232, 3), NO_ATTRS), UTF8),
        eq("attribute key with an overlong encoding", set_attrs(v, 300, 15), UTF8),
        eq(
            "status message truncated",
            i32r(&format!("(call $span_set_status {v} (i32.const 2) (i32.const 224) (i32.const 2))")),
            UTF8,
        ),
        eq("exception type surrogate", exception(v, (216, 3), no_name, NO_ATTRS), UTF8),
        eq("log body surrogate", log((216, 3), NO_ATTRS), UTF8),
        eq("instrument name ff fe", create(0, 0, (200, 2), no_name, no_name, no_name), UTF8),
        eq("instrument unit overlong", create(0, 0, counter_name, (208, 2), no_name, no_name), UTF8),
        eq("instrument description surrogate", create(0, 0, counter_name, no_name, (216, 3), no_name), UTF8),
        eq("remote traceparent ff fe", remote((200, 2), NO_ATTRS), UTF8),
        eq("measurement attribute value ff", record(counter, (320, 11)), UTF8),
        // Forged, stale, double-ended and wrong-kind handles.
        eq("end of handle -1", end("(i64.const -1)"), HANDLE),
        eq("end of i64::MAX", end("(i64.const 0x7fffffffffffffff)"), HANDLE),
        eq(
            "valid handle with the next generation",
            end(&format!("(i64.add {v} (i64.const 0x1000000))")),
            HANDLE,
        ),
        eq(
            "valid handle with another table tag",
            end(&format!("(i64.xor {v} (i64.const 0x1000000000000))")),
            HANDLE,
        ),
        eq("valid handle with a slot never used", end(&format!("(i64.or {v} (i64.const 0xffffff))")), HANDLE),
        eq("stale handle, its slot reused by a live span", set_attrs(before, 500, 14), HANDLE),
        eq("stale handle as parent", span_start(VALID, before, NO_ATTRS), HANDLE),
        eq("second end of an ended span", end(before), HANDLE),
        eq("traceparent of an ended span", traceparent(before, 600, 64), HANDLE),
        eq("instrument handle as a span", end(counter), HANDLE),
        eq("instrument handle as a parent", span_start(VALID, counter, NO_ATTRS), HANDLE),
        eq("span handle as an instrument", record(v, NO_ATTRS), HANDLE),
        eq("bound handle as an instrument", record(bound, NO_ATTRS), HANDLE),
        eq(
            "instrument handle as a bound instrument",
            i32r(&format!("(call $metric_bound_record_i64 {counter} (i64.const 1))")),
            HANDLE,
        ),
        eq("span handle to bind", bind(v, NO_ATTRS), HANDLE),
        eq("the valid span is still current", current_is(v), 0),
        // Overlapping buffers: the same 14 bytes are a name and an attribute buffer.
        handle("name and attributes are the same bytes", span_start(OVERLAP, CURRENT, OVERLAP), "overlap"),
        eq(
            "exception type, message and attributes are the same bytes",
            exception("(global.get $overlap)", OVERLAP, OVERLAP, OVERLAP),
            0,
        ),
        eq("log body and attributes are the same bytes", log(OVERLAP, OVERLAP), 0),
        eq("end of the overlapping span", end("(global.get $overlap)"), 0),
        // A parent ended before its children.
        handle("parent", span_start((96, 6), CURRENT, NO_ATTRS), "parent"),
        handle("child1 of parent", span_start((64, 6), CURRENT, NO_ATTRS), "child1"),
        eq("end the parent first", end("(global.get $parent)"), 0),
        eq("child1 is still current", current_is("(global.get $child1)"), 0),
        eq("child1 still takes attributes", set_attrs("(global.get $child1)", 400, 15), 0),
        handle("child2 nests under child1", span_start((80, 6), CURRENT, NO_ATTRS), "child2"),
        eq("end child2", end("(global.get $child2)"), 0),
        eq("end child1", end("(global.get $child1)"), 0),
        eq("the ended parent's handle is refused", set_attrs("(global.get $parent)", 400, 15), HANDLE),
        eq("the valid span is current again", current_is(v), 0),
    ]
}

/// Setup: span `before` started and ended (its slot is then reused by `valid`, started with
/// ok=7), counter `hostile.counter`, bound to ok=7, and the 64 KiB buffer.
fn hostile_setup() -> String {
    format!(
        r#"
    (global.set $before {before})
    (if (i32.ne (call $span_end (global.get $before)) (i32.const 0)) (then (call $proc_exit (i32.const 200))))
    (global.set $valid {valid})
    (if (i64.le_s (global.get $valid) (i64.const 0)) (then (call $proc_exit (i32.const 201))))
    (global.set $counter (call $instrument_create (i32.const 0) (i32.const 0) (i32.const 700) (i32.const 15) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)))
    (if (i64.le_s (global.get $counter) (i64.const 0)) (then (call $proc_exit (i32.const 202))))
    (global.set $bound (call $metric_bind (global.get $counter) (i32.const 400) (i32.const 15)))
    (if (i64.le_s (global.get $bound) (i64.const 0)) (then (call $proc_exit (i32.const 203))))
    {BIG_SETUP}"#,
        before = span_start((16, 6), NONE, NO_ATTRS),
        valid = span_start(VALID, NONE, OK_ATTR),
    )
}

/// Teardown: end `valid`, record span `after`, add 3 to the counter through its binding, and
/// emit log record `done`.
fn hostile_teardown() -> String {
    format!(
        r#"
    (if (i32.ne (call $span_end (global.get $valid)) (i32.const 0)) (then (call $proc_exit (i32.const 210))))
    (if (i32.ne (call $span_end {after}) (i32.const 0)) (then (call $proc_exit (i32.const 211))))
    (if (i32.ne (call $metric_bound_record_i64 (global.get $bound) (i64.const 3)) (i32.const 0)) (then (call $proc_exit (i32.const 212))))
    (if (i32.ne (call $log_emit (i32.const 9) (i32.const 112) (i32.const 4) (i32.const 0) (i32.const 0)) (i32.const 0)) (then (call $proc_exit (i32.const 213))))"#,
        after = span_start((32, 5), NONE, NO_ATTRS),
    )
}

const HOSTILE_GLOBALS: &str = r#"
  (global $before (mut i64) (i64.const 0))
  (global $valid (mut i64) (i64.const 0))
  (global $counter (mut i64) (i64.const 0))
  (global $bound (mut i64) (i64.const 0))
"#;

#[test]
fn every_bad_call_gets_its_status_and_the_valid_telemetry_arrives() {
    let checks = hostile_checks();
    let wasm = checked_guest(
        "hostile",
        4,
        &hostile_data(),
        HOSTILE_GLOBALS,
        &hostile_setup(),
        &checks,
        &hostile_teardown(),
    );
    for mode in MODES {
        let c = collector();
        let out = Run::new(&for_mode(&wasm, mode), &c.endpoint()).output();
        let stderr = assert_checks_passed(&out, &checks, &format!("{mode:?}"));
        assert!(!stderr.contains("telemetry lost"), "{mode:?}: {stderr}");

        let spans = c.wait_for_spans(10, ARRIVAL_TIMEOUT).unwrap();
        let mut expected = vec!["", "after", "before", "big", "child1", "child2", "edge!", "parent", "valid"]
            .into_iter()
            .map(String::from)
            .collect::<Vec<_>>();
        expected.push(overlap_name());
        expected.sort();
        assert_eq!(names(&spans), expected, "{mode:?}: exactly the valid spans");

        let valid = span(&spans, "valid");
        assert_eq!(typed_attrs(&valid.span.attributes), ["ok=i:7"], "{mode:?}: no refused call reached it");
        assert!(valid.span.events.is_empty(), "{mode:?}");
        assert_eq!(valid.span.status.as_ref().map_or(0, |s| s.code), 0, "{mode:?}: status untouched");

        let big = span(&spans, "big");
        assert_eq!(big.attr_str("b").map(str::len), Some(65526), "{mode:?}: the 64 KiB buffer arrived whole");

        let overlap = span(&spans, &overlap_name());
        assert_eq!(typed_attrs(&overlap.span.attributes), ["k=i:42"], "{mode:?}");
        assert_eq!(overlap.parent_span_id_hex(), valid.span_id_hex());
        let exception = &overlap.span.events[0];
        assert_eq!(
            typed_attrs(&exception.attributes),
            [
                format!("exception.message=s:{:?}", overlap_name()),
                format!("exception.type=s:{:?}", overlap_name()),
                "k=i:42".to_string()
            ],
            "{mode:?}"
        );

        let (parent, child1, child2) =
            (span(&spans, "parent"), span(&spans, "child1"), span(&spans, "child2"));
        assert_eq!(parent.parent_span_id_hex(), valid.span_id_hex());
        assert_eq!(child1.parent_span_id_hex(), parent.span_id_hex(), "{mode:?}: child1 keeps its parent");
        assert_eq!(child2.parent_span_id_hex(), child1.span_id_hex(), "{mode:?}: child2 nests under child1");
        assert_eq!(typed_attrs(&child1.span.attributes), ["ok=i:7"]);
        assert!(child1.span.end_time_unix_nano >= parent.span.end_time_unix_nano);
        assert!(span(&spans, "edge!").span.end_time_unix_nano > 0);

        wait_for_metrics_and_logs(&c);
        wait_until("both log records", ARRIVAL_TIMEOUT, || log_records(&c).len() >= 2);
        let records = log_records(&c);
        let bodies: Vec<String> =
            records.iter().map(|r| r.body.as_ref().map_or(String::new(), typed)).collect();
        assert_eq!(bodies, [format!("s:{:?}", overlap_name()), "s:\"done\"".into()], "{mode:?}");
        assert_eq!(typed_attrs(&records[0].attributes), ["k=i:42"]);
        wait_until("the counter", ARRIVAL_TIMEOUT, || last_metric(&c, "hostile.counter").is_some());
        let counter = last_metric(&c, "hostile.counter").unwrap();
        let Some(opentelemetry_proto::tonic::metrics::v1::metric::Data::Sum(sum)) = counter.data else {
            panic!("a sum: {counter:?}")
        };
        assert_eq!(sum.data_points.len(), 1, "{mode:?}: only the valid measurement: {sum:?}");
        assert_eq!(typed_attrs(&sum.data_points[0].attributes), ["ok=i:7"]);
        assert_eq!(
            sum.data_points[0].value,
            Some(opentelemetry_proto::tonic::metrics::v1::number_data_point::Value::AsInt(3))
        );
        println!(
            "FIGURE hostile {mode:?}: {} bad or edge calls checked, all with their documented status",
            checks.len()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// A million spans never ended

const MILLION: i64 = 1_000_000;

/// Starts `MILLION` root spans `open` and never ends them. Counts the handles, the
/// LIMIT_EXCEEDED answers and anything else.
fn never_ended_guest() -> (std::path::PathBuf, Vec<Check>) {
    let funcs = format!(
        r#"
  (global $ok (mut i64) (i64.const 0))
  (global $limit (mut i64) (i64.const 0))
  (global $other (mut i64) (i64.const 0))
  (func $flood
    (local $i i64) (local $h i64)
    (block $done
      (loop $next
        (br_if $done (i64.ge_u (local.get $i) (i64.const {MILLION})))
        (local.set $h {start})
        (if (i64.gt_s (local.get $h) (i64.const 0))
          (then (global.set $ok (i64.add (global.get $ok) (i64.const 1))))
          (else (if (i64.eq (local.get $h) (i64.const {LIMIT}))
            (then (global.set $limit (i64.add (global.get $limit) (i64.const 1))))
            (else (global.set $other (i64.add (global.get $other) (i64.const 1)))))))
        (local.set $i (i64.add (local.get $i) (i64.const 1)))
        (br $next))))"#,
        start = span_start((0, 4), NONE, NO_ATTRS),
    );
    let checks = vec![
        eq("4096 spans opened", "(global.get $ok)", 4096),
        eq("every other start refused with LIMIT_EXCEEDED", "(global.get $limit)", MILLION - 4096),
        eq("no other answer", "(global.get $other)", 0),
        eq("ending a forged handle is still refused", i32r("(call $span_end (i64.const 12345))"), HANDLE),
    ];
    let wasm =
        checked_guest("never_ended", 1, &[(0, b"open".to_vec())], &funcs, "(call $flood)", &checks, "");
    (wasm, checks)
}

#[test]
fn a_million_spans_never_ended_are_capped_and_ended_at_exit() {
    let (wasm, checks) = never_ended_guest();
    // A queue that holds all 4096 spans ended at exit (see the next test for the default one).
    let c = collector();
    let (out, took, peak) = run_measured(
        &wasm,
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", &c.endpoint()), ("OTEL_BSP_MAX_QUEUE_SIZE", "8192")],
    );
    let stderr = assert_checks_passed(&out, &checks, "never ended");
    assert!(peak < 200 * 1024, "peak RSS {peak} KiB for a million refused starts");
    let spans = c.wait_for_spans(4096, ARRIVAL_TIMEOUT).expect("the 4096 open spans arrive");
    assert_eq!(spans.len(), 4096);
    for s in &spans {
        assert_eq!(s.span.name, "open");
        assert_eq!(s.span.status.as_ref().map(|s| s.code), Some(2), "ended as unfinished: error status");
        assert_eq!(s.attr("wasmedge_otel.unfinished").map(typed).as_deref(), Some("b:true"));
    }
    assert!(spans_lost(&stderr).is_none(), "{stderr}");
    println!(
        "FIGURE never ended: {MILLION} span_start calls, 4096 handles, {} LIMIT_EXCEEDED, 4096/4096 unfinished spans \
         arrived, peak RSS {} MiB, exit {took:.2?} after start",
        MILLION - 4096,
        peak / 1024
    );
}

#[test]
fn spans_ended_at_exit_beyond_the_default_queue_are_reported() {
    // With the default queue (2048), the 4096 spans ended at once at exit overflow it: what does
    // not arrive is reported, exactly.
    let (wasm, checks) = never_ended_guest();
    let c = collector();
    let out = Run::new(&wasm, &c.endpoint()).output();
    let stderr = assert_checks_passed(&out, &checks, "never ended, default queue");
    wait_for_metrics_and_logs_or_metrics(&c);
    let arrived = c.spans().len() as u64;
    let lost = spans_lost(&stderr).map_or(0, |l| l.0);
    assert_eq!(arrived + lost, 4096, "arrived + lost = ended: {stderr}");
    println!("FIGURE never ended, default queue 2048: {arrived}/4096 unfinished spans arrived, {lost} reported lost");
}

#[test]
fn every_unfinished_span_arrives_with_the_default_configuration() {
    let (wasm, checks) = never_ended_guest();
    let c = collector();
    let out = Run::new(&wasm, &c.endpoint()).output();
    let stderr = assert_checks_passed(&out, &checks, "never ended, default configuration");
    wait_for_metrics_and_logs_or_metrics(&c);
    assert_eq!(c.spans().len(), 4096, "every span the guest left open arrives: {stderr}");
}

/// Waits for the final metrics (exported after the spans at exit).
fn wait_for_metrics_and_logs_or_metrics(c: &Collector) {
    wait_until("the final metrics", ARRIVAL_TIMEOUT, || !c.metric_requests().is_empty());
}

// ---------------------------------------------------------------------------------------------
// Deep nesting

const DEPTH: i64 = 4000;

#[test]
fn four_thousand_nested_spans_end_in_reverse_and_keep_their_parents() {
    let funcs = format!(
        r#"
  (global $bad (mut i64) (i64.const 0))
  (func $nest
    (local $i i64) (local $h i64)
    (block $done
      (loop $next
        (br_if $done (i64.ge_u (local.get $i) (i64.const {DEPTH})))
        (i64.store (i32.const 24) (local.get $i))
        (local.set $h {start})
        (if (i64.le_s (local.get $h) (i64.const 0)) (then (global.set $bad (i64.add (global.get $bad) (i64.const 1)))))
        (local.set $i (i64.add (local.get $i) (i64.const 1)))
        (br $next))))
  (func $unwind
    (local $i i64) (local $h i64)
    (block $done
      (loop $next
        (br_if $done (i64.ge_u (local.get $i) (i64.const {DEPTH})))
        (local.set $h (call $span_current))
        (if (i64.le_s (local.get $h) (i64.const 0)) (then (global.set $bad (i64.add (global.get $bad) (i64.const 1)))))
        (if (i32.ne (call $span_end (local.get $h)) (i32.const 0)) (then (global.set $bad (i64.add (global.get $bad) (i64.const 1)))))
        (local.set $i (i64.add (local.get $i) (i64.const 1)))
        (br $next))))"#,
        start = span_start((0, 1), CURRENT, (16, 16)),
    );
    let checks = vec![
        eq("every nested start succeeded", "(block (result i64) (call $nest) (global.get $bad))", 0),
        eq(
            "every end, innermost first, succeeded",
            "(block (result i64) (call $unwind) (global.get $bad))",
            0,
        ),
        eq("no span is current any more", "(call $span_current)", 0),
    ];
    let data = vec![(0, b"d".to_vec()), (16, i64_attr("dep", 0)[..].to_vec())];
    let wasm = checked_guest("deep_nesting", 1, &data, &funcs, "", &checks, "");
    let c = collector();
    let (out, took, _) = run_measured(
        &wasm,
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", &c.endpoint()), ("OTEL_BSP_MAX_QUEUE_SIZE", "8192")],
    );
    let stderr = assert_checks_passed(&out, &checks, "deep nesting");
    assert!(spans_lost(&stderr).is_none(), "{stderr}");
    let spans = c.wait_for_spans(DEPTH as usize, ARRIVAL_TIMEOUT).expect("every nested span arrives");
    assert_eq!(spans.len(), DEPTH as usize);
    let depth_of: HashMap<String, i64> =
        spans.iter().map(|s| (s.span_id_hex(), int_attr(s, "dep").expect("depth"))).collect();
    let trace = spans[0].trace_id_hex();
    for s in &spans {
        let d = int_attr(s, "dep").unwrap();
        assert_eq!(s.trace_id_hex(), trace, "one trace");
        if d == 0 {
            assert_eq!(s.parent_span_id_hex(), "", "the outermost span is a root");
        } else {
            assert_eq!(depth_of.get(&s.parent_span_id_hex()), Some(&(d - 1)), "span at depth {d}");
        }
        assert_eq!(s.span.status.as_ref().map_or(0, |s| s.code), 0, "ended by the guest, not at exit");
    }
    println!("FIGURE deep nesting: {DEPTH} nested spans, all arrived with their parent, exit {took:.2?} after start");
}

// ---------------------------------------------------------------------------------------------
// Count limits: a thousand attributes in one buffer, a thousand events

/// 1000 `i64` attributes `a000`..`a999` = their number, in one 17,000-byte buffer.
fn thousand_attributes() -> Vec<u8> {
    (0..1000).flat_map(|i| i64_attr(&format!("a{i:03}"), i)).collect()
}

fn count_limits_guest() -> (std::path::PathBuf, Vec<Check>) {
    let attrs = thousand_attributes();
    let n = attrs.len() as i64;
    let funcs = r#"
  (global $bad (mut i64) (i64.const 0))
  (func $events (param $h i64)
    (local $i i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (i32.const 1000)))
        (if (i32.ne (call $span_add_event (local.get $h) (i32.const 16) (i32.const 1) (i32.const 0) (i32.const 0)) (i32.const 0))
          (then (global.set $bad (i64.add (global.get $bad) (i64.const 1)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))"#;
    let m = "(global.get $many)";
    let checks = vec![
        handle("span with 1000 attributes in one buffer", span_start((0, 4), NONE, (1024, n)), "many"),
        eq(
            "event with 1000 attributes",
            i32r(&format!(
                "(call $span_add_event {m} (i32.const 32) (i32.const 3) (i32.const 1024) (i32.const {n}))"
            )),
            0,
        ),
        eq("1000 more events", format!("(block (result i64) (call $events {m}) (global.get $bad))"), 0),
        eq("end of the span", i32r(&format!("(call $span_end {m})")), 0),
        eq(
            "log record with 1000 attributes",
            i32r(&format!(
                "(call $log_emit (i32.const 9) (i32.const 0) (i32.const 4) (i32.const 1024) (i32.const {n}))"
            )),
            0,
        ),
    ];
    let data = vec![(0, b"many".to_vec()), (16, b"e".to_vec()), (32, b"big".to_vec()), (1024, attrs)];
    (checked_guest("count_limits", 1, &data, funcs, "", &checks, ""), checks)
}

#[test]
fn a_thousand_attributes_and_events_are_capped_and_counted_on_spans() {
    let (wasm, checks) = count_limits_guest();
    let c = collector();
    let out = Run::new(&wasm, &c.endpoint()).output();
    assert_checks_passed(&out, &checks, "count limits");
    let spans = c.wait_for_spans(1, ARRIVAL_TIMEOUT).unwrap();
    let many = &span(&spans, "many").span;
    assert_eq!(
        (many.attributes.len(), many.dropped_attributes_count),
        (128, 872),
        "span keeps 128 attributes and counts the rest"
    );
    assert_eq!(
        (many.events.len(), many.dropped_events_count),
        (128, 873),
        "128 of 1001 events kept, the rest counted"
    );
    let first = &many.events[0];
    assert_eq!(first.name, "big");
    assert_eq!(
        (first.attributes.len(), first.dropped_attributes_count),
        (128, 872),
        "event attributes likewise"
    );
    println!(
        "FIGURE count limits: span attributes 128 kept / {} dropped, events 128 kept / {} dropped, event attributes \
         128 kept / {} dropped",
        many.dropped_attributes_count, many.dropped_events_count, first.dropped_attributes_count
    );
}

#[test]
#[ignore = "limitation of opentelemetry_sdk 0.33: its log records carry no dropped-attribute count, so \
            the plugin caps a record's attributes at OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT (128) but cannot \
            report dropped_attributes_count (exported as 0 for a record that lost 872)"]
fn a_thousand_attributes_on_a_log_record_are_capped_and_counted() {
    let (wasm, checks) = count_limits_guest();
    let c = collector();
    let out = Run::new(&wasm, &c.endpoint()).output();
    assert_checks_passed(&out, &checks, "count limits");
    wait_until("the log record", ARRIVAL_TIMEOUT, || !log_records(&c).is_empty());
    let record = &log_records(&c)[0];
    assert_eq!(
        (record.attributes.len(), record.dropped_attributes_count),
        (128, 872),
        "the record keeps 128 attributes and counts the rest"
    );
}

// ---------------------------------------------------------------------------------------------
// Instruments and bindings in loops

#[test]
fn instruments_and_bindings_created_in_loops_hit_their_limits() {
    // Names m0000..m1999 at 10000 (5 bytes each); "M0000" at 9000; the bind buffer k=<i> at 200.
    let name_bytes: Vec<u8> = (0..2000).flat_map(|i| format!("m{i:04}").into_bytes()).collect();
    let data = vec![
        (0, b"before".to_vec()),
        (16, b"after".to_vec()),
        (200, i64_attr("k", 0)),
        (9000, b"M0000".to_vec()),
        (10000, name_bytes),
    ];
    let create = |name_ptr: &str, kind: i32| {
        format!(
            "(call $instrument_create (i32.const {kind}) (i32.const 0) {name_ptr} (i32.const 5) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))"
        )
    };
    let bind = "(call $metric_bind (global.get $first) (i32.const 200) (i32.const 14))";
    let funcs = format!(
        r#"
  (global $ok (mut i64) (i64.const 0))
  (global $limit (mut i64) (i64.const 0))
  (global $other (mut i64) (i64.const 0))
  (global $first (mut i64) (i64.const 0))
  (global $last (mut i64) (i64.const 0))
  (global $b0 (mut i64) (i64.const 0))
  (global $mismatch (mut i64) (i64.const 0))
  (func $reset (global.set $ok (i64.const 0)) (global.set $limit (i64.const 0)) (global.set $other (i64.const 0)))
  (func $count (param $h i64) (result i64)
    (if (i64.gt_s (local.get $h) (i64.const 0))
      (then (global.set $ok (i64.add (global.get $ok) (i64.const 1))))
      (else (if (i64.eq (local.get $h) (i64.const {LIMIT}))
        (then (global.set $limit (i64.add (global.get $limit) (i64.const 1))))
        (else (global.set $other (i64.add (global.get $other) (i64.const 1)))))))
    (local.get $h))
  ;; 2000 distinct counters; keeps the handles of the first and the 1024th.
  (func $create_many
    (local $i i32) (local $h i64)
    (call $reset)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (i32.const 2000)))
        (local.set $h (call $count {create_i}))
        (if (i32.eqz (local.get $i)) (then (global.set $first (local.get $h))))
        (if (i32.eq (local.get $i) (i32.const 1023)) (then (global.set $last (local.get $h))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))
  ;; The first counter created again 10,000 times: always its handle.
  (func $create_same (result i64)
    (local $i i32)
    (global.set $mismatch (i64.const 0))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (i32.const 10000)))
        (if (i64.ne {create_first} (global.get $first))
          (then (global.set $mismatch (i64.add (global.get $mismatch) (i64.const 1)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (global.get $mismatch))
  ;; The same (counter, attributes) pair bound 10,000 times: always one handle.
  (func $bind_same (result i64)
    (local $i i32)
    (global.set $mismatch (i64.const 0))
    (i64.store (i32.const 206) (i64.const 0))
    (global.set $b0 {bind})
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (i32.const 10000)))
        (if (i64.ne {bind} (global.get $b0))
          (then (global.set $mismatch (i64.add (global.get $mismatch) (i64.const 1)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (global.get $mismatch))
  ;; 5000 distinct attribute sets k=1..5000.
  (func $bind_many
    (local $i i64)
    (call $reset)
    (local.set $i (i64.const 1))
    (block $done
      (loop $next
        (br_if $done (i64.gt_u (local.get $i) (i64.const 5000)))
        (i64.store (i32.const 206) (local.get $i))
        (drop (call $count {bind}))
        (local.set $i (i64.add (local.get $i) (i64.const 1)))
        (br $next))))"#,
        create_i = create("(i32.add (i32.const 10000) (i32.mul (local.get $i) (i32.const 5)))", 0),
        create_first = create("(i32.const 10000)", 0),
    );
    let span =
        |name: i64, len: i64| i32r(&format!("(call $span_end {})", span_start((name, len), NONE, NO_ATTRS)));
    let checks = vec![
        eq("span before", span(0, 6), 0),
        eq("2000 distinct instruments: no other answer", "(block (result i64) (call $create_many) (global.get $other))", 0),
        eq("the first 1024 are created", "(global.get $ok)", 1024),
        eq("the other 976 get LIMIT_EXCEEDED", "(global.get $limit)", 976),
        eq("the same instrument 10,000 times: the same handle", "(call $create_same)", 0),
        eq("its name in another case: the same handle", format!("(i64.sub {} (global.get $first))", create("(i32.const 9000)", 0)), 0),
        eq("the 1024th again, at the limit: its handle", format!("(i64.sub {} (global.get $last))", create("(i32.const 15115)", 0)), 0),
        eq("the same name as a histogram is another instrument: refused", create("(i32.const 10000)", 2), LIMIT),
        eq("the same binding 10,000 times: one handle", "(call $bind_same)", 0),
        eq("5000 distinct bindings: no other answer", "(block (result i64) (call $bind_many) (global.get $other))", 0),
        eq("4095 more bindings are created (4096 in all)", "(global.get $ok)", 4095),
        eq("the other 905 get LIMIT_EXCEEDED", "(global.get $limit)", 905),
        eq("the first binding again, at the limit: its handle", format!("(block (result i64) (i64.store (i32.const 206) (i64.const 0)) (i64.sub {bind} (global.get $b0)))"), 0),
        eq("record 5 through the first binding", i32r("(call $metric_bound_record_i64 (global.get $b0) (i64.const 5))"), 0),
        eq("record 7 on the 1024th instrument", i32r("(call $metric_record_i64 (global.get $last) (i64.const 7) (i32.const 0) (i32.const 0))"), 0),
        eq("span after", span(16, 5), 0),
    ];
    let wasm = checked_guest("instrument_limits", 1, &data, &funcs, "", &checks, "");
    let c = collector();
    let (out, took, peak) = run_measured(&wasm, &[("OTEL_EXPORTER_OTLP_ENDPOINT", &c.endpoint())]);
    assert_checks_passed(&out, &checks, "instrument limits");
    assert_eq!(names(&c.wait_for_spans(2, ARRIVAL_TIMEOUT).unwrap()), ["after", "before"]);
    wait_until("the metrics", ARRIVAL_TIMEOUT, || last_metric(&c, "m1023").is_some());
    use opentelemetry_proto::tonic::metrics::v1::{metric::Data, number_data_point::Value};
    let value = |name: &str| {
        let m = last_metric(&c, name).unwrap_or_else(|| panic!("{name} exported"));
        let Some(Data::Sum(sum)) = m.data else { panic!("{name}: a sum") };
        sum.data_points.iter().map(|p| (typed_attrs(&p.attributes), p.value)).collect::<Vec<_>>()
    };
    assert_eq!(
        value("m0000"),
        [(vec!["k=i:0".to_string()], Some(Value::AsInt(5)))],
        "only the recorded binding"
    );
    assert_eq!(value("m1023"), [(vec![], Some(Value::AsInt(7)))]);
    assert!(last_metric(&c, "m1024").is_none(), "a refused instrument exports nothing");
    println!(
        "FIGURE instrument limits: 1024/2000 instruments, 4096/5001 bindings, 10,000 re-creations and re-bindings \
         returned the same handle; peak RSS {} MiB, exit {took:.2?} after start",
        peak / 1024
    );
}

// ---------------------------------------------------------------------------------------------
// Setting an existing key again

#[test]
fn setting_an_existing_key_replaces_its_value() {
    // k=1 at start, then k=2 set 200 times: one attribute k=2, nothing dropped.
    let funcs = r#"
  (global $bad (mut i64) (i64.const 0))
  (func $set_again (param $h i64) (result i64)
    (local $i i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (i32.const 200)))
        (if (i32.ne (call $span_set_attributes (local.get $h) (i32.const 40) (i32.const 14)) (i32.const 0))
          (then (global.set $bad (i64.add (global.get $bad) (i64.const 1)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (global.get $bad))"#;
    let checks = vec![
        handle("span with k=1", span_start((0, 3), NONE, (16, 14)), "s"),
        eq("k=2 set 200 times", "(call $set_again (global.get $s))", 0),
        eq("end", i32r("(call $span_end (global.get $s))"), 0),
    ];
    let data = vec![(0, b"set".to_vec()), (16, i64_attr("k", 1)), (40, i64_attr("k", 2))];
    let wasm = checked_guest("set_again", 1, &data, funcs, "", &checks, "");
    let c = collector();
    let out = Run::new(&wasm, &c.endpoint()).output();
    assert_checks_passed(&out, &checks, "set again");
    let spans = c.wait_for_spans(1, ARRIVAL_TIMEOUT).unwrap();
    let s = &span(&spans, "set").span;
    assert_eq!(
        (typed_attrs(&s.attributes), s.dropped_attributes_count),
        (vec!["k=i:2".to_string()], 0),
        "one attribute k, with the last value, nothing dropped"
    );
}
