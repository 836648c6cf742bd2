// SPDX-License-Identifier: GPL-2.0

//! TCP congestion control algorithms (`struct tcp_congestion_ops`) written
//! in Rust: an algorithm implements [`CongestionControl`], declares one
//! [`CaOps`] static and registers it ([`CaOps::register`]) for as long as
//! the [`CaRegistration`] lives. It is then listed in
//! `net.ipv4.tcp_available_congestion_control` and any TCP socket may pick
//! it by name (`TCP_CONGESTION`, [`TcpSock::set_congestion`]).
//!
//! TCP calls the algorithm with the socket's lock held (in softirq under
//! `bh_lock_sock`, or in process context owning it); [`CaSock`] is the
//! socket as the algorithm sees it then. Its per-socket state is
//! `icsk_ca_priv`, which TCP zeroes when it assigns the algorithm
//! ([`CaSock::private`]).
//!
//! The registration names this module as the owner: TCP takes a reference
//! on it for every socket that uses the algorithm, so the module cannot be
//! unloaded while one does (`rmmod` fails with `EBUSY`).

use super::{bindings, tcp::TcpSock};
use core::{cell::UnsafeCell, marker::PhantomData};
use kernel::{prelude::*, str::CStr, ThisModule};

/// `TCP_CONG_NON_RESTRICTED` (include/net/tcp.h): any user may select the
/// algorithm, not only those with `CAP_NET_ADMIN`.
const TCP_CONG_NON_RESTRICTED: u32 = 0x1;
/// `TCP_CONGESTION` (include/uapi/linux/tcp.h).
pub(crate) const TCP_CONGESTION: i32 = 13;
/// The longest algorithm name (`TCP_CA_NAME_MAX` less its NUL).
pub(crate) const CA_NAME_MAX: usize = 15;

/// Words of per-socket state an algorithm has (`ICSK_CA_PRIV_SIZE` / 8).
pub(crate) const CA_PRIVATE_WORDS: usize = 13;

/// The name of a congestion control algorithm, as `TCP_CONGESTION` takes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CaName {
    buf: [u8; CA_NAME_MAX],
    len: u8,
}

impl CaName {
    /// `name` up to its first NUL, if any: `EINVAL` if that is empty or
    /// longer than [`CA_NAME_MAX`].
    pub(crate) fn new(name: &[u8]) -> Result<Self> {
        let len = name.iter().position(|&b| b == 0).unwrap_or(name.len());
        if len == 0 || len > CA_NAME_MAX {
            return Err(EINVAL);
        }
        let mut buf = [0u8; CA_NAME_MAX];
        buf[..len].copy_from_slice(&name[..len]);
        Ok(Self {
            buf,
            len: len as u8,
        })
    }

    /// The name's bytes, without a NUL.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.buf[..usize::from(self.len)]
    }
}

/// A congestion control algorithm.
pub(crate) trait CongestionControl: 'static {
    /// Its name, as `TCP_CONGESTION` and the sysctls spell it (at most
    /// [`CA_NAME_MAX`] bytes).
    const NAME: &'static CStr;

    /// The algorithm was assigned to `sk` (its private state is zero).
    fn init(_sk: &mut CaSock<'_>) {}

    /// The slow-start threshold after a loss (segments, at least 2).
    fn ssthresh(sk: &mut CaSock<'_>) -> u32;

    /// `acked` segments were newly acknowledged: grow the window.
    fn cong_avoid(sk: &mut CaSock<'_>, acked: u32);

    /// The window to restore when a loss proves spurious: Reno's by default.
    fn undo_cwnd(sk: &mut CaSock<'_>) -> u32 {
        sk.cwnd().max(sk.prior_cwnd())
    }

    /// The socket leaves the algorithm (closes, or picks another one).
    fn release(_sk: &mut CaSock<'_>) {}
}

/// A TCP socket inside one of its congestion control callbacks.
///
/// # Invariants
///
/// TCP holds the socket's lock for the lifetime `'a` (it calls every
/// `tcp_congestion_ops` callback under it), and the socket uses the
/// algorithm whose callback made this value, so `icsk_ca_priv` is that
/// algorithm's.
pub(crate) struct CaSock<'a> {
    sk: &'a TcpSock,
    _not_send: PhantomData<*mut ()>,
}

impl<'a> CaSock<'a> {
    /// # Safety
    ///
    /// `sk` must be a live full TCP socket whose lock is held for `'a`, in a
    /// callback of the congestion control algorithm it uses.
    unsafe fn from_raw(sk: *mut bindings::sock) -> Self {
        // INVARIANT: per the function's contract.
        Self {
            // SAFETY: per the function's contract, a live full TCP socket.
            sk: unsafe { TcpSock::from_raw(sk) },
            _not_send: PhantomData,
        }
    }

    fn tp(&self) -> *mut bindings::tcp_sock {
        self.sk.as_raw().cast()
    }

    /// The socket.
    pub(crate) fn tcp(&self) -> &'a TcpSock {
        self.sk
    }

    /// The congestion window, in segments (`snd_cwnd`).
    pub(crate) fn cwnd(&self) -> u32 {
        // SAFETY: a live `tcp_sock` (type invariant) whose lock we hold.
        unsafe { (*self.tp()).snd_cwnd }
    }

    /// Sets the congestion window: at least 1, at most `snd_cwnd_clamp`.
    pub(crate) fn set_cwnd(&mut self, cwnd: u32) {
        let tp = self.tp();
        // SAFETY: a live `tcp_sock` whose lock we hold (type invariant):
        // TCP's own algorithms write this field in the same callbacks.
        unsafe {
            let clamp = (*tp).snd_cwnd_clamp.max(1);
            (*tp).snd_cwnd = cwnd.clamp(1, clamp);
        }
    }

    /// The count of ACKed segments towards the next increase
    /// (`snd_cwnd_cnt`).
    pub(crate) fn cwnd_cnt(&self) -> u32 {
        // SAFETY: as in `cwnd`.
        unsafe { (*self.tp()).snd_cwnd_cnt }
    }

    /// Sets `snd_cwnd_cnt`.
    pub(crate) fn set_cwnd_cnt(&mut self, cnt: u32) {
        // SAFETY: as in `set_cwnd`.
        unsafe { (*self.tp()).snd_cwnd_cnt = cnt };
    }

    /// The slow-start threshold (`snd_ssthresh`), in segments.
    pub(crate) fn ssthresh(&self) -> u32 {
        // SAFETY: as in `cwnd`.
        unsafe { (*self.tp()).snd_ssthresh }
    }

    /// The window before the last reduction (`prior_cwnd`).
    pub(crate) fn prior_cwnd(&self) -> u32 {
        // SAFETY: as in `cwnd`.
        unsafe { (*self.tp()).prior_cwnd }
    }

    /// The smoothed RTT in microseconds, 0 before the first sample.
    pub(crate) fn srtt_us(&self) -> u32 {
        // SAFETY: as in `cwnd` (TCP keeps it shifted left by 3).
        unsafe { (*self.tp()).srtt_us >> 3 }
    }

    /// The current MSS (`mss_cache`).
    pub(crate) fn mss(&self) -> u32 {
        // SAFETY: as in `cwnd`.
        unsafe { (*self.tp()).mss_cache }
    }

    /// Whether the window limited what was sent (`tcp_is_cwnd_limited`):
    /// if not, it must not grow.
    pub(crate) fn is_cwnd_limited(&self) -> bool {
        // SAFETY: a live TCP socket whose lock we hold (type invariant).
        unsafe { bindings::mptcp_rs_tcp_is_cwnd_limited(self.sk.as_raw()) }
    }

    /// The algorithm's per-socket state (`icsk_ca_priv`): zero when TCP
    /// assigned the algorithm, then whatever the algorithm wrote.
    pub(crate) fn private(&mut self) -> &mut [u64; CA_PRIVATE_WORDS] {
        let icsk = self.sk.as_raw().cast::<bindings::inet_connection_sock>();
        // SAFETY: a live socket whose lock we hold, using this algorithm
        // (type invariant): TCP leaves `icsk_ca_priv` to the algorithm, and
        // `&mut self` makes this the only borrow of it.
        unsafe { &mut (*icsk).icsk_ca_priv }
    }
}

impl TcpSock {
    /// Makes the socket use congestion control algorithm `name` (as
    /// `setsockopt(TCP_CONGESTION)`): `ENOENT` if none has that name.
    /// Takes the socket's lock: process context, not holding it.
    pub(crate) fn set_congestion(&self, name: &CaName) -> Result {
        let name = name.as_bytes();
        // SAFETY: a live TCP socket (type invariant) whose lock the caller
        // does not hold; `name` is a kernel buffer of `len` bytes that
        // outlives the call (the helper copies it).
        let ret = unsafe {
            bindings::mptcp_rs_tcp_set_congestion(
                self.as_raw(),
                name.as_ptr().cast(),
                name.len() as u32,
            )
        };
        if ret < 0 {
            Err(Error::from_errno(ret))
        } else {
            Ok(())
        }
    }
}

/// The C record of one algorithm: declare one `static` per algorithm.
pub(crate) struct CaOps<T: CongestionControl> {
    ops: UnsafeCell<bindings::tcp_congestion_ops>,
    _t: PhantomData<T>,
}

// SAFETY: the record is written by `register` before TCP sees it, then only
// by TCP itself (its list links and key) under its own lock.
unsafe impl<T: CongestionControl> Sync for CaOps<T> {}

impl<T: CongestionControl> CaOps<T> {
    /// The record, to be placed in a `static`.
    pub(crate) const fn new() -> Self {
        Self {
            // SAFETY: all-zeroes is a valid `tcp_congestion_ops` (`None`
            // callbacks, null owner, empty name).
            ops: UnsafeCell::new(unsafe { core::mem::zeroed() }),
            _t: PhantomData,
        }
    }

    /// Registers the algorithm until the registration is dropped (once per
    /// module load).
    pub(crate) fn register(
        &'static self,
        module: &'static ThisModule,
    ) -> Result<CaRegistration<T>> {
        let name = T::NAME.as_bytes();
        if name.is_empty() || name.len() > CA_NAME_MAX {
            return Err(EINVAL);
        }
        // SAFETY: not registered yet (one registration per module load), so
        // TCP does not read the record now and nothing else writes it.
        let ops = unsafe { &mut *self.ops.get() };
        for (out, c) in ops.name.iter_mut().zip(name) {
            *out = *c as kernel::ffi::c_char;
        }
        ops.owner = module.as_ptr().cast();
        ops.flags = TCP_CONG_NON_RESTRICTED;
        ops.init = Some(init_cb::<T>);
        ops.release = Some(release_cb::<T>);
        ops.ssthresh = Some(ssthresh_cb::<T>);
        ops.cong_avoid = Some(cong_avoid_cb::<T>);
        ops.undo_cwnd = Some(undo_cwnd_cb::<T>);
        // SAFETY: a complete record that lives as long as the module (a
        // static), unregistered by the registration's drop.
        let ret = unsafe { bindings::tcp_register_congestion_control(self.ops.get()) };
        if ret < 0 {
            return Err(Error::from_errno(ret));
        }
        Ok(CaRegistration { ops: self })
    }
}

/// A registered algorithm; unregistered on drop.
pub(crate) struct CaRegistration<T: CongestionControl> {
    ops: &'static CaOps<T>,
}

impl<T: CongestionControl> Drop for CaRegistration<T> {
    fn drop(&mut self) {
        // SAFETY: registered by `CaOps::register`. No socket uses it (each
        // holds a reference on the module, and this runs at its unload, or
        // at a failed load before any socket could pick it); TCP waits for
        // an RCU grace period, after which no lookup sees it.
        unsafe { bindings::tcp_unregister_congestion_control(self.ops.ops.get()) };
    }
}

macro_rules! ca_callback {
    ($name:ident, $method:ident -> $ret:ty) => {
        /// # Safety
        ///
        /// Only TCP calls this, as a callback of the algorithm registered
        /// with it, on a live socket using that algorithm, under its lock.
        unsafe extern "C" fn $name<T: CongestionControl>(sk: *mut bindings::sock) -> $ret {
            // SAFETY: per the function's contract.
            let mut sk = unsafe { CaSock::from_raw(sk) };
            T::$method(&mut sk)
        }
    };
}

ca_callback!(init_cb, init -> ());
ca_callback!(release_cb, release -> ());
ca_callback!(ssthresh_cb, ssthresh -> u32);
ca_callback!(undo_cwnd_cb, undo_cwnd -> u32);

/// # Safety
///
/// As for the callbacks above.
unsafe extern "C" fn cong_avoid_cb<T: CongestionControl>(
    sk: *mut bindings::sock,
    _ack: u32,
    acked: u32,
) {
    // SAFETY: per the function's contract.
    let mut sk = unsafe { CaSock::from_raw(sk) };
    T::cong_avoid(&mut sk, acked);
}
