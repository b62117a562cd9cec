/* scanner.h: the config text as tokens, each with its line and column. */
#ifndef MOAT_SCANNER_H
#define MOAT_SCANNER_H

#include <stddef.h>

#include "diag.h"

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
	size_t		 len;
	char		 text[STRING_MAX + 1];
};

struct scanner {
	const char	*buf;
	size_t		 len;
	size_t		 pos;
	int		 line, col;
	const char	*file;
};

/* Scan len bytes of buf (NULs included: they are errors, not the end). */
void	 scanner_init(struct scanner *s, const char *file, const char *buf,
	    size_t len);
/* The next token.  After T_ERROR the scanner has skipped the bad input. */
void	 scanner_next(struct scanner *s, struct token *t);
/* A printable description of a token, for "expected X, found Y". */
const char *token_describe(const struct token *t, char *buf, size_t len);

#endif
