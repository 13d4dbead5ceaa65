#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# tests/bench/dataplane/run.sh [bench.py options]: the dataplane benchmark (bench.py says
# what is measured). As root, on demand (never part of tools/test): installs what is
# missing (dpdk-doc for the qos_sched source, valgrind), builds the tree and DPDK's
# qos_sched example in build/, gives DPDK 1024 hugepages on a private hugetlbfs mount for
# the run, and puts everything back afterwards.
#
#   tests/bench/dataplane/run.sh                        5 rounds of a, b, c, d, e
#   tests/bench/dataplane/run.sh --rounds 9 --only bc   9 rounds of qos_sched and tidal-dp
#   tests/bench/dataplane/run.sh --instructions         instructions per packet (callgrind)
set -uo pipefail
top=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$top" || exit 2
. tools/lib/deps.sh

[ "$(id -u)" -eq 0 ] || { echo "run.sh: needs root (hugepages, namespaces)" >&2; exit 2; }
tidal_install_packages dpdk-doc valgrind || exit 1
tidal_build build || exit 1

qos=build/bench-qos_sched
if [ ! -x "$qos/build/qos_sched" ]; then
	rm -rf "$qos"
	cp -r /usr/share/dpdk/examples/qos_sched "$qos" || exit 1
	make -C "$qos" >"$qos.log" 2>&1 || { tail -20 "$qos.log" >&2; exit 1; }
fi

huge=$(mktemp -d /tmp/tdlbench-huge.XXXXXX)
old_nr=$(cat /proc/sys/vm/nr_hugepages)
cleanup() {
	umount "$huge" 2>/dev/null
	rmdir "$huge" 2>/dev/null
	echo "$old_nr" >/proc/sys/vm/nr_hugepages
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mount -t hugetlbfs -o pagesize=2M nodev "$huge" || exit 1
[ "$old_nr" -ge 1024 ] || echo 1024 >/proc/sys/vm/nr_hugepages
free_pages=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
[ "$free_pages" -ge 900 ] || { echo "run.sh: only $free_pages free hugepages" >&2; exit 1; }

python3 tests/bench/dataplane/bench.py --tidal-dp build/dataplane/tidal-dp \
	--dpctl build/dataplane/tidal-dpctl --qos-sched "$qos/build/qos_sched" \
	--huge "$huge" "$@"
