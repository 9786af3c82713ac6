//! Runtime statistics: per module instance (kept by the FFI layer on every host call and read by
//! the runtime metrics, see `export::runtime_metrics`), and process-wide counts of what was handed
//! to the SDK for export (read by the loss report at exit). Plain atomics: updating them costs
//! the guest's thread no lock.

use std::sync::atomic::{AtomicU64, Ordering};

/// Counters of one instance.
#[derive(Debug, Default)]
pub struct InstanceStats {
    host_calls: AtomicU64,
    memory_bytes: AtomicU64,
}

impl InstanceStats {
    /// Counts one host call into the plugin.
    pub fn count_call(&self) {
        self.host_calls.fetch_add(1, Ordering::Relaxed);
    }

    /// Remembers the guest's linear memory size, seen on a host call that borrowed it.
    pub fn observe_memory(&self, bytes: usize) {
        self.memory_bytes.store(bytes as u64, Ordering::Relaxed);
    }

    /// Host calls so far.
    pub fn host_calls(&self) -> u64 {
        self.host_calls.load(Ordering::Relaxed)
    }

    /// Linear memory size in bytes, as last seen (0 before the first call that passed memory).
    pub fn memory_bytes(&self) -> u64 {
        self.memory_bytes.load(Ordering::Relaxed)
    }
}

static SPANS_ENDED: AtomicU64 = AtomicU64::new(0);
static LOGS_EMITTED: AtomicU64 = AtomicU64::new(0);

/// Counts a sampled span handed to the SDK's processors.
pub fn count_span_ended() {
    SPANS_ENDED.fetch_add(1, Ordering::Relaxed);
}

/// Counts a log record handed to the SDK's processors.
pub fn count_log_emitted() {
    LOGS_EMITTED.fetch_add(1, Ordering::Relaxed);
}

/// Sampled spans ended so far, in the whole process.
pub fn spans_ended() -> u64 {
    SPANS_ENDED.load(Ordering::Relaxed)
}

/// Log records emitted so far, in the whole process.
pub fn logs_emitted() -> u64 {
    LOGS_EMITTED.load(Ordering::Relaxed)
}
