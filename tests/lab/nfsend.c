/* nfsend: a script of nft lines sent as moat's incremental apply sends a
 * difference (nfdelta.c over nfset.c's batch, rules by nfrule.c), for
 * tests/lab/nfrule.sh.
 *
 *   nfsend FILE	every line must be readable: one transaction, the
 *			kernel's word; exit 0, 1 (refused), 2 (a line it
 *			cannot send: printed)
 *   nfsend -c FILE	check only: print each line nfdelta cannot send,
 *			one per line; exit 0
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "enforce/nfdelta.h"

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *s = NULL;
	size_t n = 0, cap = 0, got;

	if (f == NULL)
		return NULL;
	for (;;) {
		if (cap - n < 65536) {
			cap = cap ? 2 * cap : 1 << 20;
			if ((s = realloc(s, cap + 1)) == NULL)
				exit(3);
		}
		if ((got = fread(s + n, 1, cap - n, f)) == 0)
			break;
		n += got;
	}
	fclose(f);
	s[n] = '\0';
	return s;
}

int
main(int argc, char **argv)
{
	bool check = argc == 3 && strcmp(argv[1], "-c") == 0;
	struct nfset *b = nfset_new();
	const char *refused = NULL;
	struct strbuf err;
	char *s, *line, *nl;
	int rc;

	if ((argc != 2 && !check) || b == NULL)
		return 3;
	if ((s = slurp(argv[argc - 1])) == NULL) {
		perror(argv[argc - 1]);
		return 3;
	}
	if (check) {
		for (line = s; *line != '\0'; line = nl + 1) {
			char save;

			if ((nl = strchr(line, '\n')) == NULL)
				nl = line + strlen(line);
			save = *nl;
			*nl = '\0';
			if (*line != '\0' && nfdelta_script(b, line, NULL,
			    NULL, NULL, NULL) != 0)
				printf("%s\n", line);
			*nl = save;
			if (save == '\0')
				break;
		}
		nfset_free(b);
		free(s);
		return 0;
	}
	if ((rc = nfdelta_script(b, s, NULL, NULL, NULL, &refused)) != 0) {
		printf("%.*s\n", (int)strcspn(refused, "\n"), refused);
		nfset_free(b);
		free(s);
		return 2;
	}
	strbuf_init(&err, 0);
	rc = nfset_commit(b, 60000, &err);
	if (rc != 0)
		fprintf(stderr, "nfsend: %s\n", strbuf_str(&err));
	strbuf_free(&err);
	nfset_free(b);
	free(s);
	return rc == 0 ? 0 : 1;
}
