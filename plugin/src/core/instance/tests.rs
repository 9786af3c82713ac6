use super::*;
use crate::core::attributes::tests::Enc;
use crate::core::host::HOST_FUNCTIONS;
use opentelemetry::trace::{SpanKind as OtelKind, Status as OtelStatus, TracerProvider as _};
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use wasmedge_otel_abi::{Status, PARENT_NONE};

struct Harness {
    exporter: InMemorySpanExporter,
    instance: Instance,
    mem: Vec<u8>,
}

/// Writes guest data at fixed offsets of a one-page memory, like a guest would.
impl Harness {
    fn new(max_open_spans: usize) -> Self {
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder().with_simple_exporter(exporter.clone()).build();
        let source: TraceSetupSource =
            Box::new(move || TraceSetup { tracer: provider.tracer("test"), root: Context::new() });
        Harness {
            exporter,
            instance: Instance::new(source, InstanceLimits { max_open_spans }),
            mem: vec![0; 65536],
        }
    }

    /// Puts bytes at `at` and returns their guest slice.
    fn put(&mut self, at: u32, bytes: &[u8]) -> GuestSlice {
        self.mem[at as usize..at as usize + bytes.len()].copy_from_slice(bytes);
        GuestSlice { ptr: at, len: bytes.len() as u32 }
    }

    fn start(&mut self, name: &str, kind: i32, parent: i64, attrs: &[u8]) -> HostResult<Handle> {
        let n = self.put(0, name.as_bytes());
        let a = self.put(1024, attrs);
        self.instance.span_start(&GuestMemory::new(&self.mem), n, kind, parent, a)
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
    h.instance.span_add_event(&GuestMemory::new(&h.mem), s, name, attrs).unwrap();
    let ty = h.put(200, b"io");
    let msg = h.put(300, b"disk full");
    let empty = GuestSlice { ptr: 0, len: 0 };
    h.instance.span_record_exception(&GuestMemory::new(&h.mem), s, ty, msg, empty).unwrap();
    h.instance.span_set_status(&GuestMemory::new(&h.mem), s, 2, msg).unwrap();
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
    let mem = GuestMemory::new(&h.mem);
    let none = GuestSlice { ptr: 0, len: 0 };
    assert_eq!(h.instance.span_start(&mem, bad_name, 0, 0, none).unwrap_err().status(), Status::INVALID_UTF8);
    let outside = GuestSlice { ptr: 65530, len: 10 };
    assert_eq!(h.instance.span_start(&mem, outside, 0, 0, none).unwrap_err().status(), Status::OUT_OF_BOUNDS);
    let s = h.start("ok", 0, 0, &[]).unwrap() as i64;
    let mem = GuestMemory::new(&h.mem);
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
    let call = |h: &Harness, f: &str, args: &[i64]| {
        let (sig, body) = HOST_FUNCTIONS.iter().find(|(s, _)| s.name == f).unwrap();
        assert_eq!(sig.params.len(), args.len());
        body(&h.instance, &GuestMemory::new(&h.mem), args)
    };
    assert_eq!(call(&h, "abi_version", &[]), wasmedge_otel_abi::ABI_VERSION as i64);
    let s = call(&h, "span_start", &[name.ptr as i64, name.len as i64, 0, 0, 0, 0]);
    assert!(s > 0);
    assert_eq!(call(&h, "span_current", &[]), s);
    // A pointer near 4 GiB, passed as the negative i32 a guest would pass.
    assert_eq!(call(&h, "span_set_attributes", &[s, -16, 8]), Status::OUT_OF_BOUNDS.0 as i64);
    assert_eq!(call(&h, "span_end", &[s]), 0);
    assert_eq!(call(&h, "span_end", &[s]), Status::INVALID_HANDLE.0 as i64);
    assert_eq!(call(&h, "span_current", &[]), 0);
    assert_eq!(h.finished()[0].attributes, Vec::<KeyValue>::new());
    let _ = Value::from(1i64);
}
