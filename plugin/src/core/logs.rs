//! Log records from a guest: severity, body and attributes, correlated with the current span.

use super::error::{HostError, HostResult};
use opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, Severity};
use opentelemetry::trace::SpanContext;
use opentelemetry::{Array, KeyValue, Value};
use opentelemetry_sdk::logs::SdkLogger;
use std::time::SystemTime;

const SEVERITIES: [Severity; 24] = [
    Severity::Trace,
    Severity::Trace2,
    Severity::Trace3,
    Severity::Trace4,
    Severity::Debug,
    Severity::Debug2,
    Severity::Debug3,
    Severity::Debug4,
    Severity::Info,
    Severity::Info2,
    Severity::Info3,
    Severity::Info4,
    Severity::Warn,
    Severity::Warn2,
    Severity::Warn3,
    Severity::Warn4,
    Severity::Error,
    Severity::Error2,
    Severity::Error3,
    Severity::Error4,
    Severity::Fatal,
    Severity::Fatal2,
    Severity::Fatal3,
    Severity::Fatal4,
];

/// The severity for an ABI severity number: `None` for 0 (unspecified).
pub fn severity(number: i32) -> HostResult<Option<Severity>> {
    match number {
        0 => Ok(None),
        1..=24 => Ok(Some(SEVERITIES[number as usize - 1])),
        _ => Err(HostError::InvalidArgument("severity number outside 0..=24")),
    }
}

/// An attribute value as a log attribute value.
fn any_value(value: Value) -> AnyValue {
    match value {
        Value::Bool(b) => AnyValue::Boolean(b),
        Value::I64(i) => AnyValue::Int(i),
        Value::F64(f) => AnyValue::Double(f),
        Value::String(s) => AnyValue::String(s),
        Value::Array(a) => AnyValue::ListAny(Box::new(match a {
            Array::Bool(v) => v.into_iter().map(AnyValue::Boolean).collect(),
            Array::I64(v) => v.into_iter().map(AnyValue::Int).collect(),
            Array::F64(v) => v.into_iter().map(AnyValue::Double).collect(),
            Array::String(v) => v.into_iter().map(AnyValue::String).collect(),
            _ => Vec::new(),
        })),
        _ => AnyValue::String("<unsupported value>".into()),
    }
}

/// Emits one record, stamped with `span`'s trace context when one is current.
pub fn emit(
    logger: &SdkLogger,
    severity: Option<Severity>,
    body: &str,
    attributes: Vec<KeyValue>,
    span: Option<&SpanContext>,
) {
    let mut record = logger.create_log_record();
    let now = SystemTime::now();
    record.set_timestamp(now);
    record.set_observed_timestamp(now);
    if let Some(severity) = severity {
        record.set_severity_number(severity);
        record.set_severity_text(severity.name());
    }
    record.set_body(AnyValue::String(body.to_owned().into()));
    record.add_attributes(attributes.into_iter().map(|kv| (kv.key, any_value(kv.value))));
    if let Some(cx) = span.filter(|cx| cx.is_valid()) {
        record.set_trace_context(cx.trace_id(), cx.span_id(), Some(cx.trace_flags()));
    }
    logger.emit(record);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_numbers_map_onto_the_data_model() {
        assert_eq!(severity(0).unwrap(), None);
        assert_eq!(severity(1).unwrap(), Some(Severity::Trace));
        assert_eq!(severity(9).unwrap().map(|s| s.name()), Some("INFO"));
        assert_eq!(severity(15).unwrap().map(|s| s.name()), Some("WARN3"));
        assert_eq!(severity(24).unwrap(), Some(Severity::Fatal4));
        for (i, s) in SEVERITIES.iter().enumerate() {
            assert_eq!(*s as i32, i as i32 + 1);
        }
        assert!(severity(25).is_err() && severity(-1).is_err());
    }
}
