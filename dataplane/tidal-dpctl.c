/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tidal-dpctl: drive a running tidal-dp by hand, from scripts and from tests.
 *
 *   tidal-dpctl [-s SOCKET] [-j] [-t MS] COMMAND...
 *     info
 *     class add ID subport S pipe P tc T [queue Q] [match "dst 198.51.100.0/24, dscp ef"]
 *                  [meter CIR PIR CBS PBS]
 *     class del ID
 *     pipe rate [pair N] SUBPORT PIPE RATE [tb BYTES] [tc RATE,RATE,...13]
 *     subport rate [pair N] SUBPORT RATE
 *     stats
 *     rx on|off [pair N]
 *     batch FILE          one command per line ('-' reads stdin; '#' starts a comment)
 *
 * Rates in bits/s with SI suffixes (10M, 1G; 0 = unlimited), bytes with KiB/MiB suffixes.
 * Exit: 0 done, 1 refused by tidal-dp, 2 usage error, 3 tidal-dp not reachable.
 * Goes through dp.h only: tidal-dpctl is a client like tidald.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dp.h"
#include "log.h"

#define EXIT_REFUSED     1
#define EXIT_USAGE       2
#define EXIT_UNREACHABLE 3

static bool json_out;
static const char *sock_path = "/run/tidal/dp.sock";
static int timeout_ms = 2000;
static struct dp_conn *conn;

/* Connect on first use, after the command's arguments were checked, so that a usage error
 * is reported as one even when tidal-dp is not running. */
static struct dp_conn *C(void)
{
	if (!conn) {
		conn = dp_connect(sock_path, timeout_ms);
		if (!conn)
			exit(EXIT_UNREACHABLE);
	}
	return conn;
}

static int usage_err(const char *fmt, const char *arg)
{
	fprintf(stderr, "tidal-dpctl: ");
	fprintf(stderr, fmt, arg ? arg : "");
	fprintf(stderr, "\n(see tidal-dpctl -h)\n");
	return EXIT_USAGE;
}

static int refused(struct dp_conn *c, int rc)
{
	fprintf(stderr, "tidal-dpctl: %s\n", dp_last_error(c));
	if (rc == -ENOTCONN || rc == -ECONNRESET || rc == -EPIPE || rc == -ETIMEDOUT)
		return EXIT_UNREACHABLE;
	return EXIT_REFUSED;
}

static int parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	uint64_t v;
	const char *why;

	if (!s || cfg_parse_uint(s, 0, max, &v, &why) < 0)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* "dst 198.51.100.0/24, dst 2001:db8::/32, src 10.0.0.0/8, dscp af41, dscp 46" */
struct match_buf {
	struct cfg_prefix dst[DPMSG_MAX_PREFIXES], src[DPMSG_MAX_PREFIXES];
	uint8_t dscp[64];
	size_t n_dst, n_src, n_dscp;
};

static int parse_match(const char *text, struct match_buf *m)
{
	char *copy = strdup(text), *save = NULL;
	int rc = 0;

	if (!copy)
		return -ENOMEM;
	for (char *item = strtok_r(copy, ",", &save); item && rc == 0;
	     item = strtok_r(NULL, ",", &save)) {
		char kind[8], val[128], extra;
		const char *why = NULL;
		if (sscanf(item, " %7s %127s %c", kind, val, &extra) != 2) {
			fprintf(stderr,
			        "tidal-dpctl: match item '%s': expected 'dst|src|dscp VALUE'\n",
			        item);
			rc = -EINVAL;
		} else if (strcmp(kind, "dst") == 0 || strcmp(kind, "src") == 0) {
			bool dst = kind[0] == 'd';
			size_t *n = dst ? &m->n_dst : &m->n_src;
			if (*n == DPMSG_MAX_PREFIXES) {
				fprintf(stderr, "tidal-dpctl: more than %d %s prefixes\n",
				        DPMSG_MAX_PREFIXES, kind);
				rc = -E2BIG;
			} else if (cfg_parse_prefix(val, dst ? &m->dst[*n] : &m->src[*n], &why) <
			           0) {
				fprintf(stderr, "tidal-dpctl: %s '%s': %s\n", kind, val,
				        why ? why : "not a prefix");
				rc = -EINVAL;
			} else {
				(*n)++;
			}
		} else if (strcmp(kind, "dscp") == 0) {
			if (m->n_dscp == 64 || cfg_parse_dscp(val, &m->dscp[m->n_dscp], &why) < 0) {
				fprintf(stderr, "tidal-dpctl: dscp '%s': %s\n", val,
				        why ? why : "not a DSCP");
				rc = -EINVAL;
			} else {
				m->n_dscp++;
			}
		} else {
			fprintf(stderr, "tidal-dpctl: match item '%s': dst, src or dscp\n", item);
			rc = -EINVAL;
		}
	}
	free(copy);
	return rc;
}

/* A parsed "class add" with the storage its pointers refer to. */
struct class_req {
	struct dp_class cls;
	struct dp_meter meter;
	struct match_buf m;
	int line;
};

static int parse_class_add(int argc, char **argv, struct class_req *q)
{
	struct dp_class *cls = &q->cls;
	uint32_t v;
	bool have_sub = false, have_pipe = false, have_tc = false;

	memset(q, 0, sizeof(*q));
	if (argc < 1 || parse_u32(argv[0], UINT32_MAX, &cls->id) < 0)
		return usage_err("class add: ID expected", NULL);
	/* keyword value pairs; "meter" takes four values */
	for (int i = 1; i < argc;) {
		const char *k = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (!val)
			return usage_err("class add: '%s' needs a value", k);
		if (strcmp(k, "subport") == 0 && parse_u32(val, 65535, &v) == 0) {
			cls->subport = (uint16_t)v;
			have_sub = true;
		} else if (strcmp(k, "pipe") == 0 && parse_u32(val, UINT32_MAX, &v) == 0) {
			cls->pipe = v;
			have_pipe = true;
		} else if (strcmp(k, "tc") == 0 && parse_u32(val, 12, &v) == 0) {
			cls->tc = (uint8_t)v;
			have_tc = true;
		} else if (strcmp(k, "queue") == 0 && parse_u32(val, 3, &v) == 0) {
			cls->queue = (uint8_t)v;
		} else if (strcmp(k, "match") == 0) {
			if (parse_match(val, &q->m) < 0)
				return EXIT_USAGE;
		} else if (strcmp(k, "meter") == 0) {
			const char *why = NULL;
			uint64_t cbs, pbs;
			if (i + 4 >= argc ||
			    cfg_parse_bps(argv[i + 1], &q->meter.cir_bps, &why) < 0 ||
			    cfg_parse_bps(argv[i + 2], &q->meter.pir_bps, &why) < 0 ||
			    cfg_parse_bytes(argv[i + 3], &cbs, &why) < 0 ||
			    cfg_parse_bytes(argv[i + 4], &pbs, &why) < 0 || cbs > UINT32_MAX ||
			    pbs > UINT32_MAX)
				return usage_err(
				        "class add: meter CIR PIR CBS PBS (e.g. meter 10M 20M "
				        "64KiB 128KiB)",
				        NULL);
			q->meter.cbs_bytes = (uint32_t)cbs;
			q->meter.pbs_bytes = (uint32_t)pbs;
			cls->meter = &q->meter;
			i += 3;
		} else {
			return usage_err(
			        "class add: bad '%s' (subport, pipe, tc, queue, match, meter)", k);
		}
		i += 2;
	}
	if (!have_sub || !have_pipe || !have_tc)
		return usage_err("class add: subport, pipe and tc are required", NULL);
	cls->dst = q->m.dst;
	cls->n_dst = q->m.n_dst;
	cls->src = q->m.src;
	cls->n_src = q->m.n_src;
	cls->dscp = q->m.dscp;
	cls->n_dscp = q->m.n_dscp;
	return 0;
}

static int cmd_class_add(int argc, char **argv)
{
	static struct class_req q;
	int rc = parse_class_add(argc, argv, &q);

	if (rc != 0)
		return rc;
	rc = dp_class_add(C(), &q.cls);
	return rc < 0 ? refused(C(), rc) : 0;
}

static int cmd_rate(bool pipe, int argc, char **argv)
{
	struct dp_pipe_rate r = {.pair = DP_ALL_PAIRS};
	uint64_t tc[DP_N_TC];
	uint32_t v;
	int i = 0;
	const char *why = NULL;

	if (i + 1 < argc && strcmp(argv[i], "pair") == 0) {
		if (parse_u32(argv[i + 1], 65534, &v) < 0)
			return usage_err("pair '%s': a pair number", argv[i + 1]);
		r.pair = (uint16_t)v;
		i += 2;
	}
	if (i >= argc || parse_u32(argv[i], 65535, &v) < 0)
		return usage_err("rate: SUBPORT expected", NULL);
	r.subport = (uint16_t)v;
	i++;
	if (pipe) {
		if (i >= argc || parse_u32(argv[i], UINT32_MAX, &r.pipe) < 0)
			return usage_err("pipe rate: PIPE expected", NULL);
		i++;
	}
	if (i >= argc || cfg_parse_bps(argv[i], &r.rate_bps, &why) < 0)
		return usage_err("rate: RATE expected in bits/s (e.g. 10M; 0 = unlimited)", NULL);
	i++;
	while (pipe && i + 1 < argc) {
		if (strcmp(argv[i], "tb") == 0) {
			uint64_t b;
			if (cfg_parse_bytes(argv[i + 1], &b, &why) < 0 || b > UINT32_MAX)
				return usage_err("tb '%s': bytes", argv[i + 1]);
			r.tb_bytes = (uint32_t)b;
		} else if (strcmp(argv[i], "tc") == 0) {
			char *copy = strdup(argv[i + 1]), *save = NULL, *t;
			unsigned n = 0;
			for (t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
				if (n == DP_N_TC || cfg_parse_bps(t, &tc[n], &why) < 0) {
					free(copy);
					return usage_err("tc: 13 comma separated rates", NULL);
				}
				n++;
			}
			free(copy);
			if (n != DP_N_TC)
				return usage_err("tc: 13 comma separated rates", NULL);
			r.tc_rate_bps = tc;
		} else {
			return usage_err("pipe rate: unknown option '%s' (tb, tc)", argv[i]);
		}
		i += 2;
	}
	if (i != argc)
		return usage_err("rate: unexpected '%s'", argv[i]);
	int rc = pipe ? dp_pipe_rate(C(), &r) : dp_subport_rate(C(), r.pair, r.subport, r.rate_bps);
	return rc < 0 ? refused(C(), rc) : 0;
}

static int cmd_info(void)
{
	struct dp_info in;
	int rc = dp_get_info(C(), &in);

	if (rc < 0)
		return refused(C(), rc);
	if (json_out) {
		json_t *o = json_pack("{s:i,s:i,s:i,s:i,s:[]}", "subports", in.n_subports, "pipes",
		                      (json_int_t)in.n_pipes, "classes", (json_int_t)in.max_classes,
		                      "stages", in.stages, "pairs");
		json_t *arr = json_object_get(o, "pairs");
		for (uint16_t i = 0; i < in.n_pairs; i++)
			json_array_append_new(
			        arr, json_pack("{s:i,s:s,s:s,s:I}", "pair", in.pairs[i].pair, "rx",
			                       in.pairs[i].rx_name, "tx", in.pairs[i].tx_name,
			                       "rate_bps", (json_int_t)in.pairs[i].rate_bps));
		json_dumpf(o, stdout, JSON_COMPACT);
		putchar('\n');
		json_decref(o);
		return 0;
	}
	printf("subports %u, pipes %u per subport, classes 0..%u, %u stage(s)\n", in.n_subports,
	       in.n_pipes, in.max_classes - 1, in.stages);
	for (uint16_t i = 0; i < in.n_pairs; i++) {
		char rate[32];
		printf("pair %u: %s -> %s at %s\n", in.pairs[i].pair, in.pairs[i].rx_name,
		       in.pairs[i].tx_name, cfg_fmt_bps(in.pairs[i].rate_bps, rate, sizeof(rate)));
	}
	return 0;
}

static int cmd_stats(void)
{
	struct dp_stats *st;
	int rc = dp_stats_read(C(), &st);

	if (rc < 0)
		return refused(C(), rc);
	if (json_out) {
		json_t *o = json_object(), *pairs = json_array(), *classes = json_array();
		for (size_t i = 0; i < st->n_pairs; i++) {
			json_t *p = json_pack("{s:i}", "pair", st->pairs[i].pair);
			for (unsigned f = 0; f < DPMSG_PF_COUNT; f++)
				json_object_set_new(p, dp_pair_field_name(f),
				                    json_integer((json_int_t)st->pairs[i].f[f]));
			json_array_append_new(pairs, p);
		}
		for (size_t i = 0; i < st->n_classes; i++) {
			json_t *p = json_pack("{s:i,s:I}", "pair", st->classes[i].pair, "class",
			                      (json_int_t)st->classes[i].class_id);
			for (unsigned f = 0; f < DPMSG_CF_COUNT; f++)
				json_object_set_new(p, dp_class_field_name(f),
				                    json_integer((json_int_t)st->classes[i].f[f]));
			json_array_append_new(classes, p);
		}
		json_object_set_new(o, "pairs", pairs);
		json_object_set_new(o, "classes", classes);
		json_dumpf(o, stdout, JSON_COMPACT);
		putchar('\n');
		json_decref(o);
	} else {
		for (size_t i = 0; i < st->n_pairs; i++) {
			const uint64_t *f = st->pairs[i].f;
			printf("pair %u: rx %llu, tx %llu, dropped %llu, queued %llu, non-IP "
			       "%llu\n",
			       st->pairs[i].pair, (unsigned long long)f[DPMSG_PF_RX_PKTS],
			       (unsigned long long)f[DPMSG_PF_TX_PKTS],
			       (unsigned long long)f[DPMSG_PF_DROP_PKTS],
			       (unsigned long long)f[DPMSG_PF_QUEUED],
			       (unsigned long long)f[DPMSG_PF_NON_IP]);
		}
		printf("%4s %6s %12s %12s %12s %12s %10s %10s %10s %7s\n", "pair", "class",
		       "rx_pkts", "rx_bytes", "tx_pkts", "tx_bytes", "meter_drop", "sched_drop",
		       "other_drop", "queued");
		for (size_t i = 0; i < st->n_classes; i++) {
			const uint64_t *f = st->classes[i].f;
			printf("%4u %6u %12llu %12llu %12llu %12llu %10llu %10llu %10llu %7llu\n",
			       st->classes[i].pair, st->classes[i].class_id,
			       (unsigned long long)f[DPMSG_CF_RX_PKTS],
			       (unsigned long long)f[DPMSG_CF_RX_BYTES],
			       (unsigned long long)f[DPMSG_CF_TX_PKTS],
			       (unsigned long long)f[DPMSG_CF_TX_BYTES],
			       (unsigned long long)f[DPMSG_CF_METER_DROP_PKTS],
			       (unsigned long long)f[DPMSG_CF_SCHED_DROP_PKTS],
			       (unsigned long long)f[DPMSG_CF_OTHER_DROP_PKTS],
			       (unsigned long long)f[DPMSG_CF_QUEUED]);
		}
	}
	dp_stats_free(st);
	return 0;
}

static int run(int argc, char **argv);

#define BATCH_GROUP 64

/* Send the collected "class add" lines together. */
static int flush_classes(struct class_req *q, size_t *n, const char *path)
{
	struct dp_class cls[BATCH_GROUP];
	int rcs[BATCH_GROUP];
	int rc;

	if (*n == 0)
		return 0;
	for (size_t i = 0; i < *n; i++)
		cls[i] = q[i].cls;
	rc = dp_class_add_many(C(), cls, *n, rcs);
	if (rc == -ENOTCONN || rc == -ECONNRESET || rc == -EPIPE || rc == -ETIMEDOUT ||
	    rc == -EPROTO) {
		*n = 0;
		return refused(C(), rc);
	}
	for (size_t i = 0; i < *n; i++)
		if (rcs[i] < 0)
			fprintf(stderr, "tidal-dpctl: batch %s:%d: class %u refused (%s)\n", path,
			        q[i].line, q[i].cls.id, strerror(-rcs[i]));
	*n = 0;
	return rc < 0 ? refused(C(), rc) : 0;
}

static int cmd_batch(const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	struct class_req *q = calloc(BATCH_GROUP, sizeof(*q));
	char line[4096];
	int lineno = 0, rc = 0;
	size_t nq = 0;

	if (!f || !q) {
		fprintf(stderr, "tidal-dpctl: batch %s: %s\n", path, strerror(errno));
		free(q);
		if (f && f != stdin)
			fclose(f);
		return EXIT_USAGE;
	}
	while (rc == 0 && fgets(line, sizeof(line), f)) {
		char *args[64], *p = line;
		int n = 0;
		lineno++;
		/* words separated by blanks; "..." groups a word (for match lists) */
		while (*p && n < 64) {
			while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
				p++;
			if (!*p || *p == '#')
				break;
			if (*p == '"') {
				args[n++] = ++p;
				while (*p && *p != '"')
					p++;
			} else {
				args[n++] = p;
				while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
					p++;
			}
			if (*p)
				*p++ = 0;
		}
		if (n == 0)
			continue;
		if (n >= 2 && strcmp(args[0], "class") == 0 && strcmp(args[1], "add") == 0) {
			/* consecutive installs go to tidal-dp together */
			rc = parse_class_add(n - 2, args + 2, &q[nq]);
			if (rc == 0) {
				q[nq++].line = lineno;
				if (nq == BATCH_GROUP)
					rc = flush_classes(q, &nq, path);
			}
		} else {
			rc = flush_classes(q, &nq, path);
			if (rc == 0)
				rc = run(n, args);
		}
		if (rc != 0)
			fprintf(stderr, "tidal-dpctl: batch %s:%d failed\n", path, lineno);
	}
	if (rc == 0)
		rc = flush_classes(q, &nq, path);
	free(q);
	if (f != stdin)
		fclose(f);
	return rc;
}

static int run(int argc, char **argv)
{
	if (argc >= 1 && strcmp(argv[0], "info") == 0 && argc == 1)
		return cmd_info();
	if (argc >= 1 && strcmp(argv[0], "stats") == 0 && argc == 1)
		return cmd_stats();
	if (argc >= 2 && strcmp(argv[0], "class") == 0 && strcmp(argv[1], "add") == 0)
		return cmd_class_add(argc - 2, argv + 2);
	if (argc == 3 && strcmp(argv[0], "class") == 0 && strcmp(argv[1], "del") == 0) {
		uint32_t id;
		if (parse_u32(argv[2], UINT32_MAX, &id) < 0)
			return usage_err("class del: ID expected, not '%s'", argv[2]);
		int rc = dp_class_del(C(), id);
		return rc < 0 ? refused(C(), rc) : 0;
	}
	if (argc >= 2 && strcmp(argv[0], "pipe") == 0 && strcmp(argv[1], "rate") == 0)
		return cmd_rate(true, argc - 2, argv + 2);
	if (argc >= 2 && strcmp(argv[0], "subport") == 0 && strcmp(argv[1], "rate") == 0)
		return cmd_rate(false, argc - 2, argv + 2);
	if ((argc == 2 || argc == 4) && strcmp(argv[0], "rx") == 0 &&
	    (strcmp(argv[1], "on") == 0 || strcmp(argv[1], "off") == 0)) {
		uint32_t pair = DP_ALL_PAIRS;
		if (argc == 4 && (strcmp(argv[2], "pair") || parse_u32(argv[3], 65534, &pair) < 0))
			return usage_err("rx on|off [pair N]", NULL);
		int rc = dp_rx_enable(C(), (uint16_t)pair, argv[1][1] == 'n');
		return rc < 0 ? refused(C(), rc) : 0;
	}
	if (argc == 2 && strcmp(argv[0], "batch") == 0)
		return cmd_batch(argv[1]);
	return usage_err("unknown command '%s'", argc ? argv[0] : "");
}

int main(int argc, char **argv)
{
	int ch, rc;

	tlog_set_ident("tidal-dpctl");
	while ((ch = getopt(argc, argv, "+s:jt:h")) != -1) {
		switch (ch) {
		case 's':
			sock_path = optarg;
			break;
		case 'j':
			json_out = true;
			break;
		case 't':
			timeout_ms = atoi(optarg);
			break;
		case 'h':
			puts("usage: tidal-dpctl [-s SOCKET] [-j] [-t MS] COMMAND\n"
			     "  info | stats\n"
			     "  class add ID subport S pipe P tc T [queue Q] [match \"dst P, dscp "
			     "D\"]\n"
			     "            [meter CIR PIR CBS PBS]\n"
			     "  class del ID\n"
			     "  pipe rate [pair N] SUBPORT PIPE RATE [tb BYTES] [tc R1,...,R13]\n"
			     "  subport rate [pair N] SUBPORT RATE\n"
			     "  rx on|off [pair N]\n"
			     "  batch FILE|-");
			return 0;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return usage_err("a command is required", NULL);
	rc = run(argc - optind, argv + optind);
	dp_close(conn);
	return rc;
}
