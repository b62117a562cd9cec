/* answer.h: the parent's answers to the console: a JSON object with the
 * HTTP status the console passes on. */
#ifndef MOAT_ANSWER_H
#define MOAT_ANSWER_H

#include <jansson.h>

#include "base/strbuf.h"

/* The answer: o (taken; NULL: {}) with "status". */
void	 control_answer(struct strbuf *out, int status, json_t *o);
/* An answer with "error": msg. */
void	 control_error(struct strbuf *out, int status, const char *msg);

#endif
