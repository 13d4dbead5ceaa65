#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Score forecasts with the M4 measures and print a method x metric table.

score.py TRAIN.csv TEST.csv H M TIDAL.json NAIVE2.json [R.csv]
  TRAIN/TEST  wide CSV rows (id, values); only the ids in TIDAL.json are scored
  M           MASE lag (24 for hourly)
  TIDAL.json  tidal-forecast -j output (quantiles 0.025 and 0.975 included)
  NAIVE2.json tidal-forecast --models naive2 -j output: the OWA reference
  R.csv       r_methods.R output (id,method,h,mean,lo95,hi95,seconds)
"""
import csv
import json
import sys


def rows(path):
    out = {}
    with open(path, newline="") as f:
        for r in csv.reader(f):
            if not r or r[0] in ("V1", "id"):
                continue
            vals = [float(v) for v in r[1:] if v.strip() not in ("", "NA")]
            out[r[0]] = vals
    return out


def measures(train, y, f, lo, hi, m):
    h = len(y)
    scale = sum(abs(train[t] - train[t - m]) for t in range(m, len(train))) / (len(train) - m)
    smape = sum(200 * abs(a - b) / (abs(a) + abs(b)) for a, b in zip(y, f)) / h
    mase = sum(abs(a - b) for a, b in zip(y, f)) / h / scale
    if lo is None:
        return smape, mase, None, None
    a = 0.05
    msis = sum((u - l) + 2 / a * max(l - v, 0) + 2 / a * max(v - u, 0)
               for v, l, u in zip(y, lo, hi)) / h / scale
    cov = sum(1 for v, l, u in zip(y, lo, hi) if l <= v <= u) / h
    return smape, mase, msis, cov


def tidal_fc(path):
    d = json.load(open(path))
    out = {}
    for s in d["series"]:
        fc = s["forecast"]
        q = [x["quantiles"] for x in fc]
        out[s["id"]] = ([x["point"] for x in fc], [x.get("0.025") for x in q],
                        [x.get("0.975") for x in q], s.get("seconds", 0.0), s["model"])
    return out


def main():
    train, test = rows(sys.argv[1]), rows(sys.argv[2])
    h, m = int(sys.argv[3]), int(sys.argv[4])
    tidal = tidal_fc(sys.argv[5])
    naive2 = tidal_fc(sys.argv[6])
    ids = sorted(tidal, key=lambda i: list(train).index(i))
    methods = {"tidal": {i: tidal[i][:4] for i in ids}}
    if len(sys.argv) > 7:
        with open(sys.argv[7], newline="") as f:
            for r in csv.DictReader(f):
                d = methods.setdefault("R " + r["method"], {}).setdefault(
                    r["id"], ([], [], [], float(r["seconds"])))
                d[0].append(float(r["mean"]))
                d[1].append(float(r["lo95"]))
                d[2].append(float(r["hi95"]))
    ref = {}
    for i in ids:
        ref[i] = measures(train[i], test[i][:h], naive2[i][0], None, None, m)
    print("%-14s %4s %8s %8s %7s %8s %7s %11s" %
          ("method", "n", "sMAPE", "MASE", "OWA", "MSIS", "cov95", "s/series"))
    secs = {}
    for name, fcs in methods.items():
        common = [i for i in ids if i in fcs and len(fcs[i][0]) >= h]
        if not common:
            continue
        acc = [measures(train[i], test[i][:h], fcs[i][0][:h], fcs[i][1][:h], fcs[i][2][:h], m)
               for i in common]
        n = len(common)
        smape = sum(a[0] for a in acc) / n
        mase = sum(a[1] for a in acc) / n
        r_s = sum(ref[i][0] for i in common) / n
        r_m = sum(ref[i][1] for i in common) / n
        owa = 0.5 * (smape / r_s + mase / r_m)
        msis = sum(a[2] for a in acc) / n
        cov = sum(a[3] for a in acc) / n
        secs[name] = sum(fcs[i][3] for i in common) / n
        print("%-14s %4d %8.3f %8.3f %7.3f %8.3f %6.1f%% %11.4f" %
              (name, n, smape, mase, owa, msis, 100 * cov, secs[name]))
    if "R arima" in secs and secs.get("tidal", 0) > 0:
        print("CPU per series: R auto.arima / tidal-forecast = %.0fx" %
              (secs["R arima"] / secs["tidal"]))
    print("tidal models chosen: " + ", ".join("%s %s" % (i, tidal[i][4]) for i in ids))


main()
