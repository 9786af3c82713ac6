//! The attribute wire encoder (see [`abi::wire`](crate::abi::wire)).
//!
//! Each attribute is `key_len:u32 key tag:u8 value`, all integers little-endian; strings are
//! `len:u32 bytes`, booleans one byte (0 or 1), `i64`/`f64` eight bytes, arrays `count:u32` followed
//! by the elements encoded as the scalar. Attributes are simply concatenated.
//!
//! The [safe API](crate::Span) encodes into a [`BUFFER_LEN`]-byte buffer on the stack; these functions
//! are public for callers of the [`raw`](crate::raw) functions.
#![forbid(unsafe_code)]

use crate::abi::wire;
use crate::{KeyValue, Value};

/// Size of the stack buffer the safe API encodes attributes into, in bytes.
///
/// Span attributes that do not fit in one buffer are sent in several calls; event and exception
/// attributes that do not fit are dropped; an attribute whose encoding alone is longer than this is
/// always dropped, and so is one with an empty key. See the [crate docs](crate#attribute-buffers).
pub const BUFFER_LEN: usize = 1024;

/// Number of bytes `attribute` takes on the wire (saturating at `usize::MAX`).
pub fn encoded_len(attribute: &KeyValue<'_>) -> usize {
    let value = match attribute.value {
        Value::Str(s) => s.len().saturating_add(4),
        Value::Bool(_) => 1,
        Value::I64(_) | Value::F64(_) => 8,
        Value::StrArray(a) => a.iter().fold(4usize, |n, s| n.saturating_add(4).saturating_add(s.len())),
        Value::BoolArray(a) => a.len().saturating_add(4),
        Value::I64Array(a) => a.len().saturating_mul(8).saturating_add(4),
        Value::F64Array(a) => a.len().saturating_mul(8).saturating_add(4),
    };
    attribute.key.len().saturating_add(5).saturating_add(value)
}

/// Encodes `attribute` at the start of `out` and returns the number of bytes written, or `None`
/// (writing nothing) if `out` is shorter than [`encoded_len`].
pub fn encode(attribute: &KeyValue<'_>, out: &mut [u8]) -> Option<usize> {
    let len = encoded_len(attribute);
    // Every length inside is at most `len`, so none is truncated by the `u32` casts of the writer.
    // (Only reachable on 64-bit targets, where this crate runs against the mock.)
    if len > u32::MAX as usize {
        return None;
    }
    let mut w = Writer { out: out.get_mut(..len)?, pos: 0 };
    w.attribute(attribute);
    Some(len)
}

/// One element of a value: a scalar, or an element of an array.
enum Element<'a> {
    Str(&'a str),
    Bool(bool),
    /// An `i64` or the bits of an `f64`.
    Word(u64),
}

/// The wire tag of `value`, and its element count if it is an array.
fn tag(value: Value<'_>) -> (u8, Option<usize>) {
    match value {
        Value::Str(_) => (wire::STRING, None),
        Value::Bool(_) => (wire::BOOL, None),
        Value::I64(_) => (wire::I64, None),
        Value::F64(_) => (wire::F64, None),
        Value::StrArray(a) => (wire::STRING_ARRAY, Some(a.len())),
        Value::BoolArray(a) => (wire::BOOL_ARRAY, Some(a.len())),
        Value::I64Array(a) => (wire::I64_ARRAY, Some(a.len())),
        Value::F64Array(a) => (wire::F64_ARRAY, Some(a.len())),
    }
}

/// Element `i` of `value` (a scalar is its own element 0).
fn element(value: Value<'_>, i: usize) -> Option<Element<'_>> {
    Some(match value {
        Value::Str(s) => Element::Str(s),
        Value::Bool(b) => Element::Bool(b),
        Value::I64(v) => Element::Word(v as u64),
        Value::F64(v) => Element::Word(v.to_bits()),
        Value::StrArray(a) => Element::Str(a.get(i)?),
        Value::BoolArray(a) => Element::Bool(*a.get(i)?),
        Value::I64Array(a) => Element::Word(*a.get(i)? as u64),
        Value::F64Array(a) => Element::Word(a.get(i)?.to_bits()),
    })
}

/// Writes the wire format into `out` from `pos`, one piece at a time. A piece that does not fit is not
/// written, but `pos` still advances (saturating), so after an attribute `pos` is where it ends: it was
/// written whole if and only if that is within `out`. One pass both measures and writes, and nothing
/// here can panic, which keeps panic code out of the guest.
struct Writer<'b> {
    out: &'b mut [u8],
    pos: usize,
}

impl Writer<'_> {
    #[inline(never)]
    fn bytes(&mut self, bytes: &[u8]) {
        self.pos = match self.pos.checked_add(bytes.len()) {
            Some(end) => {
                if let Some(dst) = self.out.get_mut(self.pos..end) {
                    copy(dst, bytes);
                }
                end
            }
            None => usize::MAX,
        };
    }

    fn u32(&mut self, v: usize) {
        self.bytes(&(v as u32).to_le_bytes());
    }

    fn str(&mut self, s: &str) {
        self.u32(s.len());
        self.bytes(s.as_bytes());
    }

    fn attribute(&mut self, attribute: &KeyValue<'_>) {
        self.str(attribute.key);
        let value = attribute.value;
        let (tag, count) = tag(value);
        self.bytes(&[tag]);
        if let Some(count) = count {
            self.u32(count);
        }
        for i in 0..count.unwrap_or(1) {
            match element(value, i) {
                Some(Element::Str(s)) => self.str(s),
                Some(Element::Bool(b)) => self.bytes(&[b as u8]),
                Some(Element::Word(w)) => self.bytes(&w.to_le_bytes()),
                None => {}
            }
        }
    }
}

/// `dst.copy_from_slice(src)` (equal lengths), without `memory.copy` for short pieces.
///
/// Built with bulk memory (on by default for wasm since Rust 1.87), a copy of unknown length is a
/// `memory.copy` instruction, which WasmEdge runs as a call into the runtime of about a hundred
/// native instructions. The pieces of an attribute (lengths, tags, numbers, typical keys and
/// values) are a few bytes each, so up to 32 bytes move in 8-byte words and a short tail.
fn copy(dst: &mut [u8], src: &[u8]) {
    if src.len() > 32 {
        dst.copy_from_slice(src);
        return;
    }
    let mut dst_words = dst.chunks_exact_mut(8);
    let mut src_words = src.chunks_exact(8);
    for (d, s) in (&mut dst_words).zip(&mut src_words) {
        let word: [u8; 8] = s.try_into().unwrap_or([0; 8]);
        d.copy_from_slice(&word);
    }
    // The tail (0-7 bytes) as at most one 4-, one 2- and one 1-byte move: fixed sizes, no loop
    // that the compiler would turn back into `memory.copy`.
    let (mut dst, mut src) = (dst_words.into_remainder(), src_words.remainder());
    for n in [4, 2, 1] {
        if src.len() >= n && dst.len() >= n {
            let (d, dst_rest) = dst.split_at_mut(n);
            let (s, src_rest) = src.split_at(n);
            d.copy_from_slice(s);
            (dst, src) = (dst_rest, src_rest);
        }
    }
}

/// Encodes `attributes[from..]` into `buf`, in order, and returns the encoded bytes and the index of the
/// first attribute not yet handled (`attributes.len()` when all were).
///
/// An attribute with an empty key (which the host refuses, with the whole buffer) or longer than `buf`
/// is skipped. One that fits `buf` but not the space left either ends the batch (`skip_unfit ==
/// false`: the caller sends it in the next batch) or is skipped (`skip_unfit == true`: there is no
/// next batch).
pub(crate) fn fill<'b>(
    buf: &'b mut [u8],
    attributes: &[KeyValue<'_>],
    from: usize,
    skip_unfit: bool,
) -> (&'b [u8], usize) {
    let capacity = buf.len();
    let mut used = 0;
    let mut next = from;
    while let Some(attribute) = attributes.get(next) {
        if !attribute.key.is_empty() {
            // Bytes written past `used` by an attribute that does not fit are not part of the result.
            let mut w = Writer { out: buf, pos: used };
            w.attribute(attribute);
            if w.pos <= capacity {
                used = w.pos;
            } else if w.pos - used <= capacity && !skip_unfit {
                break;
            }
        }
        next += 1;
    }
    (buf.get(..used).unwrap_or(&[]), next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kv;
    use std::vec::Vec;

    fn enc(attribute: KeyValue<'_>) -> Vec<u8> {
        let mut buf = [0u8; 256];
        let n = encode(&attribute, &mut buf).unwrap();
        assert_eq!(n, encoded_len(&attribute));
        buf[..n].to_vec()
    }

    #[test]
    fn every_value_type_matches_the_wire_format() {
        #[rustfmt::skip]
        let cases: &[(KeyValue<'_>, &[u8])] = &[
            (kv("s", "hé"), &[1, 0, 0, 0, b's', 1, 3, 0, 0, 0, b'h', 0xc3, 0xa9]),
            (kv("", ""), &[0, 0, 0, 0, 1, 0, 0, 0, 0]),
            (kv("b", true), &[1, 0, 0, 0, b'b', 2, 1]),
            (kv("b", false), &[1, 0, 0, 0, b'b', 2, 0]),
            (kv("i", -2i64), &[1, 0, 0, 0, b'i', 3, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
            (kv("i", 0x0102_0304_0506_0708i64), &[1, 0, 0, 0, b'i', 3, 8, 7, 6, 5, 4, 3, 2, 1]),
            (kv("i", 7i32), &[1, 0, 0, 0, b'i', 3, 7, 0, 0, 0, 0, 0, 0, 0]),
            (kv("i", u32::MAX), &[1, 0, 0, 0, b'i', 3, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]),
            // 1.5 = 0x3FF8_0000_0000_0000
            (kv("f", 1.5f64), &[1, 0, 0, 0, b'f', 4, 0, 0, 0, 0, 0, 0, 0xf8, 0x3f]),
            (kv("f", -0.0f64), &[1, 0, 0, 0, b'f', 4, 0, 0, 0, 0, 0, 0, 0, 0x80]),
            (kv("sa", &["a", "bc"]), &[2, 0, 0, 0, b's', b'a', 5, 2, 0, 0, 0,
                1, 0, 0, 0, b'a', 2, 0, 0, 0, b'b', b'c']),
            (kv("sa", &[] as &[&str]), &[2, 0, 0, 0, b's', b'a', 5, 0, 0, 0, 0]),
            (kv("ba", &[true, false, true]), &[2, 0, 0, 0, b'b', b'a', 6, 3, 0, 0, 0, 1, 0, 1]),
            (kv("ia", &[1i64, -1]), &[2, 0, 0, 0, b'i', b'a', 7, 2, 0, 0, 0,
                1, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
            // 2.0 = 0x4000_0000_0000_0000, -1.0 = 0xBFF0_0000_0000_0000
            (kv("fa", &[2.0f64, -1.0]), &[2, 0, 0, 0, b'f', b'a', 8, 2, 0, 0, 0,
                0, 0, 0, 0, 0, 0, 0, 0x40, 0, 0, 0, 0, 0, 0, 0xf0, 0xbf]),
        ];
        for (attribute, expected) in cases {
            assert_eq!(&enc(*attribute)[..], *expected, "{attribute:?}");
        }
    }

    #[test]
    fn fill_writes_what_encode_writes_and_measures_as_encoded_len() {
        let attrs = [
            kv("s", "hé"),
            kv("b", true),
            kv("i", -2i64),
            kv("f", 1.5),
            kv("sa", &["a", "", "bc"]),
            kv("ba", &[true, false]),
            kv("ia", &[1i64, i64::MIN]),
            kv("fa", &[2.0, -0.0]),
            kv("empty", &[] as &[f64]),
        ];
        for attribute in &attrs {
            let mut buf = [0xaau8; 128];
            let (bytes, next) = fill(&mut buf, core::slice::from_ref(attribute), 0, false);
            assert_eq!((bytes, next), (&enc(*attribute)[..], 1), "{attribute:?}");
            assert_eq!(bytes.len(), encoded_len(attribute));
        }
        let mut buf = [0u8; 256];
        let all: Vec<u8> = attrs.iter().flat_map(|a| enc(*a)).collect();
        assert_eq!(fill(&mut buf, &attrs, 0, false), (&all[..], attrs.len()));
    }

    #[test]
    fn tags_are_the_abi_tags() {
        let tags: Vec<u8> = [
            kv("", ""),
            kv("", true),
            kv("", 1i64),
            kv("", 1.0),
            kv("", &[""]),
            kv("", &[true]),
            kv("", &[1i64]),
            kv("", &[1.0]),
        ]
        .iter()
        .map(|a| enc(*a)[4])
        .collect();
        let abi: Vec<u8> = wire::TAGS.iter().map(|(t, _)| *t).collect();
        assert_eq!(tags, abi);
    }

    #[test]
    fn too_small_output_writes_nothing() {
        let mut buf = [0xaau8; 8];
        assert_eq!(encode(&kv("key", "value"), &mut buf), None);
        assert_eq!(buf, [0xaa; 8]);
        assert_eq!(encode(&kv("k", 1i64), &mut [0; 13]), None);
        assert_eq!(encode(&kv("k", 1i64), &mut [0; 14]), Some(14));
    }

    #[test]
    fn fill_skips_empty_keys() {
        let attrs = [kv("", 1i64), kv("a", true), kv("", "x")];
        let mut buf = [0u8; 64];
        let (bytes, next) = fill(&mut buf, &attrs, 0, false);
        assert_eq!((bytes, next), (&[1, 0, 0, 0, b'a', 2, 1][..], 3));
        // `encode` itself encodes what it is given.
        assert_eq!(encode(&kv("", true), &mut buf), Some(6));
    }

    #[test]
    fn fill_splits_skips_and_resumes() {
        let big = [b'x'; 40];
        let big = core::str::from_utf8(&big).unwrap();
        // 5 + 1 + 1 = 7 bytes each; `big` is 5 + 1 + 1 + 4 + 40 = 51 bytes, more than the 32-byte buffer.
        let attrs = [kv("a", true), kv("b", true), kv("c", big), kv("d", true), kv("e", true), kv("f", true)];
        let mut buf = [0u8; 32];
        let (bytes, next) = fill(&mut buf, &attrs, 0, false);
        assert_eq!((bytes.len(), next), (28, 5), "a, b, d, e fit; f does not");
        let (bytes, next) = fill(&mut buf, &attrs, next, false);
        assert_eq!((bytes, next), (&[1, 0, 0, 0, b'f', 2, 1][..], 6));
        let (bytes, next) = fill(&mut buf, &attrs, 6, false);
        assert_eq!((bytes.len(), next), (0, 6));
        // Skipping: 7 + 14 bytes fit, then neither `c` nor `d` (7 bytes each) fits the 4 bytes left.
        let mut buf = [0u8; 25];
        let attrs = [kv("a", true), kv("b", 1i64), kv("c", true), kv("d", true)];
        let (bytes, next) = fill(&mut buf, &attrs, 0, true);
        assert_eq!(next, 4);
        assert_eq!(bytes, [enc(attrs[0]), enc(attrs[1])].concat());
    }

    #[test]
    fn copy_moves_every_length_exactly() {
        let src: Vec<u8> = (1..=48).collect();
        for n in 0..=src.len() {
            let mut dst = [0u8; 50];
            copy(&mut dst[1..1 + n], &src[..n]);
            assert_eq!(&dst[1..1 + n], &src[..n], "length {n}");
            assert!(dst[0] == 0 && dst[1 + n..].iter().all(|b| *b == 0), "length {n} wrote outside");
        }
    }
}
