// SPDX-License-Identifier: GPL-2.0

//! A subflow: one kernel TCP socket of an MPTCP connection. Its context
//! ([`SubflowCtx`]: the connection and the subflow's id there) lives on the
//! socket (`sk_user_data`, see `kernel_net::callbacks`), where the packet
//! hooks find it; its callbacks are where packets drive the connection:
//! in-order data moves up ([`SockEvents::data_ready`]), an ACK that made
//! room pulls the next data down ([`SockEvents::write_space`]).

use crate::kernel_net::{
    callbacks::{self, Callbacks, SockEvents},
    sock::{state, Sock},
    tcp::{TcpLocked, TcpSock},
};
use crate::mpcb::Mpcb;
use crate::mptcp_core::conn::SubflowId;
use kernel::{prelude::*, sync::Arc};

/// A subflow's context: its connection, and its id there.
pub(crate) struct SubflowCtx {
    pub(crate) mpcb: Arc<Mpcb>,
    pub(crate) id: SubflowId,
}

impl SubflowCtx {
    /// Makes `sk` subflow `id` of `mpcb`: its TCP allocates atomically (we
    /// send from its callbacks, in softirq), the connection knows it, and
    /// our callbacks are on it, owned by the returned handle.
    pub(crate) fn attach(
        mpcb: &Arc<Mpcb>,
        id: SubflowId,
        sk: &TcpSock,
    ) -> Result<Callbacks<SubflowCtx>> {
        Self::prepare(mpcb, id, sk);
        let ctx = Arc::new(
            SubflowCtx {
                mpcb: mpcb.clone(),
                id,
            },
            GFP_KERNEL,
        )?;
        Callbacks::install(sk, ctx)
    }

    /// As [`SubflowCtx::attach`], in softirq, for a listener's child: the
    /// socket owns the callbacks until `accept` adopts them.
    pub(crate) fn attach_detached(mpcb: &Arc<Mpcb>, id: SubflowId, sk: &TcpSock) -> Result {
        // The connection does not hold the socket yet (it would keep a child
        // that is never accepted alive): `accept` gives it to it.
        sk.use_atomic_allocations();
        let ctx = Arc::new(
            SubflowCtx {
                mpcb: mpcb.clone(),
                id,
            },
            GFP_ATOMIC,
        )?;
        Callbacks::install_detached(sk, ctx)
    }

    fn prepare(mpcb: &Arc<Mpcb>, id: SubflowId, sk: &TcpSock) {
        sk.use_atomic_allocations();
        mpcb.set_subflow(id, sk);
    }

    /// The context of subflow `sk`, if it is one of ours.
    pub(crate) fn of(sk: &Sock) -> Option<Arc<SubflowCtx>> {
        callbacks::events::<SubflowCtx>(sk)
    }
}

impl SockEvents for SubflowCtx {
    fn data_ready(&self, sk: &TcpLocked<'_>) {
        let rcvbuf = self.mpcb.rcvbuf();
        self.mpcb.receive(self.id, sk, rcvbuf, false);
    }

    fn write_space(&self, sk: &TcpLocked<'_>) {
        // TCP's own callback ran first (and cleared SOCK_NOSPACE if there
        // is room); `push` sets it again if data is left.
        self.mpcb.push(self.id, sk);
    }

    fn state_change(&self, sk: &TcpLocked<'_>) {
        if sk.state() == state::ESTABLISHED {
            // Connected: what the application wrote meanwhile can go (no
            // ACK may come to call `write_space`).
            self.mpcb.push(self.id, sk);
        }
        // Data the subflow still holds moves before anybody sees the end.
        let rcvbuf = self.mpcb.rcvbuf();
        self.mpcb.receive(self.id, sk, rcvbuf, false);
        self.mpcb.subflow_state_changed();
    }

    fn error_report(&self, sk: &TcpLocked<'_>) {
        self.mpcb.subflow_error(sk.error());
    }
}
