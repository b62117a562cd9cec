/* logcmd.h: `moat log`, the firewall log read back. */
#ifndef MOAT_LOGCMD_H
#define MOAT_LOGCMD_H

/* moat log [-f] [--rule N] [--src ADDR] [--dst ADDR] [--since TIME]
 * [--json]: argv[0] is "log".  Returns the exit status. */
int	 cmd_log(int argc, char **argv);

#endif
