/* nft.c: run nft scripts through libnftables; see nft.h.  The only file
 * that includes <nftables/libnftables.h>. */
#include "enforce/nft.h"

#include <errno.h>
#include <fcntl.h>
#include <nftables/libnftables.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A script this long is run in a process of its own (run_apart). */
#define NFT_APART_MIN	(1u << 20)
#define NFT_ERR_MAX	(64u << 10)

static int
run(const char *script, bool dry_run, unsigned flags, struct strbuf *out,
    struct strbuf *err)
{
	struct nft_ctx *ctx;
	const char *s;
	int rc;

	if ((ctx = nft_ctx_new(NFT_CTX_DEFAULT)) == NULL) {
		strbuf_puts(err, "cannot create an nftables context");
		return -1;
	}
	if (nft_ctx_buffer_output(ctx) != 0 || nft_ctx_buffer_error(ctx) != 0) {
		strbuf_puts(err, "cannot buffer nftables output");
		nft_ctx_free(ctx);
		return -1;
	}
	nft_ctx_set_dry_run(ctx, dry_run);
	if (flags != 0)
		nft_ctx_output_set_flags(ctx, nft_ctx_output_get_flags(ctx) |
		    flags);
	rc = nft_run_cmd_from_buffer(ctx, script);
	if ((s = nft_ctx_get_output_buffer(ctx)) != NULL && out != NULL)
		strbuf_puts(out, s);
	if ((s = nft_ctx_get_error_buffer(ctx)) != NULL && *s != '\0') {
		size_t n = strlen(s);

		/* The kernel's report, without its last line end: errors
		 * carry none (doc/design/errors.md). */
		while (n > 0 && s[n - 1] == '\n')
			n--;
		strbuf_add(err, s, n);
	} else if (rc != 0)
		strbuf_puts(err, "nftables refused the ruleset");
	nft_ctx_free(ctx);
	return rc == 0 ? 0 : -1;
}

/*
 * libnftables takes memory in proportion to the script, several times its
 * size (a million set elements, or 100,000 rules: hundreds of MB), and
 * the allocator keeps most of it for the process's life.  A long script
 * runs in a child that exits after it, so that moatd's parent stays
 * small; the kernel's answer comes back over a pipe.
 */
static int
run_apart(const char *script, struct strbuf *err)
{
	char buf[4096];
	size_t got = 0;
	ssize_t n;
	pid_t pid;
	int p[2], status;

	if (pipe2(p, O_CLOEXEC) == -1)
		return run(script, false, 0, NULL, err);
	if ((pid = fork()) == -1) {
		close(p[0]);
		close(p[1]);
		return run(script, false, 0, NULL, err);
	}
	if (pid == 0) {
		struct strbuf e;
		int rc;

		close(p[0]);
		signal(SIGPIPE, SIG_IGN);
		strbuf_init(&e, 0);
		rc = run(script, false, 0, NULL, &e);
		if (e.len > 0 && write(p[1], strbuf_str(&e), e.len) < 0)
			rc = -1;
		_exit(rc == 0 ? 0 : 1);
	}
	close(p[1]);
	while ((n = read(p[0], buf, sizeof(buf))) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (got < NFT_ERR_MAX)
			strbuf_add(err, buf, (size_t)n);
		got += (size_t)n;
	}
	close(p[0]);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (err->len == 0)
		strbuf_puts(err, "nftables refused the ruleset");
	return -1;
}

int
nft_run(const char *script, bool dry_run, struct strbuf *out,
    struct strbuf *err)
{
	if (!dry_run && out == NULL && strlen(script) >= NFT_APART_MIN)
		return run_apart(script, err);
	return run(script, dry_run, 0, out, err);
}

/*
 * A listing under TZ=UTC.  nft prints `meta hour` in its process's local
 * time (the seconds moat writes plus the offset of now): listed under
 * the caller's zone, the same ruleset would read differently in moatd
 * and in a shell, and across summer time, and the drift check (a hash of
 * the listing) would call it changed.
 */
static int
list_utc(const char *cmds, unsigned flags, struct strbuf *out,
    struct strbuf *err)
{
	const char *tz = getenv("TZ");
	char *saved = tz != NULL ? strdup(tz) : NULL;
	int rc;

	setenv("TZ", "UTC", 1);
	tzset();
	rc = run(cmds, false, flags, out, err);
	if (saved != NULL)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	tzset();
	free(saved);
	return rc;
}

int
nft_list_json(const char *cmds, struct strbuf *out, struct strbuf *err)
{
	return list_utc(cmds, NFT_CTX_OUTPUT_JSON, out, err);
}

int
nft_list_stateless(const char *cmds, struct strbuf *out, struct strbuf *err)
{
	return list_utc(cmds, NFT_CTX_OUTPUT_STATELESS, out, err);
}
