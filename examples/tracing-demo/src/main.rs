//! `tracing-demo`: a program instrumented only with the `tracing` and `log` crates, whose telemetry
//! reaches the host through the bindings' bridges (features `tracing` and `log`). Fully
//! deterministic, for the end-to-end tests.
//!
//! The only calls into `wasmedge_otel_guest` are the three at the start of `main`: the ABI check and
//! the two `init`s. Everything else is `#[tracing::instrument]`, `info_span!`, `info!`, `warn!`,
//! `error!`, `debug!` and `log::info!`/`log::warn!`/`log::debug!`.
//!
//! Run under `wasmedge` with the `wasmedge_otel` plugin, it prints exactly one line to stdout,
//!
//! ```text
//! GET /api/orders/42 -> 422
//! ```
//!
//! nothing to stderr (unless the plugin speaks another ABI version: then
//! `tracing-demo: wasmedge_otel ABI mismatch, telemetry disabled` and no telemetry), exits with 0,
//! and produces the following (integers are `i64`, decimals `f64`).
//!
//! # Trace
//!
//! One trace (a root, when the `wasmedge` process has no `TRACEPARENT`) with this span tree,
//! children in start order. A span event's attributes are the event's fields, then
//! `code.namespace = "tracing_demo"` (string, left out below) and `level` (string):
//!
//! ```text
//! GET /api/orders/{id} [SERVER] (root; `info_span!("request")` named by `otel.name`)
//! │   http.request.method = "GET"             string
//! │   http.route = "/api/orders/42"           string
//! │   http.response.status_code = 422         i64 (declared `Empty`, recorded later)
//! │   no events, status UNSET
//! ├── load_order [INTERNAL] (`#[instrument]`: the arguments)
//! │   │   order_id = 42                       i64 (a `u64` argument)
//! │   │   source = "primary"                  string
//! │   │   cached = false                      bool
//! │   │   event "loaded order": items = 3 (i64), total = 37.5 (f64), level = "INFO"
//! │   │   status UNSET
//! │   └── parse [INTERNAL]
//! │           format = "Json"                 string (recorded with `?`, Debug)
//! │           bytes = 512                     i64
//! │           no events, status UNSET
//! ├── validate [INTERNAL] (`#[instrument(skip(order), fields(...))]`)
//! │       order.id = 42                       i64
//! │       order.items = 3                     i64
//! │       event "order exceeds limit": items = 3 (i64), limit = 2 (i64), level = "WARN"
//! │       event "validation failed": reason = "too many items" (string), level = "ERROR"
//! │       status ERROR "validation failed"    (set by the ERROR event)
//! ├── flush [INTERNAL]
//! │       event "flushed": bytes = 128 (i64), level = "INFO"
//! │       status UNSET
//! └── audit [INTERNAL]
//!         order.id = 42                       i64
//!         no events, status UNSET
//! ```
//!
//! `audit` is created after `flush`, while `flush` is open but not entered: by `tracing`'s rules its
//! parent is the entered span, the request, and so it is on the host, although the host's own implicit
//! parent would have been `flush` (the span started last). Spans end in this order: `parse`,
//! `load_order`, `validate`, `audit`, `flush`, the request.
//!
//! # Logs
//!
//! Four log records, in this order (severity number and text; body; attributes; trace context):
//!
//! ```text
//!  9 INFO  "tracing-demo starting"  app.version = 2, code.namespace = "tracing_demo"
//!                                   no trace id, no span id (a `tracing` event outside any span)
//! 13 WARN  "cache is cold"          code.namespace = "tracing_demo"
//!                                   no trace id, no span id (`log::warn!`)
//!  9 INFO  "order 42 loaded"        order_id = 42 (i64), code.namespace = "tracing_demo"
//!                                   in load_order's span (`log::info!` with a key-value)
//!  9 INFO  "order 42 rejected"      code.namespace = "tracing_demo", target = "audit"
//!                                   in audit's span (`log::info!(target: "audit", ...)`)
//! ```
//!
//! The `debug!` event and the `log::debug!` record are below the levels the bridges record (`INFO`)
//! and produce nothing. Events inside spans become span events only (the bridge's default), those
//! outside any span log records.
//!
//! # Host calls
//!
//! `abi_version`; `log_emit` ×2; `span_start` (request), `span_start` (load_order), `span_start`
//! (parse), `span_end`, `span_add_event`, `log_emit`, `span_end`; `span_start` (validate),
//! `span_add_event` ×2, `span_set_status`, `span_end`; `span_set_attributes` (status code);
//! `span_start` (flush), `span_start` (audit), `log_emit`, `span_end`; `span_add_event`, `span_end`;
//! `span_end` (request). Every `span_start` but the request's names its parent explicitly.

use tracing::field::Empty;
use tracing::{debug, error, info, info_span, instrument, warn};

const ORDER_ID: u64 = 42;
/// Most items an order may have: the order has 3, so it is rejected.
const ITEM_LIMIT: i64 = 2;

#[derive(Debug)]
enum Format {
    Json,
}

struct Order {
    id: u64,
    items: i64,
    unit_price: f64,
}

fn main() {
    if wasmedge_otel_guest::init().is_err() {
        eprintln!("tracing-demo: wasmedge_otel ABI mismatch, telemetry disabled");
    }
    wasmedge_otel_guest::tracing::init().expect("the only tracing subscriber");
    wasmedge_otel_guest::log::init(log::LevelFilter::Info).expect("the only logger");

    info!(app.version = 2, "tracing-demo starting");
    log::warn!("cache is cold");
    let status = handle("/api/orders/42");
    println!("GET /api/orders/42 -> {status}");
}

fn handle(route: &str) -> i64 {
    let request = info_span!(
        "request",
        otel.name = "GET /api/orders/{id}",
        otel.kind = "server",
        http.request.method = "GET",
        http.route = route,
        http.response.status_code = Empty,
    );
    let _entered = request.enter();

    let order = load_order(ORDER_ID, "primary", false);
    let status = match validate(&order) {
        Ok(()) => 200,
        Err(_) => 422,
    };
    request.record("http.response.status_code", status);

    let flush = info_span!("flush");
    let audit = info_span!("audit", order.id = order.id);
    audit.in_scope(|| log::info!(target: "audit", "order {} rejected", order.id));
    drop(audit);
    flush.in_scope(|| info!(bytes = 128, "flushed"));
    drop(flush);

    debug!("request done");
    log::debug!("request done");
    status
}

#[instrument]
fn load_order(order_id: u64, source: &str, cached: bool) -> Order {
    let format = Format::Json;
    let order = info_span!("parse", ?format, bytes = 512).in_scope(|| Order {
        id: order_id,
        items: 3,
        unit_price: 12.5,
    });
    info!(items = order.items, total = order.items as f64 * order.unit_price, "loaded order");
    log::info!(order_id = order_id; "order {} loaded", order_id);
    order
}

#[instrument(skip(order), fields(order.id = order.id, order.items = order.items))]
fn validate(order: &Order) -> Result<(), &'static str> {
    if order.items > ITEM_LIMIT {
        warn!(items = order.items, limit = ITEM_LIMIT, "order exceeds limit");
        error!(reason = "too many items", "validation failed");
        return Err("too many items");
    }
    Ok(())
}
