//! The `log` bridge against the mock host: severities, bodies, key-values, location attributes,
//! filtering and span correlation, as exact `log_emit` calls.

use std::vec::Vec;

use ::log::kv::Value;
use ::log::{Level, LevelFilter, Log, Record};

use super::{enc, ABI_OK};
use crate::abi;
use crate::log::Logger;
use crate::raw::mock::{self, Call};
use crate::{kv, KeyValue, Span};

fn log(severity: i32, body: &str, attrs: &[KeyValue<'_>], span: i64) -> Call {
    Call::LogEmit { severity, body: body.into(), attrs: enc(attrs), span, result: 0 }
}

/// A record of `level` with body "n = 3", module path and target `app::db`.
fn record_at(logger: &Logger, level: Level) {
    logger.log(
        &Record::builder()
            .level(level)
            .args(format_args!("n = {}", 3))
            .module_path(Some("app::db"))
            .target("app::db")
            .build(),
    );
}

#[test]
fn levels_map_to_severities() {
    mock::reset();
    let logger = Logger::new(LevelFilter::Trace);
    for level in [Level::Error, Level::Warn, Level::Info, Level::Debug, Level::Trace] {
        record_at(&logger, level);
    }
    let here = [kv("code.namespace", "app::db")];
    assert_eq!(
        mock::take_calls(),
        [
            ABI_OK,
            log(17, "n = 3", &here, 0),
            log(13, "n = 3", &here, 0),
            log(9, "n = 3", &here, 0),
            log(5, "n = 3", &here, 0),
            log(1, "n = 3", &here, 0),
        ]
    );
}

#[test]
fn records_below_the_maximum_level_are_dropped() {
    mock::reset();
    let logger = Logger::new(LevelFilter::Warn);
    assert_eq!(logger.max_level(), LevelFilter::Warn);
    for level in [Level::Error, Level::Warn, Level::Info, Level::Debug, Level::Trace] {
        record_at(&logger, level);
    }
    let severities: Vec<i32> = mock::take_calls()
        .iter()
        .filter_map(|c| match c {
            Call::LogEmit { severity, .. } => Some(*severity),
            _ => None,
        })
        .collect();
    assert_eq!(severities, [17, 13]);
    assert!(logger.enabled(&::log::Metadata::builder().level(Level::Warn).build()));
    assert!(!logger.enabled(&::log::Metadata::builder().level(Level::Info).build()));
    record_at(&Logger::new(LevelFilter::Off), Level::Error);
    assert!(mock::take_calls().is_empty());
}

#[derive(Debug)]
#[allow(dead_code)] // Only its `Debug` output is used.
struct Point {
    x: i32,
}

#[test]
fn key_values_become_typed_attributes_then_the_location() {
    mock::reset();
    let point = Point { x: 1 };
    let kvs: [(&str, Value<'_>); 10] = [
        ("i", Value::from(-3i64)),
        ("small", Value::from(7u64)),
        ("big", Value::from(u64::MAX)),
        ("huge", Value::from(u128::MAX)),
        ("ratio", Value::from(0.5f64)),
        ("ok", Value::from(true)),
        ("text", Value::from("hé")),
        ("letter", Value::from('x')),
        ("point", Value::from_debug(&point)),
        ("shown", Value::from_display(&"displayed")),
    ];
    Logger::new(LevelFilter::Info).log(
        &Record::builder()
            .level(Level::Warn)
            .args(format_args!("slow query: {} ms", 250))
            .module_path(Some("app::db"))
            .target("audit")
            .key_values(&kvs)
            .build(),
    );
    let expected = [
        kv("i", -3),
        kv("small", 7),
        kv("big", "18446744073709551615"),
        kv("huge", "340282366920938463463374607431768211455"),
        kv("ratio", 0.5),
        kv("ok", true),
        kv("text", "hé"),
        kv("letter", "x"),
        kv("point", "Point { x: 1 }"),
        kv("shown", "displayed"),
        kv("code.namespace", "app::db"),
        kv("target", "audit"),
    ];
    assert_eq!(mock::take_calls(), [ABI_OK, log(13, "slow query: 250 ms", &expected, 0)]);
}

#[test]
fn a_literal_body_and_a_record_without_module_path() {
    mock::reset();
    Logger::new(LevelFilter::Info)
        .log(&Record::builder().level(Level::Info).args(format_args!("plain")).target("t").build());
    assert_eq!(mock::take_calls(), [ABI_OK, log(9, "plain", &[kv("target", "t")], 0)]);
}

#[test]
fn records_carry_the_current_span() {
    mock::reset();
    let logger = Logger::new(LevelFilter::Info);
    record_at(&logger, Level::Info);
    {
        let _request = Span::start("request");
        record_at(&logger, Level::Info);
        let _inner = Span::start("inner");
        record_at(&logger, Level::Error);
    }
    let spans: Vec<(i32, i64)> = mock::take_calls()
        .iter()
        .filter_map(|c| match c {
            Call::LogEmit { severity, span, .. } => Some((*severity, *span)),
            _ => None,
        })
        .collect();
    assert_eq!(spans, [(9, 0), (9, 1), (17, 2)]);
}

#[test]
fn abi_mismatch_sends_no_records() {
    mock::reset();
    mock::set_abi_version(abi::ABI_VERSION + 1);
    record_at(&Logger::new(LevelFilter::Trace), Level::Error);
    assert_eq!(mock::take_calls(), [Call::AbiVersion { result: abi::ABI_VERSION + 1 }]);
}

/// The only test using the `log` macros and the global logger (one per process).
#[test]
fn init_installs_the_logger_and_the_maximum_level_once() {
    mock::reset();
    assert!(crate::log::init(LevelFilter::Info).is_ok());
    assert_eq!(::log::max_level(), LevelFilter::Info);
    assert!(crate::log::init(LevelFilter::Trace).is_err(), "one logger per program");
    ::log::info!(items = 3, cached = false; "loaded {} items", 3);
    ::log::debug!("below the level");
    ::log::error!(target: "audit", "denied");
    let here = "wasmedge_otel_guest::tests::log_bridge";
    assert_eq!(
        mock::take_calls(),
        [
            ABI_OK,
            log(9, "loaded 3 items", &[kv("items", 3), kv("cached", false), kv("code.namespace", here)], 0),
            log(17, "denied", &[kv("code.namespace", here), kv("target", "audit")], 0),
        ]
    );
}
