/* nft.c: run nft scripts through libnftables; see nft.h.  The only file
 * that includes <nftables/libnftables.h>. */
#include "enforce/nft.h"

#include "base/apart.h"

#include <errno.h>
#include <fcntl.h>
#include <nftables/libnftables.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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
struct apart_job {
	const char	*script;
};

static int
run_job(void *arg, struct strbuf *err)
{
	struct apart_job *j = arg;

	return run(j->script, false, 0, NULL, err);
}

static int
run_apart(const char *script, struct strbuf *err)
{
	struct apart_job j = { script };
	int r = apart_run(run_job, &j, err, NFT_ERR_MAX, APART_LOAD_MS);

	if (r == 0)
		return 0;
	if (r == APART_LATE)
		strbuf_printf(err, "%slibnftables did not finish within %d s "
		    "and was stopped", err->len > 0 ? "; " : "",
		    APART_LOAD_MS / 1000);
	else if (err->len == 0)
		strbuf_puts(err, "nftables refused the ruleset");
	return -1;
}

int
nft_run(const char *script, bool dry_run, struct strbuf *out,
    struct strbuf *err)
{
	if (!dry_run && out == NULL && strlen(script) >= APART_MIN)
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
