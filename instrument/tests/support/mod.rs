//! Shared checks for the rewriter's tests: a decoded view of a module, and the invariants every
//! instrumented module must satisfy with respect to its input.
#![allow(dead_code)]

use std::collections::BTreeMap;

use wasmedge_otel_instrument::{instrument, Instrumented, Options, Registration};
use wasmparser::{
    ConstExpr, DataKind, ElementItems, ExternalKind, KnownCustom, Name, Operator, Parser, Payload, TypeRef,
    ValType,
};

/// A decoded module: what the checks look at.
#[derive(Debug, Default)]
pub struct Parsed<'a> {
    /// `(module, name, type index)` of each imported function, in order.
    pub func_imports: Vec<(String, String, u32)>,
    pub imported_globals: u32,
    /// Type index of every function (imports first).
    pub func_types: Vec<u32>,
    /// `(params, results)` of each type (None: not a function type).
    pub types: Vec<Option<(Vec<ValType>, Vec<ValType>)>>,
    /// Operators of each defined function (the final `end` included).
    pub bodies: Vec<Vec<Operator<'a>>>,
    pub start: Option<u32>,
    pub exports: Vec<(String, ExternalKind, u32)>,
    /// Every function index the element segments mention (indices and `ref.func`), in order.
    pub elem_funcs: Vec<u32>,
    /// `ref.func` in global initializers, in order.
    pub global_funcs: Vec<u32>,
    /// `(content type, mutable)` of defined globals.
    pub globals: Vec<(ValType, bool)>,
    /// `(passive, bytes)` of each data segment.
    pub data: Vec<(bool, &'a [u8])>,
    pub data_count: Option<u32>,
    pub memories: u32,
    /// Names of the custom sections, in order.
    pub customs: Vec<String>,
    pub func_names: BTreeMap<u32, String>,
    pub global_names: BTreeMap<u32, String>,
    pub data_names: BTreeMap<u32, String>,
    pub local_names: BTreeMap<u32, Vec<(u32, String)>>,
}

fn const_funcs(e: &ConstExpr<'_>, out: &mut Vec<u32>) {
    let mut r = e.get_operators_reader();
    while !r.eof() {
        if let Operator::RefFunc { function_index } = r.read().unwrap() {
            out.push(function_index);
        }
    }
}

impl<'a> Parsed<'a> {
    pub fn new(wasm: &'a [u8]) -> Self {
        let mut p = Parsed::default();
        for payload in Parser::new(0).parse_all(wasm) {
            match payload.unwrap() {
                Payload::TypeSection(r) => {
                    for g in r {
                        for sub in g.unwrap().types() {
                            p.types.push(match &sub.composite_type.inner {
                                wasmparser::CompositeInnerType::Func(f) => {
                                    Some((f.params().to_vec(), f.results().to_vec()))
                                }
                                _ => None,
                            });
                        }
                    }
                }
                Payload::ImportSection(r) => {
                    for i in r.into_imports() {
                        let i = i.unwrap();
                        match i.ty {
                            TypeRef::Func(t) => {
                                p.func_imports.push((i.module.into(), i.name.into(), t));
                                p.func_types.push(t);
                            }
                            TypeRef::Global(_) => p.imported_globals += 1,
                            TypeRef::Memory(_) => p.memories += 1,
                            _ => {}
                        }
                    }
                }
                Payload::FunctionSection(r) => p.func_types.extend(r.into_iter().map(|t| t.unwrap())),
                Payload::MemorySection(r) => p.memories += r.count(),
                Payload::GlobalSection(r) => {
                    for g in r {
                        let g = g.unwrap();
                        p.globals.push((g.ty.content_type, g.ty.mutable));
                        const_funcs(&g.init_expr, &mut p.global_funcs);
                    }
                }
                Payload::ExportSection(r) => {
                    for e in r {
                        let e = e.unwrap();
                        p.exports.push((e.name.into(), e.kind, e.index));
                    }
                }
                Payload::StartSection { func, .. } => p.start = Some(func),
                Payload::ElementSection(r) => {
                    for e in r {
                        match e.unwrap().items {
                            ElementItems::Functions(fs) => {
                                p.elem_funcs.extend(fs.into_iter().map(|f| f.unwrap()))
                            }
                            ElementItems::Expressions(_, es) => {
                                for e in es {
                                    const_funcs(&e.unwrap(), &mut p.elem_funcs);
                                }
                            }
                        }
                    }
                }
                Payload::DataCountSection { count, .. } => p.data_count = Some(count),
                Payload::DataSection(r) => {
                    for d in r {
                        let d = d.unwrap();
                        p.data.push((matches!(d.kind, DataKind::Passive), d.data));
                    }
                }
                Payload::CodeSectionEntry(body) => {
                    let mut r = body.get_operators_reader().unwrap();
                    let mut ops = Vec::new();
                    while !r.eof() {
                        ops.push(r.read().unwrap());
                    }
                    p.bodies.push(ops);
                }
                Payload::CustomSection(c) => {
                    p.customs.push(c.name().to_string());
                    if let KnownCustom::Name(names) = c.as_known() {
                        for sub in names {
                            match sub.unwrap() {
                                Name::Function(m) => {
                                    for n in m {
                                        let n = n.unwrap();
                                        p.func_names.insert(n.index, n.name.into());
                                    }
                                }
                                Name::Global(m) => {
                                    for n in m {
                                        let n = n.unwrap();
                                        p.global_names.insert(n.index, n.name.into());
                                    }
                                }
                                Name::Data(m) => {
                                    for n in m {
                                        let n = n.unwrap();
                                        p.data_names.insert(n.index, n.name.into());
                                    }
                                }
                                Name::Local(m) => {
                                    for n in m {
                                        let n = n.unwrap();
                                        let v = n
                                            .names
                                            .into_iter()
                                            .map(|x| x.unwrap())
                                            .map(|x| (x.index, x.name.into()));
                                        p.local_names.insert(n.index, v.collect());
                                    }
                                }
                                _ => {}
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        p
    }

    pub fn func_imports_count(&self) -> u32 {
        self.func_imports.len() as u32
    }

    /// Index of the imported function `wasmedge_otel.name`.
    pub fn otel_import(&self, name: &str) -> Option<u32> {
        self.func_imports.iter().position(|(m, n, _)| m == "wasmedge_otel" && n == name).map(|i| i as u32)
    }

    /// The operators of function `index` (which must be defined).
    pub fn body(&self, index: u32) -> &[Operator<'a>] {
        &self.bodies[(index - self.func_imports_count()) as usize]
    }

    /// Every function index mentioned in body `ops` (calls, tail calls, `ref.func`), in order.
    pub fn code_refs(ops: &[Operator<'_>]) -> Vec<u32> {
        ops.iter()
            .filter_map(|op| match op {
                Operator::Call { function_index }
                | Operator::ReturnCall { function_index }
                | Operator::RefFunc { function_index } => Some(*function_index),
                _ => None,
            })
            .collect()
    }
}

/// Decodes a names table: `(func_id, name)` entries.
pub fn decode_table(mut t: &[u8]) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    while !t.is_empty() {
        let id = u32::from_le_bytes(t[0..4].try_into().unwrap());
        let len = u32::from_le_bytes(t[4..8].try_into().unwrap()) as usize;
        out.push((id, String::from_utf8(t[8..8 + len].to_vec()).unwrap()));
        t = &t[8 + len..];
    }
    out
}

/// Instruments `wat` with `options` and checks every invariant.
pub fn run_wat(wat: &str, options: &Options) -> Instrumented {
    let input = wat::parse_str(wat).expect("test WAT parses");
    run(&input, options)
}

/// Instruments `input` with `options` and checks every invariant.
pub fn run(input: &[u8], options: &Options) -> Instrumented {
    let out = instrument(input, options).unwrap_or_else(|e| panic!("instrument failed: {e}"));
    check(input, &out);
    out
}

/// Prints a module as WAT (with names).
pub fn print(wasm: &[u8]) -> String {
    wasmprinter::print_bytes(wasm).unwrap()
}

/// The printed text of function `$name` (its header line and body), indentation trimmed.
pub fn func_text(printed: &str, name: &str) -> String {
    let head = format!("  (func ${name} ");
    let mut lines = printed.lines().skip_while(|l| !l.starts_with(&head));
    let first = lines.next().unwrap_or_else(|| panic!("no function ${name} in:\n{printed}"));
    let mut out = vec![first.trim().to_string()];
    for l in lines {
        if l.starts_with("  (") || l == "  )" || l == ")" {
            break;
        }
        out.push(l.trim_end().to_string());
    }
    out.join("\n")
}

/// The invariants of an instrumented module with respect to its input.
pub fn check(input: &[u8], out: &Instrumented) {
    let features = wasmedge_otel_instrument::features();
    wasmparser::Validator::new_with_features(features)
        .validate_all(&out.wasm)
        .unwrap_or_else(|e| panic!("output does not validate: {e}"));
    let report = &out.report;
    let a = Parsed::new(input);
    let b = Parsed::new(&out.wasm);
    assert_eq!(report.functions.len(), a.bodies.len(), "one report per defined function");
    assert_eq!(report.instrumented, report.functions.iter().filter(|f| f.decision.is_instrumented()).count());
    if report.instrumented == 0 {
        assert_eq!(out.wasm, input, "nothing selected: the input unchanged");
        return;
    }

    // Imports: the old ones first and unchanged, then the added ones.
    let imports_a = a.func_imports_count();
    let shift = report.added_imports.len() as u32;
    assert_eq!(b.func_imports_count(), imports_a + shift);
    assert_eq!(&b.func_imports[..imports_a as usize], &a.func_imports[..]);
    for (k, name) in report.added_imports.iter().enumerate() {
        let (m, n, _) = &b.func_imports[imports_a as usize + k];
        assert_eq!((m.as_str(), n.as_str()), ("wasmedge_otel", *name));
    }
    let map = |f: u32| if f < imports_a { f } else { f + shift };
    let enter = b.otel_import("func_enter").expect("func_enter imported");
    let exit = b.otel_import("func_exit").expect("func_exit imported");
    let names_import = b.otel_import("func_names");
    let sig = |p: &Parsed<'_>, f: u32| p.types[p.func_types[f as usize] as usize].clone().unwrap();
    assert_eq!(sig(&b, enter), (vec![ValType::I32], vec![ValType::I32]));
    assert_eq!(sig(&b, exit), (vec![ValType::I32], vec![ValType::I32]));

    // Defined functions: the old ones in order with their types, then register (if any), enter.
    let registered = matches!(report.registration, Registration::Registered { .. });
    let added_fns = 1 + registered as usize;
    assert_eq!(b.bodies.len(), a.bodies.len() + added_fns);
    for i in 0..a.bodies.len() as u32 {
        let f = imports_a + i;
        assert_eq!(sig(&a, f), sig(&b, map(f)), "function {f} keeps its type");
    }
    let enter_fn = b.func_types.len() as u32 - 1;
    assert_eq!(sig(&b, enter_fn), (vec![ValType::I32], vec![]));
    if a.customs.iter().any(|c| c == "name") {
        assert_eq!(b.func_names.get(&enter_fn).map(String::as_str), Some("__wasmedge_otel_enter"));
    }

    // Everything else that names a function is renumbered.
    assert_eq!(b.start, a.start.map(map), "start function");
    let exports = |p: &Parsed<'_>, m: &dyn Fn(u32) -> u32| -> Vec<(String, ExternalKind, u32)> {
        p.exports
            .iter()
            .map(|(n, k, i)| (n.clone(), *k, if *k == ExternalKind::Func { m(*i) } else { *i }))
            .collect()
    };
    assert_eq!(exports(&b, &|i| i), exports(&a, &map), "exports");
    assert_eq!(b.elem_funcs, a.elem_funcs.iter().map(|&f| map(f)).collect::<Vec<_>>(), "element segments");
    assert_eq!(
        b.global_funcs,
        a.global_funcs.iter().map(|&f| map(f)).collect::<Vec<_>>(),
        "global initializers"
    );
    for (&f, name) in &a.func_names {
        assert_eq!(b.func_names.get(&map(f)), Some(name), "name of function {f}");
    }
    for (&f, locals) in &a.local_names {
        assert_eq!(b.local_names.get(&map(f)), Some(locals), "local names of function {f}");
    }

    // Bodies.
    let probe = |f: u32| f == enter_fn || f == exit || Some(f) == names_import;
    for r in &report.functions {
        let before = a.body(r.id);
        let after = b.body(map(r.id));
        let refs_a: Vec<u32> = Parsed::code_refs(before).into_iter().map(map).collect();
        let refs_b: Vec<u32> = Parsed::code_refs(after).into_iter().filter(|&f| !probe(f)).collect();
        assert_eq!(refs_b, refs_a, "calls and ref.func of function {} renumbered", r.id);
        if !r.decision.is_instrumented() {
            assert_eq!(after.len(), before.len(), "function {} left alone", r.id);
            continue;
        }
        let id = Operator::I32Const { value: r.id as i32 };
        assert_eq!(after[0], id, "function {} starts with its id", r.id);
        assert_eq!(after[1], Operator::Call { function_index: enter_fn });
        assert!(matches!(after[2], Operator::Block { .. }), "then the body block");
        assert!(!after.contains(&Operator::Return), "no `return` left in function {}", r.id);
        let n = after.len();
        assert_eq!(
            after[n - 5..],
            [
                Operator::End,
                id.clone(),
                Operator::Call { function_index: exit },
                Operator::Drop,
                Operator::End
            ]
        );
        let tail_calls: Vec<usize> = after
            .iter()
            .enumerate()
            .filter(|(_, op)| {
                matches!(
                    op,
                    Operator::ReturnCall { .. }
                        | Operator::ReturnCallIndirect { .. }
                        | Operator::ReturnCallRef { .. }
                )
            })
            .map(|(i, _)| i)
            .collect();
        for &t in &tail_calls {
            assert_eq!(
                after[t - 3..t],
                [id.clone(), Operator::Call { function_index: exit }, Operator::Drop],
                "exit probe before a tail call"
            );
        }
        let exits = after.iter().filter(|op| **op == Operator::Call { function_index: exit }).count();
        assert_eq!(exits, 1 + tail_calls.len(), "one exit probe at the end and one per tail call");
        // Apart from the probes, the wrapper and `return` -> `br`, the body is the original's.
        let returns = before.iter().filter(|op| **op == Operator::Return).count();
        let brs_added = after.iter().filter(|op| matches!(op, Operator::Br { .. })).count()
            - before.iter().filter(|op| matches!(op, Operator::Br { .. })).count();
        assert_eq!(brs_added, returns, "each `return` became a `br`");
        assert_eq!(n, before.len() + 2 + 1 + 4 + 3 * tail_calls.len(), "body length of function {}", r.id);
    }

    // Debug sections are gone; the other custom sections stay, in order, plus the marker.
    let kept: Vec<&String> = a.customs.iter().filter(|c| !report.dropped_sections.contains(c)).collect();
    assert_eq!(b.customs.iter().filter(|c| *c != "wasmedge_otel.instrumented").collect::<Vec<_>>(), kept);
    assert_eq!(b.customs.last().map(String::as_str), Some("wasmedge_otel.instrumented"));
    assert!(!b.customs.iter().any(|c| c.starts_with(".debug_")));

    // The names table: one passive segment holding exactly the instrumented functions' names.
    match &report.registration {
        Registration::Registered { names, table_bytes, stack_pointer, .. } => {
            let names_import = names_import.expect("func_names imported");
            assert_eq!(sig(&b, names_import), (vec![ValType::I32, ValType::I32], vec![ValType::I32]));
            assert_eq!(b.data.len(), a.data.len() + 1);
            assert_eq!(b.data_count, Some(b.data.len() as u32), "data count section");
            let (passive, table) = b.data.last().unwrap();
            assert!(passive);
            assert_eq!(table.len(), *table_bytes);
            let decoded = decode_table(table);
            assert_eq!(decoded.len(), *names);
            let expected: Vec<(u32, String)> = report
                .functions
                .iter()
                .filter(|f| f.decision.is_instrumented())
                .filter_map(|f| f.name.as_ref().map(|n| (f.id, truncate(n))))
                .collect();
            assert_eq!(decoded, expected);
            let all_globals = b.imported_globals as usize + b.globals.len();
            assert_eq!(all_globals, a.imported_globals as usize + a.globals.len() + 1, "one flag global");
            assert_eq!(*b.globals.last().unwrap(), (ValType::I32, true));
            assert!((*stack_pointer as usize) < all_globals - 1);
            check_register_body(&b, names_import, table);
        }
        Registration::Skipped(_) => {
            assert_eq!(names_import, a.otel_import("func_names"));
            assert_eq!(b.data.len(), a.data.len());
            assert_eq!(b.globals.len(), a.globals.len());
        }
    }
}

/// Names longer than the ABI's limit are cut at a character boundary.
pub fn truncate(name: &str) -> String {
    let mut end = name.len().min(wasmedge_otel_instrument::abi::NAME_MAX);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    name[..end].to_string()
}

/// `$__wasmedge_otel_register` copies the table in consecutive parts of at most
/// `NAMES_CALL_MAX` bytes, each ending on an entry boundary, and passes each to `func_names`.
fn check_register_body(b: &Parsed<'_>, names_import: u32, table: &[u8]) {
    let register = b.func_types.len() as u32 - 2;
    let ops = b.body(register);
    let mut parts = Vec::new();
    for w in ops.windows(4) {
        if let [Operator::I32Const { value: off }, Operator::I32Const { value: len }, Operator::MemoryInit { .. }, _] =
            w
        {
            parts.push((*off as usize, *len as usize));
        }
    }
    let calls = ops.iter().filter(|op| **op == Operator::Call { function_index: names_import }).count();
    assert_eq!(calls, parts.len());
    let mut at = 0;
    for (off, len) in parts {
        assert_eq!(off, at, "parts are consecutive");
        assert!(len <= wasmedge_otel_instrument::abi::NAMES_CALL_MAX);
        assert!(!decode_table(&table[off..off + len]).is_empty(), "a part holds whole entries");
        at += len;
    }
    assert_eq!(at, table.len(), "the parts cover the table");
    assert!(ops.iter().any(|op| matches!(op, Operator::DataDrop { .. })));
}
