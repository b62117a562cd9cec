/* gateways.c: the gateways, from the root parent's side; see gateways.h
 * and doc/design/gateways.md. */
#include "daemon/gateways.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/icmp.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "base/addr.h"
#include "base/fds.h"
#include "base/file.h"
#include "base/log.h"
#include "daemon/child.h"
#include "daemon/probed.h"
#include "enforce/conntrack.h"
#include "enforce/rtnl.h"

enum gw_state { GWS_PENDING = 0, GWS_UP, GWS_DOWN };

static const char *const state_names[] = { "pending", "up", "down" };

struct gwrt {
	char		 name[64];
	char		 ifname[64];
	char		 device[IF_NAMESIZE];
	enum addr_family fam;
	u128		 via, monitor;
	unsigned	 loss_limit;	/* percent */
	unsigned	 latency_limit;	/* ms */
	size_t		 index;
	enum gw_state	 state;
	time_t		 since;		/* of the state (0: pending) */
	long long	 good_since;	/* ms: good reports since; 0: not */
	long long	 reported;	/* ms: the last report */
	unsigned	 decided, lost, rtt_us;
	unsigned	 changes;
	bool		 no_device;	/* said once */
	unsigned	 bound;		/* the device's index its probe
					   socket is bound to; 0: none */
};

struct grouprt {
	char		 name[64];
	size_t		 index;
	enum addr_family fam;
	size_t		 n;
	size_t		 slot[GW_MEMBERS_MAX];
	unsigned	 tier[GW_MEMBERS_MAX];
	uint64_t	 active;	/* slots carrying its traffic now */
};

/* A gw_ref as the runtime keeps it. */
struct target {
	int		 kind;		/* 0 none, 1 gateway, 2 group */
	size_t		 i;		/* slot or group */
};

/* What a table was last given, so that only changes reach the kernel. */
struct table {
	unsigned	 table;
	enum addr_family fam;
	size_t		 n;
	struct rtnl_hop	 hops[GW_MEMBERS_MAX];
	bool		 set;
	bool		 stale;		/* not set since the last config */
};

static struct child probed = CHILD_INIT("probe", "moatd-ping");
static const char *run_dir;
static struct gwrt gw[GW_MAX];
static size_t ngw;
static struct grouprt grp[GW_GROUP_MAX];
static size_t ngrp;
static struct target def[2];		/* [0] IPv4, [1] IPv6 */
static struct table tables[2 * (1 + GW_MAX * 2 + GW_GROUP_MAX)];
static size_t ntables;
static int sock = -1;
static bool have_user;		/* PROBE_USER, looked up at each config */
static long long written;	/* ms: the status file, last */
static bool dirty;		/* a state changed since */

void
gateways_init(const char *run)
{
	run_dir = run;
}

int
gateways_fd(void)
{
	return sock;
}

static void
close_sock(void)
{
	if (sock != -1)
		close(sock);
	sock = -1;
}

static int
fam_slot(enum addr_family f)
{
	return f == FAM_V4 ? 0 : 1;
}

static bool
carries(const struct gwrt *g)
{
	return g->state != GWS_DOWN;
}

static double
loss_pct(const struct gwrt *g)
{
	return g->decided ? 100.0 * g->lost / g->decided : 0.0;
}

/* RUN/gateways.json: every gateway's and group's state. */
static void
write_status_now(void)
{
	json_t *root = json_object(), *ga = json_array(), *gr = json_array();
	char file[4200], buf[ADDR_STRLEN], *text;
	size_t i, k;
	int f;

	for (i = 0; i < ngw; i++) {
		const struct gwrt *g = &gw[i];
		json_t *o = json_object();

		json_object_set_new(o, "name", json_string(g->name));
		json_object_set_new(o, "interface", json_string(g->ifname));
		json_object_set_new(o, "device", json_string(g->device));
		addr_format(g->via, buf, sizeof(buf));
		json_object_set_new(o, "via", json_string(buf));
		addr_format(g->monitor, buf, sizeof(buf));
		json_object_set_new(o, "monitor", json_string(buf));
		json_object_set_new(o, "state",
		    json_string(state_names[g->state]));
		json_object_set_new(o, "since", g->since ?
		    json_integer(g->since) : json_null());
		json_object_set_new(o, "loss", g->decided ?
		    json_real(loss_pct(g)) : json_null());
		json_object_set_new(o, "latency_ms", g->decided > g->lost ?
		    json_real(g->rtt_us / 1000.0) : json_null());
		json_object_set_new(o, "loss_limit",
		    json_integer(g->loss_limit));
		json_object_set_new(o, "latency_limit_ms",
		    json_integer(g->latency_limit));
		json_object_set_new(o, "changes", json_integer(g->changes));
		json_array_append_new(ga, o);
	}
	for (k = 0; k < ngrp; k++) {
		json_t *o = json_object(), *act = json_array();

		json_object_set_new(o, "name", json_string(grp[k].name));
		for (i = 0; i < grp[k].n; i++)
			if (grp[k].active & (1ull << grp[k].slot[i]))
				json_array_append_new(act,
				    json_string(gw[grp[k].slot[i]].name));
		json_object_set_new(o, "active", act);
		json_array_append_new(gr, o);
	}
	json_object_set_new(root, "gateways", ga);
	json_object_set_new(root, "groups", gr);
	for (f = 0; f < 2; f++)
		json_object_set_new(root, f == 0 ? "default_v4" :
		    "default_v6", def[f].kind == 1 ?
		    json_string(gw[def[f].i].name) : def[f].kind == 2 ?
		    json_string(grp[def[f].i].name) : json_null());
	json_object_set_new(root, "written", json_integer(time(NULL)));
	snprintf(file, sizeof(file), "%s/%s", run_dir, STATUS_GATEWAYS_FILE);
	if ((text = json_dumps(root, JSON_COMPACT)) != NULL &&
	    file_replace(file, text, strlen(text), 0644, FILE_NOSYNC) == -1)
		log_warn("gateways: %s: %s", file, strerror(errno));
	free(text);
	json_decref(root);
	written = child_now();
	dirty = false;
}

/* The same, at once after a change of state, else at most every
 * PROBE_REPORT_MS: a process that reports without end does not have the
 * parent rewrite the file without end. */
static void
write_status(void)
{
	if (dirty || child_now() - written >= PROBE_REPORT_MS)
		write_status_now();
}

/*
 * The routes.  A hop is a gateway's address on its device; a device
 * that is not there (yet) gives none, and its gateway is down anyway.
 */
static size_t
add_hop(struct rtnl_hop *hops, size_t n, size_t slot)
{
	struct gwrt *g = &gw[slot];
	unsigned ix = if_nametoindex(g->device);

	if (ix == 0) {
		if (!g->no_device)
			log_warn("gateway %s: no device %s", g->name,
			    g->device);
		g->no_device = true;
		return n;
	}
	g->no_device = false;
	hops[n].ifindex = (int)ix;
	hops[n].via = g->via;
	return n + 1;
}

/* The members of group k that carry its traffic: the lowest tier with a
 * member up; when none is, the ones that carried it last (there is
 * nowhere better to send it). */
static void
group_choose(struct grouprt *g)
{
	unsigned best = 0;
	uint64_t act = 0;
	size_t i;

	for (i = 0; i < g->n; i++)
		if (carries(&gw[g->slot[i]]) && (best == 0 ||
		    g->tier[i] < best))
			best = g->tier[i];
	for (i = 0; best != 0 && i < g->n; i++)
		if (carries(&gw[g->slot[i]]) && g->tier[i] == best)
			act |= 1ull << g->slot[i];
	if (act == 0 && g->active == 0)	/* never up: its first tier */
		for (i = 0; i < g->n; i++)
			if (g->tier[i] == g->tier[0])
				act |= 1ull << g->slot[i];
	if (act != 0)
		g->active = act;
}

static size_t
group_hops(const struct grouprt *g, struct rtnl_hop *hops)
{
	size_t i, n = 0;

	for (i = 0; i < g->n; i++)
		if (g->active & (1ull << g->slot[i]))
			n = add_hop(hops, n, g->slot[i]);
	return n;
}

static size_t
default_hops(int f, struct rtnl_hop *hops)
{
	if (def[f].kind == 1)
		return add_hop(hops, 0, def[f].i);
	if (def[f].kind == 2)
		return group_hops(&grp[def[f].i], hops);
	return 0;
}

static void
set_table(unsigned table, enum addr_family fam, const struct rtnl_hop *hops,
    size_t n)
{
	struct strbuf err;
	struct table *t = NULL;
	size_t i;

	for (i = 0; i < ntables; i++)
		if (tables[i].table == table && tables[i].fam == fam)
			t = &tables[i];
	if (t == NULL) {
		if (ntables == sizeof(tables) / sizeof(tables[0]))
			return;
		t = &tables[ntables++];
		memset(t, 0, sizeof(*t));
		t->table = table;
		t->fam = fam;
	}
	t->stale = false;
	if (t->set && t->n == n && (n == 0 || memcmp(t->hops, hops,
	    n * sizeof(*hops)) == 0))
		return;
	strbuf_init(&err, 0);
	if (rtnl_default_route(fam, table, hops, n, &err) == -1) {
		log_error("gateways: %s", strbuf_str(&err));
		t->set = false;		/* tried again at the next change */
	} else {
		t->set = true;
		t->n = n;
		if (n > 0)
			memcpy(t->hops, hops, n * sizeof(*hops));
	}
	strbuf_free(&err);
}

/* Every table as the gateways' states say now. */
static void
routes(void)
{
	struct rtnl_hop hops[GW_MEMBERS_MAX];
	size_t i, n;
	int f;

	for (i = 0; i < ngrp; i++)
		group_choose(&grp[i]);
	for (f = 0; f < 2; f++) {
		enum addr_family fam = f == 0 ? FAM_V4 : FAM_V6;

		if (def[f].kind != 0)
			set_table(GW_TABLE_DEFAULT, fam, hops,
			    default_hops(f, hops));
	}
	for (i = 0; i < ngw; i++) {
		struct gwrt *g = &gw[i];

		set_table(GW_TABLE_PIN(g->index), g->fam, hops,
		    add_hop(hops, 0, i));
		/* A rule's `gateway G` while G is down: the default's route,
		 * when it has one up. */
		n = 0;
		if (!carries(g))
			n = default_hops(fam_slot(g->fam), hops);
		if (n == 0)
			n = add_hop(hops, 0, i);
		set_table(GW_TABLE_CHOICE(g->index), g->fam, hops, n);
	}
	for (i = 0; i < ngrp; i++)
		set_table(GW_TABLE_CHOICE(GW_MAX + grp[i].index), grp[i].fam,
		    hops, group_hops(&grp[i], hops));
}

/* The tables the config in force no longer uses (all of them, without
 * gateways), emptied and forgotten. */
static void
routes_drop_stale(void)
{
	size_t i, k = 0;

	for (i = 0; i < ntables; i++) {
		if (!tables[i].stale) {
			tables[k++] = tables[i];
			continue;
		}
		if (!tables[i].set || tables[i].n > 0)
			set_table(tables[i].table, tables[i].fam, NULL, 0);
	}
	ntables = k;
}

/* The ip rules that lead to the tables, per family: main's routes but
 * its default ones first, then the marks' tables, then the default's. */
static void
rules(void)
{
	struct rtnl_rule v[2 + 2 * GW_MAX + GW_GROUP_MAX];
	struct strbuf err;
	size_t i, n;
	int f;

	strbuf_init(&err, 0);
	for (f = 0; f < 2; f++) {
		enum addr_family fam = f == 0 ? FAM_V4 : FAM_V6;

		n = 0;
		for (i = 0; i < ngw; i++) {
			if (gw[i].fam != fam)
				continue;
			v[n++] = (struct rtnl_rule){ GW_RULE_PRIO + 1,
			    GW_MARK_PIN(gw[i].index), GW_MARK_MASK,
			    GW_TABLE_PIN(gw[i].index), -1 };
			v[n++] = (struct rtnl_rule){ GW_RULE_PRIO + 1,
			    GW_MARK_CHOICE(gw[i].index), GW_MARK_MASK,
			    GW_TABLE_CHOICE(gw[i].index), -1 };
		}
		for (i = 0; i < ngrp; i++)
			if (grp[i].fam == fam)
				v[n++] = (struct rtnl_rule){ GW_RULE_PRIO + 1,
				    GW_MARK_CHOICE(GW_MAX + grp[i].index),
				    GW_MARK_MASK, GW_TABLE_CHOICE(GW_MAX +
				    grp[i].index), -1 };
		if (def[f].kind != 0)
			v[n++] = (struct rtnl_rule){ GW_RULE_PRIO + 2, 0, 0,
			    GW_TABLE_DEFAULT, -1 };
		if (n > 0)
			v[n++] = (struct rtnl_rule){ GW_RULE_PRIO, 0, 0,
			    RT_TABLE_MAIN, 0 };
		if (rtnl_rules_set(fam, GW_RULE_PRIO, GW_RULE_PRIO + 2, v, n,
		    &err) == -1) {
			log_error("gateways: %s", strbuf_str(&err));
			strbuf_reset(&err);
		}
	}
	strbuf_free(&err);
}

struct cut {
	size_t		 n;
	struct strbuf	*err;
};

static int
cut_one(const struct ct_flow *fl, void *arg)
{
	struct cut *c = arg;

	if (conntrack_delete(fl, c->err) == 0)
		c->n++;
	return 0;
}

/* g went down: the connections that left through it are removed, so that
 * their clients reconnect through a link that works, when one does. */
static void
cut_link(struct gwrt *g)
{
	struct strbuf err;
	struct cut c = { 0, &err };
	const char *other = NULL;
	size_t i;

	for (i = 0; i < ngw && other == NULL; i++)
		if (&gw[i] != g && gw[i].fam == g->fam &&
		    gw[i].state == GWS_UP)
			other = gw[i].name;
	if (other == NULL) {
		log_warn("gateway %s: no other link is up; the connections "
		    "through it are kept", g->name);
		return;
	}
	strbuf_init(&err, 0);
	if (conntrack_each_marked(GW_MARK_PIN(g->index), GW_MARK_MASK,
	    cut_one, &c, &err) == -1)
		log_error("gateway %s: conntrack: %s", g->name,
		    strbuf_str(&err));
	else
		log_info("gateway %s: %zu connection%s through it removed "
		    "(%s is up)", g->name, c.n, c.n == 1 ? "" : "s", other);
	strbuf_free(&err);
}

static void
set_state(struct gwrt *g, enum gw_state s)
{
	char why[96];

	if (g->state == s)
		return;
	if (g->decided > g->lost)
		snprintf(why, sizeof(why), "loss %.0f%%, latency %.1f ms",
		    loss_pct(g), g->rtt_us / 1000.0);
	else
		snprintf(why, sizeof(why), "loss %.0f%%", loss_pct(g));
	log_info("gateway %s: %s (%s; limits %u%%, %u ms)", g->name,
	    state_names[s], why, g->loss_limit, g->latency_limit);
	g->state = s;
	g->since = time(NULL);
	g->changes++;
	dirty = true;
	routes();
	if (s == GWS_DOWN)
		cut_link(g);
}

/* One report, checked, into its gateway's state. */
static void
handle(const struct probe_report *r)
{
	struct gwrt *g = &gw[r->slot];
	long long now = child_now();
	bool bad;

	g->reported = now;
	if (g->bound == 0) {	/* its probes could leave by any link */
		g->decided = g->lost = 0;
		set_state(g, GWS_DOWN);
		return;
	}
	g->decided = r->decided;
	g->lost = r->lost;
	g->rtt_us = r->rtt_us;
	if (r->decided < PROBE_WINDOW / 2)
		return;		/* too few to judge */
	bad = loss_pct(g) > g->loss_limit || (r->decided > r->lost &&
	    r->rtt_us / 1000 > g->latency_limit);
	if (bad) {
		g->good_since = 0;
		set_state(g, GWS_DOWN);
		return;
	}
	if (g->good_since == 0)
		g->good_since = now;
	if (g->state == GWS_PENDING ||
	    (g->state == GWS_DOWN && now - g->good_since >= GW_UP_HOLD_MS))
		set_state(g, GWS_UP);
}

void
gateways_events(void)
{
	struct probe_report r;
	char buf[sizeof(r) + 1];
	int i;

	/* At most one report per gateway and a few more a call: the loop
	 * goes round between. */
	for (i = 0; sock != -1 && i < (int)ngw + 4; i++) {
		ssize_t n = recv(sock, buf, sizeof(buf), MSG_DONTWAIT);

		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n <= 0 || !probe_report_check(buf, (size_t)n,
		    (uint32_t)ngw, &r)) {
			log_error("probe: %s: the process is started again",
			    n == 0 ? "it closed its end" : n == -1 ?
			    strerror(errno) : "a report out of range");
			close_sock();
			child_stop(&probed);
			probed.next = child_now() + 5000;
			return;
		}
		handle(&r);
	}
	write_status();
}

/* A raw ICMP socket for slot i: marked to route through its gateway,
 * bound to its device, hearing echo replies only.  g->bound says the
 * device's index it is bound to (0: none, the gateway is down). */
static int
probe_socket(struct gwrt *g)
{
	unsigned mark = GW_MARK_PIN(g->index);
	int fd;

	if (g->fam == FAM_V4) {
		struct icmp_filter flt = { ~(1u << ICMP_ECHOREPLY) };

		fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
		if (fd != -1 && setsockopt(fd, SOL_RAW, ICMP_FILTER, &flt,
		    sizeof(flt)) == -1)
			goto fail;
	} else {
		struct icmp6_filter flt;

		ICMP6_FILTER_SETBLOCKALL(&flt);
		ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &flt);
		fd = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMPV6);
		if (fd != -1 && setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER,
		    &flt, sizeof(flt)) == -1)
			goto fail;
	}
	if (fd == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) == -1)
		goto fail;
	/* A device that is not there: its probes go nowhere, and its
	 * gateway is down until it comes. */
	g->bound = 0;
	if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, g->device,
	    (socklen_t)strlen(g->device)) == -1)
		log_warn("gateway %s: binding its probes to %s: %s; down until "
		    "the device is there", g->name, g->device,
		    strerror(errno));
	else
		g->bound = if_nametoindex(g->device);
	return fd;
fail:
	close(fd);
	return -1;
}

static void
start(void)
{
	char *const argv[] = { "moatd-ping", PROBED_ARG, NULL };
	static struct probe_spec spec;
	int fds[GW_MAX], keep[GW_MAX + 2], sp[2];
	size_t i, nfd = 0;

	close_sock();
	if (getuid() == 0 && !have_user) {
		log_error("gateways: no user '%s' to probe as: create it "
		    "(the package does: adduser --system %s); the gateways "
		    "are taken as up", PROBE_USER, PROBE_USER);
		probed.next = child_now() + 60000;
		return;
	}
	if (child_exe() == -1) {
		log_error("gateways: /proc/self/exe could not be opened at "
		    "the start: no probes; the gateways are taken as up");
		return;
	}
	memset(&spec, 0, sizeof(spec));
	spec.magic = PROBE_MAGIC;
	spec.n = (uint32_t)ngw;
	for (i = 0; i < ngw; i++) {
		struct probe_target *t = &spec.t[i];
		u128 a = gw[i].monitor;
		int k;

		if ((fds[i] = probe_socket(&gw[i])) == -1) {
			log_error("gateway %s: its probe socket: %s",
			    gw[i].name, strerror(errno));
			goto fail;
		}
		nfd++;
		t->family = gw[i].fam == FAM_V4 ? 4 : 6;
		for (k = (t->family == 4 ? 3 : 15); k >= 0; k--, a >>= 8)
			t->addr[k] = (uint8_t)a;
		t->timeout_ms = gw[i].latency_limit * 2 > 1000 ?
		    gw[i].latency_limit * 2 : 1000;
		if (t->timeout_ms > 60000)
			t->timeout_ms = 60000;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == -1) {
		log_error("gateways: socketpair: %s", strerror(errno));
		goto fail;
	}
	keep[0] = sp[1];
	keep[1] = child_exe();
	memcpy(keep + 2, fds, ngw * sizeof(int));
	switch (child_fork(&probed, keep, ngw + 2)) {
	case -1:
		close(sp[0]);
		close(sp[1]);
		goto fail;
	case 0: {
		/* Out of the way first: any may be on 3 and up. */
		int hi[GW_MAX + 2], place[GW_MAX + 2];

		for (i = 0; i < ngw + 2; i++)
			if ((hi[i] = fcntl(keep[i], F_DUPFD_CLOEXEC, 200)) ==
			    -1)
				_exit(1);
		place[0] = 3;
		for (i = 0; i < ngw; i++)
			place[i + 2] = PROBE_FD0 + (int)i;
		for (i = 0; i < ngw + 2; i++)
			if (i != 1 && dup2(hi[i], place[i]) == -1)
				_exit(1);
		place[1] = hi[1];
		if (fds_keep(place, ngw + 2) == -1)
			_exit(1);
		unsetenv("NOTIFY_SOCKET");	/* moatd's own */
		fexecve(hi[1], argv, environ);
		log_error("gateways: the probe process: %s", strerror(errno));
		_exit(127);
	}
	}
	close(sp[1]);
	for (i = 0; i < nfd; i++)
		close(fds[i]);
	sock = sp[0];
	if (send(sock, &spec, sizeof(spec), MSG_DONTWAIT) == -1) {
		log_error("gateways: the probe process's targets: %s",
		    strerror(errno));
		close_sock();
		child_stop(&probed);
		probed.next = child_now() + 5000;
		return;
	}
	for (i = 0; i < ngw; i++)
		gw[i].reported = child_now();
	return;
fail:
	for (i = 0; i < nfd; i++)
		close(fds[i]);
	probed.next = child_now() + 5000;
}

/* Linux's strict reverse path filter drops what a second link brings
 * back (the answers of a connection a rule or a failover sent out of it,
 * that link's probes): said, not changed; the admin owns sysctl. */
static void
check_rp_filter(void)
{
	char path[128], buf[16];
	int all = 0, dev;
	size_t i;
	FILE *f;

	if (ngw < 2)
		return;
	if ((f = fopen("/proc/sys/net/ipv4/conf/all/rp_filter", "r")) != NULL) {
		if (fgets(buf, sizeof(buf), f) != NULL)
			all = atoi(buf);
		fclose(f);
	}
	for (i = 0; i < ngw; i++) {
		dev = 0;
		snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/"
		    "rp_filter", gw[i].device);
		if ((f = fopen(path, "r")) != NULL) {
			if (fgets(buf, sizeof(buf), f) != NULL)
				dev = atoi(buf);
			fclose(f);
		}
		/* The kernel uses the larger of the two. */
		if (gw[i].fam == FAM_V4 && (all > dev ? all : dev) == 1)
			log_warn("gateway %s: the reverse path filter is "
			    "strict on %s: answers that come back through "
			    "it when the routes send them elsewhere are "
			    "dropped; set net.ipv4.conf.all.rp_filter and "
			    "net.ipv4.conf.%s.rp_filter to 2 (loose)",
			    gw[i].name, gw[i].device, gw[i].device);
	}
}

static struct target
target_of(const struct gw_ref *r)
{
	struct target t = { 0, 0 };

	if (r == NULL)
		return t;
	if (r->gw != NULL)
		t = (struct target){ 1, r->gw->index - 1 };
	else if (r->group != NULL)
		t = (struct target){ 2, r->group->index - 1 };
	return t;
}

/* A connection's link mark, from one gateway's index to another's. */
struct remark {
	uint32_t	 to;
	size_t		 n;
	struct strbuf	*err;
};

static int
remark_one(const struct ct_flow *fl, void *arg)
{
	struct remark *m = arg;

	if (conntrack_set_mark(fl, m->to, GW_MARK_MASK, m->err) == 0)
		m->n++;
	return 0;
}

/*
 * A reload that numbers the gateways anew (one added or removed above
 * another): the running connections' link marks follow their gateway's
 * new index, so that they stay on their link and a failover finds them.
 * In two passes, through a value no link has (GW_MARK_CHOICE: never in a
 * ct mark), so that two gateways that swap indexes are not mixed.  The
 * connections of a gateway that is gone lose their mark.
 */
static void
renumber(const struct gwrt *old, size_t nold)
{
	size_t from[GW_MAX], to[GW_MAX], n = 0, i, j;
	struct strbuf err;
	struct remark m = { 0, 0, &err };

	for (i = 0; i < nold; i++) {
		size_t now = 0;

		for (j = 0; j < ngw; j++)
			if (strcmp(gw[j].name, old[i].name) == 0 &&
			    strcmp(gw[j].device, old[i].device) == 0 &&
			    gw[j].via == old[i].via)
				now = gw[j].index;
		if (now != old[i].index) {
			from[n] = old[i].index;
			to[n++] = now;
		}
	}
	if (n == 0)
		return;
	strbuf_init(&err, 0);
	for (i = 0; i < n; i++) {
		m.to = GW_MARK_CHOICE(from[i]);
		if (conntrack_each_marked(GW_MARK_PIN(from[i]), GW_MARK_MASK,
		    remark_one, &m, &err) == -1)
			break;
	}
	for (i = 0; i < n; i++) {
		m.to = to[i] != 0 ? GW_MARK_PIN(to[i]) : 0;
		if (conntrack_each_marked(GW_MARK_CHOICE(from[i]),
		    GW_MARK_MASK, remark_one, &m, &err) == -1)
			break;
	}
	if (strbuf_failed(&err) || err.len > 0)
		log_error("gateways: the links' marks after a reload: %s",
		    strbuf_str(&err));
	else
		log_info("gateways: numbered anew; %zu connection%s re-marked",
		    m.n, m.n == 1 ? "" : "s");
	strbuf_free(&err);
}

void
gateways_configure(const struct policy *p)
{
	struct gwrt old[GW_MAX];
	struct grouprt oldg[GW_GROUP_MAX];
	size_t nold = ngw, noldg = ngrp, i, j;
	int f;

	child_stop(&probed);
	close_sock();
	memcpy(old, gw, sizeof(old));
	memcpy(oldg, grp, sizeof(oldg));
	ngw = ngrp = 0;
	memset(def, 0, sizeof(def));
	for (i = 0; i < ntables; i++)
		tables[i].stale = true;
	for (i = 0; i < p->ngateway && i < GW_MAX; i++) {
		const struct gateway *s = p->gateways[i];
		struct gwrt *g = &gw[ngw++];

		memset(g, 0, sizeof(*g));
		snprintf(g->name, sizeof(g->name), "%s", s->name);
		snprintf(g->ifname, sizeof(g->ifname), "%s", s->iface->name);
		snprintf(g->device, sizeof(g->device), "%s",
		    s->iface->device != NULL ? s->iface->device :
		    s->iface->name);
		g->fam = s->via.family;
		g->via = s->via.lo;
		g->monitor = s->monitor.lo;
		g->loss_limit = s->loss;
		g->latency_limit = s->latency;
		g->index = s->index;
		/* The same gateway as before keeps its state: a reload does
		 * not send traffic back to a link that is down. */
		for (j = 0; j < nold; j++)
			if (strcmp(old[j].name, g->name) == 0 &&
			    old[j].via == g->via &&
			    strcmp(old[j].device, g->device) == 0) {
				g->state = old[j].state;
				g->since = old[j].since;
				g->changes = old[j].changes;
				g->good_since = old[j].good_since;
			}
	}
	for (i = 0; i < p->ngwgroup && i < GW_GROUP_MAX; i++) {
		const struct gateway_group *s = p->gwgroups[i];
		struct grouprt *g = &grp[ngrp++];

		memset(g, 0, sizeof(*g));
		snprintf(g->name, sizeof(g->name), "%s", s->name);
		g->index = s->index;
		g->fam = s->family;
		for (j = 0; j < s->n && j < GW_MEMBERS_MAX; j++) {
			g->slot[g->n] = s->v[j].gw->index - 1;
			g->tier[g->n++] = s->v[j].tier;
		}
		/* The members that carried it last, by name (with every
		 * member down, they still do). */
		for (j = 0; j < noldg; j++) {
			size_t k, m;

			if (strcmp(oldg[j].name, g->name) != 0)
				continue;
			for (k = 0; k < oldg[j].n; k++)
				for (m = 0; m < g->n; m++)
					if ((oldg[j].active & (1ull <<
					    oldg[j].slot[k])) && strcmp(old[
					    oldg[j].slot[k]].name,
					    gw[g->slot[m]].name) == 0)
						g->active |= 1ull << g->slot[m];
		}
	}
	for (f = 0; f < 2; f++)
		def[f] = target_of(policy_default_gw(p, f == 0 ? FAM_V4 :
		    FAM_V6));
	if (ngw > 0)
		routes();
	routes_drop_stale();
	rules();
	renumber(old, nold);
	have_user = getuid() != 0 || getpwnam(PROBE_USER) != NULL;
	dirty = true;
	write_status();
	check_rp_filter();
	if (ngw > 0)
		start();
}

/*
 * A device or an address came or went (moatd's rtnetlink watch): the
 * kernel may have emptied moat's tables with it (a device that goes down
 * takes its routes), so every table is sent again; and a probe socket
 * bound to a device that was made anew (a ppp link) hears nothing, so the
 * probe process is started again with new ones.
 */
void
gateways_links_changed(void)
{
	size_t i;
	bool restart = false;

	if (ngw == 0)
		return;
	for (i = 0; i < ntables; i++)
		tables[i].set = false;
	routes();
	for (i = 0; i < ngw; i++)
		if (gw[i].bound != if_nametoindex(gw[i].device))
			restart = true;
	if (restart && sock != -1) {
		log_info("gateways: a gateway's device changed; its probes "
		    "start again");
		close_sock();
		child_stop(&probed);
		start();
	}
}

void
gateways_tick(void)
{
	int status;
	size_t i;

	if (child_reap(&probed, &status))
		close_sock();
	if (ngw == 0)
		return;
	if (child_due(&probed)) {
		start();
		return;
	}
	/* A process that says nothing is started again; the states stay
	 * as they were meanwhile (its silence is not the links'). */
	for (i = 0; sock != -1 && i < ngw; i++)
		if (child_now() - gw[i].reported > GW_STALE_MS) {
			log_error("probe: no report for %s in %d s: the "
			    "process is started again", gw[i].name,
			    GW_STALE_MS / 1000);
			close_sock();
			child_stop(&probed);
			probed.next = child_now() + 1000;
			break;
		}
}

void
gateways_stop(void)
{
	child_stop(&probed);
	close_sock();
}
