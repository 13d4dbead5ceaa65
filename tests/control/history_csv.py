#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Write an hourly demand history for `tidalctl ingest` from the real traffic series in the
shared data folder (never copied into the tree), shifted in time so that it ends at a
chosen hour.

  history_csv.py DATA_DIR SOURCE HOURS END_UNIX OUT.csv [SKIP_HOURS]

SOURCE: cortez-eu  Cortez et al. 2012, ISP transatlantic link A, hourly bits per hour
        cesnet     CESNET-TimeSeries24, IP 103, hourly bytes (the missing hour stays out)
The values become bits per second. Lines are "unix_seconds,bps", the last at END_UNIX.
SKIP_HOURS drops that many hours at the start of the source first.
"""
import csv
import os
import sys


def cortez_eu(data):
    path = os.path.join(data, "traffic", "cortez2012-tsdl-internet-traffic",
                        "internet-traffic-data-in-bits-fr-EU_hourly.csv")
    with open(path, newline="") as f:
        rows = list(csv.reader(f))[1:]  # the first line is the TSDL description
    return [float(r[1]) / 3600.0 for r in rows if len(r) >= 2 and r[1].strip()]


def cesnet(data):
    path = os.path.join(data, "traffic", "cesnet-timeseries24-ip103", "103.csv")
    by_id = {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            by_id[int(r["id_time"])] = float(r["n_bytes"]) * 8 / 3600.0
    last = max(by_id)
    return [by_id.get(i) for i in range(last + 1)]


def main():
    data, source, hours, end, out = sys.argv[1:6]
    skip = int(sys.argv[6]) if len(sys.argv) > 6 else 0
    values = {"cortez-eu": cortez_eu, "cesnet": cesnet}[source](data)[skip:]
    hours, end = int(hours), int(end)
    if len(values) < hours:
        sys.exit("%s has %d hours, fewer than the %d asked for" % (source, len(values), hours))
    values = values[:hours]
    with open(out, "w") as f:
        f.write("timestamp,bps\n")
        for i, v in enumerate(values):
            if v is not None:
                f.write("%d,%.6f\n" % (end - (hours - 1 - i) * 3600, v))


if __name__ == "__main__":
    main()
