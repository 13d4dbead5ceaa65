#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# BPF network-namespace labs (suite `bpf`): two namespaces joined by a veth pair,
# tdlbpf-a (10.77.0.1) and tdlbpf-b (10.77.0.2 and 10.77.0.3), real traffic (ping,
# trafgen, iperf3) and a real tidald, or bpfc-tool, attached in tdlbpf-a.
#
#   lab.sh counts    exact packet and byte counts of bounded ping/trafgen runs in
#                    `tidalctl -j show counters` and in /metrics
#   lab.sh restart   counters stay monotone across tidald restarts (and count while it is
#                    down); keep_pacing = no detaches and unpins on stop
#   lab.sh pacing    a class paced at 100 Mbit/s carries an iperf3 TCP flow at that rate
#                    (+-10 %), an unpaced class is not held back, `rate set` to 50 Mbit/s
#                    holds within 1 s
#   lab.sh reload    a reload that adds an app keeps the other classes' totals; a class
#                    whose app is renamed starts afresh
#   lab.sh xdp       the library alone: XDP attach, counting, idempotent re-attach,
#                    switch to tc ingress, detach
#
# tidald runs under `nsenter --net` (not `ip netns exec`, whose private /sys would hide the
# pins). Namespaces, daemons, iperf3 servers and pins are removed on every exit path.
# Needs root; TIDALD, TIDALCTL and BPFC_TOOL are set by meson.
set -u
SCEN=${1:?scenario}
: "${TIDALD:?}" "${TIDALCTL:?}" "${BPFC_TOOL:?}"
if [ "$(id -u)" -ne 0 ]; then
	echo "lab.sh: needs root (network namespaces, BPF); skipped"
	exit 77
fi

NA=tdlbpf-a NB=tdlbpf-b IA=tdlbpf-a0 IB=tdlbpf-b0
A=10.77.0.1 B=10.77.0.2 B2=10.77.0.3
T=$(mktemp -d /tmp/tdlbpf.XXXXXX)
SOCK=$T/tidal.sock
TIDALD_PID=

fail() {
	echo "FAIL ($SCEN): $*" >&2
	if [ -f "$T/tidald.log" ]; then
		echo "--- tidald log:" >&2
		grep -v ' debug: ' "$T/tidald.log" | tail -n 30 >&2
	fi
	exit 1
}

cleanup() {
	if [ -n "$TIDALD_PID" ] && kill -0 "$TIDALD_PID" 2>/dev/null; then
		kill -TERM "$TIDALD_PID" 2>/dev/null
		for _ in $(seq 100); do kill -0 "$TIDALD_PID" 2>/dev/null || break; sleep 0.05; done
		kill -KILL "$TIDALD_PID" 2>/dev/null
	fi
	for f in "$T"/*.pid; do
		[ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
	done
	ip netns del $NA 2>/dev/null
	ip netns del $NB 2>/dev/null
	rm -rf /sys/fs/bpf/tidal/$IA /sys/fs/bpf/tidal/$IB
	rm -rf "$T"
}
trap cleanup EXIT

ina() { ip netns exec $NA "$@"; }
inb() { ip netns exec $NB "$@"; }
ctl() { "$TIDALCTL" -s "$SOCK" "$@"; }
tool_a() { nsenter --net=/var/run/netns/$NA "$BPFC_TOOL" "$@"; }
tool_b() { nsenter --net=/var/run/netns/$NB "$BPFC_TOOL" "$@"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# poll DEADLINE_S CMD...: until CMD succeeds
poll() {
	local deadline=$(( $(now_ms) + $1 * 1000 ))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$(now_ms)" -lt $deadline ] || return 1
		sleep 0.05
	done
}

setup_net() {
	mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf || fail "cannot mount bpffs"
	ip netns del $NA 2>/dev/null
	ip netns del $NB 2>/dev/null
	rm -rf /sys/fs/bpf/tidal/$IA /sys/fs/bpf/tidal/$IB
	ip netns add $NA && ip netns add $NB &&
		ip link add $IA netns $NA type veth peer name $IB netns $NB &&
		ip -n $NA addr add $A/24 dev $IA &&
		ip -n $NB addr add $B/24 dev $IB &&
		ip -n $NB addr add $B2/24 dev $IB &&
		ip -n $NA link set lo up && ip -n $NB link set lo up &&
		ip -n $NA link set $IA up && ip -n $NB link set $IB up ||
		fail "cannot build the namespaces"
	# No IPv6 chatter (DAD, router solicitations): only the test's traffic is counted.
	ina sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	inb sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	poll 5 ina ping -c 1 -W 1 $B || fail "no connectivity over the veth pair"
}

# write_config KEEP_PACING APP_SECTIONS...: each app section "name|match"
write_config() {
	local keep=$1
	shift
	{
		cat <<INI
[region]
name = tdlbpf
asn = 65077
state_dir = $T/state

[control]
socket = $SOCK
metrics_listen = 127.0.0.1:9479
log_level = debug

[forecast]
sample_interval = 1s

[dataplane]
backend = bpf
interfaces = $IA
keep_pacing = $keep
INI
		for app in "$@"; do
			printf '\n[app.%s]\nmatch = %s\n' "${app%%|*}" "${app#*|}"
		done
	} >"$T/tidal.ini"
}

start_tidald() {
	"$TIDALD" -n -c "$T/tidal.ini" >/dev/null || fail "config rejected: $("$TIDALD" -n -c "$T/tidal.ini" 2>&1)"
	nsenter --net=/var/run/netns/$NA "$TIDALD" -c "$T/tidal.ini" >>"$T/tidald.log" 2>&1 &
	TIDALD_PID=$!
	local deadline=$(( $(now_ms) + 20000 ))
	until ctl show status >/dev/null 2>&1; do
		kill -0 "$TIDALD_PID" 2>/dev/null || fail "tidald exited during start"
		[ "$(now_ms)" -lt $deadline ] || fail "tidald did not answer on $SOCK"
		sleep 0.05
	done
}

stop_tidald() {
	kill -TERM "$TIDALD_PID" || fail "tidald is gone before SIGTERM"
	wait "$TIDALD_PID" || fail "tidald exited with status $? on SIGTERM"
	TIDALD_PID=
}

# counter CLASS DIR FIELD: from `tidalctl -j show counters CLASS`
counter() {
	ctl -j show counters "$1" | python3 -c '
import json, sys
rows = [r for r in json.load(sys.stdin) if r["dir"] == sys.argv[1]]
assert len(rows) == 1, rows
print(rows[0][sys.argv[2]])' "$2" "$3"
}

# wait_counter CLASS DIR FIELD VALUE: poll until equal; fail at once if it goes beyond
wait_counter() {
	local deadline=$(( $(now_ms) + 10000 )) v
	while :; do
		v=$(counter "$1" "$2" "$3") || fail "show counters $1 failed"
		[ "$v" -eq "$4" ] && return 0
		[ "$v" -gt "$4" ] && fail "$1 $2 $3 is $v, more than the $4 sent"
		[ "$(now_ms)" -lt $deadline ] || fail "$1 $2 $3 stayed at $v, expected $4"
		sleep 0.1
	done
}

mac_of() { ip -n "$1" -j link show "$2" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])'; }

# trafgen_udp COUNT DST TOS: COUNT UDP frames of 106 bytes from A to DST over the qdisc path
trafgen_udp() {
	local cfg=$T/trafgen.cfg
	cat >"$cfg" <<CFG
{ eth(da=$(mac_of $NB $IB), sa=$(mac_of $NA $IA), type=0x0800),
  ipv4(sa=$A, da=$2, tos=$3, ttl=64), udp(sp=40000, dp=9), fill(0x00, 64) }
CFG
	ina trafgen --dev $IA --conf "$cfg" --num "$1" --cpus 1 --qdisc-path --no-cpu-stats \
		>"$T/trafgen.log" 2>&1 || fail "trafgen failed: $(tail -n 3 "$T/trafgen.log")"
}

metrics() { ina python3 -c 'import urllib.request; print(urllib.request.urlopen("http://127.0.0.1:9479/metrics", timeout=5).read().decode())'; }

# ---------------------------------------------------------------------------------------
scen_counts() {
	write_config yes "to-b|dst $B/32" "from-b|src $B/32" "to-b2|dst $B2/32" \
		"ef-b2|dst $B2/32, dscp ef"
	start_tidald
	[ "$(counter to-b out packets)" -eq 0 ] || fail "to-b counted before any traffic"
	ina ping -q -c 50 -i 0.01 -W 1 $B >/dev/null || fail "ping lost packets"
	wait_counter to-b out packets 50
	wait_counter from-b in packets 50
	wait_counter to-b out bytes $((50 * 98))
	[ "$(counter to-b in packets)" -eq 0 ] || fail "to-b counted ingress traffic"
	trafgen_udp 1000 $B2 0
	wait_counter to-b2 out packets 1000
	wait_counter to-b2 out bytes $((1000 * 106))
	trafgen_udp 500 $B2 0xb8 # DSCP 46 (ef)
	wait_counter ef-b2 out packets 500
	[ "$(counter to-b2 out packets)" -eq 1000 ] || fail "ef traffic counted in to-b2"
	ctl show counters >"$T/table" || fail "show counters (table) failed"
	grep -q "^to-b2 *out *$IA *1000 " "$T/table" || fail "table: $(cat "$T/table")"
	expect=$(printf 'tidal_class_packets_total{class="to-b",dir="out",interface="%s"} 50' $IA)
	metrics >"$T/metrics" || fail "GET /metrics failed"
	grep -qF "$expect" "$T/metrics" || fail "metrics lack: $expect"
	grep -q '^tidal_bpf_events_total{interface="tdlbpf-a0",dir="out",event="drop_horizon"} 0' \
		"$T/metrics" || fail "metrics lack the BPF event counters"
	if command -v promtool >/dev/null; then
		promtool check metrics <"$T/metrics" >"$T/promtool" 2>&1 ||
			fail "promtool: $(cat "$T/promtool")"
	fi
	ctl -j show counters nosuch >/dev/null 2>&1 && fail "unknown class accepted"
	stop_tidald
}

scen_restart() {
	local before after
	write_config yes "to-b|dst $B/32"
	start_tidald
	ina ping -q -c 30 -i 0.01 -W 1 $B >/dev/null || fail "ping lost packets"
	wait_counter to-b out packets 30
	before=$(counter to-b out bytes)
	stop_tidald
	tool_a status $IA | grep -Eq '^out (tcx|tc) tidal_pace_out$' ||
		fail "the pacing program left with tidald (keep_pacing = yes): $(tool_a status $IA)"
	[ -e /sys/fs/bpf/tidal/$IA/tidal_counters ] || fail "pins gone after a keep_pacing stop"
	# Counted while no tidald runs.
	ina ping -q -c 20 -i 0.01 -W 1 $B >/dev/null || fail "ping lost packets"
	start_tidald
	wait_counter to-b out packets 50
	after=$(counter to-b out bytes)
	[ "$after" -eq $((before + 20 * 98)) ] || fail "bytes went from $before to $after"
	# Exactly one tidal program per hook after a re-attach (tcx link or tc filter).
	[ "$(ina tc filter show dev $IA egress | grep -c 'handle 0x7464')" -le 1 ] ||
		fail "re-attach left more than one tidal filter"
	if tool_a status $IA | grep -q '^out tcx'; then
		ina tc filter show dev $IA egress | grep -q tidal && fail "tc filter beside the tcx link"
		[ "$(bpftool prog show | grep -c 'name tidal_pace_out')" -eq 1 ] ||
			fail "more than one pacing program loaded after a restart"
	fi
	# A restart with the same apps also keeps an enforced rate.
	ctl rate set to-b 200M >/dev/null || fail "rate set failed"
	stop_tidald
	start_tidald
	wait_counter to-b out packets 50
	ina ping -q -c 5 -i 0.01 -W 1 $B >/dev/null || fail "ping lost packets"
	wait_counter to-b out packets 55

	# keep_pacing = no: stopping removes tidal from the interface.
	write_config no "to-b|dst $B/32"
	ctl reload >/dev/null || fail "reload refused"
	stop_tidald
	[ "$(tool_a status $IA)" = "$(printf 'in none -\nout none -')" ] ||
		fail "hooks left after a full stop: $(tool_a status $IA)"
	ina tc filter show dev $IA egress | grep -q tidal && fail "filter left after a full stop"
	ina tc qdisc show dev $IA root | grep -q '7464:' && fail "tidal's root qdisc left"
	[ -e /sys/fs/bpf/tidal/$IA ] && fail "pins left after a full stop"
	return 0
}

scen_reload() {
	write_config yes "to-b|dst $B/32"
	start_tidald
	ina ping -q -c 30 -i 0.01 -W 1 $B >/dev/null || fail "ping lost packets"
	wait_counter to-b out packets 30
	write_config yes "to-b|dst $B/32" "to-b2|dst $B2/32"
	ctl reload >/dev/null || fail "reload (add an app) refused"
	ina ping -q -c 10 -i 0.01 -W 1 $B >/dev/null || fail "ping lost packets"
	ina ping -q -c 7 -i 0.01 -W 1 $B2 >/dev/null || fail "ping lost packets"
	wait_counter to-b out packets 40
	wait_counter to-b2 out packets 7
	write_config yes "renamed|dst $B/32" "to-b2|dst $B2/32"
	ctl reload >/dev/null || fail "reload (rename) refused"
	ctl -j show counters to-b >/dev/null 2>&1 && fail "the old app name still answers"
	[ "$(counter renamed out packets)" -eq 0 ] || fail "a renamed class kept the old totals"
	ina ping -q -c 4 -i 0.01 -W 1 $B >/dev/null || fail "ping lost packets"
	wait_counter renamed out packets 4
	[ "$(counter to-b2 out packets)" -eq 7 ] || fail "to-b2 changed across the rename"
	stop_tidald
}

# iperf3 server in tdlbpf-b on PORT
iperf_server() {
	inb iperf3 -s -p "$1" -i 0.5 -J -D --pidfile "$T/iperf$1.pid" --logfile "$T/iperf$1.log" ||
		fail "cannot start iperf3 -s"
	poll 5 test -s "$T/iperf$1.pid" || fail "iperf3 server did not start"
}

scen_pacing() {
	write_config yes "paced|dst $B/32" "free|dst $B2/32"
	start_tidald
	iperf_server 5301
	iperf_server 5302
	poll 5 ina iperf3 -c $B2 -p 5302 -n 64K || fail "iperf3 cannot reach $B2"
	ina iperf3 -c $B2 -p 5302 -t 3 -J >"$T/free-alone.json" || fail "iperf3 (free alone)"
	ctl rate set paced 100M >/dev/null || fail "rate set paced 100M failed"

	local t0 tchange
	t0=$(now_ms)
	ina iperf3 -c $B -p 5301 -t 9 -i 0.5 -J --get-server-output >"$T/paced.json" &
	local paced_pid=$!
	sleep 1
	ina iperf3 -c $B2 -p 5302 -t 3 -J >"$T/free-busy.json" || fail "iperf3 (free, busy)"
	while [ $(( $(now_ms) - t0 )) -lt 5000 ]; do sleep 0.05; done
	ctl rate set paced 50M >/dev/null || fail "rate set paced 50M failed"
	tchange=$(now_ms)
	wait $paced_pid || fail "iperf3 (paced) failed"
	python3 - "$T" $(( tchange - t0 )) <<'PY' || fail "rates off (see above)"
import json, sys
T, change = sys.argv[1], int(sys.argv[2]) / 1000.0
paced = json.load(open(T + "/paced.json"))
server = paced["server_output_json"]["intervals"]
alone = json.load(open(T + "/free-alone.json"))["end"]["sum_received"]["bits_per_second"]
busy = json.load(open(T + "/free-busy.json"))["end"]["sum_received"]["bits_per_second"]
ok = True
def report(what, got, lo, hi):
    global ok
    good = lo <= got <= hi
    ok = ok and good
    print("%-42s %8.1f Mbit/s  (want %.1f .. %.1f)%s" % (what, got / 1e6, lo / 1e6, hi / 1e6,
          "" if good else "  <-- FAIL"))
before = [i["sum"]["bits_per_second"] for i in server
          if i["sum"]["start"] >= 1.0 and i["sum"]["end"] <= change]
after = [(i["sum"]["start"], i["sum"]["bits_per_second"]) for i in server
         if i["sum"]["start"] >= change + 1.0 and i["sum"]["end"] - i["sum"]["start"] > 0.4]
if len(before) < 4 or len(after) < 4:
    print("too few intervals: %d before, %d after the change" % (len(before), len(after)))
    sys.exit(1)
report("paced at 100M, mean over %d intervals" % len(before), sum(before) / len(before),
       90e6, 110e6)
for start, bps in after:
    report("paced at 50M, interval from %.1f s" % (start - change), bps, 45e6, 55e6)
report("free alone", alone, 500e6, 1e12)
report("free beside the paced flow", busy, max(0.5 * alone, 500e6), 1e12)
sys.exit(0 if ok else 1)
PY
	[ "$(counter paced out packets)" -gt 0 ] || fail "paced flow not counted"
	stop_tidald
}

scen_xdp() {
	tool_b attach $IB --xdp --apps "to-b: dst $B/32;other: dst 10.99.0.0/16" ||
		fail "XDP attach failed"
	ip -n $NB link show $IB | grep -q xdp || fail "no XDP program on $IB"
	tool_b status $IB | grep -q '^in xdp tidal_cls_xdp$' || fail "status: $(tool_b status $IB)"
	ina ping -q -c 25 -i 0.01 -W 1 $B >/dev/null || fail "ping lost packets"
	[ "$(tool_b counters $IB 1 in)" = "25 $((25 * 98)) 0" ] ||
		fail "XDP counted $(tool_b counters $IB 1 in), expected 25 packets"
	# Attaching again is idempotent: counters continue, one program.
	tool_b attach $IB --xdp --apps "to-b: dst $B/32;other: dst 10.99.0.0/16" ||
		fail "second XDP attach failed"
	[ "$(ip -n $NB -d link show $IB | grep -c 'prog/xdp')" -eq 1 ] || fail "two XDP programs"
	# Switch to tc ingress: XDP goes, counting continues in the same maps.
	tool_b attach $IB --tc-in --tc-out --apps "to-b: dst $B/32;other: dst 10.99.0.0/16" ||
		fail "switch to tc failed"
	ip -n $NB link show $IB | grep -q xdp && fail "XDP still attached after the switch"
	tool_b status $IB | grep -Eq '^in (tcx|tc) tidal_cls_in$' ||
		fail "status after the switch: $(tool_b status $IB)"
	ina ping -q -c 5 -i 0.01 -W 1 $B >/dev/null || fail "ping lost packets"
	[ "$(tool_b counters $IB 1 in | cut -d' ' -f1)" -eq 30 ] || fail "tc ingress count"
	tool_b detach $IB || fail "detach failed"
	[ "$(tool_b status $IB)" = "$(printf 'in none -\nout none -')" ] ||
		fail "hooks left after detach: $(tool_b status $IB)"
	[ -e /sys/fs/bpf/tidal/$IB ] && fail "pins left after detach"
	tool_b detach $IB || fail "a second detach is not a no-op"
	return 0
}

setup_net
case $SCEN in
counts) scen_counts ;;
restart) scen_restart ;;
pacing) scen_pacing ;;
reload) scen_reload ;;
xdp) scen_xdp ;;
*) fail "unknown scenario $SCEN" ;;
esac
echo "ok: $SCEN"
