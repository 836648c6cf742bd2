// SPDX-License-Identifier: GPL-2.0

//! Callbacks on a socket we own (a subflow): `sk_data_ready`,
//! `sk_write_space`, `sk_state_change` and `sk_error_report`, replaced by
//! ours (which first call the originals) for as long as a [`Callbacks`]
//! handle lives.
//!
//! The context lives in `sk_user_data`. Callbacks read it under
//! `sk_callback_lock` (read side, BH disabled), installation and removal
//! take the write side, so that once a handle is dropped no callback can be
//! running with its context.
//!
//! A context may also be installed detached (on a child subflow created in
//! softirq, before anyone accepts it): the socket then owns it, and frees it
//! from `sk_destruct` if nobody adopts it first.

use super::{
    bindings,
    sock::Sock,
    tcp::{TcpLocked, TcpSock},
};
use core::marker::PhantomData;
use kernel::{prelude::*, sync::Arc, types::ARef};

/// What a subflow's owner wants to hear of it. TCP calls these with the
/// socket's lock held (in softirq under `bh_lock_sock`, or in process
/// context owning it), which the [`TcpLocked`] argument proves: they may
/// act on the socket, and must not sleep.
pub(crate) trait SockEvents: Send + Sync + 'static {
    /// In-order data was queued (after the socket's own `sk_data_ready`).
    fn data_ready(&self, sk: &TcpLocked<'_>);
    /// An ACK freed room to send, or came while `SOCK_NOSPACE` was set.
    fn write_space(&self, sk: &TcpLocked<'_>);
    /// The TCP state changed.
    fn state_change(&self, sk: &TcpLocked<'_>);
    /// An error was set (`sk_err`).
    fn error_report(&self, sk: &TcpLocked<'_>);
}

type Cb = Option<unsafe extern "C" fn(*mut bindings::sock)>;

struct Ctx<T: SockEvents> {
    events: Arc<T>,
    data_ready: Cb,
    write_space: Cb,
    state_change: Cb,
    error_report: Cb,
    destruct: Cb,
}

/// Our callbacks, installed on a socket; the originals come back on drop.
pub(crate) struct Callbacks<T: SockEvents> {
    sk: ARef<Sock>,
    _t: PhantomData<T>,
}

impl<T: SockEvents> Callbacks<T> {
    /// Installs `events` on `sk`, which must have no `sk_user_data` yet.
    pub(crate) fn install(sk: &Sock, events: Arc<T>) -> Result<Self> {
        Self::install_detached(sk, events)?;
        Ok(Self {
            sk: sk.to_ref(),
            _t: PhantomData,
        })
    }

    /// Installs `events` on `sk` without a handle: the socket owns them until
    /// [`Callbacks::adopt`], or frees them when it is destroyed.
    pub(crate) fn install_detached(sk: &Sock, events: Arc<T>) -> Result {
        let raw = sk.as_raw();
        // SAFETY: `sk` is live; the callbacks are read and written under the
        // write side of `sk_callback_lock`, as the socket layer does.
        unsafe {
            bindings::mptcp_rs_write_lock_callbacks(raw);
            if !(*raw).sk_user_data.is_null() {
                bindings::mptcp_rs_write_unlock_callbacks(raw);
                return Err(EBUSY);
            }
            let ctx = Ctx {
                events,
                data_ready: (*raw).sk_data_ready,
                write_space: (*raw).sk_write_space,
                state_change: (*raw).sk_state_change,
                error_report: (*raw).sk_error_report,
                destruct: (*raw).sk_destruct,
            };
            let ctx = match KBox::new(ctx, GFP_ATOMIC) {
                Ok(ctx) => ctx,
                Err(e) => {
                    bindings::mptcp_rs_write_unlock_callbacks(raw);
                    return Err(e.into());
                }
            };
            (*raw).sk_user_data = KBox::into_raw(ctx).cast();
            (*raw).sk_data_ready = Some(data_ready_cb::<T>);
            (*raw).sk_write_space = Some(write_space_cb::<T>);
            (*raw).sk_state_change = Some(state_change_cb::<T>);
            (*raw).sk_error_report = Some(error_report_cb::<T>);
            (*raw).sk_destruct = Some(destruct_cb::<T>);
            bindings::mptcp_rs_write_unlock_callbacks(raw);
        }
        Ok(())
    }

    /// Takes over the callbacks installed detached on `sk`, if there are any.
    pub(crate) fn adopt(sk: &Sock) -> Option<Self> {
        events::<T>(sk)?;
        Some(Self {
            sk: sk.to_ref(),
            _t: PhantomData,
        })
    }

    /// The socket the callbacks are on.
    pub(crate) fn sk(&self) -> &Sock {
        &self.sk
    }

    /// Gives the callbacks to the socket: they stay installed, and their
    /// context is freed when the socket is destroyed (`sk_destruct`).
    pub(crate) fn into_detached(self) {
        let this = core::mem::ManuallyDrop::new(self);
        // SAFETY: `this` is never used or dropped again; only its reference
        // to the socket is released. The context stays with the socket, whose
        // `sk_destruct` (installed with it) frees it.
        drop(unsafe { core::ptr::read(&this.sk) });
    }
}

impl<T: SockEvents> Drop for Callbacks<T> {
    fn drop(&mut self) {
        let raw = self.sk.as_raw();
        // SAFETY: we installed the context and callbacks; restoring them under
        // the write lock guarantees no callback still uses the context, which
        // we then free.
        unsafe {
            bindings::mptcp_rs_write_lock_callbacks(raw);
            let ctx = (*raw).sk_user_data.cast::<Ctx<T>>();
            (*raw).sk_user_data = core::ptr::null_mut();
            if !ctx.is_null() {
                (*raw).sk_data_ready = (*ctx).data_ready;
                (*raw).sk_write_space = (*ctx).write_space;
                (*raw).sk_state_change = (*ctx).state_change;
                (*raw).sk_error_report = (*ctx).error_report;
                (*raw).sk_destruct = (*ctx).destruct;
            }
            bindings::mptcp_rs_write_unlock_callbacks(raw);
            if !ctx.is_null() {
                drop(KBox::from_raw(ctx));
            }
        }
    }
}

/// The events installed on `sk` (by [`Callbacks::install`] or
/// `install_detached` with type `T`), if any.
///
/// Only call this on sockets where, if anything of ours is installed, it is
/// `Callbacks<T>` (our subflows).
pub(crate) fn events<T: SockEvents>(sk: &Sock) -> Option<Arc<T>> {
    let mut found = None;
    // SAFETY: `sk` is live; whatever is in `sk_user_data` of our subflows was
    // put there by `install_detached::<T>`, as the function's contract says.
    unsafe {
        with_ctx::<T>(sk.as_raw(), |ctx| found = Some(ctx.events.clone()));
    }
    found
}

/// Runs `f` with the context of `sk`, under the read side of its callback
/// lock; does nothing if our callbacks were removed meanwhile.
///
/// # Safety
///
/// `sk` must be a live socket on which `Callbacks<T>` was installed (the
/// callbacks below are only ever installed by `Callbacks<T>::install`).
unsafe fn with_ctx<T: SockEvents>(sk: *mut bindings::sock, f: impl FnOnce(&Ctx<T>)) {
    // SAFETY: per the function's contract.
    unsafe {
        bindings::mptcp_rs_read_lock_callbacks(sk);
        let ctx = (*sk).sk_user_data.cast::<Ctx<T>>();
        if !ctx.is_null() {
            f(&*ctx);
        }
        bindings::mptcp_rs_read_unlock_callbacks(sk);
    }
}

macro_rules! callback {
    ($name:ident, $field:ident, $event:ident) => {
        /// # Safety
        ///
        /// Only the socket layer calls this, as the callback `install` put on
        /// the socket `sk`.
        unsafe extern "C" fn $name<T: SockEvents>(sk: *mut bindings::sock) {
            // SAFETY: the socket layer calls this on the socket it was
            // installed on, which is live, a TCP socket (ours are
            // subflows), with its lock held (TCP takes it around every path
            // that calls these callbacks); `install` set it with `Ctx<T>`.
            unsafe {
                with_ctx::<T>(sk, |ctx| {
                    if let Some(orig) = ctx.$field {
                        orig(sk);
                    }
                    let locked = TcpLocked::assume_locked(TcpSock::from_raw(sk));
                    ctx.events.$event(&locked);
                })
            }
        }
    };
}

callback!(data_ready_cb, data_ready, data_ready);
callback!(write_space_cb, write_space, write_space);
callback!(state_change_cb, state_change, state_change);
callback!(error_report_cb, error_report, error_report);

/// # Safety
///
/// Only the kernel calls this, through the table or hook this module
/// registered it in, with the arguments that callback is defined to get.
unsafe extern "C" fn destruct_cb<T: SockEvents>(sk: *mut bindings::sock) {
    // SAFETY: the socket is being destroyed: its last reference is gone, so no
    // handle exists (a handle holds a reference) and no callback runs. The
    // context is ours; the original destructor then finishes the job.
    unsafe {
        let ctx = (*sk).sk_user_data.cast::<Ctx<T>>();
        (*sk).sk_user_data = core::ptr::null_mut();
        let orig = if ctx.is_null() { None } else { (*ctx).destruct };
        if !ctx.is_null() {
            drop(KBox::from_raw(ctx));
        }
        if let Some(orig) = orig {
            orig(sk);
        }
    }
}
