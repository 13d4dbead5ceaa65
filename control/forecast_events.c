/* SPDX-License-Identifier: Apache-2.0 */
/*
 * forecast_events: calendar events added at runtime (`tidalctl event add`), kept in
 * <state_dir>/events.json so that they survive restarts.
 *
 * The file is rewritten whole on every change: a temporary file beside it, fsync, rename
 * over the old one, fsync of the folder, so a crash leaves the old or the new list, never
 * a torn one. A file that is not what this code writes (hand-edited, truncated by a full
 * disk) stops tidald from starting with FILE:LINE:COL and what to do, rather than silently
 * forgetting planned events.
 *
 * Owns the list and the file. Never reads the config (events of [event.*] sections stay
 * in the config; the forecast module merges both).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "forecast_int.h"
#include "history_int.h"
#include "log.h"

#define FILE_VERSION 1

void rtev_clear(struct rt_event *ev)
{
	free(ev->apps);
	ev->apps = NULL;
	ev->n_apps = 0;
}

void rtev_free(struct rt_events *e)
{
	for (size_t i = 0; i < e->n; i++)
		rtev_clear(&e->v[i]);
	free(e->v);
	e->v = NULL;
	e->n = 0;
}

bool fcm_event_applies(char (*apps)[FCM_NAME_MAX], size_t n_apps, const char *series, bool is_app)
{
	if (n_apps == 0)
		return is_app;
	for (size_t i = 0; i < n_apps; i++)
		if (strcmp(apps[i], series) == 0)
			return true;
	return false;
}

bool fcm_cfg_event_applies(const struct cfg_event *ev, const char *series, bool is_app)
{
	if (ev->n_apps == 0)
		return is_app;
	for (size_t i = 0; i < ev->n_apps; i++)
		if (strcmp(ev->apps[i], series) == 0)
			return true;
	return false;
}

/* One event of the file; why names the problem. */
static int parse_event(json_t *o, struct rt_event *ev, const char **why)
{
	const char *name = json_string_value(json_object_get(o, "name"));
	const char *start = json_string_value(json_object_get(o, "start"));
	const char *end = json_string_value(json_object_get(o, "end"));
	json_t *mult = json_object_get(o, "multiplier");
	json_t *apps = json_object_get(o, "apps");
	json_t *added = json_object_get(o, "added");
	memset(ev, 0, sizeof(*ev));
	if (!json_is_object(o))
		return *why = "not an object", -EINVAL;
	if (!name || !*name || strlen(name) >= CFG_NAME_MAX)
		return *why = "no \"name\" (a string of at most 63 characters)", -EINVAL;
	snprintf(ev->name, sizeof(ev->name), "%s", name);
	if (!start || cfg_parse_time(start, &ev->start_s, NULL) < 0)
		return *why = "\"start\" is not an ISO 8601 UTC time", -EINVAL;
	if (!end || cfg_parse_time(end, &ev->end_s, NULL) < 0)
		return *why = "\"end\" is not an ISO 8601 UTC time", -EINVAL;
	if (ev->end_s <= ev->start_s)
		return *why = "\"end\" is not after \"start\"", -EINVAL;
	if (mult && !json_is_null(mult)) {
		ev->multiplier = json_number_value(mult);
		if (!json_is_number(mult) || !(ev->multiplier > 0) || !(ev->multiplier < 1000))
			return *why = "\"multiplier\" is not a number above 0 and below 1000",
			       -EINVAL;
	}
	if (added && json_is_string(added))
		cfg_parse_time(json_string_value(added), &ev->added_s, NULL);
	if (apps && !json_is_null(apps)) {
		if (!json_is_array(apps))
			return *why = "\"apps\" is not a list of series names", -EINVAL;
		size_t n = json_array_size(apps);
		ev->apps = calloc(n ? n : 1, sizeof(*ev->apps));
		if (!ev->apps)
			return *why = "out of memory", -ENOMEM;
		for (size_t i = 0; i < n; i++) {
			const char *a = json_string_value(json_array_get(apps, i));
			if (!a || !hist_name_ok(a)) {
				rtev_clear(ev);
				return *why = "\"apps\" holds something that is not a series name",
				       -EINVAL;
			}
			snprintf(ev->apps[ev->n_apps++], FCM_NAME_MAX, "%s", a);
		}
	}
	return 0;
}

int rtev_load(struct rt_events *e, const char *path)
{
	json_error_t jerr;
	snprintf(e->path, sizeof(e->path), "%s", path);
	e->v = NULL;
	e->n = 0;
	if (access(path, F_OK) != 0)
		return 0;
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		log_err("forecast: %s:%d:%d: %s; fix the file or move it away (it holds the events "
		        "added with tidalctl event add)",
		        path, jerr.line, jerr.column, jerr.text);
		return -EINVAL;
	}
	json_t *list = json_object_get(root, "events");
	json_t *ver = json_object_get(root, "version");
	if (!json_is_object(root) || !json_is_array(list) || !json_is_integer(ver) ||
	    json_integer_value(ver) != FILE_VERSION) {
		log_err("forecast: %s: expected {\"version\": %d, \"events\": [...]}; fix the file "
		        "or move it away",
		        path, FILE_VERSION);
		json_decref(root);
		return -EINVAL;
	}
	size_t n = json_array_size(list);
	if (n > FCM_MAX_RT_EVENTS) {
		log_err("forecast: %s: %zu events, more than the %d allowed", path, n,
		        FCM_MAX_RT_EVENTS);
		json_decref(root);
		return -EINVAL;
	}
	e->v = calloc(n ? n : 1, sizeof(*e->v));
	if (!e->v) {
		json_decref(root);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const char *why = NULL;
		int rc = parse_event(json_array_get(list, i), &e->v[e->n], &why);
		if (rc < 0) {
			log_err("forecast: %s: event %zu: %s; fix the file or move it away", path,
			        i + 1, why);
			json_decref(root);
			rtev_free(e);
			return rc;
		}
		e->n++;
	}
	json_decref(root);
	return 0;
}

static json_t *event_json(const struct rt_event *ev)
{
	char a[32], b[32], c[32];
	json_t *apps = json_array();
	for (size_t i = 0; i < ev->n_apps; i++)
		json_array_append_new(apps, json_string(ev->apps[i]));
	cfg_fmt_time(ev->start_s, a, sizeof(a));
	cfg_fmt_time(ev->end_s, b, sizeof(b));
	cfg_fmt_time(ev->added_s, c, sizeof(c));
	return json_pack("{s:s,s:s,s:s,s:o,s:o,s:s}", "name", ev->name, "start", a, "end", b,
	                 "multiplier", ev->multiplier > 0 ? json_real(ev->multiplier) : json_null(),
	                 "apps", apps, "added", c);
}

int rtev_save(const struct rt_events *e)
{
	char tmp[sizeof(e->path) + 8], dir[sizeof(e->path)];
	json_t *list = json_array();
	for (size_t i = 0; i < e->n; i++)
		json_array_append_new(list, event_json(&e->v[i]));
	json_t *root = json_pack("{s:i,s:o}", "version", FILE_VERSION, "events", list);
	if (!root)
		return -ENOMEM;
	snprintf(tmp, sizeof(tmp), "%s.tmp", e->path);
	int rc = 0;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0) {
		rc = -errno;
	} else {
		if (json_dumpfd(root, fd, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0 ||
		    write(fd, "\n", 1) != 1)
			rc = -EIO;
		if (rc == 0 && fsync(fd) != 0)
			rc = -errno;
		if (close(fd) != 0 && rc == 0)
			rc = -errno;
		if (rc == 0 && rename(tmp, e->path) != 0)
			rc = -errno;
		if (rc < 0)
			unlink(tmp);
	}
	json_decref(root);
	if (rc < 0) {
		log_err("forecast: cannot write %s: %s", e->path, strerror(-rc));
		return rc;
	}
	snprintf(dir, sizeof(dir), "%s", e->path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
	}
	return 0;
}
