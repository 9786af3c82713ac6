//! `hello-plain`: `hello` without the tracing bindings, as a size baseline.
//!
//! Same logic and the same stdout (`hello from wasm; computed 55`), no host calls and no imports from
//! `wasmedge_otel`: `hello.wasm` minus `hello-plain.wasm` is what the bindings (and the calls into
//! them) cost.

/// Number of terms `compute` sums.
const TERMS: i64 = 10;

struct Config {
    path: &'static str,
    entries: i64,
    sources: [&'static str; 2],
}

fn main() {
    let _config = load_config();
    let total = compute(TERMS);
    let line = format!("hello from wasm; computed {total}");
    respond(&line);
}

fn load_config() -> Config {
    let config = Config { path: "/etc/hello.toml", entries: 3, sources: ["defaults", "env"] };
    std::hint::black_box((config.path, config.entries, config.sources));
    config
}

fn compute(n: i64) -> i64 {
    let sum = (1..=n).sum::<i64>();
    let divisor = n - TERMS;
    sum.checked_div(divisor).unwrap_or(sum)
}

fn respond(line: &str) {
    println!("{line}");
}
