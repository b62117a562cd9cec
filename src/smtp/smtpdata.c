/* smtpdata.c: see smtpdata.h. */
#include "smtp/smtpdata.h"

#include <string.h>

/* A CR or LF that is not part of a CRLF: marked, and kept as it came or
 * written as CRLF. */
static void
bare_end(enum smtpdata_bare mode, char ch, smtpdata_sink *sink, void *arg,
    bool *bare)
{
	*bare = true;
	if (mode == SMTPDATA_BARE_NORMALIZE)
		sink(arg, "\r\n", 2);
	else
		sink(arg, &ch, 1);
}

/* Whole lines from p on, each ending in CRLF with no other CR or LF in
 * it, stopping before a line that starts with a dot (it may be the end or
 * stuffed) and before anything not yet complete: where they end, or p. */
static char *
whole_lines(char *p, char *e)
{
	char *q = p, *lf, *cr;

	while ((lf = memchr(q, '\n', (size_t)(e - q))) != NULL) {
		cr = memchr(q, '\r', (size_t)(lf - q));
		if (cr == NULL || cr + 1 != lf)
			break;		/* a bare LF or CR in this line */
		q = lf + 1;
		if (q == e || *q == '.')
			break;
	}
	return q;
}

int
smtpdata_read(struct smtpio *c, enum smtpdata_bare mode, smtpdata_sink *sink,
    void *arg, bool *bare)
{
	bool bol = true;	/* after CRLF, or at the start */
	int rc;

	/*
	 * RFC 5321 4.1.1.4: only CRLF "." CRLF ends the data, and only at the
	 * start of a line (after CRLF) is a dot stuffing.  A bare LF or a
	 * bare CR is never a line end here, so the end of a message is the
	 * same for moat as for any strict next hop, and nothing after a
	 * "\n.\n" runs as a command (SMTP smuggling).  Works on the
	 * connection's buffer: runs of whole lines are handed on at once.
	 */
	*bare = false;
	for (;;) {
		char *p = c->buf + c->start, *e = c->buf + c->end, *q;
		size_t avail = (size_t)(e - p);

		/* A dot at a line start, and a CR, are decided by what
		 * follows them: ".\r\n", or the byte after the CR. */
		if (avail == 0 || (bol && *p == '.' && avail < 3) ||
		    (*p == '\r' && avail < 2)) {
			if ((rc = smtpio_fill(c)) != SMTPIO_OK)
				return rc;
			continue;
		}
		if (bol && *p == '.') {
			if (p[1] == '\r' && p[2] == '\n') {
				c->start += 3;
				return SMTPIO_OK;	/* the end */
			}
			c->start++;		/* the stuffed dot */
			bol = false;
			continue;
		}
		if ((q = whole_lines(p, e)) > p) {
			sink(arg, p, (size_t)(q - p));
			c->start += (size_t)(q - p);
			bol = true;
			continue;
		}
		/* Within a line: its text up to the next CR or LF, or the
		 * line end, or a bare CR or LF. */
		bol = false;
		if (*p == '\r' && p[1] == '\n') {
			sink(arg, "\r\n", 2);
			c->start += 2;
			bol = true;
		} else if (*p == '\r' || *p == '\n') {
			bare_end(mode, *p, sink, arg, bare);
			c->start++;
		} else {
			for (q = p; q < e && *q != '\r' && *q != '\n'; q++)
				;
			sink(arg, p, (size_t)(q - p));
			c->start += (size_t)(q - p);
		}
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
	w->cr = false;
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

	/* A line starts after CRLF only, as smtpdata_read reads it: a dot
	 * there is stuffed, and nowhere else. */
	while (p < e) {
		const char *lf = memchr(p, '\n', (size_t)(e - p));
		size_t run = lf ? (size_t)(lf - p) + 1 : (size_t)(e - p);

		if (w->bol && *p == '.') {
			if (w->len == w->cap && flush(w) == -1)
				return -1;
			w->buf[w->len++] = '.';
		}
		w->bol = lf != NULL && (lf > p ? lf[-1] == '\r' : w->cr);
		w->cr = p[run - 1] == '\r';
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
