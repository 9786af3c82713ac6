//! The `wasmedge-otel instrument` command line.

use std::path::PathBuf;
use std::process::{Command, Output};

fn bin(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wasmedge-otel")).args(args).output().unwrap()
}

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("instrument-cli");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

const MODULE: &str = r#"(module
  (memory (export "memory") 1)
  (global $__stack_pointer (mut i32) (i32.const 65536))
  (func $_ZN3app4main17h0123456789abcdefE (export "_start") call $_ZN3app4work17h0123456789abcdefE)
  (func $_ZN3app4work17h0123456789abcdefE i32.const 1 drop)
  (func $_ZN4core3fmt5write17h0123456789abcdefE call $_ZN3app4work17h0123456789abcdefE)
  (@custom ".debug_info" "x"))"#;

#[test]
fn instruments_a_file_and_reports() {
    let input = scratch("in.wasm");
    let output = scratch("out.wasm");
    std::fs::write(&input, wat::parse_str(MODULE).unwrap()).unwrap();
    let _ = std::fs::remove_file(&output);
    let o = bin(&["instrument", input.to_str().unwrap(), "-o", output.to_str().unwrap(), "--list"]);
    let (stdout, stderr) = (text(&o.stdout), text(&o.stderr));
    assert!(o.status.success(), "{stderr}");
    assert!(stderr.contains("instrumented 1 of 3 functions"), "{stderr}");
    assert!(stderr.contains("1 names"), "{stderr}");
    assert!(stderr.contains("dropped 1 custom section(s) (.debug_info)"), "{stderr}");
    assert!(stdout.contains("+      0 ") && stdout.contains("app::main  [instrumented]"), "{stdout}");
    assert!(stdout.contains("app::work  [tiny leaf function]"), "{stdout}");
    assert!(
        stdout.contains("core::fmt::write  [runtime internal (default exclusion 'core::*')]"),
        "{stdout}"
    );
    let out = std::fs::read(&output).unwrap();
    wasmparser::Validator::new_with_features(wasmedge_otel_instrument::features())
        .validate_all(&out)
        .unwrap();

    // Options with `=` and repeated patterns.
    let o = bin(&[
        "instrument",
        input.to_str().unwrap(),
        "--output=".to_string().add(output.to_str().unwrap()).as_str(),
        "--all",
        "--exclude=core::*",
        "--min-instructions",
        "0",
        "-q",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(o.stderr.is_empty(), "{}", text(&o.stderr));
}

#[test]
fn refuses_bad_input_without_writing() {
    let input = scratch("bad.wasm");
    let output = scratch("bad.out.wasm");
    std::fs::write(&input, b"\0asm\x01\0\0\0garbage").unwrap();
    let _ = std::fs::remove_file(&output);
    let o = bin(&["instrument", input.to_str().unwrap(), "-o", output.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("not a valid WebAssembly module"), "{}", text(&o.stderr));
    assert!(!output.exists());
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["instrument"][..],
        &["instrument", "x.wasm"],
        &["instrument", "x.wasm", "-o"],
        &["instrument", "x.wasm", "-o", "y.wasm", "--bogus"],
        &["instrument", "x.wasm", "-o", "y.wasm", "--min-instructions", "many"],
        &["frobnicate"],
    ] {
        let o = bin(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o.stderr));
        assert!(text(&o.stderr).contains("usage: wasmedge-otel instrument"), "{args:?}");
    }
    let o = bin(&["--help"]);
    assert!(o.status.success() && text(&o.stdout).contains("--include PATTERN"));
    let o = bin(&["instrument", "--list-default-excludes"]);
    assert!(o.status.success() && text(&o.stdout).lines().any(|l| l == "core::*"));
}

trait Add {
    fn add(self, s: &str) -> String;
}

impl Add for String {
    fn add(mut self, s: &str) -> String {
        self.push_str(s);
        self
    }
}
