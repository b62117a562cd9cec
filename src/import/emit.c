/* emit.c: what the imports share as they write a moat.conf (emit.h). */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/addr.h"
#include "import/emit.h"
#include "policy/load.h"

#define NAME_MAX_LEN	63

void
emit_init(struct emit *e, struct arena *a, struct strbuf *notes)
{
	memset(e, 0, sizeof(*e));
	e->a = a;
	e->notes = notes;
	strbuf_init(&e->s_svc, 0);
}

void
emit_free(struct emit *e)
{
	strbuf_free(&e->s_svc);
}

void
emit_note(struct emit *e, const char *where, const char *fmt, ...)
{
	va_list ap;
	char msg[600];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	strbuf_printf(e->notes, "%s: %s\n", where, msg);
	e->nnotes++;
}

/* s as a moat string: quoted, one line, its quotes and backslashes
 * escaped, control characters made spaces. */
const char *
emit_quote(struct emit *e, const char *s)
{
	struct strbuf b;
	const char *r;
	char *clean = arena_strdup(e->a, s);

	/* moat's strings are UTF-8: a byte of none is a '?' */
	str_clean_utf8(clean);
	s = clean;
	strbuf_init(&b, 0);
	strbuf_putc(&b, '"');
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			strbuf_putc(&b, '\\');
		strbuf_putc(&b, c < 0x20 || c == 0x7f ? ' ' : (char)c);
	}
	strbuf_putc(&b, '"');
	r = arena_strdup(e->a, strbuf_failed(&b) ? "\"\"" : strbuf_str(&b));
	strbuf_free(&b);
	return r;
}

/* A comment line's text: one line, no control characters. */
const char *
emit_oneline(struct emit *e, const char *s)
{
	char *r = arena_strdup(e->a, s), *p;

	for (p = r; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	str_clean_utf8(r);
	return r;
}

bool
emit_name_taken(struct emit *e, const char *n)
{
	size_t i;

	for (i = 0; i < e->nnames; i++)
		if (strcmp(e->names[i], n) == 0)
			return true;
	return false;
}

void
emit_take_name(struct emit *e, const char *n)
{
	ARENA_PUSH(e->a, e->names, e->nnames, e->capnames);
	e->names[e->nnames - 1] = n;
}

/* s made a moat name (letters, digits, _ and -, from a letter or _),
 * unique among the names taken, and taken. */
const char *
emit_name(struct emit *e, const char *s, const char *dflt)
{
	char buf[NAME_MAX_LEN + 1];
	const char *r;
	size_t n = 0;
	int k;

	for (; *s != '\0' && n < NAME_MAX_LEN - 4; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || c == '_' || c == '-')
			buf[n++] = (char)c;
		else if (n > 0 && buf[n - 1] != '_')
			buf[n++] = '_';
	}
	buf[n] = '\0';
	if (n == 0)
		snprintf(buf, sizeof(buf), "%s", dflt);
	else if (!isalpha((unsigned char)buf[0]) && buf[0] != '_') {
		memmove(buf + 1, buf, n + 1);
		buf[0] = '_';
	}
	r = arena_strdup(e->a, buf);
	for (k = 2; emit_name_taken(e, r); k++)
		r = arena_printf(e->a, "%s_%d", buf, k);
	emit_take_name(e, r);
	return r;
}

/* The next member of a list separated by spaces, commas or newlines. */
const char *
emit_word(struct emit *e, const char **p)
{
	const char *s = *p, *end;

	while (*s != '\0' && strchr(" \t\r\n,", *s) != NULL)
		s++;
	if (*s == '\0')
		return NULL;
	for (end = s; *end != '\0' && strchr(" \t\r\n,", *end) == NULL;
	    end++)
		;
	*p = end;
	return arena_strndup(e->a, s, (size_t)(end - s));
}

/* A literal address, network or range in canonical form, with its
 * family; NULL when it is none. */
const char *
emit_literal(struct emit *e, const char *s, int *fam)
{
	struct addr_lit lit;
	char err[120], hint[120], buf[2 * ADDR_STRLEN + 8];

	hint[0] = '\0';
	if (addr_parse_lit(s, false, &lit, err, sizeof(err), hint,
	    sizeof(hint)) == -1) {
		/* pf masks a network's host bits; moat wants them clear */
		if (hint[0] == '\0' || addr_parse_lit(hint, false, &lit, err,
		    sizeof(err), NULL, 0) == -1)
			return NULL;
	}
	addr_lit_format(&lit, buf, sizeof(buf));
	*fam = lit.family;
	return arena_strdup(e->a, buf);
}

static const struct {
	const char	*name;
	const char	*body;
} builtins[] = {
	{ "SMTP", "tcp 25" }, { "SMTPS", "tcp 465" },
	{ "SUBMISSION", "tcp 587" }, { "POP3", "tcp 110" },
	{ "POP3S", "tcp 995" }, { "IMAP", "tcp 143" }, { "IMAPS", "tcp 993" },
	{ "HTTP", "tcp 80" }, { "HTTPS", "tcp 443" },
	{ "DNS", "tcp 53 udp 53" }, { "SSH", "tcp 22" }, { "TELNET", "tcp 23" },
	{ "FTP", "tcp 21" }, { "NTP", "udp 123" }, { "SNMP", "udp 161" },
	{ "SYSLOG", "udp 514" }, { "LDAP", "tcp 389" }, { "LDAPS", "tcp 636" },
	{ "RDP", "tcp 3389" }, { "SMB", "tcp 445" }, { "TFTP", "udp 69" },
	{ "MYSQL", "tcp 3306" }, { "GRE", "gre" }, { "ESP", "esp" },
};

/* The name of a service with this body, declared when new. */
const char *
emit_service(struct emit *e, const char *body, const char *want)
{
	size_t i;
	const char *name;

	for (i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
		if (strcmp(builtins[i].body, body) == 0)
			return builtins[i].name;
	for (i = 0; i < e->nsvc; i++)
		if (strcmp(e->svcs[i].body, body) == 0)
			return e->svcs[i].name;
	name = emit_name(e, want, "svc");
	for (i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
		if (strcmp(builtins[i].name, name) == 0)
			name = emit_name(e, arena_printf(e->a, "%s_svc",
			    want), "svc");
	ARENA_PUSH(e->a, e->svcs, e->nsvc, e->capsvc);
	e->svcs[e->nsvc - 1].name = name;
	e->svcs[e->nsvc - 1].body = body;
	strbuf_printf(&e->s_svc, "service %s %s\n", name, body);
	return name;
}

/* What moat's parser still refuses (a case the translation did not
 * foresee) is written as a comment and noted, until it takes the rest:
 * the import never writes a config that moat check refuses.  0, or -1
 * when an error has no line to take out. */
int
emit_settle(struct emit *e, struct strbuf *body, const char *where,
    char *err, size_t errlen)
{
	int pass;

	for (pass = 0; pass < 64; pass++) {
		struct policy *p = policy_parse("import", strbuf_str(body),
		    body->len);
		const char **why, *t, *nl;
		struct strbuf nb;
		size_t i, nlines = 1, line;

		if (p == NULL) {
			snprintf(err, errlen, "1:1: out of memory");
			return -1;
		}
		if (p->diags.nerrors == 0) {
			policy_free(p);
			return 0;
		}
		for (t = strbuf_str(body); *t != '\0'; t++)
			nlines += *t == '\n';
		why = arena_array(e->a, nlines + 1, sizeof(*why));
		for (i = 0; i < p->diags.n; i++) {
			const struct diag *d = &p->diags.v[i];

			if (d->severity != DIAG_ERROR)
				continue;
			if (d->loc.line <= 0 || (size_t)d->loc.line > nlines) {
				snprintf(err, errlen, "1:1: the translation is "
				    "refused: %s", d->msg);
				policy_free(p);
				return -1;
			}
			if (why[d->loc.line] == NULL)
				why[d->loc.line] = arena_strdup(e->a, d->msg);
		}
		policy_free(p);
		strbuf_init(&nb, 0);
		for (t = strbuf_str(body), line = 1; *t != '\0'; t = nl + 1,
		    line++) {
			size_t n;

			nl = strchr(t, '\n');
			n = nl != NULL ? (size_t)(nl - t) : strlen(t);
			if (why[line] != NULL) {
				strbuf_printf(e->notes, "%s (moat.conf: %.*s): "
				    "not carried: moat refuses it: %s\n",
				    where, (int)n, t,
				    emit_oneline(e, why[line]));
				e->nnotes++;
				strbuf_puts(&nb, "# not carried: ");
			}
			strbuf_add(&nb, t, n);
			strbuf_putc(&nb, '\n');
			if (nl == NULL)
				break;
		}
		if (strbuf_failed(&nb)) {
			strbuf_free(&nb);
			snprintf(err, errlen, "1:1: out of memory");
			return -1;
		}
		strbuf_free(body);
		*body = nb;
	}
	snprintf(err, errlen, "1:1: the translation is refused by moat");
	return -1;
}

