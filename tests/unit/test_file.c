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

/* file_set_open then file_set_fill (in two steps, as an apply writes its
 * entry beside the kernel's transaction): the space reserved at once, the
 * bytes whole after the fill, in place after the commit; abandoned after
 * the open, nothing left behind. */
static void
test_set_steps(void **state)
{
	char dir[] = "/tmp/moat-file.XXXXXX", a[128], b[128];
	static char big[200000];
	struct file_set fs;
	struct file_new v[2];
	struct stat st;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	assert_non_null(mkdtemp(dir));
	snprintf(a, sizeof(a), "%s/1.conf", dir);
	snprintf(b, sizeof(b), "%s/1.nft", dir);
	v[0] = (struct file_new){ a, "config\n", 7 };
	v[1] = (struct file_new){ b, big, sizeof(big) };
	assert_int_equal(file_set_open(&fs, v, 2, 0644), 0);
	assert_int_equal(entries(dir), 2);	/* the temporary files */
	assert_int_equal(stat(fs.tmp[1], &st), 0);
	assert_true(st.st_size == (off_t)sizeof(big));	/* reserved */
	assert_int_equal(file_set_fill(&fs, v), 0);
	assert_int_equal(file_set_commit(&fs), 0);
	assert_string_equal(slurp(a), "config\n");
	assert_int_equal(stat(b, &st), 0);
	assert_true(st.st_size == (off_t)sizeof(big));
	assert_int_equal(strncmp(slurp(b), big, 200), 0);
	assert_int_equal(entries(dir), 2);
	unlink(a);
	unlink(b);
	assert_int_equal(file_set_open(&fs, v, 2, 0644), 0);
	file_set_abandon(&fs);
	assert_int_equal(entries(dir), 0);
	rmdir(dir);
}

/* file_view: a file mapped (its size not a multiple of the page's) and
 * one read (a multiple: its NUL would fall past a mapping), the same
 * bytes and NUL-terminated either way; a missing file is an error. */
static void
test_view(void **state)
{
	long page = sysconf(_SC_PAGESIZE);
	char dir[] = "/tmp/moat-view-XXXXXX", f[256];
	struct file_view v;
	size_t sizes[2], i, k;
	char *want;
	FILE *fp;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(f, sizeof(f), "%s/r.nft", dir);
	sizes[0] = (size_t)page * 3 + 17;
	sizes[1] = (size_t)page * 2;
	for (k = 0; k < 2; k++) {
		assert_non_null(want = malloc(sizes[k]));
		for (i = 0; i < sizes[k]; i++)
			want[i] = (char)('a' + (i * 7 + k) % 26);
		assert_non_null(fp = fopen(f, "w"));
		assert_int_equal(fwrite(want, 1, sizes[k], fp), sizes[k]);
		assert_int_equal(fclose(fp), 0);
		assert_int_equal(file_view(f, &v), 0);
		assert_true(v.len == sizes[k]);
		assert_true(v.mapped == (k == 0 ? sizes[k] : 0));
		assert_memory_equal(v.s, want, sizes[k]);
		assert_int_equal(v.s[v.len], '\0');
		file_view_drop(&v);
		assert_null(v.s);
		free(want);
	}
	unlink(f);
	errno = 0;
	assert_int_equal(file_view(f, &v), -1);
	assert_int_equal(errno, ENOENT);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replace),
		cmocka_unit_test(test_read_regular),
		cmocka_unit_test(test_set_steps),
		cmocka_unit_test(test_view),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
