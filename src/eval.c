/* eval.c: the verdict for one flow; see eval.h.
 *
 * The order is the kernel's: a port forward rewrites the destination first
 * (prerouting), then the anti-lockout rule, the numbered rules in file order
 * (first match wins, disabled ones skipped), the accept implied by the port
 * forward, and last the interface's default.
 */
#include "eval.h"

#include <stdlib.h>

#include "classify.h"

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
	    iset_contains(r->svc.set, flow_service_key(f));
}

static const struct forward *
find_forward(const struct policy *p, const struct flow *f, u128 *dst)
{
	bool v4 = addr_family_of(f->dst) == FAM_V4;
	size_t i;

	for (i = 0; i < p->nforward; i++) {
		const struct forward *fw = p->forwards[i];

		if (fw->iface != f->iface || (v4 ? !fw->has4 : !fw->has6) ||
		    !iset_contains(fw->iface->ip_obj->set, f->dst) ||
		    !iset_contains(fw->svc.set, flow_service_key(f)))
			continue;
		*dst = v4 ? fw->to4 : fw->to6;
		return fw;
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

struct classifier *
policy_index(const struct policy *p, size_t max_boxes)
{
	struct cls_box *boxes = NULL;
	struct classifier *c;
	size_t i, a, b, k, n = 0, cap = 0;

	for (i = 0; i < p->nrule; i++) {
		const struct rule *r = p->rules[i];

		if (r->disabled)
			continue;
		if (r->src.set.n * r->dst.set.n * r->svc.set.n > max_boxes - n) {
			free(boxes);
			return NULL;
		}
		/* One box per combination of the rule's intervals. */
		for (a = 0; a < r->src.set.n; a++)
			for (b = 0; b < r->dst.set.n; b++)
				for (k = 0; k < r->svc.set.n; k++) {
					struct cls_box *x;

					if (n == cap) {
						struct cls_box *nb;

						cap = cap ? cap * 2 : 256;
						nb = realloc(boxes, cap *
						    sizeof(*boxes));
						if (nb == NULL) {
							free(boxes);
							return NULL;
						}
						boxes = nb;
					}
					x = &boxes[n++];
					x->lo[0] = r->src.set.v[a].lo;
					x->hi[0] = r->src.set.v[a].hi;
					x->lo[1] = r->dst.set.v[b].lo;
					x->hi[1] = r->dst.set.v[b].hi;
					x->lo[2] = 0;
					x->hi[2] = 0;
					x->lo[3] = r->svc.set.v[k].lo;
					x->hi[3] = r->svc.set.v[k].hi;
					x->lo[4] = x->hi[4] = r->iface->index;
					x->prio = (int)i;
				}
	}
	c = cls_build(boxes, n);
	free(boxes);
	return c;
}

static const struct rule *
first_rule(const struct policy *p, const struct classifier *idx,
    const struct flow *f, u128 dst)
{
	size_t i;

	if (idx != NULL) {
		u128 pt[CLS_DIMS] = { f->src, dst, 0, flow_service_key(f),
		    f->iface->index };
		int prio = cls_lookup(idx, pt);

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

void
policy_eval_with(const struct policy *p, const struct classifier *idx,
    const struct flow *f, struct verdict *v)
{
	const struct rule *r;

	v->rule = NULL;
	v->dst = f->dst;
	v->forward = NULL;
	if (!p->firewall) {
		v->action = ACT_ACCEPT;
		v->by = BY_FIREWALL_OFF;
		v->to_gateway = is_gateway_address(p, f->dst);
		return;
	}
	v->forward = find_forward(p, f, &v->dst);
	v->to_gateway = is_gateway_address(p, v->dst);
	if (p->lockout_rule != NULL && rule_matches(p->lockout_rule, f, v->dst)) {
		v->action = ACT_ACCEPT;
		v->by = BY_ANTILOCKOUT;
		v->rule = p->lockout_rule;
		return;
	}
	if ((r = first_rule(p, idx, f, v->dst)) != NULL) {
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
		    (lan = policy_iface(p, "LAN")) == NULL)
			return SMTP_NOT_SCANNED;
		for (i = 0; i < lan->naddr; i++)
			if (lan->addrs[i].lit.lo == v->dst)
				return SMTP_RELAY;
		return SMTP_NOT_SCANNED;
	}
	if (!av->other_scanning)
		return SMTP_NOT_SCANNED;
	if (v->forward != NULL)
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
