#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""tidald's "dpdk" collector backend against a real tidal-dp.

tidal-dp starts with reception stopped; the backend (driven by test-coll-dpdk, a small C
program standing in for tidald's collector module) installs one class per [app.*] of a
tidal.ini and starts reception. Checked: the per-class counters it reports match the
reference classification of every generated packet (packets and bytes, in and out); the
rates it enforces and keeps are the pipes' rates in tidal-dp (read through telemetry);
after a config reload with one app fewer that app's class is gone.
"""
import os
import subprocess
import sys

import dplab
import pcapgen
from dplab import ClassDef

CONF = """
[dataplane]
rate = 1G
frame_overhead = 0
subports = 1
pipes = 16
classes = 16
prefixes = 16
prefixes6 = 16
mbufs = 8191
"""
TIDAL_INI = """
[region]
name = tst
asn = 65010
state_dir = {dir}/state

[control]
socket = {dir}/tidald.sock

[app.video]
match = dst 198.51.100.0/24, dscp af41
priority = 1
max_rate = 200M

[app.web]
match = dst 192.0.2.0/24
priority = 2
max_rate = 300M
{backup}
[dataplane]
backend = dpdk
dpdk_socket = {sock}
"""
BACKUP = """
[app.backup]
match = dst 203.0.113.0/25
priority = 6
"""
SPEC = {"seed": 9, "streams": [
    {"dst": "198.51.100.0/24", "dscp": [34, 0], "sizes": [100, 900], "pps": 400,
     "duration": 1.0},
    {"dst": "192.0.2.0/24", "sizes": [64, 1500], "pps": 300, "duration": 1.0},
    {"dst": "203.0.113.0/24", "sizes": [300], "pps": 200, "duration": 1.0},
]}
APPS = [ClassDef(1, 0, 1, 1, dst=["198.51.100.0/24"], dscp=[34]),
        ClassDef(2, 0, 2, 2, dst=["192.0.2.0/24"]),
        ClassDef(3, 0, 3, 6, dst=["203.0.113.0/25"])]


def main():
    args = dplab.common_args()
    f = dplab.Failures("collector")
    packets = pcapgen.generate(SPEC)
    labels = [lb for _, _, lb in packets]
    expect = [dplab.expected_class(APPS, lb) for lb in labels]
    lab = dplab.Lab("coll", args, CONF, replay=False, trace=False)
    try:
        ini1 = os.path.join(lab.dir, "tidal1.ini")
        ini2 = os.path.join(lab.dir, "tidal2.ini")
        with open(ini1, "w") as fh:
            fh.write(TIDAL_INI.format(dir=lab.dir, sock=lab.sock, backup=BACKUP))
        with open(ini2, "w") as fh:
            fh.write(TIDAL_INI.format(dir=lab.dir, sock=lab.sock, backup=""))
        lab.start(packets)
        p = subprocess.run([args.extra, ini1, ini2, str(len(packets))], capture_output=True,
                           text=True, timeout=60)
        print(p.stdout.strip())
        f.check(p.returncode == 0 and p.stdout.strip().endswith("ok"),
                "test-coll-dpdk exit %d: %s" % (p.returncode, p.stderr.strip()))
        got = {}
        for line in p.stdout.splitlines():
            w = line.split()
            if w and w[0] == "counter":
                got[(int(w[2]), w[3])] = (w[1], int(w[4]), int(w[5]), int(w[6]))
        for cid in (0, 1, 2, 3):
            n = sum(1 for e in expect if e == cid)
            nb = sum(lb["size"] for lb, e in zip(labels, expect) if e == cid)
            f.check(got.get((cid, "in")) == ("net_pcap0", n, nb, 0),
                    "class %d in: %s, want net_pcap0 %d packets %d bytes" %
                    (cid, got.get((cid, "in")), n, nb))
            out = got.get((cid, "out"))
            f.check(out is not None and out[0] == "net_pcap0" and out[1] + out[3] <= n,
                    "class %d out: %s" % (cid, out))
        r1 = lab.telemetry("/tidal/pipe,0,0,1")["/tidal/pipe"]["rate_bps"]
        r2 = lab.telemetry("/tidal/pipe,0,0,2")["/tidal/pipe"]["rate_bps"]
        f.check(r1 == 5000000, "app 1 pipe rate %s, want the enforced 5M kept" % r1)
        f.check(r2 == 300000000, "app 2 pipe rate %s, want its max_rate after the reload" % r2)
        ids = lab.telemetry("/tidal/classes")["/tidal/classes"]
        f.check(ids == [0, 1, 2], "classes after the reload: %s" % ids)
        cl = lab.telemetry("/tidal/class,2")["/tidal/class"]
        f.check(cl["tc"] == 2 and cl["pipe"] == 2 and cl["subport"] == 0,
                "app 2's class: %s (want pipe 2, traffic class 2 from priority 2)" % cl)
        f.check(lab.stop() == 0, "tidal-dp did not stop cleanly")
    except Exception as e:
        f.check(False, "%s: %s\n%s" % (type(e).__name__, e, lab.read_log()))
    finally:
        lab.cleanup()
    return f.done()


if __name__ == "__main__":
    sys.exit(main())
