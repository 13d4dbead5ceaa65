#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Bad input gets a clear refusal and changes nothing.

Config files with mistakes (tidal-dp exits 1 naming FILE:LINE: section.key); control
requests that name things that do not exist or would break the hierarchy (tidal-dpctl
exits 1 with tidal-dp's reason, the running state is unchanged); malformed frames written
straight to the control socket (a broken body is answered with an error and the connection
stays usable; a broken header closes the connection; tidal-dp keeps running); tidal-dpctl
usage errors (exit 2) and an absent tidal-dp (exit 3).
"""
import os
import socket
import struct
import subprocess
import sys

import dplab
from dplab import ClassDef

GOOD = """
[dataplane]
rate = 1G
subports = 2
pipes = 8
classes = 16
prefixes = 16
prefixes6 = 16
mbufs = 4095
"""

BAD_CONFS = [
    ("[dataplane]\nrate = 1G\nbogus = 1\n", ":3: dataplane.bogus: unknown key"),
    ("[dataplane]\nsubports = 3\n", ":2: dataplane.subports: '3' must be a power of two"),
    ("[dataplane]\nrate = fast\n", ":2: dataplane.rate: 'fast'"),
    ("[dataplane]\nidle_sleep = 50ms\n", ":2: dataplane.idle_sleep"),
    ("[dataplane]\nsubports = 2\n[subport.2]\nrate = 1G\n", ":3: subport.2: subport number"),
    ("[dataplane]\nqueue_size = 64 64\n", ":2: dataplane.queue_size: give one size or 13"),
    ("[dataplane]\nrealtime = yes\n", ":2: dataplane.realtime: needs idle_sleep"),
    ("[dataplane]\nburst = 32\nenqueue_burst = 16\n",
     ":3: dataplane.enqueue_burst: must be at least burst (32)"),
    ("[dataplane]\nring_size = 64\nburst = 16\nenqueue_burst = 48\n",
     ":4: dataplane.enqueue_burst: must be at most half of ring_size (64)"),
    ("[dataplane]\nbe_oversubscription = maybe\n",
     ":2: dataplane.be_oversubscription: 'maybe': yes or no"),
    ("[dataplane]\n[peer.x]\n", ":2: peer.x: unknown section"),
]

REFUSALS = [
    (["class", "add", "99", "subport", "0", "pipe", "1", "tc", "0"], "ids go up to 15"),
    (["class", "add", "2", "subport", "2", "pipe", "1", "tc", "0"], "subport 2 does not exist"),
    (["class", "add", "2", "subport", "0", "pipe", "8", "tc", "0"], "pipe 8 does not exist"),
    (["class", "add", "2", "subport", "0", "pipe", "1", "tc", "0", "match", "dst 10.0.0.0/8"],
     "already belongs to class 1"),
    (["class", "add", "2", "subport", "0", "pipe", "2", "tc", "0", "meter", "20M", "10M",
      "1KiB", "1KiB"], "cir <= pir"),
    (["class", "add", "0", "subport", "0", "pipe", "0", "tc", "12", "match", "dscp ef"],
     "class 0 takes unmatched packets"),
    (["class", "del", "7"], "class 7 is not installed"),
    (["class", "del", "0"], "cannot be removed"),
    (["pipe", "rate", "0", "1", "2G"], "above the port rate"),
    (["pipe", "rate", "pair", "3", "0", "1", "1M"], "pair 3 does not exist"),
    (["subport", "rate", "5", "1M"], "subport 5 does not exist"),
]


def frame(ftype, body, seq=9, version=1, length=None):
    n = 8 + len(body) if length is None else length
    return struct.pack("!BBHI", version, ftype, n, seq) + body


def read_frame(s):
    hdr = b""
    while len(hdr) < 8:
        chunk = s.recv(8 - len(hdr))
        if not chunk:
            return None
        hdr += chunk
    _, ftype, n, seq = struct.unpack("!BBHI", hdr)
    body = b""
    while len(body) < n - 8:
        body += s.recv(n - 8 - len(body))
    return ftype, seq, body


def main():
    args = dplab.common_args()
    f = dplab.Failures("errors")

    # 1. config files
    for text, want in BAD_CONFS:
        lab = dplab.Lab("errconf", args, text, idle_sleep=False)
        try:
            lab.start(rx_off=True, packets=[])
            f.check(False, "config accepted: %r" % text)
        except RuntimeError as e:
            msg = str(e)
            f.check("exited with 1" in msg and (lab.conf + want) in msg,
                    "config %r: want '%s' in:\n%s" % (text, want, msg[-600:]))
        finally:
            lab.cleanup()

    # 2. refusals and malformed frames against a running tidal-dp
    lab = dplab.Lab("err", args, GOOD)
    try:
        lab.start(packets=[])
        lab.install([ClassDef(1, 0, 1, 0, dst=["10.0.0.0/8"])])
        before = lab.stats()
        for cmd, want in REFUSALS:
            p = lab.ctl(*cmd, check=False)
            f.check(p.returncode == 1 and want in p.stderr,
                    "tidal-dpctl %s: exit %d, stderr %r (want '%s')" %
                    (" ".join(cmd), p.returncode, p.stderr.strip(), want))
        f.check(lab.stats()["classes"] == before["classes"], "a refused request changed state")

        # a batch: the request that is wrong on its own is refused, the others go in
        batch = os.path.join(lab.dir, "b1.txt")
        with open(batch, "w") as fh:
            fh.write("class add 2 subport 0 pipe 2 tc 0\n"
                     "class add 3 subport 0 pipe 1 tc 0\n"    # queue of class 1
                     "class add 4 subport 1 pipe 4 tc 12 queue 3\n")
        p = lab.ctl("batch", batch, check=False)
        ids = [c["class"] for c in lab.stats()["classes"]]
        f.check(p.returncode == 1 and "b1.txt:2: class 3 refused" in p.stderr and
                ids == [0, 1, 2, 4], "batch with one bad class: exit %d, classes %s, %r" %
                (p.returncode, ids, p.stderr))
        # a batch too big as a whole (prefixes = 16, class 1 holds one; each class here
        # brings two): it is undone and replayed one class at a time, so that exactly the
        # classes that no longer fit (12 to 15) are refused
        with open(batch, "w") as fh:
            for k in range(11):
                fh.write('class add %d subport 1 pipe %d tc %d match "dst 192.0.%d.0/24, '
                         'dst 192.0.%d.0/24"\n' % (5 + k, k % 8, k // 8, 2 * k, 2 * k + 1))
        p = lab.ctl("batch", batch, check=False)
        ids = [c["class"] for c in lab.stats()["classes"]]
        f.check(p.returncode == 1 and ids == [0, 1, 2, 4] + list(range(5, 12)) and
                p.stderr.count("refused") == 4 and "b1.txt:8: class 12 refused" in p.stderr
                and "too many IPv4 prefixes" in p.stderr,
                "oversized batch: exit %d, classes %s, %r" % (p.returncode, ids, p.stderr))

        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(5)
        s.connect(lab.sock)
        # a CLASS_ADD whose prefix count runs past the frame: error reply, connection stays
        body = struct.pack("!IHIBBB", 5, 0, 2, 1, 0, 0) + struct.pack("!QHH", 2**64 - 1, 300, 0)
        s.sendall(frame(10, body, seq=41))
        r = read_frame(s)
        f.check(r is not None and r[0] == 3 and r[1] == 41 and
                struct.unpack("!i", r[2][:4])[0] == -74 and b"prefix" in r[2],
                "malformed CLASS_ADD answered %r" % (r,))
        s.sendall(frame(99, b"", seq=42))
        r = read_frame(s)
        f.check(r is not None and r[1] == 42 and struct.unpack("!i", r[2][:4])[0] == -95,
                "unknown type answered %r" % (r,))
        s.sendall(frame(1, b"", seq=43))
        r = read_frame(s)
        f.check(r is not None and r[0] == 2 and r[1] == 43, "HELLO after errors: %r" % (r,))
        # a header with another version cannot be framed: the connection is closed
        s.sendall(frame(1, b"", version=7))
        f.check(read_frame(s) is None, "bad header did not close the connection")
        s.close()
        f.check(lab.ctl("info", check=False).returncode == 0, "tidal-dp stopped answering")
        f.check(lab.stop() == 0, "tidal-dp did not stop cleanly")
    except Exception as e:
        f.check(False, "%s: %s\n%s" % (type(e).__name__, e, lab.read_log()))
    finally:
        lab.cleanup()

    # 3. tidal-dpctl itself
    p = subprocess.run([args.dpctl, "-s", "/nonexistent/dp.sock", "info"], capture_output=True,
                       text=True)
    f.check(p.returncode == 3 and "/nonexistent/dp.sock" in p.stderr,
            "unreachable: exit %d %r" % (p.returncode, p.stderr))
    for bad in (["frobnicate"], ["class", "add", "x"], ["pipe", "rate", "0", "1", "fast"]):
        p = subprocess.run([args.dpctl, "-s", "/nonexistent/dp.sock"] + bad,
                           capture_output=True, text=True)
        f.check(p.returncode == 2, "usage %s: exit %d" % (bad, p.returncode))
    return f.done()


if __name__ == "__main__":
    sys.exit(main())
