// SPDX-License-Identifier: GPL-2.0

//! KUnit suites written in Rust.
//!
//! Linux 6.12 has no `#[kunit_tests]` macro. [`kunit_suite!`] builds the C
//! `struct kunit_suite` and its `struct kunit_case` array as statics and puts
//! a pointer to the suite in the module's `.kunit_test_suites` section, where
//! the module loader finds it; KUnit runs the suite when the module loads and
//! prints KTAP results to the kernel log.
//!
//! A case is a plain function `fn(&Test)`. It reports failures with
//! [`Test::fail`] (through the `Check` implementation of the kunit-tests
//! directory) and keeps going, as `KUNIT_EXPECT_*` does.

use super::bindings;
use core::{cell::UnsafeCell, fmt};
use kernel::ffi::c_void;
use kernel::{str::CStr, types::Opaque};

/// The KUnit test a case runs in (`struct kunit`).
#[repr(transparent)]
pub(crate) struct Test(Opaque<bindings::kunit>);

impl Test {
    /// Records a failed expectation at `file:line`: the case is reported as
    /// failed, with `msg`, and goes on.
    pub(crate) fn fail(&self, file: &str, line: u32, msg: fmt::Arguments<'_>) {
        // KUnit wants a C string: keep the tail of long paths.
        let mut path = [0u8; 96];
        let n = file.len().min(path.len() - 1);
        path[..n].copy_from_slice(&file.as_bytes()[file.len() - n..]);
        let loc = bindings::kunit_loc {
            line: line as i32,
            file: path.as_ptr().cast(),
        };
        let assert = bindings::kunit_fail_assert::default();
        // SAFETY: `self` is the running test (see `Case::run`); `loc`, `assert`
        // and `msg` outlive the call, which formats them into the test log; `%pA`
        // is the kernel's format for a `fmt::Arguments`, which `msg` is.
        unsafe {
            bindings::__kunit_do_failed_assertion(
                self.0.get(),
                &loc,
                bindings::kunit_assert_type_KUNIT_EXPECTATION,
                &assert.assert,
                Some(bindings::kunit_fail_assert_format),
                kernel::c_str!("%pA").as_char_ptr(),
                core::ptr::from_ref(&msg).cast::<c_void>(),
            )
        };
    }
}

/// A test case; [`kunit_suite!`] implements it for each case function.
pub(crate) trait Case {
    /// The name KUnit reports.
    const NAME: &'static CStr;
    /// Runs the case.
    fn run(test: &Test);
}

/// # Safety
///
/// Only the kernel calls this, through the table or hook this module
/// registered it in, with the arguments that callback is defined to get.
unsafe extern "C" fn run_case<C: Case>(test: *mut bindings::kunit) {
    // SAFETY: KUnit calls `run_case` with the `struct kunit` of the running
    // test, which lives until the case returns.
    C::run(unsafe { &*test.cast::<Test>() });
}

/// The `kunit_case` of `C`.
pub(crate) const fn case<C: Case>() -> bindings::kunit_case {
    let mut case = end_of_cases();
    case.run_case = Some(run_case::<C>);
    case.name = C::NAME.as_char_ptr();
    case
}

/// The all-zeroes entry that ends a case array.
pub(crate) const fn end_of_cases() -> bindings::kunit_case {
    // SAFETY: all-zeroes is a valid `kunit_case`: null pointers, `None`
    // callbacks, zero attributes and status.
    unsafe { core::mem::zeroed() }
}

/// The case array of a suite, which KUnit writes results into.
#[repr(transparent)]
pub(crate) struct Cases<const N: usize>(UnsafeCell<[bindings::kunit_case; N]>);

impl<const N: usize> Cases<N> {
    /// Wraps the cases; the last must be [`end_of_cases`].
    pub(crate) const fn new(cases: [bindings::kunit_case; N]) -> Self {
        assert!(
            cases[N - 1].run_case.is_none(),
            "the last case must end the array"
        );
        Self(UnsafeCell::new(cases))
    }
}

// SAFETY: only KUnit accesses the cases, one suite run at a time.
unsafe impl<const N: usize> Sync for Cases<N> {}

/// A suite (`struct kunit_suite`), which KUnit writes its state into.
#[repr(transparent)]
pub(crate) struct Suite(UnsafeCell<bindings::kunit_suite>);

impl Suite {
    /// A suite named `name` that runs `cases`.
    pub(crate) const fn new<const N: usize>(name: &CStr, cases: &'static Cases<N>) -> Self {
        // SAFETY: all-zeroes is a valid `kunit_suite`: empty strings, null
        // pointers, `None` callbacks.
        let mut suite: bindings::kunit_suite = unsafe { core::mem::zeroed() };
        let bytes = name.as_bytes_with_nul();
        assert!(bytes.len() <= suite.name.len(), "suite name too long");
        let mut i = 0;
        while i < bytes.len() {
            suite.name[i] = bytes[i] as _;
            i += 1;
        }
        suite.test_cases = cases.0.get().cast();
        Self(UnsafeCell::new(suite))
    }
}

// SAFETY: only KUnit accesses the suite, which it runs once per module load.
unsafe impl Sync for Suite {}

/// An entry of the `.kunit_test_suites` section: a pointer to a suite.
#[repr(transparent)]
pub(crate) struct SuiteEntry(*const Suite);

impl SuiteEntry {
    /// The entry of `suite`.
    pub(crate) const fn new(suite: &'static Suite) -> Self {
        Self(suite)
    }
}

// SAFETY: the pointer is to a static and is only read, by the module loader.
unsafe impl Sync for SuiteEntry {}

/// Declares a KUnit suite of this module: `kunit_suite!(name, [case, ...]);`
/// where each case is a function `fn(&Test)` in scope.
macro_rules! kunit_suite {
    ($suite:ident, [$($case:ident),+ $(,)?]) => {
        const _: () = {
            use $crate::kernel_net::kunit::{self as kunit, Case, Cases, Suite, SuiteEntry, Test};
            $(
                #[allow(non_camel_case_types)]
                struct $case {}
                impl Case for $case {
                    const NAME: &'static ::kernel::str::CStr = ::kernel::c_str!(stringify!($case));
                    fn run(test: &Test) {
                        $case(test)
                    }
                }
            )+
            static CASES: Cases<{ [$(stringify!($case)),+].len() + 1 }> =
                Cases::new([$(kunit::case::<$case>(),)+ kunit::end_of_cases()]);
            static SUITE: Suite = Suite::new(::kernel::c_str!(stringify!($suite)), &CASES);
            // `.kunit_test_suites` is the kernel's array of `struct
            // kunit_suite *` that the module loader hands to KUnit; `SuiteEntry`
            // is exactly such a pointer, to a suite that lives in this module.
            #[allow(unsafe_code)]
            #[used]
            #[link_section = ".kunit_test_suites"]
            static ENTRY: SuiteEntry = SuiteEntry::new(&SUITE);
        };
    };
}
pub(crate) use kunit_suite;
