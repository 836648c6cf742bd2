// SPDX-License-Identifier: GPL-2.0

//! A kernel timer (`struct timer_list`) embedded in an `Arc`-owned object,
//! which the timer keeps alive while it is armed: arming takes a reference,
//! expiry hands it to [`TimerCallback::expired`], disarming drops it. So an
//! armed timer can never run after its object is gone, and dropping the
//! object needs no `del_timer_sync` dance. The 6.12 `kernel` crate has no
//! timer.

use super::{bindings, sync::SpinLockBh};
use core::marker::PhantomData;
use kernel::{prelude::*, sync::Arc, types::Opaque};

/// What owns a [`Timer`]: told when it expires. Called in softirq: must
/// not sleep.
pub(crate) trait TimerCallback: Send + Sync + Sized + 'static {
    /// The timer expired; `this` is the reference the timer held.
    fn expired(this: Arc<Self>);
}

/// A timer of a `T`, placed in `T` (pinned with it).
///
/// # Invariants
///
/// `timer` was set up with [`expired_cb::<T>`] and belongs to a `T` inside
/// an `Arc`; `owner` holds the reference the timer keeps while armed, and
/// is `Some` whenever the timer is pending.
#[pin_data(PinnedDrop)]
pub(crate) struct Timer<T: TimerCallback> {
    #[pin]
    timer: Opaque<bindings::timer_list>,
    #[pin]
    owner: SpinLockBh<Option<Arc<T>>>,
    _t: PhantomData<T>,
}

// SAFETY: the timer is armed, disarmed and run under `owner`'s lock.
unsafe impl<T: TimerCallback> Send for Timer<T> {}
// SAFETY: as above.
unsafe impl<T: TimerCallback> Sync for Timer<T> {}

impl<T: TimerCallback> Timer<T> {
    /// A timer, not armed.
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            timer <- Opaque::ffi_init(|slot: *mut bindings::timer_list| {
                // SAFETY: `timer_setup` initialises the timer in place; it
                // is pinned and never moves afterwards.
                unsafe { bindings::mptcp_rs_timer_setup(slot, Some(expired_cb::<T>)) }
            }),
            owner <- super::sync::new_spinlock_bh!(None, "Timer::owner"),
            _t: PhantomData,
        })
    }

    /// Arms the timer (or moves it) to expire at `expires` (jiffies); it
    /// keeps `this` alive until then.
    pub(crate) fn arm(&self, this: &Arc<T>, expires: u64) {
        let mut owner = self.owner.lock();
        // SAFETY: the timer was set up (type invariant); arming under the
        // lock keeps `owner` in step with whether it is pending.
        unsafe { bindings::mod_timer(self.timer.get(), expires as _) };
        if owner.is_none() {
            *owner = Some(this.clone());
        }
    }

    /// Disarms the timer; its reference goes.
    pub(crate) fn disarm(&self) {
        let mut owner = self.owner.lock();
        // SAFETY: as for `arm`.
        let was_pending = unsafe { bindings::timer_delete(self.timer.get()) } != 0;
        let dropped = if was_pending { owner.take() } else { None };
        drop(owner);
        drop(dropped);
    }

    /// Whether the timer is armed.
    pub(crate) fn armed(&self) -> bool {
        let _owner = self.owner.lock();
        // SAFETY: reading the state of a set-up timer.
        unsafe { bindings::mptcp_rs_timer_pending(self.timer.get()) }
    }
}

#[pinned_drop]
impl<T: TimerCallback> PinnedDrop for Timer<T> {
    fn drop(self: Pin<&mut Self>) {
        // The owner is being dropped, so the timer holds no reference: it is
        // not pending; make sure no expiry is still running.
        // SAFETY: the timer was set up; it is shut down once, here.
        unsafe { bindings::timer_shutdown_sync(self.timer.get()) };
    }
}

/// # Safety
///
/// Only the timer subsystem calls this, for a timer set up by
/// [`Timer::new`] inside a live `T`.
unsafe extern "C" fn expired_cb<T: TimerCallback>(t: *mut bindings::timer_list) {
    // SAFETY: the timer is pending or just expired only while it holds a
    // reference to its `T` (type invariant of `Timer`), so the `T` that
    // contains it is alive; `Timer` is `repr(Rust)` but we only compare the
    // timer's address with each candidate's, through the owner.
    let owner = unsafe { find_owner::<T>(t) };
    if let Some(this) = owner {
        T::expired(this);
    }
}

/// The reference the timer at `t` holds, taken, unless the timer was armed
/// again meanwhile (its next expiry takes it then).
///
/// # Safety
///
/// `t` must be the `timer` field of a live `Timer<T>`.
unsafe fn find_owner<T: TimerCallback>(t: *mut bindings::timer_list) -> Option<Arc<T>> {
    let offset = core::mem::offset_of!(Timer<T>, timer);
    // SAFETY: `t` points at the `timer` field of a `Timer<T>` (the caller's
    // contract), so subtracting its offset gives the `Timer<T>`.
    let timer = unsafe { &*t.cast::<u8>().sub(offset).cast::<Timer<T>>() };
    let mut owner = timer.owner.lock();
    // SAFETY: a set-up timer.
    if unsafe { bindings::mptcp_rs_timer_pending(t) } {
        return None;
    }
    owner.take()
}
