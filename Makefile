# wasmedge-otel: the two commands a user needs are `make demo` and `make test`.
# Both run `make setup` first (idempotent: installs WasmEdge 0.14.1, libclang, wasm32-wasip1).

CARGO        ?= cargo
GUEST_TARGET := wasm32-wasip1
GUEST_DIR    := target/guests/$(GUEST_TARGET)/release
# WasmEdge scans plugin directories recursively, so the plugin gets a directory of its own.
PLUGIN_DIR   := target/plugin
DEMO_PORT    ?= 4317

.PHONY: all setup build plugin guests collector demo demo-metrics demo-http demo-instrument test lint fmt clean sizes

all: build

setup:
	@bash scripts/setup.sh

build: setup plugin guests

plugin:
	$(CARGO) build --release -p wasmedge-otel-plugin
	mkdir -p $(PLUGIN_DIR)
	@# Copy then rename: overwriting a .so in place crashes wasmedge processes that have it loaded.
	cp target/release/libwasmedge_otel.so $(PLUGIN_DIR)/.libwasmedge_otel.so.tmp
	mv -f $(PLUGIN_DIR)/.libwasmedge_otel.so.tmp $(PLUGIN_DIR)/libwasmedge_otel.so

# tracing-demo builds on its own: in one invocation cargo would unify its features (tracing, log)
# into the bindings every other example uses, and change their sizes.
guests:
	$(CARGO) build --release --target $(GUEST_TARGET) --manifest-path examples/Cargo.toml --target-dir target/guests --workspace --exclude tracing-demo
	$(CARGO) build --release --target $(GUEST_TARGET) --manifest-path examples/Cargo.toml --target-dir target/guests -p tracing-demo

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

# Automatic instrumentation (docs/instrumentation.md): builds an ordinary Rust program with its name
# section, rewrites it with `wasmedge-otel instrument`, runs it under wasmedge with the plugin and
# prints the span tree of its calls (recursion included) mixed with the spans it starts by hand.
demo-instrument: build
	$(CARGO) build --release -p wasmedge-otel-collector -p wasmedge-otel-instrument
	@bash scripts/demo-instrument.sh $(DEMO_PORT) $(PLUGIN_DIR)

# Unit tests of every crate, and end-to-end tests running the real wasmedge CLI (interpreted and
# AOT) against the test collector. The end-to-end tests use the debug build of the plugin.
test: setup
	$(CARGO) build -p wasmedge-otel-plugin
	$(CARGO) test --workspace
	cd embedder && $(EMBEDDER_ENV) $(CARGO) test

lint: setup
	$(CARGO) fmt --all --check
	$(CARGO) fmt --all --check --manifest-path examples/Cargo.toml
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) clippy --manifest-path examples/Cargo.toml --target $(GUEST_TARGET) --target-dir target/guests -- -D warnings
	cd embedder && $(CARGO) fmt --check && $(EMBEDDER_ENV) $(CARGO) clippy --all-targets -- -D warnings

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

# ---- C and C++ guests, the C header, installation (docs/c-guests.md, docs/deployment.md) ----

.PHONY: c-guests header install uninstall

# clang with wasi-libc. Debian's wasi-libc is a multiarch sysroot under /usr (clang-14 finds it
# by itself); wasi-sdk's is <wasi-sdk>/share/wasi-sysroot.
WASI_CC      ?= clang
WASI_CXX     ?= clang++
WASI_SYSROOT ?= $(if $(wildcard /usr/share/wasi-sysroot),/usr/share/wasi-sysroot,/usr)
C_GUEST_DIR  := target/guests/c
WASI_FLAGS   := --target=wasm32-wasi --sysroot=$(WASI_SYSROOT) -O2 -Wall -Wextra -Wpedantic -Werror -Iinclude

# examples/c-hello built into target/guests/c/: hello_c.wasm (C) and hello_cpp.wasm (C++, without
# the C++ standard library: Debian 12 has no wasm32 libc++ installed by default).
c-guests: setup $(C_GUEST_DIR)/hello_c.wasm $(C_GUEST_DIR)/hello_cpp.wasm

$(C_GUEST_DIR)/hello_c.wasm: examples/c-hello/hello.c include/wasmedge_otel.h
	mkdir -p $(C_GUEST_DIR)
	$(WASI_CC) $(WASI_FLAGS) -std=c99 $< -o $@

$(C_GUEST_DIR)/hello_cpp.wasm: examples/c-hello/hello.cpp include/wasmedge_otel.h
	mkdir -p $(C_GUEST_DIR)
	$(WASI_CXX) $(WASI_FLAGS) -std=c++17 -fno-exceptions -fno-rtti -nostdlib++ $< -o $@

# Regenerates the declarations in include/wasmedge_otel.h from the ABI crate (after an ABI change).
header:
	WASMEDGE_OTEL_BLESS_HEADER=1 $(CARGO) test --test abi_drift c_header_declarations_match_the_abi

# `make install` puts the plugin where the `wasmedge` on PATH loads plugins from without
# WASMEDGE_PLUGIN_PATH (~/.wasmedge/plugin for WasmEdge's installer, /usr/lib/<multiarch>/wasmedge
# for the Debian package), and the header in PREFIX/include. Override with PLUGINDIR=, PREFIX=,
# WASMEDGE= (which wasmedge to install for), DESTDIR= (staging) and PLUGIN_SO= (an already built
# plugin, then nothing is built).
PLUGIN_SO ?= target/release/libwasmedge_otel.so
INSTALL_ENV = DESTDIR='$(DESTDIR)' PREFIX='$(PREFIX)' PLUGINDIR='$(PLUGINDIR)' PLUGIN_SO='$(PLUGIN_SO)' WASMEDGE='$(WASMEDGE)'

install: $(if $(filter target/release/libwasmedge_otel.so,$(PLUGIN_SO)),plugin)
	@$(INSTALL_ENV) bash deploy/install.sh install

uninstall:
	@$(INSTALL_ENV) bash deploy/install.sh uninstall

# ---- Benchmarks (issue 7; bench/README.md) ----

.PHONY: bench bench-setup bench-guests bench-build

# One command: builds the plugin, the examples, the bench guests, the host-side programs and the
# rewriter (wasmedge-otel instrument) in release mode, then runs every benchmark side by side (4-7
# minutes once built), prints the tables and writes them to BENCHMARKS.md. Not part of `make test`.
# BENCH_ARGS is passed to the runner, e.g. BENCH_ARGS=--quick (N/10, fewer runs: a dry run),
# --runs 7, --no-callgrind, --only instrument (that section alone).
BENCH_ARGS ?=
bench: setup bench-setup plugin guests bench-guests bench-build
	target/bench/release/bench-runner --command "make bench$(if $(BENCH_ARGS), BENCH_ARGS='$(BENCH_ARGS)')" $(BENCH_ARGS)

# hyperfine, binaryen (wasm-opt), valgrind and GNU time, installed if missing (idempotent).
bench-setup:
	@bash bench/setup.sh

# bench/guests is its own wasm32-wasip1 workspace: per-operation guests (release: opt-level 3),
# module-size guests (profile `size`, the same settings as examples/) and the ~1 MB module the
# rewriter is timed on (profile `rewrite`). Three examples are also built with their name section
# (examples/ strip it), into target/bench-examples, for the instrumentation section's sizes.
bench-guests:
	$(CARGO) build --release --target $(GUEST_TARGET) --manifest-path bench/guests/Cargo.toml --target-dir target/bench-guests -p ops -p sdk-ops -p calls
	$(CARGO) build --profile size --target $(GUEST_TARGET) --manifest-path bench/guests/Cargo.toml --target-dir target/bench-guests -p size-sdk -p size-sdk-otlp
	$(CARGO) build --profile rewrite --target $(GUEST_TARGET) --manifest-path bench/guests/Cargo.toml --target-dir target/bench-guests -p size-sdk-otlp
	CARGO_PROFILE_RELEASE_STRIP=debuginfo $(CARGO) build --release --target $(GUEST_TARGET) --manifest-path examples/Cargo.toml --target-dir target/bench-examples -p hello-world -p all-signals -p http-service

# bench/ is its own workspace too: the runner (with the test collector library) and the native
# baseline. The rewriter (`wasmedge-otel instrument`) comes from the root workspace.
bench-build:
	$(CARGO) build --release --manifest-path bench/Cargo.toml --target-dir target/bench
	$(CARGO) build --release -p wasmedge-otel-instrument

# ---- Embedding WasmEdge in a Rust host (docs/embedding.md) ----

.PHONY: embedder test-embedder

# embedder/ is a workspace of its own (wasmedge-sdk 0.14 takes minutes to build cold, so the main
# `cargo test` does not build it), compiled against the installed WasmEdge 0.14.1. Run from its
# directory so that embedder/.cargo/config.toml (the same variables, target/embedder) applies.
EMBEDDER_ENV := WASMEDGE_INCLUDE_DIR=/usr/include WASMEDGE_LIB_DIR=/usr/lib/x86_64-linux-gnu

# The example host, target/embedder/release/wasmedge-otel-embedder, and the plugin it loads by
# default (target/plugin).
embedder: setup plugin
	cd embedder && $(EMBEDDER_ENV) $(CARGO) build --release

# Its tests: isolation between guests running at once, flushing at teardown, the binary. They load
# the debug build of the plugin, as `make test` does.
test-embedder: setup
	$(CARGO) build -p wasmedge-otel-plugin
	cd embedder && $(EMBEDDER_ENV) $(CARGO) test

# Coverage-guided fuzzing (cargo-fuzz, libFuzzer) of the layer that decodes guest arguments and
# buffers: the whole host-function table driven as call sequences (host_calls), and each decoder
# alone (decode). See fuzz/README.md. Runs on the stable toolchain: `--sanitizer none` passes no
# nightly-only flag (the plugin's core is safe Rust). FUZZ_TIME seconds per target; a crash stops
# the run with the input under fuzz/artifacts/. `cargo test` runs a bounded, seeded version
# (plugin/tests/fuzz_decode.rs).
FUZZ_TIME    ?= 60
FUZZ_TARGETS ?= host_calls decode
FUZZ_FLAGS   ?= -O --sanitizer none
CARGO_FUZZ_VERSION := 0.13.2

.PHONY: fuzz
fuzz: setup
	@cargo fuzz --version 2>/dev/null | grep -q $(CARGO_FUZZ_VERSION) || \
	  $(CARGO) install cargo-fuzz --version $(CARGO_FUZZ_VERSION) --locked
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p fuzz/corpus/$$t; \
	  extra=$$(test -d fuzz/regressions/$$t && echo fuzz/regressions/$$t); \
	  echo "== fuzzing $$t for $(FUZZ_TIME)s"; \
	  $(CARGO) fuzz run $(FUZZ_FLAGS) $$t fuzz/corpus/$$t fuzz/seeds/$$t $$extra -- \
	    -max_total_time=$(FUZZ_TIME) -print_final_stats=1 || exit 1; \
	done
