/* control_conf.h: the console's requests about the config, answered by
 * moatd's parent (control.c's table has them). */
#ifndef MOAT_CONTROL_CONF_H
#define MOAT_CONTROL_CONF_H

#include <jansson.h>

#include "base/strbuf.h"
#include "policy/policy.h"

#include "daemon/control_env.h"

/* The config file, parsed and bound to the devices' addresses now, or
 * NULL when the answer is given (500, or 422 with its findings). */
struct policy *control_current_policy(const struct control_env *env,
	    struct strbuf *out);

/* Whether the console may roll back to history entry seq (0: the one in
 * force before the last): not when that entry's config sets what only
 * root sets (policy_privileged_change: the HA secret, the users file,
 * the console's certificate ...) otherwise than the config file, which
 * the follower would then take (a review, 2026-12-07).  true, or false
 * with why in err; *seq 0 is made the entry it means, which the rollback
 * must then restore (the one checked, whatever a confirm's lapse does
 * meanwhile). */
bool	 control_rollback_allowed(const struct control_env *env, unsigned *seq,
	    struct strbuf *err);

/* The requests of control_conf.c (see the table in control.c). */
void	 control_get_config(const struct control_env *env, const char *user,
	    json_t *req, struct strbuf *out);
void	 control_save(const struct control_env *env, const char *user,
	    json_t *req, struct strbuf *out);
void	 control_check(const struct control_env *env, const char *user,
	    json_t *req, struct strbuf *out);
/* GET policy: the config file's policy as moat show --json has it, with
 * "diagnostics" (moat check's) and "rules_total"; with "first" or
 * "count" (CONTROL_RULES_PAGE when only first) only that many rules from
 * rule first (1 when only count), and of the findings only those on
 * their lines and the errors: a 100,000-rule policy is 34 MB whole. */
#define CONTROL_RULES_PAGE	1000
#define CONTROL_RULES_PAGE_MAX	5000
void	 control_policy(const struct control_env *env, const char *user,
	    json_t *req, struct strbuf *out);
/* GET objects[/NAME]: the objects as moat show --json has them, each
 * feed object with "state" (its entry of the status's "feeds", or null)
 * and "applied" (that state is of this definition's kind and source). */
void	 control_objects(const struct control_env *env, const char *user,
	    json_t *req, struct strbuf *out);
void	 control_test(const struct control_env *env, const char *user,
	    json_t *req, struct strbuf *out);

/* GET changes: what an Apply of the saved config would change, against
 * the config in force (moat apply's summary): summary, text, diff (moat
 * diff --json), running (its history entry, or null). */
void	 control_changes(const struct control_env *env, const char *user,
	    json_t *req, struct strbuf *out);

#endif
