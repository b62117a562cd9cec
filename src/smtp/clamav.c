/* clamav.c: scanning with libclamav embedded; the only file that includes
 * clamav.h.  One compiled engine serves every session (libclamav allows
 * concurrent scans on a compiled engine).
 *
 * Limits: the engine's file and scan size limits are raised to the
 * largest message moat accepts, and CL_SCAN_HEURISTIC_EXCEEDS_MAX makes
 * any limit that still cuts a scan short (archive depth, file count, time)
 * an alert; moat reports those as scan failures, never as clean mail.
 *
 * Scratch files: libclamav writes every MIME part it decodes to a file in
 * a temporary directory, several per message.  moatd gives it a private
 * one (0700, the proxy's user, emptied whenever the proxy starts) on
 * tmpfs: decoded attachments are nobody else's to read, and on a disk
 * file system the files are most of the cost of scanning a small message
 * (4 KB: 400 us on ext4, 200 us on tmpfs).
 *
 * ignore-signature: the names go to a private .ign2 file that is loaded
 * before the database, so libclamav itself never loads those signatures
 * (ClamAV's own remedy for a false positive; an .ign2 read after the
 * signatures does nothing).  To say in the log that a message passed
 * only because of it, a second engine, the witness, holds just the
 * ignored signatures (a sigload callback skips every other one while the
 * same database is read): a clean message is shown to it too, and what it
 * finds is logged as "ignored: NAME".  It costs a second parse of the
 * clean messages, only while the list is not empty.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include <pthread.h>
#include <stdbool.h>

#include <clamav.h>

#include "smtp/scan.h"

struct clamav {
	struct scanner		 s;	/* first: a struct scanner * */
	struct cl_engine	*engine;
	struct cl_engine	*witness;	/* the ignored ones, or NULL */
	char *const		*ignore;	/* during the load only */
	unsigned		 nignore;
	struct cl_stat		 st;	/* the database as loaded */
	bool			 watched;	/* st is set */
};

static pthread_once_t	 init_once = PTHREAD_ONCE_INIT;
static cl_error_t	 init_rc;

static void
init(void)
{
	init_rc = cl_init(CL_INIT_DEFAULT);
}

/* Load the witness's signatures only: those on the ignore list. */
static int
only_ignored(const char *type, const char *name, unsigned int custom,
    void *context)
{
	struct clamav *c = context;
	unsigned i;

	(void)type;
	(void)custom;
	for (i = 0; i < c->nignore; i++)
		if (strcmp(name, c->ignore[i]) == 0)
			return 0;
	return 1;
}

/* The ignore list as an .ign2 file in dir (private), loaded into engine:
 * before the database, so that its signatures are never loaded. */
static int
load_ignore_list(struct clamav *c, const char *dir, char *err,
    size_t errlen)
{
	char path[4200];
	unsigned i, sigs = 0;
	cl_error_t rc;
	FILE *fp;
	int fd;

	snprintf(path, sizeof(path), "%s/moat-ignore-XXXXXX.ign2",
	    dir != NULL ? dir : "/tmp");
	if ((fd = mkstemps(path, 5)) == -1 || (fp = fdopen(fd, "w")) ==
	    NULL) {
		snprintf(err, errlen, "ignore-signature: %s: %s", path,
		    strerror(errno));
		if (fd != -1) {
			close(fd);
			unlink(path);
		}
		return -1;
	}
	for (i = 0; i < c->nignore; i++)
		fprintf(fp, "%s\n", c->ignore[i]);
	if (fclose(fp) != 0) {
		unlink(path);
		snprintf(err, errlen, "ignore-signature: %s: %s", path,
		    strerror(errno));
		return -1;
	}
	rc = cl_load(path, c->engine, &sigs, CL_DB_STDOPT);
	unlink(path);
	if (rc != CL_SUCCESS) {
		snprintf(err, errlen, "libclamav: the ignore list: %s",
		    cl_strerror(rc));
		return -1;
	}
	return 0;
}

/* The witness: the database read again, keeping the ignored signatures. */
static void
load_witness(struct clamav *c, const char *dbdir)
{
	unsigned sigs = 0;

	if ((c->witness = cl_engine_new()) == NULL)
		return;
	cl_engine_set_clcb_sigload(c->witness, only_ignored, c);
	if (cl_load(dbdir, c->witness, &sigs, CL_DB_STDOPT) == CL_SUCCESS)
		c->s.ignored = sigs;
	if (c->s.ignored == 0 ||
	    cl_engine_compile(c->witness) != CL_SUCCESS) {
		/* No such signature in the database: nothing to witness
		 * (moatd's log says the list matched none). */
		cl_engine_free(c->witness);
		c->witness = NULL;
	}
}

struct scanner *
clamav_open(const char *dbdir, const char *scratch, size_t max_size,
    unsigned timeout, char *const *ignore, unsigned nignore, char *err,
    size_t errlen)
{
	struct clamav *c;
	unsigned int sigs = 0;
	cl_error_t rc;
	uint64_t big = (uint64_t)max_size * 2 + (1u << 20);

	pthread_once(&init_once, init);
	if (init_rc != CL_SUCCESS) {
		snprintf(err, errlen, "libclamav: %s", cl_strerror(init_rc));
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->engine = cl_engine_new()) == NULL) {
		free(c);
		snprintf(err, errlen, "libclamav: out of memory");
		return NULL;
	}
	c->s.engine = AV_CLAMAV;
	snprintf(c->s.name, sizeof(c->s.name), "clamav %s", cl_retver());
	/* Decoded attachments can be larger than the message; allow twice. */
	if (big > 4000ull << 20)
		big = 4000ull << 20;
	cl_engine_set_num(c->engine, CL_ENGINE_MAX_FILESIZE, (long long)big);
	cl_engine_set_num(c->engine, CL_ENGINE_MAX_SCANSIZE, (long long)big);
	cl_engine_set_num(c->engine, CL_ENGINE_MAX_SCANTIME,
	    (long long)timeout * 1000);
	if (scratch != NULL)
		cl_engine_set_str(c->engine, CL_ENGINE_TMPDIR, scratch);
	c->ignore = ignore;
	c->nignore = nignore;
	if (nignore > 0 && load_ignore_list(c, scratch, err, errlen) == -1) {
		clamav_close(&c->s);
		return NULL;
	}
	if ((rc = cl_load(dbdir, c->engine, &sigs, CL_DB_STDOPT)) !=
	    CL_SUCCESS) {
		snprintf(err, errlen, "libclamav: loading %s: %s", dbdir,
		    cl_strerror(rc));
		clamav_close(&c->s);
		return NULL;
	}
	if (sigs == 0) {
		/* An empty engine finds nothing: that is not scanning. */
		snprintf(err, errlen, "libclamav: no signatures in %s", dbdir);
		clamav_close(&c->s);
		return NULL;
	}
	if ((rc = cl_engine_compile(c->engine)) != CL_SUCCESS) {
		snprintf(err, errlen, "libclamav: compiling %s: %s", dbdir,
		    cl_strerror(rc));
		clamav_close(&c->s);
		return NULL;
	}
	if (nignore > 0) {
		load_witness(c, dbdir);
		if (c->witness != NULL) {
			cl_engine_set_num(c->witness, CL_ENGINE_MAX_FILESIZE,
			    (long long)big);
			cl_engine_set_num(c->witness, CL_ENGINE_MAX_SCANSIZE,
			    (long long)big);
			cl_engine_set_num(c->witness, CL_ENGINE_MAX_SCANTIME,
			    (long long)timeout * 1000);
			if (scratch != NULL)
				cl_engine_set_str(c->witness, CL_ENGINE_TMPDIR,
				    scratch);
		}
	}
	c->ignore = NULL;	/* not ours: the caller's, for the load */
	c->nignore = 0;
	c->s.signatures = sigs;
	c->s.db_version = (unsigned)cl_engine_get_num(c->engine,
	    CL_ENGINE_DB_VERSION, NULL);
	c->s.db_time = (long long)cl_engine_get_num(c->engine,
	    CL_ENGINE_DB_TIME, NULL);
	/* What the database directory holds now, to notice an update (as
	 * clamd's SelfCheck does). */
	c->watched = cl_statinidir(dbdir, &c->st) == CL_SUCCESS;
	return &c->s;
}

bool
clamav_changed(struct scanner *s)
{
	struct clamav *c = (struct clamav *)s;

	return c->watched && cl_statchkdir(&c->st) == 1;
}

/* One engine over the whole message: CL_CLEAN, CL_VIRUS (virname set) or
 * an error. */
static cl_error_t
scan_with(struct cl_engine *engine, struct msgbuf *m, const char **virname)
{
	struct cl_scan_options opt;
	unsigned long scanned = 0;
	cl_fmap_t *map;
	cl_error_t rc;

	memset(&opt, 0, sizeof(opt));
	opt.parse = CL_SCAN_PARSE_ARCHIVE | CL_SCAN_PARSE_MAIL |
	    CL_SCAN_PARSE_OLE2 | CL_SCAN_PARSE_PDF | CL_SCAN_PARSE_HTML |
	    CL_SCAN_PARSE_PE | CL_SCAN_PARSE_ELF | CL_SCAN_PARSE_SWF |
	    CL_SCAN_PARSE_XMLDOCS | CL_SCAN_PARSE_HWP3;
	opt.general = CL_SCAN_GENERAL_HEURISTICS;
	opt.heuristic = CL_SCAN_HEURISTIC_EXCEEDS_MAX;
	*virname = NULL;
	if (m->fd != -1)
		return cl_scandesc(m->fd, NULL, virname, &scanned, engine,
		    &opt);
	if ((map = cl_fmap_open_memory(m->mem, m->len)) == NULL)
		return CL_EMEM;
	rc = cl_scanmap_callback(map, NULL, virname, &scanned, engine, &opt,
	    NULL);
	cl_fmap_close(map);
	return rc;
}

void
clamav_scan(struct scanner *s, struct msgbuf *m, struct scan_result *r)
{
	struct clamav *c = (struct clamav *)s;
	const char *virname = NULL;
	cl_error_t rc = scan_with(c->engine, m, &virname);

	if (rc == CL_CLEAN) {
		r->verdict = SCAN_CLEAN;
		/* Clean only because of ignore-signature?  The witness says,
		 * for the log; its own failures change nothing. */
		if (c->witness != NULL && scan_with(c->witness, m, &virname) ==
		    CL_VIRUS && virname != NULL &&
		    strncmp(virname, "Heuristics.", 11) != 0)
			snprintf(r->ignored, sizeof(r->ignored), "%s",
			    virname);
	} else if (rc == CL_VIRUS) {	/* a limit's alert too: scan.c */
		r->verdict = SCAN_VIRUS;
		snprintf(r->sig, sizeof(r->sig), "%s", virname ? virname :
		    "unknown");
	} else {
		snprintf(r->why, sizeof(r->why), "libclamav: %s",
		    cl_strerror(rc));
	}
}

void
clamav_close(struct scanner *s)
{
	struct clamav *c = (struct clamav *)s;

	if (c == NULL)
		return;
	if (c->engine != NULL)
		cl_engine_free(c->engine);
	if (c->witness != NULL)
		cl_engine_free(c->witness);
	if (c->watched)
		cl_statfree(&c->st);
	free(c);
}
