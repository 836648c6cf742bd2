// SPDX-License-Identifier: GPL-2.0

//! The protocol core of mptcp_rs.
//!
//! Everything here is pure computation on bytes and numbers: the RFC 8684
//! option codec, keys, tokens and HMACs, data-sequence arithmetic, mapping
//! and reassembly bookkeeping, scheduling decisions and coupled congestion
//! control. It has no kernel dependency, no `unsafe`, no `std` and no
//! `alloc`: the same source is compiled into the kernel module (as a `mod`
//! of its crate root, see net-mptcp/mptcp_rs_main.rs) and, as this crate,
//! on the host for `cargo test`, proptest and cargo fuzz.
//!
//! What the core cannot do itself it takes from its caller through traits:
//! SHA-256 ([`crypto::Sha256`]: lib/crypto in the kernel, the `sha2` crate
//! in host tests) and ordered storage ([`store::SeqMap`]: the kernel's
//! rbtree in the module, a `BTreeMap` on the host).
//!
//! Submodules name their files explicitly so that the same declarations
//! work whether this file is a crate root (host) or a module (kernel).

// In the kernel the module's crate root is already `no_std`, and the
// attribute is not allowed on a module.
#![cfg_attr(not(MODULE), no_std)]
#![forbid(unsafe_code)]

#[cfg(any(test, feature = "std"))]
extern crate std;

#[path = "check.rs"]
#[macro_use]
pub mod check;
#[path = "cc.rs"]
pub mod cc;
#[path = "conn.rs"]
pub mod conn;
#[path = "crypto.rs"]
pub mod crypto;
#[path = "mapping.rs"]
pub mod mapping;
#[path = "option.rs"]
pub mod option;
#[path = "pm.rs"]
pub mod pm;
#[path = "rcvbuf.rs"]
pub mod rcvbuf;
#[path = "reassembly.rs"]
pub mod reassembly;
#[path = "sched.rs"]
pub mod sched;
#[path = "sender.rs"]
pub mod sender;
#[path = "seq.rs"]
pub mod seq;
#[path = "store.rs"]
pub mod store;
#[path = "subflow.rs"]
pub mod subflow;
#[path = "tcpopt.rs"]
pub mod tcpopt;

/// The version of mptcp_rs, reported by the module.
pub const VERSION: &str = "0.1.0";
