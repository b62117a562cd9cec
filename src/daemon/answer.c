/* answer.c: see answer.h. */
#include "daemon/answer.h"

#include <stdlib.h>

void
control_answer(struct strbuf *out, int status, json_t *o)
{
	char *s;

	if (o == NULL)
		o = json_object();
	json_object_set_new(o, "status", json_integer(status));
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (s != NULL)
		strbuf_puts(out, s);
	else
		strbuf_puts(out, "{\"status\":500}");
	free(s);
}

void
control_error(struct strbuf *out, int status, const char *msg)
{
	json_t *o = json_object();

	json_object_set_new(o, "error", json_string(msg));
	control_answer(out, status, o);
}
