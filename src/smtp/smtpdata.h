/* smtpdata.h: a message on the wire after DATA (RFC 5321 4.5.2): read
 * with the end-of-data line found and dot-stuffing undone, written with
 * dot-stuffing and the end-of-data line added.  Both directions of the
 * proxy use this one codec, so what ends a message for the reader and
 * what the writer stuffs are decided in one place.
 */
#ifndef MOAT_SMTPDATA_H
#define MOAT_SMTPDATA_H

#include <stdbool.h>
#include <stddef.h>

#include "smtp/smtpio.h"

/* Where the reader puts the message: n bytes at p, in order. */
typedef void smtpdata_sink(void *arg, const char *p, size_t n);

/* What to do with a CR or LF that is not part of a CRLF in a message
 * (doc/design/smtp-proxy.md): it never ends a line either way. */
enum smtpdata_bare {
	SMTPDATA_BARE_REJECT = 0,	/* kept as it came; *bare says so */
	SMTPDATA_BARE_NORMALIZE,	/* written as CRLF */
};

/* Read a message from c up to and including its end-of-data line (CRLF
 * "." CRLF, nothing else), unstuffed, handing it to sink(arg, …) in runs;
 * *bare tells whether it held a bare CR or LF.  SMTPIO_OK at the end of
 * the data, or SMTPIO_EOF / SMTPIO_TIMEOUT when the peer left first. */
int	 smtpdata_read(struct smtpio *c, enum smtpdata_bare mode,
	    smtpdata_sink *sink, void *arg, bool *bare);

/* A message being written: output gathered in buf for large writes. */
struct smtpdata_writer {
	struct smtpio	*c;
	char		*buf;
	size_t		 cap, len;
	bool		 bol;		/* at the beginning of a line */
	bool		 cr;		/* the last byte put was a CR */
};

/* Start a message to c, gathering output in buf (cap bytes, at least
 * 64; the caller owns it). */
void	 smtpdata_begin(struct smtpdata_writer *w, struct smtpio *c,
	    char *buf, size_t cap);
/* The next n bytes of the message, stuffed.  0, or -1 when c failed. */
int	 smtpdata_put(struct smtpdata_writer *w, const char *p, size_t n);
/* End the message (CRLF if it did not end in one, then "."), and flush.
 * 0, or -1 when c failed. */
int	 smtpdata_end(struct smtpdata_writer *w);

#endif
