//! Shared by the embedder's integration tests: the process environment the plugin reads, the
//! plugin loaded from a directory of its own, WAT guests, calls into guest exports, and waiting
//! for a test collector.
//!
//! Each test file is its own process, and the plugin's export pipeline and configuration are
//! per process (built once, from the environment as it is when the first plugin instance is
//! created). So each file calls [`init`] once, with its own settings, before creating anything.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub use wasmedge_otel_collector::{Collector, ReceivedSpan};
use wasmedge_otel_embedder::wasmedge_sdk::{Instance, Module, Vm, WasmValue};
use wasmedge_otel_embedder::{load_plugin, Sandbox, WasiConfig};

/// How long a test waits for telemetry that should already have arrived.
pub const ARRIVAL_TIMEOUT: Duration = Duration::from_secs(20);

/// The plugin's `INVALID_HANDLE` status.
pub const INVALID_HANDLE: i64 = wasmedge_otel_abi::Status::INVALID_HANDLE.0 as i64;

fn scratch_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../target/embedder/e2e")
            .join(std::process::id().to_string());
        std::fs::create_dir_all(&dir).expect("create scratch dir");
        dir
    })
}

/// A directory holding only a copy of the plugin: `$WASMEDGE_OTEL_PLUGIN` if set, else the main
/// workspace's debug build (`cargo build -p wasmedge-otel-plugin`, which `make test-embedder`
/// runs). WasmEdge scans plugin directories recursively, so `target/debug` itself must not be used.
pub fn plugin_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(copy_plugin)
}

fn copy_plugin() -> PathBuf {
    let built = std::env::var_os("WASMEDGE_OTEL_PLUGIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/debug/libwasmedge_otel.so"));
    assert!(
        built.exists(),
        "{} not found: build the plugin first (`make test-embedder` does; or `cargo build -p wasmedge-otel-plugin` in the repository root)",
        built.display()
    );
    let dir = scratch_dir().join("plugin");
    std::fs::create_dir_all(&dir).expect("create plugin dir");
    std::fs::copy(&built, dir.join("libwasmedge_otel.so")).expect("copy plugin");
    dir
}

/// Once per process: starts the test collector, gives the process a known `OTEL_*` environment
/// (every inherited `OTEL_*` and `TRACEPARENT` removed, the endpoint set to the collector, then
/// `env`), and loads the plugin. Must run before the first [`Sandbox`] of the process: the plugin
/// reads its configuration when its first module instance is created.
pub fn init(env: &[(&str, &str)]) -> &'static Collector {
    static COLLECTOR: OnceLock<Collector> = OnceLock::new();
    COLLECTOR.get_or_init(|| {
        let collector = Collector::start("127.0.0.1:0").expect("start the test collector");
        // Every test thread of this process waits in this OnceLock, so nothing reads the
        // environment while it is changed.
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("OTEL_") || key == "TRACEPARENT" || key == "TRACESTATE" {
                std::env::remove_var(key);
            }
        }
        std::env::set_var("OTEL_EXPORTER_OTLP_ENDPOINT", collector.endpoint());
        for (key, value) in env {
            std::env::set_var(key, value);
        }
        load_plugin(plugin_dir()).unwrap_or_else(|e| panic!("{e}"));
        collector
    })
}

/// WAT declarations of every `wasmedge_otel` import, from the ABI crate: `$span_start`, ...
pub fn wat_imports() -> String {
    wasmedge_otel_abi::FUNCTIONS
        .iter()
        .map(|f| {
            let params: Vec<_> = f.params.iter().map(|p| p.ty.wat_name()).collect();
            format!(
                "(import \"{}\" \"{}\" (func ${} (param {}) (result {})))\n",
                wasmedge_otel_abi::MODULE_NAME,
                f.name,
                f.name,
                params.join(" "),
                f.result.wat_name()
            )
        })
        .collect()
}

/// Compiles WAT into a module.
pub fn module(wat: &str) -> Module {
    let bytes = wat::parse_str(wat).unwrap_or_else(|e| panic!("WAT guest: {e}\n{wat}"));
    Module::from_bytes(None, bytes).expect("load the WAT guest")
}

/// Writes WAT, compiled, to `<name>.wasm` in the scratch directory (for the CLI tests).
pub fn wasm_file(name: &str, wat: &str) -> PathBuf {
    let bytes = wat::parse_str(wat).unwrap_or_else(|e| panic!("WAT guest {name}: {e}"));
    let path = scratch_dir().join(format!("{name}.wasm"));
    std::fs::write(&path, bytes).expect("write guest");
    path
}

/// A sandbox with no WASI arguments, variables or preopens.
pub fn sandbox() -> Sandbox {
    Sandbox::new(&WasiConfig::default()).expect("create a sandbox")
}

/// Calls export `name` of the VM's active module and returns its one result as an `i64` (an
/// `i32` result is sign-extended).
pub fn call(vm: &mut Vm<'_, Instance>, name: &str, args: &[i64]) -> i64 {
    let args: Vec<_> = args.iter().map(|&a| WasmValue::from_i64(a)).collect();
    let results = vm.run_func(None, name, args).unwrap_or_else(|e| panic!("calling {name}: {e}"));
    let result = results.first().unwrap_or_else(|| panic!("{name} returned nothing"));
    match result.ty() {
        wasmedge_otel_embedder::wasmedge_sdk::ValType::I32 => result.to_i32() as i64,
        _ => result.to_i64(),
    }
}

/// The spans received so far whose names start with `prefix`.
pub fn spans_named(collector: &Collector, prefix: &str) -> Vec<ReceivedSpan> {
    collector.spans().into_iter().filter(|s| s.span.name.starts_with(prefix)).collect()
}

/// Waits (bounded) until `n` spans named `prefix...` have arrived, and returns them.
pub fn wait_for(collector: &Collector, prefix: &str, n: usize) -> Vec<ReceivedSpan> {
    let start = Instant::now();
    loop {
        let spans = spans_named(collector, prefix);
        if spans.len() >= n {
            return spans;
        }
        assert!(
            start.elapsed() < ARRIVAL_TIMEOUT,
            "{} of {n} spans named {prefix}* arrived within {ARRIVAL_TIMEOUT:?}",
            spans.len()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The one span called `name`.
pub fn one<'a>(spans: &'a [ReceivedSpan], name: &str) -> &'a ReceivedSpan {
    let found: Vec<_> = spans.iter().filter(|s| s.span.name == name).collect();
    assert_eq!(found.len(), 1, "expected one span {name:?}, got {}", found.len());
    found[0]
}

/// The integer attribute `key` of a span.
pub fn int_attr(span: &ReceivedSpan, key: &str) -> Option<i64> {
    use wasmedge_otel_collector::opentelemetry_proto::tonic::common::v1::any_value::Value;
    match span.attr(key)?.value.as_ref()? {
        Value::IntValue(i) => Some(*i),
        _ => None,
    }
}

/// The boolean attribute `key` of a span.
pub fn bool_attr(span: &ReceivedSpan, key: &str) -> Option<bool> {
    use wasmedge_otel_collector::opentelemetry_proto::tonic::common::v1::any_value::Value;
    match span.attr(key)?.value.as_ref()? {
        Value::BoolValue(b) => Some(*b),
        _ => None,
    }
}

/// The string resource attribute `key` of a span.
pub fn resource_str(span: &ReceivedSpan, key: &str) -> Option<String> {
    use wasmedge_otel_collector::opentelemetry_proto::tonic::common::v1::any_value::Value;
    match span.resource_attr(key)?.value.as_ref()? {
        Value::StringValue(s) => Some(s.clone()),
        _ => None,
    }
}

/// The status code of a span (0 unset, 1 ok, 2 error).
pub fn status_code(span: &ReceivedSpan) -> i32 {
    span.span.status.as_ref().map_or(0, |s| s.code)
}
