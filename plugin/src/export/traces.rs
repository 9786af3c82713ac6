//! The traces pipeline: sampler, span limits, batch processor and exporters, as configured.

use super::config::{Config, Exporter, Sampler, Signal};
use super::health::CountingSpanExporter;
use super::otlp::{self, build_otlp_exporter};
use crate::core::attributes::merge_repeated_keys;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{
    self, BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider, SpanData, SpanExporter,
    TracerProviderBuilder,
};
use opentelemetry_sdk::Resource;
use std::time::Duration;

/// A span exporter that first leaves one attribute per key on every span, where the key first
/// appeared, with its last value. A guest may set at end a key it gave at start; resolving that
/// here, on the export thread, keeps the search off the guest's span calls.
#[derive(Debug)]
pub struct MergeRepeatedKeys<E>(pub E);

impl<E: SpanExporter> SpanExporter for MergeRepeatedKeys<E> {
    async fn export(&self, mut batch: Vec<SpanData>) -> OTelSdkResult {
        for span in &mut batch {
            merge_repeated_keys(&mut span.attributes);
        }
        self.0.export(batch).await
    }
    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }
    fn force_flush(&self) -> OTelSdkResult {
        self.0.force_flush()
    }
    fn set_resource(&mut self, resource: &Resource) {
        self.0.set_resource(resource)
    }
}

fn sampler(s: Sampler) -> trace::Sampler {
    use trace::Sampler as S;
    match s {
        Sampler::AlwaysOn => S::AlwaysOn,
        Sampler::AlwaysOff => S::AlwaysOff,
        Sampler::TraceIdRatio(r) => S::TraceIdRatioBased(r),
        Sampler::ParentBasedAlwaysOn => S::ParentBased(Box::new(S::AlwaysOn)),
        Sampler::ParentBasedAlwaysOff => S::ParentBased(Box::new(S::AlwaysOff)),
        Sampler::ParentBasedTraceIdRatio(r) => S::ParentBased(Box::new(S::TraceIdRatioBased(r))),
    }
}

fn batched<E: SpanExporter + 'static>(
    b: TracerProviderBuilder,
    config: &Config,
    e: E,
) -> TracerProviderBuilder {
    let batch = config.traces.batch;
    let batch = BatchConfigBuilder::default()
        .with_scheduled_delay(batch.schedule_delay)
        .with_max_queue_size(batch.max_queue_size)
        .with_max_export_batch_size(batch.max_export_batch_size)
        .build();
    b.with_span_processor(
        BatchSpanProcessor::builder(MergeRepeatedKeys(CountingSpanExporter::new(e)))
            .with_batch_config(batch)
            .build(),
    )
}

/// The tracer provider. `in_runtime` runs a closure with the plugin's tokio runtime current.
pub fn provider(
    config: &Config,
    resource: Resource,
    in_runtime: &dyn Fn(&mut dyn FnMut()),
) -> SdkTracerProvider {
    let limits = config.traces.limits;
    let mut b = SdkTracerProvider::builder()
        .with_resource(resource)
        .with_sampler(sampler(config.traces.sampler))
        // Spans of instrumented functions get the ids chosen when the function was entered.
        .with_id_generator(crate::core::functions::PlannedIdGenerator::default())
        .with_span_limits(trace::SpanLimits {
            max_events_per_span: limits.event_count,
            max_attributes_per_span: limits.attribute_count,
            max_links_per_span: limits.link_count,
            max_attributes_per_event: limits.event_attribute_count,
            max_attributes_per_link: limits.link_attribute_count,
        });
    if config.sdk_disabled {
        return b.build();
    }
    for exporter in config.exporters(Signal::Traces) {
        match exporter {
            Exporter::Otlp => {
                let otlp = &config.traces.otlp;
                let mut built = None;
                let mut build =
                    || built = Some(build_otlp_exporter!(opentelemetry_otlp::SpanExporter::builder(), otlp));
                if otlp::needs_runtime(otlp) {
                    in_runtime(&mut build);
                } else {
                    build();
                }
                match built {
                    Some(Ok(e)) => b = batched(b, config, e),
                    Some(Err(e)) => super::warn_build_failure("spans", &e),
                    None => super::warn_build_failure("spans", &"no export runtime"),
                }
            }
            Exporter::Console => {
                b = b.with_simple_exporter(MergeRepeatedKeys(opentelemetry_stdout::SpanExporter::default()))
            }
        }
    }
    b.build()
}
