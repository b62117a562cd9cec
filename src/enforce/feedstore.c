/* feedstore.c: a feed object's last contents on disk; see feedstore.h.
 *
 * STATE/feeds/NAME is a header and the intervals, IPv4 ones as two
 * 32-bit numbers (a million networks in 8 MB), IPv6 ones as two 128-bit
 * numbers, in this machine's byte order: the file never leaves it.
 */
#include "enforce/feedstore.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/addr.h"
#include "base/file.h"
#include "base/hash.h"

#define FEED_MAGIC	"MOATFD1\n"

struct feed_head {
	char		magic[8];
	uint64_t	key;
	int64_t		fetched;
	uint64_t	entries;
	uint64_t	n4, n6;
};

uint64_t
feedstore_key(const struct object *o)
{
	uint64_t h = FNV1A_INIT;
	size_t i;

	h = fnv1a_add(h, policy_feed_kind_name(o->kind),
	    strlen(policy_feed_kind_name(o->kind)) + 1);
	for (i = 0; i < o->feed.n; i++)
		h = fnv1a_add(h, o->feed.names[i], strlen(o->feed.names[i]) + 1);
	return h;
}

static void
file_of(char *buf, size_t len, const char *state, const char *name)
{
	snprintf(buf, len, "%s/feeds/%s", state, name);
}

int
feedstore_save(const char *state, const char *name, uint64_t key,
    struct iset s, time_t fetched, uint64_t entries, struct strbuf *err)
{
	struct feed_head h;
	char dir[4096], file[4200];
	unsigned char *buf = NULL, *p4, *p6;
	size_t n4 = 0, n6 = 0, size;
	int rc = -1;

	addr_pack_count(s, &n4, &n6);
	size = sizeof(h) + n4 * 8 + n6 * 32;
	if ((buf = malloc(size)) == NULL) {
		strbuf_printf(err, "feed %s: out of memory", name);
		return -1;
	}
	memset(&h, 0, sizeof(h));
	memcpy(h.magic, FEED_MAGIC, sizeof(h.magic));
	h.key = key;
	h.fetched = (int64_t)fetched;
	h.entries = entries;
	h.n4 = n4;
	h.n6 = n6;
	memcpy(buf, &h, sizeof(h));
	p4 = buf + sizeof(h);
	p6 = p4 + n4 * 8;
	addr_pack(s, p4, p6);
	snprintf(dir, sizeof(dir), "%s/feeds", state);
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		strbuf_printf(err, "%s: %s", dir, strerror(errno));
		goto out;
	}
	file_of(file, sizeof(file), state, name);
	if (file_replace(file, buf, size, 0600, 0) == -1) {
		strbuf_printf(err, "%s: %s", file, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(buf);
	return rc;
}

/* Read exactly len bytes: 0, or -1 (EINVAL for a short file). */
static int
read_all(int fd, void *buf, size_t len)
{
	unsigned char *p = buf;

	while (len > 0) {
		ssize_t n = read(fd, p, len);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EINVAL;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Open and read the header; the descriptor, or -1 with errno. */
static int
open_head(const char *state, const char *name, struct feed_head *h)
{
	char file[4200];
	struct stat st;
	int fd;

	file_of(file, sizeof(file), state, name);
	if ((fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return -1;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    read_all(fd, h, sizeof(*h)) == -1 ||
	    memcmp(h->magic, FEED_MAGIC, sizeof(h->magic)) != 0 ||
	    h->n4 > FEEDSTORE_INTERVALS_MAX || h->n6 > FEEDSTORE_INTERVALS_MAX ||
	    (uint64_t)st.st_size != sizeof(*h) + h->n4 * 8 + h->n6 * 32) {
		close(fd);
		errno = EINVAL;		/* damaged, or not ours */
		return -1;
	}
	return fd;
}

int
feedstore_info(const char *state, const char *name,
    struct feedstore_info *info)
{
	struct feed_head h;
	int fd = open_head(state, name, &h);

	if (fd == -1)
		return -1;
	close(fd);
	info->key = h.key;
	info->fetched = (time_t)h.fetched;
	info->entries = h.entries;
	info->n4 = h.n4;
	info->n6 = h.n6;
	return 0;
}

int
feedstore_load(const char *state, const char *name, uint64_t key,
    struct arena *a, struct iset *out, struct feedstore_info *info)
{
	struct feed_head h;
	struct ival *v;
	uint32_t *w = NULL;
	size_t i;
	int fd = open_head(state, name, &h), rc = -1;

	if (fd == -1)
		return -1;
	if (h.key != key) {
		close(fd);
		errno = ESTALE;
		return -1;
	}
	v = arena_array(a, h.n4 + h.n6 + 1, sizeof(*v));
	if (h.n4 > 0 && (w = malloc(h.n4 * 8)) == NULL)
		goto out;
	if (h.n4 > 0 && read_all(fd, w, h.n4 * 8) == -1)
		goto out;
	for (i = 0; i < h.n4; i++) {
		v[i].lo = V4_BASE | w[2 * i];
		v[i].hi = V4_BASE | w[2 * i + 1];
		if (v[i].lo > v[i].hi)
			goto bad;
	}
	for (i = h.n4; i < h.n4 + h.n6; i++) {
		if (read_all(fd, &v[i].lo, 16) == -1 ||
		    read_all(fd, &v[i].hi, 16) == -1)
			goto out;
		if (v[i].lo > v[i].hi)
			goto bad;
	}
	/* Sorted and merged as written; iset_adopt makes sure. */
	*out = iset_adopt(v, h.n4 + h.n6);
	if (info != NULL) {
		info->key = h.key;
		info->fetched = (time_t)h.fetched;
		info->entries = h.entries;
		info->n4 = h.n4;
		info->n6 = h.n6;
	}
	rc = 0;
	goto out;
bad:
	errno = EINVAL;
out:
	free(w);
	close(fd);
	return rc;
}

static int
bound_feed(void *arg, const struct object *o, struct arena *a,
    struct iset *out)
{
	return feedstore_load(arg, o->name, feedstore_key(o), a, out, NULL);
}

void
feedstore_bind(struct binding *b, const char *state)
{
	b->feed = bound_feed;
	b->feed_arg = (void *)state;
}
