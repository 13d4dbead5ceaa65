# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# Sourced by the frr suite's lab tests: brings the three-regions lab up under the suite's
# prefix (tdlfrr-), always tears it down on exit (pass or fail), and gives small assertion
# helpers. FRR_HARNESS (set by meson) is the frr-harness program.
set -euo pipefail
LAB_PREFIX=tdlfrr-
tests_frr=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
lab_dir=$tests_frr/../lab/three-regions
. "$lab_dir/../lib.sh"
. "$lab_dir/topology.sh"

: "${FRR_HARNESS:?FRR_HARNESS must name the frr-harness program}"
A=$(tr_ns a) B=$(tr_ns b) C=$(tr_ns c)
# Region a's addresses towards b and c, and the neighbors a sees.
A_TO_B=$(tr_addr a b) B_FROM_A=$(tr_addr b a) C_FROM_A=$(tr_addr c a)
work=$(mktemp -d /tmp/tidal-frr-test.XXXXXX)

t_step() { printf '\n=== %s\n' "$*"; }
t_fail() {
	printf 'FAIL: %s\n' "$*" >&2
	exit 1
}
t_ok() { printf 'ok: %s\n' "$*"; }

TIDALD_PID=""
t_cleanup() {
	local rc=$?
	trap - EXIT
	if [ -n "$TIDALD_PID" ]; then # a tidald this test started, stopped by its pid
		kill -TERM "$TIDALD_PID" 2>/dev/null || true
		wait "$TIDALD_PID" 2>/dev/null || true
		[ $rc -ne 0 ] && [ -f "$work/tidald.log" ] && tail -n 40 "$work/tidald.log" >&2
	fi
	if [ $rc -ne 0 ]; then
		printf '\n--- test failed (exit %d); state of region a:\n' "$rc" >&2
		lab_vtysh "$A" 'show running-config' >&2 2>&1 || true
		lab_frr_logs "$A" || true
	fi
	"$lab_dir/down" "$LAB_PREFIX" || rc=1
	rm -rf "$work"
	exit $rc
}
trap t_cleanup EXIT

t_lab_up() {
	t_step "bring up three-regions ($LAB_PREFIX)"
	"$lab_dir/up" "$LAB_PREFIX"
}

# harness [options] VERB FILE: run frr-harness against region a; output in $work/out.
harness() {
	"$FRR_HARNESS" -N "$A" --asn "${TR_ASN[a]}" "$@" >"$work/out" 2>&1
}

# A lease file line: lease ID PEER VIA VIA-ADDRESS VIA-ASN LOCAL-PREF PREFIXES
lease() {
	printf '%s\n' "$*"
}

running_config() { # region a's running config, minus the lines that vary by themselves
	lab_vtysh "$A" 'show running-config' | grep -v -e '^Building configuration' \
		-e '^Current configuration'
}

# assert_config_is FILE: region a's running config equals FILE exactly.
assert_config_is() {
	running_config >"$work/now.conf"
	diff -u "$1" "$work/now.conf" >&2 || t_fail "running config differs from $(basename "$1")"
}

# assert_out_has TEXT: the last harness output contains TEXT.
assert_out_has() {
	grep -qF -- "$1" "$work/out" || { cat "$work/out" >&2; t_fail "harness output lacks: $1"; }
}

# bestpath_json NEXTHOP ASPATH [EXTRA]: expected `show bgp ipv4 unicast P json` with the
# best path through NEXTHOP and AS path ASPATH (EXTRA: more JSON members of that path).
bestpath_json() {
	printf '{"paths": [{"bestpath": {"overall": true}, "aspath": {"string": "%s"}, "nexthops": [{"ip": "%s"}]%s}]}' \
		"$2" "$1" "${3:+, $3}"
}

# link_tx_packets NS IF
link_tx_packets() {
	ip -n "$1" -s -j link show "$2" | python3 -c \
		'import json,sys; print(json.load(sys.stdin)[0]["stats64"]["tx"]["packets"])'
}

# first_hop NS SRC DST: the first hop traceroute reports.
first_hop() {
	ip netns exec "$1" traceroute -n -q 1 -w 2 -m 4 -s "$2" "$3" 2>/dev/null |
		awk '$1 == "1" { print $2 }'
}
