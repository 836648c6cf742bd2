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

/// The id of a listener's child whose join was refused at its third ACK:
/// its connection resets it once the child is off the accept queue.
pub(crate) const REFUSED: SubflowId = SubflowId::MAX;

/// A subflow's context: its connection, and its id there.
pub(crate) struct SubflowCtx {
    pub(crate) mpcb: Arc<Mpcb>,
    pub(crate) id: SubflowId,
    /// A listener's child that joined an existing connection (MP_JOIN):
    /// it goes to that connection, never to the application's `accept`.
    pub(crate) join: bool,
    /// The token under which the initial subflow of a listener's child
    /// made its connection reachable by joins (before `accept`): taken
    /// back when the context goes (the child was never accepted, or the
    /// connection is over).
    pub(crate) published: Option<u32>,
}

impl Drop for SubflowCtx {
    fn drop(&mut self) {
        if let Some(token) = self.published {
            crate::keys::unpublish(token);
            // A child never accepted: subflows that joined it go too.
            self.mpcb.abandon();
        }
    }
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
                join: false,
                published: None,
            },
            GFP_KERNEL,
        )?;
        Callbacks::install(sk, ctx)
    }

    /// As [`SubflowCtx::attach`], in softirq, for a listener's child: the
    /// socket owns the callbacks until `accept` adopts them.
    /// `join`: the child joined `mpcb` (MP_JOIN) and goes to it;
    /// `published`: the token the connection is published under, if the
    /// context is to unpublish it when it goes.
    pub(crate) fn attach_detached(
        mpcb: &Arc<Mpcb>,
        id: SubflowId,
        sk: &TcpSock,
        join: bool,
        published: Option<u32>,
    ) -> Result {
        // The connection does not hold the socket yet (it would keep a child
        // that is never accepted alive): `accept` gives it to it.
        sk.use_atomic_allocations();
        let ctx = Arc::new(
            SubflowCtx {
                mpcb: mpcb.clone(),
                id,
                join,
                published,
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
        self.mpcb.subflow_error(self.id, sk.error());
    }
}
