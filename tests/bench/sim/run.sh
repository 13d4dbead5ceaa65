#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Controller and simulator benchmarks (docs/performance.md, "Allocation controller and
# tidal-sim"). On demand, never in tools/test: the Abilene runs take minutes, the
# 100-region run longer. SNDlib's Abilene data is used here only (academic licence).
#
#   tests/bench/sim/run.sh [alloc|abilene|synthetic]...   (default: all three)
#   BUILD=build DATA=../shared/data OUT=/tmp/tidal-bench-sim
set -euo pipefail
top=$(cd "$(dirname "$0")/../../.." && pwd)
build=${BUILD:-$top/build}
data=${DATA:-$top/../shared/data}
out=${OUT:-/tmp/tidal-bench-sim}
sim="$build/tools/tidal-sim"
mkdir -p "$out"
what=("$@")
[ ${#what[@]} -gt 0 ] || what=(alloc abilene synthetic)

for w in "${what[@]}"; do
	case $w in
	alloc)
		echo "== one controller cycle, 100 regions / 10,000 classes"
		"$build/tests/bench/sim/bench_alloc_cycle" 100 10000 20
		;;
	abilene)
		# The SLO quantile is the knob that trades violations against reservation.
		for q in 0.95 0.99; do
			sed "s/^slo_quantile = .*/slo_quantile = $q/" \
				"$top/tests/bench/sim/abilene.ini" >"$out/abilene-p$q.ini"
			echo "== Abilene, 12 regions, 132 OD classes, 7 + 7 days, slo_quantile $q"
			/usr/bin/time -f "wall %e s, CPU %U s user + %S s system, max RSS %M KiB" \
				"$sim" -t "$out/abilene-p$q.ini" --traces "$data/traffic" \
				--plot ATLAng-CHINng -o "$out/abilene-p$q.png" --plot-days 3
		done
		;;
	synthetic)
		echo "== synthetic, 100 regions, 10,000 classes, 14 + 30 days"
		/usr/bin/time -f "wall %e s, CPU %U s user + %S s system, max RSS %M KiB" \
			"$sim" -t "$top/tests/bench/sim/synthetic.ini" --plot r000-r001 --plot-days 7 \
			-o "$out/synthetic.png"
		;;
	*)
		echo "unknown benchmark '$w' (alloc, abilene, synthetic)" >&2
		exit 2
		;;
	esac
done
echo "plots in $out"
