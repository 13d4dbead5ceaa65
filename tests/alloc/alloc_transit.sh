#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The alloc module plans transit from its peers' capacity adverts (suite alloc): three real
# tidald regions on loopback over TLS (certificates made here with the openssl CLI). fra's
# app video needs 3G towards lon but fra's link to lon reserves only 1G. Without ams's
# adverts fra plans the 1G direct and reports the rest short (no capacity is assumed); once
# ams advertises its link to fra and, passed on, lon's link to ams, fra books the rest as one
# transit lease: its own link to ams (path "ams,lon") and one lease from ams with path
# "lon", which ams carries on to lon. The ledgers of all three regions show the hops; a
# second cycle and a restart change nothing (the two halves are paired again); the
# reservation is recorded in the history as "video.reserved". Last, fra's vCPU forecast
# outgrows its own pool and the rest is leased from ams's advertised pool. Every wait polls
# to a deadline; every daemon is stopped on exit.
set -uo pipefail
T=$(mktemp -d /tmp/tdlalloc-transit-XXXXXX)
. "$TIDAL_SRC/tests/lib/regions.sh"

# region NAME [PEER:RESERVABLE]...: NAME's config, peering with each PEER over a link
# that reserves RESERVABLE.
region() {
	local n=$1 p
	shift
	{
		cat <<INI
[region]
name = $n
asn = 6501${#n}
state_dir = $T/$n

[control]
socket = $T/$n.sock
metrics_listen = 127.0.0.1:${MPORT[$n]}
log_level = debug

[peering]
listen = 127.0.0.1:${PORT[$n]}
certificate = $T/pki/$n.crt
private_key = $T/pki/$n.key
ca = $T/pki/ca.crt
hold_time = 9s

[forecast]
bucket = 1h

INI
		for p in "$@"; do
			printf '[peer.%s]\naddress = 127.0.0.1:%s\nlink = %s-%s\n\n' "${p%%:*}" \
				"${PORT[${p%%:*}]}" "$n" "${p%%:*}"
			printf '[link.%s-%s]\ncapacity = 10G\nreservable = %s\nlead_time = 0s\n\n' \
				"$n" "${p%%:*}" "${p#*:}"
		done
	} >"$T/$n.ini"
}
peak() { ctl "$1" -j show ledger "$2" | jq_py "d['peak']"; }
leases() { # leases REGION PY-EXPR over the live leases d
	ctl "$1" -j show leases | jq_py "$2"
}
is_true() { [ "$("$@")" = True ]; }

for r in fra ams lon; do
	PORT[$r]=$(free_port)
	MPORT[$r]=$(free_port)
done
"$TIDAL_SRC/tests/peering/mkcerts.sh" "$T/pki" fra ams lon >/dev/null 2>&1 ||
	fail "cannot make certificates"

region fra ams:8G lon:1G
cat >>"$T/fra.ini" <<INI
[app.video]
match = dst 198.51.100.0/24
priority = 1
min_rate = 3G
peer = lon

[pool.compute]
vcpu = 8
lead_time = 1s
INI
region ams fra:8G lon:8G
cat >>"$T/ams.ini" <<INI
[pool.compute]
vcpu = 64
lead_time = 1s
INI
region lon fra:8G ams:8G

# fra and lon only: nothing is known about ams, so nothing beyond the direct link is planned.
start fra
start lon
poll 15 established fra lon || fail "fra-lon not established"
ctl fra alloc run >"$T/out" || fail "alloc run: $(cat "$T/out")"
ctl fra -j show decisions >"$T/dec" || fail "show decisions"
jq_py '[(x["action"], x["resource"], x["quantity"]) for x in d]' <"$T/dec" >"$T/d1"
grep -q "('request', 'link.fra-lon', 1000000000)" "$T/d1" || fail "no direct 1G: $(cat "$T/d1")"
grep -q "('short', '', 2000000000)" "$T/d1" || fail "no 2G short: $(cat "$T/d1")"
grep -q "'lease'" "$T/d1" && fail "leased without any advert: $(cat "$T/d1")"

# ams arrives: its adverts (its link to fra, and lon's link to ams passed on) make transit.
start ams
poll 15 established fra ams || fail "fra-ams not established"
poll 15 established ams lon || fail "ams-lon not established"
transit_advert() {
	ctl fra -j show capacity ams | jq_py "any(a['name'] == 'lon' and a['transit'] and a['steps'][0]['free'] == 8000000000 for a in d)"
}
poll 15 is_true transit_advert || fail "fra has no transit advert: $(ctl fra show capacity)"
ctl fra alloc run >"$T/out" || fail "alloc run: $(cat "$T/out")"
ctl fra -j show decisions >"$T/dec" || fail "show decisions"
jq_py '[(x["action"], x["app"], x["resource"], x["quantity"], x["result"][:6], x["reason"]) for x in d if x["action"] == "lease"]' \
	<"$T/dec" >"$T/d2"
grep -q "('lease', 'video', 'link.fra-ams+ams:bandwidth>lon', 2000000000, 'booked'" "$T/d2" ||
	fail "no transit lease decision: $(cat "$T/d2")"
grep -q "transit via ams" "$T/d2" || fail "reason does not name the transit: $(cat "$T/d2")"

# fra's ledger: the first hop booked here with the path, and ONE lease from ams with path
# lon, reserved once ams and lon both committed.
reserved_transit() {
	leases fra "[l['state'] for l in d if l['provider'] == 'ams' and l['path'] == 'lon' and l['app'] == 'video']"
}
all_reserved() {
	local s
	s=$(reserved_transit)
	[ "$s" != "[]" ] && python3 -c "import sys; assert all(x == 'reserved' or x == 'active' for x in $s)"
}
poll 15 all_reserved || fail "transit lease at fra: $(reserved_transit) $(ctl fra show leases)"
n_remote=$(leases fra "len([l for l in d if l['provider'] == 'ams'])")
n_hop=$(leases fra "len([l for l in d if l['resource'] == 'link.fra-ams' and l['path'] == 'ams,lon' and l['quantity'] == 2000000000])")
[ "$n_remote" -ge 1 ] && [ "$n_remote" = "$n_hop" ] ||
	fail "fra: $n_remote leases from ams, $n_hop first hops: $(ctl fra show leases)"
[ "$(peak fra link.fra-ams)" = 2000000000 ] || fail "fra: link.fra-ams peak $(peak fra link.fra-ams)"
[ "$(peak fra link.fra-lon)" = 1000000000 ] || fail "fra: link.fra-lon peak $(peak fra link.fra-lon)"
poll 10 is_true leases ams "any(l['resource'] == 'link.ams-fra' and l['path'] == 'lon' for l in d)" ||
	fail "ams books no transit hop: $(ctl ams show leases)"
[ "$(peak ams link.ams-fra)" = 2000000000 ] || fail "ams: link.ams-fra peak $(peak ams link.ams-fra)"
poll 10 is_true leases lon "any(l['resource'] == 'link.lon-ams' and l['requester'] == 'ams' for l in d)" ||
	fail "lon books no onward hop: $(ctl lon show leases)"
[ "$(peak lon link.lon-ams)" = 2000000000 ] || fail "lon: link.lon-ams peak $(peak lon link.lon-ams)"

# Another cycle: the transit halves pair up again, so nothing moves.
ctl fra alloc run >"$T/out" || fail "alloc run: $(cat "$T/out")"
grep -q " 0 requests, 0 releases" "$T/out" || fail "third cycle: $(cat "$T/out")"

# The reservation is in the history for `forecast graph`.
ctl fra -j show series >"$T/series" || fail "show series"
grep -q '"video.reserved"' "$T/series" || fail "no video.reserved series: $(cat "$T/series")"
ctl fra -j show apps | jq_py '[a["reserved_bps"] for a in d if a["app"] == "video"]' >"$T/apps"
grep -Eq "\[(3000000000|1000000000)\.0\]" "$T/apps" || fail "show apps: $(cat "$T/apps")"

# ams's half ends before its time (here fra's operator releases the lease from ams; a
# refusal or revocation by ams ends it the same way): fra's own first hop now carries
# nothing and is released at once, not at the next cycle. The cycle after books the
# transit again.
rid=$(leases fra "[l['id'] for l in d if l['provider'] == 'ams' and l['path'] == 'lon' and l['app'] == 'video'][0]")
[ -n "$rid" ] || fail "no lease from ams to release: $(ctl fra show leases)"
n_hops() { leases fra "len([l for l in d if l['resource'] == 'link.fra-ams' and l['path'] == 'ams,lon'])"; }
hops_before=$(n_hops)
ctl fra lease release "$rid" >"$T/out" 2>&1 || fail "lease release: $(cat "$T/out")"
hop_gone() { [ "$(n_hops)" -eq $((hops_before - 1)) ]; }
poll 10 hop_gone || fail "fra's first hop outlived the lease from ams: $(ctl fra show leases)"
ctl fra -j show decisions >"$T/dec" || fail "show decisions"
jq_py '[(x["action"], x["resource"], x["reason"]) for x in d if x["action"] == "release"]' \
	<"$T/dec" >"$T/d3"
grep -q "('release', 'link.fra-ams', 'transit: the lease that carried it on is gone')" "$T/d3" ||
	fail "no release decision for the first hop: $(cat "$T/d3")"
ctl fra alloc run >"$T/out" || fail "alloc run: $(cat "$T/out")"
poll 15 all_reserved || fail "transit not booked again: $(reserved_transit) $(ctl fra show leases)"

# After a restart fra pairs its own leases from the ledger: still nothing to do.
stop fra
start fra
poll 15 established fra ams || fail "fra-ams not back"
poll 15 is_true transit_advert || fail "no transit advert after the restart"
ctl fra alloc run >"$T/out" || fail "alloc run: $(cat "$T/out")"
grep -q " 0 requests, 0 releases" "$T/out" || fail "after restart: $(cat "$T/out")"
# A remote pool: fra's vCPU forecast (a daily cycle of 20..40 vCPUs, two weeks of hourly
# history ingested here) needs more than its own pool's 8; ams advertises its pool, so
# fra books its 8 and leases the rest of the p95 from ams's pool "compute".
python3 - "$T/vcpu.csv" <<'PY' || fail "cannot write the vCPU history"
import math, sys, time
end = int(time.time()) // 3600 * 3600
with open(sys.argv[1], "w") as f:
    f.write("timestamp,vcpu\n")
    for i in range(336):
        t = end - (335 - i) * 3600
        f.write("%d,%.3f\n" % (t, 30 + 10 * math.sin(2 * math.pi * (t % 86400) / 86400)))
PY
ctl fra ingest pool.compute.vcpu "$T/vcpu.csv" >"$T/out" 2>&1 || fail "ingest: $(cat "$T/out")"
pool_advert() {
	ctl fra -j show capacity ams | jq_py "any(a['name'] == 'compute' and a['steps'][0]['free'] == 64 for a in d)"
}
poll 15 is_true pool_advert || fail "fra has no advert of ams's pool: $(ctl fra show capacity)"
ctl fra forecast run >"$T/out" 2>&1 || fail "forecast run: $(cat "$T/out")"
pool_leased() {
	is_true leases fra "any(l['provider'] == 'ams' and l['resource'].endswith('pool.compute.vcpu') and l['state'] in ('reserved', 'active') for l in d)"
}
poll 30 pool_leased || fail "no lease of ams's pool: $(ctl fra show decisions --last 10) $(ctl fra show leases)"
[ "$(peak fra pool.compute.vcpu)" = 8 ] || fail "fra's own pool: peak $(peak fra pool.compute.vcpu) vCPUs"
poll 10 is_true leases ams "any(l['requester'] == 'fra' and l['resource'] == 'pool.compute.vcpu' for l in d)" ||
	fail "ams books nothing for fra's pool lease: $(ctl ams show leases)"
ctl fra -j show decisions >"$T/dec" || fail "show decisions"
jq_py '[x["reason"] for x in d if x["action"] == "lease" and x["resource"] == "ams:pool.compute.vcpu"]' \
	<"$T/dec" >"$T/d4"
grep -q "p95" "$T/d4" || fail "the pool lease does not come from the forecast: $(cat "$T/d4")"

[ -z "$VG" ] || stop "$VG"
echo ok
