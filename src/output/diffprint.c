/* diffprint.c: policy_diff's regions as text and JSON; see diffprint.h. */
#include "output/diffprint.h"

#include <stdio.h>
#include <string.h>

#include "output/json.h"
#include "output/printer.h"

/* The prefix length when [lo, hi] is one network of family fam, else -1. */
static int
prefix_of(u128 lo, u128 hi, enum addr_family fam)
{
	u128 size = hi - lo + 1;
	int bits = 0, width = fam == FAM_V4 ? 32 : 128;

	if (lo == 0 && hi == U128_MAX)
		return 0;
	if (size == 0 || (size & (size - 1)) != 0 || (lo & (size - 1)) != 0)
		return -1;
	while (size > 1) {
		size >>= 1;
		bits++;
	}
	return width - bits;
}

static void
addr_range(u128 lo, u128 hi, enum addr_family fam, struct strbuf *b)
{
	char x[ADDR_STRLEN], y[ADDR_STRLEN];
	int plen;

	if ((fam == FAM_V4 && lo == V4_BASE && hi == V4_LAST) ||
	    (fam == FAM_V6 && lo == 0 && hi == U128_MAX)) {
		strbuf_puts(b, fam == FAM_V4 ? "any IPv4" : "any IPv6");
		return;
	}
	addr_format(lo, x, sizeof(x));
	addr_format(hi, y, sizeof(y));
	if (lo == hi)
		strbuf_puts(b, x);
	else if ((plen = prefix_of(lo, hi, fam)) >= 0 && (fam == FAM_V4 ||
	    lo > V4_LAST || hi < V4_BASE))
		strbuf_printf(b, "%s/%d", x, plen);
	else
		strbuf_printf(b, "%s-%s", x, y);
}

static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
	"Fri", "Sat" };

static void
minute(unsigned m, struct strbuf *b)
{
	strbuf_printf(b, "%s %02u:%02u", days[m / SCHED_DAY % 7],
	    m % SCHED_DAY / 60, m % 60);
}

/* One protocol's part of a key range. */
static void
proto_part(unsigned proto, unsigned lo, unsigned hi, struct strbuf *b)
{
	const struct proto_info *pi = builtin_proto_by_number((int)proto);
	const char *what = "ports";

	if (pi == NULL) {
		strbuf_printf(b, "protocol %u", proto);
		return;
	}
	strbuf_puts(b, pi->name);
	if (pi->kind == PK_NONE)
		return;
	if (pi->kind == PK_TYPES) {
		what = "types";
		if (hi > 255)
			hi = 255;
		if (lo == 0 && hi == 255)
			return;
	} else if (lo == 0 && hi == 65535)
		return;
	if (lo == hi)
		strbuf_printf(b, " %s %u", pi->kind == PK_TYPES ? "type" :
		    "port", lo);
	else
		strbuf_printf(b, " %s %u-%u", what, lo, hi);
}

/* A range of service keys: "tcp port 25", "tcp, udp ports 1-52",
 * "protocols 7-16", "any service". */
static void
svc_range(u128 klo, u128 khi, struct strbuf *b)
{
	unsigned p, plo = (unsigned)(klo >> 16), phi = (unsigned)(khi >> 16);
	unsigned run = 0;
	bool first = true, in_run = false;

	if (klo == 0 && khi >> 16 >= 255 && (khi & 0xffff) == 0xffff) {
		strbuf_puts(b, "any service");
		return;
	}
	for (p = plo; p <= phi; p++) {
		unsigned lo = p == plo ? (unsigned)(klo & 0xffff) : 0;
		unsigned hi = p == phi ? (unsigned)(khi & 0xffff) : 65535;
		const struct proto_info *pi = builtin_proto_by_number((int)p);
		bool whole = lo == 0 && (hi == 65535 || pi == NULL ||
		    pi->kind == PK_NONE || (pi->kind == PK_TYPES && hi >= 255));

		if (lo > 0 && (pi == NULL || pi->kind == PK_NONE ||
		    (pi->kind == PK_TYPES && lo > 255)))
			continue;	/* no flow has these keys */
		/* Whole protocols without a name of ours go in runs. */
		if (whole && pi == NULL) {
			if (!in_run) {
				run = p;
				in_run = true;
			}
			if (p < phi)
				continue;
		}
		if (in_run) {
			unsigned end = whole && pi == NULL ? p : p - 1;

			strbuf_puts(b, first ? "" : ", ");
			first = false;
			if (end == run)
				strbuf_printf(b, "protocol %u", run);
			else
				strbuf_printf(b, "protocols %u-%u", run, end);
			in_run = false;
			if (whole && pi == NULL)
				continue;
		}
		strbuf_puts(b, first ? "" : ", ");
		first = false;
		proto_part(p, lo, hi, b);
	}
}

void
diffprint_range(const struct diff_region *g, int dim, struct strbuf *out)
{
	switch (dim) {
	case DD_SRC:
	case DD_DST:
		addr_range(g->lo[dim], g->hi[dim], g->fam, out);
		break;
	case DD_TIME:
		if (g->lo[dim] == 0 && g->hi[dim] == SCHED_WEEK - 1)
			strbuf_puts(out, "any time");
		else {
			minute((unsigned)g->lo[dim], out);
			strbuf_puts(out, " to ");
			minute((unsigned)g->hi[dim], out);
		}
		break;
	default:
		svc_range(g->lo[dim], g->hi[dim], out);
		break;
	}
}

static void
example(const struct diff_region *g, bool timed, struct strbuf *b)
{
	char s[ADDR_STRLEN], d[ADDR_STRLEN];

	addr_format(g->ex_a.src, s, sizeof(s));
	addr_format(g->ex_a.dst, d, sizeof(d));
	strbuf_printf(b, "%s %s -> %s ", g->ex_a.iface->name, s, d);
	printer_flow_service(&g->ex_a, b);
	if (timed) {
		strbuf_puts(b, " at ");
		minute(g->ex_a.week_min, b);
	}
}

static const char *
verb(const struct verdict *v)
{
	return action_name(v->action);
}

void
diffprint_text(const struct policy *a, const char *name_a,
    const struct policy *b, const char *name_b, const char *note,
    const struct policy_diff *d, size_t limit, struct strbuf *out)
{
	size_t i;

	if (d->n == 0 && d->nonly_a == 0 && d->nonly_b == 0)
		strbuf_printf(out, "%s -> %s: no flow changes%s\n", name_a,
		    name_b, d->complete ? "" : " found before it stopped");
	else
		strbuf_printf(out, "%s -> %s: %zu region%s of flows change%s\n",
		    name_a, name_b, d->n, d->n == 1 ? "" : "s",
		    d->n == 1 ? "s" : "");
	for (i = 0; i < d->n && (limit == 0 || i < limit); i++) {
		const struct diff_region *g = &d->v[i];
		char na[512], nb[512];
		const char *sa, *sb;

		strbuf_printf(out, "\n%zu. on %s from ", i + 1, g->ifa->name);
		diffprint_range(g, DD_SRC, out);
		strbuf_puts(out, " to ");
		diffprint_range(g, DD_DST, out);
		strbuf_puts(out, ", ");
		diffprint_range(g, DD_SVC, out);
		if (d->timed) {
			strbuf_puts(out, ", ");
			diffprint_range(g, DD_TIME, out);
		}
		strbuf_printf(out, ": %s -> %s\n", verb(&g->va), verb(&g->vb));
		strbuf_puts(out, "   e.g.   ");
		example(g, d->timed, out);
		strbuf_puts(out, "\n   before ");
		printer_verdict(a, &g->ex_a, &g->va, out);
		strbuf_puts(out, "\n   after  ");
		printer_verdict(b, &g->ex_b, &g->vb, out);
		strbuf_putc(out, '\n');
		/* How it leaves, when that is what changed. */
		sa = snat_text(a, &g->va, na, sizeof(na));
		sb = snat_text(b, &g->vb, nb, sizeof(nb));
		if (g->va.action == ACT_ACCEPT && g->vb.action == ACT_ACCEPT &&
		    (g->va.gw != NULL || g->vb.gw != NULL)) {
			const char *la = gw_text(&g->va, na, sizeof(na));

			strbuf_printf(out, "   link before: %s\n", la != NULL ?
			    la : "as the routes say (no gateway option)");
			la = gw_text(&g->vb, nb, sizeof(nb));
			strbuf_printf(out, "   link after:  %s\n", la != NULL ?
			    la : "as the routes say (no gateway option)");
			sa = snat_text(a, &g->va, na, sizeof(na));
			sb = snat_text(b, &g->vb, nb, sizeof(nb));
		}
		if (g->va.action == ACT_ACCEPT && g->vb.action == ACT_ACCEPT &&
		    strcmp(sa != NULL ? sa : "", sb != NULL ? sb : "") != 0) {
			strbuf_printf(out, "   nat before: %s\n", sa != NULL ? sa :
			    "the source is kept");
			strbuf_printf(out, "   nat after:  %s\n", sb != NULL ? sb :
			    "the source is kept");
		}
	}
	if (limit > 0 && d->n > limit)
		strbuf_printf(out, "\n... and %zu more region%s (moat diff lists "
		    "them all)\n", d->n - limit, d->n - limit == 1 ? "" : "s");
	for (i = 0; i < d->nonly_a; i++)
		strbuf_printf(out, "\ninterface %s is only in %s: its flows are "
		    "not compared (the other has no such zone)\n",
		    d->only_a[i]->name, name_a);
	for (i = 0; i < d->nonly_b; i++)
		strbuf_printf(out, "\ninterface %s is only in %s: its flows are "
		    "not compared (the other has no such zone)\n",
		    d->only_b[i]->name, name_b);
	if (!d->complete)
		strbuf_printf(out, "\nincomplete: stopped after %zu cells%s; "
		    "the flows above change, others may too\n", d->nleaves,
		    d->out_of_time ? " at the summary's time limit (moat diff "
		    "has none)" : "");
	if (note != NULL)
		strbuf_printf(out, "\nnote: %s\n", note);
}

static void
kv(struct strbuf *b, const char *k, const char *v, bool *first)
{
	strbuf_puts(b, *first ? "" : ",");
	*first = false;
	json_put_string(b, k);
	strbuf_putc(b, ':');
	json_put_string(b, v);
}

static void
range_json(struct strbuf *b, const char *k, u128 lo, u128 hi, bool *first)
{
	char x[ADDR_STRLEN], y[ADDR_STRLEN];

	addr_format(lo, x, sizeof(x));
	addr_format(hi, y, sizeof(y));
	strbuf_puts(b, *first ? "" : ",");
	*first = false;
	json_put_string(b, k);
	strbuf_puts(b, ":[");
	json_put_string(b, x);
	strbuf_putc(b, ',');
	json_put_string(b, y);
	strbuf_putc(b, ']');
}

static void
ifaces_json(struct strbuf *b, const char *k, const struct iface **v,
    size_t n)
{
	size_t i;

	strbuf_putc(b, ',');
	json_put_string(b, k);
	strbuf_puts(b, ":[");
	for (i = 0; i < n; i++) {
		strbuf_puts(b, i > 0 ? "," : "");
		json_put_string(b, v[i]->name);
	}
	strbuf_putc(b, ']');
}

void
diffprint_json(const struct policy *a, const char *name_a,
    const struct policy *b, const char *name_b, const char *note,
    const struct policy_diff *d, struct strbuf *out)
{
	struct strbuf t;
	size_t i;
	int dim;

	strbuf_init(&t, 0);
	strbuf_puts(out, "{\"old\":");
	json_put_string(out, name_a);
	strbuf_puts(out, ",\"new\":");
	json_put_string(out, name_b);
	strbuf_printf(out, ",\"complete\":%s,\"out_of_time\":%s,"
	    "\"changes\":[", d->complete ? "true" : "false",
	    d->out_of_time ? "true" : "false");
	for (i = 0; i < d->n; i++) {
		const struct diff_region *g = &d->v[i];
		static const char *const names[] = { "source", "destination",
		    "time", "service" };
		bool first = true;

		strbuf_puts(out, i > 0 ? ",\n{" : "\n{");
		kv(out, "interface", g->ifa->name, &first);
		kv(out, "family", g->fam == FAM_V4 ? "ipv4" : "ipv6", &first);
		for (dim = 0; dim < DD_NDIMS; dim++) {
			if (dim == DD_TIME && !d->timed)
				continue;
			strbuf_reset(&t);
			diffprint_range(g, dim, &t);
			kv(out, names[dim], strbuf_str(&t), &first);
		}
		range_json(out, "source_range", g->lo[DD_SRC], g->hi[DD_SRC],
		    &first);
		range_json(out, "destination_range", g->lo[DD_DST],
		    g->hi[DD_DST], &first);
		strbuf_printf(out, ",\"service_keys\":[%u,%u]",
		    (unsigned)g->lo[DD_SVC], (unsigned)g->hi[DD_SVC]);
		if (d->timed)
			strbuf_printf(out, ",\"week_minutes\":[%u,%u]",
			    (unsigned)g->lo[DD_TIME], (unsigned)g->hi[DD_TIME]);
		strbuf_puts(out, ",\"before\":");
		json_verdict(a, &g->ex_a, &g->va, out);
		strbuf_puts(out, ",\"after\":");
		json_verdict(b, &g->ex_b, &g->vb, out);
		strbuf_putc(out, '}');
	}
	strbuf_puts(out, "]");
	ifaces_json(out, "interfaces_only_old", d->only_a, d->nonly_a);
	ifaces_json(out, "interfaces_only_new", d->only_b, d->nonly_b);
	strbuf_puts(out, ",\"note\":");
	if (note != NULL)
		json_put_string(out, note);
	else
		strbuf_puts(out, "null");
	strbuf_puts(out, "}\n");
	strbuf_free(&t);
}
