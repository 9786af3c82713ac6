#!/usr/bin/env bash
# Bench-only tools, installed idempotently (a second run only checks): hyperfine (start-up timings),
# binaryen (wasm-opt, module sizes after optimisation), valgrind (callgrind instruction counts) and
# GNU time. Everything else `make bench` needs comes from `make setup` (scripts/setup.sh).
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
missing=()
command -v hyperfine >/dev/null 2>&1 || missing+=(hyperfine)
command -v wasm-opt >/dev/null 2>&1 || missing+=(binaryen)
command -v valgrind >/dev/null 2>&1 || missing+=(valgrind)
[ -x /usr/bin/time ] || missing+=(time)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "bench/setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v hyperfine >/dev/null && command -v wasm-opt >/dev/null && command -v valgrind >/dev/null || {
  echo "bench/setup: hyperfine, wasm-opt or valgrind is still missing" >&2
  exit 1
}
echo "bench/setup: ok ($(hyperfine --version), $(wasm-opt --version), $(valgrind --version))"
