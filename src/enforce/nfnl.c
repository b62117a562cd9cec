/* nfnl.c: a dump over nf_tables' netlink, read to its end; see nfnl.h. */
#include "enforce/nfnl.h"

#include <errno.h>
#include <time.h>

#include "base/clock.h"

/* nl's reads to wait at most until deadline: 0, or -1 (ETIMEDOUT when
 * it has passed). */
static int
wait_until(struct mnl_socket *nl, long long deadline)
{
	long long left = deadline - clock_ms();
	struct timeval tv;

	if (left <= 0) {
		errno = ETIMEDOUT;
		return -1;
	}
	tv.tv_sec = (time_t)(left / 1000);
	tv.tv_usec = (suseconds_t)(left % 1000 * 1000);
	return setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv));
}

int
nfnl_dump(struct mnl_socket *nl, char *buf, size_t len,
    struct nlmsghdr *nlh, mnl_cb_t cb, void *data, long long deadline)
{
	unsigned seq = nlh->nlmsg_seq, portid = mnl_socket_get_portid(nl);
	ssize_t got;
	int r;

	if (wait_until(nl, deadline) == -1 ||
	    mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	for (;;) {
		if (wait_until(nl, deadline) == -1)
			return -1;
		if ((got = mnl_socket_recvfrom(nl, buf, len)) <= 0)
			break;
		if (((const struct nlmsghdr *)buf)->nlmsg_flags &
		    NLM_F_DUMP_INTR)
			return NFNL_DUMP_CUT;
		r = mnl_cb_run(buf, (size_t)got, seq, portid, cb, data);
		if (r == MNL_CB_ERROR)
			return errno == EINTR ? NFNL_DUMP_CUT : -1;
		if (r == MNL_CB_STOP)
			return 0;
	}
	if (got == 0)
		errno = EIO;
	else if (errno == EAGAIN || errno == EWOULDBLOCK)
		errno = ETIMEDOUT;
	return -1;
}
