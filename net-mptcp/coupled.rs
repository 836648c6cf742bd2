// SPDX-License-Identifier: GPL-2.0

//! Coupled congestion control: `lia` (RFC 6356), `olia` (Khalili et al.,
//! CoNEXT 2012) and `balia` (Peng et al., IEEE/ACM ToN 2016) as TCP
//! congestion control algorithms. The math is the core's (`mptcp_core::cc`);
//! this file gives it each subflow's view of its siblings.
//!
//! # How the subflows of a connection meet without a shared lock
//!
//! Each subflow runs its algorithm under its own socket lock, in softirq.
//! The connection keeps one [`Coupling`] slot per subflow id: on every call
//! a subflow writes its own window, smoothed RTT, MSS and (OLIA) loss
//! interval there, with relaxed atomic stores, and reads its siblings'
//! slots with relaxed loads. Nothing is locked that another subflow
//! contends for: the only lock is the subflow's own `sk_callback_lock`
//! (read side), taken to find its connection, and the reference count of
//! its own context (`SubflowCtx`). A sibling's values may be
//! one ACK old, as in the seeds' kernel, which read the siblings'
//! `tcp_sock` unlocked; the core's math saturates on any input.
//!
//! On a socket that is not one of our subflows (plain TCP that picked
//! `lia` by name), or while a connection has a single subflow, every
//! algorithm behaves as Reno: the coupled terms reduce to Reno's with one
//! path.

use crate::kernel_net::cong::{CaOps, CaRegistration, CaSock, CongestionControl};
use crate::mptcp_core::{
    cc::{self, CwndUpdate, LossIntervals, Path},
    conn::{SubflowId, MAX_SUBFLOWS},
};
use crate::{options::AF_OPS, subflow::SubflowCtx};
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use kernel::{c_str, prelude::*, str::CStr, sync::Arc, ThisModule};

/// One subflow's values, as its siblings read them.
struct CouplingSlot {
    cwnd: AtomicU32,
    srtt_us: AtomicU32,
    mss: AtomicU32,
    loss_interval: AtomicU64,
}

/// The subflows of one connection, as coupled congestion control sees
/// them (a slot per subflow id; a zero window means "not coupled").
pub(crate) struct Coupling {
    slots: [CouplingSlot; MAX_SUBFLOWS],
}

impl Coupling {
    pub(crate) const fn new() -> Self {
        Self {
            slots: [const {
                CouplingSlot {
                    cwnd: AtomicU32::new(0),
                    srtt_us: AtomicU32::new(0),
                    mss: AtomicU32::new(0),
                    loss_interval: AtomicU64::new(0),
                }
            }; MAX_SUBFLOWS],
        }
    }

    /// Subflow `id` left the connection: its siblings stop counting it.
    pub(crate) fn forget(&self, id: SubflowId) {
        if let Some(slot) = self.slots.get(id as usize) {
            slot.cwnd.store(0, Ordering::Relaxed);
        }
    }

    fn publish(&self, id: usize, path: &Path) {
        if let Some(slot) = self.slots.get(id) {
            slot.srtt_us.store(path.srtt_us, Ordering::Relaxed);
            slot.mss.store(path.mss, Ordering::Relaxed);
            slot.loss_interval
                .store(path.loss_interval, Ordering::Relaxed);
            slot.cwnd.store(path.cwnd, Ordering::Relaxed);
        }
    }

    /// Every subflow's path, `me` (subflow `id`) as it is now.
    fn paths(&self, id: usize, me: &Path) -> [Path; MAX_SUBFLOWS] {
        let mut paths = [Path::default(); MAX_SUBFLOWS];
        for (i, (slot, out)) in self.slots.iter().zip(paths.iter_mut()).enumerate() {
            *out = if i == id {
                *me
            } else {
                Path {
                    cwnd: slot.cwnd.load(Ordering::Relaxed),
                    srtt_us: slot.srtt_us.load(Ordering::Relaxed),
                    mss: slot.mss.load(Ordering::Relaxed),
                    loss_interval: slot.loss_interval.load(Ordering::Relaxed),
                }
            };
        }
        paths
    }
}

/// The connection of `sk` and its subflow id, if `sk` is one of our
/// subflows.
fn connection_of(sk: &CaSock<'_>) -> Option<Arc<SubflowCtx>> {
    // Only our sockets use our `icsk_af_ops`, and only ours may be asked
    // for our context (`sk_user_data` is another owner's on the others).
    if !AF_OPS.is_installed(sk.tcp()) {
        return None;
    }
    SubflowCtx::of(sk.tcp())
}

/// What this module keeps in `icsk_ca_priv`: OLIA's loss intervals.
fn loss_intervals(sk: &mut CaSock<'_>) -> LossIntervals {
    let p = sk.private();
    LossIntervals {
        between_last_two: p[0],
        since_last: p[1],
    }
}

fn set_loss_intervals(sk: &mut CaSock<'_>, l: LossIntervals) {
    let p = sk.private();
    p[0] = l.between_last_two;
    p[1] = l.since_last;
}

fn me(sk: &mut CaSock<'_>) -> Path {
    Path {
        cwnd: sk.cwnd(),
        srtt_us: sk.srtt_us(),
        mss: sk.mss(),
        loss_interval: loss_intervals(sk).smoothed(),
    }
}

type CongAvoid = fn(&[Path], usize, u32, u32, u32) -> CwndUpdate;

/// The shared `cong_avoid`: the coupled increase of `f` over the
/// connection's subflows (Reno's alone), then this subflow's new window
/// published for its siblings.
fn coupled_cong_avoid(sk: &mut CaSock<'_>, acked: u32, f: CongAvoid) {
    let me = me(sk);
    let conn = connection_of(sk);
    if !sk.is_cwnd_limited() {
        // No growth, but the siblings see this window as it is (a window
        // left over from before a loss would make them too timid).
        if let Some(ctx) = conn {
            ctx.mpcb.coupling.publish(ctx.id as usize, &me);
        }
        return;
    }
    let (ssthresh, cnt) = (sk.ssthresh(), sk.cwnd_cnt());
    let update = match &conn {
        Some(ctx) => {
            let id = ctx.id as usize;
            f(&ctx.mpcb.coupling.paths(id, &me), id, ssthresh, cnt, acked)
        }
        None => f(&[me], 0, ssthresh, cnt, acked),
    };
    sk.set_cwnd(update.cwnd);
    sk.set_cwnd_cnt(update.cwnd_cnt);
    if let Some(ctx) = conn {
        let now = Path {
            cwnd: sk.cwnd(),
            ..me
        };
        ctx.mpcb.coupling.publish(ctx.id as usize, &now);
    }
}

/// Reno's halving; the loss is recorded for OLIA's `l_r`.
fn reno_ssthresh(sk: &mut CaSock<'_>) -> u32 {
    let mut l = loss_intervals(sk);
    l.on_loss();
    set_loss_intervals(sk, l);
    let me = me(sk);
    let ssthresh = cc::reno_ssthresh(me.cwnd);
    publish_reduced(connection_of(sk).as_deref(), me, ssthresh);
    ssthresh
}

/// A loss: the window the subflow recovers to (`ssthresh`) is what its
/// siblings count from now on. Its `cong_avoid`, which publishes, is not
/// called during the recovery: until then they would count the window
/// from before the loss, a total too large, and grow too slowly.
fn publish_reduced(conn: Option<&SubflowCtx>, me: Path, ssthresh: u32) {
    if let Some(ctx) = conn {
        let now = Path {
            cwnd: ssthresh.min(me.cwnd).max(1),
            ..me
        };
        ctx.mpcb.coupling.publish(ctx.id as usize, &now);
    }
}

/// Linked Increases (RFC 6356).
pub(crate) struct Lia;

impl CongestionControl for Lia {
    const NAME: &'static CStr = c_str!("lia");

    fn ssthresh(sk: &mut CaSock<'_>) -> u32 {
        reno_ssthresh(sk)
    }

    fn cong_avoid(sk: &mut CaSock<'_>, acked: u32) {
        coupled_cong_avoid(sk, acked, cc::lia_cong_avoid);
    }

    fn release(sk: &mut CaSock<'_>) {
        forget(sk);
    }
}

/// Opportunistic Linked Increases (Khalili et al.).
pub(crate) struct Olia;

impl CongestionControl for Olia {
    const NAME: &'static CStr = c_str!("olia");

    fn ssthresh(sk: &mut CaSock<'_>) -> u32 {
        reno_ssthresh(sk)
    }

    fn cong_avoid(sk: &mut CaSock<'_>, acked: u32) {
        let mut l = loss_intervals(sk);
        l.on_acked(u64::from(acked) * u64::from(sk.mss()));
        set_loss_intervals(sk, l);
        coupled_cong_avoid(sk, acked, cc::olia_cong_avoid);
    }

    fn release(sk: &mut CaSock<'_>) {
        forget(sk);
    }
}

/// Balanced Linked Adaptation (Peng et al.): coupled increase and
/// decrease.
pub(crate) struct Balia;

impl CongestionControl for Balia {
    const NAME: &'static CStr = c_str!("balia");

    fn ssthresh(sk: &mut CaSock<'_>) -> u32 {
        let me = me(sk);
        let conn = connection_of(sk);
        let ssthresh = match &conn {
            Some(ctx) => {
                let id = ctx.id as usize;
                cc::balia_ssthresh(&ctx.mpcb.coupling.paths(id, &me), id)
            }
            None => cc::reno_ssthresh(me.cwnd),
        };
        publish_reduced(conn.as_deref(), me, ssthresh);
        ssthresh
    }

    fn cong_avoid(sk: &mut CaSock<'_>, acked: u32) {
        coupled_cong_avoid(sk, acked, cc::balia_cong_avoid);
    }

    fn release(sk: &mut CaSock<'_>) {
        forget(sk);
    }
}

/// A subflow that leaves a coupled algorithm leaves the coupling.
fn forget(sk: &mut CaSock<'_>) {
    if let Some(ctx) = connection_of(sk) {
        ctx.mpcb.coupling.forget(ctx.id);
    }
}

static LIA: CaOps<Lia> = CaOps::new();
static OLIA: CaOps<Olia> = CaOps::new();
static BALIA: CaOps<Balia> = CaOps::new();

/// The three algorithms, registered while the module is loaded.
pub(crate) struct Registrations {
    _lia: CaRegistration<Lia>,
    _olia: CaRegistration<Olia>,
    _balia: CaRegistration<Balia>,
}

/// Registers `lia`, `olia` and `balia` (none if one fails: `EEXIST` if
/// another module has one of the names).
pub(crate) fn register(module: &'static ThisModule) -> Result<Registrations> {
    Ok(Registrations {
        _lia: LIA.register(module)?,
        _olia: OLIA.register(module)?,
        _balia: BALIA.register(module)?,
    })
}
