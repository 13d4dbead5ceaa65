#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# cli_test: tidal-forecast end to end: wide (quoted, ragged) and long input, output columns,
# JSON, malformed rows reported as FILE:LINE while the other series are still forecast,
# usage errors, and --backtest on the first M4 Hourly series from the shared data.
#
#   cli_test.sh TIDAL_FORECAST SHARED_DATA
set -uo pipefail
tf=$1
data=$2
tmp=$(mktemp -d /tmp/tdlfc-cli.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() {
	echo "FAIL: $*" >&2
	fails=$((fails + 1))
}

# --- wide input: two good series (one quoted, ragged), one malformed row -------------------
python3 - "$tmp/wide.csv" <<'PY'
import math, sys
with open(sys.argv[1], "w") as f:
    f.write('"V1","V2","V3"\n')
    a = [100 + 30 * math.sin(2 * math.pi * t / 24) for t in range(24 * 10)]
    b = [50 + 10 * math.cos(2 * math.pi * t / 24) + (t % 5) for t in range(24 * 9)]
    f.write('"A",' + ",".join('"%g"' % v for v in a) + "\n")
    f.write("B," + ",".join("%g" % v for v in b) + ",,,\n")
    f.write("C,1,2,oops,4\n")
PY
"$tf" -i "$tmp/wide.csv" --horizon 24 --period 24 --quantiles 0.1,0.5,0.9 \
	-o "$tmp/out.csv" 2>"$tmp/err.txt"
rc=$?
[ "$rc" -eq 1 ] || fail "malformed row: exit $rc, expected 1"
grep -q "wide.csv:4: series C, field 4: \"oops\" is not a number" "$tmp/err.txt" ||
	fail "no FILE:LINE message for the malformed row: $(cat "$tmp/err.txt")"
[ "$(head -1 "$tmp/out.csv")" = "id,step,point,q0.1,q0.5,q0.9" ] ||
	fail "header: $(head -1 "$tmp/out.csv")"
[ "$(grep -c '^A,' "$tmp/out.csv")" -eq 24 ] || fail "series A: not 24 rows"
[ "$(grep -c '^B,' "$tmp/out.csv")" -eq 24 ] || fail "series B: not 24 rows"
grep -q '^C,' "$tmp/out.csv" && fail "series C was forecast from a malformed row"
# quantiles ascending on every row
awk -F, 'NR > 1 && !($4 <= $5 && $5 <= $6) { bad = 1 } END { exit bad }' "$tmp/out.csv" ||
	fail "quantiles cross"
# a periodic series: seasonal naive is exact
awk -F, '$1 == "A" && $2 == 1 { exit !($3 > 99.99 && $3 < 100.01) }' "$tmp/out.csv" ||
	fail "series A step 1 is not 100: $(grep '^A,1,' "$tmp/out.csv")"

# --- long input, JSON -----------------------------------------------------------------------
python3 - "$tmp/long.csv" <<'PY'
import math, sys, datetime
t0 = datetime.datetime(2024, 3, 1, tzinfo=datetime.timezone.utc)
with open(sys.argv[1], "w") as f:
    f.write("id,timestamp,value\n")
    for sid, amp in (("edge-1", 30), ("edge-2", 10)):
        for k in range(24 * 14):
            if sid == "edge-2" and k == 100:
                continue  # a missing hour: a gap to fill
            t = t0 + datetime.timedelta(hours=k)
            v = 100 + amp * math.sin(2 * math.pi * k / 24)
            f.write("%s,%s,%.3f\n" % (sid, t.strftime("%Y-%m-%dT%H:%M:%SZ"), v))
PY
"$tf" -i "$tmp/long.csv" --horizon 12 -j >"$tmp/out.json" 2>"$tmp/err.txt" ||
	fail "long input: exit $? ($(cat "$tmp/err.txt"))"
python3 - "$tmp/out.json" <<'PY' || fail "JSON output"
import json, sys
d = json.load(open(sys.argv[1]))
s = {x["id"]: x for x in d["series"]}
assert set(s) == {"edge-1", "edge-2"}, s.keys()
assert s["edge-2"]["gaps_filled"] == 1
for x in s.values():
    assert len(x["forecast"]) == 12
    assert x["candidates"] and any(c["selected"] for c in x["candidates"])
    assert x["forecast"][0]["time"] == 1709251200 + 14 * 24 * 3600, x["forecast"][0]
    q = x["forecast"][0]["quantiles"]
    assert q["0.025"] <= q["0.5"] <= q["0.975"], q
PY

# --- usage errors ---------------------------------------------------------------------------
"$tf" -i "$tmp/wide.csv" --horizon 0 >/dev/null 2>&1
[ $? -eq 2 ] || fail "--horizon 0 should be a usage error (2)"
"$tf" -i "$tmp/wide.csv" --quantiles 0.5,1.5 >/dev/null 2>&1
[ $? -eq 2 ] || fail "--quantiles 1.5 should be a usage error (2)"
"$tf" -i "$tmp/nonexistent.csv" >/dev/null 2>"$tmp/err.txt"
[ $? -eq 1 ] && grep -q "cannot open" "$tmp/err.txt" || fail "missing input file"
"$tf" -i "$tmp/wide.csv" --models foo --horizon 4 >/dev/null 2>"$tmp/err.txt"
grep -q 'unknown model "foo"' "$tmp/err.txt" || fail "unknown model not named"

# --- backtest on the first M4 Hourly series ---------------------------------------------------
if [ -r "$data/m4-hourly/Hourly-train.csv" ]; then
	head -9 "$data/m4-hourly/Hourly-train.csv" >"$tmp/m4.csv"
	head -9 "$data/m4-hourly/Hourly-test.csv" >"$tmp/m4-test.csv"
	"$tf" --backtest -i "$tmp/m4.csv" --test "$tmp/m4-test.csv" --horizon 48 --period 24 \
		--threads 2 >"$tmp/bt.txt" 2>"$tmp/err.txt" || fail "backtest: exit $?"
	for row in snaive ets selected naive2; do
		grep -q "^$row " "$tmp/bt.txt" || fail "backtest table lacks $row: $(cat "$tmp/bt.txt")"
	done
	grep -q "^8 series scored, 0 failed" "$tmp/bt.txt" || fail "backtest count"
	# seasonal naive reproduces its published M4 scores on these series exactly
	"$tf" --backtest -i "$tmp/m4.csv" --test "$tmp/m4-test.csv" --horizon 48 --period 24 \
		--models snaive --model-intervals -j >"$tmp/bt.json" 2>/dev/null || fail "backtest -j"
	python3 - "$tmp/bt.json" <<'PY' || fail "backtest JSON"
import json, sys
d = json.load(open(sys.argv[1]))
rows = {r["method"]: r for r in d["methods"]}
assert rows["snaive"]["series"] == 8
assert rows["selected"]["smape"] == rows["snaive"]["smape"]
assert 0 < rows["snaive"]["coverage95"] <= 1
PY
else
	fail "shared data not found at $data"
fi

[ "$fails" -eq 0 ] && echo "cli_test: all checks passed"
exit $((fails > 0))
