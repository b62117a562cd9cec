/* policy.c: life cycle, lookups and equality of policies; see policy.h. */
#include "policy/policy.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hash.h"

void
policy_free(struct policy *p)
{
	if (p == NULL)
		return;
	arena_free(&p->arena);
	free(p->text_own);
	free(p);
}

bool
policy_valid(const struct policy *p)
{
	return p->diags.nerrors == 0;
}

struct iface *
policy_iface(const struct policy *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->niface; i++)
		if (strcmp(p->ifaces[i]->name, name) == 0)
			return p->ifaces[i];
	for (i = 0; i < p->niface; i++)
		if (strcmp(p->ifaces[i]->device, name) == 0)
			return p->ifaces[i];
	return NULL;
}

struct object *
policy_object(const struct policy *p, const char *name)
{
	return nametab_get(p->object_names, name);
}

struct schedule *
policy_schedule(const struct policy *p, const char *name)
{
	return p->sched_names != NULL ? nametab_get(p->sched_names, name) :
	    NULL;
}

bool
policy_rule_open(const struct rule *r, unsigned week_min)
{
	return r->sched == NULL || iset_contains(r->sched->set,
	    (u128)week_min);
}

struct service *
policy_service(const struct policy *p, const char *name)
{
	return nametab_get(p->service_names, name);
}

struct iface *
policy_lan(const struct policy *p)
{
	size_t i;

	for (i = 0; i < p->niface; i++)
		if (strcmp(p->ifaces[i]->name, POLICY_LAN) == 0)
			return p->ifaces[i];
	return NULL;
}

enum action
policy_iface_implied_default(const struct iface *ifc)
{
	return strcmp(ifc->name, POLICY_LAN) == 0 ? ACT_ACCEPT : ACT_DENY;
}

bool
policy_iface_implied_log_default(const struct policy *p,
    const struct iface *ifc)
{
	(void)p;
	return policy_iface_default(ifc) != ACT_ACCEPT;
}

bool
policy_iface_log_default(const struct policy *p, const struct iface *ifc)
{
	return ifc->log_default_set ? ifc->log_default :
	    policy_iface_implied_log_default(p, ifc);
}

enum action
policy_iface_default(const struct iface *ifc)
{
	return ifc->def_set ? ifc->def : policy_iface_implied_default(ifc);
}

bool
policy_rule_dynamic(const struct rule *r)
{
	return r->src.dynamic || r->dst.dynamic;
}

bool
policy_expr_uses(const struct addr_expr *x, const struct iface *ifc)
{
	size_t i;

	if (!x->dynamic)
		return false;
	for (i = 0; i < x->n; i++) {
		const struct object *o = x->v[i].obj;

		if (x->v[i].kind != AE_NAME || o == NULL || !o->dynamic)
			continue;
		if (o->kind == OBJ_IFIP || o->kind == OBJ_IFNET ?
		    o->iface == ifc : policy_expr_uses(&o->members, ifc))
			return true;
	}
	return false;
}

bool
policy_rule_uses(const struct rule *r, const struct iface *ifc)
{
	return policy_expr_uses(&r->src, ifc) || policy_expr_uses(&r->dst, ifc);
}

bool
policy_forward_uses(const struct forward *fw, const struct iface *ifc)
{
	return ifc->dynamic && fw->iface == ifc;
}

size_t
policy_ndynamic(const struct policy *p)
{
	size_t i, n = 0;

	for (i = 0; i < p->niface; i++)
		n += p->ifaces[i]->dynamic;
	return n;
}

bool
policy_object_feed(const struct object *o)
{
	return o->kind == OBJ_FQDN || o->kind == OBJ_URL ||
	    o->kind == OBJ_COUNTRY;
}

bool
policy_expr_has_feed(const struct addr_expr *x)
{
	size_t i;

	if (!x->dynamic)
		return false;
	for (i = 0; i < x->n; i++) {
		const struct object *o = x->v[i].obj;

		if (x->v[i].kind == AE_NAME && o != NULL &&
		    (policy_object_feed(o) || policy_expr_has_feed(&o->members)))
			return true;
	}
	return false;
}

size_t
policy_nfeeds(const struct policy *p)
{
	size_t i, n = 0;

	for (i = 0; i < p->nobject; i++)
		n += policy_object_feed(p->objects[i]);
	return n;
}

const char *
policy_feed_kind_name(enum object_kind k)
{
	switch (k) {
	case OBJ_FQDN:
		return "fqdn";
	case OBJ_URL:
		return "url";
	case OBJ_COUNTRY:
		return "country";
	default:
		return "";
	}
}

const char *
action_name(enum action a)
{
	switch (a) {
	case ACT_ACCEPT:
		return "accept";
	case ACT_DENY:
		return "deny";
	case ACT_REJECT:
		return "reject";
	}
	return "?";
}

static size_t
edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t row[64];

	if (la >= 64 || lb >= 64)
		return (size_t)-1;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t cost = (a[i - 1] | 0x20) == (b[j - 1] | 0x20) ?
			    0 : 1;
			size_t best = diag + cost;

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

const char *
nearest_name(const char *name, const char *const *names, size_t n)
{
	size_t i, best = (size_t)-1, len = strlen(name);
	size_t limit = len < 6 ? 2 : len / 3 + 1;
	const char *found = NULL;

	for (i = 0; i < n; i++) {
		size_t d = edit_distance(name, names[i]);

		if (d < best) {
			best = d;
			found = names[i];
		}
	}
	return best <= limit ? found : NULL;
}

/* Equality, ignoring positions. */

static bool
str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static bool
lit_eq(const struct addr_lit *a, const struct addr_lit *b)
{
	return a->kind == b->kind && a->family == b->family &&
	    a->lo == b->lo && a->hi == b->hi &&
	    (a->kind != LIT_PREFIX || a->plen == b->plen);
}

static bool
expr_eq(const struct addr_expr *a, const struct addr_expr *b)
{
	size_t i;

	if (a->exclude != b->exclude || a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++) {
		if (a->v[i].kind != b->v[i].kind)
			return false;
		if (a->v[i].kind == AE_NAME ?
		    !str_eq(a->v[i].name, b->v[i].name) :
		    !lit_eq(&a->v[i].lit, &b->v[i].lit))
			return false;
	}
	return true;
}

static bool
svc_list_eq(const struct svc_list *a, const struct svc_list *b)
{
	size_t i;

	if (a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++)
		if (!str_eq(a->v[i].name, b->v[i].name))
			return false;
	return true;
}

static bool
service_eq(const struct service *a, const struct service *b)
{
	size_t i;

	if (!str_eq(a->name, b->name) || a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++) {
		const struct svc_entry *x = &a->v[i], *y = &b->v[i];

		if (x->proto != y->proto || x->n != y->n ||
		    (x->n > 0 && memcmp(x->v, y->v, x->n * sizeof(*x->v)) != 0))
			return false;
	}
	return true;
}

static bool
logging_eq(const struct logging *a, const struct logging *b)
{
	return a->present == b->present &&
	    str_eq(a->directory, b->directory) && a->rate == b->rate &&
	    a->max_file_size == b->max_file_size && a->keep == b->keep &&
	    str_eq(a->metrics_file, b->metrics_file) &&
	    a->metrics_interval == b->metrics_interval;
}

static bool
console_eq(const struct console_conf_block *a,
    const struct console_conf_block *b)
{
	return a->off == b->off && (a->off || (a->present == b->present &&
	    str_eq(a->listen, b->listen) && str_eq(a->users, b->users) &&
	    str_eq(a->cert, b->cert) && str_eq(a->key, b->key) &&
	    str_eq(a->user, b->user) &&
	    a->session_timeout == b->session_timeout));
}

static bool
ha_eq(const struct ha_conf *a, const struct ha_conf *b)
{
	size_t i;

	if (a->present != b->present)
		return false;
	if (!a->present)
		return true;
	if ((a->peer_loc.line > 0) != (b->peer_loc.line > 0) ||
	    (a->peer_loc.line > 0 && !lit_eq(&a->peer, &b->peer)) ||
	    !str_eq(a->sync_ifname, b->sync_ifname) || a->nvip != b->nvip ||
	    a->priority != b->priority || !str_eq(a->secret, b->secret) ||
	    a->router_id != b->router_id ||
	    a->preempt_delay != b->preempt_delay)
		return false;
	for (i = 0; i < a->nvip; i++)
		if (!str_eq(a->vips[i].ifname, b->vips[i].ifname) ||
		    !lit_eq(&a->vips[i].lit, &b->vips[i].lit))
			return false;
	return true;
}

static bool
iface_eq(const struct iface *a, const struct iface *b)
{
	size_t i;

	if (!str_eq(a->name, b->name) || !str_eq(a->device, b->device) ||
	    a->naddr != b->naddr || a->dynamic != b->dynamic ||
	    policy_iface_default(a) != policy_iface_default(b))
		return false;
	for (i = 0; i < a->naddr; i++)
		if (!lit_eq(&a->addrs[i].lit, &b->addrs[i].lit))
			return false;
	return true;
}

static bool
rule_eq(const struct rule *a, const struct rule *b)
{
	return a->action == b->action && str_eq(a->ifname, b->ifname) &&
	    expr_eq(&a->src, &b->src) && expr_eq(&a->dst, &b->dst) &&
	    svc_list_eq(&a->svc, &b->svc) && a->log == b->log &&
	    a->disabled == b->disabled && str_eq(a->comment, b->comment) &&
	    str_eq(a->sched_name, b->sched_name) &&
	    str_eq(a->gw.name, b->gw.name);
}

static bool
gateway_eq(const struct gateway *a, const struct gateway *b)
{
	return str_eq(a->name, b->name) && str_eq(a->ifname, b->ifname) &&
	    lit_eq(&a->via, &b->via) && lit_eq(&a->monitor, &b->monitor) &&
	    a->loss == b->loss && a->latency == b->latency;
}

static bool
gwgroup_eq(const struct gateway_group *a, const struct gateway_group *b)
{
	size_t i;

	if (!str_eq(a->name, b->name) || a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++)
		if (!str_eq(a->v[i].name, b->v[i].name) ||
		    a->v[i].tier != b->v[i].tier)
			return false;
	return true;
}

/* The defaults written (not implied), in either order. */
static bool
default_gw_eq(const struct policy *a, const struct policy *b)
{
	int f;

	for (f = 0; f < 2; f++) {
		const struct gw_ref *x = &a->default_gw[f];
		const struct gw_ref *y = &b->default_gw[f];

		if (!str_eq(x->implied ? NULL : x->name,
		    y->implied ? NULL : y->name))
			return false;
	}
	return true;
}

/* Same minutes of the week: the canonical text may write the days of a
 * window otherwise (sat-sun as sat,sun). */
static bool
sched_eq(const struct schedule *a, const struct schedule *b)
{
	return b != NULL && str_eq(a->name, b->name) && iset_equal(a->set,
	    b->set);
}

static bool
av_eq(const struct antivirus *a, const struct antivirus *b)
{
	unsigned i;

	if (a->present != b->present)
		return false;
	if (!a->present)
		return true;
	if (a->nengine_addrs != b->nengine_addrs)
		return false;
	for (i = 1; i < a->nengine_addrs; i++)
		if (!str_eq(a->engine_addrs[i], b->engine_addrs[i]))
			return false;
	if (!str_eq(a->engine_path, b->engine_path) ||
	    a->nignore_sigs != b->nignore_sigs)
		return false;
	for (i = 0; i < a->nignore_sigs; i++)
		if (!str_eq(a->ignore_sigs[i], b->ignore_sigs[i]))
			return false;
	return a->engine == b->engine && a->scan_timeout == b->scan_timeout &&
	    a->reload == b->reload &&
	    a->other_scanning == b->other_scanning &&
	    a->local_scanning == b->local_scanning &&
	    a->outgoing_scanning == b->outgoing_scanning &&
	    str_eq(a->relay_to, b->relay_to) && a->fail_pass == b->fail_pass &&
	    a->max_size == b->max_size &&
	    a->command_timeout == b->command_timeout &&
	    a->data_timeout == b->data_timeout &&
	    a->keep_client_address == b->keep_client_address &&
	    a->bare_normalize == b->bare_normalize &&
	    a->max_sessions == b->max_sessions &&
	    a->max_client_sessions == b->max_client_sessions &&
	    a->max_client_rate == b->max_client_rate &&
	    a->min_data_rate == b->min_data_rate &&
	    a->memory_limit == b->memory_limit &&
	    a->signature_check == b->signature_check &&
	    a->intercept_tls == b->intercept_tls &&
	    str_eq(a->passthrough_from, b->passthrough_from) &&
	    a->tls_upstream == b->tls_upstream &&
	    str_eq(a->tls_ca_file, b->tls_ca_file) &&
	    str_eq(a->trust_anchor, b->trust_anchor) &&
	    str_eq(a->tls_cert, b->tls_cert) && str_eq(a->tls_key, b->tls_key) &&
	    a->relay_require_tls == b->relay_require_tls;
}

static bool
feed_eq(const struct feed *a, const struct feed *b)
{
	size_t i;

	if (a->n != b->n || a->refresh != b->refresh || a->max != b->max)
		return false;
	for (i = 0; i < a->n; i++)
		if (strcmp(a->names[i], b->names[i]) != 0)
			return false;
	return true;
}

bool
policy_equal(const struct policy *a, const struct policy *b)
{
	size_t i;

	if (a->niface != b->niface || a->nobject != b->nobject ||
	    a->nservice != b->nservice || a->nrule != b->nrule ||
	    a->nnat != b->nnat || a->nforward != b->nforward ||
	    a->nnat_rule != b->nnat_rule || a->nnat_one != b->nnat_one ||
	    a->nsched != b->nsched || a->anti_lockout != b->anti_lockout ||
	    a->ngateway != b->ngateway || a->ngwgroup != b->ngwgroup ||
	    !default_gw_eq(a, b) ||
	    a->firewall != b->firewall ||
	    !av_eq(&a->av, &b->av) || !logging_eq(&a->logging, &b->logging) ||
	    !console_eq(&a->console, &b->console) || !ha_eq(&a->ha, &b->ha) ||
	    a->dns_min_ttl != b->dns_min_ttl ||
	    a->dns_max_ttl != b->dns_max_ttl ||
	    !str_eq(a->geoip_database, b->geoip_database))
		return false;
	for (i = 0; i < a->niface; i++)
		if (!iface_eq(a->ifaces[i], b->ifaces[i]) ||
		    policy_iface_log_default(a, a->ifaces[i]) !=
		    policy_iface_log_default(b, b->ifaces[i]))
			return false;
	/* By name: an interface's objects (LANIP, LANNET) sit where the
	 * interface was declared, which the canonical text moves first. */
	for (i = 0; i < a->nobject; i++) {
		const struct object *x = a->objects[i];
		const struct object *y = policy_object(b, x->name);

		if (y == NULL || x->kind != y->kind ||
		    !expr_eq(&x->members, &y->members) ||
		    !feed_eq(&x->feed, &y->feed))
			return false;
	}
	for (i = 0; i < a->nservice; i++)
		if (!service_eq(a->services[i], b->services[i]))
			return false;
	for (i = 0; i < a->nrule; i++)
		if (!rule_eq(a->rules[i], b->rules[i]))
			return false;
	for (i = 0; i < a->ngateway; i++)
		if (!gateway_eq(a->gateways[i], b->gateways[i]))
			return false;
	for (i = 0; i < a->ngwgroup; i++)
		if (!gwgroup_eq(a->gwgroups[i], b->gwgroups[i]))
			return false;
	for (i = 0; i < a->nsched; i++)
		if (!sched_eq(a->scheds[i], policy_schedule(b,
		    a->scheds[i]->name)))
			return false;
	for (i = 0; i < a->nnat; i++)
		if (!str_eq(a->nats[i]->ifname, b->nats[i]->ifname))
			return false;
	for (i = 0; i < a->nforward; i++)
		if (!str_eq(a->forwards[i]->ifname, b->forwards[i]->ifname) ||
		    !svc_list_eq(&a->forwards[i]->svc, &b->forwards[i]->svc) ||
		    !expr_eq(&a->forwards[i]->target, &b->forwards[i]->target) ||
		    a->forwards[i]->reflection != b->forwards[i]->reflection)
			return false;
	for (i = 0; i < a->nnat_one; i++)
		if (!str_eq(a->nat_ones[i]->ifname, b->nat_ones[i]->ifname) ||
		    !expr_eq(&a->nat_ones[i]->pub, &b->nat_ones[i]->pub) ||
		    !expr_eq(&a->nat_ones[i]->inside, &b->nat_ones[i]->inside) ||
		    a->nat_ones[i]->reflection != b->nat_ones[i]->reflection)
			return false;
	for (i = 0; i < a->nnat_rule; i++) {
		const struct nat_rule *x = a->nat_rules[i], *y = b->nat_rules[i];

		if (!str_eq(x->ifname, y->ifname) || !expr_eq(&x->src, &y->src) ||
		    !expr_eq(&x->dst, &y->dst) || x->has_dst != y->has_dst ||
		    !svc_list_eq(&x->svc, &y->svc) || x->kind != y->kind ||
		    (x->kind == NAT_TO_ADDRESS && !expr_eq(&x->to, &y->to)))
			return false;
	}
	return true;
}

bool
policy_iface_external(const struct policy *p, const struct iface *ifc)
{
	size_t i;

	for (i = 0; i < p->nnat; i++)
		if (p->nats[i]->iface == ifc)
			return true;
	for (i = 0; i < p->nforward; i++)
		if (p->forwards[i]->iface == ifc)
			return true;
	for (i = 0; i < p->nnat_rule; i++)
		if (p->nat_rules[i]->iface == ifc)
			return true;
	for (i = 0; i < p->nnat_one; i++)
		if (p->nat_ones[i]->iface == ifc)
			return true;
	/* An Internet link's: a gateway is on it. */
	for (i = 0; i < p->ngateway; i++)
		if (p->gateways[i]->iface == ifc)
			return true;
	return false;
}

bool
policy_forward_reflects(const struct policy *p, const struct forward *fw,
    const struct iface *ifc)
{
	return fw->reflection && ifc != fw->iface &&
	    !policy_iface_external(p, ifc);
}

bool
policy_forward_reflect_source(const struct policy *p,
    const struct forward *fw, int fam, u128 *src)
{
	return policy_reflect_source(p, fam == FAM_V4 ? fw->to4 : fw->to6,
	    fam, src);
}

bool
policy_one_reflects(const struct policy *p, const struct nat_one *n,
    const struct iface *ifc)
{
	return n->reflection && ifc != n->iface &&
	    !policy_iface_external(p, ifc);
}

bool
policy_reflect_source(const struct policy *p, u128 host, int fam, u128 *src)
{
	u128 lo, hi;
	size_t i, j;

	for (i = 0; i < p->niface; i++)
		for (j = 0; j < p->ifaces[i]->naddr; j++) {
			const struct addr_lit *l = &p->ifaces[i]->addrs[j].lit;

			if ((int)l->family != fam)
				continue;
			addr_network(l->lo, l->family, l->plen, &lo, &hi);
			if (host >= lo && host <= hi) {
				*src = l->lo;
				return true;
			}
		}
	return false;
}

bool
policy_forward_smtp(const struct forward *fw)
{
	return iset_contains(fw->svc.set, (u128)6 << 16 | 25);
}

const char *
policy_av_reload_name(enum av_reload r)
{
	return r == AV_RELOAD_CONCURRENT ? "concurrent" : r ==
	    AV_RELOAD_BLOCKING ? "blocking" : "auto";
}

const char *
policy_av_intercept_tls_name(enum av_tls_intercept t)
{
	return t == AV_TLS_PASSTHROUGH ? "passthrough" : t == AV_TLS_STRIP ?
	    "strip" : "terminate";
}

const char *
policy_av_tls_upstream_name(enum av_tls_upstream u)
{
	static const char *const name[] = { "none", "may", "dane", "verify" };

	return u <= AV_TLS_UP_VERIFY ? name[u] : "dane";
}

/* The settings that name a file, a user or a secret of a privileged
 * process, each a string of struct policy: one list for what the
 * console may not change, what a node keeps of its own in an HA pair,
 * and what the pair's policy hash leaves out. */
static const struct privileged {
	size_t		 off;
	const char	*name;
} privileged[] = {
	{ offsetof(struct policy, logging.metrics_file),
	    "logging { metrics-file }" },
	{ offsetof(struct policy, logging.directory), "logging { directory }" },
	{ offsetof(struct policy, console.user), "console { user }" },
	{ offsetof(struct policy, console.cert), "console { certificate }" },
	{ offsetof(struct policy, console.key), "console { key }" },
	{ offsetof(struct policy, console.users), "console { users }" },
	/* The parent reads these for the proxy, which then holds (or
	 * serves) what they name. */
	{ offsetof(struct policy, av.tls_cert),
	    "antivirus { smtp-tls-certificate }" },
	{ offsetof(struct policy, av.tls_key), "antivirus { smtp-tls-key }" },
	{ offsetof(struct policy, av.tls_ca_file),
	    "antivirus { smtp-tls-ca-file }" },
	{ offsetof(struct policy, av.trust_anchor),
	    "antivirus { dnssec-trust-anchor }" },
	{ offsetof(struct policy, ha.secret), "ha { secret }" },
};

static char **
privileged_at(struct policy *p, size_t i)
{
	return (char **)(void *)((char *)p + privileged[i].off);
}

static char *
privileged_of(const struct policy *p, size_t i)
{
	return *(char *const *)(const void *)((const char *)p +
	    privileged[i].off);
}

const char *
policy_privileged_change(const struct policy *was, const struct policy *now)
{
	const char *a, *b;
	size_t i;

	for (i = 0; i < sizeof(privileged) / sizeof(privileged[0]); i++) {
		a = privileged_of(was, i);
		b = privileged_of(now, i);
		if ((a == NULL) != (b == NULL) || (a != NULL &&
		    strcmp(a, b) != 0))
			return privileged[i].name;
	}
	return NULL;
}

void
policy_keep_privileged(struct policy *now, const struct policy *was)
{
	size_t i;

	for (i = 0; i < sizeof(privileged) / sizeof(privileged[0]); i++)
		*privileged_at(now, i) = privileged_of(was, i);
}

void
policy_blank_privileged(struct policy *p)
{
	static char blank[] = "-";
	size_t i;

	for (i = 0; i < sizeof(privileged) / sizeof(privileged[0]); i++)
		*privileged_at(p, i) = blank;
}

struct gateway *
policy_gateway(const struct policy *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->ngateway; i++)
		if (strcmp(p->gateways[i]->name, name) == 0)
			return p->gateways[i];
	return NULL;
}

struct gateway_group *
policy_gwgroup(const struct policy *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->ngwgroup; i++)
		if (strcmp(p->gwgroups[i]->name, name) == 0)
			return p->gwgroups[i];
	return NULL;
}

struct gateway *
policy_gateway_at(const struct policy *p, unsigned g)
{
	return g >= 1 && g <= p->ngateway ? p->gateways[g - 1] : NULL;
}

const struct gw_ref *
policy_default_gw(const struct policy *p, enum addr_family fam)
{
	const struct gw_ref *ref;

	if (fam != FAM_V4 && fam != FAM_V6)
		return NULL;
	ref = &p->default_gw[fam - 1];
	return ref->gw != NULL || ref->group != NULL ? ref : NULL;
}

unsigned
policy_gw_choice(const struct gw_ref *ref)
{
	if (ref->gw != NULL)
		return (unsigned)ref->gw->index;
	if (ref->group != NULL)
		return GW_MAX + (unsigned)ref->group->index;
	return 0;
}

enum addr_family
policy_gw_family(const struct gw_ref *ref)
{
	if (ref->gw != NULL)
		return ref->gw->via.family;
	if (ref->group != NULL)
		return ref->group->family;
	return FAM_NONE;
}

bool
policy_rule_gw_applies(const struct rule *r, enum addr_family fam)
{
	return r->action == ACT_ACCEPT && !r->disabled &&
	    policy_gw_family(&r->gw) == fam;
}

const struct gw_ref *
policy_gw_choice_ref(const struct policy *p, unsigned t)
{
	size_t i;

	for (i = 0; i < p->nrule && t > 0; i++)
		if (!p->rules[i]->disabled &&
		    p->rules[i]->action == ACT_ACCEPT &&
		    policy_gw_choice(&p->rules[i]->gw) == t)
			return &p->rules[i]->gw;
	return NULL;
}

/* ---- canonical text and ids of entries --------------------------------- */

void
policy_put_quoted(struct strbuf *b, const char *s)
{
	strbuf_putc(b, '"');
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			strbuf_putc(b, '\\');
		strbuf_putc(b, *s);
	}
	strbuf_putc(b, '"');
}

static void
put_elem(const struct addr_elem *e, struct strbuf *b)
{
	char buf[2 * ADDR_STRLEN + 8];

	if (e->kind == AE_NAME) {
		strbuf_puts(b, e->name);
		return;
	}
	addr_lit_format(&e->lit, buf, sizeof(buf));
	strbuf_puts(b, buf);
}

void
policy_addr_expr_text(const struct addr_expr *x, struct strbuf *b)
{
	size_t i;

	if (x->exclude)
		strbuf_putc(b, '!');
	if (!x->list) {
		put_elem(&x->v[0], b);
		return;
	}
	strbuf_puts(b, "{ ");
	for (i = 0; i < x->n; i++) {
		if (i > 0)
			strbuf_puts(b, ", ");
		put_elem(&x->v[i], b);
	}
	strbuf_puts(b, " }");
}

void
policy_svc_list_text(const struct svc_list *l, struct strbuf *b)
{
	size_t i;

	if (!l->list) {
		strbuf_puts(b, l->v[0].name);
		return;
	}
	strbuf_puts(b, "{ ");
	for (i = 0; i < l->n; i++) {
		if (i > 0)
			strbuf_puts(b, ", ");
		strbuf_puts(b, l->v[i].name);
	}
	strbuf_puts(b, " }");
}

void
policy_rule_line(const struct rule *r, struct strbuf *b, bool with_comment)
{
	strbuf_puts(b, action_name(r->action));
	strbuf_puts(b, " on ");
	strbuf_puts(b, r->ifname);
	strbuf_puts(b, " from ");
	policy_addr_expr_text(&r->src, b);
	strbuf_puts(b, " to ");
	policy_addr_expr_text(&r->dst, b);
	if (r->svc.n > 0) {
		strbuf_puts(b, " service ");
		policy_svc_list_text(&r->svc, b);
	}
	if (r->sched_name != NULL)
		strbuf_printf(b, " schedule %s", r->sched_name);
	if (r->gw.name != NULL)
		strbuf_printf(b, " gateway %s", r->gw.name);
	if (r->log)
		strbuf_puts(b, " log");
	if (with_comment && r->comment != NULL) {
		strbuf_puts(b, " comment ");
		policy_put_quoted(b, r->comment);
	}
	if (r->disabled)
		strbuf_puts(b, " disabled");
}

void
policy_nat_rule_line(const struct nat_rule *n, struct strbuf *b)
{
	strbuf_printf(b, "nat source on %s from ", n->ifname);
	policy_addr_expr_text(&n->src, b);
	if (n->has_dst) {
		strbuf_puts(b, " to ");
		policy_addr_expr_text(&n->dst, b);
	}
	if (n->svc.n > 0) {
		strbuf_puts(b, " service ");
		policy_svc_list_text(&n->svc, b);
	}
	strbuf_puts(b, " translate ");
	if (n->kind == NAT_TO_MASQUERADE)
		strbuf_puts(b, "masquerade");
	else if (n->kind == NAT_TO_NONE)
		strbuf_puts(b, "none");
	else
		policy_addr_expr_text(&n->to, b);
}

void
policy_nat_one_line(const struct nat_one *n, struct strbuf *b)
{
	strbuf_printf(b, "nat one-to-one on %s ", n->ifname);
	policy_addr_expr_text(&n->pub, b);
	strbuf_puts(b, " to ");
	policy_addr_expr_text(&n->inside, b);
	if (!n->reflection)
		strbuf_puts(b, " reflection off");
}

void
policy_forward_line(const struct forward *fw, struct strbuf *b)
{
	strbuf_printf(b, "forward on %s service ", fw->ifname);
	policy_svc_list_text(&fw->svc, b);
	strbuf_puts(b, " to ");
	policy_addr_expr_text(&fw->target, b);
	if (!fw->reflection)
		strbuf_puts(b, " reflection off");
}

/* The FNV-1a of a line, freed. */
static uint64_t
line_id(struct strbuf *line)
{
	uint64_t id = fnv1a(strbuf_str(line), line->len);

	strbuf_free(line);
	return id;
}

uint64_t
policy_rule_id(const struct rule *r)
{
	struct strbuf line;

	strbuf_init(&line, 0);
	policy_rule_line(r, &line, false);
	return line_id(&line);
}

uint64_t
policy_forward_id(const struct forward *fw)
{
	struct strbuf line;

	strbuf_init(&line, 0);
	policy_forward_line(fw, &line);
	return line_id(&line);
}

uint64_t
policy_nat_rule_id(const struct nat_rule *n)
{
	struct strbuf line;

	strbuf_init(&line, 0);
	policy_nat_rule_line(n, &line);
	return line_id(&line);
}

uint64_t
policy_nat_one_id(const struct nat_one *n)
{
	struct strbuf line;

	strbuf_init(&line, 0);
	policy_nat_one_line(n, &line);
	return line_id(&line);
}

long
policy_id_find(const struct id_index *x, uint64_t id)
{
	size_t i;

	if (x->cap == 0)
		return -1;
	for (i = policy_id_slot(id, x->cap); x->slot[i] != 0;
	    i = (i + 1) & (x->cap - 1))
		if (x->id[x->slot[i] - 1] == id)
			return (long)x->slot[i] - 1;
	return -1;
}

struct rule *
policy_rule_by_id(const struct policy *p, uint64_t id)
{
	long k = policy_id_find(&p->rule_ids, id);

	return k >= 0 ? p->rules[k] : NULL;
}

struct forward *
policy_forward_by_id(const struct policy *p, uint64_t id)
{
	long k = policy_id_find(&p->forward_ids, id);

	return k >= 0 ? p->forwards[k] : NULL;
}

struct nat_rule *
policy_nat_rule_by_id(const struct policy *p, uint64_t id)
{
	long k = policy_id_find(&p->nat_rule_ids, id);

	return k >= 0 ? p->nat_rules[k] : NULL;
}

struct nat_one *
policy_nat_one_by_id(const struct policy *p, uint64_t id)
{
	long k = policy_id_find(&p->nat_one_ids, id);

	return k >= 0 ? p->nat_ones[k] : NULL;
}

void
policy_put_kernel_name(struct strbuf *b, const char *name)
{
	for (; *name != '\0'; name++)
		if (*name == '-')
			strbuf_puts(b, "_d");
		else if (*name == '_')
			strbuf_puts(b, "__");
		else
			strbuf_putc(b, *name);
}
