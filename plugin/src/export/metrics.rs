//! The metrics pipeline: periodic reader, temporality and exporters, as configured.

use super::config::{Config, Exporter, Signal, Temporality};
use super::health::CountingMetricExporter;
use super::otlp::{self, build_otlp_exporter};
use opentelemetry_sdk::metrics::{self, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::Resource;

fn temporality(t: Temporality) -> metrics::Temporality {
    match t {
        Temporality::Cumulative => metrics::Temporality::Cumulative,
        Temporality::Delta => metrics::Temporality::Delta,
        Temporality::LowMemory => metrics::Temporality::LowMemory,
    }
}

/// The meter provider. `in_runtime` runs a closure with the plugin's tokio runtime current.
pub fn provider(
    config: &Config,
    resource: Resource,
    in_runtime: &dyn Fn(&mut dyn FnMut()),
) -> SdkMeterProvider {
    let mut b = SdkMeterProvider::builder().with_resource(resource);
    if config.sdk_disabled {
        return b.build();
    }
    let interval = config.metrics.export_interval;
    for exporter in config.exporters(Signal::Metrics) {
        match exporter {
            Exporter::Otlp => {
                let otlp = &config.metrics.otlp;
                let t = temporality(config.metrics.temporality);
                let mut built = None;
                let mut build = || {
                    built = Some(build_otlp_exporter!(
                        opentelemetry_otlp::MetricExporter::builder().with_temporality(t),
                        otlp
                    ))
                };
                if otlp::needs_runtime(otlp) {
                    in_runtime(&mut build);
                } else {
                    build();
                }
                match built {
                    Some(Ok(e)) => {
                        b = b.with_reader(
                            PeriodicReader::builder(CountingMetricExporter::new(e))
                                .with_interval(interval)
                                .build(),
                        )
                    }
                    Some(Err(e)) => super::warn_build_failure("metrics", &e),
                    None => super::warn_build_failure("metrics", &"no export runtime"),
                }
            }
            Exporter::Console => {
                let e = opentelemetry_stdout::MetricExporter::builder()
                    .with_temporality(temporality(config.metrics.temporality))
                    .build();
                b = b.with_reader(PeriodicReader::builder(e).with_interval(interval).build());
            }
        }
    }
    b.build()
}
