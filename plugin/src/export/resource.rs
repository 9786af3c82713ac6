//! The OpenTelemetry resource describing a `wasmedge` run.

use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::Resource;
use std::ffi::OsString;
use std::path::Path;

/// Facts about the running WasmEdge process, gathered by the FFI layer.
#[derive(Clone, Debug, Default)]
pub struct RuntimeInfo {
    /// `WasmEdge_VersionGet()`, e.g. `0.14.1`.
    pub wasmedge_version: String,
    /// The guest module's name: the stem of the `.wasm` file run, when it can be told.
    pub module_name: Option<String>,
}

/// The guest's file stem from a `wasmedge` command line: the first argument after the program
/// naming a `.wasm`, `.aot` or `.so` file. `None` for embedders whose arguments name none.
pub fn module_name_from_args(args: impl IntoIterator<Item = OsString>) -> Option<String> {
    args.into_iter().skip(1).find_map(|arg| {
        let path = Path::new(&arg);
        let ext = path.extension()?.to_str()?;
        if matches!(ext, "wasm" | "aot" | "so") && !arg.to_string_lossy().starts_with('-') {
            Some(path.file_stem()?.to_string_lossy().into_owned())
        } else {
            None
        }
    })
}

/// Builds the resource: `telemetry.sdk.*`, `OTEL_RESOURCE_ATTRIBUTES`, the runtime and the module.
///
/// `service.name` is, in order: `OTEL_SERVICE_NAME`, `service.name` in
/// `OTEL_RESOURCE_ATTRIBUTES`, the guest's file stem, `unknown_service:wasmedge`.
pub fn build(info: &RuntimeInfo) -> Resource {
    // The default builder runs the SDK's detectors (telemetry.sdk.*, OTEL_RESOURCE_ATTRIBUTES,
    // OTEL_SERVICE_NAME); only the service name's fallbacks and precedence are ours.
    let service_name = std::env::var("OTEL_SERVICE_NAME")
        .ok()
        .filter(|s| !s.is_empty())
        .map(Value::from)
        .or_else(|| from_resource_attributes_env("service.name").map(Value::from))
        .or_else(|| info.module_name.clone().map(Value::from))
        .unwrap_or_else(|| Value::from("unknown_service:wasmedge"));
    let mut runtime = vec![
        KeyValue::new("process.runtime.name", "wasmedge"),
        KeyValue::new("process.runtime.version", info.wasmedge_version.clone()),
    ];
    if let Some(module) = &info.module_name {
        runtime.push(KeyValue::new("wasm.module.name", module.clone()));
    }
    Resource::builder().with_attributes(runtime).with_service_name(service_name).build()
}

fn from_resource_attributes_env(key: &str) -> Option<String> {
    let raw = std::env::var("OTEL_RESOURCE_ATTRIBUTES").ok()?;
    raw.split(',').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k.trim() == key).then(|| v.trim().to_owned()).filter(|v| !v.is_empty())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::Key;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    fn attr(r: &Resource, key: &str) -> Option<String> {
        r.get(&Key::from(key.to_owned())).map(|v| v.to_string())
    }

    #[test]
    fn module_name_is_the_first_wasm_argument() {
        assert_eq!(
            module_name_from_args(args(&["wasmedge", "--dir", ".:.", "app/hello.wasm", "x.wasm"])),
            Some("hello".into())
        );
        assert_eq!(
            module_name_from_args(args(&["wasmedge", "run", "hello_aot.so"])),
            Some("hello_aot".into())
        );
        assert_eq!(module_name_from_args(args(&["my-embedder", "--flag"])), None);
    }

    #[test]
    fn service_name_precedence() {
        let info = RuntimeInfo { wasmedge_version: "0.14.1".into(), module_name: Some("hello".into()) };
        temp_env::with_vars(
            [("OTEL_SERVICE_NAME", None::<&str>), ("OTEL_RESOURCE_ATTRIBUTES", None)],
            || {
                let r = build(&info);
                assert_eq!(attr(&r, "service.name").as_deref(), Some("hello"));
                assert_eq!(attr(&r, "process.runtime.name").as_deref(), Some("wasmedge"));
                assert_eq!(attr(&r, "process.runtime.version").as_deref(), Some("0.14.1"));
                assert_eq!(attr(&r, "wasm.module.name").as_deref(), Some("hello"));
                assert_eq!(attr(&r, "telemetry.sdk.language").as_deref(), Some("rust"));
            },
        );
        temp_env::with_vars(
            [
                ("OTEL_SERVICE_NAME", None::<&str>),
                ("OTEL_RESOURCE_ATTRIBUTES", Some("service.name=attrs,team=core")),
            ],
            || {
                let r = build(&info);
                assert_eq!(attr(&r, "service.name").as_deref(), Some("attrs"));
                assert_eq!(attr(&r, "team").as_deref(), Some("core"));
            },
        );
        temp_env::with_vars(
            [("OTEL_SERVICE_NAME", Some("svc")), ("OTEL_RESOURCE_ATTRIBUTES", Some("service.name=attrs"))],
            || assert_eq!(attr(&build(&info), "service.name").as_deref(), Some("svc")),
        );
        temp_env::with_vars(
            [("OTEL_SERVICE_NAME", None::<&str>), ("OTEL_RESOURCE_ATTRIBUTES", None)],
            || {
                let r = build(&RuntimeInfo::default());
                assert_eq!(attr(&r, "service.name").as_deref(), Some("unknown_service:wasmedge"));
            },
        );
    }
}
