/* route.c: see route.h. */
#include "enforce/route.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* Run ip with these arguments, its standard error to /dev/null and its
 * standard output to /dev/null, or when out is given into out (up to
 * outlen - 1 bytes, outlen at least 1, NUL-terminated); its exit status,
 * or -1. */
static int
run_ip_out(char *const argv[], char *out, size_t outlen)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	ssize_t got;
	size_t have = 0;
	int status, rc, p[2] = { -1, -1 };

	if (out != NULL && pipe2(p, O_CLOEXEC) == -1)
		return -1;
	posix_spawn_file_actions_init(&fa);
	if (out != NULL)
		posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO);
	else
		posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO,
		    "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null",
	    O_WRONLY, 0);
	rc = posix_spawnp(&pid, "ip", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (out != NULL) {
		char buf[512];
		size_t take;

		close(p[1]);
		/* to its end (ip may say more than is kept); EOF at once
		 * when it did not start */
		while ((got = read(p[0], buf, sizeof(buf))) != 0) {
			if (got == -1 && errno == EINTR)
				continue;
			if (got == -1)
				break;
			take = (size_t)got < outlen - 1 - have ? (size_t)got :
			    outlen - 1 - have;
			memcpy(out + have, buf, take);
			have += take;
		}
		out[have] = '\0';
		close(p[0]);
	}
	if (rc != 0)
		return -1;
	if (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static int
run_ip(char *const argv[])
{
	return run_ip_out(argv, NULL, 0);
}

/* IPv6 runs here: the kernel has it, and lo does not have it off
 * (net.ipv6.conf.*.disable_ipv6, with which the route cannot be set). */
static bool
ipv6_on(void)
{
	FILE *fp;
	int c = '0';

	if (access("/proc/net/if_inet6", F_OK) == -1)
		return false;
	if ((fp = fopen("/proc/sys/net/ipv6/conf/lo/disable_ipv6", "re")) !=
	    NULL) {
		c = fgetc(fp);
		fclose(fp);
	}
	return c != '1';
}

int
route_tproxy(unsigned mark, unsigned table, struct strbuf *err)
{
	static const char *const fam[] = { "-4", "-6" };
	char m[32], t[32], out[512];
	int i;

	snprintf(m, sizeof(m), "0x%x/0x%x", mark, mark);
	snprintf(t, sizeof(t), "%u", table);
	for (i = 0; i < 2; i++) {
		char *show[] = { "ip", (char *)fam[i], "rule", "show", "fwmark",
		    m, "lookup", t, "priority", ROUTE_TPROXY_PRIO, NULL };
		char *add[] = { "ip", (char *)fam[i], "rule", "add", "fwmark",
		    m, "lookup", t, "priority", ROUTE_TPROXY_PRIO, NULL };
		char *route[] = { "ip", (char *)fam[i], "route", "replace",
		    "local", "default", "dev", "lo", "table", t, NULL };

		/* (a kernel without IPv6, or with it turned off, has no
		 * IPv6 connection to take) */
		if (i == 1 && !ipv6_on())
			break;
		/* Added only when it is not there: never taken out and put
		 * back (a moment without it, in which the connections
		 * tproxy had handed to the proxy were dropped). */
		if (run_ip_out(show, out, sizeof(out)) != 0 ||
		    (out[0] == '\0' && run_ip(add) != 0) ||
		    run_ip(route) != 0) {
			strbuf_printf(err, "ip %s rule/route for TPROXY (fwmark "
			    "%s, table %s) failed", fam[i], m, t);
			return -1;
		}
	}
	return 0;
}

void
route_sockaddr(const struct if_addr *a, unsigned port,
    struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (a->lit.family == FAM_V4) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;
		uint32_t v = (uint32_t)a->lit.lo;

		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		in->sin_addr.s_addr = htonl(v);
		*len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
		int i;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		for (i = 0; i < 16; i++)
			in6->sin6_addr.s6_addr[i] = (uint8_t)(a->lit.lo >>
			    (8 * (15 - i)));
		*len = sizeof(*in6);
	}
}
