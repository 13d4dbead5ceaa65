/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tidal-dp: the DPDK dataplane of tidal.
 *
 *   tidal-dp [EAL options] -- -c FILE -s SOCKET [-p RX:TX]... [--stages 1|2|3]
 *            [--tx-on-rx] [--replay] [--rx-off] [--trace FILE] [--log-level LEVEL]
 *
 * Sets up EAL, the ports of every pair (rx port -> tx port), one rte_sched hierarchy per
 * pair, the class tables and the lcores (docs/dataplane.md), then runs until SIGINT or
 * SIGTERM. tidald (or tidal-dpctl) drives it over the control socket.
 *
 * Owns every DPDK object of the process. Exits 0 after a clean stop, 1 when setup fails
 * (with a message saying what to change), 2 on a usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf_dyn.h>

#include "dp_internal.h"
#include "log.h"

struct dp_state *dp_g;

static void on_signal(int sig)
{
	(void)sig;
	if (dp_g)
		__atomic_store_n(&dp_g->quit, 1, __ATOMIC_RELAXED);
}

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: tidal-dp [EAL options] -- -c FILE -s SOCKET [-p RX:TX]... [options]\n"
	        "  -c, --config FILE     tidal-dp config (scheduler dimensions, subport rates)\n"
	        "  -s, --socket PATH     control socket for tidald / tidal-dpctl\n"
	        "  -p, --pair RX:TX      forward port RX to port TX (repeatable; default 0:1,\n"
	        "                        or 0:0 with a single port)\n"
	        "      --stages N        lcores per pair: 1 (all in one), 2 (rx | sched+tx),\n"
	        "                        3 (rx | sched | tx); default 1\n"
	        "      --tx-on-rx        with --stages 2: rx+tx | sched (the scheduling lcore "
	        "only\n"
	        "                        schedules; packets are sent and freed where they were\n"
	        "                        received)\n"
	        "      --replay          release received packets at their capture timestamps\n"
	        "                        (net_pcap input replayed in real time)\n"
	        "      --rx-off          start with reception stopped until the control socket\n"
	        "                        starts it (install classes first)\n"
	        "      --trace FILE      write one line per received packet: pair seq class tc "
	        "colour\n"
	        "      --log-level L     error, warn, info (default), debug\n");
}

static int parse_args(int argc, char **argv, struct dp_opts *o)
{
	static const struct option lo[] = {
	        {"config", required_argument, NULL, 'c'},
	        {"socket", required_argument, NULL, 's'},
	        {"pair", required_argument, NULL, 'p'},
	        {"stages", required_argument, NULL, 'S'},
	        {"tx-on-rx", no_argument, NULL, 'X'},
	        {"replay", no_argument, NULL, 'R'},
	        {"rx-off", no_argument, NULL, 'O'},
	        {"trace", required_argument, NULL, 'T'},
	        {"log-level", required_argument, NULL, 'L'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	int ch;

	memset(o, 0, sizeof(*o));
	o->stages = 1;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:s:p:h", lo, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->conf_path = optarg;
			break;
		case 's':
			o->socket_path = optarg;
			break;
		case 'p': {
			unsigned rx, tx;
			char tail;
			if (sscanf(optarg, "%u:%u%c", &rx, &tx, &tail) != 2 ||
			    rx >= RTE_MAX_ETHPORTS || tx >= RTE_MAX_ETHPORTS) {
				fprintf(stderr,
				        "tidal-dp: --pair '%s': expected RX:TX port numbers\n",
				        optarg);
				return -EINVAL;
			}
			if (o->n_pairs == DP_MAX_PAIRS) {
				fprintf(stderr, "tidal-dp: at most %d pairs\n", DP_MAX_PAIRS);
				return -EINVAL;
			}
			o->pair_rx[o->n_pairs] = (uint16_t)rx;
			o->pair_tx[o->n_pairs] = (uint16_t)tx;
			o->n_pairs++;
			break;
		}
		case 'S':
			if (strcmp(optarg, "1") && strcmp(optarg, "2") && strcmp(optarg, "3")) {
				fprintf(stderr, "tidal-dp: --stages '%s': 1, 2 or 3\n", optarg);
				return -EINVAL;
			}
			o->stages = (unsigned)atoi(optarg);
			break;
		case 'R':
			o->replay = true;
			break;
		case 'X':
			o->tx_on_rx = true;
			break;
		case 'O':
			o->rx_off = true;
			break;
		case 'T':
			o->trace_path = optarg;
			break;
		case 'L': {
			enum tlog_level lv;
			if (tlog_parse_level(optarg, &lv) < 0) {
				fprintf(stderr,
				        "tidal-dp: --log-level '%s': error, warn, info, debug\n",
				        optarg);
				return -EINVAL;
			}
			tlog_set_level(lv);
			break;
		}
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tidal-dp: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (o->tx_on_rx && o->stages != 2) {
		fprintf(stderr, "tidal-dp: --tx-on-rx needs --stages 2\n");
		return -EINVAL;
	}
	if (!o->socket_path) {
		fprintf(stderr, "tidal-dp: -s SOCKET is required\n");
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}

static int port_setup(struct dp_state *s, uint16_t port)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	int rc;

	memset(&conf, 0, sizeof(conf));
	rc = rte_eth_dev_info_get(port, &info);
	if (rc != 0) {
		log_err("port %u: cannot read device info: %s", port, strerror(-rc));
		return rc;
	}
	rc = rte_eth_dev_configure(port, 1, 1, &conf);
	if (rc == 0)
		rc = rte_eth_rx_queue_setup(port, 0, 1024, rte_eth_dev_socket_id(port), NULL,
		                            s->pool);
	if (rc == 0)
		rc = rte_eth_tx_queue_setup(port, 0, 1024, rte_eth_dev_socket_id(port), NULL);
	if (rc == 0)
		rc = rte_eth_dev_start(port);
	if (rc != 0) {
		log_err("port %u (%s): setup failed: %s", port,
		        info.device ? rte_dev_name(info.device) : "?", strerror(rc < 0 ? -rc : rc));
		return rc < 0 ? rc : -EIO;
	}
	rte_eth_promiscuous_enable(port);
	return 0;
}

static int pair_setup(struct dp_state *s, struct dp_pair *p)
{
	const struct dp_conf *c = &s->conf;
	int sock = (int)rte_socket_id();
	char name[RTE_RING_NAMESIZE];

	rte_eth_dev_get_name_by_port(p->rx_port, p->rx_name);
	rte_eth_dev_get_name_by_port(p->tx_port, p->tx_name);
	p->rate_bps = c->rate_bps;
	if (!p->rate_bps) {
		struct rte_eth_link link;
		if (rte_eth_link_get_nowait(p->tx_port, &link) == 0 &&
		    link.link_speed != RTE_ETH_SPEED_NUM_NONE &&
		    link.link_speed != RTE_ETH_SPEED_NUM_UNKNOWN)
			p->rate_bps = (uint64_t)link.link_speed * 1000000;
		if (!p->rate_bps) {
			log_err("pair %u: port %s reports no link speed; set [dataplane] rate",
			        p->idx, p->tx_name);
			return -EINVAL;
		}
	}
	p->meters = rte_zmalloc_socket("tidal-meters", sizeof(*p->meters) * c->max_classes,
	                               RTE_CACHE_LINE_SIZE, sock);
	p->cnt_rx = rte_zmalloc_socket("tidal-cnt-rx", sizeof(*p->cnt_rx) * c->max_classes,
	                               RTE_CACHE_LINE_SIZE, sock);
	p->cnt_sched = rte_zmalloc_socket("tidal-cnt-sched", sizeof(*p->cnt_sched) * c->max_classes,
	                                  RTE_CACHE_LINE_SIZE, sock);
	p->cnt_tx = rte_zmalloc_socket("tidal-cnt-tx", sizeof(*p->cnt_tx) * c->max_classes,
	                               RTE_CACHE_LINE_SIZE, sock);
	if (!p->meters || !p->cnt_rx || !p->cnt_sched || !p->cnt_tx) {
		log_err("pair %u: out of DPDK memory for %u classes (raise -m or lower classes)",
		        p->idx, c->max_classes);
		return -ENOMEM;
	}
	if (s->opts.stages >= 2) {
		snprintf(name, sizeof(name), "tidal-rx-%u", p->idx);
		p->ring_rx =
		        rte_ring_create(name, c->ring_size, sock, RING_F_SP_ENQ | RING_F_SC_DEQ);
	}
	if (s->opts.stages == 3 || s->opts.tx_on_rx) {
		snprintf(name, sizeof(name), "tidal-tx-%u", p->idx);
		p->ring_tx =
		        rte_ring_create(name, c->ring_size, sock, RING_F_SP_ENQ | RING_F_SC_DEQ);
	}
	if ((s->opts.stages >= 2 && !p->ring_rx) ||
	    ((s->opts.stages == 3 || s->opts.tx_on_rx) && !p->ring_tx)) {
		log_err("pair %u: cannot create rings: %s", p->idx, rte_strerror(rte_errno));
		return -ENOMEM;
	}
	return dp_sched_create(s, p);
}

static void add_task(struct dp_lcore *lc, struct dp_pair *p, unsigned stages)
{
	lc->task[lc->n_tasks].pair = p;
	lc->task[lc->n_tasks].stages = stages;
	lc->n_tasks++;
	if (stages & DP_STAGE_RX)
		lc->classifies = true;
}

static int lcores_setup(struct dp_state *s)
{
	unsigned ids[RTE_MAX_LCORE], n = 0, lid;
	unsigned need = s->n_pairs * s->opts.stages;

	ids[n++] = rte_get_main_lcore();
	RTE_LCORE_FOREACH_WORKER(lid)
	ids[n++] = lid;
	if (s->opts.stages > 1 && n < need) {
		log_err("%u pairs with --stages %u need %u lcores; EAL gave %u (use -l)",
		        s->n_pairs, s->opts.stages, need, n);
		return -EINVAL;
	}
	s->n_lcores = n;
	for (unsigned i = 0; i < n; i++) {
		s->lcores[i].lcore_id = ids[i];
	}
	for (unsigned i = 0; i < s->n_pairs; i++) {
		struct dp_pair *p = &s->pairs[i];
		if (s->opts.stages == 1) {
			unsigned k = i % n;
			add_task(&s->lcores[k], p, DP_STAGE_RX | DP_STAGE_SCHED | DP_STAGE_TX);
			p->lcore_rx = p->lcore_sched = p->lcore_tx = k;
		} else if (s->opts.stages == 2 && s->opts.tx_on_rx) {
			add_task(&s->lcores[2 * i], p, DP_STAGE_RX | DP_STAGE_TX);
			add_task(&s->lcores[2 * i + 1], p, DP_STAGE_SCHED);
			p->lcore_rx = p->lcore_tx = 2 * i;
			p->lcore_sched = 2 * i + 1;
		} else if (s->opts.stages == 2) {
			add_task(&s->lcores[2 * i], p, DP_STAGE_RX);
			add_task(&s->lcores[2 * i + 1], p, DP_STAGE_SCHED | DP_STAGE_TX);
			p->lcore_rx = 2 * i;
			p->lcore_sched = p->lcore_tx = 2 * i + 1;
		} else {
			add_task(&s->lcores[3 * i], p, DP_STAGE_RX);
			add_task(&s->lcores[3 * i + 1], p, DP_STAGE_SCHED);
			add_task(&s->lcores[3 * i + 2], p, DP_STAGE_TX);
			p->lcore_rx = 3 * i;
			p->lcore_sched = 3 * i + 1;
			p->lcore_tx = 3 * i + 2;
		}
	}
	if (s->opts.stages > 1 && n > need)
		log_warn("%u lcores given, %u used", n, need);
	for (unsigned i = 0; i < n; i++) {
		struct dp_lcore *lc = &s->lcores[i];
		char name[RTE_RING_NAMESIZE];
		if (!lc->n_tasks)
			continue;
		snprintf(name, sizeof(name), "tidal-cmd-%u", lc->lcore_id);
		lc->cmd_ring = rte_ring_create(name, 64, (int)rte_lcore_to_socket_id(lc->lcore_id),
		                               RING_F_SC_DEQ);
		if (!lc->cmd_ring)
			return -ENOMEM;
		if (lc->classifies) {
			struct rte_lpm_config c4 = {
			        .max_rules = s->conf.max_prefixes,
			        .number_tbl8s =
			                s->conf.max_prefixes < 256 ? 256 : s->conf.max_prefixes,
			};
			struct rte_lpm6_config c6 = {
			        .max_rules = s->conf.max_prefixes6,
			        /* a prefix needs at most one tbl8 per byte beyond the first 24 bits
			         */
			        .number_tbl8s = s->conf.max_prefixes6 * 13,
			};
			snprintf(name, sizeof(name), "tidal-lpm4-%u", lc->lcore_id);
			lc->lpm4 = rte_lpm_create(name, (int)rte_lcore_to_socket_id(lc->lcore_id),
			                          &c4);
			snprintf(name, sizeof(name), "tidal-lpm6-%u", lc->lcore_id);
			lc->lpm6 = rte_lpm6_create(name, (int)rte_lcore_to_socket_id(lc->lcore_id),
			                           &c6);
			if (!lc->lpm4 || !lc->lpm6) {
				log_err("lcore %u: cannot create the LPM tables (%u IPv4 / %u IPv6 "
				        "prefixes): %s; raise -m or lower prefixes",
				        lc->lcore_id, s->conf.max_prefixes, s->conf.max_prefixes6,
				        rte_strerror(rte_errno));
				return -ENOMEM;
			}
		}
	}
	return 0;
}

static int validate_pairs(struct dp_state *s)
{
	uint16_t n_ports = rte_eth_dev_count_avail();
	bool rx_used[RTE_MAX_ETHPORTS] = {0}, tx_used[RTE_MAX_ETHPORTS] = {0};

	if (s->opts.n_pairs == 0) {
		if (n_ports == 0) {
			log_err("no ports: give EAL a device (e.g. --vdev "
			        "net_pcap0,rx_pcap=in.pcap,"
			        "tx_pcap=out.pcap)");
			return -EINVAL;
		}
		s->opts.pair_rx[0] = 0;
		s->opts.pair_tx[0] = n_ports > 1 ? 1 : 0;
		s->opts.n_pairs = 1;
	}
	for (unsigned i = 0; i < s->opts.n_pairs; i++) {
		uint16_t rx = s->opts.pair_rx[i], tx = s->opts.pair_tx[i];
		if (!rte_eth_dev_is_valid_port(rx) || !rte_eth_dev_is_valid_port(tx)) {
			log_err("pair %u:%u: no such port (%u ports)", rx, tx, n_ports);
			return -EINVAL;
		}
		if (rx_used[rx] || tx_used[tx]) {
			log_err("pair %u:%u: a port is received from (or sent to) by one pair only",
			        rx, tx);
			return -EINVAL;
		}
		rx_used[rx] = tx_used[tx] = true;
		s->pairs[i].idx = (uint16_t)i;
		s->pairs[i].rx_port = rx;
		s->pairs[i].tx_port = tx;
		s->pairs[i].rx_on = s->opts.rx_off ? 0 : 1;
	}
	s->n_pairs = s->opts.n_pairs;
	for (uint16_t p = 0; p < RTE_MAX_ETHPORTS; p++)
		if ((rx_used[p] || tx_used[p]) && port_setup(s, p) < 0)
			return -EIO;
	return 0;
}

static int setup(struct dp_state *s)
{
	static const struct rte_mbuf_dynfield cls_field = {
	        .name = "tidal_dp_class",
	        .size = sizeof(uint32_t),
	        .align = __alignof__(uint32_t),
	};
	int rc, bit;

	s->tsc_hz = rte_get_tsc_hz();
	s->n_pipes_log2 = (uint32_t)__builtin_ctz(s->conf.n_pipes);
	s->class_dynfield = rte_mbuf_dynfield_register(&cls_field);
	if (s->class_dynfield < 0) {
		log_err("cannot register the mbuf class field: %s", rte_strerror(rte_errno));
		return -ENOMEM;
	}
	s->ts_dynfield = rte_mbuf_dynfield_lookup(RTE_MBUF_DYNFIELD_TIMESTAMP_NAME, NULL);
	bit = rte_mbuf_dynflag_lookup(RTE_MBUF_DYNFLAG_RX_TIMESTAMP_NAME, NULL);
	s->ts_dynflag = bit >= 0 ? 1ull << bit : 0;
	if (s->opts.replay && (s->ts_dynfield < 0 || bit < 0)) {
		log_err("--replay needs an rx port that timestamps packets (net_pcap)");
		return -EINVAL;
	}
	s->pool = rte_pktmbuf_pool_create("tidal-mbufs", s->conf.mbufs, 256, 0,
	                                  RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (!s->pool) {
		log_err("cannot create %u mbufs: %s (raise -m or lower [dataplane] mbufs)",
		        s->conf.mbufs, rte_strerror(rte_errno));
		return -ENOMEM;
	}
	rc = validate_pairs(s);
	if (rc < 0)
		return rc;
	for (unsigned i = 0; i < s->n_pairs; i++) {
		rc = pair_setup(s, &s->pairs[i]);
		if (rc < 0)
			return rc;
	}
	rc = lcores_setup(s);
	if (rc < 0)
		return rc;
	rc = dp_ops_init(s);
	if (rc < 0) {
		log_err("cannot set up the class tables: %s", strerror(-rc));
		return rc;
	}
	if (s->opts.trace_path) {
		s->trace = fopen(s->opts.trace_path, "w");
		if (!s->trace) {
			log_err("--trace %s: %s", s->opts.trace_path, strerror(errno));
			return -errno;
		}
		setvbuf(s->trace, NULL, _IOFBF, 1 << 20);
	}
	if (dp_tel_register() < 0)
		log_warn("telemetry commands /tidal/* not registered (telemetry disabled?)");
	return dp_ctl_start(s);
}

static void teardown(struct dp_state *s)
{
	dp_tel_shutdown();
	dp_ctl_stop(s);
	for (unsigned i = 0; i < s->n_pairs; i++) {
		struct dp_pair *p = &s->pairs[i];
		uint64_t f[DPMSG_PF_COUNT];
		if (s->ops) {
			dp_ops_pair_totals(s, i, f);
			log_info("pair %u (%s -> %s): rx %llu, tx %llu, dropped %llu, left queued "
			         "%llu",
			         i, p->rx_name, p->tx_name, (unsigned long long)f[DPMSG_PF_RX_PKTS],
			         (unsigned long long)f[DPMSG_PF_TX_PKTS],
			         (unsigned long long)f[DPMSG_PF_DROP_PKTS],
			         (unsigned long long)f[DPMSG_PF_QUEUED]);
		}
	}
	for (uint16_t port = 0; port < RTE_MAX_ETHPORTS; port++) {
		if (!rte_eth_dev_is_valid_port(port))
			continue;
		rte_eth_dev_stop(port); /* net_pcap closes (and so flushes) its files here */
		rte_eth_dev_close(port);
	}
	for (unsigned i = 0; i < s->n_pairs; i++) {
		struct dp_pair *p = &s->pairs[i];
		for (uint16_t k = p->replay.pos; k < p->replay.n; k++)
			rte_pktmbuf_free(p->replay.held[k]);
		rte_sched_port_free(p->sched);
		rte_ring_free(p->ring_rx);
		rte_ring_free(p->ring_tx);
		rte_free(p->meters);
		rte_free(p->cnt_rx);
		rte_free(p->cnt_sched);
		rte_free(p->cnt_tx);
	}
	for (unsigned i = 0; i < s->n_lcores; i++) {
		rte_lpm_free(s->lcores[i].lpm4);
		rte_lpm6_free(s->lcores[i].lpm6);
		rte_ring_free(s->lcores[i].cmd_ring);
	}
	dp_ops_fini(s);
	if (s->trace)
		fclose(s->trace);
	dp_conf_free(&s->conf);
}

int main(int argc, char **argv)
{
	static struct dp_state state;
	struct dp_state *s = &state;
	int ret, rc;

	tlog_set_ident("tidal-dp");
	dp_g = s;
	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		log_err("EAL initialisation failed: %s (check hugepages, or pass --no-huge -m 512)",
		        rte_strerror(rte_errno));
		return 1;
	}
	argc -= ret;
	argv += ret;
	if (parse_args(argc, argv, &s->opts) < 0) {
		rte_eal_cleanup();
		return 2;
	}
	if (dp_conf_load(s->opts.conf_path, &s->conf) < 0) {
		rte_eal_cleanup();
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);

	rc = setup(s);
	if (rc < 0) {
		teardown(s);
		rte_eal_cleanup();
		return 1;
	}
	log_info("running: %u pairs, %u stages, %u subports x %u pipes, control socket %s",
	         s->n_pairs, s->opts.stages, s->conf.n_subports, s->conf.n_pipes,
	         s->opts.socket_path);
	for (unsigned i = 1; i < s->n_lcores; i++)
		if (s->lcores[i].n_tasks)
			rte_eal_remote_launch(dp_worker_main, &s->lcores[i], s->lcores[i].lcore_id);
	if (s->lcores[0].n_tasks) {
		dp_worker_main(&s->lcores[0]);
	} else {
		while (!__atomic_load_n(&s->quit, __ATOMIC_RELAXED))
			usleep(100000);
	}
	rte_eal_mp_wait_lcore();
	log_info("stopping");
	teardown(s);
	rte_eal_cleanup();
	return 0;
}
