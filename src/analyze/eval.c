/* eval.c: the verdict for one flow; see eval.h.
 *
 * The order is the kernel's: a port forward rewrites the destination first
 * (prerouting), then the anti-lockout rule, the numbered rules in file order
 * (first match wins, disabled ones skipped), the accept implied by the port
 * forward, and last the interface's default.
 */
#include "analyze/eval.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/classify.h"
#include "base/bigmem.h"
#include "base/cores.h"

u128
flow_service_key(const struct flow *f)
{
	const struct proto_info *pi = builtin_proto_by_number(f->proto);
	unsigned low = pi != NULL && pi->kind != PK_NONE ? f->dport : 0;

	return (u128)(unsigned)f->proto << 16 | (low & 0xffff);
}

bool
rule_matches(const struct rule *r, const struct flow *f, u128 dst)
{
	return !r->disabled && r->iface == f->iface &&
	    iset_contains(r->src.set, f->src) &&
	    iset_contains(r->dst.set, dst) &&
	    iset_contains(r->svc.set, flow_service_key(f)) &&
	    policy_rule_open(r, f->week_min);
}

const struct rule *
policy_closed_rule(const struct policy *p, const struct flow *f,
    const struct verdict *v)
{
	size_t i;

	if (!p->firewall || v->by == BY_ANTILOCKOUT)
		return NULL;
	for (i = 0; i < p->nrule && p->rules[i] != v->rule; i++) {
		const struct rule *r = p->rules[i];

		if (r->sched != NULL && !policy_rule_open(r, f->week_min) &&
		    !r->disabled && r->iface == f->iface &&
		    iset_contains(r->src.set, f->src) &&
		    iset_contains(r->dst.set, v->dst) &&
		    iset_contains(r->svc.set, flow_service_key(f)))
			return r;
	}
	return NULL;
}

/* The forward that rewrites f's destination: one of f's interface, or a
 * reflecting one of another interface (an internal host opening the
 * gateway's public address, and then its source is rewritten too). */
static const struct forward *
find_forward(const struct policy *p, const struct flow *f,
    struct verdict *v)
{
	bool v4 = addr_family_of(f->dst) == FAM_V4;
	size_t i;

	for (i = 0; i < p->nforward; i++) {
		const struct forward *fw = p->forwards[i];

		if ((fw->iface != f->iface &&
		    !policy_forward_reflects(p, fw, f->iface)) ||
		    (v4 ? !fw->has4 : !fw->has6) ||
		    !iset_contains(fw->iface->ip_obj->set, f->dst) ||
		    !iset_contains(fw->svc.set, flow_service_key(f)))
			continue;
		v->dst = v4 ? fw->to4 : fw->to6;
		if (fw->iface != f->iface) {
			v->reflected = true;
			v->has_src = policy_forward_reflect_source(p, fw,
			    v4 ? FAM_V4 : FAM_V6, &v->src);
		}
		return fw;
	}
	return NULL;
}

/* The 1:1 that rewrites f's destination: f arrives for an address of
 * its public side on its interface, or on an internal one that it
 * reflects (and then its source is rewritten too). */
static const struct nat_one *
find_one(const struct policy *p, const struct flow *f, struct verdict *v)
{
	size_t i;

	for (i = 0; i < p->nnat_one; i++) {
		const struct nat_one *n = p->nat_ones[i];

		if ((n->iface != f->iface &&
		    !policy_one_reflects(p, n, f->iface)) || n->size == 0 ||
		    f->dst < n->pub_lo || f->dst - n->pub_lo >= n->size)
			continue;
		v->dst = n->in_lo + (f->dst - n->pub_lo);
		if (n->iface != f->iface) {
			v->reflected = true;
			v->has_src = policy_reflect_source(p, v->dst,
			    n->family, &v->src);
		}
		return n;
	}
	return NULL;
}

static bool
is_gateway_address(const struct policy *p, u128 a)
{
	size_t i;

	for (i = 0; i < p->niface; i++)
		if (iset_contains(p->ifaces[i]->ip_obj->set, a))
			return true;
	return false;
}

/*
 * The index: two classifiers.  IPv4 flows (source and destination in
 * ::ffff:0:0/96) ask one built from the rules' boxes cut to that block and
 * shifted down to 32 bits, which the classifier keeps in its packed form
 * with a table at the root; every other flow asks one of the boxes that
 * reach outside the block.  A box inside the block in both addresses can
 * only hold IPv4 flows and is left out of the second.
 */
struct policy_index {
	struct classifier	*v4, *other;
};

/* Box x cut to the IPv4 block in both addresses and shifted to 32 bits;
 * false when it holds no IPv4 flow. */
static bool
v4_part(const struct cls_box *x, struct cls_box *out)
{
	int d;

	*out = *x;
	for (d = 0; d < 2; d++) {
		if (x->hi[d] < V4_BASE || x->lo[d] > V4_LAST)
			return false;
		out->lo[d] = (x->lo[d] < V4_BASE ? V4_BASE : x->lo[d]) - V4_BASE;
		out->hi[d] = (x->hi[d] > V4_LAST ? V4_LAST : x->hi[d]) - V4_BASE;
	}
	return true;
}

/* Both addresses of box x are IPv4 only. */
static bool
inside_v4(const struct cls_box *x)
{
	int d;

	for (d = 0; d < 2; d++)
		if (addr_family_of(x->lo[d]) != FAM_V4 ||
		    addr_family_of(x->hi[d]) != FAM_V4)
			return false;
	return true;
}

/* The boxes of p's rules, one per combination of a rule's intervals
 * (the third dimension is the minute of the week), counted for both
 * classifiers, IPv4 flows' (n[0]) and the others' (n[1]), and put in
 * out[f] where that is not NULL; -1 as soon as either passes max (each
 * combination gives at least one of the two boxes, so a count of both
 * bounds the walks). */
static int
rule_boxes(const struct policy *p, size_t max, size_t n[2],
    struct cls_box *const out[2])
{
	size_t i, a, b, k, t;

	n[0] = n[1] = 0;
	for (i = 0; i < p->nrule; i++) {
		const struct rule *r = p->rules[i];

		if (r->disabled)
			continue;
		for (t = 0; t < (r->sched != NULL ? r->sched->set.n : 1); t++)
		for (a = 0; a < r->src.set.n; a++)
			for (b = 0; b < r->dst.set.n; b++)
				for (k = 0; k < r->svc.set.n; k++) {
					struct cls_box x, y;

					x.lo[0] = r->src.set.v[a].lo;
					x.hi[0] = r->src.set.v[a].hi;
					x.lo[1] = r->dst.set.v[b].lo;
					x.hi[1] = r->dst.set.v[b].hi;
					x.lo[2] = r->sched != NULL ?
					    r->sched->set.v[t].lo : 0;
					x.hi[2] = r->sched != NULL ?
					    r->sched->set.v[t].hi :
					    SCHED_WEEK - 1;
					x.lo[3] = r->svc.set.v[k].lo;
					x.hi[3] = r->svc.set.v[k].hi;
					x.lo[4] = x.hi[4] = r->iface->index;
					x.prio = (int)i;
					if (v4_part(&x, &y)) {
						if (n[0] == max)
							return -1;
						if (out[0] != NULL)
							out[0][n[0]] = y;
						n[0]++;
					}
					if (!inside_v4(&x)) {
						if (n[1] == max)
							return -1;
						if (out[1] != NULL)
							out[1][n[1]] = x;
						n[1]++;
					}
				}
	}
	return 0;
}

/* One classifier of the index (f: 0 IPv4 flows', 1 the others'), of its n
 * boxes (counted: rule_boxes), built in a thread of its own when a core
 * is idle: the two read only the policy.  The boxes are made once, and
 * the classifier keeps them where they are: at 100,000 rules they are
 * tens of megabytes. */
struct part_job {
	const struct policy	*p;
	int			 f;
	size_t			 n, max;
	struct classifier	*c;	/* NULL: memory ran out */
};

static void *
part_run(void *arg)
{
	struct part_job *j = arg;
	struct cls_box *out[2] = { NULL, NULL };
	size_t n[2];

	if ((out[j->f] = big_alloc((j->n + 1) * sizeof(struct cls_box))) ==
	    NULL)
		return NULL;
	if (rule_boxes(j->p, j->max, n, out) == 0 && n[j->f] == j->n)
		j->c = cls_build_take(out[j->f], j->n);	/* (takes them) */
	else
		free(out[j->f]);
	return NULL;
}

struct policy_index *
policy_index(const struct policy *p, size_t max_boxes)
{
	struct cls_box *const none[2] = { NULL, NULL };
	struct policy_index *idx;
	struct part_job v4, other;
	size_t n[2];
	pthread_t tid;
	bool started;

	if (rule_boxes(p, max_boxes, n, none) == -1 ||
	    (idx = calloc(1, sizeof(*idx))) == NULL)
		return NULL;
	v4 = (struct part_job){ p, 0, n[0], max_boxes, NULL };
	other = (struct part_job){ p, 1, n[1], max_boxes, NULL };
	started = cores_idle() > 0 &&
	    pthread_create(&tid, NULL, part_run, &other) == 0;
	part_run(&v4);
	if (started)
		pthread_join(tid, NULL);
	else
		part_run(&other);
	idx->v4 = v4.c;
	idx->other = other.c;
	if (idx->v4 == NULL || idx->other == NULL) {
		policy_index_free(idx);
		return NULL;
	}
	return idx;
}

void
policy_index_free(struct policy_index *idx)
{
	if (idx == NULL)
		return;
	cls_free(idx->v4);
	cls_free(idx->other);
	free(idx);
}

size_t
policy_index_memory(const struct policy_index *idx)
{
	return idx == NULL ? 0 : cls_memory(idx->v4) + cls_memory(idx->other);
}

/* The classifier of idx that f (destination dst) asks, and its point
 * there in pt. */
static const struct classifier *
index_point(const struct policy_index *idx, const struct flow *f, u128 dst,
    u128 *pt)
{
	pt[0] = f->src;
	pt[1] = dst;
	pt[2] = f->week_min;
	pt[3] = flow_service_key(f);
	pt[4] = (u128)f->iface->index;
	if (addr_family_of(f->src) == FAM_V4 &&
	    addr_family_of(dst) == FAM_V4) {
		pt[0] -= V4_BASE;
		pt[1] -= V4_BASE;
		return idx->v4;
	}
	return idx->other;
}

/* The priority (the rule's place) of the first rule idx finds for f with
 * destination dst, or -1. */
static int
first_prio(const struct policy_index *idx, const struct flow *f, u128 dst)
{
	u128 pt[CLS_DIMS];

	return cls_lookup(index_point(idx, f, dst, pt), pt);
}

static const struct rule *
first_rule(const struct policy *p, const struct policy_index *idx,
    const struct flow *f, u128 dst)
{
	size_t i;
	int prio;

	if (idx != NULL) {
		prio = first_prio(idx, f, dst);
		return prio >= 0 ? p->rules[prio] : NULL;
	}
	for (i = 0; i < p->nrule; i++)
		if (rule_matches(p->rules[i], f, dst))
			return p->rules[i];
	return NULL;
}

void
policy_eval(const struct policy *p, const struct flow *f, struct verdict *v)
{
	policy_eval_with(p, NULL, f, v);
}

const struct iface *
policy_route(const struct policy *p, u128 dst)
{
	size_t i;

	for (i = 0; i < p->niface; i++)
		if (p->ifaces[i]->net_obj != NULL &&
		    iset_contains(p->ifaces[i]->net_obj->set, dst))
			return p->ifaces[i];
	for (i = 0; i < p->nnat; i++)
		if (p->nats[i]->iface != NULL)
			return p->nats[i]->iface;
	for (i = 0; i < p->nnat_rule; i++)
		if (p->nat_rules[i]->iface != NULL)
			return p->nat_rules[i]->iface;
	for (i = 0; i < p->nnat_one; i++)
		if (p->nat_ones[i]->iface != NULL)
			return p->nat_ones[i]->iface;
	return NULL;
}

const struct iface *
policy_gw_iface(const struct gw_ref *ref)
{
	const struct gw_member *best = NULL;
	size_t i;

	if (ref->gw != NULL)
		return ref->gw->iface;
	for (i = 0; ref->group != NULL && i < ref->group->n; i++)
		if (ref->group->v[i].gw != NULL && (best == NULL ||
		    ref->group->v[i].tier < best->tier))
			best = &ref->group->v[i];
	return best != NULL ? best->gw->iface : NULL;
}

/* True when a connection to dst goes to a network attached to out (any
 * interface's, a gateway's too): the kernel marks no such connection for
 * a link (nftc.c's route chains), it goes there directly. */
static bool
local_route(const struct iface *out, u128 dst)
{
	return out != NULL && out->net_obj != NULL &&
	    iset_contains(out->net_obj->set, dst);
}

const char *
gw_text(const struct verdict *v, char *buf, size_t len)
{
	const struct gw_ref *g = v->gw;

	if (g == NULL)
		return NULL;
	if (g->gw != NULL)
		snprintf(buf, len, "leaves through gateway %s (%s, via its next "
		    "hop; while %s is down, by the default route): rule %d's "
		    "gateway option", g->name, g->gw->ifname, g->name,
		    v->rule->number);
	else
		snprintf(buf, len, "leaves through gateway-group %s (its "
		    "lowest tier that is up): rule %d's gateway option",
		    g->name, v->rule->number);
	return buf;
}

/* The source NAT of an accepted connection through the gateway, in the
 * kernel's order: reflection (already decided), nat source rules of the
 * out interface first match, its nat masquerade. */
static void
eval_snat(const struct policy *p, const struct flow *f, struct verdict *v)
{
	bool v4 = addr_family_of(f->src) == FAM_V4;
	size_t i;

	v->out = NULL;
	v->snat = SNAT_NONE;
	v->nat_rule = NULL;
	v->gw = NULL;
	if (v->action != ACT_ACCEPT || v->to_gateway || v->reflected)
		return;
	v->out = policy_route(p, v->dst);
	if (v->by == BY_RULE && policy_rule_gw_applies(v->rule,
	    addr_family_of(f->src)) && !local_route(v->out, v->dst)) {
		v->gw = &v->rule->gw;
		v->out = policy_gw_iface(v->gw);
	}
	if (v->out == NULL)
		return;
	for (i = 0; i < p->nnat_one; i++) {
		const struct nat_one *n = p->nat_ones[i];

		if (n->iface != v->out || n->size == 0 || f->src < n->in_lo ||
		    f->src - n->in_lo >= n->size)
			continue;
		v->snat = SNAT_ONE;
		v->one = n;
		v->has_src = true;
		v->src = n->pub_lo + (f->src - n->in_lo);
		return;
	}
	for (i = 0; i < p->nnat_rule; i++) {
		const struct nat_rule *n = p->nat_rules[i];

		if (n->iface != v->out ||
		    (n->kind == NAT_TO_ADDRESS && !(v4 ? n->has4 : n->has6)) ||
		    !iset_contains(n->src.set, f->src) ||
		    !iset_contains(n->dst.set, v->dst) ||
		    !iset_contains(n->svc.set, flow_service_key(f)))
			continue;
		v->snat = SNAT_RULE;
		v->nat_rule = n;
		if (n->kind == NAT_TO_ADDRESS) {
			v->has_src = true;
			v->src = v4 ? n->to4 : n->to6;
		}
		return;
	}
	for (i = 0; i < p->nnat; i++)
		if (p->nats[i]->iface == v->out) {
			v->snat = SNAT_MASQUERADE;
			return;
		}
}

const char *
snat_text(const struct policy *p, const struct verdict *v, char *buf,
    size_t len)
{
	char a[ADDR_STRLEN];
	const struct nat_rule *n = v->nat_rule;

	if (v->out == NULL || (v->snat == SNAT_NONE &&
	    !policy_iface_external(p, v->out)))
		return NULL;
	switch (v->snat) {
	case SNAT_NONE:
		snprintf(buf, len, "leaves through %s with its own source "
		    "(no nat applies)", v->out->name);
		break;
	case SNAT_MASQUERADE:
		snprintf(buf, len, "leaves through %s masqueraded: from the "
		    "gateway's address there (nat masquerade on %s)",
		    v->out->name, v->out->name);
		break;
	case SNAT_ONE:
		addr_format(v->src, a, sizeof(a));
		snprintf(buf, len, "leaves through %s from %s (nat one-to-one "
		    "%d, line %d)", v->out->name, a, v->one->number,
		    v->one->loc.line);
		break;
	case SNAT_RULE:
		if (n->kind == NAT_TO_NONE)
			snprintf(buf, len, "leaves through %s with its own "
			    "source: nat source %d (line %d) says translate "
			    "none", v->out->name, n->number, n->loc.line);
		else if (n->kind == NAT_TO_MASQUERADE)
			snprintf(buf, len, "leaves through %s masqueraded: "
			    "from the gateway's address there (nat source %d, "
			    "line %d)", v->out->name, n->number, n->loc.line);
		else {
			addr_format(v->src, a, sizeof(a));
			snprintf(buf, len, "leaves through %s from %s (nat "
			    "source %d, line %d)", v->out->name, a, n->number,
			    n->loc.line);
		}
		break;
	}
	return buf;
}

/* The address a masquerade through ifc gives a connection to dst. */
static bool
masquerade_source(const struct iface *ifc, u128 dst, u128 *src)
{
	enum addr_family fam = addr_family_of(dst);
	const struct addr_lit *l, *first = NULL;
	size_t i, n = ifc->dynamic ? ifc->nbound : ifc->naddr;
	u128 lo, hi;

	for (i = 0; i < n; i++) {
		l = ifc->dynamic ? &ifc->bound[i] : &ifc->addrs[i].lit;
		if (l->family != fam)
			continue;
		if (first == NULL)
			first = l;
		addr_network(l->lo, l->family, l->plen, &lo, &hi);
		if (dst >= lo && dst <= hi) {
			*src = l->lo;
			return true;
		}
	}
	if (first == NULL)
		return false;
	*src = first->lo;
	return true;
}

bool
policy_translated(const struct policy *p, const struct flow *f,
    const struct verdict *v, u128 *src, bool *has_src, u128 *dst)
{
	(void)p;
	if (v->action != ACT_ACCEPT || v->to_gateway)
		return false;
	*dst = v->dst;
	*src = f->src;
	*has_src = true;
	if (v->reflected || v->snat == SNAT_ONE || (v->snat == SNAT_RULE &&
	    v->nat_rule->kind == NAT_TO_ADDRESS)) {
		*has_src = v->has_src;
		*src = v->src;
	} else if (v->snat == SNAT_MASQUERADE || (v->snat == SNAT_RULE &&
	    v->nat_rule->kind == NAT_TO_MASQUERADE))
		*has_src = masquerade_source(v->out, v->dst, src);
	if (!*has_src)
		*src = 0;
	return true;
}

static void eval_filter(const struct policy *p,
    const struct policy_index *idx, const struct rule *const *first,
    const struct flow *f, struct verdict *v);

void
policy_eval_with(const struct policy *p, const struct policy_index *idx,
    const struct flow *f, struct verdict *v)
{
	eval_filter(p, idx, NULL, f, v);
	eval_snat(p, f, v);
}

void
policy_eval_first(const struct policy *p, const struct rule *first,
    const struct flow *f, struct verdict *v)
{
	eval_filter(p, NULL, &first, f, v);
	eval_snat(p, f, v);
}

/*
 * What conntrack makes of an ICMP or ICMPv6 packet of type t, before any
 * rule: only a request can start a connection (nf_conntrack_proto_icmp's
 * valid_new: echo, timestamp, information and address mask requests;
 * ICMPv6 echo and node information queries); an error is let through as
 * related to a connection it answers (ct state related, accepted before
 * the rules) and is invalid otherwise; neighbour discovery and MLD are
 * not tracked (they reach the rules); anything else is invalid (an echo
 * reply that answers no request), dropped by ct state invalid drop.
 * NULL when the rules decide, else why they do not.
 */
static const char *
icmp_stateless(int proto, unsigned t)
{
	if (proto == 1) {
		if (t == 8 || t == 13 || t == 15 || t == 17)
			return NULL;
		if (t == 3 || t == 4 || t == 5 || t == 11 || t == 12)
			return "an ICMP error starts no connection: conntrack "
			    "lets it through as related to the one it "
			    "answers, before any rule, and drops it as invalid "
			    "otherwise";
		return "this ICMP type starts no connection: conntrack drops "
		    "it as invalid before any rule (a reply passes as part "
		    "of its request's connection)";
	}
	if (proto == 58) {
		/* (a redirect, 137, is tracked: invalid on its own) */
		if (t == 128 || t == 139 || (t >= 130 && t <= 136) || t == 143)
			return NULL;
		if (t >= 1 && t <= 4)
			return "an ICMPv6 error starts no connection: conntrack "
			    "lets it through as related to the one it "
			    "answers, before any rule, and drops it as invalid "
			    "otherwise";
		return "this ICMPv6 type starts no connection: conntrack drops "
		    "it as invalid before any rule (a reply passes as part "
		    "of its request's connection)";
	}
	return NULL;
}

bool
policy_icmp_reaches_rules(int proto, unsigned type)
{
	return icmp_stateless(proto, type) == NULL;
}

/* The accepts of the input chain before its rules (nftc.c's
 * compile_dispatch: loopback, neighbour discovery, the HA pair's own
 * traffic from the peer), or NULL. */
static const char *
input_builtin(const struct policy *p, const struct flow *f,
    const struct verdict *v)
{
	const struct ha_conf *ha = &p->ha;

	/* (VRRP goes to a multicast group, a DHCP reply may be broadcast:
	 * delivered here all the same) */
	if (f->proto == 17 && f->iface->dynamic && ((f->dport == 68 &&
	    addr_family_of(f->dst) == FAM_V4) || (f->dport == 546 &&
	    addr_family_of(f->src) == FAM_V6 && f->src >> 118 == 0x3fa)))
		return f->dport == 68 ? "the input chain accepts it before "
		    "any rule if it comes from port 67: a DHCP reply to the "
		    "client of an interface whose address is dynamic" :
		    "the input chain accepts it before any rule if it comes "
		    "from port 547: a DHCPv6 reply to the client of an "
		    "interface whose address is dynamic";
	if (!v->to_gateway && !(f->proto == 112 && ha->present))
		return NULL;
	if (v->to_gateway && f->iface->device != NULL &&
	    strcmp(f->iface->device, "lo") == 0)
		return "the input chain accepts it before any rule: loopback "
		    "(iif lo)";
	if (v->to_gateway && f->proto == 58 && f->dport >= 133 &&
	    f->dport <= 137)
		return "the input chain accepts it before any rule: neighbour "
		    "discovery";
	if (ha->present && ha->sync == f->iface && f->src == ha->peer.lo &&
	    (f->proto == 112 || (f->proto == 17 && f->dport ==
	    HA_CONNTRACK_PORT) || (f->proto == 6 && f->dport ==
	    HA_SYNC_PORT)))
		return "the input chain accepts it before any rule: the HA "
		    "peer's own traffic on the sync link";
	return NULL;
}

/*
 * What the kernel does with flow f before the rules v names: the input
 * chain's accepts, conntrack's decision on an ICMP type that starts no
 * connection.  moat test says it beside the rules' verdict, which is what
 * the rules would do (and what moat diff, lint and the import's proof
 * reason about: the same for every policy).
 */
const char *
policy_before_rules(const struct policy *p, const struct flow *f,
    const struct verdict *v)
{
	const char *why;

	if (!p->firewall)
		return NULL;
	if ((why = input_builtin(p, f, v)) != NULL)
		return why;
	return icmp_stateless(f->proto, f->dport);
}

/* The part of the filter's verdict before the numbered rules: the
 * destination after a forward or a 1:1, and the verdicts that need no
 * rule (firewall off, the anti-lockout rule).  True when v is decided. */
static bool
eval_before_rules(const struct policy *p, const struct flow *f,
    struct verdict *v)
{
	v->rule = NULL;
	v->dst = f->dst;
	v->forward = NULL;
	v->one = NULL;
	v->reflected = false;
	v->has_src = false;
	v->src = 0;
	/* (with the firewall off too: its NAT is compiled all the same, and
	 * a forward's connection goes to the host inside, scanned) */
	v->forward = find_forward(p, f, v);
	if (v->forward == NULL)
		v->one = find_one(p, f, v);
	v->to_gateway = is_gateway_address(p, v->dst);
	if (!p->firewall) {
		v->action = ACT_ACCEPT;
		v->by = BY_FIREWALL_OFF;
		return true;
	}
	if (p->lockout_rule != NULL && rule_matches(p->lockout_rule, f, v->dst)) {
		v->action = ACT_ACCEPT;
		v->by = BY_ANTILOCKOUT;
		v->rule = p->lockout_rule;
		return true;
	}
	return false;
}

/* The rest of it, r being the first numbered rule that matches (or
 * NULL). */
static void
eval_by_rule(const struct flow *f, const struct rule *r, struct verdict *v)
{
	if (r != NULL) {
		v->action = r->action;
		v->by = BY_RULE;
		v->rule = r;
		return;
	}
	if (v->forward != NULL) {
		v->action = ACT_ACCEPT;
		v->by = BY_FORWARD;
		return;
	}
	v->action = policy_iface_default(f->iface);
	v->by = BY_DEFAULT;
}

static void
eval_filter(const struct policy *p, const struct policy_index *idx,
    const struct rule *const *first, const struct flow *f,
    struct verdict *v)
{
	if (eval_before_rules(p, f, v))
		return;
	eval_by_rule(f, first != NULL ? *first : first_rule(p, idx, f,
	    v->dst), v);
}

/*
 * A replay's flows are spread over the whole policy, whose index is tens
 * of megabytes: most reads of a lookup miss the cache, and so do the
 * deciding rule's pointer and the rule itself.  The flows of a batch ask
 * the index together (cls_lookup_many: their walks side by side), then
 * their rules' pointers and the rules are prefetched, so that those reads
 * overlap instead of waiting one for the other.
 */
#define EVAL_MANY	64

/* The flows of a batch that ask one classifier: their points, and where
 * they are in the batch. */
struct asking {
	u128	 pt[EVAL_MANY * CLS_DIMS];
	size_t	 which[EVAL_MANY];
	int	 got[EVAL_MANY];
	size_t	 n;
};

/* Ask c for the flows of a, their priorities into prio. */
static void
ask(const struct classifier *c, struct asking *a, int *prio)
{
	size_t i;

	cls_lookup_many(c, a->pt, a->n, a->got);
	for (i = 0; i < a->n; i++)
		prio[a->which[i]] = a->got[i];
	a->n = 0;
}

void
policy_eval_many(const struct policy *p, const struct policy_index *idx,
    const struct flow *f, struct verdict *v, int *prio, size_t n)
{
	struct asking a4, aother, *a;
	u128 pt[CLS_DIMS];
	size_t i;

	if (idx == NULL) {
		for (i = 0; i < n; i++)
			policy_eval_with(p, idx, &f[i], &v[i]);
		return;
	}
	a4.n = aother.n = 0;
	for (i = 0; i < n; i++) {
		prio[i] = -2;	/* decided before the rules */
		if (eval_before_rules(p, &f[i], &v[i]))
			continue;
		a = index_point(idx, &f[i], v[i].dst, pt) == idx->v4 ? &a4 :
		    &aother;
		memcpy(a->pt + a->n * CLS_DIMS, pt, sizeof(pt));
		a->which[a->n++] = i;
		if (a->n == EVAL_MANY)
			ask(a == &a4 ? idx->v4 : idx->other, a, prio);
	}
	ask(idx->v4, &a4, prio);
	ask(idx->other, &aother, prio);
	for (i = 0; i < n; i++)
		if (prio[i] >= 0)
			__builtin_prefetch(&p->rules[prio[i]]);
	/* (what a verdict reads of its rule is its first 64 bytes, which a
	 * rule aligned to 16 bytes has on two lines three times in four) */
	for (i = 0; i < n; i++)
		if (prio[i] >= 0) {
			__builtin_prefetch(p->rules[prio[i]]);
			__builtin_prefetch((const char *)p->rules[prio[i]] +
			    63);
		}
	for (i = 0; i < n; i++) {
		if (prio[i] != -2)
			eval_by_rule(&f[i], prio[i] >= 0 ? p->rules[prio[i]] :
			    NULL, &v[i]);
		eval_snat(p, &f[i], &v[i]);
	}
}

/*
 * Interception follows the policy: the kernel diverts only what the zone
 * chains accept (nftc.c's intercept chain, judged again on input), so a
 * connection is scanned only when its verdict is accept.  See
 * doc/design/smtp-proxy.md.
 */
enum smtp_scan
policy_smtp_scan(const struct policy *p, const struct flow *f,
    const struct verdict *v)
{
	const struct antivirus *av = &p->av;
	const struct iface *lan;
	size_t i;

	if (!av->present || f->proto != 6 || f->dport != 25 ||
	    v->action != ACT_ACCEPT)
		return SMTP_NOT_SCANNED;
	if (v->to_gateway) {
		if (!av->local_scanning ||
		    (lan = policy_lan(p)) == NULL)
			return SMTP_NOT_SCANNED;
		for (i = 0; i < lan->naddr; i++)
			if (lan->addrs[i].lit.lo == v->dst)
				return SMTP_RELAY;
		return SMTP_NOT_SCANNED;
	}
	if (!av->other_scanning)
		return SMTP_NOT_SCANNED;
	if (v->forward != NULL && !v->reflected)
		return SMTP_INTERCEPT_IN;
	if (av->outgoing_scanning && !policy_iface_external(p, f->iface))
		return SMTP_INTERCEPT_OUT;
	return SMTP_NOT_SCANNED;
}

const char *
smtp_scan_text(enum smtp_scan s)
{
	switch (s) {
	case SMTP_INTERCEPT_OUT:
		return "intercepted and scanned by the SMTP proxy "
		    "(smtp-other-scanning, outgoing), then sent on to its "
		    "destination";
	case SMTP_INTERCEPT_IN:
		return "intercepted and scanned by the SMTP proxy "
		    "(smtp-other-scanning, incoming to a port forward)";
	case SMTP_RELAY:
		return "received and scanned by the gateway's relay "
		    "(smtp-local-scanning), then handed to smtp-relay-to";
	default:
		return NULL;
	}
}

const char *
smtp_scan_name(enum smtp_scan s)
{
	static const char *const names[] = { NULL, "intercept-outgoing",
	    "intercept-incoming", "relay" };

	return names[s];
}
