#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# demo_test.sh SCENARIO (suite demo): tools/demo --quick, non-interactively, on the build tree
# meson gives (TIDAL_BUILD), under its own prefix (tdldmt-) and output folder.
#
#   quick      it runs to completion (exit 0): the lab comes up, every app is seeded and
#              replayed, the live view is printed at least four times, the summary names
#              every app, each piece this tidald lacks is named as skipped, measured demand
#              (when counted) follows the replayed traffic, graphs (when drawn) are PNG files
#   interrupt  SIGINT to its process group (what Ctrl-C does) during the live view: it stops
#              with status 130
#
# Both then check that nothing is left: namespaces, FRR pathspaces and daemons, BPF pins,
# the run folder, and any process started for the lab. Needs root.
set -u
SCEN=${1:?scenario}
: "${TIDAL_SRC:?}" "${TIDAL_BUILD:?}"
if [ "$(id -u)" -ne 0 ]; then
	echo "demo_test.sh: needs root (namespaces, FRR, BPF); skipped"
	exit 77
fi
export PFX=tdldmt-
T=$(mktemp -d /tmp/tdldmt.XXXXXX)
export T
LOG=$T/demo.log
DEMO_PID=

fail() {
	echo "FAIL ($SCEN): $*" >&2
	echo "--- tools/demo output (last 60 lines):" >&2
	tail -n 60 "$LOG" >&2
	exit 1
}

cleanup() {
	local rc=$?
	if [ -n "$DEMO_PID" ] && kill -0 "$DEMO_PID" 2>/dev/null; then
		kill -TERM "$DEMO_PID" 2>/dev/null
		wait "$DEMO_PID" 2>/dev/null
	fi
	# Should the demo have failed to clean up, do it here (by pid files and namespace).
	if ip netns list | grep -q "^$PFX"; then
		TR_IF_UNIQUE=yes "$TIDAL_SRC/tests/lab/three-regions/down" "$PFX" >/dev/null 2>&1
	fi
	rm -rf "$T"
	exit $rc
}
trap cleanup EXIT

demo() {
	TIDAL_SHARED_DATA=${TIDAL_SHARED_DATA:-} "$TIDAL_SRC/tools/demo" --quick \
		--build-dir "$TIDAL_BUILD" --prefix "$PFX" --out "$T/out" "$@"
}

# nothing_left: no trace of the lab on the machine.
nothing_left() {
	local left=() f pid cmd
	f=$(ip netns list | grep "^$PFX" | tr '\n' ' ')
	[ -z "$f" ] || left+=("namespaces: $f")
	for f in "/run/tidal-lab/${PFX}three-regions" "/var/run/frr/$PFX"* "/etc/frr/$PFX"* \
		"/sys/fs/bpf/tidal/$PFX"*; do
		[ -e "$f" ] && left+=("$f")
	done
	for f in /proc/[0-9]*/cmdline; do
		pid=${f#/proc/}
		pid=${pid%/cmdline}
		[ "$pid" = $$ ] && continue
		cmd=$({ tr '\0' ' ' <"$f"; } 2>/dev/null) || continue
		case $cmd in
		*"${PFX}three-regions"* | *"netns/$PFX"* | *" -N $PFX"*)
			left+=("process $pid: $cmd")
			;;
		esac
	done
	[ ${#left[@]} -eq 0 ] || fail "left behind: ${left[*]}"
}

case $SCEN in
quick)
	timeout 200 bash -c "$(declare -f demo); demo" </dev/null >"$LOG" 2>&1
	rc=$?
	[ $rc -eq 0 ] || fail "tools/demo --quick exited with $rc"
	grep -q "^lab: three-regions up" "$LOG" || fail "the lab did not come up"
	[ "$(grep -c "tidalctl ingest" "$LOG")" -eq 6 ] || fail "not every app got its history"
	frames=$(grep -c "^tidal demo  t+" "$LOG")
	[ "$frames" -ge 4 ] || fail "only $frames live views"
	grep -q "^== summary" "$LOG" || fail "no summary"
	for app in a/video-c a/web-b b/web-a b/video-c c/web-a c/backup-b; do
		grep -q "^$app: offered peak" "$LOG" || fail "the summary lacks $app"
	done
	grep -q "^== clean: no tidald" "$LOG" || fail "tools/demo did not confirm a clean teardown"
	# Each piece is either shown or said to be skipped.
	if grep -q "measured peak" "$LOG"; then
		# Counted demand follows the replayed traffic: measured peak within 25 % of offered.
		grep "^[abc]/[a-z-]*: offered peak" "$LOG" | python3 -c '
import re, sys
unit = {"k": 1e3, "M": 1e6, "G": 1e9}
def v(s):
    return float(s[:-1]) * unit[s[-1]] if s[-1] in unit else float(s)
for line in sys.stdin:
    m = re.search(r"^(\S+): offered peak (\S+) .*measured peak (\S+)", line)
    if not m:
        sys.exit("no measured peak: " + line.strip())
    off, meas = v(m.group(2)), v(m.group(3))
    if abs(meas - off) > 0.25 * off:
        sys.exit("%s: measured %s, offered %s" % (m.group(1), m.group(3), m.group(2)))
' || fail "measured demand does not follow the replayed traffic"
	else
		grep -q "skipped: counting the replayed traffic" "$LOG" ||
			fail "no demand and no word why"
	fi
	grep -q "peers: .*Established" "$LOG" || grep -q "skipped: leases between regions" "$LOG" ||
		fail "peers never Established and no word why"
	grep -q "reserved covered it\|reserved at most" "$LOG" ||
		grep -q "skipped: reserving ahead of the forecast" "$LOG" ||
		fail "no reservations and no word why"
	if grep -q "^== graphs" "$LOG"; then
		while read -r png; do
			[ "$(head -c 4 "$png" | od -An -c | tr -d ' ')" = "211PNG" ] ||
				fail "$png is not a PNG"
		done < <(grep -o "$T/out/[a-z-]*\.png" "$LOG")
		[ "$(grep -c "$T/out/.*\.png" "$LOG")" -eq 6 ] || fail "not six graphs"
	else
		grep -q "skipped: graphs" "$LOG" || fail "no graphs and no word why"
	fi
	;;
interrupt)
	# As from a terminal: its own process group (setsid), SIGINT not ignored (this script's
	# background jobs would inherit an ignored SIGINT, which bash then cannot trap).
	: >"$LOG"
	python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.setsid()
os.execvp(sys.argv[1], sys.argv[1:])' bash -c "$(declare -f demo); demo" </dev/null >"$LOG" 2>&1 &
	DEMO_PID=$!
	for _ in $(seq 1200); do
		grep -q "^tidal demo  t+" "$LOG" && break
		kill -0 "$DEMO_PID" 2>/dev/null || fail "tools/demo ended before the live view"
		sleep 0.1
	done
	grep -q "^tidal demo  t+" "$LOG" || fail "no live view within 120 s"
	kill -INT -- "-$DEMO_PID" || fail "cannot signal the demo's process group"
	for _ in $(seq 600); do
		kill -0 "$DEMO_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$DEMO_PID" 2>/dev/null && fail "tools/demo still runs 60 s after SIGINT"
	wait "$DEMO_PID"
	rc=$?
	DEMO_PID=
	[ $rc -eq 130 ] || fail "tools/demo exited with $rc after SIGINT, not 130"
	grep -q "^== clean: no tidald" "$LOG" || fail "tools/demo did not confirm a clean teardown"
	;;
*)
	echo "demo_test.sh: unknown scenario $SCEN" >&2
	exit 2
	;;
esac
nothing_left
tail -n 3 "$LOG"
echo "ok: $SCEN"
