//! Helpers shared by the `reliability_*` end-to-end tests (issue 6), included by each of them with
//! `#[path = "reliability_support.rs"] mod rel;`. Built on its own (cargo treats every file in
//! `tests/` as a test target) it holds no test.
//!
//! Everything here is bounded: every wait has a deadline, every process it starts is killed and
//! reaped when its handle is dropped, every thread stops when its handle is dropped.
#![allow(dead_code)]

use std::fs::File;
use std::io::Write as _;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use wasmedge_otel_collector::{Arrival, ReceivedSpan};
use wasmedge_otel_tests::*;

/// An endpoint on 127.0.0.1 where nothing listens (a listener is bound, then dropped).
pub fn dead_endpoint() -> String {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind a port to free");
    format!("http://{}", l.local_addr().unwrap())
}

// ---------------------------------------------------------------------------------------------
// The exit report

/// The span part of the `wasmedge_otel: telemetry lost: ...` line: (lost, failed, dropped or
/// unflushed). `None` when the line is absent or names no spans (nothing lost).
pub fn spans_lost(stderr: &str) -> Option<(u64, u64, u64)> {
    let line = stderr.lines().find(|l| l.starts_with("wasmedge_otel: telemetry lost: "))?;
    let rest = line.strip_prefix("wasmedge_otel: telemetry lost: ")?;
    // "N spans (F failed to export, D dropped or unflushed)"
    let at = rest.find(" spans (")?;
    let lost: u64 = rest[..at].rsplit(|c: char| !c.is_ascii_digit()).next()?.parse().ok()?;
    let inner = &rest[at + " spans (".len()..];
    let failed: u64 = inner.split(' ').next()?.parse().ok()?;
    let dropped_at = inner.find(", ")? + 2;
    let dropped: u64 = inner[dropped_at..].split(' ').next()?.parse().ok()?;
    assert_eq!(lost, failed + dropped, "inconsistent loss line: {line}");
    Some((lost, failed, dropped))
}

// ---------------------------------------------------------------------------------------------
// Received spans

/// The `i64` attribute `key` of a span.
pub fn int_attr(span: &ReceivedSpan, key: &str) -> Option<i64> {
    use opentelemetry_proto::tonic::common::v1::any_value::Value;
    match span.attr(key)?.value.as_ref()? {
        Value::IntValue(i) => Some(*i),
        _ => None,
    }
}

/// Every span delivered through a subscription, until the collector shut down (the channel
/// disconnects then) or `limit` passed. Use it to keep what a collector received after
/// `Collector::shutdown` consumed it.
pub fn drain_spans(rx: mpsc::Receiver<Arrival>, limit: Duration) -> Vec<ReceivedSpan> {
    let deadline = Instant::now() + limit;
    let mut spans = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(Arrival::Spans(s)) => spans.extend(s),
            Ok(_) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => return spans,
            Err(mpsc::RecvTimeoutError::Timeout) => panic!("the subscription did not end within {limit:?}"),
        }
    }
}

/// Binds a new collector on exactly `port` (of a collector just shut down), retrying for a
/// bounded time while the old listener winds down.
pub fn restart_collector_on(port: u16) -> Collector {
    let start = Instant::now();
    loop {
        match Collector::start(&format!("127.0.0.1:{port}")) {
            Ok(c) => return c,
            Err(e) => {
                assert!(start.elapsed() < Duration::from_secs(10), "cannot bind 127.0.0.1:{port} again: {e}");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A collector that accepts and never answers

/// A TCP listener on 127.0.0.1 that accepts connections and holds them without ever reading or
/// answering: an export to it can only end by its timeout. Its thread stops when this is dropped,
/// and in any case after twice the run timeout.
pub struct BlackHole {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl BlackHole {
    pub fn start() -> BlackHole {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the black hole");
        listener.set_nonblocking(true).expect("non-blocking listener");
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let accepted = Arc::new(AtomicUsize::new(0));
        let (stopping, counting) = (Arc::clone(&stop), Arc::clone(&accepted));
        let thread = std::thread::spawn(move || {
            let deadline = Instant::now() + 2 * RUN_TIMEOUT;
            let mut held = Vec::new();
            while !stopping.load(Ordering::Relaxed) && Instant::now() < deadline {
                match listener.accept() {
                    Ok((stream, _)) => {
                        held.push(stream);
                        counting.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        BlackHole { addr, accepted, stop, thread: Some(thread) }
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Connections accepted so far (each held open, unanswered).
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::Relaxed)
    }
}

impl Drop for BlackHole {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A wasmedge process the test interacts with while it runs

/// `wasmedge` with the plugin, started in the background: its stdin is a pipe the test writes to,
/// its stdout and stderr go to files the test can read while it runs. Dropping it kills and reaps
/// the process if it is still running.
pub struct Spawned {
    child: Option<Child>,
    stdin: Option<ChildStdin>,
    out_path: PathBuf,
    err_path: PathBuf,
    started: Instant,
    /// Largest VmHWM (peak resident set) seen in /proc/<pid>/status, in KiB.
    peak_kib: u64,
}

impl Spawned {
    /// Starts `wasm` with the plugin and exactly the `OTEL_*` variables given in `env` (those of
    /// the test process are removed, as `Run` does).
    pub fn start(wasm: &Path, env: &[(&str, &str)]) -> Spawned {
        let mut cmd = Command::new("wasmedge");
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("OTEL_") || key == "TRACEPARENT" || key == "TRACESTATE" {
                cmd.env_remove(key);
            }
        }
        static RUNS: AtomicUsize = AtomicUsize::new(0);
        let n = RUNS.fetch_add(1, Ordering::Relaxed);
        let out_path = scratch_dir().join(format!("rel{}_{n}.out", std::process::id()));
        let err_path = scratch_dir().join(format!("rel{}_{n}.err", std::process::id()));
        cmd.env("WASMEDGE_PLUGIN_PATH", plugin_dir())
            .envs(env.iter().map(|(k, v)| (*k, *v)))
            .arg(wasm)
            .stdin(Stdio::piped())
            .stdout(File::create(&out_path).expect("stdout file"))
            .stderr(File::create(&err_path).expect("stderr file"));
        let mut child = cmd.spawn().expect("spawn wasmedge (is it installed? run `make setup`)");
        let stdin = child.stdin.take();
        Spawned { child: Some(child), stdin, out_path, err_path, started: Instant::now(), peak_kib: 0 }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// What the guest printed on stdout so far.
    pub fn stdout_so_far(&self) -> String {
        std::fs::read_to_string(&self.out_path).unwrap_or_default()
    }

    /// Writes one line to the guest's stdin (the phased guest then goes on with its next phase).
    pub fn go(&mut self) {
        let stdin = self.stdin.as_mut().expect("stdin still open");
        stdin.write_all(b"go\n").expect("write to the guest's stdin");
        stdin.flush().expect("flush the guest's stdin");
    }

    /// Waits until the guest printed `line` on stdout (bounded by [`RUN_TIMEOUT`]).
    pub fn wait_for_stdout(&mut self, line: &str) {
        let start = Instant::now();
        while !self.stdout_so_far().contains(line) {
            self.sample_peak();
            if let Some(status) = self.child.as_mut().unwrap().try_wait().expect("try_wait") {
                panic!(
                    "wasmedge ended ({status}) before printing {line:?}; stdout: {} stderr: {}",
                    self.stdout_so_far(),
                    std::fs::read_to_string(&self.err_path).unwrap_or_default()
                );
            }
            assert!(start.elapsed() < RUN_TIMEOUT, "the guest did not print {line:?} within {RUN_TIMEOUT:?}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn sample_peak(&mut self) {
        if let Some(child) = &self.child {
            if let Ok(status) = std::fs::read_to_string(format!("/proc/{}/status", child.id())) {
                if let Some(kib) = status
                    .lines()
                    .find(|l| l.starts_with("VmHWM:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|v| v.parse::<u64>().ok())
                {
                    self.peak_kib = self.peak_kib.max(kib);
                }
            }
        }
    }

    /// Closes stdin, waits for the process to end (killing it after [`RUN_TIMEOUT`] from its start,
    /// which fails the test) and returns what it printed, the time from start to exit, and the
    /// peak resident set size seen while it ran (KiB, sampled every 5 ms from VmHWM).
    pub fn finish(mut self) -> (Output, Duration, u64) {
        drop(self.stdin.take());
        let status = loop {
            self.sample_peak();
            if let Some(status) = self.child.as_mut().unwrap().try_wait().expect("try_wait") {
                break status;
            }
            if self.started.elapsed() > RUN_TIMEOUT {
                let mut child = self.child.take().unwrap();
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "wasmedge ran over {RUN_TIMEOUT:?}; stderr: {}",
                    std::fs::read_to_string(&self.err_path).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let elapsed = self.started.elapsed();
        self.child = None;
        let read = |p: &Path| std::fs::read(p).expect("read run output");
        let output = Output { status, stdout: read(&self.out_path), stderr: read(&self.err_path) };
        (output, elapsed, self.peak_kib)
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        drop(self.stdin.take());
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Runs `wasm` to completion with `env`, returning what it printed, the time to exit and its peak
/// resident set size in KiB.
pub fn run_measured(wasm: &Path, env: &[(&str, &str)]) -> (Output, Duration, u64) {
    Spawned::start(wasm, env).finish()
}

// ---------------------------------------------------------------------------------------------
// Guests

/// The `sleep` and `print` helpers a WAT guest needs: `$sleep_ms`, `$print (ptr len)` to stdout,
/// `$wait_line` (reads stdin until a newline or end of file). Memory 60000..61000 is theirs.
pub const WAT_HELPERS: &str = r#"
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  ;; One relative monotonic-clock subscription at 60000 (48 bytes); event at 60064; count at 60096.
  (func $sleep_ms (param $ms i64)
    (i64.store (i32.const 60000) (i64.const 0))
    (i32.store8 (i32.const 60008) (i32.const 0))
    (i32.store (i32.const 60016) (i32.const 1))
    (i64.store (i32.const 60024) (i64.mul (local.get $ms) (i64.const 1000000)))
    (i64.store (i32.const 60032) (i64.const 0))
    (i32.store16 (i32.const 60040) (i32.const 0))
    (if (i32.ne (call $poll_oneoff (i32.const 60000) (i32.const 60064) (i32.const 1) (i32.const 60096)) (i32.const 0))
      (then (call $proc_exit (i32.const 90)))))
  ;; iovec at 60128, count at 60136.
  (func $print (param $ptr i32) (param $len i32)
    (i32.store (i32.const 60128) (local.get $ptr))
    (i32.store (i32.const 60132) (local.get $len))
    (if (i32.ne (call $fd_write (i32.const 1) (i32.const 60128) (i32.const 1) (i32.const 60136)) (i32.const 0))
      (then (call $proc_exit (i32.const 91)))))
  ;; Reads stdin one byte at a time into 60200 until "\n" or end of file.
  (func $wait_line
    (block $done
      (loop $more
        (i32.store (i32.const 60144) (i32.const 60200))
        (i32.store (i32.const 60148) (i32.const 1))
        (br_if $done (i32.ne (call $fd_read (i32.const 0) (i32.const 60144) (i32.const 1) (i32.const 60152)) (i32.const 0)))
        (br_if $done (i32.eqz (i32.load (i32.const 60152))))
        (br_if $done (i32.eq (i32.load8_u (i32.const 60200)) (i32.const 10)))
        (br $more))))
"#;

/// A guest in `phases` phases. Each phase is `rounds` rounds of `per_round` root spans named
/// `tick`, each with an `i64` attribute `seq` (0, 1, 2, ... over the whole run), started and ended
/// at once, with a sleep of `sleep_ms` after each round. After each phase it prints
/// `phase <p> done` on stdout and, unless it was the last phase, waits for a line on stdin. It
/// ends by printing `all done`. It exits 10/11 if a start/end fails. So the test decides when each
/// phase starts (for example, after stopping or restarting the collector), and knows which spans
/// were ended in which phase.
pub fn phased_guest(phases: u32, rounds: u32, per_round: u32, sleep_ms: u32) -> PathBuf {
    assert!(phases <= 9);
    let wat = format!(
        r#"(module
  {imports}
  {helpers}
  (memory (export "memory") 1)
  (data (i32.const 0) "tick")
  ;; key "seq", I64, value at 24
  (data (i32.const 16) "\03\00\00\00seq\03\00\00\00\00\00\00\00\00")
  (data (i32.const 64) "phase 0 done\n")
  (data (i32.const 96) "all done\n")
  (func (export "_start")
    (local $phase i32) (local $round i32) (local $i i32) (local $seq i64) (local $h i64)
    (block $phases_done
      (loop $phase_loop
        (br_if $phases_done (i32.ge_u (local.get $phase) (i32.const {phases})))
        (local.set $round (i32.const 0))
        (block $rounds_done
          (loop $round_loop
            (br_if $rounds_done (i32.ge_u (local.get $round) (i32.const {rounds})))
            (local.set $i (i32.const 0))
            (block $spans_done
              (loop $span_loop
                (br_if $spans_done (i32.ge_u (local.get $i) (i32.const {per_round})))
                (i64.store (i32.const 24) (local.get $seq))
                (local.set $h (call $span_start (i32.const 0) (i32.const 4) (i32.const 0) (i64.const -1) (i32.const 16) (i32.const 16)))
                (if (i64.le_s (local.get $h) (i64.const 0)) (then (call $proc_exit (i32.const 10))))
                (if (i32.ne (call $span_end (local.get $h)) (i32.const 0)) (then (call $proc_exit (i32.const 11))))
                (local.set $seq (i64.add (local.get $seq) (i64.const 1)))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $span_loop)))
            (if (i32.gt_u (i32.const {sleep_ms}) (i32.const 0)) (then (call $sleep_ms (i64.const {sleep_ms}))))
            (local.set $round (i32.add (local.get $round) (i32.const 1)))
            (br $round_loop)))
        (i32.store8 (i32.const 70) (i32.add (i32.const 48) (local.get $phase)))
        (call $print (i32.const 64) (i32.const 13))
        (local.set $phase (i32.add (local.get $phase) (i32.const 1)))
        (if (i32.lt_u (local.get $phase) (i32.const {phases})) (then (call $wait_line)))
        (br $phase_loop)))
    (call $print (i32.const 96) (i32.const 9))
  )
)"#,
        imports = wat_imports(),
        helpers = WAT_HELPERS,
    );
    wat_guest(&format!("phased_{phases}_{rounds}_{per_round}_{sleep_ms}"), &wat)
}

/// What [`phased_guest`] prints when it runs to completion.
pub fn phased_stdout(phases: u32) -> String {
    let mut s: String = (0..phases).map(|p| format!("phase {p} done\n")).collect();
    s.push_str("all done\n");
    s
}

/// A guest that starts and ends `n` root spans named `f` as fast as it can (no attributes), then
/// prints `flood done`. Exits 10/11 if a start/end fails.
pub fn flood_guest(n: u32) -> PathBuf {
    let wat = format!(
        r#"(module
  {imports}
  {helpers}
  (memory (export "memory") 1)
  (data (i32.const 0) "f")
  (data (i32.const 16) "flood done\n")
  (func (export "_start")
    (local $i i32) (local $h i64)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (i32.const {n})))
        (local.set $h (call $span_start (i32.const 0) (i32.const 1) (i32.const 0) (i64.const -1) (i32.const 0) (i32.const 0)))
        (if (i64.le_s (local.get $h) (i64.const 0)) (then (call $proc_exit (i32.const 10))))
        (if (i32.ne (call $span_end (local.get $h)) (i32.const 0)) (then (call $proc_exit (i32.const 11))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (call $print (i32.const 16) (i32.const 11))
  )
)"#,
        imports = wat_imports(),
        helpers = WAT_HELPERS,
    );
    wat_guest(&format!("flood_{n}"), &wat)
}

pub const FLOOD_STDOUT: &str = "flood done\n";

/// Bytes as a WAT data string (`\xx` escapes).
pub fn wat_bytes(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("\\{b:02x}")).collect()
}

// ---------------------------------------------------------------------------------------------
// Guests that check every status themselves

/// What a check expects of its WAT expression (which returns an `i64`; wrap `i32` results in
/// `i64.extend_i32_s`).
pub enum Want {
    /// Exactly this value.
    Eq(i64),
    /// A handle (> 0), kept in the named global for later checks.
    Handle(&'static str),
}

/// One check of a [`checked_guest`].
pub struct Check {
    pub what: String,
    pub expr: String,
    pub want: Want,
}

/// A check that `expr` returns `want`.
pub fn eq(what: &str, expr: impl Into<String>, want: i64) -> Check {
    Check { what: what.into(), expr: expr.into(), want: Want::Eq(want) }
}

/// A check that `expr` returns a handle, stored in global `$global`.
pub fn handle(what: &str, expr: impl Into<String>, global: &'static str) -> Check {
    Check { what: what.into(), expr: expr.into(), want: Want::Handle(global) }
}

/// A guest with `pages` pages of memory holding `data` (offset, bytes), `i64` globals for every
/// handle the checks keep, `funcs` (extra WAT functions), that runs `setup`, then every check in
/// order, exiting with the number of the first that fails (1-based), then `teardown`, then prints
/// `checks done`. Exit codes 200 and up are left to `setup` and `teardown`.
pub fn checked_guest(
    name: &str,
    pages: u32,
    data: &[(u32, Vec<u8>)],
    funcs: &str,
    setup: &str,
    checks: &[Check],
    teardown: &str,
) -> PathBuf {
    assert!(checks.len() < 200, "exit codes 1..200 name the checks");
    let mut globals: Vec<&str> = checks
        .iter()
        .filter_map(|c| match c.want {
            Want::Handle(g) => Some(g),
            Want::Eq(_) => None,
        })
        .collect();
    globals.sort();
    globals.dedup();
    let globals: String =
        globals.iter().map(|g| format!("  (global ${g} (mut i64) (i64.const 0))\n")).collect();
    let data: String = data
        .iter()
        .map(|(at, bytes)| format!("  (data (i32.const {at}) \"{}\")\n", wat_bytes(bytes)))
        .collect();
    let body: String = checks
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let code = i + 1;
            match c.want {
                Want::Eq(v) => format!(
                    "    (if (i64.ne {} (i64.const {v})) (then (call $proc_exit (i32.const {code}))))\n",
                    c.expr
                ),
                Want::Handle(g) => format!(
                    "    (global.set ${g} {})\n    (if (i64.le_s (global.get ${g}) (i64.const 0)) (then (call $proc_exit (i32.const {code}))))\n",
                    c.expr
                ),
            }
        })
        .collect();
    let wat = format!(
        r#"(module
  {imports}
  {helpers}
  (memory (export "memory") {pages})
{globals}{data}  (data (i32.const 59900) "checks done\n")
{funcs}
  (func (export "_start")
    {setup}
{body}    {teardown}
    (call $print (i32.const 59900) (i32.const 12))
  )
)"#,
        imports = wat_imports(),
        helpers = WAT_HELPERS,
    );
    wat_guest(name, &wat)
}

pub const CHECKS_STDOUT: &str = "checks done\n";

/// Panics naming the failed check if the guest exited with a check's number.
pub fn assert_checks_passed(out: &Output, checks: &[Check], label: &str) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let code = out.status.code().unwrap_or(-1);
    if code != 0 {
        let failed = match code {
            1..=199 => checks.get(code as usize - 1).map_or("?".to_string(), |c| c.what.clone()),
            _ => format!("setup/teardown step {code}"),
        };
        panic!("{label}: check {code} failed: {failed}; stderr: {stderr}");
    }
    assert_eq!(String::from_utf8_lossy(&out.stdout), CHECKS_STDOUT, "{label}: stdout");
    assert!(!stderr.contains("panicked"), "{label}: no host function panicked: {stderr}");
    stderr
}
