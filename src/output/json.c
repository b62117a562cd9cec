/* json.c: JSON output; see json.h. */
#include "output/json.h"

#include <stdio.h>
#include <string.h>

#include "output/printer.h"
#include "policy/schedule.h"

void
json_put_string(struct strbuf *b, const char *s)
{
	strbuf_putc(b, '"');
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			strbuf_printf(b, "\\%c", c);
		else if (c == '\n')
			strbuf_puts(b, "\\n");
		else if (c == '\t')
			strbuf_puts(b, "\\t");
		else if (c < 0x20)
			strbuf_printf(b, "\\u%04x", c);
		else
			strbuf_putc(b, (char)c);
	}
	strbuf_putc(b, '"');
}

static void
json_key(struct strbuf *b, const char *key, bool *first)
{
	if (!*first)
		strbuf_putc(b, ',');
	*first = false;
	json_put_string(b, key);
	strbuf_putc(b, ':');
}

static void
json_kv_str(struct strbuf *b, const char *key, const char *val, bool *first)
{
	json_key(b, key, first);
	if (val == NULL)
		strbuf_puts(b, "null");
	else
		json_put_string(b, val);
}

static void
json_kv_bool(struct strbuf *b, const char *key, bool val, bool *first)
{
	json_key(b, key, first);
	strbuf_puts(b, val ? "true" : "false");
}

static void
json_kv_int(struct strbuf *b, const char *key, long long val, bool *first)
{
	json_key(b, key, first);
	strbuf_printf(b, "%lld", val);
}

static void
json_lit(struct strbuf *b, const struct addr_lit *lit)
{
	char a[ADDR_STRLEN], m[ADDR_STRLEN];
	bool first = true;

	strbuf_putc(b, '{');
	addr_format(lit->lo, a, sizeof(a));
	switch (lit->kind) {
	case LIT_HOST:
		json_kv_str(b, "type", "host", &first);
		json_kv_str(b, "address", a, &first);
		break;
	case LIT_PREFIX:
		json_kv_str(b, "type", "network", &first);
		json_kv_str(b, "address", a, &first);
		json_kv_int(b, "prefix", lit->plen, &first);
		if (lit->family == FAM_V4) {
			u128 mask = lit->plen == 0 ? V4_BASE : V4_BASE |
			    (0xffffffffu << (32 - lit->plen) & 0xffffffffu);

			addr_format(mask, m, sizeof(m));
			json_kv_str(b, "mask", m, &first);
		}
		break;
	case LIT_RANGE:
		addr_format(lit->hi, m, sizeof(m));
		json_kv_str(b, "type", "range", &first);
		json_kv_str(b, "first", a, &first);
		json_kv_str(b, "last", m, &first);
		break;
	}
	json_kv_str(b, "family", lit->family == FAM_V4 ? "ipv4" : "ipv6",
	    &first);
	strbuf_putc(b, '}');
}

static void
json_elems(struct strbuf *b, const struct addr_expr *x)
{
	size_t i;

	strbuf_putc(b, '[');
	for (i = 0; i < x->n; i++) {
		if (i > 0)
			strbuf_putc(b, ',');
		if (x->v[i].kind == AE_NAME) {
			bool first = true;

			strbuf_putc(b, '{');
			json_kv_str(b, "type", "object", &first);
			json_kv_str(b, "name", x->v[i].name, &first);
			strbuf_putc(b, '}');
		} else
			json_lit(b, &x->v[i].lit);
	}
	strbuf_putc(b, ']');
}

/* {"match":"include"|"exclude","addresses":[…]} */
static void
json_side(struct strbuf *b, const char *key, const struct addr_expr *x,
    bool *first)
{
	bool f = true;

	json_key(b, key, first);
	strbuf_putc(b, '{');
	json_kv_str(b, "match", x->exclude ? "exclude" : "include", &f);
	json_key(b, "addresses", &f);
	json_elems(b, x);
	strbuf_putc(b, '}');
}

/* {"match":"any"} or {"match":"selected","names":[…]} */
static void
json_services(struct strbuf *b, const struct svc_list *l, bool *first)
{
	bool f = true;
	size_t i;

	json_key(b, "services", first);
	strbuf_putc(b, '{');
	json_kv_str(b, "match", l->n == 0 ? "any" : "selected", &f);
	if (l->n > 0) {
		json_key(b, "names", &f);
		strbuf_putc(b, '[');
		for (i = 0; i < l->n; i++) {
			if (i > 0)
				strbuf_putc(b, ',');
			json_put_string(b, l->v[i].name);
		}
		strbuf_putc(b, ']');
	}
	strbuf_putc(b, '}');
}

/* "time_zone" and "schedules" (only when the policy has schedules, so
 * the JSON of other policies is unchanged). */
static void
json_schedules(struct strbuf *b, const struct policy *p, bool *first)
{
	char zone[128];
	struct strbuf days;
	size_t i, j;

	schedule_zone(zone, sizeof(zone));
	json_kv_str(b, "time_zone", zone, first);
	json_key(b, "schedules", first);
	strbuf_putc(b, '[');
	strbuf_init(&days, 0);
	for (i = 0; i < p->nsched; i++) {
		const struct schedule *s = p->scheds[i];
		bool f = true;

		if (i > 0)
			strbuf_putc(b, ',');
		strbuf_putc(b, '{');
		json_kv_str(b, "name", s->name, &f);
		json_kv_int(b, "line", s->loc.line, &f);
		json_key(b, "windows", &f);
		strbuf_putc(b, '[');
		for (j = 0; j < s->n; j++) {
			char t[24];
			bool g = true;

			if (j > 0)
				strbuf_putc(b, ',');
			strbuf_putc(b, '{');
			strbuf_reset(&days);
			printer_days(s->v[j].days, &days);
			json_kv_str(b, "days", strbuf_str(&days), &g);
			snprintf(t, sizeof(t), "%02u:%02u", s->v[j].start / 60,
			    s->v[j].start % 60);
			json_kv_str(b, "start", t, &g);
			snprintf(t, sizeof(t), "%02u:%02u", s->v[j].end / 60,
			    s->v[j].end % 60);
			json_kv_str(b, "end", t, &g);
			strbuf_putc(b, '}');
		}
		strbuf_puts(b, "]}");
	}
	strbuf_free(&days);
	strbuf_putc(b, ']');
}

static void
json_rule(struct strbuf *b, const struct rule *r)
{
	bool first = true;

	strbuf_putc(b, '{');
	json_kv_int(b, "number", r->number, &first);
	json_key(b, "line", &first);
	if (r->loc.line > 0)
		strbuf_printf(b, "%d", r->loc.line);
	else
		strbuf_puts(b, "null");
	json_kv_str(b, "action", action_name(r->action), &first);
	json_kv_str(b, "interface", r->ifname, &first);
	json_side(b, "source", &r->src, &first);
	json_side(b, "destination", &r->dst, &first);
	json_services(b, &r->svc, &first);
	if (r->sched_name != NULL)
		json_kv_str(b, "schedule", r->sched_name, &first);
	if (r->gw.name != NULL)
		json_kv_str(b, "gateway", r->gw.name, &first);
	json_kv_bool(b, "log", r->log, &first);
	json_kv_str(b, "comment", r->comment, &first);
	json_kv_bool(b, "enabled", !r->disabled, &first);
	strbuf_putc(b, '}');
}

static void
json_iface(struct strbuf *b, const struct policy *p, const struct iface *ifc)
{
	char buf[2 * ADDR_STRLEN + 8];
	bool first = true;
	size_t i;

	strbuf_putc(b, '{');
	json_kv_str(b, "name", ifc->name, &first);
	json_kv_str(b, "device", ifc->device, &first);
	json_key(b, "addresses", &first);
	strbuf_putc(b, '[');
	for (i = 0; i < ifc->naddr; i++) {
		if (i > 0)
			strbuf_putc(b, ',');
		addr_lit_format(&ifc->addrs[i].lit, buf, sizeof(buf));
		json_put_string(b, buf);
	}
	strbuf_putc(b, ']');
	json_kv_bool(b, "dynamic", ifc->dynamic, &first);
	json_kv_str(b, "default", action_name(policy_iface_default(ifc)),
	    &first);
	json_kv_bool(b, "log_default", policy_iface_log_default(p, ifc),
	    &first);
	strbuf_putc(b, '}');
}

static void
json_service(struct strbuf *b, const struct service *s)
{
	bool first = true;
	size_t i, j;

	strbuf_putc(b, '{');
	json_kv_str(b, "name", s->name, &first);
	json_kv_bool(b, "builtin", s->builtin, &first);
	json_key(b, "entries", &first);
	strbuf_putc(b, '[');
	for (i = 0; i < s->n; i++) {
		const struct svc_entry *e = &s->v[i];
		bool f = true;

		if (i > 0)
			strbuf_putc(b, ',');
		strbuf_putc(b, '{');
		json_kv_str(b, "protocol", e->proto->name, &f);
		if (e->proto->kind != PK_NONE) {
			json_key(b, e->proto->kind == PK_PORTS ? "ports" :
			    "types", &f);
			if (e->n == 0)
				strbuf_puts(b, "\"any\"");
			else
				strbuf_putc(b, '[');
			for (j = 0; j < e->n; j++) {
				const char *name = e->proto->kind == PK_TYPES ?
				    builtin_icmp_name(e->proto->number,
				    (int)e->v[j].lo) : NULL;

				if (j > 0)
					strbuf_putc(b, ',');
				if (name != NULL)
					json_put_string(b, name);
				else if (e->v[j].lo == e->v[j].hi)
					strbuf_printf(b, "\"%u\"", e->v[j].lo);
				else
					strbuf_printf(b, "\"%u-%u\"", e->v[j].lo,
					    e->v[j].hi);
			}
			if (e->n > 0)
				strbuf_putc(b, ']');
		}
		strbuf_putc(b, '}');
	}
	strbuf_puts(b, "]}");
}

static void
json_antivirus(struct strbuf *b, const struct antivirus *av, bool *first)
{
	bool f = true;
	unsigned i;

	json_key(b, "antivirus", first);
	if (!av->present) {
		strbuf_puts(b, "null");
		return;
	}
	strbuf_putc(b, '{');
	json_kv_str(b, "engine", av->engine == AV_CLAMAV ? "clamav" : "clamd",
	    &f);
	json_kv_str(b, "engine_path", av->engine_path, &f);
	json_key(b, "engine_addresses", &f);
	strbuf_putc(b, '[');
	for (i = 0; i < av->nengine_addrs || i == 0; i++) {
		if (i > 0)
			strbuf_putc(b, ',');
		json_put_string(b, i == 0 ? av->engine_path :
		    av->engine_addrs[i]);
	}
	strbuf_putc(b, ']');
	json_kv_bool(b, "smtp_other_scanning", av->other_scanning, &f);
	json_kv_bool(b, "smtp_local_scanning", av->local_scanning, &f);
	json_kv_bool(b, "smtp_outgoing_scanning", av->outgoing_scanning, &f);
	json_kv_str(b, "smtp_relay_to", av->relay_to, &f);
	json_kv_str(b, "on_virus", "reject", &f);
	json_kv_str(b, "on_scan_failure", av->fail_pass ? "pass" : "tempfail",
	    &f);
	json_kv_int(b, "max_message_size", (long long)av->max_size, &f);
	json_kv_int(b, "smtp_command_timeout", av->command_timeout, &f);
	json_kv_int(b, "smtp_data_timeout", av->data_timeout, &f);
	json_kv_bool(b, "smtp_keep_client_address", av->keep_client_address,
	    &f);
	json_kv_str(b, "smtp_bare_newline", av->bare_normalize ? "normalize" :
	    "reject", &f);
	json_kv_int(b, "smtp_max_sessions", av->max_sessions, &f);
	json_kv_int(b, "smtp_max_client_sessions", av->max_client_sessions, &f);
	json_kv_int(b, "smtp_max_client_rate", av->max_client_rate, &f);
	json_kv_int(b, "smtp_min_data_rate", av->min_data_rate, &f);
	json_kv_int(b, "smtp_memory_limit", (long long)av->memory_limit, &f);
	json_kv_int(b, "signature_check_interval", av->signature_check, &f);
	json_kv_int(b, "scan_timeout", av->scan_timeout, &f);
	json_kv_str(b, "signature_reload", policy_av_reload_name(av->reload),
	    &f);
	json_kv_str(b, "smtp_intercept_tls",
	    policy_av_intercept_tls_name(av->intercept_tls), &f);
	json_kv_str(b, "smtp_tls_passthrough_from", av->passthrough_from, &f);
	json_kv_str(b, "smtp_tls_upstream",
	    policy_av_tls_upstream_name(av->tls_upstream), &f);
	json_kv_str(b, "smtp_tls_ca_file", av->tls_ca_file, &f);
	json_kv_str(b, "dnssec_trust_anchor", av->trust_anchor, &f);
	json_kv_str(b, "smtp_tls_certificate", av->tls_cert, &f);
	json_kv_str(b, "smtp_tls_key", av->tls_key, &f);
	json_kv_bool(b, "smtp_relay_require_tls", av->relay_require_tls, &f);
	json_key(b, "ignore_signatures", &f);
	strbuf_putc(b, '[');
	for (i = 0; i < av->nignore_sigs; i++) {
		if (i > 0)
			strbuf_putc(b, ',');
		json_put_string(b, av->ignore_sigs[i]);
	}
	strbuf_putc(b, ']');
	strbuf_putc(b, '}');
}

static void
json_logging(struct strbuf *b, const struct logging *lg, bool *first)
{
	bool f = true;

	json_key(b, "logging", first);
	strbuf_putc(b, '{');
	json_kv_str(b, "directory", lg->directory, &f);
	json_kv_int(b, "rate", lg->rate, &f);
	json_kv_int(b, "max_file_size", (long long)lg->max_file_size, &f);
	json_kv_int(b, "keep", lg->keep, &f);
	json_kv_str(b, "metrics_file", lg->metrics_file, &f);
	json_kv_int(b, "metrics_interval", lg->metrics_interval, &f);
	strbuf_putc(b, '}');
}

static void
json_console(struct strbuf *b, const struct console_conf_block *c,
    bool *first)
{
	bool f = true;

	json_key(b, "console", first);
	strbuf_putc(b, '{');
	json_kv_bool(b, "enabled", !c->off, &f);
	json_kv_str(b, "listen", c->listen, &f);
	json_kv_str(b, "users", c->users, &f);
	json_kv_str(b, "certificate", c->cert, &f);
	json_kv_str(b, "key", c->key, &f);
	json_kv_str(b, "user", c->user, &f);
	json_kv_int(b, "session_timeout", c->session_timeout, &f);
	strbuf_putc(b, '}');
}

static const char *
json_family(enum addr_family f)
{
	return f == FAM_V4 ? "ipv4" : f == FAM_V6 ? "ipv6" : NULL;
}

/* gateways, gateway_groups and default_gateway, when there are any. */
static void
json_gateways(struct strbuf *b, const struct policy *p, bool *first)
{
	char a[ADDR_STRLEN];
	size_t i, k;
	bool f;
	int fam;

	json_key(b, "gateways", first);
	strbuf_putc(b, '[');
	for (i = 0; i < p->ngateway; i++) {
		const struct gateway *g = p->gateways[i];

		f = true;
		strbuf_puts(b, i > 0 ? ",{" : "{");
		json_kv_str(b, "name", g->name, &f);
		json_kv_int(b, "index", (long long)g->index, &f);
		json_kv_int(b, "line", g->loc.line, &f);
		json_kv_str(b, "interface", g->ifname, &f);
		json_kv_str(b, "family", json_family(g->via.family), &f);
		addr_format(g->via.lo, a, sizeof(a));
		json_kv_str(b, "via", a, &f);
		addr_format(g->monitor.lo, a, sizeof(a));
		json_kv_str(b, "monitor", a, &f);
		json_kv_int(b, "loss", g->loss, &f);
		json_kv_int(b, "latency", g->latency, &f);
		strbuf_putc(b, '}');
	}
	strbuf_putc(b, ']');
	json_key(b, "gateway_groups", first);
	strbuf_putc(b, '[');
	for (i = 0; i < p->ngwgroup; i++) {
		const struct gateway_group *gg = p->gwgroups[i];

		f = true;
		strbuf_puts(b, i > 0 ? ",{" : "{");
		json_kv_str(b, "name", gg->name, &f);
		json_kv_int(b, "index", (long long)gg->index, &f);
		json_kv_int(b, "line", gg->loc.line, &f);
		json_kv_str(b, "family", json_family(gg->family), &f);
		json_key(b, "members", &f);
		strbuf_putc(b, '[');
		for (k = 0; k < gg->n; k++) {
			bool g = true;

			strbuf_puts(b, k > 0 ? ",{" : "{");
			json_kv_str(b, "gateway", gg->v[k].name, &g);
			json_kv_int(b, "tier", gg->v[k].tier, &g);
			strbuf_putc(b, '}');
		}
		strbuf_puts(b, "]}");
	}
	strbuf_putc(b, ']');
	json_key(b, "default_gateway", first);
	strbuf_putc(b, '{');
	f = true;
	for (fam = FAM_V4; fam <= FAM_V6; fam++) {
		const struct gw_ref *d = policy_default_gw(p,
		    (enum addr_family)fam);
		bool g = true;

		json_key(b, json_family((enum addr_family)fam), &f);
		if (d == NULL) {
			strbuf_puts(b, "null");
			continue;
		}
		strbuf_putc(b, '{');
		json_kv_str(b, "name", d->name, &g);
		json_kv_str(b, "kind", d->gw != NULL ? "gateway" : "group", &g);
		json_kv_bool(b, "implied", d->implied, &g);
		strbuf_putc(b, '}');
	}
	strbuf_putc(b, '}');
}

void
json_policy(const struct policy *p, struct strbuf *b)
{
	json_policy_rules(p, 0, p->nrule, b);
}

void
json_policy_rules(const struct policy *p, size_t from, size_t count,
    struct strbuf *b)
{
	bool first = true, f;
	size_t i;

	if (from > p->nrule)
		from = p->nrule;
	if (count > p->nrule - from)
		count = p->nrule - from;

	strbuf_putc(b, '{');
	json_kv_str(b, "file", p->file, &first);
	json_kv_bool(b, "firewall", p->firewall, &first);
	if (policy_nfeeds(p) > 0 || p->dns_min_ttl != DNS_MIN_TTL_DEFAULT ||
	    p->dns_max_ttl != DNS_MAX_TTL_DEFAULT) {
		json_kv_int(b, "dns_min_ttl", p->dns_min_ttl, &first);
		json_kv_int(b, "dns_max_ttl", p->dns_max_ttl, &first);
	}
	if (p->geoip_database != NULL)
		json_kv_str(b, "geoip_database", p->geoip_database, &first);
	json_kv_bool(b, "anti_lockout", p->anti_lockout, &first);
	json_key(b, "interfaces", &first);
	strbuf_putc(b, '[');
	for (i = 0; i < p->niface; i++) {
		if (i > 0)
			strbuf_putc(b, ',');
		json_iface(b, p, p->ifaces[i]);
	}
	strbuf_putc(b, ']');
	json_key(b, "objects", &first);
	strbuf_putc(b, '[');
	for (i = 0; i < p->nobject; i++) {
		const struct object *o = p->objects[i];

		if (i > 0)
			strbuf_putc(b, ',');
		f = true;
		strbuf_putc(b, '{');
		json_kv_str(b, "name", o->name, &f);
		json_kv_bool(b, "builtin", o->kind != OBJ_USER &&
		    !policy_object_feed(o), &f);
		if (o->kind == OBJ_USER) {
			json_key(b, "members", &f);
			json_elems(b, &o->members);
		} else if (policy_object_feed(o)) {
			size_t k;

			json_kv_str(b, "kind", policy_feed_kind_name(o->kind),
			    &f);
			if (o->kind == OBJ_URL) {
				json_kv_str(b, "url", o->feed.names[0], &f);
				json_kv_int(b, "refresh", o->feed.refresh, &f);
				json_kv_int(b, "max", (long long)o->feed.max, &f);
			} else {
				json_key(b, o->kind == OBJ_FQDN ? "hosts" :
				    "countries", &f);
				strbuf_putc(b, '[');
				for (k = 0; k < o->feed.n; k++) {
					if (k > 0)
						strbuf_putc(b, ',');
					json_put_string(b, o->feed.names[k]);
				}
				strbuf_putc(b, ']');
			}
		} else
			json_kv_str(b, "meaning", o->kind == OBJ_ANY ?
			    "any address" : o->kind == OBJ_IFIP ?
			    "the gateway's addresses on the interface" :
			    "the networks attached to the interface", &f);
		strbuf_putc(b, '}');
	}
	strbuf_putc(b, ']');
	json_key(b, "services", &first);
	strbuf_putc(b, '[');
	for (i = 0; i < p->nservice; i++) {
		if (i > 0)
			strbuf_putc(b, ',');
		json_service(b, p->services[i]);
	}
	strbuf_putc(b, ']');
	if (p->nsched > 0)
		json_schedules(b, p, &first);
	if (p->ngateway > 0)
		json_gateways(b, p, &first);
	json_key(b, "anti_lockout_rule", &first);
	if (p->lockout_rule != NULL)
		json_rule(b, p->lockout_rule);
	else
		strbuf_puts(b, "null");
	json_key(b, "rules", &first);
	strbuf_putc(b, '[');
	for (i = from; i < from + count; i++) {
		if (i > from)
			strbuf_putc(b, ',');
		json_rule(b, p->rules[i]);
	}
	strbuf_putc(b, ']');
	json_key(b, "nat", &first);
	strbuf_putc(b, '[');
	for (i = 0; i < p->nnat; i++) {
		f = true;
		if (i > 0)
			strbuf_putc(b, ',');
		strbuf_putc(b, '{');
		json_kv_str(b, "type", "masquerade", &f);
		json_kv_str(b, "interface", p->nats[i]->ifname, &f);
		json_kv_int(b, "line", p->nats[i]->loc.line, &f);
		strbuf_putc(b, '}');
	}
	for (i = 0; i < p->nnat_one; i++) {
		const struct nat_one *n = p->nat_ones[i];

		f = true;
		if (i > 0 || p->nnat > 0)
			strbuf_putc(b, ',');
		strbuf_putc(b, '{');
		json_kv_str(b, "type", "one-to-one", &f);
		json_kv_int(b, "number", n->number, &f);
		json_kv_str(b, "interface", n->ifname, &f);
		json_kv_int(b, "line", n->loc.line, &f);
		json_key(b, "public", &f);
		json_elems(b, &n->pub);
		json_key(b, "inside", &f);
		json_elems(b, &n->inside);
		json_kv_bool(b, "reflection", n->reflection, &f);
		strbuf_putc(b, '}');
	}
	for (i = 0; i < p->nnat_rule; i++) {
		const struct nat_rule *n = p->nat_rules[i];

		f = true;
		if (i > 0 || p->nnat + p->nnat_one > 0)
			strbuf_putc(b, ',');
		strbuf_putc(b, '{');
		json_kv_str(b, "type", "source", &f);
		json_kv_int(b, "number", n->number, &f);
		json_kv_str(b, "interface", n->ifname, &f);
		json_kv_int(b, "line", n->loc.line, &f);
		json_side(b, "source", &n->src, &f);
		json_side(b, "destination", &n->dst, &f);
		json_services(b, &n->svc, &f);
		json_key(b, "translate", &f);
		if (n->kind == NAT_TO_ADDRESS)
			json_elems(b, &n->to);
		else
			json_put_string(b, n->kind == NAT_TO_NONE ? "none" :
			    "masquerade");
		strbuf_putc(b, '}');
	}
	strbuf_putc(b, ']');
	json_key(b, "forwards", &first);
	strbuf_putc(b, '[');
	for (i = 0; i < p->nforward; i++) {
		const struct forward *fw = p->forwards[i];

		f = true;
		if (i > 0)
			strbuf_putc(b, ',');
		strbuf_putc(b, '{');
		json_kv_int(b, "number", fw->number, &f);
		json_kv_int(b, "line", fw->loc.line, &f);
		json_kv_str(b, "interface", fw->ifname, &f);
		json_services(b, &fw->svc, &f);
		json_key(b, "to", &f);
		json_elems(b, &fw->target);
		json_kv_bool(b, "reflection", fw->reflection, &f);
		strbuf_putc(b, '}');
	}
	strbuf_putc(b, ']');
	json_antivirus(b, &p->av, &first);
	json_logging(b, &p->logging, &first);
	json_console(b, &p->console, &first);
	strbuf_puts(b, "}\n");
}

static const char *const decided_by_name[] = {
	[BY_RULE] = "rule",
	[BY_ANTILOCKOUT] = "anti-lockout",
	[BY_FORWARD] = "forward",
	[BY_DEFAULT] = "default",
	[BY_FIREWALL_OFF] = "firewall-off",
};

/* "dynamic": what each dynamic interface's address was taken to be, and
 * what depends on it. */
static void
json_dynamic(const struct policy *p, struct strbuf *b, bool *first)
{
	char buf[2 * ADDR_STRLEN + 8];
	size_t i, j;
	bool any = false;

	json_key(b, "dynamic", first);
	strbuf_putc(b, '[');
	for (i = 0; i < p->niface; i++) {
		const struct iface *ifc = p->ifaces[i];
		bool f = true, fr = true;

		if (!ifc->dynamic)
			continue;
		strbuf_puts(b, any ? ",{" : "{");
		any = true;
		json_kv_str(b, "interface", ifc->name, &f);
		json_kv_str(b, "device", ifc->device, &f);
		json_key(b, "addresses", &f);
		strbuf_putc(b, '[');
		for (j = 0; j < ifc->nbound; j++) {
			if (j > 0)
				strbuf_putc(b, ',');
			addr_lit_format(&ifc->bound[j], buf, sizeof(buf));
			json_put_string(b, buf);
		}
		strbuf_putc(b, ']');
		json_key(b, "rules", &f);
		strbuf_putc(b, '[');
		for (j = 0; j < p->nrule; j++)
			if (policy_rule_uses(p->rules[j], ifc)) {
				strbuf_printf(b, "%s%d", fr ? "" : ",",
				    p->rules[j]->number);
				fr = false;
			}
		strbuf_putc(b, ']');
		json_key(b, "forwards", &f);
		strbuf_putc(b, '[');
		for (j = 0, fr = true; j < p->nforward; j++)
			if (policy_forward_uses(p->forwards[j], ifc)) {
				strbuf_printf(b, "%s%d", fr ? "" : ",",
				    p->forwards[j]->number);
				fr = false;
			}
		strbuf_puts(b, "]}");
	}
	strbuf_putc(b, ']');
}
/* A destination NAT's object in a verdict (a forward's or a 1:1's): its
 * number, its stable id (its kernel objects' names: doc/design/rule-ids.md),
 * the address it sends to, and the reflected source. */
static void
put_dnat(struct strbuf *b, const struct verdict *v, int number, uint64_t id)
{
	char a[ADDR_STRLEN];
	bool ff = true;

	strbuf_putc(b, '{');
	json_kv_int(b, "number", number, &ff);
	json_key(b, "id", &ff);
	strbuf_printf(b, "\"%016llx\"", (unsigned long long)id);
	addr_format(v->dst, a, sizeof(a));
	json_kv_str(b, "to", a, &ff);
	json_kv_bool(b, "reflected", v->reflected, &ff);
	if (v->reflected) {
		if (v->has_src)
			addr_format(v->src, a, sizeof(a));
		json_kv_str(b, "source", v->has_src ? a : NULL, &ff);
	}
	strbuf_putc(b, '}');
}


void
json_verdict(const struct policy *p, const struct flow *f,
    const struct verdict *v, struct strbuf *b)
{
	struct strbuf tmp;
	char a[ADDR_STRLEN];
	bool first = true, ff = true, has_ts;
	const struct proto_info *pi = builtin_proto_by_number(f->proto);
	u128 ts, td;

	strbuf_init(&tmp, 0);
	strbuf_putc(b, '{');
	json_kv_str(b, "verdict", action_name(v->action), &first);
	json_key(b, "rule", &first);
	if (v->by == BY_RULE)
		strbuf_printf(b, "%d", v->rule->number);
	else
		strbuf_puts(b, "null");
	/* The rule's stable id: its counter, log prefix and comment in the
	 * kernel (doc/design/rule-ids.md). */
	json_key(b, "rule_id", &first);
	if (v->by == BY_RULE)
		strbuf_printf(b, "\"%016llx\"",
		    (unsigned long long)v->rule->id);
	else
		strbuf_puts(b, "null");
	json_key(b, "line", &first);
	if (v->by == BY_RULE)
		strbuf_printf(b, "%d", v->rule->loc.line);
	else if (v->by == BY_FORWARD)
		strbuf_printf(b, "%d", v->forward->loc.line);
	else
		strbuf_puts(b, "null");
	json_kv_str(b, "file", printer_basename(p->file), &first);
	json_kv_str(b, "decided_by", decided_by_name[v->by], &first);
	printer_verdict(p, f, v, &tmp);
	json_kv_str(b, "reason", strbuf_str(&tmp), &first);
	if (v->rule != NULL) {
		strbuf_reset(&tmp);
		printer_rule(v->rule, &tmp, false);
		json_kv_str(b, "rule_text", strbuf_str(&tmp), &first);
		json_kv_str(b, "comment", v->rule->comment, &first);
	}
	if (policy_ndynamic(p) > 0)
		json_dynamic(p, b, &first);
	if (p->nsched > 0) {
		const struct rule *closed = policy_closed_rule(p, f, v);

		strbuf_reset(&tmp);
		printer_when(p, f, v, &tmp);
		json_kv_str(b, "schedules", strbuf_str(&tmp), &first);
		json_key(b, "closed_rule", &first);
		if (closed != NULL)
			strbuf_printf(b, "%d", closed->number);
		else
			strbuf_puts(b, "null");
	}
	json_kv_str(b, "interface", f->iface->name, &first);
	json_kv_str(b, "direction", v->to_gateway ? "input" : "forward",
	    &first);
	json_kv_str(b, "before_rules", policy_before_rules(p, f, v), &first);
	json_kv_str(b, "smtp_scan", smtp_scan_name(policy_smtp_scan(p, f, v)),
	    &first);
	json_key(b, "flow", &first);
	strbuf_putc(b, '{');
	addr_format(f->src, a, sizeof(a));
	json_kv_str(b, "src", a, &ff);
	addr_format(f->dst, a, sizeof(a));
	json_kv_str(b, "dst", a, &ff);
	if (pi != NULL)
		json_kv_str(b, "protocol", pi->name, &ff);
	else
		json_kv_int(b, "protocol", f->proto, &ff);
	if (pi != NULL && pi->kind == PK_PORTS)
		json_kv_int(b, "port", f->dport, &ff);
	else if (pi != NULL && pi->kind == PK_TYPES)
		json_kv_int(b, "type", f->dport, &ff);
	strbuf_putc(b, '}');
	json_key(b, "forward", &first);
	if (v->forward != NULL) {
		put_dnat(b, v, v->forward->number, v->forward->id);
	} else
		strbuf_puts(b, "null");
	json_key(b, "one_to_one", &first);
	if (v->one != NULL && v->snat != SNAT_ONE) {
		put_dnat(b, v, v->one->number, v->one->id);
	} else
		strbuf_puts(b, "null");
	if (p->ngateway > 0) {
		json_key(b, "gateway", &first);
		if (v->gw != NULL) {
			ff = true;
			strbuf_putc(b, '{');
			json_kv_str(b, "name", v->gw->name, &ff);
			json_kv_str(b, "kind", v->gw->gw != NULL ? "gateway" :
			    "group", &ff);
			json_kv_int(b, "rule", v->rule->number, &ff);
			strbuf_putc(b, '}');
		} else
			strbuf_puts(b, "null");
	}
	json_key(b, "translated", &first);
	if (policy_translated(p, f, v, &ts, &has_ts, &td)) {
		ff = true;
		strbuf_putc(b, '{');
		if (has_ts)
			addr_format(ts, a, sizeof(a));
		json_kv_str(b, "src", has_ts ? a : NULL, &ff);
		addr_format(td, a, sizeof(a));
		json_kv_str(b, "dst", a, &ff);
		strbuf_putc(b, '}');
	} else
		strbuf_puts(b, "null");
	json_key(b, "nat", &first);
	if (v->out != NULL) {
		static const char *const how[] = { "none", "rule",
		    "masquerade", "one-to-one" };

		ff = true;
		strbuf_putc(b, '{');
		json_kv_str(b, "out", v->out->name, &ff);
		json_kv_str(b, "by", how[v->snat], &ff);
		json_key(b, "rule", &ff);
		if (v->nat_rule != NULL)
			strbuf_printf(b, "%d", v->nat_rule->number);
		else
			strbuf_puts(b, "null");
		json_key(b, "rule_id", &ff);
		if (v->nat_rule != NULL)
			strbuf_printf(b, "\"%016llx\"",
			    (unsigned long long)v->nat_rule->id);
		else
			strbuf_puts(b, "null");
		json_kv_str(b, "translate", v->snat == SNAT_MASQUERADE ?
		    "masquerade" : v->snat == SNAT_ONE ? "address" :
		    v->nat_rule == NULL ? "none" :
		    v->nat_rule->kind == NAT_TO_NONE ? "none" :
		    v->nat_rule->kind == NAT_TO_MASQUERADE ? "masquerade" :
		    "address", &ff);
		if ((v->snat == SNAT_RULE || v->snat == SNAT_ONE) &&
		    v->has_src)
			addr_format(v->src, a, sizeof(a));
		json_kv_str(b, "source", (v->snat == SNAT_RULE ||
		    v->snat == SNAT_ONE) && v->has_src ? a : NULL, &ff);
		strbuf_putc(b, '}');
	} else
		strbuf_puts(b, "null");
	strbuf_puts(b, "}\n");
	strbuf_free(&tmp);
}
