/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pkt: crafted Ethernet frames for the BPF fixture tests and benchmarks.
 *
 * A frame is built front to back into a caller's buffer: Ethernet, optional VLAN tags,
 * an IPv4 or IPv6 header (with optional IPv6 extension headers), then zero payload up to
 * the requested size. Checksums are not computed: the programs under test never look at
 * them.
 */
#ifndef TIDAL_TESTS_BPF_PKT_H
#define TIDAL_TESTS_BPF_PKT_H

#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define PKT_MAX 2048

struct pkt {
	uint8_t b[PKT_MAX];
	size_t len;
};

static inline void pkt_put(struct pkt *p, const void *d, size_t n)
{
	if (p->len + n <= PKT_MAX) {
		memcpy(p->b + p->len, d, n);
		p->len += n;
	}
}

static inline void pkt_u8(struct pkt *p, uint8_t v)
{
	pkt_put(p, &v, 1);
}

static inline void pkt_u16(struct pkt *p, uint16_t v)
{
	uint16_t be = htons(v);

	pkt_put(p, &be, 2);
}

/* Ethernet header with ethertype `proto`, preceded by n_tags tags (each 0x8100 except
 * the outer one of a QinQ pair, which is 0x88a8). */
static inline void pkt_eth(struct pkt *p, unsigned n_tags, uint16_t proto)
{
	static const uint8_t macs[12] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2};

	p->len = 0;
	pkt_put(p, macs, 12);
	for (unsigned i = 0; i < n_tags; i++) {
		pkt_u16(p, (i == 0 && n_tags > 1) ? 0x88a8 : 0x8100);
		pkt_u16(p, (uint16_t)(100 + i)); /* TCI of the next tag */
	}
	pkt_u16(p, proto);
}

/* IPv4 header (20 bytes) with DSCP and the fragment field (host order: flags<<13|off). */
static inline void pkt_ip4(struct pkt *p, const char *src, const char *dst, uint8_t dscp,
			   uint16_t frag)
{
	uint8_t h[20] = {0x45, (uint8_t)(dscp << 2), 0, 0, 0, 1, 0, 0, 64, 17};

	h[6] = (uint8_t)(frag >> 8);
	h[7] = (uint8_t)frag;
	inet_pton(AF_INET, src, h + 12);
	inet_pton(AF_INET, dst, h + 16);
	pkt_put(p, h, sizeof(h));
}

/* IPv6 fixed header with DSCP and the first next-header value. */
static inline void pkt_ip6(struct pkt *p, const char *src, const char *dst, uint8_t dscp,
			   uint8_t nexthdr)
{
	uint8_t h[40] = {0};
	uint8_t tc = (uint8_t)(dscp << 2);

	h[0] = (uint8_t)(0x60 | (tc >> 4));
	h[1] = (uint8_t)(tc << 4);
	h[6] = nexthdr;
	h[7] = 64;
	inet_pton(AF_INET6, src, h + 8);
	inet_pton(AF_INET6, dst, h + 24);
	pkt_put(p, h, sizeof(h));
}

/* An 8-byte IPv6 extension header (hop-by-hop, routing, destination options: hdr len 0;
 * fragment: frag field = offset<<3 | M). */
static inline void pkt_ext(struct pkt *p, uint8_t nexthdr, uint16_t frag)
{
	uint8_t h[8] = {nexthdr, 0, (uint8_t)(frag >> 8), (uint8_t)frag, 0, 0, 0, 0};

	pkt_put(p, h, sizeof(h));
}

/* Pad with zeros up to total length n. */
static inline void pkt_pad(struct pkt *p, size_t n)
{
	while (p->len < n && p->len < PKT_MAX)
		p->b[p->len++] = 0;
}

#endif
