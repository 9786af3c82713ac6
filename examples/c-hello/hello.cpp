// hello_cpp: the same header from C++, with a scoped span guard (RAII).
//
//     make c-guests      # clang++ --target=wasm32-wasi -fno-exceptions -nostdlib++ -> hello_cpp.wasm
//
// Prints "hello from C++: 3 items" and exports (tests/c_guest.rs checks it):
//
//     request  server  {cpp.items=3, cpp.standard=201703}
//     └─ item  internal  {item.index=0}, then 1 and 2: three children, each with {item.index=i}
//
// Built without the C++ standard library (`-nostdlib++`): Debian 12's wasi-libc has C only (its
// libc++ for wasm32 is the separate package libc++-14-dev-wasm32). The header needs nothing from it.
#include <stdio.h>

#include "wasmedge_otel.h"

namespace {

// Starts a span as a child of the current one and ends it at the end of the scope.
class Span {
 public:
  Span(const char *name, int32_t kind, const wasmedge_otel_attrs &attrs)
      : handle_(wasmedge_otel_span_start(WASMEDGE_OTEL_STR(name), kind, WASMEDGE_OTEL_PARENT_CURRENT,
                                         WASMEDGE_OTEL_ATTRS(&attrs))) {}
  ~Span() {
    if (handle_ > 0) {
      wasmedge_otel_span_end(handle_);
    }
  }
  Span(const Span &) = delete;
  Span &operator=(const Span &) = delete;

  bool ok() const { return handle_ > 0; }

 private:
  int64_t handle_;
};

// An attribute buffer with its own storage.
template <size_t N>
struct Attrs : wasmedge_otel_attrs {
  Attrs() : wasmedge_otel_attrs() { wasmedge_otel_attrs_init(this, storage, N); }
  uint8_t storage[N];
};

}  // namespace

int main() {
  if (wasmedge_otel_abi_version() != WASMEDGE_OTEL_ABI_VERSION) {
    fprintf(stderr, "hello_cpp: unsupported wasmedge_otel ABI\n");
    return 1;
  }
  const int64_t items = 3;
  Attrs<128> attrs;
  wasmedge_otel_attr_i64(&attrs, "cpp.items", items);
  wasmedge_otel_attr_i64(&attrs, "cpp.standard", __cplusplus);
  Span request("request", WASMEDGE_OTEL_SPAN_KIND_SERVER, attrs);
  bool ok = request.ok() && attrs.status == WASMEDGE_OTEL_STATUS_OK;
  for (int64_t i = 0; i < items; i++) {
    Attrs<64> item_attrs;
    wasmedge_otel_attr_i64(&item_attrs, "item.index", i);
    Span item("item", WASMEDGE_OTEL_SPAN_KIND_INTERNAL, item_attrs);
    ok = ok && item.ok();
  }
  printf("hello from C++: %lld items\n", static_cast<long long>(items));
  return ok ? 0 : 1;
}
