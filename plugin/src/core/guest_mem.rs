//! Bounds-checked view of a guest's linear memory.
//!
//! The FFI layer hands over the whole memory as one byte slice; every guest `(ptr, len)` pair is
//! checked here, together, with overflow-free arithmetic, before any byte is read or written.
//! Tests build a `GuestMemory` over a plain `Vec<u8>`.

use super::error::{HostError, HostResult};
use wasmedge_otel_abi::limits::MAX_BUFFER_LEN;

/// A guest's linear memory, borrowed for the duration of one host call.
#[derive(Debug)]
pub struct GuestMemory<'a> {
    bytes: &'a mut [u8],
}

impl<'a> GuestMemory<'a> {
    /// Wraps the bytes of a linear memory.
    pub fn new(bytes: &'a mut [u8]) -> Self {
        GuestMemory { bytes }
    }

    /// A guest without a memory: every non-empty range is out of bounds.
    pub fn empty() -> GuestMemory<'static> {
        GuestMemory { bytes: &mut [] }
    }

    /// Size of the memory in bytes.
    pub fn size(&self) -> usize {
        self.bytes.len()
    }

    /// The `len` bytes at `ptr`. A zero length is valid at any pointer (Rust guests pass a
    /// dangling non-null pointer for empty slices). Ranges longer than
    /// [`MAX_BUFFER_LEN`] are refused before they are touched.
    pub fn bytes(&self, ptr: u32, len: u32) -> HostResult<&[u8]> {
        let range = self.range(ptr, len)?;
        Ok(&self.bytes[range])
    }

    fn range(&self, ptr: u32, len: u32) -> HostResult<std::ops::Range<usize>> {
        if len == 0 {
            return Ok(0..0);
        }
        if len as usize > MAX_BUFFER_LEN {
            return Err(HostError::LimitExceeded("buffer longer than 64 KiB"));
        }
        let start = ptr as usize;
        match start.checked_add(len as usize) {
            Some(end) if end <= self.bytes.len() => Ok(start..end),
            _ => Err(HostError::OutOfBounds { ptr, len, memory_size: self.bytes.len() }),
        }
    }

    /// The UTF-8 string of `len` bytes at `ptr`.
    pub fn str(&self, ptr: u32, len: u32) -> HostResult<&str> {
        std::str::from_utf8(self.bytes(ptr, len)?).map_err(|_| HostError::InvalidUtf8)
    }

    /// Copies `data` into the guest's buffer `(ptr, len)`. The whole buffer must be inside memory;
    /// `data` must fit in it (else [`HostError::LimitExceeded`], nothing written).
    pub fn write(&mut self, ptr: u32, len: u32, data: &[u8]) -> HostResult<()> {
        let range = self.range(ptr, len)?;
        if data.len() > range.len() {
            return Err(HostError::LimitExceeded("the guest's buffer is too small"));
        }
        self.bytes[range.start..range.start + data.len()].copy_from_slice(data);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_only_inside_the_guest_buffer() {
        let mut mem = vec![0u8; 8];
        let mut m = GuestMemory::new(&mut mem);
        m.write(2, 4, b"abc").unwrap();
        assert!(matches!(m.write(2, 2, b"abc"), Err(HostError::LimitExceeded(_))));
        assert!(matches!(m.write(6, 4, b"x"), Err(HostError::OutOfBounds { .. })));
        assert_eq!(mem, b"\0\0abc\0\0\0");
    }

    #[test]
    fn reads_inside_and_at_the_end() {
        let mut mem = vec![b'a', b'b', b'c', b'd'];
        let m = GuestMemory::new(&mut mem);
        assert_eq!(m.bytes(0, 4).unwrap(), b"abcd");
        assert_eq!(m.bytes(3, 1).unwrap(), b"d");
        assert_eq!(m.str(1, 2).unwrap(), "bc");
    }

    #[test]
    fn refuses_ranges_past_the_end_or_wrapping() {
        let mut mem = vec![0u8; 16];
        let m = GuestMemory::new(&mut mem);
        assert!(matches!(m.bytes(15, 2), Err(HostError::OutOfBounds { ptr: 15, len: 2, memory_size: 16 })));
        assert!(matches!(m.bytes(16, 1), Err(HostError::OutOfBounds { .. })));
        assert!(matches!(m.bytes(u32::MAX, 1), Err(HostError::OutOfBounds { .. })));
        assert!(matches!(m.bytes(u32::MAX - 1, 2), Err(HostError::OutOfBounds { .. })));
        assert!(matches!(GuestMemory::empty().bytes(0, 1), Err(HostError::OutOfBounds { .. })));
    }

    #[test]
    fn empty_ranges_are_valid_anywhere() {
        let m = GuestMemory::empty();
        assert_eq!(m.bytes(u32::MAX, 0).unwrap(), b"");
        assert_eq!(m.str(1, 0).unwrap(), "");
    }

    #[test]
    fn refuses_oversized_lengths_before_touching_memory() {
        let m = GuestMemory::empty();
        assert!(matches!(m.bytes(0, u32::MAX), Err(HostError::LimitExceeded(_))));
        assert!(matches!(m.bytes(0, MAX_BUFFER_LEN as u32 + 1), Err(HostError::LimitExceeded(_))));
    }

    #[test]
    fn refuses_invalid_utf8() {
        let mut mem = vec![0xff, 0xfe, b'a'];
        let m = GuestMemory::new(&mut mem);
        assert_eq!(m.str(0, 3), Err(HostError::InvalidUtf8));
        assert_eq!(m.str(2, 1).unwrap(), "a");
    }
}
