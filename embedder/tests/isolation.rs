//! Isolation between guests in one embedding process (issue 6, item 5).
//!
//! Every guest runs in its own [`Sandbox`]: its own WASI module instance, its own `wasmedge_otel`
//! module instance and its own VM, all in this one process with one loaded plugin and one export
//! pipeline. Three properties are checked, each with WAT guests (the imports come from the ABI
//! crate) against a real OTLP/gRPC test collector:
//!
//! (a) `a_handle_from_another_instance_is_invalid_while_its_span_is_open`: two sandboxes A and B
//!     live side by side on one thread. The test drives them step by step through exported
//!     functions, so no rendezvous between guests is needed: A starts a span and returns its
//!     handle to the host, the host passes that number to B as an argument, and B uses it in
//!     every call that takes a handle while A's span is still open (likewise A with B's handle,
//!     and both with each other's instrument and bound-instrument handles). Every such call must
//!     get `INVALID_HANDLE` (-3), leave the intruder's own current span unchanged, and leave the
//!     owner's span intact: afterwards the owner can still parent a child on it and end it, and
//!     the collector shows no attribute, event or status the intruder tried to add.
//!
//! (b), (c) `concurrent_instances_*`: eight instances of one guest run at once, each on its own
//!     thread with its own sandbox (`run_concurrently`, as the example binary's `--instances 8`
//!     does); all call `_start` together (a barrier). Instance `i` learns its number from its WASI
//!     arguments and names its spans `<mode>-<i>`, `<mode>-<i>.child` and `<mode>-<i>.grandchild`.
//!     It starts a root, then 100 times a child and a grandchild, each with parent 0 (the
//!     instance's current span, no explicit parent), yielding the CPU (`sched_yield`) while they are
//!     open so that the instances interleave. After every start and end the guest checks that
//!     `span_current` is exactly the span it expects, and exits with a distinct code if not: that
//!     is (c), the current-span stack is per instance. The collector must then hold, for (b),
//!     exactly one trace per instance, containing exactly that instance's 201 spans, every child
//!     parented on its own root and every grandchild on the child of the same iteration. The test
//!     also measures from the received timestamps that the instances really overlapped (spans of
//!     other instances started while an instance's child was open). The guest runs interpreted
//!     and AOT-compiled (`wasmedge compile`).

mod common;

use common::*;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::process::Command;
use wasmedge_otel_embedder::{run_concurrently, Exit, WasiConfig};

const SERVICE: &str = "embedder-isolation";

fn collector() -> &'static Collector {
    init(&[
        ("OTEL_SERVICE_NAME", SERVICE),
        // 8 instances x 201 spans arrive at once: keep every one of them.
        ("OTEL_BSP_MAX_QUEUE_SIZE", "65536"),
        // Instance handles are checked here, not the metrics and logs exports.
        ("OTEL_METRICS_EXPORTER", "none"),
        ("OTEL_LOGS_EXPORTER", "none"),
    ])
}

/// A guest whose exports each make one host call with a handle given by the host. Its span and
/// instrument names start with `prefix`.
fn handle_guest(prefix: &str) -> String {
    let root = format!("{prefix}-root");
    let child = format!("{prefix}-child");
    let counter = format!("{prefix}.counter");
    format!(
        r#"(module
  {imports}
  (memory (export "memory") 1)
  (data (i32.const 0) "{root}")
  (data (i32.const 64) "{child}")
  ;; attributes: key "owner", STRING "intruder" (22 bytes)
  (data (i32.const 128) "\05\00\00\00owner\01\08\00\00\00intruder")
  (data (i32.const 192) "poke")
  (data (i32.const 256) "{counter}")
  (func (export "start") (result i64)
    (call $span_start (i32.const 0) (i32.const {root_len}) (i32.const 0) (i64.const 0) (i32.const 0) (i32.const 0)))
  (func (export "start_child") (param $parent i64) (result i64)
    (call $span_start (i32.const 64) (i32.const {child_len}) (i32.const 0) (local.get $parent) (i32.const 0) (i32.const 0)))
  (func (export "end") (param $h i64) (result i32)
    (call $span_end (local.get $h)))
  (func (export "set_attributes") (param $h i64) (result i32)
    (call $span_set_attributes (local.get $h) (i32.const 128) (i32.const 22)))
  (func (export "add_event") (param $h i64) (result i32)
    (call $span_add_event (local.get $h) (i32.const 192) (i32.const 4) (i32.const 0) (i32.const 0)))
  (func (export "set_status") (param $h i64) (result i32)
    (call $span_set_status (local.get $h) (i32.const 2) (i32.const 192) (i32.const 4)))
  (func (export "record_exception") (param $h i64) (result i32)
    (call $span_record_exception (local.get $h) (i32.const 192) (i32.const 4) (i32.const 192) (i32.const 4) (i32.const 0) (i32.const 0)))
  (func (export "traceparent") (param $h i64) (result i32)
    (call $span_traceparent (local.get $h) (i32.const 512) (i32.const 64)))
  (func (export "tracestate") (param $h i64) (result i32)
    (call $span_tracestate (local.get $h) (i32.const 512) (i32.const 64)))
  (func (export "current") (result i64)
    (call $span_current))
  (func (export "counter") (result i64)
    (call $instrument_create (i32.const 0) (i32.const 0) (i32.const 256) (i32.const {counter_len})
      (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)))
  (func (export "record") (param $h i64) (result i32)
    (call $metric_record_i64 (local.get $h) (i64.const 1) (i32.const 0) (i32.const 0)))
  (func (export "bind") (param $h i64) (result i64)
    (call $metric_bind (local.get $h) (i32.const 0) (i32.const 0)))
  (func (export "bound_record") (param $h i64) (result i32)
    (call $metric_bound_record_i64 (local.get $h) (i64.const 1)))
)"#,
        imports = wat_imports(),
        root_len = root.len(),
        child_len = child.len(),
        counter_len = counter.len(),
    )
}

/// The exports of [`handle_guest`] that take a span handle.
const SPAN_CALLS: [&str; 8] = [
    "start_child",
    "end",
    "set_attributes",
    "add_event",
    "set_status",
    "record_exception",
    "traceparent",
    "tracestate",
];

#[test]
fn a_handle_from_another_instance_is_invalid_while_its_span_is_open() {
    let collector = collector();
    let (mut sandbox_a, mut sandbox_b) = (sandbox(), sandbox());
    {
        let mut a = sandbox_a.vm().unwrap();
        a.register_module(None, module(&handle_guest("iso-a"))).unwrap();
        let mut b = sandbox_b.vm().unwrap();
        b.register_module(None, module(&handle_guest("iso-b"))).unwrap();

        // Both open a span; both create an instrument and bind it.
        let (span_a, span_b) = (call(&mut a, "start", &[]), call(&mut b, "start", &[]));
        let (counter_a, counter_b) = (call(&mut a, "counter", &[]), call(&mut b, "counter", &[]));
        let (bound_a, bound_b) = (call(&mut a, "bind", &[counter_a]), call(&mut b, "bind", &[counter_b]));
        for (what, h) in [("span", span_a), ("span", span_b), ("counter", counter_a)].into_iter().chain([
            ("counter", counter_b),
            ("bound", bound_a),
            ("bound", bound_b),
        ]) {
            assert!(h > 0, "{what} handle {h}");
        }
        eprintln!("span handles: A {span_a:#x}, B {span_b:#x}");
        assert_ne!(span_a, span_b, "the two instances' handle tables have different tags");

        // Each uses the other's handles while the other's span is open.
        for (intruder, who, own_span, span, counter, bound) in [
            (&mut b, "B with A's", span_b, span_a, counter_a, bound_a),
            (&mut a, "A with B's", span_a, span_b, counter_b, bound_b),
        ] {
            for f in SPAN_CALLS {
                assert_eq!(call(intruder, f, &[span]), INVALID_HANDLE, "{who} span handle {span:#x}: {f}");
            }
            assert_eq!(call(intruder, "record", &[counter]), INVALID_HANDLE, "{who} counter: record");
            assert_eq!(call(intruder, "bind", &[counter]), INVALID_HANDLE, "{who} counter: bind");
            assert_eq!(call(intruder, "bound_record", &[bound]), INVALID_HANDLE, "{who} bound instrument");
            assert_eq!(call(intruder, "current", &[]), own_span, "{who} handles: own current span unchanged");
        }

        // The owners' spans are untouched and still theirs: each parents a child and ends.
        for (vm, span) in [(&mut a, span_a), (&mut b, span_b)] {
            assert_eq!(call(vm, "current", &[]), span);
            let child = call(vm, "start_child", &[span]);
            assert!(child > 0, "child of the own span: {child}");
            assert_eq!(call(vm, "end", &[child]), 0);
            assert_eq!(call(vm, "end", &[span]), 0);
            assert_eq!(call(vm, "current", &[]), 0);
        }
        // Ended: stale in its own instance, still foreign in the other.
        assert_eq!(call(&mut a, "end", &[span_a]), INVALID_HANDLE);
        assert_eq!(call(&mut b, "end", &[span_a]), INVALID_HANDLE);
    }
    drop(sandbox_a);
    drop(sandbox_b);

    let spans = wait_for(collector, "iso-", 4);
    assert_eq!(spans.len(), 4, "only the spans the owners started: {:?}", names(&spans));
    let mut traces = HashSet::new();
    for x in ["a", "b"] {
        let root = one(&spans, &format!("iso-{x}-root"));
        let child = one(&spans, &format!("iso-{x}-child"));
        assert!(
            root.span.attributes.is_empty(),
            "iso-{x}-root: no intruder's attribute: {:?}",
            root.span.attributes
        );
        assert!(root.span.events.is_empty(), "iso-{x}-root: no intruder's event or exception");
        assert_eq!(status_code(root), 0, "iso-{x}-root: the intruder's status was refused");
        assert_eq!(child.parent_span_id_hex(), root.span_id_hex(), "iso-{x}-child is the owner's child");
        assert_eq!(child.trace_id_hex(), root.trace_id_hex());
        assert!(root.parent_span_id_hex().is_empty(), "iso-{x}-root is a root");
        traces.insert(root.trace_id_hex());
    }
    assert_eq!(traces.len(), 2, "one trace per instance");
}

/// Iterations of the child/grandchild loop of [`concurrent_guest`].
const ITERATIONS: usize = 100;
/// Instances run at once.
const INSTANCES: usize = 8;

/// The guest of the concurrency tests; `prefix` is 4 characters. Exit codes: 0 all checks held;
/// 1, 3, 5 a span did not start; 2, 4, 6, 8, 10, 12 `span_current` was not the expected span
/// (after starting the root, a child, a grandchild; after ending the grandchild, the child, the
/// root); 7, 9, 11 a span did not end; 20-22 bad WASI arguments.
fn concurrent_guest(prefix: &str) -> String {
    assert_eq!(prefix.len(), 4, "the digit offsets below assume a 4-character prefix");
    format!(
        r#"(module
  {imports}
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sched_yield" (func $sched_yield (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  ;; Span names; the '?' (offsets 5, 21, 37) becomes the instance's digit.
  (data (i32.const 0) "{prefix}-?")
  (data (i32.const 16) "{prefix}-?.child")
  (data (i32.const 32) "{prefix}-?.grandchild")
  ;; attributes: "instance" = I64 (value at 77), 21 bytes
  (data (i32.const 64) "\08\00\00\00instance\03\00\00\00\00\00\00\00\00")
  ;; attributes: "iteration" = I64 (value at 110), 22 bytes
  (data (i32.const 96) "\09\00\00\00iteration\03\00\00\00\00\00\00\00\00")
  (func $check (param $ok i32) (param $code i32)
    (if (i32.eqz (local.get $ok)) (then (call $proc_exit (local.get $code)))))
  (func (export "_start")
    (local $digit i32) (local $root i64) (local $child i64) (local $gc i64) (local $r i32)
    ;; argv = [program, "<i>"]: sizes at 1000, pointers at 1024, strings at 2048.
    (call $check (i32.eqz (call $args_sizes_get (i32.const 1000) (i32.const 1004))) (i32.const 20))
    (call $check (i32.eq (i32.load (i32.const 1000)) (i32.const 2)) (i32.const 21))
    (call $check (i32.eqz (call $args_get (i32.const 1024) (i32.const 2048))) (i32.const 22))
    (local.set $digit (i32.load8_u (i32.load (i32.const 1028))))
    (i32.store8 (i32.const 5) (local.get $digit))
    (i32.store8 (i32.const 21) (local.get $digit))
    (i32.store8 (i32.const 37) (local.get $digit))
    (i64.store (i32.const 77) (i64.extend_i32_u (i32.sub (local.get $digit) (i32.const 48))))

    (local.set $root (call $span_start (i32.const 0) (i32.const 6) (i32.const 1) (i64.const 0) (i32.const 64) (i32.const 21)))
    (call $check (i64.gt_s (local.get $root) (i64.const 0)) (i32.const 1))
    (call $check (i64.eq (call $span_current) (local.get $root)) (i32.const 2))
    (loop $next
      (i64.store (i32.const 110) (i64.extend_i32_u (local.get $r)))
      (local.set $child (call $span_start (i32.const 16) (i32.const 12) (i32.const 0) (i64.const 0) (i32.const 96) (i32.const 22)))
      (call $check (i64.gt_s (local.get $child) (i64.const 0)) (i32.const 3))
      (call $check (i64.eq (call $span_current) (local.get $child)) (i32.const 4))
      (drop (call $sched_yield))
      (local.set $gc (call $span_start (i32.const 32) (i32.const 17) (i32.const 0) (i64.const 0) (i32.const 96) (i32.const 22)))
      (call $check (i64.gt_s (local.get $gc) (i64.const 0)) (i32.const 5))
      (call $check (i64.eq (call $span_current) (local.get $gc)) (i32.const 6))
      (drop (call $sched_yield))
      (call $check (i32.eqz (call $span_end (local.get $gc))) (i32.const 7))
      (call $check (i64.eq (call $span_current) (local.get $child)) (i32.const 8))
      (call $check (i32.eqz (call $span_end (local.get $child))) (i32.const 9))
      (call $check (i64.eq (call $span_current) (local.get $root)) (i32.const 10))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $r) (i32.const {ITERATIONS}))))
    (call $check (i32.eqz (call $span_end (local.get $root))) (i32.const 11))
    (call $check (i64.eqz (call $span_current)) (i32.const 12)))
)"#,
        imports = wat_imports(),
    )
}

fn aot(wasm: &std::path::Path) -> PathBuf {
    let out = wasm.with_file_name(format!("{}_aot.wasm", wasm.file_stem().unwrap().to_string_lossy()));
    let output =
        Command::new("wasmedge").arg("compile").arg(wasm).arg(&out).output().expect("run wasmedge compile");
    assert!(output.status.success(), "wasmedge compile: {}", String::from_utf8_lossy(&output.stderr));
    out
}

fn concurrent_instances(prefix: &str, compile: bool) {
    let collector = collector();
    let mut wasm = wasm_file(prefix, &concurrent_guest(prefix));
    if compile {
        wasm = aot(&wasm);
    }
    let exits = run_concurrently(&wasm, INSTANCES, |i| WasiConfig {
        args: vec![wasm.display().to_string(), i.to_string()],
        ..WasiConfig::default()
    });
    for (i, exit) in exits.iter().enumerate() {
        assert_eq!(
            exit.as_ref().ok(),
            Some(&Exit::Code(0)),
            "instance {i}: {exit:?} (codes: see concurrent_guest)"
        );
    }

    let per_instance = 1 + 2 * ITERATIONS;
    let spans = wait_for(collector, &format!("{prefix}-"), INSTANCES * per_instance);
    assert_eq!(spans.len(), INSTANCES * per_instance, "no more spans than the guests started");
    let instance_of = |name: &str| -> usize { name[prefix.len() + 1..prefix.len() + 2].parse().unwrap() };

    // (b) One root per instance, each in a trace of its own.
    let roots: Vec<_> = (0..INSTANCES).map(|i| one(&spans, &format!("{prefix}-{i}"))).collect();
    let traces: HashSet<_> = roots.iter().map(|r| r.trace_id_hex()).collect();
    assert_eq!(traces.len(), INSTANCES, "one trace per instance");
    let mut children: HashMap<(usize, i64), String> = HashMap::new();
    for (i, root) in roots.iter().enumerate() {
        assert!(root.parent_span_id_hex().is_empty(), "{prefix}-{i} is a root");
        assert_eq!(int_attr(root, "instance"), Some(i as i64));
        assert_eq!(
            resource_str(root, "service.name").as_deref(),
            Some(SERVICE),
            "service.name is per process"
        );
    }
    // Every span is in its own instance's trace, children under its root...
    for s in &spans {
        let i = instance_of(&s.span.name);
        assert_eq!(s.trace_id_hex(), roots[i].trace_id_hex(), "{} is in its instance's trace", s.span.name);
        if s.span.name.ends_with(".child") {
            assert_eq!(
                s.parent_span_id_hex(),
                roots[i].span_id_hex(),
                "{} is a child of its own root",
                s.span.name
            );
            let iteration = int_attr(s, "iteration").expect("iteration");
            assert!(children.insert((i, iteration), s.span_id_hex()).is_none(), "one child per iteration");
        }
    }
    // ... and grandchildren under the child of the same instance and iteration.
    let mut grandchildren = 0;
    for s in spans.iter().filter(|s| s.span.name.ends_with(".grandchild")) {
        let key = (instance_of(&s.span.name), int_attr(s, "iteration").expect("iteration"));
        assert_eq!(
            Some(&s.parent_span_id_hex()),
            children.get(&key),
            "{} {key:?} under its own child",
            s.span.name
        );
        grandchildren += 1;
    }
    assert_eq!(children.len(), INSTANCES * ITERATIONS);
    assert_eq!(grandchildren, INSTANCES * ITERATIONS);

    // The instances really ran at once: spans of other instances started while a child was open,
    // and root intervals overlapped.
    let interleaved = spans
        .iter()
        .filter(|c| c.span.name.ends_with(".child"))
        .filter(|c| {
            let i = instance_of(&c.span.name);
            spans.iter().any(|o| {
                instance_of(&o.span.name) != i
                    && (c.span.start_time_unix_nano..=c.span.end_time_unix_nano)
                        .contains(&o.span.start_time_unix_nano)
            })
        })
        .count();
    let most_open_roots = roots
        .iter()
        .map(|r| {
            let t = r.span.start_time_unix_nano;
            roots
                .iter()
                .filter(|o| o.span.start_time_unix_nano <= t && t <= o.span.end_time_unix_nano)
                .count()
        })
        .max()
        .unwrap_or(0);
    eprintln!(
        "{prefix}: {interleaved} of {} children had another instance's span start inside them; \
         up to {most_open_roots} of {INSTANCES} roots open at once",
        INSTANCES * ITERATIONS
    );
    assert!(
        interleaved > 0 && most_open_roots >= 2,
        "the instances did not overlap; the test proved nothing"
    );
}

#[test]
fn concurrent_instances_keep_their_own_trees_and_current_spans_interpreted() {
    concurrent_instances("intp", false);
}

#[test]
fn concurrent_instances_keep_their_own_trees_and_current_spans_aot() {
    concurrent_instances("aotc", true);
}

fn names(spans: &[ReceivedSpan]) -> Vec<&str> {
    spans.iter().map(|s| s.span.name.as_str()).collect()
}
