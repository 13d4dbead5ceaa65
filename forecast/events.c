/* SPDX-License-Identifier: Apache-2.0 */
/*
 * events: calendar events. Places each event window on the series' steps, learns the effect
 * of a named event from its past occurrences (observed volume over the volume one season
 * earlier, geometric mean over occurrences), removes past effects from the data the models
 * see, and multiplies the forecasts for the steps the windows cover: by the given multiplier,
 * or by the learned one. The adjustments of the final forecast are reported.
 *
 * Owns the window, adjustment and factor arrays in struct engine (freed by eng_free).
 */
#include "engine.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Seasonal reference of step t for learning: the same phase one (longest possible) period
 * earlier, outside every event window. Returns false when there is none. */
static bool reference(const struct engine *e, const bool *in_ev, size_t t, double *out)
{
	for (size_t k = e->n_periods; k-- > 0;) {
		size_t m = e->periods[k];
		for (size_t back = m; back <= t && back <= 4 * m; back += m) {
			if (!in_ev[t - back]) {
				*out = e->y[t - back];
				return true;
			}
		}
	}
	return false;
}

int eng_events(struct engine *e)
{
	const struct fc_params *p = e->p;
	size_t total = e->n + e->h;

	if (p->n_events == 0)
		return 0;
	if (!p->events) {
		log_err("%s: %zu events announced but none given", e->sname, p->n_events);
		return -EINVAL;
	}
	for (size_t i = 0; i < p->n_events; i++) {
		const struct fc_event *ev = &p->events[i];
		if (!ev->name || !*ev->name || ev->end <= ev->start || !(ev->multiplier >= 0) ||
		    !isfinite(ev->multiplier)) {
			log_err("%s: event %zu (%s) needs a name, start < end and a multiplier >= "
			        "0",
			        e->sname, i + 1, ev->name ? ev->name : "unnamed");
			return -EINVAL;
		}
	}
	if (e->start == 0) {
		log_warn("%s: the series has no start time, so its %zu calendar events cannot "
		         "be placed; they are ignored",
		         e->sname, p->n_events);
		return 0;
	}
	e->win = calloc(p->n_events, sizeof(*e->win));
	e->ev_factor = malloc(total * sizeof(double));
	double *learned = calloc(p->n_events, sizeof(double));
	unsigned *occ = calloc(p->n_events, sizeof(unsigned));
	double *occ_ratio = calloc(p->n_events, sizeof(double));
	bool *in_ev = calloc(e->n, sizeof(bool));
	int rc = 0;
	if (!e->win || !e->ev_factor || !learned || !occ || !occ_ratio || !in_ev) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t t = 0; t < total; t++)
		e->ev_factor[t] = 1;

	/* windows on the step grid; ids shared by name */
	for (size_t i = 0; i < p->n_events; i++) {
		const struct fc_event *ev = &p->events[i];
		int64_t a = floor_div(ev->start - e->start, e->step);
		int64_t b = floor_div(ev->end - e->start + e->step - 1, e->step);
		if (b <= 0 || a >= (int64_t)total)
			continue;
		struct fc_window *w = &e->win[e->n_win];
		w->start = a < 0 ? 0 : (size_t)a;
		w->end = b > (int64_t)total ? total : (size_t)b;
		w->multiplier = ev->multiplier;
		w->id = (unsigned)i;
		for (size_t j = 0; j < i; j++)
			if (strcmp(p->events[j].name, ev->name) == 0) {
				w->id = (unsigned)j;
				break;
			}
		e->n_win++;
		for (size_t t = w->start; t < w->end && t < e->n; t++)
			in_ev[t] = true;
	}

	/* learn from past occurrences */
	for (size_t i = 0; i < e->n_win; i++) {
		struct fc_window *w = &e->win[i];
		double sy = 0, sb = 0;
		if (w->start >= e->n)
			continue;
		for (size_t t = w->start; t < w->end && t < e->n; t++) {
			double b;
			if (reference(e, in_ev, t, &b)) {
				sy += e->y[t];
				sb += b;
			}
		}
		if (sy > 0 && sb > 0) {
			occ_ratio[i] = sy / sb;
			learned[w->id] += log(sy / sb);
			occ[w->id]++;
		}
	}

	e->y_clean = malloc(e->n * sizeof(double));
	e->adj = calloc(e->n_win, sizeof(*e->adj));
	if (!e->y_clean || !e->adj) {
		rc = -ENOMEM;
		goto out;
	}
	memcpy(e->y_clean, e->y, e->n * sizeof(double));
	for (size_t i = 0; i < e->n_win; i++) {
		const struct fc_window *w = &e->win[i];
		bool given = w->multiplier > 0;
		double mult = given ? w->multiplier
		                    : (occ[w->id] ? exp(learned[w->id] / occ[w->id]) : 1.0);
		/* the data the models see: this occurrence's own effect removed */
		double remove = occ_ratio[i] > 0 ? occ_ratio[i] : (given ? mult : 1.0);
		for (size_t t = w->start; t < w->end && t < e->n; t++)
			e->y_clean[t] /= remove;
		/* the forecasts: past steps (for cross-validation) and future ones */
		for (size_t t = w->start; t < w->end; t++)
			e->ev_factor[t] *= t < e->n ? remove : mult;
		if (w->end > e->n && (given || occ[w->id])) {
			struct fc_adjustment *a = &e->adj[e->n_adj++];
			snprintf(a->event, sizeof(a->event), "%s", p->events[w->id].name);
			size_t s0 = w->start > e->n ? w->start : e->n;
			a->first_step = s0 - e->n;
			a->n_steps = w->end - s0;
			a->multiplier = mult;
			a->learned = !given;
			a->occurrences = occ[w->id];
		}
	}
out:
	free(learned);
	free(occ);
	free(occ_ratio);
	free(in_ev);
	if (rc == -ENOMEM)
		log_err("%s: out of memory placing calendar events", e->sname);
	return rc;
}

void eng_event_apply(const struct engine *e, size_t from, size_t h, double *mean, double *q,
                     size_t nl)
{
	if (!e->ev_factor)
		return;
	for (size_t s = 0; s < h && from + s < e->n + e->h; s++) {
		double f = e->ev_factor[from + s];
		if (f == 1)
			continue;
		mean[s] *= f;
		for (size_t j = 0; j < nl; j++)
			q[s * nl + j] *= f;
	}
}
