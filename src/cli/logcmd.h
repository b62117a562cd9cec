/* logcmd.h: `moat log` and `moat mail-log`: moatd's logs read back. */
#ifndef MOAT_LOGCMD_H
#define MOAT_LOGCMD_H

/* moat log [-f] [--rule N] [--src ADDR] [--dst ADDR] [--since TIME]
 * [--json]: argv[0] is "log".  Returns the exit status. */
int	 cmd_log(int argc, char **argv);

/* moat mail-log [-f] [--since TIME] [--json]: the mail log. */
int	 cmd_mail_log(int argc, char **argv);

#endif
