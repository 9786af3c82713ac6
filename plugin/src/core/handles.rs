//! Capped, generation-checked handle table: the only way a guest refers to a host object.
//!
//! A handle is a positive `u64` (so it also fits an `i64` ABI value):
//!
//! ```text
//! bit 63     62..48        47..24            23..0
//!  0    | table tag | slot generation | slot index + 1
//! ```
//!
//! The table tag differs between tables (one per module instance), so a handle from another
//! instance is refused; the generation changes each time a slot is reused, so a stale handle is
//! refused; and index + 1 keeps every handle non-zero. Anything else a guest invents is refused
//! unless it matches all three of a live slot.

use std::sync::atomic::{AtomicU64, Ordering};

const INDEX_BITS: u32 = 24;
const GENERATION_BITS: u32 = 24;
const TAG_BITS: u32 = 15;
const INDEX_MASK: u64 = (1 << INDEX_BITS) - 1;
const GENERATION_MASK: u64 = (1 << GENERATION_BITS) - 1;
const TAG_MASK: u64 = (1 << TAG_BITS) - 1;

/// Most slots a table can address, whatever capacity is configured.
pub const MAX_CAPACITY: usize = INDEX_MASK as usize;

/// Hands each new table a distinct tag; a tag is never 0, so no handle is all zeros above the
/// index either.
fn next_tag() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    // A Weyl-style step spreads consecutive tables across the tag space; the step is coprime to
    // TAG_MASK (32767 = 7 * 31 * 151), so all 32767 tags come round before one repeats.
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    (n.wrapping_mul(0x2543) % TAG_MASK) + 1
}

enum Slot<T> {
    Live { generation: u64, value: T },
    Free { generation: u64 },
}

/// Why a handle was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandleError {
    /// The handle names no live slot of this table.
    NotPresent,
    /// The table holds its capacity of live values.
    Full,
}

/// A table of live values addressed by [`Handle`]s.
pub struct HandleTable<T> {
    tag: u64,
    capacity: usize,
    slots: Vec<Slot<T>>,
    free: Vec<usize>,
    live: usize,
}

/// A non-zero, positive reference to a live table entry.
pub type Handle = u64;

impl<T> HandleTable<T> {
    /// An empty table holding at most `capacity` live values (clamped to [`MAX_CAPACITY`]).
    pub fn with_capacity(capacity: usize) -> Self {
        HandleTable {
            tag: next_tag(),
            capacity: capacity.min(MAX_CAPACITY),
            slots: Vec::new(),
            free: Vec::new(),
            live: 0,
        }
    }

    /// Number of live values.
    pub fn len(&self) -> usize {
        self.live
    }

    /// Whether the table has no live values.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Whether the table holds its capacity of live values.
    pub fn is_full(&self) -> bool {
        self.live >= self.capacity
    }

    fn handle(&self, index: usize, generation: u64) -> Handle {
        (self.tag << (INDEX_BITS + GENERATION_BITS)) | (generation << INDEX_BITS) | (index as u64 + 1)
    }

    fn index_of(&self, handle: Handle) -> Option<(usize, u64)> {
        let tag = (handle >> (INDEX_BITS + GENERATION_BITS)) & TAG_MASK;
        let index = (handle & INDEX_MASK).checked_sub(1)? as usize;
        let generation = (handle >> INDEX_BITS) & GENERATION_MASK;
        // The sign bit must be clear and the tag ours: rejects negatives and other instances' handles.
        (handle >> 63 == 0 && tag == self.tag).then_some((index, generation))
    }

    /// Stores `value` and returns its handle.
    pub fn insert(&mut self, value: T) -> Result<Handle, HandleError> {
        if self.is_full() {
            return Err(HandleError::Full);
        }
        let (index, generation) = match self.free.pop() {
            Some(index) => {
                let Slot::Free { generation } = self.slots[index] else {
                    unreachable!("free list names a live slot")
                };
                let generation = (generation + 1) & GENERATION_MASK;
                self.slots[index] = Slot::Live { generation, value };
                (index, generation)
            }
            None => {
                self.slots.push(Slot::Live { generation: 0, value });
                (self.slots.len() - 1, 0)
            }
        };
        self.live += 1;
        Ok(self.handle(index, generation))
    }

    /// The live value `handle` names.
    pub fn get(&self, handle: Handle) -> Result<&T, HandleError> {
        let (index, generation) = self.index_of(handle).ok_or(HandleError::NotPresent)?;
        match self.slots.get(index) {
            Some(Slot::Live { generation: g, value }) if *g == generation => Ok(value),
            _ => Err(HandleError::NotPresent),
        }
    }

    /// The live value `handle` names, mutably.
    pub fn get_mut(&mut self, handle: Handle) -> Result<&mut T, HandleError> {
        let (index, generation) = self.index_of(handle).ok_or(HandleError::NotPresent)?;
        match self.slots.get_mut(index) {
            Some(Slot::Live { generation: g, value }) if *g == generation => Ok(value),
            _ => Err(HandleError::NotPresent),
        }
    }

    /// Removes and returns the value `handle` names; the handle is stale from then on.
    pub fn remove(&mut self, handle: Handle) -> Result<T, HandleError> {
        self.get(handle)?;
        let (index, generation) = self.index_of(handle).ok_or(HandleError::NotPresent)?;
        let Slot::Live { value, .. } = std::mem::replace(&mut self.slots[index], Slot::Free { generation })
        else {
            unreachable!("checked live above")
        };
        self.free.push(index);
        self.live -= 1;
        Ok(value)
    }

    /// Removes every live value, in handle order, returning each with its handle.
    pub fn drain(&mut self) -> Vec<(Handle, T)> {
        let mut out = Vec::with_capacity(self.live);
        for index in 0..self.slots.len() {
            if let Slot::Live { generation, .. } = self.slots[index] {
                let handle = self.handle(index, generation);
                if let Ok(value) = self.remove(handle) {
                    out.push((handle, value));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_are_positive_and_non_zero() {
        let mut t = HandleTable::with_capacity(8);
        for i in 0..8 {
            let h = t.insert(i).unwrap();
            assert!(h > 0 && (h as i64) > 0);
            assert_eq!(*t.get(h).unwrap(), i);
        }
    }

    #[test]
    fn stale_handles_are_refused_after_reuse() {
        let mut t = HandleTable::with_capacity(1);
        let a = t.insert("a").unwrap();
        assert_eq!(t.remove(a), Ok("a"));
        assert_eq!(t.get(a), Err(HandleError::NotPresent));
        assert_eq!(t.remove(a), Err(HandleError::NotPresent));
        let b = t.insert("b").unwrap();
        assert_ne!(a, b, "a reused slot gets a new generation");
        assert_eq!(t.get(a), Err(HandleError::NotPresent));
        assert_eq!(*t.get(b).unwrap(), "b");
    }

    #[test]
    fn forged_and_foreign_handles_are_refused() {
        let mut t1 = HandleTable::with_capacity(4);
        let mut t2 = HandleTable::with_capacity(4);
        let h1 = t1.insert(1).unwrap();
        let h2 = t2.insert(2).unwrap();
        assert_eq!(t2.get(h1), Err(HandleError::NotPresent), "handle of another table");
        assert_eq!(t1.get(h2), Err(HandleError::NotPresent));
        for forged in [0, 1, u64::MAX, h1 | (1 << 63), h1 + 1, h1 ^ (1 << INDEX_BITS)] {
            assert_eq!(t1.get(forged), Err(HandleError::NotPresent), "{forged:#x}");
        }
    }

    #[test]
    fn tags_repeat_only_after_the_whole_tag_space() {
        let tags: std::collections::HashSet<u64> =
            (0..TAG_MASK).map(|n| (n * 0x2543 % TAG_MASK) + 1).collect();
        assert_eq!(tags.len() as u64, TAG_MASK);
    }

    #[test]
    fn capacity_is_enforced_and_freed_slots_are_reused() {
        let mut t = HandleTable::with_capacity(2);
        let a = t.insert(1).unwrap();
        t.insert(2).unwrap();
        assert_eq!(t.insert(3), Err(HandleError::Full));
        t.remove(a).unwrap();
        assert!(t.insert(3).is_ok());
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn drain_empties_the_table() {
        let mut t = HandleTable::with_capacity(4);
        let hs: Vec<_> = (0..3).map(|i| t.insert(i).unwrap()).collect();
        let drained = t.drain();
        assert_eq!(drained.iter().map(|(h, _)| *h).collect::<Vec<_>>(), hs);
        assert!(t.is_empty());
        assert!(hs.iter().all(|h| t.get(*h).is_err()));
    }
}
