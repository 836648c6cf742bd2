// SPDX-License-Identifier: GPL-2.0

//! Keys, tokens and initial data sequence numbers (RFC 8684, section 3.1).

/// A SHA-256 implementation supplied by the caller: lib/crypto's `sha256`
/// in the kernel, the `sha2` crate in host tests.
pub trait Sha256: Sized {
    /// Starts a new hash.
    fn new() -> Self;
    /// Feeds `data` into the hash.
    fn update(&mut self, data: &[u8]);
    /// Ends the hash and returns the digest.
    fn finish(self) -> [u8; 32];

    /// The digest of `data`, in one call.
    fn digest(data: &[u8]) -> [u8; 32] {
        let mut h = Self::new();
        h.update(data);
        h.finish()
    }
}

/// The token of a connection and the initial data sequence number of the
/// host that owns `key`: the most significant 32 bits, and the least
/// significant 64 bits, of SHA-256 of the key in network byte order.
pub fn token_and_idsn<H: Sha256>(key: u64) -> (u32, u64) {
    let d = H::digest(&key.to_be_bytes());
    let token = u32::from_be_bytes([d[0], d[1], d[2], d[3]]);
    let mut low = [0u8; 8];
    low.copy_from_slice(&d[24..32]);
    (token, u64::from_be_bytes(low))
}

/// Test vectors, run on the host and as KUnit cases.
#[cfg(any(test, CONFIG_KUNIT))]
pub fn selftest<H: Sha256>(c: &mut dyn crate::check::Check) {
    // FIPS 180-2 appendix B.1: SHA-256("abc").
    let abc = [
        0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22,
        0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00,
        0x15, 0xad,
    ];
    check_eq!(c, H::digest(b"abc"), abc);
    // Fed in pieces, the same digest.
    let mut h = H::new();
    h.update(b"a");
    h.update(b"");
    h.update(b"bc");
    check_eq!(c, h.finish(), abc);
    // The key 0x0102030405060708: SHA-256 of its 8 network-order bytes is
    // 66840dda154e8a113c31dd0ad32f7f3a366a80e8136979d8f5a101d3d29d6f72.
    let (token, idsn) = token_and_idsn::<H>(0x0102_0304_0506_0708);
    check_eq!(c, token, 0x6684_0dda);
    check_eq!(c, idsn, 0xf5a1_01d3_d29d_6f72);
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The host's SHA-256: the `sha2` crate.
    pub(crate) struct HostSha256(sha2::Sha256);

    impl Sha256 for HostSha256 {
        fn new() -> Self {
            Self(<sha2::Sha256 as sha2::Digest>::new())
        }
        fn update(&mut self, data: &[u8]) {
            sha2::Digest::update(&mut self.0, data);
        }
        fn finish(self) -> [u8; 32] {
            sha2::Digest::finalize(self.0).into()
        }
    }

    #[test]
    fn vectors() {
        selftest::<HostSha256>(&mut crate::check::PanicCheck);
    }
}
