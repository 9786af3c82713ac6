//! Human- and machine-readable output: the span tree ([`render_tree`]) and one-line JSON records
//! for spans ([`span_json_line`]), metrics requests ([`metrics_json_line`]) and logs requests
//! ([`logs_json_line`]). Output is deterministic: attributes are sorted by key, traces and
//! siblings by start time.

use std::collections::{BTreeMap, HashMap, HashSet};

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value::Value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::trace::v1::Span;
use serde_json::{json, Map, Value as Json};

use crate::received::{find_attr, hex, ReceivedSpan};

/// Renders `spans` as a tree per trace, for people to read:
///
/// ```text
/// trace 4bf92f3577b34da6a3ce929d0e0e4736  service.name=hello
/// └─ main  internal  1.234 ms
///    ├─ load-config  internal  0.120 ms  {config.path="/etc/app.toml", retries=3, tags=["a","b"]}
///    │  • event cache-miss  +0.010 ms  {key="user:42"}
///    └─ compute  client  0.500 ms  status=ERROR "division by zero"
/// ```
///
/// Traces are ordered by their earliest span start (then trace id) and separated by a blank line;
/// roots are spans without a parent or whose parent was not received; siblings are ordered by
/// start time, then arrival order. Returns `"no spans received\n"` for an empty slice.
pub fn render_tree(spans: &[ReceivedSpan]) -> String {
    if spans.is_empty() {
        return "no spans received\n".to_owned();
    }
    let mut traces: BTreeMap<&[u8], Vec<usize>> = BTreeMap::new();
    for (index, span) in spans.iter().enumerate() {
        traces.entry(span.span.trace_id.as_slice()).or_default().push(index);
    }
    let mut traces: Vec<(&[u8], Vec<usize>)> = traces.into_iter().collect();
    traces.sort_by_key(|(trace_id, members)| {
        (members.iter().map(|&i| spans[i].span.start_time_unix_nano).min(), *trace_id)
    });

    let mut out = String::new();
    for (n, (trace_id, members)) in traces.iter().enumerate() {
        if n > 0 {
            out.push('\n');
        }
        render_trace(&mut out, spans, trace_id, members);
    }
    out
}

/// Renders one trace: its header line, then every member span under its parent.
fn render_trace(out: &mut String, spans: &[ReceivedSpan], trace_id: &[u8], members: &[usize]) {
    out.push_str("trace ");
    out.push_str(&hex(trace_id));
    // A trace crossing services (one per process) names them all, and each span its own.
    let service = |i: usize| spans[i].resource_attr("service.name").map(format_value_bare);
    let mut services: Vec<String> = members.iter().filter_map(|&i| service(i)).collect();
    services.sort();
    services.dedup();
    if !services.is_empty() {
        out.push_str("  service.name=");
        out.push_str(&services.join(","));
    }
    out.push('\n');
    let show_service = services.len() > 1;

    let by_start = |a: &usize, b: &usize| {
        (spans[*a].span.start_time_unix_nano, *a).cmp(&(spans[*b].span.start_time_unix_nano, *b))
    };
    let ids: HashSet<&[u8]> = members.iter().map(|&i| spans[i].span.span_id.as_slice()).collect();
    let mut children: HashMap<&[u8], Vec<usize>> = HashMap::new();
    let mut roots = Vec::new();
    for &i in members {
        let parent = spans[i].span.parent_span_id.as_slice();
        if parent.is_empty() || !ids.contains(parent) {
            roots.push(i);
        } else {
            children.entry(parent).or_default().push(i);
        }
    }
    roots.sort_by(by_start);
    for list in children.values_mut() {
        list.sort_by(by_start);
    }

    let mut tree = Tree { spans, children: &children, visited: vec![false; spans.len()], show_service, out };
    tree.render_siblings(&roots, "");
    // Spans whose parent chain is a cycle are reachable from no root; show them anyway.
    let mut orphans: Vec<usize> = members.iter().copied().filter(|&i| !tree.visited[i]).collect();
    orphans.sort_by(by_start);
    while let Some(&first) = orphans.iter().find(|&&i| !tree.visited[i]) {
        tree.render_siblings(&[first], "");
    }
}

/// State for rendering the spans of one trace.
struct Tree<'a, 'o> {
    spans: &'a [ReceivedSpan],
    children: &'a HashMap<&'a [u8], Vec<usize>>,
    visited: Vec<bool>,
    show_service: bool,
    out: &'o mut String,
}

impl Tree<'_, '_> {
    fn render_siblings(&mut self, siblings: &[usize], prefix: &str) {
        let pending: Vec<usize> = siblings.iter().copied().filter(|&i| !self.visited[i]).collect();
        for (n, &index) in pending.iter().enumerate() {
            self.render_span(index, prefix, n + 1 == pending.len());
        }
    }

    fn render_span(&mut self, index: usize, prefix: &str, last: bool) {
        self.visited[index] = true;
        let received = &self.spans[index];
        let span = &received.span;
        self.out.push_str(prefix);
        self.out.push_str(if last { "└─ " } else { "├─ " });
        self.out.push_str(&span_summary(span));
        if self.show_service {
            if let Some(service) = received.resource_attr("service.name").map(format_value_bare) {
                self.out.push_str("  [");
                self.out.push_str(&service);
                self.out.push(']');
            }
        }
        self.out.push('\n');

        let child_prefix = format!("{prefix}{}", if last { "   " } else { "│  " });
        for event in &span.events {
            self.out.push_str(&child_prefix);
            self.out.push_str("• event ");
            self.out.push_str(if event.name.is_empty() { "(unnamed)" } else { &event.name });
            let offset = event.time_unix_nano.saturating_sub(span.start_time_unix_nano);
            self.out.push_str(&format!("  +{}", format_millis(offset)));
            if !event.attributes.is_empty() {
                self.out.push_str("  ");
                self.out.push_str(&format_attributes(&event.attributes));
            }
            self.out.push('\n');
        }
        let children = self.children.get(span.span_id.as_slice()).cloned().unwrap_or_default();
        self.render_siblings(&children, &child_prefix);
    }
}

/// `name  kind  duration[  status=...][  links=N][  {attributes}]`.
fn span_summary(span: &Span) -> String {
    let name = if span.name.is_empty() { "(unnamed)" } else { &span.name };
    let duration = span.end_time_unix_nano.saturating_sub(span.start_time_unix_nano);
    let mut line = format!("{name}  {}  {}", kind_name(span.kind), format_millis(duration));
    if let Some(status) = &span.status {
        if status.code != 0 || !status.message.is_empty() {
            line.push_str("  status=");
            line.push_str(status_code_name(status.code));
            if !status.message.is_empty() {
                line.push(' ');
                line.push_str(&json_string(&status.message));
            }
        }
    }
    if !span.links.is_empty() {
        line.push_str(&format!("  links={}", span.links.len()));
    }
    if !span.attributes.is_empty() {
        line.push_str("  ");
        line.push_str(&format_attributes(&span.attributes));
    }
    line
}

/// Nanoseconds as milliseconds with three decimals, e.g. `1.234 ms`.
fn format_millis(nanos: u64) -> String {
    format!("{}.{:03} ms", nanos / 1_000_000, (nanos % 1_000_000) / 1_000)
}

/// The lower-case name of an OTLP `SpanKind` value.
fn kind_name(kind: i32) -> &'static str {
    match kind {
        1 => "internal",
        2 => "server",
        3 => "client",
        4 => "producer",
        5 => "consumer",
        _ => "unspecified",
    }
}

/// The upper-case name of an OTLP `StatusCode` value.
fn status_code_name(code: i32) -> &'static str {
    match code {
        0 => "UNSET",
        1 => "OK",
        2 => "ERROR",
        _ => "UNKNOWN",
    }
}

/// `{a=1, b="x"}` with keys sorted (stable, so duplicate keys keep their order).
fn format_attributes(attributes: &[KeyValue]) -> String {
    let mut sorted: Vec<&KeyValue> = attributes.iter().collect();
    sorted.sort_by(|a, b| a.key.cmp(&b.key));
    let parts: Vec<String> =
        sorted.iter().map(|kv| format!("{}={}", kv.key, format_optional(kv.value.as_ref()))).collect();
    format!("{{{}}}", parts.join(", "))
}

fn format_optional(value: Option<&AnyValue>) -> String {
    value.map_or_else(|| "null".to_owned(), format_value)
}

/// A value as in attribute lists: strings quoted, arrays `[..]`, maps `{k=v}`, bytes `0x..`.
fn format_value(value: &AnyValue) -> String {
    match &value.value {
        // A profiling-only string table index means nothing outside profiles: treat it as absent.
        None | Some(Value::StringValueStrindex(_)) => "null".to_owned(),
        Some(Value::StringValue(s)) => json_string(s),
        Some(Value::BoolValue(b)) => b.to_string(),
        Some(Value::IntValue(i)) => i.to_string(),
        Some(Value::DoubleValue(d)) => format!("{d:?}"),
        Some(Value::BytesValue(bytes)) => format!("0x{}", hex(bytes)),
        Some(Value::ArrayValue(array)) => {
            let items: Vec<String> = array.values.iter().map(format_value).collect();
            format!("[{}]", items.join(","))
        }
        Some(Value::KvlistValue(list)) => format_attributes(&list.values),
    }
}

/// Like [`format_value`] but strings are not quoted (for the trace header line).
fn format_value_bare(value: &AnyValue) -> String {
    match &value.value {
        Some(Value::StringValue(s)) => s.clone(),
        _ => format_value(value),
    }
}

fn json_string(s: &str) -> String {
    Json::String(s.to_owned()).to_string()
}

/// One JSON object (no trailing newline) describing `span`, with the fields `signal` (`"span"`),
/// `trace_id`, `span_id`, `parent_span_id` (hex, empty for roots), `name`, `kind` (lower case),
/// `start_time_unix_nano`, `end_time_unix_nano`, `duration_ns`, `attributes` (an object of
/// typed JSON values: arrays as arrays, maps as objects, bytes as hex strings), `events`
/// (`[{name, time_unix_nano, attributes}]`), `links` (`[{trace_id, span_id, attributes}]`),
/// `status` (`{code: "UNSET"|"OK"|"ERROR", message}`), `resource` (attributes object) and `scope`.
pub fn span_json_line(span: &ReceivedSpan) -> String {
    let s = &span.span;
    let events: Vec<Json> = s
        .events
        .iter()
        .map(|e| json!({"name": e.name, "time_unix_nano": e.time_unix_nano, "attributes": attributes_json(&e.attributes)}))
        .collect();
    let links: Vec<Json> = s
        .links
        .iter()
        .map(|l| json!({"trace_id": hex(&l.trace_id), "span_id": hex(&l.span_id), "attributes": attributes_json(&l.attributes)}))
        .collect();
    let (code, message) = s.status.as_ref().map_or((0, ""), |status| (status.code, status.message.as_str()));
    json!({
        "signal": "span",
        "trace_id": span.trace_id_hex(),
        "span_id": span.span_id_hex(),
        "parent_span_id": span.parent_span_id_hex(),
        "name": s.name,
        "kind": kind_name(s.kind),
        "start_time_unix_nano": s.start_time_unix_nano,
        "end_time_unix_nano": s.end_time_unix_nano,
        "duration_ns": span.duration_nanos(),
        "attributes": attributes_json(&s.attributes),
        "events": events,
        "links": links,
        "status": {"code": status_code_name(code), "message": message},
        "resource": attributes_json(&span.resource),
        "scope": span.scope_name,
    })
    .to_string()
}

/// One JSON object summarising a metrics request: `{"signal":"metrics","metrics":N,
/// "data_points":N,"names":[...],"service.name":...}` (`service.name` only if a resource has one).
pub fn metrics_json_line(request: &ExportMetricsServiceRequest) -> String {
    let mut names = Vec::new();
    let mut data_points = 0;
    for resource_metrics in &request.resource_metrics {
        for scope_metrics in &resource_metrics.scope_metrics {
            for metric in &scope_metrics.metrics {
                names.push(metric.name.clone());
                data_points += match &metric.data {
                    Some(Data::Gauge(gauge)) => gauge.data_points.len(),
                    Some(Data::Sum(sum)) => sum.data_points.len(),
                    Some(Data::Histogram(histogram)) => histogram.data_points.len(),
                    Some(Data::ExponentialHistogram(histogram)) => histogram.data_points.len(),
                    Some(Data::Summary(summary)) => summary.data_points.len(),
                    None => 0,
                };
            }
        }
    }
    let mut line = Map::new();
    line.insert("signal".into(), json!("metrics"));
    line.insert("metrics".into(), json!(names.len()));
    line.insert("data_points".into(), json!(data_points));
    line.insert("names".into(), json!(names));
    let service = request.resource_metrics.iter().find_map(|r| service_name(r.resource.as_ref()?));
    if let Some(service) = service {
        line.insert("service.name".into(), service);
    }
    Json::Object(line).to_string()
}

/// One JSON object summarising a logs request: `{"signal":"logs","log_records":N,"bodies":[...],
/// "service.name":...}` (bodies as typed JSON values; `service.name` only if a resource has one).
pub fn logs_json_line(request: &ExportLogsServiceRequest) -> String {
    let records: Vec<_> =
        request.resource_logs.iter().flat_map(|r| &r.scope_logs).flat_map(|s| &s.log_records).collect();
    let bodies: Vec<Json> = records.iter().map(|record| optional_value_json(record.body.as_ref())).collect();
    let mut line = Map::new();
    line.insert("signal".into(), json!("logs"));
    line.insert("log_records".into(), json!(records.len()));
    line.insert("bodies".into(), Json::Array(bodies));
    let service = request.resource_logs.iter().find_map(|r| service_name(r.resource.as_ref()?));
    if let Some(service) = service {
        line.insert("service.name".into(), service);
    }
    Json::Object(line).to_string()
}

fn service_name(resource: &opentelemetry_proto::tonic::resource::v1::Resource) -> Option<Json> {
    find_attr(&resource.attributes, "service.name").map(value_json)
}

/// Attributes as a JSON object, keys sorted.
fn attributes_json(attributes: &[KeyValue]) -> Json {
    let mut sorted: Vec<&KeyValue> = attributes.iter().collect();
    sorted.sort_by(|a, b| a.key.cmp(&b.key));
    let map: Map<String, Json> =
        sorted.into_iter().map(|kv| (kv.key.clone(), optional_value_json(kv.value.as_ref()))).collect();
    Json::Object(map)
}

fn optional_value_json(value: Option<&AnyValue>) -> Json {
    value.map_or(Json::Null, value_json)
}

/// A value as typed JSON; non-finite doubles become `null`, bytes a hex string.
fn value_json(value: &AnyValue) -> Json {
    match &value.value {
        None | Some(Value::StringValueStrindex(_)) => Json::Null,
        Some(Value::StringValue(s)) => Json::String(s.clone()),
        Some(Value::BoolValue(b)) => Json::Bool(*b),
        Some(Value::IntValue(i)) => json!(i),
        Some(Value::DoubleValue(d)) => json!(d),
        Some(Value::BytesValue(bytes)) => Json::String(hex(bytes)),
        Some(Value::ArrayValue(array)) => Json::Array(array.values.iter().map(value_json).collect()),
        Some(Value::KvlistValue(list)) => attributes_json(&list.values),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::ArrayValue;
    use opentelemetry_proto::tonic::trace::v1::{span, Status};

    fn kv(key: &str, value: Value) -> KeyValue {
        KeyValue { key: key.into(), value: Some(AnyValue { value: Some(value) }), ..Default::default() }
    }

    fn received(span: Span) -> ReceivedSpan {
        ReceivedSpan {
            span,
            resource: vec![kv("service.name", Value::StringValue("hello".into()))],
            scope_name: "test".into(),
        }
    }

    fn base(name: &str, id: u8, parent: Option<u8>, start_us: u64, dur_us: u64) -> Span {
        Span {
            trace_id: vec![0xab; 16],
            span_id: vec![id; 8],
            parent_span_id: parent.map(|p| vec![p; 8]).unwrap_or_default(),
            name: name.into(),
            kind: 1,
            start_time_unix_nano: 1_000_000_000 + start_us * 1000,
            end_time_unix_nano: 1_000_000_000 + (start_us + dur_us) * 1000,
            ..Default::default()
        }
    }

    fn sample() -> Vec<ReceivedSpan> {
        // Arrival order is children first, as a batch exporter typically sends them.
        let mut compute = base("compute", 3, Some(1), 300, 500);
        compute.kind = 3;
        compute.status = Some(Status { code: 2, message: "division by zero".into() });
        let mut load = base("load-config", 2, Some(1), 100, 120);
        load.attributes = vec![
            kv("retries", Value::IntValue(3)),
            kv("config.path", Value::StringValue("/etc/app.toml".into())),
            kv("ratio", Value::DoubleValue(0.5)),
            kv("cached", Value::BoolValue(true)),
            kv(
                "tags",
                Value::ArrayValue(ArrayValue {
                    values: vec![
                        AnyValue { value: Some(Value::StringValue("a".into())) },
                        AnyValue { value: Some(Value::StringValue("b".into())) },
                    ],
                }),
            ),
        ];
        load.events = vec![span::Event {
            name: "cache-miss".into(),
            time_unix_nano: load.start_time_unix_nano + 10_000,
            attributes: vec![kv("key", Value::StringValue("user:42".into()))],
            ..Default::default()
        }];
        let main = base("main", 1, None, 0, 1234);
        vec![received(compute), received(load), received(main)]
    }

    #[test]
    fn tree_matches_expected_layout() {
        let expected = "\
trace abababababababababababababababab  service.name=hello
└─ main  internal  1.234 ms
   ├─ load-config  internal  0.120 ms  {cached=true, config.path=\"/etc/app.toml\", ratio=0.5, retries=3, tags=[\"a\",\"b\"]}
   │  • event cache-miss  +0.010 ms  {key=\"user:42\"}
   └─ compute  client  0.500 ms  status=ERROR \"division by zero\"
";
        assert_eq!(render_tree(&sample()), expected);
    }

    #[test]
    fn a_trace_across_services_names_each_span_service() {
        let mut downstream = received(base("GET /api/hello", 4, Some(3), 350, 100));
        downstream.resource = vec![kv("service.name", Value::StringValue("backend".into()))];
        let mut spans = sample();
        spans.push(downstream);
        let tree = render_tree(&spans);
        assert!(
            tree.starts_with("trace abababababababababababababababab  service.name=backend,hello\n"),
            "{tree}"
        );
        assert!(tree.contains("└─ main  internal  1.234 ms  [hello]\n"), "{tree}");
        assert!(tree.contains("└─ GET /api/hello  internal  0.100 ms  [backend]\n"), "{tree}");
    }

    #[test]
    fn traces_are_separated_and_orphans_become_roots() {
        let mut other = base("lonely", 9, Some(7), 5000, 1);
        other.trace_id = vec![0x01; 16];
        let mut spans = sample();
        spans.push(received(other));
        let tree = render_tree(&spans);
        let (first, second) = tree.split_once("\n\n").expect("two traces");
        assert!(first.starts_with("trace abab"), "{tree}");
        assert!(second.starts_with("trace 0101"), "{tree}");
        assert!(second.contains("└─ lonely  internal  0.001 ms"), "{tree}");
        assert_eq!(render_tree(&[]), "no spans received\n");
    }

    #[test]
    fn parent_cycles_do_not_loop() {
        let a = base("a", 1, Some(2), 0, 1);
        let b = base("b", 2, Some(1), 1, 1);
        let tree = render_tree(&[received(a), received(b)]);
        assert!(tree.contains("└─ a  ") && tree.contains("   └─ b  "), "{tree}");
    }

    #[test]
    fn json_line_has_typed_values_and_hex_ids() {
        let spans = sample();
        let line: Json = serde_json::from_str(&span_json_line(&spans[1])).unwrap();
        assert_eq!(line["signal"], "span");
        assert_eq!(line["trace_id"], "abababababababababababababababab");
        assert_eq!(line["span_id"], "0202020202020202");
        assert_eq!(line["parent_span_id"], "0101010101010101");
        assert_eq!(line["name"], "load-config");
        assert_eq!(line["kind"], "internal");
        assert_eq!(line["duration_ns"], 120_000);
        assert_eq!(line["attributes"]["retries"], 3);
        assert_eq!(line["attributes"]["ratio"], 0.5);
        assert_eq!(line["attributes"]["cached"], true);
        assert_eq!(line["attributes"]["tags"], json!(["a", "b"]));
        assert_eq!(line["events"][0]["name"], "cache-miss");
        assert_eq!(line["events"][0]["attributes"]["key"], "user:42");
        assert_eq!(line["status"], json!({"code": "UNSET", "message": ""}));
        assert_eq!(line["resource"]["service.name"], "hello");
        let compute: Json = serde_json::from_str(&span_json_line(&spans[0])).unwrap();
        assert_eq!(compute["status"], json!({"code": "ERROR", "message": "division by zero"}));
        assert_eq!(compute["kind"], "client");
    }

    #[test]
    fn summaries_count_points_and_records() {
        use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
        use opentelemetry_proto::tonic::metrics::v1::{
            Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics,
        };
        let metrics = ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                scope_metrics: vec![ScopeMetrics {
                    metrics: vec![Metric {
                        name: "g".into(),
                        data: Some(Data::Gauge(Gauge { data_points: vec![NumberDataPoint::default(); 2] })),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let line: Json = serde_json::from_str(&metrics_json_line(&metrics)).unwrap();
        assert_eq!(line, json!({"signal": "metrics", "metrics": 1, "data_points": 2, "names": ["g"]}));

        let logs = ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                scope_logs: vec![ScopeLogs {
                    log_records: vec![LogRecord {
                        body: Some(AnyValue { value: Some(Value::StringValue("hi".into())) }),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let line: Json = serde_json::from_str(&logs_json_line(&logs)).unwrap();
        assert_eq!(line, json!({"signal": "logs", "log_records": 1, "bodies": ["hi"]}));
    }
}
