//! The plugin's decoders one at a time, each checked against an independent model of what it must
//! accept, or against a round trip.
//!
//! Input: a selector byte (mod 7), then the body for that decoder:
//!
//! | sel | decoder | body | checked |
//! | --- | --- | --- | --- |
//! | 0 | `attributes::decode` | the buffer | errors are `Malformed`/`InvalidUtf8`; on success keys are non-empty and unique, and re-encoding is a fixed point no longer than the input; `truncate_values` cuts every string to a prefix of at most 3 characters |
//! | 1 | `GuestMemory` | `class:u8 size:u8 fill_len:u8 fill ops*`, op = `kind:u8 ptr:u32 len:u32` | `bytes`/`str`/`write` succeed or fail exactly as the bounds model says, read the right bytes, write only inside the range |
//! | 2 | `decode_boundaries` | `kind:u8` then the bytes | exact model: empty is fine; only histograms; whole f64s; at most 256; finite and strictly increasing |
//! | 3 | `validate_name_and_unit` | `n:u8 name[n] m:u8 unit[m]` | exact model of the API's naming rules |
//! | 4 | `FunctionNames::register` | `n:u16` then table A (n bytes), table B (the rest) | accepted exactly when well-formed, all or nothing, last name wins |
//! | 5 | `propagation::extract` | `traceparent \n tracestate` | accepted exactly when the W3C model says so, with its ids; `inject` round-trips |
//! | 6 | `truncate_str` | `max:u8` then the string | a prefix of `min(max, chars)` characters |

use super::calls::parse_names_table;
use super::Reader;
use opentelemetry::trace::{SpanContext, TraceContextExt as _};
use opentelemetry::{Array, KeyValue, Value};
use std::collections::{HashMap, HashSet};
use wasmedge_otel::core::attributes;
use wasmedge_otel::core::error::HostError;
use wasmedge_otel::core::functions::FunctionNames;
use wasmedge_otel::core::guest_mem::GuestMemory;
use wasmedge_otel::core::metrics::{decode_boundaries, validate_name_and_unit};
use wasmedge_otel::core::propagation;
use wasmedge_otel_abi::limits::{MAX_BUFFER_LEN, MAX_HISTOGRAM_BOUNDARIES};
use wasmedge_otel_abi::{wire, InstrumentKind};

/// Runs one input. Panics (with the broken invariant) on any failure.
pub fn run(data: &[u8]) {
    let mut r = Reader::new(data);
    let Some(sel) = r.u8() else { return };
    let body = r.rest();
    match sel % 7 {
        0 => check_attributes(body),
        1 => check_guest_memory(body),
        2 => check_boundaries(body),
        3 => check_name_and_unit(body),
        4 => check_names(body),
        5 => check_traceparent(body),
        _ => check_truncate(body),
    }
}

/// Encodes decoded attributes back into the wire format.
pub fn encode_attributes(kvs: &[KeyValue]) -> Vec<u8> {
    fn s(out: &mut Vec<u8>, v: &str) {
        out.extend((v.len() as u32).to_le_bytes());
        out.extend(v.as_bytes());
    }
    fn n(out: &mut Vec<u8>, tag: u8, len: usize) {
        out.push(tag);
        out.extend((len as u32).to_le_bytes());
    }
    let mut out = Vec::new();
    for kv in kvs {
        s(&mut out, kv.key.as_str());
        match &kv.value {
            Value::String(v) => {
                out.push(wire::STRING);
                s(&mut out, v.as_str());
            }
            Value::Bool(b) => out.extend([wire::BOOL, *b as u8]),
            Value::I64(i) => {
                out.push(wire::I64);
                out.extend(i.to_le_bytes());
            }
            Value::F64(f) => {
                out.push(wire::F64);
                out.extend(f.to_le_bytes());
            }
            Value::Array(Array::String(v)) => {
                n(&mut out, wire::STRING_ARRAY, v.len());
                v.iter().for_each(|x| s(&mut out, x.as_str()));
            }
            Value::Array(Array::Bool(v)) => {
                n(&mut out, wire::BOOL_ARRAY, v.len());
                out.extend(v.iter().map(|b| *b as u8));
            }
            Value::Array(Array::I64(v)) => {
                n(&mut out, wire::I64_ARRAY, v.len());
                v.iter().for_each(|x| out.extend(x.to_le_bytes()));
            }
            Value::Array(Array::F64(v)) => {
                n(&mut out, wire::F64_ARRAY, v.len());
                v.iter().for_each(|x| out.extend(x.to_le_bytes()));
            }
            other => panic!("decode produced a value the wire format has no tag for: {other:?}"),
        }
    }
    out
}

fn check_attributes(buf: &[u8]) {
    let kvs = match attributes::decode(buf, &mut attributes::KeyCache::default()) {
        Ok(kvs) => kvs,
        Err(HostError::Malformed(_) | HostError::InvalidUtf8) => return,
        Err(e) => panic!("attributes::decode failed with {e:?}, not Malformed or InvalidUtf8"),
    };
    let mut keys = HashSet::new();
    for kv in &kvs {
        assert!(!kv.key.as_str().is_empty(), "empty key accepted");
        assert!(keys.insert(kv.key.clone()), "key {} kept twice", kv.key);
    }
    let encoded = encode_attributes(&kvs);
    assert!(encoded.len() <= buf.len(), "decoding made attributes out of nothing");
    let again = attributes::decode(&encoded, &mut attributes::KeyCache::default())
        .expect("re-encoded attributes decode");
    assert_eq!(encode_attributes(&again), encoded, "decode/encode is not a fixed point");

    let mut cut = kvs.clone();
    attributes::truncate_values(&mut cut, 3);
    let prefix = |a: &str, b: &str| b.starts_with(a) && a.chars().count() == b.chars().count().min(3);
    for (c, o) in cut.iter().zip(&kvs) {
        assert_eq!(c.key, o.key);
        match (&c.value, &o.value) {
            (Value::String(c), Value::String(o)) => {
                assert!(prefix(c.as_str(), o.as_str()), "{c} cut from {o}")
            }
            (Value::Array(Array::String(c)), Value::Array(Array::String(o))) => {
                assert_eq!(c.len(), o.len());
                assert!(
                    c.iter().zip(o).all(|(c, o)| prefix(c.as_str(), o.as_str())),
                    "array strings cut wrong"
                );
            }
            (c, o) => assert_eq!(
                encode_attributes(&[KeyValue::new("k", c.clone())]),
                encode_attributes(&[KeyValue::new("k", o.clone())]),
                "a non-string value changed"
            ),
        }
    }
}

/// The bounds model of `GuestMemory`: the range `(ptr, len)` names, or the error it must give.
fn expected_range(size: usize, ptr: u32, len: u32) -> Result<std::ops::Range<usize>, HostError> {
    if len == 0 {
        return Ok(0..0);
    }
    if len as usize > MAX_BUFFER_LEN {
        return Err(HostError::LimitExceeded("buffer longer than 64 KiB"));
    }
    let end = ptr as u64 + len as u64;
    if end <= size as u64 {
        Ok(ptr as usize..end as usize)
    } else {
        Err(HostError::OutOfBounds { ptr, len, memory_size: size })
    }
}

fn same_kind(a: &HostError, b: &HostError) -> bool {
    match (a, b) {
        (HostError::OutOfBounds { .. }, HostError::OutOfBounds { .. }) => a == b,
        _ => std::mem::discriminant(a) == std::mem::discriminant(b),
    }
}

fn check_guest_memory(body: &[u8]) {
    let mut r = Reader::new(body);
    let (Some(class), Some(size), Some(fill_len)) = (r.u8(), r.u8(), r.u8()) else { return };
    let size = match class % 4 {
        0 => size as usize,
        1 => size as usize * 256,
        2 => MAX_BUFFER_LEN + size as usize,
        _ => 0,
    };
    let fill = r.take(fill_len as usize);
    let mut mem = vec![0u8; size];
    if !fill.is_empty() {
        for chunk in mem.chunks_mut(fill.len()) {
            chunk.copy_from_slice(&fill[..chunk.len()]);
        }
    }
    while let (Some(kind), Some(ptr), Some(len)) = (r.u8(), r.u32(), r.u32()) {
        let before = mem.clone();
        let expected = expected_range(size, ptr, len);
        match kind % 3 {
            0 => {
                let got = GuestMemory::new(&mut mem).bytes(ptr, len).map(<[u8]>::to_vec);
                match (&got, &expected) {
                    (Ok(bytes), Ok(range)) => {
                        assert_eq!(bytes[..], before[range.clone()], "bytes({ptr}, {len})")
                    }
                    (Err(g), Err(e)) => {
                        assert!(same_kind(g, e), "bytes({ptr}, {len}) = {g:?}, expected {e:?}")
                    }
                    _ => panic!("bytes({ptr}, {len}) on {size} bytes = {got:?}, expected {expected:?}"),
                }
            }
            1 => {
                let got = GuestMemory::new(&mut mem).str(ptr, len).map(str::to_owned);
                let want = expected.and_then(|range| {
                    std::str::from_utf8(&before[range]).map(str::to_owned).map_err(|_| HostError::InvalidUtf8)
                });
                match (&got, &want) {
                    (Ok(g), Ok(w)) => assert_eq!(g, w, "str({ptr}, {len})"),
                    (Err(g), Err(e)) => assert!(same_kind(g, e), "str({ptr}, {len}) = {g:?}, expected {e:?}"),
                    _ => panic!("str({ptr}, {len}) on {size} bytes = {got:?}, expected {want:?}"),
                }
            }
            _ => {
                let data: Vec<u8> = (0..kind as usize / 3).map(|i| i as u8 ^ 0x5a).collect();
                let got = GuestMemory::new(&mut mem).write(ptr, len, &data);
                let want = expected.and_then(|range| {
                    if data.len() > range.len() {
                        Err(HostError::LimitExceeded("the guest's buffer is too small"))
                    } else {
                        Ok(range.start)
                    }
                });
                match (&got, &want) {
                    (Ok(()), Ok(start)) => {
                        let mut expect = before.clone();
                        expect[*start..*start + data.len()].copy_from_slice(&data);
                        assert!(mem == expect, "write({ptr}, {len}, {} bytes) wrote elsewhere", data.len());
                    }
                    (Err(g), Err(e)) => {
                        assert!(same_kind(g, e), "write({ptr}, {len}) = {g:?}, expected {e:?}");
                        assert!(mem == before, "a refused write changed memory");
                    }
                    _ => panic!(
                        "write({ptr}, {len}, {} bytes) on {size} bytes = {got:?}, expected {want:?}",
                        data.len()
                    ),
                }
            }
        }
    }
}

fn check_boundaries(body: &[u8]) {
    let Some((&k, bytes)) = body.split_first() else { return };
    let kind = InstrumentKind::from_i32((k % 4) as i32).expect("kinds 0..4");
    let got = decode_boundaries(kind, bytes);
    let values: Vec<f64> = bytes.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().unwrap())).collect();
    let want: Result<Vec<u64>, HostError> = if bytes.is_empty() {
        Ok(Vec::new())
    } else if kind != InstrumentKind::Histogram {
        Err(HostError::InvalidArgument(""))
    } else if bytes.len() % 8 != 0 {
        Err(HostError::Malformed(""))
    } else if values.len() > MAX_HISTOGRAM_BOUNDARIES {
        Err(HostError::LimitExceeded(""))
    } else if values.iter().any(|v| !v.is_finite()) || values.windows(2).any(|w| w[0] >= w[1]) {
        Err(HostError::InvalidArgument(""))
    } else {
        Ok(values.iter().map(|v| v.to_bits()).collect())
    };
    match (&got, &want) {
        (Ok(g), Ok(w)) => assert_eq!(g, w, "boundaries"),
        (Err(g), Err(w)) => {
            assert!(same_kind(g, w), "boundaries {values:?} of {kind:?}: {g:?}, expected {w:?}")
        }
        _ => panic!("boundaries {values:?} of {kind:?} ({} bytes): {got:?}, expected {want:?}", bytes.len()),
    }
}

fn check_name_and_unit(body: &[u8]) {
    let mut r = Reader::new(body);
    let n = r.u8().unwrap_or(0) as usize;
    let name = String::from_utf8_lossy(r.take(n)).into_owned();
    let m = r.u8().unwrap_or(0) as usize;
    let unit = String::from_utf8_lossy(r.take(m)).into_owned();
    let mut chars = name.chars();
    let name_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || "_.-/".contains(c))
        && name.chars().count() <= 255;
    let unit_ok = unit.is_ascii() && unit.len() <= 63;
    let got = validate_name_and_unit(&name, &unit);
    assert_eq!(got.is_ok(), name_ok && unit_ok, "name {name:?} unit {unit:?}: {got:?}");
    if let Err(e) = got {
        assert!(matches!(e, HostError::InvalidArgument(_)), "{e:?}");
    }
}

fn check_names(body: &[u8]) {
    let mut r = Reader::new(body);
    let n = r.u16().unwrap_or(0) as usize;
    let (a, b) = (r.take(n), r.rest());
    let mut names = FunctionNames::default();
    let mut model: HashMap<u32, String> = HashMap::new();
    let mut ids = HashSet::new();
    for table in [a, b] {
        let want = parse_names_table(table);
        let got = names.register(table);
        match (&got, &want) {
            (Ok(n), Some(entries)) => {
                assert_eq!(*n, entries.len(), "names counted");
                for (id, name) in entries {
                    ids.insert(*id);
                    model.insert(*id, name.clone());
                }
            }
            (Err(e), None) => {
                assert!(matches!(e, HostError::Malformed(_) | HostError::InvalidUtf8), "{e:?}");
                // Ids the refused table names, as far as it reads: none of them may have changed.
                let mut r = Reader::new(table);
                while let (Some(id), Some(len)) = (r.u32(), r.u32()) {
                    ids.insert(id);
                    r.take(len as usize);
                }
            }
            _ => panic!("names table {table:?}: register gave {got:?}, the model {want:?}"),
        }
        for id in &ids {
            let want = model.get(id).cloned().unwrap_or_else(|| format!("func[{id}]"));
            assert_eq!(names.name(*id), want, "name of function {id}");
        }
    }
}

/// The W3C model: trace id, span id and sampled flag of a traceparent the plugin must accept.
fn w3c(traceparent: &str) -> Option<(String, String, bool)> {
    let t = traceparent.trim();
    let fields: Vec<&str> = t.split('-').collect();
    let hex = |f: &str, width: usize| {
        f.len() == width && f.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    if fields.len() < 4 || !hex(fields[0], 2) || fields[0] == "ff" || (fields[0] == "00" && fields.len() != 4)
    {
        return None;
    }
    if !hex(fields[1], 32) || !hex(fields[2], 16) || !hex(fields[3], 2) {
        return None;
    }
    if fields[1].bytes().all(|b| b == b'0') || fields[2].bytes().all(|b| b == b'0') {
        return None;
    }
    let flags = u8::from_str_radix(fields[3], 16).ok()?;
    Some((fields[1].to_owned(), fields[2].to_owned(), flags & 1 == 1))
}

fn check_traceparent(body: &[u8]) {
    let text = String::from_utf8_lossy(body);
    let (tp, ts) = text.split_once('\n').unwrap_or((&text, ""));
    let got = propagation::extract(tp, ts);
    let want = w3c(tp);
    assert_eq!(got.is_some(), want.is_some(), "extract({tp:?}) = {got:?}, the W3C model says {want:?}");
    let (Some(cx), Some((trace, span, sampled))) = (got, want) else { return };
    let sc: SpanContext = cx.span().span_context().clone();
    assert!(sc.is_remote() && sc.is_valid());
    assert_eq!(
        (sc.trace_id().to_string(), sc.span_id().to_string(), sc.is_sampled()),
        (trace.clone(), span.clone(), sampled)
    );
    let headers = propagation::inject(&sc).expect("a valid context injects");
    assert_eq!(headers.traceparent, format!("00-{trace}-{span}-{:02x}", sampled as u8), "inject");
    assert_eq!(headers.tracestate, sc.trace_state().header(), "tracestate");
    let again =
        propagation::extract(&headers.traceparent, &headers.tracestate).expect("injected headers extract");
    let sc2 = again.span().span_context().clone();
    assert_eq!(
        (sc2.trace_id(), sc2.span_id(), sc2.trace_flags()),
        (sc.trace_id(), sc.span_id(), sc.trace_flags())
    );
    assert_eq!(sc2.trace_state().header(), sc.trace_state().header(), "tracestate round trip");
}

fn check_truncate(body: &[u8]) {
    let Some((&max, rest)) = body.split_first() else { return };
    let s = String::from_utf8_lossy(rest);
    let cut = attributes::truncate_str(&s, max as usize);
    assert!(s.starts_with(cut), "not a prefix");
    assert_eq!(cut.chars().count(), s.chars().count().min(max as usize), "truncate_str({s:?}, {max})");
}
