// SPDX-License-Identifier: GPL-2.0

//! Objects that live from module load to module unload.

use core::{
    pin::Pin,
    sync::atomic::{AtomicPtr, Ordering},
};
use kernel::prelude::*;

/// A module-global object: set at load, cleared at unload.
pub(crate) struct Global<T> {
    ptr: AtomicPtr<T>,
}

impl<T> Global<T> {
    pub(crate) const fn new() -> Self {
        Self {
            ptr: AtomicPtr::new(core::ptr::null_mut()),
        }
    }

    /// Installs the object (at module load).
    pub(crate) fn set(&self, obj: Pin<KBox<T>>) {
        // SAFETY: the object is not moved through the raw pointer (only
        // shared references are handed out) and is turned back into a box
        // in `clear`.
        let raw = KBox::into_raw(unsafe { Pin::into_inner_unchecked(obj) });
        let old = self.ptr.swap(raw, Ordering::AcqRel);
        if !old.is_null() {
            // SAFETY: `old` came from `set`; nobody uses the replaced object
            // (a second `set` only happens in a module's init, before users).
            drop(unsafe { KBox::from_raw(old) });
        }
    }

    /// The object, between `set` and `clear`.
    pub(crate) fn get(&self) -> Option<&T> {
        let p = self.ptr.load(Ordering::Acquire);
        // SAFETY: a non-null pointer is a live object from `set`; `clear`'s
        // contract guarantees that no reference from here outlives it.
        (!p.is_null()).then(|| unsafe { &*p })
    }

    /// Destroys the object at module unload, once the module's users of it
    /// are gone (the caller's responsibility: only module exit calls this,
    /// after unregistering everything that reaches the object).
    pub(crate) fn drain(&self) {
        // SAFETY: called from module exit after the protocol, the hooks and
        // every connection are gone: nothing can call `get` any more.
        unsafe { self.clear() };
    }

    /// Destroys the object (at module unload).
    ///
    /// # Safety
    ///
    /// No reference obtained from [`Global::get`] may still be in use, and no
    /// code that calls `get` may run concurrently.
    pub(crate) unsafe fn clear(&self) {
        let old = self.ptr.swap(core::ptr::null_mut(), Ordering::AcqRel);
        if !old.is_null() {
            // SAFETY: `old` came from `set`; the caller guarantees no user.
            drop(unsafe { KBox::from_raw(old) });
        }
    }
}

/// Random bytes from the kernel's CSPRNG (`get_random_bytes`).
pub(crate) fn random_u64() -> u64 {
    let mut v: u64 = 0;
    // SAFETY: `v` is valid for writes of 8 bytes.
    unsafe { super::bindings::get_random_bytes(core::ptr::from_mut(&mut v).cast(), 8) };
    v
}

/// The current time in jiffies.
pub(crate) fn jiffies() -> u64 {
    // SAFETY: reads the kernel's jiffies counter.
    unsafe { super::bindings::mptcp_rs_jiffies64() }
}

/// Jiffies per second.
pub(crate) fn hz() -> u64 {
    super::bindings::HZ as u64
}

/// Sleeps about `ms` milliseconds (process context).
pub(crate) fn msleep(ms: u32) {
    // SAFETY: may sleep; callers are in process context.
    unsafe { super::bindings::msleep(ms) };
}

/// Microseconds on the monotonic clock (`ktime_get`).
pub(crate) fn ktime_us() -> u64 {
    // SAFETY: reads the monotonic clock; callable from any context.
    let ns = unsafe { super::bindings::ktime_get() };
    (ns.max(0) as u64) / 1000
}

/// Jiffies in `us` microseconds, rounded up.
pub(crate) fn us_to_jiffies(us: u64) -> u64 {
    us.saturating_mul(hz()).div_ceil(1_000_000)
}

/// Microseconds in `j` jiffies.
pub(crate) fn jiffies_to_us(j: u64) -> u64 {
    j.saturating_mul(1_000_000) / hz().max(1)
}

/// Waits until every RCU callback queued so far has run (`rcu_barrier`):
/// at module unload, socket destructors of ours that TCP deferred to RCU.
pub(crate) fn rcu_barrier() {
    // SAFETY: process context (module exit); may sleep.
    unsafe { super::bindings::rcu_barrier() };
}

/// A reference on this module (`__module_get`), held by what must keep the
/// module loaded (a connection finishing in the background); `rmmod` then
/// fails with EBUSY instead of waiting. Released when dropped.
pub(crate) struct ModuleRef(&'static kernel::ThisModule);

impl ModuleRef {
    /// A new reference on `module`, which is loaded (its code is running).
    pub(crate) fn new(module: &'static kernel::ThisModule) -> Self {
        // SAFETY: the module is live (this code is part of it); taking one
        // more reference on a live module is always allowed.
        unsafe { super::bindings::__module_get(module.as_ptr().cast()) };
        Self(module)
    }
}

impl Drop for ModuleRef {
    fn drop(&mut self) {
        // SAFETY: we own the reference taken in `new`. The code that runs
        // after this (the rest of the caller's drop) is waited for at unload
        // by `rcu_barrier` and the module's workqueue drain.
        unsafe { super::bindings::module_put(self.0.as_ptr().cast()) };
    }
}
