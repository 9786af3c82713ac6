//! The host functions as data: each entry of [`HOST_FUNCTIONS`] pairs a signature from the ABI
//! crate with its safe body. The FFI layer registers exactly this table, so the ABI a guest sees is
//! the one `wasmedge-otel-abi` defines.
//!
//! Bodies receive their arguments widened to `i64` in signature order (the FFI layer reads each
//! with the type the signature names; an `f64` travels as its bit pattern) and return the result
//! widened the same way.

use super::error::HostResult;
use super::guest_mem::GuestMemory;
use super::instance::{GuestSlice, Instance};
use super::metrics::Measurement;
use std::sync::atomic::{AtomicBool, Ordering};
use wasmedge_otel_abi::{self as abi, HostFunction, Status};

/// The safe body of a host function.
pub type HostFn = fn(&Instance, &mut GuestMemory<'_>, &[i64]) -> i64;

/// Every host function with its body, in [`abi::FUNCTIONS`] order.
pub const HOST_FUNCTIONS: &[(HostFunction, HostFn)] = &[
    (abi::ABI_VERSION_FN, abi_version),
    (abi::SPAN_START, span_start),
    (abi::SPAN_END, span_end),
    (abi::SPAN_SET_ATTRIBUTES, span_set_attributes),
    (abi::SPAN_ADD_EVENT, span_add_event),
    (abi::SPAN_SET_STATUS, span_set_status),
    (abi::SPAN_RECORD_EXCEPTION, span_record_exception),
    (abi::SPAN_CURRENT, span_current),
    (abi::INSTRUMENT_CREATE, instrument_create),
    (abi::METRIC_RECORD_I64, metric_record_i64),
    (abi::METRIC_RECORD_F64, metric_record_f64),
    (abi::METRIC_BIND, metric_bind),
    (abi::METRIC_BOUND_RECORD_I64, metric_bound_record_i64),
    (abi::METRIC_BOUND_RECORD_F64, metric_bound_record_f64),
    (abi::LOG_EMIT, log_emit),
    (abi::SPAN_TRACEPARENT, span_traceparent),
    (abi::SPAN_TRACESTATE, span_tracestate),
    (abi::SPAN_START_REMOTE, span_start_remote),
    (abi::FUNC_ENTER, func_enter),
    (abi::FUNC_EXIT, func_exit),
    (abi::FUNC_NAMES, func_names),
];

/// An `i32` argument as the unsigned offset or length it stands for.
fn u32_arg(v: i64) -> u32 {
    v as i32 as u32
}

fn slice(ptr: i64, len: i64) -> GuestSlice {
    GuestSlice { ptr: u32_arg(ptr), len: u32_arg(len) }
}

/// Whether refused calls are reported on stderr (`OTEL_LOG_LEVEL=debug`).
static DEBUG: AtomicBool = AtomicBool::new(false);

/// Reports every refused call on stderr from now on (or stops).
pub fn set_debug(on: bool) {
    DEBUG.store(on, Ordering::Relaxed);
}

fn debug_enabled() -> bool {
    DEBUG.load(Ordering::Relaxed)
}

fn report<T>(name: &str, result: HostResult<T>) -> Result<T, i64> {
    result.map_err(|e| {
        if debug_enabled() {
            eprintln!("wasmedge_otel: {name} refused: {e}");
        }
        e.status().0 as i64
    })
}

fn status(name: &str, result: HostResult<()>) -> i64 {
    report(name, result).map_or_else(|code| code, |()| Status::OK.0 as i64)
}

fn handle(name: &str, result: HostResult<u64>) -> i64 {
    report(name, result).map_or_else(|code| code, |h| h as i64)
}

fn abi_version(_: &Instance, _: &mut GuestMemory<'_>, _: &[i64]) -> i64 {
    abi::ABI_VERSION as i64
}

fn span_start(inst: &Instance, mem: &mut GuestMemory<'_>, a: &[i64]) -> i64 {
    handle("span_start", inst.span_start(mem, slice(a[0], a[1]), a[2] as i32, a[3], slice(a[4], a[5])))
}

fn span_end(inst: &Instance, _: &mut GuestMemory<'_>, a: &[i64]) -> i64 {
    status("span_end", inst.span_end(a[0]))
}

fn span_set_attributes(inst: &Instance, mem: &mut GuestMemory<'_>, a: &[i64]) -> i64 {
    status("span_set_attributes", inst.span_set_attributes(mem, a[0], slice(a[1], a[2])))
}

fn span_add_event(inst: &Instance, mem: &mut GuestMemory<'_>, a: &[i64]) -> i64 {
    status("span_add_event", inst.span_add_event(mem, a[0], slice(a[1], a[2]), slice(a[3], a[4])))
}

fn span_set_status(inst: &Instance, mem: &mut GuestMemory<'_>, a: &[i64]) -> i64 {
    status("span_set_status", inst.span_set_status(mem, a[0], a[1] as i32, slice(a[2], a[3])))
}

fn span_record_exception(inst: &Instance, mem: &mut GuestMemory<'_>, a: &[i64]) -> i64 {
    let r = inst.span_record_exception(mem, a[0], slice(a[1], a[2]), slice(a[3], a[4]), slice(a[5], a[6]));
    status("span_record_exception", r)
}

fn span_current(inst: &Instance, _: &mut GuestMemory<'_>, _: &[i64]) -> i64 {
    inst.span_current() as i64
}

fn instrument_create(inst: &Instance, mem: &mut GuestMemory<'_>, a: &[i64]) -> i64 {
    let r = inst.instrument_create(
        mem,
        a[0] as i32,
        a[1] as i32,
        slice(a[2], a[3]),
        slice(a[4], a[5]),
        slice(a[6], a[7]),
        slice(a[8], a[9]),
    );
    handle("instrument_create", r)
}

fn f64_arg(bits: i64) -> f64 {
    f64::from_bits(bits as u64)
}

fn metric_record_i64(inst: &Instance, mem: &mut GuestMemory<'_>, a: &[i64]) -> i64 {
    status("metric_record_i64", inst.metric_record(mem, a[0], Measurement::I64(a[1]), slice(a[2], a[3])))
}

fn metric_record_f64(inst: &Instance, mem: &mut GuestMemory<'_>, a: &[i64]) -> i64 {
    status(
        "metric_record_f64",
        inst.metric_record(mem, a[0], Measurement::F64(f64_arg(a[1])), slice(a[2], a[3])),
    )
}

fn metric_bind(inst: &Instance, mem: &mut GuestMemory<'_>, a: &[i64]) -> i64 {
    handle("metric_bind", inst.metric_bind(mem, a[0], slice(a[1], a[2])))
}

fn metric_bound_record_i64(inst: &Instance, _: &mut GuestMemory<'_>, a: &[i64]) -> i64 {
    status("metric_bound_record_i64", inst.metric_bound_record(a[0], Measurement::I64(a[1])))
}

fn metric_bound_record_f64(inst: &Instance, _: &mut GuestMemory<'_>, a: &[i64]) -> i64 {
    status("metric_bound_record_f64", inst.metric_bound_record(a[0], Measurement::F64(f64_arg(a[1]))))
}

fn log_emit(inst: &Instance, mem: &mut GuestMemory<'_>, a: &[i64]) -> i64 {
    status("log_emit", inst.log_emit(mem, a[0] as i32, slice(a[1], a[2]), slice(a[3], a[4])))
}

fn span_traceparent(inst: &Instance, mem: &mut GuestMemory<'_>, a: &[i64]) -> i64 {
    handle("span_traceparent", inst.span_traceparent(mem, a[0], slice(a[1], a[2])).map(|n| n as u64))
}

fn span_tracestate(inst: &Instance, mem: &mut GuestMemory<'_>, a: &[i64]) -> i64 {
    handle("span_tracestate", inst.span_tracestate(mem, a[0], slice(a[1], a[2])).map(|n| n as u64))
}

fn span_start_remote(inst: &Instance, mem: &mut GuestMemory<'_>, a: &[i64]) -> i64 {
    let r = inst.span_start_remote(
        mem,
        slice(a[0], a[1]),
        a[2] as i32,
        slice(a[3], a[4]),
        slice(a[5], a[6]),
        slice(a[7], a[8]),
    );
    handle("span_start_remote", r)
}

fn func_enter(inst: &Instance, _: &mut GuestMemory<'_>, a: &[i64]) -> i64 {
    status("func_enter", inst.func_enter(a[0] as i32))
}

fn func_exit(inst: &Instance, _: &mut GuestMemory<'_>, a: &[i64]) -> i64 {
    status("func_exit", inst.func_exit(a[0] as i32))
}

fn func_names(inst: &Instance, mem: &mut GuestMemory<'_>, a: &[i64]) -> i64 {
    status("func_names", inst.func_names(mem, slice(a[0], a[1])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_the_abi_in_order() {
        let names: Vec<_> = HOST_FUNCTIONS.iter().map(|(f, _)| *f).collect();
        assert_eq!(names, abi::FUNCTIONS);
    }

    #[test]
    fn i32_arguments_are_read_as_unsigned() {
        assert_eq!(u32_arg(-1), u32::MAX);
        assert_eq!(u32_arg(0x7fff_ffff), 0x7fff_ffff);
        assert_eq!(u32_arg(i32::MIN as i64), 0x8000_0000);
    }
}
