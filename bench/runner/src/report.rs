//! BENCHMARKS.md: the machine, the versions, the exact command, and one table per section.

use crate::callgrind::Callgrind;
use crate::instrument::Instrument;
use crate::perop::PerOp;
use crate::proc::first_line;
use crate::sizes::{Sizes, WASM_OPT_FLAGS};
use crate::startup::Startup;
use crate::stats::{count, count_f, ns, ns_range, ratio, summarize, Summary};
use crate::throughput::Throughput;
use crate::Ctx;
use std::fmt::Write as _;
use std::time::Duration;

pub struct Environment {
    pub date: String,
    pub cpu: String,
    pub cpus: usize,
    pub memory: String,
    pub kernel: String,
    pub os: String,
    pub load_before: String,
    pub load_after: String,
    pub versions: Vec<(&'static str, String)>,
    pub git: String,
    pub plugin: String,
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn load() -> String {
    read("/proc/loadavg").split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

impl Environment {
    pub fn capture(ctx: &Ctx) -> Environment {
        let cpuinfo = read("/proc/cpuinfo");
        let cpu = cpuinfo
            .lines()
            .find_map(|l| {
                l.strip_prefix("model name").and_then(|r| r.split_once(':')).map(|(_, v)| v.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown".into());
        let memory = read("/proc/meminfo")
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or("unknown".into(), |kib| format!("{:.1} GiB", kib / 1024.0 / 1024.0));
        let os = read("/etc/os-release")
            .lines()
            .find_map(|l| l.strip_prefix("PRETTY_NAME="))
            .map(|v| v.trim_matches('"').to_owned())
            .unwrap_or_default();
        let git_rev = first_line("git", &["-C", &ctx.root.to_string_lossy(), "rev-parse", "--short", "HEAD"]);
        let dirty = std::process::Command::new("git")
            .args([
                "-C",
                &ctx.root.to_string_lossy(),
                "status",
                "--porcelain",
                "--",
                "plugin",
                "abi",
                "guest-bindings",
            ])
            .output()
            .map(|o| !o.stdout.is_empty())
            .unwrap_or(false);
        let so = ctx.plugin_dir.join("libwasmedge_otel.so");
        let sha = first_line("sha256sum", &[&so.to_string_lossy()])
            .split_whitespace()
            .next()
            .unwrap_or("")
            .chars()
            .take(16)
            .collect::<String>();
        let size = std::fs::metadata(&so).map(|m| m.len()).unwrap_or(0);
        Environment {
            date: first_line("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
            cpu,
            cpus: std::thread::available_parallelism().map_or(0, |n| n.get()),
            memory,
            kernel: read("/proc/sys/kernel/osrelease").trim().to_owned(),
            os,
            load_before: load(),
            load_after: String::new(),
            versions: vec![
                ("WasmEdge", first_line("wasmedge", &["--version"])),
                ("rustc", first_line("rustc", &["--version"])),
                ("cargo", first_line("cargo", &["--version"])),
                ("opentelemetry_sdk", "0.33 (plugin, native baseline and in-guest SDK)".into()),
                ("hyperfine", first_line("hyperfine", &["--version"])),
                ("wasm-opt", first_line("wasm-opt", &["--version"])),
                ("valgrind", first_line("valgrind", &["--version"])),
            ],
            git: format!(
                "{git_rev}{}",
                if dirty { " with uncommitted changes in plugin/, abi/ or guest-bindings/" } else { "" }
            ),
            plugin: format!("{} ({} bytes, sha256 {sha}…)", ctx.opts.plugin_so.display(), count(size)),
        }
    }

    pub fn finish(mut self) -> Environment {
        self.load_after = load();
        self
    }
}

fn paired(s: Option<Summary>) -> String {
    match s {
        Some(s) if s.n > 1 => format!("{} ({}–{})", ratio(s.median), ratio(s.min), ratio(s.max)),
        Some(s) => ratio(s.median),
        None => "n/a".into(),
    }
}

fn verdict(met: Option<bool>, how: String) -> String {
    match met {
        Some(true) => format!("**met** ({how})"),
        Some(false) => format!("**missed** ({how})"),
        None => "not measured".into(),
    }
}

/// A verdict from two measurements of the same target (either may be missing).
fn both(a: Option<bool>, b: Option<bool>, a_name: &str, b_name: &str, how: String) -> String {
    match (a, b) {
        (Some(x), Some(y)) if x != y => format!(
            "**mixed**: {} by {a_name}, {} by {b_name} ({how})",
            if x { "met" } else { "missed" },
            if y { "met" } else { "missed" }
        ),
        (Some(x), _) | (None, Some(x)) => verdict(Some(x), how),
        (None, None) => verdict(None, how),
    }
}

fn instr_ratio(cg: Option<&Callgrind>, a: &str, b: &str) -> Option<f64> {
    let cg = cg?;
    Some(cg.get(a)?.hot.as_ref()?.per_op / cg.get(b)?.hot.as_ref()?.per_op)
}

/// The title, what the file is, and the machine and versions of the run.
fn preamble(w: &mut String, ctx: &Ctx, env: &Environment, took: Duration) {
    let _ = writeln!(w, "# Benchmarks\n");
    let _ = writeln!(
        w,
        "Generated by `{}` ([bench/](bench/README.md)); every run overwrites this file. The machine is a shared \
         2-core VM: wall-time figures are medians of repeated runs with their spread, ratios are paired \
         (taken between runs of the same round), and instruction counts (callgrind) back them where wall \
         time is noisy. Treat figures taken while the load average is high as provisional.\n",
        ctx.opts.command
    );
    if ctx.opts.quick {
        let _ = writeln!(
            w,
            "> **Quick mode** (`--quick`): N divided by 10 and fewer runs; not for the record.\n"
        );
    }

    // Environment.
    let _ = writeln!(w, "## Run\n");
    let _ = writeln!(w, "| | |\n| --- | --- |");
    let _ = writeln!(
        w,
        "| command | `{}` (runner: `target/bench/release/bench-runner --runs {}{}{}`) |",
        ctx.opts.command,
        ctx.opts.runs,
        if ctx.opts.quick { " --quick" } else { "" },
        ctx.opts.only.as_deref().map_or(String::new(), |s| format!(" --only {s}"))
    );
    let _ = writeln!(w, "| date | {} (took {:.0} s) |", env.date, took.as_secs_f64());
    let _ = writeln!(w, "| CPU | {} × {} logical CPUs, {} RAM |", env.cpu, env.cpus, env.memory);
    let _ = writeln!(w, "| system | {}, Linux {} |", env.os, env.kernel);
    let _ =
        writeln!(w, "| load average (1/5/15 min) | {} before, {} after |", env.load_before, env.load_after);
    for (name, v) in &env.versions {
        let _ = writeln!(w, "| {name} | {v} |");
    }
    let _ = writeln!(w, "| source | git {} |", env.git);
    let _ = writeln!(w, "| plugin | {} |", env.plugin);
    let _ = writeln!(w);
}

#[allow(clippy::too_many_arguments)]
pub fn render(
    ctx: &Ctx,
    env: &Environment,
    sizes: &Sizes,
    perop: &PerOp,
    cg: Option<&Callgrind>,
    startup: &Startup,
    tp: &Throughput,
    instr: &Instrument,
    took: Duration,
) -> String {
    let mut md = String::new();
    let w = &mut md;
    preamble(w, ctx, env, took);
    // Targets.
    let _ = writeln!(w, "## Targets (issue 7)\n");
    let _ = writeln!(w, "| target | measured | verdict |\n| --- | --- | --- |");
    {
        let r = perop.paired_ratio("aot-span", "native-span");
        let ir = instr_ratio(cg, "aot-span", "native-span");
        let ir_total =
            cg.and_then(|c| Some(c.get("aot-span")?.total_per_op / c.get("native-span")?.total_per_op));
        let _ = writeln!(
            w,
            "| span with 2 attributes, AOT guest ≤ 1.5× the native SDK's batch hot path | {} of native (paired median, range); instructions: {} on the calling thread, {} whole process. With the plugin's span export off (no processor, no background threads): {} wall, {} instructions | {} |",
            paired(r),
            ir.map_or("n/a".into(), ratio),
            ir_total.map_or("n/a".into(), ratio),
            paired(perop.paired_ratio("aot-span-noexport", "native-span")),
            instr_ratio(cg, "aot-span-noexport", "native-span").map_or("n/a".into(), ratio),
            both(r.map(|s| s.median <= 1.5), ir.map(|x| x <= 1.5), "wall time", "instructions", r.map_or(String::new(), |s| format!("wall {:.2}× the 1.5× budget", s.median / 1.5)))
        );
        let r = perop.paired_ratio("aot-span", "aot-sdk-span");
        let ir = instr_ratio(cg, "aot-span", "aot-sdk-span");
        let _ = writeln!(
            w,
            "| span with 2 attributes, AOT guest < ½ of the in-guest SDK's | {} of in-guest SDK with a no-op exporter (c); instructions (guest thread): {}; vs the in-guest SDK that also encodes OTLP: {} wall, {} instructions | {} |",
            paired(r),
            ir.map_or("n/a".into(), ratio),
            paired(perop.paired_ratio("aot-span", "aot-sdk-span-otlp")),
            instr_ratio(cg, "aot-span", "aot-sdk-span-otlp").map_or("n/a".into(), ratio),
            both(r.map(|s| s.median < 0.5), ir.map(|x| x < 0.5), "wall time", "instructions", r.map_or(String::new(), |s| format!("wall {:.2}× the 0.5× budget", s.median / 0.5)))
        );
        let r = perop.paired_ratio("aot-bound", "aot-abi");
        let ir = instr_ratio(cg, "aot-bound", "aot-abi");
        let _ = writeln!(
            w,
            "| bound counter add ≤ 2× an empty host call (AOT) | {} of `abi_version`; instructions: {} | {} |",
            paired(r),
            ir.map_or("n/a".into(), ratio),
            both(r.map(|s| s.median <= 2.0), ir.map(|x| x <= 2.0), "wall time", "instructions", r.map_or(String::new(), |s| format!("wall {:.2}× the 2× budget", s.median / 2.0)))
        );
        let hyper =
            startup.get("unused").zip(startup.get("none")).map(|(u, n)| u.summary.median - n.summary.median);
        let own =
            startup.get("unused").zip(startup.get("none")).map(|(u, n)| u.paired_diff(n, |c| &c.own_wall_ms));
        let cpu =
            startup.get("unused").zip(startup.get("none")).map(|(u, n)| u.paired_diff(n, |c| &c.own_cpu_ms));
        let instr = cg.and_then(|c| {
            let none = c.startup.iter().find(|s| s.what == "without the plugin")?;
            let unused = c.startup.iter().find(|s| s.what == "plugin loaded, unused")?;
            Some(unused.instructions as f64 - none.instructions as f64)
        });
        // Wall time decides when its confidence interval is clear of 1 ms; on a loaded machine it
        // often is not, and the estimate from counts (instructions at the no-plugin start's CPU time
        // per instruction) is the figure that stays put.
        let ci = startup.get("unused").zip(startup.get("none")).and_then(|(u, n)| {
            let d: Vec<f64> = u.own_wall_ms.iter().zip(&n.own_wall_ms).map(|(a, b)| a - b).collect();
            crate::stats::median_ci(&d)
        });
        let estimate = instr.zip(startup.get("none")).and_then(|(i, n)| {
            let base = cg?.startup.iter().find(|s| s.what == "without the plugin")?.instructions as f64;
            Some(i * summarize(&n.own_cpu_ms).median / base)
        });
        let wall_verdict = ci.map(|(lo, hi)| {
            if hi < 1.0 {
                Some(true)
            } else if lo > 1.0 {
                Some(false)
            } else {
                None
            }
        });
        let verdict_text = match (wall_verdict.flatten(), estimate) {
            (Some(met), _) => verdict(
                Some(met),
                ci.map_or(String::new(), |(lo, hi)| {
                    format!("95% CI of the paired wall median {lo:+.2} – {hi:+.2} ms")
                }),
            ),
            (None, Some(e)) => format!(
                "{} by the estimate from counts ({e:.2} ms); wall time inconclusive at this load (95% CI {})",
                if e < 1.0 { "**met**" } else { "**missed**" },
                ci.map_or("n/a".into(), |(lo, hi)| format!("{lo:+.2} – {hi:+.2} ms"))
            ),
            (None, None) => "inconclusive (wall time too noisy, no instruction counts)".into(),
        };
        let _ = writeln!(
            w,
            "| the plugin adds < 1 ms to start-up when unused | wall {} ms (paired median of {} interleaved runs), hyperfine {} ms (difference of medians); CPU {} ms; {} instructions and {} minor page faults, about {} ms at the no-plugin start's CPU time per instruction | {} |",
            own.map_or("n/a".into(), |d| format!("{:+.2}", d.median)),
            startup.own_rounds,
            hyper.map_or("n/a".into(), |d| format!("{d:+.2}")),
            cpu.map_or("n/a".into(), |d| format!("{:+.2}", d.median)),
            instr.map_or("n/a".into(), |i| format!("{:+}", count_f(i))),
            startup
                .get("unused")
                .zip(startup.get("none"))
                .map_or("n/a".into(), |(u, n)| format!("{:+}", count_f(u.paired_diff(n, |c| &c.own_faults).median))),
            estimate.map_or("n/a".into(), |e| format!("{e:.2}")),
            verdict_text
        );
        let plain = sizes.get("plain");
        let all = sizes.get("all-signals");
        let raw = plain.zip(all).and_then(|(p, a)| Some(a.raw? as i64 - p.raw? as i64));
        let opt = plain.zip(all).and_then(|(p, a)| Some(a.opt? as i64 - p.opt? as i64));
        let _ = writeln!(
            w,
            "| the bindings add < 2 KB (2,048 bytes) to a guest using all three signals | +{} bytes raw, +{} after wasm-opt -Oz | {} |",
            raw.map_or("n/a".into(), |v| count(v.max(0) as u64)),
            opt.map_or("n/a".into(), |v| count(v.max(0) as u64)),
            verdict(raw.map(|v| v < 2048), raw.map_or(String::new(), |v| format!("{v} of 2,048 bytes")))
        );
    }
    let _ = writeln!(w);

    // Per-operation.
    let _ = writeln!(w, "## Per-operation cost, timed inside the guest\n");
    let _ = writeln!(
        w,
        "WASI `clock_time_get` around the loop, after a warm-up (the guest's first span builds the plugin's \
         pipeline outside the clock); `wasmedge` with the plugin, exporting over OTLP/gRPC to the test \
         collector in the runner (fresh per run), batch queues of {} (`OTEL_BSP_MAX_QUEUE_SIZE`, \
         `OTEL_BLRP_MAX_QUEUE_SIZE`) so nothing is dropped; every run is checked for zero loss. Median of \
         {} runs per row, interleaved; ratios are the median (and range) of the per-round ratios. AOT: \
         `wasmedge compile` to a shared library. Guests: `bench/guests/ops` (bindings) and \
         `bench/guests/sdk-ops` (opentelemetry_sdk in the guest, simple processor), opt-level 3, LTO; \
         native: `bench/native`, release.\n",
        crate::perop::BIG_QUEUE,
        perop.rounds
    );
    let _ = writeln!(w, "| operation | mode | N | median per op | spread (min – max) | vs baselines (paired) |\n| --- | --- | ---: | ---: | --- | --- |");
    for r in &perop.results {
        let vs: Vec<String> = r
            .case
            .baselines
            .iter()
            .filter_map(|(id, name)| {
                perop.paired_ratio(r.case.id, id).map(|s| format!("{} {name}", paired(Some(s))))
            })
            .collect();
        let _ = writeln!(
            w,
            "| {} | {} | {} | {} | {} | {} |",
            r.case.what,
            r.case.mode,
            count(r.case.n),
            ns(r.summary.median),
            ns_range(&r.summary),
            if vs.is_empty() { "baseline".into() } else { vs.join("; ") }
        );
    }
    let _ = writeln!(w);

    // Callgrind.
    if let Some(cg) = cg {
        let _ = writeln!(w, "## Instructions per operation (callgrind)\n");
        let _ = writeln!(
            w,
            "`valgrind --tool=callgrind --separate-threads=yes`, each operation at two N (N2 = 3 × N1, same \
             warm-up); instructions per operation = slope between them, so start-up, set-up and exit \
             cancel out. *Calling thread*: the thread running the loop (the guest's thread under \
             `wasmedge`, the main thread natively). *Whole process*: all threads (batch processors, \
             exporters, tokio).\n"
        );
        let _ = writeln!(w, "| operation | N1 / N2 | calling thread, instr/op | whole process, instr/op | ratios (calling thread) |\n| --- | --- | ---: | ---: | --- |");
        let baselines: &[(&str, &[(&str, &str)])] = &[
            (
                "aot-span",
                &[
                    ("native-span", "native SDK batch"),
                    ("aot-sdk-span", "in-guest SDK"),
                    ("aot-sdk-span-otlp", "in-guest SDK + OTLP encoding"),
                    ("aot-abi", "empty call"),
                ],
            ),
            ("aot-span-noexport", &[("native-span", "native SDK batch"), ("aot-span", "with export")]),
            ("aot-counter", &[("native-counter", "native SDK"), ("aot-abi", "empty call")]),
            ("aot-bound", &[("aot-abi", "empty call"), ("native-bound", "native SDK bound")]),
            ("aot-histogram", &[("native-histogram", "native SDK"), ("aot-abi", "empty call")]),
            ("aot-log", &[("native-log", "native SDK"), ("aot-abi", "empty call")]),
            (
                "aot-sdk-span",
                &[
                    ("native-span-simple", "the same SDK natively (simple processor)"),
                    ("native-span", "native SDK batch"),
                ],
            ),
            ("aot-sdk-span-otlp", &[("aot-sdk-span", "in-guest SDK no-op")]),
            ("native-span-otlp", &[("native-span", "no-op exporter")]),
        ];
        for r in &cg.results {
            let vs: Vec<String> = baselines
                .iter()
                .find(|(id, _)| *id == r.case.id)
                .map(|(_, list)| {
                    list.iter()
                        .filter_map(|(b, name)| {
                            instr_ratio(Some(cg), r.case.id, b).map(|x| format!("{} {name}", ratio(x)))
                        })
                        .collect()
                })
                .unwrap_or_default();
            let _ = writeln!(
                w,
                "| {} | {} / {} | {} | {} | {} |",
                r.case.what,
                count(r.case.n1),
                count(r.case.n2),
                r.hot.as_ref().map_or("n/a".into(), |h| count_f(h.per_op)),
                count_f(r.total_per_op),
                if vs.is_empty() { String::new() } else { vs.join("; ") }
            );
        }
        let _ = writeln!(w);
        if !cg.startup.is_empty() {
            let base = cg.startup.first().map(|s| s.instructions as f64).unwrap_or(f64::NAN);
            let _ = writeln!(
                w,
                "Start-up, whole `wasmedge` process on a tiny AOT guest (instructions, deterministic):\n"
            );
            let _ = writeln!(
                w,
                "| configuration | instructions | vs without the plugin |\n| --- | ---: | ---: |"
            );
            for s in &cg.startup {
                let _ = writeln!(
                    w,
                    "| {} | {} | {:+} |",
                    s.what,
                    count(s.instructions),
                    count_f(s.instructions as f64 - base)
                );
            }
            let _ = writeln!(w);
        }

        let _ = writeln!(w, "## Profile of the plugin's hot paths (callgrind, AOT guest)\n");
        let _ = writeln!(
            w,
            "Per-function slopes on the calling (guest) thread: instructions per operation, inclusive \
             (the function and what it calls) and self, with their share of the thread's per-operation \
             total. Raw files: `target/bench/callgrind/` (open with `callgrind_annotate` or kcachegrind).\n"
        );
        for p in &cg.profiles {
            let Some(r) = cg.get(p.case_id) else { continue };
            let _ = writeln!(
                w,
                "### {}: {} instructions per operation on the guest thread\n",
                r.case.what,
                count_f(p.hot_per_op)
            );
            let bg: Vec<String> = r
                .threads
                .iter()
                .filter(|t| Some(t.thread) != r.hot.as_ref().map(|h| h.thread) && t.per_op > 50.0)
                .map(|t| {
                    let top: Vec<String> =
                        t.top.iter().map(|(f, v)| format!("`{}` {}", short(f), count_f(*v))).collect();
                    format!("thread {}: {} instr/op ({})", t.thread, count_f(t.per_op), top.join(", "))
                })
                .collect();
            if !bg.is_empty() {
                let _ = writeln!(w, "Other threads per operation: {}.\n", bg.join("; "));
            }
            let share = |v: f64| format!("{:.1}%", 100.0 * v / p.hot_per_op);
            let objects: Vec<String> = p
                .by_object
                .iter()
                .map(|(o, v)| format!("{} {} ({})", object_label(o), count_f(*v), share(*v)))
                .collect();
            let _ = writeln!(
                w,
                "Where the guest thread's instructions go (self cost by object): {}.\n",
                objects.join("; ")
            );
            let crates: Vec<String> = p
                .plugin_by_crate
                .iter()
                .take(10)
                .map(|(c, v)| format!("`{c}` {} ({})", count_f(*v), share(*v)))
                .collect();
            let _ = writeln!(w, "Inside libwasmedge_otel.so, self cost by crate: {}.\n", crates.join("; "));
            let _ = writeln!(w, "| plugin function (inclusive) | instr/op | share | | any function (self) | instr/op | share |\n| --- | ---: | ---: | --- | --- | ---: | ---: |");
            let inclusive: Vec<&(String, f64)> = p
                .inclusive
                .iter()
                .filter(|(f, v)| *v > 0.5 && crate::callgrind::object_of(f) == "libwasmedge_otel.so")
                .take(25)
                .collect();
            let exclusive: Vec<&(String, f64)> =
                p.exclusive.iter().filter(|(_, v)| *v > 0.5).take(25).collect();
            for i in 0..inclusive.len().max(exclusive.len()) {
                let cell = |e: Option<&&(String, f64)>, strip: bool| match e {
                    Some((f, v)) => {
                        let f = if strip { f.trim_end_matches(" (libwasmedge_otel.so)") } else { f.as_str() };
                        format!("`{}` | {} | {}", short(f), count_f(*v), share(*v))
                    }
                    None => " | | ".into(),
                };
                let _ =
                    writeln!(w, "| {} | | {} |", cell(inclusive.get(i), true), cell(exclusive.get(i), false));
            }
            let _ = writeln!(w);
        }
    }

    // Sizes.
    let _ = writeln!(w, "## Guest module size\n");
    let _ = writeln!(
        w,
        "wasm32-wasip1, opt-level \"s\", LTO, strip, one codegen unit, panic=abort (the profile of \
         examples/). After optimisation: `wasm-opt {}` (binaryen).\n",
        WASM_OPT_FLAGS.join(" ")
    );
    let plain = sizes.get("plain");
    let _ = writeln!(w, "| module | raw bytes | vs hello world | wasm-opt bytes | vs hello world |\n| --- | ---: | ---: | ---: | ---: |");
    for m in &sizes.modules {
        let d = |a: Option<u64>, b: Option<u64>| match (a, b) {
            (Some(a), Some(b)) if m.id != "plain" => format!("{:+}", count_f(a as f64 - b as f64)),
            _ => String::new(),
        };
        let _ = writeln!(
            w,
            "| {} | {} | {} | {} | {} |",
            m.what,
            m.raw.map_or("n/a".into(), count),
            d(m.raw, plain.and_then(|p| p.raw)),
            m.opt.map_or(m.problem.clone().unwrap_or("n/a".into()), count),
            d(m.opt, plain.and_then(|p| p.opt))
        );
    }
    let _ = writeln!(w);

    // Start-up.
    let _ = writeln!(w, "## Start-up\n");
    let _ = writeln!(
        w,
        "`hyperfine -N --warmup 3 --runs {}` over the three commands together, {} rounds (order reversed \
         every other round), samples pooled; a tiny AOT guest. The plugin directory holds only \
         `libwasmedge_otel.so`; HOME is an empty directory. Commands:\n",
        startup.runs_per_round, startup.rounds
    );
    let none = startup.get("none");
    let _ = writeln!(w, "hyperfine:\n");
    let _ = writeln!(w, "| configuration | median | IQR | min – max | CPU (user+sys, mean) | vs without the plugin |\n| --- | ---: | --- | --- | ---: | ---: |");
    for c in &startup.configs {
        let s = &c.summary;
        let _ = writeln!(
            w,
            "| {} | {:.2} ms | {:.2} – {:.2} ms | {:.2} – {:.2} ms | {:.2} ms | {} |",
            c.what,
            s.median,
            s.q1,
            s.q3,
            s.min,
            s.max,
            c.cpu_ms,
            match none {
                Some(n) if c.id != "none" => format!("{:+.2} ms", s.median - n.summary.median),
                _ => String::new(),
            }
        );
    }
    let _ = writeln!(w);
    let _ = writeln!(
        w,
        "The same commands run by the runner, {} rounds, one run of each per round (rotating order); medians, \
         and paired differences (median of the per-round differences, with their range):\n",
        startup.own_rounds
    );
    let _ = writeln!(w, "| configuration | wall | CPU (user+sys) | minor page faults | wall vs without | CPU vs without | faults vs without |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for c in &startup.configs {
        let (wall, cpu, faults) =
            (summarize(&c.own_wall_ms), summarize(&c.own_cpu_ms), summarize(&c.own_faults));
        let d = |pick: fn(&crate::startup::Config) -> &Vec<f64>, unit: &str, digits: usize| match none {
            Some(n) if c.id != "none" => {
                let s = c.paired_diff(n, pick);
                format!("{:+.*}{unit} ({:+.*} – {:+.*})", digits, s.median, digits, s.min, digits, s.max)
            }
            _ => String::new(),
        };
        let _ = writeln!(
            w,
            "| {} | {:.2} ms | {:.2} ms | {} | {} | {} | {} |",
            c.what,
            wall.median,
            cpu.median,
            count_f(faults.median),
            d(|c| &c.own_wall_ms, " ms", 2),
            d(|c| &c.own_cpu_ms, " ms", 2),
            d(|c| &c.own_faults, "", 0)
        );
    }
    let _ = writeln!(w);
    for c in &startup.configs {
        let _ = writeln!(
            w,
            "- {}: `{}`",
            c.what,
            c.command.replace(&ctx.root.to_string_lossy().to_string(), ".")
        );
    }
    let _ = writeln!(w);

    // Throughput.
    let _ = writeln!(w, "## Throughput and memory\n");
    let _ = writeln!(
        w,
        "One AOT guest (`ops span {}`) ends {} spans with 2 attributes as fast as it can; the plugin \
         exports them over OTLP/gRPC (batches of 512, the default) to the test collector library in the \
         runner, which decodes and stores every span. *Delivered* = spans received / time from spawn to \
         the last arrival. *Lost* is the plugin's exit line (`wasmedge_otel: telemetry lost: N spans \
         (F failed to export, D dropped or unflushed)`); every run checks ended = received + lost. \
         Process CPU: user + system time of the whole process (all its threads) per span ended. Peak RSS: \
         the `wasmedge` (or native) process, `/usr/bin/time -f %M` (VmHWM). Median (range) of {} runs.\n",
        count(tp.spans),
        count(tp.spans + 1),
        tp.scenarios.first().map_or(0, |s| s.runs.len())
    );
    let _ = writeln!(w, "| scenario | OTEL_BSP_MAX_QUEUE_SIZE | ended | received | lost (dropped) | delivered spans/s | guest ns/span | process CPU per span | wall | peak RSS |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for s in &tp.scenarios {
        let med = |f: fn(&crate::throughput::Run) -> u64| {
            let mut v: Vec<u64> = s.runs.iter().map(f).collect();
            v.sort();
            v.get(v.len() / 2).copied().unwrap_or(0)
        };
        let runs_lost: Vec<String> =
            s.runs.iter().map(|r| format!("{} ({})", count(r.lost), count(r.dropped))).collect();
        let _ = writeln!(
            w,
            "| {} | {} | {} | {} | {} | {} ({} – {}) | {} | {} | {:.2} s | {:.1} MiB ({:.1} – {:.1}) |",
            s.what,
            s.queue,
            count(med(|r| r.emitted)),
            s.runs.iter().map(|r| count(r.received)).collect::<Vec<_>>().join(", "),
            runs_lost.join(", "),
            count_f(s.delivered.median),
            count_f(s.delivered.min),
            count_f(s.delivered.max),
            ns(s.produced.median),
            ns(crate::stats::summarize(&s.runs.iter().map(|r| r.cpu_ns_per_span).collect::<Vec<_>>()).median),
            crate::stats::summarize(&s.runs.iter().map(|r| r.wall_s).collect::<Vec<_>>()).median,
            s.rss.median,
            s.rss.min,
            s.rss.max
        );
    }
    let _ = writeln!(w);
    if let [(q1, r1), (q2, r2)] = tp.queue_rss[..] {
        let (n1, n2): (f64, f64) = (q1.parse().unwrap_or(f64::NAN), q2.parse().unwrap_or(f64::NAN));
        let _ = writeln!(
            w,
            "The batch queue's memory is taken up front: a guest ending only 100 spans peaks at {r1:.1} MiB with \
             `OTEL_BSP_MAX_QUEUE_SIZE={q1}` and {r2:.1} MiB with {q2}, about {:.0} bytes per queue slot \
             (the SDK's bounded channel allocates every slot), so the zero-loss configuration's RSS is \
             mostly its queue, whatever the load.\n",
            (r2 - r1) * 1024.0 * 1024.0 / (n2 - n1)
        );
    }

    crate::instrument::render(w, ctx, instr);

    // Checks.
    let _ = writeln!(w, "## Checks\n");
    let mut problems: Vec<String> = ctx.warnings.clone();
    problems.extend(crate::instrument::problems(instr));
    for r in &perop.results {
        problems.extend(r.problems.iter().map(|p| format!("{} ({}): {p}", r.case.what, r.case.mode)));
    }
    if let Some(cg) = cg {
        for r in &cg.results {
            problems.extend(r.problems.iter().map(|p| format!("callgrind {}: {p}", r.case.id)));
        }
    }
    problems.extend(startup.problems.iter().map(|p| format!("start-up: {p}")));
    for m in &sizes.modules {
        problems.extend(m.problem.iter().map(|p| format!("size {}: {p}", m.id)));
    }
    for s in tp.scenarios.iter().filter(|s| s.id != "overload") {
        for r in &s.runs {
            problems.extend(r.problems.iter().map(|p| format!("throughput {}: {p}", s.id)));
            if r.lost > 0 || (r.received != r.emitted) {
                problems.push(format!(
                    "throughput {}: {} of {} spans received, {} reported lost",
                    s.id, r.received, r.emitted, r.lost
                ));
            }
        }
    }
    if let Some(s) = tp.get("overload") {
        for r in &s.runs {
            problems.extend(r.problems.iter().map(|p| format!("throughput overload: {p}")));
        }
    }
    if problems.is_empty() {
        let _ = writeln!(
            w,
            "Every per-operation, callgrind and zero-loss run exited 0, the plugin reported nothing lost, \
             and the collector received exactly the spans and log records the guest made; under overload, \
             spans received + spans reported lost = spans ended."
        );
    } else {
        let _ = writeln!(w, "Problems seen (the figures of these runs are suspect):\n");
        for p in problems.iter().take(40) {
            let _ = writeln!(w, "- {}", p.replace('|', "/"));
        }
        if problems.len() > 40 {
            let _ = writeln!(w, "- … and {} more", problems.len() - 40);
        }
    }
    history(w, ctx);
    md
}

/// `--only instrument`: the run and the automatic-instrumentation section alone.
pub fn render_instrument_only(ctx: &Ctx, env: &Environment, instr: &Instrument, took: Duration) -> String {
    let mut md = String::new();
    let w = &mut md;
    preamble(w, ctx, env, took);
    let _ = writeln!(w, "> **One section** (`--only instrument`): the other sections did not run.\n");
    crate::instrument::render(w, ctx, instr);
    let _ = writeln!(w, "## Checks\n");
    let mut problems: Vec<String> = ctx.warnings.clone();
    problems.extend(crate::instrument::problems(instr));
    if problems.is_empty() {
        let _ = writeln!(
            w,
            "Every run exited 0, the plugin reported nothing lost, and the collector received the spans \
             expected."
        );
    } else {
        let _ = writeln!(w, "Problems seen (the figures of these runs are suspect):\n");
        for p in &problems {
            let _ = writeln!(w, "- {}", p.replace('|', "/"));
        }
    }
    history(w, ctx);
    md
}

/// bench/history.md, verbatim, when it exists: the before/after record of the hot-path work,
/// written by hand, kept with the figures it is compared against.
fn history(w: &mut String, ctx: &Ctx) {
    let Ok(text) = std::fs::read_to_string(ctx.root.join("bench/history.md")) else { return };
    let _ = writeln!(w, "\n## Before and after (hot-path work)\n");
    let _ = write!(w, "{}", text);
    if !text.ends_with('\n') {
        let _ = writeln!(w);
    }
}

/// A function name without its long generic or path noise, for tables.
fn short(f: &str) -> String {
    let s = f.replace('|', "/").replace('`', "'");
    if s.chars().count() > 110 {
        let cut: String = s.chars().take(107).collect();
        format!("{cut}…")
    } else {
        s
    }
}

/// What a shared object is, in the profile's terms.
fn object_label(object: &str) -> String {
    let what = match object {
        o if o.starts_with("libwasmedge_otel") => "plugin",
        o if o.starts_with("libwasmedge") => "WasmEdge runtime (host-call dispatch, WASI)",
        o if o.starts_with("libc.so") => "libc (malloc, free, memcpy, clock)",
        o if o.starts_with("libstdc++") => "libstdc++ (operator new/delete)",
        o if o.starts_with("ld-linux") => "ld.so (thread-local storage)",
        o if o.ends_with(".so") && !o.starts_with("lib") => "guest code (AOT)",
        "unknown" => "unattributed",
        _ => "",
    };
    if what.is_empty() {
        format!("`{object}`")
    } else {
        format!("{what} `{object}`")
    }
}
