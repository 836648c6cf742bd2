// SPDX-License-Identifier: GPL-2.0

//! The MPTCP v1 option codec (RFC 8684, section 3).
//!
//! Every MPTCP option is TCP option kind 30. Its third byte holds the
//! subtype in its high nibble; the rest of the layout depends on the
//! subtype and, within a subtype, on the option's length:
//!
//! ```text
//!  0               1               2               3
//!  +---------------+---------------+-------+-------+---------------
//!  |  Kind (30)    |    Length     |Subtype|       | subtype-specific
//!  +---------------+---------------+-------+-------+---------------
//! ```
//!
//! This module holds every layout in one place:
//!
//! * Types: [`MptcpOption`] and one type per subtype ([`MpCapable`],
//!   [`MpJoin`], [`Dss`], [`AddAddr`], [`RemoveAddr`], [`MpPrio`],
//!   [`MpFail`], [`MpFastclose`], [`MpTcpRst`]). Fields carry RFC 8684's
//!   names. Forms of one subtype are told apart by their length, exactly as
//!   the RFC defines them; a length that matches no form is an error.
//! * Parsing, sans I/O: [`options`] walks a TCP options area (the bytes
//!   after the fixed 20-byte TCP header) and yields each MPTCP option or a
//!   typed [`OptionError`]; [`Received::parse`] collects what one segment
//!   carries.
//! * Writing: [`MptcpOption::encoded_len`] and [`MptcpOption::write`] for
//!   one option, [`planned_len`] and [`write_options`] for a set,
//!   [`pad_with_nops`] to end a block on a 32-bit boundary.
//! * The DSS checksum (section 3.3.1): [`dss_checksum`] and
//!   [`dss_checksum_ok`], over payload given as bytes or as the partial sum
//!   the kernel's `csum_partial` computed ([`PayloadSum`]).
//!
//! Parsing never panics and never reads out of bounds, whatever the input:
//! malformed bytes give an [`OptionError`]. Writing what was parsed gives
//! bytes that parse back to the same value.

use core::fmt;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// TCP option kind End of Option List (RFC 9293, section 3.2).
pub const TCPOPT_EOL: u8 = 0;
/// TCP option kind No-Operation (RFC 9293, section 3.2).
pub const TCPOPT_NOP: u8 = 1;
/// TCP option kind of every MPTCP option (RFC 8684, section 8).
pub const TCPOPT_MPTCP: u8 = 30;
/// The largest TCP options area: a 60-byte header less its 20 fixed bytes.
pub const MAX_OPTIONS_LEN: usize = 40;
/// The subtype of MP_EXPERIMENTAL (RFC 8684, section 8), which this codec
/// reports as [`OptionError::UnknownSubtype`] like any unassigned subtype.
pub const MP_EXPERIMENTAL: u8 = 0xf;

// Option lengths of the forms, RFC 8684, section 3.
const MPC_SYN_LEN: u8 = 4;
const MPC_SYNACK_LEN: u8 = 12;
const MPC_ACK_LEN: u8 = 20;
const MPC_ACK_DATA_LEN: u8 = 22;
const MPC_ACK_DATA_CSUM_LEN: u8 = 24;
const MPJ_SYN_LEN: u8 = 12;
const MPJ_SYNACK_LEN: u8 = 16;
const MPJ_ACK_LEN: u8 = 24;
const DSS_BASE_LEN: u8 = 4;
const ADD_ADDR_BASE_LEN: u8 = 4;
const REMOVE_ADDR_BASE_LEN: u8 = 3;
const MP_PRIO_LEN: u8 = 3;
const MP_FAIL_LEN: u8 = 12;
const MP_FASTCLOSE_LEN: u8 = 12;
const MP_TCPRST_LEN: u8 = 4;

// DSS flags (RFC 8684, section 3.3, Figure 9).
const DSS_A: u8 = 0x01; // Data ACK present
const DSS_LOWER_A: u8 = 0x02; // Data ACK is 8 octets
const DSS_M: u8 = 0x04; // DSN, subflow sequence number, data-level length (and checksum) present
const DSS_LOWER_M: u8 = 0x08; // DSN is 8 octets
const DSS_F: u8 = 0x10; // DATA_FIN

/// The MPTCP option subtypes (RFC 8684, section 8, "MPTCP Option Subtypes").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Subtype {
    /// MP_CAPABLE: Multipath Capable (section 3.1).
    MpCapable = 0x0,
    /// MP_JOIN: Join Connection (section 3.2).
    MpJoin = 0x1,
    /// DSS: Data Sequence Signal (section 3.3).
    Dss = 0x2,
    /// ADD_ADDR: Add Address (section 3.4.1).
    AddAddr = 0x3,
    /// REMOVE_ADDR: Remove Address (section 3.4.2).
    RemoveAddr = 0x4,
    /// MP_PRIO: Change Subflow Priority (section 3.3.8).
    MpPrio = 0x5,
    /// MP_FAIL: Fallback (section 3.7).
    MpFail = 0x6,
    /// MP_FASTCLOSE: Fast Close (section 3.5).
    MpFastclose = 0x7,
    /// MP_TCPRST: Subflow Reset (section 3.6).
    MpTcpRst = 0x8,
}

impl Subtype {
    /// The subtype with number `value` (a nibble), if RFC 8684 assigns it.
    pub const fn from_u8(value: u8) -> Option<Self> {
        Some(match value {
            0x0 => Self::MpCapable,
            0x1 => Self::MpJoin,
            0x2 => Self::Dss,
            0x3 => Self::AddAddr,
            0x4 => Self::RemoveAddr,
            0x5 => Self::MpPrio,
            0x6 => Self::MpFail,
            0x7 => Self::MpFastclose,
            0x8 => Self::MpTcpRst,
            _ => return None,
        })
    }

    /// The subtype's name as RFC 8684 spells it.
    pub const fn name(self) -> &'static str {
        match self {
            Self::MpCapable => "MP_CAPABLE",
            Self::MpJoin => "MP_JOIN",
            Self::Dss => "DSS",
            Self::AddAddr => "ADD_ADDR",
            Self::RemoveAddr => "REMOVE_ADDR",
            Self::MpPrio => "MP_PRIO",
            Self::MpFail => "MP_FAIL",
            Self::MpFastclose => "MP_FASTCLOSE",
            Self::MpTcpRst => "MP_TCPRST",
        }
    }
}

// ---------------------------------------------------------------------------
// Option types.
// ---------------------------------------------------------------------------

/// The flags octet of MP_CAPABLE, bits "A" (most significant) to "H"
/// (RFC 8684, section 3.1, Figure 4). All eight bits are kept as received
/// so that unassigned ones survive a round trip.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct CapableFlags(pub u8);

impl CapableFlags {
    /// "A": checksum required.
    pub const A: Self = Self(0x80);
    /// "B": extensibility; 0 in this specification.
    pub const B: Self = Self(0x40);
    /// "C": the sender will not accept additional subflows to the source
    /// address and port of this packet.
    pub const C: Self = Self(0x20);
    /// "H": HMAC-SHA256, the only crypto algorithm this specification
    /// defines (D to G are unassigned crypto bits).
    pub const H: Self = Self(0x01);

    /// Whether every bit of `other` is set.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }
    /// "A": the sender requires the DSS checksum.
    pub const fn checksum_required(self) -> bool {
        self.contains(Self::A)
    }
    /// "B": extensibility (must be 0 in version 1).
    pub const fn extensibility(self) -> bool {
        self.contains(Self::B)
    }
    /// "C": no additional subflows to this packet's source address and port.
    pub const fn no_join_to_source(self) -> bool {
        self.contains(Self::C)
    }
    /// "H": HMAC-SHA256.
    pub const fn hmac_sha256(self) -> bool {
        self.contains(Self::H)
    }
}

impl core::ops::BitOr for CapableFlags {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

impl fmt::Debug for CapableFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CapableFlags({:#04x}", self.0)?;
        let mut sep = ": ";
        for (i, name) in ["A", "B", "C", "D", "E", "F", "G", "H"].iter().enumerate() {
            if self.0 & (0x80 >> i) != 0 {
                write!(f, "{sep}{name}")?;
                sep = "|";
            }
        }
        f.write_str(")")
    }
}

/// The form of an MP_CAPABLE option, told apart by its length
/// (RFC 8684, section 3.1, Figure 4). The names say which segment each
/// form goes with in version 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CapableForm {
    /// On the SYN: no key (length 4).
    Syn,
    /// On the SYN/ACK: the sender's key (length 12).
    SynAck {
        /// Option Sender's Key.
        sender_key: u64,
    },
    /// On the third ACK: both keys (length 20).
    Ack {
        /// Option Sender's Key.
        sender_key: u64,
        /// Option Receiver's Key.
        receiver_key: u64,
    },
    /// On the first data (the third ACK or a later one): both keys and the
    /// data-level length, with the checksum if it was negotiated (length
    /// 22, or 24 with the checksum).
    AckData {
        /// Option Sender's Key.
        sender_key: u64,
        /// Option Receiver's Key.
        receiver_key: u64,
        /// Data-Level Length.
        data_len: u16,
        /// Checksum, present when checksums are in use.
        checksum: Option<u16>,
    },
}

/// MP_CAPABLE (RFC 8684, section 3.1, Figure 4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MpCapable {
    /// The version nibble: 1 for this specification. Writing a value
    /// above 15 fails with [`WriteError::VersionRange`].
    pub version: u8,
    /// Flags "A" to "H".
    pub flags: CapableFlags,
    /// Keys and data, by form.
    pub form: CapableForm,
}

/// MP_JOIN, in its three forms (RFC 8684, section 3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MpJoin {
    /// On the SYN (length 12, Figure 5).
    Syn {
        /// "B": the sender wishes this subflow to be a backup path.
        backup: bool,
        /// Address ID of the source address of this packet.
        addr_id: u8,
        /// Receiver's Token.
        receiver_token: u32,
        /// Sender's Random Number.
        sender_random: u32,
    },
    /// On the SYN/ACK (length 16, Figure 6).
    SynAck {
        /// "B": the sender wishes this subflow to be a backup path.
        backup: bool,
        /// Address ID of the source address of this packet.
        addr_id: u8,
        /// Sender's Truncated HMAC: the leftmost 64 bits of the HMAC.
        sender_truncated_hmac: u64,
        /// Sender's Random Number.
        sender_random: u32,
    },
    /// On the third ACK (length 24, Figure 7).
    Ack {
        /// Sender's HMAC, all 160 bits.
        sender_hmac: [u8; 20],
    },
}

/// A 4- or 8-octet sequence field of DSS: the Data ACK or the data
/// sequence number, as carried (RFC 8684, section 3.3, Figure 9).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DssSeq {
    /// 4 octets: the low 32 bits of the 64-bit value.
    Bits32(u32),
    /// 8 octets: the full 64-bit value.
    Bits64(u64),
}

impl DssSeq {
    /// The value as carried, widened (the low 32 bits only for
    /// [`DssSeq::Bits32`]; the receiver expands them).
    pub const fn value(self) -> u64 {
        match self {
            Self::Bits32(v) => v as u64,
            Self::Bits64(v) => v,
        }
    }
    /// Whether the field takes 8 octets ("a" or "m" set).
    pub const fn is_64bit(self) -> bool {
        matches!(self, Self::Bits64(_))
    }
    const fn wire_len(self) -> u8 {
        match self {
            Self::Bits32(_) => 4,
            Self::Bits64(_) => 8,
        }
    }
}

/// The mapping part of DSS ("M" set): how this subflow's bytes map onto the
/// data sequence space (RFC 8684, section 3.3.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DssMapping {
    /// Data Sequence Number, 4 ("m" clear) or 8 octets.
    pub dsn: DssSeq,
    /// Subflow Sequence Number, relative to the subflow's initial sequence
    /// number.
    pub subflow_seq: u32,
    /// Data-Level Length.
    pub data_len: u16,
    /// Checksum, present when checksums are in use.
    pub checksum: Option<u16>,
}

/// DSS, the Data Sequence Signal (RFC 8684, section 3.3, Figure 9).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Dss {
    /// Data ACK ("A" set), 4 ("a" clear) or 8 octets.
    pub data_ack: Option<DssSeq>,
    /// Mapping ("M" set).
    pub mapping: Option<DssMapping>,
    /// "F": DATA_FIN.
    pub data_fin: bool,
}

/// ADD_ADDR (RFC 8684, section 3.4.1, Figure 12).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AddAddr {
    /// Address ID.
    pub addr_id: u8,
    /// The address, IPv4 or IPv6 (told apart by the length).
    pub addr: IpAddr,
    /// Port, if given.
    pub port: Option<u16>,
    /// Truncated HMAC: the rightmost 64 bits of the HMAC. `None` for the
    /// echo ("E" set), which carries none.
    pub truncated_hmac: Option<u64>,
}

impl AddAddr {
    /// "E": whether this is the echo of a received ADD_ADDR.
    pub const fn echo(&self) -> bool {
        self.truncated_hmac.is_none()
    }
}

/// REMOVE_ADDR (RFC 8684, section 3.4.2, Figure 13): one or more address
/// IDs, as many as fit in a TCP options area.
#[derive(Clone, Copy)]
pub struct RemoveAddr {
    ids: [u8; RemoveAddr::CAPACITY],
    count: u8,
}

impl RemoveAddr {
    /// The most IDs one option can carry: a 40-byte options area less the
    /// option's 3-byte header.
    pub const CAPACITY: usize = MAX_OPTIONS_LEN - REMOVE_ADDR_BASE_LEN as usize;

    /// The option removing `ids`: `None` unless there are between 1 and
    /// [`RemoveAddr::CAPACITY`] of them.
    pub fn new(ids: &[u8]) -> Option<Self> {
        if ids.is_empty() {
            return None;
        }
        let count = u8::try_from(ids.len()).ok()?;
        let mut this = Self {
            ids: [0; Self::CAPACITY],
            count,
        };
        this.ids.get_mut(..ids.len())?.copy_from_slice(ids);
        Some(this)
    }

    /// The address IDs, at least one.
    pub fn ids(&self) -> &[u8] {
        self.ids.get(..usize::from(self.count)).unwrap_or(&[])
    }
}

impl PartialEq for RemoveAddr {
    fn eq(&self, other: &Self) -> bool {
        self.ids() == other.ids()
    }
}

impl Eq for RemoveAddr {}

impl core::hash::Hash for RemoveAddr {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.ids().hash(state);
    }
}

impl fmt::Debug for RemoveAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoveAddr")
            .field("ids", &self.ids())
            .finish()
    }
}

/// MP_PRIO (RFC 8684, section 3.3.8, Figure 11).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MpPrio {
    /// "B": the sender wishes the subflow it is sent on to be a backup.
    pub backup: bool,
}

/// MP_FAIL (RFC 8684, section 3.7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MpFail {
    /// Data Sequence Number (64 bits) from which the checksum failed.
    pub dsn: u64,
}

/// MP_FASTCLOSE (RFC 8684, section 3.5, Figure 14).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MpFastclose {
    /// Option Receiver's Key.
    pub receiver_key: u64,
}

/// MP_TCPRST (RFC 8684, section 3.6).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct MpTcpRst {
    /// "U": unassigned.
    pub u: bool,
    /// "V": unassigned.
    pub v: bool,
    /// "W": unassigned.
    pub w: bool,
    /// "T": transient; the sender may accept a new subflow later.
    pub transient: bool,
    /// Reason; see [`tcprst_reason`].
    pub reason: u8,
}

/// The MP_TCPRST reason codes (RFC 8684, section 3.6).
pub mod tcprst_reason {
    /// Unspecified error.
    pub const UNSPECIFIED: u8 = 0x00;
    /// MPTCP-specific error.
    pub const MPTCP_SPECIFIC: u8 = 0x01;
    /// Lack of resources.
    pub const LACK_OF_RESOURCES: u8 = 0x02;
    /// Administratively prohibited.
    pub const ADMINISTRATIVELY_PROHIBITED: u8 = 0x03;
    /// Too much outstanding data.
    pub const TOO_MUCH_OUTSTANDING_DATA: u8 = 0x04;
    /// Unacceptable performance.
    pub const UNACCEPTABLE_PERFORMANCE: u8 = 0x05;
    /// Middlebox interference.
    pub const MIDDLEBOX_INTERFERENCE: u8 = 0x06;
}

/// One MPTCP option, any subtype and form.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MptcpOption {
    /// MP_CAPABLE.
    MpCapable(MpCapable),
    /// MP_JOIN.
    MpJoin(MpJoin),
    /// DSS.
    Dss(Dss),
    /// ADD_ADDR.
    AddAddr(AddAddr),
    /// REMOVE_ADDR.
    RemoveAddr(RemoveAddr),
    /// MP_PRIO.
    MpPrio(MpPrio),
    /// MP_FAIL.
    MpFail(MpFail),
    /// MP_FASTCLOSE.
    MpFastclose(MpFastclose),
    /// MP_TCPRST.
    MpTcpRst(MpTcpRst),
}

macro_rules! impl_from_option {
    ($($ty:ident),*) => {$(
        impl From<$ty> for MptcpOption {
            fn from(o: $ty) -> Self {
                Self::$ty(o)
            }
        }
    )*};
}
impl_from_option!(
    MpCapable,
    MpJoin,
    Dss,
    AddAddr,
    RemoveAddr,
    MpPrio,
    MpFail,
    MpFastclose,
    MpTcpRst
);

// ---------------------------------------------------------------------------
// Errors.
// ---------------------------------------------------------------------------

/// Why an option of a TCP options area could not be decoded.
///
/// The first three end the walk of the area (its framing is lost, see
/// [`OptionError::ends_area`]); the others concern one MPTCP option, which
/// is skipped, and the walk goes on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OptionError {
    /// The option at `offset` has a kind but the area ends before its
    /// length byte.
    MissingLength {
        /// Offset of the option's kind byte in the area.
        offset: usize,
    },
    /// The option at `offset` has a length byte below 2.
    LengthTooSmall {
        /// Offset of the option's kind byte in the area.
        offset: usize,
        /// The length byte.
        len: u8,
    },
    /// The option at `offset` runs past the end of the area.
    Overrun {
        /// Offset of the option's kind byte in the area.
        offset: usize,
        /// The length byte.
        len: u8,
    },
    /// An MPTCP option of length 2, too short to hold its subtype.
    NoSubtype,
    /// An MPTCP option whose length matches no form of its subtype (for
    /// DSS and ADD_ADDR, no form that its flags select; for REMOVE_ADDR,
    /// no ID or more than [`RemoveAddr::CAPACITY`]).
    BadLength {
        /// The subtype.
        subtype: Subtype,
        /// The length byte.
        len: u8,
    },
    /// An MPTCP option with a subtype this specification does not assign
    /// (MP_EXPERIMENTAL included). RFC 8684 says to ignore it: it is
    /// skipped, reported here only so that it can be counted apart from
    /// malformed options.
    UnknownSubtype {
        /// The subtype nibble.
        subtype: u8,
        /// The length byte.
        len: u8,
    },
}

impl OptionError {
    /// Whether the walk of the area stopped here: the option's own length
    /// cannot be trusted, so nothing after it can be framed.
    pub const fn ends_area(&self) -> bool {
        matches!(
            self,
            Self::MissingLength { .. } | Self::LengthTooSmall { .. } | Self::Overrun { .. }
        )
    }

    /// Whether the bytes were malformed (every error but an unknown
    /// subtype, which is legal and ignored).
    pub const fn is_malformed(&self) -> bool {
        !matches!(self, Self::UnknownSubtype { .. })
    }
}

impl fmt::Display for OptionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::MissingLength { offset } => {
                write!(f, "TCP option at offset {offset} has no length byte")
            }
            Self::LengthTooSmall { offset, len } => {
                write!(f, "TCP option at offset {offset} has length {len} < 2")
            }
            Self::Overrun { offset, len } => {
                write!(
                    f,
                    "TCP option at offset {offset} of length {len} runs past the options area"
                )
            }
            Self::NoSubtype => f.write_str("MPTCP option of length 2 has no subtype"),
            Self::BadLength { subtype, len } => {
                write!(
                    f,
                    "{} option of length {len} matches no form",
                    subtype.name()
                )
            }
            Self::UnknownSubtype { subtype, len } => {
                write!(
                    f,
                    "MPTCP option of unknown subtype {subtype:#x} (length {len})"
                )
            }
        }
    }
}

/// Why an option could not be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WriteError {
    /// The buffer is shorter than the bytes to write.
    BufferTooSmall {
        /// Bytes needed.
        needed: usize,
        /// Bytes available.
        available: usize,
    },
    /// An MP_CAPABLE version that does not fit its 4-bit field.
    VersionRange {
        /// The version.
        version: u8,
    },
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::BufferTooSmall { needed, available } => {
                write!(f, "options need {needed} bytes, buffer has {available}")
            }
            Self::VersionRange { version } => {
                write!(f, "MP_CAPABLE version {version} does not fit in 4 bits")
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Parsing.
// ---------------------------------------------------------------------------

/// Walks the TCP options area `area` (the bytes after the fixed 20-byte
/// TCP header) and yields each MPTCP option in order, or the error that
/// kept one from being decoded.
///
/// EOL ends the walk and NOP is skipped; any other kind is framed by its
/// length byte, which is validated (below 2, or running past the end of the
/// area, yields an error and ends the walk). Options other than MPTCP are
/// skipped without error.
pub fn options(area: &[u8]) -> Options<'_> {
    Options {
        rest: area,
        area_len: area.len(),
    }
}

/// The iterator of [`options`].
#[derive(Clone, Debug)]
pub struct Options<'a> {
    /// What is left of the area; empty once the walk is over.
    rest: &'a [u8],
    area_len: usize,
}

impl Options<'_> {
    fn offset(&self) -> usize {
        self.area_len.saturating_sub(self.rest.len())
    }

    /// Ends the walk with `error`.
    fn fail(&mut self, error: OptionError) -> Option<Result<MptcpOption, OptionError>> {
        self.rest = &[];
        Some(Err(error))
    }
}

impl Iterator for Options<'_> {
    type Item = Result<MptcpOption, OptionError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let offset = self.offset();
            let (&kind, after_kind) = self.rest.split_first()?;
            match kind {
                TCPOPT_EOL => {
                    self.rest = &[];
                    return None;
                }
                TCPOPT_NOP => {
                    self.rest = after_kind;
                    continue;
                }
                _ => {}
            }
            let Some(&len) = after_kind.first() else {
                return self.fail(OptionError::MissingLength { offset });
            };
            if len < 2 {
                return self.fail(OptionError::LengthTooSmall { offset, len });
            }
            // `split_at_checked` is newer than the kernel's minimum Rust.
            if usize::from(len) > self.rest.len() {
                return self.fail(OptionError::Overrun { offset, len });
            }
            let (option, rest) = self.rest.split_at(usize::from(len));
            self.rest = rest;
            if kind == TCPOPT_MPTCP {
                return Some(parse_mptcp(len, option));
            }
        }
    }
}

// Once the walk is over, `rest` stays empty.
impl core::iter::FusedIterator for Options<'_> {}

/// Reads big-endian fields from an option, front to back.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.0.split_first_chunk::<N>()?;
        self.0 = rest;
        Some(*head)
    }
    fn u8(&mut self) -> Option<u8> {
        self.array::<1>().map(|[b]| b)
    }
    fn be16(&mut self) -> Option<u16> {
        self.array().map(u16::from_be_bytes)
    }
    fn be32(&mut self) -> Option<u32> {
        self.array().map(u32::from_be_bytes)
    }
    fn be64(&mut self) -> Option<u64> {
        self.array().map(u64::from_be_bytes)
    }
    fn seq(&mut self, wide: bool) -> Option<DssSeq> {
        if wide {
            self.be64().map(DssSeq::Bits64)
        } else {
            self.be32().map(DssSeq::Bits32)
        }
    }
}

/// Decodes one whole MPTCP option (kind, length, body); `len` is its
/// length byte, equal to `option.len()`.
fn parse_mptcp(len: u8, option: &[u8]) -> Result<MptcpOption, OptionError> {
    let mut r = Reader(option.get(2..).unwrap_or(&[]));
    let first = r.u8().ok_or(OptionError::NoSubtype)?;
    let nibble = first >> 4;
    let low = first & 0x0f;
    let subtype = Subtype::from_u8(nibble).ok_or(OptionError::UnknownSubtype {
        subtype: nibble,
        len,
    })?;
    let parsed = match subtype {
        Subtype::MpCapable => parse_mp_capable(len, low, &mut r).map(MptcpOption::MpCapable),
        Subtype::MpJoin => parse_mp_join(len, low, &mut r).map(MptcpOption::MpJoin),
        Subtype::Dss => parse_dss(len, &mut r).map(MptcpOption::Dss),
        Subtype::AddAddr => parse_add_addr(len, low, &mut r).map(MptcpOption::AddAddr),
        Subtype::RemoveAddr => parse_remove_addr(len, &mut r).map(MptcpOption::RemoveAddr),
        Subtype::MpPrio => (len == MP_PRIO_LEN).then_some(MptcpOption::MpPrio(MpPrio {
            backup: low & 0x1 != 0,
        })),
        Subtype::MpFail => parse_reserved_then_u64(len, MP_FAIL_LEN, &mut r)
            .map(|dsn| MptcpOption::MpFail(MpFail { dsn })),
        Subtype::MpFastclose => parse_reserved_then_u64(len, MP_FASTCLOSE_LEN, &mut r)
            .map(|receiver_key| MptcpOption::MpFastclose(MpFastclose { receiver_key })),
        Subtype::MpTcpRst => parse_mp_tcprst(len, low, &mut r).map(MptcpOption::MpTcpRst),
    };
    parsed.ok_or(OptionError::BadLength { subtype, len })
}

/// MP_CAPABLE: `low` is the version; the length selects the form.
fn parse_mp_capable(len: u8, version: u8, r: &mut Reader<'_>) -> Option<MpCapable> {
    let flags = CapableFlags(r.u8()?);
    let form = match len {
        MPC_SYN_LEN => CapableForm::Syn,
        MPC_SYNACK_LEN => CapableForm::SynAck {
            sender_key: r.be64()?,
        },
        MPC_ACK_LEN => CapableForm::Ack {
            sender_key: r.be64()?,
            receiver_key: r.be64()?,
        },
        MPC_ACK_DATA_LEN | MPC_ACK_DATA_CSUM_LEN => CapableForm::AckData {
            sender_key: r.be64()?,
            receiver_key: r.be64()?,
            data_len: r.be16()?,
            checksum: if len == MPC_ACK_DATA_CSUM_LEN {
                Some(r.be16()?)
            } else {
                None
            },
        },
        _ => return None,
    };
    Some(MpCapable {
        version,
        flags,
        form,
    })
}

/// MP_JOIN: `low` holds "B" in its lowest bit (3 reserved bits above it);
/// the length selects the form.
fn parse_mp_join(len: u8, low: u8, r: &mut Reader<'_>) -> Option<MpJoin> {
    let backup = low & 0x1 != 0;
    Some(match len {
        MPJ_SYN_LEN => MpJoin::Syn {
            backup,
            addr_id: r.u8()?,
            receiver_token: r.be32()?,
            sender_random: r.be32()?,
        },
        MPJ_SYNACK_LEN => MpJoin::SynAck {
            backup,
            addr_id: r.u8()?,
            sender_truncated_hmac: r.be64()?,
            sender_random: r.be32()?,
        },
        MPJ_ACK_LEN => {
            r.u8()?; // reserved
            MpJoin::Ack {
                sender_hmac: r.array()?,
            }
        }
        _ => return None,
    })
}

/// The length of a DSS option with these parts.
const fn dss_len(data_ack: Option<DssSeq>, mapping: Option<(DssSeq, bool)>) -> u8 {
    let ack = match data_ack {
        Some(seq) => seq.wire_len(),
        None => 0,
    };
    // DSN, subflow sequence number (4), data-level length (2), checksum (2).
    let map = match mapping {
        Some((dsn, checksum)) => dsn.wire_len() + 4 + 2 + if checksum { 2 } else { 0 },
        None => 0,
    };
    DSS_BASE_LEN + ack + map
}

/// DSS: the flags select the fields; the length must be theirs, plus 2
/// when a mapping carries the checksum.
fn parse_dss(len: u8, r: &mut Reader<'_>) -> Option<Dss> {
    let flags = r.u8()?;
    let has_ack = flags & DSS_A != 0;
    let has_map = flags & DSS_M != 0;
    let ack_probe = has_ack.then_some(if flags & DSS_LOWER_A != 0 {
        DssSeq::Bits64(0)
    } else {
        DssSeq::Bits32(0)
    });
    let dsn_probe = if flags & DSS_LOWER_M != 0 {
        DssSeq::Bits64(0)
    } else {
        DssSeq::Bits32(0)
    };
    let checksum = if !has_map {
        if len != dss_len(ack_probe, None) {
            return None;
        }
        false
    } else if len == dss_len(ack_probe, Some((dsn_probe, false))) {
        false
    } else if len == dss_len(ack_probe, Some((dsn_probe, true))) {
        true
    } else {
        return None;
    };
    let data_ack = match ack_probe {
        Some(probe) => Some(r.seq(probe.is_64bit())?),
        None => None,
    };
    let mapping = if has_map {
        Some(DssMapping {
            dsn: r.seq(dsn_probe.is_64bit())?,
            subflow_seq: r.be32()?,
            data_len: r.be16()?,
            checksum: if checksum { Some(r.be16()?) } else { None },
        })
    } else {
        None
    };
    Some(Dss {
        data_ack,
        mapping,
        data_fin: flags & DSS_F != 0,
    })
}

/// The length of an ADD_ADDR option with these parts.
const fn add_addr_len(ipv6: bool, port: bool, hmac: bool) -> u8 {
    ADD_ADDR_BASE_LEN
        + if ipv6 { 16 } else { 4 }
        + if port { 2 } else { 0 }
        + if hmac { 8 } else { 0 }
}

/// ADD_ADDR: `low` holds "E" in its lowest bit; the length, for the form
/// "E" selects (truncated HMAC present or not), tells the address family
/// and whether there is a port.
fn parse_add_addr(len: u8, low: u8, r: &mut Reader<'_>) -> Option<AddAddr> {
    let hmac = low & 0x1 == 0;
    let (ipv6, port) = [(false, false), (false, true), (true, false), (true, true)]
        .into_iter()
        .find(|&(ipv6, port)| add_addr_len(ipv6, port, hmac) == len)?;
    let addr_id = r.u8()?;
    let addr = if ipv6 {
        IpAddr::V6(Ipv6Addr::from(r.array::<16>()?))
    } else {
        IpAddr::V4(Ipv4Addr::from(r.array::<4>()?))
    };
    let port = if port { Some(r.be16()?) } else { None };
    let truncated_hmac = if hmac { Some(r.be64()?) } else { None };
    Some(AddAddr {
        addr_id,
        addr,
        port,
        truncated_hmac,
    })
}

/// REMOVE_ADDR: every byte after the subtype is an address ID.
fn parse_remove_addr(len: u8, r: &mut Reader<'_>) -> Option<RemoveAddr> {
    if len <= REMOVE_ADDR_BASE_LEN {
        return None;
    }
    RemoveAddr::new(r.0)
}

/// MP_FAIL and MP_FASTCLOSE: 12 reserved bits, then 64 bits.
fn parse_reserved_then_u64(len: u8, expected: u8, r: &mut Reader<'_>) -> Option<u64> {
    if len != expected {
        return None;
    }
    r.u8()?; // reserved
    r.be64()
}

/// MP_TCPRST: `low` holds U, V, W, T from most to least significant.
fn parse_mp_tcprst(len: u8, low: u8, r: &mut Reader<'_>) -> Option<MpTcpRst> {
    if len != MP_TCPRST_LEN {
        return None;
    }
    Some(MpTcpRst {
        u: low & 0x8 != 0,
        v: low & 0x4 != 0,
        w: low & 0x2 != 0,
        transient: low & 0x1 != 0,
        reason: r.u8()?,
    })
}

/// What one segment carries, collected from its options area by
/// [`Received::parse`]: at most one option of each subtype (the first one;
/// later ones are counted in `duplicates`), and counts of what could not be
/// decoded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Received {
    /// MP_CAPABLE.
    pub mp_capable: Option<MpCapable>,
    /// MP_JOIN.
    pub mp_join: Option<MpJoin>,
    /// DSS.
    pub dss: Option<Dss>,
    /// ADD_ADDR.
    pub add_addr: Option<AddAddr>,
    /// REMOVE_ADDR.
    pub remove_addr: Option<RemoveAddr>,
    /// MP_PRIO.
    pub mp_prio: Option<MpPrio>,
    /// MP_FAIL.
    pub mp_fail: Option<MpFail>,
    /// MP_FASTCLOSE.
    pub mp_fastclose: Option<MpFastclose>,
    /// MP_TCPRST.
    pub mp_tcprst: Option<MpTcpRst>,
    /// Malformed options, including a broken area framing (which ends the
    /// walk).
    pub malformed: u8,
    /// MPTCP options of unknown subtype, ignored.
    pub unknown: u8,
    /// Options of a subtype already collected, ignored.
    pub duplicates: u8,
}

impl Received {
    /// Collects the MPTCP options of the options area `area`.
    pub fn parse(area: &[u8]) -> Self {
        let mut this = Self::default();
        for item in options(area) {
            match item {
                Ok(option) => this.add(option),
                Err(e) if e.is_malformed() => this.malformed = this.malformed.saturating_add(1),
                Err(_) => this.unknown = this.unknown.saturating_add(1),
            }
        }
        this
    }

    /// Whether no MPTCP option was collected.
    pub fn is_empty(&self) -> bool {
        self.mp_capable.is_none()
            && self.mp_join.is_none()
            && self.dss.is_none()
            && self.add_addr.is_none()
            && self.remove_addr.is_none()
            && self.mp_prio.is_none()
            && self.mp_fail.is_none()
            && self.mp_fastclose.is_none()
            && self.mp_tcprst.is_none()
    }

    fn add(&mut self, option: MptcpOption) {
        fn keep_first<T>(slot: &mut Option<T>, value: T, duplicates: &mut u8) {
            if slot.is_some() {
                *duplicates = duplicates.saturating_add(1);
            } else {
                *slot = Some(value);
            }
        }
        let d = &mut self.duplicates;
        match option {
            MptcpOption::MpCapable(o) => keep_first(&mut self.mp_capable, o, d),
            MptcpOption::MpJoin(o) => keep_first(&mut self.mp_join, o, d),
            MptcpOption::Dss(o) => keep_first(&mut self.dss, o, d),
            MptcpOption::AddAddr(o) => keep_first(&mut self.add_addr, o, d),
            MptcpOption::RemoveAddr(o) => keep_first(&mut self.remove_addr, o, d),
            MptcpOption::MpPrio(o) => keep_first(&mut self.mp_prio, o, d),
            MptcpOption::MpFail(o) => keep_first(&mut self.mp_fail, o, d),
            MptcpOption::MpFastclose(o) => keep_first(&mut self.mp_fastclose, o, d),
            MptcpOption::MpTcpRst(o) => keep_first(&mut self.mp_tcprst, o, d),
        }
    }
}

// ---------------------------------------------------------------------------
// Writing.
// ---------------------------------------------------------------------------

/// Writes big-endian fields into a buffer, front to back.
struct Writer<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl Writer<'_> {
    fn put(&mut self, bytes: &[u8]) -> Result<(), WriteError> {
        let available = self.buf.len();
        let too_small = WriteError::BufferTooSmall {
            needed: self.pos.saturating_add(bytes.len()),
            available,
        };
        let end = self.pos.checked_add(bytes.len()).ok_or(too_small)?;
        self.buf
            .get_mut(self.pos..end)
            .ok_or(too_small)?
            .copy_from_slice(bytes);
        self.pos = end;
        Ok(())
    }
    fn seq(&mut self, seq: DssSeq) -> Result<(), WriteError> {
        match seq {
            DssSeq::Bits32(v) => self.put(&v.to_be_bytes()),
            DssSeq::Bits64(v) => self.put(&v.to_be_bytes()),
        }
    }
}

/// The third byte of an MPTCP option: subtype and the low nibble.
const fn subtype_byte(subtype: Subtype, low: u8) -> u8 {
    ((subtype as u8) << 4) | (low & 0x0f)
}

impl MptcpOption {
    /// The subtype of this option.
    pub const fn subtype(&self) -> Subtype {
        match self {
            Self::MpCapable(_) => Subtype::MpCapable,
            Self::MpJoin(_) => Subtype::MpJoin,
            Self::Dss(_) => Subtype::Dss,
            Self::AddAddr(_) => Subtype::AddAddr,
            Self::RemoveAddr(_) => Subtype::RemoveAddr,
            Self::MpPrio(_) => Subtype::MpPrio,
            Self::MpFail(_) => Subtype::MpFail,
            Self::MpFastclose(_) => Subtype::MpFastclose,
            Self::MpTcpRst(_) => Subtype::MpTcpRst,
        }
    }

    /// The option's length byte: how many bytes [`MptcpOption::write`]
    /// writes (no padding).
    pub fn wire_len(&self) -> u8 {
        match self {
            Self::MpCapable(o) => match o.form {
                CapableForm::Syn => MPC_SYN_LEN,
                CapableForm::SynAck { .. } => MPC_SYNACK_LEN,
                CapableForm::Ack { .. } => MPC_ACK_LEN,
                CapableForm::AckData { checksum: None, .. } => MPC_ACK_DATA_LEN,
                CapableForm::AckData {
                    checksum: Some(_), ..
                } => MPC_ACK_DATA_CSUM_LEN,
            },
            Self::MpJoin(MpJoin::Syn { .. }) => MPJ_SYN_LEN,
            Self::MpJoin(MpJoin::SynAck { .. }) => MPJ_SYNACK_LEN,
            Self::MpJoin(MpJoin::Ack { .. }) => MPJ_ACK_LEN,
            Self::Dss(o) => dss_len(o.data_ack, o.mapping.map(|m| (m.dsn, m.checksum.is_some()))),
            Self::AddAddr(o) => add_addr_len(
                o.addr.is_ipv6(),
                o.port.is_some(),
                o.truncated_hmac.is_some(),
            ),
            // At most CAPACITY (36) IDs: the sum is at most 39.
            Self::RemoveAddr(o) => REMOVE_ADDR_BASE_LEN.saturating_add(o.count),
            Self::MpPrio(_) => MP_PRIO_LEN,
            Self::MpFail(_) => MP_FAIL_LEN,
            Self::MpFastclose(_) => MP_FASTCLOSE_LEN,
            Self::MpTcpRst(_) => MP_TCPRST_LEN,
        }
    }

    /// The exact number of bytes [`MptcpOption::write`] writes (no
    /// padding), for planning option space.
    pub fn encoded_len(&self) -> usize {
        usize::from(self.wire_len())
    }

    /// Writes the option at the start of `buf` and returns the number of
    /// bytes written ([`MptcpOption::encoded_len`]). Reserved bits are
    /// written as zero. On error nothing is written.
    pub fn write(&self, buf: &mut [u8]) -> Result<usize, WriteError> {
        let len = self.wire_len();
        let needed = usize::from(len);
        if buf.len() < needed {
            return Err(WriteError::BufferTooSmall {
                needed,
                available: buf.len(),
            });
        }
        if let Self::MpCapable(o) = self {
            if o.version > 0x0f {
                return Err(WriteError::VersionRange { version: o.version });
            }
        }
        let mut w = Writer { buf, pos: 0 };
        w.put(&[TCPOPT_MPTCP, len])?;
        match self {
            Self::MpCapable(o) => {
                w.put(&[subtype_byte(Subtype::MpCapable, o.version), o.flags.0])?;
                match o.form {
                    CapableForm::Syn => {}
                    CapableForm::SynAck { sender_key } => w.put(&sender_key.to_be_bytes())?,
                    CapableForm::Ack {
                        sender_key,
                        receiver_key,
                    } => {
                        w.put(&sender_key.to_be_bytes())?;
                        w.put(&receiver_key.to_be_bytes())?;
                    }
                    CapableForm::AckData {
                        sender_key,
                        receiver_key,
                        data_len,
                        checksum,
                    } => {
                        w.put(&sender_key.to_be_bytes())?;
                        w.put(&receiver_key.to_be_bytes())?;
                        w.put(&data_len.to_be_bytes())?;
                        if let Some(checksum) = checksum {
                            w.put(&checksum.to_be_bytes())?;
                        }
                    }
                }
            }
            Self::MpJoin(o) => match *o {
                MpJoin::Syn {
                    backup,
                    addr_id,
                    receiver_token,
                    sender_random,
                } => {
                    w.put(&[subtype_byte(Subtype::MpJoin, u8::from(backup)), addr_id])?;
                    w.put(&receiver_token.to_be_bytes())?;
                    w.put(&sender_random.to_be_bytes())?;
                }
                MpJoin::SynAck {
                    backup,
                    addr_id,
                    sender_truncated_hmac,
                    sender_random,
                } => {
                    w.put(&[subtype_byte(Subtype::MpJoin, u8::from(backup)), addr_id])?;
                    w.put(&sender_truncated_hmac.to_be_bytes())?;
                    w.put(&sender_random.to_be_bytes())?;
                }
                MpJoin::Ack { sender_hmac } => {
                    w.put(&[subtype_byte(Subtype::MpJoin, 0), 0])?;
                    w.put(&sender_hmac)?;
                }
            },
            Self::Dss(o) => {
                let mut flags = 0;
                if o.data_fin {
                    flags |= DSS_F;
                }
                if let Some(ack) = o.data_ack {
                    flags |= DSS_A | if ack.is_64bit() { DSS_LOWER_A } else { 0 };
                }
                if let Some(m) = o.mapping {
                    flags |= DSS_M | if m.dsn.is_64bit() { DSS_LOWER_M } else { 0 };
                }
                w.put(&[subtype_byte(Subtype::Dss, 0), flags])?;
                if let Some(ack) = o.data_ack {
                    w.seq(ack)?;
                }
                if let Some(m) = o.mapping {
                    w.seq(m.dsn)?;
                    w.put(&m.subflow_seq.to_be_bytes())?;
                    w.put(&m.data_len.to_be_bytes())?;
                    if let Some(checksum) = m.checksum {
                        w.put(&checksum.to_be_bytes())?;
                    }
                }
            }
            Self::AddAddr(o) => {
                w.put(&[
                    subtype_byte(Subtype::AddAddr, u8::from(o.echo())),
                    o.addr_id,
                ])?;
                match o.addr {
                    IpAddr::V4(a) => w.put(&a.octets())?,
                    IpAddr::V6(a) => w.put(&a.octets())?,
                }
                if let Some(port) = o.port {
                    w.put(&port.to_be_bytes())?;
                }
                if let Some(hmac) = o.truncated_hmac {
                    w.put(&hmac.to_be_bytes())?;
                }
            }
            Self::RemoveAddr(o) => {
                w.put(&[subtype_byte(Subtype::RemoveAddr, 0)])?;
                w.put(o.ids())?;
            }
            Self::MpPrio(o) => w.put(&[subtype_byte(Subtype::MpPrio, u8::from(o.backup))])?,
            Self::MpFail(o) => {
                w.put(&[subtype_byte(Subtype::MpFail, 0), 0])?;
                w.put(&o.dsn.to_be_bytes())?;
            }
            Self::MpFastclose(o) => {
                w.put(&[subtype_byte(Subtype::MpFastclose, 0), 0])?;
                w.put(&o.receiver_key.to_be_bytes())?;
            }
            Self::MpTcpRst(o) => {
                let uvwt = u8::from(o.u) << 3
                    | u8::from(o.v) << 2
                    | u8::from(o.w) << 1
                    | u8::from(o.transient);
                w.put(&[subtype_byte(Subtype::MpTcpRst, uvwt), o.reason])?;
            }
        }
        debug_assert_eq!(w.pos, needed);
        Ok(w.pos)
    }
}

/// `len` rounded up to a multiple of 4, saturating.
const fn round_up_4(len: usize) -> usize {
    match len.checked_add(3) {
        Some(l) => l & !3,
        None => usize::MAX & !3,
    }
}

/// The room a set of options takes when written by [`write_options`]: the
/// sum of their lengths, padded to a multiple of 4. For reserving option
/// space (and so MSS room) before writing.
pub fn planned_len(planned: &[MptcpOption]) -> usize {
    let sum = planned
        .iter()
        .fold(0usize, |sum, o| sum.saturating_add(o.encoded_len()));
    round_up_4(sum)
}

/// Pads the options block `buf[..len]` with NOPs up to a multiple of 4
/// bytes; returns the padded length.
pub fn pad_with_nops(buf: &mut [u8], len: usize) -> Result<usize, WriteError> {
    let padded = round_up_4(len);
    let available = buf.len();
    let pad = buf.get_mut(len..padded).ok_or(WriteError::BufferTooSmall {
        needed: padded,
        available,
    })?;
    pad.fill(TCPOPT_NOP);
    Ok(padded)
}

/// Writes `opts` one after the other at the start of `buf`, then pads with
/// NOPs to a multiple of 4; returns the bytes written, which is
/// [`planned_len`]`(opts)`. On error the buffer may be partly written.
pub fn write_options(opts: &[MptcpOption], buf: &mut [u8]) -> Result<usize, WriteError> {
    let needed = planned_len(opts);
    let available = buf.len();
    if available < needed {
        return Err(WriteError::BufferTooSmall { needed, available });
    }
    let mut len = 0usize;
    for o in opts {
        let rest = buf.get_mut(len..).unwrap_or(&mut []);
        len = len.saturating_add(o.write(rest)?);
    }
    pad_with_nops(buf, len)
}

// ---------------------------------------------------------------------------
// The DSS checksum.
// ---------------------------------------------------------------------------

/// Adds two 16-bit ones' complement numbers (RFC 1071): the sum with its
/// carry wrapped around.
pub const fn ones_add(a: u16, b: u16) -> u16 {
    let (sum, carry) = a.overflowing_add(b);
    // sum + 1 cannot overflow when there was a carry: sum <= 0xfffe then.
    if carry {
        sum.wrapping_add(1)
    } else {
        sum
    }
}

/// The 16-bit ones' complement sum (RFC 1071), not complemented, of
/// `bytes` read as big-endian 16-bit words (a trailing odd byte is padded
/// with zero), added to `sum`. To chain chunks, every chunk but the last
/// must have an even length.
pub fn ones_sum(sum: u16, bytes: &[u8]) -> u16 {
    let mut words = bytes.chunks_exact(2);
    let mut acc = sum;
    for w in &mut words {
        if let [hi, lo] = *w {
            acc = ones_add(acc, u16::from_be_bytes([hi, lo]));
        }
    }
    if let [last] = *words.remainder() {
        acc = ones_add(acc, u16::from_be_bytes([last, 0]));
    }
    acc
}

/// Folds the kernel's `__wsum` (what `csum_partial` returns: a 32-bit
/// partial ones' complement sum computed in the CPU's byte order) into the
/// 16-bit sum in network byte order that [`ones_sum`] gives.
pub fn sum_from_wsum(wsum: u32) -> u16 {
    let [a, b, c, d] = wsum.to_ne_bytes();
    // Each 16-bit half holds two bytes in memory order, and a ones'
    // complement sum of memory-order words equals the sum of big-endian
    // words read from the same bytes (RFC 1071, section 2(B)), so read them
    // as big-endian.
    ones_add(u16::from_be_bytes([a, b]), u16::from_be_bytes([c, d]))
}

/// The payload a DSS checksum covers, in one of the forms the caller has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PayloadSum<'a> {
    /// The payload bytes themselves.
    Bytes(&'a [u8]),
    /// The 16-bit ones' complement sum of the payload, in network byte
    /// order (as [`ones_sum`]`(0, payload)` gives).
    Sum(u16),
    /// The kernel's `csum_partial` over the payload (see [`sum_from_wsum`]).
    Wsum(u32),
}

impl PayloadSum<'_> {
    fn sum(self) -> u16 {
        match self {
            Self::Bytes(b) => ones_sum(0, b),
            Self::Sum(s) => s,
            Self::Wsum(w) => sum_from_wsum(w),
        }
    }
}

/// The ones' complement sum of the DSS checksum's pseudo-header (RFC 8684,
/// section 3.3.1): 64-bit DSN, 32-bit relative subflow sequence number,
/// 16-bit data-level length and the 16-bit checksum field.
fn pseudo_header_sum(dsn: u64, subflow_seq: u32, data_len: u16, checksum_field: u16) -> u16 {
    let mut s = ones_sum(0, &dsn.to_be_bytes());
    s = ones_sum(s, &subflow_seq.to_be_bytes());
    s = ones_add(s, data_len);
    ones_add(s, checksum_field)
}

/// The DSS checksum (RFC 8684, section 3.3.1) of a mapping: the ones'
/// complement of the ones' complement sum of the pseudo-header (with a zero
/// checksum field) and the payload. `dsn` is the full 64-bit data sequence
/// number even when the option carries 32 bits; `subflow_seq` is relative
/// to the subflow's initial sequence number. The result is the value of
/// the option's Checksum field (written big-endian).
pub fn dss_checksum(dsn: u64, subflow_seq: u32, data_len: u16, payload: PayloadSum<'_>) -> u16 {
    !ones_add(
        pseudo_header_sum(dsn, subflow_seq, data_len, 0),
        payload.sum(),
    )
}

/// Whether `checksum`, the received Checksum field, is right for this
/// mapping and payload: the sum over the pseudo-header carrying it and the
/// payload is all ones.
pub fn dss_checksum_ok(
    dsn: u64,
    subflow_seq: u32,
    data_len: u16,
    checksum: u16,
    payload: PayloadSum<'_>,
) -> bool {
    ones_add(
        pseudo_header_sum(dsn, subflow_seq, data_len, checksum),
        payload.sum(),
    ) == 0xffff
}

// ---------------------------------------------------------------------------
// Self-test vectors, run on the host and as a KUnit case.
// ---------------------------------------------------------------------------

/// The single item of `area`, or `None` if it does not hold exactly one.
#[cfg(any(test, CONFIG_KUNIT))]
fn only_item(area: &[u8]) -> Option<Result<MptcpOption, OptionError>> {
    let mut it = options(area);
    let first = it.next()?;
    it.next().is_none().then_some(first)
}

/// Checks that `bytes` (one option) parse to `expected` and that writing
/// `expected` gives `bytes` back.
#[cfg(any(test, CONFIG_KUNIT))]
fn check_vector(c: &mut dyn super::check::Check, name: &str, bytes: &[u8], expected: MptcpOption) {
    let parsed = only_item(bytes);
    check!(
        c,
        parsed == Some(Ok(expected)),
        "{name}: parsed {parsed:?}, expected {expected:?}"
    );
    check!(
        c,
        expected.encoded_len() == bytes.len(),
        "{name}: encoded_len {} != {}",
        expected.encoded_len(),
        bytes.len()
    );
    let mut buf = [0u8; MAX_OPTIONS_LEN];
    let written = expected.write(&mut buf);
    check!(
        c,
        written == Ok(bytes.len()),
        "{name}: write gave {written:?}"
    );
    let out = buf.get(..bytes.len());
    check!(
        c,
        out == Some(bytes),
        "{name}: wrote {out:x?}, expected {bytes:x?}"
    );
}

/// Checks that the area `bytes` yields exactly `expected` (and then ends).
#[cfg(any(test, CONFIG_KUNIT))]
fn check_items(
    c: &mut dyn super::check::Check,
    name: &str,
    bytes: &[u8],
    expected: &[Result<MptcpOption, OptionError>],
) {
    let mut it = options(bytes);
    for (i, want) in expected.iter().enumerate() {
        let got = it.next();
        check!(
            c,
            got.as_ref() == Some(want),
            "{name}: item {i}: got {got:?}, expected {want:?}"
        );
    }
    let extra = it.next();
    check!(c, extra.is_none(), "{name}: unexpected item {extra:?}");
}

/// Hand-checked vectors: each option form as bytes derived from RFC 8684's
/// figures, parsed and written back; malformed areas; the DSS checksum.
#[cfg(any(test, CONFIG_KUNIT))]
pub fn selftest(c: &mut dyn super::check::Check) {
    use MptcpOption as O;
    let k1: u64 = 0x0102_0304_0506_0708;
    let k2: u64 = 0x1112_1314_1516_1718;
    let h = CapableFlags::H;

    // ---- MP_CAPABLE, section 3.1, Figure 4: kind 30, length, subtype 0 |
    // version, flags A..H, sender's key, receiver's key, data-level length,
    // checksum.
    check_vector(
        c,
        "MP_CAPABLE SYN",
        // Length 4; version 1; flags A|H.
        &[0x1e, 0x04, 0x01, 0x81],
        O::MpCapable(MpCapable {
            version: 1,
            flags: CapableFlags::A | h,
            form: CapableForm::Syn,
        }),
    );
    check_vector(
        c,
        "MP_CAPABLE SYN, version 0, C",
        // The version nibble and flags are kept as received: 0, C|H.
        &[0x1e, 0x04, 0x00, 0x21],
        O::MpCapable(MpCapable {
            version: 0,
            flags: CapableFlags::C | h,
            form: CapableForm::Syn,
        }),
    );
    check_vector(
        c,
        "MP_CAPABLE SYN/ACK",
        // Length 12: the sender's key.
        &[
            0x1e, 0x0c, 0x01, 0x01, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
        ],
        O::MpCapable(MpCapable {
            version: 1,
            flags: h,
            form: CapableForm::SynAck { sender_key: k1 },
        }),
    );
    check_vector(
        c,
        "MP_CAPABLE ACK",
        // Length 20: the sender's key, then the receiver's.
        &[
            0x1e, 0x14, 0x01, 0x01, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x01, 0x02,
            0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
        ],
        O::MpCapable(MpCapable {
            version: 1,
            flags: h,
            form: CapableForm::Ack {
                sender_key: k2,
                receiver_key: k1,
            },
        }),
    );
    check_vector(
        c,
        "MP_CAPABLE ACK with data",
        // Length 22: both keys, data-level length 0x0100, no checksum.
        &[
            0x1e, 0x16, 0x01, 0x01, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x01, 0x02,
            0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x01, 0x00,
        ],
        O::MpCapable(MpCapable {
            version: 1,
            flags: h,
            form: CapableForm::AckData {
                sender_key: k2,
                receiver_key: k1,
                data_len: 0x100,
                checksum: None,
            },
        }),
    );
    check_vector(
        c,
        "MP_CAPABLE ACK with data and checksum",
        // Length 24: flags A|H, data-level length 5, checksum 0xabcd.
        &[
            0x1e, 0x18, 0x01, 0x81, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x01, 0x02,
            0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x00, 0x05, 0xab, 0xcd,
        ],
        O::MpCapable(MpCapable {
            version: 1,
            flags: CapableFlags::A | h,
            form: CapableForm::AckData {
                sender_key: k2,
                receiver_key: k1,
                data_len: 5,
                checksum: Some(0xabcd),
            },
        }),
    );

    // ---- MP_JOIN, section 3.2.
    check_vector(
        c,
        "MP_JOIN SYN",
        // Figure 5: length 12, subtype 1 | (rsv) B=1, address ID 5,
        // receiver's token, sender's random number.
        &[
            0x1e, 0x0c, 0x11, 0x05, 0xa1, 0xa2, 0xa3, 0xa4, 0xb1, 0xb2, 0xb3, 0xb4,
        ],
        O::MpJoin(MpJoin::Syn {
            backup: true,
            addr_id: 5,
            receiver_token: 0xa1a2_a3a4,
            sender_random: 0xb1b2_b3b4,
        }),
    );
    check_vector(
        c,
        "MP_JOIN SYN/ACK",
        // Figure 6: length 16, B=0, address ID 7, sender's truncated HMAC
        // (64 bits), sender's random number.
        &[
            0x1e, 0x10, 0x10, 0x07, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xd1, 0xd2,
            0xd3, 0xd4,
        ],
        O::MpJoin(MpJoin::SynAck {
            backup: false,
            addr_id: 7,
            sender_truncated_hmac: 0xc1c2_c3c4_c5c6_c7c8,
            sender_random: 0xd1d2_d3d4,
        }),
    );
    check_vector(
        c,
        "MP_JOIN ACK",
        // Figure 7: length 24, subtype 1 and 12 reserved bits, sender's
        // HMAC (160 bits).
        &[
            0x1e, 0x18, 0x10, 0x00, 0xe0, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9,
            0xea, 0xeb, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf2, 0xf3,
        ],
        O::MpJoin(MpJoin::Ack {
            sender_hmac: [
                0xe0, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed,
                0xee, 0xef, 0xf0, 0xf1, 0xf2, 0xf3,
            ],
        }),
    );

    // ---- DSS, section 3.3, Figure 9: subtype 2, (reserved) F m M a A,
    // data ACK, DSN, subflow sequence number, data-level length, checksum.
    check_vector(
        c,
        "DSS data ACK 4",
        // Flags A: length 4 + 4.
        &[0x1e, 0x08, 0x20, 0x01, 0x00, 0x00, 0x10, 0x00],
        O::Dss(Dss {
            data_ack: Some(DssSeq::Bits32(0x1000)),
            ..Dss::default()
        }),
    );
    check_vector(
        c,
        "DSS data ACK 8",
        // Flags a|A: length 4 + 8.
        &[
            0x1e, 0x0c, 0x20, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,
        ],
        O::Dss(Dss {
            data_ack: Some(DssSeq::Bits64(0x1_0000_0002)),
            ..Dss::default()
        }),
    );
    check_vector(
        c,
        "DSS mapping DSN 4",
        // Flags M: length 4 + 4 + 4 + 2; DSN 0xaabbccdd, subflow sequence
        // number 1, data-level length 1500.
        &[
            0x1e, 0x0e, 0x20, 0x04, 0xaa, 0xbb, 0xcc, 0xdd, 0x00, 0x00, 0x00, 0x01, 0x05, 0xdc,
        ],
        O::Dss(Dss {
            mapping: Some(DssMapping {
                dsn: DssSeq::Bits32(0xaabb_ccdd),
                subflow_seq: 1,
                data_len: 1500,
                checksum: None,
            }),
            ..Dss::default()
        }),
    );
    let full_dss = Dss {
        data_ack: Some(DssSeq::Bits64(k1)),
        mapping: Some(DssMapping {
            dsn: DssSeq::Bits64(k2),
            subflow_seq: 1000,
            data_len: 100,
            checksum: Some(0x1234),
        }),
        data_fin: true,
    };
    check_vector(
        c,
        "DSS everything",
        // Flags F|m|M|a|A = 0x1f: length 4 + 8 + 8 + 4 + 2 + 2 = 28.
        &[
            0x1e, 0x1c, 0x20, 0x1f, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x11, 0x12,
            0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x64, 0x12, 0x34,
        ],
        O::Dss(full_dss),
    );
    check_vector(
        c,
        "DSS DATA_FIN",
        // Flags F|m|M|A = 0x1d, a DATA_FIN with no data (section 3.3.3):
        // subflow sequence number 0, data-level length 1. Length 4 + 4 + 8
        // + 4 + 2 = 22.
        &[
            0x1e, 0x16, 0x20, 0x1d, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
        ],
        O::Dss(Dss {
            data_ack: Some(DssSeq::Bits32(0x2000)),
            mapping: Some(DssMapping {
                dsn: DssSeq::Bits64(0x1_0000),
                subflow_seq: 0,
                data_len: 1,
                checksum: None,
            }),
            data_fin: true,
        }),
    );
    check_vector(
        c,
        "DSS no field",
        // No flag: length 4.
        &[0x1e, 0x04, 0x20, 0x00],
        O::Dss(Dss::default()),
    );
    // Reserved bits and "a" without "A" are ignored on receipt.
    check_items(
        c,
        "DSS reserved bits",
        &[
            0x1e, 0x08, 0x2f, 0xe1, 0x00, 0x00, 0x10, 0x00, 0x1e, 0x04, 0x20, 0x02,
        ],
        &[
            Ok(O::Dss(Dss {
                data_ack: Some(DssSeq::Bits32(0x1000)),
                ..Dss::default()
            })),
            Ok(O::Dss(Dss::default())),
        ],
    );

    // ---- ADD_ADDR, section 3.4.1, Figure 12: subtype 3, (rsv) E, address
    // ID, address, port (optional), truncated HMAC (absent when E=1).
    let v4 = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
    let v6 = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1));
    let add = |addr_id, addr, port, truncated_hmac| {
        O::AddAddr(AddAddr {
            addr_id,
            addr,
            port,
            truncated_hmac,
        })
    };
    check_vector(
        c,
        "ADD_ADDR IPv4",
        // Length 4 + 4 + 8 = 16.
        &[
            0x1e, 0x10, 0x30, 0x01, 0xc0, 0x00, 0x02, 0x01, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
            0x07, 0x08,
        ],
        add(1, v4, None, Some(k1)),
    );
    check_vector(
        c,
        "ADD_ADDR IPv4 port",
        // Length 4 + 4 + 2 + 8 = 18; port 8080.
        &[
            0x1e, 0x12, 0x30, 0x02, 0xc0, 0x00, 0x02, 0x01, 0x1f, 0x90, 0x01, 0x02, 0x03, 0x04,
            0x05, 0x06, 0x07, 0x08,
        ],
        add(2, v4, Some(8080), Some(k1)),
    );
    check_vector(
        c,
        "ADD_ADDR IPv4 echo",
        // E=1: length 4 + 4 = 8.
        &[0x1e, 0x08, 0x31, 0x01, 0xc0, 0x00, 0x02, 0x01],
        add(1, v4, None, None),
    );
    check_vector(
        c,
        "ADD_ADDR IPv4 port echo",
        // E=1: length 4 + 4 + 2 = 10.
        &[0x1e, 0x0a, 0x31, 0x02, 0xc0, 0x00, 0x02, 0x01, 0x1f, 0x90],
        add(2, v4, Some(8080), None),
    );
    check_vector(
        c,
        "ADD_ADDR IPv6",
        // Length 4 + 16 + 8 = 28; 2001:db8::1.
        &[
            0x1e, 0x1c, 0x30, 0x03, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,
        ],
        add(3, v6, None, Some(k2)),
    );
    check_vector(
        c,
        "ADD_ADDR IPv6 port",
        // Length 4 + 16 + 2 + 8 = 30; port 443.
        &[
            0x1e, 0x1e, 0x30, 0x04, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x01, 0xbb, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16,
            0x17, 0x18,
        ],
        add(4, v6, Some(443), Some(k2)),
    );
    check_vector(
        c,
        "ADD_ADDR IPv6 echo",
        // E=1: length 4 + 16 = 20.
        &[
            0x1e, 0x14, 0x31, 0x03, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
        ],
        add(3, v6, None, None),
    );
    check_vector(
        c,
        "ADD_ADDR IPv6 port echo",
        // E=1: length 4 + 16 + 2 = 22.
        &[
            0x1e, 0x16, 0x31, 0x04, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x01, 0xbb,
        ],
        add(4, v6, Some(443), None),
    );

    // ---- REMOVE_ADDR, section 3.4.2, Figure 13: subtype 4, (resvd), then
    // one address ID per byte; length 3 + n.
    let one = RemoveAddr::new(&[5]);
    check!(c, one.is_some());
    if let Some(one) = one {
        check_vector(
            c,
            "REMOVE_ADDR one",
            &[0x1e, 0x04, 0x40, 0x05],
            O::RemoveAddr(one),
        );
    }
    let three = RemoveAddr::new(&[1, 2, 3]);
    if let Some(three) = three {
        check_vector(
            c,
            "REMOVE_ADDR three",
            &[0x1e, 0x06, 0x40, 1, 2, 3],
            O::RemoveAddr(three),
        );
    }
    check!(c, RemoveAddr::new(&[]).is_none());
    check!(c, RemoveAddr::new(&[0; RemoveAddr::CAPACITY]).is_some());
    check!(c, RemoveAddr::new(&[0; RemoveAddr::CAPACITY + 1]).is_none());

    // ---- MP_PRIO, section 3.3.8, Figure 11: subtype 5, (rsv) B; length 3.
    check_vector(
        c,
        "MP_PRIO backup",
        &[0x1e, 0x03, 0x51],
        O::MpPrio(MpPrio { backup: true }),
    );
    check_vector(
        c,
        "MP_PRIO regular",
        &[0x1e, 0x03, 0x50],
        O::MpPrio(MpPrio { backup: false }),
    );

    // ---- MP_FASTCLOSE, section 3.5, Figure 14: subtype 7, 12 reserved
    // bits, option receiver's key; length 12.
    check_vector(
        c,
        "MP_FASTCLOSE",
        &[
            0x1e, 0x0c, 0x70, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
        ],
        O::MpFastclose(MpFastclose { receiver_key: k1 }),
    );

    // ---- MP_TCPRST, section 3.6 (its option figure): subtype 8, U V W T,
    // reason; length 4.
    check_vector(
        c,
        "MP_TCPRST transient",
        &[0x1e, 0x04, 0x81, 0x06],
        O::MpTcpRst(MpTcpRst {
            transient: true,
            reason: tcprst_reason::MIDDLEBOX_INTERFERENCE,
            ..MpTcpRst::default()
        }),
    );
    check_vector(
        c,
        "MP_TCPRST U V W",
        &[0x1e, 0x04, 0x8e, 0x00],
        O::MpTcpRst(MpTcpRst {
            u: true,
            v: true,
            w: true,
            transient: false,
            reason: 0,
        }),
    );

    // ---- MP_FAIL, section 3.7 (its option figure): subtype 6, 12 reserved
    // bits, data sequence number (64 bits); length 12.
    check_vector(
        c,
        "MP_FAIL",
        &[
            0x1e, 0x0c, 0x60, 0x00, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,
        ],
        O::MpFail(MpFail { dsn: k2 }),
    );

    // ---- Reserved bits set on receipt are ignored and written as zero.
    check_items(
        c,
        "reserved bits",
        &[
            0x1e, 0x18, 0x1f, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            0, //
            0x1e, 0x03, 0x5e, //
            0x1e, 0x0c, 0x6f, 0xff, 0, 0, 0, 0, 0, 0, 0, 1,
        ],
        &[
            Ok(O::MpJoin(MpJoin::Ack {
                sender_hmac: [0; 20],
            })),
            Ok(O::MpPrio(MpPrio { backup: false })),
            Ok(O::MpFail(MpFail { dsn: 1 })),
        ],
    );

    // ---- A whole area: other kinds are skipped, NOP skipped, EOL ends.
    check_items(
        c,
        "SYN area",
        &[
            0x02, 0x04, 0x05, 0xb4, // MSS 1460
            0x04, 0x02, // SACK permitted
            0x08, 0x0a, 0, 0, 0, 1, 0, 0, 0, 0,    // timestamps
            0x01, // NOP
            0x03, 0x03, 0x07, // window scale 7
            0x1e, 0x04, 0x01, 0x01, // MP_CAPABLE SYN
            0x00, // EOL: what follows is padding
            0x1e, 0x00, 0xff,
        ],
        &[Ok(O::MpCapable(MpCapable {
            version: 1,
            flags: h,
            form: CapableForm::Syn,
        }))],
    );
    check_items(c, "empty area", &[], &[]);
    check_items(c, "NOPs only", &[1, 1, 1, 1], &[]);

    // ---- Malformed framing: the walk stops at the error.
    check_items(
        c,
        "kind without length",
        &[0x1e],
        &[Err(OptionError::MissingLength { offset: 0 })],
    );
    check_items(
        c,
        "length 0",
        &[0x01, 0x1e, 0x00, 0x1e, 0x04, 0x01, 0x01],
        &[Err(OptionError::LengthTooSmall { offset: 1, len: 0 })],
    );
    check_items(
        c,
        "length 1",
        &[0x1e, 0x01, 0x01, 0x01],
        &[Err(OptionError::LengthTooSmall { offset: 0, len: 1 })],
    );
    check_items(
        c,
        "non-MPTCP length 1",
        &[0x08, 0x01, 0x1e, 0x04, 0x01, 0x01],
        &[Err(OptionError::LengthTooSmall { offset: 0, len: 1 })],
    );
    check_items(
        c,
        "runs off the end",
        // A SYN/ACK MP_CAPABLE (length 12) cut after 6 bytes.
        &[0x1e, 0x04, 0x01, 0x01, 0x1e, 0x0c, 0x01, 0x01, 0x01, 0x02],
        &[
            Ok(O::MpCapable(MpCapable {
                version: 1,
                flags: h,
                form: CapableForm::Syn,
            })),
            Err(OptionError::Overrun { offset: 4, len: 12 }),
        ],
    );
    check_items(
        c,
        "non-MPTCP runs off the end",
        &[0x01, 0x01, 0x08, 0x0a, 0, 0, 0, 1],
        &[Err(OptionError::Overrun { offset: 2, len: 10 })],
    );
    check_items(
        c,
        "length 255",
        &[0x1e, 0xff, 0x20, 0x00],
        &[Err(OptionError::Overrun {
            offset: 0,
            len: 255,
        })],
    );

    // ---- Malformed MPTCP options: skipped, and the walk goes on.
    let bad = |subtype, len| Err(OptionError::BadLength { subtype, len });
    let next = Ok(O::MpPrio(MpPrio { backup: true }));
    check_items(
        c,
        "no subtype",
        &[0x1e, 0x02, 0x1e, 0x03, 0x51],
        &[Err(OptionError::NoSubtype), next],
    );
    check_items(
        c,
        "MP_CAPABLE length 5",
        &[0x1e, 0x05, 0x01, 0x01, 0x00, 0x1e, 0x03, 0x51],
        &[bad(Subtype::MpCapable, 5), next],
    );
    check_items(
        c,
        "MP_CAPABLE length 3",
        &[0x1e, 0x03, 0x01],
        &[bad(Subtype::MpCapable, 3)],
    );
    check_items(
        c,
        "MP_JOIN length 13",
        &[0x1e, 0x0d, 0x11, 0x05, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        &[bad(Subtype::MpJoin, 13)],
    );
    check_items(
        c,
        "DSS flags A, length 6",
        &[0x1e, 0x06, 0x20, 0x01, 0x00, 0x00],
        &[bad(Subtype::Dss, 6)],
    );
    check_items(
        c,
        "DSS flags a|A, length 8",
        &[0x1e, 0x08, 0x20, 0x03, 0x00, 0x00, 0x10, 0x00],
        &[bad(Subtype::Dss, 8)],
    );
    check_items(
        c,
        "DSS checksum without mapping",
        &[0x1e, 0x0a, 0x20, 0x01, 0, 0, 0x10, 0, 0xab, 0xcd],
        &[bad(Subtype::Dss, 10)],
    );
    check_items(
        c,
        "DSS mapping one byte short",
        &[0x1e, 0x0d, 0x20, 0x04, 0, 0, 0, 1, 0, 0, 0, 1, 0],
        &[bad(Subtype::Dss, 13)],
    );
    check_items(
        c,
        "ADD_ADDR E=1 with HMAC length",
        &[
            0x1e, 0x10, 0x31, 0x01, 0xc0, 0x00, 0x02, 0x01, 1, 2, 3, 4, 5, 6, 7, 8,
        ],
        &[bad(Subtype::AddAddr, 16)],
    );
    check_items(
        c,
        "ADD_ADDR E=0 without HMAC",
        &[0x1e, 0x08, 0x30, 0x01, 0xc0, 0x00, 0x02, 0x01],
        &[bad(Subtype::AddAddr, 8)],
    );
    check_items(
        c,
        "ADD_ADDR length 4",
        &[0x1e, 0x04, 0x31, 0x01],
        &[bad(Subtype::AddAddr, 4)],
    );
    check_items(
        c,
        "REMOVE_ADDR no ID",
        &[0x1e, 0x03, 0x40],
        &[bad(Subtype::RemoveAddr, 3)],
    );
    check_items(
        c,
        "MP_PRIO length 4 (v0)",
        &[0x1e, 0x04, 0x51, 0x02],
        &[bad(Subtype::MpPrio, 4)],
    );
    check_items(
        c,
        "MP_FAIL length 8",
        &[0x1e, 0x08, 0x60, 0x00, 0, 0, 0, 1],
        &[bad(Subtype::MpFail, 8)],
    );
    check_items(
        c,
        "MP_FASTCLOSE length 20",
        &[
            0x1e, 0x14, 0x70, 0, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8,
        ],
        &[bad(Subtype::MpFastclose, 20)],
    );
    check_items(
        c,
        "MP_TCPRST length 3",
        &[0x1e, 0x03, 0x81],
        &[bad(Subtype::MpTcpRst, 3)],
    );

    // ---- Unknown subtypes are reported apart, and skipped.
    check_items(
        c,
        "unknown subtypes",
        &[0x1e, 0x04, 0x90, 0x00, 0x1e, 0x03, 0xf0, 0x1e, 0x03, 0x51],
        &[
            Err(OptionError::UnknownSubtype {
                subtype: 0x9,
                len: 4,
            }),
            Err(OptionError::UnknownSubtype {
                subtype: MP_EXPERIMENTAL,
                len: 3,
            }),
            next,
        ],
    );

    // ---- Received: first of each subtype kept, the rest counted.
    let r = Received::parse(&[
        0x1e, 0x03, 0x51, // MP_PRIO backup
        0x1e, 0x03, 0x50, // MP_PRIO again: duplicate
        0x1e, 0x08, 0x20, 0x01, 0x00, 0x00, 0x10, 0x00, // DSS
        0x1e, 0x04, 0x90, 0x00, // unknown
        0x1e, 0x03, 0x40, // REMOVE_ADDR without ID: malformed
        0x1e, 0x09, 0x00, // runs off the end: malformed, stops
    ]);
    check_eq!(c, r.mp_prio, Some(MpPrio { backup: true }));
    check_eq!(
        c,
        r.dss,
        Some(Dss {
            data_ack: Some(DssSeq::Bits32(0x1000)),
            ..Dss::default()
        })
    );
    check_eq!(c, (r.malformed, r.unknown, r.duplicates), (2, 1, 1));
    check!(
        c,
        r.mp_capable.is_none() && r.remove_addr.is_none() && !r.is_empty()
    );
    check!(c, Received::parse(&[0x02, 0x04, 0x05, 0xb4]).is_empty());

    // ---- Writing a set: sizes, padding, buffer checks.
    let prio = O::MpPrio(MpPrio { backup: true });
    let dss = O::Dss(Dss {
        data_ack: Some(DssSeq::Bits32(0x1000)),
        ..Dss::default()
    });
    let set = [prio, dss];
    check_eq!(c, planned_len(&set), 12);
    check_eq!(c, planned_len(&[]), 0);
    let mut buf = [0xeeu8; MAX_OPTIONS_LEN];
    check_eq!(c, write_options(&set, &mut buf), Ok(12));
    check_eq!(
        c,
        buf.get(..13),
        Some(&[0x1e, 0x03, 0x51, 0x1e, 0x08, 0x20, 0x01, 0x00, 0x00, 0x10, 0x00, 0x01, 0xee][..])
    );
    check_eq!(
        c,
        write_options(&set, &mut [0u8; 11]),
        Err(WriteError::BufferTooSmall {
            needed: 12,
            available: 11
        })
    );
    check_eq!(
        c,
        prio.write(&mut [0u8; 2]),
        Err(WriteError::BufferTooSmall {
            needed: 3,
            available: 2
        })
    );
    check_eq!(c, pad_with_nops(&mut buf, 8), Ok(8));
    check_eq!(
        c,
        pad_with_nops(&mut [0u8; 6], 5),
        Err(WriteError::BufferTooSmall {
            needed: 8,
            available: 6
        })
    );
    let bad_version = O::MpCapable(MpCapable {
        version: 16,
        flags: h,
        form: CapableForm::Syn,
    });
    check_eq!(
        c,
        bad_version.write(&mut buf),
        Err(WriteError::VersionRange { version: 16 })
    );

    // ---- The DSS checksum, section 3.3.1 (the pseudo-header: DSN, subflow
    // sequence number, data-level length, zero checksum field).
    // DSN 0x0102030405060708, subflow sequence number 0x090a0b0c, data-level
    // length 4, payload "abcd". The 16-bit words: 0102 0304 0506 0708 090a
    // 0b0c 0004 0000 6162 6364 sum to 0xe8f4 with no carry; the checksum is
    // its complement, 0x170b.
    let ssn = 0x090a_0b0c;
    check_eq!(
        c,
        dss_checksum(k1, ssn, 4, PayloadSum::Bytes(b"abcd")),
        0x170b
    );
    check_eq!(c, dss_checksum(k1, ssn, 4, PayloadSum::Sum(0xc4c6)), 0x170b);
    // csum_partial's result holds the payload sum's bytes c4 c6 in memory
    // order, whatever the CPU's byte order; a carry in the upper half folds in.
    let wsum = u32::from(u16::from_ne_bytes([0xc4, 0xc6]));
    check_eq!(c, dss_checksum(k1, ssn, 4, PayloadSum::Wsum(wsum)), 0x170b);
    let split = u32::from_ne_bytes([0x00, 0x01, 0xc4, 0xc5]);
    check_eq!(c, sum_from_wsum(split), 0xc4c6);
    check!(
        c,
        dss_checksum_ok(k1, ssn, 4, 0x170b, PayloadSum::Bytes(b"abcd"))
    );
    check!(
        c,
        !dss_checksum_ok(k1, ssn, 4, 0x170c, PayloadSum::Bytes(b"abcd"))
    );
    check!(
        c,
        !dss_checksum_ok(k1, ssn, 4, 0x170b, PayloadSum::Bytes(b"abce"))
    );
    // Odd payload "abc", length 3: the last byte is padded, 0x6300; the
    // words sum to 0xe88f, checksum 0x1770.
    check_eq!(
        c,
        dss_checksum(k1, ssn, 3, PayloadSum::Bytes(b"abc")),
        0x1770
    );
    // All ones: every word is 0xffff and so is the sum; checksum 0.
    check_eq!(
        c,
        dss_checksum(u64::MAX, u32::MAX, 0xffff, PayloadSum::Bytes(&[0xff, 0xff])),
        0
    );
    check!(
        c,
        dss_checksum_ok(
            u64::MAX,
            u32::MAX,
            0xffff,
            0,
            PayloadSum::Bytes(&[0xff, 0xff])
        )
    );
    // End-around carry: 0xffff + 0x0001 = 0x0001.
    check_eq!(c, ones_add(0xffff, 1), 1);
    check_eq!(c, ones_sum(0, &[0xff, 0xff, 0x00, 0x02]), 2);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::vec::Vec;

    #[test]
    fn vectors() {
        selftest(&mut crate::check::PanicCheck);
    }

    fn dss_seq() -> impl Strategy<Value = DssSeq> {
        prop_oneof![
            any::<u32>().prop_map(DssSeq::Bits32),
            any::<u64>().prop_map(DssSeq::Bits64)
        ]
    }

    fn mp_capable() -> impl Strategy<Value = MptcpOption> {
        let form = prop_oneof![
            Just(CapableForm::Syn),
            any::<u64>().prop_map(|sender_key| CapableForm::SynAck { sender_key }),
            (any::<u64>(), any::<u64>()).prop_map(|(sender_key, receiver_key)| CapableForm::Ack {
                sender_key,
                receiver_key
            }),
            (
                any::<u64>(),
                any::<u64>(),
                any::<u16>(),
                any::<Option<u16>>()
            )
                .prop_map(|(sender_key, receiver_key, data_len, checksum)| {
                    CapableForm::AckData {
                        sender_key,
                        receiver_key,
                        data_len,
                        checksum,
                    }
                }),
        ];
        (0u8..16, any::<u8>(), form).prop_map(|(version, flags, form)| {
            MptcpOption::MpCapable(MpCapable {
                version,
                flags: CapableFlags(flags),
                form,
            })
        })
    }

    fn mp_join() -> impl Strategy<Value = MptcpOption> {
        prop_oneof![
            (any::<bool>(), any::<u8>(), any::<u32>(), any::<u32>()).prop_map(
                |(backup, addr_id, receiver_token, sender_random)| MpJoin::Syn {
                    backup,
                    addr_id,
                    receiver_token,
                    sender_random,
                }
            ),
            (any::<bool>(), any::<u8>(), any::<u64>(), any::<u32>()).prop_map(
                |(backup, addr_id, sender_truncated_hmac, sender_random)| MpJoin::SynAck {
                    backup,
                    addr_id,
                    sender_truncated_hmac,
                    sender_random,
                }
            ),
            any::<[u8; 20]>().prop_map(|sender_hmac| MpJoin::Ack { sender_hmac }),
        ]
        .prop_map(MptcpOption::MpJoin)
    }

    fn dss() -> impl Strategy<Value = MptcpOption> {
        let mapping = (dss_seq(), any::<u32>(), any::<u16>(), any::<Option<u16>>()).prop_map(
            |(dsn, subflow_seq, data_len, checksum)| DssMapping {
                dsn,
                subflow_seq,
                data_len,
                checksum,
            },
        );
        (
            proptest::option::of(dss_seq()),
            proptest::option::of(mapping),
            any::<bool>(),
        )
            .prop_map(|(data_ack, mapping, data_fin)| {
                MptcpOption::Dss(Dss {
                    data_ack,
                    mapping,
                    data_fin,
                })
            })
    }

    fn add_addr() -> impl Strategy<Value = MptcpOption> {
        let addr = prop_oneof![
            any::<[u8; 4]>().prop_map(|a| IpAddr::V4(Ipv4Addr::from(a))),
            any::<[u8; 16]>().prop_map(|a| IpAddr::V6(Ipv6Addr::from(a))),
        ];
        (
            any::<u8>(),
            addr,
            any::<Option<u16>>(),
            any::<Option<u64>>(),
        )
            .prop_map(|(addr_id, addr, port, truncated_hmac)| {
                MptcpOption::AddAddr(AddAddr {
                    addr_id,
                    addr,
                    port,
                    truncated_hmac,
                })
            })
    }

    /// Any option, every subtype and form.
    fn option() -> impl Strategy<Value = MptcpOption> {
        prop_oneof![
            mp_capable(),
            mp_join(),
            dss(),
            add_addr(),
            proptest::collection::vec(any::<u8>(), 1..=RemoveAddr::CAPACITY)
                .prop_filter_map("1..=CAPACITY ids", |ids| RemoveAddr::new(&ids)
                    .map(MptcpOption::RemoveAddr)),
            any::<bool>().prop_map(|backup| MptcpOption::MpPrio(MpPrio { backup })),
            any::<u64>().prop_map(|dsn| MptcpOption::MpFail(MpFail { dsn })),
            any::<u64>()
                .prop_map(|receiver_key| MptcpOption::MpFastclose(MpFastclose { receiver_key })),
            (any::<[bool; 4]>(), any::<u8>()).prop_map(|([u, v, w, transient], reason)| {
                MptcpOption::MpTcpRst(MpTcpRst {
                    u,
                    v,
                    w,
                    transient,
                    reason,
                })
            }),
        ]
    }

    /// Options areas that look like real ones: MPTCP options with random
    /// bodies and lengths, other options, NOPs, EOL and stray bytes.
    fn mptcp_like_area() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            4 => (0u8..16, any::<u8>(), 2usize..42, proptest::collection::vec(any::<u8>(), 40))
                .prop_map(|(subtype, low, len, body)| {
                    let mut v = std::vec![TCPOPT_MPTCP, len as u8, subtype << 4 | (low & 0xf)];
                    v.extend_from_slice(&body[..len.saturating_sub(3)]);
                    v
                }),
            2 => option().prop_map(|o| {
                let mut buf = [0u8; MAX_OPTIONS_LEN];
                let n = o.write(&mut buf).unwrap();
                buf[..n].to_vec()
            }),
            1 => Just(std::vec![TCPOPT_NOP]),
            1 => Just(std::vec![0x02, 0x04, 0x05, 0xb4]),
            1 => proptest::collection::vec(any::<u8>(), 0..4),
        ];
        proptest::collection::vec(piece, 0..5).prop_map(|p| p.concat())
    }

    /// Every item of `area` is consistent: an option re-encodes to exactly
    /// `encoded_len` bytes that parse back to itself; errors that end the
    /// walk are last.
    fn check_area(area: &[u8]) -> Result<(), TestCaseError> {
        let items: Vec<_> = options(area).collect();
        for (i, item) in items.iter().enumerate() {
            match item {
                Ok(o) => {
                    let mut buf = [0u8; MAX_OPTIONS_LEN];
                    let n = o
                        .write(&mut buf)
                        .map_err(|e| TestCaseError::fail(std::format!("{e}")))?;
                    prop_assert_eq!(n, o.encoded_len());
                    let again: Vec<_> = options(&buf[..n]).collect();
                    prop_assert_eq!(again, std::vec![Ok(*o)]);
                }
                Err(e) if e.ends_area() => prop_assert_eq!(i + 1, items.len()),
                Err(_) => {}
            }
        }
        // The summary counts what the walk yields (saturating at 255).
        let r = Received::parse(area);
        let count = |f: fn(&OptionError) -> bool| {
            items
                .iter()
                .filter(|i| matches!(i, Err(e) if f(e)))
                .count()
                .min(255)
        };
        prop_assert_eq!(usize::from(r.malformed), count(OptionError::is_malformed));
        prop_assert_eq!(usize::from(r.unknown), count(|e| !e.is_malformed()));
        let oks = items.iter().filter(|i| i.is_ok()).count();
        let kept = [
            r.mp_capable.is_some(),
            r.mp_join.is_some(),
            r.dss.is_some(),
            r.add_addr.is_some(),
            r.remove_addr.is_some(),
            r.mp_prio.is_some(),
            r.mp_fail.is_some(),
            r.mp_fastclose.is_some(),
            r.mp_tcprst.is_some(),
        ];
        let kept = kept.iter().filter(|k| **k).count();
        prop_assert_eq!(kept + usize::from(r.duplicates), oks.min(kept + 255));
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        /// Any option writes `encoded_len` bytes that parse back to it.
        #[test]
        fn option_round_trips(o in option()) {
            let mut buf = [0u8; MAX_OPTIONS_LEN];
            let n = o.write(&mut buf).unwrap();
            prop_assert_eq!(n, o.encoded_len());
            prop_assert!(n <= MAX_OPTIONS_LEN);
            let items: Vec<_> = options(&buf[..n]).collect();
            prop_assert_eq!(items, std::vec![Ok(o)]);
            // Too small a buffer is an error, never a partial write.
            let mut short = std::vec![0u8; n - 1];
            prop_assert_eq!(
                o.write(&mut short),
                Err(WriteError::BufferTooSmall { needed: n, available: n - 1 })
            );
        }

        /// A set of options written as a block parses back, in order.
        #[test]
        fn block_round_trips(opts in proptest::collection::vec(option(), 0..4)) {
            let needed = planned_len(&opts);
            let mut buf = std::vec![0u8; needed + 8];
            prop_assert_eq!(write_options(&opts, &mut buf), Ok(needed));
            prop_assert_eq!(needed % 4, 0);
            let items: Vec<_> = options(&buf[..needed]).collect();
            let expected: Vec<_> = opts.iter().map(|o| Ok(*o)).collect();
            prop_assert_eq!(items, expected);
        }

        /// The DSS checksum is the same from bytes, a network-order sum or
        /// a kernel-style wsum, and verifies.
        #[test]
        fn checksum_forms_agree(
            dsn in any::<u64>(),
            ssn in any::<u32>(),
            payload in proptest::collection::vec(any::<u8>(), 0..300),
            extra in any::<u16>(),
        ) {
            let len = payload.len() as u16;
            let from_bytes = dss_checksum(dsn, ssn, len, PayloadSum::Bytes(&payload));
            let sum = ones_sum(0, &payload);
            prop_assert_eq!(dss_checksum(dsn, ssn, len, PayloadSum::Sum(sum)), from_bytes);
            // csum_partial: native-order 16-bit words (odd tail padded in
            // memory order) summed into 32 bits.
            let mut wsum: u64 = 0;
            for w in payload.chunks(2) {
                let pair = [w[0], *w.get(1).unwrap_or(&0)];
                wsum += u64::from(u16::from_ne_bytes(pair));
            }
            while wsum >> 16 != 0 {
                wsum = (wsum & 0xffff) + (wsum >> 16);
            }
            // Another representation of the same sum: adding 0xffff (a
            // ones' complement zero) any number of times must not matter.
            // (For a zero sum that would pick the other zero, so not then.)
            let wsum = wsum as u32;
            let k = if wsum == 0 { 0 } else { u32::from(extra) };
            let wsum = wsum + 0xffff * k;
            prop_assert_eq!(dss_checksum(dsn, ssn, len, PayloadSum::Wsum(wsum)), from_bytes);
            prop_assert!(dss_checksum_ok(dsn, ssn, len, from_bytes, PayloadSum::Bytes(&payload)));
            let corrupted = from_bytes ^ 0x0100;
            prop_assert!(!dss_checksum_ok(dsn, ssn, len, corrupted, PayloadSum::Bytes(&payload)));
        }
    }

    proptest! {
        // Parsing is cheap: many more cases.
        #![proptest_config(ProptestConfig::with_cases(16384))]

        /// Arbitrary bytes never panic, and what parses re-encodes.
        #[test]
        fn arbitrary_bytes(area in proptest::collection::vec(any::<u8>(), 0..64)) {
            check_area(&area)?;
        }

        /// The same on areas built of MPTCP-looking pieces, which reach
        /// deeper into the subtype decoders than uniform bytes.
        #[test]
        fn mptcp_like_areas(area in mptcp_like_area()) {
            check_area(&area)?;
        }
    }
}
