//! Guest module sizes, raw and after `wasm-opt -Oz`. All five modules are built with the same
//! profile (opt-level "s", LTO, strip, one codegen unit, panic=abort): examples/ for the first
//! three, bench/guests (profile `size`) for the SDK ones.

use crate::proc;
use crate::Ctx;
use std::path::PathBuf;

/// Features rustc's wasm32-wasip1 output uses, which binaryen 108 does not assume.
pub const WASM_OPT_FLAGS: &[&str] = &[
    "-Oz",
    "--enable-bulk-memory",
    "--enable-sign-ext",
    "--enable-nontrapping-float-to-int",
    "--enable-mutable-globals",
];

#[derive(Debug, Clone)]
pub struct Module {
    pub id: &'static str,
    pub what: &'static str,
    #[allow(dead_code)] // kept for debugging output
    pub path: PathBuf,
    pub raw: Option<u64>,
    pub opt: Option<u64>,
    pub problem: Option<String>,
}

pub struct Sizes {
    pub modules: Vec<Module>,
}

impl Sizes {
    pub fn get(&self, id: &str) -> Option<&Module> {
        self.modules.iter().find(|m| m.id == id)
    }
}

pub fn run(ctx: &Ctx) -> Sizes {
    let list: [(&str, &str, PathBuf); 5] = [
        ("plain", "hello world (examples/hello-world-plain)", ctx.examples.join("hello-world-plain.wasm")),
        ("hello-world", "+ bindings, one span (examples/hello-world)", ctx.examples.join("hello-world.wasm")),
        (
            "all-signals",
            "+ bindings, span + counter + log (examples/all-signals)",
            ctx.examples.join("all-signals.wasm"),
        ),
        (
            "sdk",
            "+ opentelemetry_sdk in the guest, traces+metrics+logs, no-op exporters (bench/guests/size-sdk)",
            ctx.guests.join("size/size-sdk.wasm"),
        ),
        (
            "sdk-otlp",
            "+ opentelemetry_sdk and OTLP protobuf encoding (bench/guests/size-sdk-otlp)",
            ctx.guests.join("size/size-sdk-otlp.wasm"),
        ),
    ];
    let dir = ctx.work.join("wasm-opt");
    let _ = std::fs::create_dir_all(&dir);
    let modules = list
        .into_iter()
        .map(|(id, what, path)| {
            let raw = std::fs::metadata(&path).ok().map(|m| m.len());
            let out = dir.join(format!("{id}.wasm"));
            let mut cmd = proc::clean("wasm-opt", &ctx.home);
            cmd.args(WASM_OPT_FLAGS).arg(&path).arg("-o").arg(&out);
            let (opt, problem) = match proc::run(&mut cmd) {
                Ok(f) if f.ok() => (std::fs::metadata(&out).ok().map(|m| m.len()), None),
                Ok(f) => (None, Some(format!("wasm-opt failed: {}", f.describe()))),
                Err(e) => (None, Some(format!("wasm-opt: {e}"))),
            };
            Module { id, what, path, raw, opt, problem }
        })
        .collect();
    Sizes { modules }
}
