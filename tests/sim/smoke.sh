#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# tidal-sim smoke test (suite sim) on tests/sim/small.ini (Cortez and CESNET series): the
# oracle never misses, no policy books beyond a capacity or is refused a booking, the
# metrics add up, the plot is a PNG; bad scenarios and bad usage fail with a clear message.
set -euo pipefail
: "${TIDAL_SIM:?}" "${TIDAL_SRC:?}" "${TIDAL_DATA:?}"
work=$(mktemp -d /tmp/tdlsim-XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$TIDAL_SIM" -t "$TIDAL_SRC/tests/sim/small.ini" --traces "$TIDAL_DATA/traffic" -j --threads 1 \
	--plot a-b -o "$work/a-b.png" >"$work/r.json" || fail "tidal-sim exited $?"

python3 - "$work/r.json" <<'PY' || fail "metrics check"
import json, sys
d = json.load(open(sys.argv[1]))
pol = d["policies"]
assert set(pol) == {"static", "reactive", "proactive", "oracle"}, pol.keys()
def close(a, b, what, name):
    assert abs(a - b) <= 1e-6 * max(abs(a), abs(b), 1.0), "%s: %s %r != %r" % (name, what, a, b)
for name, m in pol.items():
    assert m["max_link_utilisation"] <= 1.0 + 1e-12, (name, m["max_link_utilisation"])
    assert m["refused"] == 0, (name, "refused bookings", m["refused"])
    assert m["demand_bits"] > 0 and m["cycles"] > 0, name
    close(m["demand_bits"], m["served_bits"] + m["unserved_bits"], "demand", name)
    close(m["reserved_bit_hours"], m["used_bit_hours"] + m["unused_bit_hours"], "reserved", name)
    close(m["served_bits"] / 3600.0, m["used_bit_hours"], "served vs used", name)
    close(sum(m["violation_minutes_by_priority"]), m["violation_minutes"], "violations", name)
    assert m["unserved_bits"] >= 0 and m["unused_bit_hours"] >= 0, name
    assert (m["violation_minutes"] == 0) == (m["unserved_bits"] == 0), name
o = pol["oracle"]
assert o["violation_minutes"] == 0 and o["unserved_bits"] == 0, ("oracle missed", o)
assert o["pools"]["violation_minutes"] == 0, ("oracle missed a pool", o["pools"])
assert o["requests"] > 0, "oracle booked nothing"
# The a-b link is short at the EU class's peaks: only transit through c serves the oracle.
assert pol["static"]["level_changes"] == 0, ("static changed", pol["static"]["level_changes"])
assert pol["proactive"]["forecast_rounds"] > 0, "proactive never forecast"
for name in ("static", "reactive", "proactive"):
    assert pol[name]["reserved_bit_hours"] > 0, name
print("ok: oracle 0 violations; proactive %.0f, reactive %.0f violation minutes" %
      (pol["proactive"]["violation_minutes"], pol["reactive"]["violation_minutes"]))
PY

[ "$(head -c 8 "$work/a-b.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
	fail "the plot is not a PNG"

# Errors: an unknown key names file, section and key; usage errors exit 2.
sed 's/^lease_lead = 15m/lease_lead = 15m\nleas_lead = 1m/' "$TIDAL_SRC/tests/sim/small.ini" \
	>"$work/bad.ini"
set +e
"$TIDAL_SIM" -t "$work/bad.ini" --traces "$TIDAL_DATA/traffic" >/dev/null 2>"$work/err"
rc=$?
set -e
[ $rc -eq 1 ] || fail "bad scenario exited $rc"
grep -q "bad.ini: \[sim\] unknown key 'leas_lead'" "$work/err" || fail "message: $(cat "$work/err")"
set +e
"$TIDAL_SIM" -t "$TIDAL_SRC/tests/sim/small.ini" --policy psychic >/dev/null 2>&1
rc=$?
"$TIDAL_SIM" >/dev/null 2>&1
rc2=$?
"$TIDAL_SIM" -t "$TIDAL_SRC/tests/sim/small.ini" --traces /nonexistent >/dev/null 2>"$work/err"
rc3=$?
set -e
[ $rc -eq 2 ] && [ $rc2 -eq 2 ] || fail "usage errors exited $rc and $rc2"
[ $rc3 -eq 1 ] && grep -q "/nonexistent/" "$work/err" || fail "missing trace: $rc3 $(cat "$work/err")"
echo "ok"
