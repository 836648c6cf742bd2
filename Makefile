# SPDX-License-Identifier: GPL-2.0
#
# mptcp-rs. The two commands a newcomer needs (see README.md):
#   make vm      set up what is missing, build, boot a VM with mptcp_rs loaded
#   make test    run every test (host, KUnit, VM) and print a summary
# And, outside `make test`: make bench (benchmarks: tables, results/bench/),
# make soak (long runs), make lint (rustfmt and clippy), make fuzz.
#
# The module itself is built by Kbuild (see ./Kbuild); this Makefile drives
# the set-up, the cached kernel builds and the test harness. Kernel trees and
# tools live outside the repository, in $(MPTCP_RS_CACHE) (~/.cache/mptcp-rs).

.PHONY: all module setup kernels kernel-dut kernel-peer vm vm-peer test host-test \
	kunit vm-test lint bench soak fuzz clean help

all: module

help:
	@sed -n '3,11p' Makefile

setup:
	scripts/setup.sh

kernel-dut: setup
	scripts/kernel.sh dut

kernel-peer: setup
	scripts/kernel.sh peer

kernels: kernel-dut kernel-peer

module: kernel-dut
	scripts/module.sh

# An interactive shell in the DUT VM with mptcp_rs loaded; with CMD='...' the
# VM runs that command instead and exits with its status.
vm: module
ifeq ($(CMD),)
	qemu/vm --module --shell
else
	qemu/vm --module --keep-module --no-kmemleak --show-output -- bash -c '$(CMD)'
endif

vm-peer: kernel-peer
	qemu/vm --kernel peer --shell

test:
	scripts/test.sh

host-test:
	scripts/test.sh host

kunit:
	scripts/test.sh kunit

vm-test:
	scripts/test.sh vm

lint:
	scripts/lint.sh

# Benchmarks print tables and write results/bench/*.json; they assert nothing.
bench:
	scripts/bench.sh

# Long runs (qemu/soak/): results/soak/latest.json.
soak:
	scripts/soak.sh

fuzz:
	scripts/fuzz.sh all 60

clean:
	scripts/module.sh clean
	rm -rf results
