// SPDX-License-Identifier: GPL-2.0

//! Keys, tokens and initial data sequence numbers (RFC 8684, section 3.1),
//! and the HMACs that authenticate MP_JOIN (section 3.2) and ADD_ADDR
//! (section 3.4.1).
//!
//! The core has no SHA-256 of its own: the caller supplies one through
//! [`Sha256`]. HMAC-SHA256 is built on it as RFC 2104 describes
//! ([`hmac_sha256`]).
//!
//! Naming follows RFC 8684: for MP_JOIN, host A is the one that sends the
//! SYN carrying MP_JOIN (the initiator of the new subflow) and host B the one
//! that answers it; Key-A and Key-B are the keys that A and B exchanged in
//! the MP_CAPABLE handshake, R-A and R-B the random nonces of the MP_JOIN
//! handshake.

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

/// The block size of SHA-256, in octets: HMAC pads its key to this.
pub const SHA256_BLOCK_LEN: usize = 64;

/// HMAC-SHA256 (RFC 2104) of the concatenation of `message`'s parts under
/// `key`, with the caller's SHA-256.
///
/// A key longer than the block size is first hashed, as RFC 2104 requires.
/// The message is taken in parts so that callers need no buffer to
/// concatenate fields.
pub fn hmac_sha256<H: Sha256>(key: &[u8], message: &[&[u8]]) -> [u8; 32] {
    // K0: the key, hashed if longer than a block, padded with zeroes.
    let mut k0 = [0u8; SHA256_BLOCK_LEN];
    if key.len() > SHA256_BLOCK_LEN {
        let hashed = H::digest(key);
        for (b, k) in k0.iter_mut().zip(hashed.iter()) {
            *b = *k;
        }
    } else {
        for (b, k) in k0.iter_mut().zip(key) {
            *b = *k;
        }
    }
    // H((K0 ^ ipad) || message)
    let mut pad = [0u8; SHA256_BLOCK_LEN];
    for (p, k) in pad.iter_mut().zip(k0.iter()) {
        *p = k ^ 0x36;
    }
    let mut inner = H::new();
    inner.update(&pad);
    for part in message {
        inner.update(part);
    }
    let inner = inner.finish();
    // H((K0 ^ opad) || inner)
    for (p, k) in pad.iter_mut().zip(k0.iter()) {
        *p = k ^ 0x5c;
    }
    let mut outer = H::new();
    outer.update(&pad);
    outer.update(&inner);
    outer.finish()
}

/// The leftmost 64 bits of a digest, as the big-endian number whose
/// network-order octets they are.
fn leftmost64(digest: &[u8; 32]) -> u64 {
    let [a, b, c, d, e, f, g, h, ..] = *digest;
    u64::from_be_bytes([a, b, c, d, e, f, g, h])
}

/// The rightmost 64 bits of a digest, as a big-endian number.
fn rightmost64(digest: &[u8; 32]) -> u64 {
    let [.., a, b, c, d, e, f, g, h] = *digest;
    u64::from_be_bytes([a, b, c, d, e, f, g, h])
}

/// The full MP_JOIN HMAC that a host sends (RFC 8684, section 3.2):
/// `HMAC(Key = sender's key || receiver's key, Msg = sender's nonce ||
/// receiver's nonce)`, all in network byte order.
///
/// HMAC-A is `mp_join_hmac(Key-A, Key-B, R-A, R-B)` and HMAC-B is
/// `mp_join_hmac(Key-B, Key-A, R-B, R-A)`. Most callers want the truncated
/// forms: [`mp_join_synack_hmac`] and [`mp_join_ack_hmac`].
pub fn mp_join_hmac<H: Sha256>(
    sender_key: u64,
    receiver_key: u64,
    sender_nonce: u32,
    receiver_nonce: u32,
) -> [u8; 32] {
    let (sn, rn) = (sender_nonce.to_be_bytes(), receiver_nonce.to_be_bytes());
    hmac_sha256::<H>(&key_pair(sender_key, receiver_key), &[&sn, &rn])
}

/// The HMAC key made of two 64-bit keys, `first` then `second`, in network
/// byte order.
fn key_pair(first: u64, second: u64) -> [u8; 16] {
    ((u128::from(first) << 64) | u128::from(second)).to_be_bytes()
}

/// The truncated HMAC of the MP_JOIN SYN/ACK, sent by host B (the subflow's
/// responder) and checked by host A: the leftmost 64 bits of HMAC-B =
/// `HMAC(Key-B || Key-A, R-B || R-A)`, as a big-endian number.
///
/// Both hosts call it with the same arguments: A's key and nonce, then B's.
pub fn mp_join_synack_hmac<H: Sha256>(key_a: u64, key_b: u64, r_a: u32, r_b: u32) -> u64 {
    leftmost64(&mp_join_hmac::<H>(key_b, key_a, r_b, r_a))
}

/// The length of the HMAC in the third ACK of MP_JOIN: 160 bits.
pub const MP_JOIN_ACK_HMAC_LEN: usize = 20;

/// The HMAC of the MP_JOIN third ACK, sent by host A (the subflow's
/// initiator) and checked by host B: the leftmost 160 bits of HMAC-A =
/// `HMAC(Key-A || Key-B, R-A || R-B)`.
///
/// Both hosts call it with the same arguments: A's key and nonce, then B's.
pub fn mp_join_ack_hmac<H: Sha256>(
    key_a: u64,
    key_b: u64,
    r_a: u32,
    r_b: u32,
) -> [u8; MP_JOIN_ACK_HMAC_LEN] {
    let full = mp_join_hmac::<H>(key_a, key_b, r_a, r_b);
    let mut out = [0u8; MP_JOIN_ACK_HMAC_LEN];
    for (o, d) in out.iter_mut().zip(full.iter()) {
        *o = *d;
    }
    out
}

/// The truncated HMAC of an ADD_ADDR option (RFC 8684, section 3.4.1): the
/// *rightmost* 64 bits of `HMAC(Key = sender's key || receiver's key, Msg =
/// Address ID || IP address || port)`, as a big-endian number.
///
/// The keys are those of the MP_CAPABLE handshake: the host sending the
/// ADD_ADDR uses its own key first; the host receiving it verifies with the
/// sender's key first. `address` is the address as carried in the option
/// (4 octets for IPv4, 16 for IPv6, network order). The port is 2 octets in
/// network order, and 2 octets of zero when the option carries no port.
pub fn add_addr_hmac<H: Sha256>(
    sender_key: u64,
    receiver_key: u64,
    address_id: u8,
    address: &[u8],
    port: Option<u16>,
) -> u64 {
    let keys = key_pair(sender_key, receiver_key);
    let port = port.unwrap_or(0).to_be_bytes();
    rightmost64(&hmac_sha256::<H>(&keys, &[&[address_id], address, &port]))
}

/// Compares two HMACs in time independent of where they differ, so that a
/// forger learns nothing from how quickly a guess is refused.
pub fn hmac_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A host's key for one connection, with what derives from it: the token
/// that names the connection to the peer in MP_JOIN, and the initial data
/// sequence number of the data this host sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocalKey {
    /// The 64-bit key, sent in MP_CAPABLE.
    pub key: u64,
    /// The most significant 32 bits of SHA-256(key).
    pub token: u32,
    /// The least significant 64 bits of SHA-256(key): the IDSN.
    pub idsn: u64,
}

impl LocalKey {
    /// The token and IDSN of `key`.
    pub fn from_key<H: Sha256>(key: u64) -> Self {
        let (token, idsn) = token_and_idsn::<H>(key);
        Self { key, token, idsn }
    }
}

/// Generates a key for a new connection (RFC 8684, section 3.1).
///
/// `random` draws 64 random bits (get_random_u64 in the kernel). The token
/// of a connection must be unique on the host, so each candidate's token is
/// offered to `claim_token`, which must atomically check that no other
/// connection uses it and reserve it, returning whether it did; a key whose
/// token collides is thrown away and a new one drawn. Gives up, returning
/// `None`, after `attempts` candidates.
pub fn generate_key<H: Sha256>(
    mut random: impl FnMut() -> u64,
    mut claim_token: impl FnMut(u32) -> bool,
    attempts: u32,
) -> Option<LocalKey> {
    for _ in 0..attempts {
        let candidate = LocalKey::from_key::<H>(random());
        if claim_token(candidate.token) {
            return Some(candidate);
        }
    }
    None
}

/// Test vectors, run on the host and as KUnit cases.
#[cfg(any(test, CONFIG_KUNIT))]
pub fn selftest<H: Sha256>(c: &mut dyn super::check::Check) {
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
    check_eq!(
        c,
        LocalKey::from_key::<H>(0x1122_3344_5566_7788),
        LocalKey {
            key: 0x1122_3344_5566_7788,
            token: 0x1dce_6604,
            idsn: 0x6281_5714_b76a_e9a5
        }
    );

    hmac_vectors::<H>(c);
    mptcp_hmac_vectors::<H>(c);
    key_generation_vectors::<H>(c);
}

/// RFC 4231 test cases 1-4, 6 and 7 for HMAC-SHA256.
#[cfg(any(test, CONFIG_KUNIT))]
fn hmac_vectors<H: Sha256>(c: &mut dyn super::check::Check) {
    // Test case 1: a 20-octet key.
    let tc1 = [
        0xb0, 0x34, 0x4c, 0x61, 0xd8, 0xdb, 0x38, 0x53, 0x5c, 0xa8, 0xaf, 0xce, 0xaf, 0x0b, 0xf1,
        0x2b, 0x88, 0x1d, 0xc2, 0x00, 0xc9, 0x83, 0x3d, 0xa7, 0x26, 0xe9, 0x37, 0x6c, 0x2e, 0x32,
        0xcf, 0xf7,
    ];
    check_eq!(c, hmac_sha256::<H>(&[0x0b; 20], &[b"Hi There"]), tc1);
    // The same message in parts, one of them empty.
    check_eq!(
        c,
        hmac_sha256::<H>(&[0x0b; 20], &[b"Hi", b"", b" There"]),
        tc1
    );
    // Test case 2: a key shorter than the output.
    let tc2 = [
        0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24, 0x26, 0x08, 0x95, 0x75,
        0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27, 0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec,
        0x38, 0x43,
    ];
    check_eq!(
        c,
        hmac_sha256::<H>(b"Jefe", &[b"what do ya want for nothing?"]),
        tc2
    );
    // Test case 3: 50 octets of 0xdd.
    let tc3 = [
        0x77, 0x3e, 0xa9, 0x1e, 0x36, 0x80, 0x0e, 0x46, 0x85, 0x4d, 0xb8, 0xeb, 0xd0, 0x91, 0x81,
        0xa7, 0x29, 0x59, 0x09, 0x8b, 0x3e, 0xf8, 0xc1, 0x22, 0xd9, 0x63, 0x55, 0x14, 0xce, 0xd5,
        0x65, 0xfe,
    ];
    check_eq!(c, hmac_sha256::<H>(&[0xaa; 20], &[&[0xdd; 50]]), tc3);
    // Test case 4: a 25-octet key 0x01..0x19.
    let mut key4 = [0u8; 25];
    for (i, k) in (1u8..).zip(key4.iter_mut()) {
        *k = i;
    }
    let tc4 = [
        0x82, 0x55, 0x8a, 0x38, 0x9a, 0x44, 0x3c, 0x0e, 0xa4, 0xcc, 0x81, 0x98, 0x99, 0xf2, 0x08,
        0x3a, 0x85, 0xf0, 0xfa, 0xa3, 0xe5, 0x78, 0xf8, 0x07, 0x7a, 0x2e, 0x3f, 0xf4, 0x67, 0x29,
        0x66, 0x5b,
    ];
    check_eq!(c, hmac_sha256::<H>(&key4, &[&[0xcd; 50]]), tc4);
    // Test case 6: a 131-octet key, longer than the block: hashed first.
    let tc6 = [
        0x60, 0xe4, 0x31, 0x59, 0x1e, 0xe0, 0xb6, 0x7f, 0x0d, 0x8a, 0x26, 0xaa, 0xcb, 0xf5, 0xb7,
        0x7f, 0x8e, 0x0b, 0xc6, 0x21, 0x37, 0x28, 0xc5, 0x14, 0x05, 0x46, 0x04, 0x0f, 0x0e, 0xe3,
        0x7f, 0x54,
    ];
    let msg6: &[u8] = b"Test Using Larger Than Block-Size Key - Hash Key First";
    check_eq!(c, hmac_sha256::<H>(&[0xaa; 131], &[msg6]), tc6);
    // Test case 7: a long key and a message longer than the block.
    let tc7 = [
        0x9b, 0x09, 0xff, 0xa7, 0x1b, 0x94, 0x2f, 0xcb, 0x27, 0x63, 0x5f, 0xbc, 0xd5, 0xb0, 0xe9,
        0x44, 0xbf, 0xdc, 0x63, 0x64, 0x4f, 0x07, 0x13, 0x93, 0x8a, 0x7f, 0x51, 0x53, 0x5c, 0x3a,
        0x35, 0xe2,
    ];
    let msg7: &[u8] = b"This is a test using a larger than block-size key and a larger \
than block-size data. The key needs to be hashed before being used by the HMAC algorithm.";
    check_eq!(c, hmac_sha256::<H>(&[0xaa; 131], &[msg7]), tc7);
}

/// MP_JOIN and ADD_ADDR HMACs, computed independently with Python's `hmac`
/// and `hashlib`.
#[cfg(any(test, CONFIG_KUNIT))]
fn mptcp_hmac_vectors<H: Sha256>(c: &mut dyn super::check::Check) {
    let (key_a, key_b) = (0x1122_3344_5566_7788, 0x99aa_bbcc_ddee_ff00);
    let (r_a, r_b) = (0x0102_0304, 0xa1b2_c3d4);
    // HMAC-B = HMAC(Key-B || Key-A, R-B || R-A) =
    // d14ba1921b1b47ddb2380bef6ca84f78ccaa68c234a9cf869960643c6d853f89.
    check_eq!(
        c,
        mp_join_synack_hmac::<H>(key_a, key_b, r_a, r_b),
        0xd14b_a192_1b1b_47dd
    );
    // HMAC-A = HMAC(Key-A || Key-B, R-A || R-B) =
    // 02490056b6384cfb2c8ab5701982e5d0242631312b392a9826d3c81508312d8b.
    let hmac_a = [
        0x02, 0x49, 0x00, 0x56, 0xb6, 0x38, 0x4c, 0xfb, 0x2c, 0x8a, 0xb5, 0x70, 0x19, 0x82, 0xe5,
        0xd0, 0x24, 0x26, 0x31, 0x31,
    ];
    check_eq!(c, mp_join_ack_hmac::<H>(key_a, key_b, r_a, r_b), hmac_a);
    check!(
        c,
        hmac_eq(&mp_join_ack_hmac::<H>(key_a, key_b, r_a, r_b), &hmac_a)
    );
    check!(
        c,
        !hmac_eq(&mp_join_ack_hmac::<H>(key_a, key_b, r_b, r_a), &hmac_a)
    );
    check!(c, !hmac_eq(&hmac_a[..19], &hmac_a));
    // The roles matter: swapping A and B gives the other HMAC.
    check_eq!(
        c,
        leftmost64(&mp_join_hmac::<H>(key_b, key_a, r_b, r_a)),
        0xd14b_a192_1b1b_47dd
    );
    check!(
        c,
        mp_join_synack_hmac::<H>(key_b, key_a, r_b, r_a) != 0xd14b_a192_1b1b_47dd
    );

    // ADD_ADDR sent by the host with key_a: ID 3, 192.0.2.1, port 8080.
    // The full HMAC is 54b0b43b1910192292bdd038d2dbb061
    // 000c0174f71cab776b17e3895097cd33: the rightmost 64 bits are sent.
    let v4 = [192, 0, 2, 1];
    check_eq!(
        c,
        add_addr_hmac::<H>(key_a, key_b, 3, &v4, Some(8080)),
        0x6b17_e389_5097_cd33
    );
    // Without a port: two octets of zero in the message.
    check_eq!(
        c,
        add_addr_hmac::<H>(key_a, key_b, 3, &v4, None),
        0x31bb_7de3_cfe3_09e7
    );
    check_eq!(
        c,
        add_addr_hmac::<H>(key_a, key_b, 3, &v4, Some(0)),
        0x31bb_7de3_cfe3_09e7
    );
    // Sent by the other host: its key first.
    check_eq!(
        c,
        add_addr_hmac::<H>(key_b, key_a, 3, &v4, Some(8080)),
        0x858f_9968_78d1_1195
    );
    // IPv6: ID 7, 2001:db8::1, without and with port 443.
    let v6 = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    check_eq!(
        c,
        add_addr_hmac::<H>(key_a, key_b, 7, &v6, None),
        0x1274_7c1d_69b4_9b83
    );
    check_eq!(
        c,
        add_addr_hmac::<H>(key_a, key_b, 7, &v6, Some(443)),
        0xb45e_16ca_176a_672f
    );
}

/// Key generation draws again when a token is already in use.
#[cfg(any(test, CONFIG_KUNIT))]
fn key_generation_vectors<H: Sha256>(c: &mut dyn super::check::Check) {
    let draws = [0x0102_0304_0506_0708, 0x1122_3344_5566_7788];
    let mut next = 0;
    let mut random = || {
        let r = draws.get(next).copied().unwrap_or(0);
        next += 1;
        r
    };
    // The first key's token, 0x66840dda, is taken.
    let key = generate_key::<H>(&mut random, |token| token != 0x6684_0dda, 4);
    check_eq!(
        c,
        key.map(|k| (k.key, k.token)),
        Some((0x1122_3344_5566_7788, 0x1dce_6604))
    );
    check_eq!(c, next, 2);
    // Every token taken: gives up after the given number of attempts.
    let mut drawn = 0u32;
    let none = generate_key::<H>(
        || {
            drawn += 1;
            u64::from(drawn)
        },
        |_| false,
        3,
    );
    check_eq!(c, none, None);
    check_eq!(c, drawn, 3);
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

    /// The reference HMAC: the `hmac` crate over `sha2`.
    fn reference_hmac(key: &[u8], message: &[u8]) -> [u8; 32] {
        use hmac::Mac;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).expect("any key length");
        mac.update(message);
        mac.finalize().into_bytes().into()
    }

    proptest::proptest! {
        #[test]
        fn hmac_matches_reference(
            key in proptest::collection::vec(proptest::num::u8::ANY, 0..200),
            message in proptest::collection::vec(proptest::num::u8::ANY, 0..300),
            split in 0usize..300,
        ) {
            let split = split.min(message.len());
            let (head, tail) = message.split_at(split);
            let expected = reference_hmac(&key, &message);
            proptest::prop_assert_eq!(hmac_sha256::<HostSha256>(&key, &[&message]), expected);
            proptest::prop_assert_eq!(hmac_sha256::<HostSha256>(&key, &[head, tail]), expected);
        }

        #[test]
        fn mp_join_matches_reference(key_a: u64, key_b: u64, r_a: u32, r_b: u32) {
            let mut key = key_b.to_be_bytes().to_vec();
            key.extend_from_slice(&key_a.to_be_bytes());
            let mut msg = r_b.to_be_bytes().to_vec();
            msg.extend_from_slice(&r_a.to_be_bytes());
            let hmac_b = reference_hmac(&key, &msg);
            let synack = mp_join_synack_hmac::<HostSha256>(key_a, key_b, r_a, r_b);
            proptest::prop_assert_eq!(&synack.to_be_bytes()[..], &hmac_b[..8]);

            let mut key = key_a.to_be_bytes().to_vec();
            key.extend_from_slice(&key_b.to_be_bytes());
            let mut msg = r_a.to_be_bytes().to_vec();
            msg.extend_from_slice(&r_b.to_be_bytes());
            let hmac_a = reference_hmac(&key, &msg);
            let ack = mp_join_ack_hmac::<HostSha256>(key_a, key_b, r_a, r_b);
            proptest::prop_assert_eq!(&ack[..], &hmac_a[..20]);
        }

        #[test]
        fn add_addr_matches_reference(
            sender: u64,
            receiver: u64,
            id: u8,
            v6: bool,
            addr: [u8; 16],
            port: Option<u16>,
        ) {
            let address = if v6 { &addr[..] } else { &addr[..4] };
            let mut key = sender.to_be_bytes().to_vec();
            key.extend_from_slice(&receiver.to_be_bytes());
            let mut msg = std::vec![id];
            msg.extend_from_slice(address);
            msg.extend_from_slice(&port.unwrap_or(0).to_be_bytes());
            let full = reference_hmac(&key, &msg);
            let ours = add_addr_hmac::<HostSha256>(sender, receiver, id, address, port);
            proptest::prop_assert_eq!(&ours.to_be_bytes()[..], &full[24..]);
        }
    }
}
