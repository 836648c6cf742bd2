// SPDX-License-Identifier: GPL-2.0

//! Network namespaces.

use super::bindings;
use kernel::types::Opaque;

/// A network namespace (`struct net`).
///
/// Only ever used by reference: a `&Net` is valid for as long as the
/// reference lives, which the code handing it out guarantees.
#[repr(transparent)]
pub(crate) struct Net(Opaque<bindings::net>);

impl Net {
    /// Borrows a `struct net` as a [`Net`].
    ///
    /// # Safety
    ///
    /// `ptr` must point to a live network namespace that stays alive for `'a`.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::net) -> &'a Net {
        // SAFETY: `Net` is a transparent wrapper of `Opaque<net>`, which has the
        // layout of `struct net`; the caller guarantees that it lives for `'a`.
        unsafe { &*ptr.cast::<Net>() }
    }

    /// The initial network namespace, which lives forever.
    #[cfg_attr(not(CONFIG_KUNIT), allow(dead_code))]
    pub(crate) fn init_net() -> &'static Net {
        // SAFETY: `init_net` is a static of the kernel that is never freed.
        unsafe { Self::from_raw(core::ptr::addr_of_mut!(bindings::init_net)) }
    }

    /// The raw `struct net` pointer, for calls into C.
    pub(crate) fn as_raw(&self) -> *mut bindings::net {
        self.0.get()
    }

    /// The source address routing picks here for a TCP connection to
    /// `daddr` (IPv4, network order), if there is a route.
    pub(crate) fn route_source(&self, daddr: [u8; 4]) -> Option<[u8; 4]> {
        let mut saddr = [0u8; 4];
        // SAFETY: `self` is a live namespace; `saddr` is a 4-byte buffer
        // the helper writes on success.
        let err = unsafe {
            bindings::mptcp_rs_route_source(
                self.as_raw(),
                u32::from_ne_bytes(daddr),
                saddr.as_mut_ptr().cast(),
            )
        };
        (err == 0).then_some(saddr)
    }

    /// The largest receive buffer TCP autotunes to here (`tcp_rmem[2]`).
    pub(crate) fn tcp_rmem_max(&self) -> u32 {
        // SAFETY: `self` is a live namespace; the sysctl is a word TCP reads
        // locklessly (READ_ONCE) and a writer changes at any time.
        let v = unsafe { core::ptr::read_volatile(&(*self.as_raw()).ipv4.sysctl_tcp_rmem[2]) };
        v.max(0) as u32
    }
}
