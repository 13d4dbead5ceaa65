# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# tools/lib/demo-lab.sh: the three-region demo (docs/demo.md), sourced by tools/demo.
#
# Brings up tests/lab/three-regions under the demo's prefix, makes a PKI with the openssl CLI,
# writes one tidald config per region, seeds each app's past weeks from real traffic series
# (tools/lib/demo-tool series, `tidalctl ingest`), starts a tidald inside each region's
# network namespace, replays the same series as live iperf3 traffic in compressed time
# (one hour of data = DL_STEP seconds) while printing a compact view of every region, and
# ends with a summary and graphs. Whatever this tidald does not do yet (an unknown config
# key, a command it does not serve) is left out with a note saying so.
#
# Owns: the lab's namespaces, veths and FRR pathspaces (through tests/lab), its run folder
# $TR_RUN (PKI, configs, state, series, logs), the tidalds, replay and view it starts, and
# the BPF pins of the lab's interfaces. All of it is removed on every exit path (end,
# failure, Ctrl-C) and checked to be gone. Never kills a process by name; never touches a
# namespace, daemon or pin of another prefix.
#
# Needs top (the source tree), TIDALD, TIDALCTL, DEMO_PREFIX, DEMO_OUT, DEMO_DATA (set by
# tools/demo) and the helpers of tools/lib/demo.sh.
: "${top:?}" "${DEMO_PREFIX:?}"

DL_STEP=5            # seconds of demo time per hour of data: one forecast bucket
DL_HISTORY_HOURS=672 # four weeks of past per app
DL_FULL_HOURS=36     # hours of data replayed live (tools/demo): 3 minutes
DL_QUICK_HOURS=8     # the same with --quick: 40 seconds
DL_FRAME_S=5         # seconds between two views

# The apps: REGION APP PEER SOURCE FROM_DAY PEAK PRIORITY. Each is traffic from REGION's site
# to PEER's site, shaped by SOURCE (tools/lib/demo-tool) from the first daily peak at or
# after FROM_DAY of it on, scaled so that its peak is PEAK. a's video to c outgrows the thin
# a-c link at its peak: the rest has to come through b.
DL_APPS=(
	"a video-c c cortez-eu 30 45M 2"
	"a web-b b cesnet 60 20M 3"
	"b web-a a cortez-uk 59 20M 3"
	"b video-c c cortez-eu 40 25M 2"
	"c web-a a cortez-uk 66 15M 3"
	"c backup-b b cesnet 150 15M 5"
)
# Links: capacity and reservable capacity, bits per second.
declare -A DL_LINK=([a-b]="100M 80M" [b-c]="100M 80M" [a-c]="50M 30M")
# Config keys the demo sets when this tidald knows them, and what they are for.
declare -A DL_OPTIONAL=(
	[peering.lease_lead_time]="lease lead time for the allocation controller"
	[link.lead_time]="booking lead time for the allocation controller"
	[app.peer]="the peer each app's traffic goes to, for the allocation controller"
	[forecast.period]="forecast rounds every bucket"
	[dataplane.keep_pacing]="detach BPF on stop"
)

declare -A DL_PID=() # region -> its tidald
DL_REPLAY_PID=
DL_WATCH_PID=
DL_CMDS= # commands region a's tidald serves, one per line
DL_LEFT_OUT=
DL_FAILED=0
DL_SYNTHETIC=

# The lab's helpers and topology, under the demo's prefix (sourced here, at the top level,
# so that the topology's tables are global).
LAB_PREFIX=$DEMO_PREFIX
# shellcheck disable=SC2034 # read by topology.sh's tr_if
TR_IF_UNIQUE=yes
DL_LAB=$top/tests/lab/three-regions
# shellcheck source=../../tests/lab/lib.sh
. "$top/tests/lab/lib.sh"
# shellcheck source=../../tests/lab/three-regions/topology.sh
. "$DL_LAB/topology.sh"
DL_TOOL=$top/tools/lib/demo-tool
DL_PLAN=$TR_RUN/demo.plan

dl_fail() {
	printf 'demo: %s\n' "$*" >&2
	return 1
}

dl_serves() { # dl_serves COMMAND: does this tidald serve it?
	printf '%s\n' "$DL_CMDS" | grep -qx "$1"
}

dl_ctl() { # dl_ctl REGION ARGS...
	"$TIDALCTL" -s "$TR_RUN/$1/tidald.sock" "${@:2}"
}

dl_json() { # dl_json PYTHON: run PYTHON with d = the JSON document on stdin
	python3 -c "import json, sys
d = json.load(sys.stdin)
$1"
}

dl_gone() { [ ! -e "/proc/$1" ]; }

# ---- lab, PKI, configs ----------------------------------------------------------------------

dl_lab_up() {
	local r y line
	demo_say "three regions in network namespaces ${LAB_PREFIX}{a,b,c}, FRR per region"
	TR_IF_UNIQUE=yes "$DL_LAB/up" "$LAB_PREFIX" || return 1
	for r in "${TR_REGIONS[@]}"; do
		line="region $r: AS${TR_ASN[$r]}, site ${TR_SITE[$r]}, links"
		for y in "${TR_REGIONS[@]}"; do
			[ "$y" = "$r" ] || line+=" $(tr_if "$r" "$y") ($(tr_addr "$r" "$y") to $y)"
		done
		demo_note "$line"
	done
}

dl_openssl_key() { # dl_openssl_key FILE: a P-256 key
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"
}

dl_pki() { # a CA and one certificate per region naming it (URI:tidal:region:R)
	local dir=$TR_RUN/pki r
	mkdir -p "$dir" && chmod 700 "$dir" || return 1
	(
		cd "$dir" || exit 1
		dl_openssl_key ca.key || exit 1
		openssl req -x509 -new -key ca.key -sha256 -days 2 -subj "/CN=tidal demo CA" \
			-addext "basicConstraints=critical,CA:TRUE" \
			-addext "keyUsage=critical,keyCertSign,cRLSign" -out ca.crt || exit 1
		for r in "${TR_REGIONS[@]}"; do
			cat >"$r.ext" <<EXT
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=URI:tidal:region:$r
EXT
			dl_openssl_key "$r.key" &&
				openssl req -new -key "$r.key" -subj "/CN=$r" -out "$r.csr" &&
				openssl x509 -req -in "$r.csr" -CA ca.crt -CAkey ca.key \
					-CAcreateserial -sha256 -days 2 -extfile "$r.ext" \
					-out "$r.crt" || exit 1
			rm -f "$r.csr" "$r.ext"
		done
	) >"$TR_RUN/pki.log" 2>&1 || { cat "$TR_RUN/pki.log" >&2; return 1; }
	demo_note "PKI in $dir: a CA and certificates for a, b, c (URI:tidal:region:<name>)"
}

# dl_config REGION [seed]: REGION's tidald config on stdout. With "seed": only what ingesting
# the history needs (region, control, apps, forecast): no peers, links, FRR or dataplane.
dl_config() {
	local r=$1 seed=${2:-} spec ar app peer prio y l cap resv ifs=""
	cat <<INI
; tidald config of region $r in the demo lab (written by tools/demo; docs/demo.md)
[region]
name = $r
asn = ${TR_ASN[$r]}
state_dir = $TR_RUN/$r/state

[control]
socket = $TR_RUN/$r/tidald.sock
metrics_listen = 127.0.0.1:9479
log_level = info

[forecast]
; one bucket stands for one hour of the replayed data: a day is 24 buckets
sample_interval = 1s
bucket = ${DL_STEP}s
period = ${DL_STEP}s
horizon = $((72 * DL_STEP))s
seasons = $((24 * DL_STEP))s, $((168 * DL_STEP))s
quantiles = 0.5, 0.8, 0.95, 0.99
models = auto
INI
	for spec in "${DL_APPS[@]}"; do
		read -r ar app peer _ _ _ prio <<<"$spec"
		[ "$ar" = "$r" ] || continue
		cat <<INI

[app.$app]
match = dst ${TR_SITE[$peer]}
priority = $prio
slo_quantile = 0.95
headroom = 10%
INI
		[ -n "$seed" ] || printf 'peer = %s\n' "$peer"
	done
	[ -z "$seed" ] || return 0
	cat <<INI

[peering]
listen = 0.0.0.0:7179
certificate = $TR_RUN/pki/$r.crt
private_key = $TR_RUN/pki/$r.key
ca = $TR_RUN/pki/ca.crt
hold_time = 9s
lease_lead_time = $((2 * DL_STEP))s
INI
	for y in "${TR_REGIONS[@]}"; do
		[ "$y" = "$r" ] && continue
		l=$(tr_link_of "$r" "$y")
		read -r cap resv <<<"${DL_LINK[$l]}"
		cat <<INI

[peer.$y]
address = $(tr_addr "$y" "$r"):7179
link = $l

[link.$l]
interface = $(tr_if "$r" "$y")
capacity = $cap
reservable = $resv
lead_time = ${DL_STEP}s
INI
		ifs+="${ifs:+, }$(tr_if "$r" "$y")"
	done
	cat <<INI

[dataplane]
backend = bpf
interfaces = $ifs
keep_pacing = no

[frr]
pathspace = $(tr_ns "$r")
INI
}

# dl_check_config FILE: check FILE with tidald -n; keys of DL_OPTIONAL this tidald does not
# know are removed (each named once on DL_LEFT_OUT); any other error fails.
dl_check_config() {
	local f=$1 out line lineno key generic drop=()
	out=$("$TIDALD" -n -c "$f" 2>&1) && return 0
	while IFS= read -r line; do
		[[ $line =~ ^[^:]+:([0-9]+):\ ([a-z_.0-9-]+):\ unknown\ key ]] || continue
		lineno=${BASH_REMATCH[1]} key=${BASH_REMATCH[2]}
		generic=${key%%.*}.${key##*.} # link.a-b.lead_time -> link.lead_time
		[ -n "${DL_OPTIONAL[$generic]:-}" ] || continue
		drop+=("-e" "${lineno}d")
		case " $DL_LEFT_OUT " in
		*" $generic "*) ;;
		*) DL_LEFT_OUT+="${DL_LEFT_OUT:+ }$generic" ;;
		esac
	done <<<"$out"
	[ ${#drop[@]} -gt 0 ] && sed -i "${drop[@]}" "$f"
	out=$("$TIDALD" -n -c "$f" 2>&1) || { printf '%s\n' "$out" >&2; return 1; }
}

dl_configs() {
	local r k
	for r in "${TR_REGIONS[@]}"; do
		mkdir -p "$TR_RUN/$r/state" || return 1
		if ! { dl_config "$r" >"$TR_RUN/$r/demo.ini" &&
			dl_config "$r" seed >"$TR_RUN/$r/seed.ini" &&
			dl_check_config "$TR_RUN/$r/demo.ini" &&
			dl_check_config "$TR_RUN/$r/seed.ini"; }; then
			dl_fail "the config of region $r is refused (above)"
			return 1
		fi
	done
	demo_note "configs: $TR_RUN/{a,b,c}/demo.ini (apps, peers over the veths, links, forecast)"
	for k in $DL_LEFT_OUT; do
		demo_skip "config key $k" "this tidald does not know it yet: ${DL_OPTIONAL[$k]}"
	done
}

# ---- tidald ---------------------------------------------------------------------------------

dl_start_tidald() { # dl_start_tidald REGION CONFIG: inside the region's network namespace
	local r=$1 conf=$2
	# nsenter --net switches only the network namespace: tidald keeps the host's /sys, so
	# its BPF pins are where bpffs is (ip netns exec would remount /sys and hide them).
	nsenter --net="/var/run/netns/$(tr_ns "$r")" "$TIDALD" -c "$conf" \
		>>"$TR_RUN/$r/tidald.log" 2>&1 &
	DL_PID[$r]=$!
}

dl_wait_tidald() { # dl_wait_tidald REGION
	local r=$1
	demo_wait 20 "tidald of region $r to answer" dl_ctl "$r" show status && return 0
	tail -n 20 "$TR_RUN/$r/tidald.log" >&2
	return 1
}

dl_stop_tidald() { # dl_stop_tidald REGION: SIGTERM, wait to a deadline, then SIGKILL
	local r=$1 pid=${DL_PID[$1]:-} rc=0
	[ -n "$pid" ] || return 0
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null
		if ! demo_wait 20 "tidald of region $r (pid $pid) to stop" dl_gone "$pid"; then
			kill -KILL "$pid" 2>/dev/null
			rc=1
		fi
	fi
	wait "$pid" 2>/dev/null || rc=1
	unset "DL_PID[$r]"
	[ $rc -eq 0 ] ||
		dl_fail "tidald of region $r did not stop cleanly (log: $TR_RUN/$r/tidald.log)"
}

dl_stop_all() { # every tidald at once
	local r rc=0
	for r in "${!DL_PID[@]}"; do
		kill -TERM "${DL_PID[$r]}" 2>/dev/null
	done
	for r in "${!DL_PID[@]}"; do
		dl_stop_tidald "$r" || rc=1
	done
	return $rc
}

# ---- history --------------------------------------------------------------------------------

dl_plan() { # dl_plan HOURS: the plan demo-tool reads: timing, regions, one flow per app
	local hours=$1 r y spec ar app peer src day peak port=5201
	{
		cat <<INI
[demo]
run = $TR_RUN
data = $DEMO_DATA
tidalctl = $TIDALCTL
step = $DL_STEP
t0 = $DL_T0
history_hours = $DL_HISTORY_HOURS
replay_hours = $hours
INI
		for r in "${TR_REGIONS[@]}"; do
			cat <<INI

[region.$r]
ns = $(tr_ns "$r")
socket = $TR_RUN/$r/tidald.sock
host = ${TR_HOST[$r]}
site = ${TR_SITE[$r]}
INI
			for y in "${TR_REGIONS[@]}"; do
				[ "$y" = "$r" ] && continue
				printf 'peer_%s = %s\n' "$y" "$(tr_addr "$y" "$r")"
			done
		done
		for spec in "${DL_APPS[@]}"; do
			read -r ar app peer src day peak _ <<<"$spec"
			[ -n "$DL_SYNTHETIC" ] && src=synthetic
			cat <<INI

[flow.$ar.$app]
peer = $peer
source = $src
from_day = $day
peak = $peak
port = $port
INI
			port=$((port + 1))
		done
	} >"$DL_PLAN"
}

dl_history() { # dl_history HOURS
	local hours=$1 r spec ar app out
	demo_say "history: four weeks per app from real traffic, ending just before a daily peak"
	if [ ! -d "$DEMO_DATA/traffic" ]; then
		DL_SYNTHETIC=yes
		demo_skip "real traffic series" \
			"no $DEMO_DATA/traffic: a synthetic daily shape instead"
	fi
	# "Now" (DL_T0) is the end of the history. A seed tidald per region (no dataplane, no
	# peers) takes the history; the real one starts after it, so that its collector's first
	# sample comes after the last ingested value.
	DL_T0=$(($(date +%s) / DL_STEP * DL_STEP))
	dl_plan "$hours" || return 1
	"$DL_TOOL" series "$DL_PLAN" || return 1
	for r in "${TR_REGIONS[@]}"; do
		dl_start_tidald "$r" "$TR_RUN/$r/seed.ini"
	done
	for r in "${TR_REGIONS[@]}"; do
		dl_wait_tidald "$r" || return 1
	done
	for spec in "${DL_APPS[@]}"; do
		read -r ar app _ <<<"$spec"
		out=$(dl_ctl "$ar" ingest "$app" "$TR_RUN/series/$ar-$app.csv" 2>&1) ||
			{ printf '%s\n' "$out" >&2; return 1; }
		demo_note "$ar: tidalctl ingest $out"
	done
	dl_stop_all
}

# ---- the run --------------------------------------------------------------------------------

dl_start_all() { # the tidalds and, at the same time, the traffic (the history ends at DL_T0)
	local r
	demo_say "a tidald per region in its namespace (nsenter --net); traffic from the series"
	for r in "${TR_REGIONS[@]}"; do
		dl_start_tidald "$r" "$TR_RUN/$r/demo.ini"
	done
	"$DL_TOOL" replay "$DL_PLAN" >"$TR_RUN/replay.log" 2>&1 &
	DL_REPLAY_PID=$!
	demo_note "replay: per flow and hour of data, one iperf3 UDP run at that hour's rate" \
		"($DL_STEP s)"
	for r in "${TR_REGIONS[@]}"; do
		dl_wait_tidald "$r" || return 1
	done
}

dl_features() { # say what this tidald does and does not do yet
	DL_CMDS=$(dl_ctl a -j help | dl_json 'print("\n".join(c["command"] for c in d))') ||
		return 1
	demo_note "modules: $(dl_ctl a -j show status | dl_json 'print(", ".join(d["modules"]))')"
	dl_serves "show counters" || demo_skip "counting the replayed traffic" \
		"no BPF collector in this tidald: demand is the ingested history"
	dl_serves "show forecast" || demo_skip "forecasts" "no forecast module in this tidald"
	dl_serves "lease request" || demo_skip "leases between regions" \
		"no peering module in this tidald: peers stay idle"
	dl_serves "show decisions" || demo_skip "reserving ahead of the forecast" \
		"no allocation controller in this tidald"
	dl_serves "lease request" || return 0
	if demo_wait 20 "peering sessions" dl_peers_up; then
		demo_note "peering: every session Established (TLS 1.3, the demo CA's certificates)"
	else
		demo_note "not every peering session is up yet (the view shows their states)"
	fi
}

dl_peers_up() {
	local r
	for r in "${TR_REGIONS[@]}"; do
		dl_ctl "$r" -j show peers |
			dl_json 'sys.exit(any(p.get("state") != "Established" for p in d))' ||
			return 1
	done
}

dl_watch() { # the live view until the replay ends
	local rc=0
	demo_say "live view, every $DL_FRAME_S s (one per hour of data)"
	# In the background, so that a signal to the demo is handled at once (bash runs traps
	# only between foreground commands, but interrupts `wait`).
	"$DL_TOOL" watch "$DL_PLAN" "interval=$DL_FRAME_S" "replay_pid=$DL_REPLAY_PID" &
	DL_WATCH_PID=$!
	wait "$DL_WATCH_PID" || rc=$?
	DL_WATCH_PID=
	wait "$DL_REPLAY_PID" || { cat "$TR_RUN/replay.log" >&2; rc=1; }
	DL_REPLAY_PID=
	return $rc
}

dl_results() { # the controller's reasons, the leases, metrics, graphs
	local spec ar app png families
	if dl_serves "show decisions"; then
		demo_say "tidalctl show decisions --last 8 (region a)"
		dl_ctl a show decisions --last 8 | sed 's/^/  /'
	fi
	if dl_serves "show leases"; then
		demo_say "tidalctl show leases (region a)"
		dl_ctl a show leases | sed 's/^/  /'
	fi
	demo_say "GET /metrics of region a (some of what a NOC scrapes)"
	families='peer_up|leases\{state="(reserved|active)"|reserved_bps|link_reserved_bps'
	families+='|forecast_demand_bps\{class="video-c",quantile="0.95"'
	demo_metrics 127.0.0.1:9479 "^tidal_($families)" "$(tr_ns a)" ||
		demo_note "no /metrics from region a"
	if ! dl_serves graph; then
		demo_skip "graphs" "this tidald has no \`tidalctl graph\`"
		return 0
	fi
	demo_say "graphs (tidalctl graph: demand, forecast band, reservation)"
	mkdir -p "$DEMO_OUT" || return 1
	for spec in "${DL_APPS[@]}"; do
		read -r ar app _ <<<"$spec"
		png=$DEMO_OUT/$ar-$app.png
		if dl_ctl "$ar" graph "$app" -o "$png" --since 1h >/dev/null; then
			demo_note "$png"
		else
			demo_note "no graph for $ar/$app (see above)"
		fi
	done
}

# ---- teardown -------------------------------------------------------------------------------

dl_ifnames() { # every interface of the lab
	local r y
	for r in "${TR_REGIONS[@]}"; do
		for y in "${TR_REGIONS[@]}"; do
			[ "$y" = "$r" ] || tr_if "$r" "$y"
		done
	done
}

dl_stop_bg() { # dl_stop_bg PID WHAT: stop a background job of this shell
	local pid=$1
	[ -n "$pid" ] || return 0
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null
		demo_wait 15 "$2 to stop" dl_gone "$pid" || kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	return 0
}

dl_keep_logs() { # the logs and configs go to DEMO_OUT/logs
	local r
	[ -d "$TR_RUN" ] && mkdir -p "$DEMO_OUT/logs" || return 0
	for r in "${TR_REGIONS[@]}"; do
		cp "$TR_RUN/$r/tidald.log" "$DEMO_OUT/logs/tidald-$r.log" 2>/dev/null
		cp "$TR_RUN/$r/demo.ini" "$DEMO_OUT/logs/tidal-$r.ini" 2>/dev/null
	done
	cp "$TR_RUN"/*.log "$TR_RUN"/frames.jsonl "$DEMO_OUT/logs/" 2>/dev/null
	[ "$DL_FAILED" -eq 0 ] || echo "demo: logs and configs kept in $DEMO_OUT/logs" >&2
}

dl_teardown() {
	local r pid ns pids ifname cmd rc=0
	dl_stop_bg "$DL_WATCH_PID" "the live view"
	DL_WATCH_PID=
	dl_stop_bg "$DL_REPLAY_PID" "the traffic replay"
	DL_REPLAY_PID=
	dl_stop_all || rc=1
	dl_keep_logs
	# Anything still running in the lab's namespaces was started by this demo (FRR is
	# stopped by its pid files below): name it and stop it by pid.
	for r in "${TR_REGIONS[@]}"; do
		ns=$(tr_ns "$r")
		lab_ns_exists "$ns" || continue
		pids=$(ip netns pids "$ns" 2>/dev/null | grep -vxF -f <(lab_frr_pids "$ns") || true)
		for pid in $pids; do
			cmd=$({ tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null)
			dl_fail "stopping pid $pid ($cmd), left in $ns"
			kill -KILL "$pid" 2>/dev/null
			rc=1
		done
	done
	TR_IF_UNIQUE=yes "$DL_LAB/down" "$LAB_PREFIX" || rc=1
	for ifname in $(dl_ifnames); do
		if [ -e "/sys/fs/bpf/tidal/$ifname" ]; then
			rm -rf "/sys/fs/bpf/tidal/$ifname"
			demo_note "removed BPF pins left for $ifname"
		fi
	done
	return $rc
}

dl_check_left() { # is anything of the demo left on the machine?
	local r ns ifname left=()
	for r in "${TR_REGIONS[@]}"; do
		ns=$(tr_ns "$r")
		lab_ns_exists "$ns" && left+=("namespace $ns")
		[ -e "$LAB_FRR_RUN/$ns" ] && left+=("$LAB_FRR_RUN/$ns")
		[ -e "$LAB_FRR_ETC/$ns" ] && left+=("$LAB_FRR_ETC/$ns")
		[ -n "$(lab_frr_pids "$ns" 2>/dev/null)" ] && left+=("FRR daemons of $ns")
	done
	for ifname in $(dl_ifnames); do
		[ -e "/sys/fs/bpf/tidal/$ifname" ] && left+=("BPF pins /sys/fs/bpf/tidal/$ifname")
	done
	for r in "${!DL_PID[@]}"; do
		[ -e "/proc/${DL_PID[$r]}" ] && left+=("tidald of $r (pid ${DL_PID[$r]})")
	done
	[ -e "$TR_RUN" ] && left+=("$TR_RUN")
	if [ ${#left[@]} -gt 0 ]; then
		printf 'demo: left behind: %s\n' "${left[@]}" >&2
		return 1
	fi
	demo_say "clean: no tidald, FRR daemon, iperf3, namespace, BPF pin or run folder left"
}

dl_exit() {
	local rc=$?
	trap - EXIT
	trap '' INT TERM # a second Ctrl-C must not cut the teardown short
	[ $rc -eq 0 ] || DL_FAILED=1
	demo_say "stopping: view, replay, tidalds, FRR, namespaces"
	dl_teardown || rc=1
	dl_check_left || rc=1
	exit $rc
}

# demo_lab quick|full
demo_lab() {
	local hours=$DL_FULL_HOURS
	[ "$1" = quick ] && hours=$DL_QUICK_HOURS
	if [ "$(id -u)" -ne 0 ]; then
		dl_fail "the three-region lab needs root (namespaces, FRR, BPF)"
		return 1
	fi
	command -v iperf3 >/dev/null || { dl_fail "iperf3 is missing"; return 1; }
	trap dl_exit EXIT
	trap 'echo "demo: interrupted" >&2; exit 130' INT TERM
	dl_lab_up || return 1
	demo_say "PKI and configs"
	dl_pki || return 1
	dl_configs || return 1
	dl_history "$hours" || return 1
	dl_start_all || return 1
	dl_features || return 1
	dl_watch || return 1
	dl_results
}
