// SPDX-License-Identifier: GPL-2.0

//! Per-network-namespace sysctl tables (`register_net_sysctl_sz`).

use super::{bindings, net::Net};
use core::{marker::PhantomData, ptr::NonNull, sync::atomic::AtomicU8};
use kernel::ffi::c_void;
use kernel::{alloc::flags::GFP_KERNEL, alloc::KVec, error::code::ENOMEM, prelude::*, str::CStr};

/// A sysctl directory under construction whose entries point at values that
/// live for `'a`.
///
/// The values are atomics: the proc handlers store into them while the
/// module reads them from any context (the kernel's `READ_ONCE` idiom).
pub(crate) struct SysctlTable<'a> {
    entries: KVec<bindings::ctl_table>,
    _values: PhantomData<&'a ()>,
}

impl<'a> SysctlTable<'a> {
    /// An empty table.
    pub(crate) fn new() -> Self {
        Self {
            entries: KVec::new(),
            _values: PhantomData,
        }
    }

    fn push(&mut self, entry: bindings::ctl_table) -> Result {
        self.entries.push(entry, GFP_KERNEL).map_err(|_| ENOMEM)
    }

    /// A read-write `u8` entry that accepts `min..=max` and refuses anything
    /// else with `EINVAL` (`proc_dou8vec_minmax`).
    pub(crate) fn add_u8(
        &mut self,
        name: &'static CStr,
        value: &'a AtomicU8,
        min: &'static u32,
        max: &'static u32,
    ) -> Result {
        self.push(bindings::ctl_table {
            procname: name.as_char_ptr(),
            data: value.as_ptr().cast::<c_void>(),
            maxlen: 1,
            mode: 0o644,
            proc_handler: Some(bindings::proc_dou8vec_minmax),
            extra1: core::ptr::from_ref(min).cast_mut().cast::<c_void>(),
            extra2: core::ptr::from_ref(max).cast_mut().cast::<c_void>(),
            ..Default::default()
        })
    }

    /// Registers the table as `/proc/sys/<path>` in `net`.
    pub(crate) fn register(
        mut self,
        net: &Net,
        path: &'static CStr,
    ) -> Result<SysctlRegistration<'a>> {
        // SAFETY: `net` is live; `path` is a static NUL-terminated string; the
        // table holds `len` initialised entries whose `data` pointers are valid
        // for `'a`, and it stays allocated (and in place: a `KVec` does not move
        // its buffer when moved) until the registration below is dropped, which
        // unregisters it first.
        let header = unsafe {
            bindings::register_net_sysctl_sz(
                net.as_raw(),
                path.as_char_ptr(),
                self.entries.as_mut_ptr(),
                self.entries.len(),
            )
        };
        let header = NonNull::new(header).ok_or(ENOMEM)?;
        Ok(SysctlRegistration {
            table: RegisteredTable {
                header,
                _entries: self.entries,
            },
            _values: PhantomData,
        })
    }
}

/// A registered sysctl table whose entries point at values that live for
/// `'a`; unregistered when dropped.
pub(crate) struct SysctlRegistration<'a> {
    table: RegisteredTable,
    _values: PhantomData<&'a ()>,
}

impl SysctlRegistration<'_> {
    /// Forgets the lifetime of the values the table points at.
    ///
    /// # Safety
    ///
    /// The returned registration must be dropped before those values are.
    pub(super) unsafe fn into_unbounded(self) -> SysctlRegistration<'static> {
        SysctlRegistration {
            table: self.table,
            _values: PhantomData,
        }
    }
}

/// The table as the kernel holds it: unregistered, then freed, on drop.
struct RegisteredTable {
    header: NonNull<bindings::ctl_table_header>,
    _entries: KVec<bindings::ctl_table>,
}

impl Drop for RegisteredTable {
    fn drop(&mut self) {
        // SAFETY: `header` came from a successful `register_net_sysctl_sz` and is
        // unregistered only here, once. After this returns no proc handler can
        // run on the table, so the table (freed next) and values may go.
        unsafe { bindings::unregister_net_sysctl_table(self.header.as_ptr()) };
    }
}

// SAFETY: the table is only a handle; unregistering may happen from any thread.
unsafe impl Send for RegisteredTable {}
// SAFETY: a shared table offers no operation at all.
unsafe impl Sync for RegisteredTable {}
