#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The alloc module on real forecasts (suite alloc): a tidald with histories made from the
# Cortez EU link series (shared data, never copied) for an app and a vCPU pool; a forecast
# round emits TIDALD_EV_FORECAST_UPDATED, the controller books each need (the SLO quantile
# of the forecast plus headroom, checked against `show forecast`), and the pool's lease is
# provisioned by the sample hook tools/hooks/pool-log, which gets the lease in its
# environment. Uses the control suite's helpers.
set -u
. "$TIDAL_SRC/tests/control/lib.sh"
DATA=${TIDAL_SHARED_DATA:?}
HOUR=$(( $(date +%s) / 3600 * 3600 ))
# In the last minute of an hour the round could land in the next one and the
# expected step moves; wait for the next hour rather than test a moving target.
[ $(( $(date +%s) - HOUR )) -lt 3540 ] || { sleep $(( HOUR + 3601 - $(date +%s) )); HOUR=$(( $(date +%s) / 3600 * 3600 )); }

write_config "$T/tidal.ini"
cat >>"$T/tidal.ini" <<INI

[pool.compute]
vcpu = 64
provision_hook = $TIDAL_SRC/tools/hooks/pool-log
lead_time = 30s

[forecast]
sample_interval = 1m
bucket = 1h
horizon = 48h
seasons = 24h, 168h
quantiles = 0.5, 0.8, 0.95, 0.99
INI
# Bookings take effect at once (no lead) so that `show apps` sees them.
sed -i 's/^reservable = 8G$/reservable = 8G\nlead_time = 0s/' "$T/tidal.ini"
export TIDAL_HOOK_LOG="$T/pool-hooks.log"
start_tidald

python3 "$TIDAL_SRC/tests/control/history_csv.py" "$DATA" cortez-eu 504 "$HOUR" "$T/link.csv" 0 ||
	fail "cannot make the history from $DATA"
# The link's shape (10..40 Mbit/s) scaled to the app (1..4 Gbit/s) and to vCPUs (10..40).
awk -F, 'NR == 1 { print; next } { printf "%s,%.0f\n", $1, $2 * 100 }' "$T/link.csv" >"$T/video.csv"
awk -F, 'NR == 1 { print; next } { printf "%s,%.3f\n", $1, $2 / 1e6 }' "$T/link.csv" >"$T/vcpu.csv"
ctl ingest video "$T/video.csv" >/dev/null 2>"$T/err" || fail "ingest video: $(cat "$T/err")"
ctl ingest pool.compute.vcpu "$T/vcpu.csv" >/dev/null 2>"$T/err" || fail "ingest vcpu: $(cat "$T/err")"

ctl -j forecast run >"$T/run.json" || fail "forecast run"
want=$(json_get 'd["round"]' <"$T/run.json")
done_round() { [ "$(ctl -j show status | json_get 'd["forecast"]["rounds"]')" -ge "$want" ]; }
POLL_TIMEOUT=60 poll done_round || fail "round $want did not finish"
# The cycle runs when the round is installed.
from_forecast() { ctl -j show decisions --app video | json_get '[x for x in d if "p95" in x["reason"]][0]'; }
POLL_TIMEOUT=20 poll from_forecast || fail "video never booked from its forecast: $(ctl show decisions)"

expect_rc 0 ctl -j show apps
json_get 'd[0]["need_bps"]' <"$T/out" >"$T/need"
expect_rc 0 ctl -j show forecast video
python3 - "$T/out" "$(cat "$T/need")" "$HOUR" <<'PY' || fail "video's need does not follow its forecast"
import json, sys
d = json.load(open(sys.argv[1]))
need, hour = float(sys.argv[2]), int(sys.argv[3])
steps = d["steps"]
# the first block decided is the current hour: step 1 of the forecast (origin = this hour)
want = steps[0]["q0.95"] * 1.10
want = min(max(want, 100e6), 5e9)   # video's min_rate and max_rate
assert abs(need - want) <= 1e-6 * want + 1, (need, want)
print("video need %.0f = 1.1 x q0.95 %.0f" % (need, steps[0]["q0.95"]))
PY

expect_rc 0 ctl -j show decisions
python3 - "$T/out" <<'PY' || fail "decisions: $(ctl show decisions)"
import json, sys
d = json.load(open(sys.argv[1]))
req = [x for x in d if x["action"] == "request"]
video = [x for x in req if x["app"] == "video" and "p95" in x["reason"]]
pool = [x for x in req if x["app"] == "pool.compute.vcpu" and "p95" in x["reason"]]
assert video and pool, [(x["action"], x["app"]) for x in d]
assert "p95" in video[0]["reason"] and "+10% headroom" in video[0]["reason"], video[0]["reason"]
assert video[0]["resource"] == "link.tst-ams" and video[0]["result"].startswith("booked")
assert pool[0]["resource"] == "pool.compute.vcpu" and pool[0]["unit"] == "vcpu"
assert 1 <= pool[0]["quantity"] <= 64, pool[0]
assert "lead 30s" in pool[0]["reason"], pool[0]["reason"]
PY

# The pool lease is provisioned by the hook, out of the event loop.
hooked() { grep -q " provision lease=[0-9a-f]\{32\} resource=pool.compute.vcpu quantity=[0-9]* vcpu " "$T/pool-hooks.log"; }
POLL_TIMEOUT=20 poll hooked || fail "the hook did not provision: $(cat "$T/pool-hooks.log" 2>&1)"
hook_ok() { ctl -j show decisions | json_get '[x for x in d if x["action"] == "hook" and x["result"] == "provision: exit 0 (ok)"][0]'; }
POLL_TIMEOUT=20 poll hook_ok || fail "no hook decision: $(ctl show decisions)"
stop_tidald || fail "tidald did not stop cleanly"
echo ok
