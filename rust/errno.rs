// SPDX-License-Identifier: GPL-2.0

//! Socket error codes that `kernel::error::code` of 6.12 does not declare.

use super::bindings;
use kernel::error::Error;

macro_rules! errno {
    ($($fn:ident = $name:ident),* $(,)?) => {
        $(
            #[doc = concat!("`", stringify!($name), "`.")]
            #[allow(dead_code)]
            pub(crate) fn $fn() -> Error {
                Error::from_errno(-(bindings::$name as i32))
            }
        )*
    };
}

errno!(
    enoprotoopt = ENOPROTOOPT,
    enotconn = ENOTCONN,
    eisconn = EISCONN,
    ealready = EALREADY,
    einprogress = EINPROGRESS,
    econnrefused = ECONNREFUSED,
    econnreset = ECONNRESET,
    eopnotsupp = EOPNOTSUPP,
    eafnosupport = EAFNOSUPPORT,
    eproto = EPROTO,
    etimedout = ETIMEDOUT,
    emsgsize = EMSGSIZE,
);
