//! Throughput and memory: one guest ending spans (2 attributes) as fast as it can, exported by the
//! plugin over OTLP/gRPC to the project's test collector (the `wasmedge-otel-collector` library,
//! in this process: it decodes, flattens and stores every span, so its own cost is part of the
//! pipeline measured).
//!
//! - zero loss: batch queue larger than the run (`OTEL_BSP_MAX_QUEUE_SIZE=262144`); spans per
//!   second from the process start to the last span's arrival at the collector;
//! - overload: the default queue (2048) and the same burst; peak RSS of the `wasmedge` process
//!   (`/usr/bin/time -f %M`, the process's VmHWM) and the exact number
//!   dropped, from the plugin's exit line and from what the collector counted;
//! - the native SDK's OTLP pipeline (same SDK, exporter and collector) with the zero-loss queue,
//!   as the baseline.

use crate::perop::{self, Prog};
use crate::proc;
use crate::stats::{summarize, Summary};
use crate::Ctx;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wasmedge_otel_collector::{Arrival, Collector};

#[derive(Debug, Clone)]
pub struct Run {
    pub emitted: u64,
    pub received: u64,
    /// Spans the plugin reported lost at exit, and of those dropped (not failed).
    pub lost: u64,
    pub dropped: u64,
    /// Guest-side production cost, ns per span.
    pub ns_per_span: f64,
    /// Received spans per second, from spawn to the last arrival.
    pub delivered_per_s: f64,
    pub wall_s: f64,
    /// CPU time (user + system) of the whole `wasmedge` process per span ended, ns.
    pub cpu_ns_per_span: f64,
    pub max_rss_mib: f64,
    pub problems: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Scenario {
    pub id: &'static str,
    pub what: &'static str,
    pub queue: &'static str,
    pub runs: Vec<Run>,
    pub delivered: Summary,
    pub rss: Summary,
    pub produced: Summary,
}

pub struct Throughput {
    pub spans: u64,
    pub scenarios: Vec<Scenario>,
    /// Peak RSS (MiB) of a guest ending only 100 spans, with the default and the zero-loss queue:
    /// what the batch queue costs up front.
    pub queue_rss: Vec<(&'static str, f64)>,
}

impl Throughput {
    pub fn get(&self, id: &str) -> Option<&Scenario> {
        self.scenarios.iter().find(|s| s.id == id)
    }
}

fn one(ctx: &Ctx, prog: &Prog, op: &str, m: u64, queue: &str) -> Run {
    let mut problems = Vec::new();
    let collector = match Collector::start("127.0.0.1:0") {
        Ok(c) => c,
        Err(e) => {
            return Run {
                emitted: 0,
                received: 0,
                lost: 0,
                dropped: 0,
                ns_per_span: f64::NAN,
                delivered_per_s: f64::NAN,
                wall_s: f64::NAN,
                max_rss_mib: f64::NAN,
                cpu_ns_per_span: f64::NAN,
                problems: vec![format!("collector: {e}")],
            }
        }
    };
    let arrivals = collector.subscribe();
    let count = Arc::new(AtomicU64::new(0));
    let last = Arc::new(Mutex::new(None::<Instant>));
    let counter = {
        let (count, last) = (Arc::clone(&count), Arc::clone(&last));
        std::thread::spawn(move || {
            for arrival in arrivals {
                if let Arrival::Spans(spans) = arrival {
                    count.fetch_add(spans.len() as u64, Ordering::SeqCst);
                    *last.lock().unwrap() = Some(Instant::now());
                }
            }
        })
    };
    let mut cmd = perop::command(ctx, prog, op, m, 0, &collector.endpoint(), &[]);
    cmd.env("OTEL_BSP_MAX_QUEUE_SIZE", queue);
    let emitted = *perop::expected(prog, op, m, 0, &[]).0.end();
    let finished = proc::run_measuring_rss(&mut cmd, &ctx.work);
    // Whatever was exported has arrived once the count stops moving (the exit flush completed
    // before the process ended).
    let mut seen = count.load(Ordering::SeqCst);
    let mut still = Instant::now();
    while still.elapsed() < Duration::from_millis(500) && seen < emitted {
        std::thread::sleep(Duration::from_millis(50));
        let now = count.load(Ordering::SeqCst);
        if now != seen {
            seen = now;
            still = Instant::now();
        }
    }
    collector.shutdown();
    let _ = counter.join();
    let received = count.load(Ordering::SeqCst);
    let (finished, rss_kib) = match finished {
        Ok(f) => f,
        Err(e) => {
            problems.push(format!("cannot run: {e}"));
            return Run {
                emitted,
                received,
                lost: 0,
                dropped: 0,
                ns_per_span: f64::NAN,
                delivered_per_s: f64::NAN,
                wall_s: f64::NAN,
                max_rss_mib: f64::NAN,
                cpu_ns_per_span: f64::NAN,
                problems,
            };
        }
    };
    if !finished.ok() {
        problems.push(finished.describe());
    }
    let (lost, _failed, dropped) = proc::spans_lost(&finished.stderr);
    let last_arrival = last.lock().unwrap().map(|t| t.duration_since(finished.started));
    let delivered_per_s = last_arrival.map_or(f64::NAN, |d| received as f64 / d.as_secs_f64());
    if matches!(prog, Prog::Wasm(_)) && received + lost != emitted {
        problems.push(format!("{emitted} spans ended, {received} received + {lost} reported lost"));
    }
    Run {
        emitted,
        received,
        lost,
        dropped,
        ns_per_span: proc::ns_per_op(&finished.stdout).unwrap_or(f64::NAN),
        delivered_per_s,
        wall_s: finished.wall.as_secs_f64(),
        max_rss_mib: rss_kib.map_or(f64::NAN, |k| k as f64 / 1024.0),
        cpu_ns_per_span: finished.cpu.as_nanos() as f64 / emitted.max(1) as f64,
        problems,
    }
}

pub fn run(ctx: &Ctx) -> Throughput {
    let m = ctx.n(200_000);
    let runs = if ctx.opts.quick { 1 } else { 3 };
    let ops = Prog::Wasm(ctx.module("ops", true));
    let list: [(&str, &str, Prog, &str, &str); 3] = [
        (
            "zero-loss",
            "plugin, AOT guest, queue larger than the burst",
            ops.clone(),
            "span",
            perop::BIG_QUEUE,
        ),
        ("overload", "plugin, AOT guest, default queue", ops, "span", "2048"),
        (
            "native",
            "native SDK, batch + OTLP/gRPC (baseline), queue larger than the burst",
            Prog::Native,
            "span-otlp",
            perop::BIG_QUEUE,
        ),
    ];
    let mut scenarios: Vec<Scenario> = list
        .iter()
        .map(|(id, what, _, _, queue)| Scenario {
            id,
            what,
            queue,
            runs: Vec::new(),
            delivered: Summary::default(),
            rss: Summary::default(),
            produced: Summary::default(),
        })
        .collect();
    for _ in 0..runs {
        for (i, (_, _, prog, op, queue)) in list.iter().enumerate() {
            let r = one(ctx, prog, op, m, queue);
            eprintln!(
                "bench:   {}: {} of {} spans received, {} reported lost, {:.0} spans/s, peak RSS {:.1} MiB",
                scenarios[i].id, r.received, r.emitted, r.lost, r.delivered_per_s, r.max_rss_mib
            );
            scenarios[i].runs.push(r);
        }
    }
    for s in &mut scenarios {
        s.delivered = summarize(&s.runs.iter().map(|r| r.delivered_per_s).collect::<Vec<_>>());
        s.rss = summarize(&s.runs.iter().map(|r| r.max_rss_mib).collect::<Vec<_>>());
        s.produced = summarize(&s.runs.iter().map(|r| r.ns_per_span).collect::<Vec<_>>());
    }
    let mut queue_rss = Vec::new();
    for queue in ["2048", perop::BIG_QUEUE] {
        let r = one(ctx, &Prog::Wasm(ctx.module("ops", true)), "span", 100, queue);
        queue_rss.push((queue, r.max_rss_mib));
    }
    Throughput { spans: m, scenarios, queue_rss }
}
