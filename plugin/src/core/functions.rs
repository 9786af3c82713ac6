//! Automatic instrumentation: function frames reported by a module rewritten with
//! `wasmedge-otel instrument` (`func_enter`, `func_exit`, `func_names`).
//!
//! A frame costs the guest a push on entry and a pop on exit. Its span is only built on exit, with
//! the entry time as start, and only if the call lasted at least the configured minimum
//! (`WASMEDGE_OTEL_FUNC_MIN_DURATION`), so short calls never reach the SDK. A frame's span id is
//! chosen on entry, so spans started inside it (by its callees or by hand) can name it as their
//! parent before it exists; since a parent always lasts at least as long as its children, a kept
//! span never has a dropped parent.

use super::error::{HostError, HostResult};
use opentelemetry::trace::{SpanContext, SpanId, TraceId};
use opentelemetry_sdk::trace::{IdGenerator, RandomIdGenerator};
use std::cell::Cell;
use std::collections::HashMap;
use std::time::SystemTime;

/// One entered, not yet exited, instrumented function.
#[derive(Clone, Debug)]
pub struct Frame {
    /// The function's index in the original module.
    pub func_id: u32,
    /// When it was entered.
    pub start: SystemTime,
    /// The context its span will have (ids chosen on entry).
    pub context: SpanContext,
    /// The parent's context, if the frame has one.
    pub parent: Option<SpanContext>,
    /// Whether something took this frame's context (a span, a log record, a `traceparent`): its
    /// span is then exported whatever its duration, or that something would name a missing parent.
    pub context_taken: bool,
}

thread_local! {
    static PLANNED: Cell<Option<(TraceId, SpanId)>> = const { Cell::new(None) };
}

/// The tracer provider's id generator: random ids, except for a frame's span, whose ids were
/// chosen when the function was entered and are handed over through [`with_planned_ids`].
#[derive(Debug, Default)]
pub struct PlannedIdGenerator(RandomIdGenerator);

impl IdGenerator for PlannedIdGenerator {
    fn new_trace_id(&self) -> TraceId {
        PLANNED.with(|p| p.get()).map_or_else(|| self.0.new_trace_id(), |(t, _)| t)
    }
    fn new_span_id(&self) -> SpanId {
        PLANNED.with(|p| p.get()).map_or_else(|| self.0.new_span_id(), |(_, s)| s)
    }
}

/// Runs `build` (which builds one span on this thread) so that the span gets these ids.
pub fn with_planned_ids<R>(trace_id: TraceId, span_id: SpanId, build: impl FnOnce() -> R) -> R {
    PLANNED.with(|p| p.set(Some((trace_id, span_id))));
    let r = build();
    PLANNED.with(|p| p.set(None));
    r
}

/// Fresh ids for a frame.
pub fn new_ids() -> (TraceId, SpanId) {
    let g = RandomIdGenerator::default();
    (g.new_trace_id(), g.new_span_id())
}

/// Most function names kept per instance: the number of functions WasmEdge and other engines
/// accept in one module, so a guest registering names in a loop cannot grow host memory.
pub const MAX_FUNCTION_NAMES: usize = 1_000_000;

/// Names of instrumented functions, registered once by the rewritten module.
#[derive(Debug, Default)]
pub struct FunctionNames(HashMap<u32, String>);

impl FunctionNames {
    /// Decodes and stores a names table: repeated `func_id:u32 name_len:u32 name` (UTF-8).
    /// The whole table is checked before anything is stored. Returns how many names it held.
    pub fn register(&mut self, table: &[u8]) -> HostResult<usize> {
        let mut names = Vec::new();
        let mut rest = table;
        while !rest.is_empty() {
            let (id, len) = match rest {
                [a, b, c, d, e, f, g, h, tail @ ..] => {
                    rest = tail;
                    (u32::from_le_bytes([*a, *b, *c, *d]), u32::from_le_bytes([*e, *f, *g, *h]) as usize)
                }
                _ => return Err(HostError::Malformed("names table ends inside an entry header")),
            };
            if rest.len() < len {
                return Err(HostError::Malformed("names table ends inside a name"));
            }
            let (name, tail) = rest.split_at(len);
            rest = tail;
            names.push((id, std::str::from_utf8(name).map_err(|_| HostError::InvalidUtf8)?.to_owned()));
        }
        let n = names.len();
        let new = names.iter().filter(|(id, _)| !self.0.contains_key(id)).count();
        if self.0.len() + new > MAX_FUNCTION_NAMES {
            return Err(HostError::LimitExceeded("more function names than a module can have"));
        }
        self.0.extend(names);
        Ok(n)
    }

    /// The name of a function: registered, else `func[ID]`.
    pub fn name(&self, func_id: u32) -> String {
        self.0.get(&func_id).cloned().unwrap_or_else(|| format!("func[{func_id}]"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: u32, name: &str) -> Vec<u8> {
        let mut v = id.to_le_bytes().to_vec();
        v.extend((name.len() as u32).to_le_bytes());
        v.extend(name.as_bytes());
        v
    }

    #[test]
    fn names_table_round_trip_and_fallback() {
        let mut names = FunctionNames::default();
        let table = [entry(3, "app::main"), entry(7, "fib")].concat();
        assert_eq!(names.register(&table).unwrap(), 2);
        assert_eq!(names.name(7), "fib");
        assert_eq!(names.name(9), "func[9]");
    }

    #[test]
    fn malformed_tables_change_nothing() {
        let mut names = FunctionNames::default();
        let good = entry(1, "one");
        for cut in 1..good.len() {
            assert!(names.register(&good[..cut]).is_err(), "cut at {cut}");
        }
        let bad_utf8 = [entry(2, "x"), vec![2, 0, 0, 0, 1, 0, 0, 0, 0xff]].concat();
        assert_eq!(names.register(&bad_utf8), Err(HostError::InvalidUtf8));
        assert_eq!(names.name(2), "func[2]", "nothing of a refused table is kept");
    }

    #[test]
    fn planned_ids_are_used_once() {
        let g = PlannedIdGenerator::default();
        let (t, s) = new_ids();
        assert_eq!(with_planned_ids(t, s, || (g.new_trace_id(), g.new_span_id())), (t, s));
        assert_ne!(g.new_span_id(), s);
    }
}
