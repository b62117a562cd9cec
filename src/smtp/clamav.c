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
 */
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

struct scanner *
clamav_open(const char *dbdir, const char *scratch, size_t max_size,
    unsigned timeout, char *err, size_t errlen)
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

void
clamav_scan(struct scanner *s, struct msgbuf *m, struct scan_result *r)
{
	struct clamav *c = (struct clamav *)s;
	struct cl_scan_options opt;
	const char *virname = NULL;
	unsigned long scanned = 0;
	cl_error_t rc;

	memset(&opt, 0, sizeof(opt));
	opt.parse = CL_SCAN_PARSE_ARCHIVE | CL_SCAN_PARSE_MAIL |
	    CL_SCAN_PARSE_OLE2 | CL_SCAN_PARSE_PDF | CL_SCAN_PARSE_HTML |
	    CL_SCAN_PARSE_PE | CL_SCAN_PARSE_ELF | CL_SCAN_PARSE_SWF |
	    CL_SCAN_PARSE_XMLDOCS | CL_SCAN_PARSE_HWP3;
	opt.general = CL_SCAN_GENERAL_HEURISTICS;
	opt.heuristic = CL_SCAN_HEURISTIC_EXCEEDS_MAX;
	if (m->fd == -1) {
		cl_fmap_t *map = cl_fmap_open_memory(m->mem, m->len);

		if (map == NULL) {
			snprintf(r->why, sizeof(r->why), "libclamav: cannot "
			    "map the message");
			return;
		}
		rc = cl_scanmap_callback(map, NULL, &virname, &scanned,
		    c->engine, &opt, NULL);
		cl_fmap_close(map);
	} else
		rc = cl_scandesc(m->fd, NULL, &virname, &scanned, c->engine,
		    &opt);
	if (rc == CL_CLEAN) {
		r->verdict = SCAN_CLEAN;
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
	if (c->watched)
		cl_statfree(&c->st);
	free(c);
}
