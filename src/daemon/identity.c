/* identity.c: see identity.h. */
#include "daemon/identity.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#define THROTTLE_SLOTS	256

struct throttle {
	char	 key[80];		/* "a ADDR" or "u USER" */
	unsigned fails;
	time_t	 first, blocked_until;
};

/* Where a user has logged in before: that user from that address (its
 * key) meets only the address's own throttle, not the user's nor the
 * overall one, which anyone can fill with wrong passwords (a review,
 * 2026-12-07: five wrong logins from each of ten addresses a minute kept
 * every admin out). */
#define KNOWN_SLOTS	128
#define KNOWN_KEEP	(30 * 86400)	/* s a known address is kept */

struct known {
	char	 key[112];		/* "USER ADDR-KEY" */
	time_t	 last;			/* its last login; 0: free */
};

struct identity {
	struct session	 sessions[IDENTITY_SESSIONS];
	struct throttle	 slots[THROTTLE_SLOTS];
	struct known	 known[KNOWN_SLOTS];
	struct throttle	 all;
	struct stat	 users_seen;	/* the users file when last read */
};

struct identity *
identity_new(void)
{
	return calloc(1, sizeof(struct identity));
}

void
identity_free(struct identity *id)
{
	if (id != NULL)
		explicit_bzero(id, sizeof(*id));
	free(id);
}

static void
random_hex(char *out, size_t bytes)
{
	unsigned char r[32];
	size_t i;

	if (bytes > sizeof(r) || getrandom(r, bytes, 0) != (ssize_t)bytes)
		abort();	/* no randomness: no safe session */
	for (i = 0; i < bytes; i++)
		snprintf(out + 2 * i, 3, "%02x", r[i]);
}

/* Equal strings, in a time that does not tell where they differ. */
static bool
same(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i;
	unsigned char d = la != lb;

	for (i = 0; i < la && i < lb; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

void
identity_addr_key(const char *addr, char *key, size_t len)
{
	struct in6_addr a;

	if (inet_pton(AF_INET6, addr, &a) == 1) {
		char buf[INET6_ADDRSTRLEN];

		/* an IPv4 client of a listener on [::] is its IPv4 address,
		 * not ::/64, which every IPv4 client would share */
		if (IN6_IS_ADDR_V4MAPPED(&a)) {
			inet_ntop(AF_INET, a.s6_addr + 12, buf, sizeof(buf));
			snprintf(key, len, "%s", buf);
			return;
		}
		memset(a.s6_addr + 8, 0, 8);
		inet_ntop(AF_INET6, &a, buf, sizeof(buf));
		snprintf(key, len, "%s/64", buf);
	} else
		snprintf(key, len, "%.63s", addr);
}

/* The key of addr itself (an IPv6 address whole, canonical; an IPv4
 * client of [::] as IPv4). */
static void
addr_full(const char *addr, char *key, size_t len)
{
	struct in6_addr a;
	char buf[INET6_ADDRSTRLEN];

	if (inet_pton(AF_INET6, addr, &a) == 1 && !IN6_IS_ADDR_V4MAPPED(&a)) {
		inet_ntop(AF_INET6, &a, buf, sizeof(buf));
		snprintf(key, len, "%s", buf);
	} else
		identity_addr_key(addr, key, len);
}

/* key's slot: found, free, or the one counting from longest ago, never
 * keep or keep2 (the other slots of the same login: the address's, its
 * network's and the user's must be apart). */
static struct throttle *
slot(struct identity *id, const char *key, const struct throttle *keep,
    const struct throttle *keep2)
{
	struct throttle *free_slot = NULL, *oldest = NULL;
	size_t i;

	for (i = 0; i < THROTTLE_SLOTS; i++) {
		struct throttle *t = &id->slots[i];

		if (strcmp(t->key, key) == 0)
			return t;
		if (t == keep || t == keep2)
			continue;
		if (t->key[0] == '\0' && free_slot == NULL)
			free_slot = t;
		if (oldest == NULL || t->first < oldest->first)
			oldest = t;
	}
	if (free_slot == NULL)
		free_slot = oldest;
	memset(free_slot, 0, sizeof(*free_slot));
	snprintf(free_slot->key, sizeof(free_slot->key), "%s", key);
	return free_slot;
}

/* The slot of key among the known, or NULL; with add, one made (a free
 * one, else the least recently used). */
static struct known *
known_slot(struct identity *id, const char *key, time_t now, bool add)
{
	struct known *lru = &id->known[0];
	size_t i;

	for (i = 0; i < KNOWN_SLOTS; i++) {
		struct known *k = &id->known[i];

		if (k->last != 0 && now - k->last > KNOWN_KEEP)
			memset(k, 0, sizeof(*k));
		if (k->last != 0 && strcmp(k->key, key) == 0)
			return k;
		if (k->last < lru->last)
			lru = k;
	}
	if (!add)
		return NULL;
	memset(lru, 0, sizeof(*lru));
	snprintf(lru->key, sizeof(lru->key), "%s", key);
	return lru;
}

static bool
blocked(const struct throttle *t, time_t now)
{
	return t->blocked_until > now;
}

static void
failed(struct throttle *t, unsigned limit, time_t now)
{
	if (now - t->first >= THROTTLE_WINDOW) {
		t->first = now;
		t->fails = 0;
	}
	if (++t->fails >= limit)
		t->blocked_until = now + THROTTLE_BLOCK;
}

int
identity_login(struct identity *id, const char *users, const char *user,
    const char *password, const char *addr, time_t now,
    const struct session **out)
{
	char akey[80], nkey[80], ukey[80], kkey[112], ak[64], fk[64];
	char hash[256];
	struct throttle *ta, *tn = NULL, *tu;
	struct session *s = &id->sessions[0];
	struct known *k;
	bool known;
	size_t i;
	int rc;

	/* An IPv6 client counts as its address and as its /64 (whose other
	 * addresses are the same host's to take); where the user has logged
	 * in before, that address meets its own throttle only: a host of
	 * the same /64 failing five times kept every admin of it out (a
	 * review, 2026-12-07). */
	identity_addr_key(addr, ak, sizeof(ak));
	addr_full(addr, fk, sizeof(fk));
	snprintf(akey, sizeof(akey), "a %s", fk);
	snprintf(nkey, sizeof(nkey), "a %s", ak);
	snprintf(ukey, sizeof(ukey), "u %.*s", USER_MAX, user);
	snprintf(kkey, sizeof(kkey), "%.*s %s", USER_MAX, user, fk);
	known = known_slot(id, kkey, now, false) != NULL;
	ta = slot(id, akey, NULL, NULL);
	if (strcmp(ak, fk) != 0)
		tn = slot(id, nkey, ta, NULL);
	tu = slot(id, ukey, ta, tn);
	if (blocked(ta, now) || (!known && ((tn != NULL && blocked(tn, now)) ||
	    blocked(tu, now) || blocked(&id->all, now))))
		return 429;
	if ((rc = users_check(users, user, password)) == -1)
		return 503;
	if (rc == 0 || users_hash(users, user, hash, sizeof(hash)) != 1) {
		failed(ta, THROTTLE_ADDR, now);
		if (tn != NULL)
			failed(tn, THROTTLE_ADDR, now);
		failed(tu, THROTTLE_USER, now);
		failed(&id->all, THROTTLE_ALL, now);
		return 401;
	}
	ta->fails = tu->fails = 0;
	if ((k = known_slot(id, kkey, now, true)) != NULL)
		k->last = now;
	for (i = 0; i < IDENTITY_SESSIONS; i++) {
		if (id->sessions[i].token[0] == '\0') {
			s = &id->sessions[i];
			break;
		}
		if (id->sessions[i].last < s->last)
			s = &id->sessions[i];
	}
	memset(s, 0, sizeof(*s));
	random_hex(s->token, IDENTITY_TOKEN / 2);
	random_hex(s->csrf, IDENTITY_TOKEN / 2);
	snprintf(s->user, sizeof(s->user), "%s", user);
	snprintf(s->hash, sizeof(s->hash), "%s", hash);
	s->last = now;
	s->born = now;
	*out = s;
	return 200;
}

/* The users file changed since it was last read: each session whose
 * user's line is not what it was at login ends. */
static void
users_changed(struct identity *id, const char *users)
{
	struct stat st;
	char hash[256];
	size_t i;

	if (stat(users, &st) == -1)
		memset(&st, 0, sizeof(st));
	if (st.st_ino == id->users_seen.st_ino &&
	    st.st_dev == id->users_seen.st_dev &&
	    st.st_size == id->users_seen.st_size &&
	    st.st_mtim.tv_sec == id->users_seen.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == id->users_seen.st_mtim.tv_nsec)
		return;
	id->users_seen = st;
	for (i = 0; i < IDENTITY_SESSIONS; i++) {
		struct session *s = &id->sessions[i];

		if (s->token[0] != '\0' && (users_hash(users, s->user, hash,
		    sizeof(hash)) != 1 || strcmp(hash, s->hash) != 0))
			memset(s, 0, sizeof(*s));
	}
}

const struct session *
identity_session(struct identity *id, const char *users, const char *token,
    bool need_csrf, const char *csrf, unsigned idle, time_t now,
    bool *bad_csrf)
{
	size_t i;

	*bad_csrf = false;
	if (token == NULL || strlen(token) != IDENTITY_TOKEN)
		return NULL;
	users_changed(id, users);
	for (i = 0; i < IDENTITY_SESSIONS; i++) {
		struct session *s = &id->sessions[i];

		if (s->token[0] == '\0' || !same(s->token, token))
			continue;
		if (now - s->last > (time_t)idle ||
		    now - s->born > IDENTITY_LIFETIME) {
			memset(s, 0, sizeof(*s));	/* timed out */
			return NULL;
		}
		if (need_csrf && (csrf == NULL || !same(s->csrf, csrf))) {
			*bad_csrf = true;
			return NULL;
		}
		s->last = now;
		return s;
	}
	return NULL;
}

void
identity_logout(struct identity *id, const char *token)
{
	size_t i;

	for (i = 0; token != NULL && i < IDENTITY_SESSIONS; i++)
		if (id->sessions[i].token[0] != '\0' &&
		    same(id->sessions[i].token, token))
			memset(&id->sessions[i], 0, sizeof(id->sessions[i]));
}
