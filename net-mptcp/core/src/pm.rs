// SPDX-License-Identifier: GPL-2.0

//! The in-kernel path manager's decisions for one connection, sans I/O:
//! which subflows to open, which of our addresses to announce (ADD_ADDR),
//! what to close when an address goes (REMOVE_ADDR, an endpoint deleted),
//! and when to try a failed path again.
//!
//! The configuration is the one `ip mptcp` sets (Linux 6.12's
//! `include/uapi/linux/mptcp_pm.h`, per network namespace):
//! - endpoints, each an address of ours with an id and flags:
//!   [`SIGNAL`] (announce it to the peer), [`SUBFLOW`] (open a subflow from
//!   it to the peer once the connection is established), [`BACKUP`] (those
//!   subflows are backups), [`FULLMESH`] (a subflow from it to every address
//!   the peer has, announced ones included);
//! - limits: `subflows`, the additional subflows a connection may have, and
//!   `add_addr_accepted`, how many of the peer's ADD_ADDRs it acts on;
//! - and, by our sysctl, the "ndiffports" mode of the seeds' datacenter
//!   use: N subflows over the initial pair of addresses (other source
//!   ports), no endpoints needed.
//!
//! The caller tells it what happens ([`PathManager::established`],
//! [`PathManager::add_addr_received`], [`PathManager::rm_addr_received`],
//! [`PathManager::subflow_closed`], [`PathManager::endpoint_removed`],
//! [`PathManager::handle_timeout`]) and carries out what
//! [`PathManager::poll_action`] returns. Nothing allocates: the tables are
//! fixed arrays as large as a connection's subflow table.

use super::conn::MAX_SUBFLOWS;

/// Endpoint flag: announce the address to the peer (ADD_ADDR).
pub const SIGNAL: u8 = 1 << 0;
/// Endpoint flag: open a subflow from it once the connection is up.
pub const SUBFLOW: u8 = 1 << 1;
/// Endpoint flag: its subflows are backups.
pub const BACKUP: u8 = 1 << 2;
/// Endpoint flag: a subflow from it to every address of the peer.
pub const FULLMESH: u8 = 1 << 3;

/// The first retry of a failed subflow waits this long (µs); each failure
/// in a row doubles it, up to [`RETRY_MAX_US`].
pub const RETRY_MIN_US: u64 = 1_000_000;
/// See [`RETRY_MIN_US`].
pub const RETRY_MAX_US: u64 = 60_000_000;
/// Announcements put aside for the `add_addr_accepted` limit, at most.
const DEFERRED: usize = 4;

/// An address and port (port 0: the connection's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Addr {
    /// IPv4 address, network order.
    pub ip: [u8; 4],
    /// Port, or 0.
    pub port: u16,
}

/// One of our addresses, as `ip mptcp endpoint add` configures it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// Its address id (1 to 255; 0 names the initial subflow's address).
    pub id: u8,
    /// The address.
    pub addr: Addr,
    /// [`SIGNAL`], [`SUBFLOW`], [`BACKUP`], [`FULLMESH`].
    pub flags: u8,
}

impl Endpoint {
    fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
}

/// The limits `ip mptcp limits set` configures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Additional subflows per connection (at most 7: the table holds 8).
    pub subflows: u8,
    /// ADD_ADDRs from the peer acted on per connection.
    pub add_addr_accepted: u8,
}

/// How subflows are chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PmMode {
    /// From the endpoints and the peer's addresses, as Linux's in-kernel
    /// path manager.
    Endpoints,
    /// This many subflows in all over the initial pair of addresses (the
    /// seeds' "ndiffports"), within the `subflows` limit.
    NDiffPorts(u8),
}

/// What the caller does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PmAction {
    /// Open a subflow (MP_JOIN) from our address `local_id` (0: the one
    /// routing picks, with `local` `None`) to the peer's address
    /// `remote_id`, a backup if `backup`.
    OpenSubflow {
        /// Our address id.
        local_id: u8,
        /// Our address, unless routing picks it.
        local: Option<Addr>,
        /// The peer's address id.
        remote_id: u8,
        /// The peer's address.
        remote: Addr,
        /// MP_JOIN with "B".
        backup: bool,
    },
    /// Announce our address `id` (ADD_ADDR, until the peer echoes it).
    Announce {
        /// Its id.
        id: u8,
        /// The address.
        addr: Addr,
    },
    /// Tell the peer our address `id` is gone (REMOVE_ADDR).
    Remove {
        /// Its id.
        id: u8,
    },
    /// Close the subflows from our address `local_id` (if `Some`) or to
    /// the peer's address `remote_id` (if `Some`).
    CloseSubflows {
        /// Ours.
        local_id: Option<u8>,
        /// The peer's.
        remote_id: Option<u8>,
    },
}

/// A subflow the path manager opened, and where it stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Planned {
    local_id: u8,
    local: Option<Addr>,
    remote_id: u8,
    remote: Addr,
    backup: bool,
    /// `None` while open (or opening); when it failed, the time of the next
    /// try.
    retry_at: Option<u64>,
    /// Failures in a row.
    failures: u32,
    /// It was established once.
    ever_up: bool,
}

impl Planned {
    /// A subflow from the address routing picks to the peer's address
    /// `remote_id`.
    fn routed(remote_id: u8, remote: Addr) -> Self {
        Self {
            local_id: 0,
            local: None,
            remote_id,
            remote,
            backup: false,
            retry_at: None,
            failures: 0,
            ever_up: false,
        }
    }

    /// The action that opens it.
    fn open(&self) -> PmAction {
        PmAction::OpenSubflow {
            local_id: self.local_id,
            local: self.local,
            remote_id: self.remote_id,
            remote: self.remote,
            backup: self.backup,
        }
    }
}

/// The path manager of one connection.
pub struct PathManager {
    limits: Limits,
    mode: PmMode,
    /// The peer's address of the initial subflow (its id 0).
    peer: Addr,
    /// The peer's addresses announced and accepted: (id, address).
    remote: [Option<(u8, Addr)>; MAX_SUBFLOWS],
    /// Announcements put aside for the `add_addr_accepted` limit, oldest
    /// first: one goes in the place of an accepted address that no subflow
    /// could even be tried to ([`PathManager::subflow_unreachable`]).
    deferred: [Option<(u8, Addr)>; DEFERRED],
    /// The subflows it opened (besides the initial one).
    planned: [Option<Planned>; MAX_SUBFLOWS],
    /// Our addresses announced (a bit per id).
    announced: [u64; 4],
    actions: [Option<PmAction>; 16],
    actions_len: usize,
    up: bool,
    /// The peer takes no additional subflow to its initial address and
    /// port (its MP_CAPABLE's "C").
    initial_denied: bool,
}

fn bit(set: &[u64; 4], id: u8) -> bool {
    set[usize::from(id / 64)] & (1 << (id % 64)) != 0
}

/// Empties the slots of `slots` that hold address `id`.
fn forget_id(slots: &mut [Option<(u8, Addr)>], id: u8) {
    for slot in slots.iter_mut().filter(|s| s.is_some_and(|(i, _)| i == id)) {
        *slot = None;
    }
}

fn set_bit(set: &mut [u64; 4], id: u8, on: bool) {
    let word = &mut set[usize::from(id / 64)];
    if on {
        *word |= 1 << (id % 64);
    } else {
        *word &= !(1 << (id % 64));
    }
}

impl PathManager {
    /// The path manager of a connection whose initial subflow goes to the
    /// peer's address `peer`.
    pub fn new(limits: Limits, mode: PmMode, peer: Addr) -> Self {
        Self {
            limits: Limits {
                subflows: limits.subflows.min(MAX_SUBFLOWS as u8 - 1),
                add_addr_accepted: limits.add_addr_accepted.min(MAX_SUBFLOWS as u8),
            },
            mode,
            peer,
            remote: [None; MAX_SUBFLOWS],
            deferred: [None; DEFERRED],
            planned: [None; MAX_SUBFLOWS],
            announced: [0; 4],
            actions: [None; 16],
            actions_len: 0,
            up: false,
            initial_denied: false,
        }
    }

    /// The peer's MP_CAPABLE had "C" (before [`PathManager::established`]):
    /// no subflow goes to its initial address and port. The [`SUBFLOW`]
    /// endpoints then go to the first address it announces instead, even
    /// beyond `add_addr_accepted` (within `subflows`), as Linux's path
    /// manager does.
    pub fn deny_join_to_initial(&mut self) {
        self.initial_denied = true;
    }

    /// What the caller must do next, in order.
    pub fn poll_action(&mut self) -> Option<PmAction> {
        if self.actions_len == 0 {
            return None;
        }
        let first = self.actions[0].take();
        self.actions.rotate_left(1);
        self.actions_len -= 1;
        first
    }

    fn push(&mut self, action: PmAction) {
        if self.actions_len < self.actions.len() {
            self.actions[self.actions_len] = Some(action);
            self.actions_len += 1;
        }
    }

    /// Subflows planned (open, opening, or waiting to be tried again).
    pub fn planned_subflows(&self) -> usize {
        self.planned.iter().flatten().count()
    }

    /// Plans a subflow, if the limit and the table allow it and no subflow
    /// between the same two addresses is planned (in ndiffports mode the
    /// same pair is meant to be used again).
    fn plan(&mut self, p: Planned, same_pair_ok: bool) -> bool {
        if self.planned_subflows() >= usize::from(self.limits.subflows) {
            return false;
        }
        let dup = self.planned.iter().flatten().any(|q| {
            q.local_id == p.local_id && q.remote_id == p.remote_id && q.remote == p.remote
        });
        if dup && !same_pair_ok {
            return false;
        }
        let Some(slot) = self.planned.iter_mut().find(|s| s.is_none()) else {
            return false;
        };
        *slot = Some(p);
        self.push(p.open());
        true
    }

    /// The peer's known addresses: its initial one (id 0) unless it denied
    /// joins to it, then the ones it announced.
    fn peer_addrs(&self) -> impl Iterator<Item = (u8, Addr)> + '_ {
        let initial = (!self.initial_denied).then_some((0, self.peer));
        initial
            .into_iter()
            .chain(self.remote.iter().flatten().copied())
    }

    /// MPTCP is established on the initial subflow: announce the
    /// [`SIGNAL`] endpoints, open subflows from the [`SUBFLOW`] ones (to
    /// every known address of the peer for [`FULLMESH`] ones), or the
    /// ndiffports subflows.
    pub fn established(&mut self, endpoints: &[Endpoint]) {
        if self.up {
            return;
        }
        self.up = true;
        if let PmMode::NDiffPorts(n) = self.mode {
            for _ in 1..n {
                if !self.plan(Planned::routed(0, self.peer), true) {
                    break;
                }
            }
            return;
        }
        for ep in endpoints {
            self.announce(ep);
        }
        for ep in endpoints {
            self.open_from(ep);
        }
    }

    /// Announces a [`SIGNAL`] endpoint, once.
    fn announce(&mut self, ep: &Endpoint) {
        if ep.has(SIGNAL) && !bit(&self.announced, ep.id) {
            set_bit(&mut self.announced, ep.id, true);
            self.push(PmAction::Announce {
                id: ep.id,
                addr: ep.addr,
            });
        }
    }

    /// Opens the subflows of a [`SUBFLOW`] endpoint: a plain one to the
    /// peer's initial address, a [`FULLMESH`] one to each address known.
    fn open_from(&mut self, ep: &Endpoint) {
        if !ep.has(SUBFLOW) {
            return;
        }
        // The peer's addresses known now (a copy: planning changes `self`).
        let mut peers = [None; MAX_SUBFLOWS + 1];
        for (slot, a) in peers.iter_mut().zip(self.peer_addrs()) {
            *slot = Some(a);
        }
        let n = if ep.has(FULLMESH) { peers.len() } else { 1 };
        for (remote_id, remote) in peers.iter().take(n).flatten().copied() {
            self.plan(Self::from_endpoint(ep, remote_id, remote), false);
        }
    }

    /// Our endpoint `ep` was added while the connection is up (`ip mptcp
    /// endpoint add`): it is used as an endpoint known at establishment
    /// would have been (announced, subflows opened from it), as Linux's
    /// path manager applies a new endpoint to the connections of its
    /// namespace.
    pub fn endpoint_added(&mut self, ep: &Endpoint) {
        if !self.up || matches!(self.mode, PmMode::NDiffPorts(_)) {
            return;
        }
        self.announce(ep);
        self.open_from(ep);
    }

    fn from_endpoint(ep: &Endpoint, remote_id: u8, remote: Addr) -> Planned {
        Planned {
            local_id: ep.id,
            local: Some(ep.addr),
            remote_id,
            remote,
            backup: ep.has(BACKUP),
            retry_at: None,
            failures: 0,
            ever_up: false,
        }
    }

    /// The peer announced its address `addr` as `id` (ADD_ADDR with a
    /// valid HMAC; the caller echoes it in any case). Within
    /// `add_addr_accepted`, it is remembered and subflows go to it: one
    /// from each [`FULLMESH`] endpoint, or else one from the address
    /// routing picks. Returns whether it was accepted.
    pub fn add_addr_received(&mut self, id: u8, addr: Addr, endpoints: &[Endpoint]) -> bool {
        if matches!(self.mode, PmMode::NDiffPorts(_)) {
            return false;
        }
        if let Some(known) = self.remote.iter_mut().flatten().find(|(i, _)| *i == id) {
            // Announced again (our echo was lost, or it moved): the latest
            // address counts, nothing new is opened.
            known.1 = addr;
            return true;
        }
        let accepted = self.remote.iter().flatten().count();
        // With the initial address denied, the subflow endpoints that had
        // nowhere to go take this address.
        let idle = |pm: &Self, ep: &Endpoint| {
            ep.has(SUBFLOW)
                && !ep.has(FULLMESH)
                && !pm.planned.iter().flatten().any(|p| p.local_id == ep.id)
        };
        let late = self.initial_denied
            && self.planned_subflows() < usize::from(self.limits.subflows)
            && endpoints.iter().any(|ep| idle(self, ep));
        if accepted >= usize::from(self.limits.add_addr_accepted) && !late {
            self.defer(id, addr);
            return false;
        }
        let Some(slot) = self.remote.iter_mut().find(|s| s.is_none()) else {
            return false;
        };
        *slot = Some((id, addr));
        forget_id(&mut self.deferred, id);
        let mut from_endpoints = false;
        for ep in endpoints.iter() {
            let fullmesh = ep.has(SUBFLOW) && ep.has(FULLMESH);
            if fullmesh || (self.initial_denied && idle(self, ep)) {
                from_endpoints = true;
                self.plan(Self::from_endpoint(ep, id, addr), false);
            }
        }
        if !from_endpoints {
            self.plan(Planned::routed(id, addr), false);
        }
        true
    }

    /// The peer removed its address `id` (REMOVE_ADDR): its subflows close
    /// and are not tried again.
    pub fn rm_addr_received(&mut self, id: u8) {
        let known = self.remote.iter().flatten().any(|(i, _)| *i == id);
        forget_id(&mut self.remote, id);
        forget_id(&mut self.deferred, id);
        let planned = self.forget(|p| p.remote_id == id);
        if known || planned || id == 0 {
            self.push(PmAction::CloseSubflows {
                local_id: None,
                remote_id: Some(id),
            });
        }
    }

    /// Our endpoint `id` was deleted: its subflows close and are not tried
    /// again, and the peer hears of it (REMOVE_ADDR) if it was announced or
    /// subflows went from it (their MP_JOIN told the peer its id): so that
    /// the peer closes its side of them and forgets the address (RFC 8684,
    /// 3.4.2), as Linux's path manager does. The subflows of an announced
    /// address are those the peer joined to it: they close too. When all
    /// endpoints are `flushed` at once, only announced addresses are
    /// removed by REMOVE_ADDR (the subflows just close), as on Linux.
    pub fn endpoint_removed(&mut self, id: u8, flushed: bool) {
        let announced = bit(&self.announced, id);
        set_bit(&mut self.announced, id, false);
        let used = self.forget(|p| p.local_id == id);
        if announced || (used && !flushed) {
            self.push(PmAction::Remove { id });
        }
        if announced || used {
            self.push(PmAction::CloseSubflows {
                local_id: Some(id),
                remote_id: None,
            });
        }
    }

    fn forget(&mut self, which: impl Fn(&Planned) -> bool) -> bool {
        let mut any = false;
        for slot in self.planned.iter_mut() {
            if slot.as_ref().is_some_and(&which) {
                *slot = None;
                any = true;
            }
        }
        any
    }

    /// A subflow it planned, from `local_id` to `remote_id`, ended at
    /// `now_us`: if it `failed` (reset, timed out, could not connect) it
    /// is tried again after a backoff; if it closed normally it is
    /// forgotten.
    pub fn subflow_closed(&mut self, local_id: u8, remote_id: u8, failed: bool, now_us: u64) {
        let Some(slot) = self.planned.iter_mut().find(|s| {
            s.as_ref().is_some_and(|p| {
                p.local_id == local_id && p.remote_id == remote_id && p.retry_at.is_none()
            })
        }) else {
            return;
        };
        if !failed {
            *slot = None;
            return;
        }
        if let Some(p) = slot.as_mut() {
            let wait = RETRY_MIN_US
                .saturating_mul(1 << p.failures.min(6))
                .min(RETRY_MAX_US);
            p.failures = p.failures.saturating_add(1);
            p.retry_at = Some(now_us.saturating_add(wait));
        }
    }

    /// A subflow it planned from `local_id` to `remote_id` is established:
    /// its failures are forgotten.
    pub fn subflow_up(&mut self, local_id: u8, remote_id: u8) {
        for p in self.planned.iter_mut().flatten() {
            if p.local_id == local_id && p.remote_id == remote_id && p.retry_at.is_none() {
                p.failures = 0;
                p.ever_up = true;
            }
        }
    }

    /// A subflow it planned, from `local_id` to `remote_id`, could not even
    /// be tried at `now_us`: its connect failed before a SYN went (no route,
    /// an address TCP cannot reach, such as a multicast one). If it was the
    /// first try of the only subflow to an address the peer announced, that
    /// address is given up and does not count as accepted, as on Linux
    /// (whose path manager counts an announcement only once a subflow to it
    /// was started): the oldest announcement put aside for the
    /// `add_addr_accepted` limit is taken in its place (`endpoints`: ours).
    /// Anything else is a failure as [`PathManager::subflow_closed`] says:
    /// tried again later (a path that worked may come back).
    pub fn subflow_unreachable(
        &mut self,
        local_id: u8,
        remote_id: u8,
        endpoints: &[Endpoint],
        now_us: u64,
    ) {
        let first_try = self.planned.iter().flatten().any(|p| {
            p.local_id == local_id
                && p.remote_id == remote_id
                && p.retry_at.is_none()
                && p.failures == 0
                && !p.ever_up
        });
        let only = self
            .planned
            .iter()
            .flatten()
            .filter(|p| p.remote_id == remote_id)
            .count()
            == 1;
        let announced =
            remote_id != 0 && self.remote.iter().flatten().any(|(i, _)| *i == remote_id);
        if !(first_try && only && announced) {
            self.subflow_closed(local_id, remote_id, true, now_us);
            return;
        }
        self.forget(|p| p.remote_id == remote_id);
        forget_id(&mut self.remote, remote_id);
        if let Some((id, addr)) = self.deferred.iter_mut().find_map(Option::take) {
            self.add_addr_received(id, addr, endpoints);
        }
    }

    /// Puts the announcement of `addr` as `id` aside, after the others
    /// (the latest address of an id counts); when no room is left, the
    /// oldest goes.
    fn defer(&mut self, id: u8, addr: Addr) {
        if let Some(known) = self.deferred.iter_mut().flatten().find(|(i, _)| *i == id) {
            known.1 = addr;
            return;
        }
        // Oldest first, without the holes removals left.
        let mut n = 0;
        for i in 0..DEFERRED {
            if let Some(entry) = self.deferred[i].take() {
                self.deferred[n] = Some(entry);
                n += 1;
            }
        }
        if n == DEFERRED {
            self.deferred.rotate_left(1);
            n -= 1;
        }
        self.deferred[n] = Some((id, addr));
    }

    /// When [`PathManager::handle_timeout`] must run next.
    pub fn poll_timeout(&self) -> Option<u64> {
        self.planned
            .iter()
            .flatten()
            .filter_map(|p| p.retry_at)
            .min()
    }

    /// Failed subflows whose wait is over are opened again.
    pub fn handle_timeout(&mut self, now_us: u64) {
        for i in 0..self.planned.len() {
            let Some(p) = self.planned[i].as_mut() else {
                continue;
            };
            if p.retry_at.is_some_and(|t| t <= now_us) {
                p.retry_at = None;
                let open = p.open();
                self.push(open);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    const PEER: Addr = Addr {
        ip: [10, 0, 2, 1],
        port: 0,
    };

    fn addr(last: u8) -> Addr {
        Addr {
            ip: [10, 0, last, 2],
            port: 0,
        }
    }

    fn ep(id: u8, flags: u8) -> Endpoint {
        Endpoint {
            id,
            addr: addr(id),
            flags,
        }
    }

    fn limits(subflows: u8, add_addr_accepted: u8) -> Limits {
        Limits {
            subflows,
            add_addr_accepted,
        }
    }

    fn actions(pm: &mut PathManager) -> Vec<PmAction> {
        core::iter::from_fn(|| pm.poll_action()).collect()
    }

    fn open(local_id: u8, remote_id: u8, remote: Addr, backup: bool) -> PmAction {
        PmAction::OpenSubflow {
            local_id,
            local: (local_id != 0).then(|| addr(local_id)),
            remote_id,
            remote,
            backup,
        }
    }

    #[test]
    fn an_endpoint_added_while_the_connection_is_up_is_used_at_once() {
        let mut pm = PathManager::new(limits(2, 0), PmMode::Endpoints, PEER);
        // Not before establishment: `established` takes the whole list.
        pm.endpoint_added(&ep(1, SUBFLOW));
        assert_eq!(actions(&mut pm), []);
        pm.established(&[]);
        pm.endpoint_added(&ep(1, SUBFLOW | BACKUP));
        pm.endpoint_added(&ep(2, SIGNAL));
        assert_eq!(
            actions(&mut pm),
            [
                open(1, 0, PEER, true),
                PmAction::Announce {
                    id: 2,
                    addr: addr(2)
                }
            ]
        );
        // Within the limit (2): one more, then no more.
        pm.endpoint_added(&ep(3, SUBFLOW));
        pm.endpoint_added(&ep(4, SUBFLOW));
        assert_eq!(actions(&mut pm), [open(3, 0, PEER, false)]);
    }

    #[test]
    fn a_peer_that_denies_its_initial_address_gets_subflows_to_the_one_it_announces() {
        let other = Addr {
            ip: [10, 0, 9, 1],
            port: 0,
        };
        // Linux's mptcp_join.sh "default limits, server deny join id 0":
        // add_addr_accepted 0, two subflow endpoints: nothing goes to the
        // initial address; both go to the announced one.
        let mut pm = PathManager::new(limits(2, 0), PmMode::Endpoints, PEER);
        pm.deny_join_to_initial();
        let eps = [ep(3, SUBFLOW), ep(4, SUBFLOW)];
        pm.established(&eps);
        assert_eq!(actions(&mut pm), []);
        assert!(pm.add_addr_received(1, other, &eps));
        assert_eq!(
            actions(&mut pm),
            [open(3, 1, other, false), open(4, 1, other, false)]
        );
        // A second address finds the endpoints used and the limit of
        // accepted addresses reached.
        assert!(!pm.add_addr_received(2, addr(7), &eps));
        assert_eq!(actions(&mut pm), []);

        // "subflow and address allow join id0 2": one endpoint takes the
        // announced address, routing opens nothing more.
        let mut pm = PathManager::new(limits(2, 2), PmMode::Endpoints, PEER);
        pm.deny_join_to_initial();
        let eps = [ep(3, SUBFLOW)];
        pm.established(&eps);
        assert!(pm.add_addr_received(1, other, &eps));
        assert_eq!(actions(&mut pm), [open(3, 1, other, false)]);

        // Without endpoints, an announced address is used as always (within
        // add_addr_accepted); without "C", endpoints go to the initial one.
        let mut pm = PathManager::new(limits(1, 1), PmMode::Endpoints, PEER);
        pm.deny_join_to_initial();
        pm.established(&[]);
        assert!(pm.add_addr_received(1, other, &[]));
        assert_eq!(
            actions(&mut pm),
            [PmAction::OpenSubflow {
                local_id: 0,
                local: None,
                remote_id: 1,
                remote: other,
                backup: false,
            }]
        );
        let mut pm = PathManager::new(limits(2, 0), PmMode::Endpoints, PEER);
        pm.established(&[ep(3, SUBFLOW)]);
        assert_eq!(actions(&mut pm), [open(3, 0, PEER, false)]);
    }

    #[test]
    fn subflow_endpoints_open_subflows_within_the_limit_and_signal_ones_are_announced() {
        let mut pm = PathManager::new(limits(2, 0), PmMode::Endpoints, PEER);
        let eps = [
            ep(1, SUBFLOW),
            ep(2, SUBFLOW | BACKUP),
            ep(3, SUBFLOW),
            ep(4, SIGNAL),
        ];
        pm.established(&eps);
        assert_eq!(
            actions(&mut pm),
            [
                PmAction::Announce {
                    id: 4,
                    addr: addr(4)
                },
                open(1, 0, PEER, false),
                open(2, 0, PEER, true),
            ]
        );
        // Once only.
        pm.established(&eps);
        assert!(actions(&mut pm).is_empty());
        assert_eq!(pm.planned_subflows(), 2);
    }

    #[test]
    fn fullmesh_endpoints_reach_every_address_of_the_peer() {
        let mut pm = PathManager::new(limits(4, 1), PmMode::Endpoints, PEER);
        let eps = [ep(1, SUBFLOW | FULLMESH), ep(2, SUBFLOW | FULLMESH)];
        pm.established(&eps);
        assert_eq!(
            actions(&mut pm),
            [open(1, 0, PEER, false), open(2, 0, PEER, false)]
        );
        let other = Addr {
            ip: [10, 0, 9, 1],
            port: 0,
        };
        assert!(pm.add_addr_received(5, other, &eps));
        assert_eq!(
            actions(&mut pm),
            [open(1, 5, other, false), open(2, 5, other, false)]
        );
        // add_addr_accepted is 1: the next announcement is not acted on.
        assert!(!pm.add_addr_received(6, addr(6), &eps));
        assert!(actions(&mut pm).is_empty());
        // The same one again (a lost echo) is no new address.
        assert!(pm.add_addr_received(5, other, &eps));
        assert!(actions(&mut pm).is_empty());
        assert_eq!(pm.planned_subflows(), 4);
    }

    #[test]
    fn without_fullmesh_an_announced_address_gets_one_subflow_from_routing_s_choice() {
        let mut pm = PathManager::new(limits(2, 3), PmMode::Endpoints, PEER);
        pm.established(&[]);
        assert!(actions(&mut pm).is_empty());
        assert!(pm.add_addr_received(3, addr(30), &[ep(1, SIGNAL)]));
        assert_eq!(actions(&mut pm), [open(0, 3, addr(30), false)]);
        // The subflows limit holds whatever was accepted.
        assert!(pm.add_addr_received(4, addr(40), &[]));
        assert!(pm.add_addr_received(5, addr(50), &[]));
        assert_eq!(actions(&mut pm), [open(0, 4, addr(40), false)]);
        assert_eq!(pm.planned_subflows(), 2);
        // And add_addr_accepted what is accepted.
        assert!(!pm.add_addr_received(6, addr(60), &[]));
    }

    #[test]
    fn an_address_no_subflow_could_be_tried_to_gives_its_place_to_one_put_aside() {
        // add_addr_accepted 2 (mptcp_join.sh "remove invalid addresses"):
        // the peer announces an address that is never answered, one TCP
        // cannot connect to (multicast), and a good one.
        let mut pm = PathManager::new(limits(2, 2), PmMode::Endpoints, PEER);
        pm.established(&[]);
        assert!(pm.add_addr_received(1, addr(12), &[]));
        assert!(pm.add_addr_received(2, addr(224), &[]));
        assert!(!pm.add_addr_received(3, addr(3), &[]));
        assert_eq!(
            actions(&mut pm),
            [open(0, 1, addr(12), false), open(0, 2, addr(224), false)]
        );
        // The connect to the second fails before any SYN: that address
        // gives its place to the one put aside, and is not tried again.
        pm.subflow_unreachable(0, 2, &[], 1_000);
        assert_eq!(actions(&mut pm), [open(0, 3, addr(3), false)]);
        assert_eq!(pm.poll_timeout(), None);
        assert_eq!(pm.planned_subflows(), 2);
        // A subflow that was up once and cannot be tried now (its path is
        // down) is tried again later, its address kept.
        pm.subflow_up(0, 3);
        pm.subflow_closed(0, 3, true, 2_000);
        pm.handle_timeout(2_000 + RETRY_MIN_US);
        assert_eq!(actions(&mut pm), [open(0, 3, addr(3), false)]);
        pm.subflow_unreachable(0, 3, &[], 3_000_000);
        assert!(pm.poll_timeout().is_some());
        assert_eq!(pm.planned_subflows(), 2);
        // An announcement put aside and then removed is not taken later.
        assert!(!pm.add_addr_received(4, addr(4), &[]));
        pm.rm_addr_received(4);
        pm.subflow_unreachable(0, 1, &[], 4_000_000);
        assert!(actions(&mut pm).is_empty());
        assert_eq!(pm.planned_subflows(), 1);
    }

    #[test]
    fn removed_addresses_close_their_subflows_for_good() {
        let mut pm = PathManager::new(limits(3, 2), PmMode::Endpoints, PEER);
        let eps = [ep(1, SUBFLOW), ep(2, SIGNAL)];
        pm.established(&eps);
        assert!(pm.add_addr_received(7, addr(70), &eps));
        let _ = actions(&mut pm);
        assert_eq!(pm.planned_subflows(), 2);
        pm.rm_addr_received(7);
        assert_eq!(
            actions(&mut pm),
            [PmAction::CloseSubflows {
                local_id: None,
                remote_id: Some(7)
            }]
        );
        assert_eq!(pm.planned_subflows(), 1);
        // A failure reported for it now starts no retry.
        pm.subflow_closed(0, 7, true, 0);
        assert_eq!(pm.poll_timeout(), None);
        // Our endpoints: the announced one is withdrawn and the subflows the
        // peer joined to it close; the subflow one's subflows close; the
        // peer hears of both.
        pm.endpoint_removed(2, false);
        pm.endpoint_removed(1, false);
        assert_eq!(
            actions(&mut pm),
            [
                PmAction::Remove { id: 2 },
                PmAction::CloseSubflows {
                    local_id: Some(2),
                    remote_id: None
                },
                PmAction::Remove { id: 1 },
                PmAction::CloseSubflows {
                    local_id: Some(1),
                    remote_id: None
                }
            ]
        );
        assert_eq!(pm.planned_subflows(), 0);
        // One neither announced nor used: nothing to tell.
        pm.endpoint_removed(3, false);
        assert!(actions(&mut pm).is_empty());
    }

    #[test]
    fn a_flush_removes_by_remove_addr_only_what_was_announced() {
        let mut pm = PathManager::new(limits(3, 2), PmMode::Endpoints, PEER);
        let eps = [ep(1, SUBFLOW), ep(2, SIGNAL)];
        pm.established(&eps);
        let _ = actions(&mut pm);
        pm.endpoint_removed(1, true);
        pm.endpoint_removed(2, true);
        assert_eq!(
            actions(&mut pm),
            [
                PmAction::CloseSubflows {
                    local_id: Some(1),
                    remote_id: None
                },
                PmAction::Remove { id: 2 },
                PmAction::CloseSubflows {
                    local_id: Some(2),
                    remote_id: None
                },
            ]
        );
    }

    #[test]
    fn a_failed_subflow_is_tried_again_with_backoff() {
        let mut pm = PathManager::new(limits(1, 0), PmMode::Endpoints, PEER);
        pm.established(&[ep(1, SUBFLOW)]);
        let _ = actions(&mut pm);
        pm.subflow_closed(1, 0, true, 5_000_000);
        assert_eq!(pm.poll_timeout(), Some(6_000_000));
        pm.handle_timeout(5_999_999);
        assert!(actions(&mut pm).is_empty());
        pm.handle_timeout(6_000_000);
        assert_eq!(actions(&mut pm), [open(1, 0, PEER, false)]);
        // Failing again waits twice as long; once up, the count restarts.
        pm.subflow_closed(1, 0, true, 7_000_000);
        assert_eq!(pm.poll_timeout(), Some(9_000_000));
        pm.handle_timeout(9_000_000);
        let _ = actions(&mut pm);
        pm.subflow_up(1, 0);
        pm.subflow_closed(1, 0, true, 10_000_000);
        assert_eq!(pm.poll_timeout(), Some(11_000_000));
        pm.handle_timeout(11_000_000);
        let _ = actions(&mut pm);
        // Closed normally: forgotten, the slot is free.
        pm.subflow_closed(1, 0, false, 12_000_000);
        assert_eq!(pm.planned_subflows(), 0);
        assert_eq!(pm.poll_timeout(), None);
    }

    #[test]
    fn ndiffports_opens_subflows_over_the_initial_pair() {
        for (limit, n, want) in [(7, 4, 3), (2, 4, 2), (7, 1, 0)] {
            let mut pm = PathManager::new(limits(limit, 8), PmMode::NDiffPorts(n), PEER);
            pm.established(&[ep(1, SUBFLOW)]);
            let got = actions(&mut pm);
            assert_eq!(got.len(), want, "limit {limit}, ndiffports {n}");
            assert!(got.iter().all(|a| *a == open(0, 0, PEER, false)));
            // Announcements do not change the pairs.
            assert!(!pm.add_addr_received(3, addr(3), &[]));
        }
    }
}
