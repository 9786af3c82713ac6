//! C and C++ guests built with clang and wasi-libc against `include/wasmedge_otel.h`, run under the
//! real `wasmedge` CLI with the plugin, interpreted and AOT-compiled: `examples/c-hello/hello.c`
//! exports exactly the tree, attributes, metrics and log record its header comment documents, and
//! `hello.cpp` nests spans with a C++ guard. The header also compiles warning-free as C and C++,
//! and its attribute helpers produce the ABI's wire format byte for byte.
//!
//! The guests are compiled here (not by build.rs), so `cargo test` alone needs clang, wasm-ld
//! (lld), wasi-libc and compiler-rt's wasm32 builtins: `make setup` installs them.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::metrics::v1::number_data_point::Value as N;
use wasmedge_otel_abi::wire;
use wasmedge_otel_tests::*;

// OTLP enumerations.
const INTERNAL: i32 = 1;
const SERVER: i32 = 2;
const STATUS_UNSET: i32 = 0;
const STATUS_ERROR: i32 = 2;
const CUMULATIVE: i32 = 2;
const SEVERITY_WARN: i32 = 13;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The WASI sysroot: `$WASI_SYSROOT`, else wasi-sdk's layout if present, else Debian's multiarch
/// one under /usr (the same choice as the Makefile's `c-guests`).
fn wasi_sysroot() -> PathBuf {
    if let Some(dir) = std::env::var_os("WASI_SYSROOT") {
        return dir.into();
    }
    let sdk = Path::new("/usr/share/wasi-sysroot");
    if sdk.is_dir() {
        sdk.into()
    } else {
        "/usr".into()
    }
}

/// Runs clang (`clang` or `clang++`) for wasm32-wasi with `args`; panics with its diagnostics (or
/// with what to install) when it fails.
fn clang(compiler: &str, args: &[&str]) {
    let output = Command::new(compiler)
        .args(["--target=wasm32-wasi", "-O2", "-Wall", "-Wextra", "-Wpedantic", "-Werror"])
        .arg(format!("--sysroot={}", wasi_sysroot().display()))
        .arg(format!("-I{}", repo().join("include").display()))
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {compiler} ({e}): C guests need clang, lld, wasi-libc and libclang-rt-dev-wasm32 \
                 (`make setup` installs them)"
            )
        });
    assert!(
        output.status.success(),
        "{compiler} {args:?} failed (missing wasi-libc, wasm-ld or libclang_rt.builtins-wasm32.a? `make setup` \
         installs them):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Compiles a C or C++ guest of `examples/c-hello` into the scratch directory, once per process.
fn c_guest(name: &str) -> PathBuf {
    static C: OnceLock<PathBuf> = OnceLock::new();
    static CPP: OnceLock<PathBuf> = OnceLock::new();
    let build = |source: &str, out: &str, compiler: &str, flags: &[&str]| {
        let out = scratch_dir().join(out);
        let source = repo().join("examples/c-hello").join(source);
        let mut args: Vec<&str> = flags.to_vec();
        let (source, out_str) = (source.to_string_lossy().into_owned(), out.to_string_lossy().into_owned());
        args.extend([source.as_str(), "-o", out_str.as_str()]);
        clang(compiler, &args);
        out
    };
    match name {
        "hello_c" => C.get_or_init(|| build("hello.c", "hello_c.wasm", "clang", &["-std=c99"])).clone(),
        "hello_cpp" => CPP
            .get_or_init(|| {
                build(
                    "hello.cpp",
                    "hello_cpp.wasm",
                    "clang++",
                    &["-std=c++17", "-fno-exceptions", "-fno-rtti", "-nostdlib++"],
                )
            })
            .clone(),
        other => panic!("no C guest {other}"),
    }
}

fn status(s: &ReceivedSpan) -> (i32, String) {
    s.span.status.as_ref().map_or((STATUS_UNSET, String::new()), |st| (st.code, st.message.clone()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn body(record: &LogRecord) -> String {
    match record.body.as_ref().and_then(|b| b.value.as_ref()) {
        Some(Value::StringValue(s)) => s.clone(),
        other => format!("{other:?}"),
    }
}

fn check_spans(spans: &[ReceivedSpan], mode: Mode) {
    assert_eq!(names(spans), ["divide", "hello-c", "parse"], "{mode:?}");
    let [root, parse, divide] = ["hello-c", "parse", "divide"].map(|n| span(spans, n));
    let trace = root.trace_id_hex();
    assert!(spans.iter().all(|s| s.trace_id_hex() == trace), "{mode:?}: one trace");
    assert_eq!(root.parent_span_id_hex(), "", "{mode:?}: hello-c is the root");
    assert_eq!(parse.parent_span_id_hex(), root.span_id_hex(), "{mode:?}: parse under hello-c");
    assert_eq!(
        divide.parent_span_id_hex(),
        root.span_id_hex(),
        "{mode:?}: divide under hello-c, after parse ended"
    );
    assert_eq!([root, parse, divide].map(|s| s.span.kind), [SERVER, INTERNAL, INTERNAL], "{mode:?}");

    assert_eq!(
        typed_attrs(&root.span.attributes),
        ["app.language=s:\"c\"", "app.name=s:\"hello-c\"", "app.version=i:1"],
        "{mode:?}"
    );
    assert_eq!(
        typed_attrs(&parse.span.attributes),
        [
            "input.count=i:4",
            "input.flags=[b:true, b:false]",
            "input.tags=[s:\"a\", s:\"b\"]",
            "input.valid=b:true",
            "input.values=[i:1, i:2, i:3, i:7]",
            "input.weights=[f:0.5, f:1.5]",
        ],
        "{mode:?}"
    );
    assert_eq!(
        typed_attrs(&divide.span.attributes),
        ["divide.denominator=i:0", "divide.mean=f:3.25", "divide.numerator=i:13"],
        "{mode:?}"
    );

    assert_eq!(parse.span.events.len(), 1, "{mode:?}");
    assert_eq!(parse.span.events[0].name, "parsed");
    assert_eq!(typed_attrs(&parse.span.events[0].attributes), ["parse.source=s:\"static\""]);
    assert_eq!(divide.span.events.len(), 1, "{mode:?}");
    assert_eq!(divide.span.events[0].name, "exception");
    assert_eq!(
        typed_attrs(&divide.span.events[0].attributes),
        [
            "divide.numerator=i:13",
            "exception.message=s:\"division by zero\"",
            "exception.type=s:\"DivisionByZero\""
        ],
        "{mode:?}"
    );
    assert!(root.span.events.is_empty());

    assert_eq!(status(divide), (STATUS_ERROR, "division by zero".into()), "{mode:?}");
    assert_eq!(status(parse).0, STATUS_UNSET);
    assert_eq!(status(root).0, STATUS_UNSET);

    for child in [parse, divide] {
        assert!(child.span.start_time_unix_nano >= root.span.start_time_unix_nano);
        assert!(
            child.span.end_time_unix_nano <= root.span.end_time_unix_nano,
            "{} ends in hello-c",
            child.span.name
        );
    }
    assert!(
        parse.span.end_time_unix_nano <= divide.span.start_time_unix_nano,
        "{mode:?}: parse, then divide"
    );
    assert!(spans.iter().all(|s| s.scope_name == "wasmedge_otel"));
}

fn check_metrics(c: &Collector, mode: Mode) {
    let ops = last_metric(c, "c_hello.operations").unwrap_or_else(|| panic!("{mode:?}: c_hello.operations"));
    assert_eq!((ops.unit.as_str(), ops.description.as_str()), ("{operation}", "Operations attempted"));
    let Some(Data::Sum(sum)) = &ops.data else { panic!("{mode:?}: c_hello.operations is a sum: {ops:?}") };
    assert!(sum.is_monotonic, "a counter");
    assert_eq!(sum.aggregation_temporality, CUMULATIVE);
    let mut points: Vec<_> = sum.data_points.iter().map(|p| (typed_attrs(&p.attributes), p.value)).collect();
    points.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        points,
        [
            (vec!["operation=s:\"divide\"".to_owned()], Some(N::AsInt(1))),
            (vec!["operation=s:\"parse\"".to_owned()], Some(N::AsInt(1))),
        ],
        "{mode:?}: c_hello.operations"
    );

    let mean = last_metric(c, "c_hello.input.mean").unwrap_or_else(|| panic!("{mode:?}: c_hello.input.mean"));
    assert_eq!((mean.unit.as_str(), mean.description.as_str()), ("1", "Mean of the input values"));
    let Some(Data::Histogram(h)) = &mean.data else { panic!("{mode:?}: c_hello.input.mean is a histogram") };
    assert_eq!(h.data_points.len(), 1, "{mode:?}");
    let p = &h.data_points[0];
    assert!(p.attributes.is_empty());
    assert_eq!((p.count, p.sum), (1, Some(3.25)), "{mode:?}: one value, 3.25");
    assert_eq!(p.explicit_bounds, [1.0, 2.5, 5.0], "{mode:?}: the boundaries given from C");
    assert_eq!(p.bucket_counts, [0, 0, 1, 0], "{mode:?}: 3.25 in (2.5, 5]");
}

fn check_log(logs: &[LogRecord], spans: &[ReceivedSpan], mode: Mode) {
    assert_eq!(logs.len(), 1, "{mode:?}: one log record");
    let record = &logs[0];
    assert_eq!(
        (record.severity_number, record.severity_text.as_str(), body(record).as_str()),
        (SEVERITY_WARN, "WARN", "division by zero in divide"),
        "{mode:?}"
    );
    assert_eq!(typed_attrs(&record.attributes), ["divide.numerator=i:13"], "{mode:?}");
    let divide = span(spans, "divide");
    assert_eq!(hex(&record.trace_id), divide.trace_id_hex(), "{mode:?}: correlated with divide");
    assert_eq!(hex(&record.span_id), divide.span_id_hex(), "{mode:?}: correlated with divide");
}

#[test]
fn c_hello_exports_its_documented_tree_metrics_and_log_interpreted_and_aot() {
    let wasm = c_guest("hello_c");
    for mode in MODES {
        let c = collector();
        let module = for_mode(&wasm, mode);
        let out = Run::new(&module, &c.endpoint()).output();
        assert_exit(&out, 0);
        assert_eq!(String::from_utf8_lossy(&out.stdout), "hello from C: sum=13 mean=3.25\n", "{mode:?}");
        let spans = c.wait_for_spans(3, ARRIVAL_TIMEOUT).unwrap_or_else(|e| panic!("{mode:?}: {e}"));
        wait_for_metrics_and_logs(&c);
        assert_eq!(c.spans().len(), 3, "{mode:?}: nothing more than the tree");
        check_spans(&spans, mode);
        check_metrics(&c, mode);
        check_log(&log_records(&c), &spans, mode);

        let stem = module.file_stem().unwrap().to_string_lossy().into_owned();
        let root = span(&spans, "hello-c");
        assert_eq!(root.resource_attr("service.name").map(typed), Some(format!("s:{stem:?}")), "{mode:?}");
    }
}

#[test]
fn cpp_guest_nests_spans_with_a_scoped_guard_interpreted_and_aot() {
    let wasm = c_guest("hello_cpp");
    for mode in MODES {
        let c = collector();
        let out = Run::new(&for_mode(&wasm, mode), &c.endpoint()).output();
        assert_exit(&out, 0);
        assert_eq!(String::from_utf8_lossy(&out.stdout), "hello from C++: 3 items\n", "{mode:?}");
        let spans = c.wait_for_spans(4, ARRIVAL_TIMEOUT).unwrap_or_else(|e| panic!("{mode:?}: {e}"));
        assert_eq!(names(&spans), ["item", "item", "item", "request"], "{mode:?}");
        let request = span(&spans, "request");
        assert_eq!(request.span.kind, SERVER);
        assert_eq!(request.parent_span_id_hex(), "");
        assert_eq!(typed_attrs(&request.span.attributes), ["cpp.items=i:3", "cpp.standard=i:201703"]);
        let mut items: Vec<_> = spans
            .iter()
            .filter(|s| s.span.name == "item")
            .map(|s| {
                assert_eq!(s.parent_span_id_hex(), request.span_id_hex(), "{mode:?}: item under request");
                assert_eq!(s.span.kind, INTERNAL);
                typed_attrs(&s.span.attributes)
            })
            .collect();
        items.sort();
        assert_eq!(items, [["item.index=i:0"], ["item.index=i:1"], ["item.index=i:2"]], "{mode:?}");
    }
}

#[test]
fn header_compiles_without_warnings_as_c_and_cpp() {
    let dir = scratch_dir().join("header-check");
    std::fs::create_dir_all(&dir).unwrap();
    let program = "#include \"wasmedge_otel.h\"\n\
        int main(void) {\n\
          uint8_t storage[64];\n\
          wasmedge_otel_attrs attrs;\n\
          wasmedge_otel_attrs_init(&attrs, storage, sizeof storage);\n\
          wasmedge_otel_attr_i64(&attrs, \"k\", 1);\n\
          int64_t span = wasmedge_otel_span_start(WASMEDGE_OTEL_STR(\"main\"), WASMEDGE_OTEL_SPAN_KIND_INTERNAL,\n\
                                                  WASMEDGE_OTEL_PARENT_CURRENT, WASMEDGE_OTEL_ATTRS(&attrs));\n\
          return wasmedge_otel_span_end(span) == WASMEDGE_OTEL_STATUS_OK ? 0 : 1;\n\
        }\n";
    let (c, cpp) = (dir.join("check.c"), dir.join("check.cpp"));
    std::fs::write(&c, program).unwrap();
    std::fs::write(&cpp, program).unwrap();
    let strict_c = ["-Wconversion", "-Wsign-conversion", "-Wshadow", "-Wstrict-prototypes", "-Wcast-qual"];
    let strict_cpp = [
        "-Wconversion",
        "-Wsign-conversion",
        "-Wshadow",
        "-Wold-style-cast",
        "-Wzero-as-null-pointer-constant",
    ];
    for std in ["-std=c99", "-std=c11", "-std=gnu17"] {
        let mut args = vec![std, "-fsyntax-only"];
        args.extend(strict_c);
        args.push(c.to_str().unwrap());
        clang("clang", &args);
    }
    for std in ["-std=c++11", "-std=c++17", "-std=c++20"] {
        let mut args = vec![std, "-fsyntax-only"];
        args.extend(strict_cpp);
        args.push(cpp.to_str().unwrap());
        clang("clang++", &args);
    }
}

/// The ABI's wire format, encoded independently of the header: `key_len:u32 key tag value`.
fn attr(key: &str, tag: u8, value: &[u8]) -> Vec<u8> {
    let mut v = (key.len() as u32).to_le_bytes().to_vec();
    v.extend(key.as_bytes());
    v.push(tag);
    v.extend(value);
    v
}

fn counted(count: usize, elements: impl IntoIterator<Item = Vec<u8>>) -> Vec<u8> {
    let mut v = (count as u32).to_le_bytes().to_vec();
    v.extend(elements.into_iter().flatten());
    v
}

fn string(s: &str) -> Vec<u8> {
    counted(s.len(), [s.as_bytes().to_vec()])
}

#[test]
fn attribute_helpers_encode_the_wire_format_and_refuse_what_does_not_fit() {
    // Each line of output: a case name, the helpers' status and the buffer in hex.
    let program = r#"
#include <stdio.h>
#include "wasmedge_otel.h"

static void dump(const char *name, const wasmedge_otel_attrs *a) {
  printf("%s %d ", name, (int)a->status);
  for (uint32_t i = 0; i < a->len; i++) printf("%02x", a->buf[i]);
  printf("\n");
}

int main(void) {
  static const char *const strs[] = {"x", "", "yz"};
  static const int bools[] = {1, 0, 7};
  static const int64_t ints[] = {-1, 0, 9007199254740993};
  static const double floats[] = {-0.5, 1e300};
  static const char with_nul[] = {'a', 0, 'b'};
  uint8_t storage[512];
  wasmedge_otel_attrs a;
  wasmedge_otel_attrs_init(&a, storage, sizeof storage);
  wasmedge_otel_attr_str(&a, "s", "héllo");
  wasmedge_otel_attr_strn(&a, "n", with_nul, sizeof with_nul);
  wasmedge_otel_attr_bool(&a, "b", 42);
  wasmedge_otel_attr_bool(&a, "f", 0);
  wasmedge_otel_attr_i64(&a, "i", INT64_MIN);
  wasmedge_otel_attr_f64(&a, "d", 0.1);
  wasmedge_otel_attr_str_array(&a, "sa", strs, 3);
  wasmedge_otel_attr_bool_array(&a, "ba", bools, 3);
  wasmedge_otel_attr_i64_array(&a, "ia", ints, 3);
  wasmedge_otel_attr_f64_array(&a, "fa", floats, 2);
  wasmedge_otel_attr_i64_array(&a, "empty", ints, 0);
  dump("all", &a);

  /* 14 bytes hold "k" = i64 (1 + 5 + 8), not one byte less; a failure is kept and the buffer
   * keeps its whole attributes. */
  wasmedge_otel_attrs_init(&a, storage, 14);
  wasmedge_otel_attr_i64(&a, "k", 1);
  dump("exact", &a);
  wasmedge_otel_attr_bool(&a, "x", 1);
  wasmedge_otel_attr_str(&a, "", "");
  dump("full", &a);
  wasmedge_otel_attrs_clear(&a);
  wasmedge_otel_attr_str(&a, "", "v");
  wasmedge_otel_attr_i64(&a, "k", 1);
  dump("empty-key", &a);
  wasmedge_otel_attrs_init(&a, storage, 0);
  wasmedge_otel_attr_bool(&a, "k", 1);
  dump("zero", &a);
  return 0;
}
"#;
    let dir = scratch_dir().join("wire-check");
    std::fs::create_dir_all(&dir).unwrap();
    let (source, wasm) = (dir.join("wire.c"), dir.join("wire.wasm"));
    std::fs::write(&source, program).unwrap();
    clang("clang", &["-std=c99", source.to_str().unwrap(), "-o", wasm.to_str().unwrap()]);
    // The program imports nothing from the plugin (unused declarations are not imported).
    let out = Command::new("wasmedge").arg(&wasm).output().expect("run wasmedge");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let cases: Vec<(&str, &str, &str)> = stdout
        .lines()
        .map(|l| {
            let mut parts = l.splitn(3, ' ');
            (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap_or(""))
        })
        .collect();

    let all: Vec<u8> = [
        attr("s", wire::STRING, &string("héllo")),
        attr("n", wire::STRING, &counted(3, [b"a\0b".to_vec()])),
        attr("b", wire::BOOL, &[1]),
        attr("f", wire::BOOL, &[0]),
        attr("i", wire::I64, &i64::MIN.to_le_bytes()),
        attr("d", wire::F64, &0.1f64.to_le_bytes()),
        attr("sa", wire::STRING_ARRAY, &counted(3, ["x", "", "yz"].map(string))),
        attr("ba", wire::BOOL_ARRAY, &counted(3, [vec![1], vec![0], vec![1]])),
        attr(
            "ia",
            wire::I64_ARRAY,
            &counted(3, [-1i64, 0, 9007199254740993].map(|v| v.to_le_bytes().to_vec())),
        ),
        attr("fa", wire::F64_ARRAY, &counted(2, [-0.5f64, 1e300].map(|v| v.to_le_bytes().to_vec()))),
        attr("empty", wire::I64_ARRAY, &counted(0, [])),
    ]
    .concat();
    let k1 = hex(&attr("k", wire::I64, &1i64.to_le_bytes()));
    let (ok, malformed, limit) = (
        wasmedge_otel_abi::Status::OK.0.to_string(),
        wasmedge_otel_abi::Status::MALFORMED.0.to_string(),
        wasmedge_otel_abi::Status::LIMIT_EXCEEDED.0.to_string(),
    );
    assert_eq!(
        cases,
        [
            ("all", ok.as_str(), hex(&all).as_str()),
            ("exact", ok.as_str(), k1.as_str()),
            ("full", limit.as_str(), k1.as_str()),
            ("empty-key", malformed.as_str(), ""),
            ("zero", limit.as_str(), ""),
        ]
    );
}
