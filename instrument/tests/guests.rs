//! The rewriter on real modules: the project's example guests (when built) and a module of about
//! 1 MB, with the time it takes (printed, not asserted; run with `--nocapture` to see it).

mod support;

use std::path::{Path, PathBuf};
use std::time::Instant;

use wasmedge_otel_instrument::{Options, Registration};

fn guests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/guests/wasm32-wasip1/release")
}

fn wasm_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "wasm"))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn example_guests() {
    let files = wasm_files(&guests_dir());
    if files.is_empty() {
        eprintln!("skipped: no guests in {} (make guests builds them)", guests_dir().display());
        return;
    }
    for path in files {
        let input = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy();
        let default = support::run(&input, &Options::default());
        let options = Options { all: true, ..Options::default() };
        let started = Instant::now();
        let all = wasmedge_otel_instrument::instrument(&input, &options).unwrap();
        let elapsed = started.elapsed();
        support::check(&input, &all);
        assert_eq!(all.report.instrumented, all.report.functions.len(), "{name}: --all takes every function");
        // The guests are built stripped (no name section): the stack pointer is found from the code.
        match &all.report.registration {
            Registration::Registered { stack_pointer: 0, .. } => {}
            Registration::Skipped(why) if why.contains("no instrumented function has a name") => {}
            r => panic!("{name}: {r:?}"),
        }
        eprintln!(
            "{name}: {} bytes, {} functions; default selection {}, --all {} -> {} bytes in {:.1} ms",
            input.len(),
            all.report.functions.len(),
            default.report.instrumented,
            all.report.instrumented,
            all.wasm.len(),
            elapsed.as_secs_f64() * 1e3
        );
    }
}

/// A generated module of about 1 MB: 2,500 named functions calling each other.
fn synthetic_module() -> Vec<u8> {
    let n = 2500;
    let mut wat = String::from(
        "(module (memory (export \"memory\") 17) (global $__stack_pointer (mut i32) (i32.const 1048576))\n",
    );
    for i in 0..n {
        let next = (i + 1) % n;
        wat.push_str(&format!(
            "(func $_ZN3app6module{len}m{i}4work17h0123456789abcdefE (param $x i32) (result i32) (local $y i32)\n",
            len = format!("m{i}").len()
        ));
        for k in 0..24 {
            wat.push_str(&format!(
                "local.get $x i32.const {k} i32.add local.set $y local.get $y i32.const 7 i32.mul local.set $x\n"
            ));
        }
        wat.push_str(&format!(
            "local.get $x i32.const 1000 i32.gt_u if local.get $x return end\n\
             local.get $x i32.const {next} i32.add call $_ZN3app6module{len}m{next}4work17h0123456789abcdefE)\n",
            len = format!("m{next}").len()
        ));
    }
    wat.push(')');
    wat::parse_str(&wat).unwrap()
}

#[test]
fn about_one_megabyte() {
    let mut modules = vec![("synthetic".to_string(), synthetic_module())];
    // A real module to time as well: WASMEDGE_OTEL_INSTRUMENT_BIG=path/to/module.wasm.
    if let Some(path) = std::env::var_os("WASMEDGE_OTEL_INSTRUMENT_BIG") {
        modules.push((PathBuf::from(&path).display().to_string(), std::fs::read(&path).unwrap()));
    }
    for (name, input) in modules {
        let started = Instant::now();
        let out = wasmedge_otel_instrument::instrument(&input, &Options::default()).unwrap();
        let elapsed = started.elapsed();
        support::check(&input, &out);
        let profile = if cfg!(debug_assertions) { "debug build" } else { "release build" };
        eprintln!(
            "{name}: {} -> {} bytes, {} of {} functions instrumented, {:.1} ms ({profile}, validation of input and output included)",
            input.len(),
            out.wasm.len(),
            out.report.instrumented,
            out.report.functions.len(),
            elapsed.as_secs_f64() * 1e3
        );
        assert!(out.report.instrumented > 0);
    }
}
