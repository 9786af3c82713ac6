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
        "http-service" => &["span_start_remote", "span_traceparent", "span_tracestate", "span_end", "log_emit"],
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
