/* importcmd.h: moat import, another firewall's configuration as a
 * moat.conf. */
#ifndef MOAT_IMPORTCMD_H
#define MOAT_IMPORTCMD_H

/* moat import pfsense|opnsense|iptables FILE [-o OUT]; argv[0] is
 * "import".
 * Exit 0: everything carried; 1: carried, with notes of what was not;
 * 2: usage, or a file that cannot be read or imported. */
int	cmd_import(int argc, char **argv);

#endif
