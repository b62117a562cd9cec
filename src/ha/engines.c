/* engines.c: keepalived.conf and conntrackd.conf; see engines.h. */
#include "ha/engines.h"

#include <stdio.h>
#include <string.h>

#include "base/addr.h"

#define GROUP	"MOAT"

void
ha_files_init(struct ha_files *f, const char *dir)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "%s", dir);
	snprintf(f->keepalived_conf, sizeof(f->keepalived_conf),
	    "%s/keepalived.conf", f->dir);
	snprintf(f->keepalived_pid, sizeof(f->keepalived_pid),
	    "%s/keepalived.pid", f->dir);
	snprintf(f->vrrp_pid, sizeof(f->vrrp_pid), "%s/vrrp.pid", f->dir);
	snprintf(f->notify_fifo, sizeof(f->notify_fifo), "%s/notify.fifo",
	    f->dir);
	snprintf(f->conntrackd_conf, sizeof(f->conntrackd_conf),
	    "%s/conntrackd.conf", f->dir);
	snprintf(f->conntrackd_sock, sizeof(f->conntrackd_sock),
	    "%s/conntrackd.ctl", f->dir);
	snprintf(f->conntrackd_lock, sizeof(f->conntrackd_lock),
	    "%s/conntrackd.lock", f->dir);
	snprintf(f->conntrackd_log, sizeof(f->conntrackd_log),
	    "%s/conntrackd.log", f->dir);
}

/* This node's address on the sync interface, in the peer's family. */
static void
own_sync_address(const struct ha_conf *ha, char *buf, size_t len)
{
	size_t i;

	buf[0] = '\0';
	for (i = 0; i < ha->sync->naddr; i++)
		if (ha->sync->addrs[i].lit.family == ha->peer.family) {
			addr_format(ha->sync->addrs[i].lit.lo, buf, len);
			return;
		}
}

/* Both files begin alike: who wrote them, and the two sync addresses. */
static void
prologue(const struct policy *p, const char *name, char own[ADDR_STRLEN],
    char peer[ADDR_STRLEN], struct strbuf *b)
{
	own_sync_address(&p->ha, own, ADDR_STRLEN);
	addr_format(p->ha.peer.lo, peer, ADDR_STRLEN);
	strbuf_printf(b, "# %s of an moat HA node, written by moatd from %s: "
	    "do not edit.\n\n", name, p->file);
}

void
ha_keepalived_conf(const struct policy *p, const struct ha_files *f,
    struct strbuf *b)
{
	const struct ha_conf *ha = &p->ha;
	char own[ADDR_STRLEN], peer[ADDR_STRLEN], vip[2 * ADDR_STRLEN + 8];
	unsigned id = ha->router_id;
	size_t i, j;

	prologue(p, "keepalived.conf", own, peer, b);
	strbuf_printf(b, "global_defs {\n"
	    "    router_id moat-%s\n"
	    "    vrrp_version 3\n"
	    "    notify_fifo %s\n"
	    "    vrrp_garp_master_delay 1\n"
	    "    vrrp_garp_master_repeat 3\n"
	    "    vrrp_garp_master_refresh 10\n"
	    "    vrrp_higher_prio_send_advert true\n"
	    "}\n\n", own, f->notify_fifo);
	/* One group: LAN and WAN move together. */
	strbuf_puts(b, "vrrp_sync_group " GROUP " {\n    group {\n");
	for (i = 0; i < ha->nvip; i++) {
		for (j = 0; j < i; j++)
			if (ha->vips[j].iface == ha->vips[i].iface)
				break;
		if (j == i)
			strbuf_printf(b, "        %s\n", ha->vips[i].ifname);
	}
	strbuf_puts(b, "    }\n}\n");
	for (i = 0; i < ha->nvip; i++) {
		const struct iface *ifc = ha->vips[i].iface;

		for (j = 0; j < i; j++)
			if (ha->vips[j].iface == ifc)
				break;
		if (j < i)
			continue;	/* its instance is written */
		strbuf_printf(b, "\nvrrp_instance %s {\n"
		    "    state BACKUP\n"
		    "    interface %s\n"
		    "    dont_track_primary\n"
		    "    virtual_router_id %u\n"
		    "    priority %u\n"
		    "    advert_int %d.%02d\n"
		    "    preempt_delay %u\n"
		    "    unicast_src_ip %s\n"
		    "    unicast_peer {\n        %s\n    }\n"
		    "    track_interface {\n        %s\n    }\n",
		    ifc->name, ha->sync->device, id++, ha->priority,
		    HA_ADVERT_CS / 100, HA_ADVERT_CS % 100, ha->preempt_delay,
		    own, peer, ifc->device);
		/* VRRP carries the VIPs of the sync link's family; the others
		 * move with them all the same. */
		for (int pass = 0; pass < 2; pass++) {
			bool any = false;

			for (j = i; j < ha->nvip; j++) {
				const struct ha_vip *v = &ha->vips[j];

				if (v->iface != ifc || (v->lit.family ==
				    ha->peer.family) != (pass == 0))
					continue;
				if (!any)
					strbuf_printf(b, "    %s {\n", pass == 0 ?
					    "virtual_ipaddress" :
					    "virtual_ipaddress_excluded");
				any = true;
				addr_lit_format(&v->lit, vip, sizeof(vip));
				strbuf_printf(b, "        %s dev %s\n", vip,
				    ifc->device);
			}
			if (any)
				strbuf_puts(b, "    }\n");
		}
		strbuf_puts(b, "}\n");
	}
}

void
ha_conntrackd_conf(const struct policy *p, const struct ha_files *f,
    struct strbuf *b)
{
	const struct ha_conf *ha = &p->ha;
	char own[ADDR_STRLEN], peer[ADDR_STRLEN], a[ADDR_STRLEN];
	bool v6 = ha->peer.family == FAM_V6;
	size_t i, j;

	prologue(p, "conntrackd.conf", own, peer, b);
	strbuf_printf(b, "Sync {\n"
	    "\tMode FTFW {\n"
	    "\t\tResendQueueSize 131072\n"
	    "\t\tACKWindowSize 300\n"
	    "\t\tDisableExternalCache Off\n"
	    "\t}\n"
	    "\tUDP {\n"
	    "\t\t%s %s\n"
	    "\t\t%s %s\n"
	    "\t\tPort %d\n"
	    "\t\tInterface %s\n"
	    "\t\tSndSocketBuffer 1249280\n"
	    "\t\tRcvSocketBuffer 1249280\n"
	    "\t\tChecksum on\n"
	    "\t}\n"
	    "}\n\n", v6 ? "IPv6_address" : "IPv4_address", own,
	    v6 ? "IPv6_Destination_Address" : "IPv4_Destination_Address",
	    peer, HA_CONNTRACK_PORT, ha->sync->device);
	strbuf_printf(b, "General {\n"
	    "\tHashSize 32768\n"
	    "\tHashLimit 131072\n"
	    "\tLogFile %s\n"
	    "\tSyslog off\n"
	    "\tLockFile %s\n"
	    "\tUNIX {\n\t\tPath %s\n\t\tBacklog 20\n\t}\n"
	    "\tNetlinkBufferSize 2097152\n"
	    "\tNetlinkBufferSizeMaxGrowth 8388608\n"
	    "\tNetlinkOverrunResync On\n"
	    "\tNetlinkEventsReliable Off\n"
	    "\tFilter From Userspace {\n"
	    "\t\tProtocol Accept {\n\t\t\tTCP\n\t\t\tUDP\n\t\t\tICMP\n"
	    "\t\t\tIPv6-ICMP\n\t\t}\n"
	    "\t\tAddress Ignore {\n"
	    "\t\t\tIPv4_address 127.0.0.1\n"
	    "\t\t\tIPv6_address ::1\n", f->conntrackd_log,
	    f->conntrackd_lock, f->conntrackd_sock);
	/* The nodes' own addresses and the VIPs: connections to the
	 * gateway itself end with the process that served them. */
	for (i = 0; i < p->niface; i++)
		for (j = 0; j < p->ifaces[i]->naddr; j++) {
			const struct addr_lit *l = &p->ifaces[i]->addrs[j].lit;

			addr_format(l->lo, a, sizeof(a));
			strbuf_printf(b, "\t\t\t%s %s\n", l->family == FAM_V4 ?
			    "IPv4_address" : "IPv6_address", a);
		}
	for (i = 0; i < ha->nvip; i++) {
		addr_format(ha->vips[i].lit.lo, a, sizeof(a));
		strbuf_printf(b, "\t\t\t%s %s\n", ha->vips[i].lit.family ==
		    FAM_V4 ? "IPv4_address" : "IPv6_address", a);
	}
	addr_format(ha->peer.lo, a, sizeof(a));
	strbuf_printf(b, "\t\t\t%s %s\n", v6 ? "IPv6_address" :
	    "IPv4_address", a);
	strbuf_puts(b, "\t\t}\n\t}\n}\n");
}

enum ha_state
ha_notify_line(const char *line)
{
	static const struct {
		const char	*word;
		enum ha_state	 st;
	} states[] = {
		{ "MASTER", HA_MASTER }, { "BACKUP", HA_BACKUP },
		{ "FAULT", HA_FAULT }, { "STOP", HA_STOPPED },
	};
	char what[16], name[64], state[16];
	size_t i;

	if (sscanf(line, "%15s \"%63[^\"]\" %15s", what, name, state) != 3 ||
	    strcmp(what, "GROUP") != 0 || strcmp(name, GROUP) != 0)
		return HA_UNKNOWN;
	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		if (strcmp(state, states[i].word) == 0)
			return states[i].st;
	return HA_UNKNOWN;
}

const char *
ha_state_name(enum ha_state s)
{
	static const char *const names[] = { "unknown", "backup", "master",
	    "fault", "stopped" };

	return names[s];
}
