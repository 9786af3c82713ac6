//! Start-up: `wasmedge` on a tiny AOT guest without the plugin, with the plugin loaded but unused,
//! and with the plugin exporting one span to the collector, timed by hyperfine side by side. The
//! three commands run in several rounds (hyperfine runs all runs of one command, then the next),
//! so that a drift in the machine's load spreads over all three; the samples of all rounds are
//! pooled.
//!
//! The same three commands also run interleaved by the runner itself (one run of each per round,
//! order rotating), which gives paired differences (robust to load drift), CPU time and minor page
//! faults (what loading an 8 MB shared library mostly costs) from wait4.

use crate::proc;
use crate::stats::{summarize, Summary};
use crate::Ctx;
use wasmedge_otel_collector::Collector;

#[derive(Debug, Clone)]
pub struct Config {
    pub id: &'static str,
    pub what: &'static str,
    pub command: String,
    /// Wall times in ms, all rounds pooled.
    pub times_ms: Vec<f64>,
    pub summary: Summary,
    /// Mean user + system CPU time in ms, averaged over rounds.
    pub cpu_ms: f64,
    /// Interleaved runs: wall ms, CPU ms, minor faults, per round.
    pub own_wall_ms: Vec<f64>,
    pub own_cpu_ms: Vec<f64>,
    pub own_faults: Vec<f64>,
}

impl Config {
    /// Median of the per-round differences `self - other` of the interleaved runs, and their range.
    pub fn paired_diff(&self, other: &Config, pick: fn(&Config) -> &Vec<f64>) -> Summary {
        let d: Vec<f64> = pick(self).iter().zip(pick(other)).map(|(a, b)| a - b).collect();
        summarize(&d)
    }
}

pub struct Startup {
    pub configs: Vec<Config>,
    pub rounds: usize,
    pub runs_per_round: usize,
    pub own_rounds: usize,
    pub problems: Vec<String>,
}

impl Startup {
    pub fn get(&self, id: &str) -> Option<&Config> {
        self.configs.iter().find(|c| c.id == id)
    }
}

pub fn run(ctx: &Ctx) -> Startup {
    let (rounds, runs) = if ctx.opts.quick { (1, 10) } else { (3, 20) };
    let mut problems = Vec::new();
    let collector = match Collector::start("127.0.0.1:0") {
        Ok(c) => c,
        Err(e) => {
            return Startup {
                configs: Vec::new(),
                rounds,
                runs_per_round: runs,
                own_rounds: 0,
                problems: vec![format!("collector: {e}")],
            }
        }
    };
    let endpoint = collector.endpoint();
    let plain = ctx.aot.join("hello-world-plain.so");
    let span = ctx.aot.join("hello-world.so");
    let own = |plugin: &std::path::Path, module: &std::path::Path| {
        let mut c = proc::clean("wasmedge", &ctx.home);
        c.arg(module).env("WASMEDGE_PLUGIN_PATH", plugin).env("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint);
        c
    };
    let mut own_cmds =
        [own(&ctx.no_plugin_dir, &plain), own(&ctx.plugin_dir, &plain), own(&ctx.plugin_dir, &span)];
    let cmd = |plugin: &std::path::Path, module: &std::path::Path| {
        format!(
            "env WASMEDGE_PLUGIN_PATH={} OTEL_EXPORTER_OTLP_ENDPOINT={endpoint} wasmedge {}",
            plugin.display(),
            module.display()
        )
    };
    let mut configs = vec![
        Config {
            id: "none",
            what: "without the plugin (hello-world-plain, AOT)",
            command: cmd(&ctx.no_plugin_dir, &plain),
            times_ms: vec![],
            summary: Summary::default(),
            cpu_ms: 0.0,
            own_wall_ms: vec![],
            own_cpu_ms: vec![],
            own_faults: vec![],
        },
        Config {
            id: "unused",
            what: "plugin loaded, unused (hello-world-plain, AOT)",
            command: cmd(&ctx.plugin_dir, &plain),
            times_ms: vec![],
            summary: Summary::default(),
            cpu_ms: 0.0,
            own_wall_ms: vec![],
            own_cpu_ms: vec![],
            own_faults: vec![],
        },
        Config {
            id: "span",
            what: "plugin exporting one span to the collector (hello-world, AOT)",
            command: cmd(&ctx.plugin_dir, &span),
            times_ms: vec![],
            summary: Summary::default(),
            cpu_ms: 0.0,
            own_wall_ms: vec![],
            own_cpu_ms: vec![],
            own_faults: vec![],
        },
    ];
    let json = ctx.work.join("hyperfine.json");
    for round in 0..rounds {
        let mut h = proc::clean("hyperfine", &ctx.home);
        h.args(["-N", "--warmup", "3", "--runs", &runs.to_string(), "--style", "none", "--export-json"])
            .arg(&json);
        // Alternate the order between rounds.
        let order: Vec<usize> = if round % 2 == 0 { vec![0, 1, 2] } else { vec![2, 1, 0] };
        for &i in &order {
            h.arg(&configs[i].command);
        }
        match proc::run(&mut h) {
            Ok(f) if f.ok() => {}
            Ok(f) => {
                problems.push(format!("hyperfine: {}", f.describe()));
                continue;
            }
            Err(e) => {
                problems.push(format!("hyperfine: {e}"));
                continue;
            }
        }
        let parsed: serde_json::Value =
            match std::fs::read_to_string(&json).ok().and_then(|t| serde_json::from_str(&t).ok()) {
                Some(v) => v,
                None => {
                    problems.push("hyperfine JSON unreadable".into());
                    continue;
                }
            };
        let results = parsed["results"].as_array().cloned().unwrap_or_default();
        for (slot, result) in order.iter().zip(results) {
            let c = &mut configs[*slot];
            if let Some(times) = result["times"].as_array() {
                c.times_ms.extend(times.iter().filter_map(|t| t.as_f64()).map(|t| t * 1e3));
            }
            let cpu =
                result["user"].as_f64().unwrap_or(f64::NAN) + result["system"].as_f64().unwrap_or(f64::NAN);
            c.cpu_ms += cpu * 1e3 / rounds as f64;
        }
    }
    for c in &mut configs {
        c.summary = summarize(&c.times_ms);
    }
    let own_rounds = if ctx.opts.quick { 10 } else { 60 };
    for round in 0..own_rounds {
        for k in 0..3 {
            let i = (round + k) % 3;
            match proc::run(&mut own_cmds[i]) {
                Ok(f) if f.ok() => {
                    let c = &mut configs[i];
                    c.own_wall_ms.push(f.wall.as_secs_f64() * 1e3);
                    c.own_cpu_ms.push(f.cpu.as_secs_f64() * 1e3);
                    c.own_faults.push(f.minor_faults as f64);
                }
                Ok(f) => problems.push(format!("{}: {}", configs[i].id, f.describe())),
                Err(e) => problems.push(format!("{}: {e}", configs[i].id)),
            }
        }
    }
    collector.shutdown();
    Startup { configs, rounds, runs_per_round: runs, own_rounds, problems }
}
