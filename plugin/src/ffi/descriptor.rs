//! The plugin descriptor: the static tables WasmEdge's loader reads from
//! `WasmEdge_Plugin_GetDescriptor`. The loader calls that function several times per process (also
//! for `wasmedge --version` and `wasmedge compile`), so it only returns a pointer to data built at
//! compile time.

use super::module::create_module;
use super::sys;
use std::ffi::CStr;
use wasmedge_otel_abi::MODULE_NAME;

const PLUGIN_NAME: &CStr = c"wasmedge_otel";
const PLUGIN_DESCRIPTION: &CStr = c"OpenTelemetry traces for Wasm guests, exported over OTLP by the host";
const MODULE_DESCRIPTION: &CStr = c"Host functions of the wasmedge_otel ABI (see docs/ABI.md)";

// The C names must be the ABI's module name.
const _: () = assert!(PLUGIN_NAME.to_bytes().len() == MODULE_NAME.len());

/// Parses a decimal version component at compile time.
const fn parse(s: &str) -> u32 {
    let bytes = s.as_bytes();
    let mut i = 0;
    let mut n = 0u32;
    while i < bytes.len() {
        n = n * 10 + (bytes[i] - b'0') as u32;
        i += 1;
    }
    n
}

/// Immutable FFI tables. They hold raw pointers (to static strings and to each other) that
/// WasmEdge only reads, so sharing them between threads is sound.
#[repr(transparent)]
struct Shared<T>(T);
// SAFETY: the wrapped tables are never written after compile time; WasmEdge only reads them.
unsafe impl<T> Sync for Shared<T> {}

static MODULES: Shared<[sys::WasmEdge_ModuleDescriptor; 1]> = Shared([sys::WasmEdge_ModuleDescriptor {
    Name: PLUGIN_NAME.as_ptr(),
    Description: MODULE_DESCRIPTION.as_ptr(),
    Create: Some(create_module),
}]);

static PLUGIN: Shared<sys::WasmEdge_PluginDescriptor> = Shared(sys::WasmEdge_PluginDescriptor {
    Name: PLUGIN_NAME.as_ptr(),
    Description: PLUGIN_DESCRIPTION.as_ptr(),
    APIVersion: sys::WasmEdge_Plugin_CurrentAPIVersion,
    Version: sys::WasmEdge_PluginVersionData {
        Major: parse(env!("CARGO_PKG_VERSION_MAJOR")),
        Minor: parse(env!("CARGO_PKG_VERSION_MINOR")),
        Patch: parse(env!("CARGO_PKG_VERSION_PATCH")),
        Build: 0,
    },
    ModuleCount: 1,
    ProgramOptionCount: 0,
    ModuleDescriptions: MODULES.0.as_ptr().cast_mut(),
    ProgramOptions: std::ptr::null_mut(),
});

/// Entry point WasmEdge's plugin loader looks up in every shared library on its plugin path.
#[no_mangle]
pub extern "C" fn WasmEdge_Plugin_GetDescriptor() -> *const sys::WasmEdge_PluginDescriptor {
    &PLUGIN.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptor_names_the_abi_module_and_the_header_api_version() {
        let d = unsafe { &*WasmEdge_Plugin_GetDescriptor() };
        let name = unsafe { CStr::from_ptr(d.Name) };
        assert_eq!(name.to_str().unwrap(), MODULE_NAME);
        assert_eq!(d.APIVersion, 4, "WasmEdge 0.14.1 loads plugins of API version 4 only");
        assert_eq!(d.ModuleCount, 1);
        let module = unsafe { &*d.ModuleDescriptions };
        assert_eq!(unsafe { CStr::from_ptr(module.Name) }.to_str().unwrap(), MODULE_NAME);
        assert!(module.Create.is_some());
        assert_eq!(WasmEdge_Plugin_GetDescriptor(), WasmEdge_Plugin_GetDescriptor(), "static, idempotent");
    }
}
