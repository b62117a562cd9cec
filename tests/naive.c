/* naive.c: the deliberately plain evaluator of the differential tests.
 *
 * It walks the statements as written: names are looked up by linear
 * search, prefixes are compared bit by bit, exclusion is a negation.
 */
#include "naive.h"

#include <string.h>

static const struct object *
find_object(const struct policy *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->nobject; i++)
		if (strcmp(p->objects[i]->name, name) == 0)
			return p->objects[i];
	return NULL;
}

static const struct service *
find_service(const struct policy *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->nservice; i++)
		if (strcmp(p->services[i]->name, name) == 0)
			return p->services[i];
	return NULL;
}

static bool is_v4(u128 a) { return (a >> 32) == 0xffff; }

/* a within network/plen of the same family, bit by bit. */
static bool
in_prefix(u128 a, u128 net, int plen, bool v4)
{
	int bits = v4 ? 32 : 128, i;

	if (is_v4(a) != v4)
		return false;
	for (i = 0; i < plen; i++) {
		int bit = bits - 1 - i;

		if (((a >> bit) & 1) != ((net >> bit) & 1))
			return false;
	}
	return true;
}

static bool match_expr(const struct policy *p, const struct addr_expr *x,
    u128 a);

static bool
match_object(const struct policy *p, const struct object *o, u128 a)
{
	size_t i;

	switch (o->kind) {
	case OBJ_ANY:
		return true;
	case OBJ_IFIP:
		for (i = 0; i < o->iface->naddr; i++)
			if (o->iface->addrs[i].lit.lo == a)
				return true;
		return false;
	case OBJ_IFNET:
		for (i = 0; i < o->iface->naddr; i++) {
			const struct addr_lit *l = &o->iface->addrs[i].lit;

			if (in_prefix(a, l->lo, l->plen, l->family == FAM_V4))
				return true;
		}
		return false;
	case OBJ_USER:
		return match_expr(p, &o->members, a);
	case OBJ_FQDN:
	case OBJ_URL:
	case OBJ_COUNTRY:
		/* What a feed holds now: the naive way, one by one. */
		for (i = 0; i < o->set.n; i++)
			if (o->set.v[i].lo <= a && a <= o->set.v[i].hi)
				return true;
		return false;
	}
	return false;
}

static bool
match_expr(const struct policy *p, const struct addr_expr *x, u128 a)
{
	bool m = false;
	size_t i;

	for (i = 0; i < x->n && !m; i++) {
		const struct addr_elem *e = &x->v[i];

		if (e->kind == AE_NAME)
			m = match_object(p, find_object(p, e->name), a);
		else if (e->lit.kind == LIT_HOST)
			m = a == e->lit.lo;
		else if (e->lit.kind == LIT_PREFIX)
			m = in_prefix(a, e->lit.lo, e->lit.plen,
			    e->lit.family == FAM_V4);
		else
			m = is_v4(a) == (e->lit.family == FAM_V4) &&
			    e->lit.lo <= a && a <= e->lit.hi;
	}
	return x->exclude ? !m : m;
}

static bool
match_service(const struct service *s, const struct flow *f)
{
	size_t i, j;

	for (i = 0; i < s->n; i++) {
		const struct svc_entry *e = &s->v[i];

		if (e->proto->number != f->proto)
			continue;
		if (e->n == 0 || e->proto->kind == PK_NONE)
			return true;
		for (j = 0; j < e->n; j++)
			if (e->v[j].lo <= f->dport && f->dport <= e->v[j].hi)
				return true;
	}
	return false;
}

static bool
match_services(const struct policy *p, const struct svc_list *l,
    const struct flow *f)
{
	size_t i;

	if (l->n == 0)
		return true;
	for (i = 0; i < l->n; i++)
		if (match_service(find_service(p, l->v[i].name), f))
			return true;
	return false;
}

/* The schedule named name open at f's time: its windows as written, a
 * window that crosses midnight looked for on the day before too. */
static bool
match_schedule(const struct policy *p, const char *name, const struct flow *f)
{
	unsigned day = f->week_min / 1440, m = f->week_min % 1440;
	unsigned yesterday = (day + 6) % 7;
	size_t i, j;

	for (i = 0; i < p->nsched; i++) {
		const struct schedule *s = p->scheds[i];

		if (strcmp(s->name, name) != 0)
			continue;
		for (j = 0; j < s->n; j++) {
			const struct sched_window *w = &s->v[j];

			if (w->end > w->start) {
				if ((w->days >> day & 1) && m >= w->start &&
				    m < w->end)
					return true;
			} else if (((w->days >> day & 1) && m >= w->start) ||
			    ((w->days >> yesterday & 1) && m < w->end))
				return true;
		}
	}
	return false;
}

static bool
match_rule(const struct policy *p, const struct rule *r, const struct flow *f,
    u128 dst)
{
	return !r->disabled && strcmp(r->ifname, f->iface->name) == 0 &&
	    match_expr(p, &r->src, f->src) && match_expr(p, &r->dst, dst) &&
	    match_services(p, &r->svc, f) && (r->sched_name == NULL ||
	    match_schedule(p, r->sched_name, f));
}

/* An interface that a nat, a forward or a gateway names: no reflection
 * for the connections that arrive on it. */
static bool
naive_external(const struct policy *p, const char *name)
{
	size_t j;

	for (j = 0; j < p->nnat; j++)
		if (strcmp(p->nats[j]->ifname, name) == 0)
			return true;
	for (j = 0; j < p->nforward; j++)
		if (strcmp(p->forwards[j]->ifname, name) == 0)
			return true;
	for (j = 0; j < p->nnat_rule; j++)
		if (strcmp(p->nat_rules[j]->ifname, name) == 0)
			return true;
	for (j = 0; j < p->nnat_one; j++)
		if (strcmp(p->nat_ones[j]->ifname, name) == 0)
			return true;
	for (j = 0; j < p->ngateway; j++)
		if (strcmp(p->gateways[j]->ifname, name) == 0)
			return true;
	return false;
}

static bool
is_gateway(const struct iface *ifc, u128 a)
{
	size_t i;

	for (i = 0; i < ifc->naddr; i++)
		if (ifc->addrs[i].lit.lo == a)
			return true;
	return false;
}

void
naive_eval(const struct policy *p, const struct flow *f, enum action *action,
    enum decided_by *by, int *rule)
{
	const struct forward *fw = NULL;
	u128 dst = f->dst;
	size_t i;

	*rule = 0;
	if (!p->firewall) {
		*action = ACT_ACCEPT;
		*by = BY_FIREWALL_OFF;
		return;
	}
	for (i = 0; i < p->nforward && fw == NULL; i++) {
		const struct forward *c = p->forwards[i];
		const struct iface *at = NULL;
		bool v4 = is_v4(f->dst), own, external = false;
		size_t j;

		/* Reflection: from an interface that no nat, forward or
		 * gateway names, to the forward's interface's address. */
		for (j = 0; j < p->niface; j++)
			if (strcmp(p->ifaces[j]->name, c->ifname) == 0)
				at = p->ifaces[j];
		external = naive_external(p, f->iface->name);
		own = strcmp(c->ifname, f->iface->name) == 0;
		if (at != NULL && (own || (c->reflection && !external)) &&
		    is_gateway(at, f->dst) &&
		    match_services(p, &c->svc, f) &&
		    (v4 ? c->has4 : c->has6)) {
			fw = c;
			dst = v4 ? c->to4 : c->to6;
		}
	}
	/* nat one-to-one on IF PUBLIC to INSIDE: the public addresses
	 * arriving on IF go to the inside ones, address by address; with
	 * reflection, arriving on an internal interface too. */
	for (i = 0; i < p->nnat_one && fw == NULL; i++) {
		const struct nat_one *n = p->nat_ones[i];
		u128 pub = n->pub.v[0].lit.lo, in = n->inside.v[0].lit.lo;

		if ((strcmp(n->ifname, f->iface->name) == 0 ||
		    (n->reflection && !naive_external(p, f->iface->name))) &&
		    match_expr(p, &n->pub, f->dst)) {
			dst = in + (f->dst - pub);
			break;
		}
	}
	if (p->anti_lockout && strcmp(f->iface->name, "LAN") == 0 &&
	    is_gateway(f->iface, dst) && f->proto == 6 &&
	    (f->dport == 22 || f->dport == 80 || f->dport == 443)) {
		*action = ACT_ACCEPT;
		*by = BY_ANTILOCKOUT;
		return;
	}
	for (i = 0; i < p->nrule; i++)
		if (match_rule(p, p->rules[i], f, dst)) {
			*action = p->rules[i]->action;
			*by = BY_RULE;
			*rule = p->rules[i]->number;
			return;
		}
	if (fw != NULL) {
		*action = ACT_ACCEPT;
		*by = BY_FORWARD;
		return;
	}
	*action = f->iface->def_set ? f->iface->def :
	    strcmp(f->iface->name, "LAN") == 0 ? ACT_ACCEPT : ACT_DENY;
	*by = BY_DEFAULT;
}
