/* smtpdata.c: see smtpdata.h. */
#include "smtp/smtpdata.h"

#include <string.h>

int
smtpdata_read(struct smtpio *c, smtpdata_sink *sink, void *arg)
{
	bool bol = true;	/* at the beginning of a line */
	int rc;

	/* Works on the connection's buffer in runs: from one "\n." to the
	 * next is handed over at once. */
	for (;;) {
		char *p = c->buf + c->start, *e = c->buf + c->end, *q;
		size_t run;

		if (p == e || (bol && *p == '.' && e - p < 3 &&
		    !(e - p == 2 && p[1] == '\n'))) {
			if ((rc = smtpio_fill(c)) != SMTPIO_OK)
				return rc;
			continue;
		}
		if (bol && *p == '.') {
			if (p[1] == '\n' || (p[1] == '\r' && p[2] == '\n')) {
				c->start += p[1] == '\n' ? 2 : 3;
				return SMTPIO_OK;	/* the end */
			}
			c->start++;		/* the stuffed dot */
			p++;
			if (p == e)
				continue;
		}
		if ((q = memmem(p, (size_t)(e - p), "\n.", 2)) != NULL) {
			run = (size_t)(q - p) + 1;
			bol = true;
		} else {
			run = (size_t)(e - p);
			bol = e[-1] == '\n';
		}
		sink(arg, p, run);
		c->start += run;
	}
}

void
smtpdata_begin(struct smtpdata_writer *w, struct smtpio *c, char *buf,
    size_t cap)
{
	w->c = c;
	w->buf = buf;
	w->cap = cap;
	w->len = 0;
	w->bol = true;
}

static int
flush(struct smtpdata_writer *w)
{
	int rc = smtpio_write(w->c, w->buf, w->len);

	w->len = 0;
	return rc == SMTPIO_OK ? 0 : -1;
}

int
smtpdata_put(struct smtpdata_writer *w, const char *p, size_t n)
{
	const char *e = p + n;

	while (p < e) {
		const char *lf = memchr(p, '\n', (size_t)(e - p));
		size_t run = lf ? (size_t)(lf - p) + 1 : (size_t)(e - p);

		if (w->bol && *p == '.') {	/* stuffed */
			if (w->len == w->cap && flush(w) == -1)
				return -1;
			w->buf[w->len++] = '.';
		}
		w->bol = lf != NULL;
		while (run > 0) {
			size_t take = w->cap - w->len;

			if (take > run)
				take = run;
			memcpy(w->buf + w->len, p, take);
			w->len += take;
			p += take;
			run -= take;
			if (w->len == w->cap && flush(w) == -1)
				return -1;
		}
	}
	return 0;
}

int
smtpdata_end(struct smtpdata_writer *w)
{
	static const char crlf_dot[] = "\r\n.\r\n";
	const char *tail = w->bol ? crlf_dot + 2 : crlf_dot;
	size_t n = strlen(tail);

	if (w->cap - w->len < n && flush(w) == -1)
		return -1;
	memcpy(w->buf + w->len, tail, n);
	w->len += n;
	return flush(w);
}
