/* counters.c: see counters.h.  The kernel's listing is libnftables' JSON
 * (libnftables-json(5)), read with jansson: an array "nftables" of
 * objects, one {"counter": {"family", "table", "name", "packets",
 * "bytes", …}} per counter. */
#include "enforce/counters.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enforce/nft.h"

int
counters_parse(const char *text, struct counter **v, size_t *n,
    struct strbuf *err)
{
	json_error_t jerr;
	json_t *root, *items, *item;
	size_t i, cap = 0;
	int rc = -1;

	*v = NULL;
	*n = 0;
	if ((root = json_loads(text, 0, &jerr)) == NULL) {
		strbuf_printf(err, "nftables listing: %s (line %d)", jerr.text,
		    jerr.line);
		return -1;
	}
	if (!json_is_array(items = json_object_get(root, "nftables"))) {
		strbuf_puts(err, "nftables listing: no \"nftables\" array");
		goto out;
	}
	json_array_foreach(items, i, item) {
		json_t *c = json_object_get(item, "counter");
		const char *name, *family, *table;
		json_int_t packets, bytes;
		struct counter *k;

		if (c == NULL)
			continue;	/* metainfo */
		if (json_unpack(c, "{s:s, s:s, s:s, s:I, s:I}", "family",
		    &family, "table", &table, "name", &name, "packets", &packets,
		    "bytes", &bytes) != 0 || packets < 0 || bytes < 0) {
			strbuf_puts(err, "nftables listing: a counter without "
			    "its name, packets or bytes");
			goto out;
		}
		if (strcmp(family, "inet") != 0 ||
		    strcmp(table, NFTC_TABLE) != 0)
			continue;
		if (*n == cap) {
			struct counter *nv;

			cap = cap ? cap * 2 : 32;
			if ((nv = realloc(*v, cap * sizeof(**v))) == NULL) {
				strbuf_puts(err, "out of memory");
				goto out;
			}
			*v = nv;
		}
		k = &(*v)[(*n)++];
		memset(k, 0, sizeof(*k));
		snprintf(k->name, sizeof(k->name), "%s", name);
		k->what = nftc_counter_meaning(name, &k->number);
		k->packets = (uint64_t)packets;
		k->bytes = (uint64_t)bytes;
	}
	rc = 0;
out:
	json_decref(root);
	if (rc == -1) {
		free(*v);
		*v = NULL;
		*n = 0;
	}
	return rc;
}

int
counters_read(struct counter **v, size_t *n, struct strbuf *err)
{
	struct strbuf out;
	int rc = -1;

	*v = NULL;
	*n = 0;
	strbuf_init(&out, 0);
	if (nft_list_json("list counters table inet " NFTC_TABLE "\n", &out,
	    err) == 0) {
		if (strbuf_failed(&out))
			strbuf_puts(err, "out of memory");
		else
			rc = counters_parse(strbuf_str(&out), v, n, err);
	}
	strbuf_free(&out);
	return rc;
}
