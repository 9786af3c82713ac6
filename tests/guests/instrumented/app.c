/*
 * app_c: the C counterpart of src/main.rs, for tests/instrument_e2e.rs. An ordinary program
 * (recursion, an early return, nested calls, two spans started by hand with the raw host calls
 * of include/wasmedge_otel.h) that the test instruments with `wasmedge-otel instrument` without
 * changing it. It prints "fib(5) = 5; 7 found at 2; 42 not found; checksum 35".
 *
 * Built by the test with clang --target=wasm32-wasi -O2, without -s (the name section stays).
 * `noinline` keeps the functions apart as a larger program's would be, and the volatile locals
 * keep clang from turning one of fib's calls into a loop, so the call tree is the source's:
 *
 *     run
 *     ├── compute
 *     │   └── compute            (by hand)
 *     │       └── fib            fib(5): 15 calls, 5 levels deep
 *     ├── lookup                 (by hand)
 *     │   ├── find               returns early from inside its loop
 *     │   └── find               runs to the end
 *     └── checksum
 *
 * `main` is not among them: wasi-libc renames `int main(void)` to `__original_main`, which the
 * rewriter's default exclusions (`__*`) leave out. `describe` is inlined.
 */
#include <stdio.h>

#include "wasmedge_otel.h"

#define NOINLINE __attribute__((noinline))

static int64_t start_span(const char *name, int32_t len) {
  return wasmedge_otel_span_start(WASMEDGE_OTEL_PTR(name), len, WASMEDGE_OTEL_SPAN_KIND_INTERNAL,
                                  WASMEDGE_OTEL_PARENT_CURRENT, WASMEDGE_OTEL_NONE);
}

NOINLINE static long fib(int n) {
  volatile long a, b;
  if (n < 2) {
    return n;
  }
  a = fib(n - 1);
  b = fib(n - 2);
  return a + b;
}

NOINLINE static long compute(int n) {
  int64_t span = start_span("compute", 7);
  long f = fib(n);
  wasmedge_otel_span_end(span);
  return f;
}

/* The index of needle, returning from inside the loop when it is found; -1 otherwise. */
NOINLINE static int find(const volatile long *values, int n, long needle) {
  int i;
  for (i = 0; i < n; i++) {
    if (values[i] == needle) {
      return i;
    }
  }
  return -1;
}

NOINLINE static long checksum(const volatile long *values, int n) {
  long sum = 0;
  int i;
  for (i = 0; i < n; i++) {
    sum += values[i];
  }
  return sum;
}

static void describe(char *out, size_t cap, long needle, int at) {
  if (at >= 0) {
    snprintf(out, cap, "%ld found at %d", needle, at);
  } else {
    snprintf(out, cap, "%ld not found", needle);
  }
}

NOINLINE static void run(const volatile long *values, int n) {
  volatile int five = 5;
  long f = compute(five);
  int seven, forty_two;
  int64_t lookup = start_span("lookup", 6);
  char a[32], b[32];
  seven = find(values, n, 7);
  forty_two = find(values, n, 42);
  wasmedge_otel_span_end(lookup);
  describe(a, sizeof a, 7, seven);
  describe(b, sizeof b, 42, forty_two);
  printf("fib(5) = %ld; %s; %s; checksum %ld\n", f, a, b, checksum(values, n));
}

int main(void) {
  static volatile long values[] = {3, 11, 7, 5, 0, 9};
  run(values, 6);
  return 0;
}
