#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# A lease from region a to region c through transit region b: after apply, a's route to
# c's site carries the lease's large community, prefers the path through b (BGP table,
# kernel FIB of a's namespace) and real traffic crosses b (ping, traceroute, b's counters);
# after withdraw, the direct path is back and a's running config is exactly as before.
. "$(dirname "$0")/lab_common.sh"

ID=00112233-4455-6677-8899-aabbccddeeff
LC="${TR_ASN[a]}:84325:$((0xccddeeff))"
SITE_C=${TR_SITE[c]} HOST_A=${TR_HOST[a]} HOST_C=${TR_HOST[c]}
show="show bgp ipv4 unicast $SITE_C json"

t_lab_up
running_config >"$work/baseline.conf"

t_step "baseline: a reaches c's site directly"
lab_wait_json 30 "$A" "$show" "$(bestpath_json "$C_FROM_A" "${TR_ASN[c]}")"
lab_wait_route_via 30 "$A" "$HOST_C" "$C_FROM_A"
hop=$(first_hop "$A" "$HOST_A" "$HOST_C")
[ "$hop" = "$HOST_C" ] || t_fail "baseline traceroute: first hop $hop, expected $HOST_C"
t_ok "best path direct to c, FIB via $C_FROM_A, traceroute reaches $HOST_C in one hop"

t_step "apply lease $ID: c's site via b"
lease "$ID c b $B_FROM_A ${TR_ASN[b]} 250 $SITE_C" >"$work/lease"
harness --session-timeout 30000 apply "$work/lease" || { cat "$work/out" >&2; t_fail "apply failed"; }
cat "$work/out"
lab_wait_json 30 "$A" "$show" "$(bestpath_json "$B_FROM_A" "${TR_ASN[b]} ${TR_ASN[c]}" \
	"\"locPrf\": 250, \"largeCommunity\": {\"string\": \"$LC\"}")"
# the direct path is still there, no longer best, and untouched by tidal
lab_json_match "$A" "$show" \
	"{\"paths\": [{\"aspath\": {\"string\": \"${TR_ASN[c]}\"}, \"bestpath\": null, \"largeCommunity\": null}]}" ||
	t_fail "direct path changed"
t_ok "BGP: best path via b with local-preference 250 and large community $LC"
lab_wait_route_via 30 "$A" "$HOST_C" "$B_FROM_A"
t_ok "kernel FIB of $A: $HOST_C via $B_FROM_A"

before=$(link_tx_packets "$B" to-c)
ip netns exec "$A" ping -c 5 -i 0.2 -W 2 -I "$HOST_A" "$HOST_C" >"$work/ping" ||
	{ cat "$work/ping" >&2; t_fail "ping $HOST_C through b failed"; }
after=$(link_tx_packets "$B" to-c)
[ $((after - before)) -ge 5 ] || t_fail "b forwarded $((after - before)) packets to c, expected >= 5"
hop=$(first_hop "$A" "$HOST_A" "$HOST_C")
[ "$hop" = "$B_FROM_A" ] || t_fail "traceroute: first hop $hop, expected b ($B_FROM_A)"
t_ok "ping $HOST_A -> $HOST_C: 5/5 replies, b forwarded $((after - before)) packets; traceroute first hop $hop (b)"

t_step "only tidal objects were added"
running_config >"$work/leased.conf"
diff "$work/baseline.conf" "$work/leased.conf" >"$work/diff" || true
if grep '^<' "$work/diff"; then
	t_fail "operator configuration changed"
fi
grep -q '^> route-map tidal-in-b permit' "$work/diff" ||
	t_fail "no tidal-in-b route-map in the running config"
t_ok "operator lines unchanged; added: $(grep -c '^>' "$work/diff") lines"

t_step "withdraw (release) the lease"
harness withdraw "$work/lease" || { cat "$work/out" >&2; t_fail "withdraw failed"; }
cat "$work/out"
lab_wait_json 30 "$A" "$show" "$(bestpath_json "$C_FROM_A" "${TR_ASN[c]}" '"largeCommunity": null')"
lab_wait_route_via 30 "$A" "$HOST_C" "$C_FROM_A"
hop=$(first_hop "$A" "$HOST_A" "$HOST_C")
[ "$hop" = "$HOST_C" ] || t_fail "after release, traceroute first hop $hop, expected $HOST_C"
assert_config_is "$work/baseline.conf"
t_ok "direct path restored (BGP, FIB, traceroute); running config identical to the baseline"

t_step "withdrawing again is a no-op"
harness withdraw "$work/lease" || { cat "$work/out" >&2; t_fail "second withdraw failed"; }
assert_config_is "$work/baseline.conf"
t_ok "second withdraw succeeded without changes"
