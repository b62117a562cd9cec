/* parser.c: config text → struct policy, names not yet bound.
 *
 * Recursive descent over the lexer's tokens, one function per statement.
 * Each function leaves the first token after its construct in ps->tok.  On
 * an error it records a diagnostic and returns -1; the statement loop then
 * skips to the end of the line and goes on, so one run reports many errors
 * and none of them hides behind another.
 */
#include "policy/parser.h"

#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/lexer.h"

struct parser {
	struct policy	*p;
	struct lexer	 sc;
	struct token	 tok;
	bool		 builtin;
	int		 lockout_line, firewall_line;
};

static const char *const statements[] = {
	"interface", "object", "service", "accept", "deny", "reject", "nat",
	"forward", "anti-lockout", "firewall", "antivirus", "logging",
	"console", "ha", "dns-min-ttl", "dns-max-ttl", "geoip-database",
	"schedule", "gateway", "gateway-group", "default-gateway",
};

static const char *const ha_settings[] = {
	"peer", "sync-interface", "vip", "priority", "secret", "router-id",
	"preempt-delay",
};

static const char *const console_settings[] = {
	"listen", "users", "certificate", "key", "user", "session-timeout",
};

static const char *const log_settings[] = {
	"directory", "rate", "max-file-size", "keep", "metrics-file",
	"metrics-interval",
};

static const char *const av_settings[] = {
	"engine", "smtp-other-scanning", "smtp-local-scanning",
	"smtp-outgoing-scanning", "smtp-relay-to", "on-virus",
	"on-scan-failure", "max-message-size", "smtp-command-timeout",
	"smtp-data-timeout", "smtp-keep-client-address", "smtp-bare-newline",
	"smtp-max-sessions", "smtp-max-client-sessions",
	"smtp-max-client-rate", "smtp-min-data-rate", "smtp-memory-limit",
	"signature-check-interval", "scan-timeout", "ignore-signature",
	"signature-reload", "smtp-intercept-tls", "smtp-tls-passthrough-from",
	"smtp-tls-upstream", "smtp-tls-ca-file", "dnssec-trust-anchor",
	"smtp-tls-certificate", "smtp-tls-key", "smtp-relay-require-tls",
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static void
next(struct parser *ps)
{
	lexer_next(&ps->sc, &ps->tok);
	if (ps->tok.type == T_ERROR)
		diag_error(&ps->p->diags, ps->tok.loc, "%s", ps->tok.text);
}

static int
expected(struct parser *ps, const char *what)
{
	char buf[80];

	/* A lexer error was reported already: one message per fault. */
	if (ps->tok.type != T_ERROR)
		diag_error(&ps->p->diags, ps->tok.loc, "expected %s, found %s",
		    what, token_describe(&ps->tok, buf, sizeof(buf)));
	return -1;
}

static bool
is_kw(const struct parser *ps, const char *kw)
{
	return ps->tok.type == T_WORD && strcmp(ps->tok.text, kw) == 0;
}

/* Skip the rest of a broken statement, quietly. */
static void
recover(struct parser *ps)
{
	while (ps->tok.type != T_NEWLINE && ps->tok.type != T_EOF)
		lexer_next(&ps->sc, &ps->tok);
}

static void
skip_newlines(struct parser *ps)
{
	while (ps->tok.type == T_NEWLINE)
		next(ps);
}

static bool
valid_name(const char *s)
{
	if (!isalpha((unsigned char)*s) && *s != '_')
		return false;
	for (s++; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return false;
	return true;
}

/*
 * Why Linux (dev_valid_name) or nft refuses a device name, or NULL when
 * it is one: any bytes up to 15 but '/', ':' and white space, and not
 * "." or "..".  nft cannot quote a '"' and reads '*' as a wildcard, so
 * moat refuses those too.
 */
static const char *
device_name_fault(const char *s)
{
	size_t len = strlen(s);

	if (len == 0)
		return "it is empty";
	if (len > 15)
		return "Linux allows at most 15 bytes";
	if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return "Linux refuses '.' and '..'";
	for (; *s != '\0'; s++) {
		if (*s == '/')
			return "Linux refuses '/' in device names";
		if (*s == ':')
			return "Linux refuses ':' in device names (an alias "
			    "such as eth0:1 is an address of eth0)";
		if (isspace((unsigned char)*s))
			return "Linux refuses white space in device names";
		if (*s == '"')
			return "nft cannot quote a '\"' in a device name";
		if (*s == '*')
			return "nft reads '*' in a device name as a wildcard";
	}
	return NULL;
}

/* Take a NAME token into the arena; what says what the name is for. */
static char *
take_name(struct parser *ps, const char *what)
{
	char *name;

	if (ps->tok.type != T_WORD) {
		expected(ps, what);
		return NULL;
	}
	if (!valid_name(ps->tok.text) || ps->tok.len > 63) {
		diag_error(&ps->p->diags, ps->tok.loc, "'%s' is not a valid %s:"
		    " use letters, digits, '_' and '-', starting with a letter,"
		    " at most 63 characters", ps->tok.text, what);
		return NULL;
	}
	name = arena_strndup(&ps->p->arena, ps->tok.text, ps->tok.len);
	next(ps);
	return name;
}

static int
take_on_off(struct parser *ps, bool *out)
{
	if (is_kw(ps, "on"))
		*out = true;
	else if (is_kw(ps, "off"))
		*out = false;
	else
		return expected(ps, "'on' or 'off'");
	next(ps);
	return 0;
}

static void
report_duplicate(struct parser *ps, struct loc at, const char *kind,
    const char *name, struct loc first)
{
	if (first.line == 0)
		diag_error(&ps->p->diags, at, "%s %s is built in; choose "
		    "another name", kind, name);
	else
		diag_error(&ps->p->diags, at, "%s %s is already defined at "
		    "%s:%d", kind, name, first.file, first.line);
}

/* Register an object name; -1 if it is taken. */
static int
add_object(struct parser *ps, struct object *o)
{
	struct object *old = nametab_put(ps->p->object_names, o->name, o);

	if (old != NULL && old->kind != OBJ_USER) {
		diag_error(&ps->p->diags, o->loc, "object %s is built in%s%s%s;"
		    " choose another name", o->name, old->iface ? " (from "
		    "interface " : "", old->iface ? old->iface->name : "",
		    old->iface ? ")" : "");
		return -1;
	}
	if (old != NULL) {
		report_duplicate(ps, o->loc, "object", o->name, old->loc);
		return -1;
	}
	ARENA_PUSH(&ps->p->arena, ps->p->objects, ps->p->nobject,
	    ps->p->capobject);
	ps->p->objects[ps->p->nobject - 1] = o;
	return 0;
}

static struct object *
new_builtin_object(struct parser *ps, const char *name, enum object_kind kind,
    struct iface *ifc, struct loc loc)
{
	struct object *o = arena_alloc(&ps->p->arena, sizeof(*o));

	o->name = arena_strdup(&ps->p->arena, name);
	o->kind = kind;
	o->iface = ifc;
	o->loc = loc;
	return add_object(ps, o) == 0 ? o : NULL;
}

/* After an item of a braced list: 0 when a ',' says more follow, 1 when
 * the '}' closed it (consumed), -1 on anything else. */
static int
list_next(struct parser *ps)
{
	skip_newlines(ps);
	if (ps->tok.type == T_RBRACE) {
		next(ps);
		return 1;
	}
	if (ps->tok.type != T_COMMA)
		return expected(ps, "',' or '}'");
	next(ps);
	skip_newlines(ps);
	return 0;
}

/*
 * How many elements the list whose first element is the current token
 * has at most: one more than the commas before the next '}' in the text,
 * comments left out as the lexer leaves them out (a '#' to the end of
 * its line: no word holds one), and a '{' ends it too (lists do not
 * nest: that one's commas are another's).  A '}' in a quoted string
 * makes it too few, and the list then grows as it is read; a list that
 * never ends counts to the end of the text.  At most LIST_ROOM_MAX: the
 * room is taken before the list is read, so a saved config of commas
 * alone (a syntax error at its second) would take 96 bytes of address
 * space for each; a longer list grows past it as before. */
#define LIST_ROOM_MAX	(1u << 16)

static size_t
list_room(const struct parser *ps)
{
	const char *s = ps->sc.buf + ps->sc.pos, *end = ps->sc.buf +
	    ps->sc.len, *nl;
	size_t n = 1;

	for (; s < end && *s != '}' && *s != '{' && n < LIST_ROOM_MAX; s++)
		if (*s == ',')
			n++;
		else if (*s == '#') {
			if ((nl = memchr(s, '\n', (size_t)(end - s))) == NULL)
				break;
			s = nl;
		}
	return n;
}

/* Addresses */

static bool
looks_like_address(const char *s)
{
	return isdigit((unsigned char)s[0]) || strchr(s, ':') != NULL;
}

static int
parse_addr_elem(struct parser *ps, struct addr_elem *e)
{
	char err[160], hint[100];

	e->loc = ps->tok.loc;
	if (ps->tok.type == T_LBRACE) {
		diag_error(&ps->p->diags, ps->tok.loc, "lists do not nest: "
		    "define an object for the inner list and name it here");
		return -1;
	}
	if (ps->tok.type != T_WORD)
		return expected(ps, "an address, network, range or object "
		    "name");
	if (looks_like_address(ps->tok.text)) {
		if (addr_parse_lit(ps->tok.text, false, &e->lit, err,
		    sizeof(err), hint, sizeof(hint)) == -1) {
			if (hint[0] != '\0')
				diag_error(&ps->p->diags, e->loc, "%s; did you "
				    "mean %s?", err, hint);
			else
				diag_error(&ps->p->diags, e->loc, "%s", err);
			return -1;
		}
		e->kind = AE_LIT;
		next(ps);
		return 0;
	}
	e->kind = AE_NAME;
	return (e->name = take_name(ps, "object name")) != NULL ? 0 : -1;
}

/* [!] ELEM | [!] { ELEM, … }   (newlines allowed inside braces) */
static int
parse_addr_expr(struct parser *ps, struct addr_expr *x, bool allow_bang)
{
	struct arena *a = &ps->p->arena;
	size_t room;
	int rc;

	x->loc = ps->tok.loc;
	if (ps->tok.type == T_BANG) {
		if (!allow_bang) {
			diag_error(&ps->p->diags, ps->tok.loc, "'!' (exclude) "
			    "belongs in a rule's from or to, not here");
			return -1;
		}
		x->exclude = true;
		next(ps);
	}
	if (ps->tok.type != T_LBRACE) {
		ARENA_PUSH(a, x->v, x->n, x->cap);
		return parse_addr_elem(ps, &x->v[0]);
	}
	x->list = true;
	next(ps);
	skip_newlines(ps);
	if (ps->tok.type == T_RBRACE) {
		diag_error(&ps->p->diags, ps->tok.loc, "empty list: name at "
		    "least one address, network or object");
		return -1;
	}
	/* Room for the whole list at once, not grown by doubling: each
	 * growth copied the list into fresh memory (10,000 addresses made
	 * 3 MB of it, most of the parse of a policy that holds them). */
	if (x->n == 0 && (room = list_room(ps)) > 1) {
		x->v = arena_array_raw(a, room, sizeof(*x->v));
		x->cap = room;
	}
	do {
		ARENA_PUSH(a, x->v, x->n, x->cap);
		if (parse_addr_elem(ps, &x->v[x->n - 1]) == -1)
			return -1;
	} while ((rc = list_next(ps)) == 0);
	return rc == 1 ? 0 : -1;
}

/* Services */

static int
parse_number(struct parser *ps, const char *s, unsigned min, unsigned max,
    const char *what, unsigned *out)
{
	unsigned long v;
	char *end;

	if (!isdigit((unsigned char)s[0]) || strlen(s) > 10) {
		diag_error(&ps->p->diags, ps->tok.loc, "'%s' is not a %s", s,
		    what);
		return -1;
	}
	errno = 0;
	v = strtoul(s, &end, 10);
	if (*end != '\0' || errno != 0) {
		diag_error(&ps->p->diags, ps->tok.loc, "'%s' is not a %s", s,
		    what);
		return -1;
	}
	if (v < min || v > max) {
		diag_error(&ps->p->diags, ps->tok.loc, "%s %lu is out of range "
		    "(%u to %u)", what, v, min, max);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

/* A port or port range: 25, 8000-8100. */
static int
parse_port_item(struct parser *ps, struct port_range *r)
{
	char buf[STRING_MAX + 1], *dash;

	snprintf(buf, sizeof(buf), "%s", ps->tok.text);
	if ((dash = strchr(buf, '-')) != NULL)
		*dash = '\0';
	if (parse_number(ps, buf, 1, 65535, "port", &r->lo) == -1 ||
	    (dash != NULL && parse_number(ps, dash + 1, 1, 65535, "port",
	    &r->hi) == -1))
		return -1;
	if (dash == NULL)
		r->hi = r->lo;
	if (r->lo > r->hi) {
		diag_error(&ps->p->diags, ps->tok.loc, "reversed port range "
		    "%s; did you mean %u-%u?", ps->tok.text, r->hi, r->lo);
		return -1;
	}
	return 0;
}

/* An ICMP type by name or number. */
static int
parse_type_item(struct parser *ps, int proto, struct port_range *r)
{
	int t;

	if (isdigit((unsigned char)ps->tok.text[0]))
		return parse_number(ps, ps->tok.text, 0, 255, "ICMP type",
		    &r->lo) == -1 ? -1 : (r->hi = r->lo, 0);
	if ((t = builtin_icmp_type(proto, ps->tok.text)) == -1) {
		diag_error(&ps->p->diags, ps->tok.loc, "unknown %s type '%s'",
		    proto == 1 ? "ICMP" : "ICMPv6", ps->tok.text);
		return -1;
	}
	r->lo = r->hi = (unsigned)t;
	return 0;
}

/* PROTO [ITEM {, ITEM}] */
static int
parse_svc_entry(struct parser *ps, struct svc_entry *e)
{
	const struct proto_info *pi;
	const char *near;

	e->loc = ps->tok.loc;
	pi = builtin_proto_by_name(ps->tok.text);
	if (pi == NULL) {
		near = nearest_name(ps->tok.text, builtin_proto_names(), 8);
		diag_error(&ps->p->diags, ps->tok.loc, "unknown protocol '%s'%s"
		    "%s%s; expected tcp, udp, sctp, icmp, icmpv6, gre, esp "
		    "or ah", ps->tok.text, near ? " (did you mean " : "",
		    near ? near : "", near ? "?)" : "");
		return -1;
	}
	e->proto = pi;
	next(ps);
	if (pi->kind == PK_NONE)
		return 0;
	for (;;) {
		struct port_range r;

		if (ps->tok.type != T_WORD)
			break;
		if (pi->kind == PK_PORTS) {
			if (!isdigit((unsigned char)ps->tok.text[0]))
				break;
			if (parse_port_item(ps, &r) == -1)
				return -1;
		} else {
			if (builtin_proto_by_name(ps->tok.text) != NULL)
				break;
			if (parse_type_item(ps, pi->number, &r) == -1)
				return -1;
		}
		ARENA_PUSH(&ps->p->arena, e->v, e->n, e->cap);
		e->v[e->n - 1] = r;
		next(ps);
		if (ps->tok.type != T_COMMA)
			break;
		next(ps);
		if (ps->tok.type != T_WORD)
			return expected(ps, pi->kind == PK_PORTS ? "a port" :
			    "an ICMP type");
	}
	return 0;
}

static int
parse_service(struct parser *ps)
{
	struct service *s = arena_alloc(&ps->p->arena, sizeof(*s));
	struct service *old;
	int rc = 0;

	next(ps);
	s->loc = ps->tok.loc;
	if (ps->builtin)
		s->loc.line = 0;
	s->builtin = ps->builtin;
	if ((s->name = take_name(ps, "service name")) == NULL)
		return -1;
	if (ps->tok.type != T_WORD)
		rc = expected(ps, "a protocol (tcp, udp, icmp, …)");
	while (rc == 0 && ps->tok.type == T_WORD) {
		ARENA_PUSH(&ps->p->arena, s->v, s->n, s->cap);
		rc = parse_svc_entry(ps, &s->v[s->n - 1]);
	}
	/* As for objects: a broken service is still defined, empty. */
	if (rc == -1)
		s->n = 0;
	if ((old = nametab_put(ps->p->service_names, s->name, s)) != NULL) {
		report_duplicate(ps, s->loc, "service", s->name, old->loc);
		return -1;
	}
	ARENA_PUSH(&ps->p->arena, ps->p->services, ps->p->nservice,
	    ps->p->capservice);
	ps->p->services[ps->p->nservice - 1] = s;
	return rc;
}

/* NAME | { NAME, … } */
static int
parse_svc_list(struct parser *ps, struct svc_list *l)
{
	struct arena *a = &ps->p->arena;
	bool braces = ps->tok.type == T_LBRACE;
	int rc = 0;

	l->list = braces;
	if (braces) {
		next(ps);
		skip_newlines(ps);
		if (ps->tok.type == T_RBRACE) {
			diag_error(&ps->p->diags, ps->tok.loc, "empty service "
			    "list: name at least one service, or leave "
			    "'service' out for any service");
			return -1;
		}
	}
	do {
		ARENA_PUSH(a, l->v, l->n, l->cap);
		l->v[l->n - 1].loc = ps->tok.loc;
		if ((l->v[l->n - 1].name = take_name(ps, "service name")) ==
		    NULL)
			return -1;
	} while (braces && (rc = list_next(ps)) == 0);
	return rc == -1 ? -1 : 0;
}

/* Statements */

static int
parse_interface(struct parser *ps)
{
	struct policy *p = ps->p;
	struct iface *ifc = arena_alloc(&p->arena, sizeof(*ifc));
	char name[80], err[160], hint[100];
	const char *why;
	bool missing = false;
	size_t i;

	next(ps);
	ifc->loc = ps->tok.loc;
	if ((ifc->name = take_name(ps, "interface name")) == NULL)
		return -1;
	for (i = 0; i < p->niface; i++)
		if (strcmp(p->ifaces[i]->name, ifc->name) == 0) {
			report_duplicate(ps, ifc->loc, "interface", ifc->name,
			    p->ifaces[i]->loc);
			return -1;
		}
	while (ps->tok.type == T_WORD) {
		struct loc at = ps->tok.loc;

		if (is_kw(ps, "device")) {
			next(ps);
			if (ps->tok.type != T_WORD && ps->tok.type != T_STRING)
				return expected(ps, "a device name");
			if ((why = device_name_fault(ps->tok.text)) != NULL) {
				diag_error(&p->diags, ps->tok.loc, "'%s' is not a "
				    "valid device name: %s", ps->tok.text, why);
				return -1;
			}
			if (ifc->device != NULL) {
				diag_error(&p->diags, at, "interface %s has two "
				    "devices", ifc->name);
				return -1;
			}
			ifc->device = arena_strdup(&p->arena, ps->tok.text);
		} else if (is_kw(ps, "address")) {
			struct if_addr *ia;
			u128 lo, hi;

			next(ps);
			if (ps->tok.type != T_WORD)
				return expected(ps, "an address with its prefix, "
				    "such as 192.168.1.1/24, or dynamic");
			if (is_kw(ps, "dynamic")) {
				if (ifc->dynamic) {
					diag_error(&p->diags, at, "interface %s "
					    "says address dynamic twice",
					    ifc->name);
					return -1;
				}
				ifc->dynamic = true;
				ifc->dynamic_loc = at;
				next(ps);
				continue;
			}
			ARENA_PUSH(&p->arena, ifc->addrs, ifc->naddr,
			    ifc->capaddr);
			ia = &ifc->addrs[ifc->naddr - 1];
			ia->loc = ps->tok.loc;
			if (strchr(ps->tok.text, '/') == NULL ||
			    strchr(ps->tok.text, '-') != NULL) {
				diag_error(&p->diags, ps->tok.loc, "an interface "
				    "address needs its prefix, such as "
				    "192.168.1.1/24");
				return -1;
			}
			if (addr_parse_lit(ps->tok.text, true, &ia->lit, err,
			    sizeof(err), hint, sizeof(hint)) == -1) {
				diag_error(&p->diags, ps->tok.loc, "%s", err);
				return -1;
			}
			addr_network(ia->lit.lo, ia->lit.family, ia->lit.plen,
			    &lo, &hi);
			if (hi - lo >= 3 && (ia->lit.lo == lo ||
			    (ia->lit.family == FAM_V4 && ia->lit.lo == hi))) {
				diag_error(&p->diags, ps->tok.loc, "%s is the "
				    "%s address of its network; an interface "
				    "address is the gateway's own host address",
				    ps->tok.text, ia->lit.lo == lo ? "network" :
				    "broadcast");
				return -1;
			}
		} else if (is_kw(ps, "default")) {
			next(ps);
			if (is_kw(ps, "accept"))
				ifc->def = ACT_ACCEPT;
			else if (is_kw(ps, "deny"))
				ifc->def = ACT_DENY;
			else if (is_kw(ps, "reject"))
				ifc->def = ACT_REJECT;
			else
				return expected(ps, "accept, deny or reject");
			ifc->def_set = true;
		} else if (is_kw(ps, "log-default")) {
			next(ps);
			if (take_on_off(ps, &ifc->log_default) == -1)
				return -1;
			ifc->log_default_set = true;
			continue;
		} else
			return expected(ps, "device, address, default or "
			    "log-default");
		next(ps);
	}
	if (ifc->dynamic && ifc->naddr > 0) {
		diag_error(&p->diags, ifc->addrs[0].loc, "interface %s has "
		    "address dynamic: it takes every address device %s has, "
		    "so it cannot also have fixed ones", ifc->name,
		    ifc->device != NULL ? ifc->device : "DEV");
		return -1;
	}
	if (ifc->device == NULL) {
		diag_error(&p->diags, ifc->loc, "interface %s needs 'device "
		    "NAME' (the Linux network device, such as eth0)",
		    ifc->name);
		/* Declared all the same, so that its uses are not each an
		 * "unknown interface" too. */
		ifc->device = "";
		missing = true;
	}
	for (i = 0; i < p->niface && !missing; i++)
		if (strcmp(p->ifaces[i]->device, ifc->device) == 0) {
			diag_error(&p->diags, ifc->loc, "device %s already "
			    "belongs to interface %s", ifc->device,
			    p->ifaces[i]->name);
			return -1;
		}
	snprintf(name, sizeof(name), "%sIP", ifc->name);
	ifc->ip_obj = new_builtin_object(ps, name, OBJ_IFIP, ifc, ifc->loc);
	snprintf(name, sizeof(name), "%sNET", ifc->name);
	ifc->net_obj = new_builtin_object(ps, name, OBJ_IFNET, ifc, ifc->loc);
	if (ifc->ip_obj == NULL || ifc->net_obj == NULL)
		return -1;
	ifc->index = p->niface;
	ARENA_PUSH(&p->arena, p->ifaces, p->niface, p->capiface);
	p->ifaces[p->niface - 1] = ifc;
	return missing ? -1 : 0;
}


/* Feed objects (doc/design/feeds.md) */

static int parse_duration_max(struct parser *ps, unsigned max,
    unsigned *out);
static int parse_duration(struct parser *ps, unsigned *out);

/* A host name as DNS has it: labels of letters, digits and '-' (not at
 * either end), at most 63 bytes each, 253 in all; lower-cased.  NULL
 * with the reason in why. */
static char *
take_host(struct parser *ps, char *why, size_t whylen)
{
	const char *s = ps->tok.text;
	size_t i, label = 0;
	char *out;

	if (ps->tok.len == 0 || ps->tok.len > 253) {
		snprintf(why, whylen, "a host name has 1 to 253 characters");
		return NULL;
	}
	if (s[ps->tok.len - 1] == '.') {
		snprintf(why, whylen, "write the name without the final dot");
		return NULL;
	}
	for (i = 0; i < ps->tok.len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (label == 0 || s[i - 1] == '-') {
				snprintf(why, whylen, "an empty label or one that "
				    "ends with '-'");
				return NULL;
			}
			label = 0;
			continue;
		}
		if (!isalnum(c) && c != '-' && c != '_') {
			snprintf(why, whylen, "'%c' cannot be in a host name",
			    c);
			return NULL;
		}
		if ((label == 0 && c == '-') || ++label > 63) {
			snprintf(why, whylen, "a label starts with '-' or is "
			    "over 63 characters");
			return NULL;
		}
	}
	if (s[ps->tok.len - 1] == '-') {
		snprintf(why, whylen, "a label ends with '-'");
		return NULL;
	}
	if (looks_like_address(s) && strspn(s, "0123456789.") == ps->tok.len) {
		snprintf(why, whylen, "an address, not a name: write it in an "
		    "address object");
		return NULL;
	}
	out = arena_strndup(&ps->p->arena, s, ps->tok.len);
	for (i = 0; out[i] != '\0'; i++)
		out[i] = (char)tolower((unsigned char)out[i]);
	return out;
}

static int
feed_push(struct parser *ps, struct feed *f, char *name, struct loc loc)
{
	size_t i, cap;

	for (i = 0; i < f->n; i++)
		if (strcmp(f->names[i], name) == 0) {
			diag_error(&ps->p->diags, loc, "%s is named twice", name);
			return -1;
		}
	if (f->n == FEED_NAMES_MAX) {
		diag_error(&ps->p->diags, loc, "at most %d names in one object",
		    FEED_NAMES_MAX);
		return -1;
	}
	/* Names and their positions grow side by side. */
	if (f->n == f->cap) {
		cap = f->cap ? f->cap * 2 : 4;
		f->names = arena_grow(&ps->p->arena, f->names, f->n, cap,
		    sizeof(*f->names));
		f->locs = arena_grow(&ps->p->arena, f->locs, f->n, cap,
		    sizeof(*f->locs));
		f->cap = cap;
	}
	f->names[f->n] = name;
	f->locs[f->n++] = loc;
	return 0;
}

/* fqdn HOST [HOST...] */
static int
parse_fqdn(struct parser *ps, struct object *o)
{
	char why[120], *h;

	if (ps->tok.type != T_WORD)
		return expected(ps, "a host name (object NAME fqdn HOST ...)");
	while (ps->tok.type == T_WORD) {
		struct loc at = ps->tok.loc;

		if ((h = take_host(ps, why, sizeof(why))) == NULL) {
			diag_error(&ps->p->diags, at, "'%s' is not a host name: "
			    "%s", ps->tok.text, why);
			return -1;
		}
		if (feed_push(ps, &o->feed, h, at) == -1)
			return -1;
		next(ps);
	}
	return 0;
}

/* url URL [refresh DURATION] [max COUNT] */
static int
parse_url(struct parser *ps, struct object *o)
{
	const char *u = ps->tok.text;
	struct loc at = ps->tok.loc;
	size_t i;

	if (ps->tok.type != T_WORD && ps->tok.type != T_STRING)
		return expected(ps, "a URL (https://… or file:///…)");
	if (strncmp(u, "http://", 7) == 0) {
		diag_error(&ps->p->diags, at, "%s: plain HTTP cannot be verified;"
		    " use https:// (or file:// for a list on this machine)", u);
		return -1;
	}
	if (strncmp(u, "https://", 8) != 0 && strncmp(u, "file:///", 8) != 0) {
		diag_error(&ps->p->diags, at, "'%s' is not a URL moat fetches: "
		    "write https://HOST/PATH or file:///PATH", u);
		return -1;
	}
	if (ps->tok.len > FEED_URL_MAX || (u[0] == 'h' && ps->tok.len == 8)) {
		diag_error(&ps->p->diags, at, "a URL of 9 to %d characters",
		    FEED_URL_MAX);
		return -1;
	}
	for (i = 0; i < ps->tok.len; i++)
		if ((unsigned char)u[i] <= 0x20 || (unsigned char)u[i] >= 0x7f ||
		    u[i] == '"' || u[i] == '\\') {
			diag_error(&ps->p->diags, at, "a URL of printable ASCII "
			    "without blanks, quotes or backslashes (percent-"
			    "encode the rest)");
			return -1;
		}
	if (feed_push(ps, &o->feed, arena_strndup(&ps->p->arena, u,
	    ps->tok.len), at) == -1)
		return -1;
	next(ps);
	for (;;) {
		if (is_kw(ps, "refresh")) {
			next(ps);
			if (ps->tok.type != T_WORD)
				return expected(ps, "a duration such as 1d or 6h");
			if (parse_duration_max(ps, FEED_REFRESH_MAX,
			    &o->feed.refresh) == -1)
				return -1;
			if (o->feed.refresh < 10) {
				diag_error(&ps->p->diags, ps->tok.loc, "refresh "
				    "%s is too often: at least 10s between "
				    "fetches", ps->tok.text);
				return -1;
			}
			next(ps);
		} else if (is_kw(ps, "max")) {
			unsigned v;

			next(ps);
			if (ps->tok.type != T_WORD)
				return expected(ps, "a number of entries");
			if (parse_number(ps, ps->tok.text, 1, FEED_MAX_LIMIT,
			    "max", &v) == -1)
				return -1;
			o->feed.max = v;
			next(ps);
		} else
			return 0;
	}
}

/* country CC [CC...] */
static int
parse_country(struct parser *ps, struct object *o)
{
	if (ps->tok.type != T_WORD)
		return expected(ps, "an ISO 3166 country code such as DE");
	while (ps->tok.type == T_WORD) {
		struct loc at = ps->tok.loc;
		char *cc;

		if (ps->tok.len != 2 || !isalpha((unsigned char)ps->tok.text[0])
		    || !isalpha((unsigned char)ps->tok.text[1])) {
			diag_error(&ps->p->diags, at, "'%s' is not a country "
			    "code: two letters, ISO 3166-1 alpha-2 (DE, US, "
			    "JP)", ps->tok.text);
			return -1;
		}
		cc = arena_strndup(&ps->p->arena, ps->tok.text, 2);
		cc[0] = (char)toupper((unsigned char)cc[0]);
		cc[1] = (char)toupper((unsigned char)cc[1]);
		if (feed_push(ps, &o->feed, cc, at) == -1)
			return -1;
		next(ps);
	}
	return 0;
}

/* The source of a feed object, after its kind's keyword. */
static int
parse_feed(struct parser *ps, struct object *o)
{
	o->feed.refresh = FEED_REFRESH_DEFAULT;
	o->feed.max = FEED_MAX_DEFAULT;
	o->dynamic = true;
	switch (o->kind) {
	case OBJ_FQDN:
		return parse_fqdn(ps, o);
	case OBJ_URL:
		return parse_url(ps, o);
	default:
		return parse_country(ps, o);
	}
}

/* dns-min-ttl DURATION, dns-max-ttl DURATION, geoip-database PATH */
static int
parse_feed_setting(struct parser *ps)
{
	struct policy *p = ps->p;
	struct loc at = ps->tok.loc;
	bool geoip = is_kw(ps, "geoip-database"), min = is_kw(ps,
	    "dns-min-ttl");
	int *line = min ? &p->dns_min_line : &p->dns_max_line;

	next(ps);
	if (geoip) {
		if (p->geoip_database != NULL) {
			diag_error(&p->diags, at, "geoip-database is already "
			    "set at line %d", p->geoip_loc.line);
			return -1;
		}
		if (ps->tok.type != T_WORD && ps->tok.type != T_STRING)
			return expected(ps, "the MMDB file's path");
		if (ps->tok.text[0] != '/') {
			diag_error(&p->diags, ps->tok.loc, "'%s': write the "
			    "database's absolute path", ps->tok.text);
			return -1;
		}
		p->geoip_database = arena_strndup(&p->arena, ps->tok.text,
		    ps->tok.len);
		p->geoip_loc = at;
		next(ps);
		return 0;
	}
	if (*line != 0) {
		diag_error(&p->diags, at, "%s is already set at line %d",
		    min ? "dns-min-ttl" : "dns-max-ttl", *line);
		return -1;
	}
	if (ps->tok.type != T_WORD)
		return expected(ps, "a duration such as 30s or 1h");
	if (parse_duration(ps, min ? &p->dns_min_ttl : &p->dns_max_ttl) == -1)
		return -1;
	*line = at.line;
	next(ps);
	return 0;
}

static int
parse_object(struct parser *ps)
{
	struct object *o = arena_alloc(&ps->p->arena, sizeof(*o));
	int rc;

	next(ps);
	o->loc = ps->tok.loc;
	o->kind = OBJ_USER;
	if ((o->name = take_name(ps, "object name")) == NULL)
		return -1;
	if (ps->tok.type == T_NEWLINE || ps->tok.type == T_EOF)
		rc = expected(ps, "the object's address, network, range or "
		    "list");
	else if (is_kw(ps, "fqdn") || is_kw(ps, "url") ||
	    is_kw(ps, "country")) {
		o->kind = is_kw(ps, "fqdn") ? OBJ_FQDN : is_kw(ps, "url") ?
		    OBJ_URL : OBJ_COUNTRY;
		next(ps);
		rc = parse_feed(ps, o);
	} else
		rc = parse_addr_expr(ps, &o->members, false);
	/* A broken object is still defined (empty), so that its uses do not
	 * each report it unknown. */
	if (rc == -1)
		o->members.n = 0;
	return add_object(ps, o) == -1 ? -1 : rc;
}

static int
parse_on_iface(struct parser *ps, char **name, struct loc *loc)
{
	if (!is_kw(ps, "on"))
		return expected(ps, "'on INTERFACE'");
	next(ps);
	*loc = ps->tok.loc;
	return (*name = take_name(ps, "interface name")) != NULL ? 0 : -1;
}

static void
set_any(struct policy *p, struct addr_expr *x, struct loc loc)
{
	ARENA_PUSH(&p->arena, x->v, x->n, x->cap);
	x->v[0].kind = AE_NAME;
	x->v[0].name = "ANY";
	x->v[0].loc = x->loc = loc;
}

static int
parse_rule(struct parser *ps)
{
	struct policy *p = ps->p;
	struct rule *r = arena_alloc(&p->arena, sizeof(*r));
	bool seen_from = false, seen_to = false, seen_svc = false;
	bool seen_comment = false;
	r->loc = ps->tok.loc;
	r->action = is_kw(ps, "accept") ? ACT_ACCEPT :
	    is_kw(ps, "deny") ? ACT_DENY : ACT_REJECT;
	next(ps);
	if (parse_on_iface(ps, &r->ifname, &r->if_loc) == -1)
		return -1;
	while (ps->tok.type == T_WORD) {
		struct loc at = ps->tok.loc;
		char kw[16];
		size_t kl = strnlen(ps->tok.text, sizeof(kw) - 1);
		bool dup = false;

		/* its first 15 bytes, as "%.15s" would (snprintf was a
		 * sixth of the parse of a rule) */
		memcpy(kw, ps->tok.text, kl);
		kw[kl] = '\0';

		if (strcmp(kw, "from") == 0) {
			dup = seen_from;
			seen_from = true;
			next(ps);
			if (!dup && parse_addr_expr(ps, &r->src, true) == -1)
				return -1;
		} else if (strcmp(kw, "to") == 0) {
			dup = seen_to;
			seen_to = true;
			next(ps);
			if (!dup && parse_addr_expr(ps, &r->dst, true) == -1)
				return -1;
		} else if (strcmp(kw, "service") == 0) {
			dup = seen_svc;
			seen_svc = true;
			next(ps);
			if (!dup && parse_svc_list(ps, &r->svc) == -1)
				return -1;
		} else if (strcmp(kw, "log") == 0) {
			dup = r->log;
			r->log = true;
			next(ps);
		} else if (strcmp(kw, "disabled") == 0) {
			dup = r->disabled;
			r->disabled = true;
			next(ps);
		} else if (strcmp(kw, "schedule") == 0) {
			dup = r->sched_name != NULL;
			next(ps);
			r->sched_loc = ps->tok.loc;
			if (!dup && (r->sched_name = take_name(ps,
			    "schedule name")) == NULL)
				return -1;
		} else if (strcmp(kw, "gateway") == 0) {
			dup = r->gw.name != NULL;
			next(ps);
			r->gw.loc = ps->tok.loc;
			if (!dup && (r->gw.name = take_name(ps,
			    "gateway or gateway-group name")) == NULL)
				return -1;
			if (!dup && r->action != ACT_ACCEPT) {
				diag_error(&p->diags, at, "the gateway option "
				    "belongs on accept rules: what a %s rule "
				    "stops leaves through no link",
				    action_name(r->action));
				return -1;
			}
		} else if (strcmp(kw, "comment") == 0) {
			dup = seen_comment;
			seen_comment = true;
			next(ps);
			if (ps->tok.type != T_STRING)
				return expected(ps, "a quoted comment");
			r->comment = arena_strndup(&p->arena, ps->tok.text,
			    ps->tok.len);
			next(ps);
		} else
			return expected(ps, "from, to, service, schedule, "
			    "gateway, log, comment or disabled");
		if (dup) {
			diag_error(&p->diags, at, "'%s' given twice in one rule",
			    kw);
			return -1;
		}
	}
	/* Leaving out from or to means ANY, as on the appliance. */
	if (!seen_from)
		set_any(p, &r->src, r->loc);
	if (!seen_to)
		set_any(p, &r->dst, r->loc);
	r->number = (int)p->nrule + 1;
	ARENA_PUSH(&p->arena, p->rules, p->nrule, p->caprule);
	p->rules[p->nrule - 1] = r;
	return 0;
}

/* Schedules */

static const char *const day_words[] = {
	"sun", "mon", "tue", "wed", "thu", "fri", "sat", "daily",
};

/* The day named by n bytes at s (0 = Sunday), or -1. */
static int
day_number(const char *s, size_t n)
{
	int d;

	for (d = 0; d < 7; d++)
		if (n == 3 && strncmp(s, day_words[d], 3) == 0)
			return d;
	return -1;
}

static int
bad_day(struct parser *ps, const char *s, size_t n, int col)
{
	struct loc at = ps->tok.loc;
	char word[32];
	const char *near;

	at.col += col;
	snprintf(word, sizeof(word), "%.*s", (int)(n < 31 ? n : 31), s);
	near = nearest_name(word, day_words, NELEM(day_words));
	diag_error(&ps->p->diags, at, "'%s' is not a day: write mon, tue, wed, "
	    "thu, fri, sat, sun, a range (mon-fri) or daily%s%s%s", word,
	    near ? "; did you mean " : "", near ? near : "", near ? "?" : "");
	return -1;
}

/* One item of a window's days, the word at ps->tok: daily, mon, fri-mon
 * (a range may wrap past Sunday).  Its days are added to *days. */
static int
parse_day_item(struct parser *ps, unsigned *days)
{
	const char *w = ps->tok.text, *dash = strchr(w, '-');
	int a, b;

	if (strcmp(w, "daily") == 0) {
		*days |= 0x7f;
		next(ps);
		return 0;
	}
	if (dash == NULL) {
		if ((a = day_number(w, strlen(w))) == -1)
			return bad_day(ps, w, strlen(w), 0);
		*days |= 1u << a;
		next(ps);
		return 0;
	}
	if ((a = day_number(w, (size_t)(dash - w))) == -1)
		return bad_day(ps, w, (size_t)(dash - w), 0);
	if ((b = day_number(dash + 1, strlen(dash + 1))) == -1)
		return bad_day(ps, dash + 1, strlen(dash + 1),
		    (int)(dash + 1 - w));
	for (;; a = (a + 1) % 7) {
		*days |= 1u << a;
		if (a == b)
			break;
	}
	next(ps);
	return 0;
}

/* H:MM or HH:MM at *s, advanced past it: minutes of the day (up to max),
 * or -1. */
static int
clock_minutes(const char **s, int max)
{
	const char *p = *s;
	int h = 0, m, digits = 0;

	while (*p >= '0' && *p <= '9' && digits < 3) {
		h = h * 10 + (*p++ - '0');
		digits++;
	}
	if (digits == 0 || digits > 2 || *p != ':' || p[1] < '0' ||
	    p[1] > '5' || p[2] < '0' || p[2] > '9')
		return -1;
	m = (p[1] - '0') * 10 + (p[2] - '0');
	if (h * 60 + m > max)
		return -1;
	*s = p + 3;
	return h * 60 + m;
}

/* HH:MM-HH:MM at ps->tok into w. */
static int
parse_window_times(struct parser *ps, struct sched_window *w)
{
	const char *text = ps->tok.text, *s = text;
	struct loc at = ps->tok.loc;
	int start, end;

	if ((start = clock_minutes(&s, SCHED_DAY - 1)) == -1 || *s != '-') {
		diag_error(&ps->p->diags, at, "'%s' is not a time window: "
		    "write HH:MM-HH:MM, from 00:00 to 24:00 (08:00-17:30)",
		    text);
		return -1;
	}
	s++;
	at.col += (int)(s - text);
	if ((end = clock_minutes(&s, SCHED_DAY)) == -1 || *s != '\0') {
		diag_error(&ps->p->diags, at, "'%s' is not the end of a time "
		    "window: write HH:MM, 00:00 to 24:00", text + (at.col -
		    ps->tok.loc.col));
		return -1;
	}
	if (end == start) {
		diag_error(&ps->p->diags, ps->tok.loc, "time window %s is "
		    "empty: it starts when it ends (for the whole day write "
		    "00:00-24:00)", text);
		return -1;
	}
	w->start = (unsigned)start;
	/* 22:00-00:00 is 22:00-24:00: it ends at the next midnight. */
	w->end = end == 0 ? SCHED_DAY : (unsigned)end;
	next(ps);
	return 0;
}

/* The minutes of the week that the windows of s are open. */
static struct iset
schedule_set(struct arena *a, const struct schedule *s)
{
	struct iset set = { 0 };
	size_t i;
	int d;

	for (i = 0; i < s->n; i++) {
		const struct sched_window *w = &s->v[i];
		unsigned len = w->end > w->start ? w->end - w->start :
		    SCHED_DAY - w->start + w->end;

		for (d = 0; d < 7; d++) {
			unsigned lo = (unsigned)d * SCHED_DAY + w->start;
			unsigned hi = lo + len - 1;

			if (!(w->days & (1u << d)))
				continue;
			if (hi < SCHED_WEEK)
				set = iset_union(a, set, iset_range(a, lo, hi));
			else {	/* Saturday night into Sunday morning */
				set = iset_union(a, set, iset_range(a, lo,
				    SCHED_WEEK - 1));
				set = iset_union(a, set, iset_range(a, 0,
				    hi - SCHED_WEEK));
			}
		}
	}
	return set;
}

/* schedule NAME DAYS HH:MM-HH:MM [DAYS HH:MM-HH:MM]... */
static int
parse_schedule(struct parser *ps)
{
	struct policy *p = ps->p;
	struct schedule *s = arena_alloc(&p->arena, sizeof(*s)), *old;
	int rc = 0;

	next(ps);
	s->loc = ps->tok.loc;
	if ((s->name = take_name(ps, "schedule name")) == NULL)
		return -1;
	if (ps->tok.type != T_WORD)
		rc = expected(ps, "the days of a window (mon-fri, sat,sun, "
		    "daily)");
	while (rc == 0 && ps->tok.type == T_WORD) {
		struct sched_window *w;

		ARENA_PUSH(&p->arena, s->v, s->n, s->cap);
		w = &s->v[s->n - 1];
		w->loc = ps->tok.loc;
		if (isdigit((unsigned char)ps->tok.text[0])) {
			rc = expected(ps, "the days of the window first "
			    "(mon-fri, sat,sun, daily)");
			break;
		}
		for (;;) {
			if ((rc = parse_day_item(ps, &w->days)) == -1)
				break;
			if (ps->tok.type != T_COMMA)
				break;
			next(ps);
			if (ps->tok.type != T_WORD) {
				rc = expected(ps, "a day after ','");
				break;
			}
		}
		if (rc == -1)
			break;
		if (ps->tok.type != T_WORD || !isdigit((unsigned char)
		    ps->tok.text[0]))
			rc = expected(ps, "a time window HH:MM-HH:MM after the "
			    "days");
		else
			rc = parse_window_times(ps, w);
	}
	/* As for objects: a broken schedule is still defined, never open. */
	if (rc == -1)
		s->n = 0;
	s->set = schedule_set(&p->arena, s);
	if ((old = nametab_put(p->sched_names, s->name, s)) != NULL) {
		report_duplicate(ps, s->loc, "schedule", s->name, old->loc);
		return -1;
	}
	ARENA_PUSH(&p->arena, p->scheds, p->nsched, p->capsched);
	p->scheds[p->nsched - 1] = s;
	return rc;
}

/* nat one-to-one on IF PUBLIC to INSIDE [reflection on|off] */
static int
parse_nat_one(struct parser *ps, struct loc at)
{
	struct policy *p = ps->p;
	struct nat_one *n = arena_alloc(&p->arena, sizeof(*n));

	n->loc = at;
	next(ps);
	if (parse_on_iface(ps, &n->ifname, &n->if_loc) == -1 ||
	    parse_addr_expr(ps, &n->pub, false) == -1)
		return -1;
	if (!is_kw(ps, "to"))
		return expected(ps, "'to ADDRESS'");
	next(ps);
	if (parse_addr_expr(ps, &n->inside, false) == -1)
		return -1;
	n->reflection = true;
	if (is_kw(ps, "reflection")) {
		next(ps);
		if (take_on_off(ps, &n->reflection) == -1)
			return -1;
	}
	n->number = (int)p->nnat_one + 1;
	ARENA_PUSH(&p->arena, p->nat_ones, p->nnat_one, p->capnat_one);
	p->nat_ones[p->nnat_one - 1] = n;
	return 0;
}

/* nat source on IF from ADDR [to ADDR] [service S]
 *     translate ADDR|masquerade|none */
static int
parse_nat_source(struct parser *ps, struct loc at)
{
	struct policy *p = ps->p;
	struct nat_rule *n = arena_alloc(&p->arena, sizeof(*n));

	n->loc = at;
	next(ps);
	if (parse_on_iface(ps, &n->ifname, &n->if_loc) == -1)
		return -1;
	if (!is_kw(ps, "from"))
		return expected(ps, "'from ADDRESS'");
	next(ps);
	if (parse_addr_expr(ps, &n->src, true) == -1)
		return -1;
	if (is_kw(ps, "to")) {
		next(ps);
		if (parse_addr_expr(ps, &n->dst, true) == -1)
			return -1;
		n->has_dst = true;
	} else
		set_any(p, &n->dst, n->loc);
	if (is_kw(ps, "service")) {
		next(ps);
		if (parse_svc_list(ps, &n->svc) == -1)
			return -1;
	}
	if (!is_kw(ps, "translate"))
		return expected(ps, "'translate ADDRESS', 'translate "
		    "masquerade' or 'translate none'");
	next(ps);
	if (is_kw(ps, "masquerade")) {
		n->kind = NAT_TO_MASQUERADE;
		next(ps);
	} else if (is_kw(ps, "none")) {
		n->kind = NAT_TO_NONE;
		next(ps);
	} else if (parse_addr_expr(ps, &n->to, false) == -1)
		return -1;
	n->number = (int)p->nnat_rule + 1;
	ARENA_PUSH(&p->arena, p->nat_rules, p->nnat_rule, p->capnat_rule);
	p->nat_rules[p->nnat_rule - 1] = n;
	return 0;
}

static int
parse_nat(struct parser *ps)
{
	struct nat *n = arena_alloc(&ps->p->arena, sizeof(*n));

	n->loc = ps->tok.loc;
	next(ps);
	if (is_kw(ps, "source"))
		return parse_nat_source(ps, n->loc);
	if (is_kw(ps, "one-to-one"))
		return parse_nat_one(ps, n->loc);
	if (!is_kw(ps, "masquerade"))
		return expected(ps, "'masquerade', 'source' or "
		    "'one-to-one'");
	next(ps);
	if (parse_on_iface(ps, &n->ifname, &n->if_loc) == -1)
		return -1;
	ARENA_PUSH(&ps->p->arena, ps->p->nats, ps->p->nnat, ps->p->capnat);
	ps->p->nats[ps->p->nnat - 1] = n;
	return 0;
}

static int
parse_forward(struct parser *ps)
{
	struct forward *f = arena_alloc(&ps->p->arena, sizeof(*f));

	f->loc = ps->tok.loc;
	next(ps);
	if (parse_on_iface(ps, &f->ifname, &f->if_loc) == -1)
		return -1;
	if (!is_kw(ps, "service"))
		return expected(ps, "'service NAME'");
	next(ps);
	if (parse_svc_list(ps, &f->svc) == -1)
		return -1;
	if (!is_kw(ps, "to"))
		return expected(ps, "'to ADDRESS'");
	next(ps);
	if (parse_addr_expr(ps, &f->target, false) == -1)
		return -1;
	f->reflection = true;
	if (is_kw(ps, "reflection")) {
		next(ps);
		if (take_on_off(ps, &f->reflection) == -1)
			return -1;
	}
	f->number = (int)ps->p->nforward + 1;
	ARENA_PUSH(&ps->p->arena, ps->p->forwards, ps->p->nforward,
	    ps->p->capforward);
	ps->p->forwards[ps->p->nforward - 1] = f;
	return 0;
}

static int
parse_switch(struct parser *ps, bool *out, int *seen_line)
{
	struct loc at = ps->tok.loc;
	const char *what = is_kw(ps, "firewall") ? "firewall" : "anti-lockout";

	next(ps);
	if (take_on_off(ps, out) == -1)
		return -1;
	if (*seen_line != 0) {
		diag_error(&ps->p->diags, at, "%s is already set at line %d",
		    what, *seen_line);
		return -1;
	}
	*seen_line = at.line;
	return 0;
}

/* 10M, 512K, 1G, 1048576: bytes, with binary suffixes. */
static int
parse_size(struct parser *ps, uint64_t *out)
{
	char buf[STRING_MAX + 1];
	unsigned shift = 0;
	size_t len = ps->tok.len;
	unsigned v;

	snprintf(buf, sizeof(buf), "%s", ps->tok.text);
	if (len > 0 && strchr("KMG", buf[len - 1]) != NULL) {
		shift = buf[len - 1] == 'K' ? 10 : buf[len - 1] == 'M' ? 20 :
		    30;
		buf[len - 1] = '\0';
	}
	if (parse_number(ps, buf, 1, 0xffffffffu, "size", &v) == -1)
		return -1;
	if (((uint64_t)v << shift) > (4ull << 30)) {
		diag_error(&ps->p->diags, ps->tok.loc, "size %s is over the "
		    "4G limit", ps->tok.text);
		return -1;
	}
	*out = (uint64_t)v << shift;
	return 0;
}

/* 30s, 5m, 1h, 2d, 300: seconds, 1 second to max. */
static int
parse_duration_max(struct parser *ps, unsigned max, unsigned *out)
{
	char buf[STRING_MAX + 1];
	unsigned mul = 1, v;
	size_t len = ps->tok.len;

	snprintf(buf, sizeof(buf), "%s", ps->tok.text);
	if (len > 1 && isalpha((unsigned char)buf[len - 1]) &&
	    strchr("smhd", buf[len - 1]) == NULL) {
		diag_error(&ps->p->diags, ps->tok.loc, "'%s' is not a duration: "
		    "write seconds, or a number with s, m, h or d (30s, 5m, "
		    "1h, 1d)", ps->tok.text);
		return -1;
	}
	if (len > 0 && strchr("smhd", buf[len - 1]) != NULL) {
		mul = buf[len - 1] == 's' ? 1 : buf[len - 1] == 'm' ? 60 :
		    buf[len - 1] == 'h' ? 3600 : 86400;
		buf[len - 1] = '\0';
	}
	if (parse_number(ps, buf, 1, max, "duration", &v) == -1)
		return -1;
	if ((uint64_t)v * mul > max) {
		diag_error(&ps->p->diags, ps->tok.loc, "duration %s is over "
		    "the %u-day limit", ps->tok.text, max / 86400);
		return -1;
	}
	*out = v * mul;
	return 0;
}

/* A duration of at most a day. */
static int
parse_duration(struct parser *ps, unsigned *out)
{
	return parse_duration_max(ps, 86400, out);
}

/* host:port or [v6]:port, for smtp-relay-to. */
static int
check_host_port(struct parser *ps, const char *s)
{
	const char *colon = strrchr(s, ':');
	unsigned port;
	char err[160];
	u128 a;
	enum addr_family fam;

	if (colon == NULL || colon == s) {
		diag_error(&ps->p->diags, ps->tok.loc, "expected HOST:PORT, "
		    "such as 127.0.0.1:10026 or [::1]:10026");
		return -1;
	}
	if (s[0] == '[') {
		char host[64];
		size_t hl = (size_t)(colon - s);

		if (hl < 3 || s[hl - 1] != ']' || hl - 2 >= sizeof(host)) {
			diag_error(&ps->p->diags, ps->tok.loc, "expected "
			    "[IPv6]:PORT");
			return -1;
		}
		memcpy(host, s + 1, hl - 2);
		host[hl - 2] = '\0';
		if (addr_parse(host, &a, &fam, err, sizeof(err)) == -1 ||
		    fam != FAM_V6) {
			diag_error(&ps->p->diags, ps->tok.loc, "'%s' is not an "
			    "IPv6 address", host);
			return -1;
		}
	} else if (memchr(s, ':', (size_t)(colon - s)) != NULL) {
		diag_error(&ps->p->diags, ps->tok.loc, "write an IPv6 relay "
		    "as [ADDRESS]:PORT");
		return -1;
	}
	return parse_number(ps, colon + 1, 1, 65535, "port", &port);
}

/*
 * The setting a block's line starts with: its index in names (the
 * keyword read), or -1 (reported): unknown (with the nearest name), or
 * set twice (seen has a bit per setting).
 */
static int
take_setting(struct parser *ps, const char *block, const char *const *names,
    size_t n, unsigned *seen)
{
	struct policy *p = ps->p;
	struct loc at = ps->tok.loc;
	const char *near;
	size_t i;

	for (i = 0; i < n; i++)
		if (is_kw(ps, names[i]))
			break;
	if (i == n) {
		if (ps->tok.type != T_WORD) {
			char what[64];

			snprintf(what, sizeof(what), "a%s %s setting or '}'",
			    block[0] == 'a' ? "n" : "", block);
			return expected(ps, what);
		}
		near = nearest_name(ps->tok.text, names, n);
		diag_error(&p->diags, ps->tok.loc, "unknown %s setting "
		    "'%s'%s%s%s", block, ps->tok.text, near ? "; did you mean " :
		    "", near ? near : "", near ? "?" : "");
		return -1;
	}
	if (*seen & (1u << i)) {
		diag_error(&p->diags, at, "%s is set twice", names[i]);
		return -1;
	}
	*seen |= 1u << i;
	next(ps);
	return (int)i;
}

/* A block's body: '{', a setting a line (setting() reads one), '}'.
 * Every bad line is reported; -1 when there was one. */
static int
parse_block_open(struct parser *ps, const char *block, struct loc open,
    int (*setting)(struct parser *, void *, unsigned *), void *ctx);

static int
parse_block(struct parser *ps, const char *block, struct loc open,
    int (*setting)(struct parser *, void *, unsigned *), void *ctx)
{
	next(ps);
	return parse_block_open(ps, block, open, setting, ctx);
}

/* The same, at its '{'. */
static int
parse_block_open(struct parser *ps, const char *block, struct loc open,
    int (*setting)(struct parser *, void *, unsigned *), void *ctx)
{
	unsigned seen = 0;
	bool bad = false;

	if (ps->tok.type != T_LBRACE)
		return expected(ps, "'{'");
	next(ps);
	if (ps->tok.type != T_NEWLINE)
		return expected(ps, "end of line after '{'");
	for (;;) {
		skip_newlines(ps);
		if (ps->tok.type == T_RBRACE)
			break;
		if (ps->tok.type == T_EOF) {
			diag_error(&ps->p->diags, open, "%s block is not "
			    "closed: add '}' on a line of its own", block);
			return -1;
		}
		if (setting(ps, ctx, &seen) == -1 ||
		    (ps->tok.type != T_NEWLINE &&
		    expected(ps, "end of line") == -1)) {
			bad = true;
			if (diags_full(&ps->p->diags))
				return -1;
			recover(ps);
		}
	}
	next(ps);
	return bad ? -1 : 0;
}

/*
 * After `engine clamav`: the database directory.  After `engine clamd`:
 * one to AV_CLAMD_MAX instances (a socket path or HOST:PORT), over which
 * scans are spread.  Leaves the last one as the token.
 */
static int
parse_engine_where(struct parser *ps, struct antivirus *av)
{
	struct policy *p = ps->p;
	size_t cap = 0;
	unsigned i, n = 0;

	if (ps->tok.type != T_WORD && ps->tok.type != T_STRING)
		return expected(ps, av->engine == AV_CLAMAV ?
		    "the signature database directory" :
		    "clamd's socket path or HOST:PORT");
	av->engine_addrs = NULL;
	for (;;) {
		if (ps->tok.len == 0) {
			diag_error(&p->diags, ps->tok.loc, "empty path");
			return -1;
		}
		if (av->engine == AV_CLAMD && ps->tok.text[0] != '/' &&
		    check_host_port(ps, ps->tok.text) == -1)
			return -1;
		for (i = 0; i < n; i++)
			if (strcmp(av->engine_addrs[i], ps->tok.text) == 0) {
				diag_error(&p->diags, ps->tok.loc, "clamd %s is "
				    "named twice", ps->tok.text);
				return -1;
			}
		if (n == AV_CLAMD_MAX) {
			diag_error(&p->diags, ps->tok.loc, "at most %d clamd "
			    "instances", AV_CLAMD_MAX);
			return -1;
		}
		ARENA_PUSH(&p->arena, av->engine_addrs, n, cap);
		av->engine_addrs[n - 1] = arena_strndup(&p->arena,
		    ps->tok.text, ps->tok.len);
		next(ps);
		if (ps->tok.type != T_WORD && ps->tok.type != T_STRING)
			break;
		if (av->engine == AV_CLAMAV) {
			diag_error(&p->diags, ps->tok.loc, "engine clamav "
			    "takes one database directory");
			return -1;
		}
	}
	av->nengine_addrs = n;
	av->engine_path = av->engine_addrs[0];
	return 0;
}

/*
 * ignore-signature NAME...: ClamAV signature names, as the log shows them
 * (a trailing ".UNOFFICIAL" is ClamAV's mark of a third-party signature,
 * not part of its name: it is taken off).  Leaves the end of the line.
 */
static int
parse_ignore_sigs(struct parser *ps, struct antivirus *av)
{
	struct policy *p = ps->p;
	size_t cap = 0, len;
	unsigned i, n = 0;
	const char *c;

	if (ps->tok.type != T_WORD)
		return expected(ps, "a signature name such as "
		    "Win.Test.EICAR_HDB-1");
	av->ignore_sigs = NULL;
	while (ps->tok.type == T_WORD) {
		for (c = ps->tok.text; *c != '\0'; c++)
			if (*c == ':' || *c == '/' || *c == '\\') {
				diag_error(&p->diags, ps->tok.loc, "'%s' is not a "
				    "signature name (no ':', '/' or '\\')",
				    ps->tok.text);
				return -1;
			}
		len = ps->tok.len;
		if (len > 11 && strcmp(ps->tok.text + len - 11,
		    ".UNOFFICIAL") == 0)
			len -= 11;
		if (n == AV_IGNORE_MAX) {
			diag_error(&p->diags, ps->tok.loc, "at most %d "
			    "signatures to ignore", AV_IGNORE_MAX);
			return -1;
		}
		ARENA_PUSH(&p->arena, av->ignore_sigs, n, cap);
		av->ignore_sigs[n - 1] = arena_strndup(&p->arena,
		    ps->tok.text, len);
		for (i = 0; i + 1 < n; i++)
			if (strcmp(av->ignore_sigs[i], av->ignore_sigs[n - 1]) ==
			    0) {
				diag_error(&p->diags, ps->tok.loc, "signature %s "
				    "is named twice", av->ignore_sigs[n - 1]);
				return -1;
			}
		next(ps);
	}
	av->nignore_sigs = n;
	return 0;
}

static int	take_path(struct parser *ps, char **out);

static int
parse_av_setting(struct parser *ps, void *ctx, unsigned *seen)
{
	struct policy *p = ps->p;
	struct antivirus *av = ctx;
	struct loc at = ps->tok.loc;
	int i = take_setting(ps, "antivirus", av_settings, NELEM(av_settings),
	    seen);

	if (i == -1)
		return -1;
	switch (i) {
	case 0:		/* engine clamav DIR | engine clamd SOCKET */
		if (is_kw(ps, "clamav"))
			av->engine = AV_CLAMAV;
		else if (is_kw(ps, "clamd"))
			av->engine = AV_CLAMD;
		else
			return expected(ps, "clamav or clamd");
		next(ps);
		return parse_engine_where(ps, av);
	case 1:
		return take_on_off(ps, &av->other_scanning);
	case 2:
		av->local_loc = at;
		return take_on_off(ps, &av->local_scanning);
	case 3:
		return take_on_off(ps, &av->outgoing_scanning);
	case 4:
		if (ps->tok.type != T_WORD)
			return expected(ps, "HOST:PORT");
		if (check_host_port(ps, ps->tok.text) == -1)
			return -1;
		av->relay_to = arena_strdup(&p->arena, ps->tok.text);
		break;
	case 5:
		/* Only reject: accepting a virus and dropping it loses mail. */
		if (!is_kw(ps, "reject"))
			return expected(ps, "'reject' (554 to the sender)");
		break;
	case 6:
		if (is_kw(ps, "tempfail"))
			av->fail_pass = false;
		else if (is_kw(ps, "pass"))
			av->fail_pass = true;
		else
			return expected(ps, "tempfail or pass");
		break;
	case 7:
		if (ps->tok.type != T_WORD)
			return expected(ps, "a size such as 50M");
		if (parse_size(ps, &av->max_size) == -1)
			return -1;
		break;
	case 8:
	case 9:
		if (ps->tok.type != T_WORD)
			return expected(ps, "a duration such as 5m or 30s");
		if (parse_duration(ps, i == 8 ? &av->command_timeout :
		    &av->data_timeout) == -1)
			return -1;
		break;
	case 10:
		return take_on_off(ps, &av->keep_client_address);
	case 11:
		if (is_kw(ps, "reject"))
			av->bare_normalize = false;
		else if (is_kw(ps, "normalize"))
			av->bare_normalize = true;
		else
			return expected(ps, "reject or normalize");
		break;
	case 12:
	case 13:
	case 14:
	case 15: {
		static const unsigned lo[] = { 1, 1, 0, 0 }, hi[] = { 100000,
		    100000, 1000000, 100000000 };
		unsigned *out[] = { &av->max_sessions, &av->max_client_sessions,
		    &av->max_client_rate, &av->min_data_rate };

		if (ps->tok.type != T_WORD)
			return expected(ps, "a number");
		if (parse_number(ps, ps->tok.text, lo[i - 12], hi[i - 12],
		    "number", out[i - 12]) == -1)
			return -1;
		break;
	}
	case 16:
		if (ps->tok.type != T_WORD)
			return expected(ps, "a size such as 64M");
		if (parse_size(ps, &av->memory_limit) == -1)
			return -1;
		break;
	case 17:
		if (ps->tok.type != T_WORD)
			return expected(ps, "a duration such as 10m");
		if (parse_duration(ps, &av->signature_check) == -1)
			return -1;
		break;
	case 19:
		av->ignore_loc = at;
		return parse_ignore_sigs(ps, av);
	case 20:
		if (is_kw(ps, "auto"))
			av->reload = AV_RELOAD_AUTO;
		else if (is_kw(ps, "concurrent"))
			av->reload = AV_RELOAD_CONCURRENT;
		else if (is_kw(ps, "blocking"))
			av->reload = AV_RELOAD_BLOCKING;
		else
			return expected(ps, "auto, concurrent or blocking");
		break;
	case 21:
		if (is_kw(ps, "terminate"))
			av->intercept_tls = AV_TLS_TERMINATE;
		else if (is_kw(ps, "passthrough"))
			av->intercept_tls = AV_TLS_PASSTHROUGH;
		else if (is_kw(ps, "strip"))
			av->intercept_tls = AV_TLS_STRIP;
		else
			return expected(ps, "terminate, passthrough or strip");
		break;
	case 22:
		if (ps->tok.type != T_WORD || !valid_name(ps->tok.text))
			return expected(ps, "an object's name");
		av->passthrough_from = arena_strdup(&p->arena, ps->tok.text);
		av->passthrough_loc = ps->tok.loc;
		break;
	case 23:
		if (is_kw(ps, "none"))
			av->tls_upstream = AV_TLS_UP_NONE;
		else if (is_kw(ps, "may"))
			av->tls_upstream = AV_TLS_UP_MAY;
		else if (is_kw(ps, "dane"))
			av->tls_upstream = AV_TLS_UP_DANE;
		else if (is_kw(ps, "verify"))
			av->tls_upstream = AV_TLS_UP_VERIFY;
		else
			return expected(ps, "may, dane, verify or none");
		break;
	case 24:
	case 25:
	case 26:
	case 27: {
		char **out[] = { &av->tls_ca_file, &av->trust_anchor,
		    &av->tls_cert, &av->tls_key };

		if (i == 26 || i == 27)
			av->tls_cert_loc = at;
		if (take_path(ps, out[i - 24]) == -1)
			return -1;
		break;
	}
	case 28:
		return take_on_off(ps, &av->relay_require_tls);
	case 18:
		if (ps->tok.type != T_WORD)
			return expected(ps, "a duration such as 2m");
		if (parse_duration(ps, &av->scan_timeout) == -1)
			return -1;
		if (av->scan_timeout == 0 || av->scan_timeout > 3600) {
			diag_error(&p->diags, at, "scan-timeout must be "
			    "between 1s and 1h");
			return -1;
		}
		break;
	}
	next(ps);
	return 0;
}

static int
parse_antivirus(struct parser *ps)
{
	struct antivirus *av = &ps->p->av;
	struct loc open = ps->tok.loc;
	bool second = av->present;

	if (second) {
		/* Parse it all the same, so its lines do not read as junk. */
		diag_error(&ps->p->diags, open, "a second antivirus block; the "
		    "first is at line %d", av->loc.line);
		av = arena_alloc(&ps->p->arena, sizeof(*av));
	}
	av->present = true;
	av->loc = open;
	av->engine = AV_CLAMAV;
	av->engine_path = "/var/lib/clamav";
	av->local_scanning = true;
	av->outgoing_scanning = true;
	av->relay_to = "127.0.0.1:10026";
	av->max_size = 50u << 20;
	av->command_timeout = 300;	/* RFC 5321 4.5.3.2.7 */
	av->data_timeout = 180;		/* RFC 5321 4.5.3.2.6 */
	/* Postfix's defaults where it has one (doc/design/smtp-proxy.md). */
	av->max_sessions = 1000;
	av->max_client_sessions = 50;
	av->max_client_rate = 120;
	av->min_data_rate = 500;
	av->memory_limit = 64u << 20;
	av->signature_check = 600;	/* clamd's SelfCheck */
	av->scan_timeout = 120;
	av->ignore_sigs = NULL;
	av->nignore_sigs = 0;
	av->reload = AV_RELOAD_AUTO;
	av->intercept_tls = AV_TLS_TERMINATE;
	av->tls_upstream = AV_TLS_UP_DANE;
	av->engine_addrs = &av->engine_path;
	av->nengine_addrs = 1;
	if (parse_block(ps, "antivirus", open, parse_av_setting, av) == -1 ||
	    second)
		return -1;
	/* Built on libclamav's own ignore list (.ign2): clamd has its own
	 * database, which moat does not load. */
	if ((av->tls_cert == NULL) != (av->tls_key == NULL)) {
		diag_error(&ps->p->diags, av->tls_cert_loc, "%s without %s: "
		    "name both, or neither for a self-signed pair made at the "
		    "first start", av->tls_cert ? "smtp-tls-certificate" :
		    "smtp-tls-key", av->tls_cert ? "smtp-tls-key" :
		    "smtp-tls-certificate");
		return -1;
	}
	if (av->nignore_sigs > 0 && av->engine == AV_CLAMD) {
		diag_error(&ps->p->diags, av->ignore_loc, "ignore-signature "
		    "needs engine clamav: with clamd, list the names in a "
		    ".ign2 file in clamd's database directory");
		return -1;
	}
	return 0;
}

/* ---- settings that name files or users of privileged processes --------
 *
 * moatd's root parent writes (or serves) the files these settings name,
 * and runs its children as the users they name, whoever wrote the config
 * (an admin, the console, the HA peer).  So, here and nowhere else: a path
 * lies under one of moat's own directories, and no user is root.
 */

/* moat's directories, and the test roots that stand for them. */
static const char *const path_roots[] = {
	"/etc/moat", "/var/lib/moat", "/var/log/moat", "/run/moat",
};
static const char *const path_root_env[] = {
	"MOAT_CONF_DIR", "MOAT_STATE_DIR", "MOAT_LOG_DIR", "MOAT_RUN_DIR",
};

static bool
under(const char *path, const char *root)
{
	size_t n = strlen(root);

	while (n > 1 && root[n - 1] == '/')
		n--;
	return root[0] == '/' && strncmp(path, root, n) == 0 &&
	    (path[n] == '\0' || path[n] == '/');
}

/* True when path lies under one of moat's directories, without a ".."
 * that would climb out of it. */
static bool
path_allowed(const char *path)
{
	const char *c, *root;
	size_t i;

	for (c = path; (c = strstr(c, "..")) != NULL; c += 2)
		if (c[-1] == '/' && (c[2] == '/' || c[2] == '\0'))
			return false;
	for (i = 0; i < NELEM(path_roots); i++)
		if (under(path, path_roots[i]))
			return true;
	for (i = 0; i < NELEM(path_root_env); i++)
		if ((root = getenv(path_root_env[i])) != NULL &&
		    under(path, root))
			return true;
	return false;
}

/* An absolute path (a word or a string) under moat's directories, kept
 * in *out. */
static int
take_path(struct parser *ps, char **out)
{
	if (ps->tok.type != T_WORD && ps->tok.type != T_STRING)
		return expected(ps, "a path");
	if (ps->tok.len == 0 || ps->tok.text[0] != '/') {
		diag_error(&ps->p->diags, ps->tok.loc, "'%s' is not an absolute "
		    "path", ps->tok.text);
		return -1;
	}
	if (!path_allowed(ps->tok.text)) {
		diag_error(&ps->p->diags, ps->tok.loc, "'%s' is outside moat's "
		    "directories: a path here lies under /etc/moat, "
		    "/var/lib/moat, /var/log/moat or /run/moat", ps->tok.text);
		return -1;
	}
	*out = arena_strndup(&ps->p->arena, ps->tok.text, ps->tok.len);
	return 0;
}

/* The name of a user a child of moatd runs as, kept in *out: never one
 * with uid 0 (only moatd's parent runs as root). */
static int
take_user(struct parser *ps, const char *what, char **out)
{
	struct passwd pwd, *pw = NULL;
	char buf[2048];

	if (ps->tok.type != T_WORD || !valid_name(ps->tok.text))
		return expected(ps, "a user name");
	/* getpwnam_r: two parses may run at once (the console's save). */
	if (getpwnam_r(ps->tok.text, &pwd, buf, sizeof(buf), &pw) == 0 &&
	    pw != NULL && pw->pw_uid == 0) {
		diag_error(&ps->p->diags, ps->tok.loc, "%s cannot run as '%s' "
		    "(uid 0): only moatd's parent runs as root; give it a user "
		    "of its own", what, ps->tok.text);
		return -1;
	}
	*out = arena_strdup(&ps->p->arena, ps->tok.text);
	return 0;
}

static int
parse_log_setting(struct parser *ps, void *ctx, unsigned *seen)
{
	struct policy *p = ps->p;
	struct logging *lg = ctx;
	int i = take_setting(ps, "logging", log_settings, NELEM(log_settings),
	    seen);

	if (i == -1)
		return -1;
	switch (i) {
	case 0:		/* directory PATH */
	case 4:		/* metrics-file PATH */
		if (take_path(ps, i == 0 ? &lg->directory :
		    &lg->metrics_file) == -1)
			return -1;
		break;
	case 1:
	case 3:
		if (ps->tok.type != T_WORD)
			return expected(ps, "a number");
		if (parse_number(ps, ps->tok.text, i == 1 ? 0 : 1, i == 1 ?
		    1000000 : 100, "number", i == 1 ? &lg->rate : &lg->keep) ==
		    -1)
			return -1;
		break;
	case 2:
		if (ps->tok.type != T_WORD)
			return expected(ps, "a size such as 10M");
		if (parse_size(ps, &lg->max_file_size) == -1)
			return -1;
		if (lg->max_file_size < 4096) {
			diag_error(&p->diags, ps->tok.loc, "max-file-size is "
			    "at least 4K");
			return -1;
		}
		break;
	case 5:
		if (ps->tok.type != T_WORD)
			return expected(ps, "a duration such as 1m");
		if (parse_duration(ps, &lg->metrics_interval) == -1)
			return -1;
		break;
	}
	next(ps);
	return 0;
}

static int
parse_logging(struct parser *ps)
{
	struct logging *lg = &ps->p->logging;
	struct loc open = ps->tok.loc;
	bool second = lg->present;

	if (second) {
		diag_error(&ps->p->diags, open, "a second logging block; the "
		    "first is at line %d", lg->loc.line);
		lg = arena_alloc(&ps->p->arena, sizeof(*lg));
	}
	lg->present = true;
	lg->loc = open;
	return parse_block(ps, "logging", open, parse_log_setting, lg) == -1 ||
	    second ? -1 : 0;
}

static int
parse_console_setting(struct parser *ps, void *ctx, unsigned *seen)
{
	struct policy *p = ps->p;
	struct console_conf_block *cb = ctx;
	int i = take_setting(ps, "console", console_settings,
	    NELEM(console_settings), seen);

	if (i == -1)
		return -1;
	switch (i) {
	case 0:		/* listen ADDR:PORT */
		if (ps->tok.type != T_WORD)
			return expected(ps, "ADDRESS:PORT, such as "
			    "192.168.1.1:443");
		if (check_host_port(ps, ps->tok.text) == -1)
			return -1;
		cb->listen = arena_strdup(&p->arena, ps->tok.text);
		break;
	case 1:
	case 2:
	case 3:
		if (take_path(ps, i == 1 ? &cb->users : i == 2 ? &cb->cert :
		    &cb->key) == -1)
			return -1;
		break;
	case 4:
		if (take_user(ps, "the console", &cb->user) == -1)
			return -1;
		break;
	case 5:
		if (ps->tok.type != T_WORD)
			return expected(ps, "a duration such as 15m");
		if (parse_duration(ps, &cb->session_timeout) == -1)
			return -1;
		break;
	}
	next(ps);
	return 0;
}

/* console off | console { ... } */
static int
parse_console(struct parser *ps)
{
	struct console_conf_block *cb = &ps->p->console;
	struct loc open = ps->tok.loc;
	bool second = cb->present;

	if (second) {
		diag_error(&ps->p->diags, open, "the console is already set at "
		    "line %d", cb->loc.line);
		cb = arena_alloc(&ps->p->arena, sizeof(*cb));
	}
	cb->present = true;
	cb->loc = open;
	next(ps);
	if (is_kw(ps, "off")) {
		cb->off = true;
		next(ps);
		return second ? -1 : 0;
	}
	return parse_block_open(ps, "console", open, parse_console_setting,
	    cb) == -1 || second ? -1 : 0;
}

/* An address with its prefix, as an interface's: 192.168.1.1/24. */
static int
take_host_prefix(struct parser *ps, struct addr_lit *lit)
{
	char err[200], hint[100];

	if (ps->tok.type != T_WORD || strchr(ps->tok.text, '/') == NULL ||
	    strchr(ps->tok.text, '-') != NULL)
		return expected(ps, "an address with its prefix, such as "
		    "192.168.1.1/24");
	if (addr_parse_lit(ps->tok.text, true, lit, err, sizeof(err), hint,
	    sizeof(hint)) == -1) {
		diag_error(&ps->p->diags, ps->tok.loc, "%s", err);
		return -1;
	}
	return 0;
}

static int
parse_ha_setting(struct parser *ps, void *ctx, unsigned *seen)
{
	struct policy *p = ps->p;
	struct ha_conf *ha = ctx;
	char err[200], hint[100];
	struct ha_vip *v;
	int i;

	if (is_kw(ps, "vip")) {		/* vip IF ADDR/LEN, any number */
		next(ps);
		if (ps->tok.type != T_WORD)
			return expected(ps, "an interface name");
		ARENA_PUSH(&p->arena, ha->vips, ha->nvip, ha->capvip);
		v = &ha->vips[ha->nvip - 1];
		v->if_loc = ps->tok.loc;
		v->ifname = arena_strndup(&p->arena, ps->tok.text, ps->tok.len);
		next(ps);
		v->loc = ps->tok.loc;
		if (take_host_prefix(ps, &v->lit) == -1)
			return -1;
		next(ps);
		return 0;
	}
	if ((i = take_setting(ps, "ha", ha_settings, NELEM(ha_settings),
	    seen)) == -1)
		return -1;
	switch (i) {
	case 0:		/* peer ADDR */
		ha->peer_loc = ps->tok.loc;
		if (ps->tok.type != T_WORD)
			return expected(ps, "the other node's address");
		if (addr_parse_lit(ps->tok.text, false, &ha->peer, err,
		    sizeof(err), hint, sizeof(hint)) == -1 ||
		    ha->peer.kind != LIT_HOST) {
			diag_error(&p->diags, ps->tok.loc, "peer: one address "
			    "(the other node's on the sync interface)");
			return -1;
		}
		break;
	case 1:		/* sync-interface IF */
		if (ps->tok.type != T_WORD)
			return expected(ps, "an interface name");
		ha->sync_ifname = arena_strndup(&p->arena, ps->tok.text,
		    ps->tok.len);
		ha->sync_loc = ps->tok.loc;
		break;
	case 3:		/* priority 1-254 */
	case 5:		/* router-id 1-255 */
	case 6:		/* preempt-delay SECONDS */
		if (ps->tok.type != T_WORD)
			return expected(ps, "a number");
		if (parse_number(ps, ps->tok.text, i == 6 ? 0 : 1, i == 3 ? 254 :
		    i == 5 ? 255 : 3600, i == 3 ? "priority" : i == 5 ?
		    "router-id" : "preempt-delay", i == 3 ? &ha->priority :
		    i == 5 ? &ha->router_id : &ha->preempt_delay) == -1)
			return -1;
		break;
	case 4:		/* secret "TEXT" */
		if (ps->tok.type != T_STRING && ps->tok.type != T_WORD)
			return expected(ps, "the shared secret, in quotes");
		if (ps->tok.len < 8 || memchr(ps->tok.text, '"', ps->tok.len)) {
			diag_error(&p->diags, ps->tok.loc, "the secret is at "
			    "least 8 characters (without '\"')");
			ha->secret = "";	/* said once */
			return -1;
		}
		ha->secret = arena_strndup(&p->arena, ps->tok.text,
		    ps->tok.len);
		ha->secret_off = ps->tok.off;
		ha->secret_end = ps->tok.end;
		break;
	}
	next(ps);
	return 0;
}

/* ha { peer ADDR  sync-interface IF  vip IF ADDR/LEN ... } */
static int
parse_ha(struct parser *ps)
{
	struct ha_conf *ha = &ps->p->ha;
	struct loc open = ps->tok.loc;
	bool second = ha->present;

	if (second) {
		diag_error(&ps->p->diags, open, "a second ha block; the first "
		    "is at line %d", ha->loc.line);
		ha = arena_alloc(&ps->p->arena, sizeof(*ha));
	}
	ha->present = true;
	ha->loc = open;
	return parse_block(ps, "ha", open, parse_ha_setting, ha) == -1 ||
	    second ? -1 : 0;
}

/* Gateways (doc/design/gateways.md) */

/* A gateway's or a group's name: not one of the other's, nor taken. */
static int
gw_name_free(struct parser *ps, const char *name, struct loc at)
{
	const struct gateway *g = policy_gateway(ps->p, name);
	const struct gateway_group *gg = policy_gwgroup(ps->p, name);

	if (g != NULL)
		report_duplicate(ps, at, "gateway", name, g->loc);
	else if (gg != NULL)
		report_duplicate(ps, at, "gateway-group", name, gg->loc);
	return g != NULL || gg != NULL ? -1 : 0;
}

/* One address, the next hop's or the monitor's. */
static int
take_gw_addr(struct parser *ps, const char *what, struct addr_lit *lit)
{
	char err[160], hint[100];

	if (ps->tok.type != T_WORD || !looks_like_address(ps->tok.text))
		return expected(ps, what);
	if (addr_parse_lit(ps->tok.text, false, lit, err, sizeof(err), hint,
	    sizeof(hint)) == -1) {
		diag_error(&ps->p->diags, ps->tok.loc, "%s", err);
		return -1;
	}
	if (lit->kind != LIT_HOST) {
		diag_error(&ps->p->diags, ps->tok.loc, "'%s': %s is one "
		    "address, not a network or a range", ps->tok.text, what);
		return -1;
	}
	if (addr_not_unicast(lit->lo, lit->family)) {
		diag_error(&ps->p->diags, ps->tok.loc, "%s is not a unicast "
		    "address: %s is one host", ps->tok.text, what);
		return -1;
	}
	next(ps);
	return 0;
}

/* N followed by suffix (20%, 300ms), min to max. */
static int
take_suffixed(struct parser *ps, const char *suffix, const char *what,
    const char *example, unsigned min, unsigned max, unsigned *out)
{
	char buf[STRING_MAX + 1];
	size_t len = ps->tok.len, sl = strlen(suffix);

	if (ps->tok.type != T_WORD)
		return expected(ps, example);
	if (len <= sl || strcmp(ps->tok.text + len - sl, suffix) != 0) {
		diag_error(&ps->p->diags, ps->tok.loc, "'%s' is not a %s: "
		    "write it as %s", ps->tok.text, what, example);
		return -1;
	}
	snprintf(buf, sizeof(buf), "%.*s", (int)(len - sl), ps->tok.text);
	if (parse_number(ps, buf, min, max, what, out) == -1)
		return -1;
	next(ps);
	return 0;
}

/* gateway NAME on IF via ADDR [monitor ADDR] [loss N%] [latency Nms] */
static int
parse_gateway(struct parser *ps)
{
	struct policy *p = ps->p;
	struct gateway *g = arena_alloc(&p->arena, sizeof(*g));
	bool seen_loss = false, seen_latency = false;

	next(ps);
	g->loc = ps->tok.loc;
	if ((g->name = take_name(ps, "gateway name")) == NULL)
		return -1;
	if (gw_name_free(ps, g->name, g->loc) == -1)
		return -1;
	if (p->ngateway == GW_MAX) {
		diag_error(&p->diags, g->loc, "gateway %s is one too many: at "
		    "most %d gateways", g->name, GW_MAX);
		return -1;
	}
	if (parse_on_iface(ps, &g->ifname, &g->if_loc) == -1)
		return -1;
	if (!is_kw(ps, "via"))
		return expected(ps, "'via ADDRESS' (the next hop)");
	next(ps);
	g->via_loc = ps->tok.loc;
	if (take_gw_addr(ps, "the next hop's address", &g->via) == -1)
		return -1;
	g->monitor = g->via;
	g->loss = GW_LOSS_DEFAULT;
	g->latency = GW_LATENCY_DEFAULT;
	while (ps->tok.type == T_WORD) {
		struct loc at = ps->tok.loc;
		const char *kw = is_kw(ps, "monitor") ? "monitor" :
		    is_kw(ps, "loss") ? "loss" : "latency";
		bool dup;

		if (is_kw(ps, "monitor")) {
			dup = g->monitor_loc.line != 0;
			next(ps);
			g->monitor_loc = ps->tok.loc;
			if (take_gw_addr(ps, "the address to probe",
			    &g->monitor) == -1)
				return -1;
			if (g->monitor.family != g->via.family) {
				diag_error(&p->diags, g->monitor_loc, "the "
				    "monitor address is %s and the next hop %s:"
				    " a gateway's probes leave through it, so "
				    "both are of one family", g->monitor.family
				    == FAM_V4 ? "IPv4" : "IPv6",
				    g->via.family == FAM_V4 ? "IPv4" : "IPv6");
				return -1;
			}
		} else if (is_kw(ps, "loss")) {
			dup = seen_loss;
			seen_loss = true;
			next(ps);
			if (take_suffixed(ps, "%", "loss", "a percentage such as "
			    "20%", 1, 100, &g->loss) == -1)
				return -1;
		} else if (is_kw(ps, "latency")) {
			dup = seen_latency;
			seen_latency = true;
			next(ps);
			if (take_suffixed(ps, "ms", "latency", "milliseconds "
			    "such as 500ms", 1, 60000, &g->latency) == -1)
				return -1;
		} else
			return expected(ps, "monitor, loss or latency");
		if (dup) {
			diag_error(&p->diags, at, "'%s' given twice in one "
			    "gateway", kw);
			return -1;
		}
	}
	g->index = p->ngateway + 1;
	ARENA_PUSH(&p->arena, p->gateways, p->ngateway, p->capgateway);
	p->gateways[p->ngateway - 1] = g;
	return 0;
}

/* gateway-group NAME GW [tier N] [GW [tier N] ...] */
static int
parse_gwgroup(struct parser *ps)
{
	struct policy *p = ps->p;
	struct gateway_group *gg = arena_alloc(&p->arena, sizeof(*gg));
	size_t i;

	next(ps);
	gg->loc = ps->tok.loc;
	if ((gg->name = take_name(ps, "gateway-group name")) == NULL)
		return -1;
	if (gw_name_free(ps, gg->name, gg->loc) == -1)
		return -1;
	if (p->ngwgroup == GW_GROUP_MAX) {
		diag_error(&p->diags, gg->loc, "gateway-group %s is one too "
		    "many: at most %d groups", gg->name, GW_GROUP_MAX);
		return -1;
	}
	if (ps->tok.type != T_WORD)
		return expected(ps, "a gateway's name (gateway-group NAME GW1 "
		    "[tier 1] GW2 [tier 2])");
	while (ps->tok.type == T_WORD) {
		struct gw_member *m;
		struct loc at = ps->tok.loc;
		char *name;

		if (is_kw(ps, "tier")) {
			diag_error(&p->diags, at, "tier follows a gateway's "
			    "name: GW tier N");
			return -1;
		}
		if ((name = take_name(ps, "gateway name")) == NULL)
			return -1;
		for (i = 0; i < gg->n; i++)
			if (strcmp(gg->v[i].name, name) == 0) {
				diag_error(&p->diags, at, "gateway %s is in "
				    "group %s twice", name, gg->name);
				return -1;
			}
		if (gg->n == GW_MEMBERS_MAX) {
			diag_error(&p->diags, at, "a group holds at most %d "
			    "gateways", GW_MEMBERS_MAX);
			return -1;
		}
		ARENA_PUSH(&p->arena, gg->v, gg->n, gg->cap);
		m = &gg->v[gg->n - 1];
		m->loc = at;
		m->name = name;
		m->tier = 1;
		if (is_kw(ps, "tier")) {
			next(ps);
			if (ps->tok.type != T_WORD)
				return expected(ps, "a tier, 1 to 5");
			if (parse_number(ps, ps->tok.text, 1, 5, "tier",
			    &m->tier) == -1)
				return -1;
			next(ps);
		}
	}
	gg->index = p->ngwgroup + 1;
	ARENA_PUSH(&p->arena, p->gwgroups, p->ngwgroup, p->capgwgroup);
	p->gwgroups[p->ngwgroup - 1] = gg;
	return 0;
}

/* default-gateway NAME [NAME]: one a family, kept as written until
 * resolve knows their families. */
static int
parse_default_gw(struct parser *ps)
{
	struct policy *p = ps->p;
	struct loc at = ps->tok.loc;
	int n = 0;

	next(ps);
	if (p->default_gw_loc.line != 0) {
		diag_error(&p->diags, at, "default-gateway is already set at "
		    "line %d; name both families' in one line "
		    "(default-gateway GW4 GW6)", p->default_gw_loc.line);
		return -1;
	}
	p->default_gw_loc = at;
	if (ps->tok.type != T_WORD)
		return expected(ps, "a gateway's or a gateway-group's name");
	while (ps->tok.type == T_WORD) {
		struct gw_ref *ref;

		if (n == 2) {
			diag_error(&p->diags, ps->tok.loc, "default-gateway "
			    "names one gateway or group a family: two at most");
			return -1;
		}
		ref = &p->default_gw[n++];
		ref->loc = ps->tok.loc;
		if ((ref->name = take_name(ps, "gateway or gateway-group "
		    "name")) == NULL)
			return -1;
		if (n == 2 && strcmp(p->default_gw[0].name, ref->name) == 0) {
			diag_error(&p->diags, ref->loc, "%s is named twice",
			    ref->name);
			ref->name = NULL;
			return -1;
		}
	}
	return 0;
}

static int
parse_statement(struct parser *ps)
{
	const char *near;

	if (ps->builtin && !is_kw(ps, "service"))
		return expected(ps, "service");
	if (is_kw(ps, "interface"))
		return parse_interface(ps);
	if (is_kw(ps, "object"))
		return parse_object(ps);
	if (is_kw(ps, "service"))
		return parse_service(ps);
	if (is_kw(ps, "accept") || is_kw(ps, "deny") || is_kw(ps, "reject"))
		return parse_rule(ps);
	if (is_kw(ps, "nat"))
		return parse_nat(ps);
	if (is_kw(ps, "forward"))
		return parse_forward(ps);
	if (is_kw(ps, "anti-lockout"))
		return parse_switch(ps, &ps->p->anti_lockout,
		    &ps->lockout_line);
	if (is_kw(ps, "firewall"))
		return parse_switch(ps, &ps->p->firewall, &ps->firewall_line);
	if (is_kw(ps, "antivirus"))
		return parse_antivirus(ps);
	if (is_kw(ps, "logging"))
		return parse_logging(ps);
	if (is_kw(ps, "console"))
		return parse_console(ps);
	if (is_kw(ps, "ha"))
		return parse_ha(ps);
	if (is_kw(ps, "dns-min-ttl") || is_kw(ps, "dns-max-ttl") ||
	    is_kw(ps, "geoip-database"))
		return parse_feed_setting(ps);
	if (is_kw(ps, "schedule"))
		return parse_schedule(ps);
	if (is_kw(ps, "gateway"))
		return parse_gateway(ps);
	if (is_kw(ps, "gateway-group"))
		return parse_gwgroup(ps);
	if (is_kw(ps, "default-gateway"))
		return parse_default_gw(ps);
	if (ps->tok.type != T_WORD)
		return expected(ps, "a statement (interface, object, service, "
		    "a rule, nat, forward, anti-lockout, firewall, antivirus, "
		    "logging, console, ha, dns-min-ttl, dns-max-ttl, "
		    "geoip-database, schedule, gateway, gateway-group or "
		    "default-gateway)");
	near = nearest_name(ps->tok.text, statements, NELEM(statements));
	diag_error(&ps->p->diags, ps->tok.loc, "unknown statement '%s'%s%s%s",
	    ps->tok.text, near ? "; did you mean " : "", near ? near : "",
	    near ? "?" : "");
	return -1;
}

int
parser_run(struct policy *p, const char *file, const char *text, size_t len,
    bool builtin)
{
	struct parser *ps = arena_alloc(&p->arena, sizeof(*ps));
	size_t errors = p->diags.nerrors;

	ps->p = p;
	ps->builtin = builtin;
	lexer_init(&ps->sc, file, text, len);
	if (!builtin && policy_object(p, "ANY") == NULL) {
		struct loc none = { file, 0, 0 };

		new_builtin_object(ps, "ANY", OBJ_ANY, NULL, none);
	}
	next(ps);
	for (;;) {
		skip_newlines(ps);
		if (ps->tok.type == T_EOF)
			break;
		if (parse_statement(ps) == 0 && ps->tok.type != T_NEWLINE &&
		    ps->tok.type != T_EOF)
			expected(ps, "end of line");
		if (diags_full(&p->diags))
			break;
		recover(ps);
	}
	return p->diags.nerrors == errors ? 0 : -1;
}
