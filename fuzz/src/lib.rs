//! Fuzz harness for the layer that decodes what a guest passes to the plugin: attribute buffers,
//! `GuestMemory` ranges, histogram boundaries, instrument names, function names tables,
//! `traceparent` headers, and the whole host-function table driven as a sequence of calls
//! against one `Instance`.
//!
//! The same code runs in two places:
//! - the cargo-fuzz targets in `fuzz/fuzz_targets/` (`make fuzz`), coverage-guided, where a
//!   panic is a crash libFuzzer saves and minimizes;
//! - `plugin/tests/fuzz_decode.rs`, which includes this file as a module (so the plugin needs no
//!   extra dependency) and runs a fixed, seeded number of generated inputs plus the hand-made
//!   seeds and every saved regression input, inside `cargo test`.
//!
//! Every invariant is an `assert!`: a broken one panics with what was expected.
//! Only the plugin's dependencies are used (no `arbitrary`): inputs are read with [`Reader`].
#![forbid(unsafe_code)]
#![allow(clippy::new_without_default)]

#[path = "calls.rs"]
pub mod calls;
#[path = "decoders.rs"]
pub mod decoders;
#[path = "gen.rs"]
pub mod gen;

/// Reads fields from a fuzz input; every read past the end yields `None`.
pub struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Reader { data }
    }

    /// Whether every byte was read.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The next byte.
    pub fn u8(&mut self) -> Option<u8> {
        let (first, rest) = self.data.split_first()?;
        self.data = rest;
        Some(*first)
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        let head = self.data.get(..N)?.try_into().ok()?;
        self.data = &self.data[N..];
        Some(head)
    }

    /// A little-endian `u16`.
    pub fn u16(&mut self) -> Option<u16> {
        self.array().map(u16::from_le_bytes)
    }

    /// A little-endian `u32`.
    pub fn u32(&mut self) -> Option<u32> {
        self.array().map(u32::from_le_bytes)
    }

    /// A little-endian `u64`.
    pub fn u64(&mut self) -> Option<u64> {
        self.array().map(u64::from_le_bytes)
    }

    /// Up to `n` bytes (fewer at the end of the input).
    pub fn take(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.data.len());
        let (head, rest) = self.data.split_at(n);
        self.data = rest;
        head
    }

    /// Everything not read yet.
    pub fn rest(&mut self) -> &'a [u8] {
        self.take(self.data.len())
    }
}

/// A tiny deterministic PRNG (xorshift64*), for the bounded run in `cargo test`.
#[derive(Clone, Debug)]
pub struct XorShift(u64);

impl XorShift {
    /// A generator from a seed (0 is replaced: xorshift never leaves the all-zero state).
    pub fn new(seed: u64) -> Self {
        XorShift(if seed == 0 { 0x9e37_79b9_7f4a_7c15 } else { seed })
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number below `n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u32) -> bool {
        self.below(100) < percent as usize
    }

    /// A random byte.
    pub fn byte(&mut self) -> u8 {
        self.next_u64() as u8
    }

    /// One of `items`.
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}
