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

#[test]
fn guest_imports_match_the_abi() {
    let wasm = std::fs::read(wasmedge_otel_tests::example("hello")).expect("read hello.wasm");
    let mut imported = 0;
    let mut types = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(&wasm) {
        match payload.expect("valid module") {
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
                        panic!("{} is not a function import", import.name)
                    };
                    let f = FUNCTIONS.iter().find(|f| f.name == import.name).unwrap_or_else(|| {
                        panic!("guest imports {} which the ABI does not define", import.name)
                    });
                    let ty = &types[index as usize];
                    let want: Vec<_> = f.params.iter().map(|p| p.ty.wat_name()).collect();
                    let got: Vec<_> = ty.params().iter().map(|t| t.to_string()).collect();
                    assert_eq!(got, want, "params of {}", f.name);
                    assert_eq!(
                        ty.results().iter().map(|t| t.to_string()).collect::<Vec<_>>(),
                        [f.result.wat_name()]
                    );
                    imported += 1;
                }
            }
            _ => {}
        }
    }
    assert!(imported >= 4, "hello imports the tracing functions ({imported} found)");
}
