/* xml.c: config.xml into a tree of struct xml_node; the only file that
 * includes <expat.h>.  Expat reads no external entity and no external DTD
 * by itself; we also stop at any document type declaration, so no entity
 * beyond XML's five is ever defined (no billion laughs). */
#include <expat.h>
#include <stdio.h>
#include <string.h>

#include "base/strbuf.h"
#include "import/xml.h"

struct xml_ctx {
	struct arena	*a;
	XML_Parser	 p;
	struct xml_node	*root;
	struct xml_node	*cur;
	unsigned	 depth;
	size_t		 nelem;
	struct strbuf	 text[XML_MAX_DEPTH + 1];
	const char	*why;		/* our reason to stop, or NULL */
	const char	*buf;
	size_t		 len;
};

static void
stop(struct xml_ctx *c, const char *why)
{
	if (c->why == NULL)
		c->why = why;
	XML_StopParser(c->p, XML_FALSE);
}

static void XMLCALL
on_start(void *arg, const XML_Char *name, const XML_Char **attrs)
{
	struct xml_ctx *c = arg;
	struct xml_node *n;

	(void)attrs;
	if (c->why != NULL)
		return;
	if (c->depth >= XML_MAX_DEPTH) {
		stop(c, "elements nested too deep");
		return;
	}
	if (++c->nelem > XML_MAX_ELEMENTS) {
		stop(c, "too many elements");
		return;
	}
	n = arena_alloc(c->a, sizeof(*n));
	n->name = arena_strdup(c->a, name);
	n->text = "";
	n->line = (unsigned)XML_GetCurrentLineNumber(c->p);
	n->index = 1;
	n->parent = c->cur;
	if (c->cur == NULL)
		c->root = n;
	else {
		if (c->cur->last == NULL)
			c->cur->child = n;
		else
			c->cur->last->next = n;
		c->cur->last = n;
	}
	c->cur = n;
	c->depth++;
	strbuf_reset(&c->text[c->depth]);
}

static void XMLCALL
on_end(void *arg, const XML_Char *name)
{
	struct xml_ctx *c = arg;
	struct strbuf *t;
	const char *s;
	size_t len;

	(void)name;
	if (c->why != NULL || c->cur == NULL)
		return;
	t = &c->text[c->depth];
	if (strbuf_failed(t)) {
		stop(c, "an element's text is too long");
		return;
	}
	s = strbuf_str(t);
	len = t->len;
	while (len > 0 && strchr(" \t\r\n", s[0]) != NULL)
		s++, len--;
	while (len > 0 && strchr(" \t\r\n", s[len - 1]) != NULL)
		len--;
	if (len > 0)
		c->cur->text = arena_strndup(c->a, s, len);
	c->cur = c->cur->parent;
	c->depth--;
}

static void XMLCALL
on_text(void *arg, const XML_Char *s, int len)
{
	struct xml_ctx *c = arg;

	if (c->why != NULL || c->depth == 0 || len <= 0)
		return;
	strbuf_add(&c->text[c->depth], s, (size_t)len);
}

static void XMLCALL
on_doctype(void *arg, const XML_Char *name, const XML_Char *sysid,
    const XML_Char *pubid, int has_internal)
{
	(void)name, (void)sysid, (void)pubid, (void)has_internal;
	stop(arg, "a document type declaration (<!DOCTYPE>) is refused");
}

static void XMLCALL
on_entity(void *arg, const XML_Char *name, int is_param,
    const XML_Char *value, int vlen, const XML_Char *base,
    const XML_Char *sysid, const XML_Char *pubid, const XML_Char *notation)
{
	(void)name, (void)is_param, (void)value, (void)vlen, (void)base;
	(void)sysid, (void)pubid, (void)notation;
	stop(arg, "an entity declaration is refused");
}

static unsigned
name_hash(const char *s)
{
	unsigned h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* Number the children of each element by name (rule[1], rule[2] ...),
 * through a hash table per parent: linear in the children, whatever
 * their names. */
static void
number(struct arena *a, struct xml_node *parent)
{
	struct arena_mark m;
	struct xml_node *n, **tab;
	size_t nkids = 0, size = 2, i;

	for (n = parent->child; n != NULL; n = n->next)
		nkids++;
	if (nkids > 1) {
		while (size < 2 * nkids)
			size *= 2;
		m = arena_save(a);
		tab = arena_array(a, size, sizeof(*tab));
		for (n = parent->child; n != NULL; n = n->next) {
			i = name_hash(n->name) & (size - 1);
			while (tab[i] != NULL && strcmp(tab[i]->name,
			    n->name) != 0)
				i = (i + 1) & (size - 1);
			if (tab[i] != NULL) {
				tab[i]->twin = 1;
				n->index = tab[i]->index + 1;
			}
			tab[i] = n;
		}
		arena_restore(a, m);
	}
	for (n = parent->child; n != NULL; n = n->next)
		if (n->child != NULL)
			number(a, n);
}

static int
run(void *arg)
{
	struct xml_ctx *c = arg;

	if (XML_Parse(c->p, c->buf, (int)c->len, XML_TRUE) != XML_STATUS_OK)
		return -1;
	if (c->why == NULL && c->root != NULL)
		number(c->a, c->root);
	return 0;
}

struct xml_node *
xml_parse(struct arena *a, const char *buf, size_t len, char *err,
    size_t errlen)
{
	struct xml_ctx c;
	struct xml_node *root = NULL;
	size_t i;
	int rc;

	memset(&c, 0, sizeof(c));
	if (len > XML_MAX_SIZE) {
		snprintf(err, errlen, "1:1: the file is larger than %u MB",
		    XML_MAX_SIZE >> 20);
		return NULL;
	}
	if ((c.p = XML_ParserCreate("UTF-8")) == NULL) {
		snprintf(err, errlen, "1:1: out of memory");
		return NULL;
	}
	for (i = 0; i <= XML_MAX_DEPTH; i++)
		strbuf_init(&c.text[i], XML_MAX_TEXT);
	c.a = a;
	c.buf = buf;
	c.len = len;
	XML_SetUserData(c.p, &c);
	XML_SetElementHandler(c.p, on_start, on_end);
	XML_SetCharacterDataHandler(c.p, on_text);
	XML_SetStartDoctypeDeclHandler(c.p, on_doctype);
	XML_SetEntityDeclHandler(c.p, on_entity);
	XML_SetParamEntityParsing(c.p, XML_PARAM_ENTITY_PARSING_NEVER);
	rc = arena_catch(a, run, &c);
	if (rc == 0 && c.why == NULL && c.root != NULL)
		root = c.root;
	else if (c.why != NULL)
		snprintf(err, errlen, "%lu:%lu: %s",
		    (unsigned long)XML_GetCurrentLineNumber(c.p),
		    (unsigned long)XML_GetCurrentColumnNumber(c.p) + 1, c.why);
	else if (rc == -1 && XML_GetErrorCode(c.p) == XML_ERROR_NONE)
		snprintf(err, errlen, "%lu:%lu: out of memory",
		    (unsigned long)XML_GetCurrentLineNumber(c.p),
		    (unsigned long)XML_GetCurrentColumnNumber(c.p) + 1);
	else if (c.root == NULL && rc == 0)
		snprintf(err, errlen, "1:1: no element");
	else
		snprintf(err, errlen, "%lu:%lu: %s",
		    (unsigned long)XML_GetCurrentLineNumber(c.p),
		    (unsigned long)XML_GetCurrentColumnNumber(c.p) + 1,
		    XML_ErrorString(XML_GetErrorCode(c.p)));
	for (i = 0; i <= XML_MAX_DEPTH; i++)
		strbuf_free(&c.text[i]);
	XML_ParserFree(c.p);
	return root;
}

struct xml_node *
xml_child(const struct xml_node *n, const char *name)
{
	struct xml_node *c;

	if (n == NULL)
		return NULL;
	for (c = n->child; c != NULL; c = c->next)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

const char *
xml_text(const struct xml_node *n, const char *name)
{
	struct xml_node *c = xml_child(n, name);

	return c != NULL ? c->text : NULL;
}

const char *
xml_path(struct arena *a, const struct xml_node *n)
{
	const char *tail = "";

	for (; n != NULL; n = n->parent) {
		if (n->index > 1 || n->twin)
			tail = arena_printf(a, "/%s[%u]%s", n->name, n->index,
			    tail);
		else
			tail = arena_printf(a, "/%s%s", n->name, tail);
	}
	return tail;
}
