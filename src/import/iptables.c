/* iptables.c: the output of iptables-save as a moat.conf.
 *
 * The filter table's INPUT and FORWARD chains become each interface's
 * rules (user chains inlined at their jumps), their policies the
 * interfaces' defaults; the nat table's MASQUERADE and SNAT become
 * nat lines, its DNAT port forwards.  iptables-save holds no addresses,
 * so every interface is `address dynamic`.  What cannot be carried is a
 * note naming its line.  doc/design/import.md has the mapping.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/addr.h"
#include "import/emit.h"
#include "import/import.h"
#include "import/proof.h"
#include "policy/load.h"

#define MAX_DEVS	64
#define MAX_DEPTH	16
#define MAX_LINE	65536
#define MAX_STEPS	20000	/* rules walked through all the jumps */
/* Rule lines written, all interfaces.  The fuzzer's build lowers it
 * (scripts/fuzz.sh): the same code past the cap, without a run of
 * seconds for each small file that unfolds into 100,000 lines. */
#ifndef IMPORT_MAX_FLAT
#define IMPORT_MAX_FLAT	100000
#endif
#define MAX_FLAT	IMPORT_MAX_FLAT

enum chain_kind {
	CK_INPUT = 0,
	CK_FORWARD,
	CK_OTHER,
};

/* One -A line, its matches as read. */
struct irule {
	unsigned	 line;
	const char	*in, *out;
	bool		 in_neg, out_neg;
	const char	*src, *dst;	/* moat's form */
	bool		 src_neg, dst_neg;
	int		 src_fam, dst_fam;
	const char	*proto;
	const char	*dports;	/* "80,443,1000-2000" */
	const char	*icmptype;
	const char	*states;	/* upper case, commas */
	bool		 dst_local;
	const char	*comment;
	const char	*target;
	const char	*to;		/* --to-source, --to-destination */
	const char	*why;		/* a match moat cannot say */
	bool		 goto_;
	/* for the report, read once (cook()) */
	bool		 cooked;
	u128		 slo, shi, dlo, dhi;
	int		 pn;		/* protocol, -1 any, -2 unknown */
	struct { unsigned lo, hi; } *pr;	/* --dport(s) */
	size_t		 npr;
	int		 icmp;		/* -1: any */
	const char	*where;
	const struct ichain *sub;	/* a user chain jumped to */
};

struct ichain {
	const char	*table;
	const char	*name;
	const char	*policy;	/* "-" for a user chain */
	unsigned	 line;
	struct irule	**rules;
	size_t		 n, cap;
};

struct dev {
	const char	*name;		/* the Linux device */
	const char	*moat;		/* its interface's name */
	bool		 nat;		/* named by MASQUERADE or SNAT: the WAN */
	bool		 noted_out;
	struct strbuf	 rules;
};

struct ipt {
	struct emit	 e;
	struct ichain	*chains;
	size_t		 nchain, capchain;
	struct dev	 devs[MAX_DEVS];
	size_t		 ndev;
	const char	*gw;		/* the object of every XIP, once made */
	struct strbuf	 s_obj, s_nat, s_fwd, s_own;
	bool		 has_filter;
	size_t		 steps;		/* rules walked, against blowups */
	size_t		 nflat;		/* rule lines written */
	bool		*noted;		/* by line: a note said already */
	unsigned	 nlines;
};

static const char *
at(struct ipt *t, unsigned line)
{
	return arena_printf(t->e.a, "line %u", line);
}

/* A note about line, once: a rule inlined at several jumps is noted
 * once. */
static void
note_line(struct ipt *t, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
note_line(struct ipt *t, unsigned line, const char *fmt, ...)
{
	va_list ap;
	char msg[600];

	if (t->noted != NULL && line <= t->nlines) {
		if (t->noted[line])
			return;
		t->noted[line] = true;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	emit_note(&t->e, at(t, line), "%s", msg);
}

static struct ichain *
chain_find(struct ipt *t, const char *table, const char *name)
{
	size_t i;

	for (i = 0; i < t->nchain; i++)
		if (strcmp(t->chains[i].table, table) == 0 &&
		    strcmp(t->chains[i].name, name) == 0)
			return &t->chains[i];
	return NULL;
}

static struct dev *
dev_find(struct ipt *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->ndev; i++)
		if (strcmp(t->devs[i].name, name) == 0)
			return &t->devs[i];
	return NULL;
}

/* The words of a line: spaces apart, "..." quoted with \" and \\. */
static size_t
split(struct ipt *t, const char *s, const char **w, size_t max)
{
	size_t n = 0;

	while (*s != '\0' && n < max) {
		struct strbuf b;

		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0')
			break;
		strbuf_init(&b, MAX_LINE);
		if (*s == '"') {
			for (s++; *s != '\0' && *s != '"'; s++) {
				if (*s == '\\' && s[1] != '\0')
					s++;
				strbuf_putc(&b, *s);
			}
			if (*s == '"')
				s++;
		} else
			for (; *s != '\0' && *s != ' ' && *s != '\t'; s++)
				strbuf_putc(&b, *s);
		w[n++] = arena_strdup(t->e.a, strbuf_str(&b));
		strbuf_free(&b);
	}
	return n;
}

/* A port list of iptables (N, N:M, commas) as moat's items. */
static const char *
ports(struct ipt *t, const char *s)
{
	struct strbuf b;
	const char *p = s, *w, *r = NULL;
	size_t n = 0;

	strbuf_init(&b, 0);
	while ((w = emit_word(&t->e, &p)) != NULL) {
		char *e;
		unsigned long lo, hi;

		if (!isdigit((unsigned char)w[0]))
			goto out;
		lo = strtoul(w, &e, 10);
		hi = lo;
		if (*e == ':')
			hi = *++e == '\0' ? 65535 : strtoul(e, &e, 10);
		if (*e != '\0' || lo > 65535 || hi > 65535 || lo > hi)
			goto out;
		if (lo == 0)
			lo = 1;
		if (lo == hi)
			strbuf_printf(&b, "%s%lu", n++ ? "," : "", lo);
		else
			strbuf_printf(&b, "%s%lu-%lu", n++ ? "," : "", lo, hi);
	}
	if (n > 0 && !strbuf_failed(&b))
		r = arena_strdup(t->e.a, strbuf_str(&b));
out:
	strbuf_free(&b);
	return r;
}

static const char *
upper(struct ipt *t, const char *s)
{
	char *r = arena_strdup(t->e.a, s), *p;

	for (p = r; *p != '\0'; p++)
		*p = (char)toupper((unsigned char)*p);
	return r;
}

/* The value after option w[*i], or NULL (and why) at the end. */
static const char *
arg(struct irule *r, const char **w, size_t n, size_t *i)
{
	if (*i + 1 >= n) {
		r->why = "an option without its value";
		return NULL;
	}
	return w[++*i];
}

static void
bad(struct ipt *t, struct irule *r, const char *fmt, const char *v)
{
	if (r->why == NULL)
		r->why = arena_printf(t->e.a, fmt, emit_oneline(&t->e, v));
}

/* The source (src) or destination of r made v, of family fam, negated
 * or not, by option o (-s, --src-range ...): -1 with why when the side
 * holds one already (an address and a range: moat cannot intersect
 * them). */
static int
set_side(struct ipt *t, struct irule *r, const char *o, bool src,
    const char *v, bool neg, int fam)
{
	if (src ? r->src != NULL : r->dst != NULL) {
		bad(t, r, "%s beside an address: moat cannot intersect them",
		    o);
		return -1;
	}
	if (src) {
		r->src = v;
		r->src_neg = neg;
		r->src_fam = fam;
	} else {
		r->dst = v;
		r->dst_neg = neg;
		r->dst_fam = fam;
	}
	return 0;
}

/* Whether s is printable ASCII: what a device name may hold here. */
static bool
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

/* Read the options of -A CHAIN. */
static void
parse_rule(struct ipt *t, struct irule *r, const char **w, size_t n)
{
	bool neg = false;
	size_t i;
	const char *v;
	int fam;

	/* past a match moat cannot say, the rest is still read: its
	 * target says what was lost */
	for (i = 0; i < n; i++) {
		const char *o = w[i];

		if (strcmp(o, "!") == 0) {
			neg = true;
			continue;
		}
		if (strcmp(o, "-s") == 0 || strcmp(o, "--source") == 0 ||
		    strcmp(o, "-d") == 0 || strcmp(o, "--destination") == 0) {
			bool src = o[1] == 's' || o[2] == 's';

			if ((v = arg(r, w, n, &i)) == NULL)
				break;
			if ((v = emit_literal(&t->e, v, &fam)) == NULL) {
				bad(t, r, "'%s' is no address or network", w[i]);
				break;
			}
			if (set_side(t, r, o, src, v, neg, fam) == -1)
				break;
		} else if (strcmp(o, "-i") == 0 || strcmp(o, "-o") == 0 ||
		    strcmp(o, "--in-interface") == 0 ||
		    strcmp(o, "--out-interface") == 0) {
			bool in = o[1] == 'i' || o[2] == 'i';

			if ((v = arg(r, w, n, &i)) == NULL)
				break;
			if (strchr(v, '+') != NULL || *v == '\0' ||
			    strlen(v) > 15 || strpbrk(v, " /:\"*#!,{}") != NULL ||
			    !printable(v) || strcmp(v, ".") == 0 ||
			    strcmp(v, "..") == 0) {
				bad(t, r, "device '%s': a wildcard or no name "
				    "moat can take", v);
				break;
			}
			if (in) {
				r->in = v;
				r->in_neg = neg;
			} else {
				r->out = v;
				r->out_neg = neg;
			}
		} else if (strcmp(o, "-p") == 0 || strcmp(o, "--protocol") == 0) {
			if ((v = arg(r, w, n, &i)) == NULL)
				break;
			if (neg) {
				bad(t, r, "'! -p %s': moat has no negated "
				    "protocol", v);
				break;
			}
			if (strcmp(v, "6") == 0)
				v = "tcp";
			else if (strcmp(v, "17") == 0)
				v = "udp";
			else if (strcmp(v, "1") == 0)
				v = "icmp";
			else if (strcmp(v, "0") == 0)
				v = "all";
			r->proto = v;
		} else if (strcmp(o, "-m") == 0 || strcmp(o, "--match") == 0) {
			if ((v = arg(r, w, n, &i)) == NULL)
				break;
			if (strcmp(v, "tcp") != 0 && strcmp(v, "udp") != 0 &&
			    strcmp(v, "icmp") != 0 && strcmp(v, "multiport") != 0 &&
			    strcmp(v, "iprange") != 0 &&
			    strcmp(v, "conntrack") != 0 &&
			    strcmp(v, "state") != 0 && strcmp(v, "comment") != 0 &&
			    strcmp(v, "addrtype") != 0 && strcmp(v, "sctp") != 0)
				bad(t, r, "the match '-m %s': moat has none", v);
		} else if (strcmp(o, "--dport") == 0 ||
		    strcmp(o, "--destination-port") == 0 ||
		    strcmp(o, "--dports") == 0 ||
		    strcmp(o, "--destination-ports") == 0) {
			if ((v = arg(r, w, n, &i)) == NULL)
				break;
			if (neg) {
				bad(t, r, "'! %s': moat has no negated port",
				    o);
				break;
			}
			if ((r->dports = ports(t, v)) == NULL)
				bad(t, r, "'%s' is no port list", v);
		} else if (strcmp(o, "--sport") == 0 ||
		    strcmp(o, "--source-port") == 0 ||
		    strcmp(o, "--sports") == 0 ||
		    strcmp(o, "--source-ports") == 0) {
			bad(t, r, "a source port (%s): moat matches none", o);
		} else if (strcmp(o, "--src-range") == 0 ||
		    strcmp(o, "--dst-range") == 0) {
			bool src = o[2] == 's';

			if ((v = arg(r, w, n, &i)) == NULL)
				break;
			if ((v = emit_literal(&t->e, v, &fam)) == NULL) {
				bad(t, r, "'%s' is no range", w[i]);
				break;
			}
			if (set_side(t, r, o, src, v, neg, fam) == -1)
				break;
		} else if (strcmp(o, "--ctstate") == 0 ||
		    strcmp(o, "--state") == 0) {
			if ((v = arg(r, w, n, &i)) == NULL)
				break;
			if (neg) {
				bad(t, r, "'! %s': a negated state", o);
				break;
			}
			r->states = upper(t, v);
		} else if (strcmp(o, "--comment") == 0) {
			if ((v = arg(r, w, n, &i)) == NULL)
				break;
			r->comment = v;
		} else if (strcmp(o, "--icmp-type") == 0) {
			if ((v = arg(r, w, n, &i)) == NULL)
				break;
			if (neg || strchr(v, '/') != NULL) {
				bad(t, r, "ICMP type '%s': moat takes a type "
				    "by name or number", v);
				break;
			}
			r->icmptype = v;
		} else if (strcmp(o, "--dst-type") == 0) {
			if ((v = arg(r, w, n, &i)) == NULL)
				break;
			if (strcmp(v, "LOCAL") != 0 || neg || r->dst != NULL) {
				bad(t, r, "'--dst-type %s' beside the rest: "
				    "moat has it only as the gateway's own "
				    "addresses", v);
				break;
			}
			r->dst_local = true;
		} else if (strcmp(o, "-j") == 0 || strcmp(o, "--jump") == 0 ||
		    strcmp(o, "-g") == 0 || strcmp(o, "--goto") == 0) {
			if ((v = arg(r, w, n, &i)) == NULL)
				break;
			r->target = v;
			r->goto_ = o[1] == 'g' || o[2] == 'g';
		} else if (strcmp(o, "--to-source") == 0 ||
		    strcmp(o, "--to-destination") == 0 ||
		    strcmp(o, "--to") == 0) {
			if ((v = arg(r, w, n, &i)) == NULL)
				break;
			r->to = v;
		} else if (strcmp(o, "--syn") == 0) {
			/* a new TCP connection: what moat's rules decide */
		} else if (strcmp(o, "--reject-with") == 0 ||
		    strcmp(o, "--log-prefix") == 0 ||
		    strcmp(o, "--log-level") == 0 ||
		    strcmp(o, "--to-ports") == 0 || strcmp(o, "--mode") == 0) {
			if (arg(r, w, n, &i) == NULL)
				break;
			if (strcmp(o, "--to-ports") == 0)
				bad(t, r, "a port translation (%s): moat's "
				    "NAT keeps ports", o);
		} else if (strcmp(o, "--random") == 0 ||
		    strcmp(o, "--random-fully") == 0 ||
		    strcmp(o, "--persistent") == 0) {
			/* how ports are chosen: not a match */
		} else
			bad(t, r, "option '%s': not one the import knows", o);
		neg = false;
	}
	if (r->target == NULL && r->why == NULL)
		r->why = "a rule without a target only counts packets";
}

/* --- the filter table ------------------------------------------------- */

/* A rule after the jumps that lead to it: the jumps' matches and its own
 * together. */
struct flat {
	const struct irule	*r;
	struct irule		 m;
};

/* Conjoin one field of the jump and of the rule. */
static int
both(const char **a, bool *an, const char *b, bool bn)
{
	if (b == NULL)
		return 0;
	if (*a == NULL) {
		*a = b;
		*an = bn;
		return 0;
	}
	return strcmp(*a, b) == 0 && *an == bn ? 0 : -1;
}

static int
conjoin(struct irule *m, const struct irule *ctx, const struct irule *r)
{
	bool nn = false, nn2 = false;

	*m = *ctx;
	m->line = r->line;
	m->target = r->target;
	m->comment = r->comment != NULL ? r->comment : ctx->comment;
	m->to = r->to;
	if (both(&m->in, &m->in_neg, r->in, r->in_neg) == -1 ||
	    both(&m->out, &m->out_neg, r->out, r->out_neg) == -1 ||
	    both(&m->src, &m->src_neg, r->src, r->src_neg) == -1 ||
	    both(&m->dst, &m->dst_neg, r->dst, r->dst_neg) == -1 ||
	    both(&m->proto, &nn, r->proto, false) == -1 ||
	    both(&m->dports, &nn2, r->dports, false) == -1 ||
	    both(&m->icmptype, &nn2, r->icmptype, false) == -1 ||
	    both(&m->states, &nn2, r->states, false) == -1)
		return -1;
	if (r->src != NULL)
		m->src_fam = r->src_fam;
	if (r->dst != NULL)
		m->dst_fam = r->dst_fam;
	m->dst_local = ctx->dst_local || r->dst_local;
	return 0;
}

static bool
has_state(const char *states, const char *s)
{
	const char *p = states;
	size_t n = strlen(s);

	while (p != NULL && *p != '\0') {
		if (strncmp(p, s, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return true;
		p = strchr(p, ',');
		if (p != NULL)
			p++;
	}
	return false;
}

static void
lost(struct ipt *t, unsigned line, const char *target, const char *why)
{
	bool pass = target != NULL && strcmp(target, "ACCEPT") == 0;
	bool drop = target == NULL || strcmp(target, "DROP") == 0 ||
	    strcmp(target, "REJECT") == 0 || chain_find(t, "filter", target);

	note_line(t, line, "not carried: %s%s", why, pass ?
	    "; what it accepted now falls to the rules below it" : drop ?
	    "; WARNING: what it dropped now falls to the rules below it" : "");
}

static void emit_flat(struct ipt *t, const struct irule *m,
    enum chain_kind ck);
static const char *policy_of(struct ipt *t, const char *name);

/* Walk chain c with the matches of the jumps that lead to it. */
static void
walk(struct ipt *t, struct ichain *c, const struct irule *ctx,
    enum chain_kind ck, int depth)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		const struct irule *r = c->rules[i];
		struct ichain *sub;
		struct irule m;
		const char *tg = r->target;

		if (++t->steps > MAX_STEPS) {
			if (t->steps == MAX_STEPS + 1)
				note_line(t, r->line, "not carried: "
				    "the chains' jumps unfold into more than "
				    "%d rules; WARNING: the rest is left out",
				    MAX_STEPS);
			return;
		}
		if (r->why != NULL) {
			lost(t, r->line, tg, r->why);
			continue;
		}
		if (conjoin(&m, ctx, r) == -1) {
			lost(t, r->line, tg, "its matches and those of the jump "
			    "to its chain overlap: moat cannot intersect them");
			continue;
		}
		if (strcmp(tg, "ACCEPT") == 0 || strcmp(tg, "DROP") == 0 ||
		    strcmp(tg, "REJECT") == 0) {
			emit_flat(t, &m, ck);
			continue;
		}
		if (strcmp(tg, "RETURN") == 0) {
			if (r->in == NULL && r->out == NULL && r->src == NULL &&
			    r->dst == NULL && r->proto == NULL &&
			    r->states == NULL && !r->dst_local) {
				if (i + 1 < c->n)
					note_line(t, r->line, "carried:"
					    " the rules after this RETURN are "
					    "never reached and are left out");
				return;
			}
			if (depth == 0) {
				/* in a built-in chain: its policy */
				m.target = policy_of(t, c->name);
				emit_flat(t, &m, ck);
				continue;
			}
			note_line(t, r->line, "not carried: a RETURN "
			    "with matches; the rules after it in %s are "
			    "carried for every packet, WARNING: a difference",
			    emit_oneline(&t->e, c->name));
			continue;
		}
		if (strcmp(tg, "LOG") == 0 || strcmp(tg, "NFLOG") == 0) {
			note_line(t, r->line, "not carried: %s: "
			    "moat logs what a rule with the log option "
			    "decides", tg);
			continue;
		}
		if ((sub = chain_find(t, "filter", tg)) != NULL &&
		    strcmp(sub->policy, "-") == 0) {
			if (depth >= MAX_DEPTH) {
				lost(t, r->line, NULL, "chains jump more than "
				    "16 deep (a loop?)");
				continue;
			}
			walk(t, sub, &m, ck, depth + 1);
			if (r->goto_ && depth == 0) {
				/* what falls off a goto's chain gets the
				 * built-in chain's policy */
				m.target = policy_of(t, c->name);
				emit_flat(t, &m, ck);
			} else if (r->goto_)
				note_line(t, r->line, "carried with "
				    "a difference: a goto from a chain that was "
				    "jumped to; what falls off %s goes on in %s "
				    "here", emit_oneline(&t->e, tg),
				    emit_oneline(&t->e, c->name));
			continue;
		}
		lost(t, r->line, NULL, arena_printf(t->e.a, "target '%s': "
		    "moat has none", emit_oneline(&t->e, tg)));
	}
}

/* The gateway's own addresses: every interface's XIP. */
static const char *
gateway(struct ipt *t)
{
	struct strbuf b;
	size_t i;

	if (t->gw != NULL)
		return t->gw;
	strbuf_init(&b, 0);
	for (i = 0; i < t->ndev; i++)
		strbuf_printf(&b, "%s%sIP", i ? ", " : "", t->devs[i].moat);
	t->gw = emit_name(&t->e, "GATEWAY", "GATEWAY");
	strbuf_printf(&t->s_obj, "# the gateway's own addresses (INPUT)\n"
	    "object %s { %s }\n", t->gw, strbuf_str(&b));
	strbuf_free(&b);
	return t->gw;
}

/* Every interface's networks but d's, for -o d to the world. */
static const char *
others(struct ipt *t, const struct dev *d)
{
	struct strbuf b;
	const char *r;
	size_t i;

	strbuf_init(&b, 0);
	strbuf_printf(&b, "!{ %s", gateway(t));
	for (i = 0; i < t->ndev; i++)
		if (&t->devs[i] != d)
			strbuf_printf(&b, ", %sNET", t->devs[i].moat);
	strbuf_puts(&b, " }");
	r = arena_strdup(t->e.a, strbuf_str(&b));
	strbuf_free(&b);
	return r;
}

/* The service of a rule's protocol, ports and ICMP type; NULL for any,
 * "" with why when moat has none. */
static const char *
rule_service(struct ipt *t, const struct irule *m, const char **why)
{
	const char *p = m->proto, *body;

	if (p == NULL || strcmp(p, "all") == 0) {
		if (m->dports != NULL) {
			*why = "a port without a protocol";
			return "";
		}
		return NULL;
	}
	if (strcmp(p, "tcp") == 0 || strcmp(p, "udp") == 0 ||
	    strcmp(p, "sctp") == 0) {
		body = m->dports != NULL ? arena_printf(t->e.a, "%s %s", p,
		    m->dports) : p;
		return emit_service(&t->e, body, arena_printf(t->e.a, "%s_%s",
		    p, m->dports != NULL ? m->dports : "all"));
	}
	if (strcmp(p, "icmp") == 0 || strcmp(p, "ipv6-icmp") == 0 ||
	    strcmp(p, "icmpv6") == 0) {
		const char *k = strcmp(p, "icmp") == 0 ? "icmp" : "icmpv6";
		const char *ty = m->icmptype;

		if (ty != NULL && strcmp(ty, "any") == 0)
			ty = NULL;
		if (ty != NULL && strspn(ty, "abcdefghijklmnopqrstuvwxyz-"
		    "0123456789") != strlen(ty)) {
			*why = "an ICMP type moat cannot name";
			return "";
		}
		body = ty != NULL ? arena_printf(t->e.a, "%s %s", k, ty) : k;
		return emit_service(&t->e, body, arena_printf(t->e.a, "%s_%s",
		    k, ty != NULL ? ty : "all"));
	}
	if (strcmp(p, "gre") == 0 || strcmp(p, "esp") == 0 ||
	    strcmp(p, "ah") == 0)
		return emit_service(&t->e, p, p);
	*why = arena_printf(t->e.a, "protocol '%s': moat has no service of "
	    "it", emit_oneline(&t->e, p));
	return "";
}

static void
emit_flat(struct ipt *t, const struct irule *m, enum chain_kind ck)
{
	const char *why = NULL, *svc, *to, *from, *action, *comment;
	size_t i;

	/* What moat does before any rule. */
	if (m->states != NULL) {
		bool est = has_state(m->states, "ESTABLISHED") ||
		    has_state(m->states, "RELATED");
		bool nw = has_state(m->states, "NEW");
		bool inv = has_state(m->states, "INVALID");
		bool dnat = has_state(m->states, "DNAT");

		if (!nw && !inv && !dnat && est && strcmp(m->target,
		    "ACCEPT") == 0) {
			strbuf_printf(&t->s_own, "# line %u: established and "
			    "related accepted: moat does it before any rule\n",
			    m->line);
			return;
		}
		if (inv && !nw && !est && !dnat && strcmp(m->target,
		    "ACCEPT") != 0) {
			strbuf_printf(&t->s_own, "# line %u: invalid dropped: "
			    "moat does it before any rule\n", m->line);
			return;
		}
		if (dnat && !nw && !est && !inv && strcmp(m->target,
		    "ACCEPT") == 0) {
			strbuf_printf(&t->s_own, "# line %u: what DNAT "
			    "forwards accepted: moat's forward does it\n",
			    m->line);
			note_line(t, m->line, "carried with a "
			    "difference: moat's forward accepts what it "
			    "forwards after the rules, not before them");
			return;
		}
		if (!nw) {
			lost(t, m->line, m->target, arena_printf(t->e.a, "state "
			    "%s: moat's rules decide new connections",
			    emit_oneline(&t->e, m->states)));
			return;
		}
		if (est && strcmp(m->target, "ACCEPT") != 0)
			note_line(t, m->line, "carried with a "
			    "difference: moat accepts established and related "
			    "packets before any rule");
	}
	if (m->in != NULL && strcmp(m->in, "lo") == 0 && !m->in_neg) {
		if (strcmp(m->target, "ACCEPT") == 0)
			strbuf_printf(&t->s_own, "# line %u: loopback accepted:"
			    " moat never filters it\n", m->line);
		else
			lost(t, m->line, m->target, "a rule on loopback, which "
			    "moat never filters");
		return;
	}
	if ((svc = rule_service(t, m, &why)) != NULL && *svc == '\0') {
		lost(t, m->line, m->target, why);
		return;
	}
	if (m->src_fam != 0 && m->dst_fam != 0 && m->src_fam != m->dst_fam) {
		lost(t, m->line, m->target, "its addresses are of two families:"
		    " it matches nothing");
		return;
	}
	from = m->src == NULL ? "ANY" : m->src_neg ? arena_printf(t->e.a,
	    "!%s", m->src) : m->src;
	if (ck == CK_INPUT) {
		if (m->out != NULL) {
			lost(t, m->line, m->target, "-o in INPUT matches "
			    "nothing");
			return;
		}
		if (m->dst == NULL || m->dst_local)
			to = gateway(t);
		else if (m->dst_neg) {
			lost(t, m->line, m->target, "a negated destination in "
			    "INPUT: moat cannot keep it to the gateway's own "
			    "addresses");
			return;
		} else
			to = m->dst;
	} else {
		if (m->dst_local) {
			lost(t, m->line, m->target, "the gateway's own "
			    "addresses in FORWARD match nothing");
			return;
		}
		if (m->dst != NULL) {
			if (m->out != NULL)
				note_line(t, m->line, "carried by its -d "
				    "alone: moat decides by the interface a "
				    "connection arrives on, so -o %s is not "
				    "kept (the same when -d lies behind it)",
				    emit_oneline(&t->e, m->out));
			/* FORWARD never sees the gateway's own addresses */
			to = m->dst_neg ? arena_printf(t->e.a, "!{ %s, %s }",
			    m->dst, gateway(t)) : m->dst;
		} else if (m->out != NULL) {
			struct dev *d = dev_find(t, m->out);

			if (d == NULL || m->out_neg) {
				lost(t, m->line, m->target, "a negated out "
				    "interface: moat decides by the interface "
				    "a connection arrives on");
				return;
			}
			to = d->nat ? others(t, d) : arena_printf(t->e.a,
			    "%sNET", d->moat);
			if (!d->noted_out) {
				d->noted_out = true;
				note_line(t, m->line, "carried with a "
				    "difference: moat decides by the interface "
				    "a connection arrives on, so -o %s is "
				    "written as %s", d->name, d->nat ?
				    "'to what no other interface holds' (its "
				    "NAT makes it the way out)" :
				    arena_printf(t->e.a, "'to %sNET'", d->moat));
			}
		} else
			to = arena_printf(t->e.a, "!%s", gateway(t));
	}
	action = strcmp(m->target, "ACCEPT") == 0 ? "accept" :
	    strcmp(m->target, "DROP") == 0 ? "deny" : "reject";
	comment = m->comment != NULL ? arena_printf(t->e.a, "line %u: %s",
	    m->line, m->comment) : arena_printf(t->e.a, "line %u", m->line);
	for (i = 0; i < t->ndev; i++) {
		struct dev *d = &t->devs[i];

		if (m->in != NULL && (strcmp(m->in, d->name) == 0) ==
		    m->in_neg)
			continue;
		if (++t->nflat > MAX_FLAT) {
			if (t->nflat == MAX_FLAT + 1)
				emit_note(&t->e, at(t, m->line), "not carried: "
				    "the rules unfold into more than %d lines; "
				    "WARNING: the rest is left out", MAX_FLAT);
			return;
		}
		strbuf_printf(&d->rules, "%s on %s from %s to %s", action,
		    d->moat, from, to);
		if (svc != NULL)
			strbuf_printf(&d->rules, " service %s", svc);
		strbuf_printf(&d->rules, " comment %s\n",
		    emit_quote(&t->e, comment));
	}
}

/* --- the nat table ---------------------------------------------------- */

static void
nat_rules(struct ipt *t)
{
	struct ichain *c;
	bool masq[MAX_DEVS] = { false };
	size_t i;

	if ((c = chain_find(t, "nat", "POSTROUTING")) != NULL)
		for (i = 0; i < c->n; i++) {
			const struct irule *r = c->rules[i];
			const char *why = NULL, *svc, *tr = NULL, *to;
			struct dev *d;
			int fam;

			if (r->why != NULL) {
				note_line(t, r->line, "not carried: "
				    "%s", r->why);
				continue;
			}
			d = r->out != NULL ? dev_find(t, r->out) : NULL;
			if (d == NULL || r->out_neg)
				why = "NAT without an out interface (-o): moat's "
				    "nat lines are each on one";
			else if (masq[d - t->devs])
				why = "after an unconditional MASQUERADE on the "
				    "same interface: never reached";
			else if (r->in != NULL || r->states != NULL ||
			    r->dst_local)
				why = "a match moat's nat source has not";
			else if (strcmp(r->target, "MASQUERADE") == 0)
				tr = "masquerade";
			else if (strcmp(r->target, "SNAT") == 0) {
				if (r->to == NULL || (tr = emit_literal(&t->e,
				    r->to, &fam)) == NULL || strchr(tr, '-') ||
				    strchr(tr, '/'))
					why = "SNAT to a range or with ports: "
					    "moat translates to one address";
			} else if (strcmp(r->target, "ACCEPT") == 0 ||
			    strcmp(r->target, "RETURN") == 0)
				tr = "none";
			else
				why = arena_printf(t->e.a, "target '%s' in nat: "
				    "moat has none", emit_oneline(&t->e,
				    r->target));
			svc = why == NULL ? rule_service(t, r, &why) : NULL;
			if (why != NULL || (svc != NULL && *svc == '\0')) {
				note_line(t, r->line, "not carried: "
				    "%s", why);
				continue;
			}
			if (strcmp(tr, "masquerade") == 0 && r->src == NULL &&
			    r->dst == NULL && svc == NULL) {
				masq[d - t->devs] = true;
				continue;	/* nat masquerade, below */
			}
			to = r->dst == NULL ? NULL : r->dst_neg ?
			    arena_printf(t->e.a, "!%s", r->dst) : r->dst;
			strbuf_printf(&t->s_nat, "nat source on %s from %s%s",
			    d->moat, r->src == NULL ? "ANY" : r->src_neg ?
			    arena_printf(t->e.a, "!%s", r->src) : r->src,
			    to != NULL ? " to " : "");
			if (to != NULL)
				strbuf_puts(&t->s_nat, to);
			if (svc != NULL)
				strbuf_printf(&t->s_nat, " service %s", svc);
			strbuf_printf(&t->s_nat, " translate %s   # line %u\n",
			    tr, r->line);
		}
	for (i = 0; i < t->ndev; i++)
		if (masq[i])
			strbuf_printf(&t->s_nat, "nat masquerade on %s\n",
			    t->devs[i].moat);
	if ((c = chain_find(t, "nat", "PREROUTING")) != NULL)
		for (i = 0; i < c->n; i++) {
			const struct irule *r = c->rules[i];
			const char *why = NULL, *svc = NULL, *host = NULL;
			char *colon;
			struct dev *d;
			int fam;

			if (r->why != NULL) {
				note_line(t, r->line, "not carried: "
				    "%s", r->why);
				continue;
			}
			d = r->in != NULL ? dev_find(t, r->in) : NULL;
			if (strcmp(r->target, "DNAT") != 0)
				why = arena_printf(t->e.a, "target '%s' in "
				    "PREROUTING: moat has none",
				    emit_oneline(&t->e, r->target));
			else if (d == NULL || r->in_neg)
				why = "DNAT without an in interface (-i)";
			else if (r->src != NULL || r->states != NULL)
				why = "it forwards only from some sources: moat's "
				    "forwards take every source";
			else if (r->dst != NULL && !r->dst_local)
				why = "DNAT of an address that may not be the "
				    "interface's own: moat forwards what arrives "
				    "for IFIP";
			else if (r->proto == NULL || (strcmp(r->proto, "tcp") &&
			    strcmp(r->proto, "udp") && strcmp(r->proto,
			    "sctp")) || r->dports == NULL)
				why = "DNAT of all ports: moat forwards services";
			else if (r->to == NULL)
				why = "DNAT without --to-destination";
			else {
				host = arena_strdup(t->e.a, r->to);
				if ((colon = strrchr(host, ':')) != NULL &&
				    strchr(host, '.') != NULL) {
					*colon = '\0';
					if (strcmp(colon + 1, r->dports) != 0)
						why = "it changes the port: "
						    "moat's forwards keep it";
				}
				if (why == NULL && (host = emit_literal(&t->e,
				    host, &fam)) == NULL)
					why = "its target is not one address";
				else if (why == NULL && (strchr(host, '-') ||
				    strchr(host, '/')))
					why = "its target is not one address";
			}
			if (why == NULL)
				svc = rule_service(t, r, &why);
			if (why != NULL) {
				note_line(t, r->line, "not carried: "
				    "%s", why);
				continue;
			}
			strbuf_printf(&t->s_fwd, "forward on %s service %s to %s"
			    " reflection off   # line %u\n", d->moat, svc, host,
			    r->line);
			if (r->dst == NULL && !r->dst_local)
				emit_note(&t->e, at(t, r->line), "carried with a "
				    "difference: without -d it rewrites "
				    "connections to any address arriving on %s; "
				    "moat's forward only those for %sIP",
				    d->name, d->moat);
			note_line(t, r->line, "carried with a "
			    "difference: moat's forward accepts what no rule "
			    "decides; in iptables only a FORWARD rule does");
		}
	for (i = 0; i < t->nchain; i++) {
		struct ichain *o = &t->chains[i];

		if (strcmp(o->table, "nat") != 0 || o->n == 0 ||
		    strcmp(o->name, "POSTROUTING") == 0 ||
		    strcmp(o->name, "PREROUTING") == 0)
			continue;
		emit_note(&t->e, at(t, o->line), "not carried: the nat "
		    "table's chain %s (%zu rules): moat takes POSTROUTING "
		    "and PREROUTING", emit_oneline(&t->e, o->name), o->n);
	}
}

/* --- reading ---------------------------------------------------------- */

static void
add_dev(struct ipt *t, const char *name, unsigned line)
{
	struct dev *d;

	if (name == NULL || strcmp(name, "lo") == 0 || dev_find(t, name))
		return;
	if (t->ndev == MAX_DEVS) {
		emit_note(&t->e, at(t, line), "not carried: device %s: more "
		    "than %d interfaces", emit_oneline(&t->e, name),
		    MAX_DEVS);
		return;
	}
	d = &t->devs[t->ndev++];
	d->name = name;
	d->moat = emit_name(&t->e, name, "IF");
	emit_take_name(&t->e, arena_printf(t->e.a, "%sIP", d->moat));
	emit_take_name(&t->e, arena_printf(t->e.a, "%sNET", d->moat));
	strbuf_init(&d->rules, 0);
}

static int
read_save(struct ipt *t, const char *buf, size_t len, char *err,
    size_t errlen)
{
	const char *p = buf, *end = buf + len, *table = NULL;
	unsigned line = 0;
	const char *w[512];

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		char *s;
		size_t nw;

		line++;
		t->nlines = line;
		if (n > MAX_LINE) {
			snprintf(err, errlen, "%u:1: a line longer than %d "
			    "bytes", line, MAX_LINE);
			return -1;
		}
		if (memchr(p, '\0', n) != NULL) {
			snprintf(err, errlen, "%u:1: a NUL byte: this is no "
			    "iptables-save output", line);
			return -1;
		}
		s = arena_strndup(t->e.a, p, n);
		p += n + 1;
		if (n > 0 && s[n - 1] == '\r')
			s[n - 1] = '\0';
		if (s[0] == '\0' || s[0] == '#')
			continue;
		if (s[0] == '*') {
			table = s + 1;
			continue;
		}
		if (strcmp(s, "COMMIT") == 0) {
			table = NULL;
			continue;
		}
		if (table == NULL) {
			snprintf(err, errlen, "%u:1: a line outside a table "
			    "(*filter ... COMMIT): this is no iptables-save "
			    "output", line);
			return -1;
		}
		nw = split(t, s, w, sizeof(w) / sizeof(w[0]));
		if (s[0] == ':') {
			struct ichain *c;

			if (nw < 2 || chain_find(t, table, s + 1) != NULL) {
				emit_note(&t->e, at(t, line), "not carried: a "
				    "chain line moat does not read");
				continue;
			}
			ARENA_PUSH(t->e.a, t->chains, t->nchain, t->capchain);
			c = &t->chains[t->nchain - 1];
			memset(c, 0, sizeof(*c));
			c->table = table;
			c->name = w[0] + 1;
			c->policy = w[1];
			c->line = line;
			if (strcmp(table, "filter") == 0)
				t->has_filter = true;
			continue;
		}
		if (nw >= 2 && strcmp(w[0], "-A") == 0) {
			struct ichain *c = chain_find(t, table, w[1]);
			struct irule *r;

			if (c == NULL) {
				emit_note(&t->e, at(t, line), "not carried: a "
				    "rule of chain %s, which has no ':' line",
				    emit_oneline(&t->e, w[1]));
				continue;
			}
			r = arena_alloc(t->e.a, sizeof(*r));
			r->line = line;
			parse_rule(t, r, w + 2, nw - 2);
			ARENA_PUSH(t->e.a, c->rules, c->n, c->cap);
			c->rules[c->n - 1] = r;
			if (strcmp(table, "filter") == 0 ||
			    strcmp(table, "nat") == 0) {
				add_dev(t, r->in, line);
				add_dev(t, r->out, line);
			}
			continue;
		}
		emit_note(&t->e, at(t, line), "not carried: a line moat does "
		    "not read");
	}
	return 0;
}

/* --- iptables' own semantics, for the equivalence report -------------
 *
 * Each device is given a stand-in address (100.64.K.1/24), the same for
 * both sides: moat's dynamic interfaces are bound to it, and here it
 * says which flows are the gateway's own (INPUT) and which device a
 * forwarded one leaves by (-o): the one whose stand-in network holds
 * the destination, else the one the NAT leaves by.  A flow is a new
 * connection: it is NEW (and DNAT when a PREROUTING rule rewrote it). */

#define STANDIN(k)	(V4_BASE | (u128)(100u << 24 | 64u << 16 | \
			    (unsigned)(k) << 8 | 1u))

struct ieval {
	struct ipt	*t;
	size_t		 dev;		/* the arrival device */
	const char	*unproven;
};

static int
proto_num(const char *p)
{
	static const struct {
		const char	*name;
		int		 num;
	} protos[] = {
		{ "tcp", 6 }, { "udp", 17 }, { "icmp", 1 }, { "sctp", 132 },
		{ "gre", 47 }, { "esp", 50 }, { "ah", 51 }, { "icmpv6", 58 },
		{ "ipv6-icmp", 58 }, { "igmp", 2 }, { "ospf", 89 },
		{ "pim", 103 }, { "vrrp", 112 }, { "l2tp", 115 },
	};
	size_t i;

	if (p == NULL || strcmp(p, "all") == 0)
		return -1;
	for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (strcmp(protos[i].name, p) == 0)
			return protos[i].num;
	if (isdigit((unsigned char)p[0]))
		return atoi(p);
	return -2;
}

static int
icmp_num(const char *ty)
{
	static const struct {
		const char	*name;
		int		 num;
	} types[] = {
		{ "echo-reply", 0 }, { "destination-unreachable", 3 },
		{ "source-quench", 4 }, { "redirect", 5 },
		{ "echo-request", 8 }, { "router-advertisement", 9 },
		{ "router-solicitation", 10 }, { "time-exceeded", 11 },
		{ "parameter-problem", 12 }, { "timestamp-request", 13 },
		{ "timestamp-reply", 14 },
	};
	size_t i;

	if (isdigit((unsigned char)ty[0]))
		return atoi(ty);
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(types[i].name, ty) == 0)
			return types[i].num;
	return -1;
}

struct iflow {
	size_t		 in;
	int		 out;		/* device index, -1: none */
	u128		 src, dst;
	int		 proto;
	unsigned	 port;
	bool		 local, dnat;
};

/* Device k's address and prefix length: its stand-in, or the test
 * seam's (proof.h). */
static u128
dev_at(const struct ipt *t, size_t k, int *plen)
{
	const struct proof_probe *pp = proof_probe;
	size_t i;

	*plen = 24;
	for (i = 0; pp != NULL && i < pp->ndev; i++)
		if (strcmp(pp->dev[i], t->devs[k].name) == 0) {
			*plen = pp->dev_plen[i];
			return pp->dev_at[i];
		}
	return STANDIN(k);
}

static bool
is_local(struct ipt *t, u128 dst)
{
	size_t k;
	int plen;

	for (k = 0; k < t->ndev; k++)
		if (dst == dev_at(t, k, &plen))
			return true;
	return false;
}

/* What imatch needs of r, parsed once. */
static void
cook(struct ipt *t, struct irule *r)
{
	struct addr_lit l;
	char err[100];
	const char *p, *w;

	if (r->cooked)
		return;
	r->cooked = true;
	r->slo = r->dlo = 1;
	r->shi = r->dhi = 0;
	if (r->src != NULL && addr_parse_lit(r->src, false, &l, err,
	    sizeof(err), NULL, 0) == 0) {
		r->slo = l.lo;
		r->shi = l.hi;
	}
	if (r->dst != NULL && addr_parse_lit(r->dst, false, &l, err,
	    sizeof(err), NULL, 0) == 0) {
		r->dlo = l.lo;
		r->dhi = l.hi;
	}
	r->pn = proto_num(r->proto);
	r->icmp = r->icmptype != NULL && strcmp(r->icmptype, "any") != 0 ?
	    icmp_num(r->icmptype) : -1;
	for (p = r->dports; p != NULL && (w = emit_word(&t->e, &p)) != NULL;) {
		char *e;
		unsigned long lo = strtoul(w, &e, 10), hi = lo;
		size_t cap = r->npr;

		if (*e == '-')
			hi = strtoul(e + 1, NULL, 10);
		ARENA_PUSH(t->e.a, r->pr, r->npr, cap);
		r->pr[r->npr - 1].lo = (unsigned)lo;
		r->pr[r->npr - 1].hi = (unsigned)hi;
	}
	r->where = at(t, r->line);
	if (r->target != NULL && (r->sub = chain_find(t, "filter",
	    r->target)) != NULL && strcmp(r->sub->policy, "-") != 0)
		r->sub = NULL;
}

static bool
imatch(struct ipt *t, const struct irule *r, const struct iflow *f)
{
	size_t i;

	if (r->in != NULL && (strcmp(r->in, t->devs[f->in].name) == 0) ==
	    r->in_neg)
		return false;
	if (r->out != NULL && (f->out >= 0 && strcmp(r->out,
	    t->devs[f->out].name) == 0) == r->out_neg)
		return false;
	if (r->src != NULL && (f->src >= r->slo && f->src <= r->shi) ==
	    r->src_neg)
		return false;
	if (r->dst != NULL && (f->dst >= r->dlo && f->dst <= r->dhi) ==
	    r->dst_neg)
		return false;
	if (r->dst_local && !f->local)
		return false;
	if (r->pn >= 0 && r->pn != f->proto)
		return false;
	if (r->dports != NULL) {
		for (i = 0; i < r->npr; i++)
			if (f->port >= r->pr[i].lo && f->port <= r->pr[i].hi)
				break;
		if (i == r->npr)
			return false;
	}
	if (r->icmp >= 0 && (unsigned)r->icmp != f->port)
		return false;
	if (r->states != NULL && !has_state(r->states, "NEW") &&
	    !(f->dnat && has_state(r->states, "DNAT")))
		return false;
	return true;
}

/* Traverse chain c: 1 with a verdict in *act and *where, 0 when the
 * flow falls off its end (or RETURNs). */
static int
traverse(struct ipt *t, const struct ichain *c, const struct iflow *f,
    int depth, enum src_action *act, const char **where)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		const struct irule *r = c->rules[i];
		const struct ichain *sub;
		const char *tg = r->target;

		if (tg == NULL || r->why != NULL || !imatch(t, r, f))
			continue;
		if (strcmp(tg, "ACCEPT") == 0 || strcmp(tg, "DROP") == 0 ||
		    strcmp(tg, "REJECT") == 0) {
			*act = tg[0] == 'A' ? SRC_PASS : tg[0] == 'D' ?
			    SRC_BLOCK : SRC_REJECT;
			*where = r->where;
			return 1;
		}
		if (strcmp(tg, "RETURN") == 0)
			return 0;
		if ((sub = r->sub) != NULL && depth < MAX_DEPTH) {
			if (traverse(t, sub, f, depth + 1, act, where) == 1)
				return 1;
			if (r->goto_)
				return 0;
		}
	}
	return 0;
}

static enum src_action
ipt_eval(const void *arg, u128 src, u128 dst, u128 key, const char **where)
{
	const struct ieval *ev = arg;
	struct ipt *t = ev->t;
	const struct ichain *c;
	struct iflow f;
	enum src_action act = SRC_BLOCK;
	size_t i, k;

	memset(&f, 0, sizeof(f));
	f.in = ev->dev;
	f.src = src;
	f.dst = dst;
	f.proto = (int)(key >> 16);
	f.port = (unsigned)(key & 0xffff);
	/* nat PREROUTING: the first DNAT that matches */
	if ((c = chain_find(t, "nat", "PREROUTING")) != NULL)
		for (i = 0; i < c->n; i++) {
			const struct irule *r = c->rules[i];
			char *host, *colon;
			struct addr_lit l;
			char err[100];

			f.local = is_local(t, f.dst);
			f.out = -1;
			if (r->why != NULL || r->target == NULL ||
			    strcmp(r->target, "DNAT") != 0 || r->to == NULL ||
			    !imatch(t, r, &f))
				continue;
			host = arena_strdup(t->e.a, r->to);
			if ((colon = strrchr(host, ':')) != NULL) {
				*colon = '\0';
				f.port = (unsigned)atoi(colon + 1);
			}
			if (addr_parse_lit(host, false, &l, err, sizeof(err),
			    NULL, 0) == 0)
				f.dst = l.lo;
			f.dnat = true;
			break;
		}
	f.local = is_local(t, f.dst);
	f.out = -1;
	for (k = 0; k < t->ndev && !f.local; k++) {
		int plen;
		u128 at = dev_at(t, k, &plen), lo, hi;

		addr_network(at, FAM_V4, plen, &lo, &hi);
		if (f.dst >= lo && f.dst <= hi)
			f.out = (int)k;
	}
	for (k = 0; k < t->ndev && f.out < 0 && !f.local; k++)
		if (t->devs[k].nat)
			f.out = (int)k;
	c = chain_find(t, "filter", f.local ? "INPUT" : "FORWARD");
	if (c == NULL) {
		*where = "no filter table: accepted";
		return SRC_PASS;
	}
	if (traverse(t, c, &f, 0, &act, where) == 1)
		return act;
	*where = f.local ? "the INPUT policy" : "the FORWARD policy";
	return strcmp(c->policy, "ACCEPT") == 0 ? SRC_PASS : SRC_BLOCK;
}

static void
push_cut(struct ipt *t, u128 **v, size_t *n, size_t *cap, u128 x)
{
	ARENA_PUSH(t->e.a, *v, *n, *cap);
	(*v)[*n - 1] = x;
}

/* How many rules a walk of c visits at most, through its jumps; -1 on
 * a loop (or past limit). */
static long
unfolded(struct ipt *t, struct ichain *c, long *memo, bool *busy, int depth,
    long limit)
{
	size_t ci = (size_t)(c - t->chains), i;
	long n = 0;

	if (memo[ci] != 0)
		return memo[ci];
	if (busy[ci] || depth > MAX_DEPTH)
		return -1;
	busy[ci] = true;
	for (i = 0; i < c->n && n >= 0 && n <= limit; i++) {
		struct irule *r = c->rules[i];

		cook(t, r);
		n++;
		if (r->sub != NULL) {
			long k = unfolded(t, (struct ichain *)r->sub, memo,
			    busy, depth + 1, limit);

			n = k < 0 ? -1 : n + k;
		}
	}
	busy[ci] = false;
	if (n > limit)
		n = -1;
	memo[ci] = n;
	return n;
}

/* The report: moat's text parsed with each interface at its stand-in. */
static int
ipt_proof(struct ipt *t, const struct strbuf *o, struct strbuf *report)
{
	struct bound_addr *ba;
	struct binding b;
	struct src_model m;
	struct policy *p;
	u128 *cs = NULL, *cd = NULL, *ck = NULL;
	size_t ns = 0, nd = 0, nk = 0, caps = 0, capd = 0, capk = 0, i, k;
	const char *unproven = NULL;
	int rc;

	ba = arena_array(t->e.a, t->ndev ? t->ndev : 1, sizeof(*ba));
	for (k = 0; k < t->ndev; k++) {
		int plen;
		u128 at = dev_at(t, k, &plen), lo, hi;

		addr_network(at, FAM_V4, plen, &lo, &hi);
		ba[k].name = t->devs[k].moat;
		ba[k].lit.kind = LIT_PREFIX;
		ba[k].lit.family = FAM_V4;
		ba[k].lit.lo = ba[k].lit.hi = at;
		ba[k].lit.plen = plen;
		push_cut(t, &cd, &nd, &capd, at);
		push_cut(t, &cd, &nd, &capd, at + 1);
		push_cut(t, &cd, &nd, &capd, lo);
		if (hi != U128_MAX)
			push_cut(t, &cd, &nd, &capd, hi + 1);
	}
	memset(&b, 0, sizeof(b));
	b.n = t->ndev;
	b.v = ba;
	/* The source's cuts, and what it cannot be compared on. */
	for (i = 0; i < t->nchain; i++) {
		const struct ichain *c = &t->chains[i];
		size_t j;

		if (strcmp(c->table, "filter") != 0 && !(strcmp(c->table,
		    "nat") == 0 && strcmp(c->name, "PREROUTING") == 0))
			continue;
		for (j = 0; j < c->n; j++) {
			const struct irule *r = c->rules[j];
			struct addr_lit l;
			char err[100];
			const char *pp, *w;
			int pn = proto_num(r->proto);

			if (r->target != NULL && (strcmp(r->target, "LOG") == 0 ||
			    strcmp(r->target, "NFLOG") == 0))
				continue;
			if (unproven == NULL && (r->why != NULL || pn == -2 ||
			    (r->icmptype != NULL && strcmp(r->icmptype, "any")
			    != 0 && icmp_num(r->icmptype) < 0) ||
			    (strcmp(c->table, "nat") == 0 && r->target != NULL &&
			    strcmp(r->target, "DNAT") != 0)))
				unproven = arena_printf(t->e.a, "line %u: %s",
				    r->line, r->why != NULL ? r->why : "a match "
				    "or target the comparison does not model");
			if (r->src != NULL && addr_parse_lit(r->src, false, &l,
			    err, sizeof(err), NULL, 0) == 0) {
				push_cut(t, &cs, &ns, &caps, l.lo);
				push_cut(t, &cs, &ns, &caps, l.hi + 1);
			}
			if (r->dst != NULL && addr_parse_lit(r->dst, false, &l,
			    err, sizeof(err), NULL, 0) == 0) {
				push_cut(t, &cd, &nd, &capd, l.lo);
				push_cut(t, &cd, &nd, &capd, l.hi + 1);
			}
			if (pn >= 0) {
				push_cut(t, &ck, &nk, &capk, (u128)pn << 16);
				push_cut(t, &ck, &nk, &capk, (u128)(pn + 1) << 16);
			}
			for (pp = r->dports; pn >= 0 && pp != NULL &&
			    (w = emit_word(&t->e, &pp)) != NULL;) {
				char *e;
				unsigned long lo = strtoul(w, &e, 10), hi = lo;

				if (*e == '-')
					hi = strtoul(e + 1, NULL, 10);
				push_cut(t, &ck, &nk, &capk, (u128)pn << 16 | lo);
				push_cut(t, &ck, &nk, &capk,
				    ((u128)pn << 16 | hi) + 1);
			}
			if (pn >= 0 && r->icmptype != NULL &&
			    icmp_num(r->icmptype) >= 0) {
				push_cut(t, &ck, &nk, &capk, (u128)pn << 16 |
				    (unsigned)icmp_num(r->icmptype));
				push_cut(t, &ck, &nk, &capk, ((u128)pn << 16 |
				    (unsigned)icmp_num(r->icmptype)) + 1);
			}
			if (r->to != NULL) {
				char *h = arena_strdup(t->e.a, r->to), *col;

				if ((col = strrchr(h, ':')) != NULL)
					*col = '\0';
				if (addr_parse_lit(h, false, &l, err,
				    sizeof(err), NULL, 0) == 0) {
					push_cut(t, &cd, &nd, &capd, l.lo);
					push_cut(t, &cd, &nd, &capd, l.lo + 1);
				}
			}
		}
	}
	/* every chain read once; a loop or a huge unfolding is not
	 * compared */
	{
		long *memo = arena_array(t->e.a, t->nchain + 1, sizeof(*memo));
		long u = 0;
		bool *busy = arena_array(t->e.a, t->nchain + 1, sizeof(*busy));

		for (i = 0; i < t->nchain; i++) {
			struct ichain *c = &t->chains[i];
			size_t j;

			for (j = 0; j < c->n; j++)
				cook(t, c->rules[j]);
			if (unproven == NULL && strcmp(c->table, "filter") == 0 &&
			    (strcmp(c->name, "INPUT") == 0 ||
			    strcmp(c->name, "FORWARD") == 0) &&
			    (u = unfolded(t, c, memo, busy, 0, 2000)) < 0)
				unproven = "the chains jump in a loop, or unfold "
				    "into more than 2,000 rules";
		}
	}
	p = policy_parse_bound("moat.conf", strbuf_str(o), o->len, &b);
	if (p == NULL)
		return -1;
	if (p->diags.nerrors > 0) {
		policy_free(p);
		return 0;
	}
	memset(&m, 0, sizeof(m));
	m.semantics = "iptables decides it, IPv4 only: INPUT for the "
	    "gateway's own addresses, else FORWARD; the first terminal "
	    "target through the jumps; the chain's policy at its end; nat "
	    "PREROUTING's DNAT first (each interface given a stand-in "
	    "address, 100.64.N.1/24, the same for moat)";
	for (k = 0; k < t->ndev; k++) {
		struct src_iface *f;
		struct ieval *ev = arena_alloc(t->e.a, sizeof(*ev));

		ev->t = t;
		ev->dev = k;
		ARENA_PUSH(t->e.a, m.ifs, m.n, m.cap);
		f = &m.ifs[m.n - 1];
		memset(f, 0, sizeof(*f));
		f->name = t->devs[k].moat;
		f->eval = ipt_eval;
		f->v4_only = true;
		f->arg = ev;
		f->unproven = unproven;
		f->cut_src = cs;
		f->ncut_src = ns;
		f->cut_dst = cd;
		f->ncut_dst = nd;
		f->cut_svc = ck;
		f->ncut_svc = nk;
	}
	rc = proof_compare(t->e.a, &m, p, report);
	policy_free(p);
	return rc == -1 ? -1 : 0;
}

struct run_arg {
	struct ipt	*t;
	struct strbuf	*report;
	const char	*file;
	const char	*buf;
	size_t		 len;
	struct strbuf	*out;
	char		*err;
	size_t		 errlen;
};

static const char *
policy_of(struct ipt *t, const char *name)
{
	struct ichain *c = chain_find(t, "filter", name);

	if (!t->has_filter)
		return "ACCEPT";
	return c != NULL ? c->policy : "ACCEPT";
}

static int
run(void *arg)
{
	struct run_arg *ra = arg;
	struct ipt *t = ra->t;
	struct strbuf body, *o = ra->out;
	struct irule none;
	const char *pin, *pfw;
	size_t i;
	int rc = -1;

	if (read_save(t, ra->buf, ra->len, ra->err, ra->errlen) == -1)
		return -1;
	t->noted = arena_array(t->e.a, t->nlines + 1, sizeof(*t->noted));
	/* The WAN: the device its NAT leaves by. */
	for (i = 0; i < t->nchain; i++) {
		struct ichain *c = &t->chains[i];
		size_t k;

		if (strcmp(c->table, "nat") != 0 || strcmp(c->name,
		    "POSTROUTING") != 0)
			continue;
		for (k = 0; k < c->n; k++)
			if (c->rules[k]->out != NULL && c->rules[k]->target &&
			    (strcmp(c->rules[k]->target, "MASQUERADE") == 0 ||
			    strcmp(c->rules[k]->target, "SNAT") == 0) &&
			    dev_find(t, c->rules[k]->out) != NULL)
				dev_find(t, c->rules[k]->out)->nat = true;
	}
	if (t->ndev == 0) {
		snprintf(ra->err, ra->errlen, "1:1: no device is named by -i "
		    "or -o: moat needs the interfaces to put the rules on");
		return -1;
	}
	pin = policy_of(t, "INPUT");
	pfw = policy_of(t, "FORWARD");
	if (!t->has_filter)
		emit_note(&t->e, "line 1", "carried: no filter table, so "
		    "everything is accepted (default accept on every "
		    "interface)");
	memset(&none, 0, sizeof(none));
	for (i = 0; i < t->nchain; i++) {
		struct ichain *c = &t->chains[i];

		if (strcmp(c->table, "filter") == 0 && strcmp(c->name,
		    "INPUT") == 0)
			walk(t, c, &none, CK_INPUT, 0);
		else if (strcmp(c->table, "filter") == 0 && strcmp(c->name,
		    "FORWARD") == 0)
			walk(t, c, &none, CK_FORWARD, 0);
		else if (strcmp(c->table, "filter") == 0 && strcmp(c->name,
		    "OUTPUT") == 0 && (c->n > 0 || strcmp(c->policy,
		    "ACCEPT") != 0))
			emit_note(&t->e, at(t, c->line), "not carried: the "
			    "OUTPUT chain (%zu rules, policy %s): moat does not "
			    "filter what the gateway itself sends", c->n,
			    emit_oneline(&t->e, c->policy));
		else if (strcmp(c->table, "filter") != 0 &&
		    strcmp(c->table, "nat") != 0 && (c->n > 0 ||
		    strcmp(c->policy, "ACCEPT") != 0))
			emit_note(&t->e, at(t, c->line), "not carried: the %s "
			    "table's chain %s: moat has no such table",
			    emit_oneline(&t->e, c->table),
			    emit_oneline(&t->e, c->name));
	}
	nat_rules(t);
	if (strcmp(pin, pfw) != 0)
		emit_note(&t->e, at(t, chain_find(t, "filter", "INPUT") != NULL ?
		    chain_find(t, "filter", "INPUT")->line : 1),
		    "carried: the INPUT policy %s as a last rule on each "
		    "interface (the FORWARD policy is the default)",
		    emit_oneline(&t->e, pin));
	if (strcmp(pin, pfw) != 0)
		(void)gateway(t);	/* for the INPUT policy's lines */
	strbuf_init(&body, 0);
	/* iptables keeps nothing open by itself */
	strbuf_puts(&body, "anti-lockout off\n");
	for (i = 0; i < t->ndev; i++)
		strbuf_printf(&body, "interface %s device %s address dynamic "
		    "default %s\n", t->devs[i].moat, t->devs[i].name,
		    strcmp(pfw, "DROP") == 0 ? "deny" : "accept");
	if (t->s_obj.len)
		strbuf_printf(&body, "\n%s", strbuf_str(&t->s_obj));
	if (t->e.s_svc.len)
		strbuf_printf(&body, "\n%s", strbuf_str(&t->e.s_svc));
	if (t->s_own.len)
		strbuf_printf(&body, "\n%s", strbuf_str(&t->s_own));
	for (i = 0; i < t->ndev; i++) {
		strbuf_printf(&body, "\n# %s\n%s", t->devs[i].moat,
		    strbuf_str(&t->devs[i].rules));
		if (strcmp(pin, pfw) != 0)
			strbuf_printf(&body, "%s on %s from ANY to %s comment "
			    "\"the INPUT policy\"\n", strcmp(pin, "DROP") == 0 ?
			    "deny" : "accept", t->devs[i].moat, gateway(t));
	}
	if (t->s_nat.len)
		strbuf_printf(&body, "\n%s", strbuf_str(&t->s_nat));
	if (t->s_fwd.len)
		strbuf_printf(&body, "\n# port forwards\n%s",
		    strbuf_str(&t->s_fwd));
	if (strbuf_failed(&body)) {
		snprintf(ra->err, ra->errlen, "1:1: out of memory");
		goto out;
	}
	if (emit_settle(&t->e, &body, "line 0", ra->err,
	    ra->errlen) == -1)
		goto out;
	strbuf_printf(o, "# moat.conf imported by moat import iptables from "
	    "%s\n", emit_oneline(&t->e, ra->file));
	if (t->e.nnotes > 0) {
		const char *q = strbuf_str(t->e.notes), *nl;

		strbuf_printf(o, "# %d element%s not carried over (or carried "
		    "with a difference):\n", t->e.nnotes, t->e.nnotes == 1 ?
		    "" : "s");
		for (; (nl = strchr(q, '\n')) != NULL; q = nl + 1)
			strbuf_printf(o, "#   %.*s\n", (int)(nl - q), q);
	}
	strbuf_printf(o, "# iptables-save holds no addresses: each interface "
	    "is address dynamic\n\n%s", strbuf_str(&body));
	if (ra->report != NULL && ipt_proof(t, o, ra->report) == -1) {
		snprintf(ra->err, ra->errlen, "1:1: out of memory");
		goto out;
	}
	rc = 0;
out:
	strbuf_free(&body);
	return rc;
}

int
import_iptables(const char *file, const char *buf, size_t len,
    struct strbuf *out, struct strbuf *notes, struct strbuf *report,
    char *err, size_t errlen)
{
	struct arena a;
	struct ipt t;
	struct run_arg ra;
	size_t i;
	int rc;

	memset(&t, 0, sizeof(t));
	arena_init(&a);
	emit_init(&t.e, &a, notes);
	strbuf_init(&t.s_obj, 0);
	strbuf_init(&t.s_nat, 0);
	strbuf_init(&t.s_fwd, 0);
	strbuf_init(&t.s_own, 0);
	emit_take_name(&t.e, "ANY");
	ra.t = &t;
	ra.report = report;
	ra.file = file;
	ra.buf = buf;
	ra.len = len;
	ra.out = out;
	ra.err = err;
	ra.errlen = errlen;
	err[0] = '\0';
	rc = arena_catch(&a, run, &ra);
	if (rc == -1 && err[0] == '\0')
		snprintf(err, errlen, "1:1: out of memory");
	if (rc == 0 && (strbuf_failed(out) || strbuf_failed(notes))) {
		snprintf(err, errlen, "1:1: out of memory");
		rc = -1;
	}
	for (i = 0; i < t.ndev; i++)
		strbuf_free(&t.devs[i].rules);
	strbuf_free(&t.s_obj);
	strbuf_free(&t.s_nat);
	strbuf_free(&t.s_fwd);
	strbuf_free(&t.s_own);
	emit_free(&t.e);
	arena_free(&a);
	return rc == -1 ? -1 : t.e.nnotes;
}
