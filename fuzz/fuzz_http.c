/*
 * fuzz_http.c: libFuzzer target for the console's request handling: the
 * bytes of one client connection (any number of requests, pipelined, cut
 * anywhere) through libmicrohttpd and src/web/console.c, with TLS left
 * out and a stand-in for moatd's parent that records what it is asked.
 *
 * "@S@" in an input becomes a valid session cookie, "@C@" that session's
 * CSRF token (a fresh login for every input, so inputs replay alike).
 * The parent decides who asks (daemon/identity.h); the console's part,
 * checked for every input:
 *  - without a session cookie, the parent is asked nothing but to log in,
 *    and every other request carries the cookie's token as "session";
 *  - without an X-CSRF-Token, the parent is asked nothing that changes
 *    the gateway (only what GET requests ask);
 *  - no answer carries the file beside the pages' directory, reached by
 *    a path, an escape or the symbolic link in it;
 *  - and, from the sanitizers, no memory error or undefined behaviour.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/frame.h"
#include "base/log.h"
#include "web/console.h"
#include "../tests/scratch.h"

#define SECRET		"FUZZ-SECRET-7f3a91"
#define INPUT_MAX	(256 * 1024)
#define OPS_MAX		64
#define TOKEN		"5e55105e55105e55105e55105e55105e55105e55105e55105e55105e55105e55"
#define CSRF		"c5cfc5cfc5cfc5cfc5cfc5cfc5cfc5cfc5cfc5cfc5cfc5cfc5cfc5cfc5cfc5cf"

static char dir[64], root[128];
static struct console_conf cc;
static struct console *server;
static int parent_fd;
static char token[80], csrf[80];

static pthread_mutex_t ops_lock = PTHREAD_MUTEX_INITIALIZER;
static char ops[OPS_MAX][32];
static bool ops_session[OPS_MAX], ops_csrf[OPS_MAX];
static size_t nops;

/* What a GET may ask (api() in console.c). */
static const char *const read_ops[] = { "get-config", "policy", "history",
    "status", "log", "mail-log", "diff", NULL };

static void
write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	if (fp == NULL)
		abort();
	fputs(text, fp);
	fclose(fp);
}

/* moatd's parent, played: "login" with the password fuzz-pass-1 is let
 * in; every other request is answered 200 and written down. */
static void *
parent(void *arg)
{
	(void)arg;
	for (;;) {
		size_t len;
		uint32_t id;
		char *req = frame_recv_id(parent_fd, FRAME_MAX, &id, &len);
		json_t *r;
		const char *op, *pw, *ans, *ses, *cs;

		if (req == NULL)
			return NULL;
		r = json_loadb(req, len, 0, NULL);
		free(req);
		op = json_string_value(json_object_get(r, "op"));
		pw = json_string_value(json_object_get(r, "password"));
		ses = json_string_value(json_object_get(r, "session"));
		cs = json_string_value(json_object_get(r, "csrf"));
		if (op != NULL && strcmp(op, "login") == 0)
			ans = pw != NULL && strcmp(pw, "fuzz-pass-1") == 0 ?
			    "{\"status\":200,\"token\":\"" TOKEN "\",\"csrf\":"
			    "\"" CSRF "\",\"user\":\"admin\"}" :
			    "{\"status\":401}";
		else
			ans = "{\"status\":200,\"answer\":\"from the parent\"}";
		pthread_mutex_lock(&ops_lock);
		if (nops < OPS_MAX) {
			ops_session[nops] = ses != NULL;
			ops_csrf[nops] = cs != NULL;
			snprintf(ops[nops++], sizeof(ops[0]), "%s", op != NULL ?
			    op : "(none)");
		}
		pthread_mutex_unlock(&ops_lock);
		json_decref(r);
		if (frame_send_id(parent_fd, id, ans, strlen(ans)) == -1)
			return NULL;
	}
}

/* One connection from addr: send in, read the answers to the end. */
static size_t
converse(const char *in, size_t len, uint32_t addr, char *out, size_t cap)
{
	struct sockaddr_in sa;
	int sp[2], fl;
	size_t sent = 0, got = 0;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1)
		abort();
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(addr);
	if (console_connection(server, sp[1], (struct sockaddr *)&sa,
	    sizeof(sa)) == -1) {
		close(sp[0]);
		close(sp[1]);
		return 0;
	}
	fl = fcntl(sp[0], F_GETFL);
	fcntl(sp[0], F_SETFL, fl | O_NONBLOCK);
	if (len == 0)
		shutdown(sp[0], SHUT_WR);
	for (;;) {
		struct pollfd p = { sp[0], POLLIN | (sent < len ? POLLOUT : 0),
		    0 };
		char buf[16384];
		ssize_t n;

		if (poll(&p, 1, 2000) <= 0)
			break;	/* the server holds the connection: enough */
		if ((p.revents & POLLOUT) && sent < len) {
			n = write(sp[0], in + sent, len - sent);
			if (n > 0 && (sent += (size_t)n) == len)
				shutdown(sp[0], SHUT_WR);
			else if (n == -1 && errno != EAGAIN)
				sent = len;
		}
		if (p.revents & (POLLIN | POLLHUP)) {
			n = read(sp[0], buf, sizeof(buf));
			if (n <= 0 && !(n == -1 && errno == EAGAIN))
				break;
			if (n > 0 && got < cap) {
				size_t k = (size_t)n < cap - got ? (size_t)n :
				    cap - got;

				memcpy(out + got, buf, k);
				got += k;
			}
		}
	}
	close(sp[0]);
	return got;
}

static void
login(void)
{
	static const char body[] = "{\"user\":\"admin\",\"password\":"
	    "\"fuzz-pass-1\"}";
	char req[512], *out = malloc(65536), *t, *c;
	size_t n;
	int tries = 0;

	if (out == NULL)
		abort();
	snprintf(req, sizeof(req), "POST /api/v1/login HTTP/1.1\r\nHost: gw"
	    "\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
	    "Connection: close\r\n\r\n%s", strlen(body), body);
	while ((n = converse(req, strlen(req), 0x7f000001, out, 65535)) == 0 &&
	    ++tries < 50)
		usleep(100000);
	/* libmicrohttpd may refuse a connection handed in while it
	 * closes the last one: tried again, and only 50 refusals count. */
	if (n == 0)
		fprintf(stderr, "fuzz_http: no login after %d tries, %u "
		    "connections open\n", tries, console_connections(server));
	out[n] = '\0';
	if ((t = strstr(out, "moat_session=")) == NULL ||
	    (c = strstr(out, "\"csrf\":\"")) == NULL ||
	    sscanf(t + 13, "%64[0-9a-f]", token) != 1 ||
	    sscanf(c + 8, "%64[0-9a-f]", csrf) != 1) {
		fprintf(stderr, "fuzz_http: no session: %s\n", out);
		abort();
	}
	free(out);
}

static void
setup(void)
{
	char path[256];
	pthread_t t;
	int sp[2];

	log_init(open("/dev/null", O_WRONLY | O_CLOEXEC), "fuzz_http");
	scratch_make("fuzz-http", dir, sizeof(dir));
	snprintf(root, sizeof(root), "%s/web", dir);
	if (mkdir(root, 0755) == -1)
		abort();
	snprintf(path, sizeof(path), "%s/index.html", root);
	write_file(path, "<!doctype html><title>moat</title>\n");
	snprintf(path, sizeof(path), "%s/moat.js", root);
	write_file(path, "\"use strict\";\n");
	snprintf(path, sizeof(path), "%s/secret.txt", dir);
	write_file(path, SECRET "\n");
	snprintf(path, sizeof(path), "%s/link.html", root);
	if (symlink("../secret.txt", path) == -1)
		abort();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1)
		abort();
	parent_fd = sp[1];
	if (pthread_create(&t, NULL, parent, NULL) != 0)
		abort();
	pthread_detach(t);
	cc.listen_fd = -1;
	cc.ctl = sp[0];
	cc.root = root;
	cc.plain = true;
	if ((server = console_start(&cc)) == NULL)
		abort();
}

/* The input with @S@ and @C@ put in; *has_s and *has_c say whether they
 * were there. */
static char *
expand(const uint8_t *data, size_t size, size_t *len, bool *has_s,
    bool *has_c)
{
	char *o = malloc(size * 22 + 1);
	size_t i, n = 0;

	if (o == NULL)
		abort();
	*has_s = *has_c = false;
	for (i = 0; i < size; i++) {
		if (i + 3 <= size && memcmp(data + i, "@S@", 3) == 0) {
			memcpy(o + n, token, 64);
			n += 64;
			i += 2;
			*has_s = true;
		} else if (i + 3 <= size && memcmp(data + i, "@C@", 3) == 0) {
			memcpy(o + n, csrf, 64);
			n += 64;
			i += 2;
			*has_c = true;
		} else
			o[n++] = (char)data[i];
	}
	*len = n;
	return o;
}

static bool
is_read_op(const char *op)
{
	size_t i;

	for (i = 0; read_ops[i] != NULL; i++)
		if (strcmp(op, read_ops[i]) == 0)
			return true;
	return false;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint32_t next = 0x0a000001;	/* each input its own address */
	char *in, *out;
	size_t len, got, i;
	bool has_s, has_c;

	if (size > INPUT_MAX)
		return 0;
	if (server == NULL)
		setup();
	login();
	in = expand(data, size, &len, &has_s, &has_c);
	if ((out = malloc(1 << 20)) == NULL)
		abort();
	pthread_mutex_lock(&ops_lock);
	nops = 0;
	pthread_mutex_unlock(&ops_lock);
	got = converse(in, len, next++, out, (1 << 20) - 1);
	if (next == 0x0affffff)
		next = 0x0a000001;
	out[got] = '\0';
	if (memmem(out, got, SECRET, strlen(SECRET)) != NULL) {
		fprintf(stderr, "fuzz_http: a file outside the pages\n");
		abort();
	}
	pthread_mutex_lock(&ops_lock);
	for (i = 0; i < nops; i++) {
		if (!ops_session[i] &&
		    strcmp(ops[i], "login") != 0) {
			fprintf(stderr, "fuzz_http: '%s' without a session\n",
			    ops[i]);
			abort();
		}
		if (!ops_csrf[i] && strcmp(ops[i], "login") != 0 &&
		    !is_read_op(ops[i])) {
			fprintf(stderr, "fuzz_http: '%s' without the CSRF "
			    "token\n", ops[i]);
			abort();
		}
	}
	pthread_mutex_unlock(&ops_lock);
	free(out);
	free(in);
	return 0;
}
