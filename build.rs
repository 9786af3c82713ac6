//! Build script of the end-to-end test package: compiles the guest programs in `examples/` for
//! `wasm32-wasip1` (release), so `cargo test` alone has every guest the tests run under
//! `wasmedge`. Their directory reaches the tests as `WASMEDGE_OTEL_GUESTS_DIR`.
//!
//! The guests form their own cargo workspace and build into `target/guests`, a target directory
//! of their own, so the nested cargo never waits on the lock of the outer build.

use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let target_dir = root.join("target/guests");
    println!("cargo:rerun-if-changed=examples");
    println!("cargo:rerun-if-changed=guest-bindings");
    println!("cargo:rerun-if-changed=abi");

    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    // tracing-demo builds on its own: in one invocation cargo would unify its features (tracing,
    // log) into the bindings every other example uses, and change their sizes.
    let selections: [&[&str]; 2] = [&["--workspace", "--exclude", "tracing-demo"], &["-p", "tracing-demo"]];
    for selection in selections {
        let mut cmd = Command::new(&cargo);
        cmd.args(["build", "--release", "--target", "wasm32-wasip1", "--manifest-path"])
            .arg(root.join("examples/Cargo.toml"))
            .arg("--target-dir")
            .arg(&target_dir)
            .args(selection);
        // Flags meant for the host build must not leak into the guest build.
        for var in ["RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "CARGO_BUILD_TARGET", "RUSTC_WORKSPACE_WRAPPER"] {
            cmd.env_remove(var);
        }
        let status = cmd.status().unwrap_or_else(|e| panic!("cannot run cargo to build the guests: {e}"));
        if !status.success() {
            panic!(
                "building the guest examples for wasm32-wasip1 failed ({status}), see the cargo output above \
                 (a missing wasm32-wasip1 target is installed by `make setup`)"
            );
        }
    }
    let guests = target_dir.join("wasm32-wasip1/release");
    println!("cargo:rustc-env=WASMEDGE_OTEL_GUESTS_DIR={}", guests.display());
}
