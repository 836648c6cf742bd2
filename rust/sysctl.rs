// SPDX-License-Identifier: GPL-2.0

//! Per-network-namespace sysctl tables (`register_net_sysctl_sz`).

use super::{bindings, net::Net};
use core::{
    marker::PhantomData,
    ptr::NonNull,
    sync::atomic::{AtomicU32, AtomicU8, Ordering},
};
use kernel::ffi::{c_int, c_void};
use kernel::{
    alloc::flags::GFP_KERNEL,
    alloc::KVec,
    error::code::{ENOENT, ENOMEM, EPERM},
    prelude::*,
    str::CStr,
};

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
        let data = value.as_ptr().cast::<c_void>();
        self.push_minmax(name, data, 1, bindings::proc_dou8vec_minmax, min, max)
    }

    /// A read-write `u32` entry that accepts `min..=max` and refuses anything
    /// else with `EINVAL` (`proc_douintvec_minmax`).
    pub(crate) fn add_u32(
        &mut self,
        name: &'static CStr,
        value: &'a AtomicU32,
        min: &'static u32,
        max: &'static u32,
    ) -> Result {
        let data = value.as_ptr().cast::<c_void>();
        let len = core::mem::size_of::<u32>() as c_int;
        self.push_minmax(name, data, len, bindings::proc_douintvec_minmax, min, max)
    }

    /// A read-write entry of `maxlen` bytes at `data`, bounded by `min` and
    /// `max` (the handler's `extra1` and `extra2`).
    fn push_minmax(
        &mut self,
        name: &'static CStr,
        data: *mut c_void,
        maxlen: c_int,
        handler: MinMaxHandler,
        min: &'static u32,
        max: &'static u32,
    ) -> Result {
        self.push(bindings::ctl_table {
            procname: name.as_char_ptr(),
            data,
            maxlen,
            mode: 0o644,
            proc_handler: Some(handler),
            extra1: core::ptr::from_ref(min).cast_mut().cast::<c_void>(),
            extra2: core::ptr::from_ref(max).cast_mut().cast::<c_void>(),
            ..Default::default()
        })
    }

    /// A read-write entry whose value is one of `choices`, by name: reads
    /// give the chosen name, writes take a name (a trailing newline is
    /// ignored) and refuse any other with `ENOENT`, as Linux's
    /// `net.mptcp.scheduler` does. `value` holds the index in `choices`.
    pub(crate) fn add_choice(
        &mut self,
        name: &'static CStr,
        value: &'a AtomicU8,
        choices: &'static Choices,
    ) -> Result {
        let data = value.as_ptr().cast::<c_void>();
        self.push_choice(name, data, 0o644, proc_dochoice, choices)
    }

    /// A read-only entry listing `choices`, separated by spaces (as
    /// `net.mptcp.available_schedulers`).
    pub(crate) fn add_choice_list(
        &mut self,
        name: &'static CStr,
        choices: &'static Choices,
    ) -> Result {
        let data = core::ptr::null_mut();
        self.push_choice(name, data, 0o444, proc_dochoice_list, choices)
    }

    /// An entry of one of the two kinds above.
    fn push_choice(
        &mut self,
        name: &'static CStr,
        data: *mut c_void,
        mode: bindings::umode_t,
        handler: ChoiceHandler,
        choices: &'static Choices,
    ) -> Result {
        self.push(bindings::ctl_table {
            procname: name.as_char_ptr(),
            data,
            maxlen: CHOICE_MAX as c_int,
            mode,
            proc_handler: Some(handler),
            extra1: core::ptr::from_ref(choices).cast_mut().cast::<c_void>(),
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

/// The names a choice entry accepts (at most 255 of them), each shorter
/// than [`CHOICE_MAX`], and all of them together with their separators too.
pub(crate) struct Choices(pub(crate) &'static [&'static str]);

/// A `proc_handler`.
type ProcHandler = unsafe extern "C" fn(
    *const bindings::ctl_table,
    c_int,
    *mut c_void,
    *mut usize,
    *mut bindings::loff_t,
) -> c_int;
/// The handlers of choice entries.
type ChoiceHandler = ProcHandler;
/// The kernel's bounded integer handlers (`proc_dou8vec_minmax`, ...).
type MinMaxHandler = ProcHandler;

/// The longest text a choice entry reads or writes, with its NUL.
const CHOICE_MAX: usize = 128;

/// A NUL-terminated buffer for `proc_dostring`.
struct ChoiceText {
    buf: [u8; CHOICE_MAX],
    len: usize,
}

impl ChoiceText {
    fn new() -> Self {
        Self {
            buf: [0; CHOICE_MAX],
            len: 0,
        }
    }

    /// Appends `s`, or nothing if it does not fit (with the NUL).
    fn push(&mut self, s: &str) {
        if self.len + s.len() < CHOICE_MAX {
            self.buf[self.len..self.len + s.len()].copy_from_slice(s.as_bytes());
            self.len += s.len();
        }
    }

    /// The text up to its first NUL.
    fn text(&self) -> &[u8] {
        let end = self.buf.iter().position(|&b| b == 0).unwrap_or(CHOICE_MAX);
        &self.buf[..end]
    }

    /// Runs `proc_dostring` on this buffer for the entry `table`.
    ///
    /// # Safety
    ///
    /// The arguments are those the kernel passed to the entry's handler.
    unsafe fn proc_dostring(
        &mut self,
        table: &bindings::ctl_table,
        write: c_int,
        buffer: *mut c_void,
        lenp: *mut usize,
        ppos: *mut bindings::loff_t,
    ) -> c_int {
        let tmp = bindings::ctl_table {
            data: self.buf.as_mut_ptr().cast::<c_void>(),
            maxlen: CHOICE_MAX as c_int,
            ..*table
        };
        // SAFETY: `tmp` is a copy of the kernel's entry whose data points at our
        // buffer of `maxlen` bytes, NUL-terminated (it starts zeroed and `push`
        // keeps a NUL); `buffer`, `lenp` and `ppos` are the kernel's own, valid
        // for this call as the caller guarantees.
        unsafe { bindings::proc_dostring(&tmp, write, buffer, lenp, ppos) }
    }
}

/// The handler of [`SysctlTable::add_choice`] entries.
///
/// # Safety
///
/// Called by the sysctl core only, for an entry built by `add_choice`: its
/// `data` points at a live `AtomicU8` (the registration lives no longer than
/// it) and `extra1` at a static [`Choices`].
unsafe extern "C" fn proc_dochoice(
    table: *const bindings::ctl_table,
    write: c_int,
    buffer: *mut c_void,
    lenp: *mut usize,
    ppos: *mut bindings::loff_t,
) -> c_int {
    // SAFETY: the sysctl core passes the registered entry, valid for the call.
    let table = unsafe { &*table };
    // SAFETY: `data` points at the entry's live `AtomicU8` (see above).
    let value = unsafe { &*table.data.cast::<AtomicU8>() };
    // SAFETY: `extra1` points at a static `Choices` (see above).
    let choices = unsafe { &*table.extra1.cast::<Choices>() };
    let mut text = ChoiceText::new();
    if write == 0 {
        let chosen = usize::from(value.load(Ordering::Relaxed));
        text.push(choices.0.get(chosen).copied().unwrap_or(""));
    }
    // SAFETY: the kernel's arguments, passed on.
    let ret = unsafe { text.proc_dostring(table, write, buffer, lenp, ppos) };
    if write == 0 || ret != 0 {
        return ret;
    }
    let wanted = text.text();
    match choices.0.iter().position(|c| c.as_bytes() == wanted) {
        Some(i) => {
            value.store(i as u8, Ordering::Relaxed);
            0
        }
        None => ENOENT.to_errno(),
    }
}

/// The handler of [`SysctlTable::add_choice_list`] entries.
///
/// # Safety
///
/// As [`proc_dochoice`]'s, for an entry built by `add_choice_list`.
unsafe extern "C" fn proc_dochoice_list(
    table: *const bindings::ctl_table,
    write: c_int,
    buffer: *mut c_void,
    lenp: *mut usize,
    ppos: *mut bindings::loff_t,
) -> c_int {
    if write != 0 {
        return EPERM.to_errno();
    }
    // SAFETY: the sysctl core passes the registered entry, valid for the call.
    let table = unsafe { &*table };
    // SAFETY: `extra1` points at a static `Choices` (see above).
    let choices = unsafe { &*table.extra1.cast::<Choices>() };
    let mut text = ChoiceText::new();
    for (i, name) in choices.0.iter().enumerate() {
        if i > 0 {
            text.push(" ");
        }
        text.push(name);
    }
    // SAFETY: the kernel's arguments, passed on.
    unsafe { text.proc_dostring(table, write, buffer, lenp, ppos) }
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
