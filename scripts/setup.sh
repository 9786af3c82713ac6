#!/usr/bin/env bash
# Installs what building and testing wasmedge-otel needs, idempotently:
#   - WasmEdge 0.14.1 (CLI, library, C headers) from Debian 13 "trixie", pinned low so that
#     nothing else on a Debian 12 machine is upgraded unless asked for;
#   - libclang (bindgen reads the installed wasmedge.h when the plugin builds);
#   - the wasm32-wasip1 Rust target for guests;
#   - clang, lld, wasi-libc and compiler-rt's wasm32 builtins for C guests, and python3-yaml.
# A second run only checks and returns in well under a second.
set -euo pipefail

WASMEDGE_VERSION=0.14.1
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

have_wasmedge() {
  command -v wasmedge >/dev/null 2>&1 &&
    wasmedge --version 2>/dev/null | grep -q "$WASMEDGE_VERSION" &&
    [ -f /usr/include/wasmedge/wasmedge.h ]
}

have_libclang() {
  ls /usr/lib/llvm-*/lib/libclang.so* >/dev/null 2>&1 || ls /usr/lib/x86_64-linux-gnu/libclang-*.so* >/dev/null 2>&1
}

apt_updated=0
apt_update() {
  if [ "$apt_updated" -eq 0 ]; then
    $SUDO apt-get update -qq
    apt_updated=1
  fi
}

if ! have_wasmedge; then
  echo "setup: installing WasmEdge $WASMEDGE_VERSION from Debian trixie (pinned at priority 100)"
  if [ ! -f /etc/apt/sources.list.d/trixie.list ]; then
    echo "deb http://deb.debian.org/debian trixie main" | $SUDO tee /etc/apt/sources.list.d/trixie.list >/dev/null
  fi
  if [ ! -f /etc/apt/preferences.d/trixie-pin ]; then
    printf 'Package: *\nPin: release n=trixie\nPin-Priority: 100\n' | $SUDO tee /etc/apt/preferences.d/trixie-pin >/dev/null
  fi
  apt_update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq -t trixie wasmedge libwasmedge-dev >/dev/null
  have_wasmedge || { echo "setup: WasmEdge $WASMEDGE_VERSION did not install" >&2; exit 1; }
fi

if ! have_libclang || ! command -v clang >/dev/null 2>&1; then
  echo "setup: installing libclang-dev and clang"
  apt_update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq libclang-dev clang >/dev/null
fi

# C and C++ guests (include/wasmedge_otel.h, examples/c-hello, `make c-guests`): clang with the
# wasm-ld linker (lld), the WASI C library (Debian installs it as a multiarch sysroot under /usr:
# /usr/include/wasm32-wasi, /usr/lib/wasm32-wasi) and compiler-rt's wasm32 builtins. python3-yaml
# lets tests/deploy_files.rs cross-check its YAML reader against a real YAML parser.
have_c_guest_tools() {
  command -v clang >/dev/null 2>&1 && command -v wasm-ld >/dev/null 2>&1 &&
    [ -f /usr/lib/wasm32-wasi/libc.a ] &&
    ls "$(clang -print-resource-dir)"/lib/wasi/libclang_rt.builtins-wasm32.a >/dev/null 2>&1 &&
    python3 -c 'import yaml' >/dev/null 2>&1
}

if ! have_c_guest_tools; then
  echo "setup: installing lld, wasi-libc, libclang-rt-dev-wasm32 and python3-yaml (C guests, deploy checks)"
  apt_update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq clang lld wasi-libc libclang-rt-dev-wasm32 python3-yaml >/dev/null
  have_c_guest_tools || { echo "setup: the C guest toolchain did not install" >&2; exit 1; }
fi

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip1; then
  echo "setup: adding the wasm32-wasip1 Rust target"
  rustup target add wasm32-wasip1
fi

echo "setup: ok ($(wasmedge --version | head -n1), $(rustc --version))"
