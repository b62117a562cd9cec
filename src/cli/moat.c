/* moat.c: the moat command line, a thin front end over libmoat. */
#include <sys/resource.h>

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <termios.h>
#include <unistd.h>
#include <stdio.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analyze/classify.h"
#include "analyze/diff.h"
#include "analyze/eval.h"
#include "analyze/flowfmt.h"
#include "analyze/lint.h"
#include "base/clock.h"
#include "base/cores.h"
#include "base/strbuf.h"
#include "base/users.h"
#include "cli/batchcmd.h"
#include "cli/importcmd.h"
#include "cli/logcmd.h"
#include "cli/tracecmd.h"
#include "enforce/apply.h"
#include "enforce/foreign.h"
#include "enforce/counters.h"
#include "enforce/feedstore.h"
#include "enforce/host.h"
#include "enforce/nftc.h"
#include "enforce/probe.h"
#include "enforce/rtnl.h"
#include "ha/engines.h"
#include "observe/fwlog.h"
#include "observe/logfile.h"
#include "observe/mailstats.h"
#include "observe/metrics.h"
#include "observe/status.h"
#include "output/diffprint.h"
#include "output/json.h"
#include "output/printer.h"
#include "policy/schedule.h"
#include "policy/load.h"
#include "policy/policy.h"
#include "version.h"

#define EXIT_USAGE	2

/* Each command's usage, for `moat help CMD` and `moat CMD --help`. */
static const struct command_help {
	const char	*name;
	const char	*synopsis;
	const char	*what;
} commands[] = {
	{ "check", "moat check [-f FILE] [--offline]",
	  "validate and lint: exit 0 clean, 1 valid with warnings, 2 errors;\n"
	  "notes the devices this host lacks, unless --offline" },
	{ "show", "moat show  [-f FILE] [--json | --nft]",
	  "the config in canonical form, as JSON, or as the nftables\n"
	  "ruleset it compiles to" },
	{ "test", "moat test  [-f FILE] --in IF --src IP --dst IP\n"
	  "           [--service NAME | --proto P [--dport N | --type T]] "
	  "[--json]\n"
	  "           [--addr IF=ADDR/LEN]... [--object NAME=ADDR,...]...\n"
	  "           [--at \"YYYY-MM-DD HH:MM\"]\n"
	  "moat test  [-f FILE] --batch FILE|- [--in IF] [--json] "
	  "[--addr IF=ADDR/LEN]...\n"
	  "           [--at \"YYYY-MM-DD HH:MM\"] [--threads N] [--timing]",
	  "the verdict for one connection and the rule that decides it:\n"
	  "exit 0 accept, 1 deny or reject, 2 usage or config error;\n"
	  "--batch: one line per flow of FILE (flow lines or conntrack -L),\n"
	  "answered by N threads (default: one per CPU), in FILE's order;\n"
	  "--timing: the load's, the index's and the replay's times;\n"
	  "--addr: the address of an interface with address dynamic\n"
	  "(default: what its device has now); --object NAME=ADDR,...:\n"
	  "what a fqdn, url or country object holds (default: what\n"
	  "moatd last put in the kernel);\n"
	  "--at: the local time asked about, for rules with a schedule\n"
	  "(default: now)" },
	{ "apply", "moat apply [-f FILE] [--dry-run] [--confirm SECONDS] "
	  "[--timing] [--whole]",
	  "install the policy as table inet moat in one transaction,\n"
	  "saying first which flows it changes (as moat diff); when it\n"
	  "differs from the ruleset in force by a little, only the\n"
	  "difference goes (--whole: the whole ruleset all the same);\n"
	  "--confirm N restores the previous ruleset after N seconds\n"
	  "unless 'moat confirm' runs; --dry-run prints the changes and\n"
	  "lets the kernel check the ruleset, loading nothing;\n"
	  "--timing: where the time went, and the peak memory" },
	{ "diff", "moat diff [--json] [OLD] [NEW]",
	  "the flows whose verdict or NAT changes from OLD to NEW, exactly,\n"
	  "as regions with an example flow and the rule before and after;\n"
	  "OLD and NEW: a config file, a history entry's number (moat\n"
	  "history), or --running (the config in force); one given: the\n"
	  "running config to it; none: the running config to " MOAT_DEFAULT_CONF
	  "\nexit 0 no flow changes, 1 some do, 2 usage or config error" },
	{ "confirm", "moat confirm",
	  "keep the ruleset of the last apply --confirm" },
	{ "rollback", "moat rollback [--confirm SECONDS]",
	  "restore the ruleset that was active before the current one;\n"
	  "--confirm N puts the current one back after N seconds unless\n"
	  "'moat confirm' runs" },
	{ "history", "moat history",
	  "the applied configs, with time and hash" },
	{ "status", "moat status [--json]",
	  "what is applied, and per-rule packet and byte counters,\n"
	  "the firewall log, the Gateway Anti-Virus and the HA pair" },
	{ "objects", "moat objects [NAME] [--json]",
	  "the fqdn, url and country objects moatd follows: entries per\n"
	  "family, last refresh and its result, next refresh, last error" },
	{ "probe", "moat probe [--from IP] [--timeout SECONDS] HOST [PORT]",
	  "the telnet test, for real: connected / refused / timed out,\n"
	  "and the banner; exit 0, 1, 3 (2: usage or error)" },
	{ "log", "moat log [-f] [--rule N|default] [--src ADDR] [--dst ADDR]\n"
	  "         [--since TIME] [--json]",
	  "the firewall log: what the rules with log and the logged\n"
	  "defaults decided, in moat's words; -f follows it" },
	{ "trace", "moat trace [--in IF] --src ADDR [--dst ADDR] [--proto P "
	  "[--dport N]]\n           [--count N] [--timeout S]",
	  "follow packets through the rules as the kernel runs them:\n"
	  "the zone, the deciding rule and its line, NAT, interception" },
	{ "passwd", "moat passwd [-f USERSFILE] USER",
	  "set a console user's password (yescrypt), reading it from\n"
	  "standard input when that is not a terminal; USERSFILE defaults\n"
	  "to " USERS_DEFAULT },
	{ "metrics", "moat metrics",
	  "the rules' counters, the mail figures and the logs' own in\n"
	  "the Prometheus text format" },
	{ "import", "moat import pfsense|opnsense CONFIG.XML [-o moat.conf]\n"
	  "moat import iptables IPTABLES-SAVE-FILE [-o moat.conf]",
	  "another firewall's configuration as a moat.conf: interfaces,\n"
	  "aliases, rules, NAT, schedules; each element not carried over\n"
	  "is listed with its place and why (exit 1 when any is), then\n"
	  "the equivalence report: the source's semantics against moat's,\n"
	  "interface by interface" },
	{ "mail-log", "moat mail-log [-f] [--since TIME] [--json]",
	  "the mail log: one line per message the SMTP proxy handled\n"
	  "(verdict, signature, sender, client, size, reply)" },
};

#define NCOMMANDS	(sizeof(commands) / sizeof(commands[0]))

static const struct command_help *
command_help(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/* One command's usage, its description indented. */
static void
print_command(const struct command_help *c, FILE *fp)
{
	const char *s;

	fputs("usage: ", fp);
	for (s = c->synopsis; *s != '\0'; s++) {
		fputc(*s, fp);
		if (*s == '\n')
			fputs("       ", fp);
	}
	fputs("\n\n  ", fp);
	for (s = c->what; *s != '\0'; s++) {
		fputc(*s, fp);
		if (*s == '\n')
			fputs("  ", fp);
	}
	fputc('\n', fp);
}

static void
print_usage(FILE *fp)
{
	size_t i;

	fputs("usage: moat COMMAND [OPTIONS]\n\n", fp);
	for (i = 0; i < NCOMMANDS; i++) {
		const char *s = commands[i].what;

		fprintf(fp, "  %-9s", commands[i].name);
		for (; *s != '\0'; s++) {
			fputc(*s, fp);
			if (*s == '\n')
				fputs("           ", fp);
		}
		fputc('\n', fp);
	}
	fputs("\n'moat help COMMAND' or 'moat COMMAND --help': that command's "
	    "options.\n'moat --version': the version.\n"
	    "FILE defaults to " MOAT_DEFAULT_CONF "; '-' reads standard "
	    "input.\nState (history, pending confirms) is kept in "
	    "$MOAT_STATE_DIR, default\n" MOAT_STATE_DIR ".\n", fp);
}

/* A usage error: one line, and where to read more. */
static int
usage_error(const char *fmt, const char *arg)
{
	fputs("moat: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\nsee 'moat --help'\n", stderr);
	return EXIT_USAGE;
}

/* Load and resolve the policy; print errors and return NULL if invalid.
 * trusted: a config to enforce (policy_load_trusted). */
#define ADDR_ARGS_MAX	32

/* What the dynamic interfaces' addresses are taken to be: those given
 * with --addr, else those the devices have now (rtnl.c). */
static struct bound_addr given_v[ADDR_ARGS_MAX];
static struct binding given = { .v = given_v };
static struct host_addrs live_addrs;
static bool live_read;

/* --addr NAME=ADDR/LEN: 0, or a usage error. */
static int
add_given(const char *arg)
{
	const char *eq = strchr(arg, '=');
	char name[64], err[200], hint[100];
	struct bound_addr *ba;

	if (given.n == ADDR_ARGS_MAX)
		return usage_error("at most %d --addr", "32");
	if (eq == NULL || eq == arg || (size_t)(eq - arg) >= sizeof(name) ||
	    strchr(eq + 1, '/') == NULL)
		return usage_error("--addr takes INTERFACE=ADDRESS/PREFIX, "
		    "such as WAN=203.0.113.5/24, not '%s'", arg);
	ba = &given_v[given.n];
	if (addr_parse_lit(eq + 1, true, &ba->lit, err, sizeof(err), hint,
	    sizeof(hint)) == -1 || ba->lit.lo != ba->lit.hi)
		return usage_error("--addr: '%s' is not an address with its "
		    "prefix", eq + 1);
	snprintf(name, sizeof(name), "%.*s", (int)(eq - arg), arg);
	ba->name = strdup(name);
	given.n++;
	return 0;
}

/* --object NAME=ADDR,...: what a feed object holds, for moat test
 * anywhere; the others hold what the state directory keeps (on the
 * gateway, what moatd put in the kernel). */
#define OBJECT_ARGS_MAX	32

static struct { const char *name, *list; } given_obj[OBJECT_ARGS_MAX];
static size_t ngiven_obj;

static int
add_given_object(const char *arg)
{
	const char *eq = strchr(arg, '=');

	if (ngiven_obj == OBJECT_ARGS_MAX)
		return usage_error("at most %s --object", "32");
	if (eq == NULL || eq == arg)
		return usage_error("--object takes NAME=ADDR[,ADDR...], such as "
		    "backup=192.0.2.7,2001:db8::7, not '%s'", arg);
	given_obj[ngiven_obj].name = strndup(arg, (size_t)(eq - arg));
	given_obj[ngiven_obj++].list = eq + 1;
	return 0;
}

static int
bound_object(void *arg, const struct object *o, struct arena *a,
    struct iset *out)
{
	size_t i, n = 0;
	struct ival *v;
	char *list, *tok, *save = NULL;

	for (i = 0; i < ngiven_obj; i++)
		if (strcmp(given_obj[i].name, o->name) == 0)
			break;
	if (i == ngiven_obj) {
		struct binding b;

		feedstore_bind(&b, arg);
		return b.feed(b.feed_arg, o, a, out);
	}
	if ((list = strdup(given_obj[i].list)) == NULL)
		return -1;
	v = arena_array(a, strlen(given_obj[i].list) / 2 + 2, sizeof(*v));
	for (tok = strtok_r(list, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		struct addr_lit lit;
		char err[160], hint[100];

		if (addr_parse_lit(tok, true, &lit, err, sizeof(err), hint,
		    sizeof(hint)) == -1) {
			fprintf(stderr, "moat: --object %s: %s: %s\n", o->name,
			    tok, err);
			continue;
		}
		n += addr_span(lit.lo, lit.hi, lit.family, v + n);
	}
	free(list);
	*out = iset_from(a, v, n);
	return 0;
}

/* The binding to load with: --addr's, else the host's. */
static const struct binding *
binding(void)
{
	struct strbuf err;

	given.feed = bound_object;
	given.feed_arg = (void *)apply_state_dir();
	if (given.n > 0)
		return &given;
	if (!live_read) {
		live_read = true;
		strbuf_init(&err, 0);
		if (rtnl_addrs(&live_addrs, &err) == -1)
			fprintf(stderr, "moat: %s: dynamic addresses taken as "
			    "none\n", strbuf_str(&err));
		strbuf_free(&err);
		live_addrs.b.feed = bound_object;
		live_addrs.b.feed_arg = (void *)apply_state_dir();
	}
	return &live_addrs.b;
}

/* load_bound, saying what is wrong on out. */
static struct policy *
load_bound_to(const char *path, bool trusted, const struct binding *b,
    FILE *out)
{
	struct policy *p;
	char err[512];

	if ((p = policy_load_bound(path, trusted, b, err, sizeof(err))) ==
	    NULL) {
		fprintf(out, "moat: %s\n", err);
		return NULL;
	}
	if (!policy_valid(p)) {
		diags_print(&p->diags, out);
		fprintf(out, "moat: %s: %zu error%s\n", p->file,
		    p->diags.nerrors, p->diags.nerrors == 1 ? "" : "s");
		policy_free(p);
		return NULL;
	}
	/* the loader's warning of a config to enforce (its HA secret
	 * readable by others) */
	if (trusted && p->diags.nwarnings > 0) {
		size_t i;
		char line[512];

		for (i = 0; i < p->diags.n; i++)
			if (p->diags.v[i].severity == DIAG_WARNING) {
				diag_format(&p->diags.v[i], line, sizeof(line));
				fprintf(out, "%s\n", line);
			}
	}
	return p;
}

static struct policy *
load_bound(const char *path, bool trusted, const struct binding *b)
{
	return load_bound_to(path, trusted, b, stderr);
}

static struct policy *
load(const char *path, bool trusted)
{
	return load_bound(path, trusted, NULL);
}

static int
write_out(struct strbuf *b)
{
	int rc = 0;

	if (strbuf_failed(b)) {
		fputs("moat: out of memory\n", stderr);
		rc = EXIT_USAGE;
	} else if (fwrite(strbuf_str(b), 1, b->len, stdout) != b->len ||
	    fflush(stdout) == EOF) {
		perror("moat: stdout");
		rc = EXIT_USAGE;
	}
	strbuf_free(b);
	return rc;
}

/* A dynamic interface's addresses as bound, or "none". */
static void
bound_text(const struct iface *ifc, struct strbuf *b)
{
	char buf[2 * ADDR_STRLEN + 8];
	size_t j;

	for (j = 0; j < ifc->nbound; j++) {
		addr_lit_format(&ifc->bound[j], buf, sizeof(buf));
		strbuf_printf(b, "%s%s", j > 0 ? ", " : "", buf);
	}
	if (ifc->nbound == 0)
		strbuf_puts(b, "none");
}

/* A note for each dynamic interface: what its device has now. */
static void
note_dynamic(struct policy *p)
{
	struct policy *now;
	size_t i;

	if (policy_ndynamic(p) == 0 || (now = policy_parse_bound(p->file,
	    p->text, p->len, binding())) == NULL)
		return;
	for (i = 0; i < now->niface; i++) {
		const struct iface *ifc = now->ifaces[i];
		struct strbuf b;

		if (!ifc->dynamic)
			continue;
		strbuf_init(&b, 0);
		bound_text(ifc, &b);
		diag_add(&p->diags, DIAG_NOTE, p->ifaces[i]->dynamic_loc,
		    "the addresses of %s are dynamic: %s and %sNET follow "
		    "device %s (now: %s); moatd keeps them current",
		    ifc->name, ifc->ip_obj->name, ifc->name, ifc->device,
		    strbuf_str(&b));
		strbuf_free(&b);
	}
	policy_free(now);
}

static int
cmd_check(const char *path, bool offline)
{
	struct lint_stats st;
	struct policy *p = load(path, false);
	size_t i;
	int rc;

	if (p == NULL)
		return EXIT_USAGE;
	if (!offline) {
		host_note_devices(p);
		note_dynamic(p);
	}
	if (lint_policy(p, &st) == -1) {
		fputs("moat: out of memory\n", stderr);
		policy_free(p);
		return EXIT_USAGE;
	}
	diags_sort(&p->diags);
	for (i = 0; i < p->diags.n; i++) {
		char buf[1400];

		diag_format(&p->diags.v[i], buf, sizeof(buf));
		puts(buf);
	}
	printf("%s: valid: %zu rule%s on %zu interface%s, %zu warning%s\n",
	    p->file, p->nrule, p->nrule == 1 ? "" : "s", p->niface,
	    p->niface == 1 ? "" : "s", p->diags.nwarnings,
	    p->diags.nwarnings == 1 ? "" : "s");
	rc = p->diags.nwarnings > 0 ? 1 : 0;
	policy_free(p);
	return rc;
}

static int
cmd_show(const char *path, bool json, bool nft)
{
	struct policy *p = load_bound(path, false, nft ? binding() : NULL);
	struct strbuf b;

	if (p == NULL)
		return EXIT_USAGE;
	strbuf_init(&b, 0);
	if (json)
		json_policy(p, &b);
	else if (nft)
		nftc_compile(p, &b);
	else {
		/* Schedules are in local time: say which. */
		if (p->nsched > 0) {
			char zone[128];

			schedule_zone(zone, sizeof(zone));
			strbuf_printf(&b, "# schedules in local time: %s\n",
			    zone);
		}
		printer_policy(p, &b);
	}
	policy_free(p);
	return write_out(&b);
}

/* The peak of this process's resident memory (VmHWM), and of the
 * children it waited for (libnftables runs a long script in one: nft.c),
 * in kB; 0 when unknown. */
static long
peak_kb(long *child)
{
	struct rusage ru;
	char line[256];
	long kb = 0;
	FILE *fp;

	*child = getrusage(RUSAGE_CHILDREN, &ru) == 0 ? ru.ru_maxrss : 0;
	if ((fp = fopen("/proc/self/status", "re")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
			break;
	fclose(fp);
	return kb;
}

struct test_args {
	const char	*in, *src, *dst, *service, *proto, *dport, *type;
	const char	*batch;
	const char	*threads;	/* --threads N, or NULL */
	const char	*at;		/* --at "YYYY-MM-DD HH:MM", or NULL */
	bool		 json, nft;
	bool		 timing;	/* --batch --timing */
};


/* The minute of the local week the question is asked for: --at, else
 * now; -1 (said) if --at is not a time. */
static int
test_when(const struct test_args *ta, unsigned *week_min, time_t *t)
{
	char err[200];

	*t = time(NULL);
	if (ta->at != NULL && schedule_parse_at(ta->at, t, err,
	    sizeof(err)) == -1)
		return usage_error("--at: %s", err);
	if (schedule_week_minute(*t, week_min) == -1)
		return usage_error("--at: %s is out of the C library's range",
		    ta->at != NULL ? ta->at : "now");
	return 0;
}

/* Fill the protocol and port of the flow from --service or --proto. */
static int
flow_service(const struct policy *p, const struct test_args *ta,
    enum addr_family fam, struct flow *f)
{
	char err[200];

	if ((ta->service == NULL) == (ta->proto == NULL))
		return usage_error("give either --service NAME or --proto P%s",
		    "");
	if ((ta->service != NULL ? flow_set_service(p, ta->service, fam, f,
	    err, sizeof(err)) : flow_set_proto(ta->proto, ta->dport != NULL ?
	    ta->dport : ta->type, fam, f, err, sizeof(err))) == -1)
		return usage_error("%s", err);
	return 0;
}

/* moat test --batch: one verdict line per flow line, in order
 * (batchcmd.c). */
static int
cmd_batch(const char *path, const struct test_args *ta)
{
	struct policy *p;
	struct batch_opts o = { ta->batch, NULL, ta->json, 0, 0, 0 };
	size_t nflows = 0, nbad = 0;
	struct policy_index *idx = NULL;
	int rc = EXIT_USAGE;
	long long t0 = clock_ms(), t_load, t_index, t_replay;
	long kb, child_kb;
	time_t when;
	FILE *fp;

	if (ta->src || ta->dst || ta->service || ta->proto || ta->dport ||
	    ta->type)
		return usage_error("--batch takes flows from its file, not "
		    "from --src, --dst, …%s", "");
	if (test_when(ta, &o.week_min, &when) != 0)
		return EXIT_USAGE;
	if (ta->threads != NULL && (flow_parse_number(ta->threads, 1024,
	    &o.threads) == -1 || o.threads == 0))
		return usage_error("--threads: '%s' is not a number of threads "
		    "(1-1024)", ta->threads);
	if ((p = load_bound(path, false, binding())) == NULL)
		return EXIT_USAGE;
	if (ta->in != NULL && (o.in = policy_iface(p, ta->in)) == NULL) {
		fprintf(stderr, "moat: unknown interface '%s'\n", ta->in);
		goto out;
	}
	t_load = clock_ms();
	/* A classifier pays off over many flows; without one (too many
	 * boxes), the linear scan gives the same answers. */
	idx = policy_index(p, 4u << 20);
	t_index = clock_ms();
	fp = strcmp(ta->batch, "-") == 0 ? stdin : fopen(ta->batch, "r");
	if (fp == NULL) {
		perror(ta->batch);
		goto out;
	}
	if (batch_replay(p, idx, &o, fp, stdout, &nflows, &nbad) == -1) {
		if (fp != stdin)
			fclose(fp);
		goto out;
	}
	if (fp != stdin)
		fclose(fp);
	if (fflush(stdout) == EOF) {
		perror("moat: stdout");
		goto out;
	}
	t_replay = clock_ms();
	rc = nbad > 0 ? EXIT_USAGE : 0;
	if (ta->timing) {
		kb = peak_kb(&child_kb);
		fprintf(stderr, "moat: timing: test --batch: load %lld ms, "
		    "index %lld ms (%zu kB%s), replay %lld ms (%zu flows, "
		    "%.2f M flows/s), total %lld ms; peak memory %ld kB\n",
		    t_load - t0, t_index - t_load,
		    policy_index_memory(idx) / 1024, idx == NULL ?
		    ", none: the linear scan" : "", t_replay - t_index,
		    nflows, (double)nflows / 1000.0 /
		    (double)(t_replay > t_index ? t_replay - t_index : 1),
		    t_replay - t0, kb);
	}
	if (nbad > 0)
		fprintf(stderr, "moat: %zu flow%s decided, %zu line%s not "
		    "understood\n", nflows, nflows == 1 ? "" : "s", nbad,
		    nbad == 1 ? "" : "s");
out:
	policy_index_free(idx);
	policy_free(p);
	return rc;
}

static int
cmd_test(const char *path, const struct test_args *ta)
{
	struct policy *p;
	struct flow f;
	struct verdict v;
	struct strbuf b;
	enum addr_family fs, fd;
	char err[200];
	int rc;
	time_t when;

	if (ta->threads != NULL)
		return usage_error("--threads goes with --batch%s", "");
	if (ta->in == NULL || ta->src == NULL || ta->dst == NULL)
		return usage_error("test needs --in, --src and --dst%s", "");
	memset(&f, 0, sizeof(f));
	if (test_when(ta, &f.week_min, &when) != 0)
		return EXIT_USAGE;
	if ((p = load_bound(path, false, binding())) == NULL)
		return EXIT_USAGE;
	rc = EXIT_USAGE;
	if ((f.iface = policy_iface(p, ta->in)) == NULL) {
		fprintf(stderr, "moat: unknown interface '%s'\n", ta->in);
		goto out;
	}
	if (addr_parse(ta->src, &f.src, &fs, err, sizeof(err)) == -1 ||
	    addr_parse(ta->dst, &f.dst, &fd, err, sizeof(err)) == -1) {
		fprintf(stderr, "moat: %s\n", err);
		goto out;
	}
	if (fs != fd) {
		fprintf(stderr, "moat: --src and --dst must be of one family\n");
		goto out;
	}
	if (flow_service(p, ta, fs, &f) != 0)
		goto out;
	policy_eval(p, &f, &v);
	strbuf_init(&b, 0);
	if (ta->json)
		json_verdict(p, &f, &v, &b);
	else {
		const char *scan = smtp_scan_text(policy_smtp_scan(p, &f, &v));
		const char *before = policy_before_rules(p, &f, &v);
		char nat[256], gwbuf[256];
		const char *snat = snat_text(p, &v, nat, sizeof(nat));
		const char *gw = gw_text(&v, gwbuf, sizeof(gwbuf));

		size_t i;

		printer_verdict(p, &f, &v, &b);
		strbuf_putc(&b, '\n');
		if (before != NULL)
			strbuf_printf(&b, "but %s\n", before);
		if (gw != NULL)
			strbuf_printf(&b, "%s\n", gw);
		if (snat != NULL)
			strbuf_printf(&b, "%s\n", snat);
		if (scan != NULL)
			strbuf_printf(&b, "%s\n", scan);
		if (p->nsched > 0) {
			char at[64], zone[128];
			size_t len = b.len;

			printer_when(p, &f, &v, &b);
			schedule_format_at(when, at, sizeof(at));
			schedule_zone(zone, sizeof(zone));
			strbuf_printf(&b, "%sasked for %s, local time of %s\n",
			    b.len > len ? "; " : "", at, zone);
		}
		for (i = 0; i < p->niface; i++)
			if (p->ifaces[i]->dynamic) {
				printer_dynamic(p, p->ifaces[i], &b);
				strbuf_putc(&b, '\n');
			}
	}
	rc = write_out(&b) != 0 ? EXIT_USAGE : v.action == ACT_ACCEPT ? 0 : 1;
out:
	policy_free(p);
	return rc;
}


/* ---- moat diff ---------------------------------------------------------- */

#define DIFF_CELLS_MAX	2000000	/* cells decided before it stops */
#define APPLY_CELLS_MAX	200000	/* the same, before an apply */
#define APPLY_DIFF_MS	3000	/* and its deadline: the summary never
				   holds an apply longer */
#define APPLY_REGIONS	20	/* regions apply prints */

/* A policy to compare: a config file, a history entry (all digits), or
 * the config in force (arg NULL), bound by b.  *name says which, for the
 * output (malloc'd).  NULL (said on out) when it cannot be read or is not
 * valid, or, with *none, when nothing is in force. */
static struct policy *
diff_source(const char *arg, char **name, bool *none,
    const struct binding *b, FILE *out)
{
	const char *state = apply_state_dir();
	struct policy *p = NULL;
	struct strbuf err;
	char *text = NULL, label[300];
	size_t len = 0;
	unsigned seq = 0;

	*name = NULL;
	*none = false;
	strbuf_init(&err, 0);
	if (arg == NULL || strspn(arg, "0123456789") == strlen(arg)) {
		if (arg == NULL) {
			text = apply_running_text(state, &seq, &len, &err);
			if (text == NULL && err.len == 0) {
				*none = true;
				goto out;
			}
		} else if (flow_parse_number(arg, 100000000, &seq) == -1 ||
		    seq == 0 || (text = apply_config_text(state, seq,
		    &len)) == NULL) {
			if (seq != 0 && errno == EINVAL)
				strbuf_printf(&err, "history entry %u's config "
				    "in %s is damaged (history/N.delta: "
				    "doc/design/history.md)", seq, state);
			else
				strbuf_printf(&err, "no history entry '%s' in "
				    "%s (moat history lists them; write ./%s "
				    "for a file)", arg, state, arg);
		}
		if (text == NULL) {
			fprintf(out, "moat: %s\n", strbuf_str(&err));
			goto out;
		}
		/* The policy's file is "history N" (rules cite "history
		 * N:LINE"); the label says when it is the one in force. */
		snprintf(label, sizeof(label), "history %u", seq);
		p = policy_parse_taking(label, text, len, b);
		text = NULL;
		if (arg == NULL)
			snprintf(label, sizeof(label), "running (history %u)",
			    seq);
		if (p != NULL && !policy_valid(p)) {
			diags_print(&p->diags, out);
			fprintf(out, "moat: %s: %zu error%s\n", label,
			    p->diags.nerrors, p->diags.nerrors == 1 ? "" : "s");
			policy_free(p);
			p = NULL;
		} else if (p == NULL)
			fprintf(out, "moat: %s: out of memory\n", label);
		if (p != NULL)
			*name = strdup(label);
	} else if ((p = load_bound_to(arg, false, b, out)) != NULL)
		*name = strdup(arg);
	if (p != NULL && *name == NULL) {
		policy_free(p);
		p = NULL;
	}
out:
	free(text);
	strbuf_free(&err);
	return p;
}

/*
 * A diff_source read in a thread of its own, while this one reads the
 * other policy (and, for an apply, lints it): the two parses are
 * independent (each policy has its own arena; the parser, the resolver
 * and the feed store keep no state outside it, and the binding is read
 * before), so with a core idle the second parse costs no wall time.
 * What a job says goes to a buffer, said on stderr by source_wait, where
 * the sequential order says it.  A job is read in source_wait, as
 * before, when no core is idle (base/cores.h: a thread would only wait
 * for its turn) or its buffer cannot be had.
 */
enum source_when {
	SOURCE_LATER = 0,	/* in source_wait */
	SOURCE_NOW,		/* here, what it says kept */
	SOURCE_THREAD,		/* in a thread, what it says kept */
};

struct source_job {
	const char		*arg;
	const struct binding	*b;
	struct policy		*p;
	char			*name;
	bool			 none;
	enum source_when	 when;
	bool			 done;	/* read (atomic: the thread sets it) */
	FILE			*out;	/* what it says, or NULL */
	char			*said;
	size_t			 nsaid;
	pthread_t		 tid;
};

static void *
source_run(void *arg)
{
	struct source_job *j = arg;

	j->p = diff_source(j->arg, &j->name, &j->none, j->b, j->out);
	__atomic_store_n(&j->done, true, __ATOMIC_RELEASE);
	return NULL;
}

/* Whether job j is being read in a thread now. */
static bool
source_running(struct source_job *j)
{
	return j->when == SOURCE_THREAD &&
	    !__atomic_load_n(&j->done, __ATOMIC_ACQUIRE);
}

/* Start reading arg (as diff_source) bound by b, when says how. */
static void
source_start(struct source_job *j, const char *arg, const struct binding *b,
    enum source_when when)
{
	memset(j, 0, sizeof(*j));
	j->arg = arg;
	j->b = b;
	if (when == SOURCE_LATER ||
	    (j->out = open_memstream(&j->said, &j->nsaid)) == NULL)
		return;
	if (when == SOURCE_NOW) {
		source_run(j);
		j->when = SOURCE_NOW;
		return;
	}
	if (pthread_create(&j->tid, NULL, source_run, j) == 0) {
		j->when = SOURCE_THREAD;
		return;
	}
	fclose(j->out);
	free(j->said);
	j->out = NULL;
	j->said = NULL;
}

/* Done reading; what it said, said on stderr when say. */
static void
source_done(struct source_job *j, bool say)
{
	if (j->when == SOURCE_THREAD)
		pthread_join(j->tid, NULL);
	if (j->out != NULL) {
		fclose(j->out);
		if (say && j->said != NULL)
			fwrite(j->said, 1, j->nsaid, stderr);
		free(j->said);
		j->out = NULL;
	}
}

/* What diff_source(arg) returns; what it says, said now.  The caller
 * owns the policy and *name. */
static struct policy *
source_wait(struct source_job *j, char **name, bool *none)
{
	if (j->when == SOURCE_LATER)
		j->p = diff_source(j->arg, &j->name, &j->none, j->b, stderr);
	else
		source_done(j, true);
	*name = j->name;
	*none = j->none;
	return j->p;
}

/* The policy of job j, read now if it was not (what it says kept for
 * source_wait); NULL when it cannot be had. */
static struct policy *
source_policy(struct source_job *j)
{
	if (j->when == SOURCE_LATER) {
		if ((j->out = open_memstream(&j->said, &j->nsaid)) == NULL)
			return NULL;
		source_run(j);
		j->when = SOURCE_NOW;
	} else if (j->when == SOURCE_THREAD) {
		pthread_join(j->tid, NULL);
		j->when = SOURCE_NOW;
	}
	return j->p;
}

/* A job not waited for: its policy, name and words dropped. */
static void
source_drop(struct source_job *j)
{
	source_done(j, false);
	policy_free(j->p);
	free(j->name);
	j->p = NULL;
	j->name = NULL;
}

/* A line saying how dynamic addresses and feed objects were bound, or
 * NULL when neither policy has any. */
static const char *
diff_binding_note(const struct policy *a, const struct policy *b)
{
	bool dyn = policy_ndynamic(a) > 0 || policy_ndynamic(b) > 0;
	bool feeds = policy_nfeeds(a) > 0 || policy_nfeeds(b) > 0;

	if (dyn && feeds)
		return "dynamic interface addresses are what the devices have "
		    "now, and fqdn, url and country objects what the state "
		    "directory keeps (what moatd last put in the kernel), on "
		    "both sides, as moat test and apply take them";
	if (dyn)
		return "dynamic interface addresses are what the devices have "
		    "now, on both sides, as moat test and apply take them";
	if (feeds)
		return "fqdn, url and country objects hold what the state "
		    "directory keeps (what moatd last put in the kernel), on "
		    "both sides, as moat test and apply take them";
	return NULL;
}

/* The changes from a to b, printed (text or JSON) into out: 0 none, 1
 * some, -1 out of memory (said). */
static int
diff_print(const struct policy *a, const char *na, const struct policy *b,
    const char *nb, bool json, size_t cells, long long ms, size_t limit,
    struct strbuf *out)
{
	struct policy_diff d;
	const char *note = diff_binding_note(a, b);
	int rc;

	if (policy_diff_until(a, b, cells, ms, &d) == -1) {
		fputs("moat: diff: out of memory\n", stderr);
		return -1;
	}
	if (json)
		diffprint_json(a, na, b, nb, note, &d, out);
	else
		diffprint_text(a, na, b, nb, note, &d, limit, out);
	rc = d.n > 0 || d.nonly_a > 0 || d.nonly_b > 0 || !d.complete;
	policy_diff_free(&d);
	return rc;
}

static int
cmd_diff(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "running", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	/* In the order given; NULL stands for --running. */
	const char *src[2];
	const struct binding *b;
	struct source_job job[2];
	struct policy *p[2] = { NULL, NULL };
	char *name[2] = { NULL, NULL };
	bool json = false, none;
	struct strbuf out;
	int c, n = 0, i, rc = EXIT_USAGE;

	optind = 1;
	opterr = 0;
	/* "-": keep the order of --running among the files. */
	while ((c = getopt_long(argc, argv, "-h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 1:
		case 'r':
			if (n == 2)
				return usage_error("diff compares two configs, "
				    "not more ('%s')", c == 1 ? optarg :
				    "--running");
			src[n++] = c == 1 ? optarg : NULL;
			break;
		case 'h':
			print_command(command_help("diff"), stdout);
			return 0;
		default:
			return usage_error("diff: %s: unknown option (diff takes "
			    "--json, --running and two configs)",
			    argv[optind - 1]);
		}
	}
	if (n == 0)
		src[n++] = MOAT_DEFAULT_CONF;
	if (n == 1) {		/* from the config in force */
		src[1] = src[0];
		src[0] = NULL;
	}
	/* The first read in a thread while this one reads the second; the
	 * second's words said after the first's, and not at all when the
	 * first cannot be read (it would not have been read). */
	b = binding();
	source_start(&job[0], src[0], b, cores_idle() > 0 ? SOURCE_THREAD :
	    SOURCE_LATER);
	source_start(&job[1], src[1], b, job[0].when == SOURCE_THREAD ?
	    SOURCE_NOW : SOURCE_LATER);
	for (i = 0; i < 2; i++)
		if ((p[i] = source_wait(&job[i], &name[i], &none)) == NULL) {
			if (none)
				fprintf(stderr, "moat: diff: nothing is in force "
				    "(moat history has no config applied); "
				    "compare two files or entries\n");
			if (i == 0)
				source_drop(&job[1]);
			goto out;
		}
	strbuf_init(&out, 0);
	rc = diff_print(p[0], name[0], p[1], name[1], json, DIFF_CELLS_MAX, 0, 0,
	    &out);
	if (write_out(&out) != 0 || rc == -1)
		rc = EXIT_USAGE;
out:
	for (i = 0; i < 2; i++) {
		policy_free(p[i]);
		free(name[i]);
	}
	return rc;
}

/* What applying p changes, printed before it is loaded: against the
 * config in force (job: diff_source(NULL), bound as p is).  Nothing in
 * force: the whole of p is new. */
static void
apply_summary(const struct policy *p, struct source_job *job,
    struct strbuf *out)
{
	struct policy *was;
	char *name = NULL;
	bool none;

	if ((was = source_wait(job, &name, &none)) == NULL) {
		strbuf_printf(out, "moat: %s\n", none ? "nothing is in force "
		    "yet: every flow is decided by the new policy" :
		    "the config in force cannot be compared (above)");
		return;
	}
	strbuf_puts(out, "moat: what this apply changes: ");
	diff_print(was, name, p, p->file, false, APPLY_CELLS_MAX,
	    APPLY_DIFF_MS, APPLY_REGIONS, out);
	policy_free(was);
	free(name);
}

static int
report(int rc, struct strbuf *msg, struct strbuf *err)
{
	const char *m;
	size_t n;

	/* (a warning among the news on stderr, where it is seen, in its
	 * place among them when both go to one file) */
	for (m = strbuf_str(msg); *m != '\0'; m += n) {
		n = strcspn(m, "\n");
		n += m[n] == '\n';
		if (strncmp(m, APPLY_WARNING, strlen(APPLY_WARNING)) == 0) {
			fflush(stdout);
			fwrite(m, 1, n, stderr);
		} else
			fwrite(m, 1, n, stdout);
	}
	if (rc == -1)
		fprintf(stderr, "moat: %s\n", strbuf_str(err));
	strbuf_free(msg);
	strbuf_free(err);
	return rc == -1 ? EXIT_USAGE : 0;
}

/*
 * The ruleset compiled in a thread of its own while this one lints p and
 * says what the apply changes: nftc_compile only reads p (through a
 * const pointer; its memory is its own arena's and the buffer's), and
 * what the others write of p (lint: the rules' dead flags, the findings
 * and their arena; the summary: nothing) it does not read.  Without a
 * thread it compiles in compile_wait, where apply_policy would.  It has
 * one when a core is idle (base/cores.h), or when the parse of the config
 * in force is still running in the thread the apply's start found a core
 * for: that parse ends soon (lint's memo and the summary wait for it),
 * and the compile takes its core.  Asked while it ran,
 * a machine of two cores seldom had one idle, and the compile mostly went
 * after the check and the summary (incremental.md, "The compile beside
 * the check").
 */
struct compile_job {
	const struct policy	*p;
	struct strbuf		 script;
	long long		 ms;
	int			 rc;
	pthread_t		 tid;
	bool			 started;
};

static void *
compile_run(void *arg)
{
	struct compile_job *j = arg;
	long long t = clock_ms();

	j->rc = nftc_compile(j->p, &j->script);
	j->ms = clock_ms() - t;
	return NULL;
}

static void
compile_start(struct compile_job *j, const struct policy *p, bool beside)
{
	memset(j, 0, sizeof(*j));
	j->p = p;
	strbuf_init(&j->script, 0);
	j->started = (beside || cores_idle() > 0) &&
	    pthread_create(&j->tid, NULL, compile_run, j) == 0;
}

/* The compiled ruleset (NULL: out of memory), its time in *ms. */
static struct strbuf *
compile_wait(struct compile_job *j, long long *ms)
{
	if (j->started)
		pthread_join(j->tid, NULL);
	else
		compile_run(j);
	j->started = false;
	*ms = j->ms;
	return j->rc == 0 ? &j->script : NULL;
}

static int
cmd_apply(const char *path, bool dry_run, bool whole, unsigned confirm,
    bool timing)
{
	struct apply_phases ph;
	struct lint_stats st;
	struct lint_memo lm = { .tag = moat_version() };
	struct source_job was;
	struct compile_job cj;
	struct strbuf *script, memo;
	char *memo_in;
	const struct binding *b;
	struct policy *p;
	struct strbuf msg, err;
	long long t0 = clock_ms(), parse, lint, diff, compile_ms;
	long kb, child_kb;
	size_t i, nwarn;
	int rc;

	/* The config in force, for the summary, read meanwhile. */
	b = binding();
	source_start(&was, NULL, b, cores_idle() > 0 ? SOURCE_THREAD :
	    SOURCE_LATER);
	if ((p = load_bound(path, true, b)) == NULL) {
		source_drop(&was);
		return EXIT_USAGE;
	}
	parse = clock_ms() - t0;
	if (host_note_devices(p) > 0)
		for (i = 0; i < p->diags.n; i++)
			if (p->diags.v[i].severity == DIAG_NOTE) {
				char buf[1400];

				diag_format(&p->diags.v[i], buf, sizeof(buf));
				fprintf(stderr, "%s\n", buf);
			}
	/* The ruleset compiled meanwhile. */
	compile_start(&cj, p, source_running(&was));
	/* What moat check says, counted: an apply is not refused for it.
	 * What lint found of the config in force is reused where an edit
	 * cannot change it (lint.h), and what it finds now is kept for the
	 * next apply. */
	nwarn = p->diags.nwarnings;
	lint = clock_ms();
	strbuf_init(&memo, 0);
	lm.out = &memo;
	if ((memo_in = apply_lint_memo(apply_state_dir(), APPLY_MEMO_IN_FORCE,
	    &lm.inlen)) !=
	    NULL && (lm.old = source_policy(&was)) != NULL)
		lm.in = memo_in;
	rc = lint_policy_memo(p, &st, &lm);
	free(memo_in);
	if (rc == -1) {
		fputs("moat: out of memory\n", stderr);
		source_drop(&was);
		compile_wait(&cj, &compile_ms);
		strbuf_free(&cj.script);
		strbuf_free(&memo);
		policy_free(p);
		return EXIT_USAGE;
	}
	lint = clock_ms() - lint;
	if (p->diags.nwarnings > nwarn)
		fprintf(stderr, "moat: %s: %zu warning%s (moat check says "
		    "which)\n", p->file, p->diags.nwarnings - nwarn,
		    p->diags.nwarnings - nwarn == 1 ? "" : "s");
	strbuf_init(&msg, 0);
	strbuf_init(&err, 0);
	/* Which flows change, said before anything is loaded. */
	diff = clock_ms();
	apply_summary(p, &was, &msg);
	diff = clock_ms() - diff;
	fputs(strbuf_str(&msg), stdout);
	fflush(stdout);
	strbuf_reset(&msg);
	/* Record the text that was checked, byte for byte. */
	script = compile_wait(&cj, &compile_ms);
	rc = apply_policy_compiled(apply_state_dir(), p, p->text, p->len,
	    (dry_run ? APPLY_DRY_RUN : 0) | (whole ? APPLY_WHOLE : 0),
	    confirm, script, compile_ms, &ph, &msg, &err);
	strbuf_free(&cj.script);
	/* What moat accepts, another table may still drop: said where the
	 * admin looks (doc/design/other-tables.md). */
	if (rc == 0 && !dry_run)
		foreign_notes(&msg);
	if (rc == 0 && !dry_run && !memo.failed)
		(void)apply_lint_memo_keep(apply_state_dir(),
		    APPLY_MEMO_IN_FORCE, strbuf_str(&memo), memo.len);
	strbuf_free(&memo);
	if (!dry_run && !ph.incremental && ph.why[0] != '\0')
		fprintf(stderr, "moat: whole apply: %s\n", ph.why);
	if (timing) {
		kb = peak_kb(&child_kb);
		fprintf(stderr, "moat: timing: %s apply: parse %lld ms, check "
		    "%lld ms (%zu rules found as before, %zu checked), diff "
		    "%lld ms, compile %lld ms (%zu bytes of nft), "
		    "drift check %lld ms, difference %lld ms (%zu bytes), "
		    "history %lld ms, kernel %lld ms%s%s%s, drift fingerprint "
		    "%lld ms, total %lld ms; peak memory %ld kB, of the "
		    "kernel's child %ld kB\n", ph.incremental ? "incremental" :
		    "whole", parse, lint, lm.reused, lm.checked, diff,
		    ph.compile, ph.script, ph.drift,
		    ph.diff, ph.delta, ph.record, ph.kernel, ph.how[0] != '\0' ?
		    " (" : "", ph.how, ph.how[0] != '\0' ? ")" : "",
		    ph.fingerprint, clock_ms() - t0, kb, child_kb);
	}
	for (i = 0; rc == 0 && i < p->niface; i++)
		if (p->ifaces[i]->dynamic) {
			strbuf_reset(&err);
			bound_text(p->ifaces[i], &err);
			strbuf_printf(&msg, "moat: %s's address is dynamic: %s "
			    "and %sNET hold what %s has now (%s); moatd keeps "
			    "them current\n", p->ifaces[i]->name,
			    p->ifaces[i]->ip_obj->name, p->ifaces[i]->name,
			    p->ifaces[i]->device, strbuf_str(&err));
		}
	policy_free(p);
	return report(rc, &msg, &err);
}

/* What an earlier apply --confirm left, settled first (apply.h): a
 * deadline that passed while nobody watched is honoured now. */
static void
recover(void)
{
	struct strbuf msg, err;

	strbuf_init(&msg, 0);
	strbuf_init(&err, 0);
	if (apply_recover(apply_state_dir(), &msg, &err) == -1)
		fprintf(stderr, "moat: %s\n", strbuf_str(&err));
	fputs(strbuf_str(&msg), stdout);
	strbuf_free(&msg);
	strbuf_free(&err);
}

static int
cmd_history(void)
{
	struct history_entry *v;
	struct strbuf err;
	size_t n, i;

	recover();
	strbuf_init(&err, 0);
	if (apply_history(apply_state_dir(), &v, &n, &err) == -1) {
		fprintf(stderr, "moat: %s\n", strbuf_str(&err));
		strbuf_free(&err);
		return EXIT_USAGE;
	}
	strbuf_free(&err);
	for (i = 0; i < n; i++) {
		char when[32];
		struct tm tm;

		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S",
		    localtime_r(&v[i].when, &tm));
		printf("%4u  %s  %-8s  %016llx  %s\n", v[i].seq, when,
		    v[i].what, (unsigned long long)v[i].hash, v[i].file);
	}
	if (n == 0)
		puts("nothing applied yet");
	free(v);
	return 0;
}

/* One line from standard input; on a terminal, asked without echo. */
static int
read_password(const char *prompt, char *buf, size_t len)
{
	struct termios t, quiet;
	bool tty = isatty(STDIN_FILENO);
	int rc = 0;

	if (tty) {
		fputs(prompt, stderr);
		tcgetattr(STDIN_FILENO, &t);
		quiet = t;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	if (fgets(buf, (int)len, stdin) == NULL)
		rc = -1;
	else
		buf[strcspn(buf, "\r\n")] = '\0';
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &t);
		fputc('\n', stderr);
	}
	return rc;
}

static int
cmd_passwd(int argc, char **argv)
{
	const char *file = USERS_DEFAULT;
	char pw[256], again[256], err[512];
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt(argc, argv, "f:")) != -1)
		if (c == 'f')
			file = optarg;
		else
			return usage_error("passwd takes -f USERSFILE and a user "
			    "name%s", "");
	if (optind != argc - 1)
		return usage_error("passwd takes a user name%s", "");
	if (read_password("password: ", pw, sizeof(pw)) == -1)
		return usage_error("passwd: no password on standard input%s",
		    "");
	if (isatty(STDIN_FILENO) && (read_password("again: ", again,
	    sizeof(again)) == -1 || strcmp(pw, again) != 0)) {
		fputs("moat: passwd: the two differ; nothing changed\n", stderr);
		return EXIT_USAGE;
	}
	if (users_set(file, argv[optind], pw, err, sizeof(err)) == -1) {
		fprintf(stderr, "moat: passwd: %s; nothing changed\n", err);
		return EXIT_USAGE;
	}
	printf("moat: %s: password of %s set\n", file, argv[optind]);
	return 0;
}

/* moat status [--json]: observe/status.c gathers and prints it. */
static int
cmd_status(bool json)
{
	struct status_where w = { .state = apply_state_dir(),
	    .run = logfile_run_dir(), .conf = MOAT_DEFAULT_CONF,
	    .foreign = true };
	char ha[4096];
	struct gw_status st;
	struct strbuf b, err;
	int rc = 0;

	recover();
	snprintf(ha, sizeof(ha), "%s/" HA_STATUS_FILE, logfile_run_dir());
	w.ha_file = ha;
	strbuf_init(&b, 0);
	strbuf_init(&err, 0);
	if (status_collect(&w, &st, &err) == -1) {
		fprintf(stderr, "moat: %s\n", strbuf_str(&err));
		strbuf_free(&err);
		return EXIT_USAGE;
	}
	if (json) {
		json_t *o = status_json(&st);
		char *text = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);

		if (text != NULL)
			strbuf_printf(&b, "%s\n", text);
		free(text);
		json_decref(o);
	} else
		status_text(&st, &b);
	/* A policy in force whose kernel cannot be asked is an error. */
	if (!st.have_ctr && st.p != NULL && st.drift != DRIFT_NO_TABLE) {
		fprintf(stderr, "moat: %s\n", st.ctr_err);
		rc = EXIT_USAGE;
	}
	if (write_out(&b) != 0)
		rc = EXIT_USAGE;
	status_free(&st);
	strbuf_free(&err);
	return rc;
}

/* moat objects [NAME] [--json]: the feed objects moatd follows. */
static int
cmd_objects(const char *name, bool json)
{
	struct status_where w = { .state = apply_state_dir(),
	    .run = logfile_run_dir() };
	struct gw_status st;
	struct strbuf b, err;
	int rc = 0;

	strbuf_init(&b, 0);
	strbuf_init(&err, 0);
	if (status_collect(&w, &st, &err) == -1) {
		fprintf(stderr, "moat: %s\n", strbuf_str(&err));
		strbuf_free(&err);
		return EXIT_USAGE;
	}
	if (json) {
		json_t *arr = st.feeds != NULL ? json_object_get(st.feeds,
		    "objects") : NULL, *o, *out = json_array();
		size_t i;
		char *text;

		json_array_foreach(arr, i, o)
			if (name == NULL || (json_string_value(json_object_get(o,
			    "name")) != NULL && strcmp(json_string_value(
			    json_object_get(o, "name")), name) == 0))
				json_array_append(out, o);
		if (name != NULL && json_array_size(out) == 0)
			rc = 1;
		text = json_dumps(out, JSON_INDENT(2) | JSON_SORT_KEYS);
		if (text != NULL)
			strbuf_printf(&b, "%s\n", text);
		free(text);
		json_decref(out);
	} else if (status_feeds_text(&st, name, &b) == -1)
		rc = 1;
	if (rc == 1)
		fprintf(stderr, "moat: %s is not a feed object moatd follows "
		    "(fqdn, url or country, in the config in force)\n", name);
	if (write_out(&b) != 0)
		rc = EXIT_USAGE;
	status_free(&st);
	strbuf_free(&err);
	return rc;
}

static int
cmd_probe(int argc, char **argv, const char *from, const char *timeout)
{
	static const char *const what[] = { "connected", "refused",
	    "timed out", "error" };
	static const int status[] = { 0, 1, 3, 2 };
	enum probe_result r;
	char banner[512], err[256];
	unsigned port = 25, secs = 5;

	if (argc < 1 || argc > 2)
		return usage_error("probe needs HOST [PORT]%s", "");
	if (argc == 2 && (flow_parse_number(argv[1], 65535, &port) == -1 ||
	    port == 0))
		return usage_error("'%s' is not a port", argv[1]);
	if (timeout != NULL && (flow_parse_number(timeout, 3600, &secs) == -1 ||
	    secs == 0))
		return usage_error("'%s' is not a timeout in seconds", timeout);
	err[0] = '\0';
	r = probe_tcp(argv[0], port, from, (int)secs * 1000, 2000, banner,
	    sizeof(banner), err, sizeof(err));
	printf("%s:%u %s", argv[0], port, what[r]);
	if (r == PROBE_CONNECTED && banner[0] != '\0')
		printf(": %s", banner);
	else if (r != PROBE_CONNECTED && err[0] != '\0')
		printf(" (%s)", err);
	putchar('\n');
	return status[r];
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "nft", no_argument, NULL, 'n' },
		{ "in", required_argument, NULL, 'i' },
		{ "src", required_argument, NULL, 's' },
		{ "dst", required_argument, NULL, 'd' },
		{ "service", required_argument, NULL, 'S' },
		{ "proto", required_argument, NULL, 'p' },
		{ "dport", required_argument, NULL, 'P' },
		{ "type", required_argument, NULL, 't' },
		{ "dry-run", no_argument, NULL, 'D' },
		{ "timing", no_argument, NULL, 'M' },
		{ "whole", no_argument, NULL, 'H' },
		{ "batch", required_argument, NULL, 'B' },
		{ "threads", required_argument, NULL, 'R' },
		{ "at", required_argument, NULL, 'W' },
		{ "confirm", required_argument, NULL, 'C' },
		{ "from", required_argument, NULL, 'F' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "offline", no_argument, NULL, 'O' },
		{ "addr", required_argument, NULL, 'A' },
		{ "object", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct test_args ta = { 0 };
	const char *path = MOAT_DEFAULT_CONF, *cmd, *confirm = NULL;
	const char *from = NULL, *timeout = NULL;
	bool dry_run = false, any_file = false, offline = false;
	bool timing = false, whole = false;
	unsigned confirm_secs = 0;
	int c;

	if (argc < 2)
		return usage_error("no command given%s", "");
	cmd = argv[1];
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
		printf("moat %s\n", moat_version());
		return 0;
	}
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 ||
	    strcmp(cmd, "-h") == 0) {
		const struct command_help *h;

		if (argc < 3 || strcmp(cmd, "help") != 0) {
			print_usage(stdout);
			return 0;
		}
		if ((h = command_help(argv[2])) == NULL)
			return usage_error("no command '%s'", argv[2]);
		print_command(h, stdout);
		return 0;
	}
	if (command_help(cmd) == NULL)
		return usage_error("unknown command '%s'", cmd);
	/* Its own options: -f follows there. */
	if (strcmp(cmd, "log") == 0)
		return cmd_log(argc - 1, argv + 1);
	if (strcmp(cmd, "mail-log") == 0)
		return cmd_mail_log(argc - 1, argv + 1);
	if (strcmp(cmd, "trace") == 0)
		return cmd_trace(argc - 1, argv + 1);
	if (strcmp(cmd, "passwd") == 0)
		return cmd_passwd(argc - 1, argv + 1);
	if (strcmp(cmd, "diff") == 0)
		return cmd_diff(argc - 1, argv + 1);
	if (strcmp(cmd, "import") == 0)
		return cmd_import(argc - 1, argv + 1);
	optind = 2;
	opterr = 0;		/* one line of ours instead */
	while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f': path = optarg; any_file = true; break;
		case 'D': dry_run = true; break;
		case 'M': timing = true; break;
		case 'H': whole = true; break;
		case 'O': offline = true; break;
		case 'A':
			if (add_given(optarg) != 0)
				return EXIT_USAGE;
			break;
		case 'o':
			if (add_given_object(optarg) != 0)
				return EXIT_USAGE;
			break;
		case 'B': ta.batch = optarg; break;
		case 'R': ta.threads = optarg; break;
		case 'W': ta.at = optarg; break;
		case 'C': confirm = optarg; break;
		case 'F': from = optarg; break;
		case 'T': timeout = optarg; break;
		case 'j': ta.json = true; break;
		case 'n': ta.nft = true; break;
		case 'i': ta.in = optarg; break;
		case 's': ta.src = optarg; break;
		case 'd': ta.dst = optarg; break;
		case 'S': ta.service = optarg; break;
		case 'p': ta.proto = optarg; break;
		case 'P': ta.dport = optarg; break;
		case 't': ta.type = optarg; break;
		case 'h': print_command(command_help(cmd), stdout); return 0;
		default: return usage_error("%s: unknown option, or one "
		    "without its value", argv[optind - 1]);
		}
	}
	if (strcmp(cmd, "probe") == 0)
		return cmd_probe(argc - optind, argv + optind, from, timeout);
	if (optind < argc && strcmp(cmd, "objects") != 0)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (given.n > 0 && strcmp(cmd, "test") != 0)
		return usage_error("--addr goes with test%s", "");
	if (ngiven_obj > 0 && strcmp(cmd, "test") != 0)
		return usage_error("--object goes with test%s", "");
	if (strcmp(cmd, "objects") == 0) {
		if (any_file || optind + 1 < argc || ta.nft || ta.in)
			return usage_error("objects takes [NAME] [--json]%s", "");
		return cmd_objects(optind < argc ? argv[optind] : NULL, ta.json);
	}
	if (offline && strcmp(cmd, "check") != 0)
		return usage_error("--offline goes with check%s", "");
	ta.timing = timing && strcmp(cmd, "test") == 0 && ta.batch != NULL;
	if ((dry_run || (timing && !ta.timing) || whole) &&
	    strcmp(cmd, "apply") != 0)
		return usage_error("--dry-run, --timing and --whole go with "
		    "apply (and --timing with test --batch)%s", "");
	if (confirm != NULL && strcmp(cmd, "apply") != 0 &&
	    strcmp(cmd, "rollback") != 0)
		return usage_error("--confirm goes with apply and rollback%s",
		    "");
	if (confirm != NULL && (flow_parse_number(confirm, 86400,
	    &confirm_secs) == -1 || confirm_secs == 0))
		return usage_error("--confirm takes seconds, 1 to 86400, not "
		    "'%s'", confirm);
	if (strcmp(cmd, "apply") == 0) {
		if (dry_run && confirm != NULL)
			return usage_error("--dry-run changes nothing to "
			    "confirm%s", "");
		return cmd_apply(path, dry_run, whole, confirm_secs, timing);
	}
	if (strcmp(cmd, "metrics") == 0) {
		struct strbuf b, err;
		int rc;

		if (any_file || argc > 2)
			return usage_error("metrics takes no options%s", "");
		strbuf_init(&b, 0);
		strbuf_init(&err, 0);
		rc = metrics_collect(apply_state_dir(), logfile_run_dir(), &b,
		    &err);
		if (rc == -1)
			fprintf(stderr, "moat: metrics: %s\n", strbuf_str(&err));
		strbuf_free(&err);
		return write_out(&b) != 0 || rc == -1 ? EXIT_USAGE : 0;
	}
	if (strcmp(cmd, "confirm") == 0 || strcmp(cmd, "rollback") == 0 ||
	    strcmp(cmd, "history") == 0 || strcmp(cmd, "status") == 0) {
		struct strbuf msg, err;

		if (any_file)
			return usage_error("%s takes no -f", cmd);
		if (cmd[0] == 'h')
			return cmd_history();
		if (cmd[0] == 's')
			return cmd_status(ta.json);
		strbuf_init(&msg, 0);
		strbuf_init(&err, 0);
		return report(cmd[0] == 'c' ? apply_confirm(apply_state_dir(),
		    &msg, &err) : apply_restore_confirm(apply_state_dir(), 0,
		    confirm_secs, &msg, &err), &msg, &err);
	}
	if (strcmp(cmd, "check") == 0 || strcmp(cmd, "show") == 0) {
		if (ta.in || ta.src || ta.dst || ta.service || ta.proto ||
		    ta.dport || ta.type || ((ta.json || ta.nft) &&
		    cmd[0] == 'c') || (ta.json && ta.nft))
			return usage_error("%s takes only -f (and show "
			    "--json or --nft)", cmd);
		return cmd[0] == 'c' ? cmd_check(path, offline) : cmd_show(path,
		    ta.json, ta.nft);
	}
	if (strcmp(cmd, "test") == 0)
		return ta.batch != NULL ? cmd_batch(path, &ta) :
		    cmd_test(path, &ta);
	return usage_error("unknown command '%s'", cmd);
}
