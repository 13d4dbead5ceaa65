#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Classification of every packet, through a real tidal-dp on net_pcap ports.

Overlapping classes (nested IPv4/IPv6 prefixes, DSCP-only, source-only, host routes, a
default route with a DSCP), traffic mixing IPv4, IPv6, VLAN tags and non-IP frames of
many sizes. The capture is read at full speed, faster than tidal-dp sends; under such
overload tidal-dp offers the scheduler more than it sends (enqueue_burst), so a backlog
builds up in the queues (a NIC would drop what does not fit; a capture file just waits).
Rates are unlimited and the queues hold the whole capture, so nothing may be dropped.
Checks, per packet: the class and traffic class tidal-dp chose (--trace) equal the
reference semantics; every input frame leaves unchanged; per class, FIFO order and exact
packet/byte counters.
Run with --extra 1 (one lcore) or --extra 3 (rx | sched | tx on three lcores).
"""
import collections
import sys

import dplab
import pcapgen
from dplab import ClassDef

CONF = """
[dataplane]
rate = 10G
frame_overhead = 0
subports = 2
pipes = 16
queue_size = 2048
classes = 64
prefixes = 64
prefixes6 = 16
mbufs = 16383
"""

CLASSES = [
    ClassDef(1, 0, 1, 1, dst=["198.51.100.0/24"]),
    ClassDef(2, 0, 2, 0, dst=["198.51.0.0/16"], dscp=[46]),
    ClassDef(3, 0, 3, 2, dst=["198.51.100.128/25"], dscp=[34]),
    ClassDef(4, 0, 4, 12, queue=1, dscp=[8]),
    ClassDef(5, 1, 5, 3, dst=["2001:db8:100::/48"]),
    ClassDef(6, 1, 6, 0, dst=["2001:db8::/32"], dscp=[46]),
    ClassDef(7, 1, 7, 4, src=["10.99.0.0/16"]),
    ClassDef(8, 1, 8, 5, dst=["203.0.113.0/24"], src=["10.1.0.0/16"]),
    ClassDef(9, 0, 9, 6, dst=["192.0.2.1/32"]),
    ClassDef(10, 0, 10, 7, dst=["0.0.0.0/0"], dscp=[10]),
    ClassDef(11, 1, 11, 8, dst=["2001:db8:100:7::/64", "198.51.100.200/29"], dscp=[0, 46]),
]

SPEC = {
    "seed": 7,
    "streams": [
        {"dst": "198.51.100.0/24", "dscp": [0, 46, 34, 8], "sizes": [64, 128, 512, 1500, 777],
         "pps": 1500, "duration": 1.0},
        {"dst": "198.51.0.0/16", "dscp": [46, 0, 10], "sizes": {"min": 64, "max": 1514},
         "pps": 800, "duration": 1.0},
        {"family": 6, "dst": "2001:db8:100::/48", "dscp": [0, 46],
         "sizes": [90, 256, 1280], "pps": 700, "duration": 1.0},
        {"family": 6, "dst": "2001:db8::/32", "dscp": [46, 8, 0], "sizes": [100, 1514],
         "pps": 600, "duration": 1.0},
        {"src": "10.99.0.0/16", "dst": "192.0.2.0/24", "dscp": [0, 8, 10], "sizes": [64, 300],
         "pps": 500, "duration": 1.0},
        {"src": "10.0.0.0/14", "dst": "203.0.113.0/24", "dscp": 0, "sizes": [80, 1000],
         "pps": 600, "duration": 1.0},
        {"nonip": True, "sizes": [60, 200], "pps": 200, "duration": 1.0},
        {"vlan": 100, "dst": "198.51.100.128/25", "dscp": 34, "sizes": [68, 1400],
         "pps": 300, "duration": 1.0},
        {"dst": "192.0.2.1/32", "dscp": [0, 8], "sizes": [64], "pps": 200, "duration": 1.0},
        {"family": 6, "dst": "2001:db8:100:7::/64", "dscp": [0, 46, 10], "sizes": [300],
         "pps": 300, "duration": 1.0},
        {"dst": "198.51.100.200/29", "dscp": [0, 34], "sizes": [1000], "pps": 300,
         "duration": 1.0},
    ],
}


def main():
    args = dplab.common_args()
    stages = int(args.extra or "1")
    lcores = {1: "0", 2: "0,1", 3: "0@0,1@1,2@1"}[stages]
    f = dplab.Failures("classify (stages %d)" % stages)
    packets = pcapgen.generate(SPEC)
    labels = [lb for _, _, lb in packets]
    tc_of = {c.id: c.tc for c in CLASSES}
    tc_of[0] = 12
    expect = [dplab.expected_class(CLASSES, lb) for lb in labels]
    per_class = collections.Counter(expect)
    # the mix must exercise every class and the unmatched class 0
    f.check(all(per_class[c.id] > 0 for c in CLASSES) and per_class[0] > 0,
            "generated traffic misses a class: %s" % dict(per_class))

    lab = dplab.Lab("classify%d" % stages, args, CONF, stages=stages, lcores=lcores,
                    replay=False)
    try:
        lab.start(packets)
        lab.install(CLASSES)
        lab.ctl("rx", "on")
        st = lab.wait_done(len(packets))
        rc = lab.stop()
        f.check(rc == 0, "tidal-dp exit status %s" % rc)

        # 1. the class and traffic class of every packet
        tr = lab.trace_lines()
        f.check(len(tr) == len(packets), "trace has %d lines for %d packets" %
                (len(tr), len(packets)))
        wrong = [(seq, cls, expect[seq]) for _, seq, cls, tc, _ in tr
                 if seq >= len(expect) or cls != expect[seq] or tc != tc_of[cls]]
        f.check(not wrong, "%d packets misclassified, first (seq, got, want): %s" %
                (len(wrong), wrong[:10]))
        f.check([t[1] for t in tr] == list(range(len(packets))), "trace sequence has gaps")

        # 2. every frame leaves, unchanged; FIFO inside each class
        out = pcapgen.read_pcap(lab.out)
        f.check(len(out) == len(packets), "%d frames out for %d in" % (len(out), len(packets)))
        seen = {}
        for _, frame in out:
            t = pcapgen.tag_of(frame)
            if t:
                seen[t[1]] = frame
        missing = [s for s in range(len(packets)) if s not in seen]
        f.check(not missing, "%d frames missing from the output, first %s" %
                (len(missing), missing[:10]))
        changed = [s for s, fr in seen.items() if s < len(packets) and fr != packets[s][1]]
        f.check(not changed, "%d frames changed on the way, first %s" % (len(changed),
                                                                        changed[:10]))
        order = collections.defaultdict(list)
        for _, frame in out:
            t = pcapgen.tag_of(frame)
            if t:
                order[expect[t[1]]].append(t[1])
        for cid, seqs in order.items():
            f.check(seqs == sorted(seqs), "class %d left out of order" % cid)

        # 3. counters
        pair = st["pairs"][0]
        f.check(pair["rx_pkts"] == len(packets) and pair["tx_pkts"] == len(packets) and
                pair["drop_pkts"] == 0, "pair totals %s" % pair)
        f.check(pair["non_ip_pkts"] == sum(1 for lb in labels if not lb["family"]),
                "non-IP count %d" % pair["non_ip_pkts"])
        f.check(pair["eth_ipackets"] == len(packets) and pair["eth_opackets"] == len(packets),
                "ethdev counters %d in, %d out" % (pair["eth_ipackets"], pair["eth_opackets"]))
        for cid in [0] + [c.id for c in CLASSES]:
            cs = dplab.class_stats(st, cid)
            nb = sum(lb["size"] for lb, e in zip(labels, expect) if e == cid)
            f.check(cs is not None and cs["rx_pkts"] == per_class[cid] and
                    cs["rx_bytes"] == nb and cs["tx_pkts"] == per_class[cid] and
                    cs["tx_bytes"] == nb,
                    "class %d counters %s, want %d packets / %d bytes" %
                    (cid, cs, per_class[cid], nb))
    except Exception as e:  # report, then fail
        f.check(False, "%s: %s\n%s" % (type(e).__name__, e, lab.read_log()))
    finally:
        lab.cleanup()
    return f.done()


if __name__ == "__main__":
    sys.exit(main())
