/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cfg-golden: the data-driven config tests.
 *
 *   cfg-golden bad FILE.ini [FILE.err]  FILE.ini must be refused with exactly the messages
 *                                       in FILE.err (default: FILE.ini with .err)
 *   cfg-golden good FILE.ini            FILE.ini must load, and print-and-reparse must give
 *                                       an equal tree and the same text again
 *   cfg-golden bad-dir DIR              every .ini in DIR as "bad" (catches files added
 *   cfg-golden good-dir DIR             without re-running meson setup)
 *   cfg-golden print FILE.ini           canonical form on stdout, or the messages
 *
 * Messages name the file as given, so run it from tests/config with relative names.
 * Owns only temporary files of its own (removed before it exits).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;

	if (!f)
		return NULL;
	FILE *m = open_memstream(&buf, &len);
	int c;
	while ((c = fgetc(f)) != EOF)
		fputc(c, m);
	fclose(m);
	fclose(f);
	return buf;
}

static char *diag_text(const struct cfg_diag *d)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	cfg_diag_print(d, m);
	fclose(m);
	return buf;
}

static int run_bad(const char *ini, const char *err)
{
	char errpath[4096];
	struct cfg_diag d;
	struct tidal_cfg *cfg;
	int rc = 0;

	if (!err) {
		size_t n = strlen(ini);
		if (n < 4 || strcmp(ini + n - 4, ".ini") || n + 1 > sizeof(errpath)) {
			fprintf(stderr, "%s: expected a .ini file\n", ini);
			return 1;
		}
		snprintf(errpath, sizeof(errpath), "%.*s.err", (int)(n - 4), ini);
		err = errpath;
	}
	char *want = slurp(err);
	if (!want) {
		fprintf(stderr, "%s: cannot read the expected messages: %s\n", err,
			strerror(errno));
		return 1;
	}
	cfg_diag_init(&d);
	cfg = cfg_load(ini, &d);
	char *got = diag_text(&d);
	if (cfg) {
		fprintf(stderr, "%s: loaded, but it should have been refused\n", ini);
		rc = 1;
	} else if (d.n == 0) {
		fprintf(stderr, "%s: refused without a message\n", ini);
		rc = 1;
	} else if (strcmp(want, got)) {
		fprintf(stderr, "%s: messages differ from %s\n--- expected\n%s--- got\n%s", ini,
			err, want, got);
		rc = 1;
	}
	if (rc == 0)
		printf("ok %s: %zu message%s\n", ini, d.n, d.n == 1 ? "" : "s");
	cfg_free(cfg);
	cfg_diag_free(&d);
	free(want);
	free(got);
	return rc;
}

static char *print_text(const struct tidal_cfg *cfg, int *rc)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	*rc = cfg_print(cfg, m);
	fclose(m);
	return buf;
}

static int run_good(const char *ini)
{
	struct cfg_diag d;
	struct tidal_cfg *a, *b = NULL;
	char tmp[] = "/tmp/tidal-cfg-golden-XXXXXX";
	char *ta = NULL, *tb = NULL;
	int rc = 1, prc, fd = -1;

	cfg_diag_init(&d);
	a = cfg_load(ini, &d);
	if (!a) {
		fprintf(stderr, "%s: refused:\n", ini);
		cfg_diag_print(&d, stderr);
		goto out;
	}
	ta = print_text(a, &prc);
	if (prc < 0) {
		fprintf(stderr, "%s: cfg_print failed: %s\n", ini, strerror(-prc));
		goto out;
	}
	fd = mkstemp(tmp);
	if (fd < 0 || write(fd, ta, strlen(ta)) != (ssize_t)strlen(ta)) {
		fprintf(stderr, "cannot write %s: %s\n", tmp, strerror(errno));
		goto out;
	}
	b = cfg_load(tmp, &d);
	if (!b) {
		fprintf(stderr, "%s: its printed form is refused:\n%s\n", ini, ta);
		cfg_diag_print(&d, stderr);
		goto out;
	}
	if (!cfg_equal(a, b)) {
		fprintf(stderr, "%s: the printed form loads to a different config:\n%s", ini, ta);
		goto out;
	}
	tb = print_text(b, &prc);
	if (prc < 0 || strcmp(ta, tb)) {
		fprintf(stderr, "%s: printing is not stable:\n--- first\n%s--- second\n%s", ini, ta,
			tb ? tb : "");
		goto out;
	}
	printf("ok %s: round trip equal\n", ini);
	rc = 0;
out:
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	cfg_free(a);
	cfg_free(b);
	cfg_diag_free(&d);
	free(ta);
	free(tb);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_dir(const char *dir, int (*fn)(const char *))
{
	DIR *dp = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;
	int fails = 0;

	if (!dp) {
		fprintf(stderr, "%s: %s\n", dir, strerror(errno));
		return 1;
	}
	while ((de = readdir(dp))) {
		size_t l = strlen(de->d_name);
		if (l < 5 || strcmp(de->d_name + l - 4, ".ini"))
			continue;
		names = realloc(names, (n + 1) * sizeof(*names));
		if (asprintf(&names[n], "%s/%s", dir, de->d_name) < 0)
			return 1;
		n++;
	}
	closedir(dp);
	qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		fails += fn(names[i]) != 0;
		free(names[i]);
	}
	free(names);
	if (n == 0) {
		fprintf(stderr, "%s: no .ini files\n", dir);
		return 1;
	}
	printf("%zu files, %d failed\n", n, fails);
	return fails ? 1 : 0;
}

static int run_bad1(const char *ini)
{
	return run_bad(ini, NULL);
}

static int run_print(const char *ini)
{
	struct cfg_diag d;
	struct tidal_cfg *cfg;
	int rc;

	cfg_diag_init(&d);
	cfg = cfg_load(ini, &d);
	cfg_diag_print(&d, stdout);
	rc = cfg ? cfg_print(cfg, stdout) : 1;
	cfg_free(cfg);
	cfg_diag_free(&d);
	return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "bad"))
		return run_bad(argv[2], argc > 3 ? argv[3] : NULL);
	if (argc == 3 && !strcmp(argv[1], "good"))
		return run_good(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "bad-dir"))
		return run_dir(argv[2], run_bad1);
	if (argc == 3 && !strcmp(argv[1], "good-dir"))
		return run_dir(argv[2], run_good);
	if (argc == 3 && !strcmp(argv[1], "print"))
		return run_print(argv[2]);
	fprintf(stderr, "usage: %s bad FILE.ini [FILE.err] | good FILE.ini | bad-dir DIR | "
			"good-dir DIR | print FILE.ini\n",
		argv[0]);
	return 2;
}
