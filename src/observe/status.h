/* status.h: the gateway's status, collected once (status.c). */
#ifndef MOAT_STATUS_H
#define MOAT_STATUS_H

#include <jansson.h>

#include "base/strbuf.h"

/* The status as a JSON object (new reference): applied, pending, ha,
 * unapplied_changes, counters, mail, firewall_log (doc/api.md, GET
 * status), from the state directory, the run directory (ha_file in it:
 * the HA pair's state, as moatd writes it) and the config file. */
json_t	*status_json(const char *state, const char *run, const char *conf,
	    const char *ha_file);

/* The history of applies as a JSON array of {entry, time, what, hash,
 * file} (new reference), or NULL with err. */
json_t	*history_json(const char *state, struct strbuf *err);

#endif
