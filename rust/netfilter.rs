// SPDX-License-Identifier: GPL-2.0

//! IPv4 netfilter hooks, per network namespace: where MPTCP reads the
//! options of every segment that reaches a subflow (LOCAL_IN, before TCP)
//! and writes them into SYN/ACKs of listeners (LOCAL_OUT: TCP sends those
//! through neither `queue_xmit` nor any other per-socket hook).

use super::{bindings, net::Net, skb::IpSegment};
use core::marker::PhantomData;
use kernel::{error::to_result, ffi::c_void, prelude::*, types::Opaque};

const NFPROTO_IPV4: u8 = 2;
pub(crate) const NF_INET_LOCAL_IN: u32 = 1;
pub(crate) const NF_INET_LOCAL_OUT: u32 = 3;
const NF_DROP: u32 = 0;
const NF_ACCEPT: u32 = 1;
/// After the filter table: packets a firewall drops never reach us.
const PRIORITY: i32 = 10;

/// What to do with a packet.
pub(crate) enum Verdict {
    Accept,
    Drop,
}

/// The protocol's hooks. Called in softirq (LOCAL_IN) or in the context of
/// the sender (LOCAL_OUT): must not sleep.
pub(crate) trait NfHooks: 'static {
    /// A TCP packet arrives for local delivery in namespace `net`.
    fn local_in(net: &Net, seg: &mut IpSegment<'_>) -> Verdict;
    /// A TCP packet leaves namespace `net`.
    fn local_out(net: &Net, seg: &mut IpSegment<'_>) -> Verdict;
}

/// The hook records (one per hook point): declare one `static`.
pub(crate) struct NfHookOps<H: NfHooks> {
    ops: Opaque<[bindings::nf_hook_ops; 2]>,
    _h: PhantomData<H>,
}

// SAFETY: the records are constant after `new`; netfilter only reads them.
unsafe impl<H: NfHooks> Sync for NfHookOps<H> {}

impl<H: NfHooks> NfHookOps<H> {
    pub(crate) const fn new() -> Self {
        // SAFETY: all-zeroes is a valid `nf_hook_ops` (no device, no priv).
        let mut ops: [bindings::nf_hook_ops; 2] = unsafe { core::mem::zeroed() };
        ops[0].hook = Some(local_in_cb::<H>);
        ops[0].pf = NFPROTO_IPV4;
        ops[0].hooknum = NF_INET_LOCAL_IN;
        ops[0].priority = PRIORITY;
        ops[1].hook = Some(local_out_cb::<H>);
        ops[1].pf = NFPROTO_IPV4;
        ops[1].hooknum = NF_INET_LOCAL_OUT;
        ops[1].priority = PRIORITY;
        Self {
            ops: Opaque::new(ops),
            _h: PhantomData,
        }
    }

    /// Registers the hooks in `net`, until the returned handle is dropped.
    pub(crate) fn register(&'static self, net: &Net) -> Result<NetHooks<H>> {
        let ops = self.ops.get().cast::<bindings::nf_hook_ops>();
        // SAFETY: `net` is live; the records are static.
        to_result(unsafe { bindings::nf_register_net_hook(net.as_raw(), ops) })?;
        // SAFETY: as above, the second record.
        let second = unsafe { bindings::nf_register_net_hook(net.as_raw(), ops.add(1)) };
        if let Err(e) = to_result(second) {
            // SAFETY: registered just above.
            unsafe { bindings::nf_unregister_net_hook(net.as_raw(), ops) };
            return Err(e);
        }
        Ok(NetHooks {
            net: net.as_raw(),
            ops: self,
        })
    }
}

/// Hooks registered in a namespace; unregistered when dropped.
pub(crate) struct NetHooks<H: NfHooks> {
    net: *mut bindings::net,
    ops: &'static NfHookOps<H>,
}

// SAFETY: only used to unregister, from any thread.
unsafe impl<H: NfHooks> Send for NetHooks<H> {}
// SAFETY: no shared operation.
unsafe impl<H: NfHooks> Sync for NetHooks<H> {}

impl<H: NfHooks> Drop for NetHooks<H> {
    fn drop(&mut self) {
        let ops = self.ops.ops.get().cast::<bindings::nf_hook_ops>();
        // SAFETY: both were registered in `net`, which outlives the handle (it
        // is dropped in the namespace's pernet exit at the latest).
        unsafe {
            bindings::nf_unregister_net_hook(self.net, ops.add(1));
            bindings::nf_unregister_net_hook(self.net, ops);
        }
    }
}

fn verdict(v: Verdict) -> u32 {
    match v {
        Verdict::Accept => NF_ACCEPT,
        Verdict::Drop => NF_DROP,
    }
}

/// # Safety
///
/// Only the kernel calls this, through the table or hook this module
/// registered it in, with the arguments that callback is defined to get.
unsafe extern "C" fn local_in_cb<H: NfHooks>(
    _priv: *mut c_void,
    skb: *mut bindings::sk_buff,
    state: *const bindings::nf_hook_state,
) -> u32 {
    // SAFETY: netfilter passes the packet at the IPv4 LOCAL_IN hook, with the
    // hook state of its namespace.
    let Some(mut seg) = (unsafe { IpSegment::from_netfilter(skb) }) else {
        return NF_ACCEPT;
    };
    // SAFETY: the hook state is netfilter's, with the live namespace of the
    // packet.
    let net = unsafe { Net::from_raw((*state).net) };
    verdict(H::local_in(net, &mut seg))
}

/// # Safety
///
/// Only the kernel calls this, through the table or hook this module
/// registered it in, with the arguments that callback is defined to get.
unsafe extern "C" fn local_out_cb<H: NfHooks>(
    _priv: *mut c_void,
    skb: *mut bindings::sk_buff,
    state: *const bindings::nf_hook_state,
) -> u32 {
    // SAFETY: netfilter passes the packet at the IPv4 LOCAL_OUT hook.
    let Some(mut seg) = (unsafe { IpSegment::from_netfilter(skb) }) else {
        return NF_ACCEPT;
    };
    // SAFETY: the hook state is netfilter's, with the live namespace the
    // packet leaves (the sender's).
    let net = unsafe { Net::from_raw((*state).net) };
    verdict(H::local_out(net, &mut seg))
}
