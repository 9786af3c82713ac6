//! The OpenTelemetry resource describing a `wasmedge` run.

use super::config::Config;
use opentelemetry::KeyValue;
use opentelemetry_sdk::resource::TelemetryResourceDetector;
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
pub fn build(config: &Config, info: &RuntimeInfo) -> Resource {
    let from_attributes =
        config.resource_attributes.iter().find(|(k, _)| k == "service.name").map(|(_, v)| v.clone());
    let service_name = config
        .service_name
        .clone()
        .or(from_attributes)
        .or_else(|| info.module_name.clone())
        .unwrap_or_else(|| "unknown_service:wasmedge".to_owned());
    let mut attributes: Vec<KeyValue> =
        config.resource_attributes.iter().map(|(k, v)| KeyValue::new(k.clone(), v.clone())).collect();
    attributes.push(KeyValue::new("process.runtime.name", "wasmedge"));
    attributes.push(KeyValue::new("process.runtime.version", info.wasmedge_version.clone()));
    if let Some(module) = &info.module_name {
        attributes.push(KeyValue::new("wasm.module.name", module.clone()));
    }
    // The environment was read once, by `Config`; only the SDK's own `telemetry.sdk.*` is detected.
    Resource::builder_empty()
        .with_detector(Box::new(TelemetryResourceDetector))
        .with_attributes(attributes)
        .with_service_name(service_name)
        .build()
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
        let r = build(&Config::default(), &info);
        assert_eq!(attr(&r, "service.name").as_deref(), Some("hello"));
        assert_eq!(attr(&r, "process.runtime.name").as_deref(), Some("wasmedge"));
        assert_eq!(attr(&r, "process.runtime.version").as_deref(), Some("0.14.1"));
        assert_eq!(attr(&r, "wasm.module.name").as_deref(), Some("hello"));
        assert_eq!(attr(&r, "telemetry.sdk.language").as_deref(), Some("rust"));

        let attrs = vec![("service.name".to_string(), "attrs".to_string()), ("team".into(), "core".into())];
        let config = Config { resource_attributes: attrs, ..Config::default() };
        let r = build(&config, &info);
        assert_eq!(attr(&r, "service.name").as_deref(), Some("attrs"));
        assert_eq!(attr(&r, "team").as_deref(), Some("core"));

        let config = Config { service_name: Some("svc".into()), ..config };
        assert_eq!(attr(&build(&config, &info), "service.name").as_deref(), Some("svc"));

        let r = build(&Config::default(), &RuntimeInfo::default());
        assert_eq!(attr(&r, "service.name").as_deref(), Some("unknown_service:wasmedge"));
    }
}
