/* printer.h: a policy, a rule or a verdict as canonical text. */
#ifndef MOAT_PRINTER_H
#define MOAT_PRINTER_H

#include "analyze/eval.h"
#include "base/strbuf.h"
#include "policy/policy.h"

/* The whole policy in canonical form: parsing it gives an equal policy. */
void	 printer_policy(const struct policy *p, struct strbuf *b);
/* One rule as a config line; with_comment false leaves the comment out. */
void	 printer_rule(const struct rule *r, struct strbuf *b, bool with_comment);
/* A schedule as the config writes it: "schedule office mon-fri 08:00-18:00". */
void	 printer_schedule(const struct schedule *s, struct strbuf *b);
/* The days of a window: daily, mon-fri, sat,sun. */
void	 printer_days(unsigned days, struct strbuf *b);
/* One outbound NAT rule (nat source) as a config line. */
/* gateway NAME on IF via ..., gateway-group NAME GW [tier N] ...: one
 * line each, as the config writes them, without the newline. */
void	 printer_gateway(const struct gateway *g, struct strbuf *b);
void	 printer_gwgroup(const struct gateway_group *gg, struct strbuf *b);
void	 printer_nat_rule(const struct nat_rule *n, struct strbuf *b);
/* One port forward as a config line. */
void	 printer_forward(const struct forward *f, struct strbuf *b);
/* An address expression: ANY, !LANIP, { 10.0.0.0/8, MAILSERVER }. */
void	 printer_addr_expr(const struct addr_expr *x, struct strbuf *b);
/* A flow's service: "tcp/25", "icmp echo-request". */
void	 printer_flow_service(const struct flow *f, struct strbuf *b);
/* The one-line answer of `moat test`:
 * "deny by rule 2 (moat.conf:6): deny on LAN … service SMTP  # nobody else" */
void	 printer_verdict(const struct policy *p, const struct flow *f,
	    const struct verdict *v, struct strbuf *b);
/* What the schedules did to verdict v of flow f (at f's time), or
 * nothing: "rule 4 (schedule office) is closed at Sat 19:00: skipped",
 * "rule 6 (schedule night) is open at Sat 23:00". */
void	 printer_when(const struct policy *p, const struct flow *f,
	    const struct verdict *v, struct strbuf *b);
/* The last part of a path, as shown next to rule numbers. */
const char *printer_basename(const char *path);
/* What moat test took a dynamic interface's address to be, or, when it
 * has none, which rules and forwards depend on it. */
void	 printer_dynamic(const struct policy *p, const struct iface *ifc,
	    struct strbuf *b);

#endif
