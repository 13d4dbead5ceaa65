# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# tools/lib/demo.sh: small helpers shared by the demo's two modes (tools/lib/demo-single.sh,
# tools/lib/demo-lab.sh): headings, notes about what is skipped, polling to a deadline, the
# metrics endpoint. Sourced by tools/demo; defines functions only.

demo_say() { # a heading
	if [ -t 1 ]; then
		printf '\n\033[1m== %s\033[0m\n' "$*"
	else
		printf '\n== %s\n' "$*"
	fi
}

demo_note() { # an indented line under a heading
	printf '  %s\n' "$*"
}

demo_skip() { # demo_skip WHAT WHY: say what is left out and why
	printf '  skipped: %s (%s)\n' "$1" "$2"
}

demo_now_ms() {
	local up
	read -r up _ </proc/uptime
	printf '%s\n' "$((${up%.*} * 1000 + 10#${up#*.} * 10))"
}

# demo_wait TIMEOUT_S DESCRIPTION CMD...: run CMD until it succeeds; on timeout say what was
# awaited and return 1.
demo_wait() {
	local timeout=$1 what=$2
	shift 2
	local deadline=$(($(demo_now_ms) + timeout * 1000))
	until "$@" >/dev/null 2>&1; do
		if [ "$(demo_now_ms)" -ge "$deadline" ]; then
			echo "demo: timed out after ${timeout}s waiting for $what" >&2
			return 1
		fi
		sleep 0.1
	done
}

# demo_metrics HOST:PORT [PATTERN] [NETNS]: print the tidal_ and process_ lines of /metrics
# (or only those matching the regular expression PATTERN), fetched from inside the network
# namespace NETNS when given.
demo_metrics() {
	local run=()
	[ -n "${3:-}" ] && run=(nsenter --net="/var/run/netns/$3")
	"${run[@]}" python3 - "$1" "${2:-^(tidal|process)_}" <<'PY'
import re, sys, urllib.request
text = urllib.request.urlopen("http://%s/metrics" % sys.argv[1], timeout=10).read().decode()
for line in text.splitlines():
    if re.match(sys.argv[2], line):
        print("  " + line)
PY
}
