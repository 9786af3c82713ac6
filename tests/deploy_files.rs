//! The deployment files of `deploy/` checked as far as this machine can (no Docker engine, no
//! Kubernetes cluster): every YAML file parses, and parses the same with a real YAML parser
//! (PyYAML, `python3-yaml`); the Compose service runs on the Wasm platform and runtime and reaches
//! the collector, which reaches Jaeger; the collector configuration names only components of the
//! contrib distribution and every pipeline refers to defined ones; the Kubernetes manifests agree
//! with each other (runtime class, node labels, plugin directory, labels, resource limits); the
//! Dockerfiles copy files the build produces; and every `OTEL_*` variable used is documented in
//! docs/configuration.md.
//!
//! The YAML reader below accepts the block subset of YAML these files use (mappings, sequences,
//! flow sequences of scalars, `{}`, quoted and plain scalars, several documents) and refuses the
//! rest, so a file that drifts outside that subset fails loudly instead of being misread.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn deploy(rel: &str) -> PathBuf {
    repo().join("deploy").join(rel)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

// ---------------------------------------------------------------------------------------------
// A small YAML reader.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq)]
enum Y {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Y>),
    Map(Vec<(String, Y)>),
}

impl Y {
    fn get(&self, key: &str) -> Option<&Y> {
        match self {
            Y::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The value at a dotted path of mapping keys; panics with the path when missing.
    fn at(&self, path: &str) -> &Y {
        path.split('.')
            .fold(self, |v, key| v.get(key).unwrap_or_else(|| panic!("no {path:?} (at {key:?}) in {self:?}")))
    }

    fn str(&self) -> &str {
        match self {
            Y::Str(s) => s,
            other => panic!("expected a string, got {other:?}"),
        }
    }

    fn seq(&self) -> &[Y] {
        match self {
            Y::Seq(v) => v,
            other => panic!("expected a sequence, got {other:?}"),
        }
    }

    fn map(&self) -> &[(String, Y)] {
        match self {
            Y::Map(v) => v,
            other => panic!("expected a mapping, got {other:?}"),
        }
    }

    fn strs(&self) -> Vec<&str> {
        self.seq().iter().map(Y::str).collect()
    }

    fn keys(&self) -> Vec<&str> {
        self.map().iter().map(|(k, _)| k.as_str()).collect()
    }
}

struct Line {
    number: usize,
    indent: usize,
    text: String,
}

/// Removes a comment: `#` at the start or after a space, outside quotes.
fn strip_comment(line: &str) -> &str {
    let (mut single, mut double, mut prev) = (false, false, ' ');
    for (i, c) in line.char_indices() {
        match c {
            '\'' if !double => single = !single,
            '"' if !single => double = !double,
            '#' if !single && !double && (prev == ' ' || prev == '\t' || i == 0) => {
                return line[..i].trim_end()
            }
            _ => {}
        }
        prev = c;
    }
    line.trim_end()
}

/// The documents of a YAML file.
fn parse_yaml(source: &str) -> Result<Vec<Y>, String> {
    let mut docs = vec![Vec::new()];
    for (n, raw) in source.lines().enumerate() {
        if raw.contains('\t') {
            return Err(format!("line {}: tab character", n + 1));
        }
        if raw.trim_end() == "---" {
            docs.push(Vec::new());
            continue;
        }
        let text = strip_comment(raw);
        if text.trim().is_empty() {
            continue;
        }
        let indent = text.len() - text.trim_start().len();
        docs.last_mut().unwrap().push(Line { number: n + 1, indent, text: text.trim_start().to_owned() });
    }
    docs.into_iter()
        .filter(|d| !d.is_empty())
        .map(|mut lines| {
            let mut i = 0;
            let indent = lines[0].indent;
            let v = block(&mut lines, &mut i, indent)?;
            match lines.get(i) {
                Some(l) => Err(format!("line {}: unexpected indentation", l.number)),
                None => Ok(v),
            }
        })
        .collect()
}

fn is_item(text: &str) -> bool {
    text == "-" || text.starts_with("- ")
}

fn block(lines: &mut Vec<Line>, i: &mut usize, indent: usize) -> Result<Y, String> {
    if is_item(&lines[*i].text) {
        sequence(lines, i, indent)
    } else {
        mapping(lines, i, indent)
    }
}

fn sequence(lines: &mut Vec<Line>, i: &mut usize, indent: usize) -> Result<Y, String> {
    let mut items = Vec::new();
    while *i < lines.len() && lines[*i].indent == indent && is_item(&lines[*i].text) {
        let rest = lines[*i].text[1..].trim_start().to_owned();
        if rest.is_empty() {
            *i += 1;
            match lines.get(*i) {
                Some(next) if next.indent > indent => {
                    let inner = next.indent;
                    items.push(block(lines, i, inner)?);
                }
                _ => items.push(Y::Null),
            }
        } else if split_key(&rest).is_some() && !rest.starts_with(['"', '\'', '[', '{']) {
            // `- key: value`: a mapping whose first line starts where `key` does.
            let inner = indent + (lines[*i].text.len() - rest.len());
            lines[*i].indent = inner;
            lines[*i].text = rest;
            items.push(mapping(lines, i, inner)?);
        } else {
            items.push(inline(&rest, lines[*i].number)?);
            *i += 1;
        }
    }
    Ok(Y::Seq(items))
}

/// Splits `key: value` (or `key:`) outside quotes; the key may be quoted.
fn split_key(text: &str) -> Option<(String, String)> {
    let (mut single, mut double) = (false, false);
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    for (n, &(i, c)) in chars.iter().enumerate() {
        match c {
            '\'' if !double => single = !single,
            '"' if !single => double = !double,
            ':' if !single && !double => {
                let next = chars.get(n + 1).map(|&(_, c)| c);
                if next.is_none() || next == Some(' ') {
                    let key = text[..i].trim();
                    let key = if key.len() >= 2 && (key.starts_with('"') || key.starts_with('\'')) {
                        key[1..key.len() - 1].to_owned()
                    } else {
                        key.to_owned()
                    };
                    return Some((key, text[i + 1..].trim().to_owned()));
                }
            }
            _ => {}
        }
    }
    None
}

fn mapping(lines: &mut Vec<Line>, i: &mut usize, indent: usize) -> Result<Y, String> {
    let mut entries: Vec<(String, Y)> = Vec::new();
    while *i < lines.len() && lines[*i].indent == indent && !is_item(&lines[*i].text) {
        let number = lines[*i].number;
        let (key, value) =
            split_key(&lines[*i].text).ok_or_else(|| format!("line {number}: expected `key: value`"))?;
        if matches!(plain(&key, number)?, Y::Bool(_) | Y::Null) {
            return Err(format!("line {number}: key {key:?} is not a string in YAML 1.1: quote it"));
        }
        if entries.iter().any(|(k, _)| *k == key) {
            return Err(format!("line {number}: duplicate key {key:?}"));
        }
        *i += 1;
        let v = if !value.is_empty() {
            inline(&value, number)?
        } else {
            match lines.get(*i) {
                Some(next) if next.indent > indent => {
                    let inner = next.indent;
                    block(lines, i, inner)?
                }
                Some(next) if next.indent == indent && is_item(&next.text) => sequence(lines, i, indent)?,
                _ => Y::Null,
            }
        };
        entries.push((key, v));
    }
    if let Some(l) = lines.get(*i) {
        if l.indent > indent {
            return Err(format!("line {}: unexpected indentation", l.number));
        }
    }
    Ok(Y::Map(entries))
}

/// A value on one line: a quoted or plain scalar, a flow sequence of scalars, or `{}`.
fn inline(text: &str, number: usize) -> Result<Y, String> {
    let text = text.trim();
    if text.starts_with(['|', '>', '&', '*', '!', '%', '@', '`']) {
        return Err(format!("line {number}: {text:?} is outside the YAML subset read here"));
    }
    if text == "{}" {
        return Ok(Y::Map(Vec::new()));
    }
    if text.starts_with('{') {
        return Err(format!("line {number}: flow mappings other than {{}} are not read here"));
    }
    if let Some(inner) = text.strip_prefix('[') {
        let inner = inner.strip_suffix(']').ok_or_else(|| format!("line {number}: unterminated ["))?;
        if inner.trim().is_empty() {
            return Ok(Y::Seq(Vec::new()));
        }
        let mut items = Vec::new();
        let (mut single, mut double, mut start) = (false, false, 0);
        for (i, c) in inner.char_indices().chain([(inner.len(), ',')]) {
            match c {
                '\'' if !double => single = !single,
                '"' if !single => double = !double,
                '[' | ']' | '{' | '}' if !single && !double => {
                    return Err(format!("line {number}: nested flow collections are not read here"))
                }
                ',' if !single && !double => {
                    items.push(scalar(inner[start..i].trim(), number)?);
                    start = i + 1;
                }
                _ => {}
            }
        }
        return Ok(Y::Seq(items));
    }
    scalar(text, number)
}

fn scalar(text: &str, number: usize) -> Result<Y, String> {
    if let Some(body) = text.strip_prefix('"') {
        let body = body.strip_suffix('"').ok_or_else(|| format!("line {number}: unterminated \""))?;
        let mut out = String::new();
        let mut chars = body.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('\\') => out.push('\\'),
                Some('"') => out.push('"'),
                other => return Err(format!("line {number}: escape \\{other:?} is not read here")),
            }
        }
        return Ok(Y::Str(out));
    }
    if let Some(body) = text.strip_prefix('\'') {
        let body = body.strip_suffix('\'').ok_or_else(|| format!("line {number}: unterminated '"))?;
        return Ok(Y::Str(body.replace("''", "'")));
    }
    plain(text, number)
}

/// A plain scalar, typed as YAML 1.1 (PyYAML) types it; forms where YAML 1.1 and 1.2 disagree
/// (yes/no/on/off, sexagesimal numbers, octal) are refused: quote them.
fn plain(text: &str, number: usize) -> Result<Y, String> {
    let is_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Ok(Y::Null),
        "true" | "True" | "TRUE" => return Ok(Y::Bool(true)),
        "false" | "False" | "FALSE" => return Ok(Y::Bool(false)),
        _ => {}
    }
    let lower = text.to_ascii_lowercase();
    if ["yes", "no", "on", "off", "y", "n"].contains(&lower.as_str()) {
        return Err(format!("line {number}: {text:?} is a boolean in YAML 1.1 only: quote it"));
    }
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    if unsigned.split(':').count() > 1 && unsigned.split(':').all(is_digits) {
        return Err(format!("line {number}: {text:?} is a base-60 number in YAML 1.1: quote it"));
    }
    if is_digits(unsigned) {
        if unsigned.len() > 1 && unsigned.starts_with('0') {
            return Err(format!("line {number}: {text:?} is octal in YAML 1.1: quote it"));
        }
        return text.parse().map(Y::Int).map_err(|e| format!("line {number}: {e}"));
    }
    if let Some((a, b)) = unsigned.split_once('.') {
        if is_digits(a) && is_digits(b) {
            return text.parse().map(Y::Float).map_err(|e| format!("line {number}: {e}"));
        }
    }
    if text.starts_with(['[', ']', '{', '}', ',', '?', '"', '\''])
        || text.contains(": ")
        || text.contains(" #")
    {
        return Err(format!("line {number}: {text:?} is not a plain scalar read here"));
    }
    Ok(Y::Str(text.to_owned()))
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\n', "\\n").replace('\t', "\\t")
}

/// One line per leaf, `path<TAB>type:value`, in document order (the same as the Python below).
fn flatten(path: &str, v: &Y, out: &mut Vec<String>) {
    match v {
        Y::Map(entries) if entries.is_empty() => out.push(format!("{path}\t{{}}")),
        Y::Map(entries) => {
            entries.iter().for_each(|(k, x)| flatten(&format!("{path}.{}", escape(k)), x, out))
        }
        Y::Seq(items) if items.is_empty() => out.push(format!("{path}\t[]")),
        Y::Seq(items) => items.iter().enumerate().for_each(|(i, x)| flatten(&format!("{path}[{i}]"), x, out)),
        Y::Null => out.push(format!("{path}\tnull")),
        Y::Bool(b) => out.push(format!("{path}\tbool:{b}")),
        Y::Int(n) => out.push(format!("{path}\tint:{n}")),
        Y::Float(f) => out.push(format!("{path}\tfloat:{f:?}")),
        Y::Str(s) => out.push(format!("{path}\tstr:{}", escape(s))),
    }
}

const PYTHON_FLATTEN: &str = r#"
import sys, yaml
def esc(s): return s.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t")
def walk(path, v, out):
    if isinstance(v, dict):
        if not v: out.append(path + "\t{}")
        for k, x in v.items(): walk(path + "." + esc(str(k)), x, out)
    elif isinstance(v, list):
        if not v: out.append(path + "\t[]")
        for i, x in enumerate(v): walk("%s[%d]" % (path, i), x, out)
    elif v is None: out.append(path + "\tnull")
    elif isinstance(v, bool): out.append(path + "\tbool:" + ("true" if v else "false"))
    elif isinstance(v, int): out.append(path + "\tint:%d" % v)
    elif isinstance(v, float): out.append(path + "\tfloat:" + repr(v))
    else: out.append(path + "\tstr:" + esc(v))
out = []
with open(sys.argv[1], encoding="utf-8") as f:
    docs = [d for d in yaml.safe_load_all(f) if d is not None]
for i, doc in enumerate(docs):
    walk("doc%d" % i, doc, out)
sys.stdout.write("\n".join(out) + "\n")
"#;

/// Every YAML file of deploy/, parsed.
fn yaml_files() -> Vec<(PathBuf, Vec<Y>)> {
    let mut files = Vec::new();
    for dir in [deploy(""), deploy("k8s")] {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")) {
                let docs = parse_yaml(&read(&path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                files.push((path, docs));
            }
        }
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    files
}

fn docs_of(rel: &str) -> Vec<Y> {
    yaml_files().into_iter().find(|(p, _)| p.ends_with(rel)).unwrap_or_else(|| panic!("deploy/{rel}")).1
}

fn one_doc(rel: &str) -> Y {
    let mut docs = docs_of(rel);
    assert_eq!(docs.len(), 1, "deploy/{rel} is one document");
    docs.remove(0)
}

// ---------------------------------------------------------------------------------------------
// Tests.
// ---------------------------------------------------------------------------------------------

#[test]
fn every_yaml_file_parses_and_a_real_yaml_parser_reads_it_the_same() {
    let files = yaml_files();
    let names: Vec<_> =
        files.iter().map(|(p, _)| p.strip_prefix(repo()).unwrap().display().to_string()).collect();
    for expected in
        ["deploy/docker-compose.yml", "deploy/otel-collector-config.yaml", "deploy/k8s/deployment.yaml"]
    {
        assert!(names.iter().any(|n| n == expected), "{expected} exists: {names:?}");
    }
    for (path, docs) in &files {
        let mut ours = Vec::new();
        for (i, doc) in docs.iter().enumerate() {
            flatten(&format!("doc{i}"), doc, &mut ours);
        }
        let out = Command::new("python3").arg("-c").arg(PYTHON_FLATTEN).arg(path).output().unwrap_or_else(|e| {
            panic!("cannot run python3 ({e}): the YAML cross-check needs python3 and python3-yaml (`make setup`)")
        });
        assert!(
            out.status.success(),
            "PyYAML refuses {} (or python3-yaml is missing: `make setup`): {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let theirs: Vec<String> = String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect();
        assert_eq!(ours, theirs, "{}: this reader and PyYAML disagree", path.display());
    }
}

#[test]
fn compose_runs_the_wasm_service_on_the_wasmedge_runtime_and_wires_collector_and_jaeger() {
    let compose = one_doc("docker-compose.yml");
    let services = compose.at("services");
    let names = services.keys();
    for name in ["http-service", "otel-collector", "jaeger"] {
        assert!(names.contains(&name), "service {name}: {names:?}");
    }

    let wasm = services.at("http-service");
    assert_eq!(wasm.at("platform").str(), "wasi/wasm");
    assert_eq!(wasm.at("runtime").str(), "io.containerd.wasmedge.v1");
    assert_eq!(wasm.at("build.platforms").strs(), ["wasi/wasm"]);
    assert_eq!(wasm.at("build.dockerfile").str(), "deploy/Dockerfile");
    assert_eq!(wasm.at("build.context").str(), "..", "built from the repository root");
    // Guest arguments make it listen on the container's interfaces, on the published port.
    let args = wasm.at("command").strs();
    assert_eq!(args, ["--listen", "0.0.0.0:8080"]);
    assert_eq!(wasm.at("ports").strs(), ["8080:8080"]);

    // The plugin directory named in WASMEDGE_PLUGIN_PATH is the one mounted.
    let plugin_path = wasm.at("environment.WASMEDGE_PLUGIN_PATH").str();
    assert!(
        wasm.at("volumes").strs().iter().any(|v| v.split(':').nth(1) == Some(plugin_path)),
        "a volume is mounted at {plugin_path}"
    );
    assert!(
        wasm.at("volumes").strs().iter().any(|v| v.starts_with("../target/plugin:")),
        "the plugin built by `make plugin`"
    );

    let collector = services.at("otel-collector");
    assert!(collector.at("image").str().starts_with("otel/opentelemetry-collector-contrib:"));
    let config_arg = collector
        .at("command")
        .strs()
        .into_iter()
        .find_map(|a| a.strip_prefix("--config="))
        .expect("--config=");
    let mount = collector
        .at("volumes")
        .strs()
        .into_iter()
        .find(|v| v.split(':').nth(1) == Some(config_arg))
        .expect("config mounted");
    assert_eq!(mount.split(':').next(), Some("./otel-collector-config.yaml"));
    assert!(collector.at("ports").strs().contains(&"4317:4317"));

    let jaeger = services.at("jaeger");
    assert!(jaeger.at("image").str().starts_with("jaegertracing/all-in-one:"));
    assert_eq!(jaeger.at("environment.COLLECTOR_OTLP_ENABLED").str(), "true");
    assert!(jaeger.at("ports").strs().contains(&"16686:16686"), "the Jaeger UI");

    // Every OTLP endpoint of a Wasm service names the collector service and a port its OTLP
    // receiver listens on for the chosen protocol; every depends_on names a service.
    let config = one_doc("otel-collector-config.yaml");
    let grpc_port =
        config.at("receivers.otlp.protocols.grpc.endpoint").str().rsplit(':').next().unwrap().to_owned();
    let http_port =
        config.at("receivers.otlp.protocols.http.endpoint").str().rsplit(':').next().unwrap().to_owned();
    for (name, service) in services.map() {
        if let Some(env) = service.get("environment") {
            if let Some(endpoint) = env.get("OTEL_EXPORTER_OTLP_ENDPOINT") {
                let protocol = env.get("OTEL_EXPORTER_OTLP_PROTOCOL").map_or("grpc", Y::str);
                let port = if protocol == "grpc" { &grpc_port } else { &http_port };
                assert_eq!(
                    endpoint.str(),
                    format!("http://otel-collector:{port}"),
                    "{name}: endpoint for {protocol}"
                );
            }
        }
        if let Some(deps) = service.get("depends_on") {
            for dep in deps.strs() {
                assert!(names.contains(&dep), "{name} depends on {dep}, a service");
            }
        }
    }
    // The collector's Jaeger exporter names the Jaeger service on its OTLP/gRPC port.
    assert_eq!(config.at("exporters.otlp/jaeger.endpoint").str(), "jaeger:4317");
}

/// Components of otel/opentelemetry-collector-contrib these files may use (a deliberately short,
/// known list).
const RECEIVERS: &[&str] = &["otlp"];
const PROCESSORS: &[&str] = &["batch", "memory_limiter"];
const EXPORTERS: &[&str] = &["otlp", "otlphttp", "debug"];

#[test]
fn collector_config_uses_known_components_and_consistent_pipelines() {
    let config = one_doc("otel-collector-config.yaml");
    let mut defined = BTreeSet::new();
    for (section, known) in [("receivers", RECEIVERS), ("processors", PROCESSORS), ("exporters", EXPORTERS)] {
        for id in config.at(section).keys() {
            let ty = id.split('/').next().unwrap();
            assert!(known.contains(&ty), "{section}: {id} ({ty}) is not one of {known:?}");
            defined.insert((section, id.to_owned()));
        }
    }
    assert!(
        config.get("extensions").is_none() && config.at("service").get("extensions").is_none(),
        "no extensions"
    );
    let pipelines = config.at("service.pipelines");
    assert_eq!(pipelines.keys(), ["traces", "metrics", "logs"]);
    let mut used = BTreeSet::new();
    for (name, pipeline) in pipelines.map() {
        assert_eq!(pipeline.keys(), ["receivers", "processors", "exporters"], "{name}");
        for section in ["receivers", "processors", "exporters"] {
            let ids = pipeline.at(section).strs();
            assert!(!ids.is_empty() || section == "processors", "{name}: {section}");
            for id in ids {
                assert!(
                    defined.contains(&(section, id.to_owned())),
                    "pipeline {name}: {section} {id} is defined"
                );
                used.insert((section, id.to_owned()));
            }
        }
        // memory_limiter first, batch last, as the collector's documentation recommends.
        let processors = pipeline.at("processors").strs();
        assert_eq!(processors.first(), Some(&"memory_limiter"), "{name}");
        assert_eq!(processors.last(), Some(&"batch"), "{name}");
    }
    assert_eq!(defined, used, "every defined component is used");
    assert!(pipelines.at("traces.exporters").strs().contains(&"otlp/jaeger"), "traces reach Jaeger");
    for (id, exporter) in config.at("exporters").map() {
        if id.split('/').next() == Some("otlp") {
            assert!(exporter.get("endpoint").is_some(), "{id} has an endpoint");
        }
    }
}

fn find_kind<'a>(docs: &'a [Y], kind: &str) -> &'a Y {
    docs.iter().find(|d| d.get("kind").map(Y::str) == Some(kind)).unwrap_or_else(|| panic!("a {kind}"))
}

#[test]
fn kubernetes_manifests_agree_with_each_other() {
    let files = yaml_files();
    let k8s: Vec<(String, Vec<Y>)> = files
        .iter()
        .filter(|(p, _)| p.parent().unwrap().ends_with("deploy/k8s"))
        .map(|(p, d)| (p.file_name().unwrap().to_string_lossy().into_owned(), d.clone()))
        .collect();
    let all: Vec<Y> =
        k8s.iter().filter(|(n, _)| n != "kustomization.yaml").flat_map(|(_, d)| d.clone()).collect();
    for doc in &all {
        assert!(doc.get("apiVersion").is_some() && doc.get("kind").is_some(), "{doc:?}");
    }

    // kustomization.yaml lists every other manifest.
    let kustomization =
        &k8s.iter().find(|(n, _)| n == "kustomization.yaml").expect("kustomization.yaml").1[0];
    let mut listed = kustomization.at("resources").strs();
    listed.sort();
    let mut present: Vec<&str> =
        k8s.iter().map(|(n, _)| n.as_str()).filter(|n| *n != "kustomization.yaml").collect();
    present.sort();
    assert_eq!(listed, present);

    let runtime_class = find_kind(&all, "RuntimeClass");
    assert_eq!(runtime_class.at("apiVersion").str(), "node.k8s.io/v1");
    assert_eq!(runtime_class.at("handler").str(), "wasmedge");
    let node_selector = runtime_class.at("scheduling.nodeSelector");

    let deployment = find_kind(&all, "Deployment");
    let pod = deployment.at("spec.template.spec");
    assert_eq!(pod.at("runtimeClassName").str(), runtime_class.at("metadata.name").str());
    assert_eq!(deployment.at("spec.selector.matchLabels"), deployment.at("spec.template.metadata.labels"));
    let container = &pod.at("containers").seq()[0];
    for resource in ["cpu", "memory"] {
        container.at("resources.limits").at(resource);
        container.at("resources.requests").at(resource);
    }
    let env: Vec<(&str, Option<&str>)> =
        container.at("env").seq().iter().map(|e| (e.at("name").str(), e.get("value").map(Y::str))).collect();
    let value = |name: &str| {
        env.iter().find(|(n, _)| *n == name).and_then(|(_, v)| *v).unwrap_or_else(|| panic!("env {name}"))
    };
    for name in [
        "OTEL_SERVICE_NAME",
        "OTEL_RESOURCE_ATTRIBUTES",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
    ] {
        value(name);
    }
    assert!(["grpc", "http/protobuf"].contains(&value("OTEL_EXPORTER_OTLP_PROTOCOL")));
    let endpoint = value("OTEL_EXPORTER_OTLP_ENDPOINT");
    let expected_port = if value("OTEL_EXPORTER_OTLP_PROTOCOL") == "grpc" { ":4317" } else { ":4318" };
    assert!(endpoint.starts_with("http://") && endpoint.ends_with(expected_port), "{endpoint}");
    // $(VAR) references in values name variables defined earlier in the list.
    for (i, (name, v)) in env.iter().enumerate() {
        let mut rest = v.unwrap_or("");
        while let Some(start) = rest.find("$(") {
            let end = rest[start..].find(')').expect("closing )") + start;
            let var = &rest[start + 2..end];
            assert!(env[..i].iter().any(|(n, _)| *n == var), "{name} uses $({var}), defined before it");
            rest = &rest[end..];
        }
    }

    // The plugin: WASMEDGE_PLUGIN_PATH is the mount path of a hostPath volume of the directory the
    // DaemonSet fills, on the nodes the runtime class selects.
    let plugin_path = value("WASMEDGE_PLUGIN_PATH");
    let mount = container
        .at("volumeMounts")
        .seq()
        .iter()
        .find(|m| m.at("mountPath").str() == plugin_path)
        .expect("mounted");
    assert_eq!(mount.at("readOnly"), &Y::Bool(true));
    let volume_name = mount.at("name").str();
    let volume = pod.at("volumes").seq().iter().find(|v| v.at("name").str() == volume_name).expect("volume");
    let host_dir = volume.at("hostPath.path").str();

    let daemonset = find_kind(&all, "DaemonSet");
    let ds_pod = daemonset.at("spec.template.spec");
    assert_eq!(ds_pod.at("nodeSelector"), node_selector, "the DaemonSet serves the runtime class's nodes");
    assert_eq!(daemonset.at("spec.selector.matchLabels"), daemonset.at("spec.template.metadata.labels"));
    let ds_volume =
        ds_pod.at("volumes").seq().iter().find(|v| v.get("hostPath").is_some()).expect("hostPath volume");
    assert_eq!(ds_volume.at("hostPath.path").str(), host_dir, "the DaemonSet writes where the pods read");
    let init = &ds_pod.at("initContainers").seq()[0];
    let ds_mount = init
        .at("volumeMounts")
        .seq()
        .iter()
        .find(|m| m.at("name").str() == ds_volume.at("name").str())
        .unwrap();
    let script = init.at("command").strs().join(" ");
    let target = format!("{}/libwasmedge_otel.so", ds_mount.at("mountPath").str());
    assert!(script.contains("mv -f ") && script.contains(&target), "atomic copy to {target}: {script}");
    for c in ds_pod.at("initContainers").seq().iter().chain(ds_pod.at("containers").seq()) {
        c.at("resources.limits.memory");
    }

    // The Service selects the Deployment's pods, on a port the container names.
    let service = find_kind(&all, "Service");
    assert_eq!(service.at("spec.selector"), deployment.at("spec.template.metadata.labels"));
    let target_port = service.at("spec.ports").seq()[0].at("targetPort").str();
    assert!(container.at("ports").seq().iter().any(|p| p.at("name").str() == target_port));
    for doc in all.iter().filter(|d| !matches!(d.at("kind").str(), "Namespace" | "RuntimeClass")) {
        assert_eq!(
            doc.at("metadata.namespace").str(),
            find_kind(&all, "Namespace").at("metadata.name").str()
        );
    }
}

/// `KEY value` instructions of a Dockerfile, continuation lines joined.
fn dockerfile(rel: &str) -> Vec<(String, String)> {
    let text = read(&deploy(rel)).replace("\\\n", " ");
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (k, v) = l.split_once(' ').unwrap_or((l, ""));
            (k.to_ascii_uppercase(), v.trim().to_owned())
        })
        .collect()
}

fn example_members() -> Vec<String> {
    let manifest = read(&repo().join("examples/Cargo.toml"));
    let line = manifest.lines().find(|l| l.trim_start().starts_with("members")).expect("members");
    line.split('[')
        .nth(1)
        .unwrap()
        .split(']')
        .next()
        .unwrap()
        .split(',')
        .map(|m| m.trim().trim_matches('"').to_owned())
        .collect()
}

#[test]
fn dockerfiles_copy_what_the_build_produces() {
    let members = example_members();
    let arg = |instructions: &[(String, String)], name: &str| {
        instructions
            .iter()
            .find_map(|(k, v)| (k == "ARG").then(|| v.strip_prefix(&format!("{name}="))).flatten())
            .unwrap_or_else(|| panic!("ARG {name}=..."))
            .to_owned()
    };

    let wasm = dockerfile("Dockerfile");
    assert_eq!(wasm[0], ("FROM".to_owned(), "scratch".to_owned()));
    let example = arg(&wasm, "EXAMPLE");
    assert!(members.contains(&example), "{example} is an example (examples/Cargo.toml)");
    let copy = wasm.iter().find(|(k, _)| k == "COPY").expect("COPY").1.clone();
    let (src, dst) = copy.split_once(' ').unwrap();
    assert_eq!(src, "target/guests/wasm32-wasip1/release/${EXAMPLE}.wasm", "the guest `make guests` builds");
    assert_eq!(wasm.iter().find(|(k, _)| k == "ENTRYPOINT").unwrap().1, format!("[\"{dst}\"]"));
    let compose = one_doc("docker-compose.yml");
    assert_eq!(compose.at("services.http-service.build.args.EXAMPLE").str(), example);

    // The CLI image installs the plugin in the system plugin directory of Debian's WasmEdge, the
    // directory this machine's wasmedge (the same packages) searches.
    let cli = dockerfile("Dockerfile.wasmedge-cli");
    assert!(
        cli[0].1.starts_with("debian:trixie"),
        "Debian 13, whose WasmEdge 0.14.1 the plugin is built against"
    );
    let plugin_copy = cli
        .iter()
        .find(|(k, v)| k == "COPY" && v.starts_with("target/release/libwasmedge_otel.so "))
        .expect("plugin COPY");
    let plugin_dst = plugin_copy.1.split_once(' ').unwrap().1;
    let ldd =
        Command::new("sh").arg("-c").arg("ldd \"$(command -v wasmedge)\"").output().expect("ldd wasmedge");
    let text = String::from_utf8_lossy(&ldd.stdout);
    if let Some(lib) = text.lines().find(|l| l.trim_start().starts_with("libwasmedge.so")) {
        let lib = Path::new(lib.split("=>").nth(1).unwrap().split_whitespace().next().unwrap());
        let dir: PathBuf = lib.parent().unwrap().components().fold(PathBuf::new(), |mut p, c| {
            match c {
                std::path::Component::ParentDir => {
                    p.pop();
                }
                c => p.push(c),
            }
            p
        });
        if dir == Path::new("/usr/lib/x86_64-linux-gnu") {
            assert_eq!(plugin_dst, format!("{}/wasmedge/libwasmedge_otel.so", dir.display()));
        }
    }
    assert!(members.contains(&arg(&cli, "EXAMPLE")));

    let installer = dockerfile("Dockerfile.plugin-installer");
    let copy = installer.iter().find(|(k, _)| k == "COPY").unwrap().1.clone();
    let daemonset = docs_of("k8s/plugin-installer.yaml");
    let script = find_kind(&daemonset, "DaemonSet").at("spec.template.spec.initContainers").seq()[0]
        .at("command")
        .strs()
        .join(" ");
    let (src, dst) = copy.split_once(' ').unwrap();
    assert_eq!(src, "target/release/libwasmedge_otel.so");
    assert!(
        script.contains(&format!("cp {dst} ")),
        "the DaemonSet copies the file the image holds: {script}"
    );
}

#[test]
fn every_otel_variable_used_in_deploy_is_documented() {
    let documented = read(&repo().join("docs/configuration.md"));
    let mut used = BTreeSet::new();
    let mut stack = vec![deploy("")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let text = read(&path);
            let bytes = text.as_bytes();
            let mut i = 0;
            while let Some(pos) = text[i..].find("OTEL_") {
                let start = i + pos;
                let end = start
                    + bytes[start..]
                        .iter()
                        .take_while(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || **b == b'_')
                        .count();
                let before = start.checked_sub(1).map(|p| bytes[p]);
                if !before.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_') {
                    used.insert((
                        text[start..end].to_owned(),
                        path.strip_prefix(repo()).unwrap().display().to_string(),
                    ));
                }
                i = end;
            }
        }
    }
    assert!(used.iter().any(|(v, _)| v == "OTEL_EXPORTER_OTLP_ENDPOINT"), "{used:?}");
    for (var, file) in &used {
        assert!(
            documented.contains(&format!("`{var}`")),
            "{file} uses {var}, which docs/configuration.md does not document"
        );
    }
}

#[test]
fn deployment_doc_says_what_was_not_run_here() {
    let doc = read(&repo().join("docs/deployment.md"));
    for phrase in ["No Docker engine", "no Kubernetes cluster", "tests/deploy_files.rs", "tests/install.rs"] {
        assert!(doc.contains(phrase), "docs/deployment.md mentions {phrase:?}");
    }
    for file in [
        "docker-compose.yml",
        "otel-collector-config.yaml",
        "Dockerfile",
        "k8s/runtimeclass.yaml",
        "k8s/plugin-installer.yaml",
        "k8s/deployment.yaml",
    ] {
        assert!(deploy(file).is_file(), "deploy/{file}");
        assert!(doc.contains(&format!("deploy/{file}")), "docs/deployment.md describes deploy/{file}");
    }
}
