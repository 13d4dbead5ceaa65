/* SPDX-License-Identifier: Apache-2.0 */
/*
 * commands: the table of tidalctl commands (docs/control.md lists them with the daemon's
 * reply for each). Adding a command to tidald means adding its row here.
 */
#include "commands.h"

#define NO_PATH -1

const struct ctl_cmd_spec tidalctl_commands[] = {
	{"show status", 0, 0, NO_PATH, "", "region, uptime, version, backends", {{0}}},
	{"show peers", 0, 0, NO_PATH, "", "peer, state, uptime, hold time, messages", {{0}}},
	{"show links", 0, 0, NO_PATH, "", "capacity, reservable, reserved, utilisation", {{0}}},
	{"show apps", 0, 0, NO_PATH, "", "priority, SLO, demand, forecast need, reserved rate",
	 {{0}}},
	{"show counters", 0, 1, NO_PATH, "[CLASS]",
	 "packets, bytes, drops per class and direction", {{0}}},
	{"show forecast", 1, 1, NO_PATH, "CLASS [--horizon 24h]", "model chosen, quantiles per step",
	 {{"horizon", 0, true, false, false}}},
	{"show leases", 0, 0, NO_PATH, "[--all]", "id, peer, resource, quantity, start, end, state",
	 {{"all", 0, false, false, false}}},
	{"show ledger", 1, 1, NO_PATH, "RESOURCE", "booked capacity over time", {{0}}},
	{"show capacity", 0, 1, NO_PATH, "[PEER]",
	 "unreserved capacity peers advertise over time (transit hops too)", {{0}}},
	{"show decisions", 0, 0, NO_PATH, "[--app APP] [--last N]",
	 "the allocation controller's recent decisions and why",
	 {{"app", 0, true, false, false}, {"last", 0, true, false, false}}},
	{"alloc run", 0, 0, NO_PATH, "", "run one allocation cycle now", {{0}}},
	{"lease request", 0, 0, NO_PATH,
	 "--peer REGION --resource bandwidth|vcpu|memory|storage --quantity Q --start T "
	 "--duration D [--priority N] [--app APP] [--link LINK] [--pool POOL] [--match M] "
	 "[--path R1,R2] [--wait]",
	 "lease capacity from a peer region (--wait: until reserved or refused; -t bounds it)",
	 {{"peer", 0, true, true, false},
	  {"resource", 0, true, true, false},
	  {"quantity", 0, true, true, false},
	  {"start", 0, true, false, false},
	  {"duration", 0, true, true, false},
	  {"priority", 0, true, false, false},
	  {"app", 0, true, false, false},
	  {"link", 0, true, false, false},
	  {"pool", 0, true, false, false},
	  {"match", 0, true, false, false},
	  {"path", 0, true, false, false},
	  {"wait", 0, false, false, false}}},
	{"show lease", 1, 1, NO_PATH, "LEASE_ID [--wait]",
	 "one lease (--wait: until reserved, active or ended; -t bounds it)",
	 {{"wait", 0, false, false, false}}},
	{"lease release", 1, 1, NO_PATH, "LEASE_ID", "release a lease", {{0}}},
	{"event add", 1, 1, NO_PATH, "NAME --start T --end T [--multiplier X] [--apps A,B]",
	 "add a calendar event",
	 {{"start", 0, true, true, false},
	  {"end", 0, true, true, false},
	  {"multiplier", 0, true, false, false},
	  {"apps", 0, true, false, false}}},
	{"event remove", 1, 1, NO_PATH, "NAME [--start T]",
	 "remove an event added with event add (all of that name, or the one starting at T)",
	 {{"start", 0, true, false, false}}},
	{"show events", 0, 0, NO_PATH, "", "calendar events of the config and of event add",
	 {{0}}},
	{"forecast run", 0, 0, NO_PATH, "", "start a forecast round now", {{0}}},
	{"show series", 0, 0, NO_PATH, "", "series with a history and the time of their last value",
	 {{0}}},
	{"ingest", 2, 2, 1, "SERIES FILE.csv", "add an external series (timestamp,value)", {{0}}},
	{"graph", 1, 1, NO_PATH, "CLASS -o FILE.png [--since 7d]",
	 "demand, forecast band and reservation as a PNG",
	 {{"output", 'o', true, true, true}, {"since", 0, true, false, false}}},
	{"rate set", 2, 2, NO_PATH, "APP RATE", "enforce a rate for an app's class now", {{0}}},
	{"reload", 0, 0, NO_PATH, "", "re-read the configuration file", {{0}}},
	{"help", 0, 0, NO_PATH, "", "commands this tidald serves", {{0}}},
};

const size_t tidalctl_n_commands = sizeof(tidalctl_commands) / sizeof(tidalctl_commands[0]);
