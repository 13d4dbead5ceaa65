#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Multi-daemon lease tests: two or three tidald regions on loopback, certificates made here
# with the openssl CLI, driven with tidalctl and checked through `show peers`, `show leases`
# and /metrics. Every wait polls until a deadline; every daemon is stopped on exit.
#
#   lease-test.sh CASE    with TIDALD, TIDALCTL, PEER_PROBE in the environment
#   CASE: two | hold-timeout | three | transit | capacity | wait | tls | sigstop | crash |
#         crash-commit | nocert | reload
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
case_name=$1
T=$(mktemp -d /tmp/tdlpeer-lease-XXXXXX)
. "$here/../lib/regions.sh"

# region NAME HOLD PEER...: write NAME's config; every region peers with those listed.
region() {
	local n=$1 hold=$2 p
	shift 2
	{
		cat <<INI
[region]
name = $n
asn = 650$((${#n} + RANDOM % 90 + 10))
state_dir = $T/$n

[control]
socket = $T/$n.sock
metrics_listen = 127.0.0.1:${MPORT[$n]}
log_level = debug

[peering]
listen = 127.0.0.1:${PORT[$n]}
certificate = $T/pki/${CERT[$n]:-$n}.crt
private_key = $T/pki/${CERT[$n]:-$n}.key
ca = $T/pki/ca.crt
hold_time = $hold

INI
		for p in "$@"; do
			printf '[peer.%s]\naddress = 127.0.0.1:%s\nlink = %s-%s\n\n' "$p" "${PORT[$p]}" "$n" "$p"
			printf '[link.%s-%s]\ncapacity = 10G\nreservable = 8G\n\n' "$n" "$p"
		done
		printf '[pool.compute]\nvcpu = 64\nmemory = 256GiB\n'
	} >"$T/$n.ini"
}
declare -A CERT
lease_state() { # lease_state REGION ID -> state or "none"
	ctl "$1" -j show leases --all |
		jq_py "([l['state'] for l in d if l['id']=='$2'] or ['none'])[0]"
}
state_is() { [ "$(lease_state "$1" "$2")" = "$3" ]; }
request() { # request REGION ARGS... -> lease id on stdout
	local r=$1
	shift
	ctl "$r" -j lease request "$@" | jq_py "d['id']"
}
metric() { # metric REGION 'name{labels}' -> value
	python3 - "${MPORT[$1]}" "$2" <<'PY'
import sys, urllib.request
text = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=5).read().decode()
for line in text.splitlines():
    if line.startswith(sys.argv[2] + " "):
        print(line.split()[-1]); break
else:
    print("absent")
PY
}

regions=(fra ams lon)
for r in "${regions[@]}"; do
	PORT[$r]=$(free_port)
	MPORT[$r]=$(free_port)
done
"$here/mkcerts.sh" "$T/pki" ams fra lon >/dev/null 2>&1 || fail "cannot make certificates"

case $case_name in
two)
	region fra 9s ams
	region ams 9s fra
	start fra
	start ams
	poll 15 established fra ams || fail "fra-ams not established"
	poll 5 established ams fra || fail "ams-fra not established"
	# requested -> offered -> committed: reserved on both sides, booked at the provider
	id=$(request fra --peer ams --resource bandwidth --quantity 2G --start +1h --duration 6h)
	[ -n "$id" ] || fail "lease request gave no id"
	poll 10 state_is fra "$id" reserved || fail "fra: lease not reserved ($(lease_state fra "$id"))"
	poll 5 state_is ams "$id" reserved || fail "ams: lease not reserved"
	[ "$(ctl ams -j show leases | jq_py "[l['role'] for l in d if l['id']=='$id'][0]")" = provider ] ||
		fail "ams does not see itself as provider"
	peak=$(ctl ams -j show ledger link.ams-fra | jq_py "d['peak']")
	[ "$peak" = 2000000000 ] || fail "ams books $peak on link.ams-fra, expected 2G"
	# activated at start, expired at end, on both sides
	id2=$(request fra --peer ams --resource bandwidth --quantity 1G --start +2s --duration 3s)
	poll 10 state_is fra "$id2" active || fail "fra: lease not activated"
	poll 5 state_is ams "$id2" active || fail "ams: lease not activated"
	poll 10 state_is ams "$id2" expired || fail "ams: lease did not expire at its end"
	poll 5 state_is fra "$id2" expired || fail "fra: lease did not expire at its end"
	# released: both sides, capacity back
	ctl fra lease release "$id" >/dev/null || fail "release refused"
	poll 10 state_is ams "$id" released || fail "ams: release not seen"
	state_is fra "$id" released || fail "fra: not released"
	peak=$(ctl ams -j show ledger link.ams-fra | jq_py "d['peak']")
	[ "$peak" = 0 ] || fail "capacity not freed by the release: $peak"
	# preemption by priority (RSVP-TE): the provider revokes the lower lease, the requester
	# hears LEASE_REVOKE
	lo=$(request fra --peer ams --resource bandwidth --quantity 6G --start +1h --duration 1h \
		--priority 7)
	poll 10 state_is fra "$lo" reserved || fail "low-priority lease not reserved"
	hi=$(request fra --peer ams --resource bandwidth --quantity 6G --start +1h --duration 1h \
		--priority 1)
	poll 10 state_is fra "$hi" reserved || fail "high-priority lease not reserved"
	poll 10 state_is fra "$lo" revoked || fail "preempted lease not revoked at the requester"
	state_is ams "$lo" revoked || fail "preempted lease not revoked at the provider"
	[ "$(ctl fra -j show leases --all | jq_py "[l['reason'] for l in d if l['id']=='$lo'][0]")" = preempted ] ||
		fail "revocation reason not preempted at the requester"
	# the provider's operator revokes a lease
	ctl ams lease release "$hi" >/dev/null || fail "provider-side release refused"
	poll 10 state_is fra "$hi" revoked || fail "operator revoke not seen by the requester"
	# refused for capacity: failed on both sides with the reason
	id3=$(request fra --peer ams --resource bandwidth --quantity 9G --start +1h --duration 1h)
	poll 10 state_is fra "$id3" failed || fail "over-capacity lease not failed"
	[ "$(ctl fra -j show leases --all | jq_py "[l['reason'] for l in d if l['id']=='$id3'][0]")" = no_capacity ] ||
		fail "wrong reason for the refusal"
	# compute from the peer's pool
	id4=$(request fra --peer ams --resource vcpu --quantity 8 --start +1h --duration 1h)
	poll 10 state_is fra "$id4" reserved || fail "vcpu lease not reserved"
	# the CLI refuses nonsense with exit 2 and an unknown peer with exit 1
	ctl fra lease request --peer ams --resource bandwidth --quantity lots --duration 1h \
		>/dev/null 2>&1
	[ $? -eq 2 ] || fail "bad quantity not a usage error"
	ctl fra lease request --peer nowhere --resource bandwidth --quantity 1G --duration 1h \
		>/dev/null 2>&1
	[ $? -eq 1 ] || fail "unknown peer not refused"
	# show peers and metrics
	ctl fra show peers | grep -Eq '^ams +127\.0\.0\.1:[0-9]+ +fra-ams +Established' ||
		fail "show peers row: $(ctl fra show peers)"
	[ "$(metric fra 'tidal_peer_up{peer="ams"}')" = 1 ] || fail "tidal_peer_up not 1"
	n=$(metric fra 'tidal_peer_messages_total{peer="ams",type="lease_request",dir="out"}')
	[ "$n" != absent ] && [ "$n" -ge 4 ] || fail "lease_request out counter: $n"
	n=$(metric ams 'tidal_peer_messages_total{peer="fra",type="lease_ack",dir="out"}')
	[ "$n" != absent ] && [ "$n" -ge 2 ] || fail "lease_ack out counter: $n"
	# the exposition passes promtool when it is installed
	if command -v promtool >/dev/null; then
		python3 -c "import urllib.request as u; print(u.urlopen('http://127.0.0.1:${MPORT[fra]}/metrics').read().decode(), end='')" |
			promtool check metrics >"$T/promtool.log" 2>&1 || fail "promtool: $(cat "$T/promtool.log")"
	fi
	stop fra
	poll 10 grep -q 'received NOTIFICATION 6/1' "$T/ams.log" || fail "no Cease from a stopping tidald"
	;;
hold-timeout)
	# A requester that never commits: the provider's hold runs out and frees the capacity.
	region ams 9s fra
	start ams
	"$PEER_PROBE" --region fra --cert "$T/pki/fra.crt" --key "$T/pki/fra.key" \
		--ca "$T/pki/ca.crt" --peer ams=127.0.0.1:${PORT[ams]} --verbose --no-commit \
		--requests 2 --window 2 --to ams --quantity 5000000000 --hold-ms 2000 \
		>"$T/probe.out" 2>"$T/probe.log" &
	extra_pids+=($!)
	poll 10 grep -q 'LEASE_OFFER 0 ' "$T/probe.out" || fail "first request not offered"
	poll 5 grep -q 'LEASE_STATUS 1 failed insufficient-capacity' "$T/probe.out" ||
		fail "second request not refused while the first is held"
	peak=$(ctl ams -j show ledger link.ams-fra | jq_py "d['peak']")
	[ "$peak" = 5000000000 ] || fail "hold does not book: peak $peak"
	poll 10 grep -q 'LEASE_STATUS 0 expired hold-timeout' "$T/probe.out" ||
		fail "hold did not time out"
	peak=$(ctl ams -j show ledger link.ams-fra | jq_py "d['peak']")
	[ "$peak" = 0 ] || fail "expired hold still books $peak"
	held=$(ctl ams -j show leases --all | jq_py "sorted(l['state'] for l in d)")
	[ "$held" = "['expired', 'failed']" ] || fail "ams leases: $held"
	;;
three)
	region fra 9s ams lon
	region ams 9s fra lon
	region lon 9s fra ams
	start fra
	start ams
	start lon
	for a in fra ams lon; do
		for b in fra ams lon; do
			[ $a = $b ] && continue
			poll 15 established $a $b || fail "$a-$b not established"
		done
	done
	a=$(request fra --peer ams --resource bandwidth --quantity 3G --start +1h --duration 1h)
	b=$(request fra --peer lon --resource bandwidth --quantity 3G --start +1h --duration 1h)
	c=$(request lon --peer ams --resource bandwidth --quantity 3G --start +1h --duration 1h)
	poll 10 state_is fra "$a" reserved || fail "fra<-ams not reserved"
	poll 10 state_is fra "$b" reserved || fail "fra<-lon not reserved"
	poll 10 state_is lon "$c" reserved || fail "lon<-ams not reserved"
	state_is ams "$a" reserved && state_is lon "$b" reserved && state_is ams "$c" reserved ||
		fail "providers disagree"
	# each provider books on its link to the requester only
	[ "$(ctl ams -j show ledger link.ams-fra | jq_py "d['peak']")" = 3000000000 ] || fail "ams-fra"
	[ "$(ctl ams -j show ledger link.ams-lon | jq_py "d['peak']")" = 3000000000 ] || fail "ams-lon"
	[ "$(ctl lon -j show ledger link.lon-fra | jq_py "d['peak']")" = 3000000000 ] || fail "lon-fra"
	# the third region does not see leases between the other two
	[ "$(lease_state lon "$a")" = none ] || fail "lon knows fra<-ams"
	;;
tls)
	# tidald refuses peers with a wrong CA, a wrong name, an expired certificate.
	region fra 9s ams
	start fra
	# A region's own certificate must name it (tidald refuses to start otherwise), so the
	# wrong name is a real region, lon, answering at the address fra has for ams.
	for bad in evil-ams expired-ams lon; do
		name=ams
		if [ $bad = lon ]; then
			name=lon
			PORT[lon]=${PORT[ams]}
		fi
		CERT[$name]=$bad
		region $name 9s fra
		rm -rf "${T:?}/$name"
		start $name
		poll 10 grep -Eq 'refused|failed' "$T/fra.log" || fail "$bad: no refusal logged"
		sleep 1
		established fra ams && fail "$bad: session established"
		stop $name
		echo "ok: $bad refused"
		cat "$T/fra.log" >>"$T/fra.prev"
		: >"$T/fra.log"
	done
	grep -q 'certificate has expired' "$T/fra.prev" || fail "expired not named"
	grep -Eq "names region 'lon'|region 'lon' is not a configured" "$T/fra.prev" ||
		fail "wrong name not named"
	# TLS 1.2 client
	out=$(timeout 10 openssl s_client -connect 127.0.0.1:${PORT[fra]} -tls1_2 \
		-cert "$T/pki/ams.crt" -key "$T/pki/ams.key" -CAfile "$T/pki/ca.crt" </dev/null 2>&1)
	echo "$out" | grep -q 'New, TLSv1.2' && fail "TLS 1.2 accepted"
	# and the right certificate gets in (so the refusals were about the certificates)
	CERT[ams]=ams
	region ams 9s fra
	start ams
	poll 15 established fra ams || fail "valid peer refused"
	;;
sigstop)
	region fra 3s ams
	region ams 3s fra
	start fra
	start ams
	poll 15 established fra ams || fail "not established"
	kill -STOP "${PID[ams]}"
	t0=$SECONDS
	poll 8 grep -q 'sent NOTIFICATION 4/0 Hold Timer Expired' "$T/fra.log" ||
		fail "hold timer did not expire"
	[ $((SECONDS - t0)) -le 6 ] || fail "hold timer took $((SECONDS - t0)) s for 3 s"
	established fra ams && fail "still established"
	ctl fra show peers | grep -q 'Hold Timer Expired' || fail "show peers lacks the reason"
	[ "$(metric fra 'tidal_peer_up{peer="ams"}')" = 0 ] || fail "tidal_peer_up not 0"
	kill -CONT "${PID[ams]}"
	poll 20 established fra ams || fail "no session after SIGCONT"
	;;
crash)
	# kill -9 mid-stream of lease requests, on either side; restart; resync: nothing lost,
	# nothing booked twice, both ledgers agree.
	region fra 9s ams
	region ams 9s fra
	start fra
	start ams
	poll 15 established fra ams || fail "not established"
	: >"$T/ids"
	stream() { # stream N: N requests of 100M, one after the other
		local i
		for i in $(seq "$1"); do
			request fra --peer ams --resource bandwidth --quantity 100M --start +1h \
				--duration 1h >>"$T/ids" 2>/dev/null || true
		done
	}
	for victim in ams fra ams; do
		stream 30 &
		sp=$!
		sleep 0.5
		kill -9 "${PID[$victim]}"
		wait "${PID[$victim]}" 2>/dev/null
		wait $sp
		start "$victim"
		poll 20 established fra ams || fail "no session after restarting $victim"
		stream 5
	done
	n=$(sort -u "$T/ids" | grep -c .)
	[ "$n" -ge 40 ] || fail "only $n requests were accepted"
	# converge: no lease still pending on the requester
	settled() {
		ctl fra -j show leases --all | jq_py \
			"all(l['state'] not in ('checking','held','committing') for l in d)" | grep -qx True
	}
	poll 30 settled || fail "leases still pending on fra: $(ctl fra show leases)"
	ctl fra -j show leases --all >"$T/fra.json"
	ctl ams -j show leases --all >"$T/ams.json"
	python3 - "$T/fra.json" "$T/ams.json" "$T/ids" <<'PY' || fail "ledgers disagree"
import json, sys
fra = {l["id"]: l for l in json.load(open(sys.argv[1]))}
ams = {l["id"]: l for l in json.load(open(sys.argv[2]))}
ids = set(x.strip() for x in open(sys.argv[3]) if x.strip())
bad = []
for i in ids:
    if i not in fra:
        bad.append("%s: accepted by tidalctl but unknown to fra" % i)
for i, l in fra.items():
    a = ams.get(i)
    if l["state"] in ("reserved", "active"):
        if not a or a["state"] != l["state"]:
            bad.append("%s: %s at fra, %s at ams" % (i, l["state"], a and a["state"]))
    elif a and a["state"] in ("held", "committing", "reserved", "active"):
        bad.append("%s: %s at fra but %s at ams" % (i, l["state"], a["state"]))
for i, a in ams.items():
    if a["state"] in ("reserved", "active", "held") and i not in fra:
        bad.append("%s: booked at ams, unknown at fra" % i)
booked = sum(a["quantity"] for a in ams.values() if a["state"] in ("held", "reserved", "active"))
reserved = sum(l["quantity"] for l in fra.values() if l["state"] in ("reserved", "active"))
if booked != reserved:
    bad.append("ams books %d, fra holds %d" % (booked, reserved))
print("%d leases, %d reserved, %d bits/s booked" % (len(fra), sum(l["state"] == "reserved" for l in fra.values()), booked))
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
PY
	peak=$(ctl ams -j show ledger link.ams-fra | jq_py "d['peak']")
	python3 -c "
import json; a=json.load(open('$T/ams.json'))
s=sum(l['quantity'] for l in a if l['state'] in ('held','reserved','active'))
assert s == $peak, (s, $peak)" || fail "calendar peak $peak differs from the leases booked"
	;;
transit)
	# fra leases from ams carried on to lon: ams books its link to fra and leases the next
	# hop from lon, which books its link to ams. One release frees both; a next hop that
	# refuses, or a path ams cannot take, fails the lease with no-path.
	region fra 9s ams
	region ams 9s fra lon
	region lon 9s ams
	start fra
	start ams
	start lon
	poll 15 established fra ams || fail "fra-ams not established"
	poll 15 established ams lon || fail "ams-lon not established"
	field() { # field REGION ID FIELD
		ctl "$1" -j show leases --all | jq_py "([l['$3'] for l in d if l['id']=='$2'] or ['none'])[0]"
	}
	onward() { # onward REGION ID: the lease REGION asked of its next hop to carry ID
		ctl "$1" -j show leases --all | jq_py "([l['id'] for l in d if l['carries']=='$2'] or [''])[0]"
	}
	peak() { ctl "$1" -j show ledger "$2" | jq_py "d['peak']"; }
	id=$(request fra --peer ams --path lon --resource bandwidth --quantity 2G --start +1h \
		--duration 1h)
	[ -n "$id" ] || fail "transit request gave no id"
	poll 10 state_is fra "$id" reserved || fail "fra: transit lease $(lease_state fra "$id")"
	[ "$(field fra "$id" path)" = lon ] || fail "fra does not record the path"
	state_is ams "$id" reserved || fail "ams: $(lease_state ams "$id")"
	[ "$(field ams "$id" role)" = provider ] || fail "ams is not the provider of the first hop"
	on=$(onward ams "$id")
	[ -n "$on" ] || fail "ams did not lease the next hop"
	[ "$(field ams "$on" provider)" = lon ] || fail "the next hop is not leased from lon"
	state_is ams "$on" reserved || fail "ams: next hop $(lease_state ams "$on")"
	state_is lon "$on" reserved || fail "lon: next hop $(lease_state lon "$on")"
	[ "$(lease_state lon "$id")" = none ] || fail "lon knows fra's lease itself"
	[ "$(peak ams link.ams-fra)" = 2000000000 ] || fail "ams books $(peak ams link.ams-fra) on ams-fra"
	[ "$(peak lon link.lon-ams)" = 2000000000 ] || fail "lon books $(peak lon link.lon-ams) on lon-ams"
	[ "$(peak ams link.ams-lon)" = 0 ] || fail "ams books its own egress to lon"
	# the transit region crashes and comes back: both sessions resynchronise, nothing moves
	kill -9 "${PID[ams]}"
	wait "${PID[ams]}" 2>/dev/null
	start ams
	poll 20 established fra ams || fail "fra-ams not back"
	poll 20 established ams lon || fail "ams-lon not back"
	for r in fra ams; do state_is $r "$id" reserved || fail "$r: $(lease_state $r "$id") after the restart"; done
	for r in ams lon; do state_is $r "$on" reserved || fail "$r: next hop $(lease_state $r "$on") after the restart"; done
	[ "$(peak ams link.ams-fra)" = 2000000000 ] || fail "ams-fra after the restart"
	# one release frees both hops
	ctl fra lease release "$id" >/dev/null || fail "release refused"
	poll 10 state_is ams "$id" released || fail "ams: first hop $(lease_state ams "$id")"
	poll 10 state_is lon "$on" released || fail "lon: next hop $(lease_state lon "$on")"
	state_is ams "$on" released || fail "ams: next hop $(lease_state ams "$on")"
	[ "$(peak ams link.ams-fra)" = 0 ] || fail "ams-fra not freed"
	[ "$(peak lon link.lon-ams)" = 0 ] || fail "lon-ams not freed"
	# the next hop refuses: lon has 7G of its 8G booked by ams already
	full=$(request ams --peer lon --resource bandwidth --quantity 7G --start +1h --duration 1h)
	poll 10 state_is ams "$full" reserved || fail "ams<-lon 7G not reserved"
	id2=$(request fra --peer ams --path lon --resource bandwidth --quantity 2G --start +1h \
		--duration 1h)
	poll 10 state_is fra "$id2" failed || fail "fra: refused transit $(lease_state fra "$id2")"
	[ "$(field fra "$id2" reason)" = no_path ] || fail "reason $(field fra "$id2" reason), not no_path"
	state_is ams "$id2" failed || fail "ams: $(lease_state ams "$id2")"
	[ "$(field ams "$(onward ams "$id2")" reason)" = no_capacity ] ||
		fail "ams: the next hop's refusal is not recorded"
	[ "$(peak ams link.ams-fra)" = 0 ] || fail "ams keeps the first hop of a refused transit"
	grep -q "next hop lon: failed (no_capacity)" "$T/ams.log" || fail "ams does not say why"
	# a path ams cannot take: it does not peer with par
	id3=$(request fra --peer ams --path par --resource bandwidth --quantity 1G --start +1h \
		--duration 1h)
	poll 10 state_is fra "$id3" failed || fail "fra: impossible path $(lease_state fra "$id3")"
	[ "$(field fra "$id3" reason)" = no_path ] || fail "reason $(field fra "$id3" reason)"
	grep -q "ams does not peer with par" "$T/ams.log" || fail "ams does not name the missing peer"
	# paths that loop are refused by the requester itself
	ctl fra lease request --peer ams --path fra --resource bandwidth --quantity 1G --duration 1h \
		>/dev/null 2>&1
	[ $? -eq 1 ] || fail "a path back to fra was not refused"
	ctl fra lease request --peer ams --path lon --resource vcpu --quantity 1 --duration 1h \
		>/dev/null 2>&1
	[ $? -eq 1 ] || fail "transit of vcpu was not refused"
	;;
capacity)
	# Capacity adverts are time series from the ledger's calendar, kept per peer; a transit
	# region passes on what its other peers advertise about their links towards it.
	region fra 9s ams
	region ams 9s fra lon
	region lon 9s ams
	start fra
	start ams
	start lon
	poll 15 established fra ams || fail "fra-ams not established"
	poll 15 established ams lon || fail "ams-lon not established"
	adverts() { # adverts REGION PEER PY-EXPR over the adverts, keyed (resource, name)
		ctl "$1" -j show capacity "$2" | python3 -c "
import json, sys
d = {(a['resource'], a['name']): [(s['start_s'], s['free']) for s in a['steps']] for a in json.load(sys.stdin)}
print($3)"
	}
	advert_is() { [ "$(adverts "$1" "$2" "$3")" = True ]; }
	poll 10 advert_is fra ams "[f for t, f in d[('bandwidth', '')]] == [8000000000]" ||
		fail "fra: ams's link: $(adverts fra ams 'd')"
	advert_is fra ams "[f for t, f in d[('vcpu', 'compute')]] == [64]" || fail "fra: ams's vcpu"
	poll 10 advert_is fra ams "[f for t, f in d[('bandwidth', 'lon')]] == [8000000000]" ||
		fail "fra: transit to lon: $(adverts fra ams 'd')"
	# a lease in the future shows as a dip over its interval
	id=$(request fra --peer ams --resource bandwidth --quantity 3G --start +1h --duration 2h)
	poll 10 state_is fra "$id" reserved || fail "lease not reserved"
	st=$(ctl fra -j show leases | jq_py "[l['start_s'] for l in d if l['id']=='$id'][0]")
	poll 10 advert_is fra ams \
		"d[('bandwidth', '')][1:] == [($st, 5000000000), ($st + 7200, 8000000000)]" ||
		fail "fra: ams's link after a 3G lease at $st: $(adverts fra ams 'd')"
	# a booking at lon on its link to ams reaches fra through ams
	id2=$(request ams --peer lon --resource bandwidth --quantity 2G --start +2h --duration 1h)
	poll 10 state_is ams "$id2" reserved || fail "ams<-lon not reserved"
	st2=$(ctl ams -j show leases | jq_py "[l['start_s'] for l in d if l['id']=='$id2'][0]")
	poll 10 advert_is fra ams \
		"d[('bandwidth', 'lon')][1:] == [($st2, 6000000000), ($st2 + 3600, 8000000000)]" ||
		fail "fra: transit to lon after 2G at lon: $(adverts fra ams 'd')"
	ctl fra show capacity ams >"$T/cap.txt"
	grep -Eq '^ams +bandwidth +lon ' "$T/cap.txt" || fail "show capacity table: $(cat "$T/cap.txt")"
	ctl fra show capacity nowhere >/dev/null 2>&1
	[ $? -eq 1 ] || fail "show capacity of an unknown peer not refused"
	# lon goes away: ams withdraws the transit advert (nothing free onward to lon)
	[ -n "${SHOW:-}" ] && cat "$T/cap.txt" >&2
	stop lon
	poll 15 advert_is fra ams "[f for t, f in d[('bandwidth', 'lon')]] == [0]" ||
		fail "fra: transit to lon not withdrawn: $(adverts fra ams 'd')"
	# and ams's own adverts stop counting once its session is down
	stop ams
	poll 15 eval '[ "$(ctl fra -j show capacity | jq_py "len(d)")" = 0 ]' ||
		fail "fra keeps adverts of a peer without a session"
	;;
wait)
	# lease request --wait returns once the lease is reserved, or refused, or -t runs out.
	region fra 9s ams
	region ams 9s fra
	start fra
	start ams
	poll 15 established fra ams || fail "not established"
	ctl fra -j lease request --peer ams --resource bandwidth --quantity 1G --start +1h \
		--duration 1h --wait >"$T/w1.json" || fail "--wait failed: $(cat "$T/w1.json")"
	[ "$(jq_py "d['state']" <"$T/w1.json")" = reserved ] ||
		fail "--wait returned $(jq_py "d['state']" <"$T/w1.json")"
	ctl fra lease request --peer ams --resource bandwidth --quantity 1G --start +1h \
		--duration 1h --wait >"$T/w1.txt" || fail "--wait (text) failed"
	grep -q ': reserved, 1G of ams:bandwidth leased' "$T/w1.txt" || fail "text: $(cat "$T/w1.txt")"
	ctl fra lease request --peer ams --resource bandwidth --quantity 9G --start +1h \
		--duration 1h --wait >/dev/null 2>"$T/w2.err"
	[ $? -eq 1 ] || fail "--wait on a refused lease did not exit 1"
	grep -q 'failed (no_capacity)' "$T/w2.err" || fail "refusal not named: $(cat "$T/w2.err")"
	# the provider is away: --wait gives up at -t and the lease stays pending
	stop ams
	poll 15 eval '! established fra ams' || fail "fra still established"
	t0=$SECONDS
	ctl fra -t 2 -j lease request --peer ams --resource bandwidth --quantity 1G --start +1h \
		--duration 1h --wait >"$T/w3.json" 2>"$T/w3.err"
	[ $? -eq 1 ] || fail "--wait without the provider did not exit 1"
	[ $((SECONDS - t0)) -le 5 ] || fail "--wait -t 2 took $((SECONDS - t0)) s"
	grep -q 'gave up waiting after 2 s' "$T/w3.err" || fail "give-up not said: $(cat "$T/w3.err")"
	id=$(jq_py "d['id']" <"$T/w3.json")
	[ "$(ctl fra -j show lease "$id" | jq_py "d['state']")" = checking ] || fail "not checking"
	# the provider returns: the request is repeated after resynchronisation
	start ams
	ctl fra -t 30 show lease "$id" --wait >"$T/w4.txt" || fail "show lease --wait: $(cat "$T/w4.txt")"
	grep -q ': reserved' "$T/w4.txt" || fail "show lease --wait: $(cat "$T/w4.txt")"
	[ -n "${SHOW:-}" ] && cat "$T/w1.txt" "$T/w2.err" "$T/w3.err" "$T/w4.txt" >&2
	ctl fra show lease 00000000000000000000000000000001 >/dev/null 2>&1
	[ $? -eq 1 ] || fail "unknown lease not refused"
	;;
crash-commit)
	# The requester dies after its LEASE_COMMIT left and before its own bookkeeping commit
	# (fault injection: TIDAL_PEERING_FAULT makes tidald SIGKILL itself at that moment). The
	# provider commits and acknowledges into the void; the requester restarts with the lease
	# still `checking` in its database and resynchronisation makes it reserved, once.
	region fra 9s ams
	region ams 9s fra
	export TIDAL_PEERING_FAULT=crash-after-commit
	start fra
	unset TIDAL_PEERING_FAULT
	start ams
	poll 15 established fra ams || fail "not established"
	id=$(request fra --peer ams --resource bandwidth --quantity 700M --start +1h --duration 1h)
	[ -n "$id" ] || fail "lease request gave no id"
	dead() { ! kill -0 "${PID[fra]}" 2>/dev/null; }
	poll 10 dead || fail "fra did not die at the fault point"
	wait "${PID[fra]}" 2>/dev/null
	st=$?
	[ $st -eq 137 ] || fail "fra ended with status $st, not by SIGKILL"
	PID[fra]=
	grep -q 'crash-after-commit: killing this process' "$T/fra.log" || fail "fault point not reached"
	poll 10 state_is ams "$id" reserved || fail "ams did not commit the lease ($(lease_state ams "$id"))"
	db_state() { # db_state REGION ID: the lease's state in the region's database file
		python3 - "$T/$1/ledger.sqlite" "$2" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
row = db.execute("SELECT state FROM leases WHERE lower(hex(id)) = ?", (sys.argv[2],)).fetchone()
print(row[0] if row else "none")
PY
	}
	[ "$(db_state fra "$id")" = checking ] ||
		fail "fra's database has the lease $(db_state fra "$id"), expected checking (bookkeeping not written)"
	start fra
	poll 15 established fra ams || fail "no session after the restart"
	poll 10 state_is fra "$id" reserved || fail "fra did not adopt reserved ($(lease_state fra "$id"))"
	state_is ams "$id" reserved || fail "ams: lease no longer reserved"
	peak=$(ctl ams -j show ledger link.ams-fra | jq_py "d['peak']")
	[ "$peak" = 700000000 ] || fail "ams books $peak, expected 700M once"
	[ "$(ctl fra -j show leases --all | jq_py "len(d)")" = 1 ] || fail "fra has extra leases"
	poll 5 eval '[ "$(db_state fra "$id")" = reserved ]' || fail "fra's record not written"
	;;
reload)
	# Peers added and removed by a reload; a removed peer hears Cease / Peer De-configured.
	region fra 9s ams
	region ams 9s fra lon
	region lon 9s fra ams
	start fra
	start ams
	start lon
	poll 15 established fra ams || fail "fra-ams not established"
	established fra lon && fail "fra peers with lon before it is configured"
	region fra 9s ams lon
	ctl fra reload >/dev/null || fail "reload with lon refused"
	poll 15 established fra lon || fail "lon not established after the reload"
	established fra ams || fail "ams lost by a reload that kept it"
	region fra 9s lon
	ctl fra reload >/dev/null || fail "reload without ams refused"
	poll 10 grep -q 'received NOTIFICATION 6/2 Cease / Peer De-configured' "$T/ams.log" ||
		fail "ams not told it was de-configured"
	[ "$(ctl fra -j show peers | jq_py "sorted(p['peer'] for p in d)")" = "['lon']" ] ||
		fail "show peers after removing ams: $(ctl fra show peers)"
	established fra lon || fail "lon lost by the second reload"
	;;
nocert)
	# A missing certificate keeps the region running without peering; a reload with the
	# certificate in place starts it.
	CERT[fra]=missing
	region fra 9s ams
	region ams 9s fra
	start fra
	start ams
	ctl fra show peers | grep -q 'peering not running' || fail "show peers: $(ctl fra show peers)"
	ctl fra lease request --peer ams --resource bandwidth --quantity 1G --duration 1h \
		>/dev/null 2>&1
	[ $? -eq 1 ] || fail "lease request without peering not refused"
	[ "$(metric fra 'tidal_peer_up{peer="ams"}')" = 0 ] || fail "tidal_peer_up not 0"
	cp "$T/pki/fra.crt" "$T/pki/missing.crt"
	cp "$T/pki/fra.key" "$T/pki/missing.key"
	ctl fra reload >/dev/null || fail "reload refused"
	poll 15 established fra ams || fail "no session after the reload"
	id=$(request fra --peer ams --resource bandwidth --quantity 1G --start +1h --duration 1h)
	poll 10 state_is ams "$id" reserved || fail "lease not reserved after the reload"
	;;
*)
	echo "unknown case $case_name" >&2
	exit 2
	;;
esac
# Clean shutdown of every daemon still running, and no sanitizer report anywhere.
for r in "${!PID[@]}"; do
	[ -n "${PID[$r]}" ] && stop "$r"
done
if grep -l 'Sanitizer\|runtime error:' "$T"/*.log 2>/dev/null; then
	fail "sanitizer report in the logs above"
fi
echo "PASS: $case_name"
