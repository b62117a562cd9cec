/* printer.c: canonical text; see printer.h.
 *
 * The canonical form: interfaces, then the switches, objects, services,
 * rules, NAT and port forwards, the antivirus block; one statement a line,
 * single spaces, every rule with from and to, optional parts in one order,
 * addresses as inet_ntop writes them, dotted masks as prefix lengths.
 */
#include "output/printer.h"

#include <string.h>

#include "policy/lexer.h"

const char *
printer_basename(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash != NULL ? slash + 1 : path;
}

static void
print_quoted(struct strbuf *b, const char *s)
{
	strbuf_putc(b, '"');
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			strbuf_putc(b, '\\');
		strbuf_putc(b, *s);
	}
	strbuf_putc(b, '"');
}

/* A path or other value: bare when the lexer would read it back as one
 * word, quoted otherwise. */
static void
print_word(struct strbuf *b, const char *s)
{
	const char *c;

	for (c = s; *c != '\0'; c++)
		if (*c <= 0x20 || *c >= 0x7f || strchr("{},!\"#", *c) != NULL)
			break;
	if (*c == '\0' && c != s && strlen(s) <= WORD_MAX)
		strbuf_puts(b, s);
	else
		print_quoted(b, s);
}

void
printer_addr_expr(const struct addr_expr *x, struct strbuf *b)
{
	policy_addr_expr_text(x, b);
}

static void
print_svc_entry(const struct svc_entry *e, struct strbuf *b)
{
	size_t i;

	strbuf_puts(b, e->proto->name);
	for (i = 0; i < e->n; i++) {
		const char *name = e->proto->kind == PK_TYPES ?
		    builtin_icmp_name(e->proto->number, (int)e->v[i].lo) : NULL;

		strbuf_putc(b, i == 0 ? ' ' : ',');
		if (name != NULL)
			strbuf_puts(b, name);
		else if (e->v[i].lo == e->v[i].hi)
			strbuf_printf(b, "%u", e->v[i].lo);
		else
			strbuf_printf(b, "%u-%u", e->v[i].lo, e->v[i].hi);
	}
}

void
printer_rule(const struct rule *r, struct strbuf *b, bool with_comment)
{
	policy_rule_line(r, b, with_comment);
}

void
printer_nat_rule(const struct nat_rule *n, struct strbuf *b)
{
	policy_nat_rule_line(n, b);
}

void
printer_gateway(const struct gateway *g, struct strbuf *b)
{
	char a[ADDR_STRLEN];

	addr_format(g->via.lo, a, sizeof(a));
	strbuf_printf(b, "gateway %s on %s via %s", g->name, g->ifname, a);
	if (g->monitor.lo != g->via.lo) {
		addr_format(g->monitor.lo, a, sizeof(a));
		strbuf_printf(b, " monitor %s", a);
	}
	if (g->loss != GW_LOSS_DEFAULT)
		strbuf_printf(b, " loss %u%%", g->loss);
	if (g->latency != GW_LATENCY_DEFAULT)
		strbuf_printf(b, " latency %ums", g->latency);
}

void
printer_gwgroup(const struct gateway_group *gg, struct strbuf *b)
{
	size_t i;

	strbuf_printf(b, "gateway-group %s", gg->name);
	for (i = 0; i < gg->n; i++) {
		strbuf_printf(b, " %s", gg->v[i].name);
		if (gg->v[i].tier != 1)
			strbuf_printf(b, " tier %u", gg->v[i].tier);
	}
}

/* The gateways, their groups and the default-gateway written. */
static void
print_gateways(const struct policy *p, struct strbuf *b)
{
	size_t i;
	int f, n = 0;

	for (i = 0; i < p->ngateway; i++) {
		printer_gateway(p->gateways[i], b);
		strbuf_putc(b, '\n');
	}
	for (i = 0; i < p->ngwgroup; i++) {
		printer_gwgroup(p->gwgroups[i], b);
		strbuf_putc(b, '\n');
	}
	for (f = 0; f < 2; f++) {
		const struct gw_ref *d = &p->default_gw[f];

		if (d->name == NULL || d->implied)
			continue;
		strbuf_printf(b, "%s %s", n++ ? "" : "default-gateway", d->name);
	}
	if (n > 0)
		strbuf_putc(b, '\n');
}

void
printer_forward(const struct forward *f, struct strbuf *b)
{
	policy_forward_line(f, b);
}

static void
print_size(struct strbuf *b, uint64_t v)
{
	static const char suffix[] = "GMK";
	int i;

	for (i = 0; i < 3; i++) {
		unsigned shift = 30u - 10u * (unsigned)i;

		if (v >= (1ull << shift) && (v & ((1ull << shift) - 1)) == 0) {
			strbuf_printf(b, "%llu%c",
			    (unsigned long long)(v >> shift), suffix[i]);
			return;
		}
	}
	strbuf_printf(b, "%llu", (unsigned long long)v);
}

static void
print_duration(struct strbuf *b, unsigned secs)
{
	if (secs % 86400 == 0 && secs > 86400)
		strbuf_printf(b, "%ud", secs / 86400);
	else if (secs % 3600 == 0)
		strbuf_printf(b, "%uh", secs / 3600);
	else if (secs % 60 == 0)
		strbuf_printf(b, "%um", secs / 60);
	else
		strbuf_printf(b, "%us", secs);
}

static void
print_antivirus(const struct antivirus *av, struct strbuf *b)
{
	strbuf_puts(b, "antivirus {\n");
	unsigned i;

	strbuf_printf(b, "    engine %s", av->engine == AV_CLAMAV ? "clamav" :
	    "clamd");
	/* engine_path is the first (an editor may have set it alone). */
	for (i = 0; i < av->nengine_addrs || i == 0; i++) {
		strbuf_putc(b, ' ');
		print_word(b, i == 0 ? av->engine_path : av->engine_addrs[i]);
	}
	strbuf_printf(b, "\n    smtp-other-scanning %s\n",
	    av->other_scanning ? "on" : "off");
	strbuf_printf(b, "    smtp-local-scanning %s\n",
	    av->local_scanning ? "on" : "off");
	strbuf_printf(b, "    smtp-outgoing-scanning %s\n",
	    av->outgoing_scanning ? "on" : "off");
	strbuf_printf(b, "    smtp-relay-to %s\n", av->relay_to);
	strbuf_puts(b, "    on-virus reject\n");
	strbuf_printf(b, "    on-scan-failure %s\n", av->fail_pass ? "pass" :
	    "tempfail");
	strbuf_puts(b, "    max-message-size ");
	print_size(b, av->max_size);
	strbuf_puts(b, "\n    smtp-command-timeout ");
	print_duration(b, av->command_timeout);
	strbuf_puts(b, "\n    smtp-data-timeout ");
	print_duration(b, av->data_timeout);
	strbuf_printf(b, "\n    smtp-keep-client-address %s\n",
	    av->keep_client_address ? "on" : "off");
	strbuf_printf(b, "    smtp-bare-newline %s\n", av->bare_normalize ?
	    "normalize" : "reject");
	strbuf_printf(b, "    smtp-max-sessions %u\n"
	    "    smtp-max-client-sessions %u\n"
	    "    smtp-max-client-rate %u\n"
	    "    smtp-min-data-rate %u\n"
	    "    smtp-memory-limit ", av->max_sessions, av->max_client_sessions,
	    av->max_client_rate, av->min_data_rate);
	print_size(b, av->memory_limit);
	strbuf_puts(b, "\n    signature-check-interval ");
	print_duration(b, av->signature_check);
	strbuf_puts(b, "\n    scan-timeout ");
	print_duration(b, av->scan_timeout);
	strbuf_printf(b, "\n    signature-reload %s",
	    policy_av_reload_name(av->reload));
	strbuf_printf(b, "\n    smtp-intercept-tls %s",
	    policy_av_intercept_tls_name(av->intercept_tls));
	if (av->passthrough_from != NULL)
		strbuf_printf(b, "\n    smtp-tls-passthrough-from %s",
		    av->passthrough_from);
	strbuf_printf(b, "\n    smtp-tls-upstream %s",
	    policy_av_tls_upstream_name(av->tls_upstream));
	{
		static const char *const kw[] = { "smtp-tls-ca-file",
		    "dnssec-trust-anchor", "smtp-tls-certificate",
		    "smtp-tls-key" };
		const char *v[] = { av->tls_ca_file, av->trust_anchor,
		    av->tls_cert, av->tls_key };

		for (i = 0; i < 4; i++)
			if (v[i] != NULL) {
				strbuf_printf(b, "\n    %s ", kw[i]);
				print_word(b, v[i]);
			}
	}
	strbuf_printf(b, "\n    smtp-relay-require-tls %s",
	    av->relay_require_tls ? "on" : "off");
	if (av->nignore_sigs > 0) {
		strbuf_puts(b, "\n    ignore-signature");
		for (i = 0; i < av->nignore_sigs; i++)
			strbuf_printf(b, " %s", av->ignore_sigs[i]);
	}
	strbuf_puts(b, "\n}\n");
}

static void
print_logging(const struct logging *lg, struct strbuf *b)
{
	strbuf_puts(b, "logging {\n    directory ");
	print_word(b, lg->directory);
	strbuf_printf(b, "\n    rate %u\n    max-file-size ", lg->rate);
	print_size(b, lg->max_file_size);
	strbuf_printf(b, "\n    keep %u\n", lg->keep);
	if (lg->metrics_file != NULL) {
		strbuf_puts(b, "    metrics-file ");
		print_word(b, lg->metrics_file);
		strbuf_putc(b, '\n');
	}
	strbuf_puts(b, "    metrics-interval ");
	print_duration(b, lg->metrics_interval);
	strbuf_puts(b, "\n}\n");
}

static void
print_console(const struct console_conf_block *c, struct strbuf *b)
{
	strbuf_puts(b, "console {\n");
	if (c->listen != NULL)
		strbuf_printf(b, "    listen %s\n", c->listen);
	strbuf_puts(b, "    users ");
	print_word(b, c->users);
	strbuf_puts(b, "\n    certificate ");
	print_word(b, c->cert);
	strbuf_puts(b, "\n    key ");
	print_word(b, c->key);
	strbuf_printf(b, "\n    user %s\n    session-timeout ", c->user);
	print_duration(b, c->session_timeout);
	strbuf_puts(b, "\n}\n");
}

static void
print_ha(const struct ha_conf *ha, struct strbuf *b)
{
	char buf[2 * ADDR_STRLEN + 8];
	size_t i;

	strbuf_puts(b, "ha {\n");
	if (ha->peer_loc.line > 0) {
		addr_lit_format(&ha->peer, buf, sizeof(buf));
		strbuf_printf(b, "    peer %s\n", buf);
	}
	if (ha->sync_ifname != NULL)
		strbuf_printf(b, "    sync-interface %s\n", ha->sync_ifname);
	for (i = 0; i < ha->nvip; i++) {
		addr_lit_format(&ha->vips[i].lit, buf, sizeof(buf));
		strbuf_printf(b, "    vip %s %s\n", ha->vips[i].ifname, buf);
	}
	strbuf_printf(b, "    priority %u\n", ha->priority);
	if (ha->secret != NULL) {
		/* (quoted as the lexer reads it back: a backslash too) */
		strbuf_puts(b, "    secret ");
		policy_put_quoted(b, ha->secret);
		strbuf_putc(b, '\n');
	}
	strbuf_printf(b, "    router-id %u\n    preempt-delay %u\n}\n",
	    ha->router_id, ha->preempt_delay);
}

/* A window's days, Monday first: daily, mon-fri, sat,sun, mon,wed-fri. */
void
printer_days(unsigned days, struct strbuf *b)
{
	static const char *const name[] = { "sun", "mon", "tue", "wed", "thu",
	    "fri", "sat" };
	int k = 0, n = 0;

	if ((days & 0x7f) == 0x7f) {
		strbuf_puts(b, "daily");
		return;
	}
	/* k walks mon … sun: day (k + 1) % 7 */
	while (k < 7) {
		int run = 0;

		while (k + run < 7 && (days & (1u << ((k + run + 1) % 7))))
			run++;
		if (run == 0) {
			k++;
			continue;
		}
		if (n++ > 0)
			strbuf_putc(b, ',');
		strbuf_puts(b, name[(k + 1) % 7]);
		if (run == 2)
			strbuf_printf(b, ",%s", name[(k + 2) % 7]);
		else if (run > 2)
			strbuf_printf(b, "-%s", name[(k + run) % 7]);
		k += run;
	}
}

void
printer_schedule(const struct schedule *s, struct strbuf *b)
{
	size_t i;

	strbuf_printf(b, "schedule %s", s->name);
	for (i = 0; i < s->n; i++) {
		strbuf_putc(b, ' ');
		printer_days(s->v[i].days, b);
		strbuf_printf(b, " %02u:%02u-%02u:%02u", s->v[i].start / 60,
		    s->v[i].start % 60, s->v[i].end / 60, s->v[i].end % 60);
	}
}

/* fqdn HOST…, url URL [refresh D] [max N], country CC… */
static void
print_feed(const struct object *o, struct strbuf *b)
{
	size_t i;

	strbuf_puts(b, policy_feed_kind_name(o->kind));
	for (i = 0; i < o->feed.n; i++) {
		strbuf_putc(b, ' ');
		print_word(b, o->feed.names[i]);
	}
	if (o->kind != OBJ_URL)
		return;
	if (o->feed.refresh != FEED_REFRESH_DEFAULT) {
		strbuf_puts(b, " refresh ");
		print_duration(b, o->feed.refresh);
	}
	if (o->feed.max != FEED_MAX_DEFAULT)
		strbuf_printf(b, " max %llu", (unsigned long long)o->feed.max);
}

/* Start a section: a blank line between non-empty sections. */
static void
section(struct strbuf *b, bool *started)
{
	if (*started)
		strbuf_putc(b, '\n');
	*started = true;
}

void
printer_policy(const struct policy *p, struct strbuf *b)
{
	bool started = false;
	char buf[2 * ADDR_STRLEN + 8];
	size_t i, j, first_user;

	if (p->niface > 0 || !p->anti_lockout || !p->firewall)
		section(b, &started);
	for (i = 0; i < p->niface; i++) {
		const struct iface *ifc = p->ifaces[i];
		enum action def = policy_iface_default(ifc);

		strbuf_printf(b, "interface %s device ", ifc->name);
		print_word(b, ifc->device);
		for (j = 0; j < ifc->naddr; j++) {
			addr_lit_format(&ifc->addrs[j].lit, buf, sizeof(buf));
			strbuf_printf(b, " address %s", buf);
		}
		if (ifc->dynamic)
			strbuf_puts(b, " address dynamic");
		if (def != policy_iface_implied_default(ifc))
			strbuf_printf(b, " default %s", action_name(def));
		if (policy_iface_log_default(p, ifc) !=
		    policy_iface_implied_log_default(p, ifc))
			strbuf_printf(b, " log-default %s",
			    policy_iface_log_default(p, ifc) ? "on" : "off");
		strbuf_putc(b, '\n');
	}
	if (!p->anti_lockout)
		strbuf_puts(b, "anti-lockout off\n");
	if (!p->firewall)
		strbuf_puts(b, "firewall off\n");
	if (p->ngateway > 0 || p->ngwgroup > 0) {
		section(b, &started);
		print_gateways(p, b);
	}

	if (p->dns_min_ttl != DNS_MIN_TTL_DEFAULT ||
	    p->dns_max_ttl != DNS_MAX_TTL_DEFAULT ||
	    p->geoip_database != NULL)
		section(b, &started);
	if (p->dns_min_ttl != DNS_MIN_TTL_DEFAULT) {
		strbuf_puts(b, "dns-min-ttl ");
		print_duration(b, p->dns_min_ttl);
		strbuf_putc(b, '\n');
	}
	if (p->dns_max_ttl != DNS_MAX_TTL_DEFAULT) {
		strbuf_puts(b, "dns-max-ttl ");
		print_duration(b, p->dns_max_ttl);
		strbuf_putc(b, '\n');
	}
	if (p->geoip_database != NULL) {
		strbuf_puts(b, "geoip-database ");
		print_word(b, p->geoip_database);
		strbuf_putc(b, '\n');
	}
	for (i = 0, first_user = 1; i < p->nobject; i++) {
		const struct object *o = p->objects[i];

		if (o->kind != OBJ_USER && !policy_object_feed(o))
			continue;
		if (first_user)
			section(b, &started);
		first_user = 0;
		strbuf_printf(b, "object %s ", o->name);
		if (policy_object_feed(o))
			print_feed(o, b);
		else
			printer_addr_expr(&o->members, b);
		strbuf_putc(b, '\n');
	}
	for (i = 0, first_user = 1; i < p->nservice; i++) {
		const struct service *s = p->services[i];

		if (s->builtin)
			continue;
		if (first_user)
			section(b, &started);
		first_user = 0;
		strbuf_printf(b, "service %s", s->name);
		for (j = 0; j < s->n; j++) {
			strbuf_putc(b, ' ');
			print_svc_entry(&s->v[j], b);
		}
		strbuf_putc(b, '\n');
	}
	if (p->nsched > 0)
		section(b, &started);
	for (i = 0; i < p->nsched; i++) {
		printer_schedule(p->scheds[i], b);
		strbuf_putc(b, '\n');
	}
	if (p->nrule > 0)
		section(b, &started);
	for (i = 0; i < p->nrule; i++) {
		printer_rule(p->rules[i], b, true);
		strbuf_putc(b, '\n');
	}
	if (p->nnat + p->nforward + p->nnat_rule + p->nnat_one > 0)
		section(b, &started);
	for (i = 0; i < p->nnat_one; i++) {
		policy_nat_one_line(p->nat_ones[i], b);
		strbuf_putc(b, '\n');
	}
	for (i = 0; i < p->nnat_rule; i++) {
		printer_nat_rule(p->nat_rules[i], b);
		strbuf_putc(b, '\n');
	}
	for (i = 0; i < p->nnat; i++)
		strbuf_printf(b, "nat masquerade on %s\n", p->nats[i]->ifname);
	for (i = 0; i < p->nforward; i++) {
		printer_forward(p->forwards[i], b);
		strbuf_putc(b, '\n');
	}
	if (p->av.present) {
		section(b, &started);
		print_antivirus(&p->av, b);
	}
	if (p->logging.present) {
		section(b, &started);
		print_logging(&p->logging, b);
	}
	if (p->console.off) {
		section(b, &started);
		strbuf_puts(b, "console off\n");
	} else if (p->console.present) {
		section(b, &started);
		print_console(&p->console, b);
	}
	if (p->ha.present) {
		section(b, &started);
		print_ha(&p->ha, b);
	}
}

void
printer_flow_service(const struct flow *f, struct strbuf *b)
{
	const struct proto_info *pi = builtin_proto_by_number(f->proto);
	const char *tname;

	if (pi == NULL) {
		strbuf_printf(b, "protocol %d", f->proto);
		return;
	}
	switch (pi->kind) {
	case PK_PORTS:
		strbuf_printf(b, "%s/%u", pi->name, f->dport);
		break;
	case PK_TYPES:
		tname = builtin_icmp_name(pi->number, (int)f->dport);
		if (tname != NULL)
			strbuf_printf(b, "%s %s", pi->name, tname);
		else
			strbuf_printf(b, "%s type %u", pi->name, f->dport);
		break;
	case PK_NONE:
		strbuf_puts(b, pi->name);
		break;
	}
}

void
printer_verdict(const struct policy *p, const struct flow *f,
    const struct verdict *v, struct strbuf *b)
{
	const char *file = printer_basename(p->file);
	char to[ADDR_STRLEN];

	strbuf_puts(b, action_name(v->action));
	switch (v->by) {
	case BY_RULE:
		strbuf_printf(b, " by rule %d (%s:%d)", v->rule->number, file,
		    v->rule->loc.line);
		break;
	case BY_ANTILOCKOUT:
		strbuf_puts(b, " by the anti-lockout rule");
		break;
	case BY_FORWARD:
		strbuf_printf(b, " by forward %d (%s:%d)", v->forward->number,
		    file, v->forward->loc.line);
		break;
	case BY_DEFAULT:
		strbuf_printf(b, " by the default of interface %s (%s:%d): no "
		    "rule matches", f->iface->name, file, f->iface->loc.line);
		break;
	case BY_FIREWALL_OFF:
		strbuf_puts(b, ": firewall off, no rule is enforced");
		break;
	}
	if (v->forward != NULL && v->by != BY_FORWARD) {
		addr_format(v->dst, to, sizeof(to));
		strbuf_printf(b, ", after forward %d to %s", v->forward->number,
		    to);
	}
	if (v->one != NULL && v->snat != SNAT_ONE) {
		addr_format(v->dst, to, sizeof(to));
		strbuf_printf(b, ", after one-to-one %d to %s", v->one->number,
		    to);
	}
	if (v->reflected && v->action == ACT_ACCEPT) {
		if (v->by == BY_FORWARD) {
			addr_format(v->dst, to, sizeof(to));
			strbuf_printf(b, " to %s", to);
		}
		if (v->has_src) {
			addr_format(v->src, to, sizeof(to));
			strbuf_printf(b, ", reflected: the source becomes %s "
			    "(the gateway's address towards it)", to);
		} else
			strbuf_puts(b, ", reflected: the source becomes the "
			    "gateway's address towards it");
	}
	if (v->by == BY_DEFAULT || v->by == BY_FIREWALL_OFF)
		return;
	strbuf_puts(b, ": ");
	if (v->by == BY_FORWARD) {
		printer_forward(v->forward, b);
		return;
	}
	printer_rule(v->rule, b, false);
	if (v->rule->comment != NULL)
		strbuf_printf(b, "  # %s", v->rule->comment);
}

/* Minute m of the week as "Mon 08:00". */
static void
print_week_minute(unsigned m, struct strbuf *b)
{
	static const char *const day[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
	    "Fri", "Sat" };

	strbuf_printf(b, "%s %02u:%02u", day[(m / SCHED_DAY) % 7],
	    (m % SCHED_DAY) / 60, m % 60);
}

void
printer_when(const struct policy *p, const struct flow *f,
    const struct verdict *v, struct strbuf *b)
{
	const struct rule *closed = policy_closed_rule(p, f, v);
	size_t start = b->len;

	if (closed != NULL) {
		strbuf_printf(b, "rule %d (schedule %s) is closed at ",
		    closed->number, closed->sched_name);
		print_week_minute(f->week_min, b);
		strbuf_puts(b, ": skipped");
	}
	if (v->by == BY_RULE && v->rule->sched != NULL) {
		strbuf_puts(b, b->len > start ? "; " : "");
		strbuf_printf(b, "rule %d (schedule %s) is open at ",
		    v->rule->number, v->rule->sched_name);
		print_week_minute(f->week_min, b);
	}
}

void
printer_dynamic(const struct policy *p, const struct iface *ifc,
    struct strbuf *b)
{
	char buf[2 * ADDR_STRLEN + 8];
	size_t i, n = 0;

	strbuf_printf(b, "%s's address is dynamic", ifc->name);
	if (ifc->nbound > 0) {
		strbuf_puts(b, ": taken as ");
		for (i = 0; i < ifc->nbound; i++) {
			addr_lit_format(&ifc->bound[i], buf, sizeof(buf));
			strbuf_printf(b, "%s%s", i > 0 ? ", " : "", buf);
		}
		strbuf_printf(b, " (device %s)", ifc->device);
		return;
	}
	strbuf_printf(b, " and not known here (device %s has no address "
	    "here)", ifc->device);
	for (i = 0; i < p->nrule; i++)
		if (policy_rule_uses(p->rules[i], ifc))
			strbuf_printf(b, "%s%d", n++ == 0 ? ": rules " : ", ",
			    p->rules[i]->number);
	for (i = 0; i < p->nforward; i++)
		if (policy_forward_uses(p->forwards[i], ifc))
			strbuf_printf(b, "%s%d", n++ == 0 ? ": port forwards " :
			    ", forward ", p->forwards[i]->number);
	if (p->lockout_rule != NULL && policy_rule_uses(p->lockout_rule, ifc))
		strbuf_printf(b, "%sthe anti-lockout rule", n++ == 0 ? ": " :
		    ", ");
	if (n > 0)
		strbuf_puts(b, " depend on it (taken here as matching none "
		    "of its addresses)");
	strbuf_printf(b, "; say --addr %s=ADDR/LEN", ifc->name);
}
