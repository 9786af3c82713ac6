#!/usr/bin/env bash
# Runs the metrics-demo example (five simulated HTTP requests) under wasmedge with the plugin,
# against the project's OTLP collector, and prints what the collector received: one JSON line per
# logs and metrics request, then the span tree. Usage: demo-metrics.sh PORT PLUGIN_DIR GUEST.wasm
set -euo pipefail
port=$1 plugin_dir=$2 guest=$3
collector=target/release/wasmedge-otel-collector
out_dir=target/demo-metrics
mkdir -p "$out_dir"
received="$out_dir/collector.out"

# `--format both`: JSON lines as data arrives, then the span tree when the collector exits, 2 s
# after the last data (60 s at most). Kept in a file so the guest's own output stays readable.
"$collector" --listen "127.0.0.1:$port" --format both --exit-when-idle 2 --timeout 60 \
  >"$received" 2>"$out_dir/collector.err" &
collector_pid=$!
trap 'kill $collector_pid 2>/dev/null || true' EXIT

for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  kill -0 $collector_pid 2>/dev/null || { cat "$out_dir/collector.err" >&2; exit 1; }
  sleep 0.1
done

echo "== running $guest under wasmedge with the wasmedge_otel plugin"
WASMEDGE_PLUGIN_PATH="$plugin_dir" OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$port" wasmedge "$guest"
echo "== waiting for the collector on 127.0.0.1:$port to go idle"
wait $collector_pid || true
trap - EXIT

spans=$(grep -c '^{"signal":"span"' "$received" || true)
echo "== log records and metrics received (one JSON line per OTLP request)"
grep '^{' "$received" | grep -v '^{"signal":"span"' || echo "(none)"
echo "== span tree received ($spans spans; their JSON lines are in $received)"
grep -v '^{' "$received" || echo "(none)"
