/* logcmd.c: `moat log`: the records of firewall.jsonl (and its rotated
 * files, oldest first) that pass the filters, in moat's words or as
 * they are (--json); -f goes on with new ones as moatd writes them. */
#include "cli/logcmd.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/addr.h"
#include "observe/fwlog.h"
#include "observe/logfile.h"
#include "observe/mailstats.h"
#include "policy/load.h"

struct filter {
	int		 rule;		/* 0: any; -1: defaults only */
	bool		 src_set, dst_set;
	u128		 src_lo, src_hi, dst_lo, dst_hi;
	enum addr_family src_fam, dst_fam;	/* of the network asked */
	time_t		 since;
	bool		 json;
	unsigned long	 shown;
};

static volatile int stop;

static void
on_int(int sig)
{
	(void)sig;
	stop = 1;
}

/* An address, network or range and its family: an IPv6 one never takes an
 * IPv4 record (base/addr.h). */
static int
parse_range(const char *s, u128 *lo, u128 *hi, enum addr_family *fam)
{
	struct addr_lit lit;
	char err[200], hint[100];

	if (addr_parse_lit(s, false, &lit, err, sizeof(err), hint,
	    sizeof(hint)) == -1) {
		fprintf(stderr, "moat: log: %s%s%s\n", err, hint[0] ? "; " : "",
		    hint);
		return -1;
	}
	*lo = lit.lo;
	*hi = lit.hi;
	*fam = lit.family;
	return 0;
}

/* 10m, 2h, 1d ago; HH:MM[:SS] today; YYYY-MM-DD[ HH:MM[:SS]] or the ISO
 * form with T. */
static int
parse_since(const char *s, time_t *out)
{
	time_t now = time(NULL);
	struct tm tm;
	char *end;
	long n = strtol(s, &end, 10);
	const char *fmts[] = { "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S",
	    "%Y-%m-%d %H:%M", "%Y-%m-%d", "%H:%M:%S", "%H:%M" };
	size_t i;

	if (end != s && n >= 0 && end[0] != '\0' && end[1] == '\0' &&
	    strchr("smhd", end[0]) != NULL) {
		*out = now - n * (end[0] == 's' ? 1 : end[0] == 'm' ? 60 :
		    end[0] == 'h' ? 3600 : 86400);
		return 0;
	}
	for (i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		localtime_r(&now, &tm);
		tm.tm_sec = 0;
		if ((end = strptime(s, fmts[i], &tm)) != NULL &&
		    (*end == '\0' || *end == 'Z')) {
			if (i < 4 && strchr(fmts[i], 'H') == NULL)
				tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
			tm.tm_isdst = -1;
			*out = *end == 'Z' ? timegm(&tm) : mktime(&tm);
			return 0;
		}
	}
	fprintf(stderr, "moat: log: --since takes 10m, 2h, 1d, HH:MM or "
	    "YYYY-MM-DD[ HH:MM], not '%s'\n", s);
	return -1;
}

static void
show(void *arg, const char *line)
{
	struct filter *f = arg;
	struct fwlog_rec r;
	struct strbuf b;

	if (fwlog_parse(line, &r) == -1)
		return;		/* not a record: skipped, never fatal */
	if ((f->rule > 0 && r.rule != f->rule) || (f->rule < 0 && r.rule > 0) ||
	    (f->src_set && (r.src < f->src_lo || r.src > f->src_hi ||
	    addr_family_of(r.src) != f->src_fam)) ||
	    (f->dst_set && (r.dst < f->dst_lo || r.dst > f->dst_hi ||
	    addr_family_of(r.dst) != f->dst_fam)) ||
	    r.when.tv_sec < f->since)
		return;
	f->shown++;
	if (f->json) {
		puts(line);
		return;
	}
	strbuf_init(&b, 0);
	fwlog_text(&r, &b);
	puts(strbuf_str(&b));
	strbuf_free(&b);
}

/* The log directory: $MOAT_LOG_DIR, else the one the default config
 * names, else the default. */
static const char *
log_dir(char *buf, size_t len)
{
	char err[256];
	struct policy *p = getenv("MOAT_LOG_DIR") == NULL ?
	    policy_load(MOAT_DEFAULT_CONF, err, sizeof(err)) : NULL;

	snprintf(buf, len, "%s", logfile_dir(p != NULL && policy_valid(p) ?
	    p->logging.directory : NULL));
	policy_free(p);
	return buf;
}

/* The log's records through fn, then (follow) those that come, until
 * interrupted.  none: the message when there is no log, %s the
 * directory. */
static int
show_log(const char *name, void (*fn)(void *, const char *), struct filter *f,
    bool follow, const char *cmd, const char *none)
{
	char dir[4096];

	log_dir(dir, sizeof(dir));
	if (logfile_read(dir, name, fn, f) == -1 && !follow) {
		fprintf(stderr, "moat: %s: ", cmd);
		fprintf(stderr, none, dir);
		fputc('\n', stderr);
		return 1;
	}
	if (follow) {
		signal(SIGINT, on_int);
		signal(SIGTERM, on_int);
		signal(SIGPIPE, on_int);
		fflush(stdout);
		logfile_follow(dir, name, fn, f, &stop);
	}
	return 0;
}

/* A mail.jsonl record: --since applies, then words or JSON. */
static void
show_mail(void *arg, const char *line)
{
	struct filter *f = arg;
	struct strbuf b;
	struct tm tm;
	const char *t = strstr(line, "\"time\":\"");

	memset(&tm, 0, sizeof(tm));
	if (f->since > 0 && (t == NULL || strptime(t + 8,
	    "%Y-%m-%dT%H:%M:%S", &tm) == NULL || timegm(&tm) < f->since))
		return;
	strbuf_init(&b, 0);
	if (mailstats_text(line, &b) == 0) {
		f->shown++;
		puts(f->json ? line : strbuf_str(&b));
	}
	strbuf_free(&b);
}

int
cmd_mail_log(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "follow", no_argument, NULL, 'f' },
		{ "since", required_argument, NULL, 'S' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct filter f = { 0 };
	bool follow = false;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
		switch (c) {
		case 'f': follow = true; break;
		case 'j': f.json = true; break;
		case 'S':
			if (parse_since(optarg, &f.since) == -1)
				return 2;
			break;
		case 'h':
			puts("usage: moat mail-log [-f] [--since TIME] [--json]");
			return 0;
		default:
			fprintf(stderr, "moat: mail-log: %s: unknown option, or "
			    "one without its value\nsee 'moat --help'\n",
			    argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "moat: mail-log: unexpected argument '%s'\n",
		    argv[optind]);
		return 2;
	}
	return show_log(MAILLOG_FILE, show_mail, &f, follow, "mail-log",
	    "no mail log in %s (moatd writes it for each message its SMTP "
	    "proxy handles)");
}

int
cmd_log(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "follow", no_argument, NULL, 'f' },
		{ "rule", required_argument, NULL, 'r' },
		{ "src", required_argument, NULL, 's' },
		{ "dst", required_argument, NULL, 'd' },
		{ "since", required_argument, NULL, 'S' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct filter f = { 0 };
	bool follow = false;
	char *end;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
		switch (c) {
		case 'f': follow = true; break;
		case 'j': f.json = true; break;
		case 'r':
			if (strcmp(optarg, "default") == 0) {
				f.rule = -1;
				break;
			}
			f.rule = (int)strtol(optarg, &end, 10);
			if (*end != '\0' || f.rule <= 0) {
				fprintf(stderr, "moat: log: --rule takes a rule "
				    "number or 'default', not '%s'\n", optarg);
				return 2;
			}
			break;
		case 's':
			if (parse_range(optarg, &f.src_lo, &f.src_hi,
			    &f.src_fam) == -1)
				return 2;
			f.src_set = true;
			break;
		case 'd':
			if (parse_range(optarg, &f.dst_lo, &f.dst_hi,
			    &f.dst_fam) == -1)
				return 2;
			f.dst_set = true;
			break;
		case 'S':
			if (parse_since(optarg, &f.since) == -1)
				return 2;
			break;
		case 'h':
			puts("usage: moat log [-f] [--rule N|default] [--src ADDR] "
			    "[--dst ADDR] [--since TIME] [--json]");
			return 0;
		default:
			fprintf(stderr, "moat: log: %s: unknown option, or one "
			    "without its value\nsee 'moat --help'\n",
			    argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "moat: log: unexpected argument '%s'\n",
		    argv[optind]);
		return 2;
	}
	return show_log(FWLOG_FILE, show, &f, follow, "log", "no firewall "
	    "log in %s (moatd writes it when rules with log, or a default "
	    "that logs, match)");
}
