// SPDX-License-Identifier: GPL-2.0

//! Generic netlink families (`genl_register_family`), as `ip mptcp` speaks
//! to the `mptcp_pm` family.
//!
//! A family describes itself with [`GenlFamily`] (name, version, commands,
//! the type of each top-level attribute) and declares one `static`
//! [`Family`]. Registering it fills the C records in that static and hands
//! them to the kernel until the [`FamilyRegistration`] is dropped. Commands
//! reach [`GenlFamily::doit`] with a [`Request`] (its attributes, its
//! namespace, a reply builder) or [`GenlFamily::dumpit`] with a [`Dump`]
//! (one message per object, resumable).
//!
//! Nested attributes are parsed without a policy: their accessors check
//! each attribute's length ([`Attr::u8`] and friends fail with `EINVAL` on
//! a short one), so that nothing is read beyond what the sender put.

use super::{bindings, errno::emsgsize, net::Net};
use core::{cell::UnsafeCell, marker::PhantomData, ptr};
use kernel::ffi::{c_int, c_void};
use kernel::{error::to_result, prelude::*, str::CStr};

/// The type of a top-level attribute, for the family's policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AttrType {
    /// 8-bit unsigned.
    U8,
    /// 16-bit unsigned.
    U16,
    /// 32-bit unsigned.
    U32,
    /// Nested attributes (parsed by [`Attr::nested`]).
    Nested,
}

/// A command of a family.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Command {
    /// Its number.
    pub(crate) cmd: u8,
    /// Only for `CAP_NET_ADMIN` (`GENL_ADMIN_PERM`).
    pub(crate) admin: bool,
    /// Has a `doit`.
    pub(crate) doit: bool,
    /// Has a `dumpit`.
    pub(crate) dumpit: bool,
}

/// The most commands and top-level attributes a family may have here.
const MAX_COMMANDS: usize = 16;
const MAX_ATTRS: usize = 16;
/// The most multicast groups a family may have here.
const MAX_MCGRPS: usize = 2;
/// `GENL_MCAST_CAP_NET_ADMIN` (a `BIT()` macro, which bindgen does not
/// translate): joining the group takes `CAP_NET_ADMIN`.
const GENL_MCAST_CAP_NET_ADMIN: u8 = 1 << 0;
/// The most nested attributes [`Attr::nested`] parses.
pub(crate) const MAX_NESTED: usize = 16;

/// A generic netlink family.
pub(crate) trait GenlFamily: Sized + 'static {
    /// Its name.
    const NAME: &'static CStr;
    /// Its version.
    const VERSION: u32;
    /// The first command number checked strictly (`resv_start_op`).
    const RESV_START_OP: u8;
    /// Its commands.
    const COMMANDS: &'static [Command];
    /// Its top-level attributes and their types; the largest number is the
    /// family's `maxattr`.
    const ATTRS: &'static [(u16, AttrType)];
    /// Its multicast groups, each joined with `CAP_NET_ADMIN` (none by
    /// default).
    const MCGRPS: &'static [&'static CStr] = &[];

    /// The one [`Family`] static of this type.
    fn family() -> &'static Family<Self>;

    /// Runs command `cmd`.
    fn doit(cmd: u8, req: &Request<'_>) -> Result;

    /// Adds the next objects of dump `cmd` to `dump`; `dump.cursor()`
    /// keeps the position between calls.
    fn dumpit(cmd: u8, dump: &mut Dump<'_>) -> Result;
}

/// The C records of a family: declare one `static`.
pub(crate) struct Family<F: GenlFamily> {
    family: UnsafeCell<bindings::genl_family>,
    ops: UnsafeCell<[bindings::genl_small_ops; MAX_COMMANDS]>,
    policy: UnsafeCell<[bindings::nla_policy; MAX_ATTRS]>,
    mcgrps: UnsafeCell<[bindings::genl_multicast_group; MAX_MCGRPS]>,
    _f: PhantomData<F>,
}

// SAFETY: the records are written only by `register`, before the kernel
// sees them, and by the kernel itself (the family's id) under its genl
// lock; we only read them afterwards (their address).
unsafe impl<F: GenlFamily> Sync for Family<F> {}

impl<F: GenlFamily> Family<F> {
    /// The records, to be placed in a `static`.
    pub(crate) const fn new() -> Self {
        Self {
            // SAFETY: all-zeroes is a valid value of these C structures
            // (null pointers, `None` callbacks, zero counts).
            family: UnsafeCell::new(unsafe { core::mem::zeroed() }),
            // SAFETY: as above.
            ops: UnsafeCell::new(unsafe { core::mem::zeroed() }),
            // SAFETY: as above.
            policy: UnsafeCell::new(unsafe { core::mem::zeroed() }),
            // SAFETY: as above.
            mcgrps: UnsafeCell::new(unsafe { core::mem::zeroed() }),
            _f: PhantomData,
        }
    }

    /// Registers the family, until the registration is dropped.
    pub(crate) fn register(
        &'static self,
        module: &'static ThisModule,
    ) -> Result<FamilyRegistration<F>> {
        let name = F::NAME.as_bytes();
        if F::COMMANDS.len() > MAX_COMMANDS
            || name.len() >= 16
            || F::MCGRPS.len() > MAX_MCGRPS
            || F::MCGRPS.iter().any(|g| g.as_bytes().len() >= 16)
        {
            return Err(EINVAL);
        }
        let maxattr = F::ATTRS.iter().map(|(a, _)| *a).max().unwrap_or(0);
        if usize::from(maxattr) >= MAX_ATTRS {
            return Err(EINVAL);
        }
        // SAFETY: the records are not registered yet (one registration per
        // module load), so nothing else reads or writes them now.
        let (family, ops, policy, mcgrps) = unsafe {
            (
                &mut *self.family.get(),
                &mut *self.ops.get(),
                &mut *self.policy.get(),
                &mut *self.mcgrps.get(),
            )
        };
        for (attr, ty) in F::ATTRS {
            policy[usize::from(*attr)].type_ = match ty {
                AttrType::U8 => bindings::NLA_U8,
                AttrType::U16 => bindings::NLA_U16,
                AttrType::U32 => bindings::NLA_U32,
                AttrType::Nested => bindings::NLA_NESTED,
            } as u8;
        }
        for (op, c) in ops.iter_mut().zip(F::COMMANDS) {
            op.cmd = c.cmd;
            op.flags = if c.admin {
                bindings::GENL_ADMIN_PERM as u8
            } else {
                0
            };
            op.doit = if c.doit { Some(doit_cb::<F>) } else { None };
            op.dumpit = if c.dumpit { Some(dumpit_cb::<F>) } else { None };
        }
        for (d, s) in family.name.iter_mut().zip(name) {
            *d = *s as _;
        }
        for (grp, name) in mcgrps.iter_mut().zip(F::MCGRPS) {
            for (d, s) in grp.name.iter_mut().zip(name.as_bytes()) {
                *d = *s as _;
            }
            grp.flags = GENL_MCAST_CAP_NET_ADMIN;
        }
        if !F::MCGRPS.is_empty() {
            family.mcgrps = mcgrps.as_ptr();
            family.n_mcgrps = F::MCGRPS.len() as u8;
        }
        family.version = F::VERSION;
        family.maxattr = u32::from(maxattr);
        family.set_netnsok(1);
        family.resv_start_op = F::RESV_START_OP;
        family.policy = policy.as_ptr();
        family.small_ops = ops.as_ptr();
        family.n_small_ops = F::COMMANDS.len() as u8;
        family.module = module.as_ptr().cast();
        // SAFETY: the family record is complete and, like the tables it
        // points to, static; it stays registered until the registration is
        // dropped.
        to_result(unsafe { bindings::genl_register_family(self.family.get()) })?;
        Ok(FamilyRegistration { family: self })
    }

    fn raw(&self) -> *const bindings::genl_family {
        self.family.get()
    }
}

/// A registered family; dropping it unregisters it.
pub(crate) struct FamilyRegistration<F: GenlFamily> {
    family: &'static Family<F>,
}

impl<F: GenlFamily> Drop for FamilyRegistration<F> {
    fn drop(&mut self) {
        // SAFETY: registered by `Family::register`; after this returns no
        // callback of the family runs.
        unsafe { bindings::genl_unregister_family(self.family.family.get()) };
    }
}

/// An attribute of a request.
#[derive(Clone, Copy)]
pub(crate) struct Attr<'a> {
    nla: *const bindings::nlattr,
    _life: PhantomData<&'a ()>,
}

impl<'a> Attr<'a> {
    /// # Safety
    ///
    /// `nla` is null or a valid attribute that outlives `'a`.
    unsafe fn from_raw(nla: *const bindings::nlattr) -> Option<Self> {
        (!nla.is_null()).then_some(Self {
            nla,
            _life: PhantomData,
        })
    }

    /// The payload.
    pub(crate) fn bytes(&self) -> &'a [u8] {
        // SAFETY: a valid attribute's payload is `nla_len` bytes from
        // `nla_data`, within the message that outlives `'a`.
        unsafe {
            let len = bindings::mptcp_rs_nla_len(self.nla).max(0) as usize;
            core::slice::from_raw_parts(bindings::mptcp_rs_nla_data(self.nla).cast::<u8>(), len)
        }
    }

    fn array<const N: usize>(&self) -> Result<[u8; N]> {
        self.bytes()
            .get(..N)
            .and_then(|b| b.try_into().ok())
            .ok_or(EINVAL)
    }

    /// As an 8-bit number.
    pub(crate) fn u8(&self) -> Result<u8> {
        Ok(self.array::<1>()?[0])
    }

    /// As a 16-bit number (host order, as netlink carries them).
    pub(crate) fn u16(&self) -> Result<u16> {
        Ok(u16::from_ne_bytes(self.array()?))
    }

    /// As a 32-bit number (host order).
    pub(crate) fn u32(&self) -> Result<u32> {
        Ok(u32::from_ne_bytes(self.array()?))
    }

    /// As a signed 32-bit number (host order).
    pub(crate) fn i32(&self) -> Result<i32> {
        Ok(i32::from_ne_bytes(self.array()?))
    }

    /// As four bytes in network order (an IPv4 address, `__be16` ports use
    /// [`Attr::be16`]).
    pub(crate) fn be_bytes4(&self) -> Result<[u8; 4]> {
        self.array()
    }

    /// As a 16-bit number in network order.
    pub(crate) fn be16(&self) -> Result<u16> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    /// Its nested attributes, by number (`None` for absent ones).
    pub(crate) fn nested(&self, max: u16) -> Result<[Option<Attr<'a>>; MAX_NESTED]> {
        if usize::from(max) >= MAX_NESTED {
            return Err(EINVAL);
        }
        let mut tb = [ptr::null_mut::<bindings::nlattr>(); MAX_NESTED];
        // SAFETY: `tb` has room for `max + 1` entries; no policy (the
        // accessors check lengths), no extended ack.
        to_result(unsafe {
            bindings::mptcp_rs_nla_parse_nested(
                tb.as_mut_ptr(),
                c_int::from(max),
                self.nla,
                ptr::null(),
                ptr::null_mut(),
            )
        })?;
        // SAFETY: the parser left null or pointers to attributes inside this
        // attribute, which lives as long as `'a`.
        Ok(tb.map(|nla| unsafe { Attr::from_raw(nla) }))
    }
}

/// A request to a `doit` command.
pub(crate) struct Request<'a> {
    info: *mut bindings::genl_info,
    family: *const bindings::genl_family,
    _life: PhantomData<&'a ()>,
}

impl<'a> Request<'a> {
    /// Its namespace.
    pub(crate) fn net(&self) -> &'a Net {
        // SAFETY: the request's namespace is held while the command runs.
        unsafe { Net::from_raw(bindings::mptcp_rs_genl_info_net(self.info)) }
    }

    /// Top-level attribute `attr`, if present.
    pub(crate) fn attr(&self, attr: u16) -> Option<Attr<'a>> {
        // SAFETY: `attrs` has `maxattr + 1` entries, parsed by genetlink
        // against the family's policy; `attr` is checked against it.
        unsafe {
            let family = &*self.family;
            if u32::from(attr) > family.maxattr || (*self.info).attrs.is_null() {
                return None;
            }
            Attr::from_raw(*(*self.info).attrs.add(usize::from(attr)))
        }
    }

    /// Tells the sender why the request failed (`extack`).
    pub(crate) fn error_message(&self, msg: &'static CStr) {
        // SAFETY: `msg` is static, as the extended ack keeps the pointer.
        unsafe { bindings::mptcp_rs_nl_set_err_msg((*self.info).extack, msg.as_char_ptr()) };
    }

    /// Replies with one message of command `cmd` that `build` fills.
    pub(crate) fn reply(&self, cmd: u8, build: impl FnOnce(&mut Msg<'_>) -> Result) -> Result {
        // SAFETY: a new message, freed below unless handed to the reply.
        let skb = unsafe { bindings::mptcp_rs_genlmsg_new() };
        if skb.is_null() {
            return Err(ENOMEM);
        }
        // SAFETY: `skb` is ours; `info` names the requester.
        let hdr = unsafe {
            bindings::genlmsg_put(
                skb,
                (*self.info).snd_portid,
                (*self.info).snd_seq,
                self.family,
                0,
                cmd,
            )
        };
        let mut msg = Msg {
            skb,
            _life: PhantomData,
        };
        let built = if hdr.is_null() {
            Err(emsgsize())
        } else {
            build(&mut msg)
        };
        if let Err(e) = built {
            // SAFETY: not handed over.
            unsafe { bindings::mptcp_rs_nlmsg_free(skb) };
            return Err(e);
        }
        // SAFETY: `hdr` starts the message in `skb`, which the reply consumes.
        unsafe {
            bindings::mptcp_rs_genlmsg_end(skb, hdr);
            to_result(bindings::mptcp_rs_genlmsg_reply(skb, self.info))
        }
    }
}

/// A message being built.
pub(crate) struct Msg<'a> {
    skb: *mut bindings::sk_buff,
    _life: PhantomData<&'a ()>,
}

impl Msg<'_> {
    /// Adds attribute `attr` with payload `data`; `EMSGSIZE` if full.
    pub(crate) fn put(&mut self, attr: u16, data: &[u8]) -> Result {
        // SAFETY: `skb` is the message being built; `data` is readable.
        let err = unsafe {
            bindings::nla_put(
                self.skb,
                c_int::from(attr),
                data.len() as c_int,
                data.as_ptr().cast::<c_void>(),
            )
        };
        if err != 0 {
            return Err(emsgsize());
        }
        Ok(())
    }

    /// Adds a nested attribute `attr` that `build` fills.
    pub(crate) fn nest(&mut self, attr: u16, build: impl FnOnce(&mut Self) -> Result) -> Result {
        // SAFETY: `skb` is the message being built.
        let start = unsafe { bindings::mptcp_rs_nla_nest_start(self.skb, c_int::from(attr)) };
        if start.is_null() {
            return Err(emsgsize());
        }
        build(self)?;
        // SAFETY: `start` opened the nest in this message.
        unsafe { bindings::mptcp_rs_nla_nest_end(self.skb, start) };
        Ok(())
    }
}

/// A dump in progress.
pub(crate) struct Dump<'a> {
    skb: *mut bindings::sk_buff,
    cb: *mut bindings::netlink_callback,
    family: *const bindings::genl_family,
    _life: PhantomData<&'a ()>,
}

impl<'a> Dump<'a> {
    /// Its namespace.
    pub(crate) fn net(&self) -> &'a Net {
        // SAFETY: the dumping socket holds its namespace while the dump runs.
        unsafe { Net::from_raw(bindings::mptcp_rs_sock_net((*(*self.cb).skb).sk)) }
    }

    /// Where the previous call stopped (0 at first).
    pub(crate) fn cursor(&mut self) -> &mut i64 {
        // SAFETY: `args` belongs to this dump, kept between its calls.
        unsafe { &mut *ptr::addr_of_mut!((*self.cb).__bindgen_anon_1.args[0]).cast::<i64>() }
    }

    /// Adds one message of command `cmd` that `build` fills: false if the
    /// buffer is full (the dump goes on in the next call).
    pub(crate) fn add(
        &mut self,
        cmd: u8,
        build: impl FnOnce(&mut Msg<'_>) -> Result,
    ) -> Result<bool> {
        // SAFETY: `skb` is the dump's buffer; the requester is the dump's.
        let hdr = unsafe {
            bindings::genlmsg_put(
                self.skb,
                bindings::mptcp_rs_netlink_cb_portid(self.cb),
                (*(*self.cb).nlh).nlmsg_seq,
                self.family,
                bindings::NLM_F_MULTI as c_int,
                cmd,
            )
        };
        if hdr.is_null() {
            return Ok(false);
        }
        let mut msg = Msg {
            skb: self.skb,
            _life: PhantomData,
        };
        match build(&mut msg) {
            Ok(()) => {
                // SAFETY: `hdr` starts the message just built.
                unsafe { bindings::mptcp_rs_genlmsg_end(self.skb, hdr) };
                Ok(true)
            }
            Err(e) => {
                // SAFETY: as above; the partial message goes.
                unsafe { bindings::mptcp_rs_genlmsg_cancel(self.skb, hdr) };
                // Full: the next call goes on from this object.
                if e == emsgsize() {
                    Ok(false)
                } else {
                    Err(e)
                }
            }
        }
    }
}

/// # Safety
///
/// Only genetlink calls this, as the `doit` of a command of `F`'s family,
/// with the request's message and parsed attributes.
unsafe extern "C" fn doit_cb<F: GenlFamily>(
    _skb: *mut bindings::sk_buff,
    info: *mut bindings::genl_info,
) -> c_int {
    // SAFETY: genetlink passes a valid `info` with its header.
    let cmd = unsafe { (*(*info).genlhdr).cmd };
    let req = Request {
        info,
        family: F::family().raw(),
        _life: PhantomData,
    };
    match F::doit(cmd, &req) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// # Safety
///
/// Only genetlink calls this, as the `dumpit` of a command of `F`'s family.
unsafe extern "C" fn dumpit_cb<F: GenlFamily>(
    skb: *mut bindings::sk_buff,
    cb: *mut bindings::netlink_callback,
) -> c_int {
    // SAFETY: the dump's request header, whose payload starts with the
    // generic netlink header, is kept for the whole dump.
    let cmd = unsafe {
        let nlh = (*cb).nlh;
        let genl = nlh
            .cast::<u8>()
            .add(core::mem::size_of::<bindings::nlmsghdr>());
        *genl
    };
    let mut dump = Dump {
        skb,
        cb,
        family: F::family().raw(),
        _life: PhantomData,
    };
    match F::dumpit(cmd, &mut dump) {
        // SAFETY: `skb` is the dump's buffer: its length says whether
        // anything was added (0 ends the dump).
        Ok(()) => unsafe { (*skb).len as c_int },
        Err(e) => e.to_errno(),
    }
}
