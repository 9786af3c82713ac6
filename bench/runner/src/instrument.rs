//! Automatic instrumentation (`wasmedge-otel instrument`, docs/instrumentation.md): what it costs.
//!
//! - size growth: each example guest (and the bench guests) before and after the rewrite, with the
//!   default selection and with `--all`. The examples are built stripped (`strip = true`), so the
//!   default selection finds no names there; the same examples built with their name section
//!   (`make bench-guests`, target/bench-examples) show what a user who keeps names gets;
//! - per instrumented call: `bench/guests/calls` (a loop calling a tiny function) uninstrumented,
//!   instrumented with the default duration filter (calls dropped) and with the filter off (every
//!   call exported), AOT and interpreted, interleaved with the per-operation machinery
//!   ([`perop::run_cases`]), plus callgrind slopes on the guest thread (AOT);
//! - rewrite time: the command on a ~1 MB module (bench/guests profile `rewrite`).

use crate::callgrind::{self, CgCase, CgResult};
use crate::perop::{self, Case, PerOp, Prog};
use crate::proc;
use crate::stats::{count, count_f, ns, ns_range, ratio, summarize, Summary};
use crate::Ctx;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// File stem of the instrumented `calls` module (perop::expected knows its spans by it).
pub const CALLS_INSTRUMENTED: &str = "calls-instrumented";
/// The plugin's duration filter for instrumented calls, in µs (default 20).
pub const MIN_DURATION: &str = "WASMEDGE_OTEL_FUNC_MIN_DURATION";
/// The one function of `calls` that gets probes. `--min-instructions 0` as well, so that a
/// compiler that makes it smaller than the tiny-leaf threshold does not silently drop it.
const CALLS_SELECTION: &[&str] = &["--include", "calls::tiny", "--min-instructions", "0"];

/// One module rewritten once.
#[derive(Debug, Clone)]
pub struct SizeRow {
    pub module: String,
    pub selection: &'static str,
    pub before: Option<u64>,
    pub after: Option<u64>,
    /// (instrumented, defined functions), from the tool's summary line.
    pub functions: Option<(u64, u64)>,
    pub problem: Option<String>,
}

/// Rewrite time of one module and selection.
#[derive(Debug, Clone)]
pub struct RewriteTime {
    pub selection: &'static str,
    pub before: u64,
    pub after: Option<u64>,
    pub functions: Option<(u64, u64)>,
    /// Wall time of the `wasmedge-otel instrument` process, ms per run.
    pub wall_ms: Summary,
    /// The time the tool reports for the rewrite itself (validation, rewrite, validation of the
    /// output; no file I/O, no process start), ms per run.
    pub tool_ms: Summary,
    pub runs: usize,
}

pub struct Instrument {
    pub sizes: Vec<SizeRow>,
    pub calls: Option<PerOp>,
    pub cg: Vec<CgResult>,
    /// The module timed, and its timings.
    pub rewrite_module: PathBuf,
    pub rewrite: Vec<RewriteTime>,
    pub problems: Vec<String>,
}

/// The rewriter, built by `cargo build --release -p wasmedge-otel-instrument`.
pub fn tool(ctx: &Ctx) -> PathBuf {
    ctx.root.join("target/release/wasmedge-otel")
}

/// The module timed for rewrite time: size-sdk-otlp built with the `rewrite` profile (~1 MB).
pub fn rewrite_module(ctx: &Ctx) -> PathBuf {
    ctx.guests.join("rewrite/size-sdk-otlp.wasm")
}

fn dir(ctx: &Ctx) -> PathBuf {
    ctx.work.join("instrument")
}

/// `instrumented X of Y functions (... A -> B bytes, T ms)` from the tool's stderr.
fn summary_line(stderr: &str) -> Option<(u64, u64, f64)> {
    let line = stderr.lines().find(|l| l.contains(": instrumented "))?;
    let rest = line.split(": instrumented ").nth(1)?;
    let mut words = rest.split_whitespace();
    let done = words.next()?.parse().ok()?;
    let defined = words.nth(1)?.parse().ok()?;
    let ms = line.rsplit(", ").next()?.trim_end_matches(')').strip_suffix(" ms")?.parse().ok()?;
    Some((done, defined, ms))
}

/// One `wasmedge-otel instrument IN -o OUT ARGS`: (instrumented, defined, tool ms) and the process.
fn instrument(
    ctx: &Ctx,
    input: &Path,
    output: &Path,
    args: &[&str],
) -> Result<((u64, u64, f64), proc::Finished), String> {
    let mut cmd = proc::clean(tool(ctx), &ctx.home);
    cmd.arg("instrument").arg(input).arg("-o").arg(output).args(args);
    let finished = proc::run(&mut cmd).map_err(|e| format!("{}: {e}", tool(ctx).display()))?;
    if !finished.ok() {
        return Err(format!("instrument {}: {}", input.display(), finished.describe()));
    }
    let line = summary_line(&finished.stderr)
        .ok_or_else(|| format!("instrument {}: no summary line in its output", input.display()))?;
    Ok((line, finished))
}

fn size_of(path: &Path) -> Option<u64> {
    std::fs::metadata(path).ok().map(|m| m.len())
}

/// (name shown, arguments) of each selection a module is instrumented with.
type Selections = &'static [(&'static str, &'static [&'static str])];

fn sizes(ctx: &Ctx) -> Vec<SizeRow> {
    let mut modules: Vec<(String, PathBuf, Selections)> = Vec::new();
    // Both selections on the stripped examples: the default finds nothing to name, `--all` shows
    // what probes on every function cost.
    const BOTH: Selections = &[("default", &[]), ("--all", &["--all"])];
    const DEFAULT: Selections = &[("default", &[])];
    let mut examples: Vec<PathBuf> = std::fs::read_dir(&ctx.examples)
        .map(|d| {
            d.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "wasm")).collect()
        })
        .unwrap_or_default();
    examples.sort();
    for p in examples {
        let stem = p.file_stem().unwrap_or_default().to_string_lossy().into_owned();
        modules.push((format!("examples/{stem} (stripped, as `make guests` builds it)"), p, BOTH));
    }
    for name in ["hello-world", "all-signals", "http-service"] {
        modules.push((
            format!("examples/{name} with its name section"),
            ctx.root.join(format!("target/bench-examples/wasm32-wasip1/release/{name}.wasm")),
            DEFAULT,
        ));
    }
    for name in ["ops", "calls"] {
        modules.push((
            format!("bench/guests/{name} (release, names kept)"),
            ctx.module(name, false),
            DEFAULT,
        ));
    }
    let out = dir(ctx).join("size-out.wasm");
    let mut rows = Vec::new();
    for (module, path, selections) in modules {
        for (selection, args) in selections {
            let before = size_of(&path);
            let mut row = SizeRow {
                module: module.clone(),
                selection,
                before,
                after: None,
                functions: None,
                problem: None,
            };
            if before.is_none() {
                row.problem = Some(format!("{} is missing (make bench-guests)", path.display()));
            } else {
                match instrument(ctx, &path, &out, args) {
                    Ok(((done, defined, _), _)) => {
                        row.after = size_of(&out);
                        row.functions = Some((done, defined));
                    }
                    Err(e) => row.problem = Some(e),
                }
            }
            rows.push(row);
        }
    }
    rows
}

fn rewrite_times(ctx: &Ctx, problems: &mut Vec<String>) -> Vec<RewriteTime> {
    let input = rewrite_module(ctx);
    let Some(before) = size_of(&input) else {
        problems.push(format!("rewrite time: {} is missing (make bench-guests)", input.display()));
        return Vec::new();
    };
    let out = dir(ctx).join("rewrite-out.wasm");
    let runs = if ctx.opts.quick { 3 } else { 2 * ctx.opts.runs + 1 };
    let mut result = Vec::new();
    for (selection, args) in [("default", &[][..]), ("--all", &["--all"][..])] {
        let (mut wall, mut tool_ms, mut functions) = (Vec::new(), Vec::new(), None);
        // One unmeasured run first: the page cache holds the input and the binary afterwards.
        for k in 0..=runs {
            match instrument(ctx, &input, &out, args) {
                Ok(((done, defined, ms), finished)) if k > 0 => {
                    wall.push(finished.wall.as_secs_f64() * 1e3);
                    tool_ms.push(ms);
                    functions = Some((done, defined));
                }
                Ok(_) => {}
                Err(e) => problems.push(format!("rewrite time: {e}")),
            }
        }
        result.push(RewriteTime {
            selection,
            before,
            after: size_of(&out),
            functions,
            wall_ms: summarize(&wall),
            tool_ms: summarize(&tool_ms),
            runs: wall.len(),
        });
    }
    result
}

/// Instruments `calls` (only `calls::tiny`) and AOT-compiles both modules. Returns the
/// instrumented .wasm.
fn prepare_calls(ctx: &Ctx) -> Result<PathBuf, String> {
    let plain = ctx.module("calls", false);
    if !plain.exists() {
        return Err(format!("{} is missing (make bench-guests)", plain.display()));
    }
    let instrumented = dir(ctx).join(format!("{CALLS_INSTRUMENTED}.wasm"));
    let ((done, _, _), _) = instrument(ctx, &plain, &instrumented, CALLS_SELECTION)?;
    if done != 1 {
        return Err(format!("calls: {done} functions instrumented, expected calls::tiny alone"));
    }
    for (name, wasm) in [("calls", &plain), (CALLS_INSTRUMENTED, &instrumented)] {
        let so = ctx.aot.join(format!("{name}.so"));
        let done = proc::run(proc::clean("wasmedge", &ctx.home).arg("compile").arg(wasm).arg(&so))
            .map_err(|e| format!("wasmedge compile: {e}"))?;
        if !done.ok() {
            return Err(format!("wasmedge compile {}: {}", wasm.display(), done.describe()));
        }
    }
    Ok(instrumented)
}

fn call_cases(ctx: &Ctx, instrumented: &Path) -> Vec<Case> {
    let n = |v| ctx.n(v);
    let mut cases = Vec::new();
    for (aot, mode) in [(true, "AOT"), (false, "interpreted")] {
        let plain = Prog::Wasm(ctx.module("calls", aot));
        let traced = Prog::Wasm(if aot {
            ctx.aot.join(format!("{CALLS_INSTRUMENTED}.so"))
        } else {
            instrumented.to_path_buf()
        });
        let ops = Prog::Wasm(ctx.module("ops", aot));
        // Ids per mode: they are &'static, and the render pairs rows of the same mode.
        let [id_plain, id_filtered, id_exported, id_abi] = if aot {
            ["aot-call-plain", "aot-call-filtered", "aot-call-exported", "aot-call-abi"]
        } else {
            ["int-call-plain", "int-call-filtered", "int-call-exported", "int-call-abi"]
        };
        let case = |id, what, prog: &Prog, op, count, warmup, baselines, env| Case {
            id,
            what,
            mode,
            prog: prog.clone(),
            op,
            n: n(count),
            warmup: n(warmup),
            baselines,
            env,
        };
        let scale = |aot_n: u64, int_n: u64| if aot { aot_n } else { int_n };
        cases.extend([
            case(
                id_plain,
                "(a) uninstrumented call of `calls::tiny`",
                &plain,
                "call",
                scale(10_000_000, 500_000),
                scale(100_000, 10_000),
                vec![],
                vec![],
            ),
            case(
                id_filtered,
                "(b) instrumented, default filter (20 µs: calls dropped)",
                &traced,
                "call",
                scale(500_000, 100_000),
                scale(10_000, 5_000),
                vec![(id_plain, "uninstrumented (a)"), (id_abi, "empty plugin call")],
                vec![],
            ),
            case(
                id_exported,
                "(c) instrumented, WASMEDGE_OTEL_FUNC_MIN_DURATION=0 (every call exported)",
                &traced,
                "call",
                scale(50_000, 10_000),
                scale(5_000, 1_000),
                vec![(id_filtered, "filtered (b)"), (id_plain, "uninstrumented (a)")],
                vec![(MIN_DURATION, "0")],
            ),
            case(
                id_abi,
                "reference: empty plugin call (`ops abi_version`; a probe pair is two host calls)",
                &ops,
                "abi_version",
                scale(500_000, 200_000),
                scale(10_000, 10_000),
                vec![],
                vec![],
            ),
        ]);
    }
    cases
}

fn call_callgrind(ctx: &Ctx) -> Vec<CgResult> {
    let _ = std::fs::create_dir_all(ctx.work.join("callgrind"));
    let n = |v| ctx.n(v);
    let plain = Prog::Wasm(ctx.module("calls", true));
    let traced = Prog::Wasm(ctx.aot.join(format!("{CALLS_INSTRUMENTED}.so")));
    let c = |id, what, prog: &Prog, n1: u64, warmup: u64, env| CgCase {
        env,
        id,
        what,
        prog: prog.clone(),
        op: "call",
        n1: n(n1),
        n2: n(3 * n1),
        warmup: n(warmup),
    };
    // Under valgrind a probe pair takes tens of µs, so the default 20 µs would keep many calls:
    // the filtered row sets the threshold to 1 s instead, which takes the same path (push, pop,
    // dropped) for every call.
    let cases = [
        c("instr-call-plain", "(a) uninstrumented call, AOT", &plain, 1_000_000, 10_000, vec![]),
        c(
            "instr-call-filtered",
            "(b) instrumented, calls dropped by the filter (threshold 1 s under valgrind), AOT",
            &traced,
            20_000,
            1_000,
            vec![(MIN_DURATION, "1000000")],
        ),
        c(
            "instr-call-exported",
            "(c) instrumented, every call exported (WASMEDGE_OTEL_FUNC_MIN_DURATION=0), AOT",
            &traced,
            10_000,
            1_000,
            vec![(MIN_DURATION, "0")],
        ),
    ];
    cases
        .iter()
        .map(|case| {
            let started = Instant::now();
            let r = callgrind::run_case(ctx, case);
            eprintln!(
                "bench:   callgrind {}: {:.0} instructions/call on the guest thread ({:.0} s)",
                case.id,
                r.hot.as_ref().map_or(f64::NAN, |h| h.per_op),
                started.elapsed().as_secs_f64()
            );
            r
        })
        .collect()
}

pub fn run(ctx: &Ctx) -> Instrument {
    let _ = std::fs::create_dir_all(dir(ctx));
    let mut problems = Vec::new();
    if !tool(ctx).exists() {
        problems.push(format!(
            "{} is missing (cargo build --release -p wasmedge-otel-instrument)",
            tool(ctx).display()
        ));
        return Instrument {
            sizes: Vec::new(),
            calls: None,
            cg: Vec::new(),
            rewrite_module: rewrite_module(ctx),
            rewrite: Vec::new(),
            problems,
        };
    }
    eprintln!("bench:   size growth");
    let sizes = sizes(ctx);
    let (calls, cg) = match prepare_calls(ctx) {
        Ok(instrumented) => {
            eprintln!(
                "bench:   per-call overhead ({} runs of each configuration, interleaved)",
                ctx.opts.runs
            );
            let calls = perop::run_cases(ctx, call_cases(ctx, &instrumented));
            let cg = if ctx.opts.callgrind { call_callgrind(ctx) } else { Vec::new() };
            (Some(calls), cg)
        }
        Err(e) => {
            problems.push(format!("per-call overhead: {e}"));
            (None, Vec::new())
        }
    };
    eprintln!("bench:   rewrite time");
    let rewrite = rewrite_times(ctx, &mut problems);
    Instrument { sizes, calls, cg, rewrite_module: rewrite_module(ctx), rewrite, problems }
}

/// Problems of the section's runs, for the report's Checks.
pub fn problems(r: &Instrument) -> Vec<String> {
    let mut out: Vec<String> = r.problems.iter().map(|p| format!("instrumentation: {p}")).collect();
    for s in &r.sizes {
        out.extend(
            s.problem.iter().map(|p| format!("instrumentation size {} {}: {p}", s.module, s.selection)),
        );
    }
    if let Some(calls) = &r.calls {
        for c in &calls.results {
            out.extend(
                c.problems.iter().map(|p| format!("instrumentation {} ({}): {p}", c.case.what, c.case.mode)),
            );
        }
    }
    for c in &r.cg {
        out.extend(c.problems.iter().map(|p| format!("callgrind {}: {p}", c.case.id)));
    }
    out
}

fn signed(v: f64) -> String {
    format!("{:+}", count_f(v))
}

/// Median (and range) of the per-round differences `a - b`, in ns.
fn paired_diff(calls: &PerOp, a: &str, b: &str) -> Option<Summary> {
    let (a, b) = (calls.get(a)?, calls.get(b)?);
    let d: Vec<f64> = a.values.iter().zip(&b.values).map(|(x, y)| x - y).collect();
    let s = summarize(&d);
    (s.n > 0).then_some(s)
}

/// The section "Automatic instrumentation" of BENCHMARKS.md.
pub fn render(w: &mut String, ctx: &Ctx, r: &Instrument) {
    let _ = writeln!(w, "## Automatic instrumentation\n");
    let _ = writeln!(
        w,
        "`wasmedge-otel instrument` ([docs/instrumentation.md](docs/instrumentation.md)), release build \
         (`target/release/wasmedge-otel`), measured in the same run as the rest of this file.\n"
    );

    let _ = writeln!(w, "### Size growth\n");
    let _ = writeln!(
        w,
        "Bytes of each module before and after `wasmedge-otel instrument IN -o OUT` (default selection, \
         or `--all`). The examples are built with `strip = true`, which removes the name section: the \
         default selection (named, non-runtime functions) then finds nothing and the output is the input \
         unchanged; `--all` probes every function, unnamed ones included. The same three examples built \
         with their names (`CARGO_PROFILE_RELEASE_STRIP=debuginfo`, target/bench-examples) show what a \
         user who keeps names gets: the names section itself, which the instrumented output keeps, is \
         in *before*. The output is re-encoded, and `wasm-ld` pads call indices to 5 bytes, so a module \
         can come out smaller than it went in despite the probes (about 15 bytes per function plus the \
         name table).\n"
    );
    let _ = writeln!(
        w,
        "| module | selection | before (bytes) | after (bytes) | difference | functions instrumented / defined |\n| --- | --- | ---: | ---: | ---: | ---: |"
    );
    for s in &r.sizes {
        let diff = match (s.before, s.after) {
            (Some(b), Some(a)) => signed(a as f64 - b as f64),
            _ => s.problem.clone().unwrap_or_else(|| "n/a".into()).replace('|', "/"),
        };
        let _ = writeln!(
            w,
            "| {} | {} | {} | {} | {} | {} |",
            s.module,
            if s.selection == "default" { "default" } else { "`--all`" },
            s.before.map_or("n/a".into(), count),
            s.after.map_or("n/a".into(), count),
            diff,
            s.functions.map_or("n/a".into(), |(d, t)| format!("{d} / {t}"))
        );
    }
    let _ = writeln!(w);

    let _ = writeln!(w, "### Per instrumented call\n");
    let _ = writeln!(
        w,
        "`bench/guests/calls call N WARMUP`: a loop calling `calls::tiny` (a leaf of a few instructions, \
         `#[inline(never)]`), timed inside the guest with the WASI clock around the loop, after a warm-up \
         (the first probe registers the names and, with every call exported, builds the pipeline). \
         (a) the module as built; (b) and (c) instrumented with `wasmedge-otel instrument {}` (only that \
         function gets probes), run with the default `{MIN_DURATION}` (20 µs: every call is shorter, so \
         each costs `func_enter` + `func_exit`, a push and a pop, and is dropped) and with `0` (every \
         call becomes a span exported over OTLP/gRPC to the test collector; batch queue {}, every run \
         checked: nothing lost and exactly N + WARMUP spans received; under (b) the collector may get the \
         few calls a preemption stretched past 20 µs). Same plugin, same interleaved rounds as the \
         per-operation table: median of {} runs, paired ratios and differences (median of the per-round \
         values, with their range). The empty plugin call is the reference for two host calls.\n",
        CALLS_SELECTION.join(" ").replace("--include calls::tiny", "--include 'calls::tiny'"),
        perop::BIG_QUEUE,
        r.calls.as_ref().map_or(0, |c| c.rounds)
    );
    match &r.calls {
        None => {
            let _ = writeln!(w, "Not measured (see Checks).\n");
        }
        Some(calls) => {
            let _ = writeln!(
                w,
                "| configuration | mode | N | median per call | spread (min – max) | overhead per call vs (a), paired | vs baselines (paired) |\n| --- | --- | ---: | ---: | --- | ---: | --- |"
            );
            for c in &calls.results {
                let plain = if c.case.mode == "AOT" { "aot-call-plain" } else { "int-call-plain" };
                let overhead = if c.case.id.ends_with("filtered") || c.case.id.ends_with("exported") {
                    paired_diff(calls, c.case.id, plain)
                        .map_or("n/a".into(), |s| format!("{} ({} – {})", ns(s.median), ns(s.min), ns(s.max)))
                } else {
                    String::new()
                };
                let vs: Vec<String> = c
                    .case
                    .baselines
                    .iter()
                    .filter_map(|(id, name)| {
                        calls.paired_ratio(c.case.id, id).map(|s| {
                            if s.n > 1 {
                                format!("{} ({}–{}) {name}", ratio(s.median), ratio(s.min), ratio(s.max))
                            } else {
                                format!("{} {name}", ratio(s.median))
                            }
                        })
                    })
                    .collect();
                let _ = writeln!(
                    w,
                    "| {} | {} | {} | {} | {} | {} | {} |",
                    c.case.what,
                    c.case.mode,
                    count(c.case.n),
                    ns(c.summary.median),
                    ns_range(&c.summary),
                    overhead,
                    if vs.is_empty() { "baseline".into() } else { vs.join("; ") }
                );
            }
            let _ = writeln!(w);
        }
    }
    if !r.cg.is_empty() {
        let _ = writeln!(
            w,
            "Instructions per call (callgrind, AOT; slope between N1 and N2 = 3 × N1 as in the callgrind \
             section). Under valgrind a probe pair lasts tens of µs, so the filtered row raises the \
             threshold to 1 s: the same path as (b), every call dropped.\n"
        );
        let _ = writeln!(
            w,
            "| configuration | N1 / N2 | guest thread, instr/call | vs (a) | whole process, instr/call |\n| --- | --- | ---: | ---: | ---: |"
        );
        let base = r.cg.first().and_then(|c| c.hot.as_ref()).map(|h| h.per_op);
        for c in &r.cg {
            let hot = c.hot.as_ref().map(|h| h.per_op);
            let _ = writeln!(
                w,
                "| {} | {} / {} | {} | {} | {} |",
                c.case.what,
                count(c.case.n1),
                count(c.case.n2),
                hot.map_or("n/a".into(), count_f),
                match (hot, base) {
                    (Some(h), Some(b)) if c.case.id != "instr-call-plain" => signed(h - b),
                    _ => String::new(),
                },
                count_f(c.total_per_op)
            );
        }
        let _ = writeln!(w);
    } else if !ctx.opts.callgrind {
        let _ = writeln!(w, "Instruction counts: not taken (`--no-callgrind`).\n");
    }

    let _ = writeln!(w, "### Rewrite time\n");
    let module = r.rewrite_module.strip_prefix(&ctx.root).unwrap_or(&r.rewrite_module).display().to_string();
    let _ = writeln!(
        w,
        "`wasmedge-otel instrument` on `{module}` (`bench/guests/size-sdk-otlp`, the SDK with its OTLP \
         encoder, built with the `rewrite` profile: opt-level 1, no LTO, names kept, no DWARF), {} bytes. \
         *Process*: wall time of the command, start to exit (reading, both validations, rewriting, \
         writing); *rewrite*: the time the tool reports for `instrument()` alone (validation of the \
         input, selection, rewrite, validation of the output). One unmeasured run first; median and \
         range of the runs after it.\n",
        r.rewrite.first().map_or("n/a".into(), |t| count(t.before))
    );
    if r.rewrite.is_empty() {
        let _ = writeln!(w, "Not measured (see Checks).\n");
        return;
    }
    let _ = writeln!(
        w,
        "| selection | functions instrumented / defined | after (bytes) | runs | process, median | process, min – max | rewrite, median | rewrite, min – max |\n| --- | ---: | ---: | ---: | ---: | --- | ---: | --- |"
    );
    for t in &r.rewrite {
        let _ = writeln!(
            w,
            "| {} | {} | {} | {} | {:.1} ms | {:.1} – {:.1} ms | {:.1} ms | {:.1} – {:.1} ms |",
            if t.selection == "default" { "default" } else { "`--all`" },
            t.functions.map_or("n/a".into(), |(d, n)| format!("{d} / {n}")),
            t.after.map_or("n/a".into(), count),
            t.runs,
            t.wall_ms.median,
            t.wall_ms.min,
            t.wall_ms.max,
            t.tool_ms.median,
            t.tool_ms.min,
            t.tool_ms.max
        );
    }
    let _ = writeln!(w);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_summary_line() {
        let err = "wasmedge-otel: instrumented 453 of 1676 functions (a.wasm -> b.wasm, 940579 -> 945583 bytes, 67.4 ms)\n\
                   wasmedge-otel: imports added: wasmedge_otel.func_enter";
        assert_eq!(summary_line(err), Some((453, 1676, 67.4)));
        assert_eq!(summary_line("nothing"), None);
    }
}
