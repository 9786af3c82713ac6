//! The [`Store`]: all shared mutable state of a collector, written by both transports (the gRPC
//! services in `grpc` and the HTTP handler in `http`) and read by the `Collector` handle.
//!
//! It holds every received request, the spans flattened out of them, the subscribers to notify,
//! the request counter and the injected-failure countdown, and wakes waiters when data arrives.

use std::sync::mpsc;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;

use crate::error::CollectorError;
use crate::failure::Failure;
use crate::received::{flatten_spans, Arrival, Received, ReceivedSpan};

/// Everything received so far, shared between the servers and the `Collector` handle.
#[derive(Default)]
pub(crate) struct Store {
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Default)]
struct State {
    traces: Vec<Received<ExportTraceServiceRequest>>,
    metrics: Vec<Received<ExportMetricsServiceRequest>>,
    logs: Vec<Received<ExportLogsServiceRequest>>,
    spans: Vec<ReceivedSpan>,
    subscribers: Vec<mpsc::Sender<Arrival>>,
    server_error: Option<String>,
    /// Decoded export requests so far, failed ones included.
    requests: usize,
    /// How many more requests to fail, and how.
    failing: Option<(usize, Failure)>,
}

impl State {
    /// Sends `arrival` to every live subscriber and forgets the ones that hung up.
    fn notify(&mut self, arrival: &Arrival) {
        self.subscribers.retain(|subscriber| subscriber.send(arrival.clone()).is_ok());
    }
}

impl Store {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the vectors half-updated in a way that matters
        // to readers, so a poisoned lock is simply taken over.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts one decoded export request and returns the failure to answer it with, if failures
    /// are being injected (which uses one of them up).
    pub(crate) fn begin_request(&self) -> Option<Failure> {
        let mut state = self.lock();
        state.requests += 1;
        let (remaining, failure) = state.failing.as_mut()?;
        let failure = *failure;
        *remaining -= 1;
        if *remaining == 0 {
            state.failing = None;
        }
        Some(failure)
    }

    /// Makes the next `n` requests fail with `failure` (replacing any earlier plan; `n == 0`
    /// cancels it).
    pub(crate) fn fail_next(&self, n: usize, failure: Failure) {
        self.lock().failing = (n > 0).then_some((n, failure));
    }

    /// Decoded export requests so far, failed ones included.
    pub(crate) fn request_count(&self) -> usize {
        self.lock().requests
    }

    pub(crate) fn add_traces(&self, received: Received<ExportTraceServiceRequest>) {
        let spans = flatten_spans(&received.request);
        let mut state = self.lock();
        state.spans.extend(spans.iter().cloned());
        state.traces.push(received);
        if !state.subscribers.is_empty() {
            state.notify(&Arrival::Spans(spans));
        }
        drop(state);
        self.changed.notify_all();
    }

    pub(crate) fn add_metrics(&self, received: Received<ExportMetricsServiceRequest>) {
        let mut state = self.lock();
        if !state.subscribers.is_empty() {
            state.notify(&Arrival::Metrics(received.clone()));
        }
        state.metrics.push(received);
        drop(state);
        self.changed.notify_all();
    }

    pub(crate) fn add_logs(&self, received: Received<ExportLogsServiceRequest>) {
        let mut state = self.lock();
        if !state.subscribers.is_empty() {
            state.notify(&Arrival::Logs(received.clone()));
        }
        state.logs.push(received);
        drop(state);
        self.changed.notify_all();
    }

    /// Records that a server stopped with an error, and wakes waiters so they can report it.
    pub(crate) fn set_server_error(&self, error: String) {
        self.lock().server_error = Some(error);
        self.changed.notify_all();
    }

    /// Disconnects every subscriber (used when the collector shuts down).
    pub(crate) fn close(&self) {
        self.lock().subscribers.clear();
    }

    pub(crate) fn spans(&self) -> Vec<ReceivedSpan> {
        self.lock().spans.clone()
    }

    pub(crate) fn traces(&self) -> Vec<Received<ExportTraceServiceRequest>> {
        self.lock().traces.clone()
    }

    pub(crate) fn metrics(&self) -> Vec<Received<ExportMetricsServiceRequest>> {
        self.lock().metrics.clone()
    }

    pub(crate) fn logs(&self) -> Vec<Received<ExportLogsServiceRequest>> {
        self.lock().logs.clone()
    }

    /// Waits until at least `n` spans are stored or `timeout` has passed.
    ///
    /// Fails with [`CollectorError::Timeout`] when time runs out and with [`CollectorError::Server`]
    /// as soon as a server has failed (no more spans can arrive then).
    pub(crate) fn wait_for_spans(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<ReceivedSpan>, CollectorError> {
        let deadline = Instant::now().checked_add(timeout);
        let mut state = self.lock();
        loop {
            if state.spans.len() >= n {
                return Ok(state.spans.clone());
            }
            if let Some(error) = &state.server_error {
                return Err(CollectorError::Server(error.clone()));
            }
            let now = Instant::now();
            let remaining = match deadline {
                Some(deadline) if deadline <= now => {
                    return Err(CollectorError::Timeout { wanted: n, got: state.spans.len() })
                }
                Some(deadline) => deadline - now,
                // A timeout too large to represent as an instant: wait in long slices.
                None => Duration::from_secs(3600),
            };
            state = self.changed.wait_timeout(state, remaining).unwrap_or_else(PoisonError::into_inner).0;
        }
    }

    /// A receiver of every arrival from now on, preceded by everything already stored
    /// (traces first, then metrics, then logs).
    pub(crate) fn subscribe(&self) -> mpsc::Receiver<Arrival> {
        let (sender, receiver) = mpsc::channel();
        let mut state = self.lock();
        // The receiver is alive, so these sends cannot fail.
        for received in &state.traces {
            let _ = sender.send(Arrival::Spans(flatten_spans(&received.request)));
        }
        for received in &state.metrics {
            let _ = sender.send(Arrival::Metrics(received.clone()));
        }
        for received in &state.logs {
            let _ = sender.send(Arrival::Logs(received.clone()));
        }
        state.subscribers.push(sender);
        receiver
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::received::Transport;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};

    fn request_with_spans(n: usize) -> ExportTraceServiceRequest {
        ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans: (0..n).map(|i| Span { name: format!("s{i}"), ..Default::default() }).collect(),
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
    }

    fn received<T>(request: T) -> Received<T> {
        Received { request, metadata: vec![], transport: Transport::Grpc }
    }

    #[test]
    fn wait_is_woken_by_a_later_arrival() {
        let store = Arc::new(Store::default());
        let writer = Arc::clone(&store);
        let thread = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            writer.add_traces(received(request_with_spans(2)));
        });
        let spans = store.wait_for_spans(2, Duration::from_secs(10)).expect("spans arrive");
        assert_eq!(spans.len(), 2);
        thread.join().unwrap();
        assert!(matches!(
            store.wait_for_spans(3, Duration::from_millis(20)),
            Err(CollectorError::Timeout { wanted: 3, got: 2 })
        ));
    }

    #[test]
    fn server_error_ends_waiting() {
        let store = Store::default();
        store.set_server_error("boom".into());
        assert!(matches!(
            store.wait_for_spans(1, Duration::from_secs(10)),
            Err(CollectorError::Server(message)) if message == "boom"
        ));
    }

    #[test]
    fn subscribers_get_backlog_then_new_arrivals() {
        let store = Store::default();
        store.add_traces(received(request_with_spans(1)));
        let receiver = store.subscribe();
        store.add_logs(received(ExportLogsServiceRequest::default()));
        match receiver.try_recv() {
            Ok(Arrival::Spans(spans)) => assert_eq!(spans.len(), 1),
            other => panic!("expected spans, got {other:?}"),
        }
        assert!(matches!(receiver.try_recv(), Ok(Arrival::Logs(_))));
        drop(receiver);
        store.add_metrics(received(ExportMetricsServiceRequest::default()));
        assert!(store.lock().subscribers.is_empty(), "a hung-up subscriber is forgotten");
    }

    #[test]
    fn failures_count_down_and_every_request_is_counted() {
        let store = Store::default();
        assert_eq!(store.begin_request(), None);
        store.fail_next(2, Failure::UNAVAILABLE);
        assert_eq!(store.begin_request(), Some(Failure::UNAVAILABLE));
        assert_eq!(store.begin_request(), Some(Failure::UNAVAILABLE));
        assert_eq!(store.begin_request(), None);
        store.fail_next(5, Failure::RESOURCE_EXHAUSTED);
        store.fail_next(0, Failure::RESOURCE_EXHAUSTED);
        assert_eq!(store.begin_request(), None, "n = 0 cancels");
        assert_eq!(store.request_count(), 5);
    }
}
