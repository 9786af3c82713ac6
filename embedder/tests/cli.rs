//! The example binary, `wasmedge-otel-embedder`, run as a user would: guest arguments, guest
//! environment and preopens passed through, the guest's exit code printed and returned, traps,
//! a missing plugin, and `--instances 8` against a test collector.

mod common;

use common::*;
use std::collections::HashSet;
use std::path::Path;
use std::process::{Command, Output};

fn embedder(args: &[&str], endpoint: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wasmedge-otel-embedder"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("OTEL_") || key == "TRACEPARENT" {
            cmd.env_remove(key);
        }
    }
    if let Some(endpoint) = endpoint {
        cmd.env("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint);
    }
    cmd.env("WASMEDGE_OTEL_PLUGIN_DIR", plugin_dir()).args(args).output().expect("run the embedder")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Exits with `argc * 10 + envc`, or 99 if fd 3 is not a preopened directory when `check_preopen`.
fn wasi_guest(name: &str, check_preopen: bool) -> std::path::PathBuf {
    let preopen = if check_preopen {
        "(if (call $fd_prestat_get (i32.const 3) (i32.const 16)) (then (call $proc_exit (i32.const 99))))"
    } else {
        ""
    };
    wasm_file(
        name,
        &format!(
            r#"(module
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $environ_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_get" (func $fd_prestat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    {preopen}
    (drop (call $args_sizes_get (i32.const 0) (i32.const 4)))
    (drop (call $environ_sizes_get (i32.const 8) (i32.const 12)))
    (call $proc_exit (i32.add (i32.mul (i32.load (i32.const 0)) (i32.const 10)) (i32.load (i32.const 8)))))
)"#
        ),
    )
}

#[test]
fn passes_arguments_environment_and_preopens_and_returns_the_exit_code() {
    let wasm = wasi_guest("cli_wasi", false);
    // argv = [guest, x, y]; the guest sees only the two --env variables, none of the host's.
    let out = embedder(&["--env", "A=1", "--env", "B=2", path(&wasm), "x", "y"], None);
    assert_eq!(out.status.code(), Some(32), "{}", stderr(&out));
    assert!(stderr(&out).contains("exit code 32"), "{}", stderr(&out));

    let wasm = wasi_guest("cli_preopen", true);
    let dir = format!("/data:{}", wasm.parent().unwrap().display());
    let out = embedder(&["--dir", &dir, path(&wasm)], None);
    assert_eq!(out.status.code(), Some(10), "preopened: {}", stderr(&out));
    let out = embedder(&[path(&wasm)], None);
    assert_eq!(out.status.code(), Some(99), "nothing preopened: {}", stderr(&out));
}

#[test]
fn traps_and_a_missing_plugin_are_reported() {
    let wasm = wasm_file("cli_trap", r#"(module (func (export "_start") unreachable))"#);
    let out = embedder(&[path(&wasm)], None);
    assert_eq!(out.status.code(), Some(134), "{}", stderr(&out));
    assert!(stderr(&out).contains("guest trapped: unreachable"), "{}", stderr(&out));

    let empty = plugin_dir().parent().unwrap().join("no-plugin");
    std::fs::create_dir_all(&empty).unwrap();
    let out = embedder(&["--plugin-dir", path(&empty), path(&wasm)], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no wasmedge_otel plugin in"), "{}", stderr(&out));
}

#[test]
fn eight_instances_send_eight_separate_traces() {
    let collector = Collector::start("127.0.0.1:0").expect("start the test collector");
    let wasm = wasm_file(
        "cli_traced",
        &format!(
            r#"(module
  {imports}
  (memory (export "memory") 1)
  (data (i32.const 0) "cli-root")
  (data (i32.const 16) "cli-child")
  (func (export "_start")
    (local $root i64)
    (local.set $root (call $span_start (i32.const 0) (i32.const 8) (i32.const 1) (i64.const 0) (i32.const 0) (i32.const 0)))
    (drop (call $span_start (i32.const 16) (i32.const 9) (i32.const 0) (i64.const 0) (i32.const 0) (i32.const 0)))
    ;; the child is left open: the finalizer ends it
    (drop (call $span_end (local.get $root))))
)"#,
            imports = wat_imports()
        ),
    );
    let out = embedder(&["--instances", "8", path(&wasm)], Some(&collector.endpoint()));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    for i in 0..8 {
        assert!(stderr(&out).contains(&format!("instance {i}: exit code 0")), "{}", stderr(&out));
    }
    // The process has exited: everything was flushed by the instances' finalizers.
    let spans = spans_named(&collector, "cli-");
    assert_eq!(spans.len(), 16, "{}", stderr(&out));
    let roots: Vec<_> = spans.iter().filter(|s| s.span.name == "cli-root").collect();
    let traces: HashSet<_> = roots.iter().map(|r| r.trace_id_hex()).collect();
    assert_eq!(traces.len(), 8, "one trace per instance");
    for child in spans.iter().filter(|s| s.span.name == "cli-child") {
        let root = roots.iter().find(|r| r.trace_id_hex() == child.trace_id_hex()).expect("its root");
        assert_eq!(child.parent_span_id_hex(), root.span_id_hex());
        assert_eq!(bool_attr(child, "wasmedge_otel.unfinished"), Some(true));
    }
    // service.name defaults to the guest's file stem, found on the embedder's command line.
    assert_eq!(resource_str(roots[0], "service.name").as_deref(), Some("cli_traced"));
}
