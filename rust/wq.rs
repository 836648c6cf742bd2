// SPDX-License-Identifier: GPL-2.0

//! A workqueue of the module's own, destroyed (and so drained) at unload:
//! work items of connections may still run after their sockets are gone.

use super::{bindings, global::Global};
use kernel::{prelude::*, workqueue::Queue};

/// The module's workqueue.
pub(crate) struct ModuleQueue {
    raw: *mut bindings::workqueue_struct,
}

// SAFETY: a workqueue may be used from any context and thread.
unsafe impl Send for ModuleQueue {}
// SAFETY: as above.
unsafe impl Sync for ModuleQueue {}

impl ModuleQueue {
    /// Allocates an unbound workqueue named `mptcp_rs`.
    pub(crate) fn new() -> Result<Self> {
        // SAFETY: plain allocation; the name is a static C string.
        let raw =
            unsafe { bindings::mptcp_rs_alloc_workqueue(kernel::c_str!("mptcp_rs").as_char_ptr()) };
        if raw.is_null() {
            return Err(ENOMEM);
        }
        Ok(Self { raw })
    }

    /// The queue, to enqueue work items on.
    pub(crate) fn queue(&self) -> &Queue {
        // SAFETY: `raw` is a live workqueue until drop; both binding sets
        // describe the same `struct workqueue_struct`.
        unsafe { Queue::from_raw(self.raw.cast()) }
    }
}

impl Drop for ModuleQueue {
    fn drop(&mut self) {
        // SAFETY: allocated in `new`; destroying drains the queued items.
        unsafe { bindings::destroy_workqueue(self.raw) };
    }
}

/// The global queue of the module.
pub(crate) static QUEUE: Global<ModuleQueue> = Global::new();

/// Creates the module's queue (module load).
pub(crate) fn init() -> Result {
    QUEUE.set(KBox::pin(ModuleQueue::new()?, GFP_KERNEL)?);
    Ok(())
}

/// Destroys the module's queue, waiting for running items (module unload).
/// Call it when no connection is left: connections are what queue work.
pub(crate) fn drain() {
    // SAFETY: the module unloads: every connection is gone (the caller waited
    // for them), so nothing queues work or holds a reference to the queue.
    unsafe { QUEUE.clear() };
}
