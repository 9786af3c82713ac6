use super::*;
use crate::core::attributes::tests::Enc;
use crate::core::host::HOST_FUNCTIONS;
use crate::core::metrics::Measurement;
use crate::export::traces::MergeRepeatedKeys;
use opentelemetry::logs::{AnyValue, LoggerProvider as _, Severity};
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::{SpanKind as OtelKind, Status as OtelStatus, TracerProvider as _};
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::logs::{InMemoryLogExporter, SdkLoggerProvider};
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use wasmedge_otel_abi::{Status, PARENT_NONE};

/// The simple exporters of these tests export as spans end: nothing to flush.
fn no_flush() -> crate::core::trace::SpanFlush {
    crate::core::trace::SpanFlush { every: usize::MAX, flush: std::sync::Arc::new(|| {}) }
}

struct Harness {
    exporter: InMemorySpanExporter,
    metric_exporter: InMemoryMetricExporter,
    meter_provider: SdkMeterProvider,
    log_exporter: InMemoryLogExporter,
    instance: Instance,
    mem: Vec<u8>,
}

/// Writes guest data at fixed offsets of a one-page memory, like a guest would.
impl Harness {
    fn new(max_open_spans: usize) -> Self {
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder()
            .with_id_generator(crate::core::functions::PlannedIdGenerator::default())
            .with_simple_exporter(MergeRepeatedKeys(exporter.clone()))
            .build();
        let metric_exporter = InMemoryMetricExporter::default();
        let meter_provider = SdkMeterProvider::builder()
            .with_reader(PeriodicReader::builder(metric_exporter.clone()).build())
            .build();
        let log_exporter = InMemoryLogExporter::default();
        let logger_provider = SdkLoggerProvider::builder().with_simple_exporter(log_exporter.clone()).build();
        let meter = meter_provider.meter("test");
        let source: TelemetrySource = Box::new(move || TelemetrySetup {
            tracer: provider.tracer("test"),
            meter: meter.clone(),
            logger: logger_provider.logger("test"),
            root: Context::new(),
            span_flush: no_flush(),
        });
        Harness {
            exporter,
            metric_exporter,
            meter_provider,
            log_exporter,
            instance: Instance::new(
                source,
                InstanceLimits {
                    max_open_spans,
                    func_min_duration: std::time::Duration::ZERO,
                    ..InstanceLimits::default()
                },
            ),
            mem: vec![0; 65536],
        }
    }

    fn instrument(&mut self, kind: i32, value_type: i32, name: &str, bounds: &[f64]) -> HostResult<Handle> {
        let n = self.put(0, name.as_bytes());
        let unit = self.put(200, b"ms");
        let desc = self.put(300, b"a test instrument");
        let b: Vec<u8> = bounds.iter().flat_map(|f| f.to_le_bytes()).collect();
        let b = self.put(400, &b);
        self.instance.instrument_create(&GuestMemory::new(&mut self.mem), kind, value_type, n, unit, desc, b)
    }

    fn record(&mut self, instrument: Handle, m: Measurement, attrs: &[u8]) -> HostResult<()> {
        let a = self.put(1024, attrs);
        self.instance.metric_record(&GuestMemory::new(&mut self.mem), instrument as i64, m, a)
    }

    /// Collects once and hands the data of metric `name` to `f`.
    fn metric<R>(&self, name: &str, f: impl FnOnce(&AggregatedMetrics) -> R) -> R {
        self.meter_provider.force_flush().unwrap();
        let all = self.metric_exporter.get_finished_metrics().unwrap();
        let last = all.last().expect("a collection");
        let metric = last.scope_metrics().flat_map(|s| s.metrics()).find(|m| m.name() == name);
        f(metric.unwrap_or_else(|| panic!("no metric {name}")).data())
    }

    /// Puts bytes at `at` and returns their guest slice.
    fn put(&mut self, at: u32, bytes: &[u8]) -> GuestSlice {
        self.mem[at as usize..at as usize + bytes.len()].copy_from_slice(bytes);
        GuestSlice { ptr: at, len: bytes.len() as u32 }
    }

    fn start(&mut self, name: &str, kind: i32, parent: i64, attrs: &[u8]) -> HostResult<Handle> {
        let n = self.put(0, name.as_bytes());
        let a = self.put(1024, attrs);
        self.instance.span_start(&GuestMemory::new(&mut self.mem), n, kind, parent, a)
    }

    fn finished(&self) -> Vec<SpanData> {
        self.exporter.get_finished_spans().unwrap()
    }
}

fn find<'a>(spans: &'a [SpanData], name: &str) -> &'a SpanData {
    spans.iter().find(|s| s.name == name).unwrap_or_else(|| panic!("no span {name}"))
}

#[test]
fn nested_spans_follow_the_current_span() {
    let mut h = Harness::new(16);
    let root = h.start("root", 1, 0, &[]).unwrap();
    let child = h.start("child", 0, 0, &Enc::default().str("k", "v").i64("n", 3).0).unwrap();
    assert_eq!(h.instance.span_current(), child);
    h.instance.span_end(child as i64).unwrap();
    assert_eq!(h.instance.span_current(), root);
    let sibling = h.start("sibling", 2, 0, &[]).unwrap();
    h.instance.span_end(sibling as i64).unwrap();
    h.instance.span_end(root as i64).unwrap();
    assert_eq!(h.instance.span_current(), 0);

    let spans = h.finished();
    let (root, child, sibling) = (find(&spans, "root"), find(&spans, "child"), find(&spans, "sibling"));
    assert_eq!(root.span_kind, OtelKind::Server);
    assert_eq!(child.span_kind, OtelKind::Internal);
    assert_eq!(sibling.span_kind, OtelKind::Client);
    for s in [child, sibling] {
        assert_eq!(s.parent_span_id, root.span_context.span_id());
        assert_eq!(s.span_context.trace_id(), root.span_context.trace_id());
        assert!(!s.parent_span_is_remote);
    }
    assert_eq!(child.attributes, vec![KeyValue::new("k", "v"), KeyValue::new("n", 3i64)]);
}

#[test]
fn explicit_parent_and_new_root() {
    let mut h = Harness::new(16);
    let a = h.start("a", 0, 0, &[]).unwrap();
    let _b = h.start("b", 0, 0, &[]).unwrap();
    let c = h.start("c", 0, a as i64, &[]).unwrap();
    let d = h.start("d", 0, PARENT_NONE, &[]).unwrap();
    h.instance.close();
    let spans = h.finished();
    let a_id = find(&spans, "a").span_context.span_id();
    assert_eq!(find(&spans, "c").parent_span_id, a_id);
    let d_span = find(&spans, "d");
    assert_eq!(d_span.parent_span_id, opentelemetry::trace::SpanId::INVALID);
    assert_ne!(d_span.span_context.trace_id(), find(&spans, "a").span_context.trace_id());
    let _ = (c, d);
}

#[test]
fn events_status_and_exceptions_are_recorded() {
    let mut h = Harness::new(16);
    let s = h.start("s", 0, 0, &[]).unwrap() as i64;
    let mem_attrs = Enc::default().bool("hit", false).0;
    let name = h.put(0, b"cache");
    let attrs = h.put(100, &mem_attrs);
    h.instance.span_add_event(&GuestMemory::new(&mut h.mem), s, name, attrs).unwrap();
    let ty = h.put(200, b"io");
    let msg = h.put(300, b"disk full");
    let empty = GuestSlice { ptr: 0, len: 0 };
    h.instance.span_record_exception(&GuestMemory::new(&mut h.mem), s, ty, msg, empty).unwrap();
    h.instance.span_set_status(&GuestMemory::new(&mut h.mem), s, 2, msg).unwrap();
    h.instance.span_end(s).unwrap();

    let spans = h.finished();
    let span = find(&spans, "s");
    assert_eq!(span.status, OtelStatus::error("disk full"));
    let events: Vec<_> = span.events.iter().collect();
    assert_eq!(events[0].name, "cache");
    assert_eq!(events[0].attributes, vec![KeyValue::new("hit", false)]);
    assert_eq!(events[1].name, "exception");
    assert_eq!(
        events[1].attributes,
        vec![KeyValue::new("exception.type", "io"), KeyValue::new("exception.message", "disk full")]
    );
}

#[test]
fn bad_handles_are_refused_and_change_nothing() {
    let mut h = Harness::new(16);
    let s = h.start("s", 0, 0, &[]).unwrap();
    for bad in [0i64, -5, 12345, (s as i64) ^ (1 << 30), i64::MAX] {
        assert!(matches!(h.instance.span_end(bad), Err(HostError::InvalidHandle(_))), "{bad:#x}");
        assert!(h.start("x", 0, bad.max(1), &[]).is_err() || bad == 0, "parent {bad:#x}");
    }
    h.instance.span_end(s as i64).unwrap();
    assert!(matches!(h.instance.span_end(s as i64), Err(HostError::InvalidHandle(_))), "double end");
    assert!(matches!(h.start("late", 0, s as i64, &[]), Err(HostError::InvalidHandle(_))), "ended parent");
    let spans = h.finished();
    assert_eq!(spans.len(), 1, "only the valid span was exported: {spans:?}");
}

#[test]
fn bad_arguments_are_refused_before_anything_is_recorded() {
    let mut h = Harness::new(16);
    assert_eq!(h.start("s", 9, 0, &[]).unwrap_err().status(), Status::INVALID_ARGUMENT);
    assert_eq!(h.start("s", 0, 0, &[1, 2]).unwrap_err().status(), Status::MALFORMED);
    let bad_name = h.put(0, &[0xff, 0xfe]);
    let mem = GuestMemory::new(&mut h.mem);
    let none = GuestSlice { ptr: 0, len: 0 };
    assert_eq!(h.instance.span_start(&mem, bad_name, 0, 0, none).unwrap_err().status(), Status::INVALID_UTF8);
    let outside = GuestSlice { ptr: 65530, len: 10 };
    assert_eq!(h.instance.span_start(&mem, outside, 0, 0, none).unwrap_err().status(), Status::OUT_OF_BOUNDS);
    let s = h.start("ok", 0, 0, &[]).unwrap() as i64;
    let mem = GuestMemory::new(&mut h.mem);
    assert_eq!(h.instance.span_set_status(&mem, s, 7, none).unwrap_err().status(), Status::INVALID_ARGUMENT);
    h.instance.span_end(s).unwrap();
    assert_eq!(h.finished().len(), 1);
    assert_eq!(h.finished()[0].status, OtelStatus::Unset);
}

#[test]
fn open_span_limit_is_enforced() {
    let mut h = Harness::new(3);
    let hs: Vec<_> = (0..3).map(|_| h.start("s", 0, 0, &[]).unwrap()).collect();
    assert_eq!(h.start("over", 0, 0, &[]).unwrap_err().status(), Status::LIMIT_EXCEEDED);
    h.instance.span_end(hs[1] as i64).unwrap();
    assert!(h.start("fits", 0, 0, &[]).is_ok());
    assert!(h.finished().iter().all(|s| s.name != "over"), "a refused span is never exported");
}

#[test]
fn close_ends_unfinished_spans_as_errors() {
    let mut h = Harness::new(16);
    let root = h.start("root", 0, 0, &[]).unwrap();
    let done = h.start("done", 0, 0, &[]).unwrap();
    h.instance.span_end(done as i64).unwrap();
    h.start("open-child", 0, 0, &[]).unwrap();
    assert_eq!(h.instance.close(), 2);
    let spans = h.finished();
    assert_eq!(spans.len(), 3);
    for name in ["root", "open-child"] {
        let s = find(&spans, name);
        assert_eq!(s.status, OtelStatus::error(crate::core::trace::UNFINISHED_MESSAGE));
        assert!(s.attributes.contains(&KeyValue::new(crate::core::trace::UNFINISHED_ATTRIBUTE, true)));
    }
    assert_eq!(find(&spans, "done").status, OtelStatus::Unset);
    assert_eq!(find(&spans, "open-child").parent_span_id, find(&spans, "root").span_context.span_id());
    let _ = root;
}

#[test]
fn close_without_tracing_starts_nothing() {
    let h = Harness::new(4);
    assert_eq!(h.instance.close(), 0);
    assert!(!h.instance.started());
}

#[test]
fn host_table_bodies_return_statuses_and_handles() {
    let mut h = Harness::new(16);
    let name = h.put(0, b"via-table");
    let call = |h: &mut Harness, f: &str, args: &[i64]| {
        let (sig, body) = HOST_FUNCTIONS.iter().find(|(s, _)| s.name == f).unwrap();
        assert_eq!(sig.params.len(), args.len());
        body(&h.instance, &mut GuestMemory::new(&mut h.mem), args)
    };
    assert_eq!(call(&mut h, "abi_version", &[]), wasmedge_otel_abi::ABI_VERSION as i64);
    let s = call(&mut h, "span_start", &[name.ptr as i64, name.len as i64, 0, 0, 0, 0]);
    assert!(s > 0);
    assert_eq!(call(&mut h, "span_current", &[]), s);
    // A pointer near 4 GiB, passed as the negative i32 a guest would pass.
    assert_eq!(call(&mut h, "span_set_attributes", &[s, -16, 8]), Status::OUT_OF_BOUNDS.0 as i64);
    assert_eq!(call(&mut h, "span_end", &[s]), 0);
    assert_eq!(call(&mut h, "span_end", &[s]), Status::INVALID_HANDLE.0 as i64);
    assert_eq!(call(&mut h, "span_current", &[]), 0);
    assert_eq!(h.finished()[0].attributes, Vec::<KeyValue>::new());
    let _ = Value::from(1i64);
}

const COUNTER: i32 = 0;
const UP_DOWN: i32 = 1;
const HISTOGRAM: i32 = 2;
const GAUGE: i32 = 3;
const INT: i32 = 0;
const FLOAT: i32 = 1;

fn sum_u64(data: &AggregatedMetrics) -> Vec<(u64, Vec<KeyValue>)> {
    let AggregatedMetrics::U64(MetricData::Sum(sum)) = data else { panic!("not a u64 sum: {data:?}") };
    sum.data_points().map(|p| (p.value(), p.attributes().cloned().collect())).collect()
}

#[test]
fn counters_add_per_attribute_set_and_refuse_bad_values() {
    let mut h = Harness::new(4);
    let c = h.instrument(COUNTER, INT, "requests", &[]).unwrap();
    assert_eq!(h.instrument(COUNTER, INT, "requests", &[]).unwrap(), c, "same instrument, same handle");
    assert_eq!(h.instrument(COUNTER, INT, "Requests", &[]).unwrap(), c, "names compare case-insensitively");
    assert_eq!(h.instrument(COUNTER, INT, "9lives", &[]).unwrap_err().status(), Status::INVALID_ARGUMENT);
    let route = Enc::default().str("route", "/a").0;
    h.record(c, Measurement::I64(2), &route).unwrap();
    h.record(c, Measurement::I64(3), &route).unwrap();
    assert_eq!(h.record(c, Measurement::I64(-1), &route).unwrap_err().status(), Status::INVALID_ARGUMENT);
    assert_eq!(h.record(c, Measurement::F64(1.0), &route).unwrap_err().status(), Status::INVALID_ARGUMENT);
    assert_eq!(h.record(c, Measurement::I64(1), &[9]).unwrap_err().status(), Status::MALFORMED);
    assert_eq!(h.record(c + 1, Measurement::I64(1), &[]).unwrap_err().status(), Status::INVALID_HANDLE);
    assert_eq!(h.metric("requests", sum_u64), vec![(5, vec![KeyValue::new("route", "/a")])]);
}

#[test]
fn float_instruments_refuse_nan_infinity_and_negative_monotonic_values() {
    let mut h = Harness::new(4);
    let c = h.instrument(COUNTER, FLOAT, "c", &[]).unwrap();
    let u = h.instrument(UP_DOWN, FLOAT, "u", &[]).unwrap();
    let g = h.instrument(GAUGE, FLOAT, "g", &[]).unwrap();
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        for i in [c, u, g] {
            assert_eq!(
                h.record(i, Measurement::F64(bad), &[]).unwrap_err().status(),
                Status::INVALID_ARGUMENT
            );
        }
    }
    assert!(h.record(c, Measurement::F64(-0.5), &[]).is_err());
    h.record(u, Measurement::F64(-0.5), &[]).unwrap();
    h.record(g, Measurement::F64(-7.25), &[]).unwrap();
    let values = h.metric("g", |data| {
        let AggregatedMetrics::F64(MetricData::Gauge(gauge)) = data else { panic!("f64 gauge") };
        gauge.data_points().map(|p| p.value()).collect::<Vec<_>>()
    });
    assert_eq!(values, [-7.25]);
}

#[test]
fn histograms_use_explicit_boundaries() {
    let mut h = Harness::new(4);
    let hist = h.instrument(HISTOGRAM, FLOAT, "latency", &[1.0, 5.0, 10.0]).unwrap();
    for v in [0.5, 3.0, 7.0, 20.0, 4.0] {
        h.record(hist, Measurement::F64(v), &[]).unwrap();
    }
    let (bounds, counts, total) = h.metric("latency", |data| {
        let AggregatedMetrics::F64(MetricData::Histogram(data)) = data else { panic!("histogram") };
        let point = data.data_points().next().unwrap();
        (point.bounds().collect::<Vec<_>>(), point.bucket_counts().collect::<Vec<_>>(), point.count())
    });
    assert_eq!(bounds, [1.0, 5.0, 10.0]);
    assert_eq!(counts, [1, 2, 1, 1]);
    assert_eq!(total, 5);
    assert_eq!(
        h.instrument(HISTOGRAM, FLOAT, "bad", &[2.0, 1.0]).unwrap_err().status(),
        Status::INVALID_ARGUMENT
    );
    assert_eq!(h.instrument(COUNTER, FLOAT, "bad", &[1.0]).unwrap_err().status(), Status::INVALID_ARGUMENT);
    assert_eq!(h.instrument(7, FLOAT, "bad", &[]).unwrap_err().status(), Status::INVALID_ARGUMENT);
    assert_eq!(h.instrument(COUNTER, 3, "bad", &[]).unwrap_err().status(), Status::INVALID_ARGUMENT);
}

#[test]
fn bound_instruments_record_with_their_attributes() {
    let mut h = Harness::new(4);
    let c = h.instrument(COUNTER, INT, "hits", &[]).unwrap();
    let attrs = h.put(1024, &Enc::default().str("cache", "main").0);
    let bound = h.instance.metric_bind(&GuestMemory::new(&mut h.mem), c as i64, attrs).unwrap();
    assert_ne!(bound, c, "bound handles are their own");
    assert_eq!(
        h.instance.metric_bind(&GuestMemory::new(&mut h.mem), c as i64, attrs).unwrap(),
        bound,
        "same pair, same handle"
    );
    for _ in 0..4 {
        h.instance.metric_bound_record(bound as i64, Measurement::I64(2)).unwrap();
    }
    assert_eq!(
        h.instance.metric_bound_record(c as i64, Measurement::I64(1)).unwrap_err().status(),
        Status::INVALID_HANDLE
    );
    assert_eq!(
        h.instance.metric_bound_record(bound as i64, Measurement::I64(-2)).unwrap_err().status(),
        Status::INVALID_ARGUMENT
    );
    assert_eq!(h.metric("hits", sum_u64), vec![(8, vec![KeyValue::new("cache", "main")])]);
}

/// The data points of a metric, kind, values and attributes only (no timestamps).
fn points(data: &AggregatedMetrics) -> Vec<String> {
    fn each<T: std::fmt::Debug + Copy>(data: &MetricData<T>) -> Vec<String> {
        fn attrs<'a>(a: impl Iterator<Item = &'a KeyValue>) -> Vec<String> {
            a.map(|kv| format!("{}={}", kv.key, kv.value)).collect()
        }
        match data {
            MetricData::Sum(s) => {
                s.data_points().map(|p| format!("sum {:?} {:?}", p.value(), attrs(p.attributes()))).collect()
            }
            MetricData::Gauge(g) => g
                .data_points()
                .map(|p| format!("gauge {:?} {:?}", p.value(), attrs(p.attributes())))
                .collect(),
            MetricData::Histogram(h) => h
                .data_points()
                .map(|p| format!("histogram n={} sum={:?} {:?}", p.count(), p.sum(), attrs(p.attributes())))
                .collect(),
            other => panic!("unexpected metric data {other:?}"),
        }
    }
    match data {
        AggregatedMetrics::U64(d) => each(d),
        AggregatedMetrics::I64(d) => each(d),
        AggregatedMetrics::F64(d) => each(d),
    }
}

#[test]
fn a_binding_exports_nothing_until_a_value_is_accepted() {
    let mut h = Harness::new(4);
    let g = h.instrument(GAUGE, INT, "g", &[]).unwrap();
    let c = h.instrument(COUNTER, INT, "c", &[]).unwrap();
    h.record(c, Measurement::I64(1), &[]).unwrap();
    let bind = |h: &mut Harness, instrument: Handle, value: &str| {
        let a = h.put(1024, &Enc::default().str("set", value).0);
        h.instance.metric_bind(&GuestMemory::new(&mut h.mem), instrument as i64, a).unwrap()
    };
    bind(&mut h, g, "never recorded");
    let refused = bind(&mut h, c, "refused");
    assert!(h.instance.metric_bound_record(refused as i64, Measurement::I64(-1)).is_err());
    let kept = bind(&mut h, c, "kept");
    h.instance.metric_bound_record(kept as i64, Measurement::I64(3)).unwrap();
    h.instance.metric_bound_record(kept as i64, Measurement::I64(4)).unwrap();
    let mut sums = h.metric("c", sum_u64);
    sums.sort_by_key(|(v, _)| *v);
    assert_eq!(sums, vec![(1, vec![]), (7, vec![KeyValue::new("set", "kept")])]);
    h.meter_provider.force_flush().unwrap();
    let all = h.metric_exporter.get_finished_metrics().unwrap();
    let gauge = all.last().unwrap().scope_metrics().flat_map(|s| s.metrics()).find(|m| m.name() == "g");
    assert!(gauge.is_none(), "a gauge bound but never recorded has no point: {gauge:?}");
}

#[test]
fn every_kind_of_bound_instrument_records_like_the_unbound_one() {
    let mut h = Harness::new(4);
    let attrs = Enc::default().str("cache", "main").i64("shard", 2).0;
    for kind in [COUNTER, UP_DOWN, HISTOGRAM, GAUGE] {
        for value_type in [INT, FLOAT] {
            let unbound =
                h.instrument(kind, value_type, &format!("unbound{kind}_{value_type}"), &[]).unwrap();
            let bound_to = h.instrument(kind, value_type, &format!("bound{kind}_{value_type}"), &[]).unwrap();
            let a = h.put(1024, &attrs);
            let bound = h.instance.metric_bind(&GuestMemory::new(&mut h.mem), bound_to as i64, a).unwrap();
            for v in [3, 5, 4] {
                let m =
                    if value_type == INT { Measurement::I64(v) } else { Measurement::F64(v as f64 + 0.5) };
                h.record(unbound, m, &attrs).unwrap();
                h.instance.metric_bound_record(bound as i64, m).unwrap();
            }
            let wrong = if value_type == INT { Measurement::F64(1.0) } else { Measurement::I64(1) };
            assert_eq!(
                h.instance.metric_bound_record(bound as i64, wrong).unwrap_err().status(),
                Status::INVALID_ARGUMENT
            );
        }
    }
    for kind in [COUNTER, UP_DOWN, HISTOGRAM, GAUGE] {
        for value_type in [INT, FLOAT] {
            let expected = h.metric(&format!("unbound{kind}_{value_type}"), points);
            assert_eq!(expected.len(), 1, "{expected:?}");
            assert_eq!(
                h.metric(&format!("bound{kind}_{value_type}"), points),
                expected,
                "kind {kind}, type {value_type}"
            );
        }
    }
}

#[test]
fn instrument_limit_is_enforced() {
    let mut h = Harness::new(4);
    for i in 0..wasmedge_otel_abi::limits::MAX_INSTRUMENTS {
        h.instrument(COUNTER, INT, &format!("c{i}"), &[]).unwrap();
    }
    assert_eq!(h.instrument(COUNTER, INT, "one-more", &[]).unwrap_err().status(), Status::LIMIT_EXCEEDED);
    assert!(h.instrument(COUNTER, INT, "c0", &[]).is_ok(), "an existing instrument is still found");
}

#[test]
fn logs_carry_severity_body_attributes_and_the_current_span() {
    let mut h = Harness::new(4);
    let body = h.put(2000, b"outside");
    let none = GuestSlice { ptr: 0, len: 0 };
    h.instance.log_emit(&GuestMemory::new(&mut h.mem), 13, body, none).unwrap();
    let span = h.start("work", 0, 0, &[]).unwrap();
    let body = h.put(2000, b"inside");
    let attrs = h.put(3000, &Enc::default().i64("n", 3).0);
    h.instance.log_emit(&GuestMemory::new(&mut h.mem), 9, body, attrs).unwrap();
    assert_eq!(
        h.instance.log_emit(&GuestMemory::new(&mut h.mem), 25, body, none).unwrap_err().status(),
        Status::INVALID_ARGUMENT
    );
    h.instance.span_end(span as i64).unwrap();

    let logs = h.log_exporter.get_emitted_logs().unwrap();
    assert_eq!(logs.len(), 2);
    let (outside, inside) = (&logs[0].record, &logs[1].record);
    assert_eq!(outside.severity_number(), Some(Severity::Warn));
    assert_eq!(outside.severity_text(), Some("WARN"));
    assert!(outside.trace_context().is_none(), "no span was current");
    assert_eq!(inside.body(), Some(&AnyValue::String("inside".into())));
    assert_eq!(inside.attributes_iter().cloned().collect::<Vec<_>>(), [("n".into(), AnyValue::Int(3))]);
    let span = &h.finished()[0];
    let cx = inside.trace_context().expect("inside a span");
    assert_eq!((cx.trace_id, cx.span_id), (span.span_context.trace_id(), span.span_context.span_id()));
}

#[test]
fn trace_context_is_written_for_a_span_and_read_for_a_remote_parent() {
    let mut h = Harness::new(16);
    let s = h.start("outgoing", 2, 0, &[]).unwrap();
    let buf = GuestSlice { ptr: 4000, len: 64 };
    let n = h.instance.span_traceparent(&mut GuestMemory::new(&mut h.mem), 0, buf).unwrap();
    assert_eq!(n, 55);
    let header = std::str::from_utf8(&h.mem[4000..4055]).unwrap().to_owned();
    let small = GuestSlice { ptr: 4000, len: 54 };
    assert_eq!(
        h.instance.span_traceparent(&mut GuestMemory::new(&mut h.mem), s as i64, small).unwrap_err().status(),
        Status::LIMIT_EXCEEDED
    );
    assert_eq!(h.instance.span_tracestate(&mut GuestMemory::new(&mut h.mem), 0, buf).unwrap(), 0);
    h.instance.span_end(s as i64).unwrap();
    assert_eq!(
        h.instance.span_traceparent(&mut GuestMemory::new(&mut h.mem), 0, buf).unwrap(),
        0,
        "nothing open"
    );

    // A server continues the trace from the header.
    let name = h.put(0, b"incoming");
    let tp = h.put(100, header.as_bytes());
    let none = GuestSlice { ptr: 0, len: 0 };
    let server =
        h.instance.span_start_remote(&GuestMemory::new(&mut h.mem), name, 1, tp, none, none).unwrap();
    h.instance.span_end(server as i64).unwrap();
    let bad = h.put(100, b"00-zz-zz-01");
    let fresh =
        h.instance.span_start_remote(&GuestMemory::new(&mut h.mem), name, 1, bad, none, none).unwrap();
    h.instance.span_end(fresh as i64).unwrap();

    let spans = h.finished();
    let (out, incoming) = (&spans[0], &spans[1]);
    assert_eq!(header, format!("00-{}-{}-01", out.span_context.trace_id(), out.span_context.span_id()));
    assert_eq!(incoming.span_context.trace_id(), out.span_context.trace_id());
    assert_eq!(incoming.parent_span_id, out.span_context.span_id());
    assert!(incoming.parent_span_is_remote);
    assert_eq!(spans[2].parent_span_id, opentelemetry::trace::SpanId::INVALID, "invalid header: new trace");
}

fn names_table(entries: &[(u32, &str)]) -> Vec<u8> {
    entries
        .iter()
        .flat_map(|(id, name)| {
            let mut v = id.to_le_bytes().to_vec();
            v.extend((name.len() as u32).to_le_bytes());
            v.extend(name.as_bytes());
            v
        })
        .collect()
}

#[test]
fn function_frames_nest_with_spans_started_by_hand() {
    let mut h = Harness::new(16);
    let table = h.put(5000, &names_table(&[(1, "main"), (2, "work")]));
    h.instance.func_names(&GuestMemory::new(&mut h.mem), table).unwrap();
    h.instance.func_enter(1).unwrap();
    let manual = h.start("manual", 0, 0, &[]).unwrap();
    h.instance.func_enter(2).unwrap();
    h.instance.func_exit(2).unwrap();
    h.instance.span_end(manual as i64).unwrap();
    h.instance.func_enter(3).unwrap();
    h.instance.func_exit(3).unwrap();
    h.instance.func_exit(1).unwrap();
    assert_eq!(h.instance.func_exit(1).unwrap_err().status(), Status::INVALID_ARGUMENT, "no open frame");

    let spans = h.finished();
    assert_eq!(spans.len(), 4);
    let (main, manual, work, unnamed) =
        (find(&spans, "main"), find(&spans, "manual"), find(&spans, "work"), find(&spans, "func[3]"));
    assert_eq!(manual.parent_span_id, main.span_context.span_id(), "a span started by hand inside main");
    assert_eq!(work.parent_span_id, manual.span_context.span_id());
    assert_eq!(unnamed.parent_span_id, main.span_context.span_id());
    assert!(spans.iter().all(|s| s.span_context.trace_id() == main.span_context.trace_id()));
    assert!(main.start_time <= work.start_time && work.end_time <= main.end_time);
    assert!(main.attributes.contains(&KeyValue::new("code.function.name", "main")));
    assert!(main.attributes.contains(&KeyValue::new("wasm.function.index", 1i64)));
}

#[test]
fn short_calls_are_not_exported() {
    let exporter = InMemorySpanExporter::default();
    let provider =
        SdkTracerProvider::builder().with_simple_exporter(MergeRepeatedKeys(exporter.clone())).build();
    let source: TelemetrySource = Box::new(move || TelemetrySetup {
        tracer: provider.tracer("test"),
        meter: opentelemetry::global::meter("test"),
        logger: SdkLoggerProvider::builder().build().logger("test"),
        root: Context::new(),
        span_flush: no_flush(),
    });
    let limits = InstanceLimits {
        func_min_duration: std::time::Duration::from_secs(3600),
        ..InstanceLimits::default()
    };
    let instance = Instance::new(source, limits);
    for _ in 0..100 {
        instance.func_enter(7).unwrap();
        instance.func_exit(7).unwrap();
    }
    assert!(exporter.get_finished_spans().unwrap().is_empty());
}

#[test]
fn a_skipped_exit_closes_the_frames_above_as_errors() {
    let h = Harness::new(16);
    h.instance.func_enter(1).unwrap();
    h.instance.func_enter(2).unwrap();
    h.instance.func_enter(3).unwrap();
    // An exception unwound through 3 and 2: only 1 reports its exit.
    h.instance.func_exit(1).unwrap();
    let spans = h.finished();
    assert_eq!(spans.len(), 3);
    for name in ["func[2]", "func[3]"] {
        assert!(matches!(find(&spans, name).status, OtelStatus::Error { .. }), "{name}");
    }
    assert_eq!(find(&spans, "func[1]").status, OtelStatus::Unset);
}

#[test]
fn frames_left_open_at_exit_are_exported_as_errors() {
    let h = Harness::new(16);
    h.instance.func_enter(1).unwrap();
    h.instance.func_enter(2).unwrap();
    assert_eq!(h.instance.close(), 2);
    let spans = h.finished();
    assert_eq!(spans.len(), 2);
    assert_eq!(find(&spans, "func[2]").parent_span_id, find(&spans, "func[1]").span_context.span_id());
    assert!(spans.iter().all(|s| s.status == OtelStatus::error(crate::core::trace::NO_EXIT_MESSAGE)));
}

#[test]
fn call_depth_is_capped_and_exits_still_match() {
    let h = Harness::new(16);
    let depth = wasmedge_otel_abi::limits::MAX_FUNCTION_DEPTH;
    for i in 0..depth {
        h.instance.func_enter(i as i32).unwrap();
    }
    assert_eq!(h.instance.func_enter(99_999).unwrap_err().status(), Status::LIMIT_EXCEEDED);
    h.instance.func_exit(99_999).unwrap();
    for i in (0..depth).rev() {
        h.instance.func_exit(i as i32).unwrap();
    }
    assert_eq!(h.finished().len(), depth);
}

#[test]
fn setting_a_key_again_replaces_its_value() {
    let mut h = Harness::new(4);
    let s = h.start("s", 0, 0, &[]).unwrap();
    for v in 0..200 {
        let a = h.put(3000, &Enc::default().i64("k", v).0);
        h.instance.span_set_attributes(&GuestMemory::new(&mut h.mem), s as i64, a).unwrap();
    }
    let a = h.put(3000, &Enc::default().bool("other", true).0);
    h.instance.span_set_attributes(&GuestMemory::new(&mut h.mem), s as i64, a).unwrap();
    h.instance.span_end(s as i64).unwrap();
    let span = &h.finished()[0];
    assert_eq!(span.attributes, vec![KeyValue::new("k", 199i64), KeyValue::new("other", true)]);
    assert_eq!(span.dropped_attributes_count, 0);
}

#[test]
fn a_key_given_at_start_and_set_again_is_exported_once_with_the_last_value() {
    let mut h = Harness::new(4);
    let s = h.start("s", 0, 0, &Enc::default().i64("k", -1).bool("z", true).0).unwrap();
    let a = h.put(3000, &Enc::default().i64("k", 5).str("after", "x").0);
    h.instance.span_set_attributes(&GuestMemory::new(&mut h.mem), s as i64, a).unwrap();
    h.instance.span_end(s as i64).unwrap();
    assert_eq!(
        h.finished()[0].attributes,
        vec![KeyValue::new("k", 5i64), KeyValue::new("z", true), KeyValue::new("after", "x")]
    );
}

#[test]
fn a_short_call_is_kept_when_something_inside_names_it_as_parent() {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_id_generator(crate::core::functions::PlannedIdGenerator::default())
        .with_simple_exporter(MergeRepeatedKeys(exporter.clone()))
        .build();
    let source: TelemetrySource = Box::new(move || TelemetrySetup {
        tracer: provider.tracer("test"),
        meter: opentelemetry::global::meter("test"),
        logger: SdkLoggerProvider::builder().build().logger("test"),
        root: Context::new(),
        span_flush: no_flush(),
    });
    let limits = InstanceLimits {
        func_min_duration: std::time::Duration::from_secs(3600),
        ..InstanceLimits::default()
    };
    let instance = Instance::new(source, limits);
    let mut mem = vec![0u8; 64];
    mem[..7].copy_from_slice(b"by-hand");
    instance.func_enter(1).unwrap(); // outer, short
    instance.func_enter(2).unwrap(); // inner, short
    let s = instance
        .span_start(
            &GuestMemory::new(&mut mem),
            GuestSlice { ptr: 0, len: 7 },
            0,
            0,
            GuestSlice { ptr: 0, len: 0 },
        )
        .unwrap();
    instance.span_end(s as i64).unwrap();
    instance.func_exit(2).unwrap();
    instance.func_enter(3).unwrap(); // a short call nothing refers to: dropped
    instance.func_exit(3).unwrap();
    instance.func_exit(1).unwrap();
    let spans = exporter.get_finished_spans().unwrap();
    assert_eq!(spans.len(), 3, "{spans:?}");
    let (outer, inner, by_hand) = (find(&spans, "func[1]"), find(&spans, "func[2]"), find(&spans, "by-hand"));
    assert_eq!(by_hand.parent_span_id, inner.span_context.span_id());
    assert_eq!(inner.parent_span_id, outer.span_context.span_id());
}
