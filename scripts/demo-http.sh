#!/usr/bin/env bash
# Runs two instances of the http-service example under wasmedge with the plugin, A (calling B) and
# B, sends them requests with curl, and prints the span tree the OTLP collector received: one trace
# across the two services. Builds nothing (run `make build` first).
# Usage: demo-http.sh PORT PLUGIN_DIR GUEST.wasm [A_PORT [B_PORT]]
set -euo pipefail
port=$1 plugin_dir=$2 guest=$3 port_a=${4:-8080} port_b=${5:-8081}
collector=target/release/wasmedge-otel-collector
traceparent=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01

# Waits (at most 10 s) until something accepts connections on 127.0.0.1:$1. The probe sends nothing:
# http-service does not count it as a request.
wait_for_port() {
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nothing listens on 127.0.0.1:$1" >&2
  return 1
}

# Runs the guest as service $1 on port $2 answering $3 requests, with more `wasmedge --env` options.
# It exits by itself after those requests (or 30 s without any), so the plugin flushes at exit.
service() {
  local name=$1 listen_port=$2 requests=$3
  shift 3
  # `exec`: the background job's pid is then `timeout`'s, which passes a kill on to wasmedge.
  exec env WASMEDGE_PLUGIN_PATH="$plugin_dir" OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$port" \
    OTEL_SERVICE_NAME="$name" timeout 60 \
    wasmedge --env "PORT=$listen_port" --env IDLE_EXIT=30 "$@" "$guest" --max-requests "$requests"
}

pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT

# The collector exits by itself 2 s after the last data arrives (60 s at most) and prints the tree.
"$collector" --listen "127.0.0.1:$port" --format tree --exit-when-idle 2 --timeout 60 &
collector_pid=$!
pids+=("$collector_pid")
wait_for_port "$port"

echo "== starting http-service B on 127.0.0.1:$port_b and A on 127.0.0.1:$port_a (DOWNSTREAM=B)"
service http-service-b "$port_b" 1 &
pid_b=$!
pids+=("$pid_b")
service http-service-a "$port_a" 2 --env "DOWNSTREAM=127.0.0.1:$port_b" &
pid_a=$!
pids+=("$pid_a")
wait_for_port "$port_b"
wait_for_port "$port_a"

echo "== curl -H 'traceparent: $traceparent' http://127.0.0.1:$port_a/api/chain"
curl -sS --max-time 10 -H "traceparent: $traceparent" "http://127.0.0.1:$port_a/api/chain"
echo
echo "== curl http://127.0.0.1:$port_a/api/hello"
curl -sS --max-time 10 "http://127.0.0.1:$port_a/api/hello"
echo

wait "$pid_a" "$pid_b"
echo "== span tree received by the collector on 127.0.0.1:$port"
wait "$collector_pid"
trap - EXIT
