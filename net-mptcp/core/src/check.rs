// SPDX-License-Identifier: GPL-2.0

//! Self-tests shared by the host and KUnit.
//!
//! Each module of the core with test vectors exposes `selftest(&mut dyn
//! Check)`. On the host, `cargo test` runs them with a [`Check`] that fails
//! the test; in the module, a KUnit case runs the very same vectors with a
//! [`Check`] that reports to KUnit (kunit-tests/), against the kernel's
//! SHA-256 and rbtree.

use core::fmt;

/// Receives the outcome of each expectation of a self-test.
pub trait Check {
    /// Records one expectation: `ok` is whether it held, `what` describes it.
    fn check(&mut self, ok: bool, file: &'static str, line: u32, what: fmt::Arguments<'_>);
}

/// `check!(c, condition)` or `check!(c, condition, "format", args...)`.
#[macro_export]
macro_rules! check {
    ($c:expr, $cond:expr $(,)?) => {
        $c.check($cond, file!(), line!(), format_args!("{}", stringify!($cond)))
    };
    ($c:expr, $cond:expr, $($fmt:tt)+) => {
        $c.check($cond, file!(), line!(), format_args!($($fmt)+))
    };
}

/// `check_eq!(c, left, right)`: both sides are printed when they differ.
#[macro_export]
macro_rules! check_eq {
    ($c:expr, $left:expr, $right:expr $(,)?) => {{
        let (l, r) = (&$left, &$right);
        $c.check(
            *l == *r,
            file!(),
            line!(),
            format_args!(
                "{} == {}: {:?} != {:?}",
                stringify!($left),
                stringify!($right),
                l,
                r
            ),
        )
    }};
}

/// The host's [`Check`]: panics on the first failed expectation.
#[cfg(test)]
pub struct PanicCheck;

#[cfg(test)]
impl Check for PanicCheck {
    fn check(&mut self, ok: bool, file: &'static str, line: u32, what: fmt::Arguments<'_>) {
        assert!(ok, "{file}:{line}: {what}");
    }
}
