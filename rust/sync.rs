// SPDX-License-Identifier: GPL-2.0

//! A spinlock that disables bottom halves (`spin_lock_bh`), for state that
//! process context shares with softirq context (packet processing, socket
//! callbacks). The kernel crate's `SpinLock` of 6.12 has no such variant:
//! taking a plain spinlock in process context while a softirq on the same
//! CPU wants it would deadlock (and lockdep says so).

use super::bindings;
use kernel::sync::lock::{Backend, Lock};

/// The `spin_lock_bh` backend of [`Lock`].
pub(crate) struct SpinLockBhBackend;

/// A spinlock taken with bottom halves disabled.
pub(crate) type SpinLockBh<T> = Lock<T, SpinLockBhBackend>;

// SAFETY: `spinlock_t` ensures mutual exclusion; lock and unlock are the
// matching `_bh` pair, and `relock` keeps the default (lock again).
unsafe impl Backend for SpinLockBhBackend {
    type State = kernel::bindings::spinlock_t;
    type GuardState = ();

    unsafe fn init(
        ptr: *mut Self::State,
        name: *const kernel::ffi::c_char,
        key: *mut kernel::bindings::lock_class_key,
    ) {
        // SAFETY: the caller guarantees `ptr` is valid for writes and `name`
        // and `key` live for ever.
        unsafe { kernel::bindings::__spin_lock_init(ptr, name, key) }
    }

    unsafe fn lock(ptr: *mut Self::State) -> Self::GuardState {
        // SAFETY: the caller guarantees the lock was initialised; both binding
        // sets describe the same `spinlock_t`.
        unsafe { bindings::mptcp_rs_spin_lock_bh(ptr.cast()) }
    }

    unsafe fn unlock(ptr: *mut Self::State, _guard_state: &Self::GuardState) {
        // SAFETY: the caller owns the lock.
        unsafe { bindings::mptcp_rs_spin_unlock_bh(ptr.cast()) }
    }
}

/// Creates a [`SpinLockBh`] initialiser with a lock class of its own.
macro_rules! new_spinlock_bh {
    ($inner:expr, $name:literal $(,)?) => {
        $crate::kernel_net::sync::SpinLockBh::new(
            $inner,
            ::kernel::c_str!($name),
            ::kernel::static_lock_class!(),
        )
    };
}
pub(crate) use new_spinlock_bh;
