// SPDX-License-Identifier: GPL-2.0

//! `.modinfo` entries that the `module!` macro of 6.12 does not offer.

/// Builds the NUL-terminated `key=value` entry of `.modinfo`, `N` bytes long.
pub(crate) const fn entry<const N: usize>(key: &[u8], value: &[u8]) -> [u8; N] {
    assert!(
        key.len() + 1 + value.len() + 1 == N,
        "wrong modinfo entry length"
    );
    let mut out = [0u8; N];
    let mut i = 0;
    while i < key.len() {
        out[i] = key[i];
        i += 1;
    }
    out[i] = b'=';
    let mut j = 0;
    while j < value.len() {
        out[i + 1 + j] = value[j];
        j += 1;
    }
    out
}

/// Declares the module's version (`MODULE_VERSION`): `modinfo` shows it and
/// the kernel publishes it as /sys/module/<name>/version.
macro_rules! module_version {
    ($version:expr) => {
        // `.modinfo` holds NUL-terminated `key=value` strings, which `entry`
        // builds (and the module loader only reads).
        #[allow(unsafe_code)]
        #[link_section = ".modinfo"]
        #[used]
        static MODINFO_VERSION: [u8; "version".len() + $version.len() + 2] =
            $crate::kernel_net::modinfo::entry(b"version", $version.as_bytes());
    };
}
pub(crate) use module_version;
