//! Log records against the mock host: severities, exact bodies and attributes, span correlation.

use std::vec;
use std::vec::Vec;

use super::{enc, text, ABI_OK};
use crate::abi::{self, Status};
use crate::logs::{self, Severity};
use crate::raw::{self, mock, mock::Call};
use crate::{kv, Error, Span};

fn log(severity: i32, body: &str, attrs: Vec<u8>, span: i64) -> Call {
    Call::LogEmit { severity, body: body.into(), attrs, span, result: 0 }
}

#[test]
fn level_functions_send_the_abi_severity_numbers() {
    mock::reset();
    logs::trace("t", &[]);
    logs::debug("d", &[]);
    logs::info("i", &[]);
    logs::warn("w", &[]);
    logs::error("e", &[]);
    logs::fatal("f", &[]);
    assert_eq!(
        mock::take_calls(),
        [
            ABI_OK,
            log(abi::severity::TRACE, "t", vec![], 0),
            log(abi::severity::DEBUG, "d", vec![], 0),
            log(abi::severity::INFO, "i", vec![], 0),
            log(abi::severity::WARN, "w", vec![], 0),
            log(abi::severity::ERROR, "e", vec![], 0),
            log(abi::severity::FATAL, "f", vec![], 0),
        ]
    );
    assert_eq!((Severity::Info as i32, Severity::Info.number()), (9, 9));
}

#[test]
fn every_severity_number_is_reachable_and_round_trips() {
    mock::reset();
    for n in 0..=abi::severity::MAX {
        let severity = Severity::from_number(n).unwrap();
        assert_eq!(severity.number(), n);
        logs::emit(severity, "x", &[]);
    }
    assert_eq!(Severity::from_number(-1), None);
    assert_eq!(Severity::from_number(abi::severity::MAX + 1), None);
    assert_eq!(Severity::from_number(i32::MIN), None);
    let names = [
        (Severity::Unspecified, 0),
        (Severity::Trace4, 4),
        (Severity::Debug2, 6),
        (Severity::Info3, 11),
        (Severity::Warn2, 14),
        (Severity::Error4, 20),
        (Severity::Fatal4, 24),
    ];
    for (severity, n) in names {
        assert_eq!(severity as i32, n, "{severity:?}");
    }
    assert!(Severity::Warn > Severity::Info4 && Severity::Trace > Severity::Unspecified);
    let sent: Vec<i32> = mock::take_calls()
        .iter()
        .filter_map(|c| match c {
            Call::LogEmit { severity, result: 0, .. } => Some(*severity),
            _ => None,
        })
        .collect();
    assert_eq!(sent, (0..=24).collect::<Vec<_>>(), "the mock accepts all 25");
    let body = b"x";
    assert_eq!(raw::log_emit(25, raw::ptr(body), 1, 0, 0), Status::INVALID_ARGUMENT.0);
    assert_eq!(raw::log_emit(-1, raw::ptr(body), 1, 0, 0), Status::INVALID_ARGUMENT.0);
}

#[test]
fn records_send_exact_bodies_and_attributes_and_carry_the_current_span() {
    mock::reset();
    logs::warn("startup complete", &[kv("app.requests.planned", 5)]);
    {
        let request = span!("GET /api/hello");
        logs::info("handled request", &[kv("http.route", "/api/hello"), kv("ok", true)]);
        {
            let _inner = Span::start("inner");
            logs::emit(Severity::Error2, "", &[]);
        }
        logs::debug("back in request", &[]);
        drop(request);
    }
    logs::error("after", &[kv("n", 1.5)]);
    let mut planned = vec![20, 0, 0, 0];
    planned.extend(b"app.requests.planned");
    planned.extend([3, 5, 0, 0, 0, 0, 0, 0, 0]);
    let calls = mock::take_calls();
    assert_eq!(
        calls,
        [
            ABI_OK,
            log(13, "startup complete", planned, 0),
            Call::SpanStart { name: "GET /api/hello".into(), kind: 0, parent: 0, attrs: vec![], result: 1 },
            log(9, "handled request", enc(&[kv("http.route", "/api/hello"), kv("ok", true)]), 1),
            Call::SpanStart { name: "inner".into(), kind: 0, parent: 0, attrs: vec![], result: 2 },
            log(18, "", vec![], 2),
            Call::SpanEnd { span: 2, result: 0 },
            log(5, "back in request", vec![], 1),
            Call::SpanEnd { span: 1, result: 0 },
            log(17, "after", enc(&[kv("n", 1.5)]), 0),
        ]
    );
}

#[test]
fn log_attributes_that_do_not_fit_are_dropped_others_kept() {
    mock::reset();
    let value = text(400); // 4 + 1 + 1 + 4 + 400 = 410 bytes
    let attrs = [kv("a", value.as_str()), kv("b", value.as_str()), kv("c", value.as_str()), kv("", 1)];
    let long_body = text(5000);
    logs::info(&long_body, &attrs);
    let calls = mock::take_calls();
    assert_eq!(calls[1], log(9, &long_body, enc(&attrs[..2]), 0), "the body is not limited by the buffer");
}

#[test]
fn try_emit_reports_the_status() {
    mock::reset();
    assert_eq!(logs::try_emit(Severity::Info, "ok", &[]), Ok(()));
    // A body that is not valid UTF-8 cannot be made in safe Rust; a huge one hits the host's limit.
    let huge = text(abi::limits::MAX_BUFFER_LEN + 1);
    assert_eq!(logs::try_emit(Severity::Info, &huge, &[]), Err(Error::Host(Status::LIMIT_EXCEEDED)));
    logs::info(&huge, &[]); // ignored, no panic
    assert_eq!(mock::take_calls().len(), 4);
}

#[test]
fn abi_mismatch_sends_no_log_records() {
    mock::reset();
    mock::set_abi_version(abi::ABI_VERSION + 1);
    logs::info("x", &[kv("k", 1)]);
    logs::emit(Severity::Fatal4, "y", &[]);
    let expected = Error::AbiMismatch { host: abi::ABI_VERSION + 1, guest: abi::ABI_VERSION };
    assert_eq!(logs::try_emit(Severity::Warn, "z", &[]), Err(expected));
    assert_eq!(mock::take_calls(), [Call::AbiVersion { result: abi::ABI_VERSION + 1 }]);
}
