#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Forecast benchmark (on demand, never part of tools/test):
#  1. tidal-forecast --backtest on all 414 M4 Hourly series (h = 48): its own table, wall
#     and CPU time;
#  2. on a subset of M4 series and on the hourly traffic series (h = 72), tidal-forecast and,
#     in the same run, R's forecast (snaive, ets, auto.arima, tbats) and prophet, all scored
#     by score.py with the M4 measures: method x (sMAPE, MASE, OWA, MSIS, coverage, CPU
#     seconds per series), and the CPU ratio R auto.arima / tidal-forecast.
#
#   tests/bench/forecast/bench.sh [BUILD_DIR]        (default build)
# Environment:
#   BENCH_M4_R=6          M4 series given to R (evenly spaced over the 414); 0 = skip R
#   BENCH_TRAFFIC_R=o1    traffic rows given to R: o1 (first origin of each series) or all
#   BENCH_R_METHODS=snaive,ets,arima,tbats,prophet
#   BENCH_THREADS=2       tidal-forecast threads for the full M4 run
# Needs python3 and, for the R part, r-base-core r-cran-forecast r-cran-prophet.
set -euo pipefail
top=$(cd "$(dirname "$0")/../../.." && pwd)
build=${1:-$top/build}
tf=$build/tools/tidal-forecast
data=${TIDAL_SHARED_DATA:-$top/../shared/data}
here=$top/tests/bench/forecast
m4r=${BENCH_M4_R:-6}
trr=${BENCH_TRAFFIC_R:-o1}
methods=${BENCH_R_METHODS:-snaive,ets,arima,tbats,prophet}
threads=${BENCH_THREADS:-2}
tmp=$(mktemp -d /tmp/tdlfc-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
[ -x "$tf" ] || { echo "bench: build first (ninja -C $build)" >&2; exit 1; }
have_r=1
command -v Rscript >/dev/null && Rscript -e 'library(forecast)' >/dev/null 2>&1 || have_r=0

m4=$data/m4-hourly
echo "== M4 Hourly, all 414 series, h = 48, periods 24,168 ($(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg))"
TIMEFORMAT='wall %R s, CPU %U s user + %S s system'
time "$tf" --backtest -i "$m4/Hourly-train.csv" --test "$m4/Hourly-test.csv" --horizon 48 \
	--period 24,168 --threads "$threads" --no-progress

# subset(): wide rows of FILE whose ids are in the comma list IDS
subset() {
	python3 - "$1" "$2" <<'PY'
import csv, sys
ids = sys.argv[2].split(",")
rows = {r[0]: r for r in csv.reader(open(sys.argv[1], newline="")) if r and r[0] in ids}
w = csv.writer(sys.stdout, lineterminator="\n")
for i in ids:
    if i in rows:
        w.writerow(rows[i])
PY
}

# compare NAME TRAIN TEST IDS H: tidal and R on the same series, scored alike
compare() {
	local name=$1 train=$2 test=$3 ids=$4 h=$5
	subset "$train" "$ids" >"$tmp/$name-train.csv"
	subset "$test" "$ids" >"$tmp/$name-test.csv"
	"$tf" -i "$tmp/$name-train.csv" --horizon "$h" --period 24,168 --threads 1 \
		--quantiles 0.025,0.5,0.975 -j >"$tmp/$name-tidal.json"
	"$tf" -i "$tmp/$name-train.csv" --horizon "$h" --period 24,168 --threads 1 \
		--models naive2 --model-intervals --quantiles 0.025,0.975 -j >"$tmp/$name-naive2.json"
	local rcsv=()
	if [ "$have_r" = 1 ]; then
		Rscript "$here/r_methods.R" "$tmp/$name-train.csv" "$ids" "$h" "$methods" \
			"$tmp/$name-r.csv" 2>"$tmp/$name-r.log" || { tail "$tmp/$name-r.log" >&2; }
		[ -s "$tmp/$name-r.csv" ] && rcsv=("$tmp/$name-r.csv")
	fi
	python3 "$here/score.py" "$tmp/$name-train.csv" "$tmp/$name-test.csv" "$h" 24 \
		"$tmp/$name-tidal.json" "$tmp/$name-naive2.json" "${rcsv[@]}"
}

if [ "$m4r" -gt 0 ]; then
	ids=$(python3 -c "n=$m4r; print(','.join('H%d' % (1 + i * 414 // n) for i in range(n)))")
	echo
	echo "== M4 Hourly subset ($ids), h = 48: tidal-forecast and R in the same run"
	compare m4 "$m4/Hourly-train.csv" "$m4/Hourly-test.csv" "$ids" 48
fi

tr=$data/traffic/r-forecast-8.20
echo
echo "== traffic, 14 hourly rows (EU, UK, Abilene, CESNET at several origins), h = 72"
time "$tf" --backtest -i "$tr/traffic_72h_train_rows.csv" --test "$tr/traffic_72h_test_rows.csv" \
	--horizon 72 --period 24,168 --threads "$threads" --no-progress
if [ "$trr" = all ]; then
	ids=$(cut -d, -f1 "$tr/traffic_72h_train_rows.csv" | tr -d '"' | paste -sd,)
else
	ids=$(cut -d, -f1 "$tr/traffic_72h_train_rows.csv" | tr -d '"' | grep "_$trr\$" | paste -sd,)
fi
echo
echo "== traffic rows $ids, h = 72: tidal-forecast and R in the same run"
compare traffic "$tr/traffic_72h_train_rows.csv" "$tr/traffic_72h_test_rows.csv" "$ids" 72
