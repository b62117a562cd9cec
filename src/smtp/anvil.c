/* anvil.c: see anvil.h.  One entry per client address that has a session
 * open or connected within the last minute, in a chained hash table; idle
 * entries are swept once a minute, so the table holds at most the
 * addresses of the last minute or two. */
#include "smtp/anvil.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS		4096	/* a power of two */
#define WINDOW		60	/* seconds: the rate is per minute */

struct client {
	struct client	*next;
	unsigned char	 key[16];	/* IPv6, or IPv4-mapped */
	unsigned	 sessions;	/* open now */
	long long	 window;	/* start of the current minute */
	unsigned	 count;		/* admitted in that minute */
};

struct anvil {
	pthread_mutex_t		 lock;
	struct anvil_limits	 limits;
	unsigned		 sessions;
	long long		 swept;
	struct client		*bucket[BUCKETS];
};

struct anvil *
anvil_new(void)
{
	struct anvil *a = calloc(1, sizeof(*a));

	if (a != NULL)
		pthread_mutex_init(&a->lock, NULL);
	return a;
}

static void
sweep(struct anvil *a, long long now, bool all)
{
	size_t i;

	for (i = 0; i < BUCKETS; i++) {
		struct client **pp = &a->bucket[i], *c;

		while ((c = *pp) != NULL) {
			if (all || (c->sessions == 0 &&
			    now - c->window >= WINDOW)) {
				*pp = c->next;
				free(c);
			} else
				pp = &c->next;
		}
	}
	a->swept = now;
}

void
anvil_free(struct anvil *a)
{
	if (a == NULL)
		return;
	sweep(a, 0, true);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

void
anvil_set_limits(struct anvil *a, const struct anvil_limits *l)
{
	pthread_mutex_lock(&a->lock);
	a->limits = *l;
	pthread_mutex_unlock(&a->lock);
}

static void
key_of(const struct sockaddr_storage *ss, unsigned char key[16])
{
	memset(key, 0, 16);
	if (ss->ss_family == AF_INET6)
		memcpy(key, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
	else if (ss->ss_family == AF_INET) {
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	}
}

static struct client **
slot(struct anvil *a, const unsigned char key[16])
{
	uint32_t h = 2166136261u;	/* FNV-1a */
	struct client **pp;
	size_t i;

	for (i = 0; i < 16; i++)
		h = (h ^ key[i]) * 16777619u;
	for (pp = &a->bucket[h & (BUCKETS - 1)]; *pp != NULL;
	    pp = &(*pp)->next)
		if (memcmp((*pp)->key, key, 16) == 0)
			break;
	return pp;
}

int
anvil_admit(struct anvil *a, const struct sockaddr_storage *client,
    long long now, const char **why)
{
	unsigned char key[16];
	struct client **pp, *c;
	int rc = -1;

	key_of(client, key);
	pthread_mutex_lock(&a->lock);
	if (now - a->swept >= WINDOW)
		sweep(a, now, false);
	if (a->limits.sessions > 0 && a->sessions >= a->limits.sessions) {
		*why = "too many sessions";
		goto out;
	}
	if ((c = *(pp = slot(a, key))) == NULL) {
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			*why = "out of memory";
			goto out;
		}
		memcpy(c->key, key, 16);
		c->window = now;
		*pp = c;
	}
	if (now - c->window >= WINDOW) {
		c->window = now;
		c->count = 0;
	}
	if (a->limits.client_sessions > 0 &&
	    c->sessions >= a->limits.client_sessions) {
		*why = "too many sessions from your address";
		goto out;
	}
	if (a->limits.client_rate > 0 && c->count >= a->limits.client_rate) {
		*why = "too many connections a minute from your address";
		goto out;
	}
	c->sessions++;
	c->count++;
	a->sessions++;
	rc = 0;
out:
	pthread_mutex_unlock(&a->lock);
	return rc;
}

void
anvil_release(struct anvil *a, const struct sockaddr_storage *client)
{
	unsigned char key[16];
	struct client *c;

	key_of(client, key);
	pthread_mutex_lock(&a->lock);
	if ((c = *slot(a, key)) != NULL && c->sessions > 0)
		c->sessions--;
	if (a->sessions > 0)
		a->sessions--;
	pthread_mutex_unlock(&a->lock);
}

unsigned
anvil_sessions(struct anvil *a)
{
	unsigned n;

	pthread_mutex_lock(&a->lock);
	n = a->sessions;
	pthread_mutex_unlock(&a->lock);
	return n;
}
