//! The rewriter on hand-written modules, one edge case each. Every output goes through
//! `support::check` (validation, renumbering, probe placement, names table); the tests add what
//! is particular to their case. Semantic equality is checked under wasmedge with the plugin
//! (the plugin's tests), not here.

mod support;

use support::{decode_table, func_text, print, run, run_wat, Parsed};
use wasmedge_otel_instrument::{instrument, Decision, Error, Options, Registration};

/// Instrument everything named, whatever its size.
fn every() -> Options {
    Options { min_instructions: Some(0), ..Options::default() }
}

/// Memory and a named stack pointer, so that names are registered.
const MEM: &str = r#"
  (memory (export "memory") 1)
  (global $__stack_pointer (mut i32) (i32.const 65536))
"#;

fn instrumented_names(out: &wasmedge_otel_instrument::Instrumented) -> Vec<String> {
    out.report
        .functions
        .iter()
        .filter(|f| f.decision.is_instrumented())
        .map(|f| f.name.clone().unwrap_or_default())
        .collect()
}

#[test]
fn multi_value_results_get_a_block_type() {
    let wat = format!(
        r#"(module {MEM}
          (func $pair (export "pair") (param $x i32) (result i32 i64)
            local.get $x
            i32.eqz
            if
              i32.const 0
              i64.const 0
              return
            end
            local.get $x
            local.get $x
            i64.extend_i32_u)
          (func $swap (export "swap") (param i32 f64) (result f64 i32)
            local.get 1
            local.get 0))"#
    );
    let out = run_wat(&wat, &every());
    assert_eq!(out.report.instrumented, 2);
    let text = print(&out.wasm);
    assert_eq!(
        func_text(&text, "pair"),
        r#"(func $pair (;3;) (type 0) (param $x i32) (result i32 i64)
    i32.const 0
    call $__wasmedge_otel_enter
    block (type 6) (result i32 i64) ;; label = @1
      local.get $x
      i32.eqz
      if ;; label = @2
        i32.const 0
        i64.const 0
        br 1 (;@1;)
      end
      local.get $x
      local.get $x
      i64.extend_i32_u
    end
    i32.const 0
    call $wasmedge_otel.func_exit
    drop"#
    );
    assert!(text.contains("(type (;6;) (func (result i32 i64)))"), "{text}");
    assert!(text.contains("(type (;7;) (func (result f64 i32)))"), "{text}");
}

#[test]
fn branches_to_the_function_label_land_on_the_exit_probe() {
    // br_table, br_if and br that leave the function keep their depths: the label they named is
    // now the added block's, whose end is followed by the exit probe.
    let wat = r#"(module
      (func $branches (export "branches") (param $x i32) (result i32)
        block $a (result i32)
          block $b (result i32)
            i32.const 10
            local.get $x
            br_table $b $a 2
          end
          i32.const 1
          i32.add
          local.get $x
          i32.const 5
          i32.eq
          br_if 1
          i32.const 100
          i32.add
        end
        local.get $x
        i32.const 9
        i32.eq
        br_if 0
        i32.const 1000
        i32.add
        br 0))"#;
    let out = run_wat(wat, &every());
    let text = print(&out.wasm);
    assert_eq!(
        func_text(&text, "branches"),
        r#"(func $branches (;2;) (type 0) (param $x i32) (result i32)
    i32.const 0
    call $__wasmedge_otel_enter
    block (result i32) ;; label = @1
      block $a (result i32)
        block $b (result i32)
          i32.const 10
          local.get $x
          br_table $b $a 2 (;@1;)
        end
        i32.const 1
        i32.add
        local.get $x
        i32.const 5
        i32.eq
        br_if 1 (;@1;)
        i32.const 100
        i32.add
      end
      local.get $x
      i32.const 9
      i32.eq
      br_if 0 (;@1;)
      i32.const 1000
      i32.add
      br 0 (;@1;)
    end
    i32.const 0
    call $wasmedge_otel.func_exit
    drop"#
    );
}

#[test]
fn return_inside_nested_blocks_becomes_br_to_the_body_block() {
    let wat = r#"(module
      (func $nested (export "nested") (param $x i32) (result i32)
        block $out
          loop $l
            local.get $x
            i32.const 3
            i32.gt_s
            if
              local.get $x
              return
            end
            local.get $x
            i32.const 1
            i32.add
            local.set $x
            br $l
          end
        end
        i32.const -1
        return
        i32.const 7)
      (func $void (export "void") (param i32)
        local.get 0
        if
          return
        end
        return
        unreachable))"#;
    let out = run_wat(wat, &every());
    let text = print(&out.wasm);
    assert_eq!(
        func_text(&text, "nested"),
        r#"(func $nested (;2;) (type 0) (param $x i32) (result i32)
    i32.const 0
    call $__wasmedge_otel_enter
    block (result i32) ;; label = @1
      block $out
        loop $l
          local.get $x
          i32.const 3
          i32.gt_s
          if ;; label = @4
            local.get $x
            br 3 (;@1;)
          end
          local.get $x
          i32.const 1
          i32.add
          local.set $x
          br $l
        end
      end
      i32.const -1
      br 0 (;@1;)
      i32.const 7
    end
    i32.const 0
    call $wasmedge_otel.func_exit
    drop"#
    );
    assert_eq!(
        func_text(&text, "void"),
        r#"(func $void (;3;) (type 1) (param i32)
    i32.const 1
    call $__wasmedge_otel_enter
    block ;; label = @1
      local.get 0
      if ;; label = @2
        br 1 (;@1;)
      end
      br 0 (;@1;)
      unreachable
    end
    i32.const 1
    call $wasmedge_otel.func_exit
    drop"#
    );
}

#[test]
fn tail_calls_are_preceded_by_the_exit_probe() {
    let wat = r#"(module
      (type $t (func (param i32) (result i32)))
      (table $tbl 2 funcref)
      (elem (table $tbl) (i32.const 0) func $leaf $direct)
      (elem declare func $leaf)
      (func $leaf (type $t) local.get 0 i32.const 1 i32.add)
      (func $direct (export "direct") (type $t)
        local.get 0
        return_call $leaf)
      (func $indirect (export "indirect") (type $t)
        local.get 0
        i32.const 0
        return_call_indirect $tbl (type $t))
      (func $by_ref (export "by_ref") (type $t)
        local.get 0
        ref.func $leaf
        return_call_ref $t)
      (func $nested (export "nested") (type $t)
        local.get 0
        if
          local.get 0
          return_call $leaf
        end
        local.get 0))"#;
    let out = run_wat(wat, &every());
    assert_eq!(instrumented_names(&out), ["leaf", "direct", "indirect", "by_ref", "nested"]);
    let text = print(&out.wasm);
    assert_eq!(
        func_text(&text, "direct"),
        r#"(func $direct (;3;) (type $t) (param i32) (result i32)
    i32.const 1
    call $__wasmedge_otel_enter
    block (result i32) ;; label = @1
      local.get 0
      i32.const 1
      call $wasmedge_otel.func_exit
      drop
      return_call $leaf
    end
    i32.const 1
    call $wasmedge_otel.func_exit
    drop"#
    );
    assert!(func_text(&text, "indirect").contains(
        "i32.const 2\n      call $wasmedge_otel.func_exit\n      drop\n      return_call_indirect (type $t)"
    ));
    assert!(func_text(&text, "by_ref")
        .contains("i32.const 3\n      call $wasmedge_otel.func_exit\n      drop\n      return_call_ref $t"));
    assert!(func_text(&text, "nested").contains(
        "i32.const 4\n        call $wasmedge_otel.func_exit\n        drop\n        return_call $leaf"
    ));
}

#[test]
fn start_function_is_renumbered_and_instrumented() {
    let wat = format!(
        r#"(module
          (import "env" "log" (func $log (param i32)))
          {MEM}
          (func $init
            i32.const 42
            call $log)
          (start $init))"#
    );
    let out = run_wat(&wat, &every());
    let b = Parsed::new(&out.wasm);
    // env.log is 0, the three new imports 1-3, $init moves from 1 to 4.
    assert_eq!(b.start, Some(4));
    assert_eq!(out.report.functions[0].id, 1);
    assert!(out.report.functions[0].decision.is_instrumented());
    assert_eq!(
        b.body(4)[..2],
        [wasmparser::Operator::I32Const { value: 1 }, wasmparser::Operator::Call { function_index: 6 }]
    );
}

#[test]
fn tables_elements_and_ref_func_are_renumbered() {
    let wat = format!(
        r#"(module
          (import "env" "ext" (func $ext (result i32)))
          (type $t (func (result i32)))
          {MEM}
          (table $t0 4 funcref)
          (table $t1 2 funcref)
          (elem (table $t0) (i32.const 0) func $a $b $ext)
          (elem $p funcref (ref.func $a) (ref.null func) (ref.func $c))
          (elem declare func $c)
          (elem (table $t1) (i32.const 0) funcref (ref.func $b))
          (global $g funcref (ref.func $a))
          (func $a (result i32) call $b)
          (func $b (result i32) call $ext)
          (func $c (export "c") (result i32)
            ref.func $c
            drop
            i32.const 1
            i32.const 0
            i32.const 1
            table.init $t0 $p
            elem.drop $p
            i32.const 1
            call_indirect $t0 (type $t))
          (export "a" (func $a))
          (export "ext" (func $ext))
          (export "tbl" (table $t0)))"#
    );
    let out = run_wat(&wat, &every());
    assert_eq!(out.report.instrumented, 3);
    let b = Parsed::new(&out.wasm);
    // $ext stays 0; $a, $b, $c move from 1, 2, 3 to 4, 5, 6.
    assert_eq!(b.elem_funcs, [4, 5, 0, 4, 6, 6, 5]);
    assert_eq!(b.global_funcs, [4]);
    assert!(b.exports.contains(&("a".into(), wasmparser::ExternalKind::Func, 4)));
    assert!(b.exports.contains(&("ext".into(), wasmparser::ExternalKind::Func, 0)));
}

#[test]
fn a_module_without_import_section_gets_one() {
    let wat = r#"(module
      (func $f (export "f") (param i32) (result i32)
        local.get 0
        i32.const 2
        i32.mul))"#;
    let out = run_wat(wat, &every());
    let b = Parsed::new(&out.wasm);
    let imports: Vec<&str> = b.func_imports.iter().map(|(_, n, _)| n.as_str()).collect();
    assert_eq!(imports, ["func_enter", "func_exit"]);
    // No memory: no names, no func_names import, no data.
    assert_eq!(out.report.registration, Registration::Skipped("the module has no memory".into()));
    assert!(b.data.is_empty() && b.data_count.is_none());
}

#[test]
fn a_module_with_no_sections_but_code_gets_all_it_needs() {
    // Imported stack pointer and memory, no global, data or data count section: all are created.
    let wat = r#"(module
      (import "env" "memory" (memory 1))
      (import "env" "__stack_pointer" (global $__stack_pointer (mut i32)))
      (func $f (export "f") (result i32) i32.const 5))"#;
    let out = run_wat(wat, &every());
    match out.report.registration {
        Registration::Registered { stack_pointer: 0, names: 1, calls: 1, .. } => {}
        ref r => panic!("{r:?}"),
    }
    let b = Parsed::new(&out.wasm);
    assert_eq!(b.globals, [(wasmparser::ValType::I32, true)]);
    assert_eq!(b.global_names.get(&1).map(String::as_str), Some("__wasmedge_otel_registered"));
    assert_eq!(b.data_names.get(&0).map(String::as_str), Some(".wasmedge_otel.names"));
    assert_eq!(decode_table(b.data[0].1), [(0, "f".to_string())]);
}

#[test]
fn existing_wasmedge_otel_imports_are_reused() {
    let wat = format!(
        r#"(module
          (import "wasmedge_otel" "func_exit" (func $my_exit (param i32) (result i32)))
          (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
          (import "wasmedge_otel" "func_enter" (func $my_enter (param i32) (result i32)))
          {MEM}
          (func $work (export "work") (param i32)
            local.get 0
            call $my_enter
            drop
            local.get 0
            call $proc_exit))"#
    );
    let out = run_wat(&wat, &every());
    assert_eq!(out.report.added_imports, ["func_names"]);
    let b = Parsed::new(&out.wasm);
    let enter_fn = b.func_types.len() as u32 - 1;
    assert!(
        b.body(enter_fn).contains(&wasmparser::Operator::Call { function_index: 2 }),
        "calls the existing func_enter"
    );
    assert!(
        b.body(4).contains(&wasmparser::Operator::Call { function_index: 0 }),
        "exit probe calls the existing func_exit"
    );

    // All three present: nothing is imported, nothing is renumbered.
    let wat = format!(
        r#"(module
          (import "wasmedge_otel" "func_names" (func (param i32 i32) (result i32)))
          (import "wasmedge_otel" "func_enter" (func (param i32) (result i32)))
          (import "wasmedge_otel" "func_exit" (func (param i32) (result i32)))
          {MEM}
          (func $work (export "work") (result i32) i32.const 1))"#
    );
    let out = run_wat(&wat, &every());
    assert!(out.report.added_imports.is_empty());
    assert_eq!(out.report.functions[0].id, 3);
}

#[test]
fn an_existing_import_with_another_signature_is_refused() {
    let wat = r#"(module
      (import "wasmedge_otel" "func_enter" (func (param i64) (result i32)))
      (func $f (export "f") nop))"#;
    let input = wat::parse_str(wat).unwrap();
    let err = instrument(&input, &every()).unwrap_err();
    assert!(matches!(err, Error::Unsupported(ref m) if m.contains("wasmedge_otel.func_enter")), "{err}");
}

#[test]
fn without_memory_or_stack_pointer_names_are_not_registered() {
    let no_memory =
        r#"(module (global $__stack_pointer (mut i32) (i32.const 0)) (func $f (export "f") nop))"#;
    let out = run_wat(no_memory, &every());
    assert_eq!(out.report.registration, Registration::Skipped("the module has no memory".into()));
    assert_eq!(Parsed::new(&out.wasm).otel_import("func_names"), None);

    let no_sp = r#"(module (memory 1) (global $counter (mut i64) (i64.const 0)) (func $f (export "f") nop))"#;
    let out = run_wat(no_sp, &every());
    assert!(
        matches!(out.report.registration, Registration::Skipped(ref m) if m.contains("no stack pointer"))
    );
}

#[test]
fn stack_pointer_heuristics() {
    let find = |wat: &str| match run_wat(wat, &every()).report.registration {
        Registration::Registered { stack_pointer, found_by, .. } => (stack_pointer, found_by),
        r => panic!("{r:?}"),
    };
    // 1. By name, even when it is not the first mutable i32 global.
    let named = r#"(module (memory 1)
      (global $other (mut i32) (i32.const 0))
      (global $__stack_pointer (mut i32) (i32.const 1024))
      (func $f (export "f") nop))"#;
    assert_eq!(find(named), (1, "named __stack_pointer in the name section"));
    // 2. Unnamed: the global the code allocates frames through (LLVM's prologue).
    let by_code = r#"(module (memory 1)
      (global (mut i32) (i32.const 0))
      (global (mut i32) (i32.const 1024))
      (func $f (export "f") (local i32)
        global.get 1
        i32.const 16
        i32.sub
        local.tee 0
        global.set 1
        local.get 0
        i32.const 16
        i32.add
        global.set 1))"#;
    assert_eq!(find(by_code), (1, "used by the code to allocate stack frames"));
    // 3. Else the first exported mutable i32 global.
    let exported = r#"(module (memory 1)
      (global (mut i64) (i64.const 0))
      (global (export "g") (mut i32) (i32.const 0))
      (global (export "sp") (mut i32) (i32.const 1024))
      (func $f (export "f") nop))"#;
    assert_eq!(find(exported), (1, "the first exported mutable i32 global"));
}

#[test]
fn recursion_calls_the_renumbered_self() {
    let wat = format!(
        r#"(module {MEM}
          (func $fib (export "fib") (param $n i32) (result i32)
            local.get $n
            i32.const 2
            i32.lt_u
            if
              local.get $n
              return
            end
            local.get $n
            i32.const 1
            i32.sub
            call $fib
            local.get $n
            i32.const 2
            i32.sub
            call $fib
            i32.add))"#
    );
    let out = run_wat(&wat, &Options::default());
    assert_eq!(instrumented_names(&out), ["fib"]);
    let b = Parsed::new(&out.wasm);
    // No imports before: func_enter 0, func_exit 1, func_names 2, fib 3, register 4, enter 5.
    assert_eq!(Parsed::code_refs(b.body(3)), [5, 3, 3, 1], "enter wrapper, fib, fib, func_exit");
}

#[test]
fn default_selection() {
    let wat = format!(
        r#"(module
          (import "env" "io" (func $io))
          {MEM}
          (func $tiny_leaf (export "tiny") (result i32) i32.const 1 i32.const 2 i32.add)
          (func $tiny_caller call $io)
          (func $_ZN5hello7compute17h0123456789abcdefE (param i32) (result i32)
            local.get 0 local.get 0 i32.mul local.get 0 i32.add local.get 0 i32.sub i32.const 3 i32.mul)
          (func $_ZN4core3fmt5write17h0123456789abcdefE call $io)
          (func (@name "<hello::Config as core::fmt::Debug>::fmt") call $io)
          (func $_RNvCs1234_5hello4main call $io)
          (func $_Z7computei call $io)
          (func $__rust_alloc call $io)
          (func $memcpy call $io)
          (func call $io)
          (func (export "exported_only") call $io))"#
    );
    let out = run_wat(&wat, &Options::default());
    let decisions: Vec<(Option<&str>, &Decision)> =
        out.report.functions.iter().map(|f| (f.name.as_deref(), &f.decision)).collect();
    assert_eq!(
        decisions,
        [
            (Some("tiny_leaf"), &Decision::Tiny),
            (Some("tiny_caller"), &Decision::Instrumented),
            (Some("hello::compute"), &Decision::Instrumented),
            (Some("core::fmt::write"), &Decision::Runtime("core::*")),
            (Some("<hello::Config as core::fmt::Debug>::fmt"), &Decision::Runtime("<* as core::fmt::*")),
            (Some("hello::main"), &Decision::Instrumented),
            (Some("compute(int)"), &Decision::Instrumented),
            (Some("__rust_alloc"), &Decision::Runtime("__*")),
            (Some("memcpy"), &Decision::Runtime("memcpy")),
            (None, &Decision::Unnamed),
            (Some("exported_only"), &Decision::Instrumented),
        ]
    );
    // The table carries demangled names under the original ids (the import $io is 0).
    let b = Parsed::new(&out.wasm);
    assert_eq!(
        decode_table(b.data.last().unwrap().1),
        [
            (2, "tiny_caller".to_string()),
            (3, "hello::compute".into()),
            (6, "hello::main".into()),
            (7, "compute(int)".into()),
            (11, "exported_only".into()),
        ]
    );
}

#[test]
fn include_exclude_all_and_min_instructions() {
    let wat = format!(
        r#"(module
          (import "env" "io" (func $io))
          {MEM}
          (func $app::small (result i32) i32.const 1)
          (func $app::run call $io call $app::helper)
          (func $app::helper call $io)
          (func $lib::parse call $io)
          (func $core::fmt::write call $io)
          (func call $io))"#
    );
    let names = |o: Options| instrumented_names(&run_wat(&wat, &o));
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(names(Options::default()), s(&["app::run", "app::helper", "lib::parse"]));
    assert_eq!(
        names(Options { include: vec!["app::*".into()], ..Options::default() }),
        s(&["app::run", "app::helper"])
    );
    assert_eq!(
        names(Options { exclude: vec!["*::helper".into(), "lib::?arse".into()], ..Options::default() }),
        s(&["app::run"])
    );
    // --all: unnamed, runtime and tiny functions too.
    assert_eq!(
        names(Options { all: true, ..Options::default() }),
        s(&["app::small", "app::run", "app::helper", "lib::parse", "core::fmt::write", ""])
    );
    assert_eq!(
        names(Options { all: true, min_instructions: Some(2), ..Options::default() }),
        s(&["app::run", "app::helper", "lib::parse", "core::fmt::write", ""])
    );
    // --include still narrows --all, and --exclude wins over --include.
    assert_eq!(
        names(Options {
            all: true,
            include: vec!["*::*".into()],
            exclude: vec!["core::*".into()],
            ..Options::default()
        }),
        s(&["app::small", "app::run", "app::helper", "lib::parse"])
    );
    assert_eq!(
        names(Options { min_instructions: Some(0), ..Options::default() }),
        s(&["app::small", "app::run", "app::helper", "lib::parse"])
    );
    // Nothing selected: the output is the input.
    let out = run_wat(&wat, &Options { include: vec!["nothing".into()], ..Options::default() });
    assert_eq!(out.report.instrumented, 0);
    assert_eq!(out.wasm, wat::parse_str(&wat).unwrap());
}

#[test]
fn debug_sections_are_dropped_and_other_custom_sections_kept() {
    let wat = format!(
        r#"(module {MEM}
          (@custom "producers" (before first) "\00")
          (@custom ".debug_info" "dwarf")
          (@custom ".debug_line" "dwarf")
          (@custom "sourceMappingURL" "x.map")
          (@custom "metadata.code.branch_hint" "\00")
          (@custom "my.section" (after code) "keep me")
          (func $f (export "f") (param $a i32) (local $b i32) nop))"#
    );
    let out = run_wat(&wat, &every());
    assert_eq!(
        out.report.dropped_sections,
        [".debug_info", ".debug_line", "sourceMappingURL", "metadata.code.branch_hint"]
    );
    let b = Parsed::new(&out.wasm);
    assert_eq!(b.customs, ["producers", "my.section", "name", "wasmedge_otel.instrumented"]);
    // The name section is kept, renumbered and extended.
    assert_eq!(b.func_names.get(&3).map(String::as_str), Some("f"));
    assert_eq!(b.local_names.get(&3), Some(&vec![(0, "a".to_string()), (1, "b".to_string())]));
    assert_eq!(b.func_names.get(&0).map(String::as_str), Some("wasmedge_otel.func_enter"));
    assert_eq!(b.func_names.get(&4).map(String::as_str), Some("__wasmedge_otel_register"));
    assert_eq!(b.func_names.get(&5).map(String::as_str), Some("__wasmedge_otel_enter"));
    assert_eq!(b.global_names.get(&1).map(String::as_str), Some("__wasmedge_otel_registered"));
}

#[test]
fn data_count_is_updated_when_the_module_uses_bulk_memory() {
    let wat = format!(
        r#"(module {MEM}
          (data $d0 "abc")
          (data $d1 (i32.const 16) "xyz")
          (func $copy (export "copy")
            i32.const 0
            i32.const 0
            i32.const 3
            memory.init $d0
            data.drop $d0))"#
    );
    let out = run_wat(&wat, &every());
    let b = Parsed::new(&out.wasm);
    assert_eq!(b.data_count, Some(3));
    assert_eq!(b.data_names.get(&0).map(String::as_str), Some("d0"));
    assert_eq!(b.data_names.get(&2).map(String::as_str), Some(".wasmedge_otel.names"));
}

#[test]
fn a_large_names_table_is_passed_in_parts_and_long_names_are_cut() {
    let mut wat = String::from("(module (memory 1) (global $__stack_pointer (mut i32) (i32.const 65536))\n");
    for i in 0..300 {
        wat.push_str(&format!(
            "(func $app::module_{i}::a_function_with_a_fairly_long_name_{i} (export \"f{i}\") nop)\n"
        ));
    }
    let long = "é".repeat(1500);
    wat.push_str(&format!("(func (@name \"{long}\") (export \"long\") nop))"));
    let out = run_wat(&wat, &every());
    match out.report.registration {
        Registration::Registered { names: 301, calls, table_bytes, .. } => {
            assert!(calls > table_bytes / 4096 && calls > 3, "{calls} calls for {table_bytes} bytes");
        }
        ref r => panic!("{r:?}"),
    }
    let b = Parsed::new(&out.wasm);
    let table = decode_table(b.data.last().unwrap().1);
    assert_eq!(table.last().unwrap().1, "é".repeat(512), "cut to 1024 bytes at a character boundary");
}

#[test]
fn instrumenting_twice_is_refused() {
    let out = run_wat(r#"(module (func $f (export "f") nop))"#, &every());
    let err = instrument(&out.wasm, &every()).unwrap_err();
    assert!(err.to_string().contains("already instrumented"), "{err}");
}

#[test]
fn invalid_or_unsupported_input_is_refused() {
    let err = instrument(b"not wasm at all", &every()).unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)), "{err}");
    // Type error.
    let bad = wat::parse_str(r#"(module (func (result i32) i64.const 1))"#).unwrap();
    assert!(matches!(instrument(&bad, &every()), Err(Error::InvalidInput(_))));
    // Threads (shared memory) are not among the accepted features.
    let threads = wat::parse_str(r#"(module (memory 1 1 shared) (func $f nop))"#).unwrap();
    assert!(matches!(instrument(&threads, &every()), Err(Error::InvalidInput(_))));
    // A component.
    let component = wat::parse_str("(component)").unwrap();
    assert!(instrument(&component, &every()).is_err());
    // A relocatable object file.
    let object = wat::parse_str(r#"(module (@custom "linking" "\02") (func $f nop))"#).unwrap();
    let err = instrument(&object, &every()).unwrap_err();
    assert!(err.to_string().contains("relocatable"), "{err}");
    // An empty pattern.
    let ok = wat::parse_str(r#"(module (func $f nop))"#).unwrap();
    assert!(instrument(&ok, &Options { exclude: vec![String::new()], ..every() }).is_err());
}

#[test]
fn an_empty_module_is_returned_unchanged() {
    let input = wat::parse_str("(module)").unwrap();
    let out = run(&input, &Options::default());
    assert_eq!(out.wasm, input);
}
