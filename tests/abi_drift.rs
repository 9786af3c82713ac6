//! The ABI is defined once, in `wasmedge-otel-abi`. These tests fail when `docs/ABI.md` or a guest
//! built with the bindings drifts from it. (The plugin registers its host functions from the same
//! crate, and `plugin/src/core/host.rs` checks its table against `FUNCTIONS`.)

use std::collections::BTreeMap;
use wasmedge_otel_abi::{wire, HostFunction, Status, ABI_VERSION, FUNCTIONS, MODULE_NAME};

fn signature(f: &HostFunction) -> String {
    let params: Vec<_> = f.params.iter().map(|p| format!("{}: {}", p.name, p.ty.wat_name())).collect();
    format!("{}({}) -> {}", f.name, params.join(", "), f.result.wat_name())
}

fn abi_md() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/ABI.md")).expect("read docs/ABI.md")
}

/// Table rows `| a | b | ...` of the doc whose first cell parses as an integer.
fn numbered_rows(doc: &str) -> Vec<(i64, String)> {
    doc.lines()
        .filter_map(|l| {
            let cells: Vec<_> = l.trim().trim_matches('|').split('|').map(str::trim).collect();
            Some((cells.first()?.parse().ok()?, cells.get(1)?.to_string()))
        })
        .collect()
}

#[test]
fn docs_list_every_function_with_its_exact_signature() {
    let doc = abi_md();
    let documented: Vec<&str> = doc
        .lines()
        .filter(|l| l.starts_with('`') && l.ends_with('`') && l.contains(") -> "))
        .map(|l| l.trim_matches('`'))
        .collect();
    let expected: Vec<String> = FUNCTIONS.iter().map(signature).collect();
    assert_eq!(documented, expected, "docs/ABI.md signatures (in order) vs wasmedge-otel-abi");
    for f in FUNCTIONS {
        assert!(doc.contains(&format!("### {}\n", f.name)), "docs/ABI.md has no section for {}", f.name);
    }
    assert!(doc.contains(&format!("Import module: `{MODULE_NAME}`")));
    assert!(doc.contains(&format!("ABI version: {ABI_VERSION} ")));
}

#[test]
fn docs_list_every_status_and_wire_tag() {
    let rows = numbered_rows(&abi_md());
    let statuses: Vec<_> = rows.iter().filter(|(n, _)| *n <= 0).cloned().collect();
    let expected: Vec<_> = Status::ALL.iter().map(|(s, name)| (s.0 as i64, name.to_string())).collect();
    assert_eq!(statuses, expected, "status table of docs/ABI.md");
    let tags: BTreeMap<_, _> = rows.into_iter().filter(|(n, _)| *n > 0).collect();
    let expected: BTreeMap<_, _> = wire::TAGS.iter().map(|(t, name)| (*t as i64, name.to_string())).collect();
    assert_eq!(tags, expected, "wire tag table of docs/ABI.md");
}

/// The guest programs of `examples/` (members of its workspace), each built to `<name>.wasm`.
fn example_members() -> Vec<String> {
    let manifest = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/Cargo.toml"))
        .expect("read examples/Cargo.toml");
    let line = manifest.lines().find(|l| l.trim_start().starts_with("members")).expect("members = [...]");
    let list =
        line.split_once('[').and_then(|(_, rest)| rest.split_once(']')).expect("one-line members list").0;
    list.split(',').map(|m| m.trim().trim_matches('"').to_owned()).filter(|m| !m.is_empty()).collect()
}

/// Functions each example must import (what its `main.rs` calls). More imports are fine as long as
/// the ABI defines them with the signatures checked below.
fn required_imports(example: &str) -> &'static [&'static str] {
    const TRACING: &[&str] = &["abi_version", "span_start", "span_end"];
    match example {
        "hello" => &[
            "abi_version",
            "span_start",
            "span_end",
            "span_set_attributes",
            "span_add_event",
            "span_set_status",
            "span_record_exception",
        ],
        "hello-world" => TRACING,
        "http-service" => {
            &["span_start_remote", "span_traceparent", "span_tracestate", "span_end", "log_emit"]
        }
        "all-signals" => {
            &["abi_version", "span_start", "span_end", "instrument_create", "metric_record_i64", "log_emit"]
        }
        "metrics-demo" => &[
            "abi_version",
            "span_start",
            "span_end",
            "span_set_attributes",
            "span_set_status",
            "instrument_create",
            "metric_bind",
            "metric_record_i64",
            "metric_record_f64",
            "metric_bound_record_i64",
            "log_emit",
        ],
        // Through the `tracing` and `log` bridges only.
        "tracing-demo" => &[
            "abi_version",
            "span_start",
            "span_end",
            "span_set_attributes",
            "span_add_event",
            "span_set_status",
            "log_emit",
        ],
        // The size baselines (`*-plain`) use no bindings; an example not listed here imports
        // whatever it calls, checked against the ABI all the same.
        _ => &[],
    }
}

/// The `wasmedge_otel` imports of a module, each checked against the ABI: `(name, params)`.
fn checked_imports(name: &str, wasm: &[u8]) -> Vec<(String, Vec<String>)> {
    let mut imports = Vec::new();
    let mut types = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        match payload.unwrap_or_else(|e| panic!("{name}.wasm is a valid module: {e}")) {
            wasmparser::Payload::TypeSection(reader) => {
                for ty in reader.into_iter_err_on_gc_types() {
                    types.push(ty.expect("function type"));
                }
            }
            wasmparser::Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let import = import.expect("import");
                    if import.module != MODULE_NAME {
                        continue;
                    }
                    let wasmparser::TypeRef::Func(index) = import.ty else {
                        panic!("{name}: {} is not a function import", import.name)
                    };
                    let f = FUNCTIONS.iter().find(|f| f.name == import.name).unwrap_or_else(|| {
                        panic!("{name} imports {} which the ABI does not define", import.name)
                    });
                    let ty = &types[index as usize];
                    let want: Vec<_> = f.params.iter().map(|p| p.ty.wat_name()).collect();
                    let got: Vec<_> = ty.params().iter().map(|t| t.to_string()).collect();
                    assert_eq!(got, want, "{name}: params of {}", f.name);
                    assert_eq!(
                        ty.results().iter().map(|t| t.to_string()).collect::<Vec<_>>(),
                        [f.result.wat_name()],
                        "{name}: result of {}",
                        f.name
                    );
                    imports.push((import.name.to_owned(), got));
                }
            }
            _ => {}
        }
    }
    imports
}

#[test]
fn guest_imports_match_the_abi() {
    let members = example_members();
    for required in ["hello", "hello-world", "all-signals", "metrics-demo"] {
        assert!(members.iter().any(|m| m == required), "examples/Cargo.toml builds {required}: {members:?}");
    }
    let mut f64_params = 0;
    for example in &members {
        let path = wasmedge_otel_tests::example(example);
        let wasm = std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        let imports = checked_imports(example, &wasm);
        let names: Vec<_> = imports.iter().map(|(n, _)| n.as_str()).collect();
        if example.ends_with("-plain") {
            assert_eq!(names, Vec::<&str>::new(), "{example} is a baseline without the bindings");
            continue;
        }
        assert!(!imports.is_empty(), "{example} imports from {MODULE_NAME}");
        for required in required_imports(example) {
            assert!(names.contains(required), "{example} imports {required}; it imports {names:?}");
        }
        f64_params += imports.iter().flat_map(|(_, params)| params).filter(|t| *t == "f64").count();
    }
    assert!(f64_params > 0, "an f64 parameter (metric_record_f64) was checked");
}

// ---------------------------------------------------------------------------------------------
// include/wasmedge_otel.h: its declarations are generated from the ABI crate.
// ---------------------------------------------------------------------------------------------

const HEADER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/include/wasmedge_otel.h");
const BEGIN_GENERATED: &str = "/* BEGIN GENERATED */";
const END_GENERATED: &str = "/* END GENERATED */";

/// `UpDownCounter` -> `UP_DOWN_COUNTER`.
fn screaming_snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.char_indices() {
        if c.is_ascii_uppercase()
            && i > 0
            && !name[..i].ends_with(|p: char| p.is_ascii_uppercase() || p == '_')
        {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// Every value of an ABI enumeration (decoded from 0 up until the first gap) with its name.
fn enum_values<T: std::fmt::Debug>(from_i32: fn(i32) -> Option<T>) -> Vec<(String, i32)> {
    (0..).map_while(|v| from_i32(v).map(|k| (screaming_snake(&format!("{k:?}")), v))).collect()
}

/// The doc comment of the `HostFunction` constant whose `name` is `function`, taken from the ABI
/// crate's source, as plain text lines (rustdoc links `[`X`]` become `X`).
fn function_doc(abi_src: &str, function: &str) -> Vec<String> {
    let lines: Vec<&str> = abi_src.lines().collect();
    let needle = format!("name: \"{function}\"");
    let Some(at) = lines.iter().position(|l| l.contains(&needle)) else { return Vec::new() };
    let Some(decl) = lines[..=at].iter().rposition(|l| l.trim_start().starts_with("pub const ")) else {
        return Vec::new();
    };
    let mut doc: Vec<String> = lines[..decl]
        .iter()
        .rev()
        .take_while(|l| l.trim_start().starts_with("///"))
        .map(|l| {
            let text = l.trim_start().trim_start_matches("///").trim();
            text.replace("[`", "`").replace("`]", "`").replace("*/", "* /")
        })
        .collect();
    doc.reverse();
    doc
}

/// The generated part of `include/wasmedge_otel.h`, markers included, from the ABI crate alone.
fn generated_header_part() -> String {
    use std::fmt::Write;
    use wasmedge_otel_abi::{limits, severity, InstrumentKind, SpanKind, StatusCode, ValueType};
    use wasmedge_otel_abi::{PARENT_CURRENT, PARENT_NONE};

    let abi_src = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/abi/src/lib.rs"))
        .expect("read abi/src/lib.rs");
    let define = |out: &mut String, name: &str, value: String| {
        writeln!(out, "#define WASMEDGE_OTEL_{name} {value}").unwrap();
    };
    let int = |v: i64| if v < 0 { format!("({v})") } else { v.to_string() };

    let mut h = String::new();
    writeln!(h, "{BEGIN_GENERATED}").unwrap();
    writeln!(
        h,
        "/* Generated from the wasmedge-otel-abi crate (abi/src/lib.rs) by tests/abi_drift.rs: do not edit\n \
         * by hand; run `make header` after changing the ABI. */\n"
    )
    .unwrap();

    writeln!(h, "/* Import module of the host functions, and the ABI version abi_version() returns. */")
        .unwrap();
    define(&mut h, "MODULE_NAME", format!("\"{MODULE_NAME}\""));
    define(&mut h, "ABI_VERSION", int(ABI_VERSION.into()));

    writeln!(
        h,
        "\n/* Status of a host call: 0 is success and every error is negative, so a function returning a\n \
                 * handle (> 0) returns these in the same int64_t. */"
    )
    .unwrap();
    for (status, name) in Status::ALL {
        define(&mut h, &format!("STATUS_{name}"), int(status.0.into()));
    }

    writeln!(h, "\n/* Span kinds: `kind` of span_start and span_start_remote. */").unwrap();
    for (name, v) in enum_values(SpanKind::from_i32) {
        define(&mut h, &format!("SPAN_KIND_{name}"), int(v.into()));
    }
    writeln!(h, "\n/* Span status codes: `code` of span_set_status. */").unwrap();
    for (name, v) in enum_values(StatusCode::from_i32) {
        define(&mut h, &format!("SPAN_STATUS_{name}"), int(v.into()));
    }
    writeln!(h, "\n/* `parent` of span_start: the current span (a root if none), or no local parent. */")
        .unwrap();
    define(&mut h, "PARENT_CURRENT", format!("(INT64_C({PARENT_CURRENT}))"));
    define(&mut h, "PARENT_NONE", format!("(INT64_C({PARENT_NONE}))"));
    writeln!(h, "\n/* Instrument kinds: `kind` of instrument_create. */").unwrap();
    for (name, v) in enum_values(InstrumentKind::from_i32) {
        define(&mut h, &format!("INSTRUMENT_{name}"), int(v.into()));
    }
    writeln!(h, "\n/* Value types: `value_type` of instrument_create. */").unwrap();
    for (name, v) in enum_values(ValueType::from_i32) {
        define(&mut h, &format!("VALUE_TYPE_{name}"), int(v.into()));
    }
    writeln!(
        h,
        "\n/* Severity numbers: `severity` of log_emit, 0 or 1..MAX (these are the first of each range). */"
    )
    .unwrap();
    for (name, v) in [
        ("UNSPECIFIED", severity::UNSPECIFIED),
        ("TRACE", severity::TRACE),
        ("DEBUG", severity::DEBUG),
        ("INFO", severity::INFO),
        ("WARN", severity::WARN),
        ("ERROR", severity::ERROR),
        ("FATAL", severity::FATAL),
        ("MAX", severity::MAX),
    ] {
        define(&mut h, &format!("SEVERITY_{name}"), int(v.into()));
    }
    writeln!(h, "\n/* Type tags of the attribute wire format. */").unwrap();
    for (tag, name) in wire::TAGS {
        define(&mut h, &format!("WIRE_{name}"), int((*tag).into()));
    }
    writeln!(h, "\n/* Default per-instance limits of the plugin (configurable on the host). */").unwrap();
    for (name, v) in [
        ("MAX_OPEN_SPANS", limits::MAX_OPEN_SPANS),
        ("MAX_BUFFER_LEN", limits::MAX_BUFFER_LEN),
        ("MAX_INSTRUMENTS", limits::MAX_INSTRUMENTS),
        ("MAX_BOUND_INSTRUMENTS", limits::MAX_BOUND_INSTRUMENTS),
        ("MAX_HISTOGRAM_BOUNDARIES", limits::MAX_HISTOGRAM_BOUNDARIES),
    ] {
        define(&mut h, name, v.to_string());
    }

    writeln!(h, "\n/* Host functions, in registration order. */").unwrap();
    for f in FUNCTIONS {
        writeln!(h).unwrap();
        let mut doc = function_doc(&abi_src, f.name);
        doc.push(format!("See docs/ABI.md, \"{}\".", f.name));
        for (i, line) in doc.iter().enumerate() {
            let open = if i == 0 { "/*" } else { " *" };
            writeln!(h, "{open} {line}").unwrap();
        }
        writeln!(h, " */").unwrap();
        let params: Vec<String> = f.params.iter().map(|p| format!("{} {}", p.ty.c_name(), p.name)).collect();
        let params = if params.is_empty() { "void".to_owned() } else { params.join(", ") };
        writeln!(h, "__attribute__((import_module(\"{MODULE_NAME}\"), import_name(\"{}\")))", f.name)
            .unwrap();
        writeln!(h, "{} wasmedge_otel_{}({params});", f.result.c_name(), f.name).unwrap();
    }
    write!(h, "{END_GENERATED}").unwrap();
    h
}

/// Checks the committed header's generated part against the ABI crate. With
/// `WASMEDGE_OTEL_BLESS_HEADER=1` (`make header`) it rewrites that part instead.
#[test]
fn c_header_declarations_match_the_abi() {
    let header = std::fs::read_to_string(HEADER).expect("read include/wasmedge_otel.h");
    let start = header.find(BEGIN_GENERATED).expect("the header has a BEGIN GENERATED marker");
    let end =
        header.find(END_GENERATED).expect("the header has an END GENERATED marker") + END_GENERATED.len();
    assert!(start < end, "BEGIN GENERATED comes before END GENERATED");
    let expected = generated_header_part();
    let committed = &header[start..end];
    if committed == expected {
        return;
    }
    if std::env::var_os("WASMEDGE_OTEL_BLESS_HEADER").is_some_and(|v| v == "1") {
        let updated = format!("{}{expected}{}", &header[..start], &header[end..]);
        std::fs::write(HEADER, updated).expect("write include/wasmedge_otel.h");
        eprintln!("regenerated the declarations of include/wasmedge_otel.h from the ABI");
        return;
    }
    let (got, want): (Vec<_>, Vec<_>) = (committed.lines().collect(), expected.lines().collect());
    let line = got.iter().zip(&want).position(|(a, b)| a != b).unwrap_or(got.len().min(want.len()));
    panic!(
        "include/wasmedge_otel.h has drifted from the ABI (wasmedge-otel-abi): first difference at line {} of \
         the generated part:\n  header: {:?}\n  ABI:    {:?}\nRun `make header` to regenerate it.",
        line + 1,
        got.get(line),
        want.get(line)
    );
}

/// Outside the generated part, the header declares no import of its own and defines no ABI value by
/// hand: those come only from the generated part.
#[test]
fn c_header_hand_written_part_declares_no_abi_items() {
    let header = std::fs::read_to_string(HEADER).expect("read include/wasmedge_otel.h");
    let (start, end) = (header.find(BEGIN_GENERATED).unwrap(), header.find(END_GENERATED).unwrap());
    let outside = format!("{}{}", &header[..start], &header[end..]);
    assert!(!outside.contains("import_name("), "imports are declared only in the generated part");
    for prefix in [
        "STATUS_",
        "SPAN_KIND_",
        "SPAN_STATUS_",
        "INSTRUMENT_",
        "VALUE_TYPE_",
        "SEVERITY_",
        "WIRE_",
        "PARENT_",
    ] {
        assert!(
            !outside.contains(&format!("#define WASMEDGE_OTEL_{prefix}")),
            "WASMEDGE_OTEL_{prefix}* is defined only in the generated part"
        );
    }
}
