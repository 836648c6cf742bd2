// SPDX-License-Identifier: GPL-2.0

//! Cross-checks the MPTCP option codec against an independent decoder,
//! Wireshark's tshark.
//!
//! The test builds TCP/IPv4 segments carrying every form of every MPTCP
//! option with the codec's writer, each with the TCP flags its form goes
//! with (tshark reads MP_CAPABLE's forms in the handshake's context), writes
//! them to a pcap file (format written here, real IPv4 and TCP checksums),
//! and runs tshark on it. It then asserts that tshark decodes each option to
//! the field values the codec was given, and that tshark reports no
//! malformed packet, no bad checksum and no warning or error about the
//! options.
//!
//! tshark must be installed (`/usr/bin/tshark`, or `$TSHARK`); if it is
//! missing the test fails, unless `MPTCP_RS_NO_TSHARK=1` asks to skip it.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::process::Command;

use mptcp_core::crypto::{token_and_idsn, Sha256};
use mptcp_core::option::*;

/// The host's SHA-256 for the crate's `Sha256` trait: the `sha2` crate.
struct HostSha256(sha2::Sha256);

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

// TCP flags.
const FIN: u8 = 0x01;
const SYN: u8 = 0x02;
const RST: u8 = 0x04;
const PSH: u8 = 0x08;
const ACK: u8 = 0x10;

/// One end of a TCP connection.
#[derive(Clone, Copy)]
struct End {
    addr: [u8; 4],
    port: u16,
}

/// A TCP/IPv4 segment to write.
struct Segment {
    src: End,
    dst: End,
    seq: u32,
    ack: u32,
    flags: u8,
    options: Vec<MptcpOption>,
    payload: Vec<u8>,
    /// For a mapping with a DSS checksum: the full 64-bit DSN and the
    /// relative subflow sequence number the checksum covers.
    checksummed: Option<(u64, u32)>,
}

impl Segment {
    /// The IPv4 packet: header, TCP header with the options written by the
    /// codec (padded with NOPs), payload; both checksums filled in.
    fn to_ipv4(&self) -> Vec<u8> {
        let mut opts = [0u8; MAX_OPTIONS_LEN];
        let opt_len = write_options(&self.options, &mut opts).expect("options fit");
        assert_eq!(opt_len, planned_len(&self.options));
        let tcp_len = 20 + opt_len + self.payload.len();
        let mut tcp = Vec::with_capacity(tcp_len);
        tcp.extend_from_slice(&self.src.port.to_be_bytes());
        tcp.extend_from_slice(&self.dst.port.to_be_bytes());
        tcp.extend_from_slice(&self.seq.to_be_bytes());
        tcp.extend_from_slice(&self.ack.to_be_bytes());
        tcp.push((((20 + opt_len) / 4) as u8) << 4);
        tcp.push(self.flags);
        tcp.extend_from_slice(&65535u16.to_be_bytes()); // window
        tcp.extend_from_slice(&[0, 0, 0, 0]); // checksum, urgent pointer
        tcp.extend_from_slice(&opts[..opt_len]);
        tcp.extend_from_slice(&self.payload);
        // TCP checksum over the pseudo-header and the segment (RFC 9293,
        // section 3.1).
        let mut pseudo = Vec::new();
        pseudo.extend_from_slice(&self.src.addr);
        pseudo.extend_from_slice(&self.dst.addr);
        pseudo.extend_from_slice(&[0, 6]);
        pseudo.extend_from_slice(&(tcp_len as u16).to_be_bytes());
        let sum = internet_sum(&[&pseudo, &tcp]);
        tcp[16..18].copy_from_slice(&(!sum).to_be_bytes());

        let mut ip = Vec::with_capacity(20 + tcp_len);
        ip.extend_from_slice(&[0x45, 0]);
        ip.extend_from_slice(&((20 + tcp_len) as u16).to_be_bytes());
        ip.extend_from_slice(&[0, 1, 0x40, 0, 64, 6, 0, 0]); // id, DF, TTL, TCP
        ip.extend_from_slice(&self.src.addr);
        ip.extend_from_slice(&self.dst.addr);
        let sum = internet_sum(&[&ip]);
        ip[10..12].copy_from_slice(&(!sum).to_be_bytes());
        ip.extend_from_slice(&tcp);
        ip
    }
}

/// The RFC 1071 sum of the concatenation of `parts`, computed here
/// independently of the codec's.
fn internet_sum(parts: &[&[u8]]) -> u16 {
    let bytes: Vec<u8> = parts.concat();
    let mut sum: u32 = 0;
    for pair in bytes.chunks(2) {
        let word = u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)]);
        sum += u32::from(word);
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

/// A pcap file (the classic format, microsecond timestamps) of raw IPv4
/// packets (LINKTYPE_RAW).
fn pcap(packets: &[Vec<u8>]) -> Vec<u8> {
    const LINKTYPE_RAW: u32 = 101;
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes()); // magic
    out.extend_from_slice(&2u16.to_le_bytes()); // version 2.4
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&0i32.to_le_bytes()); // thiszone
    out.extend_from_slice(&0u32.to_le_bytes()); // sigfigs
    out.extend_from_slice(&65535u32.to_le_bytes()); // snaplen
    out.extend_from_slice(&LINKTYPE_RAW.to_le_bytes());
    for (i, p) in packets.iter().enumerate() {
        out.extend_from_slice(&1_700_000_000u32.to_le_bytes()); // seconds
        out.extend_from_slice(&(i as u32 * 1000).to_le_bytes()); // microseconds
        out.extend_from_slice(&(p.len() as u32).to_le_bytes()); // captured
        out.extend_from_slice(&(p.len() as u32).to_le_bytes()); // on the wire
        out.extend_from_slice(p);
    }
    out
}

/// The tshark fields (`-T fields -e ...`) this test reads, in order.
const FIELDS: &[&str] = &[
    "frame.number",
    "tcp.flags",
    "tcp.option_kind",
    "tcp.option_len",
    "tcp.options.mptcp.subtype",
    "tcp.options.mptcp.version",
    "tcp.options.mptcp.flags",
    "tcp.options.mptcp.checksumreq.flags",
    "tcp.options.mptcp.extensibility.flag",
    "tcp.options.mptcp.nomoresubflows.flag",
    "tcp.options.mptcp.sha256.flag",
    "tcp.options.mptcp.sendkey",
    "tcp.options.mptcp.recvkey",
    "tcp.options.mptcp.datalvllen",
    "tcp.options.mptcp.checksum",
    "tcp.options.mptcp.backup.flag",
    "tcp.options.mptcp.addrid",
    "tcp.options.mptcp.recvtok",
    "tcp.options.mptcp.sendrand",
    "tcp.options.mptcp.sendtrunchmac",
    "tcp.options.mptcp.sendhmac",
    "tcp.options.mptcp.datafin.flag",
    "tcp.options.mptcp.dseqn8.flag",
    "tcp.options.mptcp.dseqnpresent.flag",
    "tcp.options.mptcp.dataack8.flag",
    "tcp.options.mptcp.dataackpresent.flag",
    "tcp.options.mptcp.rawdataack",
    "tcp.options.mptcp.rawdataseqno",
    "tcp.options.mptcp.subflowseqno",
    "tcp.options.mptcp.echo",
    "tcp.options.mptcp.ipv4",
    "tcp.options.mptcp.ipv6",
    "tcp.options.mptcp.port",
    "tcp.options.mptcp.addaddrtrunchmac",
    "mptcp.rm_addr.count",
    "tcp.options.mptcp.flag_U.flag",
    "tcp.options.mptcp.flag_V.flag",
    "tcp.options.mptcp.flag_W.flag",
    "tcp.options.mptcp.flag_T.flag",
    "tcp.options.mptcp.rst_reason",
    "_ws.malformed",
    "_ws.expert.severity",
    "_ws.expert.message",
];

fn tshark_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("TSHARK") {
        // An explicit choice: no fallback if it is not there.
        let p = PathBuf::from(p);
        return p.exists().then_some(p);
    }
    let default = PathBuf::from("/usr/bin/tshark");
    if default.exists() {
        return Some(default);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("tshark"))
            .find(|p| p.exists())
    })
}

fn run_tshark(tshark: &PathBuf, args: &[&str]) -> String {
    let out = Command::new(tshark)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", tshark.display()));
    assert!(
        out.status.success(),
        "tshark {args:?} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("tshark prints UTF-8")
}

#[test]
fn tshark_decodes_what_the_codec_writes() {
    let Some(tshark) = tshark_path() else {
        if std::env::var("MPTCP_RS_NO_TSHARK").as_deref() == Ok("1") {
            eprintln!("SKIPPED: tshark not found and MPTCP_RS_NO_TSHARK=1");
            return;
        }
        panic!(
            "tshark not found (looked at $TSHARK, /usr/bin/tshark and $PATH): install it \
             (apt-get install tshark) or set MPTCP_RS_NO_TSHARK=1 to skip this cross-check"
        );
    };

    let segments = build_segments();
    let packets: Vec<Vec<u8>> = segments.iter().map(Segment::to_ipv4).collect();
    let dir = std::env::temp_dir().join(format!("mptcp-rs-tshark-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("options.pcap");
    std::fs::write(&file, pcap(&packets)).unwrap();
    let file_s = file.to_str().unwrap();

    let verbose = run_tshark(
        &tshark,
        &[
            "-r",
            file_s,
            "-V",
            "-o",
            "tcp.analyze_sequence_numbers:FALSE",
        ],
    );
    std::fs::write(dir.join("verbose.txt"), &verbose).unwrap();
    // 1. No malformed packet, in the full dissection.
    for bad in ["Malformed", "Dissector bug", "Exception occurred"] {
        assert!(
            !verbose.contains(bad),
            "tshark -V reports {bad:?}; see {}",
            dir.display()
        );
    }

    // 2. Field by field, tshark's decoding equals what the codec was given.
    let mut args = vec![
        "-r",
        file_s,
        "-T",
        "fields",
        "-E",
        "separator=/t",
        "-E",
        "occurrence=a",
    ];
    args.extend([
        "-E",
        "aggregator=|",
        "-o",
        "tcp.analyze_sequence_numbers:FALSE",
    ]);
    // Let tshark verify the IPv4 and TCP checksums too.
    args.extend([
        "-o",
        "tcp.check_checksum:TRUE",
        "-o",
        "ip.check_checksum:TRUE",
    ]);
    for f in FIELDS {
        args.extend(["-e", f]);
    }
    let fields = run_tshark(&tshark, &args);
    std::fs::write(dir.join("fields.tsv"), &fields).unwrap();
    let lines: Vec<&str> = fields.lines().collect();
    assert_eq!(
        lines.len(),
        segments.len(),
        "tshark read {} frames",
        lines.len()
    );
    let mut failures = String::new();
    let mut checked = 0;
    for (i, (line, seg)) in lines.iter().zip(&segments).enumerate() {
        let got: Vec<&str> = line.split('\t').collect();
        assert_eq!(got.len(), FIELDS.len(), "frame {}: {line:?}", i + 1);
        let get = |name: &str| got[FIELDS.iter().position(|f| *f == name).unwrap()];
        assert_eq!(get("frame.number"), (i + 1).to_string());
        assert_eq!(
            get("tcp.flags"),
            format!("0x{:04x}", seg.flags),
            "frame {}",
            i + 1
        );
        let mut want = expected_fields(&seg.options);
        // The options' framing: each MPTCP option with its length, then
        // the NOPs padding the block to 32 bits.
        let lens: Vec<String> = seg
            .options
            .iter()
            .map(|o| o.encoded_len().to_string())
            .collect();
        let mut kinds: Vec<&str> = vec!["30"; seg.options.len()];
        let written: usize = seg.options.iter().map(MptcpOption::encoded_len).sum();
        kinds.extend(std::iter::repeat_n(
            "1",
            planned_len(&seg.options) - written,
        ));
        want.push(("tcp.option_len", lens.join("|")));
        want.push(("tcp.option_kind", kinds.join("|")));
        for (f, value) in FIELDS.iter().zip(&got) {
            if f.starts_with("frame.") || *f == "tcp.flags" || f.starts_with("_ws.") {
                continue;
            }
            let w = want
                .iter()
                .find(|(name, _)| name == f)
                .map(|(_, v)| v.as_str())
                .unwrap_or("");
            // "?value": tshark may show the value or nothing.
            let w = match w.strip_prefix('?') {
                Some(_) if value.is_empty() => "",
                Some(v) => v,
                None => w,
            };
            if w != *value {
                let _ = writeln!(
                    failures,
                    "frame {}: {f}: tshark {value:?}, codec {w:?}",
                    i + 1
                );
            }
            checked += usize::from(!w.is_empty());
        }
        // 3. No expert warning or error, except the two explained here.
        let severities = get("_ws.expert.severity");
        let messages = get("_ws.expert.message");
        for (sev, msg) in severities.split('|').zip(messages.split('|')) {
            if sev.is_empty() || sev.parse::<u32>().unwrap() < PI_WARN {
                continue; // chat and notes: "Connection establish request (SYN)"...
            }
            let allowed =
                // TCP's own note on every RST, not about the options.
                (msg == "Connection reset (RST)" && seg.flags & RST != 0)
                // tshark 4.0 masks MP_CAPABLE flags with 0x3f for the crypto
                // algorithm (RFC 6824's C..H), so RFC 8684's "C" flag reads
                // as an algorithm; tshark still decodes "C" itself right.
                || (msg == "Unsupported algorithm" && has_c_flag(&seg.options));
            if !allowed {
                let _ = writeln!(failures, "frame {}: expert severity {sev}: {msg}", i + 1);
            }
        }
    }
    assert!(
        failures.is_empty(),
        "tshark disagrees with the codec:\n{failures}(files in {})",
        dir.display()
    );
    eprintln!(
        "tshark agrees on {checked} option fields in {} frames",
        segments.len()
    );

    check_dss_checksums(&segments);

    // 4. tshark's expert summary of warnings and errors (checksums
    // verified) lists nothing but the two explained above.
    let expert = run_tshark(
        &tshark,
        &[
            "-r",
            file_s,
            "-q",
            "-o",
            "tcp.check_checksum:TRUE",
            "-o",
            "ip.check_checksum:TRUE",
            "-z",
            "expert,warn",
        ],
    );
    std::fs::write(dir.join("expert.txt"), &expert).unwrap();
    let resets = segments.iter().filter(|s| s.flags & RST != 0).count();
    let c_flags = segments.iter().filter(|s| has_c_flag(&s.options)).count();
    let allowed = [
        (resets, "TCP", "Connection reset (RST)"),
        (c_flags, "MPTCP", "Unsupported algorithm"),
    ];
    let mut rows = 0;
    for line in expert.lines() {
        let cols: Vec<&str> = line.split_whitespace().collect();
        // Rows: frequency, group, protocol, summary.
        let Some(freq) = cols.first().and_then(|c| c.parse::<usize>().ok()) else {
            continue;
        };
        let (protocol, summary) = (cols[2], cols[3..].join(" "));
        assert!(
            allowed
                .iter()
                .any(|&(n, p, s)| n == freq && p == protocol && s == summary),
            "tshark expert: {line}\n{expert}"
        );
        rows += 1;
    }
    assert!(rows <= allowed.len(), "tshark expert summary:\n{expert}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Recomputes every DSS checksum the segments carry (RFC 8684, section
/// 3.3.1) with this file's own RFC 1071 sum, independently of the codec's.
fn check_dss_checksums(segments: &[Segment]) {
    let mut seen = 0;
    for seg in segments {
        let Some((dsn, subflow_seq)) = seg.checksummed else {
            continue;
        };
        for o in &seg.options {
            let (data_len, checksum) = match *o {
                MptcpOption::Dss(Dss {
                    mapping: Some(m), ..
                }) => (m.data_len, m.checksum),
                MptcpOption::MpCapable(MpCapable {
                    form:
                        CapableForm::AckData {
                            data_len, checksum, ..
                        },
                    ..
                }) => (data_len, checksum),
                _ => continue,
            };
            let checksum = checksum.expect("a checksummed mapping carries its checksum");
            let mut pseudo = Vec::new();
            pseudo.extend_from_slice(&dsn.to_be_bytes());
            pseudo.extend_from_slice(&subflow_seq.to_be_bytes());
            pseudo.extend_from_slice(&data_len.to_be_bytes());
            pseudo.extend_from_slice(&checksum.to_be_bytes());
            assert_eq!(usize::from(data_len), seg.payload.len());
            assert_eq!(
                internet_sum(&[&pseudo, &seg.payload]),
                0xffff,
                "DSS checksum of DSN {dsn:#x}"
            );
            seen += 1;
        }
    }
    assert_eq!(seen, 2, "both checksummed mappings verified");
}

/// tshark's expert severity for warnings (PI_WARN); notes and chats are
/// below, errors above.
const PI_WARN: u32 = 0x0060_0000;

fn has_c_flag(options: &[MptcpOption]) -> bool {
    options
        .iter()
        .any(|o| matches!(o, MptcpOption::MpCapable(m) if m.flags.no_join_to_source()))
}

/// The tshark fields, with the values tshark shows in `-T fields`, that
/// the options must decode to; several options' values of one field are
/// joined by "|", in order.
fn expected_fields(options: &[MptcpOption]) -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = Vec::new();
    for o in options {
        let mut f: Vec<(&'static str, String)> = Vec::new();
        let mut push = |name: &'static str, value: String| f.push((name, value));
        let bit = |b: bool| u8::from(b).to_string();
        push("tcp.options.mptcp.subtype", (o.subtype() as u8).to_string());
        match o {
            MptcpOption::MpCapable(m) => {
                push("tcp.options.mptcp.version", m.version.to_string());
                push("tcp.options.mptcp.flags", format!("0x{:02x}", m.flags.0));
                push(
                    "tcp.options.mptcp.checksumreq.flags",
                    bit(m.flags.checksum_required()),
                );
                push(
                    "tcp.options.mptcp.extensibility.flag",
                    bit(m.flags.extensibility()),
                );
                push(
                    "tcp.options.mptcp.nomoresubflows.flag",
                    bit(m.flags.no_join_to_source()),
                );
                push("tcp.options.mptcp.sha256.flag", bit(m.flags.hmac_sha256()));
                match m.form {
                    CapableForm::Syn => {}
                    CapableForm::SynAck { sender_key } => {
                        push("tcp.options.mptcp.sendkey", sender_key.to_string());
                    }
                    CapableForm::Ack {
                        sender_key,
                        receiver_key,
                    } => {
                        push("tcp.options.mptcp.sendkey", sender_key.to_string());
                        push("tcp.options.mptcp.recvkey", receiver_key.to_string());
                    }
                    CapableForm::AckData {
                        sender_key,
                        receiver_key,
                        data_len,
                        checksum,
                    } => {
                        push("tcp.options.mptcp.sendkey", sender_key.to_string());
                        push("tcp.options.mptcp.recvkey", receiver_key.to_string());
                        push("tcp.options.mptcp.datalvllen", data_len.to_string());
                        if let Some(c) = checksum {
                            push("tcp.options.mptcp.checksum", format!("0x{c:04x}"));
                        }
                    }
                }
            }
            MptcpOption::MpJoin(j) => match *j {
                MpJoin::Syn {
                    backup,
                    addr_id,
                    receiver_token,
                    sender_random,
                } => {
                    push(
                        "tcp.options.mptcp.flags",
                        format!("0x{:02x}", 0x10 | u8::from(backup)),
                    );
                    push("tcp.options.mptcp.backup.flag", bit(backup));
                    push("tcp.options.mptcp.addrid", addr_id.to_string());
                    push("tcp.options.mptcp.recvtok", receiver_token.to_string());
                    push("tcp.options.mptcp.sendrand", sender_random.to_string());
                }
                MpJoin::SynAck {
                    backup,
                    addr_id,
                    sender_truncated_hmac,
                    sender_random,
                } => {
                    push(
                        "tcp.options.mptcp.flags",
                        format!("0x{:02x}", 0x10 | u8::from(backup)),
                    );
                    push("tcp.options.mptcp.backup.flag", bit(backup));
                    push("tcp.options.mptcp.addrid", addr_id.to_string());
                    push(
                        "tcp.options.mptcp.sendtrunchmac",
                        sender_truncated_hmac.to_string(),
                    );
                    push("tcp.options.mptcp.sendrand", sender_random.to_string());
                }
                MpJoin::Ack { sender_hmac } => {
                    let hex: String = sender_hmac.iter().map(|b| format!("{b:02x}")).collect();
                    push("tcp.options.mptcp.sendhmac", hex);
                }
            },
            MptcpOption::Dss(d) => {
                let mut flags = 0u8;
                if d.data_fin {
                    flags |= 0x10;
                }
                if let Some(a) = d.data_ack {
                    flags |= 0x01 | if a.is_64bit() { 0x02 } else { 0 };
                }
                if let Some(m) = d.mapping {
                    flags |= 0x04 | if m.dsn.is_64bit() { 0x08 } else { 0 };
                }
                push("tcp.options.mptcp.flags", format!("0x{flags:02x}"));
                push("tcp.options.mptcp.datafin.flag", bit(d.data_fin));
                push("tcp.options.mptcp.dseqn8.flag", bit(flags & 0x08 != 0));
                push(
                    "tcp.options.mptcp.dseqnpresent.flag",
                    bit(d.mapping.is_some()),
                );
                push("tcp.options.mptcp.dataack8.flag", bit(flags & 0x02 != 0));
                push(
                    "tcp.options.mptcp.dataackpresent.flag",
                    bit(d.data_ack.is_some()),
                );
                if let Some(a) = d.data_ack {
                    push("tcp.options.mptcp.rawdataack", a.value().to_string());
                }
                if let Some(m) = d.mapping {
                    push("tcp.options.mptcp.rawdataseqno", m.dsn.value().to_string());
                    push("tcp.options.mptcp.subflowseqno", m.subflow_seq.to_string());
                    push("tcp.options.mptcp.datalvllen", m.data_len.to_string());
                    // tshark 4.0 shows a DSS checksum only when at least 4
                    // bytes follow the data-level length (a correct option
                    // has 2), so it never decodes it: it may be missing
                    // ("?"). The option's length is checked all the same,
                    // and the checksum's value by `check_dss_checksums`.
                    if let Some(c) = m.checksum {
                        push("tcp.options.mptcp.checksum", format!("?0x{c:04x}"));
                    }
                }
            }
            MptcpOption::AddAddr(a) => {
                push("tcp.options.mptcp.echo", bit(a.echo()));
                push("tcp.options.mptcp.addrid", a.addr_id.to_string());
                match a.addr {
                    IpAddr::V4(v4) => push("tcp.options.mptcp.ipv4", v4.to_string()),
                    IpAddr::V6(v6) => push("tcp.options.mptcp.ipv6", v6.to_string()),
                }
                if let Some(port) = a.port {
                    push("tcp.options.mptcp.port", port.to_string());
                }
                if let Some(h) = a.truncated_hmac {
                    push("tcp.options.mptcp.addaddrtrunchmac", h.to_string());
                }
            }
            MptcpOption::RemoveAddr(r) => {
                let ids: Vec<String> = r.ids().iter().map(u8::to_string).collect();
                push("tcp.options.mptcp.addrid", ids.join("|"));
                push("mptcp.rm_addr.count", r.ids().len().to_string());
            }
            MptcpOption::MpPrio(p) => {
                push(
                    "tcp.options.mptcp.flags",
                    format!("0x{:02x}", 0x50 | u8::from(p.backup)),
                );
                push("tcp.options.mptcp.backup.flag", bit(p.backup));
            }
            MptcpOption::MpFail(m) => push("tcp.options.mptcp.rawdataseqno", m.dsn.to_string()),
            MptcpOption::MpFastclose(m) => {
                push("tcp.options.mptcp.recvkey", m.receiver_key.to_string());
            }
            MptcpOption::MpTcpRst(r) => {
                let uvwt = u8::from(r.u) << 3
                    | u8::from(r.v) << 2
                    | u8::from(r.w) << 1
                    | u8::from(r.transient);
                push("tcp.options.mptcp.flags", format!("0x{:02x}", 0x80 | uvwt));
                push("tcp.options.mptcp.flag_U.flag", bit(r.u));
                push("tcp.options.mptcp.flag_V.flag", bit(r.v));
                push("tcp.options.mptcp.flag_W.flag", bit(r.w));
                push("tcp.options.mptcp.flag_T.flag", bit(r.transient));
                push(
                    "tcp.options.mptcp.rst_reason",
                    format!("0x{:02x}", r.reason),
                );
            }
        }
        for (name, value) in f {
            match out.iter_mut().find(|(n, _)| *n == name) {
                Some((_, v)) => {
                    v.push('|');
                    v.push_str(&value);
                }
                None => out.push((name, value)),
            }
        }
    }
    out
}

/// Client, server and a second client address for a joined subflow.
const CLIENT: End = End {
    addr: [10, 0, 0, 1],
    port: 40000,
};
const SERVER: End = End {
    addr: [10, 0, 0, 2],
    port: 80,
};
const CLIENT2: End = End {
    addr: [10, 0, 1, 1],
    port: 40001,
};
const CLIENT3: End = End {
    addr: [10, 0, 0, 1],
    port: 40002,
};

fn build_segments() -> Vec<Segment> {
    let client_key: u64 = 0x0102_0304_0506_0708;
    let server_key: u64 = 0x1112_1314_1516_1718;
    let client3_key: u64 = 0x2122_2324_2526_2728;
    let server3_key: u64 = 0x3132_3334_3536_3738;
    let (server_token, _) = token_and_idsn::<HostSha256>(server_key);
    let (_, client3_idsn) = token_and_idsn::<HostSha256>(client3_key);
    let h = CapableFlags::H;
    let seg = |src, dst, seq, ack, flags, options: Vec<MptcpOption>, payload: &[u8]| Segment {
        src,
        dst,
        seq,
        ack,
        flags,
        options,
        payload: payload.to_vec(),
        checksummed: None,
    };
    let mpc = |flags, form| {
        MptcpOption::MpCapable(MpCapable {
            version: 1,
            flags,
            form,
        })
    };
    let dss = |data_ack, mapping, data_fin| {
        MptcpOption::Dss(Dss {
            data_ack,
            mapping,
            data_fin,
        })
    };
    let map = |dsn, subflow_seq, data_len, checksum| {
        Some(DssMapping {
            dsn,
            subflow_seq,
            data_len,
            checksum,
        })
    };
    let add_addr = |addr_id, addr: IpAddr, port, truncated_hmac| {
        MptcpOption::AddAddr(AddAddr {
            addr_id,
            addr,
            port,
            truncated_hmac,
        })
    };
    let remove = |ids: &[u8]| MptcpOption::RemoveAddr(RemoveAddr::new(ids).unwrap());
    let v4 = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7));
    let v6 = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0xabcd, 1));
    // The first subflow: the MP_CAPABLE handshake, then first data.
    let mut s = vec![seg(
        CLIENT,
        SERVER,
        1000,
        0,
        SYN,
        vec![mpc(h, CapableForm::Syn)],
        b"",
    )];
    s.push(seg(
        SERVER,
        CLIENT,
        5000,
        1001,
        SYN | ACK,
        vec![mpc(
            h,
            CapableForm::SynAck {
                sender_key: server_key,
            },
        )],
        b"",
    ));
    s.push(seg(
        CLIENT,
        SERVER,
        1001,
        5001,
        ACK,
        vec![mpc(
            h,
            CapableForm::Ack {
                sender_key: client_key,
                receiver_key: server_key,
            },
        )],
        b"",
    ));
    s.push(seg(
        CLIENT,
        SERVER,
        1001,
        5001,
        ACK | PSH,
        vec![mpc(
            h,
            CapableForm::AckData {
                sender_key: client_key,
                receiver_key: server_key,
                data_len: 5,
                checksum: None,
            },
        )],
        b"hello",
    ));
    // DSS in every shape.
    s.push(seg(
        SERVER,
        CLIENT,
        5001,
        1006,
        ACK,
        vec![dss(Some(DssSeq::Bits32(0x9abc_def0)), None, false)],
        b"",
    ));
    s.push(seg(
        CLIENT,
        SERVER,
        1006,
        5001,
        ACK | PSH,
        vec![dss(
            Some(DssSeq::Bits64(0x1112_1314_0000_0001)),
            map(DssSeq::Bits32(0xdead_beef), 6, 10, None),
            false,
        )],
        b"0123456789",
    ));
    s.push(seg(
        CLIENT,
        SERVER,
        1016,
        5001,
        ACK | PSH,
        vec![dss(
            Some(DssSeq::Bits32(0x0000_0001)),
            map(DssSeq::Bits64(0x0102_0304_dead_bef9), 16, 4, None),
            false,
        )],
        b"abcd",
    ));
    s.push(seg(
        CLIENT,
        SERVER,
        1020,
        5001,
        ACK | FIN,
        vec![dss(
            Some(DssSeq::Bits64(0x1112_1314_0000_0001)),
            map(DssSeq::Bits64(0x0102_0304_dead_befd), 0, 1, None),
            true,
        )],
        b"",
    ));
    // ADD_ADDR: announcements from the server, echoes from the client.
    for (i, (addr, port)) in [(v4, None), (v4, Some(8080)), (v6, None), (v6, Some(443))]
        .into_iter()
        .enumerate()
    {
        let id = i as u8 + 1;
        let hmac = 0x5152_5354_5556_5758 + i as u64;
        s.push(seg(
            SERVER,
            CLIENT,
            5001,
            1021,
            ACK,
            vec![add_addr(id, addr, port, Some(hmac))],
            b"",
        ));
        s.push(seg(
            CLIENT,
            SERVER,
            1021,
            5001,
            ACK,
            vec![add_addr(id, addr, port, None)],
            b"",
        ));
    }
    s.push(seg(
        SERVER,
        CLIENT,
        5001,
        1021,
        ACK,
        vec![remove(&[1])],
        b"",
    ));
    s.push(seg(
        SERVER,
        CLIENT,
        5001,
        1021,
        ACK,
        vec![remove(&[2, 3, 4])],
        b"",
    ));
    s.push(seg(
        CLIENT,
        SERVER,
        1021,
        5001,
        ACK,
        vec![MptcpOption::MpPrio(MpPrio { backup: true })],
        b"",
    ));
    s.push(seg(
        CLIENT,
        SERVER,
        1021,
        5001,
        ACK,
        vec![MptcpOption::MpPrio(MpPrio { backup: false })],
        b"",
    ));
    s.push(seg(
        CLIENT,
        SERVER,
        1021,
        5001,
        ACK,
        vec![MptcpOption::MpFail(MpFail {
            dsn: 0x0102_0304_dead_bef0,
        })],
        b"",
    ));
    // Two options in one segment.
    s.push(seg(
        SERVER,
        CLIENT,
        5001,
        1021,
        ACK,
        vec![
            dss(Some(DssSeq::Bits32(0xdead_befe)), None, false),
            add_addr(9, v4, None, Some(0x0a0b_0c0d_0e0f_1011)),
        ],
        b"",
    ));
    s.push(seg(
        CLIENT,
        SERVER,
        1021,
        5001,
        ACK,
        vec![MptcpOption::MpFastclose(MpFastclose {
            receiver_key: server_key,
        })],
        b"",
    ));
    s.push(seg(
        CLIENT,
        SERVER,
        1021,
        5001,
        RST | ACK,
        vec![MptcpOption::MpTcpRst(MpTcpRst {
            transient: true,
            reason: tcprst_reason::MIDDLEBOX_INTERFERENCE,
            ..MpTcpRst::default()
        })],
        b"",
    ));
    s.push(seg(
        SERVER,
        CLIENT,
        5001,
        1021,
        RST | ACK,
        vec![MptcpOption::MpTcpRst(MpTcpRst {
            u: true,
            v: true,
            w: true,
            transient: false,
            reason: tcprst_reason::LACK_OF_RESOURCES,
        })],
        b"",
    ));

    // A second subflow joins the first connection: MP_JOIN with real
    // tokens and HMACs (RFC 8684, section 3.2).
    let (client_random, server_random) = (0x0a0b_0c0du32, 0x1a1b_1c1du32);
    let server_hmac = hmac(&[server_key, client_key], &[server_random, client_random]);
    let client_hmac = hmac(&[client_key, server_key], &[client_random, server_random]);
    s.push(seg(
        CLIENT2,
        SERVER,
        7000,
        0,
        SYN,
        vec![MptcpOption::MpJoin(MpJoin::Syn {
            backup: true,
            addr_id: 2,
            receiver_token: server_token,
            sender_random: client_random,
        })],
        b"",
    ));
    s.push(seg(
        SERVER,
        CLIENT2,
        9000,
        7001,
        SYN | ACK,
        vec![MptcpOption::MpJoin(MpJoin::SynAck {
            backup: false,
            addr_id: 0,
            sender_truncated_hmac: u64::from_be_bytes(server_hmac[..8].try_into().unwrap()),
            sender_random: server_random,
        })],
        b"",
    ));
    s.push(seg(
        CLIENT2,
        SERVER,
        7001,
        9001,
        ACK,
        vec![MptcpOption::MpJoin(MpJoin::Ack {
            sender_hmac: client_hmac[..20].try_into().unwrap(),
        })],
        b"",
    ));

    // A third connection negotiates checksums ("A") and the server
    // refuses joins to its address ("C"); data carries real DSS checksums.
    let a = CapableFlags::A;
    s.push(seg(
        CLIENT3,
        SERVER,
        3000,
        0,
        SYN,
        vec![mpc(a | h, CapableForm::Syn)],
        b"",
    ));
    s.push(seg(
        SERVER,
        CLIENT3,
        8000,
        3001,
        SYN | ACK,
        vec![mpc(
            a | CapableFlags::C | h,
            CapableForm::SynAck {
                sender_key: server3_key,
            },
        )],
        b"",
    ));
    let first = b"checksummed";
    let first_dsn = client3_idsn.wrapping_add(1);
    let checksum = dss_checksum(first_dsn, 1, first.len() as u16, PayloadSum::Bytes(first));
    s.push(seg(
        CLIENT3,
        SERVER,
        3001,
        8001,
        ACK | PSH,
        vec![mpc(
            a | h,
            CapableForm::AckData {
                sender_key: client3_key,
                receiver_key: server3_key,
                data_len: first.len() as u16,
                checksum: Some(checksum),
            },
        )],
        first,
    ));
    s.last_mut().unwrap().checksummed = Some((first_dsn, 1));
    let next = b"more data";
    let next_dsn = first_dsn.wrapping_add(first.len() as u64);
    let checksum = dss_checksum(
        next_dsn,
        1 + first.len() as u32,
        next.len() as u16,
        PayloadSum::Bytes(next),
    );
    s.push(seg(
        CLIENT3,
        SERVER,
        3001 + first.len() as u32,
        8001,
        ACK | PSH,
        vec![dss(
            Some(DssSeq::Bits64(0x3132_3334_0000_0001)),
            map(
                DssSeq::Bits64(next_dsn),
                1 + first.len() as u32,
                next.len() as u16,
                Some(checksum),
            ),
            false,
        )],
        next,
    ));
    s.last_mut().unwrap().checksummed = Some((next_dsn, 1 + first.len() as u32));
    s
}

/// HMAC-SHA256 keyed with `keys` (each 64-bit, network order) of the
/// message `randoms` (each 32-bit, network order), as MP_JOIN uses it.
fn hmac(keys: &[u64], randoms: &[u32]) -> [u8; 32] {
    use hmac::Mac;
    let key: Vec<u8> = keys.iter().flat_map(|k| k.to_be_bytes()).collect();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    for r in randoms {
        mac.update(&r.to_be_bytes());
    }
    mac.finalize().into_bytes().into()
}
