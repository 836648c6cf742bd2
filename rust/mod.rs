// SPDX-License-Identifier: GPL-2.0

//! Safe abstractions over the kernel facilities that mptcp_rs needs and the
//! `kernel` crate of Linux 6.12 does not cover: network namespaces and their
//! sysctls, lib/crypto's SHA-256 and Rust KUnit suites (and, as the protocol
//! grows, sockets, skbs, netfilter and TCP).
//!
//! This is the only place in the module with `unsafe` code. Each `unsafe`
//! block says why it is sound in a `// SAFETY:` comment; the types here
//! expose interfaces that the rest of the module uses without `unsafe`.

pub(crate) mod bindings;
pub(crate) mod callbacks;
pub(crate) mod cong;
pub(crate) mod errno;
pub(crate) mod genetlink;
pub(crate) mod global;
pub(crate) mod kernel_socket;
pub(crate) mod kunit;
pub(crate) mod modinfo;
pub(crate) mod net;
pub(crate) mod netfilter;
pub(crate) mod page;
pub(crate) mod pernet;
pub(crate) mod procfs;
pub(crate) mod proto;
pub(crate) mod seqmap;
pub(crate) mod sha256;
pub(crate) mod skb;
pub(crate) mod sock;
pub(crate) mod sync;
pub(crate) mod sysctl;
pub(crate) mod tcp;
pub(crate) mod tcp_hooks;
pub(crate) mod timer;
pub(crate) mod user;
pub(crate) mod wq;
