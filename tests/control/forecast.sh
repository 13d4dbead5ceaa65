#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Forecast module and history ingest, end to end: a real tidald (backend none) on a
# generated config, histories made from the real traffic series in the shared data folder
# (read there, never copied), driven by the real tidalctl. One scenario per invocation.
# Needs TIDALD, TIDALCTL, TIDAL_SRC and TIDAL_SHARED_DATA (set by meson).
. "$(dirname "$0")/lib.sh"

scenario=${1:?scenario}
DATA=${TIDAL_SHARED_DATA:?}
HOUR=$(( $(date +%s) / 3600 * 3600 ))   # the history ends at the current hour
write_config "$T/tidal.ini"
cat >>"$T/tidal.ini" <<INI

[pool.compute]
vcpu = 64

[forecast]
sample_interval = 1m
bucket = 1h
horizon = 48h
seasons = 24h, 168h
quantiles = 0.5, 0.8, 0.95, 0.99
INI

# history NAME SOURCE HOURS [END] [SKIP]: ingest an hourly history ending at END (default HOUR)
history() {
	python3 "$TIDAL_SRC/tests/control/history_csv.py" "$DATA" "$2" "$3" "${4:-$HOUR}" \
		"$T/$1.csv" "${5:-0}" || fail "cannot make the history of $1 from $DATA"
	ctl ingest "$1" "$T/$1.csv" >"$T/out" 2>"$T/err" || fail "ingest $1: $(cat "$T/err")"
}

# run_round: ask for a round and wait until it is installed (show status counts rounds)
run_round() {
	ctl -j forecast run >"$T/run.json" || fail "forecast run"
	local want
	want=$(json_get 'd["round"]' <"$T/run.json")
	done_round() { [ "$(ctl -j show status | json_get 'd["forecast"]["rounds"]')" -ge "$want" ]; }
	POLL_TIMEOUT=${ROUND_TIMEOUT:-20} poll done_round || fail "round $want did not finish"
}

scrape() {
	python3 -c "import urllib.request as u; print(u.urlopen('http://127.0.0.1:$METRICS_PORT/metrics', timeout=30).read().decode())" \
		>"$T/metrics.txt" || fail "GET /metrics"
	promtool check metrics <"$T/metrics.txt" >"$T/promtool.out" 2>&1 ||
		fail "promtool check metrics: $(cat "$T/promtool.out")"
}

case $scenario in
forecast)
	start_tidald
	history video cortez-eu 504                 # three weeks of link A
	history ext.cesnet cesnet 672 "$HOUR" 24    # four weeks of the CESNET host, an external series
	history ext.short cortez-eu 30              # less than two days: too short
	history ext.old cortez-eu 200 $(( HOUR - 72 * 3600 ))  # ended before the horizon: stale
	expect_rc 1 ctl show forecast backup        # no history: reported, not an error of the daemon
	grep -q "no forecast for backup yet: it has no history" "$T/err" || fail "backup: $(cat "$T/err")"
	run_round
	expect_rc 0 ctl -j show forecast video
	python3 - "$T/out" "$T/video.csv" "$HOUR" <<'PY' || fail "video forecast: $(head -c 3000 "$T/out")"
import json, sys, statistics
d = json.load(open(sys.argv[1]))
hist = [float(l.split(",")[1]) for l in open(sys.argv[2]).read().split("\n")[1:] if l]
hour = int(sys.argv[3])
assert d["series"] == "video" and d["unit"] == "bps", d["series"]
assert d["horizon_steps"] == 48 and len(d["steps"]) == 48 and d["step_s"] == 3600, d["horizon_steps"]
assert d["history"]["buckets"] == 504, d["history"]
assert d["history"]["periods"] == [24, 168], d["history"]["periods"]
assert d["model"] and d["state"] == "ok"
assert isinstance(d["calibrated"], bool)
# the model chosen is a selected candidate (a combination also marks its members)
assert d["model"] in [c["model"] for c in d["candidates"] if c["selected"]], d["candidates"]
assert len(d["candidates"]) >= 2
for c in d["candidates"]:
    assert c["status"] != "ok" or c["cv_mase"] > 0, c
levels = d["levels"]
assert levels == sorted(levels) and {0.05, 0.5, 0.8, 0.95, 0.99} <= set(levels), levels
# the first step starts where the history ends
import datetime
origin = int(datetime.datetime.strptime(d["origin"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp())
assert origin == hour, (d["origin"], hour)
assert d["steps"][0]["time"] == d["origin"] and d["steps"][1]["step"] == 2
for s in d["steps"]:
    q = [s["q%g" % l] for l in levels]
    assert all(a <= b + 1e-6 * abs(b) for a, b in zip(q, q[1:])), ("quantiles cross", s)
    assert abs(s["point"] - s["q0.5"]) <= 1e-9 * abs(s["q0.5"]) + 1e-9, s
# plausible: the forecast's level is that of the last week of history, give or take
week = statistics.mean(hist[-168:])
fc = statistics.mean(s["point"] for s in d["steps"])
assert 0.5 * week < fc < 2 * week, (fc, week)
assert max(s["q0.99"] for s in d["steps"]) < 5 * max(hist), "q0.99 far above anything seen"
assert min(s["q0.05"] for s in d["steps"]) >= 0, "a rate forecast below zero"
PY
	expect_rc 1 ctl show forecast ext.short
	grep -q "too little history: 30h of the 48h needed (two cycles of the shortest season, 24h)" \
		"$T/err" || fail "short series: $(cat "$T/err")"
	expect_rc 1 ctl show forecast ext.old
	grep -q "its last value is from .*, more than the horizon (48h) ago" "$T/err" ||
		fail "stale series: $(cat "$T/err")"
	grep -q "forecast: ext.short: too little history" "$T/tidald.log" || fail "short series not logged"
	# --horizon trims the steps shown; the text names the model and the candidates
	expect_rc 0 ctl show forecast video --horizon 24h
	grep -q "^model: " "$T/out" || fail "no model line: $(head "$T/out")"
	grep -q "^\* " "$T/out" || fail "no selected candidate marked: $(cat "$T/out")"
	[ "$(grep -c '^ *[0-9][0-9]* *[0-9-]*T[0-9:]*Z ' "$T/out")" -eq 24 ] ||
		fail "--horizon 24h did not show 24 steps: $(cat "$T/out")"
	expect_rc 2 ctl show forecast video --horizon 100h
	grep -q "beyond the forecast's 48h" "$T/err" || fail "--horizon 100h: $(cat "$T/err")"
	expect_rc 2 ctl show forecast video --horizon soon
	expect_rc 1 ctl show forecast nosuch
	grep -q "unknown class 'nosuch'; series tidald knows: video, backup, pool.compute.vcpu, pool.compute.memory, pool.compute.storage, ext" "$T/err" ||
		fail "unknown class: $(cat "$T/err")"
	expect_rc 1 ctl show forecast pool.compute.memory
	grep -q "no history" "$T/err" || fail "pool without history: $(cat "$T/err")"
	# an external series is forecast too, in its own unit
	expect_rc 0 ctl -j show forecast ext.cesnet
	[ "$(json_get 'd["unit"], d["horizon_steps"]' <"$T/out")" = "series 48" ] ||
		fail "ext.cesnet: $(head -c 500 "$T/out")"
	# metrics
	scrape
	for h in 1h 24h 48h; do
		grep -Eq "^tidal_forecast_demand_bps\{class=\"video\",quantile=\"0.95\",horizon=\"$h\"\} [0-9.e+]+$" \
			"$T/metrics.txt" || fail "no video q0.95 at $h: $(grep demand_bps "$T/metrics.txt")"
	done
	grep -q '^tidal_forecast_demand{series="ext.cesnet",quantile="0.5",horizon="24h"} ' "$T/metrics.txt" ||
		fail "no ext.cesnet forecast metric"
	! grep -q 'class="backup"' "$T/metrics.txt" || fail "backup has no forecast but a metric"
	grep -Eq '^tidal_forecast_rounds_total\{result="ok"\} [2-9]' "$T/metrics.txt" ||
		fail "rounds: $(grep rounds_total "$T/metrics.txt")"
	grep -q '^tidal_forecast_series{state="no_history"} 4$' "$T/metrics.txt" ||
		fail "backup and the pool's three series without history: $(grep forecast_series "$T/metrics.txt")"
	grep -q '^tidal_forecast_series{state="too_short"} 1$' "$T/metrics.txt" || fail "too_short count"
	grep -q '^tidal_forecast_series{state="stale"} 1$' "$T/metrics.txt" || fail "stale count"
	grep -Eq '^tidal_forecast_seconds [0-9.e+-]+$' "$T/metrics.txt" || fail "tidal_forecast_seconds"
	# two requests at once: the second rides on the next round (queued while one runs)
	python3 - "$SOCK" >"$T/runs" <<'PY' || fail "forecast run twice"
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rwb")
for _ in range(2):
    f.write(b'{"cmd": "forecast run"}\n'); f.flush()
r = [json.loads(f.readline()) for _ in range(2)]
assert all(x["ok"] for x in r), r
a, b = r[0]["data"], r[1]["data"]
# (a scheduled round may have started just before: then both wait for the same one)
assert b["queued"] and (b["round"] == a["round"] + 1 or a["queued"] and b["round"] == a["round"]), (a, b)
print(b["round"])
PY
	want=$(cat "$T/runs")
	rounds_done() { [ "$(ctl -j show status | json_get 'd["forecast"]["rounds"]')" -ge "$want" ]; }
	poll rounds_done || fail "the queued round $want did not run"
	# the metric is the step that ends 24h after the origin
	want=$(ctl -j show forecast video | json_get '"%.6g" % d["steps"][23]["q0.95"]')
	got=$(sed -n 's/^tidal_forecast_demand_bps{class="video",quantile="0.95",horizon="24h"} //p' "$T/metrics.txt")
	[ "$(python3 -c "print('%.6g' % $got)")" = "$want" ] || fail "metric $got, forecast $want"
	;;

events)
	start_tidald
	history video cortez-eu 504
	run_round
	ctl -j show forecast video >"$T/before.json" || fail "no forecast"
	S=$(json_get 'd["steps"][5]["time"]' <"$T/before.json")
	E=$(json_get 'd["steps"][11]["time"]' <"$T/before.json")
	expect_rc 0 ctl event add promo --start "$S" --end "$E" --multiplier 2 --apps video
	grep -q "event promo added" "$T/out" || fail "event add reply: $(cat "$T/out")"
	run_round
	ctl -j show forecast video >"$T/after.json" || fail "no forecast after the event"
	python3 - "$T/before.json" "$T/after.json" <<'PY' || fail "event x2 not applied as expected"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert a["origin"] == b["origin"] and a["model"] == b["model"], (a["origin"], b["origin"])
for x, y in zip(a["steps"], b["steps"]):
    f = 2.0 if 6 <= x["step"] <= 11 else 1.0
    for k in ["point"] + ["q%g" % l for l in a["levels"]]:
        assert abs(y[k] - f * x[k]) <= 1e-9 * abs(f * x[k]) + 1e-6, (x["step"], k, x[k], y[k])
adj = b["adjustments"]
assert len(adj) == 1 and adj[0]["event"] == "promo" and adj[0]["first_step"] == 6 \
    and adj[0]["steps"] == 6 and adj[0]["multiplier"] == 2 and not adj[0]["learned"], adj
assert b["event_factor_max"] == 2 and a["event_factor_max"] == 1
PY
	ctl show forecast video | grep -q "^event promo: x2 (given), steps 6-11" || fail "event not shown"
	# an event of every app (no --apps) and one learned from past occurrences
	expect_rc 0 ctl event add sale --start +100d --end +101d
	grep -q "effect learned from past occurrences, all apps" "$T/out" || fail "sale: $(cat "$T/out")"
	# bad input: clear errors, exit 2 for usage, 1 for refusals; nothing saved
	expect_rc 2 ctl event add bad --start yesterday --end +1d
	grep -q "^tidalctl: --start 'yesterday': " "$T/err" || fail "bad --start: $(cat "$T/err")"
	expect_rc 2 ctl event add bad --start 2026-13-01T00:00:00Z --end +1d
	expect_rc 2 ctl event add bad --start +2d --end +1d
	grep -q "is not after --start" "$T/err" || fail "end before start: $(cat "$T/err")"
	expect_rc 2 ctl event add bad --start +1d --end +1d
	expect_rc 2 ctl event add bad --start +1d --end +2d --multiplier 0
	grep -q "above 0 and below 1000" "$T/err" || fail "multiplier 0: $(cat "$T/err")"
	expect_rc 2 ctl event add bad --start +1d --end +2d --multiplier lots
	expect_rc 2 ctl event add bad --start +1d --end +2d --apps video,nosuch
	grep -q "no app or series 'nosuch'" "$T/err" || fail "unknown app: $(cat "$T/err")"
	expect_rc 2 ctl event add Bad_Name --start +1d --end +2d
	expect_rc 2 ctl event add bad --start +1d --end +400d
	expect_rc 1 ctl event add promo --start "$S" --end +1d
	grep -q "overlaps it; remove that one first" "$T/err" || fail "overlap: $(cat "$T/err")"
	expect_rc 2 ctl event add bad --start +1d
	[ "$(ctl -j show events | json_get 'len(d)')" = 2 ] || fail "a refused event was kept"
	# persistence: events.json survives a restart
	python3 -c "import json; d=json.load(open('$T/state/events.json')); assert [e['name'] for e in d['events']] == ['promo', 'sale'], d" ||
		fail "events.json: $(cat "$T/state/events.json")"
	stop_tidald || fail "tidald exited non-zero"
	start_tidald
	expect_rc 0 ctl -j show events
	[ "$(json_get '[(e["name"], e["source"], e["multiplier"], e["apps"]) for e in d]' <"$T/out")" = \
		"[('promo', 'runtime', 2.0, ['video']), ('sale', 'runtime', None, [])]" ] ||
		fail "events after restart: $(cat "$T/out")"
	run_round
	ctl -j show forecast video | json_get '[a["event"] for a in d["adjustments"]]' | grep -qx "\['promo'\]" ||
		fail "the restored event is not applied"
	# removal: runtime only
	expect_rc 1 ctl event remove nosuch
	grep -q "no runtime event nosuch" "$T/err" || fail "remove unknown: $(cat "$T/err")"
	expect_rc 0 ctl event remove sale
	[ "$(ctl -j show events | json_get '[e["name"] for e in d]')" = "['promo']" ] || fail "sale not removed"
	grep -q '"sale"' "$T/state/events.json" && fail "sale still in events.json"
	# a damaged events.json stops tidald with FILE:LINE:COL rather than losing events
	stop_tidald || fail "tidald exited non-zero"
	echo '{"version": 1, "events": [' >"$T/state/events.json"
	"$TIDALD" -c "$T/tidal.ini" >"$T/bad.log" 2>&1 && fail "tidald started with a damaged events.json"
	grep -q "$T/state/events.json:2:0: .*fix the file or move it away" "$T/bad.log" ||
		fail "damaged events.json: $(cat "$T/bad.log")"
	;;

config-events)
	# [event.*] sections are shown and applied; they cannot be removed at runtime
	cat >>"$T/tidal.ini" <<INI

[event.launch]
start = $(date -u -d "@$(( HOUR + 2 * 3600 ))" +%Y-%m-%dT%H:%M:%SZ)
end = $(date -u -d "@$(( HOUR + 5 * 3600 ))" +%Y-%m-%dT%H:%M:%SZ)
apps = video
multiplier = 1.5
INI
	start_tidald
	history video cortez-eu 504
	run_round
	expect_rc 0 ctl -j show forecast video
	[ "$(json_get '[(a["event"], a["first_step"], a["steps"], a["multiplier"]) for a in d["adjustments"]]' <"$T/out")" = \
		"[('launch', 3, 3, 1.5)]" ] || fail "config event: $(json_get 'd["adjustments"]' <"$T/out")"
	expect_rc 0 ctl show events
	grep -Eq "^launch +config +" "$T/out" || fail "show events: $(cat "$T/out")"
	expect_rc 1 ctl event remove launch
	grep -q "is in the config file" "$T/err" || fail "remove config event: $(cat "$T/err")"
	expect_rc 1 ctl event add launch --start "+3h" --end "+4h"
	grep -q "\[event.launch\] in the config already covers" "$T/err" || fail "$(cat "$T/err")"
	;;

graph)
	# Sanitizer tree: librrd has no frame pointers, so LeakSanitizer needs the slow unwinder
	# to see rrd_graph_v on the stacks lsan.supp names.
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0"
	start_tidald
	history video cortez-eu 504
	expect_rc 0 ctl graph video -o "$T/nofc.png"        # history only, before any round
	grep -q "no forecast yet" "$T/out" || fail "graph without forecast: $(cat "$T/out")"
	run_round
	# a reservation recorded beside the app's demand is drawn too
	python3 -c "
for i in range(168): print('%d,%d' % ($HOUR - (167 - i) * 3600, 30000000))" >"$T/rsv.csv"
	expect_rc 0 ctl ingest video.reserved "$T/rsv.csv"
	( cd "$T" && "$TIDALCTL" -s "$SOCK" -j graph video -o g.png --since 7d ) >"$T/out" 2>"$T/err" ||
		fail "graph: $(cat "$T/err")"
	[ "$(json_get 'd["file"] == "'"$T"'/g.png", d["forecast"], d["reserved"], d["history"]' <"$T/out")" = \
		"True True True True" ] || fail "graph reply: $(cat "$T/out")"
	python3 - "$T/g.png" "$T/nofc.png" <<'PY' || fail "not a valid PNG"
import struct, sys
for p in sys.argv[1:]:
    b = open(p, "rb").read()
    assert b[:8] == b"\x89PNG\r\n\x1a\n", "signature"
    assert b[12:16] == b"IHDR"
    w, h = struct.unpack(">II", b[16:24])
    assert w >= 900 and h >= 300, (w, h)
    assert len(b) > 8000, len(b)
    assert b[-8:-4] == b"IEND"
PY
	[ "$(json_get 'd["bytes"]' <"$T/out")" = "$(stat -c %s "$T/g.png")" ] || fail "size in the reply"
	# the forecast shown reaches the horizon
	end=$(json_get 'd["end"]' <"$T/out")
	[ "$end" = "$(date -u -d "@$(( HOUR + 48 * 3600 ))" +%Y-%m-%dT%H:%M:%SZ)" ] || fail "graph end $end"
	ls "$T/state" | grep -q '^graph\.' && fail "temporary folder left in state_dir"
	# refusals
	echo "keep me" >"$T/notes.txt"
	expect_rc 1 ctl graph video -o "$T/notes.txt"
	grep -q "is not a PNG" "$T/err" || fail "overwrite refusal: $(cat "$T/err")"
	[ "$(cat "$T/notes.txt")" = "keep me" ] || fail "a non-PNG file was overwritten"
	expect_rc 0 ctl graph video -o "$T/g.png" --since 3d    # an earlier graph may be replaced
	expect_rc 1 ctl graph nosuch -o "$T/x.png"
	grep -q "unknown class 'nosuch'" "$T/err" || fail "$(cat "$T/err")"
	expect_rc 1 ctl graph backup -o "$T/x.png"
	grep -q "no history and no forecast" "$T/err" || fail "$(cat "$T/err")"
	expect_rc 1 ctl graph video -o "$T/nodir/x.png"
	expect_rc 2 ctl graph video -o "$T/x.png" --since 10m
	expect_rc 2 ctl graph video
	stop_tidald || fail "tidald exited non-zero after drawing graphs (a leak in the sanitizer tree?)"
	;;

ingest)
	# The history module's ingest: append, older values before the first (rebuild keeps
	# both parts), overlap refused with the archive unchanged, bad lines as FILE:LINE.
	start_tidald
	L=$(( HOUR - 3600 ))      # part 2: 200 hours ending at L; part 1: 200 hours ending at A
	A=$(( L - 400 * 3600 ))
	fetch() { # fetch FROM TO: "t value" lines of the hourly averages in the archive
		rrdtool fetch "$T/state/rrd/video.rrd" AVERAGE -r 3600 -s "$1" -e "$2" |
			awk -F': ' '/^[0-9]+:/ && $2 !~ /nan/ { print $1, $2 }'
	}
	check_part() { # check_part CSV: every value of the file is in the archive
		python3 - "$1" "$T/fetched" <<'PY'
import sys
want = {int(t): float(v) for t, v in (l.split(",") for l in open(sys.argv[1]).read().split("\n")[1:] if l)}
got = {int(t): float(v) for t, v in (l.split() for l in open(sys.argv[2]) if l.strip())}
missing = [t for t in want if t not in got or abs(got[t] - want[t]) > 1e-6 * abs(want[t])]
assert not missing, "%d of %d values missing or changed, e.g. %s" % (len(missing), len(want), missing[:3])
PY
	}
	history video cortez-eu 200 "$L" 300
	cp "$T/video.csv" "$T/late.csv"
	grep -q "video: 200 values from" "$T/out" || fail "ingest reply: $(cat "$T/out")"
	# older values, entirely before the first: the archive is rebuilt with both parts
	history video cortez-eu 200 "$A" 100
	cp "$T/video.csv" "$T/early.csv"
	fetch $(( A - 300 * 3600 )) "$L" >"$T/fetched"
	check_part "$T/early.csv" || fail "the older part is not in the archive"
	check_part "$T/late.csv" || fail "the later part was lost by the rebuild"
	[ "$(wc -l <"$T/fetched")" -eq 400 ] || fail "expected 400 hourly values, got $(wc -l <"$T/fetched")"
	# append after the last value
	printf '%s,1000\n%s,2000\n%s,3000\n' $(( L + 600 )) $(( L + 1200 )) $(( L + 1800 )) >"$T/tail.csv"
	expect_rc 0 ctl ingest video "$T/tail.csv"
	[ "$(ctl -j show series | json_get '[(s["series"], s["last"]) for s in d]')" = \
		"[('video', '$(date -u -d "@$(( L + 1800 ))" +%Y-%m-%dT%H:%M:%SZ)')]" ] ||
		fail "show series after the append: $(ctl show series)"
	fetch $(( A - 300 * 3600 )) "$L" >"$T/fetched"
	check_part "$T/early.csv" && check_part "$T/late.csv" || fail "the append lost values"
	expect_rc 1 ctl ingest video "$T/tail.csv"   # the same values again: they overlap
	# overlap: refused, archive byte for byte unchanged
	sum=$(md5sum <"$T/state/rrd/video.rrd")
	python3 "$TIDAL_SRC/tests/control/history_csv.py" "$DATA" cortez-eu 100 $(( A + 50 * 3600 )) "$T/overlap.csv" 0
	expect_rc 1 ctl ingest video "$T/overlap.csv"
	grep -q "already has values from .*; ingest only values after" "$T/err" || fail "overlap: $(cat "$T/err")"
	[ "$(md5sum <"$T/state/rrd/video.rrd")" = "$sum" ] || fail "a refused ingest changed the archive"
	# bad lines: every one reported as FILE:LINE, nothing written (not even a new archive)
	printf '# a comment\ntime,value\n%s,1\n%s,x\nnot-a-time,3\n%s,4\n%s,5\n%s,6\n' \
		$(( HOUR - 7200 )) $(( HOUR - 3600 )) $(( HOUR - 3000 )) $(( HOUR - 4000 )) \
		$(( HOUR + 86400 )) >"$T/bad.csv"
	expect_rc 1 ctl ingest newseries "$T/bad.csv"
	for l in "4: value is not a finite number" "5: timestamp is neither" \
		"7: timestamp is not after the previous" "8: timestamp is in the future"; do
		grep -q "$T/bad.csv:$l" "$T/err" || fail "no '$l' in: $(cat "$T/err")"
	done
	grep -q "bad.csv:[36]:" "$T/err" && fail "good lines reported: $(cat "$T/err")"
	[ ! -e "$T/state/rrd/newseries.rrd" ] || fail "a refused ingest created an archive"
	expect_rc 1 ctl ingest video "$T/bad.csv"
	[ "$(md5sum <"$T/state/rrd/video.rrd")" = "$sum" ] || fail "a bad file changed the archive"
	expect_rc 2 ctl ingest 'bad/name' "$T/bad.csv"
	expect_rc 1 ctl ingest other "$T/none.csv"
	grep -q "none.csv: cannot open" "$T/err" || fail "missing file: $(cat "$T/err")"
	ls "$T/state/rrd" | grep -q '\.new$' && fail "temporary archive left behind"
	;;

*)
	fail "unknown scenario $scenario"
	;;
esac
echo "ok: $scenario"
