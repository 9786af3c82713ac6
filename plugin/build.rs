//! Generates Rust bindings for the part of the WasmEdge C API the plugin uses, from the
//! `wasmedge.h` installed on this machine (Debian's `libwasmedge-dev` 0.14.1 by default), and links
//! `libwasmedge`. Generating from the header, rather than copying struct layouts by hand, means the
//! descriptor structs the loader reads can never drift from the runtime the plugin is built for.

use std::env;
use std::path::PathBuf;

/// Items the plugin calls or hands to WasmEdge; everything else in the header is left out.
const ALLOWED: &[&str] = &[
    "WasmEdge_PluginDescriptor",
    "WasmEdge_ModuleDescriptor",
    "WasmEdge_ProgramOption",
    "WasmEdge_PluginVersionData",
    "WasmEdge_Result",
    "WasmEdge_Value",
    "WasmEdge_ValType",
    "WasmEdge_String",
    "WasmEdge_VersionGet",
    "WasmEdge_Plugin_CurrentAPIVersion",
    "WasmEdge_ValTypeGenI32",
    "WasmEdge_ValTypeGenI64",
    "WasmEdge_ValTypeGenF64",
    "WasmEdge_ValueGenI32",
    "WasmEdge_ValueGenI64",
    "WasmEdge_ValueGetI32",
    "WasmEdge_ValueGetI64",
    "WasmEdge_ValueGetF64",
    "WasmEdge_ValueGenF64",
    "WasmEdge_StringCreateByCString",
    "WasmEdge_StringDelete",
    "WasmEdge_FunctionTypeCreate",
    "WasmEdge_FunctionTypeDelete",
    "WasmEdge_FunctionInstanceCreate",
    "WasmEdge_ModuleInstanceCreateWithData",
    "WasmEdge_ModuleInstanceAddFunction",
    "WasmEdge_ModuleInstanceGetModuleName",
    "WasmEdge_CallingFrameGetMemoryInstance",
    "WasmEdge_CallingFrameGetModuleInstance",
    "WasmEdge_MemoryInstanceGetPageSize",
    "WasmEdge_MemoryInstanceGetPointerConst",
    "WasmEdge_MemoryInstanceGetPointer",
];

fn main() {
    let include_dir = env::var("WASMEDGE_INCLUDE_DIR").unwrap_or_else(|_| "/usr/include".to_string());
    let lib_dir = env::var("WASMEDGE_LIB_DIR").unwrap_or_else(|_| "/usr/lib/x86_64-linux-gnu".to_string());
    let header = PathBuf::from(&include_dir).join("wasmedge/wasmedge.h");
    if !header.exists() {
        panic!(
            "WasmEdge C header not found at {}: run `make setup` (installs WasmEdge 0.14.1 and \
             libwasmedge-dev), or set WASMEDGE_INCLUDE_DIR to the directory holding wasmedge/wasmedge.h",
            header.display()
        );
    }
    println!("cargo:rerun-if-env-changed=WASMEDGE_INCLUDE_DIR");
    println!("cargo:rerun-if-env-changed=WASMEDGE_LIB_DIR");
    println!("cargo:rerun-if-changed={}", header.display());
    println!("cargo:rerun-if-changed=build.rs");

    let mut builder = bindgen::Builder::default()
        .header(header.to_string_lossy())
        .clang_arg(format!("-I{include_dir}"))
        .default_enum_style(bindgen::EnumVariation::Consts)
        .layout_tests(true)
        .derive_default(false);
    for item in ALLOWED {
        builder = builder.allowlist_item(item);
    }
    let bindings = builder.generate().unwrap_or_else(|e| {
        panic!("bindgen failed on {}: {e} (is libclang-dev installed? run `make setup`)", header.display())
    });
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("wasmedge_bindings.rs");
    bindings.write_to_file(&out).unwrap_or_else(|e| panic!("writing {}: {e}", out.display()));

    println!("cargo:rustc-link-search=native={lib_dir}");
    println!("cargo:rustc-link-lib=dylib=wasmedge");
}
