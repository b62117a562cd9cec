/* test_nospawn.c: a process under nospawn (base/nospawn.h) makes threads,
 * and no process: fork, posix_spawn (clone without CLONE_THREAD) and
 * execve fail; the test runs in a child of its own, since the filter
 * cannot be taken off. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
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

	if (nospawn() == -1)
		return 10;
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

static void
test_threads_not_processes(void **state)
{
	pid_t pid;
	int status;

	(void)state;
	if ((pid = fork()) == 0)
		exit(under_filter());	/* (exit: LeakSanitizer runs) */
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_threads_not_processes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
