#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""pcapgen: deterministic test traffic for tidal-dp, as a pcap file plus per-packet labels.

A spec (JSON) lists streams; each stream is a flow of packets with one shape:

  {"streams": [
     {"name": "video", "family": 4, "dst": "198.51.100.0/24", "src": "10.0.0.0/8",
      "dscp": 34, "vlan": 100, "sizes": [64, 1500], "rate": "20M", "start": 0.5,
      "duration": 3.0},
     {"name": "arp", "nonip": true, "sizes": [60], "pps": 100, "duration": 1.0}
  ], "seed": 1}

  dst/src     a prefix: addresses are drawn inside it (a host route is that host)
  sizes       frame sizes in bytes (without FCS), cycled in a shuffled order; a pair
              [min, max] written as {"min": a, "max": b} draws uniformly
  rate / pps  offered load in bits/s (frame bytes * 8) or packets per second
  start, duration   seconds from the start of the capture

Packets of all streams are merged by timestamp. Every packet carries, right after its
UDP header (or Ethernet header for non-IP), the tag b"TDLG", the stream index (u16) and a
sequence number over the whole capture (u32, big-endian), so an output capture can be
matched packet by packet. The labels file is CSV: seq,stream,ts_ns,size,dscp,dst,src.

Used as a module by the tests (generate(), read_pcap()) and as a command:
  pcapgen.py SPEC.json OUT.pcap [LABELS.csv]
"""
import ipaddress
import json
import random
import struct
import sys

TAG = b"TDLG"
ETH_IPV4, ETH_IPV6, ETH_VLAN, ETH_LOCAL = 0x0800, 0x86DD, 0x8100, 0x88B5


def parse_rate(s):
    """bits/s with SI suffixes, as tidal's config writes them: 20M, 1.5G, 64000."""
    if isinstance(s, (int, float)):
        return float(s)
    mult = {"k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}
    if s and s[-1] in mult:
        return float(s[:-1]) * mult[s[-1]]
    return float(s)


def _csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def _pick_addr(rng, net):
    n = net.num_addresses
    if n == 1:
        return net.network_address
    if n <= 4:
        return net.network_address + rng.randrange(n)
    # stay off the first and last address (network and broadcast of IPv4 nets)
    return net.network_address + rng.randint(1, min(n - 2, 1 << 30))


def build_packet(st, size, dscp, dst, src, stream_idx, seq):
    """One Ethernet frame of exactly `size` bytes."""
    mac = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01"
    tag = TAG + struct.pack("!HI", stream_idx, seq)
    vlan = b""
    if st.get("vlan") is not None:
        vlan = struct.pack("!HH", ETH_VLAN, st["vlan"] & 0x0FFF)
    if st.get("nonip"):
        body_len = size - 14 - len(vlan)
        if body_len < len(tag):
            raise ValueError("frame of %d bytes too small for the tag" % size)
        return mac + vlan + struct.pack("!H", ETH_LOCAL) + tag + b"\0" * (body_len - len(tag))
    if st.get("family", 4) == 4:
        l3_len = size - 14 - len(vlan)
        udp_len = l3_len - 20
        if udp_len < 8 + len(tag):
            raise ValueError("frame of %d bytes too small for IPv4+UDP+tag" % size)
        payload = tag + b"\0" * (udp_len - 8 - len(tag))
        udp = struct.pack("!HHHH", 40000 + stream_idx, 5001, udp_len, 0) + payload
        hdr = struct.pack("!BBHHHBBH4s4s", 0x45, dscp << 2, l3_len, seq & 0xFFFF, 0, 64, 17, 0,
                          src.packed, dst.packed)
        hdr = hdr[:10] + struct.pack("!H", _csum(hdr)) + hdr[12:]
        return mac + vlan + struct.pack("!H", ETH_IPV4) + hdr + udp
    l4_len = size - 14 - len(vlan) - 40
    if l4_len < 8 + len(tag):
        raise ValueError("frame of %d bytes too small for IPv6+UDP+tag" % size)
    payload = tag + b"\0" * (l4_len - 8 - len(tag))
    udp = struct.pack("!HHHH", 40000 + stream_idx, 5001, l4_len, 0) + payload
    hdr = struct.pack("!IHBB16s16s", (6 << 28) | (dscp << 22), l4_len, 17, 64, src.packed,
                      dst.packed)
    return mac + vlan + struct.pack("!H", ETH_IPV6) + hdr + udp


def _sizes(st, rng):
    sz = st.get("sizes", [512])
    if isinstance(sz, dict):
        while True:
            yield rng.randint(sz["min"], sz["max"])
    order = list(sz)
    while True:
        rng.shuffle(order)
        for s in order:
            yield s


def generate(spec):
    """List of (ts_ns, frame, label) sorted by time; label is a dict."""
    rng = random.Random(spec.get("seed", 1))
    events = []
    for idx, st in enumerate(spec["streams"]):
        start = float(st.get("start", 0.0))
        dur = float(st["duration"])
        fam = st.get("family", 4)
        dstnet = ipaddress.ip_network(st.get("dst", "192.0.2.1" if fam == 4 else "2001:db8::1"))
        srcnet = ipaddress.ip_network(st.get("src", "10.0.0.1" if fam == 4 else "2001:db8:ff::1"))
        dscps = st.get("dscp", 0)
        dscps = dscps if isinstance(dscps, list) else [dscps]
        sizes = _sizes(st, rng)
        t = start
        n = 0
        while t < start + dur:
            size = next(sizes)
            dscp = dscps[n % len(dscps)]
            dst, src = _pick_addr(rng, dstnet), _pick_addr(rng, srcnet)
            events.append((int(round(t * 1e9)), idx, size, dscp, dst, src))
            n += 1
            if "pps" in st:
                t += 1.0 / float(st["pps"])
            else:
                t += size * 8.0 / parse_rate(st["rate"])
    events.sort(key=lambda e: (e[0], e[1]))
    out = []
    for seq, (ts, idx, size, dscp, dst, src) in enumerate(events):
        st = spec["streams"][idx]
        frame = build_packet(st, size, dscp, dst, src, idx, seq)
        assert len(frame) == size
        out.append((ts, frame, {"seq": seq, "stream": idx, "ts_ns": ts, "size": size,
                                "dscp": dscp, "dst": str(dst), "src": str(src),
                                "family": 0 if st.get("nonip") else fam,
                                "vlan": st.get("vlan")}))
    return out


def write_pcap(path, packets, t0_s=1_700_000_000):
    """Microsecond pcap (what net_pcap reads); timestamps offset by t0_s."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for ts, frame, _ in packets:
            us = ts // 1000
            f.write(struct.pack("<IIII", t0_s + us // 1_000_000, us % 1_000_000, len(frame),
                                len(frame)))
            f.write(frame)


def write_labels(path, packets):
    with open(path, "w") as f:
        f.write("seq,stream,ts_ns,size,dscp,dst,src\n")
        for _, _, lb in packets:
            f.write("%d,%d,%d,%d,%d,%s,%s\n" % (lb["seq"], lb["stream"], lb["ts_ns"], lb["size"],
                                                lb["dscp"], lb["dst"], lb["src"]))


def read_pcap(path):
    """[(ts_ns, frame)] from a micro- or nanosecond pcap (net_pcap writes nanoseconds)."""
    out = []
    with open(path, "rb") as f:
        hdr = f.read(24)
        if len(hdr) < 24:
            return out
        magic = struct.unpack("<I", hdr[:4])[0]
        if magic == 0xA1B2C3D4:
            mult = 1000
        elif magic == 0xA1B23C4D:
            mult = 1
        else:
            raise ValueError("%s: not a little-endian pcap (magic %#x)" % (path, magic))
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                break
            sec, frac, caplen, _ = struct.unpack("<IIII", rec)
            data = f.read(caplen)
            if len(data) < caplen:
                break
            out.append((sec * 1_000_000_000 + frac * mult, data))
    return out


def tag_of(frame):
    """(stream, seq) carried by a frame built here, or None."""
    i = frame.find(TAG)
    if i < 0 or i + 10 > len(frame):
        return None
    return struct.unpack("!HI", frame[i + 4:i + 10])


def main(argv):
    if len(argv) not in (3, 4):
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    with open(argv[1]) as f:
        spec = json.load(f)
    pk = generate(spec)
    write_pcap(argv[2], pk)
    if len(argv) == 4:
        write_labels(argv[3], pk)
    print("%d packets, %.3f s" % (len(pk), (pk[-1][0] - pk[0][0]) / 1e9 if pk else 0))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
