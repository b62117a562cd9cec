/* import.h: another firewall's configuration as a moat.conf.
 *
 * The import reads a pfSense or OPNsense config.xml (pfsense.c, through
 * xml.c) or the output of iptables-save (iptables.c) and writes moat's
 * config language; it never applies anything.
 * What it cannot carry over is never dropped in silence: each such element
 * is a note naming its place in the source (an XML path) and why.
 */
#ifndef MOAT_IMPORT_H
#define MOAT_IMPORT_H

#include <stddef.h>

#include "base/strbuf.h"

enum import_kind {
	IMPORT_PFSENSE = 0,
	IMPORT_OPNSENSE,
};

/* Translate a config.xml of kind into moat.conf text in out (the notes
 * are at its head as comments too), and one line per element not carried
 * over ("PATH: why") in notes.  file names the source in the header.
 * With report, the equivalence report (proof.h) is written there.
 * Returns the number of notes, or -1 when the file cannot be read as
 * such a config at all, with the reason in err. */
int	import_xml(enum import_kind kind, const char *file, const char *buf,
	    size_t len, struct strbuf *out, struct strbuf *notes,
	    struct strbuf *report, char *err, size_t errlen);

/* import_xml's report, but comparing the source with conf, a moat.conf
 * of the caller's (the import's own output edited, say), instead of the
 * import's output; nothing else is written.  Returns as import_xml; a
 * conf that moat's parser refuses gives no report. */
int	import_xml_against(enum import_kind kind, const char *file,
	    const char *buf, size_t len, const char *conf, size_t conflen,
	    struct strbuf *report, char *err, size_t errlen);

/* The same for the output of iptables-save (iptables.c); the notes are
 * "line N: why", the report compares iptables' chain traversal. */
int	import_iptables(const char *file, const char *buf, size_t len,
	    struct strbuf *out, struct strbuf *notes, struct strbuf *report,
	    char *err, size_t errlen);

#endif
