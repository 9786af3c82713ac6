//! Abrupt ends: SIGTERM and SIGINT to `wasmedge` (how Kubernetes and Ctrl-C stop it) flush what is
//! buffered, end the spans still open as unfinished, then end the process by the signal as it
//! would have. And a run whose telemetry cannot be delivered says so, with counts.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use wasmedge_otel_tests::*;

/// Ends span "done", leaves span "work" open, then spins until killed.
fn spinning_guest() -> std::path::PathBuf {
    let wat = format!(
        r#"(module
  {imports}
  (memory (export "memory") 1)
  (data (i32.const 0) "work")
  (data (i32.const 16) "done")
  (func (export "_start") (local $done i64)
    (drop (call $span_start (i32.const 0) (i32.const 4) (i32.const 1) (i64.const 0) (i32.const 0) (i32.const 0)))
    (local.set $done (call $span_start (i32.const 16) (i32.const 4) (i32.const 0) (i64.const 0) (i32.const 0) (i32.const 0)))
    (drop (call $span_end (local.get $done)))
    (loop $forever (br $forever))
  )
)"#,
        imports = wat_imports()
    );
    wat_guest("spinning", &wat)
}

fn stop_with(signal: &str) {
    let c = collector();
    let mut child = Command::new("wasmedge")
        .arg(spinning_guest())
        .env("WASMEDGE_PLUGIN_PATH", plugin_dir())
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", c.endpoint())
        // Export "done" quickly, so the test knows the guest is spinning.
        .env("OTEL_BSP_SCHEDULE_DELAY", "50")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn wasmedge");
    let arrived = c.wait_for_spans(1, ARRIVAL_TIMEOUT);
    if arrived.is_err() {
        let _ = child.kill();
    }
    assert_eq!(names(&arrived.expect("the ended span arrives while the guest runs")), ["done"]);

    let killed =
        Command::new("kill").args([&format!("-{signal}"), &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > RUN_TIMEOUT {
            let _ = child.kill();
            panic!("wasmedge did not end after {signal}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    use std::os::unix::process::ExitStatusExt;
    let number = if signal == "TERM" { 15 } else { 2 };
    assert_eq!(status.signal(), Some(number), "the process still ends by the signal: {status:?}");
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(stderr.contains("ending 1 open span(s) and flushing"), "{stderr}");

    let spans = c.wait_for_spans(2, ARRIVAL_TIMEOUT).expect("the open span is flushed on the signal");
    let work = span(&spans, "work");
    assert_eq!(work.span.status.as_ref().map(|s| s.code), Some(2));
    assert_eq!(work.attr("wasmedge_otel.unfinished").map(typed).as_deref(), Some("b:true"));
}

#[test]
fn sigterm_flushes_then_terminates() {
    stop_with("TERM");
}

#[test]
fn sigint_flushes_then_terminates() {
    stop_with("INT");
}

#[test]
fn undelivered_telemetry_is_reported_with_counts() {
    let endpoint = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let out = Run::new(&example("hello"), &endpoint).output();
    let stderr = assert_exit(&out, 0);
    assert!(
        stderr
            .contains("wasmedge_otel: telemetry lost: 5 spans (5 failed to export, 0 dropped or unflushed)"),
        "{stderr}"
    );
}

#[test]
fn nothing_is_reported_when_everything_arrives_or_export_is_off() {
    let c = collector();
    let out = Run::new(&example("hello"), &c.endpoint()).output();
    assert!(!assert_exit(&out, 0).contains("telemetry lost"));
    let out = Run::new(&example("hello"), &c.endpoint()).env("OTEL_TRACES_EXPORTER", "none").output();
    assert!(!assert_exit(&out, 0).contains("telemetry lost"));
}
