//! A bounded, deterministic run of the fuzz harness in `fuzz/src/` (the code `make fuzz` runs
//! under libFuzzer), so that a regression in the decoding layer fails `cargo test`:
//!
//! - the hand-made seeds of both targets (`fuzz/seeds/` holds the same bytes, for libFuzzer);
//! - every saved regression input under `fuzz/regressions/<target>/`;
//! - a fixed number of structure-aware inputs from a seeded PRNG, for each target.
//!
//! A failing input is written to `target/fuzz-failures/` (replay it with
//! `FUZZ_REPLAY=path cargo test -p wasmedge-otel-plugin --test fuzz_decode replay -- --nocapture`),
//! then minimized (`cargo fuzz tmin`, see `fuzz/README.md`) and kept under `fuzz/regressions/`.

#[path = "../../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod harness;

use harness::{calls, decoders, gen, XorShift};
use std::path::{Path, PathBuf};
use wasmedge_otel::core::host::HOST_FUNCTIONS;

/// Generated inputs per target. A few seconds in a debug build on two cores.
const HOST_CALL_INPUTS: usize = 20_000;
const DECODE_INPUTS: usize = 20_000;
const SEED: u64 = 0x5eed_f022_2026;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// Runs `f` on `input`; on a panic, saves the input and fails with where it is.
fn guarded<R>(target: &str, label: &str, input: &[u8], f: impl Fn(&[u8]) -> R) -> R {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(input))) {
        Ok(r) => r,
        Err(_) => {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/fuzz-failures");
            std::fs::create_dir_all(&dir).unwrap();
            let path = dir.join(format!("{target}-{label}"));
            std::fs::write(&path, input).unwrap();
            panic!("{target} input {label} broke an invariant (message above); saved to {}", path.display());
        }
    }
}

fn host_calls(label: &str, input: &[u8]) -> calls::Stats {
    guarded("host_calls", label, input, |d| calls::run_with(d, false))
}

fn decode(label: &str, input: &[u8]) {
    guarded("decode", label, input, decoders::run)
}

#[test]
fn host_call_seeds_hold_every_invariant() {
    let mut stats = calls::Stats::default();
    for (name, input) in gen::host_call_seeds() {
        stats.add(&host_calls(name, &input));
    }
    // The seeds reach every host function successfully at least once.
    for (i, (f, _)) in HOST_FUNCTIONS.iter().enumerate() {
        assert!(stats.ok[i] > 0, "no seed calls {} successfully", f.name);
    }
}

#[test]
fn decode_seeds_hold_every_invariant() {
    for (name, input) in gen::decode_seeds() {
        decode(name, &input);
    }
}

/// The seed files libFuzzer starts from are the hand-made seeds above, byte for byte.
/// `FUZZ_WRITE_SEEDS=1` rewrites them.
#[test]
fn seed_files_are_the_hand_made_seeds() {
    for (target, seeds) in [("host_calls", gen::host_call_seeds()), ("decode", gen::decode_seeds())] {
        let dir = fuzz_dir().join("seeds").join(target);
        for (name, bytes) in seeds {
            let path = dir.join(name);
            if std::env::var_os("FUZZ_WRITE_SEEDS").is_some() {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&path, &bytes).unwrap();
            }
            let on_disk = std::fs::read(&path)
                .unwrap_or_else(|e| panic!("{}: {e} (FUZZ_WRITE_SEEDS=1 writes it)", path.display()));
            assert!(
                on_disk == bytes,
                "{} differs from gen::{target} seeds (FUZZ_WRITE_SEEDS=1 rewrites it)",
                path.display()
            );
        }
    }
}

/// Every input the fuzzer ever broke the harness with, minimized, stays fixed.
#[test]
fn regression_inputs_hold_every_invariant() {
    for target in ["host_calls", "decode"] {
        let Ok(entries) = std::fs::read_dir(fuzz_dir().join("regressions").join(target)) else { continue };
        for entry in entries {
            let path = entry.unwrap().path();
            let input = std::fs::read(&path).unwrap();
            let label = path.file_name().unwrap().to_string_lossy().into_owned();
            match target {
                "host_calls" => drop(host_calls(&label, &input)),
                _ => decode(&label, &input),
            }
        }
    }
}

#[test]
fn seeded_host_call_sequences_hold_every_invariant() {
    let mut rng = XorShift::new(SEED);
    let mut stats = calls::Stats::default();
    for i in 0..HOST_CALL_INPUTS {
        let input = gen::random_host_calls(&mut rng);
        stats.add(&host_calls(&format!("seeded-{i}"), &input));
    }
    if std::env::var_os("FUZZ_STATS").is_some() {
        for (i, (f, _)) in HOST_FUNCTIONS.iter().enumerate() {
            eprintln!("{:>24} {}", f.name, stats.ok[i]);
        }
        eprintln!("{} calls", stats.calls);
    }
    // The generator must keep reaching deep paths, not only refusals: every function succeeds
    // many times across the run.
    for (i, (f, _)) in HOST_FUNCTIONS.iter().enumerate() {
        assert!(
            stats.ok[i] >= 50,
            "only {} successful {} calls in {HOST_CALL_INPUTS} inputs",
            stats.ok[i],
            f.name
        );
    }
    assert!(stats.calls > HOST_CALL_INPUTS * 5, "{} calls", stats.calls);
}

#[test]
fn seeded_decoder_inputs_hold_every_invariant() {
    let mut rng = XorShift::new(SEED ^ 0xdec0de);
    for i in 0..DECODE_INPUTS {
        let input = gen::random_decode(&mut rng);
        decode(&format!("seeded-{i}"), &input);
    }
}

/// Replays one saved input verbosely: `FUZZ_REPLAY=path [FUZZ_TARGET=decode]`.
#[test]
fn replay() {
    let Some(path) = std::env::var_os("FUZZ_REPLAY") else { return };
    let input = std::fs::read(&path).unwrap();
    if std::env::var("FUZZ_TARGET").as_deref() == Ok("decode") {
        decoders::run(&input);
    } else {
        eprintln!("{:?}", calls::run_with(&input, true));
    }
}
