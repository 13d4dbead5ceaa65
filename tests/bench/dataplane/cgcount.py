# SPDX-License-Identifier: Apache-2.0
"""Instructions per packet of the DPDK programs of bench.py, counted by callgrind.

bench.py --instructions runs qos_sched and tidal-dp once each under
`valgrind --tool=callgrind --fair-sched=yes --separate-threads=yes` (no hugepages, same
profiles and traffic as the Mpps runs), switches counting on once packets flow, counts
for a window of seconds, dumps, and divides every lcore thread's instructions by the
packets that went through it: the scheduling lcore per packet sent, the rx lcore per
packet received (and per packet sent). Instruction counts do not depend on what else the
machine runs, so they compare the programs where Mpps cannot; they do not see cache
misses. valgrind runs one thread at a time (fair-sched alternates them), so the slower
lcore is saturated, as it is natively; an lcore waiting on a full or empty ring spins in
`rte_pause`, which valgrind turns into a yield, so waiting costs almost nothing here.

tidal-dp folds rte_sched's queue statistics into its class counters every 100 ms
(stats_interval): that costs per second, not per packet, and valgrind's 50x slowdown
would inflate it per packet, so it is reported apart and left out of the per-packet
figures.
"""
import glob
import os
import re
import subprocess
import time

import bench

def wrap(work, k):
    return ["valgrind", "--tool=callgrind", "--fair-sched=yes", "--separate-threads=yes",
            "--instr-atstart=no", "--callgrind-out-file=%s" % os.path.join(work, "cg-%s.%%p" % k)]


def ipackets(prefix, port):
    return bench.telemetry(prefix, "/ethdev/stats,%d" % port)["/ethdev/stats"]["ipackets"]


def inclusive(path, fn):
    out = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", path],
                         capture_output=True, text=True).stdout
    for line in out.splitlines():
        m = re.match(r"\s*([\d,]+) .*:%s \[" % re.escape(fn), line)
        if m:
            return int(m.group(1).replace(",", ""))
    return 0


def measure(spec, a, work, k):
    secs = max(a.seconds, 10.0)
    log = spec["log"]
    with open(log, "a") as lf:
        lf.write("\n$ %s\n" % " ".join(spec["cmd"]))
        lf.flush()
        p = subprocess.Popen(spec["cmd"], stdout=lf, stderr=subprocess.STDOUT,
                             stdin=subprocess.PIPE, start_new_session=True)
    try:
        bench.wait_sending(p, spec, timeout=900)
        time.sleep(max(a.warmup, 5.0))
        subprocess.run(["callgrind_control", "-i", "on", str(p.pid)], check=True,
                       capture_output=True)
        tx0, rx0 = bench.opackets(spec["prefix"], 1), ipackets(spec["prefix"], 0)
        time.sleep(secs)
        tx1, rx1 = bench.opackets(spec["prefix"], 1), ipackets(spec["prefix"], 0)
        subprocess.run(["callgrind_control", "-d", str(p.pid)], check=True,
                       capture_output=True)
    finally:
        bench.stop(p, spec["prefix"])
    res = {"tx": tx1 - tx0, "rx": rx1 - rx0, "seconds": secs, "lcores": {}, "fold": 0}
    # the scheduling lcore is the thread that calls rte_sched_port_dequeue, the rx lcore
    # the busiest other one (the rest, telemetry and the idle main lcore of qos_sched,
    # count next to nothing)
    others = []
    for path in sorted(glob.glob(os.path.join(work, "cg-%s.%d.1-*" % (k, p.pid)))):
        with open(path, errors="replace") as f:
            text = f.read()
        total = re.search(r"^(?:summary|totals): (\d+)", text, re.M)
        if not total:
            continue
        n = int(total.group(1))
        if re.search(r"^c?fn=\(\d+\) rte_sched_port_dequeue$", text, re.M):
            fold = inclusive(path, "dp_sched_fold")
            res["fold"] += fold
            res["lcores"]["sched"] = res["lcores"].get("sched", 0) + n - fold
        else:
            others.append(n)
    if others:
        res["lcores"]["rx"] = max(others)
    if res["tx"] <= 0 or set(res["lcores"]) != {"rx", "sched"}:
        raise RuntimeError("%s: no packets or lcores not found under callgrind (see %s)" %
                           (k, log))
    return res


def report(out, names):
    print()
    print("Instructions per packet (callgrind; tx = packets sent, rx = packets received)")
    for k, r in out.items():
        s, x = r["lcores"]["sched"], r["lcores"]["rx"]
        print("(%s) %-30s sched lcore %5.0f per tx | rx lcore %5.0f per rx, %5.0f per tx | "
              "both %5.0f per tx" % (k, names[k], s / r["tx"], x / r["rx"], x / r["tx"],
                                     (s + x) / r["tx"]))
        if r["fold"]:
            print("    (left out: stats folds, %.0f instructions each, 10 per second)" %
                  (r["fold"] / (r["seconds"] * 10)))
    if "b" in out:
        b = out["b"]["lcores"]["sched"] / out["b"]["tx"]
        for k in out:
            if k != "b":
                c = out[k]["lcores"]["sched"] / out[k]["tx"]
                print("sched lcore instructions per packet, b/%s = %.2f" % (k, b / c))
