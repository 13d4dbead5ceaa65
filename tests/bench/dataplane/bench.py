#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Dataplane throughput: tidal-dp against testpmd, DPDK's qos_sched and tc HTB, in one run.

  (a) dpdk-testpmd io forwarding                        the ceiling of these ports
  (b) qos_sched (DPDK example) with an equivalent profile: rx on CPU 0 (with its idle main
      lcore), scheduling and tx on CPU 1
  (c) tidal-dp: classify (LPM, 4096 prefixes) + trTCM meter per class + rte_sched +
      counters, in qos_sched's layout: rx+classify+meter on CPU 0, scheduling and tx on
      CPU 1 (--stages 2)
  (e) the same tidal-dp with tx on the rx lcore: rx+classify+meter+tx on CPU 0, scheduling
      alone on CPU 1 (--stages 2 --tx-on-rx)
  (d) Linux tc HTB on a veth, 4096 classes, u32 hashed on the destination /24 (the kernel
      alternative)

Common profile (docs/performance.md explains it; qos_sched.cfg and tidal-dp.ini): 64-byte
frames; one subport of 4096 pipes on a 10G port; frame overhead 0; every pipe and traffic
class allowed the port rate, so no shaper binds and the measurement is packet processing;
queues of 64 packets; token buckets of 1250000 bytes, 40 ms traffic class periods,
best-effort oversubscription control on, mtu 1522; packet p goes to pipe p and traffic
class p % 13 (QinQ inner VLAN and destination 10.p/24 carry p, so qos_sched's header
parsing and tidal-dp's classification find the same queue). Input is net_pcap with
infinite_rx over 4096 such frames (far more than either scheduler sustains), output
net_null; (a) forwards on CPU 1.

Mpps is the tx port's opackets over the measured seconds, read through DPDK telemetry
(/ethdev/stats), counted from `warmup` seconds after the port started sending. The machine
is shared, so each DPDK run also reports Mpps per CPU-second that its scheduling
(forwarding, for testpmd) lcore thread was actually given (from /proc/PID/task/TID/stat).
Every configuration runs `rounds` times, interleaved; the report gives the median and
range of each, and of the ratios taken within each round. --instructions counts
instructions per packet under callgrind instead (cgcount.py), which does not depend on
the load at all.

Run through run.sh (builds qos_sched, sets up hugepages, needs root).
"""
import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PIPES = 4096


def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def frame(p):
    """64-byte QinQ frame for pipe p: outer VLAN 0 (subport), inner VLAN p (pipe),
    IPv4 destination 10.(p>>8).(p&255).(p%13) (qos_sched takes the queue from the last
    byte: p % 13 -> traffic class p % 13, queue 0)."""
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 64 - 22, 0, 0, 64, 17, 0, bytes([192, 0, 2, 1]),
                     bytes([10, p >> 8, p & 0xFF, p % 13]))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    udp = struct.pack("!HHHH", 1024, 1024, 64 - 22 - 20, 0)
    fr = b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01" + struct.pack("!HHHH", 0x88A8, 0, 0x8100, p) + \
        b"\x08\x00" + ip + udp
    return fr + b"\0" * (64 - len(fr))


def write_pcap(path):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for p in range(PIPES):
            f.write(struct.pack("<IIII", 0, p, 64, 64) + frame(p))


def telemetry(prefix, cmd, timeout=10):
    path = "/var/run/dpdk/%s/dpdk_telemetry.v2" % prefix
    deadline = time.time() + timeout
    while True:
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            s.settimeout(5)
            s.connect(path)
            json.loads(s.recv(16384).decode())
            s.send(cmd.encode())
            r = json.loads(s.recv(1 << 20).decode())
            s.close()
            return r
        except (OSError, ValueError):
            if time.time() > deadline:
                raise
            time.sleep(0.2)


def opackets(prefix, port):
    return telemetry(prefix, "/ethdev/stats,%d" % port)["/ethdev/stats"]["opackets"]


def thread_cpu(pid, name):
    """CPU seconds used so far by the thread of process pid called name (DPDK names its
    worker lcore threads rte-worker-N)."""
    tck = os.sysconf("SC_CLK_TCK")
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                if f.read().strip() != name:
                    continue
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / tck
        except OSError:
            continue
    raise RuntimeError("no thread %s in process %d" % (name, pid))


NICE = []
NICE_LEVEL = [0]


def set_autogroup_nice(pid):
    """Every measured program runs in a session of its own; with the kernel's autogroup
    scheduling, nice levels only rank threads inside one session, so the session's group
    gets the same nice level too (else the measured lcores compete as one group among
    all the others on the machine, whatever their nice level)."""
    if not NICE_LEVEL[0]:
        return
    try:
        with open("/proc/%d/autogroup" % pid, "w") as f:
            f.write(str(NICE_LEVEL[0]))
    except OSError:
        pass


def measure_dpdk(spec, a):
    """Start spec's program, wait for telemetry, run its setup, wait until the tx port
    sends, warm up, then count tx packets. Returns (Mpps over wall time, Mpps per
    CPU-second that spec's thread, the scheduling or forwarding lcore, actually got)."""
    cmd, prefix, log = NICE + spec["cmd"], spec["prefix"], spec["log"]
    with open(log, "a") as lf:
        lf.write("\n$ %s\n" % " ".join(cmd))
        lf.flush()
        p = subprocess.Popen(cmd, stdout=lf, stderr=subprocess.STDOUT, stdin=subprocess.PIPE,
                             start_new_session=True)
    try:
        set_autogroup_nice(p.pid)
        wait_sending(p, spec, timeout=120)
        time.sleep(a.warmup)
        thread = spec["thread"]
        n0, t0, c0 = opackets(prefix, 1), time.monotonic(), thread_cpu(p.pid, thread)
        time.sleep(a.seconds)
        n1, t1, c1 = opackets(prefix, 1), time.monotonic(), thread_cpu(p.pid, thread)
        if p.poll() is not None:
            raise RuntimeError("%s exited early (see %s)" % (cmd[0], log))
        return (n1 - n0) / (t1 - t0) / 1e6, (n1 - n0) / max(c1 - c0, 1e-3) / 1e6
    finally:
        stop(p, prefix)


def wait_sending(p, spec, timeout):
    """Telemetry up, setup done, and the tx port sending: qos_sched answers telemetry
    before it has created its mempool and started its lcores, so counting starts only
    once packets flow."""
    telemetry(spec["prefix"], "/", timeout=timeout)
    if spec["setup"]:
        spec["setup"](timeout)
    deadline = time.time() + timeout
    while opackets(spec["prefix"], 1) == 0:
        if time.time() > deadline or p.poll() is not None:
            raise RuntimeError("%s sends nothing (see %s)" % (spec["cmd"][0], spec["log"]))
        time.sleep(0.2)


def stop(p, prefix):
    if p.poll() is None:
        # qos_sched ignores SIGINT (it has no handler and EAL's threads keep polling):
        # give the others time to exit cleanly, then kill.
        os.killpg(p.pid, signal.SIGINT)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    shutil.rmtree("/var/run/dpdk/" + prefix, ignore_errors=True)


def eal(prefix, a, lcores):
    mem = ["--huge-dir", a.huge] if a.huge else ["--no-huge", "-m", "3072"]
    return ["--lcores", lcores] + mem + ["--file-prefix", prefix, "--no-pci",
                                         "--log-level=lib.eal:warning",
                                         "--vdev", "net_pcap0,rx_pcap=%s,infinite_rx=1" % a.pcap,
                                         "--vdev", "net_null0,no-rx=1"]


def spec_testpmd(a, work, wrap=()):
    cmd = list(wrap) + [a.testpmd] + eal("tdlbench-a", a, "0@0,1@1") + \
        ["--", "--forward-mode=io", "--nb-cores=1", "--burst=64", "--rxd=1024", "--txd=1024",
         "--port-topology=chained", "--stats-period=1", "--mbuf-size=2176",
         "--total-num-mbufs=65536"]
    return {"cmd": cmd, "prefix": "tdlbench-a", "thread": "rte-worker-1", "setup": None,
            "log": os.path.join(work, "a.log")}


def spec_qos_sched(a, work, wrap=()):
    # qos_sched wants its main core apart from its rx and worker cores and counts cores
    # from sysfs: a private mount namespace shows it four cores (MACHINE-NOTES.md); the
    # lcores still run on the two real CPUs.
    fake = os.path.join(work, "fakecpu")
    for i in range(4):
        os.makedirs(os.path.join(fake, "cpu%d" % i, "topology"), exist_ok=True)
        with open(os.path.join(fake, "cpu%d" % i, "topology", "core_id"), "w") as f:
            f.write("%d\n" % i)
        with open(os.path.join(fake, "cpu%d" % i, "topology", "physical_package_id"), "w") as f:
            f.write("0\n")
    for n in ("online", "possible", "present"):
        with open(os.path.join(fake, n), "w") as f:
            f.write("0-3\n")
    inner = list(wrap) + [a.qos_sched] + eal("tdlbench-b", a, "0@0,1@0,2@1") + \
        ["--", "--mnc", "0", "--pfc", "0,1,1,2", "--cfg", os.path.join(HERE, "qos_sched.cfg"),
         "--msz", "393216"]
    script = "mount --bind %s /sys/devices/system/cpu && exec %s" % (
        fake, " ".join("'%s'" % x for x in inner))
    return {"cmd": ["unshare", "-m", "sh", "-c", script], "prefix": "tdlbench-b",
            "thread": "rte-worker-2", "setup": None, "log": os.path.join(work, "b.log")}


def spec_tidal_dp(a, work, tx_on_rx, wrap=()):
    sock = os.path.join(work, "dp.sock")
    batch = os.path.join(work, "classes.txt")
    with open(batch, "w") as f:
        for p in range(PIPES):
            # one class per pipe: its /24, the traffic class qos_sched derives, and a
            # trTCM meter that never turns red at these rates (so it costs but drops
            # nothing, like the rest of the profile)
            tc = p % 13
            f.write('class add %d subport 0 pipe %d tc %d match "dst 10.%d.%d.0/24" '
                    'meter 10G 10G 1MiB 1MiB\n' % (p + 1, p, tc, p >> 8, p & 0xFF))
        f.write("rx on\n")
    cmd = list(wrap) + [a.tidal_dp] + eal("tdlbench-c", a, "0@0,1@1") + \
        ["--", "-c", os.path.join(HERE, "tidal-dp.ini"), "-s", sock, "-p", "0:1",
         "--stages", "2", "--rx-off"] + (["--tx-on-rx"] if tx_on_rx else [])

    def setup(timeout):
        deadline = time.time() + timeout
        while not os.path.exists(sock):
            if time.time() > deadline:
                raise RuntimeError("tidal-dp control socket missing")
            time.sleep(0.1)
        subprocess.run([a.dpctl, "-s", sock, "-t", str(timeout * 1000), "batch", batch],
                       check=True, stdout=subprocess.DEVNULL)

    return {"cmd": cmd, "prefix": "tdlbench-c", "thread": "rte-worker-1", "setup": setup,
            "log": os.path.join(work, "e.log" if tx_on_rx else "c.log")}


SPECS = {"a": spec_testpmd, "b": spec_qos_sched,
         "c": lambda a, work, wrap=(): spec_tidal_dp(a, work, False, wrap),
         "e": lambda a, work, wrap=(): spec_tidal_dp(a, work, True, wrap)}


def sh(*cmd, check=True):
    return subprocess.run(cmd, check=check, capture_output=True, text=True)


def run_htb(a, work):
    """4096 HTB leaf classes (rate = ceil = 10Gbit, like the pipes) under a 10Gbit root on
    the egress of a veth, classified by u32 on the destination /24 through a 256-bucket
    hash table (the third octet picks the bucket, 16 entries per bucket: the kernel's
    usual answer to thousands of prefixes; this kernel has no cls_flower); trafgen sends
    the same 64-byte frames (untagged) from CPU 0; Mpps from the qdisc's sent counter."""
    ns, dev, peer = "tdlbench", "tdlb0", "tdlb1"
    sh("ip", "netns", "del", ns, check=False)
    sh("ip", "link", "del", dev, check=False)
    try:
        sh("ip", "netns", "add", ns)
        sh("ip", "link", "add", dev, "type", "veth", "peer", "name", peer, "netns", ns)
        sh("ip", "link", "set", dev, "up")
        sh("ip", "-n", ns, "link", "set", peer, "up")
        cmds = ["qdisc add dev %s root handle 1: htb default 1fff r2q 1000" % dev,
                "class add dev %s parent 1: classid 1:1 htb rate 10gbit ceil 10gbit" % dev,
                "filter add dev %s parent 1: prio 1 handle 2: protocol ip u32 divisor 256"
                % dev,
                "filter add dev %s parent 1: prio 1 protocol ip u32 ht 800:: match ip dst "
                "10.0.0.0/12 hashkey mask 0x0000ff00 at 16 link 2:" % dev]
        for p in range(PIPES):
            cid = "%x" % (p + 16)
            cmds.append("class add dev %s parent 1:1 classid 1:%s htb rate 10gbit ceil "
                        "10gbit quantum 1500" % (dev, cid))
            cmds.append("filter add dev %s parent 1: prio 1 protocol ip u32 ht 2:%x: match "
                        "ip dst 10.%d.%d.0/24 flowid 1:%s" % (dev, p & 0xFF, p >> 8, p & 0xFF,
                                                             cid))
        with open(os.path.join(work, "htb.batch"), "w") as f:
            f.write("\n".join(cmds) + "\n")
        sh("tc", "-batch", os.path.join(work, "htb.batch"))
        conf = os.path.join(work, "trafgen.cfg")
        with open(conf, "w") as f:
            # untagged version of the same frames: dst 10.X.Y.Z, X.Y over all 4096 pipes
            f.write("{ 0x02,0,0,0,0,0x02, 0x02,0,0,0,0,0x01, 0x08,0x00,\n"
                    "  0x45,0,0,46, 0,0, 0,0, 64,17, csumip(14, 33),\n"
                    "  192,0,2,1, 10, dinc(0, 15), drnd(), 1,\n"
                    "  0x04,0x00, 0x04,0x00, 0,26, 0,0,\n"
                    "  fill(0, 18) }\n")

        def sent():
            out = sh("tc", "-s", "qdisc", "show", "dev", dev).stdout
            for line in out.splitlines():
                if "Sent" in line and "pkt" in line:
                    return int(line.split()[3])
            return 0

        tg = subprocess.Popen(NICE + ["taskset", "-c", "0", "trafgen", "--dev", dev, "--conf", conf,
                               "--cpus", "1", "--qdisc-path", "--no-cpu-stats"],
                              stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "d.log"),
                                                                     "w"),
                              start_new_session=True)
        set_autogroup_nice(tg.pid)
        try:
            time.sleep(a.warmup)
            n0, t0 = sent(), time.monotonic()
            time.sleep(a.seconds)
            n1, t1 = sent(), time.monotonic()
            if tg.poll() is not None:
                raise RuntimeError("trafgen exited early (see d.log)")
        finally:
            os.killpg(tg.pid, signal.SIGINT)
            tg.wait(timeout=20)
        return (n1 - n0) / (t1 - t0) / 1e6, None
    finally:
        sh("ip", "link", "del", dev, check=False)
        sh("ip", "netns", "del", ns, check=False)


NAMES = {"a": "testpmd io forwarding (ceiling)", "b": "qos_sched (DPDK example)",
         "c": "tidal-dp, rx | sched+tx", "e": "tidal-dp, rx+tx | sched",
         "d": "tc HTB on a veth (kernel)"}


def run(k, a, work):
    if k == "d":
        return run_htb(a, work)
    return measure_dpdk(SPECS[k](a, work), a)


def spread(v):
    return "%.2f (%.2f-%.2f)" % (statistics.median(v), min(v), max(v))


def report(a, res, norm):
    print()
    print("%-36s %20s %22s" % ("", "Mpps median (range)", "per CPU-second"))
    for k in a.only:
        print("(%s) %-32s %20s %22s" % (k, NAMES[k], spread(res[k]),
                                       spread(norm[k]) if norm[k] else "-"))
    # rounds are interleaved, so a ratio within one round compares runs that were a few
    # seconds apart; their median and range say how sure the comparison is
    for x, y, note in (("c", "b", ""), ("e", "b", "  (tx on the rx lcore)"), ("c", "a", ""),
                       ("c", "d", "")):
        if x in res and y in res:
            r = [u / v for u, v in zip(res[x], res[y])]
            line = "%s/%s = %s" % (x, y, spread(r))
            if norm[x] and norm[y]:
                line += ", per CPU-second %s" % spread([u / v for u, v in zip(norm[x], norm[y])])
            print(line + note)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tidal-dp", required=True)
    ap.add_argument("--dpctl", required=True)
    ap.add_argument("--qos-sched", required=True)
    ap.add_argument("--testpmd", default="dpdk-testpmd")
    ap.add_argument("--huge", help="hugetlbfs mount to use (not with --instructions)")
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--warmup", type=float, default=2.0)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--only", default="abcde",
                    help="a testpmd, b qos_sched, c tidal-dp (rx | sched+tx, qos_sched's "
                    "layout), e tidal-dp (rx+tx | sched), d tc HTB")
    ap.add_argument("--instructions", action="store_true",
                    help="instead of Mpps: instructions per packet of b, c, e under callgrind")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--nice", type=int, default=-10,
                    help="nice level of every measured program (same for all; the machine is "
                    "shared)")
    a = ap.parse_args()
    if a.nice and not a.instructions:
        NICE.extend(["nice", "-n", str(a.nice)])
        NICE_LEVEL[0] = a.nice
    work = tempfile.mkdtemp(prefix="tdlbench-")
    a.pcap = os.path.join(work, "qinq4096.pcap")
    write_pcap(a.pcap)
    try:
        if a.instructions:
            import cgcount
            a.huge = None
            a.only = "".join(k for k in a.only if k in "bce")
            out = {k: cgcount.measure(SPECS[k](a, work, cgcount.wrap(work, k)), a, work, k)
                   for k in a.only}
            cgcount.report(out, NAMES)
            if a.json:
                print(json.dumps(out))
            return 0
        if not a.huge:
            ap.error("--huge is required")
        res = {k: [] for k in a.only}
        norm = {k: [] for k in a.only}
        for r in range(a.rounds):
            for k in a.only:
                mpps, per_cpu = run(k, a, work)
                res[k].append(mpps)
                if per_cpu is not None:
                    norm[k].append(per_cpu)
                print("round %d %s: %.2f Mpps%s" % (r + 1, k, mpps, "" if per_cpu is None else
                                                   ", %.2f Mpps per CPU-second" % per_cpu),
                      flush=True)
    finally:
        if not os.environ.get("TIDAL_BENCH_KEEP"):
            shutil.rmtree(work, ignore_errors=True)
    report(a, res, norm)
    if a.json:
        print(json.dumps({"runs": res, "runs_per_cpu_s": norm}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
