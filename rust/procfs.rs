// SPDX-License-Identifier: GPL-2.0

//! Read-only files under /proc/net, one per network namespace
//! (`proc_create_net_single`).

use super::{bindings, net::Net};
use core::fmt;
use kernel::{ffi::c_int, prelude::*, str::CStr};

/// Where a `show` function writes (`struct seq_file`).
pub(crate) struct SeqFile(*mut bindings::seq_file);

impl fmt::Write for SeqFile {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        // SAFETY: `self.0` is the seq_file of the `show` call in progress;
        // `s` is valid for reads of its length.
        unsafe { bindings::seq_write(self.0, s.as_ptr().cast(), s.len()) };
        Ok(())
    }
}

/// What a /proc/net file shows, for the namespace it is read in.
pub(crate) trait ProcShow: 'static {
    fn show(net: &Net, out: &mut SeqFile) -> fmt::Result;
}

/// A /proc/net file of a namespace; removed when dropped.
pub(crate) struct NetProcFile {
    net: *mut bindings::net,
    name: &'static CStr,
}

// SAFETY: only used to remove the file, from any thread.
unsafe impl Send for NetProcFile {}
// SAFETY: no shared operation.
unsafe impl Sync for NetProcFile {}

impl NetProcFile {
    /// Creates /proc/net/`name` in `net`, shown by `S`.
    pub(crate) fn create<S: ProcShow>(net: &Net, name: &'static CStr) -> Result<Self> {
        // SAFETY: `net` is live; `name` is static; the show callback is ours
        // and the file is removed (by drop) before the module goes.
        let pde = unsafe {
            bindings::mptcp_rs_proc_create_net_single(
                net.as_raw(),
                name.as_char_ptr(),
                0o444,
                Some(show_cb::<S>),
            )
        };
        if pde.is_null() {
            return Err(ENOMEM);
        }
        Ok(Self {
            net: net.as_raw(),
            name,
        })
    }
}

impl Drop for NetProcFile {
    fn drop(&mut self) {
        // SAFETY: the file was created in `net`, which outlives this handle
        // (dropped in the namespace's pernet exit at the latest); removing it
        // waits for readers in progress.
        unsafe { bindings::mptcp_rs_proc_remove_net(self.net, self.name.as_char_ptr()) };
    }
}

/// # Safety
///
/// Only the kernel calls this, through the table or hook this module
/// registered it in, with the arguments that callback is defined to get.
unsafe extern "C" fn show_cb<S: ProcShow>(
    seq: *mut bindings::seq_file,
    _v: *mut core::ffi::c_void,
) -> c_int {
    // SAFETY: for files made by `proc_create_net_single`, `seq->private` is
    // the namespace the file is read in, held for the read.
    let net = unsafe { Net::from_raw((*seq).private.cast()) };
    match S::show(net, &mut SeqFile(seq)) {
        Ok(()) => 0,
        Err(_) => EINVAL.to_errno(),
    }
}
