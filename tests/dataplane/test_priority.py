#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Strict priority between traffic classes of one overloaded pipe, and the pipe's rate.

One 20M pipe carries three classes, replayed at their capture timestamps (--replay):
TC 0 offered 8M, TC 5 offered 18M, best effort offered 10M (36M in all). Rates are measured
over 1 s windows of the output capture, whose timestamps net_pcap takes from the same TSC
clock the scheduler runs on. Expected in every window: the pipe sends 20M +-5 %; TC 0 gets
all it offers (none of its packets is dropped or missing); TC 5 gets the rest of the pipe
(+-5 % of the pipe rate); best effort gets less than 2 % of the pipe. At the end every
received packet is sent or counted as dropped.
"""
import sys

import dplab
import pcapgen
from dplab import ClassDef

RATE = 20e6
CONF = """
[dataplane]
rate = 1G
frame_overhead = 0
subports = 1
pipes = 16
queue_size = 64
tc_period = 40ms
pipe_burst = 40ms
classes = 16
prefixes = 16
prefixes6 = 16
mbufs = 16383
"""
DUR = 4.5
SPEC = {"seed": 3, "streams": [
    {"dst": "198.51.100.0/24", "sizes": [200, 600, 1000, 1400], "rate": "8M", "duration": DUR},
    {"dst": "198.51.101.0/24", "sizes": [300, 700, 1200, 1500], "rate": "18M", "duration": DUR},
    {"dst": "198.51.102.0/24", "sizes": [100, 500, 1500], "rate": "10M", "duration": DUR},
]}
CLASSES = [
    ClassDef(1, 0, 1, 0, dst=["198.51.100.0/24"]),
    ClassDef(2, 0, 1, 5, dst=["198.51.101.0/24"]),
    ClassDef(3, 0, 1, 12, dst=["198.51.102.0/24"]),
]


def main():
    args = dplab.common_args()
    f = dplab.Failures("priority")
    packets = pcapgen.generate(SPEC)
    lab = dplab.Lab("prio", args, CONF)
    try:
        lab.start(packets)
        lab.install(CLASSES, rates=[(0, 1, "20M")])
        lab.ctl("rx", "on")
        st = lab.wait_done(len(packets), timeout=DUR + 30)
        print("lcores:", lab.lcore_health())
        f.check(lab.stop() == 0, "tidal-dp did not stop cleanly")
        out = pcapgen.read_pcap(lab.out)
        f.check(len(out) > 0, "no output")
        t0 = out[0][0]
        stream = lambda fr: (pcapgen.tag_of(fr) or (None,))[0]
        # the input starts when the first packet is released: offered load per window
        # is counted on the input's own timeline shifted to the output's start
        in_t0 = packets[0][0]
        windows = [(0.3 + k, 1.3 + k) for k in range(int(DUR - 0.5))]
        for a, b in windows:
            lo, hi = t0 + int(a * 1e9), t0 + int(b * 1e9)
            total = dplab.window_rates(out, lambda fr: True, lo, hi)[0]
            tc0 = dplab.window_rates(out, lambda fr: stream(fr) == 0, lo, hi)[0]
            tc5 = dplab.window_rates(out, lambda fr: stream(fr) == 1, lo, hi)[0]
            be = dplab.window_rates(out, lambda fr: stream(fr) == 2, lo, hi)[0]
            off0 = sum(len(fr) * 8 for ts, fr, lb in packets if lb["stream"] == 0 and
                       in_t0 + a * 1e9 <= ts < in_t0 + b * 1e9)
            print("window %.1f-%.1f s: pipe %.2fM, tc0 %.2fM (offered %.2fM), tc5 %.2fM, "
                  "be %.3fM" % (a, b, total / 1e6, tc0 / 1e6, off0 / 1e6, tc5 / 1e6, be / 1e6))
            f.check(abs(total - RATE) <= 0.05 * RATE,
                    "window %.1fs: pipe sent %.2fM, want 20M +-5%%" % (a, total / 1e6))
            f.check(abs(tc0 - off0) <= 0.05 * off0,
                    "window %.1fs: TC 0 sent %.2fM of %.2fM offered" % (a, tc0 / 1e6,
                                                                       off0 / 1e6))
            f.check(abs(tc5 - (total - tc0)) <= 0.05 * RATE,
                    "window %.1fs: TC 5 sent %.2fM, the pipe left it %.2fM" %
                    (a, tc5 / 1e6, (total - tc0) / 1e6))
            f.check(be < 0.02 * RATE, "window %.1fs: best effort sent %.3fM while TC 5 was "
                    "backlogged" % (a, be / 1e6))
        c1, c2, c3 = (dplab.class_stats(st, i) for i in (1, 2, 3))
        n0 = sum(1 for _, _, lb in packets if lb["stream"] == 0)
        f.check(c1["rx_pkts"] == n0 and c1["tx_pkts"] == n0 and c1["sched_drop_pkts"] == 0,
                "TC 0 class lost packets: %s" % c1)
        sent0 = {pcapgen.tag_of(fr)[1] for _, fr in out if stream(fr) == 0}
        f.check(len(sent0) == n0, "%d of %d TC 0 packets in the output" % (len(sent0), n0))
        f.check(c2["sched_drop_pkts"] > 0 and c3["sched_drop_pkts"] > 0,
                "the pipe was not overloaded (no drops in TC 5 / best effort)")
        for c in (c1, c2, c3):
            f.check(c["rx_pkts"] == c["tx_pkts"] + c["sched_drop_pkts"] + c["meter_drop_pkts"] +
                    c["other_drop_pkts"], "class %d: rx != tx + drops: %s" % (c["class"], c))
        f.check(len(out) == st["pairs"][0]["tx_pkts"], "output capture has %d frames, tx "
                "counter %d" % (len(out), st["pairs"][0]["tx_pkts"]))
    except Exception as e:
        f.check(False, "%s: %s\n%s" % (type(e).__name__, e, lab.read_log()))
    finally:
        lab.cleanup()
    return f.done()


if __name__ == "__main__":
    sys.exit(main())
