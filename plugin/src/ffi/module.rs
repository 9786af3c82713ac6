//! The `wasmedge_otel` module instance: created by WasmEdge for each guest that may import it,
//! finalized when that guest is torn down (normal return, `proc_exit`, trap, `--time-limit`).
//!
//! The instance's data pointer is a `Box<Instance>`; every host function receives it back as
//! `Data`. The finalizer ends what the guest left open and flushes the export pipeline.

use super::sys::{self, WasmEdge_CallingFrameContext, WasmEdge_Result, WasmEdge_Value};
use super::{guest_memory, wasmedge_version};
use crate::core::guest_mem::GuestMemory;
use crate::core::host::{HostFn, HOST_FUNCTIONS};
use crate::core::instance::{Instance, InstanceLimits};
use crate::core::propagation;
use crate::export::{self, resource};
use std::ffi::{c_void, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::null_mut;
use wasmedge_otel_abi::{HostFunction, ValType, MODULE_NAME};

const SUCCESS: WasmEdge_Result = WasmEdge_Result { Code: 0x00 };
const FAIL: WasmEdge_Result = WasmEdge_Result { Code: 0x02 };

/// Most parameters any host function takes.
const MAX_PARAMS: usize = 10;
const _: () = {
    let mut i = 0;
    while i < HOST_FUNCTIONS.len() {
        assert!(HOST_FUNCTIONS[i].0.params.len() <= MAX_PARAMS);
        i += 1;
    }
};

fn val_type(ty: ValType) -> sys::WasmEdge_ValType {
    // SAFETY: plain constructors without preconditions.
    unsafe {
        match ty {
            ValType::I32 => sys::WasmEdge_ValTypeGenI32(),
            ValType::I64 => sys::WasmEdge_ValTypeGenI64(),
            ValType::F64 => sys::WasmEdge_ValTypeGenF64(),
        }
    }
}

fn new_instance() -> Instance {
    let source = Box::new(|| {
        export::global(|| resource::RuntimeInfo {
            wasmedge_version: wasmedge_version(),
            module_name: resource::module_name_from_args(std::env::args_os()),
        })
        .telemetry(propagation::root_from_env(
            export::config().propagators.contains(&export::config::Propagator::TraceContext),
        ))
    });
    let config = export::config();
    crate::core::host::set_debug(config.log_level == export::config::LogLevel::Debug);
    let limits = InstanceLimits {
        max_open_spans: config.plugin.max_open_spans,
        span_value_length: config.traces.limits.attribute_value_length.map(|n| n as usize),
        log_value_length: config.logs.limits.attribute_value_length.map(|n| n as usize),
        log_attribute_count: config.logs.limits.attribute_count as usize,
        func_min_duration: config.plugin.func_min_duration,
    };
    let instance = Instance::new(source, limits);
    export::runtime_metrics::register(instance.stats());
    instance
}

/// `Create` callback of the module descriptor.
pub(super) unsafe extern "C" fn create_module(
    _descriptor: *const sys::WasmEdge_ModuleDescriptor,
) -> *mut sys::WasmEdge_ModuleInstanceContext {
    catch_unwind(|| {
        // Cheap by design: no runtime, exporter or thread starts until the first host call.
        let data = Box::into_raw(Box::new(new_instance())).cast::<c_void>();
        let name = CString::new(MODULE_NAME).expect("module name has no NUL");
        let module = unsafe {
            let name = sys::WasmEdge_StringCreateByCString(name.as_ptr());
            let module = sys::WasmEdge_ModuleInstanceCreateWithData(name, data, Some(finalize));
            sys::WasmEdge_StringDelete(name);
            module
        };
        if module.is_null() {
            // SAFETY: WasmEdge did not take ownership of `data`.
            drop(unsafe { Box::from_raw(data.cast::<Instance>()) });
            return null_mut();
        }
        for (index, (function, _)) in HOST_FUNCTIONS.iter().enumerate() {
            // SAFETY: `module` is the live instance created above; `data` outlives it (freed by
            // `finalize`, which WasmEdge calls when the module instance is deleted).
            unsafe { add_function(module, function, TRAMPOLINES[index], data) };
        }
        module
    })
    .unwrap_or_else(|_| {
        eprintln!("wasmedge_otel: creating the module instance failed; its imports are unavailable");
        null_mut()
    })
}

unsafe fn add_function(
    module: *mut sys::WasmEdge_ModuleInstanceContext,
    function: &HostFunction,
    trampoline: Trampoline,
    data: *mut c_void,
) {
    let params: Vec<_> = function.params.iter().map(|p| val_type(p.ty)).collect();
    let results = [val_type(function.result)];
    let ty = sys::WasmEdge_FunctionTypeCreate(params.as_ptr(), params.len() as u32, results.as_ptr(), 1);
    let instance = sys::WasmEdge_FunctionInstanceCreate(ty, Some(trampoline), data, 0);
    sys::WasmEdge_FunctionTypeDelete(ty);
    let name = CString::new(function.name).expect("function names have no NUL");
    let name = sys::WasmEdge_StringCreateByCString(name.as_ptr());
    sys::WasmEdge_ModuleInstanceAddFunction(module, name, instance);
    sys::WasmEdge_StringDelete(name);
}

/// Finalizer of the module instance: the guest is gone, so end its open spans and flush.
unsafe extern "C" fn finalize(data: *mut c_void) {
    if data.is_null() {
        return;
    }
    // SAFETY: `data` is the Box<Instance> leaked in `create_module`; WasmEdge calls the finalizer once.
    let instance = unsafe { Box::from_raw(data.cast::<Instance>()) };
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        instance.close();
        // Only the last instance flushes (and reports losses): an embedder tearing down one of
        // many guests must not wait on the network, and the batch processors export in the
        // background meanwhile. The CLI has one instance, so its run always ends flushed.
        let last = export::runtime_metrics::live_instances() <= 1;
        if let (Some(pipeline), true) = (export::started(), last) {
            // Still registered, so the final collection reports this instance's runtime metrics.
            pipeline.flush();
            pipeline.report_losses();
        }
        export::runtime_metrics::unregister(instance.stats());
    }));
    if outcome.is_err() {
        eprintln!("wasmedge_otel: flushing telemetry at exit failed; some of it may be lost");
    }
}

type Trampoline = unsafe extern "C" fn(
    *mut c_void,
    *const WasmEdge_CallingFrameContext,
    *const WasmEdge_Value,
    *mut WasmEdge_Value,
) -> WasmEdge_Result;

/// Host function `I` of [`HOST_FUNCTIONS`]: reads the arguments its signature names, borrows the
/// guest's memory if it takes pointers, and runs the safe body.
unsafe extern "C" fn trampoline<const I: usize>(
    data: *mut c_void,
    frame: *const WasmEdge_CallingFrameContext,
    input: *const WasmEdge_Value,
    output: *mut WasmEdge_Value,
) -> WasmEdge_Result {
    let (function, body): &(HostFunction, HostFn) = &HOST_FUNCTIONS[I];
    let call = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: WasmEdge passes the data pointer registered in `create_module`, alive until
        // `finalize`, and `input`/`output` arrays of the registered signature's arity.
        unsafe {
            let instance = &*data.cast::<Instance>();
            instance.stats().count_call();
            let mut args = [0i64; MAX_PARAMS];
            for (k, param) in function.params.iter().enumerate() {
                let value = *input.add(k);
                args[k] = match param.ty {
                    ValType::I32 => sys::WasmEdge_ValueGetI32(value) as i64,
                    ValType::I64 => sys::WasmEdge_ValueGetI64(value),
                    ValType::F64 => sys::WasmEdge_ValueGetF64(value).to_bits() as i64,
                };
            }
            let mut memory = if TAKES_POINTERS[I] {
                let memory = guest_memory(frame);
                instance.stats().observe_memory(memory.size());
                memory
            } else {
                GuestMemory::empty()
            };
            let result = body(instance, &mut memory, &args[..function.params.len()]);
            *output = match function.result {
                ValType::I32 => sys::WasmEdge_ValueGenI32(result as i32),
                ValType::I64 => sys::WasmEdge_ValueGenI64(result),
                ValType::F64 => sys::WasmEdge_ValueGenF64(f64::from_bits(result as u64)),
            };
        }
    }));
    match call {
        Ok(()) => SUCCESS,
        Err(_) => {
            eprintln!("wasmedge_otel: host function {} panicked; the guest is stopped", function.name);
            FAIL
        }
    }
}

/// Whether host function `i` takes a guest pointer (and so needs the guest's memory), decided
/// once at compile time rather than on every call.
const TAKES_POINTERS: [bool; HOST_FUNCTIONS.len()] = {
    let mut out = [false; HOST_FUNCTIONS.len()];
    let mut i = 0;
    while i < HOST_FUNCTIONS.len() {
        let params = HOST_FUNCTIONS[i].0.params;
        let mut k = 0;
        while k < params.len() {
            let name = params[k].name.as_bytes();
            let n = name.len();
            if n >= 4
                && name[n - 4] == b'_'
                && name[n - 3] == b'p'
                && name[n - 2] == b't'
                && name[n - 1] == b'r'
            {
                out[i] = true;
            }
            k += 1;
        }
        i += 1;
    }
    out
};

/// One trampoline per entry of [`HOST_FUNCTIONS`], by index.
const TRAMPOLINES: [Trampoline; 21] = [
    trampoline::<0>,
    trampoline::<1>,
    trampoline::<2>,
    trampoline::<3>,
    trampoline::<4>,
    trampoline::<5>,
    trampoline::<6>,
    trampoline::<7>,
    trampoline::<8>,
    trampoline::<9>,
    trampoline::<10>,
    trampoline::<11>,
    trampoline::<12>,
    trampoline::<13>,
    trampoline::<14>,
    trampoline::<15>,
    trampoline::<16>,
    trampoline::<17>,
    trampoline::<18>,
    trampoline::<19>,
    trampoline::<20>,
];
const _: () = assert!(TRAMPOLINES.len() == HOST_FUNCTIONS.len(), "one trampoline per host function");
