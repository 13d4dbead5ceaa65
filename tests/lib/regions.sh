# SPDX-License-Identifier: Apache-2.0
# Shared harness of the multi-region tests (tests/peering/lease-test.sh,
# tests/alloc/alloc_transit.sh): several tidald on loopback, each with its config
# $T/NAME.ini, socket $T/NAME.sock and log $T/NAME.log; polling with deadlines; every daemon
# stopped (and $T removed unless KEEP_T is set) on every exit path.
#
# Source it after `T=$(mktemp -d ...)`; needs TIDALD and TIDALCTL. The caller writes the
# configs (its own region()) and fills PORT/MPORT. Optional:
#   TIDAL_VALGRIND_REGION=NAME  run that region's tidald under valgrind for its whole life:
#                               stop NAME fails the test on any memory error or leak, and
#                               every poll deadline is four times longer
#   extra_pids+=(PID)           other processes to kill on exit
declare -A PID PORT MPORT
extra_pids=()
VG=${TIDAL_VALGRIND_REGION:-}
SLOW=1
[ -n "$VG" ] && SLOW=4

fail() {
	echo "FAIL: $*" >&2
	for f in "$T"/*.log; do
		[ -f "$f" ] && { echo "== $f" >&2; tail -n 30 "$f" >&2; }
	done
	exit 1
}
cleanup() {
	local r p
	for r in "${!PID[@]}"; do
		p=${PID[$r]}
		[ -n "$p" ] || continue
		kill -CONT "$p" 2>/dev/null
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${extra_pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	for r in "${!PID[@]}"; do
		p=${PID[$r]}
		[ -n "$p" ] || continue
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null
	done
	wait 2>/dev/null
	[ -n "${KEEP_T:-}" ] || rm -rf "$T"
}
trap cleanup EXIT

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
poll() { # poll SECONDS CMD...: until CMD succeeds (SECONDS x SLOW)
	local deadline=$((SECONDS + $1 * SLOW))
	shift
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt $deadline ] || return 1
		sleep 0.1
	done
}
ctl() { # ctl REGION ARGS...
	local r=$1
	shift
	"$TIDALCTL" -s "$T/$r.sock" "$@"
}
jq_py() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

start() { # start NAME
	if [ "$1" = "$VG" ]; then
		valgrind -q --leak-check=full --show-leak-kinds=definite,indirect \
			--errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
			--log-file="$T/$1.vg.log" --num-callers=200 \
			--suppressions="$TIDAL_SRC/tests/control/valgrind.supp" \
			"$TIDALD" -c "$T/$1.ini" >>"$T/$1.log" 2>&1 &
	else
		"$TIDALD" -c "$T/$1.ini" >>"$T/$1.log" 2>&1 &
	fi
	PID[$1]=$!
	poll 15 ctl "$1" show status || fail "$1 did not answer"
}
stop() { # stop NAME (SIGTERM, wait; under valgrind: its verdict)
	local rc
	kill -TERM "${PID[$1]}"
	wait "${PID[$1]}" 2>/dev/null
	rc=$?
	PID[$1]=
	if [ "$1" = "$VG" ] && [ "$rc" != 0 ]; then
		fail "$1 under valgrind exited $rc: $(cat "$T/$1.vg.log")"
	fi
}
established() { # established REGION PEER
	[ "$(ctl "$1" -j show peers | jq_py "[p['state'] for p in d if p['peer']=='$2'][0]")" = Established ]
}
