/* builtin.c: built-in protocols, ICMP names and services; see builtin.h. */
#include "policy/builtin.h"

#include <stddef.h>
#include <string.h>

static const struct proto_info protos[] = {
	{ "tcp",	6,	PK_PORTS,	FAM_BOTH },
	{ "udp",	17,	PK_PORTS,	FAM_BOTH },
	{ "sctp",	132,	PK_PORTS,	FAM_BOTH },
	{ "icmp",	1,	PK_TYPES,	FAM_V4 },
	{ "icmpv6",	58,	PK_TYPES,	FAM_V6 },
	{ "gre",	47,	PK_NONE,	FAM_BOTH },
	{ "esp",	50,	PK_NONE,	FAM_BOTH },
	{ "ah",		51,	PK_NONE,	FAM_BOTH },
};

static const char *const proto_names[] = {
	"tcp", "udp", "sctp", "icmp", "icmpv6", "gre", "esp", "ah", NULL,
};

struct icmp_name {
	int		 proto;
	int		 type;
	const char	*name;
};

/* The names nft uses, so a printed rule reads the same in both. */
static const struct icmp_name icmp_names[] = {
	{ 1, 0, "echo-reply" },
	{ 1, 3, "destination-unreachable" },
	{ 1, 4, "source-quench" },
	{ 1, 5, "redirect" },
	{ 1, 8, "echo-request" },
	{ 1, 9, "router-advertisement" },
	{ 1, 10, "router-solicitation" },
	{ 1, 11, "time-exceeded" },
	{ 1, 12, "parameter-problem" },
	{ 1, 13, "timestamp-request" },
	{ 1, 14, "timestamp-reply" },
	{ 1, 15, "info-request" },
	{ 1, 16, "info-reply" },
	{ 1, 17, "address-mask-request" },
	{ 1, 18, "address-mask-reply" },
	{ 58, 1, "destination-unreachable" },
	{ 58, 2, "packet-too-big" },
	{ 58, 3, "time-exceeded" },
	{ 58, 4, "parameter-problem" },
	{ 58, 128, "echo-request" },
	{ 58, 129, "echo-reply" },
	{ 58, 130, "mld-listener-query" },
	{ 58, 131, "mld-listener-report" },
	{ 58, 132, "mld-listener-done" },
	{ 58, 133, "nd-router-solicit" },
	{ 58, 134, "nd-router-advert" },
	{ 58, 135, "nd-neighbor-solicit" },
	{ 58, 136, "nd-neighbor-advert" },
	{ 58, 137, "nd-redirect" },
	{ 58, 143, "mld2-listener-report" },
};

static const char services_text[] =
	"service SMTP tcp 25\n"
	"service SMTPS tcp 465\n"
	"service SUBMISSION tcp 587\n"
	"service POP3 tcp 110\n"
	"service POP3S tcp 995\n"
	"service IMAP tcp 143\n"
	"service IMAPS tcp 993\n"
	"service HTTP tcp 80\n"
	"service HTTPS tcp 443\n"
	"service DNS udp 53 tcp 53\n"
	"service SSH tcp 22\n"
	"service TELNET tcp 23\n"
	"service FTP tcp 21\n"
	"service NTP udp 123\n"
	"service PING icmp echo-request icmpv6 echo-request\n"
	"service SNMP udp 161\n"
	"service SYSLOG udp 514\n"
	"service LDAP tcp 389\n"
	"service LDAPS tcp 636\n"
	"service RDP tcp 3389\n"
	"service SMB tcp 445\n"
	"service DHCP udp 67-68\n"
	"service TFTP udp 69\n"
	"service MYSQL tcp 3306\n"
	"service IKE udp 500,4500\n"
	"service OPENVPN udp 1194\n"
	"service WIREGUARD udp 51820\n"
	"service SIP udp 5060 tcp 5060\n"
	"service GRE gre\n"
	"service ESP esp\n";

const char *const builtin_antilockout_services[] = { "SSH", "HTTP", "HTTPS",
    NULL };

const struct proto_info *
builtin_proto_by_name(const char *name)
{
	return builtin_proto_by_name_len(name, strlen(name));
}

const struct proto_info *
builtin_proto_by_name_len(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (strlen(protos[i].name) == len &&
		    memcmp(protos[i].name, name, len) == 0)
			return &protos[i];
	return NULL;
}

const struct proto_info *
builtin_proto_by_number(int number)
{
	size_t i;

	for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (protos[i].number == number)
			return &protos[i];
	return NULL;
}

int
builtin_icmp_type(int proto, const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(icmp_names) / sizeof(icmp_names[0]); i++)
		if (icmp_names[i].proto == proto &&
		    strcmp(icmp_names[i].name, name) == 0)
			return icmp_names[i].type;
	return -1;
}

const char *
builtin_icmp_name(int proto, int type)
{
	size_t i;

	for (i = 0; i < sizeof(icmp_names) / sizeof(icmp_names[0]); i++)
		if (icmp_names[i].proto == proto && icmp_names[i].type == type)
			return icmp_names[i].name;
	return NULL;
}

const char *const *
builtin_proto_names(void)
{
	return proto_names;
}

const char *
builtin_services_text(void)
{
	return services_text;
}
