/* eval.c: the verdict for one flow; see eval.h.
 *
 * The order is the kernel's: a port forward rewrites the destination first
 * (prerouting), then the anti-lockout rule, the numbered rules in file order
 * (first match wins, disabled ones skipped), the accept implied by the port
 * forward, and last the interface's default.
 */
#include "eval.h"

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

void
policy_eval(const struct policy *p, const struct flow *f, struct verdict *v)
{
	size_t i;

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
	for (i = 0; i < p->nrule; i++)
		if (rule_matches(p->rules[i], f, v->dst)) {
			v->action = p->rules[i]->action;
			v->by = BY_RULE;
			v->rule = p->rules[i];
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
