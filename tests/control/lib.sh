# SPDX-License-Identifier: Apache-2.0
# Helpers for the daemon/CLI integration tests: a private folder per test, a tidald
# started on a generated config, polling with deadlines, and cleanup on every exit path.
# Needs TIDALD and TIDALCTL (set by meson).
set -u

T=$(mktemp -d /tmp/tdlctl.XXXXXX)
TIDALD_PID=
fail() {
	echo "FAIL: $*" >&2
	[ -f "$T/tidald.log" ] && { echo "--- tidald log:" >&2; tail -n 40 "$T/tidald.log" >&2; }
	exit 1
}
cleanup() {
	if [ -n "$TIDALD_PID" ] && kill -0 "$TIDALD_PID" 2>/dev/null; then
		kill -TERM "$TIDALD_PID" 2>/dev/null
		for _ in $(seq 100); do kill -0 "$TIDALD_PID" 2>/dev/null || break; sleep 0.05; done
		kill -KILL "$TIDALD_PID" 2>/dev/null
	fi
	rm -rf "$T"
}
trap cleanup EXIT

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# poll CMD... until it succeeds or DEADLINE seconds pass (default 10)
poll() {
	local deadline=$(( $(date +%s%N) / 1000000 + ${POLL_TIMEOUT:-10} * 1000 ))
	until "$@" >/dev/null 2>&1; do
		[ $(( $(date +%s%N) / 1000000 )) -lt $deadline ] || return 1
		sleep 0.05
	done
}

METRICS_PORT=$(free_port)
PEERING_PORT=$(free_port)
SOCK="$T/run/tidal.sock"

# write_config FILE [capacity]: a small valid region config
write_config() {
	local f=$1 cap=${2:-10G}
	cat >"$f" <<INI
[region]
name = tst
asn = 65010
state_dir = $T/state

[control]
socket = $SOCK
metrics_listen = 127.0.0.1:$METRICS_PORT
log_level = debug

[peering]
listen = 127.0.0.1:$PEERING_PORT
certificate = $T/pki/tst.crt
private_key = $T/pki/tst.key
ca = $T/pki/ca.crt
hold_time = 30s

[peer.ams]
address = 127.0.0.1:7179
link = tst-ams

[link.tst-ams]
interface = lo
capacity = $cap
reservable = 8G

[app.video]
match = dst 198.51.100.0/24, dscp af41
priority = 1
slo_quantile = 0.95
headroom = 10%
min_rate = 100M
max_rate = 5G

[app.backup]
match = dst 203.0.113.0/24
priority = 6
INI
}

ctl() { "$TIDALCTL" -s "$SOCK" "$@"; }

# make_pki: a CA and this region's certificate (the peering section points at them)
make_pki() {
	mkdir -p "$T/pki"
	( cd "$T/pki" &&
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj /CN=tidal-test-ca -keyout ca.key -out ca.crt &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=tst \
		-keyout tst.key -out tst.csr &&
	printf 'subjectAltName=URI:tidal:region:tst\n' >ext.cnf &&
	openssl x509 -req -in tst.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
		-extfile ext.cnf -out tst.crt ) >/dev/null 2>&1 || fail "openssl could not make test certificates"
}

tidald_answers() {
	kill -0 "$TIDALD_PID" 2>/dev/null || return 2
	ctl show status >/dev/null 2>&1
}

# start_tidald [wrapper...]: start on $T/tidal.ini and wait until it answers
start_tidald() {
	[ -f "$T/pki/tst.crt" ] || make_pki
	"$@" "$TIDALD" -c "$T/tidal.ini" >"$T/tidald.log" 2>&1 &
	TIDALD_PID=$!
	local deadline=$(( $(date +%s) + ${START_TIMEOUT:-15} )) rc
	while :; do
		tidald_answers
		rc=$?
		[ $rc -eq 0 ] && return 0
		[ $rc -eq 2 ] && fail "tidald exited during start"
		[ "$(date +%s)" -lt $deadline ] || fail "tidald did not answer on $SOCK"
		sleep 0.05
	done
}

stop_tidald() {
	kill -TERM "$TIDALD_PID" || fail "tidald is gone before SIGTERM"
	local rc=0
	wait "$TIDALD_PID" || rc=$?
	TIDALD_PID=
	return $rc
}

# expect_rc N CMD...: run CMD, check its exit status
expect_rc() {
	local want=$1
	shift
	local rc=0
	"$@" >"$T/out" 2>"$T/err" || rc=$?
	[ "$rc" -eq "$want" ] || fail "'$*' exited $rc, expected $want; stderr: $(cat "$T/err")"
}

json_get() { # json_get EXPR < json  (python expression on `d`)
	python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"
}
