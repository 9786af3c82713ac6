#!/usr/bin/env bash
# Runs the hello example under wasmedge with the plugin, against the project's OTLP collector,
# and prints the span tree the collector received. Usage: demo.sh PORT PLUGIN_DIR GUEST.wasm
set -euo pipefail
port=$1 plugin_dir=$2 guest=$3
collector=target/release/wasmedge-otel-collector

# The collector exits by itself 2 s after the last data arrives (60 s at most) and prints the tree.
"$collector" --listen "127.0.0.1:$port" --format tree --exit-when-idle 2 --timeout 60 &
collector_pid=$!
trap 'kill $collector_pid 2>/dev/null || true' EXIT

for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done

echo "== running $guest under wasmedge with the wasmedge_otel plugin"
WASMEDGE_PLUGIN_PATH="$plugin_dir" OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$port" wasmedge "$guest"
echo "== span tree received by the collector on 127.0.0.1:$port"
wait $collector_pid
trap - EXIT
