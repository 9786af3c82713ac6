/*
 * wasmedge_otel.h: OpenTelemetry for C and C++ WebAssembly guests of the `wasmedge_otel` WasmEdge
 * plugin (libwasmedge_otel.so). The plugin holds the SDK and the exporter; a guest only calls the
 * host functions declared here, imported from the Wasm module "wasmedge_otel".
 *
 *     clang --target=wasm32-wasi -O2 -I include app.c -o app.wasm
 *     OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4317 wasmedge app.wasm
 *
 * (Debian's wasi-libc is a multiarch sysroot under /usr, which clang finds by itself; with
 * wasi-sdk, add --sysroot=/opt/wasi-sdk/share/wasi-sysroot.) See docs/c-guests.md for a guide and
 * docs/ABI.md for every function's contract. In short:
 *
 *   - Pointers and lengths are int32_t (the ABI's i32), read by the host as unsigned offsets into
 *     linear memory: pass them with WASMEDGE_OTEL_STR, WASMEDGE_OTEL_BUF or WASMEDGE_OTEL_ATTRS,
 *     each of which expands to the two arguments `ptr, len`. Strings are UTF-8, not NUL-terminated.
 *   - Every function returns a status: WASMEDGE_OTEL_STATUS_OK (0) or a negative error. Functions
 *     returning int64_t return a handle (> 0) or a negative status.
 *   - Attributes travel in one buffer per call; the wasmedge_otel_attr_* helpers below encode them
 *     into a buffer of yours (no allocation).
 *   - Check wasmedge_otel_abi_version() == WASMEDGE_OTEL_ABI_VERSION once before tracing.
 *
 * The part between BEGIN GENERATED and END GENERATED is generated from the ABI's single definition
 * (the wasmedge-otel-abi crate, abi/src/lib.rs); tests/abi_drift.rs fails when it drifts. After
 * changing the ABI, regenerate it with `make header`. The rest of the file is written by hand.
 *
 * Licensed under the Apache License, Version 2.0.
 */
#ifndef WASMEDGE_OTEL_H
#define WASMEDGE_OTEL_H

#if !defined(__wasm32__)
#error "wasmedge_otel.h is for WebAssembly guests: compile with clang --target=wasm32-wasi"
#endif

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Casts that stay quiet under C++ warnings such as -Wold-style-cast. */
#ifdef __cplusplus
#define WASMEDGE_OTEL__CAST(T, x) (static_cast<T>(x))
#define WASMEDGE_OTEL__ADDR(p) (reinterpret_cast<uintptr_t>(p))
#define WASMEDGE_OTEL__NULL nullptr
#else
#define WASMEDGE_OTEL__CAST(T, x) ((T)(x))
#define WASMEDGE_OTEL__ADDR(p) ((uintptr_t)(p))
#define WASMEDGE_OTEL__NULL ((void *)0)
#endif

/* BEGIN GENERATED */
/* Generated from the wasmedge-otel-abi crate (abi/src/lib.rs) by tests/abi_drift.rs: do not edit
 * by hand; run `make header` after changing the ABI. */

/* Import module of the host functions, and the ABI version abi_version() returns. */
#define WASMEDGE_OTEL_MODULE_NAME "wasmedge_otel"
#define WASMEDGE_OTEL_ABI_VERSION 1

/* Status of a host call: 0 is success and every error is negative, so a function returning a
 * handle (> 0) returns these in the same int64_t. */
#define WASMEDGE_OTEL_STATUS_OK 0
#define WASMEDGE_OTEL_STATUS_OUT_OF_BOUNDS (-1)
#define WASMEDGE_OTEL_STATUS_INVALID_UTF8 (-2)
#define WASMEDGE_OTEL_STATUS_INVALID_HANDLE (-3)
#define WASMEDGE_OTEL_STATUS_INVALID_ARGUMENT (-4)
#define WASMEDGE_OTEL_STATUS_MALFORMED (-5)
#define WASMEDGE_OTEL_STATUS_LIMIT_EXCEEDED (-6)
#define WASMEDGE_OTEL_STATUS_INTERNAL (-7)

/* Span kinds: `kind` of span_start and span_start_remote. */
#define WASMEDGE_OTEL_SPAN_KIND_INTERNAL 0
#define WASMEDGE_OTEL_SPAN_KIND_SERVER 1
#define WASMEDGE_OTEL_SPAN_KIND_CLIENT 2
#define WASMEDGE_OTEL_SPAN_KIND_PRODUCER 3
#define WASMEDGE_OTEL_SPAN_KIND_CONSUMER 4

/* Span status codes: `code` of span_set_status. */
#define WASMEDGE_OTEL_SPAN_STATUS_UNSET 0
#define WASMEDGE_OTEL_SPAN_STATUS_OK 1
#define WASMEDGE_OTEL_SPAN_STATUS_ERROR 2

/* `parent` of span_start: the current span (a root if none), or no local parent. */
#define WASMEDGE_OTEL_PARENT_CURRENT (INT64_C(0))
#define WASMEDGE_OTEL_PARENT_NONE (INT64_C(-1))

/* Instrument kinds: `kind` of instrument_create. */
#define WASMEDGE_OTEL_INSTRUMENT_COUNTER 0
#define WASMEDGE_OTEL_INSTRUMENT_UP_DOWN_COUNTER 1
#define WASMEDGE_OTEL_INSTRUMENT_HISTOGRAM 2
#define WASMEDGE_OTEL_INSTRUMENT_GAUGE 3

/* Value types: `value_type` of instrument_create. */
#define WASMEDGE_OTEL_VALUE_TYPE_I64 0
#define WASMEDGE_OTEL_VALUE_TYPE_F64 1

/* Severity numbers: `severity` of log_emit, 0 or 1..MAX (these are the first of each range). */
#define WASMEDGE_OTEL_SEVERITY_UNSPECIFIED 0
#define WASMEDGE_OTEL_SEVERITY_TRACE 1
#define WASMEDGE_OTEL_SEVERITY_DEBUG 5
#define WASMEDGE_OTEL_SEVERITY_INFO 9
#define WASMEDGE_OTEL_SEVERITY_WARN 13
#define WASMEDGE_OTEL_SEVERITY_ERROR 17
#define WASMEDGE_OTEL_SEVERITY_FATAL 21
#define WASMEDGE_OTEL_SEVERITY_MAX 24

/* Type tags of the attribute wire format. */
#define WASMEDGE_OTEL_WIRE_STRING 1
#define WASMEDGE_OTEL_WIRE_BOOL 2
#define WASMEDGE_OTEL_WIRE_I64 3
#define WASMEDGE_OTEL_WIRE_F64 4
#define WASMEDGE_OTEL_WIRE_STRING_ARRAY 5
#define WASMEDGE_OTEL_WIRE_BOOL_ARRAY 6
#define WASMEDGE_OTEL_WIRE_I64_ARRAY 7
#define WASMEDGE_OTEL_WIRE_F64_ARRAY 8

/* Default per-instance limits of the plugin (configurable on the host). */
#define WASMEDGE_OTEL_MAX_OPEN_SPANS 4096
#define WASMEDGE_OTEL_MAX_BUFFER_LEN 65536
#define WASMEDGE_OTEL_MAX_INSTRUMENTS 1024
#define WASMEDGE_OTEL_MAX_BOUND_INSTRUMENTS 4096
#define WASMEDGE_OTEL_MAX_HISTOGRAM_BOUNDARIES 256

/* Host functions, in registration order. */

/* `abi_version() -> i32`: the plugin's `ABI_VERSION`.
 * See docs/ABI.md, "abi_version".
 */
__attribute__((import_module("wasmedge_otel"), import_name("abi_version")))
int32_t wasmedge_otel_abi_version(void);

/* `span_start(...) -> i64`: starts a span and makes it the instance's current span.
 * Returns a handle (> 0) or a negative `Status`.
 * See docs/ABI.md, "span_start".
 */
__attribute__((import_module("wasmedge_otel"), import_name("span_start")))
int64_t wasmedge_otel_span_start(int32_t name_ptr, int32_t name_len, int32_t kind, int64_t parent, int32_t attrs_ptr, int32_t attrs_len);

/* `span_end(span) -> i32`: ends a span; its handle becomes invalid. The most recently started
 * span still open becomes current again.
 * See docs/ABI.md, "span_end".
 */
__attribute__((import_module("wasmedge_otel"), import_name("span_end")))
int32_t wasmedge_otel_span_end(int64_t span);

/* `span_set_attributes(span, attrs_ptr, attrs_len) -> i32`: sets attributes from a buffer.
 * See docs/ABI.md, "span_set_attributes".
 */
__attribute__((import_module("wasmedge_otel"), import_name("span_set_attributes")))
int32_t wasmedge_otel_span_set_attributes(int64_t span, int32_t attrs_ptr, int32_t attrs_len);

/* `span_add_event(span, name_ptr, name_len, attrs_ptr, attrs_len) -> i32`: adds an event.
 * See docs/ABI.md, "span_add_event".
 */
__attribute__((import_module("wasmedge_otel"), import_name("span_add_event")))
int32_t wasmedge_otel_span_add_event(int64_t span, int32_t name_ptr, int32_t name_len, int32_t attrs_ptr, int32_t attrs_len);

/* `span_set_status(span, code, msg_ptr, msg_len) -> i32`: sets the span status.
 * See docs/ABI.md, "span_set_status".
 */
__attribute__((import_module("wasmedge_otel"), import_name("span_set_status")))
int32_t wasmedge_otel_span_set_status(int64_t span, int32_t code, int32_t msg_ptr, int32_t msg_len);

/* `span_record_exception(...) -> i32`: adds an `exception` event with the semantic-convention
 * attributes `exception.type` and `exception.message`, plus any extra attributes.
 * See docs/ABI.md, "span_record_exception".
 */
__attribute__((import_module("wasmedge_otel"), import_name("span_record_exception")))
int32_t wasmedge_otel_span_record_exception(int64_t span, int32_t type_ptr, int32_t type_len, int32_t msg_ptr, int32_t msg_len, int32_t attrs_ptr, int32_t attrs_len);

/* `span_current() -> i64`: the instance's current span handle, or 0 when none is open.
 * See docs/ABI.md, "span_current".
 */
__attribute__((import_module("wasmedge_otel"), import_name("span_current")))
int64_t wasmedge_otel_span_current(void);

/* `instrument_create(...) -> i64`: creates (or finds) a metric instrument. Returns a handle (> 0)
 * or a negative `Status`. Creating an identical instrument again returns the same handle.
 * See docs/ABI.md, "instrument_create".
 */
__attribute__((import_module("wasmedge_otel"), import_name("instrument_create")))
int64_t wasmedge_otel_instrument_create(int32_t kind, int32_t value_type, int32_t name_ptr, int32_t name_len, int32_t unit_ptr, int32_t unit_len, int32_t desc_ptr, int32_t desc_len, int32_t bounds_ptr, int32_t bounds_len);

/* `metric_record_i64(instrument, value, attrs_ptr, attrs_len) -> i32`: records an integer
 * measurement with attributes.
 * See docs/ABI.md, "metric_record_i64".
 */
__attribute__((import_module("wasmedge_otel"), import_name("metric_record_i64")))
int32_t wasmedge_otel_metric_record_i64(int64_t instrument, int64_t value, int32_t attrs_ptr, int32_t attrs_len);

/* `metric_record_f64(instrument, value, attrs_ptr, attrs_len) -> i32`: records a floating-point
 * measurement with attributes.
 * See docs/ABI.md, "metric_record_f64".
 */
__attribute__((import_module("wasmedge_otel"), import_name("metric_record_f64")))
int32_t wasmedge_otel_metric_record_f64(int64_t instrument, double value, int32_t attrs_ptr, int32_t attrs_len);

/* `metric_bind(instrument, attrs_ptr, attrs_len) -> i64`: binds an instrument to a fixed attribute
 * set. Returns a bound-instrument handle (> 0) or a negative `Status`.
 * See docs/ABI.md, "metric_bind".
 */
__attribute__((import_module("wasmedge_otel"), import_name("metric_bind")))
int64_t wasmedge_otel_metric_bind(int64_t instrument, int32_t attrs_ptr, int32_t attrs_len);

/* `metric_bound_record_i64(bound, value) -> i32`: records an integer on a bound instrument.
 * See docs/ABI.md, "metric_bound_record_i64".
 */
__attribute__((import_module("wasmedge_otel"), import_name("metric_bound_record_i64")))
int32_t wasmedge_otel_metric_bound_record_i64(int64_t bound, int64_t value);

/* `metric_bound_record_f64(bound, value) -> i32`: records a float on a bound instrument.
 * See docs/ABI.md, "metric_bound_record_f64".
 */
__attribute__((import_module("wasmedge_otel"), import_name("metric_bound_record_f64")))
int32_t wasmedge_otel_metric_bound_record_f64(int64_t bound, double value);

/* `log_emit(severity, body_ptr, body_len, attrs_ptr, attrs_len) -> i32`: emits a log record,
 * correlated with the instance's current span.
 * See docs/ABI.md, "log_emit".
 */
__attribute__((import_module("wasmedge_otel"), import_name("log_emit")))
int32_t wasmedge_otel_log_emit(int32_t severity, int32_t body_ptr, int32_t body_len, int32_t attrs_ptr, int32_t attrs_len);

/* `span_traceparent(span, buf_ptr, buf_len) -> i32`: writes the W3C `traceparent` of a span
 * (0: the current span, else the run's root context) into the guest's buffer. Returns the number
 * of bytes written (55; 0 when there is no context to propagate) or a negative `Status`.
 * See docs/ABI.md, "span_traceparent".
 */
__attribute__((import_module("wasmedge_otel"), import_name("span_traceparent")))
int32_t wasmedge_otel_span_traceparent(int64_t span, int32_t buf_ptr, int32_t buf_len);

/* `span_tracestate(span, buf_ptr, buf_len) -> i32`: writes the W3C `tracestate` of a span, as
 * `span_traceparent` does. Returns the number of bytes written (0 when empty).
 * See docs/ABI.md, "span_tracestate".
 */
__attribute__((import_module("wasmedge_otel"), import_name("span_tracestate")))
int32_t wasmedge_otel_span_tracestate(int64_t span, int32_t buf_ptr, int32_t buf_len);

/* `span_start_remote(...) -> i64`: starts a span whose parent is the remote context given by
 * incoming `traceparent`/`tracestate` headers, and makes it current. An invalid `traceparent`
 * starts the span without a remote parent, as the W3C specification says.
 * See docs/ABI.md, "span_start_remote".
 */
__attribute__((import_module("wasmedge_otel"), import_name("span_start_remote")))
int64_t wasmedge_otel_span_start_remote(int32_t name_ptr, int32_t name_len, int32_t kind, int32_t traceparent_ptr, int32_t traceparent_len, int32_t tracestate_ptr, int32_t tracestate_len, int32_t attrs_ptr, int32_t attrs_len);

/* `func_enter(func_id) -> i32`: an instrumented function was entered (inserted by the
 * `wasmedge-otel instrument` rewriter, not called by hand). Returns a `Status`.
 * See docs/ABI.md, "func_enter".
 */
__attribute__((import_module("wasmedge_otel"), import_name("func_enter")))
int32_t wasmedge_otel_func_enter(int32_t func_id);

/* `func_exit(func_id) -> i32`: an instrumented function is returning (or tail-calling).
 * See docs/ABI.md, "func_exit".
 */
__attribute__((import_module("wasmedge_otel"), import_name("func_exit")))
int32_t wasmedge_otel_func_exit(int32_t func_id);

/* `func_names(table_ptr, table_len) -> i32`: registers the names of instrumented functions,
 * once, before the first `func_enter`. Table: repeated `func_id:u32 name_len:u32 name`.
 * See docs/ABI.md, "func_names".
 */
__attribute__((import_module("wasmedge_otel"), import_name("func_names")))
int32_t wasmedge_otel_func_names(int32_t table_ptr, int32_t table_len);
/* END GENERATED */

/* ---------------------------------------------------------------------------------------------
 * Passing pointers and lengths. Each macro expands to the two arguments `ptr, len`.
 * ------------------------------------------------------------------------------------------- */

/* A guest pointer as the ABI's i32. */
#define WASMEDGE_OTEL_PTR(p) WASMEDGE_OTEL__CAST(int32_t, WASMEDGE_OTEL__ADDR(p))

/* A NUL-terminated string as `ptr, len` (the NUL is not sent). `s` is evaluated twice. */
#define WASMEDGE_OTEL_STR(s) WASMEDGE_OTEL_PTR(s), wasmedge_otel_strlen(s)

/* `n` bytes at `p` as `ptr, len`. */
#define WASMEDGE_OTEL_BUF(p, n) WASMEDGE_OTEL_PTR(p), WASMEDGE_OTEL__CAST(int32_t, n)

/* The encoded attributes of a wasmedge_otel_attrs (a pointer to one) as `ptr, len`. */
#define WASMEDGE_OTEL_ATTRS(a) WASMEDGE_OTEL_PTR((a)->buf), WASMEDGE_OTEL__CAST(int32_t, (a)->len)

/* No attributes (or an empty string): `0, 0`. */
#define WASMEDGE_OTEL_NONE 0, 0

static inline int32_t wasmedge_otel_strlen(const char *s) {
  return WASMEDGE_OTEL__CAST(int32_t, __builtin_strlen(s));
}

/* ---------------------------------------------------------------------------------------------
 * Attribute buffers (wire format: docs/ABI.md, "Attribute buffers").
 *
 *     uint8_t storage[256];
 *     wasmedge_otel_attrs attrs;
 *     wasmedge_otel_attrs_init(&attrs, storage, sizeof storage);
 *     wasmedge_otel_attr_str(&attrs, "http.route", "/api/hello");
 *     wasmedge_otel_attr_i64(&attrs, "http.response.status_code", 200);
 *     wasmedge_otel_span_set_attributes(span, WASMEDGE_OTEL_ATTRS(&attrs));
 *
 * Each wasmedge_otel_attr_* call appends one attribute and returns WASMEDGE_OTEL_STATUS_OK, or
 * WASMEDGE_OTEL_STATUS_LIMIT_EXCEEDED when it does not fit in the buffer, or
 * WASMEDGE_OTEL_STATUS_MALFORMED for an empty key (the host refuses those too). The first failure
 * is kept in `status` and the buffer stays as it was before that call: every later call does
 * nothing and returns the same status, so checking `status` once after building is enough. The
 * buffer always holds whole attributes, so it can be sent either way.
 * ------------------------------------------------------------------------------------------- */

typedef struct wasmedge_otel_attrs {
  uint8_t *buf;   /* caller's storage */
  uint32_t cap;   /* its size in bytes */
  uint32_t len;   /* bytes of encoded attributes */
  int32_t status; /* WASMEDGE_OTEL_STATUS_OK, or the first failure */
} wasmedge_otel_attrs;

static inline void wasmedge_otel_attrs_init(wasmedge_otel_attrs *a, void *storage, size_t cap) {
  a->buf = WASMEDGE_OTEL__CAST(uint8_t *, storage);
  a->cap = cap > UINT32_MAX ? UINT32_MAX : WASMEDGE_OTEL__CAST(uint32_t, cap);
  a->len = 0;
  a->status = WASMEDGE_OTEL_STATUS_OK;
}

/* Empties the buffer (and forgets a failure) to build another attribute list in it. */
static inline void wasmedge_otel_attrs_clear(wasmedge_otel_attrs *a) {
  a->len = 0;
  a->status = WASMEDGE_OTEL_STATUS_OK;
}

static inline void wasmedge_otel__put_u32(uint8_t *p, uint32_t v) {
  p[0] = WASMEDGE_OTEL__CAST(uint8_t, v);
  p[1] = WASMEDGE_OTEL__CAST(uint8_t, v >> 8);
  p[2] = WASMEDGE_OTEL__CAST(uint8_t, v >> 16);
  p[3] = WASMEDGE_OTEL__CAST(uint8_t, v >> 24);
}

static inline void wasmedge_otel__put_u64(uint8_t *p, uint64_t v) {
  wasmedge_otel__put_u32(p, WASMEDGE_OTEL__CAST(uint32_t, v));
  wasmedge_otel__put_u32(p + 4, WASMEDGE_OTEL__CAST(uint32_t, v >> 32));
}

static inline uint64_t wasmedge_otel__f64_bits(double v) {
  uint64_t bits;
  __builtin_memcpy(&bits, &v, sizeof bits);
  return bits;
}

/* a + b, or SIZE_MAX when that overflows (which never fits in a buffer). */
static inline size_t wasmedge_otel__add(size_t a, size_t b) {
  return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

/* Appends `key` and `tag` and reserves `value_len` bytes for the value: returns where the value
 * goes, or 0 (with `status` set) when the attribute cannot be added. */
static inline uint8_t *wasmedge_otel__begin(wasmedge_otel_attrs *a, const char *key, uint8_t tag,
                                            size_t value_len) {
  size_t key_len, room;
  uint8_t *p;
  if (a->status != WASMEDGE_OTEL_STATUS_OK) {
    return WASMEDGE_OTEL__CAST(uint8_t *, WASMEDGE_OTEL__NULL);
  }
  key_len = __builtin_strlen(key);
  if (key_len == 0) {
    a->status = WASMEDGE_OTEL_STATUS_MALFORMED;
    return WASMEDGE_OTEL__CAST(uint8_t *, WASMEDGE_OTEL__NULL);
  }
  room = a->cap - a->len;
  if (key_len > room || room - key_len < 5 || value_len > room - key_len - 5) {
    a->status = WASMEDGE_OTEL_STATUS_LIMIT_EXCEEDED;
    return WASMEDGE_OTEL__CAST(uint8_t *, WASMEDGE_OTEL__NULL);
  }
  p = a->buf + a->len;
  wasmedge_otel__put_u32(p, WASMEDGE_OTEL__CAST(uint32_t, key_len));
  __builtin_memcpy(p + 4, key, key_len);
  p[4 + key_len] = tag;
  a->len += WASMEDGE_OTEL__CAST(uint32_t, 5 + key_len + value_len);
  return p + 5 + key_len;
}

/* A string value of `len` bytes (UTF-8; may contain NUL). */
static inline int32_t wasmedge_otel_attr_strn(wasmedge_otel_attrs *a, const char *key,
                                              const char *value, size_t len) {
  uint8_t *p = wasmedge_otel__begin(a, key, WASMEDGE_OTEL_WIRE_STRING, wasmedge_otel__add(4, len));
  if (p) {
    wasmedge_otel__put_u32(p, WASMEDGE_OTEL__CAST(uint32_t, len));
    __builtin_memcpy(p + 4, value, len);
  }
  return a->status;
}

/* A NUL-terminated string value. */
static inline int32_t wasmedge_otel_attr_str(wasmedge_otel_attrs *a, const char *key, const char *value) {
  return wasmedge_otel_attr_strn(a, key, value, __builtin_strlen(value));
}

/* A boolean value: false for 0, true otherwise. */
static inline int32_t wasmedge_otel_attr_bool(wasmedge_otel_attrs *a, const char *key, int value) {
  uint8_t *p = wasmedge_otel__begin(a, key, WASMEDGE_OTEL_WIRE_BOOL, 1);
  if (p) {
    p[0] = value ? 1 : 0;
  }
  return a->status;
}

/* A signed 64-bit integer value. */
static inline int32_t wasmedge_otel_attr_i64(wasmedge_otel_attrs *a, const char *key, int64_t value) {
  uint8_t *p = wasmedge_otel__begin(a, key, WASMEDGE_OTEL_WIRE_I64, 8);
  if (p) {
    wasmedge_otel__put_u64(p, WASMEDGE_OTEL__CAST(uint64_t, value));
  }
  return a->status;
}

/* A 64-bit float value. */
static inline int32_t wasmedge_otel_attr_f64(wasmedge_otel_attrs *a, const char *key, double value) {
  uint8_t *p = wasmedge_otel__begin(a, key, WASMEDGE_OTEL_WIRE_F64, 8);
  if (p) {
    wasmedge_otel__put_u64(p, wasmedge_otel__f64_bits(value));
  }
  return a->status;
}

/* The size of an array value of `count` elements of `size` bytes each (SIZE_MAX if too big). */
static inline size_t wasmedge_otel__array_len(size_t count, size_t size) {
  return count > (SIZE_MAX - 4) / size ? SIZE_MAX : 4 + count * size;
}

/* An array of NUL-terminated strings. */
static inline int32_t wasmedge_otel_attr_str_array(wasmedge_otel_attrs *a, const char *key,
                                                   const char *const *values, size_t count) {
  size_t total = 4, i, n;
  uint8_t *p;
  for (i = 0; i < count; i++) {
    total = wasmedge_otel__add(total, wasmedge_otel__add(4, __builtin_strlen(values[i])));
  }
  p = wasmedge_otel__begin(a, key, WASMEDGE_OTEL_WIRE_STRING_ARRAY, total);
  if (p) {
    wasmedge_otel__put_u32(p, WASMEDGE_OTEL__CAST(uint32_t, count));
    p += 4;
    for (i = 0; i < count; i++) {
      n = __builtin_strlen(values[i]);
      wasmedge_otel__put_u32(p, WASMEDGE_OTEL__CAST(uint32_t, n));
      __builtin_memcpy(p + 4, values[i], n);
      p += 4 + n;
    }
  }
  return a->status;
}

/* An array of booleans: each element false for 0, true otherwise. */
static inline int32_t wasmedge_otel_attr_bool_array(wasmedge_otel_attrs *a, const char *key,
                                                    const int *values, size_t count) {
  size_t total = wasmedge_otel__array_len(count, 1), i;
  uint8_t *p = wasmedge_otel__begin(a, key, WASMEDGE_OTEL_WIRE_BOOL_ARRAY, total);
  if (p) {
    wasmedge_otel__put_u32(p, WASMEDGE_OTEL__CAST(uint32_t, count));
    for (i = 0; i < count; i++) {
      p[4 + i] = values[i] ? 1 : 0;
    }
  }
  return a->status;
}

/* An array of signed 64-bit integers. */
static inline int32_t wasmedge_otel_attr_i64_array(wasmedge_otel_attrs *a, const char *key,
                                                   const int64_t *values, size_t count) {
  size_t total = wasmedge_otel__array_len(count, 8), i;
  uint8_t *p = wasmedge_otel__begin(a, key, WASMEDGE_OTEL_WIRE_I64_ARRAY, total);
  if (p) {
    wasmedge_otel__put_u32(p, WASMEDGE_OTEL__CAST(uint32_t, count));
    for (i = 0; i < count; i++) {
      wasmedge_otel__put_u64(p + 4 + 8 * i, WASMEDGE_OTEL__CAST(uint64_t, values[i]));
    }
  }
  return a->status;
}

/* An array of 64-bit floats. */
static inline int32_t wasmedge_otel_attr_f64_array(wasmedge_otel_attrs *a, const char *key,
                                                   const double *values, size_t count) {
  size_t total = wasmedge_otel__array_len(count, 8), i;
  uint8_t *p = wasmedge_otel__begin(a, key, WASMEDGE_OTEL_WIRE_F64_ARRAY, total);
  if (p) {
    wasmedge_otel__put_u32(p, WASMEDGE_OTEL__CAST(uint32_t, count));
    for (i = 0; i < count; i++) {
      wasmedge_otel__put_u64(p + 4 + 8 * i, wasmedge_otel__f64_bits(values[i]));
    }
  }
  return a->status;
}

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* WASMEDGE_OTEL_H */
