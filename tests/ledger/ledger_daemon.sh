#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The ledger module in a real tidald: the database is created in state_dir, `show ledger`
# answers (text and JSON steps), leases written while the daemon was down are rebuilt at
# start (the expired hold freed, the active lease re-provisioned), and the metrics
# tidal_leases{state} / tidal_ledger_booked{resource} pass promtool.
# Uses the control suite's helpers (private folder, config, start/stop, polling, cleanup).
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

[link.tst-ams]
capacity = 10G
reservable = 8G

[pool.compute]
vcpu = 16
memory = 64GiB
INI
start_tidald
DB="$T/state/ledger.sqlite"
[ -f "$DB" ] || fail "no $DB after start"

expect_rc 0 ctl -j show ledger tst-ams
[ "$(json_get 'd["resource"], d["capacity"], len(d["steps"]), d["steps"][0]["booked"]' \
	<"$T/out")" = "link.tst-ams 8000000000 1 0" ] || fail "empty ledger: $(cat "$T/out")"
expect_rc 0 ctl show ledger link.tst-ams
grep -q "reservable 8" "$T/out" || fail "show ledger text: $(cat "$T/out")"
expect_rc 0 ctl -j show ledger pool.compute.memory
[ "$(json_get 'd["kind"], d["unit"], d["capacity"]' <"$T/out")" = "memory bytes 68719476736" ] ||
	fail "memory pool: $(cat "$T/out")"
expect_rc 1 ctl show ledger nowhere
grep -q "link.tst-ams" "$T/err" || fail "unknown resource should list the known ones: $(cat "$T/err")"
stop_tidald || fail "tidald did not stop cleanly"

# While the daemon is down: an active lease, a hold that runs out, a reserved lease.
now=$(date +%s)
sqlite3 "$DB" <<SQL || fail "cannot write leases into $DB"
INSERT INTO leases VALUES (X'01000000000000000000000000000001', 1, 'tst', 'ams',
  'link.tst-ams', 'bandwidth', 2000000000, $((now - 60)), $((now + 3600)), 4, 4, '', 'video',
  'active', 'ok', 1, 0, $((now - 120)), $((now - 60)), NULL, '', NULL);
INSERT INTO leases VALUES (X'01000000000000000000000000000002', 2, 'ams', 'tst',
  'link.tst-ams', 'bandwidth', 5000000000, $((now + 60)), $((now + 600)), 4, 4, '', '',
  'held', 'ok', 1, $((now - 10)), $((now - 40)), $((now - 40)), NULL, '', NULL);
INSERT INTO leases VALUES (X'01000000000000000000000000000003', 3, 'tst', 'tst',
  'link.tst-ams', 'bandwidth', 3000000000, $((now + 600)), $((now + 1200)), 4, 4, '', '',
  'reserved', 'ok', 1, 0, $((now - 30)), $((now - 30)), NULL, '', NULL);
SQL
start_tidald
grep -q "3 leases loaded, 1 active (re-provisioned), 1 holds expired" "$T/tidald.log" ||
	fail "restart report: $(grep ledger "$T/tidald.log")"

expect_rc 0 ctl -j show ledger tst-ams
python3 - "$now" "$T/out" <<'PY' || fail "steps after restart: $(cat "$T/out")"
import json, sys
now = int(sys.argv[1])
d = json.load(open(sys.argv[2]))
steps = [(s["start_s"], s["end_s"], s["booked"]) for s in d["steps"]]
# the first step starts at the daemon's now (a second or two after ours)
assert now <= steps[0][0] <= now + 30 and steps[0][1:] == (now + 600, 2000000000), steps
assert steps[1:] == [(now + 600, now + 1200, 5000000000), (now + 1200, now + 3600, 2000000000),
                     (now + 3600, None, 0)], steps
assert d["leases"] == 2 and d["booked_now"] == 2000000000 and d["peak"] == 5000000000, d
PY

expect_rc 0 ctl -j show status
[ "$(json_get 'd["ledger"]["live_leases"], d["ledger"]["resources"]' <"$T/out")" = "2 3" ] ||
	fail "show status ledger field: $(cat "$T/out")"

python3 - "$METRICS_PORT" >"$T/metrics.txt" <<'PY' || fail "GET /metrics failed"
import sys, urllib.request
sys.stdout.write(urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1],
                                        timeout=10).read().decode())
PY
promtool check metrics <"$T/metrics.txt" >"$T/promtool.out" 2>&1 ||
	fail "promtool check metrics: $(cat "$T/promtool.out")"
for want in 'tidal_leases{state="active"} 1' 'tidal_leases{state="reserved"} 1' \
	'tidal_leases{state="expired"} 1' 'tidal_leases{state="held"} 0' \
	'tidal_ledger_booked{resource="link.tst-ams"} 2000000000' \
	'tidal_ledger_capacity{resource="link.tst-ams"} 8000000000'; do
	grep -qxF "$want" "$T/metrics.txt" || fail "metrics: no line '$want'"
done
stop_tidald || fail "tidald did not stop cleanly"
# The expired hold is in the database too (SIGTERM closes the ledger cleanly).
[ "$(sqlite3 "$DB" "SELECT state, reason FROM leases WHERE seq = 2")" = "expired|hold_timeout" ] ||
	fail "hold not expired in the database"
echo "ok"
