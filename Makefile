# wasmedge-otel: the two commands a user needs are `make demo` and `make test`.
# Both run `make setup` first (idempotent: installs WasmEdge 0.14.1, libclang, wasm32-wasip1).

CARGO        ?= cargo
GUEST_TARGET := wasm32-wasip1
GUEST_DIR    := target/guests/$(GUEST_TARGET)/release
# WasmEdge scans plugin directories recursively, so the plugin gets a directory of its own.
PLUGIN_DIR   := target/plugin
DEMO_PORT    ?= 4317

.PHONY: all setup build plugin guests collector demo demo-metrics demo-http test lint fmt clean sizes

all: build

setup:
	@bash scripts/setup.sh

build: setup plugin guests

plugin:
	$(CARGO) build --release -p wasmedge-otel-plugin
	mkdir -p $(PLUGIN_DIR)
	cp target/release/libwasmedge_otel.so $(PLUGIN_DIR)/

guests:
	$(CARGO) build --release --target $(GUEST_TARGET) --manifest-path examples/Cargo.toml --target-dir target/guests

# A real OTLP/gRPC receiver printing what arrives (JSON lines, then the span tree on Ctrl-C).
collector: setup
	$(CARGO) run --release -p wasmedge-otel-collector -- --listen 127.0.0.1:$(DEMO_PORT)

# Builds everything, starts the collector, runs examples/hello under wasmedge with the plugin and
# prints the span tree the collector received.
demo: build
	$(CARGO) build --release -p wasmedge-otel-collector
	@bash scripts/demo.sh $(DEMO_PORT) $(PLUGIN_DIR) $(GUEST_DIR)/hello.wasm

# Like `demo`, with examples/metrics-demo: five simulated HTTP requests. Prints the log records and
# metrics the collector received (one JSON line per OTLP request), then the span tree.
demo-metrics: build
	$(CARGO) build --release -p wasmedge-otel-collector
	@bash scripts/demo-metrics.sh $(DEMO_PORT) $(PLUGIN_DIR) $(GUEST_DIR)/metrics-demo.wasm

# Two instances of examples/http-service (A on 8080 calling B on 8081) under wasmedge with the plugin,
# requests sent with curl, and the span tree of one trace across both services.
demo-http: build
	$(CARGO) build --release -p wasmedge-otel-collector
	@bash scripts/demo-http.sh $(DEMO_PORT) $(PLUGIN_DIR) $(GUEST_DIR)/http-service.wasm

# Unit tests of every crate, and end-to-end tests running the real wasmedge CLI (interpreted and
# AOT) against the test collector. The end-to-end tests use the debug build of the plugin.
test: setup
	$(CARGO) build -p wasmedge-otel-plugin
	$(CARGO) test --workspace

lint: setup
	$(CARGO) fmt --all --check
	$(CARGO) fmt --all --check --manifest-path examples/Cargo.toml
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) clippy --manifest-path examples/Cargo.toml --target $(GUEST_TARGET) --target-dir target/guests -- -D warnings

fmt:
	$(CARGO) fmt --all
	$(CARGO) fmt --all --manifest-path examples/Cargo.toml

clean:
	$(CARGO) clean

# Module sizes of the examples with and without the bindings (release, wasm32-wasip1).
sizes: setup guests
	@for pair in "hello-world hello-world-plain" "all-signals hello-world-plain" "hello hello-plain"; do \
	  set -- $$pair; a=$$(stat -c %s $(GUEST_DIR)/$$1.wasm); b=$$(stat -c %s $(GUEST_DIR)/$$2.wasm); \
	  echo "$$1.wasm: $$a bytes; $$2.wasm: $$b bytes; the bindings and calls add $$((a - b)) bytes"; \
	done
