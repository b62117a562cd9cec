/* policy.h: a moat policy in memory: the model every subsystem reads.
 *
 * load.c reads one: lexer.c (tokens) → parser.c (this structure, names
 * unbound) → resolve.c (names bound, address and service sets computed,
 * checked).  analyze/ asks questions of it, output/ prints it, enforce/
 * puts it in the kernel.  Everything a policy holds lives in its arena and
 * goes with policy_free().
 */
#ifndef MOAT_POLICY_H
#define MOAT_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/addr.h"
#include "base/arena.h"
#include "base/diag.h"
#include "base/iset.h"
#include "base/nametab.h"
#include "base/strbuf.h"
#include "policy/builtin.h"

#define MOAT_DEFAULT_CONF	"/etc/moat/moat.conf"
/* The zone the language treats as the LAN: accepted by default, reached
 * by the anti-lockout rule, where the gateway's relay listens. */
#define POLICY_LAN		"LAN"
#define OBJECT_DEPTH_MAX	32	/* objects nested in objects */

enum action {
	ACT_ACCEPT = 0,
	ACT_DENY,
	ACT_REJECT,
};

enum addr_elem_kind {
	AE_LIT = 0,	/* a literal: host, network or range */
	AE_NAME,	/* an object, built-in or defined */
};

struct object;
struct iface;

/* (The members of these and of struct rule are in the order that leaves
 * the least padding: a 100,000-rule policy holds 100,000 rules and some
 * 200,000 elements.) */
struct addr_elem {
	struct addr_lit		 lit;	/* AE_LIT */
	struct loc		 loc;
	char			*name;	/* AE_NAME */
	struct object		*obj;	/* AE_NAME, bound by resolve */
	enum addr_elem_kind	 kind;
};

/* A source, destination or object body: [!] elem | [!] { elem, … } */
struct addr_expr {
	struct loc		 loc;
	size_t			 n, cap;
	struct addr_elem	*v;
	struct iset		 set;	/* what it matches, exclusion applied */
	bool			 exclude;
	bool			 list;	/* written in braces */
	bool			 dynamic;	/* names a dynamic interface's
						   addresses: set is what
						   they are now (bound) */
};

enum object_kind {
	OBJ_USER = 0,	/* object NAME … */
	OBJ_ANY,	/* ANY */
	OBJ_IFIP,	/* XIP: the gateway's own addresses on interface X */
	OBJ_IFNET,	/* XNET: the networks attached to X */
	OBJ_FQDN,	/* object N fqdn HOST…: their A and AAAA records */
	OBJ_URL,	/* object N url URL: a list fetched every refresh */
	OBJ_COUNTRY,	/* object N country CC…: networks from the MMDB */
};

#define FEED_REFRESH_DEFAULT	86400		/* url: seconds */
#define FEED_REFRESH_MAX	(7 * 86400)
#define FEED_MAX_DEFAULT	1000000		/* url: entries */
#define FEED_MAX_LIMIT		4000000
#define FEED_NAMES_MAX		64		/* hosts or countries */
#define FEED_URL_MAX		1024
#define DNS_MIN_TTL_DEFAULT	30		/* seconds */
#define DNS_MAX_TTL_DEFAULT	3600

/*
 * Where a feed object's addresses come from (doc/design/feeds.md): the
 * host names of an fqdn object, the URL of a url object (names[0]), the
 * country codes (upper case) of a country object.  What it holds now is
 * not in the config: a binding gives it (struct binding).
 */
struct feed {
	size_t		 n, cap;
	char		**names;
	struct loc	*locs;
	unsigned	 refresh;	/* url: seconds between fetches */
	uint64_t	 max;		/* url: entries at most */
};

struct object {
	char			*name;
	struct loc		 loc;
	enum object_kind	 kind;
	struct iface		*iface;		/* OBJ_IFIP, OBJ_IFNET */
	struct addr_expr	 members;	/* OBJ_USER */
	int			 state;		/* resolve: 0 new, 1 busy, 2 done */
	int			 depth;		/* 1 + deepest object inside */
	struct iset		 set;
	bool			 dynamic;	/* depends on an interface with
						   address dynamic, or is (or
						   holds) a feed object */
	struct feed		 feed;		/* OBJ_FQDN, OBJ_URL, OBJ_COUNTRY */
};

struct port_range {
	unsigned	lo, hi;		/* ports, or ICMP types */
};

/* One protocol of a service: "tcp 80,443,8000-8100". */
struct svc_entry {
	struct loc			 loc;
	const struct proto_info		*proto;
	size_t				 n, cap;
	struct port_range		*v;	/* n == 0: all ports or types */
};

struct service {
	char			*name;
	struct loc		 loc;
	bool			 builtin;
	size_t			 n, cap;
	struct svc_entry	*v;
	struct iset		 set;		/* keys: proto << 16 | port */
	enum addr_family	 family;	/* families it exists in */
};

struct svc_ref {
	char		*name;
	struct loc	 loc;
	struct service	*svc;	/* bound by resolve */
};

/* "service S" or "service { S, T }"; n == 0 means any service. */
/*
 * What the dynamic interfaces' addresses are for one question: those a
 * device has now (read from the host: enforce/ifaddr.c) or those an admin
 * says (moat test --addr).  name is a device or an interface's name.
 */
struct bound_addr {
	const char	*name;
	struct addr_lit	 lit;	/* lo == hi: the address; plen its network */
};

struct binding {
	size_t			 n;
	const struct bound_addr	*v;
	/* What feed object o holds now, into *out (allocated in a), or
	 * NULL: every feed object is empty.  The callback returns 0, or -1
	 * when it knows nothing of o (empty too). */
	int			(*feed)(void *arg, const struct object *o,
				    struct arena *a, struct iset *out);
	void			*feed_arg;
};

struct svc_list {
	bool		 list;
	size_t		 n, cap;
	struct svc_ref	*v;
	struct iset	 set;
};

struct if_addr {
	struct loc	 loc;
	struct addr_lit	 lit;	/* lo == hi == the host, plen its network */
};

struct iface {
	char		*name;
	struct loc	 loc;
	char		*device;
	size_t		 naddr, capaddr;
	struct if_addr	*addrs;		/* as written */
	bool		 dynamic;	/* address dynamic: the device's own */
	struct loc	 dynamic_loc;
	size_t		 nbound;	/* dynamic: the addresses it has now */
	struct addr_lit	*bound;		/* (the binding the policy was
					   parsed with; none: empty) */
	size_t		 index;		/* position in policy->ifaces */
	enum action	 def;		/* verdict when no rule matches */
	bool		 def_set;	/* written in the config */
	bool		 log_default;	/* log what the default decides */
	bool		 log_default_set;	/* written in the config */
	struct object	*ip_obj, *net_obj;
};

/*
 * schedule NAME DAYS HH:MM-HH:MM ...: when the rules that name it count,
 * in the system's local time.  A window belongs to the day it starts on;
 * end <= start runs past midnight into the next day (doc/design/
 * schedules.md).
 */
#define SCHED_DAY	1440		/* minutes in a day */
#define SCHED_WEEK	(7 * SCHED_DAY)	/* in a week: 0 is Sunday 00:00 */
#define SCHED_MARKS_MAX	65535		/* scheduled accept rules (ct mark) */

struct sched_window {
	struct loc	 loc;
	unsigned	 days;		/* bit d: weekday d, 0 = Sunday */
	unsigned	 start, end;	/* minutes of the day; end 1-1440 */
};

struct schedule {
	char			*name;
	struct loc		 loc;
	size_t			 n, cap;
	struct sched_window	*v;
	struct iset		 set;	/* the minutes of the week it is open */
	bool			 used;	/* a rule names it */
};

/*
 * Two Internet links (doc/design/gateways.md).
 *
 * gateway NAME on IF via ADDR [monitor ADDR] [loss N%] [latency Nms]: a
 * next hop, probed by moatd; gateway-group NAME GW [tier N] ...: the
 * lowest tier that is up carries the traffic, equal tiers share it.
 *
 * Marks and tables (the packet's meta mark and the connection's ct mark,
 * bits GW_MARK_MASK; route tables GW_TABLE_BASE + n, ip rules from
 * GW_RULE_PRIO):
 * - gateway index g (1 … GW_MAX): mark GW_MARK_PIN(g) and table
 *   GW_TABLE_PIN(g) always route through g itself.  Its probes carry
 *   that mark (SO_MARK), and a connection that left through g carries it
 *   in its ct mark (set in postrouting from oif and next hop), restored
 *   to the packets that follow, so a running connection stays on its link
 *   and failover can find it in conntrack.
 * - `gateway NAME|GROUP` on an accept rule: mark GW_MARK_CHOICE(t), table
 *   GW_TABLE_CHOICE(t), t the gateway's index or GW_MAX + the group's:
 *   moatd keeps in it the gateway while it is up (else the default's
 *   route), or the group's active members.
 * - the default: table GW_TABLE_DEFAULT, the default group's (or
 *   gateway's) active route, looked up after the main table's routes but
 *   its default ones.
 */
#define GW_MAX			63	/* gateways in a config */
#define GW_GROUP_MAX		63	/* groups */
#define GW_MEMBERS_MAX		16	/* gateways in one group */
#define GW_LOSS_DEFAULT		20	/* percent */
#define GW_LATENCY_DEFAULT	500	/* ms */
#define GW_MARK_MASK		0x00ff0000u
#define GW_MARK_PIN(g)		((unsigned)(g) << 16)
#define GW_MARK_CHOICE(t)	((unsigned)(128 + (t)) << 16)
#define GW_TABLE_BASE		28100
#define GW_TABLE_DEFAULT	GW_TABLE_BASE
#define GW_TABLE_PIN(g)		(GW_TABLE_BASE + (unsigned)(g))
#define GW_TABLE_CHOICE(t)	(GW_TABLE_BASE + 128 + (unsigned)(t))
#define GW_RULE_PRIO		10010	/* after TPROXY's (10000) */

struct gateway {
	char		*name;
	struct loc	 loc;
	size_t		 index;		/* 1 … GW_MAX, in file order */
	char		*ifname;
	struct loc	 if_loc;
	struct iface	*iface;		/* bound by resolve */
	struct addr_lit	 via;		/* one address (lo == hi) */
	struct loc	 via_loc;
	struct addr_lit	 monitor;	/* as via when not written */
	struct loc	 monitor_loc;	/* line 0: not written */
	unsigned	 loss;		/* percent, 1-100 */
	unsigned	 latency;	/* ms, 1-60000 */
};

struct gw_member {
	struct loc	 loc;
	char		*name;
	struct gateway	*gw;		/* bound by resolve */
	unsigned	 tier;		/* 1-5; 1 when not written */
};

struct gateway_group {
	char		*name;
	struct loc	 loc;
	size_t		 index;		/* 1 … GW_GROUP_MAX, in file order */
	size_t		 n, cap;
	struct gw_member *v;
	enum addr_family family;	/* its members' */
};

/* A rule's `gateway NAME`: one of the two is set once resolved. */
struct gw_ref {
	char			*name;		/* NULL: no gateway option */
	struct loc		 loc;
	struct gateway		*gw;
	struct gateway_group	*group;
	bool			 implied;	/* default_gw: not written, the
						   family's only group */
};

/* What a verdict reads of its deciding rule (the number, the action,
 * disabled, the gateway option) comes first, in its first 64 bytes
 * (which policy_eval_many prefetches, on both lines they may span): a
 * replay reads the deciding rules of millions of flows, each at random. */
struct rule {
	int			 number;	/* 1, 2, … in file order; 0 = anti-lockout */
	enum action		 action;
	bool			 log;
	bool			 disabled;
	bool			 dead;		/* lint: can never match */
	unsigned		 sched_mark;	/* accept with a schedule: its
						   ct mark, 1, 2, …; else 0 */
	struct gw_ref		 gw;		/* accept only: gateway NAME */
	struct loc		 loc;
	char			*ifname;
	struct loc		 if_loc;
	struct iface		*iface;
	struct addr_expr	 src, dst;
	struct svc_list		 svc;
	char			*comment;
	char			*sched_name;	/* schedule NAME, or NULL */
	struct loc		 sched_loc;
	struct schedule		*sched;		/* bound by resolve */
	uint64_t		 id;		/* stable: policy_rule_id */
};

struct nat {
	struct loc	 loc;
	char		*ifname;
	struct loc	 if_loc;
	struct iface	*iface;
};

enum nat_translate {
	NAT_TO_ADDRESS = 0,	/* translate ADDR: SNAT to that address */
	NAT_TO_MASQUERADE,	/* translate masquerade: IF's own address */
	NAT_TO_NONE,		/* translate none: the source is kept */
};

/* nat source on IF from ADDR [to ADDR] [service S] translate …: an
 * outbound NAT rule; the first that matches a connection leaving through
 * IF decides its source, before IF's nat masquerade. */
struct nat_rule {
	int			 number;	/* 1, 2, … in file order */
	struct loc		 loc;
	char			*ifname;
	struct loc		 if_loc;
	struct iface		*iface;
	struct addr_expr	 src, dst;	/* dst: ANY unless has_dst */
	bool			 has_dst;
	struct svc_list		 svc;		/* empty: any */
	enum nat_translate	 kind;
	struct addr_expr	 to;		/* NAT_TO_ADDRESS */
	bool			 has4, has6;	/* NAT_TO_ADDRESS's families */
	u128			 to4, to6;
	uint64_t		 id;		/* stable: policy_nat_rule_id */
};

/* nat one-to-one on IF PUBLIC to INSIDE: PUBLIC's addresses arriving on
 * IF go to INSIDE's, address by address (DNAT), and INSIDE's leaving
 * through IF leave from PUBLIC's (SNAT). */
#define NAT_ONE_MAX	256	/* addresses in one mapping, at most */
struct nat_one {
	int			 number;	/* 1, 2, … in file order */
	struct loc		 loc;
	char			*ifname;
	struct loc		 if_loc;
	struct iface		*iface;
	struct addr_expr	 pub, inside;
	int			 family;	/* FAM_V4 or FAM_V6 */
	u128			 pub_lo, in_lo;	/* the first of each */
	u128			 size;		/* addresses, the same in both */
	bool			 reflection;	/* reflection on|off (default
						   on): internal hosts that
						   open PUBLIC reach INSIDE */
	uint64_t		 id;		/* stable: policy_nat_one_id */
};

/* forward on IF service S to ADDR: DNAT of the gateway's IF addresses.
 * With reflection (the default), hosts of the internal interfaces that
 * open those addresses are forwarded too, their source rewritten to the
 * gateway's address towards the host (pfSense's "pure NAT"). */
struct forward {
	int			 number;	/* 1, 2, … in file order */
	struct loc		 loc;
	char			*ifname;
	struct loc		 if_loc;
	struct iface		*iface;
	struct svc_list		 svc;
	struct addr_expr	 target;
	bool			 has4, has6;
	u128			 to4, to6;	/* the internal host per family */
	bool			 reflection;	/* reflection on (the default) */
	uint64_t		 id;		/* stable: policy_forward_id */
};

enum av_engine {
	AV_CLAMAV = 0,	/* libclamav in moatd, path = database directory */
	AV_CLAMD,	/* clamd, path = its socket or host:port */
};

/* How a new signature database replaces the one in use (libclamav). */
enum av_reload {
	AV_RELOAD_AUTO = 0,	/* concurrent when memory holds two engines */
	AV_RELOAD_CONCURRENT,	/* load beside the old, mail flows on */
	AV_RELOAD_BLOCKING,	/* free the old first; mail gets 451 */
};

/* smtp-intercept-tls: what the proxy does with an intercepted client's
 * STARTTLS. */
enum av_tls_intercept {
	AV_TLS_TERMINATE = 0,	/* offer it with moat's certificate, scan */
	AV_TLS_PASSTHROUGH,	/* relay it to the next hop, unscanned */
	AV_TLS_STRIP,		/* never offer it (plain text to moat) */
};

/* smtp-tls-upstream: how the proxy uses TLS toward the next hop (the
 * values of smtp/tlspolicy.h's levels). */
enum av_tls_upstream {
	AV_TLS_UP_NONE = 0,	/* never */
	AV_TLS_UP_MAY,		/* when offered, unverified */
	AV_TLS_UP_DANE,		/* may, and DANE or MTA-STS where published */
	AV_TLS_UP_VERIFY,	/* dane, and a CA-verified certificate else */
};

#define AV_CLAMD_MAX	8	/* clamd instances one engine line names */
#define AV_IGNORE_MAX	1000	/* names one ignore-signature takes */

struct antivirus {
	bool		 present;
	struct loc	 loc;
	enum av_engine	 engine;
	char		*engine_path;	/* clamav: the database; clamd: the
					   first instance (engine_addrs[0]) */
	char		**engine_addrs;	/* clamd: every instance, a socket
					   path or HOST:PORT */
	unsigned	 nengine_addrs;
	unsigned	 scan_timeout;	/* seconds one scan may take */
	enum av_reload	 reload;	/* signature-reload */
	char		**ignore_sigs;	/* ignore-signature: names whose
					   matches pass (engine clamav) */
	unsigned	 nignore_sigs;
	struct loc	 ignore_loc;
	bool		 other_scanning;
	bool		 local_scanning;
	struct loc	 local_loc;	/* where it is set; line 0: default */
	bool		 outgoing_scanning;
	char		*relay_to;	/* host:port, as written (canonical) */
	bool		 fail_pass;	/* on-scan-failure pass (else tempfail) */
	uint64_t	 max_size;	/* bytes */
	unsigned	 command_timeout;	/* seconds waiting for a command */
	unsigned	 data_timeout;		/* seconds waiting in DATA */
	bool		 keep_client_address;	/* intercepted: from the client */
	bool		 bare_normalize;	/* bare CR/LF in DATA: CRLF, not 554 */
	unsigned	 max_sessions;		/* at once, all clients */
	unsigned	 max_client_sessions;	/* at once, one address */
	unsigned	 max_client_rate;	/* new a minute, one address; 0 */
	unsigned	 min_data_rate;		/* bytes/s DATA must average */
	uint64_t	 memory_limit;		/* messages held in memory, all */
	unsigned	 signature_check;	/* seconds between looks at the
						   database (engine clamav) */
	/* TLS (doc/design/smtp-tls.md) */
	enum av_tls_intercept	 intercept_tls;
	char		*passthrough_from;	/* an object's name, or NULL */
	struct loc	 passthrough_loc;
	struct iset	 passthrough_set;	/* its addresses, resolved */
	enum av_tls_upstream	 tls_upstream;
	char		*tls_ca_file;		/* extra trust anchors, or NULL */
	char		*trust_anchor;		/* DNSSEC's, or NULL: root.key */
	char		*tls_cert, *tls_key;	/* NULL: a self-signed pair */
	struct loc	 tls_cert_loc;
	bool		 relay_require_tls;	/* 530 to MAIL before STARTTLS */
};

#define DNSSEC_ROOT_KEY		"/usr/share/dns/root.key"

#define LOG_DIR_DEFAULT		"/var/log/moat"

/* The logging block: where moatd writes its logs, and how much. */
struct logging {
	bool		 present;
	struct loc	 loc;
	char		*directory;	/* firewall.jsonl, mail.jsonl */
	unsigned	 rate;		/* logged packets a second, per rule
					   (burst twice that); 0: no limit */
	uint64_t	 max_file_size;	/* bytes, before a file is rotated */
	unsigned	 keep;		/* rotated files kept */
	char		*metrics_file;	/* node_exporter textfile, or NULL */
	unsigned	 metrics_interval;	/* seconds between writes */
};

#define CONSOLE_PORT		443
#define CONSOLE_USER		"moat-web"
#define CONSOLE_CERT		"/etc/moat/console.pem"
#define CONSOLE_KEY		"/etc/moat/console.key"

/* The web console (moatd runs it): on unless `console off`. */
struct console_conf_block {
	bool		 present;	/* a console block was written */
	bool		 off;		/* console off */
	struct loc	 loc;
	char		*listen;	/* ADDR:PORT, or NULL: LAN's, 443 */
	char		*users;		/* the users file */
	char		*cert, *key;	/* PEM files */
	char		*user;		/* the process's user */
	unsigned	 session_timeout;	/* seconds idle */
};

/* The ha block: this node's half of a high-availability pair (keepalived
 * for the addresses, conntrackd for the connections; src/ha). */
#define HA_PRIORITY		100
#define HA_ROUTER_ID		51
#define HA_PREEMPT_DELAY	5	/* seconds a returning master waits */
#define HA_SYNC_PORT		28016	/* moatd to moatd: the config */
#define HA_SECRET_MIN		12	/* characters, or moat check warns */
#define HA_CONNTRACK_PORT	3780	/* conntrackd FTFW */

struct ha_vip {
	struct loc	 loc;		/* of the address */
	struct loc	 if_loc;
	char		*ifname;	/* an interface of the config */
	struct iface	*iface;		/* (resolved) */
	struct addr_lit	 lit;		/* the address, with its prefix */
};

struct ha_conf {
	bool		 present;
	struct loc	 loc;
	struct addr_lit	 peer;		/* the other node, on the sync link */
	struct loc	 peer_loc;	/* line 0: not written */
	char		*sync_ifname;
	struct loc	 sync_loc;
	struct iface	*sync;		/* (resolved) */
	size_t		 nvip, capvip;
	struct ha_vip	*vips;
	unsigned	 priority;	/* 1-254; the higher one is master */
	char		*secret;
	size_t		 secret_off, secret_end; /* its token's bytes in the
					   text, quotes included */
	unsigned	 router_id;	/* the first VRRP id; one per VIP
					   interface from there */
	unsigned	 preempt_delay;	/* seconds */
};

/* The ids of one kind of entry (rules, port forwards, nat source rules,
 * one-to-one lines), each its own (doc/design/rule-ids.md), and their
 * index: open addressing over the entries' places in file order. */
struct id_index {
	uint64_t		*id;		/* the k-th entry's id */
	size_t			*slot;		/* [cap]: k + 1 at its id's
						   place, 0 free */
	size_t			 cap;		/* a power of two, or 0 */
};

struct policy {
	struct arena		 arena;
	const char		*file;
	const char		*text;		/* the config as read */
	size_t			 len;
	char			*text_own;	/* text, when the policy took
						   it (policy_parse_taking) */
	struct diags		 diags;

	size_t			 niface, capiface;
	struct iface		**ifaces;
	size_t			 nobject, capobject;
	struct object		**objects;	/* built-in ones first */
	size_t			 nservice, capservice;
	struct service		**services;	/* built-in ones first */
	size_t			 nrule, caprule;
	struct rule		**rules;
	size_t			 nnat, capnat;
	struct nat		**nats;
	size_t			 nforward, capforward;
	struct forward		**forwards;
	size_t			 nnat_rule, capnat_rule;
	struct nat_rule		**nat_rules;
	size_t			 nnat_one, capnat_one;
	struct nat_one		**nat_ones;
	size_t			 nsched, capsched;
	struct schedule		**scheds;
	size_t			 ngateway, capgateway;
	struct gateway		**gateways;
	size_t			 ngwgroup, capgwgroup;
	struct gateway_group	**gwgroups;
	/* default-gateway NAME [NAME]: at most one per family, each a
	   gateway or a group; none written: the family's only group.  The
	   parser keeps them as written; resolve puts each in its family's
	   place ([0] IPv4, [1] IPv6) and fills an empty one with that
	   family's only group (implied).  name NULL: none in force. */
	struct gw_ref		 default_gw[2];
	struct loc		 default_gw_loc;	/* line 0: not written */

	bool			 anti_lockout;
	bool			 firewall;
	struct antivirus	 av;
	struct logging		 logging;
	struct console_conf_block console;
	struct ha_conf		 ha;
	/* feed objects: dns-min-ttl, dns-max-ttl, geoip-database */
	unsigned		 dns_min_ttl, dns_max_ttl;	/* seconds */
	int			 dns_min_line, dns_max_line;	/* 0: default */
	char			*geoip_database;	/* or NULL */
	struct loc		 geoip_loc;

	struct rule		*lockout_rule;	/* synthesized, or NULL */
	/* the entries by id (policy_rule_by_id, …), one index a kind */
	struct id_index		 rule_ids, forward_ids, nat_rule_ids;
	struct id_index		 nat_one_ids;
	const struct binding	*binding;	/* while resolving: the dynamic
						   interfaces' addresses */
	struct nametab		*object_names, *service_names;
	struct nametab		*sched_names;
};

/* Free a policy and everything in it. */
void		 policy_free(struct policy *p);
/* True when the policy parsed and resolved without errors. */
bool		 policy_valid(const struct policy *p);
/* Same meaning, ignoring positions: the round-trip test's equality. */
bool		 policy_equal(const struct policy *a, const struct policy *b);
/* The interface with this zone name or device name, or NULL. */
struct iface	*policy_iface(const struct policy *p, const char *name);
/* True when interface i is external: named by a nat, a port forward or
 * a gateway.  Mail arriving there is incoming; mail from other interfaces
 * that leaves through the gateway is outgoing. */
bool		 policy_iface_external(const struct policy *p,
		    const struct iface *i);
/* True when port forward fw carries SMTP (tcp/25): the forwards whose
 * connections smtp-other-scanning intercepts. */
bool		 policy_forward_smtp(const struct forward *fw);
/* True when port forward fw reflects connections arriving on ifc: its
 * reflection is on and ifc is internal (not external, not fw's own). */
bool		 policy_forward_reflects(const struct policy *p,
		    const struct forward *fw, const struct iface *ifc);
/* The gateway's address on the interface whose network holds fw's host
 * of family fam: the source of a reflected connection.  False when no
 * interface's static network holds it (the kernel then takes the address
 * of the interface the route leaves by). */
bool		 policy_forward_reflect_source(const struct policy *p,
		    const struct forward *fw, int fam, u128 *src);
/* True when 1:1 n reflects connections arriving on ifc: its reflection
 * is on and ifc is internal (not external, not n's own). */
bool		 policy_one_reflects(const struct policy *p,
		    const struct nat_one *n, const struct iface *ifc);
/* The gateway's address on the interface whose static network holds host
 * (of family fam): the source of a connection reflected to host.  False
 * when none holds it. */
bool		 policy_reflect_source(const struct policy *p, u128 host,
		    int fam, u128 *src);
/* The first setting that names a file, a user or a secret of a
 * privileged process (logging metrics-file and directory, the console's
 * user, certificate, key and users file, the HA secret) and differs from
 * was to now, as the config writes it ("console { user }"), or NULL:
 * what the console may not change. */
const char	*policy_privileged_change(const struct policy *was,
		    const struct policy *now);
/* now given was's value of every setting policy_privileged_change looks
 * at (pointers to was's: now is printed while was lives): what a config
 * from the HA peer may not bring (doc/design/ha.md). */
void		 policy_keep_privileged(struct policy *now,
		    const struct policy *was);
/* Every one of those settings "-" (pointers to a constant: p is only
 * printed): what the HA pair's policy hash compares without them. */
void		 policy_blank_privileged(struct policy *p);
/* The object or service with this name, or NULL. */
struct object	*policy_object(const struct policy *p, const char *name);
struct service	*policy_service(const struct policy *p, const char *name);
/* The interface named LAN, or NULL. */
struct iface	*policy_lan(const struct policy *p);
/* The verdict of an interface when no rule matches. */
enum action	 policy_iface_default(const struct iface *ifc);
/* Whether what interface ifc's default decides is logged: as written,
 * else on for a default deny (or reject), on any interface. */
bool		 policy_iface_log_default(const struct policy *p,
		    const struct iface *ifc);
bool		 policy_iface_implied_log_default(const struct policy *p,
		    const struct iface *ifc);
/* The verdict when its line says no default: accept for LAN, else deny. */
enum action	 policy_iface_implied_default(const struct iface *ifc);
/* True when rule r matches addresses of a dynamic interface: what it
 * matches changes with them. */
bool		 policy_rule_dynamic(const struct rule *r);
/* True when expression x names (through objects, too) the addresses of
 * dynamic interface ifc. */
bool		 policy_expr_uses(const struct addr_expr *x,
		    const struct iface *ifc);
/* True when rule r or port forward fw depends on ifc's dynamic address. */
bool		 policy_rule_uses(const struct rule *r, const struct iface *ifc);
bool		 policy_forward_uses(const struct forward *fw,
		    const struct iface *ifc);
/* The schedule with this name, or NULL. */
struct schedule	*policy_schedule(const struct policy *p, const char *name);
/* True when rule r counts at minute week_min of the local week (0 is
 * Sunday 00:00): it has no schedule, or its schedule is open then. */
bool		 policy_rule_open(const struct rule *r, unsigned week_min);
/* How many interfaces say address dynamic. */
size_t		 policy_ndynamic(const struct policy *p);
/* True for the objects whose addresses come from a feed (fqdn, url,
 * country); how many a policy has. */
bool		 policy_object_feed(const struct object *o);
size_t		 policy_nfeeds(const struct policy *p);
/* True when x names a feed object, directly or through objects. */
bool		 policy_expr_has_feed(const struct addr_expr *x);
/* "fqdn", "url", "country" (or "" for the other kinds). */
const char	*policy_feed_kind_name(enum object_kind k);
/* Gateways (doc/design/gateways.md) */
/* The gateway or gateway group with this name, or NULL. */
struct gateway	*policy_gateway(const struct policy *p, const char *name);
struct gateway_group *policy_gwgroup(const struct policy *p,
		    const char *name);
/* The default gateway (or group) in force for family fam (FAM_V4 or
 * FAM_V6): the one default-gateway names, else the family's only group
 * (ref->implied), else NULL: moat sets no default route of that family. */
const struct gw_ref *policy_default_gw(const struct policy *p,
		    enum addr_family fam);
/* The choice index t of a resolved gw_ref (its mark GW_MARK_CHOICE(t),
 * table GW_TABLE_CHOICE(t)): the gateway's index (1 … GW_MAX), or GW_MAX
 * + the group's (GW_MAX + 1 … GW_MAX + GW_GROUP_MAX); 0 when it names
 * nothing (no option, or not resolved). */
unsigned	 policy_gw_choice(const struct gw_ref *ref);
/* The gw_ref whose choice index is t among the rules of p (the first rule
 * that names it), or NULL when no enabled accept rule does: the choice
 * tables moatd keeps. */
const struct gw_ref *policy_gw_choice_ref(const struct policy *p,
		    unsigned t);
/* The address family of what ref names (FAM_V4 or FAM_V6), FAM_NONE when
 * it names nothing. */
enum addr_family policy_gw_family(const struct gw_ref *ref);
/* The gateway with index g (1 … ngateway), or NULL. */
struct gateway	*policy_gateway_at(const struct policy *p, unsigned g);
/* True when rule r's gateway option applies to its connections of family
 * fam: r is an enabled accept rule with the option, of that family. */
bool		 policy_rule_gw_applies(const struct rule *r,
		    enum addr_family fam);
/* "accept", "deny", "reject". */
const char	*action_name(enum action a);
/* s in double quotes, '"' and '\\' escaped: a string as the lexer reads
 * it back. */
void		 policy_put_quoted(struct strbuf *b, const char *s);
/* name as the kernel's ruleset names it (a set, a chain: letters, digits
 * and '_'): '-' as "_d" and '_' as "__", so that MAIL-SERVER and
 * MAIL_SERVER stay two names (nftc_put_ident). */
void		 policy_put_kernel_name(struct strbuf *b, const char *name);
/* Rule r's line in canonical form (what `moat show` prints); with_comment
 * false leaves its comment out. */
void		 policy_rule_line(const struct rule *r, struct strbuf *b,
		    bool with_comment);
/* A port forward's, a nat source rule's, a one-to-one line's line in
 * canonical form (what `moat show` prints). */
void		 policy_forward_line(const struct forward *fw,
		    struct strbuf *b);
void		 policy_nat_rule_line(const struct nat_rule *n,
		    struct strbuf *b);
void		 policy_nat_one_line(const struct nat_one *n, struct strbuf *b);
/* An address expression in canonical form: ANY, !LANIP, { 10.0.0.0/8,
 * MAILSERVER }. */
void		 policy_addr_expr_text(const struct addr_expr *x,
		    struct strbuf *b);
/* A service list in canonical form: SMTP, { SMTP, WEBMAIL }. */
void		 policy_svc_list_text(const struct svc_list *l,
		    struct strbuf *b);
/*
 * A rule's id (doc/design/rule-ids.md): the FNV-1a of its canonical line
 * without its comment, so that it stays the same whatever happens to the
 * other rules; a rule whose id an earlier rule of the file already has
 * takes the next free one (the hash hashed again).  Resolve gives every
 * rule of a policy its own (rule->id); this is the first candidate.
 */
uint64_t	 policy_rule_id(const struct rule *r);
/*
 * A port forward's, a nat source rule's and a one-to-one line's id, as a
 * rule's: the FNV-1a of its canonical line (policy_forward_line, …;
 * they have no comment), twins told apart in file order the same way, in
 * an index of their own kind.  Their kernel objects are named by it.
 */
uint64_t	 policy_forward_id(const struct forward *fw);
uint64_t	 policy_nat_rule_id(const struct nat_rule *n);
uint64_t	 policy_nat_one_id(const struct nat_one *n);
/* Where id starts its probe in an id_index (cap a power of two):
 * FNV-1a's low bits alone cluster, so they are mixed first. */
static inline size_t
policy_id_slot(uint64_t id, size_t cap)
{
	return (size_t)((id * 0x9e3779b97f4a7c15ull) >> 32) & (cap - 1);
}
/* The place in file order (0, 1, …) of the entry of x with this id, or
 * -1. */
long		 policy_id_find(const struct id_index *x, uint64_t id);
/* The rule, port forward, nat source rule, one-to-one line of p with this
 * id, or NULL. */
struct rule	*policy_rule_by_id(const struct policy *p, uint64_t id);
struct forward	*policy_forward_by_id(const struct policy *p, uint64_t id);
struct nat_rule	*policy_nat_rule_by_id(const struct policy *p, uint64_t id);
struct nat_one	*policy_nat_one_by_id(const struct policy *p, uint64_t id);
/* "auto", "concurrent" or "blocking". */
const char	*policy_av_reload_name(enum av_reload r);
/* "terminate", "passthrough" or "strip". */
const char	*policy_av_intercept_tls_name(enum av_tls_intercept t);
/* "none", "may", "dane" or "verify". */
const char	*policy_av_tls_upstream_name(enum av_tls_upstream u);
/* The known name nearest to name (edit distance), or NULL if none is near. */
const char	*nearest_name(const char *name, const char *const *names,
		    size_t n);

#endif
