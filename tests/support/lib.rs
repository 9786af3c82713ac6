//! Support for the end-to-end tests: locating the plugin and guests, running the real `wasmedge`
//! CLI with the plugin against a test collector, and AOT-compiling guests.
//!
//! Every run is bounded: a guest that does not finish within [`RUN_TIMEOUT`] is killed and the
//! test fails with what it printed.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Longest a single `wasmedge` run may take before the test kills it.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(60);

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A directory of this test process's own holding only `libwasmedge_otel.so`. WasmEdge scans
/// plugin directories recursively, so `target/debug` itself (with `deps/`) must not be used.
pub fn plugin_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let built = std::env::var_os("WASMEDGE_OTEL_PLUGIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo_root().join("target/debug/libwasmedge_otel.so"));
        assert!(
            built.exists(),
            "{} not found: build the plugin first (`make test` does; or `cargo build -p wasmedge-otel-plugin`)",
            built.display()
        );
        let dir = scratch_dir().join("plugin");
        std::fs::create_dir_all(&dir).expect("create plugin dir");
        // A directory of its own holds only this plugin (WasmEdge loads every library it finds).
        // A hard link costs no disk and keeps this build even if cargo rebuilds the plugin.
        let linked = dir.join("libwasmedge_otel.so");
        if std::fs::hard_link(&built, &linked).is_err() {
            std::fs::copy(&built, &linked).expect("copy plugin");
        }
        dir
    })
}

/// A scratch directory for this test process under `target/e2e/<pid>`. The test harness has no
/// teardown, so each process removes the directories of earlier test processes that have ended.
pub fn scratch_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let root = repo_root().join("target/e2e");
        remove_ended_scratch_dirs(&root);
        let dir = root.join(std::process::id().to_string());
        std::fs::create_dir_all(&dir).expect("create scratch dir");
        dir
    })
}

/// Removes `root/<pid>` directories whose process no longer runs (checked through /proc).
fn remove_ended_scratch_dirs(root: &Path) {
    let Ok(entries) = std::fs::read_dir(root) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        if !Path::new("/proc").join(pid.to_string()).exists() {
            // Another test process may be removing it at the same time: errors are fine.
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Path of a guest example built by this package's build script (`examples/<name>`).
pub fn example(name: &str) -> PathBuf {
    let path = Path::new(env!("WASMEDGE_OTEL_GUESTS_DIR")).join(format!("{name}.wasm"));
    assert!(path.exists(), "guest {} was not built", path.display());
    path
}

/// Compiles WebAssembly text into a module file named `<name>.wasm` in the scratch directory.
pub fn wat_guest(name: &str, wat: &str) -> PathBuf {
    let bytes = wat::parse_str(wat).unwrap_or_else(|e| panic!("WAT guest {name}: {e}"));
    let path = scratch_dir().join(format!("{name}.wasm"));
    std::fs::write(&path, bytes).expect("write guest");
    path
}

/// AOT-compiles a module with `wasmedge compile` into `<stem>_aot.wasm` in the scratch directory.
pub fn aot(wasm: &Path) -> PathBuf {
    aot_with(wasm, &[])
}

/// [`aot`] with extra `wasmedge compile` options, e.g. `--interruptible`, without which
/// AOT code never checks `--time-limit`.
pub fn aot_with(wasm: &Path, options: &[&str]) -> PathBuf {
    let out = scratch_dir().join(format!("{}_aot.wasm", wasm.file_stem().unwrap().to_string_lossy()));
    let output = Command::new("wasmedge")
        .arg("compile")
        .args(options)
        .arg(wasm)
        .arg(&out)
        .output()
        .expect("run wasmedge compile");
    assert!(output.status.success(), "wasmedge compile failed: {}", String::from_utf8_lossy(&output.stderr));
    out
}

/// How a guest is executed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The interpreter.
    Interpreted,
    /// Ahead-of-time compiled with `wasmedge compile`.
    Aot,
}

/// Both modes, for tests that must hold in each.
pub const MODES: [Mode; 2] = [Mode::Interpreted, Mode::Aot];

/// The module to run for `mode`.
pub fn for_mode(wasm: &Path, mode: Mode) -> PathBuf {
    match mode {
        Mode::Interpreted => wasm.to_path_buf(),
        Mode::Aot => aot(wasm),
    }
}

/// A `wasmedge` command line with the plugin on its plugin path, exporting to an endpoint.
pub struct Run {
    wasm: PathBuf,
    options: Vec<String>,
    env: Vec<(String, String)>,
}

impl Run {
    /// Runs `wasm` with the plugin, sending OTLP to `endpoint`.
    pub fn new(wasm: &Path, endpoint: &str) -> Run {
        Run { wasm: wasm.to_path_buf(), options: Vec::new(), env: Vec::new() }
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
    }

    /// Adds a `wasmedge` option (placed before the module), e.g. `--time-limit`.
    pub fn option(mut self, option: &str) -> Run {
        self.options.push(option.to_owned());
        self
    }

    /// Sets an environment variable of the `wasmedge` process.
    pub fn env(mut self, key: &str, value: &str) -> Run {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Sets each `(key, value)` of `vars` as with [`Run::env`], in order.
    pub fn envs(self, vars: &[(&str, &str)]) -> Run {
        vars.iter().fold(self, |run, (key, value)| run.env(key, value))
    }

    /// Runs to completion (killed after [`RUN_TIMEOUT`]) and returns what it printed.
    pub fn output(self) -> Output {
        let mut cmd = Command::new("wasmedge");
        // Start from a known OTEL_* configuration whatever the caller's environment holds.
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("OTEL_") || key == "TRACEPARENT" {
                cmd.env_remove(key);
            }
        }
        cmd.env("WASMEDGE_PLUGIN_PATH", plugin_dir())
            .envs(self.env)
            .args(self.options)
            .arg(&self.wasm)
            .stdin(Stdio::null());
        // Files rather than pipes: a guest printing more than a pipe holds cannot block.
        static RUNS: AtomicUsize = AtomicUsize::new(0);
        let n = RUNS.fetch_add(1, Ordering::Relaxed);
        let (out_path, err_path) =
            (scratch_dir().join(format!("run{n}.out")), scratch_dir().join(format!("run{n}.err")));
        cmd.stdout(File::create(&out_path).expect("stdout file"))
            .stderr(File::create(&err_path).expect("stderr file"));
        let mut child = cmd.spawn().expect("spawn wasmedge (is it installed? run `make setup`)");
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for wasmedge") {
                break status;
            }
            if started.elapsed() > RUN_TIMEOUT {
                let _ = child.kill();
                let _ = child.wait();
                let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
                panic!("wasmedge ran over {RUN_TIMEOUT:?}; stderr: {stderr}");
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let read = |p: &Path| std::fs::read(p).expect("read run output");
        Output { status, stdout: read(&out_path), stderr: read(&err_path) }
    }
}

pub use wasmedge_otel_collector::{Collector, ReceivedSpan};

/// How long a test waits for telemetry that should already have arrived.
pub const ARRIVAL_TIMEOUT: Duration = Duration::from_secs(15);

/// A test collector on an ephemeral loopback port.
pub fn collector() -> Collector {
    Collector::start("127.0.0.1:0").expect("start the test collector")
}

/// The one received span called `name`.
pub fn span<'a>(spans: &'a [ReceivedSpan], name: &str) -> &'a ReceivedSpan {
    let found: Vec<_> = spans.iter().filter(|s| s.span.name == name).collect();
    assert_eq!(found.len(), 1, "expected one span {name:?}, got {}: {:?}", found.len(), names(spans));
    found[0]
}

/// Names of the spans, sorted, for messages and comparisons.
pub fn names(spans: &[ReceivedSpan]) -> Vec<String> {
    let mut v: Vec<_> = spans.iter().map(|s| s.span.name.clone()).collect();
    v.sort();
    v
}

/// Asserts the run exited with `code` and returns its stderr for further checks.
pub fn assert_exit(output: &Output, code: i32) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(
        output.status.code(),
        Some(code),
        "wasmedge exit status; stdout: {} stderr: {stderr}",
        String::from_utf8_lossy(&output.stdout)
    );
    stderr
}

/// WAT declarations of every `wasmedge_otel` import, generated from the ABI crate, for hand-written
/// guests: `$abi_version`, `$span_start`, ...
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

/// A received attribute value rendered with its type, e.g. `s:"x"`, `i:1`, `f:0.5`, `b:true`,
/// `[i:1, i:2]`, so tests compare types as well as values.
pub fn typed(value: &opentelemetry_proto::tonic::common::v1::AnyValue) -> String {
    use opentelemetry_proto::tonic::common::v1::any_value::Value;
    match &value.value {
        Some(Value::StringValue(s)) => format!("s:{s:?}"),
        Some(Value::BoolValue(b)) => format!("b:{b}"),
        Some(Value::IntValue(i)) => format!("i:{i}"),
        Some(Value::DoubleValue(f)) => format!("f:{f}"),
        Some(Value::ArrayValue(a)) => {
            format!("[{}]", a.values.iter().map(typed).collect::<Vec<_>>().join(", "))
        }
        other => format!("{other:?}"),
    }
}

/// Attributes as `key=typed value` strings, sorted by key.
pub fn typed_attrs(attrs: &[opentelemetry_proto::tonic::common::v1::KeyValue]) -> Vec<String> {
    let mut v: Vec<_> = attrs
        .iter()
        .map(|kv| format!("{}={}", kv.key, kv.value.as_ref().map_or("none".into(), typed)))
        .collect();
    v.sort();
    v
}

use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::metrics::v1::Metric;

/// The last data received for metric `name` (collections are cumulative by default, so the last
/// one holds the totals), with the resource attributes it came with.
pub fn last_metric(collector: &Collector, name: &str) -> Option<Metric> {
    collector
        .metric_requests()
        .iter()
        .flat_map(|r| r.request.resource_metrics.iter())
        .flat_map(|rm| rm.scope_metrics.iter())
        .flat_map(|sm| sm.metrics.iter())
        .rfind(|m| m.name == name)
        .cloned()
}

/// Every log record received, in arrival order.
pub fn log_records(collector: &Collector) -> Vec<LogRecord> {
    collector
        .log_requests()
        .iter()
        .flat_map(|r| r.request.resource_logs.iter())
        .flat_map(|rl| rl.scope_logs.iter())
        .flat_map(|sl| sl.log_records.iter())
        .cloned()
        .collect()
}

/// Waits (bounded) until `collector` holds at least one metrics request and one logs request.
pub fn wait_for_metrics_and_logs(collector: &Collector) {
    wait_until("metrics and logs", ARRIVAL_TIMEOUT, || {
        !collector.metric_requests().is_empty() && !collector.log_requests().is_empty()
    });
}

/// One status check of a hand-written guest: what it checks, a WAT expression giving an `i64`,
/// and the value it must give.
pub type WatCheck = (&'static str, &'static str, i64);

/// WAT instructions that evaluate each check and, at the first mismatch, leave by
/// `proc_exit(n)` with n the check's 1-based number (the guest must import `$proc_exit`).
pub fn wat_checks(checks: &[WatCheck]) -> String {
    checks
        .iter()
        .enumerate()
        .map(|(i, (_, expr, want))| {
            format!(
                "(if (i64.ne {expr} (i64.const {want})) (then (call $proc_exit (i32.const {}))))\n",
                i + 1
            )
        })
        .collect()
}

/// What a guest built with [`wat_checks`] failed, from its exit code ("setup" when the code
/// names no check).
pub fn failed_check(checks: &[WatCheck], exit_code: i32) -> &'static str {
    usize::try_from(exit_code)
        .ok()
        .and_then(|n| n.checked_sub(1))
        .and_then(|i| checks.get(i))
        .map_or("setup", |c| c.0)
}

/// What `examples/metrics-demo` prints: one line per request it simulates.
pub const DEMO_STDOUT: &str = "GET /api/hello -> 200\nGET /api/hello -> 200\nGET /api/hello -> 200\n\
                               GET /api/hello -> 200\nGET /api/hello -> 500\n";

/// What `examples/hello` prints.
pub const HELLO_STDOUT: &str = "hello from wasm; computed 55\n";

/// A run's standard output as text.
pub fn stdout_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Polls `done` every 20 ms until it holds, failing with `what` after `limit` (usually
/// [`ARRIVAL_TIMEOUT`]).
pub fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until `c` holds a metrics request. A run flushes spans, then log records, then metrics at
/// exit, so once this returns after a run, everything else that run exported has arrived too.
pub fn wait_for_final_metrics(c: &Collector) {
    wait_until("metrics (flushed after spans and logs)", ARRIVAL_TIMEOUT, || !c.metric_requests().is_empty());
}

/// Waits until `c` holds all of `metrics-demo`'s telemetry: 5 spans, 7 log records and a metrics
/// request carrying `http.server.requests`.
pub fn wait_for_demo(c: &Collector) {
    c.wait_for_spans(5, ARRIVAL_TIMEOUT).expect("the 5 spans of metrics-demo");
    wait_until("7 log records", ARRIVAL_TIMEOUT, || log_records(c).len() >= 7);
    wait_until("the http.server.requests metric", ARRIVAL_TIMEOUT, || {
        last_metric(c, "http.server.requests").is_some()
    });
}

/// Runs `wasm` exporting to `c` with `vars`, checks that it exited 0 and that the plugin ignored
/// none of `vars` (no "ignoring" warning), and returns what it printed.
pub fn run_configured(wasm: &Path, c: &Collector, vars: &[(&str, &str)]) -> Output {
    let out = Run::new(wasm, &c.endpoint()).envs(vars).output();
    let stderr = assert_exit(&out, 0);
    assert!(!stderr.contains("ignoring"), "{vars:?}: no warning: {stderr}");
    out
}

/// The warning line saying the OTLP exporter of `signal` ("spans", "metrics", "logs") could not be
/// built, if stderr has one.
pub fn exporter_build_failure<'a>(stderr: &'a str, signal: &str) -> Option<&'a str> {
    let needle = format!("cannot build the OTLP {signal} exporter");
    stderr.lines().find(|l| l.contains(&needle))
}

/// WAT instructions running `body` `n` times, counting in the `i32` local `$i` (which the function
/// must declare) from 0.
pub fn wat_loop(n: u32, body: &str) -> String {
    format!(
        "(local.set $i (i32.const 0))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (i32.const {n})))
        {body}
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))"
    )
}

/// WAT instructions starting and ending one root span named by the 4 bytes at address 0, with its
/// handle in the `i64` local `$h` (which the function must declare, as well as importing
/// `$proc_exit`). Exits 10 if the start fails, 11 if the end does.
pub const WAT_ROOT_SPAN: &str = "(local.set $h (call $span_start (i32.const 0) (i32.const 4) (i32.const 0) (i64.const -1) (i32.const 0) (i32.const 0)))
        (if (i64.le_s (local.get $h) (i64.const 0)) (then (call $proc_exit (i32.const 10))))
        (if (i32.ne (call $span_end (local.get $h)) (i32.const 0)) (then (call $proc_exit (i32.const 11))))";

/// A hand-written guest named `name` (see [`wat_guest`]) importing every `wasmedge_otel` function
/// and `proc_exit`, with one page of memory initialised by `data` (`(data ...)` fields) and a
/// `_start` running `body`, which may use the locals `$i` (`i32`) and `$h` (`i64`).
pub fn wat_start_guest(name: &str, data: &str, body: &str) -> PathBuf {
    let wat = format!(
        r#"(module
  {imports}
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  {data}
  (func (export "_start")
    (local $i i32) (local $h i64)
    {body}
  )
)"#,
        imports = wat_imports()
    );
    wat_guest(name, &wat)
}
