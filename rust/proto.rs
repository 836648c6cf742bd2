// SPDX-License-Identifier: GPL-2.0

//! A stream protocol of the IPv4 and IPv6 families: the `struct proto`,
//! `struct proto_ops` and `struct inet_protosw` that make `socket(AF_INET,
//! SOCK_STREAM, protocol)` and `socket(AF_INET6, ...)` create our sockets,
//! with trampolines into a Rust implementation of [`StreamOps`].
//!
//! Each socket of the protocol is a `struct sock` (laid out as an
//! `inet_connection_sock`, as `inet_create` and `inet_release` expect) with
//! a pointer to the protocol's Rust state for that socket; an IPv6 one also
//! has the `ipv6_pinfo` that `inet6_create` finds through the proto's
//! `ipv6_pinfo_offset`.

use super::{
    bindings,
    sock::{Sock, Socket},
    user::{MsgHdr, PollTable, SockAddr, UserOptLen, UserOptVal},
};
use core::{marker::PhantomData, ptr};
use kernel::{
    error::{code::*, to_result},
    ffi::{c_int, c_long, c_uint, c_ulong, c_void},
    prelude::*,
    str::CStr,
    types::Opaque,
    ThisModule,
};

const SOCK_STREAM: u16 = 1;
/// `AF_INET6`.
pub(crate) const AF_INET6: u16 = 10;
const EPOLLERR: c_uint = 0x8;

/// What the protocol implements; each method gets the socket it operates on
/// as a [`Master`], holding the protocol's state of that socket.
pub(crate) trait StreamOps: Sized + 'static {
    /// The protocol's state of one socket.
    type State: Send + Sync;

    /// The `struct proto` name (shown in /proc/net/protocols).
    const NAME: &'static CStr;
    /// The name of the IPv6 family's `struct proto`.
    const NAME6: &'static CStr;
    /// The IP protocol number of `socket(2)`.
    const PROTOCOL: u16;

    /// The one registration record of the protocol.
    fn protocol() -> &'static Protocol<Self>;

    /// `socket(2)`: the state of a new socket (`proto->init`).
    fn init(sk: &Sock) -> Result<Self::State>;
    /// `close(2)`: tear down, before the socket itself goes (`proto->close`).
    fn close(m: &Master<'_, Self>, timeout: c_long);
    fn bind(m: &Master<'_, Self>, addr: &SockAddr<'_>) -> Result;
    fn connect(m: &Master<'_, Self>, addr: &SockAddr<'_>, flags: c_int) -> Result;
    fn listen(m: &Master<'_, Self>, backlog: c_int) -> Result;
    /// `accept(2)`: the state of the accepted socket, which the abstraction
    /// creates around it.
    fn accept(m: &Master<'_, Self>, flags: c_int) -> Result<Self::State>;
    /// The accepted socket exists, with the state `accept` returned.
    fn grafted(m: &Master<'_, Self>) -> Result;
    fn getname(m: &Master<'_, Self>, addr: &mut SockAddr<'_>, peer: bool) -> Result<usize>;
    fn poll(m: &Master<'_, Self>, table: &PollTable) -> c_uint;
    fn ioctl(m: &Master<'_, Self>, cmd: c_uint, karg: &mut c_int) -> Result;
    fn shutdown(m: &Master<'_, Self>, how: c_int) -> Result;
    fn setsockopt(m: &Master<'_, Self>, level: c_int, name: c_int, val: &UserOptVal) -> Result;
    fn getsockopt(m: &Master<'_, Self>, level: c_int, name: c_int, len: &UserOptLen) -> Result;
    fn sendmsg(m: &Master<'_, Self>, msg: &mut MsgHdr, len: usize) -> Result<usize>;
    fn recvmsg(m: &Master<'_, Self>, msg: &mut MsgHdr, len: usize, flags: c_int) -> Result<usize>;
}

/// The memory layout of one of our sockets.
#[repr(C)]
struct MasterRepr {
    icsk: bindings::inet_connection_sock,
    /// A `KBox<T::State>` turned into a raw pointer; null before `init` and
    /// after `destroy`.
    state: *mut c_void,
}

/// The memory layout of one of our IPv6 sockets: the same, then the IPv6
/// socket information (`inet_sk(sk)->pinet6` points at it).
#[repr(C)]
struct MasterRepr6 {
    base: MasterRepr,
    pinfo: bindings::ipv6_pinfo,
}

/// One of the protocol's sockets, with its state.
pub(crate) struct Master<'a, T: StreamOps> {
    socket: Option<&'a Socket>,
    sk: &'a Sock,
    state: &'a T::State,
}

impl<'a, T: StreamOps> Master<'a, T> {
    /// The socket of a system call.
    ///
    /// # Safety
    ///
    /// `sock` must be a live socket of protocol `T`, for `'a`.
    unsafe fn from_socket(sock: *mut bindings::socket) -> Option<Self> {
        // SAFETY: guaranteed by the caller.
        let socket = unsafe { Socket::from_raw(sock) };
        let sk = socket.sk()?;
        // SAFETY: `sk` is one of ours, so its memory is a `MasterRepr`.
        let mut m = unsafe { Self::from_sk(sk.as_raw())? };
        m.socket = Some(socket);
        Some(m)
    }

    /// # Safety
    ///
    /// `sk` must be a live socket of protocol `T`, for `'a`.
    unsafe fn from_sk(sk: *mut bindings::sock) -> Option<Self> {
        // SAFETY: the caller guarantees `sk` is ours, hence a `MasterRepr`.
        let state = unsafe { (*sk.cast::<MasterRepr>()).state };
        if state.is_null() {
            return None;
        }
        Some(Self {
            socket: None,
            // SAFETY: live for `'a` (caller).
            sk: unsafe { Sock::from_raw(sk) },
            // SAFETY: a non-null `state` is a `KBox<T::State>` that lives until
            // `destroy`, which cannot run while a call on the socket is in
            // progress (the caller's `'a`).
            state: unsafe { &*state.cast::<T::State>() },
        })
    }

    /// The socket.
    pub(crate) fn sk(&self) -> &'a Sock {
        self.sk
    }

    /// The protocol's state of the socket.
    pub(crate) fn state(&self) -> &'a T::State {
        self.state
    }

    /// Whether the operation came with `O_NONBLOCK` on the file.
    pub(crate) fn file_nonblock(&self) -> bool {
        let Some(socket) = self.socket else {
            return false;
        };
        // SAFETY: the socket is live; `file` is set for sockets of system calls.
        unsafe {
            let file = (*socket.as_raw()).file;
            !file.is_null() && ((*file).f_flags & bindings::O_NONBLOCK) != 0
        }
    }

    /// Registers the caller of `poll` on the socket's wait queue
    /// (`sock_poll_wait`).
    pub(crate) fn poll_wait(&self, table: &PollTable) {
        let Some(socket) = self.socket else { return };
        // SAFETY: the socket of the poll call, with its file and table.
        unsafe { bindings::mptcp_rs_sock_poll_wait(table.file(), socket.as_raw(), table.as_raw()) };
    }

    /// The error of writing to a socket shut down for writing: `EPIPE`,
    /// with `SIGPIPE` unless `MSG_NOSIGNAL` (`sk_stream_error`).
    pub(crate) fn pipe_error(&self, flags: c_int) -> kernel::error::Error {
        // SAFETY: the socket is live; `sk_stream_error` reads its error and
        // may signal the current task.
        let err = unsafe { bindings::sk_stream_error(self.sk.as_raw(), flags, EPIPE.to_errno()) };
        kernel::error::Error::from_errno(err)
    }

    /// Applies a `SOL_SOCKET` option to the socket itself
    /// (`sock_setsockopt`).
    pub(crate) fn sock_setsockopt(&self, name: c_int, val: &UserOptVal) -> Result {
        let socket = self.socket.ok_or(EINVAL)?;
        // SAFETY: the socket is live; `val` is what the system call passed.
        to_result(unsafe {
            bindings::sock_setsockopt(
                socket.as_raw(),
                bindings::SOL_SOCKET as c_int,
                name,
                val.ptr(),
                val.len(),
            )
        })
    }
}

/// The records that register a protocol in one address family.
struct FamilyRecords {
    proto: Opaque<bindings::proto>,
    ops: Opaque<bindings::proto_ops>,
    protosw: Opaque<bindings::inet_protosw>,
}

impl FamilyRecords {
    /// The records of `T` in `AF_INET`, or `AF_INET6` if `inet6`.
    const fn new<T: StreamOps>(inet6: bool) -> Self {
        // SAFETY: all-zeroes is a valid `proto`, `proto_ops` and `inet_protosw`
        // (null pointers, `None` callbacks); the fields we use are set below
        // and in `register`.
        let mut proto: bindings::proto = unsafe { core::mem::zeroed() };
        let name = if inet6 { T::NAME6 } else { T::NAME }.as_bytes_with_nul();
        assert!(name.len() <= proto.name.len());
        let mut i = 0;
        while i < name.len() {
            proto.name[i] = name[i] as _;
            i += 1;
        }
        if inet6 {
            proto.obj_size = core::mem::size_of::<MasterRepr6>() as c_uint;
            proto.ipv6_pinfo_offset = core::mem::offset_of!(MasterRepr6, pinfo) as c_uint;
        } else {
            proto.obj_size = core::mem::size_of::<MasterRepr>() as c_uint;
        }
        proto.init = Some(init_cb::<T>);
        proto.destroy = Some(destroy_cb::<T>);
        proto.close = Some(close_cb::<T>);
        proto.hash = Some(hash_cb);
        proto.unhash = Some(unhash_cb);
        proto.no_autobind = true;

        // SAFETY: as above.
        let mut ops: bindings::proto_ops = unsafe { core::mem::zeroed() };
        if inet6 {
            ops.family = bindings::PF_INET6 as c_int;
            ops.release = Some(bindings::inet6_release);
        } else {
            ops.family = bindings::PF_INET as c_int;
            ops.release = Some(bindings::inet_release);
        }
        ops.bind = Some(bind_cb::<T>);
        ops.connect = Some(connect_cb::<T>);
        ops.socketpair = Some(bindings::sock_no_socketpair);
        ops.accept = Some(accept_cb::<T>);
        ops.getname = Some(getname_cb::<T>);
        ops.poll = Some(poll_cb::<T>);
        ops.ioctl = Some(ioctl_cb::<T>);
        ops.listen = Some(listen_cb::<T>);
        ops.shutdown = Some(shutdown_cb::<T>);
        ops.setsockopt = Some(setsockopt_cb::<T>);
        ops.getsockopt = Some(getsockopt_cb::<T>);
        ops.sendmsg = Some(sendmsg_cb::<T>);
        ops.recvmsg = Some(recvmsg_cb::<T>);
        ops.mmap = Some(bindings::sock_no_mmap);

        // SAFETY: as above.
        let mut protosw: bindings::inet_protosw = unsafe { core::mem::zeroed() };
        protosw.type_ = SOCK_STREAM;
        protosw.protocol = T::PROTOCOL;
        protosw.flags = bindings::INET_PROTOSW_ICSK as u8;

        Self {
            proto: Opaque::new(proto),
            ops: Opaque::new(ops),
            protosw: Opaque::new(protosw),
        }
    }

    /// Points the records at each other and at `module`, and registers the
    /// `struct proto` (with a slab cache).
    ///
    /// # Safety
    ///
    /// Called once per module load, before the kernel sees the records.
    unsafe fn register_proto(&self, module: &'static ThisModule) -> Result {
        // SAFETY: nothing else accesses the records yet (the caller).
        unsafe {
            (*self.proto.get()).owner = module.as_ptr().cast();
            (*self.ops.get()).owner = module.as_ptr().cast();
            (*self.protosw.get()).prot = self.proto.get();
            (*self.protosw.get()).ops = self.ops.get();
        }
        // SAFETY: `proto` is a valid, static record; 1 asks for a slab cache.
        to_result(unsafe { bindings::proto_register(self.proto.get(), 1) })
    }
}

/// The registration record of a [`StreamOps`] protocol: declare one `static`.
pub(crate) struct Protocol<T: StreamOps> {
    inet: FamilyRecords,
    inet6: FamilyRecords,
    _t: PhantomData<T>,
}

// SAFETY: the C structures are written only by `register`, before the kernel
// shares them, and afterwards only by the kernel under its own locks.
unsafe impl<T: StreamOps> Sync for Protocol<T> {}

impl<T: StreamOps> Protocol<T> {
    /// The record, to be placed in a `static`.
    pub(crate) const fn new() -> Self {
        Self {
            inet: FamilyRecords::new::<T>(false),
            inet6: FamilyRecords::new::<T>(true),
            _t: PhantomData,
        }
    }

    /// Registers the protocol in both families: from now on `socket(2)`
    /// creates its sockets.
    pub(crate) fn register(&'static self, module: &'static ThisModule) -> Result<Registration<T>> {
        // SAFETY: `register` is called once per module load (a second
        // registration would fail in `proto_register`), before the kernel
        // knows the records.
        unsafe { self.inet.register_proto(module)? };
        // SAFETY: as above.
        if let Err(e) = unsafe { self.inet6.register_proto(module) } {
            // SAFETY: registered just above, not yet reachable by `socket(2)`.
            unsafe { bindings::proto_unregister(self.inet.proto.get()) };
            return Err(e);
        }
        // SAFETY: `protosw` is valid and static, pointing at its registered
        // proto; IPv6 refuses only a duplicate (a protocol number taken).
        let r = unsafe { bindings::inet6_register_protosw(self.inet6.protosw.get()) };
        if let Err(e) = to_result(r) {
            // SAFETY: both were registered above, neither reachable.
            unsafe {
                bindings::proto_unregister(self.inet6.proto.get());
                bindings::proto_unregister(self.inet.proto.get());
            }
            return Err(e);
        }
        // SAFETY: as for IPv6.
        unsafe { bindings::inet_register_protosw(self.inet.protosw.get()) };
        Ok(Registration { protocol: self })
    }

    /// Creates the socket of `newsock` (an `accept(2)`) around `state`, as
    /// `inet_create` would have: an `inet_sock`, initialised, with the
    /// protocol's state but without `init` (no `net.mptcp.enabled` check: the
    /// listener exists).
    fn graft_accepted(
        &'static self,
        listener: &Sock,
        newsock: *mut bindings::socket,
        state: T::State,
    ) -> Result {
        let state = KBox::new(state, GFP_KERNEL)?;
        // An accepted socket is of its listener's family.
        let inet6 = listener.family() == AF_INET6;
        let (family, records) = match inet6 {
            true => (bindings::PF_INET6, &self.inet6),
            false => (bindings::PF_INET, &self.inet),
        };
        // SAFETY: the listener is live, so is its namespace; `proto` is
        // registered; the new socket is a user socket (kern = 0).
        let sk = unsafe {
            bindings::sk_alloc(
                listener.net().as_raw(),
                family as c_int,
                kernel::bindings::GFP_KERNEL,
                records.proto.get(),
                0,
            )
        };
        if sk.is_null() {
            return Err(ENOMEM);
        }
        // SAFETY: `sk` is a new, zeroed socket of our proto (so a `MasterRepr`)
        // and `newsock` is the accept call's socket, not yet with a sock; the
        // steps are those of `inet_create` that apply to a stream socket,
        // then what a TCP child takes from its listener. `sk` lives for the
        // block and no other context sees it yet.
        unsafe {
            bindings::mptcp_rs_inet_init_csk_locks(sk);
            bindings::mptcp_rs_inet_set_icsk(sk);
            bindings::sock_init_data(newsock, sk);
            Sock::from_raw(sk).inherit_buf_sizes(listener);
            (*sk).sk_destruct = Some(bindings::inet_sock_destruct);
            if inet6 {
                // What `inet6_create` sets up for IPv6 (its IPv4 part is
                // unused: our sockets send nothing themselves).
                let np = ptr::addr_of_mut!((*sk.cast::<MasterRepr6>()).pinfo);
                (*sk.cast::<bindings::inet_sock>()).pinet6 = np;
                (*np).hop_limit = -1;
                (*np).mcast_hops = bindings::IPV6_DEFAULT_MCASTHOPS as u8;
                (*np).pmtudisc = bindings::IPV6_PMTUDISC_WANT as u8;
                bindings::mptcp_rs_inet6_set_mc_bits(sk);
                (*sk).sk_destruct = Some(bindings::inet6_sock_destruct);
            }
            (*sk).sk_protocol = T::PROTOCOL;
            (*sk.cast::<MasterRepr>()).state = KBox::into_raw(state).cast();
            (*newsock).state = bindings::socket_state_SS_CONNECTED;
            // SOL_SOCKET options come to the protocol (to reach subflows).
            bindings::mptcp_rs_set_custom_sockopt(sk);
        }
        // SAFETY: `newsock` now has its sock, ours, live for the call.
        match unsafe { Master::<T>::from_socket(newsock) } {
            Some(m) => T::grafted(&m),
            None => Err(EINVAL),
        }
    }
}

/// A registered [`Protocol`]; unregistered when dropped.
pub(crate) struct Registration<T: StreamOps> {
    protocol: &'static Protocol<T>,
}

impl<T: StreamOps> Drop for Registration<T> {
    fn drop(&mut self) {
        let (inet, inet6) = (&self.protocol.inet, &self.protocol.inet6);
        // SAFETY: all were registered by `Protocol::register`. No socket of
        // ours can exist any more: each holds a reference on the module.
        unsafe {
            bindings::inet_unregister_protosw(inet.protosw.get());
            bindings::inet6_unregister_protosw(inet6.protosw.get());
            bindings::proto_unregister(inet6.proto.get());
            bindings::proto_unregister(inet.proto.get());
        }
    }
}

fn ret(r: Result) -> c_int {
    match r {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

fn ret_count(r: Result<usize>) -> c_int {
    match r {
        Ok(n) => n.min(c_int::MAX as usize) as c_int,
        Err(e) => e.to_errno(),
    }
}

/// # Safety
///
/// Only the kernel calls this, through the table or hook this module
/// registered it in, with the arguments that callback is defined to get.
unsafe extern "C" fn init_cb<T: StreamOps>(sk: *mut bindings::sock) -> c_int {
    // SAFETY: `inet_create` calls `init` with the new socket.
    let sock = unsafe { Sock::from_raw(sk) };
    let state = match T::init(sock).and_then(|s| Ok(KBox::new(s, GFP_KERNEL)?)) {
        Ok(state) => state,
        Err(e) => return e.to_errno(),
    };
    // SAFETY: the socket is one of ours, so a `MasterRepr`, not yet shared;
    // `inet_create` set its `struct socket` before calling `init`.
    unsafe {
        (*sk.cast::<MasterRepr>()).state = KBox::into_raw(state).cast();
        if !(*sk).sk_socket.is_null() {
            // SOL_SOCKET options come to the protocol (to reach subflows).
            bindings::mptcp_rs_set_custom_sockopt(sk);
        }
    }
    0
}

/// # Safety
///
/// Only the kernel calls this, through the table or hook this module
/// registered it in, with the arguments that callback is defined to get.
unsafe extern "C" fn destroy_cb<T: StreamOps>(sk: *mut bindings::sock) {
    // SAFETY: `destroy` runs once, from `sk_common_release` (our close or a
    // failed `init`), when no other call is in progress on the socket.
    unsafe {
        let repr = sk.cast::<MasterRepr>();
        let state = core::mem::replace(&mut (*repr).state, ptr::null_mut());
        if !state.is_null() {
            drop(KBox::from_raw(state.cast::<T::State>()));
        }
    }
}

/// # Safety
///
/// Only the kernel calls this, through the table or hook this module
/// registered it in, with the arguments that callback is defined to get.
unsafe extern "C" fn close_cb<T: StreamOps>(sk: *mut bindings::sock, timeout: c_long) {
    // SAFETY: `inet_release` calls `close` on a live socket of ours.
    if let Some(m) = unsafe { Master::<T>::from_sk(sk) } {
        T::close(&m, timeout);
    }
    // SAFETY: the socket is released; this runs `destroy`, orphans the socket
    // and drops the reference of its `struct socket`.
    unsafe { bindings::sk_common_release(sk) };
}

/// # Safety
///
/// Only the kernel calls this, through the table or hook this module
/// registered it in, with the arguments that callback is defined to get.
unsafe extern "C" fn hash_cb(_sk: *mut bindings::sock) -> c_int {
    // Our sockets are never in a lookup table: their subflows are.
    0
}

/// # Safety
///
/// Only the kernel calls this, through the table or hook this module
/// registered it in, with the arguments that callback is defined to get.
unsafe extern "C" fn unhash_cb(_sk: *mut bindings::sock) {}

macro_rules! master_or_return {
    ($sock:expr) => {
        // SAFETY: the socket layer calls our `proto_ops` only on our sockets,
        // which stay alive during the call.
        match unsafe { Master::<T>::from_socket($sock) } {
            Some(m) => m,
            None => return EINVAL.to_errno() as _,
        }
    };
}

/// # Safety
///
/// Only the kernel calls this, through the table or hook this module
/// registered it in, with the arguments that callback is defined to get.
unsafe extern "C" fn bind_cb<T: StreamOps>(
    sock: *mut bindings::socket,
    addr: *mut bindings::sockaddr,
    len: c_int,
) -> c_int {
    let m = master_or_return!(sock);
    // SAFETY: the system call copied `len` bytes of address to `addr`.
    ret(T::bind(&m, &unsafe { SockAddr::from_raw(addr, len) }))
}

/// # Safety
///
/// Only the kernel calls this, through the table or hook this module
/// registered it in, with the arguments that callback is defined to get.
unsafe extern "C" fn connect_cb<T: StreamOps>(
    sock: *mut bindings::socket,
    addr: *mut bindings::sockaddr,
    len: c_int,
    flags: c_int,
) -> c_int {
    let m = master_or_return!(sock);
    // SAFETY: as for bind.
    ret(T::connect(
        &m,
        &unsafe { SockAddr::from_raw(addr, len) },
        flags,
    ))
}

/// # Safety
///
/// Only the kernel calls this, through the table or hook this module
/// registered it in, with the arguments that callback is defined to get.
unsafe extern "C" fn listen_cb<T: StreamOps>(sock: *mut bindings::socket, backlog: c_int) -> c_int {
    let m = master_or_return!(sock);
    ret(T::listen(&m, backlog))
}

/// # Safety
///
/// Only the kernel calls this, through the table or hook this module
/// registered it in, with the arguments that callback is defined to get.
unsafe extern "C" fn accept_cb<T: StreamOps>(
    sock: *mut bindings::socket,
    newsock: *mut bindings::socket,
    arg: *mut bindings::proto_accept_arg,
) -> c_int {
    let m = master_or_return!(sock);
    // SAFETY: `arg` is the accept call's argument block.
    let flags = unsafe { (*arg).flags };
    let r =
        T::accept(&m, flags).and_then(|state| T::protocol().graft_accepted(m.sk(), newsock, state));
    ret(r)
}

/// # Safety
///
/// Only the kernel calls this, through the table or hook this module
/// registered it in, with the arguments that callback is defined to get.
unsafe extern "C" fn getname_cb<T: StreamOps>(
    sock: *mut bindings::socket,
    addr: *mut bindings::sockaddr,
    peer: c_int,
) -> c_int {
    let m = master_or_return!(sock);
    // SAFETY: `addr` is a `sockaddr_storage` of the system call.
    let mut addr = unsafe {
        SockAddr::from_raw(
            addr,
            core::mem::size_of::<bindings::__kernel_sockaddr_storage>() as c_int,
        )
    };
    ret_count(T::getname(&m, &mut addr, peer != 0))
}

/// # Safety
///
/// Only the kernel calls this, through the table or hook this module
/// registered it in, with the arguments that callback is defined to get.
unsafe extern "C" fn poll_cb<T: StreamOps>(
    file: *mut bindings::file,
    sock: *mut bindings::socket,
    wait: *mut bindings::poll_table_struct,
) -> c_uint {
    // SAFETY: as in `master_or_return`.
    let Some(m) = (unsafe { Master::<T>::from_socket(sock) }) else {
        return EPOLLERR;
    };
    // SAFETY: `file` and `wait` are the poll call's.
    T::poll(&m, &unsafe { PollTable::new(file, wait) })
}

/// # Safety
///
/// Only the kernel calls this, through the table or hook this module
/// registered it in, with the arguments that callback is defined to get.
unsafe extern "C" fn ioctl_cb<T: StreamOps>(
    sock: *mut bindings::socket,
    cmd: c_uint,
    arg: c_ulong,
) -> c_int {
    let m = master_or_return!(sock);
    let mut karg: c_int = 0;
    let r = T::ioctl(&m, cmd, &mut karg);
    if let Err(e) = r {
        return e.to_errno();
    }
    // SAFETY: `arg` is the user pointer of the ioctl, where the result goes
    // (the convention of the `sk_ioctl` commands we support).
    if unsafe { bindings::mptcp_rs_put_user_int(karg, arg as *mut c_int) } != 0 {
        return EFAULT.to_errno();
    }
    0
}

/// # Safety
///
/// Only the kernel calls this, through the table or hook this module
/// registered it in, with the arguments that callback is defined to get.
unsafe extern "C" fn shutdown_cb<T: StreamOps>(sock: *mut bindings::socket, how: c_int) -> c_int {
    let m = master_or_return!(sock);
    ret(T::shutdown(&m, how))
}

/// # Safety
///
/// Only the kernel calls this, through the table or hook this module
/// registered it in, with the arguments that callback is defined to get.
unsafe extern "C" fn setsockopt_cb<T: StreamOps>(
    sock: *mut bindings::socket,
    level: c_int,
    name: c_int,
    val: bindings::sockptr_t,
    len: c_uint,
) -> c_int {
    let m = master_or_return!(sock);
    // SAFETY: the system call's value.
    ret(T::setsockopt(&m, level, name, &unsafe {
        UserOptVal::new(val, len)
    }))
}

/// # Safety
///
/// Only the kernel calls this, through the table or hook this module
/// registered it in, with the arguments that callback is defined to get.
unsafe extern "C" fn getsockopt_cb<T: StreamOps>(
    sock: *mut bindings::socket,
    level: c_int,
    name: c_int,
    val: *mut u8,
    len: *mut c_int,
) -> c_int {
    let m = master_or_return!(sock);
    // SAFETY: the system call's user pointers.
    ret(T::getsockopt(&m, level, name, &unsafe {
        UserOptLen::new(val, len)
    }))
}

/// # Safety
///
/// Only the kernel calls this, through the table or hook this module
/// registered it in, with the arguments that callback is defined to get.
unsafe extern "C" fn sendmsg_cb<T: StreamOps>(
    sock: *mut bindings::socket,
    msg: *mut bindings::msghdr,
    len: usize,
) -> c_int {
    let m = master_or_return!(sock);
    // SAFETY: the system call's message, ours for the call.
    ret_count(T::sendmsg(&m, unsafe { MsgHdr::from_raw(msg) }, len))
}

/// # Safety
///
/// Only the kernel calls this, through the table or hook this module
/// registered it in, with the arguments that callback is defined to get.
unsafe extern "C" fn recvmsg_cb<T: StreamOps>(
    sock: *mut bindings::socket,
    msg: *mut bindings::msghdr,
    len: usize,
    flags: c_int,
) -> c_int {
    let m = master_or_return!(sock);
    // SAFETY: as for sendmsg.
    ret_count(T::recvmsg(&m, unsafe { MsgHdr::from_raw(msg) }, len, flags))
}
