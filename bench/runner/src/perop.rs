//! Per-operation costs, timed inside the guest (or the native program) around the loop, so that
//! process start-up and pipeline set-up do not count. Every configuration runs `runs` times,
//! interleaved: round r runs every configuration once, so a ratio between two configurations is
//! taken between runs made at the same moment (paired), and drift in the machine's load (other
//! builds on this 2-core machine) shows as spread instead of bias.

use crate::proc::{self, Finished};
use crate::stats::{summarize, Summary};
use crate::Ctx;
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::process::Command;
use wasmedge_otel_collector::Collector;

/// Queue sizes for the zero-loss configuration: larger than any N run here, so the batch
/// processors never drop (the default 2048 drops in a tight loop; see the throughput section).
pub const BIG_QUEUE: &str = "262144";

/// What runs.
#[derive(Debug, Clone)]
pub enum Prog {
    /// `wasmedge MODULE OP N WARMUP` with the plugin loaded (module: AOT .so or .wasm).
    Wasm(PathBuf),
    /// `bench-native OP N WARMUP`.
    Native,
}

/// The command for `prog op n warmup`, with a clean environment, the plugin (for Wasm), the OTLP
/// endpoint and the zero-loss queue sizes. `wrapper` (e.g. valgrind) goes in front.
pub fn command(
    ctx: &Ctx,
    prog: &Prog,
    op: &str,
    n: u64,
    warmup: u64,
    endpoint: &str,
    wrapper: &[String],
) -> Command {
    let mut words: Vec<std::ffi::OsString> = wrapper.iter().map(Into::into).collect();
    match prog {
        Prog::Wasm(module) => {
            words.push("wasmedge".into());
            words.push(module.into());
        }
        Prog::Native => words.push(ctx.native.clone().into()),
    }
    let mut cmd = proc::clean(&words[0], &ctx.home);
    cmd.args(&words[1..]).arg(op).arg(n.to_string()).arg(warmup.to_string());
    cmd.env("WASMEDGE_PLUGIN_PATH", &ctx.plugin_dir)
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
        .env("OTEL_SERVICE_NAME", "bench")
        .env("OTEL_BSP_MAX_QUEUE_SIZE", BIG_QUEUE)
        .env("OTEL_BLRP_MAX_QUEUE_SIZE", BIG_QUEUE);
    cmd
}

/// Spans and log records the collector received.
pub fn received(collector: &Collector) -> (u64, u64) {
    let spans = collector
        .trace_requests()
        .iter()
        .flat_map(|r| &r.request.resource_spans)
        .flat_map(|rs| &rs.scope_spans)
        .map(|ss| ss.spans.len() as u64)
        .sum();
    let logs = collector
        .log_requests()
        .iter()
        .flat_map(|r| &r.request.resource_logs)
        .flat_map(|rl| &rl.scope_logs)
        .map(|sl| sl.log_records.len() as u64)
        .sum();
    (spans, logs)
}

/// Spans (a range: exact but for one case) and log records a run must deliver: the ops guest
/// starts one span before its warm-up.
pub fn expected(
    prog: &Prog,
    op: &str,
    n: u64,
    warmup: u64,
    env: &[(&str, &str)],
) -> (RangeInclusive<u64>, u64) {
    let all = n + warmup;
    if env.contains(&("OTEL_TRACES_EXPORTER", "none")) {
        return (0..=0, if op == "log" && matches!(prog, Prog::Wasm(_)) { all } else { 0 });
    }
    let exactly = |v| (v..=v, 0);
    match prog {
        Prog::Wasm(module) if module.file_stem().is_some_and(|s| s == "ops") => {
            let spans = 1 + if op == "span" { all } else { 0 };
            (spans..=spans, if op == "log" { all } else { 0 })
        }
        // `calls` with its one tiny function instrumented (crate::instrument): every call is a span
        // with the duration filter off; none with a threshold far above any call (the callgrind
        // rows); with the default 20 µs, the calls that a preemption made longer than that, which
        // no one can predict.
        Prog::Wasm(module)
            if module.file_stem().is_some_and(|s| s == crate::instrument::CALLS_INSTRUMENTED) =>
        {
            match env.iter().find(|(k, _)| *k == crate::instrument::MIN_DURATION).map(|(_, v)| *v) {
                Some("0") => exactly(all),
                Some(_) => exactly(0),
                None => (0..=all, 0),
            }
        }
        Prog::Wasm(_) => exactly(0),
        Prog::Native => exactly(if op == "span-otlp" { all } else { 0 }),
    }
}

/// One run with a fresh collector. Returns the finished process and the problems seen (exit code,
/// loss, counts at the collector).
pub fn run_checked(
    ctx: &Ctx,
    prog: &Prog,
    op: &str,
    n: u64,
    warmup: u64,
    wrapper: &[String],
    env: &[(&str, &str)],
) -> (Option<Finished>, Vec<String>) {
    let collector = match Collector::start("127.0.0.1:0") {
        Ok(c) => c,
        Err(e) => return (None, vec![format!("collector did not start: {e}")]),
    };
    let mut cmd = command(ctx, prog, op, n, warmup, &collector.endpoint(), wrapper);
    cmd.envs(env.iter().copied());
    let finished = match proc::run(&mut cmd) {
        Ok(f) => f,
        Err(e) => return (None, vec![format!("cannot run: {e}")]),
    };
    let mut problems = Vec::new();
    if !finished.ok() {
        problems.push(finished.describe());
    }
    let (lost, failed, dropped) = proc::spans_lost(&finished.stderr);
    if lost > 0 {
        problems.push(format!("plugin reported {lost} spans lost ({failed} failed, {dropped} dropped)"));
    }
    for line in finished.stderr.lines().filter(|l| l.contains("telemetry lost") && !l.contains(" spans (")) {
        problems.push(line.to_owned());
    }
    let (want_spans, want_logs) = expected(prog, op, n, warmup, env);
    let (spans, logs) = received(&collector);
    if !want_spans.contains(&spans) || logs != want_logs {
        let want = if want_spans.start() == want_spans.end() {
            want_spans.start().to_string()
        } else {
            format!("{} to {}", want_spans.start(), want_spans.end())
        };
        problems.push(format!(
            "collector received {spans} spans and {logs} log records, expected {want} and {want_logs}"
        ));
    }
    collector.shutdown();
    (Some(finished), problems)
}

/// One per-operation configuration.
#[derive(Debug, Clone)]
pub struct Case {
    pub id: &'static str,
    pub what: &'static str,
    pub mode: &'static str,
    pub prog: Prog,
    pub op: &'static str,
    pub n: u64,
    pub warmup: u64,
    /// (case id, short name) of the baselines this row is compared with.
    pub baselines: Vec<(&'static str, &'static str)>,
    /// Extra environment of the run.
    pub env: Vec<(&'static str, &'static str)>,
}

#[derive(Debug, Clone)]
pub struct CaseResult {
    pub case: Case,
    /// ns/op per round (NaN where the run failed).
    pub values: Vec<f64>,
    pub summary: Summary,
    pub problems: Vec<String>,
}

pub struct PerOp {
    pub results: Vec<CaseResult>,
    pub rounds: usize,
}

impl PerOp {
    pub fn get(&self, id: &str) -> Option<&CaseResult> {
        self.results.iter().find(|r| r.case.id == id)
    }

    /// Median and range of the per-round ratios `a / b` (paired: same round).
    pub fn paired_ratio(&self, a: &str, b: &str) -> Option<Summary> {
        let (a, b) = (self.get(a)?, self.get(b)?);
        let ratios: Vec<f64> = a.values.iter().zip(&b.values).map(|(x, y)| x / y).collect();
        let s = summarize(&ratios);
        (s.n > 0).then_some(s)
    }
}

pub fn cases(ctx: &Ctx) -> Vec<Case> {
    let n = |v| ctx.n(v);
    let ops_aot = Prog::Wasm(ctx.module("ops", true));
    let ops_int = Prog::Wasm(ctx.module("ops", false));
    let sdk_aot = Prog::Wasm(ctx.module("sdk-ops", true));
    let sdk_int = Prog::Wasm(ctx.module("sdk-ops", false));
    let c = |id, what, mode, prog: &Prog, op, count, warmup, baselines| Case {
        id,
        what,
        mode,
        prog: prog.clone(),
        op,
        n: count,
        warmup,
        baselines,
        env: Vec::new(),
    };
    vec![
        // AOT through the plugin.
        c(
            "aot-loop",
            "guest loop, no import (floor)",
            "AOT",
            &ops_aot,
            "loop",
            n(10_000_000),
            n(100_000),
            vec![],
        ),
        c(
            "aot-clock",
            "WASI clock_time_get (built-in host call)",
            "AOT",
            &ops_aot,
            "clock",
            n(500_000),
            n(10_000),
            vec![("aot-abi", "empty plugin call")],
        ),
        c(
            "aot-abi",
            "empty plugin call: abi_version (a)",
            "AOT",
            &ops_aot,
            "abi_version",
            n(500_000),
            n(10_000),
            vec![],
        ),
        c(
            "aot-span",
            "span, 2 attributes (start + end)",
            "AOT",
            &ops_aot,
            "span",
            n(50_000),
            n(5_000),
            vec![
                ("native-span", "native SDK batch (b)"),
                ("native-span-otlp", "native SDK batch+OTLP"),
                ("aot-sdk-span", "in-guest SDK (c)"),
                ("aot-abi", "empty call (a)"),
            ],
        ),
        Case {
            env: vec![("OTEL_TRACES_EXPORTER", "none")],
            ..c(
                "aot-span-noexport",
                "span, 2 attributes, span export off (OTEL_TRACES_EXPORTER=none: no processor)",
                "AOT",
                &ops_aot,
                "span",
                n(50_000),
                n(5_000),
                vec![("native-span", "native SDK batch (b)"), ("aot-span", "with export")],
            )
        },
        c(
            "aot-counter",
            "counter add, 2 attributes",
            "AOT",
            &ops_aot,
            "counter",
            n(100_000),
            n(10_000),
            vec![("native-counter", "native SDK"), ("aot-abi", "empty call")],
        ),
        c(
            "aot-bound",
            "bound counter add",
            "AOT",
            &ops_aot,
            "bound",
            n(500_000),
            n(10_000),
            vec![("aot-abi", "empty call"), ("native-bound", "native SDK bound")],
        ),
        c(
            "aot-histogram",
            "histogram record, 2 attributes",
            "AOT",
            &ops_aot,
            "histogram",
            n(100_000),
            n(10_000),
            vec![("native-histogram", "native SDK"), ("aot-abi", "empty call")],
        ),
        c(
            "aot-log",
            "log record, body + 2 attributes",
            "AOT",
            &ops_aot,
            "log",
            n(50_000),
            n(5_000),
            vec![("native-log", "native SDK"), ("aot-abi", "empty call")],
        ),
        c(
            "aot-sdk-span",
            "in-guest SDK span, no-op exporter (c)",
            "AOT",
            &sdk_aot,
            "span",
            n(50_000),
            n(5_000),
            vec![("native-span-simple", "native SDK simple")],
        ),
        c(
            "aot-sdk-span-otlp",
            "in-guest SDK span + OTLP encoding",
            "AOT",
            &sdk_aot,
            "span-otlp",
            n(20_000),
            n(2_000),
            vec![("aot-sdk-span", "in-guest SDK no-op")],
        ),
        // Interpreted through the plugin.
        c(
            "int-loop",
            "guest loop, no import (floor)",
            "interpreted",
            &ops_int,
            "loop",
            n(200_000),
            n(10_000),
            vec![],
        ),
        c(
            "int-clock",
            "WASI clock_time_get (built-in host call)",
            "interpreted",
            &ops_int,
            "clock",
            n(100_000),
            n(5_000),
            vec![("int-abi", "empty plugin call")],
        ),
        c(
            "int-abi",
            "empty plugin call: abi_version (a)",
            "interpreted",
            &ops_int,
            "abi_version",
            n(200_000),
            n(10_000),
            vec![],
        ),
        c(
            "int-span",
            "span, 2 attributes (start + end)",
            "interpreted",
            &ops_int,
            "span",
            n(10_000),
            n(1_000),
            vec![
                ("int-sdk-span", "in-guest SDK (c)"),
                ("int-abi", "empty call (a)"),
                ("aot-span", "same, AOT"),
            ],
        ),
        c(
            "int-counter",
            "counter add, 2 attributes",
            "interpreted",
            &ops_int,
            "counter",
            n(10_000),
            n(1_000),
            vec![("int-abi", "empty call")],
        ),
        c(
            "int-bound",
            "bound counter add",
            "interpreted",
            &ops_int,
            "bound",
            n(100_000),
            n(5_000),
            vec![("int-abi", "empty call")],
        ),
        c(
            "int-histogram",
            "histogram record, 2 attributes",
            "interpreted",
            &ops_int,
            "histogram",
            n(10_000),
            n(1_000),
            vec![("int-abi", "empty call")],
        ),
        c(
            "int-log",
            "log record, body + 2 attributes",
            "interpreted",
            &ops_int,
            "log",
            n(10_000),
            n(1_000),
            vec![("int-abi", "empty call")],
        ),
        c(
            "int-sdk-span",
            "in-guest SDK span, no-op exporter (c)",
            "interpreted",
            &sdk_int,
            "span",
            n(2_000),
            n(200),
            vec![],
        ),
        c(
            "int-sdk-span-otlp",
            "in-guest SDK span + OTLP encoding",
            "interpreted",
            &sdk_int,
            "span-otlp",
            n(500),
            n(50),
            vec![("int-sdk-span", "in-guest SDK no-op")],
        ),
        // Native opentelemetry_sdk 0.33.
        c(
            "native-span",
            "span, 2 attributes, batch processor, no-op exporter (b)",
            "native",
            &Prog::Native,
            "span",
            n(200_000),
            n(20_000),
            vec![],
        ),
        c(
            "native-span-otlp",
            "span, 2 attributes, batch processor, OTLP/gRPC to the collector",
            "native",
            &Prog::Native,
            "span-otlp",
            n(50_000),
            n(5_000),
            vec![("native-span", "no-op exporter")],
        ),
        c(
            "native-span-simple",
            "span, 2 attributes, simple processor, no-op exporter",
            "native",
            &Prog::Native,
            "span-simple",
            n(200_000),
            n(20_000),
            vec![],
        ),
        c(
            "native-counter",
            "counter add, 2 attributes",
            "native",
            &Prog::Native,
            "counter",
            n(500_000),
            n(50_000),
            vec![],
        ),
        c(
            "native-bound",
            "bound counter add (SDK experimental bound instruments)",
            "native",
            &Prog::Native,
            "bound",
            n(5_000_000),
            n(100_000),
            vec![],
        ),
        c(
            "native-histogram",
            "histogram record, 2 attributes",
            "native",
            &Prog::Native,
            "histogram",
            n(500_000),
            n(50_000),
            vec![],
        ),
        c(
            "native-log",
            "log record, body + 2 attributes, batch processor, no-op exporter",
            "native",
            &Prog::Native,
            "log",
            n(100_000),
            n(10_000),
            vec![],
        ),
    ]
}

pub fn run(ctx: &Ctx) -> PerOp {
    run_cases(ctx, cases(ctx))
}

/// Runs `cases` for `ctx.opts.runs` rounds, interleaved (also the instrumentation section's rows).
pub fn run_cases(ctx: &Ctx, cases: Vec<Case>) -> PerOp {
    let mut values = vec![vec![f64::NAN; ctx.opts.runs]; cases.len()];
    let mut problems: Vec<Vec<String>> = vec![Vec::new(); cases.len()];
    #[allow(clippy::needless_range_loop)] // `round` indexes the inner vectors, one per case
    for round in 0..ctx.opts.runs {
        let started = std::time::Instant::now();
        for (i, case) in cases.iter().enumerate() {
            let (finished, mut p) =
                run_checked(ctx, &case.prog, case.op, case.n, case.warmup, &[], &case.env);
            match finished.as_ref().and_then(|f| proc::ns_per_op(&f.stdout)) {
                Some(v) => values[i][round] = v,
                None => p.push("no RESULT line".into()),
            }
            for msg in p {
                problems[i].push(format!("run {}: {msg}", round + 1));
            }
        }
        eprintln!(
            "bench:   round {}/{} done in {:.1} s",
            round + 1,
            ctx.opts.runs,
            started.elapsed().as_secs_f64()
        );
    }
    let results = cases
        .into_iter()
        .zip(values)
        .zip(problems)
        .map(|((case, values), problems)| CaseResult { summary: summarize(&values), case, values, problems })
        .collect();
    PerOp { results, rounds: ctx.opts.runs }
}
