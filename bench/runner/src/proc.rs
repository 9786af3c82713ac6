//! Running a child process: its output, wall time, and the kernel's resource usage for it: CPU time
//! and page faults from `wait4`; peak RSS through `/usr/bin/time` (see [`run_measuring_rss`]).

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What a finished child left behind.
#[derive(Debug, Clone)]
pub struct Finished {
    /// Exit code, or 128 + signal number.
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    /// From spawn to exit.
    pub wall: Duration,
    /// wait4's ru_maxrss in KiB. NOT the child's own peak: exec records the peak of the memory
    /// the child had before exec, i.e. this (large) runner's, when that is higher. Use
    /// [`run_measuring_rss`] for peak RSS.
    #[allow(dead_code)]
    pub max_rss_kib: i64,
    /// Minor page faults.
    pub minor_faults: i64,
    /// CPU time, user + system.
    pub cpu: Duration,
    /// When the child was spawned (for throughput clocks).
    pub started: Instant,
}

impl Finished {
    pub fn ok(&self) -> bool {
        self.code == 0
    }

    /// A one-line description for error messages.
    pub fn describe(&self) -> String {
        let tail: Vec<&str> = self.stderr.lines().rev().take(4).collect();
        format!(
            "exit code {}; stderr ends: {}",
            self.code,
            tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
        )
    }
}

/// A command with a clean environment: only `PATH`, `HOME` (an empty directory, so no
/// `~/.wasmedge/plugin` is picked up) and `LANG=C`. Add what each benchmark needs with `.env()`.
pub fn clean(program: impl AsRef<std::ffi::OsStr>, home: &Path) -> Command {
    let mut cmd = Command::new(program);
    cmd.env_clear();
    if let Some(path) = std::env::var_os("PATH") {
        cmd.env("PATH", path);
    }
    cmd.env("HOME", home).env("LANG", "C");
    cmd
}

/// Runs `cmd` to completion, capturing stdout and stderr.
pub fn run(cmd: &mut Command) -> std::io::Result<Finished> {
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = cmd.spawn()?;
    let pid = child.id() as libc::pid_t;
    let mut out = child.stdout.take().expect("piped stdout");
    let mut err = child.stderr.take().expect("piped stderr");
    let out_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero rusage is a valid value; wait4 fills it for our own child `pid`.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = loop {
        // SAFETY: plain syscall on our child's pid with valid out-pointers.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == -1 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
            continue;
        }
        break r;
    };
    let wall = started.elapsed();
    // The child is reaped: `child` must not be waited on again (dropping it does not wait).
    drop(child);
    if waited == -1 {
        return Err(std::io::Error::last_os_error());
    }
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else if libc::WIFSIGNALED(status) {
        128 + libc::WTERMSIG(status)
    } else {
        -1
    };
    let tv =
        |t: libc::timeval| Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64);
    Ok(Finished {
        code,
        stdout: String::from_utf8_lossy(&out_reader.join().unwrap_or_default()).into_owned(),
        stderr: String::from_utf8_lossy(&err_reader.join().unwrap_or_default()).into_owned(),
        wall,
        max_rss_kib: usage.ru_maxrss,
        minor_faults: usage.ru_minflt,
        cpu: tv(usage.ru_utime) + tv(usage.ru_stime),
        started,
    })
}

/// Runs `program args` under `/usr/bin/time -f %M` (GNU time, a small process, so its child's
/// peak RSS is the program's own) and returns the run and the program's peak RSS in KiB.
pub fn run_measuring_rss(cmd: &mut Command, scratch: &Path) -> std::io::Result<(Finished, Option<i64>)> {
    let file = scratch.join("time-rss.txt");
    let _ = std::fs::remove_file(&file);
    let mut wrapped = Command::new("/usr/bin/time");
    wrapped.arg("-f").arg("%M").arg("-o").arg(&file).arg(cmd.get_program()).args(cmd.get_args());
    wrapped.env_clear();
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            wrapped.env(k, v);
        }
    }
    let finished = run(&mut wrapped)?;
    let rss = std::fs::read_to_string(&file)
        .ok()
        .and_then(|t| t.lines().last().and_then(|l| l.trim().parse().ok()));
    Ok((finished, rss))
}

/// First line of `program args...`'s stdout (for versions), or "unknown".
pub fn first_line(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .and_then(|o| {
            let text = if o.stdout.is_empty() { o.stderr } else { o.stdout };
            String::from_utf8_lossy(&text).lines().next().map(str::trim).map(str::to_owned)
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// `ns_per_op` from a `RESULT op=... n=... ns_per_op=X` line.
pub fn ns_per_op(stdout: &str) -> Option<f64> {
    stdout
        .lines()
        .filter(|l| l.starts_with("RESULT "))
        .flat_map(|l| l.split_whitespace())
        .find_map(|w| w.strip_prefix("ns_per_op="))
        .and_then(|v| v.parse().ok())
}

/// The plugin's exit report: `wasmedge_otel: telemetry lost: N spans (F failed to export, D dropped
/// or unflushed), ...`. Returns (lost, failed, dropped) for spans, or zeros when there is no line.
pub fn spans_lost(stderr: &str) -> (u64, u64, u64) {
    for line in stderr.lines() {
        let Some(rest) = line.split("telemetry lost: ").nth(1) else { continue };
        for part in rest.split("), ") {
            let mut words = part.split_whitespace();
            let (Some(n), Some(what)) = (words.next(), words.next()) else { continue };
            if what != "spans" {
                continue;
            }
            let nums: Vec<u64> = part
                .split(|c: char| !c.is_ascii_digit())
                .filter(|s| !s.is_empty())
                .filter_map(|s| s.parse().ok())
                .collect();
            let lost = n.parse().unwrap_or(0);
            return (lost, nums.get(1).copied().unwrap_or(0), nums.get(2).copied().unwrap_or(0));
        }
    }
    (0, 0, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_loss_line() {
        let line = "x\nwasmedge_otel: telemetry lost: 1200 spans (0 failed to export, 1200 dropped or unflushed), 3 log records (1 failed to export, 2 dropped or unflushed)\n";
        assert_eq!(spans_lost(line), (1200, 0, 1200));
        assert_eq!(
            spans_lost(
                "wasmedge_otel: telemetry lost: 3 log records (1 failed to export, 2 dropped or unflushed)"
            ),
            (0, 0, 0)
        );
        assert_eq!(spans_lost(""), (0, 0, 0));
    }

    #[test]
    fn parses_results() {
        assert_eq!(ns_per_op("RESULT op=span n=10 ns_per_op=12.50\n"), Some(12.5));
        assert_eq!(ns_per_op("nothing"), None);
    }
}
