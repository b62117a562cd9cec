/* host.h: what this host has that a policy names: its network devices. */
#ifndef MOAT_HOST_H
#define MOAT_HOST_H

#include "policy/policy.h"

/* A note in p's diagnostics for each interface whose device this host (in
 * this network namespace) does not have now: its rules take effect when
 * the device appears, and until then nothing arrives on it.  Returns how
 * many are missing. */
int	 host_note_devices(struct policy *p);

#endif
