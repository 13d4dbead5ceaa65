# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# The three-regions lab: regions a, b, c, each a network namespace running FRR (zebra and
# bgpd, pathspace = namespace name), one veth link between each pair, eBGP on every link,
# and one /24 per region on its loopback (.1 = the region's own host address).
#
#            10.255.1.0/30              10.255.2.0/30
#    a (AS 65001) ------------ b (AS 65002) ------------ c (AS 65003)
#    10.1.0.0/24  .1 to-b  to-a .2  10.2.0.0/24  .1 to-c  to-b .2  10.3.0.0/24
#         \ .1 to-c                                       to-a .2 /
#          \____________________ 10.255.3.0/30 __________________/
#
# Sourced by up, down, the frr suite's tests and tools/demo. LAB_PREFIX (default `tdlfrr-`)
# prefixes every namespace and pathspace name, so several copies can coexist.
# Interfaces are named to-<peer> (as drawn), or with TR_IF_UNIQUE=yes <prefix><region><peer>
# (e.g. tdldemo-ab), unique on the host: tidal's BPF pins are per interface name, and bpffs
# is shared by every network namespace.

LAB_PREFIX=${LAB_PREFIX:-tdlfrr-}
TR_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TR_REGIONS=(a b c)
declare -A TR_ASN=([a]=65001 [b]=65002 [c]=65003)
declare -A TR_SITE=([a]=10.1.0.0/24 [b]=10.2.0.0/24 [c]=10.3.0.0/24)
declare -A TR_HOST=([a]=10.1.0.1 [b]=10.2.0.1 [c]=10.3.0.1)
# Links "x-y": x's end is .1, y's end is .2; the interface in x towards y is tr_if x y.
TR_LINKS=(a-b b-c a-c)
declare -A TR_NET=([a-b]=10.255.1 [b-c]=10.255.2 [a-c]=10.255.3)
# Folder for the rendered per-region files (frr.conf, tidal.ini).
TR_RUN=${TR_RUN:-/run/tidal-lab/${LAB_PREFIX}three-regions}
TR_IF_UNIQUE=${TR_IF_UNIQUE:-no}

tr_ns() { # tr_ns REGION: the namespace (and FRR pathspace) of a region
	printf '%s%s\n' "$LAB_PREFIX" "$1"
}

tr_if() { # tr_if X Y: the name of X's interface towards Y
	if [ "$TR_IF_UNIQUE" = yes ]; then
		local n="$LAB_PREFIX$1$2"
		if [ ${#n} -gt 15 ]; then
			echo "topology: interface name $n is over 15 characters: shorten LAB_PREFIX" >&2
			return 1
		fi
		printf '%s\n' "$n"
	else
		printf 'to-%s\n' "$2"
	fi
}

tr_link_of() { # tr_link_of X Y: the link name between regions X and Y
	local l
	for l in "${TR_LINKS[@]}"; do
		if [ "$l" = "$1-$2" ] || [ "$l" = "$2-$1" ]; then
			printf '%s\n' "$l"
			return 0
		fi
	done
	return 1
}

tr_addr() { # tr_addr X Y: X's address on its link to Y
	local l
	l=$(tr_link_of "$1" "$2") || return 1
	if [ "${l%%-*}" = "$1" ]; then
		printf '%s.1\n' "${TR_NET[$l]}"
	else
		printf '%s.2\n' "${TR_NET[$l]}"
	fi
}

# tr_render TEMPLATE REGION: print TEMPLATE with @NAME@ placeholders filled in for REGION:
# @NS@, @REGION@, @ASN@, @SITE@, @HOST@, and for each other region Y: @ADDR_Y@ (this
# region's address towards Y), @PEER_Y@ (Y's address towards this region), @ASN_Y@,
# @IF_Y@ (this region's interface towards Y).
tr_render() {
	local tpl=$1 r=$2 y args=()
	args+=(-e "s|@NS@|$(tr_ns "$r")|g" -e "s|@REGION@|$r|g" -e "s|@ASN@|${TR_ASN[$r]}|g"
		-e "s|@SITE@|${TR_SITE[$r]}|g" -e "s|@HOST@|${TR_HOST[$r]}|g"
		-e "s|@RUN@|$TR_RUN|g")
	for y in "${TR_REGIONS[@]}"; do
		[ "$y" = "$r" ] && continue
		local Y=${y^^}
		args+=(-e "s|@ADDR_$Y@|$(tr_addr "$r" "$y")|g" -e "s|@PEER_$Y@|$(tr_addr "$y" "$r")|g"
			-e "s|@ASN_$Y@|${TR_ASN[$y]}|g" -e "s|@NS_$Y@|$(tr_ns "$y")|g"
			-e "s|@SITE_$Y@|${TR_SITE[$y]}|g" -e "s|@IF_$Y@|$(tr_if "$r" "$y")|g")
	done
	sed "${args[@]}" "$tpl"
}
