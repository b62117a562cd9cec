/* moatd: applies the policy and runs the scanning SMTP proxy.
 *
 *   moatd [-f FILE] [-u USER] [-p PORT] [-n] [-v]
 *
 * Two processes.  The parent stays root, and small: it reads the config,
 * applies the policy (libnftables, as `moat apply`), sets up the policy
 * route that delivers intercepted connections, and on SIGHUP reads the
 * config again, applies it and hands it to the proxy; a config that does
 * not parse or that the kernel refuses changes nothing.  The child opens
 * its listening sockets (port 25, the transparent listener) while still
 * root, then runs the proxy as USER (default nobody) keeping one
 * capability: CAP_NET_RAW, which IP_TRANSPARENT needs to connect upstream
 * from the client's own address.  Each session is a thread; one
 * misbehaving session ends alone.  SIGTERM stops both (sessions in flight
 * are cut: their mail was not acknowledged, so the clients retry).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <malloc.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/diag.h"
#include "base/log.h"
#include "enforce/apply.h"
#include "enforce/nftc.h"
#include "enforce/route.h"
#include "policy/load.h"
#include "policy/policy.h"
#include "smtp/anvil.h"
#include "smtp/proxy.h"
#include "smtp/smtpio.h"

#define LISTEN_MAX	16

static const char *conf_path = "/etc/moat/moat.conf";
static const char *run_user = "nobody";
static int tproxy_port = NFTC_TPROXY_PORT;
static bool no_apply;

static volatile sig_atomic_t got_hup, got_term;

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else
		got_term = 1;
}

static void
usage(void)
{
	fprintf(stderr, "usage: moatd [-f FILE] [-u USER] [-p PORT] [-n] [-v]\n"
	    "  -f FILE  the config (default /etc/moat/moat.conf)\n"
	    "  -u USER  the proxy's user (default nobody)\n"
	    "  -p PORT  the transparent listener's port (default %d)\n"
	    "  -n       do not apply the policy (the proxy only)\n"
	    "  -v       log each session's state changes\n",
	    NFTC_TPROXY_PORT);
	exit(2);
}

/* ---- the proxy (child) ------------------------------------------------ */

struct listener {
	int		 fd;
	enum proxy_mode	 mode;
};

static struct listener listeners[LISTEN_MAX];
static int nlisteners;
static struct proxy_conf *current;
static unsigned next_id = 1;
static struct anvil *anvil;	/* who may open a session now */

static int
listen_on(const struct sockaddr *sa, socklen_t len, bool transparent,
    char *err, size_t errlen)
{
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd == -1)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (sa->sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (transparent && setsockopt(fd, SOL_IP, IP_TRANSPARENT, &one,
	    sizeof(one)) == -1)
		goto fail;
	if (bind(fd, sa, len) == -1 || listen(fd, 1024) == -1)
		goto fail;
	return fd;
fail:
	{
		struct sockaddr_storage ss;
		char where[INET6_ADDRSTRLEN + 8];

		memset(&ss, 0, sizeof(ss));
		memcpy(&ss, sa, len);
		addr_sockaddr_format(&ss, where, sizeof(where));
		snprintf(err, errlen, "listening on %s: %s", where,
		    strerror(errno));
	}
	if (fd != -1)
		close(fd);
	return -1;
}

static int
add_listener(const struct sockaddr *sa, socklen_t len, enum proxy_mode mode,
    char *err, size_t errlen)
{
	int fd;

	if (nlisteners == LISTEN_MAX) {
		snprintf(err, errlen, "too many listening addresses");
		return -1;
	}
	if ((fd = listen_on(sa, len, mode == PROXY_TRANSPARENT, err,
	    errlen)) == -1)
		return -1;
	listeners[nlisteners].fd = fd;
	listeners[nlisteners].mode = mode;
	nlisteners++;
	return 0;
}

/* The relay listens on the addresses of the interface named LAN, port 25
 * (a valid policy with smtp-local-scanning has them: resolve.c); the
 * transparent listener on every address, the TPROXY port. */
static int
open_listeners(const struct policy *p, char *err, size_t errlen)
{
	const struct antivirus *av = &p->av;
	size_t i;

	if (av->local_scanning) {
		const struct iface *lan = policy_lan(p);

		for (i = 0; i < lan->naddr; i++) {
			struct sockaddr_storage ss;
			socklen_t len;

			route_sockaddr(&lan->addrs[i], 25, &ss, &len);
			if (add_listener((struct sockaddr *)&ss, len,
			    PROXY_RELAY, err, errlen) == -1)
				return -1;
		}
	}
	if (av->other_scanning) {
		struct sockaddr_in in = { .sin_family = AF_INET,
		    .sin_port = htons((uint16_t)tproxy_port) };
		struct sockaddr_in6 in6 = { .sin6_family = AF_INET6,
		    .sin6_port = htons((uint16_t)tproxy_port) };

		if (add_listener((struct sockaddr *)&in, sizeof(in),
		    PROXY_TRANSPARENT, err, errlen) == -1 ||
		    add_listener((struct sockaddr *)&in6, sizeof(in6),
		    PROXY_TRANSPARENT, err, errlen) == -1)
			return -1;
	}
	return 0;
}

/*
 * Sessions run on threads kept for reuse: a thread that finishes a session
 * waits for the next one, up to IDLE_MAX idle threads, so a busy proxy
 * does not create and destroy a thread per connection.
 */
#define IDLE_MAX	64

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_cond = PTHREAD_COND_INITIALIZER;
static struct proxy_session *queue_head, *queue_tail;
static int idle, queued;

static void *
session_thread(void *arg)
{
	struct proxy_session *s = arg;

	for (;;) {
		proxy_run(s);
		anvil_release(anvil, &s->client);
		free(s);
		/* The last session out gives the memory that scanning large
		 * messages left in malloc's arenas back. */
		if (anvil_sessions(anvil) == 0)
			malloc_trim(0);
		pthread_mutex_lock(&pool_lock);
		if (idle >= IDLE_MAX) {
			pthread_mutex_unlock(&pool_lock);
			return NULL;
		}
		idle++;
		while (queue_head == NULL)
			pthread_cond_wait(&pool_cond, &pool_lock);
		s = queue_head;
		if ((queue_head = s->next) == NULL)
			queue_tail = NULL;
		queued--;
		idle--;
		pthread_mutex_unlock(&pool_lock);
	}
}

/* Hand a session to an idle thread, or start one. */
static int
dispatch(struct proxy_session *s)
{
	pthread_attr_t attr;
	pthread_t t;
	int rc;

	pthread_mutex_lock(&pool_lock);
	if (idle > queued) {
		s->next = NULL;
		if (queue_tail != NULL)
			queue_tail->next = s;
		else
			queue_head = s;
		queue_tail = s;
		queued++;
		pthread_cond_signal(&pool_cond);
		pthread_mutex_unlock(&pool_lock);
		return 0;
	}
	pthread_mutex_unlock(&pool_lock);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 1 << 20);
	rc = pthread_create(&t, &attr, session_thread, s);
	pthread_attr_destroy(&attr);
	return rc == 0 ? 0 : -1;
}

static void
accept_one(struct listener *l)
{
	struct proxy_session *s = calloc(1, sizeof(*s));
	socklen_t len = sizeof(s->client);
	const char *why;
	int fd;

	if (s == NULL)
		return;
	fd = accept4(l->fd, (struct sockaddr *)&s->client, &len,
	    SOCK_CLOEXEC);
	if (fd == -1) {
		free(s);
		return;
	}
	len = sizeof(s->local);		/* the original destination */
	if (l->mode == PROXY_TRANSPARENT)
		getsockname(fd, (struct sockaddr *)&s->local, &len);
	if (anvil_admit(anvil, &s->client, smtpio_now() / 1000, &why) == -1) {
		char msg[160], who[80];
		int n = snprintf(msg, sizeof(msg), "421 4.7.0 %s; try again "
		    "later\r\n", why);

		/* At once, without a thread: the client retries later. */
		if (send(fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
			/* it retries either way */
		}
		addr_sockaddr_format(&s->client, who, sizeof(who));
		log_info("client=%s refused: %s", who, why);
		close(fd);
		free(s);
		return;
	}
	s->id = next_id++;
	s->fd = fd;
	s->mode = l->mode;
	s->conf = current;
	proxy_conf_hold(current);
	/* Mail the gateway relays for the LAN is outgoing mail. */
	s->scan = l->mode == PROXY_TRANSPARENT ||
	    current->av.outgoing_scanning;
	s->noscan_why = "smtp-outgoing-scanning off";
	s->spoof = current->av.keep_client_address;
	if (dispatch(s) == -1) {
		close(fd);
		proxy_conf_put(s->conf);
		anvil_release(anvil, &s->client);
		free(s);
	}
}

/* Read a config handed over by the parent: a length line, then text. */
static char *
read_config(int fd, size_t *len)
{
	char head[32], *text;
	size_t n = 0, got = 0;

	while (n < sizeof(head) - 1) {
		ssize_t r = read(fd, head + n, 1);

		if (r <= 0)
			return NULL;
		if (head[n] == '\n')
			break;
		n++;
	}
	head[n] = '\0';
	*len = strtoul(head, NULL, 10);
	if ((text = malloc(*len + 1)) == NULL)
		return NULL;
	while (got < *len) {
		ssize_t r = read(fd, text + got, *len - got);

		if (r <= 0) {
			free(text);
			return NULL;
		}
		got += (size_t)r;
	}
	text[*len] = '\0';
	return text;
}

static void
take_config(int ctl)
{
	struct policy *p;
	struct proxy_conf *c;
	size_t len;
	char *text = read_config(ctl, &len);

	if (text == NULL)
		return;
	p = policy_parse(conf_path, text, len);
	free(text);
	if (p == NULL || !policy_valid(p) || !p->av.present) {
		log_info("reload: config not taken");
		policy_free(p);
		return;
	}
	c = proxy_conf_new(&p->av, getenv("TMPDIR"));
	policy_free(p);
	if (c == NULL)
		return;
	anvil_set_limits(anvil, &(struct anvil_limits){
	    .sessions = c->av.max_sessions,
	    .client_sessions = c->av.max_client_sessions,
	    .client_rate = c->av.max_client_rate });
	if (c->scanner == NULL)
		log_info("scanner: %s (mail will get 451 until it works)",
		    c->scanner_err);
	else
		log_info("scanner: %s", scanner_name(c->scanner));
	if (current != NULL)
		proxy_conf_put(current);
	current = c;
	log_info("proxy configuration loaded");
}

static int
drop_privileges(char *err, size_t errlen)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];
	struct passwd *pw;

	if (getuid() != 0)
		return 0;	/* not root: nothing to drop (tests) */
	if ((pw = getpwnam(run_user)) == NULL) {
		snprintf(err, errlen, "no user %s", run_user);
		return -1;
	}
	if (prctl(PR_SET_KEEPCAPS, 1) == -1 || setgroups(0, NULL) == -1 ||
	    setgid(pw->pw_gid) == -1 || setuid(pw->pw_uid) == -1) {
		snprintf(err, errlen, "becoming %s: %s", run_user,
		    strerror(errno));
		return -1;
	}
	memset(d, 0, sizeof(d));
	d[0].effective = d[0].permitted = 1u << CAP_NET_RAW;
	if (syscall(SYS_capset, &h, d) == -1) {
		snprintf(err, errlen, "keeping CAP_NET_RAW: %s",
		    strerror(errno));
		return -1;
	}
	prctl(PR_SET_KEEPCAPS, 0);
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	return 0;
}

static int
run_proxy(const struct policy *p, int ctl)
{
	struct pollfd pfd[LISTEN_MAX + 1];
	char err[256];
	int i;

	signal(SIGHUP, SIG_IGN);	/* reloads come through ctl */
	signal(SIGPIPE, SIG_IGN);
	/* Few arenas keep 100 threads from holding 100 heaps; what scanning
	 * leaves in them goes back when the proxy is idle (malloc_trim in
	 * session_thread). */
	mallopt(M_ARENA_MAX, 4);
	if ((anvil = anvil_new()) == NULL) {
		log_info("proxy: out of memory");
		return 1;
	}
	/* Listen first, as root: then nothing needs CAP_NET_BIND_SERVICE. */
	if (open_listeners(p, err, sizeof(err)) == -1 ||
	    drop_privileges(err, sizeof(err)) == -1) {
		log_info("proxy: %s", err);
		return 1;
	}
	take_config(ctl);
	if (current == NULL) {
		log_info("proxy: no configuration");
		return 1;
	}
	log_info("proxy running as %s, %d listeners", getuid() == 0 ?
	    "root" : run_user, nlisteners);
	for (;;) {
		for (i = 0; i < nlisteners; i++) {
			pfd[i].fd = listeners[i].fd;
			pfd[i].events = POLLIN;
		}
		pfd[nlisteners].fd = ctl;
		pfd[nlisteners].events = POLLIN;
		if (poll(pfd, (nfds_t)nlisteners + 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if (pfd[nlisteners].revents & (POLLIN | POLLHUP)) {
			if (pfd[nlisteners].revents & POLLHUP &&
			    !(pfd[nlisteners].revents & POLLIN))
				return 0;	/* the parent is gone */
			take_config(ctl);
		}
		for (i = 0; i < nlisteners; i++)
			if (pfd[i].revents & POLLIN)
				accept_one(&listeners[i]);
	}
}

/* ---- the parent ------------------------------------------------------- */

static struct policy *
load(char **text, size_t *len)
{
	char err[512];
	struct policy *p = policy_load(conf_path, err, sizeof(err));
	size_t i;

	if (p == NULL) {
		log_info("%s", err);
		return NULL;
	}
	if (!policy_valid(p)) {
		for (i = 0; i < p->diags.n; i++) {
			char line[512];

			diag_format(&p->diags.v[i], line, sizeof(line));
			log_info("%s", line);
		}
		log_info("%s: not valid; nothing changed", conf_path);
		policy_free(p);
		return NULL;
	}
	*text = malloc(p->len + 1);
	if (*text == NULL) {
		policy_free(p);
		return NULL;
	}
	memcpy(*text, p->text, p->len);
	(*text)[p->len] = '\0';
	*len = p->len;
	return p;
}

/* Before anything else: an apply --confirm whose deadline passed while
 * nobody watched (the machine was down) is reverted now (apply.h). */
static void
recover(void)
{
	struct strbuf msg, err;
	const char *m;
	size_t n;

	strbuf_init(&msg, 0);
	strbuf_init(&err, 0);
	if (apply_recover(apply_state_dir(), &msg, &err) == -1)
		log_info("confirm: %s", strbuf_str(&err));
	for (m = strbuf_str(&msg); *m != '\0'; m += n + (m[n] == '\n')) {
		n = strcspn(m, "\n");
		log_info("%.*s", (int)n, m);
	}
	strbuf_free(&msg);
	strbuf_free(&err);
}

static int
enforce(const struct policy *p, const char *text, size_t len)
{
	struct strbuf msg, err;
	int rc = 0;

	if (no_apply)
		return 0;
	strbuf_init(&msg, 0);
	strbuf_init(&err, 0);
	if (apply_policy(apply_state_dir(), p, text, len, false, 0, &msg,
	    &err) == -1) {
		log_info("apply: %s", strbuf_str(&err));
		rc = -1;
	} else {
		const char *m = strbuf_str(&msg);

		log_info("%.*s", (int)strcspn(m, "\n"), m);
	}
	if (rc == 0 && p->av.present && p->av.other_scanning &&
	    route_tproxy(NFTC_MARK, NFTC_ROUTE_TABLE, &err) == -1) {
		log_info("routing: %s", strbuf_str(&err));
		rc = -1;
	}
	strbuf_free(&msg);
	strbuf_free(&err);
	return rc;
}

static int
send_config(int fd, const char *text, size_t len)
{
	char head[32];
	int n = snprintf(head, sizeof(head), "%zu\n", len);

	if (write(fd, head, (size_t)n) != n ||
	    write(fd, text, len) != (ssize_t)len)
		return -1;
	return 0;
}

int
main(int argc, char **argv)
{
	struct sigaction sa;
	struct policy *p;
	char *text;
	size_t len;
	int ch, ctl[2], status;
	pid_t child;

	while ((ch = getopt(argc, argv, "f:u:p:nv")) != -1) {
		switch (ch) {
		case 'f':
			conf_path = optarg;
			break;
		case 'u':
			run_user = optarg;
			break;
		case 'p':
			tproxy_port = atoi(optarg);
			if (tproxy_port <= 0 || tproxy_port > 65535)
				usage();
			break;
		case 'n':
			no_apply = true;
			break;
		case 'v':
			log_set_verbose(true);
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (!no_apply)
		recover();
	if ((p = load(&text, &len)) == NULL)
		return 2;
	if (enforce(p, text, len) == -1) {
		policy_free(p);
		free(text);
		return 1;
	}
	if (!p->av.present || (!p->av.local_scanning &&
	    !p->av.other_scanning)) {
		log_info("no SMTP scanning configured: the policy is applied, "
		    "nothing else to do");
		policy_free(p);
		free(text);
		return 0;
	}
	if (pipe2(ctl, O_CLOEXEC) == -1) {
		log_info("pipe: %s", strerror(errno));
		return 1;
	}
	if ((child = fork()) == -1) {
		log_info("fork: %s", strerror(errno));
		return 1;
	}
	if (child == 0) {
		close(ctl[1]);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		exit(run_proxy(p, ctl[0]));
	}
	close(ctl[0]);
	signal(SIGPIPE, SIG_IGN);
	send_config(ctl[1], text, len);
	policy_free(p);
	free(text);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	for (;;) {
		pid_t w = waitpid(child, &status, 0);

		if (w == child) {
			log_info("proxy exited (%s %d)", WIFEXITED(status) ?
			    "status" : "signal", WIFEXITED(status) ?
			    WEXITSTATUS(status) : WTERMSIG(status));
			return 1;
		}
		if (got_term) {
			kill(child, SIGTERM);
			waitpid(child, &status, 0);
			return 0;
		}
		if (got_hup) {
			got_hup = 0;
			log_info("SIGHUP: reloading %s", conf_path);
			if ((p = load(&text, &len)) == NULL)
				continue;
			if (enforce(p, text, len) == 0)
				send_config(ctl[1], text, len);
			policy_free(p);
			free(text);
		}
	}
}
