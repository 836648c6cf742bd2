// SPDX-License-Identifier: GPL-2.0

//! Keys and tokens (RFC 8684, section 3.1).
//!
//! - Our key for each connection, drawn at random, with a token unique on
//!   this host: the token table holds every token in use, and the
//!   connection it names while its application's socket is open: MP_JOIN
//!   finds it there (RFC 8684, 3.2).
//! - The MP_CAPABLE requests a listener answered: a SYN carried MP_CAPABLE,
//!   the SYN/ACK carries our key, the ACK that completes the handshake (or
//!   the first data) echoes it. TCP keeps the request, not us, so we
//!   remember the key for it here, by connection 4-tuple and the client's
//!   initial sequence number, until the child socket exists or the request
//!   is old enough to have died.
//! - The MP_JOIN requests a listener answered, the same way: the SYN named
//!   a connection by its token, the SYN/ACK carries our HMAC, the third ACK
//!   the initiator's.

use crate::kernel_net::{
    global::{hz, jiffies, random_u64, Global},
    seqmap::RbSeqMap,
    sha256::Sha256,
    sync::{new_spinlock_bh, SpinLockBh},
};
use crate::mpcb::Mpcb;
use crate::mptcp_core::{
    conn::join::JoinRequest,
    crypto::{generate_key, token_and_idsn, LocalKey},
    store::SeqMap,
};
use kernel::{prelude::*, sync::Arc};

/// At most this many requests are remembered; beyond it new SYNs get a
/// plain SYN/ACK (the connection falls back to TCP).
const MAX_PENDING: usize = 4096;
/// A request older than this is forgotten (TCP gives up on SYN/ACK
/// retransmissions after about 63 s by default).
const PENDING_LIFETIME_SECS: u64 = 75;

/// The IDSN of a key (the least significant 64 bits of SHA-256(key)).
pub(crate) fn idsn(key: u64) -> u64 {
    token_and_idsn::<Sha256>(key).1
}

/// The connection a listener answered, as its packets name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RequestId {
    /// The namespace (pointer identity only).
    pub(crate) net: usize,
    pub(crate) client: [u8; 4],
    pub(crate) server: [u8; 4],
    pub(crate) client_port: u16,
    pub(crate) server_port: u16,
    /// The client's initial sequence number (of its SYN).
    pub(crate) client_isn: u32,
}

struct Pending {
    id: RequestId,
    local: LocalKey,
    since: u64,
}

struct PendingJoin {
    id: RequestId,
    /// `None`: refused (the SYN/ACK goes as a RST).
    req: Option<JoinRequest>,
    since: u64,
}

/// The tables.
#[pin_data]
pub(crate) struct KeyTables {
    /// Each token in use, with its connection while joins may reach it.
    #[pin]
    tokens: SpinLockBh<RbSeqMap<Option<Arc<Mpcb>>>>,
    /// Keyed by [`RequestId::key`].
    #[pin]
    pending: SpinLockBh<RbSeqMap<Pending>>,
    /// Keyed by [`RequestId::key`].
    #[pin]
    joins: SpinLockBh<RbSeqMap<PendingJoin>>,
}

impl RequestId {
    /// The table key: the client's ISN and a fold of the rest. Two requests
    /// with the same key are told apart by comparing the whole id.
    fn key(&self) -> u64 {
        let mut fold = self.net as u64;
        for b in Iterator::chain(self.client.iter(), self.server.iter()) {
            fold = fold.rotate_left(5) ^ u64::from(*b);
        }
        fold ^= u64::from(self.client_port) << 16 | u64::from(self.server_port);
        u64::from(self.client_isn) << 32 | (fold ^ (fold >> 32)) & 0xffff_ffff
    }
}

static TABLES: Global<KeyTables> = Global::new();

/// Creates the tables (module load).
pub(crate) fn init() -> Result {
    let tables = KBox::pin_init(
        pin_init!(KeyTables {
            tokens <- new_spinlock_bh!(RbSeqMap::with_flags(GFP_ATOMIC), "KeyTables::tokens"),
            pending <- new_spinlock_bh!(RbSeqMap::with_flags(GFP_ATOMIC), "KeyTables::pending"),
            joins <- new_spinlock_bh!(RbSeqMap::with_flags(GFP_ATOMIC), "KeyTables::joins"),
        }),
        GFP_KERNEL,
    )?;
    TABLES.set(tables);
    Ok(())
}

/// Destroys the tables (module unload, when no connection is left).
pub(crate) fn exit() {
    TABLES.drain();
}

/// Draws a key for a new connection, with a token no other connection of
/// this host uses (and reserves the token).
pub(crate) fn new_local_key() -> Result<LocalKey> {
    let tables = TABLES.get().ok_or(ENODEV)?;
    generate_key::<Sha256>(
        random_u64,
        |token| {
            let mut tokens = tables.tokens.lock();
            if tokens
                .ceil(u64::from(token))
                .is_some_and(|(k, _)| k == u64::from(token))
            {
                return false;
            }
            tokens.insert(u64::from(token), None).is_ok()
        },
        16,
    )
    .ok_or(ENOMEM)
}

/// Gives a token back (its connection is done).
pub(crate) fn release_token(token: u32) {
    if let Some(tables) = TABLES.get() {
        let gone = tables.tokens.lock().remove(u64::from(token));
        // (Outside the lock: the last reference to a connection takes it.)
        drop(gone);
    }
}

/// Joins may reach `mpcb` by its token from now on (its application's
/// socket is open). The table holds a reference until [`unpublish`].
pub(crate) fn publish(mpcb: &Arc<Mpcb>, token: u32) {
    if let Some(tables) = TABLES.get() {
        let mut tokens = tables.tokens.lock();
        if let Some((k, slot)) = tokens.ceil(u64::from(token)) {
            if k == u64::from(token) {
                *slot = Some(mpcb.clone());
            }
        }
    }
}

/// No more joins for the connection of `token` (its application closed
/// its socket); the token stays reserved until the connection is gone.
pub(crate) fn unpublish(token: u32) {
    let Some(tables) = TABLES.get() else { return };
    let gone = {
        let mut tokens = tables.tokens.lock();
        match tokens.ceil(u64::from(token)) {
            Some((k, slot)) if k == u64::from(token) => slot.take(),
            _ => None,
        }
    };
    // Dropped outside the lock: it may be the last reference, and the
    // connection gives its token back when it goes.
    drop(gone);
}

/// Calls `f` on every connection that joins may reach, each outside the
/// table's lock (a path manager's command acting on the live connections).
pub(crate) fn for_each_published(mut f: impl FnMut(Arc<Mpcb>)) {
    let Some(tables) = TABLES.get() else { return };
    let mut next = 0u64;
    loop {
        let found = {
            let mut tokens = tables.tokens.lock();
            tokens.ceil(next).map(|(k, slot)| (k, slot.clone()))
        };
        let Some((token, mpcb)) = found else { break };
        if token > u64::from(u32::MAX) {
            break;
        }
        if let Some(mpcb) = mpcb {
            f(mpcb);
        }
        next = token + 1;
    }
}

/// The connection that `token` names, if joins may reach it.
pub(crate) fn lookup(token: u32) -> Option<Arc<Mpcb>> {
    let tables = TABLES.get()?;
    let mut tokens = tables.tokens.lock();
    match tokens.ceil(u64::from(token)) {
        Some((k, Some(mpcb))) if k == u64::from(token) => Some(mpcb.clone()),
        _ => None,
    }
}

/// Remembers the join request `id` the listener answers with `req`, or
/// refuses (`None`: TCP's SYN/ACK is turned into a RST); false if the
/// table is full.
pub(crate) fn join_add(id: RequestId, req: Option<JoinRequest>) -> bool {
    let Some(tables) = TABLES.get() else {
        return false;
    };
    let now = jiffies();
    let mut joins = tables.joins.lock();
    match joins.ceil(id.key()) {
        // A retransmitted SYN: answered as the first time.
        Some((k, p)) if k == id.key() => return p.id == id,
        _ => {}
    }
    forget_old(&mut joins, now, |p| p.since, drop);
    if joins.len() >= MAX_PENDING {
        return false;
    }
    joins
        .insert(
            id.key(),
            PendingJoin {
                id,
                req,
                since: now,
            },
        )
        .is_ok()
}

/// The join request `id` (`Some(None)` if refused), kept (for its
/// SYN/ACK) or taken out (`take`: its child socket exists).
pub(crate) fn join_get(id: &RequestId, take: bool) -> Option<Option<JoinRequest>> {
    let tables = TABLES.get()?;
    let mut joins = tables.joins.lock();
    let req = match joins.ceil(id.key()) {
        Some((k, p)) if k == id.key() && p.id == *id => p.req,
        _ => return None,
    };
    if take {
        joins.remove(id.key());
    }
    Some(req)
}

/// Remembers that the listener answers request `id` with MP_CAPABLE and the
/// key it draws now; returns false (plain TCP for this request) if the
/// table is full or no key could be drawn.
pub(crate) fn pending_add(id: RequestId) -> bool {
    let Some(tables) = TABLES.get() else {
        return false;
    };
    let now = jiffies();
    {
        let mut pending = tables.pending.lock();
        match pending.ceil(id.key()) {
            // A retransmitted SYN: the request is already there.
            Some((k, p)) if k == id.key() => return p.id == id,
            _ => {}
        }
        // (Their tokens go back.)
        forget_old(
            &mut pending,
            now,
            |p| p.since,
            |p| release_token(p.local.token),
        );
        if pending.len() >= MAX_PENDING {
            return false;
        }
    }
    let Ok(local) = new_local_key() else {
        return false;
    };
    let mut pending = tables.pending.lock();
    let vacant = !pending.ceil(id.key()).is_some_and(|(k, _)| k == id.key());
    if !vacant
        || pending
            .insert(
                id.key(),
                Pending {
                    id,
                    local,
                    since: now,
                },
            )
            .is_err()
    {
        drop(pending);
        release_token(local.token);
        return false;
    }
    true
}

/// Our key for request `id`, if the listener answers it with MP_CAPABLE.
pub(crate) fn pending_key(id: &RequestId) -> Option<LocalKey> {
    let tables = TABLES.get()?;
    let mut pending = tables.pending.lock();
    match pending.ceil(id.key()) {
        Some((k, p)) if k == id.key() && p.id == *id => Some(p.local),
        _ => None,
    }
}

/// Takes request `id` out (its child socket exists): its key.
pub(crate) fn pending_take(id: &RequestId) -> Option<LocalKey> {
    let tables = TABLES.get()?;
    let mut pending = tables.pending.lock();
    match pending.ceil(id.key()) {
        Some((k, p)) if k == id.key() && p.id == *id => {}
        _ => return None,
    }
    let taken = pending.remove(id.key())?;
    Some(taken.local)
}

/// Drops the requests of `table` older than their lifetime (`since` gives
/// each one's time), handing each to `forgotten`.
fn forget_old<T>(
    table: &mut RbSeqMap<T>,
    now: u64,
    since: impl Fn(&T) -> u64,
    mut forgotten: impl FnMut(T),
) {
    let max_age = PENDING_LIFETIME_SECS * hz();
    let mut from = 0u64;
    while let Some((key, p)) = table.ceil(from) {
        if now.wrapping_sub(since(p)) > max_age {
            if let Some(old) = table.remove(key) {
                forgotten(old);
            }
        }
        match key.checked_add(1) {
            Some(next) => from = next,
            None => break,
        }
    }
}
