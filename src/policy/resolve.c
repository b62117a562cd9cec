/* resolve.c: bind names and compute what every rule matches.
 *
 * After the parser, names are text.  This step binds interfaces, objects
 * and services, turns each address expression into an interval set (with
 * exclusion applied over the whole address space) and each service list
 * into a set of protocol/port keys, checks what only makes sense with the
 * whole file known (unknown names, cycles, families), and synthesizes the
 * anti-lockout rule.
 */
#include "policy/resolve.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "base/hash.h"

#define SVC_KEY_MAX	((u128)0xffffff)

struct resolver {
	struct policy	 *p;
	struct arena	 *a;
	const char	**object_names;		/* for "did you mean" */
	size_t		  nobject_names;
	const char	**service_names;
	size_t		  nservice_names;
	const char	**iface_names;
	size_t		  niface_names;
	struct object	 *path[OBJECT_DEPTH_MAX + 1];
	int		  depth;
};

static void
unknown_name(struct resolver *rs, struct loc loc, const char *kind,
    const char *name, const char **names, size_t n)
{
	const char *near = nearest_name(name, names, n);

	if (near != NULL)
		diag_error(&rs->p->diags, loc, "unknown %s '%s'; did you mean "
		    "%s?", kind, name, near);
	else
		diag_error(&rs->p->diags, loc, "unknown %s '%s'", kind, name);
}

/* The same letters, in any order and case: a typo of one name for
 * another, not another word. */
static bool
same_letters(const char *a, const char *b)
{
	int count[256] = { 0 };
	size_t i;

	if (strlen(a) != strlen(b))
		return false;
	for (; *a != '\0'; a++, b++) {
		count[tolower((unsigned char)*a)]++;
		count[tolower((unsigned char)*b)]--;
	}
	for (i = 0; i < 256; i++)
		if (count[i] != 0)
			return false;
	return true;
}

/* An unknown object.  XIP and XNET of an interface X that is not declared
 * are not typos of another zone's (WANIP is not LANIP): they exist once X
 * is declared. */
static void
unknown_object(struct resolver *rs, struct loc loc, const char *name)
{
	size_t len = strlen(name), k;
	static const char *const suffix[] = { "IP", "NET" };

	for (k = 0; k < 2; k++) {
		size_t sl = strlen(suffix[k]);

		if (len > sl && strcmp(name + len - sl, suffix[k]) == 0) {
			diag_error(&rs->p->diags, loc, "unknown object '%s': "
			    "%s (%s %.*s) exists once interface %.*s is "
			    "declared", name, name, k == 0 ? "the gateway's "
			    "addresses on" : "the networks attached to",
			    (int)(len - sl), name, (int)(len - sl), name);
			return;
		}
	}
	unknown_name(rs, loc, "object", name, rs->object_names,
	    rs->nobject_names);
}

static struct iface *
bind_iface(struct resolver *rs, const char *name, struct loc loc)
{
	size_t i;

	for (i = 0; i < rs->p->niface; i++)
		if (strcmp(rs->p->ifaces[i]->name, name) == 0)
			return rs->p->ifaces[i];
	/* No "did you mean" by edit distance: zone names are short and
	 * alike (LAN, WAN), and the nearest one is another zone, not a typo.
	 * The same letters in another order or case are one (LNA, lan). */
	for (i = 0; i < rs->p->niface; i++)
		if (same_letters(rs->p->ifaces[i]->name, name)) {
			diag_error(&rs->p->diags, loc, "unknown interface '%s'; "
			    "did you mean %s?", name, rs->p->ifaces[i]->name);
			return NULL;
		}
	diag_error(&rs->p->diags, loc, "unknown interface '%s': declare it "
	    "first (interface %s device DEV [address ADDR/LEN])", name, name);
	return NULL;
}

static int resolve_object(struct resolver *rs, struct object *o,
    struct loc used_at);

static struct iset
lit_set(struct resolver *rs, const struct addr_lit *lit)
{
	return addr_lit_set(rs->a, lit);
}

/* The set of an expression; -1 on an error (reported). */
static int
resolve_expr(struct resolver *rs, struct addr_expr *x)
{
	struct ival *parts = NULL;
	size_t i, j, n = 0, cap = 0;
	int rc = 0;

	/* The common case, one name: share the object's set. */
	for (i = 0; i < x->n; i++) {
		struct addr_elem *e = &x->v[i];

		if (e->kind == AE_LIT) {
			struct ival v[2];
			size_t k, m = addr_span(e->lit.lo, e->lit.hi,
			    e->lit.family, v);

			for (k = 0; k < m; k++) {
				ARENA_PUSH(rs->a, parts, n, cap);
				parts[n - 1] = v[k];
			}
			continue;
		}
		e->obj = policy_object(rs->p, e->name);
		if (e->obj == NULL) {
			unknown_object(rs, e->loc, e->name);
			rc = -1;
			continue;
		}
		if (resolve_object(rs, e->obj, e->loc) == -1) {
			rc = -1;
			continue;
		}
		x->dynamic |= e->obj->dynamic;
		if (x->n == 1)
			break;
		for (j = 0; j < e->obj->set.n; j++) {
			ARENA_PUSH(rs->a, parts, n, cap);
			parts[n - 1] = e->obj->set.v[j];
		}
	}
	if (rc == -1)
		return -1;
	if (x->n == 1 && x->v[0].kind == AE_NAME)
		x->set = x->v[0].obj->set;
	else if (x->n == 1)
		x->set = lit_set(rs, &x->v[0].lit);
	else
		x->set = iset_from(rs->a, parts, n);
	if (x->exclude)
		x->set = iset_complement(rs->a, x->set, 0, U128_MAX);
	return 0;
}

/* A dynamic interface's addresses: those the binding gives its device
 * (or its name), none without a binding. */
static void
bind_dynamic(struct resolver *rs, struct iface *ifc)
{
	const struct binding *b = rs->p->binding;
	size_t i, cap = 0;

	ifc->nbound = 0;
	for (i = 0; b != NULL && i < b->n; i++)
		if (strcmp(b->v[i].name, ifc->device) == 0 ||
		    strcmp(b->v[i].name, ifc->name) == 0) {
			ARENA_PUSH(rs->a, ifc->bound, ifc->nbound, cap);
			ifc->bound[ifc->nbound - 1] = b->v[i].lit;
		}
}

static void
iface_sets(struct resolver *rs, struct iface *ifc)
{
	struct ival *hosts, *nets;
	size_t i, n;

	const struct ha_conf *ha = &rs->p->ha;
	size_t nh, nn;

	if (ifc->dynamic)
		bind_dynamic(rs, ifc);
	n = ifc->dynamic ? ifc->nbound : ifc->naddr;
	hosts = arena_array(rs->a, n + ha->nvip + 1, sizeof(*hosts));
	nets = arena_array(rs->a, 2 * n + 1, sizeof(*nets));
	for (i = 0, nn = 0; i < n; i++) {
		const struct addr_lit *l = ifc->dynamic ? &ifc->bound[i] :
		    &ifc->addrs[i].lit;
		u128 lo, hi;

		hosts[i].lo = hosts[i].hi = l->lo;
		addr_network(l->lo, l->family, l->plen, &lo, &hi);
		nn += addr_span(lo, hi, l->family, nets + nn);
	}
	/* In an HA pair XIP holds the interface's VIPs too (the relay and
	 * the console listen there); they lie in its networks (checked). */
	for (i = 0, nh = n; i < ha->nvip; i++)
		if (strcmp(ha->vips[i].ifname, ifc->name) == 0) {
			hosts[nh].lo = hosts[nh].hi = ha->vips[i].lit.lo;
			nh++;
		}
	/* After a name clash one of the two may be missing (reported). */
	if (ifc->ip_obj != NULL) {
		ifc->ip_obj->set = iset_from(rs->a, hosts, nh);
		ifc->ip_obj->dynamic = ifc->dynamic;
		ifc->ip_obj->state = 2;
	}
	if (ifc->net_obj != NULL) {
		ifc->net_obj->set = iset_from(rs->a, nets, nn);
		ifc->net_obj->dynamic = ifc->dynamic;
		ifc->net_obj->state = 2;
	}
}

/* What a feed object holds now: what the binding says, else nothing. */
static void
bind_feed(struct resolver *rs, struct object *o)
{
	const struct binding *b = rs->p->binding;

	o->set.n = 0;
	o->set.v = NULL;
	if (b != NULL && b->feed != NULL &&
	    b->feed(b->feed_arg, o, rs->a, &o->set) == -1) {
		o->set.n = 0;
		o->set.v = NULL;
	}
	o->dynamic = true;
	o->depth = 1;
	o->state = 2;
}

/* The settings feed objects need: a GeoIP database for country objects,
 * and dns-min-ttl no more than dns-max-ttl. */
static void
resolve_feeds(struct resolver *rs)
{
	struct policy *p = rs->p;
	size_t i;

	if (p->dns_min_ttl > p->dns_max_ttl) {
		struct loc at = { .file = p->file, .line = p->dns_min_line ?
		    p->dns_min_line : p->dns_max_line, .col = 1 };

		diag_error(&p->diags, at, "dns-min-ttl (%us) is over "
		    "dns-max-ttl (%us)", p->dns_min_ttl, p->dns_max_ttl);
	}
	if (p->geoip_database != NULL)
		return;
	for (i = 0; i < p->nobject; i++)
		if (p->objects[i]->kind == OBJ_COUNTRY) {
			diag_error(&p->diags, p->objects[i]->loc, "object %s "
			    "names countries, which come from a GeoIP database: "
			    "say where it is (geoip-database "
			    "/var/lib/GeoIP/GeoLite2-Country.mmdb)",
			    p->objects[i]->name);
			return;
		}
}

static int
resolve_object(struct resolver *rs, struct object *o, struct loc used_at)
{
	int i, rc;

	if (o->state == 2)
		return 0;
	if (o->state == 1) {
		char chain[512];
		size_t len = 0;

		/* Name the loop: A → B → A. */
		chain[0] = '\0';
		for (i = 0; i < rs->depth; i++)
			if (rs->path[i] == o)
				break;
		for (; i < rs->depth && len < sizeof(chain) - 80; i++)
			len += (size_t)snprintf(chain + len, sizeof(chain) - len,
			    "%s -> ", rs->path[i]->name);
		snprintf(chain + len, sizeof(chain) - len, "%s", o->name);
		diag_error(&rs->p->diags, used_at, "object %s contains itself "
		    "(%s)", o->name, chain);
		return -1;
	}
	if (rs->depth == OBJECT_DEPTH_MAX) {
		diag_error(&rs->p->diags, used_at, "objects nested more than %d "
		    "deep", OBJECT_DEPTH_MAX);
		return -1;
	}
	switch (o->kind) {
	case OBJ_ANY:
		o->set = iset_range(rs->a, 0, U128_MAX);
		o->state = 2;
		return 0;
	case OBJ_IFIP:
	case OBJ_IFNET:
		iface_sets(rs, o->iface);
		return 0;
	case OBJ_FQDN:
	case OBJ_URL:
	case OBJ_COUNTRY:
		bind_feed(rs, o);
		return 0;
	case OBJ_USER:
		break;
	}
	o->state = 1;
	rs->path[rs->depth++] = o;
	rc = resolve_expr(rs, &o->members);
	rs->depth--;
	/* The same limit whatever order the objects are defined in. */
	o->depth = 1;
	for (i = 0; i < (int)o->members.n; i++)
		if (o->members.v[i].obj != NULL &&
		    o->members.v[i].obj->depth + 1 > o->depth)
			o->depth = o->members.v[i].obj->depth + 1;
	if (rc == 0 && o->depth > OBJECT_DEPTH_MAX) {
		diag_error(&rs->p->diags, o->loc, "object %s nests objects %d "
		    "deep; the limit is %d", o->name, o->depth,
		    OBJECT_DEPTH_MAX);
		rc = -1;
	}
	/* After an error, mark it done so one fault is reported once. */
	o->state = 2;
	o->set = o->members.set;
	o->dynamic = o->members.dynamic;
	return rc;
}

static void
resolve_service(struct resolver *rs, struct service *s)
{
	struct ival *v = NULL;
	size_t i, j, n = 0, cap = 0;

	s->family = FAM_NONE;
	for (i = 0; i < s->n; i++) {
		const struct svc_entry *e = &s->v[i];
		u128 base = (u128)e->proto->number << 16;

		s->family |= e->proto->family;
		if (e->n == 0) {
			ARENA_PUSH(rs->a, v, n, cap);
			v[n - 1].lo = base;
			v[n - 1].hi = base | 0xffff;
		}
		for (j = 0; j < e->n; j++) {
			ARENA_PUSH(rs->a, v, n, cap);
			v[n - 1].lo = base | e->v[j].lo;
			v[n - 1].hi = base | e->v[j].hi;
		}
	}
	s->set = iset_from(rs->a, v, n);
}

/* Bind a service list; its set, or every service when empty.  Returns the
 * families its services exist in, or -1 on an error. */
static int
resolve_svc_list(struct resolver *rs, struct svc_list *l)
{
	enum addr_family fam = FAM_NONE;
	struct iset set = { 0, NULL };
	size_t i;
	int rc = 0;

	if (l->n == 0) {
		l->set = iset_range(rs->a, 0, SVC_KEY_MAX);
		return FAM_BOTH;
	}
	for (i = 0; i < l->n; i++) {
		struct svc_ref *r = &l->v[i];

		r->svc = policy_service(rs->p, r->name);
		if (r->svc == NULL) {
			unknown_name(rs, r->loc, "service", r->name,
			    rs->service_names, rs->nservice_names);
			rc = -1;
			continue;
		}
		fam |= r->svc->family;
		set = l->n == 1 ? r->svc->set : iset_union(rs->a, set,
		    r->svc->set);
	}
	l->set = set;
	return rc == -1 ? -1 : (int)fam;
}

static const char *
family_words(enum addr_family f)
{
	return f == FAM_V4 ? "IPv4 only" : f == FAM_V6 ? "IPv6 only" :
	    "both families";
}

static void
resolve_rule(struct resolver *rs, struct rule *r)
{
	enum addr_family fs, fd;
	bool src_ok, dst_ok;
	int fsvc;

	r->iface = bind_iface(rs, r->ifname, r->if_loc);
	src_ok = resolve_expr(rs, &r->src) == 0;
	dst_ok = resolve_expr(rs, &r->dst) == 0;
	fsvc = resolve_svc_list(rs, &r->svc);
	if (!src_ok || !dst_ok || fsvc == -1)
		return;
	fs = addr_set_families(r->src.set);
	fd = addr_set_families(r->dst.set);
	/* An empty side is a lint finding (it never matches), not an error;
	 * the families of a dynamic address are known only when it is. */
	if (fs == FAM_NONE || fd == FAM_NONE || policy_rule_dynamic(r))
		return;
	/* Sides only in different families: lint says it never matches. */
	if ((fs & fd) == 0)
		return;
	if ((fs & fd & (enum addr_family)fsvc) == 0)
		diag_error(&rs->p->diags, r->svc.v[0].loc, "rule %d mixes "
		    "address families: its services exist in %s, its "
		    "addresses in %s", r->number,
		    family_words((enum addr_family)fsvc), family_words(fs & fd));
}

/* Each rule's schedule bound; the scheduled accept rules numbered for
 * their connections' ct mark (enforce/nftc.h), which has room for
 * SCHED_MARKS_MAX. */
static void
resolve_schedules(struct resolver *rs)
{
	struct policy *p = rs->p;
	const char **names = arena_array(rs->a, p->nsched + 1, sizeof(char *));
	unsigned marks = 0;
	size_t i;

	for (i = 0; i < p->nsched; i++)
		names[i] = p->scheds[i]->name;
	for (i = 0; i < p->nrule && !diags_full(&p->diags); i++) {
		struct rule *r = p->rules[i];

		if (r->sched_name == NULL)
			continue;
		if ((r->sched = policy_schedule(p, r->sched_name)) == NULL) {
			unknown_name(rs, r->sched_loc, "schedule",
			    r->sched_name, names, p->nsched);
			continue;
		}
		r->sched->used = true;
		if (r->action != ACT_ACCEPT || r->disabled)
			continue;
		if (++marks > SCHED_MARKS_MAX) {
			diag_error(&p->diags, r->sched_loc, "rule %d is the "
			    "%uth accept rule with a schedule: the connections "
			    "they admit are told apart by 16 bits of their "
			    "conntrack mark, so at most %u can have one",
			    r->number, marks, SCHED_MARKS_MAX);
			continue;
		}
		r->sched_mark = marks;
	}
}

static void
resolve_forward(struct resolver *rs, struct forward *f)
{
	size_t i, j;
	u128 lo, hi;
	int count4 = 0, count6 = 0;

	f->iface = bind_iface(rs, f->ifname, f->if_loc);
	if (resolve_svc_list(rs, &f->svc) == -1 ||
	    resolve_expr(rs, &f->target) == -1)
		return;
	if (policy_expr_has_feed(&f->target)) {
		diag_error(&rs->p->diags, f->target.loc, "a port forward goes "
		    "to a fixed host: an object that follows a feed (fqdn, url, "
		    "country) cannot be its target");
		return;
	}
	for (i = 0; i < f->svc.n; i++)
		for (j = 0; j < f->svc.v[i].svc->n; j++)
			if (f->svc.v[i].svc->v[j].proto->kind != PK_PORTS) {
				diag_error(&rs->p->diags, f->svc.v[i].loc, "a "
				    "port forward needs tcp, udp or sctp "
				    "services; %s has %s", f->svc.v[i].name,
				    f->svc.v[i].svc->v[j].proto->name);
				return;
			}
	for (i = 0; i < f->target.set.n; i++) {
		lo = f->target.set.v[i].lo;
		hi = f->target.set.v[i].hi;
		if (addr_family_of(lo) == FAM_V4) {
			count4 += lo == hi ? 1 : 2;
			f->to4 = lo;
		} else {
			count6 += lo == hi ? 1 : 2;
			f->to6 = lo;
		}
	}
	if (count4 > 1 || count6 > 1) {
		diag_error(&rs->p->diags, f->target.loc, "a port forward goes "
		    "to one host (one IPv4 and/or one IPv6 address), but this "
		    "target holds more");
		return;
	}
	f->has4 = count4 == 1;
	f->has6 = count6 == 1;
	/* A forward rewrites connections to the interface's own addresses:
	 * without one of the target's family, nothing ever arrives to be
	 * forwarded (an empty chain, and the office's mail silently lost). */
	if (f->iface != NULL && !f->iface->dynamic) {
		bool v4 = false, v6 = false;

		for (i = 0; i < f->iface->naddr; i++) {
			if (f->iface->addrs[i].lit.family == FAM_V4)
				v4 = true;
			else
				v6 = true;
		}
		if (!(f->has4 && v4) && !(f->has6 && v6))
			diag_error(&rs->p->diags, f->loc, "port forward %d "
			    "rewrites connections to %s's own %s address, and "
			    "it has none: nothing would ever be forwarded; give "
			    "interface %s its address, or say address dynamic "
			    "when DHCP or PPPoE gives it one", f->number,
			    f->iface->name, f->has4 ? "IPv4" : "IPv6",
			    f->iface->name);
	}
}

/* A side of a nat source rule that follows a feed or a dynamic address
 * is matched in the kernel as that object's own set, which moatd keeps:
 * so it must be that object alone. */
static int
nat_side_ok(struct resolver *rs, const struct nat_rule *n,
    const struct addr_expr *x, const char *side)
{
	if (!x->dynamic || (x->n == 1 && x->v[0].kind == AE_NAME))
		return 0;
	diag_error(&rs->p->diags, x->loc, "nat source %d: an object that "
	    "follows a feed (fqdn, url, country) or a dynamic address may "
	    "be its %s only alone, not in a list", n->number, side);
	return -1;
}

static void
resolve_nat_rule(struct resolver *rs, struct nat_rule *n)
{
	enum addr_family fs;
	int count4 = 0, count6 = 0, fsvc;
	size_t i;

	n->iface = bind_iface(rs, n->ifname, n->if_loc);
	if (resolve_expr(rs, &n->src) == -1 ||
	    resolve_expr(rs, &n->dst) == -1 ||
	    (fsvc = resolve_svc_list(rs, &n->svc)) == -1 ||
	    nat_side_ok(rs, n, &n->src, "from") == -1 ||
	    nat_side_ok(rs, n, &n->dst, "to") == -1)
		return;
	(void)fsvc;
	if (n->kind != NAT_TO_ADDRESS)
		return;
	if (resolve_expr(rs, &n->to) == -1)
		return;
	if (n->to.dynamic) {
		diag_error(&rs->p->diags, n->to.loc, "nat source %d translates "
		    "to an address that follows a feed or a dynamic interface; "
		    "say translate masquerade for the interface's own address",
		    n->number);
		return;
	}
	for (i = 0; i < n->to.set.n; i++) {
		u128 lo = n->to.set.v[i].lo, hi = n->to.set.v[i].hi;

		if (addr_family_of(lo) == FAM_V4) {
			count4 += lo == hi ? 1 : 2;
			n->to4 = lo;
		} else {
			count6 += lo == hi ? 1 : 2;
			n->to6 = lo;
		}
	}
	if (count4 > 1 || count6 > 1 || count4 + count6 == 0) {
		diag_error(&rs->p->diags, n->to.loc, "nat source %d translates "
		    "to one address (one IPv4 and/or one IPv6), but this holds "
		    "%s", n->number, count4 + count6 == 0 ? "none" : "more");
		return;
	}
	n->has4 = count4 == 1;
	n->has6 = count6 == 1;
	fs = addr_set_families(n->src.set);
	if (!n->src.dynamic && fs != FAM_NONE &&
	    !((fs & FAM_V4) && n->has4) && !((fs & FAM_V6) && n->has6))
		diag_error(&rs->p->diags, n->to.loc, "nat source %d translates "
		    "to an %s address, and its from holds none of that family: "
		    "it would never apply", n->number, n->has4 ? "IPv4" :
		    "IPv6");
}

/* One interval of x (a 1:1 side), or -1 with the error said. */
static int
one_side(struct resolver *rs, const struct nat_one *n,
    struct addr_expr *x, const char *what, u128 *lo, u128 *hi)
{
	if (resolve_expr(rs, x) == -1)
		return -1;
	if (x->dynamic || x->set.n != 1) {
		diag_error(&rs->p->diags, x->loc, "nat one-to-one %d: the %s "
		    "side is one address or one network (fixed, not a feed or "
		    "a dynamic address)", n->number, what);
		return -1;
	}
	*lo = x->set.v[0].lo;
	*hi = x->set.v[0].hi;
	return 0;
}

static void
resolve_nat_one(struct resolver *rs, struct nat_one *n)
{
	struct policy *p = rs->p;
	u128 plo, phi, ilo, ihi;
	size_t i;

	n->iface = bind_iface(rs, n->ifname, n->if_loc);
	if (one_side(rs, n, &n->pub, "public", &plo, &phi) == -1 ||
	    one_side(rs, n, &n->inside, "inside", &ilo, &ihi) == -1)
		return;
	if (addr_family_of(plo) != addr_family_of(ilo)) {
		diag_error(&p->diags, n->inside.loc, "nat one-to-one %d maps "
		    "an %s address to an %s one: both sides are of one family",
		    n->number, addr_family_of(plo) == FAM_V4 ? "IPv4" : "IPv6",
		    addr_family_of(ilo) == FAM_V4 ? "IPv4" : "IPv6");
		return;
	}
	if (phi - plo != ihi - ilo) {
		diag_error(&p->diags, n->inside.loc, "nat one-to-one %d maps "
		    "address by address, and its sides differ in size (%llu "
		    "public, %llu inside)", n->number,
		    (unsigned long long)(phi - plo + 1),
		    (unsigned long long)(ihi - ilo + 1));
		return;
	}
	if (phi - plo >= NAT_ONE_MAX) {
		diag_error(&p->diags, n->pub.loc, "nat one-to-one %d maps "
		    "more than %d addresses; split it", n->number,
		    NAT_ONE_MAX);
		return;
	}
	n->family = addr_family_of(plo);
	n->pub_lo = plo;
	n->in_lo = ilo;
	n->size = phi - plo + 1;
	if (n->iface != NULL && iset_overlaps(n->iface->ip_obj->set,
	    n->pub.set)) {
		diag_error(&p->diags, n->pub.loc, "nat one-to-one %d: its "
		    "public side holds %s's own address, which the gateway "
		    "needs for itself (and its port forwards); map other "
		    "addresses", n->number, n->iface->name);
		return;
	}
	for (i = 0; i + 1 < (size_t)n->number; i++) {
		const struct nat_one *o = p->nat_ones[i];

		if (o->size == 0)
			continue;
		if (iset_overlaps(o->pub.set, n->pub.set))
			diag_error(&p->diags, n->pub.loc, "nat one-to-one %d: "
			    "a public address of it is mapped already by "
			    "nat one-to-one %d at line %d", n->number,
			    o->number, o->loc.line);
		else if (iset_overlaps(o->inside.set, n->inside.set))
			diag_error(&p->diags, n->inside.loc, "nat one-to-one "
			    "%d: an inside address of it is mapped already by "
			    "nat one-to-one %d at line %d", n->number,
			    o->number, o->loc.line);
	}
}

/* The network of an interface address or a VIP. */
static void
lit_network(const struct addr_lit *l, u128 *lo, u128 *hi)
{
	addr_network(l->lo, l->family, l->plen, lo, hi);
}

/* keepalived reads '#' and '!' as comments and braces and quotes as its
 * own: a device of the pair's may hold none of them. */
static void
ha_device(struct resolver *rs, const struct iface *ifc, struct loc loc)
{
	const char *c;

	for (c = ifc->device; *c != '\0'; c++)
		if (strchr("#!{}\"\\", *c) != NULL ||
		    (unsigned char)*c >= 0x7f) {
			diag_error(&rs->p->diags, loc, "device %s of interface "
			    "%s cannot be named in keepalived's configuration "
			    "(no '#', '!', braces, quotes, backslashes or "
			    "bytes beyond ASCII)", ifc->device, ifc->name);
			return;
		}
}

/* The sync interface: a fixed address, the peer on its network. */
static void
resolve_ha_sync(struct resolver *rs)
{
	struct policy *p = rs->p;
	struct ha_conf *ha = &p->ha;
	char buf[2 * ADDR_STRLEN + 8];
	bool on_net = false;
	size_t i;

	if (ha->sync_ifname == NULL) {
		diag_error(&p->diags, ha->loc, "the ha block needs a "
		    "sync-interface: the interface that joins the two nodes");
		return;
	}
	if ((ha->sync = bind_iface(rs, ha->sync_ifname, ha->sync_loc)) ==
	    NULL)
		return;
	ha_device(rs, ha->sync, ha->sync_loc);
	if (ha->sync->dynamic || ha->sync->naddr == 0) {
		diag_error(&p->diags, ha->sync_loc, "the sync interface %s "
		    "needs a fixed address", ha->sync->name);
		return;
	}
	if (ha->peer_loc.line == 0)
		return;
	for (i = 0; i < ha->sync->naddr; i++) {
		u128 lo, hi;

		lit_network(&ha->sync->addrs[i].lit, &lo, &hi);
		if (ha->peer.lo == ha->sync->addrs[i].lit.lo)
			diag_error(&p->diags, ha->peer_loc, "the peer is this "
			    "node's own address on %s", ha->sync->name);
		on_net |= ha->peer.family == ha->sync->addrs[i].lit.family &&
		    ha->peer.lo >= lo && ha->peer.lo <= hi;
	}
	if (!on_net) {
		addr_lit_format(&ha->sync->addrs[0].lit, buf, sizeof(buf));
		diag_error(&p->diags, ha->peer_loc, "the peer is not on the "
		    "sync interface's network (%s has %s)", ha->sync->name,
		    buf);
	}
}

/* One VIP: on a fixed interface other than the sync one, inside one of
 * its networks, not its own address, not in the network of another. */
static void
resolve_ha_vip(struct resolver *rs, size_t i)
{
	struct policy *p = rs->p;
	struct ha_conf *ha = &p->ha;
	struct ha_vip *v = &ha->vips[i];
	char buf[2 * ADDR_STRLEN + 8];
	u128 lo, hi, vlo, vhi;
	bool inside = false;
	size_t j;

	if ((v->iface = bind_iface(rs, v->ifname, v->if_loc)) == NULL)
		return;
	ha_device(rs, v->iface, v->if_loc);
	if (v->iface == ha->sync) {
		diag_error(&p->diags, v->if_loc, "a vip on the sync interface: "
		    "the sync link is the nodes' own");
		return;
	}
	if (v->iface->dynamic || v->iface->naddr == 0) {
		diag_error(&p->diags, v->if_loc, "a vip on %s, which has no "
		    "fixed address of this node's", v->ifname);
		return;
	}
	lit_network(&v->lit, &vlo, &vhi);
	for (j = 0; j < v->iface->naddr; j++) {
		const struct addr_lit *a = &v->iface->addrs[j].lit;

		lit_network(a, &lo, &hi);
		if (a->lo == v->lit.lo)
			diag_error(&p->diags, v->loc, "the vip is this node's "
			    "own address on %s; a vip is the address the two "
			    "nodes share", v->ifname);
		if (a->family == v->lit.family && lo == vlo && hi == vhi)
			inside = true;
	}
	if (!inside) {
		addr_lit_format(&v->iface->addrs[0].lit, buf, sizeof(buf));
		diag_error(&p->diags, v->loc, "the vip is outside %s's "
		    "network (%s has %s)", v->ifname, v->ifname, buf);
	}
	for (j = 0; j < i; j++) {
		lit_network(&ha->vips[j].lit, &lo, &hi);
		if (lo == vlo && hi == vhi)
			diag_error(&p->diags, v->loc, "a second vip in one "
			    "network (line %d has one): one vip a network",
			    ha->vips[j].loc.line);
	}
}

/* The ha block: what it needs, and each VIP. */
static void
resolve_ha(struct resolver *rs)
{
	struct policy *p = rs->p;
	struct ha_conf *ha = &p->ha;
	size_t i;

	if (!ha->present)
		return;
	if (ha->peer_loc.line == 0)
		diag_error(&p->diags, ha->loc, "the ha block needs a peer: the "
		    "other node's address on the sync interface (peer "
		    "10.99.0.2)");
	resolve_ha_sync(rs);
	if (ha->nvip == 0)
		diag_error(&p->diags, ha->loc, "the ha block has no vip: the "
		    "addresses the master holds (vip LAN 192.168.1.1/24)");
	if (ha->secret == NULL)
		diag_error(&p->diags, ha->loc, "the ha block needs a secret, "
		    "the same on both nodes (secret \"...\")");
	for (i = 0; i < ha->nvip; i++)
		resolve_ha_vip(rs, i);
	if (ha->sync != NULL && ha->peer_loc.line > 0 &&
	    p->diags.nerrors == 0) {
		char peer[2 * ADDR_STRLEN + 8];

		addr_lit_format(&ha->peer, peer, sizeof(peer));
		diag_add(&p->diags, DIAG_NOTE, ha->loc, "ha: VRRP (protocol "
		    "112), conntrackd (udp %d) and moatd's config sync (tcp %d) "
		    "are admitted from %s on %s, and only there",
		    HA_CONNTRACK_PORT, HA_SYNC_PORT, peer, ha->sync->name);
	}
	if (ha->router_id + ha->nvip - 1 > 255)
		diag_error(&p->diags, ha->loc, "router-id %u leaves no room for "
		    "%zu VRRP instances (ids go up to 255)", ha->router_id,
		    ha->nvip);
}

/* Gateways (doc/design/gateways.md) */

static const char *
fam_name(enum addr_family f)
{
	return f == FAM_V4 ? "IPv4" : "IPv6";
}

/* fe80::/10: an IPv6 router's usual next-hop address, on every link. */
static bool
link_local(const struct addr_lit *l)
{
	return l->family == FAM_V6 && (unsigned)(l->lo >> 118) == 0x3fa;
}

/* A gateway: its interface, its next hop on that interface's networks
 * (any link-local one, and any on a dynamic interface), no other gateway
 * with the same next hop there. */
static void
resolve_gateway(struct resolver *rs, struct gateway *g)
{
	struct policy *p = rs->p;
	char buf[2 * ADDR_STRLEN + 8], via[ADDR_STRLEN];
	bool inside = false;
	size_t i;

	if ((g->iface = bind_iface(rs, g->ifname, g->if_loc)) == NULL)
		return;
	addr_format(g->via.lo, via, sizeof(via));
	for (i = 0; i < g->index - 1; i++) {
		const struct gateway *o = p->gateways[i];

		if (o->iface == g->iface && o->via.lo == g->via.lo) {
			diag_error(&p->diags, g->via_loc, "gateway %s: gateway %s"
			    " (line %d) is the same next hop %s on %s", g->name,
			    o->name, o->loc.line, via, g->ifname);
			return;
		}
	}
	for (i = 0; i < g->iface->naddr; i++) {
		const struct addr_lit *a = &g->iface->addrs[i].lit;
		u128 lo, hi;

		if (a->family != g->via.family)
			continue;
		if (a->lo == g->via.lo) {
			diag_error(&p->diags, g->via_loc, "gateway %s: %s is "
			    "this gateway's own address on %s; via is the next "
			    "hop's (the router of the link)", g->name, via,
			    g->ifname);
			return;
		}
		addr_network(a->lo, a->family, a->plen, &lo, &hi);
		inside |= g->via.lo >= lo && g->via.lo <= hi;
	}
	if (inside || g->iface->dynamic || link_local(&g->via))
		return;
	if (g->iface->naddr == 0) {
		diag_error(&p->diags, g->via_loc, "gateway %s: interface %s has "
		    "no address, so its next hop %s is on no network of it; "
		    "give %s its address, or say address dynamic when DHCP or "
		    "PPPoE gives it one", g->name, g->ifname, via, g->ifname);
		return;
	}
	buf[0] = '\0';
	for (i = 0; i < g->iface->naddr; i++)
		if (g->iface->addrs[i].lit.family == g->via.family) {
			addr_lit_format(&g->iface->addrs[i].lit, buf,
			    sizeof(buf));
			break;
		}
	if (buf[0] != '\0')
		diag_error(&p->diags, g->via_loc, "gateway %s: its next hop %s "
		    "is outside %s's networks (%s has %s): a next hop is on "
		    "the link", g->name, via, g->ifname, g->ifname, buf);
	else
		diag_error(&p->diags, g->via_loc, "gateway %s: its next hop %s "
		    "is %s, and interface %s has no %s address", g->name, via,
		    fam_name(g->via.family), g->ifname,
		    fam_name(g->via.family));
}

static const char **
gw_names(struct resolver *rs, size_t *n)
{
	struct policy *p = rs->p;
	const char **v = arena_array(rs->a, p->ngateway + p->ngwgroup + 1,
	    sizeof(char *));
	size_t i;

	*n = 0;
	for (i = 0; i < p->ngateway; i++)
		v[(*n)++] = p->gateways[i]->name;
	for (i = 0; i < p->ngwgroup; i++)
		v[(*n)++] = p->gwgroups[i]->name;
	return v;
}

static void
resolve_gwgroup(struct resolver *rs, struct gateway_group *gg)
{
	struct policy *p = rs->p;
	const char **names;
	size_t i, n;

	for (i = 0; i < gg->n; i++) {
		struct gw_member *m = &gg->v[i];

		if ((m->gw = policy_gateway(p, m->name)) == NULL) {
			if (policy_gwgroup(p, m->name) != NULL) {
				diag_error(&p->diags, m->loc, "%s is a "
				    "gateway-group; a group holds gateways",
				    m->name);
				continue;
			}
			names = gw_names(rs, &n);
			unknown_name(rs, m->loc, "gateway", m->name, names,
			    p->ngateway);
			continue;
		}
		if (gg->family == FAM_NONE)
			gg->family = m->gw->via.family;
		else if (m->gw->via.family != gg->family) {
			diag_error(&p->diags, m->loc, "gateway %s is %s, and "
			    "group %s's first is %s: a group's gateways are of "
			    "one family", m->name, fam_name(m->gw->via.family),
			    gg->name, fam_name(gg->family));
			continue;
		}
	}
}

/* A name a gateway option or default-gateway gives. */
static int
bind_gw_ref(struct resolver *rs, struct gw_ref *ref)
{
	const char **names;
	size_t n;

	ref->gw = policy_gateway(rs->p, ref->name);
	ref->group = ref->gw == NULL ? policy_gwgroup(rs->p, ref->name) : NULL;
	if (ref->gw != NULL || ref->group != NULL)
		return policy_gw_family(ref) != FAM_NONE ? 0 : -1;
	names = gw_names(rs, &n);
	unknown_name(rs, ref->loc, "gateway or gateway-group", ref->name,
	    names, n);
	return -1;
}

/* default-gateway's names to their families' places; a family without
 * one takes its only group; several groups and none named is an error. */
static void
resolve_default_gw(struct resolver *rs)
{
	struct policy *p = rs->p;
	struct gw_ref written[2], *slot;
	size_t i, k;
	int f;

	memcpy(written, p->default_gw, sizeof(written));
	memset(p->default_gw, 0, sizeof(p->default_gw));
	for (k = 0; k < 2; k++) {
		if (written[k].name == NULL || bind_gw_ref(rs, &written[k]) == -1)
			continue;
		f = policy_gw_family(&written[k]);
		slot = &p->default_gw[f - 1];
		if (slot->name != NULL) {
			diag_error(&p->diags, written[k].loc, "default-gateway "
			    "names two %s ones (%s and %s): one a family",
			    fam_name((enum addr_family)f), slot->name,
			    written[k].name);
			continue;
		}
		*slot = written[k];
	}
	for (f = FAM_V4; f <= FAM_V6; f++) {
		const struct gateway_group *only = NULL;

		slot = &p->default_gw[f - 1];
		if (slot->name != NULL)
			continue;
		for (i = 0; i < p->ngwgroup; i++) {
			struct gateway_group *gg = p->gwgroups[i];

			if (gg->family != (enum addr_family)f)
				continue;
			if (only != NULL) {
				diag_error(&p->diags, gg->loc, "gateway-groups "
				    "%s (line %d) and %s are both %s: say which "
				    "one carries the default route (default-"
				    "gateway %s)", only->name, only->loc.line,
				    gg->name, fam_name((enum addr_family)f),
				    only->name);
				break;
			}
			only = gg;
			slot->name = gg->name;
			slot->loc = gg->loc;
			slot->group = gg;
			slot->implied = true;
		}
	}
}

static void
resolve_gateways(struct resolver *rs)
{
	struct policy *p = rs->p;
	size_t i;

	for (i = 0; i < p->ngateway; i++)
		resolve_gateway(rs, p->gateways[i]);
	for (i = 0; i < p->ngwgroup; i++)
		resolve_gwgroup(rs, p->gwgroups[i]);
	resolve_default_gw(rs);
}

/* A rule's gateway option: bound, and of a family the rule can match
 * (a rule of both families takes it for the gateway's only). */
static void
resolve_rule_gw(struct resolver *rs, struct rule *r)
{
	enum addr_family fr, fg, fsvc = r->svc.n > 0 ? FAM_NONE : FAM_BOTH;
	size_t i;

	if (r->gw.name == NULL || bind_gw_ref(rs, &r->gw) == -1)
		return;
	fg = policy_gw_family(&r->gw);
	for (i = 0; i < r->svc.n; i++)
		fsvc |= r->svc.v[i].svc != NULL ? r->svc.v[i].svc->family :
		    FAM_BOTH;
	if (policy_rule_dynamic(r))
		return;
	fr = addr_set_families(r->src.set) & addr_set_families(r->dst.set) &
	    fsvc;
	if (fr == FAM_NONE || (fr & fg) != 0)
		return;
	diag_error(&rs->p->diags, r->gw.loc, "rule %d matches %s "
	    "connections only, and %s %s is %s: it would never send one "
	    "there", r->number, fam_name(fr), r->gw.gw != NULL ? "gateway" :
	    "gateway-group", r->gw.name, fam_name(fg));
}

static void
make_lockout_rule(struct resolver *rs)
{
	struct policy *p = rs->p;
	struct iface *lan = policy_lan(p);
	struct rule *r;
	size_t i;

	if (!p->anti_lockout || lan == NULL)
		return;
	r = arena_alloc(rs->a, sizeof(*r));
	r->number = 0;
	r->loc.file = p->file;
	r->action = ACT_ACCEPT;
	r->ifname = lan->name;
	r->iface = lan;
	r->comment = "anti-lockout: the LAN can always reach the gateway's "
	    "SSH and web UI";
	r->src.n = r->src.cap = 1;
	r->src.v = arena_alloc(rs->a, sizeof(*r->src.v));
	r->src.v[0].kind = AE_NAME;
	r->src.v[0].name = "ANY";
	r->dst.n = r->dst.cap = 1;
	r->dst.v = arena_alloc(rs->a, sizeof(*r->dst.v));
	r->dst.v[0].kind = AE_NAME;
	r->dst.v[0].name = lan->ip_obj->name;
	r->svc.list = true;
	for (i = 0; builtin_antilockout_services[i] != NULL; i++) {
		ARENA_PUSH(rs->a, r->svc.v, r->svc.n, r->svc.cap);
		r->svc.v[i].name = (char *)builtin_antilockout_services[i];
	}
	resolve_expr(rs, &r->src);
	resolve_expr(rs, &r->dst);
	resolve_svc_list(rs, &r->svc);
	p->lockout_rule = r;
}

/*
 * The ids of n entries of one kind into x, each its own, and the index by
 * id: base[k] is the k-th entry's candidate (policy_rule_id, …).  Two
 * entries with one line (or a clash of hashes) are told apart in file
 * order: the later one hashes its candidate again until it is free, so
 * the first keeps the id it would have alone.
 */
static void
assign_ids(struct resolver *rs, struct id_index *x, const uint64_t *base,
    size_t n)
{
	struct twin { uint64_t base, last; } *twins;
	size_t cap = 16, i, j, k;

	while (cap < 2 * n)
		cap *= 2;
	x->id = arena_array(rs->a, n + 1, sizeof(*x->id));
	x->slot = arena_array(rs->a, cap, sizeof(*x->slot));
	x->cap = cap;
	/* The last id given from each line's hash: the k-th twin of a line
	 * starts after it instead of stepping past the k-1 before it (an
	 * unfolded iptables chain had thousands of twins).  Ids are never
	 * freed, so every id from the base to the last is still taken and
	 * the ids are the ones the plain walk gives.
	 *
	 * Only a base already taken is looked up here or written: an entry
	 * whose base is free takes it (the plain walk's first step), and
	 * the next entry of that line finds it taken and no entry, which
	 * stands for "last = base" (the one id given from it so far).  A
	 * base is taken from the first entry of its line on, so an entry
	 * is never missed: this saves a random read of the table per entry
	 * (test_rule_ids_twins compares with the plain walk). */
	twins = arena_array(rs->a, cap, sizeof(*twins));
	for (i = 0; i < n; i++) {
		uint64_t id = base[i];

		if (policy_id_find(x, id) >= 0) {
			for (k = policy_id_slot(base[i], cap); twins[k].base !=
			    0 && twins[k].base != base[i];
			    k = (k + 1) & (cap - 1))
				;
			if (twins[k].base == base[i] && base[i] != 0)
				id = twins[k].last;
			do
				id = fnv1a_add(id, "+", 1);
			while (policy_id_find(x, id) >= 0);
			twins[k].base = base[i];
			twins[k].last = id;
		}
		x->id[i] = id;
		for (j = policy_id_slot(id, cap); x->slot[j] != 0;
		    j = (j + 1) & (cap - 1))
			;
		x->slot[j] = i + 1;
	}
}

/* Every rule's, port forward's, nat source rule's and one-to-one line's
 * id (doc/design/rule-ids.md), each kind indexed apart. */
static void
assign_entry_ids(struct resolver *rs)
{
	struct policy *p = rs->p;
	uint64_t *base;
	size_t i, n = p->nrule;

	n = n > p->nforward ? n : p->nforward;
	n = n > p->nnat_rule ? n : p->nnat_rule;
	n = n > p->nnat_one ? n : p->nnat_one;
	base = arena_array(rs->a, n + 1, sizeof(*base));
	for (i = 0; i < p->nrule; i++)
		base[i] = policy_rule_id(p->rules[i]);
	assign_ids(rs, &p->rule_ids, base, p->nrule);
	for (i = 0; i < p->nrule; i++)
		p->rules[i]->id = p->rule_ids.id[i];
	for (i = 0; i < p->nforward; i++)
		base[i] = policy_forward_id(p->forwards[i]);
	assign_ids(rs, &p->forward_ids, base, p->nforward);
	for (i = 0; i < p->nforward; i++)
		p->forwards[i]->id = p->forward_ids.id[i];
	for (i = 0; i < p->nnat_rule; i++)
		base[i] = policy_nat_rule_id(p->nat_rules[i]);
	assign_ids(rs, &p->nat_rule_ids, base, p->nnat_rule);
	for (i = 0; i < p->nnat_rule; i++)
		p->nat_rules[i]->id = p->nat_rule_ids.id[i];
	for (i = 0; i < p->nnat_one; i++)
		base[i] = policy_nat_one_id(p->nat_ones[i]);
	assign_ids(rs, &p->nat_one_ids, base, p->nnat_one);
	for (i = 0; i < p->nnat_one; i++)
		p->nat_ones[i]->id = p->nat_one_ids.id[i];
}

/* What the antivirus block needs from the rest of the file: the relay
 * (smtp-local-scanning, on unless turned off) listens on the addresses of
 * the interface named LAN. */
static void
resolve_antivirus(struct resolver *rs)
{
	struct policy *p = rs->p;
	const struct antivirus *av = &p->av;
	const struct iface *lan = policy_lan(p);
	bool written = av->local_loc.line > 0;

	size_t i;

	if (!av->present)
		return;
	if (av->passthrough_from != NULL) {
		struct object *o = policy_object(p, av->passthrough_from);

		if (o == NULL)
			unknown_object(rs, av->passthrough_loc,
			    av->passthrough_from);
		else if (resolve_object(rs, o, av->passthrough_loc) == 0) {
			p->av.passthrough_set = o->set;
			if (policy_object_feed(o) ||
			    policy_expr_has_feed(&o->members))
				diag_error(&p->diags, av->passthrough_loc,
				    "smtp-tls-passthrough-from %s: an object "
				    "that follows a feed (fqdn, url, country) "
				    "cannot be used here; the proxy reads its "
				    "addresses once", o->name);
		}
	}
	/* Outgoing interception diverts what arrives on each internal
	 * interface to the proxy: one without an address has no clients
	 * routed through the gateway, and is most likely a WAN whose
	 * address DHCP gives (an interface is external only when a nat or a
	 * forward names it). */
	for (i = 0; av->other_scanning && av->outgoing_scanning &&
	    i < p->niface; i++) {
		const struct iface *ifc = p->ifaces[i];

		if (ifc->naddr == 0 && !ifc->dynamic &&
		    !policy_iface_external(p, ifc))
			diag_error(&p->diags, ifc->loc, "interface %s has no "
			    "address, and smtp-outgoing-scanning (the antivirus "
			    "block, line %d) intercepts SMTP arriving on it: "
			    "give it its address, say address dynamic when DHCP "
			    "or PPPoE gives it one, or say "
			    "smtp-outgoing-scanning off", ifc->name,
			    av->loc.line);
	}
	if (av->local_scanning && lan != NULL && lan->dynamic) {
		diag_error(&p->diags, written ? av->local_loc : av->loc,
		    "smtp-local-scanning%s listens on the addresses of the "
		    "interface named " POLICY_LAN ", and its address is "
		    "dynamic: the relay listens on fixed addresses, and the "
		    "LAN's clients need one that does not change; give "
		    POLICY_LAN " its address (line %d), or say "
		    "smtp-local-scanning off", written ? "" : " (on by default)",
		    lan->loc.line);
		return;
	}
	if (!av->local_scanning || (lan != NULL && lan->naddr > 0))
		return;
	diag_error(&p->diags, written ? av->local_loc : av->loc,
	    "smtp-local-scanning%s listens on the addresses of the interface "
	    "named " POLICY_LAN ", and %s; or say smtp-local-scanning off",
	    written ? "" : " (on by default)", lan == NULL ? "there is none: "
	    "declare it with its address" : "it has none: give it one");
}

/*
 * An object's sets in the kernel are named by policy_put_kernel_name,
 * then _v4 or _v6; an interface's dispatch map is zone_, its name so
 * written, then _v4 or _v6.  So object zone-X and interface dX (or
 * zone_-X and _dX ...) would name one set twice, and the kernel would
 * refuse the ruleset (a review, 2026-12-07): said here, before anything
 * is applied.  Every object that names addresses is one (a feed's, an
 * interface's own IP and NET).
 */
static void
check_kernel_names(struct resolver *rs)
{
	const struct policy *p = rs->p;
	struct strbuf a, b;
	size_t i, j;

	strbuf_init(&a, 0);
	strbuf_init(&b, 0);
	for (i = 0; i < p->nobject; i++) {
		const struct object *o = p->objects[i];

		/* (only a name of zone- or zone_ can be one) */
		if (o->kind == OBJ_ANY || strncmp(o->name, "zone", 4) != 0)
			continue;
		strbuf_reset(&a);
		policy_put_kernel_name(&a, o->name);
		for (j = 0; j < p->niface; j++) {
			strbuf_reset(&b);
			strbuf_puts(&b, "zone_");
			policy_put_kernel_name(&b, p->ifaces[j]->name);
			if (strcmp(strbuf_str(&a), strbuf_str(&b)) == 0)
				diag_error(&rs->p->diags, o->loc, "object %s "
				    "would be named in the kernel as interface "
				    "%s's dispatch map is: rename one of them",
				    o->name, p->ifaces[j]->name);
		}
	}
	strbuf_free(&a);
	strbuf_free(&b);
}

void
resolve_policy(struct policy *p)
{
	struct resolver rs = { .p = p, .a = &p->arena };
	size_t i;

	rs.object_names = arena_array(rs.a, p->nobject, sizeof(char *));
	for (i = 0; i < p->nobject; i++)
		rs.object_names[rs.nobject_names++] = p->objects[i]->name;
	rs.service_names = arena_array(rs.a, p->nservice, sizeof(char *));
	for (i = 0; i < p->nservice; i++)
		rs.service_names[rs.nservice_names++] = p->services[i]->name;
	rs.iface_names = arena_array(rs.a, p->niface + 1, sizeof(char *));
	for (i = 0; i < p->niface; i++)
		rs.iface_names[rs.niface_names++] = p->ifaces[i]->name;

	for (i = 0; i < p->nservice; i++)
		resolve_service(&rs, p->services[i]);
	for (i = 0; i < p->nobject && !diags_full(&p->diags); i++)
		resolve_object(&rs, p->objects[i], p->objects[i]->loc);
	resolve_gateways(&rs);
	for (i = 0; i < p->nrule && !diags_full(&p->diags); i++) {
		resolve_rule(&rs, p->rules[i]);
		resolve_rule_gw(&rs, p->rules[i]);
	}
	resolve_schedules(&rs);
	for (i = 0; i < p->nnat; i++) {
		size_t j;

		p->nats[i]->iface = bind_iface(&rs, p->nats[i]->ifname,
		    p->nats[i]->if_loc);
		for (j = 0; j < i; j++)
			if (p->nats[i]->iface != NULL &&
			    p->nats[j]->iface == p->nats[i]->iface)
				diag_error(&p->diags, p->nats[i]->loc, "nat "
				    "masquerade on %s is already set at line %d",
				    p->nats[i]->ifname, p->nats[j]->loc.line);
	}
	for (i = 0; i < p->nforward && !diags_full(&p->diags); i++)
		resolve_forward(&rs, p->forwards[i]);
	for (i = 0; i < p->nnat_rule && !diags_full(&p->diags); i++)
		resolve_nat_rule(&rs, p->nat_rules[i]);
	for (i = 0; i < p->nnat_one && !diags_full(&p->diags); i++)
		resolve_nat_one(&rs, p->nat_ones[i]);
	resolve_antivirus(&rs);
	resolve_ha(&rs);
	resolve_feeds(&rs);
	assign_entry_ids(&rs);
	check_kernel_names(&rs);
	if (p->firewall && p->niface == 0 && p->diags.nerrors == 0) {
		struct loc top = { .file = p->file, .line = 1, .col = 1 };

		diag_error(&p->diags, top, "no interface is declared: the firewall would "
		    "have nothing to filter, so everything would pass; declare "
		    "them (interface LAN device eth1 address 192.168.1.1/24), "
		    "or say firewall off");
	}
	if (p->diags.nerrors == 0)
		make_lockout_rule(&rs);
}
