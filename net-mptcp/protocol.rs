// SPDX-License-Identifier: GPL-2.0

//! The MPTCP socket the application sees: the master socket, and its
//! system calls.
//!
//! `socket(AF_INET, SOCK_STREAM, IPPROTO_MPTCP)` creates it with its
//! multipath control block and its initial subflow, a kernel TCP socket
//! hidden from the application.
//!
//! - Until the handshake decided, and for good if the connection falls
//!   back to TCP, the master's operations are the subflow's: the
//!   application cannot tell the difference from a TCP socket, errno values
//!   included.
//! - With MPTCP, data goes through the mpcb: `sendmsg` copies into its send
//!   buffer (the only copy of the bytes), `recvmsg` copies out of its
//!   receive queue (the reader takes skbs off it under the mpcb's lock and
//!   copies them to the application without it).

use crate::kernel_net::{
    callbacks::{self, Callbacks},
    cong::{CaName, CA_NAME_MAX, TCP_CONGESTION},
    errno,
    kernel_socket::{accept_queue_any, KernelSocket},
    page::PageFrag,
    proto::{Master, Protocol, Registration, StreamOps, AF_INET6},
    skb::SkbSpan,
    sock::{state, Sock, RCV_SHUTDOWN},
    tcp::TcpSock,
    user::{MsgHdr, PollTable, SockAddr, SockAddrIn, UserOptLen, UserOptVal},
};
use crate::keys;
use crate::mpcb::{Mpcb, Orphaned, WriteRoom};
use crate::mptcp_core::conn::Mode;
use crate::mptcp_core::sched::Scheduler;
use crate::options::{unhook, AF_OPS};
use crate::pernet::{scheduler_by_name, MptcpNet};
use crate::platform::Conn;
use crate::subflow::SubflowCtx;
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
/// `SOL_TCP`.
const SOL_TCP: c_int = 6;
/// `SOL_MPTCP`, Linux's level for MPTCP socket options.
const SOL_MPTCP: c_int = 284;
/// Our own `SOL_MPTCP` option: the connection's memory and tables
/// ([`MptcpSock::info`]), for tests and debugging.
const MPTCP_RS_INFO: c_int = 0x7273;
/// Our own `SOL_MPTCP` option: the connection's scheduler from now on, by
/// name (as `TCP_CONGESTION` names an algorithm), one of
/// `net.mptcp.available_schedulers`; an unknown name gets `ENOENT`.
const MPTCP_RS_SCHEDULER: c_int = 0x7274;
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
/// Bytes copied into the send buffer between two pushes to the subflows.
const PUSH_EVERY: usize = 64 * 1024;
/// Spans the reader takes off the connection's queue at once.
const READ_BATCH: usize = 16;
/// How long a blocking writer waits for memory before it tries again
/// (jiffies at HZ=1000 and above: at least 10 ms).
const MEMORY_WAIT: c_long = 10;

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
#[pin_data]
pub(crate) struct MptcpSock {
    mpcb: Arc<Mpcb>,
    /// The initial subflow. The mpcb takes a reference when the connection
    /// must finish after the application's socket is gone.
    first: Arc<KernelSocket>,
    #[pin]
    inner: Mutex<SockInner>,
}

/// What only the socket's own calls touch (lock order: inside the master's
/// lock, outside the subflows').
struct SockInner {
    /// Our callbacks on the initial subflow (none while it listens).
    callbacks: Option<Callbacks<SubflowCtx>>,
    /// Spans the reader took off the connection's queue and did not finish
    /// copying (or peeked at): ahead of everything still queued.
    reading: ReadQueue,
}

/// The reader's spans, in order: a ring, so that taking and finishing them
/// allocates nothing.
struct ReadQueue {
    spans: [Option<SkbSpan>; READ_BATCH],
    head: usize,
    len: usize,
}

impl ReadQueue {
    const fn new() -> Self {
        Self {
            spans: [const { None }; READ_BATCH],
            head: 0,
            len: 0,
        }
    }

    fn room(&self) -> usize {
        READ_BATCH - self.len
    }

    fn push(&mut self, span: SkbSpan) {
        if self.len < READ_BATCH {
            self.spans[(self.head + self.len) % READ_BATCH] = Some(span);
            self.len += 1;
        }
    }

    /// The bytes held.
    fn bytes(&self) -> u64 {
        self.iter().map(|s| u64::from(s.len())).sum()
    }

    fn iter(&self) -> impl Iterator<Item = &SkbSpan> {
        (0..self.len).filter_map(move |i| self.spans[(self.head + i) % READ_BATCH].as_ref())
    }

    /// The `i`th span from the front.
    fn get_mut(&mut self, i: usize) -> Option<&mut SkbSpan> {
        if i >= self.len {
            return None;
        }
        self.spans[(self.head + i) % READ_BATCH].as_mut()
    }

    /// Drops the first span (read to its end: its skb's memory goes).
    fn pop_front(&mut self) {
        if self.len > 0 {
            self.spans[self.head] = None;
            self.head = (self.head + 1) % READ_BATCH;
            self.len -= 1;
        }
    }

    /// Drops every span.
    fn clear(&mut self) {
        while self.len > 0 {
            self.pop_front();
        }
    }
}

/// Whether `child`, on a listener's accept queue, is a subflow joining a
/// connection (MP_JOIN) rather than a new connection.
fn is_join(child: &Sock) -> bool {
    callbacks::events::<SubflowCtx>(child).is_some_and(|ctx| ctx.join)
}

/// The connection's receive and send buffer sizes: the master's, or, where
/// the application did not fix them (SO_RCVBUF, SO_SNDBUF), what follows
/// the first subflow's as TCP autotuned them and the sizes chosen across
/// all the subflows (`rcv_tuned`: the receive buffer tuner's; `snd_tuned`:
/// twice the sum of their send buffers).
///
/// The connection-level send buffer holds everything the subflows' do
/// plus what TCP delivered but the peer did not yet DATA_ACK; were it only
/// as large as theirs, they would never be cwnd-limited and TCP would grow
/// neither their windows nor their buffers.
fn buf_sizes(master: &Sock, subflow: &Sock, rcv_tuned: u32, snd_tuned: u32) -> (u64, u64) {
    let (rcv, snd) = master.buf_sizes();
    let (sub_rcv, sub_snd) = subflow.buf_sizes();
    let (rcv_locked, snd_locked) = master.buf_locks();
    let rcv_tuned = rcv_tuned.min(i32::MAX as u32) as i32;
    let snd_tuned = snd_tuned.min(i32::MAX as u32) as i32;
    let rcv = if rcv_locked {
        rcv
    } else {
        rcv.max(sub_rcv).max(rcv_tuned)
    };
    let snd = if snd_locked {
        snd
    } else {
        snd.max(sub_snd.saturating_mul(2)).max(snd_tuned)
    };
    (rcv.max(0) as u64, snd.max(0) as u64)
}

impl MptcpSock {
    fn new(
        mpcb: Arc<Mpcb>,
        first: KernelSocket,
        callbacks: Option<Callbacks<SubflowCtx>>,
    ) -> Result<Pin<KBox<Self>>> {
        let first = Arc::new(first, GFP_KERNEL)?;
        KBox::pin_init(
            pin_init!(Self {
                mpcb,
                first,
                inner <- new_mutex!(
                    SockInner {
                        callbacks,
                        reading: ReadQueue::new(),
                    },
                    "MptcpSock::inner"
                ),
            }),
            GFP_KERNEL,
        )
    }

    fn first(&self) -> &KernelSocket {
        &self.first
    }

    /// The connection's receive and send buffer sizes ([`buf_sizes`]), for
    /// its `master`.
    fn buf_sizes(&self, master: &Sock) -> (u64, u64) {
        buf_sizes(
            master,
            self.first.sk(),
            self.mpcb.rcvbuf_tuned(),
            self.mpcb.sndbuf_tuned(),
        )
    }

    /// The initial subflow's pending error (positive errno, or 0), if the
    /// connection depends on that subflow (see [`Mpcb::first_decides`]).
    fn first_error(&self) -> i32 {
        let err = self.first.sk().error();
        if err != 0 && self.mpcb.first_decides() {
            err
        } else {
            0
        }
    }

    /// Whether the initial subflow closed and the connection depended on
    /// it: the peer is gone.
    fn first_closed(&self) -> bool {
        self.first.sk().state() == state::CLOSE && self.mpcb.first_decides()
    }

    /// Whether the application's calls go straight to the subflow (the
    /// handshake is on, or the connection fell back and nothing of ours is
    /// pending); while the handshake is on and the subflow still connects,
    /// the master first waits for it as TCP would (`timeo`, `EAGAIN` when it
    /// runs out), so that no byte goes as plain TCP on a connection that
    /// turns out to be MPTCP, or the other way round.
    fn settled_passthrough(&self, m: &Master<'_, Mptcp>, timeo: &mut c_long) -> Result<bool> {
        let sub = self.first.sk();
        let (mode, passthrough) = self.mpcb.mode_passthrough();
        if mode != Mode::Handshake || sub.state() != state::SYN_SENT {
            return Ok(passthrough);
        }
        let mut lock = m.sk().lock();
        lock.wait(timeo, |_| {
            self.mpcb.mode() != Mode::Handshake
                || sub.state() != state::SYN_SENT
                || sub.error() != 0
        })?;
        Ok(self.mpcb.passthrough())
    }

    /// The connection's memory and tables, as `u64`s: send buffer bytes,
    /// the sender's records, our mappings kept, the peer's mappings kept,
    /// reassembly entries, bytes queued at the connection level, bytes
    /// readable, the master's `sk_rmem_alloc`, its receive buffer, its send
    /// buffer, then our `snd_una` and our DATA_ACK (DSNs).
    fn info(&self, master: &Sock) -> [u64; 12] {
        let (rcvbuf, sndbuf) = self.buf_sizes(master);
        let (sndbuf_bytes, records, tx, rx, segs, queued, readable, una, ack) = {
            let mut inner = self.mpcb.lock();
            let (tx, rx) = inner.conn.subflow(0).map_or((0, 0), |sf| sf.table_sizes());
            (
                inner.conn.unacked(),
                inner.conn.sent_records() as u64,
                tx as u64,
                rx as u64,
                inner.conn.rx_segments() as u64,
                inner.conn.rx_queued(),
                inner.conn.readable(),
                inner.conn.snd_una(),
                inner.conn.data_ack().unwrap_or(0),
            )
        };
        [
            sndbuf_bytes,
            records,
            tx,
            rx,
            segs,
            queued,
            readable,
            master.rmem_alloc().max(0) as u64,
            rcvbuf,
            sndbuf,
            una,
            ack,
        ]
    }
}

impl StreamOps for Mptcp {
    type State = Pin<KBox<MptcpSock>>;

    const NAME: &'static CStr = c_str!("MPTCP");
    const NAME6: &'static CStr = c_str!("MPTCPv6");
    const PROTOCOL: u16 = IPPROTO_MPTCP;

    fn protocol() -> &'static Protocol<Self> {
        &MPTCP_PROTOCOL
    }

    fn init(sk: &Sock) -> Result<Self::State> {
        // As Linux's own MPTCP: no new MPTCP socket where it is disabled.
        let net = MptcpNet::get(sk.net()).ok_or(ENODEV)?;
        if !net.enabled() {
            return Err(errno::enoprotoopt());
        }
        let first = KernelSocket::new_tcp(sk.net())?;
        let tcp = TcpSock::from_sock(first.sk()).ok_or(EINVAL)?;
        // A listener's children inherit it: accepted connections' first
        // subflows and the joins that come to it. (If TCP refuses the name,
        // its algorithm's module is gone: TCP's default stays.)
        let congestion = net
            .congestion()
            .filter(|name| tcp.set_congestion(name).is_ok());
        // Start with the buffer sizes TCP gives its own sockets.
        let (rcvbuf, sndbuf) = first.sk().buf_sizes();
        sk.set_buf_sizes(rcvbuf, sndbuf);
        let mut conn = Conn::client(keys::new_local_key()?);
        if net.idsn_near_wrap() {
            conn.set_idsn_near_wrap();
        }
        conn.set_scheduler(net.scheduler());
        conn.set_opportunism(net.opportunism());
        let token = conn.local().token;
        let mpcb = Mpcb::new(conn, net.fail_alloc(), GFP_KERNEL)?;
        if let Some(name) = congestion {
            mpcb.set_congestion(name);
        }
        AF_OPS.install(first.sk());
        let callbacks = SubflowCtx::attach(&mpcb, 0, tcp)?;
        mpcb.attach_master(sk);
        let state = MptcpSock::new(mpcb.clone(), first, Some(callbacks))?;
        // Joins may find it from now on (until `close`).
        keys::publish(&mpcb, token);
        Ok(state)
    }

    fn grafted(m: &Master<'_, Self>) -> Result {
        let st = m.state();
        st.mpcb.attach_master(m.sk());
        // Data that came before `accept` waits on the subflow.
        let (rcvbuf, _) = st.buf_sizes(m.sk());
        st.mpcb.receive_all(rcvbuf as u32);
        Ok(())
    }

    fn close(m: &Master<'_, Self>, _timeout: c_long) {
        let st = m.state();
        // No more joins: the application is gone.
        let token = st.mpcb.lock().conn.local().token;
        keys::unpublish(token);
        let _lock = m.sk().lock();
        // What the reader held is charged to the master: it goes first.
        st.inner.lock().reading.clear();
        let callbacks = st.inner.lock().callbacks.take();
        if !st.mpcb.passthrough() {
            // Whatever was written still goes, then our DATA_FIN, in the
            // background, as TCP does for a closed socket with data in
            // flight; the connection keeps the subflow until then.
            st.mpcb.detach_master(Some(Orphaned {
                sock: st.first.clone(),
                callbacks,
            }));
        } else {
            // Plain TCP: the subflow goes back to TCP alone, without our
            // hooks (it may outlive the module), and closes with the socket.
            drop(callbacks);
            unhook(st.first.sk());
            st.mpcb.detach_master(None);
        }
        // The send buffer is the connection's from here (and the memory
        // charged to the master was freed with its queues).
        m.sk().set_wmem_queued(0);
    }

    fn bind(m: &Master<'_, Self>, addr: &SockAddr<'_>) -> Result {
        let first = m.state().first();
        if m.sk().family() != AF_INET6 {
            return first.bind(addr);
        }
        // Subflows are IPv4: an IPv6 socket takes `::` and IPv4-mapped
        // addresses.
        match addr.ipv4_of_ipv6()? {
            Some(mut v4) => first.bind(&v4.as_sockaddr()),
            None => Err(errno::eafnosupport()),
        }
    }

    fn connect(m: &Master<'_, Self>, addr: &SockAddr<'_>, flags: c_int) -> Result {
        // The SYN carries MP_CAPABLE (the transmit hook asks the core); the
        // SYN/ACK decides whether the connection is MPTCP, before TCP says
        // it is connected.
        let first = m.state().first();
        if m.sk().family() != AF_INET6 {
            return first.connect(addr, flags);
        }
        match addr.ipv4_of_ipv6()? {
            Some(mut v4) => first.connect(&v4.as_sockaddr(), flags),
            // AF_UNSPEC: a disconnect, as TCP takes it.
            None => first.connect(addr, flags),
        }
    }

    fn listen(m: &Master<'_, Self>, backlog: c_int) -> Result {
        let st = m.state();
        // Children of a listener inherit its `sk_user_data`: a listening
        // subflow carries no context of ours (its hooked `icsk_af_ops` stays:
        // SYNs and children are seen there).
        st.inner.lock().callbacks = None;
        st.first().listen(backlog)
    }

    fn accept(m: &Master<'_, Self>, flags: c_int) -> Result<Self::State> {
        let child = loop {
            let child = m.state().first().accept(flags)?;
            match callbacks::events::<SubflowCtx>(child.sk()) {
                // A join that came here before its connection took it off
                // the queue: it goes to its connection, not to us.
                Some(ctx) if ctx.join => ctx.mpcb.clone().adopt_join(child),
                _ => break child,
            }
        };
        // An MP_CAPABLE child got its context when TCP created it; any other
        // is a TCP connection, which the master passes through.
        if let (Some(callbacks), Some(ctx)) = (
            Callbacks::<SubflowCtx>::adopt(child.sk()),
            callbacks::events::<SubflowCtx>(child.sk()),
        ) {
            if let Some(tcp) = TcpSock::from_sock(child.sk()) {
                ctx.mpcb.set_subflow(ctx.id, tcp);
            }
            // (Joins reach it already: its token was published when TCP
            // created the child.)
            let state = MptcpSock::new(ctx.mpcb.clone(), child, Some(callbacks))?;
            ctx.mpcb.start_path_manager();
            return Ok(state);
        }
        let tcp = TcpSock::from_sock(child.sk()).ok_or(EINVAL)?;
        let mpcb = Mpcb::new(Conn::plain(keys::new_local_key()?), 0, GFP_KERNEL)?;
        let callbacks = SubflowCtx::attach(&mpcb, 0, tcp)?;
        MptcpSock::new(mpcb, child, Some(callbacks))
    }

    fn getname(m: &Master<'_, Self>, addr: &mut SockAddr<'_>, peer: bool) -> Result<usize> {
        let first = m.state().first();
        if m.sk().family() != AF_INET6 {
            return first.getname(addr, peer);
        }
        let mut v4 = SockAddrIn::new([0; 4], 0);
        first.getname(&mut v4.as_sockaddr(), peer)?;
        addr.set_ipv6_of_ipv4(&v4)
    }

    fn poll(m: &Master<'_, Self>, table: &PollTable) -> c_uint {
        let st = m.state();
        if st.mpcb.passthrough() && st.mpcb.readable().0 == 0 {
            let mut mask = st.first().poll(table);
            let sub = st.first.sk();
            if mask & EPOLLIN != 0
                && sub.state() == state::LISTEN
                && !accept_queue_any(sub, |child| !is_join(child))
            {
                // Only joins wait on the listener: they go to their
                // connections (`accept` hands on any it finds), none to the
                // application. Telling it to accept would block an
                // application that polls before a blocking `accept`, as
                // iperf3 does, until a connection came.
                mask &= !(EPOLLIN | EPOLLRDNORM);
            }
            return mask;
        }
        m.poll_wait(table);
        let mut mask = 0;
        let (queued, eof) = st.mpcb.readable();
        let held = st.inner.lock().reading.bytes();
        if queued > 0 || held > 0 || eof {
            mask |= EPOLLIN | EPOLLRDNORM;
        }
        if eof {
            mask |= EPOLLRDHUP;
        }
        let (_, sndbuf) = st.buf_sizes(m.sk());
        let shut = st.mpcb.lock().conn.write_shut();
        // Writable once a third of the buffer is free, as TCP's
        // `sk_stream_is_writeable` has it (not for a single byte of room).
        if !shut {
            if st.mpcb.can_write(sndbuf) {
                mask |= EPOLLOUT | EPOLLWRNORM;
            } else {
                // Woken when room comes; and a DATA_ACK that came before
                // the mark was set is seen by the second look.
                m.sk().writer_waits();
                if st.mpcb.can_write(sndbuf) {
                    mask |= EPOLLOUT | EPOLLWRNORM;
                }
            }
        }
        if st.first_error() != 0 {
            mask |= EPOLLERR;
        }
        let fin_acked = st.mpcb.lock().conn.data_fin_acked();
        if (eof && fin_acked) || st.first_closed() {
            mask |= EPOLLHUP;
        }
        mask
    }

    fn ioctl(m: &Master<'_, Self>, cmd: c_uint, karg: &mut c_int) -> Result {
        m.state().first().ioctl(cmd, karg)
    }

    fn shutdown(m: &Master<'_, Self>, how: c_int) -> Result {
        let st = m.state();
        if st.mpcb.passthrough() {
            return st.first().shutdown(how);
        }
        // SHUT_RD (0), SHUT_WR (1), SHUT_RDWR (2).
        if !(0..=2).contains(&how) {
            return Err(EINVAL);
        }
        {
            let lock = m.sk().lock();
            if how != SHUT_WR {
                m.sk().set_shutdown_bits(&lock, RCV_SHUTDOWN);
            }
        }
        if how != 0 {
            st.mpcb.lock().conn.shutdown_write();
            st.mpcb.push_all();
        }
        m.sk().state_change();
        Ok(())
    }

    fn setsockopt(m: &Master<'_, Self>, level: c_int, name: c_int, val: &UserOptVal) -> Result {
        if level == SOL_MPTCP && name == MPTCP_RS_SCHEDULER {
            let mut buf = [0u8; 32];
            let len = val.read_bytes(&mut buf)?;
            // A C string, or the bytes as given.
            let len = buf[..len].iter().position(|&b| b == 0).unwrap_or(len);
            let scheduler = scheduler_by_name(&buf[..len]).ok_or(ENOENT)?;
            m.state().mpcb.lock().conn.set_scheduler(scheduler);
            return Ok(());
        }
        if level == SOL_TCP && name == TCP_CONGESTION {
            // Every subflow, from now on. The initial one answers as TCP
            // does (ENOENT, EPERM, EFAULT; a value longer than a name is
            // cut); the others take the name it read.
            m.state().first().setsockopt(level, name, val)?;
            let mut buf = [0u8; CA_NAME_MAX];
            let len = val.read_prefix(&mut buf)?;
            m.state().mpcb.set_congestion(CaName::new(&buf[..len])?);
            return Ok(());
        }
        if level == SOL_SOCKET {
            // The master keeps the value (getsockopt reads it there), the
            // subflow applies it.
            m.sock_setsockopt(name, val)?;
        }
        m.state().first().setsockopt(level, name, val)
    }

    fn getsockopt(m: &Master<'_, Self>, level: c_int, name: c_int, len: &UserOptLen) -> Result {
        if level == SOL_MPTCP && name == MPTCP_RS_INFO {
            let info = m.state().info(m.sk());
            let mut bytes = [0u8; 96];
            for (chunk, v) in bytes.chunks_mut(8).zip(info) {
                chunk.copy_from_slice(&v.to_ne_bytes());
            }
            return len.write(&bytes);
        }
        if level == SOL_MPTCP && name == MPTCP_RS_SCHEDULER {
            let name = m.state().mpcb.lock().conn.scheduler().name();
            return len.write(name.as_bytes());
        }
        m.state().first().getsockopt(level, name, len)
    }

    fn sendmsg(m: &Master<'_, Self>, msg: &mut MsgHdr, len: usize) -> Result<usize> {
        let st = m.state();
        let flags = msg.flags() as c_int;
        let mut timeo = m.sk().timeout(true, flags & MSG_DONTWAIT != 0);
        if st.settled_passthrough(m, &mut timeo)? {
            return st.first().sendmsg(msg, len);
        }
        if flags & MSG_OOB != 0 {
            return Err(errno::eopnotsupp());
        }
        let mut lock = m.sk().lock();
        let mut copied = 0usize;
        let mut unpushed = 0usize;
        // Until the writer leaves, short mappings wait for the rest of the
        // write (every exit and every wait below leaves first).
        st.mpcb.writer_enter();
        // Bytes queued are the application's from here on: an error after
        // some were queued reports what was queued, never the error (the
        // application would send them again).
        let result = loop {
            if copied >= len {
                break Ok(());
            }
            let (_, sndbuf) = st.buf_sizes(m.sk());
            let look = st.mpcb.write_room(sndbuf);
            if let WriteRoom::Passthrough = look {
                // Fallen back and all written before went to TCP: the rest
                // goes straight to it.
                drop(lock);
                st.mpcb.writer_leave();
                return match st.first().sendmsg(msg, len - copied) {
                    Ok(n) => Ok(copied + n),
                    Err(_) if copied > 0 => Ok(copied),
                    Err(e) => Err(e),
                };
            }
            let err = st.first_error();
            if err != 0 {
                break Err(Error::from_errno(-err));
            }
            let (room, spare) = match look {
                WriteRoom::Open { room, spare } => (room as usize, spare),
                _ => break Err(m.pipe_error(flags)),
            };
            if room == 0 {
                // (Before the last look at the room, in `can_write`: a
                // DATA_ACK in between sees the mark and wakes us.)
                m.sk().writer_waits();
                drop(lock);
                st.mpcb.writer_leave();
                unpushed = 0;
                lock = m.sk().lock();
                // DATA_ACKs free room and wake us (the master's write_space).
                let waited = lock.wait(&mut timeo, |_| {
                    st.mpcb.can_write(sndbuf) || st.first_error() != 0 || st.mpcb.passthrough()
                });
                st.mpcb.writer_enter();
                if let Err(e) = waited {
                    break Err(e);
                }
                continue;
            }
            // The tree node first: if there is no memory for it, nothing was
            // taken from the application. Without memory a blocking writer
            // waits for some, as TCP's `sk_stream_wait_memory` does; a
            // non-blocking one gets EAGAIN (or the count queued so far).
            let frag = st.mpcb.frag_slot(spare).and_then(|slot| {
                Ok((
                    slot,
                    PageFrag::copy_from_msg(&lock, msg, (len - copied).min(room))?,
                ))
            });
            let (slot, frag) = match frag {
                Ok(pair) => pair,
                Err(e) if e == ENOMEM => {
                    if timeo == 0 {
                        break Err(EAGAIN);
                    }
                    drop(lock);
                    st.mpcb.writer_leave();
                    unpushed = 0;
                    lock = m.sk().lock();
                    let mut pause = MEMORY_WAIT;
                    let _ = lock.wait(&mut pause, |_| st.first_error() != 0);
                    st.mpcb.writer_enter();
                    continue;
                }
                Err(e) => break Err(e),
            };
            let n = frag.len() as usize;
            let queued = st.mpcb.append(frag, slot);
            m.sk().set_wmem_queued(queued.min(i32::MAX as u64) as i32);
            copied += n;
            unpushed += n;
            if unpushed >= PUSH_EVERY {
                drop(lock);
                st.mpcb.push_all();
                unpushed = 0;
                lock = m.sk().lock();
            }
        };
        drop(lock);
        // (Pushes what is left, short mappings included.)
        st.mpcb.writer_leave();
        match result {
            _ if copied > 0 => Ok(copied),
            Ok(()) => Ok(0),
            Err(e) => Err(e),
        }
    }

    fn recvmsg(m: &Master<'_, Self>, msg: &mut MsgHdr, len: usize, flags: c_int) -> Result<usize> {
        let st = m.state();
        let mut timeo = m.sk().timeout(false, flags & MSG_DONTWAIT != 0);
        // After a fallback, what the connection still holds is read first.
        if st.settled_passthrough(m, &mut timeo)?
            && st.mpcb.readable().0 == 0
            && st.inner.lock().reading.len == 0
        {
            return st.first().recvmsg(msg, len, flags);
        }
        if flags & MSG_OOB != 0 {
            return Err(errno::eopnotsupp());
        }
        let peek = flags & MSG_PEEK != 0;
        let mut lock = m.sk().lock();
        let target = if flags & MSG_WAITALL != 0 {
            len
        } else {
            1.min(len)
        };
        let mut copied = 0usize;
        loop {
            copied += st.copy_out(msg, len - copied, peek)?;
            if copied >= target || peek && copied > 0 {
                break;
            }
            let (rcvbuf, _) = st.buf_sizes(m.sk());
            // What the connection holds, taken for the reader.
            if st.take(len - copied)? > 0 {
                continue;
            }
            // What waits on the subflows (the buffer was full), moved now.
            if st.mpcb.receive_all(rcvbuf as u32) && st.take(len - copied)? > 0 {
                continue;
            }
            let (eof, mode) = st.mpcb.read_state();
            if eof || m.sk().shutdown_bits() & RCV_SHUTDOWN != 0 {
                break;
            }
            if mode != Mode::Mptcp {
                // Fallen back: the rest comes from the subflow, next call.
                break;
            }
            let err = st.first_error();
            if err != 0 {
                if copied > 0 {
                    break;
                }
                return Err(Error::from_errno(-err));
            }
            if st.first_closed() {
                // The subflow died without a DATA_FIN: the peer is gone.
                if copied > 0 {
                    break;
                }
                return Err(errno::econnreset());
            }
            let waited = lock.wait(&mut timeo, |_| {
                let (queued, eof) = st.mpcb.readable();
                queued > 0 || eof || st.first_error() != 0 || st.first_closed()
            });
            if let Err(e) = waited {
                if copied > 0 {
                    break;
                }
                return Err(e);
            }
        }
        drop(lock);
        // Room was made: what waits on the subflows may come in, and the
        // peer may send more.
        if copied > 0 && !peek {
            let (rcvbuf, _) = st.buf_sizes(m.sk());
            st.mpcb.reader_done(rcvbuf as u32);
        }
        Ok(copied)
    }
}

impl MptcpSock {
    /// Copies up to `len` bytes of what the reader took to the application
    /// (leaving them, with `peek`). Returns the bytes copied.
    fn copy_out(&self, msg: &mut MsgHdr, len: usize, peek: bool) -> Result<usize> {
        let mut inner = self.inner.lock();
        let reading = &mut inner.reading;
        let mut copied = 0usize;
        let mut i = 0;
        while copied < len {
            let Some(span) = reading.get_mut(i) else {
                break;
            };
            let n = (len - copied).min(span.len() as usize) as u32;
            if peek {
                span.peek_to(msg, n)?;
                i += 1;
            } else {
                span.copy_to(msg, n)?;
                if span.len() == 0 {
                    reading.pop_front();
                }
            }
            copied += n as usize;
        }
        Ok(copied)
    }

    /// Takes up to `max` bytes off the connection's queue for the reader.
    fn take(&self, max: usize) -> Result<u64> {
        let mut inner = self.inner.lock();
        let reading = &mut inner.reading;
        let room = reading.room();
        Ok(self
            .mpcb
            .take_readable(room, max as u64, |span| reading.push(span)))
    }
}
