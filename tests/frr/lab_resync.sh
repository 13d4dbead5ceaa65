#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Restarts: every harness run is a fresh provisioner instance, as tidald after a restart.
# Re-applying and resyncing the same leases leaves region a's running config byte for byte
# the same (no duplicate entries); changing a lease updates it in place; a resync with
# another list removes the stale lease and applies the new one; an empty resync restores
# the baseline.
. "$(dirname "$0")/lab_common.sh"

ID1=00112233-4455-6677-8899-aabbccddeeff
ID2=0a0b0c0d-0000-4000-8000-000000000002
HOST_B=${TR_HOST[b]} HOST_C=${TR_HOST[c]}

t_lab_up
running_config >"$work/baseline.conf"

t_step "apply lease 1 (c's site via b)"
lease "$ID1 c b $B_FROM_A ${TR_ASN[b]} 200 ${TR_SITE[c]}" >"$work/l1"
harness --session-timeout 30000 apply "$work/l1" || { cat "$work/out" >&2; t_fail "apply failed"; }
lab_wait_route_via 30 "$A" "$HOST_C" "$B_FROM_A"
running_config >"$work/l1.conf"
t_ok "applied, FIB via b"

t_step "restart: apply the same lease again, then resync the same list"
harness --session-timeout 30000 apply "$work/l1" || { cat "$work/out" >&2; t_fail "re-apply failed"; }
assert_config_is "$work/l1.conf"
harness --session-timeout 30000 resync "$work/l1" || { cat "$work/out" >&2; t_fail "resync failed"; }
cat "$work/out"
assert_config_is "$work/l1.conf"
for pat in '^route-map tidal-in-b permit 10$' '^route-map tidal-in-b permit 65535$' \
	"^  neighbor $B_FROM_A route-map tidal-in-b in\$" '^ip prefix-list tidal-lease-'; do
	n=$(grep -c -- "$pat" "$work/now.conf" || true)
	[ "$n" -eq 1 ] || t_fail "'$pat' appears $n times, expected once"
done
lab_route_via "$A" "$HOST_C" | grep -qx "$B_FROM_A" || t_fail "steering lost on resync"
t_ok "running config identical after re-apply and resync; each tidal object once"

t_step "the lease changes (local-preference 300): updated in place"
lease "$ID1 c b $B_FROM_A ${TR_ASN[b]} 300 ${TR_SITE[c]}" >"$work/l1b"
harness --session-timeout 30000 apply "$work/l1b" || { cat "$work/out" >&2; t_fail "update failed"; }
running_config >"$work/l1b.conf"
diff "$work/l1.conf" "$work/l1b.conf" >"$work/diff" || true
[ "$(grep -c '^[<>]' "$work/diff")" -eq 2 ] && grep -q '^> .*set local-preference 300' "$work/diff" ||
	{ cat "$work/diff" >&2; t_fail "update was not exactly one changed line"; }
lab_wait_json 30 "$A" "show bgp ipv4 unicast ${TR_SITE[c]} json" \
	"$(bestpath_json "$B_FROM_A" "${TR_ASN[b]} ${TR_ASN[c]}" '"locPrf": 300')"
t_ok "one line changed (local-preference 200 -> 300), BGP shows 300"

t_step "restart with another lease list: lease 1 ended, lease 2 (b's site via c) active"
lease "$ID2 b c $C_FROM_A ${TR_ASN[c]} 200 ${TR_SITE[b]}" >"$work/l2"
harness --session-timeout 30000 resync "$work/l2" || { cat "$work/out" >&2; t_fail "resync failed"; }
cat "$work/out"
running_config >"$work/l2.conf"
grep -q 'tidal-lease-00112233445566778899aabbccddeeff' "$work/l2.conf" && t_fail "lease 1 left behind"
grep -q 'tidal-in-b' "$work/l2.conf" && t_fail "route-map tidal-in-b left behind"
grep -q '^route-map tidal-in-c permit 10$' "$work/l2.conf" || t_fail "lease 2 not applied"
lab_wait_route_via 30 "$A" "$HOST_C" "$C_FROM_A"
lab_wait_route_via 30 "$A" "$HOST_B" "$C_FROM_A"
t_ok "lease 1 removed (c direct again), lease 2 steers b's site via c"

t_step "restart with no active lease"
: >"$work/none"
harness resync "$work/none" || { cat "$work/out" >&2; t_fail "empty resync failed"; }
assert_config_is "$work/baseline.conf"
lab_wait_route_via 30 "$A" "$HOST_B" "$B_FROM_A"
t_ok "running config identical to the baseline; b direct again"
