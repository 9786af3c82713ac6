//! A minimal spin lock: the bridge's span table must be `Sync` (a `tracing` subscriber is shared),
//! and a `no_std` crate has no `Mutex`. On `wasm32-wasip1` there is a single thread, so the lock is
//! never contended; against the mock, tests on other threads use subscribers of their own.
#![allow(unsafe_code)]

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};

/// A value behind a spin lock, reached only through [`Lock::with`].
pub(super) struct Lock<T> {
    locked: AtomicBool,
    value: UnsafeCell<T>,
}

// SAFETY: the value is only reached through `with`, which holds the lock (an acquire/release pair on
// `locked`) for the whole time a `&mut T` exists, so it is never reached from two threads at once; and
// it can be moved to another thread that way, hence `T: Send`.
unsafe impl<T: Send> Sync for Lock<T> {}

impl<T> Lock<T> {
    #[inline]
    pub(super) const fn new(value: T) -> Self {
        Lock { locked: AtomicBool::new(false), value: UnsafeCell::new(value) }
    }

    /// Runs `f` on the value with the lock held. `f` must not call `with` on the same lock (it would
    /// spin forever): the bridge only ever runs table updates under it, never host calls or user code.
    #[inline]
    pub(super) fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        while self.locked.compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed).is_err() {
            core::hint::spin_loop();
        }
        /// Releases the lock when `with` returns or unwinds.
        struct Unlock<'a>(&'a AtomicBool);
        impl Drop for Unlock<'_> {
            #[inline]
            fn drop(&mut self) {
                self.0.store(false, Ordering::Release);
            }
        }
        let _unlock = Unlock(&self.locked);
        // SAFETY: we hold the lock, so no other reference to the value exists until `_unlock` drops,
        // after `f` has returned and with it the `&mut T` it was given.
        f(unsafe { &mut *self.value.get() })
    }
}
