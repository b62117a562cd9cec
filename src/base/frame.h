/* frame.h: messages over a stream socket, each a 4-byte length (network
 * order) and that many bytes (the HA sync link's), or a 4-byte length, a
 * 4-byte request id and that many bytes: how moatd's parent and its
 * console process talk (JSON requests and answers), the answer carrying
 * its request's id (as imsg's peerid). */
#ifndef MOAT_FRAME_H
#define MOAT_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FRAME_MAX	(64u * 1024 * 1024)

/* Send one message whole: 0, or -1 with errno. */
int	 frame_send(int fd, const char *msg, size_t len);
/* Receive one (malloc'd, NUL-terminated, at most max bytes): NULL at the
 * end of the stream (errno 0) or on an error (errno). */
char	*frame_recv(int fd, size_t max, size_t *len);

/* The same, whole by deadline (clock_ms) or not at all: NULL or -1 with
 * ETIMEDOUT past it, however little comes or goes each time. */
char	*frame_recv_by(int fd, size_t max, size_t *len, long long deadline);
int	 frame_send_by(int fd, const char *msg, size_t len, long long deadline);

/* The same with a request id before the message. */
int	 frame_send_id(int fd, uint32_t id, const char *msg, size_t len);
char	*frame_recv_id(int fd, size_t max, uint32_t *id, size_t *len);
/* frame_recv_id from a stream socket, whole by deadline (clock_ms): NULL
 * with ETIMEDOUT past it, however little comes each time. */
char	*frame_recv_id_by(int fd, size_t max, uint32_t *id, size_t *len,
	    long long deadline);
/* frame_send_id to a stream socket, whole by deadline (clock_ms) or not
 * at all: -1 with ETIMEDOUT then (the peer has part of it). */
int	 frame_send_id_by(int fd, uint32_t id, const char *msg, size_t len,
	    long long deadline);

/* One frame read in pieces, from a descriptor that never blocks: a
 * peer that sends slowly delays nobody.  Zeroed to start. */
struct frame_in {
	unsigned char	 head[8];	/* the length, and the id if any */
	size_t		 nhead;		/* of head's bytes */
	char		*buf;		/* the frame, NUL-terminated */
	size_t		 len, got;
};

/* Read what fd has towards one frame of at most max bytes (256 KB of it
 * a call at most): 1 the frame is whole (in->buf, in->len; the caller
 * takes buf and zeroes in for the next), 0 more to come (or to read),
 * -1 the end of the stream (errno 0), a frame over max (EMSGSIZE) or an
 * error (errno). */
int	 frame_in_read(int fd, struct frame_in *in, size_t max);
/* The same for a frame with its request id (frame_send_id's): *id set
 * when 1. */
int	 frame_in_read_id(int fd, struct frame_in *in, size_t max,
	    uint32_t *id);
/* True when part of a frame came and not the whole: a deadline runs. */
bool	 frame_in_started(const struct frame_in *in);
/* What a frame_in holds, freed; ready for the next frame. */
void	 frame_in_reset(struct frame_in *in);

/* One frame with its request id written in pieces, to a descriptor that
 * never blocks: a peer that reads slowly delays nobody.  Zeroed to
 * start; pending while len > off. */
struct frame_out {
	unsigned char	 head[8];
	size_t		 hlen;		/* 4, or 8 with an id */
	char		*msg;		/* taken from the caller's strbuf */
	size_t		 len, off;	/* of head and msg together */
};

/* o (empty) to carry msg's text (taken: msg is left empty), with id if
 * with_id: 0, or -1 (EMSGSIZE over FRAME_MAX, ENOMEM when msg failed). */
struct strbuf;
int	 frame_out_take(struct frame_out *o, bool with_id, uint32_t id,
	    struct strbuf *msg);
/* Write what fd takes of o: 1 all of it (o emptied), 0 more to write,
 * -1 an error (errno). */
int	 frame_out_write(int fd, struct frame_out *o);
bool	 frame_out_pending(const struct frame_out *o);
void	 frame_out_reset(struct frame_out *o);

#endif
