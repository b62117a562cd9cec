/* emit.h: what every import shares as it writes a moat.conf: names made
 * valid and unique, services found or declared, literals in canonical
 * form, strings quoted, the notes, and the last check by moat's parser. */
#ifndef MOAT_EMIT_H
#define MOAT_EMIT_H

#include <stdbool.h>
#include <stddef.h>

#include "base/arena.h"
#include "base/strbuf.h"

struct emit_svc {
	const char	*name;
	const char	*body;
};

struct emit {
	struct arena	*a;
	struct strbuf	*notes;		/* "WHERE: why\n" each */
	int		 nnotes;
	const char	**names;	/* every object, interface name taken */
	size_t		 nnames, capnames;
	struct emit_svc	*svcs;
	size_t		 nsvc, capsvc;
	struct strbuf	 s_svc;		/* the service lines declared */
};

/* Start with arena a and the notes buffer; emit_free releases s_svc. */
void		 emit_init(struct emit *e, struct arena *a, struct strbuf *notes);
void		 emit_free(struct emit *e);
/* One note: "WHERE: message". */
void		 emit_note(struct emit *e, const char *where, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));
/* s as a moat string, quoted, on one line. */
const char	*emit_quote(struct emit *e, const char *s);
/* s without control characters, for a comment. */
const char	*emit_oneline(struct emit *e, const char *s);
/* Whether n is taken; take it. */
bool		 emit_name_taken(struct emit *e, const char *n);
void		 emit_take_name(struct emit *e, const char *n);
/* s made a valid moat name, unique, and taken (dflt when s has nothing
 * of a name). */
const char	*emit_name(struct emit *e, const char *s, const char *dflt);
/* The service with this body ("tcp 80,443 udp 53"): a built-in one, one
 * declared before, or a new one named after want. */
const char	*emit_service(struct emit *e, const char *body, const char *want);
/* An address, network (host bits cleared) or range in moat's form, with
 * its family (FAM_V4, FAM_V6); NULL when s is none. */
const char	*emit_literal(struct emit *e, const char *s, int *fam);
/* The next word of a list separated by spaces, commas or newlines. */
const char	*emit_word(struct emit *e, const char **p);
/* Parse body with moat's parser; comment out and note (under where) each
 * line it refuses, until it takes the rest.  0, or -1 with err. */
int		 emit_settle(struct emit *e, struct strbuf *body,
		    const char *where, char *err, size_t errlen);

#endif
