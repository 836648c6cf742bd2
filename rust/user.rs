// SPDX-License-Identifier: GPL-2.0

//! What system calls hand to a protocol: messages, addresses, socket option
//! buffers and poll tables. These wrap the kernel's own structures so that
//! the protocol can pass them on (to a subflow) or use them, without raw
//! pointers.

use super::{bindings, errno::eafnosupport};
use core::marker::PhantomData;
use kernel::{
    ffi::{c_int, c_uint},
    prelude::*,
    types::Opaque,
};

/// A `struct msghdr` of a `sendmsg` or `recvmsg` call, with its iterator
/// over the application's buffers.
#[repr(transparent)]
pub(crate) struct MsgHdr(Opaque<bindings::msghdr>);

impl MsgHdr {
    /// Borrows a `struct msghdr`.
    ///
    /// # Safety
    ///
    /// `ptr` must be valid, and exclusively ours, for `'a`.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::msghdr) -> &'a mut MsgHdr {
        // SAFETY: transparent wrapper; guaranteed by the caller.
        unsafe { &mut *ptr.cast::<MsgHdr>() }
    }

    /// The raw pointer, for calls into C.
    pub(crate) fn as_raw(&mut self) -> *mut bindings::msghdr {
        self.0.get()
    }

    /// The bytes left to copy in the message's iterator.
    pub(crate) fn data_left(&self) -> usize {
        // SAFETY: `self` is valid.
        unsafe { bindings::mptcp_rs_msg_data_left(self.0.get()) }
    }

    /// Copies up to `n` bytes from the message (the application's buffers)
    /// to the end of `buf`; returns how many. `EFAULT` if none could be
    /// copied from a bad address.
    pub(crate) fn copy_into(
        &mut self,
        buf: &mut kernel::alloc::KVec<u8>,
        n: usize,
    ) -> Result<usize> {
        buf.reserve(n, GFP_KERNEL)?;
        let spare = buf.spare_capacity_mut();
        let n = n.min(spare.len());
        // SAFETY: `spare` has room for `n` bytes; `msg_iter` is the message's
        // iterator, which the copy advances.
        let got = unsafe {
            bindings::_copy_from_iter(spare.as_mut_ptr().cast(), n, &mut (*self.0.get()).msg_iter)
        };
        // SAFETY: the copy initialised `got` more bytes.
        unsafe { buf.set_len(buf.len() + got) };
        if got == 0 && n > 0 {
            return Err(EFAULT);
        }
        Ok(got)
    }

    /// `msg_flags` (of `sendmsg`), or the flags returned by `recvmsg`.
    pub(crate) fn flags(&self) -> c_uint {
        // SAFETY: `self` is valid.
        unsafe { (*self.0.get()).msg_flags }
    }
}

/// An IPv4 socket address built in the kernel (`struct sockaddr_in`), for
/// the sockets the module opens itself.
#[repr(C)]
pub(crate) struct SockAddrIn {
    family: u16,
    /// Network order.
    port: u16,
    addr: [u8; 4],
    zero: [u8; 8],
}

impl SockAddrIn {
    /// `addr`:`port` (host order).
    pub(crate) fn new(addr: [u8; 4], port: u16) -> Self {
        Self {
            family: 2, // AF_INET
            port: port.to_be(),
            addr,
            zero: [0; 8],
        }
    }

    /// As the socket layer takes it.
    pub(crate) fn as_sockaddr(&mut self) -> SockAddr<'_> {
        // SAFETY: `Self` has the layout of `struct sockaddr_in` (16 bytes),
        // borrowed mutably for the returned lifetime.
        unsafe {
            SockAddr::from_raw(
                (self as *mut Self).cast(),
                core::mem::size_of::<Self>() as c_int,
            )
        }
    }
}

/// `AF_INET6`.
const AF_INET6: u16 = 10;
/// `AF_UNSPEC`.
const AF_UNSPEC: u16 = 0;
/// The length of a `struct sockaddr_in6` without its scope id (RFC 2133),
/// the least IPv6 accepts.
const SIN6_LEN_RFC2133: usize = 24;

/// `struct sockaddr_in6`.
#[repr(C)]
struct SockAddrIn6 {
    family: u16,
    /// Network order.
    port: u16,
    flowinfo: u32,
    addr: [u8; 16],
    scope_id: u32,
}

/// The IPv4 address that an IPv6 one stands for on a socket whose
/// connections are IPv4: `::` (any) is `0.0.0.0` and `::ffff:a.b.c.d`
/// (IPv4-mapped, RFC 4291 2.5.5.2) is `a.b.c.d`; native IPv6 has none.
fn ipv4_of_ipv6(addr: &[u8; 16]) -> Option<[u8; 4]> {
    let (head, v4) = addr.split_at(12);
    if addr == &[0; 16] {
        Some([0; 4])
    } else if head[..10] == [0; 10] && head[10..] == [0xff; 2] {
        Some([v4[0], v4[1], v4[2], v4[3]])
    } else {
        None
    }
}

/// A socket address in kernel memory, as `bind` and `connect` receive it
/// (the system call copied it in) or `getname` fills it.
pub(crate) struct SockAddr<'a> {
    ptr: *mut bindings::sockaddr,
    len: c_int,
    _buf: PhantomData<&'a mut [u8]>,
}

impl<'a> SockAddr<'a> {
    /// Borrows an address and its length.
    ///
    /// # Safety
    ///
    /// `ptr` must be valid for reads (and, through `as_mut_ptr`, writes) of
    /// `len` bytes for `'a`; for `getname`, of a `sockaddr_storage`.
    pub(crate) unsafe fn from_raw(ptr: *mut bindings::sockaddr, len: c_int) -> Self {
        Self {
            ptr,
            len,
            _buf: PhantomData,
        }
    }

    pub(crate) fn as_ptr(&self) -> *mut bindings::sockaddr {
        self.ptr
    }

    pub(crate) fn as_mut_ptr(&mut self) -> *mut bindings::sockaddr {
        self.ptr
    }

    pub(crate) fn len(&self) -> c_int {
        self.len
    }

    pub(crate) fn set_len(&mut self, len: usize) {
        self.len = len as c_int;
    }

    /// The address's bytes.
    fn bytes(&self) -> &[u8] {
        // SAFETY: valid for reads of `len` bytes for `'a` (`from_raw`).
        unsafe { core::slice::from_raw_parts(self.ptr.cast::<u8>(), self.len.max(0) as usize) }
    }

    /// For a socket of the IPv6 family whose connections are IPv4: the IPv4
    /// address (as `sockaddr_in`) this IPv6 one stands for, the `::` and
    /// IPv4-mapped addresses. As IPv6 checks an address: `EINVAL` if it is
    /// too short, `EAFNOSUPPORT` if it is not `AF_INET6`; and `EAFNOSUPPORT`
    /// for a native IPv6 address (no subflow of ours is IPv6). `None` for
    /// `AF_UNSPEC`, which `connect` takes as it is (a disconnect).
    pub(crate) fn ipv4_of_ipv6(&self) -> Result<Option<SockAddrIn>> {
        if self.family() == Some(AF_UNSPEC) {
            return Ok(None);
        }
        let bytes = self.bytes();
        if bytes.len() < SIN6_LEN_RFC2133 {
            return Err(EINVAL);
        }
        if self.family() != Some(AF_INET6) {
            return Err(eafnosupport());
        }
        // `sin6_port` (network order) at 2, `sin6_addr` at 8.
        let port = u16::from_be_bytes([bytes[2], bytes[3]]);
        let mut addr = [0; 16];
        addr.copy_from_slice(&bytes[8..24]);
        let v4 = ipv4_of_ipv6(&addr).ok_or_else(eafnosupport)?;
        Ok(Some(SockAddrIn::new(v4, port)))
    }

    /// Writes the IPv6 form of `v4` (`::` for `0.0.0.0`, else IPv4-mapped)
    /// as a `sockaddr_in6`, for `getname` on an IPv6 socket; returns its
    /// length (`EINVAL` if it does not fit).
    pub(crate) fn set_ipv6_of_ipv4(&mut self, v4: &SockAddrIn) -> Result<usize> {
        let len = core::mem::size_of::<SockAddrIn6>();
        if (self.len.max(0) as usize) < len {
            return Err(EINVAL);
        }
        let mut addr = [0u8; 16];
        if v4.addr != [0; 4] {
            addr[10..12].copy_from_slice(&[0xff; 2]);
            addr[12..].copy_from_slice(&v4.addr);
        }
        let v6 = SockAddrIn6 {
            family: AF_INET6,
            port: v4.port,
            flowinfo: 0,
            addr,
            scope_id: 0,
        };
        // SAFETY: `ptr` is valid for writes of `self.len >= len` bytes
        // (`from_raw`); the write needs no alignment.
        unsafe { core::ptr::write_unaligned(self.ptr.cast::<SockAddrIn6>(), v6) };
        self.set_len(len);
        Ok(len)
    }

    /// The address family, if the address is long enough to have one.
    pub(crate) fn family(&self) -> Option<u16> {
        if self.len < 2 {
            return None;
        }
        // SAFETY: valid for reads of `len >= 2` bytes; `sa_family` is first.
        Some(unsafe { (*self.ptr).sa_family })
    }
}

/// The value of a `setsockopt` call (a `sockptr_t` and its length).
pub(crate) struct UserOptVal {
    ptr: bindings::sockptr_t,
    len: c_uint,
}

impl UserOptVal {
    /// # Safety
    ///
    /// `ptr` and `len` must be what the system call passed to the protocol.
    pub(crate) unsafe fn new(ptr: bindings::sockptr_t, len: c_uint) -> Self {
        Self { ptr, len }
    }

    pub(crate) fn ptr(&self) -> bindings::sockptr_t {
        self.ptr
    }

    pub(crate) fn len(&self) -> c_uint {
        self.len
    }

    /// Copies the value into `buf` (an option that is a string, as a name):
    /// its length, or `EINVAL` if `buf` cannot hold it.
    pub(crate) fn read_bytes(&self, buf: &mut [u8]) -> Result<usize> {
        if self.len as usize > buf.len() {
            return Err(EINVAL);
        }
        self.read_prefix(buf)
    }

    /// Copies the first bytes of the value, as many as `buf` holds (as TCP
    /// reads `TCP_CONGESTION`: a longer value is cut): how many.
    pub(crate) fn read_prefix(&self, buf: &mut [u8]) -> Result<usize> {
        let len = buf.len().min(self.len as usize);
        // SAFETY: `buf` has room for `len` bytes; the helper copies from the
        // sockptr (user or kernel) with `copy_from_sockptr`, which checks user
        // addresses.
        let ret =
            unsafe { bindings::mptcp_rs_copy_from_sockptr(buf.as_mut_ptr().cast(), self.ptr, len) };
        if ret != 0 {
            return Err(EFAULT);
        }
        Ok(len)
    }

    /// The value as an `int`, as most options carry (copied from user space).
    pub(crate) fn read_int(&self) -> Result<c_int> {
        if (self.len as usize) < core::mem::size_of::<c_int>() {
            return Err(EINVAL);
        }
        let mut val: c_int = 0;
        // SAFETY: `val` has room for an int; the helper copies from the
        // sockptr (user or kernel) with `copy_from_sockptr`, which checks user
        // addresses.
        let ret = unsafe {
            bindings::mptcp_rs_copy_from_sockptr(
                core::ptr::from_mut(&mut val).cast(),
                self.ptr,
                core::mem::size_of::<c_int>(),
            )
        };
        if ret != 0 {
            return Err(EFAULT);
        }
        Ok(val)
    }
}

/// The buffer and length pointers of a `getsockopt` call, in user space.
pub(crate) struct UserOptLen {
    val: *mut u8,
    len: *mut c_int,
}

impl UserOptLen {
    /// # Safety
    ///
    /// `val` and `len` must be what the system call passed to the protocol.
    pub(crate) unsafe fn new(val: *mut u8, len: *mut c_int) -> Self {
        Self { val, len }
    }

    pub(crate) fn val(&self) -> *mut u8 {
        self.val
    }

    /// Answers the call with `bytes`: as many as the caller's buffer holds
    /// (its length, read from user space), and that length written back.
    pub(crate) fn write(&self, bytes: &[u8]) -> Result {
        use kernel::uaccess::UserSlice;
        let mut len_bytes = [0u8; 4];
        UserSlice::new(self.len as usize, 4)
            .reader()
            .read_slice(&mut len_bytes)?;
        let want = c_int::from_ne_bytes(len_bytes);
        if want < 0 {
            return Err(EINVAL);
        }
        let n = (want as usize).min(bytes.len());
        UserSlice::new(self.val as usize, n)
            .writer()
            .write_slice(&bytes[..n])?;
        UserSlice::new(self.len as usize, 4)
            .writer()
            .write_slice(&(n as c_int).to_ne_bytes())
    }

    pub(crate) fn len(&self) -> *mut c_int {
        self.len
    }
}

/// The file and poll table of a `poll` call.
pub(crate) struct PollTable {
    file: *mut bindings::file,
    table: *mut bindings::poll_table_struct,
}

impl PollTable {
    /// # Safety
    ///
    /// `file` and `table` must be what `poll` received, valid for the call.
    pub(crate) unsafe fn new(
        file: *mut bindings::file,
        table: *mut bindings::poll_table_struct,
    ) -> Self {
        Self { file, table }
    }

    pub(crate) fn file(&self) -> *mut bindings::file {
        self.file
    }

    pub(crate) fn as_raw(&self) -> *mut bindings::poll_table_struct {
        self.table
    }
}
