/*
 * schedcut.c: the end of a window (see schedcut.h).
 *
 * The kernel stops a scheduled rule from admitting new connections on the
 * minute its window ends (nft's meta day and hour, enforce/nftc.c); the
 * connections it admitted before are established and would go on.  A
 * scheduled accept marks what it admits (its number in the low 16 bits of
 * the ct mark, nftc.h), so here, SETTLE seconds after the edge, those
 * connections are listed (enforce/conntrack.c) and each one is asked
 * again of the config in force, at this time, through the same
 * evaluation as `moat test`: those no rule admits now are removed from
 * the table (their next packet meets the rules as a new one, and the
 * default drops it); those another rule admits stay, marked with that
 * rule's number if it has a schedule too, else unmarked.
 *
 * The config in force is read from the history (whoever applied it:
 * moatd, moat apply, a rollback), again whenever history.log changes;
 * at an edge it is parsed again with the devices' addresses and the feed
 * objects' contents of that moment.
 * Edges are seen as a schedule going from open to closed between two
 * looks, so a clock that jumps or a summer-time change still ends a
 * window once.
 */
#include "daemon/schedcut.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "analyze/eval.h"
#include "base/log.h"
#include "daemon/inforce.h"
#include "enforce/apply.h"
#include "enforce/conntrack.h"
#include "enforce/nftc.h"
#include "observe/fwlog.h"
#include "observe/logfile.h"
#include "policy/load.h"
#include "policy/schedule.h"

/* Seconds after the edge: the kernel's minute has turned, whatever the
 * clocks' small skew. */
#define SETTLE	2

static struct {
	const char	*state;
	struct inforce_watch w;		/* history.log as last read */
	bool		 failing;	/* it could not be read (said once) */
	unsigned	 seq;		/* the entry whose config p is */
	struct policy	*p;
	bool		*open;		/* per schedule: open at the last look */
	bool		*was;		/* the look before */
	char		*text;		/* its config */
	size_t		 len;
	char		 file[256];	/* as the history names it */
	struct sched_frame frame;	/* what its ruleset was compiled for */
	bool		 asked;		/* a new apply asked for */
	time_t		 last;
} sc;

void
schedcut_init(const char *state)
{
	sc.state = state;
}

void
schedcut_stop(void)
{
	policy_free(sc.p);
	free(sc.open);
	free(sc.was);
	free(sc.text);
	sc.p = NULL;
	sc.open = sc.was = NULL;
	sc.text = NULL;
	sc.seq = 0;
}

/* Which schedules are open at t, into sc.open. */
static void
look(time_t t)
{
	unsigned wmin;
	size_t i;

	if (schedule_week_minute(t, &wmin) == -1)
		return;
	for (i = 0; i < sc.p->nsched; i++)
		sc.open[i] = iset_contains(sc.p->scheds[i]->set, wmin);
}

/* The config in force parsed as of now: the devices' addresses and
 * what the feed objects hold now (daemon/inforce.c).  NULL, said, when
 * it cannot be, or when it has no schedule. */
static struct policy *
parse_now(void)
{
	struct strbuf err;
	struct policy *p;

	strbuf_init(&err, 0);
	if ((p = inforce_parse(sc.state, "history", sc.text, sc.len, &err)) ==
	    NULL)
		log_warn("schedules: %s", strbuf_str(&err));
	else if (p->nsched == 0) {
		policy_free(p);
		p = NULL;
	}
	strbuf_free(&err);
	return p;
}

/* The config of the entry in force, when the history changed. */
static void
refresh(time_t now)
{
	struct history_entry e;
	struct strbuf err;
	int rc;

	strbuf_init(&err, 0);
	if ((rc = inforce_look(sc.state, &sc.w, &e, &err)) == -1 &&
	    sc.failing)
		strbuf_reset(&err);	/* (said when it began) */
	if (rc != 0)
		sc.failing = rc == -1;
	if (rc != 1 || e.seq == 0 || e.seq == sc.seq)
		goto out;
	schedcut_stop();
	sc.seq = e.seq;
	snprintf(sc.file, sizeof(sc.file), "%s", e.file);
	schedule_frame_now(&sc.frame);
	sc.asked = false;
	if (strcmp(e.file, "-") == 0 ||
	    (sc.text = apply_config_text(sc.state, sc.seq, &sc.len)) == NULL)
		goto out;
	/* Most configs have none: no need to parse them to know. */
	if (memmem(sc.text, sc.len, "schedule", 8) == NULL ||
	    (sc.p = parse_now()) == NULL) {
		schedcut_stop();
		sc.seq = e.seq;		/* known, and without schedules */
		goto out;
	}
	sc.open = calloc(sc.p->nsched, sizeof(*sc.open));
	sc.was = calloc(sc.p->nsched, sizeof(*sc.was));
	if (sc.open == NULL || sc.was == NULL) {
		schedcut_stop();
		goto out;
	}
	look(now - SETTLE);
out:
	if (err.len > 0)
		log_warn("schedules: %s", strbuf_str(&err));
	strbuf_free(&err);
}

struct judge {
	const struct policy	*p;
	const struct rule	*rule;
	unsigned		 wmin;
	char			 at[16];
	unsigned		 cut, kept, failed;
};

static void
flow_text(const struct ct_flow *c, char *buf, size_t len)
{
	char s[ADDR_STRLEN], d[ADDR_STRLEN];

	addr_format(c->src, s, sizeof(s));
	addr_format(c->dst, d, sizeof(d));
	if (c->proto == 6 || c->proto == 17 || c->proto == 132)
		snprintf(buf, len, "%s %s%s%s:%u -> %s%s%s:%u",
		    c->proto == 6 ? "tcp" : c->proto == 17 ? "udp" : "sctp",
		    c->family == AF_INET6 ? "[" : "", s,
		    c->family == AF_INET6 ? "]" : "", c->sport,
		    c->family == AF_INET6 ? "[" : "", d,
		    c->family == AF_INET6 ? "]" : "", c->dport);
	else
		snprintf(buf, len, "protocol %d %s -> %s", c->proto, s, d);
}

/* A connection cut, in the firewall log: a record as the logger writes
 * them, action "cut", by the rule that admitted it.  Left out (moatd's
 * log has it) when the log's file does not exist yet. */
static void
fwlog_cut(const struct judge *j, const struct ct_flow *c)
{
	struct fwlog_rec r;
	struct strbuf b;

	memset(&r, 0, sizeof(r));
	clock_gettime(CLOCK_REALTIME, &r.when);
	snprintf(r.action, sizeof(r.action), "cut");
	r.rule = j->rule->number;
	r.hash = apply_hash(sc.text, sc.len);	/* the history's */
	snprintf(r.in_dev, sizeof(r.in_dev), "%s", j->rule->iface->device);
	fwlog_annotate(&r, j->p, sc.file);
	r.proto = c->proto;
	r.src = c->src;
	r.dst = c->dst;
	r.has_ports = c->proto == 6 || c->proto == 17 || c->proto == 132 ||
	    c->proto == 136 || c->proto == 33;
	r.sport = c->sport;
	r.dport = c->dport;
	r.icmp_type = c->proto == 1 || c->proto == 58 ? c->icmp_type : -1;
	r.icmp_code = c->proto == 1 || c->proto == 58 ? c->icmp_code : -1;
	strbuf_init(&b, 0);
	fwlog_json(&r, &b);
	strbuf_putc(&b, '\n');
	if (!strbuf_failed(&b) && logfile_add(logfile_dir(
	    j->p->logging.directory), FWLOG_FILE, strbuf_str(&b), b.len) == -1)
		log_debug("schedule %s: not in the firewall log: %s",
		    j->rule->sched_name, strerror(errno));
	strbuf_free(&b);
}

/* One connection rule j->rule admitted: asked again, now. */
static int
judge_one(const struct ct_flow *c, void *arg)
{
	struct judge *j = arg;
	struct flow f;
	struct verdict v;
	struct strbuf err;
	char text[200];
	int rc;

	memset(&f, 0, sizeof(f));
	f.iface = j->rule->iface;
	f.src = c->src;
	f.dst = c->dst;
	f.proto = c->proto;
	f.dport = c->proto == 1 || c->proto == 58 ? c->icmp_type : c->dport;
	f.week_min = j->wmin;
	policy_eval(j->p, &f, &v);
	flow_text(c, text, sizeof(text));
	strbuf_init(&err, 0);
	if (v.action == ACT_ACCEPT) {
		unsigned mark = v.by == BY_RULE ? v.rule->sched_mark : 0;

		j->kept++;
		rc = (c->mark & NFTC_CT_SCHED_MASK) == mark ? 0 :
		    conntrack_set_mark(c, mark, NFTC_CT_SCHED_MASK, &err);
		log_info("schedule %s closed at %s: %s kept: rule %d admitted "
		    "it, %s admits it now", j->rule->sched_name, j->at, text,
		    j->rule->number, v.by == BY_RULE ? "a rule" : v.by ==
		    BY_ANTILOCKOUT ? "the anti-lockout rule" : v.by ==
		    BY_FORWARD ? "a port forward" : "the default");
	} else if ((rc = conntrack_delete(c, &err)) != -1) {
		j->cut++;
		fwlog_cut(j, c);
		log_info("schedule %s closed at %s: %s cut: rule %d admitted "
		    "it and no rule admits it now", j->rule->sched_name, j->at,
		    text, j->rule->number);
	}
	if (rc == -1) {
		j->failed++;
		log_warn("schedule %s: %s: %s", j->rule->sched_name, text,
		    strbuf_str(&err));
	}
	strbuf_free(&err);
	return 0;
}

/* Schedule s has just closed: the connections of its accept rules,
 * judged by the config as of now (the addresses and feeds of now). */
static void
cut(const struct schedule *s, time_t now)
{
	struct policy *p = parse_now();
	struct tm tm;
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nrule; i++) {
		const struct rule *r = p->rules[i];
		struct judge j = { .p = p, .rule = r };
		struct strbuf err;

		if (r->sched == NULL || strcmp(r->sched->name, s->name) != 0 ||
		    r->sched_mark == 0 || r->iface == NULL)
			continue;
		if (schedule_week_minute(now, &j.wmin) == -1)
			break;
		localtime_r(&now, &tm);
		strftime(j.at, sizeof(j.at), "%H:%M", &tm);
		strbuf_init(&err, 0);
		if (conntrack_each_marked(r->sched_mark, NFTC_CT_SCHED_MASK,
		    judge_one, &j, &err) == -1)
			log_warn("schedule %s: %s", s->name, strbuf_str(&err));
		else if (j.cut + j.kept > 0)
			log_info("schedule %s closed at %s: of rule %d's "
			    "connections %u cut, %u kept%s", s->name, j.at,
			    r->number, j.cut, j.kept, j.failed ? " (some "
			    "could not be changed)" : "");
		strbuf_free(&err);
	}
	policy_free(p);
}

bool
schedcut_tick(void)
{
	time_t now = time(NULL);
	struct sched_frame fr;
	size_t i;

	if (sc.state == NULL || now == sc.last)
		return false;
	sc.last = now;
	refresh(now);
	if (sc.p == NULL)
		return false;
	/* The zone file may have been replaced (timedatectl). */
	tzset();
	schedule_frame_now(&fr);
	if ((fr.utc_offset != sc.frame.utc_offset ||
	    fr.kernel_west != sc.frame.kernel_west) && !sc.asked) {
		log_info("schedules: the local time is now UTC%+d:%02d (it was "
		    "UTC%+d:%02d when history entry %u was compiled): its "
		    "windows are compiled again", fr.utc_offset / 60,
		    abs(fr.utc_offset % 60), sc.frame.utc_offset / 60,
		    abs(sc.frame.utc_offset % 60), sc.seq);
		sc.asked = true;
		return true;
	}
	for (i = 0; i < sc.p->nsched; i++)
		sc.was[i] = sc.open[i];
	look(now - SETTLE);
	for (i = 0; i < sc.p->nsched; i++)
		if (sc.was[i] && !sc.open[i])
			cut(sc.p->scheds[i], now);
	return false;
}
