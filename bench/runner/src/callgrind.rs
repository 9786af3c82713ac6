//! Instruction counts (valgrind --tool=callgrind), repeatable where wall time on this busy 2-core
//! machine is not. Each operation runs at two N; instructions per operation are the slope
//! (I(N2) - I(N1)) / (N2 - N1), so process start-up, set-up, warm-up and the exit flush cancel
//! out. Counted per thread (--separate-threads=yes): the whole process, and the thread that runs
//! the loop (the guest's thread under `wasmedge`, the main thread natively), the "hot path".
//!
//! The profile of the plugin's per-span path is the same slope taken per function, from
//! callgrind_annotate of the hot thread at both N.

use crate::perop::{self, Prog};
use crate::proc;
use crate::Ctx;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct CgCase {
    pub env: Vec<(&'static str, &'static str)>,
    pub id: &'static str,
    pub what: &'static str,
    pub prog: Prog,
    pub op: &'static str,
    pub n1: u64,
    pub n2: u64,
    pub warmup: u64,
}

#[derive(Debug, Clone)]
pub struct ThreadSlope {
    pub thread: u32,
    pub per_op: f64,
    /// The thread's top functions by self cost per op (for labelling background threads).
    pub top: Vec<(String, f64)>,
}

#[derive(Debug, Clone)]
pub struct CgResult {
    pub case: CgCase,
    pub total_per_op: f64,
    pub hot: Option<ThreadSlope>,
    pub threads: Vec<ThreadSlope>,
    /// Per-thread output files at N1 and N2.
    files: [BTreeMap<u32, PathBuf>; 2],
    pub problems: Vec<String>,
}

/// Per-function slopes on the hot thread of one case.
#[derive(Debug, Clone)]
pub struct Profile {
    pub case_id: &'static str,
    pub hot_per_op: f64,
    pub inclusive: Vec<(String, f64)>,
    pub exclusive: Vec<(String, f64)>,
    /// Self cost per op by shared object (guest code, WasmEdge, plugin, libc, ...).
    pub by_object: Vec<(String, f64)>,
    /// Self cost per op inside the plugin's .so, by the crate the function's path starts with.
    pub plugin_by_crate: Vec<(String, f64)>,
}

/// The object in a `function (object)` name.
pub fn object_of(name: &str) -> &str {
    match name.rfind(" (") {
        Some(i) if name.ends_with(')') => &name[i + 2..name.len() - 1],
        _ => "unknown",
    }
}

/// The crate a Rust function's path starts with (`<opentelemetry_sdk::trace::Span as ...>::end` ->
/// `opentelemetry_sdk`).
pub fn crate_of(name: &str) -> String {
    let f = name.trim_start_matches(['<', '&', '*']).trim_start_matches("mut ").trim_start_matches("dyn ");
    match f.find("::") {
        Some(i) => f[..i].to_owned(),
        None => "(no path: libc/compiler symbols)".to_owned(),
    }
}

fn group(v: &[(String, f64)], key: impl Fn(&str) -> Option<String>) -> Vec<(String, f64)> {
    let mut m: HashMap<String, f64> = HashMap::new();
    for (name, x) in v {
        if let Some(k) = key(name) {
            *m.entry(k).or_insert(0.0) += x;
        }
    }
    let mut out: Vec<_> = m.into_iter().filter(|(_, x)| x.abs() > 0.5).collect();
    out.sort_by(|a, b| b.1.partial_cmp(&a.1).unwrap());
    out
}

#[derive(Debug, Clone)]
pub struct StartupCount {
    pub what: &'static str,
    pub instructions: u64,
}

pub struct Callgrind {
    pub results: Vec<CgResult>,
    pub profiles: Vec<Profile>,
    pub startup: Vec<StartupCount>,
}

impl Callgrind {
    pub fn get(&self, id: &str) -> Option<&CgResult> {
        self.results.iter().find(|r| r.case.id == id)
    }
}

pub fn cases(ctx: &Ctx) -> Vec<CgCase> {
    let n = |v| ctx.n(v);
    let ops = Prog::Wasm(ctx.module("ops", true));
    let sdk = Prog::Wasm(ctx.module("sdk-ops", true));
    let c = |id, what, prog: &Prog, op, n1: u64, warmup| CgCase {
        env: Vec::new(),
        id,
        what,
        prog: prog.clone(),
        op,
        n1: n(n1),
        n2: n(3 * n1),
        warmup: n(warmup),
    };
    vec![
        c("aot-abi", "empty plugin call: abi_version (a), AOT", &ops, "abi_version", 100_000, 1_000),
        c("aot-span", "span, 2 attributes, AOT", &ops, "span", 10_000, 1_000),
        CgCase {
            env: vec![("OTEL_TRACES_EXPORTER", "none")],
            ..c("aot-span-noexport", "span, 2 attributes, AOT, span export off", &ops, "span", 10_000, 1_000)
        },
        c("aot-counter", "counter add, 2 attributes, AOT", &ops, "counter", 20_000, 1_000),
        c("aot-bound", "bound counter add, AOT", &ops, "bound", 100_000, 1_000),
        c("aot-histogram", "histogram record, 2 attributes, AOT", &ops, "histogram", 20_000, 1_000),
        c("aot-log", "log record, 2 attributes, AOT", &ops, "log", 10_000, 1_000),
        c("aot-sdk-span", "in-guest SDK span, no-op exporter (c), AOT", &sdk, "span", 10_000, 1_000),
        c("aot-sdk-span-otlp", "in-guest SDK span + OTLP encoding, AOT", &sdk, "span-otlp", 5_000, 500),
        c("native-span", "native SDK span, batch, no-op exporter (b)", &Prog::Native, "span", 20_000, 1_000),
        c("native-span-otlp", "native SDK span, batch, OTLP/gRPC", &Prog::Native, "span-otlp", 10_000, 1_000),
        c(
            "native-span-simple",
            "native SDK span, simple processor, no-op exporter",
            &Prog::Native,
            "span-simple",
            20_000,
            1_000,
        ),
        c("native-counter", "native SDK counter add, 2 attributes", &Prog::Native, "counter", 50_000, 1_000),
        c("native-bound", "native SDK bound counter add", &Prog::Native, "bound", 200_000, 1_000),
        c("native-histogram", "native SDK histogram record", &Prog::Native, "histogram", 50_000, 1_000),
        c("native-log", "native SDK log record", &Prog::Native, "log", 10_000, 1_000),
    ]
}

/// Cases whose hot path is profiled function by function.
const PROFILED: &[&str] = &["aot-span", "aot-bound", "aot-counter", "aot-log"];

fn out_dir(ctx: &Ctx) -> PathBuf {
    ctx.work.join("callgrind")
}

/// Removes earlier output of `prefix` and returns the `--callgrind-out-file` pattern.
fn fresh(dir: &Path, prefix: &str) -> String {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().starts_with(&format!("{prefix}.")) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    format!("--callgrind-out-file={}/{prefix}.%p", dir.display())
}

/// The per-thread files `prefix.PID-TT` (TT = thread number).
fn thread_files(dir: &Path, prefix: &str) -> BTreeMap<u32, PathBuf> {
    let mut files = BTreeMap::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let Some(rest) = name.strip_prefix(&format!("{prefix}.")) else { continue };
            let Some((_pid, thread)) = rest.rsplit_once('-') else { continue };
            if let Ok(t) = thread.parse::<u32>() {
                files.insert(t, e.path());
            }
        }
    }
    files
}

/// The `totals:` (or `summary:`) line of a callgrind output file.
fn totals(path: &Path) -> u64 {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix("totals:").or_else(|| l.strip_prefix("summary:")))
        .and_then(|v| v.split_whitespace().next().and_then(|x| x.parse().ok()))
        .unwrap_or(0)
}

/// `callgrind_annotate` of one file: function -> Ir (inclusive or self).
fn annotate(path: &Path, inclusive: bool) -> HashMap<String, u64> {
    let mut cmd = std::process::Command::new("callgrind_annotate");
    if inclusive {
        cmd.arg("--inclusive=yes");
    }
    cmd.arg("--threshold=100").arg(path);
    let out = cmd.output().map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).unwrap_or_default();
    let mut map = HashMap::new();
    for line in out.lines() {
        let t = line.trim_start();
        let Some((num, rest)) = t.split_once(' ') else { continue };
        if num.is_empty() || !num.chars().all(|c| c.is_ascii_digit() || c == ',') {
            continue;
        }
        let rest = rest.trim_start();
        let Some(rest) = rest.strip_prefix('(').and_then(|r| r.split_once(')')).map(|(_, r)| r.trim()) else {
            continue;
        };
        if rest.starts_with("PROGRAM TOTALS") {
            continue;
        }
        let ir: u64 = num.replace(',', "").parse().unwrap_or(0);
        *map.entry(function_name(rest)).or_insert(0) += ir;
    }
    map
}

/// `file:function [object]` -> `function (object file name)`.
fn function_name(s: &str) -> String {
    let (body, object) = match s.rfind(" [") {
        Some(i) if s.ends_with(']') => (&s[..i], Some(&s[i + 2..s.len() - 1])),
        _ => (s, None),
    };
    let function = body.split_once(':').map_or(body, |(_, f)| f);
    match object.and_then(|o| Path::new(o).file_name()).map(|f| f.to_string_lossy().into_owned()) {
        Some(obj) => format!("{function} ({obj})"),
        None => function.to_owned(),
    }
}

fn slopes(a: &HashMap<String, u64>, b: &HashMap<String, u64>, dn: f64) -> Vec<(String, f64)> {
    let mut v: Vec<(String, f64)> = b
        .iter()
        .map(|(k, &ir2)| (k.clone(), (ir2 as f64 - a.get(k).copied().unwrap_or(0) as f64) / dn))
        .collect();
    v.sort_by(|x, y| y.1.partial_cmp(&x.1).unwrap());
    v
}

/// Both runs of one case and its slopes (also the instrumentation section's rows).
pub fn run_case(ctx: &Ctx, case: &CgCase) -> CgResult {
    let dir = out_dir(ctx);
    let mut problems = Vec::new();
    let mut files = [BTreeMap::new(), BTreeMap::new()];
    for (k, n) in [case.n1, case.n2].into_iter().enumerate() {
        let prefix = format!("{}-{n}", case.id);
        let wrapper = vec![
            "valgrind".to_owned(),
            "--tool=callgrind".to_owned(),
            "--separate-threads=yes".to_owned(),
            fresh(&dir, &prefix),
        ];
        // Under valgrind the exit flush of 30k spans takes longer than the default 5 s bound.
        let wrapper =
            [vec!["env".to_owned(), "WASMEDGE_OTEL_EXIT_FLUSH_TIMEOUT=300000".to_owned()], wrapper].concat();
        let (finished, p) = perop::run_checked(ctx, &case.prog, case.op, n, case.warmup, &wrapper, &case.env);
        problems.extend(p.into_iter().map(|m| format!("N={n}: {m}")));
        if finished.is_none() {
            continue;
        }
        files[k] = thread_files(&dir, &prefix);
        if files[k].is_empty() {
            problems.push(format!("N={n}: no callgrind output"));
        }
    }
    let dn = (case.n2 - case.n1) as f64;
    let mut threads = Vec::new();
    for (t, f2) in &files[1] {
        let ir2 = totals(f2);
        let ir1 = files[0].get(t).map(|f| totals(f)).unwrap_or(0);
        threads.push(ThreadSlope { thread: *t, per_op: (ir2 as f64 - ir1 as f64) / dn, top: Vec::new() });
    }
    let total_per_op = threads.iter().map(|t| t.per_op).sum();
    // Label the threads that do work per operation by their top self costs.
    for t in threads.iter_mut().filter(|t| t.per_op > 50.0) {
        if let (Some(a), Some(b)) = (files[0].get(&t.thread), files[1].get(&t.thread)) {
            t.top = slopes(&annotate(a, false), &annotate(b, false), dn).into_iter().take(3).collect();
        }
    }
    // The calling thread: natively the main thread (1); under `wasmedge` the thread it runs the
    // guest on, the first one it starts (2; the plugin's threads start only with the first span).
    let calling = match case.prog {
        Prog::Native => 1,
        Prog::Wasm(_) => 2,
    };
    let hot = threads
        .iter()
        .find(|t| t.thread == calling)
        .or_else(|| threads.iter().max_by(|a, b| a.per_op.partial_cmp(&b.per_op).unwrap()))
        .cloned();
    CgResult { case: case.clone(), total_per_op, hot, threads, files, problems }
}

fn profile(result: &CgResult) -> Option<Profile> {
    let hot = result.hot.as_ref()?;
    let a = result.files[0].get(&hot.thread)?;
    let b = result.files[1].get(&hot.thread)?;
    let dn = (result.case.n2 - result.case.n1) as f64;
    let exclusive = slopes(&annotate(a, false), &annotate(b, false), dn);
    let by_object = group(&exclusive, |n| Some(object_of(n).to_owned()));
    let plugin_by_crate = group(&exclusive, |n| {
        (object_of(n) == "libwasmedge_otel.so").then(|| crate_of(n.rsplit_once(" (").map_or(n, |(f, _)| f)))
    });
    Some(Profile {
        case_id: result.case.id,
        hot_per_op: hot.per_op,
        inclusive: slopes(&annotate(a, true), &annotate(b, true), dn),
        exclusive,
        by_object,
        plugin_by_crate,
    })
}

/// Whole-process instructions of `wasmedge MODULE` (start-up of a tiny guest).
fn startup_count(
    ctx: &Ctx,
    what: &'static str,
    module: &Path,
    plugin: bool,
    endpoint: &str,
) -> Option<StartupCount> {
    let dir = out_dir(ctx);
    let prefix = format!(
        "startup-{}",
        if plugin { module.file_stem()?.to_string_lossy().into_owned() } else { "no-plugin".into() }
    );
    let mut cmd = proc::clean("valgrind", &ctx.home);
    cmd.arg("--tool=callgrind").arg(fresh(&dir, &prefix)).arg("wasmedge").arg(module);
    cmd.env("WASMEDGE_PLUGIN_PATH", if plugin { &ctx.plugin_dir } else { &ctx.no_plugin_dir })
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint);
    let finished = proc::run(&mut cmd).ok()?;
    if !finished.ok() {
        eprintln!("bench: callgrind start-up {what}: {}", finished.describe());
        return None;
    }
    let mut total = 0;
    for e in std::fs::read_dir(&dir).ok()?.flatten() {
        if e.file_name().to_string_lossy().starts_with(&format!("{prefix}.")) {
            total += totals(&e.path());
        }
    }
    Some(StartupCount { what, instructions: total })
}

pub fn run(ctx: &Ctx) -> Callgrind {
    let _ = std::fs::create_dir_all(out_dir(ctx));
    let mut results = Vec::new();
    for case in cases(ctx) {
        let started = std::time::Instant::now();
        let r = run_case(ctx, &case);
        eprintln!(
            "bench:   callgrind {}: {:.0} instructions/op on the hot thread, {:.0} in the whole process ({:.0} s)",
            case.id,
            r.hot.as_ref().map_or(f64::NAN, |h| h.per_op),
            r.total_per_op,
            started.elapsed().as_secs_f64()
        );
        results.push(r);
    }
    let profiles = results.iter().filter(|r| PROFILED.contains(&r.case.id)).filter_map(profile).collect();
    let mut startup = Vec::new();
    if let Ok(collector) = wasmedge_otel_collector::Collector::start("127.0.0.1:0") {
        let endpoint = collector.endpoint();
        let plain = ctx.aot.join("hello-world-plain.so");
        let span = ctx.aot.join("hello-world.so");
        startup.extend(startup_count(ctx, "without the plugin", &plain, false, &endpoint));
        startup.extend(startup_count(ctx, "plugin loaded, unused", &plain, true, &endpoint));
        startup.extend(startup_count(ctx, "plugin exporting one span", &span, true, &endpoint));
        collector.shutdown();
    }
    Callgrind { results, profiles, startup }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_names() {
        assert_eq!(
            function_name("???:wasmedge_otel::core::attributes::decode [/x/libwasmedge_otel.so]"),
            "wasmedge_otel::core::attributes::decode (libwasmedge_otel.so)"
        );
        assert_eq!(function_name("./malloc/./malloc/malloc.c:free [/usr/lib/libc.so.6]"), "free (libc.so.6)");
        assert_eq!(function_name("./malloc/./malloc/arena.c:free"), "free");
        assert_eq!(object_of("free (libc.so.6)"), "libc.so.6");
        assert_eq!(crate_of("<opentelemetry_sdk::trace::tracer::SdkTracer as opentelemetry::trace::tracer::Tracer>::build"), "opentelemetry_sdk");
        assert_eq!(crate_of("wasmedge_otel::core::attributes::decode"), "wasmedge_otel");
    }
}
