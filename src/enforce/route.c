/* route.c: see route.h. */
#include "enforce/route.h"

#include <netinet/in.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* Run ip with these arguments, output to /dev/null; its exit status. */
static int
run_ip(char *const argv[])
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int status, rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null",
	    O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null",
	    O_WRONLY, 0);
	rc = posix_spawnp(&pid, "ip", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		return -1;
	if (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

int
route_tproxy(unsigned mark, unsigned table, struct strbuf *err)
{
	static const char *const fam[] = { "-4", "-6" };
	char m[32], t[32];
	int i;

	snprintf(m, sizeof(m), "0x%x/0x%x", mark, mark);
	snprintf(t, sizeof(t), "%u", table);
	for (i = 0; i < 2; i++) {
		char *del[] = { "ip", (char *)fam[i], "rule", "del", "fwmark",
		    m, "lookup", t, NULL };
		char *add[] = { "ip", (char *)fam[i], "rule", "add", "fwmark",
		    m, "lookup", t, "priority", ROUTE_TPROXY_PRIO, NULL };
		char *route[] = { "ip", (char *)fam[i], "route", "replace",
		    "local", "default", "dev", "lo", "table", t, NULL };

		/* delete first, so a restart does not stack rules */
		while (run_ip(del) == 0)
			;
		if (run_ip(add) != 0 || run_ip(route) != 0) {
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
