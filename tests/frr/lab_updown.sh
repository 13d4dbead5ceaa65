#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The lab scripts themselves: up is idempotent (a second up replaces the first lab), down
# stops every daemon by its pid file and leaves no namespace, pathspace or rendered config
# behind (also when run twice), and a bring-up that fails half-way tears down what it made.
. "$(dirname "$0")/lab_common.sh"

leftovers() { # print what of the lab still exists
	local r ns
	for r in "${TR_REGIONS[@]}"; do
		ns=$(tr_ns "$r")
		lab_ns_exists "$ns" && echo "namespace $ns"
		[ -e "$LAB_FRR_RUN/$ns" ] && echo "$LAB_FRR_RUN/$ns"
		[ -e "$LAB_FRR_ETC/$ns" ] && echo "$LAB_FRR_ETC/$ns"
	done
	[ -e "$TR_RUN" ] && echo "$TR_RUN"
	return 0
}

t_lab_up
mapfile -t pids1 < <(for r in "${TR_REGIONS[@]}"; do lab_frr_pids "$(tr_ns "$r")"; done)
[ ${#pids1[@]} -eq 6 ] || t_fail "expected 6 daemons (zebra+bgpd x3), found ${#pids1[@]}"
lab_vtysh "$A" 'show bgp summary json' | python3 "$lab_dir/../json-match" \
	"{\"ipv4Unicast\": {\"peers\": {\"$B_FROM_A\": {\"state\": \"Established\"}, \"$C_FROM_A\": {\"state\": \"Established\"}}}}" ||
	t_fail "a's sessions are not Established"
ip netns exec "$A" ping -c 1 -W 2 -I "${TR_HOST[a]}" "${TR_HOST[b]}" >/dev/null || t_fail "a cannot reach b's site"
for r in "${TR_REGIONS[@]}"; do
	"${TIDALD:?}" -n -c "$TR_RUN/$r/tidal.ini" || t_fail "region $r's tidal.ini does not load"
done
t_ok "up: 6 daemons, sessions Established, sites reachable, the three tidal.ini valid"

t_step "up again replaces the lab"
t_lab_up
for pid in "${pids1[@]}"; do
	[ -e "/proc/$pid" ] && t_fail "daemon $pid of the first lab still runs"
done
mapfile -t pids2 < <(for r in "${TR_REGIONS[@]}"; do lab_frr_pids "$(tr_ns "$r")"; done)
[ ${#pids2[@]} -eq 6 ] || t_fail "expected 6 daemons after the second up, found ${#pids2[@]}"
t_ok "first lab's daemons gone, 6 new ones"

t_step "down, twice"
"$lab_dir/down" "$LAB_PREFIX"
"$lab_dir/down" "$LAB_PREFIX"
for pid in "${pids2[@]}"; do
	[ -e "/proc/$pid" ] && t_fail "daemon $pid still runs after down"
done
left=$(leftovers)
[ -z "$left" ] || t_fail "left behind: $left"
t_ok "no daemon, namespace, pathspace or config left"

t_step "a bring-up that fails half-way cleans up"
if LAB_FRR_SBIN=/nonexistent "$lab_dir/up" "$LAB_PREFIX" 2>"$work/err"; then
	t_fail "up succeeded without FRR daemons"
fi
grep -q 'FRR is not installed' "$work/err" || { cat "$work/err" >&2; t_fail "no reason given"; }
left=$(leftovers)
[ -z "$left" ] || t_fail "left behind after a failed up: $left"
t_ok "failed with the reason, nothing left"
