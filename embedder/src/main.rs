//! `wasmedge-otel-embedder`: runs a WASI guest in-process on wasmedge-sdk 0.14, with the
//! `wasmedge_otel` plugin loaded from a directory, and prints the guest's exit code.
//!
//! ```text
//! wasmedge-otel-embedder [OPTIONS] GUEST.wasm [GUEST ARGS...]
//! ```
//!
//! See `--help` and `docs/embedding.md`.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use wasmedge_otel_embedder::{default_plugin_dir, load_plugin, run_concurrently, Exit, WasiConfig};

const USAGE: &str = "\
usage: wasmedge-otel-embedder [OPTIONS] GUEST.wasm [GUEST ARGS...]

Runs a WASI guest (a .wasm module, or one AOT-compiled by `wasmedge compile`) in this process with
WasmEdge and the wasmedge_otel plugin, then prints its exit code and exits with it. Telemetry goes
where the OTEL_* variables of this process say (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME, ...).

options (before the guest; everything after it is passed to the guest as its arguments):
  --plugin-dir DIR   directory holding libwasmedge_otel.so, scanned recursively
                     (default: $WASMEDGE_OTEL_PLUGIN_DIR, else target/plugin of this repository)
  --instances K      run K instances of the guest at once, each on its own thread with its own
                     WASI and wasmedge_otel module instances (default 1); instance i also gets
                     EMBEDDER_INSTANCE=i in its environment when K > 1
  --dir GUEST:HOST   preopen HOST as GUEST for the guest (repeatable); --dir PATH means PATH:PATH
  --env KEY=VALUE    set a variable in the guest's environment (repeatable); the guest sees no
                     other host variable
  -h, --help         print this help";

struct Options {
    plugin_dir: PathBuf,
    instances: usize,
    preopens: Vec<String>,
    envs: Vec<String>,
    guest: PathBuf,
    guest_args: Vec<String>,
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut plugin_dir = None;
    let mut instances = 1;
    let (mut preopens, mut envs) = (Vec::new(), Vec::new());
    loop {
        let arg = args.next().ok_or("no guest module given")?;
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "-h" | "--help" => return Err(String::new()),
            "--plugin-dir" => plugin_dir = Some(PathBuf::from(value("--plugin-dir")?)),
            "--instances" => {
                instances = value("--instances")?
                    .parse()
                    .ok()
                    .filter(|&k| k > 0)
                    .ok_or("--instances needs a positive number")?
            }
            "--dir" => {
                let dir = value("--dir")?;
                preopens.push(if dir.contains(':') { dir } else { format!("{dir}:{dir}") });
            }
            "--env" => {
                let env = value("--env")?;
                if !env.contains('=') {
                    return Err(format!("--env {env}: expected KEY=VALUE"));
                }
                envs.push(env);
            }
            option if option.starts_with('-') => return Err(format!("unknown option {option}")),
            _ => {
                return Ok(Options {
                    plugin_dir: plugin_dir.unwrap_or_else(default_plugin_dir),
                    instances,
                    preopens,
                    envs,
                    guest_args: std::iter::once(arg.clone()).chain(args).collect(),
                    guest: PathBuf::from(arg),
                })
            }
        }
    }
}

fn main() -> ExitCode {
    let options = match parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) if message.is_empty() => {
            // Ignore a closed stdout (`--help | head`).
            let _ = writeln!(std::io::stdout(), "{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("wasmedge-otel-embedder: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = load_plugin(&options.plugin_dir) {
        eprintln!("wasmedge-otel-embedder: {e}");
        return ExitCode::from(1);
    }
    let k = options.instances;
    let exits = run_concurrently(&options.guest, k, |i| WasiConfig {
        args: options.guest_args.clone(),
        envs: options.envs.iter().cloned().chain((k > 1).then(|| format!("EMBEDDER_INSTANCE={i}"))).collect(),
        preopens: options.preopens.clone(),
    });
    // Every sandbox has been dropped by now, on its own thread: the plugin flushed at each.
    let mut status = 0;
    for (i, exit) in exits.iter().enumerate() {
        let who = if k > 1 { format!("instance {i}: ") } else { String::new() };
        match exit {
            Ok(Exit::Code(code)) => eprintln!("wasmedge-otel-embedder: {who}exit code {code}"),
            Ok(Exit::Trap(error)) => eprintln!(
                "wasmedge-otel-embedder: {who}guest trapped: {error}; exit code {}",
                Exit::Trap(String::new()).status()
            ),
            Err(e) => eprintln!("wasmedge-otel-embedder: {who}{e}"),
        }
        let this = exit.as_ref().map_or(1, Exit::status);
        if status == 0 {
            status = this;
        }
    }
    ExitCode::from(status as u8)
}
