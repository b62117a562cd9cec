/* flowfmt.h: flows as text lines, for `moat test --batch`.
 *
 * Two forms are read:
 *   IF SRC DST PROTO [PORT|TYPE]     LAN 192.168.1.50 8.8.8.8 tcp 25
 *   a line of `conntrack -L`         tcp 6 431999 ESTABLISHED src=… dst=…
 *                                    sport=… dport=… src=… (reply) …
 * For conntrack lines the first src=, dst=, dport= (or type=) are the
 * original direction; the interface comes from --in.
 */
#ifndef MOAT_FLOWFMT_H
#define MOAT_FLOWFMT_H

#include "analyze/eval.h"

/* A decimal number of at most max, digits only.  0, or -1. */
int	 flow_parse_number(const char *s, unsigned max, unsigned *out);
/* tcp, udp, ..., ipv6-icmp, or a protocol number (0-255): the len bytes
 * at s, its number into *out; -1 for none of them. */
int	 flow_proto_of(const char *s, size_t len, int *out);
/* The protocol and port (or type) of f from service name: its first
 * protocol that family fam has (PING: icmp or icmpv6) and that
 * protocol's first port.  0, or -1 with the reason in err. */
int	 flow_set_service(const struct policy *p, const char *name,
	    enum addr_family fam, struct flow *f, char *err, size_t errlen);
/* The protocol (a name or a number) and port or ICMP type (a number or
 * a type name; NULL when not given) of f, checked against family fam.
 * 0, or -1 with the reason in err. */
int	 flow_set_proto(const char *proto, const char *port,
	    enum addr_family fam, struct flow *f, char *err, size_t errlen);
/* Parse one line into f.  Returns 1 for a flow, 0 for a blank or comment
 * line, -1 with a reason in err.  default_iface (may be NULL) is used when
 * the line names none. */
int	 flow_parse_line(const struct policy *p, const char *line,
	    const struct iface *default_iface, struct flow *f, char *err,
	    size_t errlen);
/* flow_parse_line of a line of at most len bytes (it ends at its NUL,
 * which may come sooner; the len + 1 bytes from line are readable): the
 * same answer, without measuring the line when len is short enough. */
int	 flow_parse_line_len(const struct policy *p, const char *line,
	    size_t len, const struct iface *default_iface, struct flow *f,
	    char *err, size_t errlen);

#endif
