// SPDX-License-Identifier: GPL-2.0

//! The MPTCP socket the application sees: the master socket.
//!
//! `socket(AF_INET, SOCK_STREAM, IPPROTO_MPTCP)` creates it with its
//! multipath control block and its initial subflow, a kernel TCP socket
//! hidden from the application.
//!
//! - Until MPTCP is established, and for good if the connection falls back
//!   to TCP, the master's operations are the subflow's: the application
//!   cannot tell the difference from a TCP socket, errno values included.
//! - Once MPTCP is established, data goes through the mpcb: the send buffer
//!   that subflows pull from, and the connection-level receive queues.

use crate::kernel_net::{
    callbacks::{self, Callbacks},
    errno,
    kernel_socket::KernelSocket,
    proto::{Master, Protocol, Registration, StreamOps},
    sock::{Sock, RCV_SHUTDOWN},
    user::{MsgHdr, PollTable, SockAddr, UserOptLen, UserOptVal},
};
use crate::keys;
use crate::mpcb::{DataFin, Mode, Mpcb};
use crate::options::AF_OPS;
use crate::pernet::MptcpNet;
use crate::subflow::{Stage, Subflow};
use kernel::{
    c_str,
    ffi::{c_int, c_long, c_uint},
    new_mutex,
    prelude::*,
    str::CStr,
    sync::{Arc, Mutex},
};

/// IPPROTO_MPTCP.
pub(crate) const IPPROTO_MPTCP: u16 = 262;
const SOL_SOCKET: c_int = 1;
const SHUT_WR: c_int = 1;
const MSG_PEEK: c_int = 0x2;
const MSG_DONTWAIT: c_int = 0x40;
const MSG_WAITALL: c_int = 0x100;
const MSG_OOB: c_int = 0x1;
const EPOLLIN: c_uint = 0x1;
const EPOLLOUT: c_uint = 0x4;
const EPOLLERR: c_uint = 0x8;
const EPOLLHUP: c_uint = 0x10;
const EPOLLRDNORM: c_uint = 0x40;
const EPOLLWRNORM: c_uint = 0x100;
const EPOLLRDHUP: c_uint = 0x2000;

static MPTCP_PROTOCOL: Protocol<Mptcp> = Protocol::new();

/// The MPTCP protocol (the `struct proto` of master sockets).
pub(crate) struct Mptcp;

impl Mptcp {
    /// Makes `socket(AF_INET, SOCK_STREAM, IPPROTO_MPTCP)` ours.
    pub(crate) fn register(module: &'static ThisModule) -> Result<Registration<Mptcp>> {
        MPTCP_PROTOCOL.register(module)
    }
}

/// The state of one master socket.
#[pin_data(PinnedDrop)]
pub(crate) struct MptcpSock {
    mpcb: Arc<Mpcb>,
    sub: Arc<Subflow>,
    #[pin]
    inner: Mutex<Inner>,
    /// The initial subflow. The mpcb takes a reference when the connection
    /// must finish after the application's socket is gone.
    first: Arc<KernelSocket>,
}

struct Inner {
    /// Our callbacks on the initial subflow (dropped when it listens).
    callbacks: Option<Callbacks<Subflow>>,
}

/// The connection's receive and send buffer sizes: the master's, or what
/// follows the subflow's where TCP autotuned them and the application did
/// not fix them (SO_RCVBUF, SO_SNDBUF).
///
/// The connection-level send buffer holds everything the subflow's does
/// plus what TCP delivered but the peer did not yet DATA_ACK (it reads
/// first); were it only as large as the subflow's, the subflow would never
/// be cwnd-limited and TCP would grow neither its window nor its buffer.
pub(crate) fn buf_sizes(master: &Sock, subflow: &Sock) -> (u64, u64) {
    let (rcv, snd) = master.buf_sizes();
    let (sub_rcv, sub_snd) = subflow.buf_sizes();
    let (rcv_locked, snd_locked) = master.buf_locks();
    let rcv = if rcv_locked { rcv } else { rcv.max(sub_rcv) };
    let snd = if snd_locked {
        snd
    } else {
        snd.max(sub_snd.saturating_mul(2))
    };
    (rcv.max(0) as u64, snd.max(0) as u64)
}

impl MptcpSock {
    fn new(
        mpcb: Arc<Mpcb>,
        sub: Arc<Subflow>,
        first: KernelSocket,
        callbacks: Option<Callbacks<Subflow>>,
    ) -> Result<Pin<KBox<Self>>> {
        let first = Arc::new(first, GFP_KERNEL)?;
        KBox::pin_init(
            pin_init!(Self {
                mpcb,
                sub,
                inner <- new_mutex!(Inner { callbacks }, "MptcpSock::inner"),
                first,
            }),
            GFP_KERNEL,
        )
    }

    fn first(&self) -> Result<&KernelSocket> {
        Ok(&self.first)
    }

    fn mptcp(&self) -> bool {
        self.mpcb.mode() == Mode::Mptcp
    }
}

#[pinned_drop]
impl PinnedDrop for MptcpSock {
    fn drop(self: Pin<&mut Self>) {
        let callbacks = self.inner.lock().callbacks.take();
        let mut data = self.mpcb.data.lock();
        if data.orphan {
            // The connection finishes in the background: the mpcb keeps the
            // subflow and our callbacks on it (see `Mpcb::finish_orphan`).
            data.orphan_sock = Some(self.first.clone());
            data.orphan_callbacks = callbacks;
            drop(data);
            self.mpcb.schedule();
        } else {
            self.mpcb.release_with(&mut data, &self.first);
        }
    }
}

impl StreamOps for Mptcp {
    type State = Pin<KBox<MptcpSock>>;

    const NAME: &'static CStr = c_str!("MPTCP");
    const PROTOCOL: u16 = IPPROTO_MPTCP;

    fn protocol() -> &'static Protocol<Self> {
        &MPTCP_PROTOCOL
    }

    fn init(sk: &Sock) -> Result<Self::State> {
        // As Linux's own MPTCP: no new MPTCP socket where it is disabled.
        if !MptcpNet::get(sk.net()).is_some_and(MptcpNet::enabled) {
            return Err(errno::enoprotoopt());
        }
        let first = KernelSocket::new_tcp(sk.net())?;
        // Start with the buffer sizes TCP gives its own sockets.
        let (rcvbuf, sndbuf) = first.sk().buf_sizes();
        sk.set_buf_sizes(rcvbuf, sndbuf);
        let mpcb = Mpcb::new(keys::new_local_key()?, GFP_KERNEL)?;
        let sub = Subflow::new(mpcb.clone(), Stage::SynSent, 0, 0, GFP_KERNEL)?;
        AF_OPS.install(first.sk());
        let callbacks = Callbacks::install(first.sk(), sub.clone())?;
        {
            let mut conn = mpcb.conn.lock();
            conn.master = Some(sk.to_ref());
        }
        mpcb.data.lock().subflow = Some(first.sk().to_ref());
        MptcpSock::new(mpcb, sub, first, Some(callbacks))
    }

    fn grafted(m: &Master<'_, Self>) -> Result {
        let st = m.state();
        st.mpcb.conn.lock().master = Some(m.sk().to_ref());
        // Data that came before `accept` is waiting in the subflow.
        st.mpcb.schedule();
        Ok(())
    }

    fn close(m: &Master<'_, Self>, _timeout: c_long) {
        let st = m.state();
        let _lock = m.sk().lock();
        st.mpcb.conn.lock().master = None;
        if st.mptcp() {
            // Whatever was written still goes, then our DATA_FIN: in the
            // background, as TCP does for a closed socket with data in flight.
            st.mpcb.shutdown_send();
            st.mpcb.data.lock().orphan = true;
        } else {
            st.inner.lock().callbacks = None;
        }
    }

    fn bind(m: &Master<'_, Self>, addr: &SockAddr<'_>) -> Result {
        m.state().first()?.bind(addr)
    }

    fn connect(m: &Master<'_, Self>, addr: &SockAddr<'_>, flags: c_int) -> Result {
        // The SYN carries MP_CAPABLE (see `options`); by the time TCP is
        // connected, the SYN/ACK said whether the connection is MPTCP.
        m.state().first()?.connect(addr, flags)
    }

    fn listen(m: &Master<'_, Self>, backlog: c_int) -> Result {
        let st = m.state();
        // Children of a listener inherit its `sk_user_data`: a listening
        // subflow carries no context of ours (its hooked `icsk_af_ops` stays:
        // SYNs and children are seen there).
        st.inner.lock().callbacks = None;
        st.first()?.listen(backlog)
    }

    fn accept(m: &Master<'_, Self>, flags: c_int) -> Result<Self::State> {
        let child = m.state().first()?.accept(flags)?;
        // An MP_CAPABLE child got its context when TCP created it; any other
        // is a TCP connection, which the master passes through.
        if let (Some(callbacks), Some(sub)) = (
            Callbacks::<Subflow>::adopt(child.sk()),
            callbacks::events::<Subflow>(child.sk()),
        ) {
            let mpcb = sub.mpcb.clone();
            mpcb.data.lock().subflow = Some(child.sk().to_ref());
            return MptcpSock::new(mpcb, sub, child, Some(callbacks));
        }
        let mpcb = Mpcb::new(keys::new_local_key()?, GFP_KERNEL)?;
        mpcb.conn.lock().mode = Mode::Fallback;
        let sub = Subflow::new(mpcb.clone(), Stage::Fallback, 0, 0, GFP_KERNEL)?;
        let callbacks = Callbacks::install(child.sk(), sub.clone())?;
        mpcb.data.lock().subflow = Some(child.sk().to_ref());
        MptcpSock::new(mpcb, sub, child, Some(callbacks))
    }

    fn getname(m: &Master<'_, Self>, addr: &mut SockAddr<'_>, peer: bool) -> Result<usize> {
        m.state().first()?.getname(addr, peer)
    }

    fn poll(m: &Master<'_, Self>, table: &PollTable) -> c_uint {
        let st = m.state();
        let Ok(first) = st.first() else {
            return EPOLLERR;
        };
        if !st.mptcp() {
            return first.poll(table);
        }
        m.poll_wait(table);
        let sub_sk = first.sk();
        let mut mask = 0;
        let eof = st.mpcb.eof();
        let tcp = sub_sk.tcp_snapshot();
        let readable = st.mpcb.data.lock().rcv_queued > 0 || tcp.rcv_nxt != tcp.copied_seq;
        if readable || eof {
            mask |= EPOLLIN | EPOLLRDNORM;
        }
        if eof {
            mask |= EPOLLRDHUP;
        }
        let (_, sndbuf) = buf_sizes(m.sk(), sub_sk);
        let fin = st.mpcb.conn.lock().data_fin;
        if fin == DataFin::None && st.mpcb.send_room(sndbuf) > 0 {
            mask |= EPOLLOUT | EPOLLWRNORM;
        }
        if sub_sk.error() != 0 {
            mask |= EPOLLERR;
        }
        if (eof && fin == DataFin::Acked) || sub_sk.state() == crate::kernel_net::sock::state::CLOSE
        {
            mask |= EPOLLHUP;
        }
        mask
    }

    fn ioctl(m: &Master<'_, Self>, cmd: c_uint, karg: &mut c_int) -> Result {
        m.state().first()?.ioctl(cmd, karg)
    }

    fn shutdown(m: &Master<'_, Self>, how: c_int) -> Result {
        let st = m.state();
        if !st.mptcp() {
            return st.first()?.shutdown(how);
        }
        // SHUT_RD (0), SHUT_WR (1), SHUT_RDWR (2).
        if !(0..=2).contains(&how) {
            return Err(EINVAL);
        }
        let lock = m.sk().lock();
        if how != SHUT_WR {
            m.sk().set_shutdown_bits(&lock, RCV_SHUTDOWN);
        }
        if how != 0 {
            st.mpcb.shutdown_send();
            let mut data = st.mpcb.data.lock();
            st.mpcb.push(&mut data, &st.sub);
        }
        m.sk().state_change();
        Ok(())
    }

    fn setsockopt(m: &Master<'_, Self>, level: c_int, name: c_int, val: &UserOptVal) -> Result {
        if level == SOL_SOCKET {
            // The master keeps the value (getsockopt reads it there), the
            // subflow applies it.
            m.sock_setsockopt(name, val)?;
        }
        m.state().first()?.setsockopt(level, name, val)
    }

    fn getsockopt(m: &Master<'_, Self>, level: c_int, name: c_int, len: &UserOptLen) -> Result {
        m.state().first()?.getsockopt(level, name, len)
    }

    fn sendmsg(m: &Master<'_, Self>, msg: &mut MsgHdr, len: usize) -> Result<usize> {
        let st = m.state();
        if !st.mptcp() {
            return st.first()?.sendmsg(msg, len);
        }
        let flags = msg.flags() as c_int;
        if flags & MSG_OOB != 0 {
            return Err(errno::eopnotsupp());
        }
        let sub_sk = st.first()?.sk();
        let mut lock = m.sk().lock();
        let mut timeo = m.sk().timeout(true, flags & MSG_DONTWAIT != 0);
        let mut copied = 0usize;
        while copied < len {
            let err = sub_sk.error();
            if err != 0 {
                return if copied > 0 {
                    Ok(copied)
                } else {
                    Err(Error::from_errno(-err))
                };
            }
            if st.mpcb.conn.lock().data_fin != DataFin::None {
                return if copied > 0 {
                    Ok(copied)
                } else {
                    Err(m.pipe_error(flags))
                };
            }
            let (_, sndbuf) = buf_sizes(m.sk(), sub_sk);
            if st.mpcb.send_room(sndbuf) == 0 {
                let waited = lock.wait(&mut timeo, |_| {
                    st.mpcb.send_room(sndbuf) > 0
                        || sub_sk.error() != 0
                        || st.mpcb.mode() != Mode::Mptcp
                });
                if let Err(e) = waited {
                    return if copied > 0 { Ok(copied) } else { Err(e) };
                }
                continue;
            }
            let room = st.mpcb.send_room(sndbuf);
            let mut data = st.mpcb.data.lock();
            let n = st.mpcb.buffer(&mut data, msg, (len - copied).min(room))?;
            st.mpcb.push(&mut data, &st.sub);
            if n == 0 {
                break;
            }
            copied += n;
        }
        Ok(copied)
    }

    fn recvmsg(m: &Master<'_, Self>, msg: &mut MsgHdr, len: usize, flags: c_int) -> Result<usize> {
        let st = m.state();
        if !st.mptcp() {
            return st.first()?.recvmsg(msg, len, flags);
        }
        if flags & MSG_OOB != 0 {
            return Err(errno::eopnotsupp());
        }
        let sub_sk = st.first()?.sk();
        let mut lock = m.sk().lock();
        let mut timeo = m.sk().timeout(false, flags & MSG_DONTWAIT != 0);
        let target = if flags & MSG_WAITALL != 0 {
            len
        } else {
            1.min(len)
        };
        let mut copied = 0usize;
        loop {
            {
                let mut data = st.mpcb.data.lock();
                let (rcvbuf, _) = buf_sizes(m.sk(), sub_sk);
                // Reordering in process context, by the reader itself.
                st.mpcb.drain(&mut data, &st.sub, rcvbuf);
                copied += st
                    .mpcb
                    .deliver(&mut data, msg, len - copied, flags & MSG_PEEK != 0)?;
            }
            if copied >= target || flags & MSG_PEEK != 0 && copied > 0 {
                break;
            }
            if st.mpcb.eof() || m.sk().shutdown_bits() & RCV_SHUTDOWN != 0 {
                break;
            }
            let err = sub_sk.error();
            if err != 0 {
                if copied > 0 {
                    break;
                }
                return Err(Error::from_errno(-err));
            }
            if sub_sk.state() == crate::kernel_net::sock::state::CLOSE {
                // The subflow died without a DATA_FIN: the peer is gone.
                if copied > 0 {
                    break;
                }
                return Err(errno::econnreset());
            }
            st.mpcb.conn.lock().readers_waiting += 1;
            let waited = lock.wait(&mut timeo, |_| {
                // The work item may have moved the subflow's data to the
                // connection's queue already: look at both.
                let tcp = sub_sk.tcp_snapshot();
                st.mpcb.data.lock().rcv_queued > 0
                    || tcp.rcv_nxt != tcp.copied_seq
                    || st.mpcb.eof()
                    || sub_sk.error() != 0
                    || sub_sk.state() == crate::kernel_net::sock::state::CLOSE
            });
            st.mpcb.conn.lock().readers_waiting -= 1;
            if let Err(e) = waited {
                if copied > 0 {
                    break;
                }
                return Err(e);
            }
        }
        // Room was made: the work item lets the subflow pull more.
        st.mpcb.schedule();
        Ok(copied)
    }
}
