# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# tests/lab/lib.sh: helpers shared by the network-namespace labs (tests/lab/<scenario>/),
# their tests and tools/demo. Sourced, never executed.
#
# Owns: the namespaces, veth pairs and FRR pathspaces (/etc/frr/NS,
# /var/run/frr/NS) that its callers name; every name a lab creates starts with the lab's
# prefix (tests use a per-suite prefix such as `tdlfrr-`, the demo its own), so labs of
# different suites can coexist on one machine.
#
# Never: kills a process by name (daemons are stopped by the pid files in their pathspace),
# sleeps as synchronisation (every wait polls a condition to a deadline), touches a namespace,
# pathspace or the default FRR instance it was not asked about.
#
# Every function returns non-zero with a message on stderr when something fails; callers
# run with `set -e` or check, and install `trap lab_... EXIT` to tear down on failure.

LAB_FRR_SBIN=${LAB_FRR_SBIN:-/usr/lib/frr}
LAB_FRR_ETC=${LAB_FRR_ETC:-/etc/frr}
LAB_FRR_RUN=${LAB_FRR_RUN:-/var/run/frr}
LAB_VTYSH=${LAB_VTYSH:-vtysh}
LAB_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_POLL_INTERVAL=${LAB_POLL_INTERVAL:-0.2}

lab_log() {
	printf 'lab: %s\n' "$*" >&2
}

lab_fail() {
	printf 'lab: error: %s\n' "$*" >&2
	return 1
}

# Milliseconds on a monotonic clock.
lab_now_ms() {
	local up
	read -r up _ </proc/uptime
	printf '%s\n' "$(( ${up%.*} * 1000 + 10#${up#*.} * 10 ))"
}

# lab_wait TIMEOUT_S DESCRIPTION CMD [ARGS...]
# Run CMD until it succeeds or TIMEOUT_S seconds have passed. On timeout, print the
# description and CMD's last output, and return 1.
lab_wait() {
	local timeout=$1 what=$2
	shift 2
	local deadline=$(( $(lab_now_ms) + timeout * 1000 )) out
	while :; do
		if out=$("$@" 2>&1); then
			return 0
		fi
		if [ "$(lab_now_ms)" -ge "$deadline" ]; then
			lab_fail "timed out after ${timeout}s waiting for $what"
			[ -n "$out" ] && printf '%s\n' "$out" | tail -n 20 | sed 's/^/lab:   /' >&2
			return 1
		fi
		sleep "$LAB_POLL_INTERVAL"
	done
}

# ---- namespaces and links ----------------------------------------------------------------

lab_ns_exists() {
	[ -e "/var/run/netns/$1" ]
}

# lab_ns_add NS: a fresh namespace with loopback up, IPv4 forwarding on and reverse-path
# filtering off (lab paths are deliberately asymmetric once traffic is steered).
lab_ns_add() {
	local ns=$1
	lab_ns_exists "$ns" && { lab_fail "namespace $ns already exists"; return 1; }
	ip netns add "$ns" || { lab_fail "ip netns add $ns failed"; return 1; }
	ip -n "$ns" link set lo up || return 1
	lab_ns_sysctl "$ns" net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0 net.ipv6.conf.all.forwarding=1
}

# lab_ns_sysctl NS KEY=VALUE...: set per-namespace sysctls through /proc/sys.
lab_ns_sysctl() {
	local ns=$1 kv key val
	shift
	for kv in "$@"; do
		key=${kv%%=*}
		val=${kv#*=}
		nsenter --net="/var/run/netns/$ns" sh -c "echo $val > /proc/sys/${key//.//}" ||
			{ lab_fail "sysctl $kv in $ns failed"; return 1; }
	done
}

# lab_ns_del NS: delete the namespace (its veths and dummies go with it). No-op if absent.
lab_ns_del() {
	lab_ns_exists "$1" || return 0
	ip netns del "$1" || { lab_fail "ip netns del $1 failed"; return 1; }
}

# lab_veth NS1 IF1 NS2 IF2: a veth pair between two namespaces, both ends up. The pair is
# created inside NS1 so no name ever appears in the root namespace.
lab_veth() {
	local ns1=$1 if1=$2 ns2=$3 if2=$4
	ip -n "$ns1" link add "$if1" type veth peer name "$if2" netns "$ns2" ||
		{ lab_fail "veth $ns1:$if1 <-> $ns2:$if2 failed"; return 1; }
	ip -n "$ns1" link set "$if1" up && ip -n "$ns2" link set "$if2" up
}

# lab_addr NS IF ADDR/LEN
lab_addr() {
	ip -n "$1" addr add "$3" dev "$2" || { lab_fail "address $3 on $1:$2 failed"; return 1; }
}

# ---- FRR per namespace (pathspace = namespace name) -------------------------------------

lab_vtysh() { # lab_vtysh NS COMMAND...
	local ns=$1 c args=()
	shift
	for c in "$@"; do
		args+=(-c "$c")
	done
	"$LAB_VTYSH" -N "$ns" "${args[@]}"
}

# lab_frr_pids NS: pids of the live daemons recorded in NS's pathspace, one per line.
# A pid file whose process is gone, or is not an FRR daemon of this pathspace, is ignored.
lab_frr_pids() {
	local ns=$1 f pid cmd
	for f in "$LAB_FRR_RUN/$ns"/*.pid; do
		[ -f "$f" ] || continue
		read -r pid <"$f" 2>/dev/null || continue
		[[ $pid =~ ^[0-9]+$ ]] || continue
		[ -r "/proc/$pid/cmdline" ] || continue
		cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline")
		case " $cmd " in
		*" -N $ns "*) printf '%s\n' "$pid" ;;
		esac
	done
}

# lab_frr_start NS CONF DAEMON...: write CONF as NS's frr.conf and start each daemon
# (zebra first) in NS with pathspace NS; wait until vtysh reaches all of them.
lab_frr_start() {
	local ns=$1 conf=$2 d
	shift 2
	[ -x "$LAB_FRR_SBIN/zebra" ] || { lab_fail "FRR is not installed ($LAB_FRR_SBIN/zebra)"; return 1; }
	if [ -n "$(lab_frr_pids "$ns")" ]; then
		lab_fail "FRR daemons of pathspace $ns are already running"
		return 1
	fi
	if [ ! -d "$LAB_FRR_RUN" ]; then # the frr package's init creates it; we may run without
		install -d -o frr -g frr -m 0755 "$LAB_FRR_RUN" || return 1
	fi
	mkdir -p "$LAB_FRR_ETC/$ns" "$LAB_FRR_RUN/$ns" || return 1
	install -m 0640 "$conf" "$LAB_FRR_ETC/$ns/frr.conf" || return 1
	: >"$LAB_FRR_ETC/$ns/vtysh.conf"
	chown -R frr:frr "$LAB_FRR_ETC/$ns" "$LAB_FRR_RUN/$ns" || return 1
	chgrp frrvty "$LAB_FRR_ETC/$ns/vtysh.conf" 2>/dev/null || true
	for d in "$@"; do
		ip netns exec "$ns" "$LAB_FRR_SBIN/$d" -d -N "$ns" -f "$LAB_FRR_ETC/$ns/frr.conf" \
			-i "$LAB_FRR_RUN/$ns/$d.pid" --log file:"$LAB_FRR_RUN/$ns/$d.log" \
			2>>"$LAB_FRR_RUN/$ns/$d.start.log" || {
			cat "$LAB_FRR_RUN/$ns/$d.start.log" >&2
			lab_fail "$d did not start in $ns (log: $LAB_FRR_RUN/$ns/$d.log)"
			return 1
		}
	done
	lab_wait 30 "FRR daemons ($*) of $ns to answer vtysh" _lab_frr_answers "$ns" "$@"
}

_lab_frr_answers() {
	local ns=$1 d
	shift
	for d in "$@"; do
		"$LAB_VTYSH" -N "$ns" -d "$d" -c 'show version' >/dev/null 2>&1 || return 1
	done
}

# lab_frr_stop NS...: stop the daemons of each pathspace NS by their pid files (TERM to
# all at once, then KILL after a deadline) and remove the pathspace folders. No-op when
# nothing runs.
lab_frr_stop() {
	local ns pids=() pid
	for ns in "$@"; do
		mapfile -t -O "${#pids[@]}" pids < <(lab_frr_pids "$ns")
	done
	for pid in "${pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	if [ ${#pids[@]} -gt 0 ] &&
		! lab_wait 10 "FRR daemons of $* to exit" _lab_pids_gone "${pids[@]}"; then
		for pid in "${pids[@]}"; do
			kill -KILL "$pid" 2>/dev/null || true
		done
		lab_wait 5 "FRR daemons of $* to die" _lab_pids_gone "${pids[@]}" || return 1
	fi
	# Only the pathspace folders (never /etc/frr or /var/run/frr themselves).
	for ns in "$@"; do
		[ -n "$ns" ] && rm -rf "${LAB_FRR_ETC:?}/$ns" "${LAB_FRR_RUN:?}/$ns"
	done
	return 0
}

_lab_pids_gone() {
	local pid
	for pid in "$@"; do
		[ -e "/proc/$pid" ] && return 1
	done
	return 0
}

# lab_frr_logs NS: print the tail of NS's daemon logs (for failure reports).
lab_frr_logs() {
	local f
	for f in "$LAB_FRR_RUN/$1"/*.log; do
		[ -f "$f" ] || continue
		printf '==> %s <==\n' "$f" >&2
		tail -n 30 "$f" >&2
	done
}

# ---- polled JSON state --------------------------------------------------------------------

# lab_json_match NS COMMAND EXPECTED: does the JSON output of `vtysh -N NS -c COMMAND`
# contain EXPECTED (a file or an inline JSON document)? Topotest semantics: objects match
# when every expected key matches (null = the key must be absent), lists when every
# expected element matches some element. Prints the differences when it does not.
lab_json_match() {
	local ns=$1 cmd=$2 expected=$3 out
	out=$("$LAB_VTYSH" -N "$ns" -c "$cmd" 2>&1) || { printf '%s\n' "$out"; return 1; }
	printf '%s' "$out" | python3 "$LAB_LIB_DIR/json-match" "$expected"
}

# lab_wait_json TIMEOUT_S NS COMMAND EXPECTED
lab_wait_json() {
	lab_wait "$1" "'$3' in $2 to match $4" lab_json_match "$2" "$3" "$4"
}

# lab_bgp_wait_up TIMEOUT_S NS PEER_ADDR...: every listed BGP neighbor Established.
lab_bgp_wait_up() {
	local timeout=$1 ns=$2 peer
	shift 2
	for peer in "$@"; do
		lab_wait_json "$timeout" "$ns" "show bgp neighbors $peer json" \
			"{\"$peer\": {\"bgpState\": \"Established\"}}" || return 1
	done
}

# lab_route_via NS DEST: the next-hop address of the kernel FIB route to DEST in NS
# ("" for a directly connected or missing route).
lab_route_via() {
	ip -n "$1" -o route get "$2" 2>/dev/null |
		sed -n 's/.* via \([0-9a-fA-F.:]*\) .*/\1/p'
}

# lab_wait_route_via TIMEOUT_S NS DEST NEXTHOP
lab_wait_route_via() {
	lab_wait "$1" "the FIB of $2 to reach $3 via $4" _lab_route_is "$2" "$3" "$4"
}

_lab_route_is() {
	local via
	via=$(lab_route_via "$1" "$2")
	[ "$via" = "$3" ] || { printf 'route to %s goes via "%s"\n' "$2" "$via"; ip -n "$1" route get "$2"; return 1; }
}
