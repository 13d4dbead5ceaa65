#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The alloc module in a real tidald (suite alloc): `tidalctl alloc run` books each app's
# need on its peer's link in the ledger (min_rate here: this tidald has no forecast module),
# strict priority leaves the low-priority app short and says so, a second cycle changes
# nothing, `show decisions` explains every action, `show apps` shows need and reserved
# rate, tidal_reserved_bps passes promtool, and leases survive a restart without being
# booked twice. Uses the control suite's helpers (private folder, start/stop, cleanup).
set -u
. "$TIDAL_SRC/tests/control/lib.sh"

cat >"$T/tidal.ini" <<INI
[region]
name = tst
asn = 65010
state_dir = $T/state

[control]
socket = $SOCK
metrics_listen = 127.0.0.1:$METRICS_PORT
log_level = info

[peering]
listen = 127.0.0.1:$PEERING_PORT
certificate = $T/pki/tst.crt
private_key = $T/pki/tst.key
ca = $T/pki/ca.crt
lease_lead_time = 10m

[peer.ams]
address = 127.0.0.1:7179
link = tst-ams

[peer.lon]
address = 127.0.0.1:7180
link = tst-lon

[link.tst-ams]
capacity = 10G
reservable = 8G
lead_time = 0s

[link.tst-lon]
capacity = 10G
lead_time = 0s

[forecast]
bucket = 1h

[app.video]
match = dst 198.51.100.0/24, dscp af41
priority = 1
min_rate = 3G
peer = ams

[app.bulk]
match = dst 203.0.113.0/24
priority = 6
min_rate = 6G
peer = ams

[app.backup]
match = dst 192.0.2.0/24
priority = 4
min_rate = 2G
peer = lon
INI
start_tidald

# The forecast module's first round (no history yet: no forecasts) may already have run a
# cycle; `alloc run` runs one more. Either way the needs are booked once.
expect_rc 0 ctl alloc run
grep -Eq "controller cycle: 3 classes, 2 resources, [0-9]+ leases held: [0-9]+ requests, 0 releases" "$T/out" ||
	fail "first cycle: $(cat "$T/out")"

expect_rc 0 ctl -j show decisions
json_get '[(x["action"], x["app"], x["resource"], x["quantity"], x["result"][:6]) for x in d]' \
	<"$T/out" >"$T/dec"
for want in "('request', 'video', 'link.tst-ams', 3000000000, 'booked')" \
	"('request', 'bulk', 'link.tst-ams', 5000000000, 'booked')" \
	"('request', 'backup', 'link.tst-lon', 2000000000, 'booked')" \
	"('short', 'bulk', '', 1000000000, 'short')"; do
	grep -qF "$want" "$T/dec" || fail "decision $want missing: $(cat "$T/dec")"
done
json_get '[x["reason"] for x in d if x["app"] == "bulk" and x["action"] == "request"][0]' \
	<"$T/out" >"$T/why"
grep -q "no forecast or measurement: min_rate" "$T/why" &&
	grep -q "link.tst-ams full: weighted fair share" "$T/why" ||
	fail "bulk's reason: $(cat "$T/why")"
expect_rc 0 ctl show decisions --app video
grep -Eq "request +video +link.tst-ams +3G" "$T/out" || fail "decisions table: $(cat "$T/out")"
grep -q bulk "$T/out" && fail "--app video shows bulk: $(cat "$T/out")"
expect_rc 2 ctl show decisions --last 0

expect_rc 0 ctl -j show apps
[ "$(json_get '[(a["app"], a["reserved_bps"], a["need_bps"]) for a in d]' <"$T/out")" = \
	"[('video', 3000000000.0, 3000000000.0), ('bulk', 5000000000.0, 6000000000.0), ('backup', 2000000000.0, 2000000000.0)]" ] ||
	fail "show apps JSON: $(cat "$T/out")"
expect_rc 0 ctl show apps
grep -Eq "^video .* - +3.00G +3.00G *$" "$T/out" || fail "show apps text: $(cat "$T/out")"

expect_rc 0 ctl -j show ledger tst-ams
[ "$(json_get 'd["steps"][0]["booked"]' <"$T/out")" = 8000000000 ] ||
	fail "ledger tst-ams: $(cat "$T/out")"

# Nothing changed: a second cycle books nothing more.
expect_rc 0 ctl alloc run
grep -q " 0 requests, 0 releases" "$T/out" || fail "second cycle: $(cat "$T/out")"

# Metrics.
curl_metrics() { python3 -c "import urllib.request,sys; sys.stdout.write(urllib.request.urlopen('http://127.0.0.1:$METRICS_PORT/metrics').read().decode())"; }
curl_metrics >"$T/metrics" || fail "no /metrics"
grep -q '^tidal_reserved_bps{class="video"} 3e+09$\|^tidal_reserved_bps{class="video"} 3000000000$' "$T/metrics" ||
	fail "tidal_reserved_bps: $(grep reserved "$T/metrics")"
grep -Eq '^tidal_alloc_cycles_total\{result="ok"\} [2-9]$' "$T/metrics" || fail "cycles metric"
if command -v promtool >/dev/null; then
	promtool check metrics <"$T/metrics" >"$T/promtool" 2>&1 || fail "promtool: $(cat "$T/promtool")"
fi

# Restart: the leases are in the ledger; the controller counts them and books nothing twice.
stop_tidald || fail "tidald did not stop cleanly"
start_tidald
expect_rc 0 ctl alloc run
grep -Eq "(3|6) leases held: 0 requests, 0 releases" "$T/out" || fail "after restart: $(cat "$T/out")"
expect_rc 0 ctl -j show apps
[ "$(json_get '[a["reserved_bps"] for a in d]' <"$T/out")" = "[3000000000.0, 5000000000.0, 2000000000.0]" ] ||
	fail "reserved after restart: $(cat "$T/out")"
stop_tidald || fail "tidald did not stop cleanly"
echo ok
