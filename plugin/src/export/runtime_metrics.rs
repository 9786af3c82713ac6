//! Runtime metrics every guest gets without writing code: its linear memory size, the number of
//! host calls it made into the plugin, and the plugin's own export health. Observable instruments
//! read plain atomics when the SDK collects, so recording costs the guest nothing.
//!
//! | name | instrument | unit | attributes |
//! | --- | --- | --- | --- |
//! | `wasm.memory.usage` | gauge | `By` | `wasmedge_otel.instance` |
//! | `wasmedge_otel.host.calls` | counter | `{call}` | `wasmedge_otel.instance` |
//! | `otel.sdk.exporter.span.exported` | counter | `{span}` | `error.type` on failures |
//! | `otel.sdk.exporter.log.exported` | counter | `{log_record}` | `error.type` on failures |
//! | `otel.sdk.exporter.metric_data_point.exported` | counter | `{data_point}` | `error.type` on failures |

use super::health::{health, SignalCounts};
use crate::core::stats::InstanceStats;
use opentelemetry::metrics::{AsyncInstrument, Meter, ObservableCounter, ObservableGauge};
use opentelemetry::KeyValue;
use std::sync::{Arc, Mutex, Weak};

/// Attribute telling instances of one process apart (a number, in creation order).
pub const INSTANCE_ATTRIBUTE: &str = "wasmedge_otel.instance";

struct Registered {
    number: i64,
    stats: Weak<InstanceStats>,
}

static INSTANCES: Mutex<Vec<Registered>> = Mutex::new(Vec::new());
static NEXT_NUMBER: Mutex<i64> = Mutex::new(0);

fn instances() -> std::sync::MutexGuard<'static, Vec<Registered>> {
    INSTANCES.lock().unwrap_or_else(|p| p.into_inner())
}

/// Starts reporting an instance's statistics.
pub fn register(stats: &Arc<InstanceStats>) {
    let number = {
        let mut next = NEXT_NUMBER.lock().unwrap_or_else(|p| p.into_inner());
        *next += 1;
        *next
    };
    instances().push(Registered { number, stats: Arc::downgrade(stats) });
}

/// Instances registered and still alive.
pub fn live_instances() -> usize {
    instances().iter().filter(|r| r.stats.strong_count() > 0).count()
}

/// Stops reporting an instance (after its final collection).
pub fn unregister(stats: &Arc<InstanceStats>) {
    instances().retain(|r| r.stats.upgrade().is_some_and(|s| !Arc::ptr_eq(&s, stats)));
}

fn each_instance(mut f: impl FnMut(&InstanceStats, &[KeyValue])) {
    for r in instances().iter() {
        if let Some(stats) = r.stats.upgrade() {
            f(&stats, &[KeyValue::new(INSTANCE_ATTRIBUTE, r.number)]);
        }
    }
}

fn observe_counts(observer: &dyn AsyncInstrument<u64>, counts: &SignalCounts) {
    observer.observe(counts.exported(), &[]);
    let failed = counts.failed();
    if failed > 0 {
        observer.observe(failed, &[KeyValue::new("error.type", "export_failed")]);
    }
}

/// The observable instruments; they report for as long as they are kept alive.
pub struct RuntimeInstruments {
    _memory: ObservableGauge<u64>,
    _calls: ObservableCounter<u64>,
    _exported: [ObservableCounter<u64>; 3],
}

/// Creates the runtime instruments on `meter`.
pub fn instruments(meter: &Meter) -> RuntimeInstruments {
    let exported = |name: &'static str, unit: &'static str, counts: fn() -> &'static SignalCounts| {
        meter
            .u64_observable_counter(name)
            .with_unit(unit)
            .with_description("Items the plugin exported; failures carry error.type")
            .with_callback(move |o| observe_counts(o, counts()))
            .build()
    };
    RuntimeInstruments {
        _memory: meter
            .u64_observable_gauge("wasm.memory.usage")
            .with_unit("By")
            .with_description("Size of the guest's linear memory, as last seen by a host call")
            .with_callback(|o| each_instance(|s, attrs| o.observe(s.memory_bytes(), attrs)))
            .build(),
        _calls: meter
            .u64_observable_counter("wasmedge_otel.host.calls")
            .with_unit("{call}")
            .with_description("Host calls the guest made into the wasmedge_otel plugin")
            .with_callback(|o| each_instance(|s, attrs| o.observe(s.host_calls(), attrs)))
            .build(),
        _exported: [
            exported("otel.sdk.exporter.span.exported", "{span}", || &health().spans),
            exported("otel.sdk.exporter.log.exported", "{log_record}", || &health().logs),
            exported("otel.sdk.exporter.metric_data_point.exported", "{data_point}", || {
                &health().metric_points
            }),
        ],
    }
}
