// SPDX-License-Identifier: GPL-2.0

//! The KUnit suites of mptcp_rs. KUnit runs them when the module is loaded
//! into a kernel with KUnit enabled; `make test` boots the DUT kernel, loads
//! the module and counts the KTAP results.

use crate::kernel_net::kunit::Test;
use crate::mptcp_core::check::Check;
use core::fmt;

mod core_vectors;
mod pernet;

/// Reports the expectations of the protocol core's self-tests to KUnit.
struct KunitCheck<'a> {
    test: &'a Test,
    checked: usize,
}

impl<'a> KunitCheck<'a> {
    fn new(test: &'a Test) -> Self {
        Self { test, checked: 0 }
    }
}

impl Check for KunitCheck<'_> {
    fn check(&mut self, ok: bool, file: &'static str, line: u32, what: fmt::Arguments<'_>) {
        // A module built with MPTCP_RS_KUNIT_FAIL=1 (by the harness's own
        // self-test) turns the first expectation of each case around, so
        // that every case fails.
        let ok = ok != (cfg!(MPTCP_RS_KUNIT_FAIL) && self.checked == 0);
        self.checked += 1;
        if !ok {
            self.test.fail(file, line, what);
        }
    }
}
