/*
 * hello_c: a C guest of the wasmedge_otel plugin, using include/wasmedge_otel.h only.
 *
 *     make c-guests      # clang --target=wasm32-wasi -O2 -I include -> target/guests/c/hello_c.wasm
 *     OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4317 wasmedge target/guests/c/hello_c.wasm
 *
 * It prints "hello from C: sum=13 mean=3.25" and exports (tests/c_guest.rs checks all of it):
 *
 *     hello-c  server  {app.language="c", app.name="hello-c", app.version=1}
 *     ├─ parse  internal  {input.count=4, input.flags=[true, false], input.tags=["a", "b"],
 *     │                    input.valid=true, input.values=[1, 2, 3, 7], input.weights=[0.5, 1.5]}
 *     │  • event parsed  {parse.source="static"}
 *     └─ divide  internal  status=ERROR "division by zero"
 *                          {divide.denominator=0, divide.mean=3.25, divide.numerator=13}
 *        • event exception  {divide.numerator=13, exception.message="division by zero",
 *                            exception.type="DivisionByZero"}
 *
 *   - metric c_hello.operations (counter, integer, unit {operation}): 1 for {operation="parse"},
 *     1 for {operation="divide"};
 *   - metric c_hello.input.mean (histogram, float, unit 1, boundaries 1, 2.5, 5): one value, 3.25;
 *   - log record WARN "division by zero in divide" {divide.numerator=13}, in the divide span.
 *
 * Any refused host call is printed on stderr and makes the program exit with status 1.
 */
#include <stdio.h>
#include <stdlib.h>

#include "wasmedge_otel.h"

static int failures = 0;

/* Checks a status (or a handle: > 0) and reports a refused call. */
static int64_t check(const char *what, int64_t result) {
  if (result < 0) {
    fprintf(stderr, "hello_c: %s failed with status %lld\n", what, (long long)result);
    failures++;
  }
  return result;
}

/* Reports an attribute buffer that could not hold every attribute given to it. */
static void check_attrs(const char *what, const wasmedge_otel_attrs *attrs) {
  check(what, attrs->status);
}

int main(void) {
  static const int64_t values[] = {1, 2, 3, 7};
  static const char *const tags[] = {"a", "b"};
  static const int flags[] = {1, 0};
  static const double weights[] = {0.5, 1.5};
  static const double mean_bounds[] = {1.0, 2.5, 5.0};
  uint8_t storage[512];
  wasmedge_otel_attrs attrs;
  int64_t root, parse, divide, operations, mean_histogram;
  int64_t sum = 0;
  size_t i, count = sizeof values / sizeof values[0];
  double mean;

  if (wasmedge_otel_abi_version() != WASMEDGE_OTEL_ABI_VERSION) {
    fprintf(stderr, "hello_c: the wasmedge_otel plugin implements ABI %d, this program needs %d\n",
            (int)wasmedge_otel_abi_version(), WASMEDGE_OTEL_ABI_VERSION);
    return 1;
  }

  /* Metric instruments. A histogram's boundaries are a plain array of doubles (little-endian f64,
   * as Wasm stores them). */
  operations = check("instrument_create(c_hello.operations)",
                     wasmedge_otel_instrument_create(
                         WASMEDGE_OTEL_INSTRUMENT_COUNTER, WASMEDGE_OTEL_VALUE_TYPE_I64,
                         WASMEDGE_OTEL_STR("c_hello.operations"), WASMEDGE_OTEL_STR("{operation}"),
                         WASMEDGE_OTEL_STR("Operations attempted"), WASMEDGE_OTEL_NONE));
  mean_histogram = check("instrument_create(c_hello.input.mean)",
                         wasmedge_otel_instrument_create(
                             WASMEDGE_OTEL_INSTRUMENT_HISTOGRAM, WASMEDGE_OTEL_VALUE_TYPE_F64,
                             WASMEDGE_OTEL_STR("c_hello.input.mean"), WASMEDGE_OTEL_STR("1"),
                             WASMEDGE_OTEL_STR("Mean of the input values"),
                             WASMEDGE_OTEL_BUF(mean_bounds, sizeof mean_bounds)));

  /* The root span: no span is open, so PARENT_CURRENT makes it a root. */
  wasmedge_otel_attrs_init(&attrs, storage, sizeof storage);
  wasmedge_otel_attr_str(&attrs, "app.name", "hello-c");
  wasmedge_otel_attr_str(&attrs, "app.language", "c");
  wasmedge_otel_attr_i64(&attrs, "app.version", 1);
  check_attrs("root attributes", &attrs);
  root = check("span_start(hello-c)",
               wasmedge_otel_span_start(WASMEDGE_OTEL_STR("hello-c"), WASMEDGE_OTEL_SPAN_KIND_SERVER,
                                        WASMEDGE_OTEL_PARENT_CURRENT, WASMEDGE_OTEL_ATTRS(&attrs)));

  /* parse: a child of the current span (the root), with attributes of every type. */
  parse = check("span_start(parse)",
                wasmedge_otel_span_start(WASMEDGE_OTEL_STR("parse"), WASMEDGE_OTEL_SPAN_KIND_INTERNAL,
                                         WASMEDGE_OTEL_PARENT_CURRENT, WASMEDGE_OTEL_NONE));
  if (wasmedge_otel_span_current() != parse) {
    fprintf(stderr, "hello_c: parse is not the current span\n");
    failures++;
  }
  for (i = 0; i < count; i++) {
    sum += values[i];
  }
  wasmedge_otel_attrs_clear(&attrs);
  wasmedge_otel_attr_i64(&attrs, "input.count", (int64_t)count);
  wasmedge_otel_attr_bool(&attrs, "input.valid", 1);
  wasmedge_otel_attr_i64_array(&attrs, "input.values", values, count);
  wasmedge_otel_attr_str_array(&attrs, "input.tags", tags, 2);
  wasmedge_otel_attr_bool_array(&attrs, "input.flags", flags, 2);
  wasmedge_otel_attr_f64_array(&attrs, "input.weights", weights, 2);
  check_attrs("parse attributes", &attrs);
  check("span_set_attributes(parse)", wasmedge_otel_span_set_attributes(parse, WASMEDGE_OTEL_ATTRS(&attrs)));
  wasmedge_otel_attrs_clear(&attrs);
  wasmedge_otel_attr_str(&attrs, "parse.source", "static");
  check("span_add_event(parsed)",
        wasmedge_otel_span_add_event(parse, WASMEDGE_OTEL_STR("parsed"), WASMEDGE_OTEL_ATTRS(&attrs)));
  wasmedge_otel_attrs_clear(&attrs);
  wasmedge_otel_attr_str(&attrs, "operation", "parse");
  check("metric_record_i64(parse)", wasmedge_otel_metric_record_i64(operations, 1, WASMEDGE_OTEL_ATTRS(&attrs)));
  check("span_end(parse)", wasmedge_otel_span_end(parse));

  /* divide: the root is current again, so divide is parse's sibling. It fails: an exception
   * event, an error status and a warning log record correlated with the span. */
  mean = (double)sum / (double)count;
  check("metric_record_f64(mean)", wasmedge_otel_metric_record_f64(mean_histogram, mean, WASMEDGE_OTEL_NONE));
  wasmedge_otel_attrs_clear(&attrs);
  wasmedge_otel_attr_i64(&attrs, "divide.numerator", sum);
  wasmedge_otel_attr_i64(&attrs, "divide.denominator", 0);
  wasmedge_otel_attr_f64(&attrs, "divide.mean", mean);
  check_attrs("divide attributes", &attrs);
  divide = check("span_start(divide)",
                 wasmedge_otel_span_start(WASMEDGE_OTEL_STR("divide"), WASMEDGE_OTEL_SPAN_KIND_INTERNAL,
                                          WASMEDGE_OTEL_PARENT_CURRENT, WASMEDGE_OTEL_ATTRS(&attrs)));
  wasmedge_otel_attrs_clear(&attrs);
  wasmedge_otel_attr_i64(&attrs, "divide.numerator", sum);
  check("span_record_exception(divide)",
        wasmedge_otel_span_record_exception(divide, WASMEDGE_OTEL_STR("DivisionByZero"),
                                            WASMEDGE_OTEL_STR("division by zero"), WASMEDGE_OTEL_ATTRS(&attrs)));
  check("span_set_status(divide)", wasmedge_otel_span_set_status(divide, WASMEDGE_OTEL_SPAN_STATUS_ERROR,
                                                                 WASMEDGE_OTEL_STR("division by zero")));
  check("log_emit(divide)", wasmedge_otel_log_emit(WASMEDGE_OTEL_SEVERITY_WARN,
                                                   WASMEDGE_OTEL_STR("division by zero in divide"),
                                                   WASMEDGE_OTEL_ATTRS(&attrs)));
  wasmedge_otel_attrs_clear(&attrs);
  wasmedge_otel_attr_str(&attrs, "operation", "divide");
  check("metric_record_i64(divide)", wasmedge_otel_metric_record_i64(operations, 1, WASMEDGE_OTEL_ATTRS(&attrs)));
  check("span_end(divide)", wasmedge_otel_span_end(divide));

  check("span_end(hello-c)", wasmedge_otel_span_end(root));
  if (wasmedge_otel_span_current() != 0) {
    fprintf(stderr, "hello_c: a span is still open\n");
    failures++;
  }

  printf("hello from C: sum=%lld mean=%g\n", (long long)sum, mean);
  return failures == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
