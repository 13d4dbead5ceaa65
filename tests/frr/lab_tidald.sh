#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The frr module in a real tidald (region a, inside its namespace, FRR pathspace tdlfrr-a):
# active leases in the ledger are steered once tidald runs; a lease that reaches its end
# while tidald runs is withdrawn; a restart re-applies without duplicates; a lease released
# while tidald was down is removed by the resync at start.
. "$(dirname "$0")/lab_common.sh"
: "${TIDALD:?}" "${TIDALCTL:?}" "${FRR_LEDGER_TOOL:?}"

L1=00112233-4455-6677-8899-aabbccddeeff # a -> c through b, one hour
L2=0a0b0c0d-0000-4000-8000-000000000002 # a -> b through c, ends during the test
HOST_B=${TR_HOST[b]} HOST_C=${TR_HOST[c]}

t_lab_up
conf=$TR_RUN/a/tidal.ini
sock=$TR_RUN/a/tidald.sock
running_config >"$work/baseline.conf"

tidald_start() {
	: >"$work/tidald.log"
	nsenter --net="/var/run/netns/$A" "$TIDALD" -c "$conf" >>"$work/tidald.log" 2>&1 &
	TIDALD_PID=$!
	lab_wait 20 "tidald to answer on $sock" "$TIDALCTL" -s "$sock" show status
}
tidald_stop() {
	kill -TERM "$TIDALD_PID"
	wait "$TIDALD_PID" || t_fail "tidald exited with status $?"
	TIDALD_PID=""
}
status_has() { # status_has PYTHON-EXPR: `show status` JSON d satisfies it
	"$TIDALCTL" -s "$sock" -j show status >"$work/status" 2>&1 &&
		python3 -c "import json,sys; d=json.load(open('$work/status')); sys.exit(0 if ($1) else 1)"
}

t_step "two active leases in the ledger before tidald starts"
"$FRR_LEDGER_TOOL" "$conf" book "$L1" c link.a-b "dst ${TR_SITE[c]}" 3600
"$FRR_LEDGER_TOOL" "$conf" book "$L2" b link.a-c "dst ${TR_SITE[b]}" 25
tidald_start
lab_wait_route_via 30 "$A" "$HOST_C" "$B_FROM_A"
lab_wait_route_via 30 "$A" "$HOST_B" "$C_FROM_A"
lab_wait_json 30 "$A" "show bgp ipv4 unicast ${TR_SITE[c]} json" \
	"$(bestpath_json "$B_FROM_A" "${TR_ASN[b]} ${TR_ASN[c]}" \
		"\"largeCommunity\": {\"string\": \"${TR_ASN[a]}:84325:$((0xccddeeff))\"}")"
lab_wait 10 "show status to report the frr module" status_has \
	'd["frr"]["enabled"] and d["frr"]["failures"] == 0 and d["frr"]["resyncs"] >= 1'
t_ok "tidald steered both: c's site via b, b's site via c; show status: $(python3 -c \
	"import json; print(json.load(open('$work/status'))['frr'])")"

t_step "lease 2 reaches its end while tidald runs"
lab_wait 60 "lease 2's steering to be withdrawn" sh -c \
	"! vtysh -N $A -c 'show running-config' | grep -q tidal-in-c"
lab_wait_route_via 30 "$A" "$HOST_B" "$B_FROM_A"
lab_route_via "$A" "$HOST_C" | grep -qx "$B_FROM_A" || t_fail "lease 1 lost its steering"
running_config >"$work/l1.conf"
t_ok "withdrawn at expiry (b direct again); lease 1 still via b"

t_step "restart tidald: re-applied without duplicates"
tidald_stop
tidald_start
lab_wait 20 "the resync after restart" status_has 'd["frr"]["resyncs"] >= 1'
assert_config_is "$work/l1.conf"
status_has 'd["frr"]["failures"] == 0' || t_fail "failures after restart: $(cat "$work/status")"
t_ok "running config byte for byte the same"

t_step "lease 1 released while tidald is down: removed at the next start"
tidald_stop
"$FRR_LEDGER_TOOL" "$conf" release "$L1"
tidald_start
lab_wait 20 "the resync after restart" status_has 'd["frr"]["resyncs"] >= 1'
assert_config_is "$work/baseline.conf"
lab_wait_route_via 30 "$A" "$HOST_C" "$C_FROM_A"
tidald_stop
t_ok "running config back to the baseline; c direct again"
