#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Failures are reported with what failed and leave nothing half-applied:
#  - a bad pathspace or vtysh path: the failing vtysh command line is reported, no change;
#  - a command bgpd rejects in the middle of an apply (the lease names region a's own
#    address as b's neighbor): the rejected command and bgpd's message are reported and
#    everything sent before it is rolled back, also on top of an existing lease;
#  - a neighbor carrying the operator's own inbound route-map: refused, nothing written;
#  - a session that does not come up within the timeout: rolled back;
#  - malformed lease input: refused before FRR is contacted.
. "$(dirname "$0")/lab_common.sh"

ID1=00112233-4455-6677-8899-aabbccddeeff
ID2=0a0b0c0d-0000-4000-8000-000000000002
SITE_C=${TR_SITE[c]}

t_lab_up
running_config >"$work/baseline.conf"
lease "$ID1 c b $B_FROM_A ${TR_ASN[b]} 200 $SITE_C" >"$work/good"

t_step "bad pathspace"
if "$FRR_HARNESS" -N "${LAB_PREFIX}nosuch" apply "$work/good" >"$work/out" 2>&1; then
	t_fail "apply with a bad pathspace succeeded"
fi
cat "$work/out"
assert_out_has "-N ${LAB_PREFIX}nosuch -d bgpd -c 'show ip prefix-list json' failed"
assert_out_has "failed to connect to any daemons"
assert_config_is "$work/baseline.conf"
t_ok "reported with the vtysh command line; region a unchanged"

t_step "vtysh that cannot run"
if harness --vtysh /nonexistent/vtysh apply "$work/good"; then t_fail "apply succeeded"; fi
assert_out_has "cannot run /nonexistent/vtysh"
assert_config_is "$work/baseline.conf"
t_ok "reported; unchanged"

t_step "bgpd rejects a command in the middle of an apply"
lease "$ID2 c b $A_TO_B ${TR_ASN[b]} 200 $SITE_C" >"$work/bad"
if harness apply "$work/bad"; then t_fail "apply with a self-address neighbor succeeded"; fi
cat "$work/out"
assert_out_has "rejected \`neighbor $A_TO_B remote-as ${TR_ASN[b]}\` in \`router bgp ${TR_ASN[a]}\`"
assert_out_has "Can not configure the local system as neighbor"
assert_out_has "rolled back, bgpd is as before"
assert_config_is "$work/baseline.conf"
t_ok "failing command and bgpd's message reported; the prefix-list written before it is gone"

t_step "the same failure on top of an applied lease keeps that lease intact"
harness --session-timeout 30000 apply "$work/good" || { cat "$work/out" >&2; t_fail "apply failed"; }
lab_wait_route_via 30 "$A" "${TR_HOST[c]}" "$B_FROM_A"
running_config >"$work/leased.conf"
if harness apply "$work/bad"; then t_fail "bad apply succeeded"; fi
assert_out_has "rolled back, bgpd is as before"
assert_config_is "$work/leased.conf"
lab_route_via "$A" "${TR_HOST[c]}" | grep -qx "$B_FROM_A" || t_fail "lease 1 steering lost"
t_ok "lease 1 config and steering unchanged"

t_step "a neighbor with the operator's inbound route-map is refused"
lab_vtysh "$A" 'configure terminal' 'route-map operator-in permit 10' 'exit' \
	"router bgp ${TR_ASN[a]}" 'address-family ipv4 unicast' \
	"neighbor $C_FROM_A route-map operator-in in" >/dev/null
running_config >"$work/operator.conf"
lease "$ID2 c c $C_FROM_A ${TR_ASN[c]} 200 $SITE_C" >"$work/direct"
if harness apply "$work/direct"; then t_fail "apply over operator policy succeeded"; fi
cat "$work/out"
assert_out_has "has the operator's inbound route-map 'operator-in'"
assert_config_is "$work/operator.conf"
lab_vtysh "$A" 'configure terminal' "router bgp ${TR_ASN[a]}" 'address-family ipv4 unicast' \
	"no neighbor $C_FROM_A route-map operator-in in" 'exit-address-family' 'exit' \
	'no route-map operator-in' >/dev/null
assert_config_is "$work/leased.conf"
t_ok "refused with the operator's route-map named; nothing written"

t_step "a session that does not come up is rolled back"
lease "$ID2 c q 10.255.9.9 65009 200 $SITE_C" >"$work/down"
if harness --session-timeout 3000 apply "$work/down"; then t_fail "apply without a session succeeded"; fi
cat "$work/out"
assert_out_has "BGP session to region q (10.255.9.9"
assert_out_has "not Established"
assert_out_has "rolled back, bgpd is as before"
assert_config_is "$work/leased.conf"
t_ok "timed out, neighbor and policy it had added are gone"

t_step "malformed lease input is refused before FRR is touched"
lease "$ID2 c b 10.255.1.300 ${TR_ASN[b]} 200 $SITE_C" >"$work/badaddr"
if harness apply "$work/badaddr"; then t_fail "bad address accepted"; fi
assert_out_has "is not an IP address: '10.255.1.300'"
lease "$ID2 c b;x $B_FROM_A ${TR_ASN[b]} 200 $SITE_C" >"$work/badname"
if harness apply "$work/badname"; then t_fail "bad region name accepted"; fi
assert_out_has "region names must be"
lease "$ID2 c b $B_FROM_A ${TR_ASN[b]} 200 10.3.0.1/24" >"$work/badpfx"
if harness apply "$work/badpfx"; then t_fail "prefix with host bits accepted"; fi
assert_out_has "host bits"
assert_config_is "$work/leased.conf"
t_ok "refused with the reason; unchanged"

t_step "a wrong region ASN is refused"
if "$FRR_HARNESS" -N "$A" --asn 65099 apply "$work/good" >"$work/out" 2>&1; then t_fail "accepted"; fi
assert_out_has "runs \`router bgp ${TR_ASN[a]}\` but the region's ASN is 65099"
assert_config_is "$work/leased.conf"
t_ok "refused"

t_step "cleanup through the provisioner"
harness withdraw "$work/good" || { cat "$work/out" >&2; t_fail "withdraw failed"; }
assert_config_is "$work/baseline.conf"
t_ok "baseline again"
