# SPDX-License-Identifier: GPL-2.0
#
# Network set-up inside the VMs of qemu/pair: source it.
#
#   pair_setup dut|peer   addresses on both links (DUT .1, PEER .2), links
#                         up, and per-source routing so that traffic from the
#                         address of link i leaves on link i
#   pair_wait_for_peer [SECONDS]
#                         waits until the other VM answers on both links
#   pair_shape LINK RATE DELAY [LOSS [EXTRA...]]
#                         shapes this VM's egress on link 1 or 2 with netem
#                         (call it on both VMs for a symmetric path)
#
# PAIR_ADDR[i] is this VM's address on link i, PAIR_OTHER[i] the other's.

declare -a PAIR_ADDR PAIR_OTHER

pair_setup() {
	local me other i
	case ${1:?} in
	dut) me=1 other=2 ;;
	peer) me=2 other=1 ;;
	*) echo "pair_setup: dut or peer" >&2; return 1 ;;
	esac
	# A batch of pair tests configures the links once (the first script).
	if ! ip -4 -o addr show dev eth0 | grep -q " 10.1.0.$me/"; then
		{
			for i in 1 2; do
				echo "addr add 10.$i.0.$me/24 dev eth$((i - 1))"
				echo "link set eth$((i - 1)) up"
				echo "rule add from 10.$i.0.$me table $((100 + i))"
				echo "route add 10.$i.0.0/24 dev eth$((i - 1)) table $((100 + i))"
			done
		} | ip -batch - || return 1
	fi
	for i in 1 2; do
		PAIR_ADDR[i]=10.$i.0.$me
		PAIR_OTHER[i]=10.$i.0.$other
	done
}

pair_wait_for_peer() {
	local deadline=$((SECONDS + ${1:-120})) i
	for i in 1 2; do
		until ping -c 1 -W 1 "${PAIR_OTHER[i]}" >/dev/null 2>&1; do
			[ $SECONDS -lt $deadline ] || { echo "pair: no answer from ${PAIR_OTHER[i]}" >&2; return 1; }
		done
	done
}

pair_shape() {
	local link=${1:?usage: pair_shape LINK RATE DELAY [LOSS [EXTRA...]]} rate=$2 delay=$3 loss=${4:-0%}
	shift 3
	[ $# -gt 0 ] && shift
	local args=(delay "$delay" loss "$loss" "$@" limit 10000)
	[ "$rate" = - ] || args+=(rate "$rate")
	tc qdisc replace dev "eth$((link - 1))" root netem "${args[@]}"
}
