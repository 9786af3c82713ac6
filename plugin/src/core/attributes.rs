//! Decoding of attribute buffers (the `wasmedge_otel_abi::wire` format) into OpenTelemetry
//! key-values.
//!
//! A buffer is decoded completely before anything is recorded, so a malformed buffer is refused
//! whole and never leaves a half-applied set of attributes behind.

use super::error::{HostError, HostResult};
use opentelemetry::{Array, Key, KeyValue, StringValue, Value};
use std::collections::HashMap;
use wasmedge_otel_abi::wire;

/// Reads little-endian fields from a buffer, failing with [`HostError::Malformed`] at the end.
struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> HostResult<&'a [u8]> {
        if self.buf.len() < n {
            return Err(HostError::Malformed("buffer ends inside an attribute"));
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> HostResult<[u8; N]> {
        Ok(self.take(N)?.try_into().expect("take returned N bytes"))
    }

    fn u8(&mut self) -> HostResult<u8> {
        Ok(self.array::<1>()?[0])
    }

    fn u32(&mut self) -> HostResult<usize> {
        Ok(u32::from_le_bytes(self.array()?) as usize)
    }

    fn i64(&mut self) -> HostResult<i64> {
        Ok(i64::from_le_bytes(self.array()?))
    }

    fn f64(&mut self) -> HostResult<f64> {
        Ok(f64::from_le_bytes(self.array()?))
    }

    fn bool(&mut self) -> HostResult<bool> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(HostError::Malformed("boolean is neither 0 nor 1")),
        }
    }

    fn str(&mut self) -> HostResult<&'a str> {
        let len = self.u32()?;
        std::str::from_utf8(self.take(len)?).map_err(|_| HostError::InvalidUtf8)
    }

    /// An element count, checked against the bytes left so a forged count cannot make the host
    /// reserve memory the buffer does not back.
    fn count(&mut self, min_element_size: usize) -> HostResult<usize> {
        let n = self.u32()?;
        if n.saturating_mul(min_element_size) > self.buf.len() {
            return Err(HostError::Malformed("array count exceeds the buffer"));
        }
        Ok(n)
    }

    fn many<T>(
        &mut self,
        min_size: usize,
        mut one: impl FnMut(&mut Self) -> HostResult<T>,
    ) -> HostResult<Vec<T>> {
        let n = self.count(min_size)?;
        (0..n).map(|_| one(self)).collect()
    }
}

fn value(r: &mut Reader<'_>, tag: u8) -> HostResult<Value> {
    let string = |r: &mut Reader<'_>| r.str().map(|s| StringValue::from(s.to_owned()));
    Ok(match tag {
        wire::STRING => Value::String(string(r)?),
        wire::BOOL => Value::Bool(r.bool()?),
        wire::I64 => Value::I64(r.i64()?),
        wire::F64 => Value::F64(r.f64()?),
        wire::STRING_ARRAY => Value::Array(Array::String(r.many(4, string)?)),
        wire::BOOL_ARRAY => Value::Array(Array::Bool(r.many(1, Reader::bool)?)),
        wire::I64_ARRAY => Value::Array(Array::I64(r.many(8, Reader::i64)?)),
        wire::F64_ARRAY => Value::Array(Array::F64(r.many(8, Reader::f64)?)),
        _ => return Err(HostError::Malformed("unknown value type tag")),
    })
}

/// Longest key [`KeyCache`] keeps.
const MAX_CACHED_KEY_LEN: usize = 64;
/// Most keys [`KeyCache`] keeps; later new keys are allocated each time.
const MAX_CACHED_KEYS: usize = 1024;

/// The attribute keys one instance used before, shared by reference count.
///
/// Guests use a handful of keys over and over; an owned key costs an allocation per attribute,
/// freed on the export thread, where the allocator's per-thread cache cannot recycle it. Bounded
/// in count and key length, so a guest inventing keys cannot grow it, and per instance, so one
/// guest cannot slow another's lookups.
#[derive(Default)]
pub struct KeyCache {
    keys: HashMap<Box<str>, Key, foldhash::fast::RandomState>,
}

impl KeyCache {
    /// The key for `s`, shared with earlier uses when cached.
    pub fn key(&mut self, s: &str) -> Key {
        if let Some(key) = self.keys.get(s) {
            return key.clone();
        }
        if s.len() > MAX_CACHED_KEY_LEN || self.keys.len() >= MAX_CACHED_KEYS {
            return Key::from(s.to_owned());
        }
        let key = Key::from(std::sync::Arc::<str>::from(s));
        self.keys.insert(s.into(), key.clone());
        key
    }
}

/// Decodes a whole attribute buffer, taking keys from `keys`. Keys must be non-empty; when a key
/// repeats, the last value wins, as the ABI documents.
pub fn decode(buf: &[u8], keys: &mut KeyCache) -> HostResult<Vec<KeyValue>> {
    let mut r = Reader { buf };
    let mut out = Vec::new();
    while !r.buf.is_empty() {
        let key = r.str()?;
        if key.is_empty() {
            return Err(HostError::Malformed("empty attribute key"));
        }
        let tag = r.u8()?;
        out.push(KeyValue::new(keys.key(key), value(&mut r, tag)?));
    }
    merge_repeated_keys(&mut out);
    Ok(out)
}

/// `s` cut to at most `max_chars` characters.
pub fn truncate_str(s: &str, max_chars: usize) -> &str {
    s.char_indices().nth(max_chars).map_or(s, |(i, _)| &s[..i])
}

/// Truncates every string value (and every string in an array) to at most `max_chars`
/// characters, as `OTEL_*_ATTRIBUTE_VALUE_LENGTH_LIMIT` asks. Other values are left alone.
pub fn truncate_values(kvs: &mut [KeyValue], max_chars: usize) {
    fn cut(s: &StringValue, max_chars: usize) -> Option<StringValue> {
        let cut = truncate_str(s.as_str(), max_chars);
        (cut.len() < s.as_str().len()).then(|| StringValue::from(cut.to_owned()))
    }
    for kv in kvs {
        match &mut kv.value {
            Value::String(s) => {
                if let Some(t) = cut(s, max_chars) {
                    *s = t;
                }
            }
            Value::Array(Array::String(items)) => {
                for s in items.iter_mut() {
                    if let Some(t) = cut(s, max_chars) {
                        *s = t;
                    }
                }
            }
            _ => {}
        }
    }
}

/// Leaves one attribute per key, where the key first appeared, with the value it was given last:
/// what setting a key again means in OpenTelemetry (the SDK's own `set_attribute` appends).
pub fn merge_repeated_keys(kvs: &mut Vec<KeyValue>) {
    // Few attributes (the usual case): compare pairwise, and allocate only when a key repeats.
    if kvs.len() <= 16 {
        let repeats = (1..kvs.len()).any(|i| kvs[..i].iter().any(|earlier| earlier.key == kvs[i].key));
        if !repeats {
            return;
        }
    }
    let mut first_at: HashMap<Key, usize> = HashMap::with_capacity(kvs.len());
    let mut merged: Vec<KeyValue> = Vec::with_capacity(kvs.len());
    for kv in kvs.drain(..) {
        match first_at.get(&kv.key) {
            Some(&i) => merged[i].value = kv.value,
            None => {
                first_at.insert(kv.key.clone(), merged.len());
                merged.push(kv);
            }
        }
    }
    *kvs = merged;
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// [`decode`] with a fresh key cache.
    fn decoded(buf: &[u8]) -> HostResult<Vec<KeyValue>> {
        decode(buf, &mut KeyCache::default())
    }

    /// Test-side encoder mirroring the wire format, used by other modules' tests too.
    #[derive(Default)]
    pub struct Enc(pub Vec<u8>);

    impl Enc {
        pub fn key(mut self, k: &str, tag: u8) -> Self {
            self.0.extend((k.len() as u32).to_le_bytes());
            self.0.extend(k.as_bytes());
            self.0.push(tag);
            self
        }
        pub fn raw_str(mut self, s: &[u8]) -> Self {
            self.0.extend((s.len() as u32).to_le_bytes());
            self.0.extend(s);
            self
        }
        pub fn str(self, k: &str, v: &str) -> Self {
            self.key(k, wire::STRING).raw_str(v.as_bytes())
        }
        pub fn i64(mut self, k: &str, v: i64) -> Self {
            self = self.key(k, wire::I64);
            self.0.extend(v.to_le_bytes());
            self
        }
        pub fn f64(mut self, k: &str, v: f64) -> Self {
            self = self.key(k, wire::F64);
            self.0.extend(v.to_le_bytes());
            self
        }
        pub fn bool(mut self, k: &str, v: bool) -> Self {
            self = self.key(k, wire::BOOL);
            self.0.push(v as u8);
            self
        }
    }

    #[test]
    fn decodes_every_scalar_type() {
        let buf = Enc::default().str("s", "v").bool("b", true).i64("i", -7).f64("f", 0.5).0;
        let kvs = decoded(&buf).unwrap();
        assert_eq!(
            kvs,
            vec![
                KeyValue::new("s", "v"),
                KeyValue::new("b", true),
                KeyValue::new("i", -7i64),
                KeyValue::new("f", 0.5),
            ]
        );
    }

    #[test]
    fn decodes_every_array_type() {
        let mut e = Enc::default().key("ss", wire::STRING_ARRAY);
        e.0.extend(2u32.to_le_bytes());
        e = e.raw_str(b"a").raw_str(b"bc").key("bs", wire::BOOL_ARRAY);
        e.0.extend(2u32.to_le_bytes());
        e.0.extend([1, 0]);
        e = e.key("is", wire::I64_ARRAY);
        e.0.extend(1u32.to_le_bytes());
        e.0.extend(42i64.to_le_bytes());
        e = e.key("fs", wire::F64_ARRAY);
        e.0.extend(0u32.to_le_bytes());
        let kvs = decoded(&e.0).unwrap();
        assert_eq!(
            kvs,
            vec![
                KeyValue::new("ss", Value::Array(Array::String(vec!["a".into(), "bc".into()]))),
                KeyValue::new("bs", Value::Array(Array::Bool(vec![true, false]))),
                KeyValue::new("is", Value::Array(Array::I64(vec![42]))),
                KeyValue::new("fs", Value::Array(Array::F64(vec![]))),
            ]
        );
    }

    #[test]
    fn key_cache_shares_short_keys_and_stays_bounded() {
        let mut cache = KeyCache::default();
        let a = cache.key("http.route");
        assert_eq!(a.as_str(), "http.route");
        assert!(std::ptr::eq(a.as_str(), cache.key("http.route").as_str()), "a cached key is shared");
        let long = "k".repeat(MAX_CACHED_KEY_LEN + 1);
        assert_eq!(cache.key(&long).as_str(), long);
        for i in 0..2 * MAX_CACHED_KEYS {
            assert_eq!(cache.key(&format!("key{i}")).as_str(), format!("key{i}"));
        }
        assert_eq!(cache.keys.len(), MAX_CACHED_KEYS, "long keys and keys past the bound are not kept");
    }

    #[test]
    fn empty_buffer_is_no_attributes() {
        assert!(decoded(&[]).unwrap().is_empty());
    }

    #[test]
    fn last_value_of_a_repeated_key_wins() {
        let buf = Enc::default().i64("a", 1).i64("b", 2).i64("a", 3).0;
        assert_eq!(decoded(&buf).unwrap(), vec![KeyValue::new("a", 3i64), KeyValue::new("b", 2i64)]);
    }

    #[test]
    fn merging_keeps_first_positions_and_last_values_at_any_size() {
        for n in [3usize, 14, 15, 300] {
            let mut kvs: Vec<KeyValue> = (0..n).map(|i| KeyValue::new(format!("k{i}"), i as i64)).collect();
            kvs.push(KeyValue::new("k0", -1i64));
            kvs.push(KeyValue::new("k1", -2i64));
            merge_repeated_keys(&mut kvs);
            assert_eq!(kvs.len(), n, "n = {n}");
            assert_eq!(kvs[0], KeyValue::new("k0", -1i64));
            assert_eq!(kvs[1], KeyValue::new("k1", -2i64));
            assert_eq!(kvs[n - 1], KeyValue::new(format!("k{}", n - 1), (n - 1) as i64));
        }
    }

    #[test]
    fn refuses_malformed_buffers() {
        let good = Enc::default().str("key", "value").0;
        for cut in 1..good.len() {
            assert!(matches!(decoded(&good[..cut]), Err(HostError::Malformed(_))), "cut at {cut}");
        }
        let bad_tag = Enc::default().key("k", 99).0;
        assert!(matches!(decoded(&bad_tag), Err(HostError::Malformed(_))));
        let bad_bool = Enc::default().key("k", wire::BOOL).0.into_iter().chain([2]).collect::<Vec<_>>();
        assert!(matches!(decoded(&bad_bool), Err(HostError::Malformed(_))));
        let empty_key = Enc::default().str("", "v").0;
        assert!(matches!(decoded(&empty_key), Err(HostError::Malformed(_))));
    }

    #[test]
    fn truncates_strings_by_characters() {
        let mut kvs = vec![
            KeyValue::new("s", "héllo"),
            KeyValue::new("a", Value::Array(Array::String(vec!["abcdef".into(), "x".into()]))),
            KeyValue::new("i", 123456i64),
        ];
        truncate_values(&mut kvs, 2);
        assert_eq!(
            kvs,
            vec![
                KeyValue::new("s", "hé"),
                KeyValue::new("a", Value::Array(Array::String(vec!["ab".into(), "x".into()]))),
                KeyValue::new("i", 123456i64),
            ]
        );
    }

    #[test]
    fn refuses_array_counts_the_buffer_cannot_back() {
        let mut e = Enc::default().key("k", wire::I64_ARRAY);
        e.0.extend(u32::MAX.to_le_bytes());
        assert!(matches!(decoded(&e.0), Err(HostError::Malformed(_))));
    }

    #[test]
    fn refuses_invalid_utf8_in_keys_and_values() {
        let bad_value = Enc::default().key("k", wire::STRING).raw_str(&[0xff]).0;
        assert_eq!(decoded(&bad_value), Err(HostError::InvalidUtf8));
        let bad_key = Enc::default().raw_str(&[0xc3]).0;
        assert_eq!(decoded(&bad_key), Err(HostError::InvalidUtf8));
    }
}
