/* importcmd.c: moat import, a front end over src/import: read the file,
 * translate, check that moat takes the result, write it and say what was
 * not carried over. */
#include <errno.h>
#include <stdbool.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/file.h"
#include "base/strbuf.h"
#include "cli/importcmd.h"
#include "import/import.h"
#include "import/xml.h"
#include "policy/load.h"

#define EXIT_USAGE	2

static int
usage(const char *msg)
{
	fprintf(stderr, "moat: %s\nusage: moat import pfsense|opnsense "
	    "CONFIG.XML [-o moat.conf]\n       moat import iptables "
	    "IPTABLES-SAVE-FILE [-o moat.conf]\n", msg);
	return EXIT_USAGE;
}

/* The text moat's own parser takes without an error: a translation that
 * is not would be a bug of the import, said as such. */
static int
verify(const char *out, const struct strbuf *b)
{
	struct policy *p = policy_parse(out, strbuf_str(b), b->len);
	int rc = 0;

	if (p == NULL) {
		fputs("moat: import: out of memory\n", stderr);
		return -1;
	}
	if (p->diags.nerrors > 0) {
		diags_sort(&p->diags);
		diags_print(&p->diags, stderr);
		fprintf(stderr, "moat: import: the translation is not a valid "
		    "moat.conf (a bug of moat import: please report it with "
		    "the file); nothing written\n");
		rc = -1;
	}
	policy_free(p);
	return rc;
}

int
cmd_import(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL, *in;
	enum import_kind kind = IMPORT_PFSENSE;
	bool ipt = false;
	struct strbuf b, notes, report;
	struct stat st;
	char *buf, err[300];
	size_t len;
	int c, n, rc = EXIT_USAGE;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'h':
			printf("usage: moat import pfsense|opnsense CONFIG.XML "
			    "[-o moat.conf]\n       moat import iptables "
			    "IPTABLES-SAVE-FILE [-o moat.conf]\n");
			return 0;
		default: return usage("import: unknown option, or one "
		    "without its value");
		}
	}
	if (argc - optind != 2)
		return usage("import takes a kind and a file");
	if (strcmp(argv[optind], "pfsense") == 0)
		kind = IMPORT_PFSENSE;
	else if (strcmp(argv[optind], "opnsense") == 0)
		kind = IMPORT_OPNSENSE;
	else if (strcmp(argv[optind], "iptables") == 0)
		ipt = true;
	else
		return usage("import: the kind is pfsense, opnsense or "
		    "iptables");
	in = argv[optind + 1];
	if (out != NULL && strcmp(out, "-") != 0 && stat(out, &st) == 0) {
		fprintf(stderr, "moat: import: %s exists: nothing written (say "
		    "another file, or remove it)\n", out);
		return EXIT_USAGE;
	}
	if ((buf = file_read(in, XML_MAX_SIZE, &len)) == NULL) {
		fprintf(stderr, "moat: import: %s: %s\n", in, errno == EFBIG ?
		    "larger than 32 MB" : strerror(errno));
		return EXIT_USAGE;
	}
	strbuf_init(&b, 0);
	strbuf_init(&notes, 0);
	strbuf_init(&report, 0);
	err[0] = '\0';
	n = ipt ? import_iptables(in, buf, len, &b, &notes, &report, err,
	    sizeof(err)) : import_xml(kind, in, buf, len, &b, &notes, &report,
	    err, sizeof(err));
	free(buf);
	if (n == -1) {
		fprintf(stderr, "%s:%s\n", in, err);
		if (notes.len > 0)
			fprintf(stderr, "moat: import: and these elements were "
			    "not carried over:\n%s", strbuf_str(&notes));
		goto out;
	}
	if (verify(out != NULL ? out : "(import)", &b) == -1)
		goto out;
	if (out == NULL || strcmp(out, "-") == 0)
		fputs(strbuf_str(&b), stdout);
	else if (file_replace(out, b.s, b.len, 0644, 0) == -1) {
		fprintf(stderr, "moat: import: %s: %s\n", out, strerror(errno));
		goto out;
	}
	if (n > 0)
		fprintf(stderr, "moat: import: %d element%s not carried over "
		    "(or carried with a difference):\n%s", n, n == 1 ? "" : "s",
		    strbuf_str(&notes));
	fputs(strbuf_str(&report), stderr);
	rc = n > 0 ? 1 : 0;
out:
	strbuf_free(&report);
	strbuf_free(&b);
	strbuf_free(&notes);
	return rc;
}
