// SPDX-License-Identifier: GPL-2.0

//! Address signalling (RFC 8684, sections 3.4 and 3.3.8): ADD_ADDR with its
//! HMAC and echo, REMOVE_ADDR, MP_PRIO, both ways.
//!
//! Out: the path manager asks [`Connection::announce_addr`],
//! [`Connection::remove_addr`], [`Connection::set_subflow_backup`]; each
//! signal rides on a pure ACK of a subflow (ADD_ADDR needs up to 18 octets
//! beside the DATA_ACK and timestamps, more than a data segment leaves):
//! the caller asks [`Connection::signal_for`] for a segment without data,
//! writes it if it fits beside the DSS, and reports it with
//! [`Connection::signal_sent`]; [`Connection::signals_pending`] says an ACK
//! is wanted for them. An ADD_ADDR goes again every `add_addr_timeout`
//! until the peer echoes it, [`ADD_ADDR_TRIES`] times at most (Linux's
//! `net.mptcp.add_addr_timeout`, 120 s by default). A REMOVE_ADDR and an
//! MP_PRIO go once (the RFC asks no acknowledgement of them).
//!
//! In: on a segment TCP accepts, an ADD_ADDR whose HMAC proves the peer
//! has the keys is echoed and reported ([`Event::AddrAnnounced`]); one with
//! a wrong HMAC is dropped and counted; an echo ends our retransmissions.
//! A REMOVE_ADDR reports each id ([`Event::AddrRemoved`]); an MP_PRIO sets
//! the peer's backup wish for the subflow it came on.

use super::super::crypto::{add_addr_hmac, hmac_eq, Sha256};
use super::super::option::{AddAddr, MpPrio, MptcpOption, Received, RemoveAddr};
use super::{flags, Connection, Counter, Event, Platform, SegmentOut, SubflowId, MAX_SUBFLOWS};
use core::net::IpAddr;

/// How many times an ADD_ADDR goes without an echo before we give up.
pub const ADD_ADDR_TRIES: u8 = 4;

/// The addresses we announce at once, awaiting echoes.
const ANNOUNCING: usize = 4;
/// The peer's announcements we owe an echo at once.
const ECHOES: usize = 4;

/// An ADD_ADDR of ours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Announce {
    id: u8,
    addr: IpAddr,
    port: Option<u16>,
    /// Times sent.
    tries: u8,
    /// When it goes again (µs) if not echoed; `None`: due now.
    again_at: Option<u64>,
}

/// Signals waiting for a pure ACK, and ours awaiting echoes.
#[derive(Debug)]
pub(super) struct Signals {
    announcing: [Option<Announce>; ANNOUNCING],
    echoes: [Option<AddAddr>; ECHOES],
    remove: [u8; RemoveAddr::CAPACITY],
    remove_len: usize,
    /// MP_PRIO due on a subflow: its "B".
    prio: [Option<bool>; MAX_SUBFLOWS],
    timeout_us: u64,
}

impl Signals {
    pub(super) const fn new() -> Self {
        Self {
            announcing: [None; ANNOUNCING],
            echoes: [None; ECHOES],
            remove: [0; RemoveAddr::CAPACITY],
            remove_len: 0,
            prio: [None; MAX_SUBFLOWS],
            timeout_us: 120_000_000,
        }
    }
}

/// Why a signal could not be queued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignalFull {
    /// As many as can wait are waiting.
    Busy,
}

/// The truncated HMAC of an ADD_ADDR of `addr` (and `port`) as `id`, sent
/// by the holder of `sender_key` to that of `receiver_key`.
fn add_addr_hmac_of<H: Sha256>(
    sender_key: u64,
    receiver_key: u64,
    id: u8,
    addr: &IpAddr,
    port: Option<u16>,
) -> u64 {
    match addr {
        IpAddr::V4(a) => add_addr_hmac::<H>(sender_key, receiver_key, id, &a.octets(), port),
        IpAddr::V6(a) => add_addr_hmac::<H>(sender_key, receiver_key, id, &a.octets(), port),
    }
}

impl<S: Platform> Connection<S> {
    /// How long an ADD_ADDR of ours waits for its echo before it goes
    /// again.
    pub fn set_add_addr_timeout(&mut self, timeout_us: u64) {
        self.signals.timeout_us = timeout_us.max(1);
    }

    /// Announces our address `addr` (and `port`) as `id`.
    pub fn announce_addr(
        &mut self,
        id: u8,
        addr: IpAddr,
        port: Option<u16>,
    ) -> Result<(), SignalFull> {
        let fresh = Announce {
            id,
            addr,
            port,
            tries: 0,
            again_at: None,
        };
        let slots = &mut self.signals.announcing;
        // Announced again (the address changed): from the start, in its slot.
        let slot = match slots.iter().position(|a| a.is_some_and(|a| a.id == id)) {
            Some(i) => &mut slots[i],
            None => slots
                .iter_mut()
                .find(|s| s.is_none())
                .ok_or(SignalFull::Busy)?,
        };
        *slot = Some(fresh);
        self.ack_wanted = true;
        Ok(())
    }

    /// Tells the peer our address `id` is gone; an announcement of it that
    /// awaits its echo ends.
    pub fn remove_addr(&mut self, id: u8) -> Result<(), SignalFull> {
        for slot in self.signals.announcing.iter_mut() {
            if slot.is_some_and(|a| a.id == id) {
                *slot = None;
            }
        }
        let s = &mut self.signals;
        if s.remove[..s.remove_len].contains(&id) {
            return Ok(());
        }
        if s.remove_len == s.remove.len() {
            return Err(SignalFull::Busy);
        }
        s.remove[s.remove_len] = id;
        s.remove_len += 1;
        self.ack_wanted = true;
        Ok(())
    }

    /// Asks the peer to treat subflow `id` as a backup, or no longer
    /// (MP_PRIO on it); our own scheduler follows at once.
    pub fn set_subflow_backup(&mut self, id: SubflowId, backup: bool) {
        if let Some(sf) = self.subflow(id) {
            sf.set_local_backup(backup);
            self.signals.prio[id as usize] = Some(backup);
            self.ack_wanted = true;
        }
    }

    /// Whether signals wait for a pure ACK.
    pub fn signals_pending(&self) -> bool {
        let s = &self.signals;
        s.echoes.iter().any(Option::is_some)
            || s.remove_len > 0
            || s.prio.iter().any(Option::is_some)
            || s.announcing.iter().flatten().any(|a| a.again_at.is_none())
    }

    /// The signal a segment of subflow `id` may carry beside its DSS: only
    /// a pure ACK (no data, SYN, FIN or RST) carries one. Nothing changes
    /// until [`Connection::signal_sent`].
    pub fn signal_for(&self, id: SubflowId, seg: &SegmentOut) -> Option<MptcpOption> {
        if seg.payload_len > 0 || seg.flags & (flags::SYN | flags::FIN | flags::RST) != 0 {
            return None;
        }
        let s = &self.signals;
        if let Some(echo) = s.echoes.iter().flatten().next() {
            return Some(MptcpOption::AddAddr(*echo));
        }
        if s.remove_len > 0 {
            return RemoveAddr::new(&s.remove[..s.remove_len]).map(MptcpOption::RemoveAddr);
        }
        if let Some(a) = s.announcing.iter().flatten().find(|a| a.again_at.is_none()) {
            let remote = self.remote?;
            let hmac =
                add_addr_hmac_of::<S::Sha256>(self.local.key, remote.key, a.id, &a.addr, a.port);
            return Some(MptcpOption::AddAddr(AddAddr {
                addr_id: a.id,
                addr: a.addr,
                port: a.port,
                truncated_hmac: Some(hmac),
            }));
        }
        let backup = s.prio.get(id as usize).copied().flatten()?;
        Some(MptcpOption::MpPrio(MpPrio { backup }))
    }

    /// `option`, from [`Connection::signal_for`], went on subflow `id` at
    /// `now_us`.
    pub fn signal_sent(&mut self, id: SubflowId, option: &MptcpOption, now_us: u64) {
        let timeout = self.signals.timeout_us;
        match option {
            MptcpOption::AddAddr(o) if o.echo() => {
                for slot in self.signals.echoes.iter_mut() {
                    if slot.as_ref() == Some(o) {
                        *slot = None;
                        break;
                    }
                }
                self.count(Counter::EchoAddTx);
            }
            MptcpOption::AddAddr(o) => {
                if let Some(a) = self
                    .signals
                    .announcing
                    .iter_mut()
                    .flatten()
                    .find(|a| a.id == o.addr_id)
                {
                    a.tries = a.tries.saturating_add(1);
                    a.again_at = Some(now_us.saturating_add(timeout));
                }
                self.count(Counter::AddAddrTx);
            }
            MptcpOption::RemoveAddr(o) => {
                let s = &mut self.signals;
                let mut kept = 0;
                for i in 0..s.remove_len {
                    if !o.ids().contains(&s.remove[i]) {
                        s.remove[kept] = s.remove[i];
                        kept += 1;
                    }
                }
                s.remove_len = kept;
                self.count(Counter::RmAddrTx);
            }
            MptcpOption::MpPrio(_) => {
                if let Some(slot) = self.signals.prio.get_mut(id as usize) {
                    *slot = None;
                }
                self.count(Counter::MPPrioTx);
            }
            _ => {}
        }
    }

    /// The earliest time an ADD_ADDR of ours goes again.
    pub(super) fn signal_deadline(&self) -> Option<u64> {
        self.signals
            .announcing
            .iter()
            .flatten()
            .filter_map(|a| a.again_at)
            .min()
    }

    /// ADD_ADDRs not echoed in time go again (an ACK is wanted), or are
    /// given up after [`ADD_ADDR_TRIES`].
    pub(super) fn signal_timeouts(&mut self, now_us: u64) {
        let mut again = false;
        for slot in self.signals.announcing.iter_mut() {
            let Some(a) = slot.as_mut() else { continue };
            if !a.again_at.is_some_and(|t| t <= now_us) {
                continue;
            }
            if a.tries >= ADD_ADDR_TRIES {
                *slot = None;
                continue;
            }
            a.again_at = None;
            again = true;
        }
        if again {
            self.ack_wanted = true;
        }
    }

    /// The signalling options of a segment TCP accepts on subflow `id`.
    pub(super) fn handle_signals(&mut self, id: SubflowId, options: &Received) {
        if let Some(add) = options.add_addr {
            self.handle_add_addr(&add);
        }
        if let Some(rm) = options.remove_addr {
            // Counted per address id, as Linux counts it.
            for &addr_id in rm.ids() {
                self.count(Counter::RmAddr);
                self.events.push(Event::AddrRemoved { id: addr_id });
            }
        }
        if let Some(prio) = options.mp_prio {
            self.count(Counter::MPPrioRx);
            if let Some(sf) = self.subflow(id) {
                sf.set_remote_backup(prio.backup);
            }
        }
    }

    fn handle_add_addr(&mut self, add: &AddAddr) {
        if add.echo() {
            // Counted even when nothing awaits it any more (the address
            // was withdrawn before the echo came), as Linux counts it.
            self.count(Counter::EchoAdd);
            for slot in self.signals.announcing.iter_mut() {
                if slot.is_some_and(|a| {
                    a.id == add.addr_id && a.addr == add.addr && a.port == add.port
                }) {
                    *slot = None;
                }
            }
            return;
        }
        let Some(remote) = self.remote else { return };
        let want = add_addr_hmac_of::<S::Sha256>(
            remote.key,
            self.local.key,
            add.addr_id,
            &add.addr,
            add.port,
        );
        let valid = add
            .truncated_hmac
            .is_some_and(|h| hmac_eq(&h.to_be_bytes(), &want.to_be_bytes()));
        if !valid {
            self.count(Counter::AddAddrDrop);
            return;
        }
        // Its HMAC is keyed with our key too: the peer has it, as a DSS
        // would show (RFC 8684, section 3.1). A client stops repeating the
        // keys on its ACKs, and the echo goes beside a DSS.
        self.confirm_keys();
        let echo = AddAddr {
            truncated_hmac: None,
            ..*add
        };
        let echoes = &mut self.signals.echoes;
        if !echoes.contains(&Some(echo)) {
            let Some(slot) = echoes.iter_mut().find(|s| s.is_none()) else {
                // No room to echo it: as if lost; the peer sends it again.
                self.count(Counter::AddAddrDrop);
                return;
            };
            *slot = Some(echo);
            // TCP owes no ACK for a pure ACK that carried it.
            self.ack_wanted = true;
        }
        self.count(Counter::AddAddr);
        self.events.push(Event::AddrAnnounced {
            id: add.addr_id,
            addr: add.addr,
            port: add.port,
        });
    }
}
