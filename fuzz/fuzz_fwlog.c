/* fuzz_fwlog.c: libFuzzer target for the firewall log's reading of a
 * logged packet (observe/fwlog.h): the bytes are what anyone on the
 * Internet or the LAN sent, as NFLOG hands them to moatd-log.  The first
 * byte picks the door: 0, the packet's headers (fwlog_headers: IPv4,
 * IPv6 and its extension headers, the transport; and the same bytes
 * apart, as a trace event has them: fwlog_headers_apart); 1, a whole NFLOG
 * netlink message (nflog_parse, then fwlog_from_packet: the prefix and
 * the payload); 2, a line of firewall.jsonl read back (fwlog_parse, for
 * `moat log`).  Invariants: every record taken prints as JSON that parses
 * again, a text line without a control byte, and a line read back and
 * printed again reads back the same.  Built with clang -fsanitize=fuzzer
 * by scripts/fuzz.sh fwlog; replay.c runs the corpus in the test suite. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "observe/fwlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* r printed every way: JSON that parses, text without a control byte. */
static void
printed(const struct fwlog_rec *r)
{
	struct strbuf b;
	json_t *o;
	size_t i;

	strbuf_init(&b, 0);
	fwlog_json(r, &b);
	if (strbuf_failed(&b) || (o = json_loadb(strbuf_str(&b), b.len, 0,
	    NULL)) == NULL) {
		fprintf(stderr, "not JSON: %s\n", strbuf_str(&b));
		abort();
	}
	json_decref(o);
	strbuf_reset(&b);
	fwlog_text(r, &b);
	fwlog_packet_text(r, &b);
	for (i = 0; i < b.len; i++)
		if ((unsigned char)strbuf_str(&b)[i] < 0x20 &&
		    strbuf_str(&b)[i] != '\n') {
			fprintf(stderr, "a control byte at %zu: %s\n", i,
			    strbuf_str(&b));
			abort();
		}
	strbuf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fwlog_rec r, again;
	struct nflog_pkt pkt;
	struct strbuf b;
	uint8_t *net, *tr;
	char *line;
	void *msg;
	size_t nh;

	if (size < 1)
		return 0;
	memset(&r, 0, sizeof(r));
	switch (data[0] % 3) {
	case 0:
		if (fwlog_headers(data + 1, size - 1, &r) == 0) {
			snprintf(r.action, sizeof(r.action), "deny");
			printed(&r);
		}
		/* the same bytes as a trace event gives them: the first 40
		 * apart from the rest, each in its own allocation */
		nh = size - 1 < 40 ? size - 1 : 40;
		if ((net = malloc(nh + 1)) == NULL ||
		    (tr = malloc(size - 1 - nh + 1)) == NULL)
			abort();
		memcpy(net, data + 1, nh);
		memcpy(tr, data + 1 + nh, size - 1 - nh);
		memset(&r, 0, sizeof(r));
		if (fwlog_headers_apart(net, nh, size - 1 > nh ? tr : NULL,
		    size - 1 - nh, data[0] == 0 ? -1 : data[0], &r) == 0) {
			snprintf(r.action, sizeof(r.action), "deny");
			printed(&r);
		}
		free(net);
		free(tr);
		break;
	case 1:
		/* (aligned, as the kernel's messages are in nflog's buffer) */
		if ((msg = aligned_alloc(8, (size - 1 + 7) / 8 * 8 + 8)) ==
		    NULL)
			abort();
		memcpy(msg, data + 1, size - 1);
		if (nflog_parse(msg, size - 1, &pkt) == 0 &&
		    fwlog_from_packet(&pkt, &r) == 0)
			printed(&r);
		free(msg);
		break;
	case 2:
		if ((line = malloc(size)) == NULL)
			abort();
		memcpy(line, data + 1, size - 1);
		line[size - 1] = '\0';
		if (fwlog_parse(line, &r) == 0) {
			printed(&r);
			strbuf_init(&b, 0);
			fwlog_json(&r, &b);
			memset(&again, 0, sizeof(again));
			if (fwlog_parse(strbuf_str(&b), &again) != 0 ||
			    again.rule != r.rule || again.src != r.src ||
			    again.dst != r.dst || again.proto != r.proto)
				abort();
			strbuf_free(&b);
		}
		free(line);
		break;
	}
	return 0;
}
