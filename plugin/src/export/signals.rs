//! SIGTERM and SIGINT (how Kubernetes stops a pod, and Ctrl-C): WasmEdge runs no finalizer for
//! them, so without this whatever is buffered would be lost. A watcher thread, started with the
//! pipeline (not at plugin load), ends the spans still open as unfinished, flushes within the exit
//! bound, then re-raises the signal with its default action, so the process ends exactly as it
//! would have. Embedders with their own shutdown handling turn this off with
//! `WASMEDGE_OTEL_HANDLE_SIGNALS=false`.

use super::ExportPipeline;
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// Starts the watcher. A failure is reported and leaves the default behaviour in place.
pub fn watch(pipeline: &'static ExportPipeline) {
    let mut signals = match Signals::new([SIGTERM, SIGINT]) {
        Ok(signals) => signals,
        Err(e) => {
            eprintln!("wasmedge_otel: cannot watch SIGTERM/SIGINT, telemetry buffered then is lost: {e}");
            return;
        }
    };
    let spawned = std::thread::Builder::new().name("wasmedge-otel-signals".into()).spawn(move || {
        if let Some(signal) = signals.forever().next() {
            let open = crate::core::trace::end_unfinished_everywhere(&pipeline.span_flush());
            eprintln!("wasmedge_otel: signal {signal}: ending {open} open span(s) and flushing before exit");
            pipeline.flush();
            pipeline.report_losses();
            let _ = signal_hook::low_level::emulate_default_handler(signal);
        }
    });
    if let Err(e) = spawned {
        eprintln!("wasmedge_otel: cannot watch SIGTERM/SIGINT: {e}");
    }
}
