/* frame.h: messages over a stream socket, each a 4-byte length (network
 * order) and that many bytes (the HA sync link's), or a 4-byte length, a
 * 4-byte request id and that many bytes: how moatd's parent and its
 * console process talk (JSON requests and answers), the answer carrying
 * its request's id (as imsg's peerid). */
#ifndef MOAT_FRAME_H
#define MOAT_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define FRAME_MAX	(64u * 1024 * 1024)

/* Send one message whole: 0, or -1 with errno. */
int	 frame_send(int fd, const char *msg, size_t len);
/* Receive one (malloc'd, NUL-terminated, at most max bytes): NULL at the
 * end of the stream (errno 0) or on an error (errno). */
char	*frame_recv(int fd, size_t max, size_t *len);

/* The same with a request id before the message. */
int	 frame_send_id(int fd, uint32_t id, const char *msg, size_t len);
char	*frame_recv_id(int fd, size_t max, uint32_t *id, size_t *len);

#endif
