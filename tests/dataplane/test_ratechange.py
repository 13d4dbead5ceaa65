#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Live pipe rate changes in the middle of a stream.

One pipe carries a conforming TC 0 stream (3M, far below every rate used) and an
overloading best-effort stream (45M). The pipe starts at 20M; while traffic flows the test
switches it to 40M, then to 10M, over the control socket (each change is a pipe profile
switch applied by the scheduling lcore between two bursts). Checked: in every full 1 s
window of each phase the pipe sends its rate +-5 %; not one TC 0 packet is dropped or
missing from the output across both changes; the change did not stall the pipeline (every
received packet is sent or counted as dropped; the scheduler's profile changes are visible
through telemetry).
"""
import sys
import time

import dplab
import pcapgen
from dplab import ClassDef

CONF = """
[dataplane]
rate = 1G
frame_overhead = 0
subports = 2
pipes = 16
queue_size = 64
tc_period = 40ms
pipe_burst = 40ms
classes = 16
prefixes = 16
prefixes6 = 16
mbufs = 16383
"""
DUR = 8.0
SPEC = {"seed": 11, "streams": [
    {"dst": "198.51.100.0/24", "dscp": 46, "sizes": [200, 800, 1400], "rate": "3M",
     "duration": DUR},
    {"dst": "198.51.100.0/24", "dscp": 0, "sizes": [100, 600, 1000, 1500], "rate": "45M",
     "duration": DUR},
]}
CLASSES = [
    ClassDef(1, 1, 3, 0, dst=["198.51.100.0/24"], dscp=[46]),
    ClassDef(2, 1, 3, 12, queue=2, dst=["198.51.100.0/24"]),
]
PHASES = [(0.0, 20e6), (2.7, 40e6), (5.4, 10e6)]  # (input time of the change, rate)


def main():
    args = dplab.common_args()
    f = dplab.Failures("ratechange")
    packets = pcapgen.generate(SPEC)
    in_t0 = packets[0][0]
    lab = dplab.Lab("rate", args, CONF)
    try:
        lab.start(packets)
        lab.install(CLASSES, rates=[(1, 3, "20M")])
        lab.ctl("rx", "on")
        changes = []  # wall-clock seconds at which each new rate was acknowledged
        for at, rate in PHASES[1:]:
            # wait until the replay has reached `at` seconds of input
            n_due = sum(1 for ts, _, _ in packets if ts - in_t0 < at * 1e9)
            deadline = time.time() + DUR + 30
            while lab.stats()["pairs"][0]["rx_pkts"] < n_due:
                if time.time() > deadline:
                    raise RuntimeError("input did not reach %.1f s" % at)
                time.sleep(0.02)
            lab.ctl("pipe", "rate", "1", "3", "%dM" % (rate / 1e6))
            changes.append(time.time())
            tel = lab.telemetry("/tidal/pipe,0,1,3")["/tidal/pipe"]
            f.check(tel["rate_bps"] == rate, "telemetry shows pipe rate %s after setting %d" %
                    (tel["rate_bps"], rate))
        st = lab.wait_done(len(packets), timeout=DUR + 30)
        print("lcores:", lab.lcore_health())
        f.check(lab.stop() == 0, "tidal-dp did not stop cleanly")

        out = pcapgen.read_pcap(lab.out)
        f.check(len(out) == st["pairs"][0]["tx_pkts"], "capture %d frames, tx counter %d" %
                (len(out), st["pairs"][0]["tx_pkts"]))
        t_first = out[0][0]
        # phase boundaries on the output clock: start, the two acknowledged changes, end of
        # input (the capture clock is CLOCK_REALTIME at start plus TSC time)
        bounds = [t_first] + [int(c * 1e9) for c in changes] + [t_first + int(DUR * 1e9)]
        for k, (_, rate) in enumerate(PHASES):
            lo, hi = bounds[k] + int(0.25e9), bounds[k + 1] - int(0.05e9)
            rates = dplab.window_rates(out, lambda fr: True, lo, hi)
            print("phase %d (%.0fM): %s" % (k, rate / 1e6,
                                            " ".join("%.2fM" % (r / 1e6) for r in rates)))
            f.check(len(rates) >= 1, "phase %d too short for a 1 s window (%.2f s); the "
                    "change came late" % (k, (hi - lo) / 1e9))
            for i, r in enumerate(rates):
                f.check(abs(r - rate) <= 0.05 * rate, "phase %d window %d: %.2fM, want "
                        "%.0fM +-5%%" % (k, i, r / 1e6, rate / 1e6))
        c1, c2 = dplab.class_stats(st, 1), dplab.class_stats(st, 2)
        n1 = sum(1 for _, _, lb in packets if lb["stream"] == 0)
        f.check(c1["rx_pkts"] == n1 and c1["tx_pkts"] == n1 and c1["sched_drop_pkts"] == 0 and
                c1["other_drop_pkts"] == 0, "conforming class lost packets: %s" % c1)
        sent = {pcapgen.tag_of(fr)[1] for _, fr in out if pcapgen.tag_of(fr)[0] == 0}
        want = {lb["seq"] for _, _, lb in packets if lb["stream"] == 0}
        f.check(sent == want, "%d conforming packets missing from the output" %
                len(want - sent))
        f.check(c2["sched_drop_pkts"] > 0, "best effort was not overloaded")
        for c in (c1, c2):
            f.check(c["rx_pkts"] == c["tx_pkts"] + c["sched_drop_pkts"] +
                    c["meter_drop_pkts"] + c["other_drop_pkts"],
                    "class %d: rx != tx + drops: %s" % (c["class"], c))
    except Exception as e:
        f.check(False, "%s: %s\n%s" % (type(e).__name__, e, lab.read_log()))
    finally:
        lab.cleanup()
    return f.done()


if __name__ == "__main__":
    sys.exit(main())
