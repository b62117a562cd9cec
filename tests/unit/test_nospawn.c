/* test_nospawn.c: a process under nospawn (base/nospawn.h) makes threads,
 * and no process: fork, posix_spawn (clone without CLONE_THREAD) and
 * execve fail; under noraw, no packet or raw socket; each test runs in a
 * child of its own, since a filter cannot be taken off. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/nospawn.h"

extern char **environ;

static void *
thread_run(void *arg)
{
	*(int *)arg = 42;
	return NULL;
}

/* In the child: what is refused and what is not, as an exit status. */
static int
under_filter(void)
{
	char *const argv[] = { "true", NULL };
	pthread_t t;
	pid_t pid;
	int v = 0;

	/* without the filter a process of its own has a user namespace
	 * (the test sees the difference: a container's own filter may
	 * refuse it already) */
	if ((pid = fork()) == 0)
		_exit(unshare(CLONE_NEWUSER) == 0 ? 0 : 1);
	if (pid == -1 || waitpid(pid, &v, 0) != pid || !WIFEXITED(v) ||
	    WEXITSTATUS(v) != 0)
		return 17;
	v = 0;
	if (nospawn() == -1)
		return 10;
	/* no namespace of its own */
	errno = 0;
	if (unshare(CLONE_NEWUSER) != -1 || errno != EPERM)
		return 15;
	errno = 0;
	if (setns(0, 0) != -1 || errno != EPERM)
		return 16;
	if (pthread_create(&t, NULL, thread_run, &v) != 0 ||
	    pthread_join(t, NULL) != 0 || v != 42)
		return 11;		/* threads: yes */
	errno = 0;
	if ((pid = fork()) == 0)
		_exit(0);
	if (pid != -1 || errno != EPERM)
		return 12;		/* a process: no */
	if (posix_spawn(&pid, "/bin/true", NULL, NULL, argv, environ) == 0)
		return 13;
	errno = 0;
	execve("/bin/true", argv, environ);
	if (errno != EPERM)
		return 14;
	return 0;
}

/* fn run in a child of its own (a filter cannot be taken off): its exit
 * status (exit: LeakSanitizer runs). */
static int
in_child(int (*fn)(void))
{
	pid_t pid;
	int status;

	if ((pid = fork()) == 0)
		exit(fn());
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void
test_threads_not_processes(void **state)
{
	(void)state;
	assert_int_equal(in_child(under_filter), 0);
}

/* In the child: under noraw, a packet socket and a raw one are refused
 * (root could make both before), a TCP one is not. */
static int
under_noraw(void)
{
	int fd = -1;

	if (geteuid() == 0 && (fd = socket(AF_PACKET, SOCK_RAW, 0)) == -1)
		return 20;		/* the test sees the difference */
	if (fd != -1)
		close(fd);
	if (noraw() == -1)
		return 21;
	errno = 0;
	if (socket(AF_PACKET, SOCK_RAW, 0) != -1 || errno != EPERM)
		return 22;
	if (socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0) != -1)
		return 23;
	errno = 0;
	if (socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP) != -1 ||
	    errno != EPERM)
		return 24;
	if (socket(AF_INET6, SOCK_RAW, IPPROTO_RAW) != -1)
		return 25;
	/* SOCK_PACKET of AF_INET is a packet socket, and other families
	 * than the proxy's are refused (two reviews; as root, where the
	 * kernel would have allowed them) */
	errno = 0;
	if (socket(AF_INET, SOCK_PACKET, htons(3)) != -1 || errno != EPERM)
		return 28;
	errno = 0;
	if (socket(AF_XDP, SOCK_RAW, 0) != -1 || errno != EPERM)
		return 31;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return 32;
	close(fd);
	/* io_uring makes sockets without socket(2) */
	errno = 0;
	{
		static unsigned char params[256];

		if (syscall(__NR_io_uring_setup, 4, params) != -1 ||
		    errno != ENOSYS)
			return 29;
	}
	if ((fd = socket(AF_INET6, SOCK_DGRAM, 0)) == -1)
		return 30;
	close(fd);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return 26;
	close(fd);
	/* netlink's are SOCK_RAW too (getifaddrs: the proxy's own
	 * addresses) */
	if ((fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC,
	    NETLINK_ROUTE)) == -1)
		return 27;
	close(fd);
	return 0;
}

static void
test_noraw(void **state)
{
	(void)state;
	assert_int_equal(in_child(under_noraw), 0);
}

/* In the child: under nosocket, no socket of any family (root could
 * make them before), through socket(2) or io_uring; a pair of its own
 * and the sockets it has still work. */
static int
under_nosocket(void)
{
	int fd, sv[2];

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return 40;		/* the test sees the difference */
	close(fd);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return 41;
	if (nosocket() == -1)
		return 42;
	if (send(fd, "", 0, MSG_DONTWAIT) == 0)
		return 43;		/* (not connected: an error, not EPERM) */
	if (errno == EPERM)
		return 44;
	close(fd);
	errno = 0;
	if (socket(AF_INET, SOCK_STREAM, 0) != -1 || errno != EPERM)
		return 45;
	errno = 0;
	if (socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0) != -1 ||
	    errno != EPERM)
		return 46;
	errno = 0;
	if (socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0) != -1 ||
	    errno != EPERM)
		return 47;		/* the journal's socket, /dev/log */
	errno = 0;
	if (socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE) != -1 ||
	    errno != EPERM)
		return 48;
	errno = 0;
	{
		static unsigned char params[256];

		if (syscall(__NR_io_uring_setup, 4, params) != -1 ||
		    errno != ENOSYS)
			return 49;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		return 50;
	if (write(sv[0], "x", 1) != 1)
		return 51;
	close(sv[0]);
	close(sv[1]);
	return 0;
}

static void
test_nosocket(void **state)
{
	(void)state;
	assert_int_equal(in_child(under_nosocket), 0);
}

/* In the child: under nospawn, neither FREEBIND option can be set, at
 * either level, on an IPv4 or an IPv6 socket (with either, an IPv6
 * socket sends from any address, without a capability); other options
 * of those levels can; io_uring is not there. */
static int
under_freebind(void)
{
	static const struct { int fam, level, opt; } no[] = {
		{ AF_INET, IPPROTO_IP, IP_FREEBIND },
		{ AF_INET6, IPPROTO_IP, IP_FREEBIND },
		{ AF_INET6, IPPROTO_IPV6, IPV6_FREEBIND },
	};
	int one = 1, fd[3], i;

	/* the test sees the difference: each is set without the filter */
	for (i = 0; i < 3; i++)
		if ((fd[i] = socket(no[i].fam, SOCK_DGRAM, 0)) == -1 ||
		    setsockopt(fd[i], no[i].level, no[i].opt, &one,
		    sizeof(one)) == -1)
			return 60 + i;
	if (nospawn() == -1)
		return 63;
	for (i = 0; i < 3; i++) {
		errno = 0;
		if (setsockopt(fd[i], no[i].level, no[i].opt, &one,
		    sizeof(one)) != -1 || errno != EPERM)
			return 64 + i;
	}
	if (setsockopt(fd[0], IPPROTO_IP, IP_TOS, &one, sizeof(one)) == -1 ||
	    setsockopt(fd[2], IPPROTO_IPV6, IPV6_V6ONLY, &one,
	    sizeof(one)) == -1 || setsockopt(fd[0], SOL_SOCKET, SO_REUSEADDR,
	    &one, sizeof(one)) == -1)
		return 67;
	errno = 0;
	if (syscall(__NR_io_uring_setup, 1, NULL) != -1 || errno != ENOSYS)
		return 68;
	for (i = 0; i < 3; i++)
		close(fd[i]);
	return 0;
}

static void
test_freebind(void **state)
{
	(void)state;
	assert_int_equal(in_child(under_freebind), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_threads_not_processes),
		cmocka_unit_test(test_noraw),
		cmocka_unit_test(test_nosocket),
		cmocka_unit_test(test_freebind),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
