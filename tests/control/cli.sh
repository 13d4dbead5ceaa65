#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Daemon and CLI integration tests: a real tidald on a generated config, driven by the
# real tidalctl. One scenario per invocation (meson registers each as its own test).
. "$(dirname "$0")/lib.sh"

scenario=${1:?scenario}
write_config "$T/tidal.ini"

case $scenario in
check-examples)
	n=0
	for f in "$TIDAL_SRC"/config/examples/*.ini; do
		"$TIDALD" -n -c "$f" >"$T/out" 2>&1 || fail "tidald -n rejects $f: $(cat "$T/out")"
		grep -q "configuration OK" "$T/out" || fail "no OK line for $f"
		n=$((n + 1))
	done
	[ "$n" -ge 1 ] || fail "no example configs found"
	;;

check-three-errors)
	# Three different mistakes: unknown key (typo), bad unit, peer on a missing link.
	cp "$T/tidal.ini" "$T/bad.ini"
	sed -i 's/^headroom = 10%/hedroom = 10%/; s/^capacity = 10G/capacity = 10Q/; s/^link = tst-ams/link = nowhere/' "$T/bad.ini"
	expect_rc 1 "$TIDALD" -n -c "$T/bad.ini"
	n=$(grep -c "^$T/bad.ini:[0-9][0-9]*: " "$T/err")
	[ "$n" -eq 3 ] || fail "expected 3 FILE:LINE errors, got $n: $(cat "$T/err")"
	grep -q 'hedroom.*did you mean.*headroom' "$T/err" || fail "no suggestion for hedroom"
	grep -q 'link.tst-ams.capacity' "$T/err" || fail "no error naming link.tst-ams.capacity"
	grep -q 'peer.ams.link' "$T/err" || fail "no error naming peer.ams.link"
	;;

status)
	start_tidald
	expect_rc 0 ctl show status
	grep -q "region *tst" "$T/out" || fail "text status lacks the region: $(cat "$T/out")"
	expect_rc 0 ctl -j show status
	[ "$(json_get 'd["region"], d["asn"], d["version"] != ""' <"$T/out")" = "tst 65010 True" ] ||
		fail "JSON status wrong: $(cat "$T/out")"
	[ "$(json_get 'd["uptime_s"] >= 0 and d["pid"] == '"$TIDALD_PID" <"$T/out")" = True ] ||
		fail "uptime/pid wrong: $(cat "$T/out")"
	stop_tidald || fail "tidald exited non-zero on SIGTERM"
	;;

links)
	start_tidald
	expect_rc 0 ctl show links
	grep -Eq "^LINK +INTERFACE +CAPACITY +RESERVABLE +RESERVED +UTILISATION" "$T/out" ||
		fail "links header: $(cat "$T/out")"
	grep -Eq "^tst-ams +lo +10G +8G +0 " "$T/out" || fail "links row: $(cat "$T/out")"
	expect_rc 0 ctl -j show links
	[ "$(json_get 'd[0]["link"], d[0]["capacity_bps"], d[0]["reservable_bps"]' <"$T/out")" = \
		"tst-ams 10000000000 8000000000" ] || fail "JSON links: $(cat "$T/out")"
	;;

apps)
	start_tidald
	expect_rc 0 ctl show apps
	grep -Eq "^video +1 +p95 +10% +100M +5G +dst 198.51.100.0/24, dscp af41" "$T/out" ||
		fail "apps row: $(cat "$T/out")"
	expect_rc 0 ctl -j show apps
	[ "$(json_get '[a["app"] for a in d], d[0]["min_rate_bps"], d[1]["priority"]' <"$T/out")" = \
		"['video', 'backup'] 100000000 6" ] || fail "JSON apps: $(cat "$T/out")"
	;;

peers)
	start_tidald
	expect_rc 0 ctl show peers
	grep -Eq "^ams +127.0.0.1:7179 +tst-ams +" "$T/out" || fail "peers row: $(cat "$T/out")"
	expect_rc 0 ctl -j show peers
	[ "$(json_get 'd[0]["peer"], d[0]["link"]' <"$T/out")" = "ams tst-ams" ] ||
		fail "JSON peers: $(cat "$T/out")"
	;;

help)
	start_tidald
	expect_rc 0 ctl help
	for c in "show status" "show links" "show apps" "show peers" reload; do
		grep -q "^$c " "$T/out" || fail "help lacks '$c': $(cat "$T/out")"
	done
	expect_rc 0 ctl -j help
	[ "$(json_get 'len(d) >= 6' <"$T/out")" = True ] || fail "JSON help: $(cat "$T/out")"
	;;

sighup-valid)
	start_tidald
	write_config "$T/tidal.ini" 40G
	kill -HUP "$TIDALD_PID"
	check() { ctl -j show links | json_get 'd[0]["capacity_bps"]' | grep -qx 40000000000; }
	poll check || fail "SIGHUP did not apply the new capacity"
	grep -q "configuration reloaded" "$T/tidald.log" || fail "reload not logged"
	;;

sighup-invalid)
	start_tidald
	echo "[bogus]" >>"$T/tidal.ini"
	kill -HUP "$TIDALD_PID"
	POLL_TIMEOUT=10 poll grep -q "reload refused" "$T/tidald.log" || fail "refusal not logged"
	grep -q "tidal.ini:[0-9]*: bogus" "$T/tidald.log" || fail "reason not logged with FILE:LINE"
	expect_rc 0 ctl -j show links
	[ "$(json_get 'd[0]["capacity_bps"]' <"$T/out")" = 10000000000 ] || fail "old config lost"
	kill -0 "$TIDALD_PID" || fail "tidald died on an invalid reload"
	;;

ctl-reload)
	start_tidald
	write_config "$T/tidal.ini" 20G
	expect_rc 0 ctl reload
	grep -q "configuration reloaded" "$T/out" || fail "reload reply: $(cat "$T/out")"
	expect_rc 0 ctl -j show links
	[ "$(json_get 'd[0]["capacity_bps"]' <"$T/out")" = 20000000000 ] || fail "not applied"
	sed -i 's/^asn = 65010/asn = banana/' "$T/tidal.ini"
	expect_rc 1 ctl reload
	grep -q "region.asn" "$T/err" || fail "refusal does not name region.asn: $(cat "$T/err")"
	expect_rc 1 ctl -j reload
	[ "$(json_get 'd["code"]' <"$T/out")" = refused ] || fail "JSON refusal: $(cat "$T/out")"
	# restart-only keys are refused too
	write_config "$T/tidal.ini" 20G
	sed -i 's/^name = tst/name = other/' "$T/tidal.ini"
	expect_rc 1 ctl reload
	grep -q "region.name changed" "$T/err" || fail "restart-only key: $(cat "$T/err")"
	[ "$(ctl -j show status | json_get 'd["region"]')" = tst ] || fail "region changed"
	;;

metrics)
	start_tidald
	curl_out="$T/metrics.txt"
	python3 - "$METRICS_PORT" >"$curl_out" <<'PY' || fail "GET /metrics failed"
import sys, urllib.request
r = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=10)
assert r.status == 200, r.status
assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4"), r.headers
sys.stdout.write(r.read().decode())
PY
	promtool check metrics <"$curl_out" >"$T/promtool.out" 2>&1 ||
		fail "promtool check metrics: $(cat "$T/promtool.out")"
	grep -q '^tidal_build_info{version="[0-9.]*",region="tst"} 1$' "$curl_out" ||
		fail "tidal_build_info: $(grep build_info "$curl_out")"
	grep -q '^tidal_link_capacity_bps{link="tst-ams"} 10000000000$' "$curl_out" ||
		fail "link capacity gauge"
	grep -q '^tidal_link_reservable_bps{link="tst-ams"} 8000000000$' "$curl_out" ||
		fail "link reservable gauge"
	grep -q '^process_start_time_seconds [0-9]\{10\}$' "$curl_out" || fail "start time"
	python3 -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$METRICS_PORT/nope')" \
		2>"$T/404" && fail "unknown path answered"
	grep -q "404" "$T/404" || fail "unknown path did not get 404"
	;;

unreachable)
	expect_rc 3 "$TIDALCTL" -s "$T/none.sock" show status
	grep -q "$T/none.sock" "$T/err" || fail "socket path not named: $(cat "$T/err")"
	expect_rc 3 "$TIDALCTL" -j -s "$T/none.sock" show status
	[ "$(json_get 'd["code"], d["socket"]' <"$T/out")" = "unreachable $T/none.sock" ] ||
		fail "JSON unreachable: $(cat "$T/out")"
	;;

usage)
	expect_rc 2 "$TIDALCTL" -s "$T/none.sock" frobnicate
	grep -q "unknown command 'frobnicate'" "$T/err" || fail "unknown command msg"
	expect_rc 2 "$TIDALCTL" -s "$T/none.sock" show ledger
	expect_rc 2 "$TIDALCTL" -s "$T/none.sock" show links extra
	expect_rc 2 "$TIDALCTL" -s "$T/none.sock" lease request --peer ams
	grep -q "needs --resource" "$T/err" || fail "missing option not named: $(cat "$T/err")"
	expect_rc 2 "$TIDALCTL" -s "$T/none.sock" show leases --colour
	expect_rc 2 "$TIDALCTL" -s "$T/none.sock" graph video -o
	expect_rc 2 "$TIDALCTL" -t 0 show status
	expect_rc 2 "$TIDALCTL"
	expect_rc 0 "$TIDALCTL" -h
	grep -q "lease request" "$T/out" || fail "-h lacks commands"
	;;

daemon-usage)
	# A command the daemon does not serve and malformed raw requests get a usage error
	# line, and the connection stays usable.
	start_tidald
	python3 - "$SOCK" <<'PY' || fail "raw protocol check"
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rwb")
for line, code in ((b"not json\n", "usage"), (b'{"cmd": "show nothing"}\n', "usage"), (b'{"cmd": 5}\n', "usage"),
                   (b'{"cmd": "show status", "args": "x"}\n', "usage")):
    f.write(line); f.flush()
    r = json.loads(f.readline())
    assert r["ok"] is False and r["code"] == code, r
f.write(b'{"cmd": "show status"}\n'); f.flush()
r = json.loads(f.readline()); assert r["ok"] is True and r["data"]["region"] == "tst", r
PY
	;;

second-instance)
	start_tidald
	expect_rc 1 "$TIDALD" -c "$T/tidal.ini"
	grep -q "another tidald (pid $TIDALD_PID)" "$T/err" || fail "no clear refusal: $(cat "$T/err")"
	expect_rc 0 ctl show status
	;;

clean-shutdown)
	start_tidald
	[ -f "$T/state/tidald.pid" ] || fail "no pid file"
	[ "$(cat "$T/state/tidald.pid")" = "$TIDALD_PID" ] || fail "pid file content"
	[ "$(stat -c %a "$SOCK")" = 660 ] || fail "socket mode is $(stat -c %a "$SOCK"), not 660"
	stop_tidald || fail "non-zero exit on SIGTERM"
	[ ! -e "$T/state/tidald.pid" ] || fail "pid file left behind"
	[ ! -e "$SOCK" ] || fail "socket left behind"
	grep -q "stopped cleanly" "$T/tidald.log" || fail "no clean stop logged"
	# SIGINT too
	start_tidald
	kill -INT "$TIDALD_PID"
	wait "$TIDALD_PID" || fail "non-zero exit on SIGINT"
	TIDALD_PID=
	[ ! -e "$SOCK" ] || fail "socket left behind after SIGINT"
	;;

stale-socket)
	start_tidald
	kill -KILL "$TIDALD_PID"
	wait "$TIDALD_PID" 2>/dev/null
	TIDALD_PID=
	[ -S "$SOCK" ] || fail "expected the killed daemon's socket to remain"
	start_tidald
	expect_rc 0 ctl show status
	;;

valgrind)
	# The daemon's whole life under valgrind: start, every command, a forecast round, a
	# graph, reloads (good and bad), a scrape, SIGTERM (the second round may still run:
	# stopping joins it). Any leak or memory error fails the test.
	# Hourly buckets keep the forecast round short under valgrind.
	forecast_section() {
		printf '\n[forecast]\nsample_interval = 1m\nbucket = 1h\nhorizon = 24h\n' >>"$T/tidal.ini"
	}
	forecast_section
	START_TIMEOUT=60 start_tidald valgrind -q --leak-check=full --show-leak-kinds=definite,indirect \
		--errors-for-leak-kinds=definite,indirect --error-exitcode=99 --log-file="$T/vg.log" \
		--num-callers=200 --suppressions="$TIDAL_SRC/tests/control/valgrind.supp"
	for c in "show status" "show links" "show apps" "show peers" help; do
		ctl -t 60 $c >/dev/null || fail "$c under valgrind"
		ctl -t 60 -j $c >/dev/null || fail "-j $c under valgrind"
	done
	# history, a forecast round in the worker thread, events and a graph
	python3 "$TIDAL_SRC/tests/control/history_csv.py" "${TIDAL_SHARED_DATA:?}" cortez-eu 336 \
		$(( $(date +%s) / 3600 * 3600 )) "$T/video.csv" || fail "no history data"
	ctl -t 60 ingest video "$T/video.csv" >/dev/null || fail "ingest under valgrind"
	ctl -t 60 event add promo --start +2h --end +5h --multiplier 2 >/dev/null ||
		fail "event add under valgrind"
	ctl -t 60 forecast run >/dev/null || fail "forecast run under valgrind"
	POLL_TIMEOUT=120 poll ctl -t 60 show forecast video || fail "no forecast under valgrind"
	ctl -t 60 -j show forecast video >/dev/null || fail "-j show forecast under valgrind"
	ctl -t 60 show events >/dev/null || fail "show events under valgrind"
	ctl -t 60 graph video -o "$T/g.png" >/dev/null || fail "graph under valgrind"
	ctl -t 60 event remove promo >/dev/null || fail "event remove under valgrind"
	ctl -t 60 show forecast nosuch >/dev/null 2>&1 && fail "unknown class accepted"
	ctl -t 60 forecast run >/dev/null || fail "second forecast run under valgrind"
	# an allocation cycle on the forecasts and its decision log
	ctl -t 60 alloc run >/dev/null || fail "alloc run under valgrind"
	ctl -t 60 show decisions >/dev/null || fail "show decisions under valgrind"
	ctl -t 60 -j show decisions >/dev/null || fail "-j show decisions under valgrind"
	python3 -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$METRICS_PORT/metrics', timeout=60).read()" ||
		fail "scrape under valgrind"
	write_config "$T/tidal.ini" 20G
	forecast_section
	ctl -t 60 reload >/dev/null || fail "reload under valgrind"
	echo "[bogus]" >>"$T/tidal.ini"
	expect_rc 1 ctl -t 60 reload
	kill -HUP "$TIDALD_PID"
	refusals() { [ "$(grep -c 'reload refused' "$T/tidald.log")" -ge 2 ]; }
	POLL_TIMEOUT=60 poll refusals || fail "SIGHUP refusal under valgrind not logged"
	rc=0
	stop_tidald || rc=$?
	[ "$rc" -eq 0 ] || fail "valgrind/tidald exit $rc: $(cat "$T/vg.log")"
	;;

*)
	fail "unknown scenario $scenario"
	;;
esac
echo "ok: $scenario"
