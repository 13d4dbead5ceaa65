#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Bounded libFuzzer run for the `fuzz` suite: HARNESS SEED_DIR WORK_DIR SECONDS [args...].
# New inputs go to WORK_DIR (in the build tree); the committed seeds are only read.
# Longer runs on demand: FUZZ_SECONDS=600 meson test -C build-fuzz --suite fuzz
set -eu
harness=$1 seeds=$2 work=$3 secs=${FUZZ_SECONDS:-$4}
shift 4
mkdir -p "$work"
exec "$harness" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	"$@" "$work" "$seeds"
