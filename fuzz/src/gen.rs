//! Builders of inputs in the formats the harness reads: hand-made seeds (a readable scenario per
//! seed), and a structure-aware random generator for the bounded run in `cargo test`, which must
//! reach deep paths (valid attribute buffers, traceparents, names tables) without coverage
//! feedback.

use super::XorShift;
use wasmedge_otel::core::host::HOST_FUNCTIONS;
use wasmedge_otel_abi::wire;

/// One argument of a call, encoded as `calls::Role` reads it.
#[derive(Clone, Copy, Debug)]
pub enum A {
    /// A pointer to segment `i`; a following `Len` is its length.
    Seg(u8),
    /// The length of the segment the preceding pointer named.
    Len,
    /// That length plus `d` (-16..=15).
    LenDelta(i8),
    /// Entry `k` of the role's table of special values.
    Special(u8),
    /// A raw 32-bit value (pointers, lengths, enumerations).
    Raw32(u32),
    /// A raw 64-bit value (handles, measurements).
    Raw64(u64),
    /// The `i`-th handle of the parameter's own kind seen so far (`i` < 62).
    Pool(u8),
    /// The newest handle of the parameter's own kind (`Last(1)`: the one before).
    Last(u8),
    /// The `i`-th of all handles seen, spans first (`i` < 64).
    AnyPool(u8),
    /// A selector below 0x80 as is: for enumerations `s % 32 - 2`, for `func_id` `s % 8`, for
    /// measurements `s - 32` (or `(s - 32) / 4` as f64).
    Small(u8),
    /// Any selector byte as is (0x90..0xC0 for handles: forgeries of the last handle).
    Sel(u8),
}

impl A {
    fn encode(self, out: &mut Vec<u8>) {
        match self {
            A::Seg(i) => out.push(i & 0x7f),
            A::Len => out.push(0),
            A::LenDelta(d) => out.push((0x70 + d.clamp(-16, 15)) as u8),
            A::Special(k) => out.push(0x80 + (k & 0x0f)),
            A::Raw32(v) => {
                out.push(0xc0);
                out.extend(v.to_le_bytes());
            }
            A::Raw64(v) => {
                out.push(0xc0);
                out.extend(v.to_le_bytes());
            }
            A::Pool(i) => out.push(i % 0x3e),
            A::Last(k) => out.push(0x3f - (k & 1)),
            A::AnyPool(i) => out.push(0x40 + (i & 0x3f)),
            A::Small(s) => out.push(s & 0x7f),
            A::Sel(s) => out.push(s),
        }
    }
}

/// The index of a host function in the table, by name.
pub fn op(name: &str) -> u8 {
    HOST_FUNCTIONS
        .iter()
        .position(|(f, _)| f.name == name)
        .unwrap_or_else(|| panic!("no host function {name}")) as u8
}

/// Builds one `host_calls` input.
#[derive(Clone, Debug, Default)]
pub struct Calls {
    /// Configuration byte (see `calls`).
    pub config: u8,
    /// Memory byte.
    pub memory: u8,
    segments: Vec<Vec<u8>>,
    calls: Vec<u8>,
}

impl Calls {
    /// An input with these configuration and memory bytes.
    pub fn new(config: u8, memory: u8) -> Self {
        Calls { config, memory, ..Calls::default() }
    }

    /// Adds a memory segment and returns its index (at most 16).
    pub fn seg(&mut self, bytes: impl AsRef<[u8]>) -> u8 {
        assert!(self.segments.len() < 16, "at most 16 segments");
        self.segments.push(bytes.as_ref().to_vec());
        (self.segments.len() - 1) as u8
    }

    /// Adds a call of host function `name` (arguments checked against its parameter count).
    pub fn call(&mut self, name: &str, args: &[A]) -> &mut Self {
        let i = op(name);
        assert_eq!(HOST_FUNCTIONS[i as usize].0.params.len(), args.len(), "arguments of {name}");
        self.calls.push(i);
        for a in args {
            a.encode(&mut self.calls);
        }
        self
    }

    /// Makes the next call run `(count % 16 + 1) * 16` times.
    pub fn repeat(&mut self, count: u8) -> &mut Self {
        self.calls.extend([0xff, count]);
        self
    }

    /// Adds `n` calls of `name` with the same arguments, as few repeats as it takes.
    pub fn call_n(&mut self, n: usize, name: &str, args: &[A]) -> &mut Self {
        let mut left = n;
        while left >= 16 {
            let chunk = (left / 16).min(16);
            self.repeat(chunk as u8 - 1).call(name, args);
            left -= chunk * 16;
        }
        for _ in 0..left {
            self.call(name, args);
        }
        self
    }

    /// The input bytes.
    pub fn build(&self) -> Vec<u8> {
        let mut out = vec![self.config, self.memory, self.segments.len() as u8];
        for s in &self.segments {
            out.extend((s.len() as u16).to_le_bytes());
            out.extend(s);
        }
        out.extend(&self.calls);
        out
    }
}

/// Encodes attribute buffers in the ABI's wire format.
#[derive(Clone, Debug, Default)]
pub struct Attrs(pub Vec<u8>);

impl Attrs {
    fn raw_str(&mut self, s: &[u8]) {
        self.0.extend((s.len() as u32).to_le_bytes());
        self.0.extend(s);
    }

    /// A key and its type tag.
    pub fn key(mut self, k: &str, tag: u8) -> Self {
        self.raw_str(k.as_bytes());
        self.0.push(tag);
        self
    }

    /// A string attribute.
    pub fn str(mut self, k: &str, v: &str) -> Self {
        self = self.key(k, wire::STRING);
        self.raw_str(v.as_bytes());
        self
    }

    /// A bool attribute.
    pub fn bool(mut self, k: &str, v: bool) -> Self {
        self = self.key(k, wire::BOOL);
        self.0.push(v as u8);
        self
    }

    /// An i64 attribute.
    pub fn i64(mut self, k: &str, v: i64) -> Self {
        self = self.key(k, wire::I64);
        self.0.extend(v.to_le_bytes());
        self
    }

    /// An f64 attribute.
    pub fn f64(mut self, k: &str, v: f64) -> Self {
        self = self.key(k, wire::F64);
        self.0.extend(v.to_le_bytes());
        self
    }

    /// A string array attribute.
    pub fn strs(mut self, k: &str, v: &[&str]) -> Self {
        self = self.key(k, wire::STRING_ARRAY);
        self.0.extend((v.len() as u32).to_le_bytes());
        for s in v {
            self.raw_str(s.as_bytes());
        }
        self
    }

    /// A bool array attribute.
    pub fn bools(mut self, k: &str, v: &[bool]) -> Self {
        self = self.key(k, wire::BOOL_ARRAY);
        self.0.extend((v.len() as u32).to_le_bytes());
        self.0.extend(v.iter().map(|b| *b as u8));
        self
    }

    /// An i64 array attribute.
    pub fn i64s(mut self, k: &str, v: &[i64]) -> Self {
        self = self.key(k, wire::I64_ARRAY);
        self.0.extend((v.len() as u32).to_le_bytes());
        v.iter().for_each(|x| self.0.extend(x.to_le_bytes()));
        self
    }

    /// An f64 array attribute.
    pub fn f64s(mut self, k: &str, v: &[f64]) -> Self {
        self = self.key(k, wire::F64_ARRAY);
        self.0.extend((v.len() as u32).to_le_bytes());
        v.iter().for_each(|x| self.0.extend(x.to_le_bytes()));
        self
    }
}

/// A function names table.
pub fn names_table(entries: &[(u32, &str)]) -> Vec<u8> {
    let mut v = Vec::new();
    for (id, name) in entries {
        v.extend(id.to_le_bytes());
        v.extend((name.len() as u32).to_le_bytes());
        v.extend(name.as_bytes());
    }
    v
}

/// Histogram boundaries as the guest passes them.
pub fn bounds(values: &[f64]) -> Vec<u8> {
    values.iter().flat_map(|f| f.to_le_bytes()).collect()
}

const VALID_TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// Hand-made `host_calls` seeds: one scenario each, named.
pub fn host_call_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let mut seeds = Vec::new();
    let start = |b: &mut Calls, name: u8, kind: u8, parent: A, attrs: A| {
        b.call("span_start", &[A::Seg(name), A::Len, A::Small(kind + 2), parent, attrs, A::Len]);
    };

    // Nested spans with attributes, events, status and an exception, ended in order.
    let mut b = Calls::new(0x04, 0);
    let (root, child) = (b.seg("root"), b.seg("child"));
    let attrs = b.seg(Attrs::default().str("k", "v").i64("n", 3).bools("bs", &[true, false]).0);
    let msg = b.seg("boom");
    start(&mut b, root, 1, A::Special(0), A::Seg(attrs));
    start(&mut b, child, 0, A::Special(0), A::Seg(attrs));
    b.call("span_current", &[]);
    b.call("span_set_attributes", &[A::Pool(1), A::Seg(attrs), A::Len]);
    b.call("span_add_event", &[A::Pool(1), A::Seg(msg), A::Len, A::Seg(attrs), A::Len]);
    b.call("span_set_status", &[A::Pool(1), A::Small(4), A::Seg(msg), A::Len]);
    b.call(
        "span_record_exception",
        &[A::Pool(1), A::Seg(msg), A::Len, A::Seg(msg), A::Len, A::Seg(attrs), A::Len],
    );
    b.call("span_end", &[A::Pool(1)]).call("span_end", &[A::Pool(1)]).call("span_end", &[A::Pool(0)]);
    b.call("span_current", &[]).call("abi_version", &[]);
    seeds.push(("nested-spans", b.build()));

    // A remote parent, headers written back, an unsampled remote parent, a root context.
    let mut b = Calls::new(0x1c, 0);
    let (name, tp, ts) = (b.seg("server"), b.seg(VALID_TP), b.seg("vendor=a,other=b"));
    let unsampled = b.seg(VALID_TP.replace("-01", "-00"));
    let buf = b.seg([0u8; 64]);
    b.call(
        "span_start_remote",
        &[
            A::Seg(name),
            A::Len,
            A::Small(3),
            A::Seg(tp),
            A::Len,
            A::Seg(ts),
            A::Len,
            A::Seg(ts),
            A::Special(0),
        ],
    );
    b.call("span_traceparent", &[A::Special(0), A::Seg(buf), A::Len]);
    b.call("span_tracestate", &[A::Pool(0), A::Seg(buf), A::Len]);
    b.call("span_traceparent", &[A::Pool(0), A::Seg(buf), A::LenDelta(-10)]);
    b.call(
        "span_start_remote",
        &[
            A::Seg(name),
            A::Len,
            A::Small(2),
            A::Seg(unsampled),
            A::Len,
            A::Seg(ts),
            A::Special(0),
            A::Seg(ts),
            A::Special(0),
        ],
    );
    b.call("span_end", &[A::Pool(0)]);
    b.call("span_traceparent", &[A::Special(0), A::Seg(buf), A::Len]);
    seeds.push(("remote-parent", b.build()));

    // Every instrument kind and value type, records, binds and bound records.
    let mut b = Calls::new(0x00, 0x04);
    let names = ["requests", "http.server.duration", "queue-depth", "temp/c"].map(|n| b.seg(n));
    let unit = b.seg("ms");
    let desc = b.seg("a description");
    let bnd = b.seg(bounds(&[0.5, 1.0, 10.0]));
    let attrs = b.seg(Attrs::default().str("route", "/a").i64("code", 200).0);
    for kind in 0..4u8 {
        for vt in 0..2u8 {
            let bounds_arg = if kind == 2 { A::Seg(bnd) } else { A::Special(0) };
            b.call(
                "instrument_create",
                &[
                    A::Small(kind + 2),
                    A::Small(vt + 2),
                    A::Seg(names[kind as usize]),
                    A::Len,
                    A::Seg(unit),
                    A::Len,
                    A::Seg(desc),
                    A::Len,
                    bounds_arg,
                    A::Len,
                ],
            );
        }
    }
    for i in 0..8u8 {
        b.call("metric_record_i64", &[A::Pool(i), A::Small(0x25), A::Seg(attrs), A::Len]);
        b.call("metric_record_f64", &[A::Pool(i), A::Small(0x30), A::Seg(attrs), A::Len]);
        b.call("metric_bind", &[A::Pool(i), A::Seg(attrs), A::Len]);
        b.call("metric_bound_record_i64", &[A::Pool(i), A::Small(0x10)]);
        b.call("metric_bound_record_f64", &[A::Pool(i), A::Small(0x30)]);
    }
    seeds.push(("metrics", b.build()));

    // Logs outside and inside a span, with limits on.
    let mut b = Calls::new(0x43, 0);
    let (body, span) = (b.seg("hello"), b.seg("op"));
    let attrs =
        b.seg(Attrs::default().str("a", "long value").i64("b", 1).f64("c", 0.5).strs("d", &["xyzw"]).0);
    b.call("log_emit", &[A::Small(11), A::Seg(body), A::Len, A::Seg(attrs), A::Len]);
    start(&mut b, span, 0, A::Special(0), A::Special(0));
    b.call("log_emit", &[A::Small(26), A::Seg(body), A::Len, A::Seg(attrs), A::Len]);
    b.call("log_emit", &[A::Small(27), A::Seg(body), A::Len, A::Seg(attrs), A::Len]);
    seeds.push(("logs", b.build()));

    // Instrumented functions: names, nesting with spans by hand, a skipped exit, frames left open.
    let mut b = Calls::new(0x05, 0);
    let table = b.seg(names_table(&[(1, "main"), (2, "work"), (3, "leaf")]));
    let name = b.seg("by-hand");
    b.call("func_names", &[A::Seg(table), A::Len]);
    b.call("func_enter", &[A::Small(1)]).call("func_enter", &[A::Small(2)]);
    start(&mut b, name, 0, A::Special(0), A::Special(0));
    b.call("func_enter", &[A::Small(3)])
        .call("log_emit", &[A::Small(9), A::Seg(name), A::Len, A::Special(0), A::Special(0)]);
    b.call("func_exit", &[A::Small(2)]);
    b.call("func_exit", &[A::Small(5)]);
    b.call("span_end", &[A::Pool(0)]);
    b.call("func_enter", &[A::Small(4)]);
    seeds.push(("function-frames", b.build()));

    // The open-span limit (2), with the slot freed and reused.
    let mut b = Calls::new(0x01, 0);
    let name = b.seg("s");
    for _ in 0..3 {
        start(&mut b, name, 0, A::Special(1), A::Special(0));
    }
    b.call("span_end", &[A::Pool(0)]);
    start(&mut b, name, 0, A::Special(1), A::Special(0));
    b.call("span_end", &[A::Pool(0)]).call("span_end", &[A::Pool(2)]);
    seeds.push(("open-span-limit", b.build()));

    // Refused input: out of bounds, oversized, invalid UTF-8, forged and stale handles.
    let mut b = Calls::new(0x06, 0);
    let (name, bad) = (b.seg("x"), b.seg([0xff, 0xfe]));
    let malformed = b.seg(Attrs::default().key("k", 99).0);
    start(&mut b, name, 0, A::Special(0), A::Special(0));
    b.call(
        "span_start",
        &[A::Special(3), A::Special(1), A::Small(2), A::Special(0), A::Special(0), A::Special(0)],
    );
    b.call(
        "span_start",
        &[A::Seg(name), A::Special(12), A::Small(2), A::Special(0), A::Special(0), A::Special(0)],
    );
    b.call("span_start", &[A::Seg(bad), A::Len, A::Small(2), A::Special(0), A::Special(0), A::Special(0)]);
    b.call("span_start", &[A::Seg(name), A::Len, A::Small(9), A::Special(0), A::Special(0), A::Special(0)]);
    b.call("span_start", &[A::Seg(name), A::Len, A::Small(2), A::Special(2), A::Special(0), A::Special(0)]);
    b.call("span_start", &[A::Seg(name), A::Len, A::Small(2), A::Special(0), A::Seg(malformed), A::Len]);
    for forged in 0x90..0x95u8 {
        b.call("span_end", &[A::Sel(forged)]);
    }
    b.call("span_end", &[A::Pool(0)]).call("span_end", &[A::Pool(0)]);
    b.call("metric_record_i64", &[A::AnyPool(0), A::Small(1), A::Special(0), A::Special(0)]);
    b.call("span_set_status", &[A::Raw64(u64::MAX), A::Raw32(7), A::Raw32(u32::MAX), A::Raw32(u32::MAX)]);
    seeds.push(("refused-input", b.build()));

    // A 64 KiB + 1 status message: LIMIT_EXCEEDED, which docs/ABI.md does not list for it.
    let mut b = Calls::new(0x00, 0x02);
    let name = b.seg("s");
    start(&mut b, name, 0, A::Special(0), A::Special(0));
    b.call("span_set_status", &[A::Pool(0), A::Small(4), A::Seg(name), A::Special(12)]);
    seeds.push(("set-status-long-message", b.build()));

    // The 4096 limits: open spans (4128 starts, then the close of 4096), and instrumented call
    // depth (4128 nested entries: 32 untraced, whose exits still match).
    let mut b = Calls::new(0x07, 0);
    let name = b.seg("s");
    b.call_n(
        4128,
        "span_start",
        &[A::Seg(name), A::Len, A::Small(2), A::Special(0), A::Special(0), A::Special(0)],
    );
    b.call("span_end", &[A::Last(1)]);
    start(&mut b, name, 0, A::Special(0), A::Special(0));
    seeds.push(("open-span-limit-4096", b.build()));
    let mut b = Calls::new(0x00, 0);
    b.call_n(4128, "func_enter", &[A::Small(1)]);
    b.call("func_enter", &[A::Small(2)]).call("func_exit", &[A::Small(2)]);
    b.call_n(32, "func_exit", &[A::Small(1)]);
    b.call("func_enter", &[A::Small(3)]).call("func_exit", &[A::Small(1)]);
    seeds.push(("call-depth-limit", b.build()));

    // No memory at all: every non-empty range is out of bounds, empty ones are fine.
    let mut b = Calls::new(0x00, 0x03);
    b.call(
        "span_start",
        &[A::Special(0), A::Special(0), A::Small(2), A::Special(0), A::Special(0), A::Special(0)],
    );
    b.call("span_traceparent", &[A::Special(0), A::Special(0), A::Special(14)]);
    b.call("func_names", &[A::Special(0), A::Special(1)]);
    seeds.push(("no-memory", b.build()));
    seeds
}

/// Hand-made `decode` seeds.
pub fn decode_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let with = |sel: u8, body: &[u8]| [&[sel][..], body].concat();
    let attrs = Attrs::default()
        .str("s", "héllo")
        .bool("b", true)
        .i64("i", -7)
        .f64("f", 0.5)
        .strs("ss", &["a", "bc"])
        .bools("bs", &[true])
        .i64s("is", &[1, 2])
        .f64s("fs", &[f64::NAN])
        .i64("i", 8);
    // 16 bytes of "abcd\xff" repeated; read, read a string across the bad byte, write, overflow.
    let mut mem = vec![0u8, 16, 5];
    mem.extend(b"abcd\xff");
    for (kind, ptr, len) in [
        (0u8, 0u32, 4u32),
        (1, 0, 4),
        (1, 2, 4),
        (2 + 3 * 3, 12, 4),
        (0, 15, 2),
        (0, u32::MAX, 2),
        (0, 0, 65537),
    ] {
        mem.push(kind);
        mem.extend(ptr.to_le_bytes());
        mem.extend(len.to_le_bytes());
    }
    vec![
        ("attributes", with(0, &attrs.0)),
        ("guest-memory", with(1, &mem)),
        ("boundaries", with(2, &[&[2u8][..], &bounds(&[0.0, 1.5, 1e9])].concat())),
        ("instrument-name", with(3, b"\x05http.server/x-y\x02ms")),
        (
            "names-table",
            with(
                4,
                &[
                    &18u16.to_le_bytes()[..],
                    &names_table(&[(1, "a"), (2, "b")]),
                    &names_table(&[(1, "c")]),
                    &[0xaa],
                ]
                .concat(),
            ),
        ),
        ("traceparent", with(5, format!("{VALID_TP}\nvendor=x").as_bytes())),
        ("truncate", with(6, "\x02héllo wörld".as_bytes())),
    ]
}

const KEYS: [&str; 8] = ["k", "http.route", "exception.type", "exception.message", "a", "b", "é", "k"];
const WORDS: [&str; 8] = ["", "v", "GET /", "héllo", "日本語", "a-long-value-string", "x", "µs"];

fn random_attrs(rng: &mut XorShift) -> Vec<u8> {
    let mut a = Attrs::default();
    for _ in 0..1 + rng.below(4) {
        let k = rng.pick(&KEYS);
        a = match rng.below(8) {
            0 => a.str(k, rng.pick(&WORDS)),
            1 => a.bool(k, rng.chance(50)),
            2 => a.i64(k, rng.next_u64() as i64 >> rng.below(64)),
            3 => a.f64(k, rng.pick(&[0.5, -1.0, f64::NAN, f64::INFINITY, 1e-300])),
            4 => a.strs(k, &[rng.pick(&WORDS), rng.pick(&WORDS)][..rng.below(3)]),
            5 => a.bools(k, &[true, false, true][..rng.below(4)]),
            6 => a.i64s(k, &[1, -1, i64::MAX][..rng.below(4)]),
            _ => a.f64s(k, &[0.25, -0.0][..rng.below(3)]),
        };
    }
    a.0
}

fn mutate(rng: &mut XorShift, mut v: Vec<u8>) -> Vec<u8> {
    match rng.below(4) {
        0 if !v.is_empty() => {
            let i = rng.below(v.len());
            v[i] ^= 1 << rng.below(8);
        }
        1 if !v.is_empty() => v.truncate(rng.below(v.len())),
        2 => v.extend((0..1 + rng.below(6)).map(|_| rng.byte())),
        _ if !v.is_empty() => {
            let i = rng.below(v.len());
            v[i] = rng.pick(&[0, 0xff, 0x80, b'-', b'A', 0xc3]);
        }
        _ => v.push(rng.byte()),
    }
    v
}

fn hex(rng: &mut XorShift, n: usize) -> String {
    (0..n).map(|_| rng.pick(b"0123456789abcdef") as char).collect()
}

/// A traceparent, usually valid, sometimes of another version or broken.
pub fn random_traceparent(rng: &mut XorShift) -> String {
    let version =
        if rng.chance(85) { "00".to_owned() } else { rng.pick(&["01", "fe", "ff", "0g"]).to_string() };
    let mut tp =
        format!("{version}-{}-{}-{}", hex(rng, 32), hex(rng, 16), rng.pick(&["00", "01", "ff", "02"]));
    if rng.chance(10) {
        tp = tp.replace(&tp[3..35], "00000000000000000000000000000000");
    }
    if rng.chance(10) {
        tp.push_str("-extra");
    }
    if rng.chance(15) {
        let v = mutate(rng, tp.into_bytes());
        return String::from_utf8_lossy(&v).into_owned();
    }
    tp
}

/// Segment kinds the generator makes, so calls can aim each pointer at a fitting segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Attrs,
    Name,
    Text,
    Traceparent,
    Tracestate,
    Names,
    Bounds,
    Buffer,
    Unit,
    Bytes,
}

fn random_segment(rng: &mut XorShift) -> (Kind, Vec<u8>) {
    let kind = rng.pick(&[
        Kind::Attrs,
        Kind::Attrs,
        Kind::Name,
        Kind::Name,
        Kind::Text,
        Kind::Traceparent,
        Kind::Tracestate,
        Kind::Names,
        Kind::Bounds,
        Kind::Buffer,
        Kind::Unit,
        Kind::Bytes,
    ]);
    let bytes = match kind {
        Kind::Attrs => random_attrs(rng),
        Kind::Name => {
            let n = rng.pick(&[1, 3, 8, 20, 255, 256]);
            let mut s: String = (0..n).map(|_| rng.pick(b"abcxyz._-/09") as char).collect();
            s.replace_range(..1, rng.pick(&["a", "Z", "1", "_", "é"]));
            s.into_bytes()
        }
        Kind::Text => rng.pick(&WORDS).as_bytes().to_vec(),
        Kind::Traceparent => random_traceparent(rng).into_bytes(),
        Kind::Tracestate => {
            rng.pick(&["", "k=v", "a=1,b=2", "bad state", "x@y=z", "k=v,k=w"]).as_bytes().to_vec()
        }
        Kind::Names => names_table(&[(rng.below(8) as u32, rng.pick(&WORDS)), (rng.below(8) as u32, "f")]),
        Kind::Bounds => {
            let mut b: Vec<f64> = (0..rng.below(5)).map(|i| i as f64 * 1.5 - 1.0).collect();
            if rng.chance(20) {
                b.push(rng.pick(&[f64::NAN, -5.0, f64::INFINITY]));
            }
            bounds(&b)
        }
        Kind::Buffer => vec![0; rng.pick(&[0, 16, 54, 55, 64, 80])],
        Kind::Unit => rng.pick(&["ms", "By", "{request}", "µs", ""]).as_bytes().to_vec(),
        Kind::Bytes => (0..rng.below(48)).map(|_| rng.byte()).collect(),
    };
    let bytes = if kind != Kind::Buffer && rng.chance(15) { mutate(rng, bytes) } else { bytes };
    (kind, bytes)
}

/// Which segment kind fits a pointer parameter.
fn fitting(param: &str, function: &str) -> &'static [Kind] {
    match param {
        "attrs_ptr" => &[Kind::Attrs],
        "name_ptr" if function == "instrument_create" => &[Kind::Name],
        "name_ptr" | "body_ptr" | "msg_ptr" | "type_ptr" | "desc_ptr" => &[Kind::Text, Kind::Name],
        "traceparent_ptr" => &[Kind::Traceparent],
        "tracestate_ptr" => &[Kind::Tracestate],
        "table_ptr" => &[Kind::Names],
        "bounds_ptr" => &[Kind::Bounds],
        "buf_ptr" => &[Kind::Buffer],
        "unit_ptr" => &[Kind::Unit],
        _ => &[],
    }
}

const OPS: [(&str, usize); 21] = [
    ("abi_version", 1),
    ("span_start", 16),
    ("span_end", 10),
    ("span_set_attributes", 4),
    ("span_add_event", 4),
    ("span_set_status", 4),
    ("span_record_exception", 3),
    ("span_current", 3),
    ("instrument_create", 6),
    ("metric_record_i64", 4),
    ("metric_record_f64", 4),
    ("metric_bind", 3),
    ("metric_bound_record_i64", 3),
    ("metric_bound_record_f64", 3),
    ("log_emit", 4),
    ("span_traceparent", 5),
    ("span_tracestate", 2),
    ("span_start_remote", 6),
    ("func_enter", 10),
    ("func_exit", 9),
    ("func_names", 2),
];

/// A random, mostly well-formed `host_calls` input: a few segments, then calls, grouped in
/// motifs that a real guest would make (a span and calls on it, an instrument and records on it,
/// a function frame around other motifs), mixed with single random calls.
pub fn random_host_calls(rng: &mut XorShift) -> Vec<u8> {
    let class = rng.pick(&[0u8, 0, 0, 0, 1, 1, 1, 2, 3]);
    let reader = rng.chance(3) as u8;
    let mut b = Calls::new(rng.byte(), class | reader << 2 | (rng.below(32) as u8) << 3);
    let mut kinds = Vec::new();
    for _ in 0..1 + rng.below(16) {
        let (kind, bytes) = random_segment(rng);
        b.seg(bytes);
        kinds.push(kind);
    }
    // Mostly short sequences, some long ones: a debug-build run must stay within seconds.
    let budget = if rng.chance(10) { rng.below(64) } else { rng.below(12) };
    let mut g = Gen { rng, b, kinds, budget };
    while g.budget > 0 {
        g.step(0);
    }
    g.b.build()
}

struct Gen<'r> {
    rng: &'r mut XorShift,
    b: Calls,
    kinds: Vec<Kind>,
    budget: usize,
}

impl Gen<'_> {
    /// A call of `name` with random arguments, except `fixed` ones (most of the time).
    fn call(&mut self, name: &str, fixed: &[(&str, A)]) {
        if self.budget == 0 {
            return;
        }
        self.budget -= 1;
        let f = HOST_FUNCTIONS[op(name) as usize].0;
        let args: Vec<A> = f
            .params
            .iter()
            .map(|p| match fixed.iter().find(|(n, _)| *n == p.name) {
                Some((_, a)) if self.rng.chance(90) => *a,
                _ => random_arg(self.rng, p.name, name, &self.kinds),
            })
            .collect();
        self.b.call(name, &args);
    }

    fn random_op(&mut self) {
        if self.rng.chance(3) {
            self.b.repeat(self.rng.below(4) as u8);
        }
        let total: usize = OPS.iter().map(|(_, w)| w).sum();
        let mut pick = self.rng.below(total);
        for (name, w) in OPS {
            if pick < w {
                return self.call(name, &[]);
            }
            pick -= w;
        }
    }

    fn step(&mut self, depth: usize) {
        match self.rng.below(10) {
            0..=2 => self.random_op(),
            3 | 4 => self.span(depth, "span_start"),
            5 => self.span(depth, "span_start_remote"),
            6 | 7 => self.metric(),
            _ => self.frame(depth),
        }
    }

    /// A span, calls on it (or nested motifs), and usually its end.
    fn span(&mut self, depth: usize, start: &str) {
        self.call(start, &[]);
        let on_it = [("span", A::Last(0))];
        for _ in 0..self.rng.below(4) {
            let name = self.rng.pick(&[
                "span_set_attributes",
                "span_add_event",
                "span_set_status",
                "span_record_exception",
                "span_traceparent",
                "span_tracestate",
                "log_emit",
                "span_current",
                "nested",
            ]);
            if name == "nested" {
                if depth < 3 {
                    self.step(depth + 1);
                }
            } else {
                self.call(name, &on_it);
            }
        }
        if self.rng.chance(75) {
            self.call("span_end", &on_it);
        }
    }

    /// An instrument, measurements of its value type on it, a binding and bound measurements.
    fn metric(&mut self) {
        let vt = self.rng.below(2) as u8;
        self.call("instrument_create", &[("value_type", A::Small(vt + 2))]);
        let (record, bound) = if vt == 0 {
            ("metric_record_i64", "metric_bound_record_i64")
        } else {
            ("metric_record_f64", "metric_bound_record_f64")
        };
        let value = A::Small(0x20 + self.rng.below(0x20) as u8);
        for _ in 0..self.rng.below(3) {
            self.call(record, &[("instrument", A::Last(0)), ("value", value)]);
        }
        if self.rng.chance(50) {
            self.call("metric_bind", &[("instrument", A::Last(0))]);
            for _ in 0..self.rng.below(3) {
                self.call(bound, &[("bound", A::Last(0)), ("value", value)]);
            }
        }
    }

    /// An instrumented function around other motifs, usually exited.
    fn frame(&mut self, depth: usize) {
        let id = self.rng.below(5) as u8;
        if self.rng.chance(10) {
            self.call("func_names", &[]);
        }
        self.call("func_enter", &[("func_id", A::Small(id))]);
        for _ in 0..self.rng.below(3) {
            if depth < 3 {
                self.step(depth + 1);
            }
        }
        if self.rng.chance(80) {
            self.call("func_exit", &[("func_id", A::Small(id))]);
        }
    }
}

fn random_arg(rng: &mut XorShift, param: &str, function: &str, kinds: &[Kind]) -> A {
    let roll = rng.below(100);
    if param.ends_with("_ptr") {
        let fits: Vec<u8> = (0..kinds.len() as u8)
            .filter(|i| fitting(param, function).contains(&kinds[*i as usize]))
            .collect();
        return match roll {
            0..=69 if !fits.is_empty() => A::Seg(rng.pick(&fits)),
            0..=89 => A::Seg(rng.below(kinds.len()) as u8),
            90..=96 => A::Special(rng.byte()),
            _ => A::Raw32(rng.next_u64() as u32),
        };
    }
    if param.ends_with("_len") {
        return match roll {
            0..=79 if param == "bounds_len" && rng.chance(50) => A::Special(0),
            0..=84 => A::Len,
            85..=92 => A::LenDelta(rng.below(7) as i8 - 3),
            93..=97 => A::Special(rng.byte()),
            _ => A::Raw32(rng.next_u64() as u32),
        };
    }
    match param {
        "span" | "parent" | "instrument" | "bound" => match roll {
            0..=29 => A::Pool(rng.below(8) as u8),
            30..=59 => A::Last(rng.below(2) as u8),
            60..=74 if param == "parent" => A::Special(0),
            60..=79 => A::Special(rng.below(2) as u8),
            80..=89 => A::Sel(0x90 + rng.below(0x30) as u8),
            90..=94 => A::AnyPool(rng.below(8) as u8),
            _ => A::Raw64(rng.next_u64() >> rng.below(64)),
        },
        "func_id" => match roll {
            0..=94 => A::Small(rng.below(5) as u8),
            _ => A::Raw32(rng.next_u64() as u32),
        },
        "value" => match roll {
            0..=84 => A::Small(rng.below(0x80) as u8),
            85..=94 => A::Special(rng.byte()),
            _ => A::Raw64(rng.next_u64()),
        },
        // Enumerations: mostly in range, sometimes just outside it or anywhere.
        _ => {
            let max = match (param, function) {
                ("kind", "instrument_create") => 3,
                ("kind", _) => 4,
                ("value_type", _) => 1,
                ("code", _) => 2,
                _ => 24,
            };
            match roll {
                0..=84 => A::Small(rng.below(max + 1) as u8 + 2),
                85..=92 => A::Small(rng.pick(&[0, 1, max as u8 + 3, 29])),
                93..=96 => A::Special(rng.byte()),
                _ => A::Raw32(rng.next_u64() as u32),
            }
        }
    }
}

/// A random `decode` input: a selector byte and a body, mostly well-formed for its decoder.
pub fn random_decode(rng: &mut XorShift) -> Vec<u8> {
    let sel = rng.below(7) as u8;
    let body = match sel {
        0 => {
            let mut v = random_attrs(rng);
            if rng.chance(30) {
                v = mutate(rng, v);
            }
            v
        }
        1 => {
            let fill: Vec<u8> = (0..rng.below(8)).map(|_| rng.pick(&[b'a', 0xff, 0xc3, 0xa9, 0])).collect();
            let mut v = vec![rng.byte(), rng.byte(), fill.len() as u8];
            v.extend(fill);
            let size_guess = [0u32, 1, 16, 255, 256, 65535, 65536, 65537, 65600, u32::MAX, 0x8000_0000];
            for _ in 0..rng.below(12) {
                v.push(rng.byte());
                v.extend(rng.pick(&size_guess).wrapping_add(rng.below(3) as u32).to_le_bytes());
                v.extend(rng.pick(&size_guess).wrapping_sub(rng.below(3) as u32).to_le_bytes());
            }
            v
        }
        2 => {
            let mut b: Vec<f64> = (0..rng.below(6)).map(|i| i as f64 - 2.0).collect();
            if rng.chance(30) {
                b.insert(rng.below(b.len() + 1), rng.pick(&[f64::NAN, -0.0, 0.0, f64::INFINITY, 1.0]));
            }
            let mut bytes = bounds(&b);
            if rng.chance(15) {
                bytes = mutate(rng, bytes);
            }
            [vec![rng.below(5) as u8], bytes].concat()
        }
        3 => {
            let name = random_segment(rng).1;
            let unit = rng.pick(&[
                "ms",
                "",
                "µs",
                "a-very-long-unit-string-that-goes-on-and-on-past-sixty-three-chars",
            ]);
            [&[name.len() as u8][..], &name, &[unit.len() as u8], unit.as_bytes()].concat()
        }
        4 => {
            let mut a = names_table(&[(rng.below(4) as u32, rng.pick(&WORDS)), (rng.below(4) as u32, "g")]);
            if rng.chance(30) {
                a = mutate(rng, a);
            }
            let b = names_table(&[(rng.below(4) as u32, rng.pick(&WORDS))]);
            let b = mutate(rng, b);
            [&(a.len() as u16).to_le_bytes()[..], &a, &b].concat()
        }
        5 => {
            format!("{}\n{}", random_traceparent(rng), rng.pick(&["", "k=v", "a=b,c=d", "bad"])).into_bytes()
        }
        _ => [&[rng.byte()][..], rng.pick(&WORDS).as_bytes()].concat(),
    };
    [vec![sel], body].concat()
}
