/* pfsense.c: a pfSense or OPNsense config.xml as a moat.conf.
 *
 * The mapping, element by element, is in doc/design/import.md.  In short:
 * interfaces keep their device; aliases become objects and services;
 * each interface's rules come in their order (the GUI's rules are quick:
 * first match, as moat's), floating rules where they act on arrival;
 * port forwards, outbound NAT and 1:1 NAT; schedules.  Everything else
 * is a note with its XML path and the reason.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/addr.h"
#include "import/emit.h"
#include "import/import.h"
#include "import/proof.h"
#include "import/xml.h"
#include "policy/load.h"

#define MAX_IFACES	64
#define MAX_VIPS	32	/* IP aliases carried per interface */

struct xif {
	const struct xml_node	*node;
	const char		*key;	/* wan, lan, opt1 */
	const char		*name;	/* WAN, LAN, DMZ */
	const char		*dev;
	int			 fams;	/* FAM_V4 | FAM_V6 of XNET */
	const char		*ip[3], *net[3];	/* fixed, by family */
	/* IP alias VIPs: more addresses and networks of the interface
	 * (pf's IF network and (self) hold them, its IF address not) */
	const char		*vip[MAX_VIPS], *vipnet[MAX_VIPS];
	size_t			 nvip;
	const char		*primary;	/* its IF address, once made */
	bool			 dynamic;
	bool			 wanlike;	/* has a gateway: outbound NAT */
	bool			 enabled;
};

enum alias_state {
	AL_NEW = 0,
	AL_BUSY,
	AL_OK,
	AL_EMPTY,
	AL_BAD,
};

struct xalias {
	const struct xml_node	*node;
	const char		*name;		/* as the source names it */
	const char		*type;
	const char		*content;	/* members, space or newline */
	const char		*url;
	const char		*freq;
	const char		*descr;
	enum alias_state	 state;
	const char		*moat;		/* object name */
	const char		*ports;		/* port alias: "80,1000-2000" */
	const char		*why;
	int			 fams;
};

struct xgw {
	const char	*name;		/* as the source names it */
	const char	*moat;
};

struct xsched {
	const char	*name;
	const char	*moat;
	const char	*why;	/* NULL: carried */
};

/* One side of a rule, as the source writes it. */
struct pside {
	const char	*any;		/* non-NULL: any */
	const char	*network;	/* interface macro, (self), CIDR */
	const char	*address;	/* address, alias */
	const char	*port;
	bool		 neg;
};

/* A filter rule of either format. */
struct prule {
	const struct xml_node	*node;
	const char		*type;
	const char		*ifs;
	const char		*direction;
	const char		*ipproto;
	const char		*proto;
	const char		*icmptype;
	const char		*sched;
	const char		*descr;
	struct pside		 src, dst;
	bool			 floating, quick, disabled, log;
	bool			 noted;		/* a floating rule's loss */
	bool			 gw_noted;	/* its gateway's loss */
};

/* A moat side of a rule. */
struct mside {
	const char	*text;
	const char	*alt[3];	/* the same in one family, if known */
	int		 fams;
	bool		 any;
	bool		 neg;
};

struct imp {
	struct emit		 e;
	enum import_kind	 kind;
	const struct xml_node	*root;
	struct xif		 ifs[MAX_IFACES];
	size_t			 nif;
	struct xalias		*aliases;
	size_t			 nalias, capalias;
	struct xsched		*scheds;
	size_t			 nsched, capsched;
	const char		*self_name;
	struct xgw		*gws;		/* gateways and groups carried */
	size_t			 ngw, capgw;
	struct strbuf		 s_gw;
	struct prule		*rules;		/* the filter rules read */
	size_t			 nr;
	bool			 noantilockout;
	struct src_model	 model;
	bool			 reflection;	/* the box's default */
	struct strbuf		 s_if, s_obj, s_sched, s_rule, s_nat,
				 s_fwd, s_body;
};

static const char *
txt(const struct xml_node *n, const char *name)
{
	const char *t = xml_text(n, name);

	return t != NULL ? t : "";
}

/* A flag element: present and not "0" (OPNsense writes 0 and 1). */
static bool
flag(const struct xml_node *n, const char *name)
{
	const char *t = xml_text(n, name);

	return t != NULL && strcmp(t, "0") != 0;
}

static void
note(struct imp *im, const struct xml_node *n, const char *fmt, ...)
{
	va_list ap;
	char msg[600];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	emit_note(&im->e, xml_path(im->e.a, n), "%s", msg);
}

/* --- interfaces ------------------------------------------------------- */

static struct xif *
iface_by_key(struct imp *im, const char *key)
{
	size_t i;

	for (i = 0; i < im->nif; i++)
		if (strcmp(im->ifs[i].key, key) == 0)
			return &im->ifs[i];
	return NULL;
}

static bool
is_dynamic4(const char *t)
{
	return strcmp(t, "dhcp") == 0 || strcmp(t, "pppoe") == 0 ||
	    strcmp(t, "pptp") == 0 || strcmp(t, "l2tp") == 0;
}

/* A static address and its prefix as ADDR/LEN, or NULL. */
static const char *
static_addr(struct imp *im, const char *ip, const char *len, int fam)
{
	struct addr_lit lit;
	char err[100], hint[100];
	const char *s;

	if (*ip == '\0' || *len == '\0' || strchr(ip, '/') != NULL)
		return NULL;
	s = arena_printf(im->e.a, "%s/%s", ip, len);
	if (addr_parse_lit(s, true, &lit, err, sizeof(err), hint,
	    sizeof(hint)) == -1 || (int)lit.family != fam)
		return NULL;
	return s;
}

/* The IP alias VIPs of static interface f, as more addresses on its
 * line; read_vips notes the others. */
static void
iface_vips(struct imp *im, struct xif *f, struct strbuf *o)
{
	const struct xml_node *n;

	for (n = xml_child(xml_child(im->root, "virtualip"), "vip"); n != NULL;
	    n = n->next) {
		const char *ip = txt(n, "subnet"), *a;
		int fam = strchr(ip, ':') != NULL ? FAM_V6 : FAM_V4, fam2;

		if (strcmp(n->name, "vip") != 0 || strcmp(txt(n, "mode"),
		    "ipalias") != 0 || strcmp(txt(n, "interface"), f->key) != 0)
			continue;
		if ((a = static_addr(im, ip, txt(n, "subnet_bits"), fam)) ==
		    NULL) {
			note(im, n, "not carried: the IP alias '%s/%s' is no "
			    "address moat can take", emit_oneline(&im->e, ip),
			    emit_oneline(&im->e, txt(n, "subnet_bits")));
			continue;
		}
		if (f->nvip == MAX_VIPS) {
			note(im, n, "not carried: more than %d IP aliases on "
			    "one interface", MAX_VIPS);
			continue;
		}
		strbuf_printf(o, " address %s", a);
		f->fams |= fam;
		f->vip[f->nvip] = ip;
		f->vipnet[f->nvip++] = emit_literal(&im->e, a, &fam2);
	}
}

/* The virtual IPs that are not an IP alias on a static interface
 * carried (iface_vips took those). */
static void
read_vips(struct imp *im)
{
	const struct xml_node *n;
	size_t i;

	for (n = xml_child(xml_child(im->root, "virtualip"), "vip"); n != NULL;
	    n = n->next) {
		const char *mode = txt(n, "mode");

		if (strcmp(n->name, "vip") != 0)
			continue;
		if (strcmp(mode, "ipalias") != 0) {
			note(im, n, "not carried: a virtual IP of mode '%s' "
			    "(CARP, proxy ARP): see moat's ha block",
			    emit_oneline(&im->e, mode));
			continue;
		}
		for (i = 0; i < im->nif; i++)
			if (im->ifs[i].enabled && strcmp(im->ifs[i].key,
			    txt(n, "interface")) == 0)
				break;
		if (i == im->nif)
			note(im, n, "not carried: an IP alias on an interface "
			    "not carried ('%s')", emit_oneline(&im->e, txt(n,
			    "interface")));
		else if (im->ifs[i].dynamic)
			note(im, n, "not carried: an IP alias on a dynamic "
			    "interface (moat has fixed addresses or a dynamic "
			    "interface, not both)");
	}
}

static void
read_interfaces(struct imp *im)
{
	const struct xml_node *ifs = xml_child(im->root, "interfaces"), *n;
	bool antilockout = true;
	size_t i;

	for (n = ifs != NULL ? ifs->child : NULL; n != NULL; n = n->next) {
		struct xif *f;
		const char *v4 = txt(n, "ipaddr"), *v6 = txt(n, "ipaddrv6");
		const char *a4, *a6, *descr = txt(n, "descr");
		struct strbuf *o = &im->s_if;

		if (im->nif == MAX_IFACES) {
			note(im, n, "not carried: more than %d interfaces",
			    MAX_IFACES);
			continue;
		}
		f = &im->ifs[im->nif];
		memset(f, 0, sizeof(*f));
		f->node = n;
		f->key = n->name;
		f->enabled = xml_child(n, "enable") != NULL &&
		    strcmp(txt(n, "enable"), "0") != 0;
		if (strcmp(n->name, "lan") == 0)
			f->name = emit_name(&im->e, "LAN", "LAN");
		else if (strcmp(n->name, "wan") == 0)
			f->name = emit_name(&im->e, "WAN", "WAN");
		else
			f->name = emit_name(&im->e, *descr != '\0' &&
			    strcasecmp(descr, "LAN") != 0 &&
			    strcasecmp(descr, "WAN") != 0 ? descr : n->name,
			    "IF");
		f->dev = txt(n, "if");
		if (!f->enabled) {
			note(im, n, "not carried: the interface is disabled "
			    "(no <enable>): the source filters nothing on it, "
			    "and its rules are left out too");
			im->nif++;
			continue;
		}
		if (strcmp(txt(n, "type"), "group") == 0 ||
		    strncmp(f->dev, "lo", 2) == 0 || strcmp(f->dev, "enc0") == 0 ||
		    strcmp(f->dev, "openvpn") == 0) {
			note(im, n, "not carried: %s", strcmp(txt(n, "type"),
			    "group") == 0 ? "an interface group: moat has none "
			    "(repeat its rules on each interface)" :
			    strncmp(f->dev, "lo", 2) == 0 ? "the loopback "
			    "device: moat never filters it" : "a VPN's device "
			    "group: moat runs no VPN");
			f->enabled = false;
			im->nif++;
			continue;
		}
		if (*f->dev == '\0' || strlen(f->dev) > 15 ||
		    strpbrk(f->dev, " /:\"*#!,{}") != NULL ||
		    strcmp(f->dev, ".") == 0 || strcmp(f->dev, "..") == 0) {
			note(im, n, "not carried: device '%s' is no name Linux "
			    "can have", emit_oneline(&im->e, f->dev));
			f->enabled = false;
			im->nif++;
			continue;
		}
		for (i = 0; i < im->nif; i++)
			if (im->ifs[i].enabled && strcmp(im->ifs[i].dev,
			    f->dev) == 0)
				break;
		if (i < im->nif) {
			note(im, n, "not carried: device %s is interface "
			    "%s's already", emit_oneline(&im->e, f->dev),
			    im->ifs[i].key);
			f->enabled = false;
			im->nif++;
			continue;
		}
		emit_take_name(&im->e, arena_printf(im->e.a, "%sIP", f->name));
		emit_take_name(&im->e, arena_printf(im->e.a, "%sNET", f->name));
		a4 = static_addr(im, v4, txt(n, "subnet"), FAM_V4);
		a6 = static_addr(im, v6, txt(n, "subnetv6"), FAM_V6);
		if (*descr != '\0' && strcmp(descr, f->name) != 0 &&
		    strcasecmp(descr, n->name) != 0)
			strbuf_printf(o, "# %s: %s\n", n->name,
			    emit_oneline(&im->e, descr));
		strbuf_printf(o, "interface %s device %s", f->name, f->dev);
		if (is_dynamic4(v4) || (a4 == NULL && a6 == NULL)) {
			/* No fixed address: a tunnel's or a DHCP client's.
			 * pf's (IF:network) follows the device, as moat's
			 * address dynamic does. */
			f->dynamic = true;
			f->fams = FAM_BOTH;
			strbuf_puts(o, " address dynamic");
			if (*v6 != '\0' && a6 != NULL)
				note(im, xml_child(n, "ipaddrv6"), "not carried: "
				    "a static IPv6 address beside a dynamic IPv4 "
				    "one (moat takes whatever the device has)");
		} else {
			if (a4 != NULL) {
				int fam;

				strbuf_printf(o, " address %s", a4);
				f->fams |= FAM_V4;
				f->ip[FAM_V4] = v4;
				f->net[FAM_V4] = emit_literal(&im->e, a4, &fam);
			} else if (*v4 != '\0')
				note(im, xml_child(n, "ipaddr"), "not carried: "
				    "'%s' is no address moat can take",
				    emit_oneline(&im->e, v4));
			if (a6 != NULL) {
				int fam;

				strbuf_printf(o, " address %s", a6);
				f->fams |= FAM_V6;
				f->ip[FAM_V6] = v6;
				f->net[FAM_V6] = emit_literal(&im->e, a6, &fam);
			} else if (*v6 != '\0')
				note(im, xml_child(n, "ipaddrv6"), "not carried: "
				    "IPv6 '%s' (moat has fixed addresses or a "
				    "dynamic interface, not both)",
				    emit_oneline(&im->e, v6));
			iface_vips(im, f, o);
		}
		strbuf_puts(o, " default deny\n");
		if (xml_child(n, "blockpriv") != NULL)
			f->wanlike = true;
		if (*txt(n, "gateway") != '\0' || *txt(n, "gatewayv6") != '\0' ||
		    is_dynamic4(v4) || strcmp(n->name, "wan") == 0)
			f->wanlike = true;
		if (xml_child(n, "blockbogons") != NULL &&
		    strcmp(txt(n, "blockbogons"), "0") != 0)
			note(im, xml_child(n, "blockbogons"), "not carried: "
			    "the bogon list is fetched from the vendor's "
			    "servers; add a url object and a deny rule if you "
			    "want one");
		if (*txt(n, "spoofmac") != '\0')
			note(im, xml_child(n, "spoofmac"), "not carried: the "
			    "MAC address is the system's to set");
		if (*txt(n, "mtu") != '\0')
			note(im, xml_child(n, "mtu"), "not carried: the MTU is "
			    "the system's to set");
		im->nif++;
	}
	if (xml_child(xml_child(xml_child(im->root, "system"), "webgui"),
	    "noantilockout") != NULL)
		antilockout = false;
	im->noantilockout = !antilockout;
	if (!antilockout)
		strbuf_puts(&im->s_if, "anti-lockout off\n");
	else if (iface_by_key(im, "lan") == NULL && im->nif > 0)
		note(im, ifs, "not carried: the anti-lockout rule of a box "
		    "without a LAN is on its WAN; moat's is on LAN only");
}

/* --- aliases ------------------------------------------------------------ */

static struct xalias *
alias_by_name(struct imp *im, const char *name)
{
	size_t i;

	for (i = 0; i < im->nalias; i++)
		if (strcmp(im->aliases[i].name, name) == 0)
			return &im->aliases[i];
	return NULL;
}

static void
add_alias(struct imp *im, const struct xml_node *n, const char *name,
    const char *type, const char *content, const char *url,
    const char *freq, const char *descr)
{
	struct xalias *al;

	if (*name == '\0') {
		note(im, n, "not carried: an alias without a name");
		return;
	}
	if (alias_by_name(im, name) != NULL) {
		note(im, n, "not carried: a second alias named '%s'",
		    emit_oneline(&im->e, name));
		return;
	}
	ARENA_PUSH(im->e.a, im->aliases, im->nalias, im->capalias);
	al = &im->aliases[im->nalias - 1];
	memset(al, 0, sizeof(*al));
	al->node = n;
	al->name = name;
	al->type = type;
	al->content = content;
	al->url = url;
	al->freq = freq;
	al->descr = descr;
}

static void
read_aliases(struct imp *im)
{
	const struct xml_node *n, *m;

	for (n = xml_child(xml_child(im->root, "aliases"), "alias"); n != NULL;
	    n = n->next)
		if (strcmp(n->name, "alias") == 0) {
			const char *url = txt(n, "url");

			if (*url == '\0')
				url = txt(n, "aliasurl");
			add_alias(im, n, txt(n, "name"), txt(n, "type"),
			    txt(n, "address"), url, txt(n, "updatefreq"),
			    txt(n, "descr"));
		}
	/* OPNsense's aliases, in its MVC model. */
	m = xml_child(xml_child(xml_child(xml_child(xml_child(im->root,
	    "OPNsense"), "Firewall"), "Alias"), "aliases"), "alias");
	for (n = m; n != NULL; n = n->next) {
		const char *type = txt(n, "type");
		bool urlish = strcmp(type, "url") == 0 ||
		    strcmp(type, "urltable") == 0;

		if (strcmp(n->name, "alias") != 0)
			continue;
		if (xml_child(n, "enabled") != NULL && !flag(n, "enabled")) {
			note(im, n, "not carried: the alias is disabled");
			continue;
		}
		add_alias(im, n, txt(n, "name"), type,
		    urlish ? "" : txt(n, "content"),
		    urlish ? txt(n, "content") : "", txt(n, "updatefreq"),
		    txt(n, "description"));
	}
}

static bool
is_hostname(const char *s)
{
	bool alpha = false, dot = false;

	if (*s == '\0' || strlen(s) > 253 || *s == '.' || *s == '-')
		return false;
	for (; *s != '\0'; s++) {
		if (isalpha((unsigned char)*s))
			alpha = true;
		else if (*s == '.')
			dot = true;
		else if (!isdigit((unsigned char)*s) && *s != '-')
			return false;
	}
	return alpha && dot;
}

static const char *refresh_of(struct imp *im, const char *freq);
static struct xalias *resolve_alias(struct imp *im, const char *name);

/* A host or network alias as an object (an fqdn object beside it for
 * its host names). */
static void
emit_addr_alias(struct imp *im, struct xalias *al)
{
	struct strbuf lits, hosts;
	const char *p = al->content, *w, *lit;
	size_t nlit = 0, nhost = 0;
	int fam;

	strbuf_init(&lits, 0);
	strbuf_init(&hosts, 0);
	while ((w = emit_word(&im->e, &p)) != NULL) {
		struct xalias *in;

		if ((lit = emit_literal(&im->e, w, &fam)) != NULL) {
			strbuf_printf(&lits, "%s%s", nlit++ ? ", " : "", lit);
			al->fams |= fam;
		} else if ((in = alias_by_name(im, w)) != NULL) {
			in = resolve_alias(im, w);
			if (in->state == AL_BAD || in->state == AL_BUSY) {
				al->why = arena_printf(im->e.a, "member '%s': %s",
				    w, in->state == AL_BUSY ? "the aliases hold "
				    "each other" : in->why);
				goto out;
			}
			if (in->ports != NULL) {
				al->why = arena_printf(im->e.a, "member '%s' is "
				    "a port alias", w);
				goto out;
			}
			if (in->state == AL_OK) {
				strbuf_printf(&lits, "%s%s", nlit++ ? ", " : "",
				    in->moat);
				al->fams |= in->fams;
			}
		} else if (is_hostname(w)) {
			strbuf_printf(&hosts, " %s", w);
			nhost++;
			al->fams = FAM_BOTH;
		} else {
			al->why = arena_printf(im->e.a, "member '%s' is no "
			    "address, network, range, host name or alias",
			    emit_oneline(&im->e, w));
			goto out;
		}
	}
	if (strbuf_failed(&lits) || strbuf_failed(&hosts)) {
		al->why = "out of memory";
		goto out;
	}
	if (nlit + nhost == 0) {
		al->state = AL_EMPTY;
		goto out;
	}
	al->moat = emit_name(&im->e, al->name, "alias");
	if (*al->descr != '\0')
		strbuf_printf(&im->s_obj, "# %s\n", emit_oneline(&im->e, al->descr));
	if (nhost > 0 && nlit == 0)
		strbuf_printf(&im->s_obj, "object %s fqdn%s\n", al->moat,
		    strbuf_str(&hosts));
	else {
		if (nhost > 0) {
			const char *h = emit_name(&im->e, arena_printf(im->e.a,
			    "%s_fqdn", al->moat), "fqdn");

			strbuf_printf(&im->s_obj, "object %s fqdn%s\n", h,
			    strbuf_str(&hosts));
			strbuf_printf(&lits, ", %s", h);
			nlit++;
		}
		if (nlit == 1)
			strbuf_printf(&im->s_obj, "object %s %s\n", al->moat,
			    strbuf_str(&lits));
		else
			strbuf_printf(&im->s_obj, "object %s { %s }\n",
			    al->moat, strbuf_str(&lits));
	}
	al->state = AL_OK;
out:
	if (al->why != NULL)
		al->state = AL_BAD;
	strbuf_free(&lits);
	strbuf_free(&hosts);
}

/* A port alias as a list of ports and ranges. */
static void
port_alias(struct imp *im, struct xalias *al)
{
	struct strbuf b;
	const char *p = al->content, *w;
	size_t n = 0;

	strbuf_init(&b, 0);
	while ((w = emit_word(&im->e, &p)) != NULL) {
		char *e, *r = arena_strdup(im->e.a, w);
		unsigned long lo, hi;
		struct xalias *in;

		if ((e = strchr(r, ':')) != NULL)
			*e = '-';
		if (isdigit((unsigned char)r[0])) {
			lo = strtoul(r, &e, 10);
			hi = lo;
			if (*e == '-')
				hi = strtoul(e + 1, &e, 10);
			if (*e != '\0' || lo < 1 || hi > 65535 || lo > hi) {
				al->why = arena_printf(im->e.a, "'%s' is no port "
				    "or range", emit_oneline(&im->e, w));
				break;
			}
			if (lo == hi)
				strbuf_printf(&b, "%s%lu", n++ ? "," : "", lo);
			else
				strbuf_printf(&b, "%s%lu-%lu", n++ ? "," : "",
				    lo, hi);
		} else if (alias_by_name(im, w) != NULL &&
		    (in = resolve_alias(im, w))->ports != NULL) {
			if (*in->ports != '\0')
				strbuf_printf(&b, "%s%s", n++ ? "," : "",
				    in->ports);
		} else {
			al->why = arena_printf(im->e.a, "member '%s' is no "
			    "port, range or port alias", emit_oneline(&im->e, w));
			break;
		}
	}
	if (al->why == NULL && !strbuf_failed(&b)) {
		al->ports = arena_strdup(im->e.a, strbuf_str(&b));
		al->state = n > 0 ? AL_OK : AL_EMPTY;
	} else {
		al->ports = NULL;
		al->state = AL_BAD;
		if (al->why == NULL)
			al->why = "out of memory";
	}
	strbuf_free(&b);
}

static struct xalias *
resolve_alias(struct imp *im, const char *name)
{
	struct xalias *al = alias_by_name(im, name);
	const char *t;

	if (al == NULL || al->state != AL_NEW)
		return al;
	al->state = AL_BUSY;
	t = al->type;
	if (strcmp(t, "host") == 0 || strcmp(t, "network") == 0 ||
	    strcmp(t, "networkgroup") == 0 ||
	    (strcmp(t, "url") == 0 && *al->content != '\0'))
		emit_addr_alias(im, al);
	else if (strcmp(t, "port") == 0)
		port_alias(im, al);
	else if (strcmp(t, "url") == 0 || strcmp(t, "urltable") == 0) {
		const char *p = al->url, *u = emit_word(&im->e, &p);

		if (u == NULL)
			al->why = "it has no URL";
		else if (emit_word(&im->e, &p) != NULL)
			al->why = "it has more than one URL (moat's url object "
			    "has one: split it)";
		else if (strncmp(u, "https://", 8) != 0 &&
		    strncmp(u, "file:///", 8) != 0)
			al->why = arena_printf(im->e.a, "moat fetches lists over "
			    "HTTPS only, not '%s'", emit_oneline(&im->e, u));
		else {
			al->moat = emit_name(&im->e, al->name, "alias");
			if (*al->descr != '\0')
				strbuf_printf(&im->s_obj, "# %s\n",
				    emit_oneline(&im->e, al->descr));
			strbuf_printf(&im->s_obj, "object %s url %s%s\n",
			    al->moat, emit_quote(&im->e, u), refresh_of(im, al->freq));
			al->fams = FAM_BOTH;
			al->state = AL_OK;
		}
		if (al->why != NULL)
			al->state = AL_BAD;
	} else {
		al->why = arena_printf(im->e.a, "moat has no alias of type '%s'",
		    emit_oneline(&im->e, t));
		al->state = AL_BAD;
	}
	if (al->state == AL_BAD)
		note(im, al->node, "not carried: %s", al->why);
	else if (al->state == AL_EMPTY)
		note(im, al->node, "not carried: the alias is empty (it "
		    "matches nothing; rules that name it are left out)");
	return al;
}

/* An url table's update frequency (days) as a refresh. */
static const char *
refresh_of(struct imp *im, const char *freq)
{
	char *e;
	double d;

	if (*freq == '\0')
		return "";
	d = strtod(freq, &e);
	if (*e != '\0' || !(d > 0))
		return "";
	if (d >= 7)
		return " refresh 7d";
	if (d * 24 >= 1)
		return arena_printf(im->e.a, " refresh %dh", (int)(d * 24));
	return " refresh 1h";
}

/* --- services ----------------------------------------------------------- */

/* A port or range of a rule ("80", "80-90", "80:90") or a port alias, as
 * moat's items; NULL with why. */
static const char *
ports_of(struct imp *im, const char *p, const char **label,
    const char **why)
{
	char *r = arena_strdup(im->e.a, p), *e;
	unsigned long lo, hi;
	struct xalias *al;

	*label = NULL;
	if ((e = strchr(r, ':')) != NULL)
		*e = '-';
	if (isdigit((unsigned char)r[0])) {
		lo = strtoul(r, &e, 10);
		hi = lo;
		if (*e == '-')
			hi = strtoul(e + 1, &e, 10);
		if (*e != '\0' || lo < 1 || hi > 65535 || lo > hi) {
			*why = arena_printf(im->e.a, "'%s' is no port or range",
			    emit_oneline(&im->e, p));
			return NULL;
		}
		return lo == hi ? arena_printf(im->e.a, "%lu", lo) :
		    arena_printf(im->e.a, "%lu-%lu", lo, hi);
	}
	if ((al = resolve_alias(im, p)) == NULL || al->state == AL_BUSY) {
		*why = arena_printf(im->e.a, "port '%s' is no port, range or "
		    "alias", emit_oneline(&im->e, p));
		return NULL;
	}
	if (al->ports == NULL) {
		*why = al->state == AL_BAD ? arena_printf(im->e.a, "port alias "
		    "'%s': %s", p, al->why) : arena_printf(im->e.a, "'%s' is no "
		    "port alias", p);
		return NULL;
	}
	if (al->state == AL_EMPTY) {
		*why = arena_printf(im->e.a, "port alias '%s' is empty: the "
		    "rule matches nothing", p);
		return NULL;
	}
	*label = al->name;
	return al->ports;
}

static const struct {
	const char	*pf;
	const char	*nft;
} icmp_names[] = {
	{ "echoreq", "echo-request" }, { "echorep", "echo-reply" },
	{ "unreach", "destination-unreachable" }, { "squench", "source-quench" },
	{ "redir", "redirect" }, { "routeradv", "router-advertisement" },
	{ "routersol", "router-solicitation" }, { "timex", "time-exceeded" },
	{ "paramprob", "parameter-problem" }, { "timereq", "timestamp-request" },
	{ "timerep", "timestamp-reply" }, { "inforeq", "info-request" },
	{ "inforep", "info-reply" }, { "maskreq", "address-mask-request" },
	{ "maskrep", "address-mask-reply" }, { "althost", "6" },
	{ "trace", "30" }, { "dataconv", "31" }, { "mobredir", "32" },
	{ "ipv6-where", "33" }, { "ipv6-here", "34" }, { "mobregreq", "35" },
	{ "mobregrep", "36" }, { "skip", "39" }, { "photuris", "40" },
};

/* The service of a rule: NULL (any) in *svc, or its name; -1 with why. */
static int
rule_service(struct imp *im, const struct prule *r, int fams,
    const char **svc, const char **why)
{
	const char *proto = r->proto, *items = NULL, *label = NULL, *body;
	const char *p, *w;
	struct strbuf b;

	*svc = NULL;
	if (r->src.port != NULL && *r->src.port != '\0' &&
	    strcmp(r->src.port, "any") != 0) {
		*why = "moat matches no source port";
		return -1;
	}
	if (*proto == '\0' || strcmp(proto, "any") == 0) {
		if (r->dst.port != NULL && *r->dst.port != '\0' &&
		    strcmp(r->dst.port, "any") != 0) {
			*why = "a port without a protocol";
			return -1;
		}
		return 0;
	}
	if (strcmp(proto, "tcp") == 0 || strcmp(proto, "udp") == 0 ||
	    strcmp(proto, "tcp/udp") == 0 || strcmp(proto, "sctp") == 0) {
		char want[200];
		const char *pname;

		if (r->dst.port != NULL && *r->dst.port != '\0' &&
		    strcmp(r->dst.port, "any") != 0 &&
		    (items = ports_of(im, r->dst.port, &label, why)) == NULL)
			return -1;
		if (strcmp(proto, "tcp/udp") == 0)
			body = items == NULL ? "tcp udp" :
			    arena_printf(im->e.a, "tcp %s udp %s", items, items);
		else
			body = items == NULL ? proto :
			    arena_printf(im->e.a, "%s %s", proto, items);
		pname = strcmp(proto, "tcp/udp") == 0 ? "tcpudp" : proto;
		if (label != NULL && strcmp(proto, "tcp") == 0)
			snprintf(want, sizeof(want), "%s", label);
		else if (label != NULL)
			snprintf(want, sizeof(want), "%s_%s", label, pname);
		else
			snprintf(want, sizeof(want), "%s_%s", pname,
			    items != NULL ? items : "all");
		*svc = emit_service(&im->e, body, want);
		return 0;
	}
	if (strcmp(proto, "icmp") == 0 || strcmp(proto, "ipv6-icmp") == 0 ||
	    strcmp(proto, "icmp6") == 0) {
		bool v6 = strcmp(proto, "icmp") != 0 ||
		    strcmp(r->ipproto, "inet6") == 0;
		bool both = strcmp(proto, "icmp") == 0 &&
		    strcmp(r->ipproto, "inet46") == 0;
		char want[200];

		strbuf_init(&b, 0);
		p = r->icmptype != NULL ? r->icmptype : "";
		while ((w = emit_word(&im->e, &p)) != NULL) {
			size_t i;
			const char *t = NULL;

			if (strcmp(w, "any") == 0) {
				b.len = 0;
				break;
			}
			for (i = 0; i < sizeof(icmp_names) /
			    sizeof(icmp_names[0]); i++)
				if (strcmp(icmp_names[i].pf, w) == 0)
					t = icmp_names[i].nft;
			if (t == NULL && (v6 || both)) {
				/* ICMPv6 names pfSense writes as nft does */
				if (strcmp(w, "toobig") == 0)
					t = "packet-too-big";
				else if (strcmp(w, "neighbrsol") == 0)
					t = "nd-neighbor-solicit";
				else if (strcmp(w, "neighbradv") == 0)
					t = "nd-neighbor-advert";
			}
			if (t == NULL) {
				strbuf_free(&b);
				*why = arena_printf(im->e.a, "ICMP type '%s' is "
				    "not one moat knows", emit_oneline(&im->e, w));
				return -1;
			}
			strbuf_printf(&b, "%s%s", b.len ? "," : "", t);
		}
		items = b.len ? arena_strdup(im->e.a, strbuf_str(&b)) : NULL;
		strbuf_free(&b);
		if (both || (fams == FAM_BOTH && strcmp(proto, "icmp") == 0 &&
		    strcmp(r->ipproto, "inet") != 0 &&
		    strcmp(r->ipproto, "inet6") != 0))
			body = items == NULL ? "icmp icmpv6" :
			    arena_printf(im->e.a, "icmp %s icmpv6 %s", items,
			    items);
		else
			body = items == NULL ? (v6 ? "icmpv6" : "icmp") :
			    arena_printf(im->e.a, "%s %s", v6 ? "icmpv6" :
			    "icmp", items);
		if (items != NULL && strcmp(items, "echo-request") == 0 &&
		    strcmp(body, "icmp echo-request icmpv6 echo-request") == 0) {
			*svc = "PING";
			return 0;
		}
		snprintf(want, sizeof(want), "%s_%s", v6 && !both ? "icmpv6" :
		    "icmp", items == NULL ? "all" : items);
		*svc = emit_service(&im->e, body, want);
		return 0;
	}
	if (strcmp(proto, "gre") == 0 || strcmp(proto, "esp") == 0 ||
	    strcmp(proto, "ah") == 0) {
		*svc = emit_service(&im->e, proto, proto);
		return 0;
	}
	*why = arena_printf(im->e.a, "moat has no service of protocol '%s'",
	    emit_oneline(&im->e, proto));
	return -1;
}

/* --- gateways ------------------------------------------------------------ */

/* Whether the host literal h is inside the network literal net. */
static bool
lit_in_net(const char *net, const char *h)
{
	struct addr_lit n, a;
	char err[100];

	if (addr_parse_lit(net, false, &n, err, sizeof(err), NULL, 0) == -1 ||
	    addr_parse_lit(h, false, &a, err, sizeof(err), NULL, 0) == -1)
		return false;
	return a.lo >= n.lo && a.lo <= n.hi;
}

static const char *
gw_moat(struct imp *im, const char *name)
{
	size_t i;

	for (i = 0; i < im->ngw; i++)
		if (strcmp(im->gws[i].name, name) == 0)
			return im->gws[i].moat;
	return NULL;
}

static void
add_gw(struct imp *im, const char *name, const char *moat)
{
	ARENA_PUSH(im->e.a, im->gws, im->ngw, im->capgw);
	im->gws[im->ngw - 1].name = name;
	im->gws[im->ngw - 1].moat = moat;
}

/* Gateways (next hops), their groups, the default: moat's gateway,
 * gateway-group and default-gateway. */
static void
read_gateways(struct imp *im)
{
	const struct xml_node *g = xml_child(im->root, "gateways"), *n, *it;
	const char *def[3] = { NULL, NULL, NULL };
	int gfam[64];
	size_t i;

	for (n = g != NULL ? g->child : NULL; n != NULL; n = n->next) {
		const char *name = txt(n, "name"), *via = txt(n, "gateway");
		const char *mon = txt(n, "monitor"), *why = NULL, *lit = NULL, *m;
		struct xif *f = iface_by_key(im, txt(n, "interface"));
		int fam = 0, mfam = 0;

		if (strcmp(n->name, "gateway_item") != 0)
			continue;
		if (xml_child(n, "disabled") != NULL &&
		    strcmp(txt(n, "disabled"), "0") != 0)
			why = "the gateway is disabled";
		else if (f == NULL || !f->enabled)
			why = arena_printf(im->e.a, "it is on no interface carried "
			    "('%s')", emit_oneline(&im->e, txt(n, "interface")));
		else if ((lit = emit_literal(&im->e, via, &fam)) == NULL ||
		    strchr(lit, '/') != NULL || strchr(lit, '-') != NULL)
			why = arena_printf(im->e.a, "its address '%s' is given by "
			    "DHCP or PPP, or is none: moat's gateway is an "
			    "address", emit_oneline(&im->e, via));
		else if (!f->dynamic && (f->net[fam] == NULL ||
		    !lit_in_net(f->net[fam], lit)) && !(fam == FAM_V6 &&
		    strncmp(lit, "fe80:", 5) == 0))
			why = arena_printf(im->e.a, "%s is not on %s's network",
			    lit, f->name);
		if (why != NULL) {
			note(im, n, "not carried: %s", why);
			continue;
		}
		m = emit_name(&im->e, name, "gw");
		add_gw(im, name, m);
		if (im->ngw <= 64)
			gfam[im->ngw - 1] = fam;
		if (*txt(n, "descr") != '\0')
			strbuf_printf(&im->s_gw, "# %s\n",
			    emit_oneline(&im->e, txt(n, "descr")));
		strbuf_printf(&im->s_gw, "gateway %s on %s via %s", m, f->name,
		    lit);
		if (*mon != '\0' && !flag(n, "monitor_disable") &&
		    (mon = emit_literal(&im->e, mon, &mfam)) != NULL &&
		    mfam == fam && strchr(mon, '/') == NULL &&
		    strchr(mon, '-') == NULL)
			strbuf_printf(&im->s_gw, " monitor %s", mon);
		strbuf_putc(&im->s_gw, '\n');
		if (flag(n, "defaultgw") && def[fam] == NULL)
			def[fam] = m;
	}
	for (n = g != NULL ? g->child : NULL; n != NULL; n = n->next) {
		struct strbuf b;
		size_t k = 0;
		int fam = 0;
		const char *why = NULL;

		if (strcmp(n->name, "gateway_group") != 0)
			continue;
		strbuf_init(&b, 0);
		for (it = n->child; it != NULL && why == NULL; it = it->next) {
			char *item, *bar;
			const char *m;
			int tier = 1;

			if (strcmp(it->name, "item") != 0)
				continue;
			item = arena_strdup(im->e.a, it->text);
			if ((bar = strchr(item, '|')) != NULL) {
				*bar = '\0';
				tier = atoi(bar + 1);
			}
			if ((m = gw_moat(im, item)) == NULL) {
				why = arena_printf(im->e.a, "its gateway '%s' is "
				    "not carried", emit_oneline(&im->e, item));
				break;
			}
			for (i = 0; i < im->ngw && i < 64; i++)
				if (im->gws[i].moat == m) {
					if (fam != 0 && gfam[i] != fam)
						why = "it mixes IPv4 and IPv6 "
						    "gateways";
					fam = gfam[i];
				}
			if (tier < 1 || tier > 5)
				why = arena_printf(im->e.a, "tier %d: moat's are "
				    "1 to 5", tier);
			strbuf_printf(&b, " %s tier %d", m, tier);
			k++;
		}
		if (why == NULL && k == 0)
			why = "it has no gateway";
		if (why != NULL)
			note(im, n, "not carried: %s", why);
		else {
			const char *m = emit_name(&im->e, txt(n, "name"), "group");

			add_gw(im, txt(n, "name"), m);
			if (im->ngw <= 64)
				gfam[im->ngw - 1] = fam;
			if (*txt(n, "descr") != '\0')
				strbuf_printf(&im->s_gw, "# %s\n",
				    emit_oneline(&im->e, txt(n, "descr")));
			strbuf_printf(&im->s_gw, "gateway-group %s%s\n", m,
			    strbuf_str(&b));
		}
		strbuf_free(&b);
	}
	for (i = 0; i < 2; i++) {
		const char *d = txt(g, i == 0 ? "defaultgw4" : "defaultgw6");
		const char *m;

		if (*d == '\0' || strcmp(d, "-") == 0)
			continue;
		if ((m = gw_moat(im, d)) == NULL)
			note(im, xml_child(g, i == 0 ? "defaultgw4" :
			    "defaultgw6"), "not carried: the default gateway "
			    "'%s' is not", emit_oneline(&im->e, d));
		else
			def[i == 0 ? FAM_V4 : FAM_V6] = m;
	}
	if (def[FAM_V4] != NULL || def[FAM_V6] != NULL)
		strbuf_printf(&im->s_gw, "default-gateway%s%s%s%s\n",
		    def[FAM_V4] != NULL ? " " : "", def[FAM_V4] != NULL ?
		    def[FAM_V4] : "", def[FAM_V6] != NULL ? " " : "",
		    def[FAM_V6] != NULL ? def[FAM_V6] : "");
	if (g != NULL && im->ngw > 0)
		note(im, g, "carried with a difference: moat probes a gateway "
		    "with its own loss and latency limits, not the source's "
		    "(dpinger's)");
}

/* --- schedules ---------------------------------------------------------- */

static const char *const day_names[] = {
	"", "mon", "tue", "wed", "thu", "fri", "sat", "sun",
};

/* "7:30" as "07:30"; an end of "17:59" is "18:00". */
static const char *
hhmm(struct imp *im, const char *s, bool end)
{
	unsigned h, m;
	char c;

	if (sscanf(s, "%u:%u%c", &h, &m, &c) != 2 || h > 24 || m > 59 ||
	    (h == 24 && m != 0))
		return NULL;
	if (end && m == 59) {
		m = 0;
		h++;
	}
	if (h == 24 && !end)
		return NULL;
	return arena_printf(im->e.a, "%02u:%02u", h, m);
}

static void
read_schedules(struct imp *im)
{
	const struct xml_node *n, *t;

	for (n = xml_child(xml_child(im->root, "schedules"), "schedule");
	    n != NULL; n = n->next) {
		struct strbuf b;
		struct xsched *s;

		if (strcmp(n->name, "schedule") != 0)
			continue;
		ARENA_PUSH(im->e.a, im->scheds, im->nsched, im->capsched);
		s = &im->scheds[im->nsched - 1];
		memset(s, 0, sizeof(*s));
		s->name = txt(n, "name");
		strbuf_init(&b, 0);
		for (t = n->child; t != NULL && s->why == NULL; t = t->next) {
			const char *p, *w, *from, *to, *dash, *hour;
			size_t nd = 0;

			if (strcmp(t->name, "timerange") != 0)
				continue;
			if (*txt(t, "month") != '\0' || *txt(t, "day") != '\0') {
				s->why = "a range of calendar dates (moat's "
				    "schedules are days of the week)";
				break;
			}
			hour = txt(t, "hour");
			if ((dash = strchr(hour, '-')) == NULL ||
			    (from = hhmm(im, arena_strndup(im->e.a, hour,
			    (size_t)(dash - hour)), false)) == NULL ||
			    (to = hhmm(im, dash + 1, true)) == NULL ||
			    strcmp(from, to) == 0) {
				s->why = arena_printf(im->e.a, "hours '%s' are "
				    "not a window moat can take",
				    emit_oneline(&im->e, hour));
				break;
			}
			strbuf_putc(&b, ' ');
			p = txt(t, "position");
			while ((w = emit_word(&im->e, &p)) != NULL) {
				int d = atoi(w);

				if (d < 1 || d > 7 || strlen(w) != 1) {
					s->why = arena_printf(im->e.a, "day '%s' "
					    "is not one of 1 to 7",
					    emit_oneline(&im->e, w));
					break;
				}
				strbuf_printf(&b, "%s%s", nd++ ? "," : "",
				    day_names[d]);
			}
			if (nd == 0)
				strbuf_puts(&b, "daily");
			strbuf_printf(&b, " %s-%s", from, to);
		}
		if (s->why == NULL && b.len == 0)
			s->why = "it has no time range";
		if (s->why == NULL && !strbuf_failed(&b)) {
			s->moat = emit_name(&im->e, s->name, "schedule");
			strbuf_printf(&im->s_sched, "schedule %s%s\n", s->moat,
			    strbuf_str(&b));
		} else
			note(im, n, "not carried: %s", s->why != NULL ? s->why :
			    "out of memory");
		strbuf_free(&b);
	}
}

static struct xsched *
sched_by_name(struct imp *im, const char *name)
{
	size_t i;

	for (i = 0; i < im->nsched; i++)
		if (strcmp(im->scheds[i].name, name) == 0)
			return &im->scheds[i];
	return NULL;
}

/* --- addresses ---------------------------------------------------------- */

/* Every address of the gateway: an object of all XIP. */
static const char *
self_object(struct imp *im)
{
	struct strbuf b;
	size_t i, n = 0;

	if (im->self_name != NULL)
		return im->self_name;
	strbuf_init(&b, 0);
	for (i = 0; i < im->nif; i++)
		if (im->ifs[i].enabled)
			strbuf_printf(&b, "%s%sIP", n++ ? ", " : "",
			    im->ifs[i].name);
	if (n == 0) {
		strbuf_free(&b);
		return NULL;
	}
	im->self_name = emit_name(&im->e, "THIS_FIREWALL", "SELF");
	strbuf_printf(&im->s_obj, "# (self): every address of the gateway\n"
	    "object %s { %s }\n", im->self_name, strbuf_str(&b));
	strbuf_free(&b);
	return im->self_name;
}

/* An interface macro (lan, lanip, opt1, opt1ip, (self)) as a moat
 * object; NULL when s is none, why set when it is one moat cannot use. */
static const char *
macro(struct imp *im, const char *s, struct mside *ms, const char **why)
{
	struct xif *f;
	size_t len = strlen(s);
	bool ip = false;

	if (strcmp(s, "(self)") == 0 || strcmp(s, "self") == 0) {
		const char *o = self_object(im);

		ms->fams = FAM_BOTH;
		if (o == NULL)
			*why = "(self) on a box without interfaces";
		return o != NULL ? o : "";
	}
	if ((f = iface_by_key(im, s)) == NULL && len > 2 &&
	    strcmp(s + len - 2, "ip") == 0) {
		f = iface_by_key(im, arena_strndup(im->e.a, s, len - 2));
		ip = true;
	}
	if (f == NULL)
		return NULL;
	if (!f->enabled) {
		*why = arena_printf(im->e.a, "interface '%s' is not carried",
		    f->key);
		return "";
	}
	if (f->fams == 0) {
		/* pfSense leaves out a rule naming an interface's network
		 * when it has no address: it matches nothing. */
		*why = arena_printf(im->e.a, "interface '%s' has no address, so "
		    "'%s' matches nothing", f->key, s);
		return "";
	}
	ms->fams = f->fams;
	ms->alt[FAM_V4] = ip ? f->ip[FAM_V4] : f->net[FAM_V4];
	ms->alt[FAM_V6] = ip ? f->ip[FAM_V6] : f->net[FAM_V6];
	if (ip && f->nvip > 0) {
		/* moat's XIP holds the IP aliases too; pf's IF address is
		 * the interface's own address only */
		if (f->primary == NULL) {
			f->primary = emit_name(&im->e, arena_printf(im->e.a,
			    "%s_ADDRESS", f->name), "address");
			strbuf_printf(&im->s_obj, "# %s address: its own, not "
			    "its IP aliases\nobject %s { ", f->key, f->primary);
			if (f->ip[FAM_V4] != NULL)
				strbuf_printf(&im->s_obj, "%s%s", f->ip[FAM_V4],
				    f->ip[FAM_V6] != NULL ? ", " : "");
			if (f->ip[FAM_V6] != NULL)
				strbuf_puts(&im->s_obj, f->ip[FAM_V6]);
			strbuf_puts(&im->s_obj, " }\n");
		}
		ms->fams = (f->ip[FAM_V4] != NULL ? FAM_V4 : 0) |
		    (f->ip[FAM_V6] != NULL ? FAM_V6 : 0);
		return f->primary;
	}
	return arena_printf(im->e.a, "%s%s", f->name, ip ? "IP" : "NET");
}

/* One side of a rule (or NAT rule) as moat writes it; -1 with why. */
static int
side(struct imp *im, const struct pside *ps, struct mside *ms,
    const char **why)
{
	const char *v, *o;
	struct xalias *al;
	int fam = 0;

	memset(ms, 0, sizeof(*ms));
	ms->neg = ps->neg;
	v = ps->network != NULL && *ps->network != '\0' ? ps->network :
	    ps->address != NULL && *ps->address != '\0' ? ps->address : NULL;
	if (ps->any != NULL || v == NULL || strcmp(v, "any") == 0) {
		if (ps->neg) {
			*why = "'not any' matches nothing";
			return -1;
		}
		ms->text = "ANY";
		ms->any = true;
		ms->fams = FAM_BOTH;
		return 0;
	}
	if ((o = macro(im, v, ms, why)) != NULL) {
		if (*o == '\0')
			return -1;
		ms->text = o;
		return 0;
	}
	if ((o = emit_literal(&im->e, v, &fam)) != NULL) {
		ms->text = o;
		ms->fams = fam;
		return 0;
	}
	if ((al = resolve_alias(im, v)) != NULL) {
		if (al->state == AL_OK && al->ports == NULL) {
			ms->text = al->moat;
			ms->fams = al->fams;
			return 0;
		}
		*why = al->state == AL_EMPTY ? arena_printf(im->e.a, "alias '%s' "
		    "is empty: the rule matches nothing", v) :
		    al->ports != NULL ? arena_printf(im->e.a, "'%s' is a port "
		    "alias", v) : arena_printf(im->e.a, "alias '%s' is not "
		    "carried (%s)", v, al->why != NULL ? al->why : "a loop");
		return -1;
	}
	*why = arena_printf(im->e.a, "'%s' is no address, network, alias or "
	    "interface", emit_oneline(&im->e, v));
	return -1;
}

static const char *
side_text(struct imp *im, const struct mside *ms)
{
	return ms->neg ? arena_printf(im->e.a, "!%s", ms->text) : ms->text;
}

/* Restrict a rule's sides to family want (FAM_V4 or FAM_V6): -1 with why
 * when the rule then matches nothing, 1 with why when the sides cannot
 * say the family (both hold both). */
static int
restrict_family(struct imp *im, struct mside *src, struct mside *dst,
    int want, const char **why)
{
	const char *all = want == FAM_V4 ? "0.0.0.0/0" : "::/0";
	const char *other = want == FAM_V4 ? "::/0" : "0.0.0.0/0";
	int es = src->neg ? FAM_BOTH : src->fams;
	int ed = dst->neg ? FAM_BOTH : dst->fams;

	if ((!src->neg && (src->fams & want) == 0) ||
	    (!dst->neg && (dst->fams & want) == 0)) {
		*why = arena_printf(im->e.a, "it is an %s rule whose addresses "
		    "hold none of that family: it matches nothing",
		    want == FAM_V4 ? "IPv4" : "IPv6");
		return -1;
	}
	if ((es & ~want) == 0 || (ed & ~want) == 0)
		return 0;
	if (src->any) {
		src->text = all;
		src->fams = want;
		src->any = false;
	} else if (dst->any) {
		dst->text = all;
		dst->fams = want;
		dst->any = false;
	} else if (!src->neg && src->alt[want] != NULL) {
		src->text = src->alt[want];
		src->fams = want;
	} else if (!dst->neg && dst->alt[want] != NULL) {
		dst->text = dst->alt[want];
		dst->fams = want;
	} else if (src->neg) {
		src->text = arena_printf(im->e.a, "{ %s, %s }", src->text, other);
	} else if (dst->neg) {
		dst->text = arena_printf(im->e.a, "{ %s, %s }", dst->text, other);
	} else {
		*why = arena_printf(im->e.a, "it is %s only, and both its sides "
		    "hold both families", want == FAM_V4 ? "IPv4" : "IPv6");
		return 1;
	}
	return 0;
}

/* --- filter rules -------------------------------------------------------- */

/* The rule's elements that change nothing moat enforces, or that the
 * translation reads. */
static const char *const rule_known[] = {
	"type", "action", "interface", "ipprotocol", "protocol", "source",
	"destination", "descr", "description", "disabled", "enabled", "log",
	"sched", "floating", "direction", "quick", "icmptype", "tracker",
	"id", "created", "updated", "associated-rule-id", "statetype",
	"source_net", "source_not", "source_port", "destination_net",
	"destination_not", "destination_port", "sequence", "interfacenot",
	"nosync", "nopfsync", "disablereplyto", "tcpflags_any", "uuid",
	"gateway",
	"state-policy", "categories", "os", "max", "max-src-nodes",
	"max-src-conn", "max-src-states", "statetimeout", "max-src-conn-rate",
	"max-src-conn-rates", "tag", "tagged", "prio", "set-prio",
	"set-prio-low", "overload", "label",
};

/* What each element the rule has but moat lacks means. */
static const struct {
	const char	*name;
	const char	*why;
} rule_lost[] = {
	{ "dnpipe", "a limiter: moat has no traffic shaping" },
	{ "pdnpipe", "a limiter: moat has no traffic shaping" },
	{ "defaultqueue", "a shaper queue: moat has no traffic shaping" },
	{ "ackqueue", "a shaper queue: moat has no traffic shaping" },
	{ "tag", "a packet tag: moat has none" },
	{ "tagged", "a match on a packet tag: moat has none" },
	{ "max", "a state limit: moat has none" },
	{ "max-src-nodes", "a state limit: moat has none" },
	{ "max-src-conn", "a state limit: moat has none" },
	{ "max-src-states", "a state limit: moat has none" },
	{ "max-src-conn-rate", "a connection rate limit: moat has none" },
	{ "statetimeout", "a state timeout: moat keeps conntrack's" },
	{ "os", "an OS fingerprint match: moat has none" },
	{ "allowopts", "IP options allowed: moat's rules do not look at them" },
	{ "tcpflags1", "a match on TCP flags: moat decides connections" },
	{ "tcpflags2", "a match on TCP flags: moat decides connections" },
	{ "vlanprio", "a VLAN priority match: moat has none" },
	{ "vlanprioset", "a VLAN priority setting: moat has none" },
	{ "set-prio", "a queue priority: moat has no traffic shaping" },
	{ "overload", "an overload table: moat has none" },
};

/* Notes for what a rule holds that moat drops while keeping the rule;
 * true when what it drops is a match (the rule would match more). */
static bool
rule_extras(struct imp *im, const struct prule *r)
{
	const struct xml_node *c;
	bool matchlost = false;
	size_t i;

	for (c = r->node->child; c != NULL; c = c->next) {
		bool lost = false;

		for (i = 0; i < sizeof(rule_lost) / sizeof(rule_lost[0]); i++)
			if (strcmp(rule_lost[i].name, c->name) == 0 &&
			    *c->text != '\0' && strcmp(c->text, "0") != 0) {
				note(im, c, "not carried: %s", rule_lost[i].why);
				lost = true;
				if (strcmp(c->name, "tagged") == 0 ||
				    strcmp(c->name, "os") == 0 ||
				    strncmp(c->name, "tcpflags", 8) == 0)
					matchlost = true;
			}
		if (lost)
			continue;
		for (i = 0; i < sizeof(rule_known) / sizeof(rule_known[0]); i++)
			if (strcmp(rule_known[i], c->name) == 0)
				break;
		if (i == sizeof(rule_known) / sizeof(rule_known[0]) &&
		    ((*c->text != '\0' && strcmp(c->text, "0") != 0) ||
		    c->child != NULL))
			note(im, c, "not carried: an element moat does not "
			    "know (the rest of the rule is)");
	}
	if (strcmp(r->type, "pass") == 0 && xml_child(r->node, "statetype") &&
	    *txt(r->node, "statetype") != '\0' &&
	    strncmp(txt(r->node, "statetype"), "keep", 4) != 0)
		note(im, xml_child(r->node, "statetype"), "not carried: state "
		    "'%s': moat keeps state of every connection",
		    emit_oneline(&im->e, txt(r->node, "statetype")));
	return matchlost;
}

static void
read_side(const struct xml_node *n, struct pside *s)
{
	memset(s, 0, sizeof(*s));
	if (n == NULL)
		return;
	s->any = xml_text(n, "any");
	s->network = xml_text(n, "network");
	s->address = xml_text(n, "address");
	s->port = xml_text(n, "port");
	s->neg = xml_child(n, "not") != NULL;
}

/* What both formats of a rule name alike; its action and description
 * are under names of each format's own. */
static void
read_rule_fields(const struct xml_node *n, struct prule *r,
    const char *action, const char *descr)
{
	memset(r, 0, sizeof(*r));
	r->node = n;
	r->type = txt(n, action);
	if (*r->type == '\0')
		r->type = "pass";
	r->ifs = txt(n, "interface");
	r->direction = txt(n, "direction");
	r->ipproto = txt(n, "ipprotocol");
	r->proto = txt(n, "protocol");
	r->icmptype = xml_text(n, "icmptype");
	r->sched = txt(n, "sched");
	r->descr = txt(n, descr);
}

static void
read_legacy_rule(const struct xml_node *n, struct prule *r)
{
	read_rule_fields(n, r, "type", "descr");
	read_side(xml_child(n, "source"), &r->src);
	read_side(xml_child(n, "destination"), &r->dst);
	r->floating = xml_child(n, "floating") != NULL &&
	    strcmp(txt(n, "floating"), "no") != 0;
	r->quick = !r->floating || flag(n, "quick");
	r->disabled = xml_child(n, "disabled") != NULL &&
	    strcmp(txt(n, "disabled"), "0") != 0;
	r->log = xml_child(n, "log") != NULL && strcmp(txt(n, "log"), "0") != 0;
}

static void
mvc_side(const struct xml_node *n, const char *pre, struct pside *s)
{
	char k[40];
	const char *net;

	memset(s, 0, sizeof(*s));
	snprintf(k, sizeof(k), "%s_net", pre);
	net = txt(n, k);
	if (*net == '\0' || strcmp(net, "any") == 0)
		s->any = "";
	else
		s->address = net;
	snprintf(k, sizeof(k), "%s_not", pre);
	s->neg = flag(n, k);
	snprintf(k, sizeof(k), "%s_port", pre);
	s->port = xml_text(n, k);
}

static void
read_mvc_rule(const struct xml_node *n, struct prule *r)
{
	read_rule_fields(n, r, "action", "description");
	mvc_side(n, "source", &r->src);
	mvc_side(n, "destination", &r->dst);
	r->floating = strchr(r->ifs, ',') != NULL || *r->ifs == '\0' ||
	    flag(n, "interfacenot");
	r->quick = xml_child(n, "quick") != NULL ? flag(n, "quick") :
	    !r->floating;
	r->disabled = xml_child(n, "enabled") != NULL && !flag(n, "enabled");
	r->log = flag(n, "log");
}

/* One rule on interface f, written to out; -1 with why when moat cannot
 * say it. */
static int
emit_rule(struct imp *im, struct prule *r, const struct xif *f,
    struct strbuf *out, const char **why)
{
	struct mside src, dst;
	const char *svc = NULL, *action, *descr;
	struct xsched *sc = NULL;
	const char *gw = NULL, *gwname;
	int want, rc;

	if (strcmp(r->type, "pass") == 0)
		action = "accept";
	else if (strcmp(r->type, "block") == 0)
		action = "deny";
	else if (strcmp(r->type, "reject") == 0)
		action = "reject";
	else if (strcmp(r->type, "match") == 0) {
		*why = "a match rule decides no verdict (it sets queues or "
		    "tags): moat has no such rule";
		return -1;
	} else {
		*why = arena_printf(im->e.a, "action '%s' is not one moat has",
		    emit_oneline(&im->e, r->type));
		return -1;
	}
	if (side(im, &r->src, &src, why) == -1 ||
	    side(im, &r->dst, &dst, why) == -1)
		return -1;
	want = strcmp(r->ipproto, "inet6") == 0 ? FAM_V6 :
	    strcmp(r->ipproto, "inet46") == 0 ? FAM_BOTH : FAM_V4;
	if (*r->ipproto != '\0' && strcmp(r->ipproto, "inet") != 0 &&
	    strcmp(r->ipproto, "inet6") != 0 &&
	    strcmp(r->ipproto, "inet46") != 0) {
		*why = arena_printf(im->e.a, "IP protocol '%s' is not one moat "
		    "has", emit_oneline(&im->e, r->ipproto));
		return -1;
	}
	if (want != FAM_BOTH && (rc = restrict_family(im, &src, &dst, want,
	    why)) != 0) {
		/* A block rule may block both families (it blocks more); a
		 * pass rule may not pass both. */
		if (rc == -1 || strcmp(r->type, "pass") == 0)
			return -1;
		note(im, r->node, "carried for both families: %s", *why);
	}
	if (rule_service(im, r, want, &svc, why) == -1)
		return -1;
	if (*r->sched != '\0') {
		if ((sc = sched_by_name(im, r->sched)) == NULL) {
			*why = arena_printf(im->e.a, "schedule '%s' does not "
			    "exist", emit_oneline(&im->e, r->sched));
			return -1;
		}
		if (sc->moat == NULL) {
			*why = arena_printf(im->e.a, "its schedule '%s' is not "
			    "carried", emit_oneline(&im->e, r->sched));
			return -1;
		}
	}
	gwname = txt(r->node, "gateway");
	if (*gwname != '\0' && strcmp(r->type, "pass") == 0 &&
	    (gw = gw_moat(im, gwname)) == NULL && !r->gw_noted) {
		note(im, xml_child(r->node, "gateway"), "not carried: gateway "
		    "'%s' is not (the rule is, routed by the table)",
		    emit_oneline(&im->e, gwname));
		r->gw_noted = true;
	}
	descr = r->descr;
	strbuf_printf(out, "%s on %s from %s to %s", action, f->name,
	    side_text(im, &src), side_text(im, &dst));
	if (svc != NULL)
		strbuf_printf(out, " service %s", svc);
	if (sc != NULL)
		strbuf_printf(out, " schedule %s", sc->moat);
	if (gw != NULL)
		strbuf_printf(out, " gateway %s", gw);
	if (r->log)
		strbuf_puts(out, " log");
	if (*descr != '\0')
		strbuf_printf(out, " comment %s", emit_quote(&im->e, descr));
	if (r->disabled)
		strbuf_puts(out, " disabled");
	strbuf_putc(out, '\n');
	return 0;
}

/* A rule that cannot be carried, noted: a pass rule left out blocks
 * more, a block rule left out lets through more; the note says which. */
static void
rule_lost_note(struct imp *im, struct prule *r, const char *why)
{
	const char *effect = strcmp(r->type, "pass") == 0 ? "what it passed "
	    "now falls to the rules below it" : "WARNING: what it blocked now "
	    "falls to the rules below it";

	if (r->noted)
		return;
	r->noted = r->floating;
	if (r->disabled)
		note(im, r->node, "not carried (it was disabled): %s", why);
	else
		note(im, r->node, "not carried: %s; %s", why, effect);
}

/* The separators of one interface (sep: its element, looked up once:
 * the filter holds every rule besides): "before rule N" -> text. */
static void
separators(struct imp *im, const struct xml_node *sep, size_t pos,
    struct strbuf *out)
{
	const struct xml_node *s;
	char want[32];

	snprintf(want, sizeof(want), "fr%zu", pos);
	for (s = sep != NULL ? sep->child : NULL; s != NULL; s = s->next)
		if (strcmp(txt(s, "row"), want) == 0)
			strbuf_printf(out, "# --- %s ---\n",
			    emit_oneline(&im->e, txt(s, "text")));
}

static bool
on_iface(const struct prule *r, const struct xif *f)
{
	const char *p = r->ifs;
	size_t n = strlen(f->key);

	if (*p == '\0' || strcmp(p, "any") == 0)
		return true;
	while (*p != '\0') {
		if (strncmp(p, f->key, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return true;
		p = strchr(p, ',');
		if (p == NULL)
			break;
		p++;
	}
	return false;
}

/* A floating rule's fit: -1 with why when it acts outbound only, and a
 * note when its outbound half is lost. */
static int
floating_fit(struct imp *im, const struct prule *r, const char **why)
{
	if (strcmp(r->direction, "out") == 0) {
		*why = "a floating rule on outbound traffic: moat's rules "
		    "decide a connection on the interface it arrives on";
		return -1;
	}
	if (strcmp(r->direction, "in") != 0 && !r->disabled)
		note(im, r->node, "partly carried: the floating rule acts in "
		    "both directions; only its inbound half (on arrival) is "
		    "carried%s", strcmp(r->type, "pass") == 0 ? "" : ", so "
		    "WARNING: what it blocked on the way out passes");
	if (strcmp(r->type, "match") == 0) {
		*why = "a match rule decides no verdict (it sets queues or "
		    "tags): moat has no such rule";
		return -1;
	}
	return 0;
}

/* OPNsense's MVC rules in their sequence, then in the file's order. */
static int
by_sequence(const void *a, const void *b)
{
	const struct prule *x = a, *y = b;
	long sx = atol(txt(x->node, "sequence")), sy = atol(txt(y->node,
	    "sequence"));

	if (sx != sy)
		return sx < sy ? -1 : 1;
	return x->node->line < y->node->line ? -1 :
	    x->node->line > y->node->line;
}

static void
read_filter(struct imp *im)
{
	const struct xml_node *filter = xml_child(im->root, "filter"), *n;
	const struct xml_node *mvc = xml_child(xml_child(xml_child(xml_child(
	    xml_child(im->root, "OPNsense"), "Firewall"), "Filter"), "rules"),
	    "rule");
	struct prule *rules = NULL;
	size_t nr = 0, cap = 0, i, k, nlegacy;
	const char *why;

	for (n = filter != NULL ? filter->child : NULL; n != NULL; n = n->next) {
		if (strcmp(n->name, "rule") == 0) {
			ARENA_PUSH(im->e.a, rules, nr, cap);
			read_legacy_rule(n, &rules[nr - 1]);
		} else if (strcmp(n->name, "separator") != 0 &&
		    (*n->text != '\0' || n->child != NULL))
			note(im, n, "not carried: an element moat does not "
			    "know");
	}
	nlegacy = nr;
	/* OPNsense's MVC rules, by their sequence. */
	for (n = mvc; n != NULL; n = n->next) {
		if (strcmp(n->name, "rule") != 0)
			continue;
		ARENA_PUSH(im->e.a, rules, nr, cap);
		read_mvc_rule(n, &rules[nr - 1]);
	}
	if (nr > nlegacy)
		qsort(rules + nlegacy, nr - nlegacy, sizeof(*rules), by_sequence);
	if (nlegacy > 0 && nr > nlegacy)
		note(im, mvc->parent, "carried after the legacy rules of each "
		    "interface (OPNsense orders the two kinds by priority; "
		    "check the order)");
	/* Rules naming no carried interface. */
	for (i = 0; i < nr; i++) {
		bool any = false;

		for (k = 0; k < im->nif; k++)
			if (im->ifs[k].enabled && (rules[i].floating ?
			    on_iface(&rules[i], &im->ifs[k]) :
			    strcmp(rules[i].ifs, im->ifs[k].key) == 0))
				any = true;
		if (!any) {
			note(im, rules[i].node, "not carried: it is on no "
			    "interface carried ('%s')",
			    emit_oneline(&im->e, rules[i].ifs));
			rules[i].type = "";
		}
	}
	/* Floating rules that cannot be carried, once each. */
	for (i = 0; i < nr; i++)
		if (rules[i].floating && floating_fit(im, &rules[i],
		    &why) == -1) {
			rule_lost_note(im, &rules[i], why);
			rules[i].type = "";	/* skipped below */
		}
	im->rules = rules;
	im->nr = nr;
	for (i = 0; i < nr; i++)
		if (*rules[i].type != '\0' && rule_extras(im, &rules[i]))
			note(im, rules[i].node, "%scarried without a match it "
			    "has, so it %s more", strcmp(rules[i].type,
			    "pass") == 0 ? "WARNING: " : "", strcmp(
			    rules[i].type, "pass") == 0 ? "passes" : "blocks");
	for (k = 0; k < im->nif; k++) {
		struct xif *f = &im->ifs[k];
		struct strbuf *o = &im->s_rule;
		size_t pos = 0, nfl = 0;
		const struct xml_node *sep = xml_child(xml_child(filter,
		    "separator"), f->key);

		if (!f->enabled)
			continue;
		strbuf_printf(o, "\n# %s (%s)\n", f->name, f->key);
		if (xml_child(f->node, "blockpriv") != NULL &&
		    strcmp(txt(f->node, "blockpriv"), "0") != 0)
			strbuf_printf(o, "deny on %s from { %s } to ANY comment "
			    "\"Block private networks (blockpriv)\"\n", f->name,
			    im->kind == IMPORT_PFSENSE ? "10.0.0.0/8, "
			    "127.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, "
			    "fc00::/7" : "10.0.0.0/8, 172.16.0.0/12, "
			    "192.168.0.0/16, 127.0.0.0/8, 100.64.0.0/10, "
			    "169.254.0.0/16, fd00::/8, fe80::/10, ::1");
		/* Quick floating rules come first. */
		for (i = 0; i < nr; i++) {
			struct prule *r = &rules[i];

			if (!r->floating || !r->quick || *r->type == '\0' ||
			    !on_iface(r, f))
				continue;
			if (nfl++ == 0)
				strbuf_puts(o, "# floating rules (quick)\n");
			if (emit_rule(im, r, f, o, &why) == -1)
				rule_lost_note(im, r, why);
		}
		if (nfl > 0)
			strbuf_printf(o, "# %s's own rules\n", f->key);
		for (i = 0; i < nr; i++) {
			struct prule *r = &rules[i];

			if (r->floating || *r->type == '\0' ||
			    strcmp(r->ifs, f->key) != 0)
				continue;
			if (i < nlegacy)
				separators(im, sep, pos++, o);
			if (emit_rule(im, r, f, o, &why) == -1)
				rule_lost_note(im, r, why);
		}
		separators(im, sep, pos, o);
		/* Non-quick floating rules: the last that matches decides
		 * when no quick rule did, so they follow, last first. */
		nfl = 0;
		for (i = nr; i-- > 0;) {
			struct prule *r = &rules[i];

			if (!r->floating || r->quick || *r->type == '\0' ||
			    !on_iface(r, f))
				continue;
			if (nfl++ == 0)
				strbuf_puts(o, "# floating rules (not quick: "
				    "the last in the source first)\n");
			if (emit_rule(im, r, f, o, &why) == -1)
				rule_lost_note(im, r, why);
		}
	}
}

/* --- NAT ------------------------------------------------------------------ */

/* The service of a NAT rule's protocol and destination port. */
static int
nat_service(struct imp *im, const struct xml_node *n, const char *port,
    const char **svc, const char **why)
{
	struct prule r;

	memset(&r, 0, sizeof(r));
	r.node = n;
	r.proto = txt(n, "protocol");
	r.ipproto = "inet";
	read_side(xml_child(n, "destination"), &r.dst);
	r.dst.port = port;
	return rule_service(im, &r, FAM_V4, svc, why);
}

static void
read_forwards(struct imp *im)
{
	const struct xml_node *nat = xml_child(im->root, "nat"), *n;
	const struct xml_node *sys = xml_child(im->root, "system");
	/* pfSense reflects a port forward only when asked: the system's
	 * mode (System > Advanced: purenat or proxy) or the rule's own;
	 * disablenatreflection (before 2.1) turns it off whatever else. */
	const char *mode = txt(sys, "natreflection");
	bool global_on = (strcmp(mode, "purenat") == 0 ||
	    strcmp(mode, "proxy") == 0) && (xml_child(sys,
	    "disablenatreflection") == NULL || strcmp(txt(sys,
	    "disablenatreflection"), "") == 0);

	for (n = nat != NULL ? nat->child : NULL; n != NULL; n = n->next) {
		struct pside ps;
		struct xif *f;
		const char *why = NULL, *svc = NULL, *target, *lport, *dport;
		const char *refl, *assoc, *t = NULL;
		bool on;
		int fam;

		if (strcmp(n->name, "rule") != 0)
			continue;
		f = iface_by_key(im, txt(n, "interface"));
		read_side(xml_child(n, "destination"), &ps);
		dport = ps.port != NULL ? ps.port : "";
		lport = txt(n, "local-port");
		target = txt(n, "target");
		if (f == NULL || !f->enabled)
			why = arena_printf(im->e.a, "it is on no interface carried "
			    "('%s')", emit_oneline(&im->e, txt(n, "interface")));
		else if (xml_child(n, "nordr") != NULL)
			why = "a 'no redirect' exception: moat's forwards have "
			    "none";
		else if (ps.neg || (ps.network == NULL ||
		    strcmp(ps.network, arena_printf(im->e.a, "%sip",
		    f->key)) != 0))
			why = "its destination is not the interface's own "
			    "address: moat forwards what arrives for IFIP";
		else if (read_side(xml_child(n, "source"), &ps), ps.any == NULL &&
		    ((ps.network != NULL && *ps.network != '\0' &&
		    strcmp(ps.network, "any") != 0) || (ps.address != NULL &&
		    *ps.address != '\0') || ps.neg))
			why = "it forwards only from some sources: moat's "
			    "forwards take every source (a rule can deny the "
			    "others)";
		else if (ps.port != NULL && *ps.port != '\0')
			why = "it matches a source port";
		else if (*lport != '\0' && strcmp(lport, dport) != 0 &&
		    !(strchr(dport, '-') != NULL && strncmp(lport, dport,
		    strlen(lport)) == 0 && dport[strlen(lport)] == '-'))
			why = arena_printf(im->e.a, "it changes the port (%s to "
			    "%s): moat's forwards keep it", emit_oneline(&im->e, dport),
			    emit_oneline(&im->e, lport));
		else if (*dport == '\0')
			why = "it has no port: moat forwards services";
		else if (nat_service(im, n, dport, &svc, &why) == -1)
			;
		else if ((t = emit_literal(&im->e, target, &fam)) == NULL) {
			struct xalias *al = resolve_alias(im, target);

			if (al == NULL || al->state != AL_OK ||
			    al->ports != NULL || strchr(al->content, ' ') ||
			    emit_literal(&im->e, al->content, &fam) == NULL)
				why = arena_printf(im->e.a, "target '%s' is not "
				    "one host", emit_oneline(&im->e, target));
			else
				t = al->moat;
		}
		if (why == NULL && t != NULL && strchr(t, '/') != NULL)
			why = "its target is a network, not one host";
		if (why != NULL) {
			note(im, n, "not carried: %s", why);
			continue;
		}
		if (*txt(n, "descr") != '\0')
			strbuf_printf(&im->s_fwd, "# %s\n",
			    emit_oneline(&im->e, txt(n, "descr")));
		refl = txt(n, "natreflection");
		strbuf_printf(&im->s_fwd, "%sforward on %s service %s to %s",
		    xml_child(n, "disabled") != NULL ? "# (disabled) " : "",
		    f->name, svc, t);
		on = strcmp(refl, "enable") == 0 || strcmp(refl, "purenat") ==
		    0 || (strcmp(refl, "disable") != 0 && global_on);
		if (!on)
			strbuf_puts(&im->s_fwd, " reflection off");
		else if (strcmp(refl, "enable") == 0 || (strcmp(refl,
		    "purenat") != 0 && strcmp(mode, "proxy") == 0))
			note(im, strcmp(refl, "enable") == 0 ? xml_child(n,
			    "natreflection") : xml_child(sys, "natreflection"),
			    "carried as moat's reflection (pure NAT), not NAT + "
			    "proxy");
		strbuf_putc(&im->s_fwd, '\n');
		if (xml_child(n, "disabled") != NULL)
			note(im, n, "not carried: the port forward is disabled "
			    "(moat's forwards cannot be; it is written as a "
			    "comment)");
		assoc = txt(n, "associated-rule-id");
		if (*assoc == '\0' && xml_child(n, "disabled") == NULL)
			note(im, n, "carried with a difference: it has no "
			    "filter rule, so the source passes it only if a "
			    "rule does; moat's forward accepts what no rule "
			    "decides");
		else if (strcmp(assoc, "pass") == 0 &&
		    xml_child(n, "disabled") == NULL)
			note(im, n, "carried with a difference: the source "
			    "passes it without the rules (rdr pass); moat's "
			    "rules still decide it first, so a rule that "
			    "blocks some of its sources blocks them");
	}
}

static void
masquerade_all(struct imp *im)
{
	size_t i;

	for (i = 0; i < im->nif; i++)
		if (im->ifs[i].enabled && im->ifs[i].wanlike)
			strbuf_printf(&im->s_nat, "nat masquerade on %s\n",
			    im->ifs[i].name);
}

/* One outbound NAT rule (legacy or OPNsense's MVC) as a nat source line,
 * or a note. */
static void
nat_source(struct imp *im, const struct xml_node *n, const char *ifkey,
    const struct pside *ps, const struct pside *pd, const char *dport,
    const char *sport, bool nonat, const char *target, const char *descr)
{
	struct mside ms, md;
	struct xif *f = iface_by_key(im, ifkey);
	const char *why = NULL, *svc = NULL, *tr = NULL;
	int fam;

	if (f == NULL || !f->enabled)
		why = arena_printf(im->e.a, "it is on no interface carried "
		    "('%s')", emit_oneline(&im->e, ifkey));
	else if (*sport != '\0' && strcmp(sport, "any") != 0)
		why = "it matches a source port";
	else if (side(im, ps, &ms, &why) == -1 ||
	    side(im, pd, &md, &why) == -1)
		;
	else if (*txt(n, "protocol") != '\0' &&
	    strcmp(txt(n, "protocol"), "any") != 0 &&
	    nat_service(im, n, dport, &svc, &why) == -1)
		;
	else if (*dport != '\0' && strcmp(dport, "any") != 0 && svc == NULL)
		why = "a port without a protocol";
	else if (nonat)
		tr = "none";
	else if (*target == '\0' || strcmp(target, arena_printf(im->e.a,
	    "%sip", f->key)) == 0)
		tr = "masquerade";
	else if ((tr = emit_literal(&im->e, target, &fam)) == NULL ||
	    strchr(tr, '/') != NULL || strchr(tr, '-') != NULL)
		why = arena_printf(im->e.a, "target '%s' is not one address "
		    "(moat's nat source has no pool)",
		    emit_oneline(&im->e, target));
	if (why != NULL) {
		note(im, n, "not carried: %s", why);
		return;
	}
	if (*descr != '\0')
		strbuf_printf(&im->s_nat, "# %s\n", emit_oneline(&im->e, descr));
	strbuf_printf(&im->s_nat, "nat source on %s from %s", f->name,
	    side_text(im, &ms));
	if (!md.any || md.neg)
		strbuf_printf(&im->s_nat, " to %s", side_text(im, &md));
	if (svc != NULL)
		strbuf_printf(&im->s_nat, " service %s", svc);
	strbuf_printf(&im->s_nat, " translate %s\n", tr);
	if (*txt(n, "poolopts") != '\0')
		note(im, xml_child(n, "poolopts"), "not carried: pool options");
}

/* The rules of OPNsense's MVC list Firewall/Filter/WHAT, in sequence
 * order (the file's where equal); *nv of them. */
static const struct xml_node **
mvc_rules(struct imp *im, const char *what, size_t *nv)
{
	const struct xml_node *n = xml_child(xml_child(xml_child(xml_child(
	    im->root, "OPNsense"), "Firewall"), "Filter"), what);
	const struct xml_node **v = NULL;
	size_t cap = 0, j;

	*nv = 0;
	for (n = n != NULL ? n->child : NULL; n != NULL; n = n->next)
		if (strcmp(n->name, "rule") == 0) {
			ARENA_PUSH(im->e.a, v, *nv, cap);
			for (j = *nv - 1; j > 0 && atol(txt(v[j - 1],
			    "sequence")) > atol(txt(n, "sequence")); j--)
				v[j] = v[j - 1];
			v[j] = n;
		}
	return v;
}

/* OPNsense's MVC source NAT rules, by their sequence, after the legacy
 * outbound rules. */
static void
mvc_snat(struct imp *im)
{
	const struct xml_node *n, **v;
	size_t nv, i;

	v = mvc_rules(im, "snatrules", &nv);
	for (i = 0; i < nv; i++) {
		struct pside ps, pd;

		n = v[i];
		if (xml_child(n, "enabled") != NULL && !flag(n, "enabled")) {
			note(im, n, "not carried: the rule is disabled");
			continue;
		}
		mvc_side(n, "source", &ps);
		mvc_side(n, "destination", &pd);
		nat_source(im, n, txt(n, "interface"), &ps, &pd,
		    txt(n, "destination_port"), txt(n, "source_port"),
		    flag(n, "nonat"), txt(n, "target"),
		    txt(n, "description"));
	}
}

static void
read_outbound(struct imp *im)
{
	const struct xml_node *ob = xml_child(xml_child(im->root, "nat"),
	    "outbound"), *n;
	const char *mode = txt(ob, "mode");

	if (ob == NULL || *mode == '\0' || strcmp(mode, "automatic") == 0) {
		strbuf_puts(&im->s_nat, "# outbound NAT: automatic\n");
		mvc_snat(im);
		masquerade_all(im);
		for (n = ob != NULL ? ob->child : NULL; n != NULL; n = n->next)
			if (strcmp(n->name, "rule") == 0)
				note(im, n, "not carried: a manual rule, unused "
				    "in automatic mode");
		return;
	}
	if (strcmp(mode, "disabled") == 0) {
		strbuf_puts(&im->s_nat, "# outbound NAT: disabled\n");
		mvc_snat(im);
		return;
	}
	if (strcmp(mode, "hybrid") != 0 && strcmp(mode, "advanced") != 0 &&
	    strcmp(mode, "manual") != 0) {
		note(im, xml_child(ob, "mode"), "not carried: mode '%s' is "
		    "unknown; no outbound NAT", emit_oneline(&im->e, mode));
		return;
	}
	strbuf_printf(&im->s_nat, "# outbound NAT: %s\n", mode);
	for (n = ob->child; n != NULL; n = n->next) {
		struct pside ps, pd;

		if (strcmp(n->name, "rule") != 0)
			continue;
		if (xml_child(n, "disabled") != NULL) {
			note(im, n, "not carried: the rule is disabled");
			continue;
		}
		read_side(xml_child(n, "source"), &ps);
		read_side(xml_child(n, "destination"), &pd);
		nat_source(im, n, txt(n, "interface"), &ps, &pd,
		    txt(n, "dstport"), txt(n, "sourceport"),
		    xml_child(n, "nonat") != NULL, txt(n, "target"),
		    txt(n, "descr"));
	}
	mvc_snat(im);
	if (strcmp(mode, "hybrid") == 0)
		masquerade_all(im);
}

/* One 1:1 mapping of interface key: internal side ps (its address or
 * network), destination pd (any, or not carried), external ext (an
 * address, or a network of the internal one's length), reflection refl
 * (enable, disable, else the system's); or the note why not. */
static void
one_to_one(struct imp *im, const struct xml_node *n, const char *key,
    const struct pside *ps, const struct pside *pd, const char *ext,
    const char *refl, const char *descr)
{
	struct xif *f = iface_by_key(im, key);
	const char *why = NULL, *in, *e, *s, *len;
	int fam, fam2;

	in = ps->address != NULL ? ps->address : ps->network != NULL ?
	    ps->network : "";
	/* OPNsense writes the external side as a network too */
	if ((len = strchr(ext, '/')) != NULL)
		ext = arena_strndup(im->e.a, ext, (size_t)(len - ext));
	if (f == NULL || !f->enabled)
		why = arena_printf(im->e.a, "it is on no interface carried "
		    "('%s')", emit_oneline(&im->e, key));
	else if (ps->neg)
		why = "its internal side is inverted";
	else if ((s = emit_literal(&im->e, in, &fam)) == NULL)
		why = arena_printf(im->e.a, "internal '%s' is not an "
		    "address or network", emit_oneline(&im->e, in));
	else if ((e = emit_literal(&im->e, strchr(s, '/') != NULL ?
	    arena_printf(im->e.a, "%s%s", ext, strchr(s, '/')) : ext,
	    &fam2)) == NULL || fam2 != fam)
		why = arena_printf(im->e.a, "external '%s' is not an "
		    "address of the internal one's family",
		    emit_oneline(&im->e, ext));
	else if (len != NULL && strcmp(len, strchr(s, '/') != NULL ?
	    strchr(s, '/') : fam == FAM_V6 ? "/128" : "/32") != 0)
		why = arena_printf(im->e.a, "external '%s%s' is not of the "
		    "internal one's length", emit_oneline(&im->e, ext),
		    emit_oneline(&im->e, len));
	else if (pd->any == NULL && ((pd->address != NULL &&
	    *pd->address != '\0') || (pd->network != NULL &&
	    *pd->network != '\0')))
		why = "it maps only for some destinations";
	else {
		if (*descr != '\0')
			strbuf_printf(&im->s_nat, "# %s\n",
			    emit_oneline(&im->e, descr));
		/* reflected only when asked: the rule's natreflection,
		 * else the system's enablebinatreflection */
		strbuf_printf(&im->s_nat, "nat one-to-one on %s %s to %s%s\n",
		    f->name, e, s, strcmp(refl, "enable") == 0 ||
		    (strcmp(refl, "disable") != 0 && xml_child(xml_child(
		    im->root, "system"), "enablebinatreflection") != NULL) ?
		    "" : " reflection off");
		return;
	}
	note(im, n, "not carried: %s", why);
}

static void
read_onetoone(struct imp *im)
{
	const struct xml_node *n;

	for (n = xml_child(xml_child(im->root, "nat"), "onetoone"); n != NULL;
	    n = n->next) {
		struct pside ps, pd;

		if (strcmp(n->name, "onetoone") != 0)
			continue;
		if (xml_child(n, "disabled") != NULL) {
			note(im, n, "not carried: the rule is disabled");
			continue;
		}
		read_side(xml_child(n, "source"), &ps);
		read_side(xml_child(n, "destination"), &pd);
		one_to_one(im, n, txt(n, "interface"), &ps, &pd,
		    txt(n, "external"), txt(n, "natreflection"),
		    txt(n, "descr"));
	}
}

/* OPNsense's MVC 1:1 rules (Filter/onetoone), by their sequence, after
 * the legacy ones. */
static void
mvc_onetoone(struct imp *im)
{
	const struct xml_node *n, **v;
	size_t nv, i;

	v = mvc_rules(im, "onetoone", &nv);
	for (i = 0; i < nv; i++) {
		struct pside ps, pd;

		n = v[i];
		if (xml_child(n, "enabled") != NULL && !flag(n, "enabled")) {
			note(im, n, "not carried: the rule is disabled");
			continue;
		}
		if (*txt(n, "type") != '\0' && strcmp(txt(n, "type"), "binat")
		    != 0) {
			note(im, xml_child(n, "type"), "not carried: a 1:1 of "
			    "type '%s' translates one way; moat's translates "
			    "both (BINAT)", emit_oneline(&im->e, txt(n,
			    "type")));
			continue;
		}
		mvc_side(n, "source", &ps);
		mvc_side(n, "destination", &pd);
		one_to_one(im, n, txt(n, "interface"), &ps, &pd,
		    txt(n, "external"), txt(n, "natreflection"),
		    txt(n, "description"));
	}
}

/* --- the rest --------------------------------------------------------- */

static const struct {
	const char	*name;
	const char	*why;
} sections[] = {
	{ "version", NULL }, { "lastchange", NULL }, { "revision", NULL },
	{ "interfaces", NULL }, { "filter", NULL }, { "nat", NULL },
	{ "aliases", NULL }, { "schedules", NULL }, { "theme", NULL },
	{ "widgets", NULL }, { "trigger_initial_wizard", NULL },
	{ "system", "the box's own settings (users, DNS, time, web GUI): "
	  "set up Debian and moat's console instead" },
	{ "dhcpd", "the DHCP server: moat runs none (isc-dhcp-server, "
	  "dnsmasq or kea do)" },
	{ "dhcpdv6", "the DHCPv6 server and router advertisements: moat runs "
	  "none" },
	{ "dnsmasq", "the DNS forwarder: moat runs none" },
	{ "unbound", "the DNS resolver: moat runs none (Debian's unbound "
	  "does)" },
	{ "snmpd", "the SNMP daemon: moat runs none" },
	{ "syslog", "remote logging: moat logs to files (see LOGGING)" },
	{ "rrd", "graphs: moat exports metrics instead" },
	{ "cron", "the box's scheduled jobs" },
	{ "diag", "diagnostics settings" },
	{ "ntpd", "the time server: moat runs none" },
	{ "shaper", "traffic shaping: moat has none" },
	{ "dnshaper", "limiters: moat has no traffic shaping" },
	{ "ipsec", "an IPsec VPN: moat runs no VPN" },
	{ "openvpn", "an OpenVPN VPN: moat runs no VPN" },
	{ "wireguard", "a WireGuard VPN: moat runs no VPN" },
	{ "l2tp", "an L2TP server: moat runs none" },
	{ "pppoes", "a PPPoE server: moat runs none" },
	{ "captiveportal", "a captive portal: moat has none" },
	{ "installedpackages", "packages: moat runs none of them" },
	{ "gateways", NULL },
	{ "staticroutes", "static routes: the system's to set" },
	{ "virtualip", NULL },
	{ "proxyarp", "proxy ARP: moat does none" },
	{ "vlans", "VLAN devices: the system creates them (moat names the "
	  "device, e.g. eth0.10)" },
	{ "qinqs", "QinQ devices: the system creates them" },
	{ "bridges", "bridges: the system creates them" },
	{ "laggs", "link aggregation: the system creates it (a bond)" },
	{ "ppps", "PPP links: the system's pppd brings them up" },
	{ "gifs", "GIF tunnels: the system creates them" },
	{ "gres", "GRE tunnels: the system creates them" },
	{ "wol", "wake-on-LAN entries" },
	{ "load_balancer", "the load balancer: moat has none" },
	{ "cert", "certificates: moat's console has its own" },
	{ "ca", "certificate authorities" },
	{ "crl", "certificate revocation lists" },
	{ "sysctl", "kernel tunables of FreeBSD" },
	{ "hasync", "the HA sync (XMLRPC, pfsync): see moat's ha block" },
	{ "ifgroups", "interface groups: moat has none (repeat the rules on "
	  "each interface)" },
	{ "wizardtemp", "the setup wizard's leftovers" },
	{ "notifications", "notifications" },
	{ "dyndnses", "dynamic DNS: moat runs none" },
};

/* Whether n or something under it holds text. */
static bool
has_text(const struct xml_node *n)
{
	const struct xml_node *c;

	if (*n->text != '\0')
		return true;
	for (c = n->child; c != NULL; c = c->next)
		if (has_text(c))
			return true;
	return false;
}

static void
read_rest(struct imp *im)
{
	const struct xml_node *n, *c;
	size_t i;

	for (n = im->root->child; n != NULL; n = n->next) {
		for (i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
			if (strcmp(sections[i].name, n->name) == 0)
				break;
		if (!has_text(n))
			continue;
		if (i < sizeof(sections) / sizeof(sections[0])) {
			if (sections[i].why == NULL)
				continue;
			if (strcmp(n->name, "installedpackages") == 0) {
				for (c = n->child; c != NULL; c = c->next)
					if (has_text(c))
						note(im, c, "not carried: a "
						    "package's settings: moat "
						    "runs no package");
				continue;
			}
			note(im, n, "not carried: %s", sections[i].why);
			continue;
		}
		if (strcmp(n->name, "OPNsense") == 0) {
			for (c = n->child; c != NULL; c = c->next) {
				if (strcmp(c->name, "Firewall") == 0) {
					const struct xml_node *d;

					for (d = c->child; d != NULL;
					    d = d->next)
						if (strcmp(d->name, "Alias") &&
						    strcmp(d->name, "Filter") &&
						    has_text(d))
							note(im, d, "not carried:"
							    " a part of the "
							    "firewall moat does "
							    "not take over");
					continue;
				}
				if (has_text(c))
					note(im, c, "not carried: a service or "
					    "plugin of OPNsense's that moat does "
					    "not run");
			}
			continue;
		}
		note(im, n, "not carried: a section moat does not know");
	}
	/* What of OPNsense's MVC firewall the import does not read. */
	n = xml_child(xml_child(xml_child(xml_child(im->root, "OPNsense"),
	    "Firewall"), "Filter"), "npt");
	if (n != NULL && has_text(n))
		note(im, n, "not carried: NPTv6: moat has none");
	for (n = xml_child(im->root, "nat"); n != NULL && n->child; n = NULL)
		for (c = n->child; c != NULL; c = c->next)
			if (strcmp(c->name, "rule") != 0 &&
			    strcmp(c->name, "outbound") != 0 &&
			    strcmp(c->name, "onetoone") != 0 && has_text(c))
				note(im, c, "not carried: %s",
				    strcmp(c->name, "npt") == 0 ? "NPTv6: moat "
				    "has none" : "an element moat does not know");
}

/* --- the source's own meaning, for the equivalence report ---------- */

static struct iset
fam_set(struct imp *im, int want)
{
	struct iset v4 = iset_range(im->e.a, V4_BASE, V4_LAST);

	if (want == FAM_V4)
		return v4;
	if (want == FAM_V6)
		return iset_complement(im->e.a, v4, 0, U128_MAX);
	return iset_range(im->e.a, 0, U128_MAX);
}

/* A literal as the addresses it holds. */
static int
lit_set(struct imp *im, const char *s, struct iset *out)
{
	struct addr_lit lit;
	char err[120], hint[120];

	hint[0] = '\0';
	if (addr_parse_lit(s, false, &lit, err, sizeof(err), hint,
	    sizeof(hint)) == -1 && (hint[0] == '\0' || addr_parse_lit(hint,
	    false, &lit, err, sizeof(err), NULL, 0) == -1))
		return -1;
	*out = addr_lit_set(im->e.a, &lit);
	return 0;
}

static int value_set(struct imp *im, const char *v, struct iset *out,
    const char **why, int depth);

/* An alias's addresses, its members resolved again by the source's
 * meaning (not through the objects written). */
static int
alias_set(struct imp *im, struct xalias *al, struct iset *out,
    const char **why, int depth)
{
	const char *p = al->content, *w;
	struct iset s;

	out->n = 0;
	out->v = NULL;
	if (depth > 32) {
		*why = "aliases nested too deep";
		return -1;
	}
	if (strcmp(al->type, "host") != 0 && strcmp(al->type, "network") != 0
	    && strcmp(al->type, "networkgroup") != 0) {
		*why = arena_printf(im->e.a, "alias '%s' holds what the config "
		    "does not (%s)", al->name, emit_oneline(&im->e, al->type));
		return -1;
	}
	while ((w = emit_word(&im->e, &p)) != NULL) {
		if (value_set(im, w, &s, why, depth + 1) == -1)
			return -1;
		*out = iset_union(im->e.a, *out, s);
	}
	return 0;
}

/* An address, network, range, alias or interface macro as addresses. */
static int
value_set(struct imp *im, const char *v, struct iset *out, const char **why,
    int depth)
{
	struct xalias *al;
	struct xif *f;
	size_t len = strlen(v), i, j;
	bool ip = false;

	if (lit_set(im, v, out) == 0)
		return 0;
	if (strcmp(v, "(self)") == 0 || strcmp(v, "self") == 0) {
		out->n = 0;
		out->v = NULL;
		for (i = 0; i < im->nif; i++) {
			struct iset s;

			if (!im->ifs[i].enabled)
				continue;
			if (im->ifs[i].dynamic) {
				*why = "(self) holds dynamic addresses";
				return -1;
			}
			if (im->ifs[i].ip[FAM_V4] != NULL &&
			    lit_set(im, im->ifs[i].ip[FAM_V4], &s) == 0)
				*out = iset_union(im->e.a, *out, s);
			if (im->ifs[i].ip[FAM_V6] != NULL &&
			    lit_set(im, im->ifs[i].ip[FAM_V6], &s) == 0)
				*out = iset_union(im->e.a, *out, s);
			for (j = 0; j < im->ifs[i].nvip; j++)
				if (lit_set(im, im->ifs[i].vip[j], &s) == 0)
					*out = iset_union(im->e.a, *out, s);
		}
		return 0;
	}
	if ((f = iface_by_key(im, v)) == NULL && len > 2 &&
	    strcmp(v + len - 2, "ip") == 0) {
		f = iface_by_key(im, arena_strndup(im->e.a, v, len - 2));
		ip = true;
	}
	if (f != NULL) {
		struct iset s;
		int fam;

		out->n = 0;
		out->v = NULL;
		if (!f->enabled || f->dynamic) {
			*why = arena_printf(im->e.a, "'%s' is dynamic or not "
			    "carried", v);
			return -1;
		}
		for (fam = FAM_V4; fam <= FAM_V6; fam++) {
			const char *x = ip ? f->ip[fam] : f->net[fam];

			if (x != NULL && lit_set(im, x, &s) == 0)
				*out = iset_union(im->e.a, *out, s);
		}
		for (i = 0; !ip && i < f->nvip; i++)
			if (lit_set(im, f->vipnet[i], &s) == 0)
				*out = iset_union(im->e.a, *out, s);
		return 0;
	}
	if ((al = alias_by_name(im, v)) != NULL)
		return alias_set(im, al, out, why, depth);
	*why = arena_printf(im->e.a, "'%s' is unknown", emit_oneline(&im->e,
	    v));
	return -1;
}

/* One side of a rule: its addresses in family want, negation applied.
 * 1 when it is empty because pf leaves such a rule out. */
static int
side_set(struct imp *im, const struct pside *ps, int want, struct iset *out,
    const char **why)
{
	const char *v = ps->network != NULL && *ps->network != '\0' ?
	    ps->network : ps->address != NULL && *ps->address != '\0' ?
	    ps->address : NULL;
	struct iset s;

	if (ps->any != NULL || v == NULL || strcmp(v, "any") == 0) {
		*out = fam_set(im, want);
		return 0;
	}
	if (value_set(im, v, &s, why, 0) == -1)
		return -1;
	if (ps->neg)
		s = iset_complement(im->e.a, s, 0, U128_MAX);
	*out = iset_inter(im->e.a, s, fam_set(im, want));
	return 0;
}

static const struct {
	const char	*pf;
	int		 v4, v6;
} icmp_nums[] = {
	{ "echoreq", 8, 128 }, { "echorep", 0, 129 }, { "unreach", 3, 1 },
	{ "squench", 4, -1 }, { "redir", 5, 137 }, { "althost", 6, -1 },
	{ "routeradv", 9, 134 }, { "routersol", 10, 133 },
	{ "timex", 11, 3 }, { "paramprob", 12, 4 }, { "timereq", 13, -1 },
	{ "timerep", 14, -1 }, { "inforeq", 15, -1 }, { "inforep", 16, -1 },
	{ "maskreq", 17, -1 }, { "maskrep", 18, -1 }, { "trace", 30, -1 },
	{ "toobig", -1, 2 }, { "neighbrsol", -1, 135 },
	{ "neighbradv", -1, 136 },
};

static void
add_keys(struct imp *im, struct iset *s, int proto, unsigned lo,
    unsigned hi)
{
	*s = iset_union(im->e.a, *s, iset_range(im->e.a,
	    (u128)proto << 16 | lo, (u128)proto << 16 | hi));
}

/* A rule's services as keys (protocol << 16 | port or type). */
static int
svc_set(struct imp *im, const struct prule *r, int want, bool *any,
    struct iset *out, const char **why)
{
	const char *pr = r->proto, *items = NULL, *label, *p, *w;
	int protos[2], np = 0, i;

	*any = false;
	out->n = 0;
	out->v = NULL;
	if (r->src.port != NULL && *r->src.port != '\0' &&
	    strcmp(r->src.port, "any") != 0) {
		*why = "a source port (the flows compared have none)";
		return -1;
	}
	if (*pr == '\0' || strcmp(pr, "any") == 0) {
		*any = true;
		return 0;
	}
	if (strcmp(pr, "tcp") == 0 || strcmp(pr, "tcp/udp") == 0)
		protos[np++] = 6;
	if (strcmp(pr, "udp") == 0 || strcmp(pr, "tcp/udp") == 0)
		protos[np++] = 17;
	if (strcmp(pr, "sctp") == 0)
		protos[np++] = 132;
	if (np > 0) {
		if (r->dst.port != NULL && *r->dst.port != '\0' &&
		    strcmp(r->dst.port, "any") != 0 &&
		    (items = ports_of(im, r->dst.port, &label, why)) == NULL)
			return -1;
		for (i = 0; i < np; i++) {
			if (items == NULL) {
				add_keys(im, out, protos[i], 0, 65535);
				continue;
			}
			for (p = items; (w = emit_word(&im->e, &p)) != NULL;) {
				unsigned long lo, hi;
				char *e;

				lo = strtoul(w, &e, 10);
				hi = *e == '-' ? strtoul(e + 1, NULL, 10) : lo;
				add_keys(im, out, protos[i], (unsigned)lo,
				    (unsigned)hi);
			}
		}
		return 0;
	}
	if (strcmp(pr, "icmp") == 0 || strcmp(pr, "ipv6-icmp") == 0 ||
	    strcmp(pr, "icmp6") == 0) {
		bool v4 = strcmp(pr, "icmp") == 0 && want != FAM_V6;
		bool v6 = strcmp(pr, "icmp") != 0 || want != FAM_V4;

		p = r->icmptype != NULL ? r->icmptype : "";
		if ((w = emit_word(&im->e, &p)) == NULL || strcmp(w, "any") == 0) {
			if (v4)
				add_keys(im, out, 1, 0, 255);
			if (v6)
				add_keys(im, out, 58, 0, 255);
			return 0;
		}
		p = r->icmptype;
		while ((w = emit_word(&im->e, &p)) != NULL) {
			size_t k;

			for (k = 0; k < sizeof(icmp_nums) / sizeof(icmp_nums[0]);
			    k++)
				if (strcmp(icmp_nums[k].pf, w) == 0)
					break;
			if (k == sizeof(icmp_nums) / sizeof(icmp_nums[0])) {
				*why = "an ICMP type the comparison does not "
				    "know";
				return -1;
			}
			if (v4 && icmp_nums[k].v4 >= 0)
				add_keys(im, out, 1, (unsigned)icmp_nums[k].v4,
				    (unsigned)icmp_nums[k].v4);
			if (v6 && icmp_nums[k].v6 >= 0)
				add_keys(im, out, 58, (unsigned)icmp_nums[k].v6,
				    (unsigned)icmp_nums[k].v6);
		}
		return 0;
	}
	if (strcmp(pr, "gre") == 0 || strcmp(pr, "esp") == 0 ||
	    strcmp(pr, "ah") == 0) {
		add_keys(im, out, strcmp(pr, "gre") == 0 ? 47 :
		    strcmp(pr, "esp") == 0 ? 50 : 51, 0, 65535);
		return 0;
	}
	*why = arena_printf(im->e.a, "protocol '%s'", emit_oneline(&im->e,
	    pr));
	return -1;
}

static void
model_rule(struct imp *im, struct src_iface *mf, const struct prule *r)
{
	struct src_rule *sr;
	const char *why = NULL;
	const struct xml_node *c;
	int want;

	if (r->disabled || strcmp(r->type, "match") == 0 || mf->unproven)
		return;
	for (c = r->node->child; c != NULL; c = c->next)
		if ((strcmp(c->name, "tagged") == 0 || strcmp(c->name, "os") == 0
		    || strcmp(c->name, "tcpflags1") == 0 ||
		    strcmp(c->name, "tcpflags2") == 0) && *c->text != '\0') {
			mf->unproven = arena_printf(im->e.a, "%s matches %s",
			    xml_path(im->e.a, r->node), c->name);
			return;
		}
	if (*r->sched != '\0') {
		mf->unproven = arena_printf(im->e.a, "%s has a schedule",
		    xml_path(im->e.a, r->node));
		return;
	}
	want = strcmp(r->ipproto, "inet6") == 0 ? FAM_V6 :
	    strcmp(r->ipproto, "inet46") == 0 ? FAM_BOTH : FAM_V4;
	ARENA_PUSH(im->e.a, mf->rules, mf->n, mf->cap);
	sr = &mf->rules[mf->n - 1];
	memset(sr, 0, sizeof(*sr));
	sr->where = xml_path(im->e.a, r->node);
	sr->action = strcmp(r->type, "block") == 0 ? SRC_BLOCK :
	    strcmp(r->type, "reject") == 0 ? SRC_REJECT : SRC_PASS;
	sr->quick = r->quick;
	if (side_set(im, &r->src, want, &sr->src, &why) == -1 ||
	    side_set(im, &r->dst, want, &sr->dst, &why) == -1 ||
	    svc_set(im, r, want, &sr->any_svc, &sr->svc, &why) == -1) {
		mf->unproven = arena_printf(im->e.a, "%s: %s", sr->where, why);
		return;
	}
}

/* One 1:1 mapping of f as rdr rules, one per address of its inside
 * side (ps); why says what the comparison cannot model. */
static void
model_binat(struct imp *im, struct src_iface *mf, const struct xml_node *n,
    const struct pside *ps, const struct pside *pd, const char *ext)
{
	const char *in = ps->address != NULL ? ps->address : ps->network !=
	    NULL ? ps->network : "", *why = NULL, *len;
	struct iset is, es;
	u128 k, size;

	if ((len = strchr(ext, '/')) != NULL)
		ext = arena_strndup(im->e.a, ext, (size_t)(len - ext));
	if (ps->neg || (pd->any == NULL && ((pd->address != NULL &&
	    *pd->address != '\0') || (pd->network != NULL &&
	    *pd->network != '\0'))))
		why = "a 1:1 with an inverted inside or a destination";
	else if (value_set(im, in, &is, &why, 0) == -1 || is.n != 1 ||
	    lit_set(im, ext, &es) == -1 || es.n != 1)
		why = "a 1:1 whose sides are not one address or network";
	else if ((size = is.v[0].hi - is.v[0].lo + 1) > 256 || size == 0)
		why = "a 1:1 of more than 256 addresses";
	if (why != NULL) {
		if (mf->unproven == NULL)
			mf->unproven = arena_printf(im->e.a, "%s: %s",
			    xml_path(im->e.a, n), why);
		return;
	}
	for (k = 0; k < size; k++) {
		struct src_rdr *rd;

		ARENA_PUSH(im->e.a, mf->rdrs, mf->nrdr, mf->caprdr);
		rd = &mf->rdrs[mf->nrdr - 1];
		memset(rd, 0, sizeof(*rd));
		rd->where = xml_path(im->e.a, n);
		rd->src = fam_set(im, FAM_BOTH);
		rd->dst = iset_range(im->e.a, es.v[0].lo + k, es.v[0].lo + k);
		rd->svc = iset_range(im->e.a, 0, ((u128)256 << 16) - 1);
		rd->target = is.v[0].lo + k;
	}
}

/* The 1:1 mappings on f that pf makes, legacy and OPNsense's MVC. */
static void
model_binats(struct imp *im, const struct xif *f, struct src_iface *mf)
{
	const struct xml_node *n;
	struct pside ps, pd;

	for (n = xml_child(xml_child(im->root, "nat"), "onetoone"); n != NULL;
	    n = n->next)
		if (strcmp(n->name, "onetoone") == 0 && xml_child(n,
		    "disabled") == NULL && strcmp(txt(n, "interface"),
		    f->key) == 0) {
			read_side(xml_child(n, "source"), &ps);
			read_side(xml_child(n, "destination"), &pd);
			model_binat(im, mf, n, &ps, &pd, txt(n, "external"));
		}
	n = xml_child(xml_child(xml_child(xml_child(im->root, "OPNsense"),
	    "Firewall"), "Filter"), "onetoone");
	for (n = n != NULL ? n->child : NULL; n != NULL; n = n->next)
		if (strcmp(n->name, "rule") == 0 && (xml_child(n, "enabled") ==
		    NULL || flag(n, "enabled")) && strcmp(txt(n, "interface"),
		    f->key) == 0) {
			if (*txt(n, "type") != '\0' && strcmp(txt(n, "type"),
			    "binat") != 0) {
				if (mf->unproven == NULL)
					mf->unproven = arena_printf(im->e.a,
					    "%s: a one-way 1:1",
					    xml_path(im->e.a, n));
				continue;
			}
			mvc_side(n, "source", &ps);
			mvc_side(n, "destination", &pd);
			model_binat(im, mf, n, &ps, &pd, txt(n, "external"));
		}
}

static void
build_model(struct imp *im)
{
	struct src_model *m = &im->model;
	const struct xml_node *n;
	const char *global = NULL;
	size_t i, j, k;

	for (i = 0; i < im->nr; i++) {
		const struct prule *r = &im->rules[i];

		if (r->floating && !r->disabled && strcmp(r->direction, "in") !=
		    0 && global == NULL)
			global = arena_printf(im->e.a, "the floating rule %s "
			    "acts on traffic leaving an interface",
			    xml_path(im->e.a, r->node));
	}
	for (k = 0; k < im->nif; k++) {
		struct xif *f = &im->ifs[k];
		struct src_iface *mf;

		if (!f->enabled)
			continue;
		ARENA_PUSH(im->e.a, m->ifs, m->n, m->cap);
		mf = &m->ifs[m->n - 1];
		memset(mf, 0, sizeof(*mf));
		mf->name = f->name;
		if (f->dynamic)
			mf->unproven = "its addresses are dynamic: the config "
			    "does not say them";
		else if (global != NULL)
			mf->unproven = global;
		if (mf->unproven != NULL)
			continue;
		/* pf's own rules before the user's: the anti-lockout rule
		 * (as moat's: SSH, HTTP, HTTPS), the private networks. */
		if (strcmp(f->key, "lan") == 0 && !im->noantilockout) {
			struct src_rule *sr;
			const char *why;

			ARENA_PUSH(im->e.a, mf->rules, mf->n, mf->cap);
			sr = &mf->rules[mf->n - 1];
			memset(sr, 0, sizeof(*sr));
			sr->where = "the anti-lockout rule";
			sr->quick = true;
			sr->src = fam_set(im, FAM_BOTH);
			(void)value_set(im, "lanip", &sr->dst, &why, 0);
			/* to ($lanif): its IP aliases too */
			for (j = 0; j < f->nvip; j++) {
				struct iset a;

				if (lit_set(im, f->vip[j], &a) == 0)
					sr->dst = iset_union(im->e.a, sr->dst,
					    a);
			}
			add_keys(im, &sr->svc, 6, 22, 22);
			add_keys(im, &sr->svc, 6, 80, 80);
			add_keys(im, &sr->svc, 6, 443, 443);
		}
		if (xml_child(f->node, "blockpriv") != NULL &&
		    strcmp(txt(f->node, "blockpriv"), "0") != 0) {
			struct src_rule *sr;
			const char *p = im->kind == IMPORT_PFSENSE ?
			    "10.0.0.0/8 127.0.0.0/8 172.16.0.0/12 "
			    "192.168.0.0/16 fc00::/7" : "10.0.0.0/8 "
			    "172.16.0.0/12 192.168.0.0/16 127.0.0.0/8 "
			    "100.64.0.0/10 169.254.0.0/16 fd00::/8 fe80::/10 "
			    "::1", *w;

			ARENA_PUSH(im->e.a, mf->rules, mf->n, mf->cap);
			sr = &mf->rules[mf->n - 1];
			memset(sr, 0, sizeof(*sr));
			sr->where = "blockpriv";
			sr->action = SRC_BLOCK;
			sr->quick = true;
			sr->any_svc = true;
			sr->dst = fam_set(im, FAM_BOTH);
			while ((w = emit_word(&im->e, &p)) != NULL) {
				struct iset s;

				if (lit_set(im, w, &s) == 0)
					sr->src = iset_union(im->e.a, sr->src,
					    s);
			}
		}
		for (i = 0; i < im->nr; i++)
			if (im->rules[i].floating && on_iface(&im->rules[i], f))
				model_rule(im, mf, &im->rules[i]);
		for (i = 0; i < im->nr; i++)
			if (!im->rules[i].floating && strcmp(im->rules[i].ifs,
			    f->key) == 0)
				model_rule(im, mf, &im->rules[i]);
		/* The 1:1 mappings (pf's binat, before the port forwards):
		 * a connection to an external address goes to its inside
		 * one, whatever its port. */
		model_binats(im, f, mf);
		/* The port forwards, rdr before the rules. */
		for (n = xml_child(im->root, "nat") != NULL ?
		    xml_child(im->root, "nat")->child : NULL; n != NULL &&
		    mf->unproven == NULL; n = n->next) {
			struct pside ps, pd;
			struct src_rdr *rd;
			struct prule pr;
			const char *why = NULL, *lport;
			struct iset t;
			bool any;

			if (strcmp(n->name, "rule") != 0 ||
			    strcmp(txt(n, "interface"), f->key) != 0 ||
			    xml_child(n, "disabled") != NULL)
				continue;
			read_side(xml_child(n, "source"), &ps);
			read_side(xml_child(n, "destination"), &pd);
			memset(&pr, 0, sizeof(pr));
			pr.node = n;
			pr.proto = txt(n, "protocol");
			pr.ipproto = "inet";
			pr.src.port = ps.port;
			pr.dst.port = pd.port;
			ARENA_PUSH(im->e.a, mf->rdrs, mf->nrdr, mf->caprdr);
			rd = &mf->rdrs[mf->nrdr - 1];
			memset(rd, 0, sizeof(*rd));
			rd->where = xml_path(im->e.a, n);
			rd->nordr = xml_child(n, "nordr") != NULL;
			rd->pass = strcmp(txt(n, "associated-rule-id"),
			    "pass") == 0;
			ps.port = NULL;
			pd.port = NULL;
			if (side_set(im, &ps, FAM_V4, &rd->src, &why) == -1 ||
			    side_set(im, &pd, FAM_V4, &rd->dst, &why) == -1 ||
			    svc_set(im, &pr, FAM_V4, &any, &rd->svc, &why) == -1) {
				mf->unproven = arena_printf(im->e.a, "%s: %s",
				    rd->where, why);
				break;
			}
			if (any)
				rd->svc = iset_range(im->e.a, 0,
				    ((u128)256 << 16) - 1);
			if (rd->nordr)
				continue;
			if (value_set(im, txt(n, "target"), &t, &why, 0) == -1 ||
			    t.n != 1 || t.v[0].lo != t.v[0].hi) {
				mf->unproven = arena_printf(im->e.a, "%s: its "
				    "target is not one address", rd->where);
				break;
			}
			rd->target = t.v[0].lo;
			lport = txt(n, "local-port");
			if (pr.dst.port != NULL && *lport != '\0' &&
			    isdigit((unsigned char)*pr.dst.port))
				rd->port_shift = atoi(lport) -
				    atoi(pr.dst.port);
		}
	}
}

struct run_arg {
	struct imp	*im;
	const char	*buf;
	size_t		 len;
	char		*err;
	size_t		 errlen;
	const char	*file;
	struct strbuf	*out;
	struct strbuf	*report;
	const char	*conf;		/* compared instead of out, when set */
	size_t		 conflen;
};

static int
run(void *arg)
{
	struct run_arg *ra = arg;
	struct imp *im = ra->im;
	const char *kind = im->kind == IMPORT_PFSENSE ? "pfsense" : "opnsense";
	struct strbuf *o = ra->out, *bp = &im->s_body;
	size_t i;
#define body (*bp)

	im->root = xml_parse(im->e.a, ra->buf, ra->len, ra->err, ra->errlen);
	if (im->root == NULL)
		return -1;
	if (strcmp(im->root->name, kind) != 0) {
		snprintf(ra->err, ra->errlen, "%u:1: the document is <%s>, "
		    "not a %s config (<%s>)", im->root->line,
		    emit_oneline(&im->e, im->root->name), im->kind == IMPORT_PFSENSE ?
		    "pfSense" : "OPNsense", kind);
		return -1;
	}
	emit_take_name(&im->e, "ANY");
	read_interfaces(im);
	for (i = 0; i < im->nif; i++)
		if (im->ifs[i].enabled)
			break;
	if (i == im->nif) {
		snprintf(ra->err, ra->errlen, "%u:1: no interface could be "
		    "carried over: a moat.conf without one filters nothing",
		    im->root->line);
		return -1;
	}
	read_schedules(im);
	read_gateways(im);
	read_aliases(im);
	read_filter(im);
	read_forwards(im);
	read_outbound(im);
	read_onetoone(im);
	mvc_onetoone(im);
	read_vips(im);
	read_rest(im);
	/* Aliases no rule named are carried too. */
	for (i = 0; i < im->nalias; i++)
		(void)resolve_alias(im, im->aliases[i].name);
	strbuf_printf(&body, "%s", strbuf_str(&im->s_if));
	if (im->s_gw.len)
		strbuf_printf(&body, "\n%s", strbuf_str(&im->s_gw));
	if (im->s_obj.len)
		strbuf_printf(&body, "\n%s", strbuf_str(&im->s_obj));
	if (im->e.s_svc.len)
		strbuf_printf(&body, "\n%s", strbuf_str(&im->e.s_svc));
	if (im->s_sched.len)
		strbuf_printf(&body, "\n%s", strbuf_str(&im->s_sched));
	strbuf_puts(&body, strbuf_str(&im->s_rule));
	if (im->s_nat.len)
		strbuf_printf(&body, "\n%s", strbuf_str(&im->s_nat));
	if (im->s_fwd.len)
		strbuf_printf(&body, "\n# port forwards\n%s",
		    strbuf_str(&im->s_fwd));
	if (strbuf_failed(&body)) {
		snprintf(ra->err, ra->errlen, "1:1: out of memory");
		return -1;
	}
	if (emit_settle(&im->e, &body, arena_printf(im->e.a, "/%s",
	    im->root->name), ra->err, ra->errlen) == -1)
		return -1;

	strbuf_printf(o, "# moat.conf imported by moat import %s from %s\n",
	    kind, emit_oneline(&im->e, ra->file));
	if (im->e.nnotes > 0) {
		const char *p = strbuf_str(im->e.notes), *nl;

		strbuf_printf(o, "# %d element%s not carried over (or carried "
		    "with a difference):\n", im->e.nnotes, im->e.nnotes == 1 ? "" :
		    "s");
		for (; (nl = strchr(p, '\n')) != NULL; p = nl + 1)
			strbuf_printf(o, "#   %.*s\n", (int)(nl - p), p);
	}
	strbuf_printf(o, "\n%s", strbuf_str(&im->s_body));
	if (ra->report != NULL) {
		struct policy *p = ra->conf != NULL ? policy_parse("moat.conf",
		    ra->conf, ra->conflen) : policy_parse("moat.conf",
		    strbuf_str(o), o->len);

		if (p == NULL) {
			snprintf(ra->err, ra->errlen, "1:1: out of memory");
			return -1;
		}
		build_model(im);
		if (p->diags.nerrors == 0 && proof_compare(im->e.a, &im->model,
		    p, ra->report) == -1) {
			policy_free(p);
			snprintf(ra->err, ra->errlen, "1:1: out of memory");
			return -1;
		}
		policy_free(p);
	}
	return 0;
#undef body
}

static int
import_run(enum import_kind kind, const char *file, const char *buf,
    size_t len, const char *conf, size_t conflen, struct strbuf *out,
    struct strbuf *notes, struct strbuf *report, char *err, size_t errlen)
{
	struct arena a;
	struct imp im;
	struct run_arg ra;
	int rc;

	memset(&im, 0, sizeof(im));
	arena_init(&a);
	emit_init(&im.e, &a, notes);
	im.kind = kind;
	strbuf_init(&im.s_if, 0);
	strbuf_init(&im.s_obj, 0);
	strbuf_init(&im.s_sched, 0);
	strbuf_init(&im.s_rule, 0);
	strbuf_init(&im.s_nat, 0);
	strbuf_init(&im.s_fwd, 0);
	strbuf_init(&im.s_body, 0);
	strbuf_init(&im.s_gw, 0);
	ra.im = &im;
	ra.buf = buf;
	ra.len = len;
	ra.err = err;
	ra.errlen = errlen;
	ra.file = file;
	ra.out = out;
	ra.report = report;
	ra.conf = conf;
	ra.conflen = conflen;
	rc = arena_catch(&a, run, &ra);
	if (rc == -1 && err[0] == '\0')
		snprintf(err, errlen, "out of memory");
	if (rc == 0 && (strbuf_failed(out) || strbuf_failed(notes) ||
	    strbuf_failed(&im.s_rule) || strbuf_failed(&im.s_obj))) {
		snprintf(err, errlen, "out of memory");
		rc = -1;
	}
	strbuf_free(&im.s_if);
	strbuf_free(&im.s_obj);
	emit_free(&im.e);
	strbuf_free(&im.s_sched);
	strbuf_free(&im.s_rule);
	strbuf_free(&im.s_nat);
	strbuf_free(&im.s_fwd);
	strbuf_free(&im.s_body);
	strbuf_free(&im.s_gw);
	arena_free(&a);
	return rc == -1 ? -1 : im.e.nnotes;
}

int
import_xml(enum import_kind kind, const char *file, const char *buf,
    size_t len, struct strbuf *out, struct strbuf *notes,
    struct strbuf *report, char *err, size_t errlen)
{
	return import_run(kind, file, buf, len, NULL, 0, out, notes, report,
	    err, errlen);
}

int
import_xml_against(enum import_kind kind, const char *file, const char *buf,
    size_t len, const char *conf, size_t conflen, struct strbuf *report,
    char *err, size_t errlen)
{
	struct strbuf out, notes;
	int rc;

	strbuf_init(&out, 0);
	strbuf_init(&notes, 0);
	rc = import_run(kind, file, buf, len, conf, conflen, &out, &notes,
	    report, err, errlen);
	strbuf_free(&out);
	strbuf_free(&notes);
	return rc;
}
