/* control_int.h: what control.c (the table of requests) and
 * control_conf.c (the config's requests) share. */
#ifndef MOAT_CONTROL_INT_H
#define MOAT_CONTROL_INT_H

#include <jansson.h>

#include "daemon/control.h"
#include "policy/policy.h"

/* The answer: o (taken; NULL: {}) with "status". */
void	 control_answer(struct strbuf *out, int status, json_t *o);
/* An answer with "error": msg. */
void	 control_error(struct strbuf *out, int status, const char *msg);
/* The config file, parsed and bound to the devices' addresses now, or
 * NULL when the answer is given (500, or 422 with its findings). */
struct policy *control_current_policy(const struct control_env *env,
	    struct strbuf *out);

/* The requests of control_conf.c (see the table in control.c). */
void	 control_get_config(const struct control_env *env, const char *user,
	    json_t *req, struct strbuf *out);
void	 control_save(const struct control_env *env, const char *user,
	    json_t *req, struct strbuf *out);
void	 control_check(const struct control_env *env, const char *user,
	    json_t *req, struct strbuf *out);
void	 control_policy(const struct control_env *env, const char *user,
	    json_t *req, struct strbuf *out);
void	 control_test(const struct control_env *env, const char *user,
	    json_t *req, struct strbuf *out);

#endif
