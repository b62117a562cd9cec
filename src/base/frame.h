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
	unsigned char	 head[4];
	size_t		 nhead;		/* of the length's 4 bytes */
	char		*buf;		/* the frame, NUL-terminated */
	size_t		 len, got;
};

/* Read what fd has towards one frame of at most max bytes: 1 the frame is
 * whole (in->buf, in->len; the caller takes buf and zeroes in for the
 * next), 0 more to come, -1 the end of the stream (errno 0), a frame over
 * max (EMSGSIZE) or an error (errno). */
int	 frame_in_read(int fd, struct frame_in *in, size_t max);
/* What a frame_in holds, freed; ready for the next frame. */
void	 frame_in_reset(struct frame_in *in);

#endif
