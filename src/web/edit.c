/*
 * edit.c: see edit.h.  Each change works on the config in canonical form
 * (printer_policy): the line of the thing changed is added, replaced,
 * removed or moved, and the whole text handed back.  Names, addresses and
 * words are let through only when they could not end the statement or
 * start another (plain_word); the parent parses the result all the same.
 */
#include "web/edit.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output/printer.h"
#include "policy/load.h"

static const char *
str(json_t *req, const char *k)
{
	return json_string_value(json_object_get(req, k));
}

static void
fail(struct edit_result *r, int status, const char *fmt, ...)
{
	va_list ap;

	r->status = status;
	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
	va_end(ap);
}

/* ---- rules, in the seed's vocabulary ------------------------------------ */

/* A name or an address as the language writes it: nothing that could
 * end the rule or start another (no spaces, braces, quotes, newlines). */
static bool
plain_word(const char *s)
{
	const char *p;

	if (s == NULL || *s == '\0' || strlen(s) > 100)
		return false;
	for (p = s; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("_-.:/", *p) != NULL))
			return false;
	return true;
}

/* Where the bytes of b from start on were written: field (index), on
 * the line r will say. */
static void
span_add(struct edit_result *r, const struct strbuf *b, size_t start,
    const char *field, int index)
{
	struct edit_span *sp;

	if (r == NULL || r->nspans == EDIT_SPANS_MAX || b->len <= start)
		return;
	sp = &r->spans[r->nspans++];
	sp->lo = (unsigned)start + 1;
	sp->hi = (unsigned)b->len;
	sp->field = field;
	sp->index = index;
}

/* A list of names or addresses: "X" or "{ X, Y }", each word's place kept
 * as field (index); -1 for an empty list or a word no line could hold. */
static int
put_list(struct strbuf *b, json_t *a, struct edit_result *r,
    const char *field)
{
	json_t *e;
	size_t i, n = json_array_size(a), start, whole = b->len;

	if (n == 0)
		return -1;
	if (n > 1)
		strbuf_puts(b, "{ ");
	json_array_foreach(a, i, e) {
		if (!plain_word(json_string_value(e)))
			return -1;
		strbuf_puts(b, i > 0 ? ", " : "");
		start = b->len;
		strbuf_puts(b, json_string_value(e));
		span_add(r, b, start, field, (int)i);
	}
	if (n > 1)
		strbuf_puts(b, " }");
	span_add(r, b, whole, field, -1);	/* its braces */
	return 0;
}

/* "from" or "to": {"match": "include"|"exclude", "addresses": [...]}
 * (none: ANY); with r, where each address went (as field: an object's
 * members, a nat rule's source or destination). */
static int
side_field(json_t *side, struct strbuf *b, struct edit_result *r,
    const char *field)
{
	json_t *a = json_object_get(side, "addresses");
	const char *match = json_string_value(json_object_get(side, "match"));
	size_t n = json_array_size(a), whole = b->len;

	if (match != NULL && strcmp(match, "exclude") == 0)
		strbuf_putc(b, '!');
	else if (match != NULL && strcmp(match, "include") != 0)
		return -1;
	if (n == 0) {
		strbuf_puts(b, "ANY");
		return 0;
	}
	if (put_list(b, a, r, field) == -1)
		return -1;
	span_add(r, b, whole, field, -1);	/* its '!' too */
	return 0;
}

static int
side_text(json_t *side, struct strbuf *b, struct edit_result *r)
{
	return side_field(side, b, r, "members");
}

/* A rule's line from its JSON: action, interface, source, destination,
 * services (names; none: any), schedule (a name; none or null: always),
 * gateway (a gateway or group; none or null: the routes'), log, comment,
 * enabled.  -1 when a field is not one the language could
 * hold. */
static int
rule_text(json_t *r, struct strbuf *b)
{
	const char *action = json_string_value(json_object_get(r, "action"));
	const char *ifc = json_string_value(json_object_get(r, "interface"));
	const char *comment = json_string_value(json_object_get(r, "comment"));
	json_t *sched = json_object_get(r, "schedule");
	json_t *gw = json_object_get(r, "gateway");
	json_t *svc = json_object_get(r, "services"), *e;
	size_t i, n = json_array_size(svc);

	if (action == NULL || (strcmp(action, "accept") != 0 &&
	    strcmp(action, "deny") != 0 && strcmp(action, "reject") != 0) ||
	    !plain_word(ifc))
		return -1;
	strbuf_printf(b, "%s on %s from ", action, ifc);
	if (side_text(json_object_get(r, "source"), b, NULL) == -1)
		return -1;
	strbuf_puts(b, " to ");
	if (side_text(json_object_get(r, "destination"), b, NULL) == -1)
		return -1;
	if (n > 0)
		strbuf_puts(b, n > 1 ? " service { " : " service ");
	json_array_foreach(svc, i, e) {
		if (!plain_word(json_string_value(e)))
			return -1;
		strbuf_printf(b, "%s%s", i > 0 ? ", " : "",
		    json_string_value(e));
	}
	if (n > 1)
		strbuf_puts(b, " }");
	if (sched != NULL && !json_is_null(sched)) {
		if (!plain_word(json_string_value(sched)))
			return -1;
		strbuf_printf(b, " schedule %s", json_string_value(sched));
	}
	if (gw != NULL && !json_is_null(gw)) {
		if (!plain_word(json_string_value(gw)))
			return -1;
		strbuf_printf(b, " gateway %s", json_string_value(gw));
	}
	if (json_is_true(json_object_get(r, "log")))
		strbuf_puts(b, " log");
	if (comment != NULL && *comment != '\0') {
		const char *p;

		strbuf_puts(b, " comment \"");
		for (p = comment; *p != '\0'; p++) {
			if ((unsigned char)*p < 0x20)
				return -1;
			if (*p == '"' || *p == '\\')
				strbuf_putc(b, '\\');
			strbuf_putc(b, *p);
		}
		strbuf_putc(b, '"');
	}
	if (json_is_false(json_object_get(r, "enabled")))
		strbuf_puts(b, " disabled");
	return 0;
}

struct lines {
	char	**v;
	size_t	  n;
};

static void
lines_free(struct lines *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

static int
lines_insert(struct lines *l, size_t at, const char *s)
{
	char **v = realloc(l->v, (l->n + 1) * sizeof(*v));

	if (v == NULL || (s = strdup(s)) == NULL)
		return -1;
	l->v = v;
	memmove(l->v + at + 1, l->v + at, (l->n - at) * sizeof(*v));
	l->v[at] = (char *)s;
	l->n++;
	return 0;
}

/*
 * Edit the rules of the config: the file in canonical form, one rule's
 * line added (at position, or last), replaced, removed or moved; saved
 * only if it still is the one the editor read (if_match) and the result
 * is valid.
 */
static void
op_rules(const char *op, json_t *req, const char *file, const char *cur,
    size_t len, struct strbuf *out, struct edit_result *r)
{
	json_t *jn = json_object_get(req, "n"), *jto = json_object_get(req, "to"),
	    *jpos = json_object_get(req, "position");
	struct strbuf canon, line;
	struct lines l = { NULL, 0 };
	size_t i, *at = NULL, nrules;
	struct policy *p;
	long long n = json_is_integer(jn) ? json_integer_value(jn) : 0;

	p = policy_parse(file, cur, len);
	if (p == NULL || !policy_valid(p)) {
		policy_free(p);
		fail(r, 422, "the config is not valid: mend it as text first");
		return;
	}
	nrules = p->nrule;
	strbuf_init(&canon, 0);
	strbuf_init(&line, 0);
	printer_policy(p, &canon);
	/* The canonical text's lines, and where each rule's line is. */
	for (const char *s = strbuf_str(&canon); *s != '\0'; ) {
		size_t k = strcspn(s, "\n");
		char *dup = strndup(s, k);

		if (dup == NULL || lines_insert(&l, l.n, dup) == -1) {
			free(dup);
			goto oom;
		}
		free(dup);
		s += k + (s[k] == '\n');
	}
	at = calloc(nrules + 1, sizeof(*at));
	for (i = 0, len = 0; at != NULL && i < nrules; i++) {
		strbuf_reset(&line);
		printer_rule(p->rules[i], &line, true);
		for (; len < l.n && strcmp(l.v[len], strbuf_str(&line)) != 0;
		    len++)
			;
		at[i] = len++;
	}
	policy_free(p);
	p = NULL;
	if (at == NULL)
		goto oom;
	if (strcmp(op, "rules-add") != 0 && (n < 1 || (size_t)n > nrules)) {
		fail(r, 404, "no such rule");
		goto out;
	}
	strbuf_reset(&line);
	if ((strcmp(op, "rules-add") == 0 || strcmp(op, "rules-put") == 0) &&
	    rule_text(json_object_get(req, "rule"), &line) == -1) {
		fail(r, 400, "the rule: action accept, deny or reject; "
		    "interface, addresses and services as names or literals");
		goto out;
	}
	if (strcmp(op, "rules-add") == 0) {
		long long pos = json_is_integer(jpos) ? json_integer_value(jpos) :
		    (long long)nrules + 1;
		size_t where;

		if (pos < 1 || pos > (long long)nrules + 1) {
			fail(r, 400, "position is 1 to the rules + 1");
			goto out;
		}
		where = nrules == 0 ? l.n : (size_t)pos <= nrules ?
		    at[pos - 1] : at[nrules - 1] + 1;
		if (lines_insert(&l, where, strbuf_str(&line)) == -1)
			goto oom;
	} else if (strcmp(op, "rules-put") == 0) {
		char *dup = strdup(strbuf_str(&line));

		if (dup == NULL)
			goto oom;
		free(l.v[at[n - 1]]);
		l.v[at[n - 1]] = dup;
	} else if (strcmp(op, "rules-delete") == 0) {
		free(l.v[at[n - 1]]);
		memmove(l.v + at[n - 1], l.v + at[n - 1] + 1, (l.n - at[n - 1] -
		    1) * sizeof(*l.v));
		l.n--;
	} else {		/* rules-move */
		long long to = json_is_integer(jto) ? json_integer_value(jto) : 0;
		char *moved;

		if (to < 1 || (size_t)to > nrules) {
			fail(r, 400, "to is a rule's number");
			goto out;
		}
		moved = l.v[at[n - 1]];
		l.v[at[n - 1]] = NULL;
		/* The rule lines, in their slots, in the new order. */
		{
			char **order = calloc(nrules, sizeof(*order));
			size_t j, k = 0;

			if (order == NULL)
				goto oom;
			for (j = 0; j < nrules; j++)
				if (l.v[at[j]] != NULL)
					order[k++] = l.v[at[j]];
			memmove(order + to, order + to - 1, (nrules - (size_t)to) *
			    sizeof(*order));
			order[to - 1] = moved;
			for (j = 0; j < nrules; j++)
				l.v[at[j]] = order[j];
			free(order);
		}
	}
	for (i = 0; i < l.n; i++)
		strbuf_printf(out, "%s\n", l.v[i]);
	r->status = 200;
	goto out;
oom:
	fail(r, 500, "out of memory");
out:
	policy_free(p);
	lines_free(&l);
	free(at);
	strbuf_free(&canon);
	strbuf_free(&line);
}

/* ---- objects and services ----------------------------------------------- */

/* A service's protocols: [{"protocol": "tcp", "ports": ["25", "8000-8100"]},
 * {"protocol": "icmp", "types": ["echo-request"]}, {"protocol": "gre"}]. */
static int
service_text(json_t *entries, struct strbuf *b)
{
	json_t *e, *v, *list;
	size_t i, j;

	if (!json_is_array(entries) || json_array_size(entries) == 0)
		return -1;
	json_array_foreach(entries, i, e) {
		const char *proto = json_string_value(json_object_get(e,
		    "protocol"));

		if (!plain_word(proto))
			return -1;
		strbuf_printf(b, " %s", proto);
		list = json_object_get(e, "ports");
		if (list == NULL)
			list = json_object_get(e, "types");
		json_array_foreach(list, j, v) {
			if (!plain_word(json_string_value(v)))
				return -1;
			strbuf_printf(b, "%s%s", j == 0 ? " " : ",",
			    json_string_value(v));
		}
	}
	return 0;
}

/* The config in canonical form into canon: 0, or -1 (422) when it is not
 * valid. */
static int
canonical(const char *file, const char *cur, size_t len,
    struct strbuf *canon, struct edit_result *r)
{
	struct policy *p = policy_parse(file, cur, len);

	if (p == NULL || !policy_valid(p)) {
		policy_free(p);
		fail(r, 422, "the config is not valid: mend it as text first");
		return -1;
	}
	printer_policy(p, canon);
	policy_free(p);
	return 0;
}

/* canon's lines into text, line at (0-based) replaced by line, or
 * removed (del); with at SIZE_MAX, line added after line last (or at the
 * end when last is SIZE_MAX too).  The line line went to (from 1), or 0
 * when removed. */
static unsigned
rewrite_lines(const struct strbuf *canon, size_t at, size_t last,
    const char *line, bool del, struct strbuf *text)
{
	const char *s, *nl;
	size_t i, n, out = 0;
	unsigned written = 0;

	for (s = strbuf_str(canon), i = 0; *s != '\0'; s = nl + 1, i++) {
		nl = strchr(s, '\n');
		n = nl != NULL ? (size_t)(nl - s) : strlen(s);
		if (i == at) {
			if (!del) {
				strbuf_printf(text, "%s\n", line);
				written = (unsigned)++out;
			}
		} else {
			strbuf_printf(text, "%.*s\n", (int)n, s);
			out++;
		}
		if (at == SIZE_MAX && !del && i == last) {
			strbuf_printf(text, "%s\n", line);
			written = (unsigned)++out;
		}
		if (nl == NULL)
			break;
	}
	if (at == SIZE_MAX && !del && last == SIZE_MAX) {
		strbuf_printf(text, "%s\n", line);
		written = (unsigned)++out;
	}
	return written;
}

enum named { NAMED_OBJECT, NAMED_SERVICE, NAMED_INTERFACE, NAMED_NAT,
	NAMED_GATEWAY, NAMED_GWGROUP };

/* A whole number in [lo, hi] from JSON, or -1. */
static long long
json_range(json_t *v, long long lo, long long hi)
{
	long long n;

	if (!json_is_integer(v))
		return -1;
	n = json_integer_value(v);
	return n >= lo && n <= hi ? n : -1;
}

/* A gateway's line after "gateway NAME": on IF via ADDR, and monitor,
 * loss (percent) and latency (ms) when given.  The parser judges the
 * addresses and the interface, at their columns. */
static int
gateway_text(json_t *req, struct strbuf *b)
{
	const char *ifc = str(req, "interface"), *via = str(req, "via");
	const char *mon = str(req, "monitor");
	json_t *loss = json_object_get(req, "loss");
	json_t *lat = json_object_get(req, "latency");

	if (!plain_word(ifc) || !plain_word(via) || (mon != NULL &&
	    *mon != '\0' && !plain_word(mon)))
		return -1;
	strbuf_printf(b, " on %s via %s", ifc, via);
	if (mon != NULL && *mon != '\0')
		strbuf_printf(b, " monitor %s", mon);
	if (loss != NULL && !json_is_null(loss)) {
		if (json_range(loss, 1, 100) == -1)
			return -1;
		strbuf_printf(b, " loss %lld%%", json_integer_value(loss));
	}
	if (lat != NULL && !json_is_null(lat)) {
		if (json_range(lat, 1, 60000) == -1)
			return -1;
		strbuf_printf(b, " latency %lldms", json_integer_value(lat));
	}
	return 0;
}

/* A group's line after "gateway-group NAME": its members, each with its
 * tier when not 1. */
static int
gwgroup_text(json_t *req, struct strbuf *b)
{
	json_t *a = json_object_get(req, "members"), *e;
	size_t i;

	if (json_array_size(a) == 0 || json_array_size(a) > GW_MEMBERS_MAX)
		return -1;
	json_array_foreach(a, i, e) {
		const char *gw = str(e, "gateway");
		json_t *tier = json_object_get(e, "tier");

		if (!plain_word(gw))
			return -1;
		strbuf_printf(b, " %s", gw);
		if (tier != NULL && !json_is_null(tier)) {
			if (json_range(tier, 1, 5) == -1)
				return -1;
			if (json_integer_value(tier) != 1)
				strbuf_printf(b, " tier %lld",
				    json_integer_value(tier));
		}
	}
	return 0;
}

/* An interface's line after "interface NAME": device, addresses (or
 * dynamic), default. */
static int
iface_text(json_t *req, struct strbuf *b)
{
	const char *dev = str(req, "device"), *def = str(req, "default");
	json_t *a = json_object_get(req, "addresses"), *e;
	size_t i;

	if (!plain_word(dev) || strlen(dev) > 15)
		return -1;
	strbuf_printf(b, " device %s", dev);
	if (json_is_true(json_object_get(req, "dynamic")))
		strbuf_puts(b, " address dynamic");
	else
		json_array_foreach(a, i, e) {
			if (!plain_word(json_string_value(e)))
				return -1;
			strbuf_printf(b, " address %s", json_string_value(e));
		}
	if (def != NULL) {
		if (strcmp(def, "accept") != 0 && strcmp(def, "deny") != 0 &&
		    strcmp(def, "reject") != 0)
			return -1;
		strbuf_printf(b, " default %s", def);
	}
	return 0;
}

/* A word of a feed object as the lexer reads it back: bare when it is
 * one word, quoted otherwise (the parser then says what is wrong with
 * it, at its column).  -1 for what no line can hold (a control
 * character, over a string's length). */
static int
put_token(struct strbuf *b, const char *s)
{
	const char *p;
	bool bare;

	if (s == NULL || *s == '\0' || strlen(s) > 1024)
		return -1;
	for (p = s, bare = true; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return -1;
		if (*p == ' ' || (unsigned char)*p >= 0x80 ||
		    strchr("{},!\"#", *p) != NULL)
			bare = false;
	}
	if (bare && strlen(s) <= 255) {
		strbuf_puts(b, s);
		return 0;
	}
	strbuf_putc(b, '"');
	for (p = s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			strbuf_putc(b, '\\');
		strbuf_putc(b, *p);
	}
	strbuf_putc(b, '"');
	return 0;
}

/* A url object's refresh or max: seconds or a count as moat show --json
 * gives them (a duration as the printer writes it), or a word of the
 * language ("6h"); left out at its default.  -1 for another type. */
static int
put_setting(struct edit_result *r, struct strbuf *b, json_t *v,
    const char *field, long long dflt)
{
	static const struct { long long secs; char unit; } units[] = {
		{ 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' } };
	long long n = json_integer_value(v);
	size_t start, i;

	if (v == NULL || (json_is_integer(v) && n == dflt))
		return 0;
	if (!json_is_integer(v) && !json_is_string(v))
		return -1;
	strbuf_printf(b, " %s ", field);
	start = b->len;
	if (json_is_string(v) && put_token(b, json_string_value(v)) == -1)
		return -1;
	if (json_is_integer(v) && strcmp(field, "refresh") == 0 && n > 0) {
		for (i = 0; n % units[i].secs != 0; i++)
			;
		strbuf_printf(b, "%lld%c", n / units[i].secs, units[i].unit);
	} else if (json_is_integer(v))
		strbuf_printf(b, "%lld", n);
	span_add(r, b, start, field, -1);
	return 0;
}

/* A feed object's hosts or countries: each a word, in order. */
static int
put_names(struct edit_result *r, struct strbuf *b, json_t *a,
    const char *field)
{
	json_t *e;
	size_t i, start;

	if (!json_is_array(a) || json_array_size(a) == 0)
		return -1;
	json_array_foreach(a, i, e) {
		strbuf_putc(b, ' ');
		start = b->len;
		if (put_token(b, json_string_value(e)) == -1)
			return -1;
		span_add(r, b, start, field, (int)i);
	}
	return 0;
}

/*
 * An object's line after "object NAME ", as moat show --json gives the
 * object: {"members": SIDE} (addresses), {"kind": "fqdn", "hosts":
 * [...]}, {"kind": "url", "url", "refresh", "max"}, {"kind": "country",
 * "countries": [...]}.  Where each field went is kept in r; -1 (400,
 * with the field) for a field no line could hold.  What the values mean
 * (a host name, a URL moat fetches, a duration in range, a country code)
 * the parent's parse says, at its column.
 */
static int
object_text(json_t *req, struct strbuf *b, struct edit_result *r)
{
	const char *kind = str(req, "kind");
	size_t start;

	if (kind == NULL || strcmp(kind, "address") == 0) {
		if (json_array_size(json_object_get(json_object_get(req,
		    "members"), "addresses")) > 0 && side_text(json_object_get(
		    req, "members"), b, r) == 0)
			return 0;
		r->field = "members";
		fail(r, 400, "members: {addresses: [...]}, at least one");
		return -1;
	}
	if (strcmp(kind, "fqdn") == 0 || strcmp(kind, "country") == 0) {
		const char *field = kind[0] == 'f' ? "hosts" : "countries";

		strbuf_puts(b, kind);
		if (put_names(r, b, json_object_get(req, field), field) == 0)
			return 0;
		r->field = field;
		fail(r, 400, "%s: [%s, ...], at least one, each a word", field,
		    kind[0] == 'f' ? "HOST" : "CC");
		return -1;
	}
	if (strcmp(kind, "url") == 0) {
		strbuf_puts(b, "url ");
		start = b->len;
		if (put_token(b, str(req, "url")) == -1) {
			r->field = "url";
			fail(r, 400, "url: the list's URL (https://... or "
			    "file:///...)");
			return -1;
		}
		span_add(r, b, start, "url", -1);
		if (put_setting(r, b, json_object_get(req, "refresh"), "refresh",
		    FEED_REFRESH_DEFAULT) == -1) {
			r->field = "refresh";
			fail(r, 400, "refresh: seconds, or a duration (6h)");
			return -1;
		}
		if (put_setting(r, b, json_object_get(req, "max"), "max",
		    FEED_MAX_DEFAULT) == -1) {
			r->field = "max";
			fail(r, 400, "max: a number of entries");
			return -1;
		}
		return 0;
	}
	r->field = "kind";
	fail(r, 400, "kind: address, fqdn, url or country");
	return -1;
}

/*
 * PUT objects/NAME {"members": [...]}, services/NAME {"entries": [...]},
 * interfaces/NAME, nat/NAME, DELETE of any: the statement's line in the
 * canonical text replaced, added (after the last of its kind) or removed.
 */
static void
op_named(json_t *req, enum named kind, bool del, const char *file,
    const char *cur, size_t len, struct strbuf *out, struct edit_result *r)
{
	static const char *const kws[] = { "object ", "service ", "interface ",
	    "nat masquerade on ", "gateway ", "gateway-group " };
	static const char *const what[] = { "object", "service", "interface",
	    "nat", "gateway", "gateway group" };
	const char *name = str(req, "name");
	const char *kw = kws[kind];
	struct strbuf canon, line;
	size_t i, at = SIZE_MAX, last = SIZE_MAX;
	char *s, *nl;

	if (!plain_word(name) || strchr(name, '/') != NULL ||
	    strchr(name, ':') != NULL) {
		fail(r, 400, "not a name");
		return;
	}
	strbuf_init(&canon, 0);
	strbuf_init(&line, 0);
	if (canonical(file, cur, len, &canon, r) == -1)
		goto out;
	if (!del) {
		int rc = 0;

		strbuf_puts(&line, kw);
		strbuf_puts(&line, name);
		if (kind == NAMED_OBJECT) {
			span_add(r, &line, strlen(kw), "name", -1);
			strbuf_putc(&line, ' ');
			if (object_text(req, &line, r) == -1)
				goto out;
		}
		if (kind == NAMED_SERVICE)
			rc = service_text(json_object_get(req, "entries"),
			    &line);
		else if (kind == NAMED_INTERFACE)
			rc = iface_text(req, &line);
		else if (kind == NAMED_GATEWAY)
			rc = gateway_text(req, &line);
		else if (kind == NAMED_GWGROUP)
			rc = gwgroup_text(req, &line);
		if (rc == -1) {
			fail(r, 400, "%s", kind == NAMED_SERVICE ? "entries: "
			    "[{protocol, ports or types}]" : kind ==
			    NAMED_INTERFACE ? "device, addresses or dynamic, "
			    "default" : kind == NAMED_GATEWAY ? "interface, "
			    "via, and monitor, loss (1-100), latency (1-60000) "
			    "when given" : kind == NAMED_GWGROUP ? "members: "
			    "[{gateway, tier (1-5)}], 1 to 16" : "members: "
			    "{addresses: [...]}, at least one");
			goto out;
		}
	}
	/* Find NAME's line, and the last line of its kind. */
	for (s = canon.s, i = 0; s != NULL && *s != '\0'; s = nl + 1, i++) {
		nl = strchr(s, '\n');
		if (strncmp(s, kw, strlen(kw)) == 0) {
			last = i;
			if (strncmp(s + strlen(kw), name, strlen(name)) == 0 &&
			    (s[strlen(kw) + strlen(name)] == ' ' ||
			    s + strlen(kw) + strlen(name) == nl))
				at = i;
		}
		if (nl == NULL)
			break;
	}
	if (del && at == SIZE_MAX) {
		fail(r, 404, "no such %s", what[kind]);
		goto out;
	}
	r->line = rewrite_lines(&canon, at, last, strbuf_str(&line), del, out);
	if (r->line == 0)
		r->nspans = 0;
	r->status = 200;
out:
	strbuf_free(&canon);
	strbuf_free(&line);
}

/*
 * Port forwards, by number: POST adds one (after the last), PUT replaces
 * forward N, DELETE removes it.  {"interface", "services": [...], "to":
 * [ADDRESS or OBJECT, ...], "reflection": false (optional, default true)}.
 */
static void
op_forward(const char *op, json_t *req, const char *file, const char *cur,
    size_t len, struct strbuf *out, struct edit_result *r)
{
	const char *kw = "forward on ";
	json_t *jn = json_object_get(req, "n");
	long long n = json_is_integer(jn) ? json_integer_value(jn) : 0;
	bool add = strcmp(op, "forward-add") == 0;
	bool del = strcmp(op, "forward-delete") == 0;
	struct strbuf canon, line;
	size_t i, k = 0, at = SIZE_MAX, last = SIZE_MAX;
	char *s, *nl;

	strbuf_init(&canon, 0);
	strbuf_init(&line, 0);
	if (canonical(file, cur, len, &canon, r) == -1)
		goto out;
	if (!del) {
		json_t *to = json_object_get(req, "to"), *svc = json_object_get(
		    req, "services"), *e;
		const char *ifc = str(req, "interface");

		if (!plain_word(ifc) || json_array_size(svc) == 0 ||
		    json_array_size(to) == 0) {
			fail(r, 400, "interface, services and to are needed");
			goto out;
		}
		strbuf_printf(&line, "forward on %s service ", ifc);
		if (json_array_size(svc) > 1)
			strbuf_puts(&line, "{ ");
		json_array_foreach(svc, i, e) {
			if (!plain_word(json_string_value(e))) {
				fail(r, 400, "services: names");
				goto out;
			}
			strbuf_printf(&line, "%s%s", i > 0 ? ", " : "",
			    json_string_value(e));
		}
		strbuf_puts(&line, json_array_size(svc) > 1 ? " } to " : " to ");
		{
			json_t *side = json_pack("{s:O}", "addresses", to);
			int rc = side != NULL ? side_text(side, &line, NULL) :
			    -1;

			json_decref(side);
			if (rc == -1) {
				fail(r, 400, "to: an address or an object");
				goto out;
			}
		}
		if (json_is_false(json_object_get(req, "reflection")))
			strbuf_puts(&line, " reflection off");
	}
	for (s = canon.s, i = 0; s != NULL && *s != '\0'; s = nl + 1, i++) {
		nl = strchr(s, '\n');
		if (strncmp(s, kw, strlen(kw)) == 0) {
			last = i;
			if (++k == (size_t)n)
				at = i;
		}
		if (nl == NULL)
			break;
	}
	if (!add && at == SIZE_MAX) {
		fail(r, 404, "no such port forward");
		goto out;
	}
	rewrite_lines(&canon, at, last, strbuf_str(&line), del, out);
	r->status = 200;
out:
	strbuf_free(&canon);
	strbuf_free(&line);
}

/* ---- nat source and nat one-to-one, by number --------------------------- */


/* The interface a nat line is on. */
static int
put_on(struct strbuf *b, json_t *req, struct edit_result *r)
{
	size_t start;

	if (!plain_word(str(req, "interface"))) {
		r->field = "interface";
		fail(r, 400, "interface: an interface's name");
		return -1;
	}
	strbuf_puts(b, " on ");
	start = b->len;
	strbuf_puts(b, str(req, "interface"));
	span_add(r, b, start, "interface", -1);
	return 0;
}

/*
 * A nat source line from {"interface", "source": SIDE, "destination":
 * SIDE (optional: any), "services": [NAME, ...] (optional: any),
 * "translate": "masquerade" | "none" | [ADDRESS, ...]} (moat show
 * --json's shape), where each field went kept in r.
 */
static int
nat_source_text(json_t *req, struct strbuf *b, struct edit_result *r)
{
	json_t *dst = json_object_get(req, "destination");
	json_t *svc = json_object_get(req, "services");
	json_t *to = json_object_get(req, "translate");
	size_t start;

	strbuf_puts(b, "nat source");
	if (put_on(b, req, r) == -1)
		return -1;
	strbuf_puts(b, " from ");
	if (!json_is_object(json_object_get(req, "source")) ||
	    side_field(json_object_get(req, "source"), b, r, "source") == -1) {
		r->field = "source";
		fail(r, 400, "source: {match, addresses: [...]}");
		return -1;
	}
	if (dst != NULL && !json_is_null(dst) && json_array_size(
	    json_object_get(dst, "addresses")) > 0) {
		strbuf_puts(b, " to ");
		if (side_field(dst, b, r, "destination") == -1) {
			r->field = "destination";
			fail(r, 400, "destination: {match, addresses: [...]}");
			return -1;
		}
	}
	/* moat show --json's {"match": "selected", "names"} too */
	if (json_is_object(svc))
		svc = json_object_get(svc, "names");
	if (json_array_size(svc) > 0) {
		strbuf_puts(b, " service ");
		if (put_list(b, svc, r, "services") == -1) {
			r->field = "services";
			fail(r, 400, "services: names");
			return -1;
		}
	}
	strbuf_puts(b, " translate ");
	start = b->len;
	if (json_is_string(to) && (strcmp(json_string_value(to),
	    "masquerade") == 0 || strcmp(json_string_value(to), "none") == 0)) {
		strbuf_puts(b, json_string_value(to));
		span_add(r, b, start, "translate", -1);
		return 0;
	}
	if (json_is_string(to)) {
		json_t *one = json_pack("[O]", to);
		int rc = put_list(b, one, r, "translate");

		json_decref(one);
		if (rc == 0)
			return 0;
	} else if (put_list(b, to, r, "translate") == 0)
		return 0;
	r->field = "translate";
	fail(r, 400, "translate: \"masquerade\", \"none\" or [ADDRESS, ...] "
	    "(one IPv4 and/or one IPv6)");
	return -1;
}

/* A nat one-to-one line from {"interface", "public", "inside" (each an
 * address, a network or a range, or moat show --json's list of one),
 * "reflection": false (optional, default true)}. */
static int
nat_one_text(json_t *req, struct strbuf *b, struct edit_result *r)
{
	static const char *const fields[] = { "public", "inside" };
	size_t i, start;

	strbuf_puts(b, "nat one-to-one");
	if (put_on(b, req, r) == -1)
		return -1;
	for (i = 0; i < 2; i++) {
		json_t *v = json_object_get(req, fields[i]);
		const char *w = json_string_value(v);

		if (json_is_array(v) && json_array_size(v) == 1)
			w = json_string_value(json_array_get(v, 0));
		if (!plain_word(w)) {
			r->field = fields[i];
			fail(r, 400, "%s: an address, a network or a range",
			    fields[i]);
			return -1;
		}
		strbuf_puts(b, i == 0 ? " " : " to ");
		start = b->len;
		strbuf_puts(b, w);
		span_add(r, b, start, fields[i], -1);
	}
	if (json_is_false(json_object_get(req, "reflection")))
		strbuf_puts(b, " reflection off");
	else if (json_object_get(req, "reflection") != NULL &&
	    !json_is_true(json_object_get(req, "reflection"))) {
		r->field = "reflection";
		fail(r, 400, "reflection: true or false");
		return -1;
	}
	return 0;
}

/*
 * The numbered nat lines, nat source (add at a position, put, delete,
 * move) and nat one-to-one (add, put, delete): op is "nat-source-add",
 * ..., "one-to-one-delete".  The line's number is its place among the
 * lines of its kind in the canonical text (moat show --json's number).
 */
static void
op_numbered(const char *op, json_t *req, const char *file, const char *cur,
    size_t len, struct strbuf *out, struct edit_result *r)
{
	bool one = strncmp(op, "one-to-one-", 11) == 0;
	const char *verb = op + 11;	/* after "one-to-one-", "nat-source-" */
	const char *kw = one ? "nat one-to-one on " : "nat source on ";
	const char *what = one ? "nat one-to-one line" : "nat source rule";
	json_t *jn = json_object_get(req, "n");
	long long n = json_is_integer(jn) ? json_integer_value(jn) : 0;
	struct strbuf canon, line;
	struct lines l = { NULL, 0 };
	size_t i, k = 0, *at = NULL, where;
	const char *s;

	strbuf_init(&canon, 0);
	strbuf_init(&line, 0);
	if (canonical(file, cur, len, &canon, r) == -1)
		goto out;
	if ((at = calloc(canon.len + 1, sizeof(*at))) == NULL)
		goto oom;
	for (s = strbuf_str(&canon); *s != '\0'; ) {
		size_t w = strcspn(s, "\n");
		char *dup = strndup(s, w);

		if (dup == NULL || lines_insert(&l, l.n, dup) == -1) {
			free(dup);
			goto oom;
		}
		free(dup);
		if (strncmp(s, kw, strlen(kw)) == 0)
			at[k++] = l.n - 1;
		s += w + (s[w] == '\n');
	}
	if (strcmp(verb, "add") != 0 && (n < 1 || (size_t)n > k)) {
		fail(r, 404, "no such %s", what);
		goto out;
	}
	if ((strcmp(verb, "add") == 0 || strcmp(verb, "put") == 0) &&
	    (one ? nat_one_text(req, &line, r) :
	    nat_source_text(req, &line, r)) == -1)
		goto out;
	if (strcmp(verb, "add") == 0) {
		json_t *jpos = json_object_get(req, "position");
		long long pos = json_is_integer(jpos) ?
		    json_integer_value(jpos) : (long long)k + 1;

		if ((one && jpos != NULL) || pos < 1 ||
		    pos > (long long)k + 1) {
			r->field = "position";
			fail(r, 400, one ? "a nat one-to-one line takes no "
			    "position" : "position is 1 to the rules + 1");
			goto out;
		}
		/* Before rule pos, else after the last of its kind, else
		 * last: their order counts only among themselves. */
		where = (size_t)pos <= k ? at[pos - 1] : k > 0 ?
		    at[k - 1] + 1 : l.n;
		if (lines_insert(&l, where, strbuf_str(&line)) == -1)
			goto oom;
		r->line = (unsigned)where + 1;
	} else if (strcmp(verb, "put") == 0) {
		char *dup = strdup(strbuf_str(&line));

		if (dup == NULL)
			goto oom;
		free(l.v[at[n - 1]]);
		l.v[at[n - 1]] = dup;
		r->line = (unsigned)at[n - 1] + 1;
	} else if (strcmp(verb, "delete") == 0) {
		free(l.v[at[n - 1]]);
		memmove(l.v + at[n - 1], l.v + at[n - 1] + 1, (l.n - at[n - 1] -
		    1) * sizeof(*l.v));
		l.n--;
	} else {		/* move: the lines of its kind, in their slots */
		json_t *jto = json_object_get(req, "to");
		long long to = json_is_integer(jto) ? json_integer_value(jto) :
		    0;
		char *moved = l.v[at[n - 1]];

		if (to < 1 || (size_t)to > k) {
			r->field = "to";
			fail(r, 400, "to is a nat source rule's number");
			goto out;
		}
		if (to < n)
			for (i = (size_t)n - 1; i > (size_t)to - 1; i--)
				l.v[at[i]] = l.v[at[i - 1]];
		else
			for (i = (size_t)n - 1; i < (size_t)to - 1; i++)
				l.v[at[i]] = l.v[at[i + 1]];
		l.v[at[to - 1]] = moved;
	}
	for (i = 0; i < l.n; i++)
		strbuf_printf(out, "%s\n", l.v[i]);
	if (r->line == 0)
		r->nspans = 0;
	r->status = 200;
	goto out;
oom:
	fail(r, 500, "out of memory");
out:
	lines_free(&l);
	free(at);
	strbuf_free(&canon);
	strbuf_free(&line);
}

/* ---- the Gateway Anti-Virus, by the seed's names ---------------------- */

static bool
plain_text(const char *s, size_t max)
{
	if (s == NULL || *s == '\0' || strlen(s) > max)
		return false;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == '"' || *s == '\\')
			return false;
	return true;
}

/* ignore_signatures: plain ClamAV names, into p's arena (the parent
 * checks the whole config again).  0, or -1 on a name that is not one. */
static int
take_names(struct policy *p, json_t *a, struct antivirus *av)
{
	size_t i, n = json_array_size(a);
	char **v = n > 0 ? arena_alloc(&p->arena, n * sizeof(*v)) : NULL;

	for (i = 0; i < n; i++) {
		const char *name = json_string_value(json_array_get(a, i));

		if (!plain_word(name) || strchr(name, ':') != NULL ||
		    strchr(name, '/') != NULL)
			return -1;
		v[i] = (char *)name;
	}
	av->ignore_sigs = v;
	av->nignore_sigs = (unsigned)n;
	return 0;
}

/* smtp-intercept-tls by its name.  0, or -1 for one that is not. */
static int
take_intercept_tls(const char *s, struct antivirus *av)
{
	static const enum av_tls_intercept v[] = { AV_TLS_TERMINATE,
	    AV_TLS_PASSTHROUGH, AV_TLS_STRIP };
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (strcmp(s, policy_av_intercept_tls_name(v[i])) == 0) {
			av->intercept_tls = v[i];
			return 0;
		}
	return -1;
}

/* smtp-tls-upstream by its name.  0, or -1 for one that is not. */
static int
take_tls_upstream(const char *s, struct antivirus *av)
{
	enum av_tls_upstream u;

	for (u = AV_TLS_UP_NONE; u <= AV_TLS_UP_VERIFY; u++)
		if (strcmp(s, policy_av_tls_upstream_name(u)) == 0) {
			av->tls_upstream = u;
			return 0;
		}
	return -1;
}

/*
 * PUT antivirus: the settings given (the rest kept; a config without an
 * antivirus block gets one with the defaults), in canonical form.
 */
static void
op_antivirus(json_t *req, const char *file, const char *cur, size_t len,
    struct strbuf *out, struct edit_result *r)
{
	json_t *set = json_object_get(req, "settings"), *v;
	const char *key;
	struct strbuf text;
	struct policy *p;
	bool bad = false;

	if (!json_is_object(set)) {
		fail(r, 400, "settings: an object");
		return;
	}
	strbuf_init(&text, 0);
	strbuf_add(&text, cur, len);
	p = policy_parse(file, strbuf_str(&text), text.len);
	if (p != NULL && policy_valid(p) && !p->av.present) {
		/* The block with its defaults, then the settings. */
		policy_free(p);
		strbuf_puts(&text, "\nantivirus {\n}\n");
		p = policy_parse(file, strbuf_str(&text), text.len);
	}
	strbuf_free(&text);
	if (p == NULL || !policy_valid(p)) {
		policy_free(p);
		fail(r, 422, "the config is not valid: mend it as text first");
		return;
	}
	json_object_foreach(set, key, v) {
		struct antivirus *av = &p->av;

		if (strcmp(key, "smtp_other_scanning") == 0 && json_is_boolean(v))
			av->other_scanning = json_is_true(v);
		else if (strcmp(key, "smtp_local_scanning") == 0 &&
		    json_is_boolean(v))
			av->local_scanning = json_is_true(v);
		else if (strcmp(key, "smtp_outgoing_scanning") == 0 &&
		    json_is_boolean(v))
			av->outgoing_scanning = json_is_true(v);
		else if (strcmp(key, "smtp_keep_client_address") == 0 &&
		    json_is_boolean(v))
			av->keep_client_address = json_is_true(v);
		else if (strcmp(key, "on_scan_failure") == 0 &&
		    json_is_string(v) && (strcmp(json_string_value(v),
		    "tempfail") == 0 || strcmp(json_string_value(v), "pass") ==
		    0))
			av->fail_pass = strcmp(json_string_value(v), "pass") == 0;
		else if (strcmp(key, "max_message_size") == 0 &&
		    json_is_integer(v) && json_integer_value(v) >= 1 &&
		    json_integer_value(v) <= (4ll << 30))
			av->max_size = (uint64_t)json_integer_value(v);
		else if (strcmp(key, "smtp_relay_to") == 0 &&
		    plain_word(json_string_value(v)))
			av->relay_to = (char *)json_string_value(v);
		else if (strcmp(key, "engine") == 0 && json_is_string(v) &&
		    (strcmp(json_string_value(v), "clamav") == 0 ||
		    strcmp(json_string_value(v), "clamd") == 0))
			av->engine = strcmp(json_string_value(v), "clamav") == 0 ?
			    AV_CLAMAV : AV_CLAMD;
		else if (strcmp(key, "engine_path") == 0 &&
		    plain_text(json_string_value(v), 1000))
			av->engine_path = (char *)json_string_value(v);
		else if (strcmp(key, "signature_reload") == 0 &&
		    json_is_string(v) && (strcmp(json_string_value(v),
		    "auto") == 0 || strcmp(json_string_value(v),
		    "concurrent") == 0 || strcmp(json_string_value(v),
		    "blocking") == 0))
			av->reload = strcmp(json_string_value(v), "auto") == 0 ?
			    AV_RELOAD_AUTO : strcmp(json_string_value(v),
			    "concurrent") == 0 ? AV_RELOAD_CONCURRENT :
			    AV_RELOAD_BLOCKING;
		else if (strcmp(key, "scan_timeout") == 0 &&
		    json_is_integer(v) && json_integer_value(v) >= 1 &&
		    json_integer_value(v) <= 3600)
			av->scan_timeout = (unsigned)json_integer_value(v);
		else if (strcmp(key, "ignore_signatures") == 0 &&
		    json_is_array(v) && json_array_size(v) <= AV_IGNORE_MAX)
			bad |= take_names(p, v, av) == -1;
		else if (strcmp(key, "smtp_intercept_tls") == 0 &&
		    json_is_string(v))
			bad |= take_intercept_tls(json_string_value(v), av) ==
			    -1;
		else if (strcmp(key, "smtp_tls_upstream") == 0 &&
		    json_is_string(v))
			bad |= take_tls_upstream(json_string_value(v), av) ==
			    -1;
		else if (strcmp(key, "smtp_relay_require_tls") == 0 &&
		    json_is_boolean(v))
			av->relay_require_tls = json_is_true(v);
		else if (strcmp(key, "smtp_tls_passthrough_from") == 0 &&
		    (json_is_null(v) || (json_is_string(v) &&
		    *json_string_value(v) == '\0')))
			av->passthrough_from = NULL;
		else if (strcmp(key, "smtp_tls_passthrough_from") == 0 &&
		    plain_word(json_string_value(v)) &&
		    strpbrk(json_string_value(v), ":/") == NULL)
			av->passthrough_from = (char *)json_string_value(v);
		else
			/* The certificate, key, CA file and trust anchor
			 * among them: paths the parent reads as root, so
			 * they are changed in the file, not here (and the
			 * parent would refuse them: policy_privileged_change). */
			bad = true;
	}
	if (bad) {
		policy_free(p);
		fail(r, 400, "settings: smtp_other_scanning, "
		    "smtp_local_scanning, smtp_outgoing_scanning, "
		    "smtp_keep_client_address (booleans), on_scan_failure "
		    "(tempfail, pass), max_message_size (bytes), smtp_relay_to "
		    "(HOST:PORT), engine (clamav, clamd), engine_path, "
		    "signature_reload (auto, concurrent, blocking), "
		    "scan_timeout (1 to 3600 s), ignore_signatures (names), "
		    "smtp_intercept_tls (terminate, passthrough, strip), "
		    "smtp_tls_upstream (none, may, dane, verify), "
		    "smtp_relay_require_tls (boolean), "
		    "smtp_tls_passthrough_from (an object's name, or null)");
		return;
	}
	printer_policy(p, out);
	policy_free(p);
	r->status = 200;
}

/*
 * PUT default-gateway {"names": [NAME, ...]}: the default-gateway line
 * replaced, added (at the end) or, with no names, removed (the family's
 * only group is then the default).
 */
static void
op_default_gw(json_t *req, const char *file, const char *cur, size_t len,
    struct strbuf *out, struct edit_result *r)
{
	static const char kw[] = "default-gateway ";
	json_t *a = json_object_get(req, "names"), *e;
	struct strbuf canon, line;
	size_t i, at = SIZE_MAX;
	char *s, *nl;

	if (!json_is_array(a) || json_array_size(a) > 2) {
		fail(r, 400, "names: [a gateway or group per family], at "
		    "most two");
		return;
	}
	strbuf_init(&canon, 0);
	strbuf_init(&line, 0);
	strbuf_puts(&line, "default-gateway");
	json_array_foreach(a, i, e) {
		if (!plain_word(json_string_value(e))) {
			fail(r, 400, "names: gateway or group names");
			goto out;
		}
		strbuf_printf(&line, " %s", json_string_value(e));
	}
	if (canonical(file, cur, len, &canon, r) == -1)
		goto out;
	for (s = canon.s, i = 0; s != NULL && *s != '\0'; s = nl + 1, i++) {
		nl = strchr(s, '\n');
		if (strncmp(s, kw, strlen(kw)) == 0)
			at = i;
		if (nl == NULL)
			break;
	}
	r->line = rewrite_lines(&canon, at, SIZE_MAX, strbuf_str(&line),
	    json_array_size(a) == 0, out);
	r->status = 200;
out:
	strbuf_free(&canon);
	strbuf_free(&line);
}

/* The requests that put or delete one named thing: which, and which way. */
static bool
named_op(const char *op, enum named *kind, bool *del)
{
	static const struct {
		const char	*op;
		enum named	 kind;
		bool		 del;
	} ops[] = {
		{ "object-put", NAMED_OBJECT, false },
		{ "object-delete", NAMED_OBJECT, true },
		{ "service-put", NAMED_SERVICE, false },
		{ "service-delete", NAMED_SERVICE, true },
		{ "interface-put", NAMED_INTERFACE, false },
		{ "interface-delete", NAMED_INTERFACE, true },
		{ "nat-put", NAMED_NAT, false },
		{ "nat-delete", NAMED_NAT, true },
		{ "gateway-put", NAMED_GATEWAY, false },
		{ "gateway-delete", NAMED_GATEWAY, true },
		{ "gwgroup-put", NAMED_GWGROUP, false },
		{ "gwgroup-delete", NAMED_GWGROUP, true },
	};
	size_t i;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (strcmp(op, ops[i].op) == 0) {
			*kind = ops[i].kind;
			*del = ops[i].del;
			return true;
		}
	return false;
}

/* The requests on a numbered nat line. */
static bool
numbered_op(const char *op)
{
	static const char *const ops[] = { "nat-source-add", "nat-source-put",
	    "nat-source-delete", "nat-source-move", "one-to-one-add",
	    "one-to-one-put", "one-to-one-delete" };
	size_t i;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (strcmp(op, ops[i]) == 0)
			return true;
	return false;
}

bool
edit_known(const char *op)
{
	enum named kind;
	bool del;

	return named_op(op, &kind, &del) || strcmp(op, "antivirus") == 0 ||
	    strcmp(op, "default-gateway") == 0 ||
	    strcmp(op, "forward-add") == 0 || strcmp(op, "forward-put") == 0 ||
	    strcmp(op, "forward-delete") == 0 || strcmp(op, "rules-add") == 0 ||
	    strcmp(op, "rules-put") == 0 || strcmp(op, "rules-delete") == 0 ||
	    strcmp(op, "rules-move") == 0 || numbered_op(op);
}

void
edit_mark_fields(const struct edit_result *r, json_t *diagnostics)
{
	json_t *d;
	size_t i, k;

	json_array_foreach(diagnostics, i, d) {
		json_int_t line = json_integer_value(json_object_get(d, "line"));
		json_int_t col = json_integer_value(json_object_get(d,
		    "column"));

		if (r->line == 0 || line != (json_int_t)r->line)
			continue;
		for (k = 0; k < r->nspans; k++)
			if (col >= r->spans[k].lo && col <= r->spans[k].hi)
				break;
		if (k == r->nspans)
			continue;
		json_object_set_new(d, "field", json_string(r->spans[k].field));
		if (r->spans[k].index >= 0)
			json_object_set_new(d, "index",
			    json_integer(r->spans[k].index));
	}
}

/* Comments in the text: a canonical print drops them. */
static bool
has_comments(const char *text, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (text[i] == '#' && (i == 0 || text[i - 1] == '\n' ||
		    text[i - 1] == ' ' || text[i - 1] == '\t'))
			return true;
	return false;
}

void
edit_apply(const char *op, json_t *req, const char *file, const char *text,
    size_t len, struct strbuf *out, struct edit_result *r)
{
	enum named kind;
	bool del;

	memset(r, 0, sizeof(*r));
	if (named_op(op, &kind, &del))
		op_named(req, kind, del, file, text, len, out, r);
	else if (strcmp(op, "antivirus") == 0)
		op_antivirus(req, file, text, len, out, r);
	else if (strcmp(op, "default-gateway") == 0)
		op_default_gw(req, file, text, len, out, r);
	else if (strncmp(op, "forward-", 8) == 0 && edit_known(op))
		op_forward(op, req, file, text, len, out, r);
	else if (strncmp(op, "rules-", 6) == 0 && edit_known(op))
		op_rules(op, req, file, text, len, out, r);
	else if (numbered_op(op))
		op_numbered(op, req, file, text, len, out, r);
	else
		fail(r, 404, "no such change");
	if (r->status == 200 && strbuf_failed(out))
		fail(r, 500, "out of memory");
	r->comments_dropped = r->status == 200 && has_comments(text, len);
}
