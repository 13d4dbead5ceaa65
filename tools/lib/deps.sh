# SPDX-License-Identifier: Apache-2.0
# Sourced by tools/test and tools/demo: install the Debian 12 packages tidal needs.
# Idempotent: runs apt-get (update once, then install) only when something is missing.

TIDAL_PACKAGES=(
	# build
	meson ninja-build pkg-config gcc clang llvm libclang-rt-14-dev
	libiniparser-dev libevent-dev libssl-dev openssl libjansson-dev libsqlite3-dev sqlite3
	libbpf-dev bpftool libxdp-dev xdp-tools linux-headers-amd64
	libdpdk-dev dpdk dpdk-dev libpcap-dev
	libgsl-dev librrd-dev rrdtool libcmocka-dev
	# tests and labs
	iproute2 iputils-ping iperf3 netsniff-ng tcpdump traceroute ethtool frr prometheus
	valgrind python3 procps psmisc util-linux kmod
)

tidal_missing_packages() {
	local p missing=()
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] || printf '%s\n' "${missing[@]}"
}

# tidal_install_packages [extra packages...]
tidal_install_packages() {
	local missing
	mapfile -t missing < <(tidal_missing_packages "${TIDAL_PACKAGES[@]}" "$@")
	[ "${#missing[@]}" -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "tidal: missing Debian packages: ${missing[*]}" >&2
		echo "tidal: run as root to install them, or: apt-get install ${missing[*]}" >&2
		return 1
	fi
	echo "tidal: installing ${#missing[@]} Debian packages: ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null || { echo "tidal: apt-get update failed" >&2; return 1; }
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
		{ echo "tidal: apt-get install failed for: ${missing[*]}" >&2; return 1; }
	# frr's package starts the default instance; tidal's labs run their own per namespace.
	if printf '%s\n' "${missing[@]}" | grep -qx frr; then
		systemctl disable --now frr >/dev/null 2>&1 || service frr stop >/dev/null 2>&1 || true
	fi
}

# Build tree in $1 (default build), optionally with extra meson options.
tidal_build() {
	local dir=${1:-build}
	shift || true
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" "$@" >"$dir.setup.log" 2>&1 ||
			{ cat "$dir.setup.log" >&2; echo "tidal: meson setup $dir failed" >&2; return 1; }
	fi
	rm -f "$dir.setup.log"
	ninja -C "$dir" >"$dir.ninja.log" 2>&1 ||
		{ tail -n 60 "$dir.ninja.log" >&2; echo "tidal: build in $dir failed" >&2; return 1; }
	rm -f "$dir.ninja.log"
}

# Host facilities the tests and the demo use: bpffs, unlimited locked memory for BPF maps.
tidal_host_setup() {
	[ "$(id -u)" -eq 0 ] || return 0
	if ! mountpoint -q /sys/fs/bpf; then
		mount -t bpf bpf /sys/fs/bpf || { echo "tidal: cannot mount bpffs" >&2; return 1; }
	fi
	ulimit -l unlimited 2>/dev/null || true
	mkdir -p /run/tidal
}
