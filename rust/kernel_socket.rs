// SPDX-License-Identifier: GPL-2.0

//! Kernel TCP sockets: the subflows of an MPTCP connection, owned by this
//! module and hidden from the application.

use super::{
    bindings,
    net::Net,
    sock::{to_result_count, Sock, Socket},
    user::{MsgHdr, PollTable, SockAddr, UserOptLen, UserOptVal},
};
use core::ptr::NonNull;
use kernel::alloc::KVec;
use kernel::{
    error::to_result,
    ffi::{c_int, c_uint},
    prelude::*,
};

const AF_INET: c_int = 2;
const SOCK_STREAM: c_int = 1;
const IPPROTO_TCP: c_int = 6;
/// `O_NONBLOCK`, as `kernel_connect` and `kernel_accept` take it.
pub(crate) const O_NONBLOCK: c_int = 0o4000;

/// An owned kernel TCP socket (`sock_create_kern`); released (closed, with a
/// FIN or a RST as TCP decides) when dropped.
pub(crate) struct KernelSocket {
    sock: NonNull<bindings::socket>,
}

// SAFETY: a kernel socket may be used and released from any thread; its
// state is protected by its own lock.
unsafe impl Send for KernelSocket {}
// SAFETY: every operation takes the socket's locks as needed.
unsafe impl Sync for KernelSocket {}

impl KernelSocket {
    /// A new IPv4 TCP socket in `net`, which it holds a reference on.
    pub(crate) fn new_tcp(net: &Net) -> Result<Self> {
        let mut sock: *mut bindings::socket = core::ptr::null_mut();
        // SAFETY: `net` is live; on success `sock` points to a new socket that
        // we own.
        to_result(unsafe {
            bindings::sock_create_kern(net.as_raw(), AF_INET, SOCK_STREAM, IPPROTO_TCP, &mut sock)
        })?;
        // SAFETY: `sock_create_kern` succeeded, so `sock` is valid and non-null.
        let sock = unsafe { NonNull::new_unchecked(sock) };
        let this = Self { sock };
        this.sk().upgrade_net_ref();
        Ok(this)
    }

    /// Takes ownership of a kernel socket made by `kernel_accept`.
    ///
    /// # Safety
    ///
    /// `sock` must be a live kernel socket that nothing else releases.
    unsafe fn from_raw(sock: *mut bindings::socket) -> Self {
        // SAFETY: the caller passes a valid socket.
        let sock = unsafe { NonNull::new_unchecked(sock) };
        Self { sock }
    }

    /// The `struct socket`.
    pub(crate) fn socket(&self) -> &Socket {
        // SAFETY: we own the socket until drop.
        unsafe { Socket::from_raw(self.sock.as_ptr()) }
    }

    /// The `struct sock` (TCP).
    pub(crate) fn sk(&self) -> &Sock {
        // SAFETY: a kernel socket from `sock_create_kern` or `kernel_accept`
        // always has its `sk` until it is released, which only drop does.
        unsafe { Sock::from_raw((*self.sock.as_ptr()).sk) }
    }

    /// `bind(2)`.
    pub(crate) fn bind(&self, addr: &SockAddr<'_>) -> Result {
        // SAFETY: we own the socket; `addr` is a valid kernel copy of the
        // address with its length.
        to_result(unsafe { bindings::kernel_bind(self.sock.as_ptr(), addr.as_ptr(), addr.len()) })
    }

    /// `connect(2)`; `flags` may hold [`O_NONBLOCK`].
    pub(crate) fn connect(&self, addr: &SockAddr<'_>, flags: c_int) -> Result {
        // SAFETY: as for `bind`.
        to_result(unsafe {
            bindings::kernel_connect(self.sock.as_ptr(), addr.as_ptr(), addr.len(), flags)
        })
    }

    /// `listen(2)`.
    pub(crate) fn listen(&self, backlog: c_int) -> Result {
        // SAFETY: we own the socket.
        to_result(unsafe { bindings::kernel_listen(self.sock.as_ptr(), backlog) })
    }

    /// `accept(2)` on a listener: a new socket for the first queued
    /// connection; with [`O_NONBLOCK`], `EAGAIN` if there is none.
    pub(crate) fn accept(&self, flags: c_int) -> Result<KernelSocket> {
        let mut new: *mut bindings::socket = core::ptr::null_mut();
        // SAFETY: we own the listener; on success `new` is a new kernel socket
        // that we own.
        to_result(unsafe { bindings::kernel_accept(self.sock.as_ptr(), &mut new, flags) })?;
        // SAFETY: `kernel_accept` succeeded: `new` is valid and ours.
        let child = unsafe { Self::from_raw(new) };
        // Children inherit the listener's namespace reference (sk_clone).
        Ok(child)
    }

    /// `shutdown(2)`; `how` is SHUT_RD, SHUT_WR or SHUT_RDWR.
    pub(crate) fn shutdown(&self, how: c_int) -> Result {
        // SAFETY: we own the socket.
        to_result(unsafe { bindings::kernel_sock_shutdown(self.sock.as_ptr(), how as _) })
    }

    /// The local (`peer == false`) or remote address into `addr`; its length.
    pub(crate) fn getname(&self, addr: &mut SockAddr<'_>, peer: bool) -> Result<usize> {
        // SAFETY: we own the socket; `addr` has room for any address.
        let ret = unsafe {
            if peer {
                bindings::kernel_getpeername(self.sock.as_ptr(), addr.as_mut_ptr())
            } else {
                bindings::kernel_getsockname(self.sock.as_ptr(), addr.as_mut_ptr())
            }
        };
        let len = to_result_count(ret)?;
        addr.set_len(len);
        Ok(len)
    }

    /// `sendmsg(2)` of the application's message, straight to TCP.
    pub(crate) fn sendmsg(&self, msg: &mut MsgHdr, len: usize) -> Result<usize> {
        // SAFETY: we own the socket; `msg` is the caller's valid msghdr, whose
        // iterator TCP advances.
        to_result_count(unsafe { bindings::tcp_sendmsg(self.sk().as_raw(), msg.as_raw(), len) })
    }

    /// `recvmsg(2)` into the application's message, straight from TCP.
    pub(crate) fn recvmsg(&self, msg: &mut MsgHdr, len: usize, flags: c_int) -> Result<usize> {
        let mut addr_len: c_int = 0;
        // SAFETY: as for `sendmsg`; TCP does not write an address.
        to_result_count(unsafe {
            bindings::tcp_recvmsg(self.sk().as_raw(), msg.as_raw(), len, flags, &mut addr_len)
        })
    }

    /// `poll(2)` of the TCP socket, registering the caller on its wait queue.
    pub(crate) fn poll(&self, poll: &PollTable) -> c_uint {
        // SAFETY: we own the socket; `poll` holds the caller's file and table.
        unsafe { bindings::tcp_poll(poll.file(), self.sock.as_ptr(), poll.as_raw()) }
    }

    /// `setsockopt(2)` with the application's (user space) value.
    pub(crate) fn setsockopt(&self, level: c_int, name: c_int, val: &UserOptVal) -> Result {
        // SAFETY: we own the socket; `val` is the caller's sockptr and length.
        to_result(unsafe {
            if level == bindings::SOL_SOCKET as c_int {
                bindings::sock_setsockopt(self.sock.as_ptr(), level, name, val.ptr(), val.len())
            } else {
                bindings::tcp_setsockopt(self.sk().as_raw(), level, name, val.ptr(), val.len())
            }
        })
    }

    /// `getsockopt(2)` into the application's buffer, for TCP levels.
    pub(crate) fn getsockopt(&self, level: c_int, name: c_int, len: &UserOptLen) -> Result {
        // SAFETY: we own the socket; `len` holds the caller's user pointers.
        to_result(unsafe {
            bindings::tcp_getsockopt(self.sk().as_raw(), level, name, len.val(), len.len())
        })
    }

    /// `ioctl(2)` on the TCP socket (SIOCINQ, SIOCOUTQ...).
    pub(crate) fn ioctl(&self, cmd: c_uint, karg: &mut c_int) -> Result {
        // SAFETY: we own the socket; `karg` is a kernel int as tcp_ioctl wants.
        to_result(unsafe { bindings::tcp_ioctl(self.sk().as_raw(), cmd as c_int, karg) })
    }
}

impl Drop for KernelSocket {
    fn drop(&mut self) {
        // SAFETY: we own the socket and release it once.
        unsafe { bindings::sock_release(self.sock.as_ptr()) };
    }
}

/// Takes the children that `claim` picks off the accept queue of
/// `listener`, each with a `struct socket` of its own, as `accept` gives
/// them; the others go back to the queue, in their order (and whoever waits
/// in `accept` is woken). Process context.
pub(crate) fn take_children(
    listener: &Sock,
    mut claim: impl FnMut(&Sock) -> bool,
) -> KVec<KernelSocket> {
    let mut queued: KVec<NonNull<bindings::request_sock>> = KVec::new();
    {
        let _lock = listener.lock();
        loop {
            if queued.len() == queued.capacity() && queued.reserve(8, GFP_KERNEL).is_err() {
                break;
            }
            // SAFETY: `listener` is live and locked, as `inet_csk_accept`
            // has it when it takes from the queue.
            let req = unsafe { bindings::mptcp_rs_reqsk_queue_remove(listener.as_raw()) };
            let Some(req) = NonNull::new(req) else { break };
            // (Room was reserved: this does not allocate.)
            let _ = queued.push(req, GFP_KERNEL);
        }
    }
    let mut taken = KVec::new();
    let mut requeued = false;
    for req in queued {
        // SAFETY: a request taken off the accept queue is ours, and holds
        // its child (`req->sk`), a full socket whose reference the queue
        // held and is ours now.
        let child = unsafe { (*req.as_ptr()).sk };
        // SAFETY: as above: live while we hold its reference.
        let child_sk = unsafe { Sock::from_raw(child) };
        if claim(child_sk) && taken.reserve(1, GFP_KERNEL).is_ok() {
            if let Ok(sock) = graft(child_sk) {
                // SAFETY: the request is ours and no longer needed (as
                // `inet_csk_accept` drops it once it has the child).
                unsafe { bindings::mptcp_rs_reqsk_put(req.as_ptr()) };
                let _ = taken.push(sock, GFP_KERNEL);
                continue;
            }
        }
        // SAFETY: the request and child came off this listener's queue; if
        // it stopped listening meanwhile, TCP disposes of both.
        unsafe { bindings::mptcp_rs_reqsk_queue_add(listener.as_raw(), req.as_ptr(), child) };
        requeued = true;
    }
    if requeued {
        // An `accept` may have looked while the queue was empty.
        listener.data_ready();
    }
    taken
}

/// Whether the accept queue of `listener` holds a child for which `pred`
/// holds. The queue's lock is held meanwhile (BH off): `pred` must not
/// sleep. Any context.
pub(crate) fn accept_queue_any(listener: &Sock, mut pred: impl FnMut(&Sock) -> bool) -> bool {
    let icsk = listener.as_raw().cast::<bindings::inet_connection_sock>();
    // SAFETY: `listener` is a live TCP socket (an `inet_connection_sock`);
    // its accept queue's lock outlives it.
    let lock = unsafe { core::ptr::addr_of_mut!((*icsk).icsk_accept_queue.rskq_lock) };
    let mut found = false;
    // SAFETY: the lock is initialised with the socket; TCP takes it with BH
    // off too (`inet_csk_reqsk_queue_add`, `reqsk_queue_remove`).
    unsafe { bindings::mptcp_rs_spin_lock_bh(lock) };
    // SAFETY: under the queue's lock the list is stable: each request on it
    // is live and holds its child (`req->sk`), a full socket.
    unsafe {
        let mut req = (*icsk).icsk_accept_queue.rskq_accept_head;
        while !req.is_null() {
            if pred(Sock::from_raw((*req).sk)) {
                found = true;
                break;
            }
            req = (*req).dl_next;
        }
    }
    // SAFETY: taken above.
    unsafe { bindings::mptcp_rs_spin_unlock_bh(lock) };
    found
}

/// A `struct socket` for a child taken off an accept queue (what
/// `inet_accept` does); on error the child is left as it was.
fn graft(child: &Sock) -> Result<KernelSocket> {
    let mut sock: *mut bindings::socket = core::ptr::null_mut();
    // SAFETY: on success `sock` is a new socket without a `sock`, ours.
    to_result(unsafe { bindings::sock_create_lite(AF_INET, SOCK_STREAM, IPPROTO_TCP, &mut sock) })?;
    {
        let _lock = child.lock();
        // SAFETY: `sock` is new and ours; `inet_stream_ops` is what TCP
        // sockets use (it has no module to hold); the child is live and
        // locked, as `sock_graft` wants it.
        unsafe {
            (*sock).ops = core::ptr::addr_of!(bindings::inet_stream_ops);
            bindings::mptcp_rs_sock_graft(child.as_raw(), sock);
        }
    }
    // SAFETY: `sock` is ours, with the child's reference (taken over from
    // the accept queue) as its `sk`.
    Ok(unsafe { KernelSocket::from_raw(sock) })
}
