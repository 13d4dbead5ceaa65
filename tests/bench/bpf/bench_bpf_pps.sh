#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench_bpf_pps: packets per second through veth pairs with and without tidal's classify
# programs, in the same run. Root; run on demand, never in tools/test.
#
#   tests/bench/bpf/bench_bpf_pps.sh [BUILD_DIR=build] [CYCLES=10] [SECONDS=1] [APPS=100]
#
# Four veth pairs join the namespaces tdlbpfb-a and tdlbpfb-b. Pair 1 has no programs
# (the anchor), nor has pair 3 (a second anchor: its ratio to pair 1 is the noise floor
# of the method); pairs 0 and 2 have tidal's classify programs at egress on the a side
# and ingress on the b side, with APPS destination apps of which one matches the
# traffic: pair 0 as tidal attaches them (tcx links where the kernel has tcx), pair 2
# through clsact cls_bpf filters (the attachment of kernels without tcx). trafgen (one
# CPU, through the qdisc path so that tc egress runs) sends 64-byte UDP frames as fast as
# it can, in bursts of SECONDS, each cycle in the order 0 1 2 3 3 2 1 0; the frames carry a
# destination MAC the receiver does not own, so its stack drops them right after tc
# ingress. pps is what the receiving veth counted. Printed: median pps per pair, the
# median of the per-cycle ratios to the anchor (other load on the machine moves the
# bursts of one cycle alike), and the programs' own cost per packet from
# kernel.bpf_stats_enabled, measured apart.
set -u
BUILD=${1:-build}
CYCLES=${2:-10}
SECS=${3:-1}
NAPPS=${4:-100}
TOOL=$BUILD/tests/bpf/bpfc-tool
[ "$(id -u)" -eq 0 ] || { echo "bench_bpf_pps: needs root" >&2; exit 1; }
[ -x "$TOOL" ] || { echo "bench_bpf_pps: build first (no $TOOL)" >&2; exit 1; }
command -v trafgen >/dev/null || { echo "bench_bpf_pps: needs trafgen (netsniff-ng)" >&2; exit 1; }

NA=tdlbpfb-a NB=tdlbpfb-b
T=$(mktemp -d /tmp/tdlbpfb.XXXXXX)
STATS_WAS=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null || echo 0)
in_a() { nsenter --net=/var/run/netns/$NA "$@"; }
in_b() { nsenter --net=/var/run/netns/$NB "$@"; }
cleanup() {
	sysctl -qw kernel.bpf_stats_enabled="$STATS_WAS" 2>/dev/null
	ip netns del $NA 2>/dev/null
	ip netns del $NB 2>/dev/null
	rm -rf /sys/fs/bpf/tidal/tdlbpfb-a0 /sys/fs/bpf/tidal/tdlbpfb-b0 "$T"
}
trap cleanup EXIT
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
ip netns del $NA 2>/dev/null
ip netns del $NB 2>/dev/null
ip netns add $NA && ip netns add $NB || exit 1
for p in 0 1 2 3; do
	ip link add tdlbpfb-a$p netns $NA type veth peer name tdlbpfb-b$p netns $NB &&
		ip -n $NA addr add 10.78.$p.1/24 dev tdlbpfb-a$p &&
		ip -n $NB addr add 10.78.$p.2/24 dev tdlbpfb-b$p &&
		ip -n $NA link set tdlbpfb-a$p up && ip -n $NB link set tdlbpfb-b$p up || exit 1
	mac=$(ip -n $NA -j link show tdlbpfb-a$p |
		python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])')
	cat >"$T/udp$p.cfg" <<CFG
{ eth(da=02:00:00:00:00:99, sa=$mac, type=0x0800),
  ipv4(sa=10.78.$p.1, da=10.78.$p.2, ttl=64), udp(sp=40000, dp=9), fill(0x00, 22) }
CFG
done

apps="m0: dst 10.78.0.0/24;m2: dst 10.78.2.0/24"
for i in $(seq 2 $((NAPPS - 1))); do
	apps="$apps;a$i: dst 10.$((100 + i / 256)).$((i % 256)).0/24"
done
in_a "$TOOL" attach tdlbpfb-a0 --tc-out --apps "$apps" &&
	in_b "$TOOL" attach tdlbpfb-b0 --tc-in --apps "$apps" &&
	in_a "$TOOL" attach tdlbpfb-a2 --tc-out --no-pin --apps "$apps" &&
	in_b "$TOOL" attach tdlbpfb-b2 --tc-in --no-pin --apps "$apps" || exit 1
kind0=$(in_a "$TOOL" status tdlbpfb-a0 | awk '$1 == "out" { print $2 }')
kind2=$(in_a "$TOOL" status tdlbpfb-a2 | awk '$1 == "out" { print $2 }')

rx() {
	ip -n $NB -s -j link show "tdlbpfb-b$1" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["stats64"]["rx"]["packets"])'
}
# burst PAIR: pps of one SECONDS-long trafgen burst on that pair
burst() {
	local r0 r1 t0 t1
	r0=$(rx "$1")
	t0=$(date +%s%N)
	timeout -s INT "$SECS" ip netns exec $NA trafgen --dev "tdlbpfb-a$1" \
		--conf "$T/udp$1.cfg" --cpus 1 --qdisc-path --no-cpu-stats >/dev/null 2>&1
	t1=$(date +%s%N)
	r1=$(rx "$1")
	echo $(( (r1 - r0) * 1000000000 / (t1 - t0) ))
}
prog_stats() { # PIN: "run_time_ns run_cnt"
	bpftool prog show pinned "$1" -j |
		python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("run_time_ns",0), d.get("run_cnt",0))'
}

for p in 0 1 2 3; do burst $p >/dev/null; done # warm-up
: >"$T/res"
for c in $(seq 1 "$CYCLES"); do
	x0=$(burst 0); x1=$(burst 1); x2=$(burst 2); x3=$(burst 3)
	y3=$(burst 3); y2=$(burst 2); y1=$(burst 1); y0=$(burst 0)
	echo "$x0 $y0 $x1 $y1 $x2 $y2 $x3 $y3" >>"$T/res"
done
# The programs' own cost, measured apart: run-time statistics slow every program down.
sysctl -qw kernel.bpf_stats_enabled=1
burst 0 >/dev/null
out=$(prog_stats /sys/fs/bpf/tidal/tdlbpfb-a0/prog_cls_out)
in=$(prog_stats /sys/fs/bpf/tidal/tdlbpfb-b0/prog_cls_in)
sysctl -qw kernel.bpf_stats_enabled="$STATS_WAS"
for p in 0 2; do
	in_a "$TOOL" detach tdlbpfb-a$p
	in_b "$TOOL" detach tdlbpfb-b$p
done

python3 - "$T/res" "$CYCLES" "$SECS" "$NAPPS" "$out" "$in" "$kind0" "$kind2" <<'PY'
import statistics, sys
res, cycles, secs, napps, out, inn, kind0, kind2 = sys.argv[1:9]
rows = [list(map(int, l.split())) for l in open(res)]
def med(i): return statistics.median([x for r in rows for x in r[2 * i:2 * i + 2]])
def ratio(i): return statistics.median([(r[2 * i] + r[2 * i + 1]) / (r[2] + r[3]) for r in rows])
print("veth pairs, trafgen 64-byte UDP on 1 CPU, %s cycles of %s s bursts, %s apps"
      % (cycles, secs, napps))
print("%-44s %12s %8s %9s" % ("variant", "median pps", "ratio", "overhead"))
print("%-44s %12d %8s %9s" % ("no programs (anchor)", med(1), "1.000", "-"))
print("%-44s %12d %8.3f %8.1f%%" % ("no programs, second pair (noise floor)", med(3), ratio(3),
                                     100 * (1 - ratio(3))))
for i, kind in ((0, kind0), (2, kind2)):
    r = ratio(i)
    print("%-44s %12d %8.3f %8.1f%%" % ("classify in + out, attached as %s" % kind, med(i), r,
                                         100 * (1 - r)))
cost = []
for name, s in (("tidal_cls_out", out), ("tidal_cls_in", inn)):
    t, n = map(int, s.split())
    if n:
        cost.append(t / n)
        print("%-14s %6.1f ns per packet (%d runs, kernel.bpf_stats_enabled)" % (name, t / n, n))
if len(cost) == 2:
    print("both programs: %.1f ns per packet, %.1f %% of the anchor's %.0f ns per packet"
          % (sum(cost), 100 * sum(cost) * med(1) / 1e9, 1e9 / med(1)))
PY
