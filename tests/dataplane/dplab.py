# SPDX-License-Identifier: Apache-2.0
"""dplab: run a real tidal-dp on net_pcap ports for the dataplane tests.

Each Lab starts one tidal-dp (EAL --no-huge, its own --file-prefix, a private temporary
folder), drives it with the real tidal-dpctl, reads DPDK telemetry, and always stops and
cleans up (process, control socket, DPDK runtime folder) even when a test fails. Nothing
here sleeps to synchronise: conditions are polled until a deadline.

Also the reference semantics of classification (expected_class) used to check tidal-dp's
choice for every packet, and rate windows over an output capture.
"""
import atexit
import ipaddress
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import pcapgen

_labs = []


def _cleanup_all():
    for lab in list(_labs):
        lab.stop()


atexit.register(_cleanup_all)
for _sig in (signal.SIGTERM, signal.SIGINT):
    signal.signal(_sig, lambda s, f: sys.exit(128 + s))


class Failures:
    """Collects failed checks; a test prints them all and exits 1 if any."""

    def __init__(self, name):
        self.name = name
        self.failed = []
        self.passed = 0

    def check(self, cond, msg):
        if cond:
            self.passed += 1
        else:
            self.failed.append(msg)
            print("FAIL: " + msg, flush=True)
        return cond

    def done(self):
        print("%s: %d checks passed, %d failed" % (self.name, self.passed, len(self.failed)))
        return 1 if self.failed or self.passed == 0 else 0


class ClassDef:
    def __init__(self, cid, subport, pipe, tc, queue=0, dst=(), src=(), dscp=(), meter=None):
        self.id, self.subport, self.pipe, self.tc, self.queue = cid, subport, pipe, tc, queue
        self.dst = [ipaddress.ip_network(p) for p in dst]
        self.src = [ipaddress.ip_network(p) for p in src]
        self.dscp = list(dscp)
        self.meter = meter  # (cir, pir, cbs, pbs) strings

    def ctl_args(self):
        a = ["class", "add", str(self.id), "subport", str(self.subport), "pipe", str(self.pipe),
             "tc", str(self.tc), "queue", str(self.queue)]
        m = ["dst %s" % p for p in self.dst] + ["src %s" % p for p in self.src] + \
            ["dscp %d" % d for d in self.dscp]
        if m:
            a += ["match", ", ".join(m)]
        if self.meter:
            a += ["meter"] + list(self.meter)
        return a


def expected_class(classes, label):
    """The class tidal-dp must pick (docs/dataplane.md, "Classification"): among classes
    whose every non-empty list matches, the one with the longest matching destination
    prefix (classes without one rank below every destination match), then the lowest id;
    none: class 0."""
    if not label["family"]:
        return 0
    dst = ipaddress.ip_address(label["dst"])
    src = ipaddress.ip_address(label["src"])
    best = None
    for c in classes:
        if c.id == 0:
            continue
        if c.dscp and label["dscp"] not in c.dscp:
            continue
        if c.src and not any(src.version == p.version and src in p for p in c.src):
            continue
        if c.dst:
            lens = [p.prefixlen for p in c.dst if dst.version == p.version and dst in p]
            if not lens:
                continue
            rank = max(lens)
        else:
            rank = -1
        key = (-rank, c.id)
        if best is None or key < best[0]:
            best = (key, c.id)
    return best[1] if best else 0


def window_rates(out_packets, select, t_from_ns, t_to_ns, win_s=1.0):
    """bits/s in consecutive windows of win_s inside [t_from, t_to), counting frame bytes
    of the output packets for which select(frame) is true."""
    win = int(win_s * 1e9)
    n = int((t_to_ns - t_from_ns) // win)
    acc = [0] * n
    for ts, frame in out_packets:
        if ts < t_from_ns or not select(frame):
            continue
        k = (ts - t_from_ns) // win
        if k < n:
            acc[k] += len(frame)
    return [b * 8 / win_s for b in acc]


class Lab:
    def __init__(self, name, args, conf, stages=1, lcores="0", replay=True, trace=True,
                 idle_sleep=True, extra_vdev=None, extra_opts=()):
        self.name = name
        self.tidal_dp = args.tidal_dp
        self.dpctl = args.dpctl
        self.dir = tempfile.mkdtemp(prefix="tdldp-%s-" % name)
        self.prefix = "tdldp-%s-%d" % (name, os.getpid())
        self.sock = os.path.join(self.dir, "dp.sock")
        self.conf = os.path.join(self.dir, "dp.ini")
        self.inp = os.path.join(self.dir, "in.pcap")
        self.out = os.path.join(self.dir, "out.pcap")
        self.trace = os.path.join(self.dir, "trace.txt") if trace else None
        self.log = os.path.join(self.dir, "tidal-dp.log")
        self.stages, self.lcores, self.replay = stages, lcores, replay
        self.extra_vdev = extra_vdev or []
        self.extra_opts = list(extra_opts)
        self.proc = None
        self.keep = os.environ.get("TIDAL_TEST_KEEP") is not None
        if idle_sleep and "idle_sleep" not in conf:
            # The test machine is shared. The lcores sleep when idle and run real-time,
            # so that other work neither starves them nor pauses the scheduler long
            # enough for rte_sched to lose time (docs/dataplane.md, "Timing").
            conf = conf.replace("[dataplane]", "[dataplane]\nidle_sleep = 200us\n"
                                "realtime = yes", 1)
        with open(self.conf, "w") as f:
            f.write(conf)
        _labs.append(self)

    # ---- process -------------------------------------------------------------------
    def start(self, packets=None, rx_off=True):
        if packets is not None:
            pcapgen.write_pcap(self.inp, packets)
        vdev = "net_pcap0,rx_pcap=%s,tx_pcap=%s" % (self.inp, self.out)
        cmd = [self.tidal_dp, "--no-huge", "-m", "768", "--no-pci", "--file-prefix",
               self.prefix, "--log-level=lib.eal:warning"]
        if "@" in self.lcores or "," in self.lcores and "-" not in self.lcores:
            cmd += ["--lcores", self.lcores]
        else:
            cmd += ["-l", self.lcores]
        cmd += ["--vdev", vdev]
        for v in self.extra_vdev:
            cmd += ["--vdev", v]
        cmd += ["--", "-c", self.conf, "-s", self.sock, "--stages", str(self.stages)]
        cmd += self.extra_opts
        if self.replay:
            cmd.append("--replay")
        if rx_off:
            cmd.append("--rx-off")
        if self.trace:
            cmd += ["--trace", self.trace]
        self.cmdline = cmd
        self.logf = open(self.log, "w")
        self.proc = subprocess.Popen(cmd, stdout=self.logf, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("tidal-dp exited with %d during start:\n%s" %
                                   (self.proc.returncode, self.read_log()))
            if os.path.exists(self.sock) and self.ctl("info", check=False).returncode == 0:
                return
            time.sleep(0.05)
        raise RuntimeError("tidal-dp did not open %s within 30 s:\n%s" % (self.sock,
                                                                           self.read_log()))

    def read_log(self):
        try:
            with open(self.log) as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def stop(self):
        if self in _labs:
            _labs.remove(self)
        rc = None
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                rc = -9
        elif self.proc:
            rc = self.proc.returncode
        if self.proc:
            self.logf.close()
        for base in ("/var/run/dpdk", os.path.join(os.environ.get("XDG_RUNTIME_DIR", "/tmp"),
                                                   "dpdk")):
            shutil.rmtree(os.path.join(base, self.prefix), ignore_errors=True)
        return rc

    def cleanup(self):
        self.stop()
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)
        else:
            print("kept %s" % self.dir)

    # ---- control --------------------------------------------------------------------
    def ctl(self, *args, check=True, json_out=False):
        cmd = [self.dpctl, "-s", self.sock] + (["-j"] if json_out else []) + list(args)
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        if check and p.returncode != 0:
            raise RuntimeError("tidal-dpctl %s: exit %d: %s" % (" ".join(args), p.returncode,
                                                               p.stderr.strip()))
        return p

    def stats(self):
        return json.loads(self.ctl("stats", json_out=True).stdout)

    def install(self, classes, rates=()):
        """classes: ClassDef list; rates: (subport, pipe, rate) tuples. One batch."""
        path = os.path.join(self.dir, "batch.txt")
        with open(path, "w") as f:
            for c in classes:
                f.write(" ".join('"%s"' % a if " " in a else a for a in c.ctl_args()) + "\n")
            for sp, pipe, rate in rates:
                f.write("pipe rate %d %d %s\n" % (sp, pipe, rate))
        self.ctl("batch", path)

    def wait_done(self, n_rx, timeout=60.0):
        """Poll until every packet was received and none is left inside tidal-dp."""
        deadline = time.time() + timeout
        st = None
        while time.time() < deadline:
            st = self.stats()
            p = st["pairs"][0]
            if p["rx_pkts"] >= n_rx and p["queued"] == 0 and \
                    p["rx_pkts"] == p["tx_pkts"] + p["drop_pkts"]:
                return st
            if self.proc.poll() is not None:
                raise RuntimeError("tidal-dp exited:\n" + self.read_log())
            time.sleep(0.1)
        raise RuntimeError("tidal-dp did not finish %d packets in %.0f s; last stats %s" %
                           (n_rx, timeout, json.dumps(st)[:2000]))

    def telemetry(self, cmd):
        for base in ("/var/run/dpdk", os.path.join(os.environ.get("XDG_RUNTIME_DIR", "/tmp"),
                                                   "dpdk")):
            path = os.path.join(base, self.prefix, "dpdk_telemetry.v2")
            if os.path.exists(path):
                break
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.settimeout(5)
        try:
            s.connect(path)
            json.loads(s.recv(16384).decode())
            s.send(cmd.encode())
            return json.loads(s.recv(1 << 20).decode())
        finally:
            s.close()

    def lcore_health(self):
        """{lcore: {loops, gap_max_us, clock_slips}} from telemetry (diagnostics)."""
        try:
            return self.telemetry("/tidal/lcores")["/tidal/lcores"]
        except (OSError, ValueError, KeyError):
            return {}

    def trace_lines(self):
        out = []
        with open(self.trace) as f:
            for line in f:
                pair, seq, cls, tc, colour = line.split()
                out.append((int(pair), int(seq), int(cls), int(tc), colour))
        return out


def common_args():
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("--tidal-dp", required=True)
    ap.add_argument("--dpctl", required=True)
    ap.add_argument("--extra", default=None)
    return ap.parse_args()


def class_stats(st, cid, pair=0):
    for c in st["classes"]:
        if c["class"] == cid and c["pair"] == pair:
            return c
    return None
