// SPDX-License-Identifier: GPL-2.0

//! Per-namespace state, seen from inside the kernel.

use crate::kernel_net::{
    kunit::{kunit_suite, Test},
    net::Net,
};
use crate::pernet::MptcpNet;

fn init_net_has_state(test: &Test) {
    match MptcpNet::get(Net::init_net()) {
        Some(_) => {}
        None => test.fail(file!(), line!(), format_args!("no MPTCP state in init_net")),
    }
}

fn enabled_by_default(test: &Test) {
    let enabled = MptcpNet::get(Net::init_net()).map(MptcpNet::enabled);
    if enabled != Some(true) {
        test.fail(
            file!(),
            line!(),
            format_args!("init_net: enabled = {enabled:?}, expected Some(true)"),
        );
    }
}

kunit_suite!(mptcp_rs_pernet, [init_net_has_state, enabled_by_default]);
