/* fuzz_import.c: libFuzzer target for moat import of a config.xml
 * or of iptables-save output (src/import: xml.c, pfsense.c, iptables.c).
 * Input: a byte that picks pfSense, OPNsense or iptables (its value
 * modulo 3), then the document.  Invariants: a refused document gives
 * no text and an error at LINE:COLUMN; an imported one is a moat.conf
 * that moat's own parser takes without an error, its notes one line each
 * ("/PATH: why", "line N: why"), as many as counted, and at its head as comments.
 * Built with clang -fsanitize=fuzzer by scripts/fuzz.sh import; replay.c
 * runs the corpus in the test suite. */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "import/import.h"
#include "policy/load.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf out, notes, report;
	struct policy *p;
	const char *s, *nl;
	char err[300];
	int n, lines = 0;
	bool ipt;

	if (size < 1)
		return 0;
	strbuf_init(&out, 0);
	strbuf_init(&notes, 0);
	strbuf_init(&report, 0);
	err[0] = '\0';
	ipt = data[0] % 3 == 2;
	n = ipt ? import_iptables("fuzz.rules", (const char *)data + 1,
	    size - 1, &out, &notes, &report, err, sizeof(err)) :
	    import_xml(data[0] % 3 == 1 ? IMPORT_OPNSENSE : IMPORT_PFSENSE,
	    "fuzz.xml", (const char *)data + 1, size - 1, &out, &notes,
	    &report, err, sizeof(err));
	if (n == -1) {
		s = err;
		if (!isdigit((unsigned char)*s))
			abort();
		while (isdigit((unsigned char)*s))
			s++;
		if (*s++ != ':' || !isdigit((unsigned char)*s))
			abort();
		while (isdigit((unsigned char)*s))
			s++;
		if (strncmp(s, ": ", 2) != 0)
			abort();
	} else {
		for (s = strbuf_str(&notes); (nl = strchr(s, '\n')) != NULL;
		    s = nl + 1) {
			if ((ipt ? strncmp(s, "line ", 5) != 0 : s[0] != '/') ||
			    memchr(s, ':', (size_t)(nl - s)) == NULL)
				abort();
			lines++;
		}
		if (*s != '\0' || lines != n)
			abort();
		p = policy_parse("fuzz.conf", strbuf_str(&out), out.len);
		if (p == NULL)
			abort();
		if (p->diags.nerrors > 0) {
			diags_print(&p->diags, stderr);
			fputs(strbuf_str(&out), stderr);
			abort();
		}
		policy_free(p);
	}
	strbuf_free(&out);
	strbuf_free(&notes);
	strbuf_free(&report);
	return 0;
}
