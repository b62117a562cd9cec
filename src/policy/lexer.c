/* lexer.c: tokens of the config language; see lexer.h. */
#include "policy/lexer.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

void
lexer_init(struct lexer *s, const char *file, const char *buf, size_t len)
{
	s->buf = buf;
	s->len = len;
	s->pos = 0;
	s->line = 1;
	s->col = 1;
	s->file = file;
}

static int
peek(const struct lexer *s)
{
	return s->pos < s->len ? (unsigned char)s->buf[s->pos] : -1;
}

static void
advance(struct lexer *s)
{
	if (s->buf[s->pos] == '\n') {
		s->line++;
		s->col = 1;
	} else
		s->col++;
	s->pos++;
}

/* Characters that make up a word: printable ASCII but the punctuation. */
static bool
is_word_char(int c)
{
	/* (A switch, not strchr: this runs for every byte of a word.) */
	switch (c) {
	case '{': case '}': case ',': case '!': case '"': case '#':
		return false;
	default:
		return c > 0x20 && c < 0x7f;
	}
}

/* Length of a valid UTF-8 sequence at p (at most n bytes), or 0. */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
	size_t len, i;
	unsigned int cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

static void
set_error(struct token *t, const char *msg)
{
	t->type = T_ERROR;
	snprintf(t->text, sizeof(t->text), "%s", msg);
	t->len = strlen(t->text);
}

/* Skip to the end of the line, so one bad byte gives one error. */
static void
skip_line(struct lexer *s)
{
	while (peek(s) != -1 && peek(s) != '\n')
		advance(s);
}

static void
scan_string(struct lexer *s, struct token *t)
{
	t->type = T_STRING;
	t->len = 0;
	advance(s);	/* the opening quote */
	for (;;) {
		int c = peek(s);
		size_t n;

		if (c == -1 || c == '\n') {
			set_error(t, "unterminated string: add the closing "
			    "'\"' on the same line");
			return;
		}
		if (c == '"') {
			advance(s);
			break;
		}
		if (c == '\\') {
			advance(s);
			c = peek(s);
			if (c != '"' && c != '\\') {
				set_error(t, "unknown escape in string: only "
				    "\\\" and \\\\ are allowed");
				skip_line(s);
				return;
			}
		}
		if (c < 0x20 || c == 0x7f) {
			set_error(t, "control character in string");
			skip_line(s);
			return;
		}
		n = utf8_len((const unsigned char *)s->buf + s->pos,
		    s->len - s->pos);
		if (n == 0) {
			set_error(t, "string is not valid UTF-8");
			skip_line(s);
			return;
		}
		if (t->len + n > STRING_MAX) {
			set_error(t, "string longer than 1024 bytes");
			skip_line(s);
			return;
		}
		while (n-- > 0) {
			t->text[t->len++] = s->buf[s->pos];
			advance(s);
		}
	}
	t->text[t->len] = '\0';
}

static void
scan(struct lexer *s, struct token *t)
{
	int c;

	t->len = 0;
	t->text[0] = '\0';
	for (;;) {
		c = peek(s);
		if (c == ' ' || c == '\t' || c == '\r')
			advance(s);
		else if (c == '#')
			skip_line(s);
		else
			break;
	}
	t->loc.file = s->file;
	t->loc.line = s->line;
	t->loc.col = s->col;
	t->off = s->pos;

	switch (c) {
	case -1:
		t->type = T_EOF;
		return;
	case '\n':
		advance(s);
		t->type = T_NEWLINE;
		return;
	case '{':
		advance(s);
		t->type = T_LBRACE;
		return;
	case '}':
		advance(s);
		t->type = T_RBRACE;
		return;
	case ',':
		advance(s);
		t->type = T_COMMA;
		return;
	case '!':
		advance(s);
		t->type = T_BANG;
		return;
	case '"':
		scan_string(s, t);
		return;
	}
	if (!is_word_char(c)) {
		char msg[64];

		snprintf(msg, sizeof(msg), "unexpected character 0x%02x "
		    "outside a string", (unsigned)c);
		set_error(t, msg);
		skip_line(s);
		return;
	}
	t->type = T_WORD;
	while (is_word_char(peek(s))) {
		if (t->len == WORD_MAX) {
			set_error(t, "word longer than 255 characters");
			while (is_word_char(peek(s)))
				advance(s);
			return;
		}
		t->text[t->len++] = s->buf[s->pos];
		advance(s);
	}
	t->text[t->len] = '\0';
}

void
lexer_next(struct lexer *s, struct token *t)
{
	scan(s, t);
	t->end = s->pos;
}

const char *
token_describe(const struct token *t, char *buf, size_t len)
{
	switch (t->type) {
	case T_EOF:
		return "end of file";
	case T_NEWLINE:
		return "end of line";
	case T_WORD:
		snprintf(buf, len, "'%.60s'", t->text);
		return buf;
	case T_STRING:
		return "a string";
	case T_LBRACE:
		return "'{'";
	case T_RBRACE:
		return "'}'";
	case T_COMMA:
		return "','";
	case T_BANG:
		return "'!'";
	case T_ERROR:
		return "an error";
	}
	return "?";
}

size_t
lexer_secret_spans(const char *buf, size_t len, struct lexer_span *v,
    size_t max)
{
	struct lexer s;
	struct token t;
	int depth = 0;
	bool saw_ha = false, in_ha = false, line_start = true, value = false;
	size_t n = 0;

	lexer_init(&s, "", buf, len);
	for (;;) {
		lexer_next(&s, &t);
		if (t.type == T_EOF)
			break;
		if (value && n < max && t.type == T_WORD && t.end > t.off)
			v[n++] = (struct lexer_span){ t.off, t.end - t.off };
		else if (value && n < max && t.type == T_STRING &&
		    t.end > t.off + 2)
			v[n++] = (struct lexer_span){ t.off + 1,
			    t.end - t.off - 2 };
		else if (value && n < max && t.type == T_ERROR) {
			/* (a string not closed, a word too long, a byte
			 * out of place: the rest of its line) */
			const char *nl = memchr(buf + t.off, '\n',
			    len - t.off);
			size_t end = nl != NULL ? (size_t)(nl - buf) : len;

			if (end > t.off)
				v[n++] = (struct lexer_span){ t.off,
				    end - t.off };
		}
		value = in_ha && line_start && t.type == T_WORD &&
		    strcmp(t.text, "secret") == 0;
		if (t.type == T_WORD && line_start && depth == 0)
			saw_ha = strcmp(t.text, "ha") == 0;
		else if (t.type == T_LBRACE) {
			if (++depth == 1 && saw_ha)
				in_ha = true;
			saw_ha = false;
		} else if (t.type == T_RBRACE && depth > 0 && --depth == 0)
			in_ha = false;
		line_start = t.type == T_NEWLINE || t.type == T_LBRACE;
	}
	return n;
}

bool
lexer_may_hold_secret(const char *buf, size_t len)
{
	return memmem(buf, len, "secret", 6) != NULL;
}

void
lexer_blank_secrets(char *buf, size_t len)
{
	struct lexer_span v[LEXER_SECRETS_MAX];
	size_t n = lexer_secret_spans(buf, len, v, LEXER_SECRETS_MAX), i;

	for (i = 0; i < n; i++)
		memset(buf + v[i].off, 'x', v[i].len);
}

