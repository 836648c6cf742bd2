// SPDX-License-Identifier: GPL-2.0

//! Per-network-namespace state (`register_pernet_subsys` and `net_generic`).
//!
//! A subsystem describes its state with [`PernetData`] and declares one
//! `static` [`Pernet`]. Registering it creates the state, and the sysctl
//! directory that points into it, in every namespace that exists or is
//! created later; the state is torn down when a namespace goes away or the
//! registration is dropped.

use super::{
    bindings,
    net::Net,
    sysctl::{SysctlRegistration, SysctlTable},
};
use core::{
    marker::PhantomData,
    sync::atomic::{AtomicBool, Ordering},
};
use kernel::ffi::c_int;
use kernel::{error::to_result, prelude::*, str::CStr, types::Opaque};

/// The state a subsystem keeps in each network namespace.
pub(crate) trait PernetData: Sized + Send + Sync + 'static {
    /// The sysctl directory of the subsystem, such as `c"net/mptcp"`.
    const SYSCTL_PATH: &'static CStr;

    /// The one [`Pernet`] static of this type.
    fn pernet() -> &'static Pernet<Self>;

    /// Creates the state of a namespace that is being set up.
    fn new(net: &Net) -> Result<Self>;

    /// Lists the sysctls of the namespace, which point into `self`.
    fn sysctls<'a>(&'a self, table: &mut SysctlTable<'a>) -> Result;
}

/// What the kernel allocates for us in each namespace (zeroed, then written
/// by `init_callback`).
struct Slot<T> {
    data: T,
    /// Dropped before `data`, whose fields the table points at.
    sysctl: Option<SysctlRegistration<'static>>,
}

/// The registration record of a [`PernetData`] type: declare one `static`.
pub(crate) struct Pernet<T: PernetData> {
    ops: Opaque<bindings::pernet_operations>,
    id: Opaque<u32>,
    registered: AtomicBool,
    _data: PhantomData<T>,
}

// SAFETY: the C structures are written only in `register`, which runs once
// before the kernel shares them, and afterwards only read (by the kernel and by
// `get`).
unsafe impl<T: PernetData> Sync for Pernet<T> {}

impl<T: PernetData> Pernet<T> {
    // `net_generic` memory comes from `kzalloc`, aligned to at least 8.
    const ALIGN_OK: () = assert!(core::mem::align_of::<Slot<T>>() <= 8);

    /// The record, to be placed in a `static`.
    pub(crate) const fn new() -> Self {
        let () = Self::ALIGN_OK;
        // SAFETY: all-zeroes is a valid `pernet_operations` (null pointers and
        // `None` callbacks); the fields we need are set just below.
        let mut ops: bindings::pernet_operations = unsafe { core::mem::zeroed() };
        ops.init = Some(init_callback::<T>);
        ops.exit = Some(exit_callback::<T>);
        ops.size = core::mem::size_of::<Slot<T>>();
        Self {
            ops: Opaque::new(ops),
            id: Opaque::new(0),
            registered: AtomicBool::new(false),
            _data: PhantomData,
        }
    }

    /// Registers the subsystem: `T::new` runs for every namespace.
    pub(crate) fn register(&'static self) -> Result<PernetRegistration<T>> {
        // SAFETY: nothing else accesses `ops` before it is registered below, and
        // `register` is called once per module load (a second call would fail in
        // `register_pernet_subsys` on the list already holding `ops`).
        unsafe { (*self.ops.get()).id = self.id.get() };
        // SAFETY: `ops` is a valid, static `pernet_operations` with `id` and
        // `size` set; it stays registered until `PernetRegistration` is dropped.
        to_result(unsafe { bindings::register_pernet_subsys(self.ops.get()) })?;
        self.registered.store(true, Ordering::Release);
        Ok(PernetRegistration { pernet: self })
    }

    /// The state of `net`, or `None` if the subsystem is not registered.
    ///
    /// The state lives as long as the namespace does, which outlives the
    /// borrow of `net`: whoever hands out a `&Net` holds the namespace.
    pub(crate) fn get<'a>(&self, net: &'a Net) -> Option<&'a T> {
        if !self.registered.load(Ordering::Acquire) {
            return None;
        }
        // SAFETY: while registered, the slot of a live namespace was initialised
        // by `init_callback` (the pernet core runs `init` before the namespace
        // can be used) and is torn down only by `exit_callback`, when the
        // namespace goes away or the subsystem is unregistered (which clears
        // `registered` first, and happens at module exit, after which no code
        // of the module runs).
        Some(unsafe { &(*self.slot(net)).data })
    }

    /// The slot of `net`.
    fn slot(&self, net: &Net) -> *mut Slot<T> {
        // SAFETY: `net` is live and the id was assigned by the pernet core when
        // `ops` was registered, so `net_generic` returns this subsystem's memory
        // of `size_of::<Slot<T>>()` bytes.
        unsafe { bindings::mptcp_rs_net_generic(net.as_raw(), *self.id.get()).cast::<Slot<T>>() }
    }
}

/// A registered [`Pernet`]: every namespace has its `T` while this lives;
/// dropping it unregisters the subsystem.
pub(crate) struct PernetRegistration<T: PernetData> {
    pernet: &'static Pernet<T>,
}

impl<T: PernetData> Drop for PernetRegistration<T> {
    fn drop(&mut self) {
        self.pernet.registered.store(false, Ordering::Release);
        // SAFETY: `ops` was registered by `Pernet::register`; this runs
        // `exit_callback` for every namespace.
        unsafe { bindings::unregister_pernet_subsys(self.pernet.ops.get()) };
    }
}

/// # Safety
///
/// Only the kernel calls this, through the table or hook this module
/// registered it in, with the arguments that callback is defined to get.
unsafe extern "C" fn init_callback<T: PernetData>(raw_net: *mut bindings::net) -> c_int {
    // SAFETY: the pernet core calls `init` with a namespace that is being set up
    // and stays alive until `exit` has run.
    let net = unsafe { Net::from_raw(raw_net) };
    let data = match T::new(net) {
        Ok(data) => data,
        Err(e) => return e.to_errno(),
    };
    let slot_ptr = T::pernet().slot(net);
    // SAFETY: `slot_ptr` is this subsystem's zeroed memory of the size and
    // (checked) alignment of `Slot<T>`, not yet initialised; nothing else
    // accesses it before `init` returns.
    unsafe { slot_ptr.write(Slot { data, sysctl: None }) };
    // SAFETY: initialised just above, and exclusively ours until `init` returns.
    let slot = unsafe { &mut *slot_ptr };

    let mut table = SysctlTable::new();
    let registered = match slot.data.sysctls(&mut table) {
        Ok(()) => table.register(net, T::SYSCTL_PATH),
        Err(e) => Err(e),
    };
    let err = match registered {
        Ok(reg) => {
            // SAFETY: the registration is stored in the slot and dropped by
            // `exit_callback` before `slot.data`, whose fields it points at.
            slot.sysctl = Some(unsafe { reg.into_unbounded() });
            return 0;
        }
        Err(e) => e,
    };
    // SAFETY: the slot was initialised above and is not used again: the
    // pernet core does not call `exit` after a failed `init`.
    unsafe { core::ptr::drop_in_place(slot_ptr) };
    err.to_errno()
}

/// # Safety
///
/// Only the kernel calls this, through the table or hook this module
/// registered it in, with the arguments that callback is defined to get.
unsafe extern "C" fn exit_callback<T: PernetData>(raw_net: *mut bindings::net) {
    // SAFETY: the pernet core calls `exit` with a namespace whose `init` succeeded.
    let net = unsafe { Net::from_raw(raw_net) };
    let slot = T::pernet().slot(net);
    // SAFETY: `init_callback` initialised the slot; this is its only teardown.
    // The sysctl table goes first, so that no proc handler can touch the data
    // that is dropped after it.
    unsafe {
        drop((*slot).sysctl.take());
        core::ptr::drop_in_place(slot);
    }
}
