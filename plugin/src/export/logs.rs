//! The logs pipeline: batch log record processor and exporters, as configured.

use super::config::{Config, Exporter, Signal};
use super::health::CountingLogExporter;
use super::otlp::{self, build_otlp_exporter};
use opentelemetry_sdk::logs::{BatchConfigBuilder, BatchLogProcessor, SdkLoggerProvider};
use opentelemetry_sdk::Resource;

/// The logger provider. `in_runtime` runs a closure with the plugin's tokio runtime current.
pub fn provider(
    config: &Config,
    resource: Resource,
    in_runtime: &dyn Fn(&mut dyn FnMut()),
) -> SdkLoggerProvider {
    let mut b = SdkLoggerProvider::builder().with_resource(resource);
    if config.sdk_disabled {
        return b.build();
    }
    for exporter in config.exporters(Signal::Logs) {
        match exporter {
            Exporter::Otlp => {
                let otlp = &config.logs.otlp;
                let mut built = None;
                let mut build =
                    || built = Some(build_otlp_exporter!(opentelemetry_otlp::LogExporter::builder(), otlp));
                if otlp::needs_runtime(otlp) {
                    in_runtime(&mut build);
                } else {
                    build();
                }
                match built {
                    Some(Ok(e)) => {
                        let batch = config.logs.batch;
                        let batch = BatchConfigBuilder::default()
                            .with_scheduled_delay(batch.schedule_delay)
                            .with_max_queue_size(batch.max_queue_size)
                            .with_max_export_batch_size(batch.max_export_batch_size)
                            .build();
                        let processor = BatchLogProcessor::builder(CountingLogExporter::new(e))
                            .with_batch_config(batch)
                            .build();
                        b = b.with_log_processor(processor);
                    }
                    Some(Err(e)) => super::warn_build_failure("logs", &e),
                    None => super::warn_build_failure("logs", &"no export runtime"),
                }
            }
            Exporter::Console => b = b.with_simple_exporter(opentelemetry_stdout::LogExporter::default()),
        }
    }
    b.build()
}
