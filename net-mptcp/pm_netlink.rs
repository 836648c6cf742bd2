// SPDX-License-Identifier: GPL-2.0

//! The `mptcp_pm` generic netlink family, as Linux 6.12 defines it
//! (`include/uapi/linux/mptcp_pm.h`): the unmodified `ip mptcp endpoint
//! add|delete|show|flush|change` and `ip mptcp limits set|show` configure
//! the in-kernel path manager of each network namespace.
//!
//! What is kept is the configuration (endpoints with their ids, addresses,
//! flags and interfaces; the `subflows` and `add_addr_accepted` limits),
//! with Linux's defaults (2 and 0), bounds (8 endpoints, limits up to 8) and
//! errors (`EBUSY` for an id in use, `EEXIST` for an address, `ERANGE` for
//! a full table, `ENOENT` for an unknown one, each with its message). The
//! path manager's decisions are the core's (`mptcp_core::pm`). Not yet
//! supported: IPv6 endpoints (`EAFNOSUPPORT`), endpoints with a port
//! (`EOPNOTSUPP`: each needs a listener of its own), and the userspace path
//! manager's commands (announce, remove, subflow create/destroy) and events.

use crate::kernel_net::errno;
use crate::kernel_net::genetlink::{
    Attr, AttrType, Command, Dump, Family, FamilyRegistration, GenlFamily, Msg, Request,
};
use crate::keys;
use crate::mptcp_core::pm::{Addr, Endpoint, Limits, BACKUP, FULLMESH, SIGNAL, SUBFLOW};
use crate::pernet::MptcpNet;
use kernel::{c_str, prelude::*, str::CStr};

/// Commands (`MPTCP_PM_CMD_*`).
mod cmd {
    pub(super) const ADD_ADDR: u8 = 1;
    pub(super) const DEL_ADDR: u8 = 2;
    pub(super) const GET_ADDR: u8 = 3;
    pub(super) const FLUSH_ADDRS: u8 = 4;
    pub(super) const SET_LIMITS: u8 = 5;
    pub(super) const GET_LIMITS: u8 = 6;
    pub(super) const SET_FLAGS: u8 = 7;
    /// The last command of the family (`MPTCP_PM_CMD_SUBFLOW_DESTROY`).
    pub(super) const LAST: u8 = 11;
}

/// Top-level attributes (`MPTCP_PM_ATTR_*`).
mod attr {
    pub(super) const ADDR: u16 = 1;
    pub(super) const RCV_ADD_ADDRS: u16 = 2;
    pub(super) const SUBFLOWS: u16 = 3;
    pub(super) const TOKEN: u16 = 4;
    pub(super) const LOC_ID: u16 = 5;
    pub(super) const ADDR_REMOTE: u16 = 6;
}

/// Attributes of an address (`MPTCP_PM_ADDR_ATTR_*`).
mod addr_attr {
    pub(super) const FAMILY: u16 = 1;
    pub(super) const ID: u16 = 2;
    pub(super) const ADDR4: u16 = 3;
    pub(super) const PORT: u16 = 5;
    pub(super) const FLAGS: u16 = 6;
    pub(super) const IF_IDX: u16 = 7;
    pub(super) const MAX: u16 = 7;
}

/// `MPTCP_PM_ADDR_FLAG_IMPLICIT`: set by the kernel only.
const IMPLICIT: u32 = 1 << 4;
/// The flags an endpoint may have.
const FLAGS_MASK: u32 = 0x1f;
/// Endpoints per namespace, and the largest limit (`MPTCP_PM_ADDR_MAX`).
pub(crate) const MAX_ENDPOINTS: usize = 8;

const AF_INET: u16 = 2;
const AF_INET6: u16 = 10;

/// One endpoint, as configured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct EndpointConf {
    pub(crate) id: u8,
    pub(crate) addr: [u8; 4],
    pub(crate) port: u16,
    pub(crate) flags: u32,
    pub(crate) ifindex: i32,
}

/// The in-kernel path manager's configuration of a namespace.
pub(crate) struct PmConfig {
    endpoints: [Option<EndpointConf>; MAX_ENDPOINTS],
    limits: Limits,
    /// Where the search for a free id starts.
    next_id: u8,
}

/// An error with the message the requester sees.
type Refusal = (Error, &'static CStr);

impl PmConfig {
    /// Linux's defaults: no endpoint, 2 additional subflows, no ADD_ADDR
    /// accepted.
    pub(crate) const fn new() -> Self {
        Self {
            endpoints: [None; MAX_ENDPOINTS],
            limits: Limits {
                subflows: 2,
                add_addr_accepted: 0,
            },
            next_id: 1,
        }
    }

    /// The limits.
    pub(crate) const fn limits(&self) -> Limits {
        self.limits
    }

    /// The endpoints and limits as the path manager of a new connection
    /// sees them.
    pub(crate) fn snapshot(&self) -> ([Option<Endpoint>; MAX_ENDPOINTS], Limits) {
        let mut endpoints = [None; MAX_ENDPOINTS];
        for (out, ep) in endpoints.iter_mut().zip(self.endpoints.iter().flatten()) {
            *out = Some(Endpoint {
                id: ep.id,
                addr: Addr {
                    ip: ep.addr,
                    port: ep.port,
                },
                flags: (ep.flags & FLAGS_MASK & !IMPLICIT) as u8,
            });
        }
        (endpoints, self.limits)
    }

    fn find(&self, id: u8) -> Option<usize> {
        self.endpoints
            .iter()
            .position(|e| e.is_some_and(|e| e.id == id))
    }

    fn add(&mut self, mut ep: EndpointConf) -> core::result::Result<u8, Refusal> {
        const FULL: &CStr = c_str!("too many addresses or duplicate one");
        let Some(slot) = self.endpoints.iter().position(Option::is_none) else {
            return Err((ERANGE, FULL));
        };
        if ep.id != 0 && self.find(ep.id).is_some() {
            return Err((EBUSY, FULL));
        }
        if self
            .endpoints
            .iter()
            .flatten()
            .any(|e| e.addr == ep.addr && e.port == ep.port)
        {
            return Err((EEXIST, FULL));
        }
        if ep.id == 0 {
            // The next free id from where the last search ended (1 to 255).
            let mut id = self.next_id;
            while self.find(id).is_some() {
                id = id.checked_add(1).unwrap_or(1);
            }
            ep.id = id;
            self.next_id = id.checked_add(1).unwrap_or(1);
        }
        self.endpoints[slot] = Some(ep);
        Ok(ep.id)
    }
}

/// The family.
pub(crate) struct PmFamily;

static PM_FAMILY: Family<PmFamily> = Family::new();

/// Registers the family (module load).
pub(crate) fn register(module: &'static ThisModule) -> Result<FamilyRegistration<PmFamily>> {
    PM_FAMILY.register(module)
}

const fn admin(cmd: u8) -> Command {
    Command {
        cmd,
        admin: true,
        doit: true,
        dumpit: false,
    }
}

impl GenlFamily for PmFamily {
    const NAME: &'static CStr = c_str!("mptcp_pm");
    const VERSION: u32 = 1;
    const RESV_START_OP: u8 = cmd::LAST + 1;
    const COMMANDS: &'static [Command] = &[
        admin(cmd::ADD_ADDR),
        admin(cmd::DEL_ADDR),
        Command {
            cmd: cmd::GET_ADDR,
            admin: false,
            doit: true,
            dumpit: true,
        },
        admin(cmd::FLUSH_ADDRS),
        admin(cmd::SET_LIMITS),
        Command {
            cmd: cmd::GET_LIMITS,
            admin: false,
            doit: true,
            dumpit: false,
        },
        admin(cmd::SET_FLAGS),
    ];
    const ATTRS: &'static [(u16, AttrType)] = &[
        (attr::ADDR, AttrType::Nested),
        (attr::RCV_ADD_ADDRS, AttrType::U32),
        (attr::SUBFLOWS, AttrType::U32),
        (attr::TOKEN, AttrType::U32),
        (attr::LOC_ID, AttrType::U8),
        (attr::ADDR_REMOTE, AttrType::Nested),
    ];
    /// Linux's group for path-manager events (`MPTCP_PM_EV_GRP_NAME`).
    /// Tools join it to listen (`ip mptcp monitor`, and the selftests'
    /// `pm_nl_ctl`, which refuses to start without it), but no event is
    /// sent on it yet: listeners hear nothing.
    const MCGRPS: &'static [&'static CStr] = &[c_str!("mptcp_pm_events")];

    fn family() -> &'static Family<Self> {
        &PM_FAMILY
    }

    fn doit(cmd: u8, req: &Request<'_>) -> Result {
        let net = MptcpNet::get(req.net()).ok_or(ENODEV)?;
        let refused = |(e, msg): Refusal| {
            req.error_message(msg);
            e
        };
        match cmd {
            cmd::ADD_ADDR => {
                let ep = endpoint_of(req, true).map_err(refused)?;
                check_new_flags(&ep).map_err(refused)?;
                let added = {
                    let mut pm = net.pm().lock();
                    let id = pm.add(ep).map_err(refused)?;
                    pm.snapshot().0.into_iter().flatten().find(|e| e.id == id)
                };
                // Connections already up use it too, as on Linux.
                if let Some(added) = added {
                    keys::for_each_published(|mpcb| mpcb.endpoint_added(req.net(), &added));
                }
                Ok(())
            }
            cmd::DEL_ADDR => {
                let ep = endpoint_of(req, false).map_err(refused)?;
                if ep.id == 0 {
                    // Id 0 is no endpoint: it names each connection's
                    // initial subflow address (RFC 8684, 3.4.2). The
                    // connections of this namespace whose initial subflow
                    // went from this address remove it, as on Linux.
                    if ep.addr == [0; 4] {
                        return Err(refused((
                            EINVAL,
                            c_str!("address id 0 needs the address to remove"),
                        )));
                    }
                    keys::for_each_published(|mpcb| {
                        mpcb.initial_address_removed(req.net(), ep.addr)
                    });
                    return Ok(());
                }
                let id = {
                    let mut pm = net.pm().lock();
                    let i = pm.find(ep.id).ok_or_else(|| refused(not_found()))?;
                    pm.endpoints[i].take().map(|e| e.id)
                };
                if let Some(id) = id {
                    keys::for_each_published(|mpcb| {
                        mpcb.endpoints_removed(req.net(), &[id], false)
                    });
                }
                Ok(())
            }
            cmd::GET_ADDR => {
                let ep = endpoint_of(req, false).map_err(refused)?;
                let found = {
                    let pm = net.pm().lock();
                    pm.find(ep.id).and_then(|i| pm.endpoints[i])
                };
                let found = found.ok_or_else(|| refused(not_found()))?;
                req.reply(cmd::GET_ADDR, |msg| put_endpoint(msg, &found))
            }
            cmd::FLUSH_ADDRS => {
                let gone = {
                    let mut pm = net.pm().lock();
                    pm.next_id = 1;
                    core::mem::replace(&mut pm.endpoints, [None; MAX_ENDPOINTS])
                };
                let mut ids = [0u8; MAX_ENDPOINTS];
                let mut n = 0;
                for (out, ep) in ids.iter_mut().zip(gone.iter().flatten()) {
                    *out = ep.id;
                    n += 1;
                }
                if n > 0 {
                    keys::for_each_published(|mpcb| {
                        mpcb.endpoints_removed(req.net(), &ids[..n], true)
                    });
                }
                Ok(())
            }
            cmd::SET_LIMITS => {
                let limit = |a| -> Result<Option<u8>> {
                    let Some(v) = req.attr(a) else {
                        return Ok(None);
                    };
                    let v = v.u32()?;
                    if v as usize > MAX_ENDPOINTS {
                        req.error_message(c_str!("limit greater than maximum"));
                        return Err(EINVAL);
                    }
                    Ok(Some(v as u8))
                };
                let add_addr = limit(attr::RCV_ADD_ADDRS)?;
                let subflows = limit(attr::SUBFLOWS)?;
                let mut pm = net.pm().lock();
                if let Some(v) = add_addr {
                    pm.limits.add_addr_accepted = v;
                }
                if let Some(v) = subflows {
                    pm.limits.subflows = v;
                    net.set_subflows_limit(v);
                }
                Ok(())
            }
            cmd::GET_LIMITS => {
                let limits = net.pm().lock().limits;
                req.reply(cmd::GET_LIMITS, |msg| {
                    msg.put(
                        attr::RCV_ADD_ADDRS,
                        &u32::from(limits.add_addr_accepted).to_ne_bytes(),
                    )?;
                    msg.put(attr::SUBFLOWS, &u32::from(limits.subflows).to_ne_bytes())
                })
            }
            cmd::SET_FLAGS => {
                let ep = endpoint_of(req, false).map_err(refused)?;
                let mut pm = net.pm().lock();
                let i = if ep.id != 0 {
                    pm.find(ep.id)
                } else {
                    pm.endpoints
                        .iter()
                        .position(|e| e.is_some_and(|e| e.addr == ep.addr))
                };
                let i = i.ok_or_else(|| refused(not_found()))?;
                let Some(cur) = pm.endpoints[i].as_mut() else {
                    return Err(refused(not_found()));
                };
                // Only "backup" and "fullmesh" change; never fullmesh on a
                // signal endpoint.
                let changeable = BACKUP_FLAG | FULLMESH_FLAG;
                let flags = (cur.flags & !changeable) | (ep.flags & changeable);
                if flags & SIGNAL_FLAG != 0 && flags & FULLMESH_FLAG != 0 {
                    return Err(refused((EINVAL, c_str!("invalid addr flags"))));
                }
                let backup_changed = (cur.flags ^ flags) & BACKUP_FLAG != 0;
                cur.flags = flags;
                let ip = cur.addr;
                drop(pm);
                // Live connections follow a change of "backup" (MP_PRIO).
                if backup_changed {
                    let backup = flags & BACKUP_FLAG != 0;
                    keys::for_each_published(|mpcb| mpcb.endpoint_backup(req.net(), ip, backup));
                }
                Ok(())
            }
            _ => Err(errno::eopnotsupp()),
        }
    }

    fn dumpit(cmd: u8, dump: &mut Dump<'_>) -> Result {
        if cmd != cmd::GET_ADDR {
            return Err(errno::eopnotsupp());
        }
        let net = MptcpNet::get(dump.net()).ok_or(ENODEV)?;
        let endpoints = net.pm().lock().endpoints;
        // The cursor is the index of the next slot to dump.
        while let Some(slot) = endpoints.get(*dump.cursor() as usize) {
            if let Some(ep) = slot {
                if !dump.add(cmd::GET_ADDR, |msg| put_endpoint(msg, ep))? {
                    return Ok(());
                }
            }
            *dump.cursor() += 1;
        }
        Ok(())
    }
}

const SIGNAL_FLAG: u32 = SIGNAL as u32;
const SUBFLOW_FLAG: u32 = SUBFLOW as u32;
const BACKUP_FLAG: u32 = BACKUP as u32;
const FULLMESH_FLAG: u32 = FULLMESH as u32;

fn not_found() -> Refusal {
    (ENOENT, c_str!("address not found"))
}

/// What a new endpoint may not be.
fn check_new_flags(ep: &EndpointConf) -> core::result::Result<(), Refusal> {
    if ep.flags & IMPLICIT != 0 {
        return Err((EINVAL, c_str!("can't create IMPLICIT endpoint")));
    }
    if ep.flags & SIGNAL_FLAG != 0 && ep.flags & FULLMESH_FLAG != 0 {
        return Err((
            EINVAL,
            c_str!("flags mustn't have both signal and fullmesh"),
        ));
    }
    if ep.port != 0 {
        if ep.flags & SIGNAL_FLAG == 0 || ep.flags & SUBFLOW_FLAG != 0 {
            return Err((
                EINVAL,
                c_str!("flags must have signal and not subflow when using port"),
            ));
        }
        return Err((
            errno::eopnotsupp(),
            c_str!("mptcp_rs: endpoints with a port are not supported yet"),
        ));
    }
    Ok(())
}

/// The endpoint in the request's `MPTCP_PM_ATTR_ADDR` (its family required
/// or not).
fn endpoint_of(
    req: &Request<'_>,
    require_family: bool,
) -> core::result::Result<EndpointConf, Refusal> {
    let bad = |msg| (EINVAL, msg);
    let addr = req
        .attr(attr::ADDR)
        .ok_or(bad(c_str!("missing address info")))?;
    let tb = addr
        .nested(addr_attr::MAX)
        .map_err(|_| bad(c_str!("invalid address attributes")))?;
    let get = |a: u16| -> Option<Attr<'_>> { tb.get(usize::from(a)).copied().flatten() };
    let mut ep = EndpointConf {
        id: 0,
        addr: [0; 4],
        port: 0,
        flags: 0,
        ifindex: 0,
    };
    if let Some(a) = get(addr_attr::ID) {
        ep.id = a.u8().map_err(|_| bad(c_str!("invalid address id")))?;
    }
    if let Some(a) = get(addr_attr::FLAGS) {
        ep.flags = a.u32().map_err(|_| bad(c_str!("invalid flags")))? & FLAGS_MASK;
    }
    if let Some(a) = get(addr_attr::IF_IDX) {
        ep.ifindex = a.i32().map_err(|_| bad(c_str!("invalid interface")))?;
    }
    if let Some(a) = get(addr_attr::PORT) {
        ep.port = a.u16().map_err(|_| bad(c_str!("invalid port")))?;
    }
    let Some(family) = get(addr_attr::FAMILY) else {
        if require_family {
            return Err(bad(c_str!("missing family")));
        }
        return Ok(ep);
    };
    match family
        .u16()
        .map_err(|_| bad(c_str!("unknown address family")))?
    {
        AF_INET => {}
        AF_INET6 => {
            return Err((
                errno::eafnosupport(),
                c_str!("mptcp_rs: IPv6 endpoints are not supported yet"),
            ))
        }
        _ => return Err(bad(c_str!("unknown address family"))),
    }
    let a = get(addr_attr::ADDR4).ok_or(bad(c_str!("missing address data")))?;
    ep.addr = a
        .be_bytes4()
        .map_err(|_| bad(c_str!("missing address data")))?;
    Ok(ep)
}

/// `ep` as an `MPTCP_PM_ATTR_ADDR` nest.
fn put_endpoint(msg: &mut Msg<'_>, ep: &EndpointConf) -> Result {
    msg.nest(attr::ADDR, |m| {
        m.put(addr_attr::FAMILY, &AF_INET.to_ne_bytes())?;
        m.put(addr_attr::ID, &[ep.id])?;
        m.put(addr_attr::FLAGS, &ep.flags.to_ne_bytes())?;
        if ep.port != 0 {
            m.put(addr_attr::PORT, &ep.port.to_ne_bytes())?;
        }
        m.put(addr_attr::ADDR4, &ep.addr)?;
        if ep.ifindex != 0 {
            m.put(addr_attr::IF_IDX, &ep.ifindex.to_ne_bytes())?;
        }
        Ok(())
    })
}
