# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# tools/lib/demo-single.sh: `tools/demo --single [CONFIG]`, sourced by tools/demo. Starts one
# tidald (default config/examples/fra.ini, bookkeeping only), shows what an engineer sees
# (status, links, apps, peers, the metrics endpoint), stops it and checks that nothing is
# left. Owns that one tidald and its log; stops it on every exit path.
#
# Needs TIDALD and TIDALCTL (set by tools/demo) and demo_say (tools/lib/demo.sh).

DS_PID=
DS_LOG=

ds_finish() {
	if [ -n "$DS_PID" ] && kill -0 "$DS_PID" 2>/dev/null; then
		kill -TERM "$DS_PID"
		wait "$DS_PID" 2>/dev/null
	fi
	[ -n "$DS_LOG" ] && rm -f "$DS_LOG"
}

# ds_key CONFIG KEY: the first value of KEY in CONFIG (comments stripped).
ds_key() {
	sed -n "s/^$2 *= *\([^ ;]*\).*/\1/p" "$1" | head -n 1
}

demo_single() {
	local config=$1 sock metrics statedir c rc stopped left=0
	trap ds_finish EXIT
	trap 'exit 130' INT TERM
	DS_LOG=$(mktemp /tmp/tidal-demo.XXXXXX.log)

	demo_say "checking $config"
	"$TIDALD" -n -c "$config" || return 1
	sock=$(ds_key "$config" socket)
	metrics=$(ds_key "$config" metrics_listen)
	statedir=$(ds_key "$config" state_dir)

	demo_say "starting tidald"
	"$TIDALD" -c "$config" >"$DS_LOG" 2>&1 &
	DS_PID=$!
	demo_wait 10 "tidald to answer on $sock" "$TIDALCTL" -s "$sock" show status ||
		{ cat "$DS_LOG"; return 1; }
	sed 's/^/  /' "$DS_LOG"

	for c in "show status" "show links" "show apps" "show peers"; do
		demo_say "tidalctl $c"
		# shellcheck disable=SC2086 # the command words are split on purpose
		"$TIDALCTL" -s "$sock" $c || return 1
	done
	demo_say "tidalctl -j show links"
	"$TIDALCTL" -s "$sock" -j show links || return 1

	demo_say "GET http://$metrics/metrics (tidal_ lines)"
	demo_metrics "$metrics" || return 1

	demo_say "stopping tidald (SIGTERM)"
	kill -TERM "$DS_PID"
	wait "$DS_PID"
	rc=$?
	stopped=$DS_PID
	DS_PID=
	tail -n 2 "$DS_LOG" | sed 's/^/  /'
	[ $rc -eq 0 ] || { echo "tidald exited with $rc" >&2; return 1; }
	[ -e "$sock" ] && { echo "socket $sock left behind" >&2; left=1; }
	[ -e "$statedir/tidald.pid" ] && { echo "pid file left behind" >&2; left=1; }
	if kill -0 "$stopped" 2>/dev/null; then
		echo "tidald (pid $stopped) is still running" >&2
		left=1
	fi
	[ $left -eq 0 ] || return 1
	demo_say "done: tidald stopped cleanly; no process, socket or pid file left"
}
