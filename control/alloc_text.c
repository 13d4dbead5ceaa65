/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alloc_text: the words of the controller's reasons. Reasons are built for every action of
 * every cycle (tens of thousands at scale), so the pieces avoid printf: a bounded string
 * builder, integer formatting of quantities, times and durations.
 *
 * Pure; owns nothing.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "alloc_int.h"

static const char *const kind_names[ALLOC_N_KINDS] = {"bandwidth", "vcpu", "memory", "storage"};

const char *alloc_kind_name(enum alloc_kind k)
{
	return (unsigned)k < ALLOC_N_KINDS ? kind_names[k] : "?";
}

const char *alloc_release_why_name(enum alloc_release_why w)
{
	switch (w) {
	case ALLOC_SURPLUS:
		return "surplus";
	case ALLOC_RESIZE:
		return "resize";
	case ALLOC_RECLAIM:
		return "reclaim";
	case ALLOC_PREEMPTED:
		return "preempted";
	}
	return "?";
}

/* snprintf that may truncate (reasons are for people; a cut one is still useful). */
__attribute__((format(printf, 3, 4))) int alloc_text(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n;
}

/* Reasons are built for every action of every cycle (tens of thousands at scale), so the
 * pieces below avoid printf: a bounded string builder and integer formatting. */

void alloc_sb_init(struct alloc_sb *b, char *buf, size_t cap)
{
	b->p = buf;
	b->len = 0;
	b->cap = cap;
	buf[0] = '\0';
}

void alloc_sb_mem(struct alloc_sb *b, const char *s, size_t n)
{
	if (b->len + 1 >= b->cap)
		return;
	if (n > b->cap - 1 - b->len)
		n = b->cap - 1 - b->len;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void alloc_sb_s(struct alloc_sb *b, const char *s)
{
	alloc_sb_mem(b, s, strlen(s));
}

void alloc_sb_u(struct alloc_sb *b, uint64_t v)
{
	char t[24];
	size_t i = sizeof(t);
	do {
		t[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	alloc_sb_mem(b, t + i, sizeof(t) - i);
}

/* Three significant digits, trailing zeros dropped: 2.31, 10.5, 123, 0.05. */
void alloc_sb_num3(struct alloc_sb *b, double v)
{
	if (!(v >= 0) || !isfinite(v))
		v = 0;
	int dec = v >= 100 ? 0 : v >= 10 ? 1 : 2;
	uint64_t scale = dec == 0 ? 1 : dec == 1 ? 10 : 100;
	uint64_t x = (uint64_t)llround(v * (double)scale);
	alloc_sb_u(b, x / scale);
	uint64_t frac = x % scale;
	if (frac) {
		char t[4];
		int n = 0;
		if (dec == 2) {
			t[n++] = (char)('0' + frac / 10);
			if (frac % 10)
				t[n++] = (char)('0' + frac % 10);
		} else {
			t[n++] = (char)('0' + frac);
		}
		alloc_sb_mem(b, ".", 1);
		alloc_sb_mem(b, t, (size_t)n);
	}
}

void alloc_sb_qty(struct alloc_sb *b, enum alloc_kind k, double v)
{
	static const char *const si[] = {"", "k", "M", "G", "T", "P"};
	static const char *const bin[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
	unsigned i = 0;
	if (v < 0 || !isfinite(v))
		v = 0;
	switch (k) {
	case ALLOC_BANDWIDTH:
		while (v >= 999.5 && i < 5)
			v /= 1000, i++;
		alloc_sb_num3(b, v);
		alloc_sb_s(b, si[i]);
		alloc_sb_s(b, "bit/s");
		break;
	case ALLOC_VCPU:
		alloc_sb_u(b, (uint64_t)ceil(v));
		alloc_sb_s(b, " vCPU");
		break;
	default:
		while (v >= 1023.5 && i < 5)
			v /= 1024, i++;
		alloc_sb_num3(b, v);
		alloc_sb_s(b, bin[i]);
		break;
	}
}

void alloc_sb_hm(struct alloc_sb *b, int64_t t)
{
	int64_t d = t % 86400;
	if (d < 0)
		d += 86400;
	char x[6] = {(char)('0' + d / 36000),      (char)('0' + d / 3600 % 10),      ':',
	             (char)('0' + d % 3600 / 600), (char)('0' + d % 3600 / 60 % 10), 'Z'};
	alloc_sb_mem(b, x, sizeof(x));
}

/* "1h30m", "15m", "0s", "2d" */
void alloc_sb_dur(struct alloc_sb *b, uint32_t s)
{
	static const struct {
		uint32_t n;
		char u;
	} parts[] = {{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
	if (!s) {
		alloc_sb_s(b, "0s");
		return;
	}
	for (size_t i = 0; i < 4; i++)
		if (s >= parts[i].n) {
			alloc_sb_u(b, s / parts[i].n);
			alloc_sb_mem(b, &parts[i].u, 1);
			s %= parts[i].n;
		}
}

char *alloc_fmt_qty(enum alloc_kind k, double v, char *buf, size_t len)
{
	struct alloc_sb b;
	alloc_sb_init(&b, buf, len);
	alloc_sb_qty(&b, k, v);
	return buf;
}

char *alloc_fmt_hm(int64_t t, char *buf, size_t len)
{
	struct alloc_sb b;
	alloc_sb_init(&b, buf, len);
	alloc_sb_hm(&b, t);
	return buf;
}

/* "need 2.31Gbit/s in 11:00Z-12:00Z (p95 2.1Gbit/s +10% headroom)", built once per class
 * and block. */
const char *alloc_need_text(struct alloc *a, size_t c)
{
	const struct alloc_class *k = &a->in->cls[c];
	struct alloc_cs *s = &a->cs[c];
	if (s->need_txt[0])
		return s->need_txt;
	struct alloc_sb b;
	alloc_sb_init(&b, s->need_txt, sizeof(s->need_txt));
	alloc_sb_s(&b, "need ");
	alloc_sb_qty(&b, k->kind, s->need);
	alloc_sb_s(&b, " in ");
	alloc_sb_hm(&b, a->bstart);
	alloc_sb_s(&b, "-");
	alloc_sb_hm(&b, a->bend);
	switch (s->src) {
	case NEED_FORECAST:
		alloc_sb_s(&b, " (p");
		alloc_sb_num3(&b, k->slo_quantile * 100);
		alloc_sb_s(&b, " ");
		alloc_sb_qty(&b, k->kind, s->basis);
		break;
	case NEED_MEASURED:
		alloc_sb_s(&b, " (no forecast: measured ");
		alloc_sb_qty(&b, k->kind, s->basis);
		break;
	case NEED_NOWCAST:
		alloc_sb_s(&b, " (measured ");
		alloc_sb_qty(&b, k->kind, s->basis);
		alloc_sb_s(&b, " now x ");
		alloc_sb_num3(&b, s->spread);
		alloc_sb_s(&b, " spread of the forecast, above its p");
		alloc_sb_num3(&b, k->slo_quantile * 100);
		alloc_sb_s(&b, " ");
		alloc_sb_qty(&b, k->kind, s->quantile);
		break;
	default:
		alloc_sb_s(&b, " (no forecast or measurement: min_rate");
		break;
	}
	if (k->headroom > 0 && s->src != NEED_MINRATE) {
		alloc_sb_s(&b, " +");
		alloc_sb_num3(&b, k->headroom * 100);
		alloc_sb_s(&b, "% headroom");
	}
	if (s->clipped_max)
		alloc_sb_s(&b, ", clipped to max_rate");
	else if (s->clipped_min)
		alloc_sb_s(&b, ", raised to min_rate");
	alloc_sb_s(&b, ")");
	return s->need_txt;
}

void alloc_sb_path(struct alloc_sb *b, const struct alloc *a, const int *hops, unsigned n)
{
	for (unsigned h = 0; h < n; h++) {
		if (h)
			alloc_sb_s(b, ", ");
		alloc_sb_s(b, a->in->res[hops[h]].name ? a->in->res[hops[h]].name : "?");
	}
}
