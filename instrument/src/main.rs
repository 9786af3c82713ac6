//! `wasmedge-otel instrument in.wasm -o out.wasm ...`: the command line of the rewriter.

use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use wasmedge_otel_instrument::{instrument, names, Options, Registration, DEFAULT_MIN_INSTRUCTIONS};

const USAGE: &str = "\
usage: wasmedge-otel instrument IN.wasm -o OUT.wasm [options]

Adds OpenTelemetry entry/exit probes (wasmedge_otel.func_enter / func_exit) to the functions of a
compiled WebAssembly module, for the wasmedge_otel WasmEdge plugin. Function names travel in the
module and are registered with the plugin (func_names) on the first probe.

options:
  -o, --output FILE         where to write the instrumented module (required unless --list)
  --include PATTERN         only instrument functions whose demangled name matches (repeatable)
  --exclude PATTERN         never instrument functions whose demangled name matches (repeatable)
  --min-instructions N      skip leaf functions (making no call) with fewer than N instructions
                            (default 8; 0 with --all)
  --all                     drop the defaults: also unnamed functions and runtime internals, and
                            no minimum size unless --min-instructions is given
  --list                    print the decision for every function
  --list-default-excludes   print the default exclusion patterns and exit
  -q, --quiet               print errors only
  -h, --help                this help

Patterns are globs over demangled names (Rust, C++): `*` matches any run of characters,
`?` one character; the whole name must match. Example: --include 'myapp::*' --exclude '*::fmt'.
DWARF (.debug_*), source-map and branch-hint sections are dropped: the code offsets they refer
to change. The name section is kept (and extended).";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("instrument") => match run(&args[1..]) {
            Ok(()) => ExitCode::SUCCESS,
            Err(Failure::Usage(m)) => {
                eprintln!("wasmedge-otel: {m}\n\n{USAGE}");
                ExitCode::from(2)
            }
            Err(Failure::Fatal(m)) => {
                eprintln!("wasmedge-otel: error: {m}");
                ExitCode::FAILURE
            }
        },
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some("-V" | "--version") => {
            println!("wasmedge-otel {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("wasmedge-otel: unknown subcommand '{other}'\n\n{USAGE}");
            ExitCode::from(2)
        }
        None => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

enum Failure {
    Usage(String),
    Fatal(String),
}

struct Cli {
    input: String,
    output: Option<String>,
    options: Options,
    list: bool,
    quiet: bool,
}

fn parse(args: &[String]) -> Result<Option<Cli>, Failure> {
    let mut input = None;
    let mut output = None;
    let mut options = Options::default();
    let (mut list, mut quiet) = (false, false);
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        // `--flag=value` and `--flag value` are both accepted.
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        let mut value = |name: &str| -> Result<String, Failure> {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .ok_or_else(|| Failure::Usage(format!("{name} needs a value")))
        };
        match flag {
            "-o" | "--output" => output = Some(value(flag)?),
            "--include" => options.include.push(value(flag)?),
            "--exclude" => options.exclude.push(value(flag)?),
            "--min-instructions" => {
                let v = value(flag)?;
                let n = v
                    .parse()
                    .map_err(|_| Failure::Usage(format!("--min-instructions: not a count: '{v}'")))?;
                options.min_instructions = Some(n);
            }
            "--all" => options.all = true,
            "--list" => list = true,
            "-q" | "--quiet" => quiet = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(None);
            }
            "--list-default-excludes" => {
                let mut stdout = std::io::stdout().lock();
                for p in names::DEFAULT_EXCLUDES {
                    if writeln!(stdout, "{p}").is_err() {
                        break;
                    }
                }
                return Ok(None);
            }
            f if f.starts_with('-') && f.len() > 1 => {
                return Err(Failure::Usage(format!("unknown option '{f}'")))
            }
            _ if input.is_none() => input = Some(arg.clone()),
            _ => return Err(Failure::Usage(format!("unexpected argument '{arg}'"))),
        }
    }
    let input = input.ok_or_else(|| Failure::Usage("no input module given".into()))?;
    if output.is_none() && !list {
        return Err(Failure::Usage("no output given (-o OUT.wasm)".into()));
    }
    Ok(Some(Cli { input, output, options, list, quiet }))
}

fn run(args: &[String]) -> Result<(), Failure> {
    let Some(cli) = parse(args)? else { return Ok(()) };
    let bytes =
        std::fs::read(&cli.input).map_err(|e| Failure::Fatal(format!("reading {}: {e}", cli.input)))?;
    let started = Instant::now();
    let result =
        instrument(&bytes, &cli.options).map_err(|e| Failure::Fatal(format!("{}: {e}", cli.input)))?;
    let elapsed = started.elapsed();
    let report = &result.report;

    if cli.list {
        // `+`/`-`, function id, instructions, name, decision. A closed pipe (`| head`) ends the list.
        let mut stdout = std::io::stdout().lock();
        for f in &report.functions {
            let mark = if f.decision.is_instrumented() { '+' } else { '-' };
            let name = f.name.as_deref().unwrap_or("<unnamed>");
            if writeln!(stdout, "{mark} {:>6} {:>6} {name}  [{}]", f.id, f.instructions, f.decision).is_err()
            {
                break;
            }
        }
    }
    if let Some(out) = &cli.output {
        std::fs::write(out, &result.wasm).map_err(|e| Failure::Fatal(format!("writing {out}: {e}")))?;
    }
    if cli.quiet {
        return Ok(());
    }
    let defined = report.functions.len();
    let target = cli.output.as_deref().map(|o| format!(" -> {o}")).unwrap_or_default();
    eprintln!(
        "wasmedge-otel: instrumented {} of {defined} functions ({}{target}, {} -> {} bytes, {:.1} ms)",
        report.instrumented,
        cli.input,
        bytes.len(),
        result.wasm.len(),
        elapsed.as_secs_f64() * 1000.0
    );
    if report.instrumented == 0 {
        let min = cli.options.min_instructions.unwrap_or(if cli.options.all {
            0
        } else {
            DEFAULT_MIN_INSTRUCTIONS
        });
        eprintln!(
            "wasmedge-otel: nothing selected (min {min} instructions{}); the output is the input unchanged. \
             A module without a name section has no names: try --all, or keep names when building \
             (Cargo: strip = false or strip = \"debuginfo\")",
            if cli.options.all { "" } else { ", default exclusions on" }
        );
        return Ok(());
    }
    if !report.added_imports.is_empty() {
        eprintln!(
            "wasmedge-otel: imports added: wasmedge_otel.{}",
            report.added_imports.join(", wasmedge_otel.")
        );
    }
    match &report.registration {
        Registration::Registered { stack_pointer, found_by, names, table_bytes, calls } => eprintln!(
            "wasmedge-otel: {names} names ({table_bytes} bytes, {calls} func_names call(s)) registered on the \
             first probe through stack pointer global {stack_pointer} ({found_by})"
        ),
        Registration::Skipped(why) => {
            eprintln!("wasmedge-otel: names not registered: {why}; functions show as func[ID]")
        }
    }
    let dwarf: Vec<&str> = report.dropped_sections.iter().map(String::as_str).collect();
    if !dwarf.is_empty() {
        eprintln!(
            "wasmedge-otel: dropped {} custom section(s) ({}): the code offsets they refer to changed",
            dwarf.len(),
            dwarf.join(", ")
        );
    }
    for w in &report.warnings {
        eprintln!("wasmedge-otel: warning: {w}");
    }
    Ok(())
}
