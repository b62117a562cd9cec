/* lexer.h: the config text as tokens, each with its line and column. */
#ifndef MOAT_LEXER_H
#define MOAT_LEXER_H

#include <stdbool.h>
#include <stddef.h>

#include "base/diag.h"

#define WORD_MAX	255	/* longest name, address or path */
#define STRING_MAX	1024	/* longest quoted string */

enum token_type {
	T_EOF = 0,
	T_NEWLINE,
	T_WORD,		/* names, keywords, addresses, ports, paths */
	T_STRING,	/* "…", text without the quotes and escapes */
	T_LBRACE,
	T_RBRACE,
	T_COMMA,
	T_BANG,
	T_ERROR,	/* text holds the reason */
};

struct token {
	enum token_type	 type;
	struct loc	 loc;
	size_t		 off, end;	/* its bytes in the buffer, a
					   string's quotes included */
	size_t		 len;
	char		 text[STRING_MAX + 1];
};

struct lexer {
	const char	*buf;
	size_t		 len;
	size_t		 pos;
	int		 line, col;
	const char	*file;
};

/* Scan len bytes of buf (NULs included: they are errors, not the end). */
void	 lexer_init(struct lexer *s, const char *file, const char *buf,
	    size_t len);
/* The next token.  After T_ERROR the lexer has skipped the bad input. */
void	 lexer_next(struct lexer *s, struct token *t);
/* The values of buf's inline secrets (the ha block's secret) overwritten
 * in place with as many 'x': the text means the same but for them, every
 * position kept; for a process that does not need them (moatd-feeds). */
void	 lexer_blank_secrets(char *buf, size_t len);
/* Where those values are (a string's quotes left out), at most max of
 * them, in order: how many there are. */
struct lexer_span {
	size_t	off, len;
};
#define LEXER_SECRETS_MAX	64	/* one in a valid config */
size_t	 lexer_secret_spans(const char *buf, size_t len,
	    struct lexer_span *v, size_t max);
/* Whether buf may hold a secret: false for a text without the word,
 * which then needs no lexing. */
bool	 lexer_may_hold_secret(const char *buf, size_t len);
/* A printable description of a token, for "expected X, found Y". */
const char *token_describe(const struct token *t, char *buf, size_t len);

#endif
