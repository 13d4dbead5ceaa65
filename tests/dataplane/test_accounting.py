#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Drop accounting, the trTCM meter and telemetry, with rx and sched+tx on two lcores
(or, with --extra tx-on-rx, rx+tx and sched).

Four kinds of traffic through one pair (--stages 2, joined by an rte_ring): a metered
class offered above its peak rate (red packets dropped by the meter), a class in a 5M pipe
offered 9M (queue drops), an IPv6 class with no limit, and unmatched traffic (non-IP and
an unknown prefix, class 0). Checked: for every class and for the pair, received = sent +
dropped (by kind) with nothing left queued; ethdev and capture counts agree with tidal-dp's;
the meter passes its peak rate (+-5 % per 1 s window of IP bytes) and colours green and
yellow; the same counters read through DPDK telemetry (/tidal/*) as through the socket.
"""
import sys

import dplab
import pcapgen
from dplab import ClassDef

CONF = """
[dataplane]
rate = 1G
frame_overhead = 0
subports = 2
pipes = 8
queue_size = 64
tc_period = 40ms
pipe_burst = 40ms
classes = 8
prefixes = 16
prefixes6 = 16
mbufs = 16383
ring_size = 1024
"""
DUR = 3.0
SPEC = {"seed": 5, "streams": [
    {"dst": "198.51.100.0/24", "sizes": [128, 512, 1024, 1500], "rate": "10M", "duration": DUR},
    {"dst": "198.51.101.0/24", "dscp": 26, "sizes": [300, 900, 1500], "rate": "9M",
     "duration": DUR},
    {"family": 6, "dst": "2001:db8::/32", "sizes": [100, 1200], "rate": "4M", "duration": DUR},
    {"nonip": True, "sizes": [64, 400], "pps": 150, "duration": DUR},
    {"dst": "203.0.113.0/24", "sizes": [64, 256], "pps": 300, "duration": DUR},
]}
PIR = 6e6
CLASSES = [
    ClassDef(1, 0, 1, 0, dst=["198.51.100.0/24"], meter=("4M", "6M", "8KiB", "8KiB")),
    ClassDef(2, 1, 2, 3, dst=["198.51.101.0/24"]),
    ClassDef(3, 1, 5, 12, queue=3, dst=["2001:db8::/32"]),
]
KINDS = ("tx_pkts", "meter_drop_pkts", "sched_drop_pkts", "other_drop_pkts")


def main():
    args = dplab.common_args()
    layout = ["--tx-on-rx"] if args.extra == "tx-on-rx" else []
    f = dplab.Failures("accounting" + (" (rx+tx | sched)" if layout else ""))
    packets = pcapgen.generate(SPEC)
    labels = [lb for _, _, lb in packets]
    expect = [dplab.expected_class(CLASSES, lb) for lb in labels]
    lab = dplab.Lab("acct", args, CONF, stages=2, lcores="0,1", extra_opts=layout)
    try:
        lab.start(packets)
        lab.install(CLASSES, rates=[(1, 2, "5M")])
        lab.ctl("rx", "on")
        st = lab.wait_done(len(packets), timeout=DUR + 30)
        print("lcores:", lab.lcore_health())

        # telemetry, read while tidal-dp runs, against the socket's numbers
        info = lab.telemetry("/tidal/info")["/tidal/info"]
        f.check(info["stages"] == 2 and info["pairs"] == 1 and info["pipes"] == 8,
                "telemetry /tidal/info %s" % info)
        ids = lab.telemetry("/tidal/classes")["/tidal/classes"]
        f.check(ids == [0, 1, 2, 3], "telemetry /tidal/classes %s" % ids)
        st = lab.stats()
        for cid in (0, 1, 2, 3):
            tc = lab.telemetry("/tidal/class,%d" % cid)["/tidal/class"]
            cs = dplab.class_stats(st, cid)
            same = all(tc["pair0"][k] == cs[k] for k in ("rx_pkts", "tx_pkts", "rx_bytes",
                                                          "meter_drop_pkts",
                                                          "sched_drop_pkts"))
            f.check(same, "class %d: telemetry %s, socket %s" % (cid, tc["pair0"], cs))
        tp = lab.telemetry("/tidal/pairs")["/tidal/pairs"]["0"]
        f.check(tp["rx_pkts"] == st["pairs"][0]["rx_pkts"] and
                tp["tx_pkts"] == st["pairs"][0]["tx_pkts"], "telemetry /tidal/pairs %s" % tp)
        tpipe = lab.telemetry("/tidal/pipe,0,1,2")["/tidal/pipe"]
        f.check(tpipe["rate_bps"] == 5000000, "telemetry /tidal/pipe %s" % tpipe)
        f.check(lab.stop() == 0, "tidal-dp did not stop cleanly")

        pair = st["pairs"][0]
        f.check(pair["rx_pkts"] == len(packets), "received %d of %d" % (pair["rx_pkts"],
                                                                       len(packets)))
        f.check(pair["rx_pkts"] == pair["tx_pkts"] + pair["drop_pkts"] and pair["queued"] == 0,
                "pair: rx %d != tx %d + dropped %d (queued %d)" %
                (pair["rx_pkts"], pair["tx_pkts"], pair["drop_pkts"], pair["queued"]))
        f.check(pair["eth_ipackets"] == pair["rx_pkts"] and
                pair["eth_opackets"] == pair["tx_pkts"],
                "ethdev %d in / %d out, tidal-dp %d / %d" % (pair["eth_ipackets"],
                                                            pair["eth_opackets"],
                                                            pair["rx_pkts"], pair["tx_pkts"]))
        out = pcapgen.read_pcap(lab.out)
        f.check(len(out) == pair["tx_pkts"], "capture %d frames, tx %d" % (len(out),
                                                                          pair["tx_pkts"]))
        total = {k: 0 for k in KINDS}
        for cid in (0, 1, 2, 3):
            cs = dplab.class_stats(st, cid)
            n = sum(1 for e in expect if e == cid)
            nb = sum(lb["size"] for lb, e in zip(labels, expect) if e == cid)
            f.check(cs["rx_pkts"] == n and cs["rx_bytes"] == nb,
                    "class %d received %d / %d bytes, want %d / %d" %
                    (cid, cs["rx_pkts"], cs["rx_bytes"], n, nb))
            f.check(cs["rx_pkts"] == sum(cs[k] for k in KINDS) and cs["queued"] == 0,
                    "class %d: rx != tx + drops: %s" % (cid, cs))
            sent = sum(1 for _, fr in out if pcapgen.tag_of(fr) and
                       expect[pcapgen.tag_of(fr)[1]] == cid)
            f.check(sent == cs["tx_pkts"], "class %d: %d in the capture, tx counter %d" %
                    (cid, sent, cs["tx_pkts"]))
            for k in KINDS:
                total[k] += cs[k]
        f.check(total["tx_pkts"] == pair["tx_pkts"] and
                sum(total[k] for k in KINDS[1:]) == pair["drop_pkts"],
                "class sums %s differ from pair totals %s" % (total, pair))
        c1, c2 = dplab.class_stats(st, 1), dplab.class_stats(st, 2)
        f.check(c1["meter_drop_pkts"] > 0 and c1["green_pkts"] > 0 and c1["yellow_pkts"] > 0,
                "meter did not colour: %s" % c1)
        f.check(c1["green_pkts"] + c1["yellow_pkts"] + c1["meter_drop_pkts"] == c1["rx_pkts"],
                "class 1: green + yellow + red != received")
        f.check(c1["sched_drop_pkts"] == 0, "the metered class was also queue-dropped")
        f.check(c2["sched_drop_pkts"] > 0 and c2["meter_drop_pkts"] == 0,
                "the 5M pipe did not drop: %s" % c2)
        for cid in (0, 3):
            cs = dplab.class_stats(st, cid)
            f.check(cs["tx_pkts"] == cs["rx_pkts"], "unlimited class %d dropped" % cid)
        f.check(pair["non_ip_pkts"] == sum(1 for lb in labels if not lb["family"]),
                "non-IP count %d" % pair["non_ip_pkts"])

        # the meter passes its peak rate: IP bytes of the metered class per 1 s window
        t0 = out[0][0]
        is1 = lambda fr: pcapgen.tag_of(fr) is not None and \
            expect[pcapgen.tag_of(fr)[1]] == 1
        for k in range(int(DUR - 0.5)):
            lo, hi = t0 + int((0.3 + k) * 1e9), t0 + int((1.3 + k) * 1e9)
            ip = sum(len(fr) - 14 for ts, fr in out if lo <= ts < hi and is1(fr)) * 8.0
            print("meter window %d: %.2fM of IP bytes passed" % (k, ip / 1e6))
            f.check(abs(ip - PIR) <= 0.05 * PIR, "meter window %d passed %.2fM, want 6M "
                    "+-5%%" % (k, ip / 1e6))
    except Exception as e:
        f.check(False, "%s: %s\n%s" % (type(e).__name__, e, lab.read_log()))
    finally:
        lab.cleanup()
    return f.done()


if __name__ == "__main__":
    sys.exit(main())
