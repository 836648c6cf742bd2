// SPDX-License-Identifier: GPL-2.0

//! Keys and tokens (RFC 8684, section 3.1).
//!
//! - Our key for each connection, drawn at random, with a token unique on
//!   this host: the token table holds every token in use (MP_JOIN will look
//!   connections up there).
//! - The MP_CAPABLE requests a listener answered: a SYN carried MP_CAPABLE,
//!   the SYN/ACK carries our key, the ACK that completes the handshake (or
//!   the first data) echoes it. TCP keeps the request, not us, so we
//!   remember the key for it here, by connection 4-tuple and the client's
//!   initial sequence number, until the child socket exists or the request
//!   is old enough to have died.

use crate::kernel_net::{
    global::{hz, jiffies, random_u64, Global},
    seqmap::RbSeqMap,
    sha256::Sha256,
    sync::{new_spinlock_bh, SpinLockBh},
};
use crate::mptcp_core::{
    crypto::{generate_key, token_and_idsn, LocalKey},
    store::SeqMap,
};
use kernel::prelude::*;

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

/// The tables.
#[pin_data]
pub(crate) struct KeyTables {
    #[pin]
    tokens: SpinLockBh<RbSeqMap<()>>,
    /// Keyed by [`RequestId::key`].
    #[pin]
    pending: SpinLockBh<RbSeqMap<Pending>>,
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
                .is_some_and(|(k, ())| k == u64::from(token))
            {
                return false;
            }
            tokens.insert(u64::from(token), ()).is_ok()
        },
        16,
    )
    .ok_or(ENOMEM)
}

/// Gives a token back (its connection is done).
pub(crate) fn release_token(token: u32) {
    if let Some(tables) = TABLES.get() {
        tables.tokens.lock().remove(u64::from(token));
    }
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
        forget_old(&mut pending, now);
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

/// Drops requests older than their lifetime, giving their tokens back.
fn forget_old(pending: &mut RbSeqMap<Pending>, now: u64) {
    let max_age = PENDING_LIFETIME_SECS * hz();
    let mut from = 0u64;
    while let Some((key, p)) = pending.ceil(from) {
        let (old, token) = (now.wrapping_sub(p.since) > max_age, p.local.token);
        if old {
            pending.remove(key);
            release_token(token);
        }
        match key.checked_add(1) {
            Some(next) => from = next,
            None => break,
        }
    }
}
