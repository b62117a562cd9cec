/* probed.c: the probe process; see probed.h and doc/design/gateways.md.
 *
 * One loop: every PROBE_INTERVAL_MS an echo request to each monitor,
 * every PROBE_REPORT_MS a report per gateway, and in between the answers
 * read as they come.  A probe is answered when a reply with its
 * identifier, sequence number and this run's random nonce comes back on
 * its gateway's socket; it is lost when none has within its timeout.
 */
#include "daemon/probed.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/seccomp_arch.h"
#include "daemon/child.h"

#define RING		64	/* probes remembered per gateway */
#define SPEC_WAIT_MS	5000	/* the parent's spec, at most so late */

bool
probe_report_check(const void *buf, size_t len, uint32_t n,
    struct probe_report *out)
{
	if (len != sizeof(*out))
		return false;
	memcpy(out, buf, sizeof(*out));
	return out->magic == PROBE_MAGIC && out->slot < n &&
	    out->decided <= PROBE_WINDOW && out->lost <= out->decided &&
	    out->rtt_us <= 60u * 1000 * 1000;
}

struct probe {
	long long	 sent;		/* us; 0: none */
	uint16_t	 seq;
	bool		 answered;
	uint32_t	 rtt;		/* us */
	uint8_t		 token[8];	/* its own random payload */
};

struct slot {
	int		 fd;
	int		 family;	/* 4 or 6 */
	struct sockaddr_storage to;
	socklen_t	 tolen;
	uint16_t	 ident;
	uint16_t	 seq;		/* the next */
	long long	 timeout;	/* us */
	struct probe	 ring[RING];
};

#define TOKEN_LEN	8

static long long
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

/*
 * The process may use the sockets it was given, and nothing more: no new
 * socket (it has no capability, but could still reach the network as its
 * user), and no option set on the ones it has (a raw IPv4 socket with
 * IP_HDRINCL would let it write any packet, from any source), neither by
 * setsockopt nor through io_uring; x32's system calls kill it.
 */
int
probed_confine(void)
{
#ifdef SYS_fork			/* (arm64 has neither) */
#define NFORK	2
#else
#define NFORK	0
#endif
#define DENY(nr)	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), NDENY - \
	    (__COUNTER__ - deny0), 0)
	/* It sends with sendto and reads with recvfrom: no sendmsg (its
	 * ancillary data would pick a source address or options), no new
	 * process (a child would outlive its restart, holding the
	 * sockets), no socket option by any way. */
	enum { deny0 = __COUNTER__ + 1, NDENY = 16 + NFORK };
	struct sock_filter f[] = {
		SECCOMP_PROLOGUE,
		DENY(SYS_setsockopt),
		DENY(SYS_socket),
		DENY(SYS_socketpair),
		DENY(SYS_bind),
		DENY(SYS_connect),
		DENY(SYS_sendmsg),
		DENY(SYS_sendmmsg),
		DENY(SYS_io_uring_setup),
		DENY(SYS_io_uring_enter),
		DENY(SYS_io_uring_register),
		DENY(SYS_clone),
		DENY(SYS_clone3),
#ifdef SYS_fork
		/* (until 2026-12-08 x86-64's fork and vfork were let
		 * through, and their process kept the sockets) */
		DENY(SYS_fork),
		DENY(SYS_vfork),
#endif
		DENY(SYS_execve),
		DENY(SYS_execveat),
		DENY(SYS_unshare),
		DENY(SYS_ptrace),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
	};
#undef DENY
#undef NFORK
	_Static_assert(sizeof(f) / sizeof(f[0]) ==
	    SECCOMP_PROLOGUE_LEN + NDENY + 2,
	    "NDENY counts the DENY lines");
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == -1)
		return -1;
	return 0;
}

static uint16_t
cksum(const uint8_t *p, size_t len)
{
	uint32_t s = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void
send_probe(struct slot *s)
{
	uint8_t pkt[8 + TOKEN_LEN];
	struct probe *p = &s->ring[s->seq % RING];
	uint16_t c;

	/* A reply must carry what only this request carried: one who saw
	 * another link's probes, or this one's earlier ones, cannot answer
	 * for this one. */
	if (getrandom(p->token, TOKEN_LEN, 0) != TOKEN_LEN)
		memset(p->token, 0, TOKEN_LEN);

	memset(pkt, 0, sizeof(pkt));
	pkt[0] = s->family == 4 ? 8 : 128;	/* echo request */
	pkt[4] = (uint8_t)(s->ident >> 8);
	pkt[5] = (uint8_t)s->ident;
	pkt[6] = (uint8_t)(s->seq >> 8);
	pkt[7] = (uint8_t)s->seq;
	memcpy(pkt + 8, p->token, TOKEN_LEN);
	if (s->family == 4) {	/* ICMPv6's is the kernel's */
		c = cksum(pkt, sizeof(pkt));
		pkt[2] = (uint8_t)(c >> 8);
		pkt[3] = (uint8_t)c;
	}
	p->sent = now_us();
	p->seq = s->seq;
	p->answered = false;
	p->rtt = 0;
	s->seq++;
	/* A link that is down fails the send: the probe is lost all the
	 * same, when its time is up. */
	(void)sendto(s->fd, pkt, sizeof(pkt), MSG_DONTWAIT,
	    (struct sockaddr *)&s->to, s->tolen);
}

/* The answers waiting on s's socket: from the monitor itself, with this
 * probe's identifier, sequence number and token. */
static void
read_answers(struct slot *s)
{
	uint8_t buf[1500];

	for (;;) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(s->fd, buf, sizeof(buf), MSG_DONTWAIT,
		    (struct sockaddr *)&from, &fl);
		const uint8_t *icmp = buf;
		size_t len, hl = 0;
		uint16_t seq;
		struct probe *p;

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		len = (size_t)n;
		if (s->family == 4) {	/* the IP header comes too */
			const struct sockaddr_in *to =
			    (const struct sockaddr_in *)&s->to;

			if (len < 20 || (buf[0] >> 4) != 4 ||
			    memcmp(buf + 12, &to->sin_addr, 4) != 0)
				continue;
			hl = (size_t)(buf[0] & 0x0f) * 4;
			if (hl < 20 || hl > len)
				continue;
		} else {
			const struct sockaddr_in6 *to =
			    (const struct sockaddr_in6 *)&s->to;
			const struct sockaddr_in6 *f6 =
			    (const struct sockaddr_in6 *)&from;

			if (fl < sizeof(*f6) || f6->sin6_family != AF_INET6 ||
			    memcmp(&f6->sin6_addr, &to->sin6_addr, 16) != 0)
				continue;
		}
		icmp = buf + hl;
		len -= hl;
		if (len < 8 + TOKEN_LEN ||
		    icmp[0] != (s->family == 4 ? 0 : 129) || icmp[1] != 0 ||
		    (uint16_t)(icmp[4] << 8 | icmp[5]) != s->ident)
			continue;
		seq = (uint16_t)(icmp[6] << 8 | icmp[7]);
		p = &s->ring[seq % RING];
		if (p->sent == 0 || p->seq != seq || p->answered ||
		    memcmp(icmp + 8, p->token, TOKEN_LEN) != 0 ||
		    now_us() - p->sent > s->timeout)
			continue;
		p->answered = true;
		p->rtt = (uint32_t)(now_us() - p->sent);
	}
}

/* The last PROBE_WINDOW decided probes of s: how many, lost, mean rtt. */
static void
summarize(const struct slot *s, uint32_t slot, struct probe_report *r)
{
	long long now = now_us(), sum = 0;
	uint16_t seq = s->seq;
	int i;

	memset(r, 0, sizeof(*r));
	r->magic = PROBE_MAGIC;
	r->slot = slot;
	for (i = 0; i < RING && r->decided < PROBE_WINDOW; i++) {
		const struct probe *p = &s->ring[(uint16_t)(seq - 1 - i) %
		    RING];

		if (p->sent == 0 || p->seq != (uint16_t)(seq - 1 - i))
			break;
		if (p->answered) {
			r->decided++;
			sum += p->rtt;
		} else if (now - p->sent > s->timeout) {
			r->decided++;
			r->lost++;
		}
	}
	if (r->decided > r->lost)
		r->rtt_us = (uint32_t)(sum / (r->decided - r->lost));
}

/* The spec from the parent, within SPEC_WAIT_MS; the slots from it.  The
 * number of slots, or -1. */
static int
read_spec(struct slot *sl)
{
	struct probe_spec spec;
	struct pollfd pfd = { .fd = 3, .events = POLLIN };
	uint32_t i;
	ssize_t n;

	if (poll(&pfd, 1, SPEC_WAIT_MS) != 1 ||
	    (n = recv(3, &spec, sizeof(spec), 0)) != (ssize_t)sizeof(spec) ||
	    spec.magic != PROBE_MAGIC || spec.n == 0 || spec.n > 64)
		return -1;
	for (i = 0; i < spec.n; i++) {
		const struct probe_target *t = &spec.t[i];
		struct slot *s = &sl[i];
		int type = 0;
		socklen_t tl = sizeof(type);

		memset(s, 0, sizeof(*s));
		s->fd = PROBE_FD0 + (int)i;
		if (getsockopt(s->fd, SOL_SOCKET, SO_TYPE, &type, &tl) == -1 ||
		    type != SOCK_RAW || (t->family != 4 && t->family != 6) ||
		    t->timeout_ms < 100 || t->timeout_ms > 60000)
			return -1;
		s->family = t->family;
		s->timeout = t->timeout_ms * 1000LL;
		if (getrandom(&s->ident, sizeof(s->ident), 0) !=
		    sizeof(s->ident))
			s->ident = (uint16_t)((getpid() << 6) ^ i);
		if (t->family == 4) {
			struct sockaddr_in *in = (struct sockaddr_in *)&s->to;

			in->sin_family = AF_INET;
			memcpy(&in->sin_addr, t->addr, 4);
			s->tolen = sizeof(*in);
		} else {
			struct sockaddr_in6 *in6 =
			    (struct sockaddr_in6 *)&s->to;

			in6->sin6_family = AF_INET6;
			memcpy(&in6->sin6_addr, t->addr, 16);
			s->tolen = sizeof(*in6);
		}
	}
	return (int)spec.n;
}

static int
run(void)
{
	static struct slot sl[64];
	struct pollfd pfd[65];
	long long next_probe, next_report;
	int n, i;

	if ((n = read_spec(sl)) == -1) {
		log_error("probe: no spec from the parent");
		return 1;
	}
	next_probe = next_report = now_us();
	for (;;) {
		long long now = now_us(), wake;
		int r;

		if (now >= next_probe) {
			for (i = 0; i < n; i++)
				send_probe(&sl[i]);
			next_probe += PROBE_INTERVAL_MS * 1000LL;
			if (next_probe < now)
				next_probe = now + PROBE_INTERVAL_MS * 1000LL;
		}
		if (now >= next_report) {
			for (i = 0; i < n; i++) {
				struct probe_report rep;

				summarize(&sl[i], (uint32_t)i, &rep);
				if (send(3, &rep, sizeof(rep), MSG_DONTWAIT |
				    MSG_NOSIGNAL) == -1 && errno != EAGAIN)
					return 0;	/* the parent went */
			}
			next_report += PROBE_REPORT_MS * 1000LL;
			if (next_report < now)
				next_report = now + PROBE_REPORT_MS * 1000LL;
		}
		wake = next_probe < next_report ? next_probe : next_report;
		pfd[0] = (struct pollfd){ .fd = 3, .events = POLLIN };
		for (i = 0; i < n; i++)
			pfd[i + 1] = (struct pollfd){ .fd = sl[i].fd,
			    .events = POLLIN };
		now = now_us();
		r = poll(pfd, (nfds_t)n + 1, wake > now ?
		    (int)((wake - now + 999) / 1000) : 0);
		if (r == -1 && errno != EINTR)
			return 1;
		if (r > 0 && (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)))
			return 0;	/* the parent speaks only once: gone */
		for (i = 0; r > 0 && i < n; i++)
			if (pfd[i + 1].revents & POLLIN)
				read_answers(&sl[i]);
	}
}

int
probed_main(void)
{
	int rc = child_exec_begin("moatd-ping", "probe", PROBED_ARG,
	    SOCK_SEQPACKET, PROBE_USER);

	if (rc != 0)
		return rc;
	if (probed_confine() == -1) {
		log_error("probe: the system call filter: %s",
		    strerror(errno));
		return 1;
	}
	return run();
}
