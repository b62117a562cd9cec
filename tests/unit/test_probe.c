/* test_probe.c: the probe process's reports as the root parent checks
 * them (daemon/probed.h): a good one taken, each field that could make
 * the parent act on nothing refused; RUN/gateways.json as moat status
 * and moat metrics say it (observe/status.c, metrics.c); the probe
 * process's filter; and a child whose filter the kernel refuses not
 * going on unconfined (child_nospawn).  Each filter in a child of its
 * own, since one cannot be taken off. */
#include <errno.h>
#include <jansson.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/nospawn.h"
#include "base/strbuf.h"
#include "daemon/child.h"
#include "daemon/probed.h"
#include "observe/metrics.h"
#include "observe/status.h"

static struct probe_report
good(void)
{
	return (struct probe_report){ PROBE_MAGIC, 1, PROBE_WINDOW, 2,
	    1500 };
}

static void
test_report_check(void **state)
{
	struct probe_report r = good(), out;
	char big[sizeof(r) + 1];

	(void)state;
	assert_true(probe_report_check(&r, sizeof(r), 2, &out));
	assert_int_equal(out.slot, 1);
	assert_int_equal(out.lost, 2);
	/* the wrong size, either way */
	assert_false(probe_report_check(&r, sizeof(r) - 1, 2, &out));
	memcpy(big, &r, sizeof(r));
	big[sizeof(r)] = 0;
	assert_false(probe_report_check(big, sizeof(big), 2, &out));
	/* a slot the spec has not */
	assert_false(probe_report_check(&r, sizeof(r), 1, &out));
	r = good();
	r.slot = UINT32_MAX;
	assert_false(probe_report_check(&r, sizeof(r), 63, &out));
	/* more probes than a window, more lost than decided */
	r = good();
	r.decided = PROBE_WINDOW + 1;
	assert_false(probe_report_check(&r, sizeof(r), 2, &out));
	r = good();
	r.lost = r.decided + 1;
	assert_false(probe_report_check(&r, sizeof(r), 2, &out));
	/* an impossible round trip, a wrong magic */
	r = good();
	r.rtt_us = 61u * 1000 * 1000;
	assert_false(probe_report_check(&r, sizeof(r), 2, &out));
	r = good();
	r.magic ^= 1;
	assert_false(probe_report_check(&r, sizeof(r), 2, &out));
	/* no gateway at all */
	r = good();
	r.slot = 0;
	assert_false(probe_report_check(&r, sizeof(r), 0, &out));
}

static const char *doc_text =
    "{\"gateways\":[{\"name\":\"ISP1\",\"interface\":\"WAN1\","
    "\"device\":\"eth1\",\"via\":\"198.51.100.25\",\"monitor\":"
    "\"192.0.2.1\",\"state\":\"down\",\"since\":1800000000,\"loss\":100.0,"
    "\"latency_ms\":null,\"loss_limit\":20,\"latency_limit_ms\":500,"
    "\"changes\":3},{\"name\":\"ISP2\",\"interface\":\"WAN2\",\"device\":"
    "\"eth2\",\"via\":\"203.0.113.1\",\"monitor\":\"192.0.2.2\",\"state\":"
    "\"up\",\"since\":null,\"loss\":12.5,\"latency_ms\":4.25,"
    "\"loss_limit\":20,\"latency_limit_ms\":500,\"changes\":1}],"
    "\"groups\":[{\"name\":\"INTERNET\",\"active\":[\"ISP2\"]}],"
    "\"default_v4\":\"INTERNET\",\"default_v6\":null,\"written\":1}";

static void
test_status_and_metrics(void **state)
{
	char dir[] = "/tmp/test_probe.XXXXXX", file[64];
	struct gw_status st;
	struct metrics_input in;
	struct strbuf b;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/" STATUS_GATEWAYS_FILE, dir);
	/* none, an empty list, a wrong shape: no gateways */
	assert_null(status_gateways_load(dir));
	assert_non_null(f = fopen(file, "w"));
	fputs("{\"gateways\":[]}", f);
	fclose(f);
	assert_null(status_gateways_load(dir));
	assert_non_null(f = fopen(file, "w"));
	fputs("{\"gateways\":{}}", f);
	fclose(f);
	assert_null(status_gateways_load(dir));
	assert_non_null(f = fopen(file, "w"));
	fputs(doc_text, f);
	fclose(f);

	memset(&st, 0, sizeof(st));
	assert_non_null(st.gateways = status_gateways_load(dir));
	strbuf_init(&b, 0);
	status_text(&st, &b);
	assert_non_null(strstr(strbuf_str(&b), "Gateways:\n"));
	assert_non_null(strstr(strbuf_str(&b), "ISP1         down    via "
	    "198.51.100.25 on WAN1, loss 100% (limits 20%, 500 ms), since "));
	assert_non_null(strstr(strbuf_str(&b), "ISP2         up      via "
	    "203.0.113.1 on WAN2, loss 12%, latency 4.2 ms (limits 20%, "
	    "500 ms)\n"));
	assert_non_null(strstr(strbuf_str(&b), "group INTERNET: traffic "
	    "through ISP2\n"));
	assert_non_null(strstr(strbuf_str(&b), "default route (IPv4): "
	    "INTERNET\n"));
	assert_null(strstr(strbuf_str(&b), "(IPv6)"));
	strbuf_free(&b);

	memset(&in, 0, sizeof(in));
	in.gateways = st.gateways;
	strbuf_init(&b, 0);
	metrics_write(&in, &b);
	assert_non_null(strstr(strbuf_str(&b),
	    "moat_gateway_up{gateway=\"ISP1\"} 0\n"));
	assert_non_null(strstr(strbuf_str(&b),
	    "moat_gateway_up{gateway=\"ISP2\"} 1\n"));
	assert_non_null(strstr(strbuf_str(&b),
	    "moat_gateway_loss_ratio{gateway=\"ISP1\"} 1.000\n"));
	assert_non_null(strstr(strbuf_str(&b),
	    "moat_gateway_latency_seconds{gateway=\"ISP2\"} 0.004250\n"));
	/* no latency without an answer */
	assert_null(strstr(strbuf_str(&b),
	    "moat_gateway_latency_seconds{gateway=\"ISP1\"}"));
	assert_non_null(strstr(strbuf_str(&b),
	    "moat_gateway_changes_total{gateway=\"ISP1\"} 3\n"));
	assert_non_null(strstr(strbuf_str(&b), "moat_gateway_group_active"
	    "{group=\"INTERNET\",gateway=\"ISP2\"} 1\n"));
	assert_null(strstr(strbuf_str(&b), "moat_gateway_group_active"
	    "{group=\"INTERNET\",gateway=\"ISP1\"}"));
	strbuf_free(&b);
	json_decref(st.gateways);
	unlink(file);
	rmdir(dir);
}

extern char **environ;

/* fn run in a child of its own: its exit status (_exit: LeakSanitizer
 * would clone at exit, which the probe's filter refuses). */
static int
in_child(int (*fn)(void))
{
	pid_t pid;
	int status;

	if ((pid = fork()) == 0)
		_exit(fn());
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* Under the probe's filter: the sockets it holds are used, no new one is
 * made, no option set, no process started in any way. */
static int
under_confine(void)
{
	char *const argv[] = { "true", NULL };
	int sv[2], one = 1, fd;
	struct msghdr mh;
	struct iovec iov = { "x", 1 };
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == -1)
		return 10;
	if (probed_confine() == -1)
		return 11;
	if (send(sv[0], "x", 1, 0) != 1)
		return 12;		/* its own sockets: yes */
	errno = 0;
	if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) != -1 || errno != EPERM)
		return 13;
	errno = 0;
	if (setsockopt(sv[0], SOL_SOCKET, SO_BROADCAST, &one,
	    sizeof(one)) != -1 || errno != EPERM)
		return 14;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	errno = 0;
	if (sendmsg(sv[0], &mh, 0) != -1 || errno != EPERM)
		return 15;
	errno = 0;
	if ((pid = fork()) == 0)
		_exit(0);
	if (pid != -1 || errno != EPERM)
		return 16;		/* glibc's fork is clone */
#ifdef SYS_fork
	errno = 0;
	if ((pid = (pid_t)syscall(SYS_fork)) == 0)
		_exit(0);
	if (pid != -1 || errno != EPERM)
		return 17;
	errno = 0;
	if ((pid = (pid_t)syscall(SYS_vfork)) == 0)
		_exit(0);
	if (pid != -1 || errno != EPERM)
		return 18;
#endif
	if (posix_spawn(&pid, "/bin/true", NULL, NULL, argv, environ) == 0)
		return 19;
	errno = 0;
	execve("/bin/true", argv, environ);
	if (errno != EPERM)
		return 20;
	return 0;
}

static void
test_confine(void **state)
{
	(void)state;
	assert_int_equal(in_child(under_confine), 0);
}

/* A filter of its own that refuses any other: prctl(PR_SET_SECCOMP)
 * answered EACCES, as a kernel without seccomp's filters (or a sandbox
 * around moatd that forbids them) would refuse it. */
static int
refuse_filters(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_seccomp, 4, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_prctl, 0, 2),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, args[0])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PR_SET_SECCOMP, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EACCES),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
}

/* When the kernel refuses the filter, each says so, and child_nospawn's
 * caller is told to end (it went on unconfined, with a warning, until
 * 2026-12-08). */
static int
under_refusal(void)
{
	pid_t pid;

	if (refuse_filters() == -1)
		return 30;
	errno = 0;
	if (nospawn() != -1 || errno != EACCES)
		return 31;
	if (noraw() != -1 || errno != EACCES)
		return 32;
	if (probed_confine() != -1 || errno != EACCES)
		return 33;
	if (nosocket() != -1 || errno != EACCES)
		return 36;
	if (child_nospawn("test") != -1)
		return 34;
	if (child_nosocket("test") != -1)
		return 37;
	/* and nothing was confined: the refusal is what was seen */
	if ((pid = fork()) == 0)
		_exit(0);
	if (pid == -1 || waitpid(pid, NULL, 0) != pid)
		return 35;
	return 0;
}

static void
test_filter_refused(void **state)
{
	(void)state;
	assert_int_equal(in_child(under_refusal), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_report_check),
		cmocka_unit_test(test_status_and_metrics),
		cmocka_unit_test(test_confine),
		cmocka_unit_test(test_filter_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
