/* test_file.c: file_replace (src/base/file.c): the new text whole, its
 * mode, a symbolic link replaced and its target untouched (a console
 * could once make root write through one: issue 21), nothing left
 * behind, and a failure that changes nothing. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/file.h"

static char *
slurp(const char *path)
{
	static char buf[256];
	FILE *fp = fopen(path, "r");
	size_t n;

	assert_non_null(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

static int
entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void
test_replace(void **state)
{
	char dir[] = "/tmp/moat-file.XXXXXX", path[128], target[128], bad[160];
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/moat.conf", dir);
	snprintf(target, sizeof(target), "%s/shadow", dir);
	assert_int_equal(file_replace(path, "one\n", 4, 0600, 0), 0);
	assert_string_equal(slurp(path), "one\n");
	assert_int_equal(file_replace(path, "two, longer\n", 12, 0640, 0), 0);
	assert_string_equal(slurp(path), "two, longer\n");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(entries(dir), 1);
	/* A link where the file was: replaced, its target as it was. */
	assert_int_equal(file_replace(target, "secret\n", 7, 0600, 0), 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink(target, path), 0);
	assert_int_equal(file_replace(path, "three\n", 6, 0644, FILE_NOSYNC),
	    0);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_string_equal(slurp(path), "three\n");
	assert_string_equal(slurp(target), "secret\n");
	/* No directory: -1, errno, nothing made. */
	snprintf(bad, sizeof(bad), "%s/none/moat.conf", dir);
	errno = 0;
	assert_int_equal(file_replace(bad, "x", 1, 0600, 0), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(entries(dir), 2);
	unlink(path);
	unlink(target);
	rmdir(dir);
}

/* file_read_regular: a file whole; a FIFO with no writer, a directory
 * and a device refused at once (EINVAL), a file over max (EFBIG). */
static void
test_read_regular(void **state)
{
	char dir[] = "/tmp/moat-read-XXXXXX", path[300], fifo[300];
	size_t len;
	char *t;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/list.txt", dir);
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	assert_int_equal(file_replace(path, "192.0.2.1\n", 10, 0644, 0), 0);
	t = file_read_regular(path, 100, &len);
	assert_non_null(t);
	assert_int_equal(len, 10);
	assert_string_equal(t, "192.0.2.1\n");
	free(t);
	errno = 0;
	assert_null(file_read_regular(path, 9, &len));
	assert_int_equal(errno, EFBIG);
	assert_int_equal(mkfifo(fifo, 0644), 0);
	errno = 0;
	assert_null(file_read_regular(fifo, 100, &len));	/* no wait */
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(file_read_regular(dir, 100, &len));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(file_read_regular("/dev/zero", 100, &len));
	assert_int_equal(errno, EINVAL);
	unlink(fifo);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replace),
		cmocka_unit_test(test_read_regular),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
