// SPDX-License-Identifier: GPL-2.0

//! Sockets: `struct sock`, its lock and its wait queue.

use super::{bindings, net::Net};
use core::{marker::PhantomData, ptr::NonNull};
use kernel::{
    error::{code::*, Error},
    ffi::{c_int, c_long, c_void},
    prelude::*,
    types::{ARef, AlwaysRefCounted, Opaque},
};

/// `sk_userlocks` bits: the application fixed the buffer size
/// (`include/net/sock.h`).
const SOCK_SNDBUF_LOCK: u8 = 1;
const SOCK_RCVBUF_LOCK: u8 = 2;

/// A `struct sock`: an MPTCP master socket or a TCP subflow.
///
/// Only used by reference. A `&Sock` is valid while the code that lent it
/// holds a reference to the socket ([`ARef<Sock>`], a callback's argument, a
/// socket being operated on by a system call).
#[repr(transparent)]
pub(crate) struct Sock(Opaque<bindings::sock>);

// SAFETY: `struct sock` is designed to be shared between threads: its state
// is protected by its own locks, which the methods here respect.
unsafe impl Send for Sock {}
// SAFETY: see above.
unsafe impl Sync for Sock {}

// SAFETY: `sock_hold` and `sock_put` are the reference count of a `struct
// sock`; the socket is freed when it drops to zero.
unsafe impl AlwaysRefCounted for Sock {
    fn inc_ref(&self) {
        // SAFETY: `self` is a live socket, so its count is not zero.
        unsafe { bindings::mptcp_rs_sock_hold(self.as_raw()) };
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: the caller gives up a reference it owned.
        unsafe { bindings::mptcp_rs_sock_put(obj.as_ptr().cast()) };
    }
}

/// TCP states (`include/net/tcp_states.h`).
#[allow(dead_code)]
pub(crate) mod state {
    pub(crate) const ESTABLISHED: u8 = 1;
    pub(crate) const SYN_SENT: u8 = 2;
    pub(crate) const SYN_RECV: u8 = 3;
    pub(crate) const FIN_WAIT1: u8 = 4;
    pub(crate) const FIN_WAIT2: u8 = 5;
    pub(crate) const TIME_WAIT: u8 = 6;
    pub(crate) const CLOSE: u8 = 7;
    pub(crate) const CLOSE_WAIT: u8 = 8;
    pub(crate) const LAST_ACK: u8 = 9;
    pub(crate) const LISTEN: u8 = 10;
    pub(crate) const CLOSING: u8 = 11;
    pub(crate) const NEW_SYN_RECV: u8 = 12;
}

/// `sk_shutdown` bits.
pub(crate) const RCV_SHUTDOWN: u8 = 1;
/// `sk_shutdown` bits.
pub(crate) const SEND_SHUTDOWN: u8 = 2;

/// A socket's IPv4 endpoints ([`Sock::addrs4`]); ports in host order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Addrs4 {
    pub(crate) local: [u8; 4],
    pub(crate) remote: [u8; 4],
    pub(crate) local_port: u16,
    pub(crate) remote_port: u16,
}

impl Sock {
    /// Borrows a `struct sock`.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a live socket that stays alive for `'a`.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::sock) -> &'a Sock {
        // SAFETY: `Sock` is a transparent wrapper of `struct sock`; the caller
        // guarantees that it lives for `'a`.
        unsafe { &*ptr.cast::<Sock>() }
    }

    /// The raw pointer, for calls into C.
    pub(crate) fn as_raw(&self) -> *mut bindings::sock {
        self.0.get()
    }

    /// A counted reference to this socket.
    pub(crate) fn to_ref(&self) -> ARef<Sock> {
        ARef::from(self)
    }

    /// The address family (`sk_family`): `AF_INET` or `AF_INET6`.
    pub(crate) fn family(&self) -> u16 {
        // SAFETY: `self` is live; the family is set when the socket is
        // allocated and never changes.
        unsafe { (*self.as_raw()).__sk_common.skc_family }
    }

    /// The TCP state (`sk_state`).
    pub(crate) fn state(&self) -> u8 {
        // SAFETY: `self` is live; `sk_state` is read locklessly throughout the
        // kernel (READ_ONCE), a byte read cannot tear.
        unsafe { core::ptr::read_volatile(&(*self.as_raw()).__sk_common.skc_state) }
    }

    /// Sets the TCP state of a socket whose lock the caller holds
    /// (`inet_sk_set_state`).
    pub(crate) fn set_state(&self, _lock: &SockGuard<'_>, state: u8) {
        // SAFETY: `self` is live and locked by the caller.
        unsafe { bindings::inet_sk_set_state(self.as_raw(), state as c_int) };
    }

    /// The network namespace of the socket.
    pub(crate) fn net(&self) -> &Net {
        // SAFETY: a socket holds its namespace for as long as it lives (user
        // sockets and our subflows by reference, see `upgrade_net_ref`).
        unsafe { Net::from_raw(bindings::mptcp_rs_sock_net(self.as_raw())) }
    }

    /// The IPv4 endpoints of the socket: its address and port, the peer's
    /// address and port (zeros while unbound or unconnected).
    pub(crate) fn addrs4(&self) -> Addrs4 {
        let (mut saddr, mut daddr, mut sport, mut dport) = (0u32, 0u32, 0u16, 0u16);
        // SAFETY: `self` is live; the helper only reads the fields.
        unsafe {
            bindings::mptcp_rs_sk_addrs4(
                self.as_raw(),
                &mut saddr,
                &mut daddr,
                &mut sport,
                &mut dport,
            )
        };
        Addrs4 {
            // Network order in memory: the bytes are the address.
            local: saddr.to_ne_bytes(),
            remote: daddr.to_ne_bytes(),
            local_port: sport,
            remote_port: u16::from_be(dport),
        }
    }

    /// The pending socket error, cleared as it is read (`sock_error`), as a
    /// negative errno, or 0.
    pub(crate) fn take_error(&self) -> c_int {
        // SAFETY: `self` is live; `sock_error` exchanges `sk_err` atomically.
        unsafe { bindings::mptcp_rs_sock_error(self.as_raw()) }
    }

    /// The pending socket error without clearing it, as a positive errno.
    pub(crate) fn error(&self) -> c_int {
        // SAFETY: `self` is live; `sk_err` is read locklessly (READ_ONCE).
        unsafe { core::ptr::read_volatile(&(*self.as_raw()).sk_err) }
    }

    /// Sets `sk_err` (a positive errno) and reports it to waiters.
    pub(crate) fn report_error(&self, errno: c_int) {
        // SAFETY: `self` is live; writes of `sk_err` are WRITE_ONCE-style and
        // `sk_error_report` is the socket's own callback.
        unsafe {
            core::ptr::write_volatile(&mut (*self.as_raw()).sk_err, errno);
            bindings::mptcp_rs_sk_error_report(self.as_raw());
        }
    }

    /// `sk_shutdown`.
    pub(crate) fn shutdown_bits(&self) -> u8 {
        // SAFETY: `self` is live; read locklessly (READ_ONCE) as TCP does.
        unsafe { core::ptr::read_volatile(&(*self.as_raw()).sk_shutdown) }
    }

    /// Adds bits to `sk_shutdown`.
    pub(crate) fn set_shutdown_bits(&self, _lock: &SockGuard<'_>, bits: u8) {
        // SAFETY: `self` is live and locked by the caller.
        unsafe { (*self.as_raw()).sk_shutdown |= bits };
    }

    /// `sk_rcvbuf` and `sk_sndbuf`.
    pub(crate) fn buf_sizes(&self) -> (i32, i32) {
        // SAFETY: `self` is live; both are read locklessly (READ_ONCE).
        unsafe {
            (
                core::ptr::read_volatile(&(*self.as_raw()).sk_rcvbuf),
                core::ptr::read_volatile(&(*self.as_raw()).sk_sndbuf),
            )
        }
    }

    /// The memory charged to the socket's receive side (`sk_rmem_alloc`).
    pub(crate) fn rmem_alloc(&self) -> i32 {
        // SAFETY: `self` is live; an atomic read.
        unsafe { bindings::mptcp_rs_sk_rmem_alloc(self.as_raw()) }
    }

    /// Publishes the bytes queued for sending (`sk_wmem_queued`), which
    /// `SO_MEMINFO` and `ss -m` report; a protocol that keeps its own send
    /// queue accounts for it there.
    pub(crate) fn set_wmem_queued(&self, bytes: i32) {
        // SAFETY: `self` is live; a word store, read locklessly (WRITE_ONCE).
        unsafe { core::ptr::write_volatile(&mut (*self.as_raw()).sk_wmem_queued, bytes) };
    }

    /// Sets `sk_rcvbuf` and `sk_sndbuf`.
    pub(crate) fn set_buf_sizes(&self, rcvbuf: i32, sndbuf: i32) {
        // SAFETY: `self` is live; single word stores (WRITE_ONCE).
        unsafe {
            core::ptr::write_volatile(&mut (*self.as_raw()).sk_rcvbuf, rcvbuf);
            core::ptr::write_volatile(&mut (*self.as_raw()).sk_sndbuf, sndbuf);
        }
    }

    /// Whether the application fixed the receive and send buffer sizes
    /// (`SO_RCVBUF`, `SO_SNDBUF`): TCP does not autotune them then.
    pub(crate) fn buf_locks(&self) -> (bool, bool) {
        let locks = self.userlocks();
        (locks & SOCK_RCVBUF_LOCK != 0, locks & SOCK_SNDBUF_LOCK != 0)
    }

    fn userlocks(&self) -> u8 {
        // SAFETY: `self` is live; `sk_userlocks` is a byte, read locklessly
        // as TCP does.
        unsafe { bindings::mptcp_rs_sk_userlocks(self.as_raw()) }
    }

    /// Takes `listener`'s buffer sizes, and whether the application fixed
    /// them, as a TCP listener's children do (`sk_clone_lock` copies both):
    /// `SO_RCVBUF` set on a listener holds for the connections it accepts.
    /// For a socket no other context sees yet.
    pub(crate) fn inherit_buf_sizes(&self, listener: &Sock) {
        let (rcvbuf, sndbuf) = listener.buf_sizes();
        self.set_buf_sizes(rcvbuf, sndbuf);
        let locks = listener.userlocks() & (SOCK_RCVBUF_LOCK | SOCK_SNDBUF_LOCK);
        // SAFETY: `self` is live and, by the caller's word, not yet shared:
        // a plain byte store races with nobody.
        unsafe { (*self.as_raw()).sk_userlocks |= locks };
    }

    /// The timeout of a blocking receive or send in jiffies (0 when
    /// `nonblock`, `MAX_SCHEDULE_TIMEOUT` for none).
    pub(crate) fn timeout(&self, send: bool, nonblock: bool) -> c_long {
        // SAFETY: `self` is live.
        unsafe {
            if send {
                bindings::mptcp_rs_sock_sndtimeo(self.as_raw(), nonblock)
            } else {
                bindings::mptcp_rs_sock_rcvtimeo(self.as_raw(), nonblock)
            }
        }
    }

    /// Takes the socket lock (`lock_sock`), which may sleep.
    pub(crate) fn lock(&self) -> SockGuard<'_> {
        // SAFETY: `self` is live; the guard releases the lock.
        unsafe { bindings::lock_sock_nested(self.as_raw(), 0) };
        SockGuard {
            sk: self,
            _not_send: PhantomData,
        }
    }

    /// Wakes up those who wait for the socket to become readable.
    pub(crate) fn data_ready(&self) {
        // SAFETY: `self` is live; `sk_data_ready` is its own callback.
        unsafe { bindings::mptcp_rs_sk_data_ready(self.as_raw()) };
    }

    /// Marks that a writer found no room (`SOCK_NOSPACE`), before it sleeps
    /// or `poll` says it cannot write: [`Sock::writer_waited`] tells the
    /// code that frees room to wake it.
    pub(crate) fn writer_waits(&self) {
        // SAFETY: the socket is live; the helper sets an atomic bit of its
        // `struct socket`, if it has one.
        unsafe { bindings::mptcp_rs_sk_nospace(self.as_raw()) }
    }

    /// Whether a writer found no room since the last call (and clears the
    /// mark): the waiters are woken only then. Waking them on every
    /// DATA_ACK would wake a reader sleeping on the same wait queue for
    /// nothing, before the data that came with that DATA_ACK is there.
    pub(crate) fn writer_waited(&self) -> bool {
        // SAFETY: the socket is live; the helper tests and clears an atomic
        // bit of its `struct socket`, if it has one.
        unsafe { bindings::mptcp_rs_sk_test_clear_nospace(self.as_raw()) }
    }

    /// Wakes up those who wait for room to write.
    pub(crate) fn write_space(&self) {
        // SAFETY: `self` is live; `sk_write_space` is its own callback.
        unsafe { bindings::mptcp_rs_sk_write_space(self.as_raw()) };
    }

    /// Wakes up those who wait for a state change.
    pub(crate) fn state_change(&self) {
        // SAFETY: `self` is live; `sk_state_change` is its own callback.
        unsafe { bindings::mptcp_rs_sk_state_change(self.as_raw()) };
    }

    /// Makes the socket hold a reference on its namespace, as user sockets
    /// do: kernel sockets do not, and our subflows must not outlive theirs.
    pub(crate) fn upgrade_net_ref(&self) {
        // SAFETY: `self` is a live kernel socket not yet locked or in use.
        unsafe { bindings::sk_net_refcnt_upgrade(self.as_raw()) };
    }

    /// `sk_user_data`, which this module uses on its subflows.
    pub(crate) fn user_data(&self) -> *mut c_void {
        // SAFETY: `self` is live; the pointer is read with READ_ONCE semantics.
        unsafe { core::ptr::read_volatile(&(*self.as_raw()).sk_user_data) }
    }

    /// Sets `sk_user_data`.
    ///
    /// # Safety
    ///
    /// The callers of [`Sock::user_data`] on this socket must agree on what the
    /// pointer means.
    pub(crate) unsafe fn set_user_data(&self, data: *mut c_void) {
        // SAFETY: `self` is live; single pointer store (WRITE_ONCE).
        unsafe { core::ptr::write_volatile(&mut (*self.as_raw()).sk_user_data, data) };
    }
}

/// The socket lock, held (`lock_sock`); released when dropped
/// (`release_sock`, which also processes the backlog).
pub(crate) struct SockGuard<'a> {
    sk: &'a Sock,
    _not_send: PhantomData<*mut ()>,
}

impl SockGuard<'_> {
    /// The locked socket.
    pub(crate) fn sock(&self) -> &Sock {
        self.sk
    }

    /// Sleeps until `done` returns true, the timeout `timeo` (in jiffies)
    /// expires, or a signal arrives; the lock is released while sleeping and
    /// `done` is called with it held. Wakers are the socket's callbacks
    /// (`sk_data_ready`, `sk_state_change`...), on its wait queue.
    ///
    /// Returns the time left, or `EAGAIN` when the timeout expired (or was 0)
    /// and the `sock_intr_errno` error on a signal.
    pub(crate) fn wait(
        &mut self,
        timeo: &mut c_long,
        mut done: impl FnMut(&Sock) -> bool,
    ) -> Result {
        if done(self.sk) {
            return Ok(());
        }
        // The entry is a list node pointing at itself: initialised in place,
        // never moved.
        let entry = Opaque::<bindings::wait_queue_entry>::uninit();
        // SAFETY: `entry` is valid for writes; the helper initialises it for the
        // current task. The socket is live, so is its wait queue; `entry` is
        // removed below before it goes out of scope.
        unsafe {
            bindings::mptcp_rs_init_wait_woken(entry.get());
            bindings::mptcp_rs_sk_add_wait(self.sk.as_raw(), entry.get());
        }
        let result = loop {
            if done(self.sk) {
                break Ok(());
            }
            if *timeo == 0 {
                break Err(EAGAIN);
            }
            // SAFETY: `current` is a live task; reading its signal state is
            // what `signal_pending(current)` does.
            if unsafe { bindings::mptcp_rs_signal_pending() } {
                // SAFETY: pure function of its argument.
                break Err(Error::from_errno(unsafe {
                    bindings::mptcp_rs_sock_intr_errno(*timeo)
                }));
            }
            // SAFETY: we hold the lock (this guard), released and re-taken
            // around the sleep; `entry` is on the socket's wait queue.
            *timeo = unsafe {
                bindings::release_sock(self.sk.as_raw());
                let left = bindings::wait_woken(entry.get(), bindings::TASK_INTERRUPTIBLE, *timeo);
                bindings::lock_sock_nested(self.sk.as_raw(), 0);
                left
            };
        };
        // SAFETY: added above to the same queue.
        unsafe { bindings::mptcp_rs_sk_remove_wait(self.sk.as_raw(), entry.get()) };
        result
    }
}

impl Drop for SockGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: the lock was taken when this guard was made.
        unsafe { bindings::release_sock(self.sk.as_raw()) };
    }
}

/// A `struct socket`: what a system call on an MPTCP socket receives, or a
/// kernel socket (a subflow).
#[repr(transparent)]
pub(crate) struct Socket(Opaque<bindings::socket>);

impl Socket {
    /// Borrows a `struct socket`.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a live socket that stays alive for `'a`.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::socket) -> &'a Socket {
        // SAFETY: transparent wrapper; the caller guarantees the lifetime.
        unsafe { &*ptr.cast::<Socket>() }
    }

    /// The raw pointer, for calls into C.
    pub(crate) fn as_raw(&self) -> *mut bindings::socket {
        self.0.get()
    }

    /// Its `struct sock`, if it has one.
    pub(crate) fn sk(&self) -> Option<&Sock> {
        // SAFETY: `self` is live; `sk` is set at creation and cleared only at
        // release, which the caller's borrow of `self` precedes.
        let sk = unsafe { (*self.as_raw()).sk };
        // SAFETY: a `struct socket` holds its `struct sock` alive.
        (!sk.is_null()).then(|| unsafe { Sock::from_raw(sk) })
    }
}

/// Converts a C return value (negative errno or a count) to a `Result`.
pub(crate) fn to_result_count(ret: c_int) -> Result<usize> {
    if ret < 0 {
        Err(Error::from_errno(ret))
    } else {
        Ok(ret as usize)
    }
}

/// `MAX_SCHEDULE_TIMEOUT`: wait for ever.
pub(crate) const MAX_TIMEOUT: c_long = c_long::MAX;
