#!/usr/bin/env bash
# Automatic instrumentation: builds an ordinary Rust program (tests/guests/instrumented: recursion,
# an early return, nested calls, two spans started by hand) with its name section, rewrites the
# compiled module with `wasmedge-otel instrument`, runs the result under wasmedge with the plugin
# against the project's OTLP collector, and prints the span tree the collector received.
# Usage: demo-instrument.sh PORT PLUGIN_DIR
set -euo pipefail
port=$1 plugin_dir=$2
collector=target/release/wasmedge-otel-collector
rewriter=target/release/wasmedge-otel
out_dir=target/demo-instrument
mkdir -p "$out_dir"

# `strip = "debuginfo"` in the program's release profile keeps the name section (the examples use
# `strip = true`, which removes it: the rewriter would then see no function names).
echo "== building tests/guests/instrumented for wasm32-wasip1, name section kept"
cargo build -q --release --target wasm32-wasip1 --manifest-path tests/guests/instrumented/Cargo.toml \
  --target-dir target/guests-named
app=target/guests-named/wasm32-wasip1/release/instrumented.wasm
traced="$out_dir/instrumented.traced.wasm"

# The guest bindings' own functions (`SpanBuilder::start`, ...) are left out: a span started
# inside an instrumented function becomes that function's child.
echo "== $rewriter instrument $app -o $traced --exclude 'wasmedge_otel_guest::*'"
"$rewriter" instrument "$app" -o "$traced" --exclude 'wasmedge_otel_guest::*'

"$collector" --listen "127.0.0.1:$port" --format tree --exit-when-idle 2 --timeout 60 \
  >"$out_dir/tree.txt" 2>"$out_dir/collector.err" &
collector_pid=$!
trap 'kill $collector_pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  kill -0 $collector_pid 2>/dev/null || { cat "$out_dir/collector.err" >&2; exit 1; }
  sleep 0.1
done

# WASMEDGE_OTEL_FUNC_MIN_DURATION=0 exports every call; by default calls shorter than 20 µs are
# not exported (most of fib's would go).
echo "== running $traced under wasmedge with the wasmedge_otel plugin (WASMEDGE_OTEL_FUNC_MIN_DURATION=0)"
WASMEDGE_PLUGIN_PATH="$plugin_dir" OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$port" \
  OTEL_SERVICE_NAME=instrumented WASMEDGE_OTEL_FUNC_MIN_DURATION=0 wasmedge "$traced"
echo "== span tree received by the collector on 127.0.0.1:$port"
wait $collector_pid || true
trap - EXIT
# Function spans carry code.function.name (= their name) and wasm.function.index: shown once.
sed -E 's/  \{code\.function\.name="[^"]*", wasm\.function\.index=([0-9]+)\}/  [func \1]/' "$out_dir/tree.txt"
