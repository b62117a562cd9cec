/* builtin.h: what moat knows without being told: protocols, ICMP type
 * names and the built-in services (written in the config language). */
#ifndef MOAT_BUILTIN_H
#define MOAT_BUILTIN_H

#include "base/addr.h"

enum proto_kind {
	PK_PORTS = 0,	/* tcp, udp, sctp: destination ports */
	PK_TYPES,	/* icmp, icmpv6: message types */
	PK_NONE,	/* gre, esp, ah: the protocol alone */
};

struct proto_info {
	const char		*name;
	int			 number;
	enum proto_kind		 kind;
	enum addr_family	 family;	/* icmp is IPv4 only, … */
};

/* The protocol called name, or NULL. */
const struct proto_info *builtin_proto_by_name(const char *name);
/* The same, of the len bytes at name (no NUL needed). */
const struct proto_info *builtin_proto_by_name_len(const char *name,
	    size_t len);
/* The protocol with this IP protocol number, or NULL. */
const struct proto_info *builtin_proto_by_number(int number);
/* The ICMP (proto 1) or ICMPv6 (58) type called name, or -1. */
int	 builtin_icmp_type(int proto, const char *name);
/* The name of an ICMP or ICMPv6 type, or NULL. */
const char *builtin_icmp_name(int proto, int type);
/* Every protocol name, NULL-terminated, for "did you mean". */
const char *const *builtin_proto_names(void);
/* The built-in services as config text ("service SMTP tcp 25\n…"). */
const char *builtin_services_text(void);
/* Management services the anti-lockout rule keeps open, as a service list. */
extern const char *const builtin_antilockout_services[];

#endif
