#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""tidald with [dataplane] backend = dpdk against a real tidal-dp.

A real tidald connects to tidal-dp, installs one class per [app.*] and starts reception;
tidal-dp replays a generated capture. Checked through the real tidalctl: `show counters`
reports exactly the packets and bytes the reference classifier expects per class (in),
`rate set` reaches tidal-dp's pipe (read back through telemetry), the tidal_class_*
metrics carry the same numbers, and tidald stops cleanly leaving tidal-dp running.
"""
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

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
metrics_listen = 127.0.0.1:{port}

[forecast]
sample_interval = 1s
bucket = 1h
period = 1h
horizon = 24h

[app.video]
match = dst 198.51.100.0/24, dscp af41
priority = 1
max_rate = 200M

[app.web]
match = dst 192.0.2.0/24
priority = 2

[dataplane]
backend = dpdk
dpdk_socket = {sock}
"""
SPEC = {"seed": 21, "streams": [
    {"dst": "198.51.100.0/24", "dscp": [34, 0], "sizes": [100, 900], "pps": 400,
     "duration": 1.0},
    {"dst": "192.0.2.0/24", "sizes": [64, 1500], "pps": 300, "duration": 1.0},
    {"dst": "203.0.113.0/24", "sizes": [300], "pps": 200, "duration": 1.0},
]}
APPS = [ClassDef(1, 0, 1, 1, dst=["198.51.100.0/24"], dscp=[34]),
        ClassDef(2, 0, 2, 2, dst=["192.0.2.0/24"])]
NAMES = {0: "unmatched", 1: "video", 2: "web"}


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main():
    args = dplab.common_args()
    tidald, tidalctl = os.environ["TIDALD"], os.environ["TIDALCTL"]
    f = dplab.Failures("tidald")
    packets = pcapgen.generate(SPEC)
    labels = [lb for _, _, lb in packets]
    expect = [dplab.expected_class(APPS, lb) for lb in labels]
    lab = dplab.Lab("tidald", args, CONF, replay=False, trace=False)
    proc = None
    try:
        port = free_port()
        ini = os.path.join(lab.dir, "tidal.ini")
        with open(ini, "w") as fh:
            fh.write(TIDAL_INI.format(dir=lab.dir, sock=lab.sock, port=port))
        lab.start(packets)
        log = open(os.path.join(lab.dir, "tidald.log"), "w")
        proc = subprocess.Popen([tidald, "-c", ini], stdout=log, stderr=subprocess.STDOUT)
        sock = os.path.join(lab.dir, "tidald.sock")

        def ctl(*a):
            return subprocess.run([tidalctl, "-s", sock, "-j"] + list(a),
                                  capture_output=True, text=True, timeout=30)

        want = {}
        for cid in (0, 1, 2):
            want[NAMES[cid]] = (sum(1 for e in expect if e == cid),
                                sum(lb["size"] for lb, e in zip(labels, expect) if e == cid))
        got, last = {}, ""
        deadline = time.time() + 60
        while time.time() < deadline:
            if proc.poll() is not None:
                f.check(False, "tidald exited:\n" + open(log.name).read())
                break
            p = ctl("show", "counters")
            last = p.stdout + p.stderr
            if p.returncode == 0:
                got = {(c["class"], c["dir"]): (c["packets"], c["bytes"])
                       for c in json.loads(p.stdout)}
                if all(got.get((n, "in")) == w for n, w in want.items()):
                    break
            time.sleep(0.2)
        for n, w in want.items():
            f.check(got.get((n, "in")) == w, "show counters %s in: %s, want %s packets/bytes"
                    "; last reply: %s" % (n, got.get((n, "in")), w, last[-600:]))

        text = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port,
                                      timeout=10).read().decode()
        line = [ln for ln in text.splitlines() if ln.startswith("tidal_class_packets_total{")
                and 'class="video"' in ln and 'dir="in"' in ln]
        f.check(len(line) == 1 and int(float(line[0].split()[-1])) == want["video"][0],
                "tidal_class_packets_total for video: %s" % line)

        p = ctl("rate", "set", "web", "25M")
        f.check(p.returncode == 0, "rate set: %s" % p.stderr)
        r = lab.telemetry("/tidal/pipe,0,0,2")["/tidal/pipe"]["rate_bps"]
        f.check(r == 25000000, "web's pipe rate %s after rate set 25M" % r)
        p = ctl("rate", "set", "nosuch", "25M")
        f.check(p.returncode == 1, "rate set on an unknown app exited %d" % p.returncode)

        proc.send_signal(signal.SIGTERM)
        f.check(proc.wait(timeout=30) == 0, "tidald exit status on SIGTERM")
        proc = None
        f.check(lab.ctl("info", check=False).returncode == 0,
                "tidal-dp did not survive tidald's stop")
        f.check(lab.stop() == 0, "tidal-dp did not stop cleanly")
    except Exception as e:
        f.check(False, "%s: %s\n%s" % (type(e).__name__, e, lab.read_log()))
    finally:
        if proc is not None:
            proc.kill()
            proc.wait()
        lab.cleanup()
    return f.done()


if __name__ == "__main__":
    sys.exit(main())
